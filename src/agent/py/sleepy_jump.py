"""Plans a ``jump``: how to move a stopped frame to another line of its function.

CPython sets ``f_lineno`` only between lines whose value stacks are compatible. The rewriter
(sleepy_rewrite.py) leaves a stack only in three places, and the planner enters each of them the
way the program itself would:

* a ``for`` body: through the loop head, which takes an item (``_sl_itN`` live: the *next* item,
  by jumping to the loop's marker; not live: the loop starts, its iterable is evaluated);
* an ``except`` handler: by raising an exception at the first line of the ``try`` body, so the
  handler receives it (a new instance of the handler's class, or whatever the user names);
* a ``with`` body is reachable directly, but a ``with`` that is not active is entered first
  (or, on request, skipped: the body runs without its manager).

A plan is a list of steps the agent's tracer executes in the stopped frame:

``("set", name, expression)``   assign a local (evaluated in the frame)
``("goto", line)``              set ``f_lineno`` (only ever at a line event of this frame)
``("raise", expression)``       raise that exception at the current line
``("await", lo, hi, failure)``  run until the frame's next line; it must be within lo..hi,
                                otherwise the jump stops there and says ``failure``

plus notes telling the user what will happen. Everything is decided from the *source* (the
rewriter's own numbering gives the hidden names) and from which hidden locals are bound now.
"""

import ast
import linecache

try:
    import _sleepy_rewrite as rewrite
except ImportError:  # without rewriting (--no-rewrite) only set_lineno is used
    rewrite = None


class JumpError(Exception):
    pass


# --- the structure of a scope ---------------------------------------------------------------


class Slot:
    """Where a statement sits: a construct and which of its blocks."""

    __slots__ = ("node", "block", "index", "construct")

    def __init__(self, node, block, index=None, construct=None):
        self.node = node
        self.block = block  # "body", "orelse", "handler", "finalbody", "case"
        self.index = index  # handler or case number
        self.construct = construct  # the rewriter's Construct (for/with/match) or None

    def key(self):
        return (id(self.node), self.block, self.index)

    def __repr__(self):
        return "Slot(%s.%s%s @%d)" % (
            type(self.node).__name__,
            self.block,
            "" if self.index is None else "[%d]" % self.index,
            self.node.lineno,
        )


class Stmt:
    __slots__ = ("node", "first", "last", "chain")

    def __init__(self, node, first, last, chain):
        self.node = node
        self.first = first
        self.last = last
        self.chain = chain  # outermost first


def _first_line(node):
    first = node.lineno
    for d in getattr(node, "decorator_list", ()) or ():
        first = min(first, d.lineno)
    return first


def _is_scope(node):
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


class Structure:
    """The statements of one scope (function, class body or module) and their nesting."""

    def __init__(self, scope, constructs):
        self.scope = scope
        self.statements = []
        by_node = {}
        for c in constructs:
            by_node.setdefault(id(c.node), []).append(c)
        self._constructs = by_node
        self._walk(scope.body, [])

    def constructs_of(self, node):
        return self._constructs.get(id(node), [])

    def _walk(self, body, chain):
        for stmt in body:
            self.statements.append(Stmt(stmt, _first_line(stmt), stmt.end_lineno, list(chain)))
            if _is_scope(stmt):
                continue
            cons = self.constructs_of(stmt)
            first_construct = cons[0] if cons else None
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                self._walk(stmt.body, chain + [Slot(stmt, "body", None, first_construct)])
                self._walk(stmt.orelse, chain + [Slot(stmt, "orelse", None, first_construct)])
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                # ``with a, b`` is two nested constructs; the body is inside all of them.
                self._walk(stmt.body, chain + [Slot(stmt, "body", None, c) for c in cons])
            elif isinstance(stmt, (ast.While, ast.If)):
                self._walk(stmt.body, chain + [Slot(stmt, "body")])
                self._walk(stmt.orelse, chain + [Slot(stmt, "orelse")])
            elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
                self._walk(stmt.body, chain + [Slot(stmt, "body")])
                for i, h in enumerate(stmt.handlers):
                    self._walk(h.body, chain + [Slot(stmt, "handler", i)])
                self._walk(stmt.orelse, chain + [Slot(stmt, "orelse")])
                self._walk(stmt.finalbody, chain + [Slot(stmt, "finalbody")])
            elif isinstance(stmt, ast.Match):
                for i, case in enumerate(stmt.cases):
                    self._walk(case.body, chain + [Slot(stmt, "case", i, first_construct)])

    def statement_at(self, line):
        """The innermost statement of this scope whose lines contain ``line``."""
        best = None
        for s in self.statements:
            if s.first <= line <= s.last and (best is None or len(s.chain) >= len(best.chain)):
                if best is None or s.first >= best.first:
                    best = s
        return best

    def starting_at(self, line):
        """The statement (innermost) that starts exactly at ``line``."""
        found = [s for s in self.statements if s.first == line]
        if not found:
            return None
        return max(found, key=lambda s: len(s.chain))


def first_executed_line(code, node):
    """The line of the first instruction a statement runs: for ``c = (\n a + b\n)`` the value
    on line 2 runs before the store on line 1, and CPython lands a jump to line 1 on that store,
    with the value missing from the stack. ``None`` when the code has no instruction for it."""
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno, node.end_col_offset)
    for line, end_line, col, end_col in code.co_positions():
        if line is None or col is None or end_line is None or end_col is None:
            continue
        if start <= (line, col) and (end_line, end_col) <= end:
            return line
    return None


def header_lines(node):
    """The lines of a compound statement's header (``for x in (\n...):``), body excluded."""
    body = getattr(node, "body", None)
    if isinstance(body, list) and body:
        return list(range(node.lineno, _first_line(body[0])))
    return [node.lineno]


def find_scope(tree, first_line, name):
    """The AST node of the code object with this ``co_firstlineno`` and ``co_name``."""
    if name == "<module>":
        return tree
    for node in ast.walk(tree):
        if _is_scope(node) and node.name == name and _first_line(node) == first_line:
            return node
    for node in ast.walk(tree):
        if _is_scope(node) and _first_line(node) == first_line:
            return node
    return None


# --- planning -------------------------------------------------------------------------------


def _handler_line(try_node, i):
    return try_node.handlers[i].lineno


def _block_range(slot):
    node = slot.node
    if slot.block == "body":
        stmts = node.body
    elif slot.block == "orelse":
        stmts = node.orelse
    elif slot.block == "finalbody":
        stmts = node.finalbody
    elif slot.block == "handler":
        stmts = node.handlers[slot.index].body
    else:
        stmts = node.cases[slot.index].body
    return _first_line(stmts[0]), stmts[-1].end_lineno


def _describe_loop(node):
    return "the loop at line %d" % node.lineno


class Planner:
    def __init__(self, source, code_first_line, code_name, bound, option=None, frame=None):
        self.frame = frame
        self.code = frame.f_code if frame is not None else None
        self.tree = ast.parse(source)
        self.scope = find_scope(self.tree, code_first_line, code_name)
        if self.scope is None:
            raise JumpError("sleepy cannot find the source of %s to plan the jump" % code_name)
        table = rewrite.constructs(self.tree) if rewrite is not None else {}
        self.structure = Structure(self.scope, table.get(id(self.scope), []))
        self.bound = set(bound)
        self.option = (option or "").strip()
        self.steps = []
        self.notes = []

    def plan(self, current_line, target_line):
        target = self._target(target_line)
        here = self.structure.statement_at(current_line)
        here_chain = here.chain if here is not None else []
        common = 0
        for a, b in zip(here_chain, target.chain):
            if a.key() != b.key():
                break
            common += 1
        for slot in reversed(here_chain[common:]):
            self._leave(slot)
        # Jumping to a loop's own line from inside its body: on with the next item.
        if (
            isinstance(target.node if isinstance(target, Stmt) else None, (ast.For, ast.AsyncFor))
            and here is not None
            and any(s.node is target.node and s.block == "body" for s in here_chain)
        ):
            cons = self.structure.constructs_of(target.node)
            if cons:
                self.notes.append("%s goes on with its next item" % _describe_loop(target.node))
                self.steps.append(("goto", c_marker(self, cons[0])))
                # Land on the loop's own line, before it takes the item (not on the marker).
                self.steps.append(
                    ("await", target.node.lineno, target.node.lineno, header_lines(target.node), "%s did not go on" % _describe_loop(target.node))
                )
                return self.steps, self.notes
        for slot in target.chain[common:]:
            self._enter(slot)
            # A direct entry needs no step of its own: only the innermost goto matters.
            if len(self.steps) >= 2 and self.steps[-1][0] == "goto" and self.steps[-2][0] == "goto":
                del self.steps[-2]
        self._goto_statement(target)
        if len(self.steps) >= 2 and self.steps[-1][0] == "goto" and self.steps[-2][0] == "goto":
            del self.steps[-2]
        return self.steps, self.notes

    def _target(self, line):
        stmt = self.structure.starting_at(line)
        if stmt is not None:
            return stmt
        inner = self.structure.statement_at(line)
        if inner is None:
            for node in ast.walk(self.tree):
                if _is_scope(node) and node is not self.scope and _first_line(node) <= line <= node.end_lineno:
                    raise JumpError(
                        "line %d is in %s, not in this function: a jump stays in the function "
                        "that is running" % (line, node.name)
                    )
            raise JumpError("there is no code at line %d of this function" % line)
        # A case pattern or except clause line is a place to jump to in itself.
        if isinstance(inner.node, ast.Match):
            for i, case in enumerate(inner.node.cases):
                if case.pattern.lineno <= line < _first_line(case.body[0]):
                    if line != case.pattern.lineno:
                        self.notes.append("line %d is part of the case at line %d" % (line, case.pattern.lineno))
                    return _CaseTarget(inner, i)
        if isinstance(inner.node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            for i, h in enumerate(inner.node.handlers):
                if h.lineno <= line < _first_line(h.body[0]):
                    if line != h.lineno:
                        self.notes.append("line %d is part of the except clause at line %d" % (line, h.lineno))
                    return _HandlerTarget(inner, i)
            if line in (_clause_line(inner.node, "else"), _clause_line(inner.node, "finally")):
                block = "orelse" if line == _clause_line(inner.node, "else") else "finalbody"
                first = getattr(inner.node, block)[0]
                return self.structure.starting_at(_first_line(first))
        if isinstance(inner.node, (ast.For, ast.AsyncFor, ast.While)) and inner.node.orelse:
            if line == _clause_line(inner.node, "else"):
                return self.structure.starting_at(_first_line(inner.node.orelse[0]))
        self.notes.append(
            "line %d is part of the statement that starts at line %d: jumping there" % (line, inner.first)
        )
        return inner

    def _goto_statement(self, target):
        if isinstance(target, _CaseTarget):
            self._enter_case_pattern(target)
        elif isinstance(target, _HandlerTarget):
            self._enter_handler(target.stmt.node, target.index, target.stmt.node.handlers[target.index].lineno)
        else:
            node = target.node
            if isinstance(node, (ast.For, ast.AsyncFor)):
                cons = self.structure.constructs_of(node)
                if cons and cons[0].hidden("it") in self.bound:
                    self.notes.append("%s starts over" % _describe_loop(node))
            line = target.first
            if self.code is not None:
                first = first_executed_line(self.code, node)
                if first is not None and first != target.first and target.first <= first <= node.end_lineno:
                    self.notes.append(
                        "the statement at line %d starts running at line %d: jumping there"
                        % (target.first, first)
                    )
                    line = first
            self.steps.append(("goto", line))

    # --- leaving ---

    def _leave(self, slot):
        node = slot.node
        if isinstance(node, (ast.With, ast.AsyncWith)) and slot.construct is not None:
            self.notes.append(
                "leaving the with statement at line %d without calling its __exit__" % node.lineno
            )
        elif slot.block == "finalbody":
            self.notes.append(
                "leaving the finally block at line %d: an exception or return in progress there "
                "is dropped" % getattr(node.finalbody[0], "lineno", node.lineno)
            )

    # --- entering ---

    def _enter(self, slot):
        node = slot.node
        if isinstance(node, (ast.For, ast.AsyncFor)) and slot.block == "body":
            self._enter_loop(slot)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self._enter_with(slot)
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))) and slot.block == "handler":
            self._enter_handler(node, slot.index, None)
        elif isinstance(node, ast.Match):
            case = node.cases[slot.index]
            self.notes.append(
                "the case at line %d is entered without trying its pattern (names it would bind "
                "keep their values)" % case.pattern.lineno
            )
            self.steps.append(("goto", _first_line(case.body[0])))
        elif isinstance(node, (ast.For, ast.AsyncFor)) and slot.block == "orelse":
            # The loop's cleanup deletes its iterator: give it one if the loop never ran.
            c = slot.construct
            if c is not None and c.hidden("it") not in self.bound:
                self.steps.append(("set", c.hidden("it"), "None"))
            lo, _hi = _block_range(slot)
            self.steps.append(("goto", lo))
        else:
            lo, _hi = _block_range(slot)
            self.steps.append(("goto", lo))

    def _entry_line(self, node):
        """Where running ``node`` from its start begins (its first instruction's line)."""
        if self.code is not None:
            first = first_executed_line(self.code, node)
            if first is not None and node.lineno <= first <= node.end_lineno:
                return first
        return node.lineno

    def _enter_loop(self, slot):
        node = slot.node
        c = slot.construct
        lo, hi = _block_range(slot)
        if c is None:
            raise JumpError("sleepy does not know how to enter %s" % _describe_loop(node))
        it = c.hidden("it")
        if it in self.bound:
            self.notes.append("%s goes on with its next item" % _describe_loop(node))
            self.steps.append(("goto", c_marker(self, c)))
        else:
            self.notes.append(
                "%s has not started: it starts now (its iterable is evaluated and its first item "
                "taken)" % _describe_loop(node)
            )
            self.steps.append(("goto", self._entry_line(node)))
        self.steps.append(("await", lo, hi, header_lines(node), "%s has no more items" % _describe_loop(node)))

    def _enter_with(self, slot):
        node = slot.node
        c = slot.construct
        exit_name = c.hidden("exit")
        if exit_name in self.bound:
            return
        if self.option == "skip":
            self.notes.append(
                "the with statement at line %d is skipped: its body runs without entering the "
                "manager, and its __exit__ will not be called" % node.lineno
            )
            # An __exit__ that never suppresses: an exception in the body propagates as it is.
            for kind, value in (("exit", "lambda *args: False"), ("val", "None"), ("w", "2")):
                self.steps.append(("set", c.hidden(kind), value))
            if isinstance(node, ast.AsyncWith):
                self.steps.append(("set", c.hidden("aw"), "None"))
            return
        self.notes.append(
            "the with statement at line %d is entered first (its manager is evaluated and "
            "__enter__ called); `jump LINE skip` runs the body without it" % node.lineno
        )
        lo = _first_line(node.body[0])
        self.steps.append(("goto", self._entry_line(node)))
        self.steps.append(("await", lo, node.end_lineno, header_lines(node), "the with statement at line %d did not enter its body" % node.lineno))

    def _enter_handler(self, try_node, index, stop_line):
        handler = try_node.handlers[index]
        exc = self._exception_for_handler(try_node, index)
        first = _first_line(try_node.body[0])
        self.steps.append(("goto", try_node.lineno))
        self.steps.append(
            ("await", first, try_node.body[-1].end_lineno, [try_node.lineno], "the try body at line %d was not entered" % try_node.lineno)
        )
        self.steps.append(("raise", exc))
        # On its way the exception passes the except clauses before this one (their lines).
        passing = []
        for h in try_node.handlers[:index]:
            passing.extend(header_lines(h))
        if stop_line is not None:
            # The except line itself was asked for: stop as the handler starts matching.
            # (The clause's first line to run can be below its `except` line, with the types.)
            header = header_lines(handler)
            self.steps.append(
                ("await", header[0], header[-1], passing, "the exception did not reach the handler at line %d" % handler.lineno)
            )
            return
        passing.extend(header_lines(handler))
        body_first = _first_line(handler.body[0])
        self.steps.append(
            ("await", body_first, handler.body[-1].end_lineno, passing, "the exception was not handled by the handler at line %d" % handler.lineno)
        )

    def _eval(self, source):
        frame = self.frame
        if frame is None:
            raise JumpError("no frame to evaluate %s in" % source)
        try:
            return eval(source, frame.f_globals, frame.f_locals)
        except Exception as e:  # noqa: BLE001 - reported to the user
            raise JumpError("evaluating %s raised %s: %s" % (source, type(e).__name__, e))

    def _exception_for_handler(self, try_node, index):
        handler = try_node.handlers[index]
        if self.option and self.option != "skip":
            exc = self._eval(self.option)
            described = self.option
        elif handler.type is None:
            exc = Exception("raised by sleepy to enter the handler")
            described = None
        else:
            exc = exception_for(self._eval(ast.unparse(handler.type)))
            described = None
        if isinstance(exc, type) and issubclass(exc, BaseException):
            exc = exception_for(exc)
        if not isinstance(exc, BaseException):
            raise JumpError("%r is not an exception" % (exc,))
        for j, h in enumerate(try_node.handlers[: index + 1]):
            types = None if h.type is None else self._eval(ast.unparse(h.type))
            caught = types is None or isinstance(exc, types)
            if j < index and caught:
                raise JumpError(
                    "a %s raised in the try body would be caught by the handler at line %d "
                    "first; name an exception that only line %d handles: `jump %d EXPRESSION`"
                    % (type(exc).__name__, h.lineno, handler.lineno, handler.lineno)
                )
            if j == index and not caught:
                raise JumpError(
                    "the handler at line %d does not catch %s" % (h.lineno, type(exc).__name__)
                )
        if described is None:
            self.notes.append(
                "no exception is being handled: to enter the handler at line %d, sleepy raises "
                "%s at the start of the try body (`jump LINE EXPRESSION` raises another)"
                % (handler.lineno, repr(exc))
            )
        else:
            self.notes.append(
                "entering the handler at line %d: %s is raised at the start of the try body"
                % (handler.lineno, described)
            )
        return exc

    def _enter_case_pattern(self, target):
        match = target.stmt.node
        c = self.structure.constructs_of(match)
        c = c[0] if c else None
        case_line = match.cases[target.index].pattern.lineno
        if c is None:
            raise JumpError("sleepy does not know how to enter the match at line %d" % match.lineno)
        subj = c.hidden("subj")
        if subj not in self.bound:
            self.notes.append(
                "the subject of the match at line %d has not been evaluated: it is evaluated first"
                % match.lineno
            )
            self.steps.append(("goto", self._entry_line(match)))
            first_case = match.cases[0].pattern.lineno
            subject_lines = list(range(match.lineno, first_case))
            self.steps.append(("await", first_case, first_case, subject_lines, "the match at line %d did not start" % match.lineno))
        self.steps.append(("goto", case_line))


def c_marker(planner, construct):
    owner = rewrite.loop_line(construct.node) if hasattr(rewrite, "loop_line") else construct.line
    marker = planner.markers.get(owner) if hasattr(planner, "markers") else None
    if marker is None:
        raise JumpError("the loop at line %d has no marker to re-enter it" % construct.line)
    return marker


class _CaseTarget:
    def __init__(self, stmt, index):
        self.stmt = stmt
        self.index = index
        self.first = stmt.node.cases[index].pattern.lineno
        self.chain = stmt.chain


class _HandlerTarget:
    def __init__(self, stmt, index):
        self.stmt = stmt
        self.index = index
        self.first = stmt.node.handlers[index].lineno
        self.chain = stmt.chain


def _clause_line(node, keyword):
    """The line of an ``else:``/``finally:`` keyword, found in the source text."""
    return getattr(node, "_sleepy_%s_line" % keyword, None)


def _annotate_clause_lines(tree, lines):
    """Records where ``else:`` and ``finally:`` keywords are (the AST does not)."""
    for node in ast.walk(tree):
        for keyword, block in (("else", "orelse"), ("finally", "finalbody")):
            body = getattr(node, block, None)
            if not isinstance(body, list) or not body or isinstance(node, ast.If):
                continue
            start = _first_line(body[0])
            # The keyword is on the nearest line above the block that starts with it.
            for n in range(start, node.lineno - 1, -1):
                text = lines[n - 1].strip() if n - 1 < len(lines) else ""
                if text.startswith(keyword) and text[len(keyword):].lstrip().startswith(":"):
                    setattr(node, "_sleepy_%s_line" % keyword, n)
                    break


def plan(frame, target_line, markers, option=None):
    """The plan for jumping the frame (stopped at a line) to ``target_line``:
    ``(True, steps, notes)`` or ``(False, message, [])``."""
    code = frame.f_code
    source = "".join(linecache.getlines(code.co_filename, frame.f_globals))
    if not source:
        return False, "sleepy has no source for %s, so it cannot plan a jump" % code.co_filename, []
    try:
        # A construct whose hidden local holds None is not live (the rewrite lets go of an
        # exhausted iterator that way, and 3.12+ binds None to every unbound local on a jump).
        hidden_name = getattr(rewrite, "is_hidden", lambda n: n.startswith("_sl_"))
        bound = [k for k, v in frame.f_locals.items() if not (v is None and hidden_name(k))]
        planner = Planner(source, code.co_firstlineno, code.co_name, bound, option, frame)
        _annotate_clause_lines(planner.tree, source.splitlines())
        # Markers: for each loop line, the virtual line that continues the loop.
        planner.markers = {}
        for virtual, owner in sorted(markers):
            planner.markers.setdefault(owner, virtual)
        steps, notes = planner.plan(frame.f_lineno, target_line)
    except JumpError as e:
        return False, str(e), []
    except SyntaxError as e:
        return False, "the source of %s does not parse: %s" % (code.co_filename, e), []
    return True, steps, notes


def set_lineno(frame, line):
    """Moves a frame stopped at a line event; ``None`` or CPython's refusal."""
    import warnings

    # 3.11 refuses a jump in a frame without f_trace, whatever the C tracer; 3.12+ binds None to
    # unbound locals with a RuntimeWarning (an error under -W error) that must not escape.
    had = frame.f_trace
    if had is None:
        frame.f_trace = _no_trace
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame.f_lineno = line
    except ValueError as e:
        return str(e)
    finally:
        if had is None:
            frame.f_trace = None
    return None


def is_suspending(frame):
    """At a 'return' event: is this generator or coroutine frame only suspending (a yield or an
    await), rather than finishing?"""
    import dis

    code = frame.f_code
    yields = ("YIELD_VALUE", "INSTRUMENTED_YIELD_VALUE")
    lasti = frame.f_lasti
    try:
        op = dis.opname[code.co_code[lasti]]
        # 3.13 has already moved a suspending frame's f_lasti past its YIELD_VALUE, to the
        # RESUME that continues it (3.11 and 3.12 leave it on the YIELD_VALUE).
        before = dis.opname[code.co_code[lasti - 2]] if lasti >= 2 else None
    except (IndexError, TypeError):
        return False
    return op in yields or (op == "RESUME" and before in yields)


def _no_trace(frame, event, arg):
    return None


def assign(frame, name, expression, locals_to_fast):
    """Sets one of the frame's variables to an expression evaluated in it."""
    value = eval(expression, frame.f_globals, frame.f_locals)
    if frame.f_code.co_name == "<module>" or frame.f_locals is frame.f_globals:
        frame.f_globals[name] = value
        return
    locs = frame.f_locals
    locs[name] = value
    locals_to_fast(frame)


def exception_for(types):
    """A new instance of the first class of an except clause's types, for entering it."""
    cls = types[0] if isinstance(types, tuple) else types
    if isinstance(cls, BaseException):
        return cls
    try:
        return cls()
    except Exception:  # noqa: BLE001 - a class that needs arguments
        exc = cls.__new__(cls)
        return exc
