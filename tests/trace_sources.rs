//! Ticks are the same whichever source delivers line events. On 3.12+ sleepy takes them from
//! `sys.monitoring` while it needs nothing but lines (a run, a `continue` with no breakpoint)
//! and from the trace function otherwise (`--settrace` forces it throughout); a replay may
//! switch at other places than the run it replays, so both must count exactly CPython's line
//! events. On 3.11 both runs use the trace function and the tests still hold.

mod common;

use std::process::Command;

use common::{LIMIT, programs, python, run_with, sleepy};

/// `sleepy run --stats [extra] program`: (stdout, ticks).
fn run_stats(program: &str, extra: &[&str]) -> (String, u64) {
    let mut cmd = sleepy();
    cmd.current_dir(programs())
        .arg("run")
        .arg("--stats")
        .args(extra)
        .arg(program);
    let out = run_with(cmd, b"", LIMIT);
    assert_eq!(out.code, Some(0), "{program} {extra:?}: {}", out.stderr);
    let ticks = out
        .stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("sleepy: ")?
                .split_once(" ticks")?
                .0
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no tick count in: {}", out.stderr));
    (out.stdout, ticks)
}

#[test]
fn both_sources_count_the_same_ticks() {
    for program in [
        "line_events.py",
        "loops.py",
        "geometry.py",
        "shapes.py",
        "suspend_random.py",
        "suspend_recursion.py",
        "travel_mix.py",
    ] {
        for extra in [&[][..], &["--no-rewrite"][..]] {
            let monitored = run_stats(program, extra);
            let traced = run_stats(program, &[extra, &["--settrace"][..]].concat());
            assert_eq!(
                monitored, traced,
                "{program} {extra:?}: sys.monitoring vs the trace function"
            );
            assert!(monitored.1 > 0, "{program}: no ticks at all");
        }
    }
}

/// With the code as written, a tick is one of CPython's own line events in the program's
/// code: counted here by a Python-level `sys.settrace` in the same interpreter.
#[test]
fn ticks_are_cpythons_line_events() {
    let oracle = r#"
import runpy, sys
path = sys.argv[1]
count = 0
def local(frame, event, arg):
    global count
    if event == "line":
        count += 1
    return local
def trace(frame, event, arg):
    return local if frame.f_code.co_filename == path else None
sys.argv = sys.argv[1:]
sys.settrace(trace)
try:
    runpy.run_path(path, run_name="__main__")
finally:
    sys.settrace(None)
print(count, file=sys.stderr)
"#;
    let program = programs().join("line_events.py");
    let mut cmd = Command::new(python());
    cmd.current_dir(programs())
        .arg("-c")
        .arg(oracle)
        .arg(&program);
    let out = run_with(cmd, b"", LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let expected: u64 = out.stderr.trim().parse().expect("the oracle's count");
    for extra in [&["--no-rewrite"][..], &["--no-rewrite", "--settrace"][..]] {
        let (stdout, ticks) = run_stats("line_events.py", extra);
        assert_eq!(stdout, out.stdout, "{extra:?}: the program's output");
        assert_eq!(ticks, expected, "{extra:?}: ticks vs CPython's line events");
    }
}

/// The fast source is really in use where it exists (and not with `--settrace`): the program
/// sees sleepy's tool and its LINE and JUMP events in `sys.monitoring`.
#[test]
fn sys_monitoring_is_used_on_3_12_and_later() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("probe.py"),
        "import sys\nm = getattr(sys, 'monitoring', None)\n\
         print((m.get_tool(0), m.get_events(0) & (m.events.LINE | m.events.JUMP) == (m.events.LINE | m.events.JUMP)) if m else None)\n",
    )
    .expect("write the probe");
    let probe = |extra: &[&str]| {
        let mut cmd = sleepy();
        cmd.current_dir(dir.path())
            .arg("run")
            .args(extra)
            .arg("probe.py");
        let out = run_with(cmd, b"", LIMIT);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        out.stdout
    };
    if common::python_minor() >= 12 {
        assert_eq!(probe(&[]), "('sleepy', True)\n");
        assert_eq!(probe(&["--settrace"]), "(None, False)\n");
    } else {
        assert_eq!(probe(&[]), "None\n");
    }
}

/// A program that traces itself (here pdb.set_trace with its commands in a string) gets its
/// own trace function as under python3: sleepy steps aside (on 3.13 an active LINE tool made
/// pdb miss its first stop).
#[test]
fn a_program_tracing_itself_runs_as_under_python3() {
    let mut cmd = Command::new(python());
    cmd.current_dir(programs()).arg("own_pdb.py");
    let expected = run_with(cmd, b"", LIMIT);
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);
    for extra in [&[][..], &["--settrace"][..]] {
        let mut cmd = sleepy();
        cmd.current_dir(programs())
            .arg("run")
            .args(extra)
            .arg("own_pdb.py");
        let out = run_with(cmd, b"", LIMIT);
        assert_eq!(out.code, Some(0), "{extra:?}: {}", out.stderr);
        assert_eq!(out.stdout, expected.stdout, "{extra:?}");
    }
}
