//! Suspending the program to a file, and rebuilding it from one (see docs/suspend.md).
//!
//! **Suspend.** Something asks for it (the quota is used, a periodic snapshot is due, SIGTERM,
//! `suspend` in the debugger); from then on each line event checks whether this is a *safe
//! point*: the running frame is at the start of a line, and every frame under it can be
//! rebuilt by running its line again (`sleepy_suspend.check`). At the first one the state is
//! pickled (`sleepy_snapshot`), written atomically (`crate::snapshot`), and the request is
//! carried out: exit, go on, or stop in the debugger.
//!
//! **Resume.** The agent rebuilds the program's modules from the file, then runs the
//! `__main__` module's saved code. Each frame of the saved stack, met at its call, gets its
//! saved locals at its first line and is jumped, with the jump planner, to its saved line (a
//! caller's line is the call that enters the next frame). When the newest frame has landed,
//! the tick is set back to the saved one and the program goes on (or stops, in the debugger).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{FrameKey, JumpProgress, Jumping, Mode, Tracer};
use crate::agent::cpython::TracedFrame;
use crate::protocol::{AgentMessage, Finish, StopReason, SuspendPlan};
use crate::snapshot::{self, Header, SavedFrame, SavedProgram};

/// Set by the SIGTERM handler; read at the next check.
static SIGTERM_SEEN: AtomicBool = AtomicBool::new(false);

/// How often (in ticks) the clock and the signal flag are looked at when nothing is pending.
const CHECK_EVERY: u64 = 256;
/// Between two safe-point checks while a suspend waits for one (each is a Python call).
const CHECK_SPACING: Duration = Duration::from_millis(2);
/// How long a quota or SIGTERM waits for a safe point before saying why none comes.
const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Quota,
    Every,
    Sigterm,
    /// `suspend next` in the debugger.
    Command,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Quota => "quota",
            Reason::Every => "checkpoint",
            Reason::Sigterm => "sigterm",
            Reason::Command => "suspend",
        }
    }
}

struct Pending {
    reason: Reason,
    path: PathBuf,
    since: Instant,
    last_check: Option<Instant>,
    /// The code object of the last check that found no safe point.
    last_code: usize,
    reported: bool,
}

pub struct SuspendState {
    plan: SuspendPlan,
    started: Instant,
    /// The tick this round began at (a resumed program starts at its saved tick).
    started_tick: u64,
    next_every: Option<Instant>,
    pending: Option<Pending>,
}

/// What a snapshot's header says about the program, and where snapshots go by default.
pub struct ProgramInfo {
    pub program: SavedProgram,
    pub default_path: PathBuf,
    pub python: String,
    /// `--key FILE`, else the user's own key.
    pub key: Option<PathBuf>,
}

/// A frame of the saved stack, waiting to be rebuilt.
pub struct PlanFrame {
    qualname: String,
    filename: String,
    firstlineno: i32,
    line: i32,
    locals: Py<PyAny>,
}

pub struct Restore {
    frames: VecDeque<PlanFrame>,
    tick: u64,
    file: String,
    /// The frame whose call matched the next plan frame: its first line starts its rebuild.
    entered: Option<usize>,
    /// The last rebuilt frame, running its call line: it must not return before the call.
    caller: Option<usize>,
}

/// The Python-level SIGTERM handler (installed when the plan asks for it).
pub fn sigterm_seen() {
    SIGTERM_SEEN.store(true, Ordering::SeqCst);
}

enum Written {
    Done { tick: u64, path: PathBuf },
    NotSafe(Vec<String>),
    Failed(String),
}

impl Tracer {
    pub fn set_program_info(&mut self, info: ProgramInfo) {
        self.program_info = Some(info);
    }

    /// `sleepy run` with `--quota`, `--checkpoint`, `--checkpoint-every` or `--dump-on-crash`.
    pub fn enable_suspend(&mut self, plan: SuspendPlan) {
        let now = Instant::now();
        self.suspend = Some(Box::new(SuspendState {
            next_every: plan.every_ms.map(|ms| now + Duration::from_millis(ms)),
            plan,
            started: now,
            started_tick: self.tick,
            pending: None,
        }));
        self.set_suspend_check(self.next_suspend_check());
    }

    pub fn dump_on_crash(&self) -> bool {
        self.suspend
            .as_deref()
            .is_some_and(|s| s.plan.dump_on_crash)
    }

    /// Called at a line event once `tick` reaches `suspend_check`.
    pub(super) fn on_suspend_check(
        &mut self,
        py: Python<'_>,
        frame: TracedFrame<'_>,
    ) -> Option<Option<PyErr>> {
        let default_path = self
            .program_info
            .as_ref()
            .map(|i| i.default_path.clone())
            .unwrap_or_default();
        let tick = self.tick;
        let state = self.suspend.as_deref_mut()?;
        let now = Instant::now();
        let path = state.plan.path.clone();
        let path = if path.as_os_str().is_empty() {
            default_path
        } else {
            path
        };
        if state.pending.is_none() {
            let reason = if SIGTERM_SEEN.swap(false, Ordering::SeqCst) && state.plan.on_sigterm {
                Some(Reason::Sigterm)
            } else if state
                .plan
                .quota_ms
                .is_some_and(|q| now.duration_since(state.started) >= Duration::from_millis(q))
                || state
                    .plan
                    .quota_ticks
                    .is_some_and(|q| tick >= state.started_tick.saturating_add(q))
            {
                Some(Reason::Quota)
            } else if state.next_every.is_some_and(|t| now >= t) {
                Some(Reason::Every)
            } else {
                None
            };
            match reason {
                Some(reason) => {
                    state.pending = Some(Pending {
                        reason,
                        path,
                        since: now,
                        last_check: None,
                        last_code: 0,
                        reported: false,
                    })
                }
                None => {
                    self.set_suspend_check(self.next_suspend_check());
                    return None;
                }
            }
        }
        let pending = state.pending.as_mut()?;
        // Checking is a Python call: code that just failed the check (a callback a C function
        // calls in a loop, say) is not checked again at every line, but any other code is.
        let code = frame
            .object(py)
            .getattr(pyo3::intern!(py, "f_code"))
            .map(|c| c.as_ptr() as usize)
            .unwrap_or(0);
        if pending.last_code == code
            && pending
                .last_check
                .is_some_and(|t| now.duration_since(t) < CHECK_SPACING)
        {
            self.set_suspend_check(tick + 1);
            return None;
        }
        pending.last_check = Some(now);
        pending.last_code = code;
        let (reason, path) = (pending.reason, pending.path.clone());
        let frame_obj = frame.object(py).to_owned();
        match self.write_snapshot(py, &frame_obj, reason, &path) {
            Written::Done { tick, path } => {
                let state = self.suspend.as_deref_mut()?;
                state.pending = None;
                self.set_suspend_check(self.next_suspend_check());
                Some(self.after_written(py, frame_obj, reason, tick, path))
            }
            Written::NotSafe(reasons) => {
                self.set_suspend_check(self.tick + 1);
                let state = self.suspend.as_deref_mut()?;
                let pending = state.pending.as_mut()?;
                if now.duration_since(pending.since) < PATIENCE || pending.reported {
                    return None;
                }
                pending.reported = true;
                let waited = PATIENCE.as_secs();
                let what = match reason {
                    Reason::Sigterm => "SIGTERM: the program ends without a snapshot",
                    Reason::Every => "this periodic snapshot is skipped",
                    Reason::Quota | Reason::Command => "still waiting",
                };
                let text = format!(
                    "no safe point to suspend at for {waited} s ({what}); why not now:\n  {}",
                    reasons.join("\n  ")
                );
                if reason == Reason::Sigterm {
                    self.notice(Some(py), text);
                    self.finish_now(py, 143);
                }
                if reason == Reason::Every {
                    state.pending = None;
                    state.next_every = state
                        .plan
                        .every_ms
                        .map(|ms| now + Duration::from_millis(ms));
                    self.set_suspend_check(self.next_suspend_check());
                }
                self.notice(Some(py), text);
                None
            }
            Written::Failed(why) if reason == Reason::Quota => {
                // The quota stays used: keep the request and try again at the next lines (a
                // generator the loop takes items from, say, is gone once the loop ends), saying
                // why only once, not at every line.
                self.set_suspend_check(self.tick + 1);
                let state = self.suspend.as_deref_mut()?;
                let pending = state.pending.as_mut()?;
                if pending.reported {
                    return None;
                }
                pending.reported = true;
                self.notice(
                    Some(py),
                    format!(
                        "cannot suspend to {} yet: {why}\nthe program goes on running and suspends at the first point where it can",
                        path.display()
                    ),
                );
                None
            }
            Written::Failed(why) => {
                let state = self.suspend.as_deref_mut()?;
                state.pending = None;
                if reason == Reason::Every {
                    state.next_every = state
                        .plan
                        .every_ms
                        .map(|ms| now + Duration::from_millis(ms));
                }
                self.set_suspend_check(self.next_suspend_check());
                let fatal = reason == Reason::Sigterm;
                self.notice(
                    Some(py),
                    format!(
                        "cannot suspend to {}: {why}{}",
                        path.display(),
                        if fatal {
                            "\nthe program goes on running"
                        } else {
                            ""
                        }
                    ),
                );
                if reason == Reason::Command {
                    return Some(self.stop_live(py, frame_obj, StopReason::Step, None, true));
                }
                None
            }
        }
    }

    /// What a written snapshot leads to.
    fn after_written(
        &mut self,
        py: Python<'_>,
        frame: Bound<'_, PyAny>,
        reason: Reason,
        tick: u64,
        path: PathBuf,
    ) -> Option<PyErr> {
        let shown = path.display().to_string();
        match reason {
            Reason::Quota | Reason::Sigterm => {
                let why = if reason == Reason::Quota {
                    let (ran, ticks) = self
                        .suspend
                        .as_deref()
                        .map(|s| (s.started.elapsed().as_secs_f64(), tick - s.started_tick))
                        .unwrap_or((0.0, 0));
                    format!("the quota is used: {ran:.1} s and {ticks} ticks of running")
                } else {
                    "SIGTERM".to_string()
                };
                self.notice(
                    Some(py),
                    format!(
                        "suspended to {shown} at tick {tick} ({why}); go on with: sleepy resume {shown} --run"
                    ),
                );
                self.finish_now(py, 0);
            }
            Reason::Every => {
                if let Some(state) = self.suspend.as_deref_mut() {
                    state.next_every = state
                        .plan
                        .every_ms
                        .map(|ms| Instant::now() + Duration::from_millis(ms));
                }
                self.notice(
                    Some(py),
                    format!("snapshot written to {shown} at tick {tick}"),
                );
                None
            }
            Reason::Command => {
                self.stop_live(py, frame, StopReason::Suspended { file: shown }, None, true)
            }
        }
    }

    /// Ends the process now, as the program's end would, without running any more of its code
    /// (no `finally`, no atexit: a suspended program has not ended).
    fn finish_now(&mut self, py: Python<'_>, status: i32) -> ! {
        self.flush_program_output(py);
        let sync = self.channel.mark();
        let finish = Finish {
            exit_code: status,
            tick: self.tick,
            exception: None,
            signal: None,
            checkpoint_pauses_ns: Vec::new(),
        };
        let _ = self.channel.send(&AgentMessage::Finished { finish, sync });
        std::process::exit(status)
    }

    /// Pickles the program stopped at `frame`'s line event and writes it to `path`.
    fn write_snapshot(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        reason: Reason,
        path: &std::path::Path,
    ) -> Written {
        let glue = match self.glue(py) {
            Ok(g) => g,
            Err(e) => return Written::Failed(format!("sleepy could not load its pickler: {e}")),
        };
        let project = self.helpers.project.bind(py);
        let reasons = glue
            .getattr("check")
            .and_then(|f| f.call1((frame, project)))
            .and_then(|r| r.extract::<Vec<String>>());
        match reasons {
            Ok(r) if r.is_empty() => {}
            Ok(r) => return Written::NotSafe(r),
            Err(e) => return Written::Failed(format!("checking the stack failed: {e}")),
        }
        self.flush_program_output(py);
        let extra = PyDict::new(py);
        let _ = extra.set_item("tick", self.tick);
        let _ = extra.set_item("reason", reason.as_str());
        self.capture_and_write(
            py,
            &glue,
            "capture",
            frame,
            &extra,
            reason.as_str(),
            None,
            path,
        )
    }

    /// A post-mortem snapshot (`--dump-on-crash`): the traceback's frames at their raising
    /// lines, for `sleepy inspect`.
    pub fn dump_post_mortem(
        &mut self,
        py: Python<'_>,
        exc: &Bound<'_, PyAny>,
        description: &str,
    ) -> Option<String> {
        let glue = self.glue(py).ok()?;
        let path = self
            .suspend
            .as_deref()
            .map(|s| s.plan.path.clone())
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| self.program_info.as_ref().map(|i| i.default_path.clone()))?;
        let extra = PyDict::new(py);
        let _ = extra.set_item("tick", self.tick);
        let _ = extra.set_item("reason", "crash");
        let exception = description.lines().last().map(str::to_string);
        Some(
            match self.capture_and_write(
                py,
                &glue,
                "capture_post_mortem",
                exc,
                &extra,
                "crash",
                exception,
                &path,
            ) {
                Written::Done { path, .. } => format!(
                    "post-mortem snapshot written to {} (see it with: sleepy inspect {})",
                    path.display(),
                    path.display()
                ),
                Written::NotSafe(r) => format!("no post-mortem snapshot: {}", r.join("; ")),
                Written::Failed(why) => format!("no post-mortem snapshot: {why}"),
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn capture_and_write(
        &mut self,
        py: Python<'_>,
        glue: &Bound<'_, PyAny>,
        function: &str,
        subject: &Bound<'_, PyAny>,
        extra: &Bound<'_, PyDict>,
        reason: &str,
        exception: Option<String>,
        path: &std::path::Path,
    ) -> Written {
        let project = self.helpers.project.bind(py);
        type Stack = Vec<(String, String, u32, Vec<(String, String, String)>)>;
        let rewriting = self
            .helpers
            .rewriting
            .as_ref()
            .map(|r| r.bind(py).clone().into_any())
            .unwrap_or_else(|| py.None().into_bound(py));
        let captured = if function == "capture" {
            glue.getattr(function)
                .and_then(|f| f.call1((subject, project, extra, rewriting)))
        } else {
            glue.getattr(function)
                .and_then(|f| f.call1((subject, project, extra)))
        };
        let (payload, stack): (Vec<u8>, Stack) = match captured.and_then(|r| r.extract()) {
            Ok(v) => v,
            Err(e) => {
                let value = e.value(py);
                // `Unsaveable` names every value that cannot be saved, and where it is.
                if let Ok(reasons) = value
                    .getattr("reasons")
                    .and_then(|r| r.extract::<Vec<String>>())
                {
                    return Written::Failed(format!(
                        "these values cannot be saved, so no file was written:\n  {}",
                        reasons.join("\n  ")
                    ));
                }
                return Written::Failed(format!("saving the program's state failed: {value}"));
            }
        };
        // The sources of the program's modules, so that a resume against changed code is
        // refused before anything is loaded.
        let files: Vec<String> = glue
            .getattr("module_files")
            .and_then(|f| f.call1((project,)))
            .and_then(|r| r.extract())
            .unwrap_or_default();
        let sources: Vec<(String, String)> = files
            .into_iter()
            .filter_map(|f| {
                let hash = snapshot::file_hash(std::path::Path::new(&f)).ok()?;
                Some((f, hash))
            })
            .collect();
        let Some(info) = self.program_info.as_ref() else {
            return Written::Failed("the program's description is missing".into());
        };
        let key = match snapshot::Key::load_or_create(info.key.as_deref()) {
            Ok(k) => k,
            Err(e) => return Written::Failed(e.to_string()),
        };
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = Header {
            format: snapshot::FORMAT,
            python: info.python.clone(),
            sleepy: env!("CARGO_PKG_VERSION").to_string(),
            created,
            reason: reason.to_string(),
            program: info.program.clone(),
            tick: self.tick,
            stack: stack
                .into_iter()
                .map(|(qualname, file, line, locals)| SavedFrame {
                    qualname,
                    file,
                    line,
                    locals,
                })
                .collect(),
            exception,
            sources,
        };
        match snapshot::write(path, &header, &payload, &key) {
            Ok(()) => Written::Done {
                tick: self.tick,
                path: path.to_path_buf(),
            },
            Err(e) => Written::Failed(e.to_string()),
        }
    }

    /// `suspend [next] [FILE]` at a stop: write the file now, or say why not (with `next`,
    /// the program runs on to the next safe point and suspends there).
    pub(super) fn suspend_command(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        path: PathBuf,
        next: bool,
    ) -> Result<String, (String, bool)> {
        let path = if path.as_os_str().is_empty() {
            self.program_info
                .as_ref()
                .map(|i| i.default_path.clone())
                .unwrap_or_else(|| PathBuf::from("program.sleepy"))
        } else {
            path
        };
        match self.write_snapshot(py, frame, Reason::Command, &path) {
            Written::Done { tick, path } => {
                let shown = path.display();
                Ok(format!(
                    "Suspended to {shown} at tick {tick} (resume with: sleepy resume {shown}); the program is still here"
                ))
            }
            Written::NotSafe(reasons) if next => {
                let state = self.suspend.get_or_insert_with(|| {
                    Box::new(SuspendState {
                        plan: SuspendPlan::default(),
                        started: Instant::now(),
                        started_tick: 0,
                        next_every: None,
                        pending: None,
                    })
                });
                state.pending = Some(Pending {
                    reason: Reason::Command,
                    path,
                    since: Instant::now(),
                    last_check: None,
                    last_code: 0,
                    reported: false,
                });
                self.set_suspend_check(self.tick + 1);
                let _ = reasons;
                Err((String::new(), true))
            }
            Written::NotSafe(reasons) => Err((
                format!(
                    "Cannot suspend here: this is not a safe point.\n  {}\n`suspend next` runs on to the next safe point and suspends there.",
                    reasons.join("\n  ")
                ),
                false,
            )),
            Written::Failed(why) => Err((format!("Cannot suspend: {why}"), false)),
        }
    }

    /// Sets the next suspend check and folds it into `attention`, so that a line event keeps
    /// paying a single comparison for everything that is not a plain tick.
    fn set_suspend_check(&mut self, tick: u64) {
        self.suspend_check = tick;
        self.refresh_attention();
    }

    /// The next tick to look at the clock and the quotas.
    fn next_suspend_check(&self) -> u64 {
        let periodic = self.tick + CHECK_EVERY;
        match self.suspend.as_deref() {
            Some(s) => match s.plan.quota_ticks {
                Some(q) => periodic.min(s.started_tick.saturating_add(q).max(self.tick + 1)),
                None => periodic,
            },
            None => u64::MAX,
        }
    }

    /// The suspend helpers, loaded the first time (see `agent::load_suspend_modules`).
    fn glue<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(g) = &self.helpers.suspend {
            return Ok(g.bind(py).clone().into_any());
        }
        let module = crate::agent::load_suspend_modules(py)?;
        self.helpers.suspend = Some(module.clone().unbind());
        Ok(module.into_any())
    }

    /// At the end of the run: a suspend that never found its safe point, said once.
    pub fn unfinished_suspend(&mut self) -> Option<String> {
        let pending = self.suspend.as_deref_mut()?.pending.take()?;
        let why = match pending.reason {
            Reason::Quota => "the quota was used",
            Reason::Every => "a periodic snapshot was due",
            Reason::Sigterm => "SIGTERM asked for a suspend",
            Reason::Command => "`suspend next` was waiting",
        };
        Some(format!(
            "{why}, but the program ended before a safe point came: no snapshot was written"
        ))
    }

    /// Any other stop ends a `suspend next` still looking for its safe point.
    pub(super) fn cancel_suspend_next(&mut self) -> bool {
        let Some(state) = self.suspend.as_deref_mut() else {
            return false;
        };
        if state
            .pending
            .as_ref()
            .is_some_and(|p| p.reason == Reason::Command)
        {
            state.pending = None;
            return true;
        }
        false
    }

    // --- resume ------------------------------------------------------------------------------

    /// Sets up the rebuild of the saved stack; the program then runs the `__main__` code.
    pub fn start_restore(
        &mut self,
        py: Python<'_>,
        frames: Vec<(String, String, i32, i32, Py<PyAny>)>,
        tick: u64,
        file: String,
    ) {
        let _ = py;
        self.restore = Some(Box::new(Restore {
            frames: frames
                .into_iter()
                .map(
                    |(qualname, filename, firstlineno, line, locals)| PlanFrame {
                        qualname,
                        filename,
                        firstlineno,
                        line,
                        locals,
                    },
                )
                .collect(),
            tick,
            file,
            entered: None,
            caller: None,
        }));
        // Nothing stops the program while it is rebuilt, not even the start.
        self.mode = Mode::Continue;
        self.refresh_quiet();
    }

    /// A call while rebuilding: is it the next saved frame?
    pub(super) fn restore_call(&mut self, py: Python<'_>, frame: TracedFrame<'_>) {
        let Some(restore) = self.restore.as_deref_mut() else {
            return;
        };
        let Some(next) = restore.frames.front() else {
            return;
        };
        let Some(glue) = self.helpers.suspend.as_ref() else {
            return;
        };
        let matched = glue
            .bind(py)
            .getattr("matches")
            .and_then(|f| {
                f.call1((
                    frame.object(py),
                    &next.qualname,
                    &next.filename,
                    next.firstlineno,
                ))
            })
            .and_then(|r| r.extract::<bool>())
            .unwrap_or(false);
        if matched {
            restore.entered = Some(frame.id());
        }
    }

    /// A return while rebuilding: a rebuilt caller must not end before it makes its call.
    pub(super) fn restore_return(&mut self, py: Python<'_>, frame: TracedFrame<'_>) {
        let failed = self
            .restore
            .as_deref()
            .is_some_and(|r| r.caller == Some(frame.id()));
        if failed {
            let name = self
                .restore
                .as_deref()
                .and_then(|r| r.frames.front())
                .map(|f| f.qualname.clone())
                .unwrap_or_default();
            self.restore_failed(
                py,
                &format!("a rebuilt frame returned before it called {name} again"),
            );
        }
    }

    /// A line event while rebuilding (no tick is counted: the saved tick is set at the end).
    pub(super) fn restore_line(
        &mut self,
        py: Python<'_>,
        frame: TracedFrame<'_>,
        line: i32,
    ) -> Option<PyErr> {
        let entered = self.restore.as_deref().and_then(|r| r.entered);
        if entered == Some(frame.id()) {
            if let Some(r) = self.restore.as_deref_mut() {
                r.entered = None;
            }
            return self.restore_enter(py, frame.object(py).to_owned());
        }
        if let Mode::Jumping(_) = self.mode {
            return self.on_jump_line(py, frame, line);
        }
        None
    }

    fn restore_enter(&mut self, py: Python<'_>, frame: Bound<'_, PyAny>) -> Option<PyErr> {
        let (line, locals) = {
            let next = self.restore.as_deref()?.frames.front()?;
            (next.line, next.locals.clone_ref(py))
        };
        let glue = self.helpers.suspend.as_ref()?.bind(py).clone();
        let locals_to_fast = match self.helpers.native.bind(py).getattr("locals_to_fast") {
            Ok(f) => f,
            Err(e) => {
                self.restore_failed(py, &e.to_string());
            }
        };
        let markers = self.markers_of(py, &frame);
        let planned = glue
            .getattr("enter")
            .and_then(|f| f.call1((&frame, locals.bind(py), line, markers, &locals_to_fast)));
        let planned = match planned {
            Ok(p) => p,
            Err(e) => self.restore_failed(py, &format!("{}", e.value(py))),
        };
        let parsed: PyResult<(bool, Bound<'_, PyAny>, Vec<String>)> = planned.extract();
        let (ok, steps, notes) = match parsed {
            Ok(v) => v,
            Err(e) => self.restore_failed(py, &e.to_string()),
        };
        if !ok {
            let why = steps.extract::<String>().unwrap_or_default();
            self.restore_failed(py, &format!("the jump to line {line} failed: {why}"));
        }
        let queue = match super::parse_steps(&steps) {
            Ok(q) => q,
            Err(e) => self.restore_failed(py, &e),
        };
        let mut jumping = Jumping {
            frame: FrameKey::of(&frame),
            steps: queue,
            wait: None,
            notes,
            restoring: true,
        };
        match self.run_jump_steps(py, &frame, &mut jumping) {
            JumpProgress::Landed => self.restore_landed(py, frame),
            JumpProgress::Failed(message) => {
                self.restore_failed(py, &format!("the jump to line {line} failed: {message}"))
            }
            JumpProgress::Waiting => {
                self.mode = Mode::Jumping(Box::new(jumping));
                None
            }
            JumpProgress::Raise(err) => {
                self.mode = Mode::Jumping(Box::new(jumping));
                Some(err)
            }
        }
    }

    /// A rebuilt frame stands on its saved line.
    pub(super) fn restore_landed(
        &mut self,
        py: Python<'_>,
        frame: Bound<'_, PyAny>,
    ) -> Option<PyErr> {
        self.mode = Mode::Continue;
        let done = {
            let restore = self.restore.as_deref_mut()?;
            let planned = restore.frames.pop_front()?;
            if let (Some(glue), Ok(locals_to_fast)) = (
                self.helpers.suspend.as_ref(),
                self.helpers.native.bind(py).getattr("locals_to_fast"),
            ) {
                let _ = glue
                    .bind(py)
                    .getattr("landed")
                    .and_then(|f| f.call1((&frame, planned.locals.bind(py), &locals_to_fast)));
            }
            restore.caller = Some(frame.as_ptr() as usize);
            restore.frames.is_empty()
        };
        if !done {
            return None;
        }
        let restore = self.restore.take()?;
        self.tick = restore.tick;
        self.refresh_quiet();
        // Time travel and the suspend clock start from here.
        self.resumed();
        // A quota counts from where this round starts.
        let tick = self.tick;
        if let Some(state) = self.suspend.as_deref_mut() {
            state.started_tick = tick;
            state.started = Instant::now();
            self.set_suspend_check(self.next_suspend_check());
        }
        if matches!(self.run_mode, crate::protocol::RunMode::Debug) {
            return self.stop_live(
                py,
                frame,
                StopReason::Resumed { file: restore.file },
                None,
                true,
            );
        }
        None
    }

    pub(super) fn restore_failed(&mut self, py: Python<'_>, why: &str) -> ! {
        let file = self
            .restore
            .as_deref()
            .map(|r| r.file.clone())
            .unwrap_or_default();
        self.notice(
            Some(py),
            format!("cannot resume {file}: {why}; the program was not run further"),
        );
        self.finish_now(py, 1)
    }

    /// The rewriter's markers of the frame's file (virtual line -> the loop line it stands for).
    pub(super) fn markers_of(&self, py: Python<'_>, frame: &Bound<'_, PyAny>) -> Vec<(i32, i32)> {
        let Ok(filename) = frame
            .getattr("f_code")
            .and_then(|c| c.getattr("co_filename"))
        else {
            return Vec::new();
        };
        self.helpers
            .rewriting
            .as_ref()
            .and_then(|r| r.bind(py).getattr("markers").ok())
            .and_then(|m| m.get_item(filename).ok())
            .and_then(|m| m.extract::<std::collections::HashMap<i32, i32>>().ok())
            .map(|m| m.into_iter().collect())
            .unwrap_or_default()
    }
}
