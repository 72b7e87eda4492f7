//! Fidelity on code no one here wrote: CPython's own regression test modules, run with
//! `python3 -m test.NAME -v` and with `sleepy run --rewrite test.NAME -m test.NAME -v`, must give
//! the same outcome for every test (ok, FAIL, ERROR, skipped, expected failure, unexpected
//! success), the same summary and the same exit status.
//!
//! Both runs use the interpreter sleepy embeds (`SLEEPY_PYTHON_EXECUTABLE`), start in an empty
//! temporary directory and give sleepy a fresh rewrite cache (`SLEEPY_CACHE_DIR`), so the first
//! rewrite of each module is part of what is checked. unittest writes its `-v` lines to stderr;
//! the tests' own output goes to stdout and is not compared. Children that a test starts with
//! `sys.executable` run under plain python3 in both runs.
//!
//! A module that runs wrong as `__main__` under plain python3 (its doctests expect the name
//! `test.NAME`, it reads its own source by module name, or it is a package without
//! `__main__.py`; see the comments in `MODULES`) is run as `python3 -m unittest -v test.NAME`
//! instead, rewritten as `--rewrite test.NAME` (and `'test.NAME.*'` for a package).
//!
//! Where a test's outcome differs today, the module stays in the list and the test is listed in
//! its `known` differences with the reason: a bug in sleepy (to be fixed: when it is, this test
//! fails and says which entry to remove) or a difference by design (the test inspects the
//! bytecode, the line table or the line events of its own code, which the rewrite changes on
//! purpose). The known differences were checked on CPython 3.11, 3.12 and 3.13 (`STRICT_MINORS`);
//! on another minor version they are tolerated but not required, and any other difference fails.
//!
//! Left out on purpose (see docs/fidelity.md):
//! - `test_sys_settrace`: installs its own trace function and checks the exact line events of
//!   the code it traces, and jumps (`f_lineno = N`) into `with` blocks expecting CPython's
//!   refusals. Rewritten code has other line events (the marker lines of `for` and `with`) and
//!   accepts those jumps by design: 35 of its 303 tests differ, none for a fidelity bug not
//!   already covered here.
//! - `test_dis`: compares the disassembly of functions of its own module with expected listings;
//!   every rewritten `for`/`with`/`match` compiles to other bytecode, by design (23 tests).
//!
//! The method, the module list with results and the wall time are in docs/fidelity.md.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a module is started.
#[derive(Clone, Copy, Debug)]
enum Launch {
    /// `-m test.NAME -v`: the module runs as `__main__`.
    Main,
    /// `-m unittest -v test.NAME`: the module is imported under its own name.
    Unittest,
}

/// Why a test's outcome differs under sleepy today.
#[derive(Clone, Copy, Debug)]
enum Why {
    /// A bug in sleepy, named as in docs/fidelity.md ("B1" ...). Fixing it makes this test fail
    /// until the entry is removed.
    Bug(&'static str),
    /// The test inspects what the rewrite changes on purpose.
    ByDesign(&'static str),
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Bug(text) => write!(f, "bug {text}"),
            Why::ByDesign(text) => write!(f, "by design: {text}"),
        }
    }
}

/// A test whose outcome differs: its id (class and method, without the module; a failing
/// subtest has its own id), its outcome under python3 and under sleepy (`(not run)` when the
/// run reports no outcome for that id).
#[derive(Debug)]
struct Known {
    test: &'static str,
    python: &'static str,
    sleepy: &'static str,
    why: Why,
    /// The CPython minor versions where it differs (the test exists from `since` on).
    since: u32,
    until: u32,
}

impl Known {
    const fn since(self, minor: u32) -> Known {
        Known {
            since: minor,
            ..self
        }
    }

    const fn until(self, minor: u32) -> Known {
        Known {
            until: minor,
            ..self
        }
    }
}

struct Module {
    /// The module under `test.`, e.g. `test_with` or `test_asyncio.test_timeouts`.
    name: &'static str,
    launch: Launch,
    /// A package: its submodules are rewritten too.
    package: bool,
    known: &'static [Known],
    /// The exit status differs although every test outcome matches.
    exit_differs: Option<Why>,
}

const fn as_main(name: &'static str) -> Module {
    Module {
        name,
        launch: Launch::Main,
        package: false,
        known: &[],
        exit_differs: None,
    }
}

const fn as_unittest(name: &'static str, package: bool) -> Module {
    Module {
        name,
        launch: Launch::Unittest,
        package,
        known: &[],
        exit_differs: None,
    }
}

const fn known(test: &'static str, python: &'static str, sleepy: &'static str, why: Why) -> Known {
    Known {
        test,
        python,
        sleepy,
        why,
        since: 11,
        until: u32::MAX,
    }
}

// The bugs, described in full with a minimal reproducer in docs/fidelity.md.
const B1_LOCALS: Why = Why::Bug(
    "B1: while a for or with runs, its hidden locals (_sl_it0, _sl_exit0/_sl_val0/_sl_w0) show \
     in locals(), vars(), frame.f_locals and generator locals",
);
const B8_CO_EXTRA: Why = Why::Bug(
    "B8: the tracer's co_extra slot makes CPython call every registered code-extra free \
     function for every traced code object; test_code registers a ctypes (Python) one, called \
     during interpreter shutdown: SIGSEGV after all tests passed",
);
const B9_IMPORT_HOOK_FRAMES: Why = Why::Bug(
    "B9: the import hook runs sleepy's Python helper (<sleepy>/inspect.py, a module with a \
     __file__) in the program's imports, so the program's own trace function (trace.py) sees \
     it and trace.write_results() fails opening '<sleepy>/inspect.py'",
);
const LINE_EVENTS: Why = Why::ByDesign(
    "the test counts the line events of its own loops under its own trace function; a \
     rewritten for has a marker line (10,000,000+) and one more event on the for line",
);
const LINE_TABLE: Why = Why::ByDesign(
    "the test reads the line table (co_lines) of its own async for: the rewrite adds a marker line",
);
const BYTECODE: Why = Why::ByDesign(
    "the test counts BUILD_LIST in its own `for x in [..]`: the rewrite passes the list to \
     __sleepy_iter__, so the compiler no longer folds it into a constant tuple",
);
const WITH_BYTECODE: Why = Why::ByDesign(
    "the test counts the LOAD_CONST None of its own `with` (3 in CPython 3.13's code): the \
     rewritten with spells out __exit__(None, None, None) and clears its hidden names with None",
);
const FRAME_OBJECTS: Why = Why::ByDesign(
    "the test needs a generator frame that has no frame object yet; a C trace function \
     (PyEval_SetTrace) makes CPython 3.11 create one for every traced call (fails with \
     --no-rewrite too)",
);

/// The modules, chosen to cover the syntax the rewriter touches (for, async for, with, async
/// with, match, try/except/except*/finally around them, generators, coroutines, async
/// generators, comprehensions, class bodies) and what surrounds it (exceptions and tracebacks,
/// frames, code objects, scopes, descriptors, enum, dataclasses, typing, inspect, pickle, the
/// import system, warnings, the trace module, pdb/bdb).
const MODULES: &[Module] = &[
    as_main("test_grammar"),
    as_main("test_exceptions"),
    as_main("test_with"),
    as_main("test_contextlib"),
    as_main("test_contextlib_async"),
    as_main("test_generators"),
    as_main("test_coroutines"),
    as_main("test_asyncgen"),
    // As __main__, test_patma imports pyperf (not installed) and exits.
    as_unittest("test_patma", false),
    as_main("test_exception_group"),
    as_main("test_except_star"),
    as_main("test_scope"),
    as_main("test_raise"),
    as_main("test_iter"),
    as_main("test_listcomps"),
    as_main("test_setcomps"),
    as_main("test_dictcomps"),
    as_main("test_genexps"),
    as_main("test_class"),
    as_main("test_descr"),
    // The doctests of these expect the module's own name in messages.
    as_unittest("test_unpack", false),
    as_unittest("test_unpack_ex", false),
    as_unittest("test_extcall", false),
    as_main("test_keywordonlyarg"),
    as_main("test_positional_only_arg"),
    // As __main__, test___builtins__ sees the module's __builtins__ as a module, not a dict.
    as_unittest("test_funcattrs", false),
    as_unittest("test_dataclasses", true),
    as_main("test_enum"),
    // As __main__, five tests look up the module's source by its name.
    as_unittest("test_traceback", false),
    as_main("test_sys"),
    Module {
        known: &[known(
            "TestIncompleteFrameAreInvisible.test_sneaky_frame_object",
            "ok",
            "FAIL",
            FRAME_OBJECTS,
        )
        .until(12)],
        ..as_main("test_frame")
    },
    as_main("test_fstring"),
    as_main("test_types"),
    as_main("test_builtin"),
    as_main("test_itertools"),
    as_main("test_functools"),
    // contextvars
    as_main("test_context"),
    as_main("test_generator_stop"),
    as_main("test_yield_from"),
    as_main("test_opcodes"),
    as_main("test_augassign"),
    as_main("test_exception_variations"),
    as_main("test_baseexception"),
    as_main("test_global"),
    as_main("test_named_expressions"),
    as_main("test_super"),
    as_main("test_decorators"),
    as_main("test_property"),
    as_main("test_abc"),
    as_main("test_call"),
    as_main("test_syntax"),
    as_main("test_string_literals"),
    as_main("test_print"),
    as_main("test_typing"),
    // A package in 3.11 (test.test_inspect.test_inspect and its fodder modules).
    Module {
        known: &[
            known(
                "test_inspect.TestGetGeneratorState.test_getgeneratorlocals",
                "ok",
                "FAIL",
                B1_LOCALS,
            ),
            known(
                "test_inspect.TestGetAsyncGenState.test_getasyncgenlocals",
                "ok",
                "FAIL",
                B1_LOCALS,
            )
            .since(12),
        ],
        ..as_unittest("test_inspect", true)
    },
    as_main("test_collections"),
    as_main("test_dict"),
    Module {
        known: &[
            known(
                "TestSpecifics.test_line_number_implicit_return_after_async_for",
                "ok",
                "FAIL",
                LINE_TABLE,
            ),
            known(
                "TestSourcePositions.test_return_in_with_positions",
                "ok",
                "FAIL",
                WITH_BYTECODE,
            )
            .since(13),
        ],
        ..as_main("test_compile")
    },
    Module {
        exit_differs: Some(B8_CO_EXTRA),
        ..as_main("test_code")
    },
    Module {
        known: &[known(
            "TestTranforms.test_iterate_literal_list",
            "ok",
            "FAIL",
            BYTECODE,
        )],
        ..as_main("test_peepholer")
    },
    as_main("test_pickle"),
    Module {
        known: &[
            known(
                "TestCoverage.test_coverage",
                "ok",
                "ERROR",
                B9_IMPORT_HOOK_FRAMES,
            ),
            known(
                "TestCoverage.test_issue9936",
                "ok",
                "ERROR",
                B9_IMPORT_HOOK_FRAMES,
            ),
            known(
                "TestLineCounts.test_trace_func_generator",
                "ok",
                "FAIL",
                LINE_EVENTS,
            ),
            known(
                "TestLineCounts.test_traced_func_loop",
                "ok",
                "FAIL",
                LINE_EVENTS,
            ),
            known(
                "TestRunExecCounts.test_exec_counts",
                "ok",
                "FAIL",
                LINE_EVENTS,
            ),
        ],
        ..as_main("test_trace")
    },
    as_main("test_bdb"),
    as_main("test_pdb"),
    as_main("test_argparse"),
    as_unittest("test_asyncio.test_timeouts", false),
    as_unittest("test_warnings", true),
    as_unittest("test_importlib", true),
    as_main("test_richcmp"),
    as_main("test_copy"),
    as_main("test_operator"),
    as_main("test_finalization"),
    as_main("test_ordered_dict"),
    as_main("test_difflib"),
    as_main("test_csv"),
];

/// One `#[test]` per module: cargo runs them in parallel (one per CPU) and names the module
/// that differs.
macro_rules! fidelity_tests {
    ($($test:ident => $module:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($module);
            }
        )*
        const TESTED: &[&str] = &[$($module),*];
    };
}

fidelity_tests! {
    test_grammar => "test_grammar",
    test_exceptions => "test_exceptions",
    test_with => "test_with",
    test_contextlib => "test_contextlib",
    test_contextlib_async => "test_contextlib_async",
    test_generators => "test_generators",
    test_coroutines => "test_coroutines",
    test_asyncgen => "test_asyncgen",
    test_patma => "test_patma",
    test_exception_group => "test_exception_group",
    test_except_star => "test_except_star",
    test_scope => "test_scope",
    test_raise => "test_raise",
    test_iter => "test_iter",
    test_listcomps => "test_listcomps",
    test_setcomps => "test_setcomps",
    test_dictcomps => "test_dictcomps",
    test_genexps => "test_genexps",
    test_class => "test_class",
    test_descr => "test_descr",
    test_unpack => "test_unpack",
    test_unpack_ex => "test_unpack_ex",
    test_extcall => "test_extcall",
    test_keywordonlyarg => "test_keywordonlyarg",
    test_positional_only_arg => "test_positional_only_arg",
    test_funcattrs => "test_funcattrs",
    test_dataclasses => "test_dataclasses",
    test_enum => "test_enum",
    test_traceback => "test_traceback",
    test_sys => "test_sys",
    test_frame => "test_frame",
    test_fstring => "test_fstring",
    test_types => "test_types",
    test_builtin => "test_builtin",
    test_itertools => "test_itertools",
    test_functools => "test_functools",
    test_context => "test_context",
    test_generator_stop => "test_generator_stop",
    test_yield_from => "test_yield_from",
    test_opcodes => "test_opcodes",
    test_augassign => "test_augassign",
    test_exception_variations => "test_exception_variations",
    test_baseexception => "test_baseexception",
    test_global => "test_global",
    test_named_expressions => "test_named_expressions",
    test_super => "test_super",
    test_decorators => "test_decorators",
    test_property => "test_property",
    test_abc => "test_abc",
    test_call => "test_call",
    test_syntax => "test_syntax",
    test_string_literals => "test_string_literals",
    test_print => "test_print",
    test_typing => "test_typing",
    test_inspect => "test_inspect",
    test_collections => "test_collections",
    test_dict => "test_dict",
    test_compile => "test_compile",
    test_code => "test_code",
    test_peepholer => "test_peepholer",
    test_pickle => "test_pickle",
    test_trace => "test_trace",
    test_bdb => "test_bdb",
    test_pdb => "test_pdb",
    test_argparse => "test_argparse",
    test_asyncio_test_timeouts => "test_asyncio.test_timeouts",
    test_warnings => "test_warnings",
    test_importlib => "test_importlib",
    test_richcmp => "test_richcmp",
    test_copy => "test_copy",
    test_operator => "test_operator",
    test_finalization => "test_finalization",
    test_ordered_dict => "test_ordered_dict",
    test_difflib => "test_difflib",
    test_csv => "test_csv",
}

#[test]
fn every_module_has_a_test() {
    let table: BTreeSet<&str> = MODULES.iter().map(|m| m.name).collect();
    let tested: BTreeSet<&str> = TESTED.iter().copied().collect();
    assert_eq!(table.len(), MODULES.len(), "a module is listed twice");
    assert_eq!(table, tested, "MODULES and the #[test] functions disagree");
    assert!(MODULES.len() >= 30, "the corpus must stay broad");
}

/// The CPython minor versions on which the known differences were checked: there, each must
/// still be seen (a fix makes the test fail until its entry is removed). On other versions they
/// are tolerated, not required; any other difference fails everywhere.
const STRICT_MINORS: &[u32] = &[11, 12, 13];

/// A run that takes longer is killed and reported (a test must never hang).
const LIMIT: Duration = Duration::from_secs(300);

struct Run {
    stderr: String,
    stdout: String,
    code: Option<i32>,
    signal: Option<i32>,
    elapsed: Duration,
}

fn run(mut cmd: Command) -> Result<Run, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
            return Err(format!(
                "{cmd:?} timed out after {LIMIT:?}; stderr so far:\n{}",
                tail(&err, 40)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    use std::os::unix::process::ExitStatusExt;
    Ok(Run {
        stdout: String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned(),
        code: status.code(),
        signal: status.signal(),
        elapsed: start.elapsed(),
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// What unittest reported: each test's outcome, the "Ran N tests" line and the verdict.
#[derive(Debug, Default)]
struct Report {
    outcomes: BTreeMap<String, String>,
    ran: Option<String>,
    verdict: Option<String>,
}

const STATUSES: [&str; 5] = [
    "ok",
    "FAIL",
    "ERROR",
    "expected failure",
    "unexpected success",
];

/// The outcome a `-v` status text names (a skip's reason is dropped).
fn status(text: &str) -> Option<&'static str> {
    let text = text.trim_end();
    if text.starts_with("skipped ") || text == "skipped" {
        return Some("skipped");
    }
    STATUSES.iter().copied().find(|s| *s == text)
}

/// A line that starts a test in `-v` output: `NAME (DOTTED.PATH)`, then a subtest's
/// ` (params)` or ` [msg] (params)`, then ` ... STATUS` (or nothing when a docstring line
/// follows, or ` ... ` when the test wrote output before its status). Returns the test's id and
/// what follows ` ... `.
fn start_of_test<'a>(line: &'a str, module: &str) -> Option<(String, &'a str)> {
    let line = line.strip_prefix("  ").unwrap_or(line);
    let (name, rest) = line.split_once(' ')?;
    if name.is_empty() || name.contains(['(', ')', ':']) {
        return None;
    }
    let rest = rest.strip_prefix('(')?;
    let close = rest.find(')')?;
    let path = &rest[..close];
    if path.contains(|c: char| c.is_whitespace() || c == '(') {
        return None;
    }
    let after = &rest[close + 1..];
    let (suffix, tail) = if after.is_empty() {
        ("", "")
    } else if let Some(t) = after.strip_prefix(" ... ") {
        ("", t)
    } else if after.starts_with(" (") || after.starts_with(" [") {
        match after.find(" ... ") {
            Some(i) => (&after[1..i], &after[i + 5..]),
            None => (&after[1..], ""),
        }
    } else if after == " ..." {
        ("", "")
    } else {
        return None;
    };
    let mut key = path.to_string();
    for prefix in ["__main__".to_string(), format!("test.{module}")] {
        if key == prefix {
            key.clear();
        } else if let Some(k) = key.strip_prefix(&format!("{prefix}.")) {
            key = k.to_string();
        }
    }
    if key.is_empty() {
        key = name.to_string();
    } else if !key.ends_with(name) {
        key = format!("{key}.{name}");
    }
    if !suffix.is_empty() {
        key = format!("{key} {}", without_addresses(suffix));
    }
    Some((key, tail))
}

/// A subtest's description may name an object by its address (`<function f at 0x7f...>`),
/// which differs from run to run: `0x` and hex digits become `0x…`.
fn without_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i]);
        let digits = rest[i + 2..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - i - 2);
        if digits == 0 {
            out.push_str("0x");
        } else {
            out.push_str("0x…");
        }
        rest = &rest[i + 2 + digits..];
    }
    out.push_str(rest);
    out
}

fn parse(stderr: &str, module: &str) -> Report {
    let mut report = Report::default();
    let mut record = |key: String, outcome: &str| {
        report
            .outcomes
            .entry(key)
            .and_modify(|v| {
                v.push('+');
                v.push_str(outcome);
            })
            .or_insert_with(|| outcome.to_string());
    };
    let mut pending: Option<String> = None;
    for line in stderr.lines() {
        if let Some((key, tail)) = start_of_test(line, module) {
            match status(tail) {
                Some(s) => {
                    record(key, s);
                    pending = None;
                }
                None => pending = Some(key),
            }
            continue;
        }
        if pending.is_some() {
            // The docstring's first line ("Doc ... ok"), or the status alone on its line after
            // output the test wrote.
            let text = line.split_once(" ... ").map_or(line, |(_, t)| t);
            if let Some(s) = status(text) {
                record(pending.take().expect("pending"), s);
            }
        }
    }
    for line in stderr.lines() {
        if let Some(rest) = line.strip_prefix("Ran ") {
            if rest.contains(" test") {
                let text = line.rsplit_once(" in ").map_or(line, |(a, _)| a);
                report.ran = Some(text.to_string());
            }
        } else if line == "OK" || line.starts_with("OK (") || line.starts_with("FAILED (") {
            report.verdict = Some(line.to_string());
        }
    }
    report
}

fn describe(run: &Run) -> String {
    match (run.code, run.signal) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "unknown status".into(),
    }
}

fn check(name: &str) {
    let module = MODULES
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is not in MODULES"));
    let minor: u32 = env!("SLEEPY_PYTHON_VERSION")
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let strict = STRICT_MINORS.contains(&minor);
    let dir = tempfile::tempdir().expect("temporary directory");
    let cache = dir.path().join("cache");
    let work = dir.path().join("cwd");
    std::fs::create_dir(&work).expect("working directory");

    let target = format!("test.{}", module.name);
    let args: Vec<String> = match module.launch {
        Launch::Main => vec!["-m".into(), target.clone(), "-v".into()],
        Launch::Unittest => vec!["-m".into(), "unittest".into(), "-v".into(), target.clone()],
    };
    let setup = |cmd: &mut Command| {
        cmd.current_dir(&work)
            .env("SLEEPY_CACHE_DIR", &cache)
            .env_remove("PYTHONSTARTUP");
    };

    let mut python = Command::new(env!("SLEEPY_PYTHON_EXECUTABLE"));
    setup(&mut python);
    python.args(&args);
    let python = run(python).unwrap_or_else(|e| panic!("{e}"));

    let mut sleepy = Command::new(env!("CARGO_BIN_EXE_sleepy"));
    setup(&mut sleepy);
    sleepy.arg("run").arg("--rewrite").arg(&target);
    if module.package {
        sleepy.arg("--rewrite").arg(format!("{target}.*"));
    }
    sleepy.args(&args);
    let sleepy = run(sleepy).unwrap_or_else(|e| panic!("{e}"));

    let py = parse(&python.stderr, module.name);
    let sl = parse(&sleepy.stderr, module.name);
    let mut problems: Vec<String> = Vec::new();

    // The reference run must be a real unittest run, or the comparison means nothing.
    if py.outcomes.is_empty() || py.ran.is_none() || py.verdict.is_none() {
        problems.push(format!(
            "python3 gave no usable unittest report ({})",
            describe(&python)
        ));
    }
    // The module was really rewritten: the cache holds its rewritten code.
    let cached = std::fs::read_dir(&cache).map_or(0, |d| d.count());
    if cached == 0 {
        problems.push(format!(
            "sleepy rewrote nothing (empty cache {}): does --rewrite {target} match?",
            cache.display()
        ));
    }

    let mut known: BTreeMap<&str, &Known> = BTreeMap::new();
    for k in module
        .known
        .iter()
        .filter(|k| (k.since..=k.until).contains(&minor))
    {
        known.insert(k.test, k);
    }
    let keys: BTreeSet<&String> = py.outcomes.keys().chain(sl.outcomes.keys()).collect();
    let mut differing = 0;
    for key in keys {
        let (p, s) = (py.outcomes.get(key), sl.outcomes.get(key));
        let (p, s) = (p.map_or("(not run)", |v| v), s.map_or("(not run)", |v| v));
        match known.remove(key.as_str()) {
            Some(k) => {
                differing += 1;
                if strict && (p != k.python || s != k.sleepy) {
                    problems.push(format!(
                        "{key}: python3 {p}, sleepy {s}; expected python3 {}, sleepy {} ({}). \
                         If this is fixed, remove it from the known differences.",
                        k.python, k.sleepy, k.why
                    ));
                }
            }
            None if p != s => problems.push(format!("{key}: python3 {p}, sleepy {s}")),
            None => {}
        }
    }
    if strict {
        for (test, k) in known {
            problems.push(format!(
                "{test}: known difference ({}) not seen (the test is gone?)",
                k.why
            ));
        }
    }

    if py.ran != sl.ran {
        problems.push(format!(
            "summary: python3 {:?}, sleepy {:?}",
            py.ran, sl.ran
        ));
    }
    if differing == 0 && py.verdict != sl.verdict {
        problems.push(format!(
            "verdict: python3 {:?}, sleepy {:?}",
            py.verdict, sl.verdict
        ));
    }
    let same_exit = (python.code, python.signal) == (sleepy.code, sleepy.signal);
    match module.exit_differs {
        None if differing == 0 && !same_exit => problems.push(format!(
            "python3 ended with {}, sleepy with {}",
            describe(&python),
            describe(&sleepy)
        )),
        Some(why) if strict && same_exit => problems.push(format!(
            "the exit status no longer differs ({why}): if this is fixed, remove exit_differs"
        )),
        _ => {}
    }

    println!(
        "{}: {} tests, {} known differences; python3 {:.1}s ({}), sleepy {:.1}s ({}); {:?} / {:?}",
        module.name,
        py.outcomes.len(),
        differing,
        python.elapsed.as_secs_f64(),
        describe(&python),
        sleepy.elapsed.as_secs_f64(),
        describe(&sleepy),
        py.verdict,
        sl.verdict,
    );
    if !problems.is_empty() {
        panic!(
            "{} differs under sleepy:\n  {}\n\n--- python3 stderr (end) ---\n{}\n\n--- sleepy stderr \
             (end) ---\n{}\n\n--- sleepy stdout (end) ---\n{}",
            module.name,
            problems.join("\n  "),
            tail(&python.stderr, 30),
            tail(&sleepy.stderr, 60),
            tail(&sleepy.stdout, 20),
        );
    }
}

#[test]
fn parser_reads_unittest_verbose_output() {
    let text = "\
test_a (__main__.C.test_a) ... ok
test_b (__main__.C.test_b)
The docstring. ... FAIL
test_c (__main__.C.test_c) ... some output the test wrote
ok
test_d (__main__.C.test_d) ... skipped 'no network'
test_e (__main__.C.test_e) ... 
  test_e (__main__.C.test_e) (i=1) ... ERROR
  test_e (__main__.C.test_e) [<function f at 0x7f99d9515580>] ... FAIL
tut (__main__.__test__)
Doctest: __main__.__test__.tut ... expected failure
test_f (test.test_x.D.test_f) ... unexpected success
FAIL: test_b (__main__.C.test_b)
----------------------------------------------------------------------
Ran 7 tests in 0.123s

FAILED (failures=1, errors=1, skipped=1)
";
    let r = parse(text, "test_x");
    let got: Vec<(&str, &str)> = r
        .outcomes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("C.test_a", "ok"),
            ("C.test_b", "FAIL"),
            ("C.test_c", "ok"),
            ("C.test_d", "skipped"),
            ("C.test_e (i=1)", "ERROR"),
            ("C.test_e [<function f at 0x…>]", "FAIL"),
            ("D.test_f", "unexpected success"),
            ("__test__.tut", "expected failure"),
        ]
    );
    assert_eq!(r.ran.as_deref(), Some("Ran 7 tests"));
    assert_eq!(
        r.verdict.as_deref(),
        Some("FAILED (failures=1, errors=1, skipped=1)")
    );
}
