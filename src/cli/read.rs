//! `plainsight read`: analyse capture files, write alerts, print the report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;

use plainsight::alert::{AlertSink, NullSink, Tee};
use plainsight::capture::inputs::{self, Input};
use plainsight::output::report::{self, NotAnalysed};
use plainsight::pipeline::leaks::{self, LeakConns, LeakWriter};
use plainsight::pipeline::offline::Analyzer;
use plainsight::pipeline::parallel::Sharded;
use plainsight::pipeline::{Engine, offline};

use super::{EXIT_ERROR, EXIT_LEAK, ReadArgs};

pub fn run(args: ReadArgs) -> anyhow::Result<ExitCode> {
    args.common.check()?;
    if args.tui {
        return run_tui(args);
    }
    let common = &args.common;
    let reveal = common.reveal();
    let mut leaks = match &args.write_leaks {
        Some(p) => Some(open_leak_writer(p, &args)?),
        None => None,
    };
    let mut conns = LeakConns::default();
    let mut failed_leaks = false;
    let mut jsonl = match &common.alerts {
        Some(p) => Some(common.open_alerts(p, None).context("cannot open the alert file")?),
        None => None,
    };
    let alerts_on_stdout = common.alerts.as_deref().is_some_and(|p| p.as_os_str() == "-");
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let started = Instant::now();
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let cfg = common.engine_config();
    let mut not_analysed = Vec::new();
    let files = expand_inputs(&args.files, &mut not_analysed);
    let mut sink_null = NullSink;
    let mut engine_sinks = common.start_sinks(false, None, &cfg.budget)?;
    let outcome = {
        let main: &mut dyn AlertSink = match jsonl.as_mut() {
            Some(j) if !args.alerts_at_end => j,
            _ => &mut sink_null,
        };
        // The leaking connections are remembered only when they will be written.
        let mut sinks: Vec<&mut dyn AlertSink> = vec![main];
        if leaks.is_some() {
            sinks.push(&mut conns);
        }
        if !engine_sinks.is_empty() {
            sinks.push(&mut engine_sinks);
        }
        let mut tee = Tee(sinks);
        let sink: &mut dyn AlertSink = &mut tee;
        if threads > 1 {
            let mut sharded = Sharded::new(&cfg, threads).context("cannot start analysis threads")?;
            let (failed, input) =
                read_all(&mut sharded, &files, &args, show_progress, started, sink, &mut not_analysed)?;
            let (alerts, snap, hosts, warnings) = sharded.finish(sink);
            for w in warnings {
                eprintln!("plainsight: warning: {w}");
            }
            Outcome { alerts, snap, hosts, failed, input }
        } else {
            let mut engine = Engine::new(cfg);
            let (failed, input) =
                read_all(&mut engine, &files, &args, show_progress, started, sink, &mut not_analysed)?;
            for w in engine.take_warnings() {
                eprintln!("plainsight: warning: {w}");
            }
            Outcome {
                alerts: engine.book().alerts().to_vec(),
                snap: engine.stats(),
                hosts: engine.hosts().sorted(),
                failed,
                input,
            }
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (sink_stats, sink_left) = common.finish_sinks(engine_sinks);
    for l in sink_left {
        eprintln!("{l}");
    }
    if let Some(w) = leaks.take() {
        if !write_leaks(w, &files, &args, &conns, &mut not_analysed) {
            failed_leaks = true;
        }
    }
    if let Some(mut j) = jsonl.take() {
        if args.alerts_at_end {
            let mut all: Vec<&plainsight::alert::Alert> = outcome.alerts.iter().collect();
            all.sort_by_key(|a| a.id);
            for a in all {
                j.on_new(a);
            }
        }
        j.finish().context("cannot write alert file")?;
    }
    if !args.no_report {
        let text = report::render_inputs(
            &outcome.alerts,
            &outcome.hosts,
            outcome.snap.engine.tls_flows,
            reveal,
            &not_analysed,
        );
        // The alert stream owns stdout when `--alerts -`: the report moves to stderr.
        let res = if alerts_on_stdout {
            std::io::stderr().write_all(text.as_bytes())
        } else {
            std::io::stdout().write_all(text.as_bytes())
        };
        if let Err(e) = res {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(e).context("cannot write report");
            }
        }
    }
    if common.stats {
        eprint!("{}", outcome.snap.render(elapsed, outcome.input));
        eprint!("{sink_stats}");
    }
    common.export_hashes(&outcome.alerts)?;
    if outcome.failed || failed_leaks {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    let material = outcome.alerts.iter().filter(|a| a.class.is_material()).count() as u64;
    if common.fails(outcome.alerts.len() as u64 - material, material) {
        return Ok(ExitCode::from(EXIT_LEAK));
    }
    Ok(ExitCode::SUCCESS)
}

struct Outcome {
    alerts: Vec<plainsight::alert::Alert>,
    snap: plainsight::pipeline::StatsSnapshot,
    hosts: Vec<plainsight::pipeline::HostStats>,
    failed: bool,
    input: u64,
}

/// The report on standard output (a closed pipe is not an error).
fn print_report(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// The leak capture's writer, its file created (0600, never through a link) before any analysis: a
/// path that cannot be written is a usage error found at once.
fn open_leak_writer(path: &std::path::Path, args: &ReadArgs) -> anyhow::Result<LeakWriter<std::fs::File>> {
    if !args.common.reveal {
        anyhow::bail!("--write-leaks writes the packets with every secret in full: add --reveal to say so");
    }
    if args.files.iter().any(|f| f.as_os_str() == "-") {
        anyhow::bail!("--write-leaks reads the inputs twice: standard input (-) cannot be read again");
    }
    let file = plainsight::output::file::create_private(path).context("cannot open the leak capture")?;
    Ok(LeakWriter::new(file, path)?)
}

/// The second pass: the packets of the connections that leaked, from every input. Returns false when
/// an input or the output failed (said on stderr and in the report).
fn write_leaks(
    mut w: LeakWriter<std::fs::File>,
    files: &[Input],
    args: &ReadArgs,
    conns: &LeakConns,
    not_analysed: &mut Vec<NotAnalysed>,
) -> bool {
    let mut written = leaks::Written::default();
    let mut ok = true;
    for input in files {
        if let Err(e) = leaks::copy_packets(&input.path, args.common.filter.as_deref(), conns, &mut w, &mut written) {
            if let leaks::LeakWriteError::Capture(plainsight::capture::CaptureError::NotACapture { .. }) = e {
                if input.in_directory {
                    continue;
                }
            }
            eprintln!("plainsight: error: --write-leaks: {e}");
            if matches!(e, leaks::LeakWriteError::Write(_)) {
                return false;
            }
            ok = false;
        }
    }
    if let Err(e) = w.finish() {
        eprintln!("plainsight: error: --write-leaks: {e}");
        return false;
    }
    if conns.dropped > 0 {
        let why = format!("{} leaking connections past {} not written", conns.dropped, leaks::MAX_LEAK_CONNS);
        eprintln!("plainsight: warning: --write-leaks: {why}");
        not_analysed.push(NotAnalysed { input: "--write-leaks".into(), why });
    }
    if written.other_link_skipped > 0 {
        eprintln!(
            "plainsight: warning: --write-leaks: {} packets of another link type skipped (a pcap file holds one: name the file .pcapng)",
            written.other_link_skipped
        );
    }
    if !args.quiet {
        eprintln!("plainsight: wrote {} packets of {} leaking connections", written.packets, conns.len());
    }
    ok
}

/// The files named, directories expanded; a directory that cannot be listed is not analysed.
fn expand_inputs(paths: &[std::path::PathBuf], not_analysed: &mut Vec<NotAnalysed>) -> Vec<Input> {
    let mut problems = Vec::new();
    let files = inputs::expand(paths, &mut problems);
    for (p, why) in problems {
        eprintln!("plainsight: warning: {}: {why}", p.display());
        not_analysed.push(NotAnalysed { input: p.display().to_string(), why });
    }
    files
}

/// What went wrong with `path`, without the path the error message starts with.
fn why(path: &std::path::Path, e: &plainsight::capture::CaptureError) -> String {
    let text = e.to_string();
    let name = path.display().to_string();
    text.strip_prefix(&name).map_or(text.clone(), |r| r.trim_start_matches(':').trim_start().to_string())
}

/// Read every file through `a`. Returns (some file was damaged or unreadable, input bytes); each file
/// not analysed in full is added to `not_analysed`. A file found in a directory that is not a capture
/// is skipped, named in the report, and is no failure.
#[allow(clippy::too_many_arguments)]
fn read_all<A: Analyzer>(
    a: &mut A,
    files: &[Input],
    args: &ReadArgs,
    show_progress: bool,
    started: Instant,
    sink: &mut dyn AlertSink,
    not_analysed: &mut Vec<NotAnalysed>,
) -> anyhow::Result<(bool, u64)> {
    let mut input_bytes = 0u64;
    let mut failed = !not_analysed.is_empty();
    for input in files {
        let path = &input.path;
        let name = path.display().to_string();
        let mut last_draw = Instant::now();
        let mut progress = |_: &A, done: u64, total: u64| {
            if show_progress && last_draw.elapsed().as_millis() >= 200 {
                last_draw = Instant::now();
                let pct = (done * 100).checked_div(total).unwrap_or(0);
                let secs = started.elapsed().as_secs_f64().max(1e-6);
                eprint!("\r\x1b[Kreading {name}: {pct}% ({:.0} MB/s)", (input_bytes + done) as f64 / 1e6 / secs);
            }
        };
        let res = offline::read_file(a, path, args.common.filter.as_deref(), sink, &mut progress);
        if show_progress {
            eprint!("\r\x1b[K");
        }
        match res {
            Ok(s) => input_bytes += s.file_bytes,
            Err(e) => {
                if let plainsight::capture::CaptureError::Filter { .. } = e {
                    // A bad filter is a usage error: every file would fail the same way.
                    anyhow::bail!(e);
                }
                let skipped = input.in_directory && matches!(e, plainsight::capture::CaptureError::NotACapture { .. });
                if skipped {
                    not_analysed.push(NotAnalysed { input: name, why: "not a capture, skipped".into() });
                    continue;
                }
                eprintln!("plainsight: error: {e}");
                not_analysed.push(NotAnalysed { input: name, why: why(path, &e) });
                failed = true;
            }
        }
    }
    Ok((failed, input_bytes))
}

/// `read --tui`: analysis on a worker thread, the UI on this one; the UI stays after the end of the files.
fn run_tui(args: ReadArgs) -> anyhow::Result<ExitCode> {
    use plainsight::alert::Tee;
    use plainsight::tui::{StatsMsg, TuiSink, UiEvent, UiState, state::RunState};
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("--tui needs a terminal on standard output");
    }
    let common = args.common.clone();
    let reveal = common.reveal();
    let mut jsonl = match &common.alerts {
        Some(p) if p.as_os_str() != "-" => Some(common.open_alerts(p, None).context("cannot open the alert file")?),
        Some(_) => anyhow::bail!("--alerts - cannot share the terminal with --tui: give a file"),
        None => None,
    };
    // The terminal UI shows each leak's connection (follow stream): the engine keeps them.
    let cfg = plainsight::pipeline::Config { follow: true, ..common.engine_config() };
    let mut engine_sinks = common.start_sinks(true, None, &cfg.budget)?;
    // The screen's rows are held as long as the run: reserved off the budget like the book of leaks.
    let rows = cfg.budget.reserve(plainsight::pipeline::book_memory(&cfg.budget));
    let names: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
    let (tx, rx) = crossbeam_channel::unbounded::<UiEvent>();
    let mut problems = Vec::new();
    let files: Vec<std::path::PathBuf> =
        inputs::expand(&args.files, &mut problems).into_iter().map(|i| i.path).collect();
    for (p, why) in problems {
        let _ = tx.send(UiEvent::Error(format!("{}: {why}", p.display())));
    }
    let worker = std::thread::Builder::new().name("analysis".into()).spawn(move || {
        let mut engine = Engine::new(cfg);
        let started = Instant::now();
        let mut input = 0u64;
        let mut tui_sink = TuiSink(tx.clone());
        let n = files.len().max(1) as f64;
        for (i, path) in files.iter().enumerate() {
            let mut last = Instant::now();
            let tx2 = tx.clone();
            let mut progress = |e: &Engine, done: u64, total: u64| {
                if last.elapsed().as_millis() >= 200 || done == total {
                    last = Instant::now();
                    let frac = if total > 0 { done as f64 / total as f64 } else { 1.0 };
                    let msg = StatsMsg {
                        snapshot: e.stats(),
                        hosts: e.hosts().sorted(),
                        input_bytes: input + done,
                        elapsed: started.elapsed().as_secs_f64(),
                        progress: Some((i as f64 + frac) / n),
                        ..StatsMsg::default()
                    };
                    let _ = tx2.send(UiEvent::Stats(Box::new(msg)));
                }
            };
            let mut sinks: Vec<&mut dyn AlertSink> = vec![&mut tui_sink];
            if let Some(j) = jsonl.as_mut() {
                sinks.push(j);
            }
            if !engine_sinks.is_empty() {
                sinks.push(&mut engine_sinks);
            }
            let mut tee = Tee(sinks);
            match offline::read_file(&mut engine, path, common.filter.as_deref(), &mut tee, &mut progress) {
                Ok(s) => input += s.file_bytes,
                Err(e) => {
                    let _ = tx.send(UiEvent::Error(e.to_string()));
                }
            }
        }
        let _ = tx.send(UiEvent::Finished);
        if let Some(j) = jsonl.take() {
            let _ = j.finish();
        }
        let sink_end = common.finish_sinks(engine_sinks);
        let alerts = if common.export_hashes.is_some() { engine.book().alerts().to_vec() } else { Vec::new() };
        (engine.stats(), started.elapsed().as_secs_f64(), input, alerts, sink_end)
    })?;
    let mut state = UiState::new(&names.join(" "), RunState::Reading, reveal).with_memory(rows);
    state.color = args.common.color.enabled();
    let last = plainsight::tui::run(rx, state).context("terminal UI")?;
    // As `read` without the UI: the report once the terminal is back.
    if !args.no_report {
        print_report(&last.report());
    }
    if worker.is_finished() {
        if let Ok((snap, elapsed, input, alerts, (sink_stats, sink_left))) = worker.join() {
            for l in sink_left {
                eprintln!("{l}");
            }
            if args.common.stats {
                eprint!("{}", snap.render(elapsed, input));
                eprint!("{sink_stats}");
            }
            args.common.export_hashes(&alerts)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
