//! Ctrl-C while the program runs: the first interrupt stops it at its next line; a second one,
//! when the program is stuck in a system call, reaches it as SIGINT through its terminal.
//! Driven through the library's session model with the real agent binary.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use sleepy::commands::parse;
use sleepy::debugger::{Debugger, Kind, Phase, Sink};
use sleepy::protocol::{Launch, RunMode, StopReason, Target};
use sleepy::session::ProgramIo;

#[derive(Default)]
struct Collect {
    output: Vec<u8>,
    lines: Vec<String>,
}

impl Sink for Collect {
    fn program_output(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
    fn line(&mut self, _kind: Kind, text: &str) {
        self.lines.push(text.to_string());
    }
}

fn start(dir: &Path, source: &str) -> (Debugger, Collect) {
    let script = dir.join("prog.py");
    std::fs::write(&script, source).unwrap();
    let launch = Launch {
        target: Target::Script {
            path: script.clone(),
            argv0: script.display().to_string(),
        },
        args: vec![],
        mode: RunMode::Debug,
        trace: vec![],
        sync_markers: true,
        rewrite: true,
        rewrite_globs: vec![],
        no_trace: false,
        time_travel: Some(sleepy::protocol::TimeTravel {
            socket: std::path::PathBuf::new(),
            front_end: 0,
            interval_ms: 50,
            interval_ticks: 1_000_000,
        }),
        suspend: None,
        resume: None,
        key: None,
        plain_output: false,
        settrace_only: false,
    };
    let io = ProgramIo::Terminal {
        rows: 24,
        cols: 80,
        raw_output: true,
    };
    let exe = Path::new(env!("CARGO_BIN_EXE_sleepy"));
    let mut dbg = Debugger::start_with_agent(exe, launch, io).unwrap();
    let mut sink = Collect::default();
    settle(&mut dbg, &mut sink, Duration::from_secs(30));
    assert_eq!(dbg.phase(), &Phase::Stopped, "{:?}", sink.lines);
    (dbg, sink)
}

fn settle(dbg: &mut Debugger, sink: &mut Collect, limit: Duration) {
    let start = Instant::now();
    while dbg.busy() && start.elapsed() < limit {
        dbg.poll(Duration::from_millis(10), sink);
    }
}

fn run(dbg: &mut Debugger, sink: &mut Collect, line: &str) {
    dbg.execute(parse(line).unwrap(), sink);
    settle(dbg, sink, Duration::from_secs(30));
}

/// Waits until the program has printed `text`.
fn wait_for_output(dbg: &mut Debugger, sink: &mut Collect, text: &str) {
    let start = Instant::now();
    while !String::from_utf8_lossy(&sink.output).contains(text) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never printed {text:?}"
        );
        dbg.poll(Duration::from_millis(10), sink);
    }
}

#[test]
fn an_interrupt_stops_a_busy_loop_at_its_next_line() {
    let dir = tempfile::tempdir().unwrap();
    let (mut dbg, mut sink) = start(
        dir.path(),
        "n = 0\nprint('looping', flush=True)\nwhile True:\n    n += 1\n",
    );
    dbg.execute(parse("c").unwrap(), &mut sink);
    wait_for_output(&mut dbg, &mut sink, "looping");
    std::thread::sleep(Duration::from_millis(100));
    assert!(dbg.running());
    dbg.interrupt();
    settle(&mut dbg, &mut sink, Duration::from_secs(30));
    let stop = dbg.current_stop().expect("stopped");
    assert_eq!(
        stop.reason,
        StopReason::Interrupted,
        "program output: {}",
        String::from_utf8_lossy(&sink.output)
    );
    let line = stop.stack.last().unwrap().line;
    assert!(line == 3 || line == 4, "stopped at line {line}");
    assert!(
        sink.lines
            .iter()
            .any(|l| l == "Program interrupted. (Use 'continue' to resume.)"),
        "{:?}",
        sink.lines
    );
    sink.lines.clear();
    run(&mut dbg, &mut sink, "p n > 1000");
    assert_eq!(sink.lines, vec!["True"]);
    // It goes on running after the interrupt, and stops again on the next one.
    dbg.execute(parse("c").unwrap(), &mut sink);
    std::thread::sleep(Duration::from_millis(50));
    dbg.interrupt();
    settle(&mut dbg, &mut sink, Duration::from_secs(30));
    assert_eq!(
        dbg.current_stop().map(|s| s.reason.clone()),
        Some(StopReason::Interrupted)
    );
    dbg.shutdown();
}

#[test]
fn a_second_interrupt_reaches_a_program_blocked_in_a_system_call() {
    let dir = tempfile::tempdir().unwrap();
    let (mut dbg, mut sink) = start(
        dir.path(),
        "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n",
    );
    dbg.execute(parse("c").unwrap(), &mut sink);
    wait_for_output(&mut dbg, &mut sink, "sleeping");
    std::thread::sleep(Duration::from_millis(100));
    dbg.interrupt();
    // The program sleeps in C: no line runs, so the first interrupt cannot stop it yet.
    for _ in 0..20 {
        dbg.poll(Duration::from_millis(10), &mut sink);
    }
    assert!(dbg.running());
    dbg.interrupt();
    settle(&mut dbg, &mut sink, Duration::from_secs(30));
    // The first interrupt asked for a stop at the next event: KeyboardInterrupt leaving the
    // sleep, on the sleeping line (pdb's `--Exception--` stop after a step).
    let stop = dbg.current_stop().expect("stopped");
    assert!(
        matches!(&stop.reason, StopReason::Exception { text } if text == "KeyboardInterrupt"),
        "{:?}",
        stop.reason
    );
    run(&mut dbg, &mut sink, "c");
    let stop = dbg.current_stop().expect("stopped");
    assert!(
        matches!(&stop.reason, StopReason::PostMortem { exception } if exception == "KeyboardInterrupt"),
        "{:?}",
        stop.reason
    );
    assert!(String::from_utf8_lossy(&sink.output).contains("KeyboardInterrupt"));
    dbg.shutdown();
}
