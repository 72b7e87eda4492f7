//! Time travel, through `sleepy --batch` transcripts: `goto`, `restore`, the backward commands
//! (`rstep`, `rnext`, `rreturn`, `rcontinue`), `watch` both ways, determinism of what the program
//! reads, changing the past, the limits (threads, processes), the checkpoint budget, and that no
//! process outlives the session.
//!
//! The programs are `tests/programs/travel_*.py`. Tests marked `#[ignore = "bug: ..."]` assert the
//! behaviour a user should get and that sleepy does not give yet.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    agents_in, assert_transcript, batch_in_within, normalize, programs, responses, sleepy,
};

/// No session in this file should take long; a hang fails the test instead of blocking it.
const LIMIT: Duration = Duration::from_secs(30);

/// The transcript of a session in the programs directory, the directory written as `$DIR`.
fn session(commands: &str, args: &[&str]) -> String {
    session_in(&programs(), commands, args)
}

fn session_in(dir: &Path, commands: &str, args: &[&str]) -> String {
    let out = batch_in_within(dir, commands, args, LIMIT);
    assert!(out.stderr.is_empty(), "unexpected stderr: {}", out.stderr);
    normalize(&out.stdout, dir)
}

/// What the command `command` printed, for its `nth` occurrence (0 = the first).
fn answer(t: &str, command: &str, nth: usize) -> String {
    responses(t)
        .into_iter()
        .filter(|(c, _)| c == command)
        .nth(nth)
        .map(|(_, out)| out)
        .unwrap_or_else(|| panic!("no {nth}th answer to {command:?} in:\n{t}"))
}

/// What the last occurrence of `command` printed.
fn last_answer(t: &str, command: &str) -> String {
    responses(t)
        .into_iter()
        .rfind(|(c, _)| c == command)
        .map(|(_, out)| out)
        .unwrap_or_else(|| panic!("no answer to {command:?} in:\n{t}"))
}

/// The answers to every `tick` command, in order.
fn ticks(t: &str) -> Vec<u64> {
    responses(t)
        .into_iter()
        .filter(|(c, _)| c == "tick")
        .map(|(_, out)| parse_tick(&out))
        .collect()
}

fn parse_tick(out: &str) -> u64 {
    out.trim()
        .strip_prefix("tick ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a tick: {out:?}"))
}

/// Where a stop is: its `> file(line)function()` and `-> source` lines, and the --Call-- and
/// --Return-- markers (not program output, not messages).
fn place(block: &str) -> String {
    block
        .lines()
        .filter(|l| {
            l.starts_with("> ") || l.starts_with("-> ") || *l == "--Call--" || *l == "--Return--"
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A small deterministic generator for shuffling (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

// =================================================================================================
// 1. goto equals forward
// =================================================================================================

/// What is printed at every stop of the recorded forward run and of the visits.
const PROBES: &[&str] = &[
    "p sorted((k, v) for k, v in locals().items() if k[0] != '_' and type(v) in (int, str, list, tuple, bool))",
    "p globals().get('result')",
    "args",
    "where",
];

fn probes() -> String {
    PROBES.iter().map(|p| format!("{p}\n")).collect()
}

/// One stop of a forward run under `step`.
#[derive(Debug, Clone)]
struct Stop {
    tick: u64,
    /// The first stop at its tick: the line event (others are --Call--, --Return--, exceptions).
    line: bool,
    place: String,
    /// The answers to PROBES.
    probes: Vec<String>,
    /// Identities of the frames on the stack, oldest first (a new one at each --Call--).
    frames: Vec<u64>,
}

/// Records a forward run: `step` until the program exits, with `tick` and the probes at every
/// stop.
fn record(program: &str, steps: usize) -> Vec<Stop> {
    let mut commands = format!("tick\n{}", probes());
    for _ in 0..steps {
        commands.push_str(&format!("s\ntick\n{}", probes()));
    }
    commands.push_str("q\n");
    let t = session(&commands, &[program]);
    let answers = responses(&t);
    let mut stops: Vec<Stop> = Vec::new();
    let mut frames: Vec<u64> = Vec::new();
    let mut next_frame = 0;
    let per_stop = 2 + PROBES.len();
    let mut i = 0;
    let mut last_tick = 0;
    while i + per_stop <= answers.len() {
        let block = &answers[i].1;
        if block.contains("The program exited") || answers[i + 1].0 != "tick" {
            break;
        }
        let tick = parse_tick(&answers[i + 1].1);
        let probes: Vec<String> = answers[i + 2..i + per_stop]
            .iter()
            .map(|(_, out)| out.clone())
            .collect();
        let depth = probes
            .last()
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-> "))
            .count();
        if block.lines().any(|l| l == "--Call--") {
            frames.truncate(depth.saturating_sub(1));
        } else {
            frames.truncate(depth);
        }
        while frames.len() < depth {
            next_frame += 1;
            frames.push(next_frame);
        }
        stops.push(Stop {
            tick,
            line: tick > last_tick,
            place: place(block),
            probes,
            frames: frames.clone(),
        });
        last_tick = last_tick.max(tick);
        i += per_stop;
    }
    assert!(
        t.contains("The program exited with code 0."),
        "the forward run did not reach the end in {steps} steps:\n{t}"
    );
    // Every tick is a line event that `step` stops at.
    let line_ticks: Vec<u64> = stops.iter().filter(|s| s.line).map(|s| s.tick).collect();
    let expected: Vec<u64> = (1..=line_ticks.len() as u64).collect();
    assert_eq!(line_ticks, expected, "{t}");
    stops
}

/// The line stop of each tick.
fn by_tick(stops: &[Stop]) -> BTreeMap<u64, &Stop> {
    stops
        .iter()
        .filter(|s| s.line)
        .map(|s| (s.tick, s))
        .collect()
}

/// Visiting the ticks of a run with loops, recursion and exceptions in a shuffled order, backward
/// and forward: at each, `p` of several expressions, `args` and `where` print what the forward
/// run printed there, and `goto` shows the same line.
#[test]
fn goto_revisits_every_tick_with_the_state_the_forward_run_had() {
    let stops = record("travel_mix.py", 160);
    let lines = by_tick(&stops);
    let mut order: Vec<u64> = lines.keys().copied().collect();
    Rng(0x5EED_1234_ABCD_0001).shuffle(&mut order);
    let mut commands = String::new();
    for tick in &order {
        commands.push_str(&format!("goto {tick}\ntick\n{}", probes()));
    }
    let t = session(&commands, &["travel_mix.py"]);
    let answers = responses(&t);
    let per_visit = 2 + PROBES.len();
    assert_eq!(answers.len(), 1 + per_visit * order.len(), "{t}");
    let mut backward = 0;
    let mut previous = u64::MAX;
    for (n, tick) in order.iter().enumerate() {
        let at = 1 + n * per_visit;
        let expected = lines[tick];
        assert_eq!(answers[at].0, format!("goto {tick}"));
        assert_eq!(place(&answers[at].1), expected.place, "goto {tick}:\n{t}");
        assert_eq!(parse_tick(&answers[at + 1].1), *tick, "goto {tick}:\n{t}");
        for (k, probe) in PROBES.iter().enumerate() {
            assert_eq!(
                answers[at + 2 + k].1,
                expected.probes[k],
                "`{probe}` after goto {tick} differs from the forward run"
            );
        }
        backward += usize::from(*tick < previous);
        previous = *tick;
    }
    // The shuffle really went both ways, many times.
    assert!(backward > order.len() / 4 && backward < order.len() * 3 / 4);
}

// =================================================================================================
// 2. rstep, rnext, rreturn, rcontinue: the mirror of the forward commands
// =================================================================================================

/// From every tick: `rstep` lands on the line event just before (same line, same stack as the
/// forward run there), and `step` from there stops exactly where `step` stopped in the forward
/// run (back then forward == forward).
#[test]
fn rstep_goes_to_the_previous_tick_and_step_comes_back() {
    let stops = record("travel_mix.py", 160);
    let lines = by_tick(&stops);
    let mut targets: Vec<u64> = lines.keys().copied().filter(|t| *t > 1).collect();
    Rng(0x0BAC_4F0F_0AAD_0002).shuffle(&mut targets);
    let mut commands = String::new();
    for tick in &targets {
        commands.push_str(&format!("goto {tick}\nrstep\ntick\nwhere\ns\ntick\n"));
    }
    let t = session(&commands, &["travel_mix.py"]);
    let answers = responses(&t);
    assert_eq!(answers.len(), 1 + 6 * targets.len(), "{t}");
    for (n, tick) in targets.iter().enumerate() {
        let at = 1 + n * 6;
        let before = lines[&(tick - 1)];
        assert_eq!(
            place(&answers[at + 1].1),
            before.place,
            "rstep from tick {tick}:\n{t}"
        );
        assert_eq!(
            parse_tick(&answers[at + 2].1),
            tick - 1,
            "rstep from {tick}"
        );
        assert_eq!(
            answers[at + 3].1,
            before.probes[PROBES.len() - 1],
            "where after rstep from {tick}"
        );
        // The forward run's stop right after the line stop of tick - 1.
        let index = stops
            .iter()
            .position(|s| s.line && s.tick == tick - 1)
            .unwrap();
        let next = &stops[index + 1];
        assert_eq!(
            place(&answers[at + 4].1),
            next.place,
            "step after rstep from tick {tick}:\n{t}"
        );
        assert_eq!(
            parse_tick(&answers[at + 5].1),
            next.tick,
            "step after rstep from {tick}"
        );
    }
}

/// The expected landing of `rnext` (previous line of the same frame, over the calls it made; at
/// the frame's first line, the caller's line that called it) or `rreturn` (the caller's line,
/// before the call) from every line tick of a forward run, computed from that run.
fn backward_expectations(lines: &BTreeMap<u64, &Stop>, command: &str) -> Vec<(u64, u64)> {
    // The last line tick before `tick` run by the frame `frame`.
    let last_in = |frame: u64, tick: u64| -> Option<u64> {
        lines
            .values()
            .filter(|s| s.tick < tick && s.frames.last() == Some(&frame))
            .map(|s| s.tick)
            .max()
    };
    let mut expectations = Vec::new();
    for s in lines.values().filter(|s| s.tick > 1) {
        let own = *s.frames.last().unwrap();
        let caller = s.frames.len().checked_sub(2).map(|i| s.frames[i]);
        let target = match command {
            "rnext" => last_in(own, s.tick).or_else(|| caller.and_then(|c| last_in(c, s.tick))),
            _ => caller.and_then(|c| last_in(c, s.tick)),
        };
        if let Some(target) = target {
            expectations.push((s.tick, target));
        }
    }
    expectations
}

/// Runs `command` from each tick of `expectations` and checks the landing line, tick and stack.
fn check_backward(command: &str, seed: u64) {
    let stops = record("travel_mix.py", 160);
    let lines = by_tick(&stops);
    let mut expectations = backward_expectations(&lines, command);
    assert!(expectations.len() > 30, "{expectations:?}");
    Rng(seed).shuffle(&mut expectations);
    let mut commands = String::new();
    for (from, _) in &expectations {
        commands.push_str(&format!("goto {from}\n{command}\ntick\nwhere\n"));
    }
    let t = session(&commands, &["travel_mix.py"]);
    let answers = responses(&t);
    assert_eq!(answers.len(), 1 + 4 * expectations.len(), "{t}");
    for (n, (from, target)) in expectations.iter().enumerate() {
        let at = 1 + n * 4;
        let expected = lines[target];
        assert_eq!(
            (place(&answers[at + 1].1), parse_tick(&answers[at + 2].1)),
            (expected.place.clone(), *target),
            "{command} from tick {from}:\n{t}"
        );
        assert_eq!(
            answers[at + 3].1,
            expected.probes[PROBES.len() - 1],
            "where after {command} from tick {from}"
        );
    }
}

/// From every tick: `rnext` lands on the previous line of the same frame, over the calls it
/// made (across loop iterations, over calls that raised), or at the frame's first line on the
/// caller's line that called it.
#[test]
fn rnext_lands_where_the_forward_run_says() {
    check_backward("rnext", 0x00E7_0000_0000_0003);
}

/// From every tick in a function: `rreturn` lands on the caller's line, before the call.
#[test]
fn rreturn_lands_where_the_forward_run_says() {
    check_backward("rreturn", 0x00E7_0000_0000_0004);
}

/// gdb-with-rr habits, spelled out: rstep at a function's first line goes back out to the call;
/// `step` goes in again through --Call--.
#[test]
fn rstep_from_a_functions_first_line_goes_to_the_call() {
    let t = session("b 12\nc\nrstep\nwhere\ns\ns\ntick\n", &["travel_mix.py"]);
    assert_transcript(
        &t,
        r#"
> $DIR/travel_mix.py(1)<module>()
-> """Loops, recursion and exceptions, for going back and forth in time."""
(sleepy) b 12
Breakpoint 1 at $DIR/travel_mix.py:12
(sleepy) c
> $DIR/travel_mix.py(12)risky()
-> if x % 3 == 0:
(sleepy) rstep
> $DIR/travel_mix.py(22)main()
-> value = risky(i)
(sleepy) where
  $DIR/travel_mix.py(35)<module>()
-> result = main()
> $DIR/travel_mix.py(22)main()
-> value = risky(i)
(sleepy) s
--Call--
> $DIR/travel_mix.py(11)risky()
-> def risky(x):
(sleepy) s
> $DIR/travel_mix.py(12)risky()
-> if x % 3 == 0:
(sleepy) tick
tick 11
"#,
    );
}

/// rstep right after a call returned goes back into the callee, on its last line, with its
/// locals; `step` then shows the --Return-- again and comes back. rnext from there steps back
/// over the call, then through the loop header to the line before the loop.
#[test]
fn rstep_after_a_return_goes_back_into_the_callee_and_rnext_steps_over_it() {
    let t = session(
        "b 26\nc\nrstep\np x\ns\ns\ntick\nrnext\np value\nrnext\nrnext\nrnext\np i\n",
        &["travel_mix.py"],
    );
    assert_transcript(
        &t,
        r#"
> $DIR/travel_mix.py(1)<module>()
-> """Loops, recursion and exceptions, for going back and forth in time."""
(sleepy) b 26
Breakpoint 1 at $DIR/travel_mix.py:26
(sleepy) c
> $DIR/travel_mix.py(26)main()
-> total += value
(sleepy) rstep
> $DIR/travel_mix.py(14)risky()
-> return x * 2
(sleepy) p x
1
(sleepy) s
--Return--
> $DIR/travel_mix.py(14)risky()->2
-> return x * 2
(sleepy) s
> $DIR/travel_mix.py(26)main()
-> total += value
(sleepy) tick
tick 13
(sleepy) rnext
> $DIR/travel_mix.py(22)main()
-> value = risky(i)
(sleepy) p value
*** NameError: name 'value' is not defined
(sleepy) rnext
> $DIR/travel_mix.py(21)main()
-> try:
(sleepy) rnext
> $DIR/travel_mix.py(20)main()
-> for i in range(1, 7):
(sleepy) rnext
> $DIR/travel_mix.py(19)main()
-> log = []
(sleepy) p i
*** NameError: name 'i' is not defined
"#,
    );
}

/// rnext across loop iterations: from the top of the second iteration's body, back through the
/// loop header to the last line of the first iteration, with that iteration's values.
#[test]
fn rnext_goes_back_across_loop_iterations() {
    let t = session(
        "b 22, i == 2\nc\nrnext\np i, total\nrnext\np i, total\nrnext\np i, total, value\n",
        &["travel_mix.py"],
    );
    for expected in [
        "(sleepy) rnext\n> $DIR/travel_mix.py(21)main()\n-> try:\n(sleepy) p i, total\n(2, 2)\n",
        "(sleepy) rnext\n> $DIR/travel_mix.py(20)main()\n-> for i in range(1, 7):\n(sleepy) p i, total\n(1, 2)\n",
        "(sleepy) rnext\n> $DIR/travel_mix.py(26)main()\n-> total += value\n(sleepy) p i, total, value\n(1, 0, 2)\n",
    ] {
        assert!(t.contains(expected), "missing:\n{expected}\nin:\n{t}");
    }
}

/// rnext at a function's first line goes to the caller's line that called it.
#[test]
fn rnext_at_a_functions_first_line_goes_to_the_caller() {
    let t = session("b 5\nc\np n\nrnext\nwhere\np k\n", &["travel_mix.py"]);
    assert!(
        t.contains(
            "(sleepy) rnext\n> $DIR/travel_mix.py(29)main()\n-> total += fact(k + 2)\n\
             (sleepy) where\n  $DIR/travel_mix.py(35)<module>()\n-> result = main()\n\
             > $DIR/travel_mix.py(29)main()\n-> total += fact(k + 2)\n(sleepy) p k\n0\n"
        ),
        "{t}"
    );
}

/// rreturn goes back to the caller's line, before the call, one level at a time through a
/// recursion; with an older frame selected (`up`), to that frame's caller.
#[test]
fn rreturn_goes_to_the_callers_line_before_the_call() {
    let t = session(
        "b 6\nc\nrreturn\np n, 'sub' in locals()\nrreturn\np k, total\nrreturn\np 'result' in globals()\n",
        &["travel_mix.py"],
    );
    assert_transcript(
        &t,
        r#"
> $DIR/travel_mix.py(1)<module>()
-> """Loops, recursion and exceptions, for going back and forth in time."""
(sleepy) b 6
Breakpoint 1 at $DIR/travel_mix.py:6
(sleepy) c
> $DIR/travel_mix.py(6)fact()
-> return 1
(sleepy) rreturn
> $DIR/travel_mix.py(7)fact()
-> sub = fact(n - 1)
(sleepy) p n, 'sub' in locals()
(2, False)
(sleepy) rreturn
> $DIR/travel_mix.py(29)main()
-> total += fact(k + 2)
(sleepy) p k, total
(0, 15)
(sleepy) rreturn
> $DIR/travel_mix.py(35)<module>()
-> result = main()
(sleepy) p 'result' in globals()
False
"#,
    );
    let t = session("b 6\nc\nup\nrreturn\nwhere\n", &["travel_mix.py"]);
    assert!(
        t.contains(
            "(sleepy) rreturn\n> $DIR/travel_mix.py(29)main()\n-> total += fact(k + 2)\n(sleepy) where\n  \
             $DIR/travel_mix.py(35)<module>()\n-> result = main()\n> $DIR/travel_mix.py(29)main()\n"
        ),
        "{t}"
    );
}

/// Inside an except handler, rstep goes back to the `except` line, then to the line that raised
/// (in the callee); rnext from the handler steps back over the raising call.
#[test]
fn rstep_in_an_except_handler_goes_back_to_the_raising_line() {
    let t = session(
        "b 24\nc\nrstep\nrstep\nwhere\np x\ncl 1\nb 24\nc\nrnext\nrnext\np i\n",
        &["travel_mix.py"],
    );
    assert!(
        t.contains(
            "(sleepy) rstep\n> $DIR/travel_mix.py(23)main()\n-> except ValueError as err:\n\
             (sleepy) rstep\n> $DIR/travel_mix.py(13)risky()\n-> raise ValueError(x)\n\
             (sleepy) where\n  $DIR/travel_mix.py(35)<module>()\n-> result = main()\n  \
             $DIR/travel_mix.py(22)main()\n-> value = risky(i)\n> $DIR/travel_mix.py(13)risky()\n\
             -> raise ValueError(x)\n(sleepy) p x\n3\n"
        ),
        "{t}"
    );
    // From the raising line, `c` runs forward to the breakpoint at the handler again (i == 3),
    // then rnext goes to the except line and over the call that raised.
    assert!(
        t.contains(
            "(sleepy) rnext\n> $DIR/travel_mix.py(23)main()\n-> except ValueError as err:\n\
             (sleepy) rnext\n> $DIR/travel_mix.py(22)main()\n-> value = risky(i)\n(sleepy) p i\n3\n"
        ),
        "{t}"
    );
}

/// rcontinue goes back to the previous hits of a breakpoint set after the program passed it,
/// each time with the state of that hit.
#[test]
fn rcontinue_goes_back_to_earlier_hits_of_a_breakpoint() {
    let t = session(
        "b 31\nc\nb 24\nrc\ntick\np i, log\nrc\ntick\np i, log\n",
        &["travel_mix.py"],
    );
    for expected in [
        "(sleepy) rc\n(back at breakpoint 2)\n> $DIR/travel_mix.py(24)main()\n-> value = -i\n\
         (sleepy) tick\ntick 47\n(sleepy) p i, log\n(6, ['3'])\n",
        "(sleepy) rc\n(back at breakpoint 2)\n> $DIR/travel_mix.py(24)main()\n-> value = -i\n\
         (sleepy) tick\ntick 26\n(sleepy) p i, log\n(3, [])\n",
    ] {
        assert!(t.contains(expected), "missing:\n{expected}\nin:\n{t}");
    }
}

/// rcontinue goes back to the previous stop at a breakpoint the program stopped at (the mirror
/// of `continue`), however many times in a row.
#[test]
fn rcontinue_goes_back_to_the_previous_breakpoint_stop() {
    let t = session(
        "b 12\nc\nc\nc\ntick\np x\nrc\ntick\np x\nrc\ntick\np x\n",
        &["travel_mix.py"],
    );
    assert_eq!(ticks(&t), vec![23, 17, 11], "{t}");
    assert!(
        t.contains("(sleepy) rc\n(back at breakpoint 1)\n> $DIR/travel_mix.py(12)risky()\n-> if x % 3 == 0:\n(sleepy) tick\ntick 17\n(sleepy) p x\n2\n"),
        "{t}"
    );
    assert!(
        t.contains("(sleepy) rc\n(back at breakpoint 1)\n> $DIR/travel_mix.py(12)risky()\n-> if x % 3 == 0:\n(sleepy) tick\ntick 11\n(sleepy) p x\n1\n"),
        "{t}"
    );
}

/// A breakpoint on a function stops at the function's first line, going back as going forward.
#[test]
fn rcontinue_to_a_function_breakpoint_stops_at_its_first_line() {
    let t = session(
        "b risky\nc\nc\nc\ntick\nrc\ntick\np x\n",
        &["travel_mix.py"],
    );
    assert!(
        t.contains("(sleepy) rc\n(back at breakpoint 1)\n> $DIR/travel_mix.py(12)risky()\n-> if x % 3 == 0:\n(sleepy) tick\ntick 17\n(sleepy) p x\n2\n"),
        "{t}"
    );
}

/// After going back to a stop at a function breakpoint, `continue` goes on to the next call.
#[test]
fn continue_after_going_back_to_a_function_breakpoint_goes_to_the_next_call() {
    let t = session("b risky\nc\nn\ngoto 11\nc\ntick\np x\n", &["travel_mix.py"]);
    assert!(
        t.contains("(sleepy) c\n> $DIR/travel_mix.py(12)risky()\n-> if x % 3 == 0:\n(sleepy) tick\ntick 17\n(sleepy) p x\n2\n"),
        "{t}"
    );
}

/// With no breakpoint and no watch before now, rcontinue stops at the start of the run and says
/// so.
#[test]
fn rcontinue_with_nothing_before_goes_to_the_start_of_the_run() {
    let t = session("b 29\nc\nrc\ntick\nwhere\n", &["travel_mix.py"]);
    assert!(
        t.contains(
            "(sleepy) rc\n(no breakpoint stop or watch change before this point: at the start of the run)\n\
             > $DIR/travel_mix.py(1)<module>()\n-> \"\"\"Loops, recursion and exceptions, for going back and forth in time.\"\"\"\n\
             (sleepy) tick\ntick 1\n"
        ),
        "{t}"
    );
    // At the start itself there is nothing before.
    let t = session("rc\nrstep\n", &["travel_mix.py"]);
    assert_eq!(
        t.matches("*** At the start of the run: nothing before it\n")
            .count(),
        2,
        "{t}"
    );
}

// =================================================================================================
// 3. watch: forward, and backward from a crash
// =================================================================================================

const WATCH_CHANGE_AT_LINE_10: &str = "Watchpoint 1: stats[\"count\"] (going back: the next line changes it)\n\
     Old value = 3\nNew value = 0\n> $DIR/travel_watch.py(10)normalise()\n\
     -> stats[\"count\"] = stats[\"count\"] - 3\n";

/// At the post-mortem stop, after stepping back onto the raising line: watching the value in the
/// frame that owns it and running backward lands on the line that made it wrong, with the old
/// and new values.
#[test]
fn watch_going_back_from_a_crash_finds_the_line_that_made_the_value_wrong() {
    let t = session(
        "c\nrstep\nup\nwatch stats[\"count\"]\nrc\nwhere\np stats\n",
        &["travel_watch.py"],
    );
    assert!(t.contains("ZeroDivisionError: division by zero\n"), "{t}");
    assert!(
        t.contains("(sleepy) watch stats[\"count\"]\nWatchpoint 1: stats[\"count\"] = 0 (in this call of main)\n"),
        "{t}"
    );
    assert!(
        t.contains(&format!("(sleepy) rc\n{WATCH_CHANGE_AT_LINE_10}")),
        "{t}"
    );
    assert!(
        t.contains(
            "(sleepy) where\n  $DIR/travel_watch.py(36)<module>()\n-> main()\n  \
                    $DIR/travel_watch.py(28)main()\n-> stats = normalise(stats)\n> \
                    $DIR/travel_watch.py(10)normalise()\n"
        ),
        "{t}"
    );
    assert!(
        t.contains("(sleepy) p stats\n{'count': 3, 'sum': 24}\n"),
        "{t}"
    );
}

/// The same, with `watch EXPR in FUNC`: evaluated in every call of the function.
#[test]
fn watch_in_a_function_going_back_from_a_crash() {
    let t = session(
        "c\nrstep\nwatch stats[\"count\"] in normalise\nrc\ntick\n",
        &["travel_watch.py"],
    );
    assert!(
        t.contains("Watchpoint 1: stats[\"count\"] = (evaluated in each call) (in every call of normalise)\n"),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "(sleepy) rc\n{WATCH_CHANGE_AT_LINE_10}(sleepy) tick\ntick 13\n"
        )),
        "{t}"
    );
}

/// Right at the post-mortem stop (no step back first), `watch` then `rcontinue` finds the line.
#[test]
fn watch_and_rcontinue_straight_from_the_post_mortem_stop() {
    let t = session(
        "c\nup\nwatch stats[\"count\"]\nrc\ntick\n",
        &["travel_watch.py"],
    );
    assert!(
        t.contains(&format!(
            "(sleepy) rc\n{WATCH_CHANGE_AT_LINE_10}(sleepy) tick\ntick 13\n"
        )),
        "{t}"
    );
}

/// Forward: `continue` stops after the line that changed a watched value, old and new values
/// printed; a list that gains an item has changed.
#[test]
fn watch_forward_stops_after_the_changing_line() {
    let t = session(
        "b 28\nc\nwatch stats[\"count\"]\nwatch seen\ncl 1\nc\ntick\nc\nc\n",
        &["travel_watch.py"],
    );
    assert_transcript(
        &t,
        r#"
> $DIR/travel_watch.py(1)<module>()
-> """A value goes wrong long before the program crashes on it."""
(sleepy) b 28
Breakpoint 1 at $DIR/travel_watch.py:28
(sleepy) c
> $DIR/travel_watch.py(28)main()
-> stats = normalise(stats)
(sleepy) watch stats["count"]
Watchpoint 1: stats["count"] = 3 (in this call of main)
(sleepy) watch seen
Watchpoint 2: seen = [] (in this call of main)
(sleepy) cl 1
Deleted breakpoint 1 at $DIR/travel_watch.py:28
(sleepy) c
Watchpoint 1: stats["count"]
Old value = 3
New value = 0
> $DIR/travel_watch.py(11)normalise()
-> return stats
(sleepy) tick
tick 14
(sleepy) c
Watchpoint 2: seen
Old value = []
New value = ['normalised']
> $DIR/travel_watch.py(30)main()
-> text = describe(stats)
(sleepy) c
Watchpoint 2: seen
Old value = ['normalised']
New value = ['normalised', 'stats count sum']
> $DIR/travel_watch.py(32)main()
-> print(text)
"#,
    );
}

/// rcontinue walks back through the changes of a watched dict, one line each time.
#[test]
fn rcontinue_goes_back_to_the_last_change_of_a_watched_value() {
    let t = session("b 29\nc\nwatch stats\nrc\ntick\n", &["travel_watch.py"]);
    assert!(
        t.contains(
            "(sleepy) rc\nWatchpoint 1: stats (going back: the next line changes it)\n\
             Old value = {'count': 3, 'sum': 24}\nNew value = {'count': 0, 'sum': 24}\n\
             > $DIR/travel_watch.py(10)normalise()\n-> stats[\"count\"] = stats[\"count\"] - 3\n\
             (sleepy) tick\ntick 13\n"
        ),
        "{t}"
    );
}

/// ... and on back through every earlier change: the line just before the current position
/// included, and an assignment from a call (the change is made by the caller's line, not by the
/// callee's last line), then the start of the run.
#[test]
fn rcontinue_walks_back_through_every_change_of_a_watched_value() {
    let t = session(
        "b 29\nc\nwatch stats\nrc\nrc\nrc\ntick\nrc\ntick\n",
        &["travel_watch.py"],
    );
    let rcs: Vec<String> = responses(&t)
        .into_iter()
        .filter(|(c, _)| c == "rc")
        .map(|(_, out)| out)
        .collect();
    assert_eq!(rcs.len(), 4, "{t}");
    assert!(
        rcs[0].contains(
            "New value = {'count': 0, 'sum': 24}\n> $DIR/travel_watch.py(10)normalise()\n"
        ),
        "{t}"
    );
    assert!(
        rcs[1].contains("Old value = {'count': 3, 'sum': 12}\nNew value = {'count': 3, 'sum': 24}\n> $DIR/travel_watch.py(9)normalise()\n"),
        "{t}"
    );
    assert!(
        rcs[2].contains("New value = {'count': 3, 'sum': 12}\n> $DIR/travel_watch.py(26)main()\n-> stats = load()\n"),
        "{t}"
    );
    assert!(
        rcs[3].contains(
            "(no breakpoint stop or watch change before this point: at the start of the run)\n"
        ),
        "{t}"
    );
    assert_eq!(ticks(&t), vec![8, 1], "{t}");
}

/// After forward watch stops, rcontinue goes back to the change before (the mirror of continue).
#[test]
fn rcontinue_after_forward_watch_stops_goes_back_to_the_previous_change() {
    let t = session(
        "b 28\nc\nwatch seen\ncl 1\nc\nc\nrc\ntick\n",
        &["travel_watch.py"],
    );
    assert!(
        t.contains(
            "(sleepy) rc\nWatchpoint 1: seen (going back: the next line changes it)\n\
             Old value = ['normalised']\nNew value = ['normalised', 'stats count sum']\n\
             > $DIR/travel_watch.py(31)main()\n-> seen.append(text)\n"
        ),
        "{t}"
    );
}

/// sleepy's own notices come after the program's output that was printed before them, never in
/// the middle of one of its lines.
#[test]
fn a_watch_notice_does_not_cut_the_programs_output() {
    let sessions: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                session("b 19\nc\nwatch log\ncl 1\nc\nc\nc\nc\n", &["travel_mix.py"])
            })
        })
        .collect();
    for s in sessions {
        let t = s.join().unwrap();
        assert!(
            t.ends_with(
                "total 47 ['3', '6']\nsleepy: watchpoint 1: its frame has returned; it watches again if the \
                 frame is entered again at the same depth\ndone 47\nThe program exited with code 0.\n"
            ),
            "{t}"
        );
    }
}

// =================================================================================================
// 4. Output once, input once
// =================================================================================================

fn stdin_file(dir: &Path, text: &str) -> String {
    let path = dir.join("stdin.txt");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Going back and forward again neither repeats the program's output nor asks again for input
/// it read (the --stdin file holds each answer once); running past where the first run had
/// been prints the new output, once.
#[test]
fn output_appears_once_and_input_is_not_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    let input = stdin_file(dir.path(), "ada\n36\n");
    let t = session(
        "b 9\nc\ngoto 2\nc\np name, age\ngoto 4\nn\nn\nn\nn\np name, age\ncl 1\nc\n",
        &["--stdin", &input, "travel_io.py"],
    );
    for line in [
        "first line\n",
        "name? ada\n",
        "hello ada\n",
        "age? 36\n",
        "tick-tock 0\n",
        "tick-tock 2\n",
        "age next year 37\n",
        "last line\n",
    ] {
        assert_eq!(t.matches(line).count(), 1, "{line:?} in:\n{t}");
    }
    assert!(!t.contains("EOF"), "{t}");
    assert_eq!(answer(&t, "p name, age", 0), "('ada', 36)\n", "{t}");
    assert_eq!(answer(&t, "p name, age", 1), "('ada', 36)\n", "{t}");
    // The new output comes where the run first gets past the line that prints it.
    assert!(
        t.contains("(sleepy) c\nage next year 37\nlast line\nThe program exited with code 0.\n"),
        "{t}"
    );
}

/// A run stopped part-way, sent back, and then run further than before: what was printed before
/// is not printed again, what comes after is printed once.
#[test]
fn going_back_then_past_the_first_run_prints_the_new_output_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = stdin_file(dir.path(), "bob\n7\n");
    let t = session(
        "b 8\nc\nc\ngoto 3\nn\nn\nn\ncl 1\nc\n",
        &["--stdin", &input, "travel_io.py"],
    );
    assert!(
        t.contains("(sleepy) c\ntick-tock 0\n> $DIR/travel_io.py(8)<module>()\n"),
        "{t}"
    );
    for line in [
        "first line\n",
        "hello bob\n",
        "tick-tock 0\n",
        "tick-tock 1\n",
        "tick-tock 2\n",
        "age next year 8\n",
    ] {
        assert_eq!(t.matches(line).count(), 1, "{line:?} in:\n{t}");
    }
    assert!(
        t.contains("(sleepy) c\ntick-tock 1\ntick-tock 2\nage next year 8\nlast line\nThe program exited with code 0.\n"),
        "{t}"
    );
}

// =================================================================================================
// 5. Determinism of what the program reads
// =================================================================================================

const INPUTS: &str = "p wall, mono, rand, noise, content, after";

/// Clocks, randomness seeded by the OS, os.urandom and a file the program rewrites after reading
/// it: going back and forward gives the values of the first visit, at the end and in between.
#[test]
fn clocks_randomness_and_files_replay_the_values_of_the_first_visit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        programs().join("travel_inputs.py"),
        dir.path().join("travel_inputs.py"),
    )
    .unwrap();
    let end = "b 19\nc\ntick\n";
    let t = session_in(
        dir.path(),
        &format!(
            "{end}{INPUTS}\ngoto 10\np wall\ngoto 1\ngoto 22\n{INPUTS}\ngoto 12\nn\np noise\n\
             goto 14\nn\np content\ngoto 3\ngoto 20\nn\np after\ngoto 22\n{INPUTS}\ncl 1\nc\n"
        ),
        &["travel_inputs.py"],
    );
    assert_eq!(ticks(&t), vec![22], "{t}");
    let first = answer(&t, INPUTS, 0);
    assert!(first.contains("'first\\n', 'second\\n')"), "{t}");
    assert_eq!(answer(&t, INPUTS, 1), first, "{t}");
    assert_eq!(answer(&t, INPUTS, 2), first, "{t}");
    let values: Vec<&str> = first
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(", ")
        .collect();
    assert_eq!(values.len(), 6, "{first}");
    assert_eq!(answer(&t, "p wall", 0).trim(), values[0], "{t}");
    assert_eq!(answer(&t, "p noise", 0).trim(), values[3], "{t}");
    assert_eq!(answer(&t, "p content", 0).trim(), values[4], "{t}");
    assert_eq!(answer(&t, "p after", 0).trim(), values[5], "{t}");
    assert_eq!(t.matches("read first second\n").count(), 1, "{t}");
    assert!(
        t.ends_with("read first second\nThe program exited with code 0.\n"),
        "{t}"
    );
}

/// The program reads a file, then deletes it: going back before the read and stepping over it
/// gives the content it read the first time.
#[test]
fn a_file_the_program_deleted_reads_the_same_after_going_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        programs().join("travel_deleted.py"),
        dir.path().join("travel_deleted.py"),
    )
    .unwrap();
    let t = session_in(
        dir.path(),
        "b 5\nc\ncl 1\nc\ngoto 6\nn\nn\np data\nc\n",
        &["travel_deleted.py"],
    );
    assert!(!t.contains("FileNotFoundError"), "{t}");
    assert!(t.contains("(sleepy) p data\n'saved'\n"), "{t}");
    assert_eq!(t.matches("saved\n").count(), 1, "{t}");
}

// =================================================================================================
// 6. Changing the past
// =================================================================================================

const DROPPED: &str =
    "sleepy: the program's state was changed at tick 20: the recorded future after it is dropped (";

/// Going back and assigning a variable drops the recorded future (and says so); running on
/// makes a new one that reflects the change, and goto into the dropped future runs the new
/// timeline.
#[test]
fn changing_the_past_drops_the_recorded_future_and_runs_a_new_one() {
    let t = session(
        "b 31\nc\np total\ngoto 20\np i, total\n!total = 99\ngoto 40\np i, total\ngoto 86\np total\ncl 1\nc\n",
        &["travel_mix.py"],
    );
    assert!(t.contains("(sleepy) p total\n47\n"), "{t}");
    assert!(
        t.contains("(sleepy) p i, total\n(2, 6)\n(sleepy) !total = 99\n"),
        "{t}"
    );
    assert!(t.contains(DROPPED), "{t}");
    assert!(t.contains("); running on makes a new one\n"), "{t}");
    // The original run had (5, 11) at tick 40.
    assert!(t.contains("(sleepy) goto 40\n> $DIR/travel_mix.py(26)main()\n-> total += value\n(sleepy) p i, total\n(5, 104)\n"), "{t}");
    assert!(
        t.contains("(sleepy) goto 86\n> $DIR/travel_mix.py(31)main()\n"),
        "{t}"
    );
    assert!(t.contains("(sleepy) p total\n140\n"), "{t}");
    assert!(
        t.ends_with(
            "(sleepy) c\ntotal 140 ['3', '6']\ndone 140\nThe program exited with code 0.\n"
        ),
        "{t}"
    );
    assert!(!t.contains("total 47"), "{t}");
}

/// The same with `jump`: skipping a line in the past changes everything after it.
#[test]
fn a_jump_in_the_past_makes_a_new_future() {
    let t = session(
        "b 31\nc\ngoto 60\np k, total\njump 30\ncl 1\nc\n",
        &["travel_mix.py"],
    );
    assert!(
        t.contains("(sleepy) p k, total\n(1, 17)\n(sleepy) jump 30\n"),
        "{t}"
    );
    assert!(t.contains("sleepy: the program's state was changed at tick 60: the recorded future after it is dropped ("), "{t}");
    assert!(
        t.ends_with("total 41 ['3', '6']\ndone 41\nThe program exited with code 0.\n"),
        "{t}"
    );
}

/// After the new timeline has been run, any of its ticks can be visited again.
#[test]
fn the_new_timeline_can_be_revisited() {
    let t = session(
        "b 31\nc\ngoto 20\n!total = 99\nc\np total\ngoto 40\np i, total\n",
        &["travel_mix.py"],
    );
    assert!(t.contains("(sleepy) p total\n140\n"), "{t}");
    assert!(
        t.contains("(sleepy) goto 40\n> $DIR/travel_mix.py(26)main()\n-> total += value\n(sleepy) p i, total\n(5, 104)\n"),
        "{t}"
    );
}

/// A change at a stop that is not at a line (here a --Call--) starts the new timeline at the
/// next line event, and that one can be visited too.
#[test]
fn a_timeline_changed_at_a_call_can_be_revisited() {
    let t = session(
        "b 22\nc\ns\n!x = 3\ncl\nc\ngoto 11\np x\n",
        &["travel_mix.py"],
    );
    assert!(t.contains("total 44 ['3', '3', '6']\n"), "{t}");
    assert!(
        t.contains("(sleepy) goto 11\n> $DIR/travel_mix.py(12)risky()\n-> if x % 3 == 0:\n(sleepy) p x\n3\n"),
        "{t}"
    );
}

// =================================================================================================
// 7. Limits: threads, processes, --no-time-travel
// =================================================================================================

const BACKWARD: &[&str] = &[
    "rstep",
    "rnext",
    "rreturn",
    "rcontinue",
    "goto 2",
    "restore 1",
    "checkpoint",
];

/// A program that starts a thread: a clear message when it happens, backward commands refused
/// with the reason, forward debugging (next, p, watch) goes on, nothing hangs.
#[test]
fn a_thread_turns_time_travel_off_with_a_message() {
    let mut commands = String::from("b 13\nc\nrstep\nn\nn\n");
    for c in BACKWARD {
        commands.push_str(&format!("{c}\n"));
    }
    commands.push_str("checkpoints\nwatch after\nn\np before\nc\nunwatch\nc\n");
    let t = session(&commands, &["travel_thread.py"]);
    // Before the thread starts, time travel works.
    assert!(
        t.contains("(sleepy) rstep\n> $DIR/travel_thread.py(12)<module>()\n"),
        "{t}"
    );
    assert!(
        t.contains("(sleepy) n\nsleepy: time travel is off for the rest of this run: the program started a thread (sleepy records one thread of one process); forward debugging goes on\n> $DIR/travel_thread.py(14)<module>()\n"),
        "{t}"
    );
    for c in BACKWARD {
        let out = last_answer(&t, c);
        let expected = match *c {
            "checkpoint" => "*** time travel is off",
            _ => "*** time travel is off for the rest of this run: the program started a thread\n",
        };
        assert!(out.starts_with(expected), "{c}: {out}\n{t}");
    }
    assert_eq!(
        answer(&t, "checkpoints", 0),
        "time travel is off for the rest of this run: the program started a thread\n"
    );
    assert_eq!(answer(&t, "p before", 0), "0\n", "{t}");
    assert!(t.contains("Watchpoint 1: after\nOld value = ** raised NameError: name 'after' is not defined **\nNew value = 1\n"), "{t}");
    assert!(
        t.ends_with("results [49] 0 1\nThe program exited with code 0.\n"),
        "{t}"
    );
}

/// Even when the program runs to its end after starting a thread (or a process), backward
/// commands then say that time travel is off, and the program's output is not run again.
#[test]
fn a_thread_seen_only_while_running_still_turns_time_travel_off() {
    let t = session("c\ngoto 2\nc\n", &["travel_thread.py"]);
    assert!(
        t.contains("time travel is off for the rest of this run: the program started a thread"),
        "{t}"
    );
    assert_eq!(t.matches("results [49] 0 1\n").count(), 1, "{t}");
    let t = session("c\nrstep\nc\n", &["travel_fork.py"]);
    assert!(
        t.contains("time travel is off for the rest of this run: the program started a process"),
        "{t}"
    );
    assert_eq!(t.matches("child 5\n").count(), 1, "{t}");
    assert_eq!(t.matches("parent 2 3\n").count(), 1, "{t}");
}

/// A program that calls subprocess: the same.
#[test]
fn a_subprocess_turns_time_travel_off_with_a_message() {
    let t = session(
        "b 7\nc\nrstep\np answer\ngoto 1\nn\np answer\nc\n",
        &["travel_subprocess.py"],
    );
    assert!(
        t.contains("sleepy: time travel is off for the rest of this run: the program started a process (sleepy records one thread of one process); forward debugging goes on\n"),
        "{t}"
    );
    assert_eq!(
        answer(&t, "rstep", 0),
        "*** time travel is off for the rest of this run: the program started a process\n"
    );
    assert_eq!(
        answer(&t, "goto 1", 0),
        "*** time travel is off for the rest of this run: the program started a process\n"
    );
    assert_eq!(answer(&t, "p answer", 1), "'42'\n", "{t}");
    assert!(
        t.ends_with("answer 42 2\nThe program exited with code 0.\n"),
        "{t}"
    );
}

/// A program that calls os.fork (the child runs a few lines of its own): the same.
#[test]
fn os_fork_turns_time_travel_off_with_a_message() {
    let t = session("b 12\nc\nrstep\nrc\nn\np x\nc\n", &["travel_fork.py"]);
    assert!(t.contains("child 5\n"), "{t}");
    assert!(
        t.contains("sleepy: time travel is off for the rest of this run: the program started a process (sleepy records one thread of one process); forward debugging goes on\n"),
        "{t}"
    );
    assert_eq!(
        answer(&t, "rstep", 0),
        "*** time travel is off for the rest of this run: the program started a process\n"
    );
    assert_eq!(
        answer(&t, "rc", 0),
        "*** time travel is off for the rest of this run: the program started a process\n"
    );
    assert_eq!(answer(&t, "p x", 0), "2\n", "{t}");
    assert!(
        t.ends_with("parent 2 3\nThe program exited with code 0.\n"),
        "{t}"
    );
    assert_eq!(t.matches("child 5\n").count(), 1, "{t}");
}

/// --no-time-travel: every backward command says time travel is off for the session; forward
/// commands and watches work.
#[test]
fn no_time_travel_makes_backward_commands_say_so() {
    let mut commands = String::from("b 26\nc\n");
    for c in BACKWARD {
        commands.push_str(&format!("{c}\n"));
    }
    commands.push_str("checkpoints\ntick\nwatch total\ncl 1\nc\nunwatch\nc\n");
    let t = session(&commands, &["--no-time-travel", "travel_mix.py"]);
    for c in BACKWARD {
        assert_eq!(
            answer(&t, c, 0),
            "*** time travel is off for this session (--no-time-travel)\n",
            "{c}:\n{t}"
        );
    }
    assert_eq!(
        answer(&t, "checkpoints", 0),
        "time travel is off for this session (--no-time-travel)\n"
    );
    assert_eq!(ticks(&t), vec![13], "{t}");
    assert!(
        t.contains("Watchpoint 1: total\nOld value = 0\nNew value = 2\n"),
        "{t}"
    );
    assert!(
        t.ends_with("done 47\nThe program exited with code 0.\n"),
        "{t}"
    );
}

// =================================================================================================
// 8. The checkpoint budget
// =================================================================================================

/// The rows of a `checkpoints` listing: (number, tick, memory in MB).
fn checkpoint_rows(listing: &str) -> Vec<(u32, u64, f64)> {
    listing
        .lines()
        .skip_while(|l| !l.starts_with("Num "))
        .skip(1)
        .take_while(|l| !l.contains("of their own memory"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // An unmeasured checkpoint shows "?".
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap_or(0.0),
            )
        })
        .collect()
}

/// The summary line: (count, total MB, budget count, budget MB).
fn checkpoint_summary(listing: &str) -> (usize, f64, usize, f64) {
    let line = listing
        .lines()
        .find(|l| l.contains("of their own memory"))
        .unwrap_or_else(|| panic!("no summary in {listing}"));
    let numbers: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|s| !s.is_empty() && *s != ".")
        .map(|s| s.parse().unwrap())
        .collect();
    (
        numbers[0] as usize,
        numbers[1],
        numbers[2] as usize,
        numbers[3],
    )
}

/// A run of millions of ticks with --checkpoint-max 8 keeps at most 8 checkpoints, the first
/// (the start of the run) among them, and going back still works.
#[test]
fn checkpoints_stay_within_the_count_budget() {
    let t = session(
        "b 15\nc\ntick\ncheckpoints\np value\ngoto 1000000\np i\ngoto 3000001\np i\n",
        &[
            "--checkpoint-max",
            "8",
            "--checkpoint-interval",
            "5",
            "travel_long.py",
            "1000000",
        ],
    );
    assert_eq!(ticks(&t), vec![4_000_010], "{t}");
    let listing = answer(&t, "checkpoints", 0);
    let rows = checkpoint_rows(&listing);
    assert!((2..=8).contains(&rows.len()), "{listing}");
    assert_eq!(rows[0].1, 1, "the start of the run is kept: {listing}");
    let (count, _, max_count, _) = checkpoint_summary(&listing);
    assert_eq!((count, max_count), (rows.len(), 8), "{listing}");
    // 8 ticks before the loop, then 4 per round (while, value =, step's return, i += 1):
    // tick 1000000 is `i += 1` of round 249997, tick 3000001 the `while` of round 749998.
    assert!(
        t.contains("(sleepy) goto 1000000\n> $DIR/travel_long.py(14)main()\n"),
        "{t}"
    );
    assert_eq!(answer(&t, "p i", 0), "249997\n", "{t}");
    assert_eq!(answer(&t, "p i", 1), "749998\n", "{t}");
}

/// --checkpoint-memory bounds the memory the checkpoints hold (each holds its own copy of the
/// megabytes the program rewrites); measured checkpoints over the budget are given up.
#[test]
fn checkpoints_stay_within_the_memory_budget() {
    let t = session(
        "b 12\nc\np __import__('time').sleep(1.5)\ncheckpoints\n",
        &[
            "--checkpoint-memory",
            "16",
            "--checkpoint-interval",
            "5",
            "travel_memory.py",
            "300",
        ],
    );
    let listing = answer(&t, "checkpoints", 0);
    let rows = checkpoint_rows(&listing);
    let (count, total, _, budget) = checkpoint_summary(&listing);
    assert_eq!(budget, 16.0, "{listing}");
    assert_eq!(count, rows.len(), "{listing}");
    assert_eq!(rows[0].1, 1, "the start of the run is kept: {listing}");
    assert!(total <= budget, "{listing}");
    let sum: f64 = rows.iter().map(|r| r.2).sum();
    assert!((sum - total).abs() < 0.1 * rows.len() as f64, "{listing}");
    // The program rewrote 4 MB some hundred times: more than the budget was taken.
    assert!(rows.iter().filter(|r| r.2 >= 3.0).count() >= 2, "{listing}");
}

/// The listing never shows more memory than the budget, even right after the program stopped.
#[test]
fn the_checkpoint_listing_is_within_the_memory_budget_at_once() {
    for _ in 0..3 {
        let t = session(
            "b 12\nc\ncheckpoints\n",
            &[
                "--checkpoint-memory",
                "16",
                "--checkpoint-interval",
                "5",
                "travel_memory.py",
                "300",
            ],
        );
        let listing = answer(&t, "checkpoints", 0);
        let (_, total, _, budget) = checkpoint_summary(&listing);
        assert!(total <= budget, "{listing}");
    }
}

// =================================================================================================
// 9. No process outlives the session
// =================================================================================================

/// SIGKILL the front end while the program runs and checkpoints exist: every agent process
/// (the program and its checkpoints) goes too.
#[test]
fn no_agent_outlives_a_killed_front_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        programs().join("travel_long.py"),
        dir.path().join("travel_long.py"),
    )
    .unwrap();
    let mut cmd = sleepy();
    cmd.current_dir(dir.path())
        .args([
            "--batch",
            "-",
            "--checkpoint-interval",
            "10",
            "travel_long.py",
            "100000000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    use std::io::Write;
    stdin.write_all(b"c\n").unwrap();
    // Wait for the program and a few checkpoints.
    let start = Instant::now();
    while agents_in(dir.path()).len() < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no checkpoints appeared: {:?}",
            agents_in(dir.path())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = agents_in(dir.path());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(stdin);
    let start = Instant::now();
    let mut left = agents_in(dir.path());
    while !left.is_empty() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
        left = agents_in(dir.path());
    }
    for pid in &left {
        // Do not leave them running after a failure.
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(*pid as i32).unwrap(),
            rustix::process::Signal::KILL,
        );
    }
    assert!(
        left.is_empty(),
        "agents left after the front end died: {left:?} (of {before:?})"
    );
}

// =================================================================================================
// 10. From a post-mortem stop, and after the program finished
// =================================================================================================

/// From the post-mortem stop, rstep goes to the line that raised (its line event), with the
/// stack of the crash; rstep again goes on backward.
#[test]
fn rstep_from_a_post_mortem_stop_goes_to_the_raising_line() {
    let t = session(
        "c\nrstep\ntick\nwhere\nrstep\np stats\n",
        &["travel_watch.py"],
    );
    assert!(
        t.contains("Uncaught exception. Entering post mortem debugging\n"),
        "{t}"
    );
    assert!(
        t.contains(
            "(sleepy) rstep\n> $DIR/travel_watch.py(22)average()\n-> return stats[\"sum\"] / stats[\"count\"]\n\
             (sleepy) tick\ntick 27\n(sleepy) where\n  $DIR/travel_watch.py(36)<module>()\n-> main()\n  \
             $DIR/travel_watch.py(33)main()\n-> return average(stats)\n> $DIR/travel_watch.py(22)average()\n"
        ),
        "{t}"
    );
    assert!(
        t.contains("(sleepy) rstep\n> $DIR/travel_watch.py(33)main()\n-> return average(stats)\n(sleepy) p stats\n{'count': 0, 'sum': 24}\n"),
        "{t}"
    );
}

/// rnext and rreturn from the post-mortem stop answer (they land in the frame that raised and
/// in its caller) instead of hanging.
#[test]
fn rnext_and_rreturn_from_a_post_mortem_stop() {
    let t = session("c\nrnext\ntick\n", &["travel_watch.py"]);
    assert!(
        t.contains("(sleepy) rnext\n> $DIR/travel_watch.py(22)average()\n-> return stats[\"sum\"] / stats[\"count\"]\n(sleepy) tick\ntick 27\n"),
        "{t}"
    );
    let t = session("c\nrreturn\ntick\n", &["travel_watch.py"]);
    assert!(
        t.contains("(sleepy) rreturn\n> $DIR/travel_watch.py(33)main()\n-> return average(stats)\n(sleepy) tick\ntick 26\n"),
        "{t}"
    );
}

/// After "The program exited", goto goes back into the run; a tick past its end is refused
/// with the last tick.
#[test]
fn goto_after_the_program_exited() {
    let t = session(
        "c\ngoto 88\ntick\ngoto 89\ngoto 33\nwhere\np x\nc\n",
        &["travel_mix.py"],
    );
    assert!(t.contains("done 47\nThe program exited with code 0.\n(sleepy) goto 88\n> $DIR/travel_mix.py(36)<module>()\n-> print(\"done\", result)\n(sleepy) tick\ntick 88\n"), "{t}");
    assert_eq!(
        answer(&t, "goto 89", 0),
        "*** The run ends at tick 88: there is no tick 89\n"
    );
    assert!(
        t.contains("(sleepy) goto 33\n> $DIR/travel_mix.py(14)risky()\n-> return x * 2\n"),
        "{t}"
    );
    assert_eq!(answer(&t, "p x", 0), "4\n");
    assert_eq!(t.matches("done 47\n").count(), 1, "{t}");
    assert!(
        t.ends_with("(sleepy) c\nThe program exited with code 0.\n"),
        "{t}"
    );
}

/// At a post-mortem stop the run's end is known too: goto past it is refused the same way
/// (rather than replaying to the crash again).
#[test]
fn goto_past_the_end_from_a_post_mortem_stop() {
    let t = session("c\ngoto 200\n", &["travel_watch.py"]);
    assert_eq!(
        answer(&t, "goto 200", 0),
        "*** The run ends at tick 27: there is no tick 200\n",
        "{t}"
    );
}

/// Wrong arguments get a usage message and change nothing; goto to where the program is says so.
#[test]
fn travel_commands_with_wrong_arguments_say_why() {
    let t = session(
        "goto\ngoto x\ngoto -1\ngoto 1\nrestore\nrestore x\nwatch\nunwatch 5\ntick\n",
        &["travel_mix.py"],
    );
    for (command, expected) in [
        ("goto", "*** Usage: goto TICK\n"),
        ("goto x", "*** goto needs a tick number, not 'x'\n"),
        ("goto -1", "*** goto needs a tick number, not '-1'\n"),
        ("goto 1", "Already at tick 1\n"),
        ("restore", "*** Usage: restore N\n"),
        (
            "restore x",
            "*** restore needs a checkpoint number, not 'x'\n",
        ),
        ("watch", "*** Usage: watch EXPRESSION [in FUNCTION]\n"),
        ("unwatch 5", "*** No watchpoint 5\n"),
        ("tick", "tick 1\n"),
    ] {
        assert_eq!(answer(&t, command, 0), expected, "{command}:\n{t}");
    }
}

// =================================================================================================
// 11. restore N and checkpoint
// =================================================================================================

/// `restore N` goes to the tick `checkpoints` lists for N, at the line it lists; `checkpoint`
/// takes one at the current tick, which `checkpoints` then lists.
#[test]
fn restore_goes_to_the_listed_tick_and_checkpoint_takes_one() {
    let numbers = [3, 1, 4, 2];
    // (The pause lets the checkpoints of the last stops reach the list: see the test below.)
    let mut commands =
        String::from("b 29\nc\nc\nn\nn\np __import__('time').sleep(0.3)\ncheckpoints\n");
    for number in numbers {
        commands.push_str(&format!("restore {number}\ntick\n"));
    }
    commands.push_str("restore 99\ngoto 40\ncheckpoint\ntick\n");
    let t = session(&commands, &["travel_mix.py"]);
    let listing = answer(&t, "checkpoints", 0);
    // The listing itself says where each checkpoint is: (tick, "file:line function").
    let listed: HashMap<u32, (u64, String)> = listing
        .lines()
        .skip(1)
        .take_while(|l| !l.contains("of their own memory"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = f.len();
            (
                f[0].parse().unwrap(),
                (f[1].parse().unwrap(), format!("{} {}", f[n - 2], f[n - 1])),
            )
        })
        .collect();
    let ticks = ticks(&t);
    let mut checked = 0;
    for (i, number) in numbers.iter().enumerate() {
        // A stop's checkpoint may still be on its way when the list is printed: only listed ones
        // are checked.
        let Some((tick, place)) = listed.get(number) else {
            continue;
        };
        let out = answer(&t, &format!("restore {number}"), 0);
        assert!(
            out.starts_with(&format!("(checkpoint {number})\n> ")),
            "{out}\n{t}"
        );
        let (file_line, function) = place.split_once(' ').unwrap();
        let (file, line) = file_line.rsplit_once(':').unwrap();
        assert!(
            out.contains(&format!("> {file}({line}){function}()\n")),
            "{out}\n{listing}"
        );
        assert_eq!(ticks[i], *tick, "restore {number}:\n{t}");
        checked += 1;
    }
    assert!(checked >= 3, "{listing}");
    assert_eq!(
        answer(&t, "restore 99", 0),
        "*** No checkpoint 99 (see 'checkpoints')\n"
    );
    assert_eq!(answer(&t, "checkpoint", 0), "Checkpoint taken at tick 40\n");
    assert_eq!(ticks[numbers.len()], 40);
}

/// A checkpoint that `checkpoint` says was taken (or the one every stop takes) is in the list
/// printed right after.
#[test]
fn a_checkpoint_just_taken_is_listed() {
    let targets = [
        10, 20, 30, 40, 50, 60, 70, 80, 15, 25, 35, 45, 55, 65, 75, 85,
    ];
    let commands: String = targets
        .iter()
        .map(|t| format!("goto {t}\ncheckpoint\ncheckpoints\n"))
        .collect();
    let t = session(&commands, &["travel_mix.py"]);
    for (i, tick) in targets.iter().enumerate() {
        assert_eq!(
            answer(&t, "checkpoint", i),
            format!("Checkpoint taken at tick {tick}\n")
        );
        let rows = checkpoint_rows(&answer(&t, "checkpoints", i));
        assert!(
            rows.iter().any(|r| r.1 == *tick),
            "tick {tick} not listed:\n{t}"
        );
    }
}

/// A backward command right after the start (here: the program crashes at once) finds the
/// checkpoint of the first stop, every time.
#[test]
fn a_backward_command_right_after_the_start_finds_the_first_checkpoint() {
    // Several sessions at once: the race shows best on a busy machine.
    let sessions: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(|| session("c\nrstep\ntick\n", &["travel_watch.py"])))
        .collect();
    for s in sessions {
        let t = s.join().unwrap();
        assert!(
            t.contains("(sleepy) rstep\n> $DIR/travel_watch.py(22)average()\n"),
            "{t}"
        );
    }
}
