//! The jump matrix: proof that `jump` reaches every line with code of every function of a
//! corpus that uses every construct of the language (`tests/jumps/`, described in
//! `docs/jumps.md`).
//!
//! For each *subject* (a function, method, nested function, class body or module of the corpus)
//! the targets are the lines CPython's *original* code reports line events for: `co_lines()` of
//! the subject's code object and of its comprehensions (not of nested functions or lambdas),
//! computed by [`LINES_PY`] under the Python sleepy embeds. Each target is a statement's first
//! line, a clause line (`except ...:`, `case ...:`) or a continuation line of a multi-line
//! statement or clause. For each target, `sleepy --batch` stops at the subject's first line,
//! jumps to the target and continues; the test checks that
//!
//! * the jump is not refused (`*** Jump failed`) and does not stop short;
//! * the first stop after it is at the target (a continuation line: at its statement's or
//!   clause's first line, with a note that says so);
//! * the program then ends normally: exit code 0, its last line (`END <script>`) printed.
//!
//! Every target also runs with `--no-rewrite` (CPython's and pdb's own limits) for the figure
//! in `docs/jumps.md`; that run is counted, not asserted line by line.
//!
//! `cargo test --test jump_matrix -- --nocapture` prints the table of figures.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Modules whose own code is a subject, and the script that runs each.
const MODULE_SUBJECTS: &[(&str, &str)] = &[("module_body.py", "module_main.py")];

/// What each corpus file is about, for the table.
const CONSTRUCTS: &[(&str, &str)] = &[
    (
        "loops.py",
        "for and while: else, break, continue, nested, over generators",
    ),
    (
        "withs.py",
        "with: one item, several, nested, in a loop, suppressing",
    ),
    (
        "trys.py",
        "try, except, else, finally: in loops, nested, re-raise",
    ),
    ("exgroups.py", "except* (exception groups)"),
    ("matches.py", "match: every kind of pattern, guards"),
    ("matches_multiline.py", "match with multi-line patterns"),
    (
        "asyncs.py",
        "coroutines, async generators: await, async for, async with",
    ),
    (
        "generators.py",
        "generators: between yields, yield from, send",
    ),
    (
        "expressions.py",
        "comprehensions, lambdas, multi-line calls and statements",
    ),
    ("methods.py", "methods: instance, static, class, property"),
    ("scopes.py", "closures, nonlocal, global, a class body"),
    ("module_body.py", "module-level code"),
];

/// The bugs the matrix found and that are not fixed yet. Each is reported with a reproducer;
/// `KNOWN_FAILURES` names the targets they break.
const BUGS: &[(&str, &str)] = &[
    (
        "for-else",
        "a jump into the else block of a for loop that has not started lands, but the \
         rewritten loop's cleanup (`del _sl_itN`) then raises UnboundLocalError",
    ),
    (
        "except-line",
        "a jump to an `except ...:` line lands on the first line of the handler's body, not on \
         the except line (sleepy_jump.py `_enter_handler` ignores `stop_line`)",
    ),
    (
        "async-suspend",
        "entering an `async for` / `async with` stops short: the tracer takes the 'return' \
         event of the coroutine suspending at an await for the frame leaving",
    ),
    (
        "nested-try",
        "entering a handler whose try body starts with another `try:` raises at that line's \
         NOP, which no exception-table range covers: the exception escapes the function",
    ),
    (
        "multiline-header",
        "entering a handler or a loop waits for the next line and only lets the clause's / \
         header's *first* line pass; a multi-line `except (A,\\n B):` or `for ... in f(\\n ...):` \
         reports its other lines too, and the jump stops short there",
    ),
    (
        "clause-continuation",
        "a continuation line of a multi-line except clause or case pattern lands on the \
         `try:` / `match` line instead of the clause",
    ),
    (
        "value-first",
        "a statement whose first line's first instruction is mid-expression (`x = (\\n a + b\\n)`, \
         `return (\\n x\\n)`, the rewritten `with (\\n A as a,\\n B,\\n):`) is refused by CPython: \
         incompatible stacks",
    ),
];

/// Corpus files the rewriter fails on today (the import hook runs them as written, so their
/// figures are the planner's on CPython's own code), by (file, bug).
const KNOWN_UNREWRITTEN: &[(&str, &str)] = &[];

/// Targets that fail today, by (corpus file, line, bug). A target listed here that passes
/// fails the test: take it off the list.
const KNOWN_FAILURES: &[(&str, u32, &str)] = &[
    // for-else
    // except-line
    // async-suspend
    // nested-try
    ("trys.py", 72, "nested-try"),
    ("trys.py", 73, "nested-try"),
    ("exgroups.py", 40, "nested-try"),
    ("exgroups.py", 41, "nested-try"),
    // multiline-header
    // clause-continuation
    // value-first
];

/// Lists the subjects and their targets (see the module doc). Output, tab-separated:
/// `S file qualname first_line` for a subject, then `L line kind landing` for each target;
/// `R file error` for a corpus file the rewriter fails on.
const LINES_PY: &str = r#"
import ast, os, sys

COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}


def code_lines(code):
    """Lines of a code object's line table, with its comprehensions' (3.11 compiles them to
    code objects of their own; 3.12 inlines them)."""
    lines = {l for _, _, l in code.co_lines() if l is not None}
    for const in code.co_consts:
        if hasattr(const, "co_lines") and const.co_name in COMPREHENSIONS:
            lines |= code_lines(const)
    return lines


def codes(code):
    for const in code.co_consts:
        if hasattr(const, "co_lines"):
            yield const
            yield from codes(const)


def first_line(s):
    return min([s.lineno] + [d.lineno for d in getattr(s, "decorator_list", [])])


def scope_parts(scope):
    """The statements of one scope (not of nested scopes), and its clauses' header ranges."""
    stmts, clauses = [], []

    def visit(body):
        for s in body:
            stmts.append(s)
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(s, field, None) or [])
            for h in getattr(s, "handlers", None) or []:
                clauses.append((h.lineno, h.type.end_lineno if h.type is not None else h.lineno))
                visit(h.body)
            for c in getattr(s, "cases", None) or []:
                clauses.append((c.pattern.lineno, (c.guard or c.pattern).end_lineno))
                visit(c.body)

    visit(scope.body)
    return stmts, clauses


def header_end(s):
    """The last line of a statement's header (a simple statement: its last line)."""
    if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return s.end_lineno
    blocks = [b for f in ("body", "orelse", "finalbody", "handlers", "cases")
              for b in (getattr(s, f, None) or [])]
    if not blocks:
        return s.end_lineno
    return min(b.pattern.lineno if isinstance(b, ast.match_case) else b.lineno for b in blocks) - 1


def first_exec(code, node):
    """The line of a statement's first instruction: `c = (\n a + b\n)` runs line 2 first, and
    sleepy lands a jump to line 1 there (the store on line 1 needs the value on the stack)."""
    start, end = (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)
    for line, end_line, col, end_col in code.co_positions():
        if None in (line, end_line, col, end_col):
            continue
        if start <= (line, col) and (end_line, end_col) <= end:
            return line
    return None


def land(code, by_start, line):
    s = by_start.get(line)
    if s is None or code is None:
        return line
    first = first_exec(code, s)
    return first if first is not None and line < first <= s.end_lineno else line


def classify(scope, lines, code=None):
    stmts, clauses = scope_parts(scope)
    starts = {first_line(s) for s in stmts}
    by_start = {}
    for s in stmts:
        by_start.setdefault(first_line(s), s)
    clause_starts = {lo for lo, _ in clauses}
    # A clause runs first where its types or pattern are (`except (\n KeyError,` runs line 2).
    clause_landing = {}
    for s in stmts:
        for h in getattr(s, "handlers", None) or []:
            first = first_exec(code, h.type) if (code is not None and h.type is not None) else None
            clause_landing[h.lineno] = first if first is not None and first > h.lineno else h.lineno
    for line in sorted(lines):
        if line in starts:
            yield line, "stmt", land(code, by_start, line)
        elif line in clause_starts:
            yield line, "clause", clause_landing.get(line, line)
        else:
            # The innermost statement or clause whose header holds the line.
            best = None
            for s in stmts:
                if first_line(s) <= line <= header_end(s) and (best is None or first_line(s) >= best):
                    best = first_line(s)
            clause = False
            for lo, hi in clauses:
                if lo <= line <= hi and (best is None or lo >= best):
                    best = lo
                    clause = True
            yield line, "cont", clause_landing.get(best, best) if clause else land(code, by_start, best)


def emit(name, qualname, lines, scope, code=None):
    print("S\t%s\t%s\t%d" % (name, qualname, min(lines)))
    for line, kind, landing in classify(scope, lines, code):
        print("L\t%d\t%s\t%d" % (line, kind, landing))


def main(directory, rewriter, module_subjects):
    sys.path.insert(0, rewriter)
    import sleepy_rewrite
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py"):
            continue
        path = os.path.join(directory, name)
        with open(path) as f:
            source = f.read()
        # The import hook runs a module the rewriter fails on as written (sleepy_import.py).
        try:
            sleepy_rewrite.rewrite_source(source, path)
        except (SyntaxError, RecursionError, ValueError) as e:
            print("R\t%s\t%s: %s" % (name, type(e).__name__, e))
        tree = ast.parse(source)
        module_code = compile(source, path, "exec")
        if name in module_subjects:
            emit(name, "<module>", {l for l in code_lines(module_code) if l > 0}, tree, module_code)
            continue
        nodes = [n for n in ast.walk(tree)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        for code in codes(module_code):
            if code.co_name.startswith(("_", "<")):
                continue
            # co_firstlineno is the first decorator's line.
            node = next((n for n in nodes if n.name == code.co_name
                         and first_line(n) == code.co_firstlineno), None)
            if node is None:
                continue
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in node.body):
                # A jump over a method's def would leave the program without the method.
                continue
            # Lines before the body are the def's (RESUME, RETURN_GENERATOR): no line events.
            lines = {l for l in code_lines(code) if l >= node.body[0].lineno}
            emit(name, code.co_qualname, lines, node, code)


main(sys.argv[1], sys.argv[2], set(sys.argv[3:]))
"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Statement,
    Clause,
    Continuation,
}

#[derive(Debug)]
struct Target {
    file: String,
    script: String,
    subject: String,
    first: u32,
    line: u32,
    kind: Kind,
    landing: u32,
}

#[derive(Debug, Clone)]
enum Outcome {
    /// Landed where it should and the program ended normally.
    Reached,
    /// Refused, stopped short, landed elsewhere or the run went wrong: why.
    Failed { refused: bool, why: String },
}

impl Outcome {
    fn reached(&self) -> bool {
        matches!(self, Outcome::Reached)
    }
    fn refused(&self) -> bool {
        matches!(self, Outcome::Failed { refused: true, .. })
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jumps")
}

/// The targets, and the corpus files the rewriter fails on (file, error).
fn targets() -> (Vec<Target>, Vec<(String, String)>) {
    let rewriter = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rewrite/py");
    let mut cmd = Command::new(common::python());
    cmd.arg("-c").arg(LINES_PY).arg(corpus()).arg(rewriter);
    cmd.args(MODULE_SUBJECTS.iter().map(|(m, _)| *m));
    let out = common::run_with(cmd, b"", common::LIMIT);
    assert_eq!(
        out.code,
        Some(0),
        "listing the targets failed:\n{}",
        out.stderr
    );
    let mut targets = Vec::new();
    let mut unrewritten = Vec::new();
    let mut subject: Option<(String, String, u32)> = None;
    for record in out.stdout.lines() {
        let f: Vec<&str> = record.split('\t').collect();
        match f.as_slice() {
            ["S", file, qualname, first] => {
                subject = Some((
                    file.to_string(),
                    qualname.to_string(),
                    first.parse().unwrap(),
                ))
            }
            ["L", line, kind, landing] => {
                let (file, qualname, first) = subject.clone().expect("a target before a subject");
                let script = MODULE_SUBJECTS
                    .iter()
                    .find(|(m, _)| *m == file)
                    .map(|(_, s)| s.to_string())
                    .unwrap_or_else(|| file.clone());
                targets.push(Target {
                    file,
                    script,
                    subject: qualname,
                    first,
                    line: line.parse().unwrap(),
                    kind: match *kind {
                        "stmt" => Kind::Statement,
                        "clause" => Kind::Clause,
                        _ => Kind::Continuation,
                    },
                    landing: landing.parse().unwrap(),
                });
            }
            ["R", file, error] => unrewritten.push((file.to_string(), error.to_string())),
            _ => panic!("unexpected record from the target lister: {record:?}"),
        }
    }
    (targets, unrewritten)
}

/// The line of the first stop printed in `text` (`> /path/file.py(LINE)func()`).
fn stop_line(text: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix("> ")?;
        let open = rest.find(".py(")? + 4;
        let digits: String = rest[open..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    })
}

struct Run {
    outcome: Outcome,
    /// Runs repeated because the program's output went missing (see `run_target`).
    retries: usize,
}

fn run_target(t: &Target, rewrite: bool) -> Run {
    let commands = format!("tbreak {}:{}\nc\nj {}\nc\n", t.file, t.first, t.line);
    let mut retries = 0;
    loop {
        let mut cmd = common::sleepy();
        cmd.current_dir(corpus());
        if !rewrite {
            cmd.arg("--no-rewrite");
        }
        cmd.args(["--batch", "-", &t.script]);
        let limit = Duration::from_secs(60);
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            common::run_with(cmd, commands.as_bytes(), limit)
        }));
        let out = match ran {
            Ok(out) => out,
            Err(_) => {
                let why = format!("sleepy did not finish within {limit:?}");
                return Run {
                    outcome: Outcome::Failed {
                        refused: false,
                        why,
                    },
                    retries,
                };
            }
        };
        let end = format!("END {}", t.script);
        let exited = out.stdout.contains("The program exited with code 0.");
        let printed_end = out.stdout.lines().any(|l| l == end);
        // Rarely (about one run in a thousand, under load) the front end shows the end of the
        // program before the output that precedes it arrives, and the output is lost (a bug
        // of the front end, not of jumps; reported). Such a run says nothing about the jump.
        if out.code == Some(0) && exited && !printed_end && retries < 3 {
            retries += 1;
            if std::env::var_os("JM_DEBUG").is_some() {
                eprintln!(
                    "RETRY {}:{} rewrite={rewrite}\n{}",
                    t.file, t.line, out.stdout
                );
            }
            continue;
        }
        return Run {
            outcome: judge(t, &out, exited && printed_end, rewrite),
            retries,
        };
    }
}

fn judge(t: &Target, out: &common::Out, ended: bool, rewrite: bool) -> Outcome {
    let fail = |refused: bool, why: String| Outcome::Failed {
        refused,
        why: format!("{why}\n--- transcript:\n{}{}", out.stdout, out.stderr),
    };
    let echo = format!("(sleepy) j {}\n", t.line);
    let Some(at) = out.stdout.find(&echo) else {
        return fail(false, "the jump command never ran".into());
    };
    let after = &out.stdout[at + echo.len()..];
    let reply = &after[..after.find("(sleepy) ").unwrap_or(after.len())];
    if let Some(l) = reply.lines().find(|l| l.starts_with("*** Jump failed")) {
        return fail(true, l.to_string());
    }
    if let Some(l) = reply
        .lines()
        .find(|l| l.starts_with("*** Jump stopped short"))
    {
        return fail(false, l.to_string());
    }
    match stop_line(reply) {
        Some(line) if line == t.landing => {}
        // CPython alone lands on a continuation line itself when it accepts the jump.
        Some(line) if !rewrite && line == t.line => {}
        Some(line) => return fail(false, format!("landed on line {line}, not {}", t.landing)),
        None => return fail(false, "no stop after the jump".into()),
    }
    // A continuation line lands on its statement's first line, and a note says so.
    let mentioned = format!("line {}", t.line);
    if rewrite
        && t.landing != t.line
        && !reply
            .lines()
            .any(|l| l.starts_with('(') && l.contains(&mentioned))
    {
        return fail(false, format!("no note says where line {} went", t.line));
    }
    if out.code != Some(0) || !ended {
        return fail(
            false,
            format!("the run did not end normally (exit code {:?})", out.code),
        );
    }
    Outcome::Reached
}

#[derive(Default, Clone, Copy)]
struct Tally {
    lines: usize,
    statements: usize,
    clauses: usize,
    continuations: usize,
    rewritten: usize,
    original: usize,
    refused: usize,
    known: usize,
}

fn label(file: &str) -> String {
    CONSTRUCTS
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, l)| format!("{l} (`{file}`)"))
        .unwrap_or_else(|| format!("`{file}`"))
}

#[test]
fn jump_reaches_every_line_with_code() {
    let started = Instant::now();
    let (targets, unrewritten) = targets();
    // A file the rewriter fails on runs as written, silently: its figures would be CPython's.
    let unexpected: Vec<String> = unrewritten
        .iter()
        .filter(|(f, _)| !KNOWN_UNREWRITTEN.iter().any(|(k, _)| k == f))
        .map(|(f, e)| format!("{f}: {e}"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the rewriter fails on corpus files (they would run as written):\n{}",
        unexpected.join("\n")
    );
    for (file, bug) in KNOWN_UNREWRITTEN {
        assert!(
            unrewritten.iter().any(|(f, _)| f == file),
            "{file} is rewritten now (bug {bug}): take it off KNOWN_UNREWRITTEN"
        );
    }
    assert!(
        targets.len() > 300,
        "the corpus lists only {} targets",
        targets.len()
    );
    let bug_names = KNOWN_FAILURES
        .iter()
        .map(|(_, _, b)| b)
        .chain(KNOWN_UNREWRITTEN.iter().map(|(_, b)| b));
    for bug in bug_names {
        assert!(BUGS.iter().any(|(b, _)| b == bug), "unknown bug {bug}");
    }
    for (file, line, bug) in KNOWN_FAILURES {
        assert!(
            targets.iter().any(|t| t.file == *file && t.line == *line),
            "{file}:{line} (bug {bug}) is not a target of the matrix any more"
        );
    }

    // Both runs of every target, on a small pool: sleepy is two processes that mostly wait on
    // each other, so three workers a core keep the cores busy (measured: 2 cores, 4 workers 53 s, 6 workers
    // 46 s, 8 workers 49 s).
    let jobs: Vec<(usize, bool)> = (0..targets.len())
        .flat_map(|i| [(i, true), (i, false)])
        .collect();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get() * 3)
        .unwrap_or(4)
        .min(8);
    let workers = std::env::var("JM_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(workers);
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<(usize, bool), Run>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let j = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(i, rewrite)) = jobs.get(j) else {
                        break;
                    };
                    let run = run_target(&targets[i], rewrite);
                    results.lock().unwrap().insert((i, rewrite), run);
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let elapsed = started.elapsed();

    let known = |t: &Target| {
        KNOWN_FAILURES
            .iter()
            .find(|(f, l, _)| *f == t.file && *l == t.line)
            .map(|(_, _, b)| *b)
    };
    let mut per_file: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut fixed = Vec::new();
    let mut retries = 0;
    for (i, t) in targets.iter().enumerate() {
        let rewritten = &results[&(i, true)];
        let original = &results[&(i, false)];
        retries += rewritten.retries + original.retries;
        let tally = per_file.entry(&t.file).or_default();
        tally.lines += 1;
        match t.kind {
            Kind::Statement => tally.statements += 1,
            Kind::Clause => tally.clauses += 1,
            Kind::Continuation => tally.continuations += 1,
        }
        tally.rewritten += usize::from(rewritten.outcome.reached());
        tally.original += usize::from(original.outcome.reached());
        tally.refused += usize::from(original.outcome.refused());
        let place = format!("{}:{} in {} ({:?})", t.file, t.line, t.subject, t.kind);
        match (known(t), &rewritten.outcome) {
            (Some(bug), Outcome::Reached) => fixed.push(format!("{place}: bug {bug}")),
            (Some(_), _) => tally.known += 1,
            (None, Outcome::Reached) => {}
            (None, Outcome::Failed { why, .. }) => failures.push(format!("{place}: {why}")),
        }
    }

    // The figures, as the table in docs/jumps.md.
    let mut total = Tally::default();
    println!(
        "| construct | lines with code (statement / clause / continuation) | reached, rewritten | reached, --no-rewrite | refused by CPython |"
    );
    println!("|---|---|---|---|---|");
    let row = |name: &str, t: &Tally| {
        println!(
            "| {name} | {} ({} / {} / {}) | {} / {} | {} / {} | {} |",
            t.lines,
            t.statements,
            t.clauses,
            t.continuations,
            t.rewritten,
            t.lines,
            t.original,
            t.lines,
            t.refused
        )
    };
    // In the order of CONSTRUCTS, then any other file.
    let mut files: Vec<&str> = CONSTRUCTS
        .iter()
        .map(|(f, _)| *f)
        .filter(|f| per_file.contains_key(f))
        .collect();
    files.extend(
        per_file
            .keys()
            .filter(|f| !files.contains(f))
            .copied()
            .collect::<Vec<_>>(),
    );
    for file in files {
        let t = &per_file[file];
        row(&label(file), t);
        total.lines += t.lines;
        total.statements += t.statements;
        total.clauses += t.clauses;
        total.continuations += t.continuations;
        total.rewritten += t.rewritten;
        total.original += t.original;
        total.refused += t.refused;
        total.known += t.known;
    }
    row("**all**", &total);
    println!(
        "{} targets in {} subjects, each run rewritten and with --no-rewrite, by {workers} \
         workers in {:.1} s; {} known failures ({} bugs); {retries} runs repeated for lost output",
        targets.len(),
        targets
            .iter()
            .map(|t| (&t.file, &t.subject))
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        elapsed.as_secs_f64(),
        total.known,
        BUGS.len(),
    );

    assert!(
        failures.is_empty(),
        "{} jumps failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        fixed.is_empty(),
        "these targets are reached now; take them off KNOWN_FAILURES:\n{}",
        fixed.join("\n")
    );
    // Every statement and clause line is reached (but those of the known bugs), and rewriting
    // reaches strictly more than CPython alone.
    let (mut heads, mut heads_reached, mut heads_known) = (0, 0, 0);
    for (i, t) in targets.iter().enumerate() {
        if t.kind != Kind::Continuation {
            heads += 1;
            heads_reached += usize::from(results[&(i, true)].outcome.reached());
            heads_known += usize::from(known(t).is_some());
        }
    }
    assert_eq!(heads_reached, heads - heads_known);
    assert!(
        total.rewritten > total.original,
        "rewriting reaches {} lines, CPython alone {}",
        total.rewritten,
        total.original
    );
}
