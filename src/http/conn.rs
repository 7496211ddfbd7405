//! One HTTP connection: a parser per direction (which mode it is in, where messages start, gaps and
//! resync), handing lines to the head reader ([`super::head`]), body bytes to the framing
//! ([`super::framing`]) and the body ([`super::body`]), and requests to pairing ([`super::pairing`]).

use super::body::BodyCx;
use super::framing::{self, Chunk, Dechunked, Framing, Reject};
use super::h2;
use super::head::{self, HeadReader, Next};
use super::msg::Msg;
use super::pairing::Pending;
use super::start::{Start, classify, find_line_start};
use super::tls;
use super::ws::{self, WsConn};
use super::{HttpHandler, Protocol, Request, Response, Shared, Stats};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// Bytes looked at without finding a message start before a stream is declared not HTTP.
const SCAN_BUDGET: usize = 64 * 1024;
/// Bytes kept between segments while deciding whether a message starts there.
const CARRY: usize = 64;
/// A reused line buffer larger than this is freed once its line is read: a connection that once sent
/// a 60 KiB header line does not keep 60 KiB for the rest of its life.
const KEEP_BUF: usize = 4096;

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
    /// Not HTTP (or no longer: a tunnel): ignored at no cost.
    Other,
    /// HTTP/2 frames, read by the connection's [`h2::Conn`].
    H2,
    /// WebSocket frames, read by the connection's [`WsConn`].
    Ws,
}

#[derive(Default)]
struct Dir {
    mode: Mode,
    /// Bytes carried between segments: a line split across them (start or header line, chunk size),
    /// bytes that may begin a message, a ClientHello.
    buf: Vec<u8>,
    /// The message being read: head fields so far (`Head`, once its start line is read), or the whole
    /// head while its body arrives (`Body`).
    msg: Option<Box<Msg>>,
    scanned: usize,
    /// The next byte is at a place where a message may start (stream start, after a gap, after `\n`).
    boundary: bool,
    /// The rest of an overlong head line is being dropped.
    skip_line: bool,
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
            // A server's HTTP/2 stream starts with SETTINGS; mid-stream, such bytes mean nothing.
            Start::H2 | Start::H2Server if start == Start::H2 || stream_start => {
                self.mode = Mode::H2;
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
    pending: Pending,
    saw_http: bool,
    tls: bool,
    started: bool,
    /// The connection speaks HTTP/2 (prior knowledge or after `Upgrade: h2c`).
    h2: Option<Box<h2::Conn>>,
    /// The flow was picked up mid-stream (no handshake seen): an HTTP/2 connection found in it cannot
    /// be decoded (its header tables were missed).
    midstream: bool,
    /// After a 101 that answered an `Upgrade: websocket` request (boxed: most connections never are).
    ws: Option<Box<WsConn>>,
    /// The latest request asked for `Upgrade: websocket` (a 101 answers the request just before the
    /// switch: nothing can follow it on the connection).
    ws_asked: bool,
}

impl HttpConnection {
    /// Heap bytes this connection holds: partial lines and other carried bytes, heads being read or
    /// whose body is arriving, kept bodies and their decoders and scanners, the requests awaiting a
    /// response. Asked per segment: a few loads per direction.
    #[inline]
    pub fn held(&self) -> usize {
        let mut n =
            self.pending.held() + self.h2.as_ref().map_or(0, |c| c.held()) + self.ws.as_ref().map_or(0, |w| w.held());
        for d in &self.dirs {
            n += d.buf.capacity();
            if let Some(m) = &d.msg {
                n += m.heap_bytes();
            }
        }
        n
    }

    /// How many of the next bytes from `from` the parser will skip unread: the rest of a body it does
    /// not read (a media response, or past the kept prefix of a body no scanner reads) whose length is
    /// known, or everything of a stream it no longer parses (TLS, a tunnel, not HTTP). Their content
    /// cannot change what it reports nor where the next message starts.
    #[inline]
    pub fn skippable(&self, from: Side) -> u64 {
        let dir = &self.dirs[from.index()];
        match dir.mode {
            Mode::Other => u64::MAX,
            Mode::Ws => self.ws.as_ref().map_or(u64::MAX, |w| w.skippable(from)),
            Mode::Body => match dir.msg.as_deref() {
                Some(m) if !m.peek && m.body.skipped() => match m.framing {
                    Framing::Length(rem) | Framing::Chunked(Chunk::Data(rem)) => rem,
                    Framing::UntilClose => u64::MAX,
                    _ => 0,
                },
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Memory is short and this connection holds the most: drop partial heads (the parser
    /// resynchronises on the next message), kept bodies with their decoders and scanners (the message
    /// is still reported, its body cut) and the requests awaiting responses (later responses are not
    /// paired).
    pub fn shed(&mut self, sh: &mut Shared) {
        let stats = &mut sh.stats;
        for dir in &mut self.dirs {
            match dir.mode {
                Mode::Head if !dir.buf.is_empty() || dir.msg.is_some() || dir.skip_line => {
                    stats.memcap_heads_dropped += 1;
                    dir.mode = Mode::Resync;
                    dir.msg = None;
                    dir.head_ts = None;
                    dir.boundary = false;
                    dir.skip_line = false;
                }
                Mode::Tls => {
                    // The ClientHello being collected: the connection stays TLS-unknown, ignored.
                    stats.memcap_heads_dropped += 1;
                    dir.mode = Mode::Other;
                }
                Mode::Body if dir.msg.as_mut().is_some_and(|m| m.body.shed()) => {
                    stats.memcap_bodies_dropped += 1;
                }
                _ => {}
            }
            if dir.buf.is_empty() || matches!(dir.mode, Mode::Resync | Mode::Other) {
                dir.buf = Vec::new();
            }
        }
        self.pending.shed(stats);
        if let Some(c) = self.h2.as_mut() {
            c.shed(stats);
        }
        if let Some(w) = self.ws.as_mut() {
            w.shed(&mut stats.ws);
        }
    }

    /// The flow was picked up mid-stream (its handshake was not seen).
    pub fn set_midstream(&mut self) {
        self.midstream = true;
    }

    /// A request or status line (or a TLS record) has been recognised in either direction, even if its
    /// head is not complete yet: the connection is HTTP (or TLS) from here on.
    pub fn recognised(&self) -> bool {
        self.saw_http
            || self.tls
            || self.h2.is_some()
            || self.dirs.iter().any(|d| matches!(d.mode, Mode::Head | Mode::Body | Mode::Tls | Mode::H2))
    }

    pub fn protocol(&self) -> Protocol {
        if self.tls {
            Protocol::Tls { sni: None }
        } else if self.saw_http || self.h2.is_some() {
            Protocol::Http
        } else if self.dirs.iter().all(|d| d.mode == Mode::Other) {
            Protocol::Other
        } else {
            Protocol::Unknown
        }
    }

    pub fn on_data<H: HttpHandler>(&mut self, sh: &mut Shared, from: Side, data: &[u8], ts: Timestamp, h: &mut H) {
        if !self.started {
            self.started = true;
            for d in &mut self.dirs {
                d.boundary = true;
            }
        }
        let d = from.index();
        let mut p = 0;
        let dir = &self.dirs[d];
        if self.h2.is_some() && dir.mode == Mode::Unknown && dir.scanned == 0 && dir.buf.is_empty() {
            // The other side of an HTTP/2 connection, at its start: frames too.
            self.dirs[d].mode = Mode::H2;
        }
        while p < data.len() {
            p = match self.dirs[d].mode {
                Mode::Other => return,
                Mode::H2 => return self.h2_data(d, sh, from, data, p, ts, h),
                Mode::Ws => {
                    if let Some(w) = self.ws.as_mut() {
                        w.on_data(&sh.cfg, &mut sh.stats.ws, from, &data[p..], ts, &mut |s, m| h.on_ws_message(s, m));
                    }
                    return;
                }
                Mode::Unknown | Mode::Resync => self.scan(d, data, p, &mut sh.stats),
                Mode::Tls => self.tls_hello(d, data, p, &mut sh.stats, h),
                Mode::Head => self.head(d, sh, from, data, p, ts, h),
                Mode::Body => self.body(d, sh, from, data, p, ts, h),
            };
        }
    }

    /// Bytes of an HTTP/2 direction from `p` (with any carried ones before them).
    #[allow(clippy::too_many_arguments)]
    fn h2_data<H: HttpHandler>(
        &mut self,
        d: usize,
        sh: &mut Shared,
        from: Side,
        data: &[u8],
        p: usize,
        ts: Timestamp,
        h: &mut H,
    ) {
        let carried = std::mem::take(&mut self.dirs[d].buf);
        if self.h2.is_none() {
            // Recognised here: by the client's preface, or by a server's SETTINGS at its start.
            let first = carried.first().or(data.get(p)).copied();
            let preface = first == Some(h2::frame::PREFACE[0]);
            let client = if preface { d } else { 1 - d };
            // The client's preface is still to come in both cases (it starts `data`, or the client has
            // not spoken yet).
            let mut c = h2::Conn::new(client, true, self.pending.requests(), &mut sh.stats);
            if self.midstream && !preface {
                // The server's first bytes without the connection's start: its table may be older.
                c.undecodable(d, &mut sh.stats);
            }
            let o = &mut self.dirs[1 - d];
            if o.mode == Mode::Unknown && o.scanned == 0 && o.buf.is_empty() {
                o.mode = Mode::H2;
            } else if o.mode != Mode::H2 {
                // The other side already said something that was not HTTP/2's start.
                c.undecodable(1 - d, &mut sh.stats);
            }
            self.h2 = Some(Box::new(c));
        }
        let Some(c) = self.h2.as_mut() else { return };
        if !carried.is_empty() {
            c.on_data(sh, from, &carried, ts, h);
        }
        c.on_data(sh, from, &data[p..], ts, h);
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
            if stream_start && self.midstream && start == Start::No && h2::frame::plausible(&data[p..]) {
                // HTTP/2 picked up mid-connection: counted, never decoded (its header tables were
                // missed).
                dir.mode = Mode::H2;
                // Which side is the client is the reassembler's guess (no handshake).
                let mut c = h2::Conn::new(0, false, self.pending.requests(), stats);
                c.undecodable(0, stats);
                c.undecodable(1, stats);
                self.h2 = Some(Box::new(c));
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
        let Some(sni) = tls::collect(&mut self.dirs[d].buf, &data[p..]) else { return data.len() };
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
        dir.skip_line = false;
        stats.parse_errors += 1;
    }

    /// Read head lines from `p`: the start line, then fields, until the empty line. Only a line split
    /// across segments is copied (into `buf`); a head within one segment is read in place.
    #[allow(clippy::too_many_arguments)]
    fn head<H: HttpHandler>(
        &mut self,
        d: usize,
        sh: &mut Shared,
        from: Side,
        data: &[u8],
        p: usize,
        ts: Timestamp,
        h: &mut H,
    ) -> usize {
        let dir = &mut self.dirs[d];
        let mut p = p;
        if dir.msg.is_none() && dir.buf.is_empty() {
            // Empty lines between messages are tolerated (clients send a CRLF after a POST body).
            while p < data.len() && matches!(data[p], b'\r' | b'\n') {
                p += 1;
            }
            if p == data.len() {
                return p;
            }
            match classify(&data[p..]) {
                // The HTTP/2 preface after an `Upgrade: h2c` request whose 101 was not seen.
                Start::H2 => {
                    dir.mode = Mode::H2;
                    return p;
                }
                // Its start, cut by the segment's end: decided with the next bytes.
                Start::Maybe if data.len() - p >= 3 && h2::frame::PREFACE.starts_with(&data[p..]) => {
                    dir.mode = Mode::Resync;
                    dir.boundary = true;
                    return p;
                }
                _ => {}
            }
            // Not a message start: garbage between messages (or a body longer than announced).
            if matches!(classify(&data[p..]), Start::No | Start::Tls | Start::H2Server) {
                sh.stats.resyncs += 1;
                dir.mode = Mode::Resync;
                dir.boundary = false;
                return p;
            }
        }
        if dir.head_ts.is_none() {
            dir.head_ts = Some(ts);
        }
        loop {
            let Shared { cfg, stats, spares } = &mut *sh;
            let dir = &mut self.dirs[d];
            if p >= data.len() {
                return p;
            }
            let rest = &data[p..];
            let nl = memchr::memchr(b'\n', rest);
            if dir.skip_line {
                let n = nl.map_or(rest.len(), |k| k + 1);
                dir.skip_line = nl.is_none();
                p += n;
                let next = match dir.msg.as_mut() {
                    Some(m) => m.head.skipped(n, cfg, stats),
                    None => Next::TooLarge,
                };
                if next == Next::TooLarge {
                    stats.heads_too_large += 1;
                    self.resync(d, stats);
                    return p;
                }
                continue;
            }
            let Some(k) = nl else {
                // A partial line: carried to the next segment, up to the cap on one line.
                if dir.buf.len() + rest.len() <= cfg.max_head_bytes {
                    dir.buf.extend_from_slice(rest);
                    return data.len();
                }
                let n = dir.buf.len() + rest.len();
                dir.buf = Vec::new();
                let next = match dir.msg.as_mut() {
                    Some(m) => m.head.skipped(n, cfg, stats),
                    // A start line that long is no message.
                    None => Next::TooLarge,
                };
                if next == Next::TooLarge {
                    stats.heads_too_large += 1;
                    self.resync(d, stats);
                } else {
                    dir.skip_line = true;
                }
                return data.len();
            };
            let end = p + k + 1;
            let Dir { buf, msg, head_ts, .. } = dir;
            let line: &[u8] = if buf.is_empty() {
                &data[p..end]
            } else {
                buf.extend_from_slice(&data[p..end]);
                buf
            };
            let next = match msg {
                Some(m) => {
                    let m = &mut **m;
                    m.head.line(line, &mut m.headers, cfg, stats)
                }
                None => {
                    let mut m = spares.msg();
                    if start_line(&mut m, line, head_ts.unwrap_or(ts)) {
                        *msg = Some(m);
                        Next::More
                    } else {
                        spares.put(m);
                        self.resync(d, stats);
                        return end;
                    }
                }
            };
            if buf.capacity() > KEEP_BUF {
                *buf = Vec::new();
            } else {
                buf.clear();
            }
            p = end;
            match next {
                Next::More => {}
                Next::End => {
                    self.head_done(d, sh, from, h);
                    return p;
                }
                Next::TooLarge => {
                    stats.heads_too_large += 1;
                    self.resync(d, stats);
                    return p;
                }
            }
        }
    }

    /// The head of the message in `dirs[d]` is complete: pair it, decide its framing, emit it or wait
    /// for its body.
    fn head_done<H: HttpHandler>(&mut self, d: usize, sh: &mut Shared, from: Side, h: &mut H) {
        let Shared { cfg, stats, spares } = &mut *sh;
        let dir = &mut self.dirs[d];
        dir.head_ts = None;
        let Some(mut msg) = dir.msg.take() else { return };
        let m = &mut *msg;
        m.headers.seal();
        if m.head.unfolded {
            stats.heads_unfolded += 1;
        }
        let mut keep = true;
        let decision = if m.request {
            m.seq = self.pending.next_seq();
            self.ws_asked = m.method == "GET" && m.headers.get_all("upgrade").any(ws::asks_websocket);
            if self.pending.admits(cfg, stats) {
                let mut line = spares.line();
                line.seq = m.seq;
                line.method.push_str(&m.method);
                line.target.push_str(&m.target);
                match (m.headers.get("host"), line.host.as_mut()) {
                    (Some(v), Some(host)) => head::push_text(host, v),
                    (Some(v), None) => line.host = Some(String::from_utf8_lossy(v).into_owned()),
                    (None, _) => line.host = None,
                }
                self.pending.push(line);
            }
            framing::decide(&m.headers, m.head.framing, true, false)
        } else {
            let status = m.status;
            m.req = self.pending.answer(status);
            let interim = (100..200).contains(&status) && status != 101;
            let method_is = |x: &str| m.req.as_ref().is_some_and(|r| r.method.eq_ignore_ascii_case(x));
            let connect_ok = method_is("CONNECT") && (200..300).contains(&status);
            let no_body = interim || status == 101 || status == 204 || status == 304 || method_is("HEAD") || connect_ok;
            m.tunnel = status == 101 || connect_ok;
            keep = (cfg.keep_response_body)(m.headers.get("content-type"));
            let dec = framing::decide(&m.headers, m.head.framing, false, no_body);
            // Whether a body follows depends on the request (HEAD): unknown here.
            m.peek = m.req.is_none() && dec.as_ref().is_ok_and(|x| x.framing != Framing::None);
            dec
        };
        let dec = match decision {
            Ok(dec) => dec,
            Err(why) => {
                if why == Reject::ConflictingLengths {
                    stats.length_conflicts += 1;
                }
                spares.put(msg);
                self.resync(d, stats);
                return;
            }
        };
        if dec.conflict {
            stats.framing_conflicts += 1;
        }
        m.framing = dec.framing;
        let hint = match dec.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        };
        m.body.reset(keep, &dec.codings, cfg.max_decompressed_bytes, cfg.max_body_bytes, hint);
        m.body.note = dec.note;
        m.head_cost = m.head_bytes();
        self.saw_http = true;
        let dir = &mut self.dirs[d];
        dir.boundary = false;
        if m.framing == Framing::None {
            dir.mode = Mode::Head;
            self.emit(d, sh, from, msg, h);
        } else {
            dir.mode = Mode::Body;
            dir.msg = Some(msg);
        }
    }

    /// A response to an unknown request announced a body: if the next bytes are a status line, it had
    /// none (the answer to a HEAD), and must not eat the next response. Returns `Some(p)` when the
    /// message is settled without a body or more bytes are needed, `None` when its body starts here.
    #[allow(clippy::too_many_arguments)]
    fn peek_body<H: HttpHandler>(
        &mut self,
        d: usize,
        sh: &mut Shared,
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
                    self.emit(d, sh, from, msg, h);
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
                    self.on_data(sh, from, &carried, ts, h);
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
        sh: &mut Shared,
        from: Side,
        data: &[u8],
        mut p: usize,
        ts: Timestamp,
        h: &mut H,
    ) -> usize {
        if p < data.len() && self.dirs[d].msg.as_ref().is_some_and(|m| m.peek) {
            if let Some(q) = self.peek_body(d, sh, from, data, p, ts, h) {
                return q;
            }
        }
        let Shared { cfg, stats, .. } = &mut *sh;
        let Dir { buf, msg, mode, .. } = &mut self.dirs[d];
        let Some(m) = msg.as_deref_mut() else {
            *mode = Mode::Head;
            return p;
        };
        let want = if m.request { cfg.body_field } else { cfg.response_field };
        loop {
            if p >= data.len() {
                return p;
            }
            let cx = BodyCx { cap: cfg.max_body_bytes, want, headers: &m.headers };
            match m.framing {
                Framing::None => break,
                Framing::Length(rem) => {
                    let n = (rem.min((data.len() - p) as u64)) as usize;
                    m.body.push(&data[p..p + n], &cx, stats);
                    p += n;
                    if rem == n as u64 {
                        break;
                    }
                    m.framing = Framing::Length(rem - n as u64);
                }
                Framing::UntilClose => {
                    m.body.push(&data[p..], &cx, stats);
                    return data.len();
                }
                Framing::Chunked(mut state) => {
                    let mut trailers: Vec<(String, Vec<u8>)> = Vec::new();
                    let body = &mut m.body;
                    let res = framing::dechunk(
                        &mut state,
                        buf,
                        &mut |n, v| trailers.push((n.to_string(), v.to_vec())),
                        &data[p..],
                        &mut |b| body.push(b, &cx, stats),
                    );
                    m.framing = Framing::Chunked(state);
                    // Trailer fields are kept with the headers (a token can hide there too), within
                    // the head's bound.
                    for (n, v) in &trailers {
                        if m.headers.bytes() + n.len() + v.len() <= cfg.max_head_bytes.saturating_mul(2) {
                            m.headers.push(n, v);
                            m.head_cost = m.head_bytes();
                        } else {
                            stats.head_bytes_dropped += (n.len() + v.len()) as u64;
                        }
                    }
                    match res {
                        Dechunked::More(n) => p += n,
                        Dechunked::Done(n) => {
                            p += n;
                            break;
                        }
                        Dechunked::Error(n) => {
                            self.resync(d, stats);
                            return p + n;
                        }
                    }
                }
            }
        }
        // The message is complete.
        let dir = &mut self.dirs[d];
        if let Some(msg) = dir.msg.take() {
            dir.mode = Mode::Head;
            self.emit(d, sh, from, msg, h);
        }
        p
    }

    /// Hand a complete message to the handler, then its storage to the spares.
    fn emit<H: HttpHandler>(&mut self, d: usize, sh: &mut Shared, from: Side, mut msg: Box<Msg>, h: &mut H) {
        let Shared { cfg, stats, spares } = &mut *sh;
        let body = msg.body.finish(stats);
        let m = &mut *msg;
        let data = if m.request {
            stats.requests += 1;
            let req = Request {
                method: std::mem::take(&mut m.method),
                target: std::mem::take(&mut m.target),
                version: m.version,
                headers: std::mem::take(&mut m.headers),
                body,
                ts: m.ts,
                seq: m.seq,
            };
            h.on_request(from, &req);
            (m.method, m.target, m.headers) = (req.method, req.target, req.headers);
            req.body.data
        } else {
            stats.responses += 1;
            let resp = Response {
                status: m.status,
                reason: std::mem::take(&mut m.reason),
                version: m.version,
                headers: std::mem::take(&mut m.headers),
                body,
                ts: m.ts,
            };
            h.on_response(from, &resp, m.req.as_ref());
            (m.reason, m.headers) = (resp.reason, resp.headers);
            resp.body.data
        };
        m.body.give_back(data, cfg.max_body_bytes);
        let tunnel = m.tunnel;
        // `Upgrade: h2c` answered by 101: both sides speak HTTP/2 from the next byte.
        let h2c = tunnel && !m.request && m.status == 101 && h2::upgrade_to_h2c(m.headers.get("upgrade"));
        // A 101 answering a request for `Upgrade: websocket` (or, that request unseen, announcing it).
        let websocket = !h2c && tunnel && m.status == 101 && !m.request && {
            match m.req.as_ref() {
                Some(_) => self.ws_asked,
                None => m.headers.get_all("upgrade").any(ws::asks_websocket),
            }
        };
        if websocket {
            let deflate = ws::negotiated(m.headers.get_all("sec-websocket-extensions"));
            let (target, host) = m.req.as_ref().map_or(("", None), |r| (r.target.as_str(), r.host.as_deref()));
            self.ws = Some(Box::new(WsConn::new(target, host, deflate)));
            stats.ws.connections += 1;
        }
        let upgraded = m.req.take();
        spares.put(msg);
        if h2c {
            let client = 1 - d;
            let c = h2::Conn::upgraded(client, upgraded, self.pending.requests(), stats);
            self.h2 = Some(Box::new(c));
            for x in &mut self.dirs {
                *x = Dir { mode: Mode::H2, ..Dir::default() };
            }
            return;
        }
        if websocket {
            for x in &mut self.dirs {
                *x = Dir { mode: Mode::Ws, ..Dir::default() };
            }
        } else if tunnel {
            // 101 Switching Protocols or CONNECT 2xx: the bytes that follow are another protocol.
            // Inside a CONNECT tunnel the client usually starts TLS: look at it afresh.
            for x in &mut self.dirs {
                *x = Dir { mode: Mode::Unknown, boundary: true, ..Dir::default() };
            }
            let _ = d;
        }
    }

    pub fn on_gap<H: HttpHandler>(&mut self, sh: &mut Shared, from: Side, len: u64, _ts: Timestamp, h: &mut H) {
        let d = from.index();
        let dir = &mut self.dirs[d];
        let stats = &mut sh.stats;
        match dir.mode {
            Mode::Other | Mode::Tls => {}
            Mode::H2 => {
                if let Some(c) = self.h2.as_mut() {
                    c.on_gap(from, len, stats);
                }
            }
            Mode::Ws => {
                if let Some(w) = self.ws.as_mut() {
                    w.on_gap(&mut sh.stats.ws, from, &mut |s, m| h.on_ws_message(s, m));
                }
            }
            Mode::Unknown | Mode::Resync => {
                dir.buf.clear();
                dir.boundary = true;
            }
            Mode::Head => {
                if !dir.buf.is_empty() || dir.head_ts.is_some() || dir.msg.is_some() || dir.skip_line {
                    stats.resyncs += 1;
                }
                dir.buf.clear();
                if let Some(m) = dir.msg.take() {
                    sh.spares.put(m);
                }
                dir.head_ts = None;
                dir.skip_line = false;
                dir.mode = Mode::Resync;
                dir.boundary = true;
            }
            Mode::Body => {
                let Some(msg) = dir.msg.as_mut() else { return };
                msg.body.incomplete = true;
                match msg.framing {
                    Framing::Length(rem) if len < rem => {
                        msg.body.wire_len += len;
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
                    self.emit(d, sh, from, msg, h);
                }
            }
        }
    }

    /// The connection ended: finish read-until-close bodies, emit cut-off messages as incomplete.
    pub fn on_close<H: HttpHandler>(&mut self, sh: &mut Shared, _ts: Timestamp, h: &mut H) {
        if let Some(c) = self.h2.as_mut() {
            c.on_close(sh, h);
        }
        if let Some(w) = self.ws.as_mut() {
            w.on_close(&mut sh.stats.ws, &mut |s, m| h.on_ws_message(s, m));
        }
        for (d, side) in [(0, Side::Client), (1, Side::Server)] {
            let dir = &mut self.dirs[d];
            // A head still being read is not a message.
            if dir.mode != Mode::Body {
                continue;
            }
            if let Some(mut msg) = dir.msg.take() {
                if msg.framing != Framing::UntilClose {
                    msg.body.incomplete = true;
                }
                self.emit(d, sh, side, msg, h);
            }
        }
    }
}

/// Fill `m` from its start line; false when `line` is not one.
fn start_line(m: &mut Msg, line: &[u8], ts: Timestamp) -> bool {
    match classify(line) {
        Start::Request => {
            let Some((method, target, version)) = head::request_line(line) else { return false };
            m.request = true;
            match super::start::known_method(method) {
                Some(k) => m.method.push_str(k),
                None => head::push_text(&mut m.method, method),
            }
            head::push_text(&mut m.target, target);
            m.version = version;
        }
        Start::Response => {
            let Some((status, reason, version)) = head::status_line(line) else { return false };
            m.request = false;
            m.status = status;
            head::push_text(&mut m.reason, reason);
            m.version = version;
        }
        _ => return false,
    }
    m.ts = ts;
    m.head = HeadReader::after_start_line(line.len());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{RequestLine, Stats};

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
        let mut sh = Shared::default();
        let mut c = HttpConnection::default();
        let mut h = Pairs::default();
        for p in reqs.chunks(piece) {
            c.on_data(&mut sh, Side::Client, p, Timestamp(1), &mut h);
        }
        for p in resps.chunks(piece) {
            c.on_data(&mut sh, Side::Server, p, Timestamp(2), &mut h);
        }
        c.on_close(&mut sh, Timestamp(3), &mut h);
        (h, sh.stats)
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
        let mut sh = Shared::default();
        let mut c = HttpConnection::default();
        let mut h = Pairs::default();
        let mut partial = b"GET /big HTTP/1.1\r\nX-Pad: ".to_vec();
        partial.resize(30_000, b'a');
        for p in partial.chunks(1460) {
            c.on_data(&mut sh, Side::Client, p, Timestamp(1), &mut h);
        }
        assert!(c.held() >= 30_000);
        c.shed(&mut sh);
        assert_eq!(c.held(), 0);
        assert_eq!(sh.stats.memcap_heads_dropped, 1);
        // The rest of the dropped head is skipped; the next request is parsed.
        c.on_data(&mut sh, Side::Client, b"aaaa\r\n\r\nGET /next HTTP/1.1\r\n\r\n", Timestamp(2), &mut h);
        assert_eq!(h.requests, 1);
    }

    #[test]
    fn a_large_head_buffer_is_freed_once_its_head_is_parsed() {
        let mut sh = Shared::default();
        let mut c = HttpConnection::default();
        let mut h = Pairs::default();
        let mut req = b"GET /big HTTP/1.1\r\nX-Pad: ".to_vec();
        req.resize(30_000, b'a');
        req.extend_from_slice(b"\r\n\r\n");
        for p in req.chunks(1460) {
            c.on_data(&mut sh, Side::Client, p, Timestamp(1), &mut h);
        }
        assert_eq!(h.requests, 1);
        // Only the pending request line remains.
        assert!(c.held() < 256, "{}", c.held());
    }
}
