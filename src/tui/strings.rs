//! Every string the TUI shows the user, in one place.

pub const SOURCE: &str = "Source";
pub const VARIABLES: &str = "Variables";
pub const WATCHES: &str = "Watches";
pub const STACK: &str = "Stack";
pub const BREAKPOINTS: &str = "Breakpoints";
pub const TIMELINE: &str = "Timeline";
pub const OUTPUT: &str = "Output";
pub const CONSOLE: &str = "Console";

pub const FINISHED: &str = "The program finished";
pub const CRASHED: &str = "The program raised an exception";
pub const ENDED: &str = "The session ended";
pub const EXIT_CODE: &str = "exit code";
pub const ENDED_CHOICES: &[&str] = &[
    "S / N / C: go back in time (rstep, rnext, rcontinue)",
    "Ctrl-R: run it again      q: quit      Esc: look around",
];
pub const POST_MORTEM_CHOICES: &[&str] = &[
    "This is where it was raised (post-mortem): look at the stack and variables.",
    "S / R / C: go back in time (rstep, rreturn, rcontinue); watch EXPR and C finds what set it",
    "Ctrl-R: run it again      q: quit      Esc: look around",
];
pub const RESTARTED: &str = "sleepy: the program was started again";
pub const NO_VALUE: &str = "no value";
pub const NOT_FOUND: &str = "not found:";
pub const NO_CHECKPOINT_THERE: &str = "no checkpoint in that direction";
pub const JUMP_OTHER_FILE: &str =
    "jump goes to a line of the selected frame's function: move the cursor in its file";
pub const NO_SOURCE: &str = "no source to show";
pub const LOADING: &str = "…";
pub const NO_WATCHES: &str = "a: add an expression to evaluate at every stop";
pub const NO_BREAKPOINTS: &str = "b on a source line sets one";
pub const TIME_TRAVEL_OFF: &str = "time travel off:";
pub const QUIT_CONFIRM: &str = "The program is still running. Quit? (y/n)";
pub const HELP_TITLE: &str = "Keys (any key closes; Up/Down scroll)";
pub const RUNNING: &str = "running";
pub const STOPPED: &str = "stopped";
pub const HINTS: &str =
    "s step  n next  c cont  S/N/C back  b break  J jump  : cmd  ? help  q quit";
pub const TICK: &str = "tick";
pub const MORE: &str = "more";
pub const PANE_KEYS_WATCHES: &str = "a add  x remove";
pub const PANE_KEYS_BREAKPOINTS: &str = "Enter show  e enable/disable  x delete";
pub const TYPE_TO_PROGRAM: &str = "typing goes to the program";
pub const WAITING_INPUT: &str =
    "the program is reading its input: type it in the Output pane, Enter sends the line";
