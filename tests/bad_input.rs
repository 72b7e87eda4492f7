//! Bad input never crashes sleepy or hangs it: each case gets a clear message and a meaningful
//! exit status.

mod common;

use common::{LIMIT, batch, normalize, programs, python, run_with, sleepy, transcript};
use std::process::Command;

fn no_rust_panic(text: &str) {
    assert!(!text.contains("panicked"), "sleepy panicked:\n{text}");
    assert!(!text.contains("RUST_BACKTRACE"), "sleepy panicked:\n{text}");
}

#[test]
fn a_missing_script_is_refused_like_python_does() {
    let out = batch("c\n", &["no_such_script.py"]);
    let path = programs().join("no_such_script.py");
    assert_eq!(
        out.stderr,
        format!(
            "sleepy: can't open file '{}': [Errno 2] No such file or directory\n",
            path.display()
        )
    );
    assert_eq!(out.code, Some(2));
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn a_syntax_error_shows_file_line_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.py");
    std::fs::write(&bad, "def f():\n    x = (1,\n    return x\n").unwrap();
    let out = common::batch_in(dir.path(), "c\n", &["bad.py"]);
    let mut cmd = Command::new(python());
    cmd.arg(&bad);
    let py = run_with(cmd, b"", LIMIT);
    assert_eq!(out.code, Some(1));
    assert_eq!(py.code, Some(1));
    assert_eq!(
        out.stderr,
        format!(
            "sleepy: cannot run {}: it does not compile:\n{}",
            bad.display(),
            py.stderr
        ),
    );
    assert!(
        out.stderr
            .contains("line 2\n    x = (1,\n        ^\nSyntaxError: '(' was never closed"),
        "{}",
        out.stderr
    );
    no_rust_panic(&out.stderr);
}

#[test]
fn an_unknown_command_is_named_as_such() {
    let t = transcript("stpe\nfoo bar\n!foo\nb\nq\n", &["loops.py"]);
    assert!(t.contains("(sleepy) stpe\n*** Unknown command \"stpe\" (and no variable of that name); type 'help' for the commands\n"), "{t}");
    assert!(t.contains("(sleepy) foo bar\n*** Not a command, and not valid Python: SyntaxError: invalid syntax (type 'help' for the commands)\n"), "{t}");
    assert!(
        t.contains("(sleepy) !foo\n*** NameError: name 'foo' is not defined\n"),
        "{t}"
    );
    assert!(t.contains("(sleepy) b\nNo breakpoints.\n"), "{t}");
}

#[test]
fn bad_breakpoint_locations_are_refused_with_the_reason() {
    let t = transcript(
        "b 3\nb 12\nb 200\nb geometry.py:5\nb nofile.py:3\nb geometry.py:x\nb nosuch\nb 22, x ===\ncondition 9 x\nb\n",
        &["shapes.py"],
    );
    for expected in [
        "(sleepy) b 3\n*** Line 3 of $DIR/shapes.py has no code: it is blank, a comment, or inside a statement (nearest lines with code: 2 and 5)\n",
        "(sleepy) b 12\n*** Line 12 of $DIR/shapes.py has no code: it is blank, a comment, or inside a statement (nearest lines with code: 11 and 14)\n",
        "(sleepy) b 200\n*** Line 200 is past the end of $DIR/shapes.py, which has 48 lines\n",
        "(sleepy) b geometry.py:5\n*** Line 5 of $DIR/geometry.py has no code: it is blank, a comment, or inside a statement (nearest lines with code: 3 and 6)\n",
        "(sleepy) b nofile.py:3\n*** 'nofile.py' not found from sys.path\n",
        "(sleepy) b geometry.py:x\n*** Bad lineno: x\n",
        "(sleepy) b nosuch\n*** The specified object 'nosuch' is not a function or was not found along sys.path.\n",
        "(sleepy) b 22, x ===\n*** Invalid condition \"x ===\": invalid syntax (<breakpoint condition>, line 1)\n",
        "(sleepy) condition 9 x\n*** Breakpoint number 9 out of range\n",
        "(sleepy) b\nNo breakpoints.\n",
    ] {
        assert!(t.contains(expected), "missing:\n{expected}\nin:\n{t}");
    }
}

#[test]
fn a_program_that_calls_os_exit_ends_the_session_clearly() {
    let out = batch("c\n", &["hard_exit.py"]);
    let t = normalize(&out.stdout, &programs());
    assert!(t.contains("(sleepy) c\nbye\nsleepy: the program's process exited with status 3 without finishing normally (os._exit() or a crash in native code); it last stopped at tick 1\n"), "{t}");
    assert_eq!(out.code, Some(3));
    no_rust_panic(&out.stderr);
}

#[test]
fn a_segfault_in_native_code_is_reported_with_the_python_stack() {
    let out = batch("c\np 1\n", &["segfault.py"]);
    let t = normalize(&out.stdout, &programs());
    assert!(t.contains("about to crash\nsleepy: the program's process was killed by signal 11, SIGSEGV (segmentation fault); it last stopped at tick 1\n"), "{t}");
    assert!(
        t.contains("sleepy: the program's Python stack when it crashed:\n"),
        "{t}"
    );
    assert!(
        t.contains("File \"$DIR/segfault.py\", line 6 in boom\n"),
        "{t}"
    );
    assert!(
        t.contains("File \"$DIR/segfault.py\", line 9 in <module>\n"),
        "{t}"
    );
    assert!(
        !t.contains("<sleepy>"),
        "sleepy's own frames leaked into the report:\n{t}"
    );
    assert!(
        t.contains("(sleepy) p 1\n*** The program is no longer running\n"),
        "{t}"
    );
    assert_eq!(out.code, Some(139));
    no_rust_panic(&out.stderr);
}

#[test]
fn a_missing_module_is_pythons_message() {
    let out = batch("c\n", &["-m", "no_such_module_here"]);
    assert!(
        out.stdout
            .contains("No module named no_such_module_here\nThe program exited with code 1.\n"),
        "{}",
        out.stdout
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn a_missing_commands_file_is_an_error() {
    let mut cmd = sleepy();
    cmd.current_dir(programs())
        .args(["--batch", "/no/such/commands", "loops.py"]);
    let out = run_with(cmd, b"", LIMIT);
    assert_eq!(
        out.stderr,
        "sleepy: cannot read commands from /no/such/commands: No such file or directory (os error 2)\n"
    );
    assert_eq!(out.code, Some(2));
}

#[test]
fn usage_errors_print_the_usage() {
    for (args, message) in [
        (vec![], "sleepy: no script or module to run"),
        (
            vec!["--frobnicate", "x.py"],
            "sleepy: unknown option --frobnicate",
        ),
        (vec!["--batch"], "sleepy: --batch needs a value"),
        (vec!["-m"], "sleepy: -m needs a module name"),
    ] {
        let mut cmd = sleepy();
        cmd.args(&args);
        let out = run_with(cmd, b"", LIMIT);
        assert_eq!(out.code, Some(2), "{args:?}");
        assert!(
            out.stderr.starts_with(&format!("{message}\nusage: sleepy")),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn commands_after_a_crash_do_not_hang() {
    // Many commands after the agent died: each answered at once.
    let cmds = "c\n".to_string() + &"n\np x\nw\n".repeat(50);
    let out = batch(&cmds, &["segfault.py"]);
    assert_eq!(out.code, Some(139));
    assert_eq!(
        out.stdout
            .matches("*** The program is no longer running")
            .count(),
        150,
        "{}",
        out.stdout
    );
}
