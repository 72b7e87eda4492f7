"""Helpers shared by the tests of sleepy's embedded Python modules.

The agent does not import ``sleepy_runner.py`` and ``sleepy_inspect.py`` from disk: it compiles
their source (embedded in the binary) under the file names ``<sleepy>/runner.py`` and
``<sleepy>/inspect.py`` and registers them as ``_sleepy_runner`` and ``_sleepy_inspect``. Those
file names matter: every code object whose file name starts with ``<sleepy`` is sleepy's own, and
``strip_own_frames``, ``live_stack`` and ``traceback_stack`` drop such frames. So the tests load
the modules from their files here the same way (``load``), not with a plain ``import``.

Run the tests with any of:
    python3 -m unittest discover -s src/agent/py/tests -t src/agent/py -v    (from the repository)
    python3 -m unittest                                                      (from src/agent/py)
    cargo test --test python_helpers
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PY_DIR = os.path.dirname(TESTS_DIR)
DRIVER = os.path.join(TESTS_DIR, "_agent_driver.py")
PYTHON = sys.executable

# The file name prefix of sleepy's own code; code compiled under it counts as sleepy's.
SLEEPY_FILE = "<sleepy>/%s.py"


def load(name):
    """``sleepy_<name>.py`` loaded as the agent loads it (see the module docstring)."""
    modname = "_sleepy_" + name
    mod = sys.modules.get(modname)
    if mod is not None:
        return mod
    with open(os.path.join(PY_DIR, "sleepy_%s.py" % name), encoding="utf-8") as f:
        source = f.read()
    filename = SLEEPY_FILE % name
    mod = types.ModuleType(modname)
    mod.__file__ = filename
    sys.modules[modname] = mod
    try:
        exec(compile(source, filename, "exec", dont_inherit=True), mod.__dict__)
    except BaseException:
        del sys.modules[modname]
        raise
    return mod


def sleepy_code(source, name="x"):
    """A namespace with ``source`` run as sleepy's own code (file ``<sleepy>/<name>.py``)."""
    ns = {"__name__": "_sleepy_" + name}
    exec(compile(source, SLEEPY_FILE % name, "exec", dont_inherit=True), ns)
    return ns


def make_tempdir(testcase):
    """A fresh directory (its real path) removed when the test (or class) ends."""
    path = os.path.realpath(tempfile.mkdtemp(prefix="sleepy-pytest-"))
    testcase.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


def class_tempdir(cls):
    path = os.path.realpath(tempfile.mkdtemp(prefix="sleepy-pytest-"))
    cls.addClassCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


def write(path, text, mode="w"):
    """Writes ``text`` (str or bytes) to ``path``, creating directories; returns ``path``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(text, bytes):
        with open(path, "wb") as f:
            f.write(text)
    else:
        with open(path, mode, encoding="utf-8", newline="") as f:
            f.write(text)
    return path


_MARK = re.compile(r"#\s*@([\w-]+)")


def marks(text):
    """``{name: line}`` for every ``# @name`` comment in ``text``."""
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        for m in _MARK.finditer(line):
            out[m.group(1)] = number
    return out


def line_of(text, fragment, occurrence=1):
    """The 1-based number of the line of ``text`` that contains ``fragment``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if fragment in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError("%r not found" % fragment)


def import_file(name, path):
    """Imports the file at ``path`` as module ``name`` (registered in sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[name]
        raise
    return mod


def clean_env(**extra):
    """The environment for a child python3: no variable that would change what is compared."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONSAFEPATH", "PYTHONBREAKPOINT", "PYTHONSTARTUP", "PYTHONINSPECT")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_python(args, cwd=None, env=None, input=None, timeout=60):
    """Runs ``python3 ARGS`` (the interpreter running these tests) and captures its output."""
    return subprocess.run(
        [PYTHON] + list(args),
        cwd=cwd,
        env=env if env is not None else clean_env(),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_driver(args, cwd=None, env=None, input=None, timeout=60):
    """Runs a program the way the sleepy agent runs it, with sleepy_runner (see _agent_driver)."""
    return run_python([DRIVER] + list(args), cwd=cwd, env=env, input=input, timeout=timeout)
