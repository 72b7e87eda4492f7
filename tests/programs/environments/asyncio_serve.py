"""One event loop that runs for argv[1] seconds: a quota falls while it runs."""
import asyncio
import sys
import time


async def tick(state):
    await asyncio.sleep(0)
    state["n"] += 1


async def serve(seconds):
    state = {"n": 0}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await tick(state)
    return state["n"] > 0


print("served", asyncio.run(serve(float(sys.argv[1]))))
