"""Helpers for the tests of the rewriter (``sleepy_rewrite.py``) and the import hook
(``sleepy_import.py``).

Loading. The agent does not import these modules from disk: it compiles their source (embedded
in the binary) under its own file names and registers them under its own module names. The
rewriter is ``_sleepy_rewrite`` from ``<sleepy>/rewrite.py``; the import hook is
``_sleepy_import`` from ``<frozen importlib._bootstrap_external>`` (CPython trims frames of that
file from import tracebacks, which is what makes a syntax error in a rewritten module print as
python3 prints it). ``load_rewrite`` and ``load_import`` do the same here.

The runtime helpers. Rewritten code calls ``__sleepy_iter__``, ``__sleepy_aiter__``,
``__sleepy_enter__``, ``__sleepy_aenter__``, ``__sleepy_awaitable__``, ``__sleepy_suppress__``
and ``__sleepy_exc__``
from ``builtins``. In the agent they are native functions (``src/rewrite/runtime.rs``), which
exist only inside the sleepy binary. ``install_stand_ins`` installs pure-Python stand-ins that
behave the same way, error messages included; KEEP THEM IN STEP WITH runtime.rs. The one thing a
Python function cannot do like a native one is to stay out of tracebacks and of ``sys.settrace``:
the stand-ins are compiled under the file name ``STAND_IN_FILE``, and the comparisons below drop
the traceback entries and trace events of that file. (The real helpers are checked against
python3 byte for byte, tracebacks included, by ``tests/rewrite_semantics.rs``.)

Running a program. ``run_program(source, rewritten)`` executes a program in this process as
module ``__main__``-like namespace, with its source registered in ``linecache`` (so tracebacks
show source lines and carets), and returns everything an observer can see: stdout, stderr,
the uncaught exception's full report (chained exceptions included), its chain as data, the line
events (optional) and the hidden names left behind.

Run the tests with any of:
    python3 -m unittest discover -s src/rewrite/py/tests -t src/rewrite/py -v   (from the repository)
    python3 -m unittest                                                       (from src/rewrite/py)
    cargo test --test rewrite_unit
"""

import builtins
import contextlib
import io
import linecache
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import types

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PY_DIR = os.path.dirname(TESTS_DIR)
PYTHON = sys.executable

REWRITE_FILE = "<sleepy>/rewrite.py"
IMPORT_FILE = "<frozen importlib._bootstrap_external>"
STAND_IN_FILE = "<sleepy runtime stand-in>"


def _load(path, modname, filename):
    mod = sys.modules.get(modname)
    if mod is not None:
        return mod
    with open(os.path.join(PY_DIR, path), encoding="utf-8") as f:
        source = f.read()
    mod = types.ModuleType(modname)
    mod.__file__ = filename
    sys.modules[modname] = mod
    try:
        exec(compile(source, filename, "exec", dont_inherit=True), mod.__dict__)
    except BaseException:
        del sys.modules[modname]
        raise
    mod.SOURCE = source
    return mod


def load_rewrite():
    """``sleepy_rewrite.py`` as the agent loads it."""
    return _load("sleepy_rewrite.py", "_sleepy_rewrite", REWRITE_FILE)


def load_import():
    """``sleepy_import.py`` as the agent loads it."""
    return _load("sleepy_import.py", "_sleepy_import", IMPORT_FILE)


# --- stand-ins for src/rewrite/runtime.rs ------------------------------------------------------

STAND_INS = r'''
import sys as _sys
import types as _types

_HEAPTYPE = 1 << 9
_ITERABLE_COROUTINE = 0x100
_type_dict = type.__dict__["__dict__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_MISSING = object()


def _type_lookup(tp, name):
    """_PyType_Lookup: ``name`` in the dicts of ``tp``'s MRO, unbound."""
    for klass in _type_mro(tp):
        d = _type_dict(klass)
        if name in d:
            return d[name]
    return _MISSING


def _lookup_special(obj, name):
    """_PyObject_LookupSpecial: looked up on the type, bound by the descriptor's __get__."""
    tp = type(obj)
    found = _type_lookup(tp, name)
    if found is _MISSING:
        return _MISSING
    get = _type_lookup(type(found), "__get__")
    if get is _MISSING:
        return found
    return get(found, obj, tp)


def _tp_name(tp):
    """``Py_TYPE(obj)->tp_name``."""
    if type(tp).__flags__ & _HEAPTYPE or tp.__flags__ & _HEAPTYPE:
        return tp.__name__
    module = tp.__module__
    return tp.__name__ if module == "builtins" else "%s.%s" % (module, tp.__name__)


def _truncate(text, size):
    """``%.<size>s``: at most ``size`` bytes of UTF-8, a cut character replaced by U+FFFD."""
    return text.encode("utf-8", "surrogatepass")[:size].decode("utf-8", "replace")


def _is_c_slot(obj, name):
    """The type's special method is CPython's own slot wrapper (bound: a method-wrapper)."""
    found = _lookup_special(obj, name)
    return found is not _MISSING and type(found) is _types.MethodWrapperType


class IterProxy:
    """Stands for runtime.rs's IterProxy: steps ``inner`` with its type's __next__."""

    __slots__ = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    def __iter__(self):
        return self

    def __next__(self):
        found = _lookup_special(self.inner, "__next__")
        if found is _MISSING:
            raise TypeError("'%s' object is not an iterator" % _truncate(_tp_name(type(self.inner)), 200))
        return found()


class AsyncIterProxy:
    """Stands for runtime.rs's AsyncIterProxy: steps ``inner`` with its type's __anext__."""

    __slots__ = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    def __aiter__(self):
        return self

    def __anext__(self):
        found = _lookup_special(self.inner, "__anext__")
        if found is _MISSING:
            raise TypeError(
                "'async for' requires an iterator with __anext__ method, got %s"
                % _truncate(_tp_name(type(self.inner)), 100)
            )
        return found()


def __sleepy_iter__(obj):
    it = iter(obj)
    if _is_c_slot(it, "__iter__"):
        return it
    return IterProxy(it)


def __sleepy_aiter__(obj):
    getter = _lookup_special(obj, "__aiter__")
    if getter is _MISSING:
        raise TypeError(
            "'async for' requires an object with __aiter__ method, got %s"
            % _truncate(_tp_name(type(obj)), 100)
        )
    it = getter()
    if _lookup_special(it, "__anext__") is _MISSING:
        raise TypeError(
            "'async for' received an object from __aiter__ that does not implement __anext__: %s"
            % _truncate(_tp_name(type(it)), 100)
        )
    if _is_c_slot(it, "__aiter__"):
        return it
    return AsyncIterProxy(it)


def __sleepy_enter__(mgr):
    enter = _lookup_special(mgr, "__enter__")
    if enter is _MISSING:
        raise TypeError(
            "'%s' object does not support the context manager protocol"
            % _truncate(_tp_name(type(mgr)), 200)
        )
    exit = _lookup_special(mgr, "__exit__")
    if exit is _MISSING:
        raise TypeError(
            "'%s' object does not support the context manager protocol (missed __exit__ method)"
            % _truncate(_tp_name(type(mgr)), 200)
        )
    return exit, enter()


def __sleepy_aenter__(mgr):
    enter = _lookup_special(mgr, "__aenter__")
    if enter is _MISSING:
        raise TypeError(
            "'%s' object does not support the asynchronous context manager protocol"
            % _truncate(_tp_name(type(mgr)), 200)
        )
    exit = _lookup_special(mgr, "__aexit__")
    if exit is _MISSING:
        raise TypeError(
            "'%s' object does not support the asynchronous context manager protocol "
            "(missed __aexit__ method)" % _truncate(_tp_name(type(mgr)), 200)
        )
    awaitable = enter()
    _check_awaitable(awaitable, 1)
    return exit, awaitable


def __sleepy_suppress__(flag, result):
    """What a with's handler catches: everything when __exit__'s result is true."""
    return BaseException if result else ()


def __sleepy_awaitable__(obj, place):
    _check_awaitable(obj, place)
    return obj


def _check_awaitable(obj, place):
    tp = type(obj)
    if tp is _types.CoroutineType:
        return
    if tp is _types.GeneratorType and obj.gi_code.co_flags & _ITERABLE_COROUTINE:
        return
    if _lookup_special(obj, "__await__") is not _MISSING:
        return
    raise TypeError(
        "'async with' received an object from %s that does not implement __await__: %s"
        % ("__aenter__" if place == 1 else "__aexit__", _truncate(_tp_name(tp), 100))
    )


def __sleepy_exc__():
    return _sys.exc_info()
'''

HELPER_NAMES = (
    "__sleepy_iter__",
    "__sleepy_aiter__",
    "__sleepy_enter__",
    "__sleepy_aenter__",
    "__sleepy_awaitable__",
    "__sleepy_suppress__",
    "__sleepy_exc__",
)

_stand_ins = None


def stand_ins():
    """The stand-in module (compiled under STAND_IN_FILE)."""
    global _stand_ins
    if _stand_ins is None:
        mod = types.ModuleType("_sleepy_runtime_stand_in")
        mod.__file__ = STAND_IN_FILE
        exec(compile(STAND_INS, STAND_IN_FILE, "exec", dont_inherit=True), mod.__dict__)
        _stand_ins = mod
    return _stand_ins


def install_stand_ins():
    """Puts the stand-ins in builtins, where the agent puts the native helpers."""
    mod = stand_ins()
    for name in HELPER_NAMES:
        helper = getattr(mod, name)
        # Pickled by reference, like the native ones (runtime.rs sets the same).
        helper.__module__ = "builtins"
        helper.__qualname__ = name
        setattr(builtins, name, helper)


install_stand_ins()

# --- running a program, original or rewritten --------------------------------------------------

MARKER_BASE = 10_000_000


class Result:
    """What an observer of one run can see."""

    def __init__(self):
        self.stdout = ""
        self.stderr = ""
        self.report = None  # the uncaught exception, printed as python3 prints it
        self.chain = None  # the uncaught exception's chain, as data
        self.events = None
        self.leftovers = []  # hidden names left in the module's globals or class dicts
        self.namespace = None

    def observed(self):
        return {
            "stdout": self.stdout,
            "stderr": self.stderr,
            "report": self.report,
            "chain": self.chain,
        }


def drop_stand_in_frames(tb):
    """The traceback without the stand-ins' entries (a native helper has none)."""
    entries = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != STAND_IN_FILE:
            entries.append(tb)
        tb = tb.tb_next
    return entries


def describe_chain(exc, seen=None):
    """An exception and everything chained to it, as comparable data."""
    if exc is None:
        return None
    seen = seen if seen is not None else set()
    if id(exc) in seen:
        return "<cycle>"
    seen.add(id(exc))
    tb = [
        (t.tb_frame.f_code.co_name, t.tb_lineno, _position(t))
        for t in drop_stand_in_frames(exc.__traceback__)
    ]
    out = {
        "type": type(exc).__qualname__,
        "str": _safe_str(exc),
        "tb": tb,
        "cause": describe_chain(exc.__cause__, seen),
        "context": describe_chain(exc.__context__, seen),
        "suppress_context": exc.__suppress_context__,
    }
    if isinstance(exc, BaseExceptionGroup):
        out["group"] = [describe_chain(e, seen) for e in exc.exceptions]
    return out


def _position(tb):
    code = tb.tb_frame.f_code
    try:
        positions = list(code.co_positions())
        return positions[tb.tb_lasti // 2]
    except (AttributeError, IndexError):
        return None


def _safe_str(exc):
    try:
        return str(exc)
    except Exception as e:  # noqa: BLE001
        return "<str() raised %s>" % type(e).__name__


def format_report(exc):
    """python3's report of an uncaught exception, without the stand-ins' frames."""
    lines = traceback.format_exception(exc)
    return "".join(line for line in lines if ('File "%s"' % STAND_IN_FILE) not in line)


class Tracer:
    """Records ``(function, event, line)`` for the program's own frames, hiding what the
    debugger hides: marker lines, and the one line event right after a marker when it is the
    marker's own line (``src/agent/tracer.rs``)."""

    def __init__(self, filename, markers):
        self.filename = filename
        self.markers = markers
        self.events = []
        self.after_marker = {}

    def __call__(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename != self.filename:
            return None
        self._record(frame, event, arg)
        return self._local

    def _local(self, frame, event, arg):
        self._record(frame, event, arg)
        return self._local

    def _record(self, frame, event, arg):
        line = frame.f_lineno
        key = id(frame)
        if event == "line":
            if line >= MARKER_BASE:
                owner = self.markers.get(line)
                if owner is not None:
                    self.after_marker[key] = owner
                return
            owner = self.after_marker.pop(key, None)
            if owner is not None and owner == line:
                return
        detail = ""
        if event == "exception":
            detail = arg[0].__name__
        elif event == "return":
            detail = _short_repr(arg)
        self.events.append((frame.f_code.co_name, event, line, detail))


def _short_repr(value):
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        return "<unrepresentable>"
    return text if len(text) < 60 else text[:57] + "..."


def hidden_names(namespace):
    """Hidden names left behind: in the namespace itself and in every class reachable from it."""
    out = sorted(k for k in namespace if isinstance(k, str) and k.startswith("_sl_"))
    seen = set()

    def visit(cls, path):
        if id(cls) in seen:
            return
        seen.add(id(cls))
        for k, v in list(vars(cls).items()):
            if isinstance(k, str) and k.startswith("_sl_"):
                out.append("%s.%s" % (path, k))
            if isinstance(v, type) and v.__module__ == namespace.get("__name__"):
                visit(v, "%s.%s" % (path, k))

    for k, v in list(namespace.items()):
        if isinstance(v, type) and v.__module__ == namespace.get("__name__"):
            visit(v, k)
    return out


_program_counter = [0]


def program_filename(tag="prog"):
    _program_counter[0] += 1
    return "/sleepy-test/%s_%d.py" % (tag, _program_counter[0])


def compile_program(source, filename, rewritten):
    """``(code, markers)`` of the original (python3's compile) or the rewritten program."""
    if rewritten:
        return load_rewrite().rewrite_source(source, filename)
    return compile(source, filename, "exec", dont_inherit=True), {}


def run_program(source, rewritten, trace=False, filename=None, name="__sleepy_test__"):
    """Runs ``source`` (original or rewritten) in a fresh module namespace in this process."""
    filename = filename or program_filename()
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    result = Result()
    code, markers = compile_program(source, filename, rewritten)
    module = types.ModuleType(name)
    module.__file__ = filename
    ns = module.__dict__
    ns["__builtins__"] = builtins
    out, err = io.StringIO(), io.StringIO()
    tracer = Tracer(filename, markers) if trace else None
    saved_trace = sys.gettrace()
    saved_modules_entry = sys.modules.get(name)
    sys.modules[name] = module
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if tracer is not None:
                    sys.settrace(tracer)
                try:
                    exec(code, ns)
                finally:
                    if tracer is not None:
                        sys.settrace(saved_trace)
            except BaseException as e:  # noqa: BLE001 - the program's own exception
                # The first entry is the exec() above.
                e.__traceback__ = e.__traceback__.tb_next
                result.report = format_report(e)
                result.chain = describe_chain(e)
                del e
            # Objects the program left for the collector run their finalizers now, in both runs.
            import gc

            gc.collect()
    finally:
        if saved_modules_entry is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = saved_modules_entry
    result.stdout = out.getvalue()
    result.stderr = err.getvalue()
    result.events = tracer.events if tracer is not None else None
    result.leftovers = hidden_names(ns)
    result.namespace = ns
    result.markers = markers
    return result


def rewritten_source(source):
    """The rewritten program as source text (for failure messages)."""
    import ast

    rw = load_rewrite()
    tree, _ = rw.rewrite(ast.parse(source))
    return ast.unparse(tree)


# --- files and processes -----------------------------------------------------------------------


def make_tempdir(testcase):
    """A fresh directory (its real path) removed when the test ends."""
    path = os.path.realpath(tempfile.mkdtemp(prefix="sleepy-rewrite-test-"))
    testcase.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(text, bytes) else "w"
    with open(path, mode) as f:
        f.write(text)
    return path


def clean_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONSAFEPATH", "PYTHONBREAKPOINT", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONPATH")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_python(args, cwd=None, env=None, input=None, timeout=120):
    return subprocess.run(
        [PYTHON] + list(args),
        cwd=cwd,
        env=env if env is not None else clean_env(),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
