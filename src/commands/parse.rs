//! Parsing one command line into a [`Command`], with pdb's argument rules and error messages.

use crate::protocol::{EvalStyle, Resume};

use super::{CommandId, lookup};

/// The backward execution commands, mirrors of the forward ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Back {
    Step,
    Next,
    Return,
    Continue,
}

/// What `list` was asked to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListArg {
    /// No argument: continue the previous listing, or around the current line.
    Continue,
    /// `.`: around the current line again.
    Current,
    /// `list N`: 11 lines around N.
    Around(u32),
    /// `list FIRST, LAST`.
    Range(u32, u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Resume(Resume),
    /// `jump LINE [OPTION]`.
    Jump {
        line: u32,
        option: Option<String>,
    },
    /// `location` None lists the breakpoints.
    Break {
        location: Option<String>,
        condition: Option<String>,
        temporary: bool,
    },
    ClearAll,
    ClearNumbers(Vec<String>),
    ClearLine {
        file: String,
        line: String,
    },
    Enable {
        numbers: Vec<String>,
        enable: bool,
    },
    Condition {
        number: String,
        condition: Option<String>,
    },
    Ignore {
        number: String,
        count: Option<String>,
    },
    Where,
    Up(usize),
    Down(usize),
    Eval {
        expr: String,
        style: EvalStyle,
    },
    Args,
    List(ListArg),
    LongList,
    Display(Option<String>),
    Undisplay(Option<String>),
    Retval,
    Tick,
    /// `rstep`, `rnext`, `rreturn`, `rcontinue`.
    Back(Back),
    Goto(u64),
    Restore(u32),
    Checkpoints,
    Checkpoint,
    /// `suspend [next] [FILE]`.
    Suspend {
        next: bool,
        file: Option<String>,
    },
    Watch {
        expr: String,
        function: Option<String>,
    },
    Unwatch(Option<u32>),
    /// A Python statement; `explicit` when typed with `!`.
    Exec {
        source: String,
        explicit: bool,
    },
    Quit,
    Help(Option<String>),
}

impl Command {
    pub fn id(&self) -> CommandId {
        match self {
            Command::Resume(Resume::Step) => CommandId::Step,
            Command::Resume(Resume::Next) => CommandId::Next,
            Command::Resume(Resume::Return) => CommandId::Return,
            Command::Resume(Resume::Continue) => CommandId::Continue,
            Command::Resume(Resume::Until(_)) => CommandId::Until,
            Command::Jump { .. } => CommandId::Jump,
            Command::Break {
                temporary: true, ..
            } => CommandId::Tbreak,
            Command::Break { .. } => CommandId::Break,
            Command::ClearAll | Command::ClearNumbers(_) | Command::ClearLine { .. } => {
                CommandId::Clear
            }
            Command::Enable { enable: true, .. } => CommandId::Enable,
            Command::Enable { .. } => CommandId::Disable,
            Command::Condition { .. } => CommandId::Condition,
            Command::Ignore { .. } => CommandId::Ignore,
            Command::Where => CommandId::Where,
            Command::Up(_) => CommandId::Up,
            Command::Down(_) => CommandId::Down,
            Command::Eval {
                style: EvalStyle::Repr,
                ..
            } => CommandId::Print,
            Command::Eval {
                style: EvalStyle::Pretty,
                ..
            } => CommandId::PrettyPrint,
            Command::Eval {
                style: EvalStyle::WhatIs,
                ..
            } => CommandId::Whatis,
            Command::Args => CommandId::Args,
            Command::List(_) => CommandId::List,
            Command::LongList => CommandId::LongList,
            Command::Display(_) => CommandId::Display,
            Command::Undisplay(_) => CommandId::Undisplay,
            Command::Retval => CommandId::Retval,
            Command::Tick => CommandId::Tick,
            Command::Back(Back::Step) => CommandId::Rstep,
            Command::Back(Back::Next) => CommandId::Rnext,
            Command::Back(Back::Return) => CommandId::Rreturn,
            Command::Back(Back::Continue) => CommandId::Rcontinue,
            Command::Goto(_) => CommandId::Goto,
            Command::Restore(_) => CommandId::Restore,
            Command::Checkpoints => CommandId::Checkpoints,
            Command::Checkpoint => CommandId::Checkpoint,
            Command::Suspend { .. } => CommandId::Suspend,
            Command::Watch { .. } => CommandId::Watch,
            Command::Unwatch(_) => CommandId::Unwatch,
            Command::Exec { .. } => CommandId::Exec,
            Command::Quit => CommandId::Quit,
            Command::Help(_) => CommandId::Help,
        }
    }
}

/// A command line that cannot run; the text is what pdb would print after `***`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Splits a line at pdb's `;;` separators.
pub fn split_commands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(";;") {
        out.push(rest[..at].trim_end().to_string());
        rest = rest[at + 2..].trim_start();
    }
    out.push(rest.to_string());
    out
}

fn split_word(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    (&line[..end], line[end..].trim())
}

/// Python's `repr` of a string, for messages that quote what the user typed as pdb does.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn opt(arg: &str) -> Option<String> {
    let arg = arg.trim();
    (!arg.is_empty()).then(|| arg.to_string())
}

fn required(arg: &str, usage: &str) -> Result<String, ParseError> {
    opt(arg).ok_or_else(|| ParseError(format!("Usage: {usage}")))
}

fn count(arg: &str) -> Result<usize, ParseError> {
    let arg = arg.trim();
    if arg.is_empty() {
        return Ok(1);
    }
    arg.parse::<usize>()
        .map_err(|_| ParseError(format!("Invalid frame count ({arg})")))
}

fn parse_list(arg: &str) -> Result<ListArg, ParseError> {
    let arg = arg.trim();
    let bad = || ParseError(format!("Error in argument: {}", py_repr(arg)));
    if arg.is_empty() {
        return Ok(ListArg::Continue);
    }
    if arg == "." {
        return Ok(ListArg::Current);
    }
    if let Some((first, last)) = arg.split_once(',') {
        let first: u32 = first.trim().parse().map_err(|_| bad())?;
        let last: u32 = last.trim().parse().map_err(|_| bad())?;
        let last = if last < first { first + last } else { last };
        return Ok(ListArg::Range(first, last));
    }
    Ok(ListArg::Around(arg.parse().map_err(|_| bad())?))
}

fn parse_break(arg: &str, temporary: bool) -> Command {
    let arg = arg.trim();
    if arg.is_empty() {
        return Command::Break {
            location: None,
            condition: None,
            temporary,
        };
    }
    // pdb: the comma has the lowest precedence and cannot occur in a file name.
    match arg.find(',') {
        Some(comma) if comma > 0 => Command::Break {
            location: Some(arg[..comma].trim_end().to_string()),
            condition: opt(&arg[comma + 1..]),
            temporary,
        },
        _ => Command::Break {
            location: Some(arg.to_string()),
            condition: None,
            temporary,
        },
    }
}

/// Parses one command (already split at `;;`). A line that is not a command is a Python
/// statement, as in pdb.
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let line = line.trim();
    if let Some(stmt) = line.strip_prefix('!') {
        return Ok(Command::Exec {
            source: stmt.trim().to_string(),
            explicit: true,
        });
    }
    let (word, arg) = split_word(line);
    let Some(spec) = lookup(word) else {
        return Ok(Command::Exec {
            source: line.to_string(),
            explicit: false,
        });
    };
    // `n = 3`, `c.x = 1`, `l[0]`: the user meant Python, not the command (pdb 3.13's rule).
    let rest = &line[word.len()..];
    let rest_trimmed = rest.trim_start();
    if (rest_trimmed.starts_with('=') && !rest_trimmed.starts_with("=="))
        || rest.starts_with('.')
        || rest.starts_with('[')
    {
        return Ok(Command::Exec {
            source: line.to_string(),
            explicit: false,
        });
    }
    let command = match spec.id {
        CommandId::Step => Command::Resume(Resume::Step),
        CommandId::Next => Command::Resume(Resume::Next),
        CommandId::Return => Command::Resume(Resume::Return),
        CommandId::Continue => Command::Resume(Resume::Continue),
        CommandId::Until => {
            let target = match opt(arg) {
                None => None,
                Some(a) => Some(
                    a.parse::<u32>()
                        .map_err(|_| ParseError(format!("Error in argument: {}", py_repr(&a))))?,
                ),
            };
            Command::Resume(Resume::Until(target))
        }
        CommandId::Jump => {
            let (line, option) = arg.split_once(char::is_whitespace).unwrap_or((arg, ""));
            let Ok(line) = line.trim().parse::<u32>() else {
                return Err(ParseError(
                    "The 'jump' command requires a line number".into(),
                ));
            };
            Command::Jump {
                line,
                option: opt(option),
            }
        }
        CommandId::Break => parse_break(arg, false),
        CommandId::Tbreak => parse_break(arg, true),
        CommandId::Clear => match opt(arg) {
            None => Command::ClearAll,
            Some(a) => match a.rfind(':') {
                Some(i) => Command::ClearLine {
                    file: a[..i].to_string(),
                    line: a[i + 1..].to_string(),
                },
                None => Command::ClearNumbers(a.split_whitespace().map(str::to_string).collect()),
            },
        },
        CommandId::Disable | CommandId::Enable => {
            let numbers: Vec<String> = arg.split_whitespace().map(str::to_string).collect();
            if numbers.is_empty() {
                return Err(ParseError(format!("Usage: {}", spec.usage)));
            }
            Command::Enable {
                numbers,
                enable: spec.id == CommandId::Enable,
            }
        }
        CommandId::Condition => {
            let (number, cond) = arg.split_once(' ').unwrap_or((arg, ""));
            if number.trim().is_empty() {
                return Err(ParseError("Breakpoint number expected".into()));
            }
            Command::Condition {
                number: number.trim().to_string(),
                condition: opt(cond),
            }
        }
        CommandId::Ignore => {
            let mut parts = arg.split_whitespace();
            let Some(number) = parts.next() else {
                return Err(ParseError("Breakpoint number expected".into()));
            };
            Command::Ignore {
                number: number.to_string(),
                count: parts.next().map(str::to_string),
            }
        }
        CommandId::Where => Command::Where,
        CommandId::Up => Command::Up(count(arg)?),
        CommandId::Down => Command::Down(count(arg)?),
        CommandId::Print => Command::Eval {
            expr: required(arg, spec.usage)?,
            style: EvalStyle::Repr,
        },
        CommandId::PrettyPrint => Command::Eval {
            expr: required(arg, spec.usage)?,
            style: EvalStyle::Pretty,
        },
        CommandId::Whatis => Command::Eval {
            expr: required(arg, spec.usage)?,
            style: EvalStyle::WhatIs,
        },
        CommandId::Args => Command::Args,
        CommandId::List => Command::List(parse_list(arg)?),
        CommandId::LongList => Command::LongList,
        CommandId::Display => Command::Display(opt(arg)),
        CommandId::Undisplay => Command::Undisplay(opt(arg)),
        CommandId::Retval => Command::Retval,
        CommandId::Tick => Command::Tick,
        CommandId::Rstep => Command::Back(Back::Step),
        CommandId::Rnext => Command::Back(Back::Next),
        CommandId::Rreturn => Command::Back(Back::Return),
        CommandId::Rcontinue => Command::Back(Back::Continue),
        CommandId::Goto => {
            let a = required(arg, spec.usage)?;
            Command::Goto(a.parse::<u64>().map_err(|_| {
                ParseError(format!("goto needs a tick number, not {}", py_repr(&a)))
            })?)
        }
        CommandId::Restore => {
            let a = required(arg, spec.usage)?;
            Command::Restore(a.parse::<u32>().map_err(|_| {
                ParseError(format!(
                    "restore needs a checkpoint number, not {}",
                    py_repr(&a)
                ))
            })?)
        }
        CommandId::Checkpoints => Command::Checkpoints,
        CommandId::Checkpoint => Command::Checkpoint,
        CommandId::Suspend => {
            let a = arg.trim();
            let (next, rest) = match a.split_once(char::is_whitespace) {
                Some(("next", rest)) => (true, rest.trim()),
                _ if a == "next" => (true, ""),
                _ => (false, a),
            };
            Command::Suspend {
                next,
                file: (!rest.is_empty()).then(|| rest.to_string()),
            }
        }
        CommandId::Watch => {
            let a = required(arg, spec.usage)?;
            match a.rsplit_once(" in ") {
                Some((expr, function))
                    if !function.trim().is_empty()
                        && function
                            .trim()
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == '.') =>
                {
                    Command::Watch {
                        expr: expr.trim().to_string(),
                        function: Some(function.trim().to_string()),
                    }
                }
                _ => Command::Watch {
                    expr: a,
                    function: None,
                },
            }
        }
        CommandId::Unwatch => match opt(arg) {
            None => Command::Unwatch(None),
            Some(a) => Command::Unwatch(Some(a.parse::<u32>().map_err(|_| {
                ParseError(format!("unwatch needs a watch number, not {}", py_repr(&a)))
            })?)),
        },
        CommandId::Exec => Command::Exec {
            source: arg.to_string(),
            explicit: true,
        },
        CommandId::Quit => Command::Quit,
        CommandId::Help => Command::Help(opt(arg)),
    };
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdb_abbreviations() {
        assert_eq!(parse("s").unwrap(), Command::Resume(Resume::Step));
        assert_eq!(parse("n").unwrap(), Command::Resume(Resume::Next));
        assert_eq!(parse("r").unwrap(), Command::Resume(Resume::Return));
        assert_eq!(parse("cont").unwrap(), Command::Resume(Resume::Continue));
        assert_eq!(
            parse("unt 12").unwrap(),
            Command::Resume(Resume::Until(Some(12)))
        );
        assert_eq!(parse("bt").unwrap(), Command::Where);
        assert_eq!(parse("u 2").unwrap(), Command::Up(2));
        assert_eq!(parse("rv").unwrap(), Command::Retval);
        assert_eq!(parse("ll").unwrap(), Command::LongList);
        assert_eq!(
            parse("h until").unwrap(),
            Command::Help(Some("until".into()))
        );
    }

    #[test]
    fn break_takes_a_location_and_a_condition() {
        assert_eq!(
            parse("b mod.py:12, x > 3 and y").unwrap(),
            Command::Break {
                location: Some("mod.py:12".into()),
                condition: Some("x > 3 and y".into()),
                temporary: false
            }
        );
        assert_eq!(
            parse("tbreak f").unwrap(),
            Command::Break {
                location: Some("f".into()),
                condition: None,
                temporary: true
            }
        );
        assert_eq!(
            parse("b").unwrap(),
            Command::Break {
                location: None,
                condition: None,
                temporary: false
            }
        );
    }

    #[test]
    fn clear_forms() {
        assert_eq!(parse("cl").unwrap(), Command::ClearAll);
        assert_eq!(
            parse("cl 1 2").unwrap(),
            Command::ClearNumbers(vec!["1".into(), "2".into()])
        );
        assert_eq!(
            parse("clear a.py:4").unwrap(),
            Command::ClearLine {
                file: "a.py".into(),
                line: "4".into()
            }
        );
    }

    #[test]
    fn list_arguments_follow_pdb() {
        assert_eq!(parse("l").unwrap(), Command::List(ListArg::Continue));
        assert_eq!(parse("l .").unwrap(), Command::List(ListArg::Current));
        assert_eq!(parse("l 20").unwrap(), Command::List(ListArg::Around(20)));
        assert_eq!(
            parse("l 5, 8").unwrap(),
            Command::List(ListArg::Range(5, 8))
        );
        assert_eq!(
            parse("l 5, 3").unwrap(),
            Command::List(ListArg::Range(5, 8))
        );
        assert_eq!(parse("l x").unwrap_err().0, "Error in argument: 'x'");
    }

    #[test]
    fn anything_else_is_python() {
        assert_eq!(
            parse("x = 3").unwrap(),
            Command::Exec {
                source: "x = 3".into(),
                explicit: false
            }
        );
        assert_eq!(
            parse("!n = 3").unwrap(),
            Command::Exec {
                source: "n = 3".into(),
                explicit: true
            }
        );
        assert_eq!(
            parse("n = 3").unwrap(),
            Command::Exec {
                source: "n = 3".into(),
                explicit: false
            }
        );
        assert_eq!(
            parse("c.append(1)").unwrap(),
            Command::Exec {
                source: "c.append(1)".into(),
                explicit: false
            }
        );
        assert_eq!(
            parse("p(x)").unwrap(),
            Command::Eval {
                expr: "(x)".into(),
                style: EvalStyle::Repr
            }
        );
    }

    #[test]
    fn bad_arguments_are_pdbs_errors() {
        assert_eq!(parse("until x").unwrap_err().0, "Error in argument: 'x'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a\nb"), "'a\\nb'");
        assert_eq!(parse("up z").unwrap_err().0, "Invalid frame count (z)");
        assert_eq!(parse("p").unwrap_err().0, "Usage: p EXPRESSION");
        assert_eq!(parse("ignore").unwrap_err().0, "Breakpoint number expected");
    }

    #[test]
    fn double_semicolons_separate_commands() {
        assert_eq!(split_commands("p x;; n ;;p y"), vec!["p x", "n", "p y"]);
        assert_eq!(split_commands("p 'a;b'"), vec!["p 'a;b'"]);
    }
}
