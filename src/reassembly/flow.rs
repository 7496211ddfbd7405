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

/// Where a direction's bytes go (the flow table adapts it to the [`super::StreamHandler`]).
pub(super) trait Deliver {
    fn data(&mut self, bytes: &[u8]);
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
    /// What `ooo` costs: capacity of every run plus [`RUN_OVERHEAD`] each.
    pub cost: usize,
    /// Bytes after `next` that the handler said it skips unread (see `StreamHandler::skippable`).
    pub unread: u64,
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

    /// Buffered runs.
    pub fn runs(&self) -> usize {
        self.ooo.len()
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
        self.insert(rel, payload, stats, room.per_flow)
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
    #[inline]
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
