//! The flow table: a slab of flows, a keyed hash index and intrusive lists, so that lookup, touch,
//! eviction of the least recently active flow, idle expiry and finding the flow that holds the most
//! memory are all O(1) (or O(64), one look per power of two).
//!
//! **Memory.** Everything the table holds is charged to the process's [`Budget`] through this thread's
//! [`Account`]: the slab (allocated [`SLAB_CHUNK`] slots at a time, never moved), the index and the SYN
//! cache by their allocated capacity, within the budget's table share; and per flow what it *holds*:
//! its out-of-order runs ([`super::flow::RUN_OVERHEAD`] included) plus what the handler reports with
//! [`StreamHandler::held`] (partial HTTP heads, kept bodies, a prober's bytes). A flow's holding is
//! recomputed once per segment (a few loads) and charged on growth, credited on release; the shared
//! counter is touched once per lease, never on the in-order path.
//!
//! **Who gives way.** When a charge does not fit, the table frees from its own flows until it does:
//! 1. the flow holding the most (found through size buckets, one list per power of two), when it holds
//!    at least [`SHED_MIN`]: its holes are given up (`memcap_holes_given_up`) and the handler drops
//!    what it can ([`StreamHandler::shed`]: partial heads, kept bodies); if that frees nothing, the
//!    flow is evicted;
//! 2. else the least recently active flow that holds anything is evicted (`memcap_flows_evicted`): a
//!    flood of small holders costs the oldest of them, not a recent victim;
//! 3. else the flow being processed gives way itself.
//!
//! A new flow that finds the table's share of the budget full takes the slot of the least recently
//! active flow (`memcap_flows_evicted`). So a victim's small reorder survives a flood of other flows'
//! holes: they hold more than it does, and they are older.

use std::collections::{HashMap, VecDeque};
use std::mem::size_of;
use std::net::SocketAddr;

use super::flow::{Deliver, Dir, Room};
use super::{Admit, CloseReason, Config, FlowId, FlowInfo, Side, Stats, StreamHandler};
use crate::decode::{TcpFlags, TcpSegment};
use crate::memory::{Account, Budget, Short, map_bytes};
use crate::time::Timestamp;

/// Out-of-order segments buffered per direction. Each insertion looks at the neighbours only, but a
/// flood of 1-byte segments must not build a tree of 256 Ki entries either; past this the holes are
/// given up on (as smoltcp's assembler does with its fixed number of holes).
pub const MAX_OOO_SEGMENTS: usize = 4096;

/// Handshakes remembered before their first data byte (see the module docs).
pub const MAX_SYN_CACHE: usize = 16_384;

/// A flow holding at least this much is the first to give way under memory pressure. Below it, the
/// least recently active holder is evicted instead: a victim whose two segments arrived swapped holds
/// one segment (a few hundred bytes to a few KiB) and is recent, so neither rule picks it while a flood
/// of larger or older holders lasts.
pub const SHED_MIN: usize = 4096;

/// Slots allocated at once: the slab grows in steps of a few hundred KiB, and never moves a flow (no
/// reallocation doubling the table's memory for a moment).
pub const SLAB_CHUNK: usize = 256;

type Ix = u32;
const NIL: Ix = Ix::MAX;

/// The lists threaded through the slots: all flows by activity, the flows that hold memory by
/// activity, and one list per size class of holding (`1 + log2`).
const LRU: usize = 0;
const HOLDERS: usize = 1;
const SIZE_CLASSES: usize = usize::BITS as usize;
const LISTS: usize = 2 + SIZE_CLASSES;

/// A handshake seen, no data yet: who is the client, and the initial sequence numbers.
struct Syn {
    client: SocketAddr,
    isn: [Option<u32>; 2],
    /// Whether each side's ISN (and the client's identity) came from a segment with a good checksum:
    /// a held one (bad checksum) is only believed until a good one says otherwise.
    trusted: [bool; 2],
    client_trusted: bool,
    first: Timestamp,
    last: Timestamp,
}

type Key = (SocketAddr, SocketAddr);

/// What one handshake in the SYN cache may cost: its map entry with the map at most 7/8 full, twice
/// (a map with churn doubles when removals leave tombstones), and two places in the order queue (which
/// keeps stale entries until it is compacted).
const SYN_COST: usize = 2 * (size_of::<(Key, Syn)>() + 1) * 8 / 7 + 2 * size_of::<(Key, Timestamp)>();

struct Slot<S> {
    /// Its index key is `canonical(info.client, info.server)` (not stored twice).
    info: FlowInfo,
    state: S,
    dirs: [Dir; 2],
    last_seen: Timestamp,
    /// Bytes charged for what this flow holds (its runs' cost plus the handler's `held`).
    holding: usize,
    /// Its size class (0: holds nothing, in no size list).
    class: u8,
    /// (previous, next) in: the LRU list, the holders list, its size-class list.
    links: [[Ix; 2]; 3],
}

/// The flow table.
pub struct Reassembler<S> {
    cfg: Config,
    stats: Stats,
    index: HashMap<Key, usize, ahash::RandomState>,
    chunks: Vec<Box<[Option<Slot<S>>]>>,
    free: Vec<usize>,
    /// (first, last) of each list: first is the most recently active (LRU, holders), last the first to
    /// evict or expire.
    ends: [[Ix; 2]; LISTS],
    /// Out-of-order bytes buffered (cost), for the counters.
    buffered: usize,
    /// Sum of every flow's holding.
    holding: usize,
    next_id: u64,
    syns: HashMap<Key, Syn, ahash::RandomState>,
    /// Insertion order of `syns` (entries promoted or removed are skipped lazily).
    syn_order: VecDeque<(Key, Timestamp)>,
    mem: Account,
    /// Table bytes charged for the index (its allocation never shrinks).
    index_charged: usize,
    /// Handshakes the SYN cache has been charged for ([`SYN_COST`] each, never credited: its
    /// allocations do not shrink either).
    syn_entries: usize,
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
    /// What the handler said it skips unread after the last delivery (`None`: nothing delivered).
    unread: Option<u64>,
}

impl<S, H: StreamHandler<S>> Deliver for Out<'_, S, H> {
    fn data(&mut self, bytes: &[u8]) {
        self.data_at(bytes, self.ts);
    }
    fn data_at(&mut self, bytes: &[u8], ts: Timestamp) {
        if !bytes.is_empty() {
            self.h.on_data(self.info, self.state, self.side, bytes, ts);
            self.unread = Some(self.h.skippable(self.info, self.state, self.side));
        }
    }
    fn gap(&mut self, len: u64) {
        if len > 0 {
            self.gaps += 1;
            self.gap_bytes += len;
            self.h.on_gap(self.info, self.state, self.side, len, self.ts);
            self.unread = Some(0);
        }
    }
}

#[inline]
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

/// Size class of a holding: 1 + floor(log2), or 0 (in no size list) below [`SHED_MIN`]: only holders
/// that large are shed by size, and a flow's partial head of a few hundred bytes then costs no list
/// update when it comes and goes.
fn class_of(holding: usize) -> u8 {
    if holding < SHED_MIN { 0 } else { (usize::BITS - holding.leading_zeros()) as u8 }
}

/// Which of a slot's links a list uses.
fn link_of(list: usize) -> usize {
    list.min(2)
}

impl<S: Default> Reassembler<S> {
    /// A table with a budget of its own (the default memcap).
    pub fn new(cfg: Config) -> Self {
        Reassembler::with_budget(cfg, Budget::default())
    }

    /// A table charging `budget` (shared with the other analysis threads of the process).
    pub fn with_budget(cfg: Config, budget: Budget) -> Self {
        Reassembler {
            cfg,
            stats: Stats::default(),
            index: HashMap::with_hasher(ahash::RandomState::new()),
            chunks: Vec::new(),
            free: Vec::new(),
            ends: [[NIL; 2]; LISTS],
            buffered: 0,
            holding: 0,
            next_id: 1,
            syns: HashMap::with_hasher(ahash::RandomState::new()),
            syn_order: VecDeque::new(),
            mem: budget.account(),
            index_charged: 0,
            syn_entries: 0,
        }
    }

    fn syn_cap(&self) -> usize {
        self.cfg.max_flows.clamp(1, MAX_SYN_CACHE)
    }

    /// Forget the oldest handshake. Returns false when there is none.
    fn forget_oldest_syn(&mut self) -> bool {
        while let Some((k, t)) = self.syn_order.pop_front() {
            if self.syns.get(&k).is_some_and(|e| e.first == t) {
                self.syns.remove(&k);
                self.stats.syn_cache_evicted += 1;
                return true;
            }
        }
        false
    }

    /// Make room for one more handshake: the cache grows only if the budget's table share has room for
    /// it (a handshake more than it ever held), else the oldest handshake is forgotten.
    fn syn_room(&mut self) {
        if self.syns.len() < self.syn_entries {
            return;
        }
        if self.mem.try_charge_table(SYN_COST).is_ok() {
            self.syn_entries += 1;
            return;
        }
        self.forget_oldest_syn();
    }

    /// Remember a handshake segment (no data) of a flow not in the table.
    fn remember_syn(&mut self, seg: &TcpSegment<'_>, ts: Timestamp, trusted: bool) {
        let key = canonical(seg.src, seg.dst);
        let client_is_src = !seg.flags.ack();
        if let Some(e) = self.syns.get_mut(&key) {
            if trusted && !e.client_trusted {
                let client = if client_is_src { seg.src } else { seg.dst };
                if client != e.client {
                    // A held SYN told it the other way round: the good one wins.
                    e.client = client;
                    e.isn.swap(0, 1);
                    e.trusted.swap(0, 1);
                }
                e.client_trusted = true;
            }
            let d = if seg.src == e.client { 0 } else { 1 };
            if e.isn[d].is_none() || (trusted && !e.trusted[d]) {
                e.isn[d] = Some(seg.seq);
                e.trusted[d] = trusted;
            }
            e.last = ts;
            return;
        }
        while self.syns.len() >= self.syn_cap() {
            if !self.forget_oldest_syn() {
                break;
            }
        }
        // Keep the order queue from growing with stale entries under churn.
        if self.syn_order.len() > 2 * self.syn_cap() + 64 {
            let syns = &self.syns;
            self.syn_order.retain(|(k, t)| syns.get(k).is_some_and(|e| e.first == *t));
        }
        self.syn_room();
        let client = if client_is_src { seg.src } else { seg.dst };
        let mut isn = [None, None];
        let d = if client_is_src { 0 } else { 1 };
        isn[d] = Some(seg.seq);
        let mut t = [false; 2];
        t[d] = trusted;
        self.syns.insert(key, Syn { client, isn, trusted: t, client_trusted: trusted, first: ts, last: ts });
        self.syn_order.push_back((key, ts));
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
    /// Cost of the out-of-order runs buffered now (allocation and overhead included).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }
    /// What every flow holds now: its runs, plus what the handler reports it keeps for it.
    pub fn held_bytes(&self) -> usize {
        self.holding
    }
    /// Bytes of one slot (tests, sizing).
    pub fn slot_bytes() -> usize {
        size_of::<Option<Slot<S>>>()
    }
    /// The budget this table charges.
    pub fn budget(&self) -> &Budget {
        self.mem.budget()
    }
    /// Bytes this table has charged to the budget (tables and holdings).
    pub fn charged_bytes(&self) -> usize {
        self.mem.used()
    }

    fn slot(&mut self, i: usize) -> Option<&mut Slot<S>> {
        self.chunks.get_mut(i / SLAB_CHUNK).and_then(|c| c.get_mut(i % SLAB_CHUNK)).and_then(Option::as_mut)
    }

    fn slot_ref(&self, i: usize) -> Option<&Slot<S>> {
        self.chunks.get(i / SLAB_CHUNK).and_then(|c| c.get(i % SLAB_CHUNK)).and_then(Option::as_ref)
    }

    fn ix(i: Ix) -> usize {
        if i == NIL { usize::MAX } else { i as usize }
    }

    fn unlink(&mut self, list: usize, i: usize) {
        let l = link_of(list);
        let [prev, next] = match self.slot(i) {
            Some(s) => s.links[l],
            None => return,
        };
        match self.slot(Self::ix(prev)) {
            Some(p) => p.links[l][1] = next,
            None => self.ends[list][0] = next,
        }
        match self.slot(Self::ix(next)) {
            Some(n) => n.links[l][0] = prev,
            None => self.ends[list][1] = prev,
        }
        if let Some(s) = self.slot(i) {
            s.links[l] = [NIL, NIL];
        }
    }

    fn push_front(&mut self, list: usize, i: usize) {
        let l = link_of(list);
        let old = self.ends[list][0];
        if let Some(s) = self.slot(i) {
            s.links[l] = [NIL, old];
        }
        match self.slot(Self::ix(old)) {
            Some(o) => o.links[l][0] = i as Ix,
            None => self.ends[list][1] = i as Ix,
        }
        self.ends[list][0] = i as Ix;
    }

    #[inline]
    fn touch(&mut self, i: usize) {
        if Self::ix(self.ends[LRU][0]) != i {
            self.unlink(LRU, i);
            self.push_front(LRU, i);
            // A flow that holds something is in the holders list too (in the same order).
            if self.slot_ref(i).is_some_and(|s| s.holding > 0) && Self::ix(self.ends[HOLDERS][0]) != i {
                self.unlink(HOLDERS, i);
                self.push_front(HOLDERS, i);
            }
        }
    }

    /// Least recently active flow (the first to evict or expire).
    fn lru_tail(&self) -> Option<usize> {
        let t = self.ends[LRU][1];
        (t != NIL).then_some(t as usize)
    }

    /// Record flow `i`'s new holding: size class and holders list. Returns the old holding.
    fn set_holding(&mut self, i: usize, new: usize) -> usize {
        let Some(s) = self.slot(i) else { return new };
        let (old, old_class) = (s.holding, s.class);
        s.holding = new;
        let class = class_of(new);
        if class != old_class {
            if old_class > 0 {
                self.unlink(1 + old_class as usize, i);
            }
            if class > 0 {
                self.push_front(1 + class as usize, i);
            }
            if let Some(s) = self.slot(i) {
                s.class = class;
            }
        }
        if old == 0 && new > 0 {
            self.push_front(HOLDERS, i);
        } else if old > 0 && new == 0 {
            self.unlink(HOLDERS, i);
        }
        self.holding = (self.holding + new).saturating_sub(old);
        old
    }

    /// Recompute what flow `i` holds and charge or credit the difference. When the charge does not fit
    /// and `relieve`, other flows give way (see the module docs).
    #[inline]
    fn settle<H: StreamHandler<S>>(&mut self, i: usize, h: &mut H, ts: Timestamp, relieve: bool) -> Option<usize> {
        let s = self.slot_ref(i)?;
        let new = s.dirs[0].cost + s.dirs[1].cost + h.held(&s.info, &s.state);
        if new == s.holding {
            // The usual case on the in-order path: nothing buffered before, nothing now.
            return Some(i);
        }
        self.settle_change(i, new, h, ts, relieve)
    }

    #[inline(never)]
    fn settle_change<H: StreamHandler<S>>(
        &mut self,
        i: usize,
        new: usize,
        h: &mut H,
        ts: Timestamp,
        relieve: bool,
    ) -> Option<usize> {
        let old = self.set_holding(i, new);
        if new < old {
            self.mem.credit(old - new);
            return Some(i);
        }
        if self.mem.try_charge(new - old) {
            return Some(i);
        }
        self.mem.charge(new - old);
        if !relieve {
            return Some(i);
        }
        let mut current = Some(i);
        while self.mem.over() && self.shed_one(&mut current, h, ts) {}
        current
    }

    /// Free something, the largest holder first (see the module docs). `current` is the flow being
    /// processed (set to `None` if it had to be evicted). Returns false when nothing is left to free.
    fn shed_one<H: StreamHandler<S>>(&mut self, current: &mut Option<usize>, h: &mut H, ts: Timestamp) -> bool {
        if self.shed_largest(current, h, ts) {
            return true;
        }
        // Small holders only: the least recently active one that is not the flow being processed.
        let mut t = self.ends[HOLDERS][1];
        if t != NIL && Some(t as usize) == *current {
            t = self.slot_ref(t as usize).map_or(NIL, |s| s.links[link_of(HOLDERS)][0]);
        }
        if t != NIL {
            self.stats.memcap_flows_evicted += 1;
            self.close(t as usize, CloseReason::Evicted, ts, h);
            return true;
        }
        // Last: the flow being processed gives up what it holds, or goes.
        let Some(c) = *current else { return false };
        let before = self.slot_ref(c).map_or(0, |s| s.holding);
        if before == 0 {
            return false;
        }
        self.shed_flow(c, h, ts);
        if self.slot_ref(c).is_some_and(|s| s.holding < before) {
            return true;
        }
        self.stats.memcap_flows_evicted += 1;
        self.close(c, CloseReason::Evicted, ts, h);
        *current = None;
        true
    }

    /// The largest holder (another one of its size class rather than `current`), if it holds at least
    /// [`SHED_MIN`], gives up what it holds, or is evicted if that frees nothing.
    fn shed_largest<H: StreamHandler<S>>(&mut self, current: &mut Option<usize>, h: &mut H, ts: Timestamp) -> bool {
        let Some(class) = (1..=SIZE_CLASSES).rev().find(|&c| self.ends[1 + c][0] != NIL) else { return false };
        let mut j = self.ends[1 + class][0] as usize;
        if Some(j) == *current {
            let next = self.slot_ref(j).map_or(NIL, |s| s.links[2][1]);
            if next != NIL {
                j = next as usize;
            }
        }
        let before = self.slot_ref(j).map_or(0, |s| s.holding);
        if before < SHED_MIN {
            return false;
        }
        self.shed_flow(j, h, ts);
        if self.slot_ref(j).is_some_and(|s| s.holding < before) {
            return true;
        }
        self.stats.memcap_flows_evicted += 1;
        self.close(j, CloseReason::Evicted, ts, h);
        if Some(j) == *current {
            *current = None;
        }
        true
    }

    /// Flow `i` gives up its holes and the handler drops what it can; its holding is recomputed.
    fn shed_flow<H: StreamHandler<S>>(&mut self, i: usize, h: &mut H, ts: Timestamp) {
        let Some(slot) =
            self.chunks.get_mut(i / SLAB_CHUNK).and_then(|c| c.get_mut(i % SLAB_CHUNK)).and_then(Option::as_mut)
        else {
            return;
        };
        let Slot { info, state, dirs, .. } = slot;
        let mut delta = 0;
        for (d, side) in dirs.iter_mut().zip([Side::Client, Side::Server]) {
            if d.runs() == 0 {
                continue;
            }
            self.stats.memcap_holes_given_up += 1;
            let mut out = Out { h: &mut *h, info, state: &mut *state, side, ts, gaps: 0, gap_bytes: 0, unread: None };
            delta += d.give_up(&mut self.stats, &mut out);
            self.stats.gaps += out.gaps;
            self.stats.gap_bytes += out.gap_bytes;
        }
        h.shed(info, state, ts);
        apply(&mut self.buffered, delta);
        self.settle(i, h, ts, false);
    }

    /// A free slot: the slab grows by a chunk if the budget's table share has room, else the least
    /// recently active flow gives its slot (or, when memory is held by large holders, they give way).
    fn alloc_slot<H: StreamHandler<S>>(&mut self, ts: Timestamp, h: &mut H) -> usize {
        loop {
            if let Some(i) = self.free.pop() {
                return i;
            }
            let bytes = SLAB_CHUNK * (size_of::<Option<Slot<S>>>() + size_of::<usize>());
            if let Err(short) = self.mem.try_charge_table(bytes) {
                // The budget is full of what flows hold: the largest holders give way first.
                if short == Short::Budget && self.shed_largest(&mut None, h, ts) {
                    continue;
                }
                if let Some(t) = self.lru_tail() {
                    self.stats.memcap_flows_evicted += 1;
                    self.close(t, CloseReason::Evicted, ts, h);
                    continue;
                }
                // An empty table always gets its first chunk.
                self.mem.charge_table(bytes);
            }
            let base = self.chunks.len() * SLAB_CHUNK;
            self.chunks.push((0..SLAB_CHUNK).map(|_| None).collect());
            self.free.extend((base..base + SLAB_CHUNK).rev());
        }
    }

    fn create(&mut self, seg: &TcpSegment<'_>, ts: Timestamp, h: &mut impl StreamHandler<S>) -> usize {
        if self.index.len() >= self.cfg.max_flows.max(1) {
            if let Some(t) = self.lru_tail() {
                self.stats.flows_evicted += 1;
                self.close(t, CloseReason::Evicted, ts, h);
            }
        }
        let i = self.alloc_slot(ts, h);
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
            info: FlowInfo { id, client, server, start, saw_syn: syn },
            state: S::default(),
            dirs,
            last_seen: ts,
            holding: 0,
            class: 0,
            links: [[NIL; 2]; 3],
        };
        if let Some(place) = self.chunks.get_mut(i / SLAB_CHUNK).and_then(|c| c.get_mut(i % SLAB_CHUNK)) {
            *place = Some(slot);
        }
        self.index.insert(key, i);
        // The index's allocation only grows (by doubling, with the slab's flows).
        let bytes = map_bytes(self.index.capacity(), size_of::<(Key, usize)>());
        if bytes > self.index_charged {
            self.mem.charge_table(bytes - self.index_charged);
            self.index_charged = bytes;
        }
        self.push_front(LRU, i);
        i
    }

    /// Feed one segment captured at `ts`.
    pub fn process<H: StreamHandler<S>>(&mut self, seg: &TcpSegment<'_>, ts: Timestamp, h: &mut H) {
        let key = canonical(seg.src, seg.dst);
        let (i, first) = match self.index.get(&key) {
            Some(&i) => (i, None),
            None => {
                // Nothing is known of this flow yet: whatever the segment carries is verified.
                let adm = h.admit(seg, false);
                match adm {
                    Admit::Drop => return,
                    // A bad handshake segment is remembered as a guess a good one overrides (a capture
                    // where every checksum is bad still gets its sides and sequence numbers right).
                    Admit::Held if seg.flags.syn() && seg.payload.is_empty() && !seg.flags.rst() => {
                        self.remember_syn(seg, ts, false);
                        return;
                    }
                    // Otherwise a bad segment opens nothing: only its data may be held.
                    Admit::Held if seg.payload.is_empty() || seg.flags.syn() || seg.flags.rst() => return,
                    _ => {}
                }
                // Only data opens a flow. A handshake without data goes to the SYN cache; pure ACKs,
                // RSTs and lone FINs of flows we do not track (or just closed) are dropped.
                if seg.flags.rst() {
                    self.syns.remove(&key);
                    return;
                }
                if seg.payload.is_empty() {
                    if seg.flags.syn() {
                        self.remember_syn(seg, ts, true);
                    } else if let Some(e) = self.syns.get_mut(&key) {
                        e.last = ts;
                    }
                    return;
                }
                (self.create(seg, ts, h), Some(adm))
            }
        };
        self.touch(i);
        let room = Room { per_flow: self.cfg.max_ooo_bytes_per_flow, segments: MAX_OOO_SEGMENTS };
        let Some(slot) =
            self.chunks.get_mut(i / SLAB_CHUNK).and_then(|c| c.get_mut(i % SLAB_CHUNK)).and_then(Option::as_mut)
        else {
            return;
        };
        let side = if seg.src == slot.info.client { Side::Client } else { Side::Server };
        let d = side.index();
        let Slot { info, state, dirs, holding, last_seen, .. } = slot;
        let (mine, theirs) = match dirs.split_at_mut(1) {
            (a, b) if d == 0 => (&mut a[0], &mut b[0]),
            (a, b) => (&mut b[0], &mut a[0]),
        };
        let adm = match first {
            Some(adm) => adm,
            None => {
                // In-order data the handler skips unread, moving nothing else, need not be verified: a
                // decoy there changes nothing, the parser resumes at the same place whatever it held.
                let f = seg.flags;
                let unread = f.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) == 0
                    && !seg.payload.is_empty()
                    && seg.payload.len() as u64 <= mine.unread
                    && mine.started
                    && mine.unwrap(seg.seq) == Some(mine.next)
                    && (!f.ack() || !theirs.started || theirs.unwrap(seg.ack).is_some_and(|a| a <= theirs.next));
                h.admit(seg, unread)
            }
        };
        // A held segment's flags and acknowledgement are not believed: the receiver dropped it, or its
        // checksum was spoilt by the capture; either way its data alone waits for the receiver's word.
        let held = match adm {
            Admit::Drop => return,
            Admit::Held => true,
            Admit::Take => false,
        };
        if ts > *last_seen && !held {
            *last_seen = ts;
        }
        let flags = if held { TcpFlags(0) } else { seg.flags };
        if flags.syn() {
            if flags.ack() && side == Side::Server {
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
        // The peer's ACK: bytes of the other direction it acknowledges but we never saw are a gap (and
        // held bytes it acknowledges were taken by the receiver).
        if held && seg.flags.ack() && theirs.started {
            if let Some(a) = theirs.unwrap(seg.ack) {
                let mut out = Out {
                    h: &mut *h,
                    info,
                    state: &mut *state,
                    side: side.other(),
                    ts,
                    gaps: 0,
                    gap_bytes: 0,
                    unread: None,
                };
                delta += theirs.acked_by_held(a, &mut self.stats, &mut out);
                if let Some(u) = out.unread {
                    theirs.unread = u;
                }
            }
        }
        if flags.ack() && theirs.started {
            if let Some(a) = theirs.unwrap(seg.ack) {
                let mut out = Out {
                    h: &mut *h,
                    info,
                    state: &mut *state,
                    side: side.other(),
                    ts,
                    gaps: 0,
                    gap_bytes: 0,
                    unread: None,
                };
                delta += theirs.acked(a, &mut self.stats, &mut out);
                gaps += out.gaps;
                gap_bytes += out.gap_bytes;
                if let Some(u) = out.unread {
                    theirs.unread = u;
                }
            }
        }
        let data_seq = if seg.flags.syn() { seg.seq.wrapping_add(1) } else { seg.seq };
        if !seg.payload.is_empty() {
            if let Some(rel) = mine.unwrap(data_seq) {
                let mut out =
                    Out { h: &mut *h, info, state: &mut *state, side, ts, gaps: 0, gap_bytes: 0, unread: None };
                delta += if held {
                    mine.hold(rel, seg.payload, ts, &room, &mut self.stats, &mut out)
                } else {
                    mine.segment(rel, seg.payload, &room, &mut self.stats, &mut out)
                };
                gaps += out.gaps;
                gap_bytes += out.gap_bytes;
                if let Some(u) = out.unread {
                    mine.unread = u;
                }
            } else {
                self.stats.retransmissions += 1;
            }
        }
        if flags.fin() && mine.fin_at.is_none() {
            if let Some(rel) = mine.unwrap(data_seq) {
                mine.fin_at = Some(rel + seg.payload.len() as u64);
            }
        } else if held && seg.flags.fin() && mine.fin_at.is_none() {
            // Believed once the receiver acknowledges it.
            if let Some(rel) = mine.unwrap(data_seq) {
                delta += mine.hold_fin(rel + seg.payload.len() as u64);
            }
        }
        let both_done = mine.done() && theirs.done();
        // What the flow holds now (nothing, on the in-order path, as before: no further look-up).
        let holds = mine.cost + theirs.cost + h.held(info, state);
        let changed = holds != *holding;
        self.stats.gaps += gaps;
        self.stats.gap_bytes += gap_bytes;
        apply(&mut self.buffered, delta);
        if flags.rst() {
            self.close(i, CloseReason::Rst, ts, h);
        } else if both_done {
            self.close(i, CloseReason::Fin, ts, h);
        } else if changed {
            self.settle_change(i, holds, h, ts, true);
        }
    }

    /// Remove flow `i`: give up on its holes, tell the handler, free the slot and what it held.
    fn close<H: StreamHandler<S>>(&mut self, i: usize, reason: CloseReason, ts: Timestamp, h: &mut H) {
        if self.slot_ref(i).is_none() {
            return;
        }
        self.unlink(LRU, i);
        let old = self.set_holding(i, 0);
        self.mem.credit(old);
        let Some(mut slot) =
            self.chunks.get_mut(i / SLAB_CHUNK).and_then(|c| c.get_mut(i % SLAB_CHUNK)).and_then(Option::take)
        else {
            return;
        };
        self.index.remove(&canonical(slot.info.client, slot.info.server));
        self.free.push(i);
        let Slot { info, state, dirs, .. } = &mut slot;
        let mut delta = 0;
        for (d, side) in dirs.iter_mut().zip([Side::Client, Side::Server]) {
            let mut out = Out { h: &mut *h, info, state: &mut *state, side, ts, gaps: 0, gap_bytes: 0, unread: None };
            delta += d.give_up(&mut self.stats, &mut out);
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
        while let Some(t) = self.lru_tail() {
            let Some(slot) = self.slot_ref(t) else { break };
            if now.micros_since(slot.last_seen) <= self.cfg.idle_timeout_micros {
                break;
            }
            self.close(t, CloseReason::IdleTimeout, now, h);
        }
    }

    /// End of input: flush what can be flushed and close every flow.
    pub fn finish<H: StreamHandler<S>>(&mut self, now: Timestamp, h: &mut H) {
        // Oldest first, so that handlers see flows end in the order they went quiet.
        while let Some(t) = self.lru_tail() {
            self.close(t, CloseReason::EndOfCapture, now, h);
        }
        let slab = self.chunks.len() * SLAB_CHUNK * (size_of::<Option<Slot<S>>>() + size_of::<usize>());
        self.chunks = Vec::new();
        self.free = Vec::new();
        self.mem.credit_table(slab);
        self.syns.clear();
        self.syn_order.clear();
    }
}
