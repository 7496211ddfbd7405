//! Pipeline: wires decode -> reassembly -> http -> detect -> alert for one stream of packets.
//!
//! [`Engine`] is pure: it takes frames with their capture timestamps and pushes alerts into an
//! [`AlertSink`]; it never reads a clock, a file or a terminal. [`offline`] drives it from capture files
//! (with progress and damaged-file handling); the live capture issue drives it from an interface.

pub mod hosts;
pub mod offline;
pub mod parallel;
mod stats;

pub use hosts::{HostStats, HostTable};
pub use stats::{EngineStats, StatsSnapshot};

use std::net::SocketAddr;
use std::sync::Arc;

use crate::alert::{AlertBook, AlertSink, Context, Secret};
use crate::decode::{self, DecodeError, Decoded, LinkType};
use crate::detect::{self, Finding};
use crate::http::{self, HttpConnection, HttpHandler, Request, RequestLine, Response};
use crate::reassembly::{self, CloseReason, FlowInfo, Reassembler, Side, StreamHandler};
use crate::time::Timestamp;

/// Every knob of the engine.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub reassembly: reassembly::Config,
    pub http: http::Config,
    pub detect: detect::Config,
    /// Distinct leaks remembered for dedup.
    pub max_alerts: Option<usize>,
}

/// Per-flow state kept inside the reassembler's flow table.
#[derive(Default)]
pub struct FlowState {
    http: HttpConnection,
    tls_counted: bool,
}

/// How often (in capture time) idle flows are expired. One second keeps `advance_time` off the
/// per-packet path while bounding how long a dead flow holds memory past its timeout.
const ADVANCE_EVERY_MICROS: i64 = 1_000_000;

/// Header lines kept for an alert's excerpt (the TUI detail view), and their length.
const EXCERPT_MAX_LINES: usize = 40;
const EXCERPT_MAX_LINE: usize = 512;

/// The whole analysis for one packet stream. Alerts are remembered across files in its [`AlertBook`].
pub struct Engine {
    reasm: Reassembler<FlowState>,
    inner: Inner,
}

struct Inner {
    http_cfg: http::Config,
    http_stats: http::Stats,
    stats: EngineStats,
    warnings: Vec<String>,
    det: Det,
}

/// What the message handler needs: detection, the book of leaks and the hosts view.
struct Det {
    cfg: detect::Config,
    book: AlertBook,
    hosts: HostTable,
    capture: Arc<str>,
    findings: Vec<Finding>,
    tls_flows: u64,
}

impl Engine {
    pub fn new(cfg: Config) -> Engine {
        Engine {
            reasm: Reassembler::new(cfg.reassembly.clone()),
            inner: Inner {
                http_cfg: cfg.http.clone(),
                http_stats: http::Stats::default(),
                stats: EngineStats::default(),
                warnings: Vec::new(),
                det: Det {
                    cfg: cfg.detect.clone(),
                    book: cfg.max_alerts.map(AlertBook::new).unwrap_or_default(),
                    hosts: HostTable::default(),
                    capture: Arc::from(""),
                    findings: Vec::new(),
                    tls_flows: 0,
                },
            },
        }
    }

    /// Name recorded in alerts as their capture source (a file path or `iface:eth0`).
    pub fn set_capture_name(&mut self, name: &str) {
        self.inner.det.capture = Arc::from(name);
    }

    /// Analyse one frame.
    pub fn process(&mut self, link: LinkType, ts: Timestamp, frame: &[u8], sink: &mut dyn AlertSink) {
        let st = &mut self.inner.stats;
        st.packets += 1;
        st.bytes += frame.len() as u64;
        if st.first_ts.is_none() {
            st.first_ts = Some(ts);
            st.last_advance = ts;
        }
        if st.last_ts.is_none_or(|l| ts > l) {
            st.last_ts = Some(ts);
        }
        match decode::decode(link, frame) {
            Ok(Decoded::Tcp(seg)) => {
                st.tcp_segments += 1;
                let mut d = Driver { inner: &mut self.inner, sink };
                self.reasm.process(&seg, ts, &mut d);
            }
            Ok(Decoded::Udp(_)) => st.udp_datagrams += 1,
            Ok(Decoded::Fragment) => st.ip_fragments += 1,
            Ok(Decoded::OtherIp(_)) => st.other_ip += 1,
            Ok(Decoded::NotIp(_)) => st.not_ip += 1,
            Err(DecodeError::UnsupportedLink(n)) => {
                let c = st.unsupported_links.entry(n).or_insert(0);
                if *c == 0 {
                    self.inner
                        .warnings
                        .push(format!("unsupported link type {n} ({}): its packets are skipped", LinkType(n).name()));
                }
                *c += 1;
            }
            Err(e @ (DecodeError::Truncated(_) | DecodeError::Malformed(_))) => {
                *st.malformed.entry(e.to_string()).or_insert(0) += 1;
            }
        }
        if ts.micros_since(self.inner.stats.last_advance) >= ADVANCE_EVERY_MICROS {
            self.inner.stats.last_advance = ts;
            let mut d = Driver { inner: &mut self.inner, sink };
            self.reasm.advance_time(ts, &mut d);
        }
    }

    /// End of a packet source: flush and close every flow (read-until-close bodies complete here).
    pub fn finish(&mut self, sink: &mut dyn AlertSink) {
        let now = self.inner.stats.last_ts.unwrap_or_default();
        let mut d = Driver { inner: &mut self.inner, sink };
        self.reasm.finish(now, &mut d);
    }

    /// Warnings raised since the last call (each at most once per run).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.inner.warnings)
    }

    pub fn book(&self) -> &AlertBook {
        &self.inner.det.book
    }
    pub fn hosts(&self) -> &HostTable {
        &self.inner.det.hosts
    }

    /// Every counter of every stage.
    pub fn stats(&self) -> StatsSnapshot {
        let mut engine = self.inner.stats.clone();
        engine.tls_flows = self.inner.det.tls_flows;
        StatsSnapshot {
            engine,
            reassembly: self.reasm.stats().clone(),
            http: self.inner.http_stats.clone(),
            active_flows: self.reasm.active_flows() as u64,
            embryonic_flows: self.reasm.embryonic_flows() as u64,
            buffered_bytes: self.reasm.buffered_bytes() as u64,
            leaks: self.inner.det.book.distinct(),
            sightings: self.inner.det.book.sightings(),
            alerts_not_deduped: self.inner.det.book.overflow(),
        }
    }
}

/// The reassembler's handler: feeds HTTP, which feeds detection.
struct Driver<'a> {
    inner: &'a mut Inner,
    sink: &'a mut dyn AlertSink,
}

impl StreamHandler<FlowState> for Driver<'_> {
    fn on_data(&mut self, flow: &FlowInfo, state: &mut FlowState, from: Side, data: &[u8], ts: Timestamp) {
        let Inner { http_cfg, http_stats, det, .. } = &mut *self.inner;
        let mut m = Messages { det, flow, tls_counted: &mut state.tls_counted, sink: &mut *self.sink };
        state.http.on_data(http_cfg, http_stats, from, data, ts, &mut m);
    }
    fn on_gap(&mut self, flow: &FlowInfo, state: &mut FlowState, from: Side, len: u64, ts: Timestamp) {
        let Inner { http_cfg, http_stats, det, .. } = &mut *self.inner;
        let mut m = Messages { det, flow, tls_counted: &mut state.tls_counted, sink: &mut *self.sink };
        state.http.on_gap(http_cfg, http_stats, from, len, ts, &mut m);
    }
    fn on_close(&mut self, flow: &FlowInfo, state: &mut FlowState, _reason: CloseReason, ts: Timestamp) {
        let Inner { http_cfg, http_stats, det, .. } = &mut *self.inner;
        let mut m = Messages { det, flow, tls_counted: &mut state.tls_counted, sink: &mut *self.sink };
        state.http.on_close(http_cfg, http_stats, ts, &mut m);
    }
}

/// The HTTP handler of one flow: runs the detectors on each message and records alerts.
struct Messages<'a> {
    det: &'a mut Det,
    flow: &'a FlowInfo,
    tls_counted: &'a mut bool,
    sink: &'a mut dyn AlertSink,
}

impl Messages<'_> {
    /// The address that sent a message from `from`, and its peer.
    fn ends(&self, from: Side) -> (SocketAddr, SocketAddr) {
        match from {
            Side::Client => (self.flow.client, self.flow.server),
            Side::Server => (self.flow.server, self.flow.client),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        ts: Timestamp,
        client: SocketAddr,
        server: SocketAddr,
        host: Option<String>,
        method: Option<String>,
        path: Option<String>,
        excerpt: Vec<String>,
    ) {
        let secrets: Vec<Secret> = self
            .det
            .findings
            .iter()
            .map(|f| {
                if f.class == detect::SecretClass::Password {
                    Secret::password(f.secret.clone())
                } else {
                    Secret::new(f.secret.clone())
                }
            })
            .collect();
        let ctx = Context {
            ts,
            client,
            server,
            host,
            method,
            path,
            capture: self.det.capture.clone(),
            excerpt: Arc::from(excerpt),
            message_secrets: Arc::from(secrets),
        };
        let findings = std::mem::take(&mut self.det.findings);
        for f in &findings {
            self.det.book.record(f, &ctx, &mut *self.sink);
        }
        self.det.findings = findings;
        self.det.findings.clear();
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn excerpt(first_line: String, headers: &http::Headers) -> Vec<String> {
    let mut out = Vec::with_capacity(headers.0.len() + 1);
    out.push(first_line);
    for (name, value) in headers.iter().take(EXCERPT_MAX_LINES) {
        let mut line = format!("{name}: {}", String::from_utf8_lossy(value));
        if line.len() > EXCERPT_MAX_LINE {
            let mut cut = EXCERPT_MAX_LINE;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push('…');
        }
        out.push(line);
    }
    out
}

impl HttpHandler for Messages<'_> {
    fn on_request(&mut self, from: Side, req: &Request) {
        let (client, server) = self.ends(from);
        let host = req.headers.get("host").map(lossy);
        self.det.hosts.on_request(host.as_deref(), server);
        self.det.findings.clear();
        detect::detect_request(&self.det.cfg, req, req.ts, &mut self.det.findings);
        if self.det.findings.is_empty() {
            return;
        }
        self.det.hosts.on_credentials(host.as_deref(), server, self.det.findings.len() as u64);
        let mut ex = excerpt(format!("{} {} HTTP/1.{}", req.method, req.target, req.version), &req.headers);
        if !req.body.data.is_empty() {
            // The body as it crossed the wire (its start): a login form is the most telling part.
            let body = String::from_utf8_lossy(&req.body.data[..req.body.data.len().min(EXCERPT_MAX_LINE)])
                .replace(['\r', '\n'], " ");
            ex.push(String::new());
            ex.push(body);
        }
        self.record(req.ts, client, server, host, Some(req.method.clone()), Some(req.target.clone()), ex);
    }

    fn on_response(&mut self, from: Side, resp: &Response, req: Option<&RequestLine>) {
        let (server, client) = self.ends(from);
        let host = req.and_then(|r| r.host.clone());
        if (300..400).contains(&resp.status) {
            if let Some(loc) = resp.headers.get("location") {
                if loc.len() >= 8 && loc[..8].eq_ignore_ascii_case(b"https://") {
                    self.det.hosts.on_https_redirect(host.as_deref(), server);
                }
            }
        }
        self.det.findings.clear();
        detect::detect_response(&self.det.cfg, resp, req, resp.ts, &mut self.det.findings);
        if self.det.findings.is_empty() {
            return;
        }
        self.det.hosts.on_credentials(host.as_deref(), server, self.det.findings.len() as u64);
        let ex = excerpt(format!("HTTP/1.{} {} {}", resp.version, resp.status, resp.reason), &resp.headers);
        let method = req.map(|r| r.method.clone());
        let path = req.map(|r| r.target.clone());
        self.record(resp.ts, client, server, host, method, path, ex);
    }

    fn on_tls(&mut self, sni: Option<&str>) {
        if !*self.tls_counted {
            *self.tls_counted = true;
            self.det.tls_flows += 1;
            self.det.hosts.on_tls(sni, self.flow.server);
        }
    }
}
