//! The helpers rewritten code calls, installed in `builtins` under `__sleepy_*__` names.
//!
//! They are native functions on purpose: a Python helper would add a frame to every traceback
//! that passes through it, and rewritten programs must print the tracebacks the originals print.
//! Each one reproduces the bytecode it stands in for, error messages included (3.11's
//! `GET_ITER`, `GET_AITER`, `BEFORE_WITH`, `BEFORE_ASYNC_WITH`, `GET_AWAITABLE`).

use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::agent::cpython::{lookup_special, type_name};

/// An iterator whose type has `__next__` but no `__iter__`: a `for` loop accepts it from
/// `iter()`, but the rewritten loop calls `iter()` a second time on it. The proxy answers that
/// second call with itself.
#[pyclass(module = "sleepy")]
struct IterProxy {
    inner: Py<PyAny>,
}

#[pymethods]
impl IterProxy {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match self.inner.bind(py).call_method0(intern!(py, "__next__")) {
            Ok(v) => Ok(Some(v.unbind())),
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => Err(e),
            Err(e) => Err(e),
        }
    }
}

/// The same for an async iterator with `__anext__` and no `__aiter__`.
#[pyclass(module = "sleepy")]
struct AsyncIterProxy {
    inner: Py<PyAny>,
}

#[pymethods]
impl AsyncIterProxy {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.inner.bind(py).call_method0(intern!(py, "__anext__")) {
            Ok(v) => Ok(v.unbind()),
            Err(e) if e.is_instance_of::<PyStopAsyncIteration>(py) => Err(e),
            Err(e) => Err(e),
        }
    }
}

/// `GET_ITER`: `iter(obj)`, kept usable by a second `iter()`.
#[pyfunction]
#[pyo3(name = "__sleepy_iter__")]
fn sleepy_iter<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let it = obj.try_iter()?.into_any();
    if lookup_special(&it, intern!(py, "__iter__"))?.is_some() {
        return Ok(it);
    }
    Ok(Bound::new(py, IterProxy { inner: it.unbind() })?.into_any())
}

/// `GET_AITER`, with its messages.
#[pyfunction]
#[pyo3(name = "__sleepy_aiter__")]
fn sleepy_aiter<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let Some(getter) = lookup_special(obj, intern!(py, "__aiter__"))? else {
        return Err(PyTypeError::new_err(format!(
            "'async for' requires an object with __aiter__ method, got {}",
            truncate(&type_name(obj), 100)
        )));
    };
    let it = getter.call0()?;
    if lookup_special(&it, intern!(py, "__anext__"))?.is_none() {
        return Err(PyTypeError::new_err(format!(
            "'async for' received an object from __aiter__ that does not implement __anext__: {}",
            truncate(&type_name(&it), 100)
        )));
    }
    if lookup_special(&it, intern!(py, "__aiter__"))?.is_some() {
        return Ok(it);
    }
    Ok(Bound::new(py, AsyncIterProxy { inner: it.unbind() })?.into_any())
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// `BEFORE_WITH`: looks up `__enter__` then `__exit__` on the manager's type, calls
/// `__enter__`; returns `(bound __exit__, what __enter__ returned)`.
#[pyfunction]
#[pyo3(name = "__sleepy_enter__")]
fn sleepy_enter<'py>(mgr: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let py = mgr.py();
    let protocol = || {
        format!(
            "'{}' object does not support the context manager protocol",
            truncate(&type_name(mgr), 200)
        )
    };
    let Some(enter) = lookup_special(mgr, intern!(py, "__enter__"))? else {
        return Err(PyTypeError::new_err(protocol()));
    };
    let Some(exit) = lookup_special(mgr, intern!(py, "__exit__"))? else {
        return Err(PyTypeError::new_err(format!("{} (missed __exit__ method)", protocol())));
    };
    let value = enter.call0()?;
    PyTuple::new(py, [exit, value])
}

/// `BEFORE_ASYNC_WITH` + `GET_AWAITABLE 1`: returns `(bound __aexit__, the awaitable
/// __aenter__ returned)`; the rewritten code awaits it.
#[pyfunction]
#[pyo3(name = "__sleepy_aenter__")]
fn sleepy_aenter<'py>(mgr: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let py = mgr.py();
    let protocol = || {
        format!(
            "'{}' object does not support the asynchronous context manager protocol",
            truncate(&type_name(mgr), 200)
        )
    };
    let Some(enter) = lookup_special(mgr, intern!(py, "__aenter__"))? else {
        return Err(PyTypeError::new_err(protocol()));
    };
    let Some(exit) = lookup_special(mgr, intern!(py, "__aexit__"))? else {
        return Err(PyTypeError::new_err(format!("{} (missed __aexit__ method)", protocol())));
    };
    let awaitable = enter.call0()?;
    check_awaitable(&awaitable, 1)?;
    PyTuple::new(py, [exit, awaitable])
}

/// `GET_AWAITABLE 2`: what `__aexit__` returned must be awaitable.
#[pyfunction]
#[pyo3(name = "__sleepy_awaitable__")]
fn sleepy_awaitable<'py>(obj: Bound<'py, PyAny>, place: i32) -> PyResult<Bound<'py, PyAny>> {
    check_awaitable(&obj, place)?;
    Ok(obj)
}

/// What `_PyCoro_GetAwaitableIter` accepts, with `format_awaitable_error`'s messages.
fn check_awaitable(obj: &Bound<'_, PyAny>, place: i32) -> PyResult<()> {
    let py = obj.py();
    let types = py.import(intern!(py, "types"))?;
    if obj.get_type().is(&types.getattr(intern!(py, "CoroutineType"))?) {
        return Ok(());
    }
    if obj.get_type().is(&types.getattr(intern!(py, "GeneratorType"))?) {
        // A generator-based coroutine (@types.coroutine) is awaitable.
        let flags: i64 = obj.getattr(intern!(py, "gi_code"))?.getattr(intern!(py, "co_flags"))?.extract()?;
        if flags & 0x100 != 0 {
            return Ok(());
        }
    }
    if lookup_special(obj, intern!(py, "__await__"))?.is_some() {
        return Ok(());
    }
    let which = if place == 1 { "__aenter__" } else { "__aexit__" };
    Err(PyTypeError::new_err(format!(
        "'async with' received an object from {which} that does not implement __await__: {}",
        truncate(&type_name(obj), 100)
    )))
}

/// Puts the helpers where rewritten code finds them: in `builtins`.
pub fn install(py: Python<'_>) -> PyResult<()> {
    let builtins = py.import("builtins")?;
    let module = pyo3::types::PyModule::new(py, "sleepy")?;
    for f in [
        wrap_pyfunction!(sleepy_iter, &module)?,
        wrap_pyfunction!(sleepy_aiter, &module)?,
        wrap_pyfunction!(sleepy_enter, &module)?,
        wrap_pyfunction!(sleepy_aenter, &module)?,
        wrap_pyfunction!(sleepy_awaitable, &module)?,
    ] {
        let name: String = f.getattr("__name__")?.extract()?;
        builtins.setattr(name.as_str(), f)?;
    }
    // Inside an except block, the handled exception: exactly what `with` passes to __exit__.
    builtins.setattr("__sleepy_exc__", py.import("sys")?.getattr("exc_info")?)?;
    Ok(())
}
