"""Tests of what the agent's Python does for the environments of tests/environments.rs: the
module run as ``__main__`` is the user's, a breakpoint in untraced code is refused with the
``--trace`` to add, and a suspend inside a running asyncio loop says so first."""

import asyncio
import json
import os
import sysconfig
import unittest

try:
    from . import _support
except ImportError:  # run from inside the tests directory
    import _support

si = _support.load("inspect")


class EnvironmentsTest(unittest.TestCase):
    def setUp(self):
        self.root = _support.make_tempdir(self)
        self.main = _support.write(os.path.join(self.root, "main.py"), "x = 1\n")
        self.purelib = os.path.realpath(sysconfig.get_paths()["purelib"])
        self.addCleanup(setattr, si, "_project", None)

    def test_the_module_run_as_main_is_the_users_wherever_it_lives(self):
        project = si.Project(self.root, None, [])
        pytest_main = os.path.join(self.purelib, "pytest", "__main__.py")
        self.assertTrue(project.is_user(pytest_main, "__main__"))
        self.assertFalse(project.is_user(pytest_main, "pytest.__main__"))
        self.assertFalse(project.is_user("<string>", "__main__"))

    def test_a_breakpoint_in_library_code_is_refused_with_the_trace_to_add(self):
        si.Project(self.root, self.main, [])
        ok, message = si.resolve_location(None, "%s:1" % json.decoder.__file__, self.root)
        self.assertFalse(ok)
        self.assertEqual(
            message,
            "%s is not the program's code (library code runs untraced, so a breakpoint there "
            "would never stop): run sleepy with --trace json.decoder to debug it"
            % os.path.realpath(json.decoder.__file__),
        )
        self.assertEqual(si.resolve_location(None, "%s:1" % self.main, self.root)[0], True)
        # Traced by name: accepted.
        si.Project(self.root, self.main, ["json.*"])
        self.assertTrue(si.resolve_location(None, "%s:1" % json.decoder.__file__, self.root)[0])

    def test_no_refusal_without_the_runs_project(self):
        # resolve_location called for another root (or before the agent made its Project).
        si.Project(_support.make_tempdir(self), None, [])
        self.assertTrue(si.resolve_location(None, "%s:1" % json.decoder.__file__, self.root)[0])


class EventLoopTest(unittest.TestCase):
    def test_a_running_loop_is_seen(self):
        _support.load("snapshot")  # sleepy_suspend imports it as _sleepy_snapshot
        suspend = _support.load("suspend")
        self.assertFalse(suspend._event_loop_running())

        async def inside():
            return suspend._event_loop_running()

        self.assertTrue(asyncio.run(inside()))
        self.assertFalse(suspend._event_loop_running())


if __name__ == "__main__":
    unittest.main()
