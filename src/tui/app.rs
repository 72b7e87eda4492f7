//! The TUI's state: the debugger session and what each pane shows and where its cursor is.
//! Keys and events change it here; drawing (`super::draw`) only reads it, so a frame on screen
//! is always one consistent moment of the run.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::config::Layout;
use super::highlight::Highlighter;
use super::keymap::{Action, Keymap, UiAction};
use super::layout::{Areas, areas};
use super::strings;
use super::theme::Theme;
use crate::commands::{self, CommandId, parse::split_commands};
use crate::debugger::{Debugger, Kind, Phase, Sink};
use crate::protocol::{EvalStyle, Reply, Request, StopReason, VariableEntry};

/// How many children a container shows at a time; "more" loads the next chunk.
pub const CHUNK: u32 = 50;
/// The console keeps this many lines.
const CONSOLE_LINES: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Source,
    Variables,
    Watches,
    Stack,
    Breakpoints,
    Timeline,
    Output,
    Console,
}

impl Pane {
    pub const ALL: [Pane; 8] = [
        Pane::Source,
        Pane::Variables,
        Pane::Watches,
        Pane::Stack,
        Pane::Breakpoints,
        Pane::Timeline,
        Pane::Output,
        Pane::Console,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Source => strings::SOURCE,
            Pane::Variables => strings::VARIABLES,
            Pane::Watches => strings::WATCHES,
            Pane::Stack => strings::STACK,
            Pane::Breakpoints => strings::BREAKPOINTS,
            Pane::Timeline => strings::TIMELINE,
            Pane::Output => strings::OUTPUT,
            Pane::Console => strings::CONSOLE,
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// What the debugger writes, gathered for the panes.
pub struct Inbox {
    pub console: VecDeque<(Kind, String)>,
    /// The program's terminal, emulated: colours, carriage returns and cursor moves work.
    pub output: vt100::Parser,
    answers: Vec<(u64, Reply)>,
    /// Something arrived since the last frame was drawn.
    pub changed: bool,
    /// The last row of the output screen with text (or the cursor's row), found when output
    /// arrives rather than at every frame.
    pub output_last_row: u16,
}

impl Sink for Inbox {
    fn program_output(&mut self, bytes: &[u8]) {
        // A bare LF moves down without returning to column 0 on a real terminal only when
        // the line discipline does not translate it; the pty does, so the bytes come as CR LF.
        self.output.process(bytes);
        self.changed = true;
        let screen = self.output.screen();
        let (rows, cols) = screen.size();
        let (cursor_row, _) = screen.cursor_position();
        self.output_last_row = (cursor_row..rows.get())
            .rev()
            .find(|r| {
                !screen
                    .contents_between(*r, 0, *r, cols.get())
                    .trim()
                    .is_empty()
            })
            .unwrap_or(cursor_row)
            .max(cursor_row);
    }

    fn line(&mut self, kind: Kind, text: &str) {
        for line in text.split('\n') {
            self.console.push_back((kind, line.to_string()));
        }
        self.changed = true;
        while self.console.len() > CONSOLE_LINES {
            self.console.pop_front();
        }
    }

    fn answer(&mut self, tag: u64, reply: Reply) {
        self.answers.push((tag, reply));
        self.changed = true;
    }
}

/// The source pane's file and cursor.
#[derive(Default)]
pub struct SourceState {
    pub file: Option<String>,
    pub lines: Vec<String>,
    pub error: Option<String>,
    /// 0-based line of the cursor.
    pub cursor: usize,
    /// 0-based first line shown.
    pub top: usize,
    pub search: Option<String>,
}

/// One variable, or one item or attribute of a container, in the Variables tree.
#[derive(Debug, Clone)]
pub struct VarNode {
    pub entry: VariableEntry,
    pub path: Vec<u32>,
    /// Its full name (`x`, `x[0]`, `x[0].a`): what "changed since the last stop" compares by.
    pub key: String,
    pub expanded: bool,
    pub children: Vec<VarNode>,
    pub total: u32,
    pub changed: bool,
}

/// A row of the Variables pane as drawn.
pub enum Row<'a> {
    Node {
        depth: usize,
        node: &'a VarNode,
    },
    More {
        depth: usize,
        path: Vec<u32>,
        loaded: u32,
        total: u32,
    },
}

#[derive(Default)]
pub struct VarsState {
    pub roots: Vec<VarNode>,
    pub total: u32,
    pub loading: bool,
    pub error: Option<String>,
    pub selected: usize,
    /// The frame the tree is of (`file:function:depth`), and the values it showed, by key.
    frame_key: String,
    previous: HashMap<String, String>,
    previous_key: String,
    /// Keys the user expanded: expanded again at the next stop.
    expanded: HashSet<String>,
}

impl VarsState {
    pub fn rows(&self) -> Vec<Row<'_>> {
        let mut out = Vec::new();
        fn walk<'a>(
            nodes: &'a [VarNode],
            total: u32,
            path: &[u32],
            depth: usize,
            out: &mut Vec<Row<'a>>,
        ) {
            for node in nodes {
                out.push(Row::Node { depth, node });
                if node.expanded {
                    walk(&node.children, node.total, &node.path, depth + 1, out);
                }
            }
            if (nodes.len() as u32) < total {
                out.push(Row::More {
                    depth,
                    path: path.to_vec(),
                    loaded: nodes.len() as u32,
                    total,
                });
            }
        }
        walk(&self.roots, self.total, &[], 0, &mut out);
        out
    }

    fn node_mut(&mut self, path: &[u32]) -> Option<&mut VarNode> {
        let (first, rest) = path.split_first()?;
        let mut node = self.roots.get_mut(*first as usize)?;
        for i in rest {
            node = node.children.get_mut(*i as usize)?;
        }
        Some(node)
    }

    fn all_values(&self, out: &mut HashMap<String, String>) {
        fn walk(nodes: &[VarNode], out: &mut HashMap<String, String>) {
            for n in nodes {
                out.insert(n.key.clone(), n.entry.value.clone());
                walk(&n.children, out);
            }
        }
        walk(&self.roots, out);
    }
}

pub struct Watch {
    pub expr: String,
    pub value: Option<Result<String, String>>,
    pub previous: Option<Result<String, String>>,
}

/// A line being typed at the bottom of the screen.
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// Position in `history` while browsing it.
    pub history_at: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Command,
    Search,
    AddWatch,
    ConfirmQuit,
}

pub enum Popup {
    Help {
        scroll: usize,
    },
    /// The program ended, or crashed: what happened, and what can be done now.
    Ended {
        title: String,
        text: Vec<String>,
    },
}

/// What a query the UI sent was for; answers of an older stop are dropped.
#[derive(Debug, Clone)]
enum Query {
    Vars {
        generation: u64,
        path: Vec<u32>,
        start: u32,
    },
    Watch {
        generation: u64,
        index: usize,
    },
}

/// The selected Variables row: its path, whether it can expand, whether it is expanded, and
/// for a "more" row how many of how many children are loaded.
type SelectedRow = (Vec<u32>, bool, bool, Option<(u32, u32)>);

/// Starts the session again (restart).
pub type Relaunch = Box<dyn FnMut() -> anyhow::Result<Debugger>>;

pub struct App {
    pub debugger: Debugger,
    pub inbox: Inbox,
    pub focus: Pane,
    pub source: SourceState,
    pub vars: VarsState,
    pub watches: Vec<Watch>,
    pub watch_selected: usize,
    pub breakpoint_selected: usize,
    /// The tick the timeline's cursor is on (the present when `None`).
    pub timeline_cursor: Option<u64>,
    /// Ticks where a breakpoint or a watch stopped the program.
    pub hits: Vec<u64>,
    pub prompt: Option<Prompt>,
    pub history: Vec<String>,
    pub popup: Option<Popup>,
    pub keymap: Keymap,
    pub layout: Layout,
    pub theme: Theme,
    pub highlighter: Highlighter,
    pub console_scroll: usize,
    pub output_scroll: usize,
    pub size: Rect,
    pub started: Instant,
    pub quit: bool,
    /// A notice for the status line (config warnings, refusals), until the next key.
    pub flash: Option<String>,
    seen_stops: u64,
    seen_selected: usize,
    generation: u64,
    queries: VecDeque<(Request, Query)>,
    outstanding: HashMap<u64, Query>,
    next_tag: u64,
    relaunch: Option<Relaunch>,
    ended_shown: bool,
    /// The program is blocked reading its terminal (checked now and then while it runs).
    pub waiting_input: bool,
    input_checked: Instant,
    /// The pane focused before the program asked for input took the focus to Output.
    focus_before_input: Option<Pane>,
}

impl App {
    pub fn new(debugger: Debugger, keymap: Keymap, layout: Layout, theme: Theme) -> App {
        App {
            debugger,
            inbox: Inbox {
                console: VecDeque::new(),
                output: new_output(),
                answers: Vec::new(),
                changed: true,
                output_last_row: 0,
            },
            focus: Pane::Source,
            source: SourceState::default(),
            vars: VarsState::default(),
            watches: Vec::new(),
            watch_selected: 0,
            breakpoint_selected: 0,
            timeline_cursor: None,
            hits: Vec::new(),
            prompt: None,
            history: Vec::new(),
            popup: None,
            keymap,
            layout,
            theme,
            highlighter: Highlighter::new(),
            console_scroll: 0,
            output_scroll: 0,
            size: Rect::new(0, 0, 80, 24),
            started: Instant::now(),
            quit: false,
            flash: None,
            seen_stops: 0,
            seen_selected: usize::MAX,
            generation: 0,
            queries: VecDeque::new(),
            outstanding: HashMap::new(),
            next_tag: 1,
            relaunch: None,
            ended_shown: false,
            waiting_input: false,
            input_checked: Instant::now(),
            focus_before_input: None,
        }
    }

    /// Something moves on screen by itself (the running spinner, the tick).
    pub fn animating(&self) -> bool {
        self.debugger.busy()
    }

    /// Idle time: highlight more of the source file ahead of scrolling.
    pub fn warm_up(&self) {
        if let Some(file) = &self.source.file {
            self.highlighter
                .warm(&self.theme.syntax, file, &self.source.lines, 100);
        }
    }

    /// Whether the screen needs drawing again for what the session brought.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.inbox.changed)
    }

    pub fn set_relaunch(&mut self, relaunch: Relaunch) {
        self.relaunch = Some(relaunch);
    }

    pub fn areas(&self) -> Areas {
        areas(self.size, &self.layout, self.prompt.is_some())
    }

    /// Takes the session's events for at most `timeout`, then brings the panes up to date.
    pub fn pump(&mut self, timeout: Duration) {
        self.debugger.poll(timeout, &mut self.inbox);
        self.settle();
        self.watch_input();
    }

    /// While the program waits for its stdin, typing goes to it: the Output pane takes the
    /// focus, and gives it back at the next stop.
    fn watch_input(&mut self) {
        if !self.debugger.running() {
            self.waiting_input = false;
            if let Some(previous) = self.focus_before_input.take()
                && self.focus == Pane::Output
            {
                self.focus = previous;
            }
            return;
        }
        if self.input_checked.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.input_checked = Instant::now();
        let waiting = self.debugger.session().waiting_for_input();
        if waiting && !self.waiting_input {
            self.inbox.changed = true;
            if self.focus != Pane::Output {
                self.focus_before_input = Some(self.focus);
                self.focus = Pane::Output;
            }
        }
        self.waiting_input = waiting;
    }

    /// Runs until the program stops (or ends) or `limit` passes: for tests and start-up.
    pub fn wait_idle(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            self.pump(Duration::from_millis(10));
            if !self.debugger.busy() && self.queries.is_empty() && self.outstanding.is_empty() {
                return;
            }
        }
    }

    fn settle(&mut self) {
        for (tag, reply) in std::mem::take(&mut self.inbox.answers) {
            self.answered(tag, reply);
        }
        let count = self.debugger.stop_count();
        let selected = self.debugger.selected();
        if count != self.seen_stops || selected != self.seen_selected {
            let new_stop = count != self.seen_stops;
            self.seen_stops = count;
            self.seen_selected = selected;
            self.refresh(new_stop);
        }
        if !self.debugger.busy()
            && matches!(self.debugger.phase(), Phase::Stopped)
            && let Some((request, query)) = self.queries.pop_front()
        {
            let tag = self.next_tag;
            self.next_tag += 1;
            if self.debugger.query(request, tag) {
                self.outstanding.insert(tag, query);
            }
        }
        self.ended();
    }

    /// The program finished or the session ended: say so once, and offer what can be done.
    fn ended(&mut self) {
        let (title, text) = match self.debugger.phase() {
            Phase::Finished(f) => {
                let title = match &f.exception {
                    Some(_) => strings::CRASHED.to_string(),
                    None => strings::FINISHED.to_string(),
                };
                let mut text = vec![format!("{} {}", strings::EXIT_CODE, f.exit_code)];
                if let Some(e) = &f.exception {
                    text.push(e.clone());
                }
                (title, text)
            }
            Phase::Ended { exit_code } => (
                strings::ENDED.to_string(),
                vec![format!("{} {exit_code}", strings::EXIT_CODE)],
            ),
            _ => {
                self.ended_shown = false;
                return;
            }
        };
        if self.ended_shown {
            return;
        }
        self.ended_shown = true;
        let mut text = text;
        text.push(String::new());
        text.extend(strings::ENDED_CHOICES.iter().map(|s| s.to_string()));
        self.popup = Some(Popup::Ended { title, text });
    }

    /// A new stop, or another frame selected: the source follows, variables and watches are
    /// asked again (the previous values kept to show what changed).
    fn refresh(&mut self, new_stop: bool) {
        self.generation += 1;
        self.queries.clear();
        let Some(stop) = self.debugger.current_stop().cloned() else {
            return;
        };
        if new_stop {
            self.timeline_cursor = None;
            if matches!(
                stop.reason,
                StopReason::Breakpoint { .. } | StopReason::Watch { .. }
            ) && !self.hits.contains(&stop.tick)
            {
                self.hits.push(stop.tick);
            }
            if let StopReason::PostMortem { exception } = &stop.reason {
                let mut text = vec![exception.clone(), String::new()];
                text.extend(strings::POST_MORTEM_CHOICES.iter().map(|s| s.to_string()));
                self.popup = Some(Popup::Ended {
                    title: strings::CRASHED.to_string(),
                    text,
                });
            } else if matches!(self.popup, Some(Popup::Ended { .. })) {
                self.popup = None;
            }
        }
        let selected = self.debugger.selected();
        let Some(frame) = stop.stack.get(selected).cloned() else {
            return;
        };
        self.show_file(&frame.file, frame.line as usize);
        // Variables: keep the previous values of the same frame to mark changes.
        let key = format!("{}:{}:{}", frame.file, frame.qualname, selected);
        let mut previous = HashMap::new();
        self.vars.all_values(&mut previous);
        if self.vars.frame_key == key && new_stop {
            self.vars.previous = previous;
            self.vars.previous_key = key.clone();
        } else if self.vars.frame_key != key {
            self.vars.previous.clear();
            self.vars.previous_key.clear();
            self.vars.expanded.clear();
        }
        self.vars.frame_key = key;
        self.vars.roots.clear();
        self.vars.total = 0;
        self.vars.loading = true;
        self.vars.error = None;
        self.ask_vars(Vec::new(), 0);
        for (index, watch) in self.watches.iter_mut().enumerate() {
            if new_stop {
                watch.previous = watch.value.take();
            }
            self.queries.push_back((
                Request::Eval {
                    frame: selected,
                    expr: watch.expr.clone(),
                    style: EvalStyle::Repr,
                },
                Query::Watch {
                    generation: self.generation,
                    index,
                },
            ));
        }
    }

    fn ask_vars(&mut self, path: Vec<u32>, start: u32) {
        self.queries.push_back((
            Request::Variables {
                frame: self.debugger.selected(),
                path: path.clone(),
                start,
                count: CHUNK,
            },
            Query::Vars {
                generation: self.generation,
                path,
                start,
            },
        ));
    }

    fn answered(&mut self, tag: u64, reply: Reply) {
        let Some(query) = self.outstanding.remove(&tag) else {
            return;
        };
        match query {
            Query::Vars {
                generation,
                path,
                start,
            } if generation == self.generation => self.vars_answered(path, start, reply),
            Query::Watch { generation, index } if generation == self.generation => {
                if let Some(w) = self.watches.get_mut(index) {
                    w.value = Some(match reply {
                        Reply::Value(v) => Ok(v),
                        Reply::Error(e) => Err(e),
                        _ => Err(strings::NO_VALUE.to_string()),
                    });
                }
            }
            _ => {}
        }
    }

    fn vars_answered(&mut self, path: Vec<u32>, start: u32, reply: Reply) {
        let page = match reply {
            Reply::Variables(page) => page,
            Reply::Error(e) => {
                if path.is_empty() {
                    self.vars.error = Some(e);
                    self.vars.loading = false;
                }
                return;
            }
            _ => return,
        };
        let compare = self.vars.previous_key == self.vars.frame_key;
        let previous = std::mem::take(&mut self.vars.previous);
        let parent_key = if path.is_empty() {
            String::new()
        } else {
            self.vars
                .node_mut(&path)
                .map(|n| n.key.clone())
                .unwrap_or_default()
        };
        let nodes: Vec<VarNode> = page
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let mut p = path.clone();
                p.push(start + i as u32);
                let key = if path.is_empty() {
                    entry.name.clone()
                } else {
                    format!("{parent_key}{}", entry.name)
                };
                let changed = compare && previous.get(&key) != Some(&entry.value);
                VarNode {
                    total: entry.children.unwrap_or(0),
                    entry,
                    path: p,
                    key,
                    expanded: false,
                    children: Vec::new(),
                    changed,
                }
            })
            .collect();
        self.vars.previous = previous;
        let mut reopen = Vec::new();
        for n in &nodes {
            if self.vars.expanded.contains(&n.key) && n.entry.children.is_some() {
                reopen.push(n.path.clone());
            }
        }
        if path.is_empty() {
            self.vars.total = page.total;
            self.vars.roots.extend(nodes);
            self.vars.loading = false;
            self.vars.error = page.error;
        } else if let Some(node) = self.vars.node_mut(&path) {
            node.total = page.total;
            node.children.extend(nodes);
            node.expanded = true;
        }
        for p in reopen {
            if let Some(node) = self.vars.node_mut(&p) {
                node.expanded = true;
            }
            self.ask_vars(p, 0);
        }
    }

    /// Shows `file` in the source pane with the cursor on `line` (1-based).
    pub fn show_file(&mut self, file: &str, line: usize) {
        if self.source.file.as_deref() != Some(file) {
            match std::fs::read_to_string(file) {
                Ok(text) => {
                    self.source.lines = text.lines().map(|l| l.replace('\t', "    ")).collect();
                    self.source.error = None;
                }
                Err(e) => {
                    self.source.lines.clear();
                    self.source.error = Some(format!("{file}: {e}"));
                }
            }
            self.source.file = Some(file.to_string());
            self.source.top = 0;
        }
        self.source.cursor = line.saturating_sub(1);
        self.scroll_source_to_cursor(true);
    }

    pub fn scroll_source_to_cursor(&mut self, center: bool) {
        let height = self.areas().source.height.saturating_sub(2) as usize;
        if height == 0 {
            return;
        }
        let cursor = self.source.cursor;
        if center && (cursor < self.source.top || cursor >= self.source.top + height) {
            self.source.top = cursor.saturating_sub(height / 3);
        } else if cursor < self.source.top {
            self.source.top = cursor;
        } else if cursor >= self.source.top + height {
            self.source.top = cursor + 1 - height;
        }
    }

    // --- keys --------------------------------------------------------------------------------

    pub fn key(&mut self, key: KeyEvent) {
        self.flash = None;
        if self.prompt.is_some() {
            return self.prompt_key(key);
        }
        if let Some(popup) = &mut self.popup {
            match popup {
                Popup::Help { scroll } => {
                    match key.code {
                        KeyCode::Down | KeyCode::Char('j') => *scroll += 1,
                        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                        KeyCode::PageDown => *scroll += 10,
                        KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                        _ => self.popup = None,
                    }
                    return;
                }
                Popup::Ended { .. } => {
                    if key.code == KeyCode::Esc || key.code == KeyCode::Enter {
                        self.popup = None;
                        return;
                    }
                    // Any other key does what it always does (go back, restart, quit).
                    self.popup = None;
                }
            }
        }
        if self.focus == Pane::Output && self.output_key(key) {
            return;
        }
        if self.pane_key(key) {
            return;
        }
        if key.code == KeyCode::Char('q') && key.modifiers == KeyModifiers::NONE {
            return self.ask_quit();
        }
        if key.code == KeyCode::Char('?') || key.code == KeyCode::F(1) {
            self.popup = Some(Popup::Help { scroll: 0 });
            return;
        }
        match self.keymap.lookup(&key) {
            Some(Action::Command(id)) => self.command_key(id),
            Some(Action::Ui(ui)) => self.ui_action(ui),
            None => {}
        }
    }

    fn ask_quit(&mut self) {
        if matches!(
            self.debugger.phase(),
            Phase::Finished(_) | Phase::Ended { .. }
        ) {
            self.quit = true;
            return;
        }
        self.prompt = Some(Prompt {
            kind: PromptKind::ConfirmQuit,
            text: String::new(),
            history_at: None,
        });
    }

    fn ui_action(&mut self, action: UiAction) {
        match action {
            UiAction::CommandLine => self.open_prompt(PromptKind::Command),
            UiAction::Search => self.open_prompt(PromptKind::Search),
            UiAction::SearchNext => {
                if let Some(text) = self.source.search.clone() {
                    self.search(&text, true);
                }
            }
            UiAction::NextPane => {
                self.focus = Pane::ALL[(self.focus.index() + 1) % Pane::ALL.len()];
            }
            UiAction::PreviousPane => {
                let n = Pane::ALL.len();
                self.focus = Pane::ALL[(self.focus.index() + n - 1) % n];
            }
            UiAction::FocusPane(i) => {
                if let Some(p) = Pane::ALL.get(i) {
                    self.focus = *p;
                }
            }
            UiAction::PreviousCheckpoint | UiAction::NextCheckpoint => {
                let view = self.debugger.timeline_view();
                let now = view.now;
                let target = if action == UiAction::PreviousCheckpoint {
                    view.checkpoints.iter().rev().find(|t| **t < now).copied()
                } else {
                    view.checkpoints.iter().find(|t| **t > now).copied()
                };
                match target {
                    Some(t) => self.run_command(&format!("goto {t}")),
                    None => self.flash = Some(strings::NO_CHECKPOINT_THERE.to_string()),
                }
            }
            UiAction::Interrupt => {
                if self.debugger.running() {
                    self.debugger.interrupt();
                }
            }
            UiAction::Restart => self.restart(),
            UiAction::Redraw => {}
        }
    }

    fn restart(&mut self) {
        let Some(relaunch) = self.relaunch.as_mut() else {
            return;
        };
        self.debugger.shutdown();
        match relaunch() {
            Ok(debugger) => {
                self.debugger = debugger;
                self.inbox.output = new_output();
                self.inbox.output_last_row = 0;
                self.inbox.line(Kind::Notice, strings::RESTARTED);
                self.seen_stops = u64::MAX;
                self.hits.clear();
                self.ended_shown = false;
                self.popup = None;
                self.outstanding.clear();
                self.queries.clear();
            }
            Err(e) => self.inbox.line(Kind::Error, &format!("*** {e:#}")),
        }
    }

    /// A debugger command from a key: the ones that need a line take the cursor's.
    fn command_key(&mut self, id: CommandId) {
        let line = self.source.cursor + 1;
        let file = self.source.file.clone().unwrap_or_default();
        let text = match id {
            CommandId::Break => {
                let existing: Vec<u32> = self
                    .debugger
                    .breakpoints()
                    .filter(|b| same_file(&b.file, &file) && b.line as usize == line)
                    .map(|b| b.number)
                    .collect();
                if existing.is_empty() {
                    format!("break {file}:{line}")
                } else {
                    let numbers: Vec<String> = existing.iter().map(u32::to_string).collect();
                    format!("clear {}", numbers.join(" "))
                }
            }
            CommandId::Jump => {
                if !self.cursor_in_selected_file() {
                    self.flash = Some(strings::JUMP_OTHER_FILE.to_string());
                    return;
                }
                format!("jump {line}")
            }
            CommandId::Until => {
                // Run to the cursor line wherever it is: a temporary breakpoint and continue.
                self.run_command(&format!("tbreak {file}:{line}"));
                "continue".to_string()
            }
            CommandId::Quit => return self.ask_quit(),
            CommandId::Help => {
                self.popup = Some(Popup::Help { scroll: 0 });
                return;
            }
            other => keymap_command(other),
        };
        self.run_command(&text);
    }

    fn cursor_in_selected_file(&self) -> bool {
        let selected = self.debugger.selected();
        self.debugger
            .current_stop()
            .and_then(|s| s.stack.get(selected))
            .is_some_and(|f| Some(f.file.as_str()) == self.source.file.as_deref())
    }

    /// Runs a command line as batch mode would (`;;` separates commands), echoing it in the
    /// console.
    pub fn run_command(&mut self, line: &str) {
        for part in split_commands(line) {
            // The UI's own question (variables, a watch) may be on its way: its answer comes
            // first, quickly, and the user's command goes after it.
            let deadline = Instant::now() + Duration::from_secs(2);
            while matches!(self.debugger.phase(), Phase::Waiting) && Instant::now() < deadline {
                self.debugger
                    .poll(Duration::from_millis(5), &mut self.inbox);
            }
            self.inbox.line(Kind::Info, &format!("(sleepy) {part}"));
            match commands::parse(&part) {
                Ok(command) => {
                    if command.id() == CommandId::Quit {
                        self.debugger.execute(command, &mut self.inbox);
                        self.quit = true;
                        return;
                    }
                    self.debugger.execute(command, &mut self.inbox);
                    // Commands after this one wait for it (as in batch mode).
                    let deadline = Instant::now() + Duration::from_secs(2);
                    while self.debugger.busy()
                        && !self.debugger.running()
                        && Instant::now() < deadline
                    {
                        self.debugger
                            .poll(Duration::from_millis(5), &mut self.inbox);
                    }
                }
                Err(e) => self.inbox.line(Kind::Error, &format!("*** {e}")),
            }
        }
        self.console_scroll = 0;
        self.settle();
    }

    fn open_prompt(&mut self, kind: PromptKind) {
        self.prompt = Some(Prompt {
            kind,
            text: String::new(),
            history_at: None,
        });
    }

    fn prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        if prompt.kind == PromptKind::ConfirmQuit {
            let yes = matches!(key.code, KeyCode::Char('y' | 'Y' | 'q'));
            self.prompt = None;
            if yes {
                self.quit = true;
            }
            return;
        }
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Enter => {
                let Some(prompt) = self.prompt.take() else {
                    return;
                };
                let text = prompt.text.trim().to_string();
                match prompt.kind {
                    PromptKind::Command => {
                        let text = if text.is_empty() {
                            match self.history.last() {
                                Some(last) => last.clone(),
                                None => return,
                            }
                        } else {
                            text
                        };
                        if self.history.last() != Some(&text) {
                            self.history.push(text.clone());
                        }
                        self.run_command(&text);
                    }
                    PromptKind::Search if !text.is_empty() => {
                        self.source.search = Some(text.clone());
                        self.search(&text, false);
                    }
                    PromptKind::AddWatch if !text.is_empty() => {
                        self.watches.push(Watch {
                            expr: text,
                            value: None,
                            previous: None,
                        });
                        self.seen_selected = usize::MAX;
                        self.settle();
                    }
                    _ => {}
                }
            }
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Up if prompt.kind == PromptKind::Command => {
                let at = match prompt.history_at {
                    Some(0) => 0,
                    Some(i) => i - 1,
                    None => self.history.len().saturating_sub(1),
                };
                if let Some(h) = self.history.get(at) {
                    prompt.text = h.clone();
                    prompt.history_at = Some(at);
                }
            }
            KeyCode::Down if prompt.kind == PromptKind::Command => {
                if let Some(i) = prompt.history_at {
                    if let Some(h) = self.history.get(i + 1) {
                        prompt.text = h.clone();
                        prompt.history_at = Some(i + 1);
                    } else {
                        prompt.text.clear();
                        prompt.history_at = None;
                    }
                }
            }
            KeyCode::Tab if prompt.kind == PromptKind::Command && !prompt.text.contains(' ') => {
                // Aliases complete to their command's name (`unt` is `until`).
                let mut found: Vec<&str> = commands::completions(&prompt.text)
                    .into_iter()
                    .filter_map(|w| commands::lookup(w).map(|c| c.name))
                    .filter(|n| n.starts_with(prompt.text.as_str()))
                    .collect();
                found.sort_unstable();
                found.dedup();
                if found.is_empty() {
                    found = commands::completions(&prompt.text);
                }
                match found.as_slice() {
                    [one] => prompt.text = format!("{one} "),
                    [] => {}
                    many => {
                        let prefix = common_prefix(many);
                        if prefix.len() > prompt.text.len() {
                            prompt.text = prefix;
                        } else {
                            self.flash = Some(many.join(" "));
                        }
                    }
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.text.push(c);
            }
            _ => {}
        }
    }

    fn search(&mut self, text: &str, next: bool) {
        let n = self.source.lines.len();
        if n == 0 {
            return;
        }
        let start = self.source.cursor + usize::from(next);
        let needle = text.to_lowercase();
        for i in 0..n {
            let at = (start + i) % n;
            if self.source.lines[at].to_lowercase().contains(&needle) {
                self.source.cursor = at;
                self.scroll_source_to_cursor(true);
                return;
            }
        }
        self.flash = Some(format!("{} {text:?}", strings::NOT_FOUND));
    }

    /// Keys typed in the Output pane go to the program while it runs.
    fn output_key(&mut self, key: KeyEvent) -> bool {
        if !self.debugger.running() {
            return false;
        }
        let bytes: Vec<u8> = match key.code {
            KeyCode::Char('d') if key.modifiers.contains(KeyModifiers::CONTROL) => vec![4],
            KeyCode::Char(_) if key.modifiers.contains(KeyModifiers::CONTROL) => return false,
            KeyCode::Char(c) => c.to_string().into_bytes(),
            KeyCode::Enter => b"\r".to_vec(),
            KeyCode::Backspace => vec![0x7f],
            _ => return false,
        };
        let _ = self.debugger.session().type_input(&bytes);
        true
    }

    /// Keys that move within the focused pane.
    fn pane_key(&mut self, key: KeyEvent) -> bool {
        let (up, down) = (
            matches!(key.code, KeyCode::Up | KeyCode::Char('k')),
            matches!(key.code, KeyCode::Down | KeyCode::Char('j')),
        );
        let page = self.areas().source.height.saturating_sub(3).max(1) as usize;
        match self.focus {
            Pane::Source => {
                let last = self.source.lines.len().saturating_sub(1);
                let cursor = &mut self.source.cursor;
                match key.code {
                    _ if up => *cursor = cursor.saturating_sub(1),
                    _ if down => *cursor = (*cursor + 1).min(last),
                    KeyCode::PageUp => *cursor = cursor.saturating_sub(page),
                    KeyCode::PageDown => *cursor = (*cursor + page).min(last),
                    KeyCode::Home | KeyCode::Char('g') => *cursor = 0,
                    KeyCode::End | KeyCode::Char('G') => *cursor = last,
                    KeyCode::Char('.') => {
                        // Back to where the program is.
                        self.seen_selected = usize::MAX;
                        self.settle();
                        return true;
                    }
                    _ => return false,
                }
                self.scroll_source_to_cursor(false);
                true
            }
            Pane::Variables => {
                let rows = self.vars.rows().len();
                match key.code {
                    _ if up => self.vars.selected = self.vars.selected.saturating_sub(1),
                    _ if down => {
                        self.vars.selected = (self.vars.selected + 1).min(rows.saturating_sub(1))
                    }
                    KeyCode::Enter | KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l') => {
                        self.toggle_var(
                            key.code != KeyCode::Right && key.code != KeyCode::Char('l'),
                        )
                    }
                    KeyCode::Left | KeyCode::Char('h') => self.collapse_var(),
                    _ => return false,
                }
                true
            }
            Pane::Watches => {
                match key.code {
                    _ if up => self.watch_selected = self.watch_selected.saturating_sub(1),
                    _ if down => {
                        self.watch_selected =
                            (self.watch_selected + 1).min(self.watches.len().saturating_sub(1))
                    }
                    KeyCode::Char('a') | KeyCode::Insert => self.open_prompt(PromptKind::AddWatch),
                    KeyCode::Char('x') | KeyCode::Delete => {
                        if self.watch_selected < self.watches.len() {
                            self.watches.remove(self.watch_selected);
                            self.watch_selected = self.watch_selected.saturating_sub(1);
                            self.seen_selected = usize::MAX;
                            self.settle();
                        }
                    }
                    _ => return false,
                }
                true
            }
            Pane::Stack => {
                let selected = self.debugger.selected();
                match key.code {
                    _ if up => self.run_command("up"),
                    _ if down => self.run_command("down"),
                    KeyCode::Enter => {
                        let _ = selected;
                    }
                    _ => return false,
                }
                true
            }
            Pane::Breakpoints => {
                let list: Vec<(u32, String, u32, bool)> = self
                    .debugger
                    .breakpoints()
                    .map(|b| (b.number, b.file.clone(), b.line, b.enabled))
                    .collect();
                let n = list.len();
                match key.code {
                    _ if up => {
                        self.breakpoint_selected = self.breakpoint_selected.saturating_sub(1)
                    }
                    _ if down => {
                        self.breakpoint_selected =
                            (self.breakpoint_selected + 1).min(n.saturating_sub(1))
                    }
                    KeyCode::Enter => {
                        if let Some((_, file, line, _)) = list.get(self.breakpoint_selected) {
                            self.show_file(file, *line as usize);
                            self.focus = Pane::Source;
                        }
                    }
                    KeyCode::Char('x') | KeyCode::Delete => {
                        if let Some((number, ..)) = list.get(self.breakpoint_selected) {
                            self.run_command(&format!("clear {number}"));
                        }
                    }
                    KeyCode::Char('e') | KeyCode::Char(' ') => {
                        if let Some((number, _, _, enabled)) = list.get(self.breakpoint_selected) {
                            let verb = if *enabled { "disable" } else { "enable" };
                            self.run_command(&format!("{verb} {number}"));
                        }
                    }
                    _ => return false,
                }
                true
            }
            Pane::Timeline => {
                let view = self.debugger.timeline_view();
                let last = view.end.unwrap_or(view.frontier).max(view.now);
                let step = (last / 50).max(1);
                let at = self.timeline_cursor.unwrap_or(view.now);
                match key.code {
                    KeyCode::Left | KeyCode::Char('h') => {
                        self.timeline_cursor = Some(at.saturating_sub(step))
                    }
                    KeyCode::Right | KeyCode::Char('l') => {
                        self.timeline_cursor = Some((at + step).min(last))
                    }
                    KeyCode::Enter => {
                        if let Some(t) = self.timeline_cursor.take() {
                            self.run_command(&format!("goto {t}"));
                        }
                    }
                    _ => return false,
                }
                true
            }
            Pane::Console => {
                match key.code {
                    _ if up => self.console_scroll += 1,
                    _ if down => self.console_scroll = self.console_scroll.saturating_sub(1),
                    KeyCode::PageUp => self.console_scroll += 10,
                    KeyCode::PageDown => {
                        self.console_scroll = self.console_scroll.saturating_sub(10)
                    }
                    _ => return false,
                }
                true
            }
            Pane::Output => {
                match key.code {
                    KeyCode::Up => self.output_scroll += 1,
                    KeyCode::Down => self.output_scroll = self.output_scroll.saturating_sub(1),
                    KeyCode::PageUp => self.output_scroll += 10,
                    KeyCode::PageDown => self.output_scroll = self.output_scroll.saturating_sub(10),
                    _ => return false,
                }
                true
            }
        }
    }

    fn selected_row_path(&self) -> Option<SelectedRow> {
        match self.vars.rows().get(self.vars.selected)? {
            Row::Node { node, .. } => Some((
                node.path.clone(),
                node.entry.children.is_some(),
                node.expanded,
                None,
            )),
            Row::More {
                path,
                loaded,
                total,
                ..
            } => Some((path.clone(), false, false, Some((*loaded, *total)))),
        }
    }

    fn toggle_var(&mut self, toggle: bool) {
        let Some((path, expandable, expanded, more)) = self.selected_row_path() else {
            return;
        };
        if let Some((loaded, _)) = more {
            return self.ask_vars(path, loaded);
        }
        if !expandable {
            return;
        }
        if expanded {
            if toggle {
                self.collapse_var();
            }
            return;
        }
        let Some(node) = self.vars.node_mut(&path) else {
            return;
        };
        let key = node.key.clone();
        let loaded = !node.children.is_empty();
        if loaded {
            node.expanded = true;
        }
        self.vars.expanded.insert(key);
        if !loaded {
            self.ask_vars(path, 0);
        }
        self.settle();
    }

    fn collapse_var(&mut self) {
        let Some((path, _, expanded, _)) = self.selected_row_path() else {
            return;
        };
        let target = if expanded {
            path
        } else {
            // On a child: close its parent and select it.
            let mut parent = path;
            parent.pop();
            if parent.is_empty() {
                return;
            }
            parent
        };
        if let Some(node) = self.vars.node_mut(&target) {
            node.expanded = false;
            let key = node.key.clone();
            self.vars.expanded.remove(&key);
        }
        if let Some(i) = self
            .vars
            .rows()
            .iter()
            .position(|r| matches!(r, Row::Node { node, .. } if node.path == target))
        {
            self.vars.selected = i;
        }
    }

    // --- mouse -------------------------------------------------------------------------------

    pub fn mouse(&mut self, event: MouseEvent) {
        let at = Position::new(event.column, event.row);
        let areas = self.areas();
        let Some(pane) = areas.pane_at(at) else {
            return;
        };
        match event.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                let area = areas.of(pane);
                match pane {
                    Pane::Source => {
                        let row = event.row.saturating_sub(area.y + 1) as usize;
                        let line = self.source.top + row;
                        if line < self.source.lines.len() {
                            self.source.cursor = line;
                            if event.column < area.x + 1 + super::draw::GUTTER {
                                self.command_key(CommandId::Break);
                            }
                        }
                    }
                    Pane::Timeline => {
                        if let Some(t) = super::draw::timeline_tick_at(self, area, event.column) {
                            self.run_command(&format!("goto {t}"));
                        }
                    }
                    Pane::Variables => {
                        let row = event.row.saturating_sub(area.y + 1) as usize;
                        let rows = self.vars.rows().len();
                        if row < rows {
                            self.vars.selected = row;
                        }
                    }
                    _ => {}
                }
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let down = event.kind == MouseEventKind::ScrollDown;
                match pane {
                    Pane::Source => {
                        let max = self.source.lines.len().saturating_sub(1);
                        self.source.top = if down {
                            (self.source.top + 3).min(max)
                        } else {
                            self.source.top.saturating_sub(3)
                        };
                    }
                    Pane::Console => {
                        self.console_scroll = if down {
                            self.console_scroll.saturating_sub(3)
                        } else {
                            self.console_scroll + 3
                        }
                    }
                    Pane::Output => {
                        self.output_scroll = if down {
                            self.output_scroll.saturating_sub(3)
                        } else {
                            self.output_scroll + 3
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// The program's terminal as the Output pane emulates it: wide and tall enough for any pane,
/// with scrollback.
pub fn new_output() -> vt100::Parser {
    const SIZE: std::num::NonZeroU16 = std::num::NonZeroU16::MIN.saturating_add(199);
    vt100::Parser::new(SIZE, SIZE, 5000)
}

/// The text a key's command runs as.
fn keymap_command(id: CommandId) -> String {
    super::keymap::command_name(id).to_string()
}

fn same_file(a: &str, b: &str) -> bool {
    a == b
        || std::fs::canonicalize(a)
            .ok()
            .zip(std::fs::canonicalize(b).ok())
            .is_some_and(|(x, y)| x == y)
}

fn common_prefix(words: &[&str]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in words {
        len = len.min(
            first
                .bytes()
                .zip(w.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first[..len].to_string()
}
