//! sleepy's command line, parsed the way `python3` parses its own: options first, then the
//! script (or `-m module`), and everything after that belongs to the program untouched.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::protocol::Target;

pub const USAGE: &str = "\
usage: sleepy [OPTIONS] script.py [ARGS...]          debug a script in the terminal UI
       sleepy [OPTIONS] -m MODULE [ARGS...]          debug a module, like python3 -m
       sleepy --batch FILE|- [OPTIONS] script.py|-m MODULE [ARGS...]
                                                     run debugger commands from FILE (- for stdin)
                                                     and print a transcript
       sleepy run [OPTIONS] script.py|-m MODULE [ARGS...]
                                                     run the program to its end under sleepy's
                                                     tracing, with no debugger UI
       sleepy resume [--run] [OPTIONS] FILE          continue a suspended program (in the
                                                     debugger, or headless with --run)
       sleepy inspect FILE                           print a snapshot's stack and locals

options:
  --batch FILE      read debugger commands from FILE (- reads them from stdin)
  --theme NAME      the TUI's colours: dark, light, high-contrast, or a theme file
  --line            a line-mode debugger at a (sleepy) prompt instead of the TUI (also used
                    when stdin or stdout is not a terminal)
  --stdin FILE      in batch mode, what the program reads from its stdin, line by line
  --trace GLOB      also trace modules whose name or file matches GLOB (repeatable)
  --rewrite GLOB    also rewrite (and trace) modules matching GLOB, e.g. 'test.test_enum*'
  --no-rewrite      run the code as written: jumps then have CPython's (pdb's) limits
  --no-trace        (run) no trace hook at all: the rewritten code alone, for measuring
  --settrace        line events from the trace function only, also on 3.12+ where they
                    otherwise come from sys.monitoring while sleepy needs nothing else
                    (for measuring and comparing the two)
  --no-time-travel  no checkpoints and no record of inputs: forward debugging only
  --time-travel     (run) record and take checkpoints as a debugging session does, with no
                    stops: measures what recording costs (see --stats)
  --checkpoint-interval MS
                    a checkpoint after every MS milliseconds the program runs (default 50)
  --checkpoint-ticks N
                    ... or after every N ticks, whichever comes first (default 1000000)
  --checkpoint-max N
                    keep at most N checkpoints, thinning older ones (default 64)
  --checkpoint-memory MB
                    keep the checkpoints' own memory under MB megabytes (default 2048)
  --stats           (run) print the run's tick count and time on stderr at the end
  --quota DURATION  (run) suspend to a file after DURATION of running (30s, 5m, 1h) and exit 0
  --quota-ticks N   (run) the same after N more ticks (lines) of the program: the same place
                    on every run
  --checkpoint FILE (run) where suspends go (default: <script stem>.sleepy here); with it,
                    SIGTERM suspends too
  --checkpoint-every DURATION
                    (run) write the snapshot every DURATION and go on running
  --dump-on-crash   (run) an uncaught exception leaves a post-mortem snapshot file
  --key FILE        the key snapshots are signed and checked with (default:
                    ~/.config/sleepy/snapshot.key, made on first use): copy it to resume
                    a snapshot on another machine
  -h, --help        show this help
  -V, --version     show sleepy's version and the Python it embeds";

fn positive(name: &str, value: &str) -> Result<u64, UsageError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(UsageError(format!(
            "{name} needs a positive whole number, not {value:?}"
        ))),
    }
}

/// The program to run, as the user named it.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub target: Target,
    pub args: Vec<OsString>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Options {
    pub trace: Vec<String>,
    pub stdin: Option<PathBuf>,
    pub stats: bool,
    /// `--no-rewrite`: run the code as written (pdb's jump limits apply).
    pub no_rewrite: bool,
    pub rewrite: Vec<String>,
    /// `sleepy run --no-trace`: rewritten code without the trace hook (for measuring).
    pub no_trace: bool,
    /// `--settrace`: never take line events from `sys.monitoring` (3.12+).
    pub settrace: bool,
    pub time_travel: TimeTravelOptions,
    /// `--theme NAME|FILE` for the TUI.
    pub theme: Option<String>,
    /// `--line`: the line-mode debugger at a `(sleepy)` prompt instead of the TUI.
    pub line_mode: bool,
    /// Resume the program saved in this snapshot file (`sleepy resume FILE`).
    pub resume: Option<PathBuf>,
    /// `--key FILE`: the snapshot key (for moving snapshots between machines).
    pub key: Option<PathBuf>,
    /// `--quota`, `--checkpoint`, `--checkpoint-every`, `--dump-on-crash`.
    pub suspend: SuspendOptions,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SuspendOptions {
    pub quota_ms: Option<u64>,
    pub quota_ticks: Option<u64>,
    /// `--checkpoint FILE`: where snapshots go (else `<script stem>.sleepy`).
    pub file: Option<PathBuf>,
    pub every_ms: Option<u64>,
    pub dump_on_crash: bool,
}

impl SuspendOptions {
    /// Whether the run suspends by itself at all.
    pub fn any(&self) -> bool {
        self.quota_ms.is_some()
            || self.quota_ticks.is_some()
            || self.file.is_some()
            || self.every_ms.is_some()
            || self.dump_on_crash
    }
}

/// `30s`, `2m`, `1h`, `500ms`, or a plain number of seconds.
pub fn duration_ms(name: &str, value: &str) -> Result<u64, UsageError> {
    let v = value.trim();
    let (number, unit) = match v.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&v[..i], &v[i..]),
        None => (v, "s"),
    };
    let scale = match unit {
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => {
            return Err(UsageError(format!(
                "{name} needs a duration like 30s, 5m, 1h or 500ms, not {value:?}"
            )));
        }
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(((n * scale).round() as u64).max(1)),
        _ => Err(UsageError(format!(
            "{name} needs a duration like 30s, 5m, 1h or 500ms, not {value:?}"
        ))),
    }
}

/// How checkpoints are taken and kept (see docs/time-travel.md for how the defaults were chosen).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeTravelOptions {
    pub enabled: bool,
    pub interval_ms: u64,
    pub interval_ticks: u64,
    pub max_count: usize,
    pub max_memory: u64,
}

impl Default for TimeTravelOptions {
    fn default() -> Self {
        TimeTravelOptions {
            enabled: true,
            interval_ms: 50,
            interval_ticks: 1_000_000,
            max_count: 64,
            max_memory: 2048 << 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandSource {
    File(PathBuf),
    Stdin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    Help,
    Version,
    /// The agent process (internal).
    Agent,
    /// Debug with commands from a file or stdin (`--batch`), or interactively from the terminal.
    Debug {
        program: Program,
        options: Options,
        batch: Option<CommandSource>,
    },
    Run {
        program: Program,
        options: Options,
    },
    /// `sleepy resume FILE`: in the debugger, or headless with `--run`.
    Resume {
        file: PathBuf,
        run: bool,
        options: Options,
        batch: Option<CommandSource>,
    },
    /// `sleepy inspect FILE`: print a snapshot's header, stack and locals.
    Inspect {
        file: PathBuf,
        key: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// `os.path.abspath`: absolute and normalised, without resolving symbolic links (python3 sets
/// `__file__` that way).
pub fn abspath(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

pub fn parse(args: &[OsString], cwd: &Path) -> Result<Invocation, UsageError> {
    let mut rest = args.iter().skip(1).peekable();
    match rest.peek().map(|a| a.as_os_str()) {
        Some(a) if a == "__agent" => return Ok(Invocation::Agent),
        _ => {}
    }
    match rest.peek().map(|a| a.as_os_str()) {
        Some(a) if a == "resume" => {
            rest.next();
            return parse_resume(rest.cloned().collect(), cwd);
        }
        Some(a) if a == "inspect" => {
            rest.next();
            let mut file = None;
            let mut key = None;
            while let Some(arg) = rest.next() {
                let text = arg.to_string_lossy();
                if text == "--key" {
                    let v = rest
                        .next()
                        .ok_or_else(|| UsageError("--key needs a value".into()))?;
                    key = Some(abspath(Path::new(v), cwd));
                } else if let Some(v) = text.strip_prefix("--key=") {
                    key = Some(abspath(Path::new(v), cwd));
                } else if file.is_none() {
                    file = Some(abspath(Path::new(arg), cwd));
                } else {
                    return Err(UsageError(format!(
                        "inspect takes one file, not also {text}"
                    )));
                }
            }
            let file = file.ok_or_else(|| UsageError("inspect needs a snapshot file".into()))?;
            return Ok(Invocation::Inspect { file, key });
        }
        _ => {}
    }
    let run = matches!(rest.peek().map(|a| a.as_os_str()), Some(a) if a == "run");
    if run {
        rest.next();
    }
    let mut options = Options::default();
    // `sleepy run` records nothing unless asked to (--time-travel, for measuring).
    options.time_travel.enabled = !run;
    let mut batch = None;
    let mut target = None;
    let value = |name: &str,
                 inline: Option<&str>,
                 rest: &mut dyn Iterator<Item = &OsString>|
     -> Result<String, UsageError> {
        match inline {
            Some(v) => Ok(v.to_string()),
            None => rest
                .next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| UsageError(format!("{name} needs a value"))),
        }
    };
    while let Some(arg) = rest.next() {
        let text = arg.to_string_lossy();
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (text.to_string(), None),
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Invocation::Help),
            "-V" | "--version" => return Ok(Invocation::Version),
            "--batch" if !run => {
                let v = value("--batch", inline.as_deref(), &mut rest)?;
                batch = Some(if v == "-" {
                    CommandSource::Stdin
                } else {
                    CommandSource::File(PathBuf::from(v))
                });
            }
            "--trace" => options
                .trace
                .push(value("--trace", inline.as_deref(), &mut rest)?),
            "--stdin" => {
                options.stdin = Some(PathBuf::from(value(
                    "--stdin",
                    inline.as_deref(),
                    &mut rest,
                )?))
            }
            "--stats" => options.stats = true,
            "--no-time-travel" => options.time_travel.enabled = false,
            "--time-travel" if run => options.time_travel.enabled = true,
            "--checkpoint-interval" => {
                let v = value("--checkpoint-interval", inline.as_deref(), &mut rest)?;
                options.time_travel.interval_ms = positive("--checkpoint-interval", &v)?;
            }
            "--checkpoint-ticks" => {
                let v = value("--checkpoint-ticks", inline.as_deref(), &mut rest)?;
                options.time_travel.interval_ticks = positive("--checkpoint-ticks", &v)?;
            }
            "--checkpoint-max" => {
                let v = value("--checkpoint-max", inline.as_deref(), &mut rest)?;
                let n = positive("--checkpoint-max", &v)?;
                if n < 2 {
                    return Err(UsageError("--checkpoint-max must be at least 2".into()));
                }
                options.time_travel.max_count = usize::try_from(n).unwrap_or(usize::MAX);
            }
            "--checkpoint-memory" => {
                let v = value("--checkpoint-memory", inline.as_deref(), &mut rest)?;
                options.time_travel.max_memory =
                    positive("--checkpoint-memory", &v)?.saturating_mul(1 << 20);
            }
            "--no-rewrite" => options.no_rewrite = true,
            "--quota" if run => {
                let v = value("--quota", inline.as_deref(), &mut rest)?;
                options.suspend.quota_ms = Some(duration_ms("--quota", &v)?);
            }
            "--quota-ticks" if run => {
                let v = value("--quota-ticks", inline.as_deref(), &mut rest)?;
                options.suspend.quota_ticks = Some(positive("--quota-ticks", &v)?);
            }
            "--checkpoint" if run => {
                let v = value("--checkpoint", inline.as_deref(), &mut rest)?;
                options.suspend.file = Some(abspath(Path::new(&v), cwd));
            }
            "--checkpoint-every" if run => {
                let v = value("--checkpoint-every", inline.as_deref(), &mut rest)?;
                options.suspend.every_ms = Some(duration_ms("--checkpoint-every", &v)?);
            }
            "--dump-on-crash" if run => options.suspend.dump_on_crash = true,
            "--key" => {
                let v = value("--key", inline.as_deref(), &mut rest)?;
                options.key = Some(abspath(Path::new(&v), cwd));
            }
            "--theme" if !run => {
                options.theme = Some(value("--theme", inline.as_deref(), &mut rest)?)
            }
            "--line" if !run => options.line_mode = true,
            "--no-trace" if run => options.no_trace = true,
            "--settrace" => options.settrace = true,
            "--rewrite" => options
                .rewrite
                .push(value("--rewrite", inline.as_deref(), &mut rest)?),
            "-m" => {
                let module = rest
                    .next()
                    .ok_or_else(|| UsageError("-m needs a module name".into()))?;
                target = Some(Target::Module {
                    name: module.to_string_lossy().into_owned(),
                });
                break;
            }
            "--" => {
                let script = rest
                    .next()
                    .ok_or_else(|| UsageError("-- must be followed by the script".into()))?;
                target = Some(script_target(script, cwd));
                break;
            }
            _ if text.starts_with('-') && text.len() > 1 => {
                return Err(UsageError(format!("unknown option {text}")));
            }
            _ => {
                target = Some(script_target(arg, cwd));
                break;
            }
        }
    }
    let Some(target) = target else {
        return Err(UsageError("no script or module to run".into()));
    };
    let program = Program {
        target,
        args: rest.cloned().collect(),
    };
    if run {
        Ok(Invocation::Run { program, options })
    } else {
        Ok(Invocation::Debug {
            program,
            options,
            batch,
        })
    }
}

/// `sleepy resume [OPTIONS] FILE`: the options of `run` (with `--run`) or of the debugger.
fn parse_resume(args: Vec<OsString>, cwd: &Path) -> Result<Invocation, UsageError> {
    let mut run = false;
    let mut file = None;
    let mut passed: Vec<OsString> = vec![OsString::from("sleepy")];
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let text = arg.to_string_lossy().into_owned();
        match text.as_str() {
            "--run" => run = true,
            "-h" | "--help" => return Ok(Invocation::Help),
            _ if text.starts_with('-') => {
                let takes_value = matches!(
                    text.as_str(),
                    "--quota"
                        | "--key"
                        | "--quota-ticks"
                        | "--checkpoint"
                        | "--checkpoint-every"
                        | "--batch"
                        | "--stdin"
                        | "--theme"
                        | "--checkpoint-interval"
                        | "--checkpoint-ticks"
                        | "--checkpoint-max"
                        | "--checkpoint-memory"
                );
                passed.push(arg.clone());
                if takes_value && !text.contains('=') {
                    let v = it
                        .next()
                        .ok_or_else(|| UsageError(format!("{text} needs a value")))?;
                    passed.push(v);
                }
            }
            _ if file.is_none() => file = Some(abspath(Path::new(&arg), cwd)),
            _ => {
                return Err(UsageError(format!(
                    "resume takes one snapshot file, not also {text}"
                )));
            }
        }
    }
    let file = file.ok_or_else(|| UsageError("resume needs a snapshot file".into()))?;
    if run {
        passed.insert(1, OsString::from("run"));
    }
    // The options parse as for `run` or the debugger; the program comes from the file.
    passed.push(OsString::from("--"));
    passed.push(file.clone().into_os_string());
    let (options, batch) = match parse(&passed, cwd)? {
        Invocation::Run { options, .. } => (options, None),
        Invocation::Debug { options, batch, .. } => (options, batch),
        other => return Ok(other),
    };
    Ok(Invocation::Resume {
        file,
        run,
        options,
        batch,
    })
}

fn script_target(arg: &OsStr, cwd: &Path) -> Target {
    Target::Script {
        path: abspath(Path::new(arg), cwd),
        argv0: String::from_utf8_lossy(arg.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation, UsageError> {
        let args: Vec<OsString> = std::iter::once("sleepy")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse(&args, Path::new("/work"))
    }

    #[test]
    fn everything_after_the_script_belongs_to_the_program() {
        let inv = p(&["--batch", "cmds", "demo.py", "--batch", "-x"]).unwrap();
        let Invocation::Debug { program, batch, .. } = inv else {
            panic!()
        };
        assert_eq!(batch, Some(CommandSource::File("cmds".into())));
        assert_eq!(
            program.target,
            Target::Script {
                path: "/work/demo.py".into(),
                argv0: "demo.py".into()
            }
        );
        assert_eq!(
            program.args,
            vec![OsString::from("--batch"), OsString::from("-x")]
        );
    }

    #[test]
    fn module_mode_and_run() {
        let inv = p(&["run", "--trace", "pkg.*", "-m", "pkg.mod", "-v"]).unwrap();
        let Invocation::Run { program, options } = inv else {
            panic!()
        };
        assert_eq!(
            program.target,
            Target::Module {
                name: "pkg.mod".into()
            }
        );
        assert_eq!(program.args, vec![OsString::from("-v")]);
        assert_eq!(options.trace, vec!["pkg.*".to_string()]);
        assert_eq!(
            p(&["--batch=-", "-m", "x"]).unwrap(),
            Invocation::Debug {
                program: Program {
                    target: Target::Module { name: "x".into() },
                    args: vec![]
                },
                options: Options::default(),
                batch: Some(CommandSource::Stdin),
            }
        );
    }

    #[test]
    fn usage_errors_are_clear() {
        assert_eq!(p(&[]).unwrap_err().0, "no script or module to run");
        assert_eq!(
            p(&["--frob", "x.py"]).unwrap_err().0,
            "unknown option --frob"
        );
        assert_eq!(p(&["--batch"]).unwrap_err().0, "--batch needs a value");
        assert_eq!(p(&["-m"]).unwrap_err().0, "-m needs a module name");
    }

    #[test]
    fn abspath_normalises_without_resolving_links() {
        assert_eq!(
            abspath(Path::new("a/../b/./c.py"), Path::new("/w")),
            PathBuf::from("/w/b/c.py")
        );
        assert_eq!(
            abspath(Path::new("/x/y.py"), Path::new("/w")),
            PathBuf::from("/x/y.py")
        );
    }
}
