"""Forks: the child runs a few lines of its own; time travel turns itself off."""
import os
import sys

x = 1
pid = os.fork()
if pid == 0:
    y = 5
    print("child", y)
    sys.exit(3)
_, status = os.waitpid(pid, 0)
x = 2
print("parent", x, os.waitstatus_to_exitcode(status))
