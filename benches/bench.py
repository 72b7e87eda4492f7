#!/usr/bin/env python3
"""sleepy's performance table: each benchmark program under plain python3 and under sleepy.

    python3 benches/bench.py [--repeat N] [--only NAME] [--markdown FILE] [--sleepy PATH]
    python3 benches/bench.py --versions 3.11,3.12,3.13 [--repeat N] [--markdown FILE]

For every program in benches/programs/, every *variant* (a way of running a program: plain
python3, `sleepy run`, a do-nothing C tracer, ...) is run side by side in the same rounds,
interleaved (python3, sleepy, ..., python3, sleepy, ...), and timed by wall clock
(time.perf_counter around subprocess.run, so process start-up is included). The stdout of
every variant must be identical to plain python3's; a difference is reported loudly and makes
the script exit with status 1.

The headline figure of a cell is the minimum over the rounds (the machine is a noisy 2-vCPU
VM: the minimum is the run least disturbed by others). The ratio column is min/min against
plain python3; the median ratio is the median over rounds of the paired ratios of one round.

Stdlib only. It builds nothing of sleepy: run `cargo build --release` first. The do-nothing
C tracer (benches/floor.py) is compiled at bench time into a temporary directory when gcc and
the Python headers are available; otherwise its columns are skipped with a note.

On 3.12+ (sleepy built with PYO3_PYTHON, see --versions) there are more columns: `settrace`
(`sleepy run --settrace`: line events from the trace function, as on 3.11, instead of
sys.monitoring) and the `monitor` / `monitor-jump` floors (a do-nothing C sys.monitoring
callback). --versions runs the whole table for each version in turn, with the binaries from
the per-version target directories (VERSION_TARGETS), then benches/travel.py per version, and
ends with a summary: one row per version.

To add a column, add a Variant to `make_variants()`.
"""

import argparse
import datetime
import difflib
import json
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

BENCHES = Path(__file__).resolve().parent
REPO = BENCHES.parent
PROGRAMS = BENCHES / "programs"
STARTUP_PROGRAM = "empty"

# The recording bar: every user line traced, ticks, checkpoints on, vs plain python.
BARS = {(3, 11): 2.0}  # the brief, section 4
BAR_LATER = 1.4  # 3.12 and newer: issue 7 ("recording <= 1.4x plain python on 3.12 and 3.13")


def bar_for(py_minor):
    """(bar, where it comes from) for a (major, minor) version."""
    if py_minor in BARS:
        return BARS[py_minor], "the brief, section 4"
    if py_minor >= (3, 12):
        return BAR_LATER, "issue 7"
    return None, None


# --versions: where each version's release build lives (relative to the repository), and the
# Python it is built against. 3.11 is the default build; the others have their own target dir.
VERSION_TARGETS = {"3.11": "target/release", "3.12": "target/py312/release", "3.13": "target/py313/release"}


def version_target(version):
    return VERSION_TARGETS.get(version, f"target/py{version.replace('.', '')}/release")


def build_command(version):
    """The command that makes the release build of sleepy for `version` ("3.12")."""
    if version == "3.11":
        return "cargo build --release"
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(pyenv.glob(f"{version}.*"), key=lambda p: [int(x) if x.isdigit() else 0 for x in p.name.split(".")])
    python = f"$HOME/.pyenv/versions/{found[-1].name}/bin/python3" if found else f"/path/to/python{version}"
    target = version_target(version).removesuffix("/release")
    return f"PYO3_PYTHON={python} CARGO_TARGET_DIR={target} cargo build --release"


# ---------------------------------------------------------------- programs and variants

@dataclass
class Program:
    name: str
    path: Path
    args: list = field(default_factory=list)


@dataclass
class Variant:
    """One column group of the table: how to run a program.

    `command(program)` returns the argv to run. `baseline` marks the variant the ratios are
    taken against (plain python3). `note` is printed under the table.
    """
    name: str
    command: Callable[[Program], list]
    short: str = ""  # column label; defaults to name
    baseline: bool = False
    bar: bool = False  # compare its ratio with the brief's recording bar
    headline: bool = True  # full columns in the main table; False: a diagnostic column
    note: str = ""


def discover_programs(only):
    programs = [Program(p.stem, p) for p in sorted(PROGRAMS.glob("*.py"))]
    if only:
        wanted = {name.removesuffix(".py") for item in only for name in item.split(",") if name}
        wanted.discard("rewrite-cost")  # not a program: the rewrite-cost measurement
        unknown = wanted - {p.name for p in programs}
        if unknown:
            sys.exit(f"bench.py: no such program: {', '.join(sorted(unknown))} "
                     f"(have: {', '.join(p.name for p in programs)})")
        programs = [p for p in programs if p.name in wanted]
    # Start-up (empty.py) last, so it is measured on a warm machine like the others.
    programs.sort(key=lambda p: (p.name == STARTUP_PROGRAM, p.name))
    return programs


def make_variants(python, sleepy, floor_dir, floor_note, py_minor=(3, 11)):
    """The columns, in the order they run in each round; the first is the baseline."""
    later = py_minor >= (3, 12)
    lines_from = ("line events from sys.monitoring (sleepy's Rust LINE+JUMP callback) while "
                  "nothing but lines is needed" if later else "line events from sleepy's C trace function")
    variants = [
        Variant("python3", lambda p: [python, str(p.path), *p.args], baseline=True),
        Variant("recording", lambda p: [sleepy, "run", "--time-travel", str(p.path), *p.args], short="recording",
                bar=True,
                note="recording = `sleepy run --time-travel`: what a debugging session does while the program runs: "
                     "the code rewritten (jumpable), every line of user code traced, ticks counted, inputs "
                     "recorded, a checkpoint forked every 50 ms of running (default spacing)."),
        Variant("sleepy run", lambda p: [sleepy, "run", str(p.path), *p.args], short="traced",
                note="traced = `sleepy run`: the same without checkpoints and the record of inputs. "
                     f"Both: {lines_from}."),
        Variant("rewritten", lambda p: [sleepy, "run", "--no-trace", str(p.path), *p.args], short="rewritten",
                note="rewritten = `sleepy run --no-trace`: the rewritten code with no trace hook at all. Its bar "
                     "is on speed, start-up excluded (see the table below)."),
    ]
    if later:
        variants.insert(3, Variant(
            "sleepy run --settrace", lambda p: [sleepy, "run", "--settrace", str(p.path), *p.args],
            short="settrace",
            note="settrace = `sleepy run --settrace`: traced, with the line events from the trace function "
                 "(`PyEval_SetTrace`, as on 3.11) instead of sys.monitoring: the two sources compared."))

    def under_floor(mode):
        floor = str(BENCHES / "floor.py")
        return lambda p: [python, floor, "--ext", floor_dir, "--mode", mode, str(p.path), *p.args]

    if floor_dir:
        hook = ("the cheapest hook there is on 3.11" if not later else
                "the cheapest of the legacy hooks (3.12+ delivers them through sys.monitoring)")
        variants += [
            Variant("settrace-floor", under_floor("floor"), short="floor", headline=False,
                    note="floor = settrace-floor: a C `PyEval_SetTrace` callback that returns 0 at once "
                         "for every event, line events included, in every frame (benches/floor.py)."),
            Variant("settrace-calls", under_floor("calls"), short="calls", headline=False,
                    note="calls = settrace-calls: the same C trace function, switching line events off "
                         "in each frame at its call event: the tracing mode with no line callback at all."),
            Variant("setprofile-floor", under_floor("profile"), short="profile", headline=False,
                    note="profile = setprofile-floor: the do-nothing C callback installed with "
                         "`PyEval_SetProfile` instead (call/return events only, no trace function): "
                         f"{hook}."),
        ]
        if later:
            variants += [
                Variant("monitor-floor", under_floor("monitor"), short="monitor", headline=False,
                        note="monitor = monitor-floor: no trace function; a C function registered with "
                             "`sys.monitoring.register_callback` for LINE, set globally, that returns None "
                             "at once for every line of every code object (library code too): the floor of "
                             "any per-line sys.monitoring recorder (benches/floor.py)."),
                Variant("monitor-jump-floor", under_floor("monitor-jump"), short="monitor-jump", headline=False,
                        note="monitor-jump = monitor-jump-floor: the same with JUMP events too, never disabled. "
                             "sleepy disables JUMP at almost every location the first time (all but backward "
                             "jumps within one line), so its JUMP cost lies between `monitor` and this."),
            ]
    elif floor_note:
        variants.append(Variant("settrace-floor", None, note=f"settrace-floor: skipped ({floor_note})."))
    return variants


# ---------------------------------------------------------------- environment

def find_sleepy(path):
    sleepy = Path(path) if path else REPO / "target" / "release" / "sleepy"
    if not sleepy.is_file() or not os.access(sleepy, os.X_OK):
        where = "" if path else " (the default, target/release/sleepy under the repository)"
        sys.exit(f"bench.py: no sleepy binary at {sleepy}{where}.\n"
                 f"Build it first:  cargo build --release   (or pass --sleepy PATH)")
    return str(sleepy)


def find_version_sleepy(version):
    """The release build for `version` ("3.12") in its target dir; exits naming the build
    command when it is missing or embeds another Python."""
    target = version_target(version)
    sleepy = REPO / target / "sleepy"
    if not sleepy.is_file() or not os.access(sleepy, os.X_OK):
        sys.exit(f"bench.py: no sleepy for Python {version} at {target}/sleepy.\n"
                 f"Build it first (in {REPO}):\n    {build_command(version)}")
    line = sleepy_version(str(sleepy))
    m = re.search(r"embeds Python (\d+\.\d+)", line)
    if not m or m.group(1) != version:
        sys.exit(f"bench.py: {target}/sleepy is not built for Python {version}: `sleepy --version` says "
                 f"{line!r}.\nRebuild it:\n    {build_command(version)}")
    return str(sleepy)


def sleepy_version(sleepy):
    proc = subprocess.run([sleepy, "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip()


def embedded_python(version_line):
    """The interpreter sleepy says it embeds: 'sleepy X (embeds Python 3.11: /path/python3)'."""
    m = re.search(r"embeds Python [\d.]+: (\S+)\)", version_line)
    return m.group(1) if m else None


def python_info(python):
    code = "import sys, platform; print(sys.version.split()[0]); print(sys.version_info[0], sys.version_info[1]); print(sys.executable)"
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench.py: cannot run {python}: {proc.stderr.strip()}")
    version, minor, executable = proc.stdout.strip().splitlines()
    return version, tuple(int(x) for x in minor.split()), executable


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nproc():
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return str(len(os.sched_getaffinity(0)))


def git_describe():
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else "unknown"
    except OSError:
        return "unknown"


# ---------------------------------------------------------------- running

@dataclass
class Outcome:
    times: dict = field(default_factory=dict)     # variant name -> [seconds per round]
    failure: Optional[str] = None
    ticks: Optional[int] = None


def run_once(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    return elapsed, proc


def describe_mismatch(program, base, variant, base_proc, proc, cmd, base_cmd):
    out = [f"OUTPUT DIFFERS: {program.name} under {variant.name} vs {base.name}"]
    if proc.returncode != base_proc.returncode:
        out.append(f"  exit status {proc.returncode} (vs {base_proc.returncode})")
    a = base_proc.stdout.decode(errors="replace").splitlines(keepends=True)
    b = proc.stdout.decode(errors="replace").splitlines(keepends=True)
    diff = list(difflib.unified_diff(a, b, f"{base.name} stdout", f"{variant.name} stdout"))
    if diff:
        out.append("  " + "  ".join(diff[:40]).rstrip("\n") + ("\n  ..." if len(diff) > 40 else ""))
    err = proc.stderr.decode(errors="replace").strip()
    if err:
        out.append("  its stderr:\n    " + "\n    ".join(err.splitlines()[-15:]))
    out.append(f"  reproduce: {shlex.join(base_cmd)} > a.txt; {shlex.join(cmd)} > b.txt; diff a.txt b.txt")
    return "\n".join(out)


def bench_program(program, variants, repeat, warmup, sleepy, log):
    outcome = Outcome({v.name: [] for v in variants if v.command})
    active = [v for v in variants if v.command]
    base = next(v for v in active if v.baseline)
    expected = None
    warned = set()
    for rnd in range(-warmup, repeat):
        for v in active:
            cmd = v.command(program)
            elapsed, proc = run_once(cmd)
            if v.baseline:
                if proc.returncode != 0:
                    outcome.failure = (f"{program.name} fails under plain {v.name} (status {proc.returncode}):\n"
                                       + proc.stderr.decode(errors="replace")[-2000:])
                    return outcome
                expected = proc
                base_cmd = cmd
            elif proc.stdout != expected.stdout or proc.returncode != expected.returncode:
                outcome.failure = describe_mismatch(program, base, v, expected, proc, cmd, base_cmd)
                return outcome
            elif proc.stderr != expected.stderr and v.name not in warned:
                warned.add(v.name)
                log(f"  warning: {program.name} under {v.name} wrote to stderr what {base.name} did not "
                    f"(stdout is identical):\n    "
                    + "\n    ".join(proc.stderr.decode(errors="replace").splitlines()[-10:]))
            if rnd >= 0:
                outcome.times[v.name].append(elapsed)
        if rnd >= 0:
            log(f"  round {rnd + 1}/{repeat}: " + "  ".join(
                f"{name} {times[-1]:.3f}s" for name, times in outcome.times.items()))
    # One more untimed run with --stats, for the number of ticks (traced lines).
    proc = subprocess.run([sleepy, "run", "--stats", str(program.path), *program.args],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    m = re.search(rb"sleepy: (\d+) ticks in", proc.stderr)
    outcome.ticks = int(m.group(1)) if m else None
    return outcome


# ---------------------------------------------------------------- the report

def geomean(values):
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def fmt(x, spec, missing="—"):
    return missing if x is None else format(x, spec)


def ratios(outcome, variant, base):
    t, b = outcome.times.get(variant.name), outcome.times.get(base.name)
    if not t or not b:
        return None, None
    by_min = min(t) / min(b)
    by_median = statistics.median(x / y for x, y in zip(t, b))
    return by_min, by_median


def bar_cell(ratio, bar):
    if ratio is None:
        return "—"
    if ratio <= bar:
        return f"met ({(bar - ratio) / bar:.0%} under)"
    return f"missed by {ratio / bar - 1:.0%}"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def build_tables(programs, outcomes, variants, bar, gmeans=None):
    """The headline table (full columns for the headline variants, the ratio only for the
    diagnostic ones) and, when there are diagnostic variants, their detail table. The geometric
    means of the min/min ratios go into `gmeans` (variant name -> ratio) when it is given."""
    base = next(v for v in variants if v.baseline)
    others = [v for v in variants if v.command and not v.baseline]
    diagnostic = [v for v in others if not v.headline]
    label = lambda v: v.short or v.name  # noqa: E731
    timed = [p for p in programs if p.name != STARTUP_PROGRAM]
    per_variant = {v.name: ([], []) for v in others}

    header = ["program", f"{base.name} (s)"]
    for v in others:
        if v.headline:
            header += [f"{label(v)} (s)", f"{label(v)} ratio", "median ratio"]
            if v.bar:
                header.append(f"bar ≤ {bar:.1f}x")
        else:
            header.append(f"{label(v)} ratio")
    header += ["ticks", "ns/tick"]
    detail_header = ["program", f"{base.name} (s)"]
    for v in diagnostic:
        detail_header += [f"{label(v)} (s)", f"{label(v)} ratio", "median ratio"]

    rows, detail_rows = [], []
    for p in timed:
        o = outcomes[p.name]
        if o.failure:
            rows.append([p.name, "**OUTPUT DIFFERS / FAILED** (see below)"] + [""] * (len(header) - 2))
            continue
        row = [p.name, fmt(min(o.times[base.name]), ".3f")]
        detail = list(row)
        for v in others:
            r_min, r_med = ratios(o, v, base)
            per_variant[v.name][0].append(r_min)
            per_variant[v.name][1].append(r_med)
            cells = [fmt(min(o.times[v.name]), ".3f"), fmt(r_min, ".2f") + "x", fmt(r_med, ".2f") + "x"]
            if v.headline:
                row += cells
                if v.bar:
                    row.append(bar_cell(r_min, bar))
            else:
                row.append(cells[1])
                detail += cells
        sleepy_t = o.times.get("sleepy run")
        per_tick = ((min(sleepy_t) - min(o.times[base.name])) / o.ticks * 1e9
                    if o.ticks and sleepy_t else None)
        row += [f"{o.ticks:,}" if o.ticks else "—", fmt(per_tick, ".0f")]
        rows.append(row)
        detail_rows.append(detail)

    if gmeans is not None:
        gmeans.update((v.name, geomean(per_variant[v.name][0])) for v in others)
    if len(timed) > 1:
        row, detail = ["**geometric mean**", ""], ["**geometric mean**", ""]
        for v in others:
            g_min, g_med = geomean(per_variant[v.name][0]), geomean(per_variant[v.name][1])
            if v.headline:
                row += ["", f"**{fmt(g_min, '.2f')}x**", f"{fmt(g_med, '.2f')}x"]
                if v.bar:
                    row.append(bar_cell(g_min, bar))
            else:
                row.append(f"{fmt(g_min, '.2f')}x")
                detail += ["", f"**{fmt(g_min, '.2f')}x**", f"{fmt(g_med, '.2f')}x"]
        rows.append(row + ["", ""])
        detail_rows.append(detail)

    tables = [markdown_table(header, rows)]
    if diagnostic and detail_rows:
        tables.append(markdown_table(detail_header, detail_rows))
    return tables


def startup_line(outcomes, variants):
    o = outcomes.get(STARTUP_PROGRAM)
    if o is None:
        return None
    if o.failure:
        return f"Start-up ({STARTUP_PROGRAM}.py): FAILED, see below."
    base = next(v for v in variants if v.baseline)
    b = min(o.times[base.name]) * 1e3
    parts = [f"{base.name} {b:.1f} ms"]
    for v in variants:
        if v.command and not v.baseline:
            t = min(o.times[v.name]) * 1e3
            parts.append(f"{v.name} {t:.1f} ms ({t - b:+.1f} ms)")
    return f"Start-up, `{STARTUP_PROGRAM}.py` (min of rounds): " + ", ".join(parts) + "."


REWRITE_BAR = 0.95  # rewritten code, not traced: at least this fraction of the original's speed


def rewritten_table(programs, outcomes, variants, gmeans=None):
    """Speed of the rewritten code against the original, process start-up excluded: each
    variant's start-up (its min on empty.py) is taken off its times before dividing. The
    geometric mean goes into gmeans["rewritten speed"] when `gmeans` is given."""
    empty = outcomes.get(STARTUP_PROGRAM)
    if empty is None or empty.failure or "rewritten" not in empty.times:
        return None
    base = next(v for v in variants if v.baseline)
    start_base, start_rw = min(empty.times[base.name]), min(empty.times["rewritten"])
    rows, speeds = [], []
    for p in programs:
        o = outcomes[p.name]
        if p.name == STARTUP_PROGRAM or o.failure or "rewritten" not in o.times:
            continue
        orig = min(o.times[base.name]) - start_base
        rew = min(o.times["rewritten"]) - start_rw
        speed = orig / rew if rew > 0 else None
        speeds.append(speed)
        verdict = "—" if speed is None else ("met" if speed >= REWRITE_BAR else f"missed by {REWRITE_BAR - speed:.3f}")
        rows.append([p.name, f"{orig:.3f}", f"{rew:.3f}", fmt(speed, ".3f") + "x", verdict])
    g = geomean(speeds)
    if gmeans is not None:
        gmeans["rewritten speed"] = g
    rows.append(["**geometric mean**", "", "", f"**{fmt(g, '.3f')}x**",
                 "—" if g is None else ("met" if g >= REWRITE_BAR else f"missed by {REWRITE_BAR - g:.3f}")])
    header = ["program", f"{base.name} − start-up (s)", "rewritten − start-up (s)", "speed vs original",
              f"bar ≥ {REWRITE_BAR}x"]
    return markdown_table(header, rows)


BIG_MODULE_FUNCTION = """
def f{n}(items, path, value):
    total = 0
    for i, item in enumerate(items):
        if item % 3 == 0:
            continue
        total += item * i
    else:
        total += 1
    with open(path) as handle:
        first = handle.readline()
    try:
        total += int(value)
    except (ValueError, TypeError) as err:
        total -= len(str(err))
    finally:
        total += 2
    match total % 4:
        case 0:
            kind = "zero"
        case 1 | 2:
            kind = "small"
        case _:
            kind = "big"
    while total > 100:
        total //= 2
    data = [x * 2 for x in items if x]
    return total, kind, first, data
"""


def rewrite_cost(python, sleepy, repeat, log):
    """First-run rewrite time against cached start-up, for a 5,000-line module."""
    with tempfile.TemporaryDirectory(prefix="sleepy-bigmod-") as tmp:
        chunks, n = [], 0
        while sum(c.count("\n") for c in chunks) < 5000:
            chunks.append(BIG_MODULE_FUNCTION.format(n=n))
            n += 1
        source = "".join(chunks)
        lines = source.count("\n")
        Path(tmp, "bigmod.py").write_text(source)
        Path(tmp, "main.py").write_text("import bigmod\nprint(len(dir(bigmod)))\n")
        main_py = str(Path(tmp, "main.py"))
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        times = {"python3": [], "cold": [], "warm": []}
        warm_cache = Path(tmp, "warm-cache")
        subprocess.run([sleepy, "run", "--no-trace", main_py], env=dict(env, SLEEPY_CACHE_DIR=str(warm_cache)),
                       capture_output=True)
        for rnd in range(repeat):
            t, _ = run_once_env([python, main_py], env)
            times["python3"].append(t)
            cold = Path(tmp, f"cold-{rnd}")
            t, _ = run_once_env([sleepy, "run", "--no-trace", main_py], dict(env, SLEEPY_CACHE_DIR=str(cold)))
            times["cold"].append(t)
            t, _ = run_once_env([sleepy, "run", "--no-trace", main_py], dict(env, SLEEPY_CACHE_DIR=str(warm_cache)))
            times["warm"].append(t)
            log(f"  rewrite cost round {rnd + 1}/{repeat}: " + "  ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items()))
        best = {k: min(v) for k, v in times.items()}
        return (f"Rewrite cost, a {lines:,}-line module imported by a one-line script (min of {repeat}; "
                f"python3 compiles it every run, PYTHONDONTWRITEBYTECODE=1): python3 {best['python3'] * 1e3:.0f} ms; "
                f"`sleepy run --no-trace` first run (rewrite + compile, empty cache) {best['cold'] * 1e3:.0f} ms; "
                f"cached {best['warm'] * 1e3:.0f} ms. The first rewrite costs "
                f"{(best['cold'] - best['warm']) * 1e3:.0f} ms more than a cached start.")


def run_once_env(cmd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start, proc


def bench_version(opts, programs, sleepy, python, log, level="#"):
    """The whole table for one sleepy binary (one Python). Prints its report as it goes and
    returns {"lines": the report, "failures": [...], "summary": {...}} for --versions."""
    sversion = sleepy_version(sleepy)
    python = python or embedded_python(sversion) or "python3"
    py_version, py_minor, py_exe = python_info(python)
    bar, bar_source = bar_for(py_minor)
    load = os.getloadavg()
    built = os.stat(sleepy).st_mtime
    built_at = datetime.datetime.fromtimestamp(built).astimezone().isoformat(timespec="seconds")

    with tempfile.TemporaryDirectory(prefix="sleepy-floor-") as tmp:
        floor_dir, floor_note = None, None
        if not opts.no_floor:
            sys.path.insert(0, str(BENCHES))
            sys.dont_write_bytecode = True  # no benches/__pycache__ left behind
            import floor  # noqa: E402  (benches/floor.py)
            try:
                floor.build(tmp, python=py_exe)
                floor_dir = tmp
            except floor.Unavailable as e:
                floor_note = str(e)
                log(f"bench.py: settrace-floor column skipped: {e}")
        variants = make_variants(python, sleepy, floor_dir, floor_note, py_minor)

        header = [
            f"{level} sleepy benchmarks" + (f", Python {py_minor[0]}.{py_minor[1]}" if level != "#" else ""),
            "",
            f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"- command: `{shlex.join(['python3', *sys.argv])}`",
            f"- Python: {py_version} ({py_exe}); sleepy: {sversion} ({os.path.relpath(sleepy, REPO)}, "
            f"built {built_at})",
            f"- machine: {nproc()} CPUs (nproc), {cpu_model()}, {platform.system()} {platform.release()}; "
            f"load average at start {', '.join(f'{x:.2f}' for x in load)}",
            f"- sleepy commit: {git_describe()}",
            f"- method: {opts.warmup} untimed + {opts.repeat} timed rounds per program, variants interleaved "
            f"in each round ({', '.join(v.name for v in variants if v.command)}); wall clock of the whole "
            f"process; headline = min of rounds; ratio = min/min vs {variants[0].name}; "
            f"median ratio = median of the per-round ratios",
            "",
        ]
        print("\n".join(header), flush=True)

        outcomes = {}
        for p in programs:
            log(f"{p.name} (Python {py_minor[0]}.{py_minor[1]}):")
            outcomes[p.name] = bench_program(p, variants, opts.repeat, opts.warmup, sleepy, log)
            if outcomes[p.name].failure:
                log(outcomes[p.name].failure)

    gmeans = {}
    body = []
    if any(p.name != STARTUP_PROGRAM for p in programs):
        tables = build_tables(programs, outcomes, variants, bar or 2.0, gmeans)
        body += [tables[0], ""]
        if len(tables) > 1:
            body += ["The diagnostic variants in detail:", "", tables[1], ""]
    line = startup_line(outcomes, variants)
    if line:
        body += [line, ""]
    rewritten = rewritten_table(programs, outcomes, variants, gmeans)
    if rewritten:
        body += ["Rewritten code, not traced, against the original (start-up taken off both):", "", rewritten, ""]
    if not opts.only or "rewrite-cost" in ",".join(opts.only):
        log("rewrite cost:")
        body += [rewrite_cost(python, sleepy, min(opts.repeat, 3), log), ""]
    if bar:
        body.append(f"Bar ({bar_source}): recording (every user line traced, ticks, checkpoints on) ≤ {bar:.1f}x plain python "
                    f"on {py_minor[0]}.{py_minor[1]}. Ratios are min/min; \"median ratio\" is the median of the per-round "
                    f"ratios. Ticks = line events sleepy counted (`sleepy run --stats`); "
                    f"\"ns/tick\" = (traced min − python3 min) / ticks.")
    body += [f"- {v.note}" for v in variants if v.note]
    failures = [o.failure for o in outcomes.values() if o.failure]
    if os.stat(sleepy).st_mtime != built:
        # Someone rebuilt it while the bench ran: the rounds may mix two binaries.
        failures.append(f"{sleepy} was rebuilt during the run (built {built_at} at the start, "
                        f"{datetime.datetime.fromtimestamp(os.stat(sleepy).st_mtime).astimezone().isoformat(timespec='seconds')} "
                        f"at the end): its figures may mix two builds")
    if failures:
        body += ["", f"{level}# FAILURES", ""] + ["```\n" + f + "\n```" for f in failures]
    print("\n".join(body) + "\n", flush=True)
    summary = {"version": f"{py_minor[0]}.{py_minor[1]}", "python": py_version, "bar": bar,
               "gmeans": gmeans, "load": load, "failures": len(failures)}
    return {"lines": header + body, "failures": failures, "summary": summary}


def run_travel(sleepy, log):
    """benches/travel.py for one binary: (its markdown report, its figures) or (message, None)."""
    with tempfile.TemporaryDirectory(prefix="sleepy-travel-") as tmp:
        out = Path(tmp, "travel.json")
        cmd = [sys.executable, str(BENCHES / "travel.py"), "--sleepy", sleepy, "--json", str(out)]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            message = f"travel.py failed (status {proc.returncode}): {shlex.join(cmd)}\n{proc.stderr.strip()[-2000:]}"
            log(message)
            return message, None
        return proc.stdout.strip(), json.loads(out.read_text())


SUMMARY_COLUMNS = [  # (variant name, label)
    ("recording", "recording"), ("sleepy run", "traced"), ("sleepy run --settrace", "settrace"),
    ("rewritten", "rewritten"), ("rewritten speed", "rewritten speed (start-up off)"),
    ("settrace-floor", "floor"), ("settrace-calls", "calls"), ("setprofile-floor", "profile"),
    ("monitor-floor", "monitor"), ("monitor-jump-floor", "monitor-jump"),
]


def summary_tables(results, travels):
    """One row per version: the geometric means, then the time-travel figures."""
    header = ["Python"] + [label for _, label in SUMMARY_COLUMNS] + ["recording bar", "load at start"]
    rows = []
    for r in results:
        s, g = r["summary"], r["summary"]["gmeans"]
        cells = [f"{s['version']} ({s['python']})"]
        for name, _ in SUMMARY_COLUMNS:
            cell = fmt(g.get(name), ".2f" if name != "rewritten speed" else ".3f", "n/a")
            cells.append(cell + ("x" if g.get(name) else ""))
        rec = g.get("recording")
        cells.append(f"≤ {s['bar']:.1f}x: " + bar_cell(rec, s["bar"]) if s["bar"] and rec else "—")
        cells.append(f"{s['load'][0]:.2f}")
        if s["failures"]:
            cells[0] += f" ({s['failures']} FAILED)"
        rows.append(cells)
    tables = [markdown_table(header, rows)]
    if travels:
        header = ["Python", "pause median, 25 MB", "pause median, 500 MB", "rstep p50", "rstep p95",
                  "rnext p50", "restore p50", "restore p95", "checkpoints"]
        rows = []
        for r, t in zip(results, travels):
            name = f"{r['summary']['version']} ({r['summary']['python']})"
            if t is None:
                rows.append([name] + ["FAILED"] + [""] * (len(header) - 2))
                continue
            ms = lambda x: f"{x * 1000:.1f} ms"  # noqa: E731
            rows.append([name, f"{t['pause'][0]['median_ms']:.3f} ms", f"{t['pause'][1]['median_ms']:.3f} ms",
                         ms(t['rstep_p50']), ms(t['rstep_p95']), ms(t['rnext_p50']), ms(t['restore_p50']),
                         ms(t['restore_p95']), str(t['checkpoints'])])
        tables.append(markdown_table(header, rows))
    return tables


def main():
    parser = argparse.ArgumentParser(
        description="Time the benchmark programs under plain python3 and under sleepy, side by side.")
    parser.add_argument("--sleepy", metavar="PATH", help="the sleepy binary (default: target/release/sleepy)")
    parser.add_argument("--python", metavar="PATH",
                        help="the plain interpreter (default: the one sleepy embeds, from `sleepy --version`)")
    parser.add_argument("--versions", metavar="LIST",
                        help="comma-separated Python versions, e.g. 3.11,3.12,3.13: the whole table for each "
                             "(binaries from " + ", ".join(f"{v}: {t}" for v, t in VERSION_TARGETS.items())
                             + "), benches/travel.py for each, then a summary side by side")
    parser.add_argument("--no-travel", action="store_true", help="with --versions: skip benches/travel.py")
    parser.add_argument("--repeat", type=int, default=5, metavar="N", help="timed rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=1, metavar="N", help="untimed rounds first (default 1)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this program (repeatable, or comma-separated)")
    parser.add_argument("--no-floor", action="store_true", help="skip the do-nothing C hook (floor) columns")
    parser.add_argument("--markdown", metavar="FILE", help="also write the report to FILE")
    parser.add_argument("--list", action="store_true", help="list the programs and exit")
    opts = parser.parse_args()
    if opts.repeat < 1:
        parser.error("--repeat must be at least 1")
    if opts.versions and (opts.sleepy or opts.python):
        parser.error("--versions picks the binaries and interpreters itself: drop --sleepy/--python")

    programs = discover_programs(opts.only)
    if opts.list:
        print("\n".join(f"{p.name:15s} {p.path.relative_to(REPO)}" for p in programs))
        return 0

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if not opts.versions:
        result = bench_version(opts, programs, find_sleepy(opts.sleepy), opts.python, log)
        lines, failures = result["lines"], result["failures"]
    else:
        versions = [v.strip() for v in opts.versions.split(",") if v.strip()]
        bad = [v for v in versions if not re.fullmatch(r"3\.\d+", v)]
        if bad:
            parser.error(f"--versions: not a 3.x version: {', '.join(bad)}")
        binaries = [find_version_sleepy(v) for v in versions]  # all checked before anything runs
        lines, failures, results, travels = [], [], [], []
        lines += ["# sleepy benchmarks per Python version", "",
                  f"- command: `{shlex.join(['python3', *sys.argv])}`",
                  f"- sleepy commit: {git_describe()}", ""]
        print("\n".join(lines), flush=True)
        for version, sleepy in zip(versions, binaries):
            result = bench_version(opts, programs, sleepy, None, log, level="##")
            results.append(result)
            lines += result["lines"] + [""]
            failures += result["failures"]
            if not opts.no_travel:
                log(f"travel.py (Python {version}):")
                text, figures = run_travel(sleepy, log)
                travels.append(figures)
                part = [f"### Time travel, Python {version} (benches/travel.py --sleepy {os.path.relpath(sleepy, REPO)})",
                        "", text, ""]
                print("\n".join(part), flush=True)
                lines += part
        summary = summary_tables(results, travels if not opts.no_travel else None)
        part = ["## Summary, side by side", "",
                "Geometric means over the programs of the min/min ratio against each version's own python3 "
                "(rewritten speed: start-up taken off both; n/a: no such column on that version):", "",
                summary[0], ""]
        if len(summary) > 1:
            part += ["Time travel (benches/travel.py; pause = the program's stop per checkpoint):", "", summary[1], ""]
        print("\n".join(part), flush=True)
        lines += part
    if opts.markdown:
        Path(opts.markdown).write_text("\n".join(lines) + "\n")
        log(f"bench.py: report written to {opts.markdown}")
    if failures:
        log(f"bench.py: {len(failures)} program(s) FAILED: outputs differ or a run failed (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
