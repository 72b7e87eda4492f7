//! The one command table: names, pdb's abbreviations, usage, help text and default keys.
//!
//! Parsing a command line, generating `help`, completing on the command line and (later) the
//! TUI's key bindings all read this table, so a command exists in one place only.

pub mod parse;

use serde::{Deserialize, Serialize};

pub use parse::{Back, Command, ListArg, ParseError, parse};

/// Every command, by a stable name: key maps and config refer to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandId {
    Step,
    Next,
    Return,
    Continue,
    Until,
    Jump,
    Break,
    Tbreak,
    Clear,
    Disable,
    Enable,
    Condition,
    Ignore,
    Where,
    Up,
    Down,
    Print,
    PrettyPrint,
    Args,
    List,
    LongList,
    Display,
    Undisplay,
    Whatis,
    Retval,
    Tick,
    Rstep,
    Rnext,
    Rreturn,
    Rcontinue,
    Goto,
    Restore,
    Checkpoints,
    Checkpoint,
    Suspend,
    Watch,
    Unwatch,
    Exec,
    Quit,
    Help,
}

pub struct CommandSpec {
    pub id: CommandId,
    pub name: &'static str,
    /// pdb's abbreviations and other names.
    pub aliases: &'static [&'static str],
    pub usage: &'static str,
    pub summary: &'static str,
    pub help: &'static str,
    /// Default keys in the TUI (config can change them).
    pub keys: &'static [&'static str],
}

macro_rules! command {
    ($id:ident, $name:literal, [$($alias:literal),*], $usage:literal, $summary:literal, $help:literal, [$($key:literal),*]) => {
        CommandSpec {
            id: CommandId::$id,
            name: $name,
            aliases: &[$($alias),*],
            usage: $usage,
            summary: $summary,
            help: $help,
            keys: &[$($key),*],
        }
    };
}

pub static COMMANDS: &[CommandSpec] = &[
    command!(
        Step,
        "step",
        ["s"],
        "step",
        "run the current line, stopping in the first function it calls",
        "Execute the current line and stop at the first possible occasion: in a function that is \
         called (--Call--), on the next line, or when the current function returns (--Return--). \
         Only the program's own code is stepped into; library code runs without stops.",
        ["s", "f11"]
    ),
    command!(
        Next,
        "next",
        ["n"],
        "next",
        "run to the next line of this function",
        "Continue until the next line in the selected function is reached or it returns. \
         Calls made by the line run without stopping (breakpoints in them still stop).",
        ["n", "f10"]
    ),
    command!(
        Return,
        "return",
        ["r"],
        "return",
        "run until the selected function returns",
        "Continue until the selected function returns; stops at its return (--Return--) with the \
         value it returns.",
        ["r", "shift-f11"]
    ),
    command!(
        Continue,
        "continue",
        ["c", "cont"],
        "continue",
        "run until a breakpoint or the end",
        "Continue execution; stop only at a breakpoint, a breakpoint() call, or an uncaught exception.",
        ["c", "f5"]
    ),
    command!(
        Until,
        "until",
        ["unt"],
        "until [LINE]",
        "run until a line past the current one, or LINE",
        "Without an argument, continue until a line with a number greater than the current one is \
         reached (so a loop runs to its end). With LINE, continue until a line with a number \
         greater than or equal to LINE is reached. Also stops when the selected frame returns.",
        ["t"]
    ),
    command!(
        Jump,
        "jump",
        ["j"],
        "jump LINE [skip | EXCEPTION]",
        "move to another line of the current function",
        "Set the next line that will run in the current (newest) frame to LINE, without running \
         what is in between. Unlike pdb, every line can be reached: into and out of loop bodies, \
         with bodies, except handlers, finally blocks and match cases. When the target needs \
         state the run has not built, sleepy builds it the way the program would and says so: \
         a loop that has not started starts (its first item is taken), a live loop goes on with \
         its next item, a with statement not entered is entered first (`skip` runs its body \
         without it), and an except handler is entered by raising an exception in its try body \
         (a new instance of the handler's class, or the EXCEPTION expression you give). A line \
         inside a multi-line statement means that statement. Leaving a with body does not call \
         its __exit__ (sleepy says so).",
        ["J"]
    ),
    command!(
        Break,
        "break",
        ["b"],
        "break [[FILE:]LINE | FUNC] [, CONDITION]",
        "set a breakpoint, or list them",
        "With a LINE, set a breakpoint there in the current file; with FILE:LINE, in that file \
         (found on the current directory, the program's directory or sys.path); with FUNC, at \
         the first line the function runs. CONDITION is a Python expression that must be true \
         for the breakpoint to stop. Without an argument, list the breakpoints with their hit \
         counts. A line with no code is refused, with the nearest lines that have code.",
        ["b", "f9"]
    ),
    command!(
        Tbreak,
        "tbreak",
        [],
        "tbreak [[FILE:]LINE | FUNC] [, CONDITION]",
        "set a temporary breakpoint",
        "Like break, but the breakpoint is deleted the first time it stops the program.",
        []
    ),
    command!(
        Clear,
        "clear",
        ["cl"],
        "clear [NUMBER ... | FILE:LINE]",
        "delete breakpoints",
        "With numbers, delete those breakpoints; with FILE:LINE, every breakpoint at that line; \
         without an argument, every breakpoint.",
        []
    ),
    command!(
        Disable,
        "disable",
        [],
        "disable NUMBER ...",
        "disable breakpoints",
        "Disable the breakpoints with these numbers; they stay in the list and can be enabled again.",
        []
    ),
    command!(
        Enable,
        "enable",
        [],
        "enable NUMBER ...",
        "enable breakpoints",
        "Enable the breakpoints with these numbers.",
        []
    ),
    command!(
        Condition,
        "condition",
        [],
        "condition NUMBER [CONDITION]",
        "set or remove a breakpoint's condition",
        "Set CONDITION (a Python expression) on breakpoint NUMBER; without CONDITION the \
         breakpoint becomes unconditional.",
        []
    ),
    command!(
        Ignore,
        "ignore",
        [],
        "ignore NUMBER [COUNT]",
        "pass a breakpoint COUNT times without stopping",
        "Set the ignore count of breakpoint NUMBER: the next COUNT times it is reached (and its \
         condition is true) it does not stop. A COUNT of 0 makes it stop again.",
        []
    ),
    command!(
        Where,
        "where",
        ["w", "bt"],
        "where",
        "print the stack, the selected frame marked with >",
        "Print the stack, oldest frame first and the most recent last. An arrow (>) marks the \
         selected frame, which p, list, args and the stepping commands act on.",
        []
    ),
    command!(
        Up,
        "up",
        ["u"],
        "up [COUNT]",
        "select an older frame",
        "Move the selected frame COUNT (default 1) levels up the stack, to older frames.",
        ["u"]
    ),
    command!(
        Down,
        "down",
        ["d"],
        "down [COUNT]",
        "select a newer frame",
        "Move the selected frame COUNT (default 1) levels down the stack, to newer frames.",
        ["d"]
    ),
    command!(
        Print,
        "p",
        [],
        "p EXPRESSION",
        "print the value of an expression",
        "Evaluate EXPRESSION in the selected frame and print its repr.",
        []
    ),
    command!(
        PrettyPrint,
        "pp",
        [],
        "pp EXPRESSION",
        "pretty-print the value of an expression",
        "Evaluate EXPRESSION in the selected frame and print it with pprint.",
        []
    ),
    command!(
        Args,
        "args",
        ["a"],
        "args",
        "print the selected function's arguments",
        "Print the arguments of the selected frame's function and their values.",
        []
    ),
    command!(
        List,
        "list",
        ["l"],
        "list [FIRST[, LAST] | .]",
        "list source lines",
        "List 11 lines around the current line, or continue the previous listing. With FIRST, \
         list 11 lines around it; with FIRST, LAST, that range (a LAST smaller than FIRST is a \
         count). '.' lists around the current line again. B marks breakpoints, -> the current line.",
        []
    ),
    command!(
        LongList,
        "longlist",
        ["ll"],
        "longlist",
        "list the whole current function",
        "List the whole source of the selected frame's function or module.",
        []
    ),
    command!(
        Display,
        "display",
        [],
        "display [EXPRESSION]",
        "show an expression whenever it changes",
        "Evaluate EXPRESSION in the selected frame now and at every stop in that frame, and show \
         it when its value changed. Without an argument, list the displayed expressions.",
        []
    ),
    command!(
        Undisplay,
        "undisplay",
        [],
        "undisplay [EXPRESSION]",
        "stop displaying an expression",
        "Stop displaying EXPRESSION in the selected frame; without an argument, all of them.",
        []
    ),
    command!(
        Whatis,
        "whatis",
        [],
        "whatis EXPRESSION",
        "print the type of an expression",
        "Print the type of EXPRESSION (function, method, class or the type of a value).",
        []
    ),
    command!(
        Retval,
        "retval",
        ["rv"],
        "retval",
        "print the value the function is returning",
        "At a --Return-- stop, print the value the current function returns.",
        []
    ),
    command!(
        Tick,
        "tick",
        [],
        "tick",
        "print the current tick",
        "Print the current position in time: the number of lines of the program's code run \
         since it started. The same run always reaches the same position at the same tick.",
        []
    ),
    command!(
        Rstep,
        "rstep",
        ["rs", "bstep"],
        "rstep",
        "step back one line, into calls (the mirror of step)",
        "Go back to the line that ran just before this one, in whatever function it was: back \
         into a function that just returned, back out to the caller before the call. The program \
         is then exactly as it was there; going forward again does the same things again.",
        ["S"]
    ),
    command!(
        Rnext,
        "rnext",
        ["rn", "bnext"],
        "rnext",
        "step back one line in this function (the mirror of next)",
        "Go back to the previous line of the selected function, over the calls it made; at the \
         function's first line, back to the caller's line that called it.",
        ["N"]
    ),
    command!(
        Rreturn,
        "rreturn",
        ["rr", "bfinish"],
        "rreturn",
        "go back to the caller, before the call (the mirror of return)",
        "Go back to the line of the caller that called the selected function, before the call \
         was made.",
        ["R"]
    ),
    command!(
        Rcontinue,
        "rcontinue",
        ["rc", "bcontinue"],
        "rcontinue",
        "run backward to the previous breakpoint or watch change",
        "Go back to the last point before now where a breakpoint stops or a watched expression \
         changes value (stopping before the line that changes it); to the start of the run if \
         there is none.",
        ["C"]
    ),
    command!(
        Goto,
        "goto",
        ["go"],
        "goto TICK",
        "go to any tick of this run, past or future",
        "Go to the line event of tick TICK: backward from a checkpoint, forward by running (no \
         breakpoint stops on the way). The program is in exactly the state it had there.",
        []
    ),
    command!(
        Restore,
        "restore",
        [],
        "restore N",
        "go back to checkpoint N",
        "Go to the point where checkpoint N (see 'checkpoints') was taken.",
        []
    ),
    command!(
        Checkpoints,
        "checkpoints",
        [],
        "checkpoints",
        "list the checkpoints",
        "List the checkpoints of this run: number, tick, where the program was, and the memory \
         each holds on its own. Checkpoints are taken while the program runs and at every stop; \
         older ones are thinned to stay within the budget (--checkpoint-max, --checkpoint-memory).",
        []
    ),
    command!(
        Checkpoint,
        "checkpoint",
        [],
        "checkpoint",
        "take a checkpoint now",
        "Take a checkpoint at the current line (every stop at a line already is one).",
        []
    ),
    command!(
        Suspend,
        "suspend",
        [],
        "suspend [next] [FILE]",
        "save the program to a file, to resume later or elsewhere",
        "Save the whole program (every frame of the stack, its modules, its open files, \
         random's state) to FILE (default: <script stem>.sleepy in the current directory); \
         `sleepy resume FILE` continues it, in the debugger or headless with --run. It works \
         at a safe point: a line where every frame can be rebuilt (no C function or generator \
         between frames, no call on the line already made). Elsewhere it says why not; \
         'suspend next' runs on to the next safe point and suspends there. The program stays \
         stopped where it is.",
        []
    ),
    command!(
        Watch,
        "watch",
        [],
        "watch EXPRESSION [in FUNCTION]",
        "stop where an expression changes value, forward and backward",
        "Stop at the first line where the value of EXPRESSION changes (by value: a list that \
         gains an item has changed), printing the old and new values. It is evaluated in the \
         selected frame while that frame runs, or with 'in FUNCTION' in every call of FUNCTION. \
         continue stops after the line that changed it; rcontinue stops before it.",
        []
    ),
    command!(
        Unwatch,
        "unwatch",
        [],
        "unwatch [N]",
        "remove a watch (all of them without N)",
        "Remove watch N, or every watch.",
        []
    ),
    command!(
        Exec,
        "!",
        [],
        "! STATEMENT",
        "run a Python statement in the selected frame",
        "Execute a Python statement in the selected frame. Assignments change the frame's \
         variables for real. A line that is not a command is run the same way.",
        []
    ),
    command!(
        Quit,
        "quit",
        ["q", "exit"],
        "quit",
        "end the program and the debugger",
        "Kill the program and leave sleepy.",
        ["q"]
    ),
    command!(
        Help,
        "help",
        ["h"],
        "help [COMMAND]",
        "list the commands, or explain one",
        "Without an argument, list every command; with a command name, explain it.",
        ["?"]
    ),
];

/// Finds a command by its name or one of its aliases.
pub fn lookup(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
}

pub fn spec(id: CommandId) -> &'static CommandSpec {
    // The table has one entry per id (checked by a test), so this always finds one.
    COMMANDS.iter().find(|c| c.id == id).unwrap_or(&COMMANDS[0])
}

/// The text of `help`, generated from the table.
pub fn help_text(topic: Option<&str>) -> Result<Vec<String>, String> {
    match topic.map(str::trim).filter(|t| !t.is_empty()) {
        None => {
            let mut lines = vec!["Commands (type help COMMAND for more):".to_string()];
            for c in COMMANDS {
                let names = if c.aliases.is_empty() {
                    c.name.to_string()
                } else {
                    format!("{} ({})", c.name, c.aliases.join(", "))
                };
                lines.push(format!("  {names:<20} {}", c.summary));
            }
            lines.push(
                "A blank line repeats the last command; ;; separates commands on one line.".into(),
            );
            Ok(lines)
        }
        Some(topic) => {
            let c = lookup(topic)
                .ok_or_else(|| format!("No help for {topic:?}: it is not a command"))?;
            let mut lines = vec![c.usage.to_string()];
            if !c.aliases.is_empty() {
                lines.push(format!("  (also: {})", c.aliases.join(", ")));
            }
            lines.extend(wrap(c.help, 76).into_iter().map(|l| format!("  {l}")));
            Ok(lines)
        }
    }
}

/// The command reference in Markdown (docs/commands.md is this text; a test keeps it so).
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Commands\n\n\
         Generated from the command table in `src/commands/mod.rs` (a test checks it is current; \
         `SLEEPY_UPDATE_DOCS=1 cargo test commands` rewrites it). The same table drives the \
         parser, `help` and the keys.\n\n\
         A line that is not a command runs as a Python statement in the selected frame, as in pdb. \
         A blank line repeats the last command; `;;` separates commands on one line. Errors are \
         printed as `*** message`, as pdb does.\n\n\
         | command | also | keys (TUI) | what it does |\n|---|---|---|---|\n",
    );
    for c in COMMANDS {
        let keys: Vec<String> = c.keys.iter().map(|k| format!("`{k}`")).collect();
        let also: Vec<String> = c.aliases.iter().map(|a| format!("`{a}`")).collect();
        let usage = c.usage.replace('|', "\\|");
        out.push_str(&format!(
            "| `{usage}` | {} | {} | {} |\n",
            also.join(" "),
            keys.join(" "),
            c.summary
        ));
    }
    out.push('\n');
    for c in COMMANDS {
        out.push_str(&format!("## `{}`\n\n{}\n\n", c.usage, c.help));
    }
    out
}

/// Names to complete a command word against.
pub fn completions(prefix: &str) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = COMMANDS
        .iter()
        .flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort_unstable();
    names
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            for n in std::iter::once(c.name).chain(c.aliases.iter().copied()) {
                assert!(seen.insert(n), "{n} appears twice");
            }
        }
    }

    #[test]
    fn each_id_has_exactly_one_entry() {
        for c in COMMANDS {
            assert_eq!(
                COMMANDS.iter().filter(|d| d.id == c.id).count(),
                1,
                "{:?}",
                c.id
            );
            assert_eq!(spec(c.id).name, c.name);
        }
    }

    #[test]
    fn help_lists_every_command_and_explains_one() {
        let all = help_text(None).unwrap().join("\n");
        for c in COMMANDS {
            assert!(all.contains(c.name), "{} missing from help", c.name);
        }
        let until = help_text(Some("unt")).unwrap();
        assert_eq!(until[0], "until [LINE]");
        assert!(help_text(Some("frobnicate")).is_err());
    }

    #[test]
    fn docs_commands_md_is_generated_from_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md");
        let expected = reference_markdown();
        if std::env::var_os("SLEEPY_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/commands.md is stale: run SLEEPY_UPDATE_DOCS=1 cargo test commands"
        );
    }

    #[test]
    fn completion_uses_names_and_aliases() {
        assert_eq!(
            completions("un"),
            vec!["undisplay", "unt", "until", "unwatch"]
        );
    }
}
