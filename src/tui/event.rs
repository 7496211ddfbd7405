//! What the analysis thread tells the UI.

use crossbeam_channel::Sender;

use crate::alert::{Alert, AlertId, AlertSink};
use crate::pipeline::{HostStats, StatsSnapshot};
use crate::time::Timestamp;

/// Counters at one instant, with what only the capture side knows.
#[derive(Clone, Debug, Default)]
pub struct StatsMsg {
    pub snapshot: StatsSnapshot,
    pub hosts: Vec<HostStats>,
    /// Dropped by the kernel / the interface (live only).
    pub kernel_drops: Option<u64>,
    /// Dropped because analysis was behind (live only).
    pub analysis_drops: Option<u64>,
    /// Input bytes so far (file bytes read, or bytes captured).
    pub input_bytes: u64,
    /// Wall-clock seconds since the run started, for rates.
    pub elapsed: f64,
    /// Progress through the input, 0..=1 (files only).
    pub progress: Option<f64>,
    /// The hosts view has no traffic counts (a fleet whose sensors sent leaks only): no TLS share.
    pub traffic_unknown: bool,
}

#[derive(Clone, Debug)]
pub enum UiEvent {
    NewAlert(Box<Alert>),
    Repeat {
        id: AlertId,
        count: u64,
        last_seen: Timestamp,
    },
    /// A leak merged across sensors (`plainsight watch`): added, or replaced in place by its id.
    Fleet {
        alert: Box<Alert>,
        sensors: Vec<String>,
    },
    Stats(Box<StatsMsg>),
    /// A passing word for the footer (a source of `watch` away, or back).
    Notice(String),
    /// The input is exhausted (files) or the capture stopped.
    Finished,
    Error(String),
}

/// An alert sink that forwards to the UI. The channel is unbounded: the UI applies each event in
/// constant time and drains the channel at every tick, and what it keeps is bounded (`state::MAX_ROWS`
/// and the rows' reserved memory; repeats folded while paused). A UI that stopped reading (quit) makes
/// sends fail quietly.
pub struct TuiSink(pub Sender<UiEvent>);

impl AlertSink for TuiSink {
    fn on_new(&mut self, alert: &Alert) {
        let _ = self.0.send(UiEvent::NewAlert(Box::new(alert.clone())));
    }
    fn on_repeat(&mut self, alert: &Alert) {
        let _ = self.0.send(UiEvent::Repeat { id: alert.id, count: alert.count, last_seen: alert.last_seen });
    }
}
