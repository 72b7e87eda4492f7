# with: enter/exit order, suppression, return/break/continue inside, multiple items, what
# __exit__ receives, sys.exc_info() around it.
import sys


class CM:
    def __init__(self, name, suppress=False, value=None):
        self.name = name
        self.suppress = suppress
        self.value = value if value is not None else name

    def __enter__(self):
        print("enter", self.name, "handling", sys.exc_info()[0])
        return self.value

    def __exit__(self, typ, val, tb):
        print("exit", self.name, typ.__name__ if typ else None, val, tb is not None and tb.tb_lineno,
              "exc_info", sys.exc_info()[0] and sys.exc_info()[0].__name__)
        return self.suppress


with CM("a") as a:
    print("body", a)
print("exc_info after", sys.exc_info())

with CM("s", suppress=True):
    raise KeyError("suppressed")
print("after suppressed", sys.exc_info())

try:
    with CM("p"):
        raise KeyError("propagates")
except KeyError as e:
    print("caught", repr(e), "context", e.__context__)


def returns():
    with CM("r") as r:
        return "returned " + r


print(returns())

for i in range(4):
    with CM("loop%d" % i):
        if i == 1:
            continue
        if i == 2:
            break
        print("loop body", i)

with CM("x") as x, CM("y") as y:
    print("two items", x, y)

with CM("outer"), CM("inner", suppress=True):
    raise ValueError("inner suppresses")
print("after two")

with CM("t", value=(1, [2, 3])) as (p, [q, r]):
    print("unpacked", p, q, r)


class Holder:
    pass


h = Holder()
d = {}
with CM("attr") as h.attr, CM("item") as d["k"]:
    print("targets", h.attr, d)


def nested_returns():
    for i in range(3):
        with CM("n%d" % i):
            try:
                with CM("deep"):
                    if i == 1:
                        return i
            finally:
                print("finally", i)


print(nested_returns())

try:
    raise OSError("outer handled")
except OSError:
    with CM("in handler"):
        print("body sees", sys.exc_info()[1])
    with CM("in handler, suppressing", suppress=True):
        raise ValueError("x")
    print("handler sees", sys.exc_info()[1])
    try:
        with CM("in handler, raising"):
            raise KeyError("y")
    except KeyError as e:
        print("context is the handled one:", repr(e.__context__))
print("after", sys.exc_info())


class Truthy:
    def __init__(self, v):
        self.v = v

    def __bool__(self):
        print("__bool__", self.v)
        return self.v


class ReturnsObj(CM):
    def __exit__(self, *a):
        super().__exit__(*a)
        return Truthy(True)


with ReturnsObj("truthy"):
    raise KeyError("suppressed by a truthy object")
print("after truthy")


class BadBool:
    def __bool__(self):
        raise RuntimeError("bad bool")


class ReturnsBad(CM):
    def __exit__(self, *a):
        return BadBool()


try:
    with ReturnsBad("bad"):
        raise KeyError("body")
except RuntimeError as e:
    print("RuntimeError", e, "context", repr(e.__context__))

with ReturnsBad("normal exit"):
    pass
print("normal exit ignores the result")

with CM("last"):
    raise LookupError("uncaught from a with body")
