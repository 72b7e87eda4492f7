"""Tests of ``sleepy_import.py``: the import hook that rewrites the user's modules, and its
disk cache.

The cache must never serve code that does not belong to the source being imported, must
survive anything found on disk (a corrupt entry, a directory it cannot write), and the import
machinery must behave as python3's: the same tracebacks (a syntax error in an imported module
included), packages, ``-m``, modules outside the project left alone. Programs run in a fresh
python3 through ``_driver.py`` (the hook installed as the agent installs it) and are compared
with plain python3 running the same program.
"""

import ast
import importlib.util
import io
import json
import marshal
import os
import sys
import textwrap
import types
import unittest
import warnings
from unittest import mock

try:
    from . import _support
except ImportError:  # run from inside the tests directory
    import _support

rw = _support.load_rewrite()
importer = _support.load_import()
DRIVER = os.path.join(_support.TESTS_DIR, "_driver.py")


class Project:
    def __init__(self, root):
        self.root = os.path.realpath(root)

    def is_user(self, filename, module_name):
        return os.path.realpath(filename).startswith(self.root + os.sep)


def rewriting(root, cache_dir, globs=(), source=None):
    cache = importer.Cache(cache_dir, b"") if cache_dir is not None else None
    return importer.Rewriting(rw, Project(root), list(globs), cache, source or rw.SOURCE)


def run_code(code):
    ns = {"__name__": "__sleepy_test_module__"}
    out = io.StringIO()
    saved = sys.stdout
    sys.stdout = out
    try:
        exec(code, ns)
    finally:
        sys.stdout = saved
    return out.getvalue()


PROGRAM = textwrap.dedent("""\
    total = 0
    for i in range(4):
        total += i
    print("total", total)
    """)


class CacheTest(unittest.TestCase):
    def setUp(self):
        self.dir = _support.make_tempdir(self)
        self.cache_dir = os.path.join(self.dir, "cache")
        self.path = os.path.join(self.dir, "mod.py")

    def entries(self):
        try:
            return sorted(os.listdir(self.cache_dir))
        except FileNotFoundError:
            return []

    def test_a_second_compile_is_served_from_the_cache(self):
        r = rewriting(self.dir, self.cache_dir)
        first = r.compile(PROGRAM.encode(), self.path)
        self.assertEqual((r.cache.hits, r.cache.misses), (0, 1))
        r2 = rewriting(self.dir, self.cache_dir)
        second = r2.compile(PROGRAM.encode(), self.path)
        self.assertEqual((r2.cache.hits, r2.cache.misses), (1, 0))
        self.assertEqual(first, second)
        self.assertEqual(r.markers[self.path], r2.markers[self.path])
        self.assertTrue(r2.markers[self.path])
        self.assertEqual(run_code(second), "total 6\n")

    def test_an_edited_source_is_never_served_stale_code(self):
        r = rewriting(self.dir, self.cache_dir)
        self.assertEqual(run_code(r.compile(PROGRAM.encode(), self.path)), "total 6\n")
        edited = PROGRAM.replace("range(4)", "range(5)")
        r = rewriting(self.dir, self.cache_dir)
        self.assertEqual(run_code(r.compile(edited.encode(), self.path)), "total 10\n")
        self.assertEqual(r.cache.misses, 1)
        # A one-byte change, same length, same everything else.
        edited = PROGRAM.replace("range(4)", "range(3)")
        self.assertEqual(run_code(rewriting(self.dir, self.cache_dir).compile(edited.encode(), self.path)), "total 3\n")
        self.assertEqual(len(self.entries()), 3)
        # And back: the first entry again.
        r = rewriting(self.dir, self.cache_dir)
        self.assertEqual(run_code(r.compile(PROGRAM.encode(), self.path)), "total 6\n")
        self.assertEqual(r.cache.hits, 1)

    def test_the_same_source_at_another_path_has_its_own_entry(self):
        other = os.path.join(self.dir, "other.py")
        r = rewriting(self.dir, self.cache_dir)
        a = r.compile(PROGRAM.encode(), self.path)
        b = r.compile(PROGRAM.encode(), other)
        self.assertEqual((a.co_filename, b.co_filename), (self.path, other))
        self.assertEqual(r.cache.misses, 2)

    def test_the_key_covers_the_rewriter_the_python_and_the_compiler_settings(self):
        base = rewriting(self.dir, self.cache_dir).cache.key(self.path, b"x")
        other_rewriter = rewriting(self.dir, self.cache_dir, source=rw.SOURCE + "\n# changed\n")
        self.assertNotEqual(other_rewriter.cache.key(self.path, b"x"), base)
        with mock.patch.object(importer.sys, "version", sys.version + " (another build)"):
            self.assertNotEqual(rewriting(self.dir, self.cache_dir).cache.key(self.path, b"x"), base)
        with mock.patch.object(importer, "compiler_settings", lambda: (2, True)):
            self.assertNotEqual(rewriting(self.dir, self.cache_dir).cache.key(self.path, b"x"), base)
        self.assertEqual(rewriting(self.dir, self.cache_dir).cache.key(self.path, b"x"), base)

    def test_compiler_settings_name_the_optimization_level_and_columns(self):
        self.assertEqual(importer.compiler_settings(), (sys.flags.optimize, True))

    def test_entries_are_written_whole_and_leave_no_temporary_file(self):
        r = rewriting(self.dir, self.cache_dir)
        r.compile(PROGRAM.encode(), self.path)
        (entry,) = self.entries()
        self.assertFalse(entry.endswith(".tmp"))
        with open(os.path.join(self.cache_dir, entry), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(importer.FORMAT))
        code, markers = marshal.loads(data[len(importer.FORMAT):])
        self.assertIsInstance(code, types.CodeType)
        self.assertEqual(markers, r.markers[self.path])

    def test_a_failed_rename_leaves_no_entry_and_no_temporary_file(self):
        r = rewriting(self.dir, self.cache_dir)
        with mock.patch.object(importer.os, "replace", side_effect=OSError("disk full")):
            code = r.compile(PROGRAM.encode(), self.path)
        self.assertEqual(run_code(code), "total 6\n")
        self.assertEqual(self.entries(), [])

    def test_the_entry_is_renamed_into_place(self):
        r = rewriting(self.dir, self.cache_dir)
        calls = []
        real = os.replace

        def replace(src, dst):
            calls.append((src, dst))
            # Whatever reads the final name before the rename sees nothing, not half a file.
            self.assertFalse(os.path.exists(dst))
            with open(src, "rb") as f:
                self.assertTrue(f.read().startswith(importer.FORMAT))
            return real(src, dst)

        with mock.patch.object(importer.os, "replace", replace):
            r.compile(PROGRAM.encode(), self.path)
        (src, dst), = calls
        self.assertTrue(src.startswith(dst) and src.endswith(".tmp"))

    def test_a_corrupt_entry_is_ignored_and_replaced(self):
        r = rewriting(self.dir, self.cache_dir)
        r.compile(PROGRAM.encode(), self.path)
        (entry,) = self.entries()
        path = os.path.join(self.cache_dir, entry)
        with open(path, "rb") as f:
            good = f.read()
        bad_payloads = [
            b"",
            b"garbage",
            importer.FORMAT,
            importer.FORMAT + b"\xff\x00garbage",
            good[: len(good) // 2],
            importer.FORMAT + marshal.dumps(42),
            importer.FORMAT + marshal.dumps((1, 2, 3)),
            importer.FORMAT + marshal.dumps(("not code", {})),
            importer.FORMAT + marshal.dumps((compile("print('wrong')", "x", "exec"), "not markers")),
            b"sleepy-rewrite-0\n" + good[len(importer.FORMAT):],
        ]
        for payload in bad_payloads:
            with self.subTest(payload=payload[:40]):
                with open(path, "wb") as f:
                    f.write(payload)
                r = rewriting(self.dir, self.cache_dir)
                self.assertEqual(run_code(r.compile(PROGRAM.encode(), self.path)), "total 6\n")
                self.assertEqual((r.cache.hits, r.cache.misses), (0, 1))
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), good)

    def test_an_unwritable_cache_directory_only_costs_a_rewrite(self):
        blocker = os.path.join(self.dir, "a-file")
        _support.write(blocker, "not a directory")
        for cache_dir in (os.path.join(blocker, "cache"), blocker):
            with self.subTest(cache_dir=cache_dir):
                for _ in range(2):
                    r = rewriting(self.dir, cache_dir)
                    self.assertEqual(run_code(r.compile(PROGRAM.encode(), self.path)), "total 6\n")
                    self.assertEqual((r.cache.hits, r.cache.misses), (0, 1))
                    self.assertTrue(r.markers[self.path])

    def test_an_unreadable_entry_is_a_miss(self):
        r = rewriting(self.dir, self.cache_dir)
        r.compile(PROGRAM.encode(), self.path)
        (entry,) = self.entries()
        os.replace(os.path.join(self.cache_dir, entry), os.path.join(self.dir, "moved"))
        os.mkdir(os.path.join(self.cache_dir, entry))  # a directory where the entry was
        r = rewriting(self.dir, self.cache_dir)
        self.assertEqual(run_code(r.compile(PROGRAM.encode(), self.path)), "total 6\n")
        self.assertEqual(r.cache.misses, 1)

    def test_no_cache_at_all(self):
        r = rewriting(self.dir, None)
        self.assertEqual(run_code(r.compile(PROGRAM.encode(), self.path)), "total 6\n")
        self.assertTrue(r.markers[self.path])

    def test_compiled_code_is_the_rewriters_relocated_code(self):
        source = "def f(xs):\n    for x in xs:\n        1 / x\n"
        code = rewriting(self.dir, self.cache_dir).compile(source.encode(), self.path)
        expected, _ = rw.rewrite_source(source, self.path)
        self.assertEqual(code, expected)

    def test_a_module_too_deep_to_rewrite_runs_as_written(self):
        depth = 12
        lines = ["n = 0"]
        for level in range(depth):
            lines.append("    " * level + "for i%d in range(1):" % level)
        lines.append("    " * depth + "n += 1")
        lines.append("print('deep', n)")
        source = "\n".join(lines) + "\n"
        with self.assertRaises(SyntaxError):
            rw.rewrite_source(source, self.path)
        self.assertEqual(run_code(compile(source, self.path, "exec")), "deep 1\n")
        for run in range(2):
            r = rewriting(self.dir, self.cache_dir)
            code = r.compile(source.encode(), self.path)
            self.assertEqual(run_code(code), "deep 1\n")
            self.assertEqual(r.markers[self.path], {})
            if run == 0:
                self.assertIn("statically nested blocks", r.fallbacks[self.path])
            else:
                self.assertEqual(r.cache.hits, 1)

    def test_errors_in_the_source_are_python3s(self):
        cases = [
            b"x = (1 +\n",
            b"def f():\n    for x in y:\n        return\n    break\n",
            b"for x in y:\n    pass\nreturn 1\n",
            b"with a:\n    async with b:\n        pass\n",
            b"x = 1\x00\n",
            b"match x:\n    case y:\n        pass\n    case 1:\n        pass\n",
            b"# -*- coding: latin-1 -*-\nx = '\xe9'\nfor i in 5 5:\n    pass\n",
        ]
        for source in cases:
            with self.subTest(source=source):
                with self.assertRaises((SyntaxError, ValueError)) as expected:
                    compile(source, self.path, "exec", dont_inherit=True)
                with self.assertRaises(type(expected.exception)) as got:
                    rewriting(self.dir, self.cache_dir).compile(source, self.path)
                self.assertEqual(str(got.exception), str(expected.exception))
                if isinstance(expected.exception, SyntaxError):
                    e, g = expected.exception, got.exception
                    self.assertEqual(
                        (g.filename, g.lineno, g.offset, g.end_lineno, g.end_offset, g.text),
                        (e.filename, e.lineno, e.offset, e.end_lineno, e.end_offset, e.text),
                    )

    def test_an_encoding_declaration_is_honoured(self):
        source = "# -*- coding: latin-1 -*-\nfor c in 'caf\xe9':\n    pass\nprint(c)\n".encode("latin-1")
        self.assertEqual(run_code(rewriting(self.dir, self.cache_dir).compile(source, self.path)), "\xe9\n")


class WarningTest(unittest.TestCase):
    """The compiler's warnings, as python3 gives them, on every compile."""

    SOURCE = "x = 1\nfor i in range(2):\n    if x is 1:\n        pass\n"

    def setUp(self):
        self.dir = _support.make_tempdir(self)
        self.cache_dir = os.path.join(self.dir, "cache")
        self.path = os.path.join(self.dir, "warns.py")

    def caught(self, fn, action="always"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            fn()
        return [(w.category, str(w.message), w.filename, w.lineno) for w in caught]

    def test_warnings_are_given_on_every_compile(self):
        expected = self.caught(lambda: compile(self.SOURCE, self.path, "exec", dont_inherit=True))
        self.assertEqual(len(expected), 1, expected)
        for run in range(3):
            r = rewriting(self.dir, self.cache_dir)
            code = []
            self.assertEqual(self.caught(lambda: code.append(r.compile(self.SOURCE.encode(), self.path))), expected)
            self.assertTrue(r.markers[self.path], "the module is rewritten all the same")
            run_code(code[0])
        self.assertEqual(r.cache.hits, 1)

    def test_warnings_follow_the_programs_filters(self):
        for action in ("ignore", "default", "once", "module"):
            with self.subTest(action=action):
                expected = self.caught(lambda: compile(self.SOURCE, self.path, "exec", dont_inherit=True), action)
                r = rewriting(self.dir, self.cache_dir)
                self.assertEqual(self.caught(lambda: r.compile(self.SOURCE.encode(), self.path), action), expected)

    def test_warnings_as_errors_are_python3s_syntax_error(self):
        sources = [self.SOURCE, "x = '\\d'\nfor i in range(2):\n    pass\n"]
        for source in sources:
            with self.subTest(source=source):
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    with self.assertRaises(Exception) as expected:
                        compile(source, self.path, "exec", dont_inherit=True)
                    for _ in range(2):
                        with self.assertRaises(type(expected.exception)) as got:
                            rewriting(self.dir, self.cache_dir).compile(source.encode(), self.path)
                        self.assertEqual(str(got.exception), str(expected.exception))
                        self.assertEqual(
                            getattr(got.exception, "lineno", None), getattr(expected.exception, "lineno", None)
                        )

    def test_warnings_come_before_a_syntax_error(self):
        source = "x = '\\d'\nfor i in range(2):\n    y = (\n"
        with warnings.catch_warnings(record=True) as expected:
            warnings.simplefilter("always")
            with self.assertRaises(SyntaxError) as e1:
                compile(source, self.path, "exec", dont_inherit=True)
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            with self.assertRaises(SyntaxError) as e2:
                rewriting(self.dir, self.cache_dir).compile(source.encode(), self.path)
        self.assertEqual(str(e1.exception), str(e2.exception))
        self.assertEqual([str(w.message) for w in got], [str(w.message) for w in expected])


class FinderTest(unittest.TestCase):
    """Which modules get the rewriting loader (find_spec only: nothing is executed)."""

    def setUp(self):
        self.dir = _support.make_tempdir(self)
        _support.write(os.path.join(self.dir, "pkg", "__init__.py"), "")
        _support.write(os.path.join(self.dir, "pkg", "mod.py"), PROGRAM)
        _support.write(os.path.join(self.dir, "top.py"), PROGRAM)
        os.makedirs(os.path.join(self.dir, "nspkg"))
        _support.write(os.path.join(self.dir, "nspkg", "inner.py"), PROGRAM)

    def finder(self, globs=()):
        return importer.RewritingFinder(rewriting(self.dir, None, globs))

    def test_the_users_modules_and_packages_are_rewritten(self):
        f = self.finder()
        for name, path, search in [
            ("top", os.path.join(self.dir, "top.py"), [self.dir]),
            ("pkg", os.path.join(self.dir, "pkg", "__init__.py"), [self.dir]),
            ("pkg.mod", os.path.join(self.dir, "pkg", "mod.py"), [os.path.join(self.dir, "pkg")]),
            ("nspkg.inner", os.path.join(self.dir, "nspkg", "inner.py"), [os.path.join(self.dir, "nspkg")]),
        ]:
            with self.subTest(name=name):
                spec = f.find_spec(name, search)
                self.assertIsInstance(spec.loader, importer.RewritingLoader)
                self.assertEqual(spec.origin, path)
                self.assertEqual(spec.name, name)
        spec = f.find_spec("pkg", [self.dir])
        self.assertEqual(spec.submodule_search_locations, [os.path.join(self.dir, "pkg")])

    def test_namespace_packages_and_missing_modules_are_left_to_python(self):
        f = self.finder()
        self.assertIsNone(f.find_spec("nspkg", [self.dir]))
        self.assertIsNone(f.find_spec("no_such_module", [self.dir]))

    def test_modules_outside_the_project_are_not_rewritten(self):
        f = self.finder()
        self.assertIsNone(f.find_spec("json", None))
        self.assertIsNone(f.find_spec("json.decoder", importlib.util.find_spec("json").submodule_search_locations))
        self.assertIsNone(f.find_spec("sys", None))  # built in

    def test_rewrite_globs_name_modules_or_paths(self):
        json_path = importlib.util.find_spec("json").submodule_search_locations
        f = self.finder(["json.dec*"])
        spec = f.find_spec("json.decoder", json_path)
        self.assertIsInstance(spec.loader, importer.RewritingLoader)
        self.assertIsNone(f.find_spec("json.encoder", json_path))
        f = self.finder(["*/json/encoder.py"])
        self.assertIsInstance(f.find_spec("json.encoder", json_path).loader, importer.RewritingLoader)
        self.assertIsNone(f.find_spec("json.decoder", json_path))

    def test_the_loader_rewrites_and_python_does_the_rest(self):
        r = rewriting(self.dir, None)
        spec = importer.RewritingFinder(r).find_spec("top", [self.dir])
        module = importlib.util.module_from_spec(spec)
        out = io.StringIO()
        saved = sys.stdout
        sys.stdout = out
        try:
            spec.loader.exec_module(module)
        finally:
            sys.stdout = saved
        self.assertEqual(out.getvalue(), "total 6\n")
        self.assertEqual(module.__file__, os.path.join(self.dir, "top.py"))
        self.assertEqual(module.total, 6)
        self.assertEqual([k for k in vars(module) if rw.is_hidden(k)], [])
        self.assertTrue(r.markers[os.path.join(self.dir, "top.py")])
        self.assertIn("for i in range(4):", spec.loader.get_source("top"))


class ProgramTest(unittest.TestCase):
    """Whole programs: the driver (hook installed) against plain python3."""

    def setUp(self):
        self.dir = _support.make_tempdir(self)
        self.cache = os.path.join(self.dir, ".cache")

    def files(self, files):
        for name, text in files.items():
            _support.write(os.path.join(self.dir, name), textwrap.dedent(text))

    def compare(self, args, runs=2):
        expected = _support.run_python(args, cwd=self.dir)
        reports = []
        for _ in range(runs):
            report = os.path.join(self.dir, ".report.json")
            got = _support.run_python(
                [DRIVER, "--cache", self.cache, "--report", report] + list(args), cwd=self.dir
            )
            self.assertEqual(got.stdout, expected.stdout)
            self.assertEqual(got.stderr, expected.stderr)
            self.assertEqual(got.returncode, expected.returncode)
            with open(report) as f:
                reports.append(json.load(f))
        return expected, reports

    def test_a_syntax_error_in_an_imported_module_is_reported_as_python3_does(self):
        self.files({
            "main.py": """\
                print("start")
                for i in range(1):
                    import helper
                """,
            "helper.py": """\
                x = 1
                for i in range(3):
                    y = (1 +
                """,
        })
        expected, _ = self.compare(["main.py"])
        self.assertIn("SyntaxError", expected.stderr)
        self.assertIn('File "%s", line 3' % os.path.join(self.dir, "main.py"), expected.stderr)

    def test_other_compile_errors_in_an_imported_module(self):
        for body in ("for x in y:\n    pass\nreturn 1\n", "match x:\n    case y:\n        pass\n    case 1:\n        pass\n",
                     "with a:\n    async with b:\n        pass\n", "x = 1\x00\n"):
            with self.subTest(body=body):
                self.files({"main.py": "import helper\n", "helper.py": body})
                self.compare(["main.py"], runs=1)

    def test_a_syntax_error_in_the_script(self):
        self.files({"main.py": "for i in range(3):\n    x = [1,\n"})
        self.compare(["main.py"])

    def test_an_exception_from_an_imported_module(self):
        self.files({
            "main.py": """\
                import helper
                helper.run([3, 2, 1, 0])
                """,
            "helper.py": """\
                import contextlib

                def run(xs):
                    with contextlib.nullcontext():
                        for x in xs:
                            match x:
                                case 0:
                                    raise ValueError("zero")
                                case _:
                                    print(10 // x)
                """,
        })
        expected, reports = self.compare(["main.py"])
        self.assertIn("ValueError: zero", expected.stderr)
        helper = os.path.join(self.dir, "helper.py")
        self.assertTrue(reports[0]["markers"][helper])
        self.assertEqual(reports[0]["misses"], 2)
        self.assertEqual((reports[1]["hits"], reports[1]["misses"]), (2, 0))

    def test_an_error_while_importing_a_module(self):
        self.files({
            "main.py": "import helper\n",
            "helper.py": """\
                for i in range(2):
                    with open("/no/such/file") as f:
                        pass
                """,
        })
        expected, _ = self.compare(["main.py"])
        self.assertIn("FileNotFoundError", expected.stderr)

    def test_packages_relative_imports_and_dash_m(self):
        self.files({
            "app/__init__.py": """\
                for name in ["a", "b"]:
                    pass
                VERSION = name
                """,
            "app/__main__.py": """\
                from . import core
                from .core import total
                print("main", __name__, total([1, 2, 3]))
                """,
            "app/core.py": """\
                from . import VERSION

                def total(xs):
                    t = 0
                    for x in xs:
                        t += x
                    return t

                print("core", __name__, VERSION, sorted(k for k in globals() if "sl_" in k))
                if __name__ == "__main__":
                    print("run as main", total(range(4)))
                """,
        })
        _, reports = self.compare(["-m", "app"])
        markers = reports[0]["markers"]
        self.assertEqual(markers[os.path.join(self.dir, "app", "__init__.py")], 1)
        self.assertEqual(markers[os.path.join(self.dir, "app", "__main__.py")], 0)  # nothing to mark
        self.assertEqual(markers[os.path.join(self.dir, "app", "core.py")], 1)
        self.compare(["-m", "app.core", "arg"])

    def test_modules_outside_the_project_are_imported_as_they_are(self):
        self.files({
            "main.py": """\
                import json, textwrap
                print(json.dumps([1]), textwrap.dedent("  x"))
                print(type(json.__spec__.loader).__name__, type(__spec__).__name__)
                """,
        })
        _, reports = self.compare(["main.py"])
        self.assertEqual(list(reports[0]["markers"]), [os.path.join(self.dir, "main.py")])

    def test_no_hidden_names_left_in_modules(self):
        self.files({
            "main.py": """\
                import helper
                print(sorted(k for k in vars(helper) if "sl_" in k))
                print(sorted(k for k in vars(helper.Table) if "sl_" in k))
                print(helper.Table.squares)
                """,
            "helper.py": """\
                import contextlib
                for i in range(3):
                    pass
                with contextlib.nullcontext():
                    pass
                match i:
                    case 2:
                        pass
                class Table:
                    squares = []
                    for i in range(3):
                        squares.append(i * i)
                """,
        })
        expected, _ = self.compare(["main.py"])
        self.assertEqual(expected.stdout, "[]\n[]\n[0, 1, 4]\n")

    def test_rewrite_globs_rewrite_library_modules(self):
        self.files({"main.py": "import colorsys, netrc\nprint(colorsys.rgb_to_hsv(0.2, 0.4, 0.4))\n"})
        for glob in ("colorsys", "*/colorsys.py"):
            with self.subTest(glob=glob):
                report = os.path.join(self.dir, ".report.json")
                got = _support.run_python([DRIVER, "--rewrite", glob, "--report", report, "main.py"], cwd=self.dir)
                expected = _support.run_python(["main.py"], cwd=self.dir)
                self.assertEqual((got.stdout, got.stderr, got.returncode), (expected.stdout, "", 0))
                with open(report) as f:
                    rewritten = json.load(f)["markers"]
                self.assertEqual(
                    sorted(os.path.basename(p) for p in rewritten), ["colorsys.py", "main.py"], rewritten
                )


if __name__ == "__main__":
    unittest.main()
