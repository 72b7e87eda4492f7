//! The batch driver (`sleepy --batch FILE|- script.py`): debugger commands from a file or stdin,
//! a transcript on stdout that interleaves the program's output with the debugger's, in order.
//! Without `--batch` the same driver reads commands from the terminal with a prompt (sleepy's
//! line mode, until the TUI lands).
//!
//! The program's terminal is a pseudo-terminal. When the program blocks reading it, the driver
//! types the next line of `--stdin FILE` (echoed in the transcript, as a terminal would), or in
//! line mode the next line the user types; with nothing to give, it sends end-of-file and says so.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use crate::cli::{CommandSource, Options, Program};
use crate::commands::{self, parse::split_commands};
use crate::debugger::{Debugger, Kind, Phase, Sink};
use crate::protocol::{Launch, RunMode};
use crate::session::ProgramIo;

pub const PROMPT: &str = "(sleepy) ";

/// Writes the transcript: program bytes as they come, debugger lines on lines of their own.
pub struct Transcript<W: Write> {
    out: W,
    at_line_start: bool,
}

impl<W: Write> Transcript<W> {
    pub fn new(out: W) -> Self {
        Transcript {
            out,
            at_line_start: true,
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        // A closed stdout (`| head`) must not kill the session; the program is killed at exit.
        let _ = self.out.write_all(bytes);
        let _ = self.out.flush();
    }

    pub fn prompt(&mut self, text: &str, newline: bool) {
        if !self.at_line_start {
            self.write(b"\n");
        }
        self.write(text.as_bytes());
        if newline {
            self.write(b"\n");
        }
        self.at_line_start = newline;
    }
}

impl<W: Write> Sink for Transcript<W> {
    fn program_output(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.write(bytes);
        self.at_line_start = bytes.last() == Some(&b'\n');
    }

    fn line(&mut self, kind: Kind, text: &str) {
        if kind == Kind::Failure {
            eprintln!("{text}");
            return;
        }
        if !self.at_line_start {
            self.write(b"\n");
        }
        self.write(text.as_bytes());
        self.write(b"\n");
        self.at_line_start = true;
    }
}

/// Lines arriving from a file or stdin on a thread, so the driver can wait on the program and
/// on the user at once.
struct Lines {
    rx: Receiver<Option<String>>,
    ended: bool,
}

impl Lines {
    fn spawn<R: BufRead + Send + 'static>(reader: R) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if tx.send(Some(line)).is_err() {
                    return;
                }
            }
            let _ = tx.send(None);
        });
        Lines { rx, ended: false }
    }

    fn next_blocking(&mut self) -> Option<String> {
        if self.ended {
            return None;
        }
        match self.rx.recv() {
            Ok(Some(line)) => Some(line),
            _ => {
                self.ended = true;
                None
            }
        }
    }

    fn try_next(&mut self) -> Option<Option<String>> {
        if self.ended {
            return Some(None);
        }
        match self.rx.try_recv() {
            Ok(Some(line)) => Some(Some(line)),
            Ok(None) | Err(TryRecvError::Disconnected) => {
                self.ended = true;
                Some(None)
            }
            Err(TryRecvError::Empty) => None,
        }
    }
}

/// What the program gets when it reads its stdin.
enum ProgramInput {
    /// Lines of `--stdin FILE`, then end-of-file.
    File(VecDeque<Vec<u8>>),
    /// Nothing: end-of-file, with a note the first time.
    Nothing { warned: bool },
    /// Line mode: what the user types while the program waits for input.
    Terminal,
}

pub struct BatchRun {
    pub program: Program,
    pub options: Options,
    /// `None`: line mode on the terminal.
    pub commands: Option<CommandSource>,
}

pub fn launch_spec(program: &Program, options: &Options) -> Launch {
    use std::os::unix::ffi::OsStrExt;
    Launch {
        target: program.target.clone(),
        args: program.args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        mode: RunMode::Debug,
        trace: options.trace.clone(),
        sync_markers: true,
        rewrite: !options.no_rewrite,
        rewrite_globs: options.rewrite.clone(),
        no_trace: false,
        time_travel: options
            .time_travel
            .enabled
            .then(|| crate::protocol::TimeTravel {
                // The session fills these in when it opens the socket.
                socket: std::path::PathBuf::new(),
                front_end: 0,
                interval_ms: options.time_travel.interval_ms,
                interval_ticks: options.time_travel.interval_ticks,
            }),
        suspend: None,
        resume: options.resume.clone(),
        key: options.key.clone(),
        plain_output: false,
        settrace_only: options.settrace,
    }
}

/// Runs the session; returns sleepy's exit status.
pub fn run(spec: BatchRun) -> anyhow::Result<i32> {
    let interactive = spec.commands.is_none();
    let mut lines = match &spec.commands {
        Some(CommandSource::File(path)) => {
            let file = File::open(path).map_err(|e| {
                anyhow::anyhow!("cannot read commands from {}: {e}", path.display())
            })?;
            Lines::spawn(BufReader::new(file))
        }
        Some(CommandSource::Stdin) | None => Lines::spawn(BufReader::new(std::io::stdin())),
    };
    let mut input = match (&spec.options.stdin, interactive) {
        (Some(path), _) => {
            let data = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read --stdin {}: {e}", path.display()))?;
            ProgramInput::File(
                data.split_inclusive(|b| *b == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect(),
            )
        }
        (None, true) => ProgramInput::Terminal,
        (None, false) => ProgramInput::Nothing { warned: false },
    };
    let (rows, cols) = if interactive {
        terminal_size()
    } else {
        (24, 80)
    };
    let io = ProgramIo::Terminal {
        rows,
        cols,
        raw_output: !interactive,
    };
    let mut launch = launch_spec(&spec.program, &spec.options);
    launch.plain_output = !interactive;
    let mut debugger = Debugger::start(launch, io)?;
    let budget = &spec.options.time_travel;
    debugger.set_budget(budget.max_count, budget.max_memory);
    let mut out = Transcript::new(std::io::stdout());
    // In line mode Ctrl-C interrupts the program, not sleepy.
    let interrupted = Arc::new(AtomicBool::new(false));
    if interactive {
        signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))?;
    }
    let mut pump = Pump {
        input: &mut input,
        lines: &mut lines,
        interrupted: &interrupted,
    };
    wait(&mut debugger, &mut out, &mut pump);
    if matches!(debugger.phase(), Phase::Ended { .. }) {
        // The program never ran (it does not compile, or the agent could not start it).
        return Ok(debugger.exit_code());
    }

    let holds_locations = pdb_holds_locations();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut last: Option<String> = None;
    // After the program ends (or dies) the remaining commands still get an answer each.
    while !debugger.busy() {
        if queue.is_empty() {
            debugger.show_held_location(&mut out);
        }
        if interactive && queue.is_empty() {
            out.prompt(PROMPT, false);
        }
        let line = match queue.pop_front() {
            Some(line) => line,
            None => {
                let Some(line) = pump.lines.next_blocking() else {
                    break;
                };
                if !interactive {
                    out.prompt(&format!("{PROMPT}{line}"), true);
                } else {
                    out.prompt("", false);
                    out.at_line_start = true;
                }
                line
            }
        };
        let line = if line.trim().is_empty() {
            match &last {
                Some(l) => l.clone(),
                None => continue,
            }
        } else {
            line
        };
        let mut parts = split_commands(&line).into_iter();
        let first = parts.next().unwrap_or_default();
        // The queued commands go first, before the next line is read (pdb's cmdqueue).
        for (i, part) in parts.enumerate() {
            queue.insert(i, part);
        }
        // pdb repeats the last command run; a repeated `list` continues the listing.
        last = Some(match commands::parse(&first) {
            Ok(c) if c.id() == commands::CommandId::List => "list".to_string(),
            _ => first.clone(),
        });
        debugger.hold_locations(holds_locations && !queue.is_empty());
        match commands::parse(&first) {
            Ok(command) => {
                let quit = command.id() == commands::CommandId::Quit;
                debugger.execute(command, &mut out);
                if quit {
                    break;
                }
                wait(&mut debugger, &mut out, &mut pump);
            }
            Err(e) => out.line(Kind::Error, &format!("*** {e}")),
        }
    }
    debugger.show_held_location(&mut out);
    debugger.shutdown();
    Ok(debugger.exit_code())
}

/// Does the embedded Python's pdb print a stop's location only after the commands queued
/// behind `;;` have run (3.13's `_pdbcmd_print_frame_status`)? Earlier versions print it as
/// the stop happens.
fn pdb_holds_locations() -> bool {
    let mut parts = crate::agent::interpreter::BUILD_VERSION.split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(3);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (3, 13)
}

fn terminal_size() -> (u16, u16) {
    rustix::termios::tcgetwinsize(rustix::stdio::stdout())
        .ok()
        .filter(|w| w.ws_row > 0 && w.ws_col > 0)
        .map(|w| (w.ws_row, w.ws_col))
        .unwrap_or((24, 80))
}

/// What feeds the program while it runs: its stdin, and Ctrl-C in line mode.
struct Pump<'a> {
    input: &'a mut ProgramInput,
    lines: &'a mut Lines,
    interrupted: &'a AtomicBool,
}

/// Pumps events until the program stops, finishes or dies; feeds its stdin when it waits.
fn wait<W: Write>(debugger: &mut Debugger, out: &mut Transcript<W>, pump: &mut Pump<'_>) {
    let mut last_check = Instant::now();
    let (input, lines) = (&mut *pump.input, &mut *pump.lines);
    while debugger.busy() {
        debugger.poll(Duration::from_millis(20), out);
        if pump.interrupted.swap(false, Ordering::SeqCst) {
            debugger.interrupt();
        }
        if last_check.elapsed() < Duration::from_millis(50) {
            continue;
        }
        last_check = Instant::now();
        if !debugger.session().waiting_for_input() {
            continue;
        }
        match input {
            ProgramInput::File(queue) => match queue.pop_front() {
                Some(line) => {
                    let _ = debugger.session().type_input(&line);
                }
                None => {
                    let _ = debugger.session().type_eof();
                }
            },
            ProgramInput::Nothing { warned } => {
                if !*warned {
                    out.line(
                        Kind::Notice,
                        "sleepy: the program is reading its stdin, which batch mode does not provide \
                         (give it one with --stdin FILE); it gets end-of-file",
                    );
                    *warned = true;
                }
                let _ = debugger.session().type_eof();
            }
            ProgramInput::Terminal => match lines.try_next() {
                Some(Some(line)) => {
                    let mut bytes = line.into_bytes();
                    bytes.push(b'\n');
                    let _ = debugger.session().type_input(&bytes);
                }
                Some(None) => {
                    let _ = debugger.session().type_eof();
                }
                None => {}
            },
        }
    }
}
