"""Runs until stopped by Ctrl-C, printing now and then."""

import time

n = 0
while n >= 0:
    n += 1
    if n % 200_000 == 0:
        print("still going", n // 200_000, flush=True)
        time.sleep(0.01)
