"""The program debugs itself with pdb (commands from a string): sleepy steps aside, as python3 runs it."""
import pdb, io, sys
def f():
    x = 1
    pdb.Pdb(stdin=io.StringIO("p x\nn\np x\nn\nc\n"), stdout=sys.stdout, nosigint=True).set_trace()
    x = 2
    y = 3
    return x
f()
print("end")
