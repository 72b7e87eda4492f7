//! The user's settings: `config.toml` in sleepy's config directory (`$SLEEPY_CONFIG` names
//! another file). Nothing in it is required, and nothing in it can stop the debugger from
//! starting: a mistake costs only the setting it is in, and comes back as a warning naming the
//! file and line, for the UI to show. docs/config.md describes every setting.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// The environment variable naming the config file, instead of the usual place.
pub const ENV: &str = "SLEEPY_CONFIG";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// A theme name or path, for `theme::load`; `None`: the UI's default.
    pub theme: Option<String>,
    /// Actions whose keys the file sets, in file order; each replaces that action's default
    /// keys (an empty list unbinds it).
    pub keys: Vec<(String, Vec<KeyBinding>)>,
    pub layout: Layout,
    pub checkpoints: Checkpoints,
}

impl Config {
    /// The keys the file gives an action, if it gives any.
    pub fn keys_for(&self, action: &str) -> Option<&[KeyBinding]> {
        self.keys
            .iter()
            .find(|(name, _)| name == action)
            .map(|(_, keys)| keys.as_slice())
    }
}

/// Relative sizes of the panes: each number is a weight against its neighbours, not cells, so
/// the layout follows the terminal's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Source pane height against the console/output below it (`console`).
    pub source: u16,
    /// Sidebar width against the source column, whose weight is 7.
    pub sidebar: u16,
    /// The sidebar's panes, top to bottom, against each other.
    pub variables: u16,
    pub stack: u16,
    pub watches: u16,
    pub breakpoints: u16,
    /// Console/output height against `source`.
    pub console: u16,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            source: 5,
            sidebar: 3,
            variables: 3,
            stack: 2,
            watches: 1,
            breakpoints: 1,
            console: 2,
        }
    }
}

/// Checkpoint settings; `None` leaves sleepy's default (or a command-line option) in place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpoints {
    /// Milliseconds of running time between checkpoints (`--checkpoint-interval`).
    pub interval_ms: Option<u64>,
    /// Ticks between checkpoints (`--checkpoint-ticks`).
    pub ticks: Option<u64>,
    /// Most checkpoints kept (`--checkpoint-max`; at least 2).
    pub max: Option<usize>,
    /// Most memory the checkpoints may hold, in MB (`--checkpoint-memory`).
    pub memory_mb: Option<u64>,
}

/// The config and what was wrong with it. `warnings` are whole sentences naming the file and
/// the line; the settings they are about kept their defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Where the config file is: `$SLEEPY_CONFIG` if set, else `config.toml` in sleepy's directory
/// of the platform's config directory (`~/.config/sleepy/` on Linux).
pub fn path() -> Option<PathBuf> {
    path_from(std::env::var_os(ENV).as_deref())
}

/// [`path`] with the environment variable's value passed in, so tests need not set it (setting
/// the environment is unsafe while other test threads read it).
fn path_from(env: Option<&OsStr>) -> Option<PathBuf> {
    match env {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::config_dir().map(|d| d.join("sleepy").join("config.toml")),
    }
}

/// The user's config; defaults when there is no file. `known_actions` are the names `[keys]`
/// accepts.
pub fn load(known_actions: &[&str]) -> Loaded {
    load_with(std::env::var_os(ENV).as_deref(), known_actions)
}

fn load_with(env: Option<&OsStr>, known_actions: &[&str]) -> Loaded {
    let Some(path) = path_from(env) else {
        return Loaded::default();
    };
    let explicit = env.is_some_and(|e| !e.is_empty());
    if explicit && !path.exists() {
        // The default file is optional, but a file named on purpose that is not there is
        // most likely a typo the user wants to hear about.
        return Loaded {
            config: Config::default(),
            warnings: vec![format!(
                "${ENV} names {}, which does not exist; using the default settings",
                path.display()
            )],
        };
    }
    load_from(&path, known_actions)
}

/// The config in `path`; defaults when it does not exist.
pub fn load_from(path: &Path, known_actions: &[&str]) -> Loaded {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &path.display().to_string(), known_actions),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Loaded::default(),
        Err(e) => Loaded {
            config: Config::default(),
            warnings: vec![format!(
                "cannot read {}: {e}; using the default settings",
                path.display()
            )],
        },
    }
}

/// Parses a config file's text; `origin` names it in warnings.
pub fn parse(text: &str, origin: &str, known_actions: &[&str]) -> Loaded {
    let mut parser = Parser {
        text,
        origin,
        known_actions,
        config: Config::default(),
        warnings: Vec::new(),
    };
    match DeTable::parse(text) {
        Ok(table) => parser.top(table.get_ref()),
        Err(e) => {
            // Half a file could mean something else than the user wrote: all or nothing.
            let line = line_of(text, e.span().map_or(0, |s| s.start));
            parser.warnings.push(format!(
                "{origin}, line {line}: {}; using the default settings",
                one_line(e.message())
            ));
        }
    }
    Loaded {
        config: parser.config,
        warnings: parser.warnings,
    }
}

type Entry<'t, 'i> = (&'t Spanned<DeString<'i>>, &'t Spanned<DeValue<'i>>);

struct Parser<'a> {
    text: &'a str,
    origin: &'a str,
    known_actions: &'a [&'a str],
    config: Config,
    warnings: Vec<String>,
}

const SECTIONS: &[&str] = &["theme", "keys", "layout", "checkpoints"];
const LAYOUT_KEYS: &[&str] = &[
    "source",
    "sidebar",
    "variables",
    "stack",
    "watches",
    "breakpoints",
    "console",
];
const CHECKPOINT_KEYS: &[&str] = &["interval_ms", "ticks", "max", "memory_mb"];

impl Parser<'_> {
    fn warn(&mut self, offset: usize, message: String) {
        let line = line_of(self.text, offset);
        self.warnings
            .push(format!("{}, line {line}: {message}", self.origin));
    }

    /// A table's entries in file order, so warnings and `keys` follow the file.
    fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
        let mut entries: Vec<Entry<'t, 'i>> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        entries
    }

    fn top(&mut self, table: &DeTable) {
        for (key, value) in Self::entries(table) {
            let at = key.span().start;
            match key.get_ref().as_ref() {
                "theme" => match value.get_ref() {
                    DeValue::String(s) if !s.trim().is_empty() => {
                        self.config.theme = Some(s.trim().to_string())
                    }
                    _ => self.warn(
                        at,
                        "`theme` must be a theme name or path, like \"light\"".to_string(),
                    ),
                },
                "keys" => match value.get_ref() {
                    DeValue::Table(t) => self.keys(t),
                    _ => self.not_a_table(at, "keys"),
                },
                "layout" => match value.get_ref() {
                    DeValue::Table(t) => self.layout(t),
                    _ => self.not_a_table(at, "layout"),
                },
                "checkpoints" => match value.get_ref() {
                    DeValue::Table(t) => self.checkpoints(t),
                    _ => self.not_a_table(at, "checkpoints"),
                },
                other => {
                    let message = unknown("setting", other, "", SECTIONS);
                    self.warn(at, message);
                }
            }
        }
    }

    fn not_a_table(&mut self, at: usize, name: &str) {
        self.warn(at, format!("`{name}` must be a section, [{name}]"));
    }

    fn keys(&mut self, table: &DeTable) {
        for (key, value) in Self::entries(table) {
            let at = key.span().start;
            let action = key.get_ref().as_ref();
            if !self.known_actions.contains(&action) {
                let message = unknown("action", action, "[keys]", self.known_actions);
                self.warn(at, message);
                continue;
            }
            let specs: Vec<&str> = match value.get_ref() {
                DeValue::String(s) => vec![s.as_ref()],
                DeValue::Array(items) => {
                    let specs: Vec<&str> = items
                        .iter()
                        .filter_map(|item| item.get_ref().as_str())
                        .collect();
                    if specs.len() != items.len() {
                        self.warn(
                            at,
                            format!(
                                "[keys] {action}: every key must be a string, like \"ctrl-c\" \
                                 (its default keys stay)"
                            ),
                        );
                        continue;
                    }
                    specs
                }
                _ => {
                    self.warn(
                        at,
                        format!(
                            "[keys] {action} must be a key or a list of keys, like \"s\" or \
                             [\"s\", \"f11\"] (its default keys stay)"
                        ),
                    );
                    continue;
                }
            };
            let mut bindings: Vec<KeyBinding> = Vec::new();
            let mut bad = None;
            for spec in specs {
                match parse_key(spec) {
                    Ok(b) if !bindings.contains(&b) => bindings.push(b),
                    Ok(_) => {}
                    Err(e) => {
                        bad = Some(e);
                        break;
                    }
                }
            }
            match bad {
                // A partly applied list would leave the action on keys the user did not choose.
                Some(e) => self.warn(at, format!("[keys] {action}: {e} (its default keys stay)")),
                None => {
                    self.config.keys.push((action.to_string(), bindings));
                }
            }
        }
    }

    fn layout(&mut self, table: &DeTable) {
        for (key, value) in Self::entries(table) {
            let at = key.span().start;
            let name = key.get_ref().as_ref();
            let layout = &mut self.config.layout;
            let field = match name {
                "source" => &mut layout.source,
                "sidebar" => &mut layout.sidebar,
                "variables" => &mut layout.variables,
                "stack" => &mut layout.stack,
                "watches" => &mut layout.watches,
                "breakpoints" => &mut layout.breakpoints,
                "console" => &mut layout.console,
                other => {
                    let message = unknown("key", other, "[layout]", LAYOUT_KEYS);
                    self.warn(at, message);
                    continue;
                }
            };
            match integer(value.get_ref()).and_then(|n| u16::try_from(n).ok()) {
                Some(n @ 1..=100) => *field = n,
                _ => self.warn(
                    at,
                    format!("[layout] {name} must be a whole number from 1 to 100 (a weight)"),
                ),
            }
        }
    }

    fn checkpoints(&mut self, table: &DeTable) {
        for (key, value) in Self::entries(table) {
            let at = key.span().start;
            let name = key.get_ref().as_ref();
            // The same limits as the command-line options, so both refuse the same values.
            let minimum = match name {
                "interval_ms" | "ticks" | "memory_mb" => 1,
                "max" => 2,
                other => {
                    let message = unknown("key", other, "[checkpoints]", CHECKPOINT_KEYS);
                    self.warn(at, message);
                    continue;
                }
            };
            let Some(n) = integer(value.get_ref())
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| *n >= minimum)
            else {
                self.warn(
                    at,
                    format!("[checkpoints] {name} must be a whole number, at least {minimum}"),
                );
                continue;
            };
            let checkpoints = &mut self.config.checkpoints;
            match name {
                "interval_ms" => checkpoints.interval_ms = Some(n),
                "ticks" => checkpoints.ticks = Some(n),
                "max" => checkpoints.max = Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => checkpoints.memory_mb = Some(n),
            }
        }
    }
}

fn integer(value: &DeValue) -> Option<i64> {
    let n = value.as_integer()?;
    i64::from_str_radix(n.as_str(), n.radix()).ok()
}

/// "unknown action `stpe` in [keys] (did you mean `step`?); the actions are: ...".
fn unknown(what: &str, name: &str, section: &str, known: &[&str]) -> String {
    let place = if section.is_empty() {
        String::new()
    } else {
        format!(" in {section}")
    };
    let suggestion = known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    format!(
        "unknown {what} `{name}`{place}, ignored{suggestion}; the {what}s are: {}",
        known.join(", ")
    )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The 1-based line of a byte offset: toml reports byte offsets, the user counts lines.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// toml's messages can span lines (expected tokens on their own line); a warning is one line.
pub(super) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A key with modifiers, as the config writes it (`"ctrl-c"`, `"S"`, `"shift-f11"`).
///
/// Printable characters carry Shift in the character itself: `"S"` is Shift+s and `"?"` is
/// whatever the keyboard needs to type a `?`. `modifiers` never holds SHIFT for a `Char`, and
/// [`KeyBinding::matches`] ignores SHIFT on a `Char` event, because terminals disagree on
/// whether they report it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// The modifiers a binding can name; others a terminal may report (caps lock state under the
/// kitty protocol, hyper, meta) must not stop a key from matching.
const MODIFIERS: KeyModifiers = KeyModifiers::SHIFT
    .union(KeyModifiers::CONTROL)
    .union(KeyModifiers::ALT)
    .union(KeyModifiers::SUPER);

impl KeyBinding {
    pub const fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyBinding {
        KeyBinding { code, modifiers }
    }

    pub fn matches(&self, event: &KeyEvent) -> bool {
        // Windows reports releases too; a binding acts once per press (and on auto-repeat).
        if event.kind == KeyEventKind::Release {
            return false;
        }
        let mut modifiers = event.modifiers & MODIFIERS;
        match (self.code, event.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) if a == b => modifiers.remove(KeyModifiers::SHIFT),
            (KeyCode::BackTab, KeyCode::BackTab) => modifiers.remove(KeyModifiers::SHIFT),
            (a, b) if a == b => {}
            _ => return false,
        }
        modifiers == self.modifiers
    }

    /// How the UI shows the key (help, status line); [`parse_key`] reads it back.
    pub fn label(&self) -> String {
        let mut label = String::new();
        let mut modifiers = self.modifiers;
        let mut code = self.code;
        // Ctrl with an uppercase letter was written "ctrl-shift-x": "ctrl-X" reads as ctrl-x.
        if let KeyCode::Char(c) = code
            && c.is_uppercase()
            && modifiers.contains(KeyModifiers::CONTROL)
            && let (Some(lower), None) = {
                let mut l = c.to_lowercase();
                (l.next(), l.next())
            }
        {
            modifiers |= KeyModifiers::SHIFT;
            code = KeyCode::Char(lower);
        }
        if code == KeyCode::BackTab {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        for (modifier, name) in [
            (KeyModifiers::CONTROL, "ctrl-"),
            (KeyModifiers::ALT, "alt-"),
            (KeyModifiers::SUPER, "super-"),
            (KeyModifiers::SHIFT, "shift-"),
        ] {
            if modifiers.contains(modifier) {
                label.push_str(name);
            }
        }
        match code {
            KeyCode::Char(' ') => label.push_str("Space"),
            KeyCode::Char(c) => label.push(c),
            KeyCode::F(n) => label.push_str(&format!("F{n}")),
            KeyCode::BackTab => label.push_str("shift-Tab"),
            code => match NAMED.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => label.push_str(name),
                None => label.push_str(&format!("{code:?}")),
            },
        }
        label
    }
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl FromStr for KeyBinding {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        parse_key(spec)
    }
}

/// Named keys, as labels show them; parsing ignores their case.
const NAMED: &[(&str, KeyCode)] = &[
    ("Tab", KeyCode::Tab),
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("Backspace", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("Space", KeyCode::Char(' ')),
];

/// Other spellings people write.
const ALIASES: &[(&str, KeyCode)] = &[
    ("backtab", KeyCode::BackTab),
    ("return", KeyCode::Enter),
    ("escape", KeyCode::Esc),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pgdown", KeyCode::PageDown),
    ("del", KeyCode::Delete),
    ("ins", KeyCode::Insert),
    ("bs", KeyCode::Backspace),
];

fn named_key(name: &str) -> Option<KeyCode> {
    if let Some(n) = name
        .strip_prefix(['f', 'F'])
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=24).contains(n))
    {
        return Some(KeyCode::F(n));
    }
    NAMED
        .iter()
        .chain(ALIASES)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, code)| *code)
}

fn modifier(name: &str) -> Option<KeyModifiers> {
    // Emacs's C- M- S- too, uppercase only: `s-` is Super there, and `c`/`m` are keys.
    match name {
        "C" => return Some(KeyModifiers::CONTROL),
        "M" | "A" => return Some(KeyModifiers::ALT),
        "S" => return Some(KeyModifiers::SHIFT),
        _ => {}
    }
    match name.to_ascii_lowercase().as_str() {
        "ctrl" | "control" => Some(KeyModifiers::CONTROL),
        "alt" | "meta" | "option" => Some(KeyModifiers::ALT),
        "shift" => Some(KeyModifiers::SHIFT),
        "super" | "cmd" | "win" => Some(KeyModifiers::SUPER),
        _ => None,
    }
}

/// Reads a key as the config writes it: a character (`"s"`, `"S"`, `"?"`, `"["`, `"5"`), a
/// named key (`"tab"`, `"enter"`, `"f5"`, `"pageup"`, `"space"`, ...; any case), either after
/// modifiers joined by `-` or `+` (`"ctrl-c"`, `"alt+x"`, `"shift-f11"`).
pub fn parse_key(spec: &str) -> Result<KeyBinding, String> {
    if spec.is_empty() {
        return Err("an empty key".to_string());
    }
    if spec == " " {
        return Ok(KeyBinding::new(KeyCode::Char(' '), KeyModifiers::NONE));
    }
    let spec = spec.trim();
    let mut modifiers = KeyModifiers::NONE;
    let mut rest = spec;
    let code = loop {
        if let Some(code) = single_char(rest)
            .map(KeyCode::Char)
            .or_else(|| named_key(rest))
        {
            break code;
        }
        // A separator with something after it ends a modifier; a lone `-` or `+` is a key.
        let Some(split) = rest
            .char_indices()
            .skip(1)
            .find(|(i, c)| matches!(c, '-' | '+') && *i + 1 < rest.len())
            .map(|(i, _)| i)
        else {
            return Err(format!("`{spec}`: unknown key `{rest}`{}", key_hint(rest)));
        };
        let name = &rest[..split];
        let Some(m) = modifier(name) else {
            return Err(format!(
                "`{spec}`: unknown modifier `{name}` (the modifiers are ctrl, alt, shift, super)"
            ));
        };
        modifiers |= m;
        rest = &rest[split + 1..];
    };
    normalize(spec, code, modifiers)
}

fn single_char(s: &str) -> Option<char> {
    let mut chars = s.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

fn key_hint(rest: &str) -> &'static str {
    if rest.chars().count() > 1 && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
        " (a key is one character or a name: tab, backtab, enter, esc, up, down, left, right, \
         pageup, pagedown, home, end, space, backspace, delete, insert, f1 to f24)"
    } else {
        ""
    }
}

/// One spelling per key, so that equal keys compare equal and `matches` stays simple.
fn normalize(spec: &str, code: KeyCode, mut modifiers: KeyModifiers) -> Result<KeyBinding, String> {
    let shift = modifiers.contains(KeyModifiers::SHIFT);
    let code = match code {
        KeyCode::Char(c) if shift => {
            modifiers.remove(KeyModifiers::SHIFT);
            if c.is_lowercase() {
                let mut upper = c.to_uppercase();
                match (upper.next(), upper.next()) {
                    (Some(u), None) => KeyCode::Char(u),
                    _ => return Err(format!("`{spec}`: write the shifted character itself")),
                }
            } else if c.is_uppercase() {
                KeyCode::Char(c)
            } else {
                return Err(format!(
                    "`{spec}`: shift goes with letters and named keys; for a shifted symbol write \
                     the symbol itself (e.g. \"?\" or \"!\")"
                ));
            }
        }
        // Terminals cannot tell Ctrl-c from Ctrl-C (the kitty protocol aside), so "ctrl-C"
        // means what the user most likely meant; "ctrl-shift-c" asks for the other.
        KeyCode::Char(c) if c.is_uppercase() && modifiers.contains(KeyModifiers::CONTROL) => {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => KeyCode::Char(l),
                _ => KeyCode::Char(c),
            }
        }
        KeyCode::Tab if shift => {
            modifiers.remove(KeyModifiers::SHIFT);
            KeyCode::BackTab
        }
        KeyCode::BackTab => {
            modifiers.remove(KeyModifiers::SHIFT);
            KeyCode::BackTab
        }
        code => code,
    };
    Ok(KeyBinding::new(code, modifiers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const ACTIONS: &[&str] = &["step", "next", "rstep", "quit", "help", "continue"];

    const EXAMPLE: &str = r#"theme = "light"
[keys]            # action name -> key or list of keys; replaces that action's default keys
step = "s"
rstep = ["S", "shift-f11"]
[layout]          # relative weights
source = 5
sidebar = 3
variables = 3
stack = 2
watches = 1
breakpoints = 1
console = 2
[checkpoints]
interval_ms = 50
ticks = 1000000
max = 64
memory_mb = 2048
"#;

    fn key(spec: &str) -> KeyBinding {
        parse_key(spec).unwrap()
    }

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn one_warning(text: &str) -> String {
        let loaded = parse(text, "cfg.toml", ACTIONS);
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        loaded.warnings[0].clone()
    }

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_from(&dir.path().join("config.toml"), ACTIONS);
        assert_eq!(loaded, Loaded::default());
        assert_eq!(loaded.config.layout.source, 5);
        assert_eq!(loaded.config.layout.sidebar, 3);
        assert_eq!(loaded.config.checkpoints, Checkpoints::default());
        assert_eq!(parse("", "x", ACTIONS), Loaded::default());
    }

    #[test]
    fn full_example_parses() {
        let loaded = parse(EXAMPLE, "cfg.toml", ACTIONS);
        assert_eq!(loaded.warnings, Vec::<String>::new());
        let config = loaded.config;
        assert_eq!(config.theme.as_deref(), Some("light"));
        assert_eq!(
            config.keys,
            vec![
                ("step".to_string(), vec![key("s")]),
                (
                    "rstep".to_string(),
                    vec![
                        KeyBinding::new(KeyCode::Char('S'), KeyModifiers::NONE),
                        KeyBinding::new(KeyCode::F(11), KeyModifiers::SHIFT),
                    ]
                ),
            ]
        );
        assert_eq!(config.keys_for("rstep").map(<[_]>::len), Some(2));
        assert_eq!(config.keys_for("next"), None);
        assert_eq!(config.layout, Layout::default());
        assert_eq!(
            config.checkpoints,
            Checkpoints {
                interval_ms: Some(50),
                ticks: Some(1_000_000),
                max: Some(64),
                memory_mb: Some(2048),
            }
        );
    }

    #[test]
    fn values_other_than_the_defaults_apply() {
        let text = "[layout]\nsidebar = 4\nconsole = 1\n[checkpoints]\nmax = 8\nticks = 0x10\n\
                    [keys]\nquit = []\nhelp = \"f1\"\n";
        let loaded = parse(text, "cfg.toml", ACTIONS);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let config = loaded.config;
        assert_eq!(config.layout.sidebar, 4);
        assert_eq!(config.layout.console, 1);
        assert_eq!(config.layout.source, 5);
        assert_eq!(config.checkpoints.max, Some(8));
        assert_eq!(config.checkpoints.ticks, Some(16));
        assert_eq!(config.checkpoints.interval_ms, None);
        assert_eq!(config.keys_for("quit"), Some(&[][..]));
        assert_eq!(config.keys_for("help"), Some(&[key("F1")][..]));
    }

    #[test]
    fn syntax_error_gives_defaults_and_its_line() {
        let text = "theme = \"light\"\n[keys]\nstep = \"s\n[layout]\nsource = 3\n";
        let loaded = parse(text, "/home/u/.config/sleepy/config.toml", ACTIONS);
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.warnings.len(), 1);
        let warning = &loaded.warnings[0];
        assert!(
            warning.starts_with("/home/u/.config/sleepy/config.toml, line 3: "),
            "{warning}"
        );
        assert!(warning.ends_with("using the default settings"), "{warning}");
        assert!(!warning.contains('\n'), "{warning}");

        let warning = one_warning("theme = \"a\"\n\n\ntheme = \"b\"\n");
        assert!(warning.contains("line 4"), "{warning}");
        let warning = one_warning("[layout]\nsource = = 3\n");
        assert!(warning.contains("line 2"), "{warning}");
    }

    #[test]
    fn unknown_action_is_a_warning_with_its_line_and_the_rest_applies() {
        let text = "[keys]\nstep = \"x\"\n\nstpe = \"y\"\nnext = \"z\"\n";
        let loaded = parse(text, "cfg.toml", ACTIONS);
        assert_eq!(loaded.warnings.len(), 1);
        let warning = &loaded.warnings[0];
        assert!(warning.starts_with("cfg.toml, line 4: "), "{warning}");
        assert!(
            warning.contains("unknown action `stpe` in [keys]"),
            "{warning}"
        );
        assert!(warning.contains("did you mean `step`?"), "{warning}");
        assert!(warning.contains("step, next, rstep"), "{warning}");
        assert_eq!(loaded.config.keys_for("step"), Some(&[key("x")][..]));
        assert_eq!(loaded.config.keys_for("next"), Some(&[key("z")][..]));
    }

    #[test]
    fn bad_key_spec_is_a_warning_and_the_action_keeps_its_defaults() {
        let text = "[keys]\nstep = \"s\"\nrstep = [\"S\", \"shft-f11\"]\n";
        let loaded = parse(text, "cfg.toml", ACTIONS);
        assert_eq!(loaded.warnings.len(), 1);
        let warning = &loaded.warnings[0];
        assert!(
            warning.starts_with("cfg.toml, line 3: [keys] rstep: "),
            "{warning}"
        );
        assert!(warning.contains("unknown modifier `shft`"), "{warning}");
        assert!(warning.contains("default keys stay"), "{warning}");
        assert_eq!(loaded.config.keys_for("rstep"), None);
        assert_eq!(loaded.config.keys_for("step"), Some(&[key("s")][..]));

        for (text, expected) in [
            ("[keys]\nstep = 5\n", "must be a key or a list of keys"),
            ("[keys]\nstep = [\"s\", 5]\n", "every key must be a string"),
            ("[keys]\nstep = \"pagedn\"\n", "unknown key `pagedn`"),
            ("[keys]\nstep = \"\"\n", "an empty key"),
        ] {
            let warning = one_warning(text);
            assert!(warning.contains("line 2"), "{warning}");
            assert!(warning.contains(expected), "{warning}");
        }
    }

    #[test]
    fn other_mistakes_are_warnings_with_lines() {
        let cases = [
            ("colour = \"x\"\n", 1, "unknown setting `colour`"),
            ("theme = 3\n", 1, "`theme` must be a theme name"),
            ("keys = 3\n", 1, "`keys` must be a section, [keys]"),
            ("[layout]\nsourse = 3\n", 2, "did you mean `source`?"),
            ("[layout]\nsource = 0\n", 2, "from 1 to 100"),
            ("[layout]\n\nsource = 2.5\n", 3, "from 1 to 100"),
            ("[layout]\nsource = \"5\"\n", 2, "from 1 to 100"),
            (
                "[checkpoints]\nmax = 1\n",
                2,
                "max must be a whole number, at least 2",
            ),
            ("[checkpoints]\nticks = -5\n", 2, "at least 1"),
            (
                "[checkpoints]\nmemory = 5\n",
                2,
                "unknown key `memory` in [checkpoints]",
            ),
        ];
        for (text, line, expected) in cases {
            let warning = one_warning(text);
            assert!(
                warning.starts_with(&format!("cfg.toml, line {line}: ")),
                "{text:?}: {warning}"
            );
            assert!(warning.contains(expected), "{text:?}: {warning}");
        }
        let loaded = parse("[layout]\nsource = 0\nstack = 4\n", "cfg.toml", ACTIONS);
        assert_eq!(loaded.config.layout.source, 5);
        assert_eq!(loaded.config.layout.stack, 4);
    }

    #[test]
    fn dotted_and_inline_tables_work_too() {
        let text = "keys.step = \"x\"\nlayout = { sidebar = 2 }\n";
        let loaded = parse(text, "cfg.toml", ACTIONS);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config.keys_for("step"), Some(&[key("x")][..]));
        assert_eq!(loaded.config.layout.sidebar, 2);
    }

    #[test]
    fn load_from_reads_the_file_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "theme = \"high-contrast\"\n[keys]\nquiet = \"q\"\n").unwrap();
        let loaded = load_from(&path, ACTIONS);
        assert_eq!(loaded.config.theme.as_deref(), Some("high-contrast"));
        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].starts_with(&format!("{}, line 3: ", path.display())),
            "{:?}",
            loaded.warnings
        );
        // A directory where the file should be: a warning, not a failure.
        let loaded = load_from(dir.path(), ACTIONS);
        assert_eq!(loaded.config, Config::default());
        assert!(
            loaded.warnings[0].contains("cannot read"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn sleepy_config_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "theme = \"light\"\n").unwrap();
        assert_eq!(path_from(Some(path.as_os_str())), Some(path.clone()));
        let loaded = load_with(Some(path.as_os_str()), ACTIONS);
        assert_eq!(loaded.config.theme.as_deref(), Some("light"));

        let absent = dir.path().join("absent.toml");
        let loaded = load_with(Some(absent.as_os_str()), ACTIONS);
        assert_eq!(loaded.config, Config::default());
        assert!(
            loaded.warnings[0].contains("$SLEEPY_CONFIG names"),
            "{loaded:?}"
        );

        // Unset or empty: the platform's config directory.
        let default = path_from(None);
        assert_eq!(path_from(Some(OsStr::new(""))), default);
        if let Some(default) = default {
            assert!(default.ends_with("sleepy/config.toml"), "{default:?}");
        }
    }

    #[test]
    fn parse_key_reads_every_form() {
        let none = KeyModifiers::NONE;
        let cases = [
            ("s", KeyCode::Char('s'), none),
            ("S", KeyCode::Char('S'), none),
            ("shift-s", KeyCode::Char('S'), none),
            ("ctrl-c", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("Ctrl+C", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("ctrl-shift-c", KeyCode::Char('C'), KeyModifiers::CONTROL),
            ("C-x", KeyCode::Char('x'), KeyModifiers::CONTROL),
            ("alt-x", KeyCode::Char('x'), KeyModifiers::ALT),
            ("alt-X", KeyCode::Char('X'), KeyModifiers::ALT),
            ("f5", KeyCode::F(5), none),
            ("F12", KeyCode::F(12), none),
            ("shift-f11", KeyCode::F(11), KeyModifiers::SHIFT),
            ("S-F11", KeyCode::F(11), KeyModifiers::SHIFT),
            ("tab", KeyCode::Tab, none),
            ("backtab", KeyCode::BackTab, none),
            ("shift-tab", KeyCode::BackTab, none),
            ("enter", KeyCode::Enter, none),
            ("Return", KeyCode::Enter, none),
            ("esc", KeyCode::Esc, none),
            ("up", KeyCode::Up, none),
            ("down", KeyCode::Down, none),
            ("left", KeyCode::Left, none),
            ("right", KeyCode::Right, none),
            ("ctrl-right", KeyCode::Right, KeyModifiers::CONTROL),
            ("pageup", KeyCode::PageUp, none),
            ("PageDown", KeyCode::PageDown, none),
            ("home", KeyCode::Home, none),
            ("end", KeyCode::End, none),
            ("space", KeyCode::Char(' '), none),
            (" ", KeyCode::Char(' '), none),
            ("[", KeyCode::Char('['), none),
            ("]", KeyCode::Char(']'), none),
            ("?", KeyCode::Char('?'), none),
            ("/", KeyCode::Char('/'), none),
            (":", KeyCode::Char(':'), none),
            ("-", KeyCode::Char('-'), none),
            ("+", KeyCode::Char('+'), none),
            ("ctrl--", KeyCode::Char('-'), KeyModifiers::CONTROL),
            ("alt-+", KeyCode::Char('+'), KeyModifiers::ALT),
            ("1", KeyCode::Char('1'), none),
            ("0", KeyCode::Char('0'), none),
            ("é", KeyCode::Char('é'), none),
            (
                "ctrl-alt-delete",
                KeyCode::Delete,
                KeyModifiers::CONTROL | KeyModifiers::ALT,
            ),
        ];
        for (spec, code, modifiers) in cases {
            assert_eq!(
                parse_key(spec),
                Ok(KeyBinding::new(code, modifiers)),
                "{spec:?}"
            );
        }
        for bad in [
            "", "ctrl-", "shift-?", "shift-1", "hyper-x", "f0", "f25", "pagedn", "ab",
        ] {
            assert!(parse_key(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn labels_read_well_and_round_trip() {
        for (spec, label) in [
            ("S", "S"),
            ("ctrl-c", "ctrl-c"),
            ("f5", "F5"),
            ("shift-f11", "shift-F11"),
            ("tab", "Tab"),
            ("backtab", "shift-Tab"),
            ("space", "Space"),
            ("pageup", "PageUp"),
            ("ctrl-shift-c", "ctrl-shift-c"),
            ("alt-X", "alt-X"),
            ("[", "["),
            ("ctrl--", "ctrl--"),
        ] {
            assert_eq!(key(spec).label(), label, "{spec}");
            assert_eq!(key(spec).to_string(), label, "{spec}");
        }
        let specs = [
            "s",
            "S",
            "ctrl-c",
            "ctrl-shift-c",
            "alt-x",
            "alt-X",
            "f1",
            "f24",
            "shift-f11",
            "tab",
            "backtab",
            "enter",
            "esc",
            "up",
            "down",
            "left",
            "right",
            "pageup",
            "pagedown",
            "home",
            "end",
            "space",
            "backspace",
            "delete",
            "insert",
            "[",
            "]",
            "?",
            "/",
            ":",
            "-",
            "+",
            "ctrl--",
            "0",
            "9",
            "super-k",
            "ctrl-alt-shift-up",
        ];
        for spec in specs {
            let binding = key(spec);
            assert_eq!(
                parse_key(&binding.label()),
                Ok(binding),
                "{spec} -> {}",
                binding.label()
            );
            assert_eq!(binding.label().parse::<KeyBinding>(), Ok(binding));
        }
    }

    #[test]
    fn matches_what_crossterm_reports() {
        let none = KeyModifiers::NONE;
        let shift = KeyModifiers::SHIFT;
        let ctrl = KeyModifiers::CONTROL;
        let upper_s = key("S");
        // Terminals report a shifted letter as the uppercase char, some with SHIFT, some without.
        assert!(upper_s.matches(&press(KeyCode::Char('S'), shift)));
        assert!(upper_s.matches(&press(KeyCode::Char('S'), none)));
        assert!(!upper_s.matches(&press(KeyCode::Char('s'), none)));
        assert!(!upper_s.matches(&press(KeyCode::Char('s'), shift)));
        assert!(!upper_s.matches(&press(KeyCode::Char('S'), ctrl | shift)));
        let lower_s = key("s");
        assert!(lower_s.matches(&press(KeyCode::Char('s'), none)));
        assert!(!lower_s.matches(&press(KeyCode::Char('S'), shift)));
        assert!(!lower_s.matches(&press(KeyCode::Char('s'), ctrl)));
        // Symbols: Windows and the kitty protocol add SHIFT to `?`, others do not.
        assert!(key("?").matches(&press(KeyCode::Char('?'), shift)));
        assert!(key("?").matches(&press(KeyCode::Char('?'), none)));
        assert!(key("ctrl-c").matches(&press(KeyCode::Char('c'), ctrl)));
        assert!(!key("ctrl-c").matches(&press(KeyCode::Char('c'), none)));
        assert!(!key("ctrl-c").matches(&press(KeyCode::Char('c'), ctrl | KeyModifiers::ALT)));
        assert!(key("f5").matches(&press(KeyCode::F(5), none)));
        assert!(!key("f5").matches(&press(KeyCode::F(5), shift)));
        assert!(key("shift-f11").matches(&press(KeyCode::F(11), shift)));
        assert!(!key("shift-f11").matches(&press(KeyCode::F(11), none)));
        assert!(!key("f11").matches(&press(KeyCode::F(11), shift)));
        assert!(key("backtab").matches(&press(KeyCode::BackTab, shift)));
        assert!(key("shift-tab").matches(&press(KeyCode::BackTab, none)));
        assert!(key("tab").matches(&press(KeyCode::Tab, none)));
        assert!(!key("tab").matches(&press(KeyCode::BackTab, shift)));
        assert!(key("space").matches(&press(KeyCode::Char(' '), none)));
        // State the kitty protocol may report does not get in the way.
        assert!(key("s").matches(&press(KeyCode::Char('s'), KeyModifiers::HYPER)));
        let mut release = press(KeyCode::Char('s'), none);
        release.kind = KeyEventKind::Release;
        assert!(!lower_s.matches(&release));
        let mut repeat = press(KeyCode::Char('s'), none);
        repeat.kind = KeyEventKind::Repeat;
        assert!(lower_s.matches(&repeat));
    }

    #[test]
    fn every_default_key_in_the_command_table_parses() {
        for command in crate::commands::COMMANDS {
            for spec in command.keys {
                assert!(parse_key(spec).is_ok(), "{}: {spec:?}", command.name);
            }
        }
    }
}
