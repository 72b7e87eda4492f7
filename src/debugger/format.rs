//! pdb's text formats for what the agent reports, so transcripts read like pdb sessions.

use crate::protocol::{BreakpointInfo, FrameInfo, Stop, StopReason};

/// `> file(line)func()->value` and `-> source`, as pdb's `print_stack_entry`.
pub fn stack_entry(frame: &FrameInfo, selected: bool) -> Vec<String> {
    let mut head = format!(
        "{}{}({}){}()",
        if selected { "> " } else { "  " },
        frame.file,
        frame.line,
        frame.function
    );
    if let Some(rv) = &frame.return_value {
        head.push_str("->");
        head.push_str(&truncate(rv, 60));
    }
    let mut lines = vec![head];
    if !frame.source.is_empty() {
        lines.push(format!("-> {}", frame.source));
    }
    lines
}

/// pdb prints return values in `where` through reprlib, so long ones are shortened.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(3);
    let head: String = text.chars().take(keep / 2).collect();
    let tail: String = text
        .chars()
        .rev()
        .take(keep - keep / 2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head}...{tail}")
}

pub fn breakpoint(bp: &BreakpointInfo) -> String {
    format!("breakpoint {} at {}:{}", bp.number, bp.file, bp.line)
}

/// The lines printed when the program stops, before its location: what pdb prints as the
/// stop happens (`--Call--`, the exception, deleted temporary
/// breakpoints...), before the location.
pub fn stop_reason(stop: &Stop) -> Vec<String> {
    let mut lines = Vec::new();
    match &stop.reason {
        StopReason::Call => lines.push("--Call--".to_string()),
        StopReason::Return => lines.push("--Return--".to_string()),
        StopReason::Exception { text } => lines.push(text.clone()),
        StopReason::Breakpoint {
            deleted,
            condition_error,
            ..
        } => {
            if let Some(err) = condition_error {
                lines.push(format!("*** {err}"));
            }
            lines.extend(
                deleted
                    .iter()
                    .map(|bp| format!("Deleted {}", breakpoint(bp))),
            );
        }
        StopReason::PostMortem { .. } => {
            lines.push("Uncaught exception. Entering post mortem debugging".to_string());
            lines.push("'continue' or 'quit' ends the program".to_string());
        }
        StopReason::Jump { notes } => {
            lines.extend(notes.iter().map(|n| format!("({n})")));
        }
        StopReason::JumpFailed { message, notes } => {
            lines.extend(notes.iter().map(|n| format!("({n})")));
            lines.push(format!("*** Jump stopped short: {message}"));
        }
        StopReason::Resumed { file } => lines.push(format!("Resumed from {file}")),
        StopReason::Suspended { file } => lines.push(format!(
            "Suspended to {file} (resume with: sleepy resume {file})"
        )),
        StopReason::Interrupted => {
            lines.push("Program interrupted. (Use 'continue' to resume.)".to_string())
        }
        StopReason::Watch {
            number,
            expr,
            old,
            new,
        } => {
            lines.push(format!("Watchpoint {number}: {expr}"));
            lines.push(format!("Old value = {old}"));
            lines.push(format!("New value = {new}"));
        }
        StopReason::Start | StopReason::Step | StopReason::BreakpointCall | StopReason::Arrived => {
        }
    }
    lines
}

/// The stop's location and its changed displays: pdb 3.13 prints them only right before it
/// reads a command from the user (see `Debugger::hold_locations`).
pub fn stop_location(stop: &Stop) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(frame) = stop.stack.last() {
        lines.extend(stack_entry(frame, true));
    }
    for d in &stop.displays {
        lines.push(format!("display {}: {}  [old: {}]", d.expr, d.value, d.old));
    }
    lines
}

/// bdb's `Breakpoint.bpformat`, under pdb's header.
pub fn breakpoint_table(bps: &[BreakpointInfo]) -> Vec<String> {
    if bps.is_empty() {
        return vec!["No breakpoints.".to_string()];
    }
    let mut lines = vec!["Num Type         Disp Enb   Where".to_string()];
    for bp in bps {
        let disp = if bp.temporary { "del  " } else { "keep " };
        let enb = if bp.enabled { "yes  " } else { "no   " };
        let where_ = format!("at {}:{}", bp.file, bp.line);
        lines.push(format!("{:<4}breakpoint   {disp}{enb} {where_}", bp.number));
        if let Some(c) = &bp.condition {
            lines.push(format!("\tstop only if {c}"));
        }
        if bp.ignore > 0 {
            lines.push(format!("\tignore next {} hits", bp.ignore));
        }
        if bp.hits > 0 {
            let s = if bp.hits > 1 { "s" } else { "" };
            lines.push(format!("\tbreakpoint already hit {} time{s}", bp.hits));
        }
    }
    lines
}

/// pdb's `_print_lines`: number, `B` for a breakpoint, `->` for the current line, `>>` for the
/// line an exception was raised at.
pub fn source_lines(
    lines: &[String],
    first: u32,
    breaks: &[u32],
    current: Option<u32>,
    exception: Option<u32>,
) -> Vec<String> {
    lines
        .iter()
        .zip(first..)
        .map(|(text, n)| {
            let mut s = format!("{n:>3}");
            if s.len() < 4 {
                s.push(' ');
            }
            s.push(if breaks.contains(&n) { 'B' } else { ' ' });
            if Some(n) == current {
                s.push_str("->");
            } else if Some(n) == exception {
                s.push_str(">>");
            }
            format!("{s}\t{}", text.trim_end())
        })
        .collect()
}

pub fn ignore_message(bp: &BreakpointInfo) -> String {
    match bp.ignore {
        0 => format!("Will stop next time breakpoint {} is reached.", bp.number),
        1 => format!("Will ignore next 1 crossing of breakpoint {}.", bp.number),
        n => format!(
            "Will ignore next {n} crossings of breakpoint {}.",
            bp.number
        ),
    }
}

pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

pub fn signal_meaning(sig: i32) -> &'static str {
    match sig {
        4 => "illegal instruction",
        6 => "aborted",
        7 => "bus error",
        8 => "floating-point exception",
        9 => "killed",
        11 => "segmentation fault",
        15 => "terminated",
        2 => "interrupted",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(line: u32, rv: Option<&str>) -> FrameInfo {
        FrameInfo {
            file: "/p/demo.py".into(),
            line,
            function: "f".into(),
            qualname: "f".into(),
            source: "return x".into(),
            user: true,
            return_value: rv.map(str::to_string),
        }
    }

    #[test]
    fn stack_entries_look_like_pdb() {
        assert_eq!(
            stack_entry(&frame(3, None), true),
            vec!["> /p/demo.py(3)f()", "-> return x"]
        );
        assert_eq!(
            stack_entry(&frame(3, Some("42")), false),
            vec!["  /p/demo.py(3)f()->42", "-> return x"]
        );
    }

    #[test]
    fn the_breakpoint_table_is_bdbs() {
        let bp = BreakpointInfo {
            number: 1,
            file: "/p/a.py".into(),
            line: 3,
            temporary: false,
            enabled: true,
            condition: Some("x > 1".into()),
            ignore: 2,
            hits: 1,
            function: None,
        };
        assert_eq!(
            breakpoint_table(&[bp]),
            vec![
                "Num Type         Disp Enb   Where",
                "1   breakpoint   keep yes   at /p/a.py:3",
                "\tstop only if x > 1",
                "\tignore next 2 hits",
                "\tbreakpoint already hit 1 time",
            ]
        );
    }

    #[test]
    fn listing_marks_breakpoints_and_the_current_line() {
        let lines = vec!["a = 1".to_string(), "b = 2".to_string()];
        assert_eq!(
            source_lines(&lines, 9, &[10], Some(9), None),
            vec!["  9  ->\ta = 1", " 10 B\tb = 2"]
        );
    }
}
