"""Tests of ``sleepy_inspect.py``: what the agent asks Python while the program is stopped.

Everything runs on real frames (of functions still running, suspended generators, or a module
being imported), real files in temporary directories and real tracebacks. pdb's own code is the
reference for the pdb-style texts: where practical a test asks a real ``pdb.Pdb`` the same
question on the same frame and compares.
"""

import builtins
import contextlib
import ctypes
import functools
import io
import json
import os
import pdb
import pprint
import subprocess
import sys
import sysconfig
import textwrap
import unittest
import zipfile

try:
    from . import _support
except ImportError:  # run from inside the tests directory
    import _support

si = _support.load("inspect")


def locals_to_fast(frame):
    """The real C API the agent calls after ``execute``, with the same ``clear`` as
    src/agent/cpython.rs: 1 on 3.11 (deleted names become unbound, as under pdb), 0 on 3.12
    (where clear=1 would bind None to every unassigned local)."""
    clear = 1 if sys.version_info < (3, 12) else 0
    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(clear))


ctypes.pythonapi.PyFrame_LocalsToFast.argtypes = [ctypes.py_object, ctypes.c_int]
ctypes.pythonapi.PyFrame_LocalsToFast.restype = None

# Sleepy's own code, as the agent has it: file names starting with "<sleepy".
OWN = _support.sleepy_code(
    textwrap.dedent("""\
        def enter(fn, *args):
            return fn(*args)

        def catch(fn, *args):
            try:
                fn(*args)
            except BaseException as e:
                return e
            raise AssertionError("no exception")
        """),
    "inspect_test",
)

PROG_NAME = "sleepy_test_prog"
PROG = '''\
"""A program for sleepy_inspect to look at."""
import sys

LIMIT = 10
MODULE_FRAME = sys._getframe()


def helper(a, b=2):
    return a + b


class Thing:
    """A class."""

    def __init__(self, size):
        self.size = size

    def meth(self):
        return self.size

    class Inner:
        def deep(self):
            return sys._getframe()  # @deep


def paused(count):
    items = [1, 2, 3]
    label = "x" * count
    cell = count * 2

    def read_cell():
        return cell
    got = yield "ready"  # @paused
    yield count, items, label, cell, read_cell(), got  # @paused-end


def running(probe):
    total = 1
    mark = "before"
    probe(sys._getframe())  # @running
    return total, mark


def closure(probe):
    shared = "outer"

    def inner():
        probe(sys._getframe())  # @inner
        return shared
    got = inner()
    return got, shared


def signature(a, /, b, *args, c, d=4, **kw):
    del b
    yield  # @signature


def plain(x, y):
    yield  # @plain


def raiser(n):
    if n:
        return raiser(n - 1)  # @recurse
    raise ValueError("boom")  # @raise


def call_through(fn):
    return fn()  # @through


LAMBDA = lambda: sys._getframe()  # @lambda


def passthrough(fn):  # @passthrough
    return fn


@passthrough  # @decorator
def decorated():
    yield  # @decorated


async def coroutine():
    pass


async def agen():
    yield 1


class BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")
'''
MARKS = _support.marks(PROG)


def pdb_says(frame, command):
    """What a real pdb prints for ``command`` with ``frame`` selected."""
    out = io.StringIO()
    debugger = pdb.Pdb(stdout=out, readrc=False)
    debugger.curframe = frame
    debugger.curframe_locals = frame.f_locals
    debugger.onecmd(command)
    return out.getvalue()


class ProgramTestCase(unittest.TestCase):
    """A temporary project with PROG imported from it as module ``sleepy_test_prog``."""

    @classmethod
    def setUpClass(cls):
        cls.root = _support.class_tempdir(cls)
        cls.path = _support.write(os.path.join(cls.root, "prog.py"), PROG)
        cls.mod = _support.import_file(PROG_NAME, cls.path)
        cls.addClassCleanup(sys.modules.pop, PROG_NAME, None)
        cls.project = si.Project(cls.root, None, [])

    def paused_frame(self, count=3):
        gen = self.mod.paused(count)
        self.assertEqual(next(gen), "ready")
        self.addCleanup(gen.close)
        return gen, gen.gi_frame


class CanonicalTest(unittest.TestCase):
    def test_pseudo_names_are_kept(self):
        for name in ("", "<string>", "<stdin>", "<frozen runpy>", "<sleepy>"):
            self.assertEqual(si.canonical(name), name)
        self.assertIsNone(si.canonical(None))

    def test_real_absolute_path(self):
        tmp = _support.make_tempdir(self)
        real = _support.write(os.path.join(tmp, "real", "mod.py"), "x = 1\n")
        os.symlink(os.path.join(tmp, "real"), os.path.join(tmp, "link"))
        self.assertEqual(si.canonical(os.path.join(tmp, "link", "mod.py")), real)
        self.assertEqual(si.canonical(os.path.join(tmp, "link", "..", "real", "mod.py")), real)
        saved = os.getcwd()
        self.addCleanup(os.chdir, saved)
        os.chdir(os.path.join(tmp, "link"))
        self.assertEqual(si.canonical("mod.py"), real)
        self.assertEqual(si.canonical("./mod.py"), real)
        # Code objects compiled from the symlinked path are known by the real one.
        self.assertEqual(
            si.canonical(compile("x", os.path.join(tmp, "link", "mod.py"), "eval").co_filename),
            real,
        )


class ProjectTest(unittest.TestCase):
    def setUp(self):
        self.root = _support.make_tempdir(self)
        self.elsewhere = _support.make_tempdir(self)
        self.main = _support.write(os.path.join(self.root, "main.py"), "import sub.mod\n")
        self.sub = _support.write(os.path.join(self.root, "sub", "mod.py"), "x = 1\n")
        self.stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
        self.purelib = os.path.realpath(sysconfig.get_paths()["purelib"])

    def test_files_under_the_root_are_user_code(self):
        project = si.Project(self.root, self.main, [])
        self.assertTrue(project.is_user(self.main, "__main__"))
        self.assertTrue(project.is_user(self.sub, "sub.mod"))
        self.assertTrue(project.is_user(self.sub, None))
        self.assertFalse(project.is_user(os.path.join(self.elsewhere, "other.py"), "other"))
        self.assertFalse(project.is_user(self.root + "-sibling/x.py", None))

    def test_root_and_main_file_through_symlinks(self):
        link = os.path.join(self.elsewhere, "link")
        os.symlink(self.root, link)
        project = si.Project(link, os.path.join(link, "main.py"), [])
        self.assertTrue(project.is_user(os.path.join(link, "main.py"), "__main__"))
        self.assertTrue(project.is_user(self.sub, "sub.mod"))

    def test_relative_file_names_are_resolved(self):
        project = si.Project(self.root, None, [])
        saved = os.getcwd()
        self.addCleanup(os.chdir, saved)
        os.chdir(self.root)
        self.assertTrue(project.is_user("sub/mod.py", "sub.mod"))

    def test_library_code_is_not(self):
        project = si.Project(self.root, None, [])
        self.assertFalse(project.is_user(os.__file__, "os"))
        self.assertFalse(project.is_user(json.decoder.__file__, "json.decoder"))
        self.assertFalse(
            project.is_user(os.path.join(self.purelib, "somepkg", "mod.py"), "somepkg.mod")
        )
        self.assertFalse(project.is_user(unittest.__file__, "unittest"))

    def test_pseudo_files_are_not(self):
        project = si.Project(self.root, None, [])
        for name in ("", "<string>", "<stdin>", "<frozen runpy>", "<sleepy>/runner.py", "<sleepy>"):
            with self.subTest(name=name):
                self.assertFalse(project.is_user(name, "__main__"))
        self.assertFalse(project.is_user(None, None))

    def test_sleepy_files_are_never_user_code_even_when_traced(self):
        project = si.Project(self.root, None, ["*"])
        self.assertFalse(project.is_user("<sleepy>/inspect.py", "_sleepy_inspect"))

    def test_trace_glob_by_module_name(self):
        project = si.Project(self.root, None, ["json", "json.*"])
        self.assertTrue(project.is_user(json.__file__, "json"))
        self.assertTrue(project.is_user(json.decoder.__file__, "json.decoder"))
        self.assertFalse(project.is_user(os.__file__, "os"))
        self.assertFalse(project.is_user(json.decoder.__file__, None))

    def test_trace_glob_by_path(self):
        json_dir = os.path.dirname(os.path.realpath(json.__file__))
        project = si.Project(self.root, None, [os.path.join(json_dir, "*.py")])
        self.assertTrue(project.is_user(json.decoder.__file__, None))
        self.assertTrue(project.is_user(json.__file__, "json"))
        self.assertFalse(project.is_user(os.__file__, "os"))
        self.assertFalse(project.is_user(os.path.join(self.elsewhere, "x.py"), "x"))
        project = si.Project(self.root, None, ["*/json/decoder.py"])
        self.assertTrue(project.is_user(json.decoder.__file__, "json.decoder"))
        self.assertFalse(project.is_user(json.encoder.__file__, "json.encoder"))

    def test_trace_glob_adds_code_outside_the_root(self):
        other = _support.write(os.path.join(self.elsewhere, "vendored", "lib.py"), "")
        project = si.Project(self.root, None, ["vendored.*"])
        self.assertTrue(project.is_user(other, "vendored.lib"))
        self.assertFalse(project.is_user(other, "other.lib"))

    def test_project_inside_the_stdlib_test_directory(self):
        # A script run from inside the stdlib's test directory: the stdlib and the installation
        # prefix contain the project, yet its own files are user code; the rest of the stdlib
        # and site-packages are not.
        try:
            import test
        except ImportError:  # some distributions ship the test package separately
            self.skipTest("this Python has no stdlib test package")
        root = os.path.dirname(os.path.realpath(test.__file__))
        self.assertTrue(root.startswith(self.stdlib + os.sep))
        main = os.path.join(root, "test_os.py")
        self.assertTrue(os.path.exists(main))
        project = si.Project(root, main, [])
        self.assertTrue(project.is_user(main, "__main__"))
        self.assertTrue(
            project.is_user(os.path.join(root, "support", "__init__.py"), "test.support")
        )
        self.assertFalse(project.is_user(os.__file__, "os"))
        self.assertFalse(project.is_user(json.__file__, "json"))
        self.assertFalse(project.is_user(os.path.join(self.purelib, "pkg", "m.py"), "pkg.m"))

    def test_project_inside_site_packages(self):
        root = os.path.join(self.purelib, "sleepy_nonexistent_pkg")
        main = os.path.join(root, "tool.py")
        project = si.Project(root, main, [])
        self.assertTrue(project.is_user(main, "__main__"))
        self.assertTrue(project.is_user(os.path.join(root, "util.py"), "util"))
        self.assertFalse(project.is_user(os.path.join(self.purelib, "other", "m.py"), "other.m"))
        self.assertFalse(project.is_user(os.__file__, "os"))

    def test_virtualenv_inside_the_project(self):
        # The usual layout: the project's own .venv. Its site-packages are library code.
        venv = os.path.join(self.root, ".venv")
        made = _support.run_python(["-m", "venv", "--without-pip", venv])
        if made.returncode != 0 and "ensurepip" in made.stderr + made.stdout:
            self.skipTest("this Python cannot create virtual environments")
        self.assertEqual(made.returncode, 0, made.stderr)
        check = textwrap.dedent("""\
            import os, sys, sysconfig
            sys.path.insert(0, %r)
            import _support
            si = _support.load("inspect")
            root = %r
            purelib = sysconfig.get_paths()["purelib"]
            assert os.path.realpath(purelib).startswith(root), purelib
            project = si.Project(root, os.path.join(root, "main.py"), [])
            print(project.is_user(os.path.join(root, "main.py"), "__main__"),
                  project.is_user(os.path.join(root, "sub", "mod.py"), "sub.mod"),
                  project.is_user(os.path.join(purelib, "dep", "__init__.py"), "dep"),
                  project.is_user(os.__file__, "os"))
            """) % (_support.TESTS_DIR, self.root)
        python = os.path.join(venv, "bin", "python")
        result = subprocess.run(
            [python, "-c", check], capture_output=True, text=True, env=_support.clean_env()
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "True True False False\n")

    def test_main_file_is_user_code(self):
        # The main file counts even when the root says otherwise.
        main = _support.write(os.path.join(self.elsewhere, "script.py"), "")
        project = si.Project(self.root, main, [])
        self.assertTrue(project.is_user(main, "__main__"))

    def test_answers_are_stable(self):
        project = si.Project(self.root, None, [])
        for _ in range(3):
            self.assertTrue(project.is_user(self.sub, "sub.mod"))
            self.assertFalse(project.is_user(os.__file__, "os"))


class DescribeCodeTest(ProgramTestCase):
    def test_user_function(self):
        code = self.mod.helper.__code__
        self.assertEqual(
            si.describe_code(self.project, None, code, PROG_NAME),
            (True, self.path, _support.line_of(PROG, "def helper"), False, []),
        )

    def test_generators_and_coroutines(self):
        for func, generator in (
            (self.mod.paused, True),
            (self.mod.coroutine, True),
            (self.mod.agen, True),
            (self.mod.running, False),
            (self.mod.LAMBDA, False),
        ):
            with self.subTest(func=func.__name__):
                user, path, first, gen, markers = si.describe_code(self.project, None, func.__code__, PROG_NAME)
                self.assertEqual(
                    (user, path, first, gen),
                    (True, self.path, func.__code__.co_firstlineno, generator),
                )

    def test_decorated_function_starts_at_its_decorator(self):
        _, _, first, _, _ = si.describe_code(self.project, None, self.mod.decorated.__code__, PROG_NAME)
        self.assertEqual(first, MARKS["decorator"])

    def test_module_code_and_library_code(self):
        module_code = compile(PROG, self.path, "exec")
        self.assertEqual(
            si.describe_code(self.project, None, module_code, "__main__"), (True, self.path, 1, False, [])
        )
        self.assertEqual(
            si.describe_code(self.project, None, json.loads.__code__, "json"),
            (False, os.path.realpath(json.__file__), json.loads.__code__.co_firstlineno, False, []),
        )
        self.assertEqual(
            si.describe_code(self.project, None, compile("1", "<string>", "eval"), None),
            (False, "<string>", 1, False, []),
        )


class LiveStackTest(ProgramTestCase):
    def capture(self, call, seen=None):
        seen = {} if seen is None else seen

        def probe(frame):
            seen["frame"] = frame
            seen["stack"] = si.live_stack(frame)
            seen["lines_then"] = [f.f_lineno for f, _ in seen["stack"]]

        call(functools.partial(self.mod.running, probe))
        return seen["frame"], seen["stack"]

    def test_oldest_first_and_stops_at_sleepy_code(self):
        frame, stack = self.capture(lambda fn: OWN["enter"](self.mod.call_through, fn))
        self.assertEqual(
            [(f.f_code.co_name, line) for f, line in stack],
            [("call_through", MARKS["through"]), ("running", MARKS["running"])],
        )
        self.assertIs(stack[-1][0], frame)
        self.assertIs(stack[0][0].f_back.f_code, OWN["enter"].__code__)

    def test_without_sleepy_code_it_reaches_the_first_frame(self):
        seen = {}
        frame, stack = self.capture(self.mod.call_through, seen)
        self.assertIsNone(stack[0][0].f_back)
        self.assertEqual(
            [f.f_code.co_name for f, _ in stack[-3:]], ["capture", "call_through", "running"]
        )
        # Each line is where that frame was when the stack was taken.
        self.assertEqual([line for _, line in stack], seen["lines_then"])
        for older, newer in zip(stack, stack[1:]):
            self.assertIs(newer[0].f_back, older[0])

    def test_sleepy_frames_are_never_listed(self):
        frame, stack = self.capture(
            lambda fn: OWN["enter"](self.mod.call_through, functools.partial(OWN["enter"], fn))
        )
        self.assertEqual(
            [(f.f_code.co_name, line) for f, line in stack], [("running", MARKS["running"])]
        )

    def test_a_sleepy_frame_alone(self):
        frame = OWN["enter"](sys._getframe)
        self.assertEqual(si.live_stack(frame), [])


class TracebackStackTest(ProgramTestCase):
    def test_oldest_first_with_traceback_lines(self):
        exc = OWN["catch"](self.mod.raiser, 2)
        self.assertIsInstance(exc, ValueError)
        stack = si.traceback_stack(exc.__traceback__)
        self.assertEqual(
            [(f.f_code.co_name, line) for f, line in stack],
            [
                ("raiser", MARKS["recurse"]),
                ("raiser", MARKS["recurse"]),
                ("raiser", MARKS["raise"]),
            ],
        )
        self.assertEqual([f.f_locals["n"] for f, _ in stack], [2, 1, 0])

    def test_sleepy_frames_anywhere_are_dropped(self):
        exc = OWN["catch"](
            self.mod.call_through, functools.partial(OWN["enter"], self.mod.raiser, 0)
        )
        names = []
        tb = exc.__traceback__
        while tb is not None:
            names.append(tb.tb_frame.f_code.co_name)
            tb = tb.tb_next
        self.assertEqual(names, ["catch", "call_through", "enter", "raiser"])
        stack = si.traceback_stack(exc.__traceback__)
        self.assertEqual(
            [(f.f_code.co_name, line) for f, line in stack],
            [("call_through", MARKS["through"]), ("raiser", MARKS["raise"])],
        )

    def test_line_is_the_tracebacks_not_the_frames(self):
        # A frame that went on running after the exception passed through it.
        def survive():
            try:
                self.mod.raiser(0)
            except ValueError as e:
                caught = e
            after = sys._getframe().f_lineno
            return caught, after

        exc, after = survive()
        (frame, line), (_, raise_line) = si.traceback_stack(exc.__traceback__)
        self.assertEqual(line, survive.__code__.co_firstlineno + 2)
        self.assertNotEqual(frame.f_lineno, line)
        self.assertEqual(raise_line, MARKS["raise"])

    def test_none(self):
        self.assertEqual(si.traceback_stack(None), [])


class FrameInfoTest(ProgramTestCase):
    def test_method_of_nested_class(self):
        frame = self.mod.Thing.Inner().deep()
        self.assertEqual(
            si.frame_info(self.project, frame, MARKS["deep"]),
            (
                self.path,
                MARKS["deep"],
                "deep",
                "Thing.Inner.deep",
                "return sys._getframe()  # @deep",
                True,
            ),
        )

    def test_generator_and_closure_and_lambda(self):
        _, frame = self.paused_frame()
        self.assertEqual(
            si.frame_info(self.project, frame, frame.f_lineno),
            (
                self.path,
                MARKS["paused"],
                "paused",
                "paused",
                'got = yield "ready"  # @paused',
                True,
            ),
        )
        seen = []
        self.mod.closure(lambda f: seen.append(si.frame_info(self.project, f, f.f_lineno)))
        self.assertEqual(seen[0][2:4], ("inner", "closure.<locals>.inner"))
        frame = self.mod.LAMBDA()
        info = si.frame_info(self.project, frame, MARKS["lambda"])
        self.assertEqual(
            info[2:5], ("<lambda>", "<lambda>", "LAMBDA = lambda: sys._getframe()  # @lambda")
        )

    def test_source_follows_the_line_given(self):
        frame = self.mod.Thing.Inner().deep()
        info = si.frame_info(self.project, frame, 1)
        self.assertEqual(info[1], 1)
        self.assertEqual(info[4], '"""A program for sleepy_inspect to look at."""')

    def test_library_frame(self):
        exc = OWN["catch"](json.loads, "{")
        stack = si.traceback_stack(exc.__traceback__)
        frame, line = stack[-1]
        file, got_line, name, qualname, source, user = si.frame_info(self.project, frame, line)
        self.assertEqual(file, frame.f_code.co_filename)
        self.assertTrue(file.startswith(os.path.dirname(json.__file__)))
        self.assertEqual(
            (got_line, name, qualname, user),
            (line, frame.f_code.co_name, frame.f_code.co_qualname, False),
        )
        with open(file) as f:
            self.assertEqual(source, f.read().splitlines()[line - 1].strip())

    def test_module_name_comes_from_the_frames_globals(self):
        project = si.Project(_support.make_tempdir(self), None, [PROG_NAME])
        frame = self.mod.Thing.Inner().deep()
        self.assertTrue(si.frame_info(project, frame, frame.f_lineno)[5])
        other = si.Project(_support.make_tempdir(self), None, ["something_else"])
        self.assertFalse(si.frame_info(other, frame, frame.f_lineno)[5])

    def test_pseudo_file(self):
        ns = {}
        exec(compile("import sys\nF = sys._getframe()\n", "<string>", "exec"), ns)
        self.assertEqual(
            si.frame_info(self.project, ns["F"], 2),
            ("<string>", 2, "<module>", "<module>", "", False),
        )


class EvaluateTest(ProgramTestCase):
    def test_repr(self):
        _, frame = self.paused_frame(3)
        self.assertEqual(si.evaluate(frame, "count + 1", "repr"), (True, "4"))
        self.assertEqual(si.evaluate(frame, "label", "repr"), (True, "'xxx'"))
        self.assertEqual(si.evaluate(frame, "items", "repr"), (True, "[1, 2, 3]"))
        self.assertEqual(si.evaluate(frame, "cell", "repr"), (True, "6"))
        self.assertEqual(si.evaluate(frame, "LIMIT * count", "repr"), (True, "30"))
        self.assertEqual(si.evaluate(frame, "[i * 2 for i in items]", "repr"), (True, "[2, 4, 6]"))
        self.assertEqual(si.evaluate(frame, "read_cell()", "repr"), (True, "6"))

    def test_comprehension_scope_is_pdbs(self):
        # On 3.11 a comprehension is a function of its own: the frame's locals (given to eval as
        # its locals) are not visible inside it, in pdb as here. 3.12 inlines comprehensions
        # (PEP 709), so there they are, in pdb as here.
        _, frame = self.paused_frame(3)
        expr = "[i * count for i in items]"
        if sys.version_info >= (3, 12):
            self.assertEqual(si.evaluate(frame, expr, "repr"), (True, "[3, 6, 9]"))
            self.assertEqual(pdb_says(frame, "p " + expr), "[3, 6, 9]\n")
            return
        self.assertEqual(
            si.evaluate(frame, expr, "repr"), (False, "NameError: name 'count' is not defined")
        )
        self.assertEqual(
            pdb_says(frame, "p " + expr), "*** NameError: name 'count' is not defined\n"
        )

    def test_pretty(self):
        _, frame = self.paused_frame(3)
        ok, text = si.evaluate(
            frame, "{'short': items, 'long': items * 30, 'label': label}", "pretty"
        )
        self.assertTrue(ok)
        self.assertEqual(
            text, pprint.pformat({"short": [1, 2, 3], "long": [1, 2, 3] * 30, "label": "xxx"})
        )
        self.assertTrue(text.startswith("{'label': 'xxx',\n 'long': [1,\n"), text)
        self.assertEqual(si.evaluate(frame, "label", "pretty"), (True, "'xxx'"))

    def test_whatis(self):
        _, frame = self.paused_frame()
        cases = {
            "helper": "Function helper",
            "read_cell": "Function read_cell",
            "LIMIT": "<class 'int'>",
            "count": "<class 'int'>",
            "label": "<class 'str'>",
            "Thing": "Class %s.Thing" % PROG_NAME,
            "Thing.Inner": "Class %s.Thing.Inner" % PROG_NAME,
            "Thing(1).meth": "Method meth",
            "Thing.meth": "Function meth",
            "len": "<class 'builtin_function_or_method'>",
            "sys": "<class 'module'>",
            "paused(1)": "<class 'generator'>",
            "lambda: 0": "Function <lambda>",
        }
        for expr, expected in cases.items():
            with self.subTest(expr=expr):
                self.assertEqual(si.evaluate(frame, expr, "whatis"), (True, expected))
                # pdb prints the same.
                self.assertEqual(pdb_says(frame, "whatis " + expr), expected + "\n")

    def test_errors_are_pdbs_one_line(self):
        _, frame = self.paused_frame()
        cases = {
            "nope": "NameError: name 'nope' is not defined",
            "1 / 0": "ZeroDivisionError: division by zero",
            "{}['k']": "KeyError: 'k'",
            "items.nope": "AttributeError: 'list' object has no attribute 'nope'",
            "1 +": None,
            "count = 2": None,
        }
        for expr, expected in cases.items():
            for style, command in (("repr", "p"), ("pretty", "pp"), ("whatis", "whatis")):
                with self.subTest(expr=expr, style=style):
                    ok, text = si.evaluate(frame, expr, style)
                    self.assertFalse(ok)
                    if expected is not None:
                        self.assertEqual(text, expected)
                    self.assertNotIn("\n", text)
                    self.assertEqual(pdb_says(frame, "%s %s" % (command, expr)), "*** %s\n" % text)

    def test_syntax_error_text(self):
        _, frame = self.paused_frame()
        self.assertEqual(si.evaluate(frame, "1 +", "repr"), (False, "SyntaxError: invalid syntax"))

    def test_same_as_pdb_p_and_pp(self):
        _, frame = self.paused_frame(4)
        for expr in ("count", "items", "label", "Thing", "{'a': items * 20}", "None"):
            with self.subTest(expr=expr):
                self.assertEqual(
                    pdb_says(frame, "p " + expr), si.evaluate(frame, expr, "repr")[1] + "\n"
                )
                self.assertEqual(
                    pdb_says(frame, "pp " + expr), si.evaluate(frame, expr, "pretty")[1] + "\n"
                )

    def test_broken_repr(self):
        _, frame = self.paused_frame()
        self.assertEqual(si.evaluate(frame, "BadRepr()", "repr"), (False, "RuntimeError: no repr"))
        self.assertEqual(
            si.evaluate(frame, "BadRepr()", "whatis"), (True, "<class '%s.BadRepr'>" % PROG_NAME)
        )
        self.assertEqual(si.safe_repr(self.mod.BadRepr()), "<repr raised RuntimeError: no repr>")
        self.assertEqual(si.safe_repr([1, "a"]), "[1, 'a']")

    def test_module_frame(self):
        frame = self.mod.MODULE_FRAME
        self.assertEqual(si.evaluate(frame, "LIMIT", "repr"), (True, "10"))
        self.assertEqual(si.evaluate(frame, "helper(1)", "repr"), (True, "3"))

    def test_evaluate_value(self):
        _, frame = self.paused_frame()
        ok, value = si.evaluate_value(frame, "items")
        self.assertTrue(ok)
        self.assertIs(value, frame.f_locals["items"])
        ok, value = si.evaluate_value(frame, "nope")
        self.assertFalse(ok)
        self.assertIsInstance(value, NameError)
        self.assertEqual(si.error_text(value), "NameError: name 'nope' is not defined")


class ExecuteTest(ProgramTestCase):
    def test_assignments_reach_a_suspended_generator(self):
        gen, frame = self.paused_frame(3)
        self.assertEqual(si.execute(frame, "count = 7", locals_to_fast), (True, []))
        self.assertEqual(si.execute(frame, "cell = 'changed'", locals_to_fast), (True, []))
        self.assertEqual(
            si.execute(frame, "label += '!'; items.append(4)", locals_to_fast), (True, [])
        )
        # Seen at once by evaluate, and by the function when it goes on.
        self.assertEqual(si.evaluate(frame, "count, cell", "repr"), (True, "(7, 'changed')"))
        self.assertEqual(gen.send("sent"), (7, [1, 2, 3, 4], "xxx!", "changed", "changed", "sent"))

    def test_assignments_reach_a_running_function(self):
        results = []

        def probe(frame):
            results.append(si.execute(frame, "total = 41 + total; mark = 'after'", locals_to_fast))
            results.append(si.execute(frame, "new_name = 1", locals_to_fast))

        self.assertEqual(self.mod.running(probe), (42, "after"))
        self.assertEqual(results, [(True, []), (True, [])])

    def test_assignment_to_a_free_variable_reaches_the_cell(self):
        def probe(frame):
            self.assertEqual(si.execute(frame, "shared = 'from inner'", locals_to_fast), (True, []))

        self.assertEqual(self.mod.closure(probe), ("from inner", "from inner"))

    def test_module_frame_writes_globals(self):
        called = []

        def recording_locals_to_fast(frame):
            called.append(frame)
            locals_to_fast(frame)

        frame = self.mod.MODULE_FRAME
        self.assertEqual(
            si.execute(frame, "EXECUTED = LIMIT + 1", recording_locals_to_fast), (True, [])
        )
        self.assertEqual(self.mod.EXECUTED, 11)
        self.assertEqual(called, [])
        _, gen_frame = self.paused_frame()
        si.execute(gen_frame, "count = 1", recording_locals_to_fast)
        self.assertEqual(called, [gen_frame])

    def test_expression_statements_show_their_repr(self):
        _, frame = self.paused_frame(3)
        self.assertEqual(si.execute(frame, "count * 2", locals_to_fast), (True, ["6"]))
        self.assertEqual(si.execute(frame, "label", locals_to_fast), (True, ["'xxx'"]))
        self.assertEqual(si.execute(frame, "None", locals_to_fast), (True, []))
        self.assertEqual(
            si.execute(frame, "1; 'two'; None; [3]", locals_to_fast), (True, ["1", "'two'", "[3]"])
        )
        self.assertEqual(
            si.execute(frame, "for i in items: i * 10", locals_to_fast), (True, ["10", "20", "30"])
        )
        self.assertEqual(
            si.execute(frame, "BadRepr()", locals_to_fast),
            (True, ["<repr raised RuntimeError: no repr>"]),
        )

    def test_print_goes_to_stdout(self):
        _, frame = self.paused_frame(3)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = si.execute(frame, "print('hi', count); count", locals_to_fast)
        self.assertEqual(result, (True, ["3"]))
        self.assertEqual(out.getvalue(), "hi 3\n")

    def test_errors(self):
        _, frame = self.paused_frame(3)
        self.assertEqual(
            si.execute(frame, "1 / 0", locals_to_fast),
            (False, ["ZeroDivisionError: division by zero"]),
        )
        self.assertEqual(
            si.execute(frame, "count; 1 / 0; label", locals_to_fast),
            (False, ["3", "ZeroDivisionError: division by zero"]),
        )
        self.assertEqual(
            si.execute(frame, "nope", locals_to_fast),
            (False, ["NameError: name 'nope' is not defined"]),
        )
        self.assertEqual(
            si.execute(frame, "x = = 1", locals_to_fast), (False, ["SyntaxError: invalid syntax"])
        )
        self.assertEqual(
            si.execute(frame, "import sys; sys.exit(3)", locals_to_fast), (False, ["SystemExit: 3"])
        )
        # An assignment before the error still happened.
        self.assertEqual(
            si.execute(frame, "count = 9; 1 / 0", locals_to_fast),
            (False, ["ZeroDivisionError: division by zero"]),
        )
        self.assertEqual(si.evaluate(frame, "count", "repr"), (True, "9"))

    def test_error_texts_match_pdb(self):
        _, frame = self.paused_frame(3)
        for stmt in ("1 / 0", "nope", "x = = 1", "raise KeyError('k')", "del nope"):
            with self.subTest(stmt=stmt):
                ok, lines = si.execute(frame, stmt, locals_to_fast)
                self.assertFalse(ok)
                self.assertEqual(pdb_says(frame, "!" + stmt), "*** %s\n" % lines[-1])

    def test_displayhook_and_underscore_are_left_alone(self):
        _, frame = self.paused_frame(3)
        hook = sys.displayhook
        had = hasattr(builtins, "_")
        before = getattr(builtins, "_", None)
        si.execute(frame, "12345", locals_to_fast)
        si.execute(frame, "1 / 0", locals_to_fast)
        si.execute(frame, "x = = 1", locals_to_fast)
        self.assertIs(sys.displayhook, hook)
        self.assertEqual(hasattr(builtins, "_"), had)
        self.assertEqual(getattr(builtins, "_", None), before)

    # pdb's `!del x` unbinds the local (its trace trampoline calls PyFrame_LocalsToFast with
    # clear=1); so does the agent on 3.11. 3.12 cannot unbind a local (it becomes None).
    @unittest.skipIf(sys.version_info >= (3, 12), "3.12+ cannot unbind a frame's local")
    def test_del_unbinds_the_local(self):
        results = []

        def probe(frame):
            results.append(si.execute(frame, "del mark", locals_to_fast))

        with self.assertRaises(UnboundLocalError):
            self.mod.running(probe)


class FrameArgsTest(ProgramTestCase):
    def test_every_kind_of_argument(self):
        gen = self.mod.signature(1, 2, 3, (4,), c="c", e=5)
        next(gen)
        self.addCleanup(gen.close)
        frame = gen.gi_frame
        self.assertEqual(
            si.frame_args(frame),
            [
                ("a", "1"),
                ("b", None),  # deleted: unbound
                ("c", "'c'"),
                ("d", "4"),
                ("args", "(3, (4,))"),
                ("kw", "{'e': 5}"),
            ],
        )
        expected = "".join(
            "%s = %s\n" % (name, "*** undefined ***" if text is None else text)
            for name, text in si.frame_args(frame)
        )
        self.assertEqual(pdb_says(frame, "args"), expected)

    def test_plain_and_none(self):
        gen = self.mod.plain(None, [1])
        next(gen)
        self.addCleanup(gen.close)
        self.assertEqual(si.frame_args(gen.gi_frame), [("x", "None"), ("y", "[1]")])

    def test_no_arguments_and_locals_are_not_arguments(self):
        _, frame = self.paused_frame(2)
        self.assertEqual(si.frame_args(frame), [("count", "2")])
        self.assertEqual(si.frame_args(self.mod.MODULE_FRAME), [])
        frame = self.mod.LAMBDA()
        self.assertEqual(si.frame_args(frame), [])

    def test_method_and_broken_repr(self):
        frame = self.mod.Thing.Inner().deep()
        [(name, text)] = si.frame_args(frame)
        self.assertEqual(name, "self")
        self.assertTrue(text.startswith("<%s.Thing.Inner object at 0x" % PROG_NAME), text)
        gen = self.mod.plain(self.mod.BadRepr(), 1)
        next(gen)
        self.addCleanup(gen.close)
        self.assertEqual(
            si.frame_args(gen.gi_frame), [("x", "<repr raised RuntimeError: no repr>"), ("y", "1")]
        )

    def test_argument_changed_by_execute(self):
        gen = self.mod.plain(1, 2)
        next(gen)
        self.addCleanup(gen.close)
        si.execute(gen.gi_frame, "x = 'new'", locals_to_fast)
        self.assertEqual(si.frame_args(gen.gi_frame), [("x", "'new'"), ("y", "2")])


class DisplayTest(ProgramTestCase):
    def test_text(self):
        _, frame = self.paused_frame(3)
        ok, value = si.evaluate_value(frame, "items")
        self.assertEqual(si.display_text(ok, value), "[1, 2, 3]")
        ok, value = si.evaluate_value(frame, "nope")
        self.assertEqual(
            si.display_text(ok, value), "** raised NameError: name 'nope' is not defined **"
        )
        ok, value = si.evaluate_value(frame, "BadRepr()")
        self.assertEqual(si.display_text(ok, value), "<repr raised RuntimeError: no repr>")
        # pdb's display shows the same texts.
        debugger = pdb.Pdb(stdout=io.StringIO(), readrc=False)
        debugger.curframe, debugger.curframe_locals = frame, frame.f_locals
        self.assertEqual(
            repr(debugger._getval_except("nope")),
            "** raised NameError: name 'nope' is not defined **",
        )
        self.assertEqual(repr(debugger._getval_except("items")), "[1, 2, 3]")

    def test_changed_as_the_program_runs(self):
        gen, frame = self.paused_frame(3)
        old = si.evaluate_value(frame, "items")
        # Same object, even mutated: unchanged (pdb compares identity first).
        si.execute(frame, "items.append(4)", locals_to_fast)
        new = si.evaluate_value(frame, "items")
        self.assertIs(new[1], old[1])
        self.assertFalse(si.display_changed(*old, *new))
        # A new list that gained an item: changed.
        si.execute(frame, "items = items + [5]", locals_to_fast)
        newer = si.evaluate_value(frame, "items")
        self.assertEqual(newer[1], [1, 2, 3, 4, 5])
        self.assertTrue(si.display_changed(*new, *newer))
        # A new but equal object: unchanged.
        si.execute(frame, "items = list(items)", locals_to_fast)
        copy = si.evaluate_value(frame, "items")
        self.assertIsNot(copy[1], newer[1])
        self.assertFalse(si.display_changed(*newer, *copy))

    def test_changed_values(self):
        self.assertTrue(si.display_changed(True, [1, 2], True, [1, 2, 3]))
        self.assertTrue(si.display_changed(True, 1, True, 2))
        self.assertFalse(si.display_changed(True, 1, True, 1))
        self.assertFalse(si.display_changed(True, "abc", True, "ab" + "c"))
        value = [1]
        self.assertFalse(si.display_changed(True, value, True, value))

    def test_errors(self):
        _, frame = self.paused_frame(3)
        name_error = si.evaluate_value(frame, "nope")
        name_error_again = si.evaluate_value(frame, "nope")
        zero = si.evaluate_value(frame, "1 / 0")
        fine = si.evaluate_value(frame, "count")
        self.assertIsNot(name_error[1], name_error_again[1])
        self.assertFalse(si.display_changed(*name_error, *name_error_again))
        self.assertTrue(si.display_changed(*name_error, *zero))
        self.assertTrue(si.display_changed(*name_error, *fine))
        self.assertTrue(si.display_changed(*fine, *name_error))

    def test_eq_that_raises_counts_as_changed(self):
        class Angry:
            def __eq__(self, other):
                raise TypeError("no comparing")

            __ne__ = __eq__

        class Vague:
            def __ne__(self, other):
                return self

            def __bool__(self):
                raise ValueError("ambiguous")

        self.assertTrue(si.display_changed(True, Angry(), True, Angry()))
        self.assertTrue(si.display_changed(True, 1, True, Angry()))
        self.assertTrue(si.display_changed(True, Vague(), True, Vague()))
        angry = Angry()
        self.assertFalse(si.display_changed(True, angry, True, angry))


def zip_module_frame(testcase):
    """``(source, frame)``: a frame of a module imported from a zip archive."""
    tmp = _support.make_tempdir(testcase)
    archive = os.path.join(tmp, "lib.zip")
    source = "import sys\n\ndef where():\n    return sys._getframe()\n"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("sleepy_zipped.py", source)
    sys.path.insert(0, archive)
    testcase.addCleanup(sys.path.remove, archive)
    testcase.addCleanup(sys.modules.pop, "sleepy_zipped", None)
    import sleepy_zipped

    return source, sleepy_zipped.where()


class SourceLinesTest(ProgramTestCase):
    def test_file_of_the_frame(self):
        _, frame = self.paused_frame()
        self.assertEqual(si.source_lines(self.path, frame), PROG.splitlines())
        self.assertEqual(si.source_lines(self.path, None), PROG.splitlines())

    def test_line_endings_are_dropped(self):
        tmp = _support.make_tempdir(self)
        crlf = _support.write(os.path.join(tmp, "crlf.py"), b"a = 1\r\n\r\nb = 2\r\n")
        last = _support.write(os.path.join(tmp, "last.py"), "a = 1\n  b = 2  ")
        self.assertEqual(si.source_lines(crlf, None), ["a = 1", "", "b = 2"])
        self.assertEqual(si.source_lines(last, None), ["a = 1", "  b = 2  "])

    def test_missing_file(self):
        self.assertEqual(si.source_lines(os.path.join(self.root, "nofile.py"), None), [])

    def zip_frame(self):
        return zip_module_frame(self)

    def test_module_in_a_zip_archive(self):
        source, frame = self.zip_frame()
        self.assertTrue(frame.f_code.co_filename.endswith("lib.zip" + os.sep + "sleepy_zipped.py"))
        self.assertEqual(si.source_lines(frame.f_code.co_filename, frame), source.splitlines())

    def test_other_file_than_the_frames(self):
        source, frame = self.zip_frame()
        missing = os.path.join(self.root, "deleted.py")
        self.assertEqual(si.source_lines(missing, frame), [])


class FunctionSourceTest(ProgramTestCase):
    def test_function(self):
        _, frame = self.paused_frame()
        first = _support.line_of(PROG, "def paused")
        ok, (got_first, lines) = si.function_source(frame)
        self.assertTrue(ok)
        self.assertEqual(got_first, first)
        self.assertEqual(lines, PROG.splitlines()[first - 1 : MARKS["paused-end"]])

    def test_decorated_function_starts_at_the_decorator(self):
        gen = self.mod.decorated()
        next(gen)
        self.addCleanup(gen.close)
        self.assertEqual(
            si.function_source(gen.gi_frame),
            (
                True,
                (
                    MARKS["decorator"],
                    ["@passthrough  # @decorator", "def decorated():", "    yield  # @decorated"],
                ),
            ),
        )

    def test_method_and_module(self):
        frame = self.mod.Thing.Inner().deep()
        self.assertEqual(
            si.function_source(frame),
            (
                True,
                (
                    MARKS["deep"] - 1,
                    ["        def deep(self):", "            return sys._getframe()  # @deep"],
                ),
            ),
        )
        self.assertEqual(si.function_source(self.mod.MODULE_FRAME), (True, (1, PROG.splitlines())))

    def test_same_as_pdb_longlist(self):
        _, paused = self.paused_frame()
        debugger = pdb.Pdb(stdout=io.StringIO(), readrc=False)
        for frame in (paused, self.mod.MODULE_FRAME, self.mod.Thing.Inner().deep()):
            lines, first = debugger._getsourcelines(frame)
            self.assertEqual(
                si.function_source(frame), (True, (first, [l.rstrip("\n") for l in lines]))
            )

    def test_no_source(self):
        ns = {}
        exec(
            compile(
                "import sys\nF = sys._getframe()\n", os.path.join(self.root, "gone", "x.py"), "exec"
            ),
            ns,
        )
        self.assertEqual(si.function_source(ns["F"]), (False, "source code not available"))
        self.assertEqual(pdb_says(ns["F"], "ll"), "*** source code not available\n")
        exec(compile("import sys\nF = sys._getframe()\n", "<string>", "exec"), ns)
        self.assertEqual(si.function_source(ns["F"]), (False, "could not get source code"))
        self.assertEqual(pdb_says(ns["F"], "ll"), "*** could not get source code\n")


CODE_SAMPLE = '''\
"""Module docstring."""
# a comment

import os


def documented():
    """Only a docstring."""


def documented_two_lines():
    """A docstring
    on two lines."""


def body_pass():
    pass


def multi(a,
          b):
    total = (a +
             b)
    data = {
        "a": a,
        "b": b,
    }
    call = max(
        a,
        b,
    )
    return total, data, call


def outer(n):
    # comment inside
    def inner(x):
        return x * n

    class Local:
        attr = 1

        def method(self):
            return self.attr

    return inner(2) + Local().method()


class Top:
    """Class docstring."""

    value = 3

    @staticmethod
    def static():
        return 1

    @property
    def prop(self):
        return self.value


def control(items):
    global GLOBAL
    out = []
    for i in items:
        if i % 2:
            out.append(i)
        else:
            continue
    while out:
        out.pop()
        break
    try:
        1 / 0
    except ZeroDivisionError:
        out.append("z")
    else:
        out.append("never")  # not run
    finally:
        out.append("f")
    with open(os.devnull) as f:
        f.read()
    squares = [x * x for x in items]
    gen = (x for x in items)
    lam = lambda y: y + 1
    match len(items):
        case 0:
            out.append(0)  # not run
        case _:
            out.append(lam(1))
    return out, squares, list(gen)


def generator():
    yield 1
    yield 2


documented()
documented_two_lines()
body_pass()
multi(1,
      2)
outer(3)
Top.static()
Top().prop
control([1, 2, 3])
list(generator())
if __name__ == "__never__":
    unreached = 1  # not run
'''


class CodeLinesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = _support.class_tempdir(cls)
        cls.path = _support.write(os.path.join(cls.tmp, "sample.py"), CODE_SAMPLE)
        cls.lines = si.code_lines(cls.path)

    def traced_lines(self, path, source):
        """The lines a real sys.settrace run of ``source`` reports line events for."""
        seen = set()

        def trace(frame, event, arg):
            if frame.f_code.co_filename != path:
                return None
            if event == "line":
                seen.add(frame.f_lineno)
            return trace

        code = compile(source, path, "exec")
        saved = sys.gettrace()
        sys.settrace(trace)
        try:
            exec(code, {"__name__": "__main__"})
        finally:
            sys.settrace(saved)
        return seen

    def test_exactly_the_lines_with_line_events(self):
        traced = self.traced_lines(self.path, CODE_SAMPLE)
        not_run = {
            n for n, line in enumerate(CODE_SAMPLE.splitlines(), 1) if line.endswith("# not run")
        }
        self.assertEqual(len(not_run), 3)
        self.assertFalse(traced & not_run)
        self.assertEqual(self.lines, sorted(traced | not_run))

    def test_blank_lines_comments_and_docstrings_have_none(self):
        text = CODE_SAMPLE.splitlines()
        for number, line in enumerate(text, 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                self.assertNotIn(number, self.lines, line)
        for fragment in ('"""Only a docstring."""', '"""A docstring', "on two lines."):
            self.assertNotIn(_support.line_of(CODE_SAMPLE, fragment), self.lines, fragment)
        # A function whose body is only a docstring has its def line, and nothing else.
        self.assertIn(_support.line_of(CODE_SAMPLE, "def documented():"), self.lines)
        # Module and class docstrings are assignments to __doc__: they have code.
        self.assertEqual(self.lines[0], 1)
        self.assertIn(_support.line_of(CODE_SAMPLE, '"""Class docstring."""'), self.lines)

    def test_multi_line_statements(self):
        line = functools.partial(_support.line_of, CODE_SAMPLE)
        for fragment in (
            "def multi(a,",
            "total = (a +",
            "             b)",
            '"a": a,',
            '"b": b,',
            "call = max(",
            "        a,",
            "        b,",
            "multi(1,",
            "      2)",
        ):
            self.assertIn(line(fragment), self.lines, fragment)
        for fragment in ("          b):", "    }", "    )"):
            self.assertNotIn(line(fragment), self.lines, fragment)

    def test_nested_functions_and_classes(self):
        for fragment in (
            "def inner(x):",
            "return x * n",
            "class Local:",
            "attr = 1",
            "def method(self):",
            "return self.attr",
            "@staticmethod",
            "def static():",
            "return self.value",
            "lam = lambda y: y + 1",
            "yield 2",
        ):
            self.assertIn(_support.line_of(CODE_SAMPLE, fragment), self.lines, fragment)
        self.assertNotIn(_support.line_of(CODE_SAMPLE, "global GLOBAL"), self.lines)
        self.assertNotIn(_support.line_of(CODE_SAMPLE, "    else:"), self.lines)

    def test_program_file_against_a_traced_run(self):
        # The lines of PROG, checked the same way (only lines that run when it is imported and
        # its functions are called are compared).
        tmp = _support.make_tempdir(self)
        path = _support.write(os.path.join(tmp, "prog.py"), PROG)
        lines = set(si.code_lines(path))
        traced = self.traced_lines(path, PROG)
        self.assertTrue(traced <= lines, traced - lines)
        for name in (
            "deep",
            "paused",
            "running",
            "recurse",
            "raise",
            "through",
            "lambda",
            "decorator",
            "decorated",
        ):
            self.assertIn(MARKS[name], lines, name)

    def test_unreadable(self):
        tmp = _support.make_tempdir(self)
        self.assertIsNone(si.code_lines(os.path.join(tmp, "nofile.py")))
        self.assertIsNone(si.code_lines(_support.write(os.path.join(tmp, "bad.py"), "def f(:\n")))
        self.assertIsNone(
            si.code_lines(_support.write(os.path.join(tmp, "nul.py"), b"x = 1\x00\n"))
        )
        self.assertIsNone(si.code_lines("<string>"))

    def test_known_by_the_canonical_name(self):
        tmp = _support.make_tempdir(self)
        os.symlink(self.tmp, os.path.join(tmp, "link"))
        self.assertEqual(si.code_lines(os.path.join(tmp, "link", "sample.py")), self.lines)

    def test_other_encodings(self):
        tmp = _support.make_tempdir(self)
        path = _support.write(
            os.path.join(tmp, "latin.py"), b"# -*- coding: latin-1 -*-\n\nx = '\xe9'\n"
        )
        self.assertEqual(si.code_lines(path), [3])


RESOLVE_MAIN = """\
import sys
PROBE(sys._getframe())  # @probe

# a comment


def later(x):  # @later
    y = x + 1  # @later-body
    return y


alias = later


class Thing:
    def meth(self):  # @meth
        return 1


def multi():
    return (1,  # @multi
            2)  # @multi-inside
import other  # @import-other
last = 1  # @last

"""

RESOLVE_OTHER = """\
def far(a):  # @far
    return a  # @far-body
"""


# pdb 3.13 puts `break FUNC` at the function's first executable line (here always the line after
# the def), 3.11 and 3.12 at its def line; sleepy follows the pdb of its Python.
FUNCTION_BREAK_OFFSET = 1 if sys.version_info >= (3, 13) else 0


class ResolveLocationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = _support.class_tempdir(cls)
        cls.cwd = _support.class_tempdir(cls)
        cls.on_path = _support.class_tempdir(cls)
        cls.main = _support.write(os.path.join(cls.root, "main.py"), RESOLVE_MAIN)
        cls.other = _support.write(os.path.join(cls.root, "other.py"), RESOLVE_OTHER)
        cls.pathmod = _support.write(os.path.join(cls.on_path, "onpath.py"), "a = 1\n\nb = 2\n")
        cls.broken = _support.write(os.path.join(cls.root, "broken.py"), "def f(:\n")
        cls.m = _support.marks(RESOLVE_MAIN)
        cls.o = _support.marks(RESOLVE_OTHER)
        saved_cwd = os.getcwd()
        saved_path = list(sys.path)
        # The relative names must be found next to the frame's file, not from the cwd.
        os.chdir(cls.cwd)
        sys.path.insert(0, cls.on_path)
        sys.path.insert(0, cls.root)
        cls.early = {}

        def probe(frame):
            # Runs while main.py is at its second line: nothing below it is defined yet.
            cls.early_frame = frame
            for location in (
                "later",
                "'later'",
                "alias",
                "other.far",
                "self.later",
                "Thing",
                "meth",
                "nosuch",
            ):
                cls.early[location] = si.resolve_location(frame, location, cls.cwd)

        try:
            cls.globals = {"__name__": "sleepy_resolve_main", "PROBE": probe}
            exec(compile(RESOLVE_MAIN, cls.main, "exec"), cls.globals)
        finally:
            os.chdir(saved_cwd)
            sys.path[:] = saved_path
            sys.modules.pop("other", None)
        cls.frame = cls.early_frame

    def setUp(self):
        saved_cwd = os.getcwd()
        saved_path = list(sys.path)
        self.addCleanup(os.chdir, saved_cwd)
        self.addCleanup(sys.path.__setitem__, slice(None), saved_path)
        os.chdir(self.cwd)

    def resolve(self, location, root=None):
        return si.resolve_location(self.frame, location, root or self.cwd)

    def test_line_in_the_frames_file(self):
        self.assertEqual(
            self.resolve("%d" % self.m["later-body"]),
            (True, (self.main, self.m["later-body"], None)),
        )
        self.assertEqual(
            self.resolve("  %d  " % self.m["last"]), (True, (self.main, self.m["last"], None))
        )

    def test_file_and_line(self):
        body = self.o["far-body"]
        # Relative: found next to the frame's file (neither the cwd nor the root has it).
        self.assertEqual(self.resolve("other.py:%d" % body), (True, (self.other, body, None)))
        self.assertEqual(self.resolve("other:%d" % body), (True, (self.other, body, None)))
        self.assertEqual(self.resolve("other.py: %d" % body), (True, (self.other, body, None)))
        # Absolute.
        self.assertEqual(
            self.resolve("%s:%d" % (self.other, body)), (True, (self.other, body, None))
        )
        # Relative to the project root.
        self.assertEqual(
            si.resolve_location(None, "other.py:%d" % body, self.root),
            (True, (self.other, body, None)),
        )

    def test_file_on_sys_path(self):
        sys.path.append(self.on_path)
        self.assertEqual(self.resolve("onpath.py:3"), (True, (self.pathmod, 3, None)))
        self.assertEqual(self.resolve("onpath:1"), (True, (self.pathmod, 1, None)))

    def test_file_through_a_symlink_is_canonical(self):
        link = os.path.join(self.cwd, "linked.py")
        os.symlink(self.other, link)
        self.addCleanup(os.remove, link)
        self.assertEqual(
            self.resolve("linked.py:%d" % self.o["far-body"]),
            (True, (self.other, self.o["far-body"], None)),
        )

    def test_function_by_expression(self):
        later_def = self.m["later"] + FUNCTION_BREAK_OFFSET
        self.assertEqual(self.resolve("later"), (True, (self.main, later_def, "later")))
        # An alias resolves to the function's own name (pdb identifies it by co_name).
        self.assertEqual(self.resolve("alias"), (True, (self.main, later_def, "later")))
        meth = (True, (self.main, self.m["meth"] + FUNCTION_BREAK_OFFSET, "meth"))
        self.assertEqual(self.resolve("Thing.meth"), meth)
        self.assertEqual(self.resolve("Thing().meth"), meth)
        # module.func through the module object.
        far = (True, (self.other, self.o["far"] + FUNCTION_BREAK_OFFSET, "far"))
        self.assertEqual(self.resolve("other.far"), far)

    def test_function_by_def_search_before_it_exists(self):
        later = (True, (self.main, self.m["later"] + FUNCTION_BREAK_OFFSET, "later"))
        self.assertEqual(self.early["later"], later)
        self.assertEqual(self.early["'later'"], later)
        self.assertEqual(self.early["self.later"], later)
        meth = (True, (self.main, self.m["meth"] + FUNCTION_BREAK_OFFSET, "meth"))
        self.assertEqual(self.early["meth"], meth)
        # other.py is not imported yet: found as a file next to main.py, then searched.
        far = (True, (self.other, self.o["far"] + FUNCTION_BREAK_OFFSET, "far"))
        self.assertEqual(self.early["other.far"], far)
        # Neither an expression nor a def: pdb's message.
        for name in ("alias", "Thing", "nosuch"):
            self.assertEqual(
                self.early[name],
                (
                    False,
                    "The specified object %r is not a function or was not found along sys.path."
                    % name,
                ),
            )

    def test_function_without_a_frame(self):
        self.assertEqual(
            si.resolve_location(None, "later", self.root),
            (
                False,
                "The specified object 'later' is not a function or was not found along sys.path.",
            ),
        )
        self.assertEqual(
            si.resolve_location(None, "other.far", self.root),
            (True, (self.other, self.o["far"] + FUNCTION_BREAK_OFFSET, "far")),
        )

    def test_not_a_function(self):
        for name in ("len", "sys", "nosuch.thing"):
            with self.subTest(name=name):
                self.assertEqual(
                    self.resolve(name),
                    (
                        False,
                        "The specified object %r is not a function or was not found along sys.path."
                        % name,
                    ),
                )

    def test_no_such_file(self):
        self.assertEqual(
            self.resolve("nofile.py:3"), (False, "'nofile.py' not found from sys.path")
        )
        self.assertEqual(
            self.resolve("sub/nofile:3"), (False, "'sub/nofile' not found from sys.path")
        )

    def test_bad_line_number(self):
        self.assertEqual(self.resolve("other.py:x"), (False, "Bad lineno: x"))
        self.assertEqual(self.resolve("other.py:"), (False, "Bad lineno: "))
        self.assertEqual(self.resolve("other.py:1.5"), (False, "Bad lineno: 1.5"))

    def test_line_without_code_names_the_nearest_lines(self):
        comment = _support.line_of(RESOLVE_MAIN, "# a comment")
        self.assertEqual(
            self.resolve(str(comment)),
            (
                False,
                "Line %d of %s has no code: it is blank, a comment, or inside a statement "
                "(nearest lines with code: %d and %d)"
                % (comment, self.main, self.m["probe"], self.m["later"]),
            ),
        )
        inside = self.m["multi-inside"]
        self.assertEqual(
            self.resolve("main.py:%d" % inside),
            (
                False,
                "Line %d of %s has no code: it is blank, a comment, or inside a statement "
                "(nearest lines with code: %d and %d)"
                % (inside, self.main, self.m["multi"], self.m["import-other"]),
            ),
        )
        # After the last line with code, only the one before it is named.
        blank = self.m["last"] + 1
        self.assertEqual(
            self.resolve(str(blank)),
            (
                False,
                "Line %d of %s has no code: it is blank, a comment, or inside a statement "
                "(nearest lines with code: %d)" % (blank, self.main, self.m["last"]),
            ),
        )
        self.assertEqual(
            self.resolve("onpath.py:2", root=self.on_path),
            (
                False,
                "Line 2 of %s has no code: it is blank, a comment, or inside a statement "
                "(nearest lines with code: 1 and 3)" % self.pathmod,
            ),
        )

    def test_past_the_end_of_the_file(self):
        total = len(RESOLVE_MAIN.splitlines())
        for line in (total + 1, 1000):
            with self.subTest(line=line):
                self.assertEqual(
                    self.resolve(str(line)),
                    (
                        False,
                        "Line %d is past the end of %s, which has %d lines"
                        % (line, self.main, total),
                    ),
                )

    def test_file_that_does_not_compile(self):
        self.assertEqual(
            self.resolve("broken.py:1"), (False, "Cannot read Python code from %s" % self.broken)
        )

    def test_line_without_a_frame(self):
        self.assertEqual(
            si.resolve_location(None, "3", self.root), (False, "No file to set a breakpoint in")
        )

    def test_line_in_a_module_from_a_zip_archive(self):
        _, frame = zip_module_frame(self)
        path = frame.f_code.co_filename
        self.assertEqual(si.resolve_location(frame, "4", self.root), (True, (path, 4, None)))

    def test_module_name_next_to_a_directory_of_the_same_name(self):
        tmp = _support.make_tempdir(self)
        module = _support.write(os.path.join(tmp, "helpers.py"), "x = 1\ny = 2\n")
        os.mkdir(os.path.join(tmp, "helpers"))
        self.assertEqual(si.resolve_location(None, "helpers:2", tmp), (True, (module, 2, None)))


if __name__ == "__main__":
    unittest.main()
