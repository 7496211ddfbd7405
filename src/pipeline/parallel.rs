//! Parallel offline analysis: flows sharded to worker engines by a symmetric hash of their two
//! endpoints (both directions of a connection land on the same worker), over crossbeam channels.
//!
//! The reading thread decodes just enough of each frame to find its flow, copies it into a chunk
//! (one allocation per few hundred frames, chunks are recycled) for its worker, and blocks when a worker
//! is behind: offline, nothing may be dropped. Each worker owns a full [`Engine`]; their alerts come
//! back over a channel to the reading thread, which merges them in one book, so that the same secret
//! sent to one server over flows analysed by different workers is still one leak.
//!
//! IP fragments are put back together here, on the reading thread, before sharding: a later fragment
//! has no ports, so only the whole datagram can be sent to its flow's worker. It goes as a frame of
//! raw-IP link type, decoded there like any packet, so the alerts are those of `--threads 1`.
//!
//! Everything is bounded, whatever the number of threads: the workers share one memory budget (the
//! config's [`crate::memory::Budget`], cloned), `--max-flows` and the alert book's size are split
//! between them, the alert channel holds [`ALERT_QUEUE`] alerts, and the merged book remembers at most
//! as many leaks as one book (past that, leaks are still emitted, counted in `alerts_not_deduped`).
//! A worker blocked on a full alert channel never deadlocks with a reader blocked on that worker's
//! full frame channel: the reader waits on both, and keeps merging alerts while it waits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Select, Sender, bounded};

use super::{Config, Engine, HostStats, StatsSnapshot};
use crate::alert::{Alert, AlertId, AlertSink};
use crate::decode::defrag::Defragmenter;
use crate::decode::{self, Decoded, LinkType};
use crate::detect::LeakKind;
use crate::time::Timestamp;

/// Frame bytes per chunk handed to a worker.
const CHUNK_BYTES: usize = 256 * 1024;
/// Frames per chunk at most (a chunk of small frames is sent before its index outgrows this): with its
/// 32-byte entries, a chunk's index is at most 128 KiB beside its 256 KiB of frames.
const CHUNK_FRAMES: usize = CHUNK_BYTES / 64;
/// Chunks in flight per worker before the reader waits.
const IN_FLIGHT: usize = 8;
/// What the chunks handed to one worker may take at once, fixed whatever the traffic: those queued,
/// the one it is analysing and the one being filled, each with its frames and its index.
pub const MAX_IN_FLIGHT_BYTES: usize = (IN_FLIGHT + 2) * (CHUNK_BYTES + CHUNK_FRAMES * INDEX_ENTRY);
/// One frame's entry in a chunk's index.
const INDEX_ENTRY: usize = std::mem::size_of::<(LinkType, Timestamp, u64, u32, u32)>();
/// Alerts in flight from the workers to the reading thread (a few hundred KiB at most): a capture
/// full of distinct secrets slows the workers down to the merging speed instead of queueing them all.
pub const ALERT_QUEUE: usize = 1024;
/// Distinct leaks the merged book remembers, as one engine's book does by default.
const MAX_MERGED: usize = 100_000;

#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    /// (link type, timestamp, the frame's number in the file, start, length): the number is the reading
    /// thread's, so that alerts name the frame as Wireshark does whichever worker analysed it.
    index: Vec<(LinkType, Timestamp, u64, u32, u32)>,
}

enum Msg {
    Frames(Chunk),
    File(Arc<str>),
    EndOfFile,
}

/// A worker's alert on its way to the merging thread (also used by `live --fanout`'s workers).
pub enum AlertMsg {
    New(usize, Box<Alert>),
    /// A repeat, with the user of that sighting (refused logins remember who was tried).
    Repeat(usize, AlertId, Timestamp, Option<crate::secret::Text>, std::net::SocketAddr),
}

/// The sink of worker `.0`: every alert goes to the merging thread.
pub struct WorkerSink(pub usize, pub Sender<AlertMsg>);
impl AlertSink for WorkerSink {
    fn on_new(&mut self, a: &Alert) {
        let _ = self.1.send(AlertMsg::New(self.0, Box::new(a.clone())));
    }
    fn on_repeat(&mut self, a: &Alert) {
        let _ = self.1.send(AlertMsg::Repeat(self.0, a.id, a.last_seen, a.users.last().cloned(), a.last_client));
    }
}

struct Worker {
    tx: Sender<Msg>,
    free: Receiver<Chunk>,
    cur: Chunk,
    handle: JoinHandle<Engine>,
}

/// The merged book: one alert per [`Alert::key`] across workers, at most `max` of them.
pub struct Merger {
    alerts: Vec<Alert>,
    by_key: HashMap<(LeakKind, SocketAddr, [u8; 32]), usize>,
    by_worker: HashMap<(usize, AlertId), usize>,
    max: usize,
    /// What the merged book holds, reserved off the budget like an engine's book.
    memory: crate::alert::BookMemory,
    /// Workers' alert ids remembered (each worker's book is bounded, so is this).
    max_ids: usize,
    /// New leaks emitted but not remembered (the book was full).
    overflow: u64,
    /// Of those, the material class.
    overflow_material: u64,
    /// Ids given to leaks not remembered.
    next_unremembered: u64,
    /// Repeats of leaks not remembered (their sightings, which no remembered alert counts).
    unremembered_sightings: u64,
}

impl Merger {
    pub fn new(max: usize, workers: usize, memory: crate::alert::BookMemory) -> Merger {
        Merger {
            alerts: Vec::new(),
            by_key: HashMap::new(),
            by_worker: HashMap::new(),
            max,
            memory,
            max_ids: max.saturating_mul(workers.max(1)),
            overflow: 0,
            overflow_material: 0,
            next_unremembered: max as u64 + 1,
            unremembered_sightings: 0,
        }
    }

    pub fn apply(&mut self, m: AlertMsg, sink: &mut dyn AlertSink) {
        match m {
            AlertMsg::New(w, a) => {
                let key = a.key();
                if let Some(&i) = self.by_key.get(&key) {
                    if self.by_worker.len() < self.max_ids {
                        self.by_worker.insert((w, a.id), i);
                    }
                    let g = &mut self.alerts[i];
                    g.count += 1;
                    // Users in the order they were tried, whichever worker reported first.
                    if a.first_seen < g.first_seen {
                        let later = std::mem::take(&mut g.users);
                        for u in a.users.iter().chain(&later) {
                            self.memory.add_user(g, Some(u));
                        }
                    } else {
                        for u in &a.users {
                            self.memory.add_user(g, Some(u));
                        }
                    }
                    g.earlier_sighting(&a);
                    g.last_seen = g.last_seen.max(a.last_seen);
                    g.last_client = a.last_client;
                    sink.on_repeat(g);
                    return;
                }
                let mut a = *a;
                if self.alerts.len() >= self.max || !self.memory.admit(&a) {
                    // Still reported, never hidden; its repeats are not folded into it.
                    self.overflow += 1;
                    self.overflow_material += u64::from(a.class.is_material());
                    a.id = AlertId(self.next_unremembered);
                    self.next_unremembered += 1;
                    sink.on_new(&a);
                    return;
                }
                let i = self.alerts.len();
                if self.by_worker.len() < self.max_ids {
                    self.by_worker.insert((w, a.id), i);
                }
                a.id = AlertId(i as u64 + 1);
                self.by_key.insert(key, i);
                sink.on_new(&a);
                self.alerts.push(a);
            }
            AlertMsg::Repeat(w, id, ts, user, client) => {
                if let Some(&i) = self.by_worker.get(&(w, id)) {
                    if let Some(g) = self.alerts.get_mut(i) {
                        g.count += 1;
                        g.last_client = client;
                        self.memory.add_user(g, user.as_ref());
                        g.last_seen = g.last_seen.max(ts);
                        sink.on_repeat(g);
                        return;
                    }
                }
                // A repeat of a leak the merged book did not remember: still a sighting.
                self.unremembered_sightings += 1;
            }
        }
    }
}

/// The merged book of a run with `cfg` on `n` workers: as many leaks as one engine's book, in as much
/// memory again, reserved off the budget.
pub fn merger(cfg: &Config, n: usize) -> Merger {
    let ask = cfg.book_memory.unwrap_or_else(|| super::book_memory(&cfg.budget));
    Merger::new(merged_max(cfg), n, crate::alert::BookMemory::reserved(cfg.budget.reserve(ask)))
}

/// Distinct leaks the merged book of a run with `cfg` remembers.
pub fn merged_max(cfg: &Config) -> usize {
    cfg.max_alerts.unwrap_or(MAX_MERGED)
}

/// The configuration of each of `n` workers sharing the caps of `cfg`: flows are spread evenly by the
/// hash, so each worker gets its part of the flow and alert caps (the memory budget is shared as it is).
pub fn worker_config(cfg: &Config, n: usize) -> Config {
    let n = n.max(1);
    let mut wcfg = cfg.clone();
    wcfg.reassembly.max_flows = (cfg.reassembly.max_flows / n).max(1);
    wcfg.max_alerts = Some((merged_max(cfg) / n).max(1));
    wcfg.book_memory = Some(cfg.book_memory.unwrap_or_else(|| super::book_memory(&cfg.budget)) / n);
    // Workers run at their own pace: a client's TLS connection may be analysed after its later
    // plain visit, which the HSTS rule must then remember.
    if n > 1 {
        wcfg.fixes.keep_plain_visits();
    }
    wcfg
}

/// The counters and hosts views of several workers as one: counters added, one host row per service.
pub fn merge_views(
    views: impl IntoIterator<Item = (StatsSnapshot, Vec<HostStats>)>,
) -> (StatsSnapshot, Vec<HostStats>) {
    let mut stats = StatsSnapshot::default();
    let mut hosts: HashMap<String, HostStats> = HashMap::new();
    for (s, hs) in views {
        stats.merge(&s);
        for h in hs {
            // One row per service: a web site by name, another service by address and protocol.
            let key = if h.service == "http" {
                h.name.clone()
            } else {
                format!("{}/{}", h.addr.map(|a| a.to_string()).unwrap_or_default(), h.service)
            };
            let m = hosts.entry(key).or_insert_with(|| HostStats {
                name: h.name.clone(),
                service: h.service.clone(),
                addr: h.addr,
                ..HostStats::default()
            });
            m.http_requests += h.http_requests;
            m.credentials += h.credentials;
            m.https_redirects += h.https_redirects;
            m.tls_flows += h.tls_flows;
        }
    }
    let mut hosts: Vec<HostStats> = hosts.into_values().collect();
    hosts.sort_by(|a, b| b.credentials.cmp(&a.credentials).then_with(|| a.name.cmp(&b.name)));
    (stats, hosts)
}

impl Merger {
    /// The leaks remembered, in the order they were first reported.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }
    pub fn into_alerts(self) -> Vec<Alert> {
        self.alerts
    }
    /// The merged book decides what was a leak and what was deduped (a worker's overflow may have
    /// been folded here): its counts replace the workers' in `stats`.
    pub fn count_into(&self, stats: &mut StatsSnapshot) {
        stats.leaks = self.alerts.len() as u64 + self.overflow;
        stats.material = self.alerts.iter().filter(|a| a.class.is_material()).count() as u64 + self.overflow_material;
        stats.alerts_not_deduped = self.overflow;
        stats.alert_users_not_kept = self.memory.users_not_kept;
        // Every sighting: those folded into remembered leaks, the leaks not remembered, their repeats.
        stats.sightings =
            self.alerts.iter().map(|a| a.count).sum::<u64>() + self.overflow + self.unremembered_sightings;
    }
}

/// Sharded analysis of a packet stream on `n` worker threads.
pub struct Sharded {
    workers: Vec<Worker>,
    alerts: Receiver<AlertMsg>,
    merger: Merger,
    defrag: Defragmenter,
    /// Fragments consumed here (and their bytes), and the datagrams sent on in their place (and
    /// theirs): the workers count the datagrams as packets, `--stats` counts the frames read.
    fragments: (u64, u64),
    reassembled: (u64, u64),
    /// Alerts taken from the channel where no sink was at hand (a file's start), merged next.
    later: Vec<AlertMsg>,
    /// The key of [`shard`].
    keys: ahash::RandomState,
    /// The number of the last frame handed in.
    packet: u64,
}

/// Which worker a frame's flow belongs to (both directions alike). Frames that are not TCP go to 0.
///
/// Keyed (a random key per run), as the flow table's index is: the endpoints are chosen by whoever
/// sends the packets, and an unkeyed hash lets them put every flow of a flood on one worker. (FNV-1a
/// taken modulo 2 was the parity of the address and port bytes' low bits: a flood of consecutive
/// addresses and ports all landed on one worker.)
fn shard(keys: &ahash::RandomState, decoded: &Result<Decoded<'_>, decode::DecodeError>, n: usize) -> usize {
    let Ok(Decoded::Tcp(seg)) = decoded else { return 0 };
    let pair = if seg.src <= seg.dst { (seg.src, seg.dst) } else { (seg.dst, seg.src) };
    (keys.hash_one(pair) % n as u64) as usize
}

impl Sharded {
    pub fn new(cfg: &Config, n: usize) -> std::io::Result<Sharded> {
        let n = n.max(1);
        let (atx, arx) = bounded(ALERT_QUEUE);
        // Flows are spread evenly by the hash: each worker gets its part of the flow and alert caps
        // (the memory budget is shared as it is).
        let wcfg = worker_config(cfg, n);
        let mut workers = Vec::with_capacity(n);
        for w in 0..n {
            let (tx, rx) = bounded::<Msg>(IN_FLIGHT);
            let (free_tx, free_rx) = bounded::<Chunk>(IN_FLIGHT + 1);
            let mut engine = Engine::new(wcfg.clone());
            let atx = atx.clone();
            let handle = std::thread::Builder::new().name(format!("analysis-{w}")).spawn(move || {
                let mut sink = WorkerSink(w, atx);
                for msg in rx {
                    match msg {
                        Msg::Frames(mut c) => {
                            for &(link, ts, packet, s, l) in &c.index {
                                if let Some(f) = c.data.get(s as usize..(s + l) as usize) {
                                    engine.process_numbered(link, ts, packet, f, &mut sink);
                                }
                            }
                            c.data.clear();
                            c.index.clear();
                            let _ = free_tx.try_send(c);
                        }
                        Msg::File(name) => engine.set_capture_name(&name),
                        Msg::EndOfFile => engine.finish(&mut sink),
                    }
                }
                engine
            })?;
            workers.push(Worker { tx, free: free_rx, cur: Chunk::default(), handle });
        }
        Ok(Sharded {
            workers,
            alerts: arx,
            merger: merger(cfg, n),
            defrag: Defragmenter::new(),
            fragments: (0, 0),
            reassembled: (0, 0),
            later: Vec::new(),
            keys: ahash::RandomState::new(),
            packet: 0,
        })
    }

    /// Hand `msg` to worker `w`, taking alerts while it is busy (it may be waiting for room in the
    /// alert channel to finish the chunk that keeps its own channel full): merged into `sink`, or, with
    /// no sink at hand, kept for the next merge.
    fn deliver(&mut self, w: usize, msg: Msg, mut sink: Option<&mut dyn AlertSink>) {
        let Sharded { workers, alerts, merger, later, .. } = self;
        let tx = &workers[w].tx;
        let mut msg = Some(msg);
        while let Some(m) = msg.take() {
            let mut sel = Select::new();
            let s = sel.send(tx);
            let r = sel.recv(alerts);
            let op = sel.select();
            if op.index() == s {
                // A worker that is gone (it panicked) loses the chunk; the run reports what it has.
                let _ = op.send(tx, m);
            } else if op.index() == r {
                match op.recv(alerts) {
                    Ok(a) => match sink.as_deref_mut() {
                        Some(sink) => merger.apply(a, sink),
                        None => later.push(a),
                    },
                    // Every worker is gone: nobody will take it.
                    Err(_) => return,
                }
                msg = Some(m);
            }
        }
    }

    fn send(&mut self, w: usize, sink: &mut dyn AlertSink) {
        let worker = &mut self.workers[w];
        if worker.cur.index.is_empty() {
            return;
        }
        let next = worker.free.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut worker.cur, next);
        self.deliver(w, Msg::Frames(full), Some(sink));
    }

    fn drain(&mut self, sink: &mut dyn AlertSink) {
        for m in std::mem::take(&mut self.later) {
            self.merger.apply(m, sink);
        }
        while let Ok(m) = self.alerts.try_recv() {
            self.merger.apply(m, sink);
        }
    }

    /// Start of a capture file (alerts name it).
    pub fn set_capture_name(&mut self, name: &str) {
        let name: Arc<str> = Arc::from(name);
        for w in 0..self.workers.len() {
            // No sink here: alerts taken while waiting are merged at the next chance.
            self.deliver(w, Msg::File(name.clone()), None);
        }
    }

    /// Hand one frame to its flow's worker, numbered after the previous one.
    pub fn process(&mut self, link: LinkType, ts: Timestamp, frame: &[u8], sink: &mut dyn AlertSink) {
        self.packet += 1;
        self.process_numbered(link, ts, self.packet, frame, sink);
    }

    /// Hand one frame, `packet` its number in its file, to its flow's worker.
    pub fn process_numbered(
        &mut self,
        link: LinkType,
        ts: Timestamp,
        packet: u64,
        frame: &[u8],
        sink: &mut dyn AlertSink,
    ) {
        self.packet = packet;
        let decoded = decode::decode(link, frame);
        if let Ok(Decoded::Fragment(f)) = decoded {
            self.fragments.0 += 1;
            self.fragments.1 += frame.len() as u64;
            if let Some(whole) = self.defrag.push(&f, ts) {
                self.reassembled.0 += 1;
                self.reassembled.1 += whole.len() as u64;
                let decoded = decode::decode(LinkType::RAW, &whole);
                let w = shard(&self.keys, &decoded, self.workers.len());
                self.forward(w, LinkType::RAW, ts, packet, &whole, sink);
            }
            return;
        }
        self.forward(shard(&self.keys, &decoded, self.workers.len()), link, ts, packet, frame, sink);
    }

    /// Copy one frame into worker `w`'s chunk.
    fn forward(
        &mut self,
        w: usize,
        link: LinkType,
        ts: Timestamp,
        packet: u64,
        frame: &[u8],
        sink: &mut dyn AlertSink,
    ) {
        let c = &mut self.workers[w].cur;
        if !c.index.is_empty() && c.data.len() + frame.len() > c.data.capacity() {
            // Send rather than grow: a chunk's buffer stays the size it was made (`Vec` would double
            // it, and every chunk in flight with it).
            self.send(w, sink);
            self.drain(sink);
        }
        let c = &mut self.workers[w].cur;
        if c.data.capacity() == 0 {
            c.data.reserve_exact(CHUNK_BYTES);
            c.index.reserve_exact(CHUNK_FRAMES);
        }
        let start = c.data.len() as u32;
        c.data.extend_from_slice(frame);
        c.index.push((link, ts, packet, start, frame.len() as u32));
        if c.data.len() >= CHUNK_BYTES || c.index.len() >= CHUNK_FRAMES {
            self.send(w, sink);
            self.drain(sink);
        }
    }

    /// End of a file: every worker closes its flows.
    pub fn end_of_file(&mut self, sink: &mut dyn AlertSink) {
        for w in 0..self.workers.len() {
            self.send(w, &mut *sink);
            self.deliver(w, Msg::EndOfFile, Some(&mut *sink));
        }
        self.drain(sink);
    }

    /// Stop the workers; return the merged alerts, counters and hosts.
    pub fn finish(mut self, sink: &mut dyn AlertSink) -> (Vec<Alert>, StatsSnapshot, Vec<HostStats>, Vec<String>) {
        self.end_of_file(sink);
        let mut handles = Vec::new();
        for w in std::mem::take(&mut self.workers) {
            drop(w.tx);
            handles.push(w.handle);
        }
        // Until every worker has finished (and dropped its end of the channel): a worker flushing its
        // flows may still be waiting for room in the alert channel.
        self.drain(sink);
        for m in self.alerts.iter() {
            self.merger.apply(m, sink);
        }
        let mut engines = Vec::new();
        for h in handles {
            if let Ok(e) = h.join() {
                engines.push(e);
            }
        }
        let mut warnings = Vec::new();
        let mut views = Vec::new();
        for mut e in engines {
            views.push((e.stats(), e.hosts().sorted()));
            for w in e.take_warnings() {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
        let (mut stats, hosts) = merge_views(views);
        // Fragments never reached a worker; their datagrams did, counted as packets there.
        stats.engine.ip_fragments += self.fragments.0;
        stats.engine.packets = (stats.engine.packets + self.fragments.0).saturating_sub(self.reassembled.0);
        stats.engine.bytes = (stats.engine.bytes + self.fragments.1).saturating_sub(self.reassembled.1);
        stats.defrag.merge(&self.defrag.stats());
        self.merger.count_into(&mut stats);
        (self.merger.alerts, stats, hosts, warnings)
    }
}

impl super::offline::Analyzer for Sharded {
    fn start_file(&mut self, name: &str) {
        self.set_capture_name(name);
    }
    fn frame(&mut self, link: LinkType, ts: Timestamp, packet: u64, frame: &[u8], sink: &mut dyn AlertSink) {
        self.process_numbered(link, ts, packet, frame, sink);
    }
    fn end_file(&mut self, sink: &mut dyn AlertSink) {
        self.end_of_file(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what reaches the sink (cloning every alert, as `Collector` does, would be slow here).
    #[derive(Default)]
    struct Count {
        new: usize,
        repeats: usize,
    }
    impl AlertSink for Count {
        fn on_new(&mut self, _a: &Alert) {
            self.new += 1;
        }
        fn on_repeat(&mut self, _a: &Alert) {
            self.repeats += 1;
        }
    }

    /// `n` connections, each sending one request with its own Bearer JWT; every token is sent twice
    /// (on two connections) so that merging has repeats to fold.
    fn distinct_tokens(n: u32) -> Vec<plainsight_synth::Frame> {
        let mut frames = Vec::new();
        for i in 0..n {
            let client = std::net::SocketAddr::from(([10, 3, (i >> 8) as u8, i as u8], 30000 + (i % 20000) as u16));
            let token = plainsight_synth::jwt(&format!(r#"{{"sub":"user{}","iat":1795000000}}"#, i / 2));
            let req = format!("GET /api HTTP/1.1\r\nHost: api.lab\r\nAuthorization: Bearer {token}\r\n\r\n");
            let mut c = plainsight_synth::Conversation::new(client, "10.3.255.1:80".parse().expect("addr"));
            c.handshake().client(req.as_bytes()).server(b"HTTP/1.1 204 No Content\r\n\r\n").close();
            frames.extend(c.take());
        }
        frames
    }

    #[test]
    fn many_distinct_alerts_over_a_bounded_channel_never_deadlock_and_the_merged_book_is_bounded() {
        let cfg = Config { max_alerts: Some(300), ..Config::default() };
        let mut sharded = Sharded::new(&cfg, 2).expect("threads");
        let mut sink = Count::default();
        let frames = distinct_tokens(6000);
        for f in &frames {
            sharded.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut sink);
        }
        let (alerts, stats, _, _) = sharded.finish(&mut sink);
        // 3,000 distinct tokens, far more than the channel holds: every one reported, at most 300 kept.
        assert_eq!(alerts.len(), 300);
        // Past the books' caps a leak is emitted each time it is seen, not deduped.
        assert!(stats.leaks >= 3000, "{}", stats.leaks);
        assert_eq!(stats.alerts_not_deduped, stats.leaks - 300);
        assert_eq!(sink.new as u64, stats.leaks);
        // The tokens remembered had their second sighting folded in.
        assert!(alerts.iter().all(|a| a.count == 2));
        // Every sighting is counted, those of leaks not remembered too: 3,000 tokens seen twice.
        assert_eq!(stats.sightings, 6000);
    }

    #[test]
    fn workers_share_the_flow_cap_and_the_memory_budget() {
        let cfg = Config {
            reassembly: crate::reassembly::Config { max_flows: 1000, ..Default::default() },
            budget: crate::memory::Budget::new(64 << 20),
            ..Config::default()
        };
        let sharded = Sharded::new(&cfg, 4).expect("threads");
        // The four books and the merged one are reserved off the top (a tenth of the budget for the
        // workers together, as much again for the merged book); the flows share the rest evenly.
        let books = super::super::book_memory(&cfg.budget);
        assert_eq!(cfg.budget.reserved(), books / 4 * 4 + books);
        assert_eq!(cfg.budget.share(), ((64 << 20) - cfg.budget.reserved()) / 4);
        let (_, stats, _, _) = sharded.finish(&mut Count::default());
        assert_eq!(stats.memcap, 64 << 20);
    }
}
