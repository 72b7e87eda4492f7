"""Nested loops, a `with` block whose body runs long, a try/except around a loop, and an exit
status of 3: suspend/resume at any tick must give python3's output and status."""
import sys


class Section:
    """A context manager that prints when it is entered and left (exactly once each)."""

    def __init__(self, name):
        self.name = name
        self.lines = 0

    def __enter__(self):
        print("enter", self.name)
        return self

    def __exit__(self, kind, value, tb):
        print("exit", self.name, self.lines, kind.__name__ if kind else None)
        return False


def grid(n):
    cells = []
    for row in range(n):
        line = []
        for col in range(n):
            line.append((row * 7 + col * 3) % 10)
        cells.append(line)
    return cells


def checked_div(a, b):
    try:
        for k in range(3):
            a += k
        return a // b
    except ZeroDivisionError:
        return -1


total = 0
with Section("grid") as sec:
    for size in range(2, 6):
        g = grid(size)
        for row in g:
            total += sum(row)
            sec.lines += 1
        print("size", size, "total", total)
for d in (3, 0, 2, 0, 5):
    total += checked_div(total, d)
    print("div", d, total)
try:
    for i in range(4):
        total -= i
        if i == 3:
            raise ValueError("at %d" % i)
except ValueError as e:
    print("caught", e, total)
print("end", total)
sys.exit(3)
