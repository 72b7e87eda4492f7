//! A rewritten program behaves exactly like the original: every program of the rewriter's
//! corpus (`src/rewrite/py/tests/corpus/*.py`) and a few multi-module programs run under
//! `sleepy run` (rewritten, with the real native helpers of `src/rewrite/runtime.rs`) and under
//! plain python3, and stdout, stderr (tracebacks included) and the exit status must be the
//! same, byte for byte. Each program runs twice under sleepy, with an empty and then a warm
//! rewrite cache. Object addresses (`0x7f...`) differ from run to run under python3 itself and
//! are blanked.
//!
//! The unit tests in `src/rewrite/py/tests/` compare the same corpus in more depth (line events,
//! exception chains as data) with pure-Python stand-ins of the native helpers; this test is what
//! checks the native helpers themselves.

mod common;

use common::{LIMIT, Out, python, run_with, sleepy};
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rewrite/py/tests/corpus")
}

fn blank_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let hex = rest.chars().take_while(|c| c.is_ascii_hexdigit()).count();
        if hex > 0 {
            out.push('?');
        }
        rest = &rest[hex..];
    }
    out.push_str(rest);
    out
}

const RUN_RACE: &str = "without finishing normally (os._exit() or a crash in native code)";

fn python_run(dir: &Path, args: &[&str]) -> Out {
    let mut cmd = Command::new(python());
    cmd.current_dir(dir).args(args);
    clean(&mut cmd);
    run_with(cmd, b"", LIMIT)
}

fn sleepy_run(dir: &Path, cache: &Path, args: &[&str]) -> Out {
    let mut cmd = sleepy();
    cmd.current_dir(dir).arg("run").args(args);
    clean(&mut cmd);
    cmd.env("SLEEPY_CACHE_DIR", cache);
    run_with(cmd, b"", LIMIT)
}

fn clean(cmd: &mut Command) {
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONSAFEPATH")
        .env_remove("PYTHONWARNINGS")
        .env_remove("PYTHONOPTIMIZE")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONSTARTUP");
}

/// Runs `args` in `dir` under python3 and twice under `sleepy run`; returns a description of
/// every difference (empty: none).
fn differences(dir: &Path, args: &[&str]) -> Vec<String> {
    let cache = tempfile::tempdir().unwrap();
    let expected = python_run(dir, args);
    let mut found = Vec::new();
    for run in ["cold cache", "warm cache"] {
        let mut got = sleepy_run(dir, cache.path(), args);
        // `sleepy run` sometimes reports a normal exit as an abnormal one: it stops reading the
        // agent's messages once the process is gone, before the last one (`Finished`) is read
        // (src/run.rs). That is not the rewriter's doing; such a run is tried again.
        for _ in 0..3 {
            if !got.stderr.contains(RUN_RACE) || expected.stderr.contains(RUN_RACE) {
                break;
            }
            eprintln!(
                "{}: `sleepy run` lost the agent's last message; running again",
                args.join(" ")
            );
            got = sleepy_run(dir, cache.path(), args);
        }
        let what = format!("{} ({run})", args.join(" "));
        if blank_addresses(&got.stdout) != blank_addresses(&expected.stdout) {
            found.push(format!(
                "{what}: stdout differs\n--- python3 ---\n{}\n--- sleepy ---\n{}",
                expected.stdout, got.stdout
            ));
        }
        if blank_addresses(&got.stderr) != blank_addresses(&expected.stderr) {
            found.push(format!(
                "{what}: stderr differs\n--- python3 ---\n{}\n--- sleepy ---\n{}",
                expected.stderr, got.stderr
            ));
        }
        if (got.code, got.signal) != (expected.code, expected.signal) {
            found.push(format!(
                "{what}: exit status differs: python3 {:?}/{:?}, sleepy {:?}/{:?}",
                expected.code, expected.signal, got.code, got.signal
            ));
        }
    }
    let entries = std::fs::read_dir(cache.path())
        .map(|d| d.count())
        .unwrap_or(0);
    if entries == 0 {
        found.push(format!(
            "{}: nothing was rewritten (the cache is empty)",
            args.join(" ")
        ));
    }
    found
}

#[test]
fn the_corpus_runs_rewritten_exactly_as_python3_runs_it() {
    let mut programs: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py"))
        .collect();
    programs.sort();
    assert!(programs.len() >= 10, "the corpus is missing: {programs:?}");
    let mut failures = Vec::new();
    for program in &programs {
        failures.extend(differences(&corpus(), &[program]));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn imported_modules_and_packages_run_rewritten_exactly_as_python3_runs_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "main.py",
                "import helper\nfrom app import core\nprint(core.total([1, 2, 3]))\nhelper.run([3, 2, 1, 0])\n",
            ),
            (
                "helper.py",
                "import contextlib\n\ndef run(xs):\n    with contextlib.nullcontext():\n        for x in xs:\n            match x:\n                case 0:\n                    raise ValueError(\"zero\")\n                case _:\n                    print(10 // x)\n",
            ),
            (
                "app/__init__.py",
                "for name in ['a', 'b']:\n    pass\nVERSION = name\n",
            ),
            (
                "app/__main__.py",
                "from . import core\nprint('main', __name__, core.total(range(4)))\n",
            ),
            (
                "app/core.py",
                "from . import VERSION\n\ndef total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n\nprint('core', VERSION, sorted(k for k in globals() if 'sl_' in k))\n",
            ),
        ],
    );
    let mut failures = differences(dir.path(), &["main.py"]);
    failures.extend(differences(dir.path(), &["-m", "app"]));
    failures.extend(differences(dir.path(), &["-m", "app.core"]));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_syntax_error_in_an_imported_module_is_reported_as_python3_does() {
    let dir = tempfile::tempdir().unwrap();
    for (name, helper) in [
        ("unclosed", "x = 1\nfor i in range(3):\n    y = (1 +\n"),
        ("compiler", "for x in y:\n    pass\nreturn 1\n"),
        (
            "pattern",
            "match x:\n    case y:\n        pass\n    case 1:\n        pass\n",
        ),
        ("async", "with a:\n    async with b:\n        pass\n"),
    ] {
        let case = dir.path().join(name);
        write(
            &case,
            &[
                (
                    "main.py",
                    "print('start')\nfor i in range(1):\n    import helper\n",
                ),
                ("helper.py", helper),
            ],
        );
        let failures = differences(&case, &["main.py"]);
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}
