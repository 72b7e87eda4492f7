//! `sleepy run`: the program runs to its end under sleepy's tracing, with no debugger UI.
//!
//! The program gets sleepy's own stdin, stdout and stderr, so it behaves exactly as under
//! `python3` (buffering, isatty, redirections), and sleepy's messages go to stderr only. sleepy
//! ends with the program's status: the same exit code, or the same deadly signal.

use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;

use crate::cli::{Options, Program};
use crate::debugger::format;
use crate::protocol::{AgentMessage, Finish, Launch, RunMode, SuspendPlan, Target};
use crate::session::{ProgramIo, Session, SessionEvent};

/// What `--quota`, `--checkpoint`, `--checkpoint-every` and `--dump-on-crash` ask of the agent.
fn suspend_plan(program: &Program, options: &Options) -> Option<SuspendPlan> {
    let s = &options.suspend;
    if !s.any() {
        return None;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let path = s.file.clone().unwrap_or_else(|| match &program.target {
        Target::Script { path, .. } => {
            crate::snapshot::default_path(&path.display().to_string(), false, &cwd)
        }
        Target::Module { name } => crate::snapshot::default_path(name, true, &cwd),
    });
    Some(SuspendPlan {
        path,
        quota_ms: s.quota_ms,
        quota_ticks: s.quota_ticks,
        every_ms: s.every_ms,
        // Application checkpointing: a scheduler's SIGTERM means "save and stop".
        on_sigterm: s.file.is_some()
            || s.quota_ms.is_some()
            || s.quota_ticks.is_some()
            || s.every_ms.is_some(),
        dump_on_crash: s.dump_on_crash,
    })
}

pub fn run(program: Program, options: Options) -> anyhow::Result<i32> {
    let launch = Launch {
        target: program.target.clone(),
        args: program.args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        mode: RunMode::Run,
        trace: options.trace.clone(),
        sync_markers: false,
        rewrite: !options.no_rewrite,
        rewrite_globs: options.rewrite.clone(),
        no_trace: options.no_trace,
        time_travel: options
            .time_travel
            .enabled
            .then(|| crate::protocol::TimeTravel {
                socket: std::path::PathBuf::new(),
                front_end: 0,
                interval_ms: options.time_travel.interval_ms,
                interval_ticks: options.time_travel.interval_ticks,
            }),
        suspend: suspend_plan(&program, &options),
        resume: options.resume.clone(),
        key: options.key.clone(),
        plain_output: false,
        settrace_only: options.settrace,
    };
    // `--time-travel`: checkpoints are kept within the budget, as in a debugging session, and
    // dropped at the end.
    let mut timeline =
        crate::debugger::timeline::Timeline::new(crate::debugger::timeline::Budget {
            max_count: options.time_travel.max_count,
            max_memory: options.time_travel.max_memory,
        });
    timeline.register_epoch(0);
    let mut taken = 0usize;
    // Signals a terminal sends reach the program directly (it shares sleepy's process group);
    // signals sent to sleepy alone by another process (a scheduler's SIGTERM) are passed on.
    let mut signals =
        SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2])?;
    let started = Instant::now();
    let mut session = Session::start(launch, ProgramIo::Inherit)?;
    let agent_pid = rustix::process::Pid::from_raw(i32::try_from(session.pid()).unwrap_or(0));

    let mut finish: Option<Finish> = None;
    let mut gone = false;
    while !gone {
        for info in signals.pending() {
            let from_process = info.process.map(|p| p.pid).filter(|p| *p != 0);
            if let (Some(_), Some(pid)) = (from_process, agent_pid)
                && let Some(sig) = rustix::process::Signal::from_named_raw(info.signal)
            {
                let _ = rustix::process::kill_process(pid, sig);
            }
        }
        match session.next_event(Duration::from_millis(50)) {
            Some(SessionEvent::Agent(AgentMessage::Finished { finish: f, .. })) => finish = Some(f),
            Some(SessionEvent::Agent(AgentMessage::Notice { text, .. })) => {
                eprintln!("sleepy: {text}")
            }
            Some(SessionEvent::Agent(AgentMessage::LaunchFailed { message, exit_code })) => {
                eprintln!("sleepy: {message}");
                session.kill();
                return Ok(exit_code);
            }
            Some(SessionEvent::AgentGone(_)) => gone = true,
            Some(SessionEvent::Checkpoint(info)) => {
                taken += 1;
                let (pid, tick) = (info.pid, info.tick);
                match timeline.admit(info) {
                    Ok(number) => {
                        if let Some(c) = timeline.get_mut(number) {
                            c.memory = session.checkpoint_memory(pid);
                        }
                        for victim in timeline.over_budget(tick) {
                            if let Some(c) = timeline.remove(victim) {
                                session.drop_checkpoint(c.info.pid);
                            }
                        }
                    }
                    Err(_) => session.drop_checkpoint(pid),
                }
            }
            Some(_) | None => {
                // The process can be gone while its channel stays open (a forked child of the
                // program holds it); its last messages may still be queued.
                if session.try_wait().is_some() {
                    gone = true;
                }
            }
        }
    }
    // The process is gone but its last messages may still be on their way through the reader
    // thread (a loaded machine can take a while): wait for them until the channel closes, or
    // for a bounded time when a forked child of the program still holds it open.
    let drain_until = std::time::Instant::now() + Duration::from_millis(1500);
    while finish.is_none() && std::time::Instant::now() < drain_until {
        match session.next_event(Duration::from_millis(20)) {
            Some(SessionEvent::Agent(AgentMessage::Finished { finish: f, .. })) => finish = Some(f),
            Some(SessionEvent::Agent(AgentMessage::Notice { text, .. })) => {
                eprintln!("sleepy: {text}")
            }
            Some(SessionEvent::AgentGone(_)) => break,
            Some(_) | None => {}
        }
    }
    let status = session.wait()?;
    let elapsed = started.elapsed();
    use std::os::unix::process::ExitStatusExt;
    if let Some(f) = &finish
        && options.stats
    {
        eprintln!("sleepy: {} ticks in {:.3} s", f.tick, elapsed.as_secs_f64());
        if options.time_travel.enabled {
            let mut pauses = f.checkpoint_pauses_ns.clone();
            pauses.sort_unstable();
            let ms = |ns: u64| ns as f64 / 1e6;
            let at = |q: f64| {
                pauses
                    .get(((pauses.len() as f64 - 1.0) * q).round() as usize)
                    .copied()
                    .unwrap_or(0)
            };
            let memory: u64 = timeline
                .checkpoints()
                .filter_map(|c| session.checkpoint_memory(c.info.pid))
                .sum();
            eprintln!(
                "sleepy: {taken} checkpoints taken, {} kept ({:.1} MB of their own); pause per \
                 checkpoint: median {:.3} ms, p95 {:.3} ms, max {:.3} ms",
                timeline.len(),
                memory as f64 / 1_048_576.0,
                ms(at(0.5)),
                ms(at(0.95)),
                ms(pauses.last().copied().unwrap_or(0)),
            );
        }
    }
    match (status.signal(), &finish) {
        (Some(sig), _) => {
            // A crash is worth explaining; a termination signal is what the user or a scheduler
            // asked for, and python3 would not comment on it either.
            let crash = ![
                SIGINT,
                SIGTERM,
                SIGHUP,
                SIGUSR1,
                SIGUSR2,
                signal_hook::consts::SIGKILL,
            ]
            .contains(&sig);
            if finish.is_none() && crash {
                let meaning = format::signal_meaning(sig);
                eprintln!(
                    "sleepy: the program was killed by signal {sig} ({}{}{})",
                    format::signal_name(sig),
                    if meaning.is_empty() { "" } else { ", " },
                    meaning
                );
                let report = session.crash_report();
                if !report.trim().is_empty() {
                    eprintln!(
                        "sleepy: the program's Python stack when it crashed:\n{}",
                        report.trim_end()
                    );
                }
            }
            // Die of the same signal when that makes no core dump, so a parent sees what
            // python3 would have shown it.
            if [SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2].contains(&sig) {
                drop(signals);
                let _ = signal_hook::low_level::emulate_default_handler(sig);
            }
            Ok(128 + sig)
        }
        (None, Some(f)) => Ok(f.exit_code),
        (None, None) => {
            let code = status.code().unwrap_or(1);
            eprintln!(
                "sleepy: the program's process exited with status {code} without finishing normally \
                 (os._exit() or a crash in native code)"
            );
            Ok(code)
        }
    }
}
