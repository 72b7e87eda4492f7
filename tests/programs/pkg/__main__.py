import sys
from pkg import tool

print("main of pkg", sys.argv[1:])
print(tool.shout("hi"))
