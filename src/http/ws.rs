//! WebSocket (RFC 6455) after a `101 Switching Protocols` that answers an `Upgrade: websocket`
//! request: frames read as a stream per direction, messages handed to [`super::HttpHandler::on_ws_message`].
//!
//! A frame is read in any cutting: its header (2 to 14 bytes) is collected across segments, its payload
//! is consumed as it arrives. Client frames are masked: only the bytes that are kept (the message's
//! kept prefix) or inflated are unmasked, the kept ones in place in the message buffer, the inflated ones
//! through a small stack buffer; the rest of an uncompressed message past its kept prefix is skipped
//! without being touched. Messages are fragmented with continuation frames, and control frames (ping,
//! pong, close) may come between the fragments. After a close frame a direction says nothing more.
//!
//! `permessage-deflate` (RFC 7692), as the 101's `Sec-WebSocket-Extensions` negotiated it: RSV1 on the
//! first frame marks a compressed message, whose frames' payloads together plus `00 00 ff ff` are a raw
//! deflate stream. Each direction keeps its inflater from the start of the connection (context
//! takeover: a message may refer to the bytes of earlier ones) unless `client_no_context_takeover` or
//! `server_no_context_takeover` says otherwise. `*_max_window_bits` needs nothing: a 32 KiB window reads
//! any smaller one. A compressed message inflates to at most `max_decompressed_bytes`, and past 1 MiB at
//! most [`MAX_RATIO`] bytes per wire byte (no bomb); past that bound (or on corrupt data) the direction's
//! context is lost, and with context takeover its later compressed messages cannot be read (counted).
//! RSV1 without the extension negotiated is inflated all the same: a lenient peer would.
//!
//! A message keeps its first `max_body_bytes` (like an HTTP body); the rest is counted, not kept (a
//! compressed one is still inflated, to keep the context). What a connection holds (the kept prefixes,
//! the inflaters) is reported by [`WsConn::held`] and dropped by [`WsConn::shed`]. A gap kills its
//! direction (frame boundaries and the deflate context are lost: a message in progress is handed on cut,
//! counted); a frame length of 2^63 or more (RFC 6455: the most significant bit must be 0) too. Frames
//! that break the protocol without losing the framing (a reserved opcode, a continuation with no
//! message, an oversized or fragmented control frame) are skipped by their length and counted.

use flate2::{Decompress, FlushDecompress, Status};

use super::Config;
use super::decode::{FREE_OUTPUT, LAYER_COST, MAX_RATIO};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// Control frames carry at most 125 bytes (RFC 6455 5.5).
const MAX_CONTROL: u64 = 125;
/// Longest frame header: 2 bytes, a 64-bit length, a 4-byte mask.
const MAX_HEADER: usize = 14;
/// Bytes unmasked or inflated at a time, on the stack.
const CHUNK: usize = 4096;
/// A message buffer larger than this is freed once its message is handed on: a connection that once sent
/// a 60 KiB message does not keep 60 KiB for the rest of its life.
const KEEP_BUF: usize = 4096;
/// The empty stored block a sender strips from the end of each compressed message (RFC 7692 7.2.1).
const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];
/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;

/// The counters of WebSocket parsing (in `http::Stats`, shown by `--stats` as `ws_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WsStats {
    /// Connections upgraded to WebSocket and parsed.
    pub connections: u64,
    /// Messages handed on (complete or cut).
    pub messages: u64,
    /// Messages longer than the kept prefix (`max_body_bytes`): the rest not kept.
    pub messages_truncated: u64,
    /// Messages cut by a gap, a close frame, a new message or the connection's end before their last frame.
    pub messages_cut: u64,
    /// Directions given up: a gap (frame boundaries and the deflate context lost), a length of 2^63 or more.
    pub directions_lost: u64,
    /// Frames that break the protocol but keep the framing, skipped by their length.
    pub protocol_errors: u64,
    /// Compressed messages whose inflating stopped at its bound (total or ratio).
    pub inflate_capped: u64,
    /// Compressed messages whose data is not valid deflate.
    pub inflate_errors: u64,
    /// Compressed messages not read because their direction's deflate context was lost before them.
    pub undecodable: u64,
    /// Kept message bytes and inflaters dropped because memory was short and this connection held the most.
    pub memcap_dropped: u64,
}

impl WsStats {
    pub fn merge(&mut self, o: &WsStats) {
        self.connections += o.connections;
        self.messages += o.messages;
        self.messages_truncated += o.messages_truncated;
        self.messages_cut += o.messages_cut;
        self.directions_lost += o.directions_lost;
        self.protocol_errors += o.protocol_errors;
        self.inflate_capped += o.inflate_capped;
        self.inflate_errors += o.inflate_errors;
        self.undecodable += o.undecodable;
        self.memcap_dropped += o.memcap_dropped;
    }
}

/// One WebSocket message as the handler sees it.
#[derive(Clone, Copy, Debug)]
pub struct WsMessage<'a> {
    /// A text message (opcode 1); otherwise binary (opcode 2).
    pub text: bool,
    /// The message's payload (inflated when compressed): its first `max_body_bytes`.
    pub data: &'a [u8],
    /// The message was longer than `data` (or its inflating stopped at its bound).
    pub truncated: bool,
    /// A gap, a close frame or the connection's end cut the message before its last frame.
    pub incomplete: bool,
    /// Sent with permessage-deflate.
    pub compressed: bool,
    /// Payload bytes on the wire (all its frames).
    pub wire_len: u64,
    /// Capture time of its first frame.
    pub ts: Timestamp,
    /// Its number among the messages of its direction (0 for the first).
    pub seq: u64,
    /// Messages the other direction had sent before this one was handed on (what it may answer).
    pub peer_messages: u64,
    /// The upgrade request's target and Host.
    pub target: &'a str,
    pub host: Option<&'a str>,
}

/// `permessage-deflate` as the server accepted it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deflate {
    pub client_no_context_takeover: bool,
    pub server_no_context_takeover: bool,
    /// `*_max_window_bits` (8 to 15) when given: informative, any window up to 32 KiB is read.
    pub client_max_window_bits: Option<u8>,
    pub server_max_window_bits: Option<u8>,
}

/// Whether an `Upgrade` value names WebSocket (`websocket`, in a comma-separated list, any case).
pub fn asks_websocket(v: &[u8]) -> bool {
    v.split(|&c| c == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"websocket"))
}

/// The `permessage-deflate` parameters of the 101's `Sec-WebSocket-Extensions` values (the first
/// element of that name: the server accepts one), `None` when it is not there.
pub fn negotiated<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<Deflate> {
    for v in values {
        for ext in v.split(|&c| c == b',') {
            let mut params = ext.split(|&c| c == b';').map(|p| p.trim_ascii());
            if !params.next().is_some_and(|n| n.eq_ignore_ascii_case(b"permessage-deflate")) {
                continue;
            }
            let mut d = Deflate::default();
            for p in params {
                let (name, value) = match p.iter().position(|&c| c == b'=') {
                    Some(eq) => (p[..eq].trim_ascii(), Some(p[eq + 1..].trim_ascii())),
                    None => (p, None),
                };
                let bits = value.and_then(|v| {
                    let v = v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(v);
                    std::str::from_utf8(v).ok()?.parse::<u8>().ok().filter(|b| (8..=15).contains(b))
                });
                match name.to_ascii_lowercase().as_slice() {
                    b"client_no_context_takeover" => d.client_no_context_takeover = true,
                    b"server_no_context_takeover" => d.server_no_context_takeover = true,
                    b"client_max_window_bits" => d.client_max_window_bits = bits,
                    b"server_max_window_bits" => d.server_max_window_bits = bits,
                    _ => {}
                }
            }
            return Some(d);
        }
    }
    None
}

/// Where a direction is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum St {
    /// Collecting a frame header.
    #[default]
    Header,
    /// Inside a frame's payload.
    Payload,
    /// A close frame was sent: nothing more is read.
    Closed,
    /// Given up (a gap, a length past 2^63).
    Lost,
}

/// What a frame's payload is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Use {
    /// Part of the message being read.
    Data,
    /// A close frame: the direction ends with it.
    Close,
    /// Ping, pong, or a frame skipped for breaking the protocol.
    #[default]
    Skip,
}

/// The frame being read.
#[derive(Clone, Copy, Debug, Default)]
struct Frame {
    fin: bool,
    /// Payload bytes still to come.
    left: u64,
    /// Payload bytes already read (the mask's phase).
    pos: u64,
    mask: Option<[u8; 4]>,
    what: Use,
}

/// The message being read.
#[derive(Debug, Default)]
struct Msg {
    text: bool,
    compressed: bool,
    /// The kept prefix (inflated when compressed).
    data: Vec<u8>,
    truncated: bool,
    wire_len: u64,
    /// Inflated bytes produced so far (kept or not).
    produced: u64,
    ts: Timestamp,
    /// A compressed message that is no longer inflated (its bound, an error, its context lost).
    undecoded: bool,
    /// Memory was short: nothing more of it is kept.
    shed: bool,
}

#[derive(Default)]
struct Dir {
    st: St,
    hdr: [u8; MAX_HEADER],
    have: u8,
    hdr_ts: Timestamp,
    frame: Frame,
    /// The message in progress.
    msg: Option<Msg>,
    /// A message buffer kept for the next message (small ones only, see [`KEEP_BUF`]).
    spare: Vec<u8>,
    inflater: Option<Box<Decompress>>,
    /// Context takeover: the inflater lives from message to message.
    takeover: bool,
    /// With context takeover, the context was lost: later compressed messages cannot be read.
    lost_context: bool,
    /// Messages handed on.
    seq: u64,
}

/// The WebSocket state of one connection (both directions), boxed inside its HTTP connection.
pub struct WsConn {
    dirs: [Dir; 2],
    target: String,
    host: Option<String>,
}

/// Append `bytes` to a kept prefix that may grow to `cap`: doubling, but never past `cap` (a 64 KiB prefix
/// does not hold 128 KiB).
fn keep(data: &mut Vec<u8>, bytes: &[u8], cap: usize) {
    let need = data.len() + bytes.len();
    if need > data.capacity() {
        let want = need.max(data.capacity() * 2).min(cap).max(need);
        data.reserve_exact(want - data.len());
    }
    data.extend_from_slice(bytes);
}

/// Apply the mask to `b`, whose first byte is at payload offset `pos`.
fn unmask(b: &mut [u8], mask: [u8; 4], pos: u64) {
    let phase = (pos % 4) as usize;
    for (i, x) in b.iter_mut().enumerate() {
        *x ^= mask[(phase + i) % 4];
    }
}

/// What a message hands on, borrowed from the connection.
struct Out<'a> {
    target: &'a str,
    host: Option<&'a str>,
    peer_messages: u64,
}

impl WsConn {
    /// A connection upgraded by a 101 for `target` at `host`, with `deflate` when it was negotiated.
    pub fn new(target: &str, host: Option<&str>, deflate: Option<Deflate>) -> WsConn {
        let d = deflate.unwrap_or_default();
        let mut dirs: [Dir; 2] = Default::default();
        dirs[Side::Client.index()].takeover = !d.client_no_context_takeover;
        dirs[Side::Server.index()].takeover = !d.server_no_context_takeover;
        WsConn { dirs, target: target.to_string(), host: host.map(str::to_string) }
    }

    /// Heap bytes held: this box, the upgrade's target and host, the kept prefixes, the inflaters.
    #[inline]
    pub fn held(&self) -> usize {
        let mut n = std::mem::size_of::<WsConn>() + ALLOC + self.target.capacity() + ALLOC;
        n += self.host.as_ref().map_or(0, |h| h.capacity() + ALLOC);
        for d in &self.dirs {
            n += d.spare.capacity();
            if let Some(m) = &d.msg {
                n += m.data.capacity();
            }
            if d.inflater.is_some() {
                n += LAYER_COST;
            }
        }
        n
    }

    /// How many of the next bytes from `from` are read by nobody: all of them once the direction is
    /// closed or lost.
    #[inline]
    pub fn skippable(&self, from: Side) -> u64 {
        match self.dirs[from.index()].st {
            St::Closed | St::Lost => u64::MAX,
            St::Header | St::Payload => 0,
        }
    }

    /// Memory is short and this connection holds the most: drop the kept prefixes of the messages in
    /// progress (they are handed on with what they had, truncated) and the inflaters (with context
    /// takeover, the direction's later compressed messages cannot be read).
    pub fn shed(&mut self, stats: &mut WsStats) {
        for d in &mut self.dirs {
            let mut freed = d.spare.capacity() > 0;
            d.spare = Vec::new();
            if let Some(m) = d.msg.as_mut() {
                if m.data.capacity() > 0 {
                    freed = true;
                    m.data = Vec::new();
                    m.truncated = true;
                }
                m.shed = true;
                if m.compressed && d.inflater.is_some() {
                    m.undecoded = true;
                }
            }
            if d.inflater.take().is_some() {
                freed = true;
                d.lost_context |= d.takeover;
            }
            if freed {
                stats.memcap_dropped += 1;
            }
        }
    }

    pub fn on_data(
        &mut self,
        cfg: &Config,
        stats: &mut WsStats,
        from: Side,
        data: &[u8],
        ts: Timestamp,
        h: &mut dyn FnMut(Side, &WsMessage<'_>),
    ) {
        let d = from.index();
        let peer_messages = self.dirs[1 - d].seq;
        let out = Out { target: &self.target, host: self.host.as_deref(), peer_messages };
        let dir = &mut self.dirs[d];
        let mut emit = |m: &WsMessage<'_>| h(from, m);
        dir.feed(cfg, stats, data, ts, &out, &mut emit);
    }

    /// A gap in `from`'s bytes: its message in progress is handed on cut, the direction is given up.
    pub fn on_gap(&mut self, stats: &mut WsStats, from: Side, h: &mut dyn FnMut(Side, &WsMessage<'_>)) {
        let d = from.index();
        let peer_messages = self.dirs[1 - d].seq;
        let out = Out { target: &self.target, host: self.host.as_deref(), peer_messages };
        let dir = &mut self.dirs[d];
        if matches!(dir.st, St::Closed | St::Lost) {
            return;
        }
        dir.cut(stats, &out, &mut |m| h(from, m));
        dir.lose(stats);
    }

    /// The connection ended: messages in progress are handed on cut.
    pub fn on_close(&mut self, stats: &mut WsStats, h: &mut dyn FnMut(Side, &WsMessage<'_>)) {
        for from in [Side::Client, Side::Server] {
            let d = from.index();
            let peer_messages = self.dirs[1 - d].seq;
            let out = Out { target: &self.target, host: self.host.as_deref(), peer_messages };
            self.dirs[d].cut(stats, &out, &mut |m| h(from, m));
        }
    }
}

impl Dir {
    fn feed(
        &mut self,
        cfg: &Config,
        stats: &mut WsStats,
        data: &[u8],
        ts: Timestamp,
        out: &Out<'_>,
        emit: &mut dyn FnMut(&WsMessage<'_>),
    ) {
        let mut p = 0;
        while p < data.len() {
            match self.st {
                St::Closed | St::Lost => return,
                St::Header => {
                    if self.have == 0 {
                        self.hdr_ts = ts;
                    }
                    let need = self.header_len();
                    let take = (need - usize::from(self.have)).min(data.len() - p);
                    let at = usize::from(self.have);
                    self.hdr[at..at + take].copy_from_slice(&data[p..p + take]);
                    self.have += take as u8;
                    p += take;
                    // The first two bytes tell how long the header is.
                    if usize::from(self.have) == need && self.header_len() == need {
                        self.header(cfg, stats, out, emit);
                    }
                }
                St::Payload => {
                    let n = self.frame.left.min((data.len() - p) as u64) as usize;
                    self.payload(cfg, stats, &data[p..p + n]);
                    p += n;
                    self.frame.left -= n as u64;
                    self.frame.pos += n as u64;
                    if self.frame.left == 0 {
                        self.frame_done(cfg, stats, out, emit);
                    }
                }
            }
        }
    }

    /// Bytes of the header being collected: 2 until those are in, then all of it.
    fn header_len(&self) -> usize {
        if self.have < 2 {
            return 2;
        }
        let ext = match self.hdr[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        2 + ext + if self.hdr[1] & 0x80 != 0 { 4 } else { 0 }
    }

    /// A complete frame header: decide what its payload is for.
    fn header(&mut self, cfg: &Config, stats: &mut WsStats, out: &Out<'_>, emit: &mut dyn FnMut(&WsMessage<'_>)) {
        let h = self.hdr;
        self.have = 0;
        let (fin, rsv1, opcode) = (h[0] & 0x80 != 0, h[0] & 0x40 != 0, h[0] & 0x0f);
        let (len, at) = match h[1] & 0x7f {
            126 => (u64::from(u16::from_be_bytes([h[2], h[3]])), 4),
            127 => (u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]), 10),
            n => (u64::from(n), 2),
        };
        if len >> 63 != 0 {
            // RFC 6455 5.2: the most significant bit must be 0. No peer reads past it.
            stats.protocol_errors += 1;
            self.cut(stats, out, emit);
            self.lose(stats);
            return;
        }
        let mask = (h[1] & 0x80 != 0).then(|| [h[at], h[at + 1], h[at + 2], h[at + 3]]);
        let what = match opcode {
            0 if self.msg.is_some() => Use::Data,
            1 | 2 => {
                if self.msg.is_some() {
                    // A new message before the last one's final frame: the last one ends here.
                    self.cut(stats, out, emit);
                }
                self.start(opcode == 1, rsv1, stats);
                Use::Data
            }
            8 => Use::Close,
            9 | 10 => {
                if len > MAX_CONTROL || !fin {
                    stats.protocol_errors += 1;
                }
                Use::Skip
            }
            // A continuation with no message, a reserved opcode.
            _ => {
                stats.protocol_errors += 1;
                Use::Skip
            }
        };
        self.frame = Frame { fin, left: len, pos: 0, mask, what };
        self.st = St::Payload;
        if len == 0 {
            self.frame_done(cfg, stats, out, emit);
        }
    }

    /// A data frame with opcode 1 or 2 starts a message.
    fn start(&mut self, text: bool, compressed: bool, stats: &mut WsStats) {
        let mut undecoded = false;
        if compressed && self.lost_context {
            stats.undecodable += 1;
            undecoded = true;
        }
        let data = std::mem::take(&mut self.spare);
        self.msg = Some(Msg { text, compressed, data, ts: self.hdr_ts, undecoded, ..Msg::default() });
    }

    /// Payload bytes of the current frame (still masked).
    fn payload(&mut self, cfg: &Config, stats: &mut WsStats, wire: &[u8]) {
        if self.frame.what != Use::Data {
            return;
        }
        let Some(m) = self.msg.as_mut() else { return };
        m.wire_len += wire.len() as u64;
        let (mask, pos) = (self.frame.mask, self.frame.pos);
        if !m.compressed {
            let room = if m.shed { 0 } else { cfg.max_body_bytes.saturating_sub(m.data.len()) };
            let take = room.min(wire.len());
            if take > 0 {
                let at = m.data.len();
                keep(&mut m.data, &wire[..take], cfg.max_body_bytes);
                if let Some(k) = mask {
                    unmask(&mut m.data[at..], k, pos);
                }
            }
            if take < wire.len() {
                m.truncated = true;
            }
            return;
        }
        if m.undecoded {
            return;
        }
        match mask {
            None => self.inflate(cfg, stats, wire, false),
            Some(k) => {
                let mut buf = [0u8; CHUNK];
                let mut off = 0;
                for piece in wire.chunks(CHUNK) {
                    let b = &mut buf[..piece.len()];
                    b.copy_from_slice(piece);
                    unmask(b, k, pos + off as u64);
                    off += piece.len();
                    self.inflate(cfg, stats, b, false);
                    if self.msg.as_ref().is_none_or(|m| m.undecoded) {
                        return;
                    }
                }
            }
        }
    }

    /// Inflate `input` (unmasked compressed payload) into the message's kept prefix, within its bound.
    fn inflate(&mut self, cfg: &Config, stats: &mut WsStats, input: &[u8], last: bool) {
        let Some(m) = self.msg.as_mut() else { return };
        let d = self.inflater.get_or_insert_with(|| Box::new(Decompress::new(false)));
        // Past 1 MiB, at most MAX_RATIO bytes per wire byte: one deflate layer cannot pass ~1032:1.
        let limit =
            (cfg.max_decompressed_bytes as u64).min(FREE_OUTPUT.saturating_add(m.wire_len.saturating_mul(MAX_RATIO)));
        let mut buf = [0u8; CHUNK];
        let mut p = 0;
        let flush = if last { FlushDecompress::Sync } else { FlushDecompress::None };
        let failed = loop {
            let (in0, out0) = (d.total_in(), d.total_out());
            let status = d.decompress(&input[p..], &mut buf, flush);
            let used = (d.total_in() - in0) as usize;
            let made = (d.total_out() - out0) as usize;
            p += used;
            let room = limit.saturating_sub(m.produced);
            let made_ok = made.min(room as usize);
            m.produced += made_ok as u64;
            let kept = if m.shed { 0 } else { cfg.max_body_bytes.saturating_sub(m.data.len()).min(made_ok) };
            keep(&mut m.data, &buf[..kept], cfg.max_body_bytes);
            if kept < made {
                m.truncated = true;
            }
            if made as u64 > room {
                stats.inflate_capped += 1;
                break true;
            }
            match status {
                Err(_) => {
                    stats.inflate_errors += 1;
                    break true;
                }
                // A final block: the sender starts afresh with its next message.
                Ok(Status::StreamEnd) => {
                    d.reset(false);
                    break false;
                }
                Ok(_) if used == 0 && made == 0 => break false,
                Ok(_) => {}
            }
            if p == input.len() && made < buf.len() {
                break false;
            }
        };
        if failed {
            // The inflater stopped mid-message: its context is no good for the next message either.
            m.undecoded = true;
            self.inflater = None;
            self.lost_context |= self.takeover;
        }
    }

    /// The current frame's payload is complete.
    fn frame_done(&mut self, cfg: &Config, stats: &mut WsStats, out: &Out<'_>, emit: &mut dyn FnMut(&WsMessage<'_>)) {
        self.st = St::Header;
        match self.frame.what {
            Use::Skip => {}
            Use::Close => {
                self.cut(stats, out, emit);
                self.st = St::Closed;
                self.drop_state();
            }
            Use::Data if self.frame.fin => {
                if self.msg.as_ref().is_some_and(|m| m.compressed && !m.undecoded) {
                    self.inflate(cfg, stats, &TAIL, true);
                    if !self.takeover {
                        if let Some(d) = self.inflater.as_mut() {
                            d.reset(false);
                        }
                    }
                }
                self.finish(false, stats, out, emit);
            }
            Use::Data => {}
        }
    }

    /// Hand the message in progress on (cut short when `incomplete`).
    fn finish(&mut self, incomplete: bool, stats: &mut WsStats, out: &Out<'_>, emit: &mut dyn FnMut(&WsMessage<'_>)) {
        let Some(mut m) = self.msg.take() else { return };
        if incomplete {
            stats.messages_cut += 1;
        }
        if m.truncated {
            stats.messages_truncated += 1;
        }
        // A compressed message of which nothing could be read says nothing.
        if !(m.compressed && m.undecoded && m.data.is_empty()) {
            stats.messages += 1;
            emit(&WsMessage {
                text: m.text,
                data: &m.data,
                truncated: m.truncated,
                incomplete,
                compressed: m.compressed,
                wire_len: m.wire_len,
                ts: m.ts,
                seq: self.seq,
                peer_messages: out.peer_messages,
                target: out.target,
                host: out.host,
            });
            self.seq += 1;
        }
        m.data.clear();
        if m.data.capacity() <= KEEP_BUF {
            self.spare = m.data;
        }
    }

    /// A message in progress ends here, cut.
    fn cut(&mut self, stats: &mut WsStats, out: &Out<'_>, emit: &mut dyn FnMut(&WsMessage<'_>)) {
        if self.msg.is_some() {
            self.finish(true, stats, out, emit);
        }
    }

    /// Give the direction up, freeing what it holds.
    fn lose(&mut self, stats: &mut WsStats) {
        stats.directions_lost += 1;
        self.st = St::Lost;
        self.drop_state();
    }

    fn drop_state(&mut self) {
        self.msg = None;
        self.spare = Vec::new();
        self.inflater = None;
        self.have = 0;
    }
}

#[cfg(test)]
mod tests;
