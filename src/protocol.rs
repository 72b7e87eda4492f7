//! Messages between the front end (batch driver, `sleepy run`, later the TUI) and the agent.
//!
//! The channel is a Unix socketpair inherited by the agent at spawn (never a network port).
//! Each message is a 4-byte big-endian length followed by that many bytes of JSON. JSON keeps the
//! channel readable in a debugger of the debugger; the messages are small and few (one per
//! command), so its cost does not show.
//!
//! The program's own output never travels here: it goes through the pseudo-terminal. To keep the
//! two streams in order, the agent writes a *sync marker* (see [`sync_marker`]) into the terminal
//! before every message that follows program activity, and the message carries the marker's
//! number; the front end prints the message only once the terminal stream has reached the marker.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Largest message accepted: a runaway repr must not make the front end allocate without bound.
pub const MAX_MESSAGE: usize = 64 << 20;

/// What to run, as `python3` would be told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Target {
    /// `sleepy script.py`: `path` is absolute, `argv0` is the path as the user typed it.
    Script { path: PathBuf, argv0: String },
    /// `sleepy -m package.module`.
    Module { name: String },
}

/// How the front end will drive the program.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum RunMode {
    /// Stop before the first line and wait for commands.
    Debug,
    /// Run to the end under tracing; no stops (`breakpoint()` is reported and ignored).
    Run,
}

/// The first message the front end sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Launch {
    pub target: Target,
    /// The program's arguments after the script or module, as raw bytes (argv may not be UTF-8).
    pub args: Vec<Vec<u8>>,
    pub mode: RunMode,
    /// Extra modules to trace, by module name or file path glob (`--trace`).
    pub trace: Vec<String>,
    /// Write sync markers into the terminal (only when the front end reads the terminal).
    pub sync_markers: bool,
    /// Rewrite the user's code so every line can be jumped to (`--no-rewrite` turns it off).
    pub rewrite: bool,
    /// Extra modules to rewrite, by module name or file path glob (`--rewrite`).
    pub rewrite_globs: Vec<String>,
    /// `sleepy run --no-trace`: no trace hook at all (measures rewritten code alone).
    pub no_trace: bool,
    /// Checkpoints and replay: off in `sleepy run` and with `--no-time-travel`.
    pub time_travel: Option<TimeTravel>,
    /// When to suspend the program to a file by itself (quota, periodic checkpoint file,
    /// SIGTERM, crash dump).
    #[serde(default)]
    pub suspend: Option<SuspendPlan>,
    /// Resume the program saved in this snapshot file instead of starting it.
    #[serde(default)]
    pub resume: Option<PathBuf>,
    /// The key snapshots are signed and checked with (`--key FILE`; else the user's own).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// The program's terminal output ends up as plain text (a batch transcript on a pipe or a
    /// file): CPython 3.13+ must not colour its tracebacks, as it would not for python3 writing
    /// to a pipe, even though the program writes to a pseudo-terminal.
    #[serde(default)]
    pub plain_output: bool,
    /// `--settrace`: line events only from the trace function, never from `sys.monitoring`.
    #[serde(default)]
    pub settrace_only: bool,
}

/// `sleepy run --quota / --checkpoint / --checkpoint-every / --dump-on-crash`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SuspendPlan {
    /// Where the snapshot goes (`<script stem>.sleepy` unless `--checkpoint FILE`).
    pub path: PathBuf,
    /// Suspend and exit once the program has run this long (this round).
    pub quota_ms: Option<u64>,
    /// ...or once it has run this many more ticks (a quota that falls at the same place on
    /// every run).
    #[serde(default)]
    pub quota_ticks: Option<u64>,
    /// Write the snapshot every so often and go on.
    pub every_ms: Option<u64>,
    /// SIGTERM suspends (at the next safe point) and exits.
    pub on_sigterm: bool,
    /// An uncaught exception leaves a post-mortem file (stack and locals at the raising line).
    pub dump_on_crash: bool,
}

/// How the agent takes checkpoints and where they report (see `docs/time-travel.md`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimeTravel {
    /// The front end's listening socket: every checkpoint and every process forked from one
    /// connects there and introduces itself with a [`Hello`].
    pub socket: PathBuf,
    /// The front end's pid: processes forked from checkpoints are re-parented to it (it is a
    /// child subreaper) and die with it.
    pub front_end: u32,
    /// A checkpoint after this much running time (the program's, not the time it sat at a
    /// prompt) since the last one...
    pub interval_ms: u64,
    /// ...or after this many ticks, whichever comes first.
    pub interval_ticks: u64,
}

/// The first message on a connection to the front end's time-travel socket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Hello {
    /// A checkpoint, frozen until asked to [`CheckpointRequest::Spawn`] a copy of itself.
    Checkpoint(CheckpointInfo),
    /// A copy spawned from a checkpoint for [`Goal::Tick`]: from now on it is the program, and
    /// this connection its control channel.
    Live { pid: u32, epoch: u64 },
    /// A copy spawned for [`Goal::Scan`]: it sends one [`ScanResult`] and exits.
    Scanner { pid: u32, epoch: u64 },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointInfo {
    pub pid: u32,
    pub tick: u64,
    /// The epoch of the process that took it (see [`Plan::epoch`]).
    pub epoch: u64,
    pub file: String,
    pub line: u32,
    pub function: String,
}

/// What the front end tells a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CheckpointRequest {
    /// Fork a copy of the program as it was at the checkpoint and run it toward `plan.goal`.
    Spawn(Plan),
}

/// How a copy spawned from a checkpoint runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Every process that runs the program gets a new epoch; its checkpoints carry it, so the
    /// front end can tell those of a timeline the user has since changed.
    pub epoch: u64,
    pub goal: Goal,
    /// Requests that rebuild the breakpoints, displays and watches the user has now (the
    /// checkpoint's own are those of its time).
    pub setup: Vec<Request>,
    /// The last sync marker the front end has seen; the copy numbers its markers after it.
    pub sync_base: u64,
    /// Ticks of the checkpoints the front end has: a copy takes none close to one of them.
    pub known_checkpoints: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Goal {
    /// Replay to this tick's line event and stop there, as the program.
    Tick(u64),
    /// Replay up to (not including) the line event of tick `limit`, collecting what the query
    /// asks for; report it and exit.
    Scan(ScanQuery),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScanQuery {
    pub limit: u64,
    /// Report, for each frame on the stack at `limit`, its last line event before it.
    pub frames: bool,
    /// Report the last line event before `limit` where a breakpoint stops.
    pub breakpoints: bool,
    /// Report the last change of any of the watches before `limit`.
    pub watches: bool,
}

/// A frame of the stack at a scan's limit, oldest first: the last tick one of its own lines
/// ran before the limit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameHistory {
    pub last_line: Option<u64>,
    /// The frame started during the scan: it has no lines before the scan's start.
    pub started: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScanResult {
    /// The scan reached its limit (it can fall short if the program does something the record
    /// does not cover, and ends).
    pub complete: bool,
    /// The first tick the scan saw (its checkpoint's).
    pub start: u64,
    pub frames: Vec<FrameHistory>,
    /// The last breakpoint stop before the limit: its tick and breakpoint numbers.
    pub last_break: Option<(u64, Vec<u32>)>,
    /// The last watch change before the limit.
    pub last_change: Option<WatchChange>,
}

/// A watch whose value changed: `tick` is the line event *before* the change (the line that
/// made it is about to run), as a backward search reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WatchChange {
    pub number: u32,
    pub expr: String,
    pub tick: u64,
    pub old: String,
    pub new: String,
}

/// Where a watch expression is evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum WatchScope {
    /// In one frame, identified by its depth (frames below it, counting every Python frame),
    /// while that frame lives.
    Frame { depth: usize, function: String },
    /// In every frame running a function of this name (or qualified name).
    Function(String),
}

/// Where a frame stands, as shown by `where` and at each stop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameInfo {
    pub file: String,
    pub line: u32,
    /// `co_name`, as pdb prints it.
    pub function: String,
    pub qualname: String,
    /// The source line, stripped; empty when the source is not available.
    pub source: String,
    /// Is this the user's code (traced), or a library's?
    pub user: bool,
    /// `repr` of the value being returned, when this frame stopped at its return.
    pub return_value: Option<String>,
}

/// Why the program stopped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum StopReason {
    /// Before the first line of the program.
    Start,
    /// A step, next, until or return completed on a line.
    Step,
    /// A user function was entered while stepping (pdb's `--Call--`).
    Call,
    /// A frame is returning (pdb's `--Return--`); the value is in the frame's `return_value`.
    Return,
    /// An exception was raised in the frame being stepped (pdb prints it, then stops).
    Exception { text: String },
    /// One or more breakpoints were hit; temporary ones were deleted.
    Breakpoint {
        numbers: Vec<u32>,
        deleted: Vec<BreakpointInfo>,
        /// A condition that raised is reported and treated as true, like pdb does.
        condition_error: Option<String>,
    },
    /// `breakpoint()` was called by the program.
    BreakpointCall,
    /// The program raised an exception nothing caught; its traceback has been printed.
    PostMortem { exception: String },
    /// The user interrupted the running program (Ctrl-C).
    Interrupted,
    /// The program was rebuilt from a snapshot file and stands where it was suspended.
    Resumed { file: String },
    /// `suspend next` found its safe point and wrote the file.
    Suspended { file: String },
    /// A `jump` landed; the notes say what it did on the way (entered a loop, ...).
    Jump { notes: Vec<String> },
    /// A `jump` had to stop short (a loop with no more items, the function returned).
    JumpFailed { message: String, notes: Vec<String> },
    /// A watched expression changed value on the line that just ran.
    Watch {
        number: u32,
        expr: String,
        old: String,
        new: String,
    },
    /// Arrived at a point in time by `goto`, `restore` or a backward command (the front end
    /// says why it came here).
    Arrived,
}

/// The program is stopped and waits for commands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stop {
    pub reason: StopReason,
    pub tick: u64,
    /// Stopped at a line event (a time-travel position is exactly its tick); other stops (a
    /// call, a return, an exception, post-mortem) happen after the line event of `tick`.
    pub at_line: bool,
    /// How many Python frames are on the stack (all of them, the library's and sleepy's own
    /// too): the depth of the stopped frame, as [`WatchScope::Frame`] and scans count it.
    pub depth: usize,
    /// Oldest frame first, as `where` prints them; the stop's own frame is the last.
    pub stack: Vec<FrameInfo>,
    /// `display` expressions whose value changed in the stopped frame.
    pub displays: Vec<DisplayChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DisplayChange {
    pub expr: String,
    pub value: String,
    pub old: String,
}

/// How the program ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finish {
    pub exit_code: i32,
    pub tick: u64,
    /// Set when the program ended by an uncaught exception.
    pub exception: Option<String>,
    /// The process is about to kill itself with this signal, as python3 does for an uncaught
    /// KeyboardInterrupt (SIGINT), so the parent sees the same status.
    pub signal: Option<i32>,
    /// How long the program was paused by each checkpoint this process took, in nanoseconds
    /// (`sleepy run --time-travel --stats` reports them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoint_pauses_ns: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BreakpointInfo {
    pub number: u32,
    pub file: String,
    pub line: u32,
    pub temporary: bool,
    pub enabled: bool,
    pub condition: Option<String>,
    pub ignore: u32,
    pub hits: u32,
    /// Set for `break FUNC`: stops at the first line the function executes.
    pub function: Option<String>,
}

/// The forward execution commands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Resume {
    Step,
    Next,
    Return,
    Continue,
    /// `until [LINE]`: run until a line greater than the current one (or >= LINE) in this frame,
    /// or until it returns.
    Until(Option<u32>),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum EvalStyle {
    /// `p`: repr.
    Repr,
    /// `pp`: pprint.pformat.
    Pretty,
    /// `whatis`: pdb's description of the type.
    WhatIs,
}

/// Part of a listing of variables, or of a container's items or an object's attributes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariablesPage {
    /// How many children the node has in all.
    pub total: u32,
    pub entries: Vec<VariableEntry>,
    /// Why the node cannot be listed (it is gone, its listing raised).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariableEntry {
    /// The variable's name, or `[0]`, `['key']`, `.attr` for a child.
    pub name: String,
    pub type_name: String,
    /// A bounded repr: at most a few hundred characters, control characters escaped, with `…`
    /// when cut; a repr that raised or took too long says so instead.
    pub value: String,
    /// How many children it has when it can be expanded (items, attributes).
    pub children: Option<u32>,
}

/// A request from the front end. Frame numbers index [`Stop::stack`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    Launch(Box<Launch>),
    /// Run forward; `frame` is the selected frame (pdb's `next` after `up` steps over the
    /// caller's lines).
    Resume {
        resume: Resume,
        frame: usize,
    },
    Eval {
        frame: usize,
        expr: String,
        style: EvalStyle,
    },
    /// Run a statement in a frame; assignments write the frame's locals.
    Exec {
        frame: usize,
        source: String,
    },
    Args {
        frame: usize,
    },
    /// A page of the variables tree of a frame (the TUI's Variables pane): the children of the
    /// node at `path` (indices into the listings above it; empty: the frame's locals), from
    /// `start`, at most `count` of them.
    Variables {
        frame: usize,
        path: Vec<u32>,
        start: u32,
        count: u32,
    },
    /// `suspend [next] [FILE]`: write the program's state to a file now (or, with `next`, at
    /// the next safe point).
    Suspend {
        path: PathBuf,
        next: bool,
    },
    Retval {
        frame: usize,
    },
    /// The lines of a source file, as the program's linecache sees them.
    Source {
        file: String,
        frame: usize,
    },
    /// The source of the function running in a frame (`ll`).
    FunctionSource {
        frame: usize,
    },
    /// `break`/`tbreak`: `location` is `[FILE:]LINE` or `FUNC` as typed.
    Break {
        frame: usize,
        location: String,
        condition: Option<String>,
        temporary: bool,
    },
    /// `clear` without arguments: all of them.
    ClearAll,
    ClearNumbers {
        numbers: Vec<String>,
    },
    ClearLine {
        file: String,
        line: String,
    },
    Enable {
        numbers: Vec<String>,
        enable: bool,
    },
    Condition {
        number: String,
        condition: Option<String>,
    },
    Ignore {
        number: String,
        count: Option<String>,
    },
    ListBreakpoints,
    Display {
        frame: usize,
        expr: Option<String>,
    },
    Undisplay {
        frame: usize,
        expr: Option<String>,
    },
    /// `jump LINE [OPTION]` in the selected frame: answered by `Stopped` (where it landed) or
    /// a `Reply::Error` when refused.
    Jump {
        frame: usize,
        line: u32,
        option: Option<String>,
    },
    /// Run forward, stopping at nothing, to the line event of this tick (answered by
    /// `Stopped`, or `Finished` if the program ends first).
    RunTo {
        tick: u64,
    },
    /// Take a checkpoint now (answered by `Reply::Done`; the checkpoint introduces itself on
    /// the time-travel socket).
    Checkpoint,
    /// `watch EXPR [in FUNC]`: stop where its value changes.
    Watch {
        number: u32,
        frame: usize,
        expr: String,
        function: Option<String>,
    },
    /// The breakpoints as the front end knows them, in a process spawned from a checkpoint.
    RestoreBreakpoints {
        breakpoints: Vec<BreakpointInfo>,
        /// The number the next new breakpoint gets (pdb never reuses one).
        next: u32,
    },
    /// The same watch again in a process spawned from a checkpoint (no evaluation now).
    RestoreWatch {
        number: u32,
        expr: String,
        scope: WatchScope,
    },
    /// Removes a watch, or all of them.
    Unwatch {
        number: Option<u32>,
    },
    Quit,
}

/// One line of `args` output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArgValue {
    pub name: String,
    /// `None` when the argument is unbound (pdb prints `*** undefined ***`).
    pub value: Option<String>,
}

/// The agent's answer to a request other than `Resume`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Reply {
    Done,
    /// Lines of text for the user.
    Message(Vec<String>),
    /// pdb prints errors as `*** message`.
    Error(String),
    Value(String),
    /// What a statement showed, and the error that ended it.
    Output {
        lines: Vec<String>,
        error: Option<String>,
    },
    Args(Vec<ArgValue>),
    Lines {
        first: u32,
        lines: Vec<String>,
    },
    Breakpoints(Vec<BreakpointInfo>),
    BreakpointSet(BreakpointInfo),
    /// Breakpoints removed, and errors met along the way (pdb goes on after a bad number).
    Deleted {
        deleted: Vec<BreakpointInfo>,
        errors: Vec<String>,
    },
    Toggled {
        changed: Vec<BreakpointInfo>,
        errors: Vec<String>,
    },
    Displays(Vec<(String, String)>),
    Variables(VariablesPage),
    /// A watch was set: where it is evaluated, and its value now.
    Watching {
        number: u32,
        expr: String,
        scope: WatchScope,
        value: String,
    },
}

/// A message from the agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AgentMessage {
    /// The agent could not start the program (a syntax error, no such module, wrong Python).
    LaunchFailed {
        message: String,
        exit_code: i32,
    },
    Stopped {
        stop: Stop,
        sync: u64,
    },
    Reply {
        reply: Reply,
        sync: u64,
    },
    Finished {
        finish: Finish,
        sync: u64,
    },
    /// Something the user should know that is not an answer (e.g. `breakpoint()` in `sleepy run`).
    Notice {
        text: String,
        /// The sync marker it follows (0: none), so it is shown after the output before it.
        #[serde(default)]
        sync: u64,
    },
    /// The user changed the program's state at a stop (`jump`, `!statement`): the recorded
    /// future after `tick` is gone, and so are checkpoints after it.
    Diverged {
        tick: u64,
        /// The process's new epoch: its checkpoints from now on are of the new timeline.
        epoch: u64,
    },
    /// Time travel stopped working for this run (the program started a thread or a process,
    /// the record is full): checkpoints are useless from now on.
    TimeTravelOff {
        reason: String,
        /// Shown after the program's output up to this sync marker (the output other threads
        /// wrote before sleepy noticed them comes first).
        #[serde(default)]
        sync: u64,
    },
    /// A checkpoint of this stop was just forked: its process introduces itself on the travel
    /// socket. The front end waits for it before it shows the stop, so that a backward command
    /// typed at once finds it.
    CheckpointTaken {
        tick: u64,
        epoch: u64,
    },
    /// A scanner's answer (see [`Goal::Scan`]).
    Scanned(ScanResult),
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("the channel to the other process failed: {0}")]
    Io(#[from] io::Error),
    #[error("a message on the channel could not be decoded: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("a message on the channel claims {0} bytes, more than the {MAX_MESSAGE} allowed")]
    TooLarge(usize),
}

/// Writes one framed message.
pub fn send<W: Write, T: Serialize>(w: &mut W, msg: &T) -> Result<(), ChannelError> {
    let body = serde_json::to_vec(msg)?;
    let len = u32::try_from(body.len()).map_err(|_| ChannelError::TooLarge(body.len()))?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    w.write_all(&frame)?;
    w.flush()?;
    Ok(())
}

/// Reads one framed message; `Ok(None)` at a clean end of stream.
pub fn receive<R: Read, T: for<'de> Deserialize<'de>>(
    r: &mut R,
) -> Result<Option<T>, ChannelError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_MESSAGE {
        return Err(ChannelError::TooLarge(len));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some(serde_json::from_slice(&body)?))
}

/// The bytes the agent writes into the program's terminal to mark a point in its output.
///
/// An APC string (`ESC _ ... ESC \`): terminals ignore it, and programs practically never write
/// one, so the front end can strip it without touching real output.
pub fn sync_marker(n: u64) -> Vec<u8> {
    format!("\x1b_sleepy-sync:{n}\x1b\\").into_bytes()
}

/// The prefix every sync marker starts with.
pub const SYNC_PREFIX: &[u8] = b"\x1b_sleepy-sync:";

/// The signal the front end sends the agent to stop the running program at its next line
/// (Ctrl-C). A signal, not a message: the agent has no thread reading the channel while the
/// program runs (it must stay single-threaded to fork checkpoints), and a Python-level handler
/// for it runs on the main thread between bytecodes, or interrupts a blocking system call.
/// SIGURG because its default action is to be ignored (a stray one never kills anything) and
/// Python programs do not use it (it only reports out-of-band data on sockets that ask for it).
pub const INTERRUPT_SIGNAL: rustix::process::Signal = rustix::process::Signal::URG;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_a_byte_stream() {
        let mut buf = Vec::new();
        send(
            &mut buf,
            &Request::Resume {
                resume: Resume::Until(Some(12)),
                frame: 3,
            },
        )
        .unwrap();
        send(&mut buf, &Request::Quit).unwrap();
        let mut r = buf.as_slice();
        let a: Request = receive(&mut r).unwrap().unwrap();
        assert!(matches!(
            a,
            Request::Resume {
                resume: Resume::Until(Some(12)),
                frame: 3
            }
        ));
        let b: Request = receive(&mut r).unwrap().unwrap();
        assert!(matches!(b, Request::Quit));
        assert!(receive::<_, Request>(&mut r).unwrap().is_none());
    }

    #[test]
    fn oversized_frames_are_refused_before_allocating() {
        let mut buf = (u32::MAX).to_be_bytes().to_vec();
        buf.extend_from_slice(b"{}");
        let err = receive::<_, Request>(&mut buf.as_slice()).unwrap_err();
        assert!(matches!(err, ChannelError::TooLarge(_)));
    }

    #[test]
    fn sync_markers_start_with_the_prefix() {
        assert!(sync_marker(42).starts_with(SYNC_PREFIX));
        assert!(sync_marker(42).ends_with(b"\x1b\\"));
    }
}
