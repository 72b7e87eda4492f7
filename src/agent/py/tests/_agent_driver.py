"""Runs a program the way the sleepy agent does (src/agent/mod.rs, ``run_program``), without
tracing, so that the tests can compare what it prints and its exit status with plain python3.

    python3 _agent_driver.py SCRIPT [ARGS...]
    python3 _agent_driver.py -m MODULE [ARGS...]

Like the agent: ``sys.argv`` is the program's, ``__main__`` is a fresh module, ``sys.path[0]``
comes from ``set_path0``; the script is compiled by ``compile_script`` and run by ``run_script``
(or ``run_module``); an ``exit`` outcome becomes ``exit_status``, an ``exception`` outcome is
printed by ``report_uncaught`` and gives status 1, or death by SIGINT for KeyboardInterrupt.
``SLEEPY_DRIVER_EVENTS=1`` makes the start/stop callables print ``<start>``/``<stop>``.
"""

import builtins
import os
import signal
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _support  # noqa: E402

del sys.path[0]


def main():
    runner = _support.load("runner")
    del sys.modules["_support"]
    # python3 put this driver's directory first on sys.path; the program's comes from set_path0.
    del sys.path[0]
    argv = sys.argv[1:]
    if argv[0] == "-m":
        kind, target = "module", argv[1]
        sys.argv[:] = argv[1:]
    else:
        # The front end gives the agent an absolute script path (os.path.abspath), argv as typed.
        kind, target = "script", os.path.abspath(argv[0])
        sys.argv[:] = argv
    main_module = types.ModuleType("__main__")
    main_module.__builtins__ = builtins
    main_module.__annotations__ = {}
    sys.modules["__main__"] = main_module
    runner.set_path0(kind, target)

    events = os.environ.get("SLEEPY_DRIVER_EVENTS") == "1"

    def start():
        if events:
            print("<start>", flush=True)

    def stop():
        if events:
            print("<stop>", flush=True)

    if kind == "script" and runner.is_path_entry(target):
        outcome = runner.run_path_entry(start, stop)
    elif kind == "script":
        code, message = runner.compile_script(target)
        if message is not None:
            sys.stderr.write(message + "\n")
            return 2 if message.startswith("can't open file") else 1
        outcome = runner.run_script(target, code, start, stop)
        runner.forget_main_file()
    else:
        outcome = runner.run_module(target, start, stop)
    kind, value = outcome
    if kind == "ok":
        return 0
    if kind == "exit":
        return runner.exit_status(value)
    _description, status = runner.report_uncaught(value)
    if status is not None:
        return status
    if isinstance(value, KeyboardInterrupt):
        runner.flush_std()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return 1


status = main()
# The agent returns the status from its main(): the process status is its low byte.
sys.exit(status & 0xFF)
