//! `jump` transcripts: the jumps CPython (and so pdb) refuses, made by sleepy, each followed by
//! `next` and `p` of the state the jump implies; and the jumps sleepy refuses, with the reason.

mod common;

use common::{assert_transcript, transcript};

#[test]
fn into_a_for_body_from_after_the_loop() {
    // The loop finished (its iterator is gone): it starts again, with its first item.
    let t = transcript("b 24\nc\nj 23\nn\np item, seen\nc\n", &["jumpy.py"]);
    assert_transcript(
        &t,
        r#"
> $DIR/jumpy.py(1)<module>()
-> """Jumps CPython refuses, that sleepy makes."""
(sleepy) b 24
Breakpoint 1 at $DIR/jumpy.py:24
(sleepy) c
> $DIR/jumpy.py(24)collect()
-> done = len(seen)
(sleepy) j 23
(the loop at line 22 has not started: it starts now (its iterable is evaluated and its first item taken))
> $DIR/jumpy.py(23)collect()
-> seen.append(item * 10)
(sleepy) n
> $DIR/jumpy.py(22)collect()
-> for item in items:
(sleepy) p item, seen
(1, [10, 20, 30, 10])
(sleepy) c
> $DIR/jumpy.py(24)collect()
-> done = len(seen)
"#,
    );
}

#[test]
fn a_live_loop_goes_on_with_its_next_item() {
    // Jump out of the loop in its first iteration, then back in: the same iterator goes on.
    let t = transcript(
        "b 23\nc\nj 24\nj 23\np item\nn\nn\np item, seen\ncl 1\nc\n",
        &["jumpy.py"],
    );
    assert!(t.contains("(sleepy) j 23\n(the loop at line 22 goes on with its next item)\n> $DIR/jumpy.py(23)collect()\n"), "{t}");
    assert!(t.contains("(sleepy) p item\n2\n"), "{t}");
    assert!(t.contains("(sleepy) p item, seen\n(3, [20])\n"), "{t}");
    assert!(
        t.contains("([20, 30, True, ('big', 42)], 2, 'after')\nThe program exited with code 0.\n"),
        "{t}"
    );
}

#[test]
fn into_an_except_handler_from_the_try_body() {
    let t = transcript(
        "b 29\nc\nj 31\np err\nn\np seen[-1]\nj 29\nn\nc\n",
        &["jumpy.py"],
    );
    assert!(
        t.contains(
            "(sleepy) j 31\n(no exception is being handled: to enter the handler at line 30, sleepy raises \
             ValueError() at the start of the try body (`jump LINE EXPRESSION` raises another))\n\
             > $DIR/jumpy.py(31)collect()\n-> seen.append((\"bad\", str(err)))\n"
        ),
        "{t}"
    );
    assert!(t.contains("(sleepy) p err\nValueError()\n"), "{t}");
    assert!(t.contains("(sleepy) p seen[-1]\n('bad', '')\n"), "{t}");
    // Back into the try body: `value` gets assigned this time and the run ends normally.
    assert!(t.contains("([10, 20, 30, True, ('bad', ''), ('big', 42)], 3, 'after')\nThe program exited with code 0.\n"), "{t}");
}

#[test]
fn a_handler_can_be_entered_with_a_chosen_exception() {
    let t = transcript(
        "b 29\nc\nj 31 ValueError('custom')\nn\np seen[-1]\nj 31 KeyError()\nq\n",
        &["jumpy.py"],
    );
    assert!(t.contains("(entering the handler at line 30: ValueError('custom') is raised at the start of the try body)\n"), "{t}");
    assert!(
        t.contains("(sleepy) p seen[-1]\n('bad', 'custom')\n"),
        "{t}"
    );
    assert!(t.contains("(sleepy) j 31 KeyError()\n*** Jump failed: the handler at line 30 does not catch KeyError\n"), "{t}");
}

#[test]
fn into_a_with_body_from_after_it() {
    let t = transcript("b 27\nc\nj 26\np res.open\nn\nn\nc\n", &["jumpy.py"]);
    assert_transcript(
        &t,
        r#"
> $DIR/jumpy.py(1)<module>()
-> """Jumps CPython refuses, that sleepy makes."""
(sleepy) b 27
Breakpoint 1 at $DIR/jumpy.py:27
(sleepy) c
enter r
exit r None
> $DIR/jumpy.py(27)collect()
-> after = "after"
(sleepy) j 26
enter r
(the with statement at line 25 is entered first (its manager is evaluated and __enter__ called); `jump LINE skip` runs the body without it)
> $DIR/jumpy.py(26)collect()
-> seen.append(res.open)
(sleepy) p res.open
True
(sleepy) n
> $DIR/jumpy.py(25)collect()
-> with Resource("r") as res:
(sleepy) n
exit r None
> $DIR/jumpy.py(27)collect()
-> after = "after"
(sleepy) c
([10, 20, 30, True, True, ('big', 42)], 3, 'after')
The program exited with code 0.
"#,
    );
}

#[test]
fn a_with_body_can_run_without_its_manager() {
    let t = transcript("b 27\nc\nj 26 skip\np res.open\nn\nn\nc\n", &["jumpy.py"]);
    assert!(t.contains("(the with statement at line 25 is skipped: its body runs without entering the manager, and its __exit__ will not be called)\n"), "{t}");
    assert!(t.contains("(sleepy) p res.open\nFalse\n"), "{t}");
    // No second "enter r"/"exit r": the manager was not used.
    assert_eq!(t.matches("enter r").count(), 1, "{t}");
    assert_eq!(t.matches("exit r").count(), 1, "{t}");
    assert!(
        t.contains("([10, 20, 30, True, False, ('big', 42)], 3, 'after')\n"),
        "{t}"
    );
}

#[test]
fn leaving_a_with_body_says_exit_is_not_called() {
    let t = transcript("b 26\nc\nj 27\nc\n", &["jumpy.py"]);
    assert!(t.contains("(sleepy) j 27\n(leaving the with statement at line 25 without calling its __exit__)\n> $DIR/jumpy.py(27)collect()\n"), "{t}");
    assert!(!t.contains("exit r"), "{t}");
}

#[test]
fn into_match_cases_and_their_patterns() {
    let t = transcript(
        "b 39\nc\nj 33\nn\nn\nj 37\nn\nn\np seen[-1]\nc\n",
        &["jumpy.py"],
    );
    assert!(t.contains("(sleepy) j 33\n(the subject of the match at line 32 has not been evaluated: it is evaluated first)\n> $DIR/jumpy.py(33)collect()\n-> case 0:\n(sleepy) n\n> $DIR/jumpy.py(35)collect()\n-> case int(n) if n > 10:\n"), "{t}");
    assert!(t.contains("(sleepy) j 37\n(the subject of the match at line 32 has not been evaluated: it is evaluated first)\n> $DIR/jumpy.py(37)collect()\n-> case _:\n(sleepy) n\n> $DIR/jumpy.py(38)collect()\n-> seen.append(\"other\")\n"), "{t}");
    assert!(t.contains("(sleepy) p seen[-1]\n'other'\n"), "{t}");
}

#[test]
fn jumps_sleepy_refuses_say_why() {
    let t = transcript(
        "b 23\nc\nup\nj 21\ndown\nj 43\nj 40\nj\nj x\nq\n",
        &["jumpy.py"],
    );
    for expected in [
        "(sleepy) j 21\n*** You can only jump within the bottom frame\n",
        "(sleepy) j 43\n*** Jump failed: line 43 is in outer, not in this function: a jump stays in the function that is running\n",
        "(sleepy) j 40\n*** Jump failed: there is no code at line 40 of this function\n",
        "(sleepy) j\n*** The 'jump' command requires a line number\n",
        "(sleepy) j x\n*** The 'jump' command requires a line number\n",
    ] {
        assert!(t.contains(expected), "missing:\n{expected}\nin:\n{t}");
    }
}

#[test]
fn a_jump_needs_a_line_stop() {
    let t = transcript("b 23\nc\ncl 1\nr\nj 21\nq\n", &["jumpy.py"]);
    assert!(t.contains("--Return--"), "{t}");
    assert!(
        t.contains(
            "*** Jump failed: can only jump from a 'line' trace event (step to a line first)\n"
        ),
        "{t}"
    );
}

#[test]
fn without_rewriting_cpythons_limits_and_messages_apply() {
    let t = transcript(
        "b 24\nc\nj 23\nj 31\nj 26\nj 21\nn\nq\n",
        &["--no-rewrite", "jumpy.py"],
    );
    for expected in [
        "(sleepy) j 23\n*** Jump failed: can't jump into the body of a for loop\n",
        "(sleepy) j 31\n*** Jump failed: can't jump into an 'except' block as there's no exception\n",
        "(sleepy) j 26\n*** Jump failed: incompatible stacks\n",
        "(sleepy) j 21\n> $DIR/jumpy.py(21)collect()\n-> seen = []\n(sleepy) n\n> $DIR/jumpy.py(22)collect()\n",
    ] {
        assert!(t.contains(expected), "missing:\n{expected}\nin:\n{t}");
    }
}
