//! `plainsight live`: capture on an interface, analyse as packets arrive.
//!
//! Threads: the capture thread (libpcap, never waits on analysis; see `capture::live`) and the analysis
//! thread (this one, or a worker when the TUI owns the main thread). Ctrl-C, SIGTERM and `--duration`
//! set one stop flag; both threads finish their batch, the engine is flushed, the alert file closed and
//! a summary printed.
//!
//! With `--fanout N` (Linux) there are N capture handles in one kernel fanout group
//! (`capture::fanout`), each with its capture thread and its own analysis worker (its own `Engine`):
//! the kernel hashes each flow to one handle, both directions alike. The workers' alerts come back over
//! one bounded channel and are merged into one book on the analysis thread, which feeds the sinks, as
//! `read --threads` does (`pipeline::parallel::Merger`).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use plainsight::alert::{Alert, AlertSink, Tee};
use plainsight::capture::live::{Batch, LiveCapture, LiveCounters, LiveError, LiveOptions, POOL_BATCHES};
use plainsight::capture::ring::Ring;
use plainsight::output::jsonl::JsonLines;
use plainsight::output::lines::AlertLines;
use plainsight::pipeline::parallel::{self, AlertMsg, Merger, WorkerSink};
use plainsight::pipeline::{Engine, HostStats, StatsSnapshot};

use super::{EXIT_LEAK, LiveArgs};

/// Once the capture is open nothing needs a privilege any more (the alert file is open too): give them
/// all up, so that a parser bug exploited by hostile traffic runs with none. Started as root, switch to
/// `user` (as tcpdump -Z does); started with file capabilities (`setcap cap_net_raw,cap_net_admin=eip`),
/// the capabilities stay effective for the whole run unless dropped. In both cases every capability set
/// is then emptied and checked empty, and no_new_privs set so that nothing can regain one (a setuid or
/// file-capability program run later). Failing any step is an error: we do not capture privileged.
/// Returns the user switched to, if any.
fn drop_privileges(user: &str) -> anyhow::Result<Option<String>> {
    use nix::unistd::{Uid, User, setgid, setgroups, setuid};
    // Capabilities belong to each thread: dropped here, before any other thread exists, the capture and
    // analysis threads start with none. A thread started earlier would keep its own (refuse, then).
    if let Some(n) = threads() {
        anyhow::ensure!(n == 1, "privileges must be dropped before threads start ({n} threads)");
    }
    let mut who = None;
    if Uid::effective().is_root() && user != "root" {
        match User::from_name(user).with_context(|| format!("cannot look up user {user}"))? {
            Some(u) => {
                setgroups(&[u.gid]).context("setgroups")?;
                setgid(u.gid).context("setgid")?;
                setuid(u.uid).context("setuid")?;
                who = Some(u.name);
            }
            // The default user may not exist on minimal systems: keep going as root without
            // capabilities, and say so.
            None if user == "nobody" => {
                eprintln!("plainsight: warning: user 'nobody' does not exist; still running as root")
            }
            None => anyhow::bail!("no such user: {user} (--user)"),
        }
    }
    drop_capabilities()?;
    Ok(who)
}

/// Empty the ambient, inheritable, permitted and effective sets, check them empty, set no_new_privs.
/// setuid away from root clears permitted and effective already unless SECBIT_KEEP_CAPS is set, but not
/// the inheritable set: nothing is left to that rule.
fn drop_capabilities() -> anyhow::Result<()> {
    use caps::CapSet;
    const SETS: [CapSet; 4] = [CapSet::Ambient, CapSet::Inheritable, CapSet::Permitted, CapSet::Effective];
    for set in SETS {
        caps::clear(None, set).map_err(|e| anyhow::anyhow!("cannot drop {set:?} capabilities: {e}"))?;
    }
    for set in SETS {
        let left = caps::read(None, set).map_err(|e| anyhow::anyhow!("cannot read {set:?} capabilities: {e}"))?;
        anyhow::ensure!(left.is_empty(), "{set:?} capabilities still held after dropping them: {left:?}");
    }
    // The kernel's own account, every bit (the crate reads only the capabilities it knows by name).
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for l in status.lines() {
            if let Some((name, mask)) = l.split_once(':') {
                if ["CapInh", "CapPrm", "CapEff", "CapAmb"].contains(&name) {
                    let mask = mask.trim();
                    anyhow::ensure!(mask.bytes().all(|b| b == b'0'), "{name} still {mask} after dropping capabilities");
                }
            }
        }
    }
    nix::sys::prctl::set_no_new_privs().context("cannot set no_new_privs")?;
    anyhow::ensure!(nix::sys::prctl::get_no_new_privs().context("cannot read no_new_privs")?, "no_new_privs not set");
    Ok(())
}

/// Threads of this process, from /proc (None where it cannot be read).
fn threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok())
}

pub fn run(args: LiveArgs) -> anyhow::Result<ExitCode> {
    let common = &args.common;
    common.check()?;
    let reveal = common.reveal();
    let use_tui = !args.no_tui && std::io::stdout().is_terminal();
    let opts = LiveOptions {
        iface: args.interface.clone(),
        filter: common.filter.clone(),
        promisc: !args.no_promisc,
        snaplen: args.snaplen,
        buffer_size: args.buffer_mib.saturating_mul(1 << 20).min(i32::MAX as usize) as i32,
    };
    // Ctrl-C and SIGTERM stop cleanly from the first moment: a supervisor that sees the process drop
    // privileges (or anything else) may signal it before the capture threads exist.
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone()).context("install SIGINT handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone()).context("install SIGTERM handler")?;
    let fanout = usize::from(args.fanout);
    if fanout > 1 && args.ring.is_some() {
        // One ring written in capture order would need every worker's packets back in one place.
        anyhow::bail!("--ring cannot be used with --fanout: give one or the other");
    }
    let caps = if fanout > 1 {
        plainsight::capture::fanout::open_group(&opts, fanout)?
    } else {
        vec![LiveCapture::open(&opts)?]
    };
    let (link, iface) = match caps.first() {
        Some(c) => (c.link(), c.iface().to_string()),
        None => anyhow::bail!("no capture handle opened"),
    };
    // The alert file is opened while still privileged (it may live where root writes), then privileges go.
    let jsonl = match &common.alerts {
        Some(p) if use_tui && p.as_os_str() == "-" => {
            anyhow::bail!("--alerts - cannot share the terminal with the UI: give a file, or --no-tui")
        }
        Some(p) => Some(common.open_alerts(p, Some(&iface)).context("cannot open the alert file")?),
        None => None,
    };
    let alerts_on_stdout = common.alerts.as_deref().is_some_and(|p| p.as_os_str() == "-");
    // The ring's files too: created now, written after privileges are gone.
    let ring = match &args.ring {
        Some(_) if !common.reveal => {
            anyhow::bail!("--ring keeps the packets with every secret in full: add --reveal to say so")
        }
        Some(spec) => Some(
            Ring::open(spec, link, args.snaplen.max(0) as u32, |p: &std::path::Path| {
                plainsight::output::file::create_private(p).map_err(anyhow::Error::from)
            })
            .context("cannot create the ring's files")?,
        ),
        None => None,
    };
    let who = drop_privileges(&args.user)?;
    // The sinks' threads start now, without privileges (threads keep the capabilities they start
    // with); their spool directory and socket are opened as the user we now run as.
    // The terminal UI shows each leak's connection (follow stream): the engines keep them only for it.
    // The sinks' queues and backlogs are reserved off the same budget as the engines'.
    let cfg = plainsight::pipeline::Config { follow: use_tui, ..common.engine_config() };
    let sinks = common.start_sinks(use_tui, Some(&iface), &cfg.budget)?;
    let budget = cfg.budget.clone();
    if !use_tui {
        let workers = if fanout > 1 {
            format!(", {fanout} workers in fanout group {}", plainsight::capture::fanout::group_id())
        } else {
            String::new()
        };
        match &who {
            Some(user) => eprintln!("plainsight: capturing on {iface} ({}){workers}, running as {user}", link.name()),
            None => eprintln!("plainsight: capturing on {iface} ({}){workers}", link.name()),
        }
    }

    // One capture thread per handle, each with its pool of batches.
    let mut feeds = Vec::with_capacity(caps.len());
    for (i, cap) in caps.into_iter().enumerate() {
        let counters = Arc::new(LiveCounters::default());
        let (full_tx, full_rx) = crossbeam_channel::bounded::<Batch>(POOL_BATCHES);
        let (free_tx, free_rx) = crossbeam_channel::bounded::<Batch>(POOL_BATCHES);
        for b in cap.pool(POOL_BATCHES) {
            let _ = free_tx.send(b);
        }
        let name = if fanout > 1 { format!("capture-{i}") } else { "capture".into() };
        let capture = {
            let (stop, counters) = (stop.clone(), counters.clone());
            std::thread::Builder::new()
                .name(name)
                .spawn(move || cap.run(full_tx, free_rx, stop, counters))
                .context("spawn capture thread")?
        };
        feeds.push(Feed { full: full_rx, free: free_tx, counters, capture });
    }
    let counters: Vec<Arc<LiveCounters>> = feeds.iter().map(|f| f.counters.clone()).collect();

    let deadline = args.duration.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let capture_name = format!("iface:{iface}");
    // The UI's hosts and counters come from the workers every half second, when there is a UI.
    let (views_tx, views_rx) = crossbeam_channel::bounded::<View>(fanout * 2);
    let source = if feeds.len() == 1 {
        let Some(feed) = feeds.pop() else { anyhow::bail!("no capture handle opened") };
        let mut engine = Engine::new(cfg);
        engine.set_capture_name(&capture_name);
        Source::One(Box::new(One { engine, feed, ring }))
    } else {
        let wcfg = parallel::worker_config(&cfg, feeds.len());
        let (atx, arx) = crossbeam_channel::bounded(parallel::ALERT_QUEUE);
        let mut workers = Vec::with_capacity(feeds.len());
        for (w, feed) in feeds.into_iter().enumerate() {
            let mut engine = Engine::new(wcfg.clone());
            engine.set_capture_name(&capture_name);
            let sink = WorkerSink(w, atx.clone());
            let stop = stop.clone();
            let views = use_tui.then(|| views_tx.clone());
            workers.push(
                std::thread::Builder::new()
                    .name(format!("analysis-{w}"))
                    .spawn(move || fanout_worker(w, engine, feed, stop, sink, views))
                    .context("spawn analysis worker")?,
            );
        }
        // The merging side holds no sender: the channel closes when the last worker is done.
        drop(atx);
        let n = workers.len();
        Source::Fanout(Box::new(Fanout {
            workers,
            alerts: arx,
            merger: parallel::merger(&cfg, n),
            views: views_rx,
            latest: vec![None; n],
        }))
    };
    drop(views_tx);
    let mut work = Analysis {
        source,
        jsonl,
        lines: (!alerts_on_stdout && !use_tui).then(|| AlertLines::stdout(reveal)),
        hosts_encoder: common.hosts_encoder(&iface),
        sinks,
        ui: None,
        stop: stop.clone(),
        counters: counters.clone(),
        deadline,
        started: Instant::now(),
    };
    let summary = if use_tui {
        use plainsight::tui::{UiState, state::RunState};
        let (tx, rx) = crossbeam_channel::unbounded();
        work.ui = Some(tx);
        let worker = std::thread::Builder::new().name("analysis".into()).spawn(move || work.run())?;
        // The screen's rows are held as long as the run: reserved off the budget like the book of leaks.
        let rows = budget.reserve(plainsight::pipeline::book_memory(&budget));
        let mut state = UiState::new(&iface, RunState::Capturing, reveal).with_memory(rows);
        state.color = common.color.enabled();
        let ui = plainsight::tui::run(rx, state);
        stop.store(true, Ordering::Relaxed);
        let summary = worker.join().map_err(|_| anyhow::anyhow!("analysis thread failed"))?;
        let last = ui.context("terminal UI")?;
        if !args.no_report {
            use std::io::Write as _;
            let _ = std::io::stdout().write_all(last.report().as_bytes());
        }
        summary
    } else {
        work.run()
    };
    let Summary { stats: snap, alerts, warnings, jsonl, sinks, capture_errors, elapsed } = summary;
    for e in capture_errors {
        eprintln!("plainsight: error: {e}");
    }
    for w in warnings {
        eprintln!("plainsight: warning: {iface}: {w}");
    }
    if let Some(j) = jsonl {
        let (folded, untracked) = j.updates_suppressed();
        if common.stats && folded + untracked > 0 {
            eprintln!(
                "plainsight: update events folded into a later one: {folded}, not written (too many leaks): {untracked}"
            );
        }
        j.finish().context("cannot write alert file")?;
    }
    let (sink_stats, sink_left) = common.finish_sinks(sinks);
    for l in sink_left {
        eprintln!("{l}");
    }
    let total = |f: fn(&LiveCounters) -> &std::sync::atomic::AtomicU64| -> u64 {
        counters.iter().map(|c| f(c).load(Ordering::Relaxed)).sum()
    };
    eprintln!(
        "plainsight: {} packets captured, {} dropped by the kernel, {} by the interface, {} by analysis; {} leaks ({} sightings): {} cleartext, {} material",
        total(|c| &c.captured),
        total(|c| &c.kernel_dropped),
        total(|c| &c.if_dropped),
        total(|c| &c.analysis_dropped),
        snap.leaks,
        snap.sightings,
        snap.cleartext_leaks(),
        snap.material,
    );
    if common.stats {
        if counters.len() > 1 {
            for (w, c) in counters.iter().enumerate() {
                eprintln!(
                    "  worker {w}: {} packets captured ({} received by its filter), {} dropped by the kernel, {} by the interface, {} by analysis",
                    c.captured.load(Ordering::Relaxed),
                    c.kernel_received.load(Ordering::Relaxed),
                    c.kernel_dropped.load(Ordering::Relaxed),
                    c.if_dropped.load(Ordering::Relaxed),
                    c.analysis_dropped.load(Ordering::Relaxed),
                );
            }
        }
        eprint!("{}", snap.render(elapsed, total(|c| &c.captured_bytes)));
        eprint!("{sink_stats}");
    }
    common.export_hashes(&alerts)?;
    if common.fails(snap.cleartext_leaks(), snap.material) {
        return Ok(ExitCode::from(EXIT_LEAK));
    }
    Ok(ExitCode::SUCCESS)
}

/// One capture thread's output: full batches in, empty batches back, its counters.
struct Feed {
    full: Receiver<Batch>,
    free: Sender<Batch>,
    counters: Arc<LiveCounters>,
    capture: std::thread::JoinHandle<Result<(), LiveError>>,
}

impl Feed {
    /// Wait for the capture thread to end; its error, if it failed.
    fn join(capture: std::thread::JoinHandle<Result<(), LiveError>>) -> Option<String> {
        match capture.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("capture thread failed".into()),
        }
    }
}

/// A worker's counters and hosts, for the UI.
type View = (usize, StatsSnapshot, Vec<HostStats>);

/// Where the analysis thread's alerts come from.
enum Source {
    /// One handle, analysed on this thread.
    One(Box<One>),
    /// `--fanout`: workers analyse, this thread merges.
    Fanout(Box<Fanout>),
}

struct One {
    engine: Engine,
    feed: Feed,
    /// `--ring`: every captured packet, in a bounded set of files.
    ring: Option<Ring>,
}

struct Fanout {
    workers: Vec<std::thread::JoinHandle<(Engine, Option<String>)>>,
    alerts: Receiver<AlertMsg>,
    merger: Merger,
    views: Receiver<View>,
    /// Each worker's last view.
    latest: Vec<Option<(StatsSnapshot, Vec<HostStats>)>>,
}

/// What the analysis side owns.
struct Analysis {
    source: Source,
    jsonl: Option<JsonLines>,
    lines: Option<AlertLines<std::io::Stdout>>,
    /// `--sink`: alerts delivered into engines (empty without it).
    sinks: plainsight::output::sink::Sinks,
    /// With `--sink` and a sensor name: the hosts view is sent to the sinks every [`HOSTS_EVERY`].
    hosts_encoder: Option<plainsight::output::sink::HostsEncoder>,
    ui: Option<crossbeam_channel::Sender<plainsight::tui::UiEvent>>,
    stop: Arc<AtomicBool>,
    counters: Vec<Arc<LiveCounters>>,
    deadline: Option<Instant>,
    started: Instant,
}

struct Summary {
    stats: StatsSnapshot,
    /// The leaks remembered (for `--export-hashes`).
    alerts: Vec<Alert>,
    warnings: Vec<String>,
    jsonl: Option<JsonLines>,
    sinks: plainsight::output::sink::Sinks,
    capture_errors: Vec<String>,
    elapsed: f64,
}

impl Source {
    /// Wait (at most 100 ms) for work and do it; false when there will be no more.
    fn step(&mut self, sink: &mut dyn AlertSink) -> bool {
        let wait = Duration::from_millis(100);
        match self {
            Source::One(one) => match one.feed.full.recv_timeout(wait) {
                Ok(mut b) => {
                    process_batch(&mut one.engine, &b, sink);
                    ring_batch(&mut one.ring, &b);
                    b.clear();
                    let _ = one.feed.free.send(b);
                    true
                }
                Err(RecvTimeoutError::Timeout) => true,
                Err(RecvTimeoutError::Disconnected) => false,
            },
            Source::Fanout(f) => {
                let more = match f.alerts.recv_timeout(wait) {
                    Ok(m) => {
                        f.merger.apply(m, sink);
                        // Whatever else is queued, without waiting again.
                        while let Ok(m) = f.alerts.try_recv() {
                            f.merger.apply(m, sink);
                        }
                        true
                    }
                    Err(RecvTimeoutError::Timeout) => true,
                    // Every worker is gone (a capture failed and its worker stopped the run).
                    Err(RecvTimeoutError::Disconnected) => false,
                };
                while let Ok((w, s, h)) = f.views.try_recv() {
                    if let Some(slot) = f.latest.get_mut(w) {
                        *slot = Some((s, h));
                    }
                }
                more
            }
        }
    }

    /// Every half second.
    fn tick(&mut self) {
        if let Source::One(one) = self {
            // A reader of the ring sees packets at most this late.
            if let Some(Err(e)) = one.ring.as_mut().map(Ring::flush) {
                eprintln!("plainsight: error: --ring: {e}: the ring stops");
                one.ring = None;
            }
        }
    }

    /// The counters and hosts so far.
    fn view(&self) -> (StatsSnapshot, Vec<HostStats>) {
        match self {
            Source::One(one) => (one.engine.stats(), one.engine.hosts().sorted()),
            Source::Fanout(f) => {
                let (mut stats, hosts) = parallel::merge_views(f.latest.iter().flatten().cloned());
                f.merger.count_into(&mut stats);
                (stats, hosts)
            }
        }
    }

    /// The stop flag is set: drain what was captured, flush every flow, and say what was found.
    fn finish(self, sink: &mut dyn AlertSink) -> (StatsSnapshot, Vec<HostStats>, Vec<Alert>, Vec<String>, Vec<String>) {
        match self {
            Source::One(one) => {
                let One { mut engine, feed, mut ring } = *one;
                let error = Feed::join(feed.capture);
                // Drain what the capture thread handed over before it saw the flag.
                while let Ok(b) = feed.full.try_recv() {
                    process_batch(&mut engine, &b, sink);
                    ring_batch(&mut ring, &b);
                }
                if let Some(Err(e)) = ring.as_mut().map(Ring::flush) {
                    eprintln!("plainsight: error: --ring: {e}");
                }
                engine.finish(sink);
                let warnings = engine.take_warnings();
                let (stats, hosts) = (engine.stats(), engine.hosts().sorted());
                (stats, hosts, engine.book().alerts().to_vec(), warnings, error.into_iter().collect())
            }
            Source::Fanout(f) => {
                let Fanout { workers, alerts, mut merger, .. } = *f;
                // Until every worker has flushed its flows and dropped its end of the channel.
                for m in alerts.iter() {
                    merger.apply(m, sink);
                }
                let mut views = Vec::new();
                let (mut warnings, mut errors) = (Vec::new(), Vec::new());
                for h in workers {
                    match h.join() {
                        Ok((mut engine, error)) => {
                            for w in engine.take_warnings() {
                                if !warnings.contains(&w) {
                                    warnings.push(w);
                                }
                            }
                            errors.extend(error);
                            views.push((engine.stats(), engine.hosts().sorted()));
                        }
                        Err(_) => errors.push("analysis worker failed".into()),
                    }
                }
                let (mut stats, hosts) = parallel::merge_views(views);
                merger.count_into(&mut stats);
                (stats, hosts, merger.into_alerts(), warnings, errors)
            }
        }
    }
}

impl Analysis {
    /// Work in, alerts out; then drain, flush, and hand back the results.
    fn run(mut self) -> Summary {
        let mut tui_sink = self.ui.clone().map(plainsight::tui::TuiSink);
        let mut last_stats = Instant::now();
        let mut hosts_feed = self.hosts_encoder.take().and_then(|e| self.sinks.hosts_feed(e));
        let mut last_hosts = Instant::now();
        let mut sinks: Vec<&mut dyn AlertSink> = Vec::new();
        if let Some(j) = self.jsonl.as_mut() {
            sinks.push(j);
        }
        if let Some(l) = self.lines.as_mut() {
            sinks.push(l);
        }
        if let Some(t) = tui_sink.as_mut() {
            sinks.push(t);
        }
        if !self.sinks.is_empty() {
            sinks.push(&mut self.sinks);
        }
        let mut tee = Tee(sinks);
        loop {
            if self.stop.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if !self.source.step(&mut tee) {
                break;
            }
            if last_stats.elapsed() >= Duration::from_millis(500) {
                last_stats = Instant::now();
                self.source.tick();
                if let Some(tx) = &self.ui {
                    let _ = tx.send(stats_msg(self.source.view(), &self.counters, self.started));
                }
            }
            if let Some(feed) = hosts_feed.as_mut().filter(|_| last_hosts.elapsed() >= HOSTS_EVERY) {
                last_hosts = Instant::now();
                feed.send(&self.source.view().1);
            }
        }
        self.stop.store(true, Ordering::Relaxed);
        let (stats, hosts, alerts, warnings, capture_errors) = self.source.finish(&mut tee);
        // The last hosts view, then the feed lets go of the queues (the sinks close them at the end).
        if let Some(mut feed) = hosts_feed.take() {
            feed.send(&hosts);
        }
        if let Some(tx) = &self.ui {
            let _ = tx.send(stats_msg((stats.clone(), hosts), &self.counters, self.started));
            let _ = tx.send(plainsight::tui::UiEvent::Finished);
        }
        drop(tee);
        let elapsed = self.started.elapsed().as_secs_f64();
        Summary { stats, alerts, warnings, jsonl: self.jsonl, sinks: self.sinks, capture_errors, elapsed }
    }
}

/// How often a live run sends its hosts view to the sinks: a fleet's TLS shares move slowly.
const HOSTS_EVERY: Duration = Duration::from_secs(10);

/// A `--fanout` worker: its handle's batches through its own engine, alerts to the merging thread;
/// when the run stops (or its capture fails, which stops the run), drain, flush, hand the engine back.
fn fanout_worker(
    w: usize,
    mut engine: Engine,
    feed: Feed,
    stop: Arc<AtomicBool>,
    mut sink: WorkerSink,
    views: Option<Sender<View>>,
) -> (Engine, Option<String>) {
    let Feed { full, free, capture, .. } = feed;
    let mut last_view = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match full.recv_timeout(Duration::from_millis(100)) {
            Ok(mut b) => {
                process_batch(&mut engine, &b, &mut sink);
                b.clear();
                let _ = free.send(b);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        if let Some(v) = &views {
            if last_view.elapsed() >= Duration::from_millis(500) {
                last_view = Instant::now();
                // Never waits: a view the UI has not taken yet is simply replaced by the next one.
                let _ = v.try_send((w, engine.stats(), engine.hosts().sorted()));
            }
        }
    }
    let error = Feed::join(capture);
    while let Ok(b) = full.try_recv() {
        process_batch(&mut engine, &b, &mut sink);
    }
    engine.finish(&mut sink);
    (engine, error)
}

fn stats_msg(
    (snapshot, hosts): (StatsSnapshot, Vec<HostStats>),
    counters: &[Arc<LiveCounters>],
    started: Instant,
) -> plainsight::tui::UiEvent {
    let total = |f: fn(&LiveCounters) -> u64| -> u64 { counters.iter().map(|c| f(c)).sum() };
    plainsight::tui::UiEvent::Stats(Box::new(plainsight::tui::StatsMsg {
        snapshot,
        hosts,
        kernel_drops: Some(total(|c| c.kernel_dropped.load(Ordering::Relaxed) + c.if_dropped.load(Ordering::Relaxed))),
        analysis_drops: Some(total(|c| c.analysis_dropped.load(Ordering::Relaxed))),
        input_bytes: total(|c| c.captured_bytes.load(Ordering::Relaxed)),
        elapsed: started.elapsed().as_secs_f64(),
        progress: None,
        traffic_unknown: false,
    }))
}

/// Every packet of `b` into the ring; a write error stops the ring, said once, not the capture.
fn ring_batch(ring: &mut Option<Ring>, b: &Batch) {
    let Some(r) = ring.as_mut() else { return };
    for p in b.iter() {
        if let Err(e) = r.write(p.ts, p.data) {
            eprintln!("plainsight: error: --ring: {e}: the ring stops");
            *ring = None;
            return;
        }
    }
}

fn process_batch(engine: &mut Engine, b: &Batch, sink: &mut dyn AlertSink) {
    for p in b.iter() {
        engine.process(p.link, p.ts, p.data, sink);
    }
}
