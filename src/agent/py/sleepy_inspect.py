"""What the sleepy agent needs from Python while the program is stopped.

The agent's trace hook is native; it calls into this module only at a stop or the first time it
meets a code object: to decide whether code is the user's, to describe the stack, to evaluate and
execute in a frame, to find the lines that have code, and to turn a breakpoint location typed by
the user into a file and line. Outputs follow pdb's formats, since sleepy speaks pdb's language.

Nothing here runs on the hot path of the program.
"""

import copy
import fnmatch
import inspect
import linecache
import os
import pprint
import site
import sys
import sysconfig
import textwrap
import traceback
import types

SLEEPY_PREFIX = "<sleepy"

_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def canonical(filename):
    """The name a file is known by in breakpoint tables: its real absolute path, or the
    pseudo-name itself (``<string>``, ``<frozen ...>``)."""
    if not filename or filename.startswith("<"):
        return filename
    return os.path.realpath(filename)


def _is_within(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class Project:
    """Decides which code is the user's: files under the project directory, minus the standard
    library, site-packages and anything else an installation owns, plus whatever ``--trace``
    names (by module name or path glob)."""

    def __init__(self, root, main_file, trace_globs):
        self.root = os.path.realpath(root)
        self.main_file = canonical(main_file) if main_file else None
        self.globs = list(trace_globs)
        library = set()
        paths = sysconfig.get_paths()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            if paths.get(key):
                library.add(os.path.realpath(paths[key]))
        try:
            library.update(os.path.realpath(p) for p in site.getsitepackages())
        except Exception:  # noqa: BLE001 - some embedded builds lack it
            pass
        try:
            library.add(os.path.realpath(site.getusersitepackages()))
        except Exception:  # noqa: BLE001
            pass
        for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
            library.add(os.path.realpath(prefix))
        # A library directory that *contains* the project (a script run from inside the stdlib,
        # like CPython's own test modules) must not hide the project itself.
        self.library = sorted(p for p in library if not _is_within(self.root, p))
        self._cache = {}
        # The agent makes one Project per run; resolve_location (which gets only the root)
        # finds it here to refuse breakpoints in code that is never traced.
        global _project
        _project = self

    def is_user(self, filename, module_name):
        key = (filename, module_name)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._decide(filename, module_name)
            self._cache[key] = hit
        return hit

    def _decide(self, filename, module_name):
        if not filename or filename.startswith(SLEEPY_PREFIX):
            return False
        path = canonical(filename)
        for glob in self.globs:
            if module_name and fnmatch.fnmatchcase(module_name, glob):
                return True
            if fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(filename, glob):
                return True
        if filename.startswith("<"):
            return False
        if path == self.main_file or module_name == "__main__":
            # The module run as __main__ is the program's entry point wherever it lives:
            # `sleepy -m pytest` runs pytest's __main__ from site-packages, and without this
            # the debugger would never stop before the tests had run (pdb -m stops there too).
            return True
        if not _is_within(path, self.root):
            return False
        return not any(_is_within(path, lib) for lib in self.library)


_project = None


def _module_name_of(path):
    """The module name ``path`` is (or would be) imported as: from ``sys.modules``, else from
    the ``sys.path`` entry it lies under."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and canonical(file) == path:
            return name
    for entry in sys.path:
        if not isinstance(entry, str) or not entry:
            continue
        base = os.path.realpath(entry)
        if _is_within(path, base) and path != base:
            parts = os.path.splitext(os.path.relpath(path, base))[0].split(os.sep)
            if parts[-1] == "__init__":
                parts.pop()
            if parts and all(p.isidentifier() for p in parts):
                return ".".join(parts)
    return None


def _untraced(path, project_root):
    """Why a breakpoint in ``path`` would never stop (it is not the program's code), or None."""
    project = _project
    if project is None or project.root != os.path.realpath(project_root or "."):
        return None
    name = _module_name_of(path)
    if project.is_user(path, name):
        return None
    what = "--trace %s" % name if name else "--trace '%s'" % path
    return (
        "%s is not the program's code (library code runs untraced, so a breakpoint there would "
        "never stop): run sleepy with %s to debug it" % (path, what)
    )


def describe_code(project, rewriting, code, module_name):
    """``(user, canonical file, first line, is generator, markers)`` for a code object seen the
    first time; markers are the rewriter's ``(virtual line, user line)`` pairs for its file."""
    markers = []
    if rewriting is not None:
        markers = sorted(rewriting.markers.get(code.co_filename, {}).items())
    return (
        project.is_user(code.co_filename, module_name),
        canonical(code.co_filename),
        code.co_firstlineno,
        bool(code.co_flags & _GENERATOR_FLAGS),
        markers,
    )


# --- the stack ------------------------------------------------------------------------------


def live_stack(frame):
    """``[(frame, line)]`` from the program's first frame to ``frame``, without sleepy's own."""
    out = []
    f = frame
    while f is not None and not f.f_code.co_filename.startswith(SLEEPY_PREFIX):
        out.append((f, f.f_lineno))
        f = f.f_back
    out.reverse()
    return out


def traceback_stack(tb):
    """``[(frame, line)]`` along a traceback, for a post-mortem stop."""
    out = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(SLEEPY_PREFIX):
            out.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return out


def frame_info(project, frame, line):
    """``(file, line, co_name, qualname, source line, user)`` for one frame."""
    code = frame.f_code
    source = linecache.getline(code.co_filename, line, frame.f_globals).strip()
    qualname = getattr(code, "co_qualname", code.co_name)
    module_name = frame.f_globals.get("__name__") if isinstance(frame.f_globals, dict) else None
    return (
        code.co_filename,
        line,
        code.co_name or "<lambda>",
        qualname,
        source,
        project.is_user(code.co_filename, module_name),
    )


def safe_repr(value):
    try:
        return repr(value)
    except BaseException as e:  # noqa: B036 - a broken __repr__ is the program's, not ours
        return "<repr raised %s>" % error_text(e)


# --- evaluating in a frame ------------------------------------------------------------------


def error_text(exc):
    """pdb's one-line error text for an exception."""
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _whatis(value):
    code = None
    try:
        code = value.__func__.__code__
    except Exception:  # noqa: BLE001
        pass
    if code:
        return "Method %s" % code.co_name
    try:
        code = value.__code__
    except Exception:  # noqa: BLE001
        pass
    if code:
        return "Function %s" % code.co_name
    if value.__class__ is type:
        return "Class %s.%s" % (value.__module__, value.__qualname__)
    return str(type(value))


def evaluate(frame, expr, style):
    """``(True, text)`` or ``(False, error)``; style is ``repr``, ``pretty`` or ``whatis``."""
    try:
        value = eval(expr, frame.f_globals, frame.f_locals)
        if style == "pretty":
            return True, pprint.pformat(value)
        if style == "whatis":
            return True, _whatis(value)
        return True, repr(value)
    except BaseException as e:  # noqa: B036 - pdb reports anything the expression raises
        return False, error_text(e)


def evaluate_value(frame, expr):
    """The value itself, or the exception it raised (for displays, compared by value)."""
    try:
        return True, eval(expr, frame.f_globals, frame.f_locals)
    except BaseException as e:  # noqa: B036
        return False, e


def display_text(ok, value):
    """pdb's text for a displayed value, or for the error evaluating it."""
    return safe_repr(value) if ok else "** raised %s **" % error_text(value)


def display_changed(old_ok, old, new_ok, new):
    if old_ok != new_ok:
        return True
    if not new_ok:
        return error_text(old) != error_text(new)
    try:
        return new is not old and bool(new != old)
    except BaseException:  # noqa: B036 - an __eq__ that raises counts as a change
        return True


def watch_value(frame, expr):
    """``(ok, snapshot)`` of a watched expression: the value deep-copied (when it can be), so a
    change made in place later (a list that gains an item) still compares as a change."""
    ok, value = evaluate_value(frame, expr)
    if ok:
        try:
            value = copy.deepcopy(value)
        except BaseException:  # noqa: B036 - an uncopyable value is compared as it is
            pass
    return ok, value


def _same_value(old, new):
    if type(old) is not type(new):
        return False
    if type(new).__eq__ is object.__eq__:
        # Identity equality would call every copy a change: compare what the object holds.
        old_vars, new_vars = getattr(old, "__dict__", None), getattr(new, "__dict__", None)
        if old_vars is not None or new_vars is not None:
            return old_vars == new_vars
        return safe_repr(old) == safe_repr(new)
    return bool(new == old)


def watch_changed(old_ok, old, new_ok, new):
    """Whether a watched value changed between two snapshots, by value."""
    if old_ok != new_ok:
        return True
    if not new_ok:
        return error_text(old) != error_text(new)
    try:
        return not _same_value(old, new)
    except BaseException:  # noqa: B036 - an __eq__ that raises: compare what is shown
        return safe_repr(old) != safe_repr(new)


def frame_depth(frame):
    """How many frames are on the stack up to ``frame`` (itself included), sleepy's own too."""
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def frame_at_depth(frame, depth):
    """The frame ``depth`` frames from the bottom of ``frame``'s stack, or None."""
    chain = []
    while frame is not None:
        chain.append(frame)
        frame = frame.f_back
    index = len(chain) - depth
    return chain[index] if 0 <= index < len(chain) else None


def execute(frame, source, locals_to_fast):
    """Runs a statement in the frame, as pdb's ``!stmt``: expression statements show their repr,
    and assignments write the frame's variables for real. Returns ``(ok, lines)``."""
    try:
        code = compile(source + "\n", "<stdin>", "single")
    except BaseException as e:  # noqa: B036
        return False, [error_text(e)]
    globs = frame.f_globals
    locs = frame.f_locals  # read once: on 3.11/3.12 each read re-syncs from the fast locals
    shown = []

    def displayhook(value):
        if value is not None:
            shown.append(safe_repr(value))

    saved = sys.displayhook
    sys.displayhook = displayhook
    try:
        exec(code, globs, locs)
        return True, shown
    except BaseException as e:  # noqa: B036
        return False, shown + [error_text(e)]
    finally:
        sys.displayhook = saved
        if locs is not globs:
            locals_to_fast(frame)


def frame_args(frame):
    """``[(name, repr or None)]`` for the frame's arguments, as pdb's ``args``."""
    code = frame.f_code
    values = frame.f_locals
    n = code.co_argcount + code.co_kwonlyargcount
    if code.co_flags & inspect.CO_VARARGS:
        n += 1
    if code.co_flags & inspect.CO_VARKEYWORDS:
        n += 1
    return [
        (name, safe_repr(values[name]) if name in values else None) for name in code.co_varnames[:n]
    ]


# --- source ---------------------------------------------------------------------------------


def _module_globals_for(filename, frame=None):
    """Globals that let linecache load a file that is not on disk (a module in a zip archive):
    the frame's when it runs that file, else those of the loaded module with that file."""
    if frame is not None and frame.f_code.co_filename == filename:
        return frame.f_globals
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == filename:
            return getattr(module, "__dict__", None)
    return None


def source_lines(filename, frame):
    """The file's lines as the program's linecache sees them (zip imports included)."""
    globs = _module_globals_for(filename, frame)
    return [line.rstrip("\r\n") for line in linecache.getlines(filename, globs)]


def function_source(frame):
    """``(first line, lines)`` of the function running in the frame, as pdb's ``ll``."""
    try:
        lines, first = inspect.getsourcelines(frame)
    except (OSError, TypeError) as e:
        return False, str(e)
    return True, (max(1, first), [line.rstrip("\r\n") for line in lines])


_code_lines_cache = {}


def code_lines(filename):
    """The sorted line numbers that have code in a file: the lines a line event can stop on."""
    path = canonical(filename)
    cached = _code_lines_cache.get(path)
    if cached is not None:
        return cached
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError:
        # Not a file on disk (a module inside a zip archive): its loader has the source.
        source = "".join(linecache.getlines(filename, _module_globals_for(filename)))
        if not source:
            return None
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    lines = set()
    todo = [code]
    while todo:
        c = todo.pop()
        for _start, _end, line in c.co_lines():
            if line:
                lines.add(line)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    result = sorted(lines)
    _code_lines_cache[path] = result
    return result


def _lookup_file(name, project_root, near=None):
    """A file named in a breakpoint, found the way pdb's lookupmodule finds it, and also next to
    the file being debugged (``near``)."""
    # pdb's order: a module name means its .py file, before anything else of that name.
    candidates = [name + ".py", name] if not os.path.splitext(name)[1] else [name]
    bases = [os.getcwd(), project_root]
    if near and not near.startswith("<"):
        bases.insert(0, os.path.dirname(near))
    bases += [p for p in sys.path if isinstance(p, str)]
    for cand in candidates:
        if os.path.isabs(cand):
            if os.path.isfile(cand):
                return cand
            continue
        for base in bases:
            full = os.path.join(base or os.getcwd(), cand)
            if os.path.isfile(full):
                return full
    return None


# pdb 3.13 reports (and keys) a function breakpoint at the function's first executable line,
# where 3.11 and 3.12 use its ``def`` line; sleepy shows what that version's pdb shows.
_BREAK_AT_FIRST_EXECUTABLE_LINE = sys.version_info >= (3, 13)


def _first_executable_line(code):
    """pdb 3.13's find_first_executable_line: the line of the instruction after RESUME, else
    ``co_firstlineno``."""
    import dis

    prev = None
    for instr in dis.get_instructions(code):
        if prev is not None and prev.opname == "RESUME":
            if instr.positions.lineno is not None:
                return instr.positions.lineno
            return code.co_firstlineno
        prev = instr
    return code.co_firstlineno


def _function_break_line(code):
    """The line a ``break FUNC`` breakpoint is reported at, as this version's pdb does."""
    if _BREAK_AT_FIRST_EXECUTABLE_LINE:
        return _first_executable_line(code)
    return code.co_firstlineno


def _find_def(funcname, filename):
    """pdb's find_function: the line of ``def funcname(`` in a file (on 3.13, as pdb 3.13 does,
    the function's first executable line, found by compiling the ``def`` from its source)."""
    import re

    pattern = re.compile(r"def\s+%s\s*[(]" % re.escape(funcname))
    try:
        with open(filename, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return None
    for index, line in enumerate(lines):
        if not pattern.match(line.lstrip()):
            continue
        if not _BREAK_AT_FIRST_EXECUTABLE_LINE:
            return index + 1
        # pdb 3.13 compiles the def's text, growing it a line at a time until it compiles
        # (dedented here: sleepy also finds indented methods, as it does on 3.11); text that
        # never compiles keeps the def line rather than refusing.
        funcdef = ""
        for more in lines[index:]:
            funcdef += more
            try:
                code = compile(textwrap.dedent(funcdef), filename, "exec").co_consts[0]
            except SyntaxError:
                continue
            if isinstance(code, types.CodeType):
                return index + _first_executable_line(code)
            break
        return index + 1
    return None


def _describe_gap(path, line, lines):
    after = [n for n in lines if n > line]
    before = [n for n in lines if n < line]
    near = []
    if before:
        near.append(str(before[-1]))
    if after:
        near.append(str(after[0]))
    hint = " (nearest lines with code: %s)" % " and ".join(near) if near else ""
    total = len(linecache.getlines(path))
    if line > total:
        return "Line %d is past the end of %s, which has %d lines" % (line, path, total)
    return "Line %d of %s has no code: it is blank, a comment, or inside a statement%s" % (
        line,
        path,
        hint,
    )


def resolve_location(frame, location, project_root):
    """Turns ``[FILE:]LINE`` or ``FUNC`` into ``(True, (file, line, funcname or None))``, or
    ``(False, message)``; the line must have code."""
    arg = location.strip()
    funcname = None
    filename = None
    colon = arg.rfind(":")
    near = frame.f_code.co_filename if frame is not None else None
    if colon >= 0:
        name = arg[:colon].rstrip()
        found = _lookup_file(name, project_root, near)
        if not found:
            return False, "%r not found from sys.path" % name
        filename = found
        arg = arg[colon + 1 :].lstrip()
        try:
            line = int(arg)
        except ValueError:
            return False, "Bad lineno: %s" % arg
    else:
        try:
            line = int(arg)
        except ValueError:
            resolved = _resolve_function(frame, arg, project_root)
            if resolved is None:
                return False, (
                    "The specified object %r is not a function or was not found along sys.path."
                    % arg
                )
            filename, line, funcname = resolved
    if filename is None:
        filename = frame.f_code.co_filename if frame is not None else None
        if filename is None:
            return False, "No file to set a breakpoint in"
    path = canonical(filename)
    lines = code_lines(path)
    if lines is None:
        return False, "Cannot read Python code from %s" % path
    if funcname is None and line not in lines:
        return False, _describe_gap(path, line, lines)
    untraced = _untraced(path, project_root)
    if untraced:
        return False, untraced
    return True, (path, line, funcname)


def _resolve_function(frame, name, project_root):
    try:
        func = eval(name, frame.f_globals, frame.f_locals) if frame is not None else None
    except BaseException:  # noqa: B036 - not an expression in scope: try the source
        func = None
    if hasattr(func, "__func__"):
        func = func.__func__
    code = getattr(func, "__code__", None)
    if isinstance(code, types.CodeType):
        return code.co_filename, _function_break_line(code), code.co_name
    parts = name.strip().strip("'").split(".")
    if parts and parts[0] == "self":
        parts = parts[1:]
    if not parts or not parts[0]:
        return None
    filename = frame.f_code.co_filename if frame is not None else None
    item = parts[0]
    if len(parts) > 1:
        module_file = _lookup_file(parts[0], project_root, filename)
        if module_file:
            filename = module_file
        item = parts[-1]
    if not filename:
        return None
    line = _find_def(item, filename)
    if line is None:
        return None
    return filename, line, item


# --- the variables tree (the TUI's Variables pane) ------------------------------------------

# A value's text is cut at this many characters: a 100,000-item list must not become a
# megabyte of repr on every stop.
VALUE_LIMIT = 240
# A repr the program defines may take long; past this it is abandoned (when SIGALRM is free).
REPR_SECONDS = 0.25

HIDDEN_PREFIX = "_sl_"

_ATOMIC = (str, bytes, bytearray, int, float, complex, bool, type(None), range)


class _ReprTimeout(Exception):
    pass


def _escape(text):
    """Control characters shown escaped: a value must not drive the terminal."""
    out = []
    for ch in text:
        if ch < " " or ch == "\x7f" or "\x80" <= ch < "\xa0":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, "\\x%02x" % ord(ch)))
        else:
            out.append(ch)
    return "".join(out)


def _bounded_repr(value):
    """A repr of at most VALUE_LIMIT characters that never raises nor hangs for long."""
    import reprlib
    import signal

    shortener = reprlib.Repr()
    shortener.maxstring = VALUE_LIMIT
    shortener.maxother = VALUE_LIMIT
    shortener.maxlist = shortener.maxtuple = shortener.maxset = 30
    shortener.maxfrozenset = shortener.maxdeque = shortener.maxarray = 30
    shortener.maxdict = 20
    shortener.maxlevel = 3
    use_alarm = False
    try:
        use_alarm = (
            signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        )
    except (ValueError, AttributeError):  # not the main thread, no SIGALRM
        use_alarm = False

    def timeout(signum, frame):
        raise _ReprTimeout()

    try:
        if use_alarm:
            signal.signal(signal.SIGALRM, timeout)
            signal.setitimer(signal.ITIMER_REAL, REPR_SECONDS)
        try:
            # reprlib shortens the containers it knows; anything else is repr'd for real, so
            # a __repr__ that raises is reported (reprlib would hide it).
            if hasattr(shortener, "repr_" + type(value).__name__.replace(" ", "_")) and (
                type(value).__module__ in ("builtins", "collections", "array")
            ):
                text = shortener.repr(value)
            else:
                text = repr(value)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
    except _ReprTimeout:
        return "<repr took longer than %g s>" % REPR_SECONDS
    except BaseException as e:  # noqa: B036 - a broken __repr__ is the program's, not ours
        return "<repr raised %s>" % _escape(error_text(e))
    text = _escape(text)
    if len(text) > VALUE_LIMIT:
        text = text[: VALUE_LIMIT - 1] + "…"
    return text


def _type_name(value):
    cls = type(value)
    module = getattr(cls, "__module__", "builtins")
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("builtins", "__main__") else "%s.%s" % (module, name)


def _attributes(value):
    """An object's own attributes: its __dict__ and its slots, not methods or dunders."""
    names = []
    try:
        names.extend(k for k in vars(value) if isinstance(k, str))
    except TypeError:
        pass
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        names.extend(s for s in slots if s not in ("__dict__", "__weakref__"))
    seen = set()
    out = []
    for name in names:
        if name in seen or (name.startswith("__") and name.endswith("__")):
            continue
        seen.add(name)
        try:
            out.append(("." + name, getattr(value, name)))
        except AttributeError:
            pass  # a slot never set
    return out


def _is_plain_object(value):
    return not isinstance(
        value,
        (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType),
    )


def _children(value):
    """``(count, lister)`` of an expandable value, or ``None``. ``lister(start, stop)`` gives
    ``(label, child)`` pairs; containers are listed lazily, in chunks."""
    if isinstance(value, _ATOMIC):
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "deque":
        seq = value

        def lister(start, stop):
            return [("[%d]" % i, seq[i]) for i in range(start, min(stop, len(seq)))]

        return len(seq), lister
    if isinstance(value, dict):
        mapping = value

        def lister(start, stop):
            import itertools

            pairs = itertools.islice(mapping.items(), start, stop)
            return [("[%s]" % _bounded_repr(k), v) for k, v in pairs]

        return len(mapping), lister
    if isinstance(value, (set, frozenset)):
        items = value

        def lister(start, stop):
            import itertools

            return [("{%d}" % (start + i), v) for i, v in enumerate(itertools.islice(items, start, stop))]

        return len(items), lister
    if _is_plain_object(value):
        attrs = _attributes(value)
        if attrs:
            return len(attrs), lambda start, stop: attrs[start:stop]
    return None


def _frame_variables(frame):
    """The frame's locals, as pdb's ``locals()`` sees them; at module level the globals without
    the module machinery (dunders)."""
    f_locals = frame.f_locals
    is_module = f_locals is frame.f_globals
    out = []
    for name, value in f_locals.items():
        if not isinstance(name, str):
            continue
        if is_module and name.startswith("__") and name.endswith("__"):
            continue
        if name.startswith(HIDDEN_PREFIX):
            continue  # the rewriter's hidden locals (iterators, context managers in flight)
        out.append((name, value))
    return out


def variables(frame, path, start, count):
    """A page of the variables tree: ``(total, [(name, type, value, children)], error)``.

    ``path`` walks down from the frame's variables, one index per level, into items (lists,
    tuples, dicts, sets) and attributes (objects)."""
    try:
        nodes = _frame_variables(frame)
        total = len(nodes)

        def lister(a, b):
            return nodes[a:b]

        for depth, index in enumerate(path):
            pairs = lister(index, index + 1)
            if not pairs:
                return 0, [], "that value is no longer there"
            value = pairs[0][1]
            kids = _children(value)
            if kids is None:
                return 0, [], "%s has nothing to expand" % pairs[0][0]
            total, lister = kids
        entries = []
        for name, value in lister(start, start + count):
            kids = _children(value)
            entries.append(
                (_escape(str(name)), _type_name(value), _bounded_repr(value), None if kids is None else kids[0])
            )
        return total, entries, None
    except BaseException as e:  # noqa: B036 - the program's objects may raise anything
        return 0, [], error_text(e)
