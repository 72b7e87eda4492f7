//! Helpers for tests that drive the real `sleepy` binary.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The programs the tests debug.
pub fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs")
}

/// The python3 sleepy was built against.
pub fn python() -> &'static str {
    env!("SLEEPY_PYTHON_EXECUTABLE")
}

pub fn sleepy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sleepy"))
}

#[derive(Debug)]
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

/// Runs a command with `stdin` as its input; kills it after `limit` (a test must never hang).
pub fn run_with(mut cmd: Command, stdin: &[u8], limit: Duration) -> Out {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let out = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
            panic!("timed out after {limit:?}; status {status:?}; output so far:\n{out}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    use std::os::unix::process::ExitStatusExt;
    Out {
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        code: status.code(),
        signal: status.signal(),
    }
}

pub const LIMIT: Duration = Duration::from_secs(60);

/// `sleepy --batch - ARGS...` in the programs directory, with `commands` on stdin.
pub fn batch(commands: &str, args: &[&str]) -> Out {
    batch_in(&programs(), commands, args)
}

pub fn batch_in(dir: &Path, commands: &str, args: &[&str]) -> Out {
    let mut cmd = sleepy();
    cmd.current_dir(dir).arg("--batch").arg("-").args(args);
    run_with(cmd, commands.as_bytes(), LIMIT)
}

/// The transcript with the programs directory written as `$DIR`.
pub fn transcript(commands: &str, args: &[&str]) -> String {
    let out = batch(commands, args);
    assert!(out.stderr.is_empty(), "unexpected stderr: {}", out.stderr);
    normalize(&out.stdout, &programs())
}

pub fn normalize(text: &str, dir: &Path) -> String {
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    text.replace(&real.display().to_string(), "$DIR")
        .replace(&dir.display().to_string(), "$DIR")
}

/// Compares transcripts line by line with a readable diff.
#[track_caller]
pub fn assert_transcript(actual: &str, expected: &str) {
    let expected = expected.strip_prefix('\n').unwrap_or(expected);
    pretty_assertions::assert_eq!(actual, expected);
}

/// The minor version of the Python sleepy embeds.
pub fn python_minor() -> u32 {
    env!("SLEEPY_PYTHON_VERSION")
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// `sleepy --batch - ARGS...` in `dir`, with `commands` on stdin, killed after `limit`.
pub fn batch_in_within(dir: &Path, commands: &str, args: &[&str], limit: Duration) -> Out {
    let mut cmd = sleepy();
    cmd.current_dir(dir).arg("--batch").arg("-").args(args);
    run_with(cmd, commands.as_bytes(), limit)
}

/// Splits a batch transcript into (command, what it printed), the lines before the first
/// prompt coming first with an empty command.
pub fn responses(transcript: &str) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), String::new())];
    for line in transcript.split_inclusive('\n') {
        match line.strip_prefix("(sleepy) ") {
            Some(command) => out.push((command.trim_end_matches('\n').to_string(), String::new())),
            None => out.last_mut().unwrap().1.push_str(line),
        }
    }
    out
}

/// The pids of live sleepy agent processes (`sleepy __agent`: programs and their checkpoints)
/// whose current directory is `dir`.
pub fn agents_in(dir: &Path) -> Vec<u32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"));
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cwd.is_ok_and(|c| c == dir) && cmdline.split(|b| *b == 0).any(|arg| arg == b"__agent")
        })
        .collect()
}

/// Words in pip's output that mean the package index could not be reached (the tests that build
/// a virtualenv from the index say so loudly and check nothing, rather than fail).
pub const PIP_UNREACHABLE: &[&str] = &[
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "Read timed out",
    "ProxyError",
];
