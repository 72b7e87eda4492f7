"""The import hook that rewrites the user's modules as they are imported, and its disk cache.

A meta path finder asks the regular ``PathFinder`` for each module; when the module is a source
file of the user's (``Project.is_user``) or matches a ``--rewrite`` glob, its loader is replaced
by one whose ``get_code`` returns the rewritten code (``sleepy_rewrite``). Everything else about
importing is CPython's own: specs, ``__file__``, packages, ``exec_module``.

Rewritten code is cached on disk, keyed by the rewriter's own source, the Python version, what
changes the compiler's output (``-O``, column positions), the file's path and the exact bytes
of its source, so the cache can never serve code that does not match the source being imported.
Entries are written atomically (temporary file, fsync, rename); an entry that is not one (cut
short, corrupt, from another format) is ignored and replaced; an unwritable cache directory
only costs the time to rewrite again.

Warnings the compiler gives for a source (a SyntaxWarning for ``x is 1``, an invalid escape
sequence) must be given as python3 gives them, once per compile, through the program's own
warning filters (``-W error`` turns them into a SyntaxError). A source is compiled first with
them recorded; one that has any is compiled again as python3 would (the original, with its
warnings, then the rewrite with them silenced) on every load, and the cache only remembers that
it has warnings.

This module is compiled under the file name ``<frozen importlib._bootstrap_external>``, and its
call into the compiler goes through a function named ``_call_with_frames_removed``: CPython
trims exactly such frames from the traceback of an error raised while importing, so a syntax
error in a rewritten module is reported as python3 reports it.
"""

import ast
import fnmatch
import hashlib
import marshal
import os
import sys
import types
import warnings
from importlib.machinery import PathFinder, SourceFileLoader

FORMAT = b"sleepy-rewrite-2\n"
# A cache entry for a source the compiler warns about: compile it each time (see above).
HAS_WARNINGS = "has warnings"


def _call_with_frames_removed(f, *args, **kwargs):
    return f(*args, **kwargs)


def default_cache_dir():
    explicit = os.environ.get("SLEEPY_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sleepy", "rewritten")


def compiler_settings():
    """What besides the source changes the code the compiler makes: the optimization level
    (-O, -OO) and whether it records column positions (-X no_debug_ranges)."""
    probe = compile("x", "<sleepy>", "eval", dont_inherit=True)
    columns = any(pos[2] is not None for pos in probe.co_positions())
    return (sys.flags.optimize, columns)


class Cache:
    """Rewritten code objects on disk."""

    def __init__(self, directory, salt):
        self.directory = directory
        self.salt = salt
        self.hits = 0
        self.misses = 0

    def key(self, path, source):
        h = hashlib.sha256()
        h.update(self.salt)
        h.update(b"\0")
        h.update(os.fsencode(path))
        h.update(b"\0")
        h.update(source)
        return h.hexdigest()

    def load(self, key):
        if not self.directory:
            return None
        try:
            with open(os.path.join(self.directory, key), "rb") as f:
                data = f.read()
        except OSError:
            return None
        if not data.startswith(FORMAT):
            return None
        try:
            code, markers = marshal.loads(data[len(FORMAT):])
        except (EOFError, ValueError, TypeError):
            return None
        if code is None and markers == HAS_WARNINGS:
            return HAS_WARNINGS
        if not isinstance(code, types.CodeType) or not isinstance(markers, dict):
            return None
        return code, markers

    def store(self, key, code, markers):
        if not self.directory:
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
            final = os.path.join(self.directory, key)
            tmp = "%s.%d.tmp" % (final, os.getpid())
            with open(tmp, "wb") as f:
                f.write(FORMAT + marshal.dumps((code, markers)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except OSError:
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass


class Rewriting:
    """Which modules are rewritten, and how."""

    def __init__(self, rewriter, project, globs, cache, rewriter_source):
        self.rewriter = rewriter
        self.project = project
        self.globs = list(globs)
        self.cache = cache
        # Per file: {virtual marker line: the user's line it belongs to}.
        self.markers = {}
        # Files whose rewrite failed and that run as written, with the reason.
        self.fallbacks = {}
        self.salt = hashlib.sha256(
            FORMAT + rewriter_source.encode() + sys.version.encode() + repr(compiler_settings()).encode()
        ).digest()
        if cache is not None:
            cache.salt = self.salt

    def wanted(self, path, module_name):
        for glob in self.globs:
            if module_name and fnmatch.fnmatchcase(module_name, glob):
                return True
            if fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(os.path.realpath(path), glob):
                return True
        return self.project.is_user(path, module_name)

    def compile(self, source, path):
        """The rewritten code for a module's source bytes (from the cache when it has it)."""
        key = self.cache.key(path, source) if self.cache is not None else None
        if key is not None:
            hit = self.cache.load(key)
            if hit is HAS_WARNINGS:
                self.cache.hits += 1
                return self._compile_with_warnings(source, path)
            if hit is not None:
                self.cache.hits += 1
                code, markers = hit
                self.markers[path] = markers
                return code
            self.cache.misses += 1
        caught = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                code, markers = self._rewrite(source, path)
        except BaseException:
            if not caught:
                raise
            # Warnings come before the error, as python3 gives them (compiled again below,
            # outside this handler: the error must not carry this one as its context).
        if caught:
            if key is not None:
                self.cache.store(key, None, HAS_WARNINGS)
            return self._compile_with_warnings(source, path)
        self.markers[path] = markers
        if key is not None:
            self.cache.store(key, code, markers)
        return code

    def _rewrite(self, source, path):
        # Parse with the builtin compiler, so a syntax error is exactly python3's.
        tree = _call_with_frames_removed(compile, source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        try:
            return self._rewritten(tree, path)
        except (SyntaxError, RecursionError, ValueError) as e:
            failure = "%s: %s" % (type(e).__name__, e)
        # A rewrite the compiler refuses (e.g. too many statically nested blocks), or a program
        # it refuses: compile the module as written, which raises python3's error (outside the
        # handler above, so that it is not chained to the rewrite's) or gives code that runs
        # as written and cannot be jumped into everywhere.
        code = _call_with_frames_removed(compile, source, path, "exec", dont_inherit=True)
        self.fallbacks[path] = failure
        return code, {}

    def _rewritten(self, tree, path):
        tree, markers = self.rewriter.rewrite(tree)
        compile_rewritten = getattr(self.rewriter, "compile_rewritten", None)
        if compile_rewritten is not None:
            return compile_rewritten(tree, path), markers
        return compile(tree, path, "exec", dont_inherit=True), markers

    def _compile_with_warnings(self, source, path):
        """A source the compiler warns about, compiled as python3 compiles it (its warnings
        through the program's filters, or its error), and then rewritten in silence."""
        tree = _call_with_frames_removed(compile, source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        original = _call_with_frames_removed(compile, tree, path, "exec", dont_inherit=True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                code, markers = self._rewritten(tree, path)
        except (SyntaxError, RecursionError, ValueError) as e:
            self.fallbacks[path] = "%s: %s" % (type(e).__name__, e)
            code, markers = original, {}
        self.markers[path] = markers
        return code


class RewritingLoader(SourceFileLoader):
    def __init__(self, fullname, path, rewriting):
        super().__init__(fullname, path)
        self._sleepy = rewriting

    def get_code(self, fullname):
        source = self.get_data(self.path)
        return self._sleepy.compile(source, self.path)


class RewritingFinder:
    """Placed first on sys.meta_path."""

    def __init__(self, rewriting):
        self._sleepy = rewriting

    def find_spec(self, fullname, path=None, target=None):
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or type(spec.loader) is not SourceFileLoader or not spec.origin:
            return None
        if not self._sleepy.wanted(spec.origin, fullname):
            return None
        spec.loader = RewritingLoader(fullname, spec.origin, self._sleepy)
        return spec

    def invalidate_caches(self):
        pass


def install(rewriting):
    finder = RewritingFinder(rewriting)
    sys.meta_path.insert(0, finder)
    return finder
