//! The agent's boundary with CPython: the only module of sleepy with `unsafe` code.
//!
//! Everything here is a thin, checked wrapper over the C API: starting the interpreter with the
//! configuration `python3` itself would use, the native trace function, per-code-object data kept
//! in the code object's `co_extra` slot, and writing a frame's locals back into its fast slots.
//! The rest of the agent works through the safe types this module hands out.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::ffi::{CStr, CString, c_int, c_void};
use std::marker::PhantomData;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::PyAny;
use pyo3::{Borrowed, ffi};

/// Starting the interpreter failed; the message is CPython's.
#[derive(Debug, thiserror::Error)]
#[error("Python failed to start: {0}")]
pub struct InitError(pub String);

fn status_result(status: ffi::PyStatus) -> Result<(), InitError> {
    // SAFETY: PyStatus_Exception only reads the struct it is given by value.
    if unsafe { ffi::PyStatus_Exception(status) } == 0 {
        return Ok(());
    }
    let text = |p: *const std::ffi::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: CPython's status strings are static NUL-terminated C strings.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    let (func, msg) = (text(status.func), text(status.err_msg));
    Err(InitError(if func.is_empty() {
        msg
    } else {
        format!("{func}: {msg}")
    }))
}

/// Starts CPython as `executable` would start: its `getpath` computes `sys.prefix`, `sys.path`
/// and a virtualenv's site-packages from that path, and the environment (PYTHONPATH, ...) is
/// honoured. `argv` becomes `sys.argv` as is (no option parsing).
///
/// `unbuffered` is `python3 -u`: with time travel on, every write the program makes to its
/// stdout and stderr happens when it prints, never at a later flush, so a replay writes exactly
/// what the recorded run wrote at the same points (the agent flushes at stops, a replay does not
/// stop).
pub fn initialize(executable: &Path, argv: &[Vec<u8>], unbuffered: bool) -> Result<(), InitError> {
    let exe = CString::new(executable.as_os_str().as_bytes())
        .map_err(|_| InitError("the interpreter path contains a NUL byte".into()))?;
    let args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.clone()))
        .collect::<Result<_, _>>()
        .map_err(|_| InitError("an argument contains a NUL byte".into()))?;
    let mut arg_ptrs: Vec<*const std::ffi::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    let argc =
        isize::try_from(arg_ptrs.len()).map_err(|_| InitError("too many arguments".into()))?;

    let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
    // SAFETY: PyConfig_InitPythonConfig fully initialises the struct it is pointed at.
    unsafe { ffi::PyConfig_InitPythonConfig(config.as_mut_ptr()) };
    // SAFETY: initialised just above.
    let config = unsafe { config.assume_init_mut() };
    config.parse_argv = 0;
    config.install_signal_handlers = 1;
    if unbuffered {
        config.buffered_stdio = 0;
    }
    let result = (|| {
        // SAFETY: the config is initialised; the strings outlive the calls, which copy them.
        unsafe {
            let field = &raw mut config.executable;
            status_result(ffi::PyConfig_SetBytesString(config, field, exe.as_ptr()))?;
            let field = &raw mut config.program_name;
            status_result(ffi::PyConfig_SetBytesString(config, field, exe.as_ptr()))?;
            status_result(ffi::PyConfig_SetBytesArgv(
                config,
                argc,
                arg_ptrs.as_mut_ptr(),
            ))?;
            status_result(ffi::Py_InitializeFromConfig(config))
        }
    })();
    // SAFETY: the config was initialised by PyConfig_InitPythonConfig and is not used again.
    unsafe { ffi::PyConfig_Clear(config) };
    result
}

/// Finalises the interpreter as `python3` does on exit: joins non-daemon threads, runs atexit
/// callbacks, flushes the standard streams. Returns false if flushing failed (python3 then exits
/// with status 120).
pub fn finalize() -> bool {
    // SAFETY: called once, on the main thread, holding the GIL, after the program has finished.
    unsafe { ffi::Py_FinalizeEx() == 0 }
}

/// Tells pyo3 the current thread holds the GIL. Used once, right after [`initialize`].
pub fn attached_token() -> Python<'static> {
    // SAFETY: called on the thread that initialised the interpreter, which holds the GIL from
    // Py_InitializeFromConfig until it finalises it; the agent never releases it except through
    // `Python::detach`, which restores it before returning.
    unsafe { Python::assume_attached() }
}

/// A trace event, as CPython delivers it to the trace function.
pub enum TraceEvent<'a, 'py> {
    Call,
    Line,
    /// The returned value; `None` when the frame is unwinding because of an exception.
    Return(Option<Borrowed<'a, 'py, PyAny>>),
    /// The `(type, value, traceback)` tuple.
    Exception(Borrowed<'a, 'py, PyAny>),
}

/// The frame whose event is being delivered; valid only during the trace call.
///
/// A `sys.monitoring` event (3.12+) names the code object and the line, not the frame: then
/// `ptr` is null and the frame object is asked for (`PyEval_GetFrame`, which may have to
/// create it) only when something needs it, so counting a line costs no frame object.
#[derive(Clone, Copy)]
pub struct TracedFrame<'a> {
    ptr: *mut ffi::PyFrameObject,
    /// Borrowed from the event's arguments; null when only the frame is known.
    code: *mut ffi::PyObject,
    /// The event's line; -1 when only the frame knows it.
    line: i32,
    _life: PhantomData<&'a ffi::PyFrameObject>,
}

impl<'a> TracedFrame<'a> {
    /// The frame a frame object stands for, while `frame` holds it (the line event of a stop
    /// that is handled outside the trace call, e.g. by a copy spawned from a checkpoint).
    pub fn of<'py>(frame: &'a Bound<'py, PyAny>) -> Option<TracedFrame<'a>> {
        // SAFETY: PyFrame_Check only reads the type of a live object.
        if unsafe { ffi::PyFrame_Check(frame.as_ptr()) } == 0 {
            return None;
        }
        Some(TracedFrame {
            ptr: frame.as_ptr().cast(),
            code: std::ptr::null_mut(),
            line: -1,
            _life: PhantomData,
        })
    }

    fn frame_ptr(&self) -> *mut ffi::PyFrameObject {
        if self.ptr.is_null() {
            // SAFETY: a monitoring event is delivered on the thread running the frame, with the
            // GIL held; the innermost frame is the one whose event it is, and it outlives the
            // event (the returned reference is borrowed from the thread state).
            unsafe { ffi::PyEval_GetFrame() }
        } else {
            self.ptr
        }
    }

    /// The code object a `sys.monitoring` event named (None for a trace-function event).
    pub fn event_code<'py>(&self, py: Python<'py>) -> Option<Borrowed<'a, 'py, PyAny>> {
        if self.code.is_null() {
            return None;
        }
        // SAFETY: the event's code object is alive for the duration of the event.
        Some(unsafe { Borrowed::from_ptr(py, self.code) })
    }

    /// An address that identifies the frame while it lives (compare, never dereference).
    pub fn id(&self) -> usize {
        self.frame_ptr() as usize
    }

    pub fn line(&self) -> i32 {
        if self.line >= 0 {
            return self.line;
        }
        // SAFETY: the frame is alive for the duration of the trace call.
        unsafe { ffi::PyFrame_GetLineNumber(self.frame_ptr()) }
    }

    pub fn object<'py>(&self, py: Python<'py>) -> Borrowed<'a, 'py, PyAny> {
        // SAFETY: the frame pointer is a valid, live object for the duration of the trace call.
        unsafe { Borrowed::from_ptr(py, self.frame_ptr().cast()) }
    }

    /// The per-code-object data for this frame's code, computed by `make` on first sight and
    /// kept in the code object's `co_extra` slot until the code object dies.
    pub fn code_info<'py>(
        &self,
        py: Python<'py>,
        make: impl FnOnce(Borrowed<'_, 'py, PyAny>) -> CodeInfo,
    ) -> &'a CodeInfo {
        let index = *EXTRA_INDEX.get_or_init(|| {
            // SAFETY: registering a free function is allowed at any time with the GIL held.
            unsafe { ffi::PyUnstable_Eval_RequestCodeExtraIndex(free_code_info) }
        });
        // A monitoring event's code object is borrowed for the event (no reference counting on
        // the per-line path); a frame's comes from PyFrame_GetCode as a new reference.
        let owned = self.code.is_null();
        let code = if owned {
            // SAFETY: the frame is alive; PyFrame_GetCode returns a new reference to its code.
            unsafe { ffi::PyFrame_GetCode(self.frame_ptr()) }.cast::<ffi::PyObject>()
        } else {
            self.code
        };
        let mut extra: *mut c_void = std::ptr::null_mut();
        // SAFETY: `code` is a live code object and `index` was obtained from CPython.
        let found =
            index >= 0 && unsafe { ffi::PyUnstable_Code_GetExtra(code, index, &mut extra) } == 0;
        if !found || extra.is_null() {
            // SAFETY: `code` is a live code object for the duration of this call.
            let info = Box::new(make(unsafe { Borrowed::from_ptr(py, code) }));
            let raw = Box::into_raw(info);
            // SAFETY: storing an owned pointer; CPython calls free_code_info when the code dies.
            let stored = index >= 0
                && unsafe { ffi::PyUnstable_Code_SetExtra(code, index, raw.cast()) } == 0;
            if stored {
                extra = raw.cast();
            } else {
                // Without a slot the info cannot be kept: leak one box per code object rather
                // than fail the trace (this only happens if CPython runs out of extra slots).
                // SAFETY: clearing the error state left by the failed call.
                unsafe { ffi::PyErr_Clear() };
                extra = raw.cast();
            }
        }
        if owned {
            // SAFETY: the frame holds a reference to its code, so dropping ours keeps it alive.
            unsafe { ffi::Py_DECREF(code) };
        }
        // SAFETY: `extra` points to a CodeInfo owned by the code object, which outlives the frame
        // borrow 'a; CodeInfo is only mutated through Cells.
        unsafe { &*extra.cast::<CodeInfo>() }
    }
}

static EXTRA_INDEX: OnceLock<ffi::Py_ssize_t> = OnceLock::new();

unsafe extern "C" fn free_code_info(extra: *mut c_void) {
    if !extra.is_null() {
        // SAFETY: every non-null extra in our slot was made by Box::into_raw in code_info.
        drop(unsafe { Box::from_raw(extra.cast::<CodeInfo>()) });
    }
}

/// What the tracer knows about one code object, computed once.
#[derive(Debug)]
pub struct CodeInfo {
    /// User code is traced line by line; library code only at calls and returns.
    pub user: bool,
    /// Index into the tracer's table of canonical file names.
    pub file: u32,
    pub first_line: i32,
    /// `co_name`, which function breakpoints match.
    pub name: String,
    /// A generator or coroutine: pdb does not stop at its yields when stepping over lines.
    pub generator: bool,
    /// The rewriter's markers in this code's file: (virtual line, the user's line), sorted.
    pub markers: Vec<(i32, i32)>,
    /// Breakpoint lines in this code's file, refreshed when the table's generation changes.
    pub breaks_generation: Cell<u64>,
    pub break_lines: std::cell::RefCell<Vec<u32>>,
    /// A `break FUNC` names this code object.
    pub function_break: Cell<bool>,
}

/// The Rust side of the trace function; see [`set_trace`].
/// An error it returns is raised in the traced frame at the event's instruction (this is how the
/// debugger enters an `except` handler).
pub type TraceHandler =
    for<'a, 'py> fn(Python<'py>, TracedFrame<'a>, TraceEvent<'a, 'py>) -> Option<PyErr>;

static HANDLER: OnceLock<TraceHandler> = OnceLock::new();

unsafe extern "C" fn trampoline(
    _obj: *mut ffi::PyObject,
    frame: *mut ffi::PyFrameObject,
    what: c_int,
    arg: *mut ffi::PyObject,
) -> c_int {
    let Some(handler) = HANDLER.get() else {
        return 0;
    };
    // SAFETY: CPython calls the trace function with the GIL held.
    let py = unsafe { Python::assume_attached() };
    let frame = TracedFrame {
        ptr: frame,
        code: std::ptr::null_mut(),
        line: -1,
        _life: PhantomData,
    };
    let event = match what {
        ffi::PyTrace_CALL => TraceEvent::Call,
        ffi::PyTrace_LINE => TraceEvent::Line,
        ffi::PyTrace_RETURN => TraceEvent::Return(if arg.is_null() {
            None
        } else {
            // SAFETY: CPython passes a borrowed reference valid during the call.
            Some(unsafe { Borrowed::from_ptr(py, arg) })
        }),
        ffi::PyTrace_EXCEPTION if !arg.is_null() => {
            // SAFETY: as above.
            TraceEvent::Exception(unsafe { Borrowed::from_ptr(py, arg) })
        }
        _ => return 0,
    };
    match handler(py, frame, event) {
        None => 0,
        Some(err) => {
            // CPython raises the error set here in the frame, as if its current instruction had.
            err.restore(py);
            -1
        }
    }
}

/// Installs (or removes) the native trace function on the calling thread only.
pub fn set_trace(_py: Python<'_>, handler: Option<TraceHandler>) {
    let func: Option<ffi::Py_tracefunc> = match handler {
        Some(h) => {
            let _ = HANDLER.set(h);
            Some(trampoline)
        }
        None => None,
    };
    #[cfg(Py_3_12)]
    monitoring::set_trace_own(func);
    #[cfg(not(Py_3_12))]
    // SAFETY: the GIL is held (the token proves it); the trampoline is a valid tracer, and
    // removing the trace function is always allowed.
    unsafe {
        ffi::PyEval_SetTrace(func, std::ptr::null_mut())
    };
}

/// What a `sys.monitoring` line handler wants done with the event's location.
pub enum LineOutcome {
    Continue,
    /// Never report this location again (library code): CPython removes its instrumentation.
    Disable,
    /// Raise this error in the frame at the event's instruction.
    Raise(PyErr),
}

/// The Rust side of the `sys.monitoring` LINE callback (3.12+): one call per line event of the
/// line events `PyEval_SetTrace` would deliver (see [`monitor_lines`]).
pub type LineHandler = for<'a, 'py> fn(Python<'py>, TracedFrame<'a>) -> LineOutcome;

/// Whether a code object is the program's (its lines are counted). Also true when the tracer
/// cannot say (another thread, a busy tracer): a location stays reported then.
pub type UserCheck = for<'a, 'py> fn(Python<'py>, TracedFrame<'a>) -> bool;

#[cfg(Py_3_12)]
mod monitoring {
    use super::*;

    /// `sys.monitoring.DEBUGGER_ID`.
    pub const TOOL: u8 = 0;

    pub struct Setup {
        pub handler: LineHandler,
        #[cfg(Py_3_13)]
        pub user: UserCheck,
        /// `sys.monitoring.DISABLE`, returned to turn a location's event off.
        pub disable: Py<PyAny>,
        /// `events.LINE | events.JUMP`, and on 3.13 `PY_START | PY_RESUME` (see `on_start`).
        pub events: u32,
    }

    pub static SETUP: OnceLock<Setup> = OnceLock::new();

    /// sleepy is calling `PyEval_SetTrace` itself (its audit event is not the program's).
    pub static OWN_SETTRACE: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);
    /// The program installed (or removed) a trace function of its own (pdb, a coverage tool):
    /// sleepy steps aside, as a trace function installed by the program replaces sleepy's on
    /// 3.11. Both sources at once confuse CPython 3.13's own tracing (pdb.set_trace misses
    /// its first stop while a LINE tool is active).
    pub static FOREIGN_TRACER: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);

    unsafe extern "C" {
        // Public C API since 3.8 (sysmodule.h); pyo3-ffi leaves it out.
        fn PySys_AddAuditHook(
            hook: unsafe extern "C" fn(
                *const std::ffi::c_char,
                *mut ffi::PyObject,
                *mut c_void,
            ) -> c_int,
            user_data: *mut c_void,
        ) -> c_int;
    }

    /// Notes the program's `sys.settrace` calls (audit event "sys.settrace", raised by every
    /// `PyEval_SetTrace` on 3.12+).
    unsafe extern "C" fn audit(
        event: *const std::ffi::c_char,
        _args: *mut ffi::PyObject,
        _user: *mut c_void,
    ) -> c_int {
        // SAFETY: CPython passes the event's name as a NUL-terminated string.
        if unsafe { CStr::from_ptr(event) } == c"sys.settrace"
            && !OWN_SETTRACE.load(std::sync::atomic::Ordering::Relaxed)
            && !FOREIGN_TRACER.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            // At once: the program's tracer starts at the very next instruction (3.13's
            // pdb.set_trace stops on its own line through an instruction event).
            // SAFETY: audit hooks run with the GIL held.
            stand_aside(unsafe { Python::assume_attached() });
        }
        0
    }

    pub fn add_audit_hook() -> bool {
        // SAFETY: the hook is a plain function that never fails; adding one is allowed at any
        // time after initialisation.
        unsafe { PySys_AddAuditHook(audit, std::ptr::null_mut()) == 0 }
    }

    /// `PyEval_SetTrace`, not taken for the program's own.
    pub fn set_trace_own(func: Option<ffi::Py_tracefunc>) {
        OWN_SETTRACE.store(true, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: called with the GIL held by the callers (they hold a Python token); the
        // function, if any, is the trampoline, a valid tracer.
        unsafe { ffi::PyEval_SetTrace(func, std::ptr::null_mut()) };
        OWN_SETTRACE.store(false, std::sync::atomic::Ordering::Relaxed);
    }

    fn outcome(py: Python<'_>, outcome: LineOutcome) -> *mut ffi::PyObject {
        match outcome {
            LineOutcome::Continue => {
                // SAFETY: returning a new reference to None, as callbacks must.
                unsafe {
                    ffi::Py_INCREF(ffi::Py_None());
                    ffi::Py_None()
                }
            }
            LineOutcome::Disable => match SETUP.get() {
                Some(setup) => setup.disable.clone_ref(py).into_ptr(),
                None => {
                    // SAFETY: as above.
                    unsafe {
                        ffi::Py_INCREF(ffi::Py_None());
                        ffi::Py_None()
                    }
                }
            },
            LineOutcome::Raise(err) => {
                err.restore(py);
                std::ptr::null_mut()
            }
        }
    }

    fn deliver(py: Python<'_>, code: *mut ffi::PyObject, line: i32) -> *mut ffi::PyObject {
        let Some(setup) = SETUP.get() else {
            return outcome(py, LineOutcome::Disable);
        };
        if FOREIGN_TRACER.load(std::sync::atomic::Ordering::Relaxed) {
            stand_aside(py);
            return outcome(py, LineOutcome::Continue);
        }
        let frame = TracedFrame {
            ptr: std::ptr::null_mut(),
            code,
            line,
            _life: PhantomData,
        };
        outcome(py, (setup.handler)(py, frame))
    }

    fn int_arg(arg: *mut ffi::PyObject) -> i64 {
        // SAFETY: CPython passes ints for lines and offsets; on a failure (never expected) the
        // error is cleared and the event is treated as having no line.
        let value = unsafe { ffi::PyLong_AsLongLong(arg) };
        if value == -1 && !unsafe { ffi::PyErr_Occurred() }.is_null() {
            // SAFETY: clearing the error just raised.
            unsafe { ffi::PyErr_Clear() };
        }
        value
    }

    /// LINE(code, line_number): a line event, as the legacy tracer's own LINE callback makes
    /// one (a location with no line number reports nothing).
    pub unsafe extern "C" fn on_line(
        _module: *mut ffi::PyObject,
        args: *mut *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls monitoring callbacks with the GIL held.
        let py = unsafe { Python::assume_attached() };
        if nargs < 2 {
            return outcome(py, LineOutcome::Continue);
        }
        // SAFETY: two borrowed arguments, as checked.
        let (code, line) = unsafe { (*args, *args.add(1)) };
        let line = int_arg(line);
        if line < 0 {
            return outcome(py, LineOutcome::Continue);
        }
        deliver(py, code, i32::try_from(line).unwrap_or(i32::MAX))
    }

    /// JUMP(code, from, to): `settrace` also reports a line event for a backward jump that
    /// stays on its line (a loop on one line, a comprehension's next item on 3.12+), which no
    /// LINE event covers. Every other jump is turned off where it is, as the legacy tracer
    /// does, so ticks count the same events whichever source delivers them.
    pub unsafe extern "C" fn on_jump(
        _module: *mut ffi::PyObject,
        args: *mut *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls monitoring callbacks with the GIL held.
        let py = unsafe { Python::assume_attached() };
        if nargs < 3 {
            return outcome(py, LineOutcome::Continue);
        }
        // SAFETY: three borrowed arguments, as checked.
        let (code, from, to) = unsafe { (*args, int_arg(*args.add(1)), int_arg(*args.add(2))) };
        if to > from {
            return outcome(py, LineOutcome::Disable);
        }
        let line_at = |offset: i64| {
            // SAFETY: `code` is the live code object of the event; offsets are in bytes, as
            // PyCode_Addr2Line takes them.
            unsafe { ffi::PyCode_Addr2Line(code.cast(), c_int::try_from(offset).unwrap_or(-1)) }
        };
        let to_line = line_at(to);
        if to_line != line_at(from) {
            return outcome(py, LineOutcome::Disable);
        }
        if to_line < 0 {
            return outcome(py, LineOutcome::Continue);
        }
        deliver(py, code, to_line)
    }

    /// PY_START / PY_RESUME(code, offset) on 3.13: nothing to do but be there. 3.13 hides the
    /// line event of a function's (or a resumed generator's) first instruction when it is on
    /// the line of its RESUME and that RESUME is not instrumented, which it is for `settrace`
    /// (it takes these events); with them on, both sources see the same line events (a
    /// lambda's, a class body's, a generator expression's first line). Library code turns its
    /// location off at once.
    #[cfg(Py_3_13)]
    pub unsafe extern "C" fn on_start(
        _module: *mut ffi::PyObject,
        args: *mut *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
    ) -> *mut ffi::PyObject {
        // SAFETY: CPython calls monitoring callbacks with the GIL held.
        let py = unsafe { Python::assume_attached() };
        let Some(setup) = SETUP.get().filter(|_| nargs >= 1) else {
            return outcome(py, LineOutcome::Continue);
        };
        let frame = TracedFrame {
            ptr: std::ptr::null_mut(),
            // SAFETY: at least one borrowed argument, as checked.
            code: unsafe { *args },
            line: -1,
            _life: PhantomData,
        };
        if (setup.user)(py, frame) {
            outcome(py, LineOutcome::Continue)
        } else {
            outcome(py, LineOutcome::Disable)
        }
    }

    /// No more events for sleepy's tool: the program traces itself now.
    pub fn stand_aside(py: Python<'_>) {
        if let Ok(mon) = py.import("sys").and_then(|s| s.getattr("monitoring")) {
            let _ = mon.call_method1("set_events", (TOOL, 0));
        }
    }

    pub fn make_callback<'py>(
        py: Python<'py>,
        name: &'static CStr,
        f: ffi::PyCFunctionFast,
    ) -> PyResult<Bound<'py, PyAny>> {
        let def = Box::leak(Box::new(ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer { PyCFunctionFast: f },
            ml_flags: ffi::METH_FASTCALL,
            ml_doc: std::ptr::null(),
        }));
        // SAFETY: the definition is leaked, so it outlives the function object; a new
        // reference or NULL with an exception set comes back.
        let f = unsafe { ffi::PyCFunction_NewEx(def, std::ptr::null_mut(), std::ptr::null_mut()) };
        if f.is_null() {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: a new reference.
        Ok(unsafe { Bound::from_owned_ptr(py, f) })
    }
}

/// Whether line events can come from `sys.monitoring` (3.12+, and the debugger's tool id was
/// free): then [`monitor_lines`] can take over from the trace function.
pub fn can_monitor_lines() -> bool {
    #[cfg(Py_3_12)]
    {
        monitoring::SETUP.get().is_some()
    }
    #[cfg(not(Py_3_12))]
    {
        false
    }
}

/// Claims `sys.monitoring`'s debugger tool id for sleepy and registers the line callbacks
/// (3.12+). Returns false, leaving everything to the trace function, on 3.11 or when the tool
/// id is taken.
pub fn setup_line_monitoring(
    py: Python<'_>,
    handler: LineHandler,
    user: UserCheck,
) -> PyResult<bool> {
    #[cfg(Py_3_12)]
    {
        if monitoring::SETUP.get().is_some() {
            return Ok(true);
        }
        let mon = py.import("sys")?.getattr("monitoring")?;
        if mon
            .call_method1("use_tool_id", (monitoring::TOOL, "sleepy"))
            .is_err()
        {
            return Ok(false);
        }
        let events = mon.getattr("events")?;
        let line: u32 = events.getattr("LINE")?.extract()?;
        let jump: u32 = events.getattr("JUMP")?.extract()?;
        let on_line = monitoring::make_callback(py, c"sleepy_line", monitoring::on_line)?;
        let on_jump = monitoring::make_callback(py, c"sleepy_jump", monitoring::on_jump)?;
        mon.call_method1("register_callback", (monitoring::TOOL, line, on_line))?;
        mon.call_method1("register_callback", (monitoring::TOOL, jump, on_jump))?;
        #[allow(unused_mut)]
        let mut wanted = line | jump;
        #[cfg(Py_3_13)]
        {
            let start: u32 = events.getattr("PY_START")?.extract()?;
            let resume: u32 = events.getattr("PY_RESUME")?.extract()?;
            let on_start = monitoring::make_callback(py, c"sleepy_start", monitoring::on_start)?;
            mon.call_method1("register_callback", (monitoring::TOOL, start, &on_start))?;
            mon.call_method1("register_callback", (monitoring::TOOL, resume, &on_start))?;
            wanted |= start | resume;
        }
        monitoring::add_audit_hook();
        #[cfg(not(Py_3_13))]
        let _ = user;
        let _ = monitoring::SETUP.set(monitoring::Setup {
            handler,
            #[cfg(Py_3_13)]
            user,
            disable: mon.getattr("DISABLE")?.unbind(),
            events: wanted,
        });
        Ok(true)
    }
    #[cfg(not(Py_3_12))]
    {
        let _ = (py, handler, user);
        Ok(false)
    }
}

/// Line events from `sys.monitoring` (`on`) instead of the trace function, or back. With
/// monitoring only user code pays for its lines (library locations are disabled once seen),
/// and no frame object is made for a line that only moves the tick; there are no call, return
/// or exception events, so the tracer switches only when it needs nothing but lines.
pub fn monitor_lines(py: Python<'_>, on: bool) -> PyResult<()> {
    #[cfg(Py_3_12)]
    {
        let Some(setup) = monitoring::SETUP.get() else {
            return Ok(());
        };
        if monitoring::FOREIGN_TRACER.load(std::sync::atomic::Ordering::Relaxed) {
            // The program's own trace function stays; sleepy sees nothing more.
            monitoring::stand_aside(py);
            return Ok(());
        }
        let mon = py.import("sys")?.getattr("monitoring")?;
        if on {
            // Removing the trace function is always allowed, also from inside it.
            monitoring::set_trace_own(None);
            mon.call_method1("set_events", (monitoring::TOOL, setup.events))?;
        } else {
            mon.call_method1("set_events", (monitoring::TOOL, 0))?;
            monitoring::set_trace_own(Some(trampoline));
        }
        Ok(())
    }
    #[cfg(not(Py_3_12))]
    {
        let _ = (py, on);
        Ok(())
    }
}

/// No events from either source (a forked child of the program, the end of the run).
pub fn stop_all_events(py: Python<'_>) {
    #[cfg(Py_3_12)]
    if monitoring::SETUP.get().is_some()
        && let Ok(mon) = py.import("sys").and_then(|s| s.getattr("monitoring"))
    {
        let _ = mon.call_method1("set_events", (monitoring::TOOL, 0));
    }
    set_trace(py, None);
}

/// Copies a frame's `f_locals` mapping back into its fast locals and cells, so that writes made
/// through `f_locals` take effect (3.11/3.12; on 3.13 `f_locals` writes through by itself).
pub fn locals_to_fast(frame: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = frame.py();
    let frame_type = py.import("types")?.getattr("FrameType")?;
    if !frame.is_instance(&frame_type)? {
        return Err(pyo3::exceptions::PyTypeError::new_err("not a frame"));
    }
    // On 3.11 clear=1, as pdb's trampoline does: a name the statement deleted from the snapshot
    // becomes unbound (`!del x`). On 3.12 clear=1 would bind None to every local not yet
    // assigned, so deletion is not carried over there; 3.13's f_locals writes through itself.
    #[cfg(not(Py_3_12))]
    let clear = 1;
    #[cfg(all(Py_3_12, not(Py_3_13)))]
    let clear = 0;
    #[cfg(not(Py_3_13))]
    // SAFETY: `frame` is a live frame object (checked above) and the GIL is held.
    unsafe {
        ffi::PyFrame_LocalsToFast(frame.as_ptr().cast(), clear)
    };
    if PyErr::occurred(py) {
        return Err(PyErr::fetch(py));
    }
    Ok(())
}

unsafe extern "C" {
    // Exported by libpython (cpython/object.h) on 3.11-3.13; pyo3-ffi leaves it out as private.
    fn _PyType_Lookup(tp: *mut ffi::PyTypeObject, name: *mut ffi::PyObject) -> *mut ffi::PyObject;
}

/// CPython's `_PyObject_LookupSpecial`: a special method looked up on the object's *type* (its
/// MRO, not the instance or the metaclass), bound to the object. `None` when the type has none.
/// This is how `with` finds `__enter__`/`__exit__`, so the rewritten `with` finds the same ones.
pub fn lookup_special<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, pyo3::types::PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = obj.py();
    // SAFETY: both objects are alive (borrowed from Bounds) and the GIL is held; _PyType_Lookup
    // returns a borrowed reference (or NULL without an exception set).
    let found = unsafe { _PyType_Lookup(ffi::Py_TYPE(obj.as_ptr()), name.as_ptr()) };
    if found.is_null() {
        return Ok(None);
    }
    // SAFETY: `found` is a live object owned by the type's dict; we take a new reference to it
    // before calling anything that could run Python code.
    let found = unsafe { Bound::from_borrowed_ptr(py, found) };
    // SAFETY: reading the type slot of a live object's type.
    let getter = unsafe { (*ffi::Py_TYPE(found.as_ptr())).tp_descr_get };
    match getter {
        Some(get) => {
            // SAFETY: calling the descriptor's own tp_descr_get with live arguments, as CPython
            // does; it returns a new reference or NULL with an exception set.
            let bound = unsafe {
                get(
                    found.as_ptr(),
                    obj.as_ptr(),
                    ffi::Py_TYPE(obj.as_ptr()).cast(),
                )
            };
            if bound.is_null() {
                Err(PyErr::fetch(py))
            } else {
                // SAFETY: a new reference returned by tp_descr_get.
                Ok(Some(unsafe { Bound::from_owned_ptr(py, bound) }))
            }
        }
        None => Ok(Some(found)),
    }
}

/// The C-level name of an object's type (`tp_name`), as CPython's own error messages print it.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    // SAFETY: every type has a NUL-terminated tp_name that lives as long as the type, which the
    // object keeps alive.
    unsafe { CStr::from_ptr((*ffi::Py_TYPE(obj.as_ptr())).tp_name) }
        .to_string_lossy()
        .into_owned()
}

/// What `__sleepy_iter__` does with an iterator whose type has no `__iter__` (rare).
pub type IteratorFallback = for<'py> fn(Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>;

static ITER_FALLBACK: OnceLock<IteratorFallback> = OnceLock::new();

/// `GET_ITER` as a builtin called once per loop start, so it must cost what GET_ITER costs: a
/// METH_O C function (no argument parsing) over `PyObject_GetIter`, with the proxy fallback
/// only for an iterator that could not be iterated a second time.
unsafe extern "C" fn fast_iter(
    _module: *mut ffi::PyObject,
    obj: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a METH_O function with the GIL held and one borrowed argument.
    let it = unsafe { ffi::PyObject_GetIter(obj) };
    if it.is_null() {
        return it;
    }
    // A builtin iterator (list, range, dict views, generators...) returns itself from the
    // second iter() without running any code: the common case, decided by one slot read.
    // SAFETY: `it` is a live object returned by PyObject_GetIter; reading its type's slot.
    // Compared as addresses: the slot holds exactly the pointer CPython exports.
    let self_iter = ffi::PyObject_SelfIter as ffi::getiterfunc as usize;
    if unsafe { (*ffi::Py_TYPE(it)).tp_iter }.map(|f| f as usize) == Some(self_iter) {
        return it;
    }
    let Some(fallback) = ITER_FALLBACK.get() else {
        return it;
    };
    // SAFETY: the GIL is held (see above); `it` is a new reference we own.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: as above, taking ownership of the new reference.
    let owned = unsafe { Bound::from_owned_ptr(py, it) };
    match fallback(owned) {
        Ok(wrapped) => wrapped.into_ptr(),
        Err(e) => {
            e.restore(py);
            std::ptr::null_mut()
        }
    }
}

/// The `__sleepy_iter__` builtin (see [`fast_iter`]).
pub fn make_fast_iter(py: Python<'_>, fallback: IteratorFallback) -> PyResult<Bound<'_, PyAny>> {
    let _ = ITER_FALLBACK.set(fallback);
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"__sleepy_iter__".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: fast_iter,
        },
        ml_flags: ffi::METH_O,
        ml_doc: c"__sleepy_iter__(obj, /)\n--\n\niter(obj), usable by a second iter() (sleepy's rewritten for loops)".as_ptr(),
    }));
    // Its module is `builtins`, where it is installed: pickle finds a builtin function there.
    let module = pyo3::types::PyString::new(py, "builtins");
    // SAFETY: the method definition is leaked, so it lives as long as the function object;
    // PyCFunction_NewEx takes its own reference to the module name and returns a new
    // reference or NULL with an exception set.
    let f = unsafe { ffi::PyCFunction_NewEx(def, std::ptr::null_mut(), module.as_ptr()) };
    if f.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new reference.
    Ok(unsafe { Bound::from_owned_ptr(py, f) })
}
