//! Every key of the TUI names an action; the actions are one table. Debugger commands come from
//! the command table (`crate::commands`, with their default keys), the UI's own actions are
//! listed here. Config (`[keys]`) replaces an action's keys by its name, and `?` shows this
//! table: help cannot drift from what the keys do.

use crossterm::event::KeyEvent;

use super::config::{self, KeyBinding};
use crate::commands::{self, CommandId};

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A debugger command, run as if typed (with the cursor line where it needs a line).
    Command(CommandId),
    Ui(UiAction),
}

/// The UI's own actions (not debugger commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiAction {
    CommandLine,
    Search,
    SearchNext,
    NextPane,
    PreviousPane,
    PreviousCheckpoint,
    NextCheckpoint,
    Interrupt,
    Restart,
    Redraw,
    FocusPane(usize),
}

pub struct ActionSpec {
    pub name: &'static str,
    pub action: Action,
    pub keys: Vec<KeyBinding>,
    pub help: &'static str,
}

/// The UI actions with their default keys.
const UI_ACTIONS: &[(&str, UiAction, &[&str], &str)] = &[
    (
        "command_line",
        UiAction::CommandLine,
        &[":"],
        "type any debugger command (history with Up/Down, Tab completes)",
    ),
    (
        "search",
        UiAction::Search,
        &["/"],
        "search the source for text",
    ),
    (
        "search_next",
        UiAction::SearchNext,
        &["ctrl-n"],
        "the next match of the last search",
    ),
    (
        "next_pane",
        UiAction::NextPane,
        &["tab"],
        "focus the next pane",
    ),
    (
        "previous_pane",
        UiAction::PreviousPane,
        &["backtab"],
        "focus the previous pane",
    ),
    (
        "previous_checkpoint",
        UiAction::PreviousCheckpoint,
        &["["],
        "go back to the previous checkpoint",
    ),
    (
        "next_checkpoint",
        UiAction::NextCheckpoint,
        &["]"],
        "go forward to the next checkpoint",
    ),
    (
        "interrupt",
        UiAction::Interrupt,
        &["ctrl-c"],
        "stop the running program at its next line",
    ),
    (
        "restart",
        UiAction::Restart,
        &["ctrl-r"],
        "run the program again from the start",
    ),
    ("redraw", UiAction::Redraw, &["ctrl-l"], "redraw the screen"),
];

/// Pane numbers for the digit keys, in the order of [`super::app::Pane::ALL`].
const DIGITS: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8"];

pub struct Keymap {
    pub specs: Vec<ActionSpec>,
}

/// The names config may use in `[keys]`.
pub fn action_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = commands::COMMANDS
        .iter()
        .filter(|c| !c.keys.is_empty())
        .map(|c| c.name)
        .collect();
    names.extend(UI_ACTIONS.iter().map(|a| a.0));
    names.extend(PANE_ACTIONS.iter().copied());
    names
}

const PANE_ACTIONS: &[&str] = &[
    "focus_source",
    "focus_variables",
    "focus_watches",
    "focus_stack",
    "focus_breakpoints",
    "focus_timeline",
    "focus_output",
    "focus_console",
];

fn parse_all(keys: &[&str]) -> Vec<KeyBinding> {
    keys.iter()
        .filter_map(|k| config::parse_key(k).ok())
        .collect()
}

impl Keymap {
    /// The default keys, with config's `[keys]` replacing an action's keys by name.
    pub fn new(overrides: &[(String, Vec<KeyBinding>)]) -> Keymap {
        let mut specs = Vec::new();
        for c in commands::COMMANDS.iter().filter(|c| !c.keys.is_empty()) {
            specs.push(ActionSpec {
                name: c.name,
                action: Action::Command(c.id),
                keys: parse_all(c.keys),
                help: c.summary,
            });
        }
        for (name, action, keys, help) in UI_ACTIONS {
            specs.push(ActionSpec {
                name,
                action: Action::Ui(*action),
                keys: parse_all(keys),
                help,
            });
        }
        for (i, name) in PANE_ACTIONS.iter().enumerate() {
            specs.push(ActionSpec {
                name,
                action: Action::Ui(UiAction::FocusPane(i)),
                keys: parse_all(&DIGITS[i..=i]),
                help: "focus this pane",
            });
        }
        for (name, keys) in overrides {
            if let Some(spec) = specs.iter_mut().find(|s| s.name == name.as_str()) {
                spec.keys = keys.clone();
            }
        }
        Keymap { specs }
    }

    pub fn lookup(&self, event: &KeyEvent) -> Option<Action> {
        self.specs
            .iter()
            .find(|s| s.keys.iter().any(|k| k.matches(event)))
            .map(|s| s.action)
    }

    /// The keys of an action, as the help and the hints show them.
    pub fn keys_of(&self, action: Action) -> String {
        self.specs
            .iter()
            .find(|s| s.action == action)
            .map(|s| {
                s.keys
                    .iter()
                    .map(KeyBinding::label)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }

    /// The help screen's lines: every action, its keys and what it does.
    pub fn help_lines(&self) -> Vec<(String, String, String)> {
        self.specs
            .iter()
            .map(|s| {
                let keys = s
                    .keys
                    .iter()
                    .map(KeyBinding::label)
                    .collect::<Vec<_>>()
                    .join(" ");
                (keys, s.name.to_string(), s.help.to_string())
            })
            .collect()
    }
}

/// The command name an action runs (for the command line's history and the status line).
pub fn command_name(id: CommandId) -> &'static str {
    commands::spec(id).name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn the_default_keys_reach_the_commands() {
        let map = Keymap::new(&[]);
        let at = |c, m| map.lookup(&key(c, m));
        assert_eq!(
            at(KeyCode::Char('s'), KeyModifiers::NONE),
            Some(Action::Command(CommandId::Step))
        );
        assert_eq!(
            at(KeyCode::Char('S'), KeyModifiers::SHIFT),
            Some(Action::Command(CommandId::Rstep))
        );
        assert_eq!(
            at(KeyCode::F(11), KeyModifiers::SHIFT),
            Some(Action::Command(CommandId::Return))
        );
        assert_eq!(
            at(KeyCode::F(5), KeyModifiers::NONE),
            Some(Action::Command(CommandId::Continue))
        );
        assert_eq!(
            at(KeyCode::Char('['), KeyModifiers::NONE),
            Some(Action::Ui(UiAction::PreviousCheckpoint))
        );
        assert_eq!(
            at(KeyCode::Char('3'), KeyModifiers::NONE),
            Some(Action::Ui(UiAction::FocusPane(2)))
        );
    }

    #[test]
    fn no_key_is_bound_twice() {
        let map = Keymap::new(&[]);
        let mut seen = std::collections::HashMap::new();
        for spec in &map.specs {
            for k in &spec.keys {
                if let Some(other) = seen.insert(*k, spec.name) {
                    panic!("{} is bound to {other} and {}", k.label(), spec.name);
                }
            }
        }
    }

    #[test]
    fn config_replaces_an_actions_keys() {
        let keys = vec![config::parse_key("x").unwrap()];
        let map = Keymap::new(&[("step".to_string(), keys)]);
        assert_eq!(
            map.lookup(&key(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Command(CommandId::Step))
        );
        assert_eq!(
            map.lookup(&key(KeyCode::Char('s'), KeyModifiers::NONE)),
            None
        );
    }
}
