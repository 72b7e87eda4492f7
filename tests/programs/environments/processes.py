"""Starts subprocesses and a multiprocessing pool (start method argv[1], else the default)."""
import multiprocessing
import subprocess
import sys


def shout(word):
    print("worker got", word, flush=True)
    return word.upper()


def square(n):
    return n * n


def main(method):
    print("parent before", flush=True)
    done = subprocess.run([sys.executable, "-c", "print('child says hi')"])
    print("parent after", done.returncode, flush=True)
    out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
    print("captured", out.stdout.strip(), flush=True)
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        squares = pool.map(square, range(5))
        loud = pool.apply(shout, ("hey",))
    print("squares", squares, loud, flush=True)
    return squares


if __name__ == "__main__":
    result = main(sys.argv[1] if len(sys.argv) > 1 else None)
    print("parent end", sum(result))
