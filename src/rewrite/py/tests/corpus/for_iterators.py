# Iterators of every shape: without __iter__, whose __iter__ is Python code (called once, as
# python3 calls it), that raise, that are not iterators at all.


class NextOnly:
    def __init__(self, n):
        self.n = n

    def __next__(self):
        if self.n == 0:
            raise StopIteration
        self.n -= 1
        return self.n


class GivesNextOnly:
    def __iter__(self):
        print("GivesNextOnly.__iter__")
        return NextOnly(3)


for x in GivesNextOnly():
    print("x", x)


class Counting:
    calls = 0

    def __init__(self):
        self.items = [1, 2, 3]

    def __iter__(self):
        Counting.calls += 1
        print("Counting.__iter__ call", Counting.calls)
        return self

    def __next__(self):
        if not self.items:
            raise StopIteration
        return self.items.pop(0)


for x in Counting():
    print("counted", x)
print("calls", Counting.calls)


class Fresh:
    """An iterator whose __iter__ returns a new iterator: a second iter() would restart it."""

    def __init__(self, start=0):
        self.i = start

    def __iter__(self):
        print("Fresh.__iter__ from", self.i)
        return Fresh(self.i)

    def __next__(self):
        self.i += 1
        if self.i > 3:
            raise StopIteration
        return self.i


it = Fresh()
next(it)
for x in it:
    print("fresh", x)


class InstanceNext:
    """__next__ set on the instance is ignored: the type's is used."""

    def __iter__(self):
        return self

    def __next__(self):
        raise StopIteration


obj = InstanceNext()
obj.__next__ = lambda: 1 / 0
for x in obj:
    print("never")
print("instance __next__ ignored")


class Sequence:
    def __getitem__(self, i):
        if i >= 3:
            raise IndexError(i)
        return i * i


for x in Sequence():
    print("seq", x)


class Raising:
    def __iter__(self):
        return self

    def __next__(self):
        raise ValueError("from __next__")


try:
    for x in Raising():
        pass
except ValueError as e:
    print("caught", e)


class BadIter:
    def __iter__(self):
        return 42


try:
    for x in BadIter():
        pass
except TypeError as e:
    print("TypeError:", e)


class NoneIter:
    __iter__ = None


try:
    for x in NoneIter():
        pass
except TypeError as e:
    print("TypeError:", e)

import io

f = io.StringIO("a\nb\n")
for line in f:
    print("line", repr(line))
f.close()
try:
    for line in f:
        pass
except ValueError as e:
    print("ValueError:", e)

lst = [1, 2, 3]
for x in lst:
    if x == 1:
        lst.append(4)
    print("mutating", x)

d = {"a": 1}
try:
    for k in d:
        d["b"] = 2
except RuntimeError as e:
    print("RuntimeError:", e)

for x in 5:
    pass
