//! Everything the UI draws, and what every key does to it (pure: tested without a terminal).

use crossterm::event::{KeyCode, KeyModifiers};

use super::event::{StatsMsg, UiEvent};
use crate::alert::{Alert, AlertId, Reveal};

/// Seconds a new leak stays highlighted.
pub const NEW_FOR_SECS: f64 = 8.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Leaks,
    Detail,
    /// The selected leak's connection, message by message.
    Follow,
    Hosts,
    /// Login -> token handed out -> every request that replayed it.
    Story,
    Help,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Severity,
    Time,
    Count,
    Kind,
    Server,
    User,
    Status,
}

impl Sort {
    /// `s` cycles through the columns one can sort by.
    pub fn next(self) -> Sort {
        match self {
            Sort::Severity => Sort::Time,
            Sort::Time => Sort::Count,
            Sort::Count => Sort::Kind,
            Sort::Kind => Sort::Server,
            Sort::Server => Sort::User,
            Sort::User => Sort::Status,
            Sort::Status => Sort::Severity,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Sort::Severity => "severity",
            Sort::Time => "time",
            Sort::Count => "count",
            Sort::Kind => "kind",
            Sort::Server => "server",
            Sort::User => "user",
            Sort::Status => "status",
        }
    }
}

/// Seconds of stats the packet and byte rates are computed over.
pub const RATE_WINDOW_SECS: f64 = 5.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Capturing,
    /// Following other sensors' events (`plainsight watch`).
    Watching,
    Reading,
    Finished,
}

/// One story of the story view (see [`UiState::stories`]).
pub struct Story<'a> {
    pub token: &'a Row,
    pub login: Option<&'a Row>,
    /// Shared by the stories of one secret (handed out to several clients): built once.
    pub replays: std::rc::Rc<[&'a Row]>,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub alert: Alert,
    /// UI time (seconds) when it arrived: highlighted for [`NEW_FOR_SECS`].
    pub arrived: f64,
    /// The sensors that saw it (`plainsight watch`); empty for a run's own leaks.
    pub sensors: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct UiState {
    /// Interface name or file names.
    pub source: String,
    pub run: RunState,
    pub paused: bool,
    /// Events received while paused, applied on resume (bounded).
    pub held: Vec<UiEvent>,
    /// Of `held`, the new leaks.
    held_new: usize,
    /// While paused, repeats and sensors' updates are folded by leak (the latest wins: a count is
    /// absolute), so that pausing during a flood of repeats holds one entry per leak, not per sighting.
    held_repeats: std::collections::HashMap<AlertId, (u64, crate::time::Timestamp)>,
    held_fleet: std::collections::HashMap<AlertId, (Box<Alert>, Vec<String>)>,
    /// The order the folded updates first came in (new leaks of `watch` are listed in that order).
    held_fleet_order: Vec<AlertId>,
    /// UI clock, seconds since start (set by the loop; tests set it directly).
    pub now: f64,
    pub stats: StatsMsg,
    /// Watching many sensors' events (`plainsight watch`): a sensor column, and no traffic counters.
    pub fleet: bool,
    pub pps: f64,
    pub mbps: f64,
    /// The leaks listed, in order of arrival (at most [`MAX_ROWS`], and what `rows_memory` holds).
    pub rows: Vec<Row>,
    /// Where each listed leak is in `rows`: a repeat or a sensor's update finds its row at once.
    index: std::collections::HashMap<AlertId, usize>,
    /// Leaks not listed: past [`MAX_ROWS`] or the memory reserved for the rows. The alert file and the
    /// sinks have every one; the status line says how many the screen leaves out.
    pub rows_not_listed: u64,
    /// Bytes of memory the rows may hold (None: the count alone, as in tests), reserved off `--memcap`
    /// by the run, and the bytes they hold.
    rows_quota: crate::memory::Quota,
    _rows_reserved: Option<std::sync::Arc<crate::memory::Reservation>>,
    pub sort: Sort,
    /// `r`: the sort's order reversed.
    pub reversed: bool,
    /// (elapsed, packets, bytes) of the stats received in the last [`RATE_WINDOW_SECS`].
    pub samples: std::collections::VecDeque<(f64, u64, u64)>,
    /// UI time of the last stats received (the clock keeps running between them, and while paused).
    pub stats_at: f64,
    pub filter: String,
    pub filter_editing: bool,
    /// Index into [`UiState::visible`].
    pub selected: usize,
    pub view: View,
    /// The row selected in the hosts view (Enter shows that service's leaks).
    pub host_selected: usize,
    /// First line of the detail view shown (arrows, PgUp/PgDn, Home/End scroll it).
    pub detail_scroll: u16,
    /// How far the detail can scroll at the size it was last drawn (set by the renderer: the wrapped
    /// height depends on the terminal's width).
    pub detail_max: std::cell::Cell<u16>,
    pub reveal: Reveal,
    pub error: Option<String>,
    /// Colours on (`--color`, NO_COLOR): off, the screen uses modifiers only.
    pub color: bool,
    /// `w` was pressed: the loop saves the report and says where in `notice`.
    pub save_requested: bool,
    /// A line for the user (where the report was saved), shown in the footer.
    pub notice: Option<String>,
}

/// Events held while paused, at most; past it the oldest stats are dropped (alerts are kept, up to
/// what the rows may still list).
const MAX_HELD: usize = 100_000;

/// Leaks the screen lists at most. Past it new leaks are counted (`rows_not_listed`, on the status
/// line), not listed: every view is linear in the rows (sort, filter, stories), and a person reads a
/// few hundred. The alert file and the sinks have them all.
pub const MAX_ROWS: usize = 20_000;

impl UiState {
    pub fn new(source: &str, run: RunState, reveal: Reveal) -> UiState {
        UiState {
            source: source.to_string(),
            run,
            paused: false,
            held: Vec::new(),
            held_new: 0,
            held_repeats: std::collections::HashMap::new(),
            held_fleet: std::collections::HashMap::new(),
            held_fleet_order: Vec::new(),
            now: 0.0,
            stats: StatsMsg::default(),
            pps: 0.0,
            mbps: 0.0,
            rows: Vec::new(),
            index: std::collections::HashMap::new(),
            rows_not_listed: 0,
            rows_quota: crate::memory::Quota::unbounded(),
            _rows_reserved: None,
            // Live, the newest first (new leaks would be below the fold); a file, the worst first.
            sort: if matches!(run, RunState::Capturing | RunState::Watching) { Sort::Time } else { Sort::Severity },
            reversed: false,
            samples: std::collections::VecDeque::new(),
            stats_at: 0.0,
            filter: String::new(),
            filter_editing: false,
            selected: 0,
            view: View::Leaks,
            host_selected: 0,
            detail_scroll: 0,
            detail_max: std::cell::Cell::new(0),
            reveal,
            error: None,
            save_requested: false,
            notice: None,
            color: true,
            fleet: false,
        }
    }

    /// The rows may hold at most what `r` reserved (the run's `--memcap`), besides [`MAX_ROWS`].
    pub fn with_memory(mut self, r: crate::memory::Reservation) -> UiState {
        self.rows_quota = crate::memory::Quota::new(r.bytes());
        self._rows_reserved = Some(std::sync::Arc::new(r));
        self
    }

    /// The rows may hold at most `bytes` (`watch`, whose `--memcap` has no flows to share with).
    pub fn with_max_bytes(mut self, bytes: usize) -> UiState {
        self.rows_quota = crate::memory::Quota::new(bytes);
        self
    }

    /// List a new leak if the rows have room for it; count it otherwise.
    fn list(&mut self, row: Row) {
        // The row, what its alert holds, and its index entry (twice: a map grows by doubling).
        let cost =
            row.alert.heap_bytes(true) + std::mem::size_of::<Row>() + 2 * std::mem::size_of::<(AlertId, usize)>();
        if self.rows.len() >= MAX_ROWS || !self.rows_quota.take(cost) {
            self.rows_not_listed += 1;
            return;
        }
        self.index.insert(row.alert.id, self.rows.len());
        self.rows.push(row);
    }

    fn row_mut(&mut self, id: AlertId) -> Option<&mut Row> {
        let i = *self.index.get(&id)?;
        self.rows.get_mut(i)
    }

    /// Apply one event from the analysis thread (held while paused).
    pub fn apply(&mut self, ev: UiEvent) {
        if self.paused {
            match ev {
                // Held only as far as the rows could still list them: a flood while paused is
                // counted at once instead of waiting in memory.
                UiEvent::NewAlert(_) if self.rows.len() + self.held_new >= MAX_ROWS => self.rows_not_listed += 1,
                UiEvent::Stats(_) if self.held.len() >= MAX_HELD => {}
                UiEvent::Repeat { id, count, last_seen } => {
                    self.held_repeats.insert(id, (count, last_seen));
                }
                UiEvent::Fleet { alert, sensors } => {
                    let id = alert.id;
                    if self.held_fleet.insert(id, (alert, sensors)).is_none() {
                        self.held_fleet_order.push(id);
                    }
                }
                ev => {
                    self.held_new += usize::from(matches!(ev, UiEvent::NewAlert(_)));
                    self.held.push(ev);
                }
            }
            return;
        }
        match ev {
            UiEvent::NewAlert(a) => self.list(Row { alert: *a, arrived: self.now, sensors: Vec::new() }),
            UiEvent::Fleet { alert, sensors } => {
                self.fleet = true;
                match self.row_mut(alert.id) {
                    Some(r) => {
                        r.alert = *alert;
                        r.sensors = sensors;
                    }
                    None => self.list(Row { alert: *alert, arrived: self.now, sensors }),
                }
            }
            UiEvent::Repeat { id, count, last_seen } => {
                if let Some(r) = self.row_mut(id) {
                    r.alert.count = count;
                    r.alert.last_seen = last_seen;
                }
            }
            UiEvent::Stats(s) => {
                // Rates over a sliding window: steady, and back to zero when the traffic stops.
                self.samples.push_back((s.elapsed, s.snapshot.engine.packets, s.input_bytes));
                while self.samples.front().is_some_and(|f| s.elapsed - f.0 > RATE_WINDOW_SECS) {
                    self.samples.pop_front();
                }
                if let (Some(a), Some(b)) = (self.samples.front(), self.samples.back()) {
                    let dt = b.0 - a.0;
                    if dt > 0.05 {
                        self.pps = b.1.saturating_sub(a.1) as f64 / dt;
                        self.mbps = b.2.saturating_sub(a.2) as f64 / 1e6 / dt;
                    }
                }
                self.stats = *s;
                self.stats_at = self.now;
            }
            UiEvent::Finished => {
                self.run = RunState::Finished;
                // Nothing flows any more.
                self.pps = 0.0;
                self.mbps = 0.0;
            }
            UiEvent::Error(e) => self.error = Some(e),
            UiEvent::Notice(n) => self.notice = Some(n),
        }
    }

    /// The end-of-run report of what the UI holds, as `read` prints it.
    pub fn report(&self) -> String {
        let alerts: Vec<Alert> = self.rows.iter().map(|r| r.alert.clone()).collect();
        crate::output::report::render(&alerts, &self.stats.hosts, self.stats.snapshot.engine.tls_flows, self.reveal)
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
                    "{} {} {} {} {} {} {} {} {}",
                    a.kind.as_str(),
                    a.severity,
                    a.host.as_deref().unwrap_or(""),
                    a.shown_path(self.reveal).unwrap_or_default(),
                    a.shown_user(self.reveal).unwrap_or_default(),
                    a.client,
                    a.server,
                    a.location,
                    r.sensors.join(" ")
                )
                .to_lowercase();
                hay.contains(&f)
            })
            .collect();
        let reveal = self.reveal;
        let user = |r: &Row| r.alert.shown_user(reveal).unwrap_or_default();
        match self.sort {
            Sort::Severity => {
                v.sort_by(|a, b| b.alert.severity.cmp(&a.alert.severity).then(a.alert.id.cmp(&b.alert.id)))
            }
            Sort::Time => v.sort_by(|a, b| b.alert.last_seen.cmp(&a.alert.last_seen).then(b.alert.id.cmp(&a.alert.id))),
            Sort::Count => v.sort_by(|a, b| b.alert.count.cmp(&a.alert.count).then(a.alert.id.cmp(&b.alert.id))),
            Sort::Kind => {
                v.sort_by(|a, b| a.alert.kind.as_str().cmp(b.alert.kind.as_str()).then(a.alert.id.cmp(&b.alert.id)))
            }
            Sort::Server => v.sort_by(|a, b| a.alert.server.cmp(&b.alert.server).then(a.alert.id.cmp(&b.alert.id))),
            Sort::User => v.sort_by_cached_key(|r| (user(r), r.alert.id)),
            // Soonest to expire first: what an attacker must replay now.
            Sort::Status => v.sort_by_key(|r| (self.left(r).unwrap_or(i64::MAX), r.alert.id)),
        }
        if self.reversed {
            v.reverse();
        }
        v
    }

    /// Seconds a JWT stays replayable: its remaining time when seen, counting down on a live capture
    /// (a file's time does not move).
    pub fn left(&self, r: &Row) -> Option<i64> {
        let remaining = match r.alert.jwt.as_ref().map(|j| &j.validity) {
            Some(crate::detect::jwt::Validity::Valid { remaining_secs, .. }) => *remaining_secs,
            _ => return None,
        };
        // A live capture's time is the wall clock's: the token keeps expiring after it was seen.
        if r.alert.capture.starts_with("iface:") {
            return Some(remaining.saturating_sub((self.now - r.arrived).max(0.0) as i64));
        }
        Some(remaining)
    }

    /// Elapsed seconds to show: the analysis' own, running on between its reports and while paused.
    pub fn elapsed(&self) -> f64 {
        if self.run == RunState::Finished {
            return self.stats.elapsed;
        }
        self.stats.elapsed + (self.now - self.stats_at).max(0.0)
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

    /// Views of text that scroll (the detail, the story).
    fn scrolls(&self) -> bool {
        matches!(self.view, View::Detail | View::Follow | View::Story)
    }

    /// The stories: each token handed out (by a login response, or a `Set-Cookie`), the login that
    /// got it (same client connection), and every leak that carried the same secret since (its
    /// replays), in order of when the token was handed out.
    pub fn stories(&self) -> Vec<Story<'_>> {
        use crate::detect::LeakKind;
        let handed = |k: LeakKind| matches!(k, LeakKind::LoginResponseToken | LeakKind::SetCookieInsecure);
        let logins = |k: LeakKind| {
            matches!(k, LeakKind::FormLogin | LeakKind::JsonLogin | LeakKind::BasicAuth | LeakKind::WebsocketLogin)
        };
        // One pass to index the logins by connection and the other leaks by secret, one to build the
        // stories: linear in the rows, whatever their mix.
        let mut login_of = std::collections::HashMap::new();
        let mut carriers: std::collections::HashMap<String, Vec<&Row>> = std::collections::HashMap::new();
        for r in &self.rows {
            let k = r.alert.kind;
            if logins(k) {
                login_of.entry((r.alert.client, r.alert.server)).or_insert(r);
            } else if !handed(k) {
                carriers.entry(r.alert.secret.fingerprint()).or_default().push(r);
            }
        }
        let carriers: std::collections::HashMap<String, std::rc::Rc<[&Row]>> =
            carriers.into_iter().map(|(fp, rows)| (fp, rows.into())).collect();
        let none: std::rc::Rc<[&Row]> = std::rc::Rc::from(Vec::new());
        let mut out: Vec<Story<'_>> = self
            .rows
            .iter()
            .filter(|r| handed(r.alert.kind))
            .map(|t| Story {
                token: t,
                login: login_of.get(&(t.alert.client, t.alert.server)).copied(),
                replays: carriers.get(&t.alert.secret.fingerprint()).unwrap_or(&none).clone(),
            })
            .collect();
        out.sort_by_key(|s| (s.token.alert.first_seen, s.token.alert.id));
        out
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
        self.notice = None;
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
                    self.held_new = 0;
                    for ev in std::mem::take(&mut self.held) {
                        self.apply(ev);
                    }
                    let mut fleet = std::mem::take(&mut self.held_fleet);
                    for id in std::mem::take(&mut self.held_fleet_order) {
                        if let Some((alert, sensors)) = fleet.remove(&id) {
                            self.apply(UiEvent::Fleet { alert, sensors });
                        }
                    }
                    for (id, (count, last_seen)) in std::mem::take(&mut self.held_repeats) {
                        self.apply(UiEvent::Repeat { id, count, last_seen });
                    }
                }
            }
            KeyCode::Char('/') => {
                self.view = View::Leaks;
                self.filter_editing = true;
            }
            KeyCode::Char('s') => self.sort = self.sort.next(),
            KeyCode::Char('r') => self.reversed = !self.reversed,
            KeyCode::Char('w') => self.save_requested = true,
            KeyCode::Char('?') => self.view = if self.view == View::Help { View::Leaks } else { View::Help },
            KeyCode::Tab => {
                self.detail_scroll = 0;
                self.view = match self.view {
                    View::Leaks | View::Detail | View::Follow => View::Hosts,
                    View::Hosts => View::Story,
                    View::Story | View::Help => View::Leaks,
                }
            }
            KeyCode::Char('f') if matches!(self.view, View::Leaks | View::Detail) && self.selected_row().is_some() => {
                self.view = View::Follow;
                self.detail_scroll = 0;
            }
            KeyCode::Enter if self.view == View::Leaks && self.selected_row().is_some() => {
                self.view = View::Detail;
                self.detail_scroll = 0;
            }
            // The hosts view: a service is selected, Enter shows its leaks.
            KeyCode::Down | KeyCode::Char('j') if self.view == View::Hosts => {
                self.host_selected = (self.host_selected + 1).min(self.stats.hosts.len().saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k') if self.view == View::Hosts => {
                self.host_selected = self.host_selected.saturating_sub(1)
            }
            KeyCode::Enter if self.view == View::Hosts => {
                if let Some(h) = self.stats.hosts.get(self.host_selected) {
                    // A web site's leaks carry its name; another service's its address and port.
                    self.filter = if h.service == "http" {
                        h.name.chars().take(64).collect()
                    } else {
                        h.addr.map(|a| a.to_string()).unwrap_or_default()
                    };
                    self.view = View::Leaks;
                    self.selected = 0;
                }
            }
            // The detail scrolls; moving between leaks is the table's.
            KeyCode::Down | KeyCode::Char('j') if self.scrolls() => self.scroll(1),
            KeyCode::Up | KeyCode::Char('k') if self.scrolls() => self.scroll(-1),
            KeyCode::PageDown | KeyCode::Char(' ') if self.scrolls() => self.scroll(10),
            KeyCode::PageUp if self.scrolls() => self.scroll(-10),
            KeyCode::Home | KeyCode::Char('g') if self.scrolls() => self.detail_scroll = 0,
            KeyCode::End | KeyCode::Char('G') if self.scrolls() => self.detail_scroll = self.detail_max.get(),
            KeyCode::Esc if self.view == View::Follow => {
                self.view = View::Detail;
                self.detail_scroll = 0;
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
