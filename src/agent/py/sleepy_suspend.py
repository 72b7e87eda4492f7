"""Suspend and resume, the agent's side: which frames are the program's, what goes in a snapshot
besides them, and how a frame is put back where it was.

The state itself is captured and restored by ``sleepy_snapshot`` (loaded as
``_sleepy_snapshot``); the native tracer calls the functions here at a safe point (suspend) and
at each rebuilt frame's first line (resume). A frame is rebuilt the way sleepy jumps: its
saved locals are written, then the jump planner takes it to its saved line (into loops through
their markers, into ``with`` bodies directly since their managers are in the saved locals).
"""

import itertools
import marshal
import sys
import types

import _sleepy_snapshot as snapshot

# What a rebuilt for loop takes as its "next item" while the jump re-enters it; the loop's
# variables are written again with their saved values right after.
_PLACEHOLDER = object()


def _is_user(project, code, module_name=None):
    return project.is_user(code.co_filename, module_name)


def user_frames(frame, project):
    """The program's frames under ``frame`` (included), oldest first: from the first frame that
    is the user's (the ``__main__`` module's), leaving out sleepy's and runpy's below it."""
    frames = []
    f = frame
    while f is not None:
        frames.append(f)
        f = f.f_back
    frames.reverse()
    for i, f in enumerate(frames):
        if _is_user(project, f.f_code, f.f_globals.get("__name__")):
            return frames[i:]
    return []


def check(frame, project):
    """Why the program cannot be suspended here (empty: it can)."""
    frames = user_frames(frame, project)
    if not frames:
        return ["no frame of the program is running"]
    bottom = frames[0]
    if bottom.f_code.co_name != "<module>" or bottom.f_globals.get("__name__") != "__main__":
        return [
            "the oldest frame of the program, %s, is not its __main__ module: only a stack that "
            "starts there can be rebuilt" % bottom.f_code.co_qualname
        ]

    def is_user_code(code):
        return _is_user(project, code)

    reasons = list(snapshot.check_stack(frames, is_user_code))
    if reasons and _event_loop_running():
        # The frame-by-frame reasons below are all true, but this is the one a user can act on.
        reasons.insert(
            0,
            "asyncio's event loop is running: its tasks and coroutines can't be saved, so the "
            "program can be suspended only outside the loop (between two asyncio.run() calls, "
            "say)",
        )
    for f in frames:
        shared = [n for n in f.f_code.co_cellvars if n in f.f_locals]
        if shared and f.f_locals is not f.f_globals:
            # A rebuilt frame gets new cells: an inner function saved earlier would keep the
            # old ones, and the two would stop sharing the variable.
            reasons.append(
                "%s at %s:%d: its variables %s are shared with inner functions, and sleepy "
                "cannot rebuild that sharing yet"
                % (
                    f.f_code.co_qualname,
                    f.f_code.co_filename.rsplit("/", 1)[-1],
                    f.f_lineno,
                    ", ".join(shared),
                )
            )
    return reasons


def _event_loop_running():
    # Only a program that imported asyncio can be running its loop: never import it here.
    aio = sys.modules.get("asyncio")
    try:
        return aio is not None and aio.events._get_running_loop() is not None
    except Exception:  # noqa: BLE001 - a partly imported or replaced asyncio: no summary
        return False


def user_modules(project):
    """The program's own modules, ``__main__`` first."""
    mods = {}
    main = sys.modules.get("__main__")
    if main is not None:
        mods["__main__"] = main
    for name, module in list(sys.modules.items()):
        if name == "__main__" or not isinstance(module, types.ModuleType):
            continue
        file = getattr(module, "__file__", None)
        if file and project.is_user(file, name):
            mods[name] = module
    return mods


def module_files(project):
    """The source files of the program's modules (for the snapshot's header)."""
    files = []
    for module in user_modules(project).values():
        file = getattr(module, "__file__", None)
        if file and file.endswith(".py") and file not in files:
            files.append(file)
    return files


def capture(frame, project, extra, rewriting=None):
    """``(payload, stack)``: the pickled state of the program stopped at ``frame``'s line event,
    and for the file's header each frame's ``(qualname, file, line, locals)`` with locals as
    ``(name, type, repr)``."""
    frames = user_frames(frame, project)
    extra = dict(extra)
    # The rewriter's loop markers of these files: the jumps that rebuild the frames need them,
    # and the resumed process never rewrites these files itself.
    if rewriting is not None:
        extra["markers"] = {
            f.f_code.co_filename: dict(rewriting.markers.get(f.f_code.co_filename, {}))
            for f in frames
        }
    # The __main__ module's code runs again on resume (from its saved line on): keep it, so
    # resuming needs no source and no rewrite.
    extra["main_code"] = marshal.dumps(frames[0].f_code)
    payload = snapshot.capture(frames, user_modules(project), extra)
    return payload, _stack(payload)


def capture_post_mortem(exc, project, extra):
    """A post-mortem snapshot: the frames of the traceback, at their raising lines. It is for
    ``sleepy inspect`` and reading, not for resuming (those frames have ended)."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        f = tb.tb_frame
        if _is_user(project, f.f_code, f.f_globals.get("__name__")):
            frames.append(f)
        tb = tb.tb_next
    extra = dict(extra)
    extra["post_mortem"] = True
    payload = snapshot.capture(frames, user_modules(project), extra)
    return payload, _stack(payload)


def _stack(payload):
    out = []
    for f in snapshot.summary(payload)["frames"]:
        out.append((f["qualname"], f["filename"], int(f["line"]), [tuple(x) for x in f["locals"]]))
    return out


def summary(payload):
    return snapshot.summary(payload)


# --- resume ---------------------------------------------------------------------------------


def _make_module(name, file):
    if name == "__main__":
        module = sys.modules["__main__"]
        keep = {"__builtins__": module.__dict__.get("__builtins__")}
        module.__dict__.clear()
        module.__dict__.update(keep)
    else:
        module = types.ModuleType(name)
        module.__dict__["__builtins__"] = sys.modules["builtins"]
        sys.modules[name] = module
    module.__dict__.setdefault("__name__", name)
    module.__dict__.setdefault("__package__", None if name == "__main__" else name.rpartition(".")[0])
    module.__dict__.setdefault("__spec__", None)
    if file:
        module.__file__ = file
    return module


_POST_MORTEM = (
    "this is a post-mortem snapshot (the program had ended with an uncaught exception): "
    "`sleepy inspect` shows it; it cannot be resumed"
)


def prepare(payload, rewriting=None):
    """Rebuilds the program's modules from ``payload``; returns ``(frames, main_code, tick)``
    with each frame as ``(qualname, filename, firstlineno, line, locals)``."""
    # A post-mortem file is refused from its plain-data head, before anything of the program's
    # is unpickled (unpickling can run the program's code).
    if snapshot.summary(payload)["extra"].get("post_mortem"):
        raise snapshot.CannotResume(_POST_MORTEM)
    restored = snapshot.restore(payload, _make_module)
    for name, module in restored.get("modules", {}).items():
        # A module knows its own name, whatever its saved globals held.
        module.__dict__["__name__"] = name
    extra = restored["extra"]
    if rewriting is not None:
        for filename, markers in extra.get("markers", {}).items():
            rewriting.markers.setdefault(filename, {}).update(markers)
    if extra.get("post_mortem"):
        raise snapshot.CannotResume(_POST_MORTEM)
    frames = [
        (f["qualname"], f["filename"], int(f["firstlineno"]), int(f["line"]), f["locals"])
        for f in restored["frames"]
    ]
    main_code = marshal.loads(extra["main_code"])
    return frames, main_code, int(extra.get("tick", 0))


def matches(frame, qualname, filename, firstlineno):
    code = frame.f_code
    return (
        code.co_qualname == qualname
        and code.co_filename == filename
        and code.co_firstlineno == firstlineno
    )


def _write_locals(frame, saved, locals_to_fast):
    if frame.f_locals is frame.f_globals:
        return  # a module's variables are its globals, restored with the module
    local_vars = frame.f_locals
    local_vars.update(saved)
    locals_to_fast(frame)


def _placeholder_for(target):
    """Something a for loop's target can be assigned from without running user code."""
    import ast

    if isinstance(target, ast.Name):
        return _PLACEHOLDER
    if isinstance(target, (ast.Tuple, ast.List)):
        if any(isinstance(e, ast.Starred) for e in target.elts):
            stars = [e for e in target.elts if not isinstance(e, ast.Starred)]
            return tuple(_placeholder_for(e) for e in stars)
        return tuple(_placeholder_for(e) for e in target.elts)
    raise snapshot.CannotResume(
        "a for loop whose target is %s cannot be re-entered without running code"
        % type(target).__name__
    )


# A module frame's variables before its loops were primed, to put back once it has landed.
_module_before = {}


def enter(frame, saved, line, markers, locals_to_fast):
    """At the first line of a frame being rebuilt: its saved locals written, the loops around
    ``line`` primed to give back a placeholder item, and the jump planned. Returns the planner's
    ``(ok, steps_or_message, notes)``."""
    import ast
    import linecache

    import _sleepy_jump as jump

    _write_locals(frame, saved, locals_to_fast)
    if frame.f_lineno == line:
        return True, [], []
    code = frame.f_code
    source = "".join(linecache.getlines(code.co_filename, frame.f_globals))
    if not source:
        raise snapshot.CannotResume(
            "the source of %s is needed to rebuild its frame, and it is not there"
            % code.co_filename
        )
    module_level = frame.f_locals is frame.f_globals
    if module_level:
        _module_before[id(frame)] = dict(frame.f_globals)
    try:
        planner = _planner(jump, frame, source, markers)
        target = planner._target(line)
        # Suspended on a for loop's own line: the loop was about to take its next item. The
        # jump goes into the body first (the loop takes a placeholder), then back to the loop's
        # line the way `jump` goes on with a loop's next item.
        loop = getattr(target, "node", None)
        via = None
        if isinstance(loop, ast.For) and _loop_iterator(planner, loop) in frame.f_locals:
            via = jump._first_line(loop.body[0])
        primed = _prime_loops(frame, planner, planner._target(via if via else line))
        if primed:
            if module_level:
                frame.f_globals.update(primed)
            else:
                local_vars = frame.f_locals
                local_vars.update(primed)
                locals_to_fast(frame)
        planner = _planner(jump, frame, source, markers)
        steps, notes = planner.plan(frame.f_lineno, via if via else line)
        if via:
            back = _planner(jump, frame, source, markers)
            more, more_notes = back.plan(via, line)
            steps = list(steps) + list(more)
            notes = list(notes) + list(more_notes)
    except jump.JumpError as e:
        return False, str(e), []
    return True, steps, notes


def _planner(jump, frame, source, markers):
    code = frame.f_code
    hidden = getattr(jump.rewrite, "is_hidden", lambda n: n.startswith("_sl_"))
    bound = [k for k, v in frame.f_locals.items() if not (v is None and hidden(k))]
    planner = jump.Planner(source, code.co_firstlineno, code.co_name, bound, None, frame)
    jump._annotate_clause_lines(planner.tree, source.splitlines())
    planner.markers = {}
    for virtual, owner in sorted(markers):
        planner.markers.setdefault(owner, virtual)
    return planner


def _loop_iterator(planner, loop):
    cons = planner.structure.constructs_of(loop)
    return cons[0].hidden("it") if cons else None


def _prime_loops(frame, planner, target):
    """For each for loop the target is inside: its hidden iterator, given one placeholder item
    first (the loop takes it as the jump re-enters the loop)."""
    import ast

    chain = getattr(target, "chain", None)
    if chain is None:
        chain = getattr(getattr(target, "stmt", None), "chain", [])
    primed = {}
    for slot in chain:
        if isinstance(slot.node, ast.For) and slot.block == "body" and slot.construct is not None:
            name = slot.construct.hidden("it")
            current = frame.f_locals.get(name)
            if current is None:
                continue
            primed[name] = itertools.chain([_placeholder_for(slot.node.target)], current)
    return primed


def landed(frame, saved, locals_to_fast):
    """The jump reached the saved line: the saved locals again (the loops' variables and hidden
    iterators as they were, not the placeholders)."""
    before = _module_before.pop(id(frame), None)
    if before is not None:
        frame.f_globals.update(before)
        return
    _write_locals(frame, saved, locals_to_fast)
