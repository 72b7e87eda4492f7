//! The record/replay layer at the libc boundary: what makes going back in time deterministic and
//! free of repeated side effects.
//!
//! Time travel forks frozen copies of the agent (checkpoints); going back forks a fresh copy of a
//! checkpoint that runs forward again to the target. Everything the program learns from outside
//! the process (file and socket data, clocks, randomness, the terminal) must come out the same
//! in that copy, and everything it does to the outside (writes) must not happen twice. So the
//! sleepy binary *defines* the libc functions through which that happens (`read`, `write`,
//! `clock_gettime`, ...) and exports them dynamically (build.rs): libpython and extension
//! modules call them through the PLT and bind to these definitions, which reach libc's own
//! through `dlsym(RTLD_NEXT, ...)`.
//!
//! - **Live** (the copy is at the end of what was recorded): the real call runs and its outcome
//!   is appended to a log shared by every process forked after the log was created.
//! - **Replaying** (records remain after this process's cursor): the call returns the recorded
//!   outcome without doing the I/O; writes are suppressed. A call that does not match the next
//!   record means the program took another path: the log is cut there and the call runs live.
//! - Bytes read from stdin go to a separate stream that is never cut, so input the user typed is
//!   never asked for again, even on a new timeline.
//! - The program starting a thread or a process turns the layer off for good (a replay could not
//!   reproduce them).
//!
//! When the layer is off every function here is one relaxed atomic load and the real call: the
//! same binary is the front end, and the test binaries link this library too.
//!
//! Only libc functions called through the PLT are seen: calls glibc makes internally (`fopen`'s
//! `open`, `opendir`) are not. The agent is single-threaded whenever the layer is on; the state
//! below relies on that (no locks, one process running at a time).
//!
//! What the agent must do:
//! - [`start_recording`] before the first checkpoint's fork (the log is created then, and only
//!   processes forked afterwards share it).
//! - Its own I/O while the layer is on goes to registered descriptors ([`register_agent_fd`]) or
//!   happens under [`pause`]; so does its own use of clocks and randomness (Rust's `Instant`,
//!   `HashMap` seeds). Otherwise it is recorded as the program's, and suppressed in a replay.
//! - A checkpoint calls [`snapshot_offsets`] right before [`fork_real`]; a copy that will replay
//!   calls [`restore_offsets`] first.
//! - [`diverge`] when the user changes the program's state (a new timeline starts there), and
//!   forget checkpoints whose position is beyond the cut: their future is gone (a copy of one
//!   turns the layer off rather than replay another timeline's records).
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::marker::PhantomData;
use std::mem::{MaybeUninit, size_of};
use std::os::fd::RawFd;
use std::ptr::{self, NonNull};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};

use libc::{
    clockid_t, iovec, off64_t, pid_t, posix_spawn_file_actions_t, posix_spawnattr_t,
    pthread_attr_t, pthread_t, size_t, ssize_t, time_t, timespec, timeval,
};

// ============================================================================================
// Public API
// ============================================================================================

/// The libc functions this module defines; build.rs exports each one from the sleepy binary
/// (`--export-dynamic-symbol`), reading the same list.
pub const INTERPOSED: &[&str] = include!("interposed.rs");

/// Environment variable overriding the capacity of the log (and of the stdin stream), in bytes.
pub const LOG_BYTES_ENV: &str = "SLEEPY_REPLAY_LOG_BYTES";

/// Default capacity: address space only (MAP_NORESERVE); pages exist once records reach them.
const DEFAULT_LOG_BYTES: u64 = 4 << 30;
const MIN_LOG_BYTES: u64 = 4096;

// Reasons handed to the off handler.
/// pthread_create by the program.
pub const OFF_THREAD: &str = "the program started a thread";
/// fork, vfork, posix_spawn, posix_spawnp or system by the program.
pub const OFF_PROCESS: &str = "the program started a process";
/// The log (or the stdin stream) cannot take the next record.
pub const OFF_FULL: &str = "the record of the program's inputs is full";
/// This process is a copy from a future that a new timeline replaced: its records are gone.
pub const OFF_DISCARDED: &str = "this point in time belongs to a discarded timeline";

/// Why the layer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{LOG_BYTES_ENV} must be a byte count of at least {MIN_LOG_BYTES}, not {0:?}")]
    BadCapacity(String),
    #[error("cannot map {bytes} bytes for the record of the program's inputs: {source}")]
    Map {
        bytes: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("too many agent descriptors (at most {AGENT_FD_SLOTS})")]
    TooManyAgentFds,
}

/// Creates the shared log (once per process tree: call it before the first checkpoint's fork)
/// and turns recording on. A process whose cursor is behind the end of the log replays.
pub fn start_recording() -> Result<(), ReplayError> {
    if SHARED.get().is_none() {
        let capacity = match std::env::var(LOG_BYTES_ENV) {
            Ok(text) => match text.trim().parse::<u64>() {
                Ok(n) if n >= MIN_LOG_BYTES => n,
                _ => return Err(ReplayError::BadCapacity(text)),
            },
            Err(_) => DEFAULT_LOG_BYTES,
        };
        let log = Region::map(capacity)?;
        // Piped input can be larger than its records (one 32-byte record per read), so the
        // stream gets as much room as the log.
        let stdin = match Region::map(capacity) {
            Ok(stdin) => stdin,
            Err(err) => {
                log.unmap();
                return Err(err);
            }
        };
        let shared = Shared { log, stdin };
        if let Err(extra) = SHARED.set(shared) {
            extra.log.unmap();
            extra.stdin.unmap();
        }
    }
    ACTIVE.store(true, Ordering::SeqCst);
    Ok(())
}

/// Turns the layer off: every interposed function passes through. The log stays.
pub fn stop() {
    ACTIVE.store(false, Ordering::SeqCst);
}

/// A copy that only reads the past (a scanner): it must never cut or extend the record the
/// program's timeline lives on. Leaving the record (a mismatch, or its end) calls the divergence
/// handler, which is expected not to return.
pub fn set_read_only() {
    READ_ONLY.store(true, Ordering::SeqCst);
}

/// Whether calls are being recorded or replayed.
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Whether records remain ahead of this process (its calls return recorded outcomes).
pub fn replaying() -> bool {
    SHARED
        .get()
        .is_some_and(|s| CURSOR.load(Ordering::Relaxed) < s.log.len().load(Ordering::Acquire))
}

/// This process's position in the log, in bytes: informational (two processes at the same
/// position have seen the same outcomes).
pub fn position() -> u64 {
    CURSOR.load(Ordering::Relaxed)
}

/// The end of the log (bytes of records), shared by every process.
pub fn log_len() -> u64 {
    SHARED
        .get()
        .map_or(0, |s| s.log.len().load(Ordering::Acquire))
}

/// Starts a new timeline here: the user changed the program's state, so what was recorded after
/// this point can no longer happen. Cuts the log at this process's position (stdin bytes stay).
pub fn diverge() {
    if let Some(shared) = SHARED.get() {
        let cursor = CURSOR.load(Ordering::Relaxed);
        if cursor < shared.log.len().load(Ordering::Acquire) {
            shared.log.len().store(cursor, Ordering::Release);
        }
    }
}

/// Suspends recording and replaying until the guard is dropped (nests): for the agent's own
/// I/O on descriptors it has not registered, and its own use of clocks and randomness.
pub fn pause() -> PauseGuard {
    PAUSE.fetch_add(1, Ordering::SeqCst);
    PauseGuard {
        _not_send: PhantomData,
    }
}

/// Keeps the layer paused while it lives; see [`pause`].
#[must_use = "the layer resumes when the guard is dropped"]
pub struct PauseGuard {
    _not_send: PhantomData<*const ()>,
}

impl Drop for PauseGuard {
    fn drop(&mut self) {
        PAUSE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Marks `fd` as the agent's own (the control socket, ...): calls on it are never recorded or
/// suppressed.
pub fn register_agent_fd(fd: RawFd) -> Result<(), ReplayError> {
    if is_agent_fd(fd) {
        return Ok(());
    }
    for slot in &AGENT_FDS {
        if slot
            .compare_exchange(NO_FD, fd, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Ok(());
        }
    }
    Err(ReplayError::TooManyAgentFds)
}

/// Forgets an agent descriptor (before closing it: the number may be reused by the program).
pub fn unregister_agent_fd(fd: RawFd) {
    for slot in &AGENT_FDS {
        let _ = slot.compare_exchange(fd, NO_FD, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Called (once) when the layer turns itself off, with the reason ([`OFF_THREAD`], ...). It runs
/// inside the program's libc call, with the layer already off. That call may be Rust's own
/// (std's stdout/stderr, with their lock held), so the handler must not print through std: it
/// should note the fact, or send it on the control channel.
pub fn set_off_handler(handler: fn(&'static str)) {
    OFF_HANDLER.store(handler as *mut (), Ordering::SeqCst);
}

/// Called when a replaying process makes a call the log does not have next, just before the log
/// is cut there. It runs inside the program's libc call, paused; the same caution as for
/// [`set_off_handler`] applies.
pub fn set_divergence_handler(handler: fn()) {
    DIVERGENCE_HANDLER.store(handler as *mut (), Ordering::SeqCst);
}

/// Every open descriptor's offset, for a checkpoint to take before its fork: the forked process
/// shares the open file descriptions with the one that goes on running and moving them. The
/// agent's own descriptors are left out: their offsets are not part of the program's history.
pub fn snapshot_offsets() -> Vec<(RawFd, i64)> {
    let _pause = pause();
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => return Vec::new(),
    };
    // The listing's own descriptor is closed by now, so it drops out with EBADF.
    fds.into_iter()
        .filter(|&fd| !is_agent_fd(fd))
        .filter_map(|fd| {
            // SAFETY: lseek on any descriptor number touches no memory of ours.
            let offset = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
            (offset >= 0).then_some((fd, offset))
        })
        .collect()
}

/// Puts the offsets of [`snapshot_offsets`] back: the first thing a replaying copy does.
pub fn restore_offsets(offsets: &[(RawFd, i64)]) {
    for &(fd, offset) in offsets {
        // SAFETY: as in snapshot_offsets; a descriptor closed since simply fails.
        unsafe { libc::lseek(fd, offset, libc::SEEK_SET) };
    }
}

/// The agent's own fork (checkpoints and their copies): libc's fork, not counted as the program
/// starting a process. `None` in the child. Only for a single-threaded process (the agent is).
pub fn fork_real() -> std::io::Result<Option<rustix::process::Pid>> {
    // SAFETY: fork has no memory-safety preconditions for a single-threaded caller; the child
    // continues with a copy of this thread's state.
    let pid = unsafe { real::fork()() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(rustix::process::Pid::from_raw(pid))
}

// ============================================================================================
// Process state
// ============================================================================================

/// Recording/replaying is on. The only thing the interposed functions look at when it is off.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// See [`set_read_only`].
static READ_ONLY: AtomicBool = AtomicBool::new(false);
/// Nesting count of [`pause`].
static PAUSE: AtomicU32 = AtomicU32::new(0);
/// Set while an interposed function is inside the layer: a signal handler's `write` (CPython's
/// wakeup fd) arriving in the middle of an append must not append in turn.
static IN_LAYER: AtomicBool = AtomicBool::new(false);
/// This process's position in the log. Private memory: a forked copy inherits its parent's
/// value, which is exactly its place in the recorded history.
static CURSOR: AtomicU64 = AtomicU64::new(0);
/// This process's position in the stdin stream, inherited the same way.
static STDIN_CURSOR: AtomicU64 = AtomicU64::new(0);
/// The shared regions, created by the first [`start_recording`].
static SHARED: OnceLock<Shared> = OnceLock::new();
static OFF_HANDLER: AtomicPtr<()> = AtomicPtr::new(ptr::null_mut());
static DIVERGENCE_HANDLER: AtomicPtr<()> = AtomicPtr::new(ptr::null_mut());

const AGENT_FD_SLOTS: usize = 16;
const NO_FD: RawFd = -1;
static AGENT_FDS: [AtomicI32; AGENT_FD_SLOTS] = [const { AtomicI32::new(NO_FD) }; AGENT_FD_SLOTS];

fn is_agent_fd(fd: RawFd) -> bool {
    fd != NO_FD && AGENT_FDS.iter().any(|s| s.load(Ordering::Relaxed) == fd)
}

/// Turns the layer off (only the first time does anything) and tells the agent why.
fn turn_off(reason: &'static str) {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _pause = pause();
    let handler = OFF_HANDLER.load(Ordering::SeqCst);
    if !handler.is_null() {
        // SAFETY: OFF_HANDLER only ever holds a `fn(&'static str)` (set_off_handler).
        let handler = unsafe { std::mem::transmute::<*mut (), fn(&'static str)>(handler) };
        handler(reason);
    }
}

fn errno() -> c_int {
    // SAFETY: __errno_location returns this thread's errno slot, always valid.
    unsafe { *libc::__errno_location() }
}

fn set_errno(value: c_int) {
    // SAFETY: as in errno().
    unsafe { *libc::__errno_location() = value };
}

// ============================================================================================
// Shared regions: the log and the stdin stream
// ============================================================================================

/// Bytes before the data of a region; its first 8 hold the length (AtomicU64).
const REGION_HEADER: u64 = 64;

struct Shared {
    log: Region,
    stdin: Region,
}

/// `MAP_SHARED | MAP_ANONYMOUS` memory: every process forked after the mapping sees the same
/// bytes. Header: `len` (bytes of data in use). Data: `capacity` bytes after the header.
struct Region {
    base: NonNull<u8>,
    capacity: u64,
}

// SAFETY: a Region is plain shared memory; the layer is used by one thread at a time (the
// agent is single-threaded while it is on), and `len` is atomic.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Region {
    fn map(capacity: u64) -> Result<Region, ReplayError> {
        let bytes = capacity + REGION_HEADER;
        let map_error = |source| ReplayError::Map { bytes, source };
        let size = usize::try_from(bytes)
            .map_err(|_| map_error(std::io::Error::from(std::io::ErrorKind::InvalidInput)))?;
        // SAFETY: a new anonymous mapping at an address of the kernel's choosing touches no
        // existing memory.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(map_error(std::io::Error::last_os_error()));
        }
        // Fresh anonymous memory is zeroed: `len` starts at 0.
        let base = NonNull::new(base.cast::<u8>())
            .ok_or_else(|| map_error(std::io::Error::from(std::io::ErrorKind::AddrNotAvailable)))?;
        Ok(Region { base, capacity })
    }

    fn unmap(self) {
        // SAFETY: the mapping was never handed out (it lost the race to be the shared one).
        unsafe {
            libc::munmap(
                self.base.as_ptr().cast(),
                (self.capacity + REGION_HEADER) as usize,
            )
        };
    }

    fn len(&self) -> &AtomicU64 {
        // SAFETY: the mapping starts with 8 page-aligned bytes reserved for this counter.
        unsafe { &*self.base.as_ptr().cast::<AtomicU64>() }
    }

    /// Data bytes `start..end`, which must lie within the capacity.
    fn slice(&self, start: u64, end: u64) -> &[u8] {
        debug_assert!(start <= end && end <= self.capacity);
        // SAFETY: in bounds of the mapping (callers check against len ≤ capacity); only this
        // process touches the region while it runs.
        unsafe {
            std::slice::from_raw_parts(
                self.base.as_ptr().add((REGION_HEADER + start) as usize),
                (end - start) as usize,
            )
        }
    }

    /// Copies `bytes` to data offset `at`; `at + bytes.len()` must lie within the capacity.
    fn write_at(&self, at: u64, bytes: &[u8]) {
        debug_assert!(at + bytes.len() as u64 <= self.capacity);
        // SAFETY: in bounds (checked by the callers against the capacity); the source is the
        // caller's memory, never this region.
        unsafe {
            ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.base.as_ptr().add((REGION_HEADER + at) as usize),
                bytes.len(),
            )
        };
    }

    /// Copies the first `n` bytes held by `iovs` to data offset `at` (within the capacity).
    ///
    /// # Safety
    /// Every iovec must describe memory readable for its length, up to `n` bytes in all.
    unsafe fn gather_at(&self, at: u64, iovs: &[iovec], n: usize) {
        let mut at = at;
        let mut left = n;
        for iov in iovs {
            if left == 0 {
                break;
            }
            let take = iov.iov_len.min(left);
            // SAFETY: the caller vouches for the iovecs; `take` is within this one.
            let bytes = unsafe { std::slice::from_raw_parts(iov.iov_base.cast::<u8>(), take) };
            self.write_at(at, bytes);
            at += take as u64;
            left -= take;
        }
    }
}

// ============================================================================================
// Record format
// ============================================================================================
//
// A record is a 32-byte header and a payload padded to 8 bytes, so every record starts 8-byte
// aligned. Header, little-endian:
//   0..2 magic   2..4 kind   4..8 fd (or clock id; -1 when none)   8..16 result
//   16..20 errno (0 unless the call failed)   20..24 flags   24..32 payload length

const HEADER_BYTES: usize = 32;
const MAGIC: u16 = 0x5e1e;

/// Read/Write: pread64/pwrite64 (the offset is the call's, not the descriptor's).
const FLAG_POSITIONED: u32 = 1;
/// Sleep: nanosleep rather than clock_nanosleep (whose flags are TIMER_ABSTIME or 0).
const FLAG_NANOSLEEP: u32 = 1 << 31;

// FsChange: which call.
const FS_UNLINK: u32 = 1;
const FS_UNLINKAT: u32 = 2;
const FS_RENAME: u32 = 3;
const FS_RENAMEAT: u32 = 4;
const FS_MKDIR: u32 = 5;
const FS_MKDIRAT: u32 = 6;
const FS_RMDIR: u32 = 7;

/// What a record stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
enum Kind {
    /// read/readv/recv/pread64 of a descriptor other than stdin: payload = the data.
    Read = 1,
    /// write/writev/send/pwrite64: the count only.
    Write = 2,
    /// clock_gettime: fd = the clock id, payload = the timespec.
    Clock = 3,
    /// gettimeofday: payload = the timeval.
    TimeOfDay = 4,
    /// time: result = the time.
    Time = 5,
    /// getrandom: flags = its flags, payload = the bytes.
    Random = 6,
    /// clock_nanosleep/nanosleep: the result, and the remaining time when interrupted.
    Sleep = 7,
    /// A read of fd 0: result = n, the bytes are in the stdin stream.
    Stdin = 8,
    /// open/open64/openat/openat64: flags = the program's flags, result = the descriptor;
    /// payload = the size of a regular file as opened (8 bytes), else nothing.
    Open = 9,
    /// unlink, rename, mkdir, ...: flags = which (`FS_*`), the result only.
    FsChange = 10,
}

impl Kind {
    fn from_u16(raw: u16) -> Option<Kind> {
        Some(match raw {
            1 => Kind::Read,
            2 => Kind::Write,
            3 => Kind::Clock,
            4 => Kind::TimeOfDay,
            5 => Kind::Time,
            6 => Kind::Random,
            7 => Kind::Sleep,
            8 => Kind::Stdin,
            9 => Kind::Open,
            10 => Kind::FsChange,
            _ => return None,
        })
    }

    /// Whether `payload_len` is what a record of this kind with this result carries.
    fn payload_fits(self, result: i64, payload_len: u64) -> bool {
        match self {
            Kind::Read | Kind::Random => payload_len == result.max(0) as u64,
            Kind::Write | Kind::Time | Kind::Stdin | Kind::FsChange => payload_len == 0,
            Kind::Open => payload_len == 0 || payload_len == size_of::<u64>() as u64,
            Kind::Clock | Kind::Sleep => {
                payload_len == 0 || payload_len == size_of::<timespec>() as u64
            }
            Kind::TimeOfDay => payload_len == 0 || payload_len == size_of::<timeval>() as u64,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    kind: Kind,
    fd: i32,
    result: i64,
    errno: i32,
    flags: u32,
    payload_len: u64,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        out[0..2].copy_from_slice(&MAGIC.to_le_bytes());
        out[2..4].copy_from_slice(&(self.kind as u16).to_le_bytes());
        out[4..8].copy_from_slice(&self.fd.to_le_bytes());
        out[8..16].copy_from_slice(&self.result.to_le_bytes());
        out[16..20].copy_from_slice(&self.errno.to_le_bytes());
        out[20..24].copy_from_slice(&self.flags.to_le_bytes());
        out[24..32].copy_from_slice(&self.payload_len.to_le_bytes());
        out
    }

    /// Bytes the whole record takes in the log.
    fn record_bytes(&self) -> u64 {
        HEADER_BYTES as u64 + self.payload_len.next_multiple_of(8)
    }
}

/// Why bytes at a cursor are not a record.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum DecodeError {
    #[error("the log ends inside a record")]
    Short,
    #[error("no record starts here")]
    Magic,
    #[error("unknown record kind {0}")]
    Kind(u16),
    #[error("payload length {payload_len} does not fit a {kind:?} record with result {result}")]
    Payload {
        kind: Kind,
        result: i64,
        payload_len: u64,
    },
}

/// A decoded record; the payload borrows from the log.
#[derive(Debug)]
struct Record<'a> {
    header: Header,
    payload: &'a [u8],
}

impl Record<'_> {
    /// The recorded outcome as the interposed function returns it (errno set if it failed).
    fn outcome(&self) -> i64 {
        if self.header.errno != 0 {
            set_errno(self.header.errno);
        }
        self.header.result
    }
}

fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

/// Decodes the record at the start of `bytes` (the log from a cursor to its end).
fn decode(bytes: &[u8]) -> Result<Record<'_>, DecodeError> {
    if bytes.len() < HEADER_BYTES {
        return Err(DecodeError::Short);
    }
    if u16::from_le_bytes(field(bytes, 0)) != MAGIC {
        return Err(DecodeError::Magic);
    }
    let raw_kind = u16::from_le_bytes(field(bytes, 2));
    let kind = Kind::from_u16(raw_kind).ok_or(DecodeError::Kind(raw_kind))?;
    let header = Header {
        kind,
        fd: i32::from_le_bytes(field(bytes, 4)),
        result: i64::from_le_bytes(field(bytes, 8)),
        errno: i32::from_le_bytes(field(bytes, 16)),
        flags: u32::from_le_bytes(field(bytes, 20)),
        payload_len: u64::from_le_bytes(field(bytes, 24)),
    };
    if !kind.payload_fits(header.result, header.payload_len) {
        return Err(DecodeError::Payload {
            kind,
            result: header.result,
            payload_len: header.payload_len,
        });
    }
    if header.record_bytes() > bytes.len() as u64 {
        return Err(DecodeError::Short);
    }
    let payload = &bytes[HEADER_BYTES..HEADER_BYTES + header.payload_len as usize];
    Ok(Record { header, payload })
}

// ============================================================================================
// The engine: entering the layer, matching the next record, appending
// ============================================================================================

/// What a call made now must match to be the next record's call.
struct Expect {
    kind: Kind,
    fd: i32,
    flags: u32,
    /// The largest non-negative result the call can return (its buffer size).
    room: u64,
}

impl Expect {
    fn new(kind: Kind, fd: i32, flags: u32) -> Expect {
        Expect {
            kind,
            fd,
            flags,
            room: u64::MAX,
        }
    }

    fn room(self, room: usize) -> Expect {
        Expect {
            room: room as u64,
            ..self
        }
    }

    fn matches(&self, header: &Header) -> bool {
        header.kind == self.kind
            && header.fd == self.fd
            && header.flags == self.flags
            && (header.result < 0 || header.result as u64 <= self.room)
    }
}

/// How the call goes on.
enum Next<'a> {
    /// Not ours to record (the layer just turned off): the real call only.
    Pass,
    /// At the end of the log: the real call, then append its outcome.
    Live,
    /// This record is the call's outcome; the cursor is already past it.
    Replay(Record<'a>),
}

/// Proof that an interposed call is inside the layer: recording or replaying, not paused, not
/// reentered. Dropping it leaves.
struct Entered {
    shared: &'static Shared,
}

impl Drop for Entered {
    fn drop(&mut self) {
        IN_LAYER.store(false, Ordering::Release);
    }
}

/// Enters the layer for a call on `fd` (if any), or says the call passes through. Only called
/// after ACTIVE was seen set.
fn enter(fd: Option<RawFd>) -> Option<Entered> {
    if PAUSE.load(Ordering::Relaxed) != 0 || fd.is_some_and(is_agent_fd) {
        return None;
    }
    let shared = SHARED.get()?;
    if IN_LAYER.swap(true, Ordering::Acquire) {
        return None;
    }
    Some(Entered { shared })
}

impl Entered {
    fn next(&self, expect: Expect) -> Next<'static> {
        let log = &self.shared.log;
        let len = log.len().load(Ordering::Acquire);
        let cursor = CURSOR.load(Ordering::Relaxed);
        if cursor == len {
            if READ_ONLY.load(Ordering::Relaxed) {
                self.diverge_at(cursor);
            }
            return Next::Live;
        }
        if cursor > len {
            turn_off(OFF_DISCARDED);
            return Next::Pass;
        }
        let bytes: &'static [u8] = self.shared.log.slice(cursor, len);
        match decode(bytes) {
            Ok(record) if expect.matches(&record.header) => {
                CURSOR.store(cursor + record.header.record_bytes(), Ordering::Relaxed);
                Next::Replay(record)
            }
            _ => {
                self.diverge_at(cursor);
                Next::Live
            }
        }
    }

    /// The program took another path than the recorded one: a new timeline starts here.
    fn diverge_at(&self, cursor: u64) {
        let handler = DIVERGENCE_HANDLER.load(Ordering::SeqCst);
        if !handler.is_null() {
            let _pause = pause();
            // SAFETY: DIVERGENCE_HANDLER only ever holds a `fn()` (set_divergence_handler).
            let handler = unsafe { std::mem::transmute::<*mut (), fn()>(handler) };
            handler();
        }
        if !READ_ONLY.load(Ordering::Relaxed) {
            self.shared.log.len().store(cursor, Ordering::Release);
        }
    }

    /// Appends a live call's outcome at the end of the log (which is this process's cursor).
    /// When the log is full the layer turns off instead (the call's outcome still stands).
    fn append(&self, kind: Kind, fd: i32, flags: u32, result: i64, err: c_int, payload: Payload) {
        let header = Header {
            kind,
            fd,
            result,
            // Success leaves errno alone (clock_nanosleep returns its error number instead).
            errno: if result < 0 { err } else { 0 },
            flags,
            payload_len: payload.len() as u64,
        };
        let log = &self.shared.log;
        let at = CURSOR.load(Ordering::Relaxed);
        let end = at + header.record_bytes();
        if end > log.capacity {
            turn_off(OFF_FULL);
            return;
        }
        log.write_at(at, &header.encode());
        let data_at = at + HEADER_BYTES as u64;
        match payload {
            Payload::None => {}
            Payload::Bytes(bytes) => log.write_at(data_at, bytes),
            // SAFETY: Payload::Gather is only built from the iovecs a live call just filled.
            Payload::Gather(iovs, n) => unsafe { log.gather_at(data_at, iovs, n) },
        }
        let padded = data_at + header.payload_len;
        log.write_at(padded, &[0u8; 8][..(end - padded) as usize]);
        log.len().store(end, Ordering::Release);
        CURSOR.store(end, Ordering::Relaxed);
    }

    /// Appends bytes a live read of stdin got to the stdin stream. False when full (layer off).
    ///
    /// # Safety
    /// As [`Region::gather_at`].
    unsafe fn append_stdin(&self, iovs: &[iovec], n: usize) -> bool {
        let stream = &self.shared.stdin;
        let at = stream.len().load(Ordering::Acquire);
        if at + n as u64 > stream.capacity {
            turn_off(OFF_FULL);
            return false;
        }
        // SAFETY: passed on from the caller.
        unsafe { stream.gather_at(at, iovs, n) };
        stream.len().store(at + n as u64, Ordering::Release);
        STDIN_CURSOR.store(at + n as u64, Ordering::Relaxed);
        true
    }
}

/// A record's payload, as the live call left it.
enum Payload<'a> {
    None,
    Bytes(&'a [u8]),
    /// The first n bytes of these buffers.
    Gather(&'a [iovec], usize),
}

impl Payload<'_> {
    fn len(&self) -> usize {
        match self {
            Payload::None => 0,
            Payload::Bytes(bytes) => bytes.len(),
            Payload::Gather(_, n) => *n,
        }
    }
}

/// The caller's buffers of a readv/writev, or None if the real call is to judge them invalid.
///
/// # Safety
/// `iov` must point to `count` iovecs if `count` is positive (the function's contract).
unsafe fn iovecs<'a>(iov: *const iovec, count: c_int) -> Option<&'a [iovec]> {
    if !(0..=libc::UIO_MAXIOV).contains(&count) || (iov.is_null() && count > 0) {
        return None;
    }
    if count == 0 {
        return Some(&[]);
    }
    // SAFETY: the caller's contract.
    Some(unsafe { std::slice::from_raw_parts(iov, count as usize) })
}

/// Total size of the buffers, or None if it overflows (the real call fails then).
fn total(iovs: &[iovec]) -> Option<usize> {
    iovs.iter()
        .try_fold(0usize, |sum, iov| sum.checked_add(iov.iov_len))
}

/// Copies `data` into the buffers in order.
///
/// # Safety
/// Every iovec must describe writable memory of its length; `data` fits (it was checked
/// against the total when the record matched).
unsafe fn scatter(iovs: &[iovec], data: &[u8]) {
    let mut rest = data;
    for iov in iovs {
        if rest.is_empty() {
            break;
        }
        let take = iov.iov_len.min(rest.len());
        // SAFETY: the caller's contract; `take` is within this buffer; the log and the
        // caller's buffer never overlap.
        unsafe { ptr::copy_nonoverlapping(rest.as_ptr(), iov.iov_base.cast::<u8>(), take) };
        rest = &rest[take..];
    }
}

/// Moves a regular file's offset as the recorded read or write did, so that it stays where the
/// original run had it (offsets were put back as they were at the checkpoint). Appending writes
/// and non-files (pipes, sockets, terminals) have no offset to keep.
fn advance_offset(fd: c_int, n: i64, writing: bool) {
    if n <= 0 {
        return;
    }
    let saved = errno();
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` into the memory we pass.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } == 0 {
        // SAFETY: fstat succeeded, so it filled `stat`.
        let stat = unsafe { stat.assume_init() };
        // SAFETY: F_GETFL only reads the descriptor's flags.
        let appending =
            writing && (unsafe { libc::fcntl(fd, libc::F_GETFL) } & libc::O_APPEND) != 0;
        if stat.st_mode & libc::S_IFMT == libc::S_IFREG && !appending {
            // SAFETY: lseek touches no memory of ours.
            unsafe { libc::lseek(fd, n, libc::SEEK_CUR) };
        }
    }
    set_errno(saved);
}

// ============================================================================================
// Real libc functions
// ============================================================================================

/// libc's definitions, found with `dlsym(RTLD_NEXT)` (the next object after the sleepy
/// executable that defines the name) on first use and cached.
mod real {
    use super::*;

    type OpenFn = unsafe extern "C" fn(*const c_char, c_int, ...) -> c_int;
    type OpenatFn = unsafe extern "C" fn(c_int, *const c_char, c_int, ...) -> c_int;
    type SpawnFn = unsafe extern "C" fn(
        *mut pid_t,
        *const c_char,
        *const posix_spawn_file_actions_t,
        *const posix_spawnattr_t,
        *const *mut c_char,
        *const *mut c_char,
    ) -> c_int;
    type ThreadFn = unsafe extern "C" fn(
        *mut pthread_t,
        *const pthread_attr_t,
        extern "C" fn(*mut c_void) -> *mut c_void,
        *mut c_void,
    ) -> c_int;

    macro_rules! real_fns {
        ($($name:ident: $ty:ty;)*) => {$(
            pub(super) fn $name() -> $ty {
                static CACHE: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
                let f = resolve(&CACHE, concat!(stringify!($name), "\0"));
                // SAFETY: `f` is libc's definition of this very function, whose C type is $ty.
                unsafe { std::mem::transmute::<*mut c_void, $ty>(f) }
            }
        )*};
    }

    real_fns! {
        read: unsafe extern "C" fn(c_int, *mut c_void, size_t) -> ssize_t;
        readv: unsafe extern "C" fn(c_int, *const iovec, c_int) -> ssize_t;
        pread64: unsafe extern "C" fn(c_int, *mut c_void, size_t, off64_t) -> ssize_t;
        recv: unsafe extern "C" fn(c_int, *mut c_void, size_t, c_int) -> ssize_t;
        write: unsafe extern "C" fn(c_int, *const c_void, size_t) -> ssize_t;
        writev: unsafe extern "C" fn(c_int, *const iovec, c_int) -> ssize_t;
        pwrite64: unsafe extern "C" fn(c_int, *const c_void, size_t, off64_t) -> ssize_t;
        send: unsafe extern "C" fn(c_int, *const c_void, size_t, c_int) -> ssize_t;
        clock_gettime: unsafe extern "C" fn(clockid_t, *mut timespec) -> c_int;
        gettimeofday: unsafe extern "C" fn(*mut timeval, *mut c_void) -> c_int;
        time: unsafe extern "C" fn(*mut time_t) -> time_t;
        getrandom: unsafe extern "C" fn(*mut c_void, size_t, c_uint) -> ssize_t;
        clock_nanosleep: unsafe extern "C" fn(clockid_t, c_int, *const timespec, *mut timespec) -> c_int;
        nanosleep: unsafe extern "C" fn(*const timespec, *mut timespec) -> c_int;
        open: OpenFn;
        open64: OpenFn;
        openat: OpenatFn;
        openat64: OpenatFn;
        unlink: unsafe extern "C" fn(*const c_char) -> c_int;
        unlinkat: unsafe extern "C" fn(c_int, *const c_char, c_int) -> c_int;
        rename: unsafe extern "C" fn(*const c_char, *const c_char) -> c_int;
        renameat: unsafe extern "C" fn(c_int, *const c_char, c_int, *const c_char) -> c_int;
        mkdir: unsafe extern "C" fn(*const c_char, libc::mode_t) -> c_int;
        mkdirat: unsafe extern "C" fn(c_int, *const c_char, libc::mode_t) -> c_int;
        rmdir: unsafe extern "C" fn(*const c_char) -> c_int;
        fork: unsafe extern "C" fn() -> pid_t;
        posix_spawn: SpawnFn;
        posix_spawnp: SpawnFn;
        system: unsafe extern "C" fn(*const c_char) -> c_int;
        pthread_create: ThreadFn;
    }

    /// `name` is NUL-terminated.
    fn resolve(cache: &AtomicPtr<c_void>, name: &'static str) -> *mut c_void {
        let cached = cache.load(Ordering::Acquire);
        if !cached.is_null() {
            return cached;
        }
        // SAFETY: `name` is a NUL-terminated string (the macro appends the NUL).
        let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr().cast()) };
        if found.is_null() {
            missing(name);
        }
        cache.store(found, Ordering::Release);
        found
    }

    /// Without libc's function there is nothing sensible to return: report and abort. The
    /// message goes out by a raw system call, since `write` may be the missing function.
    #[cold]
    fn missing(name: &str) -> ! {
        let message = format!(
            "sleepy: libc has no `{}` to forward to\n",
            name.trim_end_matches('\0')
        );
        // SAFETY: a write(2) system call of a buffer we own.
        unsafe { libc::syscall(libc::SYS_write, 2, message.as_ptr(), message.len()) };
        std::process::abort()
    }
}

// ============================================================================================
// Interposed: reads (read, readv, pread64, recv) and stdin
// ============================================================================================
//
// Every interposed function below is `pub unsafe extern "C"` with libc's exact signature and
// contract, and starts with the one check that makes it free when the layer is off.

/// Interposed `read`.
///
/// # Safety
/// libc's contract for `read`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's read unchanged.
        return unsafe { real::read()(fd, buf, count) };
    }
    // SAFETY: passed on.
    unsafe { read_recorded(fd, buf, count) }
}

/// The recording/replaying side of [`read`].
///
/// # Safety
/// libc's contract for `read`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn read_recorded(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's read unchanged.
    let real = move || unsafe { real::read()(fd, buf, count) };
    let iovs = [iovec {
        iov_base: buf,
        iov_len: count,
    }];
    // SAFETY: `buf` is writable for `count` bytes (read's contract).
    unsafe { read_like(fd, &iovs, ReadKind::Stream, real) }
}

/// Interposed `readv`.
///
/// # Safety
/// libc's contract for `readv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's readv unchanged.
        return unsafe { real::readv()(fd, iov, iovcnt) };
    }
    // SAFETY: passed on.
    unsafe { readv_recorded(fd, iov, iovcnt) }
}

/// The recording/replaying side of [`readv`].
///
/// # Safety
/// libc's contract for `readv`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn readv_recorded(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's readv unchanged.
    let real = move || unsafe { real::readv()(fd, iov, iovcnt) };
    // SAFETY: readv's contract: `iov` points to `iovcnt` iovecs of writable buffers.
    match unsafe { iovecs(iov, iovcnt) } {
        // SAFETY: the same contract: the buffers are writable for their lengths.
        Some(iovs) => unsafe { read_like(fd, iovs, ReadKind::Stream, real) },
        None => real(),
    }
}

/// Interposed `pread64` (what libpython imports for `os.pread`; `pread` is the same function
/// in glibc on 64-bit targets, reached by nothing that matters here).
///
/// # Safety
/// libc's contract for `pread64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pread64(
    fd: c_int,
    buf: *mut c_void,
    count: size_t,
    offset: off64_t,
) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's pread64 unchanged.
        return unsafe { real::pread64()(fd, buf, count, offset) };
    }
    // SAFETY: passed on.
    unsafe { pread64_recorded(fd, buf, count, offset) }
}

/// The recording/replaying side of [`pread64`].
///
/// # Safety
/// libc's contract for `pread64`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn pread64_recorded(fd: c_int, buf: *mut c_void, count: size_t, offset: off64_t) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's pread64 unchanged.
    let real = move || unsafe { real::pread64()(fd, buf, count, offset) };
    let iovs = [iovec {
        iov_base: buf,
        iov_len: count,
    }];
    // SAFETY: `buf` is writable for `count` bytes (pread64's contract).
    unsafe { read_like(fd, &iovs, ReadKind::Positioned, real) }
}

/// Interposed `recv`.
///
/// # Safety
/// libc's contract for `recv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's recv unchanged.
        return unsafe { real::recv()(fd, buf, len, flags) };
    }
    // SAFETY: passed on.
    unsafe { recv_recorded(fd, buf, len, flags) }
}

/// The recording/replaying side of [`recv`].
///
/// # Safety
/// libc's contract for `recv`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn recv_recorded(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's recv unchanged.
    let real = move || unsafe { real::recv()(fd, buf, len, flags) };
    let iovs = [iovec {
        iov_base: buf,
        iov_len: len,
    }];
    // A peek at stdin must not consume the stdin stream.
    let kind = if flags == 0 {
        ReadKind::Stream
    } else {
        ReadKind::Socket
    };
    // SAFETY: `buf` is writable for `len` bytes (recv's contract).
    unsafe { read_like(fd, &iovs, kind, real) }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadKind {
    /// read/readv/recv: consumes the descriptor's data or moves its offset; fd 0 is stdin.
    Stream,
    /// recv with flags: never the stdin stream.
    Socket,
    /// pread64: leaves the offset alone.
    Positioned,
}

/// A read into `iovs`: recorded with its data, replayed from it.
///
/// # Safety
/// Every iovec describes writable memory of its length; `real` is the call itself.
unsafe fn read_like(
    fd: c_int,
    iovs: &[iovec],
    kind: ReadKind,
    real: impl FnOnce() -> ssize_t,
) -> ssize_t {
    let (Some(layer), Some(room)) = (enter(Some(fd)), total(iovs)) else {
        return real();
    };
    if fd == 0 && kind == ReadKind::Stream {
        // SAFETY: passed on.
        return unsafe { stdin_read(&layer, iovs, room, real) };
    }
    let flags = if kind == ReadKind::Positioned {
        FLAG_POSITIONED
    } else {
        0
    };
    match layer.next(Expect::new(Kind::Read, fd, flags).room(room)) {
        Next::Pass => real(),
        Next::Replay(record) => {
            // SAFETY: the caller's buffers; the record's data fits `room` (Expect::matches).
            unsafe { scatter(iovs, record.payload) };
            if kind != ReadKind::Positioned {
                advance_offset(fd, record.header.result, false);
            }
            record.outcome() as ssize_t
        }
        Next::Live => {
            let (n, err) = if reads_a_stand_in(fd) {
                (-1, libc::EIO)
            } else {
                let n = real();
                (n, errno())
            };
            let payload = if n > 0 {
                Payload::Gather(iovs, n as usize)
            } else {
                Payload::None
            };
            layer.append(Kind::Read, fd, flags, n as i64, err, payload);
            set_errno(err);
            n
        }
    }
}

/// A read of fd 0. Its bytes live in the stdin stream, which no new timeline cuts: bytes a
/// discarded future read are served again before the terminal (or pipe) is asked for more.
///
/// # Safety
/// As [`read_like`]; `room` is the buffers' total size.
unsafe fn stdin_read(
    layer: &Entered,
    iovs: &[iovec],
    room: usize,
    real: impl FnOnce() -> ssize_t,
) -> ssize_t {
    let stream = &layer.shared.stdin;
    match layer.next(Expect::new(Kind::Stdin, 0, 0).room(room)) {
        Next::Pass => real(),
        Next::Replay(record) => {
            let n = record.header.result.max(0) as u64;
            let at = STDIN_CURSOR.load(Ordering::Relaxed);
            // A record always has its bytes in the stream (the stream is never cut, and the
            // cursors were inherited together); a violation means corrupted state.
            if at + n > stream.len().load(Ordering::Acquire) {
                turn_off(OFF_DISCARDED);
                return real();
            }
            // SAFETY: the caller's buffers; n ≤ room (Expect::matches).
            unsafe { scatter(iovs, stream.slice(at, at + n)) };
            STDIN_CURSOR.store(at + n, Ordering::Relaxed);
            // A regular file as stdin keeps its offset as the original run left it.
            advance_offset(0, n as i64, false);
            record.outcome() as ssize_t
        }
        Next::Live => {
            let at = STDIN_CURSOR.load(Ordering::Relaxed);
            let available = stream.len().load(Ordering::Acquire).saturating_sub(at);
            if available > 0 {
                let n = available.min(room as u64);
                // SAFETY: the caller's buffers; n ≤ room.
                unsafe { scatter(iovs, stream.slice(at, at + n)) };
                STDIN_CURSOR.store(at + n, Ordering::Relaxed);
                advance_offset(0, n as i64, false);
                layer.append(Kind::Stdin, 0, 0, n as i64, 0, Payload::None);
                return n as ssize_t;
            }
            let n = real();
            let err = errno();
            // SAFETY: the real read just filled the first n bytes of the caller's buffers.
            if n > 0 && !unsafe { layer.append_stdin(iovs, n as usize) } {
                set_errno(err);
                return n;
            }
            layer.append(Kind::Stdin, 0, 0, n as i64, err, Payload::None);
            set_errno(err);
            n
        }
    }
}

// ============================================================================================
// Interposed: writes (write, writev, pwrite64, send)
// ============================================================================================

/// Interposed `write`.
///
/// # Safety
/// libc's contract for `write`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's write unchanged.
        return unsafe { real::write()(fd, buf, count) };
    }
    // SAFETY: passed on.
    unsafe { write_recorded(fd, buf, count) }
}

/// The recording/replaying side of [`write`].
///
/// # Safety
/// libc's contract for `write`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn write_recorded(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's write unchanged.
    let real = move || unsafe { real::write()(fd, buf, count) };
    write_like(fd, count, false, real)
}

/// Interposed `writev`.
///
/// # Safety
/// libc's contract for `writev`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's writev unchanged.
        return unsafe { real::writev()(fd, iov, iovcnt) };
    }
    // SAFETY: passed on.
    unsafe { writev_recorded(fd, iov, iovcnt) }
}

/// The recording/replaying side of [`writev`].
///
/// # Safety
/// libc's contract for `writev`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn writev_recorded(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's writev unchanged.
    let real = move || unsafe { real::writev()(fd, iov, iovcnt) };
    // SAFETY: writev's contract: `iov` points to `iovcnt` iovecs.
    match unsafe { iovecs(iov, iovcnt) }.and_then(total) {
        Some(count) => write_like(fd, count, false, real),
        None => real(),
    }
}

/// Interposed `pwrite64` (libpython's import for `os.pwrite`).
///
/// # Safety
/// libc's contract for `pwrite64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pwrite64(
    fd: c_int,
    buf: *const c_void,
    count: size_t,
    offset: off64_t,
) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's pwrite64 unchanged.
        return unsafe { real::pwrite64()(fd, buf, count, offset) };
    }
    // SAFETY: passed on.
    unsafe { pwrite64_recorded(fd, buf, count, offset) }
}

/// The recording/replaying side of [`pwrite64`].
///
/// # Safety
/// libc's contract for `pwrite64`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn pwrite64_recorded(
    fd: c_int,
    buf: *const c_void,
    count: size_t,
    offset: off64_t,
) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's pwrite64 unchanged.
    let real = move || unsafe { real::pwrite64()(fd, buf, count, offset) };
    write_like(fd, count, true, real)
}

/// Interposed `send`.
///
/// # Safety
/// libc's contract for `send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's send unchanged.
        return unsafe { real::send()(fd, buf, len, flags) };
    }
    // SAFETY: passed on.
    unsafe { send_recorded(fd, buf, len, flags) }
}

/// The recording/replaying side of [`send`].
///
/// # Safety
/// libc's contract for `send`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn send_recorded(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's send unchanged.
    let real = move || unsafe { real::send()(fd, buf, len, flags) };
    write_like(fd, len, false, real)
}

/// A write: recorded as its count; replayed by returning the count without writing.
fn write_like(
    fd: c_int,
    count: usize,
    positioned: bool,
    real: impl FnOnce() -> ssize_t,
) -> ssize_t {
    let Some(layer) = enter(Some(fd)) else {
        return real();
    };
    let flags = if positioned { FLAG_POSITIONED } else { 0 };
    match layer.next(Expect::new(Kind::Write, fd, flags).room(count)) {
        Next::Pass => real(),
        Next::Replay(record) => {
            if !positioned {
                advance_offset(fd, record.header.result, true);
            }
            record.outcome() as ssize_t
        }
        Next::Live => {
            let n = real();
            let err = errno();
            layer.append(Kind::Write, fd, flags, n as i64, err, Payload::None);
            set_errno(err);
            n
        }
    }
}

// ============================================================================================
// Interposed: clocks and randomness (clock_gettime, gettimeofday, time, getrandom)
// ============================================================================================

/// Interposed `clock_gettime`.
///
/// # Safety
/// libc's contract for `clock_gettime`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clock_gettime(clock: clockid_t, tp: *mut timespec) -> c_int {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's clock_gettime unchanged.
        return unsafe { real::clock_gettime()(clock, tp) };
    }
    // SAFETY: passed on.
    unsafe { clock_gettime_recorded(clock, tp) }
}

/// The recording/replaying side of [`clock_gettime`].
///
/// # Safety
/// libc's contract for `clock_gettime`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn clock_gettime_recorded(clock: clockid_t, tp: *mut timespec) -> c_int {
    // SAFETY: the caller's arguments go to libc's clock_gettime unchanged.
    let real = move || unsafe { real::clock_gettime()(clock, tp) };
    let expect = Expect::new(Kind::Clock, clock, 0);
    // SAFETY: `tp` is null or writable (clock_gettime's contract).
    unsafe { struct_call(expect, tp, |result, _| result == 0, || real() as i64) as c_int }
}

/// Interposed `gettimeofday` (the obsolete timezone argument is answered live).
///
/// # Safety
/// libc's contract for `gettimeofday`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gettimeofday(tv: *mut timeval, tz: *mut c_void) -> c_int {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's gettimeofday unchanged.
        return unsafe { real::gettimeofday()(tv, tz) };
    }
    // SAFETY: passed on.
    unsafe { gettimeofday_recorded(tv, tz) }
}

/// The recording/replaying side of [`gettimeofday`].
///
/// # Safety
/// libc's contract for `gettimeofday`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn gettimeofday_recorded(tv: *mut timeval, tz: *mut c_void) -> c_int {
    if !tz.is_null() {
        let mut scratch = MaybeUninit::<timeval>::uninit();
        // SAFETY: `tz` is writable (the contract); `scratch` is ours.
        unsafe { real::gettimeofday()(scratch.as_mut_ptr(), tz) };
    }
    let expect = Expect::new(Kind::TimeOfDay, -1, 0);
    // SAFETY: `tv` is null or writable (the contract).
    let real = move || unsafe { real::gettimeofday()(tv, ptr::null_mut()) } as i64;
    // SAFETY: as above.
    unsafe { struct_call(expect, tv, |result, _| result == 0, real) as c_int }
}

/// Interposed `time`.
///
/// # Safety
/// libc's contract for `time`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn time(out: *mut time_t) -> time_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's argument goes to libc's time unchanged.
        return unsafe { real::time()(out) };
    }
    // SAFETY: passed on.
    unsafe { time_recorded(out) }
}

/// The recording/replaying side of [`time`].
///
/// # Safety
/// libc's contract for `time`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn time_recorded(out: *mut time_t) -> time_t {
    // SAFETY: libc's time, with the caller's pointer or none.
    let real = move |out| unsafe { real::time()(out) };
    let Some(layer) = enter(None) else {
        return real(out);
    };
    let value = match layer.next(Expect::new(Kind::Time, -1, 0)) {
        Next::Pass => return real(out),
        Next::Replay(record) => record.outcome(),
        Next::Live => {
            let value = real(ptr::null_mut());
            let err = errno();
            layer.append(Kind::Time, -1, 0, value, err, Payload::None);
            set_errno(err);
            value
        }
    };
    if !out.is_null() && value != -1 {
        // SAFETY: `out` is writable when not null (time's contract).
        unsafe { *out = value };
    }
    value
}

/// Interposed `getrandom`.
///
/// # Safety
/// libc's contract for `getrandom`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getrandom(buf: *mut c_void, buflen: size_t, flags: c_uint) -> ssize_t {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's getrandom unchanged.
        return unsafe { real::getrandom()(buf, buflen, flags) };
    }
    // SAFETY: passed on.
    unsafe { getrandom_recorded(buf, buflen, flags) }
}

/// The recording/replaying side of [`getrandom`].
///
/// # Safety
/// libc's contract for `getrandom`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn getrandom_recorded(buf: *mut c_void, buflen: size_t, flags: c_uint) -> ssize_t {
    // SAFETY: the caller's arguments go to libc's getrandom unchanged.
    let real = move || unsafe { real::getrandom()(buf, buflen, flags) };
    let Some(layer) = enter(None) else {
        return real();
    };
    let iovs = [iovec {
        iov_base: buf,
        iov_len: buflen,
    }];
    match layer.next(Expect::new(Kind::Random, -1, flags).room(buflen)) {
        Next::Pass => real(),
        Next::Replay(record) => {
            // SAFETY: `buf` is writable for `buflen` bytes; the data fits (Expect::matches).
            unsafe { scatter(&iovs, record.payload) };
            record.outcome() as ssize_t
        }
        Next::Live => {
            let n = real();
            let err = errno();
            let payload = if n > 0 {
                Payload::Gather(&iovs, n as usize)
            } else {
                Payload::None
            };
            layer.append(Kind::Random, -1, flags, n as i64, err, payload);
            set_errno(err);
            n
        }
    }
}

/// A call whose outcome is its result plus, for some results (`has_output(result, errno)`),
/// one `T` written through `out`.
///
/// # Safety
/// `out` is null or writable for a `T`; `real` is the call itself (writing `*out`).
unsafe fn struct_call<T>(
    expect: Expect,
    out: *mut T,
    has_output: impl Fn(i64, c_int) -> bool,
    real: impl FnOnce() -> i64,
) -> i64 {
    let Some(layer) = enter(None) else {
        return real();
    };
    let (kind, id, flags) = (expect.kind, expect.fd, expect.flags);
    match layer.next(expect) {
        Next::Pass => real(),
        Next::Replay(record) => {
            if record.payload.len() == size_of::<T>() && !out.is_null() {
                // SAFETY: `out` is writable for a T; the payload is a T's bytes.
                unsafe {
                    ptr::copy_nonoverlapping(
                        record.payload.as_ptr(),
                        out.cast::<u8>(),
                        size_of::<T>(),
                    )
                };
            }
            record.outcome()
        }
        Next::Live => {
            let result = real();
            let err = errno();
            let payload = if has_output(result, err) && !out.is_null() {
                // SAFETY: the call just wrote a T there.
                Payload::Bytes(unsafe {
                    std::slice::from_raw_parts(out.cast::<u8>().cast_const(), size_of::<T>())
                })
            } else {
                Payload::None
            };
            layer.append(kind, id, flags, result, err, payload);
            set_errno(err);
            result
        }
    }
}

// ============================================================================================
// Interposed: sleeps (clock_nanosleep, nanosleep)
// ============================================================================================
//
// A replayed sleep returns at once: the time it took is already part of the recorded clocks.

/// Interposed `clock_nanosleep` (what `time.sleep` uses).
///
/// # Safety
/// libc's contract for `clock_nanosleep`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clock_nanosleep(
    clock: clockid_t,
    flags: c_int,
    request: *const timespec,
    remain: *mut timespec,
) -> c_int {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's clock_nanosleep unchanged.
        return unsafe { real::clock_nanosleep()(clock, flags, request, remain) };
    }
    // SAFETY: passed on.
    unsafe { clock_nanosleep_recorded(clock, flags, request, remain) }
}

/// The recording/replaying side of [`clock_nanosleep`].
///
/// # Safety
/// libc's contract for `clock_nanosleep`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn clock_nanosleep_recorded(
    clock: clockid_t,
    flags: c_int,
    request: *const timespec,
    remain: *mut timespec,
) -> c_int {
    // SAFETY: the caller's arguments go to libc's clock_nanosleep unchanged.
    let real = move || unsafe { real::clock_nanosleep()(clock, flags, request, remain) };
    let expect = Expect::new(Kind::Sleep, clock, flags as u32);
    // It returns the error number itself; the remaining time exists when a relative sleep
    // was interrupted.
    let interrupted = |result, _| result == libc::EINTR as i64 && flags & libc::TIMER_ABSTIME == 0;
    // SAFETY: `remain` is null or writable (the contract).
    unsafe { struct_call(expect, remain, interrupted, || real() as i64) as c_int }
}

/// Interposed `nanosleep`.
///
/// # Safety
/// libc's contract for `nanosleep`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nanosleep(request: *const timespec, remain: *mut timespec) -> c_int {
    if !ACTIVE.load(Ordering::Relaxed) {
        // SAFETY: the caller's arguments go to libc's nanosleep unchanged.
        return unsafe { real::nanosleep()(request, remain) };
    }
    // SAFETY: passed on.
    unsafe { nanosleep_recorded(request, remain) }
}

/// The recording/replaying side of [`nanosleep`].
///
/// # Safety
/// libc's contract for `nanosleep`.
#[inline(never)] // keeps the pass-through path of the wrapper free of this frame
unsafe fn nanosleep_recorded(request: *const timespec, remain: *mut timespec) -> c_int {
    // SAFETY: the caller's arguments go to libc's nanosleep unchanged.
    let real = move || unsafe { real::nanosleep()(request, remain) };
    let expect = Expect::new(Kind::Sleep, -1, FLAG_NANOSLEEP);
    let interrupted = |result, err| result == -1 && err == libc::EINTR;
    // SAFETY: `remain` is null or writable (the contract).
    unsafe { struct_call(expect, remain, interrupted, || real() as i64) as c_int }
}

// ============================================================================================
// Interposed: opens (open, open64, openat, openat64)
// ============================================================================================
//
// Opens are recorded with their outcome (and a regular file's size). While replaying, an open
// the recorded run saw fail fails the same way without being tried. One it saw succeed runs for
// real (the descriptor must exist, and be the file once the copy runs live), but must neither
// truncate nor insist on creating: the original run already did, and its writes, now
// suppressed, will not be made again. If the file is gone (the program deleted or renamed it
// later in the recorded run), a stand-in takes the descriptor: the program's reads of it come
// from the record anyway, and it has the file's size, which CPython's buffering asks fstat for.
// Read live (past the record), the stand-in fails with EIO rather than invent data.
//
// These are variadic in C; they are defined here with the optional `mode` as a fixed trailing
// parameter. On the x86-64 System V and aarch64 Linux (AAPCS64) ABIs a variadic integer
// argument travels exactly like a fixed one, and reading the third register when the caller
// passed none only yields a value that libc ignores (no O_CREAT/O_TMPFILE).

/// What a replayed open that created or truncated in the recorded run must not do again.
fn replay_flags(flags: c_int) -> c_int {
    let mut flags = flags & !libc::O_TRUNC;
    if flags & libc::O_CREAT != 0 {
        flags &= !libc::O_EXCL;
    }
    flags
}

/// An open, recorded or replayed; `real` opens with the flags it is given.
#[inline(never)] // keeps the pass-through path of the callers free of this frame
fn open_like(flags: c_int, real: impl FnOnce(c_int) -> c_int) -> c_int {
    let Some(layer) = enter(None) else {
        return real(flags);
    };
    match layer.next(Expect::new(Kind::Open, -1, flags as u32)) {
        Next::Pass => real(flags),
        Next::Replay(record) => {
            if record.header.result < 0 {
                return record.outcome() as c_int;
            }
            let fd = real(replay_flags(flags));
            if fd >= 0 {
                return fd;
            }
            let err = errno();
            let size = <[u8; 8]>::try_from(record.payload).map_or(0, u64::from_le_bytes);
            let wanted = c_int::try_from(record.header.result).unwrap_or(-1);
            match stand_in(wanted, size, flags & libc::O_CLOEXEC != 0) {
                Some(fd) => fd,
                None => {
                    set_errno(err);
                    -1
                }
            }
        }
        Next::Live => {
            let fd = real(flags);
            let err = errno();
            let size = (fd >= 0).then(|| regular_size(fd)).flatten();
            let bytes = size.map(u64::to_le_bytes);
            let payload = match &bytes {
                Some(bytes) => Payload::Bytes(bytes),
                None => Payload::None,
            };
            layer.append(Kind::Open, -1, flags as u32, i64::from(fd), err, payload);
            set_errno(err);
            fd
        }
    }
}

/// The size of the regular file open on `fd`, if it is one.
fn regular_size(fd: c_int) -> Option<u64> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` into the memory we pass.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat succeeded, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    (stat.st_mode & libc::S_IFMT == libc::S_IFREG).then(|| u64::try_from(stat.st_size).ok())?
}

/// The name a stand-in's descriptor shows in /proc/self/fd (how a live read recognises one).
const STAND_IN_NAME: &std::ffi::CStr = c"sleepy: replayed file no longer on disk";
const STAND_IN_LINK: &[u8] = b"/memfd:sleepy: replayed file no longer on disk";

/// Descriptors that may be stand-ins (checked against /proc/self/fd before use: the program may
/// have closed one and reused the number).
static STAND_INS: [AtomicI32; AGENT_FD_SLOTS] = [const { AtomicI32::new(NO_FD) }; AGENT_FD_SLOTS];

/// An anonymous file of `size` bytes on descriptor `wanted` (the number the recorded run got)
/// when that number is free, else on whatever number it gets.
fn stand_in(wanted: c_int, size: u64, cloexec: bool) -> Option<c_int> {
    let memfd_flags = if cloexec { libc::MFD_CLOEXEC } else { 0 };
    // SAFETY: a NUL-terminated name; memfd_create touches no other memory of ours.
    let fd = unsafe { libc::memfd_create(STAND_IN_NAME.as_ptr(), memfd_flags) };
    if fd < 0 {
        return None;
    }
    // SAFETY: ftruncate of the descriptor just made; a failure leaves it empty.
    unsafe { libc::ftruncate(fd, libc::off_t::try_from(size).unwrap_or(0)) };
    // SAFETY: F_GETFD only asks whether the number is open.
    let fd = if fd != wanted && wanted >= 0 && unsafe { libc::fcntl(wanted, libc::F_GETFD) } < 0 {
        let dup_flags = if cloexec { libc::O_CLOEXEC } else { 0 };
        // SAFETY: `wanted` is not open, so dup3 replaces nothing; fd is ours to close.
        let moved = unsafe { libc::dup3(fd, wanted, dup_flags) };
        if moved < 0 {
            fd
        } else {
            // SAFETY: the descriptor made above, now duplicated.
            unsafe { libc::close(fd) };
            moved
        }
    } else {
        fd
    };
    for slot in &STAND_INS {
        let current = slot.load(Ordering::Relaxed);
        if (current == NO_FD || current == fd || !is_stand_in(current))
            && slot
                .compare_exchange(current, fd, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            break;
        }
    }
    Some(fd)
}

/// Whether `fd` is a stand-in made by [`stand_in`] (and still open as one).
fn is_stand_in(fd: c_int) -> bool {
    let mut link = [0u8; 128];
    let path = format!("/proc/self/fd/{fd}\0");
    // SAFETY: a NUL-terminated path and a buffer of the length given.
    let n = unsafe { libc::readlink(path.as_ptr().cast(), link.as_mut_ptr().cast(), link.len()) };
    usize::try_from(n).is_ok_and(|n| link[..n].starts_with(STAND_IN_LINK))
}

/// A live read of a stand-in: the file it stands for is not there to read.
fn reads_a_stand_in(fd: c_int) -> bool {
    STAND_INS
        .iter()
        .any(|slot| slot.load(Ordering::Relaxed) == fd)
        && is_stand_in(fd)
}

/// Interposed `open`.
///
/// # Safety
/// libc's contract for `open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the caller's arguments go to libc's open (mode as its variadic argument).
    let real = move |flags| unsafe { real::open()(path, flags, mode) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real(flags);
    }
    open_like(flags, real)
}

/// Interposed `open64` (libpython's import for `open()` and `os.open`).
///
/// # Safety
/// libc's contract for `open64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: the caller's arguments go to libc's open64 (mode as its variadic argument).
    let real = move |flags| unsafe { real::open64()(path, flags, mode) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real(flags);
    }
    open_like(flags, real)
}

/// Interposed `openat`.
///
/// # Safety
/// libc's contract for `openat`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    // SAFETY: the caller's arguments go to libc's openat (mode as its variadic argument).
    let real = move |flags| unsafe { real::openat()(dirfd, path, flags, mode) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real(flags);
    }
    open_like(flags, real)
}

/// Interposed `openat64` (libpython's import for `os.open(..., dir_fd=)`).
///
/// # Safety
/// libc's contract for `openat64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat64(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: c_uint,
) -> c_int {
    // SAFETY: the caller's arguments go to libc's openat64 (mode as its variadic argument).
    let real = move |flags| unsafe { real::openat64()(dirfd, path, flags, mode) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real(flags);
    }
    open_like(flags, real)
}

// ============================================================================================
// Interposed: changes to the file system (unlink, unlinkat, rename, renameat, mkdir, mkdirat,
// rmdir)
// ============================================================================================
//
// Like writes, they are recorded as their outcome and not made again by a replay: the file the
// recorded run deleted later is still there for the replay's open until the replay reaches the
// deletion, and a rename or mkdir does not fail the second time because the first one happened.

/// A change to the file system, recorded or replayed; `call` is one of the `FS_*`.
#[inline(never)] // keeps the pass-through path of the callers free of this frame
fn fs_change(call: u32, real: impl FnOnce() -> c_int) -> c_int {
    let Some(layer) = enter(None) else {
        return real();
    };
    match layer.next(Expect::new(Kind::FsChange, -1, call)) {
        Next::Pass => real(),
        Next::Replay(record) => record.outcome() as c_int,
        Next::Live => {
            let result = real();
            let err = errno();
            layer.append(
                Kind::FsChange,
                -1,
                call,
                i64::from(result),
                err,
                Payload::None,
            );
            set_errno(err);
            result
        }
    }
}

/// Interposed `unlink` (`os.remove`, `os.unlink`).
///
/// # Safety
/// libc's contract for `unlink`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn unlink(path: *const c_char) -> c_int {
    // SAFETY: the caller's argument goes to libc's unlink unchanged.
    let real = move || unsafe { real::unlink()(path) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real();
    }
    fs_change(FS_UNLINK, real)
}

/// Interposed `unlinkat` (`os.remove(..., dir_fd=)`, `os.rmdir(..., dir_fd=)`, shutil.rmtree).
///
/// # Safety
/// libc's contract for `unlinkat`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn unlinkat(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: the caller's arguments go to libc's unlinkat unchanged.
    let real = move || unsafe { real::unlinkat()(dirfd, path, flags) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real();
    }
    fs_change(FS_UNLINKAT, real)
}

/// Interposed `rename` (`os.rename`, `os.replace`).
///
/// # Safety
/// libc's contract for `rename`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rename(old: *const c_char, new: *const c_char) -> c_int {
    // SAFETY: the caller's arguments go to libc's rename unchanged.
    let real = move || unsafe { real::rename()(old, new) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real();
    }
    fs_change(FS_RENAME, real)
}

/// Interposed `renameat` (`os.rename(..., src_dir_fd=, dst_dir_fd=)`).
///
/// # Safety
/// libc's contract for `renameat`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn renameat(
    old_dirfd: c_int,
    old: *const c_char,
    new_dirfd: c_int,
    new: *const c_char,
) -> c_int {
    // SAFETY: the caller's arguments go to libc's renameat unchanged.
    let real = move || unsafe { real::renameat()(old_dirfd, old, new_dirfd, new) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real();
    }
    fs_change(FS_RENAMEAT, real)
}

/// Interposed `mkdir` (`os.mkdir`, `os.makedirs`).
///
/// # Safety
/// libc's contract for `mkdir`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkdir(path: *const c_char, mode: libc::mode_t) -> c_int {
    // SAFETY: the caller's arguments go to libc's mkdir unchanged.
    let real = move || unsafe { real::mkdir()(path, mode) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real();
    }
    fs_change(FS_MKDIR, real)
}

/// Interposed `mkdirat` (`os.mkdir(..., dir_fd=)`).
///
/// # Safety
/// libc's contract for `mkdirat`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkdirat(dirfd: c_int, path: *const c_char, mode: libc::mode_t) -> c_int {
    // SAFETY: the caller's arguments go to libc's mkdirat unchanged.
    let real = move || unsafe { real::mkdirat()(dirfd, path, mode) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real();
    }
    fs_change(FS_MKDIRAT, real)
}

/// Interposed `rmdir` (`os.rmdir`).
///
/// # Safety
/// libc's contract for `rmdir`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rmdir(path: *const c_char) -> c_int {
    // SAFETY: the caller's argument goes to libc's rmdir unchanged.
    let real = move || unsafe { real::rmdir()(path) };
    if !ACTIVE.load(Ordering::Relaxed) {
        return real();
    }
    fs_change(FS_RMDIR, real)
}

// ============================================================================================
// Interposed: threads and processes (fork, vfork, posix_spawn, posix_spawnp, system,
// pthread_create)
// ============================================================================================
//
// A replay cannot reproduce another thread's interleaving or another process's life, so the
// program starting one ends time travel; the call itself then proceeds normally.

/// The program (not the agent: it pauses, or uses [`fork_real`]) starts a thread or process.
#[inline(never)] // keeps the pass-through path of the callers free of this frame
fn program_starts(reason: &'static str) {
    if ACTIVE.load(Ordering::Relaxed)
        && PAUSE.load(Ordering::Relaxed) == 0
        && !IN_LAYER.load(Ordering::Relaxed)
    {
        turn_off(reason);
    }
}

/// Interposed `fork`.
///
/// # Safety
/// libc's contract for `fork`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fork() -> pid_t {
    if ACTIVE.load(Ordering::Relaxed) {
        program_starts(OFF_PROCESS);
    }
    // SAFETY: libc's fork, on the caller's terms.
    unsafe { real::fork()() }
}

/// Interposed `vfork`: really a fork. A real vfork called from inside this function would return
/// twice into *this* frame on a shared stack; the child would then return from it and call on,
/// overwriting the frame (and return address) the suspended parent still needs. Everything a
/// vfork child may legally do is also fine after fork (`_posixsubprocess` uses vfork for
/// subprocess and works either way); only the speed differs.
///
/// # Safety
/// libc's contract for `vfork`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vfork() -> pid_t {
    if ACTIVE.load(Ordering::Relaxed) {
        program_starts(OFF_PROCESS);
    }
    // SAFETY: libc's fork; the caller's vfork contract is stricter than fork's.
    unsafe { real::fork()() }
}

/// Interposed `posix_spawn`.
///
/// # Safety
/// libc's contract for `posix_spawn`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut pid_t,
    path: *const c_char,
    file_actions: *const posix_spawn_file_actions_t,
    attr: *const posix_spawnattr_t,
    argv: *const *mut c_char,
    envp: *const *mut c_char,
) -> c_int {
    if ACTIVE.load(Ordering::Relaxed) {
        program_starts(OFF_PROCESS);
    }
    // SAFETY: the caller's arguments go to libc's posix_spawn unchanged.
    unsafe { real::posix_spawn()(pid, path, file_actions, attr, argv, envp) }
}

/// Interposed `posix_spawnp`.
///
/// # Safety
/// libc's contract for `posix_spawnp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut pid_t,
    file: *const c_char,
    file_actions: *const posix_spawn_file_actions_t,
    attr: *const posix_spawnattr_t,
    argv: *const *mut c_char,
    envp: *const *mut c_char,
) -> c_int {
    if ACTIVE.load(Ordering::Relaxed) {
        program_starts(OFF_PROCESS);
    }
    // SAFETY: the caller's arguments go to libc's posix_spawnp unchanged.
    unsafe { real::posix_spawnp()(pid, file, file_actions, attr, argv, envp) }
}

/// Interposed `system` (`os.system`): glibc starts the shell with its internal posix_spawn,
/// which the interposed one never sees.
///
/// # Safety
/// libc's contract for `system`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn system(command: *const c_char) -> c_int {
    if ACTIVE.load(Ordering::Relaxed) {
        program_starts(OFF_PROCESS);
    }
    // SAFETY: the caller's argument goes to libc's system unchanged.
    unsafe { real::system()(command) }
}

/// Interposed `pthread_create`.
///
/// # Safety
/// libc's contract for `pthread_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_create(
    thread: *mut pthread_t,
    attr: *const pthread_attr_t,
    start: extern "C" fn(*mut c_void) -> *mut c_void,
    arg: *mut c_void,
) -> c_int {
    if ACTIVE.load(Ordering::Relaxed) {
        program_starts(OFF_THREAD);
    }
    // SAFETY: the caller's arguments go to libc's pthread_create unchanged.
    unsafe { real::pthread_create()(thread, attr, start, arg) }
}

// ============================================================================================
// Tests of the record format (the mechanism itself: tests/replay_layer.rs)
// ============================================================================================

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: Kind, result: i64, payload_len: u64) -> Header {
        Header {
            kind,
            fd: 7,
            result,
            errno: 0,
            flags: 0,
            payload_len,
        }
    }

    /// Encodes records back to back, as `append` lays them out.
    fn log_of(records: &[(Header, &[u8])]) -> Vec<u8> {
        let mut log = Vec::new();
        for (header, payload) in records {
            assert_eq!(header.payload_len, payload.len() as u64);
            log.extend_from_slice(&header.encode());
            log.extend_from_slice(payload);
            log.resize(log.len().next_multiple_of(8), 0);
        }
        log
    }

    #[test]
    fn every_kind_round_trips() {
        let ts = [0x11u8; size_of::<timespec>()];
        let tv = [0x22u8; size_of::<timeval>()];
        let cases: Vec<(Header, &[u8])> = vec![
            (header(Kind::Read, 5, 5), b"hello"),
            (header(Kind::Read, 0, 0), b""),
            (
                Header {
                    errno: libc::EAGAIN,
                    ..header(Kind::Read, -1, 0)
                },
                b"",
            ),
            (header(Kind::Write, 1234, 0), b""),
            (
                Header {
                    fd: libc::CLOCK_MONOTONIC,
                    ..header(Kind::Clock, 0, ts.len() as u64)
                },
                &ts,
            ),
            (header(Kind::TimeOfDay, 0, tv.len() as u64), &tv),
            (header(Kind::Time, 1_700_000_000, 0), b""),
            (
                Header {
                    flags: 1,
                    ..header(Kind::Random, 3, 3)
                },
                b"\x01\x02\x03",
            ),
            (
                header(Kind::Sleep, libc::EINTR as i64, ts.len() as u64),
                &ts,
            ),
            (
                Header {
                    flags: FLAG_NANOSLEEP,
                    ..header(Kind::Sleep, 0, 0)
                },
                b"",
            ),
            (header(Kind::Stdin, 9, 0), b""),
        ];
        let log = log_of(&cases);
        let mut at = 0usize;
        for (expected, payload) in &cases {
            assert_eq!(at % 8, 0, "records start 8-byte aligned");
            let record = decode(&log[at..]).expect("a record");
            assert_eq!(record.header, *expected);
            assert_eq!(record.payload, *payload);
            at += record.header.record_bytes() as usize;
        }
        assert_eq!(at, log.len());
        assert_eq!(decode(&log[at..]).unwrap_err(), DecodeError::Short);
    }

    #[test]
    fn the_layout_is_fixed() {
        let h = Header {
            kind: Kind::Read,
            fd: -2,
            result: -1,
            errno: 9,
            flags: FLAG_POSITIONED,
            payload_len: 0,
        };
        let bytes = h.encode();
        assert_eq!(&bytes[0..2], &[0x1e, 0x5e]);
        assert_eq!(&bytes[2..4], &[1, 0]);
        assert_eq!(&bytes[4..8], &(-2i32).to_le_bytes());
        assert_eq!(&bytes[8..16], &(-1i64).to_le_bytes());
        assert_eq!(&bytes[16..20], &9i32.to_le_bytes());
        assert_eq!(&bytes[20..24], &1u32.to_le_bytes());
        assert_eq!(&bytes[24..32], &[0; 8]);
        assert_eq!(header(Kind::Read, 1, 1).record_bytes(), 40);
        assert_eq!(header(Kind::Read, 8, 8).record_bytes(), 40);
        assert_eq!(header(Kind::Read, 9, 9).record_bytes(), 48);
        assert_eq!(header(Kind::Write, 9, 0).record_bytes(), 32);
    }

    #[test]
    fn garbage_is_not_a_record() {
        let good = log_of(&[(header(Kind::Read, 3, 3), b"abc")]);
        assert_eq!(decode(&good[..31]).unwrap_err(), DecodeError::Short);
        assert_eq!(decode(&good[..34]).unwrap_err(), DecodeError::Short);
        assert_eq!(decode(&[0u8; 64]).unwrap_err(), DecodeError::Magic);
        let mut bad_kind = good.clone();
        bad_kind[2] = 99;
        assert_eq!(decode(&bad_kind).unwrap_err(), DecodeError::Kind(99));
        // A read's payload is exactly its result; a write has none.
        let lying = log_of(&[(header(Kind::Read, 5, 3), b"abc")]);
        assert!(matches!(decode(&lying), Err(DecodeError::Payload { .. })));
        let write = log_of(&[(header(Kind::Write, 3, 3), b"abc")]);
        assert!(matches!(decode(&write), Err(DecodeError::Payload { .. })));
        let clock = log_of(&[(header(Kind::Clock, 0, 3), b"abc")]);
        assert!(matches!(decode(&clock), Err(DecodeError::Payload { .. })));
    }

    #[test]
    fn a_call_matches_the_record_of_the_same_call() {
        let read = header(Kind::Read, 5, 5);
        assert!(Expect::new(Kind::Read, 7, 0).room(5).matches(&read));
        assert!(Expect::new(Kind::Read, 7, 0).room(100).matches(&read));
        // A smaller buffer could not have received the recorded data.
        assert!(!Expect::new(Kind::Read, 7, 0).room(4).matches(&read));
        assert!(!Expect::new(Kind::Read, 8, 0).room(5).matches(&read));
        assert!(!Expect::new(Kind::Write, 7, 0).room(5).matches(&read));
        assert!(
            !Expect::new(Kind::Read, 7, FLAG_POSITIONED)
                .room(5)
                .matches(&read)
        );
        // A failure fits any buffer.
        assert!(
            Expect::new(Kind::Read, 7, 0)
                .room(0)
                .matches(&header(Kind::Read, -1, 0))
        );
    }

    #[test]
    fn every_interposed_function_is_defined_here() {
        // build.rs exports the names of interposed.rs; a name with no definition here would
        // bind the program to libc's own.
        let this = include_str!("replay.rs");
        for name in INTERPOSED {
            assert!(
                this.contains(&format!("pub unsafe extern \"C\" fn {name}(")),
                "{name} is not defined here"
            );
        }
    }
}
