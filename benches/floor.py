"""The cost floor of a C-level hook: run a program under a tracer that does nothing.

On CPython 3.11, installing *any* C trace function with `PyEval_SetTrace` switches the eval
loop into its tracing mode: every instruction is dispatched through the tracing path (which
looks up the line of each instruction and materialises a frame object for each frame) and the
specialised ("quickened") instructions of PEP 659 are replaced by their generic forms. A
tracer that does no work at all therefore still costs something; that is the floor any
`PyEval_SetTrace`-based recorder (sleepy's included) stands on. On 3.12+, where sleepy takes
its line events from `sys.monitoring` (PEP 669) when it needs only lines, the `monitor` modes
give the same floor for that hook.

A ctypes callback would not do: it is a Python function called through libffi, slower than
`sys.settrace`. So this file carries the C source of a tiny extension module, which
`bench.py` compiles at bench time (gcc and the interpreter's headers are needed) into a
temporary directory; the binary is never kept.

Modes:
  floor   the callback returns 0 for every event (line events included, in every frame).
  calls   the callback switches off line events (`frame.f_trace_lines = False`) at each call
          event and does nothing else: the cost of the tracing mode itself, with no line
          callback anywhere (what a recorder that counts only calls/returns would pay on 3.11).
  profile the do-nothing callback set with `PyEval_SetProfile` instead (call/return events
          only, no trace function at all).
  monitor (3.12+) no trace function: a C function (METH_FASTCALL, like sleepy's Rust one)
          registered with `sys.monitoring.register_callback` for LINE under a free tool id,
          the event set globally with `sys.monitoring.set_events`; it returns None at once, so
          every line of every code object (library code too) keeps calling it. The floor any
          per-line `sys.monitoring` recorder stands on.
  monitor-jump (3.12+) the same, with JUMP events too (the same do-nothing function, kept on
          at every jump). sleepy also takes JUMP but disables it at nearly every location the
          first time (forward jumps, and backward jumps to another line), so its JUMP cost lies
          between `monitor` and `monitor-jump`.

Usage:
  python3 floor.py --build DIR                      build the extension into DIR, print its path
  python3 floor.py --ext DIR [--mode M] prog.py [args...]   run prog.py under the tracer
"""

import argparse
import importlib.machinery
import importlib.util
import os
import runpy
import shutil
import subprocess
import sys
import sysconfig

MODULE = "_sleepy_floor"

C_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *f_trace_lines_name;

/* Does nothing: the floor. */
static int
floor_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    return 0;
}

/* Switches off line events in every frame as it starts; no other work. */
static int
calls_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    if (what == PyTrace_CALL) {
        if (PyObject_SetAttr((PyObject *)frame, f_trace_lines_name, Py_False) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
install(PyObject *self, PyObject *args)
{
    const char *mode;
    if (!PyArg_ParseTuple(args, "s", &mode)) {
        return NULL;
    }
    if (strcmp(mode, "floor") == 0) {
        PyEval_SetTrace(floor_trace, NULL);
    } else if (strcmp(mode, "calls") == 0) {
        PyEval_SetTrace(calls_trace, NULL);
    } else if (strcmp(mode, "profile") == 0) {
        PyEval_SetProfile(floor_trace, NULL);
    } else {
        PyErr_Format(PyExc_ValueError, "unknown mode %s", mode);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* sys.monitoring callbacks (3.12+): take any arguments, do nothing, return None. */
static PyObject *
monitor_noop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", install, METH_VARARGS, "install(mode): set the C trace function"},
    {"noop", (PyCFunction)(void (*)(void))monitor_noop, METH_FASTCALL,
     "noop(*args): a sys.monitoring callback that does nothing and returns None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sleepy_floor", NULL, -1, methods,
};

PyMODINIT_FUNC
PyInit__sleepy_floor(void)
{
    f_trace_lines_name = PyUnicode_InternFromString("f_trace_lines");
    if (f_trace_lines_name == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
"""


class Unavailable(Exception):
    """The extension cannot be built here; the message says why."""


def extension_path(directory):
    return os.path.join(directory, MODULE + importlib.machinery.EXTENSION_SUFFIXES[0])


def build(directory, python=None):
    """Compile the extension for `python` (default: this interpreter) into `directory`.

    The extension must be built against the headers of the interpreter that will load it,
    so with another `python` this runs `python floor.py --build` instead.
    """
    if python and os.path.realpath(python) != os.path.realpath(sys.executable):
        proc = subprocess.run([python, os.path.abspath(__file__), "--build", directory],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise Unavailable(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else
                              f"{python} floor.py --build failed")
        return proc.stdout.strip()
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise Unavailable("no C compiler (gcc/cc) on PATH")
    include = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(include, "Python.h")):
        raise Unavailable(f"no Python.h in {include} (Python headers not installed)")
    os.makedirs(directory, exist_ok=True)
    source = os.path.join(directory, MODULE + ".c")
    with open(source, "w") as f:
        f.write(C_SOURCE)
    target = extension_path(directory)
    cmd = [cc, "-O2", "-shared", "-fPIC", "-I", include, source, "-o", target]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise Unavailable(f"cannot run the C compiler {cc}: {e}")
    if proc.returncode != 0:
        raise Unavailable(f"compiling failed: {' '.join(cmd)}\n{proc.stderr.strip()}")
    return target


def load(directory):
    path = extension_path(directory)
    spec = importlib.util.spec_from_file_location(MODULE, path)
    if spec is None:
        raise Unavailable(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Mode -> the sys.monitoring events (names in sys.monitoring.events) the do-nothing C function
# is registered for.
MONITOR_MODES = {"monitor": ("LINE",), "monitor-jump": ("LINE", "JUMP")}


def install_monitor(callback, event_names):
    """Registers `callback` for `event_names` under the first free tool id, globally."""
    mon = getattr(sys, "monitoring", None)
    if mon is None:
        sys.exit(f"floor.py: the monitor modes need sys.monitoring (Python 3.12+); "
                 f"this is {sys.version.split()[0]}")
    for tool in range(6):  # 0-5: the ids tools may claim (6 and 7 belong to sys.settrace/setprofile)
        if mon.get_tool(tool) is None:
            break
    else:
        sys.exit("floor.py: no free sys.monitoring tool id")
    mon.use_tool_id(tool, "sleepy-floor")
    events = 0
    for name in event_names:
        event = getattr(mon.events, name)
        mon.register_callback(tool, event, callback)
        events |= event
    mon.set_events(tool, events)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", metavar="DIR", help="build the extension into DIR and exit")
    parser.add_argument("--ext", metavar="DIR", help="directory holding the built extension")
    parser.add_argument("--mode", choices=["floor", "calls", "profile", *MONITOR_MODES], default="floor")
    parser.add_argument("program", nargs="?")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args()
    if opts.build:
        try:
            print(build(opts.build))
        except Unavailable as e:
            sys.exit(f"floor.py: {e}")
        return
    if not opts.ext or not opts.program:
        parser.error("--ext DIR and a program are needed")
    tracer = load(opts.ext)
    # Look like `python3 prog.py args`: argv, and the script's directory first on sys.path.
    program = os.path.abspath(opts.program)
    sys.argv = [opts.program] + opts.args
    sys.path[0] = os.path.dirname(program)
    if opts.mode in MONITOR_MODES:
        install_monitor(tracer.noop, MONITOR_MODES[opts.mode])
    else:
        tracer.install(opts.mode)
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
