# async for / async with: async generators, async iterator classes, asynccontextmanager,
# suppression, and python3's exact TypeErrors for objects that are not what they should be.
import asyncio
import contextlib
import sys


async def agen(name, n):
    try:
        for i in range(n):
            await asyncio.sleep(0)
            yield i
    finally:
        print("agen finally", name)


class AIter:
    def __init__(self, n):
        self.n = n

    def __aiter__(self):
        print("AIter.__aiter__")
        return self

    async def __anext__(self):
        if self.n == 0:
            raise StopAsyncIteration
        self.n -= 1
        return self.n


class ANextOnly:
    def __init__(self):
        self.n = 2

    async def __anext__(self):
        if not self.n:
            raise StopAsyncIteration
        self.n -= 1
        return self.n


class GivesANextOnly:
    def __aiter__(self):
        return ANextOnly()


class ACM:
    def __init__(self, name, suppress=False):
        self.name = name
        self.suppress = suppress

    async def __aenter__(self):
        print("aenter", self.name)
        await asyncio.sleep(0)
        return self.name.upper()

    async def __aexit__(self, typ, val, tb):
        print("aexit", self.name, typ and typ.__name__, sys.exc_info()[0] and sys.exc_info()[0].__name__)
        return self.suppress


@contextlib.asynccontextmanager
async def managed(name):
    print("setup", name)
    try:
        yield name
    finally:
        print("teardown", name)


class NotAwaitableEnter:
    def __aenter__(self):
        return 1

    async def __aexit__(self, *a):
        pass


class NotAwaitableExit:
    async def __aenter__(self):
        return 1

    def __aexit__(self, *a):
        return 2


class NoAenter:
    async def __aexit__(self, *a):
        pass


class NoAexit:
    async def __aenter__(self):
        pass


class NoAnext:
    def __aiter__(self):
        return 1


async def main():
    async for x in agen("full", 3):
        print("item", x)
    else:
        print("async else")
    async for x in agen("broken", 5):
        if x == 1:
            break
    print("after break")
    async for x in AIter(2):
        print("AIter", x)
    async for x in GivesANextOnly():
        print("ANextOnly", x)
    async with ACM("a") as a:
        print("body", a)
    async with ACM("s", suppress=True):
        raise KeyError("suppressed")
    print("after suppressed", sys.exc_info())
    try:
        async with ACM("p"):
            raise KeyError("propagates")
    except KeyError as e:
        print("caught", repr(e))
    async with managed("m") as m, ACM("second") as s:
        print("two", m, s)
    for i in range(3):
        async with ACM("loop%d" % i):
            if i == 1:
                continue
            if i == 2:
                break
    for bad in (NotAwaitableEnter(), NotAwaitableExit(), NoAenter(), NoAexit(), 5):
        try:
            async with bad:
                print("entered", type(bad).__name__)
        except TypeError as e:
            print("TypeError:", e)
    for bad in (NoAnext(), 5, [1]):
        try:
            async for x in bad:
                pass
        except TypeError as e:
            print("TypeError:", e)

    async def returns():
        async with ACM("ret"):
            async for x in agen("in ret", 3):
                return x

    print("returned", await returns())
    async with ACM("last"):
        raise ValueError("uncaught from async with")


asyncio.run(main())
