//! Where each pane goes, from the screen size and the layout weights. Drawing and the mouse
//! both use it, so a click lands on the pane that was drawn there.

use ratatui::layout::{Constraint, Direction, Layout as Split, Position, Rect};

use super::app::Pane;
use super::config::Layout;

#[derive(Debug, Clone, Copy, Default)]
pub struct Areas {
    pub source: Rect,
    pub variables: Rect,
    pub watches: Rect,
    pub stack: Rect,
    pub breakpoints: Rect,
    pub timeline: Rect,
    pub output: Rect,
    pub console: Rect,
    pub status: Rect,
    pub prompt: Rect,
}

impl Areas {
    pub fn of(&self, pane: Pane) -> Rect {
        match pane {
            Pane::Source => self.source,
            Pane::Variables => self.variables,
            Pane::Watches => self.watches,
            Pane::Stack => self.stack,
            Pane::Breakpoints => self.breakpoints,
            Pane::Timeline => self.timeline,
            Pane::Output => self.output,
            Pane::Console => self.console,
        }
    }

    pub fn pane_at(&self, at: Position) -> Option<Pane> {
        Pane::ALL.into_iter().find(|p| self.of(*p).contains(at))
    }
}

fn weights(ws: &[u16]) -> Vec<Constraint> {
    ws.iter().map(|w| Constraint::Fill((*w).max(1))).collect()
}

/// The screen: a source column (source over output and console) and a sidebar (variables,
/// watches, stack, breakpoints), the timeline under both, then the status line; the prompt
/// takes the status line's place while open.
pub fn areas(area: Rect, layout: &Layout, _prompt: bool) -> Areas {
    let rows = Split::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Min(6),
            Constraint::Length(3),
            Constraint::Length(1),
        ])
        .split(area);
    let (main, timeline, status) = (rows[0], rows[1], rows[2]);
    let columns = Split::default()
        .direction(Direction::Horizontal)
        .constraints(weights(&[7, layout.sidebar]))
        .split(main);
    let left = Split::default()
        .direction(Direction::Vertical)
        .constraints(weights(&[layout.source, layout.console]))
        .split(columns[0]);
    let bottom = Split::default()
        .direction(Direction::Horizontal)
        .constraints(weights(&[1, 1]))
        .split(left[1]);
    // On a small screen the weights would leave the short panes no room for a single line.
    let side_constraints = if columns[1].height < 32 {
        vec![
            Constraint::Fill(layout.variables.max(1)),
            Constraint::Min(3),
            Constraint::Fill(layout.stack.max(1)),
            Constraint::Min(3),
        ]
    } else {
        weights(&[
            layout.variables,
            layout.watches,
            layout.stack,
            layout.breakpoints,
        ])
    };
    let side = Split::default()
        .direction(Direction::Vertical)
        .constraints(side_constraints)
        .split(columns[1]);
    Areas {
        source: left[0],
        output: bottom[0],
        console: bottom[1],
        variables: side[0],
        watches: side[1],
        stack: side[2],
        breakpoints: side[3],
        timeline,
        status,
        prompt: status,
    }
}
