"""Worker threads; the main thread waits for each before going on."""
import queue
import threading

results = queue.Queue()


def work(n):
    square = n * n
    results.put((n, square))
    print("worker", n, "done", flush=True)


def main():
    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    count = len(threads)
    for t in threads:
        t.start()
        t.join()
    got = sorted(results.get() for _ in range(count))
    print("main got", got)
    return got


total = sum(s for _, s in main())
print("total", total)
