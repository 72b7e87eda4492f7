//! Syntax highlighting of source files with syntect, done lazily: a file is highlighted from
//! its top only as far as a drawn line needs (parsing needs every line before it), and the
//! result is kept, so drawing a 5,000-line file costs only its visible lines after the first
//! time.

use std::cell::RefCell;
use std::collections::HashMap;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use syntect::highlighting::{
    FontStyle, HighlightState, Highlighter as Styler, RangedHighlightIterator, Theme,
};
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};

struct FileState {
    parse: ParseState,
    highlight: HighlightState,
    /// Highlighted lines so far: (style, text) runs.
    done: Vec<Vec<(Style, String)>>,
}

pub struct Highlighter {
    syntaxes: SyntaxSet,
    files: RefCell<HashMap<String, FileState>>,
    theme_name: RefCell<String>,
}

impl Default for Highlighter {
    fn default() -> Self {
        Self::new()
    }
}

fn style_of(s: syntect::highlighting::Style) -> Style {
    let fg = s.foreground;
    let mut style = Style::default().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if s.font_style.contains(FontStyle::BOLD) {
        style = style.add_modifier(Modifier::BOLD);
    }
    if s.font_style.contains(FontStyle::ITALIC) {
        style = style.add_modifier(Modifier::ITALIC);
    }
    style
}

impl Highlighter {
    pub fn new() -> Highlighter {
        Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
            files: RefCell::new(HashMap::new()),
            theme_name: RefCell::new(String::new()),
        }
    }

    /// The line `index` of `file` (whose text is `lines`) as styled spans.
    pub fn line(
        &self,
        theme: &Theme,
        file: &str,
        lines: &[String],
        index: usize,
    ) -> Vec<Span<'static>> {
        let name = theme.name.clone().unwrap_or_default();
        if *self.theme_name.borrow() != name {
            self.files.borrow_mut().clear();
            *self.theme_name.borrow_mut() = name;
        }
        let mut files = self.files.borrow_mut();
        let state = files.entry(file.to_string()).or_insert_with(|| {
            let syntax = self
                .syntaxes
                .find_syntax_by_extension("py")
                .unwrap_or_else(|| self.syntaxes.find_syntax_plain_text());
            let styler = Styler::new(theme);
            FileState {
                parse: ParseState::new(syntax),
                highlight: HighlightState::new(&styler, ScopeStack::new()),
                done: Vec::new(),
            }
        });
        let styler = Styler::new(theme);
        while state.done.len() <= index && state.done.len() < lines.len() {
            let text = format!("{}\n", lines[state.done.len()]);
            let runs = match state.parse.parse_line(&text, &self.syntaxes) {
                Ok(ops) => RangedHighlightIterator::new(&mut state.highlight, &ops, &text, &styler)
                    .map(|(style, piece, _)| {
                        (style_of(style), piece.trim_end_matches('\n').to_string())
                    })
                    .filter(|(_, piece)| !piece.is_empty())
                    .collect(),
                Err(_) => vec![(Style::default(), text.trim_end().to_string())],
            };
            state.done.push(runs);
        }
        state
            .done
            .get(index)
            .map(|runs| {
                runs.iter()
                    .map(|(s, t)| Span::styled(t.clone(), *s))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Highlights up to `budget` more lines of `file` ahead of need (the UI calls this when
    /// idle), so scrolling later finds them done. `true` while lines remain.
    pub fn warm(&self, theme: &Theme, file: &str, lines: &[String], budget: usize) -> bool {
        let done = self.files.borrow().get(file).map_or(0, |f| f.done.len());
        if done >= lines.len() {
            return false;
        }
        let target = (done + budget).min(lines.len()) - 1;
        let _ = self.line(theme, file, lines, target);
        target + 1 < lines.len()
    }

    /// Forget a file (it changed on disk, or was reloaded).
    pub fn forget(&self, file: &str) {
        self.files.borrow_mut().remove(file);
    }
}
