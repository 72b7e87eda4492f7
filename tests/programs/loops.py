def count_up(n):
    total = 0
    i = 0
    while i < n:
        total += i
        i += 1
    return total


def gen(n):
    for i in range(n):
        yield i * i


squares = list(gen(4))
s = count_up(5)
print(squares, s)
