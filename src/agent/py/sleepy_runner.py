"""Runs the user's program the way ``python3`` runs it, inside the sleepy agent.

The agent (Rust) starts CPython with the same configuration as the ``python3`` the user would
run, then calls into this module to set ``sys.path[0]``, compile the script, and run it or the
``-m`` module with tracing switched on only around the program itself. Outcomes come back as
``(kind, value)`` tuples so the agent decides what happens next (a post-mortem stop, an exit
code); this module never exits the process itself.

Frames of this module are never shown to the user: every code object here has a file name that
starts with ``<sleepy``, which the agent treats as its own.
"""

import os
import sys

SLEEPY_PREFIX = "<sleepy"


def set_path0(kind, target):
    """Puts the script's directory (or, for ``-m``, the current directory) first on sys.path,
    as python3 does unless -P / PYTHONSAFEPATH asks it not to."""
    if kind == "script" and is_path_entry(target):
        # The archive or directory itself is where __main__ comes from (even with -P).
        sys.path.insert(0, target)
        return
    if sys.flags.safe_path:
        return
    if kind == "script":
        sys.path.insert(0, os.path.dirname(os.path.realpath(target)))
    else:
        sys.path.insert(0, os.getcwd())


def is_path_entry(path):
    """python3 runs a directory or a zip archive given as the script by importing its
    ``__main__`` module from it."""
    import zipfile

    return os.path.isdir(path) or (os.path.isfile(path) and zipfile.is_zipfile(path))


def compile_script(path, rewriting=None):
    """Returns ``(code, None)``, or ``(None, message)`` when the script cannot be compiled; the
    message is what python3 prints for it (file, line, the caret, the error). With
    ``rewriting`` (sleepy_import.Rewriting) the code is the rewritten script."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        return None, "can't open file %r: [Errno %d] %s" % (path, e.errno, e.strerror)
    try:
        if rewriting is not None:
            return rewriting.compile(source, path), None
        return compile(source, path, "exec", dont_inherit=True), None
    except (SyntaxError, ValueError) as e:
        return None, display_text(e).rstrip("\n")


def display_text(exc):
    """What python3's own printer (PyErr_Display, i.e. sys.__excepthook__) prints for an
    exception, without a traceback."""
    import io

    exc.__traceback__ = None
    buffer = io.StringIO()
    saved = sys.stderr
    sys.stderr = buffer
    try:
        sys.__excepthook__(type(exc), exc, None)
    finally:
        sys.stderr = saved
    return buffer.getvalue()


def _outcome(run, start, stop):
    start()
    try:
        run()
    except SystemExit as e:
        stop()
        return ("exit", e)
    except BaseException as e:  # noqa: B036 - the program's own uncaught exception
        stop()
        return ("exception", e)
    stop()
    return ("ok", None)


def run_script(path, code, start, stop):
    """Runs compiled script ``code`` as ``__main__``, like ``PyRun_SimpleFile`` does."""
    import __main__
    from importlib.machinery import SourceFileLoader

    globs = __main__.__dict__
    globs["__file__"] = path
    globs["__cached__"] = None
    globs["__loader__"] = SourceFileLoader("__main__", path)
    return _outcome(lambda: exec(code, globs), start, stop)


def run_resumed(path, code, start, stop):
    """Runs the saved ``__main__`` code of a suspended program in its rebuilt ``__main__``
    module; the tracer takes each saved frame back to its line."""
    import __main__

    globs = __main__.__dict__
    globs.setdefault("__file__", path)
    globs["__cached__"] = None
    return _outcome(lambda: exec(code, globs), start, stop)


def run_module(name, start, stop):
    """Runs module ``name`` as ``__main__`` exactly as ``python3 -m`` does (through runpy)."""
    import runpy

    return _outcome(lambda: runpy._run_module_as_main(name, alter_argv=True), start, stop)


def run_path_entry(start, stop):
    """Runs the ``__main__`` module of the directory or zip archive set as sys.path[0], as
    python3 does for ``python3 app.zip`` (argv[0] stays as typed)."""
    import runpy

    return _outcome(lambda: runpy._run_module_as_main("__main__", alter_argv=False), start, stop)


def forget_main_file():
    """python3 removes ``__file__`` and ``__cached__`` from ``__main__`` once the script has run,
    before atexit handlers."""
    import __main__

    for name in ("__file__", "__cached__"):
        __main__.__dict__.pop(name, None)


def strip_own_frames(exc):
    """Drops sleepy's frames from the head of the exception's traceback and returns it."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(SLEEPY_PREFIX):
        tb = tb.tb_next
    exc.__traceback__ = tb
    return tb


_MISSING = object()


def _write_stderr(text):
    """PySys_WriteStderr: sys.stderr, or the process's stderr when there is none."""
    err = sys.stderr if sys.stderr is not None else sys.__stderr__
    try:
        if err is not None:
            err.write(text)
    except Exception:  # noqa: BLE001 - python3 ignores a failing stderr here too
        pass


def _display(exc):
    """PyErr_Display: python3's own printer, with the traceback the exception carries."""
    try:
        sys.__excepthook__(type(exc), exc, exc.__traceback__)
    except Exception:  # noqa: BLE001
        pass


def report_uncaught(exc):
    """Prints an uncaught exception the way python3's ``_PyErr_PrintEx`` does: through
    sys.excepthook, with python3's messages when the hook is missing or fails, and records it
    in sys.last_*. Returns ``(description, status)``: the one-line description pdb shows, and
    the exit status when the hook itself ended the program with SystemExit (else None)."""
    tb = strip_own_frames(exc)
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    hook = getattr(sys, "excepthook", _MISSING)
    if hook is _MISSING:
        _write_stderr("sys.excepthook is missing\n")
        _display(exc)
    else:
        try:
            hook(type(exc), exc, tb)
        except SystemExit as e:
            # handle_system_exit(): the hook's exit ends the program, quietly.
            return describe(exc), exit_status(e)
        except BaseException as hook_error:  # noqa: B036 - mirrors _PyErr_PrintEx
            strip_own_frames(hook_error)
            try:
                if sys.stdout is not None:
                    sys.stdout.flush()
            except Exception:  # noqa: BLE001
                pass
            _write_stderr("Error in sys.excepthook:\n")
            _display(hook_error)
            _write_stderr("\nOriginal exception was:\n")
            _display(exc)
    flush_std()
    return describe(exc), None


def describe(exc):
    import traceback

    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def exit_status(exc):
    """The process exit status for a SystemExit, as python3 computes it; a non-integer code is
    printed to stderr first."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        # (int)PyLong_AsLong(code): -1 when it does not fit a C long, else the low 32 bits.
        if not -(2**63) <= code < 2**63:
            return -1
        low = int(code) & 0xFFFFFFFF
        return low - 2**32 if low >= 2**31 else low
    err = sys.stderr
    try:
        if err is not None:
            err.write(str(code))
            err.write("\n")
        elif sys.__stderr__ is not None:
            sys.__stderr__.write(str(code) + "\n")
    except Exception:  # noqa: BLE001 - python3 ignores a failing stderr here too
        pass
    flush_std()
    return 1


def flush_std():
    """Flushes the program's stdout and stderr so that what it printed reaches the terminal
    before sleepy says anything."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 - a broken stream must not stop the debugger
            pass


def install_hooks(native):
    """``breakpoint()`` stops in sleepy; a forked child of the program runs untraced."""

    def breakpointhook(*args, **kwargs):
        if os.environ.get("PYTHONBREAKPOINT") == "0":
            return None
        native.breakpoint_called()
        return None

    sys.breakpointhook = breakpointhook
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=native.forked_child)
