#!/usr/bin/env python3
"""Suspend and resume throughput, and what --checkpoint-every costs.

    python3 benches/suspend.py [--sleepy PATH] [--mb 100] [--repeat 3]

A program builds about MB megabytes of Python objects (lists of tuples of ints, floats and
short strings, and dicts), then loops a little and ends. Measured, each the best of --repeat:

* suspend: `sleepy run --quota-ticks N` suspending right after the data is built, against the
  same run with `--quota-ticks` replaced by the program ending itself at that point (`sys.exit`
  on the same line): the difference is the time to check the stack, pickle the state and write
  the file;
* resume: `sleepy resume FILE --run` of that file (the program ends a few lines later), against
  `sleepy run` of a program that does nothing: the difference is reading, checking and
  unpickling the file and rebuilding the stack;
* throughput = the objects' size (the growth of the program's resident memory while it builds
  them, as it reports) / that time; the file's size is shown too;
* --checkpoint-every 1s: run time of a ~6 s program with and without it.

Stdlib only; run `cargo build --release` first.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROGRAM = """\
import sys

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6

def build(mb):
    before = rss_mb()
    rows = []
    table = {}
    i = 0
    while rss_mb() - before < mb:
        for _ in range(20000):
            rows.append((i, i * 0.5, "name-%d" % i))
            table[i] = [i, str(i)]
            i += 1
    return rows, table, rss_mb() - before

def main(mb, stop_here):
    rows, table, grown = build(mb)
    print("built", len(rows), "rows", round(grown, 1), "MB", flush=True)
    if stop_here:
        sys.exit(0)
    total = 0
    for k in range(3):
        total += len(rows) + len(table)
    print("total", total)

MB = float(sys.argv[1])
STOP = sys.argv[2] == "stop"
main(MB, STOP)
"""

SPIN = """\
import time
t = time.time()
n = 0
while time.time() - t < float(__import__("sys").argv[1]):
    n += 1
print("spun", n > 0)
"""


def best(cmd, cwd, repeat, env=None):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t)
        if out.returncode != 0:
            sys.exit(f"suspend.py: {' '.join(cmd)} failed: {out.stderr}")
    return min(times), out


def ticks_until_built(sleepy, d, mb):
    """The tick of the `print("built", ...)` line: the suspend goes right after it."""
    out = subprocess.run(
        [sleepy, "run", "--stats", "prog.py", str(mb), "stop"], cwd=d, capture_output=True, text=True
    )
    for line in out.stderr.splitlines():
        if "ticks in" in line:
            return int(line.split("sleepy: ")[1].split()[0])
    sys.exit(f"suspend.py: no tick count: {out.stderr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sleepy", default=str(REPO / "target" / "release" / "sleepy"))
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sleepy = args.sleepy
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "prog.py").write_text(PROGRAM)
        (d / "empty.py").write_text("pass\n")
        (d / "spin.py").write_text(SPIN)
        env = dict(os.environ, SLEEPY_SNAPSHOT_KEY=str(d / "bench.key"))
        ticks = ticks_until_built(sleepy, d, args.mb)
        # The run to the end of `build` and its print, ending there by itself.
        base, out = best([sleepy, "run", "prog.py", str(args.mb), "stop"], d, args.repeat, env)
        grown = float(out.stdout.split()[3])
        # The same run, suspended at the next line instead (quota counted from tick 0).
        susp, out = best(
            [sleepy, "run", "--quota-ticks", str(ticks), "prog.py", str(args.mb), "go"],
            d,
            args.repeat,
            env,
        )
        size = (d / "prog.sleepy").stat().st_size / 1e6
        empty, _ = best([sleepy, "run", "empty.py"], d, args.repeat, env)
        (d / "prog.sleepy").rename(d / "kept.sleepy")
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = subprocess.run(
                [sleepy, "resume", "kept.sleepy", "--run"], cwd=d, capture_output=True, text=True, env=env
            )
            times.append(time.perf_counter() - t)
            if out.returncode != 0 or "total" not in out.stdout:
                sys.exit(f"suspend.py: resume failed: {out.stderr}")
        resume = min(times)
        s_time = susp - base
        r_time = resume - empty
        spin_plain, _ = best([sleepy, "run", "spin.py", "6"], d, 1, env)
        spin_every, _ = best(
            [sleepy, "run", "--checkpoint", "spin.sleepy", "--checkpoint-every", "1s", "spin.py", "6"],
            d,
            1,
            env,
        )
    print(f"sleepy: {subprocess.run([sleepy, '--version'], capture_output=True, text=True).stdout.strip()}")
    print(f"command: python3 benches/suspend.py --mb {args.mb:g} --repeat {args.repeat}")
    print(f"objects: {grown:.1f} MB of resident memory; snapshot file: {size:.1f} MB")
    print()
    print("| what | time | throughput (objects) | bar |")
    print("|---|---:|---:|---|")
    print(
        f"| suspend (check, pickle, write) | {s_time * 1e3:.0f} ms | {grown / s_time:.0f} MB/s | "
        f"≥ 100 MB/s: {'met' if grown / s_time >= 100 else 'missed'} |"
    )
    print(
        f"| resume (read, verify, unpickle, rebuild) | {r_time * 1e3:.0f} ms | {grown / r_time:.0f} MB/s | "
        f"≥ 100 MB/s: {'met' if grown / r_time >= 100 else 'missed'} |"
    )
    print()
    print(
        f"--checkpoint-every 1s on a 6 s loop (one snapshot a second of a small program): "
        f"{spin_every:.2f} s against {spin_plain:.2f} s ({(spin_every / spin_plain - 1) * 100:+.1f}%)"
    )


if __name__ == "__main__":
    main()
