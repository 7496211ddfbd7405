//! Everything the UI draws, and what every key does to it (pure: tested without a terminal).

use crossterm::event::{KeyCode, KeyModifiers};

use super::event::{StatsMsg, UiEvent};
use crate::alert::{Alert, Reveal};

/// Seconds a new leak stays highlighted.
pub const NEW_FOR_SECS: f64 = 8.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Leaks,
    Detail,
    Hosts,
    Help,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Severity,
    Time,
    Count,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Severity => Sort::Time,
            Sort::Time => Sort::Count,
            Sort::Count => Sort::Severity,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Sort::Severity => "severity",
            Sort::Time => "time",
            Sort::Count => "count",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Capturing,
    Reading,
    Finished,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub alert: Alert,
    /// UI time (seconds) when it arrived: highlighted for [`NEW_FOR_SECS`].
    pub arrived: f64,
}

#[derive(Clone, Debug)]
pub struct UiState {
    /// Interface name or file names.
    pub source: String,
    pub run: RunState,
    pub paused: bool,
    /// Events received while paused, applied on resume (bounded).
    pub held: Vec<UiEvent>,
    /// UI clock, seconds since start (set by the loop; tests set it directly).
    pub now: f64,
    pub stats: StatsMsg,
    pub pps: f64,
    pub mbps: f64,
    pub rows: Vec<Row>,
    pub sort: Sort,
    pub filter: String,
    pub filter_editing: bool,
    /// Index into [`UiState::visible`].
    pub selected: usize,
    pub view: View,
    /// First line of the detail view shown (arrows, PgUp/PgDn, Home/End scroll it).
    pub detail_scroll: u16,
    /// How far the detail can scroll at the size it was last drawn (set by the renderer: the wrapped
    /// height depends on the terminal's width).
    pub detail_max: std::cell::Cell<u16>,
    pub reveal: Reveal,
    pub error: Option<String>,
}

/// Events held while paused, at most; past it the oldest stats are dropped (alerts are kept).
const MAX_HELD: usize = 100_000;

impl UiState {
    pub fn new(source: &str, run: RunState, reveal: Reveal) -> UiState {
        UiState {
            source: source.to_string(),
            run,
            paused: false,
            held: Vec::new(),
            now: 0.0,
            stats: StatsMsg::default(),
            pps: 0.0,
            mbps: 0.0,
            rows: Vec::new(),
            sort: Sort::Severity,
            filter: String::new(),
            filter_editing: false,
            selected: 0,
            view: View::Leaks,
            detail_scroll: 0,
            detail_max: std::cell::Cell::new(0),
            reveal,
            error: None,
        }
    }

    /// Apply one event from the analysis thread (held while paused).
    pub fn apply(&mut self, ev: UiEvent) {
        if self.paused {
            if self.held.len() < MAX_HELD || !matches!(ev, UiEvent::Stats(_)) {
                self.held.push(ev);
            }
            return;
        }
        match ev {
            UiEvent::NewAlert(a) => self.rows.push(Row { alert: *a, arrived: self.now }),
            UiEvent::Repeat { id, count, last_seen } => {
                if let Some(r) = self.rows.iter_mut().find(|r| r.alert.id == id) {
                    r.alert.count = count;
                    r.alert.last_seen = last_seen;
                }
            }
            UiEvent::Stats(s) => {
                let dt = s.elapsed - self.stats.elapsed;
                if dt > 0.05 {
                    self.pps =
                        (s.snapshot.engine.packets.saturating_sub(self.stats.snapshot.engine.packets)) as f64 / dt;
                    self.mbps = (s.input_bytes.saturating_sub(self.stats.input_bytes)) as f64 / 1e6 / dt;
                }
                self.stats = *s;
            }
            UiEvent::Finished => self.run = RunState::Finished,
            UiEvent::Error(e) => self.error = Some(e),
        }
    }

    /// Rows shown: filtered, then sorted.
    pub fn visible(&self) -> Vec<&Row> {
        let f = self.filter.to_lowercase();
        let mut v: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| {
                if f.is_empty() {
                    return true;
                }
                let a = &r.alert;
                // What the screen shows: secrets as their slots render (the filter must not find a
                // redacted secret by its value).
                let hay = format!(
                    "{} {} {} {} {} {} {} {}",
                    a.kind.as_str(),
                    a.severity,
                    a.host.as_deref().unwrap_or(""),
                    a.shown_path(self.reveal).unwrap_or_default(),
                    a.shown_user(self.reveal).unwrap_or_default(),
                    a.client,
                    a.server,
                    a.location
                )
                .to_lowercase();
                hay.contains(&f)
            })
            .collect();
        match self.sort {
            Sort::Severity => {
                v.sort_by(|a, b| b.alert.severity.cmp(&a.alert.severity).then(a.alert.id.cmp(&b.alert.id)))
            }
            Sort::Time => v.sort_by(|a, b| b.alert.last_seen.cmp(&a.alert.last_seen).then(b.alert.id.cmp(&a.alert.id))),
            Sort::Count => v.sort_by(|a, b| b.alert.count.cmp(&a.alert.count).then(a.alert.id.cmp(&b.alert.id))),
        }
        v
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.visible().get(self.selected).copied()
    }

    pub fn is_new(&self, r: &Row) -> bool {
        self.now - r.arrived < NEW_FOR_SECS
    }

    fn clamp(&mut self) {
        let n = self.visible().len();
        if self.selected >= n {
            self.selected = n.saturating_sub(1);
        }
    }

    /// Scroll the detail by `by` lines, within what the last drawing could show.
    fn scroll(&mut self, by: i32) {
        let to = (i32::from(self.detail_scroll) + by).clamp(0, i32::from(self.detail_max.get()));
        self.detail_scroll = to as u16;
    }

    /// Handle a key; returns true to quit.
    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) -> bool {
        if mods.contains(KeyModifiers::CONTROL) && code == KeyCode::Char('c') {
            return true;
        }
        if self.filter_editing {
            match code {
                KeyCode::Enter => self.filter_editing = false,
                KeyCode::Esc => {
                    self.filter_editing = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) if self.filter.len() < 64 => self.filter.push(c),
                _ => {}
            }
            self.selected = 0;
            return false;
        }
        match code {
            KeyCode::Char('q') => return true,
            KeyCode::Char('p') => {
                self.paused = !self.paused;
                if !self.paused {
                    for ev in std::mem::take(&mut self.held) {
                        self.apply(ev);
                    }
                }
            }
            KeyCode::Char('/') => {
                self.view = View::Leaks;
                self.filter_editing = true;
            }
            KeyCode::Char('s') => self.sort = self.sort.next(),
            KeyCode::Char('?') => self.view = if self.view == View::Help { View::Leaks } else { View::Help },
            KeyCode::Tab => {
                self.view = match self.view {
                    View::Leaks | View::Detail => View::Hosts,
                    View::Hosts | View::Help => View::Leaks,
                }
            }
            KeyCode::Enter if self.view == View::Leaks && self.selected_row().is_some() => {
                self.view = View::Detail;
                self.detail_scroll = 0;
            }
            // The detail scrolls; moving between leaks is the table's.
            KeyCode::Down | KeyCode::Char('j') if self.view == View::Detail => self.scroll(1),
            KeyCode::Up | KeyCode::Char('k') if self.view == View::Detail => self.scroll(-1),
            KeyCode::PageDown | KeyCode::Char(' ') if self.view == View::Detail => self.scroll(10),
            KeyCode::PageUp if self.view == View::Detail => self.scroll(-10),
            KeyCode::Home | KeyCode::Char('g') if self.view == View::Detail => self.detail_scroll = 0,
            KeyCode::End | KeyCode::Char('G') if self.view == View::Detail => {
                self.detail_scroll = self.detail_max.get()
            }
            KeyCode::Esc => {
                if self.view == View::Leaks && !self.filter.is_empty() {
                    self.filter.clear();
                } else {
                    self.view = View::Leaks;
                }
            }
            KeyCode::Down | KeyCode::Char('j') => self.selected = self.selected.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::PageDown => self.selected = self.selected.saturating_add(10),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = usize::MAX,
            _ => {}
        }
        self.clamp();
        false
    }
}
