//! The front end's side of checkpoints: the socket every checkpoint and every copy spawned from
//! one connects to, and the processes themselves (asking a checkpoint for a copy, killing,
//! measuring the memory each one holds on its own).
//!
//! The socket lives in a private directory (mode 0700) made for the session and removed with
//! it. The front end is a child subreaper: the checkpoints and copies, whose parents exit at once
//! (see `agent/timeline.rs`), become its children, so it can wait for them, and copies die with it.

use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use rustix::process::{Pid, Signal, WaitOptions};

use super::Incoming;
use crate::protocol::{self, AgentMessage, CheckpointInfo, CheckpointRequest, Hello, Plan};

/// The private directory and its socket.
pub struct TravelSocket {
    dir: PathBuf,
    pub path: PathBuf,
}

impl TravelSocket {
    /// Makes the directory and starts accepting connections on a thread of its own.
    pub fn open(tx: Sender<Incoming>) -> std::io::Result<TravelSocket> {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let mut bytes = [0u8; 8];
        rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty())?;
        let dir = base.join(format!(
            "sleepy-{}-{:016x}",
            std::process::id(),
            u64::from_ne_bytes(bytes)
        ));
        std::fs::create_dir(&dir)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let path = dir.join("t");
        let listener = UnixListener::bind(&path)?;
        // Copies re-parent to this process when their short-lived parents exit.
        rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?;
        std::thread::Builder::new()
            .name("sleepy-checkpoints".into())
            .spawn(move || accept(listener, tx))?;
        Ok(TravelSocket { dir, path })
    }
}

impl Drop for TravelSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn accept(listener: UnixListener, tx: Sender<Incoming>) {
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else {
            continue;
        };
        let hello = match protocol::receive::<_, Hello>(&mut conn) {
            Ok(Some(hello)) => hello,
            _ => continue,
        };
        let sent = match hello {
            Hello::Checkpoint(info) => tx.send(Incoming::Checkpoint(info, conn)),
            Hello::Live { pid, epoch } => tx.send(Incoming::Live { conn, pid, epoch }),
            Hello::Scanner { pid, epoch: _ } => {
                let tx = tx.clone();
                std::thread::spawn(move || read_scanner(conn, pid, &tx));
                Ok(())
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

fn read_scanner(mut conn: UnixStream, pid: u32, tx: &Sender<Incoming>) {
    loop {
        match protocol::receive::<_, AgentMessage>(&mut conn) {
            Ok(Some(AgentMessage::Scanned(result))) => {
                let _ = tx.send(Incoming::Scanned(pid, Some(result)));
                return;
            }
            // A scanner says nothing else the front end needs (its notices are its replay's).
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => {
                let _ = tx.send(Incoming::Scanned(pid, None));
                return;
            }
        }
    }
}

/// A checkpoint process.
pub struct CheckpointProcess {
    pub info: CheckpointInfo,
    conn: UnixStream,
}

impl CheckpointProcess {
    pub fn new(info: CheckpointInfo, conn: UnixStream) -> CheckpointProcess {
        CheckpointProcess { info, conn }
    }

    /// Asks for a copy of the program as it was at this checkpoint.
    pub fn spawn(&mut self, plan: Plan) -> Result<(), protocol::ChannelError> {
        protocol::send(&mut self.conn, &CheckpointRequest::Spawn(plan))
    }

    /// Memory only this checkpoint holds (pages it shares with no other process), in bytes.
    pub fn private_memory(&self) -> Option<u64> {
        private_memory(self.info.pid)
    }

    pub fn kill(self) {
        kill_and_reap(self.info.pid);
    }
}

/// `Private_Clean + Private_Dirty` of `/proc/PID/smaps_rollup`: what killing the process gives
/// back.
pub fn private_memory(pid: u32) -> Option<u64> {
    let mut text = String::new();
    std::fs::File::open(format!("/proc/{pid}/smaps_rollup"))
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    let mut kb = 0u64;
    for line in text.lines() {
        if line.starts_with("Private_Clean:") || line.starts_with("Private_Dirty:") {
            kb += line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Some(kb * 1024)
}

/// Kills a process that is (or will be) this process's child, and waits for it.
pub fn kill_and_reap(pid: u32) {
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return;
    };
    let _ = rustix::process::kill_process(pid, Signal::KILL);
    reap(pid);
}

/// Waits for a dead or dying child (not blocking for long if it is not ours).
pub fn reap(pid: Pid) {
    for _ in 0..2000 {
        match rustix::process::waitpid(Some(pid), WaitOptions::NOHANG) {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(std::time::Duration::from_micros(500)),
        }
    }
}

/// Is this process (one of ours) still running? Reaps it if it has ended.
pub fn alive(pid: u32) -> Option<std::process::ExitStatus> {
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw)?;
    match rustix::process::waitpid(Some(pid), WaitOptions::NOHANG) {
        Ok(Some((_, status))) => {
            use std::os::unix::process::ExitStatusExt;
            Some(std::process::ExitStatus::from_raw(status.as_raw()))
        }
        _ => None,
    }
}

pub fn socket_path(socket: &Option<TravelSocket>) -> Option<&Path> {
    socket.as_ref().map(|s| s.path.as_path())
}
