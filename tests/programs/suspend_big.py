"""Holds tens of megabytes and runs for a while, printing its progress: periodic snapshots of it
take a noticeable time to write, long enough to be killed in the middle of one."""

rows = [(i, str(i) * 3, [i, i + 1]) for i in range(300_000)]
step = 0
while step < 400:
    total = 0
    for r in rows[step * 500 : step * 500 + 5000]:
        total += r[0]
    step += 1
    if step % 20 == 0:
        print("step", step, total, flush=True)
print("done", len(rows))
