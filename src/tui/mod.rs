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

/// Run the UI until the user quits; returns its last state (the caller prints the report from it). The
/// terminal is restored on return and on panic.
pub fn run(rx: Receiver<UiEvent>, mut state: UiState) -> io::Result<UiState> {
    let mut terminal = ratatui::init();
    let started = Instant::now();
    let result = (|| -> io::Result<()> {
        loop {
            state.now = started.elapsed().as_secs_f64();
            while let Ok(ev) = rx.try_recv() {
                state.apply(ev);
            }
            if state.save_requested {
                state.save_requested = false;
                state.notice = Some(save_report(&state));
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
    result.map(|()| state)
}

/// `w`: the report written to `plainsight-report-<UTC time>.txt` in the current directory (0600, never
/// through a link). Returns what to tell the user.
fn save_report(state: &UiState) -> String {
    let name = format!("plainsight-report-{}.txt", utc_stamp());
    let path = std::path::Path::new(&name);
    let written = crate::output::file::create_private(path)
        .map_err(|e| e.to_string())
        .and_then(|mut f| io::Write::write_all(&mut f, state.report().as_bytes()).map_err(|e| e.to_string()));
    match written {
        Ok(()) => format!("report saved to {name}"),
        Err(e) => format!("report not saved: {e}"),
    }
}

/// `YYYYMMDD-HHMMSS` in UTC, from the wall clock (the UI's own time, not a packet's).
fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let t = crate::time::Timestamp::from_secs(secs as i64).rfc3339();
    // 2026-11-23T10:15:02.123456Z -> 20261123-101502
    t.chars().filter(|c| c.is_ascii_digit()).take(14).enumerate().fold(String::new(), |mut s, (i, c)| {
        if i == 8 {
            s.push('-');
        }
        s.push(c);
        s
    })
}

#[cfg(test)]
mod tests;
