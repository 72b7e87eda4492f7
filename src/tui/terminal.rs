//! The terminal: raw mode, the alternate screen and mouse reporting while the TUI runs, and
//! put back as it was on every way out: a normal exit, an error, a panic.

use std::io::{Stdout, stdout};
use std::sync::Once;
use std::sync::mpsc::Sender;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Frame;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;

type Backend = CrosstermBackend<Stdout>;

pub struct Terminal {
    inner: ratatui::Terminal<Backend>,
}

/// Puts the terminal back. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

static HOOK: Once = Once::new();

impl Terminal {
    pub fn enter() -> anyhow::Result<Terminal> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // The message must land on a normal screen, not the alternate one.
                restore();
                previous(info);
            }));
        });
        enable_raw_mode()?;
        if let Err(e) = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e.into());
        }
        let inner = match ratatui::Terminal::new(CrosstermBackend::new(stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e.into());
            }
        };
        Ok(Terminal { inner })
    }

    pub fn size(&self) -> anyhow::Result<Rect> {
        let s = self.inner.size()?;
        Ok(Rect::new(0, 0, s.width, s.height))
    }

    pub fn autoresize(&mut self) -> anyhow::Result<()> {
        self.inner.autoresize()?;
        Ok(())
    }

    pub fn draw(&mut self, f: impl FnOnce(&mut Frame)) -> anyhow::Result<()> {
        self.inner.draw(f)?;
        Ok(())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}

/// Reads the terminal's events on a thread of its own, so the UI waits on them and on the
/// session together.
pub fn read_events(tx: Sender<Event>) {
    while let Ok(event) = crossterm::event::read() {
        if tx.send(event).is_err() {
            return;
        }
    }
}
