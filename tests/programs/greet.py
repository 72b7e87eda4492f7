import sys

name = input("name? ")
print("hello", name)
rest = sys.stdin.read()
print("rest", repr(rest))
