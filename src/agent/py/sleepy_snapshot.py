"""Suspend to a file: capture the program's state in one pickle, restore it in a new process.

The Rust side decides when (``check_stack`` says whether every frame can be rebuilt), writes the
bytes (signed, atomically) and rebuilds the stack (call, write locals, jump). This module only
turns frames and modules into bytes and back:

* ``capture`` runs ONE Pickler over a sequence of dumps (a plain-data head for ``summary``, then
  every module global and every frame local, one dump each). The memo is shared across dumps,
  so an object reachable from two places stays one object, and each dump knows which variable
  it is saving, so an unsaveable value is reported with its frame and name.
* Functions and classes of the user's modules are saved by value (their modules are recreated
  empty on restore, so a by-name reference would find nothing); library ones by name.
* ``summary`` reads only the head, which holds nothing but builtin types, with an unpickler
  that refuses every global: it can't run program code.
"""

import abc
import ast
import dis
import functools
import hashlib
import importlib
import io
import linecache
import marshal
import os
import pickle
import re
import reprlib
import stat
import sys
import types
import _thread

FORMAT = 1
_MARKER_BASE = 10_000_000  # the rewriter's virtual marker lines start here
_GEN_FLAGS = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, iterable coroutine, async gen
_CALL_OPS = {dis.opmap[n] for n in ("CALL", "CALL_FUNCTION_EX", "CALL_KW") if n in dis.opmap}
_CACHE = dis.opmap.get("CACHE", -1)
# Builtins that do nothing a second run could notice, so re-running them on resume is harmless.
_PURE_BUILTINS = {"super", "len", "isinstance", "issubclass", "type", "id", "callable", "chr",
                  "ord", "abs", "hash"}
_OP_WORDS = {"BINARY_OP": "an operator", "COMPARE_OP": "a comparison", "FOR_ITER": "a for loop's next()",
             "BINARY_SUBSCR": "a subscript", "STORE_SUBSCR": "a subscript assignment",
             "LOAD_ATTR": "an attribute read (a property?)", "STORE_ATTR": "an attribute assignment",
             "BEFORE_WITH": "a with statement's __enter__", "GET_ITER": "iter()",
             "IMPORT_NAME": "an import", "CONTAINS_OP": "an `in` test", "FORMAT_VALUE": "an f-string"}
_HIDDEN = {"it": "a for loop's iterator", "exit": "a with statement's manager",
           "val": "a with statement's value", "subj": "a match statement's subject",
           "aw": "an async with's awaitable"}


class Unsaveable(Exception):
    """Values that can't be saved; ``reasons`` names each one with where it is."""

    def __init__(self, reasons):
        super().__init__("\n".join(reasons))
        self.reasons = list(reasons)


class CannotResume(Exception):
    """The saved state no longer matches the world (a file changed or is gone)."""


# ---------------------------------------------------------------------------------------------
# check_stack


def _where(code, line):
    return "%s at %s:%s" % (code.co_qualname, os.path.basename(code.co_filename), line)


_SOURCE_CACHE = {}


def _module_ast(filename):
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)
    key = (filename, hash(tuple(lines)))
    if key in _SOURCE_CACHE:
        return _SOURCE_CACHE[key]
    if len(_SOURCE_CACHE) > 64:
        _SOURCE_CACHE.clear()
    if not lines:
        try:
            with open(filename, encoding="utf-8") as f:
                lines = f.readlines()
        except OSError:
            lines = []
    try:
        tree = ast.parse("".join(lines), filename) if lines else None
    except (SyntaxError, ValueError):
        tree = None
    _SOURCE_CACHE[key] = tree
    return tree


def _scope_node(tree, code):
    """The AST node whose body ``code`` runs (the module, a def, a lambda, a class body)."""
    if code.co_name == "<module>":
        return tree
    first = code.co_firstlineno
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            starts = [node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())]
            name = getattr(node, "name", "<lambda>")
            if first in starts and name == code.co_name:
                return node
    return None


def _own_nodes(scope):
    """Nodes of ``scope`` that its own code runs (nested defs and lambdas are other code)."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _in_handler(scope, line):
    for node in _own_nodes(scope):
        if isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            for h in node.handlers:
                if h.lineno <= line <= h.end_lineno:
                    return "an except handler (line %d)" % h.lineno
            if node.finalbody and node.finalbody[0].lineno <= line <= node.finalbody[-1].end_lineno:
                return "a finally block (line %d)" % node.finalbody[0].lineno
    return None


def _in_inlined_comprehension(scope, frame):
    """3.12+ runs a list, set or dict comprehension inside its frame (PEP 709), with its iterator
    and partial result on the value stack: a line event there that is not at the line's start
    is one of its iterations (the comprehension's loop jumping back within the line)."""
    if sys.version_info < (3, 12):
        return None
    line = frame.f_lineno
    comps = (ast.ListComp, ast.SetComp, ast.DictComp)
    if not any(isinstance(n, comps) and n.lineno <= line <= n.end_lineno for n in _own_nodes(scope)):
        return None
    starts = set()
    previous = None
    for start, _end, number in frame.f_code.co_lines():
        if number != previous and number is not None:
            starts.add(start)
        previous = number
    if frame.f_lasti in starts:
        return None
    return "a comprehension in progress can't be rebuilt (its partial result isn't a variable)"


def _calls_in_order(node, out):
    """Appends the Call nodes under ``node`` in the order they finish when evaluated."""
    if isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # Only what the definition itself evaluates; the body is other code.
        parts = list(getattr(node, "decorator_list", ())) + list(getattr(node, "bases", ()))
        parts += [k.value for k in getattr(node, "keywords", ())]
        if not isinstance(node, ast.ClassDef):
            parts += [d for d in node.args.defaults + node.args.kw_defaults if d is not None]
        for p in parts:
            _calls_in_order(p, out)
        return
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
        children = [node.value] if node.value is not None else []
        children += node.targets if isinstance(node, ast.Assign) else [node.target]
    elif isinstance(node, ast.Dict):
        children = [c for kv in zip(node.keys, node.values) for c in kv if c is not None]
    elif isinstance(node, ast.IfExp):
        children = [node.test, node.body, node.orelse]
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        children = list(node.generators)
        children += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    elif isinstance(node, ast.stmt):
        # A compound statement's header only: its bodies are other statements.
        children = [getattr(node, f) for f in node._fields
                    if f not in ("body", "orelse", "finalbody", "handlers", "cases")]
        children = [c for ch in children for c in (ch if isinstance(ch, list) else [ch])
                    if isinstance(c, ast.AST)]
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        _calls_in_order(child, out)
    if isinstance(node, ast.Call):
        out.append(node)


def _pure(call, frame):
    """A call of a builtin from ``_PURE_BUILTINS`` that the program didn't rebind."""
    f = call.func
    if not isinstance(f, ast.Name) or f.id not in _PURE_BUILTINS:
        return False
    if f.id in frame.f_locals or f.id in frame.f_globals:
        return False
    return all(isinstance(a, (ast.Name, ast.Constant, ast.Attribute)) for a in call.args)


def _callee_of(func, frame):
    """The code object a plain name refers to, looked up without running any code."""
    if not isinstance(func, ast.Name):
        return None
    for ns in (frame.f_locals, frame.f_globals, frame.f_builtins):
        if func.id in ns:
            value = ns[func.id]
            value = getattr(value, "__func__", value)
            return getattr(value, "__code__", None) if isinstance(value, types.FunctionType) else None
    return None


def _check_caller(frame, callee):
    code, line = frame.f_code, frame.f_lineno
    where = _where(code, line)
    cname = callee.f_code.co_name
    i = frame.f_lasti
    raw = code.co_code
    while i > 0 and raw[i] == _CACHE:
        i -= 2
    op = raw[i] if 0 <= i < len(raw) else -1
    if cname in ("<listcomp>", "<setcomp>", "<dictcomp>"):
        return None  # the comprehension's own frame is refused, with the reason
    if op not in _CALL_OPS:
        what = _OP_WORDS.get(dis.opname[op] if op >= 0 else "", "an instruction that isn't a call")
        return "%s: %s (%s) calls %s: the stack can't be rebuilt while it runs" % (
            where, what, dis.opname[op] if op >= 0 else "?", cname)
    pos = list(code.co_positions())[i // 2]
    tree = _module_ast(code.co_filename)
    scope = _scope_node(tree, code) if tree is not None else None
    if scope is None:
        return "%s: its source isn't available, so the call to %s can't be checked" % (where, cname)
    parent, call = {}, None
    for node in _own_nodes(scope):
        for child in ast.iter_child_nodes(node):
            parent[child] = node
        if isinstance(node, ast.Call) and (node.lineno, node.end_lineno, node.col_offset,
                                           node.end_col_offset) == tuple(pos):
            call = node
    if call is None:
        return ("%s: the call to %s is code the rewriter added (a with statement's __exit__?): "
                "re-running its line would repeat what runs before it" % (where, cname))
    stmt = call
    while not isinstance(stmt, ast.stmt):
        if isinstance(stmt, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return ("%s: %s is called inside a comprehension, whose partial result can't be "
                    "rebuilt" % (where, cname))
        stmt = parent.get(stmt, scope)
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name != cname and _callee_of(func, frame) is not callee.f_code:
        text = ast.get_source_segment("".join(linecache.getlines(code.co_filename)), func) or "?"
        if cname in ("__init__", "__new__", "__post_init__"):
            return ("%s: creating an instance (%s(...)) calls %s: the stack can't be rebuilt "
                    "while it runs" % (where, text, cname))
        return ("%s: %s() (a C function or a class) calls %s: the stack can't be rebuilt while "
                "it runs" % (where, text, cname))
    order = []
    _calls_in_order(stmt, order)
    before = [c for c in order[:order.index(call)] if not _pure(c, frame)] if call in order else []
    if before:
        src = "".join(linecache.getlines(code.co_filename))
        names = ", ".join((ast.get_source_segment(src, c.func) or "?") + "()" for c in before)
        return ("%s: %s already ran before %s was called on this line; resuming re-runs the line, "
                "so it would run twice" % (where, names, cname))
    return None


def check_stack(frames, is_user):
    """Reasons the stack can't be suspended now (empty: it can)."""
    reasons = []
    for n, frame in enumerate(frames):
        code = frame.f_code
        where = _where(code, frame.f_lineno)
        if code.co_flags & _GEN_FLAGS:
            reasons.append("%s: a generator or coroutine frame can't be rebuilt (it is driven by "
                           "whoever iterates or awaits it)" % where)
            continue
        if not is_user(code):
            reasons.append("%s: library code on the stack can't be rebuilt" % where)
            continue
        if code.co_name in ("<listcomp>", "<setcomp>", "<dictcomp>"):
            reasons.append("%s: a comprehension in progress can't be rebuilt (its partial result "
                           "isn't a variable)" % where)
            continue
        if n and frame.f_back is not frames[n - 1]:
            reasons.append("%s: it was called by code that isn't the program's (%s): the stack "
                           "can't be rebuilt through it" % (
                               where, frame.f_back.f_code.co_qualname if frame.f_back else "?"))
            continue
        if not code.co_flags & 0x1 and n and frame.f_locals is not frame.f_globals:
            reasons.append("%s: a class body being run can't be rebuilt" % where)
            continue
        tree = _module_ast(code.co_filename)
        scope = _scope_node(tree, code) if tree is not None else None
        if scope is not None and frame.f_lineno < _MARKER_BASE:
            handler = _in_handler(scope, frame.f_lineno)
            if handler:
                reasons.append("%s: it is running %s; the exception being handled can't be "
                               "restored, so a bare raise or sys.exc_info() would differ" % (where, handler))
                continue
            if n + 1 == len(frames):
                comprehension = _in_inlined_comprehension(scope, frame)
                if comprehension:
                    reasons.append("%s: %s" % (where, comprehension))
                    continue
        if n + 1 < len(frames):
            why = _check_caller(frame, frames[n + 1])
            if why:
                reasons.append(why)
    return reasons


# ---------------------------------------------------------------------------------------------
# capture


class _Refuse(Exception):
    """Raised from the pickler for a value that can't be saved; ``obj`` is that value."""

    def __init__(self, obj, what):
        super().__init__(what)
        self.obj = obj
        self.what = what


class _GlobalsRef:
    """Stands for a user module's ``__dict__`` in a function's reduction (dicts are pickled by
    value, without asking reducer_override)."""

    def __init__(self, module):
        self.module = module


def _set_class_state(cls, state):
    # BUILD would call a __setstate__ found on the class, which is the instances' method.
    for key, value in state.items():
        setattr(cls, key, value)


def _reopen(kind, path, mode, encoding, errors, line_buffering, pos, size, mtime_ns, where):
    """A file saved open, opened again at its position (or a closed one when it was closed)."""
    if pos is None:
        f = open(os.devnull, "rb" if "b" in mode else "r")
        f.close()
        return f
    problem = None
    try:
        st = os.stat(path)
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            problem = "changed since the suspend (size %d -> %d bytes%s)" % (
                size, st.st_size, ", modified" if st.st_mtime_ns != mtime_ns else "")
    except OSError as e:
        problem = "is gone (%s)" % (e.strerror or e)
    if problem is None:
        flags = {"r": os.O_RDONLY, "w": os.O_WRONLY, "a": os.O_WRONLY | os.O_APPEND}[mode[0]]
        if "+" in mode:
            flags = (flags & ~os.O_WRONLY) | os.O_RDWR
        try:
            fd = os.open(path, flags)
        except OSError as e:
            problem = "can't be opened again (%s)" % (e.strerror or e)
    if problem is not None:
        _RESTORE_PROBLEMS.append("file %s (%s) %s" % (path, where, problem))
        return None
    # Opened by descriptor, with the saved mode: open(path, "w") would truncate the file.
    if kind == "text":
        f = io.open(fd, mode, encoding=encoding, errors=errors)
        f.buffer.raw.name = path
        if line_buffering:
            f.reconfigure(line_buffering=True)
    else:
        f = io.open(fd, mode, buffering=0 if kind == "raw" else -1)
        (f if kind == "raw" else f.raw).name = path
    f.seek(pos)
    return f


def _iter_proxy(inner):
    import builtins
    return builtins.__sleepy_iter__(inner)


_RESTORE_PROBLEMS = []
_HELPERS = {"_set_class_state": _set_class_state, "_reopen": _reopen, "_iter_proxy": _iter_proxy}


def _open_mode(obj, binary):
    mode = getattr(obj, "mode", None)
    if not isinstance(mode, str):  # a TextIOWrapper made by hand has no mode of its own
        mode = getattr(getattr(obj, "buffer", obj), "raw", obj).mode
    # x is saved as w: reopened by descriptor, neither creates nor truncates the file.
    base = "a" if "a" in mode else "w" if "w" in mode or "x" in mode else "r"
    return base + ("+" if "+" in mode else "") + ("b" if binary else "")


def _text_position(f):
    """tell() of a text file, also while a for loop reads it (next() disables tell())."""
    try:
        return f.tell()
    except OSError:
        pass
    # The text layer holds the rest of its last chunk, decoded. Checked before touching the file
    # (the running program goes on reading it): the byte length of that rest must be computable,
    # so no stateful encoding and no \r\n turned into \n.
    import codecs
    if codecs.lookup(f.encoding).name not in ("utf-8", "ascii", "iso8859-1", "cp1252") or \
            f.newlines not in (None, "\n"):
        raise OSError("its position can't be found while a for loop reads it (%s%s)" % (
            f.encoding, ", \\r line ends" if f.newlines not in (None, "\n") else ""))
    start = f.buffer.tell()
    chars = []
    while True:
        c = f.read(1)
        if not c or f.buffer.tell() != start:
            break
        chars.append(c)
    rest = "".join(chars)
    size = len(rest.encode(f.encoding, f.errors))
    # The decoder may also hold the first bytes of a character split by the chunk's end.
    for pending in range(4):
        pos = start - size - pending
        f.seek(pos)
        if f.read(len(rest) + 1) == rest + c:
            f.seek(pos)
            return pos
    raise OSError("its position can't be found while a for loop reads it")


class _Pickler(pickle.Pickler):
    def __init__(self, file, modules):
        super().__init__(file, protocol=5)
        self.where = ""
        self._user_dicts = {id(m.__dict__): _GlobalsRef(m) for m in modules.values()}
        self._user_names = set(modules)
        self._refs = {}
        for name in ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__"):
            if getattr(sys, name, None) is not None:
                self._refs[id(getattr(sys, name))] = (getattr, (sys, name))
        for tname in ("FunctionType", "CellType", "CodeType", "MappingProxyType"):
            self._refs[id(getattr(types, tname))] = (getattr, (types, tname))
        self._refs[id(functools._CacheInfo)] = (getattr, (functools, "_CacheInfo"))
        rnd = sys.modules.get("random")
        if rnd is not None and hasattr(rnd, "_inst"):
            self._refs[id(rnd._inst)] = (getattr, (rnd, "_inst"))
        dc = sys.modules.get("dataclasses")
        for name in ("MISSING", "_HAS_DEFAULT_FACTORY", "KW_ONLY", "_FIELD", "_FIELD_CLASSVAR",
                     "_FIELD_INITVAR", "_EMPTY_METADATA"):
            if dc is not None and hasattr(dc, name):
                self._refs[id(getattr(dc, name))] = (getattr, (dc, name))
        self._keep = [getattr(sys, n, None) for n in ("stdin", "stdout", "stderr")]
        self._by_type = {
            types.FunctionType: self._function, types.CodeType: self._code,
            types.CellType: self._cell, types.ModuleType: self._module,
            _GlobalsRef: lambda g: (getattr, (g.module, "__dict__")),
            classmethod: lambda o: (classmethod, (o.__func__,)),
            staticmethod: lambda o: (staticmethod, (o.__func__,)),
            property: lambda o: (property, (o.fget, o.fset, o.fdel, o.__doc__)),
            types.MappingProxyType: lambda o: (types.MappingProxyType, (dict(o),)),
            functools.cached_property: lambda o: (functools.cached_property, (o.func,),
                                                  {"attrname": o.attrname, "__doc__": o.__doc__}),
            functools._lru_cache_wrapper: self._lru,
            type({}.keys()): functools.partial(self._view, dict.keys),
            type({}.values()): functools.partial(self._view, dict.values),
            type({}.items()): functools.partial(self._view, dict.items),
            _thread.LockType: self._lock, _thread.RLock: self._lock,
        }
        for t in (io.TextIOWrapper, io.BufferedReader, io.BufferedWriter, io.BufferedRandom, io.FileIO):
            self._by_type[t] = self._file
        for t, what in ((types.GeneratorType, "a generator"), (types.CoroutineType, "a coroutine"),
                        (types.AsyncGeneratorType, "an async generator")):
            self._by_type[t] = functools.partial(self._refuse_running, what)
        for t in (types.FrameType, types.TracebackType):
            self._by_type[t] = lambda o: self._refuse(o, "a %s object can't be saved" % type(o).__name__)
        for modname, tname in (("_socket", "socket"), ("socket", "socket"), ("ssl", "SSLSocket"),
                               ("select", "epoll"), ("selectors", "DefaultSelector")):
            t = getattr(sys.modules.get(modname), tname, None)
            if isinstance(t, type):
                self._by_type[t] = lambda o: self._refuse(
                    o, "a %s.%s can't be saved (an OS resource can't move to another process)"
                    % (type(o).__module__, type(o).__name__))

    @staticmethod
    def _refuse(obj, what):
        raise _Refuse(obj, what)

    def _refuse_running(self, what, obj):
        self._refuse(obj, "%s (%s) can't be saved: its paused frame can't be pickled"
                     % (what, getattr(obj, "__qualname__", "?")))

    def reducer_override(self, obj):
        ref = self._refs.get(id(obj))
        if ref is not None:
            return ref
        handler = self._by_type.get(type(obj))
        if handler is not None:
            return handler(obj)
        if isinstance(obj, type):
            return self._class(obj)
        if type(obj).__name__ == "IterProxy" and type(obj).__module__ == "sleepy":
            # A rewritten for loop's wrapper (src/rewrite/runtime.rs) of a Python iterator:
            # wrapped again on restore by the same helper.
            return (_iter_proxy, (obj.inner,))
        return NotImplemented

    def _code(self, code):
        return (marshal.loads, (marshal.dumps(code),))

    def _cell(self, cell):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell (a variable not assigned yet)
            return (types.CellType, ())
        return (types.CellType, (), (None, {"cell_contents": value}))

    def _module(self, mod):
        name = mod.__name__
        if name not in self._user_names and sys.modules.get(name) is not mod:
            self._refuse(mod, "a module object (%s) that isn't in sys.modules can't be saved" % name)
        return (importlib.import_module, (name,))

    def _function(self, fn):
        g = self._user_dicts.get(id(fn.__globals__))
        if g is None:
            mod = sys.modules.get(fn.__module__ or "")
            target = mod
            for part in fn.__qualname__.split("."):
                target = getattr(target, part, None)
            if target is fn and fn.__module__ not in self._user_names:
                return NotImplemented  # a library function, saved by name
            # A function made at run time by library code (namedtuple's methods, a decorator's
            # wrapper): by value, with its own module's globals by name when there is one.
            name = fn.__globals__.get("__name__")
            gm = sys.modules.get(name) if isinstance(name, str) else None
            g = _GlobalsRef(gm) if gm is not None and gm.__dict__ is fn.__globals__ else \
                {k: fn.__globals__[k] for k in _names(fn.__code__) if k in fn.__globals__}
            self._keep.append(g)
        state = {"__qualname__": fn.__qualname__, "__module__": fn.__module__,
                 "__defaults__": fn.__defaults__, "__kwdefaults__": fn.__kwdefaults__,
                 "__doc__": fn.__doc__}
        if fn.__annotations__:
            state["__annotations__"] = fn.__annotations__
        return (types.FunctionType, (fn.__code__, g, fn.__name__, None, fn.__closure__),
                (fn.__dict__ or None, state))

    def _lru(self, wrapper):
        params = wrapper.cache_parameters()
        return (functools._lru_cache_wrapper,
                (wrapper.__wrapped__, params["maxsize"], params["typed"], functools._CacheInfo),
                dict(wrapper.__dict__))

    @staticmethod
    def _view(method, view):
        # The view's mapping is a read-only proxy of the dict; the dict itself is its referent.
        import gc
        return (method, (gc.get_referents(view.mapping)[0],))

    def _lock(self, lock):
        held = lock.locked() if hasattr(lock, "locked") else repr(lock).startswith("<locked")
        if held:
            self._refuse(lock, "a held %s.%s can't be saved (suspend where the program doesn't "
                         "hold it)" % (type(lock).__module__, type(lock).__name__))
        return (type(lock) if type(lock) is _thread.RLock else _thread.allocate_lock, ())

    def _class(self, cls):
        if cls.__module__ not in self._user_names:
            return NotImplemented
        meta = type(cls)
        if meta is not type and meta is not abc.ABCMeta and meta.__module__ not in self._user_names:
            self._refuse(cls, "the class %s.%s, made by the metaclass %s.%s, can't be saved yet"
                         % (cls.__module__, cls.__qualname__, meta.__module__, meta.__qualname__))
        skeleton = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        state = {}
        for key, value in cls.__dict__.items():
            if key in ("__slots__", "__orig_bases__"):
                skeleton[key] = value
            elif key in ("__module__", "__qualname__", "_abc_impl"):
                continue
            elif (isinstance(value, (types.MemberDescriptorType, types.GetSetDescriptorType))
                  and value.__objclass__ is cls):
                continue  # made again from __slots__ when the class is created
            else:
                state[key] = value
        return (meta, (cls.__name__, cls.__bases__, skeleton), state, None, None, _set_class_state)

    def _file(self, f):
        name = getattr(f, "name", None)
        kind = "text" if isinstance(f, io.TextIOWrapper) else "raw" if isinstance(f, io.FileIO) else "buffered"
        mode = _open_mode(f, kind != "text")
        if f.closed:
            return (_reopen, (kind, name, mode, None, None, False, None, 0, 0, self.where))
        fd = f.fileno()
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            self._refuse(f, "an open file on a %s (%r) can't be saved" % (
                "pipe" if stat.S_ISFIFO(st.st_mode) else "terminal or device"
                if stat.S_ISCHR(st.st_mode) else "socket or special file", name))
        path = None
        try:
            path = os.readlink("/proc/self/fd/%d" % fd)
        except OSError:
            path = os.path.abspath(name) if isinstance(name, str) else None
        try:
            same = path is not None and os.path.samestat(os.stat(path), st)
        except OSError:
            same = False
        if not same:
            self._refuse(f, "an open file (%r) that was deleted or renamed can't be saved" % (name,))
        try:
            if f.writable():
                f.flush()
            pos = _text_position(f) if kind == "text" else f.tell()
        except OSError as e:
            self._refuse(f, "the open file %s can't be saved: %s" % (path, e))
        st = os.fstat(fd)
        text = kind == "text"
        return (_reopen, (kind, path, mode, f.encoding if text else None, f.errors if text else None,
                          f.line_buffering if text else False, pos, st.st_size, st.st_mtime_ns,
                          self.where))


def _names(code):
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return out


# ---------------------------------------------------------------------------------------------
# describing values (for summary) and locating unsaveable ones


_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _safe_repr(value):
    r = reprlib.Repr()
    r.maxstring = r.maxother = 160
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = 10
    try:
        text = r.repr(value)
    except BaseException as e:  # the program's __repr__ may raise anything
        text = "<repr failed: %s>" % type(e).__name__
    text = _CTRL.sub(lambda m: "\\x%02x" % ord(m.group()), text)
    return text if len(text) <= 200 else text[:197] + "..."


def _type_name(value):
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__, t.__qualname__)


def _path_to(root, target, name, limit=20000):
    """How ``target`` is reached from ``root`` (``self.conn.sock``), by a bounded search."""
    seen = {id(root)}
    queue = [(root, name)]
    for value, path in queue:
        if value is target:
            return path
        if len(queue) > limit:
            break
        kids = []
        if isinstance(value, dict):
            kids = [(v, "%s[%r]" % (path, k)) for k, v in list(value.items())]
        elif isinstance(value, (list, tuple)):
            kids = [(v, "%s[%d]" % (path, i)) for i, v in enumerate(value)]
        elif isinstance(value, (set, frozenset)):
            kids = [(v, "an element of %s" % path) for v in value]
        elif isinstance(value, types.FunctionType) and value.__closure__:
            kids = [(c.cell_contents, "%s's %s" % (path, n)) for n, c in zip(
                value.__code__.co_freevars, value.__closure__) if _cell_full(c)]
        else:
            d = getattr(value, "__dict__", None)
            if isinstance(d, dict) and not isinstance(value, (type, types.ModuleType)):
                kids = [(v, "%s.%s" % (path, k)) for k, v in list(d.items())]
            for slot in getattr(type(value), "__slots__", ()) if not isinstance(value, type) else ():
                if isinstance(slot, str) and hasattr(value, slot):
                    kids.append((getattr(value, slot), "%s.%s" % (path, slot)))
        for v, p in kids:
            if id(v) not in seen:
                seen.add(id(v))
                queue.append((v, p))
    return None


def _cell_full(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _name_words(name):
    m = re.match(r"_+sl_([a-z]+)\d+_*$", name)
    return "%s (hidden variable %s)" % (_HIDDEN[m.group(1)], name) if m and m.group(1) in _HIDDEN \
        else "variable %s" % name


def _diagnose(value, where, varname, modules, first):
    """What can't be saved in ``value`` and where inside it."""
    p = _Pickler(io.BytesIO(), modules)
    p.where = where
    try:
        p.dump(value)
    except _Refuse as e:
        path = _path_to(value, e.obj, varname)
        inside = " (at %s)" % path if path and path != varname else ""
        return "%s%s: %s" % (where, inside, e.what)
    except BaseException as e:  # the program's __reduce__ may raise anything
        return "%s: can't be saved (%s: %s)" % (where, type(e).__name__, e)
    return "%s: can't be saved (%s: %s)" % (where, type(first).__name__, first)


def _frame_cells(frame, values):
    """The cells of ``frame``'s captured variables, as the closures made in it hold them (Python
    can't read a frame's cells; the closures' are the ones identity matters for)."""
    code = frame.f_code
    if not code.co_cellvars:
        return {}
    nested = {id(c) for c in code.co_consts if isinstance(c, types.CodeType)}
    cells = {}
    candidates = list(values.values())
    for v in list(candidates):
        if isinstance(v, (list, tuple)):
            candidates.extend(v[:100])
        elif isinstance(v, dict):
            candidates.extend(list(v.values())[:100])
    for v in candidates:
        fn = getattr(v, "__func__", v)
        if isinstance(fn, types.FunctionType) and id(fn.__code__) in nested and fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                if name in code.co_cellvars and name not in cells:
                    if _cell_full(cell) and name in values and cell.cell_contents is values[name]:
                        cells[name] = cell
    return cells


def capture(frames, modules, extra):
    """The program's state as bytes; raises Unsaveable naming every value that can't be saved."""
    modules = dict(modules)
    module_of_dict = {id(m.__dict__): name for name, m in modules.items()}
    head_frames, items = [], []  # items: (where, varname, value) in dump order
    head_modules = []
    for name, mod in modules.items():
        names = [k for k in mod.__dict__ if k not in ("__builtins__", "__loader__", "__spec__")]
        head_modules.append({"name": name, "file": getattr(mod, "__file__", None), "names": names})
        for k in names:
            items.append(("module %s, global %s" % (name, k), k, mod.__dict__[k]))
    frame_values = []
    for frame in frames:
        code = frame.f_code
        where = _where(code, frame.f_lineno)
        modname = module_of_dict.get(id(frame.f_globals)) if frame.f_locals is frame.f_globals else None
        values = {} if modname else dict(frame.f_locals)
        cells = _frame_cells(frame, values)
        shown = values if not modname else {k: v for k, v in frame.f_globals.items()
                                            if not k.startswith("__") and not isinstance(v, types.ModuleType)}
        head_frames.append({
            "qualname": code.co_qualname, "co_name": code.co_name, "filename": code.co_filename,
            "firstlineno": code.co_firstlineno, "line": frame.f_lineno,
            "code_hash": hashlib.sha256(marshal.dumps(code)).hexdigest(), "module": modname,
            "names": list(values), "cells": list(cells),
            "describe": [(k, _type_name(v), _safe_repr(v)) for k, v in shown.items()
                         if not re.match(r"_+sl_", k)],
        })
        frame_values.append((cells, values))
        for k, cell in cells.items():
            items.append(("frame %s, cell of variable %s" % (where, k), k, cell))
        for k, v in values.items():
            items.append(("frame %s, %s" % (where, _name_words(k)), k, v))
    rnd = sys.modules.get("random")
    head = {"format": FORMAT, "helper": __name__, "python": list(sys.version_info[:3]),
            "modules": head_modules, "frames": head_frames, "extra": extra,
            "random": rnd is not None and hasattr(rnd, "getstate")}
    out = io.BytesIO()
    p = _Pickler(out, modules)
    p.dump(head)
    reasons = []
    for where, varname, value in items:
        p.where = where
        try:
            p.dump(value)
        except BaseException as e:  # the program's __reduce__/__getstate__ may raise anything
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            reasons.append(_diagnose(value, where, varname, modules, e))
    if head["random"]:
        p.dump(rnd.getstate())
    if reasons:
        raise Unsaveable(reasons)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# restore and summary


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, helper, mods):
        super().__init__(file)
        self._helper = helper
        self._mods = mods

    def _import(self, name):
        return self._mods[name] if name in self._mods else importlib.import_module(name)

    def find_class(self, module, name):
        if module == self._helper and name in _HELPERS:
            return _HELPERS[name]
        if module == "importlib" and name == "import_module":
            return self._import
        if module in self._mods:
            target = self._mods[module]
            for part in name.split("."):
                target = getattr(target, part)
            return target
        return super().find_class(module, name)


class _HeadOnly(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError("the summary holds plain data only (asked for %s.%s)" % (module, name))


def restore(payload, make_module):
    """Recreates the saved modules (through ``make_module``) and values; see the module docs."""
    f = io.BytesIO(payload)
    head = _HeadOnly(f).load()
    if head.get("format") != FORMAT:
        raise CannotResume("snapshot format %r, this sleepy reads %d" % (head.get("format"), FORMAT))
    mods = {m["name"]: make_module(m["name"], m["file"]) for m in head["modules"]}
    f.seek(0)
    up = _Unpickler(f, head["helper"], mods)
    up.load()  # the head again, so that the memo matches the Pickler's
    del _RESTORE_PROBLEMS[:]
    keep = ("__name__", "__file__", "__builtins__")
    for m in head["modules"]:
        d = mods[m["name"]].__dict__
        for k in m["names"]:
            value = up.load()
            if k not in keep:
                d[k] = value  # at once: a later global may be found by name (find_class)
    frames = []
    for hf in head["frames"]:
        cells = {k: up.load() for k in hf["cells"]}
        local = {k: up.load() for k in hf["names"]}
        if hf["module"]:
            local = mods[hf["module"]].__dict__
        frames.append({k: hf[k] for k in ("qualname", "co_name", "filename", "firstlineno",
                                          "line", "code_hash", "module")})
        frames[-1].update(locals=local, cells=cells)
    if head["random"]:
        importlib.import_module("random").setstate(up.load())
    if _RESTORE_PROBLEMS:
        problems = list(_RESTORE_PROBLEMS)
        del _RESTORE_PROBLEMS[:]
        raise CannotResume("can't resume: " + "; ".join(problems))
    return {"frames": frames, "extra": head["extra"], "modules": mods}


def summary(payload):
    """Stack and locals as saved, for ``sleepy inspect``; reads plain data only."""
    head = _HeadOnly(io.BytesIO(payload)).load()
    return {"frames": [{"qualname": fr["qualname"], "filename": fr["filename"], "line": fr["line"],
                        "locals": [tuple(d) for d in fr["describe"]]} for fr in head["frames"]],
            "extra": head["extra"]}


# Pickle saves _HELPERS by module and name; make sure that lookup works however the agent loaded
# this module (exec'd into a namespace of its own).
if sys.modules.get(__name__) is None or getattr(sys.modules[__name__], "_reopen", None) is not _reopen:
    _shim = types.ModuleType(__name__)
    _shim.__dict__.update({k: v for k, v in globals().items() if k in _HELPERS})
    sys.modules.setdefault(__name__, _shim)
