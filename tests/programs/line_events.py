"""Every shape of line event the two sources (trace function, sys.monitoring) must count alike:
loops on one line, comprehensions (inlined on 3.12+), generators, exceptions, with, match,
recursion, and user code called back from C and from library Python code."""
import copy
import functools


class Box:
    def __init__(self, items):
        self.items = items

    def __deepcopy__(self, memo):
        return Box([x * 2 for x in self.items])


class Ctx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def gen(n):
    for i in range(n):
        yield i * i


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def shape(v):
    match v:
        case [a, b]:
            return a + b
        case {"k": k}:
            return k
        case _:
            return 0


n = 0
while n < 50: n += 1
total = 0
for i in range(30): total += i
squares = [i * i for i in range(40)]
evens = {i for i in range(40) if i % 2 == 0}
table = {i: str(i) for i in range(20)}
lazy = sum(i for i in range(25))
g = list(gen(12))
try:
    for i in range(5):
        if i == 3:
            raise ValueError(i)
except ValueError as e:
    caught = e.args[0]
with Ctx():
    raise KeyError("swallowed")
f = fact(15)
keyed = sorted(range(20), key=lambda x: -x)
cmp = sorted([3, 1, 2], key=functools.cmp_to_key(lambda a, b: a - b))
b = copy.deepcopy(Box([1, 2, 3]))
shapes = [shape(v) for v in ([1, 2], {"k": 5}, 7)]
print(n, total, len(squares), len(evens), len(table), lazy, g[-1], caught, f, keyed[0], cmp, b.items, shapes)
