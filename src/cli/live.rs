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
use plainsight::output::jsonl::JsonLines;
use plainsight::output::lines::AlertLines;
use plainsight::pipeline::Engine;

use super::{EXIT_LEAK, LiveArgs};

/// Drop root after the capture is open, as tcpdump -Z does: a parser bug must not run as root.
fn drop_privileges(user: &str) -> anyhow::Result<Option<String>> {
    use nix::unistd::{Uid, User, setgid, setgroups, setuid};
    if !Uid::effective().is_root() || user == "root" {
        return Ok(None);
    }
    let Some(u) = User::from_name(user).with_context(|| format!("cannot look up user {user}"))? else {
        if user == "nobody" {
            // The default user may not exist on minimal systems: keep going, but say so.
            eprintln!("plainsight: warning: user 'nobody' does not exist; still running as root");
            return Ok(None);
        }
        anyhow::bail!("no such user: {user} (--user)");
    };
    setgroups(&[u.gid]).context("setgroups")?;
    setgid(u.gid).context("setgid")?;
    setuid(u.uid).context("setuid")?;
    Ok(Some(u.name))
}

pub fn run(args: LiveArgs) -> anyhow::Result<ExitCode> {
    let common = &args.common;
    let reveal = common.reveal();
    let use_tui = !args.no_tui && std::io::stdout().is_terminal();
    if use_tui {
        anyhow::bail!("the terminal UI is not available in this build yet: use --no-tui");
    }
    let opts = LiveOptions {
        iface: args.interface.clone(),
        filter: common.filter.clone(),
        promisc: !args.no_promisc,
        snaplen: args.snaplen,
        buffer_size: args.buffer_mib.saturating_mul(1 << 20).min(i32::MAX as usize) as i32,
    };
    let cap = LiveCapture::open(&opts)?;
    // The alert file is opened while still privileged (it may live where root writes), then privileges go.
    let mut jsonl = match &common.alerts {
        Some(p) => Some(JsonLines::create(p, reveal).with_context(|| format!("{}: cannot create alert file", p.display()))?),
        None => None,
    };
    let alerts_on_stdout = common.alerts.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(user) = drop_privileges(&args.user)? {
        eprintln!("plainsight: capturing on {} ({}), running as {user}", cap.iface(), cap.link().name());
    } else {
        eprintln!("plainsight: capturing on {} ({})", cap.iface(), cap.link().name());
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

    let mut engine = Engine::new(common.engine_config());
    engine.set_capture_name(&format!("iface:{iface}"));
    let mut lines = AlertLines::stdout(reveal);
    let deadline = args.duration.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let started = Instant::now();
    {
        let mut sinks: Vec<&mut dyn AlertSink> = Vec::new();
        if let Some(j) = jsonl.as_mut() {
            sinks.push(j);
        }
        if !alerts_on_stdout {
            sinks.push(&mut lines);
        }
        let mut tee = Tee(sinks);
        analyse(&mut engine, &full_rx, &free_tx, &stop, deadline, &mut tee);
        stop.store(true, Ordering::Relaxed);
        // Drain what the capture thread handed over before it saw the flag.
        let capture_result = capture_thread.join();
        while let Ok(b) = full_rx.try_recv() {
            process_batch(&mut engine, &b, &mut tee);
        }
        engine.finish(&mut tee);
        match capture_result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("plainsight: error: {e}"),
            Err(_) => eprintln!("plainsight: error: capture thread failed"),
        }
    }
    for w in engine.take_warnings() {
        eprintln!("plainsight: warning: {iface}: {w}");
    }
    if let Some(j) = jsonl.take() {
        j.finish().context("cannot write alert file")?;
    }
    let snap = engine.stats();
    let c = &counters;
    eprintln!(
        "plainsight: {} packets captured, {} dropped by the kernel, {} by the interface, {} by analysis; {} leaks ({} sightings)",
        c.captured.load(Ordering::Relaxed),
        c.kernel_dropped.load(Ordering::Relaxed),
        c.if_dropped.load(Ordering::Relaxed),
        c.analysis_dropped.load(Ordering::Relaxed),
        snap.leaks,
        snap.sightings,
    );
    if common.stats {
        eprint!("{}", snap.render(started.elapsed().as_secs_f64(), c.captured_bytes.load(Ordering::Relaxed)));
    }
    if common.fail_on_leak && snap.leaks > 0 {
        return Ok(ExitCode::from(EXIT_LEAK));
    }
    Ok(ExitCode::SUCCESS)
}

fn process_batch(engine: &mut Engine, b: &Batch, sink: &mut dyn AlertSink) {
    for p in b.iter() {
        engine.process(p.link, p.ts, p.data, sink);
    }
}

/// The analysis loop: batches in, alerts out, batches back to the pool.
fn analyse(
    engine: &mut Engine,
    full: &Receiver<Batch>,
    free: &Sender<Batch>,
    stop: &AtomicBool,
    deadline: Option<Instant>,
    sink: &mut dyn AlertSink,
) {
    loop {
        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
            return;
        }
        match full.recv_timeout(Duration::from_millis(100)) {
            Ok(mut b) => {
                process_batch(engine, &b, sink);
                b.clear();
                let _ = free.send(b);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
