"""The rewriter: makes every line of a function reachable by a jump, without changing what the
program does.

CPython refuses to jump into code that expects hidden state on its value stack. Three
statements keep such state across lines, and they are rewritten; everything else is left as
the user wrote it, with the user's line numbers and column positions:

``for`` / ``async for``
    The iterator lives on the stack for the whole loop. The rewrite keeps the same native loop
    (so it runs at full speed) but over an iterator held in a hidden local, and clears that
    local when the loop ends, however it ends::

        _sl_it0 = __sleepy_iter__(XS)     # line of the for: iter() errors read as before
        try:
            pass                          # a *marker* on a line of its own (see below)
            for x in _sl_it0: BODY
            else:
                _sl_it0 = None            # no line: the exhausted iterator is let go, as in CPython
                ORELSE
        finally:
            del _sl_it0                   # no line (see "Cleanup code" below)

    Jumping to the marker re-enters the loop with the iterator it already has (the next item);
    jumping to the ``for`` line starts it afresh. ``__sleepy_iter__`` is ``iter()``; when the
    iterator's own ``__iter__`` is Python code (which the second ``iter()`` of the loop would
    call again) or missing, it wraps the iterator in a native proxy that only calls its type's
    ``__next__``, as ``FOR_ITER`` does.

``with`` / ``async with``
    The bound ``__exit__`` lives on the stack. The rewrite spells the statement out as CPython
    compiles it, with ``__exit__``, what ``__enter__`` returned and a state flag in hidden
    locals::

        _sl_exit0, _sl_val0 = __sleepy_enter__(EXPR)  # BEFORE_WITH: same lookups, same errors;
        _sl_w0 = 0                                    # nothing is bound if __enter__ fails
        try:
            try:
                TARGET = _sl_val0
                _sl_val0 = None                       # the value is not kept alive
                BODY                                  # a try body: jumpable
            except __sleepy_suppress__((_sl_w0 := 1), _sl_exit0(*__sleepy_exc__())):
                _sl_w0 = 3                            # suppressed
            else:
                if not _sl_w0:                        # the body ran to its end
                    _sl_w0 = 1
                    _sl_exit0(None, None, None)
        finally:
            if not _sl_w0:                            # (no line) return, break, continue
                _sl_exit0(None, None, None)
            pass                                      # a marker (hides a line event)
            del _sl_exit0, _sl_val0, _sl_w0

    ``__exit__`` is called inside the handler, by the ``except`` clause's type expression (the
    exception is the handled one, as for CPython's own with), and ``__sleepy_suppress__`` turns
    its result into what the clause catches: everything (a true result, the exception is
    suppressed) or nothing (the exception goes on; no ``raise`` statement re-raises it, so the
    traceback is unchanged). ``async with`` is the same with ``__sleepy_aenter__`` (which returns
    ``__aexit__`` and the awaitable ``__aenter__`` returned, in ``_sl_aw0``), awaits on the
    ``with`` line, and ``__sleepy_awaitable__`` checking what ``__aexit__`` returns. The
    debugger sets ``_sl_w0`` to 2 to run a body without its manager (no ``__exit__`` call).

``match``
    The subject lives on the stack while the cases are tried. Each case becomes a match
    statement of its own on the case's line, over the subject held in a hidden local; the
    cases after it are tried in its wildcard case, so a jump to a case line tries that case,
    and a case body has no hidden name bound (``locals()`` there is the original's)::

        _sl_subj0 = SUBJECT
        try:
            match _sl_subj0:                 # on the first case's line
                case P1 if G1:
                    del _sl_subj0            # the subject is let go, as CPython pops it
                    B1
                case _:                      # on the second case's line
                    match _sl_subj0:
                        case P2:
                            del _sl_subj0
                            B2
        finally:
            _sl_subj0 = None                 # (no line) no case matched, or an exception
            del _sl_subj0

    A case that CPython refuses because it makes the remaining ones unreachable (``case x:``
    before other cases) is followed by a wildcard case here too, so the compiler still refuses
    it, with its own message.

``try``/``except``/``else``/``finally`` and ``while`` need nothing: their bodies are reachable as
they are, and the debugger enters an ``except`` handler by raising the exception in the ``try``
body (see ``sleepy_jump.py``). ``async for``/``async with`` outside an ``async def`` are left as
written, so CPython reports them as it always does.

Markers are ``pass`` statements on *virtual* lines (``MARKER_BASE`` and up), which compile to a
NOP that starts a line of its own; a jump to that line lands exactly there. The debugger hides
their line events (and the one right after a marker, on the loop's own line) and maps them back
to the line they belong to (``markers``). Virtual lines never reach a traceback: a marker cannot
raise.

Cleanup code (deleting hidden names, testing flags) has *no* position (line -1): CPython gives
it no line event, so a trace of the rewritten program shows the events the original shows, and
no more (a ``break`` does not show the ``for`` line again, a finished ``case`` body does not
show the next case's line), and a ``return`` leaves from the ``return``'s line. Everything else
synthetic takes the position CPython gives the code it replaces (the statement's, or on 3.13
the iterable's or the item's: see ``FOR_AT_ITERABLE``), so errors raised by it (``'int' object
is not iterable``, a failing ``__exit__``) show the same line and the same carets as in the
original.

The compiled code is then adjusted (``relocate_reraises``): an exception that leaves through
a rewritten construct's cleanup leaves the frame on the line that raised, as CPython's own
``with`` does, and a with's handler starts on the with's position, as CPython's does.

Hidden names start with ``_sl_`` and are numbered per scope in source order; in a class body
they are ``__sl_<kind><n>__`` instead (a dunder name: ``enum`` and other class namespaces
treat such a name as an ordinary attribute, never as a member). They are deleted when the
construct ends, however it ends. ``constructs()`` gives the same numbering and names to the
jump planner (``Construct.hidden(kind)``).
"""

import ast
import sys

# Where CPython puts the code of these statements differs between versions, and the rewritten
# code must put its own code at the same places (for the same tracebacks and line events):
_VERSION = sys.version_info[:2]
# 3.13+: GET_ITER and FOR_ITER take the iterable's position (before: the for statement's).
FOR_AT_ITERABLE = _VERSION >= (3, 13)
# 3.13+: a with's own code (BEFORE_WITH, __exit__ calls, the handler) takes each item's
# context expression's position (before: the with statement's).
WITH_AT_ITEM = _VERSION >= (3, 13)
# 3.12+: when a case matches, the subject is popped at the case pattern's position (3.11: no
# position of its own).
CASE_POP_AT_PATTERN = _VERSION >= (3, 12)

MARKER_BASE = 10_000_000
# The value of a with's flag once __exit__ suppressed the exception (0: entered, 1: __exit__
# called or being called, 2: the debugger skipped the manager).
SUPPRESSED = 3
HIDDEN_PREFIX = "_sl_"
CLASS_HIDDEN_PREFIX = "__sl_"

# Runtime helpers the rewritten code calls; the agent installs them in builtins.
ITER = "__sleepy_iter__"
AITER = "__sleepy_aiter__"
ENTER = "__sleepy_enter__"
AENTER = "__sleepy_aenter__"
EXC_INFO = "__sleepy_exc__"
AWAITABLE = "__sleepy_awaitable__"
SUPPRESS = "__sleepy_suppress__"
HELPER_PREFIX = "__sleepy_"

# The hidden names of each kind of construct.
KINDS = {
    "for": ("it",),
    "with": ("exit", "val", "w"),
    "async with": ("exit", "val", "w", "aw"),
    "match": ("subj",),
}


class Construct:
    """A rewritten statement, as the jump planner sees it."""

    __slots__ = ("kind", "number", "line", "end_line", "names", "marker", "cases", "node", "in_class")

    def __init__(self, kind, number, node, in_class=False):
        self.kind = kind  # "for", "with", "match"
        self.number = number
        self.line = node.lineno
        self.end_line = node.end_lineno
        self.in_class = in_class
        full = "async with" if isinstance(node, ast.AsyncWith) else kind
        self.names = {k: hidden(k, number, in_class) for k in KINDS[full]}
        self.marker = None
        self.cases = []
        self.node = node

    def hidden(self, kind):
        """The hidden name of ``kind`` ("it", "exit", "val", "w", "aw", "subj")."""
        return hidden(kind, self.number, self.in_class)

    def __repr__(self):
        return "Construct(%s#%d at %d-%d)" % (self.kind, self.number, self.line, self.end_line)


def hidden(kind, number, in_class=False):
    """The hidden name of ``kind`` for construct ``number`` of a scope (a class body's if
    ``in_class``)."""
    if in_class:
        return "%s%s%d__" % (CLASS_HIDDEN_PREFIX, kind, number)
    return "%s%s%d" % (HIDDEN_PREFIX, kind, number)


def is_hidden(name):
    """Whether ``name`` is one of the rewriter's hidden names."""
    return name.startswith(HIDDEN_PREFIX) or (name.startswith(CLASS_HIDDEN_PREFIX) and name.endswith("__"))


def _scope_nodes():
    return (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _scope_kind(node):
    if isinstance(node, ast.AsyncFunctionDef):
        return "async"
    if isinstance(node, ast.FunctionDef):
        return "function"
    if isinstance(node, ast.ClassDef):
        return "class"
    return "module"


def loop_line(node):
    """The line a ``for``'s marker stands before, where its own line events are (and the owner
    of its marker in ``markers``): the statement's line, or on 3.13+ its iterable's."""
    return node.iter.lineno if FOR_AT_ITERABLE else node.lineno


def construct_kind(node, scope_kind):
    """``"for"``, ``"with"``, ``"match"`` or None: what ``node`` is rewritten as in a scope of
    ``scope_kind`` ("module", "function", "async", "class")."""
    if isinstance(node, ast.For):
        return "for"
    if isinstance(node, ast.With):
        return "with"
    if isinstance(node, ast.Match):
        return "match"
    if isinstance(node, (ast.AsyncFor, ast.AsyncWith)) and scope_kind == "async":
        # Outside an async def they are a SyntaxError, which CPython must report as usual.
        return "for" if isinstance(node, ast.AsyncFor) else "with"
    return None


def _copy_pos(new, old, single_line=False):
    new.lineno = old.lineno
    new.col_offset = old.col_offset
    if single_line:
        new.end_lineno = old.lineno
        new.end_col_offset = old.end_col_offset if old.end_lineno == old.lineno else old.col_offset
    else:
        new.end_lineno = old.end_lineno
        new.end_col_offset = old.end_col_offset
    return new


def _at(old, node):
    """Gives ``node`` and every node inside it that has no position the position of ``old``.
    A node that has one (the user's code, already placed synthetic code) is left as it is,
    with everything inside it."""
    todo = [node]
    while todo:
        sub = todo.pop()
        if "lineno" in sub._attributes:
            if hasattr(sub, "lineno"):
                continue
            sub.lineno = old.lineno
            sub.col_offset = old.col_offset
            sub.end_lineno = old.end_lineno
            sub.end_col_offset = old.end_col_offset
        todo.extend(ast.iter_child_nodes(sub))
    return node


def _no_position(node):
    """Gives ``node`` no position (line -1); cleanup code: CPython emits no line event for it."""
    node.lineno = node.end_lineno = -1
    node.col_offset = node.end_col_offset = -1
    return node


def _nowhere(node):
    """``_no_position`` for ``node`` and every node inside it (all of it synthetic)."""
    for sub in ast.walk(node):
        if "lineno" in sub._attributes:
            _no_position(sub)
    return node


def _name(id, ctx=None):
    return ast.Name(id=id, ctx=ctx or ast.Load())


def _call(func, *args):
    return ast.Call(func=_name(func) if isinstance(func, str) else func, args=list(args), keywords=[])


def _assign(name, value):
    return ast.Assign(targets=[_name(name, ast.Store())], value=value)


def _delete(*names):
    return ast.Delete(targets=[_name(n, ast.Del()) for n in names])


class _Numbering:
    """Numbers the rewritten constructs of one scope in source order."""

    def __init__(self, kind="module"):
        self.next = 0
        self.kind = kind

    def take(self):
        n = self.next
        self.next += 1
        return n


def constructs(tree):
    """``{id(scope node): [Construct, ...]}`` for every scope of a module, numbered and named
    exactly as ``rewrite`` numbers and names its hidden names (pre-order, source order, per
    scope). Call it on the tree as parsed, not on a rewritten one."""
    out = {}

    def scan(scope, body_nodes, scope_kind):
        numbering = _Numbering(scope_kind)
        found = []
        out[id(scope)] = found
        in_class = scope_kind == "class"

        def visit(node):
            if isinstance(node, _scope_nodes()):
                if isinstance(node, ast.Lambda):
                    return
                scan(node, node.body, _scope_kind(node))
                # Decorators, defaults and bases belong to the enclosing scope but hold no
                # statements.
                return
            kind = construct_kind(node, scope_kind)
            if kind == "with":
                # Each item is its own construct (``with a, b`` is ``with a: with b``).
                for _item in node.items:
                    found.append(Construct("with", numbering.take(), node, in_class))
            elif kind is not None:
                found.append(Construct(kind, numbering.take(), node, in_class))
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt) or isinstance(child, (ast.match_case, ast.excepthandler)):
                    visit(child)

        for stmt in body_nodes:
            visit(stmt)

    scan(tree, tree.body, "module")
    return out


class Rewriter(ast.NodeTransformer):
    def __init__(self):
        self.numbering = [_Numbering("module")]
        self.markers = {}
        self.next_marker = MARKER_BASE

    # --- scopes ---------------------------------------------------------------------------

    def _scoped(self, node):
        self.numbering.append(_Numbering(_scope_kind(node)))
        try:
            node.body = self._statements(node.body)
            # Everything else in the node (decorators, defaults, bases) has no statements.
            return node
        finally:
            self.numbering.pop()

    visit_FunctionDef = _scoped
    visit_AsyncFunctionDef = _scoped
    visit_ClassDef = _scoped

    def visit_Lambda(self, node):
        return node

    def _take(self):
        return self.numbering[-1].take()

    def _hidden(self, kind, number):
        return hidden(kind, number, self.numbering[-1].kind == "class")

    def _statements(self, stmts):
        out = []
        for stmt in stmts:
            result = self.visit(stmt)
            if isinstance(result, list):
                out.extend(result)
            elif result is not None:
                out.append(result)
        return out

    def generic_visit(self, node):
        # Only statement lists are rewritten; expressions are left untouched.
        for field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, field, self._statements(value))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, (ast.excepthandler, ast.match_case)):
                        self.generic_visit(item)
        return node

    def _marker(self, owner):
        line = self.next_marker
        self.next_marker += 1
        self.markers[line] = owner.lineno
        node = ast.Pass()
        node.lineno = node.end_lineno = line
        node.col_offset = node.end_col_offset = 0
        return node

    # --- for --------------------------------------------------------------------------------

    def _loop(self, node, is_async):
        if construct_kind(node, self.numbering[-1].kind) is None:
            return self.generic_visit(node)
        n = self._take()
        self.generic_visit(node)
        it = self._hidden("it", n)
        where = node.iter if FOR_AT_ITERABLE else node
        helper = AITER if is_async else ITER
        # The helper is loaded where the iterable starts (no line event of its own), and called
        # on the for's line and position, where GET_ITER is.
        func = _copy_pos(_name(helper), node.iter, single_line=True)
        func.end_col_offset = func.col_offset
        setup = _at(where, _assign(it, _call(func, node.iter)))
        loop_cls = ast.AsyncFor if is_async else ast.For
        orelse = node.orelse
        if orelse:
            # CPython drops an exhausted iterator before the else clause runs.
            orelse = [_nowhere(_assign(it, ast.Constant(None)))] + orelse
        loop = loop_cls(target=node.target, iter=_at(where, _name(it)), body=node.body, orelse=orelse, type_comment=None)
        _copy_pos(loop, node)
        marker = self._marker(where)
        cleanup = [_nowhere(_delete(it))]
        guard = _at(where, ast.Try(body=[marker, loop], handlers=[], orelse=[], finalbody=cleanup))
        return [setup, guard]

    def visit_For(self, node):
        return self._loop(node, is_async=False)

    def visit_AsyncFor(self, node):
        return self._loop(node, is_async=True)

    # --- with -------------------------------------------------------------------------------

    def _with(self, node, is_async):
        if construct_kind(node, self.numbering[-1].kind) is None:
            return self.generic_visit(node)
        numbers = [self._take() for _ in node.items]
        self.generic_visit(node)
        body = node.body
        for item, n in reversed(list(zip(node.items, numbers))):
            body = self._with_item(node, item, n, body, is_async)
        return body

    def _with_item(self, statement, item, n, body, is_async):
        # The position of everything synthetic: the statement's, or on 3.13+ the item's.
        node = item.context_expr if WITH_AT_ITEM else statement
        exit_, val, flag, aw = (self._hidden(k, n) for k in ("exit", "val", "w", "aw"))
        # The manager goes straight to the helper, as BEFORE_WITH takes it off the stack: only
        # the bound __exit__ keeps it, and nothing is bound when __enter__ fails. The helper is
        # loaded where the manager's expression starts (no line event of its own).
        func = _copy_pos(_name(AENTER if is_async else ENTER), item.context_expr, single_line=True)
        func.end_col_offset = func.col_offset
        entered = _call(func, item.context_expr)
        if is_async:
            # __aenter__'s awaitable is awaited on the with's line, as BEFORE_ASYNC_WITH does,
            # and let go once awaited. (Should the await fail, __aexit__ stays in its hidden
            # local until the frame ends: awaiting inside the try would need a handler path that
            # 3.12 traces with one more line event.)
            stmts = [_at(node, ast.Assign(
                targets=[ast.Tuple(elts=[_name(exit_, ast.Store()), _name(aw, ast.Store())], ctx=ast.Store())],
                value=entered))]
            stmts.append(_at(node, _assign(val, ast.Await(value=_name(aw)))))
            stmts.append(_at(node, _assign(aw, ast.Constant(None))))
        else:
            stmts = [_at(node, ast.Assign(
                targets=[ast.Tuple(elts=[_name(exit_, ast.Store()), _name(val, ast.Store())], ctx=ast.Store())],
                value=entered))]
        stmts.append(_at(node, _assign(flag, ast.Constant(0))))

        # CPython keeps no reference to what __enter__ returned once it is stored (or dropped).
        inner_body = []
        if item.optional_vars is not None:
            inner_body.append(_at(node, ast.Assign(targets=[item.optional_vars], value=_name(val))))
            inner_body.append(_at(item.optional_vars, _assign(val, ast.Constant(None))))
        else:
            inner_body.append(_at(node, _assign(val, ast.Constant(None))))
        inner_body.extend(body)

        def exit_with(args):
            call = ast.Call(func=_name(exit_), args=args, keywords=[])
            if is_async:
                return ast.Await(value=_call(AWAITABLE, call, ast.Constant(2)))
            return call

        def exit_with_nones():
            return exit_with([ast.Constant(None) for _ in range(3)])

        # The exception: __exit__ is called by the handler's type expression, inside the
        # handler as CPython calls it, after the flag says so; __sleepy_suppress__ makes the
        # clause catch everything (a true result: the exception is suppressed) or nothing (it
        # goes on, re-raised as CPython's with re-raises it, see relocate_reraises).
        caught = _call(
            SUPPRESS,
            ast.NamedExpr(target=_name(flag, ast.Store()), value=ast.Constant(1)),
            exit_with([ast.Starred(value=_call(EXC_INFO), ctx=ast.Load())]),
        )
        # The suppressed exception's handler: the compiled code drops the raising offset here.
        handler = _at(node, ast.ExceptHandler(type=caught, name=None, body=[_at(node, _assign(flag, ast.Constant(SUPPRESSED)))]))
        # The body ran to its end: __exit__(None, None, None), outside the handler, so that an
        # exception it raises is not handled as the body's.
        normal = [_at(node, ast.If(
            test=ast.UnaryOp(op=ast.Not(), operand=_name(flag)),
            body=[_at(node, _assign(flag, ast.Constant(1))), _at(node, ast.Expr(value=exit_with_nones()))],
            orelse=[]))]
        inner = _at(node, ast.Try(body=inner_body, handlers=[handler], orelse=normal, finalbody=[]))
        # return, break, continue: __exit__(None, None, None) on their way out. The marker hides
        # the line event an exception handler gives on entry (CPython's with has one handler;
        # this is a second), and the one the cleanup would give after a finished __exit__.
        final = [
            _no_position(ast.If(
                test=_nowhere(ast.UnaryOp(op=ast.Not(), operand=_name(flag))),
                body=[_at(node, ast.Expr(value=exit_with_nones()))], orelse=[])),
            self._marker(node),
            _at(node, _delete(*([exit_, val, flag] + ([aw] if is_async else [])))),
            # Nothing, but with no line: the block CPython 3.11 adds after a finally takes the
            # line of the finally's last statement, and it must have none (as a with's has none).
            _no_position(ast.Pass()),
        ]
        outer = _at(node, ast.Try(body=[inner], handlers=[], orelse=[], finalbody=final))
        stmts.append(outer)
        return stmts

    def visit_With(self, node):
        return self._with(node, is_async=False)

    def visit_AsyncWith(self, node):
        return self._with(node, is_async=True)

    # --- match ------------------------------------------------------------------------------

    def visit_Match(self, node):
        n = self._take()
        self.generic_visit(node)
        subj = self._hidden("subj", n)
        last = len(node.cases) - 1
        final = node.cases[-1]
        has_default = int(
            last > 0 and final.guard is None and isinstance(final.pattern, ast.MatchAs)
            and final.pattern.pattern is None and final.pattern.name is None
        )
        # Built from the last case back: each case is a match of its own, and the cases after
        # it are tried in its wildcard case, which is on the next case's line (CPython's own
        # wildcard case has a line event there too). A case CPython refuses because it makes
        # the remaining ones unreachable (`case x:` before other cases) is refused here too:
        # the wildcard case after it makes the compiler say so.
        rest = None
        for i in range(last, -1, -1):
            case = node.cases[i]
            where = case.pattern
            # Matched: the subject is let go before the body, as CPython pops it.
            let_go = _delete(subj)
            if CASE_POP_AT_PATTERN and i < last - has_default:
                let_go = _at(where, let_go)  # where CPython pops it
            else:
                let_go = _nowhere(let_go)
            case.body = [let_go] + case.body
            cases = [case]
            if rest is not None:
                after = node.cases[i + 1].pattern
                wildcard = _copy_pos(ast.MatchAs(pattern=None, name=None), after, single_line=True)
                cases.append(ast.match_case(pattern=wildcard, guard=None, body=rest))
            single = ast.Match(subject=_name(subj), cases=cases)
            # The subject is loaded on the case's line, so a jump there tries this case.
            _copy_pos(single, where, single_line=True)
            _copy_pos(single.subject, where, single_line=True)
            rest = [single]
        # No case matched, or an exception: the subject is let go (it may be already).
        cleanup = [_nowhere(_assign(subj, ast.Constant(None))), _nowhere(_delete(subj))]
        return [
            _at(node, _assign(subj, node.subject)),
            _at(node, ast.Try(body=rest, handlers=[], orelse=[], finalbody=cleanup)),
        ]


# --- after compiling: exceptions leave through the cleanup where they came in ---------------
#
# An exception that leaves a rewritten construct runs its cleanup (a ``finally`` block) and is
# raised again by the block's ``RERAISE 0``, which leaves the frame on that instruction. Cleanup
# code has no line, so the frame would have no line either (``f_lineno`` None in the ``return``
# event, in a traceback's frame, in a post-mortem). In the original there is no such block, and
# the frame stays on the line that raised. CPython's own ``with`` statement does what is needed:
# its handler is entered with the raising instruction's offset ("lasti") pushed under the
# exception, and ``RERAISE 2`` puts the frame back there. ``relocate_reraises`` makes the
# rewriter's cleanup handlers do the same, in the compiled code: the exception table entries
# that lead to such a handler push lasti, the handler's ``RERAISE 0`` become ``RERAISE 2``, and
# every entry inside the handler (its own cleanup, an ``await``'s) accounts for the one more
# item on the stack. A handler is the rewriter's when it starts with PUSH_EXC_INFO and deletes a
# hidden name; anything that does not look exactly as expected is left alone.

def _parse_exception_table(table):
    entries = []
    it = iter(table)

    def varint():
        b = next(it)
        value = b & 63
        while b & 64:
            value <<= 6
            b = next(it)
            value |= b & 63
        return value

    try:
        while True:
            start = varint()
            size = varint()
            target = varint()
            depth_lasti = varint()
            entries.append([start, start + size, target, depth_lasti >> 1, depth_lasti & 1])
    except StopIteration:
        return entries


def _encode_exception_table(entries):
    out = bytearray()

    def item(value, msb):
        for shift in (24, 18, 12, 6):
            if value >= 1 << shift:
                out.append(((value >> shift) & 63) | 64 | msb)
                msb = 0
        out.append((value & 63) | msb)

    for start, end, target, depth, lasti in entries:
        item(start, 128)
        item(end - start, 0)
        item(target, 0)
        item(depth << 1 | lasti, 0)
    return bytes(out)


def _encode_positions(first_line, positions, breaks=()):
    """A location table (``co_linetable``, 3.11+ format, see CPython's Objects/locations.md)
    for one ``(line, end_line, column, end_column)`` per code unit, written in the long form
    (or "no location"); an entry also ends before each code unit in ``breaks``."""
    out = bytearray()

    def varint(value):
        while value >= 64:
            out.append(64 | (value & 63))
            value >>= 6
        out.append(value)

    def svarint(value):
        varint(((-value) << 1) | 1 if value < 0 else value << 1)

    line = first_line
    i = 0
    while i < len(positions):
        pos = positions[i]
        n = 1
        while n < 8 and i + n < len(positions) and positions[i + n] == pos and i + n not in breaks:
            n += 1
        start, end, col, end_col = pos
        if start is None:
            out.append(0x80 | (15 << 3) | (n - 1))
        elif col is None or end_col is None or end is None:
            out.append(0x80 | (13 << 3) | (n - 1))
            svarint(start - line)
            line = start
        else:
            out.append(0x80 | (14 << 3) | (n - 1))
            svarint(start - line)
            varint(end - start)
            varint(col + 1)
            varint(end_col + 1)
            line = start
        i += n
    return bytes(out)


def _with_positions(code, changes):
    """``code`` with the positions of some code units changed (``{unit: position}``), or
    ``code`` itself if the location table does not come out as intended."""
    positions = list(code.co_positions())
    # The entries CPython wrote stay entries (co_lines() gives the same ranges).
    breaks = {start // 2 for start, _end, _line in code.co_lines()}
    breaks.update(changes)
    breaks.update(unit + 1 for unit in changes)
    for unit, pos in changes.items():
        positions[unit] = pos
    try:
        new = code.replace(co_linetable=_encode_positions(code.co_firstlineno, positions, breaks))
    except (ValueError, TypeError):
        return code
    if list(new.co_positions()) != positions:
        return code
    return new


def _is_ours(name):
    return isinstance(name, str) and (is_hidden(name) or name.startswith(HELPER_PREFIX))


def _first_name(ops, order, i):
    """The first name the code from ``order[i]`` on refers to (None: no name at all)."""
    for u in order[i:]:
        opname, _arg, argval = ops[u]
        if opname in ("LOAD_CONST", "RETURN_CONST", "COPY", "NOP", "CACHE", "RESUME", "PUSH_NULL"):
            continue
        names = argval if isinstance(argval, tuple) else (argval,)
        return names[0] if names and all(_is_ours(n) for n in names) else None
    return None


def relocate_reraises(code):
    """``code`` (and the code objects in it) with the rewriter's cleanup handlers re-raising
    from the instruction that raised (see above)."""
    import dis
    import opcode
    import types

    consts = tuple(relocate_reraises(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    entries = _parse_exception_table(code.co_exceptiontable)
    handlers = {}
    if entries:
        ops = {}  # code unit -> (opname, arg, argval)
        order = []
        positions = list(code.co_positions())
        for ins in dis.get_instructions(code):
            ops[ins.offset // 2] = (ins.opname, ins.arg, ins.argval)
            order.append(ins.offset // 2)
        for start, end, target, depth, lasti in entries:
            if lasti or target in handlers or ops.get(target, ("",))[0] != "PUSH_EXC_INFO":
                continue
            first = _first_name(ops, order, order.index(target) + 1)
            # A cleanup starts with a hidden name (or is a with's suppress test); a helper such
            # as __sleepy_enter__ first means a rewritten statement begins a user's own handler.
            if first is None or not (is_hidden(first) or first == SUPPRESS):
                continue
            covering = [e for e in entries if e[0] <= target < e[1]]
            if len(covering) != 1 or not covering[0][4] or covering[0][3] != depth + 1:
                continue
            cleanup = covering[0][2]
            region = [(e[0], e[1]) for e in entries if e[2] == cleanup]
            units = sorted(u for a, b in region for u in range(a, b) if u in ops)
            if any(ops[u][0] == "EXTENDED_ARG" for u in units):
                continue
            # The rewriter's cleanup has no line, or (a with's) the statement's one line; a
            # region reaching other lines holds user code (a user's finally), never patched.
            lines = {positions[u][0] for u in units} - {None}
            if len({n for n in lines if n < MARKER_BASE}) > 1:
                continue
            reraises = [u for u in units if ops[u][0] == "RERAISE" and ops[u][1] == 0]
            if not reraises:
                continue
            patches = [(u, "RERAISE", 2) for u in reraises]
            position = None
            if first == SUPPRESS or any(ops[u][2] == SUPPRESS for u in units):
                # CPython's with handler starts on the with's position: an exception raised on
                # that very line (by a second item's __enter__, say) gives no line event there.
                position = next((positions[u] for u in order[order.index(target) + 1:] if positions[u][0] is not None), None)
                # A with's handler: its suppressing body (`flag = SUPPRESSED`, two instructions)
                # also drops the offset from under the handled exception's predecessor.
                body = [
                    u for i, u in enumerate(units[:-1])
                    if ops[u][0] == "LOAD_CONST" and ops[u][2] == SUPPRESSED and type(ops[u][2]) is int
                    and units[i + 1] == u + 1 and ops[u + 1][0].startswith("STORE_") and is_hidden(ops[u + 1][2])
                ]
                if len(body) != 1:
                    continue
                patches += [(body[0], "SWAP", 2), (body[0] + 1, "POP_TOP", 0)]
            elif not any(ops[u][0].startswith("DELETE_") and is_hidden(ops[u][2]) for u in units):
                continue
            handlers[target] = (cleanup, region, patches, position)
    if not handlers:
        if consts == code.co_consts:
            return code
        return code.replace(co_consts=consts)
    raw = bytearray(code.co_code)
    deeper = set()
    moved = {}
    for target, (cleanup, region, patches, position) in handlers.items():
        if position is not None:
            moved[target] = position
        for i, e in enumerate(entries):
            if e[2] == target:
                e[4] = 1
            elif e[2] == cleanup or any(a <= e[0] < b for a, b in region):
                deeper.add(i)
        for u, name, arg in patches:
            raw[2 * u] = opcode.opmap[name]
            raw[2 * u + 1] = arg
    for i in deeper:
        entries[i][3] += 1
    code = code.replace(
        co_code=bytes(raw),
        co_consts=consts,
        co_exceptiontable=_encode_exception_table(entries),
        co_stacksize=code.co_stacksize + 1,
    )
    return _with_positions(code, moved) if moved else code


def compile_rewritten(tree, filename):
    """Compiles a rewritten module's AST (as ``compile`` does) and relocates its re-raises."""
    return relocate_reraises(compile(tree, filename, "exec", dont_inherit=True))


def rewrite(tree):
    """Rewrites a module's AST in place; returns ``(tree, markers)`` where markers maps each
    virtual marker line to the user's line it belongs to."""
    rewriter = Rewriter()
    tree.body = rewriter._statements(tree.body)
    ast.fix_missing_locations(tree)
    return tree, rewriter.markers


def rewrite_source(source, filename):
    """Parses, rewrites and compiles a module. Returns ``(code, markers)``."""
    tree = ast.parse(source, filename=filename, mode="exec")
    tree, markers = rewrite(tree)
    return compile_rewritten(tree, filename), markers
