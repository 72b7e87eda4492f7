"""Runs one side of a suspend/resume round trip for test_snapshot, in its own process.

    snapdriver.py capture PROG LINE[:HIT][!] OUT   (! : exit right after the capture)
                                                run PROG as __main__; at its HIT-th (default 1st)
                                                line event on LINE, check_stack and capture the
                                                user frames (files in PROG's directory) into OUT
                                                (OUT.reasons / OUT.unsaveable: the refusals as
                                                JSON); then the program runs on, untraced.
    snapdriver.py restore SNAP CHECK            restore SNAP (modules made empty, the program's
                                                directory not importable), then exec CHECK with
                                                r, mods, main, frames and snap bound.
    snapdriver.py summary SNAP                  print summary(SNAP) as JSON.
"""

import builtins
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import _support  # noqa: E402

del sys.path[0]
del sys.path[0]  # this directory: the restoring side must import nothing of the program's
snap = _support.load("snapshot")


def capture(prog, where, out):
    prog = os.path.abspath(prog)
    root = os.path.dirname(prog)
    stop = where.endswith("!")
    line, _, hit = where.rstrip("!").partition(":")
    line, hit = int(line), int(hit or 1)
    sys.path.insert(0, root)
    main = types.ModuleType("__main__")
    main.__file__ = prog
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    state = {"hits": 0, "done": False}

    def is_user(code):
        return code.co_filename.startswith(root + os.sep)

    def local(frame, event, arg):
        if state["done"] or event != "line" or frame.f_lineno != line or frame.f_code.co_filename != prog:
            return local
        state["hits"] += 1
        if state["hits"] < hit:
            return local
        state["done"] = True
        frames, f = [], frame
        while f is not None:
            if is_user(f.f_code):
                frames.append(f)
            f = f.f_back
        frames.reverse()
        reasons = snap.check_stack(frames, is_user)
        with open(out + ".reasons", "w") as fh:
            json.dump(reasons, fh)
        modules = {name: m for name, m in list(sys.modules.items())
                   if isinstance(getattr(m, "__file__", None), str) and is_user(types.SimpleNamespace(
                       co_filename=os.path.abspath(m.__file__)))}
        try:
            data = snap.capture(frames, modules, {"tick": 42, "stdout": b"so far"})
        except snap.Unsaveable as e:
            with open(out + ".unsaveable", "w") as fh:
                json.dump(e.reasons, fh)
        else:
            with open(out, "wb") as fh:
                fh.write(data)
        sys.settrace(None)
        if stop:
            sys.stdout.flush()
            os._exit(0)  # nothing of the program runs after the capture (no close, no flush)
        return None

    def glob(frame, event, arg):
        return local if not state["done"] and is_user(frame.f_code) else None

    with open(prog, encoding="utf-8") as fh:
        code = compile(fh.read(), prog, "exec")
    sys.settrace(glob)
    try:
        exec(code, main.__dict__)
    finally:
        sys.settrace(None)


def make_module(name, file):
    m = types.ModuleType(name)
    m.__file__ = file
    m.__builtins__ = builtins
    sys.modules[name] = m
    return m


def restore(path, check):
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        r = snap.restore(data, make_module)
    except snap.CannotResume as e:
        print("CannotResume:", e)
        sys.exit(3)
    with open(check, encoding="utf-8") as fh:
        source = fh.read()
    ns = {"r": r, "mods": r["modules"], "main": r["modules"].get("__main__"),
          "frames": r["frames"], "snap": snap}
    exec(compile(source, check, "exec"), ns)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "capture":
        capture(*sys.argv[2:5])
    elif cmd == "restore":
        restore(*sys.argv[2:4])
    else:
        with open(sys.argv[2], "rb") as fh:
            print(json.dumps(snap.summary(fh.read()), default=repr))
