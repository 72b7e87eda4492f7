//! The TUI in a real pseudo-terminal: the binary starts on a demo program, keys are typed as a
//! user types them, and the screen is read back through a terminal emulator (vt100). The
//! current-line marker and the variables shown must match the program's real state.

mod common;

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

const ROWS: u16 = 40;
const COLS: u16 = 140;
/// Generous: a hang fails the test, it never blocks CI.
const PATIENCE: Duration = Duration::from_secs(30);

struct Screen {
    child: Child,
    master: std::fs::File,
    rx: Receiver<Vec<u8>>,
    parser: vt100::Parser,
}

impl Screen {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Screen {
        let master: OwnedFd = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let name = name.to_str().expect("pts name").to_string();
        rustix::termios::tcsetwinsize(
            &master,
            rustix::termios::Winsize {
                ws_row: ROWS,
                ws_col: COLS,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .expect("winsize");
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&name)
            .expect("open pts");
        let mut cmd = common::sleepy();
        cmd.args(args)
            .current_dir(common::programs())
            .env("TERM", "xterm-256color")
            .env("SLEEPY_CONFIG", "/nonexistent/sleepy-config.toml")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn sleepy");
        let master = std::fs::File::from(master);
        let mut reader = master.try_clone().expect("dup master");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Screen {
            child,
            master,
            rx,
            parser: vt100::Parser::new(
                std::num::NonZeroU16::new(ROWS).expect("rows"),
                std::num::NonZeroU16::new(COLS).expect("cols"),
                0,
            ),
        }
    }

    fn drain(&mut self, wait: Duration) {
        if let Ok(bytes) = self.rx.recv_timeout(wait) {
            self.parser.process(&bytes);
            while let Ok(bytes) = self.rx.try_recv() {
                self.parser.process(&bytes);
            }
        }
    }

    fn text(&self) -> String {
        self.parser.screen().contents()
    }

    /// Waits until `pred` holds for the screen's text; panics with the screen if it never does.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.text();
            if pred(&text) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen:\n{text}");
            }
            self.drain(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("type");
        self.master.flush().expect("flush");
    }

    /// The line number on the row with the current-line marker.
    fn current_line(&self) -> Option<u32> {
        current_line_in(&self.text())
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sleepy did not exit; the screen:\n{}", self.text());
            }
            self.drain(Duration::from_millis(50));
        }
    }
}

/// The line number on the Source pane's row with the current-line marker (`┃▶●  14 ...`).
fn current_line_in(text: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix("┃▶")?;
        let digits: String = rest
            .chars()
            .skip(1)
            .take_while(|c| c.is_ascii_digit() || *c == ' ')
            .collect();
        digits.trim().parse().ok()
    })
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/demo.py")
        .display()
        .to_string()
}

#[test]
fn keys_typed_into_the_tui_step_break_go_back_and_jump() {
    let demo = demo();
    let mut s = Screen::start(&[&demo], &[]);
    s.wait_for("the first stop", |t| {
        t.contains("Source") && t.contains("stopped tick")
    });
    assert_eq!(s.current_line(), Some(1), "{}", s.text());

    // Move the cursor to line 14 (`self.balance -= amount + fee`) and set a breakpoint there.
    s.keys(b"1");
    for _ in 0..13 {
        s.keys(b"j");
    }
    s.keys(b"b");
    s.wait_for("the breakpoint in the Breakpoints pane", |t| {
        t.contains("● 1 demo.py:14")
    });

    // Continue: the program stops at line 14 in withdraw, with its locals shown.
    s.keys(b"c");
    s.wait_for("the stop at line 14", |t| t.contains("breakpoint 1"));
    let t = s.wait_for("withdraw's locals", |t| {
        t.contains("│  amount = 20") && t.contains("│  fee = 1")
    });
    assert_eq!(s.current_line(), Some(14), "{t}");
    assert!(t.contains("Account.withdraw"), "{t}");

    // S: one step back in time, to line 13, where fee is not yet set.
    s.keys(b"S");
    s.wait_for("line 13 after going back", |t| {
        t.contains("│  amount = 20") && !t.contains("│  fee = 1")
    });
    assert_eq!(s.current_line(), Some(13), "{}", s.text());

    // J on line 15: jump over the fee line; balance is still 50.
    s.keys(b"1");
    s.keys(b"jj");
    s.keys(b"J");
    let t = s.wait_for("the marker on line 15", |t| t.contains("jumped"));
    assert_eq!(s.current_line(), Some(15), "{t}");

    // q asks (the program is still running); y quits, and the terminal is given back.
    s.keys(b"q");
    s.wait_for("the quit question", |t| t.contains("Quit? (y/n)"));
    s.keys(b"y");
    let code = s.wait_exit();
    assert_eq!(code, Some(0));
    s.drain(Duration::from_millis(200));
    assert!(
        !s.parser.screen().alternate_screen(),
        "sleepy left the alternate screen on"
    );
}

#[test]
fn a_panic_gives_the_terminal_back() {
    let demo = demo();
    let mut s = Screen::start(&[&demo], &[("SLEEPY_TEST_INJECT_PANIC", "1")]);
    let code = s.wait_exit();
    assert_ne!(code, Some(0));
    s.drain(Duration::from_millis(200));
    assert!(!s.parser.screen().alternate_screen(), "{}", s.text());
    assert!(
        s.text().contains("panic injected"),
        "the panic message should be on the normal screen:\n{}",
        s.text()
    );
    // Raw mode is off again: the terminal echoes and translates newlines.
    let attrs = rustix::termios::tcgetattr(&s.master).expect("tcgetattr");
    assert!(
        attrs
            .local_modes
            .contains(rustix::termios::LocalModes::ICANON | rustix::termios::LocalModes::ECHO),
        "the terminal is still in raw mode"
    );
}

#[test]
fn ctrl_c_stops_the_running_program_and_the_ui_stays_live() {
    let spin = common::programs().join("tui_spin.py");
    let mut s = Screen::start(&[spin.to_str().expect("path")], &[]);
    s.wait_for("the first stop", |t| t.contains("stopped tick"));
    s.keys(b"c");
    // The UI shows the program running, its output arriving, while the program runs.
    s.wait_for("the running indicator", |t| t.contains("running tick"));
    s.wait_for("the program's output", |t| t.contains("still going 2"));
    s.keys(b"\x03");
    let t = s.wait_for("the stop after Ctrl-C", |t| t.contains("· interrupted"));
    let line = s.current_line().expect("a current line");
    assert!((6..=10).contains(&line), "stopped at line {line}:\n{t}");
    s.wait_for("n in the variables", |t| t.contains("│  n = "));
    s.keys(b"q");
    s.wait_for("the quit question", |t| t.contains("Quit? (y/n)"));
    s.keys(b"y");
    s.wait_exit();
}

#[test]
fn a_broken_config_is_named_with_its_line_and_sleepy_starts_anyway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "theme = \"light\"\n[keys]\nstep = [\"s\"\n").expect("write");
    let demo = demo();
    let config = config.to_str().expect("path").to_string();
    let mut s = Screen::start(&[&demo], &[("SLEEPY_CONFIG", &config)]);
    let t = s.wait_for("the first stop", |t| t.contains("stopped tick"));
    assert!(t.contains("line 3"), "the warning should name line 3:\n{t}");
    // The defaults work.
    s.keys(b"n");
    s.wait_for("the step", |t| current_line_in(t) == Some(7));
    s.keys(b"q");
    s.keys(b"y");
    s.wait_exit();
}

#[test]
fn typing_in_the_output_pane_feeds_the_programs_input() {
    let greet = common::programs().join("greet.py");
    let mut s = Screen::start(&[greet.to_str().expect("path")], &[]);
    s.wait_for("the first stop", |t| t.contains("stopped tick"));
    s.keys(b"c");
    s.wait_for("the question and the input notice", |t| {
        t.contains("name?") && t.contains("the program is reading its input")
    });
    s.keys(b"Ada\r");
    s.wait_for("the answer", |t| t.contains("hello Ada"));
    // End of input: Ctrl-D on an empty line.
    s.keys(b"\x04");
    s.wait_for("the end of the program", |t| {
        t.contains("The program finished")
    });
    s.keys(b"q");
    assert_eq!(s.wait_exit(), Some(0));
}
