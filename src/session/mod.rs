//! The front end's side of a debugging session: starting the agent, its control channel, and
//! the program's terminal.
//!
//! The agent is this same binary run as `sleepy __agent`, with the control socket as its stdin.
//! Right after the spawn the session passes it, over that socket, the program's real stdin and
//! the write end of a crash pipe (SCM_RIGHTS), then the [`Launch`] message. Everything the agent
//! says, and everything the program writes to its terminal, arrives as [`SessionEvent`]s on one
//! queue, in the order the threads read them.

pub mod output;

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
use crate::protocol::{self, AgentMessage, ChannelError, Launch, Request};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot set up the program's terminal: {0}")]
    Terminal(std::io::Error),
    #[error("cannot start the agent process: {0}")]
    Spawn(std::io::Error),
    #[error("cannot talk to the agent: {0}")]
    Channel(#[from] ChannelError),
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
}

pub struct Session {
    child: Child,
    control: UnixStream,
    events: Receiver<SessionEvent>,
    terminal: Option<File>,
    terminal_name: Option<PathBuf>,
    crash: Option<File>,
    status: Option<ExitStatus>,
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
        launch: Launch,
        io: ProgramIo,
    ) -> Result<Session, SessionError> {
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

        let (tx, rx) = mpsc::channel();
        let mut reader = control.try_clone().map_err(SessionError::Spawn)?;
        let agent_tx = tx.clone();
        std::thread::spawn(move || read_agent(&mut reader, &agent_tx));
        let terminal = match master {
            Some(master) => {
                let writer = File::from(master.try_clone().map_err(SessionError::Terminal)?);
                let output_tx = tx.clone();
                std::thread::spawn(move || read_terminal(File::from(master), &output_tx));
                Some(writer)
            }
            None => None,
        };
        drop(tx);
        let mut session = Session {
            child,
            control,
            events: rx,
            terminal,
            terminal_name: name,
            crash: Some(File::from(crash_read)),
            status: None,
        };
        session.send(&Request::Launch(launch))?;
        Ok(session)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn send(&mut self, request: &Request) -> Result<(), SessionError> {
        protocol::send(&mut self.control, request)?;
        Ok(())
    }

    /// The next event, or `None` after `timeout` with nothing to report.
    pub fn next_event(&self, timeout: Duration) -> Option<SessionEvent> {
        match self.events.recv_timeout(timeout) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            // Both reader threads ended: nothing more will ever come.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout);
                None
            }
        }
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
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }

    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Kills the agent (and with it the program).
    pub fn kill(&mut self) {
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            let _ = self.wait();
        }
    }

    /// What the program's Python stack was when the process crashed (faulthandler's report),
    /// without sleepy's own frames.
    pub fn crash_report(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut crash) = self.crash.take() {
            // The agent is gone, so this read ends at once with whatever it wrote.
            let _ = crash.read_to_string(&mut text);
        }
        text.lines()
            .filter(|l| !l.trim_start().starts_with("File \"<sleepy"))
            .map(|l| format!("{l}\n"))
            .collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_agent(reader: &mut UnixStream, tx: &Sender<SessionEvent>) {
    loop {
        match protocol::receive::<_, AgentMessage>(reader) {
            Ok(Some(msg)) => {
                if tx.send(SessionEvent::Agent(msg)).is_err() {
                    return;
                }
            }
            Ok(None) => {
                let _ = tx.send(SessionEvent::AgentGone(None));
                return;
            }
            Err(e) => {
                let _ = tx.send(SessionEvent::AgentGone(Some(e.to_string())));
                return;
            }
        }
    }
}

fn read_terminal(mut master: File, tx: &Sender<SessionEvent>) {
    let mut filter = MarkerFilter::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => {
                // EIO: every writer of the terminal has closed it.
                if let Some(Piece::Output(rest)) = filter.finish() {
                    let _ = tx.send(SessionEvent::Output(rest));
                }
                let _ = tx.send(SessionEvent::OutputClosed);
                return;
            }
            Ok(n) => {
                for piece in filter.feed(&buf[..n]) {
                    let event = match piece {
                        Piece::Output(bytes) => SessionEvent::Output(bytes),
                        Piece::Sync(n) => SessionEvent::Sync(n),
                    };
                    if tx.send(event).is_err() {
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
