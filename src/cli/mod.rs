//! Command-line interface: argument definitions (clap) and one runner per subcommand.
//!
//! Exit codes are part of the contract scripts rely on: 0 success, 1 a leak was found with
//! `--fail-on-leak` (a credential in clear; crackable material too with `--fail-on-material`), 2 a usage error or an unreadable/damaged input (clap's own usage errors are 2 too).

mod deploy;
mod live;
mod read;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

pub const EXIT_LEAK: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

const EXAMPLES: &str = "\
Examples:
  plainsight read captures/demo.pcap
      Report every credential sent in clear text in a capture file.
  plainsight read --alerts leaks.jsonl --fail-on-leak -f 'tcp port 8080' ci.pcapng
      CI gate: JSON alerts to a file (mode 0600), exit 1 if anything leaked.
  plainsight read --reveal captures/demo.pcap
      Training lab: show the secrets in full.
  sudo plainsight live -i eth0 -f 'tcp port 80 or tcp port 8080'
      Watch a LAN interface in the terminal UI.
  plainsight live -i eth0 --no-tui --alerts - --duration 60
      One minute of JSON alerts on stdout, for pipes and services.
  plainsight interfaces
      List capture devices.";

/// Prove, from the wire, which credentials an application sends without TLS.
#[derive(Parser, Debug)]
#[command(name = "plainsight", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse capture files (pcap or pcapng).
    #[command(after_help = EXAMPLES)]
    Read(ReadArgs),
    /// Capture on a network interface and report leaks as they happen.
    #[command(after_help = EXAMPLES)]
    Live(LiveArgs),
    /// List capture interfaces.
    Interfaces,
    /// Watch the leaks of many sensors in one view, merged by secret: their events read back from the
    /// engine they send to (Redis, `--sink`), or from alert files.
    Watch(watch::WatchArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to standard output, e.g.
    /// `plainsight completions bash > /etc/bash_completion.d/plainsight`.
    Completions {
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output, or write one page per command into DIR.
    Manpage {
        /// Write plainsight.1, plainsight-read.1, plainsight-live.1... into DIR instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Options shared by `read` and `live`.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// BPF filter in libpcap syntax (applied to files too), e.g. 'tcp port 80'.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Write alerts as JSON lines to PATH (created with mode 0600); '-' is standard output.
    #[arg(long, value_name = "PATH")]
    pub alerts: Option<PathBuf>,
    /// Shape of each alert event: native (docs/alerts.md), eve (Suricata EVE JSON: event_type alert,
    /// src_ip, community_id, an alert object...), ecs (Elastic Common Schema). eve and ecs events of
    /// `live` also say when a leak's count, verdict or users change (an update, same event id).
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "native")]
    pub alerts_format: AlertsFormat,
    /// Sensor name written in every event, with the run id, so that events of many sensors and runs
    /// never collide (default: the host name). A native event gains the fleet fields (community_id,
    /// pcap_cnt, sensor, run_id, event_id, event) only when this is given.
    #[arg(long, value_name = "NAME")]
    pub sensor: Option<String>,
    /// Print secrets in full in every output (training labs). Redacted by default.
    #[arg(long)]
    pub reveal: bool,
    /// Exit with status 1 when a credential was found in clear (crackable material alone does not
    /// count: see --fail-on-material).
    #[arg(long)]
    pub fail_on_leak: bool,
    /// Exit with status 1 when a hash-only exchange gave crackable material (CRAM-MD5, SCRAM, Digest,
    /// NTLM, MySQL native, PostgreSQL md5), as well as with --fail-on-leak's cleartext leaks.
    #[arg(long)]
    pub fail_on_material: bool,
    /// Write the crackable material of hash-only exchanges (CRAM-MD5, PostgreSQL md5, MySQL native,
    /// NetNTLMv1/v2, HTTP Digest) to FILE at the end, one line each in hashcat's formats (mode 0600).
    /// Only with --reveal: the lines are the hashes themselves.
    #[arg(long, value_name = "FILE")]
    pub export_hashes: Option<PathBuf>,
    /// Print packet, flow, reassembly and HTTP counters to standard error at the end.
    #[arg(long)]
    pub stats: bool,
    /// Also report low-confidence findings.
    #[arg(long)]
    pub include_low: bool,
    /// Bytes of each HTTP body handed to the detectors; the rest is skipped unbuffered.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// Most concurrent TCP flows tracked (all analysis threads together); the least recently active is
    /// evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = 262_144)]
    pub max_flows: usize,
    /// TCP/UDP checksums: auto drops bad segments from hosts seen sending good ones and accepts those of
    /// hosts whose every checksum is bad (offload on the capturing host); verify drops every bad one;
    /// off accepts all.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Checksums::Auto)]
    pub checksums: Checksums,
    /// Memory budget for everything the analysis holds on behalf of the traffic (flow tables,
    /// out-of-order bytes, partial HTTP heads, kept bodies), all threads together: when it is full, the
    /// flows holding the most give way first. Bytes, or with a suffix: 64M, 1G.
    #[arg(long, value_name = "BYTES", default_value = "128M", value_parser = parse_memcap)]
    pub memcap: usize,
    /// Colours in the terminal UI: auto (off when NO_COLOR is set or TERM is dumb), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorMode,
    /// Also deliver every alert to an engine (repeatable): redis://HOST[:PORT]/KEY,
    /// rediss://[USER:PASS@]HOST[:PORT]/KEY (TLS; ca=PEM), redis+unix:///PATH?key=KEY; mode=list
    /// (LPUSH, push=rpush) or mode=stream (XADD ... MAXLEN ~ maxlen=N * eve JSON), as Suricata's redis
    /// output (default key "suricata"). A password (URL, or PLAINSIGHT_REDIS_PASSWORD and
    /// PLAINSIGHT_REDIS_USER) only over TLS or a unix socket. See docs/sinks.md.
    #[arg(long, value_name = "URL")]
    pub sink: Vec<String>,
    /// Keep the events a sink could not deliver yet in DIR (created 0700, files 0600), replayed in
    /// order when the engine is back, also by the next run with the same DIR. Without it they wait in
    /// memory (16 MiB at most) and are lost at exit.
    #[arg(long, value_name = "DIR", requires = "sink")]
    pub spool: Option<PathBuf>,
    /// Most bytes each sink's spool holds; past it new events are dropped and counted.
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = plainsight::memory::parse_size)]
    pub spool_max: usize,
    /// At the end, how long to keep delivering what is left (an engine away), before leaving it in
    /// the spool.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    pub sink_timeout: f64,
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds (0 to 86400)")),
    }
}

/// `--alerts-format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertsFormat {
    Native,
    Eve,
    Ecs,
}

impl AlertsFormat {
    pub fn event_format(self) -> plainsight::output::event::EventFormat {
        use plainsight::output::event::EventFormat;
        match self {
            AlertsFormat::Native => EventFormat::Native,
            AlertsFormat::Eve => EventFormat::Eve,
            AlertsFormat::Ecs => EventFormat::Ecs,
        }
    }
}

/// `--color`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

impl ColorMode {
    /// Whether the UI uses colours (<https://no-color.org>: a non-empty NO_COLOR turns them off).
    pub fn enabled(self) -> bool {
        match self {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

fn parse_memcap(s: &str) -> Result<usize, String> {
    let n = plainsight::memory::parse_size(s)?;
    // Below this the flow table cannot hold its first chunk of slots beside anything else.
    if n < 1 << 20 {
        return Err(format!("{s:?} is less than the smallest budget, 1M"));
    }
    Ok(n)
}

/// `--checksums`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksums {
    Auto,
    Verify,
    Off,
}

#[derive(Args, Debug)]
pub struct ReadArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Do not print the end-of-run report.
    #[arg(long)]
    pub no_report: bool,
    /// No progress line on standard error.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the leaks in the terminal UI (stays open after the files are read; q quits).
    #[arg(long)]
    pub tui: bool,
    /// Write the alert file when the run ends instead of as leaks are found: one line per leak with its
    /// final count, last_seen and users (a brute force folded into one alert shows its attempts).
    #[arg(long, requires = "alerts")]
    pub alerts_at_end: bool,
    /// Analysis threads for files: flows are sharded across them (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write the packets of every connection that leaked to FILE (pcapng if it ends in .pcapng, else
    /// pcap), to open exactly them in Wireshark. The packets carry the secrets in full: needs --reveal.
    #[arg(long, value_name = "FILE", conflicts_with = "tui")]
    pub write_leaks: Option<PathBuf>,
    /// Capture files to analyse, in order (pcap or pcapng, also gzip- or zstd-compressed); a directory is
    /// read recursively in name order; `-` is standard input (e.g. `tcpdump -U -w - | plainsight read -`).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Do not print the report when the terminal UI is quit.
    #[arg(long)]
    pub no_report: bool,
    /// Interface to capture on (default: libpcap's default device).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Stop after SECS seconds (Ctrl-C and SIGTERM also stop cleanly).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Print alerts as lines on stdout instead of the terminal UI (for services and pipes).
    #[arg(long)]
    pub no_tui: bool,
    /// When started as root, drop to this user once the capture is open (as tcpdump -Z).
    #[arg(long, value_name = "USER", default_value = "nobody")]
    pub user: String,
    /// Bytes captured per packet.
    #[arg(long, value_name = "BYTES", default_value_t = 262_144)]
    pub snaplen: i32,
    /// Kernel capture buffer, in MiB (bursts beyond it are dropped by the kernel and counted).
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    pub buffer_mib: usize,
    /// Keep a bounded ring of the recent traffic: COUNT pcap files of at most SIZE bytes in DIR
    /// (`ring-000.pcap`...; the newest is the most recently modified), as tcpdump -C -W. The packets
    /// hold the secrets in full: needs --reveal.
    #[arg(long, value_name = "DIR,SIZE,COUNT")]
    pub ring: Option<plainsight::capture::ring::RingSpec>,
    /// Linux: N capture handles on the interface in one PACKET_FANOUT_HASH group (the kernel spreads
    /// flows over them by a symmetric hash of their 5-tuple, fragments put back together first), each
    /// feeding its own analysis thread; their alerts are merged. Each handle has its own --buffer-mib
    /// ring; --memcap and --max-flows are for all of them together.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=plainsight::capture::fanout::MAX_FANOUT as i64))]
    pub fanout: u16,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Read(args) => read::run(args),
        Command::Live(args) => live::run(args),
        Command::Interfaces => interfaces(),
        Command::Watch(args) => watch::run(args),
        Command::Completions { shell } => deploy::completions(shell),
        Command::Manpage { dir } => deploy::manpage(dir.as_deref()),
    }
}

fn interfaces() -> anyhow::Result<ExitCode> {
    let list = plainsight::capture::interfaces().map_err(|e| anyhow::anyhow!("cannot list interfaces: {e}"))?;
    if list.is_empty() {
        println!("no capture interfaces found (capturing may need CAP_NET_RAW and CAP_NET_ADMIN)");
    }
    for i in list {
        let mut flags = vec![if i.up { "up" } else { "down" }];
        if i.running {
            flags.push("running");
        }
        if i.loopback {
            flags.push("loopback");
        }
        if i.wireless {
            flags.push("wireless");
        }
        let addrs = if i.addresses.is_empty() { "-".to_string() } else { i.addresses.join(", ") };
        let desc = i.description.map(|d| format!("  ({d})")).unwrap_or_default();
        println!("{:<16} [{}]  {addrs}{desc}", i.name, flags.join(","));
    }
    Ok(ExitCode::SUCCESS)
}

impl CommonArgs {
    pub fn engine_config(&self) -> plainsight::pipeline::Config {
        let mut cfg = plainsight::pipeline::Config::default();
        cfg.http.max_body_bytes = self.max_body;
        cfg.reassembly.max_flows = self.max_flows.max(1);
        cfg.budget = plainsight::memory::Budget::new(self.memcap);
        cfg.detect.include_low_confidence = self.include_low;
        cfg.checksums = match self.checksums {
            Checksums::Auto => plainsight::decode::checksum::Mode::Auto,
            Checksums::Verify => plainsight::decode::checksum::Mode::Verify,
            Checksums::Off => plainsight::decode::checksum::Mode::Off,
        };
        cfg
    }
    /// Refuses `--export-hashes` without `--reveal`: the file holds the hashes in the clear, which the
    /// redacted default must never write. Refuses a `--sink` URL that does not parse or would send a
    /// password in clear.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.export_hashes.is_some() && !self.reveal {
            anyhow::bail!(
                "--export-hashes writes the captured hashes in the clear (what a cracker needs): it needs --reveal as well"
            );
        }
        self.sink_urls()?;
        Ok(())
    }

    /// `--sink`, parsed and checked.
    pub fn sink_urls(&self) -> anyhow::Result<Vec<plainsight::output::sink::target::SinkUrl>> {
        use plainsight::output::sink::target::{EnvAuth, SinkUrl};
        let env = EnvAuth::from_env();
        let mut v = Vec::new();
        for s in &self.sink {
            v.push(SinkUrl::parse(s, &env).map_err(|e| anyhow::anyhow!("--sink {e}"))?);
        }
        Ok(v)
    }

    /// Start the delivery threads of `--sink` (none: an empty set). `notify` says what happens to an
    /// engine (away, back); None keeps quiet (the terminal UI owns the screen).
    /// The sinks of `--sink`, their queues and memory backlogs reserved off `budget` (the run's).
    pub fn start_sinks(
        &self,
        quiet: bool,
        iface: Option<&str>,
        budget: &plainsight::memory::Budget,
    ) -> anyhow::Result<plainsight::output::sink::Sinks> {
        use plainsight::output::event::{self, EventKind};
        use plainsight::output::sink::{Encoder, Notify, SinkOptions, Sinks};
        let urls = self.sink_urls()?;
        if urls.is_empty() {
            return Ok(Sinks::none());
        }
        let opts = SinkOptions {
            spool: self.spool.clone(),
            spool_max: self.spool_max as u64,
            timeout: std::time::Duration::from_secs_f64(self.sink_timeout),
            budget: Some(budget.clone()),
        };
        let notify: Notify = if quiet {
            std::sync::Arc::new(|_: &str| {})
        } else {
            std::sync::Arc::new(|m: &str| eprintln!("plainsight: {m}"))
        };
        // The events the alert file would hold, in the same format, with the same sensor and run.
        let (reveal, format, meta) = (self.reveal(), self.alerts_format.event_format(), self.event_meta(iface));
        let encoder: Encoder = Box::new(move |a, update| {
            event::render(a, if update { EventKind::Update } else { EventKind::New }, reveal, format, &meta)
        });
        let updates = iface.is_some() && (self.alerts_format != AlertsFormat::Native || self.sensor.is_some());
        Ok(Sinks::start(&urls, &opts, encoder, notify)?.with_updates(updates))
    }

    /// The encoder of a live run's hosts events for `--sink` (None without a sensor name: a plain
    /// native run has no fleet fields for `watch` to merge by).
    pub fn hosts_encoder(&self, iface: &str) -> Option<plainsight::output::sink::HostsEncoder> {
        use plainsight::output::event;
        let meta = self.event_meta(Some(iface));
        if self.sink.is_empty() || meta.sensor.is_empty() {
            return None;
        }
        let format = self.alerts_format.event_format();
        Some(Box::new(move |hosts| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let ts =
                plainsight::time::Timestamp::from_secs_micros(now.as_secs() as i64, i64::from(now.subsec_micros()));
            event::render_hosts(hosts, format, &meta, ts)
        }))
    }

    /// At the end: every sink delivers what it can within `--sink-timeout`. Returns the `--stats`
    /// lines and the lines that say what stays undelivered (for standard error, once the terminal is
    /// free).
    pub fn finish_sinks(&self, sinks: plainsight::output::sink::Sinks) -> (String, Vec<String>) {
        let mut stats = String::new();
        let mut left = Vec::new();
        for r in sinks.finish() {
            left.extend(r.leftover_line().map(|l| format!("plainsight: {l}")));
            stats.push_str(&r.render_stats());
        }
        (stats, left)
    }

    /// Writes `--export-hashes` at the end of a run and says what it wrote on standard error.
    pub fn export_hashes(&self, alerts: &[plainsight::alert::Alert]) -> anyhow::Result<()> {
        let Some(path) = &self.export_hashes else { return Ok(()) };
        let e = plainsight::output::hashes::export(path, alerts)
            .map_err(|e| anyhow::anyhow!("cannot write the hash file: {e}"))?;
        eprintln!("plainsight: {}: {}", path.display(), e.summary());
        Ok(())
    }

    /// Whether the leaks found fail the run (exit status 1): cleartext leaks with `--fail-on-leak`,
    /// material with `--fail-on-material`.
    pub fn fails(&self, cleartext: u64, material: u64) -> bool {
        (self.fail_on_leak && cleartext > 0) || (self.fail_on_material && material > 0)
    }

    /// Who writes this run's events: the sensor (`--sensor`, or the host name; a native event stays
    /// the plain record without `--sensor`), the run id (one per process, shared by every sink), and
    /// the interface of a live capture.
    pub fn event_meta(&self, iface: Option<&str>) -> plainsight::output::event::EventMeta {
        use plainsight::output::event;
        let sensor = match (&self.sensor, self.alerts_format) {
            (Some(s), _) => s.clone(),
            (None, AlertsFormat::Native) => String::new(),
            (None, _) => event::host_name().to_string(),
        };
        event::EventMeta {
            sensor: sensor.into(),
            run_id: event::run_id().into(),
            iface: iface.map(std::sync::Arc::from),
        }
    }

    /// The alert file in the shape asked for. Update events are written by live runs only, and in
    /// native only with `--sensor` (the native file of docs/alerts.md has one line per leak); `read`
    /// writes first sightings (its `--alerts-at-end` writes final states).
    pub fn open_alerts(
        &self,
        path: &std::path::Path,
        iface: Option<&str>,
    ) -> Result<plainsight::output::jsonl::JsonLines, plainsight::output::file::OutputFileError> {
        let live = iface.is_some();
        let updates = live && (self.alerts_format != AlertsFormat::Native || self.sensor.is_some());
        let j = plainsight::output::jsonl::JsonLines::create(path, self.reveal())?;
        Ok(j.events(self.alerts_format.event_format(), self.event_meta(iface), updates))
    }

    pub fn reveal(&self) -> plainsight::alert::Reveal {
        if self.reveal { plainsight::alert::Reveal::Full } else { plainsight::alert::Reveal::Redacted }
    }
}
