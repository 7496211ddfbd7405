//! `plainsight live`: capture on an interface, analyse as packets arrive.
//!
//! Threads: the capture thread (libpcap, never waits on analysis; see `capture::live`) and the analysis
//! thread (this one, or a worker when the TUI owns the main thread). Ctrl-C, SIGTERM and `--duration`
//! set one stop flag; both threads finish their batch, the engine is flushed, the alert file closed and
//! a summary printed.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use plainsight::alert::{AlertSink, Tee};
use plainsight::capture::live::{Batch, LiveCapture, LiveCounters, LiveOptions, POOL_BATCHES};
use plainsight::capture::ring::Ring;
use plainsight::output::jsonl::JsonLines;
use plainsight::output::lines::AlertLines;
use plainsight::pipeline::Engine;

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
    let cap = LiveCapture::open(&opts)?;
    // The alert file is opened while still privileged (it may live where root writes), then privileges go.
    let jsonl = match &common.alerts {
        Some(p) if use_tui && p.as_os_str() == "-" => {
            anyhow::bail!("--alerts - cannot share the terminal with the UI: give a file, or --no-tui")
        }
        Some(p) => Some(common.open_alerts(p, Some(cap.iface())).context("cannot open the alert file")?),
        None => None,
    };
    let alerts_on_stdout = common.alerts.as_deref().is_some_and(|p| p.as_os_str() == "-");
    // The ring's files too: created now, written after privileges are gone.
    let ring = match &args.ring {
        Some(_) if !common.reveal => {
            anyhow::bail!("--ring keeps the packets with every secret in full: add --reveal to say so")
        }
        Some(spec) => Some(
            Ring::open(spec, cap.link(), args.snaplen.max(0) as u32, |p: &std::path::Path| {
                plainsight::output::file::create_private(p).map_err(anyhow::Error::from)
            })
            .context("cannot create the ring's files")?,
        ),
        None => None,
    };
    let who = drop_privileges(&args.user)?;
    // The sinks' threads start now, without privileges (threads keep the capabilities they start
    // with); their spool directory and socket are opened as the user we now run as.
    let sinks = common.start_sinks(use_tui, Some(cap.iface()))?;
    if !use_tui {
        match &who {
            Some(user) => {
                eprintln!("plainsight: capturing on {} ({}), running as {user}", cap.iface(), cap.link().name())
            }
            None => eprintln!("plainsight: capturing on {} ({})", cap.iface(), cap.link().name()),
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone()).context("install SIGINT handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone()).context("install SIGTERM handler")?;

    let counters = Arc::new(LiveCounters::default());
    let (full_tx, full_rx) = crossbeam_channel::bounded::<Batch>(POOL_BATCHES);
    let (free_tx, free_rx) = crossbeam_channel::bounded::<Batch>(POOL_BATCHES);
    for b in cap.pool(POOL_BATCHES) {
        let _ = free_tx.send(b);
    }
    let iface = cap.iface().to_string();
    let capture_thread = {
        let (stop, counters) = (stop.clone(), counters.clone());
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || cap.run(full_tx, free_rx, stop, counters))
            .context("spawn capture thread")?
    };

    let deadline = args.duration.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut work = Analysis {
        engine: Engine::new(common.engine_config()),
        jsonl,
        lines: (!alerts_on_stdout && !use_tui).then(|| AlertLines::stdout(reveal)),
        ring,
        sinks,
        ui: None,
        full: full_rx,
        free: free_tx,
        stop: stop.clone(),
        counters: counters.clone(),
        deadline,
        started: Instant::now(),
    };
    work.engine.set_capture_name(&format!("iface:{iface}"));
    let summary = if use_tui {
        use plainsight::tui::{UiState, state::RunState};
        let (tx, rx) = crossbeam_channel::unbounded();
        work.ui = Some(tx);
        let worker = std::thread::Builder::new().name("analysis".into()).spawn(move || work.run(capture_thread))?;
        let mut state = UiState::new(&iface, RunState::Capturing, reveal);
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
        work.run(capture_thread)
    };
    let Summary { engine, jsonl, sinks, capture_error, elapsed } = summary;
    let mut engine = engine;
    if let Some(e) = capture_error {
        eprintln!("plainsight: error: {e}");
    }
    for w in engine.take_warnings() {
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
    let snap = engine.stats();
    let c = &counters;
    eprintln!(
        "plainsight: {} packets captured, {} dropped by the kernel, {} by the interface, {} by analysis; {} leaks ({} sightings): {} cleartext, {} material",
        c.captured.load(Ordering::Relaxed),
        c.kernel_dropped.load(Ordering::Relaxed),
        c.if_dropped.load(Ordering::Relaxed),
        c.analysis_dropped.load(Ordering::Relaxed),
        snap.leaks,
        snap.sightings,
        snap.cleartext_leaks(),
        snap.material,
    );
    if common.stats {
        eprint!("{}", snap.render(elapsed, c.captured_bytes.load(Ordering::Relaxed)));
        eprint!("{sink_stats}");
    }
    common.export_hashes(engine.book().alerts())?;
    if common.fails(snap.cleartext_leaks(), snap.material) {
        return Ok(ExitCode::from(EXIT_LEAK));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the analysis side owns.
struct Analysis {
    engine: Engine,
    jsonl: Option<JsonLines>,
    lines: Option<AlertLines<std::io::Stdout>>,
    /// `--ring`: every captured packet, in a bounded set of files.
    ring: Option<Ring>,
    /// `--sink`: alerts delivered into engines (empty without it).
    sinks: plainsight::output::sink::Sinks,
    ui: Option<crossbeam_channel::Sender<plainsight::tui::UiEvent>>,
    full: Receiver<Batch>,
    free: Sender<Batch>,
    stop: Arc<AtomicBool>,
    counters: Arc<LiveCounters>,
    deadline: Option<Instant>,
    started: Instant,
}

struct Summary {
    engine: Engine,
    jsonl: Option<JsonLines>,
    sinks: plainsight::output::sink::Sinks,
    capture_error: Option<String>,
    elapsed: f64,
}

impl Analysis {
    /// Batches in, alerts out, batches back to the pool; then drain, flush, and hand back the results.
    fn run(mut self, capture: std::thread::JoinHandle<Result<(), plainsight::capture::live::LiveError>>) -> Summary {
        let mut tui_sink = self.ui.clone().map(plainsight::tui::TuiSink);
        let mut last_stats = Instant::now();
        {
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
                match self.full.recv_timeout(Duration::from_millis(100)) {
                    Ok(mut b) => {
                        process_batch(&mut self.engine, &b, &mut tee);
                        ring_batch(&mut self.ring, &b);
                        b.clear();
                        let _ = self.free.send(b);
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                if last_stats.elapsed() >= Duration::from_millis(500) {
                    last_stats = Instant::now();
                    // A reader of the ring sees packets at most this late.
                    if let Some(Err(e)) = self.ring.as_mut().map(Ring::flush) {
                        eprintln!("plainsight: error: --ring: {e}: the ring stops");
                        self.ring = None;
                    }
                    if let Some(tx) = &self.ui {
                        let _ = tx.send(stats_msg(&self.engine, &self.counters, self.started));
                    }
                }
            }
            self.stop.store(true, Ordering::Relaxed);
            let capture_result = capture.join();
            // Drain what the capture thread handed over before it saw the flag.
            while let Ok(b) = self.full.try_recv() {
                process_batch(&mut self.engine, &b, &mut tee);
                ring_batch(&mut self.ring, &b);
            }
            if let Some(Err(e)) = self.ring.as_mut().map(Ring::flush) {
                eprintln!("plainsight: error: --ring: {e}");
            }
            self.engine.finish(&mut tee);
            if let Some(tx) = &self.ui {
                let _ = tx.send(stats_msg(&self.engine, &self.counters, self.started));
                let _ = tx.send(plainsight::tui::UiEvent::Finished);
            }
            let capture_error = match capture_result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("capture thread failed".into()),
            };
            drop(tee);
            let elapsed = self.started.elapsed().as_secs_f64();
            Summary { engine: self.engine, jsonl: self.jsonl, sinks: self.sinks, capture_error, elapsed }
        }
    }
}

fn stats_msg(engine: &Engine, c: &LiveCounters, started: Instant) -> plainsight::tui::UiEvent {
    plainsight::tui::UiEvent::Stats(Box::new(plainsight::tui::StatsMsg {
        snapshot: engine.stats(),
        hosts: engine.hosts().sorted(),
        kernel_drops: Some(c.kernel_dropped.load(Ordering::Relaxed) + c.if_dropped.load(Ordering::Relaxed)),
        analysis_drops: Some(c.analysis_dropped.load(Ordering::Relaxed)),
        input_bytes: c.captured_bytes.load(Ordering::Relaxed),
        elapsed: started.elapsed().as_secs_f64(),
        progress: None,
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
