"""Reads input.txt line by line and writes output.txt as it goes: across a suspend, the output
file must get every line exactly once and the reads go on where they were."""
src = open("input.txt")
out = open("output.txt", "w")
n = 0
for i in range(8):
    line = src.readline().strip()
    out.write("%d:%s\n" % (i, line))
    n += len(line)
    print(i, line, n)
out.close()
rest = src.read()
src.close()
print("rest", repr(rest), "total", n)
