//! `input()` for runs with time travel.
//!
//! CPython's own `input()` reads a terminal through C stdio (`fgets` on the C `stdin`, the prompt
//! through `fprintf(stderr)`), whose system calls the record/replay layer cannot see: a replay
//! would print the prompt again and wait for the user. This one takes the path CPython's takes
//! when stdin is not a terminal, through `sys.stdout` and `sys.stdin`, whose reads and writes
//! the layer records and replays. It is a builtin function, like the one it replaces, so
//! tracebacks and `type(input)` are the same.

use pyo3::exceptions::{PyEOFError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// Read a string from standard input.  The trailing newline is stripped.
///
/// The prompt string, if given, is printed to standard output without a
/// trailing newline before reading input.
///
/// If the user hits EOF (*nix: Ctrl-D, Windows: Ctrl-Z+Return), raise EOFError.
/// On *nix systems, readline is used if available.
#[pyfunction]
#[pyo3(signature = (prompt = None, /))]
fn input<'py>(py: Python<'py>, prompt: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let sys = py.import("sys")?;
    let stream = |name: &str, what: &str| -> PyResult<Bound<'py, PyAny>> {
        match sys.getattr(name) {
            Ok(s) if !s.is_none() => Ok(s),
            _ => Err(PyRuntimeError::new_err(format!("input(): lost sys.{what}"))),
        }
    };
    let fin = stream("stdin", "stdin")?;
    let fout = stream("stdout", "stdout")?;
    let ferr = stream("stderr", "stderr")?;
    let audit = sys.getattr("audit")?;
    audit.call1((
        "builtins.input",
        prompt.clone().unwrap_or_else(|| py.None().into_bound(py)),
    ))?;
    if ferr.call_method0("flush").is_err() {
        // CPython ignores a stderr that cannot flush here.
        let _ = PyErr::take(py);
    }
    if let Some(prompt) = &prompt {
        fout.call_method1("write", (prompt.str()?,))?;
    }
    if fout.call_method0("flush").is_err() {
        let _ = PyErr::take(py);
    }
    // CPython reads a terminal through PyOS_Readline, whose end of file is a bare EOFError.
    let on_tty = |f: &Bound<'py, PyAny>, fd: i32| {
        f.call_method0("fileno")
            .and_then(|n| n.extract::<i32>())
            .is_ok_and(|n| n == fd)
            && f.call_method0("isatty")
                .and_then(|t| t.is_truthy())
                .unwrap_or(false)
    };
    let tty = on_tty(&fin, 0) && on_tty(&fout, 1);
    let _ = PyErr::take(py);
    let eof = || {
        if tty {
            PyEOFError::new_err(())
        } else {
            PyEOFError::new_err("EOF when reading a line")
        }
    };
    let line = fin.call_method0("readline")?;
    let result = if let Ok(text) = line.cast::<PyString>() {
        let s = text.to_str()?;
        if s.is_empty() {
            return Err(eof());
        }
        match s.strip_suffix('\n') {
            Some(stripped) => PyString::new(py, stripped).into_any(),
            None => line.clone(),
        }
    } else if let Ok(bytes) = line.cast::<PyBytes>() {
        let b = bytes.as_bytes();
        if b.is_empty() {
            return Err(eof());
        }
        match b.strip_suffix(b"\n") {
            Some(stripped) => PyBytes::new(py, stripped).into_any(),
            None => line.clone(),
        }
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "object.readline() returned non-string",
        ));
    };
    audit.call1(("builtins.input/result", &result))?;
    Ok(result)
}

/// Replaces `builtins.input`.
pub fn install(py: Python<'_>) -> PyResult<()> {
    let module = pyo3::types::PyModule::new(py, "builtins")?;
    let f = wrap_pyfunction!(input, &module)?;
    f.setattr("__module__", "builtins")?;
    py.import("builtins")?.setattr("input", f)?;
    Ok(())
}
