//! The tracer's time travel: when to take checkpoints, how a copy spawned from one takes over
//! (or scans the past for a backward command), watches, and what the user changing the
//! program's state at a stop does to the recorded future.

use std::os::unix::net::UnixStream;

use pyo3::prelude::*;

use super::{After, FrameKey, StopContext, Tracer};
use crate::agent::cpython::TracedFrame;
use crate::agent::replay;
use crate::agent::timeline::{self, Forked, Reaper, Scan, Schedule};
use crate::protocol::{
    AgentMessage, BreakpointInfo, CheckpointInfo, Goal, Plan, Request, StopReason, TimeTravel,
    WatchChange, WatchScope,
};

/// Set by the record/replay layer when the program does something time travel cannot follow;
/// read by the tracer at its next chance (the layer's handler must not touch the channel).
static OFF_REASON: std::sync::Mutex<Option<&'static str>> = std::sync::Mutex::new(None);

fn off_handler(reason: &'static str) {
    if let Ok(mut slot) = OFF_REASON.lock()
        && slot.is_none()
    {
        *slot = Some(reason);
    }
}

fn divergence_handler() {
    // A copy met a call its record does not have. A scanner can no longer tell the past: it
    // goes, before the record is touched (the front end hears its connection close). A
    // replaying program has left the recorded timeline: the layer cuts the record there, and
    // the tracer tells the front end at its next line.
    if SCANNER.load(std::sync::atomic::Ordering::SeqCst) {
        timeline::vanish();
    }
    if let Ok(mut slot) = DIVERGED.lock() {
        *slot = true;
    }
}

/// Why the record/replay layer turned itself off, if the tracer has not told the front end yet:
/// at the end of the run (a thread started by the last lines, or at shutdown, is seen by no
/// later line event).
pub fn take_off_reason() -> Option<&'static str> {
    OFF_REASON.lock().ok().and_then(|mut r| r.take())
}

static SCANNER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

static DIVERGED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

pub struct TimeTravelState {
    config: TimeTravel,
    epoch: u64,
    schedule: Schedule,
    reaper: Reaper,
    /// The tick of this process's last checkpoint (or of the checkpoint it was spawned from).
    last_checkpoint: Option<u64>,
    /// Replaying to this tick (`goto`, `RunTo`).
    goal: Option<u64>,
    /// The tick of the checkpoint this process was spawned from (it replays from there).
    spawned_at: Option<u64>,
    /// A checkpoint to take on the way to the goal, a little before it: the backward steps that
    /// usually follow a move back then replay from there, not from far behind.
    prefetch: Option<u64>,
    pub(super) scan: Option<Scan>,
    known: Vec<u64>,
    /// The user changed the state at a stop that is not at a line: the new timeline has no
    /// checkpoint yet, so the next line event takes one (its ticks are reachable from there).
    fresh: bool,
    /// No more checkpoints: the program did something time travel cannot follow.
    off: bool,
    /// How long each checkpoint paused the program.
    pauses: Vec<u64>,
}

impl TimeTravelState {
    pub fn goal(&self) -> Option<u64> {
        self.goal
    }

    pub fn new(config: TimeTravel) -> TimeTravelState {
        replay::set_off_handler(off_handler);
        replay::set_divergence_handler(divergence_handler);
        let schedule = Schedule::new(config.interval_ms, config.interval_ticks);
        TimeTravelState {
            config,
            epoch: 0,
            schedule,
            reaper: Reaper::default(),
            last_checkpoint: None,
            goal: None,
            spawned_at: None,
            prefetch: None,
            scan: None,
            known: Vec::new(),
            fresh: false,
            off: false,
            pauses: Vec::new(),
        }
    }
}

/// A watched expression.
pub struct Watch {
    pub number: u32,
    pub expr: String,
    pub scope: WatchScope,
    /// For a frame watch: the frame, once found, and its last value.
    frame: Option<FrameKey>,
    last: Option<(bool, Py<PyAny>)>,
    /// For a function watch: each running frame of the function and its last value.
    per_frame: Vec<(FrameKey, bool, Py<PyAny>)>,
}

impl Watch {
    pub fn new(number: u32, expr: String, scope: WatchScope) -> Watch {
        Watch {
            number,
            expr,
            scope,
            frame: None,
            last: None,
            per_frame: Vec::new(),
        }
    }
}

/// What a copy spawned from a checkpoint does first.
pub(super) enum Adopted {
    /// Its goal is the very line event it starts at: stop here.
    StopHere,
    /// Run on (replaying toward a goal, or scanning).
    Run,
}

/// How far before a move's goal the copy takes a checkpoint (see `prefetch`): a few thousand
/// line events replay in a millisecond or two.
const PREFETCH_TICKS: u64 = 2000;

fn random_epoch() -> u64 {
    let mut bytes = [0u8; 8];
    let _ = rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty());
    u64::from_ne_bytes(bytes) | 1
}

impl Tracer {
    /// Starts time travel for this run (the first stop takes the first checkpoint).
    pub fn enable_time_travel(&mut self, config: TimeTravel) {
        if replay::start_recording().is_err() {
            return;
        }
        self.tt = Some(Box::new(TimeTravelState::new(config)));
        self.refresh_attention();
    }

    pub(super) fn refresh_attention(&mut self) {
        let travel = match self.tt.as_deref() {
            None => u64::MAX,
            Some(tt) if tt.scan.is_some() => 0,
            Some(tt) => {
                let check = if tt.off {
                    u64::MAX
                } else if tt.fresh {
                    0
                } else {
                    tt.schedule.next_check.min(tt.prefetch.unwrap_or(u64::MAX))
                };
                tt.goal.unwrap_or(u64::MAX).min(check)
            }
        };
        // A due suspend check (see suspend.rs) shares the same threshold.
        self.attention = travel.min(self.suspend_check);
        self.scanning = self.tt.as_deref().is_some_and(|tt| tt.scan.is_some());
    }

    /// A line event at or past `attention`: a goal reached, a scan step, or a checkpoint due.
    /// `Some(result)` when the event is fully handled here.
    pub(super) fn on_attention(
        &mut self,
        py: Python<'_>,
        frame: TracedFrame<'_>,
    ) -> Option<Option<PyErr>> {
        self.check_off(py);
        let tt = self.tt.as_deref_mut()?;
        if tt.scan.is_some() {
            return Some(self.scan_line(py, frame));
        }
        if let Some(goal) = tt.goal
            && self.tick >= goal
        {
            tt.goal = None;
            self.refresh_attention();
            self.refresh_quiet();
            self.rebaseline_watches(py, &frame.object(py));
            return Some(self.stop_live(
                py,
                frame.object(py).to_owned(),
                StopReason::Arrived,
                None,
                true,
            ));
        }
        let prefetch = tt.prefetch.is_some_and(|p| self.tick >= p);
        if prefetch {
            tt.prefetch = None;
        }
        let fresh = std::mem::take(&mut tt.fresh);
        if !tt.off
            && (fresh
                || prefetch
                || (self.tick >= tt.schedule.next_check && tt.schedule.due(self.tick)))
        {
            let spacing = if prefetch {
                PREFETCH_TICKS
            } else {
                tt.schedule.ticks_per_interval()
            };
            let near = !fresh && timeline::near_known(&tt.known, self.tick, spacing);
            let before = tt.pauses.len();
            if near {
                tt.schedule.taken(self.tick);
            } else if let Some((plan, stream)) = self.fork_checkpoint(&frame.object(py)) {
                let result = match self.adopt(py, &frame.object(py), *plan, stream) {
                    Adopted::StopHere => self.stop_live(
                        py,
                        frame.object(py).to_owned(),
                        StopReason::Arrived,
                        None,
                        true,
                    ),
                    Adopted::Run => None,
                };
                return Some(result);
            } else if let Some(tt) = self.tt.as_deref()
                && fresh
                && tt.pauses.len() != before
            {
                // The first checkpoint of a new timeline: the front end takes it into its
                // timeline before anything the program does next (a fast run can finish before
                // the checkpoint's process has introduced itself, and `goto` into the new
                // timeline would find no checkpoint of it). Later ones need no wait: an
                // earlier one of the same timeline serves until they arrive.
                let message = AgentMessage::CheckpointTaken {
                    tick: self.tick,
                    epoch: tt.epoch,
                };
                let _ = self.channel.send(&message);
            }
        }
        self.refresh_attention();
        None
    }

    /// The record/replay layer turned itself off, or a replay left its record: tell the front
    /// end once.
    pub(super) fn check_off(&mut self, py: Python<'_>) {
        let left = DIVERGED
            .lock()
            .map(|mut d| std::mem::replace(&mut *d, false))
            .unwrap_or(false);
        if left && !self.scanning {
            let tick = self.tick;
            self.notice(
                Some(py),
                format!(
                    "the replay left the recorded run near tick {tick} (the program did \
                     something its record does not cover); it runs live from there"
                ),
            );
            // The layer has cut the record somewhere after the checkpoint this copy started
            // from; the front end drops what came after that, to be safe.
            let since = self
                .tt
                .as_deref()
                .and_then(|t| t.spawned_at)
                .map_or(tick, |s| s + 1);
            self.diverge(since);
        }
        let reason = OFF_REASON.lock().ok().and_then(|mut r| r.take());
        if let (Some(reason), Some(tt)) = (reason, self.tt.as_deref_mut())
            && !tt.off
        {
            tt.off = true;
            self.flush_program_output(py);
            let sync = self.channel.mark();
            let _ = self.channel.send(&AgentMessage::TimeTravelOff {
                reason: reason.to_string(),
                sync,
            });
            self.refresh_attention();
        }
    }

    /// Takes a checkpoint at the current line event. `Some` in a copy spawned from it.
    pub(super) fn fork_checkpoint(
        &mut self,
        frame: &Bound<'_, PyAny>,
    ) -> Option<(Box<Plan>, UnixStream)> {
        let tick = self.tick;
        let tt = self.tt.as_deref_mut()?;
        if tt.off || tt.scan.is_some() || tt.last_checkpoint == Some(tick) {
            return None;
        }
        let code = frame.getattr("f_code").ok();
        let text = |name: &str| {
            code.as_ref()
                .and_then(|c| c.getattr(name).ok())
                .and_then(|v| v.extract::<String>().ok())
                .unwrap_or_default()
        };
        let info = CheckpointInfo {
            pid: 0,
            tick,
            epoch: tt.epoch,
            file: text("co_filename"),
            line: frame
                .getattr("f_lineno")
                .and_then(|l| l.extract::<u32>())
                .unwrap_or(0),
            function: text("co_name"),
        };
        let config = tt.config.clone();
        tt.last_checkpoint = Some(tick);
        tt.fresh = false;
        let started = timeline::now_ns();
        let forked = timeline::checkpoint(&mut self.channel, &config, info, &mut tt.reaper);
        tt.schedule.taken(tick);
        match forked {
            Ok(Forked::Parent) => {
                tt.pauses.push(timeline::now_ns().saturating_sub(started));
                None
            }
            Ok(Forked::Copy(plan, stream)) => Some((plan, stream)),
            Err(e) => {
                self.notice(None, format!("no checkpoint at tick {tick}: {e}"));
                None
            }
        }
    }

    /// A copy spawned from a checkpoint becomes the program (or a scanner) under `plan`.
    pub(super) fn adopt(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        plan: Plan,
        stream: UnixStream,
    ) -> Adopted {
        self.channel.reconnect(stream, plan.sync_base);
        self.apply_setup(plan.setup);
        self.mode = super::Mode::Continue;
        self.pending = None;
        let tick = self.tick;
        let depth = self
            .call_inspect(py, "frame_depth", (frame,))
            .and_then(|d| d.extract::<usize>().ok())
            .unwrap_or(0);
        let Some(tt) = self.tt.as_deref_mut() else {
            return Adopted::Run;
        };
        tt.epoch = plan.epoch;
        tt.spawned_at = Some(tick);
        tt.known = plan.known_checkpoints;
        tt.last_checkpoint = Some(tick);
        tt.schedule.resumed(tick);
        tt.goal = None;
        let adopted = match plan.goal {
            Goal::Tick(goal) if goal <= tick => {
                self.rebaseline_watches(py, frame);
                Adopted::StopHere
            }
            Goal::Tick(goal) => {
                tt.goal = Some(goal);
                tt.prefetch = goal
                    .checked_sub(PREFETCH_TICKS)
                    .filter(|p| *p > tick + PREFETCH_TICKS);
                Adopted::Run
            }
            Goal::Scan(query) => {
                tt.scan = Some(Scan::new(query, tick, depth));
                SCANNER.store(true, std::sync::atomic::Ordering::SeqCst);
                replay::set_read_only();
                Adopted::Run
            }
        };
        self.refresh_quiet();
        self.refresh_attention();
        if self.scanning {
            // The scan covers the line event it starts at.
            let id = frame.as_ptr() as usize;
            if let Some(scan) = self.tt.as_deref_mut().and_then(|t| t.scan.as_mut()) {
                scan.on_line(id, tick);
            }
            // A breakpoint at the checkpoint's own line (a stop's checkpoint) counts too.
            if let Some(traced) = TracedFrame::of(frame)
                && self.any_breaks
                && self
                    .tt
                    .as_deref()
                    .and_then(|t| t.scan.as_ref())
                    .is_some_and(|s| s.query.breakpoints)
            {
                let info = self.code_info(py, traced);
                let line = traced.line();
                if let Some(StopReason::Breakpoint { numbers, .. }) =
                    self.breakpoint_hit(py, traced, info, line)
                    && let Some(scan) = self.tt.as_deref_mut().and_then(|t| t.scan.as_mut())
                {
                    scan.last_break = Some((tick, numbers));
                }
            }
            self.scan_watches(py, frame, None);
        }
        adopted
    }

    fn apply_setup(&mut self, setup: Vec<Request>) {
        for request in setup {
            match request {
                Request::RestoreBreakpoints { breakpoints, next } => {
                    self.restore_breakpoints(breakpoints, next)
                }
                Request::RestoreWatch {
                    number,
                    expr,
                    scope,
                } => {
                    self.watches.retain(|w| w.number != number);
                    self.watches.push(Watch::new(number, expr, scope));
                }
                Request::Unwatch { number } => self
                    .watches
                    .retain(|w| number.is_some_and(|n| n != w.number)),
                _ => {}
            }
        }
        self.refresh_quiet();
    }

    fn restore_breakpoints(&mut self, breakpoints: Vec<BreakpointInfo>, next: u32) {
        let entries = breakpoints
            .into_iter()
            .map(|info| {
                let file = self.files.intern(&info.file);
                (file, info)
            })
            .collect();
        self.breaks.restore(entries, next);
    }

    // --- scanning -----------------------------------------------------------------------------

    /// A line event in a scanner: record it, and at the limit report and vanish.
    fn scan_line(&mut self, py: Python<'_>, frame: TracedFrame<'_>) -> Option<PyErr> {
        let tick = self.tick;
        let limit = self
            .tt
            .as_deref()
            .and_then(|t| t.scan.as_ref())
            .map(|s| s.query.limit)
            .unwrap_or(0);
        let id = frame.id();
        let (previous, watches) = match self.tt.as_deref().and_then(|t| t.scan.as_ref()) {
            Some(scan) => (scan.last_line_of(id), scan.query.watches),
            None => return None,
        };
        if tick >= limit || diverged() {
            if tick >= limit && watches {
                // A change made by the line just before the limit shows here.
                self.scan_watches(py, &frame.object(py), previous);
            }
            self.finish_scan(&frame.object(py), tick >= limit);
        }
        let breakpoints = match self.tt.as_deref_mut().and_then(|t| t.scan.as_mut()) {
            Some(scan) => {
                scan.on_line(id, tick);
                scan.query.breakpoints
            }
            None => return None,
        };
        if breakpoints && self.any_breaks {
            let info = self.code_info(py, frame);
            let line = frame.line();
            if let Some(StopReason::Breakpoint { numbers, .. }) =
                self.breakpoint_hit(py, frame, info, line)
                && let Some(scan) = self.tt.as_deref_mut().and_then(|t| t.scan.as_mut())
            {
                scan.last_break = Some((tick, numbers));
            }
        }
        if watches {
            self.scan_watches(py, &frame.object(py), previous);
        }
        None
    }

    /// Evaluates the watches in a scanner. A change seen at this line event was made by the
    /// line this frame ran before (`previous`: for `x = f()` the caller's line, not the last
    /// line of `f`), or by the line event just before when the frame has just started.
    fn scan_watches(&mut self, py: Python<'_>, frame: &Bound<'_, PyAny>, previous: Option<u64>) {
        let tick = self.tick;
        if let Some(change) = self.check_watches(py, frame)
            && let Some(scan) = self.tt.as_deref_mut().and_then(|t| t.scan.as_mut())
        {
            let made_by = previous.unwrap_or_else(|| tick.saturating_sub(1));
            scan.last_change = Some(WatchChange {
                tick: made_by.max(scan.start),
                ..change
            });
        }
    }

    pub(super) fn scan_call(&mut self, frame: usize) {
        if let Some(scan) = self.tt.as_deref_mut().and_then(|t| t.scan.as_mut()) {
            scan.on_call(frame);
        }
    }

    pub(super) fn scan_return(&mut self) {
        if let Some(scan) = self.tt.as_deref_mut().and_then(|t| t.scan.as_mut()) {
            scan.on_return();
        }
    }

    pub(super) fn finish_scan(&mut self, frame: &Bound<'_, PyAny>, complete: bool) -> ! {
        let mut ids = Vec::new();
        let mut f = Some(frame.clone());
        while let Some(current) = f {
            ids.push(current.as_ptr() as usize);
            f = current.getattr("f_back").ok().filter(|b| !b.is_none());
        }
        ids.reverse();
        if let Some(scan) = self.tt.as_deref().and_then(|t| t.scan.as_ref()) {
            let result = scan.result(&ids, complete);
            let _ = self.channel.send(&AgentMessage::Scanned(result));
        }
        timeline::vanish()
    }

    /// The program ended before a scan reached its limit: it has seen every line before it.
    pub fn scan_ended(&mut self) {
        if let Some(scan) = self.tt.as_deref().and_then(|t| t.scan.as_ref()) {
            let result = scan.result(&[], true);
            let _ = self.channel.send(&AgentMessage::Scanned(result));
            timeline::vanish();
        }
    }

    // --- watches ------------------------------------------------------------------------------

    /// Evaluates the watches at a line event of `frame`; the first that changed, if any.
    pub(super) fn check_watches(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
    ) -> Option<WatchChange> {
        if self.watches.is_empty() {
            return None;
        }
        let _pause = replay::pause();
        let mut watches = std::mem::take(&mut self.watches);
        let mut found = None;
        for watch in &mut watches {
            if let Some(change) = self.check_watch(py, frame, watch)
                && found.is_none()
            {
                found = Some(change);
            }
        }
        watches.append(&mut self.watches);
        self.watches = watches;
        found
    }

    fn check_watch(
        &self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        watch: &mut Watch,
    ) -> Option<WatchChange> {
        let (target, previous) = match &watch.scope {
            WatchScope::Frame { depth, function } => {
                if watch.frame.is_none() {
                    let found = self
                        .call_inspect(py, "frame_at_depth", (frame, *depth))
                        .filter(|f| !f.is_none())?;
                    let name = found
                        .getattr("f_code")
                        .and_then(|c| c.getattr("co_name"))
                        .and_then(|n| n.extract::<String>())
                        .unwrap_or_default();
                    if &name != function {
                        return None;
                    }
                    watch.frame = Some(FrameKey::of(&found));
                    watch.last = None;
                }
                let key = watch.frame.as_ref()?;
                (key._keep.bind(py).clone(), watch.last.take())
            }
            WatchScope::Function(name) => {
                let code = frame.getattr("f_code").ok()?;
                let matches = [
                    code.getattr("co_name").ok(),
                    code.getattr("co_qualname").ok(),
                ]
                .into_iter()
                .flatten()
                .any(|n| n.extract::<String>().is_ok_and(|n| &n == name));
                if !matches {
                    return None;
                }
                let id = frame.as_ptr() as usize;
                let previous = watch
                    .per_frame
                    .iter()
                    .position(|(k, _, _)| k.id == id)
                    .map(|i| {
                        let (_, ok, value) = watch.per_frame.remove(i);
                        (ok, value)
                    });
                (frame.clone(), previous)
            }
        };
        let (ok, value) = self
            .call_inspect(py, "watch_value", (&target, &watch.expr))
            .and_then(|r| r.extract::<(bool, Py<PyAny>)>().ok())?;
        let change = match &previous {
            Some((old_ok, old)) => {
                let changed = self
                    .call_inspect(py, "watch_changed", (*old_ok, old, ok, &value))
                    .and_then(|c| c.extract::<bool>().ok())
                    .unwrap_or(false);
                changed.then(|| {
                    let text = |ok: bool, v: &Py<PyAny>| {
                        self.call_inspect(py, "display_text", (ok, v))
                            .and_then(|t| t.extract::<String>().ok())
                            .unwrap_or_default()
                    };
                    WatchChange {
                        number: watch.number,
                        expr: watch.expr.clone(),
                        tick: self.tick,
                        old: text(*old_ok, old),
                        new: text(ok, &value),
                    }
                })
            }
            None => None,
        };
        match &watch.scope {
            WatchScope::Frame { .. } => watch.last = Some((ok, value)),
            WatchScope::Function(_) => watch.per_frame.push((FrameKey::of(&target), ok, value)),
        }
        change
    }

    /// Arrived somewhere by a move: the watches' values here are where changes count from.
    fn rebaseline_watches(&mut self, py: Python<'_>, frame: &Bound<'_, PyAny>) {
        for watch in &mut self.watches {
            watch.frame = None;
            watch.last = None;
            watch.per_frame.clear();
        }
        let _ = self.check_watches(py, frame);
    }

    /// A frame returns: watches on it end (a frame watch) or forget it (a function watch).
    /// Returns the frame watches that ended, for the live agent to report.
    pub(super) fn watches_on_return(&mut self, frame: usize, generator: bool) -> Vec<u32> {
        let mut ended = Vec::new();
        for watch in &mut self.watches {
            watch.per_frame.retain(|(k, _, _)| k.id != frame);
            if !generator && watch.frame.as_ref().is_some_and(|k| k.id == frame) {
                watch.frame = None;
                watch.last = None;
                ended.push(watch.number);
            }
        }
        ended
    }

    /// `watch EXPR [in FUNC]` at a stop.
    pub(super) fn add_watch(
        &mut self,
        py: Python<'_>,
        ctx: &StopContext,
        number: u32,
        frame: usize,
        expr: String,
        function: Option<String>,
    ) -> crate::protocol::Reply {
        use crate::protocol::Reply;
        let Some(selected) = ctx.frame(py, frame) else {
            return Reply::Error(format!("No frame {frame}"));
        };
        if let Err(e) = self.check_syntax(py, &expr) {
            return Reply::Error(e.replace("Invalid condition", "Invalid expression"));
        }
        let scope = match function {
            Some(name) => WatchScope::Function(name),
            None => {
                let depth = self
                    .call_inspect(py, "frame_depth", (&selected,))
                    .and_then(|d| d.extract::<usize>().ok())
                    .unwrap_or(0);
                let function = selected
                    .getattr("f_code")
                    .and_then(|c| c.getattr("co_name"))
                    .and_then(|n| n.extract::<String>())
                    .unwrap_or_default();
                WatchScope::Frame { depth, function }
            }
        };
        let _pause = replay::pause();
        let value = match &scope {
            WatchScope::Frame { .. } => self
                .call_inspect(py, "watch_value", (&selected, &expr))
                .and_then(|r| r.extract::<(bool, Py<PyAny>)>().ok()),
            WatchScope::Function(_) => None,
        };
        let text = match &value {
            Some((ok, v)) => self
                .call_inspect(py, "display_text", (*ok, v))
                .and_then(|t| t.extract::<String>().ok())
                .unwrap_or_default(),
            None => "(evaluated in each call)".to_string(),
        };
        let mut watch = Watch::new(number, expr.clone(), scope.clone());
        if let (WatchScope::Frame { .. }, Some(v)) = (&scope, value) {
            watch.frame = Some(FrameKey::of(&selected));
            watch.last = Some(v);
        }
        self.watches.retain(|w| w.number != number);
        self.watches.push(watch);
        self.refresh_quiet();
        Reply::Watching {
            number,
            expr,
            scope,
            value: text,
        }
    }

    // --- the user changes the past --------------------------------------------------------------

    /// The program's state was changed at a stop (`jump`, `!stmt`): the record after this point
    /// is void. `tick` is the first tick whose state differs.
    pub(super) fn diverge(&mut self, tick: u64) {
        let Some(tt) = self.tt.as_deref_mut() else {
            return;
        };
        if tt.off {
            return;
        }
        replay::diverge();
        tt.epoch = random_epoch();
        tt.last_checkpoint = None;
        // Checkpoints the front end had from here on belonged to the old timeline: they must not
        // make the new one skip its own.
        tt.known.retain(|&k| k < tick);
        let epoch = tt.epoch;
        let _ = self.channel.send(&AgentMessage::Diverged { tick, epoch });
    }

    /// The state was changed at a stop that is not a line event: the new timeline's first
    /// checkpoint is taken at the next one.
    pub(super) fn checkpoint_next_line(&mut self) {
        if let Some(tt) = self.tt.as_deref_mut()
            && !tt.off
        {
            tt.fresh = true;
        }
        self.refresh_attention();
    }

    /// Takes a checkpoint of a stop (at a line): in a copy spawned from it, what to do.
    pub(super) fn checkpoint_at_stop(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
    ) -> Option<Adopted> {
        self.check_off(py);
        let before = self.tt.as_deref().map(|t| t.pauses.len());
        match self.fork_checkpoint(frame) {
            Some((plan, stream)) => Some(self.adopt(py, frame, *plan, stream)),
            None => {
                if let Some(tt) = self.tt.as_deref()
                    && Some(tt.pauses.len()) != before
                {
                    let message = AgentMessage::CheckpointTaken {
                        tick: self.tick,
                        epoch: tt.epoch,
                    };
                    let _ = self.channel.send(&message);
                }
                None
            }
        }
    }

    /// The program resumes from a stop.
    pub(super) fn resumed(&mut self) {
        let tick = self.tick;
        if let Some(tt) = self.tt.as_deref_mut() {
            tt.schedule.resumed(tick);
        }
        self.refresh_attention();
    }

    /// `RunTo`: run forward, stopping at nothing, to `tick`.
    pub(super) fn run_to(&mut self, tick: u64) -> Result<(), String> {
        if tick <= self.tick {
            return Err(format!(
                "tick {tick} is not ahead of this one ({})",
                self.tick
            ));
        }
        let tt = self
            .tt
            .as_deref_mut()
            .ok_or("time travel is off for this run")?;
        tt.goal = Some(tick);
        self.mode = super::Mode::Continue;
        self.refresh_quiet();
        Ok(())
    }

    pub fn checkpoint_pauses(&self) -> Vec<u64> {
        self.tt
            .as_deref()
            .map(|t| t.pauses.clone())
            .unwrap_or_default()
    }

    pub(super) fn time_travel_on(&self) -> bool {
        self.tt.as_deref().is_some_and(|t| !t.off)
    }
}

fn diverged() -> bool {
    DIVERGED.lock().map(|d| *d).unwrap_or(false)
}

/// A copy spawned while the program was stopped in `interact` (an explicit checkpoint): what
/// the conversation does next.
pub(super) fn after_adopt(adopted: Adopted) -> Option<After> {
    match adopted {
        Adopted::StopHere => None,
        Adopted::Run => Some(After::Resume),
    }
}
