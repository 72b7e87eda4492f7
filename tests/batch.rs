//! `sleepy --batch` transcripts for what pdb does not have or does differently: ticks,
//! post-mortem stops, `breakpoint()`, a program's stdin, `-m`, writing locals for real.

mod common;

use common::{
    LIMIT, assert_transcript, batch, normalize, programs, python, python_minor, run_with,
    transcript,
};
use std::process::Command;

#[test]
fn the_program_stops_before_its_first_line_and_runs_to_the_end() {
    let t = transcript("c\n", &["shapes.py"]);
    assert_transcript(
        &t,
        r#"
> $DIR/shapes.py(1)<module>()
-> """A small program with classes, closures, recursion, exceptions and a sibling import."""
(sleepy) c
results 16 21 120 None 12
total 141
The program exited with code 0.
"#,
    );
}

/// The number of line events of the program's own files up to (and including) the first time
/// `target` (file name, line) is reached, counted by a plain `sys.settrace` tracer under python3.
fn reference_tick(script: &str, target_file: &str, target_line: u32) -> u64 {
    let counter = format!(
        r#"
import os, sys, runpy
root = os.path.realpath({root:?})
n = 0
class Done(BaseException): pass
def tracer(frame, event, arg):
    global n
    name = frame.f_code.co_filename
    path = os.path.realpath(name)
    if name.startswith("<") or not path.startswith(root + os.sep):
        return None
    if event == "line":
        n += 1
        if os.path.basename(path) == {file:?} and frame.f_lineno == {line}:
            raise Done
    return tracer
sys.argv = [{script:?}]
sys.path.insert(0, root)
sys.settrace(tracer)
try:
    runpy.run_path({script:?}, run_name="__main__")
except Done:
    pass
sys.settrace(None)
print(n)
"#,
        root = programs().display().to_string(),
        file = target_file,
        line = target_line,
        script = programs().join(script).display().to_string(),
    );
    let mut cmd = Command::new(python());
    cmd.current_dir(programs()).args(["-c", &counter]);
    let out = run_with(cmd, b"", LIMIT);
    out.stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("counter said {out:?}"))
}

#[test]
fn ticks_count_the_programs_line_events() {
    let t = transcript(
        "tick\nn\ntick\nb fact\nc\ntick\nc\ntick\ncl 1\nb geometry.py:2\nc\ntick\n",
        &["shapes.py"],
    );
    let ticks: Vec<u64> = t
        .lines()
        .filter_map(|l| l.strip_prefix("tick "))
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(ticks[0], 1, "{t}");
    assert_eq!(ticks[1], 2, "{t}");
    assert_eq!(
        ticks[2],
        reference_tick("shapes.py", "shapes.py", 21),
        "{t}"
    );
    // The second stop in fact() is one recursion deeper: `if n <= 1` then `return n * ...`,
    // then the call, then `if n <= 1` again.
    assert_eq!(ticks[3], ticks[2] + 2, "{t}");
    assert_eq!(
        ticks[4],
        reference_tick("shapes.py", "geometry.py", 2),
        "{t}"
    );
}

#[test]
fn the_same_run_reaches_the_same_stop_at_the_same_tick() {
    let a = transcript("b geometry.area\nc\ntick\np w, h\n", &["shapes.py"]);
    let b = transcript("b geometry.area\nc\ntick\np w, h\n", &["shapes.py"]);
    assert_eq!(a, b);
    assert!(a.contains("(3, 4)"), "{a}");
}

#[test]
fn an_uncaught_exception_stops_post_mortem_at_the_raising_line() {
    let t = transcript("c\nw\nup\np data\np x, total\nn\nc\n", &["crash.py"]);
    // Python's own traceback, whose carets 3.13 places differently (the next test compares it
    // with python3's on every version).
    let outer_frames = if python_minor() >= 13 {
        "  File \"$DIR/crash.py\", line 14, in <module>\n    outer()\n    ~~~~~^^\n  \
         File \"$DIR/crash.py\", line 10, in outer\n    return inner(data)\n"
    } else {
        "  File \"$DIR/crash.py\", line 14, in <module>\n    outer()\n  \
         File \"$DIR/crash.py\", line 10, in outer\n    return inner(data)\n           ^^^^^^^^^^^\n"
    };
    let expected = r#"
> $DIR/crash.py(1)<module>()
-> def inner(items):
(sleepy) c
start
Traceback (most recent call last):
OUTER_FRAMES  File "$DIR/crash.py", line 4, in inner
    total += 10 // x
             ~~~^^~~
ZeroDivisionError: integer division or modulo by zero
Uncaught exception. Entering post mortem debugging
'continue' or 'quit' ends the program
> $DIR/crash.py(4)inner()
-> total += 10 // x
(sleepy) w
  $DIR/crash.py(14)<module>()
-> outer()
  $DIR/crash.py(10)outer()
-> return inner(data)
> $DIR/crash.py(4)inner()
-> total += 10 // x
(sleepy) up
> $DIR/crash.py(10)outer()
-> return inner(data)
(sleepy) p data
[5, 2, 0, 1]
(sleepy) p x, total
*** NameError: name 'x' is not defined
(sleepy) n
*** The program has ended with an uncaught exception; there is no next line to run. 'continue' or 'quit' ends the session.
(sleepy) c
The program exited with code 1.
"#;
    assert_transcript(&t, &expected.replace("OUTER_FRAMES", outer_frames));
}

#[test]
fn the_post_mortem_traceback_is_the_one_python_prints() {
    let t = transcript("c\n", &["crash.py"]);
    let mut cmd = Command::new(python());
    cmd.current_dir(programs()).arg("crash.py");
    let py = run_with(cmd, b"", LIMIT);
    let traceback = normalize(&py.stderr, &programs());
    assert!(
        t.contains(&traceback),
        "python3 printed:\n{traceback}\nsleepy:\n{t}"
    );
}

#[test]
fn post_mortem_exit_status_is_the_programs_failure() {
    let out = batch("c\n", &["crash.py"]);
    assert_eq!(out.code, Some(1));
    // Quitting (or running out of commands) at the post-mortem stop is still a failed run.
    let out = batch("c\nq\n", &["crash.py"]);
    assert_eq!(out.code, Some(1));
    let out = batch("n\n", &["shapes.py"]);
    assert_eq!(out.code, Some(0));
}

#[test]
fn breakpoint_in_the_program_stops_on_the_next_line() {
    let t = transcript("c\np acc\nn\nc\n", &["calls_breakpoint.py"]);
    assert_transcript(
        &t,
        r#"
> $DIR/calls_breakpoint.py(1)<module>()
-> def work(values):
(sleepy) c
> $DIR/calls_breakpoint.py(6)work()
-> return acc
(sleepy) p acc
[2, 4, 6]
(sleepy) n
--Return--
> $DIR/calls_breakpoint.py(6)work()->[2, 4, 6]
-> return acc
(sleepy) c
[2, 4, 6]
The program exited with code 0.
"#,
    );
}

#[test]
fn pythonbreakpoint_0_disables_breakpoint_calls() {
    let mut cmd = common::sleepy();
    cmd.current_dir(programs())
        .env("PYTHONBREAKPOINT", "0")
        .args(["--batch", "-", "calls_breakpoint.py"]);
    let out = run_with(cmd, b"c\n", LIMIT);
    assert!(
        out.stdout
            .contains("(sleepy) c\n[2, 4, 6]\nThe program exited with code 0.\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn stdin_lines_come_from_a_file_and_show_where_the_program_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.txt");
    std::fs::write(&input, "Ada\nline two\nline three\n").unwrap();
    let mut cmd = common::sleepy();
    cmd.current_dir(programs())
        .args(["--batch", "-", "--stdin"])
        .arg(&input)
        .arg("greet.py");
    let out = run_with(cmd, b"n\nn\nn\nn\nn\n", LIMIT);
    assert_transcript(
        &normalize(&out.stdout, &programs()),
        r#"
> $DIR/greet.py(1)<module>()
-> import sys
(sleepy) n
> $DIR/greet.py(3)<module>()
-> name = input("name? ")
(sleepy) n
name? Ada
> $DIR/greet.py(4)<module>()
-> print("hello", name)
(sleepy) n
hello Ada
> $DIR/greet.py(5)<module>()
-> rest = sys.stdin.read()
(sleepy) n
line two
line three
> $DIR/greet.py(6)<module>()
-> print("rest", repr(rest))
(sleepy) n
rest 'line two\nline three\n'
--Return--
> $DIR/greet.py(6)<module>()->None
-> print("rest", repr(rest))
"#,
    );
}

#[test]
fn a_program_reading_stdin_in_batch_mode_gets_end_of_file_and_a_clear_message() {
    let out = batch("n\nn\nc\n", &["greet.py"]);
    let t = normalize(&out.stdout, &programs());
    assert!(
        t.contains(
            "name? \nsleepy: the program is reading its stdin, which batch mode does not provide \
             (give it one with --stdin FILE); it gets end-of-file\nEOFError\n"
        ),
        "{t}"
    );
    assert!(
        t.contains("Uncaught exception. Entering post mortem debugging"),
        "{t}"
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn module_mode_runs_a_package_main_like_python_m() {
    let t = transcript("b tool.py:2\nc\nw\np word\nc\n", &["-m", "pkg", "a1", "a2"]);
    assert_transcript(
        &t,
        r#"
> $DIR/pkg/__main__.py(1)<module>()
-> import sys
(sleepy) b tool.py:2
Breakpoint 1 at $DIR/pkg/tool.py:2
(sleepy) c
main of pkg ['a1', 'a2']
> $DIR/pkg/tool.py(2)shout()
-> loud = word.upper() + "!"
(sleepy) w
  <frozen runpy>(198)_run_module_as_main()
  <frozen runpy>(88)_run_code()
  $DIR/pkg/__main__.py(5)<module>()
-> print(tool.shout("hi"))
> $DIR/pkg/tool.py(2)shout()
-> loud = word.upper() + "!"
(sleepy) p word
'hi'
(sleepy) c
HI!
The program exited with code 0.
"#,
    );
}

#[test]
fn assignments_write_the_frames_variables_for_real() {
    // `!k = 10` at make_scaler's return changes the closure cell the returned function uses;
    // `x = 100` in scale() changes its local before the multiplication reads it.
    let t = transcript(
        "b 17\nc\n!k = 10\nb 16\nc\nx = 100\nn\nrv\nc\n",
        &["shapes.py"],
    );
    assert!(
        t.contains("-> return x * k\n(sleepy) x = 100\n(sleepy) n\n--Return--\n"),
        "{t}"
    );
    assert!(t.contains("scale()->1000\n"), "{t}");
    assert!(t.contains("(sleepy) rv\n1000\n"), "{t}");
    assert!(
        t.contains("results 16 1000 120 None 12\ntotal 1120\n"),
        "{t}"
    );
}

#[test]
fn assignments_in_an_older_frame_take_effect_too() {
    let t = transcript(
        "b geometry.area\nc\nup\n!c.n = 1\nq = 5\ndown\nc\n",
        &["shapes.py"],
    );
    assert!(t.contains("results 1 21 120 5 12\n"), "{t}");
}

#[test]
fn a_generator_resumed_shows_no_stale_return_value() {
    let t = transcript("b gen\nc\nn\nn\nn\nn\nn\ns\ns\n", &["loops.py"]);
    assert!(
        t.contains("--Call--\n> $DIR/loops.py(12)gen()\n-> yield i * i\n"),
        "{t}"
    );
}

#[test]
fn help_comes_from_the_command_table() {
    let t = transcript("help\nh until\nhelp nosuch\nq\n", &["loops.py"]);
    for name in [
        "step (s)",
        "next (n)",
        "until (unt)",
        "break (b)",
        "tick",
        "quit (q, exit)",
    ] {
        assert!(t.contains(name), "{name} missing:\n{t}");
    }
    assert!(
        t.contains("(sleepy) h until\nuntil [LINE]\n  (also: unt)\n"),
        "{t}"
    );
    assert!(
        t.contains("*** No help for \"nosuch\": it is not a command"),
        "{t}"
    );
}

#[test]
fn commands_after_the_end_say_the_program_finished() {
    let t = transcript("c\np 1\nn\ntick\n", &["loops.py"]);
    assert!(t.contains("The program exited with code 0.\n(sleepy) p 1\n*** The program has finished (exit code 0); nothing is running\n"), "{t}");
    assert!(t.contains("(sleepy) tick\ntick "), "{t}");
}

#[test]
fn quit_kills_the_program_at_once() {
    let out = batch("q\nc\n", &["shapes.py"]);
    assert_eq!(out.code, Some(0));
    assert!(!out.stdout.contains("results"), "{}", out.stdout);
    assert!(!out.stdout.contains("(sleepy) c"), "{}", out.stdout);
}

#[test]
fn a_commands_file_works_like_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let cmds = dir.path().join("cmds.txt");
    std::fs::write(&cmds, "b geometry.area\nc\np w * h\n").unwrap();
    let mut cmd = common::sleepy();
    cmd.current_dir(programs())
        .arg("--batch")
        .arg(&cmds)
        .arg("shapes.py");
    let out = run_with(cmd, b"", LIMIT);
    assert!(
        out.stdout.contains("(sleepy) p w * h\n12\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn trace_adds_library_modules_to_the_traced_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tw.py"),
        "import textwrap\nprint(textwrap.dedent('  a\\n  b'))\n",
    )
    .unwrap();
    let cmds = "n\ns\ns\nw\nc\n";
    let traced = common::batch_in(dir.path(), cmds, &["--trace", "textwrap", "tw.py"]).stdout;
    assert!(traced.contains("(sleepy) s\n--Call--\n> "), "{traced}");
    assert!(
        traced.contains("/textwrap.py(") && traced.contains(")dedent()\n-> def dedent(text):\n"),
        "{traced}"
    );
    // By path glob too.
    let by_path = common::batch_in(dir.path(), cmds, &["--trace", "*/textwrap.py", "tw.py"]).stdout;
    assert!(
        by_path.contains(")dedent()\n-> def dedent(text):\n"),
        "{by_path}"
    );
    // Without --trace, step does not enter the standard library.
    let plain = common::batch_in(dir.path(), cmds, &["tw.py"]).stdout;
    assert!(!plain.contains("textwrap.py("), "{plain}");
    assert!(plain.contains("(sleepy) s\na\nb\n--Return--\n"), "{plain}");
}

#[test]
fn del_unbinds_a_local_like_pdb() {
    if python_minor() >= 12 {
        return; // 3.12+ cannot unbind a frame's local (docs/limits.md).
    }
    let t = transcript("b geometry.py:3\nc\n!del a\np a\nc\n", &["shapes.py"]);
    assert!(
        t.contains("(sleepy) p a\n*** NameError: name 'a' is not defined\n"),
        "{t}"
    );
    assert!(t.contains("UnboundLocalError"), "{t}");
}

#[test]
fn a_directory_with_a_main_module_runs_like_python3_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(
        app.join("__main__.py"),
        "import sys\nvalue = 6 * 7\nprint('app', sys.argv)\n",
    )
    .unwrap();
    let t = common::batch_in(
        dir.path(),
        "b __main__.py:3\nc\np value\nc\n",
        &["app", "x"],
    )
    .stdout;
    assert!(t.contains("(sleepy) p value\n42\n"), "{t}");
    assert!(
        t.contains("app ['app', 'x']\nThe program exited with code 0.\n"),
        "{t}"
    );
}
