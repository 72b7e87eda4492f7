//! The agent's side of time travel: taking checkpoints (frozen `fork()`ed copies of the whole
//! process), turning a checkpoint into a running copy when the front end asks, and the state a
//! copy keeps while it scans the past for a backward command.
//!
//! A checkpoint is taken inside the trace hook, at a line event: the process forks; the child
//! forks once more and dies, so the checkpoint is re-parented to the front end (a child
//! subreaper) and the program never sees a child of its own; the checkpoint then connects to the
//! front end's socket, says [`Hello::Checkpoint`], and blocks reading it. Asked to
//! [`CheckpointRequest::Spawn`], it forks a copy the same way; the copy takes the terminal,
//! connects with [`Hello::Live`] (or [`Hello::Scanner`]) and returns from the trace hook into
//! the program, which replays its recorded inputs (see `replay.rs`) up to where the original run
//! was, then runs live.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use rustix::process::{Pid, Signal, WaitOptions};

use super::channel::Channel;
use super::replay;
use crate::protocol::{
    self, CheckpointInfo, CheckpointRequest, FrameHistory, Hello, Plan, ScanQuery, ScanResult,
    TimeTravel, WatchChange,
};

/// Descriptors the agent opens for itself live at or above this number, so the program's own
/// descriptors are numbered exactly as in a run without sleepy, and the same in every copy.
pub const AGENT_FD_FLOOR: i32 = 900;

#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("cannot fork a checkpoint: {0}")]
    Fork(std::io::Error),
    #[error("cannot reach the front end's time-travel socket: {0}")]
    Connect(std::io::Error),
}

/// Moves a descriptor the agent owns above [`AGENT_FD_FLOOR`] and marks it as the agent's for
/// the record/replay layer.
pub fn agent_fd(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    let high = rustix::io::fcntl_dupfd_cloexec(&fd, AGENT_FD_FLOOR)?;
    drop(fd);
    let _ = replay::register_agent_fd(std::os::fd::AsRawFd::as_raw_fd(&high));
    Ok(high)
}

fn connect(socket: &std::path::Path) -> Result<UnixStream, TimelineError> {
    let stream = UnixStream::connect(socket).map_err(TimelineError::Connect)?;
    let fd = agent_fd(OwnedFd::from(stream)).map_err(TimelineError::Connect)?;
    Ok(UnixStream::from(fd))
}

/// Ends this process at once: no Python finalisation, no atexit handlers, no flushing of
/// buffers that belong to the process it was copied from.
pub fn vanish() -> ! {
    let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::KILL);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Forks, and forks again in the child, which then vanishes: the grandchild is re-parented to
/// the front end. Returns `None` in the grandchild, and in the original process the pid of the
/// intermediate child, to be reaped (see [`Reaper`]).
fn fork_detached() -> Result<Option<Pid>, TimelineError> {
    match replay::fork_real().map_err(TimelineError::Fork)? {
        Some(child) => Ok(Some(child)),
        None => match replay::fork_real() {
            Ok(Some(_)) | Err(_) => vanish(),
            Ok(None) => Ok(None),
        },
    }
}

/// Intermediate children of [`fork_detached`], reaped without blocking the program.
#[derive(Default)]
pub struct Reaper {
    pids: Vec<Pid>,
}

impl Reaper {
    pub fn add(&mut self, pid: Pid) {
        self.pids.push(pid);
    }

    pub fn reap(&mut self) {
        self.pids.retain(|pid| {
            !matches!(
                rustix::process::waitpid(Some(*pid), WaitOptions::NOHANG),
                Ok(Some(_)) | Err(_)
            )
        });
    }
}

/// What [`checkpoint`] returns in each process.
pub enum Forked {
    /// The process that took the checkpoint goes on.
    Parent,
    /// A copy spawned from the checkpoint: it runs the program from here under `plan`, with
    /// `stream` as its control channel.
    Copy(Box<Plan>, UnixStream),
}

/// Takes a checkpoint of this process (see the module doc). In the checkpoint itself it only
/// returns as a spawned copy; a checkpoint that loses the front end exits.
pub fn checkpoint(
    channel: &mut Channel,
    config: &TimeTravel,
    info: CheckpointInfo,
    reaper: &mut Reaper,
) -> Result<Forked, TimelineError> {
    // The open file descriptions are shared with the process that goes on running: their
    // offsets must be remembered now, before it moves them.
    let offsets = replay::snapshot_offsets();
    reaper.reap();
    if let Some(intermediate) = fork_detached()? {
        reaper.add(intermediate);
        return Ok(Forked::Parent);
    }
    // The checkpoint. Its own session: the terminal's hang-up when the original's session
    // ends must not reach it.
    let _ = rustix::process::setsid();
    channel.close();
    let pause = replay::pause();
    let mut conn = match connect(&config.socket) {
        Ok(conn) => conn,
        Err(_) => vanish(),
    };
    let hello = Hello::Checkpoint(CheckpointInfo {
        pid: rustix::process::getpid().as_raw_nonzero().get() as u32,
        ..info
    });
    if protocol::send(&mut conn, &hello).is_err() {
        vanish();
    }
    loop {
        let plan = match protocol::receive::<_, CheckpointRequest>(&mut conn) {
            Ok(Some(CheckpointRequest::Spawn(plan))) => plan,
            // The front end has gone (or dropped this checkpoint): nothing will ever need it.
            Ok(None) | Err(_) => vanish(),
        };
        match replay::fork_real() {
            Ok(Some(intermediate)) => {
                let _ = rustix::process::waitpid(Some(intermediate), WaitOptions::empty());
                continue;
            }
            Ok(None) => {}
            Err(_) => continue,
        }
        match replay::fork_real() {
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => vanish(),
        }
        // The copy.
        drop(conn);
        become_copy(channel, config, &plan, &offsets);
        let hello = if matches!(plan.goal, protocol::Goal::Scan(_)) {
            Hello::Scanner {
                pid: own_pid(),
                epoch: plan.epoch,
            }
        } else {
            Hello::Live {
                pid: own_pid(),
                epoch: plan.epoch,
            }
        };
        let mut stream = match connect(&config.socket) {
            Ok(stream) => stream,
            Err(_) => vanish(),
        };
        if protocol::send(&mut stream, &hello).is_err() {
            vanish();
        }
        drop(pause);
        return Ok(Forked::Copy(Box::new(plan), stream));
    }
}

fn own_pid() -> u32 {
    rustix::process::getpid().as_raw_nonzero().get() as u32
}

/// Makes a freshly forked copy a proper child of the front end, dying with it, owning the
/// program's terminal when it is to be the program, with the file offsets of the checkpoint.
fn become_copy(channel: &Channel, config: &TimeTravel, plan: &Plan, offsets: &[(i32, i64)]) {
    let front_end = config.front_end as i32;
    // The intermediate process is exiting: wait until the front end has adopted this one, or
    // the death signal below would fire when the intermediate goes.
    let mut waited = 0;
    loop {
        let parent = rustix::process::getppid().map(|p| p.as_raw_nonzero().get());
        match parent {
            Some(p) if p == front_end => break,
            Some(1) | None => vanish(),
            _ if waited > 2000 => vanish(),
            _ => {
                std::thread::sleep(Duration::from_micros(500));
                waited += 1;
            }
        }
    }
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    if rustix::process::getppid().map(|p| p.as_raw_nonzero().get()) != Some(front_end) {
        vanish();
    }
    if !matches!(plan.goal, protocol::Goal::Scan(_))
        && let Some(terminal) = channel.terminal()
    {
        // The process that had the terminal is dead (the front end killed it first), so the
        // terminal is free: this copy's session takes it, for Ctrl-C and job control.
        let _ = rustix::process::setsid();
        let _ = rustix::process::ioctl_tiocsctty(terminal.as_fd());
    }
    replay::restore_offsets(offsets);
}

/// When to take the next checkpoint: after `interval` of the program's running time or after
/// `tick_interval` ticks, whichever comes first; the clock is read every so many ticks so that
/// the hot path only compares the tick.
pub struct Schedule {
    interval_ns: u64,
    tick_interval: u64,
    last_checkpoint_tick: u64,
    /// Running time since the last checkpoint.
    ran_ns: u64,
    /// The clock when the program last resumed or was last checked.
    since: u64,
    ticks_per_check: u64,
    last_check_tick: u64,
    pub next_check: u64,
}

pub fn now_ns() -> u64 {
    // The vDSO clock, not libc's clock_gettime: the agent's own clock reads must never reach
    // the record of the program's inputs.
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

impl Schedule {
    pub fn new(interval_ms: u64, tick_interval: u64) -> Schedule {
        Schedule {
            interval_ns: interval_ms.max(1).saturating_mul(1_000_000),
            tick_interval: tick_interval.max(1),
            last_checkpoint_tick: 0,
            ran_ns: 0,
            since: now_ns(),
            ticks_per_check: 64,
            last_check_tick: 0,
            next_check: 64,
        }
    }

    /// The program resumes after a stop: time spent at the prompt does not count.
    pub fn resumed(&mut self, tick: u64) {
        self.since = now_ns();
        self.last_check_tick = tick;
        self.plan_next(tick);
    }

    fn plan_next(&mut self, tick: u64) {
        self.next_check = tick
            .saturating_add(self.ticks_per_check)
            .min(self.last_checkpoint_tick.saturating_add(self.tick_interval));
    }

    /// At `next_check`: is a checkpoint due? Adapts how often it looks so that it looks about
    /// eight times per interval.
    pub fn due(&mut self, tick: u64) -> bool {
        let now = now_ns();
        let elapsed = now.saturating_sub(self.since);
        self.ran_ns = self.ran_ns.saturating_add(elapsed);
        self.since = now;
        let ticks = tick.saturating_sub(self.last_check_tick).max(1);
        let target = self.interval_ns / 8;
        self.ticks_per_check = if elapsed == 0 {
            self.ticks_per_check.saturating_mul(2)
        } else {
            let scaled = u128::from(ticks) * u128::from(target) / u128::from(elapsed);
            u64::try_from(scaled).unwrap_or(u64::MAX)
        }
        .clamp(1, 1 << 20);
        self.last_check_tick = tick;
        self.plan_next(tick);
        self.ran_ns >= self.interval_ns
            || tick.saturating_sub(self.last_checkpoint_tick) >= self.tick_interval
    }

    /// A checkpoint was just taken (or one already close by makes it unnecessary).
    pub fn taken(&mut self, tick: u64) {
        self.ran_ns = 0;
        self.since = now_ns();
        self.last_checkpoint_tick = tick;
        self.plan_next(tick);
    }

    /// Roughly how many ticks one interval holds, at the pace measured so far.
    pub fn ticks_per_interval(&self) -> u64 {
        self.ticks_per_check.saturating_mul(8)
    }
}

/// A copy running toward a scan's limit: the last line event of every frame level, and the
/// last breakpoint stop and watch change, before the limit.
pub struct Scan {
    pub query: ScanQuery,
    pub start: u64,
    /// How many frames are on the stack (counted at the start, then by call and return events).
    pub depth: usize,
    /// Per depth (index 0 = depth 1): the frame that last ran a line there and when, and
    /// whether a frame started there during the scan.
    levels: Vec<Level>,
    pub last_break: Option<(u64, Vec<u32>)>,
    pub last_change: Option<WatchChange>,
}

#[derive(Clone, Copy)]
struct Level {
    frame: usize,
    last_line: Option<u64>,
    started: bool,
}

impl Scan {
    pub fn new(query: ScanQuery, start: u64, depth: usize) -> Scan {
        Scan {
            query,
            start,
            depth,
            levels: Vec::new(),
            last_break: None,
            last_change: None,
        }
    }

    /// A frame starts (a call, or a generator resumed): whatever ran at its depth before was
    /// another frame.
    pub fn on_call(&mut self, frame: usize) {
        self.depth += 1;
        self.levels.truncate(self.depth - 1);
        self.levels.push(Level {
            frame,
            last_line: None,
            started: true,
        });
    }

    pub fn on_return(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The last line event of `frame` so far, if it is the frame running at the current depth.
    pub fn last_line_of(&self, frame: usize) -> Option<u64> {
        self.levels
            .get(self.depth.saturating_sub(1))
            .filter(|l| l.frame == frame)
            .and_then(|l| l.last_line)
    }

    pub fn on_line(&mut self, frame: usize, tick: u64) {
        let index = self.depth.saturating_sub(1);
        self.levels.truncate(index + 1);
        while self.levels.len() <= index {
            self.levels.push(Level {
                frame: 0,
                last_line: None,
                started: false,
            });
        }
        let level = &mut self.levels[index];
        if level.frame != frame {
            // A frame that was already running when the scan began, seen for the first time.
            *level = Level {
                frame,
                last_line: None,
                started: false,
            };
        }
        level.last_line = Some(tick);
    }

    /// The answer at the limit, for the stack `frames` (frame ids, oldest first) there.
    pub fn result(&self, frames: &[usize], complete: bool) -> ScanResult {
        let frames = frames
            .iter()
            .enumerate()
            .map(|(i, id)| match self.levels.get(i) {
                Some(level) if level.frame == *id => FrameHistory {
                    last_line: level.last_line,
                    started: level.started,
                },
                _ => FrameHistory {
                    last_line: None,
                    started: false,
                },
            })
            .collect();
        ScanResult {
            complete,
            start: self.start,
            frames,
            last_break: self.last_break.clone(),
            last_change: self.last_change.clone(),
        }
    }
}

/// Is a checkpoint at `tick` redundant next to one the front end already has?
pub fn near_known(known: &[u64], tick: u64, spacing: u64) -> bool {
    known.iter().any(|k| k.abs_diff(tick) < spacing.max(1) / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_levels_follow_calls_and_lines() {
        let query = ScanQuery {
            limit: 100,
            frames: true,
            breakpoints: false,
            watches: false,
        };
        // Two frames when the scan starts: 1 (depth 1) and 2 (depth 2).
        let mut scan = Scan::new(query, 10, 2);
        scan.on_line(2, 10);
        scan.on_call(3); // f called from frame 2
        scan.on_line(3, 11);
        scan.on_line(3, 12);
        scan.on_return();
        scan.on_line(2, 13);
        scan.on_call(3); // the same address again: a new frame
        let r = scan.result(&[1, 2, 3], true);
        assert_eq!(r.frames[0].last_line, None);
        assert!(!r.frames[0].started);
        assert_eq!(r.frames[1].last_line, Some(13));
        assert_eq!(r.frames[2].last_line, None);
        assert!(r.frames[2].started);
    }

    #[test]
    fn a_frame_gone_from_its_level_is_not_reported() {
        let query = ScanQuery {
            limit: 100,
            frames: true,
            breakpoints: false,
            watches: false,
        };
        let mut scan = Scan::new(query, 0, 1);
        scan.on_line(1, 1);
        scan.on_call(2);
        scan.on_line(2, 2);
        scan.on_return();
        // At the limit, depth 2 holds another frame that has run no line yet.
        let r = scan.result(&[1, 5], false);
        assert_eq!(r.frames[0].last_line, Some(1));
        assert_eq!(r.frames[1].last_line, None);
        assert!(!r.complete);
    }

    #[test]
    fn the_schedule_checks_about_eight_times_per_interval() {
        let mut s = Schedule::new(1000, u64::MAX);
        s.since = now_ns().saturating_sub(1_000_000); // 1 ms ago
        let due = s.due(1000);
        assert!(!due);
        // 1000 ticks per ms: one eighth of a second is 125,000 ticks.
        assert!(
            (100_000..=150_000).contains(&s.ticks_per_check),
            "{}",
            s.ticks_per_check
        );
    }

    #[test]
    fn a_tick_count_makes_a_checkpoint_due_too() {
        let mut s = Schedule::new(60_000, 500);
        s.taken(1000);
        assert_eq!(s.next_check, 1064);
        let due = s.due(1064);
        assert!(!due);
        assert!(s.next_check <= 1500);
        assert!(s.due(1500));
    }

    #[test]
    fn known_checkpoints_close_by_make_a_new_one_redundant() {
        assert!(near_known(&[100, 500], 120, 100));
        assert!(!near_known(&[100, 500], 200, 100));
    }
}
