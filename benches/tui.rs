//! The TUI's speed: `cargo bench --bench tui`.
//!
//! 1. Redraw: the whole screen (160x48, ratatui's TestBackend) with a 5,000-line source file in
//!    the Source pane and a 100,000-item list in scope, expanded in the Variables pane, drawn
//!    again and again with the source scrolled to a new place each time. Bar: < 10 ms.
//! 2. Key to screen for a step: `n` pressed, until the new stop is in the state with its
//!    variables loaded, and the screen drawn. p50 / p95.
//!
//! The agent is the real `sleepy` binary running a generated program, as in a session.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use sleepy::cli::{Options, Program};
use sleepy::debugger::Debugger;
use sleepy::protocol::Target;
use sleepy::session::ProgramIo;
use sleepy::tui::app::{App, Pane, Row};
use sleepy::tui::config::Layout;
use sleepy::tui::keymap::Keymap;
use sleepy::tui::{draw, theme};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

/// A 5,000-line program: a list of 100,000 items, then a long function of simple lines.
fn program(dir: &Path) -> PathBuf {
    let mut text = String::from("\"\"\"A big file for the TUI bench.\"\"\"\n\n\ndef main():\n");
    text.push_str("    big = list(range(100_000))\n");
    text.push_str("    total = 0\n");
    let mut line = 7;
    while line < 4_990 {
        text.push_str(&format!(
            "    total += len(big) % {} + {line}\n",
            line % 97 + 1
        ));
        line += 1;
    }
    text.push_str("    return total\n\n\nmain()\n");
    let path = dir.join("tui_bench_program.py");
    std::fs::write(&path, text).expect("write the program");
    path
}

fn start(script: &Path) -> App {
    let program = Program {
        target: Target::Script {
            path: script.to_path_buf(),
            argv0: script.display().to_string(),
        },
        args: Vec::new(),
    };
    let options = Options::default();
    let io = ProgramIo::Terminal {
        rows: 24,
        cols: 80,
        raw_output: false,
    };
    let debugger = Debugger::start_with_agent(
        Path::new(env!("CARGO_BIN_EXE_sleepy")),
        sleepy::batch::launch_spec(&program, &options),
        io,
    )
    .expect("start the debugger");
    let theme = theme::load("dark").expect("the dark theme");
    let mut app = App::new(debugger, Keymap::new(&[]), Layout::default(), theme);
    app.size = Rect::new(0, 0, WIDTH, HEIGHT);
    app.wait_idle(Duration::from_secs(30));
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
    app.wait_idle(Duration::from_secs(30));
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<f64>) {
    samples.sort_by(|a, b| a.total_cmp(b));
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} |",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        samples.last().copied().unwrap_or(0.0)
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("sleepy-tui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let script = program(&dir);
    let mut app = start(&script);
    // Into main, past `big = ...`: the list is in scope.
    for c in ['n', 'n', 's', 'n', 'n'] {
        press(&mut app, KeyCode::Char(c));
    }
    // Expand `big` in the Variables pane (its first 50 items).
    app.focus = Pane::Variables;
    if let Some(i) = app
        .vars
        .rows()
        .iter()
        .position(|r| matches!(r, Row::Node { node, .. } if node.entry.name == "big"))
    {
        app.vars.selected = i;
        press(&mut app, KeyCode::Enter);
    }
    let rows = app.vars.rows().len();
    app.focus = Pane::Source;

    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    // The first draw highlights the file down to the visible lines; not what a redraw costs.
    terminal.draw(|f| draw::draw(&app, f)).expect("draw");
    let mut same = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        terminal.draw(|f| draw::draw(&app, f)).expect("draw");
        same.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut redraw = Vec::new();
    let lines = app.source.lines.len();
    for i in 0..300 {
        // Scroll somewhere new each time, so every frame differs (the worst case for the
        // highlighter: lines never drawn before, deep in the file).
        app.source.cursor = (i * 16) % lines;
        app.scroll_source_to_cursor(true);
        let t = Instant::now();
        terminal.draw(|f| draw::draw(&app, f)).expect("draw");
        redraw.push(t.elapsed().as_secs_f64() * 1000.0);
    }

    // The same, with the file highlighted ahead (what the UI does while idle).
    while app.highlighter.warm(
        &app.theme.syntax,
        &script.display().to_string(),
        &app.source.lines,
        500,
    ) {}
    let mut warmed = Vec::new();
    for i in 0..300 {
        app.source.cursor = (i * 16 + 7) % lines;
        app.scroll_source_to_cursor(true);
        let t = Instant::now();
        terminal.draw(|f| draw::draw(&app, f)).expect("draw");
        warmed.push(t.elapsed().as_secs_f64() * 1000.0);
    }

    // Key to screen: n, until the stop and its variables are in, then a draw.
    let mut step = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        app.key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE));
        app.wait_idle(Duration::from_secs(30));
        terminal.draw(|f| draw::draw(&app, f)).expect("draw");
        step.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let tick = app.debugger.current_stop().map(|s| s.tick).unwrap_or(0);

    println!(
        "TUI bench: {WIDTH}x{HEIGHT}, a {lines}-line source file, a 100,000-item list in scope \
         ({rows} variable rows shown), stopped at tick {tick}"
    );
    println!();
    println!("| what | samples | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    report("redraw, nothing changed", same);
    report("redraw, source scrolled to lines never highlighted", redraw);
    report(
        "redraw, source scrolled (file highlighted while idle)",
        warmed,
    );
    report("key `n` to new state drawn", step);
    app.debugger.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
