//! IP defragmentation: IPv4 fragments and IPv6 packets with a Fragment header, put back together into
//! the datagram they were cut from, which is then decoded like any packet.
//!
//! Why: a credential sent in fragments (a small MTU, or an attacker hiding from sniffers that skip
//! fragments) is a leak like any other. A later fragment has no ports, so fragments are collected here,
//! keyed by (source, destination, protocol, identification), before anything can be sharded by flow.
//!
//! Fragments are rare, so they are copied (the in-order path of whole packets stays zero-copy). Every
//! buffer is bounded, and every drop is counted ([`Stats`]):
//!
//! - [`MAX_DATAGRAMS`] datagrams in reassembly and [`MAX_HELD_BYTES`] bytes held overall: past either,
//!   the oldest datagram is dropped (`evicted`). [`Defragmenter::held_bytes`] lets a global memory
//!   budget include them;
//! - a datagram longer than 65,535 bytes is malformed (`too_large`), and one cut in more than
//!   [`MAX_PIECES`] pieces at once is dropped (`too_fragmented`), so inserting stays cheap;
//! - a datagram not complete [`TIMEOUT_MICROS`] of capture time after its first fragment is dropped
//!   (`timed_out`), as Linux's `ipfrag_time`.
//!
//! Overlapping fragments are an evasion signal (the receiver and the sniffer may keep different bytes):
//! for IPv4 the first copy of each byte wins, as the reassembler does for TCP, and overlaps whose bytes
//! differ are counted (`overlap_conflicts`); for IPv6, RFC 5722 says to drop the whole datagram and its
//! later fragments (`overlap_dropped`), except for an exact duplicate of a fragment, which is ignored.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use serde::Serialize;

use super::{Decoded, Fragment, ip};
use crate::time::Timestamp;

/// Datagrams in reassembly at once. Real fragmentation is rare and short-lived; 1,024 is far more than
/// any host has in flight, and bounds a flood of first fragments that never complete.
pub const MAX_DATAGRAMS: usize = 1024;
/// Fragment bytes held overall: 64 complete 64 KiB datagrams, a flood costs no more.
pub const MAX_HELD_BYTES: usize = 4 * 1024 * 1024;
/// Capture time a datagram may take to complete (Linux's `ipfrag_time`, 30 s).
pub const TIMEOUT_MICROS: i64 = 30_000_000;
/// Pieces of one datagram held at once. A fragment continuing the piece before it is appended to it,
/// so fragments in order make one piece; out of order, a 64 KiB datagram over the smallest IPv6 MTU
/// is 52 pieces. Bounds the work of each insertion.
pub const MAX_PIECES: usize = 128;
/// An IP datagram (IPv4 total length, IPv6 payload length) never exceeds this.
const MAX_DATAGRAM: usize = 65_535;

/// Counters of defragmentation (`--stats`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Fragments fed in.
    pub fragments: u64,
    /// Datagrams put back together and handed on.
    pub reassembled: u64,
    /// Datagrams dropped incomplete after the timeout.
    pub timed_out: u64,
    /// Datagrams dropped to stay within the count or byte cap.
    pub evicted: u64,
    /// Fragments overlapping bytes already held.
    pub overlaps: u64,
    /// ... whose bytes differ from those held (IPv4: the first copy is kept).
    pub overlap_conflicts: u64,
    /// IPv6 datagrams dropped for an overlap (RFC 5722).
    pub overlap_dropped: u64,
    /// Datagrams longer than 65,535 bytes.
    pub too_large: u64,
    /// Datagrams in more than `MAX_PIECES` disjoint pieces.
    pub too_fragmented: u64,
    /// Fragments that cannot be right (a middle one not a multiple of 8 bytes, a second end, a
    /// fragment inside a reassembled IPv6 datagram) and were dropped.
    pub malformed: u64,
    /// Datagrams still incomplete now (at the end of a run: never completed, dropped with the run).
    pub incomplete: u64,
}

impl Stats {
    pub fn merge(&mut self, o: &Stats) {
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.timed_out += o.timed_out;
        self.evicted += o.evicted;
        self.overlaps += o.overlaps;
        self.overlap_conflicts += o.overlap_conflicts;
        self.overlap_dropped += o.overlap_dropped;
        self.too_large += o.too_large;
        self.too_fragmented += o.too_fragmented;
        self.malformed += o.malformed;
        self.incomplete += o.incomplete;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

struct Datagram {
    /// Creation order, to find the oldest.
    order: u64,
    created: Timestamp,
    /// The first fragment's header (empty until the fragment at offset 0 arrives).
    header: Vec<u8>,
    next_header_at: usize,
    /// Disjoint pieces of the fragmentable part, sorted by offset (a fragment that continues the
    /// piece before it is appended to it).
    pieces: Vec<(usize, Vec<u8>)>,
    /// Bytes of the fragmentable part held (the pieces' lengths).
    covered: usize,
    /// Length of the fragmentable part, known once the last fragment (MF clear) arrived.
    total: Option<usize>,
    /// Dropped (IPv6 overlap, too large): later fragments are swallowed until it times out.
    dead: bool,
    bytes: usize,
}

/// Puts fragmented datagrams back together. Time is the packets' capture time.
pub struct Defragmenter {
    table: HashMap<Key, Datagram>,
    /// Keys in creation order (entries whose datagram is gone are skipped and compacted away).
    order: VecDeque<(u64, Key)>,
    next_order: u64,
    held: usize,
    stats: Stats,
}

impl Default for Defragmenter {
    fn default() -> Self {
        Defragmenter::new()
    }
}

/// How a fragment fits the pieces already held.
enum Fit {
    Fresh,
    /// Overlaps held bytes; `conflict` if they differ; `duplicate` if it exactly repeats one piece's
    /// range with the same bytes.
    Overlap {
        conflict: bool,
        duplicate: bool,
    },
}

impl Defragmenter {
    pub fn new() -> Defragmenter {
        Defragmenter { table: HashMap::new(), order: VecDeque::new(), next_order: 0, held: 0, stats: Stats::default() }
    }

    /// The counters, with the datagrams incomplete now.
    pub fn stats(&self) -> Stats {
        Stats { incomplete: self.table.values().filter(|d| !d.dead).count() as u64, ..self.stats.clone() }
    }

    /// Fragment bytes held now (for a global memory budget).
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Datagrams in reassembly now.
    pub fn pending(&self) -> usize {
        self.table.len()
    }

    /// Feed one fragment seen at `ts`. Returns the whole datagram (an IP packet whose first byte says
    /// its version, without fragmentation) once its last missing piece arrives.
    pub fn push(&mut self, f: &Fragment<'_>, ts: Timestamp) -> Option<Vec<u8>> {
        self.stats.fragments += 1;
        self.expire(ts);
        let v6 = matches!(f.src, IpAddr::V6(_));
        let end = f.offset + f.data.len();
        // Every fragment but the last carries a multiple of 8 bytes; an empty one carries nothing.
        if (f.more && (f.data.len() % 8 != 0 || f.data.is_empty())) || (v6 && f.proto == ip::IPV6_FRAGMENT) {
            self.stats.malformed += 1;
            return None;
        }
        let key = Key { src: f.src, dst: f.dst, proto: f.proto, id: f.id };
        if !self.table.contains_key(&key) {
            if self.table.len() >= MAX_DATAGRAMS {
                self.evict_oldest();
            }
            let order = self.next_order;
            self.next_order += 1;
            self.order.push_back((order, key));
            self.table.insert(
                key,
                Datagram {
                    order,
                    created: ts,
                    header: Vec::new(),
                    next_header_at: 0,
                    pieces: Vec::new(),
                    covered: 0,
                    total: None,
                    dead: false,
                    bytes: 0,
                },
            );
            self.compact_order();
        }
        let d = self.table.get_mut(&key)?;
        if d.dead {
            return None;
        }
        let unfragmentable = if v6 { f.header.len().saturating_sub(40) } else { f.header.len() };
        if end + unfragmentable > MAX_DATAGRAM {
            self.stats.too_large += 1;
            self.kill(&key);
            return None;
        }
        // The end of the datagram: said once; a fragment past it, or a second different end, cannot be.
        let past_end = d.total.is_some_and(|t| end > t || (!f.more && end != t));
        if past_end {
            self.stats.overlap_conflicts += 1;
            if v6 {
                self.stats.overlap_dropped += 1;
                self.kill(&key);
            }
            return None;
        }
        match fit(&d.pieces, f.offset, f.data) {
            Fit::Fresh => {}
            Fit::Overlap { conflict, duplicate } => {
                self.stats.overlaps += 1;
                if conflict {
                    self.stats.overlap_conflicts += 1;
                }
                if v6 && !duplicate {
                    self.stats.overlap_dropped += 1;
                    self.kill(&key);
                    return None;
                }
            }
        }
        if !f.more {
            d.total = Some(end);
        }
        if f.offset == 0 && d.header.is_empty() {
            d.header.extend_from_slice(f.header);
            d.next_header_at = f.next_header_at;
            d.bytes += f.header.len();
            self.held += f.header.len();
        }
        let added = insert(&mut d.pieces, f.offset, f.data);
        d.covered += added;
        d.bytes += added;
        self.held += added;
        if d.pieces.len() > MAX_PIECES {
            self.stats.too_fragmented += 1;
            self.kill(&key);
            return None;
        }
        // Complete: the end is known, the pieces (disjoint) cover it all, and the header is there.
        let complete = d.total.is_some_and(|t| d.covered == t) && !d.header.is_empty();
        if complete {
            let d = self.table.remove(&key)?;
            self.held -= d.bytes;
            return self.assemble(d, key.proto, v6);
        }
        while self.held > MAX_HELD_BYTES {
            if !self.evict_oldest() {
                break;
            }
        }
        None
    }

    /// The datagram as one IP packet: the first fragment's header with the fragmentation undone.
    fn assemble(&mut self, d: Datagram, proto: u8, v6: bool) -> Option<Vec<u8>> {
        let mut p = d.header;
        if p.len() < 20 || (v6 && p.len() < 40) {
            self.stats.malformed += 1;
            return None;
        }
        if v6 {
            // The Next Header that named the Fragment header now names what the fragments carried; the
            // payload length covers the extension headers kept and the data.
            *p.get_mut(d.next_header_at)? = proto;
            let plen = p.len() - 40 + d.covered;
            p[4..6].copy_from_slice(&(plen as u16).to_be_bytes());
        } else {
            let total = p.len() + d.covered;
            p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            // No more fragments, offset 0 (DF kept as sent).
            p[6] &= 0x40;
            p[7] = 0;
            p[10] = 0;
            p[11] = 0;
            let c = super::checksum::header_checksum(&p);
            p[10..12].copy_from_slice(&c);
        }
        p.reserve(d.covered);
        for (_, piece) in &d.pieces {
            p.extend_from_slice(piece);
        }
        if v6 {
            // A Fragment header inside the reassembled datagram would be reassembled again, and again.
            if matches!(ip::ipv6(&p), Ok(Decoded::Fragment(_))) {
                self.stats.malformed += 1;
                return None;
            }
        }
        self.stats.reassembled += 1;
        Some(p)
    }

    /// Drop a datagram's bytes but remember it (dead) until it times out, so its later fragments are
    /// not taken for a new datagram.
    fn kill(&mut self, key: &Key) {
        if let Some(d) = self.table.get_mut(key) {
            self.held -= d.bytes;
            d.bytes = 0;
            d.dead = true;
            d.pieces = Vec::new();
            d.header = Vec::new();
        }
    }

    /// Drop the oldest datagram (counted). False if there was none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((order, key)) = self.order.pop_front() {
            if self.table.get(&key).is_some_and(|d| d.order == order) {
                if let Some(d) = self.table.remove(&key) {
                    self.held -= d.bytes;
                    if !d.dead {
                        self.stats.evicted += 1;
                    }
                }
                return true;
            }
        }
        false
    }

    /// Drop the datagrams older than the timeout. The creation order is the timeout order.
    fn expire(&mut self, now: Timestamp) {
        while let Some(&(order, key)) = self.order.front() {
            match self.table.get(&key) {
                Some(d) if d.order == order => {
                    if now.micros_since(d.created) < TIMEOUT_MICROS {
                        return;
                    }
                    if let Some(d) = self.table.remove(&key) {
                        self.held -= d.bytes;
                        if !d.dead {
                            self.stats.timed_out += 1;
                        }
                    }
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Forget the order entries of datagrams already gone once they outnumber the live ones, so the
    /// queue stays proportional to the table even when capture time stands still.
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.table.len() + 64 {
            let table = &self.table;
            self.order.retain(|(o, k)| table.get(k).is_some_and(|d| d.order == *o));
        }
    }
}

/// How `data` at `offset` meets the held `pieces`.
fn fit(pieces: &[(usize, Vec<u8>)], offset: usize, data: &[u8]) -> Fit {
    let end = offset + data.len();
    let mut overlap = false;
    let mut conflict = false;
    let mut duplicate = false;
    for (start, bytes) in pieces {
        let p_end = start + bytes.len();
        if p_end <= offset || *start >= end {
            continue;
        }
        overlap = true;
        let (lo, hi) = ((*start).max(offset), p_end.min(end));
        if bytes[lo - start..hi - start] != data[lo - offset..hi - offset] {
            conflict = true;
        }
        if *start <= offset && p_end >= end {
            duplicate = true;
        }
    }
    if !overlap {
        return Fit::Fresh;
    }
    Fit::Overlap { conflict, duplicate: duplicate && !conflict }
}

/// Store the parts of `data` (at `offset`) not already held: the first copy of each byte wins. Returns
/// the bytes added.
fn insert(pieces: &mut Vec<(usize, Vec<u8>)>, offset: usize, data: &[u8]) -> usize {
    let end = offset + data.len();
    let mut gaps: Vec<(usize, usize)> = Vec::new();
    let mut cursor = offset;
    for (start, bytes) in pieces.iter() {
        let p_end = start + bytes.len();
        if p_end <= cursor || *start >= end {
            continue;
        }
        if *start > cursor {
            gaps.push((cursor, *start));
        }
        cursor = cursor.max(p_end);
    }
    if cursor < end {
        gaps.push((cursor, end));
    }
    let mut added = 0;
    for (lo, hi) in gaps {
        added += hi - lo;
        let new = &data[lo - offset..hi - offset];
        let at = pieces.partition_point(|(s, _)| *s < lo);
        // Appended to the piece that ends where it starts (fragments in order make one piece, at an
        // amortised constant cost per byte); otherwise a piece of its own. Never prepended to a
        // following piece: that would copy the larger one each time, quadratic for fragments sent
        // last first. Pieces are put together once, when the datagram is complete.
        match at.checked_sub(1).and_then(|i| pieces.get_mut(i)) {
            Some((s, prev)) if *s + prev.len() == lo => prev.extend_from_slice(new),
            _ => pieces.insert(at, (lo, new.to_vec())),
        }
    }
    added
}
