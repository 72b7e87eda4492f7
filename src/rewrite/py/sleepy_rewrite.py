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
            else: ORELSE
        finally:
            del _sl_it0

    Jumping to the marker re-enters the loop with the iterator it already has (the next item);
    jumping to the ``for`` line starts it afresh.

``with`` / ``async with``
    The bound ``__exit__`` lives on the stack. The rewrite spells the statement out, exactly as
    CPython compiles it, with the manager, its ``__exit__`` and a state flag in hidden locals::

        _sl_mgr0 = EXPR
        _sl_exit0, _sl_val0 = __sleepy_enter__(_sl_mgr0)   # BEFORE_WITH: same lookups, same errors
        _sl_w0 = 0
        try:
            try:
                TARGET = _sl_val0
                BODY                                # a try body: jumpable
            except BaseException:
                _sl_w0 = 1
                if not _sl_exit0(*__sleepy_exc__()):   # inside the handler, as CPython does
                    raise                              # bare raise: the traceback is unchanged
        finally:
            if not _sl_w0:
                _sl_exit0(None, None, None)            # normal exit, return, break, continue
            del _sl_mgr0, _sl_exit0, _sl_val0, _sl_w0

``match``
    The subject lives on the stack while the cases are tried. Each case becomes a match
    statement of its own on the case's line, over the subject held in a hidden local, chained
    by a flag, so a jump to a case line tries that case::

        _sl_subj0 = SUBJECT; _sl_m0 = True
        match _sl_subj0:                 # on the first case's line
            case P1 if G1: _sl_m0 = False; B1
        if _sl_m0:                       # on the second case's line
            match _sl_subj0:
                case P2: _sl_m0 = False; B2

``try``/``except``/``else``/``finally`` and ``while`` need nothing: their bodies are reachable as
they are, and the debugger enters an ``except`` handler by raising the exception in the ``try``
body (see ``sleepy_jump.py``).

Markers are ``pass`` statements on *virtual* lines (``MARKER_BASE`` and up), which compile to a
NOP that starts a line of its own; a jump to that line lands exactly there. The debugger hides
their line events and maps them back to the line they belong to (``markers``). Virtual lines
never reach a traceback: a marker cannot raise.

All synthetic code takes the position of the statement it replaces, so errors raised by it
(``'int' object is not iterable``, a failing ``__exit__``) show the same line and no caret, as
in the original. Hidden names start with ``_sl_`` and are numbered per scope in source order;
``constructs()`` gives the same numbering to the jump planner.
"""

import ast

MARKER_BASE = 10_000_000
HIDDEN_PREFIX = "_sl_"

# Runtime helpers the rewritten code calls; the agent installs them in builtins.
ITER = "__sleepy_iter__"
AITER = "__sleepy_aiter__"
ENTER = "__sleepy_enter__"
AENTER = "__sleepy_aenter__"
EXC_INFO = "__sleepy_exc__"
AWAITABLE = "__sleepy_awaitable__"


class Construct:
    """A rewritten statement, as the jump planner sees it."""

    __slots__ = ("kind", "number", "line", "end_line", "names", "marker", "cases", "node")

    def __init__(self, kind, number, node):
        self.kind = kind  # "for", "with", "match"
        self.number = number
        self.line = node.lineno
        self.end_line = node.end_lineno
        self.names = {}
        self.marker = None
        self.cases = []
        self.node = node

    def __repr__(self):
        return "Construct(%s#%d at %d-%d)" % (self.kind, self.number, self.line, self.end_line)


def hidden(kind, number):
    return "%s%s%d" % (HIDDEN_PREFIX, kind, number)


def _scope_nodes():
    return (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _copy_pos(new, old, single_line=False):
    new.lineno = old.lineno
    new.col_offset = old.col_offset
    new.end_lineno = old.lineno if single_line else old.end_lineno
    new.end_col_offset = old.end_col_offset if not single_line else old.end_col_offset
    return new


def _at(old, node):
    """Gives ``node`` and every node inside it that has no position the position of ``old``."""
    for sub in ast.walk(node):
        if "lineno" in sub._attributes and not hasattr(sub, "lineno"):
            sub.lineno = old.lineno
            sub.col_offset = old.col_offset
            sub.end_lineno = old.end_lineno
            sub.end_col_offset = old.end_col_offset
    return node


def _name(id, ctx=None):
    return ast.Name(id=id, ctx=ctx or ast.Load())


def _call(func, *args):
    return ast.Call(func=_name(func) if isinstance(func, str) else func, args=list(args), keywords=[])


class _Numbering:
    """Numbers the rewritten constructs of one scope in source order."""

    def __init__(self):
        self.next = 0

    def take(self):
        n = self.next
        self.next += 1
        return n


def constructs(tree):
    """``{id(scope node): [Construct, ...]}`` for every scope of a module, numbered exactly as
    ``rewrite`` numbers its hidden names (pre-order, source order, per scope)."""
    out = {}

    def scan(scope, body_nodes):
        numbering = _Numbering()
        found = []
        out[id(scope)] = found

        def visit(node):
            if isinstance(node, _scope_nodes()):
                if isinstance(node, ast.Lambda):
                    return
                scan(node, node.body)
                # Decorators, defaults and bases belong to the enclosing scope but hold no
                # statements.
                return
            kind = None
            if isinstance(node, (ast.For, ast.AsyncFor)):
                kind = "for"
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                kind = "with"
            elif isinstance(node, ast.Match):
                kind = "match"
            if kind == "with":
                # Each item is its own construct (``with a, b`` is ``with a: with b``).
                for _item in node.items:
                    c = Construct("with", numbering.take(), node)
                    found.append(c)
            elif kind is not None:
                found.append(Construct(kind, numbering.take(), node))
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt) or isinstance(child, (ast.match_case, ast.excepthandler)):
                    visit(child)
                elif isinstance(child, _scope_nodes()):
                    visit(child)

        for stmt in body_nodes:
            visit(stmt)

    scan(tree, tree.body)
    return out


class Rewriter(ast.NodeTransformer):
    def __init__(self):
        self.numbering = [_Numbering()]
        self.markers = {}
        self.next_marker = MARKER_BASE

    # --- scopes ---------------------------------------------------------------------------

    def _scoped(self, node):
        self.numbering.append(_Numbering())
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
                    elif isinstance(item, ast.stmt):
                        self.visit(item)
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
        n = self.numbering[-1].take()
        self.generic_visit(node)
        it = hidden("it", n)
        helper = AITER if is_async else ITER
        setup = _at(node, ast.Assign(targets=[_name(it, ast.Store())], value=_call(helper, node.iter)))
        loop_cls = ast.AsyncFor if is_async else ast.For
        loop = loop_cls(target=node.target, iter=_at(node, _name(it)), body=node.body, orelse=node.orelse, type_comment=None)
        _copy_pos(loop, node)
        marker = self._marker(node)
        cleanup = _at(node, ast.Delete(targets=[_name(it, ast.Del())]))
        guard = _at(node, ast.Try(body=[marker, loop], handlers=[], orelse=[], finalbody=[cleanup]))
        return [setup, guard]

    def visit_For(self, node):
        return self._loop(node, is_async=False)

    def visit_AsyncFor(self, node):
        return self._loop(node, is_async=True)

    # --- with -------------------------------------------------------------------------------

    def _with(self, node, is_async):
        numbers = [self.numbering[-1].take() for _ in node.items]
        self.generic_visit(node)
        body = node.body
        for item, n in reversed(list(zip(node.items, numbers))):
            body = self._with_item(node, item, n, body, is_async)
        return body

    def _with_item(self, node, item, n, body, is_async):
        mgr, exit_, val, flag = (hidden(k, n) for k in ("mgr", "exit", "val", "w"))
        stmts = []
        stmts.append(_at(node, ast.Assign(targets=[_name(mgr, ast.Store())], value=item.context_expr)))
        helper = AENTER if is_async else ENTER
        entered = _call(helper, _name(mgr))
        if is_async:
            # __aenter__'s awaitable is awaited on the with's line, as BEFORE_ASYNC_WITH does.
            aw = hidden("aw", n)
            stmts.append(_at(node, ast.Assign(
                targets=[ast.Tuple(elts=[_name(exit_, ast.Store()), _name(aw, ast.Store())], ctx=ast.Store())],
                value=entered)))
            stmts.append(_at(node, ast.Assign(targets=[_name(val, ast.Store())], value=ast.Await(value=_name(aw)))))
        else:
            stmts.append(_at(node, ast.Assign(
                targets=[ast.Tuple(elts=[_name(exit_, ast.Store()), _name(val, ast.Store())], ctx=ast.Store())],
                value=entered)))
        stmts.append(_at(node, ast.Assign(targets=[_name(flag, ast.Store())], value=ast.Constant(0))))

        inner_body = []
        if item.optional_vars is not None:
            inner_body.append(_at(node, ast.Assign(targets=[item.optional_vars], value=_name(val))))
        inner_body.extend(body)

        exit_call = ast.Call(func=_name(exit_), args=[ast.Starred(value=_call(EXC_INFO), ctx=ast.Load())], keywords=[])
        if is_async:
            exit_call = ast.Await(value=_call(AWAITABLE, exit_call, ast.Constant(2)))
        handler_body = [
            _at(node, ast.Assign(targets=[_name(flag, ast.Store())], value=ast.Constant(1))),
            _at(node, ast.If(test=ast.UnaryOp(op=ast.Not(), operand=exit_call), body=[_at(node, ast.Raise(exc=None, cause=None))], orelse=[])),
        ]
        handler = _at(node, ast.ExceptHandler(type=_name("BaseException"), name=None, body=handler_body))
        inner = _at(node, ast.Try(body=inner_body, handlers=[handler], orelse=[], finalbody=[]))

        normal_exit = ast.Call(func=_name(exit_), args=[ast.Constant(None)] * 3, keywords=[])
        if is_async:
            normal_exit = ast.Await(value=_call(AWAITABLE, normal_exit, ast.Constant(2)))
        final = [
            _at(node, ast.If(test=ast.UnaryOp(op=ast.Not(), operand=_name(flag)), body=[_at(node, ast.Expr(value=normal_exit))], orelse=[])),
        ]
        names = [mgr, exit_, val, flag] + ([hidden("aw", n)] if is_async else [])
        final.append(_at(node, ast.Delete(targets=[_name(x, ast.Del()) for x in names])))
        outer = _at(node, ast.Try(body=[inner], handlers=[], orelse=[], finalbody=final))
        stmts.append(outer)
        return stmts

    def visit_With(self, node):
        return self._with(node, is_async=False)

    def visit_AsyncWith(self, node):
        return self._with(node, is_async=True)

    # --- match ------------------------------------------------------------------------------

    def visit_Match(self, node):
        n = self.numbering[-1].take()
        self.generic_visit(node)
        subj, flag = hidden("subj", n), hidden("m", n)
        out = [
            _at(node, ast.Assign(targets=[_name(subj, ast.Store())], value=node.subject)),
            _at(node, ast.Assign(targets=[_name(flag, ast.Store())], value=ast.Constant(True))),
        ]
        for i, case in enumerate(node.cases):
            where = case.pattern
            matched = ast.Assign(targets=[_name(flag, ast.Store())], value=ast.Constant(False))
            _copy_pos(matched, where, single_line=True)
            case.body = [matched] + case.body
            single = ast.Match(subject=_name(subj), cases=[case])
            # The subject is loaded on the case's line, so a jump there tries this case.
            _copy_pos(single, where, single_line=True)
            _copy_pos(single.subject, where, single_line=True)
            if i == 0:
                out.append(single)
            else:
                guard = ast.If(test=_name(flag), body=[single], orelse=[])
                _copy_pos(guard, where, single_line=True)
                _copy_pos(guard.test, where, single_line=True)
                out.append(guard)
        return out


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
    code = compile(tree, filename, "exec", dont_inherit=True)
    return code, markers
