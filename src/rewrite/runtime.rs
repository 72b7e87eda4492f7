//! The helpers rewritten code calls, installed in `builtins` under `__sleepy_*__` names.
//!
//! They are native functions on purpose: a Python helper would add a frame to every traceback
//! that passes through it (and to `sys.settrace`), and rewritten programs must print the
//! tracebacks the originals print. Each one reproduces the bytecode it stands in for, error
//! messages included (3.11's `GET_ITER`, `GET_AITER`, `BEFORE_WITH`, `BEFORE_ASYNC_WITH`,
//! `GET_AWAITABLE`, and the truth test a `with` applies to what `__exit__` returns).
//!
//! The unit tests of the rewriter run against pure-Python stand-ins of these helpers
//! (`py/tests/_support.py`, `STAND_INS`); keep the two in step. `tests/rewrite_semantics.rs`
//! checks these, the real ones, against python3.

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyTuple, PyType};

use crate::agent::cpython::{lookup_special, type_name};

static METHOD_WRAPPER: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static PLAIN_ITERATORS: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();
static COROUTINE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static GENERATOR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Whether the special method `name` of `obj`'s type is CPython's own slot wrapper (the type
/// is written in C, and its slot does what CPython's types do), as opposed to Python code or
/// nothing at all. Bound to `obj`, a slot wrapper is a `method-wrapper`.
fn is_c_slot(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>) -> PyResult<bool> {
    let py = obj.py();
    let Some(found) = lookup_special(obj, name)? else {
        return Ok(false);
    };
    Ok(found
        .get_type()
        .is(METHOD_WRAPPER.import(py, "types", "MethodWrapperType")?))
}

/// The iterator of a rewritten `for` loop when calling `iter()` on it again (the loop does)
/// would not simply give it back: its type has no `__iter__`, or a Python one (which could do
/// anything, and which python3 calls only once). The proxy is its own iterator and steps the
/// wrapped one with its type's `__next__`, as `FOR_ITER` does (a StopIteration that `__next__`
/// raises goes through unchanged, so the loop's frame sees the same `exception` trace event).
#[pyclass(module = "sleepy")]
struct IterProxy {
    inner: Py<PyAny>,
}

#[pymethods]
impl IterProxy {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The wrapped iterator (what a snapshot of the loop has to save).
    #[getter]
    fn inner(&self, py: Python<'_>) -> Py<PyAny> {
        self.inner.clone_ref(py)
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inner = self.inner.bind(py);
        let Some(next) = lookup_special(inner, intern!(py, "__next__"))? else {
            return Err(PyTypeError::new_err(format!(
                "'{}' object is not an iterator",
                truncate(&type_name(inner), 200)
            )));
        };
        Ok(next.call0()?.unbind())
    }
}

/// The same for an async iterator whose type has no `__aiter__` or a Python one: steps it with
/// its type's `__anext__`, as `GET_ANEXT` does.
#[pyclass(module = "sleepy")]
struct AsyncIterProxy {
    inner: Py<PyAny>,
}

#[pymethods]
impl AsyncIterProxy {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The wrapped async iterator.
    #[getter]
    fn inner(&self, py: Python<'_>) -> Py<PyAny> {
        self.inner.clone_ref(py)
    }

    fn __anext__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inner = self.inner.bind(py);
        let Some(anext) = lookup_special(inner, intern!(py, "__anext__"))? else {
            return Err(PyTypeError::new_err(format!(
                "'async for' requires an iterator with __anext__ method, got {}",
                truncate(&type_name(inner), 100)
            )));
        };
        Ok(anext.call0()?.unbind())
    }
}

/// The iterators of CPython's own types that loops run over most, whose `__iter__` returns
/// them: checked first, by identity of their exact type, to spare a loop the general test.
fn plain_iterators(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    PLAIN_ITERATORS.get_or_try_init(py, || {
        let types = py.eval(
            pyo3::ffi::c_str!(
                "tuple(type(x) for x in (iter([]), iter(()), iter(range(0)), iter(range(1 << 70)), \
                 iter(''), iter({}), iter({}.values()), iter({}.items()), iter(set()), iter(b''), \
                 reversed([]), enumerate(()), zip(), map(len, ()), filter(None, ()), \
                 (lambda: (yield))()))"
            ),
            None,
            None,
        )?;
        types
            .try_iter()?
            .map(|t| Ok(t?.cast_into::<PyType>()?.unbind()))
            .collect()
    })
}

/// `GET_ITER`: `iter(obj)`; see [`IterProxy`] for when the iterator is wrapped.
#[pyfunction]
#[pyo3(name = "__sleepy_iter__")]
fn sleepy_iter<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    wrap_iterator(obj.try_iter()?.into_any())
}

/// What the loop iterates: the iterator itself, or a proxy when a second `iter()` on it would
/// run Python code (or fail). The METH_O `__sleepy_iter__` (agent/cpython.rs) calls this for
/// every iterator whose type is not a builtin one.
fn wrap_iterator(it: Bound<'_, PyAny>) -> PyResult<Bound<'_, PyAny>> {
    let py = it.py();
    let tp = it.get_type();
    if plain_iterators(py)?.iter().any(|known| tp.is(known))
        || is_c_slot(&it, intern!(py, "__iter__"))?
    {
        return Ok(it);
    }
    Ok(Bound::new(py, IterProxy { inner: it.unbind() })?.into_any())
}

/// `GET_AITER`, with its messages; see [`AsyncIterProxy`] for when the iterator is wrapped.
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
    if is_c_slot(&it, intern!(py, "__aiter__"))? {
        return Ok(it);
    }
    Ok(Bound::new(py, AsyncIterProxy { inner: it.unbind() })?.into_any())
}

/// C's `%.<max>s` on a UTF-8 string: at most `max` bytes, a character cut in two replaced by
/// U+FFFD (PyUnicode_FromFormat decodes with "replace").
fn truncate(text: &str, max: usize) -> String {
    let bytes = text.as_bytes();
    if bytes.len() <= max {
        return text.to_owned();
    }
    String::from_utf8_lossy(&bytes[..max]).into_owned()
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
        return Err(PyTypeError::new_err(format!(
            "{} (missed __exit__ method)",
            protocol()
        )));
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
        return Err(PyTypeError::new_err(format!(
            "{} (missed __aexit__ method)",
            protocol()
        )));
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

/// What a rewritten `with`'s handler catches (its `except` clause's type): everything when
/// `__exit__` returned a true value (the exception is suppressed), nothing otherwise (it goes
/// on). The truth test is `POP_JUMP_IF_TRUE`'s; `flag` is only there to be evaluated first.
#[pyfunction]
#[pyo3(name = "__sleepy_suppress__")]
fn sleepy_suppress<'py>(
    flag: &Bound<'py, PyAny>,
    result: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let _ = flag;
    let py = result.py();
    if result.is_truthy()? {
        Ok(py
            .get_type::<pyo3::exceptions::PyBaseException>()
            .into_any())
    } else {
        Ok(PyTuple::empty(py).into_any())
    }
}

/// `sys.exc_info()`: inside an except block, the handled exception, exactly what `with` passes
/// to `__exit__`. A function of its own, not `sys.exc_info` itself: a program that maps the
/// values in `builtins` back to their names (chameleon's code generator does) must not find
/// `sys.exc_info` there under a sleepy name.
#[pyfunction]
#[pyo3(name = "__sleepy_exc__")]
fn sleepy_exc(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("sys")?.getattr("exc_info")?.call0()
}

/// What `_PyCoro_GetAwaitableIter` accepts, with `format_awaitable_error`'s messages. Only the
/// presence of `__await__` is checked here; the `await` that follows calls it (and reports
/// what it returns, as CPython does).
fn check_awaitable(obj: &Bound<'_, PyAny>, place: i32) -> PyResult<()> {
    let py = obj.py();
    let tp = obj.get_type();
    if tp.is(COROUTINE.import(py, "types", "CoroutineType")?) {
        return Ok(());
    }
    if tp.is(GENERATOR.import(py, "types", "GeneratorType")?) {
        // A generator-based coroutine (@types.coroutine) is awaitable.
        let flags: i64 = obj
            .getattr(intern!(py, "gi_code"))?
            .getattr(intern!(py, "co_flags"))?
            .extract()?;
        if flags & 0x100 != 0 {
            return Ok(());
        }
    }
    if lookup_special(obj, intern!(py, "__await__"))?.is_some() {
        return Ok(());
    }
    let which = if place == 1 {
        "__aenter__"
    } else {
        "__aexit__"
    };
    Err(PyTypeError::new_err(format!(
        "'async with' received an object from {which} that does not implement __await__: {}",
        truncate(&type_name(obj), 100)
    )))
}

/// Puts the helpers where rewritten code finds them: in `builtins`.
pub fn install(py: Python<'_>) -> PyResult<()> {
    let builtins = py.import("builtins")?;
    let module = pyo3::types::PyModule::new(py, "sleepy")?;
    // The loop-start helper is a METH_O C function: it runs once per loop, so it must cost what
    // GET_ITER costs. The pyo3 version (`sleepy_iter`) is what it falls back to.
    builtins.setattr(
        "__sleepy_iter__",
        crate::agent::cpython::make_fast_iter(py, wrap_iterator)?,
    )?;
    let _ = wrap_pyfunction!(sleepy_iter, &module)?;
    for f in [
        wrap_pyfunction!(sleepy_aiter, &module)?,
        wrap_pyfunction!(sleepy_enter, &module)?,
        wrap_pyfunction!(sleepy_aenter, &module)?,
        wrap_pyfunction!(sleepy_awaitable, &module)?,
        wrap_pyfunction!(sleepy_suppress, &module)?,
        wrap_pyfunction!(sleepy_exc, &module)?,
    ] {
        let name: String = f.getattr("__name__")?.extract()?;
        // Found where they live, so that pickle (which pickles a builtin function by module
        // and name, as it does every builtin) finds them: a program that pickles every
        // builtin must not fail on these.
        f.setattr("__module__", "builtins")?;
        builtins.setattr(name.as_str(), f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncation_counts_bytes_like_c() {
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("abc", 3), "abc");
        // 'é' is two bytes: cut in two, it becomes U+FFFD, as PyUnicode_FromFormat does.
        assert_eq!(truncate("aé", 2), "a\u{fffd}");
        assert_eq!(truncate("a€b", 3), "a\u{fffd}");
        assert_eq!(truncate("aéb", 3), "aé");
    }
}
