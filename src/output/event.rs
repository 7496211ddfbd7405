//! Events: the one renderer every event sink uses (the alert file, and any sink into another engine),
//! in the shapes SIEMs already parse.
//!
//! - **native**: the record of docs/alerts.md, byte for byte; with a sensor name it gains the fleet
//!   fields at its end (`community_id`, `pcap_cnt`, `sensor`, `run_id`, `event_id`, `event`).
//! - **eve**: Suricata's EVE JSON conventions (`event_type: alert`, `src_ip`..., an `alert` object),
//!   so that a pipeline built for Suricata (Logstash, Vector, Filebeat's suricata module, jq scripts)
//!   takes plainsight's events unchanged.
//! - **ecs**: the Elastic Common Schema (`@timestamp`, `event.*`, `source.*`, `destination.*`...).
//!
//! Every value comes from [`Alert::record`] (the secret and every field that could hold one rendered by
//! their slots, with the [`Reveal`] decision) or from fields that never hold a secret (addresses,
//! kind, counts): no text is ever searched for a secret. Every string is escaped as the alert file's are
//! ([`super::term::JsonEscapes`]), so an event is terminal-safe however it is printed.
//!
//! [`Throttle`] decides which repeats of a leak become update events (same event id, newer count,
//! verdict or attempt list) without writing a line per sighting.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::alert::community_id::{Transport, community_id_v1};
use crate::alert::{Alert, AlertRecord, Reveal, Severity};
use crate::detect::{LeakKind, SecretClass, Verdict};
use crate::time::Timestamp;

/// The shape of an event (`--alerts-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventFormat {
    Native,
    Eve,
    Ecs,
}

/// A leak's first event, or a later one about the same leak (same event id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    New,
    Update,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::New => "new",
            EventKind::Update => "update",
        }
    }
}

/// Who wrote the event: the same for every event of a run.
#[derive(Clone, Debug)]
pub struct EventMeta {
    /// The sensor's name (`--sensor`, default the host name). Empty: a native event stays exactly the
    /// record of docs/alerts.md, without the fleet fields.
    pub sensor: Arc<str>,
    /// This run's id ([`new_run_id`]).
    pub run_id: Arc<str>,
    /// The interface of a live capture (None when reading files).
    pub iface: Option<Arc<str>>,
}

/// The event id: unique across sensors and runs (a consumer drops duplicates by it).
pub fn event_id(alert: &Alert, meta: &EventMeta) -> String {
    format!("{}:{}:{}", meta.sensor, meta.run_id, alert.id.0)
}

/// The transport the leak crossed: SNMP is the one protocol of ours over UDP.
pub fn transport(kind: LeakKind) -> Transport {
    if kind == LeakKind::SnmpCommunity { Transport::Udp } else { Transport::Tcp }
}

/// The Community ID v1 (seed 0) of the flow of the sighting the alert describes.
pub fn community_id(alert: &Alert) -> String {
    community_id_v1(transport(alert.kind), alert.client, alert.server, 0)
}

/// Suricata's `flow_id` of that flow: stable within a run (it mixes the run id in), kept to 51 bits as
/// Suricata's are, so that it is exact in a JavaScript number (Kibana).
pub fn flow_id(alert: &Alert, run_id: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(run_id.as_bytes());
    h.update([0]);
    h.update(community_id(alert).as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b) & ((1 << 51) - 1)
}

/// Suricata's `signature_id` of a kind: a stable number per kind (FNV-1a of its name, so that adding a
/// kind never renumbers another), in 9,000,000-9,999,999, a range no Suricata rule set allocates.
pub fn signature_id(kind: LeakKind) -> u32 {
    signature_id_of(kind.as_str())
}

fn signature_id_of(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    9_000_000 + h % 1_000_000
}

/// The signature text of a kind: fixed per kind, as a Suricata rule's `msg` is (grouping by it works).
pub fn signature(kind: LeakKind, class: SecretClass) -> String {
    let what = match (kind, class) {
        (LeakKind::SslstripWindow | LeakKind::HstsMissing | LeakKind::MixedContent, _) => "TLS fix missing",
        (_, SecretClass::Password) => "password sent in clear text",
        (_, SecretClass::Token) => "token sent in clear text",
        (_, SecretClass::Material) => "crackable authentication material sent in clear text",
        (_, SecretClass::Identifier) => "identifier sent in clear text",
    };
    format!("PLAINSIGHT {} {what}", kind.as_str())
}

/// The one category of plainsight's signatures (Suricata's `policy-violation` classtype).
pub const CATEGORY: &str = "Potential Corporate Privacy Violation";

/// Suricata's severity, 1 the worst: critical and high 1, medium 2, low and info 3.
pub fn eve_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical | Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low | Severity::Info => 3,
    }
}

/// Suricata's `app_proto` names where they differ from ours.
fn app_proto(protocol: &'static str) -> &'static str {
    match protocol {
        "postgres" => "pgsql",
        p => p,
    }
}

/// The native record followed by the fleet fields: what a native event is with a sensor name, and
/// what `eve` and `ecs` nest under `plainsight`.
#[derive(Serialize)]
struct Fleet<'a> {
    #[serde(flatten)]
    record: &'a AlertRecord,
    community_id: &'a str,
    pcap_cnt: u64,
    sensor: &'a str,
    run_id: &'a str,
    event_id: &'a str,
    event: &'static str,
}

#[derive(Serialize)]
struct Eve<'a> {
    timestamp: String,
    flow_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_iface: Option<&'a str>,
    event_type: &'static str,
    src_ip: String,
    src_port: u16,
    dest_ip: String,
    dest_port: u16,
    proto: &'static str,
    app_proto: &'static str,
    community_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_cnt: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_filename: Option<&'a str>,
    /// Suricata's sensor name field.
    host: &'a str,
    alert: EveAlert,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<EveHttp<'a>>,
    plainsight: Fleet<'a>,
}

#[derive(Serialize)]
struct EveAlert {
    action: &'static str,
    gid: u32,
    signature_id: u32,
    rev: u32,
    signature: String,
    category: &'static str,
    severity: u8,
}

#[derive(Serialize)]
struct EveHttp<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_method: Option<&'a str>,
}

/// The ECS version whose field set the events follow.
pub const ECS_VERSION: &str = "8.11.0";

#[derive(Serialize)]
struct Ecs<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    ecs: EcsVersion,
    event: EcsEvent<'a>,
    source: Endpoint,
    destination: Endpoint,
    network: EcsNetwork<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<EcsUrl<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<EcsUser<'a>>,
    rule: EcsRule,
    observer: EcsObserver<'a>,
    plainsight: Fleet<'a>,
}

#[derive(Serialize)]
struct EcsVersion {
    version: &'static str,
}

#[derive(Serialize)]
struct EcsEvent<'a> {
    kind: &'static str,
    category: &'static [&'static str],
    #[serde(rename = "type")]
    type_: &'static [&'static str],
    outcome: &'static str,
    id: &'a str,
    action: &'static str,
    severity: u8,
    start: &'a str,
    end: &'a str,
    module: &'static str,
    dataset: &'static str,
}

#[derive(Serialize)]
struct Endpoint {
    ip: String,
    port: u16,
}

impl Endpoint {
    fn of(a: SocketAddr) -> Endpoint {
        Endpoint { ip: a.ip().to_string(), port: a.port() }
    }
}

#[derive(Serialize)]
struct EcsNetwork<'a> {
    transport: &'static str,
    protocol: &'static str,
    community_id: &'a str,
}

#[derive(Serialize)]
struct EcsUrl<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
}

#[derive(Serialize)]
struct EcsUser<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct EcsRule {
    id: String,
    name: &'static str,
    category: &'static str,
    description: String,
}

#[derive(Serialize)]
struct EcsObserver<'a> {
    name: &'a str,
    hostname: &'static str,
    #[serde(rename = "type")]
    type_: &'static str,
    product: &'static str,
    vendor: &'static str,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ingress: Option<EcsIngress<'a>>,
}

#[derive(Serialize)]
struct EcsIngress<'a> {
    interface: EcsInterface<'a>,
}

#[derive(Serialize)]
struct EcsInterface<'a> {
    name: &'a str,
}

/// The host part of a `Host` header (its port and an IPv6 literal's brackets taken off).
fn domain_of(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// One event for `alert`: one JSON object, no trailing newline, every string escaped as the alert
/// file's are.
pub fn render(alert: &Alert, kind: EventKind, reveal: Reveal, fmt: EventFormat, meta: &EventMeta) -> String {
    let rec = alert.record(reveal);
    if fmt == EventFormat::Native && meta.sensor.is_empty() {
        return to_json(&rec);
    }
    let cid = community_id(alert);
    let id = event_id(alert, meta);
    let fleet = Fleet {
        record: &rec,
        community_id: &cid,
        pcap_cnt: alert.first_packet,
        sensor: &meta.sensor,
        run_id: &meta.run_id,
        event_id: &id,
        event: kind.as_str(),
    };
    // A new event is dated by the first sighting, an update by the latest.
    let ts = match kind {
        EventKind::New => alert.first_seen,
        EventKind::Update => alert.last_seen,
    };
    match fmt {
        EventFormat::Native => to_json(&fleet),
        EventFormat::Eve => to_json(&eve(alert, &rec, fleet, ts, meta)),
        EventFormat::Ecs => to_json(&ecs(alert, &rec, fleet, ts, meta)),
    }
}

/// Suricata's timestamp format: local time with a numeric offset, here always UTC (`+0000`).
pub fn suricata_time(ts: Timestamp) -> String {
    let s = ts.rfc3339();
    match s.strip_suffix('Z') {
        Some(t) => format!("{t}+0000"),
        None => s,
    }
}

fn is_http(alert: &Alert) -> bool {
    matches!(alert.kind.protocol(), "http" | "websocket")
}

fn eve<'a>(alert: &Alert, rec: &'a AlertRecord, fleet: Fleet<'a>, ts: Timestamp, meta: &'a EventMeta) -> Eve<'a> {
    let t = transport(alert.kind);
    let http = (is_http(alert) && (rec.host.is_some() || rec.path.is_some())).then_some(EveHttp {
        hostname: rec.host.as_deref(),
        url: rec.path.as_deref(),
        http_method: rec.method.as_deref(),
    });
    Eve {
        timestamp: suricata_time(ts),
        flow_id: flow_id(alert, &meta.run_id),
        in_iface: meta.iface.as_deref(),
        event_type: "alert",
        src_ip: alert.client.ip().to_string(),
        src_port: alert.client.port(),
        dest_ip: alert.server.ip().to_string(),
        dest_port: alert.server.port(),
        proto: t.upper(),
        app_proto: app_proto(rec.protocol),
        community_id: fleet.community_id,
        pcap_cnt: meta.iface.is_none().then_some(alert.first_packet),
        pcap_filename: meta.iface.is_none().then_some(&*rec.capture),
        host: &meta.sensor,
        alert: EveAlert {
            action: "allowed",
            gid: 1,
            signature_id: signature_id(alert.kind),
            rev: 1,
            signature: signature(alert.kind, alert.class),
            category: CATEGORY,
            severity: eve_severity(alert.severity),
        },
        http,
        plainsight: fleet,
    }
}

fn ecs<'a>(alert: &Alert, rec: &'a AlertRecord, fleet: Fleet<'a>, ts: Timestamp, meta: &'a EventMeta) -> Ecs<'a> {
    let t = transport(alert.kind);
    let login = alert.verdict().is_some() || matches!(alert.class, SecretClass::Password | SecretClass::Material);
    let outcome = match alert.verdict() {
        Some(Verdict::Accepted) => "success",
        Some(Verdict::Refused) => "failure",
        Some(Verdict::Unknown) | None => "unknown",
    };
    let url = if is_http(alert) && (rec.host.is_some() || rec.path.is_some()) {
        // The path as its slots rendered it: a token in the query is shown redacted there.
        let (path, query) = match rec.path.as_deref() {
            Some(p) => match p.split_once('?') {
                Some((p, q)) => (Some(p), Some(q)),
                None => (Some(p), None),
            },
            None => (None, None),
        };
        Some(EcsUrl { domain: rec.host.as_deref().map(domain_of), path, query })
    } else {
        None
    };
    Ecs {
        timestamp: ts.rfc3339(),
        ecs: EcsVersion { version: ECS_VERSION },
        event: EcsEvent {
            kind: "alert",
            category: if login { &["network", "authentication"] } else { &["network"] },
            type_: &["info"],
            outcome,
            id: fleet.event_id,
            action: fleet.event,
            severity: eve_severity(alert.severity),
            start: &rec.first_seen,
            end: &rec.last_seen,
            module: "plainsight",
            dataset: "plainsight.alert",
        },
        source: Endpoint::of(alert.client),
        destination: Endpoint::of(alert.server),
        network: EcsNetwork { transport: t.lower(), protocol: rec.protocol, community_id: fleet.community_id },
        url,
        user: rec.user.as_deref().map(|name| EcsUser { name }),
        rule: EcsRule {
            id: signature_id(alert.kind).to_string(),
            name: alert.kind.as_str(),
            category: CATEGORY,
            description: signature(alert.kind, alert.class),
        },
        observer: EcsObserver {
            name: &meta.sensor,
            hostname: host_name(),
            type_: "sensor",
            product: "plainsight",
            vendor: "plainsight",
            version: env!("CARGO_PKG_VERSION"),
            ingress: meta.iface.as_deref().map(|name| EcsIngress { interface: EcsInterface { name } }),
        },
        plainsight: fleet,
    }
}

/// `value` as JSON through the alert file's escaping (C0, C1, bidi and invisible characters escaped).
/// Service rows a hosts event carries at most (the sensor's table holds up to
/// `pipeline::hosts::MAX_HOSTS`; a fleet view wants the busiest).
pub const MAX_HOSTS_PER_EVENT: usize = 512;

#[derive(Serialize)]
struct HostsBody<'a> {
    event: &'static str,
    sensor: &'a str,
    run_id: &'a str,
    hosts: &'a [crate::pipeline::HostStats],
}

#[derive(Serialize)]
struct EveHosts<'a> {
    timestamp: String,
    event_type: &'static str,
    host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_iface: Option<&'a str>,
    plainsight: HostsBody<'a>,
}

#[derive(Serialize)]
struct EcsHostsEvent {
    kind: &'static str,
    dataset: &'static str,
    module: &'static str,
}

#[derive(Serialize)]
struct EcsHostsObserver<'a> {
    name: &'a str,
    hostname: &'static str,
    product: &'static str,
}

#[derive(Serialize)]
struct EcsHosts<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    event: EcsHostsEvent,
    observer: EcsHostsObserver<'a>,
    plainsight: HostsBody<'a>,
}

/// The sensor's hosts view as one event (`plainsight.event: "hosts"`), sent to the sinks of a live run
/// now and then so that `plainsight watch` can show each service's TLS share across the fleet: EVE's
/// `event_type: "stats"`, ECS's `event.kind: "metric"`. Names and counts only: no secret is in it.
/// The busiest [`MAX_HOSTS_PER_EVENT`] services (by credentials, then requests and TLS connections).
pub fn render_hosts(hosts: &[crate::pipeline::HostStats], fmt: EventFormat, meta: &EventMeta, ts: Timestamp) -> String {
    let mut top: Vec<&crate::pipeline::HostStats> = hosts.iter().collect();
    top.sort_by(|a, b| {
        (b.credentials, b.http_requests + b.tls_flows).cmp(&(a.credentials, a.http_requests + a.tls_flows))
    });
    let kept: Vec<crate::pipeline::HostStats> = top.into_iter().take(MAX_HOSTS_PER_EVENT).cloned().collect();
    let body = HostsBody { event: "hosts", sensor: &meta.sensor, run_id: &meta.run_id, hosts: &kept };
    match fmt {
        EventFormat::Native => to_json(&body),
        EventFormat::Eve => to_json(&EveHosts {
            timestamp: suricata_time(ts),
            event_type: "stats",
            host: &meta.sensor,
            in_iface: meta.iface.as_deref(),
            plainsight: body,
        }),
        EventFormat::Ecs => to_json(&EcsHosts {
            timestamp: ts.rfc3339(),
            event: EcsHostsEvent { kind: "metric", dataset: "plainsight.hosts", module: "plainsight" },
            observer: EcsHostsObserver { name: &meta.sensor, hostname: host_name(), product: "plainsight" },
            plainsight: body,
        }),
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    let mut buf = Vec::with_capacity(1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, super::term::JsonEscapes);
    if value.serialize(&mut ser).is_err() {
        // Our own structs of strings and numbers: serde_json cannot fail on them.
        return "{}".to_string();
    }
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// This machine's host name (the default sensor name, ECS's `observer.hostname`), read once.
pub fn host_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    })
}

/// This process's run id ([`new_run_id`], drawn once): every sink of a run writes the same.
pub fn run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(new_run_id)
}

/// A run id: 16 hex digits from the kernel's random source (or, where it cannot be read, a hash of
/// the clock, the process id and an address), different for every run, so that the alert ids (1, 2,
/// ... in every run) of many runs and sensors never collide in one engine.
pub fn new_run_id() -> String {
    use std::io::Read as _;
    let mut b = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if read.is_err() {
        use sha2::{Digest, Sha256};
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(now.as_nanos().to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        b.copy_from_slice(&h.finalize()[..8]);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Repeats of one leak turned into at most one update event per [`UPDATE_EVERY_MICROS`] of capture
/// time (its latest state), a change of verdict or of the attempt list written at once, and the last
/// state of each leak flushed at the end: a token replayed 10,000 times is a handful of lines.
pub const UPDATE_EVERY_MICROS: i64 = 1_000_000;

/// Leaks whose last written state is remembered. The alert book remembers at most this many by
/// default, and only remembered leaks are seen again; past it updates are not written, counted.
pub const MAX_TRACKED: usize = 100_000;

struct Written {
    at: Timestamp,
    verdict: Option<Verdict>,
    users: usize,
}

/// Which repeats become update events (see [`UPDATE_EVERY_MICROS`]).
#[derive(Default)]
pub struct Throttle {
    written: HashMap<u64, Written>,
    /// The latest state of leaks whose update waits for its second to pass.
    pending: HashMap<u64, Box<Alert>>,
    now: Timestamp,
    last_sweep: Timestamp,
    /// Updates folded into a later one (never written on their own).
    pub suppressed: u64,
    /// Updates not written because [`MAX_TRACKED`] leaks were already tracked.
    pub untracked: u64,
}

impl Throttle {
    /// A leak's first event was written.
    pub fn on_new(&mut self, a: &Alert, out: &mut Vec<Alert>) {
        if self.written.len() < MAX_TRACKED {
            self.written.insert(a.id.0, Written { at: a.last_seen, verdict: a.verdict(), users: a.users.len() });
        }
        self.advance(a.last_seen, out);
    }

    /// A leak was seen again: the updates to write now (this one, or pending ones whose second passed).
    pub fn on_repeat(&mut self, a: &Alert, out: &mut Vec<Alert>) {
        let ts = a.last_seen;
        let tracked = self.written.len() < MAX_TRACKED;
        let w = match self.written.get_mut(&a.id.0) {
            Some(w) => w,
            None if tracked => self.written.entry(a.id.0).or_insert(Written {
                at: Timestamp(i64::MIN),
                verdict: a.verdict(),
                users: a.users.len(),
            }),
            None => {
                self.untracked += 1;
                return;
            }
        };
        let changed = w.verdict != a.verdict() || w.users != a.users.len();
        if changed || ts.0.saturating_sub(w.at.0) >= UPDATE_EVERY_MICROS {
            *w = Written { at: ts, verdict: a.verdict(), users: a.users.len() };
            if self.pending.remove(&a.id.0).is_some() {
                // Its state is in this one.
                self.suppressed += 1;
            }
            out.push(a.clone());
        } else if self.pending.insert(a.id.0, Box::new(a.clone())).is_some() {
            self.suppressed += 1;
        }
        self.advance(ts, out);
    }

    /// Capture time moved on: pending updates whose second passed are due (checked once a second).
    fn advance(&mut self, ts: Timestamp, out: &mut Vec<Alert>) {
        if ts > self.now {
            self.now = ts;
        }
        if self.pending.is_empty() || self.now.0.saturating_sub(self.last_sweep.0) < UPDATE_EVERY_MICROS {
            return;
        }
        self.last_sweep = self.now;
        let now = self.now;
        let written = &mut self.written;
        let mut due: Vec<u64> = self
            .pending
            .keys()
            .copied()
            .filter(|id| written.get(id).is_none_or(|w| now.0.saturating_sub(w.at.0) >= UPDATE_EVERY_MICROS))
            .collect();
        due.sort_unstable();
        for id in due {
            if let Some(a) = self.pending.remove(&id) {
                if let Some(w) = written.get_mut(&id) {
                    *w = Written { at: now, verdict: a.verdict(), users: a.users.len() };
                }
                out.push(*a);
            }
        }
    }

    /// The end of the run: every pending update, in the order of the leaks.
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        let mut ids: Vec<u64> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(a) = self.pending.remove(&id) {
                out.push(*a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::alert::{AlertBook, Collector, Context, Secret, Text};
    use crate::detect::{Confidence, Finding};

    fn finding(secret: &str) -> Finding {
        Finding {
            kind: LeakKind::UrlToken,
            class: SecretClass::Token,
            confidence: Confidence::High,
            secret: Secret::new(secret),
            user: Some(Text::lit("alice")),
            location: "query access_token".into(),
            evidence: "token in the query".into(),
            jwt: None,
            login: None,
            span: None,
        }
    }

    fn ctx(ts: i64, secret: &str) -> Context {
        let mut path = Text::lit("/api?access_token=");
        path.push_secret(Secret::new(secret));
        Context {
            ts: Timestamp(ts),
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:8080".parse().unwrap(),
            host: Some("api.lab:8080".into()),
            method: Some("GET".into()),
            path: Some(path),
            capture: Arc::from("t.pcap"),
            excerpt: Arc::from(Vec::<Text>::new()),
            packet: 7,
            conversation: None,
        }
    }

    fn meta(sensor: &str) -> EventMeta {
        EventMeta { sensor: Arc::from(sensor), run_id: Arc::from("00112233aabbccdd"), iface: None }
    }

    fn alert() -> Alert {
        let mut book = AlertBook::default();
        let mut sink = Collector::default();
        book.record(&finding("tok-SECRET-123456"), &ctx(1_795_000_000_123_456, "tok-SECRET-123456"), &mut sink);
        sink.0.remove(0)
    }

    #[test]
    fn native_without_a_sensor_is_the_record_exactly() {
        let a = alert();
        let got = render(&a, EventKind::New, Reveal::Redacted, EventFormat::Native, &meta(""));
        let mut want = Vec::new();
        crate::output::term::to_json_line(&mut want, &a.record(Reveal::Redacted)).unwrap();
        assert_eq!(format!("{got}\n"), String::from_utf8(want).unwrap());
    }

    #[test]
    fn native_with_a_sensor_appends_the_fleet_fields_at_the_end() {
        let a = alert();
        let got = render(&a, EventKind::Update, Reveal::Redacted, EventFormat::Native, &meta("s1"));
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["event_id"], "s1:00112233aabbccdd:1");
        assert_eq!(v["event"], "update");
        assert_eq!(v["pcap_cnt"], 7);
        assert!(got.ends_with(r#""event":"update"}"#), "{got}");
        assert!(got.starts_with(r#"{"id":1,"kind":"url_token""#), "{got}");
    }

    #[test]
    fn eve_and_ecs_carry_their_fields_and_never_the_secret_unless_revealed() {
        let a = alert();
        for fmt in [EventFormat::Eve, EventFormat::Ecs] {
            let got = render(&a, EventKind::New, Reveal::Redacted, fmt, &meta("s1"));
            assert!(!got.contains("tok-SECRET-123456"), "{got}");
            let full = render(&a, EventKind::New, Reveal::Full, fmt, &meta("s1"));
            assert!(full.contains("tok-SECRET-123456"), "{full}");
        }
        let eve: serde_json::Value =
            serde_json::from_str(&render(&a, EventKind::New, Reveal::Redacted, EventFormat::Eve, &meta("s1"))).unwrap();
        assert_eq!(eve["timestamp"], "2026-11-18T11:06:40.123456+0000");
        assert_eq!(eve["proto"], "TCP");
        assert_eq!(eve["dest_port"], 8080);
        assert_eq!(eve["alert"]["severity"], 1);
        assert_eq!(eve["pcap_cnt"], 7);
        assert_eq!(eve["community_id"], community_id_v1(Transport::Tcp, a.client, a.server, 0));
        let ecs: serde_json::Value =
            serde_json::from_str(&render(&a, EventKind::New, Reveal::Redacted, EventFormat::Ecs, &meta("s1"))).unwrap();
        assert_eq!(ecs["url"]["domain"], "api.lab");
        assert_eq!(ecs["url"]["path"], "/api");
        assert!(ecs["url"]["query"].as_str().unwrap().starts_with("access_token=…["), "{ecs}");
        assert_eq!(ecs["event"]["outcome"], "unknown");
        assert_eq!(ecs["user"]["name"], "alice");
    }

    #[test]
    fn hostile_text_is_escaped_in_every_format() {
        let mut a = alert();
        a.host = Some("evil\x1b]52;c;aGk=\x07\u{202e}.lab".into());
        for fmt in [EventFormat::Native, EventFormat::Eve, EventFormat::Ecs] {
            let got = render(&a, EventKind::New, Reveal::Redacted, fmt, &meta("s1"));
            assert!(!got.chars().any(crate::output::term::is_unsafe), "{got}");
            serde_json::from_str::<serde_json::Value>(&got).unwrap();
        }
    }

    #[test]
    fn run_ids_are_sixteen_hex_digits_new_each_time_and_one_per_process() {
        let (a, b) = (new_run_id(), new_run_id());
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert!(id.len() == 16 && id.bytes().all(|c| c.is_ascii_hexdigit()), "{id}");
        }
        assert_eq!(run_id(), run_id());
    }

    #[test]
    fn domain_of_drops_the_port_and_brackets() {
        assert_eq!(domain_of("api.lab:8080"), "api.lab");
        assert_eq!(domain_of("api.lab"), "api.lab");
        assert_eq!(domain_of("[2001:db8::1]:80"), "2001:db8::1");
        assert_eq!(domain_of("2001:db8::1"), "2001:db8::1");
    }

    /// Every kind the docs list gets its own signature id.
    #[test]
    fn signature_ids_are_distinct_for_every_documented_kind() {
        let doc = include_str!("../../docs/alerts.md");
        let kinds: Vec<&str> = doc
            .split("## Kinds")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(k, _)| k))
            .collect();
        assert!(kinds.len() > 30, "{kinds:?}");
        let mut ids: Vec<u32> = kinds.iter().map(|k| signature_id_of(k)).collect();
        assert_eq!(signature_id(LeakKind::BearerJwt), signature_id_of("bearer_jwt"));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), kinds.len());
    }

    #[test]
    fn ten_thousand_repeats_in_three_seconds_are_a_few_updates_and_the_last_state_is_flushed() {
        let mut a = alert();
        let mut t = Throttle::default();
        let mut out = Vec::new();
        t.on_new(&a, &mut out);
        let start = a.last_seen;
        for i in 1..=10_000i64 {
            a.count += 1;
            a.last_seen = start.add_micros(i * 300);
            t.on_repeat(&a, &mut out);
        }
        assert!(out.len() <= 4, "{}", out.len());
        t.finish(&mut out);
        assert_eq!(out.last().map(|x| x.count), Some(10_001));
        assert_eq!(t.suppressed + out.len() as u64, 10_000);
    }

    #[test]
    fn a_verdict_or_a_new_user_is_written_at_once() {
        let mut a = alert();
        let mut t = Throttle::default();
        let mut out = Vec::new();
        t.on_new(&a, &mut out);
        a.count += 1;
        a.users.push(Text::lit("bob"));
        t.on_repeat(&a, &mut out);
        assert_eq!(out.len(), 1);
    }
}
