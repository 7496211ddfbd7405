//! The flow table: a slab of flows, a keyed hash index and an intrusive LRU list, so that lookup,
//! touch, eviction of the least recently active flow and idle expiry are all O(1).

use std::collections::HashMap;
use std::net::SocketAddr;

use super::flow::{Deliver, Dir, Room};
use super::{CloseReason, Config, FlowId, FlowInfo, Side, Stats, StreamHandler};
use crate::decode::TcpSegment;
use crate::time::Timestamp;

/// Out-of-order segments buffered per direction. Each insertion looks at the neighbours only, but a
/// flood of 1-byte segments must not build a tree of 256 Ki entries either; past this the holes are
/// given up on (as smoltcp's assembler does with its fixed number of holes).
pub const MAX_OOO_SEGMENTS: usize = 4096;

/// Handshakes remembered before their first data byte (see the module docs).
pub const MAX_SYN_CACHE: usize = 16_384;

const NIL: usize = usize::MAX;

/// A handshake seen, no data yet: who is the client, and the initial sequence numbers.
struct Syn {
    client: SocketAddr,
    isn: [Option<u32>; 2],
    first: Timestamp,
    last: Timestamp,
}

type Key = (SocketAddr, SocketAddr);

struct Slot<S> {
    key: Key,
    info: FlowInfo,
    state: S,
    dirs: [Dir; 2],
    last_seen: Timestamp,
    prev: usize,
    next: usize,
}

/// The flow table.
pub struct Reassembler<S> {
    cfg: Config,
    stats: Stats,
    index: HashMap<Key, usize, ahash::RandomState>,
    slots: Vec<Option<Slot<S>>>,
    free: Vec<usize>,
    /// Most recently active flow.
    head: usize,
    /// Least recently active flow: the first to evict or expire.
    tail: usize,
    buffered: usize,
    next_id: u64,
    syns: HashMap<Key, Syn, ahash::RandomState>,
    /// Insertion order of `syns` (entries promoted or removed are skipped lazily).
    syn_order: std::collections::VecDeque<(Key, Timestamp)>,
}

/// Adapts a direction's output to the handler, counting gaps.
struct Out<'a, S, H> {
    h: &'a mut H,
    info: &'a FlowInfo,
    state: &'a mut S,
    side: Side,
    ts: Timestamp,
    gaps: u64,
    gap_bytes: u64,
}

impl<S, H: StreamHandler<S>> Deliver for Out<'_, S, H> {
    fn data(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.h.on_data(self.info, self.state, self.side, bytes, self.ts);
        }
    }
    fn gap(&mut self, len: u64) {
        if len > 0 {
            self.gaps += 1;
            self.gap_bytes += len;
            self.h.on_gap(self.info, self.state, self.side, len, self.ts);
        }
    }
}

fn canonical(a: SocketAddr, b: SocketAddr) -> Key {
    if a <= b { (a, b) } else { (b, a) }
}

/// How much a port looks like a server's: well-known service ports first, then privileged ports.
fn server_score(port: u16) -> u8 {
    match port {
        80 | 443 | 8080 | 8000 | 8008 | 8081 | 8443 | 8888 | 3000 | 5000 | 9000 | 3128 | 21 | 23 | 25 | 110 | 143
        | 389 | 587 => 2,
        p if p < 1024 => 1,
        _ => 0,
    }
}

fn apply(buffered: &mut usize, delta: isize) {
    *buffered = (*buffered as isize + delta).max(0) as usize;
}

impl<S: Default> Reassembler<S> {
    pub fn new(cfg: Config) -> Self {
        Reassembler {
            cfg,
            stats: Stats::default(),
            index: HashMap::with_hasher(ahash::RandomState::new()),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            buffered: 0,
            next_id: 1,
            syns: HashMap::with_hasher(ahash::RandomState::new()),
            syn_order: std::collections::VecDeque::new(),
        }
    }

    fn syn_cap(&self) -> usize {
        self.cfg.max_flows.clamp(1, MAX_SYN_CACHE)
    }

    /// Remember a handshake segment (no data) of a flow not in the table.
    fn remember_syn(&mut self, seg: &TcpSegment<'_>, ts: Timestamp) {
        let key = canonical(seg.src, seg.dst);
        if let Some(e) = self.syns.get_mut(&key) {
            let d = if seg.src == e.client { 0 } else { 1 };
            e.isn[d].get_or_insert(seg.seq);
            e.last = ts;
            return;
        }
        while self.syns.len() >= self.syn_cap() {
            let Some((k, t)) = self.syn_order.pop_front() else { break };
            if self.syns.get(&k).is_some_and(|e| e.first == t) {
                self.syns.remove(&k);
                self.stats.syn_cache_evicted += 1;
            }
        }
        let client_is_src = !seg.flags.ack();
        let client = if client_is_src { seg.src } else { seg.dst };
        let mut isn = [None, None];
        isn[if client_is_src { 0 } else { 1 }] = Some(seg.seq);
        self.syns.insert(key, Syn { client, isn, first: ts, last: ts });
        self.syn_order.push_back((key, ts));
        // Keep the order queue from growing with stale entries under churn.
        if self.syn_order.len() > 2 * self.syn_cap() + 64 {
            let syns = &self.syns;
            self.syn_order.retain(|(k, t)| syns.get(k).is_some_and(|e| e.first == *t));
        }
    }

    /// Handshakes in the SYN cache (flows with no data yet).
    pub fn embryonic_flows(&self) -> usize {
        self.syns.len()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn active_flows(&self) -> usize {
        self.index.len()
    }
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    fn slot(&mut self, i: usize) -> Option<&mut Slot<S>> {
        self.slots.get_mut(i).and_then(Option::as_mut)
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = match self.slot(i) {
            Some(s) => (s.prev, s.next),
            None => return,
        };
        match self.slot(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slot(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    fn push_front(&mut self, i: usize) {
        let old = self.head;
        if let Some(s) = self.slot(i) {
            s.prev = NIL;
            s.next = old;
        }
        match self.slot(old) {
            Some(o) => o.prev = i,
            None => self.tail = i,
        }
        self.head = i;
    }

    fn touch(&mut self, i: usize) {
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
    }

    fn create(&mut self, seg: &TcpSegment<'_>, ts: Timestamp, h: &mut impl StreamHandler<S>) -> usize {
        if self.index.len() >= self.cfg.max_flows.max(1) && self.tail != NIL {
            let t = self.tail;
            self.stats.flows_evicted += 1;
            self.close(t, CloseReason::Evicted, ts, h);
        }
        let key = canonical(seg.src, seg.dst);
        let cached = self.syns.remove(&key);
        let syn = seg.flags.syn() || cached.is_some();
        let src_is_client = if let Some(c) = &cached {
            seg.src == c.client
        } else if syn {
            !seg.flags.ack()
        } else {
            let (s, d) = (server_score(seg.src.port()), server_score(seg.dst.port()));
            if s != d { s < d } else { seg.src.port() > seg.dst.port() }
        };
        if !syn {
            self.stats.midstream_pickups += 1;
        }
        let (client, server) = if src_is_client { (seg.src, seg.dst) } else { (seg.dst, seg.src) };
        let id = FlowId(self.next_id);
        self.next_id += 1;
        self.stats.flows_created += 1;
        let mut dirs = [Dir::default(), Dir::default()];
        let mut start = ts;
        if let Some(c) = cached {
            // The handshake was seen: streams start right after each side's ISN.
            for (d, isn) in dirs.iter_mut().zip(c.isn) {
                if let Some(isn) = isn {
                    d.start(isn.wrapping_add(1));
                }
            }
            start = c.first;
        }
        let slot = Slot {
            key,
            info: FlowInfo { id, client, server, start, saw_syn: syn },
            state: S::default(),
            dirs,
            last_seen: ts,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.index.insert(key, i);
        self.push_front(i);
        i
    }

    /// Feed one segment captured at `ts`.
    pub fn process<H: StreamHandler<S>>(&mut self, seg: &TcpSegment<'_>, ts: Timestamp, h: &mut H) {
        let key = canonical(seg.src, seg.dst);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                // Only data opens a flow. A handshake without data goes to the SYN cache; pure ACKs,
                // RSTs and lone FINs of flows we do not track (or just closed) are dropped.
                if seg.flags.rst() {
                    self.syns.remove(&key);
                    return;
                }
                if seg.payload.is_empty() {
                    if seg.flags.syn() {
                        self.remember_syn(seg, ts);
                    } else if let Some(e) = self.syns.get_mut(&key) {
                        e.last = ts;
                    }
                    return;
                }
                self.create(seg, ts, h)
            }
        };
        self.touch(i);
        let room_global = self.cfg.max_buffered_bytes.saturating_sub(self.buffered);
        let room =
            Room { per_flow: self.cfg.max_ooo_bytes_per_flow, segments: MAX_OOO_SEGMENTS, global_left: room_global };
        let Some(slot) = self.slots.get_mut(i).and_then(Option::as_mut) else { return };
        if ts > slot.last_seen {
            slot.last_seen = ts;
        }
        let side = if seg.src == slot.info.client { Side::Client } else { Side::Server };
        let d = side.index();
        let Slot { info, state, dirs, .. } = slot;
        let (mine, theirs) = match dirs.split_at_mut(1) {
            (a, b) if d == 0 => (&mut a[0], &mut b[0]),
            (a, b) => (&mut b[0], &mut a[0]),
        };
        if seg.flags.syn() {
            if seg.flags.ack() && side == Side::Server {
                info.saw_syn = true;
            }
            if !mine.started {
                mine.start(seg.seq.wrapping_add(1));
            }
        } else if !mine.started {
            mine.start(seg.seq);
        }
        let mut delta = 0isize;
        let (mut gaps, mut gap_bytes) = (0, 0);
        // The peer's ACK: bytes of the other direction it acknowledges but we never saw are a gap.
        if seg.flags.ack() && theirs.started {
            if let Some(a) = theirs.unwrap(seg.ack) {
                let mut out =
                    Out { h: &mut *h, info, state: &mut *state, side: side.other(), ts, gaps: 0, gap_bytes: 0 };
                delta += theirs.acked(a, &mut out);
                gaps += out.gaps;
                gap_bytes += out.gap_bytes;
            }
        }
        let data_seq = if seg.flags.syn() { seg.seq.wrapping_add(1) } else { seg.seq };
        if !seg.payload.is_empty() {
            if let Some(rel) = mine.unwrap(data_seq) {
                let mut out = Out { h: &mut *h, info, state: &mut *state, side, ts, gaps: 0, gap_bytes: 0 };
                delta += mine.segment(rel, seg.payload, &room, &mut self.stats, &mut out);
                gaps += out.gaps;
                gap_bytes += out.gap_bytes;
            } else {
                self.stats.retransmissions += 1;
            }
        }
        if seg.flags.fin() && mine.fin_at.is_none() {
            if let Some(rel) = mine.unwrap(data_seq) {
                mine.fin_at = Some(rel + seg.payload.len() as u64);
            }
        }
        let both_done = mine.done() && theirs.done();
        self.stats.gaps += gaps;
        self.stats.gap_bytes += gap_bytes;
        apply(&mut self.buffered, delta);
        if seg.flags.rst() {
            self.close(i, CloseReason::Rst, ts, h);
        } else if both_done {
            self.close(i, CloseReason::Fin, ts, h);
        }
    }

    /// Remove flow `i`: give up on its holes, tell the handler, free the slot.
    fn close<H: StreamHandler<S>>(&mut self, i: usize, reason: CloseReason, ts: Timestamp, h: &mut H) {
        self.unlink(i);
        let Some(mut slot) = self.slots.get_mut(i).and_then(Option::take) else { return };
        self.index.remove(&slot.key);
        self.free.push(i);
        let Slot { info, state, dirs, .. } = &mut slot;
        let mut delta = 0;
        for (d, side) in dirs.iter_mut().zip([Side::Client, Side::Server]) {
            let mut out = Out { h: &mut *h, info, state: &mut *state, side, ts, gaps: 0, gap_bytes: 0 };
            delta += d.give_up(&mut out);
            self.stats.gaps += out.gaps;
            self.stats.gap_bytes += out.gap_bytes;
        }
        apply(&mut self.buffered, delta);
        h.on_close(info, state, reason, ts);
        match reason {
            CloseReason::IdleTimeout => self.stats.flows_timed_out += 1,
            CloseReason::Evicted | CloseReason::EndOfCapture => {}
            CloseReason::Fin | CloseReason::Rst => self.stats.flows_closed += 1,
        }
    }

    /// Expire idle flows as of `now` (capture time).
    pub fn advance_time<H: StreamHandler<S>>(&mut self, now: Timestamp, h: &mut H) {
        while let Some(&(k, t)) = self.syn_order.front() {
            match self.syns.get(&k) {
                Some(e) if e.first == t => {
                    if now.micros_since(e.last) <= self.cfg.idle_timeout_micros {
                        break;
                    }
                    self.syns.remove(&k);
                }
                _ => {}
            }
            self.syn_order.pop_front();
        }
        while self.tail != NIL {
            let t = self.tail;
            let Some(slot) = self.slots.get(t).and_then(Option::as_ref) else { break };
            if now.micros_since(slot.last_seen) <= self.cfg.idle_timeout_micros {
                break;
            }
            self.close(t, CloseReason::IdleTimeout, now, h);
        }
    }

    /// End of input: flush what can be flushed and close every flow.
    pub fn finish<H: StreamHandler<S>>(&mut self, now: Timestamp, h: &mut H) {
        // Oldest first, so that handlers see flows end in the order they went quiet.
        while self.tail != NIL {
            let t = self.tail;
            self.close(t, CloseReason::EndOfCapture, now, h);
        }
        self.slots.clear();
        self.free.clear();
        self.syns.clear();
        self.syn_order.clear();
    }
}
