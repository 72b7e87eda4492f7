"""Tests of ``sleepy_snapshot.py``: capture a running program's state, restore it elsewhere.

Round trips are real: one process runs a program and captures at a line (with a trace hook, on
the real frames: see snapshot_fixtures/snapdriver.py), a second process, which can't import the
program, restores the bytes and checks what it gets. check_stack and the refusals of capture
run in this process on real frames of programs written to temporary files.
"""

import json
import os
import socket
import sys
import textwrap
import threading
import unittest

try:
    from . import _support
except ImportError:  # run from inside the tests directory
    import _support

snap = _support.load("snapshot")
DRIVER = os.path.join(_support.TESTS_DIR, "snapshot_fixtures", "snapdriver.py")


def dedent(text):
    return textwrap.dedent(text).lstrip("\n")


class RoundTrip(unittest.TestCase):
    """Helpers: write a program, capture it in one process, restore in another."""

    def setUp(self):
        self.dir = _support.make_tempdir(self)
        self.prog_dir = os.path.join(self.dir, "prog")

    def write_prog(self, text, name="job.py"):
        return _support.write(os.path.join(self.prog_dir, name), dedent(text))

    def capture(self, text, mark, hit=1, extra_files=(), stop=False):
        """Runs the program, capturing at the line marked ``# @mark``; returns (snapshot path,
        the program's stdout)."""
        for name, body in extra_files:
            self.write_prog(body, name)
        prog = self.write_prog(text)
        line = _support.marks(dedent(text))[mark]
        out = os.path.join(self.dir, "job.sleepy")
        r = _support.run_python([DRIVER, "capture", prog, "%d:%d%s" % (line, hit, "!" if stop else ""), out], cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out, r.stdout

    def reasons(self, out, kind):
        path = out + "." + kind
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def restore(self, out, check, status=0):
        check_file = _support.write(os.path.join(self.dir, "check.py"), dedent(check))
        r = _support.run_python([DRIVER, "restore", out, check_file], cwd=self.dir)
        self.assertEqual(r.returncode, status, r.stdout + r.stderr)
        return r.stdout


PROGRAM = """\
import random
import os.path


class Point:
    kind = "point"

    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm(self):
        return abs(self.x) + abs(self.y)

    @property
    def total(self):
        return self.x + self.y

    @classmethod
    def origin(cls):
        return cls(0, 0)

    @staticmethod
    def twice(v):
        return 2 * v


class Child(Point):
    __slots__ = ("tag",)

    def norm(self):
        return super().norm() * 10


class Node:
    registry = []

    def __init__(self, v):
        self.v = v
        self.me = self
        Node.registry.append(self)


def make_counter():
    n = 0

    def inc():
        nonlocal n
        n += 1
        return n
    return inc


def fact(k):
    return 1 if k <= 1 else k * fact(k - 1)


def work(items, shared):
    total = 0
    sq = lambda v: v * v
    pair = (items, shared)
    for it in items:
        total += sq(it)  # @here
    return total


shared = [1, 2, 3]
alias = shared
counter = make_counter()
counter()
counter()
p = Child(3, -4)
p.tag = "c"
node = Node(5)
nums = [random.random() for _ in range(3)]
where = os.path
print(work(shared, alias))
print("NEXT", repr(random.random()), repr(random.random()))
"""


class RoundTripTest(RoundTrip):
    def test_state_round_trip(self):
        out, stdout = self.capture(PROGRAM, "here", hit=2)
        self.assertEqual(self.reasons(out, "reasons"), [])
        self.assertIsNone(self.reasons(out, "unsaveable"))
        got = self.restore(out, """
            import random, os.path
            fr = frames[-1]
            loc = fr["locals"]
            assert [f["qualname"] for f in frames] == ["<module>", "work"], frames
            assert frames[0]["locals"] is main.__dict__ and frames[0]["module"] == "__main__"
            assert fr["line"] == %d and fr["co_name"] == "work" and len(fr["code_hash"]) == 64
            assert r["extra"] == {"tick": 42, "stdout": b"so far"}
            # identity: one list under four names, across a frame and the module
            assert main.shared is main.alias is loc["items"] is loc["shared"] is loc["pair"][0]
            assert loc["it"] == 2 and loc["total"] == 1 and loc["sq"](3) == 9
            # the hidden iterator of the rewritten loop shape: a list iterator over the same list
            assert main.counter() == 3 and main.counter() == 4
            assert main.fact(5) == 120 and main.fact.__module__ == "__main__"
            p = main.p
            assert isinstance(p, main.Child) and isinstance(p, main.Point) and p.tag == "c"
            assert type(p) is main.Child and main.Child.__mro__[1] is main.Point
            assert p.norm() == 70 and p.total == -1 and main.Point.twice(4) == 8
            assert type(main.Child.origin()) is main.Child and main.Point.kind == "point"
            assert main.node.me is main.node and main.Node.registry == [main.node]
            assert isinstance(main.node, main.Node) and main.Node.__qualname__ == "Node"
            assert main.where is os.path and main.random is random
            assert main.work.__globals__ is main.__dict__
            assert main.__spec__ is None and main.__loader__ is None  # as make_module made them
            print("NEXT", repr(random.random()), repr(random.random()))
            """ % _support.marks(PROGRAM)["here"])
        self.assertIn(got.strip(), stdout.splitlines())

    def test_closure_cells_keep_identity(self):
        out, stdout = self.capture("""
            def outer():
                n = 10
                def bump():
                    nonlocal n
                    n += 1
                    return n
                peek = lambda: n
                bump()
                return bump, peek  # @here

            print(outer()[0]())
            """, "here")
        got = self.restore(out, """
            loc = frames[-1]["locals"]
            assert loc["n"] == 11
            assert frames[-1]["cells"]["n"] is loc["bump"].__closure__[0]
            assert loc["bump"]() == 12 and loc["peek"]() == 12
            print("ok")
            """)
        self.assertEqual(got.strip(), "ok")

    def test_user_helper_module_and_library_objects(self):
        out, _ = self.capture("""
            import collections, dataclasses, functools, helper

            @dataclasses.dataclass
            class Item:
                name: str
                qty: int = 1
                tags: list = dataclasses.field(default_factory=list)

            Pair = collections.namedtuple("Pair", "a b")

            @functools.lru_cache(maxsize=None)
            def cached(v):
                return v * 3

            def main():
                item = Item("x", 2)
                pair = Pair(1, 2)
                dq = collections.deque([1, 2])
                h = helper.Helper(item)
                view = {"k": 1}.keys()
                return item  # @here

            main()
            """, "here", extra_files=[("helper.py", """
            class Helper:
                def __init__(self, ref):
                    self.ref = ref
                def describe(self):
                    return "helper of %s" % self.ref.name
            """)])
        self.assertIsNone(self.reasons(out, "unsaveable"))
        got = self.restore(out, """
            import dataclasses
            loc = frames[-1]["locals"]
            item = loc["item"]
            assert isinstance(item, main.Item) and dataclasses.asdict(item) == {
                "name": "x", "qty": 2, "tags": []}, dataclasses.asdict(item)
            assert main.Item("y") == main.Item("y", 1, [])
            assert loc["pair"] == main.Pair(1, 2) and loc["pair"].b == 2
            assert main.cached(2) == 6 and list(loc["view"]) == ["k"]
            assert loc["h"].ref is item and loc["h"].describe() == "helper of x"
            assert type(loc["h"]) is mods["helper"].Helper and main.helper is mods["helper"]
            print("ok")
            """)
        self.assertEqual(got.strip(), "ok")


FILES = """\
import os


def main(base):
    fr = open(os.path.join(base, "in.txt"))
    first = fr.readline()
    fw = open(os.path.join(base, "out.txt"), "w")
    fw.write("written before\\n")
    fb = open(os.path.join(base, "in.txt"), "rb")
    fb.read(3)
    closed = open(os.path.join(base, "in.txt"))
    closed.close()
    count = 0
    for line in fr:
        count += 1  # @here
    fw.write("after\\n")
    fw.close()
    return count


print(main(os.path.dirname(os.path.abspath(__file__))))
"""


class FilesTest(RoundTrip):
    def capture_files(self):
        lines = "".join("line %d é\n" % i for i in range(2000))
        _support.write(os.path.join(self.prog_dir, "in.txt"), lines)
        out, stdout = self.capture(FILES, "here", hit=3, stop=True)
        self.assertIsNone(self.reasons(out, "unsaveable"))
        return out

    def test_files_reopen_at_their_positions(self):
        out = self.capture_files()
        got = self.restore(out, """
            loc = frames[-1]["locals"]
            fr, fw, fb = loc["fr"], loc["fw"], loc["fb"]
            assert loc["line"] == "line 3 é\\n", loc["line"]
            assert next(fr) == "line 4 é\\n"
            assert fr.name.endswith("in.txt") and fr.mode == "r" and fr.encoding == loc["fr"].encoding
            assert fb.read(4) == b"e 0 " and fb.mode == "rb"
            assert loc["closed"].closed
            fw.write("after\\n")
            fw.close()
            with open(fw.name) as f:
                assert f.read() == "written before\\nafter\\n"
            print("ok")
            """)
        self.assertEqual(got.strip(), "ok")

    def test_changed_or_deleted_file_is_named(self):
        out = self.capture_files()
        with open(os.path.join(self.prog_dir, "in.txt"), "a") as f:
            f.write("more\n")
        os.remove(os.path.join(self.prog_dir, "out.txt"))
        got = self.restore(out, "print('restored')", status=3)
        self.assertIn("CannotResume", got)
        self.assertIn("in.txt", got)
        self.assertIn("changed since the suspend", got)
        self.assertIn("variable fr", got)
        self.assertIn("out.txt", got)
        self.assertIn("is gone", got)


class SummaryTest(RoundTrip):
    def test_summary_runs_no_program_code(self):
        out, _ = self.capture("""
            import os

            class Trap:
                def __setstate__(self, state):
                    open(state["path"], "w").close()

            def main():
                t = Trap()
                t.path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "RAN")
                text = "tab\\there\\x1b[31m" + "x" * 500
                return t  # @here

            main()
            """, "here")
        # the program is gone: nothing of it can be imported
        os.rename(self.prog_dir, self.prog_dir + ".moved")
        r = _support.run_python([DRIVER, "summary", out], cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "RAN")))
        self.assertEqual([f["qualname"] for f in s["frames"]], ["<module>", "main"])
        self.assertEqual(s["extra"]["tick"], 42)
        loc = {name: (t, rep) for name, t, rep in s["frames"][1]["locals"]}
        self.assertEqual(loc["t"][0], "__main__.Trap")
        self.assertEqual(loc["text"][0], "str")
        self.assertLessEqual(len(loc["text"][1]), 200)
        self.assertIn("\\t", loc["text"][1])
        self.assertNotIn("\x1b", loc["text"][1])
        mod_names = [n for n, _, _ in s["frames"][0]["locals"]]
        self.assertIn("Trap", mod_names)
        self.assertNotIn("os", mod_names)
        # whereas restoring does run the program's __setstate__: the trap is real
        os.rename(self.prog_dir + ".moved", self.prog_dir)
        self.restore(out, "print('x')")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "RAN")))


class UnsaveableTest(RoundTrip):
    def test_every_unsaveable_value_is_named(self):
        out, _ = self.capture("""
            import socket, threading

            lock = threading.Lock()
            free = threading.Lock()

            class Conn:
                def __init__(self):
                    self.sock = socket.socket()

            def gen():
                yield 1

            def inner(g):
                c = Conn()
                return c  # @here

            def outer():
                it = gen()
                with lock:
                    for x in [1]:
                        inner(it)
                return x

            outer()
            """, "here")
        self.assertFalse(os.path.exists(out))
        reasons = self.reasons(out, "unsaveable")
        text = "\n".join(reasons)
        self.assertIn("module __main__, global lock: a held _thread.lock can't be saved", text)
        self.assertNotIn("global free", text)
        self.assertIn("frame outer at job.py:", text)
        self.assertIn("variable it: a generator (gen) can't be saved", text)
        self.assertIn("frame inner at job.py:", text)
        self.assertIn("variable g: a generator (gen)", text)
        self.assertIn("variable c (at c.sock): a socket.socket can't be saved", text)
        self.assertEqual(len(reasons), 4, reasons)


# -------------------------------------------------------------------------------------------
# check_stack on real frames in this process


class CheckStackTest(unittest.TestCase):
    counter = 0

    def setUp(self):
        self.dir = _support.make_tempdir(self)

    def stack(self, text, mark, entry="main", hit=1):
        """check_stack's reasons at the ``hit``-th line event on the line marked ``# @mark``."""
        text = dedent(text)
        CheckStackTest.counter += 1
        name = "sleepy_snap_job%d" % CheckStackTest.counter
        path = _support.write(os.path.join(self.dir, "job.py"), text)
        mod = _support.import_file(name, path)
        self.addCleanup(sys.modules.pop, name, None)
        line = _support.marks(text)[mark]
        result = {}
        seen = [0]

        def is_user(code):
            return code.co_filename == path

        def local(frame, event, arg):
            if event == "line" and frame.f_lineno == line and "r" not in result:
                seen[0] += 1
                if seen[0] == hit:
                    frames, f = [], frame
                    while f is not None:
                        if is_user(f.f_code):
                            frames.append(f)
                        f = f.f_back
                    result["r"] = snap.check_stack(frames[::-1], is_user)
            return local

        sys.settrace(lambda frame, event, arg: local if is_user(frame.f_code) else None)
        try:
            getattr(mod, entry)()
        finally:
            sys.settrace(None)
        self.assertIn("r", result, "the marked line never ran")
        return result["r"]

    def assertRefused(self, reasons, *fragments):
        self.assertEqual(len(reasons), 1, reasons)
        for fragment in fragments:
            self.assertIn(fragment, reasons[0])

    def test_plain_calls_are_safe(self):
        self.assertEqual(self.stack("""
            def f(a, b):
                return a + b  # @here

            def main():
                a, b = 1, 2
                x = f(a, b)
                lst = []
                lst.append(f(x, 1))
                super_ok = len(lst) + f(2, 3)
            """, "here", hit=3), [])
        self.assertEqual(self.stack("""
            def f(v):
                return v  # @here

            def main():
                lst = []
                for x in range(2):
                    lst.append(f(x))
            """, "here", hit=2), [])

    def test_generator_frame(self):
        reasons = self.stack("""
            def gen():
                yield 1  # @here

            def main():
                for v in gen():
                    pass
            """, "here")
        self.assertIn("gen at job.py:2: a generator or coroutine frame can't be rebuilt", reasons[1])
        # its caller is refused too: the for loop's next() isn't a call it could make again
        self.assertIn("main at job.py:5: a for loop's next() (FOR_ITER) calls gen", reasons[0])

    def test_c_function_between(self):
        self.assertRefused(self.stack("""
            def k(v):
                return -v  # @here

            def g():
                return sorted([1, 2], key=k)

            def main():
                g()
            """, "here"), "g at job.py:5: sorted() (a C function or a class) calls k")

    def test_class_instantiation(self):
        self.assertRefused(self.stack("""
            class Point:
                def __init__(self):
                    self.x = 1  # @here

            def main():
                p = Point()
            """, "here"), "creating an instance (Point(...)) calls __init__")

    def test_earlier_call_on_the_line_would_run_twice(self):
        self.assertRefused(self.stack("""
            def g():
                return 1

            def f():
                return 2  # @here

            def main():
                a = g() + f()
            """, "here"), "main at job.py:8: g() already ran before f was called")
        self.assertRefused(self.stack("""
            def g():
                return 1

            def f(v):
                return v  # @here

            def main():
                a = f(g())
            """, "here"), "g() already ran")

    def test_inside_except_handler(self):
        self.assertRefused(self.stack("""
            def f():
                return 2  # @here

            def main():
                try:
                    1 / 0
                except ZeroDivisionError:
                    f()
            """, "here"), "main at job.py:8: it is running an except handler (line 7)")

    def test_operator_and_library_frames(self):
        self.assertRefused(self.stack("""
            class V:
                def __add__(self, other):
                    return 1  # @here

            def main():
                a = V() + V()
            """, "here"), "an operator (BINARY_OP) calls __add__")
        reasons = self.stack("""
            import copy

            class V:
                def __deepcopy__(self, memo):
                    return V()  # @here

            def main():
                copy.deepcopy([V()])
            """, "here")
        self.assertTrue(any("isn't the program's (" in r for r in reasons), reasons)


class CaptureInProcessTest(unittest.TestCase):
    def test_lock_not_held_and_std_streams(self):
        import types
        mod = types.ModuleType("sleepy_snap_mod")
        mod.lock = threading.Lock()
        mod.out = sys.stdout
        data = snap.capture([], {"sleepy_snap_mod": mod}, {})
        made = types.ModuleType("sleepy_snap_mod")
        r = snap.restore(data, lambda name, file: made)
        self.assertIs(made.out, sys.stdout)
        self.assertTrue(made.lock.acquire(blocking=False))

    def test_rewritten_loop_iterator_proxy(self):
        # runtime.rs's IterProxy (module "sleepy") wraps a Python iterator of a rewritten for
        # loop; restored by wrapping the saved inner iterator with __sleepy_iter__ again.
        import builtins
        import types
        mod = types.ModuleType("sleepy_snap_mod3")
        exec(dedent("""
            class Countdown:
                def __init__(self, n):
                    self.n = n
                def __iter__(self):
                    return self
                def __next__(self):
                    self.n -= 1
                    if self.n < 0:
                        raise StopIteration
                    return self.n

            class IterProxy:
                __module__ = "sleepy"
                def __init__(self, inner):
                    self.inner = inner
                def __next__(self):
                    return next(self.inner)
            """), mod.__dict__)
        it = mod.IterProxy(mod.Countdown(3))
        next(it)
        del mod.IterProxy  # the native type is no program global
        mod._sl_it0 = it
        mod.__name__ = "sleepy_snap_mod3"
        data = snap.capture([], {"sleepy_snap_mod3": mod}, {})
        made = types.ModuleType("sleepy_snap_mod3")
        builtins.__sleepy_iter__ = lambda obj: ("proxied", iter(obj))
        self.addCleanup(delattr, builtins, "__sleepy_iter__")
        snap.restore(data, lambda name, file: made)
        tag, inner = made._sl_it0
        self.assertEqual(tag, "proxied")
        self.assertIsInstance(inner, made.Countdown)
        self.assertEqual(list(inner), [1, 0])

    def test_enum_class_of_the_program_is_refused_by_name(self):
        import types
        mod = types.ModuleType("sleepy_snap_mod4")
        exec("import enum\nclass Color(enum.Enum):\n    RED = 1\nfav = Color.RED\n", mod.__dict__)
        with self.assertRaises(snap.Unsaveable) as cm:
            snap.capture([], {"sleepy_snap_mod4": mod}, {})
        self.assertEqual(cm.exception.reasons[0], (
            "module sleepy_snap_mod4, global Color: the class sleepy_snap_mod4.Color, made by the "
            "metaclass enum.EnumType, can't be saved yet"))

    def test_unsaveable_reports_without_writing(self):
        import types
        mod = types.ModuleType("sleepy_snap_mod2")
        s = socket.socket()
        self.addCleanup(s.close)
        mod.s = s
        mod.frame = sys._getframe()
        with self.assertRaises(snap.Unsaveable) as cm:
            snap.capture([], {"sleepy_snap_mod2": mod}, {})
        self.assertEqual(len(cm.exception.reasons), 2, cm.exception.reasons)
        self.assertIn("module sleepy_snap_mod2, global s: a socket.socket", cm.exception.reasons[0])
        self.assertIn("global frame: a frame object can't be saved", cm.exception.reasons[1])


if __name__ == "__main__":
    unittest.main()
