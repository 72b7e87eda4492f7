//! Colour themes of the terminal UI.
//!
//! A theme is two files in `themes/`: `NAME.toml`, the UI colours, and the TextMate theme it
//! names with `syntax`, the source pane's syntax colours (syntect reads it). The built-in themes
//! are compiled in, so the binary needs no data directory. A user theme is a `.toml` file in the
//! same format; every key it leaves out comes from its `base` theme (by default `dark`), so a
//! user theme can be a single line. docs/config.md describes the format.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use syntect::highlighting::{
    Color as SyntaxColor, FontStyle, Style as SyntaxStyle, Theme as SyntaxTheme, ThemeSet,
};
use toml::Spanned;

use super::config::{line_of, one_line};
use toml::de::{DeTable, DeValue};

/// The theme every missing key falls back to.
pub const DEFAULT: &str = "dark";

/// A loaded theme: the UI colours and the source pane's syntax theme.
#[derive(Clone, Debug)]
pub struct Theme {
    pub name: String,
    pub ui: UiColors,
    pub syntax: SyntaxTheme,
}

/// Defines [`UiColors`] and the theme-file key of each field in one list, so that a new colour
/// cannot be added to the struct and forgotten by the parser, the docs' key list or the tests.
macro_rules! ui_colors {
    ($($(#[doc = $doc:literal])* $field:ident = $fallback:expr,)*) => {
        /// The colours of the UI outside the source text. Fields ending in `_bg` are backgrounds;
        /// the others are text (foreground) colours unless their comment says otherwise.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct UiColors {
            $($(#[doc = $doc])* pub $field: Color,)*
        }

        impl UiColors {
            /// Every key a theme file may set, in the order of the struct.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Terminal palette colours only: what a theme looks like if the built-in files were
            /// unusable, so the UI can always draw something readable.
            pub const ANSI: UiColors = UiColors { $($field: $fallback,)* };

            fn field_mut(&mut self, key: &str) -> Option<&mut Color> {
                match key {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            /// The colour of a theme-file key, for tools that list or compare themes.
            pub fn get(&self, key: &str) -> Option<Color> {
                match key {
                    $(stringify!($field) => Some(self.$field),)*
                    _ => None,
                }
            }
        }
    };
}

ui_colors! {
    /// Background of every pane.
    background = Color::Reset,
    /// Ordinary text.
    foreground = Color::Reset,
    /// Borders of panes without focus.
    border = Color::DarkGray,
    /// Border of the focused pane.
    border_focused = Color::LightBlue,
    /// Pane titles.
    title = Color::Yellow,
    /// Background of the line the program is stopped at.
    current_line_bg = Color::Indexed(58),
    /// The gutter marker (arrow) of the line the program is stopped at.
    current_line_marker = Color::LightYellow,
    /// Background of the line the user's cursor is on in the source pane.
    cursor_line_bg = Color::Indexed(236),
    /// Breakpoint marker in the gutter and the breakpoints pane.
    breakpoint = Color::LightRed,
    /// Marker of a disabled breakpoint.
    breakpoint_disabled = Color::Red,
    /// Marker of a breakpoint with a condition or ignore count.
    breakpoint_conditional = Color::Yellow,
    /// Line numbers in the gutter.
    line_number = Color::DarkGray,
    /// Gutter of lines where no code can stop (blank lines, comments).
    no_code = Color::DarkGray,
    /// Variables whose value changed since the last stop.
    changed = Color::LightYellow,
    /// Error messages.
    error = Color::LightRed,
    /// Notices from the debugger (a checkpoint dropped, time travel off, ...).
    notice = Color::Cyan,
    /// Background of the status bar.
    status_bg = Color::DarkGray,
    /// Text of the status bar.
    status_fg = Color::White,
    /// The "running" indicator and the moving tick while the program runs.
    running = Color::LightGreen,
    /// The timeline's bar (the recorded run).
    timeline_bar = Color::DarkGray,
    /// Where the program is now on the timeline.
    timeline_now = Color::LightYellow,
    /// Checkpoints on the timeline.
    timeline_checkpoint = Color::LightBlue,
    /// Breakpoint and watch hits on the timeline.
    timeline_hit = Color::LightRed,
    /// Background of the selected row in a list or tree pane.
    selection_bg = Color::Indexed(238),
    /// Search matches: a marker colour (the timeline's), or reversed, as the background of
    /// matched text drawn in `background`.
    search_match = Color::Magenta,
    /// Secondary text: hints, types next to values, elided parts.
    dim = Color::DarkGray,
}

/// One built-in theme, compiled into the binary.
struct BuiltIn {
    name: &'static str,
    toml: &'static str,
    tm_theme: &'static [u8],
}

const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "dark",
        toml: include_str!("../../themes/dark.toml"),
        tm_theme: include_bytes!("../../themes/dark.tmTheme"),
    },
    BuiltIn {
        name: "light",
        toml: include_str!("../../themes/light.toml"),
        tm_theme: include_bytes!("../../themes/light.tmTheme"),
    },
    BuiltIn {
        name: "high-contrast",
        toml: include_str!("../../themes/high-contrast.toml"),
        tm_theme: include_bytes!("../../themes/high-contrast.tmTheme"),
    },
];

/// Everything that can be wrong with a theme. `file` is a path, or `built-in theme NAME`.
#[derive(thiserror::Error, Debug)]
pub enum ThemeError {
    #[error("unknown theme `{name}`; the themes are: {}, or a path to a theme .toml file", known.join(", "))]
    UnknownTheme { name: String, known: Vec<String> },
    #[error("cannot read theme file {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}, line {line}: {message}")]
    Toml {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "{file}, line {line}: `{key}` = \"{value}\" is not a colour (use \"#rrggbb\", a colour name such as \"lightblue\", or a palette index 0-255)"
    )]
    BadColor {
        file: String,
        line: usize,
        key: String,
        value: String,
    },
    #[error("{file}, line {line}: `{key}` must be a string, like \"{example}\"")]
    NotAString {
        file: String,
        line: usize,
        key: String,
        example: String,
    },
    #[error("{file}, line {line}: unknown key `{key}`{}; the keys are: name, base, syntax, {}", suggestion(.key), UiColors::KEYS.join(", "))]
    UnknownKey {
        file: String,
        line: usize,
        key: String,
    },
    #[error("{file}, line {line}: `base` must be a built-in theme ({}), not `{value}`", names().join(", "))]
    BadBase {
        file: String,
        line: usize,
        value: String,
    },
    #[error(
        "{file}, line {line}: syntax theme `{value}` is neither a .tmTheme file next to the theme nor a built-in syntax theme ({})",
        known.join(", ")
    )]
    UnknownSyntax {
        file: String,
        line: usize,
        value: String,
        known: Vec<String>,
    },
    #[error("cannot load syntax theme {file}: {message}")]
    SyntaxTheme { file: String, message: String },
    #[error("{file}: no colour for `{key}` (a built-in theme must set every key)")]
    Incomplete { file: String, key: String },
}

/// The names of the built-in themes.
pub fn names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|b| b.name).collect()
}

/// The built-in themes and the `.toml` files in [`user_themes_dir`]: every name [`load`] accepts
/// without a path.
pub fn available() -> Vec<String> {
    let mut all: Vec<String> = names().into_iter().map(String::from).collect();
    if let Some(dir) = user_themes_dir()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let mut user: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
            .filter(|n| !all.contains(n))
            .collect();
        user.sort();
        all.extend(user);
    }
    all
}

/// Where `theme = "NAME"` finds user themes: `themes/` next to the config file.
pub fn user_themes_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("themes"))
}

/// The directory of the config file, honouring `$SLEEPY_CONFIG` as config.rs does; relative
/// theme paths in the config file are relative to it.
fn config_dir() -> Option<PathBuf> {
    match std::env::var_os("SLEEPY_CONFIG") {
        Some(p) if !p.is_empty() => Path::new(&p).parent().map(Path::to_path_buf),
        _ => dirs::config_dir().map(|d| d.join("sleepy")),
    }
}

/// A theme by name: a built-in one, a `.toml` file in [`user_themes_dir`], or a path to a theme
/// file (anything with a `/` or ending in `.toml`; `~/` is the home directory; a relative path is
/// tried from the current directory, then from the config file's directory).
pub fn load(name: &str) -> Result<Theme, ThemeError> {
    if let Some(builtin) = BUILT_IN.iter().find(|b| b.name == name) {
        return load_builtin(builtin);
    }
    if name.contains('/') || name.contains('\\') || name.ends_with(".toml") {
        return load_file(&resolve_path(name));
    }
    if let Some(dir) = user_themes_dir() {
        let path = dir.join(format!("{name}.toml"));
        if path.is_file() {
            return load_file(&path);
        }
    }
    Err(ThemeError::UnknownTheme {
        name: name.to_string(),
        known: available(),
    })
}

fn resolve_path(name: &str) -> PathBuf {
    if let Some(rest) = name.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    let path = PathBuf::from(name);
    if path.is_absolute() || path.exists() {
        return path;
    }
    match config_dir() {
        Some(dir) if dir.join(&path).exists() => dir.join(path),
        _ => path,
    }
}

/// A user theme file. Its `syntax` may name a `.tmTheme` file (relative to the theme file's
/// directory), a built-in theme's syntax (`light` or `light.tmTheme`), or one of syntect's own
/// themes (`base16-ocean.dark`, `InspiredGitHub`, `Solarized (light)`, ...).
pub fn load_file(path: &Path) -> Result<Theme, ThemeError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
        file: file.clone(),
        source,
    })?;
    let parsed = parse_file(&text, &file)?;
    let base_name = match &parsed.base {
        Some((value, line)) => BUILT_IN
            .iter()
            .find(|b| b.name == value.as_str())
            .map(|b| b.name)
            .ok_or_else(|| ThemeError::BadBase {
                file: file.clone(),
                line: *line,
                value: value.clone(),
            })?,
        None => DEFAULT,
    };
    let mut ui = builtin_ui(base_name)?;
    parsed.apply(&mut ui);
    let dir = path.parent().unwrap_or(Path::new("."));
    let syntax = match &parsed.syntax {
        Some((value, line)) => user_syntax(value, *line, dir, &file)?,
        None => builtin_syntax(builtin_by_name(base_name)?)?,
    };
    let name = parsed.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.clone())
    });
    Ok(Theme { name, ui, syntax })
}

impl Default for Theme {
    /// The dark theme; terminal palette colours should it ever fail to load, because the UI must
    /// come up whatever happens to the theme files.
    fn default() -> Self {
        load(DEFAULT).unwrap_or_else(|_| Theme {
            name: DEFAULT.to_string(),
            ui: UiColors::ANSI,
            syntax: SyntaxTheme::default(),
        })
    }
}

impl Theme {
    /// The ratatui style of a span syntect highlighted: its colour and bold/italic/underline.
    /// The background is left to the pane, which paints the current and cursor lines itself.
    pub fn syntax_style(&self, style: SyntaxStyle) -> Style {
        let background = self
            .syntax
            .settings
            .background
            .unwrap_or(SyntaxColor::BLACK);
        let mut out = Style::default().fg(blend(style.foreground, background));
        for (font, modifier) in [
            (FontStyle::BOLD, Modifier::BOLD),
            (FontStyle::ITALIC, Modifier::ITALIC),
            (FontStyle::UNDERLINE, Modifier::UNDERLINED),
        ] {
            if style.font_style.contains(font) {
                out = out.add_modifier(modifier);
            }
        }
        out
    }
}

/// A syntect colour as a terminal colour; a translucent one (some .tmTheme files use alpha) is
/// mixed with the background it would be drawn over, since terminals have no alpha.
pub fn blend(color: SyntaxColor, background: SyntaxColor) -> Color {
    let mix = |c: u8, b: u8| -> u8 {
        let a = u16::from(color.a);
        // At most 255 * 255 / 255: the division brings it back into u8.
        u8::try_from((u16::from(c) * a + u16::from(b) * (255 - a)) / 255).unwrap_or(c)
    };
    Color::Rgb(
        mix(color.r, background.r),
        mix(color.g, background.g),
        mix(color.b, background.b),
    )
}

/// Whether the terminal says it shows 24-bit colour. Terminals that do not may draw `#rrggbb`
/// as something else entirely, so the UI should pass its colours through [`indexed`] then.
/// Over ssh `COLORTERM` is often lost: a false "no" costs only some colour accuracy.
pub fn truecolor() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    matches!(var("COLORTERM").as_str(), "truecolor" | "24bit")
        || var("TERM").ends_with("-direct")
        || std::env::var_os("WT_SESSION").is_some()
}

/// The nearest colour of the xterm 256-colour palette's fixed part (the 6x6x6 cube and the
/// grey ramp; not 0-15, which every terminal defines differently). Other colours unchanged.
pub fn indexed(color: Color) -> Color {
    let Color::Rgb(r, g, b) = color else {
        return color;
    };
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let nearest_level = |v: u8| -> usize {
        (0..LEVELS.len())
            .min_by_key(|&i| LEVELS[i].abs_diff(v))
            .unwrap_or(0)
    };
    let distance = |(x, y, z): (u8, u8, u8)| -> u32 {
        [(x, r), (y, g), (z, b)]
            .iter()
            .map(|(p, q)| u32::from(p.abs_diff(*q)).pow(2))
            .sum()
    };
    let (ri, gi, bi) = (nearest_level(r), nearest_level(g), nearest_level(b));
    let cube = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let cube_index = 16 + 36 * ri + 6 * gi + bi;
    // The grey ramp: 232 + i is 8 + 10 * i.
    let average = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let step = (average.saturating_sub(3) / 10).min(23);
    let level = u8::try_from(8 + 10 * step).unwrap_or(238);
    let grey_index = 232 + usize::try_from(step).unwrap_or(0);
    let index = if distance((level, level, level)) < distance(cube) {
        grey_index
    } else {
        cube_index
    };
    Color::Indexed(u8::try_from(index).unwrap_or(u8::MAX))
}

impl UiColors {
    /// Every colour through [`indexed`], for a terminal without 24-bit colour.
    pub fn indexed(&self) -> UiColors {
        let mut out = *self;
        for key in UiColors::KEYS {
            if let Some(field) = out.field_mut(key) {
                *field = indexed(*field);
            }
        }
        out
    }
}

fn builtin_by_name(name: &str) -> Result<&'static BuiltIn, ThemeError> {
    BUILT_IN
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| ThemeError::UnknownTheme {
            name: name.to_string(),
            known: available(),
        })
}

fn load_builtin(builtin: &BuiltIn) -> Result<Theme, ThemeError> {
    Ok(Theme {
        name: builtin.name.to_string(),
        ui: builtin_ui(builtin.name)?,
        syntax: builtin_syntax(builtin)?,
    })
}

/// The UI colours of a built-in theme. Built-in themes other than the default also fall back
/// to it, like user themes, so adding a key to the struct needs a value in dark.toml only.
fn builtin_ui(name: &str) -> Result<UiColors, ThemeError> {
    let builtin = builtin_by_name(name)?;
    let file = format!("built-in theme {}", builtin.name);
    let parsed = parse_file(builtin.toml, &file)?;
    let mut ui = if builtin.name == DEFAULT {
        if let Some(key) = UiColors::KEYS
            .iter()
            .find(|k| !parsed.colors.iter().any(|(c, _)| c == *k))
        {
            return Err(ThemeError::Incomplete {
                file,
                key: key.to_string(),
            });
        }
        UiColors::ANSI
    } else {
        builtin_ui(DEFAULT)?
    };
    parsed.apply(&mut ui);
    Ok(ui)
}

fn builtin_syntax(builtin: &BuiltIn) -> Result<SyntaxTheme, ThemeError> {
    ThemeSet::load_from_reader(&mut Cursor::new(builtin.tm_theme)).map_err(|e| {
        ThemeError::SyntaxTheme {
            file: format!("built-in {}.tmTheme", builtin.name),
            message: error_chain(&e),
        }
    })
}

fn user_syntax(
    value: &str,
    line: usize,
    dir: &Path,
    file: &str,
) -> Result<SyntaxTheme, ThemeError> {
    let path = dir.join(value);
    if path.is_file() {
        return ThemeSet::get_theme(&path).map_err(|e| ThemeError::SyntaxTheme {
            file: path.display().to_string(),
            message: error_chain(&e),
        });
    }
    let bare = value.strip_suffix(".tmTheme").unwrap_or(value);
    if let Some(builtin) = BUILT_IN.iter().find(|b| b.name == bare) {
        return builtin_syntax(builtin);
    }
    // syntect's own themes are a compressed dump: decompressed only when a theme asks for one.
    let mut defaults = ThemeSet::load_defaults();
    if let Some(theme) = defaults.themes.remove(bare) {
        return Ok(theme);
    }
    let mut known: Vec<String> = names().into_iter().map(String::from).collect();
    known.extend(defaults.themes.into_keys());
    Err(ThemeError::UnknownSyntax {
        file: file.to_string(),
        line,
        value: value.to_string(),
        known,
    })
}

/// syntect's errors say little at the top ("Invalid syntax theme"); the cause is below.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// What a theme file says, checked but not yet applied over its base.
struct Parsed {
    name: Option<String>,
    base: Option<(String, usize)>,
    syntax: Option<(String, usize)>,
    colors: Vec<(&'static str, Color)>,
}

impl Parsed {
    fn apply(&self, ui: &mut UiColors) {
        for (key, color) in &self.colors {
            if let Some(field) = ui.field_mut(key) {
                *field = *color;
            }
        }
    }
}

fn parse_file(text: &str, file: &str) -> Result<Parsed, ThemeError> {
    let table = DeTable::parse(text).map_err(|e| ThemeError::Toml {
        file: file.to_string(),
        line: line_of(text, e.span().map_or(0, |s| s.start)),
        message: one_line(e.message()),
    })?;
    let mut parsed = Parsed {
        name: None,
        base: None,
        syntax: None,
        colors: Vec::new(),
    };
    let mut entries: Vec<(&Spanned<toml::de::DeString>, &Spanned<DeValue>)> =
        table.get_ref().iter().collect();
    // Errors in file order: the first one the user reads is the first in the file.
    entries.sort_by_key(|(k, _)| k.span().start);
    for (key, value) in entries {
        let line = line_of(text, key.span().start);
        let key = key.get_ref().as_ref();
        let not_a_string = |example: &str| ThemeError::NotAString {
            file: file.to_string(),
            line,
            key: key.to_string(),
            example: example.to_string(),
        };
        let color_key = UiColors::KEYS.iter().find(|k| **k == key).copied();
        if color_key.is_none() && !["name", "base", "syntax"].contains(&key) {
            return Err(ThemeError::UnknownKey {
                file: file.to_string(),
                line,
                key: key.to_string(),
            });
        }
        let string = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            _ => {
                return Err(not_a_string(match key {
                    "name" => "my theme",
                    "base" => "light",
                    "syntax" => "my.tmTheme",
                    _ => "#rrggbb",
                }));
            }
        };
        match (key, color_key) {
            ("name", _) => parsed.name = Some(string),
            ("base", _) => parsed.base = Some((string, line)),
            ("syntax", _) => parsed.syntax = Some((string, line)),
            (_, None) => {}
            (_, Some(known)) => {
                let color = Color::from_str(string.trim()).map_err(|_| ThemeError::BadColor {
                    file: file.to_string(),
                    line,
                    key: key.to_string(),
                    value: string.clone(),
                })?;
                parsed.colors.push((known, color));
            }
        }
    }
    Ok(parsed)
}

/// " (did you mean `x`?)" when a known key is one or two edits away from a typo.
fn suggestion(key: &str) -> String {
    ["name", "base", "syntax"]
        .iter()
        .chain(UiColors::KEYS)
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use syntect::easy::HighlightLines;
    use syntect::parsing::SyntaxSet;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn rgb(c: SyntaxColor) -> Color {
        Color::Rgb(c.r, c.g, c.b)
    }

    #[test]
    fn every_builtin_theme_loads_with_a_syntax_background_matching_the_ui() {
        assert_eq!(names(), vec!["dark", "light", "high-contrast"]);
        for name in names() {
            let theme = load(name).unwrap();
            assert_eq!(theme.name, name);
            let background = theme.syntax.settings.background.unwrap();
            assert_eq!(rgb(background), theme.ui.background, "{name}");
            let foreground = theme.syntax.settings.foreground.unwrap();
            assert_eq!(rgb(foreground), theme.ui.foreground, "{name}");
            assert!(theme.syntax.scopes.len() >= 15, "{name}");
        }
    }

    #[test]
    fn every_builtin_file_sets_every_key() {
        // The fallback to dark would hide a key missing from light.toml: check the files.
        for builtin in BUILT_IN {
            let parsed = parse_file(builtin.toml, builtin.name).unwrap();
            for key in UiColors::KEYS {
                assert!(
                    parsed.colors.iter().any(|(k, _)| k == key),
                    "{}.toml has no `{key}`",
                    builtin.name
                );
            }
            assert_eq!(
                parsed.syntax.map(|(s, _)| s),
                Some(format!("{}.tmTheme", builtin.name))
            );
        }
    }

    #[test]
    fn builtin_themes_differ() {
        let dark = load("dark").unwrap();
        let light = load("light").unwrap();
        let high = load("high-contrast").unwrap();
        assert_ne!(dark.ui, light.ui);
        assert_ne!(dark.ui, high.ui);
        assert_eq!(high.ui.background, Color::Rgb(0, 0, 0));
        assert_eq!(high.ui.foreground, Color::Rgb(255, 255, 255));
    }

    #[test]
    fn unknown_name_lists_the_themes() {
        let err = load("solarised").unwrap_err();
        assert!(matches!(err, ThemeError::UnknownTheme { .. }));
        let message = err.to_string();
        assert!(message.contains("unknown theme `solarised`"), "{message}");
        assert!(message.contains("dark, light, high-contrast"), "{message}");
    }

    #[test]
    fn user_theme_overrides_one_colour_and_keeps_the_rest_of_dark() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "mine.toml", "breakpoint = \"#ff00ff\"\n");
        let theme = load(path.to_str().unwrap()).unwrap();
        let dark = load("dark").unwrap();
        assert_eq!(theme.name, "mine");
        assert_eq!(theme.ui.breakpoint, Color::Rgb(255, 0, 255));
        let mut expected = dark.ui;
        expected.breakpoint = Color::Rgb(255, 0, 255);
        assert_eq!(theme.ui, expected);
        assert_eq!(
            theme.syntax.settings.background,
            dark.syntax.settings.background
        );
    }

    #[test]
    fn user_theme_can_start_from_another_builtin_and_use_colour_names() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name = \"Mine\"\nbase = \"light\"\nsyntax = \"high-contrast.tmTheme\"\n\
                    title = \"light blue\"\ndim = \"244\"\nbackground = \"reset\"\n";
        let theme = load_file(&write(dir.path(), "x.toml", text)).unwrap();
        let light = load("light").unwrap();
        assert_eq!(theme.name, "Mine");
        assert_eq!(theme.ui.title, Color::LightBlue);
        assert_eq!(theme.ui.dim, Color::Indexed(244));
        assert_eq!(theme.ui.background, Color::Reset);
        assert_eq!(theme.ui.breakpoint, light.ui.breakpoint);
        assert_eq!(
            theme.syntax.settings.background,
            load("high-contrast").unwrap().syntax.settings.background
        );
    }

    #[test]
    fn user_theme_loads_a_tm_theme_next_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let tm = String::from_utf8(BUILT_IN[0].tm_theme.to_vec())
            .unwrap()
            .replace("<string>#1d1f21</string>", "<string>#102030</string>");
        write(dir.path(), "mine.tmTheme", &tm);
        let path = write(dir.path(), "mine.toml", "syntax = \"mine.tmTheme\"\n");
        let theme = load_file(&path).unwrap();
        let background = theme.syntax.settings.background.unwrap();
        assert_eq!(
            (background.r, background.g, background.b),
            (0x10, 0x20, 0x30)
        );
    }

    #[test]
    fn user_theme_can_name_one_of_syntects_themes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "gh.toml", "syntax = \"InspiredGitHub\"\n");
        let theme = load_file(&path).unwrap();
        assert!(theme.syntax.settings.background.is_some());
    }

    #[test]
    fn unknown_syntax_theme_names_the_file_line_and_choices() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "t.toml", "# mine\nsyntax = \"nope.tmTheme\"\n");
        let message = load_file(&path).unwrap_err().to_string();
        assert!(message.contains("t.toml, line 2"), "{message}");
        assert!(message.contains("`nope.tmTheme`"), "{message}");
        assert!(message.contains("high-contrast"), "{message}");
        assert!(message.contains("InspiredGitHub"), "{message}");
    }

    #[test]
    fn broken_tm_theme_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "bad.tmTheme",
            "<plist><dict><key>x</key></dict>",
        );
        let path = write(dir.path(), "t.toml", "syntax = \"bad.tmTheme\"\n");
        let message = load_file(&path).unwrap_err().to_string();
        assert!(message.contains("cannot load syntax theme"), "{message}");
        assert!(message.contains("bad.tmTheme"), "{message}");
    }

    #[test]
    fn bad_colour_names_key_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "t.toml",
            "title = \"#ffffff\"\n\nborder = \"#12345\"\n",
        );
        let err = load_file(&path).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(&err, ThemeError::BadColor { key, line: 3, .. } if key == "border"),
            "{err:?}"
        );
        assert!(message.contains("t.toml, line 3"), "{message}");
        assert!(message.contains("`border` = \"#12345\""), "{message}");
    }

    #[test]
    fn other_mistakes_in_a_theme_file() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "titel = \"red\"\n",
                "unknown key `titel` (did you mean `title`?)",
            ),
            ("title = 3\n", "`title` must be a string"),
            ("base = \"mine\"\n", "`base` must be a built-in theme"),
            ("title = \"red\n", "line 1"),
            ("\n[ui]\nx = 1\n", "line 2: unknown key `ui`"),
        ];
        for (text, expected) in cases {
            let path = write(dir.path(), "t.toml", text);
            let message = load_file(&path).unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(message.contains("t.toml"), "{text:?}: {message}");
        }
        let message = load_file(&dir.path().join("absent.toml"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("cannot read theme file"), "{message}");
        assert!(message.contains("absent.toml"), "{message}");
    }

    /// The colour each built-in theme gives a few Python tokens: distinct kinds must look
    /// distinct, or the scopes in the .tmTheme files do not match what syntect's Python emits.
    #[test]
    fn python_tokens_get_distinct_colours() {
        let syntaxes = SyntaxSet::load_defaults_newlines();
        let python = syntaxes.find_syntax_by_extension("py").unwrap();
        let code = "def f(a):\n    # note\n    return len('s') + 42 if True else a\n\
                    class C:\n    def __init__(self): pass\n";
        for name in names() {
            let theme = load(name).unwrap();
            let mut highlighter = HighlightLines::new(python, &theme.syntax);
            let mut colour_of = std::collections::HashMap::new();
            for line in code.split_inclusive('\n') {
                for (style, text) in highlighter.highlight_line(line, &syntaxes).unwrap() {
                    colour_of.insert(text.trim().to_string(), theme.syntax_style(style));
                }
            }
            let fg = |token: &str| colour_of[token].fg.unwrap();
            let kinds = ["def", "f", "a", "#", "len", "'", "42", "True"];
            for (i, x) in kinds.iter().enumerate() {
                for y in &kinds[i + 1..] {
                    assert_ne!(fg(x), fg(y), "{name}: `{x}` and `{y}` look the same");
                }
            }
            assert_eq!(fg("return"), fg("def"), "{name}");
            assert_eq!(
                fg("__init__"),
                fg("f"),
                "{name}: a method named like a built-in"
            );
            assert!(colour_of["note"].add_modifier.contains(Modifier::ITALIC));
        }
    }

    fn luminance(c: Color) -> f64 {
        let Color::Rgb(r, g, b) = c else {
            panic!("{c:?} is not an RGB colour")
        };
        let channel = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }

    fn contrast(a: Color, b: Color) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// WCAG's 4.5:1 for text, against every background the text can be drawn on.
    #[test]
    fn high_contrast_is_high_contrast() {
        let theme = load("high-contrast").unwrap();
        let ui = theme.ui;
        let backgrounds = [
            ("background", ui.background),
            ("current_line_bg", ui.current_line_bg),
            ("cursor_line_bg", ui.cursor_line_bg),
            ("selection_bg", ui.selection_bg),
        ];
        let mut texts: Vec<(String, Color)> = UiColors::KEYS
            .iter()
            .filter(|k| {
                !k.ends_with("_bg") && !["background", "status_fg", "timeline_bar"].contains(k)
            })
            .map(|k| (k.to_string(), ui.get(k).unwrap()))
            .collect();
        for item in &theme.syntax.scopes {
            if item.style.background.is_none()
                && let Some(fg) = item.style.foreground
            {
                texts.push((format!("{:?}", item.scope), rgb(fg)));
            }
        }
        for (text, fg) in &texts {
            for (bg_name, bg) in backgrounds {
                let ratio = contrast(*fg, bg);
                assert!(ratio >= 4.5, "{text} on {bg_name}: {ratio:.2}");
            }
        }
        assert!(contrast(ui.status_fg, ui.status_bg) >= 7.0);
        assert!(contrast(ui.background, ui.search_match) >= 4.5);
        for item in &theme.syntax.scopes {
            if let (Some(fg), Some(bg)) = (item.style.foreground, item.style.background) {
                assert!(contrast(rgb(fg), rgb(bg)) >= 4.5, "{:?}", item.scope);
            }
        }
    }

    #[test]
    fn light_and_dark_text_is_readable() {
        for name in ["dark", "light"] {
            let theme = load(name).unwrap();
            let bg = theme.ui.background;
            assert!(contrast(theme.ui.foreground, bg) >= 7.0, "{name}");
            for item in &theme.syntax.scopes {
                if item.style.background.is_none()
                    && let Some(fg) = item.style.foreground
                {
                    let ratio = contrast(rgb(fg), bg);
                    assert!(ratio >= 4.5, "{name} {:?}: {ratio:.2}", item.scope);
                }
            }
        }
    }

    #[test]
    fn translucent_syntax_colours_are_mixed_with_the_background() {
        let half = SyntaxColor {
            r: 255,
            g: 255,
            b: 255,
            a: 128,
        };
        assert_eq!(blend(half, SyntaxColor::BLACK), Color::Rgb(128, 128, 128));
        assert_eq!(
            blend(SyntaxColor::WHITE, SyntaxColor::BLACK),
            Color::Rgb(255, 255, 255)
        );
    }

    #[test]
    fn indexed_picks_the_nearest_palette_colour() {
        assert_eq!(indexed(Color::Rgb(0, 0, 0)), Color::Indexed(16));
        assert_eq!(indexed(Color::Rgb(255, 255, 255)), Color::Indexed(231));
        assert_eq!(indexed(Color::Rgb(255, 0, 0)), Color::Indexed(196));
        assert_eq!(indexed(Color::Rgb(0, 0, 0x5f)), Color::Indexed(17));
        // #1d1f21, dark's background: a grey of the ramp, not the cube's black.
        assert_eq!(indexed(Color::Rgb(0x1d, 0x1f, 0x21)), Color::Indexed(234));
        assert_eq!(indexed(Color::Rgb(0xee, 0xee, 0xee)), Color::Indexed(255));
        assert_eq!(indexed(Color::LightBlue), Color::LightBlue);
        let ui = load("dark").unwrap().ui.indexed();
        for key in UiColors::KEYS {
            assert!(matches!(ui.get(key), Some(Color::Indexed(_))), "{key}");
        }
    }

    #[test]
    fn default_is_dark() {
        let theme = Theme::default();
        assert_eq!(theme.name, "dark");
        assert_eq!(theme.ui, load("dark").unwrap().ui);
    }
}
