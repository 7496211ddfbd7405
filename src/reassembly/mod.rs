//! Reassembly: the flow table and the two in-order byte streams of every TCP connection.
//!
//! STUB: the reassembly helper implements this module. The public surface below is the contract the
//! pipeline and the HTTP stage rely on.

use std::net::SocketAddr;

use crate::decode::TcpSegment;
use crate::time::Timestamp;

/// Which end of a connection sent some bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that opened the connection (sent the SYN), or our best guess when the SYN was not seen.
    Client,
    /// The other end.
    Server,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
    pub fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// Identity of one connection for its whole life in the table (never reused within a run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u64);

/// What the handler is told about a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowInfo {
    pub id: FlowId,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Capture time of the first packet seen.
    pub start: Timestamp,
    /// Whether the handshake was seen (false: picked up mid-stream, sides guessed).
    pub saw_syn: bool,
}

/// Why a flow left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    Fin,
    Rst,
    IdleTimeout,
    Evicted,
    EndOfCapture,
}

/// Receives what the reassembler produces. `S` is the per-flow state the handler keeps inside the flow
/// table (so the table's caps bound it too, and no second lookup is needed per packet).
pub trait StreamHandler<S> {
    /// Bytes sent by `from`, in order. `data` may borrow the captured frame.
    fn on_data(&mut self, flow: &FlowInfo, state: &mut S, from: Side, data: &[u8], ts: Timestamp);
    /// `len` bytes sent by `from` were never seen (lost, or given up on); the stream continues after them.
    fn on_gap(&mut self, flow: &FlowInfo, state: &mut S, from: Side, len: u64, ts: Timestamp);
    /// The flow is finished; no more calls for it follow.
    fn on_close(&mut self, flow: &FlowInfo, state: &mut S, reason: CloseReason, ts: Timestamp);
}

/// Caps and timeouts.
#[derive(Clone, Debug)]
pub struct Config {
    pub max_flows: usize,
    pub max_ooo_bytes_per_flow: usize,
    pub max_buffered_bytes: usize,
    pub idle_timeout_micros: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_flows: 262_144,
            max_ooo_bytes_per_flow: 256 * 1024,
            max_buffered_bytes: 32 * 1024 * 1024,
            idle_timeout_micros: 300 * 1_000_000,
        }
    }
}

/// Counters, all cumulative.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub flows_created: u64,
    pub flows_closed: u64,
    pub flows_timed_out: u64,
    pub flows_evicted: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub overlaps: u64,
    pub overlap_conflicts: u64,
    pub retransmissions: u64,
    pub ooo_segments: u64,
    pub ooo_dropped_bytes: u64,
    pub midstream_pickups: u64,
}

/// The flow table.
pub struct Reassembler<S> {
    _cfg: Config,
    stats: Stats,
    _state: std::marker::PhantomData<S>,
}

impl<S: Default> Reassembler<S> {
    pub fn new(cfg: Config) -> Self {
        Reassembler { _cfg: cfg, stats: Stats::default(), _state: std::marker::PhantomData }
    }
    /// Feed one segment captured at `ts`.
    pub fn process<H: StreamHandler<S>>(&mut self, _seg: &TcpSegment<'_>, _ts: Timestamp, _h: &mut H) {}
    /// Expire idle flows as of `now` (capture time).
    pub fn advance_time<H: StreamHandler<S>>(&mut self, _now: Timestamp, _h: &mut H) {}
    /// End of input: flush what can be flushed and close every flow.
    pub fn finish<H: StreamHandler<S>>(&mut self, _now: Timestamp, _h: &mut H) {}
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn active_flows(&self) -> usize {
        0
    }
    pub fn buffered_bytes(&self) -> usize {
        0
    }
}
