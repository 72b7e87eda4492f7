//! The terminal UI: `sleepy script.py` opens a full-screen time-traveling debugger.
//!
//! The shape follows gitui and helix: [`app::App`] holds the state (the debugger session and
//! each pane's cursor), keys become named actions through one table ([`keymap`]), and
//! [`draw`] paints a frame from the state without changing it. The loop here waits on the
//! terminal's events and the session's at once, and redraws when something changed.

pub mod app;
pub mod config;
pub mod draw;
pub mod highlight;
pub mod keymap;
pub mod layout;
pub mod strings;
pub mod terminal;
pub mod theme;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEventKind};

use crate::cli::{Options, Program};
use crate::debugger::{Debugger, Kind, Sink};
use crate::session::ProgramIo;

use self::app::App;
use self::keymap::Keymap;

/// Runs the TUI on the terminal; returns sleepy's exit status.
pub fn run(program: Program, mut options: Options) -> anyhow::Result<i32> {
    let loaded = config::load(&keymap::action_names());
    let cfg = loaded.config;
    apply_checkpoint_config(&mut options, &cfg.checkpoints);
    let theme_name = options
        .theme
        .clone()
        .or(cfg.theme.clone())
        .unwrap_or_else(|| "dark".to_string());
    let mut warnings = loaded.warnings;
    let theme = match theme::load(&theme_name) {
        Ok(t) => t,
        Err(e) => {
            warnings.push(e.to_string());
            theme::load("dark")?
        }
    };
    let keymap = Keymap::new(&cfg.keys);

    let mut guard = terminal::Terminal::enter()?;
    let size = guard.size()?;
    let start = {
        let program = program.clone();
        let options = options.clone();
        move || -> anyhow::Result<Debugger> {
            let io = ProgramIo::Terminal {
                rows: size.height.max(24),
                cols: size.width.max(80),
                raw_output: false,
            };
            let mut debugger = Debugger::start(crate::batch::launch_spec(&program, &options), io)?;
            let budget = &options.time_travel;
            debugger.set_budget(budget.max_count, budget.max_memory);
            Ok(debugger)
        }
    };
    let debugger = start()?;
    let mut app = App::new(debugger, keymap, cfg.layout, theme);
    app.set_relaunch(Box::new(start));
    app.size = size;
    for w in warnings {
        app.inbox.line(Kind::Notice, &format!("sleepy: {w}"));
        app.flash = Some(w);
    }
    if std::env::var_os("SLEEPY_TEST_INJECT_PANIC").is_some() {
        // Tests check that a panic restores the terminal.
        panic!("panic injected by SLEEPY_INJECT_PANIC");
    }

    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || terminal::read_events(tx));
    let mut dirty = true;
    let mut last_draw = Instant::now();
    while !app.quit {
        // The session first (it may block a little), then every key typed meanwhile.
        app.pump(Duration::from_millis(15));
        loop {
            match rx.try_recv() {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => {
                    app.key(key);
                    dirty = true;
                }
                Ok(Event::Mouse(m)) => {
                    app.mouse(m);
                    dirty = true;
                }
                Ok(Event::Resize(w, h)) => {
                    app.size = ratatui::layout::Rect::new(0, 0, w, h);
                    guard.autoresize()?;
                    dirty = true;
                }
                Ok(_) => {}
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    app.quit = true;
                    break;
                }
            }
        }
        // Redraw when something changed; while the program runs the spinner and the tick
        // move, so a few times a second.
        let since = last_draw.elapsed();
        if app.take_changed()
            || dirty
            || (app.animating() && since > Duration::from_millis(100))
            || since > Duration::from_secs(1)
        {
            guard.draw(|f| draw::draw(&app, f))?;
            last_draw = Instant::now();
            dirty = false;
        } else {
            app.warm_up();
        }
    }
    let code = app.debugger.exit_code();
    app.debugger.shutdown();
    drop(guard);
    Ok(code)
}

/// The config file's `[checkpoints]`, where the command line left the default.
fn apply_checkpoint_config(options: &mut Options, c: &config::Checkpoints) {
    let defaults = crate::cli::TimeTravelOptions::default();
    let tt = &mut options.time_travel;
    if let Some(v) = c.interval_ms
        && tt.interval_ms == defaults.interval_ms
    {
        tt.interval_ms = v.max(1);
    }
    if let Some(v) = c.ticks
        && tt.interval_ticks == defaults.interval_ticks
    {
        tt.interval_ticks = v.max(1);
    }
    if let Some(v) = c.max
        && tt.max_count == defaults.max_count
    {
        tt.max_count = v.max(2);
    }
    if let Some(v) = c.memory_mb
        && tt.max_memory == defaults.max_memory
    {
        tt.max_memory = v.max(1).saturating_mul(1 << 20);
    }
}

/// A sink that drops everything (for code paths that need one and show nothing).
pub struct Discard;

impl Sink for Discard {
    fn program_output(&mut self, _bytes: &[u8]) {}
    fn line(&mut self, _kind: Kind, _text: &str) {}
}
