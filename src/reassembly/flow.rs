//! One direction of a connection: sequence-number unwrapping, in-order delivery, the out-of-order
//! buffer with its first-wins overlap policy, and giving up on holes.

use std::collections::BTreeMap;

use super::Stats;

/// A segment more than this far ahead of the next expected byte is not plausible (no receive window
/// is 1 GiB): it is dropped rather than opening a hole nobody will fill.
const MAX_AHEAD: u64 = 1 << 30;

/// Where a direction's bytes go (the flow table adapts it to the [`super::StreamHandler`]).
pub(super) trait Deliver {
    fn data(&mut self, bytes: &[u8]);
    fn gap(&mut self, len: u64);
}

/// Limits that apply to one insertion into the out-of-order buffer.
pub(super) struct Room {
    pub per_flow: usize,
    pub segments: usize,
    /// Bytes still free under the global cap.
    pub global_left: usize,
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
    pub ooo_bytes: usize,
}

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

    /// A segment's payload at offset `rel`. Returns the change in buffered bytes.
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
        if self.ooo_bytes + payload.len() > room.per_flow
            || self.ooo.len() >= room.segments
            || payload.len() > room.global_left
        {
            // A cap is hit: give up on the hole(s) rather than buffer more.
            let mut delta = self.give_up(out);
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
        self.insert(rel, payload, stats)
    }

    /// First wins: store only the bytes of `payload` no buffered segment already holds.
    fn insert(&mut self, rel: u64, payload: &[u8], stats: &mut Stats) -> isize {
        let end = rel + payload.len() as u64;
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut pos = rel;
        let before = self.ooo.range(..rel).next_back().map(|(s, d)| (*s, d));
        for (s, d) in before.into_iter().chain(self.ooo.range(rel..end).map(|(s, d)| (*s, d))) {
            let e = s + d.len() as u64;
            if e <= pos {
                continue;
            }
            if s >= end {
                break;
            }
            if s > pos {
                pieces.push((pos, s));
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
        }
        if pos < end {
            pieces.push((pos, end));
        }
        let mut added = 0isize;
        for (s, e) in pieces {
            let bytes = payload[(s - rel) as usize..(e - rel) as usize].to_vec();
            added += bytes.len() as isize;
            self.ooo.insert(s, bytes);
        }
        self.ooo_bytes = (self.ooo_bytes as isize + added) as usize;
        added
    }

    /// Deliver buffered segments that are now contiguous. Returns the (negative) change in buffered bytes.
    fn drain(&mut self, out: &mut dyn Deliver) -> isize {
        let mut freed = 0isize;
        while let Some(entry) = self.ooo.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let s = *entry.key();
            let d = entry.remove();
            freed += d.len() as isize;
            let e = s + d.len() as u64;
            if e > self.next {
                out.data(&d[(self.next - s) as usize..]);
                self.next = e;
            }
        }
        self.ooo_bytes = (self.ooo_bytes as isize - freed) as usize;
        -freed
    }

    fn gap(&mut self, len: u64, out: &mut dyn Deliver) {
        out.gap(len);
        self.next += len;
    }

    /// Give up on every hole: deliver all buffered bytes in order, with gaps between.
    pub fn give_up(&mut self, out: &mut dyn Deliver) -> isize {
        let mut delta = 0;
        loop {
            delta += self.drain(out);
            let Some((&s, _)) = self.ooo.first_key_value() else { break };
            self.gap(s - self.next, out);
        }
        delta
    }

    /// The receiver acknowledged up to `ack` (offset): bytes before it that we never saw are a gap.
    pub fn acked(&mut self, ack: u64, out: &mut dyn Deliver) -> isize {
        let mut limit = ack;
        if let Some(f) = self.fin_at {
            limit = limit.min(f);
        }
        if limit <= self.next || limit - self.next > MAX_AHEAD {
            return 0;
        }
        let mut delta = 0;
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
