//! One HTTP connection: a parser per direction, request/response pairing, gaps and resync.

use std::collections::VecDeque;

use super::body::{Acc, Chunk, Encoding, Framing};
use super::start::{Start, classify, find_line_start};
use super::tls::{Hello, MAX_HELLO, client_hello};
use super::{Config, Headers, HttpHandler, Protocol, Request, RequestLine, Response, Stats};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// Headers parsed per message; more is an error (httparse does not return partial results).
const MAX_HEADERS: usize = 128;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;
/// Bytes looked at without finding a message start before a stream is declared not HTTP.
const SCAN_BUDGET: usize = 64 * 1024;
/// Bytes kept between segments while deciding whether a message starts there.
const CARRY: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Mode {
    /// Start of the stream: HTTP, TLS or something else?
    #[default]
    Unknown,
    /// After garbage or a gap: looking for the next message start.
    Resync,
    Head,
    Body,
    /// Collecting a ClientHello.
    Tls,
    /// Not HTTP (or no longer: a tunnel, a WebSocket): ignored at no cost.
    Other,
}

#[derive(Debug)]
enum Kind {
    Request { method: String, target: String, version: u8, seq: u64 },
    Response { status: u16, reason: String, version: u8, req: Option<RequestLine> },
}

/// A message whose head is parsed and whose body is arriving.
#[derive(Debug)]
struct Msg {
    kind: Kind,
    headers: Headers,
    ts: Timestamp,
    framing: Framing,
    encoding: Encoding,
    acc: Acc,
    /// After this message the connection stops being HTTP (101, CONNECT 2xx).
    tunnel: bool,
    /// A response to a request we do not know (HEAD-ness unknown): its announced body may not follow.
    /// Decided by the next bytes: a status line means there was none.
    peek: bool,
    /// Heap bytes of the parsed head (for the memory budget), kept body aside.
    cost: usize,
}

#[derive(Default)]
struct Dir {
    mode: Mode,
    buf: Vec<u8>,
    msg: Option<Box<Msg>>,
    scanned: usize,
    /// The next byte is at a place where a message may start (stream start, after a gap, after `\n`).
    boundary: bool,
    head_ts: Option<Timestamp>,
}

impl Dir {
    /// Switch to parsing when `start` begins a message here (TLS only at the very start of a stream).
    fn enter(&mut self, start: Start, stream_start: bool) -> bool {
        match start {
            Start::Request | Start::Response => {
                self.mode = Mode::Head;
                self.scanned = 0;
                true
            }
            Start::Tls if stream_start => {
                self.mode = Mode::Tls;
                true
            }
            _ => false,
        }
    }
}

/// Per-connection HTTP state (both directions). Lives inside the flow table: small when idle.
#[derive(Default)]
pub struct HttpConnection {
    dirs: [Dir; 2],
    pending: VecDeque<RequestLine>,
    /// Requests seen on this connection (the next one's `seq`).
    requests: u64,
    /// Heap bytes of `pending`.
    pending_bytes: usize,
    /// More requests were pipelined than `max_pending_requests` (or the pending ones were dropped to
    /// free memory): which request a later response answers is unknown, so responses past the pending
    /// ones are not paired at all, rather than paired with the wrong request.
    unpaired: bool,
    saw_http: bool,
    tls: bool,
    started: bool,
}

/// A reused head buffer larger than this is freed once its head is parsed: a connection that once
/// sent a 60 KiB head does not keep 60 KiB for the rest of its life.
const KEEP_BUF: usize = 4096;

/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;

fn string_cost(s: &str) -> usize {
    if s.is_empty() { 0 } else { s.len() + ALLOC }
}

fn request_line_cost(r: &RequestLine) -> usize {
    std::mem::size_of::<RequestLine>()
        + string_cost(&r.method)
        + string_cost(&r.target)
        + r.host.as_deref().map_or(0, string_cost)
}

fn headers_cost(h: &Headers) -> usize {
    h.0.capacity() * std::mem::size_of::<(String, Vec<u8>)>()
        + ALLOC
        + h.0.iter().map(|(n, v)| n.len() + v.len() + 2 * ALLOC).sum::<usize>()
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// End of the head: index just past `\r\n\r\n` or `\n\n` (bare LF tolerated, as servers do).
fn head_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(k) = memchr::memchr(b'\n', b.get(i..)?) {
        let nl = i + k;
        match b.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if b.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => {}
        }
        i = nl + 1;
    }
    None
}

fn header_has_token(h: &Headers, name: &str, token: &str) -> bool {
    h.get_all(name).any(|v| String::from_utf8_lossy(v).split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Response bodies worth keeping for the detectors: structured or textual, never media or binaries.
fn keep_response_body(h: &Headers) -> bool {
    match h.get("content-type") {
        None => true,
        Some(ct) => {
            let ct = String::from_utf8_lossy(ct).to_ascii_lowercase();
            ct.contains("json")
                || ct.starts_with("text/plain")
                || ct.contains("x-www-form-urlencoded")
                || ct.contains("jwt")
        }
    }
}

impl HttpConnection {
    /// Heap bytes this connection holds: partial heads and other carried bytes, parsed heads of messages
    /// whose body is arriving, kept bodies, the requests awaiting a response. O(1): asked per segment.
    #[inline]
    pub fn held(&self) -> usize {
        let mut n = self.pending_bytes;
        for d in &self.dirs {
            n += d.buf.capacity();
            if let Some(m) = &d.msg {
                n += m.cost + m.acc.raw.capacity();
            }
        }
        n
    }

    /// Memory is short and this connection holds the most: drop partial heads (the parser
    /// resynchronises on the next message), kept bodies (the message is still reported, its body cut)
    /// and the requests awaiting responses (later responses are not paired).
    /// How many of the next bytes from `from` the parser will skip unread: the rest of a body it does
    /// not keep (a media response, or past the body cap) whose length is known, or everything of a
    /// stream it no longer parses (TLS, a tunnel, not HTTP). Their content cannot change what it
    /// reports nor where the next message starts.
    #[inline]
    pub fn skippable(&self, from: Side) -> u64 {
        let dir = &self.dirs[from.index()];
        match dir.mode {
            Mode::Other => u64::MAX,
            Mode::Body => match dir.msg.as_deref() {
                Some(m) if !m.peek && (!m.acc.keep || m.acc.truncated) => match m.framing {
                    Framing::Length(rem) | Framing::Chunked(Chunk::Data(rem)) => rem,
                    Framing::UntilClose => u64::MAX,
                    _ => 0,
                },
                _ => 0,
            },
            _ => 0,
        }
    }

    pub fn shed(&mut self, stats: &mut Stats) {
        for dir in &mut self.dirs {
            match dir.mode {
                Mode::Head if !dir.buf.is_empty() => {
                    stats.memcap_heads_dropped += 1;
                    dir.mode = Mode::Resync;
                    dir.head_ts = None;
                    dir.boundary = false;
                }
                Mode::Tls => {
                    // The ClientHello being collected: the connection stays TLS-unknown, ignored.
                    stats.memcap_heads_dropped += 1;
                    dir.mode = Mode::Other;
                }
                Mode::Body => {
                    if let Some(m) = dir.msg.as_mut().filter(|m| m.acc.raw.capacity() > 0) {
                        stats.memcap_bodies_dropped += 1;
                        m.acc.raw = Vec::new();
                        m.acc.keep = false;
                        m.acc.truncated = true;
                    }
                }
                _ => {}
            }
            if dir.buf.is_empty() || matches!(dir.mode, Mode::Resync | Mode::Other) {
                dir.buf = Vec::new();
            }
        }
        if !self.pending.is_empty() {
            stats.memcap_pending_dropped += 1;
            self.pending = VecDeque::new();
            self.pending_bytes = 0;
            self.unpaired = true;
        }
    }

    /// A request or status line (or a TLS record) has been recognised in either direction, even if its
    /// head is not complete yet: the connection is HTTP (or TLS) from here on.
    pub fn recognised(&self) -> bool {
        self.saw_http || self.tls || self.dirs.iter().any(|d| matches!(d.mode, Mode::Head | Mode::Body | Mode::Tls))
    }

    pub fn protocol(&self) -> Protocol {
        if self.tls {
            Protocol::Tls { sni: None }
        } else if self.saw_http {
            Protocol::Http
        } else if self.dirs.iter().all(|d| d.mode == Mode::Other) {
            Protocol::Other
        } else {
            Protocol::Unknown
        }
    }

    pub fn on_data<H: HttpHandler>(
        &mut self,
        cfg: &Config,
        stats: &mut Stats,
        from: Side,
        data: &[u8],
        ts: Timestamp,
        h: &mut H,
    ) {
        if !self.started {
            self.started = true;
            for d in &mut self.dirs {
                d.boundary = true;
            }
        }
        let d = from.index();
        let mut p = 0;
        while p < data.len() {
            p = match self.dirs[d].mode {
                Mode::Other => return,
                Mode::Unknown | Mode::Resync => self.scan(d, data, p, stats),
                Mode::Tls => self.tls_hello(d, data, p, stats, h),
                Mode::Head => self.head(d, cfg, stats, from, data, p, ts, h),
                Mode::Body => self.body(d, cfg, stats, from, data, p, ts, h),
            };
        }
    }

    /// Look for a message start from `p`. Returns the new position.
    fn scan(&mut self, d: usize, data: &[u8], p: usize, stats: &mut Stats) -> usize {
        let dir = &mut self.dirs[d];
        let stream_start = dir.mode == Mode::Unknown && dir.scanned == 0;
        // Bytes carried from the previous segment that might begin a message: decide with a few more
        // bytes, without consuming them (the head parser takes over from `p` with the carry in `buf`).
        if !dir.buf.is_empty() {
            let take = (CARRY.saturating_sub(dir.buf.len())).min(data.len() - p);
            let mut probe = [0u8; CARRY];
            let n = dir.buf.len().min(CARRY);
            probe[..n].copy_from_slice(&dir.buf[..n]);
            probe[n..n + take].copy_from_slice(&data[p..p + take]);
            let start = classify(&probe[..n + take]);
            if dir.enter(start, stream_start) {
                return p;
            }
            match start {
                Start::Maybe if n + take < CARRY => {
                    dir.buf.extend_from_slice(&data[p..p + take]);
                    return p + take;
                }
                _ => {
                    dir.buf.clear();
                    dir.boundary = false;
                }
            }
        }
        if dir.boundary {
            dir.boundary = false;
            let start = classify(&data[p..]);
            if dir.enter(start, stream_start) {
                return p;
            }
            if start == Start::Maybe {
                dir.buf.extend_from_slice(&data[p..]);
                return data.len();
            }
        }
        match find_line_start(&data[p..]) {
            Some(off) => {
                let at = p + off;
                dir.scanned += off;
                match classify(&data[at..]) {
                    Start::Request | Start::Response => {
                        dir.mode = Mode::Head;
                        dir.scanned = 0;
                        stats.resyncs += 1;
                        at
                    }
                    _ if at == data.len() => {
                        dir.boundary = true;
                        data.len()
                    }
                    _ => {
                        dir.buf.extend_from_slice(&data[at..]);
                        data.len()
                    }
                }
            }
            None => {
                dir.scanned += data.len() - p;
                dir.boundary = data.last() == Some(&b'\n');
                if dir.mode == Mode::Unknown && dir.scanned > SCAN_BUDGET {
                    dir.mode = Mode::Other;
                }
                data.len()
            }
        }
    }

    fn tls_hello<H: HttpHandler>(&mut self, d: usize, data: &[u8], p: usize, stats: &mut Stats, h: &mut H) -> usize {
        let dir = &mut self.dirs[d];
        let take = (MAX_HELLO - dir.buf.len().min(MAX_HELLO)).min(data.len() - p);
        dir.buf.extend_from_slice(&data[p..p + take]);
        let sni = match client_hello(&dir.buf) {
            Hello::NeedMore if dir.buf.len() < MAX_HELLO => return data.len(),
            Hello::NeedMore | Hello::Other => None,
            Hello::Client(sni) => sni,
        };
        dir.buf = Vec::new();
        // Everything after the handshake is encrypted: both directions are done.
        for x in &mut self.dirs {
            x.mode = Mode::Other;
            x.buf = Vec::new();
            x.msg = None;
        }
        if !self.tls {
            self.tls = true;
            stats.tls_connections += 1;
            h.on_tls(sni.as_deref());
        }
        data.len()
    }

    fn resync(&mut self, d: usize, stats: &mut Stats) {
        let dir = &mut self.dirs[d];
        dir.mode = Mode::Resync;
        dir.buf.clear();
        dir.msg = None;
        dir.head_ts = None;
        dir.boundary = false;
        stats.parse_errors += 1;
    }

    #[allow(clippy::too_many_arguments)]
    fn head<H: HttpHandler>(
        &mut self,
        d: usize,
        cfg: &Config,
        stats: &mut Stats,
        from: Side,
        data: &[u8],
        p: usize,
        ts: Timestamp,
        h: &mut H,
    ) -> usize {
        let dir = &mut self.dirs[d];
        let mut p = p;
        if dir.buf.is_empty() {
            // Empty lines between messages are tolerated (clients send a CRLF after a POST body).
            while p < data.len() && matches!(data[p], b'\r' | b'\n') {
                p += 1;
            }
            if p == data.len() {
                return p;
            }
            // Not a message start: garbage between messages (or a body longer than announced).
            if classify(&data[p..]) == Start::No || classify(&data[p..]) == Start::Tls {
                stats.resyncs += 1;
                dir.mode = Mode::Resync;
                dir.boundary = false;
                return p;
            }
        }
        if dir.head_ts.is_none() {
            dir.head_ts = Some(ts);
        }
        if dir.buf.is_empty() {
            // Fast path: the whole head is in this segment; parse it in place, no copy.
            let rest = &data[p..];
            match head_end(rest, 0) {
                Some(end) if end <= cfg.max_head_bytes => {
                    self.parse_head(d, cfg, stats, from, &rest[..end], h);
                    return p + end;
                }
                Some(_) => {
                    stats.heads_too_large += 1;
                    self.resync(d, stats);
                    return p;
                }
                None if rest.len() > cfg.max_head_bytes => {
                    stats.heads_too_large += 1;
                    self.resync(d, stats);
                    return data.len();
                }
                None => {
                    dir.buf.extend_from_slice(rest);
                    return data.len();
                }
            }
        }
        let old = dir.buf.len();
        let room = (cfg.max_head_bytes + 4).saturating_sub(old);
        let take = room.min(data.len() - p);
        dir.buf.extend_from_slice(&data[p..p + take]);
        match head_end(&dir.buf, old.saturating_sub(3)) {
            Some(end) if end <= cfg.max_head_bytes => {
                let buf = std::mem::take(&mut self.dirs[d].buf);
                self.parse_head(d, cfg, stats, from, &buf[..end], h);
                let mut buf = buf;
                buf.clear();
                if self.dirs[d].buf.is_empty() && buf.capacity() <= KEEP_BUF {
                    self.dirs[d].buf = buf;
                }
                p + (end - old)
            }
            Some(_) => {
                stats.heads_too_large += 1;
                self.resync(d, stats);
                p + take
            }
            None if self.dirs[d].buf.len() > cfg.max_head_bytes => {
                stats.heads_too_large += 1;
                self.resync(d, stats);
                p + take
            }
            None => p + take,
        }
    }

    fn parse_head<H: HttpHandler>(
        &mut self,
        d: usize,
        cfg: &Config,
        stats: &mut Stats,
        from: Side,
        head: &[u8],
        h: &mut H,
    ) {
        let ts = self.dirs[d].head_ts.take().unwrap_or_default();
        let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let msg = match classify(head) {
            Start::Request => {
                let mut req = httparse::Request::new(&mut hdrs);
                let mut pc = httparse::ParserConfig::default();
                pc.allow_multiple_spaces_in_request_line_delimiters(true);
                pc.ignore_invalid_headers_in_requests(true);
                match pc.parse_request(&mut req, head) {
                    Ok(httparse::Status::Complete(_)) => {
                        let headers =
                            Headers(req.headers.iter().map(|x| (x.name.to_string(), x.value.to_vec())).collect());
                        let method = req.method.unwrap_or("").to_string();
                        let target = req.path.unwrap_or("").to_string();
                        let seq = self.requests;
                        self.requests += 1;
                        let line = RequestLine {
                            method: method.clone(),
                            target: target.clone(),
                            host: headers.get("host").map(lossy),
                            seq,
                        };
                        if !self.unpaired && self.pending.len() >= cfg.max_pending_requests {
                            // Forgetting the oldest would pair every later response with the wrong
                            // request (and a HEAD's answer with a body it never has): stop pairing.
                            self.unpaired = true;
                            stats.pipeline_overflow += 1;
                        }
                        if !self.unpaired {
                            self.pending_bytes += request_line_cost(&line);
                            self.pending.push_back(line);
                        }
                        let framing = if header_has_token(&headers, "transfer-encoding", "chunked") {
                            Framing::Chunked(Chunk::Size)
                        } else {
                            match content_length(&headers) {
                                Ok(Some(n)) if n > 0 => Framing::Length(n),
                                Ok(_) => Framing::None,
                                Err(()) => {
                                    self.resync(d, stats);
                                    return;
                                }
                            }
                        };
                        let encoding = Encoding::from_header(headers.get("content-encoding"));
                        Msg {
                            kind: Kind::Request { method, target, version: req.version.unwrap_or(1), seq },
                            headers,
                            ts,
                            framing,
                            encoding,
                            acc: Acc { keep: true, ..Acc::default() },
                            tunnel: false,
                            peek: false,
                            cost: 0,
                        }
                    }
                    _ => {
                        self.resync(d, stats);
                        return;
                    }
                }
            }
            Start::Response => {
                let mut resp = httparse::Response::new(&mut hdrs);
                let mut pc = httparse::ParserConfig::default();
                pc.allow_spaces_after_header_name_in_responses(true);
                pc.allow_obsolete_multiline_headers_in_responses(true);
                pc.allow_multiple_spaces_in_response_status_delimiters(true);
                pc.ignore_invalid_headers_in_responses(true);
                match pc.parse_response(&mut resp, head) {
                    Ok(httparse::Status::Complete(_)) => {
                        let headers =
                            Headers(resp.headers.iter().map(|x| (x.name.to_string(), x.value.to_vec())).collect());
                        let status = resp.code.unwrap_or(0);
                        let interim = (100..200).contains(&status) && status != 101;
                        let req = if interim { self.pending.front().cloned() } else { self.pending.pop_front() };
                        if let Some(r) = req.as_ref().filter(|_| !interim) {
                            self.pending_bytes = self.pending_bytes.saturating_sub(request_line_cost(r));
                        }
                        let head_req = req.as_ref().is_some_and(|r| r.method.eq_ignore_ascii_case("HEAD"));
                        let connect_ok = req.as_ref().is_some_and(|r| r.method.eq_ignore_ascii_case("CONNECT"))
                            && (200..300).contains(&status);
                        let framing =
                            if interim || status == 101 || status == 204 || status == 304 || head_req || connect_ok {
                                Framing::None
                            } else if header_has_token(&headers, "transfer-encoding", "chunked") {
                                Framing::Chunked(Chunk::Size)
                            } else {
                                match content_length(&headers) {
                                    Ok(Some(0)) => Framing::None,
                                    Ok(Some(n)) => Framing::Length(n),
                                    Ok(None) => Framing::UntilClose,
                                    Err(()) => {
                                        self.resync(d, stats);
                                        return;
                                    }
                                }
                            };
                        let encoding = Encoding::from_header(headers.get("content-encoding"));
                        let keep = keep_response_body(&headers);
                        // Whether a body follows depends on the request (HEAD): unknown here.
                        let peek = req.is_none() && framing != Framing::None;
                        Msg {
                            kind: Kind::Response {
                                status,
                                reason: resp.reason.unwrap_or("").to_string(),
                                version: resp.version.unwrap_or(1),
                                req,
                            },
                            headers,
                            ts,
                            framing,
                            encoding,
                            acc: Acc { keep, ..Acc::default() },
                            tunnel: status == 101 || connect_ok,
                            peek,
                            cost: 0,
                        }
                    }
                    _ => {
                        self.resync(d, stats);
                        return;
                    }
                }
            }
            _ => {
                self.resync(d, stats);
                return;
            }
        };
        self.saw_http = true;
        let mut msg = msg;
        msg.cost = std::mem::size_of::<Msg>() + ALLOC + headers_cost(&msg.headers);
        msg.cost += match &msg.kind {
            Kind::Request { method, target, .. } => string_cost(method) + string_cost(target),
            Kind::Response { reason, req, .. } => string_cost(reason) + req.as_ref().map_or(0, request_line_cost),
        };
        let dir = &mut self.dirs[d];
        dir.boundary = false;
        if msg.framing == Framing::None {
            dir.mode = Mode::Head;
            self.emit(d, cfg, stats, from, msg, h);
        } else {
            dir.mode = Mode::Body;
            dir.msg = Some(Box::new(msg));
        }
    }

    /// A response to an unknown request announced a body: if the next bytes are a status line, it had
    /// none (the answer to a HEAD), and must not eat the next response. Returns `Some(p)` when the
    /// message is settled without a body or more bytes are needed, `None` when its body starts here.
    #[allow(clippy::too_many_arguments)]
    fn peek_body<H: HttpHandler>(
        &mut self,
        d: usize,
        cfg: &Config,
        stats: &mut Stats,
        from: Side,
        data: &[u8],
        p: usize,
        ts: Timestamp,
        h: &mut H,
    ) -> Option<usize> {
        /// `HTTP/1.1 ` is enough to tell.
        const LOOK: usize = 9;
        let dir = &mut self.dirs[d];
        let have = dir.buf.len().min(LOOK);
        let take = (LOOK - have).min(data.len() - p);
        let mut look = [0u8; LOOK];
        look[..have].copy_from_slice(&dir.buf[..have]);
        look[have..have + take].copy_from_slice(&data[p..p + take]);
        match classify(&look[..have + take]) {
            Start::Maybe if have + take < LOOK => {
                dir.buf.extend_from_slice(&data[p..p + take]);
                Some(p + take)
            }
            Start::Response => {
                // No body: the carried bytes (if any) begin the next head, which the head parser
                // continues from `buf`.
                if let Some(msg) = dir.msg.take() {
                    dir.mode = Mode::Head;
                    self.emit(d, cfg, stats, from, *msg, h);
                }
                Some(p)
            }
            _ => {
                if let Some(m) = dir.msg.as_mut() {
                    m.peek = false;
                }
                let carried = std::mem::take(&mut dir.buf);
                if !carried.is_empty() {
                    // The bytes held back are the body's first: feed them first, then the segment.
                    self.on_data(cfg, stats, from, &carried, ts, h);
                    return Some(p);
                }
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn body<H: HttpHandler>(
        &mut self,
        d: usize,
        cfg: &Config,
        stats: &mut Stats,
        from: Side,
        data: &[u8],
        mut p: usize,
        ts: Timestamp,
        h: &mut H,
    ) -> usize {
        if p < data.len() && self.dirs[d].msg.as_ref().is_some_and(|m| m.peek) {
            if let Some(q) = self.peek_body(d, cfg, stats, from, data, p, ts, h) {
                return q;
            }
        }
        let cap = cfg.max_body_bytes;
        let dir = &mut self.dirs[d];
        let Some(msg) = dir.msg.as_mut() else {
            dir.mode = Mode::Head;
            return p;
        };
        loop {
            if p >= data.len() {
                return p;
            }
            match msg.framing {
                Framing::None => break,
                Framing::Length(rem) => {
                    let n = (rem.min((data.len() - p) as u64)) as usize;
                    msg.acc.push(&data[p..p + n], cap);
                    p += n;
                    if rem - n as u64 == 0 {
                        break;
                    }
                    msg.framing = Framing::Length(rem - n as u64);
                }
                Framing::UntilClose => {
                    msg.acc.push(&data[p..], cap);
                    return data.len();
                }
                Framing::Chunked(Chunk::Data(rem)) => {
                    let n = (rem.min((data.len() - p) as u64)) as usize;
                    msg.acc.push(&data[p..p + n], cap);
                    p += n;
                    msg.framing = Framing::Chunked(if rem - n as u64 == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(rem - n as u64)
                    });
                }
                Framing::Chunked(Chunk::DataEnd) => {
                    // CRLF after the chunk data (a bare LF is tolerated).
                    match data[p] {
                        b'\r' => p += 1,
                        b'\n' => {
                            p += 1;
                            msg.framing = Framing::Chunked(Chunk::Size);
                        }
                        _ => {
                            self.resync(d, stats);
                            return p;
                        }
                    }
                }
                Framing::Chunked(state @ (Chunk::Size | Chunk::Trailer)) => {
                    let rest = &data[p..];
                    let (line_end, complete) = match memchr::memchr(b'\n', rest) {
                        Some(i) => (i + 1, true),
                        None => (rest.len(), false),
                    };
                    if dir.buf.len() + line_end > MAX_LINE {
                        self.resync(d, stats);
                        return data.len();
                    }
                    dir.buf.extend_from_slice(&rest[..line_end]);
                    p += line_end;
                    if !complete {
                        return p;
                    }
                    let line = std::mem::take(&mut dir.buf);
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim();
                    if state == Chunk::Trailer {
                        if text.is_empty() {
                            break;
                        }
                        // Trailer fields are kept with the headers (a token can hide there too).
                        if let Some((n, v)) = text.split_once(':') {
                            if msg.headers.0.len() < MAX_HEADERS {
                                msg.cost += n.trim().len() + v.trim().len() + 2 * ALLOC;
                                msg.headers.0.push((n.trim().to_string(), v.trim().as_bytes().to_vec()));
                            }
                        }
                        continue;
                    }
                    let hex = text.split(';').next().unwrap_or("").trim();
                    match u64::from_str_radix(hex, 16) {
                        Ok(0) => msg.framing = Framing::Chunked(Chunk::Trailer),
                        Ok(n) => msg.framing = Framing::Chunked(Chunk::Data(n)),
                        Err(_) => {
                            self.resync(d, stats);
                            return p;
                        }
                    }
                }
            }
        }
        // The message is complete.
        let dir = &mut self.dirs[d];
        if let Some(msg) = dir.msg.take() {
            dir.mode = Mode::Head;
            self.emit(d, cfg, stats, from, *msg, h);
        }
        p
    }

    fn emit<H: HttpHandler>(&mut self, d: usize, cfg: &Config, stats: &mut Stats, from: Side, msg: Msg, h: &mut H) {
        let truncated_before = msg.acc.truncated;
        let (body, decode_error) = msg.acc.finish(msg.encoding, cfg);
        if decode_error {
            stats.decompression_errors += 1;
        }
        if body.truncated || truncated_before {
            stats.bodies_truncated += 1;
        }
        match msg.kind {
            Kind::Request { method, target, version, seq } => {
                stats.requests += 1;
                let req = Request { method, target, version, headers: msg.headers, body, ts: msg.ts, seq };
                h.on_request(from, &req);
            }
            Kind::Response { status, reason, version, req } => {
                stats.responses += 1;
                let resp = Response { status, reason, version, headers: msg.headers, body, ts: msg.ts };
                h.on_response(from, &resp, req.as_ref());
            }
        }
        if msg.tunnel {
            // 101 Switching Protocols or CONNECT 2xx: the bytes that follow are another protocol.
            // Inside a CONNECT tunnel the client usually starts TLS: look at it afresh.
            for x in &mut self.dirs {
                *x = Dir { mode: Mode::Unknown, boundary: true, ..Dir::default() };
            }
            let _ = d;
        }
    }

    pub fn on_gap<H: HttpHandler>(
        &mut self,
        cfg: &Config,
        stats: &mut Stats,
        from: Side,
        len: u64,
        _ts: Timestamp,
        h: &mut H,
    ) {
        let d = from.index();
        let dir = &mut self.dirs[d];
        match dir.mode {
            Mode::Other | Mode::Tls => {}
            Mode::Unknown | Mode::Resync => {
                dir.buf.clear();
                dir.boundary = true;
            }
            Mode::Head => {
                if !dir.buf.is_empty() || dir.head_ts.is_some() {
                    stats.resyncs += 1;
                }
                dir.buf.clear();
                dir.head_ts = None;
                dir.mode = Mode::Resync;
                dir.boundary = true;
            }
            Mode::Body => {
                let Some(msg) = dir.msg.as_mut() else { return };
                msg.acc.incomplete = true;
                match msg.framing {
                    Framing::Length(rem) if len < rem => {
                        msg.acc.wire_len += len;
                        msg.framing = Framing::Length(rem - len);
                        return;
                    }
                    Framing::UntilClose => return,
                    _ => {}
                }
                // The gap swallowed the end of the message: emit what we have, then resync.
                if let Some(msg) = dir.msg.take() {
                    dir.mode = Mode::Resync;
                    dir.boundary = true;
                    dir.buf.clear();
                    stats.resyncs += 1;
                    self.emit(d, cfg, stats, from, *msg, h);
                }
            }
        }
    }

    /// The connection ended: finish read-until-close bodies, emit cut-off messages as incomplete.
    pub fn on_close<H: HttpHandler>(&mut self, cfg: &Config, stats: &mut Stats, _ts: Timestamp, h: &mut H) {
        for (d, side) in [(0, Side::Client), (1, Side::Server)] {
            if let Some(mut msg) = self.dirs[d].msg.take() {
                if msg.framing != Framing::UntilClose {
                    msg.acc.incomplete = true;
                }
                self.emit(d, cfg, stats, side, *msg, h);
            }
        }
    }
}

fn content_length(h: &Headers) -> Result<Option<u64>, ()> {
    let mut found: Option<u64> = None;
    for v in h.get_all("content-length") {
        let s = std::str::from_utf8(v).map_err(|_| ())?.trim();
        // "5, 5" (a proxy merged duplicates) is one length; different lengths are a smuggling attempt.
        for part in s.split(',') {
            let n: u64 = part.trim().parse().map_err(|_| ())?;
            if found.is_some_and(|f| f != n) {
                return Err(());
            }
            found = Some(n);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Responses with the `X-For` header naming the request they answer, and what they were paired with.
    #[derive(Default)]
    struct Pairs {
        requests: usize,
        responses: Vec<(String, Option<String>, Vec<u8>)>,
    }

    impl HttpHandler for Pairs {
        fn on_request(&mut self, _from: Side, _req: &Request) {
            self.requests += 1;
        }
        fn on_response(&mut self, _from: Side, resp: &Response, req: Option<&RequestLine>) {
            let answers = String::from_utf8_lossy(resp.headers.get("x-for").unwrap_or_default()).into_owned();
            self.responses.push((answers, req.map(|r| r.target.clone()), resp.body.data.clone()));
        }
    }

    /// `n` pipelined requests (those in `heads` are HEAD), then their answers: a HEAD's announces a
    /// body it does not send.
    fn pipeline(n: usize, heads: &[usize]) -> (Vec<u8>, Vec<u8>) {
        let (mut reqs, mut resps) = (Vec::new(), Vec::new());
        for i in 1..=n {
            let head = heads.contains(&i);
            let method = if head { "HEAD" } else { "GET" };
            reqs.extend_from_slice(format!("{method} /r{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
            let body = if head { String::new() } else { format!("body {i}") };
            let len = if head { 5000 } else { body.len() };
            resps.extend_from_slice(
                format!("HTTP/1.1 200 OK\r\nX-For: /r{i}\r\nContent-Length: {len}\r\n\r\n{body}").as_bytes(),
            );
        }
        (reqs, resps)
    }

    fn run(reqs: &[u8], resps: &[u8], piece: usize) -> (Pairs, Stats) {
        let cfg = Config::default();
        let mut c = HttpConnection::default();
        let mut st = Stats::default();
        let mut h = Pairs::default();
        for p in reqs.chunks(piece) {
            c.on_data(&cfg, &mut st, Side::Client, p, Timestamp(1), &mut h);
        }
        for p in resps.chunks(piece) {
            c.on_data(&cfg, &mut st, Side::Server, p, Timestamp(2), &mut h);
        }
        c.on_close(&cfg, &mut st, Timestamp(3), &mut h);
        (h, st)
    }

    #[test]
    fn past_the_pending_cap_responses_are_unpaired_never_paired_with_another_request() {
        let (reqs, resps) = pipeline(70, &[65, 66, 67, 68, 69]);
        // Whole segments, and one byte at a time (a status line split anywhere).
        for piece in [1460, 1] {
            let (h, st) = run(&reqs, &resps, piece);
            assert_eq!(h.requests, 70);
            assert_eq!(st.pipeline_overflow, 1);
            assert_eq!(h.responses.len(), 70, "piece {piece}: responses lost");
            for (answers, paired, _) in &h.responses {
                assert!(
                    paired.is_none() || paired.as_deref() == Some(answers.as_str()),
                    "{answers} paired with {paired:?}"
                );
            }
            assert_eq!(h.responses.iter().filter(|r| r.1.is_some()).count(), 64);
            // The GET answers past the HEADs kept their bodies.
            assert_eq!(h.responses[69].2, b"body 70");
        }
    }

    #[test]
    fn a_response_to_an_unknown_request_keeps_its_body_when_no_status_line_follows() {
        // Picked up mid-stream: no request seen. A body starting like a status line would be taken for
        // one; anything else is the body.
        let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n";
        for piece in [1460, 1] {
            let (h, _) = run(b"", resps, piece);
            assert_eq!(h.responses.len(), 2, "piece {piece}");
            assert_eq!(h.responses[0].2, b"ok");
        }
    }

    #[test]
    fn shedding_drops_the_partial_head_and_the_parser_resynchronises() {
        let cfg = Config::default();
        let mut c = HttpConnection::default();
        let mut st = Stats::default();
        let mut h = Pairs::default();
        let mut partial = b"GET /big HTTP/1.1\r\nX-Pad: ".to_vec();
        partial.resize(30_000, b'a');
        for p in partial.chunks(1460) {
            c.on_data(&cfg, &mut st, Side::Client, p, Timestamp(1), &mut h);
        }
        assert!(c.held() >= 30_000);
        c.shed(&mut st);
        assert_eq!(c.held(), 0);
        assert_eq!(st.memcap_heads_dropped, 1);
        // The rest of the dropped head is skipped; the next request is parsed.
        c.on_data(&cfg, &mut st, Side::Client, b"aaaa\r\n\r\nGET /next HTTP/1.1\r\n\r\n", Timestamp(2), &mut h);
        assert_eq!(h.requests, 1);
    }

    #[test]
    fn a_large_head_buffer_is_freed_once_its_head_is_parsed() {
        let cfg = Config::default();
        let mut c = HttpConnection::default();
        let mut st = Stats::default();
        let mut h = Pairs::default();
        let mut req = b"GET /big HTTP/1.1\r\nX-Pad: ".to_vec();
        req.resize(30_000, b'a');
        req.extend_from_slice(b"\r\n\r\n");
        for p in req.chunks(1460) {
            c.on_data(&cfg, &mut st, Side::Client, p, Timestamp(1), &mut h);
        }
        assert_eq!(h.requests, 1);
        // Only the pending request line remains.
        assert!(c.held() < 256, "{}", c.held());
    }
}
