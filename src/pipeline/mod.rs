//! Pipeline: wires decode -> reassembly -> http -> detect -> alert for one stream of packets.
//!
//! [`Engine`] is pure: it takes frames with their capture timestamps and pushes alerts into an
//! [`AlertSink`]; it never reads a clock, a file or a terminal. [`offline`] drives it from capture files
//! (with progress and damaged-file handling); the live capture issue drives it from an interface.

pub mod hosts;
pub mod leaks;
pub mod offline;
pub mod parallel;
mod stats;

pub use hosts::{HostStats, HostTable, strip_port};
pub use stats::{EngineStats, ProtoEvents, StatsSnapshot};

use std::net::SocketAddr;
use std::sync::Arc;

use crate::alert::conversation::{self, Conversation, Prelude, Turn};
use crate::alert::{AlertBook, AlertSink, Context};
use crate::decode::{self, DecodeError, Decoded, LinkType};
use crate::detect::{self, Found};
use crate::http::{self, HttpConnection, HttpHandler, Protocol, Request, RequestLine, Response, WsMessage};
use crate::proto::{self, probe};
use crate::reassembly::{self, CloseReason, FlowInfo, Reassembler, Side, StreamHandler};
use crate::secret::Text;
use crate::time::Timestamp;

/// Every knob of the engine.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub reassembly: reassembly::Config,
    pub http: http::Config,
    pub detect: detect::Config,
    /// Distinct leaks remembered for dedup.
    pub max_alerts: Option<usize>,
    /// Bytes the book of leaks asks off the budget (None: [`book_memory`] of the budget).
    pub book_memory: Option<usize>,
    /// Which bad-checksum segments to drop (`--checksums`).
    pub checksums: decode::checksum::Mode,
    /// The process's memory budget (`--memcap`); engines built from clones of this config share it.
    pub budget: crate::memory::Budget,
    /// Which clients reached which names over TLS (`detect::fixes`); shared like the budget, since
    /// one client's TLS and plain connections go to different workers.
    pub fixes: detect::fixes::Shared,
    /// Keep the messages of leaking connections for the follow view (`alert::conversation`). Only a
    /// terminal UI shows them: a run without one does not pay for them (about 1 MB of peak memory on
    /// 6,400 leaking keep-alive connections).
    pub follow: bool,
}

/// Per-flow state kept inside the reassembler's flow table.
#[derive(Default)]
pub struct FlowState {
    http: HttpConnection,
    tls_counted: bool,
    app: App,
    /// What the HTTP handler keeps between a connection's messages.
    side: HttpSide,
}

/// What [`Messages`] keeps between the messages of one HTTP connection.
#[derive(Default)]
struct HttpSide {
    /// HTTP logins waiting for the answer to their request (their verdict). Boxed: most flows never
    /// have one, and every byte of `FlowState` is paid by every flow in the table.
    awaiting: Option<Box<detect::verdict::Awaiting<Context>>>,
    /// The server's last NTLM challenge on this connection, for the client's next NTLM response (its
    /// material). Boxed for the same reason.
    ntlm: Option<Box<[u8; 8]>>,
    /// Once the connection leaked: its messages, for the follow view (`alert::conversation`).
    follow: Option<Conversation>,
    /// Until it leaks: the first lines of its last messages, the start of that view (only with
    /// `Config::follow`; their bytes charged to the follow budget until the connection ends).
    prelude: Option<Box<Prelude>>,
}

/// Which application parser a connection goes to. Every connection starts by being offered to both
/// the HTTP parser and the prober of the other protocols; the first to recognise it keeps it.
#[derive(Default)]
enum App {
    #[default]
    Probing,
    /// HTTP (or TLS, or not recognised by the prober: the HTTP parser keeps scanning, as always).
    Http,
    /// Another protocol: its session and the connection's rules (`proto::Conn`).
    Proto(Box<proto::Conn>),
    /// Recognised as nothing of ours: ignored at no cost.
    Ignored,
}

/// Bytes the follow logs of one engine ask for (`alert::conversation`), for the whole run (they stay
/// with their alerts): 1 MiB keeps the first messages of about a thousand leaking connections (the
/// leaking message itself is shared with its alert); the rest are counted in `follow_not_kept`. They
/// are reserved off the top of `--memcap` ([`crate::memory::Reservation`]), so a small budget keeps
/// fewer.
const FOLLOW_BUDGET: usize = 1 << 20;

/// The part of `--memcap` one run's book of leaks asks for (one tenth: 12.8 MiB of the default
/// budget, some ten thousand leaks with their excerpts), reserved off the top; `read --threads` splits
/// it between the workers and gives as much again to the merged book.
pub fn book_memory(budget: &crate::memory::Budget) -> usize {
    budget.limit() / 10
}

/// How often (in capture time) idle flows are expired. One second keeps `advance_time` off the
/// per-packet path while bounding how long a dead flow holds memory past its timeout.
const ADVANCE_EVERY_MICROS: i64 = 1_000_000;

/// The whole analysis for one packet stream. Alerts are remembered across files in its [`AlertBook`].
pub struct Engine {
    reasm: Reassembler<FlowState>,
    defrag: decode::defrag::Defragmenter,
    inner: Inner,
}

struct Inner {
    /// HTTP's configuration, counters and spare message storage.
    http: http::Shared,
    stats: EngineStats,
    checksums: decode::checksum::Policy,
    warnings: Vec<String>,
    det: Det,
}

/// What the message handler needs: detection, the book of leaks and the hosts view.
struct Det {
    cfg: detect::Config,
    book: AlertBook,
    hosts: HostTable,
    capture: Arc<str>,
    found: Found,
    tls_flows: u64,
    /// The first bytes of connections not yet recognised (one prober reused: flows are probed one
    /// segment at a time, and a prober's bytes are taken out when it decides).
    probes: std::collections::HashMap<reassembly::FlowId, probe::Prober>,
    /// SNMP requests waiting for their answer.
    snmp: proto::snmp::Tracker,
    /// Reused buffer of SNMP logins to record.
    snmp_out: Vec<proto::snmp::SnmpLogin>,
    /// (client, name) pairs the HSTS rule's table forgot to make room, by this engine's calls.
    hsts_forgotten: u64,
    /// What the follow logs of this engine hold is reserved off the budget (nothing without
    /// `Config::follow`); the bytes of it they may still take, and the messages they did not keep.
    _follow_reserved: crate::memory::Reservation,
    follow_budget: usize,
    follow_not_kept: u64,
    /// `Config::follow`: no log is started without it.
    follow_on: bool,
    /// The HSTS rule's table (`detect::fixes`), shared by the engines of a run.
    fixes: detect::fixes::Shared,
    /// The number of the packet being analysed ([`Engine::process_numbered`]).
    packet: u64,
    /// Which recent packets carried data (TCP payload, SNMP datagrams), by timestamp and direction: the
    /// reassembler delivers bytes with the timestamp of the segment that carried them, which may have
    /// been held (a bad checksum waits for the receiver's acknowledgement) or buffered out of order, and
    /// a login is reported when the server answers; both find their packet here.
    recent: RecentPackets,
    /// The bytes being delivered: their timestamp and direction ([`RecentPackets::key`]); None when
    /// nothing is (a flow closing, a gap).
    delivery: Option<(Timestamp, u64)>,
    /// Messages and logins whose packet had left `recent` (numbered with the current packet instead).
    packets_approximate: u64,
}

/// Data packets remembered for [`RecentPackets::find`], 24 bytes each. Bytes held for a bad checksum
/// are delivered when the receiver acknowledges them (within a round trip), a login is reported when
/// its answer comes (a few packets of its connection later): 4,096 packets of all flows together
/// cover both unless a link carries more than that many data packets in between.
pub const RECENT_PACKETS: usize = 4_096;

/// A ring of (timestamp, packet number, direction key) of recent data packets.
#[derive(Default)]
struct RecentPackets {
    /// Filled up to [`RECENT_PACKETS`], then overwritten in turn from `next`.
    ring: Vec<(Timestamp, u64, u64)>,
    next: usize,
}

/// 64 bits of an address and port, mixed (a multiply and a shift: this runs for every data packet).
fn mix_addr(a: SocketAddr) -> u64 {
    let ip = match a.ip() {
        std::net::IpAddr::V4(v4) => u64::from(u32::from(v4)),
        std::net::IpAddr::V6(v6) => {
            let b = u128::from(v6);
            (b as u64) ^ ((b >> 64) as u64).rotate_left(29)
        }
    };
    let x = (ip ^ (u64::from(a.port()) << 48) ^ u64::from(a.port())).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 31)
}

impl RecentPackets {
    /// The key of a direction (sender, receiver): ordered, so the two directions differ. Not keyed: a
    /// collision needs the same timestamp too, and costs only a wrong packet number.
    fn key(&self, from: SocketAddr, to: SocketAddr) -> u64 {
        mix_addr(from) ^ mix_addr(to).rotate_left(23).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
    }
    fn push(&mut self, ts: Timestamp, packet: u64, from: SocketAddr, to: SocketAddr) {
        let entry = (ts, packet, self.key(from, to));
        if self.ring.len() < RECENT_PACKETS {
            self.ring.push(entry);
        } else if let Some(slot) = self.ring.get_mut(self.next) {
            *slot = entry;
            self.next = (self.next + 1) % RECENT_PACKETS;
        }
    }
    /// The latest packet of direction `key` at `ts` (several at one timestamp: the last one, whose
    /// arrival completed what was sent then).
    fn find(&self, ts: Timestamp, key: u64) -> Option<u64> {
        // Newest first: the slots before `next` (written last), then the ones from it on.
        let (newer, older) = self.ring.split_at(self.next.min(self.ring.len()));
        newer.iter().rev().chain(older.iter().rev()).find(|&&(t, _, k)| t == ts && k == key).map(|&(_, p, _)| p)
    }
}

impl Det {
    /// The packet number of a login sent at `ts` from `client` to `server`.
    fn login_packet(&mut self, ts: Timestamp, client: SocketAddr, server: SocketAddr) -> u64 {
        let key = self.recent.key(client, server);
        self.packet_of(ts, key)
    }

    /// The packet number of the message being delivered: the packet that carried the bytes that
    /// completed it; when a flow closes or skips a gap, the packet being analysed.
    fn message_packet(&mut self) -> u64 {
        match self.delivery {
            Some((ts, key)) => self.packet_of(ts, key),
            None => self.packet,
        }
    }

    fn packet_of(&mut self, ts: Timestamp, key: u64) -> u64 {
        match self.recent.find(ts, key) {
            Some(p) => p,
            None => {
                self.packets_approximate += 1;
                self.packet
            }
        }
    }
}

impl Det {
    /// Record SNMP logins (community strings), draining `got`.
    fn record_snmp(&mut self, got: &mut Vec<proto::snmp::SnmpLogin>, sink: &mut dyn AlertSink) {
        for sl in got.drain(..) {
            self.found.clear();
            detect::detect_login(&self.cfg, &sl.login, &mut self.found);
            if self.found.is_empty() {
                continue;
            }
            self.hosts.on_login(sl.server, "snmp", self.found.findings.len() as u64);
            let packet = self.login_packet(sl.login.ts, sl.client, sl.server);
            let ctx = context(
                &self.capture,
                packet,
                sl.login.ts,
                sl.client,
                sl.server,
                None,
                None,
                None,
                sl.login.transcript.clone(),
            );
            for f in &self.found.findings {
                self.book.record(f, &ctx, sink);
            }
        }
        self.found.clear();
    }
}

/// Connections being probed at once; past this a new one is probed on its first segment alone and, if
/// that does not decide, goes to HTTP (bounded memory under a flood of connections that never say
/// enough).
pub const MAX_PROBING: usize = 16_384;

/// What a prober's entry in `Det.probes` costs besides its buffers: the flow id and the prober in a
/// hash table at most 7/8 full, and its control byte.
const PROBE_ENTRY: usize = (std::mem::size_of::<(reassembly::FlowId, probe::Prober)>() + 1) * 8 / 7;

impl Engine {
    pub fn new(cfg: Config) -> Engine {
        // What HTTP keeps past its caps is what the detectors read: their rules, not HTTP's.
        let mut http_cfg = cfg.http.clone();
        http_cfg.keep_header = detect::common::header_wanted;
        http_cfg.body_field = Some(detect::common::body_field_wanted);
        http_cfg.response_field = Some(detect::common::response_field_wanted);
        http_cfg.keep_response_body = detect::common::response_body_wanted;
        // The book first: a run that cannot dedup its leaks repeats them; the follow view is a
        // convenience that keeps what is left.
        let book = AlertBook::with_memory(
            cfg.max_alerts.unwrap_or(crate::alert::DEFAULT_MAX_ALERTS),
            crate::alert::BookMemory::reserved(
                cfg.budget.reserve(cfg.book_memory.unwrap_or_else(|| book_memory(&cfg.budget))),
            ),
        );
        let follow_reserved =
            if cfg.follow { cfg.budget.reserve(FOLLOW_BUDGET) } else { crate::memory::Reservation::none() };
        Engine {
            reasm: Reassembler::with_budget(cfg.reassembly.clone(), cfg.budget.clone()),
            defrag: decode::defrag::Defragmenter::new(),
            inner: Inner {
                http: http::Shared::new(http_cfg),
                stats: EngineStats::default(),
                checksums: decode::checksum::Policy::new(cfg.checksums),
                warnings: Vec::new(),
                det: Det {
                    cfg: cfg.detect.clone(),
                    book,
                    hosts: HostTable::default(),
                    capture: Arc::from(""),
                    found: Found::default(),
                    tls_flows: 0,
                    probes: std::collections::HashMap::new(),
                    snmp: proto::snmp::Tracker::default(),
                    snmp_out: Vec::new(),
                    hsts_forgotten: 0,
                    follow_budget: follow_reserved.bytes(),
                    _follow_reserved: follow_reserved,
                    follow_on: cfg.follow,
                    follow_not_kept: 0,
                    fixes: cfg.fixes.clone(),
                    packet: 0,
                    recent: RecentPackets::default(),
                    delivery: None,
                    packets_approximate: 0,
                },
            },
        }
    }

    /// Name recorded in alerts as their capture source (a file path or `iface:eth0`).
    pub fn set_capture_name(&mut self, name: &str) {
        self.inner.det.capture = Arc::from(name);
    }

    /// Analyse one frame, numbered after the previous one (live capture, tests).
    pub fn process(&mut self, link: LinkType, ts: Timestamp, frame: &[u8], sink: &mut dyn AlertSink) {
        let n = self.inner.det.packet + 1;
        self.process_numbered(link, ts, n, frame, sink);
    }

    /// Analyse one frame whose number in its source is `packet` (counted from 1 as Wireshark numbers
    /// frames: a capture file's records, those the filter rejected included). Alerts carry the number
    /// of the packet whose arrival completed the message that carried their secret: for HTTP the
    /// packet that completed the request or response (its head, or its body when the secret was in
    /// the body), for another protocol's login the packet that delivered its secret's line or message,
    /// for a reassembled IP datagram its last fragment.
    pub fn process_numbered(
        &mut self,
        link: LinkType,
        ts: Timestamp,
        packet: u64,
        frame: &[u8],
        sink: &mut dyn AlertSink,
    ) {
        self.inner.det.packet = packet;
        self.process_frame(link, ts, frame, sink);
    }

    fn process_frame(&mut self, link: LinkType, ts: Timestamp, frame: &[u8], sink: &mut dyn AlertSink) {
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
                if !seg.payload.is_empty() {
                    let det = &mut self.inner.det;
                    det.recent.push(ts, det.packet, seg.src, seg.dst);
                }
                // The checksum is verified when the reassembler asks (`Driver::admit`): it knows
                // whether anyone will read the segment's bytes.
                let mut d = Driver { inner: &mut self.inner, sink };
                self.reasm.process(&seg, ts, &mut d);
            }
            Ok(Decoded::Udp(d)) => {
                st.udp_datagrams += 1;
                let Inner { checksums, .. } = &mut self.inner;
                if !checksums.udp(d.src, d.dst, d.checksum_span) {
                    return;
                }
                // SNMP is the one UDP protocol with credentials we read: a BER SEQUENCE first. It needs
                // no flow table: each message carries its community, and the tracker of unanswered
                // requests is bounded.
                if d.payload.first() == Some(&0x30) {
                    let Inner { det, stats, .. } = &mut self.inner;
                    det.recent.push(ts, det.packet, d.src, d.dst);
                    let mut got = std::mem::take(&mut det.snmp_out);
                    det.snmp.on_datagram(d.src, d.dst, d.payload, ts, &mut |l| got.push(l));
                    if !got.is_empty() {
                        stats.snmp_logins += got.len() as u64;
                    }
                    det.record_snmp(&mut got, sink);
                    det.snmp_out = got;
                }
            }
            Ok(Decoded::Fragment(frag)) => {
                st.ip_fragments += 1;
                if let Some(whole) = self.defrag.push(&frag, ts) {
                    // The reassembled datagram is decoded like any packet; it is not one more captured
                    // packet (its fragments were counted).
                    self.inner.stats.packets -= 1;
                    self.inner.stats.bytes -= whole.len() as u64;
                    self.process_frame(LinkType::RAW, ts, &whole, sink);
                }
            }
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
            let det = &mut self.inner.det;
            let mut got = std::mem::take(&mut det.snmp_out);
            det.snmp.advance(ts, &mut |l| got.push(l));
            det.record_snmp(&mut got, sink);
            det.snmp_out = got;
            let mut d = Driver { inner: &mut self.inner, sink };
            self.reasm.advance_time(ts, &mut d);
        }
    }

    /// End of a packet source: flush and close every flow (read-until-close bodies complete here).
    pub fn finish(&mut self, sink: &mut dyn AlertSink) {
        let now = self.inner.stats.last_ts.unwrap_or_default();
        let mut d = Driver { inner: &mut self.inner, sink };
        self.reasm.finish(now, &mut d);
        let det = &mut self.inner.det;
        let mut got = std::mem::take(&mut det.snmp_out);
        det.snmp.finish(&mut |l| got.push(l));
        det.record_snmp(&mut got, sink);
        det.snmp_out = got;
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
        engine.hsts_pairs_forgotten = self.inner.det.hsts_forgotten;
        engine.follow_not_kept = self.inner.det.follow_not_kept;
        engine.packet_numbers_approximate = self.inner.det.packets_approximate;
        for (e, n) in self.inner.det.snmp.events() {
            engine.proto_events.add(e, n);
        }
        StatsSnapshot {
            engine,
            defrag: self.defrag.stats(),
            checksums: self.inner.checksums.stats().clone(),
            reassembly: self.reasm.stats().clone(),
            http: self.inner.http.stats.clone(),
            active_flows: self.reasm.active_flows() as u64,
            embryonic_flows: self.reasm.embryonic_flows() as u64,
            buffered_bytes: self.reasm.buffered_bytes() as u64,
            held_bytes: self.reasm.held_bytes() as u64,
            memcap: self.reasm.budget().limit() as u64,
            memory_peak: self.reasm.budget().peak() as u64,
            memory_reserved: self.reasm.budget().reserved() as u64,
            leaks: self.inner.det.book.distinct(),
            material: self.inner.det.book.material(),
            sightings: self.inner.det.book.sightings(),
            alerts_not_deduped: self.inner.det.book.overflow(),
            alert_users_not_kept: self.inner.det.book.users_not_kept(),
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
        let Inner { http, det, stats, .. } = &mut *self.inner;
        if !flow.saw_syn {
            // HTTP/2 found in a flow picked up mid-stream cannot be decoded (its header tables were
            // missed): the parser must know.
            state.http.set_midstream();
        }
        let (sender, receiver) = match from {
            Side::Client => (flow.client, flow.server),
            Side::Server => (flow.server, flow.client),
        };
        det.delivery = Some((ts, det.recent.key(sender, receiver)));
        match &mut state.app {
            App::Http => {
                let mut m = Messages {
                    det,
                    flow,
                    tls_counted: &mut state.tls_counted,
                    side: &mut state.side,
                    sink: &mut *self.sink,
                };
                state.http.on_data(http, from, data, ts, &mut m);
            }
            App::Proto(pc) => {
                let mut out = ProtoOut {
                    det,
                    flow,
                    proto: pc.proto(),
                    tls_counted: &mut state.tls_counted,
                    stats,
                    sink: &mut *self.sink,
                };
                pc.on_data(from, data, ts, &mut out);
            }
            App::Ignored => {}
            App::Probing => {
                let mut m = Messages {
                    det,
                    flow,
                    tls_counted: &mut state.tls_counted,
                    side: &mut state.side,
                    sink: &mut *self.sink,
                };
                state.http.on_data(http, from, data, ts, &mut m);
                let http = state.http.protocol();
                if state.http.recognised() {
                    det.probes.remove(&flow.id);
                    state.app = App::Http;
                    return;
                }
                // With the table full (a flood of connections that never say enough), a new connection is
                // still probed on this segment alone, keeping nothing: a login after the flood whose first
                // segment names its protocol (a `220 ... FTP` greeting) is still recognised.
                let full = !det.probes.contains_key(&flow.id) && det.probes.len() >= MAX_PROBING;
                let mut one_shot = probe::Prober::default();
                let prober = if full { &mut one_shot } else { det.probes.entry(flow.id).or_default() };
                match prober.feed(from, data, flow.server.port()) {
                    probe::Decision::NeedMore if full => {
                        stats.probes_abandoned += 1;
                        state.app = App::Http;
                    }
                    probe::Decision::NeedMore => {}
                    probe::Decision::No => {
                        if prober.gave_up() {
                            stats.proto_events.add(proto::Event::ProbeGaveUp, 1);
                        }
                        det.probes.remove(&flow.id);
                        state.app = if http == Protocol::Other { App::Ignored } else { App::Http };
                    }
                    probe::Decision::Proto(p) => {
                        let chunks = prober.take_chunks();
                        det.probes.remove(&flow.id);
                        *stats.proto_flows.entry(p.as_str()).or_insert(0) += 1;
                        // The HTTP parser saw nothing of its own: free what it buffered.
                        state.http = HttpConnection::default();
                        let mut pc = Box::new(proto::Conn::new(p));
                        let mut out = ProtoOut {
                            det,
                            flow,
                            proto: p,
                            tls_counted: &mut state.tls_counted,
                            stats,
                            sink: &mut *self.sink,
                        };
                        for (side, bytes) in &chunks {
                            pc.on_data(*side, bytes, ts, &mut out);
                        }
                        state.app = App::Proto(pc);
                    }
                }
            }
        }
    }
    fn on_gap(&mut self, flow: &FlowInfo, state: &mut FlowState, from: Side, len: u64, ts: Timestamp) {
        let Inner { http, det, .. } = &mut *self.inner;
        det.delivery = None;
        match &mut state.app {
            App::Proto(pc) => pc.on_gap(from, len),
            App::Ignored => {}
            App::Http | App::Probing => {
                if matches!(state.app, App::Probing) {
                    // A gap before the protocol was recognised: HTTP resynchronises on its own.
                    det.probes.remove(&flow.id);
                    state.app = App::Http;
                }
                let mut m = Messages {
                    det,
                    flow,
                    tls_counted: &mut state.tls_counted,
                    side: &mut state.side,
                    sink: &mut *self.sink,
                };
                state.http.on_gap(http, from, len, ts, &mut m);
            }
        }
    }
    #[inline]
    fn held(&self, flow: &FlowInfo, state: &FlowState) -> usize {
        let probing = match state.app {
            App::Probing => self.inner.det.probes.get(&flow.id).map_or(0, |p| p.held() + PROBE_ENTRY),
            _ => 0,
        };
        state.http.held() + probing
    }
    #[inline]
    fn skippable(&self, _flow: &FlowInfo, state: &FlowState, from: Side) -> u64 {
        match &state.app {
            App::Ignored => u64::MAX,
            App::Http => state.http.skippable(from),
            App::Probing | App::Proto(_) => 0,
        }
    }

    #[inline]
    fn admit(&mut self, seg: &decode::TcpSegment<'_>, unread: bool) -> reassembly::Admit {
        use decode::checksum::{Mode, Verdict};
        let checksums = &mut self.inner.checksums;
        if unread && checksums.mode() != Mode::Off {
            checksums.unread();
            return reassembly::Admit::Take;
        }
        match checksums.tcp(seg.src, seg.dst, seg.checksum_span) {
            Verdict::Accept => reassembly::Admit::Take,
            Verdict::Hold => reassembly::Admit::Held,
            Verdict::Drop => reassembly::Admit::Drop,
        }
    }

    fn shed(&mut self, _flow: &FlowInfo, state: &mut FlowState, _ts: Timestamp) {
        state.http.shed(&mut self.inner.http);
    }
    fn on_close(&mut self, flow: &FlowInfo, state: &mut FlowState, _reason: CloseReason, ts: Timestamp) {
        let Inner { http, det, stats, .. } = &mut *self.inner;
        det.delivery = None;
        det.probes.remove(&flow.id);
        match &mut state.app {
            App::Proto(pc) => {
                let mut out = ProtoOut {
                    det,
                    flow,
                    proto: pc.proto(),
                    tls_counted: &mut state.tls_counted,
                    stats,
                    sink: &mut *self.sink,
                };
                pc.on_close(ts, &mut out);
            }
            App::Ignored => {}
            App::Http | App::Probing => {
                let mut m = Messages {
                    det,
                    flow,
                    tls_counted: &mut state.tls_counted,
                    side: &mut state.side,
                    sink: &mut *self.sink,
                };
                state.http.on_close(http, ts, &mut m);
                // Logins never answered.
                if let Some(mut a) = state.side.awaiting.take() {
                    let mut settled = Vec::new();
                    a.drain(&mut settled);
                    for (f, ctx) in settled {
                        det.book.record(&f, &ctx, &mut *self.sink);
                    }
                }
            }
        }
        // A connection that ended without leaking gives its prelude's bytes back.
        if let Some(p) = state.side.prelude.take() {
            det.follow_budget += p.bytes();
        }
    }
}

/// The login handler of a connection of another protocol: records what `proto::Conn` emits (detection
/// and the book), counts its events.
struct ProtoOut<'a> {
    det: &'a mut Det,
    flow: &'a FlowInfo,
    /// The connection's protocol (its row in the hosts view).
    proto: proto::Proto,
    tls_counted: &'a mut bool,
    stats: &'a mut EngineStats,
    sink: &'a mut dyn AlertSink,
}

impl ProtoOut<'_> {
    fn record(&mut self, login: proto::Login) {
        let det = &mut *self.det;
        det.found.clear();
        detect::detect_login(&det.cfg, &login, &mut det.found);
        if det.found.is_empty() {
            return;
        }
        let server = self.flow.server;
        det.hosts.on_login(server, login.proto.as_str(), det.found.findings.len() as u64);
        // The transcript as the parser built it: every credential of the connection a slot.
        let packet = det.login_packet(login.ts, self.flow.client, server);
        let ctx = context(&det.capture, packet, login.ts, self.flow.client, server, None, None, None, login.transcript);
        for f in &det.found.findings {
            det.book.record(f, &ctx, &mut *self.sink);
        }
        det.found.clear();
    }
}

impl proto::LoginSink for ProtoOut<'_> {
    fn on_login(&mut self, login: proto::Login) {
        self.record(login);
    }

    fn on_tls(&mut self) {
        if !*self.tls_counted {
            *self.tls_counted = true;
            self.det.tls_flows += 1;
            self.det.hosts.on_service_tls(self.flow.server, self.proto.as_str());
        }
    }

    fn on_event(&mut self, e: proto::Event) {
        self.stats.proto_events.add(e, 1);
    }
}

/// The alert context of one message: where it was seen, and the message as it crossed (its
/// credentials as slots).
#[allow(clippy::too_many_arguments)]
fn context(
    capture: &Arc<str>,
    packet: u64,
    ts: Timestamp,
    client: SocketAddr,
    server: SocketAddr,
    host: Option<String>,
    method: Option<String>,
    path: Option<Text>,
    excerpt: impl Into<Arc<[Text]>>,
) -> Context {
    Context {
        ts,
        client,
        server,
        host,
        method,
        path,
        capture: capture.clone(),
        excerpt: excerpt.into(),
        conversation: None,
        packet,
    }
}

/// The HTTP handler of one flow: runs the detectors on each message and records alerts.
struct Messages<'a> {
    det: &'a mut Det,
    flow: &'a FlowInfo,
    tls_counted: &'a mut bool,
    side: &'a mut HttpSide,
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
        path: Option<Text>,
        excerpt: Arc<[Text]>,
        request: Option<u64>,
    ) {
        let packet = self.det.message_packet();
        let mut ctx = context(&self.det.capture, packet, ts, client, server, host, method, path, excerpt);
        ctx.conversation = self.side.follow.clone();
        let mut found = std::mem::take(&mut self.det.found);
        if let (Some(c), Some(seq)) = (found.awaiting_redirect.take(), request) {
            // Reported only if the answer redirects to https:// on the same host.
            let a = self.side.awaiting.get_or_insert_with(Default::default);
            let _ = a.hold(seq, c, ctx.clone());
        }
        for f in &found.findings {
            if let Some(seq) = request.filter(|_| detect::verdict::awaits_answer(f)) {
                // Its verdict comes with the answer to its request.
                let a = self.side.awaiting.get_or_insert_with(Default::default);
                if let Some((f, ctx)) = a.hold(seq, f.clone(), ctx.clone()) {
                    self.det.book.record(&f, &ctx, &mut *self.sink);
                }
                continue;
            }
            self.det.book.record(f, &ctx, &mut *self.sink);
        }
        self.det.found = found;
        self.det.found.clear();
    }
}

impl HttpHandler for Messages<'_> {
    fn on_request(&mut self, from: Side, req: &Request) {
        let (client, server) = self.ends(from);
        // Borrowed (no copy per request) unless an alert needs it.
        let host = req.headers.get("host").map(String::from_utf8_lossy);
        self.det.hosts.on_request(host.as_deref(), server);
        self.det.found.clear();
        detect::detect_request(&self.det.cfg, req, req.ts, &mut self.det.found);
        detect::detect_ntlm(&self.det.cfg, &req.headers, self.side.ntlm.as_deref().copied(), &mut self.det.found);
        if let Some(h) = host.as_deref().filter(|_| detect::fixes::plain_visit(req)) {
            self.hsts_plain(req, h, client, server);
        }
        if self.det.found.is_empty() {
            if self.side.follow.is_none() {
                self.prelude_push(req.ts, from, || detect::excerpt::request_line(req));
            } else if self.follows() {
                self.follow_turn(req.ts, from, detect::excerpt::request(req, &self.det.found), 0);
            } else {
                self.follow_skip();
            }
            return;
        }
        self.det.hosts.on_credentials(host.as_deref(), server, self.det.found.findings.len() as u64);
        let ex: Arc<[Text]> = detect::excerpt::request(req, &self.det.found).into();
        self.follow_turn(req.ts, from, ex.clone(), req.seq);
        let path = detect::excerpt::target(&req.target, &self.det.found);
        let host = host.map(std::borrow::Cow::into_owned);
        self.record(req.ts, client, server, host, Some(req.method.clone()), Some(path), ex, Some(req.seq));
    }

    fn on_response(&mut self, from: Side, resp: &Response, req: Option<&RequestLine>) {
        let (server, client) = self.ends(from);
        let host = req.and_then(|r| r.host.as_deref());
        if let Some(a) = self.side.awaiting.as_mut().filter(|a| !a.is_empty() && resp.status >= 200) {
            // The answer to the logins of its request: their verdict (and whether it redirected to
            // https:// too late for what the request carried).
            let mut settled = Vec::new();
            let answer = detect::fixes::Answer::of(resp, host);
            if resp.version == 2 {
                // HTTP/2 answers streams in any order: a response settles its own request only.
                a.answered_one(req.map(|r| r.seq), &answer, &mut settled);
            } else {
                a.answered(req.map(|r| r.seq), &answer, &mut settled);
            }
            for (f, ctx) in settled {
                self.det.book.record(&f, &ctx, &mut *self.sink);
            }
        }
        if let Some(c) = detect::ntlm::challenge(&resp.headers) {
            self.side.ntlm = Some(Box::new(c));
        }
        if (300..400).contains(&resp.status) {
            if let Some(loc) = resp.headers.get("location") {
                if loc.len() >= 8 && loc[..8].eq_ignore_ascii_case(b"https://") {
                    self.det.hosts.on_https_redirect(host, server);
                }
            }
        }
        self.det.found.clear();
        detect::detect_response(&self.det.cfg, resp, req, resp.ts, &mut self.det.found);
        if self.det.found.is_empty() {
            if self.side.follow.is_none() {
                self.prelude_push(resp.ts, from, || detect::excerpt::status_line(resp));
            } else if self.follows() {
                let lines = follow_response(resp, &self.det.found);
                self.follow_turn(resp.ts, from, lines, 0);
            } else {
                self.follow_skip();
            }
            return;
        }
        self.det.hosts.on_credentials(host, server, self.det.found.findings.len() as u64);
        let lines = follow_response(resp, &self.det.found);
        self.follow_turn(resp.ts, from, lines, req.map_or(0, |r| r.seq));
        let ex = detect::excerpt::response(resp, &self.det.found);
        let host = host.map(str::to_string);
        let method = req.map(|r| r.method.clone());
        let path = req.map(|r| detect::excerpt::target_alone(&r.target));
        self.record(resp.ts, client, server, host, method, path, ex.into(), None);
    }

    fn on_tls(&mut self, sni: Option<&str>) {
        if !*self.tls_counted {
            *self.tls_counted = true;
            self.det.tls_flows += 1;
            self.det.hosts.on_tls(sni, self.flow.server);
            if let Some(sni) = sni {
                let (client, start) = (self.flow.client.ip(), self.flow.start);
                let mut touched = detect::fixes::Touched::default();
                let got = self.det.fixes.with(|t| t.on_tls(client, sni, start, &mut touched));
                self.hsts_record(got, touched);
            }
        }
    }

    fn on_ws_message(&mut self, from: Side, msg: &WsMessage<'_>) {
        let (client, server) = (self.flow.client, self.flow.server);
        if from == Side::Server {
            // The server's answer to a STOMP CONNECT: the verdict of the logins held for it.
            if let Some(status) = detect::ws::stomp_answer(msg.data) {
                // It answers the client's last message (a STOMP client waits for it after its CONNECT).
                let last = msg.peer_messages.checked_sub(1).map(detect::ws::seq_of);
                if let (Some(a), Some(last)) = (self.side.awaiting.as_mut().filter(|a| !a.is_empty()), last) {
                    let mut settled = Vec::new();
                    a.answered(Some(last), &detect::fixes::Answer::status(status), &mut settled);
                    for (f, ctx) in settled {
                        self.det.book.record(&f, &ctx, &mut *self.sink);
                    }
                }
            }
        }
        self.det.found.clear();
        detect::ws::detect(&self.det.cfg, from, msg, &mut self.det.found);
        if self.det.found.is_empty() {
            if self.side.follow.is_none() {
                self.prelude_push(msg.ts, from, || detect::ws::message_line(from, msg));
            } else if self.follows() {
                self.follow_turn(msg.ts, from, detect::ws::excerpt(from, msg, &self.det.found), 0);
            } else {
                self.follow_skip();
            }
            return;
        }
        self.det.hosts.on_credentials(msg.host, server, self.det.found.findings.len() as u64);
        let ex: Arc<[Text]> = detect::ws::excerpt(from, msg, &self.det.found).into();
        self.follow_turn(msg.ts, from, ex.clone(), 0);
        let path = detect::excerpt::target_alone(msg.target);
        let packet = self.det.message_packet();
        let mut ctx = context(
            &self.det.capture,
            packet,
            msg.ts,
            client,
            server,
            msg.host.map(str::to_string),
            None,
            Some(path),
            ex,
        );
        ctx.conversation = self.side.follow.clone();
        let found = std::mem::take(&mut self.det.found);
        for f in &found.findings {
            if from == Side::Client && detect::ws::awaits_answer(f) {
                let a = self.side.awaiting.get_or_insert_with(Default::default);
                if let Some((f, ctx)) = a.hold(detect::ws::seq_of(msg.seq), f.clone(), ctx.clone()) {
                    self.det.book.record(&f, &ctx, &mut *self.sink);
                }
                continue;
            }
            self.det.book.record(f, &ctx, &mut *self.sink);
        }
        self.det.found = found;
        self.det.found.clear();
    }
}

/// A response as the follow view shows it: its head and the start of its body (what came back).
fn follow_response(resp: &Response, found: &Found) -> Vec<Text> {
    let mut lines = detect::excerpt::response(resp, found);
    if !resp.body.data.is_empty() {
        lines.push(Text::new());
        lines.push(detect::excerpt::body_line(&resp.body.data, found));
    }
    lines
}

impl Messages<'_> {
    /// The follow view's log of this connection: started by the first message that leaked (`earlier`
    /// requests crossed before it), then every message after it, within the engine's budget.
    fn follow_turn(&mut self, ts: Timestamp, from: Side, lines: impl Into<Arc<[Text]>>, earlier: u64) {
        if !self.det.follow_on {
            return;
        }
        let lines = lines.into();
        self.follow_push(ts, from, lines, earlier);
    }

    /// A message of a followed connection not kept (its log or the engine's budget is full): counted.
    fn follow_skip(&mut self) {
        if let Some(c) = self.side.follow.as_ref() {
            c.skipped();
            self.det.follow_not_kept += 1;
        }
    }

    /// Whether a later message of this connection would be kept: its lines are built only then.
    fn follows(&self) -> bool {
        self.side.follow.as_ref().is_some_and(Conversation::has_room) && self.det.follow_budget > 0
    }

    fn follow_push(&mut self, ts: Timestamp, from: Side, lines: Arc<[Text]>, earlier: u64) {
        if self.side.follow.is_none() {
            // The log starts with what crossed before the leak (its bytes stay charged).
            self.side.follow = Some(match self.side.prelude.take() {
                Some(p) => Conversation::with_prelude(*p),
                None => Conversation::new(earlier),
            });
        }
        let Some(log) = self.side.follow.as_ref() else { return };
        let w = conversation::weight(&lines);
        if w > self.det.follow_budget {
            self.det.follow_not_kept += 1;
            log.skipped();
            return;
        }
        if log.push(Turn { ts, from_client: from == Side::Client, lines, head_only: false }) {
            self.det.follow_budget -= w;
        } else {
            self.det.follow_not_kept += 1;
        }
    }

    /// A message with no credential on a connection that has not leaked: its first line kept in the
    /// prelude (built only then), within the engine's follow budget.
    fn prelude_push(&mut self, ts: Timestamp, from: Side, line: impl FnOnce() -> Text) {
        if !self.det.follow_on {
            return;
        }
        let line = line();
        if conversation::weight(std::slice::from_ref(&line)) > self.det.follow_budget {
            self.det.follow_not_kept += 1;
            return;
        }
        let p = self.side.prelude.get_or_insert_with(Default::default);
        let grew = p.push(ts, from == Side::Client, line);
        self.det.follow_budget = self.det.follow_budget.saturating_add_signed(-grew);
    }

    /// A plain request to `host`: the HSTS rule's table learns it (and may report it).
    fn hsts_plain(&mut self, req: &Request, host: &str, client: SocketAddr, server: SocketAddr) {
        let mut touched = detect::fixes::Touched::default();
        let findings = &self.det.found.findings;
        let got = self.det.fixes.with(|t| {
            t.on_plain(client.ip(), host, req.ts, |v| v.fill(req, host, client, server, findings), &mut touched)
        });
        self.hsts_record(got, touched);
    }

    /// Record an `hsts_missing` finding of the HSTS rule, and count what its table forgot.
    fn hsts_record(
        &mut self,
        got: Option<(detect::Finding, detect::fixes::PlainVisit)>,
        touched: detect::fixes::Touched,
    ) {
        self.det.hsts_forgotten += touched.forgotten;
        let Some((f, v)) = got else { return };
        // The packet that revealed it: the plain request, or the TLS connection analysed after it.
        let packet = self.det.message_packet();
        let ctx = context(
            &self.det.capture,
            packet,
            v.ts,
            v.client,
            v.server,
            Some(v.host),
            Some(v.method),
            None,
            Vec::new(),
        );
        self.det.book.record(&f, &ctx, &mut *self.sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_of_recent_packets_finds_the_newest_match_before_and_after_it_wraps() {
        let (a, b): (SocketAddr, SocketAddr) = ("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
        let mut r = RecentPackets::default();
        let key = r.key(a, b);
        assert_ne!(key, r.key(b, a), "the two directions differ");
        let total = RECENT_PACKETS as u64 * 2 + 7;
        for n in 1..=total {
            // Two packets per timestamp: the later one completes what was sent then.
            r.push(Timestamp(n as i64 / 2), n, a, b);
            if n == 10 {
                assert_eq!(r.find(Timestamp(5), key), Some(10));
            }
        }
        assert_eq!(r.ring.len(), RECENT_PACKETS);
        let newest_ts = Timestamp(total as i64 / 2);
        assert_eq!(r.find(newest_ts, key), Some(total));
        assert_eq!(r.find(Timestamp(total as i64 / 2 - 1), key), Some(total - 2));
        assert_eq!(r.find(Timestamp(3), key), None, "forgotten once the ring went round");
        assert_eq!(r.find(newest_ts, r.key(b, a)), None);
    }

    /// A login, the server's answer handing out a cookie, a later request on the same connection.
    fn login_conversation() -> Vec<plainsight_synth::Frame> {
        let mut c =
            plainsight_synth::Conversation::new("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
        c.handshake()
            .client(b"POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 33\r\n\r\nusername=alice&password=S3cret-pw")
            .server(b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abcdef0123456789abcdef; Path=/\r\nContent-Length: 2\r\n\r\nok")
            .client(b"GET /orders HTTP/1.1\r\nHost: shop.lab\r\n\r\n")
            .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
            .close();
        c.take()
    }

    fn alerts_with(follow: bool) -> Vec<crate::alert::Alert> {
        let mut engine = Engine::new(Config { follow, ..Config::default() });
        run(&mut engine, login_conversation());
        engine.finish(&mut crate::alert::NullSink);
        engine.book().alerts().to_vec()
    }

    #[test]
    fn the_follow_logs_are_reserved_off_the_memory_budget_and_a_small_budget_keeps_fewer_messages() {
        let budget = crate::memory::Budget::new(64 << 20);
        let engine = Engine::new(Config { follow: true, budget: budget.clone(), ..Config::default() });
        assert_eq!(budget.reserved(), FOLLOW_BUDGET + book_memory(&budget));
        assert!(budget.used() >= budget.reserved());
        drop(engine);
        assert_eq!((budget.reserved(), budget.used()), (0, 0), "given back with the engine");
        // Without the UI only the book of leaks is reserved.
        let quiet = Engine::new(Config { follow: false, budget: budget.clone(), ..Config::default() });
        assert_eq!(budget.reserved(), book_memory(&budget));
        drop(quiet);
        // The same 500 leaking connections: a 64 MiB budget follows them all, a 1 MiB one reserves a
        // quarter of itself at most, keeps what fits and counts the rest.
        assert_eq!(follow_not_kept_of_many_connections(budget), 0);
        let small = crate::memory::Budget::new(1 << 20);
        assert!(follow_not_kept_of_many_connections(small.clone()) > 0);
        assert_eq!(small.reserved(), 0);
    }

    fn follow_not_kept_of_many_connections(budget: crate::memory::Budget) -> u64 {
        let mut engine = Engine::new(Config { follow: true, budget: budget.clone(), ..Config::default() });
        assert!(budget.reserved() <= budget.limit() / 100 * crate::memory::RESERVE_PERCENT);
        for i in 0..500u32 {
            let client = std::net::SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 40000));
            let mut c = plainsight_synth::Conversation::new(client, "10.0.0.2:80".parse().unwrap());
            let req =
                format!("GET /a HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Bearer tok{i:08}abcdefghijklmnop\r\n\r\n");
            c.handshake()
                .client(req.as_bytes())
                .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .client(b"GET /b HTTP/1.1\r\nHost: shop.lab\r\n\r\n")
                .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .close();
            run(&mut engine, c.take());
        }
        engine.finish(&mut crate::alert::NullSink);
        engine.stats().engine.follow_not_kept
    }

    #[test]
    fn a_leaking_connection_is_followed_only_when_a_ui_will_show_it() {
        let with = alerts_with(true);
        let login = with.iter().find(|a| a.kind == detect::LeakKind::FormLogin).unwrap();
        let (turns, not_kept, _) = login.conversation.as_ref().expect("followed").snapshot();
        // The login, the answer with its cookie, the next request and its answer, in order.
        assert_eq!(turns.len(), 4);
        assert_eq!(turns.iter().map(|t| t.from_client).collect::<Vec<_>>(), [true, false, true, false]);
        assert!(turns[2].lines[0].render(crate::secret::Reveal::Redacted).starts_with("GET /orders"));
        assert_eq!(not_kept, 0);
        // Redacted, the log shows neither the password nor the cookie.
        let text: String =
            turns.iter().flat_map(|t| t.lines.iter()).map(|l| l.render(crate::secret::Reveal::Redacted)).collect();
        assert!(!text.contains("S3cret-pw") && !text.contains("abcdef0123456789abcdef"), "{text}");
        let without = alerts_with(false);
        assert_eq!(without.len(), with.len());
        assert!(without.iter().all(|a| a.conversation.is_none()));
    }

    fn run(engine: &mut Engine, frames: Vec<plainsight_synth::Frame>) {
        for f in frames {
            engine.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut crate::alert::NullSink);
        }
    }

    #[test]
    fn the_follow_log_starts_with_the_first_lines_of_the_last_messages_before_the_leak() {
        let mut engine = Engine::new(Config { follow: true, ..Config::default() });
        let mut c =
            plainsight_synth::Conversation::new("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
        c.handshake();
        for i in 0..3 {
            let req = format!("GET /page{i} HTTP/1.1\r\nHost: shop.lab\r\nCookie: theme=dark\r\n\r\n");
            c.client(req.as_bytes()).server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
        c.client(b"GET /api HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Bearer tok-0123456789abcdefghij\r\n\r\n")
            .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
            .close();
        run(&mut engine, c.take());
        engine.finish(&mut crate::alert::NullSink);
        let alerts = engine.book().alerts().to_vec();
        let leak = alerts.iter().find(|a| a.kind == detect::LeakKind::BearerOpaque).expect("the bearer leak");
        let (turns, _, earlier) = leak.conversation.as_ref().expect("followed").snapshot();
        let first: Vec<String> = turns.iter().map(|t| t.lines[0].render(crate::secret::Reveal::Redacted)).collect();
        assert_eq!(first[..4], ["GET /page1 HTTP/1.1", "HTTP/1.1 200 OK", "GET /page2 HTTP/1.1", "HTTP/1.1 200 OK"]);
        assert!(turns[..4].iter().all(|t| t.head_only && t.lines.len() == 1), "first lines only");
        assert!(first[4].starts_with("GET /api HTTP/1.1") && !turns[4].head_only);
        assert_eq!(turns.len(), 6, "the leak and its answer follow");
        assert_eq!(earlier, 1, "GET /page0 crossed before what is shown");
    }

    /// A WebSocket frame with a text payload under 126 bytes, masked as a client's must be.
    fn ws_text(payload: &[u8], masked: bool) -> Vec<u8> {
        let mask = [0x11u8, 0x22, 0x33, 0x44];
        let mut f = vec![0x81, payload.len() as u8 | if masked { 0x80 } else { 0 }];
        if masked {
            f.extend_from_slice(&mask);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        } else {
            f.extend_from_slice(payload);
        }
        f
    }

    #[test]
    fn a_websocket_leaks_follow_log_starts_with_the_upgrade_and_the_messages_before_it() {
        let mut engine = Engine::new(Config { follow: true, ..Config::default() });
        let mut c =
            plainsight_synth::Conversation::new("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:8765".parse().unwrap());
        c.handshake()
            .client(b"GET /stomp HTTP/1.1\r\nHost: mq.lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .server(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
            .client(&ws_text(b"hello", true))
            .server(&ws_text(b"hi there", false))
            .client(&ws_text(b"CONNECT\naccept-version:1.2\nhost:mq.lab\nlogin:carol\npasscode:S3cret-pass-99\n\n\x00", true))
            .close();
        run(&mut engine, c.take());
        engine.finish(&mut crate::alert::NullSink);
        let alerts = engine.book().alerts().to_vec();
        assert!(!alerts.is_empty(), "the STOMP login is a leak");
        let (turns, _, _) = alerts[0].conversation.as_ref().expect("followed").snapshot();
        let first: Vec<String> = turns.iter().map(|t| t.lines[0].render(crate::secret::Reveal::Redacted)).collect();
        assert_eq!(
            first[..4],
            [
                "GET /stomp HTTP/1.1",
                "HTTP/1.1 101 Switching Protocols",
                "client text message #1 (5 bytes):",
                "server text message #1 (8 bytes):"
            ],
            "{first:?}"
        );
        assert!(turns[..4].iter().all(|t| t.head_only) && !turns[4].head_only, "{first:?}");
    }

    #[test]
    fn connections_that_never_leak_give_their_preludes_bytes_back_and_a_late_leak_is_still_followed() {
        // 1 MiB of budget: its follow reservation holds the preludes of a few hundred connections at
        // once, not of 4,000 in a row, unless each gives its bytes back when it ends.
        let budget = crate::memory::Budget::new(1 << 20);
        let mut engine = Engine::new(Config { follow: true, budget, ..Config::default() });
        for i in 0..4000u32 {
            let client = std::net::SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 40000));
            let mut c = plainsight_synth::Conversation::new(client, "10.0.0.2:80".parse().unwrap());
            let long = "x".repeat(400);
            let req = format!("GET /{long} HTTP/1.1\r\nHost: shop.lab\r\n\r\n");
            c.handshake().client(req.as_bytes()).server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").close();
            run(&mut engine, c.take());
        }
        assert_eq!(engine.stats().engine.follow_not_kept, 0);
        let mut c =
            plainsight_synth::Conversation::new("10.0.0.9:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
        c.handshake()
            .client(b"GET / HTTP/1.1\r\nHost: shop.lab\r\n\r\n")
            .server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .client(b"GET /api HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Bearer tok-0123456789abcdefghij\r\n\r\n")
            .close();
        run(&mut engine, c.take());
        engine.finish(&mut crate::alert::NullSink);
        let alerts = engine.book().alerts().to_vec();
        let (turns, not_kept, _) = alerts[0].conversation.as_ref().expect("followed").snapshot();
        assert_eq!((turns.len(), not_kept), (3, 0), "the page, its answer and the leak");
        assert_eq!(engine.stats().engine.follow_not_kept, 0);
    }
}
