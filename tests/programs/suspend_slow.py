"""About a second of work in ten steps, each printing its progress (flushed) and then sleeping."""
import time

total = 0
for step in range(10):
    for j in range(2000):
        total += (j * step) % 7
    print("step", step, total, flush=True)
    time.sleep(0.1)
print("done", total)
