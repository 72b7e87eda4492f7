//! Drawing: every pane from the state in [`App`], read-only.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Pane, Popup, PromptKind, Row};
use super::strings;
use crate::debugger::{Kind, Phase};
use crate::protocol::{BreakpointInfo, StopReason};

/// Width of the source gutter: current-line marker, breakpoint mark, line number, a space.
pub const GUTTER: u16 = 8;

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

pub fn draw(app: &App, f: &mut Frame) {
    let areas = app.areas();
    let ui = &app.theme.ui;
    f.render_widget(
        Block::default().style(Style::default().bg(ui.background).fg(ui.foreground)),
        f.area(),
    );
    source(app, f, areas.source);
    variables(app, f, areas.variables);
    watches(app, f, areas.watches);
    stack(app, f, areas.stack);
    breakpoints(app, f, areas.breakpoints);
    output(app, f, areas.output);
    console(app, f, areas.console);
    timeline(app, f, areas.timeline);
    status(app, f, areas.status);
    match &app.popup {
        Some(Popup::Help { scroll }) => help(app, f, *scroll),
        Some(Popup::Ended { title, text }) => ended(app, f, title, text),
        None => {}
    }
}

fn block<'a>(app: &App, pane: Pane, extra: &str) -> Block<'a> {
    let ui = &app.theme.ui;
    let focused = app.focus == pane;
    let number = Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0) + 1;
    let mut title = format!(" {number} {} ", pane.title());
    if !extra.is_empty() {
        title.push_str(extra);
        title.push(' ');
    }
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(Style::default().fg(if focused {
            ui.border_focused
        } else {
            ui.border
        }))
        .title(Span::styled(
            title,
            Style::default().fg(ui.title).add_modifier(if focused {
                Modifier::BOLD
            } else {
                Modifier::empty()
            }),
        ))
}

/// Cuts `text` to `width` characters, with an ellipsis when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut s: String = text.chars().take(width - 1).collect();
    s.push('…');
    s
}

fn source(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let file = app.source.file.clone().unwrap_or_default();
    let short = std::path::Path::new(&file)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let extra = format!("{short}:{}", app.source.cursor + 1);
    let b = block(app, Pane::Source, &extra);
    let inner = b.inner(area);
    f.render_widget(b, area);
    if let Some(e) = &app.source.error {
        f.render_widget(
            Paragraph::new(e.as_str()).style(Style::default().fg(ui.error)),
            inner,
        );
        return;
    }
    if app.source.lines.is_empty() {
        f.render_widget(
            Paragraph::new(strings::NO_SOURCE).style(Style::default().fg(ui.dim)),
            inner,
        );
        return;
    }
    let stop = app.debugger.current_stop();
    let selected = app.debugger.selected();
    // The line the program is at (in the selected frame), and the callers' lines in view.
    let mut current = None;
    let mut callers = Vec::new();
    if let Some(stop) = stop {
        for (i, fr) in stop.stack.iter().enumerate() {
            if fr.file == file {
                if i == selected {
                    current = Some(fr.line as usize);
                } else {
                    callers.push(fr.line as usize);
                }
            }
        }
    }
    let bps: Vec<&BreakpointInfo> = app
        .debugger
        .breakpoints()
        .filter(|b| b.file == file || same(&b.file, &file))
        .collect();
    let width = inner.width.saturating_sub(GUTTER) as usize;
    let mut lines = Vec::new();
    for row in 0..inner.height as usize {
        let index = app.source.top + row;
        if index >= app.source.lines.len() {
            break;
        }
        let number = index + 1;
        let is_current = current == Some(number);
        let marker = if is_current {
            Span::styled(
                "▶",
                Style::default()
                    .fg(ui.current_line_marker)
                    .add_modifier(Modifier::BOLD),
            )
        } else if callers.contains(&number) {
            Span::styled("▷", Style::default().fg(ui.dim))
        } else {
            Span::raw(" ")
        };
        let bp = bps.iter().find(|b| b.line as usize == number);
        let bp_mark = match bp {
            Some(b) if !b.enabled => Span::styled("○", Style::default().fg(ui.breakpoint_disabled)),
            Some(b) if b.condition.is_some() => {
                Span::styled("◆", Style::default().fg(ui.breakpoint_conditional))
            }
            Some(_) => Span::styled("●", Style::default().fg(ui.breakpoint)),
            None => Span::raw(" "),
        };
        let mut spans = vec![
            marker,
            bp_mark,
            Span::styled(
                format!("{number:>5} "),
                Style::default().fg(if is_current {
                    ui.current_line_marker
                } else {
                    ui.line_number
                }),
            ),
        ];
        let mut used = 0;
        for span in app
            .highlighter
            .line(&app.theme.syntax, &file, &app.source.lines, index)
        {
            if used >= width {
                break;
            }
            let text = fit(&span.content, width - used);
            used += text.chars().count();
            let mut style = span.style;
            if let Some(search) = &app.source.search
                && !search.is_empty()
                && app.source.lines[index]
                    .to_lowercase()
                    .contains(&search.to_lowercase())
                && index == app.source.cursor
            {
                style = style.add_modifier(Modifier::UNDERLINED);
            }
            spans.push(Span::styled(text, style));
        }
        let mut line = Line::from(spans);
        if is_current {
            line = line.style(Style::default().bg(ui.current_line_bg));
        } else if index == app.source.cursor && app.focus == Pane::Source {
            line = line.style(Style::default().bg(ui.cursor_line_bg));
        }
        if index == app.source.cursor && is_current && app.focus == Pane::Source {
            line = line.style(
                Style::default()
                    .bg(ui.current_line_bg)
                    .add_modifier(Modifier::UNDERLINED),
            );
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn same(a: &str, b: &str) -> bool {
    std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
}

fn variables(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let b = block(app, Pane::Variables, "");
    let inner = b.inner(area);
    f.render_widget(b, area);
    if let Some(e) = &app.vars.error {
        f.render_widget(
            Paragraph::new(e.as_str()).style(Style::default().fg(ui.error)),
            inner,
        );
        return;
    }
    let rows = app.vars.rows();
    if rows.is_empty() {
        let text = if app.vars.loading {
            strings::LOADING
        } else {
            ""
        };
        f.render_widget(Paragraph::new(text), inner);
        return;
    }
    let height = inner.height as usize;
    let top = app.vars.selected.saturating_sub(height.saturating_sub(1));
    let width = inner.width as usize;
    let mut lines = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(top).take(height) {
        let selected = i == app.vars.selected && app.focus == Pane::Variables;
        let line = match row {
            Row::Node { depth, node } => {
                let indent = "  ".repeat(*depth);
                let arrow = match (node.entry.children.is_some(), node.expanded) {
                    (true, true) => "▾ ",
                    (true, false) => "▸ ",
                    _ => "  ",
                };
                let name = format!("{indent}{arrow}{}", node.entry.name);
                let used = name.chars().count() + 3;
                let value = fit(&node.entry.value, width.saturating_sub(used));
                let value_style = if node.changed {
                    Style::default().fg(ui.changed).add_modifier(Modifier::BOLD)
                } else {
                    Style::default().fg(ui.foreground)
                };
                Line::from(vec![
                    Span::styled(fit(&name, width), Style::default().fg(ui.title)),
                    Span::styled(" = ", Style::default().fg(ui.dim)),
                    Span::styled(value, value_style),
                ])
            }
            Row::More {
                depth,
                loaded,
                total,
                ..
            } => Line::from(Span::styled(
                format!(
                    "{}  … {} {} ({loaded}/{total})",
                    "  ".repeat(*depth),
                    total - loaded,
                    strings::MORE
                ),
                Style::default().fg(ui.dim),
            )),
        };
        lines.push(if selected {
            line.style(Style::default().bg(ui.selection_bg))
        } else {
            line
        });
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn watches(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let b = block(app, Pane::Watches, "");
    let inner = b.inner(area);
    f.render_widget(b, area);
    if app.watches.is_empty() {
        f.render_widget(
            Paragraph::new(strings::NO_WATCHES)
                .style(Style::default().fg(ui.dim))
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let lines: Vec<Line> = app
        .watches
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (text, style) = match &w.value {
                Some(Ok(v)) => {
                    let changed = w.previous.as_ref().is_some_and(|p| p.as_ref() != Ok(v));
                    (
                        v.clone(),
                        if changed {
                            Style::default().fg(ui.changed).add_modifier(Modifier::BOLD)
                        } else {
                            Style::default().fg(ui.foreground)
                        },
                    )
                }
                Some(Err(e)) => (e.clone(), Style::default().fg(ui.error)),
                None => (strings::LOADING.to_string(), Style::default().fg(ui.dim)),
            };
            // A long expression leaves at least half the row to its value.
            let head = format!("{} = ", fit(&w.expr, (width / 2).max(4)));
            let value = fit(&text, width.saturating_sub(head.chars().count()));
            let line = Line::from(vec![
                Span::styled(head, Style::default().fg(ui.title)),
                Span::styled(value, style),
            ]);
            if i == app.watch_selected && app.focus == Pane::Watches {
                line.style(Style::default().bg(ui.selection_bg))
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn stack(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let b = block(app, Pane::Stack, "");
    let inner = b.inner(area);
    f.render_widget(b, area);
    let Some(stop) = app.debugger.current_stop() else {
        return;
    };
    let selected = app.debugger.selected();
    let width = inner.width as usize;
    let height = inner.height as usize;
    // Newest frame first, as debuggers' stack panes show it.
    let mut lines: Vec<Line> = Vec::new();
    for (i, fr) in stop.stack.iter().enumerate().rev() {
        let file = std::path::Path::new(&fr.file)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let text = fit(
            &format!(
                "{} {}  {file}:{}",
                if i == selected { "▶" } else { " " },
                fr.qualname,
                fr.line
            ),
            width,
        );
        let style = if !fr.user {
            Style::default().fg(ui.dim)
        } else {
            Style::default().fg(ui.foreground)
        };
        let line = Line::from(Span::styled(text, style));
        lines.push(if i == selected {
            line.style(Style::default().bg(ui.selection_bg))
        } else {
            line
        });
    }
    let position = stop.stack.len().saturating_sub(1 + selected);
    let top = position.saturating_sub(height.saturating_sub(1));
    f.render_widget(Paragraph::new(lines).scroll((top as u16, 0)), inner);
}

fn breakpoints(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let b = block(app, Pane::Breakpoints, "");
    let inner = b.inner(area);
    f.render_widget(b, area);
    let list: Vec<&BreakpointInfo> = app.debugger.breakpoints().collect();
    if list.is_empty() {
        f.render_widget(
            Paragraph::new(strings::NO_BREAKPOINTS).style(Style::default().fg(ui.dim)),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let lines: Vec<Line> = list
        .iter()
        .enumerate()
        .map(|(i, bp)| {
            let file = std::path::Path::new(&bp.file)
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let (mark, color) = if !bp.enabled {
                ("○", ui.breakpoint_disabled)
            } else if bp.condition.is_some() {
                ("◆", ui.breakpoint_conditional)
            } else {
                ("●", ui.breakpoint)
            };
            let mut text = format!("{} {file}:{}", bp.number, bp.line);
            if let Some(c) = &bp.condition {
                text.push_str(&format!(" if {c}"));
            }
            if bp.hits > 0 {
                text.push_str(&format!(" ({} hits)", bp.hits));
            }
            let line = Line::from(vec![
                Span::styled(format!("{mark} "), Style::default().fg(color)),
                Span::raw(fit(&text, width.saturating_sub(2))),
            ]);
            if i == app.breakpoint_selected && app.focus == Pane::Breakpoints {
                line.style(Style::default().bg(ui.selection_bg))
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn vt_color(c: vt100::Color, default: Color) -> Color {
    match c {
        vt100::Color::Default => default,
        vt100::Color::Idx(i) => Color::Indexed(i),
        vt100::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

fn output(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let extra = if app.focus == Pane::Output && app.debugger.running() {
        strings::TYPE_TO_PROGRAM
    } else {
        ""
    };
    let b = block(app, Pane::Output, extra);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let screen = app.inbox.output.screen();
    let cols = screen.size().1.get();
    let last = app.inbox.output_last_row;
    let height = inner.height;
    let bottom = (last + 1).saturating_sub(app.output_scroll as u16);
    let first = bottom.saturating_sub(height);
    let mut lines = Vec::new();
    for r in first..bottom {
        let mut spans = Vec::new();
        for c in 0..cols.min(inner.width) {
            let Some(cell) = screen.cell(r, c) else {
                continue;
            };
            let mut style = Style::default()
                .fg(vt_color(cell.fgcolor(), ui.foreground))
                .bg(vt_color(cell.bgcolor(), ui.background));
            if cell.bold() {
                style = style.add_modifier(Modifier::BOLD);
            }
            if cell.underline() {
                style = style.add_modifier(Modifier::UNDERLINED);
            }
            if cell.inverse() {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let text = if cell.has_contents() {
                cell.contents().to_string()
            } else {
                " ".to_string()
            };
            spans.push(Span::styled(text, style));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn console(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let b = block(app, Pane::Console, "");
    let inner = b.inner(area);
    f.render_widget(b, area);
    let height = inner.height as usize;
    let total = app.inbox.console.len();
    let end = total.saturating_sub(app.console_scroll.min(total));
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = app
        .inbox
        .console
        .iter()
        .skip(start)
        .take(end - start)
        .map(|(kind, text)| {
            let color = match kind {
                Kind::Error | Kind::Failure => ui.error,
                Kind::Notice => ui.notice,
                Kind::Location => ui.title,
                Kind::Info => ui.foreground,
            };
            Line::from(Span::styled(text.clone(), Style::default().fg(color)))
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// The tick under column `x` of the timeline's bar.
pub fn timeline_tick_at(app: &App, area: Rect, x: u16) -> Option<u64> {
    let view = app.debugger.timeline_view();
    let last = view.end.unwrap_or(view.frontier).max(view.now);
    let inner_x = area.x + 1;
    let width = area.width.saturating_sub(2) as u64;
    if width == 0 || x < inner_x || last == 0 {
        return None;
    }
    // Ticks start at 1: the left end is the start of the run, the right end its last tick.
    let col = (x - inner_x) as u64;
    Some((1 + col * (last - 1) / width.saturating_sub(1).max(1)).min(last))
}

fn timeline(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let view = app.debugger.timeline_view();
    let last = view.end.unwrap_or(view.frontier).max(view.now);
    let extra = match (&view.off, app.timeline_cursor) {
        (Some(reason), _) => format!("{} {reason}", strings::TIME_TRAVEL_OFF),
        (None, Some(t)) => format!("{} {t} / {last}  Enter: go", strings::TICK),
        (None, None) => format!("{} {} / {last}", strings::TICK, view.now),
    };
    let b = block(app, Pane::Timeline, &extra);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let width = inner.width as usize;
    if width == 0 {
        return;
    }
    let col_of = |t: u64| -> usize {
        if last <= 1 {
            0
        } else {
            ((t.saturating_sub(1) as u128 * (width as u128 - 1)) / (last - 1) as u128) as usize
        }
    };
    let mut cells: Vec<(char, Color)> = vec![('─', ui.timeline_bar); width];
    for t in &view.checkpoints {
        if let Some(c) = cells.get_mut(col_of(*t)) {
            *c = ('┃', ui.timeline_checkpoint);
        }
    }
    for t in &app.hits {
        if let Some(c) = cells.get_mut(col_of(*t)) {
            *c = ('◆', ui.timeline_hit);
        }
    }
    if let Some(t) = app.timeline_cursor
        && let Some(c) = cells.get_mut(col_of(t))
    {
        *c = ('▲', ui.search_match);
    }
    if let Some(c) = cells.get_mut(col_of(view.now)) {
        *c = ('●', ui.timeline_now);
    }
    let spans: Vec<Span> = cells
        .into_iter()
        .map(|(ch, color)| Span::styled(ch.to_string(), Style::default().fg(color)))
        .collect();
    f.render_widget(Paragraph::new(Line::from(spans)), inner);
}

fn status(app: &App, f: &mut Frame, area: Rect) {
    let ui = &app.theme.ui;
    let style = Style::default().bg(ui.status_bg).fg(ui.status_fg);
    if let Some(prompt) = &app.prompt {
        let (label, text) = match prompt.kind {
            PromptKind::Command => (":", prompt.text.as_str()),
            PromptKind::Search => ("/", prompt.text.as_str()),
            PromptKind::AddWatch => ("watch: ", prompt.text.as_str()),
            PromptKind::ConfirmQuit => (strings::QUIT_CONFIRM, ""),
        };
        let line = Line::from(vec![
            Span::styled(label.to_string(), style.add_modifier(Modifier::BOLD)),
            Span::styled(text.to_string(), style),
        ]);
        f.render_widget(Paragraph::new(line).style(style), area);
        if prompt.kind != PromptKind::ConfirmQuit {
            let x = area.x + (label.chars().count() + text.chars().count()) as u16;
            f.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        }
        return;
    }
    let state = match app.debugger.phase() {
        Phase::Running if app.waiting_input => Span::styled(
            format!(" {} ", strings::WAITING_INPUT),
            style.fg(ui.running).add_modifier(Modifier::BOLD),
        ),
        Phase::Running | Phase::Launching => {
            let i = (app.started.elapsed().as_millis() / 100) as usize % SPINNER.len();
            let view = app.debugger.timeline_view();
            Span::styled(
                format!(
                    " {} {} {} ≥ {} ",
                    SPINNER[i],
                    strings::RUNNING,
                    strings::TICK,
                    view.frontier
                ),
                style.fg(ui.running).add_modifier(Modifier::BOLD),
            )
        }
        Phase::Stopped | Phase::Waiting => {
            let (tick, why) = app
                .debugger
                .current_stop()
                .map(|s| (s.tick, reason(&s.reason)))
                .unwrap_or((0, String::new()));
            Span::styled(
                format!(" {} {} {tick}{why} ", strings::STOPPED, strings::TICK),
                style.add_modifier(Modifier::BOLD),
            )
        }
        Phase::Finished(fin) => Span::styled(
            format!(
                " {} ({} {}) ",
                strings::FINISHED,
                strings::EXIT_CODE,
                fin.exit_code
            ),
            style.add_modifier(Modifier::BOLD),
        ),
        Phase::Ended { exit_code } => Span::styled(
            format!(" {} ({} {exit_code}) ", strings::ENDED, strings::EXIT_CODE),
            style.add_modifier(Modifier::BOLD),
        ),
    };
    let right = app
        .flash
        .clone()
        .unwrap_or_else(|| strings::HINTS.to_string());
    let used = state.content.chars().count();
    let room = (area.width as usize).saturating_sub(used + 1);
    let line = Line::from(vec![
        state,
        Span::styled(
            format!("{:>room$}", fit(&right, room)),
            if app.flash.is_some() {
                style.fg(ui.notice)
            } else {
                style
            },
        ),
    ]);
    f.render_widget(Paragraph::new(line).style(style), area);
}

fn reason(r: &StopReason) -> String {
    match r {
        StopReason::Breakpoint { numbers, .. } => {
            let n: Vec<String> = numbers.iter().map(u32::to_string).collect();
            format!(" · breakpoint {}", n.join(", "))
        }
        StopReason::Watch { number, expr, .. } => format!(" · watch {number}: {expr}"),
        StopReason::PostMortem { .. } => " · post-mortem".to_string(),
        StopReason::Exception { .. } => " · exception".to_string(),
        StopReason::Return => " · return".to_string(),
        StopReason::Call => " · call".to_string(),
        StopReason::Interrupted => " · interrupted".to_string(),
        StopReason::Jump { .. } => " · jumped".to_string(),
        StopReason::JumpFailed { .. } => " · jump failed".to_string(),
        _ => String::new(),
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn help(app: &App, f: &mut Frame, scroll: usize) {
    let ui = &app.theme.ui;
    let area = centered(
        f.area(),
        f.area().width.saturating_sub(4).min(110),
        f.area().height.saturating_sub(4),
    );
    f.render_widget(Clear, area);
    let b = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(ui.border_focused))
        .title(Span::styled(
            format!(" {} ", strings::HELP_TITLE),
            Style::default().fg(ui.title),
        ))
        .style(Style::default().bg(ui.background));
    let inner = b.inner(area);
    f.render_widget(b, area);
    let lines: Vec<Line> = app
        .keymap
        .help_lines()
        .into_iter()
        .skip(scroll)
        .map(|(keys, name, text)| {
            Line::from(vec![
                Span::styled(
                    format!("{keys:>14}  "),
                    Style::default().fg(ui.title).add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!("{name:<20}"), Style::default().fg(ui.foreground)),
                Span::styled(text, Style::default().fg(ui.dim)),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn ended(app: &App, f: &mut Frame, title: &str, text: &[String]) {
    let ui = &app.theme.ui;
    let height = (text.len() as u16 + 2).min(f.area().height);
    let area = centered(f.area(), 78, height + 2);
    f.render_widget(Clear, area);
    let b = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(ui.error))
        .title(Span::styled(
            format!(" {title} "),
            Style::default().fg(ui.error).add_modifier(Modifier::BOLD),
        ))
        .style(Style::default().bg(ui.background));
    let inner = b.inner(area);
    f.render_widget(b, area);
    let lines: Vec<Line> = text.iter().map(|t| Line::from(t.as_str())).collect();
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .alignment(Alignment::Left),
        inner,
    );
}
