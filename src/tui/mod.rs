//! Terminal UI (ratatui): the leaks as they are found, their detail as an attacker sees them, and the
//! hosts that received credentials in the clear.
//!
//! The UI is a pure function of a [`state::UiState`] ([`render::draw`]); key handling is methods on
//! the state; events from the analysis thread arrive over a crossbeam channel ([`event::UiEvent`],
//! sent by [`event::TuiSink`]). Only [`run`] touches the terminal, so everything else is tested with
//! ratatui's `TestBackend`.

pub mod event;
pub mod render;
pub mod state;

pub use event::{StatsMsg, TuiSink, UiEvent};
pub use state::UiState;

use std::io;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use crossterm::event::{self as ct, Event, KeyEventKind};

/// Redraws per second at most: enough to feel live, cheap on a busy sensor.
const FPS: u64 = 10;

/// Run the UI until the user quits. The terminal is restored on return and on panic.
pub fn run(rx: Receiver<UiEvent>, mut state: UiState) -> io::Result<()> {
    let mut terminal = ratatui::init();
    let started = Instant::now();
    let result = (|| -> io::Result<()> {
        loop {
            state.now = started.elapsed().as_secs_f64();
            while let Ok(ev) = rx.try_recv() {
                state.apply(ev);
            }
            terminal.draw(|f| render::draw(f, &state))?;
            if ct::poll(Duration::from_millis(1000 / FPS))? {
                if let Event::Key(k) = ct::read()? {
                    if k.kind != KeyEventKind::Release && state.key(k.code, k.modifiers) {
                        return Ok(());
                    }
                }
            }
        }
    })();
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests;
