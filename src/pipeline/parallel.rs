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

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

use super::{Config, Engine, HostStats, StatsSnapshot};
use crate::alert::{Alert, AlertId, AlertSink};
use crate::decode::defrag::Defragmenter;
use crate::decode::{self, Decoded, LinkType};
use crate::detect::LeakKind;
use crate::time::Timestamp;

/// Frame bytes per chunk handed to a worker.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks in flight per worker before the reader waits.
const IN_FLIGHT: usize = 8;

#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    index: Vec<(LinkType, Timestamp, u32, u32)>,
}

enum Msg {
    Frames(Chunk),
    File(Arc<str>),
    EndOfFile,
}

enum AlertMsg {
    New(usize, Box<Alert>),
    /// A repeat, with the user of that sighting (refused logins remember who was tried).
    Repeat(usize, AlertId, Timestamp, Option<crate::secret::Text>),
}

struct WorkerSink(usize, Sender<AlertMsg>);
impl AlertSink for WorkerSink {
    fn on_new(&mut self, a: &Alert) {
        let _ = self.1.send(AlertMsg::New(self.0, Box::new(a.clone())));
    }
    fn on_repeat(&mut self, a: &Alert) {
        let _ = self.1.send(AlertMsg::Repeat(self.0, a.id, a.last_seen, a.users.last().cloned()));
    }
}

struct Worker {
    tx: Sender<Msg>,
    free: Receiver<Chunk>,
    cur: Chunk,
    handle: JoinHandle<Engine>,
}

/// The merged book: one alert per [`Alert::key`] across workers.
#[derive(Default)]
struct Merger {
    alerts: Vec<Alert>,
    by_key: HashMap<(LeakKind, SocketAddr, [u8; 32]), usize>,
    by_worker: HashMap<(usize, AlertId), usize>,
}

impl Merger {
    fn apply(&mut self, m: AlertMsg, sink: &mut dyn AlertSink) {
        match m {
            AlertMsg::New(w, a) => {
                let key = a.key();
                if let Some(&i) = self.by_key.get(&key) {
                    self.by_worker.insert((w, a.id), i);
                    let g = &mut self.alerts[i];
                    g.count += 1;
                    for u in &a.users {
                        g.add_user(Some(u));
                    }
                    g.earlier_sighting(&a);
                    g.last_seen = g.last_seen.max(a.last_seen);
                    sink.on_repeat(g);
                    return;
                }
                let mut a = *a;
                let i = self.alerts.len();
                self.by_worker.insert((w, a.id), i);
                a.id = AlertId(i as u64 + 1);
                self.by_key.insert(key, i);
                sink.on_new(&a);
                self.alerts.push(a);
            }
            AlertMsg::Repeat(w, id, ts, user) => {
                if let Some(&i) = self.by_worker.get(&(w, id)) {
                    if let Some(g) = self.alerts.get_mut(i) {
                        g.count += 1;
                        g.add_user(user.as_ref());
                        g.last_seen = g.last_seen.max(ts);
                        sink.on_repeat(g);
                    }
                }
            }
        }
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
}

/// Which worker a frame's flow belongs to (both directions alike). Frames that are not TCP go to 0.
fn shard(decoded: &Result<Decoded<'_>, decode::DecodeError>, n: usize) -> usize {
    let Ok(Decoded::Tcp(seg)) = decoded else { return 0 };
    let (a, b) = if seg.src <= seg.dst { (seg.src, seg.dst) } else { (seg.dst, seg.src) };
    // FNV-1a over both endpoints: cheap, deterministic; correctness does not depend on balance.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &x in bytes {
            h ^= x as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    };
    for s in [a, b] {
        match s.ip() {
            std::net::IpAddr::V4(ip) => eat(&ip.octets()),
            std::net::IpAddr::V6(ip) => eat(&ip.octets()),
        }
        eat(&s.port().to_be_bytes());
    }
    (h % n as u64) as usize
}

impl Sharded {
    pub fn new(cfg: &Config, n: usize) -> std::io::Result<Sharded> {
        let n = n.max(1);
        let (atx, arx) = unbounded();
        let mut workers = Vec::with_capacity(n);
        for w in 0..n {
            let (tx, rx) = bounded::<Msg>(IN_FLIGHT);
            let (free_tx, free_rx) = bounded::<Chunk>(IN_FLIGHT + 1);
            let mut engine = Engine::new(cfg.clone());
            let atx = atx.clone();
            let handle = std::thread::Builder::new().name(format!("analysis-{w}")).spawn(move || {
                let mut sink = WorkerSink(w, atx);
                for msg in rx {
                    match msg {
                        Msg::Frames(mut c) => {
                            for &(link, ts, s, l) in &c.index {
                                if let Some(f) = c.data.get(s as usize..(s + l) as usize) {
                                    engine.process(link, ts, f, &mut sink);
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
            merger: Merger::default(),
            defrag: Defragmenter::new(),
            fragments: (0, 0),
            reassembled: (0, 0),
        })
    }

    fn send(&mut self, w: usize) {
        let worker = &mut self.workers[w];
        if worker.cur.index.is_empty() {
            return;
        }
        let next = worker.free.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut worker.cur, next);
        let _ = worker.tx.send(Msg::Frames(full));
    }

    fn drain(&mut self, sink: &mut dyn AlertSink) {
        while let Ok(m) = self.alerts.try_recv() {
            self.merger.apply(m, sink);
        }
    }

    /// Start of a capture file (alerts name it).
    pub fn set_capture_name(&mut self, name: &str) {
        let name: Arc<str> = Arc::from(name);
        for w in &self.workers {
            let _ = w.tx.send(Msg::File(name.clone()));
        }
    }

    /// Hand one frame to its flow's worker.
    pub fn process(&mut self, link: LinkType, ts: Timestamp, frame: &[u8], sink: &mut dyn AlertSink) {
        let decoded = decode::decode(link, frame);
        if let Ok(Decoded::Fragment(f)) = decoded {
            self.fragments.0 += 1;
            self.fragments.1 += frame.len() as u64;
            if let Some(whole) = self.defrag.push(&f, ts) {
                self.reassembled.0 += 1;
                self.reassembled.1 += whole.len() as u64;
                let decoded = decode::decode(LinkType::RAW, &whole);
                self.forward(shard(&decoded, self.workers.len()), LinkType::RAW, ts, &whole, sink);
            }
            return;
        }
        self.forward(shard(&decoded, self.workers.len()), link, ts, frame, sink);
    }

    /// Copy one frame into worker `w`'s chunk.
    fn forward(&mut self, w: usize, link: LinkType, ts: Timestamp, frame: &[u8], sink: &mut dyn AlertSink) {
        let c = &mut self.workers[w].cur;
        let start = c.data.len() as u32;
        c.data.extend_from_slice(frame);
        c.index.push((link, ts, start, frame.len() as u32));
        if c.data.len() >= CHUNK_BYTES {
            self.send(w);
            self.drain(sink);
        }
    }

    /// End of a file: every worker closes its flows.
    pub fn end_of_file(&mut self, sink: &mut dyn AlertSink) {
        for w in 0..self.workers.len() {
            self.send(w);
            let _ = self.workers[w].tx.send(Msg::EndOfFile);
        }
        self.drain(sink);
    }

    /// Stop the workers; return the merged alerts, counters and hosts.
    pub fn finish(mut self, sink: &mut dyn AlertSink) -> (Vec<Alert>, StatsSnapshot, Vec<HostStats>, Vec<String>) {
        self.end_of_file(sink);
        let mut engines = Vec::new();
        for w in self.workers {
            drop(w.tx);
            if let Ok(e) = w.handle.join() {
                engines.push(e);
            }
        }
        while let Ok(m) = self.alerts.try_recv() {
            self.merger.apply(m, sink);
        }
        let mut stats = StatsSnapshot::default();
        let mut hosts: HashMap<String, HostStats> = HashMap::new();
        let mut warnings = Vec::new();
        for mut e in engines {
            stats.merge(&e.stats());
            for h in e.hosts().sorted() {
                let m = hosts.entry(h.name.clone()).or_insert_with(|| HostStats {
                    name: h.name.clone(),
                    addr: h.addr,
                    ..HostStats::default()
                });
                m.http_requests += h.http_requests;
                m.credentials += h.credentials;
                m.https_redirects += h.https_redirects;
                m.tls_flows += h.tls_flows;
            }
            for w in e.take_warnings() {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
        // Fragments never reached a worker; their datagrams did, counted as packets there.
        stats.engine.ip_fragments += self.fragments.0;
        stats.engine.packets = (stats.engine.packets + self.fragments.0).saturating_sub(self.reassembled.0);
        stats.engine.bytes = (stats.engine.bytes + self.fragments.1).saturating_sub(self.reassembled.1);
        stats.defrag.merge(&self.defrag.stats());
        stats.leaks = self.merger.alerts.len() as u64;
        stats.sightings = self.merger.alerts.iter().map(|a| a.count).sum();
        let mut hosts: Vec<HostStats> = hosts.into_values().collect();
        hosts.sort_by(|a, b| b.credentials.cmp(&a.credentials).then_with(|| a.name.cmp(&b.name)));
        (self.merger.alerts, stats, hosts, warnings)
    }
}

impl super::offline::Analyzer for Sharded {
    fn start_file(&mut self, name: &str) {
        self.set_capture_name(name);
    }
    fn frame(&mut self, link: LinkType, ts: Timestamp, frame: &[u8], sink: &mut dyn AlertSink) {
        self.process(link, ts, frame, sink);
    }
    fn end_file(&mut self, sink: &mut dyn AlertSink) {
        self.end_of_file(sink);
    }
}
