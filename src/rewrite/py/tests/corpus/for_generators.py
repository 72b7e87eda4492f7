# Generators as loop iterables: when they are closed (break, return, an exception in the body, a
# generator that raises), and what their finally blocks see.
import sys


def gen(name, n):
    try:
        for i in range(n):
            yield i
    finally:
        print("close", name, sys.exc_info()[0])


for x in gen("break", 5):
    if x == 1:
        break
print("after break")


def returns():
    for x in gen("return", 5):
        if x == 2:
            return x
    return None


print("returned", returns())
print("after return")

try:
    for x in gen("raise", 5):
        if x == 1:
            raise ValueError("in body")
except ValueError as e:
    print("caught", e)


def caller():
    for x in gen("unwound", 3):
        1 / 0


try:
    caller()
except ZeroDivisionError as e:
    print("caught", e, type(e.__context__))


def broken():
    yield 1
    raise KeyError("from generator")


try:
    for x in broken():
        print("got", x)
except KeyError as e:
    print("caught", repr(e), e.__traceback__.tb_next.tb_frame.f_code.co_name)


def nested():
    for a in gen("outer", 3):
        for b in gen("inner", 3):
            if b == 1:
                break
        if a == 1:
            break


nested()
print("after nested")

for x in gen("exhausted", 2):
    pass
else:
    print("else after exhausted")


def delegating():
    yield from gen("delegated", 3)


for x in delegating():
    if x:
        break
print("after delegating")


# A generator abandoned inside a handler sees the handled exception in its finally.
try:
    raise OSError("outer")
except OSError:
    for x in gen("in handler", 3):
        break
    print("still handling", sys.exc_info()[1])
print("done", sys.exc_info())


def generator_with_loop():
    for v in gen("inside generator", 5):
        yield v * 10


g = generator_with_loop()
print(next(g), next(g))
g.close()
print("closed outer generator")

g = generator_with_loop()
print(next(g))
try:
    g.throw(RuntimeError("thrown"))
except RuntimeError as e:
    print("thrown through", e)

# An uncaught exception from a generator raised inside a loop.
for x in broken():
    print("last", x)
