//! The agent: the debuggee process. It is the sleepy binary started as `sleepy __agent`, with
//! the control socket as its stdin; it embeds CPython, runs the user's program under the native
//! trace hook, and answers the front end's requests while the program is stopped.
//!
//! Start-up order matters: the program's real stdin and a crash pipe arrive over the socket
//! (SCM_RIGHTS) before anything else, the terminal becomes the agent's controlling terminal, and
//! only then does CPython start, so that the program sees exactly the process `python3` would be.

pub mod breakpoints;
pub mod channel;
pub mod cpython;
pub mod interpreter;
pub mod replay;
pub mod stdio;
pub mod timeline;
pub mod tracer;

use std::ffi::CString;
use std::fs::File;
use std::io::{IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use anyhow::{Context, anyhow, bail};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use pyo3::wrap_pyfunction;
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};

use self::channel::Channel;
use self::tracer::{Helpers, Tracer};
use crate::protocol::{AgentMessage, Finish, Launch, Request, RunMode, Target};

const RUNNER_PY: &str = include_str!("py/sleepy_runner.py");
const INSPECT_PY: &str = include_str!("py/sleepy_inspect.py");
const JUMP_PY: &str = include_str!("py/sleepy_jump.py");
const SNAPSHOT_PY: &str = include_str!("py/sleepy_snapshot.py");
const SUSPEND_PY: &str = include_str!("py/sleepy_suspend.py");

/// Exit status when the agent itself fails before the program could run.
const AGENT_FAILURE: i32 = 70;

/// Entry point of `sleepy __agent`; returns the process exit status.
pub fn main() -> i32 {
    let mut channel_stream = None;
    match start(&mut channel_stream) {
        Ok(status) => status,
        Err(err) => {
            // Tell the front end if the channel exists; the program's stderr is not ours.
            if let Some(stream) = channel_stream.as_mut() {
                let msg = AgentMessage::LaunchFailed {
                    message: format!("{err:#}"),
                    exit_code: AGENT_FAILURE,
                };
                let _ = crate::protocol::send(stream, &msg);
            }
            AGENT_FAILURE
        }
    }
}

/// Receives the fds the front end passes: the program's stdin and the crash-report pipe.
fn receive_fds(control: &UnixStream) -> anyhow::Result<Vec<OwnedFd>> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut ancillary = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    let got = rustix::net::recvmsg(
        control,
        &mut [IoSliceMut::new(&mut byte)],
        &mut ancillary,
        RecvFlags::CMSG_CLOEXEC,
    )
    .context("receiving the program's stdin from the front end")?;
    if got.bytes != 1 {
        bail!("the front end closed the channel before sending the program's stdin");
    }
    let mut fds = Vec::new();
    for msg in ancillary.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = msg {
            fds.extend(received);
        }
    }
    Ok(fds)
}

fn start(channel_stream: &mut Option<UnixStream>) -> anyhow::Result<i32> {
    // The control socket arrives as stdin; keep it on a close-on-exec descriptor of its own so
    // the program's subprocesses never inherit it.
    let control = timeline::agent_fd(
        rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdin(), 3)
            .context("taking the control socket")?,
    )
    .context("taking the control socket")?;
    let stream = UnixStream::from(control);
    *channel_stream = Some(stream.try_clone().context("cloning the control socket")?);
    let mut fds = receive_fds(&stream)?.into_iter();
    let (Some(program_stdin), Some(crash)) = (fds.next(), fds.next()) else {
        bail!("the front end sent the wrong descriptors");
    };
    let crash = timeline::agent_fd(crash).context("taking the crash pipe")?;
    // The program must not outlive the front end (killed with SIGKILL, say).
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    rustix::stdio::dup2_stdin(&program_stdin).context("installing the program's stdin")?;
    drop(program_stdin);

    let mut channel = Channel::new(stream, None);
    let launch = match channel.receive_blocking()? {
        Some(Request::Launch(launch)) => *launch,
        Some(_) => bail!("the front end's first message was not a launch"),
        None => return Ok(0),
    };
    if launch.sync_markers {
        // The program runs in the front end's pseudo-terminal, as its controlling terminal, like
        // a shell would start it: job control and Ctrl-C then behave as in a real terminal.
        let _ = rustix::process::setsid();
        let _ = rustix::process::ioctl_tiocsctty(rustix::stdio::stdin());
        let sync = timeline::agent_fd(
            rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdout(), 3)
                .context("duplicating the terminal")?,
        )
        .context("duplicating the terminal")?;
        channel.set_sync(Some(File::from(sync)));
    }

    let path_var = std::env::var("PATH").ok();
    let venv = std::env::var("VIRTUAL_ENV").ok();
    let executable = match interpreter::choose(path_var.as_deref(), venv.as_deref()) {
        Ok(exe) => exe,
        Err(e) => {
            channel.send(&AgentMessage::LaunchFailed {
                message: e.to_string(),
                exit_code: 2,
            })?;
            return Ok(2);
        }
    };
    let mut argv: Vec<Vec<u8>> = vec![match &launch.target {
        Target::Script { argv0, .. } => argv0.clone().into_bytes(),
        Target::Module { .. } => b"-m".to_vec(),
    }];
    argv.extend(launch.args.iter().cloned());
    cpython::initialize(&executable, &argv, launch.time_travel.is_some())?;
    let py = cpython::attached_token();
    if launch.plain_output && py.version_info() >= (3, 13) {
        // 3.13 colours a traceback when stderr is a terminal; `_colorize.COLORIZE` is the switch
        // its own `can_colorize()` reads, and unlike PYTHON_COLORS it is not in os.environ, so
        // the program and its children see the environment they were given.
        let _ = py
            .import("_colorize")
            .and_then(|m| m.setattr("COLORIZE", false));
    }
    let status = run_program(py, channel, &launch, crash, channel_stream)?;
    Ok(status)
}

fn load_module<'py>(
    py: Python<'py>,
    source: &str,
    file: &str,
    name: &str,
) -> anyhow::Result<Bound<'py, PyModule>> {
    let code = CString::new(source)?;
    let file = CString::new(file)?;
    let name = CString::new(name)?;
    PyModule::from_code(py, &code, &file, &name)
        .map_err(|e| anyhow!("loading sleepy's {file:?}: {e}"))
}

/// `--settrace`: set from the launch before the program starts.
static SETTRACE_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[pyfunction]
fn start_tracing(py: Python<'_>) -> PyResult<()> {
    // Switching tracing on reads the clock inside CPython: not the program's input.
    let _pause = replay::pause();
    // The frames already running are sleepy's own: they must never report lines.
    let mut frame = py.import("sys")?.call_method1("_getframe", (0,))?;
    while !frame.is_none() {
        frame.setattr("f_trace_lines", false)?;
        frame = frame.getattr("f_back")?;
    }
    cpython::set_trace(py, Some(tracer::handle));
    // 3.12+: line events can come from sys.monitoring when nothing else is needed (the tracer
    // switches at its next event).
    let monitoring = !SETTRACE_ONLY.load(std::sync::atomic::Ordering::Relaxed)
        && cpython::setup_line_monitoring(py, tracer::handle_line, tracer::is_user_code)?;
    tracer::with(|t| t.allow_monitoring(monitoring));
    Ok(())
}

#[pyfunction]
fn stop_tracing(py: Python<'_>) {
    let _pause = replay::pause();
    cpython::stop_all_events(py);
}

#[pyfunction]
fn breakpoint_called(py: Python<'_>) {
    tracer::breakpoint_called(py);
}

#[pyfunction]
fn forked_child(py: Python<'_>) {
    cpython::stop_all_events(py);
    tracer::forget_in_child();
}

/// The Python-level handler of [`crate::protocol::INTERRUPT_SIGNAL`].
#[pyfunction]
fn interrupt(py: Python<'_>, _signum: i32, _frame: &Bound<'_, PyAny>) {
    tracer::interrupt_requested(py);
}

/// The Python-level SIGTERM handler when the run suspends on SIGTERM.
#[pyfunction]
fn sigterm(_signum: i32, _frame: &Bound<'_, PyAny>) {
    tracer::sigterm_seen();
}

#[pyfunction]
fn locals_to_fast(frame: &Bound<'_, PyAny>) -> PyResult<()> {
    cpython::locals_to_fast(frame)
}

fn native_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "_sleepy_native")?;
    m.add_function(wrap_pyfunction!(start_tracing, &m)?)?;
    m.add_function(wrap_pyfunction!(stop_tracing, &m)?)?;
    m.add_function(wrap_pyfunction!(breakpoint_called, &m)?)?;
    m.add_function(wrap_pyfunction!(forked_child, &m)?)?;
    m.add_function(wrap_pyfunction!(locals_to_fast, &m)?)?;
    m.add_function(wrap_pyfunction!(interrupt, &m)?)?;
    m.add_function(wrap_pyfunction!(sigterm, &m)?)?;
    Ok(m)
}

fn run_program(
    py: Python<'_>,
    mut channel: Channel,
    launch: &Launch,
    crash: OwnedFd,
    error_channel: &mut Option<UnixStream>,
) -> anyhow::Result<i32> {
    let runner = load_module(py, RUNNER_PY, "<sleepy>/runner.py", "_sleepy_runner")?;
    let inspect = load_module(py, INSPECT_PY, "<sleepy>/inspect.py", "_sleepy_inspect")?;
    let native = native_module(py)?;
    let py_err = |e: PyErr| anyhow!("{e}");

    // `python3 app/` or `python3 app.zip` runs the archive's or directory's __main__ module.
    let path_entry = match &launch.target {
        Target::Script { path, .. } => runner
            .getattr("is_path_entry")?
            .call1((path.display().to_string(),))?
            .extract::<bool>()?,
        Target::Module { .. } => false,
    };
    let (kind, target, root, main_file) = match &launch.target {
        Target::Script { path, .. } => {
            let path = path.display().to_string();
            let root = if path_entry && std::path::Path::new(&path).is_dir() {
                path.clone()
            } else {
                std::path::Path::new(&path)
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            };
            ("script", path.clone(), root, (!path_entry).then_some(path))
        }
        Target::Module { name } => {
            let cwd = std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| ".".into());
            ("module", name.clone(), cwd, None)
        }
    };
    runner
        .getattr("set_path0")?
        .call1((kind, &target))
        .map_err(py_err)?;
    // Rewritten modules are traced too.
    let traced: Vec<String> = launch
        .trace
        .iter()
        .chain(&launch.rewrite_globs)
        .cloned()
        .collect();
    let project = inspect
        .getattr("Project")?
        .call1((&root, main_file.as_deref(), traced))
        .map_err(py_err)?;
    let rewriting = if launch.rewrite {
        crate::rewrite::runtime::install(py).map_err(py_err)?;
        let rewriter = load_module(
            py,
            crate::rewrite::REWRITER_PY,
            "<sleepy>/rewrite.py",
            "_sleepy_rewrite",
        )?;
        // Named like importlib's own file so CPython trims its frames from import tracebacks.
        let importer = load_module(
            py,
            crate::rewrite::IMPORT_PY,
            "<frozen importlib._bootstrap_external>",
            "_sleepy_import",
        )?;
        let cache_dir = importer.getattr("default_cache_dir")?.call0()?;
        let cache = importer
            .getattr("Cache")?
            .call1((cache_dir, pyo3::types::PyBytes::new(py, b"")))?;
        let rewriting = importer
            .getattr("Rewriting")?
            .call1((
                rewriter,
                &project,
                launch.rewrite_globs.clone(),
                cache,
                crate::rewrite::REWRITER_PY,
            ))
            .map_err(py_err)?;
        importer
            .getattr("install")?
            .call1((&rewriting,))
            .map_err(py_err)?;
        Some(rewriting)
    } else {
        None
    };
    let root = std::fs::canonicalize(&root)
        .map(|p| p.display().to_string())
        .unwrap_or(root);

    // A native crash (segfault, abort) writes the Python stack into the crash pipe, which the
    // front end reports; the pipe must stay open for the life of the process.
    let faulthandler = py.import("faulthandler")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("file", crash.as_raw_fd())?;
    kwargs.set_item("all_threads", true)?;
    faulthandler
        .call_method("enable", (), Some(&kwargs))
        .map_err(py_err)?;
    std::mem::forget(crash);

    runner
        .getattr("install_hooks")?
        .call1((&native,))
        .map_err(py_err)?;

    // After the rewriter: the planner numbers constructs with the rewriter's own code.
    let jump = load_module(py, JUMP_PY, "<sleepy>/jump.py", "_sleepy_jump")?;

    // Suspend and resume load pickle and friends: only when a resume needs them now (the
    // program must find sys.modules as python3 leaves it, e.g. to import pure-Python pickle).
    let suspend = match &launch.resume {
        Some(_) => Some(load_suspend_modules(py).map_err(py_err)?),
        None => None,
    };
    let resuming = match (&launch.resume, &suspend) {
        (Some(file), Some(suspend)) => {
            match prepare_resume(py, suspend, file, rewriting.as_ref(), launch.key.as_deref()) {
                Ok(r) => Some(r),
                Err(message) => {
                    channel.send(&AgentMessage::LaunchFailed {
                        message,
                        exit_code: 2,
                    })?;
                    return Ok(2);
                }
            }
        }
        _ => None,
    };

    let code = if path_entry || resuming.is_some() {
        None
    } else if let Target::Script { path, .. } = &launch.target {
        let result: (Py<PyAny>, Option<String>) = runner
            .getattr("compile_script")?
            .call1((path.display().to_string(), rewriting.as_ref()))?
            .extract()?;
        match result {
            (_, Some(message)) => {
                let (message, exit_code) = if message.starts_with("can't open file") {
                    (message, 2)
                } else {
                    (
                        format!(
                            "cannot run {}: it does not compile:\n{message}",
                            path.display()
                        ),
                        1,
                    )
                };
                channel.send(&AgentMessage::LaunchFailed { message, exit_code })?;
                return Ok(exit_code);
            }
            (code, None) => Some(code),
        }
    } else {
        None
    };

    let helpers = Helpers {
        inspect: inspect.clone().unbind(),
        jump: jump.unbind(),
        runner: runner.clone().unbind(),
        native: native.clone().unbind(),
        project: project.unbind(),
        project_root: root,
        rewriting: rewriting.map(Bound::unbind),
        suspend: suspend.map(Bound::unbind),
    };
    // Ctrl-C in the front end arrives as a signal whose Python-level handler runs on the main
    // thread at its next bytecode boundary (or interrupts a blocking system call).
    py.import("signal")?
        .call_method1(
            "signal",
            (
                crate::protocol::INTERRUPT_SIGNAL.as_raw(),
                native.getattr("interrupt")?,
            ),
        )
        .map_err(py_err)?;
    // The copy of the channel kept to report a failed start goes before the program runs: a
    // checkpoint must not hold the channel open after the process it was copied from is gone.
    *error_channel = None;
    tracer::install(Tracer::new(launch.mode, channel, helpers));
    tracer::with(|t| t.set_program_info(program_info(py, launch)));
    if let Some(plan) = launch.suspend.clone() {
        if plan.on_sigterm {
            py.import("signal")?
                .call_method1(
                    "signal",
                    (
                        rustix::process::Signal::TERM.as_raw(),
                        native.getattr("sigterm")?,
                    ),
                )
                .map_err(py_err)?;
        }
        tracer::with(|t| t.enable_suspend(plan));
    }
    if let Some(config) = launch.time_travel.clone() {
        stdio::install(py).map_err(py_err)?;
        tracer::with(|t| t.enable_time_travel(config));
    }

    SETTRACE_ONLY.store(launch.settrace_only, std::sync::atomic::Ordering::Relaxed);
    let (start, stop) = if launch.no_trace {
        let nothing = py.eval(c"lambda: None", None, None)?;
        (nothing.clone(), nothing)
    } else {
        (
            native.getattr("start_tracing")?,
            native.getattr("stop_tracing")?,
        )
    };
    let outcome = match (code, resuming) {
        (_, Some(resumed)) => {
            let file = launch
                .resume
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            tracer::with(|t| t.start_restore(py, resumed.frames, resumed.tick, file));
            runner
                .getattr("run_resumed")?
                .call1((&target, resumed.main_code, &start, &stop))
        }
        (Some(code), None) => runner
            .getattr("run_script")?
            .call1((&target, code, &start, &stop)),
        (None, None) if path_entry => runner.getattr("run_path_entry")?.call1((&start, &stop)),
        (None, None) => runner
            .getattr("run_module")?
            .call1((&target, &start, &stop)),
    }
    .map_err(py_err)?;
    let (kind, value): (String, Bound<'_, PyAny>) = outcome.extract()?;
    if kind == "ok" || kind == "exit" {
        tracer::with(|t| t.scan_ended());
    }
    if let Some(text) = tracer::with(|t| t.unfinished_suspend()).flatten() {
        tracer::with(|t| {
            let _ = t.channel().send(&AgentMessage::Notice { text, sync: 0 });
        });
    }

    let mut exception = None;
    let mut signal = None;
    let status = match kind.as_str() {
        "ok" => 0,
        "exit" => runner
            .getattr("exit_status")?
            .call1((&value,))?
            .extract::<i32>()?,
        _ => {
            tracer::with(|t| t.end_scan_at_uncaught(py, &value));
            let (description, hook_status): (String, Option<i32>) = runner
                .getattr("report_uncaught")?
                .call1((&value,))?
                .extract()?;
            match hook_status {
                // sys.excepthook ended the program with SystemExit: python3 exits quietly.
                Some(status) => status,
                None => {
                    if let Some(text) = tracer::with(|t| {
                        if t.dump_on_crash() {
                            t.dump_post_mortem(py, &value, &description)
                        } else {
                            None
                        }
                    })
                    .flatten()
                    {
                        tracer::with(|t| {
                            let _ = t.channel().send(&AgentMessage::Notice { text, sync: 0 });
                        });
                    }
                    if launch.mode == RunMode::Debug {
                        let desc = description.clone();
                        tracer::with(|t| t.post_mortem(py, &value, desc));
                    }
                    if value.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>() {
                        signal = Some(rustix::process::Signal::INT.as_raw());
                    }
                    exception = Some(description);
                    1
                }
            }
        }
    };
    if main_file.is_some() {
        runner
            .getattr("forget_main_file")?
            .call0()
            .map_err(py_err)?;
    }
    drop(value);
    drop(outcome);

    let tick = tracer::with(|t| t.tick()).unwrap_or(0);
    let checkpoint_pauses_ns = tracer::with(|t| t.checkpoint_pauses()).unwrap_or_default();
    let mut channel = take_channel();
    drop((runner, inspect, native, start, stop, faulthandler, kwargs));
    let flushed = cpython::finalize();
    let status = if !flushed && status == 0 { 120 } else { status };
    if let Some(channel) = channel.as_mut() {
        // The front end must know before the end that the recorded run cannot be replayed:
        // going back would run the program's output (and its children) again.
        if let Some(reason) = tracer::take_off_reason() {
            let sync = channel.mark();
            let _ = channel.send(&AgentMessage::TimeTravelOff {
                reason: reason.to_string(),
                sync,
            });
        }
        let sync = channel.mark();
        let finish = Finish {
            exit_code: status,
            tick,
            exception,
            signal,
            checkpoint_pauses_ns,
        };
        let _ = channel.send(&AgentMessage::Finished { finish, sync });
    }
    let _ = std::io::stdout().flush();
    if let Some(sig) = signal {
        // python3 ends an uncaught KeyboardInterrupt by dying of SIGINT; so does the agent.
        let _ = signal_hook::low_level::emulate_default_handler(sig);
    }
    Ok(status)
}

/// A saved frame to rebuild: qualname, file, first line, saved line, locals.
type SavedFrameSpec = (String, String, i32, i32, Py<PyAny>);

/// The state pickler and the agent's side of suspend/resume (sleepy_snapshot.py,
/// sleepy_suspend.py), loaded the first time they are needed.
pub(crate) fn load_suspend_modules(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let load = |source: &str, file: &str, name: &str| {
        load_module(py, source, file, name)
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
    };
    load(SNAPSHOT_PY, "<sleepy>/snapshot.py", "_sleepy_snapshot")?;
    load(SUSPEND_PY, "<sleepy>/suspend.py", "_sleepy_suspend")
}

struct Resumed {
    frames: Vec<SavedFrameSpec>,
    main_code: Py<PyAny>,
    tick: u64,
}

/// Reads a snapshot and rebuilds the program's modules from it (no program code runs yet).
fn prepare_resume(
    py: Python<'_>,
    suspend: &Bound<'_, PyModule>,
    file: &std::path::Path,
    rewriting: Option<&Bound<'_, PyAny>>,
    key: Option<&std::path::Path>,
) -> Result<Resumed, String> {
    let here = python_version(py);
    let key = crate::snapshot::Key::load_or_create(key).map_err(|e| e.to_string())?;
    let snap = crate::snapshot::read(file, &here, &key).map_err(|e| e.to_string())?;
    let payload = pyo3::types::PyBytes::new(py, &snap.payload);
    let prepared = suspend
        .getattr("prepare")
        .and_then(|f| f.call1((payload, rewriting)))
        .map_err(|e| format!("cannot resume {}: {}", file.display(), e.value(py)))?;
    let (frames, main_code, tick): (Vec<SavedFrameSpec>, Py<PyAny>, u64) = prepared
        .extract()
        .map_err(|e| format!("cannot resume {}: {e}", file.display()))?;
    Ok(Resumed {
        frames,
        main_code,
        tick,
    })
}

fn python_version(py: Python<'_>) -> String {
    let v = py.version_info();
    format!("{}.{}.{}", v.major, v.minor, v.patch)
}

/// The program as a snapshot's header describes it, and where its snapshots go by default.
fn program_info(py: Python<'_>, launch: &Launch) -> tracer::ProgramInfo {
    let cwd = std::env::current_dir().unwrap_or_default();
    let (kind, target, argv0) = match &launch.target {
        Target::Script { path, argv0 } => ("script", path.display().to_string(), argv0.clone()),
        Target::Module { name } => ("module", name.clone(), "-m".to_string()),
    };
    let default_path = launch
        .suspend
        .as_ref()
        .map(|s| s.path.clone())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| crate::snapshot::default_path(&target, kind == "module", &cwd));
    tracer::ProgramInfo {
        program: crate::snapshot::SavedProgram {
            kind: kind.to_string(),
            target,
            argv0,
            args: launch
                .args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
            cwd: cwd.display().to_string(),
            rewrite: launch.rewrite,
            rewrite_globs: launch.rewrite_globs.clone(),
            trace: launch.trace.clone(),
        },
        default_path,
        python: python_version(py),
        key: launch.key.clone(),
    }
}

fn take_channel() -> Option<Channel> {
    tracer::take().map(Tracer::into_channel)
}
