#!/usr/bin/env python3
"""Time-travel figures: what a checkpoint costs the program, how fast going back is, and how
much memory the checkpoints hold against their budget.

    python3 benches/travel.py [--sleepy PATH] [--markdown FILE] [--json FILE] [--quick]

--sleepy picks the binary, hence the Python (e.g. target/py312/release/sleepy for 3.12);
--json also writes the figures as JSON (benches/bench.py --versions reads them).

Measured (every figure is measured here, by this script, on this machine):

* pause per checkpoint: the time the program stands still while a checkpoint is forked, as the
  agent measures it around the fork (`sleepy run --time-travel --stats`), for a program whose
  resident set is about 25 MB and about 500 MB;
* `rstep` latency (p50, p95) at the default checkpoint spacing, on a CPU-bound program: from
  writing the command to sleepy until its answer (the stop, then a `p` marker) is read back;
* `restore N` latency, the same way;
* the checkpoints' own memory (what killing them would give back) against the budget, after a
  long run that keeps changing a large structure.

The recording overhead itself (checkpoints on, vs python3) is a column of benches/bench.py.

Stdlib only; run `cargo build --release` first.
"""

import argparse
import json
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HEAP_PROGRAM = """\
import os, sys, time
target_mb = int(sys.argv[1])
seconds = float(sys.argv[2])

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

heap = []
while rss_mb() < target_mb:
    heap.append([(i, str(i)) for i in range(10000)])
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    for _ in range(2000):
        n += 1
print(f"rss {rss_mb():.1f} MB, {n} iterations")
"""

CPU_PROGRAM = """\
import math

def step(state, i):
    x, y = state
    x = (x * 1.0000001 + math.sin(i)) % 1000.0
    y = (y + x * 0.5) % 997.0
    return (x, y)

state = (1.0, 2.0)
for i in range(4_000_000):
    state = step(state, i)
    if i == 1_500_000:
        marker = i
print(state)
"""

CHURN_PROGRAM = """\
import time
table = [[j for j in range(200)] for _ in range(2000)]
end = time.monotonic() + float(__import__("sys").argv[1])
rounds = 0
while time.monotonic() < end:
    for row in table:
        row[rounds % 200] += 1
    rounds += 1
print("rounds", rounds)
"""


def find_sleepy(path):
    p = Path(path) if path else REPO / "target" / "release" / "sleepy"
    if not p.exists():
        sys.exit(f"travel.py: {p} does not exist; run `cargo build --release` first")
    return str(p.resolve())  # the runs' working directory is a temporary one


def pause_figures(sleepy, mb, seconds, workdir):
    prog = workdir / "heap.py"
    prog.write_text(HEAP_PROGRAM)
    out = subprocess.run([sleepy, "run", "--time-travel", "--stats", str(prog), str(mb), str(seconds)],
                         capture_output=True, text=True, cwd=workdir, timeout=600)
    stats = re.search(r"(\d+) checkpoints taken, (\d+) kept \(([\d.]+) MB of their own\); pause per "
                      r"checkpoint: median ([\d.]+) ms, p95 ([\d.]+) ms, max ([\d.]+) ms", out.stderr)
    rss = re.search(r"rss ([\d.]+) MB", out.stdout)
    if not stats or not rss:
        sys.exit(f"travel.py: unexpected output from sleepy run:\n{out.stdout}\n{out.stderr}")
    return {
        "rss_mb": float(rss.group(1)),
        "taken": int(stats.group(1)),
        "median_ms": float(stats.group(4)),
        "p95_ms": float(stats.group(5)),
        "max_ms": float(stats.group(6)),
    }


class Session:
    """`sleepy --batch -` driven one command at a time through pipes."""

    def __init__(self, argv, cwd):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=cwd)
        self.buf = b""
        self.marks = 0

    def command(self, line, timeout=120.0):
        """Sends `line` then a marker `p`; returns (seconds until the marker came back, text)."""
        self.marks += 1
        mark = f"M{self.marks}Q".encode()
        start = time.perf_counter()
        self.proc.stdin.write(f"{line}\np '{mark.decode()}'\n".encode())
        self.proc.stdin.flush()
        want = b"'" + mark + b"'"
        deadline = start + timeout
        while want not in self.buf:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RuntimeError(f"no answer to {line!r}; so far:\n{self.buf[-2000:].decode(errors='replace')}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError(f"sleepy ended during {line!r}:\n{self.buf[-2000:].decode(errors='replace')}")
                self.buf += chunk
        elapsed = time.perf_counter() - start
        text, _, self.buf = self.buf.partition(want)
        return elapsed, text.decode(errors="replace")

    def close(self):
        try:
            self.proc.stdin.write(b"q\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=60)


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round((len(s) - 1) * q)))]


def back_latency(sleepy, workdir, steps):
    prog = workdir / "cpu.py"
    prog.write_text(CPU_PROGRAM)
    s = Session([sleepy, "--batch", "-", str(prog)], workdir)
    try:
        # Into the middle of a 4-million-iteration loop (about 1.5 s of traced running).
        line = CPU_PROGRAM.splitlines().index("        marker = i") + 1
        s.command(f"b {line}")
        t, text = s.command("c")
        if f"({line})" not in text:
            raise RuntimeError(f"did not stop at line {line}:\n{text}")
        s.command(f"cl 1")
        rstep, places = [], set()
        for _ in range(steps):
            t, text = s.command("rstep")
            rstep.append(t)
            places.add(re.findall(r"\((\d+)\)", text)[-1] if re.findall(r"\((\d+)\)", text) else "?")
        rnext = [s.command("rnext")[0] for _ in range(steps // 2)]
        _, listing = s.command("checkpoints")
        numbers = [int(m) for m in re.findall(r"^(\d+)\s+\d+\s", listing, re.M)]
        restore = []
        for n in numbers[-min(len(numbers), steps // 2):]:
            t, text = s.command(f"restore {n}")
            if f"(checkpoint {n})" not in text:
                raise RuntimeError(f"restore {n} did not arrive:\n{text}")
            restore.append(t)
        # The marker `p` costs a round trip of its own: measure it alone and report it.
        marker_only = [s.command("tick")[0] for _ in range(10)]
    finally:
        s.close()
    return {"rstep": rstep, "rnext": rnext, "restore": restore, "marker": marker_only,
            "checkpoints": len(numbers)}


def budget_figures(sleepy, workdir, seconds, max_count, max_mb):
    prog = workdir / "churn.py"
    prog.write_text(CHURN_PROGRAM)
    last = CHURN_PROGRAM.splitlines().index('print("rounds", rounds)') + 1
    s = Session([sleepy, "--batch", "-", "--checkpoint-max", str(max_count), "--checkpoint-memory",
                 str(max_mb), str(prog), str(seconds)], workdir)
    try:
        s.command(f"b {last}")
        s.command("c", timeout=seconds * 10 + 60)
        _, listing = s.command("checkpoints")
    finally:
        s.close()
    total = re.search(r"(\d+) checkpoints, ([\d.]+) MB of their own memory \(budget: (\d+) checkpoints, (\d+) MB\)",
                      listing)
    if not total:
        raise RuntimeError(f"no checkpoint summary:\n{listing}")
    return {"count": int(total.group(1)), "mb": float(total.group(2)),
            "max_count": int(total.group(3)), "max_mb": int(total.group(4))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sleepy", metavar="PATH", help="the sleepy binary (default: target/release/sleepy)")
    ap.add_argument("--markdown", metavar="FILE", help="also write the report to FILE")
    ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    ap.add_argument("--quick", action="store_true", help="fewer steps, shorter runs (a smoke test)")
    args = ap.parse_args()
    sleepy = find_sleepy(args.sleepy)
    steps = 10 if args.quick else 40
    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    say(f"sleepy: {subprocess.run([sleepy, '--version'], capture_output=True, text=True).stdout.strip()}")
    say(f"command: python3 benches/travel.py{' --sleepy ' + args.sleepy if args.sleepy else ''}"
        f"{' --quick' if args.quick else ''}")
    say(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figures = {"sleepy": sleepy, "pause": []}
    with tempfile.TemporaryDirectory() as d:
        workdir = Path(d)
        say()
        say("| resident set | checkpoints | pause median | pause p95 | pause max | bar |")
        say("|---|---:|---:|---:|---:|---|")
        for mb in (25, 500):
            f = pause_figures(sleepy, mb, 1.0 if args.quick else 3.0, workdir)
            figures["pause"].append(f)
            bar = ("met" if f["median_ms"] < 1.0 else "missed") if mb == 25 else "—"
            say(f"| {f['rss_mb']:.0f} MB | {f['taken']} | {f['median_ms']:.3f} ms | {f['p95_ms']:.3f} ms | "
                f"{f['max_ms']:.3f} ms | {'< 1 ms: ' + bar if mb == 25 else bar} |")
        lat = back_latency(sleepy, workdir, steps)
        for name in ("rstep", "rnext", "restore", "marker"):
            figures[f"{name}_p50"] = percentile(lat[name], 0.5)
            figures[f"{name}_p95"] = percentile(lat[name], 0.95)
            figures[f"{name}_max"] = max(lat[name])
        figures["checkpoints"] = lat["checkpoints"]
        say()
        ms = lambda v: f"{v * 1000:.1f} ms"
        say("| command | runs | p50 | p95 | max | bar |")
        say("|---|---:|---:|---:|---:|---|")
        for name, bar in (("rstep", 0.100), ("rnext", None), ("restore", 0.020)):
            v = lat[name]
            verdict = "—" if bar is None else (f"p95 < {bar * 1000:.0f} ms: " + ("met" if percentile(v, 0.95) < bar else "missed"))
            if name == "restore":
                verdict = f"< {bar * 1000:.0f} ms: " + ("met" if percentile(v, 0.5) < bar else "missed") + " (p50)"
            say(f"| {name} | {len(v)} | {ms(percentile(v, 0.5))} | {ms(percentile(v, 0.95))} | {ms(max(v))} | {verdict} |")
        say(f"| (the marker `p` alone) | {len(lat['marker'])} | {ms(percentile(lat['marker'], 0.5))} | "
            f"{ms(percentile(lat['marker'], 0.95))} | {ms(max(lat['marker']))} | included above |")
        say(f"\n{lat['checkpoints']} checkpoints existed during the backward commands (default spacing: 50 ms of running).")
        b = budget_figures(sleepy, workdir, 5 if args.quick else 20, 16, 256)
        say()
        say(f"After a {5 if args.quick else 20} s run rewriting a 2000x200 list of lists: {b['count']} checkpoints "
            f"holding {b['mb']:.1f} MB of their own, budget {b['max_count']} checkpoints / {b['max_mb']} MB: "
            + ("within budget" if b['count'] <= b['max_count'] and b['mb'] <= b['max_mb'] else "OVER BUDGET"))
        figures["budget"] = b
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
