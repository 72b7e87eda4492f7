"""Jump matrix corpus: coroutines (async for, async with, await), driven by asyncio.run."""

import asyncio


class _AMgr:
    def __init__(self, log, name):
        self.log = log
        self.name = name

    async def __aenter__(self):
        await asyncio.sleep(0)
        self.log.append(("aenter", self.name))
        return self.name

    async def __aexit__(self, *exc):
        await asyncio.sleep(0)
        self.log.append(("aexit", self.name))
        return False


async def _count(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def _value(v):
    await asyncio.sleep(0)
    return v


async def coroutine_flow(log, v=0, i=0, m=None):
    log.append("start")
    v = await _value(1)
    async for i in _count(3):
        log.append(i)
        if i == 1:
            continue
        await asyncio.sleep(0)
    else:
        log.append("async for done")
    async with _AMgr(log, "m") as m:
        log.append(m)
        await asyncio.sleep(0)
    log.append(v)
    return log


async def coroutine_nested(log, a=None, b=None, j=0):
    log.append("start")
    async with _AMgr(log, "a") as a, _AMgr(log, "b") as b:
        async for j in _count(2):
            log.append((a, b, j))
    try:
        await _value(None)
        raise ValueError("in coroutine")
    except ValueError:
        log.append("caught")
        await asyncio.sleep(0)
    return log


async def coroutine_expressions(log, got=None, both=None):
    log.append("start")
    got = [i async for i in _count(3)]
    both = await asyncio.gather(
        _value("x"),
        _value("y"),
    )
    log.append((got, both))
    return log


async def async_generator(log, m=None, i=0):
    log.append("start")
    async with _AMgr(log, "g") as m:
        yield m
    for i in range(2):
        await asyncio.sleep(0)
        yield i
    log.append("end")


async def _main():
    log = []
    print(await coroutine_flow(log))
    log = []
    print(await coroutine_nested(log))
    log = []
    print(await coroutine_expressions(log))
    log = []
    print([x async for x in async_generator(log)], log)


asyncio.run(_main())
print("END asyncs.py")
