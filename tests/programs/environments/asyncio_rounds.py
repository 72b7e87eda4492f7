"""A batch job that runs one event loop per round: between rounds no loop is running."""
import asyncio


async def fetch(i):
    await asyncio.sleep(0)
    return i * i


async def round_of(n):
    values = await asyncio.gather(*(fetch(i) for i in range(n)))
    return sum(values)


totals = []
for n in range(1, 30):
    totals.append(asyncio.run(round_of(n)))
    print("round", n, totals[-1])
print("all", sum(totals))
