//! `plainsight watch`: the leaks of many sensors in one view, merged by secret (`fleet`).
//!
//! Each source is read on a thread of its own and sends lines to one merger: alert files (followed as
//! they grow, as `tail -f`, or read once with `--once`), standard input, and the engine the sensors
//! send to (`redis://`, see `cli::sources`). Nothing here parses an event: `fleet` does.

use std::io::{BufRead, BufReader, IsTerminal, Read};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use crossbeam_channel::{Receiver, Sender};
use plainsight::alert::Reveal;
use plainsight::fleet::{Change, Fleet};
use plainsight::tui::state::RunState;
use plainsight::tui::{StatsMsg, UiEvent, UiState};

use super::ColorMode;

/// Longest line taken from a source: an event is a few KiB; a longer line is not one (counted as
/// skipped, never buffered whole).
const MAX_LINE: usize = 1 << 20;

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    /// Where the sensors' events are: the engine they send to (a `--sink` URL: `redis://HOST/KEY`,
    /// `rediss://...`, `redis+unix:///PATH?key=KEY`, with `mode=stream` or `mode=list` as the sensors'),
    /// or alert files written with `--alerts-format eve|ecs` (or native with `--sensor`), `-` for
    /// standard input.
    #[arg(value_name = "SOURCE", required = true)]
    pub sources: Vec<String>,
    /// Show secrets in full where the events carry them (sensors run with --reveal). Redacted by
    /// default: an event that carries a secret is then shown by its length and fingerprint only.
    #[arg(long)]
    pub reveal: bool,
    /// Read each source to its end (what a file or the engine holds now) and stop, instead of following
    /// it as it grows.
    #[arg(long)]
    pub once: bool,
    /// One line per leak, and per leak seen by another sensor, instead of the terminal UI.
    #[arg(long)]
    pub no_tui: bool,
    /// Colours in the terminal UI: auto (off when NO_COLOR is set or TERM is dumb), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorMode,
    /// Memory for what watch holds (suffixes K, M, G): half for the merged leaks, a quarter for the
    /// terminal UI's rows. An event may carry up to 1 MiB, chosen by whoever can write to the engine:
    /// past the bound new leaks are counted, not kept.
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = super::parse_memcap)]
    pub memcap: usize,
}

enum Msg {
    Line(String),
    /// A line past [`MAX_LINE`].
    TooLong,
    Error(String),
    /// Said about a source that goes on (an engine away, or back).
    Note(String),
    /// A source reached its end (`--once`) or closed.
    Done,
}

/// Lines of `r` (each at most [`MAX_LINE`]) to `tx`; at its end, waits for more unless `once` (a line
/// still being written is kept until its newline arrives).
fn pump(mut r: impl BufRead, once: bool, tx: &Sender<Msg>) -> std::io::Result<()> {
    let mut pending = Vec::new();
    loop {
        let room = (MAX_LINE + 1).saturating_sub(pending.len()) as u64;
        let n = (&mut r).take(room).read_until(b'\n', &mut pending)?;
        let msg = if pending.len() > MAX_LINE {
            skip_line(&mut r)?;
            Msg::TooLong
        } else if pending.ends_with(b"\n") || (n == 0 && once && !pending.is_empty()) {
            Msg::Line(String::from_utf8_lossy(&pending).into_owned())
        } else if n == 0 {
            if once {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
            continue;
        } else {
            continue;
        };
        pending.clear();
        if tx.send(msg).is_err() {
            return Ok(());
        }
    }
}

/// Consume the rest of an over-long line, without keeping it.
fn skip_line(r: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', avail) {
            Some(i) => {
                r.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = avail.len();
                r.consume(n);
            }
        }
    }
}

fn open(source: &str, once: bool, tx: Sender<Msg>) -> anyhow::Result<()> {
    if ["redis://", "rediss://", "redis+unix://"].iter().any(|p| source.starts_with(p)) {
        use plainsight::output::sink::target::{EnvAuth, SinkUrl};
        let url = SinkUrl::parse(source, &EnvAuth::from_env()).map_err(|e| anyhow::anyhow!("{e}"))?;
        std::thread::spawn(move || {
            use plainsight::fleet::redis::Status;
            let name = url.display();
            let notes = tx.clone();
            let res = plainsight::fleet::redis::follow(&url, once, &mut |l| tx.send(Msg::Line(l)).is_ok(), &mut |s| {
                let _ = notes.send(Msg::Note(match s {
                    Status::Away(e) => format!("{name}: {e}; retrying every second"),
                    Status::Connected => format!("{name}: connected"),
                }));
            });
            let _ = tx.send(match res {
                Ok(()) => Msg::Done,
                Err(e) => Msg::Error(format!("{}: {e}", url.display())),
            });
        });
        return Ok(());
    }
    let reader: Box<dyn BufRead + Send> = if source == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let path = PathBuf::from(source);
        let f = std::fs::File::open(&path).with_context(|| format!("cannot open {source}"))?;
        Box::new(BufReader::new(f))
    };
    // Standard input ends when its writer closes it: no following.
    let once = once || source == "-";
    std::thread::spawn(move || {
        let end = match pump(reader, once, &tx) {
            Ok(()) => Msg::Done,
            Err(e) => Msg::Error(e.to_string()),
        };
        let _ = tx.send(end);
    });
    Ok(())
}

pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let reveal = if args.reveal { Reveal::Full } else { Reveal::Redacted };
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(4096);
    for s in &args.sources {
        open(s, args.once, tx.clone())?;
    }
    drop(tx);
    let use_tui = !args.no_tui && std::io::stdout().is_terminal();
    let source = args.sources.join(" ");
    let fleet_bytes = args.memcap / 2;
    if use_tui {
        let (ui_tx, ui_rx) = crossbeam_channel::unbounded();
        let sources = args.sources.len();
        std::thread::spawn(move || {
            let mut last = std::time::Instant::now();
            let fleet = merge(
                rx,
                sources,
                fleet_bytes,
                reveal,
                &mut |c, fleet| {
                    let _ = ui_tx.send(UiEvent::Fleet { alert: Box::new(c.alert.clone()), sensors: c.sensors.clone() });
                    // The hosts view is rebuilt from every leak: twice a second at most.
                    if c.new && last.elapsed() > Duration::from_millis(500) {
                        last = std::time::Instant::now();
                        send_hosts(&ui_tx, fleet);
                    }
                },
                &mut |fleet| send_hosts(&ui_tx, fleet),
                &mut |n| {
                    let _ = ui_tx.send(UiEvent::Notice(n));
                },
            );
            send_hosts(&ui_tx, &fleet);
            let _ = ui_tx.send(UiEvent::Finished);
        });
        let mut state = UiState::new(&source, RunState::Watching, reveal).with_max_bytes(args.memcap / 4);
        state.color = args.color.enabled();
        plainsight::tui::run(ui_rx, state).context("terminal UI failed")?;
        return Ok(ExitCode::SUCCESS);
    }
    let fleet = merge(
        rx,
        args.sources.len(),
        fleet_bytes,
        reveal,
        &mut |c, _| {
            let mut line = plainsight::output::lines::line(&c.alert, reveal);
            let sensors = plainsight::output::term::clean(&c.sensors.join(","), plainsight::output::term::NAME);
            if c.new {
                println!("{line} sensors={sensors}");
            } else {
                line.insert_str(0, "update ");
                println!("{line} count={} sensors={sensors}", c.alert.count);
            }
        },
        &mut |_| {},
        &mut |n| eprintln!("plainsight watch: {}", plainsight::output::term::clean(&n, 300)),
    );
    let mut sensors: Vec<&String> = fleet.alerts().flat_map(|(_, s)| s.iter()).collect();
    sensors.sort();
    sensors.dedup();
    eprintln!(
        "plainsight watch: {} leaks from {} sensors; {} lines were not events",
        fleet.leaks(),
        sensors.len(),
        fleet.skipped
    );
    if fleet.dropped > 0 || fleet.users_not_kept > 0 {
        eprintln!(
            "plainsight watch: {} events of leaks not kept (past {} leaks or --memcap), {} user names not kept",
            fleet.dropped,
            plainsight::fleet::MAX_LEAKS,
            fleet.users_not_kept
        );
    }
    // The hosts view across the fleet, one line per service.
    use plainsight::output::term::{self, clean};
    for h in fleet.hosts() {
        let traffic = if fleet.has_traffic() {
            let clear = if h.service == "http" { h.http_requests } else { h.credentials };
            let share = (h.tls_flows * 100).checked_div(h.tls_flows + clear).unwrap_or(0);
            format!(
                " requests {} https-redirects {} tls {} ({share}%)",
                h.http_requests, h.https_redirects, h.tls_flows
            )
        } else {
            String::new()
        };
        eprintln!(
            "plainsight watch: host {} {} {} credentials {}{traffic}",
            clean(&h.name, term::HOST),
            clean(&h.service, term::NAME),
            h.addr.map_or("-".to_string(), |a| a.to_string()),
            h.credentials
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Merge every source's lines until all have ended; `on` hears each change.
fn merge(
    rx: Receiver<Msg>,
    mut open: usize,
    max_bytes: usize,
    reveal: Reveal,
    on: &mut dyn FnMut(&Change, &Fleet),
    hosts: &mut dyn FnMut(&Fleet),
    note: &mut dyn FnMut(String),
) -> Fleet {
    let mut fleet = Fleet::with_max_bytes(max_bytes);
    while open > 0 {
        match rx.recv() {
            Ok(Msg::Line(l)) => {
                if let Some(c) = fleet.on_line(&l, reveal) {
                    on(&c, &fleet);
                }
                if fleet.take_hosts_changed() {
                    hosts(&fleet);
                }
            }
            Ok(Msg::TooLong) => fleet.skipped += 1,
            Ok(Msg::Error(e)) => {
                note(format!("a source failed: {e}"));
                open -= 1;
            }
            Ok(Msg::Note(n)) => note(n),
            Ok(Msg::Done) => open -= 1,
            Err(_) => break,
        }
    }
    fleet
}

fn send_hosts(tx: &Sender<UiEvent>, fleet: &Fleet) {
    let stats = StatsMsg { hosts: fleet.hosts(), traffic_unknown: !fleet.has_traffic(), ..StatsMsg::default() };
    let _ = tx.send(UiEvent::Stats(Box::new(stats)));
}
