import asyncio


async def worker(name, n):
    total = 0
    for i in range(n):
        total += i
        await asyncio.sleep(0)
    print(name, total)
    return total


async def main():
    first = await worker("a", 3)
    results = await asyncio.gather(worker("b", 2), worker("c", 4))
    print("done", first, results)


asyncio.run(main())
print("after the loop")
