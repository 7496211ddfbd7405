//! Fleet: the alert events of many sensors merged into one set of leaks (`plainsight watch`).
//!
//! A sensor writes events in any of plainsight's formats with the fleet fields (`--alerts-format eve` or
//! `ecs`, or native with `--sensor`): the native record is at the top of the event or under its
//! `plainsight` object, beside `sensor`, `run_id`, `event_id` and `event` (`new` or `update`). This stage
//! reads them back (from the engine they were sent to, or from alert files), and merges them:
//! - one leak per secret across sensors: (kind, fingerprint), or (kind, server) for a group of refused
//!   logins: one stolen token seen on two segments is one leak with both sensors;
//! - an update event (same event id) replaces that sensor's count; the merged count is the sum over the
//!   sensors' latest counts, first and last seen the earliest and latest, an accepted verdict wins.
//!
//! Live sensors also send their hosts view now and then (`plainsight.event: "hosts"`): the latest of
//! each sensor run is kept, and the fleet's hosts view sums them (TLS share included).
//!
//! Events are hostile input like packets: a line that is not an event is counted and skipped
//! ([`Fleet::skipped`]), and every string reaches a terminal through the sinks' sanitiser.
//!
//! Redaction holds across sensors: a redacted event's secret becomes [`Secret::known_by`] (its length and
//! fingerprint, which is all a redacted event has), so it renders exactly as the sensor's own redacted
//! outputs. An event carrying a secret in full (a sensor run with `--reveal`) is shown in full only with
//! `watch --reveal`; without it its secret is held and shown redacted, and the fields that could quote it
//! (path, user names) are withheld, never searched and replaced.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::Deserialize;

use crate::alert::{Alert, AlertId, Reveal, Secret, Text};
use crate::detect::jwt::JwtInfo;
use crate::detect::{Confidence, LeakKind, LoginInfo, SecretClass, TlsNote, Verdict};
use crate::time::Timestamp;

/// Leaks kept, and event ids remembered (for updates): a fleet is large, a terminal is not; beyond
/// them, or beyond the bytes the fleet may hold ([`Fleet::with_max_bytes`], `watch --memcap`), new
/// leaks are counted in [`Fleet::dropped`].
pub const MAX_LEAKS: usize = 100_000;
/// Bytes a merged leak costs beyond its alert (its entry, its key, its sensors and counts to start).
const MERGED_OVERHEAD: usize = 512;
/// Sensors named per leak.
pub const MAX_SENSORS: usize = 32;
/// Sensor runs whose hosts view is kept (the latest of each), and services per view.
pub const MAX_TRAFFIC_SOURCES: usize = 256;
pub const MAX_HOSTS_PER_SOURCE: usize = 512;

/// One event of one sensor.
#[derive(Clone, Debug)]
pub struct Event {
    pub sensor: String,
    pub event_id: String,
    /// An update of an earlier event (same id): its count, verdict or users changed.
    pub update: bool,
    pub alert: Alert,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a plainsight event: {0}")]
    Shape(String),
    #[error("malformed {0}")]
    Field(&'static str),
}

/// The native record as events carry it (unknown fields ignored).
#[derive(Deserialize)]
struct Record {
    id: u64,
    kind: LeakKind,
    severity: crate::alert::Severity,
    confidence: Confidence,
    class: SecretClass,
    first_seen: String,
    last_seen: String,
    count: u64,
    client: String,
    server: String,
    host: Option<String>,
    method: Option<String>,
    path: Option<String>,
    user: Option<String>,
    secret: String,
    redacted: bool,
    fingerprint: String,
    location: String,
    evidence: String,
    #[serde(default)]
    capture: String,
    jwt: Option<JwtInfo>,
    verdict: Option<Verdict>,
    starttls: Option<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    sensor: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    pcap_cnt: Option<u64>,
}

/// `…[11 chars, fp 48486e1514e8]` -> 11.
fn redacted_chars(s: &str) -> Option<usize> {
    s.strip_prefix("…[")?.split_once(" chars, fp ")?.0.parse().ok()
}

fn is_fingerprint(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One line of a sensor's events. `reveal` is the watcher's own decision (see the module's words).
pub fn parse(line: &str, reveal: Reveal) -> Result<Event, EventError> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| EventError::Json(e.to_string()))?;
    let obj = match v.get("plainsight") {
        Some(p) if p.is_object() => p,
        _ => &v,
    };
    let r: Record = Record::deserialize(obj).map_err(|e| EventError::Shape(e.to_string()))?;
    if !is_fingerprint(&r.fingerprint) {
        return Err(EventError::Field("fingerprint"));
    }
    let secret = if r.redacted {
        let chars = redacted_chars(&r.secret).ok_or(EventError::Field("secret"))?;
        Secret::known_by(chars, &r.fingerprint)
    } else {
        let s = Secret::new(&r.secret);
        // A secret in full must be the one its fingerprint names.
        if s.fingerprint() != r.fingerprint {
            return Err(EventError::Field("secret (its fingerprint does not match)"));
        }
        s
    };
    // A revealed event watched without --reveal: its free text could quote the secret.
    let withhold = !r.redacted && reveal == Reveal::Redacted;
    let ts = |s: &str, what| Timestamp::parse_rfc3339(s).ok_or(EventError::Field(what));
    let addr = |s: &str, what| s.parse::<SocketAddr>().map_err(|_| EventError::Field(what));
    let (first_seen, last_seen) = (ts(&r.first_seen, "first_seen")?, ts(&r.last_seen, "last_seen")?);
    let (client, server) = (addr(&r.client, "client")?, addr(&r.server, "server")?);
    // The sensor: ours, or Suricata's `host`, or ECS's `observer.name`.
    let sensor = r
        .sensor
        .clone()
        .or_else(|| v.get("host").and_then(|h| h.as_str()).map(str::to_string))
        .or_else(|| v.pointer("/observer/name").and_then(|h| h.as_str()).map(str::to_string))
        .unwrap_or_else(|| "-".to_string());
    let event_id =
        r.event_id.clone().unwrap_or_else(|| format!("{sensor}/{}/{}", r.run_id.as_deref().unwrap_or("-"), r.id));
    let login = r.verdict.map(|verdict| LoginInfo {
        mechanism: "",
        verdict,
        tls: match r.starttls.as_deref() {
            Some("offered_not_used") => TlsNote::OfferedNotUsed,
            Some("sent_before_upgrade") => TlsNote::SentBeforeUpgrade,
            _ => TlsNote::NotOffered,
        },
        transcript: Vec::new(),
        material: None,
    });
    let text = |s: Option<String>| if withhold { None } else { s.map(Text::lit) };
    let alert = Alert {
        id: AlertId(0),
        kind: r.kind,
        class: r.class,
        severity: r.severity,
        confidence: r.confidence,
        first_seen,
        last_seen,
        count: r.count.max(1),
        client,
        server,
        last_client: client,
        host: r.host,
        method: r.method,
        path: text(r.path),
        user: text(r.user),
        secret,
        location: r.location,
        evidence: r.evidence,
        capture: Arc::from(r.capture.as_str()),
        jwt: r.jwt.map(Box::new),
        excerpt: Arc::from(Vec::<Text>::new()),
        login,
        users: if withhold { Vec::new() } else { r.users.into_iter().map(Text::lit).collect() },
        conversation: None,
        first_packet: r.pcap_cnt.unwrap_or(0),
    };
    Ok(Event { sensor, event_id, update: r.event.as_deref() == Some("update"), alert })
}

/// What makes events of several sensors one leak.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Secret(LeakKind, String),
    Refused(LeakKind, SocketAddr),
}

fn key_of(a: &Alert) -> Key {
    if a.verdict() == Some(Verdict::Refused) {
        Key::Refused(a.kind, a.server)
    } else {
        Key::Secret(a.kind, a.secret.fingerprint())
    }
}

/// One merged leak.
struct Merged {
    alert: Alert,
    sensors: Vec<String>,
    /// The latest count of each event merged into it.
    counts: HashMap<String, u64>,
}

/// A merged leak after an event: its state now, and the sensors that saw it.
#[derive(Clone, Debug)]
pub struct Change {
    pub alert: Alert,
    pub sensors: Vec<String>,
    pub new: bool,
}

/// A sensor's hosts event (`output::event::render_hosts`): its services' traffic, the latest replacing
/// the one before.
#[derive(Deserialize)]
struct HostsEvent {
    event: String,
    sensor: String,
    run_id: String,
    hosts: Vec<crate::pipeline::HostStats>,
}

/// The merged leaks of every sensor.
#[derive(Default)]
pub struct Fleet {
    index: HashMap<Key, usize>,
    merged: Vec<Merged>,
    /// Each sensor run's latest hosts view, by (sensor, run id).
    traffic: HashMap<(String, String), Vec<crate::pipeline::HostStats>>,
    /// A hosts event arrived since [`Fleet::take_hosts_changed`].
    hosts_changed: bool,
    /// Lines that were not events.
    pub skipped: u64,
    /// Events of leaks not kept: past [`MAX_LEAKS`] or past the bytes the fleet may hold (each event of
    /// such a leak is counted).
    pub dropped: u64,
    /// User names an update brought that its leak did not keep (past its 8, or past the bytes).
    pub users_not_kept: u64,
    /// Bytes the merged leaks may hold (None: the count alone) and hold: an event line may carry up
    /// to 1 MiB, and whoever can write to the engine chooses it.
    quota: crate::memory::Quota,
}

impl Fleet {
    /// A fleet whose merged leaks hold at most `bytes` (their alerts as [`Alert::heap_bytes`] counts
    /// them, and each entry).
    pub fn with_max_bytes(bytes: usize) -> Fleet {
        Fleet { quota: crate::memory::Quota::new(bytes), ..Fleet::default() }
    }

    /// Merge one line; None when it was skipped (not an event), dropped (the table is full), or a
    /// sensor's hosts view (see [`Fleet::take_hosts_changed`]).
    pub fn on_line(&mut self, line: &str, reveal: Reveal) -> Option<Change> {
        if line.trim().is_empty() {
            return None;
        }
        if self.on_hosts(line) {
            return None;
        }
        match parse(line, reveal) {
            Ok(ev) => self.on_event(ev),
            Err(_) => {
                self.skipped += 1;
                None
            }
        }
    }

    pub fn on_event(&mut self, ev: Event) -> Option<Change> {
        let key = key_of(&ev.alert);
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                if self.merged.len() >= MAX_LEAKS || !self.quota.take(ev.alert.heap_bytes(true) + MERGED_OVERHEAD) {
                    self.dropped += 1;
                    return None;
                }
                let mut alert = ev.alert.clone();
                alert.id = AlertId(self.merged.len() as u64 + 1);
                let counts = HashMap::from([(ev.event_id.clone(), alert.count)]);
                self.index.insert(key, self.merged.len());
                self.merged.push(Merged { alert, sensors: vec![ev.sensor.clone()], counts });
                let m = &self.merged[self.merged.len() - 1];
                return Some(Change { alert: m.alert.clone(), sensors: m.sensors.clone(), new: true });
            }
        };
        let quota = &mut self.quota;
        let m = &mut self.merged[i];
        let a = &mut m.alert;
        if m.counts.len() < MAX_SENSORS * 64 || m.counts.contains_key(&ev.event_id) {
            m.counts.insert(ev.event_id.clone(), ev.alert.count.max(1));
        }
        // Saturating: counts come from other hosts' events.
        a.count = m.counts.values().fold(0u64, |t, &c| t.saturating_add(c)).max(a.count);
        if ev.alert.last_seen > a.last_seen {
            a.last_seen = ev.alert.last_seen;
            a.last_client = ev.alert.client;
        }
        if ev.alert.first_seen < a.first_seen {
            a.first_seen = ev.alert.first_seen;
            a.client = ev.alert.client;
        }
        if let (Some(l), Some(new)) = (a.login.as_mut(), ev.alert.login.as_ref()) {
            if l.verdict != Verdict::Accepted && new.verdict == Verdict::Accepted {
                l.verdict = Verdict::Accepted;
            }
        }
        if a.severity < ev.alert.severity {
            a.severity = ev.alert.severity;
        }
        for u in &ev.alert.users {
            if !a.add_user_if(Some(u), |u| quota.take(std::mem::size_of::<Text>() + u.heap_bytes())) {
                self.users_not_kept += 1;
            }
        }
        // A revealed copy of a secret known so far by its fingerprint (watch --reveal).
        if a.secret.expose().is_empty()
            && !ev.alert.secret.expose().is_empty()
            && quota.take(ev.alert.secret.heap_bytes())
        {
            a.secret = ev.alert.secret.clone();
        }
        if !m.sensors.contains(&ev.sensor) && m.sensors.len() < MAX_SENSORS {
            m.sensors.push(ev.sensor);
            m.sensors.sort();
        }
        Some(Change { alert: m.alert.clone(), sensors: m.sensors.clone(), new: false })
    }

    /// A hosts event: kept (bounded) and true; anything else false.
    fn on_hosts(&mut self, line: &str) -> bool {
        // Cheap test first: every other event is a leak.
        if !line.contains("\"hosts\"") {
            return false;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { return false };
        let obj = match v.get("plainsight") {
            Some(p) if p.is_object() => p,
            _ => &v,
        };
        let Ok(mut h) = HostsEvent::deserialize(obj) else { return false };
        if h.event != "hosts" {
            return false;
        }
        let key = (h.sensor, h.run_id);
        if !self.traffic.contains_key(&key) && self.traffic.len() >= MAX_TRAFFIC_SOURCES {
            self.dropped += 1;
            return true;
        }
        h.hosts.truncate(MAX_HOSTS_PER_SOURCE);
        self.traffic.insert(key, h.hosts);
        self.hosts_changed = true;
        true
    }

    /// Whether a hosts event arrived since the last call.
    pub fn take_hosts_changed(&mut self) -> bool {
        std::mem::take(&mut self.hosts_changed)
    }

    /// Whether any sensor sent its traffic (hosts events): the hosts view can show TLS shares.
    pub fn has_traffic(&self) -> bool {
        !self.traffic.is_empty()
    }

    pub fn leaks(&self) -> usize {
        self.merged.len()
    }

    /// The hosts view across the fleet: the sensors' own hosts views summed, when they send them (live
    /// runs with `--sink` and a sensor name do, every 10 s), with each service's TLS share; from the
    /// leaks alone otherwise (no TLS share: [`Fleet::has_traffic`] says which).
    pub fn hosts(&self) -> Vec<crate::pipeline::HostStats> {
        if self.has_traffic() { self.hosts_with_traffic() } else { self.hosts_from_leaks() }
    }

    /// The hosts view from the leaks alone: a web site by name, another service by address, with the
    /// credentials every sensor saw sent to it.
    fn hosts_from_leaks(&self) -> Vec<crate::pipeline::HostStats> {
        let mut by: HashMap<(String, &'static str, Option<SocketAddr>), u64> = HashMap::new();
        for m in &self.merged {
            let a = &m.alert;
            let web = matches!(a.kind.protocol(), "http" | "websocket");
            let key = match (&a.host, web) {
                (Some(h), true) => (crate::pipeline::strip_port(h).to_ascii_lowercase(), "http", None),
                _ => (a.server.ip().to_string(), if web { "http" } else { a.kind.protocol() }, Some(a.server)),
            };
            *by.entry(key).or_default() += a.count;
        }
        let mut out: Vec<crate::pipeline::HostStats> = by
            .into_iter()
            .map(|((name, service, addr), credentials)| crate::pipeline::HostStats {
                name,
                service: service.to_string(),
                addr,
                credentials,
                ..Default::default()
            })
            .collect();
        out.sort_by(|a, b| b.credentials.cmp(&a.credentials).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// The sensors' hosts views summed by service (a web site by name, another service by name and
    /// protocol), and the services only leaks name (sensors that send no hosts events).
    fn hosts_with_traffic(&self) -> Vec<crate::pipeline::HostStats> {
        let mut by: HashMap<(String, String), crate::pipeline::HostStats> = HashMap::new();
        for h in self.traffic.values().flatten() {
            let key = (h.name.to_ascii_lowercase(), h.service.clone());
            let e = by.entry(key).or_insert_with(|| crate::pipeline::HostStats {
                name: h.name.clone(),
                service: h.service.clone(),
                addr: h.addr,
                ..Default::default()
            });
            e.http_requests = e.http_requests.saturating_add(h.http_requests);
            e.credentials = e.credentials.saturating_add(h.credentials);
            e.https_redirects = e.https_redirects.saturating_add(h.https_redirects);
            e.tls_flows = e.tls_flows.saturating_add(h.tls_flows);
        }
        let mut out: Vec<crate::pipeline::HostStats> = by.into_values().collect();
        let known: std::collections::HashSet<(String, String)> =
            out.iter().map(|h| (h.name.to_ascii_lowercase(), h.service.clone())).collect();
        for h in self.hosts_from_leaks() {
            if !known.contains(&(h.name.to_ascii_lowercase(), h.service.clone())) {
                out.push(h);
            }
        }
        out.sort_by(|a, b| b.credentials.cmp(&a.credentials).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// The merged leaks, in the order they were first seen by the watcher.
    pub fn alerts(&self) -> impl Iterator<Item = (&Alert, &[String])> {
        self.merged.iter().map(|m| (&m.alert, m.sensors.as_slice()))
    }
}

pub mod redis;

#[cfg(test)]
mod tests;
