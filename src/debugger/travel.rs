//! Time travel in the front end: `goto`, `restore`, the backward commands, `watch`, and keeping
//! the checkpoints within their budget.
//!
//! A move to tick T either runs the live program forward (T is ahead of it) or kills it and asks
//! the latest checkpoint at or before T for a copy that replays to T. A backward command first
//! needs to know *where* to go: a *scanner* (a copy that replays the stretch from a checkpoint to
//! the current position without stopping) reports the last line of each frame on the stack, the
//! last breakpoint stop and the last watch change in that stretch; if the answer is not in it,
//! the stretch before is scanned, and so on back to the start of the run.

use std::time::{Duration, Instant};

use super::timeline::{Refused, Timeline};
use super::{Debugger, Kind, Pending, Phase, Sink};
use crate::commands::Back;
use crate::protocol::{
    CheckpointInfo, Goal, Plan, Reply, Request, ScanQuery, ScanResult, StopReason, WatchScope,
};

/// A time-travel move in progress.
#[derive(Debug, Clone)]
pub(super) enum TravelOp {
    /// A copy replays to a tick (or the live program runs to it); these lines are printed
    /// when it arrives.
    Going { note: Vec<String> },
    /// A scanner replays the stretch before `limit`.
    Scanning(ScanOp),
}

#[derive(Debug, Clone)]
pub(super) struct ScanOp {
    back: Back,
    /// The scan currently running covers ticks before this one.
    limit: u64,
    /// The checkpoint it started from (its tick is where the stretch starts).
    from: u64,
    /// The depth of the frame the command is about (1 = the oldest frame).
    depth: usize,
    /// rnext found the frame started in a stretch: from there on, look at its callers.
    callers: bool,
    /// The phase to go back to if the command finds nowhere to go.
    phase: Phase,
    /// Where the command started (the stretch it scans first ends there).
    origin: u64,
}

/// A watch as the front end keeps it (to set it again in copies spawned from checkpoints).
#[derive(Debug, Clone)]
pub(super) struct WatchEntry {
    pub expr: String,
    pub scope: WatchScope,
}

/// How often one checkpoint's memory is measured (one at a time, round robin).
const MEASURE_EVERY: Duration = Duration::from_millis(50);

impl Debugger {
    fn travel_off(&self) -> Option<String> {
        if !self.session.time_travel() {
            return Some("time travel is off for this session (--no-time-travel)".into());
        }
        self.timeline
            .off
            .as_ref()
            .map(|why| format!("time travel is off for the rest of this run: {why}"))
    }

    /// Where the program is in time: (tick, at a line event, depth of the selected frame).
    fn position(&self) -> Option<(u64, bool, Option<usize>)> {
        match (&self.phase, &self.stop) {
            (Phase::Stopped, Some(stop)) => {
                let newest = stop.stack.len().saturating_sub(1);
                let depth = stop
                    .depth
                    .checked_sub(newest.saturating_sub(self.selected))
                    .filter(|d| *d > 0);
                Some((stop.tick, stop.at_line, depth))
            }
            (Phase::Finished(f), _) => Some((f.tick, false, None)),
            (Phase::Ended { .. }, _) => Some((self.last_tick, false, None)),
            _ => None,
        }
    }

    pub(super) fn back(&mut self, back: Back, sink: &mut dyn Sink) {
        if let Some(why) = self.travel_off() {
            return sink.line(Kind::Error, &format!("*** {why}"));
        }
        let Some((tick, at_line, depth)) = self.position() else {
            return sink.line(
                Kind::Error,
                "*** The program is running; wait for it to stop",
            );
        };
        // Stopped after the line event of `tick` (a return, an exception, the end): that line
        // is the one just before.
        let previous = if at_line {
            tick.saturating_sub(1)
        } else {
            tick
        };
        let first = self.timeline.first().map(|c| c.info.tick).unwrap_or(1);
        match (back, depth) {
            (Back::Step, _) | (Back::Next | Back::Return, None) => {
                if previous < first {
                    return sink.line(
                        Kind::Error,
                        "*** At the start of the run: nothing before it",
                    );
                }
                self.go_to(previous, Vec::new(), sink);
            }
            (Back::Next | Back::Return | Back::Continue, _) => {
                let limit = if at_line { tick } else { tick + 1 };
                if limit <= first {
                    return sink.line(
                        Kind::Error,
                        "*** At the start of the run: nothing before it",
                    );
                }
                let op = ScanOp {
                    back,
                    limit,
                    from: 0,
                    depth: depth.unwrap_or(1),
                    callers: back == Back::Return,
                    phase: self.phase.clone(),
                    origin: limit,
                };
                self.scan(op, sink);
            }
        }
    }

    /// Starts a scanner over the stretch before `op.limit`.
    fn scan(&mut self, mut op: ScanOp, sink: &mut dyn Sink) {
        let Some(checkpoint) = self.timeline.best_for(op.limit.saturating_sub(1)) else {
            return self.scan_exhausted(op, sink);
        };
        op.from = checkpoint.info.tick;
        let pid = checkpoint.info.pid;
        let goal = Goal::Scan(ScanQuery {
            limit: op.limit,
            frames: matches!(op.back, Back::Next | Back::Return),
            breakpoints: op.back == Back::Continue,
            watches: op.back == Back::Continue && !self.watches.is_empty(),
        });
        let plan = self.plan(goal);
        match self.session.spawn_from(pid, plan) {
            Ok(()) => {
                self.travel = Some(TravelOp::Scanning(op));
                self.phase = Phase::Running;
            }
            Err(e) => sink.line(Kind::Error, &format!("*** {e}")),
        }
    }

    /// Nothing earlier to scan: backward commands end at the start of the run.
    fn scan_exhausted(&mut self, op: ScanOp, sink: &mut dyn Sink) {
        let first = self.timeline.first().map(|c| c.info.tick);
        self.phase = op.phase.clone();
        match first {
            Some(first) if first < op.origin => {
                let what = match op.back {
                    Back::Continue => "no breakpoint stop or watch change before this point",
                    _ => "no earlier line in this frame or its callers",
                };
                self.go_to(
                    first,
                    vec![format!("({what}: at the start of the run)")],
                    sink,
                );
            }
            _ => sink.line(
                Kind::Error,
                "*** At the start of the run: nothing before it",
            ),
        }
    }

    pub(super) fn scanned(&mut self, result: Option<ScanResult>, sink: &mut dyn Sink) {
        let Some(TravelOp::Scanning(mut op)) = self.travel.take() else {
            return;
        };
        let Some(result) = result.filter(|r| r.complete) else {
            self.phase = op.phase.clone();
            sink.line(
                Kind::Notice,
                "sleepy: the replay of the past did not follow the recorded run (the program did \
                 something its record does not cover); stayed here",
            );
            return;
        };
        let found = match op.back {
            Back::Continue => {
                let brk = result.last_break.as_ref().map(|(t, numbers)| {
                    let list = numbers
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ");
                    (*t, vec![format!("(back at breakpoint {list})")])
                });
                let change = result.last_change.as_ref().map(|c| {
                    (
                        c.tick,
                        vec![
                            format!(
                                "Watchpoint {}: {} (going back: the next line changes it)",
                                c.number, c.expr
                            ),
                            format!("Old value = {}", c.old),
                            format!("New value = {}", c.new),
                        ],
                    )
                });
                match (brk, change) {
                    (Some(b), Some(c)) => Some(if c.0 >= b.0 { c } else { b }),
                    (b, c) => b.or(c),
                }
            }
            Back::Next | Back::Return => {
                let index = op.depth.saturating_sub(1);
                let own = result.frames.get(index);
                let mut found = None;
                if !op.callers {
                    match own {
                        Some(f) if f.last_line.is_some() => {
                            found = f.last_line.map(|t| (t, Vec::new()))
                        }
                        Some(f) if f.started => op.callers = true,
                        _ => {}
                    }
                }
                if found.is_none() && op.callers {
                    found = result.frames[..index.min(result.frames.len())]
                        .iter()
                        .filter_map(|f| f.last_line)
                        .max()
                        .map(|t| (t, Vec::new()));
                }
                found
            }
            Back::Step => None,
        };
        match found {
            Some((tick, note)) => {
                self.phase = op.phase.clone();
                self.go_to(tick, note, sink);
            }
            None => {
                // Not in this stretch: the one before it.
                op.limit = result.start;
                if self.timeline.before(op.limit).is_none() {
                    return self.scan_exhausted(op, sink);
                }
                self.scan(op, sink);
            }
        }
    }

    /// `goto TICK`.
    pub(super) fn goto_command(&mut self, tick: u64, sink: &mut dyn Sink) {
        if let Some(why) = self.travel_off() {
            return sink.line(Kind::Error, &format!("*** {why}"));
        }
        if self.busy() {
            return sink.line(
                Kind::Error,
                "*** The program is running; wait for it to stop",
            );
        }
        if let Some(end) = self.end_tick
            && tick > end
        {
            return sink.line(
                Kind::Error,
                &format!("*** The run ends at tick {end}: there is no tick {tick}"),
            );
        }
        self.go_to(tick, Vec::new(), sink);
    }

    /// `restore N`.
    pub(super) fn restore(&mut self, number: u32, sink: &mut dyn Sink) {
        if let Some(why) = self.travel_off() {
            return sink.line(Kind::Error, &format!("*** {why}"));
        }
        if self.busy() {
            return sink.line(
                Kind::Error,
                "*** The program is running; wait for it to stop",
            );
        }
        let Some(c) = self.timeline.get(number) else {
            return sink.line(
                Kind::Error,
                &format!("*** No checkpoint {number} (see 'checkpoints')"),
            );
        };
        let (pid, tick) = (c.info.pid, c.info.tick);
        self.spawn_at(pid, tick, vec![format!("(checkpoint {number})")], sink);
    }

    /// Goes to the line event of `tick`, forward by running or from a checkpoint.
    fn go_to(&mut self, tick: u64, note: Vec<String>, sink: &mut dyn Sink) {
        let ahead = match (&self.phase, &self.stop) {
            (Phase::Stopped, Some(stop)) => {
                let ended = matches!(stop.reason, StopReason::PostMortem { .. });
                if tick == stop.tick && stop.at_line {
                    for line in &note {
                        sink.line(Kind::Info, line);
                    }
                    return sink.line(Kind::Info, &format!("Already at tick {tick}"));
                }
                tick > stop.tick && !ended
            }
            _ => false,
        };
        if ahead {
            match self.session.send(&Request::RunTo { tick }) {
                Ok(()) => {
                    self.travel = Some(TravelOp::Going { note });
                    self.pending = Some(Pending::Resume);
                    self.phase = Phase::Running;
                }
                Err(e) => sink.line(Kind::Error, &format!("*** {e}")),
            }
            return;
        }
        let Some(c) = self.timeline.best_for(tick) else {
            let text = match self.timeline.reachable_from(tick) {
                Some(next) => format!(
                    "tick {tick} cannot be visited: the state was changed after it was recorded \
                     (a jump or a statement run at a stop); the next point in time is tick {next}"
                ),
                None => format!("no checkpoint at or before tick {tick}"),
            };
            return sink.line(Kind::Error, &format!("*** {text}"));
        };
        let pid = c.info.pid;
        self.spawn_at(pid, tick, note, sink);
    }

    fn spawn_at(&mut self, pid: u32, tick: u64, note: Vec<String>, sink: &mut dyn Sink) {
        // The program as it is now is replaced by the copy.
        self.session.kill_live();
        let plan = self.plan(Goal::Tick(tick));
        match self.session.spawn_from(pid, plan) {
            Ok(()) => {
                self.travel = Some(TravelOp::Going { note });
                self.stop = None;
                self.pending = Some(Pending::Resume);
                self.phase = Phase::Running;
                self.gone = None;
            }
            Err(e) => {
                sink.line(Kind::Error, &format!("*** {e}"));
                self.phase = Phase::Ended { exit_code: 1 };
            }
        }
    }

    /// What a copy needs to know besides its goal.
    fn plan(&mut self, goal: Goal) -> Plan {
        self.next_epoch += 1;
        let epoch = self.next_epoch;
        self.timeline.register_epoch(epoch);
        let mut setup = vec![Request::RestoreBreakpoints {
            breakpoints: self.breakpoints.values().cloned().collect(),
            next: self.next_breakpoint,
        }];
        for (number, w) in &self.watches {
            setup.push(Request::RestoreWatch {
                number: *number,
                expr: w.expr.clone(),
                scope: w.scope.clone(),
            });
        }
        Plan {
            epoch,
            goal,
            setup,
            sync_base: self.seen_sync,
            known_checkpoints: self.timeline.ticks(),
        }
    }

    /// The copy spawned for a move has stopped where it was going: what to say first.
    pub(super) fn arrived(&mut self, sink: &mut dyn Sink) {
        if let Some(TravelOp::Going { note, .. }) = self.travel.take() {
            for line in note {
                sink.line(Kind::Info, &line);
            }
        }
    }

    // --- checkpoints ------------------------------------------------------------------------------

    pub(super) fn checkpoint_arrived(&mut self, info: CheckpointInfo) {
        let pid = info.pid;
        self.arrived_checkpoints.push_back((info.tick, info.epoch));
        if self.arrived_checkpoints.len() > 8 {
            self.arrived_checkpoints.pop_front();
        }
        match self.timeline.admit(info) {
            Ok(_) => self.enforce_budget(),
            Err(Refused::Stale | Refused::Off) => self.session.drop_checkpoint(pid),
        }
    }

    /// Measures one checkpoint's memory now and then, and applies the memory budget.
    pub(super) fn tend_checkpoints(&mut self) {
        if self.timeline.is_empty() || self.measured_at.elapsed() < MEASURE_EVERY {
            return;
        }
        self.measured_at = Instant::now();
        let numbers: Vec<u32> = self.timeline.checkpoints().map(|c| c.number).collect();
        if numbers.is_empty() {
            return;
        }
        self.measure_cursor = (self.measure_cursor + 1) % numbers.len();
        let number = numbers[self.measure_cursor];
        if let Some(c) = self.timeline.get(number) {
            let memory = self.session.checkpoint_memory(c.info.pid);
            if let Some(c) = self.timeline.get_mut(number) {
                c.memory = memory;
            }
        }
        self.enforce_budget();
    }

    /// Drops the checkpoints the budget has no room for, as last measured.
    fn enforce_budget(&mut self) {
        let now = self.position().map(|p| p.0).unwrap_or(self.last_tick);
        for number in self.timeline.over_budget(now) {
            if let Some(c) = self.timeline.remove(number) {
                self.session.drop_checkpoint(c.info.pid);
            }
        }
    }

    pub(super) fn diverged(&mut self, tick: u64, epoch: u64, sink: &mut dyn Sink) {
        let gone = self.timeline.diverged(tick, epoch);
        let count = gone.len();
        for c in gone {
            self.session.drop_checkpoint(c.info.pid);
        }
        // At the newest point of the run there is no recorded future to lose (the checkpoint
        // of the stop itself, from before the change, goes silently).
        if self.frontier > tick {
            let which = if count == 1 {
                "1 checkpoint".to_string()
            } else {
                format!("{count} checkpoints")
            };
            sink.line(
                Kind::Notice,
                &format!(
                    "sleepy: the program's state was changed at tick {tick}: the recorded future \
                     after it is dropped ({which}); running on makes a new one"
                ),
            );
        }
        self.frontier = tick;
        self.end_tick = None;
    }

    pub(super) fn time_travel_off(&mut self, reason: String, sink: &mut dyn Sink) {
        for c in self.timeline.turn_off(reason.clone()) {
            self.session.drop_checkpoint(c.info.pid);
        }
        sink.line(
            Kind::Notice,
            &format!(
                "sleepy: time travel is off for the rest of this run: {reason} (sleepy records \
                 one thread of one process); forward debugging goes on"
            ),
        );
    }

    pub(super) fn list_checkpoints(&mut self, sink: &mut dyn Sink) {
        if let Some(why) = self.travel_off() {
            return sink.line(Kind::Info, &why);
        }
        let numbers: Vec<(u32, u32)> = self
            .timeline
            .checkpoints()
            .map(|c| (c.number, c.info.pid))
            .collect();
        for (number, pid) in numbers {
            let memory = self.session.checkpoint_memory(pid);
            if let Some(c) = self.timeline.get_mut(number) {
                c.memory = memory;
            }
        }
        // Fresh measures can be over the budget: the listing shows what is kept.
        self.measured_at = Instant::now();
        self.enforce_budget();
        if self.timeline.is_empty() {
            return sink.line(Kind::Info, "No checkpoints.");
        }
        sink.line(Kind::Info, "Num   Tick        Memory  Where");
        let mut rows: Vec<_> = self.timeline.checkpoints().cloned().collect();
        rows.sort_by_key(|c| (c.info.tick, c.number));
        for c in &rows {
            let memory = c
                .memory
                .map(|m| format!("{:.1} MB", m as f64 / 1_048_576.0))
                .unwrap_or_else(|| "?".into());
            sink.line(
                Kind::Info,
                &format!(
                    "{:<5} {:<10} {:>8}  {}:{} {}",
                    c.number, c.info.tick, memory, c.info.file, c.info.line, c.info.function
                ),
            );
        }
        let budget = self.timeline.budget;
        sink.line(
            Kind::Info,
            &format!(
                "{} checkpoints, {:.1} MB of their own memory (budget: {} checkpoints, {} MB)",
                rows.len(),
                self.timeline.total_memory() as f64 / 1_048_576.0,
                budget.max_count,
                budget.max_memory >> 20
            ),
        );
    }

    // --- watches ------------------------------------------------------------------------------

    pub(super) fn watch_command(
        &mut self,
        expr: String,
        function: Option<String>,
        sink: &mut dyn Sink,
    ) {
        let number = self.next_watch;
        let frame = self.selected;
        self.request(
            Request::Watch {
                number,
                frame,
                expr,
                function,
            },
            Pending::Plain,
            sink,
        );
        if matches!(self.phase, Phase::Waiting) {
            self.next_watch += 1;
        }
    }

    pub(super) fn watch_set(&mut self, reply: &Reply, sink: &mut dyn Sink) -> bool {
        let Reply::Watching {
            number,
            expr,
            scope,
            value,
        } = reply
        else {
            return false;
        };
        let place = match scope {
            WatchScope::Frame { function, .. } => format!("in this call of {function}"),
            WatchScope::Function(name) => format!("in every call of {name}"),
        };
        sink.line(
            Kind::Info,
            &format!("Watchpoint {number}: {expr} = {value} ({place})"),
        );
        self.watches.insert(
            *number,
            WatchEntry {
                expr: expr.clone(),
                scope: scope.clone(),
            },
        );
        true
    }

    pub(super) fn unwatch(&mut self, number: Option<u32>, sink: &mut dyn Sink) {
        let numbers: Vec<u32> = match number {
            Some(n) if self.watches.contains_key(&n) => vec![n],
            Some(n) => return sink.line(Kind::Error, &format!("*** No watchpoint {n}")),
            None => self.watches.keys().copied().collect(),
        };
        for n in &numbers {
            self.watches.remove(n);
            sink.line(Kind::Info, &format!("Deleted watchpoint {n}"));
        }
        // A program that is not stopped has no watches to drop (copies get the list anew).
        if matches!(self.phase, Phase::Stopped) && !numbers.is_empty() {
            self.request(Request::Unwatch { number }, Pending::Plain, sink);
        }
    }

    /// A stop where a watched value changed, or a move that arrived: remembers how far the
    /// timeline has been seen.
    pub(super) fn saw_tick(&mut self, tick: u64) {
        self.frontier = self.frontier.max(tick);
    }
}

/// A timeline used by a debugger with no time travel.
pub(super) fn timeline(budget: super::timeline::Budget) -> Timeline {
    let mut t = Timeline::new(budget);
    t.register_epoch(0);
    t
}
