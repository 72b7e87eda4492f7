//! The program runs in the Python the user means: the interpreter sleepy was built for (not
//! whatever libpython the loader finds first), with the sys.path `python3 script.py` would have,
//! an active virtualenv's packages, and python3's argv, exit statuses and signals.

mod common;

use common::{LIMIT, programs, python, run_with, sleepy};
use std::path::Path;
use std::process::Command;

fn json(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in {text:?}"));
    serde_json::from_str(line).unwrap()
}

fn python_run(dir: &Path, args: &[&str], envs: &[(&str, String)]) -> common::Out {
    let mut cmd = Command::new(python());
    cmd.current_dir(dir).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run_with(cmd, b"", LIMIT)
}

fn sleepy_run(dir: &Path, args: &[&str], envs: &[(&str, String)]) -> common::Out {
    let mut cmd = sleepy();
    cmd.current_dir(dir).arg("run").args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run_with(cmd, b"", LIMIT)
}

#[test]
fn the_embedded_interpreter_is_the_one_sleepy_was_built_for() {
    let py = python_run(&programs(), &["env_report.py", "x", "--flag"], &[]);
    let ours = sleepy_run(&programs(), &["env_report.py", "x", "--flag"], &[]);
    assert_eq!(ours.code, Some(0), "{}", ours.stderr);
    let (a, b) = (json(&py.stdout), json(&ours.stdout));
    for key in [
        "version",
        "path",
        "prefix",
        "base_prefix",
        "exec_prefix",
        "executable",
        "argv",
        "name",
        "file",
        "stdout_tty",
    ] {
        assert_eq!(a[key], b[key], "{key} differs");
    }
    assert_eq!(
        b["path"][0],
        serde_json::Value::String(programs().display().to_string())
    );
    assert_eq!(b["name"], "__main__");
}

#[test]
fn debugging_sees_the_same_interpreter() {
    let out = common::batch("c\n", &["env_report.py", "a"]);
    let py = python_run(&programs(), &["env_report.py", "a"], &[]);
    let (a, b) = (json(&py.stdout), json(&out.stdout));
    for key in ["version", "path", "prefix", "executable", "argv", "file"] {
        assert_eq!(a[key], b[key], "{key} differs");
    }
    // In the debugger the program's stdout is a terminal, as when a user runs it by hand.
    assert_eq!(b["stdout_tty"], true);
}

#[test]
fn sys_version_names_the_build_interpreter_not_debians() {
    let out = sleepy_run(&programs(), &["env_report.py"], &[]);
    let version = json(&out.stdout)["version"].as_str().unwrap().to_string();
    let expected = python_run(&programs(), &["-c", "import sys; print(sys.version)"], &[]);
    assert_eq!(version, expected.stdout.trim());
    let mut cmd = sleepy();
    cmd.arg("--version");
    let v = run_with(cmd, b"", LIMIT);
    assert!(v.stdout.contains(python()), "{}", v.stdout);
}

#[test]
fn module_mode_paths_match_python_m() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        programs().join("env_report.py"),
        dir.path().join("report_mod.py"),
    )
    .unwrap();
    let py = python_run(dir.path(), &["-m", "report_mod", "q"], &[]);
    let ours = sleepy_run(dir.path(), &["-m", "report_mod", "q"], &[]);
    let (a, b) = (json(&py.stdout), json(&ours.stdout));
    for key in ["path", "argv", "name", "file"] {
        assert_eq!(a[key], b[key], "{key} differs");
    }
}

#[test]
fn a_virtualenvs_own_packages_are_importable() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let made = Command::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    // A package that exists only in the venv.
    let site = python_run(
        dir.path(),
        &[
            "-c",
            "import sysconfig, sys; print(sysconfig.get_path('purelib', vars={'base': sys.argv[1], 'platbase': sys.argv[1]}))",
            venv.to_str().unwrap(),
        ],
        &[],
    );
    let site = site.stdout.trim().to_string();
    std::fs::write(Path::new(&site).join("only_in_venv.py"), "WHERE = 'venv'\n").unwrap();
    let script = dir.path().join("uses_venv.py");
    std::fs::write(
        &script,
        "import json, sys, only_in_venv\nprint(json.dumps({'where': only_in_venv.WHERE, 'prefix': sys.prefix, 'path': sys.path, 'executable': sys.executable}))\n",
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let envs = [("PATH", path), ("VIRTUAL_ENV", venv.display().to_string())];
    let mut cmd = Command::new(venv.join("bin/python3"));
    cmd.current_dir(dir.path()).arg("uses_venv.py");
    let py = run_with(cmd, b"", LIMIT);
    let ours = sleepy_run(dir.path(), &["uses_venv.py"], &envs);
    assert_eq!(ours.code, Some(0), "{}", ours.stderr);
    let (a, b) = (json(&py.stdout), json(&ours.stdout));
    assert_eq!(b["where"], "venv");
    assert_eq!(a["prefix"], b["prefix"]);
    assert_eq!(a["path"], b["path"]);
    assert_eq!(a["executable"], b["executable"]);
    assert_eq!(
        b["prefix"],
        serde_json::Value::String(venv.display().to_string())
    );
    // Without the venv active, the package is not there: the venv really was the reason.
    let plain = sleepy_run(dir.path(), &["uses_venv.py"], &[]);
    assert!(
        plain.stderr.contains("No module named 'only_in_venv'"),
        "{}",
        plain.stderr
    );
}

fn statuses(how: &str) -> (common::Out, common::Out) {
    (
        python_run(&programs(), &["exits.py", how], &[]),
        sleepy_run(&programs(), &["exits.py", how], &[]),
    )
}

#[test]
fn exit_statuses_output_and_signals_match_python3() {
    for how in [
        "normal",
        "code",
        "message",
        "raise",
        "interrupt",
        "term",
        "atexit",
    ] {
        let (py, ours) = statuses(how);
        assert_eq!(
            (ours.code, ours.signal),
            (py.code, py.signal),
            "{how}: python3 {py:?}, sleepy {ours:?}"
        );
        assert_eq!(ours.stdout, py.stdout, "{how}: stdout");
        assert_eq!(ours.stderr, py.stderr, "{how}: stderr");
    }
}

#[test]
fn sleepys_own_messages_go_to_stderr_only() {
    let out = sleepy_run(&programs(), &["calls_breakpoint.py"], &[]);
    assert_eq!(out.stdout, "[2, 4, 6]\n");
    assert!(
        out.stderr.contains("sleepy: breakpoint() at ")
            && out.stderr.contains("calls_breakpoint.py:5 ignored"),
        "{}",
        out.stderr
    );
    let out = sleepy_run(&programs(), &["--stats", "loops.py"], &[]);
    assert_eq!(out.stdout, "[0, 1, 4, 9] 10\n");
    assert!(
        out.stderr.starts_with("sleepy: ") && out.stderr.contains(" ticks in "),
        "{}",
        out.stderr
    );
}

#[test]
fn a_crash_in_sleepy_run_is_reported_on_stderr() {
    let out = sleepy_run(&programs(), &["segfault.py"], &[]);
    assert_eq!(out.stdout, "about to crash\n");
    assert_eq!(out.code, Some(139));
    assert!(
        out.stderr
            .contains("killed by signal 11 (SIGSEGV, segmentation fault)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("segfault.py\", line 6 in boom"),
        "{}",
        out.stderr
    );
    let out = sleepy_run(&programs(), &["hard_exit.py"], &[]);
    assert_eq!((out.stdout.as_str(), out.code), ("bye\n", Some(3)));
}

#[test]
fn sigterm_sent_to_sleepy_reaches_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("waits.py");
    std::fs::write(
        &script,
        "import signal, sys, time\n\
         def bye(sig, frame):\n    print('got', sig, flush=True)\n    sys.exit(5)\n\
         signal.signal(signal.SIGTERM, bye)\nprint('ready', flush=True)\ntime.sleep(30)\n",
    )
    .unwrap();
    let mut cmd = sleepy();
    cmd.current_dir(dir.path())
        .args(["run", "waits.py"])
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 64];
    use std::io::Read;
    // The whole line: a signal that lands between print's two writes ("ready", then "\n")
    // runs the handler before the newline, in python3 as much as in sleepy.
    while !String::from_utf8_lossy(&seen).contains("ready\n") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "program ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    stdout.read_to_end(&mut seen).unwrap();
    assert_eq!(String::from_utf8_lossy(&seen), "ready\ngot 15\n");
    assert_eq!(status.code(), Some(5));
}
