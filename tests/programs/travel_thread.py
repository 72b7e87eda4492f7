"""Starts a thread: time travel turns itself off, forward debugging goes on."""
import threading

results = []


def work(n):
    results.append(n * n)


before = len(results)
t = threading.Thread(target=work, args=(7,))
t.start()
t.join()
after = len(results)
print("results", results, before, after)
