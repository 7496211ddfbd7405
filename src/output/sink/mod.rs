//! `--sink URL`: alerts delivered into an engine another team already runs (Redis), nothing lost.
//!
//! The pipeline's side is [`Sinks`], an [`AlertSink`]: it renders each alert once into a line (one
//! JSON object, through an [`Encoder`] chosen by the CLI) and hands it to each sink's bounded queue.
//! Each sink has a delivery thread of its own that owns the connection and the backlog:
//!
//! ```text
//!  analysis ──line──> queue (QUEUE_EVENTS) ──> delivery thread ──batch──> engine (Redis)
//!                                                  │   ▲
//!                                     engine away  ▼   │ replayed, oldest first
//!                                             backlog: --spool DIR (disk) or memory
//! ```
//!
//! Order is kept by one rule: while the backlog holds anything, new events go behind it, and the
//! backlog is replayed from its head before anything newer is sent. Delivery is at least once: a
//! batch whose acknowledgement was lost is sent again (each event carries its id so that a consumer
//! can drop the duplicate). The thread reconnects with a backoff ([`MIN_BACKOFF`] doubling to
//! [`MAX_BACKOFF`]) and keeps draining the queue into the backlog meanwhile, so the analysis thread
//! waits only when the queue is full (counted: `queue waits`); the capture thread never waits on it.
//!
//! At the end ([`Sinks::finish`]) each thread delivers what is left for at most `--sink-timeout`, then
//! writes what is still queued to the spool and says how many events stay there.

pub mod redis;
pub mod spool;
pub mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};
use sha2::Digest;

use crate::alert::{Alert, AlertSink, Reveal};
use spool::{Backlog, DiskSpool, MEMORY_BACKLOG_BYTES, MemoryBacklog};
use target::SinkUrl;

/// Events between the analysis thread and one sink's delivery thread. The delivery thread empties it
/// into the backlog whenever the engine is away, so it fills only while a connection attempt or a
/// batch is under way (at most [`redis`]'s timeouts): a few seconds of a busy sensor's alerts.
pub const QUEUE_EVENTS: usize = 4096;
/// Bytes of events (their allocations included) one sink's queue and its delivery thread's batch may
/// hold, reserved off `--memcap` when the sink starts. Past it the analysis thread waits, as for a full
/// queue (`queue waits`); an event larger than the whole of it still goes through an empty queue.
pub const QUEUE_BYTES: usize = 1 << 20;
/// What a sink asks off the budget for its queue: [`QUEUE_BYTES`], at most a 32nd of the budget, so that
/// a small `--memcap` still leaves the book of leaks its part (a run that cannot dedup would send every
/// sighting as a new event).
fn queue_ask(b: &crate::memory::Budget) -> usize {
    QUEUE_BYTES.min(b.limit() / 32)
}

/// What a sink asks off the budget for its memory backlog: at most a 16th of the budget (8 MiB of the
/// default 128 MiB), for the same reason.
fn backlog_ask(b: Option<&crate::memory::Budget>) -> u64 {
    b.map_or(u64::MAX, |b| (b.limit() / 16) as u64)
}

/// Events per round trip to the engine (and per replayed batch).
pub const BATCH_EVENTS: usize = 256;
pub const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two connection attempts: a server back after an outage is found this
/// late at worst (well within the default `--sink-timeout`).
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// `--spool-max`'s default.
pub const DEFAULT_SPOOL_MAX: u64 = 256 << 20;
/// How often an idle delivery thread looks again (a server back, the end).
const TICK: Duration = Duration::from_millis(50);

/// Turns an alert into the line a sink carries (one JSON object, no newline). `update` is true for a
/// later state of a leak already sent (same event id).
pub type Encoder = Box<dyn FnMut(&Alert, bool) -> String + Send>;

/// The native alert line, exactly as in `--alerts` (docs/alerts.md), through the terminal-safe JSON
/// escaping of [`crate::output::term`]. Its `id` is the event id consumers drop duplicates by.
pub fn native_encoder(reveal: Reveal) -> Encoder {
    Box::new(move |alert: &Alert, _update: bool| {
        let mut buf = Vec::with_capacity(1024);
        if crate::output::term::to_json_line(&mut buf, &alert.record(reveal)).is_err() {
            return String::new();
        }
        buf.pop();
        String::from_utf8(buf).unwrap_or_default()
    })
}

/// How one sink delivers; the Redis one is [`redis::RedisTransport`], tests use their own.
pub trait Transport: Send {
    fn connected(&self) -> bool;
    fn connect(&mut self) -> Result<(), String>;
    fn disconnect(&mut self);
    /// Deliver `lines` in order: Ok when the engine acknowledged all of them.
    fn send(&mut self, lines: &[String]) -> Result<(), String>;
}

/// One sink's counters, shared by its delivery thread and `--stats`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Events handed to the sink by the analysis.
    pub queued: AtomicU64,
    /// Events the engine acknowledged (replayed ones included).
    pub delivered: AtomicU64,
    /// Events written to the backlog because the engine was away.
    pub spooled: AtomicU64,
    /// Events delivered from the backlog (this run's or an earlier run's).
    pub replayed: AtomicU64,
    /// Events dropped because the backlog was full (`--spool-max`, or the memory backlog's bound).
    pub dropped_spool_full: AtomicU64,
    /// Events dropped because the spool could not be written (disk error).
    pub dropped_spool_error: AtomicU64,
    /// Times the analysis thread waited for room in the queue.
    pub queue_waits: AtomicU64,
    /// Connections made (the first one included).
    pub connects: AtomicU64,
    /// Connection attempts and batches that failed.
    pub failures: AtomicU64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// `--spool`, `--spool-max`, `--sink-timeout`, and the memory budget (`--memcap`) the queues and the
/// memory backlogs are reserved from (None: bounded by their own caps alone, as in tests).
#[derive(Debug, Clone)]
pub struct SinkOptions {
    pub spool: Option<PathBuf>,
    pub spool_max: u64,
    pub timeout: Duration,
    pub budget: Option<crate::memory::Budget>,
}

/// Why the sinks did not start (a usage error, said before anything runs).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("--sink {url}: {why}")]
    Client { url: String, why: String },
    #[error("--spool: {0}")]
    Spool(#[from] spool::SpoolError),
    #[error("cannot start a sink thread: {0}")]
    Thread(std::io::Error),
}

/// Where the delivery threads say what happens to them (an engine away, back again); the CLI prints
/// it on standard error, or nowhere under the terminal UI.
pub type Notify = Arc<dyn Fn(&str) + Send + Sync>;

/// What a sink did, at the end.
#[derive(Debug, Clone)]
pub struct SinkReport {
    pub name: String,
    pub queued: u64,
    pub delivered: u64,
    pub spooled: u64,
    pub replayed: u64,
    pub dropped_spool_full: u64,
    pub dropped_spool_error: u64,
    pub queue_waits: u64,
    pub connects: u64,
    pub failures: u64,
    /// Events not delivered when the run ended: in the spool (kept for the next run) or, without
    /// `--spool`, lost.
    pub left: u64,
    pub spool: Option<PathBuf>,
    pub damaged: u64,
    pub last_error: Option<String>,
}

impl SinkReport {
    /// The `--stats` block of this sink.
    pub fn render_stats(&self) -> String {
        let mut s = format!(
            "sink {}: {} queued, {} delivered ({} replayed), {} spooled, {} dropped (spool full), {} dropped (spool error), {} left, {} queue waits, {} connects, {} failures\n",
            self.name,
            self.queued,
            self.delivered,
            self.replayed,
            self.spooled,
            self.dropped_spool_full,
            self.dropped_spool_error,
            self.left,
            self.queue_waits,
            self.connects,
            self.failures
        );
        if self.damaged > 0 {
            s.push_str(&format!("sink {}: {} damaged spool lines skipped\n", self.name, self.damaged));
        }
        s
    }

    /// What the end of a run says on standard error about events not delivered (None: all were).
    pub fn leftover_line(&self) -> Option<String> {
        let why = self.last_error.as_deref().map(|e| format!(" (last error: {e})")).unwrap_or_default();
        let lost = self.dropped_spool_full + self.dropped_spool_error;
        let mut parts = Vec::new();
        if self.left > 0 {
            match &self.spool {
                Some(dir) => parts.push(format!(
                    "{} events stay spooled in {} (delivered by the next run with the same --spool)",
                    self.left,
                    dir.display()
                )),
                None => parts.push(format!("{} events not delivered and lost (no --spool)", self.left)),
            }
        }
        if lost > 0 {
            parts.push(format!("{lost} events dropped (spool full or unwritable)"));
        }
        (!parts.is_empty()).then(|| format!("sink {}: {}{why}", self.name, parts.join("; ")))
    }
}

/// Every `--sink` of a run: the [`AlertSink`] the pipeline pushes into, and the delivery threads.
pub struct Sinks {
    encoder: Encoder,
    outs: Vec<Out>,
    /// Live runs: which repeated sightings are worth an update event ([`super::event::Throttle`]).
    updates: Option<super::event::Throttle>,
    due: Vec<Alert>,
}

struct Out {
    name: String,
    tx: Option<Sender<String>>,
    thread: Option<JoinHandle<Ending>>,
    counters: Arc<Counters>,
    queue: Arc<QueueBytes>,
    /// The memory the queue and the memory backlog hold, reserved off the budget for the run.
    _reserved: Vec<crate::memory::Reservation>,
}

/// Bytes of events between the analysis thread and a delivery thread (queued, or in its batch), and
/// how many they may be.
struct QueueBytes {
    held: std::sync::atomic::AtomicUsize,
    max: usize,
}

impl QueueBytes {
    /// Room for `n` more bytes now: below the bound, or an empty queue (so that any event can go).
    fn room(&self, n: usize) -> bool {
        let held = self.held.load(Ordering::Acquire);
        held == 0 || held + n <= self.max
    }
    fn add(&self, n: usize) {
        self.held.fetch_add(n, Ordering::AcqRel);
    }
    fn sub(&self, n: usize) {
        self.held.fetch_sub(n, Ordering::AcqRel);
    }
}

/// What an event in the queue costs.
fn queued_cost(l: &String) -> usize {
    l.capacity() + std::mem::size_of::<String>()
}

/// What a delivery thread hands back.
struct Ending {
    left: u64,
    spool: Option<PathBuf>,
    damaged: u64,
    last_error: Option<String>,
}

impl Sinks {
    /// No sink (nothing to deliver to).
    pub fn none() -> Sinks {
        Sinks {
            encoder: Box::new(|_: &Alert, _: bool| String::new()),
            outs: Vec::new(),
            updates: None,
            due: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.outs.is_empty()
    }

    /// Start one delivery thread per URL (Redis). Each sink's spool is `SPOOL/sink-<hash of its URL>`,
    /// so that the next run with the same URL and `--spool` finds it.
    pub fn start(urls: &[SinkUrl], opts: &SinkOptions, encoder: Encoder, notify: Notify) -> Result<Sinks, SinkError> {
        let mut parts = Vec::new();
        for u in urls {
            let name = u.display();
            let transport =
                redis::RedisTransport::new(u).map_err(|why| SinkError::Client { url: name.clone(), why })?;
            parts.push((name, Box::new(transport) as Box<dyn Transport>));
        }
        Sinks::start_with(parts, opts, encoder, notify)
    }

    /// [`Sinks::start`] over any transports (tests).
    pub fn start_with(
        transports: Vec<(String, Box<dyn Transport>)>,
        opts: &SinkOptions,
        encoder: Encoder,
        notify: Notify,
    ) -> Result<Sinks, SinkError> {
        let mut outs = Vec::new();
        for (name, transport) in transports {
            let mut reserved = Vec::new();
            // The queue first (without room in it, every event waits), then the memory backlog.
            let queue_max = match &opts.budget {
                Some(b) => {
                    let r = b.reserve(queue_ask(b));
                    let got = r.bytes();
                    reserved.push(r);
                    got
                }
                None => QUEUE_BYTES,
            };
            let backlog: Box<dyn Backlog> = match &opts.spool {
                Some(dir) => {
                    let sub = dir.join(spool_name(&name));
                    let s = DiskSpool::open(&sub, opts.spool_max)?;
                    // For a person looking at the directory: which sink it belongs to.
                    if let Ok(mut f) = crate::output::file::create_private(&sub.join("sink.url")) {
                        use std::io::Write as _;
                        let _ = writeln!(f, "{name}");
                    }
                    Box::new(s)
                }
                None => {
                    let want = opts.spool_max.min(MEMORY_BACKLOG_BYTES).min(backlog_ask(opts.budget.as_ref()));
                    let max = match &opts.budget {
                        Some(b) => {
                            let r = b.reserve(want as usize);
                            let got = r.bytes() as u64;
                            reserved.push(r);
                            got
                        }
                        None => want,
                    };
                    Box::new(MemoryBacklog::new(max))
                }
            };
            let queue = Arc::new(QueueBytes { held: Default::default(), max: queue_max });
            let held = backlog.events();
            if held > 0 {
                notify(&format!("sink {name}: {held} events spooled by an earlier run, delivered first"));
            }
            let (tx, rx) = crossbeam_channel::bounded(QUEUE_EVENTS);
            let counters = Arc::new(Counters::default());
            let d = Delivery {
                name: name.clone(),
                rx,
                queue: queue.clone(),
                transport,
                backlog,
                counters: counters.clone(),
                timeout: opts.timeout,
                backoff: MIN_BACKOFF,
                next_attempt: Instant::now(),
                notify: notify.clone(),
                failing: false,
                last_error: None,
            };
            let thread =
                std::thread::Builder::new().name("sink".into()).spawn(move || d.run()).map_err(SinkError::Thread)?;
            outs.push(Out { name, tx: Some(tx), thread: Some(thread), counters, queue, _reserved: reserved });
        }
        Ok(Sinks { encoder, outs, updates: None, due: Vec::new() })
    }

    /// Hand one line to every sink, in order (waits for room in a full queue: see [`QUEUE_EVENTS`]).
    pub fn push_line(&mut self, line: String) {
        let n = self.outs.len();
        let mut line = Some(line);
        for (i, o) in self.outs.iter().enumerate() {
            let Some(tx) = &o.tx else { continue };
            let l = if i + 1 == n { line.take().unwrap_or_default() } else { line.clone().unwrap_or_default() };
            let cost = queued_cost(&l);
            if !o.queue.room(cost) {
                // The delivery thread empties the queue into the backlog whenever the engine is away:
                // the wait is as short as for a full queue.
                add(&o.counters.queue_waits, 1);
                while !o.queue.room(cost) && o.thread.as_ref().is_some_and(|t| !t.is_finished()) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            o.queue.add(cost);
            match tx.try_send(l) {
                Ok(()) => add(&o.counters.queued, 1),
                Err(TrySendError::Full(l)) => {
                    add(&o.counters.queue_waits, 1);
                    if tx.send(l).is_ok() {
                        add(&o.counters.queued, 1);
                    } else {
                        o.queue.sub(cost);
                    }
                }
                // The delivery thread is gone (it cannot end before the queue closes but by a bug):
                // counted as not delivered.
                Err(TrySendError::Disconnected(_)) => {
                    o.queue.sub(cost);
                    add(&o.counters.dropped_spool_error, 1)
                }
            }
        }
    }

    /// Close the queues, let every thread deliver what it can within `--sink-timeout` (all at once),
    /// and report.
    pub fn finish(mut self) -> Vec<SinkReport> {
        self.flush_updates();
        for o in &mut self.outs {
            o.tx = None;
        }
        let mut reports = Vec::new();
        for mut o in self.outs {
            let end = o.thread.take().and_then(|t| t.join().ok());
            let c = &o.counters;
            let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
            let (left, spool, damaged, last_error) = match end {
                Some(e) => (e.left, e.spool, e.damaged, e.last_error),
                None => (0, None, 0, Some("the delivery thread failed".into())),
            };
            reports.push(SinkReport {
                name: o.name,
                queued: get(&c.queued),
                delivered: get(&c.delivered),
                spooled: get(&c.spooled),
                replayed: get(&c.replayed),
                dropped_spool_full: get(&c.dropped_spool_full),
                dropped_spool_error: get(&c.dropped_spool_error),
                queue_waits: get(&c.queue_waits),
                connects: get(&c.connects),
                failures: get(&c.failures),
                left,
                spool,
                damaged,
                last_error,
            });
        }
        reports
    }
}

impl Sinks {
    /// A later state of a leak already sent (its count, verdict or attempts changed): the encoder's
    /// update event (same event id). Whoever decides that a change is worth an event calls this; the
    /// sinks send every repeated sighting only if told to, so that a token replayed ten thousand times
    /// is not ten thousand events.
    pub fn on_update(&mut self, alert: &Alert) {
        if self.outs.is_empty() {
            return;
        }
        let line = (self.encoder)(alert, true);
        if !line.is_empty() {
            self.push_line(line);
        }
    }
}

/// Renders a sensor's hosts view as one event (`output::event::render_hosts`).
pub type HostsEncoder = Box<dyn FnMut(&[crate::pipeline::HostStats]) -> String + Send>;

/// A handle that sends the run's hosts view to every sink now and then (`plainsight watch` shows each
/// service's TLS share from it). It never waits: with a queue full, this snapshot is skipped (the next
/// replaces it). It holds the queues open: drop it before [`Sinks::finish`].
pub struct HostsFeed {
    txs: Vec<(Sender<String>, Arc<Counters>, Arc<QueueBytes>)>,
    encoder: HostsEncoder,
}

impl HostsFeed {
    pub fn send(&mut self, hosts: &[crate::pipeline::HostStats]) {
        let line = (self.encoder)(hosts);
        for (tx, counters, queue) in &self.txs {
            let l = line.clone();
            let cost = queued_cost(&l);
            if !queue.room(cost) {
                continue;
            }
            queue.add(cost);
            if tx.try_send(l).is_ok() {
                add(&counters.queued, 1);
            } else {
                queue.sub(cost);
            }
        }
    }
}

impl Sinks {
    /// A [`HostsFeed`] into these sinks (None without any).
    pub fn hosts_feed(&self, encoder: HostsEncoder) -> Option<HostsFeed> {
        let txs: Vec<_> =
            self.outs.iter().filter_map(|o| o.tx.clone().map(|tx| (tx, o.counters.clone(), o.queue.clone()))).collect();
        (!txs.is_empty()).then_some(HostsFeed { txs, encoder })
    }

    /// Send update events of repeated sightings, as the throttle allows (live runs; the alert file's
    /// rule, `cli::CommonArgs::open_alerts`).
    pub fn with_updates(mut self, on: bool) -> Sinks {
        self.updates = on.then(super::event::Throttle::default);
        self
    }

    /// The updates the throttle still holds, sent now (the end of a run).
    pub fn flush_updates(&mut self) {
        if let Some(t) = self.updates.as_mut() {
            let mut due = std::mem::take(&mut self.due);
            t.finish(&mut due);
            for a in due.drain(..) {
                self.on_update(&a);
            }
            self.due = due;
        }
    }

    fn send_due(&mut self, alert: &Alert, new: bool) {
        let Some(t) = self.updates.as_mut() else { return };
        let mut due = std::mem::take(&mut self.due);
        if new {
            t.on_new(alert, &mut due);
        } else {
            t.on_repeat(alert, &mut due);
        }
        for a in due.drain(..) {
            self.on_update(&a);
        }
        self.due = due;
    }
}

impl AlertSink for Sinks {
    fn on_new(&mut self, alert: &Alert) {
        if self.outs.is_empty() {
            return;
        }
        let line = (self.encoder)(alert, false);
        if !line.is_empty() {
            self.push_line(line);
        }
        self.send_due(alert, true);
    }

    fn on_repeat(&mut self, alert: &Alert) {
        if !self.outs.is_empty() {
            self.send_due(alert, false);
        }
    }
}

/// The spool subdirectory of a sink: stable across runs for one URL (credentials are not part of it).
fn spool_name(display: &str) -> String {
    let h = sha2::Sha256::digest(display.as_bytes());
    let hex: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sink-{hex}")
}

/// One sink's delivery thread (see the module documentation for the rules).
struct Delivery {
    name: String,
    rx: Receiver<String>,
    /// Bytes of the queue and of `batch`: given back once a batch is delivered or in the backlog.
    queue: Arc<QueueBytes>,
    transport: Box<dyn Transport>,
    backlog: Box<dyn Backlog>,
    counters: Arc<Counters>,
    timeout: Duration,
    backoff: Duration,
    next_attempt: Instant,
    notify: Notify,
    /// The engine is away (said once, until it is back).
    failing: bool,
    last_error: Option<String>,
}

impl Delivery {
    fn run(mut self) -> Ending {
        let mut deadline: Option<Instant> = None;
        let mut batch: Vec<String> = Vec::with_capacity(BATCH_EVENTS);
        loop {
            // Wait for new events only when there is nothing else to do now: no backlog to replay,
            // or an engine that cannot be tried yet.
            let busy = self.backlog.events() > 0 && (self.transport.connected() || Instant::now() >= self.next_attempt);
            if deadline.is_none() && !busy {
                match self.rx.recv_timeout(TICK) {
                    Ok(l) => batch.push(l),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => deadline = Some(Instant::now() + self.timeout),
                }
            }
            while batch.len() < BATCH_EVENTS {
                match self.rx.try_recv() {
                    Ok(l) => batch.push(l),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        deadline.get_or_insert_with(|| Instant::now() + self.timeout);
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                if self.backlog.events() == 0 && self.ensure_connected() {
                    match self.transport.send(&batch) {
                        Ok(()) => add(&self.counters.delivered, batch.len() as u64),
                        Err(e) => {
                            self.failed(e);
                            self.spool(&batch);
                        }
                    }
                } else {
                    self.spool(&batch);
                }
                self.queue.sub(batch.iter().map(queued_cost).sum());
                batch.clear();
            }
            if self.backlog.events() > 0 && self.ensure_connected() {
                self.replay_one();
            }
            if let Some(d) = deadline {
                let drained = self.rx.is_empty() && self.backlog.events() == 0;
                let now = Instant::now();
                if drained || now >= d {
                    break;
                }
                if !self.transport.connected() && now < self.next_attempt {
                    std::thread::sleep(self.next_attempt.min(d).saturating_duration_since(now).min(TICK));
                }
            }
        }
        // What is still queued joins the backlog, which is written out.
        let rest: Vec<String> = self.rx.try_iter().collect();
        if !rest.is_empty() {
            self.spool(&rest);
            self.queue.sub(rest.iter().map(queued_cost).sum());
        }
        if let Err(e) = self.backlog.close() {
            self.last_error = Some(format!("spool: {e}"));
        }
        Ending {
            left: self.backlog.events(),
            spool: self.backlog.location().map(|p| p.to_path_buf()),
            damaged: self.backlog.damaged(),
            last_error: self.last_error,
        }
    }

    /// Connected, or connected now if the backoff allows an attempt.
    fn ensure_connected(&mut self) -> bool {
        if self.transport.connected() {
            return true;
        }
        if Instant::now() < self.next_attempt {
            return false;
        }
        match self.transport.connect() {
            Ok(()) => {
                add(&self.counters.connects, 1);
                self.backoff = MIN_BACKOFF;
                if self.failing {
                    self.failing = false;
                    let held = self.backlog.events();
                    (self.notify)(&format!("sink {}: connected again, replaying {held} spooled events", self.name));
                }
                true
            }
            Err(e) => {
                self.failed(e);
                false
            }
        }
    }

    /// A connection attempt or a batch failed: drop the connection, wait before the next attempt.
    fn failed(&mut self, e: String) {
        add(&self.counters.failures, 1);
        self.transport.disconnect();
        self.next_attempt = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        if !self.failing {
            self.failing = true;
            let to = match self.backlog.location() {
                Some(p) => format!("spooled in {}", p.display()),
                None => "held in memory (no --spool)".into(),
            };
            (self.notify)(&format!("sink {}: {e}; events are {to} and retried", self.name));
        }
        self.last_error = Some(e);
    }

    fn spool(&mut self, lines: &[String]) {
        match self.backlog.append(lines) {
            Ok(dropped) => {
                add(&self.counters.spooled, lines.len() as u64 - dropped);
                if dropped > 0 {
                    if self.counters.dropped_spool_full.load(Ordering::Relaxed) == 0 {
                        (self.notify)(&format!("sink {}: spool full: new events are dropped and counted", self.name));
                    }
                    add(&self.counters.dropped_spool_full, dropped);
                }
            }
            Err(e) => {
                // Which of the lines made it is unknown to the caller: count them all as dropped (the
                // backlog's own count stays exact).
                add(&self.counters.dropped_spool_error, lines.len() as u64);
                let msg = format!("spool: {e}");
                (self.notify)(&format!("sink {}: {msg}: events dropped", self.name));
                self.last_error = Some(msg);
            }
        }
    }

    /// Send the oldest batch of the backlog; forget it once acknowledged.
    fn replay_one(&mut self) {
        let lines = match self.backlog.peek(BATCH_EVENTS) {
            Ok(l) => l,
            Err(e) => {
                // Waits like an engine away before trying again (a spool that cannot be read now).
                self.failed(format!("spool: {e}"));
                return;
            }
        };
        if lines.is_empty() {
            return;
        }
        match self.transport.send(&lines) {
            Ok(()) => {
                let n = lines.len() as u64;
                add(&self.counters.delivered, n);
                add(&self.counters.replayed, n);
                if let Err(e) = self.backlog.consume(lines.len()) {
                    self.last_error = Some(format!("spool: {e}"));
                }
            }
            Err(e) => self.failed(e),
        }
    }
}

#[cfg(test)]
mod tests;
