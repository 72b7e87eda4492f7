"""Runs a program with the import hook installed, as the sleepy agent does, in a fresh python3.

    python3 _driver.py [--cache DIR] [--rewrite GLOB]... [--report FILE] (SCRIPT | -m MODULE) [ARGS...]

The rewriter and the import hook are loaded under the agent's file and module names, the
runtime helpers are the stand-ins of ``_support``, and the project is the script's directory
(or the current directory with ``-m``), minus the standard library and site-packages. The
program runs as ``__main__`` like ``python3 SCRIPT`` / ``python3 -m MODULE`` runs it; an uncaught
exception is printed as python3 prints it (this driver's own frame left out) and exits 1.
``--report FILE`` writes, at exit, which files were rewritten (their markers), which fell
back, and the cache's hits and misses, as JSON.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _support  # noqa: E402

HERE = os.path.abspath(__file__)


class Project:
    """The user's code: files under ``root``, minus installed code (sleepy_inspect.Project in
    miniature)."""

    def __init__(self, root):
        import site
        import sysconfig

        self.root = os.path.realpath(root)
        library = set()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            if sysconfig.get_paths().get(key):
                library.add(os.path.realpath(sysconfig.get_paths()[key]))
        library.update(os.path.realpath(p) for p in site.getsitepackages())
        self.library = [p for p in library if not self.root.startswith(p + os.sep)]

    def is_user(self, filename, module_name):
        path = os.path.realpath(filename)
        if not path.startswith(self.root + os.sep):
            return False
        return not any(path.startswith(lib + os.sep) for lib in self.library)


def main(argv):
    cache_dir = None
    globs = []
    report = None
    while argv and argv[0].startswith("--"):
        option = argv.pop(0)
        if option == "--cache":
            cache_dir = argv.pop(0)
        elif option == "--rewrite":
            globs.append(argv.pop(0))
        elif option == "--report":
            report = argv.pop(0)
        else:
            raise SystemExit("unknown option %s" % option)
    rewrite = _support.load_rewrite()
    importer = _support.load_import()
    module = argv[0] == "-m"
    target = argv[1] if module else argv[0]
    root = os.getcwd() if module else os.path.dirname(os.path.realpath(target))
    # sys.path[0] as python3 sets it.
    sys.path[0] = os.getcwd() if module else os.path.dirname(os.path.realpath(target))
    cache = importer.Cache(cache_dir, b"") if cache_dir is not None else None
    rewriting = importer.Rewriting(rewrite, Project(root), globs, cache, rewrite.SOURCE)
    importer.install(rewriting)
    if report:
        import atexit

        def write_report():
            with open(report, "w") as f:
                json.dump(
                    {
                        "markers": {path: len(m) for path, m in rewriting.markers.items()},
                        "fallbacks": rewriting.fallbacks,
                        "hits": cache.hits if cache else 0,
                        "misses": cache.misses if cache else 0,
                    },
                    f,
                )

        atexit.register(write_report)
    try:
        if module:
            import runpy
            import types

            # The program gets a __main__ of its own, as under python3 (this driver's globals
            # must survive it: unittest's __main__ deletes `os` from its globals, say).
            sys.modules["__main__"] = types.ModuleType("__main__")
            sys.argv[:] = argv[1:]
            runpy._run_module_as_main(target, alter_argv=True)
        else:
            sys.argv[:] = argv
            # python3 runs the script under its absolute path.
            target = os.path.abspath(target)
            with open(target, "rb") as f:
                source = f.read()
            try:
                code = rewriting.compile(source, target)
            except (SyntaxError, ValueError) as e:
                # python3 reports a script that does not compile without a traceback.
                e.__traceback__ = None
                sys.stderr.write(report_text(e))
                sys.exit(1)
            import types

            main_module = types.ModuleType("__main__")
            main_module.__file__ = target
            main_module.__cached__ = None
            main_module.__builtins__ = __builtins__
            sys.modules["__main__"] = main_module
            exec(code, main_module.__dict__)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - the program's own exception
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == HERE:
            tb = tb.tb_next
        e.__traceback__ = tb
        sys.stderr.write(report_text(e))
        sys.stderr.flush()
        sys.exit(1)


def report_text(e, tb=None):
    """What python3's own printer (sys.__excepthook__, in C) prints for ``e``, without the
    stand-ins' traceback entries (the native helpers have none)."""
    import io

    buffer = io.StringIO()
    saved = sys.stderr
    sys.stderr = buffer
    try:
        sys.__excepthook__(type(e), e, e.__traceback__ if tb is None else tb)
    finally:
        sys.stderr = saved
    marker = 'File "%s"' % _support.STAND_IN_FILE
    return "".join(l for l in buffer.getvalue().splitlines(True) if marker not in l)


if __name__ == "__main__":
    main(sys.argv[1:])
