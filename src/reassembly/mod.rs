//! Reassembly: the flow table and the two in-order byte streams of every TCP connection.
//!
//! Each direction of a connection is delivered to a [`StreamHandler`] as in-order bytes. In-order data
//! is passed as the segment's own payload slice (borrowed from the capture buffer: no copy); only
//! out-of-order data is copied, into a per-direction buffer, until the hole before it fills.
//!
//! **Sequence numbers** are unwrapped into 64-bit offsets relative to the start of each direction,
//! always against the next expected byte with a signed 32-bit difference, so wraparound at 2^32 is
//! invisible and a stream may carry more than 4 GiB.
//!
//! **Overlap policy: first wins.** Bytes already delivered or already buffered are kept; a later segment
//! only contributes the bytes nobody had sent before (BSD and Suricata's default "first" policy, which is
//! also what most end hosts do). Overlaps among buffered bytes whose contents differ are counted in
//! `overlap_conflicts` (an evasion attempt or a broken stack). Bytes already delivered are not kept (zero
//! copy), so a retransmission that disagrees with them cannot be compared: it is counted as a
//! retransmission and dropped.
//!
//! **Gaps.** A capture misses packets. The stream never stalls waiting for them: a hole is given up on
//! (the handler is told `on_gap(len)` and delivery resumes after it) when the receiver ACKs past it
//! (it got bytes we did not), when a buffer cap is hit, when the flow closes, times out or is evicted,
//! and at the end of the capture.
//!
//! **Mid-stream pick-up.** A flow whose handshake was not captured starts at the first segment seen;
//! the server is guessed from the ports (`saw_syn = false`).
//!
//! **Bounded memory.** At most `max_flows` flows (the least recently active one is evicted when a new one
//! arrives), `max_ooo_bytes_per_flow` (allocated bytes, overhead included) and [`MAX_OOO_SEGMENTS`]
//! buffered per direction; flows idle for `idle_timeout_micros` of *capture* time are expired by
//! [`Reassembler::advance_time`]. Pure ACKs and RSTs never create a flow, so a flood of them costs
//! nothing. A handshake without data yet (SYN, SYN-ACK) is only remembered in a small SYN cache (sides
//! and initial sequence numbers, ~100 bytes, at most [`MAX_SYN_CACHE`] entries, oldest forgotten first);
//! the full flow is built when the first byte of data arrives. Above all of these, the table charges
//! the process's memory budget (`crate::memory`) with what it really holds, its own tables and what
//! each flow holds (its out-of-order runs, and what the handler keeps for it: partial HTTP heads, kept
//! bodies); when the budget is full, the flows holding the most give way first (see `table`). Every
//! drop and every eviction is counted.

mod flow;
mod table;

pub use table::{MAX_OOO_SEGMENTS, MAX_SYN_CACHE, Reassembler, SHED_MIN, SLAB_CHUNK};

#[cfg(test)]
mod tests;

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
    /// Bytes the handler keeps for this flow (in `state` or beside it): partial messages, buffers.
    /// Asked after every segment, so it must be cheap; charged to the memory budget with the flow.
    fn held(&self, _flow: &FlowInfo, _state: &S) -> usize {
        0
    }
    /// Memory is short and this flow holds the most: drop what can be dropped (a partial message: the
    /// parser resynchronises on the next one). The stream goes on.
    fn shed(&mut self, _flow: &FlowInfo, _state: &mut S, _ts: Timestamp) {}
    /// How many of the next in-order bytes from `from` the handler skips unread: their content cannot
    /// change what it reports nor where it resumes (the rest of a media body of known length, a TLS or
    /// unrecognised stream). Asked after each delivery; lets [`StreamHandler::admit`] skip work.
    fn skippable(&self, _flow: &FlowInfo, _state: &S, _from: Side) -> u64 {
        0
    }
    /// Whether to take `seg` at all (its checksum). Asked once per segment before it does anything;
    /// `unread` says its payload falls where the handler skips unread, in order, and the segment moves
    /// nothing else (no SYN, FIN or RST, no acknowledgement past what was seen): it need not be
    /// verified, since whatever it carries the parser resumes at the same place.
    fn admit(&mut self, _seg: &TcpSegment<'_>, _unread: bool) -> bool {
        true
    }
}

/// Caps and timeouts.
#[derive(Clone, Debug)]
pub struct Config {
    pub max_flows: usize,
    /// What one direction's out-of-order buffer may cost (bytes allocated, overhead included).
    pub max_ooo_bytes_per_flow: usize,
    pub idle_timeout_micros: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config { max_flows: 262_144, max_ooo_bytes_per_flow: 256 * 1024, idle_timeout_micros: 300 * 1_000_000 }
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
    /// Handshakes forgotten because the SYN cache was full (a SYN flood, or a scan), or had no room to
    /// grow in the memory budget.
    pub syn_cache_evicted: u64,
    /// Directions whose holes were given up because memory was short and their flow held the most.
    pub memcap_holes_given_up: u64,
    /// Flows evicted because memory was short (the least recently active holder, or the slot of the
    /// least recently active flow when the flow tables had their whole share).
    pub memcap_flows_evicted: u64,
}
