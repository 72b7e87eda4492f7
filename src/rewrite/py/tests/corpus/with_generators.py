# with inside generators closed or thrown into mid-body; contextlib's managers.
import contextlib
import sys


class CM:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        print("enter", self.name)
        return self

    def __exit__(self, typ, val, tb):
        print("exit", self.name, typ and typ.__name__)
        return False


def producer():
    with CM("gen"):
        yield 1
        yield 2
    print("never")


g = producer()
print(next(g))
g.close()
print("closed")

g = producer()
next(g)
try:
    g.throw(ValueError("thrown in"))
except ValueError as e:
    print("propagated", e)

g = producer()
next(g)
del g
print("collected")


def swallowing():
    class Swallow(CM):
        def __exit__(self, *a):
            super().__exit__(*a)
            return True

    with Swallow("swallow"):
        yield 1
    yield "after"


g = swallowing()
next(g)
try:
    g.close()
except RuntimeError as e:
    print("RuntimeError:", e)


@contextlib.contextmanager
def managed(name, swallow=False):
    print("setup", name)
    try:
        yield name.upper()
    except KeyError as e:
        print("managed saw", repr(e))
        if not swallow:
            raise
    finally:
        print("teardown", name)


with managed("a") as v:
    print("value", v)

with managed("b", swallow=True):
    raise KeyError("swallowed")
print("after b", sys.exc_info())

try:
    with managed("c"):
        raise KeyError("reraised")
except KeyError as e:
    print("caught", repr(e), e.__context__)


@contextlib.contextmanager
def two_yields():
    yield 1
    yield 2


try:
    with two_yields():
        pass
except RuntimeError as e:
    print("RuntimeError:", e)


@contextlib.contextmanager
def no_yield():
    if False:
        yield


try:
    with no_yield():
        pass
except RuntimeError as e:
    print("RuntimeError:", e)

with contextlib.suppress(ZeroDivisionError):
    1 / 0
print("suppressed", sys.exc_info())

with contextlib.ExitStack() as stack:
    for i in range(3):
        stack.enter_context(CM("stacked%d" % i))
    stack.callback(print, "callback")
    print("in stack")


def bad_callback():
    raise ValueError("callback failed")


try:
    with contextlib.ExitStack() as stack:
        stack.callback(bad_callback)
        raise KeyError("inner")
except ValueError as e:
    print("ExitStack:", repr(e), "context", repr(e.__context__))

with contextlib.ExitStack() as stack:
    stack.push(lambda *a: True)
    raise KeyError("suppressed by stack")
print("stack suppressed")

import io

buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    print("captured")
print("buffer", repr(buf.getvalue()))

with contextlib.closing(io.StringIO("x")) as s:
    print(s.read())
print("closed", s.closed)

with contextlib.nullcontext(3) as n:
    print("null", n)

with open(__file__) as f:
    print("file", f.readline().strip())
print("file closed", f.closed)

with managed("final"):
    raise KeyError("uncaught through a contextmanager")
