//! One direction of a connection: sequence-number unwrapping, in-order delivery, the out-of-order
//! buffer with its first-wins overlap policy, and giving up on holes.
//!
//! The out-of-order buffer is a map of runs (start offset to bytes). A segment that continues the run
//! before it is appended to that run (up to [`MAX_RUN`]), so the usual case, one lost segment followed
//! by a window of in-order ones, costs one allocation, not one per segment. What the buffer costs is
//! tracked as allocated bytes plus a per-run overhead ([`RUN_OVERHEAD`]): a flood of one-byte segments
//! is charged what it really takes, not one byte each.

use std::collections::BTreeMap;

use super::Stats;

/// A segment more than this far ahead of the next expected byte is not plausible (no receive window
/// is 1 GiB): it is dropped rather than opening a hole nobody will fill.
const MAX_AHEAD: u64 = 1 << 30;

/// What one buffered run costs besides its bytes: its share of a B-tree node (8-byte key, 24-byte
/// `Vec`, nodes of 11 entries at least half full: up to 70 bytes), and the allocator's header and
/// rounding of its heap block (16 to 31 bytes). Measured: 300 flows of 4,000 one-byte runs take
/// ~115 MB of RSS, about 96 bytes per run beyond the byte itself.
pub(super) const RUN_OVERHEAD: usize = 96;

/// A run grows by appending up to this size; a longer stretch of in-order bytes behind a hole starts
/// a new run (so a run's spare capacity is at most a few KiB, and no append copies more than this).
pub(super) const MAX_RUN: usize = 16 * 1024;

/// Bytes with a bad checksum held per direction until the receiver acknowledges them. A receiver's
/// window is rarely more than this ahead of its acknowledgements on a capture with offload (where every
/// segment of one host is held); past it the held bytes are delivered (counted as accepted), so a
/// one-sided capture costs this much per direction at most.
pub const MAX_HELD: usize = 64 * 1024;

/// Where a direction's bytes go (the flow table adapts it to the [`super::StreamHandler`]).
pub(super) trait Deliver {
    fn data(&mut self, bytes: &[u8]);
    /// Bytes that crossed the wire at `ts`, earlier than the segment being processed (held bytes).
    fn data_at(&mut self, bytes: &[u8], ts: crate::time::Timestamp);
    fn gap(&mut self, len: u64);
}

/// Limits that apply to one insertion into the out-of-order buffer.
pub(super) struct Room {
    /// Cost (bytes allocated, with overhead) this direction may hold.
    pub per_flow: usize,
    pub segments: usize,
}

#[derive(Default)]
pub(super) struct Dir {
    pub started: bool,
    /// Sequence number of offset 0 (the first data byte).
    base: u32,
    /// Offset of the next byte to deliver.
    pub next: u64,
    /// Offset of the FIN, once seen.
    pub fin_at: Option<u64>,
    ooo: BTreeMap<u64, Vec<u8>>,
    /// What `ooo` costs: capacity of every run plus [`RUN_OVERHEAD`] each, and `held`'s capacity.
    pub cost: usize,
    /// Bytes after `next` that the handler said it skips unread (see `StreamHandler::skippable`).
    pub unread: u64,
    /// What segments with a bad checksum left (`Admit::Held`). Boxed: most flows never have any, and
    /// every byte of `Dir` is paid by every flow in the table.
    held: Option<Box<Held>>,
}

/// Bytes at `next` whose checksum was bad, held until the receiver acknowledges them or a copy with a
/// good checksum replaces them. Counted in [`Dir::cost`] with its box.
#[derive(Default)]
struct Held {
    /// Never overlaps a buffered run.
    bytes: Vec<u8>,
    /// Capture time of the first held segment: when the held bytes crossed the wire (what a message
    /// starting there reports as its time, not the acknowledgement's).
    ts: crate::time::Timestamp,
    /// Offset of a FIN carried by a held segment: it ends the stream once the receiver acknowledges it
    /// (a host with checksum offload closes its connections too).
    fin: Option<u64>,
}

/// What a [`Held`] box costs beside its bytes (the allocator's header included).
const HELD_BOX: usize = std::mem::size_of::<Held>() + 16;

impl Dir {
    /// Start the stream: `first_data_seq` is the sequence number of its first data byte.
    pub fn start(&mut self, first_data_seq: u32) {
        self.started = true;
        self.base = first_data_seq;
        self.next = 0;
    }

    /// Offset of `seq`, unwrapped against the next expected byte. `None` if it would precede the start.
    pub fn unwrap(&self, seq: u32) -> Option<u64> {
        let here = self.base.wrapping_add(self.next as u32);
        let diff = seq.wrapping_sub(here) as i32 as i64;
        let off = self.next as i64 + diff;
        (off >= 0).then_some(off as u64)
    }

    /// Every byte up to the FIN was delivered.
    pub fn done(&self) -> bool {
        self.fin_at.is_some_and(|f| self.next >= f)
    }

    /// Buffered runs (held bytes count as one).
    pub fn runs(&self) -> usize {
        self.ooo.len() + usize::from(self.held_len() > 0)
    }

    fn held_len(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.bytes.len())
    }

    fn held_cost(&self) -> usize {
        self.held.as_ref().map_or(0, |h| HELD_BOX + h.bytes.capacity())
    }

    /// The held state, created on first use. Its cost is the caller's to account for (`held_cost`).
    fn held_mut(&mut self) -> &mut Held {
        self.held.get_or_insert_default()
    }

    /// Free what no longer holds anything; account every change of `held_cost` since `before`.
    /// Returns the change in cost.
    fn settle_held(&mut self, before: usize) -> isize {
        if let Some(h) = self.held.as_mut() {
            if h.bytes.is_empty() {
                h.bytes = Vec::new();
                if h.fin.is_none() {
                    self.held = None;
                }
            }
        }
        let after = self.held_cost();
        self.cost = (self.cost + after).saturating_sub(before);
        after as isize - before as isize
    }

    /// A segment with a bad checksum carried a FIN at offset `at`: believed once the receiver
    /// acknowledges it. Returns the change in cost.
    pub fn hold_fin(&mut self, at: u64) -> isize {
        let before = self.held_cost();
        self.held_mut().fin = Some(at);
        self.settle_held(before)
    }

    /// A segment's payload at offset `rel`. Returns the change in [`Dir::cost`].
    pub fn segment(
        &mut self,
        rel: u64,
        payload: &[u8],
        room: &Room,
        stats: &mut Stats,
        out: &mut dyn Deliver,
    ) -> isize {
        let end = rel + payload.len() as u64;
        if end <= self.next || self.done() {
            stats.retransmissions += 1;
            return 0;
        }
        let held_end = self.next + self.held_len() as u64;
        let held_before = self.held_cost();
        if let Some(held) = self.held.as_mut().filter(|h| !h.bytes.is_empty() && rel < held_end) {
            // A good copy of bytes held for their bad checksum: it wins (the bad one was a decoy the
            // receiver dropped, or a corrupt copy).
            let (os, oe) = (rel.max(self.next), end.min(held_end));
            let good = &payload[(os - rel) as usize..(oe - rel) as usize];
            let bad = &mut held.bytes[(os - self.next) as usize..(oe - self.next) as usize];
            stats.bad_checksum_replaced_bytes += good.len() as u64;
            if good != bad {
                stats.bad_checksum_conflicts += 1;
            }
            if rel > self.next {
                // Inside the held bytes: they stay held (not all of them are good), with the good ones in.
                bad.copy_from_slice(good);
                let before = self.cost;
                if end > held_end {
                    self.extend_held(&payload[(held_end - rel) as usize..]);
                }
                return self.cost as isize - before as isize;
            }
            // From the start of the held bytes: what it covers is no longer held; it is delivered below.
            held.bytes.drain(..(oe - self.next) as usize);
            let change = self.settle_held(held_before);
            return self.segment(rel, payload, room, stats, out) + change;
        }
        if rel <= self.next {
            if rel < self.next {
                stats.overlaps += 1;
            }
            let skip = (self.next - rel) as usize;
            out.data(&payload[skip..]);
            self.next = end;
            return self.drain(out);
        }
        if rel - self.next > MAX_AHEAD {
            stats.ooo_dropped_bytes += payload.len() as u64;
            return 0;
        }
        stats.ooo_segments += 1;
        if self.cost + payload.len() + RUN_OVERHEAD > room.per_flow || self.ooo.len() >= room.segments {
            // This direction's own cap is hit: give up on its hole(s) rather than buffer more.
            let mut delta = self.give_up(stats, out);
            if end <= self.next {
                stats.retransmissions += 1;
                return delta;
            }
            if rel > self.next {
                self.gap(rel - self.next, out);
            }
            let skip = (self.next - rel) as usize;
            out.data(&payload[skip..]);
            self.next = end;
            delta += self.drain(out);
            return delta;
        }
        self.insert(rel, payload, stats, room.per_flow)
    }

    /// A segment whose checksum was bad (`Admit::Held`): its bytes that extend the held ones are held
    /// (not delivered); out of order, it is buffered like any other (first wins). Returns the change in
    /// cost.
    #[allow(clippy::too_many_arguments)]
    pub fn hold(
        &mut self,
        rel: u64,
        payload: &[u8],
        ts: crate::time::Timestamp,
        room: &Room,
        stats: &mut Stats,
        out: &mut dyn Deliver,
    ) -> isize {
        let end = rel + payload.len() as u64;
        let held_end = self.next + self.held_len() as u64;
        if end <= held_end || self.done() {
            // Bytes already delivered or already held: first wins.
            return 0;
        }
        if rel > held_end {
            return self.segment(rel, payload, room, stats, out);
        }
        stats.bad_checksum_held += 1;
        let mut delta = 0;
        if self.held_len() + (end - held_end) as usize > MAX_HELD {
            // Nobody acknowledges (a one-sided capture): what is held is taken as it is.
            delta += self.accept_held(u64::MAX, stats, out);
            if end <= self.next {
                return delta;
            }
        }
        let from = (self.next + self.held_len() as u64).max(rel);
        let before = self.cost;
        let first = self.held_len() == 0;
        self.extend_held(&payload[(from - rel) as usize..]);
        if let Some(h) = self.held.as_mut().filter(|_| first) {
            h.ts = ts;
        }
        delta + self.cost as isize - before as isize
    }

    /// Append to the held bytes, never over a buffered run (a good copy already there wins).
    fn extend_held(&mut self, bytes: &[u8]) {
        let at = self.next + self.held_len() as u64;
        let stop = self.ooo.range(at..).next().map_or(u64::MAX, |(s, _)| *s);
        let take = bytes.len().min((stop - at).min(usize::MAX as u64) as usize);
        let before = self.held_cost();
        self.held_mut().bytes.extend_from_slice(&bytes[..take]);
        self.settle_held(before);
    }

    /// The receiver acknowledged up to `ack` in a segment whose own checksum was bad: the held bytes it
    /// acknowledges are delivered (a capture where every checksum is bad, both ways, has no other
    /// acknowledgement; forging one with a good checksum is no harder), but nothing else follows from it
    /// (no gap is declared on its word). Returns the change in cost.
    pub fn acked_by_held(&mut self, ack: u64, stats: &mut Stats, out: &mut dyn Deliver) -> isize {
        self.fin_acked(ack);
        self.accept_held(ack, stats, out)
    }

    /// A held FIN the receiver acknowledged (the FIN takes one sequence number) ends the stream there.
    fn fin_acked(&mut self, ack: u64) {
        let before = self.held_cost();
        if let Some(h) = self.held.as_mut() {
            if let Some(f) = h.fin.filter(|&f| ack > f) {
                h.fin = None;
                self.fin_at.get_or_insert(f);
            }
        }
        self.settle_held(before);
    }

    /// Deliver held bytes up to offset `upto` (all of them with `u64::MAX`), then what follows them.
    /// Returns the change in cost.
    fn accept_held(&mut self, upto: u64, stats: &mut Stats, out: &mut dyn Deliver) -> isize {
        let before = self.held_cost();
        let Some(held) = self.held.as_mut().filter(|h| !h.bytes.is_empty() && upto > self.next) else {
            return 0;
        };
        let n = ((upto - self.next).min(held.bytes.len() as u64)) as usize;
        stats.bad_checksum_accepted_bytes += n as u64;
        out.data_at(&held.bytes[..n], held.ts);
        self.next += n as u64;
        held.bytes.drain(..n);
        let change = self.settle_held(before);
        let after = if self.held_len() == 0 { self.drain(out) } else { 0 };
        after + change
    }

    /// First wins: store only the bytes of `payload` no buffered segment already holds. Returns the
    /// change in cost (which stays within `limit`: a run's spare capacity is not grown past it).
    fn insert(&mut self, rel: u64, payload: &[u8], stats: &mut Stats, limit: usize) -> isize {
        let end = rel + payload.len() as u64;
        // Pieces of `payload` nobody holds yet: (start, end, the run ending right at start).
        let mut pieces: [(u64, u64, Option<u64>); 4] = [(0, 0, None); 4];
        let mut n = 0;
        let mut more: Vec<(u64, u64, Option<u64>)> = Vec::new();
        let mut pos = rel;
        // The last run seen that ends at or before `pos` (start, end).
        let mut last: Option<(u64, u64)> = None;
        let before = self.ooo.range(..rel).next_back().map(|(s, d)| (*s, d));
        for (s, d) in before.into_iter().chain(self.ooo.range(rel..end).map(|(s, d)| (*s, d))) {
            let e = s + d.len() as u64;
            if e <= pos {
                last = Some((s, e));
                continue;
            }
            if s >= end {
                break;
            }
            if s > pos {
                let piece = (pos, s, last.filter(|l| l.1 == pos).map(|l| l.0));
                if n < pieces.len() {
                    pieces[n] = piece;
                    n += 1;
                } else {
                    more.push(piece);
                }
            }
            let (os, oe) = (s.max(pos), e.min(end));
            if os < oe {
                stats.overlaps += 1;
                let mine = &payload[(os - rel) as usize..(oe - rel) as usize];
                let theirs = &d[(os - s) as usize..(oe - s) as usize];
                if mine != theirs {
                    stats.overlap_conflicts += 1;
                }
            }
            pos = pos.max(e);
            last = Some((s, e));
        }
        if pos < end {
            let piece = (pos, end, last.filter(|l| l.1 == pos).map(|l| l.0));
            if n < pieces.len() {
                pieces[n] = piece;
                n += 1;
            } else {
                more.push(piece);
            }
        }
        let before = self.cost;
        for &(s, e, after) in pieces[..n].iter().chain(more.iter()) {
            self.put(s, &payload[(s - rel) as usize..(e - rel) as usize], after, limit);
        }
        self.cost as isize - before as isize
    }

    /// Store `bytes` (held by no run) at `at`: appended to the run that ends there (`after`, its start)
    /// if it has room, else as a new run.
    fn put(&mut self, at: u64, bytes: &[u8], after: Option<u64>, limit: usize) {
        if let Some(run) = after.and_then(|k| self.ooo.get_mut(&k)) {
            if run.len() + bytes.len() <= MAX_RUN {
                let before = run.capacity();
                let need = run.len() + bytes.len();
                if need > before {
                    // Double, as `Vec` would, but never past the run's cap or the direction's.
                    let spare = limit.saturating_sub(self.cost);
                    let target = (before * 2).min(MAX_RUN).min(before + spare).max(need);
                    run.reserve_exact(target - run.len());
                }
                run.extend_from_slice(bytes);
                self.cost += run.capacity() - before;
                return;
            }
        }
        let run = bytes.to_vec();
        self.cost += run.capacity() + RUN_OVERHEAD;
        self.ooo.insert(at, run);
    }

    /// Deliver buffered runs that are now contiguous. Returns the (negative) change in cost.
    fn drain(&mut self, out: &mut dyn Deliver) -> isize {
        let mut freed = 0usize;
        while let Some(entry) = self.ooo.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let s = *entry.key();
            let d = entry.remove();
            freed += d.capacity() + RUN_OVERHEAD;
            let e = s + d.len() as u64;
            if e > self.next {
                out.data(&d[(self.next - s) as usize..]);
                self.next = e;
            }
        }
        self.cost = self.cost.saturating_sub(freed);
        -(freed as isize)
    }

    fn gap(&mut self, len: u64, out: &mut dyn Deliver) {
        out.gap(len);
        self.next += len;
    }

    /// Give up on every hole: deliver all buffered bytes in order, with gaps between.
    pub fn give_up(&mut self, stats: &mut Stats, out: &mut dyn Deliver) -> isize {
        let mut delta = self.accept_held(u64::MAX, stats, out);
        loop {
            delta += self.drain(out);
            let Some((&s, _)) = self.ooo.first_key_value() else { break };
            self.gap(s - self.next, out);
        }
        delta
    }

    /// The receiver acknowledged up to `ack` (offset): bytes before it that we never saw are a gap.
    #[inline]
    pub fn acked(&mut self, ack: u64, stats: &mut Stats, out: &mut dyn Deliver) -> isize {
        // The receiver took the held bytes it acknowledges: their checksum was spoilt by the capture.
        self.fin_acked(ack);
        let taken = self.accept_held(ack, stats, out);
        let mut limit = ack;
        if let Some(f) = self.fin_at {
            limit = limit.min(f);
        }
        if limit <= self.next || limit - self.next > MAX_AHEAD {
            return taken;
        }
        let mut delta = taken;
        while self.next < limit {
            delta += self.drain(out);
            if self.next >= limit {
                break;
            }
            let target = match self.ooo.first_key_value() {
                Some((&s, _)) if s < limit => s,
                _ => limit,
            };
            self.gap(target - self.next, out);
        }
        delta + self.drain(out)
    }
}
