//! The record/replay layer (`sleepy::agent::replay`) exercised for real: processes that record,
//! frozen copies made with `fork_real` that replay, through the libc calls themselves.
//!
//! **Which functions run.** The layer's `#[no_mangle]` definitions of `read`, `write`, ... are
//! linked into this test executable like into the sleepy binary, so the static linker resolves
//! every call to those names in the executable (the `libc` crate's, std's) to them: a
//! `libc::read(...)` here *is* the interposed `read`. [`binding`] checks it (the addresses are
//! the same, and a call while recording moves the log). The dynamic export (build.rs) only
//! matters for shared libraries such as libpython, which these tests do not load.
//!
//! **How a scenario runs.** Each one runs in a fresh process: this test binary started again with
//! `SLEEPY_REPLAY_SCENARIO=<name>`. A constructor in `.init_array` runs the scenario before
//! libtest's `main` and `_exit`s, so the scenario process is single-threaded (as the agent is)
//! when it forks checkpoints. The scenario process is P, the original run; it forks frozen
//! copies (Q) that block on a pipe until P has made its calls and sent what it saw. P waits for
//! them and checks the outside world (pipes, files) afterwards. Control pipes and stderr are
//! registered agent descriptors, so they are never recorded or suppressed.

use std::ffi::{CString, c_int, c_void};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sleepy::agent::replay;

const SCENARIO_ENV: &str = "SLEEPY_REPLAY_SCENARIO";
/// Seconds before a scenario process (or a copy) that hangs is killed by SIGALRM.
const WATCHDOG_SECONDS: u32 = 60;

// ============================================================================================
// The tests: each runs one scenario process
// ============================================================================================

#[test]
fn binding() {
    run_scenario("binding", None, &[]);
}

#[test]
fn record_then_replay() {
    run_scenario("record_then_replay", None, &[]);
}

#[test]
fn divergence_starts_a_new_timeline() {
    run_scenario("divergence", None, &[]);
}

#[test]
fn stdin_is_read_once() {
    run_scenario("stdin", Some(b"abcdefghij"), &[]);
}

#[test]
fn open_does_not_truncate_while_replaying() {
    run_scenario("open_trunc", None, &[]);
}

#[test]
fn replayed_opens_and_file_system_changes_come_from_the_record() {
    run_scenario("files", None, &[]);
}

#[test]
fn threads_and_processes_turn_the_layer_off() {
    run_scenario("spawning", None, &[]);
}

#[test]
fn inactive_layer_is_libc() {
    run_scenario("pass_through", None, &[]);
}

#[test]
fn pause_and_agent_fds_are_not_recorded() {
    run_scenario("pause_and_agent_fds", None, &[]);
}

#[test]
fn a_full_log_turns_the_layer_off() {
    run_scenario("capacity", None, &[(replay::LOG_BYTES_ENV, "4096")]);
}

#[test]
fn a_copy_from_a_discarded_future_turns_the_layer_off() {
    run_scenario("discarded", None, &[]);
}

#[test]
fn bad_capacity_is_an_error() {
    run_scenario("bad_capacity", None, &[(replay::LOG_BYTES_ENV, "12")]);
}

/// Runs this binary as scenario `name` and fails with its stderr unless it exits 0.
fn run_scenario(name: &str, stdin: Option<&[u8]>, env: &[(&str, &str)]) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.env(SCENARIO_ENV, name)
        .env(replay::LOG_BYTES_ENV, "1048576")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(bytes) = stdin {
        // Written in full before the scenario reads (it is small), then closed: EOF after it.
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scenario {name} failed ({}):\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains(&format!("scenario {name}: ok")),
        "scenario {name} did not finish:\n{stderr}"
    );
}

// ============================================================================================
// Scenario dispatch (before main)
// ============================================================================================

#[used]
#[unsafe(link_section = ".init_array")]
static RUN_SCENARIO: extern "C" fn() = run_scenario_if_asked;

extern "C" fn run_scenario_if_asked() {
    let Ok(name) = std::env::var(SCENARIO_ENV) else {
        return;
    };
    // SAFETY: alarm only arms a timer.
    unsafe { libc::alarm(WATCHDOG_SECONDS) };
    // Panic messages must reach the test even from a replaying copy, whose writes are suppressed.
    replay::register_agent_fd(2).unwrap();
    let outcome = catch_unwind(|| match name.as_str() {
        "binding" => binding_scenario(),
        "record_then_replay" => record_then_replay_scenario(),
        "divergence" => divergence_scenario(),
        "stdin" => stdin_scenario(),
        "open_trunc" => open_trunc_scenario(),
        "files" => files_scenario(),
        "spawning" => spawning_scenario(),
        "pass_through" => pass_through_scenario(),
        "pause_and_agent_fds" => pause_and_agent_fds_scenario(),
        "capacity" => capacity_scenario(),
        "discarded" => discarded_scenario(),
        "bad_capacity" => bad_capacity_scenario(),
        other => panic!("no scenario {other}"),
    });
    let code = match outcome {
        Ok(()) => {
            eprintln!("scenario {name}: ok");
            0
        }
        Err(_) => 101,
    };
    // SAFETY: ends the process without running libtest: the scenario was its whole job.
    unsafe { libc::_exit(code) }
}

// ============================================================================================
// Scenarios
// ============================================================================================

/// The calls in this binary are the layer's: same addresses, and recording moves the log.
fn binding_scenario() {
    assert_eq!(
        libc::read as *const () as usize,
        replay::read as *const () as usize
    );
    assert_eq!(
        libc::write as *const () as usize,
        replay::write as *const () as usize
    );
    assert_eq!(
        libc::clock_gettime as *const () as usize,
        replay::clock_gettime as *const () as usize
    );
    assert_eq!(
        libc::pthread_create as *const () as usize,
        replay::pthread_create as *const () as usize
    );
    replay::start_recording().unwrap();
    let before = replay::position();
    // SAFETY: time with a null pointer only returns the time.
    unsafe { libc::time(std::ptr::null_mut()) };
    assert_eq!(replay::position(), before + 32, "a Time record is 32 bytes");
    let sink = Pipe::new();
    write_fd(sink.w, b"abc").unwrap();
    assert_eq!(replay::position(), before + 64);
    // std's own I/O goes through the same definitions.
    let mut file = std::fs::File::from(dup_owned(sink.w));
    file.write_all(b"de").unwrap();
    assert_eq!(replay::position(), before + 96);
    replay::stop();
    assert_eq!(read_fd(sink.r, 16).unwrap(), b"abcde");
}

/// P records clocks, randomness, file/pipe/socket reads and writes, and sleeps; a frozen copy Q
/// replays them: the same values, no second write, and live again past the end of the log.
fn record_then_replay_scenario() {
    let dir = Dir::new("record");
    let input = dir.file("input", b"hello world, this is the original text");
    let output = dir.file("output", b"");
    let in_fd = open_path(&input, libc::O_RDONLY);
    let out_fd = open_path(&output, libc::O_WRONLY);
    let data = Pipe::new();
    write_fd(data.w, b"pipe-data").unwrap();
    let empty = Pipe::new();
    set_nonblocking(empty.r);
    let sink = Pipe::new();
    set_nonblocking(sink.r);
    let (sock, peer) = socketpair();
    set_nonblocking(peer);
    write_fd(peer, b"sock1234").unwrap();
    let go = Pipe::agent();
    let fds = Fds {
        in_fd,
        out_fd,
        data: data.r,
        empty: empty.r,
        sink: sink.w,
        sock,
    };
    replay::set_divergence_handler(count_divergence);

    replay::start_recording().unwrap();
    let offsets = replay::snapshot_offsets();
    assert!(offsets.contains(&(in_fd, 0)) && offsets.contains(&(out_fd, 0)));
    assert!(!offsets.iter().any(|&(fd, _)| fd == data.r || fd == sock));

    let q = checkpoint(|| {
        let original = go.receive();
        replay::restore_offsets(&offsets);
        assert!(replay::replaying());
        let replayed = the_program(&fds, || {});
        original.assert_same(&replayed);
        assert!(
            replayed.duration("sleeps") < Duration::from_millis(250),
            "replayed sleeps return at once"
        );
        assert!(!replay::replaying());
        assert_eq!(replay::position(), replay::log_len());
        assert_eq!(DIVERGENCES.load(Ordering::SeqCst), 0);

        // Past the end of the log: live, and recorded.
        let end = replay::position();
        assert!(clock(libc::CLOCK_REALTIME) > original.clock("realtime"));
        assert!(clock(libc::CLOCK_MONOTONIC) > original.clock("monotonic after"));
        assert_ne!(random(32), original.get("getrandom"));
        // The offsets were put back and moved by the replayed reads: the live read continues
        // where the original run was, in what the file holds now.
        assert_eq!(read_fd(in_fd, 4).unwrap(), b", TH");
        assert_eq!(
            read_fd(data.r, 5).unwrap(),
            b"-data",
            "the pipe was read once"
        );
        assert_eq!(read_fd(empty.r, 8).unwrap(), b"late");
        assert_eq!(recv_fd(sock, 4, 0).unwrap(), b"1234");
        assert_eq!(write_fd(sink.w, b"LIVE"), Ok(4));
        assert_eq!(write_fd(out_fd, b"BBBB"), Ok(4));
        assert_eq!(send_fd(sock, b"LIVE"), Ok(4));
        assert!(replay::log_len() > end && replay::position() == replay::log_len());
    });

    let original = the_program(&fds, || {
        // Someone else changes the world after P's reads.
        let _pause = replay::pause();
        std::fs::write(&input, b"HELLO WORLD, THIS IS THE REWRITTEN TEXT").unwrap();
        write_fd(empty.w, b"late").unwrap();
    });
    assert_eq!(original.get("read"), b"ok:hello");
    assert_eq!(original.get("readv"), b"ok: w|orld");
    assert_eq!(original.get("pread64"), b"ok:worl");
    assert_eq!(original.get("read empty pipe"), err_bytes(libc::EAGAIN));
    assert!(original.duration("sleeps") >= Duration::from_millis(500));
    go.send(&original);
    assert_eq!(wait(q), 0, "the replaying copy failed");

    replay::stop();
    assert_eq!(read_fd(sink.r, 64).unwrap(), b"ONCEabcdLIVE");
    assert_eq!(read_fd(peer, 64).unwrap(), b"SENDLIVE");
    assert_eq!(std::fs::read(&output).unwrap(), b"AAAABBBBPP");
}

/// The descriptors [`the_program`] works on.
struct Fds {
    in_fd: c_int,
    out_fd: c_int,
    data: c_int,
    empty: c_int,
    sink: c_int,
    sock: c_int,
}

/// The calls "the program" makes, in P and again in its copy; `meanwhile` runs after the reads.
fn the_program(fds: &Fds, meanwhile: impl FnOnce()) -> Obs {
    let mut seen = Obs::default();
    seen.push_clock("realtime", clock(libc::CLOCK_REALTIME));
    seen.push_clock("monotonic", clock(libc::CLOCK_MONOTONIC));
    seen.push_clock("process cpu", clock(libc::CLOCK_PROCESS_CPUTIME_ID));
    seen.push_clock("boottime", clock(libc::CLOCK_BOOTTIME));
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: gettimeofday writes the timeval we pass.
    assert_eq!(
        unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) },
        0
    );
    seen.push_clock("gettimeofday", (tv.tv_sec, tv.tv_usec));
    let mut stored: libc::time_t = 0;
    // SAFETY: time writes the time_t we pass.
    let now = unsafe { libc::time(&mut stored) };
    assert_eq!(now, stored);
    seen.push_clock("time", (now, stored));
    seen.push("getrandom", random(32));
    seen.push("read", result_bytes(read_fd(fds.in_fd, 5)));
    seen.push(
        "readv",
        result_bytes(readv_fd(fds.in_fd, &[2, 4]).map(|parts| parts.join(&b'|'))),
    );
    seen.push("pread64", result_bytes(pread_fd(fds.in_fd, 4, 6)));
    seen.push("read pipe", result_bytes(read_fd(fds.data, 4)));
    seen.push("read empty pipe", result_bytes(read_fd(fds.empty, 8)));
    seen.push("recv", result_bytes(recv_fd(fds.sock, 4, 0)));
    meanwhile();
    seen.push_count("write pipe", write_fd(fds.sink, b"ONCE"));
    seen.push_count("writev pipe", writev_fd(fds.sink, &[b"ab", b"cd"]));
    seen.push_count("write file", write_fd(fds.out_fd, b"AAAA"));
    seen.push_count("pwrite64 file", pwrite_fd(fds.out_fd, b"PP", 8));
    seen.push_count("send", send_fd(fds.sock, b"SEND"));
    let started = paused_now();
    let nap = libc::timespec {
        tv_sec: 0,
        tv_nsec: 250_000_000,
    };
    // SAFETY: nanosleep reads the request; no remainder wanted.
    let slept = unsafe { libc::nanosleep(&nap, std::ptr::null_mut()) };
    seen.push("nanosleep", slept.to_le_bytes().to_vec());
    // SAFETY: as above.
    let slept =
        unsafe { libc::clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &nap, std::ptr::null_mut()) };
    seen.push("clock_nanosleep", slept.to_le_bytes().to_vec());
    seen.push_duration("sleeps", paused_now() - started);
    seen.push_clock("monotonic after", clock(libc::CLOCK_MONOTONIC));
    seen
}

/// A copy makes another call than recorded: the handler runs once, the log is cut at the copy's
/// position, and what follows is live and recorded: a later copy replays *that* timeline.
fn divergence_scenario() {
    let sink = Pipe::new();
    set_nonblocking(sink.r);
    let go1 = Pipe::agent();
    let go2 = Pipe::agent();
    replay::set_divergence_handler(count_divergence);
    replay::start_recording().unwrap();

    let q1 = checkpoint(|| {
        let original = go1.receive();
        assert_eq!(
            clock(libc::CLOCK_MONOTONIC),
            original.clock("monotonic"),
            "replayed"
        );
        let cut = replay::position();
        assert!(replay::log_len() > cut);
        // The original wrote here; this timeline asks for randomness instead.
        let mine = random(8);
        assert_eq!(DIVERGENCES.load(Ordering::SeqCst), 1);
        assert_ne!(mine, original.get("getrandom"), "live, not replayed");
        assert_eq!(
            replay::log_len(),
            cut + 40,
            "cut at the copy, then one Random record"
        );
        assert_eq!(replay::position(), replay::log_len());
        let realtime = clock(libc::CLOCK_REALTIME);
        assert_eq!(write_fd(sink.w, b"y"), Ok(1));
        assert_eq!(DIVERGENCES.load(Ordering::SeqCst), 1, "once");
        assert_eq!(replay::position(), replay::log_len());
        let mut new = Obs::default();
        new.push("monotonic", original.get("monotonic").to_vec());
        new.push("getrandom", mine);
        new.push_clock("realtime", realtime);
        go2.send(&new);
    });
    let q2 = checkpoint(|| {
        let timeline = go2.receive();
        assert_eq!(clock(libc::CLOCK_MONOTONIC), timeline.clock("monotonic"));
        assert_eq!(random(8), timeline.get("getrandom"));
        assert_eq!(clock(libc::CLOCK_REALTIME), timeline.clock("realtime"));
        assert_eq!(write_fd(sink.w, b"y"), Ok(1), "suppressed, count replayed");
        assert!(!replay::replaying());
        assert_eq!(DIVERGENCES.load(Ordering::SeqCst), 0);
    });

    let mut original = Obs::default();
    original.push_clock("monotonic", clock(libc::CLOCK_MONOTONIC));
    assert_eq!(write_fd(sink.w, b"x"), Ok(1));
    original.push("getrandom", random(8));
    go1.send(&original);
    assert_eq!(wait(q1), 0, "the diverging copy failed");
    assert_eq!(wait(q2), 0, "the copy replaying the new timeline failed");
    replay::stop();
    assert_eq!(read_fd(sink.r, 16).unwrap(), b"xy");
}

/// P reads stdin (a pipe fed by the test) twice; Q1 replays the reads without touching the pipe,
/// then reads live; Q2 starts a new timeline at once and is served what the dead timelines read
/// before the pipe is asked again.
fn stdin_scenario() {
    let go1 = Pipe::agent();
    let go2 = Pipe::agent();
    replay::start_recording().unwrap();
    let q1 = checkpoint(|| {
        go1.receive();
        assert_eq!(read_fd(0, 3).unwrap(), b"abc");
        assert_eq!(read_fd(0, 2).unwrap(), b"de");
        assert!(!replay::replaying());
        assert_eq!(read_fd(0, 3).unwrap(), b"fgh", "the pipe still had it");
    });
    let q2 = checkpoint(|| {
        go2.receive();
        replay::diverge();
        assert_eq!(replay::log_len(), replay::position());
        assert_eq!(read_fd(0, 4).unwrap(), b"abcd", "P's bytes, not the pipe's");
        assert_eq!(
            readv_fd(0, &[2, 8]).unwrap(),
            [b"ef".to_vec(), b"gh".to_vec()],
            "the rest of what was read, Q1's included"
        );
        assert_eq!(read_fd(0, 10).unwrap(), b"ij", "then the pipe");
        assert_eq!(read_fd(0, 10).unwrap(), b"", "end of input");
    });
    assert_eq!(read_fd(0, 3).unwrap(), b"abc");
    assert_eq!(read_fd(0, 2).unwrap(), b"de");
    go1.send(&Obs::default());
    assert_eq!(wait(q1), 0, "the replaying copy failed");
    go2.send(&Obs::default());
    assert_eq!(wait(q2), 0, "the new timeline failed");
}

/// Re-running `open(path, "w")` while replaying keeps what the original run wrote (its writes
/// are suppressed now); once live, O_TRUNC truncates again.
fn open_trunc_scenario() {
    let dir = Dir::new("open");
    let paths: Vec<PathBuf> = (0..4).map(|i| dir.path(&format!("f{i}"))).collect();
    let fresh = dir.path("fresh");
    let go = Pipe::agent();
    let program = || {
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
        for (i, path) in paths.iter().enumerate() {
            let fd = open_with(i, path, flags);
            assert!(fd >= 0, "open {i}: {}", errno());
            assert_eq!(write_fd(fd, b"hello"), Ok(5));
            close(fd);
        }
        let fd = open_with(0, &fresh, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL);
        assert!(fd >= 0, "O_EXCL while replaying: {}", errno());
        assert_eq!(write_fd(fd, b"x"), Ok(1));
        close(fd);
    };
    replay::start_recording().unwrap();
    let q = checkpoint(|| {
        go.receive();
        program();
        for path in &paths {
            assert_eq!(std::fs::read(path).unwrap(), b"hello");
        }
        assert_eq!(std::fs::read(&fresh).unwrap(), b"x");
        assert!(!replay::replaying());
        let fd = open_path(&paths[0], libc::O_WRONLY | libc::O_TRUNC);
        close(fd);
        assert_eq!(std::fs::read(&paths[0]).unwrap(), b"", "live: truncated");
    });
    program();
    go.send(&Obs::default());
    assert_eq!(wait(q), 0, "the replaying copy failed");
}

/// A replay gets what the recorded run got from opens and from changes to the file system,
/// whatever is on disk now: a file the recorded run deleted later opens (a stand-in of its size
/// whose reads come from the record) and is not deleted twice; an open that failed fails again
/// even though the file exists now; mkdir and rename are not made again. Read live, past the
/// record, the stand-in says it cannot (EIO) rather than invent data.
fn files_scenario() {
    let dir = Dir::new("files");
    let doomed = dir.file("doomed", b"doomed bytes");
    let kept = dir.file("kept", b"k");
    let moved = dir.path("moved");
    let missing = dir.path("missing");
    let sub = dir.path("sub");
    let go = Pipe::agent();
    let program = || {
        let mut seen = Vec::new();
        let fd = open_path(&doomed, libc::O_RDONLY | libc::O_CLOEXEC);
        let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat writes a `stat` into the memory we pass.
        assert_eq!(unsafe { libc::fstat(fd, stat.as_mut_ptr()) }, 0);
        // SAFETY: fstat succeeded.
        seen.push(format!("size {}", unsafe { stat.assume_init() }.st_size));
        seen.push(format!("read {:?}", read_fd(fd, 8)));
        let path = c_path(&doomed);
        // SAFETY: a valid path.
        seen.push(format!("unlink {}", unsafe { libc::unlink(path.as_ptr()) }));
        let failed = open_with(0, &missing, libc::O_RDONLY);
        seen.push(format!("open missing {failed} {}", errno()));
        let sub = c_path(&sub);
        // SAFETY: a valid path.
        seen.push(format!("mkdir {}", unsafe {
            libc::mkdir(sub.as_ptr(), 0o755)
        }));
        let (from, to) = (c_path(&kept), c_path(&moved));
        // SAFETY: valid paths.
        seen.push(format!("rename {}", unsafe {
            libc::rename(from.as_ptr(), to.as_ptr())
        }));
        (fd, seen)
    };
    replay::start_recording().unwrap();
    let q = checkpoint(|| {
        let original = go.receive();
        let (fd, seen) = program();
        assert_eq!(seen.join("\n").into_bytes(), original.get("seen"));
        assert!(!replay::replaying());
        assert!(!doomed.exists() && moved.exists() && !kept.exists());
        assert_eq!(read_fd(fd, 8), Err(libc::EIO), "live read of a stand-in");
    });
    let (fd, seen) = program();
    assert_eq!(seen[0], "size 12");
    assert_eq!(seen[1], "read Ok([100, 111, 111, 109, 101, 100, 32, 98])");
    assert_eq!(seen[3], format!("open missing -1 {}", libc::ENOENT));
    close(fd);
    {
        let _pause = replay::pause();
        std::fs::write(&missing, b"there now").unwrap();
    }
    let mut obs = Obs::default();
    obs.push("seen", seen.join("\n").into_bytes());
    go.send(&obs);
    assert_eq!(wait(q), 0, "the replaying copy failed");
}

/// The program's fork, vfork, posix_spawn, system and pthread_create end time travel; the agent's own
/// `fork_real`, and threads it starts while paused, do not.
fn spawning_scenario() {
    replay::set_off_handler(note_off);
    replay::start_recording().unwrap();

    // SAFETY: the child only calls async-signal-safe functions.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(if replay::is_active() { 1 } else { 7 }) };
    }
    assert_eq!(wait(pid), 7, "the child sees the layer off");
    assert!(!replay::is_active());
    assert_eq!(take_offs(), [replay::OFF_PROCESS]);

    replay::start_recording().unwrap();
    assert_eq!(std::thread::spawn(|| 42).join().unwrap(), 42);
    assert!(!replay::is_active());
    assert_eq!(take_offs(), [replay::OFF_THREAD]);

    replay::start_recording().unwrap();
    // SAFETY: the layer's vfork is a fork; the child only calls _exit anyway.
    #[allow(deprecated)]
    let pid = unsafe { libc::vfork() };
    if pid == 0 {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(3) };
    }
    assert_eq!(wait(pid), 3);
    assert!(!replay::is_active());
    assert_eq!(take_offs(), [replay::OFF_PROCESS]);

    replay::start_recording().unwrap();
    let truth = CString::new("/bin/true").unwrap();
    let argv = [truth.as_ptr().cast_mut(), std::ptr::null_mut()];
    let mut pid: libc::pid_t = 0;
    // SAFETY: valid path and NULL-terminated argv; no actions or attributes.
    let spawned = unsafe {
        libc::posix_spawn(
            &mut pid,
            truth.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            argv.as_ptr(),
            std::ptr::null(),
        )
    };
    assert_eq!(spawned, 0);
    assert_eq!(wait(pid), 0);
    assert!(!replay::is_active());
    assert_eq!(take_offs(), [replay::OFF_PROCESS]);

    replay::start_recording().unwrap();
    let command = CString::new("exit 5").unwrap();
    // SAFETY: a valid command string.
    let status = unsafe { libc::system(command.as_ptr()) };
    assert_eq!(libc::WEXITSTATUS(status), 5);
    assert!(!replay::is_active());
    assert_eq!(take_offs(), [replay::OFF_PROCESS]);

    replay::start_recording().unwrap();
    let q = checkpoint(|| {
        assert!(replay::is_active(), "a checkpoint copy keeps the layer on");
        assert!(take_offs().is_empty());
    });
    assert_eq!(wait(q), 0);
    {
        let _pause = replay::pause();
        assert_eq!(std::thread::spawn(|| 1).join().unwrap(), 1);
    }
    assert!(
        replay::is_active(),
        "fork_real and paused threads are the agent's"
    );
    assert!(take_offs().is_empty());
    // SAFETY: as above.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) };
    }
    assert_eq!(wait(pid), 0);
    assert_eq!(take_offs(), [replay::OFF_PROCESS], "the handler runs once");
}

/// With the layer off (never started, or stopped) the interposed functions behave as libc's own,
/// reached here with dlsym(RTLD_NEXT).
fn pass_through_scenario() {
    type ReadFn = unsafe extern "C" fn(c_int, *mut c_void, usize) -> isize;
    type WriteFn = unsafe extern "C" fn(c_int, *const c_void, usize) -> isize;
    type ClockFn = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> c_int;
    // SAFETY: these are libc's functions with these types.
    let (real_read, real_write, real_clock) = unsafe {
        (
            std::mem::transmute::<*mut c_void, ReadFn>(real("read")),
            std::mem::transmute::<*mut c_void, WriteFn>(real("write")),
            std::mem::transmute::<*mut c_void, ClockFn>(real("clock_gettime")),
        )
    };
    assert_ne!(
        real_read as usize,
        libc::read as *const () as usize,
        "two different functions"
    );

    for round in ["never started", "stopped"] {
        assert!(!replay::is_active(), "{round}");
        let position = replay::position();
        let pipe = Pipe::new();
        // SAFETY: valid buffers of the given lengths.
        unsafe {
            assert_eq!(libc::write(pipe.w, b"ours".as_ptr().cast(), 4), 4);
            assert_eq!(real_write(pipe.w, b"libc".as_ptr().cast(), 4), 4);
            let mut buf = [0u8; 8];
            assert_eq!(libc::read(pipe.r, buf.as_mut_ptr().cast(), 8), 8);
            assert_eq!(&buf, b"ourslibc");
            assert_eq!(libc::read(-1, buf.as_mut_ptr().cast(), 8), -1);
            assert_eq!(errno(), libc::EBADF);
            assert_eq!(real_read(-1, buf.as_mut_ptr().cast(), 8), -1);
            assert_eq!(errno(), libc::EBADF);
            let mut a = std::mem::zeroed::<libc::timespec>();
            let mut b = std::mem::zeroed::<libc::timespec>();
            let mut c = std::mem::zeroed::<libc::timespec>();
            assert_eq!(libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut a), 0);
            assert_eq!(real_clock(libc::CLOCK_MONOTONIC, &mut b), 0);
            assert_eq!(libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut c), 0);
            let (a, b, c) = (
                (a.tv_sec, a.tv_nsec),
                (b.tv_sec, b.tv_nsec),
                (c.tv_sec, c.tv_nsec),
            );
            assert!(a <= b && b <= c, "one clock: {a:?} {b:?} {c:?}");
            assert_eq!(libc::clock_gettime(-12345, &mut std::mem::zeroed()), -1);
            assert_eq!(errno(), libc::EINVAL);
        }
        assert_eq!(random(16).len(), 16);
        // SAFETY: an invalid flag is rejected before the buffer is touched.
        assert_eq!(
            unsafe { libc::getrandom(std::ptr::null_mut(), 1, 0xffff) },
            -1
        );
        assert_eq!(errno(), libc::EINVAL);
        let missing = CString::new("/nonexistent/sleepy").unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::open(missing.as_ptr(), libc::O_RDONLY) }, -1);
        assert_eq!(errno(), libc::ENOENT);
        let dir = Dir::new("pass");
        let file = dir.file("f", b"content");
        close(open_path(&file, libc::O_WRONLY | libc::O_TRUNC));
        assert_eq!(std::fs::read(&file).unwrap(), b"", "O_TRUNC applies");
        assert_eq!(replay::position(), position, "nothing recorded");

        replay::start_recording().unwrap();
        replay::stop();
    }
    assert_eq!(replay::log_len(), 0);
}

/// Paused calls and calls on agent descriptors are neither recorded nor suppressed.
fn pause_and_agent_fds_scenario() {
    let control = Pipe::new();
    let sink = Pipe::new();
    set_nonblocking(sink.r);
    replay::register_agent_fd(control.w).unwrap();
    let go = Pipe::agent();
    replay::start_recording().unwrap();
    let q = checkpoint(|| {
        go.receive();
        assert_eq!(write_fd(control.w, b"Q"), Ok(1));
        {
            let _pause = replay::pause();
            let _nested = replay::pause();
            assert_eq!(write_fd(sink.w, b"q"), Ok(1));
        }
        assert_eq!(write_fd(sink.w, b"-"), Ok(1), "replayed");
        assert!(!replay::replaying());
    });
    let start = replay::position();
    assert_eq!(write_fd(control.w, b"P"), Ok(1));
    assert_eq!(replay::position(), start, "agent descriptor");
    {
        let _pause = replay::pause();
        assert_eq!(write_fd(sink.w, b"p"), Ok(1));
        assert_eq!(replay::position(), start, "paused");
    }
    assert_eq!(write_fd(sink.w, b"-"), Ok(1));
    assert_eq!(replay::position(), start + 32, "recorded again");
    go.send(&Obs::default());
    assert_eq!(wait(q), 0, "the replaying copy failed");
    replay::stop();
    assert_eq!(read_fd(control.r, 8).unwrap(), b"PQ");
    assert_eq!(read_fd(sink.r, 8).unwrap(), b"p-q");
    replay::unregister_agent_fd(control.w);
    replay::start_recording().unwrap();
    assert_eq!(write_fd(control.w, b"!"), Ok(1));
    assert_eq!(replay::position(), start + 64, "no longer the agent's");
}

/// A log that cannot take the next record turns the layer off; the call still works.
fn capacity_scenario() {
    replay::set_off_handler(note_off);
    replay::start_recording().unwrap();
    let mut calls = 0;
    while replay::is_active() {
        let bytes = random(512);
        assert_eq!(bytes.len(), 512);
        calls += 1;
        assert!(calls < 100, "the layer should be off by now");
    }
    assert_eq!(calls, 4096 / (32 + 512) + 1);
    assert_eq!(take_offs(), [replay::OFF_FULL]);
    assert!(replay::log_len() <= 4096);
    assert_eq!(replay::position(), replay::log_len());
}

/// A copy whose position lies beyond the end of a log that a new timeline cut: its future is
/// gone, so the layer turns off rather than replay another timeline's records.
fn discarded_scenario() {
    replay::set_off_handler(note_off);
    let go_early = Pipe::agent();
    let go_late = Pipe::agent();
    replay::start_recording().unwrap();
    let early = checkpoint(|| {
        go_early.receive();
        replay::diverge();
        random(8);
        assert_eq!(replay::log_len(), 40);
    });
    for _ in 0..3 {
        random(8);
    }
    let late = checkpoint(|| {
        go_late.receive();
        assert_eq!(replay::position(), 120);
        assert_eq!(random(8).len(), 8);
        assert!(!replay::is_active());
        assert_eq!(take_offs(), [replay::OFF_DISCARDED]);
    });
    go_early.send(&Obs::default());
    assert_eq!(wait(early), 0);
    go_late.send(&Obs::default());
    assert_eq!(wait(late), 0);
}

fn bad_capacity_scenario() {
    let err = replay::start_recording().unwrap_err();
    assert!(matches!(err, replay::ReplayError::BadCapacity(ref v) if v == "12"));
    assert!(!replay::is_active());
}

// ============================================================================================
// Handlers
// ============================================================================================

static DIVERGENCES: AtomicUsize = AtomicUsize::new(0);

fn count_divergence() {
    DIVERGENCES.fetch_add(1, Ordering::SeqCst);
}

static OFFS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

fn note_off(reason: &'static str) {
    OFFS.lock().unwrap().push(reason);
}

fn take_offs() -> Vec<&'static str> {
    std::mem::take(&mut *OFFS.lock().unwrap())
}

// ============================================================================================
// Processes and control pipes
// ============================================================================================

/// Forks a frozen copy with `fork_real` that runs `body` and exits (1 if it panicked).
fn checkpoint(body: impl FnOnce()) -> libc::pid_t {
    match replay::fork_real().unwrap() {
        Some(pid) => pid.as_raw_pid(),
        None => {
            // SAFETY: alarm only arms a timer (alarms are not inherited across fork).
            unsafe { libc::alarm(WATCHDOG_SECONDS) };
            let code = match catch_unwind(AssertUnwindSafe(body)) {
                Ok(()) => 0,
                Err(_) => 1,
            };
            // SAFETY: ends the copy without running the rest of the scenario.
            unsafe { libc::_exit(code) }
        }
    }
}

/// Waits for a child; its exit status.
fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waitpid writes the status we pass.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child {pid}: status {status:#x}");
    libc::WEXITSTATUS(status)
}

struct Pipe {
    r: c_int,
    w: c_int,
}

impl Pipe {
    fn new() -> Pipe {
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        Pipe {
            r: fds[0],
            w: fds[1],
        }
    }

    /// A control pipe between P and a copy: agent descriptors, never recorded.
    fn agent() -> Pipe {
        let pipe = Pipe::new();
        replay::register_agent_fd(pipe.r).unwrap();
        replay::register_agent_fd(pipe.w).unwrap();
        pipe
    }

    fn send(&self, obs: &Obs) {
        let bytes = obs.encode();
        let mut message = (bytes.len() as u64).to_le_bytes().to_vec();
        message.extend_from_slice(&bytes);
        let mut sent = 0;
        while sent < message.len() {
            sent += write_fd(self.w, &message[sent..]).unwrap();
        }
    }

    fn receive(&self) -> Obs {
        let mut message = Vec::new();
        let mut need = 8;
        while message.len() < need {
            let chunk = read_fd(self.r, need - message.len()).unwrap();
            assert!(!chunk.is_empty(), "the other side is gone");
            message.extend_from_slice(&chunk);
            if message.len() == 8 && need == 8 {
                need += u64::from_le_bytes(message[..8].try_into().unwrap()) as usize;
            }
        }
        Obs::decode(&message[8..])
    }
}

fn socketpair() -> (c_int, c_int) {
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two descriptors into the array.
    let made = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(made, 0);
    (fds[0], fds[1])
}

fn set_nonblocking(fd: c_int) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        assert_eq!(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK), 0);
    }
}

fn dup_owned(fd: c_int) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: dup makes a new descriptor, owned by the result alone.
    unsafe {
        let copy = libc::dup(fd);
        assert!(copy >= 0);
        std::os::fd::OwnedFd::from_raw_fd(copy)
    }
}

fn close(fd: c_int) {
    // SAFETY: closes a descriptor the caller owns.
    unsafe { libc::close(fd) };
}

/// libc's own definition of `name` (the next object after this executable).
fn real(name: &str) -> *mut c_void {
    let name = CString::new(name).unwrap();
    // SAFETY: a NUL-terminated name.
    let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    assert!(!found.is_null());
    found
}

// ============================================================================================
// Files
// ============================================================================================

/// A scratch directory, removed by its owner (copies `_exit` and leave it alone).
struct Dir(PathBuf);

impl Dir {
    fn new(what: &str) -> Dir {
        let path =
            std::env::temp_dir().join(format!("sleepy-replay-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _pause = replay::pause();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn c_path(path: &Path) -> CString {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

fn open_path(path: &Path, flags: c_int) -> c_int {
    let fd = open_with(0, path, flags);
    assert!(fd >= 0, "open {}: {}", path.display(), errno());
    fd
}

/// Opens through open, open64, openat or openat64 (`variant` 0 to 3).
fn open_with(variant: usize, path: &Path, flags: c_int) -> c_int {
    let path = c_path(path);
    let mode: libc::c_uint = 0o644;
    // SAFETY: a valid path; the mode is read only with O_CREAT.
    unsafe {
        match variant {
            0 => libc::open(path.as_ptr(), flags, mode),
            1 => libc::open64(path.as_ptr(), flags, mode),
            2 => libc::openat(libc::AT_FDCWD, path.as_ptr(), flags, mode),
            _ => libc::openat64(libc::AT_FDCWD, path.as_ptr(), flags, mode),
        }
    }
}

// ============================================================================================
// The calls, as "the program" makes them (each goes through the layer)
// ============================================================================================

fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn counted(n: isize) -> Result<usize, c_int> {
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

fn read_fd(fd: c_int, n: usize) -> Result<Vec<u8>, c_int> {
    let mut buf = vec![0u8; n];
    // SAFETY: `buf` is writable for n bytes.
    let got = counted(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), n) })?;
    buf.truncate(got);
    Ok(buf)
}

fn readv_fd(fd: c_int, sizes: &[usize]) -> Result<Vec<Vec<u8>>, c_int> {
    let mut bufs: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![0u8; n]).collect();
    let iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    // SAFETY: each iovec describes one of `bufs`.
    let mut left = counted(unsafe { libc::readv(fd, iovs.as_ptr(), iovs.len() as c_int) })?;
    for buf in &mut bufs {
        let keep = left.min(buf.len());
        buf.truncate(keep);
        left -= keep;
    }
    Ok(bufs)
}

fn pread_fd(fd: c_int, n: usize, offset: i64) -> Result<Vec<u8>, c_int> {
    let mut buf = vec![0u8; n];
    // SAFETY: `buf` is writable for n bytes.
    let got = counted(unsafe { libc::pread64(fd, buf.as_mut_ptr().cast(), n, offset) })?;
    buf.truncate(got);
    Ok(buf)
}

fn recv_fd(fd: c_int, n: usize, flags: c_int) -> Result<Vec<u8>, c_int> {
    let mut buf = vec![0u8; n];
    // SAFETY: `buf` is writable for n bytes.
    let got = counted(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), n, flags) })?;
    buf.truncate(got);
    Ok(buf)
}

fn write_fd(fd: c_int, data: &[u8]) -> Result<usize, c_int> {
    // SAFETY: `data` is readable for its length.
    counted(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

fn writev_fd(fd: c_int, parts: &[&[u8]]) -> Result<usize, c_int> {
    let iovs: Vec<libc::iovec> = parts
        .iter()
        .map(|p| libc::iovec {
            iov_base: p.as_ptr().cast_mut().cast(),
            iov_len: p.len(),
        })
        .collect();
    // SAFETY: each iovec describes one of `parts` (only read).
    counted(unsafe { libc::writev(fd, iovs.as_ptr(), iovs.len() as c_int) })
}

fn pwrite_fd(fd: c_int, data: &[u8], offset: i64) -> Result<usize, c_int> {
    // SAFETY: `data` is readable for its length.
    counted(unsafe { libc::pwrite64(fd, data.as_ptr().cast(), data.len(), offset) })
}

fn send_fd(fd: c_int, data: &[u8]) -> Result<usize, c_int> {
    // SAFETY: `data` is readable for its length.
    counted(unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), 0) })
}

fn clock(id: libc::clockid_t) -> (i64, i64) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass.
    assert_eq!(unsafe { libc::clock_gettime(id, &mut ts) }, 0);
    (ts.tv_sec, ts.tv_nsec)
}

fn random(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // SAFETY: `buf` is writable for n bytes.
    let got = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), n, 0) };
    assert_eq!(got, n as isize);
    buf
}

/// The time as the test itself measures it: paused, so not a recorded call.
fn paused_now() -> Instant {
    let _pause = replay::pause();
    Instant::now()
}

// ============================================================================================
// What a run saw
// ============================================================================================

/// Named observations in order, sent from P to its copies.
#[derive(Default)]
struct Obs(Vec<(String, Vec<u8>)>);

fn result_bytes(result: Result<Vec<u8>, c_int>) -> Vec<u8> {
    match result {
        Ok(bytes) => [b"ok:".as_slice(), &bytes].concat(),
        Err(errno) => err_bytes(errno),
    }
}

fn err_bytes(errno: c_int) -> Vec<u8> {
    format!("err:{errno}").into_bytes()
}

impl Obs {
    fn push(&mut self, name: &str, value: Vec<u8>) {
        self.0.push((name.to_string(), value));
    }

    fn push_clock(&mut self, name: &str, (a, b): (i64, i64)) {
        self.push(name, [a.to_le_bytes(), b.to_le_bytes()].concat());
    }

    fn push_count(&mut self, name: &str, result: Result<usize, c_int>) {
        self.push(name, format!("{result:?}").into_bytes());
    }

    fn push_duration(&mut self, name: &str, d: Duration) {
        self.push(name, (d.as_nanos() as u64).to_le_bytes().to_vec());
    }

    fn get(&self, name: &str) -> &[u8] {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_else(|| panic!("no observation {name}"))
    }

    fn clock(&self, name: &str) -> (i64, i64) {
        let v = self.get(name);
        (
            i64::from_le_bytes(v[..8].try_into().unwrap()),
            i64::from_le_bytes(v[8..16].try_into().unwrap()),
        )
    }

    fn duration(&self, name: &str) -> Duration {
        Duration::from_nanos(u64::from_le_bytes(self.get(name).try_into().unwrap()))
    }

    /// Every observation but the measured durations is the same.
    fn assert_same(&self, other: &Obs) {
        let names = |o: &Obs| o.0.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(self), names(other));
        for (name, value) in &self.0 {
            if name != "sleeps" {
                assert_eq!(
                    String::from_utf8_lossy(other.get(name)),
                    String::from_utf8_lossy(value),
                    "{name}"
                );
                assert_eq!(other.get(name), value.as_slice(), "{name}");
            }
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, value) in &self.0 {
            for part in [name.as_bytes(), value] {
                out.extend_from_slice(&(part.len() as u32).to_le_bytes());
                out.extend_from_slice(part);
            }
        }
        out
    }

    fn decode(mut bytes: &[u8]) -> Obs {
        let mut parts = Vec::new();
        while !bytes.is_empty() {
            let n = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
            parts.push(bytes[4..4 + n].to_vec());
            bytes = &bytes[4 + n..];
        }
        let mut obs = Obs::default();
        for pair in parts.chunks(2) {
            obs.push(&String::from_utf8_lossy(&pair[0]), pair[1].clone());
        }
        obs
    }
}
