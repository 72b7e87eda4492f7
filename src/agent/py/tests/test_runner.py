"""Tests of ``sleepy_runner.py``: it must run the user's program the way python3 runs it.

Where python3 has an observable behaviour (sys.path[0], the text of a syntax error, the exit
status, the report of an uncaught exception), the test runs the same program under python3 in a
subprocess and compares. ``_agent_driver.py`` runs a program through the runner the way the
agent's ``run_program`` does.
"""

import builtins
import contextlib
import io
import os
import signal
import sys
import textwrap
import types
import unittest
from importlib.machinery import SourceFileLoader

try:
    from . import _support
except ImportError:  # run from inside the tests directory
    import _support

runner = _support.load("runner")

# Sleepy's own code around a user function, as in the agent: the exception is caught in a frame
# whose file name starts with "<sleepy".
OWN = _support.sleepy_code(
    textwrap.dedent("""\
        def catch(fn, *args):
            try:
                fn(*args)
            except BaseException as e:
                return e
            raise AssertionError("no exception")

        def call(fn, *args):
            return fn(*args)
        """),
    "runner_test",
)


def user_raises(message="boom"):
    raise ValueError(message)


def user_calls(fn, *args):
    return fn(*args)


def tb_frames(tb):
    out = []
    while tb is not None:
        out.append((tb.tb_frame.f_code.co_filename, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    return out


@contextlib.contextmanager
def saved_sys_path():
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


@contextlib.contextmanager
def fresh_main():
    """A fresh ``__main__`` module for run_script/run_module, as the agent's interpreter has;
    restores the test runner's ``__main__``, sys.argv, sys.path and the working directory."""
    saved_main = sys.modules["__main__"]
    saved_argv = list(sys.argv)
    saved_path = list(sys.path)
    saved_cwd = os.getcwd()
    saved_modules = set(sys.modules)
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    try:
        yield main
    finally:
        sys.modules["__main__"] = saved_main
        sys.argv[:] = saved_argv
        sys.path[:] = saved_path
        os.chdir(saved_cwd)
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]


@contextlib.contextmanager
def saved_last_exception():
    names = ("last_type", "last_value", "last_traceback", "excepthook")
    saved = {n: getattr(sys, n) for n in names if hasattr(sys, n)}
    try:
        yield
    finally:
        for n in names:
            if n in saved:
                setattr(sys, n, saved[n])
            elif hasattr(sys, n):
                delattr(sys, n)


class LoadedLikeTheAgentTest(unittest.TestCase):
    def test_code_is_sleepy_own(self):
        self.assertEqual(runner.SLEEPY_PREFIX, "<sleepy")
        self.assertEqual(runner.run_script.__code__.co_filename, "<sleepy>/runner.py")
        self.assertTrue(runner._outcome.__code__.co_filename.startswith(runner.SLEEPY_PREFIX))


class SetPath0Test(unittest.TestCase):
    def setUp(self):
        self.tmp = _support.make_tempdir(self)
        self.real = os.path.join(self.tmp, "real")
        self.script = _support.write(
            os.path.join(self.real, "prog.py"), "import sys\nprint(sys.path[0])\n"
        )
        # A symlinked directory and a symlinked script, both leading to real/prog.py.
        os.symlink(self.real, os.path.join(self.tmp, "linkdir"))
        os.symlink(self.script, os.path.join(self.tmp, "alias.py"))

    def python3_path0(self, args, cwd):
        out = _support.run_python(args, cwd=cwd)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip()

    def test_script_directory_is_the_real_one(self):
        for path in (
            self.script,
            os.path.join(self.tmp, "linkdir", "prog.py"),
            os.path.join(self.tmp, "alias.py"),
        ):
            with self.subTest(path=path), saved_sys_path():
                before = list(sys.path)
                runner.set_path0("script", path)
                self.assertEqual(sys.path[0], self.real)
                self.assertEqual(sys.path[1:], before)
                # python3 itself puts the same directory first.
                self.assertEqual(self.python3_path0([path], cwd=self.tmp), self.real)

    def test_module_mode_puts_the_working_directory_first(self):
        saved = os.getcwd()
        self.addCleanup(os.chdir, saved)
        os.chdir(os.path.join(self.tmp, "linkdir"))
        with saved_sys_path():
            before = list(sys.path)
            runner.set_path0("module", "prog")
            self.assertEqual(sys.path[0], os.getcwd())
            self.assertEqual(sys.path[0], self.real)
            self.assertEqual(sys.path[1:], before)
        self.assertEqual(self.python3_path0(["-m", "prog"], cwd=os.getcwd()), self.real)

    def test_safe_path_leaves_sys_path_alone(self):
        check = textwrap.dedent("""\
            import sys
            sys.path.insert(0, %r)
            import _support
            runner = _support.load("runner")
            del sys.path[0]
            before = list(sys.path)
            runner.set_path0("script", %r)
            runner.set_path0("module", "prog")
            print(sys.flags.safe_path, sys.path == before)
            """) % (_support.TESTS_DIR, self.script)
        for args, env in (
            (["-P", "-c", check], _support.clean_env()),
            (["-c", check], _support.clean_env(PYTHONSAFEPATH="1")),
        ):
            with self.subTest(args=args[0], env=env.get("PYTHONSAFEPATH")):
                out = _support.run_python(args, cwd=self.tmp, env=env)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stdout, "True True\n")
        # And python3 -P does not put the script's directory first either.
        self.assertNotEqual(self.python3_path0(["-P", self.script], cwd=self.tmp), self.real)


def python3_stderr(result):
    """What python3 printed on stderr, without a traceback header."""
    text = result.stderr
    header = "Traceback (most recent call last):\n"
    if text.startswith(header):
        text = text[len(header) :]
    return text.rstrip("\n")


class CompileScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = _support.make_tempdir(self)

    def script(self, name, source):
        return _support.write(os.path.join(self.tmp, name), source)

    def assert_same_as_python3(self, path):
        code, message = runner.compile_script(path)
        self.assertIsNone(code)
        result = _support.run_python([path], cwd=self.tmp)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(message, python3_stderr(result))
        return message

    def test_compiles_the_script_under_its_path(self):
        path = self.script("ok.py", "x = 6 * 7\ndef f():\n    return x\n")
        code, message = runner.compile_script(path)
        self.assertIsNone(message)
        self.assertEqual(code.co_filename, path)
        ns = {}
        exec(code, ns)
        self.assertEqual(ns["f"](), 42)

    def test_source_encodings_python3_accepts(self):
        cases = {
            "bom.py": b"\xef\xbb\xbfx = 'caf\xc3\xa9'\n",
            "latin.py": b"# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n",
        }
        for name, source in cases.items():
            with self.subTest(name):
                code, message = runner.compile_script(self.script(name, source))
                self.assertIsNone(message)
                ns = {}
                exec(code, ns)
                self.assertEqual(ns["x"], "caf\u00e9")

    def test_syntax_errors_read_as_python3_prints_them(self):
        cases = {
            "never_closed.py": "x = (\n",
            "in_function.py": "def f():\n    return 1 +* 2\n",
            "range.py": "f(a for a in b, c)\n",
            "assign.py": "def g():\n    f() = 1\n",
            "fstring.py": "x = f'{a b}'\n",
            "unterminated.py": "s = 'abc\n",
            "triple.py": "x = '''abc\n\n",
            "return.py": "return 5\n",
            "deep.py": "if 1:\n        x = = 1\n",
            "unindent.py": "if 1:\n    x = 1\n  y = 2\n",
            "tabs.py": "if 1:\n\tx = 1\n        y = 2\n",
            "formfeed.py": "\x0cx = = 1\n",
            "latin.py": b"# -*- coding: latin-1 -*-\nx = '\xe9' +\n",
            "bom.py": b"\xef\xbb\xbfx = (\n",
            "late.py": "a = 1\nb = 2\n\nprint(a b)\n",
        }
        for name, source in cases.items():
            with self.subTest(name):
                message = self.assert_same_as_python3(self.script(name, source))
                self.assertIn('File "%s", line' % os.path.join(self.tmp, name), message)

    def test_syntax_error_text_exactly(self):
        path = self.script("bad.py", "x = 1\ny = (\n")
        code, message = runner.compile_script(path)
        self.assertIsNone(code)
        self.assertEqual(
            message,
            "  File \"%s\", line 2\n    y = (\n        ^\nSyntaxError: '(' was never closed" % path,
        )

    def test_indentation_error_reads_as_python3_prints_it(self):
        self.assert_same_as_python3(self.script("indent.py", "if x:\npass\n"))

    # KNOWN DIFFERENCE (docs/limits.md): python3 reads the script through its file tokenizer, which reports undecodable
    # source as "SyntaxError: Non-UTF-8 code starting with '\xff' in file ... but no encoding
    # declared; see https://peps.python.org/pep-0263/ for details"; compile() of the bytes says
    # "(unicode error) 'utf-8' codec can't decode byte 0xff ..." instead.
    @unittest.expectedFailure
    def test_non_utf8_source_reads_as_python3_prints_it(self):
        self.assert_same_as_python3(self.script("latin.py", b"x = '\xff'\n"))

    # KNOWN DIFFERENCE (docs/limits.md): python3 says "SyntaxError: encoding problem: nonsense"; the runner says
    # '  File "...", line 0\nSyntaxError: unknown encoding: nonsense'.
    @unittest.expectedFailure
    def test_unknown_encoding_reads_as_python3_prints_it(self):
        self.assert_same_as_python3(self.script("cookie.py", b"# coding: nonsense\nx = 1\n"))

    # KNOWN DIFFERENCE (docs/limits.md): python3 3.11 prints '  File "...", line 1\n    x = 1\nSyntaxError: source code cannot
    # contain null bytes'; compile() of the bytes gives "SyntaxError: source code string cannot
    # contain null bytes" with no file or line.
    @unittest.expectedFailure
    def test_null_bytes_read_as_python3_prints_them(self):
        self.assert_same_as_python3(self.script("nul.py", b"x = 1\x00\n"))

    def test_null_bytes_are_refused(self):
        code, message = runner.compile_script(self.script("nul.py", b"x = 1\x00\n"))
        self.assertIsNone(code)
        self.assertIn("null bytes", message)

    def test_missing_file(self):
        path = os.path.join(self.tmp, "nofile.py")
        code, message = runner.compile_script(path)
        self.assertIsNone(code)
        self.assertEqual(message, "can't open file %r: [Errno 2] No such file or directory" % path)
        result = _support.run_python([path], cwd=self.tmp)
        self.assertEqual(result.returncode, 2)
        # python3 prefixes its program name: "python3: can't open file ...".
        self.assertEqual(result.stderr.rstrip("\n").split(": ", 1)[1], message)

    def test_a_directory_or_zip_is_a_path_entry(self):
        path = os.path.join(self.tmp, "adir")
        os.mkdir(path)
        self.assertTrue(runner.is_path_entry(path))
        self.assertFalse(runner.is_path_entry(self.script("plain.py", "x = 1\n")))


class ExitStatusTest(unittest.TestCase):
    def status(self, *args):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = runner.exit_status(SystemExit(*args))
        return status, err.getvalue()

    def test_none_and_integers(self):
        self.assertEqual(self.status(), (0, ""))
        self.assertEqual(self.status(None), (0, ""))
        self.assertEqual(self.status(0), (0, ""))
        self.assertEqual(self.status(3), (3, ""))
        self.assertEqual(self.status(255), (255, ""))
        self.assertEqual(self.status(-1), (-1, ""))
        self.assertEqual(self.status(True), (1, ""))
        self.assertIs(type(self.status(True)[0]), int)

    def test_a_string_is_printed_and_gives_1(self):
        self.assertEqual(self.status("fatal: no input"), (1, "fatal: no input\n"))

    def test_other_objects_are_printed_and_give_1(self):
        class Reason:
            def __str__(self):
                return "custom reason"

        self.assertEqual(self.status([1, 2]), (1, "[1, 2]\n"))
        self.assertEqual(self.status(1, 2), (1, "(1, 2)\n"))
        self.assertEqual(self.status(3.5), (1, "3.5\n"))
        self.assertEqual(self.status(Reason()), (1, "custom reason\n"))

    def test_str_that_raises_still_gives_1(self):
        class Broken:
            def __str__(self):
                raise RuntimeError("no str")

        status, _ = self.status(Broken())
        self.assertEqual(status, 1)

    def test_without_sys_stderr_writes_to_the_original_stderr(self):
        saved = sys.stderr, sys.__stderr__
        original = io.StringIO()
        try:
            sys.stderr, sys.__stderr__ = None, original
            status = runner.exit_status(SystemExit("gone"))
        finally:
            sys.stderr, sys.__stderr__ = saved
        self.assertEqual((status, original.getvalue()), (1, "gone\n"))

    def test_same_status_and_text_as_python3(self):
        for code in ("None", "0", "3", "255", "256", "-1", "True", "'bye'", "[1, 2]", "(1, 2)"):
            with self.subTest(code=code):
                result = _support.run_python(["-c", "import sys; sys.exit(%s)" % code])
                status, text = self.status(eval(code))
                self.assertEqual(status & 0xFF, result.returncode)
                self.assertEqual(text, result.stderr)

    def test_code_too_big_for_a_c_long_gives_minus_one(self):
        for code in (2**63, 2**64, -(2**70)):
            with self.subTest(code=code):
                result = _support.run_python(["-c", "import sys; sys.exit(%d)" % code])
                self.assertEqual(result.returncode, 255)
                self.assertEqual(self.status(code), (-1, ""))

    def test_status_is_a_c_int(self):
        for code, expected in ((2**40, 0), (2**31, -(2**31)), (2**32 + 7, 7)):
            with self.subTest(code=code):
                result = _support.run_python(["-c", "import sys; sys.exit(%d)" % code])
                self.assertEqual(result.returncode, expected & 0xFF)
                status, _ = self.status(code)
                self.assertEqual(status, expected)


class StripOwnFramesTest(unittest.TestCase):
    def test_drops_sleepy_frames_at_the_head(self):
        exc = OWN["catch"](OWN["call"], user_raises)
        self.assertEqual(
            [name for _, name in tb_frames(exc.__traceback__)], ["catch", "call", "user_raises"]
        )
        tb = runner.strip_own_frames(exc)
        self.assertIs(exc.__traceback__, tb)
        self.assertEqual(tb_frames(tb), [(__file__.replace(".pyc", ".py"), "user_raises")])

    def test_keeps_sleepy_frames_after_user_code(self):
        exc = OWN["catch"](user_calls, OWN["call"], user_raises)
        tb = runner.strip_own_frames(exc)
        self.assertEqual([name for _, name in tb_frames(tb)], ["user_calls", "call", "user_raises"])

    def test_only_sleepy_frames_or_none(self):
        exc = OWN["catch"](OWN["call"], int, "not a number")
        self.assertIsInstance(exc, ValueError)
        self.assertIsNone(runner.strip_own_frames(exc))
        self.assertIsNone(exc.__traceback__)
        self.assertIsNone(runner.strip_own_frames(ValueError("never raised")))

    def test_user_frames_only_are_untouched(self):
        try:
            user_raises()
        except ValueError as e:
            exc = e
        tb = exc.__traceback__
        self.assertIs(runner.strip_own_frames(exc), tb)


class ReportUncaughtTest(unittest.TestCase):
    def test_calls_the_hook_with_the_stripped_traceback_and_sets_last(self):
        exc = OWN["catch"](OWN["call"], user_calls, user_raises, "bad value")
        calls = []

        def hook(t, v, tb):
            calls.append((t, v, tb, sys.last_type, sys.last_value, sys.last_traceback))
            print("hook saw", t.__name__, file=sys.stderr)

        err = io.StringIO()
        with saved_last_exception(), contextlib.redirect_stderr(err):
            sys.excepthook = hook
            description, status = runner.report_uncaught(exc)
            self.assertIsNone(status)
            last = (sys.last_type, sys.last_value, sys.last_traceback)
        self.assertEqual(description, "ValueError: bad value")
        self.assertEqual(err.getvalue(), "hook saw ValueError\n")
        self.assertEqual(len(calls), 1)
        t, v, tb, last_type, last_value, last_tb = calls[0]
        self.assertIs(t, ValueError)
        self.assertIs(v, exc)
        self.assertIs(tb, exc.__traceback__)
        self.assertEqual([name for _, name in tb_frames(tb)], ["user_calls", "user_raises"])
        # sys.last_* are set before the hook runs, as python3 does.
        self.assertEqual((last_type, last_value, last_tb), (ValueError, exc, tb))
        self.assertEqual(last, (ValueError, exc, tb))

    def test_default_hook_prints_the_traceback_without_sleepy_frames(self):
        exc = OWN["catch"](OWN["call"], user_raises, "printed")
        err = io.StringIO()
        with saved_last_exception(), contextlib.redirect_stderr(err):
            sys.excepthook = sys.__excepthook__
            description, status = runner.report_uncaught(exc)
            self.assertIsNone(status)
        self.assertEqual(description, "ValueError: printed")
        text = err.getvalue()
        self.assertTrue(text.startswith("Traceback (most recent call last):\n"), text)
        self.assertNotIn("<sleepy", text)
        self.assertIn("raise ValueError(message)\nValueError: printed\n", text)

    def test_description_is_pdb_one_line(self):
        exc = OWN["catch"](OWN["call"], lambda: {}["key"])
        with saved_last_exception(), contextlib.redirect_stderr(io.StringIO()):
            sys.excepthook = lambda *a: None
            self.assertEqual(runner.report_uncaught(exc), ("KeyError: 'key'", None))
        self.assertEqual(
            runner.describe(SyntaxError("bad", ("f.py", 1, 1, "x\n"))), "SyntaxError: bad"
        )


class FlushStdTest(unittest.TestCase):
    def test_flushes_buffered_streams_and_survives_broken_ones(self):
        raw = io.BytesIO()
        buffered = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")

        class Broken(io.StringIO):
            def flush(self):
                raise OSError("broken pipe")

        with contextlib.redirect_stdout(buffered), contextlib.redirect_stderr(Broken()):
            print("pending")
            self.assertEqual(raw.getvalue(), b"")
            runner.flush_std()
            self.assertEqual(raw.getvalue(), b"pending\n")
        with contextlib.redirect_stdout(None), contextlib.redirect_stderr(None):
            runner.flush_std()


class RunOutcomeTest(unittest.TestCase):
    """run_script/run_module: the outcome, and start() before the program, stop() after it."""

    def setUp(self):
        self.tmp = _support.make_tempdir(self)
        self.events = []

    def start(self):
        self.events.append("start")

    def stop(self):
        self.events.append("stop")

    def run_script(self, body):
        path = _support.write(os.path.join(self.tmp, "prog.py"), textwrap.dedent(body))
        code, message = runner.compile_script(path)
        self.assertIsNone(message)
        with fresh_main() as main:
            main.events = self.events
            outcome = runner.run_script(path, code, self.start, self.stop)
            globs = dict(main.__dict__)
        return path, outcome, globs

    def test_ok(self):
        path, outcome, globs = self.run_script("""\
            events.append("body " + __name__)
            result = 6 * 7
            """)
        self.assertEqual(outcome, ("ok", None))
        self.assertEqual(self.events, ["start", "body __main__", "stop"])
        self.assertEqual(globs["result"], 42)
        self.assertEqual(globs["__file__"], path)
        self.assertIsNone(globs["__cached__"])
        loader = globs["__loader__"]
        self.assertIsInstance(loader, SourceFileLoader)
        self.assertEqual((loader.name, loader.path), ("__main__", path))

    def test_exit(self):
        _, (kind, value), _ = self.run_script("""\
            import sys
            events.append("body")
            sys.exit(5)
            """)
        self.assertEqual(kind, "exit")
        self.assertIsInstance(value, SystemExit)
        self.assertEqual(value.code, 5)
        self.assertEqual(runner.exit_status(value), 5)
        self.assertEqual(self.events, ["start", "body", "stop"])

    def test_exception(self):
        path, (kind, value), _ = self.run_script("""\
            events.append("body")
            def fail():
                raise LookupError("missing")
            fail()
            """)
        self.assertEqual(kind, "exception")
        self.assertIsInstance(value, LookupError)
        self.assertEqual(self.events, ["start", "body", "stop"])
        frames = tb_frames(value.__traceback__)
        # Caught in the runner, so the runner's frames come first ...
        self.assertTrue(frames[0][0].startswith("<sleepy"), frames)
        # ... and stripping them leaves exactly python3's traceback.
        tb = runner.strip_own_frames(value)
        self.assertEqual(tb_frames(tb), [(path, "<module>"), (path, "fail")])
        self.assertEqual(tb.tb_lineno, 4)
        self.assertEqual(tb.tb_next.tb_lineno, 3)

    def test_keyboard_interrupt_is_an_exception_outcome(self):
        _, (kind, value), _ = self.run_script("raise KeyboardInterrupt\n")
        self.assertEqual(kind, "exception")
        self.assertIsInstance(value, KeyboardInterrupt)
        self.assertEqual(self.events, ["start", "stop"])

    def run_module(self, name, body):
        pkg = os.path.join(self.tmp, name)
        _support.write(os.path.join(pkg, "__init__.py"), "")
        path = _support.write(os.path.join(pkg, "__main__.py"), textwrap.dedent(body))
        with fresh_main() as main:
            main.events = self.events
            sys.path.insert(0, self.tmp)
            outcome = runner.run_module(name, self.start, self.stop)
            globs = dict(main.__dict__)
            argv0 = sys.argv[0]
        return path, outcome, globs, argv0

    def test_module_ok(self):
        path, outcome, globs, argv0 = self.run_module(
            "sleepy_test_pkg_ok",
            """\
            events.append("body " + __name__ + " " + __spec__.name)
            """,
        )
        self.assertEqual(outcome, ("ok", None))
        self.assertEqual(
            self.events, ["start", "body __main__ sleepy_test_pkg_ok.__main__", "stop"]
        )
        self.assertEqual(globs["__file__"], path)
        self.assertEqual(argv0, path)

    def test_module_exit(self):
        _, (kind, value), _, _ = self.run_module(
            "sleepy_test_pkg_exit", "events.append('body')\nraise SystemExit('done')\n"
        )
        self.assertEqual(kind, "exit")
        self.assertEqual(value.code, "done")
        self.assertEqual(self.events, ["start", "body", "stop"])

    def test_module_exception(self):
        path, (kind, value), _, _ = self.run_module(
            "sleepy_test_pkg_exc", "events.append('body')\n1 / 0\n"
        )
        self.assertEqual(kind, "exception")
        self.assertIsInstance(value, ZeroDivisionError)
        self.assertEqual(self.events, ["start", "body", "stop"])
        # python3 -m shows runpy's frames too; only sleepy's are stripped.
        frames = tb_frames(runner.strip_own_frames(value))
        self.assertEqual(
            frames,
            [
                ("<frozen runpy>", "_run_module_as_main"),
                ("<frozen runpy>", "_run_code"),
                (path, "<module>"),
            ],
        )

    def test_missing_module_is_an_exit(self):
        with fresh_main():
            kind, value = runner.run_module("sleepy_no_such_module", self.start, self.stop)
        self.assertEqual(kind, "exit")
        self.assertEqual(value.code, "%s: No module named sleepy_no_such_module" % sys.executable)
        self.assertEqual(self.events, ["start", "stop"])


class SameAsPython3Test(unittest.TestCase):
    """A program run through the runner (as the agent runs it) prints exactly what python3
    prints, on stdout and stderr, and ends with the same status."""

    maxDiff = None

    def setUp(self):
        self.tmp = _support.make_tempdir(self)

    def compare(self, body, args=(), files=None, module=None, signal_death=False):
        for name, text in (files or {}).items():
            _support.write(os.path.join(self.tmp, name), textwrap.dedent(text))
        if module is None:
            target = [_support.write(os.path.join(self.tmp, "prog.py"), textwrap.dedent(body))]
        else:
            target = ["-m", module]
        expected = _support.run_python(target + list(args), cwd=self.tmp)
        got = _support.run_driver(target + list(args), cwd=self.tmp)
        self.assertEqual(got.stderr, expected.stderr)
        self.assertEqual(got.stdout, expected.stdout)
        self.assertEqual(got.returncode, expected.returncode)
        if signal_death:
            self.assertEqual(expected.returncode, -signal.SIGINT)
        return expected

    def test_exception_in_nested_calls(self):
        out = self.compare("""\
            print("started")
            def inner(x):
                return {"a": 1}[x]
            def outer():
                return inner("b")
            outer()
            """)
        self.assertIn("KeyError: 'b'", out.stderr)

    def test_raise_from(self):
        self.compare("""\
            def parse(text):
                try:
                    return int(text)
                except ValueError as e:
                    raise RuntimeError("cannot parse %r" % text) from e
            parse("x")
            """)

    def test_implicit_context_and_suppressed_context(self):
        self.compare("""\
            def cleanup():
                raise OSError("cleanup failed")
            try:
                1 / 0
            except ZeroDivisionError:
                try:
                    cleanup()
                except OSError:
                    raise KeyError("k") from None
            """)
        self.compare("""\
            try:
                [][1]
            except IndexError:
                {}.pop("missing")
            """)

    def test_exception_from_an_imported_module_next_to_the_script(self):
        self.compare(
            "import helper\nhelper.run(3)\n",
            files={
                "helper.py": (
                    "def run(n):\n"
                    "    if n:\n"
                    "        return run(n - 1)\n"
                    "    assert n, 'reached zero'\n"
                )
            },
        )

    def test_exception_group(self):
        self.compare("""\
            def f():
                raise ExceptionGroup("many", [ValueError(1), TypeError(2)])
            f()
            """)

    def test_syntax_error_raised_by_the_program(self):
        self.compare('exec("x = (1,\\n")\n')

    def test_custom_excepthook(self):
        self.compare("""\
            import sys
            def hook(t, v, tb):
                print("custom:", t.__name__, v, tb.tb_frame.f_code.co_name, tb.tb_lineno,
                      sys.last_value is v, file=sys.stderr)
            sys.excepthook = hook
            def f():
                raise ValueError("seen by the hook")
            f()
            """)

    def test_directory_and_zip_with_a_main_module(self):
        import zipfile

        _support.write(os.path.join(self.tmp, "app", "__main__.py"), "import sys\nprint('app', sys.argv, __name__)\n1/0\n")
        os.mkdir(os.path.join(self.tmp, "empty"))
        archive = os.path.join(self.tmp, "app.zip")
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("__main__.py", "import sys\nprint('zipped', sys.argv[1:], sys.path[0].endswith('app.zip'))\n")
        for target in (["app", "x"], ["empty"], ["app.zip", "y"]):
            with self.subTest(target=target):
                expected = _support.run_python(target, cwd=self.tmp)
                got = _support.run_driver(target, cwd=self.tmp)
                self.assertEqual(got.stdout, expected.stdout)
                self.assertEqual(got.stderr, expected.stderr)
                self.assertEqual(got.returncode, expected.returncode)

    def test_keyboard_interrupt(self):
        self.compare("print('before')\nraise KeyboardInterrupt\n", signal_death=True)

    def test_exits(self):
        self.compare("import sys\nprint('out')\nsys.exit('fatal: bad input')\n")
        self.compare("import sys\nsys.exit(4)\n")
        self.compare("raise SystemExit\n")
        self.compare("import sys\nprint(sys.argv[1:], __name__, __file__)\n", args=["a", "-b"])

    def test_module_mode(self):
        files = {
            "pkg/__init__.py": "def f():\n    raise KeyError('k')\n",
            "pkg/__main__.py": (
                "import pkg, sys\n"
                "print(sys.argv)\n"
                "try:\n"
                "    pkg.f()\n"
                "except KeyError:\n"
                "    raise RuntimeError('during')\n"
            ),
        }
        self.compare(None, files=files, module="pkg", args=["x"])
        self.compare(None, module="sleepy_no_such_module")
        self.compare(None, files={"plainpkg/__init__.py": ""}, module="plainpkg")
        self.compare(
            None, files={"badpkg/__init__.py": "import nothing_here\n"}, module="badpkg.sub"
        )
        self.compare(
            None,
            files={"single.py": "import sys\nprint(__name__, sys.argv)\nassert False, 'single'\n"},
            module="single",
            args=["1"],
        )

    def test_excepthook_that_raises(self):
        self.compare("""\
            import sys
            def hook(t, v, tb):
                1 / 0
            sys.excepthook = hook
            raise ValueError("original")
            """)

    def test_excepthook_that_exits(self):
        self.compare("""\
            import sys
            def hook(t, v, tb):
                print("hook", t.__name__, file=sys.stderr)
                sys.exit(3)
            sys.excepthook = hook
            raise ValueError("original")
            """)

    def test_excepthook_set_to_none(self):
        self.compare("import sys\nsys.excepthook = None\nraise ValueError('x')\n")

    def test_excepthook_deleted(self):
        self.compare("import sys\ndel sys.excepthook\nraise ValueError('x')\n")


class EventsThroughTheDriverTest(unittest.TestCase):
    def test_start_before_the_program_stop_after(self):
        tmp = _support.make_tempdir(self)
        path = _support.write(
            os.path.join(tmp, "prog.py"), "print('program')\nraise SystemExit(7)\n"
        )
        out = _support.run_driver([path], env=_support.clean_env(SLEEPY_DRIVER_EVENTS="1"))
        self.assertEqual(out.stdout, "<start>\nprogram\n<stop>\n")
        self.assertEqual(out.returncode, 7)


class InstallHooksTest(unittest.TestCase):
    """install_hooks, in a child process: it replaces sys.breakpointhook and registers a fork
    handler for good."""

    CHILD = textwrap.dedent("""\
        import os, sys
        sys.path.insert(0, %r)
        import _support
        runner = _support.load("runner")

        class Native:
            def __init__(self):
                self.calls = []
            def breakpoint_called(self):
                self.calls.append("breakpoint")
            def forked_child(self):
                self.calls.append("forked")

        native = Native()
        runner.install_hooks(native)
        result = breakpoint("ignored", key="ignored")
        print("after breakpoint:", native.calls, result)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(write, repr(native.calls).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        print("child:", os.read(read, 1000).decode())
        print("parent:", native.calls)
        """) % (_support.TESTS_DIR,)

    def test_breakpoint_and_fork(self):
        out = _support.run_python(["-c", self.CHILD])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(
            out.stdout,
            "after breakpoint: ['breakpoint'] None\n"
            "child: ['breakpoint', 'forked']\n"
            "parent: ['breakpoint']\n",
        )

    def test_pythonbreakpoint_0_disables_breakpoint(self):
        out = _support.run_python(["-c", self.CHILD], env=_support.clean_env(PYTHONBREAKPOINT="0"))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.splitlines()[0], "after breakpoint: [] None")


if __name__ == "__main__":
    unittest.main()
