//! The trace hook's logic: counting ticks, deciding where to stop, and the conversation with the
//! front end while the program is stopped.
//!
//! CPython calls [`handle`] (through the trampoline in `cpython.rs`) for every trace event of the
//! main thread. The hot path is a line event while the program simply runs: the tick counter
//! moves and, with no breakpoint enabled, nothing else happens. Library code never gets here for
//! lines: its frames have `f_trace_lines` switched off at their call event.
//!
//! Stepping follows pdb's rules (bdb's `stop_here`, `set_next`, `set_return`, `set_until`), so that
//! `sleepy --batch` transcripts read like pdb sessions.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyModule, PyTuple};

mod suspend;
mod travel;

pub use self::suspend::{ProgramInfo, sigterm_seen};

pub use self::travel::take_off_reason;
use self::travel::{Adopted, TimeTravelState, Watch};
use super::breakpoints::{BreakpointTable, NewBreakpoint};
use super::channel::Channel;
use super::cpython::{self, CodeInfo, TraceEvent, TracedFrame};
use crate::protocol::{
    AgentMessage, ArgValue, DisplayChange, EvalStyle, FrameInfo, Reply, Request, Resume, RunMode,
    Stop, StopReason, VariableEntry, VariablesPage,
};

thread_local! {
    static TRACER: RefCell<Option<Tracer>> = const { RefCell::new(None) };
}

/// Set in a child the program forked: it must never talk to the front end.
static IN_FORKED_CHILD: AtomicBool = AtomicBool::new(false);

/// The Python helpers the tracer calls at stops.
pub struct Helpers {
    pub inspect: Py<PyModule>,
    pub runner: Py<PyModule>,
    /// The jump planner (sleepy_jump.py).
    pub jump: Py<PyModule>,
    pub native: Py<PyModule>,
    pub project: Py<PyAny>,
    pub project_root: String,
    /// The import hook's state (sleepy_import.Rewriting), when the code is rewritten.
    pub rewriting: Option<Py<PyAny>>,
    /// Suspend and resume (sleepy_suspend.py over sleepy_snapshot.py).
    pub suspend: Option<Py<PyModule>>,
}

/// A frame the stepping state refers to; holding it keeps its address from being reused.
struct FrameKey {
    id: usize,
    _keep: Py<PyAny>,
}

impl FrameKey {
    fn of(frame: &Bound<'_, PyAny>) -> FrameKey {
        FrameKey {
            id: frame.as_ptr() as usize,
            _keep: frame.clone().unbind(),
        }
    }
}

/// Where the program should stop next, besides breakpoints (bdb's stopframe/returnframe).
enum Mode {
    /// Stop at the first line of `__main__`.
    StartPending,
    Continue,
    Step,
    /// Stop at the next line of this frame, or when it returns.
    Next(FrameKey),
    /// Stop at a line >= the given one in this frame, or when it returns.
    Until(FrameKey, i32),
    /// Stop when `frame` returns, and at lines of `caller` after that.
    Return {
        frame: FrameKey,
        caller: Option<FrameKey>,
    },
    /// A jump is running its entry steps (see sleepy_jump.py).
    Jumping(Box<Jumping>),
}

struct Display {
    frame: FrameKey,
    expr: String,
    ok: bool,
    value: Py<PyAny>,
}

/// The program's state at a stop: the frames the front end numbers, oldest first.
struct StopContext {
    frames: Vec<(Py<PyAny>, u32)>,
    /// The value the newest frame is returning, when stopped at its return.
    return_value: Option<Py<PyAny>>,
    post_mortem: bool,
    /// Stopped at a line event (the only place CPython lets a frame jump).
    at_line: bool,
}

impl StopContext {
    fn frame<'py>(&self, py: Python<'py>, index: usize) -> Option<Bound<'py, PyAny>> {
        self.frames.get(index).map(|(f, _)| f.bind(py).clone())
    }

    fn newest(&self) -> usize {
        self.frames.len().saturating_sub(1)
    }
}

#[derive(Default)]
struct FileTable {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl FileTable {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), id);
        id
    }
}

pub struct Tracer {
    tick: u64,
    /// (frame, line): the frame just passed a rewriter marker standing before that line.
    after_marker: (usize, i32),
    mode: Mode,
    /// Continue mode with no enabled breakpoint: a line event only moves the tick.
    quiet: bool,
    /// Only line events matter now (quiet, and no scan, restore or function breakpoint
    /// following calls): on 3.12+ they then come from `sys.monitoring` (see `sync_source`).
    lines_only: bool,
    /// Line events come from `sys.monitoring` rather than the trace function.
    monitoring: bool,
    /// `sys.monitoring` is set up for sleepy (3.12+).
    can_monitor: bool,
    /// The user code object of the last monitored line event, held so its address stays its
    /// own: the next line event in it needs no code lookup.
    last_user_code: (usize, Option<Py<PyAny>>),
    any_breaks: bool,
    run_mode: RunMode,
    /// Why the next stop happens, when something other than stepping asked for it.
    pending: Option<StopReason>,
    breaks: BreakpointTable,
    files: FileTable,
    channel: Channel,
    helpers: Helpers,
    displays: Vec<Display>,
    /// Checkpoints, replay and scans (None in `sleepy run`).
    tt: Option<Box<TimeTravelState>>,
    /// The tick from which a line event needs more than a tick increment (a checkpoint due, a
    /// replay's goal, every line of a scan): one comparison on the hot path.
    attention: u64,
    /// This process is a scanner (see `travel.rs`): it follows calls and returns.
    scanning: bool,
    /// There is a `break FUNC`: calls note their frame in `fresh_frame`.
    function_breaks: bool,
    /// The frame whose call event came last, and the tick its first line event has: only that
    /// line event is the function's first line (a copy spawned from a checkpoint inherits
    /// both, and must not take a later line of the same frame for the first).
    fresh_frame: usize,
    fresh_tick: u64,
    watches: Vec<Watch>,
    /// Suspending to a file (quota, periodic, SIGTERM, `suspend next`): None when never asked.
    suspend: Option<Box<suspend::SuspendState>>,
    /// The tick from which a line event checks for a suspend (u64::MAX: never).
    suspend_check: u64,
    /// Rebuilding a saved stack (`sleepy resume`).
    restore: Option<Box<suspend::Restore>>,
    /// The program as a snapshot's header describes it.
    program_info: Option<suspend::ProgramInfo>,
}

/// Outcome of a conversation at a stop.
enum After {
    Resume,
    Quit,
    /// Resume by raising this exception in the stopped frame (entering an `except` handler).
    Raise(PyErr),
}

/// A jump's entry step (see sleepy_jump.py).
enum JumpStep {
    Set(String, String),
    Goto(i32),
    Raise(Py<PyAny>),
    Await(JumpWait),
}

/// Run until the jumping frame's next line; it must fall in `lo..=hi` (lines in `pass` are
/// passed through), or the jump stops there with `failure`.
struct JumpWait {
    lo: i32,
    hi: i32,
    pass: Vec<i32>,
    failure: String,
}

struct Jumping {
    frame: FrameKey,
    steps: std::collections::VecDeque<JumpStep>,
    wait: Option<JumpWait>,
    notes: Vec<String>,
    /// A frame being rebuilt by `sleepy resume`: landing goes on with the rebuild.
    restoring: bool,
}

enum JumpProgress {
    Landed,
    Waiting,
    Raise(PyErr),
    Failed(String),
}

enum JumpStart {
    /// Moved without running any code: show the frame where it is.
    Landed {
        frame: Py<PyAny>,
        reason: StopReason,
    },
    Running,
    Raise(PyErr),
}

pub fn install(tracer: Tracer) {
    TRACER.with(|cell| *cell.borrow_mut() = Some(tracer));
}

/// Runs `f` on the tracer when it is installed and not busy.
pub fn with<R>(f: impl FnOnce(&mut Tracer) -> R) -> Option<R> {
    TRACER.with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .and_then(|mut guard| guard.as_mut().map(f))
    })
}

/// Called in a forked child of the program: forget the front end.
pub fn forget_in_child() {
    IN_FORKED_CHILD.store(true, Ordering::SeqCst);
    TRACER.with(|cell| {
        if let Ok(mut guard) = cell.try_borrow_mut() {
            guard.take();
        }
    });
}

/// The trace handler registered with CPython.
pub fn handle<'a, 'py>(
    py: Python<'py>,
    frame: TracedFrame<'a>,
    event: TraceEvent<'a, 'py>,
) -> Option<PyErr> {
    TRACER.with(|cell| {
        let Ok(mut guard) = cell.try_borrow_mut() else {
            return None;
        };
        match guard.as_mut() {
            Some(tracer) => {
                let result = tracer.on_event(py, frame, event);
                tracer.sync_source(py);
                result
            }
            None => None,
        }
    })
}

/// Whether a code object is the program's, for `sys.monitoring` (3.12+): true when the tracer
/// cannot answer (another thread, or busy), so nothing is turned off by mistake.
pub fn is_user_code<'a, 'py>(py: Python<'py>, frame: TracedFrame<'a>) -> bool {
    TRACER.with(|cell| {
        let Ok(mut guard) = cell.try_borrow_mut() else {
            return true;
        };
        match guard.as_mut() {
            Some(tracer) => tracer.code_info(py, frame).user,
            None => true,
        }
    })
}

/// The `sys.monitoring` line handler (3.12+; see [`cpython::monitor_lines`]).
pub fn handle_line<'a, 'py>(py: Python<'py>, frame: TracedFrame<'a>) -> cpython::LineOutcome {
    TRACER.with(|cell| {
        let Ok(mut guard) = cell.try_borrow_mut() else {
            return cpython::LineOutcome::Continue;
        };
        let Some(tracer) = guard.as_mut() else {
            return cpython::LineOutcome::Continue;
        };
        let code = frame.event_code(py);
        let code_id = code.as_ref().map_or(0, |c| c.as_ptr() as usize);
        if code_id != 0 && code_id == tracer.last_user_code.0 {
            // The same user code as the last line event (kept alive by the tracer, so the
            // address cannot have been reused): the quiet path of `on_event`'s line event,
            // without looking the code up again.
            let line = frame.line();
            if line < crate::rewrite::MARKER_BASE
                && tracer.after_marker.0 == 0
                && tracer.quiet
                && tracer.restore.is_none()
                && tracer.tick + 1 < tracer.attention
            {
                tracer.tick += 1;
                return cpython::LineOutcome::Continue;
            }
        } else {
            if !tracer.code_info(py, frame).user {
                return cpython::LineOutcome::Disable;
            }
            if let Some(code) = code {
                tracer.last_user_code = (code_id, Some(code.to_owned().unbind()));
            }
        }
        let result = tracer.on_event(py, frame, TraceEvent::Line);
        tracer.sync_source(py);
        match result {
            None => cpython::LineOutcome::Continue,
            Some(err) => cpython::LineOutcome::Raise(err),
        }
    })
}

/// Ctrl-C in the front end: stop at the program's next line. Runs on the main thread (the
/// Python-level handler of the interrupt signal).
pub fn interrupt_requested(py: Python<'_>) {
    with(|t| {
        if t.run_mode == RunMode::Debug && !matches!(t.mode, Mode::Step | Mode::StartPending) {
            t.mode = Mode::Step;
            t.pending = Some(StopReason::Interrupted);
            t.refresh_quiet();
            t.sync_source(py);
        }
    });
}

/// `breakpoint()` in the program.
pub fn breakpoint_called(py: Python<'_>) {
    let handled = with(|t| {
        t.on_breakpoint_call(py);
        t.sync_source(py);
    });
    if handled.is_none() {
        // Called while the tracer is busy (from an expression evaluated at a stop) or from
        // another thread: only the main thread is debugged.
        let _ = py.import("sys").and_then(|sys| {
            sys.getattr("stderr")?.call_method1(
                "write",
                ("sleepy: breakpoint() ignored: only the main thread's program code can stop\n",),
            )
        });
    }
}

impl Tracer {
    pub fn new(run_mode: RunMode, channel: Channel, helpers: Helpers) -> Tracer {
        let mode = match run_mode {
            RunMode::Debug => Mode::StartPending,
            RunMode::Run => Mode::Continue,
        };
        let mut t = Tracer {
            tick: 0,
            after_marker: (0, 0),
            mode,
            quiet: false,
            lines_only: false,
            monitoring: false,
            can_monitor: false,
            last_user_code: (0, None),
            any_breaks: false,
            run_mode,
            pending: None,
            breaks: BreakpointTable::default(),
            files: FileTable::default(),
            channel,
            helpers,
            displays: Vec::new(),
            tt: None,
            attention: u64::MAX,
            scanning: false,
            function_breaks: false,
            fresh_frame: 0,
            fresh_tick: 0,
            watches: Vec::new(),
            suspend: None,
            suspend_check: u64::MAX,
            restore: None,
            program_info: None,
        };
        t.refresh_quiet();
        t
    }

    pub fn tick(&self) -> u64 {
        self.tick
    }

    pub fn channel(&mut self) -> &mut Channel {
        &mut self.channel
    }

    pub fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    fn refresh_quiet(&mut self) {
        self.any_breaks = self.breaks.any_enabled();
        self.function_breaks = self
            .breaks
            .iter()
            .any(|b| b.enabled && b.function.is_some());
        // Replaying to a goal, nothing stops the program before it (see `on_attention`).
        let to_goal = self.tt.as_deref().is_some_and(|t| t.goal().is_some());
        self.quiet = (matches!(self.mode, Mode::Continue)
            && !self.any_breaks
            && self.watches.is_empty()
            && !self.scanning
            && self.restore.is_none())
            || to_goal;
        self.lines_only = self.quiet
            && !self.scanning
            && self.restore.is_none()
            && !self.function_breaks
            && self.can_monitor;
    }

    /// Line events may come from `sys.monitoring` from now on (3.12+, set up by the agent).
    pub fn allow_monitoring(&mut self, allowed: bool) {
        self.can_monitor = allowed;
        self.refresh_quiet();
    }

    /// Moves line events to `sys.monitoring` when only they matter, and back to the trace
    /// function when calls, returns and exceptions do too. Both sources deliver the same line
    /// events, so the tick is the same whichever delivered it (a replay may switch at other
    /// places than the run it replays).
    fn sync_source(&mut self, py: Python<'_>) {
        // `scanning` and `restore` are read live: they can change after `lines_only` was last
        // computed (a copy adopting a scan refreshes `quiet` before `scanning`).
        let want = self.lines_only && !self.scanning && self.restore.is_none();
        if want == self.monitoring {
            return;
        }
        // CPython reads the clock while it re-instruments code: that read is sleepy's, not the
        // program's, and must not enter the record (a replay switches at other places).
        let _pause = crate::agent::replay::pause();
        if !want {
            // Frames that started while monitoring had no call event, so their f_trace_lines
            // was never turned off: library frames on the stack must not report lines.
            let mut frame = py
                .import("sys")
                .and_then(|sys| sys.call_method1("_getframe", (0,)))
                .ok();
            while let Some(f) = frame.filter(|f| !f.is_none()) {
                if let Some(traced) = TracedFrame::of(&f)
                    && !self.code_info(py, traced).user
                {
                    let _ = f.setattr(intern!(py, "f_trace_lines"), false);
                }
                frame = f.getattr(intern!(py, "f_back")).ok();
            }
        }
        match cpython::monitor_lines(py, want) {
            Ok(()) => self.monitoring = want,
            Err(e) => self.internal_error(py, &format!("switching line events: {e}")),
        }
    }

    fn code_info<'a>(&mut self, py: Python<'_>, frame: TracedFrame<'a>) -> &'a CodeInfo {
        let helpers = &self.helpers;
        let files = &mut self.files;
        frame.code_info(py, |code| describe_code(py, helpers, files, code, frame))
    }

    fn on_event<'a, 'py>(
        &mut self,
        py: Python<'py>,
        frame: TracedFrame<'a>,
        event: TraceEvent<'a, 'py>,
    ) -> Option<PyErr> {
        match event {
            TraceEvent::Line => {
                let line = frame.line();
                if line >= crate::rewrite::MARKER_BASE {
                    self.on_marker(py, frame, line);
                    return None;
                }
                if self.after_marker.0 != 0 && self.after_marker.0 == frame.id() {
                    // The line right after a marker is the one the marker stands before; the
                    // original code has no event there (see sleepy_rewrite.py).
                    let owner = self.after_marker.1;
                    self.after_marker = (0, 0);
                    if line == owner {
                        // A jump that went on with a loop's next item lands here: the loop's
                        // own line, before it takes the item.
                        if matches!(self.mode, Mode::Jumping(_)) {
                            return self.on_jump_line(py, frame, line);
                        }
                        return None;
                    }
                }
                if self.restore.is_some() {
                    return self.restore_line(py, frame, line);
                }
                self.tick += 1;
                if self.tick >= self.attention {
                    if self.tick >= self.suspend_check
                        && let Some(handled) = self.on_suspend_check(py, frame)
                    {
                        return handled;
                    }
                    if let Some(handled) = self.on_attention(py, frame) {
                        return handled;
                    }
                }
                if self.quiet {
                    return None;
                }
                self.on_line(py, frame)
            }
            TraceEvent::Call => {
                if self.restore.is_some() {
                    self.restore_call(py, frame);
                }
                if self.scanning {
                    self.scan_call(frame.id());
                }
                if self.function_breaks {
                    self.fresh_frame = frame.id();
                    self.fresh_tick = self.tick + 1;
                }
                let info = self.code_info(py, frame);
                if !info.user {
                    let _ = frame
                        .object(py)
                        .setattr(intern!(py, "f_trace_lines"), false);
                    None
                } else if matches!(self.mode, Mode::Step) {
                    self.stop_live(
                        py,
                        frame.object(py).to_owned(),
                        StopReason::Call,
                        None,
                        false,
                    )
                } else {
                    None
                }
            }
            TraceEvent::Return(value) => {
                if self.restore.is_some() {
                    self.restore_return(py, frame);
                }
                if self.scanning {
                    self.scan_return();
                    if !self.watches.is_empty() {
                        let generator = self.code_info(py, frame).generator;
                        self.watches_on_return(frame.id(), generator);
                    }
                    return None;
                }
                if self.quiet {
                    None
                } else {
                    self.on_return(py, frame, value)
                }
            }
            TraceEvent::Exception(arg) => {
                if self.quiet || self.scanning {
                    None
                } else {
                    self.on_exception(py, frame, arg)
                }
            }
        }
    }

    /// A rewriter marker: never a stop, never a tick; the next line of this frame, if it is
    /// the marker's own line, is not one either.
    fn on_marker(&mut self, py: Python<'_>, frame: TracedFrame<'_>, line: i32) {
        let info = self.code_info(py, frame);
        if let Ok(i) = info.markers.binary_search_by_key(&line, |m| m.0) {
            self.after_marker = (frame.id(), info.markers[i].1);
        }
    }

    fn on_line(&mut self, py: Python<'_>, frame: TracedFrame<'_>) -> Option<PyErr> {
        let line = frame.line();
        if let Mode::Jumping(_) = self.mode {
            return self.on_jump_line(py, frame, line);
        }
        if !self.watches.is_empty()
            && let Some(change) = self.check_watches(py, &frame.object(py))
        {
            let reason = StopReason::Watch {
                number: change.number,
                expr: change.expr,
                old: change.old,
                new: change.new,
            };
            return self.stop_live(py, frame.object(py).to_owned(), reason, None, true);
        }
        if self.any_breaks {
            let info = self.code_info(py, frame);
            if let Some(reason) = self.breakpoint_hit(py, frame, info, line) {
                return self.stop_live(py, frame.object(py).to_owned(), reason, None, true);
            }
        }
        let (stop, reason) = match &self.mode {
            Mode::Continue | Mode::Jumping(_) => (false, StopReason::Step),
            Mode::Step => (true, StopReason::Step),
            Mode::StartPending => (is_main_module(py, frame), StopReason::Start),
            Mode::Next(key) => (key.id == frame.id(), StopReason::Step),
            Mode::Until(key, at) => (key.id == frame.id() && line >= *at, StopReason::Step),
            Mode::Return {
                caller: Some(c), ..
            } => (c.id == frame.id(), StopReason::Step),
            Mode::Return { caller: None, .. } => (false, StopReason::Step),
        };
        if stop {
            return self.stop_live(py, frame.object(py).to_owned(), reason, None, true);
        }
        None
    }

    /// A line event while a jump runs its entry steps: only the jumping frame matters, and no
    /// breakpoint or step stops the program until the jump has landed.
    fn on_jump_line(&mut self, py: Python<'_>, frame: TracedFrame<'_>, line: i32) -> Option<PyErr> {
        let Mode::Jumping(jump) = &mut self.mode else {
            return None;
        };
        if jump.frame.id != frame.id() {
            return None;
        }
        let wait = jump.wait.take()?;
        // A line inside the wanted range lands, even when it is also a header line to pass
        // (going on with a loop's next item waits for the loop's own line).
        let inside = line >= wait.lo && line <= wait.hi;
        if !inside && wait.pass.contains(&line) {
            jump.wait = Some(wait);
            return None;
        }
        let frame_obj = frame.object(py).to_owned();
        if line < wait.lo || line > wait.hi {
            if jump.restoring {
                self.restore_failed(
                    py,
                    &format!(
                        "the jump that rebuilds a frame stopped at line {line}: {}",
                        wait.failure
                    ),
                );
            }
            let notes = std::mem::take(&mut jump.notes);
            self.mode = Mode::Step;
            self.refresh_quiet();
            let reason = StopReason::JumpFailed {
                message: wait.failure,
                notes,
            };
            return self.stop_live(py, frame_obj, reason, None, true);
        }
        self.continue_jump(py, frame_obj)
    }

    /// Runs the jump's next steps at a line event of its frame; stops when it has landed.
    fn continue_jump(&mut self, py: Python<'_>, frame: Bound<'_, PyAny>) -> Option<PyErr> {
        let Mode::Jumping(mut jump) = std::mem::replace(&mut self.mode, Mode::Step) else {
            return None;
        };
        match self.run_jump_steps(py, &frame, &mut jump) {
            JumpProgress::Landed if jump.restoring => self.restore_landed(py, frame),
            JumpProgress::Landed => {
                self.refresh_quiet();
                let reason = StopReason::Jump {
                    notes: std::mem::take(&mut jump.notes),
                };
                self.stop_live(py, frame, reason, None, true)
            }
            JumpProgress::Failed(message) => {
                self.refresh_quiet();
                let reason = StopReason::JumpFailed {
                    message,
                    notes: std::mem::take(&mut jump.notes),
                };
                self.stop_live(py, frame, reason, None, true)
            }
            JumpProgress::Waiting => {
                self.mode = Mode::Jumping(jump);
                self.refresh_quiet();
                None
            }
            JumpProgress::Raise(err) => {
                self.mode = Mode::Jumping(jump);
                self.refresh_quiet();
                Some(err)
            }
        }
    }

    /// Executes steps until one needs the program to run (a wait, or an exception to raise).
    fn run_jump_steps(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        jump: &mut Jumping,
    ) -> JumpProgress {
        while let Some(step) = jump.steps.pop_front() {
            match step {
                JumpStep::Set(name, expression) => {
                    let locals_to_fast =
                        match self.helpers.native.bind(py).getattr("locals_to_fast") {
                            Ok(f) => f,
                            Err(e) => return JumpProgress::Failed(e.to_string()),
                        };
                    let result = self
                        .helpers
                        .jump
                        .bind(py)
                        .getattr("assign")
                        .and_then(|f| f.call1((frame, &name, &expression, locals_to_fast)));
                    if let Err(e) = result {
                        return JumpProgress::Failed(format!(
                            "setting {name} failed: {}",
                            e.value(py)
                        ));
                    }
                }
                JumpStep::Goto(line) => {
                    let refused = self
                        .helpers
                        .jump
                        .bind(py)
                        .getattr("set_lineno")
                        .and_then(|f| f.call1((frame, line)))
                        .and_then(|r| r.extract::<Option<String>>());
                    match refused {
                        Ok(None) => {}
                        Ok(Some(why)) => {
                            return JumpProgress::Failed(format!("CPython refused: {why}"));
                        }
                        Err(e) => return JumpProgress::Failed(e.to_string()),
                    }
                }
                JumpStep::Raise(exception) => {
                    // The program runs from here (the exception unwinds to its handler): the
                    // wait that follows applies to the next line it reaches.
                    if let Some(JumpStep::Await(_)) = jump.steps.front()
                        && let Some(JumpStep::Await(wait)) = jump.steps.pop_front()
                    {
                        jump.wait = Some(wait);
                    }
                    return JumpProgress::Raise(PyErr::from_value(exception.into_bound(py)));
                }
                JumpStep::Await(wait) => {
                    jump.wait = Some(wait);
                    return JumpProgress::Waiting;
                }
            }
        }
        JumpProgress::Landed
    }

    fn on_return<'a, 'py>(
        &mut self,
        py: Python<'py>,
        frame: TracedFrame<'a>,
        value: Option<Borrowed<'a, 'py, PyAny>>,
    ) -> Option<PyErr> {
        if let Mode::Jumping(jump) = &self.mode {
            if jump.frame.id != frame.id() {
                return None;
            }
            // A coroutine awaiting (or a generator yielding) on the way in comes back: keep
            // waiting for it.
            let suspending = self.code_info(py, frame).generator
                && self
                    .helpers
                    .jump
                    .bind(py)
                    .getattr("is_suspending")
                    .and_then(|f| f.call1((frame.object(py),)))
                    .and_then(|r| r.extract::<bool>())
                    .unwrap_or(false);
            if suspending {
                return None;
            }
        }
        if let Mode::Jumping(jump) = &mut self.mode {
            // The frame is leaving before the jump could land (an entry step let it go).
            let message = jump
                .wait
                .take()
                .map(|w| w.failure)
                .unwrap_or_else(|| "the function returned before the jump landed".into());
            let notes = std::mem::take(&mut jump.notes);
            self.mode = Mode::Step;
            self.refresh_quiet();
            let value = value
                .map(|v| v.to_owned().unbind())
                .unwrap_or_else(|| py.None());
            let reason = StopReason::JumpFailed { message, notes };
            return self.stop_live(py, frame.object(py).to_owned(), reason, Some(value), false);
        }
        if !self.watches.is_empty() {
            let generator = self.code_info(py, frame).generator;
            for number in self.watches_on_return(frame.id(), generator) {
                self.notice(
                    Some(py),
                    format!(
                        "watchpoint {number}: its frame has returned; it watches again if the \
                         frame is entered again at the same depth"
                    ),
                );
            }
        }
        let stop = match &self.mode {
            Mode::Step => self.code_info(py, frame).user,
            Mode::Next(key) | Mode::Until(key, _) => {
                // pdb ignores a generator's yields while stepping over lines of it.
                key.id == frame.id() && !self.code_info(py, frame).generator
            }
            Mode::Return { frame: key, .. } => key.id == frame.id(),
            Mode::Continue | Mode::StartPending | Mode::Jumping(_) => false,
        };
        if stop {
            let value = value
                .map(|v| v.to_owned().unbind())
                .unwrap_or_else(|| py.None());
            return self.stop_live(
                py,
                frame.object(py).to_owned(),
                StopReason::Return,
                Some(value),
                false,
            );
        }
        None
    }

    fn on_exception<'a, 'py>(
        &mut self,
        py: Python<'py>,
        frame: TracedFrame<'a>,
        arg: Borrowed<'a, 'py, PyAny>,
    ) -> Option<PyErr> {
        let stop = match &self.mode {
            Mode::Step => self.code_info(py, frame).user,
            Mode::Next(key) => key.id == frame.id(),
            Mode::Until(key, at) => key.id == frame.id() && frame.line() >= *at,
            Mode::Return {
                caller: Some(c), ..
            } => c.id == frame.id(),
            _ => false,
        };
        if !stop {
            return None;
        }
        let tuple = arg.cast::<PyTuple>().ok()?;
        let (Ok(kind), Ok(value), Ok(tb)) =
            (tuple.get_item(0), tuple.get_item(1), tuple.get_item(2))
        else {
            return None;
        };
        // A generator's internal StopIteration (no traceback) is not an exception the user saw.
        let generator = self.code_info(py, frame).generator;
        let stop_iteration = py.get_type::<pyo3::exceptions::PyStopIteration>();
        if generator && tb.is_none() && kind.is(&stop_iteration) {
            return None;
        }
        let text = self
            .call_inspect(py, "error_text", (value,))
            .and_then(|t| t.extract::<String>().ok())
            .unwrap_or_else(|| "exception".into());
        self.stop_live(
            py,
            frame.object(py).to_owned(),
            StopReason::Exception { text },
            None,
            false,
        )
    }

    /// pdb's `break_here`/`effective`: hit counts, ignore counts, conditions, temporary ones.
    fn breakpoint_hit(
        &mut self,
        py: Python<'_>,
        frame: TracedFrame<'_>,
        info: &CodeInfo,
        line: i32,
    ) -> Option<StopReason> {
        let generation = self.breaks.generation();
        if info.breaks_generation.get() != generation {
            *info.break_lines.borrow_mut() = self.breaks.lines_in(info.file);
            info.function_break.set(self.breaks.names_function(
                info.file,
                info.first_line,
                &info.name,
            ));
            info.breaks_generation.set(generation);
        }
        let line_u = u32::try_from(line).ok()?;
        let at_line = info.break_lines.borrow().binary_search(&line_u).is_ok();
        if !at_line && !info.function_break.get() {
            return None;
        }
        let mut condition_error = None;
        let mut hit = None;
        for number in self
            .breaks
            .candidates(info.file, line_u, info.first_line, &info.name)
        {
            let condition = {
                let bp = self.breaks.get_mut(number)?;
                if bp.function.is_some() {
                    match bp.function_first_line {
                        // Only the first line event of a frame that was seen starting tells
                        // where the function starts (a copy spawned from a checkpoint can
                        // begin in the middle of one).
                        None if frame.id() == self.fresh_frame && self.tick == self.fresh_tick => {
                            bp.function_first_line = Some(line)
                        }
                        None => continue,
                        Some(first) if first != line => continue,
                        Some(_) => {}
                    }
                }
                bp.hits += 1;
                bp.condition.clone()
            };
            let fire = match condition {
                None => true,
                Some(cond) => match self.eval_condition(py, frame, &cond) {
                    Ok(truth) => truth,
                    Err(err) => {
                        condition_error =
                            Some(format!("Error in condition of breakpoint {number}: {err}"));
                        hit = Some(number);
                        break;
                    }
                },
            };
            if !fire {
                continue;
            }
            let bp = self.breaks.get_mut(number)?;
            if bp.ignore > 0 {
                bp.ignore -= 1;
                continue;
            }
            hit = Some(number);
            break;
        }
        let number = hit?;
        let mut deleted = Vec::new();
        let temporary = self
            .breaks
            .get_mut(number)
            .map(|b| b.temporary)
            .unwrap_or(false);
        if temporary && condition_error.is_none() {
            deleted.extend(self.breaks.delete(number));
            self.refresh_quiet();
        }
        Some(StopReason::Breakpoint {
            numbers: vec![number],
            deleted,
            condition_error,
        })
    }

    fn eval_condition(
        &self,
        py: Python<'_>,
        frame: TracedFrame<'_>,
        cond: &str,
    ) -> Result<bool, String> {
        let result = self
            .call_inspect(py, "evaluate_value", (frame.object(py), cond))
            .ok_or_else(|| "sleepy could not evaluate it".to_string())?;
        let (ok, value): (bool, Bound<'_, PyAny>) =
            result.extract().map_err(|e: PyErr| e.to_string())?;
        if !ok {
            return Err(self
                .call_inspect(py, "error_text", (value,))
                .and_then(|t| t.extract::<String>().ok())
                .unwrap_or_default());
        }
        value.is_truthy().map_err(|e| e.to_string())
    }

    fn on_breakpoint_call(&mut self, py: Python<'_>) {
        if self.run_mode == RunMode::Run {
            let place = py
                .import("sys")
                .and_then(|sys| sys.call_method1("_getframe", (1,)))
                .and_then(|f| {
                    let code = f.getattr("f_code")?;
                    Ok(format!(
                        "{}:{}",
                        code.getattr("co_filename")?,
                        f.getattr("f_lineno")?
                    ))
                })
                .unwrap_or_else(|_| "?".into());
            let text =
                format!("breakpoint() at {place} ignored: `sleepy run` has no debugger attached");
            self.notice(Some(py), text);
            return;
        }
        self.mode = Mode::Step;
        self.pending = Some(StopReason::BreakpointCall);
        self.refresh_quiet();
    }

    /// Something for the user that is not an answer, shown after the output written so far.
    fn notice(&mut self, py: Option<Python<'_>>, text: String) {
        if let Some(py) = py {
            self.flush_program_output(py);
        }
        let sync = self.channel.mark();
        let _ = self.channel.send(&AgentMessage::Notice { text, sync });
    }

    fn call_inspect<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        args: impl pyo3::call::PyCallArgs<'py>,
    ) -> Option<Bound<'py, PyAny>> {
        let module = self.helpers.inspect.bind(py);
        match module.getattr(name).and_then(|f| f.call1(args)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.internal_error(py, &format!("{name}: {e}"));
                None
            }
        }
    }

    fn internal_error(&self, _py: Python<'_>, text: &str) {
        // Reported on the channel, never on the program's stderr.
        let _ = protocol_notice(text);
    }

    // --- stopping -------------------------------------------------------------------------------

    fn stop_live(
        &mut self,
        py: Python<'_>,
        frame: Bound<'_, PyAny>,
        reason: StopReason,
        return_value: Option<Py<PyAny>>,
        at_line: bool,
    ) -> Option<PyErr> {
        if IN_FORKED_CHILD.load(Ordering::SeqCst) {
            return None;
        }
        if !matches!(reason, StopReason::Suspended { .. }) && self.cancel_suspend_next() {
            self.notice(
                Some(py),
                "the program stopped before a safe point: `suspend next` is cancelled".into(),
            );
        }
        let mut reason = match (reason, self.pending.take()) {
            (StopReason::Step | StopReason::Call | StopReason::Return, Some(pending)) => pending,
            (reason, _) => reason,
        };
        if at_line {
            // Every stop at a line is a checkpoint: stepping back from it is then a short replay.
            match self.checkpoint_at_stop(py, &frame) {
                None => {}
                Some(Adopted::StopHere) => reason = StopReason::Arrived,
                Some(Adopted::Run) => return None,
            }
        }
        let ctx = self.live_context(py, &frame, return_value, at_line)?;
        match self.interact(py, ctx, reason) {
            After::Quit => quit_now(),
            After::Resume => None,
            After::Raise(err) => Some(err),
        }
    }

    fn live_context(
        &self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        return_value: Option<Py<PyAny>>,
        at_line: bool,
    ) -> Option<StopContext> {
        match self
            .call_inspect(py, "live_stack", (frame,))
            .map(|s| s.extract::<Vec<(Py<PyAny>, u32)>>())
        {
            Some(Ok(frames)) if !frames.is_empty() => Some(StopContext {
                frames,
                return_value,
                post_mortem: false,
                at_line,
            }),
            _ => None,
        }
    }

    /// A scanner whose program ended with an uncaught exception has seen every line before its
    /// limit: it answers now, before the traceback is printed (printing reads the source,
    /// which the recorded run may have done at another moment: 3.13 reads it before writing
    /// the traceback's first line, and its linecache may be warm in one process and cold in
    /// the other).
    pub fn end_scan_at_uncaught(&mut self, py: Python<'_>, exc: &Bound<'_, PyAny>) {
        if !self.scanning {
            return;
        }
        let Ok(tb) = exc.getattr("__traceback__") else {
            self.scan_ended();
            return;
        };
        let innermost = self
            .call_inspect(py, "traceback_stack", (&tb,))
            .and_then(|s| s.extract::<Vec<(Py<PyAny>, u32)>>().ok())
            .and_then(|s| s.last().map(|(f, _)| f.clone_ref(py)));
        match innermost {
            Some(frame) => self.finish_scan(frame.bind(py), true),
            None => self.scan_ended(),
        }
    }

    /// Stops after an uncaught exception, on the frames of its traceback.
    pub fn post_mortem(
        &mut self,
        py: Python<'_>,
        exc: &Bound<'_, PyAny>,
        description: String,
    ) -> bool {
        let tb = match exc.getattr("__traceback__") {
            Ok(tb) => tb,
            Err(_) => return true,
        };
        self.end_scan_at_uncaught(py, exc);
        let stack = match self
            .call_inspect(py, "traceback_stack", (tb,))
            .map(|s| s.extract::<Vec<(Py<PyAny>, u32)>>())
        {
            Some(Ok(stack)) if !stack.is_empty() => stack,
            _ => return true,
        };
        let ctx = StopContext {
            frames: stack,
            return_value: None,
            post_mortem: true,
            at_line: false,
        };
        matches!(
            self.interact(
                py,
                ctx,
                StopReason::PostMortem {
                    exception: description
                }
            ),
            After::Resume
        )
    }

    fn describe_stack(&self, py: Python<'_>, ctx: &StopContext) -> Vec<FrameInfo> {
        let project = self.helpers.project.bind(py);
        let newest = ctx.newest();
        ctx.frames
            .iter()
            .enumerate()
            .map(|(i, (frame, line))| {
                let info = self
                    .call_inspect(py, "frame_info", (project, frame.bind(py), *line))
                    .and_then(|t| {
                        t.extract::<(String, u32, String, String, String, bool)>()
                            .ok()
                    });
                let (file, line, function, qualname, source, user) = info.unwrap_or_else(|| {
                    (
                        "?".into(),
                        *line,
                        "?".into(),
                        "?".into(),
                        String::new(),
                        false,
                    )
                });
                let return_value = match (&ctx.return_value, i == newest) {
                    (Some(v), true) => Some(self.repr(py, v.bind(py))),
                    _ => None,
                };
                FrameInfo {
                    file,
                    line,
                    function,
                    qualname,
                    source,
                    user,
                    return_value,
                }
            })
            .collect()
    }

    fn repr(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> String {
        self.call_inspect(py, "safe_repr", (value,))
            .and_then(|r| r.extract::<String>().ok())
            .unwrap_or_else(|| "<unrepresentable>".into())
    }

    /// pdb's `preloop`: displays of the stopped frame whose value changed.
    fn refresh_displays(&mut self, py: Python<'_>, ctx: &StopContext) -> Vec<DisplayChange> {
        let on_stack: Vec<usize> = ctx
            .frames
            .iter()
            .map(|(f, _)| f.as_ptr() as usize)
            .collect();
        // Displays of frames that have finished can never show again (generators excepted).
        self.displays.retain(|d| {
            on_stack.contains(&d.frame.id)
                || d.frame
                    ._keep
                    .bind(py)
                    .getattr("f_code")
                    .and_then(|c| c.getattr("co_flags"))
                    .and_then(|f| f.extract::<i64>())
                    .map(|f| f & 0x2A0 != 0)
                    .unwrap_or(false)
        });
        let Some(newest) = ctx.frame(py, ctx.newest()) else {
            return Vec::new();
        };
        let id = newest.as_ptr() as usize;
        let mut changes = Vec::new();
        for i in 0..self.displays.len() {
            if self.displays[i].frame.id != id {
                continue;
            }
            let expr = self.displays[i].expr.clone();
            let Some((ok, value)) = self
                .call_inspect(py, "evaluate_value", (&newest, &expr))
                .and_then(|r| r.extract::<(bool, Py<PyAny>)>().ok())
            else {
                continue;
            };
            let (old_ok, old) = (self.displays[i].ok, self.displays[i].value.clone_ref(py));
            let changed = self
                .call_inspect(py, "display_changed", (old_ok, &old, ok, &value))
                .and_then(|c| c.extract::<bool>().ok())
                .unwrap_or(false);
            if changed {
                let text = |ok: bool, v: &Py<PyAny>| {
                    self.call_inspect(py, "display_text", (ok, v))
                        .and_then(|t| t.extract::<String>().ok())
                        .unwrap_or_default()
                };
                changes.push(DisplayChange {
                    expr,
                    value: text(ok, &value),
                    old: text(old_ok, &old),
                });
                self.displays[i].ok = ok;
                self.displays[i].value = value;
            }
        }
        changes
    }

    fn flush_program_output(&self, py: Python<'_>) {
        let _ = self
            .helpers
            .runner
            .bind(py)
            .getattr("flush_std")
            .and_then(|f| f.call0());
    }

    fn announce(&mut self, py: Python<'_>, ctx: &StopContext, reason: StopReason) -> bool {
        self.flush_program_output(py);
        let displays = self.refresh_displays(py, ctx);
        let depth = ctx
            .frame(py, ctx.newest())
            .and_then(|f| self.call_inspect(py, "frame_depth", (f,)))
            .and_then(|d| d.extract::<usize>().ok())
            .unwrap_or(0);
        let stop = Stop {
            reason,
            tick: self.tick,
            at_line: ctx.at_line && !ctx.post_mortem,
            depth,
            stack: self.describe_stack(py, ctx),
            displays,
        };
        let sync = self.channel.mark();
        self.channel
            .send(&AgentMessage::Stopped { stop, sync })
            .is_ok()
    }

    fn interact(&mut self, py: Python<'_>, ctx: StopContext, reason: StopReason) -> After {
        // Nothing the agent does at a stop is the program's own activity: it must not enter
        // the record a replay follows.
        let pause = crate::agent::replay::pause();
        let after = self.converse(py, ctx, reason);
        drop(pause);
        if matches!(after, After::Resume | After::Raise(_)) {
            self.resumed();
        }
        after
    }

    fn converse(&mut self, py: Python<'_>, mut ctx: StopContext, reason: StopReason) -> After {
        self.check_off(py);
        if !self.announce(py, &ctx, reason) {
            return After::Quit;
        }
        loop {
            if IN_FORKED_CHILD.load(Ordering::SeqCst) {
                return After::Resume;
            }
            let Some(request) = self.channel.receive(py) else {
                return After::Quit;
            };
            let reply = match request {
                Request::Quit => return After::Quit,
                Request::Resume { resume, frame } => match self.resume(py, &ctx, resume, frame) {
                    Ok(()) => return After::Resume,
                    Err(message) => Reply::Error(message),
                },
                Request::Jump {
                    frame,
                    line,
                    option,
                } => match self.start_jump(py, &ctx, frame, line, option) {
                    Err(message) => Reply::Error(message),
                    Ok(start) => {
                        // The program now goes where no recorded run went.
                        self.diverge(self.tick);
                        match start {
                            JumpStart::Running => return After::Resume,
                            JumpStart::Raise(err) => return After::Raise(err),
                            JumpStart::Landed { frame, reason } => {
                                // The frame moved without running: describe it where it
                                // is now (a checkpoint of the new timeline first).
                                let frame = frame.bind(py).clone();
                                let reason = match self.checkpoint_at_stop(py, &frame) {
                                    Some(adopted) => match travel::after_adopt(adopted) {
                                        Some(after) => return after,
                                        None => StopReason::Arrived,
                                    },
                                    None => reason,
                                };
                                match self.live_context(py, &frame, None, true) {
                                    Some(moved) => ctx = moved,
                                    None => return After::Resume,
                                }
                                if !self.announce(py, &ctx, reason) {
                                    return After::Quit;
                                }
                                continue;
                            }
                        }
                    }
                },
                Request::Suspend { path, next } => {
                    match (ctx.at_line && !ctx.post_mortem, ctx.frame(py, ctx.newest())) {
                        (true, Some(frame)) => match self.suspend_command(py, &frame, path, next)
                        {
                            Ok(message) => Reply::Message(vec![message]),
                            // `suspend next`: on to the next safe point.
                            Err((_, true)) => return After::Resume,
                            Err((message, false)) => Reply::Error(message),
                        },
                        _ => Reply::Error(
                            "Cannot suspend here: a program can only be suspended at the start of a line (step to one first); a post-mortem state is kept with `sleepy run --dump-on-crash`"
                                .into(),
                        ),
                    }
                }
                Request::RunTo { tick } => match self.run_to(tick) {
                    Ok(()) => return After::Resume,
                    Err(message) => Reply::Error(message),
                },
                Request::Checkpoint => {
                    match (ctx.at_line && !ctx.post_mortem, ctx.frame(py, ctx.newest())) {
                        (true, Some(frame)) => {
                            if !self.time_travel_on() {
                                Reply::Error("time travel is off for this run".into())
                            } else {
                                match self.checkpoint_at_stop(py, &frame) {
                                    None => Reply::Done,
                                    Some(adopted) => match travel::after_adopt(adopted) {
                                        Some(after) => return after,
                                        None => {
                                            if !self.announce(py, &ctx, StopReason::Arrived) {
                                                return After::Quit;
                                            }
                                            continue;
                                        }
                                    },
                                }
                            }
                        }
                        _ => Reply::Error(
                            "a checkpoint is taken at a line: step to a line first".into(),
                        ),
                    }
                }
                Request::Exec { frame, source } => {
                    let reply = self.answer(py, &ctx, Request::Exec { frame, source });
                    // A statement can change anything: the recorded future no longer holds. At
                    // a line stop the state of this very tick changed; elsewhere the next one.
                    let at_line = ctx.at_line && !ctx.post_mortem;
                    let tick = if at_line { self.tick } else { self.tick + 1 };
                    self.diverge(tick);
                    // The new timeline needs a checkpoint of its own where it starts, or its
                    // ticks up to the next one could never be visited again.
                    match ctx.frame(py, ctx.newest()).filter(|_| at_line) {
                        Some(frame) => {
                            if let Some(adopted) = self.checkpoint_at_stop(py, &frame) {
                                match travel::after_adopt(adopted) {
                                    Some(after) => return after,
                                    None => {
                                        if !self.announce(py, &ctx, StopReason::Arrived) {
                                            return After::Quit;
                                        }
                                        continue;
                                    }
                                }
                            }
                        }
                        None => self.checkpoint_next_line(),
                    }
                    reply
                }
                other => self.answer(py, &ctx, other),
            };
            self.flush_program_output(py);
            let sync = self.channel.mark();
            if self
                .channel
                .send(&AgentMessage::Reply { reply, sync })
                .is_err()
            {
                return After::Quit;
            }
        }
    }

    /// `jump LINE [OPTION]`: plans the move (sleepy_jump.py) and starts it. CPython only lets the
    /// frame whose line event is being delivered jump, so only the newest frame at a line stop can.
    fn start_jump(
        &mut self,
        py: Python<'_>,
        ctx: &StopContext,
        frame: usize,
        line: u32,
        option: Option<String>,
    ) -> Result<JumpStart, String> {
        if ctx.post_mortem {
            return Err("Jump failed: the program has ended with an uncaught exception".into());
        }
        if frame != ctx.newest() {
            return Err("You can only jump within the bottom frame".into());
        }
        if !ctx.at_line {
            return Err(
                "Jump failed: can only jump from a 'line' trace event (step to a line first)"
                    .into(),
            );
        }
        let target =
            i32::try_from(line).map_err(|_| format!("Jump failed: there is no line {line}"))?;
        let stopped = ctx.frame(py, frame).ok_or("Jump failed: no frame")?;
        let jump = self.helpers.jump.bind(py);
        if self.helpers.rewriting.is_none() {
            // --no-rewrite: CPython's own rules, as in pdb.
            let refused = jump
                .getattr("set_lineno")
                .and_then(|f| f.call1((&stopped, target)))
                .and_then(|r| r.extract::<Option<String>>())
                .map_err(|e| e.to_string())?;
            return match refused {
                None => Ok(JumpStart::Landed {
                    frame: stopped.unbind(),
                    reason: StopReason::Jump { notes: Vec::new() },
                }),
                Some(why) => Err(format!("Jump failed: {why}")),
            };
        }
        let markers: Vec<(i32, i32)> = {
            let filename = stopped
                .getattr("f_code")
                .and_then(|c| c.getattr("co_filename"))
                .map_err(|e| e.to_string())?;
            self.helpers
                .rewriting
                .as_ref()
                .and_then(|r| r.bind(py).getattr("markers").ok())
                .and_then(|m| m.get_item(filename).ok())
                .and_then(|m| m.extract::<std::collections::HashMap<i32, i32>>().ok())
                .map(|m| m.into_iter().collect())
                .unwrap_or_default()
        };
        let planned = jump
            .getattr("plan")
            .and_then(|f| f.call1((&stopped, target, markers, option)))
            .map_err(|e| format!("Jump failed: sleepy could not plan it: {e}"))?;
        let (ok, steps, notes): (bool, Bound<'_, PyAny>, Vec<String>) =
            planned.extract().map_err(|e: PyErr| e.to_string())?;
        if !ok {
            return Err(format!(
                "Jump failed: {}",
                steps.extract::<String>().unwrap_or_default()
            ));
        }
        let queue = parse_steps(&steps).map_err(|e| format!("Jump failed: {e}"))?;
        let mut jumping = Jumping {
            frame: FrameKey::of(&stopped),
            steps: queue,
            wait: None,
            notes,
            restoring: false,
        };
        match self.run_jump_steps(py, &stopped, &mut jumping) {
            JumpProgress::Landed => Ok(JumpStart::Landed {
                frame: stopped.unbind(),
                reason: StopReason::Jump {
                    notes: jumping.notes,
                },
            }),
            JumpProgress::Failed(message) => Err(format!("Jump failed: {message}")),
            JumpProgress::Waiting => {
                self.mode = Mode::Jumping(Box::new(jumping));
                self.refresh_quiet();
                Ok(JumpStart::Running)
            }
            JumpProgress::Raise(err) => {
                self.mode = Mode::Jumping(Box::new(jumping));
                self.refresh_quiet();
                Ok(JumpStart::Raise(err))
            }
        }
    }

    fn resume(
        &mut self,
        py: Python<'_>,
        ctx: &StopContext,
        how: Resume,
        frame: usize,
    ) -> Result<(), String> {
        if ctx.post_mortem {
            return match how {
                Resume::Continue => Ok(()),
                _ => Err("The program has ended with an uncaught exception; there is no next line to run. \
                          'continue' or 'quit' ends the session."
                    .into()),
            };
        }
        let selected = ctx
            .frame(py, frame)
            .ok_or_else(|| format!("No frame {frame}"))?;
        let line = i32::try_from(ctx.frames[frame].1).unwrap_or(i32::MAX);
        // At a return stop the frame is leaving: pdb turns next/until on it into a step.
        let leaving = ctx.return_value.is_some() && frame == ctx.newest();
        self.mode = match how {
            Resume::Step => Mode::Step,
            Resume::Continue => Mode::Continue,
            Resume::Next if leaving => Mode::Step,
            Resume::Next => Mode::Next(FrameKey::of(&selected)),
            Resume::Until(target) => {
                if let Some(target) = target
                    && i64::from(target) <= i64::from(line)
                {
                    return Err("\"until\" line number is smaller than current line number".into());
                }
                if leaving {
                    Mode::Step
                } else {
                    let at = target
                        .map(|t| i32::try_from(t).unwrap_or(i32::MAX))
                        .unwrap_or(line + 1);
                    Mode::Until(FrameKey::of(&selected), at)
                }
            }
            Resume::Return => {
                let caller = frame
                    .checked_sub(1)
                    .and_then(|i| ctx.frame(py, i))
                    .map(|f| FrameKey::of(&f));
                Mode::Return {
                    frame: FrameKey::of(&selected),
                    caller,
                }
            }
        };
        self.refresh_quiet();
        Ok(())
    }

    // --- answering requests at a stop -----------------------------------------------------------

    fn answer(&mut self, py: Python<'_>, ctx: &StopContext, request: Request) -> Reply {
        let frame_of = |index: usize| ctx.frame(py, index);
        match request {
            Request::Eval { frame, expr, style } => {
                let Some(f) = frame_of(frame) else {
                    return no_frame(frame);
                };
                let style = match style {
                    EvalStyle::Repr => "repr",
                    EvalStyle::Pretty => "pretty",
                    EvalStyle::WhatIs => "whatis",
                };
                match self
                    .call_inspect(py, "evaluate", (f, expr, style))
                    .map(|r| r.extract::<(bool, String)>())
                {
                    Some(Ok((true, text))) => Reply::Value(text),
                    Some(Ok((false, text))) => Reply::Error(text),
                    _ => Reply::Error("sleepy could not evaluate that".into()),
                }
            }
            Request::Exec { frame, source } => {
                let Some(f) = frame_of(frame) else {
                    return no_frame(frame);
                };
                let locals_to_fast = match self.helpers.native.bind(py).getattr("locals_to_fast") {
                    Ok(func) => func,
                    Err(e) => return Reply::Error(e.to_string()),
                };
                match self
                    .call_inspect(py, "execute", (f, source, locals_to_fast))
                    .map(|r| r.extract::<(bool, Vec<String>)>())
                {
                    Some(Ok((true, lines))) => Reply::Message(lines),
                    Some(Ok((false, mut lines))) => {
                        let error = lines.pop().unwrap_or_default();
                        if lines.is_empty() {
                            Reply::Error(error)
                        } else {
                            Reply::Output {
                                lines,
                                error: Some(error),
                            }
                        }
                    }
                    _ => Reply::Error("sleepy could not run that".into()),
                }
            }
            Request::Args { frame } => {
                let Some(f) = frame_of(frame) else {
                    return no_frame(frame);
                };
                match self
                    .call_inspect(py, "frame_args", (f,))
                    .map(|r| r.extract::<Vec<(String, Option<String>)>>())
                {
                    Some(Ok(args)) => Reply::Args(
                        args.into_iter()
                            .map(|(name, value)| ArgValue { name, value })
                            .collect(),
                    ),
                    _ => Reply::Error("sleepy could not read the arguments".into()),
                }
            }
            Request::Variables {
                frame,
                path,
                start,
                count,
            } => {
                let Some(f) = frame_of(frame) else {
                    return no_frame(frame);
                };
                self.variables(py, f, path, start, count)
            }
            Request::Retval { frame } => match (&ctx.return_value, frame == ctx.newest()) {
                (Some(v), true) => Reply::Value(self.repr(py, v.bind(py))),
                _ => Reply::Error("Not yet returned!".into()),
            },
            Request::Source { file, frame } => {
                let f = frame_of(frame);
                match self
                    .call_inspect(py, "source_lines", (file, f))
                    .map(|r| r.extract::<Vec<String>>())
                {
                    Some(Ok(lines)) => Reply::Lines { first: 1, lines },
                    _ => Reply::Error("Could not read the source".into()),
                }
            }
            Request::FunctionSource { frame } => {
                let Some(f) = frame_of(frame) else {
                    return no_frame(frame);
                };
                let result = self.call_inspect(py, "function_source", (f,));
                match result
                    .as_ref()
                    .map(|r| r.extract::<(bool, Bound<'_, PyAny>)>())
                {
                    Some(Ok((true, v))) => match v.extract::<(u32, Vec<String>)>() {
                        Ok((first, lines)) => Reply::Lines { first, lines },
                        Err(e) => Reply::Error(e.to_string()),
                    },
                    Some(Ok((false, v))) => Reply::Error(v.to_string()),
                    _ => Reply::Error("Could not read the source".into()),
                }
            }
            Request::Break {
                frame,
                location,
                condition,
                temporary,
            } => self.set_breakpoint(py, frame_of(frame), &location, condition, temporary),
            Request::ClearAll => {
                let deleted = self.breaks.delete_all();
                self.refresh_quiet();
                Reply::Deleted {
                    deleted,
                    errors: Vec::new(),
                }
            }
            Request::ClearNumbers { numbers } => {
                let mut deleted = Vec::new();
                let mut errors = Vec::new();
                for n in numbers {
                    match self.breaks.lookup(&n) {
                        Ok(number) => deleted.extend(self.breaks.delete(number)),
                        Err(e) => errors.push(e),
                    }
                }
                self.refresh_quiet();
                Reply::Deleted { deleted, errors }
            }
            Request::ClearLine { file, line } => {
                let Ok(line) = line.trim().parse::<u32>() else {
                    return Reply::Error(format!("Invalid line number ({line})"));
                };
                let path = self
                    .call_inspect(py, "_lookup_file", (&file, &self.helpers.project_root))
                    .and_then(|p| p.extract::<Option<String>>().ok())
                    .flatten()
                    .and_then(|p| self.call_inspect(py, "canonical", (p,)))
                    .and_then(|p| p.extract::<String>().ok())
                    .unwrap_or(file);
                let id = self.files.intern(&path);
                let result = self.breaks.delete_at(id, &path, line);
                self.refresh_quiet();
                match result {
                    Ok(deleted) => Reply::Deleted {
                        deleted,
                        errors: Vec::new(),
                    },
                    Err(e) => Reply::Error(e),
                }
            }
            Request::Enable { numbers, enable } => {
                let mut changed = Vec::new();
                let mut errors = Vec::new();
                for n in numbers {
                    match self.breaks.lookup(&n) {
                        Ok(number) => changed.extend(self.breaks.set_enabled(number, enable)),
                        Err(e) => errors.push(e),
                    }
                }
                self.refresh_quiet();
                Reply::Toggled { changed, errors }
            }
            Request::Condition { number, condition } => match self.breaks.lookup(&number) {
                Ok(n) => {
                    if let Some(cond) = &condition
                        && let Err(e) = self.check_syntax(py, cond)
                    {
                        return Reply::Error(e);
                    }
                    match self.breaks.get_mut(n) {
                        Some(bp) => {
                            bp.condition = condition.filter(|c| !c.trim().is_empty());
                            Reply::Toggled {
                                changed: vec![bp.info()],
                                errors: Vec::new(),
                            }
                        }
                        None => Reply::Error(format!("Breakpoint {n} already deleted")),
                    }
                }
                Err(e) => Reply::Error(e),
            },
            Request::Ignore { number, count } => match self.breaks.lookup(&number) {
                Ok(n) => {
                    let count = count
                        .and_then(|c| c.trim().parse::<i64>().ok())
                        .unwrap_or(0);
                    match self.breaks.get_mut(n) {
                        Some(bp) => {
                            bp.ignore = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
                            Reply::Toggled {
                                changed: vec![bp.info()],
                                errors: Vec::new(),
                            }
                        }
                        None => Reply::Error(format!("Breakpoint {n} already deleted")),
                    }
                }
                Err(e) => Reply::Error(e),
            },
            Request::ListBreakpoints => Reply::Breakpoints(self.breaks.list()),
            Request::Display { frame, expr } => {
                let Some(f) = frame_of(frame) else {
                    return no_frame(frame);
                };
                self.display(py, &f, expr)
            }
            Request::Undisplay { frame, expr } => {
                let Some(f) = frame_of(frame) else {
                    return no_frame(frame);
                };
                let id = f.as_ptr() as usize;
                match expr {
                    Some(expr) => {
                        let before = self.displays.len();
                        self.displays
                            .retain(|d| !(d.frame.id == id && d.expr == expr));
                        if self.displays.len() == before {
                            Reply::Error(format!("not displaying {expr}"))
                        } else {
                            Reply::Done
                        }
                    }
                    None => {
                        self.displays.retain(|d| d.frame.id != id);
                        Reply::Done
                    }
                }
            }
            Request::Watch {
                number,
                frame,
                expr,
                function,
            } => self.add_watch(py, ctx, number, frame, expr, function),
            Request::Unwatch { number } => {
                self.watches
                    .retain(|w| number.is_some_and(|n| n != w.number));
                self.refresh_quiet();
                Reply::Done
            }
            Request::RestoreBreakpoints { .. } | Request::RestoreWatch { .. } => Reply::Done,
            Request::Launch(_) => Reply::Error("the program is already running".into()),
            Request::Resume { .. }
            | Request::Quit
            | Request::Jump { .. }
            | Request::RunTo { .. }
            | Request::Suspend { .. }
            | Request::Checkpoint => Reply::Done,
        }
    }

    /// A page of a frame's variables tree (see `sleepy_inspect.variables`).
    fn variables(
        &self,
        py: Python<'_>,
        frame: Bound<'_, PyAny>,
        path: Vec<u32>,
        start: u32,
        count: u32,
    ) -> Reply {
        type Entry = (String, String, String, Option<u32>);
        match self
            .call_inspect(py, "variables", (frame, path, start, count))
            .map(|r| r.extract::<(u32, Vec<Entry>, Option<String>)>())
        {
            Some(Ok((total, entries, error))) => Reply::Variables(VariablesPage {
                total,
                entries: entries
                    .into_iter()
                    .map(|(name, type_name, value, children)| VariableEntry {
                        name,
                        type_name,
                        value,
                        children,
                    })
                    .collect(),
                error,
            }),
            _ => Reply::Error("sleepy could not list the variables".into()),
        }
    }

    fn check_syntax(&self, py: Python<'_>, expr: &str) -> Result<(), String> {
        let builtins = py.import("builtins").map_err(|e| e.to_string())?;
        match builtins
            .getattr("compile")
            .and_then(|c| c.call1((expr, "<breakpoint condition>", "eval")))
        {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("Invalid condition {expr:?}: {}", e.value(py))),
        }
    }

    fn set_breakpoint(
        &mut self,
        py: Python<'_>,
        frame: Option<Bound<'_, PyAny>>,
        location: &str,
        condition: Option<String>,
        temporary: bool,
    ) -> Reply {
        let condition = condition.filter(|c| !c.trim().is_empty());
        if let Some(cond) = &condition
            && let Err(e) = self.check_syntax(py, cond)
        {
            return Reply::Error(e);
        }
        let frame_obj: Py<PyAny> = frame.map(|f| f.unbind()).unwrap_or_else(|| py.None());
        let resolved = self
            .call_inspect(
                py,
                "resolve_location",
                (frame_obj, location, &self.helpers.project_root),
            )
            .map(|r| r.extract::<(bool, Bound<'_, PyAny>)>());
        match resolved {
            Some(Ok((true, value))) => match value.extract::<(String, u32, Option<String>)>() {
                Ok((path, line, function)) => {
                    let file = self.files.intern(&path);
                    let info = self.breaks.add(NewBreakpoint {
                        file,
                        path,
                        line,
                        temporary,
                        condition,
                        function,
                    });
                    self.refresh_quiet();
                    Reply::BreakpointSet(info)
                }
                Err(e) => Reply::Error(e.to_string()),
            },
            Some(Ok((false, message))) => Reply::Error(message.to_string()),
            _ => Reply::Error("sleepy could not resolve that location".into()),
        }
    }

    fn display(&mut self, py: Python<'_>, frame: &Bound<'_, PyAny>, expr: Option<String>) -> Reply {
        let id = frame.as_ptr() as usize;
        let Some(expr) = expr else {
            let shown = self
                .displays
                .iter()
                .filter(|d| d.frame.id == id)
                .map(|d| {
                    let text = self
                        .call_inspect(py, "display_text", (d.ok, d.value.bind(py)))
                        .and_then(|t| t.extract::<String>().ok())
                        .unwrap_or_default();
                    (d.expr.clone(), text)
                })
                .collect();
            return Reply::Displays(shown);
        };
        let Some((ok, value)) = self
            .call_inspect(py, "evaluate_value", (frame, &expr))
            .and_then(|r| r.extract::<(bool, Py<PyAny>)>().ok())
        else {
            return Reply::Error("sleepy could not evaluate that".into());
        };
        let text = self
            .call_inspect(py, "display_text", (ok, &value))
            .and_then(|t| t.extract::<String>().ok())
            .unwrap_or_default();
        if let Some(existing) = self
            .displays
            .iter_mut()
            .find(|d| d.frame.id == id && d.expr == expr)
        {
            existing.ok = ok;
            existing.value = value;
        } else {
            self.displays.push(Display {
                frame: FrameKey::of(frame),
                expr: expr.clone(),
                ok,
                value,
            });
        }
        Reply::Displays(vec![(expr, text)])
    }
}

/// The planner's steps (sleepy_jump.py) as the tracer runs them.
fn parse_steps(steps: &Bound<'_, PyAny>) -> Result<std::collections::VecDeque<JumpStep>, String> {
    let mut queue = std::collections::VecDeque::new();
    for step in steps.try_iter().map_err(|e| e.to_string())? {
        let step = step.map_err(|e| e.to_string())?;
        let kind: String = step
            .get_item(0)
            .and_then(|k| k.extract())
            .map_err(|e| e.to_string())?;
        let item = |i: usize| step.get_item(i).map_err(|e| e.to_string());
        queue.push_back(match kind.as_str() {
            "set" => JumpStep::Set(
                item(1)?.extract().map_err(|e: PyErr| e.to_string())?,
                item(2)?.extract().map_err(|e: PyErr| e.to_string())?,
            ),
            "goto" => JumpStep::Goto(item(1)?.extract().map_err(|e: PyErr| e.to_string())?),
            "raise" => JumpStep::Raise(item(1)?.unbind()),
            "await" => JumpStep::Await(JumpWait {
                lo: item(1)?.extract().map_err(|e: PyErr| e.to_string())?,
                hi: item(2)?.extract().map_err(|e: PyErr| e.to_string())?,
                pass: item(3)?.extract().map_err(|e: PyErr| e.to_string())?,
                failure: item(4)?.extract().map_err(|e: PyErr| e.to_string())?,
            }),
            other => return Err(format!("unknown step {other}")),
        });
    }
    Ok(queue)
}

fn no_frame(index: usize) -> Reply {
    Reply::Error(format!("No frame {index}"))
}

/// Internal errors of the agent's helpers are bugs of sleepy; they go to the agent's log on
/// stderr only when SLEEPY_DEBUG is set, since stderr is the program's.
fn protocol_notice(text: &str) -> Option<()> {
    if std::env::var_os("SLEEPY_DEBUG").is_some() {
        eprintln!("sleepy agent: {text}");
    }
    Some(())
}

fn quit_now() -> ! {
    std::process::exit(0)
}

fn is_main_module(py: Python<'_>, frame: TracedFrame<'_>) -> bool {
    frame
        .object(py)
        .getattr(intern!(py, "f_globals"))
        .and_then(|g| g.get_item(intern!(py, "__name__")))
        .and_then(|n| n.extract::<String>())
        .map(|n| n == "__main__")
        .unwrap_or(false)
}

fn describe_code(
    py: Python<'_>,
    helpers: &Helpers,
    files: &mut FileTable,
    code: Borrowed<'_, '_, PyAny>,
    frame: TracedFrame<'_>,
) -> CodeInfo {
    let module_name = frame
        .object(py)
        .getattr(intern!(py, "f_globals"))
        .and_then(|g| g.get_item(intern!(py, "__name__")))
        .ok();
    let rewriting = helpers.rewriting.as_ref().map(|r| r.bind(py).clone());
    let described = helpers
        .inspect
        .bind(py)
        .getattr(intern!(py, "describe_code"))
        .and_then(|f| f.call1((helpers.project.bind(py), rewriting, code, module_name)))
        .and_then(|r| r.extract::<(bool, String, i32, bool, Vec<(i32, i32)>)>());
    let name = code
        .getattr(intern!(py, "co_name"))
        .and_then(|n| n.extract::<String>())
        .unwrap_or_default();
    let (user, path, first_line, generator, markers) =
        described.unwrap_or_else(|_| (false, String::new(), 0, false, Vec::new()));
    CodeInfo {
        user,
        file: files.intern(&path),
        first_line,
        name,
        generator,
        markers,
        breaks_generation: std::cell::Cell::new(u64::MAX),
        break_lines: RefCell::new(Vec::new()),
        function_break: std::cell::Cell::new(false),
    }
}

/// Removes the tracer (at the end of the program), so its channel can outlive the interpreter.
pub fn take() -> Option<Tracer> {
    TRACER.with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .and_then(|mut guard| guard.take())
    })
}

impl Tracer {
    pub fn into_channel(self) -> Channel {
        self.channel
    }
}
