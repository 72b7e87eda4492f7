//! The rewriter: Python that makes every line of a function reachable by a jump
//! (`py/sleepy_rewrite.py`), the import hook that applies it to the user's modules with a disk
//! cache (`py/sleepy_import.py`), and the native helpers the rewritten code calls
//! ([`runtime`]). The Python is embedded in the binary and run by the agent.

pub mod runtime;

/// The rewriter. Its source text is also part of the cache key, so the cache can never serve
/// code rewritten by another version of it.
pub const REWRITER_PY: &str = include_str!("py/sleepy_rewrite.py");
/// The import hook and cache.
pub const IMPORT_PY: &str = include_str!("py/sleepy_import.py");

/// Lines at and above this are the rewriter's markers (`MARKER_BASE` in sleepy_rewrite.py).
pub const MARKER_BASE: i32 = 10_000_000;
