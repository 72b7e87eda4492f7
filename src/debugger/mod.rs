//! The front end's model of a debugging session: what the program's state is (running,
//! stopped, finished), which frame is selected, and what each command does.
//!
//! It is driven by events: [`Debugger::execute`] starts a command (answering at once when the
//! front end knows the answer, e.g. `where`, `up`, `list` of a file it has), and
//! [`Debugger::handle`] takes each [`SessionEvent`]. Output goes to a [`Sink`], which the batch
//! driver prints as a transcript and the TUI will show in its panes. Messages from the agent wait
//! for their sync marker, so they never overtake the program output that came before them.

pub mod format;
pub mod timeline;
mod travel;

use std::collections::{BTreeMap, HashMap, VecDeque};

use self::timeline::{Budget, Timeline};
use self::travel::{TravelOp, WatchEntry};
use std::time::{Duration, Instant};

use crate::commands::{self, Command, ListArg};
use crate::protocol::{
    AgentMessage, BreakpointInfo, Finish, Launch, Reply, Request, Resume, Stop, StopReason,
};
use crate::session::{ProgramIo, Session, SessionError, SessionEvent};

/// How a line of debugger output should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Normal command output.
    Info,
    /// pdb's `*** ...` errors.
    Error,
    /// Where the program stopped.
    Location,
    /// sleepy's own notices about the session (`sleepy: ...`).
    Notice,
    /// Why the session could not start (a syntax error, a bad interpreter): for stderr.
    Failure,
}

pub trait Sink {
    fn program_output(&mut self, bytes: &[u8]);
    fn line(&mut self, kind: Kind, text: &str);
    /// The reply to a [`Debugger::query`].
    fn answer(&mut self, _tag: u64, _reply: Reply) {}
}

/// What the Timeline pane shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimelineView {
    pub checkpoints: Vec<u64>,
    pub now: u64,
    pub frontier: u64,
    pub end: Option<u64>,
    pub off: Option<String>,
}

/// The state of the program as the front end sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// The agent is starting the program.
    Launching,
    Running,
    Stopped,
    /// A request was sent; its reply has not come yet.
    Waiting,
    Finished(Finish),
    /// The session is over without a normal finish: the launch failed or the process died.
    Ended {
        exit_code: i32,
    },
}

/// What an outstanding request was, to print its reply the way the command wants.
#[derive(Debug, Clone)]
enum Pending {
    Plain,
    Exec {
        source: String,
        explicit: bool,
    },
    List {
        file: String,
        arg: ListArg,
    },
    LongList,
    Break,
    Clear,
    Enable(bool),
    Condition {
        set: bool,
    },
    Ignore,
    ListBreakpoints,
    Display {
        listing: bool,
    },
    Args,
    Resume,
    Checkpoint,
    /// A question the UI asked for itself (`Debugger::query`): the reply goes to
    /// `Sink::answer` with this tag, not to the transcript.
    Query(u64),
}

/// How long a message may wait for the program output before it (its sync marker).
const SYNC_PATIENCE: Duration = Duration::from_secs(2);
/// How long the program's output after a sync marker waits for the message it belongs to.
const MARKER_PATIENCE: Duration = Duration::from_millis(500);
/// How long a stop waits for the checkpoint taken at it (normally well under a millisecond;
/// a checkpoint that failed to start never comes).
const CHECKPOINT_PATIENCE: Duration = Duration::from_secs(1);

pub struct Debugger {
    session: Session,
    phase: Phase,
    stop: Option<Stop>,
    selected: usize,
    /// pdb's `lineno`: the last line `list` showed, so the next `list` continues.
    list_last: Option<u32>,
    sources: HashMap<String, Vec<String>>,
    breakpoints: BTreeMap<u32, BreakpointInfo>,
    canonical: HashMap<String, String>,
    seen_sync: u64,
    /// Agent messages waiting for the program output before them (their sync marker), in order.
    deferred: VecDeque<(AgentMessage, u64, Instant)>,
    /// Session events that came while waiting for a checkpoint, handled next.
    stashed: VecDeque<SessionEvent>,
    /// The program's output and the sync markers in it, in order, not yet shown: output after
    /// a marker waits for the message that marker belongs to (a notice, a stop), which the
    /// agent sent before the program could write more.
    output: VecDeque<SessionEvent>,
    /// The highest sync number of any agent message received.
    message_sync: u64,
    /// Since when the marker at the front of `output` has been waiting for its message.
    marker_wait: Option<Instant>,
    pending: Option<Pending>,
    last_tick: u64,
    interrupt_sent: bool,
    /// The agent's channel has closed (with the error, if any), not yet acted on.
    gone: Option<Option<String>>,
    timeline: Timeline,
    travel: Option<TravelOp>,
    watches: BTreeMap<u32, WatchEntry>,
    next_watch: u32,
    /// The number pdb would give the next breakpoint (numbers are never reused).
    next_breakpoint: u32,
    next_epoch: u64,
    /// The furthest tick seen on this timeline, and its last tick once the program has ended.
    frontier: u64,
    end_tick: Option<u64>,
    measured_at: Instant,
    measure_cursor: usize,
    /// How many stops so far: the UI refreshes its panes when it changes.
    stops: u64,
    /// The last few checkpoints that introduced themselves (tick, epoch), kept or not.
    arrived_checkpoints: VecDeque<(u64, u64)>,
    /// Hold each stop's location until `show_held_location` (see `hold_locations`).
    hold_locations: bool,
    held_location: Vec<String>,
}

impl Debugger {
    pub fn start(launch: Launch, io: ProgramIo) -> Result<Debugger, SessionError> {
        Ok(Debugger::with_session(Session::start(launch, io)?))
    }

    /// A debugger whose agent is the given sleepy executable.
    pub fn start_with_agent(
        exe: &std::path::Path,
        launch: Launch,
        io: ProgramIo,
    ) -> Result<Debugger, SessionError> {
        Ok(Debugger::with_session(Session::start_with_agent(
            exe, launch, io,
        )?))
    }

    fn with_session(session: Session) -> Debugger {
        Debugger {
            session,
            phase: Phase::Launching,
            stop: None,
            selected: 0,
            list_last: None,
            sources: HashMap::new(),
            breakpoints: BTreeMap::new(),
            canonical: HashMap::new(),
            seen_sync: 0,
            deferred: VecDeque::new(),
            stashed: VecDeque::new(),
            output: VecDeque::new(),
            message_sync: 0,
            marker_wait: None,
            pending: None,
            last_tick: 0,
            interrupt_sent: false,
            gone: None,
            timeline: travel::timeline(Budget {
                max_count: 64,
                max_memory: 2048 << 20,
            }),
            travel: None,
            watches: BTreeMap::new(),
            next_watch: 1,
            next_breakpoint: 1,
            next_epoch: 0,
            frontier: 0,
            end_tick: None,
            measured_at: Instant::now(),
            measure_cursor: 0,
            stops: 0,
            arrived_checkpoints: VecDeque::new(),
            hold_locations: false,
            held_location: Vec::new(),
        }
    }

    /// pdb 3.13 prints a stop's location (and its displays) only right before it reads the
    /// next command from the user: commands queued behind `;;` run first, and a stop that one
    /// of them moves on from never shows its location. Batch mode, which speaks the embedded
    /// Python's pdb, holds locations while it runs queued commands, and shows the held one
    /// before reading a new line.
    pub fn hold_locations(&mut self, hold: bool) {
        self.hold_locations = hold;
    }

    /// Shows the location held since the last stop, if any (see `hold_locations`).
    pub fn show_held_location(&mut self, sink: &mut dyn Sink) {
        for line in std::mem::take(&mut self.held_location) {
            sink.line(Kind::Location, &line);
        }
    }

    /// How many checkpoints, and how much memory of their own, time travel may keep.
    pub fn set_budget(&mut self, max_count: usize, max_memory: u64) {
        self.timeline.budget = Budget {
            max_count,
            max_memory,
        };
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    pub fn current_stop(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    /// The front end is waiting for the program or the agent.
    pub fn busy(&self) -> bool {
        matches!(
            self.phase,
            Phase::Launching | Phase::Running | Phase::Waiting
        )
    }

    pub fn running(&self) -> bool {
        matches!(self.phase, Phase::Launching | Phase::Running)
    }

    /// The exit status sleepy itself should end with.
    pub fn exit_code(&self) -> i32 {
        match &self.phase {
            Phase::Finished(f) => f.signal.map(|s| 128 + s).unwrap_or(f.exit_code),
            Phase::Ended { exit_code } => *exit_code,
            _ if self.in_post_mortem() => 1,
            _ => 0,
        }
    }

    /// Stopped after an uncaught exception: ending the session now is the program failing.
    fn in_post_mortem(&self) -> bool {
        matches!(
            &self.stop,
            Some(Stop {
                reason: StopReason::PostMortem { .. },
                ..
            })
        )
    }

    /// Waits for the next event (at most `timeout`) and handles it.
    pub fn poll(&mut self, timeout: Duration, sink: &mut dyn Sink) {
        let event = match self.stashed.pop_front() {
            Some(event) => Some(event),
            None => self.session.next_event(timeout),
        };
        if let Some(event) = event {
            self.handle(event, sink);
        }
        self.tend_checkpoints();
        self.drain_output(sink);
        if let Some((_, _, since)) = self.deferred.front()
            && since.elapsed() > SYNC_PATIENCE
        {
            // The marker got lost (the program changed its terminal, say): show the message
            // rather than wait for ever.
            if let Some((msg, _, _)) = self.deferred.pop_front() {
                self.process(msg, sink);
            }
            self.release_deferred(sink);
        }
        self.settle_gone(sink);
    }

    fn settle_gone(&mut self, sink: &mut dyn Sink) {
        if !self.deferred.is_empty() || !self.stashed.is_empty() || !self.output.is_empty() {
            return;
        }
        if let Some(error) = self.gone.take()
            && !matches!(self.phase, Phase::Finished(_) | Phase::Ended { .. })
        {
            self.agent_died(error, sink);
        }
    }

    pub fn handle(&mut self, event: SessionEvent, sink: &mut dyn Sink) {
        match event {
            event @ (SessionEvent::Output(_) | SessionEvent::Sync(_)) => {
                self.output.push_back(event);
                self.drain_output(sink);
            }
            SessionEvent::Agent(msg) => {
                let sync = match &msg {
                    AgentMessage::Stopped { sync, .. }
                    | AgentMessage::Reply { sync, .. }
                    | AgentMessage::Finished { sync, .. }
                    | AgentMessage::Notice { sync, .. }
                    | AgentMessage::TimeTravelOff { sync, .. } => *sync,
                    _ => 0,
                };
                self.message_sync = self.message_sync.max(sync);
                if sync > self.seen_sync || !self.deferred.is_empty() {
                    self.deferred.push_back((msg, sync, Instant::now()));
                } else {
                    self.process(msg, sink);
                }
                self.drain_output(sink);
            }
            SessionEvent::AgentGone(error) => {
                // The channel closes as the agent exits, often before the terminal has handed
                // over the last output and the sync marker of the agent's final message: that
                // message keeps waiting for its marker (see `poll`), and only then, with
                // nothing left to show, does a missing `Finished` mean the agent died.
                self.gone = Some(error);
                self.settle_gone(sink);
            }
            SessionEvent::OutputClosed => {}
            SessionEvent::Checkpoint(info) => self.checkpoint_arrived(info),
            SessionEvent::NewLive { .. } => {}
            SessionEvent::Scanned { result, .. } => self.scanned(result, sink),
        }
    }

    /// Shows the program's output up to the first marker whose message has not come yet.
    fn drain_output(&mut self, sink: &mut dyn Sink) {
        loop {
            match self.output.front() {
                Some(SessionEvent::Output(_)) => {
                    if let Some(SessionEvent::Output(bytes)) = self.output.pop_front() {
                        sink.program_output(&bytes);
                    }
                }
                Some(&SessionEvent::Sync(n)) => {
                    self.seen_sync = self.seen_sync.max(n);
                    self.release_deferred(sink);
                    let waited = self.marker_wait.get_or_insert_with(Instant::now).elapsed();
                    // A message lost with its process (killed while stopped) must not hold
                    // the output back for long.
                    if self.message_sync >= n || waited > MARKER_PATIENCE {
                        self.output.pop_front();
                        self.marker_wait = None;
                    } else {
                        return;
                    }
                }
                Some(_) => {
                    self.output.pop_front();
                }
                None => return,
            }
        }
    }

    /// Handles the deferred messages whose output has been shown, in order.
    fn release_deferred(&mut self, sink: &mut dyn Sink) {
        while matches!(self.deferred.front(), Some((_, want, _)) if *want <= self.seen_sync) {
            if let Some((msg, _, _)) = self.deferred.pop_front() {
                self.process(msg, sink);
            }
        }
    }

    /// Waits (a little) for the checkpoint the agent just forked to introduce itself, so that
    /// the stop it precedes is shown with the checkpoint already known.
    fn await_checkpoint(&mut self, tick: u64, epoch: u64) {
        // The checkpoint's process may have introduced itself before this message came.
        let known = |d: &Debugger| {
            d.arrived_checkpoints.contains(&(tick, epoch))
                || d.stashed.iter().any(|e| {
                    matches!(e, SessionEvent::Checkpoint(i) if i.tick == tick && i.epoch == epoch)
                })
        };
        if known(self) {
            return;
        }
        let deadline = Instant::now() + CHECKPOINT_PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match self.session.next_event(left) {
                Some(SessionEvent::Checkpoint(info)) => {
                    let ours = info.tick == tick && info.epoch == epoch;
                    self.checkpoint_arrived(info);
                    if ours {
                        return;
                    }
                }
                Some(other) => {
                    let gone = matches!(other, SessionEvent::AgentGone(_));
                    self.stashed.push_back(other);
                    if gone {
                        return;
                    }
                }
                None => return,
            }
        }
    }

    fn agent_died(&mut self, error: Option<String>, sink: &mut dyn Sink) {
        // Drain what the program wrote last.
        for event in std::mem::take(&mut self.output) {
            if let SessionEvent::Output(bytes) = event {
                sink.program_output(&bytes);
            }
        }
        let deadline = Instant::now() + Duration::from_millis(300);
        while Instant::now() < deadline {
            match self.session.next_event(Duration::from_millis(20)) {
                Some(SessionEvent::Output(bytes)) => sink.program_output(&bytes),
                Some(SessionEvent::OutputClosed) | None => break,
                Some(_) => {}
            }
        }
        let mut status = None;
        let deadline = Instant::now() + Duration::from_secs(2);
        while status.is_none() && Instant::now() < deadline {
            status = self.session.try_wait();
            if status.is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if status.is_none() {
            self.session.kill();
            status = self.session.try_wait();
        }
        use std::os::unix::process::ExitStatusExt;
        let (text, exit_code) = match status.map(|s| (s.code(), s.signal())) {
            Some((_, Some(sig))) => {
                let meaning = format::signal_meaning(sig);
                let meaning = if meaning.is_empty() {
                    String::new()
                } else {
                    format!(" ({meaning})")
                };
                (
                    format!(
                        "the program's process was killed by signal {sig}, {}{meaning}; it last stopped at tick {}",
                        format::signal_name(sig),
                        self.last_tick
                    ),
                    128 + sig,
                )
            }
            Some((Some(code), None)) => (
                format!(
                    "the program's process exited with status {code} without finishing normally \
                     (os._exit() or a crash in native code); it last stopped at tick {}",
                    self.last_tick
                ),
                code,
            ),
            _ => (
                format!(
                    "lost the agent: {}",
                    error.unwrap_or_else(|| "it stopped answering".into())
                ),
                1,
            ),
        };
        sink.line(Kind::Notice, &format!("sleepy: {text}"));
        let report = self.session.crash_report();
        if !report.trim().is_empty() {
            sink.line(
                Kind::Notice,
                "sleepy: the program's Python stack when it crashed:",
            );
            for line in report.lines() {
                sink.line(Kind::Notice, line);
            }
        }
        self.phase = Phase::Ended { exit_code };
        self.stop = None;
    }

    fn process(&mut self, msg: AgentMessage, sink: &mut dyn Sink) {
        match msg {
            AgentMessage::LaunchFailed { message, exit_code } => {
                sink.line(Kind::Failure, &format!("sleepy: {message}"));
                self.phase = Phase::Ended { exit_code };
            }
            AgentMessage::Notice { text, .. } => {
                sink.line(Kind::Notice, &format!("sleepy: {text}"))
            }
            AgentMessage::Stopped { stop, .. } => {
                self.last_tick = stop.tick;
                self.saw_tick(stop.tick);
                if matches!(stop.reason, StopReason::Arrived) {
                    self.arrived(sink);
                } else {
                    self.travel = None;
                }
                for line in format::stop_reason(&stop) {
                    sink.line(Kind::Location, &line);
                }
                let location = format::stop_location(&stop);
                // A newer stop replaces a location never shown, as in pdb 3.13.
                self.held_location.clear();
                if self.hold_locations {
                    self.held_location = location;
                } else {
                    for line in location {
                        sink.line(Kind::Location, &line);
                    }
                }
                if matches!(stop.reason, StopReason::PostMortem { .. }) {
                    // The program's last line event has run: the run ends there.
                    self.end_tick = Some(stop.tick);
                }
                if let StopReason::Breakpoint { deleted, .. } = &stop.reason {
                    for bp in deleted {
                        self.breakpoints.remove(&bp.number);
                    }
                }
                self.selected = stop.stack.len().saturating_sub(1);
                self.list_last = None;
                self.interrupt_sent = false;
                self.stop = Some(stop);
                self.stops += 1;
                self.pending = None;
                self.phase = Phase::Stopped;
            }
            AgentMessage::Finished { finish, .. } => {
                self.last_tick = finish.tick;
                self.saw_tick(finish.tick);
                self.end_tick = Some(finish.tick);
                self.travel = None;
                let text = match (&finish.signal, &finish.exception) {
                    (Some(sig), _) => format!(
                        "The program was interrupted ({}) and exited with code {}.",
                        format::signal_name(*sig),
                        128 + sig
                    ),
                    _ => format!("The program exited with code {}.", finish.exit_code),
                };
                sink.line(Kind::Info, &text);
                // pdb 3.13 never shows the location of a stop a queued command ran away from.
                self.held_location.clear();
                self.stop = None;
                self.pending = None;
                self.phase = Phase::Finished(finish);
            }
            AgentMessage::Reply { reply, .. } => {
                let pending = self.pending.take().unwrap_or(Pending::Plain);
                self.phase = Phase::Stopped;
                if matches!(pending, Pending::Resume) {
                    // A move that the agent refused: nothing is on its way.
                    self.travel = None;
                }
                if !self.watch_set(&reply, sink) {
                    self.show_reply(pending, reply, sink);
                }
            }
            AgentMessage::CheckpointTaken { tick, epoch } => self.await_checkpoint(tick, epoch),
            AgentMessage::Diverged { tick, epoch } => self.diverged(tick, epoch, sink),
            AgentMessage::TimeTravelOff { reason, .. } => self.time_travel_off(reason, sink),
            // Only scanners send these, on connections of their own.
            AgentMessage::Scanned(_) => {}
        }
    }

    fn selected_frame(&self) -> Option<&crate::protocol::FrameInfo> {
        self.stop.as_ref().and_then(|s| s.stack.get(self.selected))
    }

    fn canonical(&mut self, file: &str) -> String {
        if let Some(c) = self.canonical.get(file) {
            return c.clone();
        }
        let c = std::fs::canonicalize(file)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| file.to_string());
        self.canonical.insert(file.to_string(), c.clone());
        c
    }

    fn breaks_in(&mut self, file: &str) -> Vec<u32> {
        let canon = self.canonical(file);
        self.breakpoints
            .values()
            .filter(|b| b.file == canon)
            .map(|b| b.line)
            .collect()
    }

    /// Sends a request that needs the program stopped.
    fn request(&mut self, request: Request, pending: Pending, sink: &mut dyn Sink) {
        match &self.phase {
            Phase::Stopped => {}
            Phase::Finished(f) => {
                sink.line(
                    Kind::Error,
                    &format!(
                        "*** The program has finished (exit code {}); nothing is running",
                        f.exit_code
                    ),
                );
                return;
            }
            Phase::Ended { .. } => {
                sink.line(Kind::Error, "*** The program is no longer running");
                return;
            }
            _ => {
                sink.line(
                    Kind::Error,
                    "*** The program is running; wait for it to stop",
                );
                return;
            }
        }
        match self.session.send(&request) {
            Ok(()) => {
                self.pending = Some(pending);
                let runs = matches!(
                    request,
                    Request::Resume { .. }
                        | Request::Jump { .. }
                        | Request::Suspend { next: true, .. }
                );
                self.phase = if runs { Phase::Running } else { Phase::Waiting };
                if runs {
                    // Until its reply (an error) or the next stop, the program runs.
                    self.pending = Some(Pending::Resume);
                }
            }
            Err(e) => sink.line(Kind::Error, &format!("*** {e}")),
        }
    }

    /// Asks the agent something for the UI itself (variables, a watch's value) while the
    /// program is stopped; the reply comes to [`Sink::answer`] with `tag`. `false`: not now
    /// (the program runs, or another request is on its way).
    pub fn query(&mut self, request: Request, tag: u64) -> bool {
        if !matches!(self.phase, Phase::Stopped) {
            return false;
        }
        match self.session.send(&request) {
            Ok(()) => {
                self.pending = Some(Pending::Query(tag));
                self.phase = Phase::Waiting;
                true
            }
            Err(_) => false,
        }
    }

    /// Changes at every stop (and at every frame selection change, which needs a refresh too).
    pub fn stop_count(&self) -> u64 {
        self.stops
    }

    /// The frame `up`/`down` selected (an index into the stop's stack).
    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn breakpoints(&self) -> impl Iterator<Item = &BreakpointInfo> {
        self.breakpoints.values()
    }

    /// The timeline as the UI draws it: the checkpoints' ticks, the furthest tick seen, the
    /// last tick if the program has ended, and why time travel is off (if it is).
    pub fn timeline_view(&self) -> TimelineView {
        TimelineView {
            checkpoints: self.timeline.ticks(),
            now: self.stop.as_ref().map(|s| s.tick).unwrap_or(self.last_tick),
            frontier: self.frontier,
            end: self.end_tick,
            off: self.timeline.off.clone(),
        }
    }

    /// Starts a command; its output goes to `sink` now or when its reply comes.
    pub fn execute(&mut self, command: Command, sink: &mut dyn Sink) {
        let frame = self.selected;
        match command {
            Command::Help(topic) => match commands::help_text(topic.as_deref()) {
                Ok(lines) => lines.iter().for_each(|l| sink.line(Kind::Info, l)),
                Err(e) => sink.line(Kind::Error, &format!("*** {e}")),
            },
            Command::Tick => sink.line(
                Kind::Info,
                &format!(
                    "tick {}",
                    self.stop.as_ref().map(|s| s.tick).unwrap_or(self.last_tick)
                ),
            ),
            Command::Quit => {
                if matches!(self.phase, Phase::Stopped) {
                    let _ = self.session.send(&Request::Quit);
                }
                self.session.kill();
                if !matches!(self.phase, Phase::Finished(_) | Phase::Ended { .. }) {
                    let exit_code = if self.in_post_mortem() { 1 } else { 0 };
                    self.phase = Phase::Ended { exit_code };
                }
            }
            Command::Where => match &self.stop {
                Some(stop) => {
                    for (i, f) in stop.stack.iter().enumerate() {
                        for line in format::stack_entry(f, i == self.selected) {
                            sink.line(Kind::Info, &line);
                        }
                    }
                }
                None => self.not_stopped(sink),
            },
            Command::Up(n) | Command::Down(n) => {
                let up = matches!(command, Command::Up(_));
                let Some(stop) = &self.stop else {
                    return self.not_stopped(sink);
                };
                let last = stop.stack.len().saturating_sub(1);
                if up && self.selected == 0 {
                    return sink.line(Kind::Error, "*** Oldest frame");
                }
                if !up && self.selected >= last {
                    return sink.line(Kind::Error, "*** Newest frame");
                }
                self.selected = if up {
                    self.selected.saturating_sub(n)
                } else {
                    (self.selected + n).min(last)
                };
                self.list_last = None;
                if let Some(f) = stop.stack.get(self.selected) {
                    for line in format::stack_entry(f, true) {
                        sink.line(Kind::Location, &line);
                    }
                }
            }
            Command::List(arg) => {
                let Some(f) = self.selected_frame() else {
                    return self.not_stopped(sink);
                };
                let file = f.file.clone();
                if self.sources.contains_key(&file) {
                    self.print_listing(&file, &arg, sink);
                } else {
                    self.request(
                        Request::Source {
                            file: file.clone(),
                            frame,
                        },
                        Pending::List { file, arg },
                        sink,
                    );
                }
            }
            Command::LongList => {
                self.request(Request::FunctionSource { frame }, Pending::LongList, sink)
            }
            Command::Resume(resume) => {
                self.request(Request::Resume { resume, frame }, Pending::Resume, sink)
            }
            Command::Jump { line, option } => self.request(
                Request::Jump {
                    frame,
                    line,
                    option,
                },
                Pending::Resume,
                sink,
            ),
            Command::Eval { expr, style } => {
                self.request(Request::Eval { frame, expr, style }, Pending::Plain, sink)
            }
            Command::Exec { source, explicit } => self.request(
                Request::Exec {
                    frame,
                    source: source.clone(),
                },
                Pending::Exec { source, explicit },
                sink,
            ),
            Command::Args => self.request(Request::Args { frame }, Pending::Args, sink),
            Command::Retval => self.request(Request::Retval { frame }, Pending::Plain, sink),
            Command::Break { location: None, .. } => {
                self.request(Request::ListBreakpoints, Pending::ListBreakpoints, sink)
            }
            Command::Break {
                location: Some(location),
                condition,
                temporary,
            } => self.request(
                Request::Break {
                    frame,
                    location,
                    condition,
                    temporary,
                },
                Pending::Break,
                sink,
            ),
            Command::ClearAll => self.request(Request::ClearAll, Pending::Clear, sink),
            Command::ClearNumbers(numbers) => {
                self.request(Request::ClearNumbers { numbers }, Pending::Clear, sink)
            }
            Command::ClearLine { file, line } => {
                self.request(Request::ClearLine { file, line }, Pending::Clear, sink)
            }
            Command::Enable { numbers, enable } => self.request(
                Request::Enable { numbers, enable },
                Pending::Enable(enable),
                sink,
            ),
            Command::Condition { number, condition } => {
                let set = condition.is_some();
                self.request(
                    Request::Condition { number, condition },
                    Pending::Condition { set },
                    sink,
                )
            }
            Command::Ignore { number, count } => {
                self.request(Request::Ignore { number, count }, Pending::Ignore, sink)
            }
            Command::Display(expr) => {
                let listing = expr.is_none();
                self.request(
                    Request::Display { frame, expr },
                    Pending::Display { listing },
                    sink,
                )
            }
            Command::Undisplay(expr) => {
                self.request(Request::Undisplay { frame, expr }, Pending::Plain, sink)
            }
            Command::Back(back) => self.back(back, sink),
            Command::Goto(tick) => self.goto_command(tick, sink),
            Command::Restore(number) => self.restore(number, sink),
            Command::Checkpoints => self.list_checkpoints(sink),
            Command::Checkpoint => {
                if !self.session.time_travel() {
                    return sink.line(
                        Kind::Error,
                        "*** time travel is off for this session (--no-time-travel)",
                    );
                }
                self.request(Request::Checkpoint, Pending::Checkpoint, sink)
            }
            Command::Suspend { next, file } => {
                // A relative name is the user's current directory's, not the program's.
                let path = file
                    .map(|f| {
                        let p = std::path::PathBuf::from(f);
                        if p.is_absolute() {
                            p
                        } else {
                            std::env::current_dir().unwrap_or_default().join(p)
                        }
                    })
                    .unwrap_or_default();
                self.request(Request::Suspend { path, next }, Pending::Resume, sink)
            }
            Command::Watch { expr, function } => self.watch_command(expr, function, sink),
            Command::Unwatch(number) => self.unwatch(number, sink),
        }
    }

    fn not_stopped(&self, sink: &mut dyn Sink) {
        let text = match &self.phase {
            Phase::Finished(f) => {
                format!("*** The program has finished (exit code {})", f.exit_code)
            }
            Phase::Ended { .. } => "*** The program is no longer running".to_string(),
            _ => "*** The program is running".to_string(),
        };
        sink.line(Kind::Error, &text);
    }

    fn print_listing(&mut self, file: &str, arg: &ListArg, sink: &mut dyn Sink) {
        let Some(frame) = self.selected_frame() else {
            return;
        };
        let current = frame.line;
        let exception_line = None;
        let (first, last) = match arg {
            ListArg::Range(a, b) => (*a, Some(*b)),
            ListArg::Around(n) => (n.saturating_sub(5).max(1), None),
            ListArg::Current => (current.saturating_sub(5).max(1), None),
            ListArg::Continue => match self.list_last {
                Some(l) => (l + 1, None),
                None => (current.saturating_sub(5).max(1), None),
            },
        };
        let last = last.unwrap_or(first + 10);
        let breaks = self.breaks_in(file);
        let Some(lines) = self.sources.get(file) else {
            return;
        };
        let total = u32::try_from(lines.len()).unwrap_or(u32::MAX);
        let from = usize::try_from(first.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .min(lines.len());
        let to = usize::try_from(last).unwrap_or(usize::MAX).min(lines.len());
        let slice = if from < to { &lines[from..to] } else { &[][..] };
        for line in format::source_lines(slice, first, &breaks, Some(current), exception_line) {
            sink.line(Kind::Info, &line);
        }
        self.list_last = Some(last.min(total));
        if total < last {
            sink.line(Kind::Info, "[EOF]");
        }
    }

    fn show_reply(&mut self, pending: Pending, reply: Reply, sink: &mut dyn Sink) {
        let err = |sink: &mut dyn Sink, e: &str| sink.line(Kind::Error, &format!("*** {e}"));
        match (pending, reply) {
            (Pending::Query(tag), reply) => sink.answer(tag, reply),
            (_, Reply::Variables(_)) => {}
            (Pending::Resume, Reply::Error(e)) => {
                self.phase = Phase::Stopped;
                err(sink, &e);
            }
            (Pending::Exec { source, explicit }, Reply::Error(e)) => {
                err(sink, &exec_error(&source, explicit, &e))
            }
            (_, Reply::Error(e)) => err(sink, &e),
            (Pending::Checkpoint, Reply::Done) => {
                let tick = self.stop.as_ref().map(|s| s.tick).unwrap_or(self.last_tick);
                sink.line(Kind::Info, &format!("Checkpoint taken at tick {tick}"));
            }
            (_, Reply::Done) => {}
            // Shown by `watch_set`.
            (_, Reply::Watching { .. }) => {}
            (_, Reply::Value(v)) => sink.line(Kind::Info, &v),
            (_, Reply::Message(lines)) => lines.iter().for_each(|l| sink.line(Kind::Info, l)),
            (Pending::Exec { source, explicit }, Reply::Output { lines, error }) => {
                lines.iter().for_each(|l| sink.line(Kind::Info, l));
                if let Some(e) = error {
                    err(sink, &exec_error(&source, explicit, &e));
                }
            }
            (_, Reply::Output { lines, error }) => {
                lines.iter().for_each(|l| sink.line(Kind::Info, l));
                if let Some(e) = error {
                    err(sink, &e);
                }
            }
            (_, Reply::Args(args)) => {
                for a in args {
                    let value = a.value.unwrap_or_else(|| "*** undefined ***".into());
                    sink.line(Kind::Info, &format!("{} = {value}", a.name));
                }
            }
            (Pending::List { file, arg }, Reply::Lines { lines, .. }) => {
                self.sources.insert(file.clone(), lines);
                self.print_listing(&file, &arg, sink);
            }
            (_, Reply::Lines { first, lines }) => {
                let Some(frame) = self.selected_frame() else {
                    return;
                };
                let (file, current) = (frame.file.clone(), frame.line);
                let breaks = self.breaks_in(&file);
                for line in format::source_lines(&lines, first, &breaks, Some(current), None) {
                    sink.line(Kind::Info, &line);
                }
            }
            (_, Reply::Breakpoints(list)) => {
                self.breakpoints = list.iter().map(|b| (b.number, b.clone())).collect();
                format::breakpoint_table(&list)
                    .iter()
                    .for_each(|l| sink.line(Kind::Info, l));
            }
            (_, Reply::BreakpointSet(bp)) => {
                sink.line(
                    Kind::Info,
                    &format!("Breakpoint {} at {}:{}", bp.number, bp.file, bp.line),
                );
                self.next_breakpoint = self.next_breakpoint.max(bp.number + 1);
                self.breakpoints.insert(bp.number, bp);
            }
            (_, Reply::Deleted { deleted, errors }) => {
                for bp in deleted {
                    sink.line(Kind::Info, &format!("Deleted {}", format::breakpoint(&bp)));
                    self.breakpoints.remove(&bp.number);
                }
                errors.iter().for_each(|e| err(sink, e));
            }
            (pending, Reply::Toggled { changed, errors }) => {
                for bp in changed {
                    let text = match &pending {
                        Pending::Enable(true) => format!("Enabled {}", format::breakpoint(&bp)),
                        Pending::Enable(false) => format!("Disabled {}", format::breakpoint(&bp)),
                        Pending::Condition { set: true } => {
                            format!("New condition set for breakpoint {}.", bp.number)
                        }
                        Pending::Condition { set: false } => {
                            format!("Breakpoint {} is now unconditional.", bp.number)
                        }
                        Pending::Ignore => format::ignore_message(&bp),
                        _ => format::breakpoint(&bp),
                    };
                    sink.line(Kind::Info, &text);
                    self.breakpoints.insert(bp.number, bp);
                }
                errors.iter().for_each(|e| err(sink, e));
            }
            (Pending::Display { listing: true }, Reply::Displays(items)) => {
                sink.line(Kind::Info, "Currently displaying:");
                for (expr, value) in items {
                    sink.line(Kind::Info, &format!("{expr}: {value}"));
                }
            }
            (_, Reply::Displays(items)) => {
                for (expr, value) in items {
                    sink.line(Kind::Info, &format!("display {expr}: {value}"));
                }
            }
        }
    }

    /// Ctrl-C. The first asks the agent to stop at the program's next line; a second one, while
    /// the program still has not stopped (it is blocked in a system call, say), is typed into its
    /// terminal as ^C, which raises KeyboardInterrupt in the program as in a terminal.
    pub fn interrupt(&mut self) {
        if !self.running() {
            return;
        }
        if self.interrupt_sent {
            let _ = self.session.type_input(b"\x03");
        } else if self.session.interrupt().is_ok() {
            self.interrupt_sent = true;
        }
    }

    /// Asks the agent to end: the program is killed.
    pub fn shutdown(&mut self) {
        if matches!(self.phase, Phase::Stopped) {
            let _ = self.session.send(&Request::Quit);
        }
        self.session.kill();
    }

    /// Resumes with a resume command; used by the batch driver's tests of the model.
    pub fn resume(&mut self, resume: Resume, sink: &mut dyn Sink) {
        self.execute(Command::Resume(resume), sink);
    }
}

/// pdb runs a line that is not a command as Python; when that fails because the first word is
/// not a name either, say plainly that it was not a command.
fn exec_error(source: &str, explicit: bool, error: &str) -> String {
    if explicit {
        return error.to_string();
    }
    let word: String = source
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !word.is_empty() && error == format!("NameError: name '{word}' is not defined") {
        return format!(
            "Unknown command {word:?} (and no variable of that name); type 'help' for the commands"
        );
    }
    if error.starts_with("SyntaxError") {
        return format!(
            "Not a command, and not valid Python: {error} (type 'help' for the commands)"
        );
    }
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::exec_error;

    #[test]
    fn a_typo_is_called_an_unknown_command() {
        assert_eq!(
            exec_error("stpe", false, "NameError: name 'stpe' is not defined"),
            "Unknown command \"stpe\" (and no variable of that name); type 'help' for the commands"
        );
        assert_eq!(
            exec_error("x + y", false, "NameError: name 'y' is not defined"),
            "NameError: name 'y' is not defined"
        );
        assert_eq!(
            exec_error("stpe", true, "NameError: name 'stpe' is not defined"),
            "NameError: name 'stpe' is not defined"
        );
    }
}
