//! The front end's side of a debugging session: starting the agent, its control channel, and
//! the program's terminal.
//!
//! The agent is this same binary run as `sleepy __agent`, with the control socket as its stdin.
//! Right after the spawn the session passes it, over that socket, the program's real stdin and
//! the write end of a crash pipe (SCM_RIGHTS), then the [`Launch`] message. Everything the agent
//! says, and everything the program writes to its terminal, arrives as [`SessionEvent`]s on one
//! queue, in the order the threads read them.

pub mod output;
pub mod travel;

use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::{self, OptionalActions, Winsize};

use self::output::{MarkerFilter, Piece};
use self::travel::{CheckpointProcess, TravelSocket};
use crate::protocol::{
    self, AgentMessage, ChannelError, CheckpointInfo, Launch, Request, ScanResult,
};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot set up the program's terminal: {0}")]
    Terminal(std::io::Error),
    #[error("cannot start the agent process: {0}")]
    Spawn(std::io::Error),
    #[error("cannot talk to the agent: {0}")]
    Channel(#[from] ChannelError),
    #[error("cannot set up time travel: {0}")]
    TimeTravel(std::io::Error),
}

/// Where the program's standard streams go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramIo {
    /// A pseudo-terminal owned by the front end. `raw_output` turns off output processing so the
    /// bytes the program writes arrive unchanged (no `\n` -> `\r\n`), for transcripts.
    Terminal {
        rows: u16,
        cols: u16,
        raw_output: bool,
    },
    /// The front end's own stdin, stdout and stderr (headless `sleepy run`).
    Inherit,
}

#[derive(Debug)]
pub enum SessionEvent {
    /// Bytes the program wrote to its terminal.
    Output(Vec<u8>),
    /// The agent's sync marker `n` went by in the terminal stream.
    Sync(u64),
    Agent(AgentMessage),
    /// The control channel closed (the agent exited or died).
    AgentGone(Option<String>),
    /// The terminal has no writer left.
    OutputClosed,
    /// A checkpoint introduced itself (the session keeps the process; see [`Session::spawn_from`]).
    Checkpoint(CheckpointInfo),
    /// A copy spawned from a checkpoint is the program now; its messages arrive as `Agent`.
    NewLive {
        pid: u32,
        epoch: u64,
    },
    /// A scanner's answer; `None` if it ended without one.
    Scanned {
        pid: u32,
        result: Option<ScanResult>,
    },
}

/// What the session's threads send; [`Session::next_event`] turns it into a [`SessionEvent`].
pub enum Incoming {
    Event(SessionEvent),
    /// A message or the end of the control channel of the agent with this generation.
    Agent(u64, AgentMessage),
    AgentGone(u64, Option<String>),
    Checkpoint(CheckpointInfo, UnixStream),
    Live {
        conn: UnixStream,
        pid: u32,
        epoch: u64,
    },
    Scanned(u32, Option<ScanResult>),
}

/// The process that runs the program now.
enum Live {
    /// The agent the session started.
    Spawned(Child),
    /// A copy spawned from a checkpoint (re-parented to this process).
    Adopted(u32),
}

pub struct Session {
    live: Live,
    control: UnixStream,
    /// Messages of older agents (killed by a time-travel move) are dropped.
    generation: u64,
    tx: Sender<Incoming>,
    events: Receiver<Incoming>,
    terminal: Option<File>,
    terminal_name: Option<PathBuf>,
    crash: Option<File>,
    status: Option<ExitStatus>,
    socket: Option<TravelSocket>,
    checkpoints: std::collections::HashMap<u32, CheckpointProcess>,
}

fn open_terminal(
    rows: u16,
    cols: u16,
    raw_output: bool,
) -> std::io::Result<(OwnedFd, OwnedFd, PathBuf)> {
    let master =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let name = rustix::pty::ptsname(&master, Vec::new())?;
    let path = PathBuf::from(std::ffi::OsStr::new(
        std::str::from_utf8(name.to_bytes()).unwrap_or("/dev/pts/?"),
    ));
    let slave = rustix::fs::open(
        name.as_c_str(),
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    let mut attrs = termios::tcgetattr(&slave)?;
    if raw_output {
        attrs.output_modes.remove(termios::OutputModes::OPOST);
    }
    termios::tcsetattr(&slave, OptionalActions::Now, &attrs)?;
    termios::tcsetwinsize(
        &slave,
        Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )?;
    Ok((master, slave, path))
}

impl Session {
    /// Starts the agent (this same executable) and launches the program.
    pub fn start(launch: Launch, io: ProgramIo) -> Result<Session, SessionError> {
        let exe = std::env::current_exe().map_err(SessionError::Spawn)?;
        Session::start_with_agent(&exe, launch, io)
    }

    /// Starts the agent from the given sleepy executable (tests drive the library this way).
    pub fn start_with_agent(
        exe: &std::path::Path,
        mut launch: Launch,
        io: ProgramIo,
    ) -> Result<Session, SessionError> {
        let (tx, rx) = mpsc::channel();
        let socket = match launch.time_travel.as_mut() {
            Some(tt) => {
                let socket = TravelSocket::open(tx.clone()).map_err(SessionError::TimeTravel)?;
                tt.socket = socket.path.clone();
                tt.front_end = std::process::id();
                Some(socket)
            }
            None => None,
        };
        let (control, agent_end) = UnixStream::pair().map_err(SessionError::Spawn)?;
        let (crash_read, crash_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| SessionError::Spawn(e.into()))?;
        let mut cmd = Command::new(exe);
        cmd.arg("__agent")
            .stdin(Stdio::from(OwnedFd::from(agent_end)));

        let (program_stdin, master, name) = match io {
            ProgramIo::Terminal {
                rows,
                cols,
                raw_output,
            } => {
                let (master, slave, name) =
                    open_terminal(rows, cols, raw_output).map_err(SessionError::Terminal)?;
                let dup = |fd: &OwnedFd| fd.try_clone().map_err(SessionError::Terminal);
                cmd.stdout(Stdio::from(dup(&slave)?))
                    .stderr(Stdio::from(dup(&slave)?));
                (slave, Some(master), Some(name))
            }
            ProgramIo::Inherit => {
                let stdin = rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdin(), 3)
                    .map_err(|e| SessionError::Spawn(e.into()))?;
                (stdin, None, None)
            }
        };
        let child = cmd.spawn().map_err(SessionError::Spawn)?;

        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut ancillary = SendAncillaryBuffer::new(&mut space);
        let fds = [program_stdin.as_fd(), crash_write.as_fd()];
        ancillary.push(SendAncillaryMessage::ScmRights(&fds));
        rustix::net::sendmsg(
            &control,
            &[IoSlice::new(b"F")],
            &mut ancillary,
            SendFlags::empty(),
        )
        .map_err(|e| SessionError::Channel(ChannelError::Io(e.into())))?;
        drop(program_stdin);
        drop(crash_write);

        let mut reader = control.try_clone().map_err(SessionError::Spawn)?;
        let agent_tx = tx.clone();
        std::thread::spawn(move || read_agent(&mut reader, 0, &agent_tx));
        let terminal = match master {
            Some(master) => {
                let writer = File::from(master.try_clone().map_err(SessionError::Terminal)?);
                let output_tx = tx.clone();
                std::thread::spawn(move || read_terminal(File::from(master), &output_tx));
                Some(writer)
            }
            None => None,
        };
        let mut session = Session {
            live: Live::Spawned(child),
            control,
            generation: 0,
            tx,
            events: rx,
            terminal,
            terminal_name: name,
            crash: Some(File::from(crash_read)),
            status: None,
            socket,
            checkpoints: std::collections::HashMap::new(),
        };
        session.send(&Request::Launch(Box::new(launch)))?;
        Ok(session)
    }

    /// The pid of the process that runs the program now.
    pub fn pid(&self) -> u32 {
        match &self.live {
            Live::Spawned(child) => child.id(),
            Live::Adopted(pid) => *pid,
        }
    }

    pub fn send(&mut self, request: &Request) -> Result<(), SessionError> {
        protocol::send(&mut self.control, request)?;
        Ok(())
    }

    /// The next event, or `None` after `timeout` with nothing to report.
    pub fn next_event(&mut self, timeout: Duration) -> Option<SessionEvent> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let incoming = match self.events.recv_timeout(left) {
                Ok(incoming) => incoming,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(left);
                    return None;
                }
            };
            match incoming {
                Incoming::Event(event) => return Some(event),
                Incoming::Agent(generation, msg) if generation == self.generation => {
                    return Some(SessionEvent::Agent(msg));
                }
                Incoming::AgentGone(generation, error) if generation == self.generation => {
                    return Some(SessionEvent::AgentGone(error));
                }
                // An agent killed by a time-travel move: whatever it still had to say is moot.
                Incoming::Agent(..) | Incoming::AgentGone(..) => {}
                Incoming::Checkpoint(info, conn) => {
                    self.checkpoints
                        .insert(info.pid, CheckpointProcess::new(info.clone(), conn));
                    return Some(SessionEvent::Checkpoint(info));
                }
                Incoming::Live { conn, pid, epoch } => {
                    if self.adopt(conn, pid).is_ok() {
                        return Some(SessionEvent::NewLive { pid, epoch });
                    }
                    travel::kill_and_reap(pid);
                }
                Incoming::Scanned(pid, result) => {
                    // It vanishes after answering; this reaps it.
                    travel::kill_and_reap(pid);
                    return Some(SessionEvent::Scanned { pid, result });
                }
            }
        }
    }

    /// A copy spawned from a checkpoint becomes the program: its connection is the control
    /// channel from now on.
    fn adopt(&mut self, conn: UnixStream, pid: u32) -> std::io::Result<()> {
        let mut reader = conn.try_clone()?;
        self.generation += 1;
        let generation = self.generation;
        let tx = self.tx.clone();
        std::thread::spawn(move || read_agent(&mut reader, generation, &tx));
        self.control = conn;
        self.live = Live::Adopted(pid);
        self.status = None;
        Ok(())
    }

    /// Does this session do time travel (it has the socket)?
    pub fn time_travel(&self) -> bool {
        self.socket.is_some()
    }

    /// Asks checkpoint `pid` for a copy of the program under `plan` (which answers with
    /// `NewLive` or `Scanned`).
    pub fn spawn_from(
        &mut self,
        pid: u32,
        plan: crate::protocol::Plan,
    ) -> Result<(), SessionError> {
        let checkpoint = self
            .checkpoints
            .get_mut(&pid)
            .ok_or_else(|| SessionError::TimeTravel(std::io::Error::other("no such checkpoint")))?;
        checkpoint.spawn(plan)?;
        Ok(())
    }

    /// Kills a checkpoint the front end no longer wants.
    pub fn drop_checkpoint(&mut self, pid: u32) {
        if let Some(c) = self.checkpoints.remove(&pid) {
            c.kill();
        }
    }

    /// The memory only this checkpoint holds, in bytes.
    pub fn checkpoint_memory(&self, pid: u32) -> Option<u64> {
        self.checkpoints.get(&pid).and_then(|c| c.private_memory())
    }

    /// Kills the process that runs the program (before a copy from a checkpoint replaces it).
    pub fn kill_live(&mut self) {
        self.kill();
        // Whatever its channel still delivers (its end, above all) is not news.
        self.generation += 1;
    }

    /// Asks the agent to stop the program at its next line (see [`protocol::INTERRUPT_SIGNAL`]).
    pub fn interrupt(&self) -> std::io::Result<()> {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32)
            .ok_or_else(|| std::io::Error::other("no agent process"))?;
        rustix::process::kill_process(pid, protocol::INTERRUPT_SIGNAL)?;
        Ok(())
    }

    /// Writes to the program's terminal, as if typed (only with [`ProgramIo::Terminal`]).
    pub fn type_input(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self.terminal.as_mut() {
            Some(t) => t.write_all(bytes),
            None => Ok(()),
        }
    }

    /// Sends end-of-file to the program's terminal input (the VEOF character at a line start).
    pub fn type_eof(&mut self) -> std::io::Result<()> {
        self.type_input(b"\x04")
    }

    /// Is the program blocked reading its terminal? Read from /proc: the main thread is in a
    /// `read` system call on a descriptor that is the program's terminal.
    pub fn waiting_for_input(&self) -> bool {
        let Some(name) = &self.terminal_name else {
            return false;
        };
        blocked_reading(self.pid(), name).unwrap_or(false)
    }

    /// Waits for the agent process to end.
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = match &mut self.live {
            Live::Spawned(child) => child.wait()?,
            Live::Adopted(pid) => loop {
                if let Some(status) = travel::alive(*pid) {
                    break status;
                }
                std::thread::sleep(Duration::from_millis(5));
            },
        };
        self.status = Some(status);
        Ok(status)
    }

    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = match &mut self.live {
                Live::Spawned(child) => child.try_wait().ok().flatten(),
                Live::Adopted(pid) => travel::alive(*pid),
            };
        }
        self.status
    }

    /// Kills the agent (and with it the program).
    pub fn kill(&mut self) {
        if self.try_wait().is_none() {
            match &mut self.live {
                Live::Spawned(child) => {
                    let _ = child.kill();
                }
                Live::Adopted(pid) => {
                    let pid = *pid;
                    travel::kill_and_reap(pid);
                    use std::os::unix::process::ExitStatusExt;
                    self.status = Some(ExitStatus::from_raw(9));
                    return;
                }
            }
            let _ = self.wait();
        }
    }

    /// Ends every process of the session: the program and the checkpoints. (A scanner ends
    /// by itself when it has answered, and dies with the front end.)
    pub fn kill_all(&mut self) {
        self.kill();
        for (_, c) in self.checkpoints.drain() {
            c.kill();
        }
    }

    /// What the program's Python stack was when the process crashed (faulthandler's report),
    /// without sleepy's own frames.
    pub fn crash_report(&mut self) -> String {
        let mut text = String::new();
        if let Some(crash) = self.crash.as_mut() {
            // What the dead agent wrote is in the pipe already; checkpoints hold the pipe open
            // too, so read what is there without waiting for its end.
            let _ = rustix::fs::fcntl_setfl(&*crash, rustix::fs::OFlags::NONBLOCK);
            let mut bytes = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = crash.read(&mut buf) {
                if n == 0 {
                    break;
                }
                bytes.extend_from_slice(&buf[..n]);
            }
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text.lines()
            .filter(|l| !l.trim_start().starts_with("File \"<sleepy"))
            .map(|l| format!("{l}\n"))
            .collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn read_agent(reader: &mut UnixStream, generation: u64, tx: &Sender<Incoming>) {
    loop {
        match protocol::receive::<_, AgentMessage>(reader) {
            Ok(Some(msg)) => {
                if tx.send(Incoming::Agent(generation, msg)).is_err() {
                    return;
                }
            }
            Ok(None) => {
                let _ = tx.send(Incoming::AgentGone(generation, None));
                return;
            }
            Err(e) => {
                let _ = tx.send(Incoming::AgentGone(generation, Some(e.to_string())));
                return;
            }
        }
    }
}

fn read_terminal(mut master: File, tx: &Sender<Incoming>) {
    let mut filter = MarkerFilter::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => {
                // EIO: every writer of the terminal has closed it.
                if let Some(Piece::Output(rest)) = filter.finish() {
                    let _ = tx.send(Incoming::Event(SessionEvent::Output(rest)));
                }
                let _ = tx.send(Incoming::Event(SessionEvent::OutputClosed));
                return;
            }
            Ok(n) => {
                for piece in filter.feed(&buf[..n]) {
                    let event = match piece {
                        Piece::Output(bytes) => SessionEvent::Output(bytes),
                        Piece::Sync(n) => SessionEvent::Sync(n),
                    };
                    if tx.send(Incoming::Event(event)).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
const READ_SYSCALLS: &[i64] = &[0, 17, 19]; // read, pread64, readv
#[cfg(target_arch = "aarch64")]
const READ_SYSCALLS: &[i64] = &[63, 65, 67]; // read, readv, pread64
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const READ_SYSCALLS: &[i64] = &[];

fn blocked_reading(pid: u32, terminal: &std::path::Path) -> Option<bool> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut fields = text.split_whitespace();
    let number: i64 = fields.next()?.parse().ok()?;
    if !READ_SYSCALLS.contains(&number) {
        return Some(false);
    }
    let fd = i64::from_str_radix(fields.next()?.trim_start_matches("0x"), 16).ok()?;
    let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    Some(target == terminal)
}
