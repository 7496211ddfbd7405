//! Memory floods: traffic that makes a sniffer hold memory, each with a victim whose credential must
//! still be found (issue 10, section 4).
//!
//! - `ooo-flood FLOWS [SEGS] [BYTES]`: FLOWS connections each sending SEGS segments of BYTES bytes (one
//!   by default), every one after a one-byte hole that never fills (and no ACK that would release it),
//!   round-robin; half-way through, the victim sends a Bearer request in two segments, the second
//!   first, a whole round of the flood between them.
//! - `head-flood FLOWS`: FLOWS connections each sending ~60 KiB of an HTTP head that never ends (in
//!   1460-byte segments, round-robin); half-way through, the victim sends its Bearer request split in
//!   two segments (its head is partial for a whole round of the flood).
//! - `flow-flood N`: N connections of one data segment each (no handshake: picked up mid-stream);
//!   half-way through, the victim connection, its two segments swapped with 1,000 flood flows between.
//! - `benign FLOWS SEGS [BYTES]`: not an attack, the reference for fixed overhead: FLOWS downloads side
//!   by side, each an image of SEGS in-order segments of BYTES (1460 by default; nothing buffered,
//!   nothing kept). Small segments fill the reader's chunks with as many frames as a flood does.
//! - `secret-flood N`: N distinct Bearer tokens of ~1 KiB, each on its own request with a ~400-byte
//!   path (an alert and its excerpt of some 3 KiB each), on 64 keep-alive connections; half-way
//!   through, the victim. Every one is a new leak: what a sniffer remembers of its leaks must be
//!   bounded, and the victim still reported.
//! - `head-pipeline`: one connection with 70 pipelined requests (past the 64 pending requests HTTP
//!   pairs), five of them HEAD (answered with a Content-Length and no body), a Bearer token in request
//!   68 and a session cookie set by responses 10 and 70 (see [`PIPELINE_REQUESTS`]).
//!
//! Builders write to any `Write` so tests build small captures in their tempdir and the generator big
//! ones for the README's measurements, frame by frame (a flood of 34 M segments never sits in memory).

use std::io::{self, Write};
use std::net::SocketAddr;

use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{ACK, FIN, PSH, SYN, jwt, tcp_frame};

/// The flood's server (every flood connection goes to it).
const FLOOD_SERVER: &str = "10.9.0.1:80";
/// The victim connection.
pub const VICTIM_CLIENT: &str = "10.200.0.1:5555";
pub const VICTIM_SERVER: &str = "10.200.0.2:80";
/// Bytes of each flood head (`head-flood`): just under the 64 KiB head cap, so it is never refused.
pub const HEAD_FLOOD_BYTES: usize = 60 * 1024;
/// Requests in `head-pipeline`.
pub const PIPELINE_REQUESTS: usize = 70;
/// The HEAD requests of `head-pipeline` (1-based): past the pending cap of 64.
pub const PIPELINE_HEADS: std::ops::RangeInclusive<usize> = 65..=69;
/// The request of `head-pipeline` carrying the Bearer token.
pub const PIPELINE_BEARER: usize = 68;
/// The responses of `head-pipeline` setting a session cookie: one within the pending cap, one past it.
pub const PIPELINE_COOKIES: [usize; 2] = [10, 70];

type Builder = fn(&str, &[u64]) -> io::Result<()>;

/// The modes of this module, for `gen_hostile`'s list.
pub fn modes() -> Vec<(&'static str, &'static str, Builder)> {
    vec![
        ("ooo-flood", "FLOWS [SEGS=4000] [BYTES=1]: out-of-order segments after holes, plus a victim", |out, a| {
            to_file(out, |w| ooo_flood(w, arg(a, 0, 300), arg(a, 1, 4000), arg(a, 2, 1) as usize))
        }),
        ("head-flood", "FLOWS: open flows with ~60 KiB partial HTTP heads, plus a victim", |out, a| {
            to_file(out, |w| head_flood(w, arg(a, 0, 2000)))
        }),
        ("flow-flood", "N: one-segment flows, plus a victim", |out, a| {
            to_file(out, |w| flow_flood(w, arg(a, 0, 1_000_000)))
        }),
        ("benign", "FLOWS SEGS [BYTES=1460]: in-order downloads (the reference for fixed overhead)", |out, a| {
            to_file(out, |w| benign(w, arg(a, 0, 64), arg(a, 1, 1000), arg(a, 2, 1460) as usize))
        }),
        ("secret-flood", "N: distinct 1 KiB Bearer tokens on long paths (one leak each), plus a victim", |out, a| {
            to_file(out, |w| secret_flood(w, arg(a, 0, 100_000)))
        }),
        ("head-pipeline", "70 pipelined requests, HEADs past the pending cap, cookies after", |out, _| {
            to_file(out, head_pipeline)
        }),
    ]
}

fn arg(a: &[u64], i: usize, default: u64) -> u64 {
    a.get(i).copied().unwrap_or(default)
}

fn to_file(
    out: &str,
    build: impl FnOnce(&mut Capture<io::BufWriter<std::fs::File>>) -> io::Result<()>,
) -> io::Result<()> {
    let f = std::fs::File::create(out)?;
    let mut c = Capture::new(io::BufWriter::with_capacity(1 << 20, f))?;
    build(&mut c)?;
    c.into_inner()?.flush()
}

/// A capture being written: one clock for every connection (10 µs per frame).
pub struct Capture<W: Write> {
    w: PcapWriter<W>,
    ts: i64,
}

impl<W: Write> Capture<W> {
    pub fn new(w: W) -> io::Result<Self> {
        Ok(Capture { w: PcapWriter::new(w, LinkType::ETHERNET, 262_144)?, ts: plainsight_synth::DEFAULT_START_MICROS })
    }
    pub fn into_inner(self) -> io::Result<W> {
        Ok(self.w.into_inner())
    }
    fn frame(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> io::Result<()> {
        self.ts += 10;
        self.w.write_packet(Timestamp(self.ts), &tcp_frame(src, dst, seq, ack, flags, payload))
    }
}

/// One connection of a flood, or the victim: its two ends and next sequence numbers.
struct Conn {
    c: SocketAddr,
    s: SocketAddr,
    cseq: u32,
    sseq: u32,
}

impl Conn {
    fn new(c: SocketAddr, s: SocketAddr) -> Conn {
        Conn { c, s, cseq: 1_000, sseq: 50_000 }
    }
    fn handshake<W: Write>(&mut self, w: &mut Capture<W>) -> io::Result<()> {
        w.frame(self.c, self.s, self.cseq, 0, SYN, b"")?;
        w.frame(self.s, self.c, self.sseq, self.cseq + 1, SYN | ACK, b"")?;
        self.cseq += 1;
        self.sseq += 1;
        w.frame(self.c, self.s, self.cseq, self.sseq, ACK, b"")
    }
    /// Client bytes at `off` past the next sequence number (the sequence state is not moved).
    fn client_at<W: Write>(&self, w: &mut Capture<W>, off: u32, data: &[u8]) -> io::Result<()> {
        w.frame(self.c, self.s, self.cseq.wrapping_add(off), self.sseq, ACK | PSH, data)
    }
    fn client<W: Write>(&mut self, w: &mut Capture<W>, data: &[u8]) -> io::Result<()> {
        for chunk in data.chunks(1460) {
            self.client_at(w, 0, chunk)?;
            self.cseq = self.cseq.wrapping_add(chunk.len() as u32);
        }
        Ok(())
    }
    fn server<W: Write>(&mut self, w: &mut Capture<W>, data: &[u8]) -> io::Result<()> {
        for chunk in data.chunks(1460) {
            w.frame(self.s, self.c, self.sseq, self.cseq, ACK | PSH, chunk)?;
            self.sseq = self.sseq.wrapping_add(chunk.len() as u32);
        }
        Ok(())
    }
    fn close<W: Write>(&mut self, w: &mut Capture<W>) -> io::Result<()> {
        w.frame(self.c, self.s, self.cseq, self.sseq, FIN | ACK, b"")?;
        self.cseq += 1;
        w.frame(self.s, self.c, self.sseq, self.cseq, FIN | ACK, b"")?;
        self.sseq += 1;
        w.frame(self.c, self.s, self.cseq, self.sseq, ACK, b"")
    }
}

/// The victim's token (a JWT: reported as `bearer_jwt`).
pub fn victim_token() -> String {
    jwt(r#"{"sub":"victim","scope":"admin","iat":1795000000}"#)
}

/// The victim's request, cut in two where the token is (so neither half carries it whole).
fn victim_request() -> (Vec<u8>, Vec<u8>) {
    let req = format!(
        "GET /api/account HTTP/1.1\r\nHost: victim.lab\r\nAuthorization: Bearer {}\r\nAccept: */*\r\n\r\n",
        victim_token()
    )
    .into_bytes();
    let cut = req.len() / 2;
    (req[..cut].to_vec(), req[cut..].to_vec())
}

fn victim() -> Conn {
    Conn::new(parse(VICTIM_CLIENT), parse(VICTIM_SERVER))
}

fn parse(s: &str) -> SocketAddr {
    s.parse().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Flood connection `i`: a distinct client address, the flood server.
fn flooder(i: u64) -> Conn {
    let ip = [10, 16 + (i >> 16) as u8, (i >> 8) as u8, i as u8];
    Conn::new(SocketAddr::from((ip, 1024 + (i % 60_000) as u16)), parse(FLOOD_SERVER))
}

/// The victim's answer and close, once its request is in.
fn victim_finish<W: Write>(w: &mut Capture<W>, v: &mut Conn) -> io::Result<()> {
    v.server(w, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")?;
    v.close(w)
}

/// See the module docs.
pub fn ooo_flood<W: Write>(w: &mut Capture<W>, flows: u64, segs: u64, bytes: usize) -> io::Result<()> {
    let mut conns: Vec<Conn> = (0..flows).map(flooder).collect();
    for c in &mut conns {
        c.handshake(w)?;
    }
    let mut v = victim();
    v.handshake(w)?;
    let (first, second) = victim_request();
    let payload = vec![b'A'; bytes.max(1)];
    let stride = payload.len() as u32 + 1;
    let round = |w: &mut Capture<W>, conns: &[Conn], s: u64| -> io::Result<()> {
        for c in conns {
            // After a one-byte hole that never fills.
            c.client_at(w, 1 + stride * s as u32, &payload)?;
        }
        Ok(())
    };
    for s in 0..segs {
        if s == segs / 2 {
            v.client_at(w, first.len() as u32, &second)?;
            round(w, &conns, s)?;
            v.client(w, &first)?;
            v.cseq = v.cseq.wrapping_add(second.len() as u32);
            victim_finish(w, &mut v)?;
        } else {
            round(w, &conns, s)?;
        }
    }
    Ok(())
}

/// See the module docs.
pub fn head_flood<W: Write>(w: &mut Capture<W>, flows: u64) -> io::Result<()> {
    let mut conns: Vec<Conn> = (0..flows).map(flooder).collect();
    for c in &mut conns {
        c.handshake(w)?;
    }
    let mut head = b"GET /flood HTTP/1.1\r\nHost: flood.lab\r\nX-Pad: ".to_vec();
    head.resize(HEAD_FLOOD_BYTES, b'a');
    let chunks: Vec<&[u8]> = head.chunks(1460).collect();
    let mut v = victim();
    v.handshake(w)?;
    let (first, second) = victim_request();
    for (k, chunk) in chunks.iter().enumerate() {
        if k == chunks.len() / 2 {
            v.client(w, &first)?;
        }
        for c in &mut conns {
            c.client(w, chunk)?;
        }
        if k == chunks.len() / 2 {
            v.client(w, &second)?;
            victim_finish(w, &mut v)?;
        }
    }
    Ok(())
}

/// See the module docs.
pub fn flow_flood<W: Write>(w: &mut Capture<W>, n: u64) -> io::Result<()> {
    let mut v = victim();
    let (first, second) = victim_request();
    for i in 0..n {
        if i == n / 2 {
            v.handshake(w)?;
            v.client_at(w, first.len() as u32, &second)?;
        }
        if i == n / 2 + 1000.min(n / 4) {
            v.client(w, &first)?;
            v.cseq = v.cseq.wrapping_add(second.len() as u32);
            victim_finish(w, &mut v)?;
        }
        flooder(i).client_at(w, 0, b"x")?;
    }
    Ok(())
}

/// Flood token `i` (distinct, ~1 KiB, not a JWT).
pub fn flood_token(i: u64) -> String {
    format!("flood{i:012}{}", "t".repeat(1000))
}

/// See the module docs.
pub fn secret_flood<W: Write>(w: &mut Capture<W>, n: u64) -> io::Result<()> {
    const CONNS: u64 = 64;
    let mut conns: Vec<Conn> = (0..CONNS).map(flooder).collect();
    for c in &mut conns {
        c.handshake(w)?;
    }
    let path = "p".repeat(400);
    for i in 0..n {
        if i == n / 2 {
            let mut v = victim();
            v.handshake(w)?;
            let (first, second) = victim_request();
            v.client(w, &first)?;
            v.client(w, &second)?;
            victim_finish(w, &mut v)?;
        }
        let req =
            format!("GET /{path}/{i} HTTP/1.1\r\nHost: flood.lab\r\nAuthorization: Bearer {}\r\n\r\n", flood_token(i));
        let c = &mut conns[(i % CONNS) as usize];
        c.client(w, req.as_bytes())?;
        c.server(w, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?;
    }
    Ok(())
}

/// See the module docs.
pub fn benign<W: Write>(w: &mut Capture<W>, flows: u64, segs: u64, bytes: usize) -> io::Result<()> {
    let mut conns: Vec<Conn> = (0..flows).map(flooder).collect();
    let chunk = vec![b'i'; bytes.clamp(1, 1460)];
    for c in &mut conns {
        c.handshake(w)?;
        c.client(w, b"GET /image.png HTTP/1.1\r\nHost: benign.lab\r\n\r\n")?;
        let len = segs * chunk.len() as u64;
        c.server(w, format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len}\r\n\r\n").as_bytes())?;
    }
    for _ in 0..segs {
        for c in &mut conns {
            c.server(w, &chunk)?;
        }
    }
    for c in &mut conns {
        c.close(w)?;
    }
    Ok(())
}

/// The target of pipelined request `i` (1-based); each response names the request it answers.
pub fn pipeline_target(i: usize) -> String {
    format!("/r{i}")
}

/// The session cookie set by response `i`.
pub fn pipeline_cookie(i: usize) -> String {
    format!("c{i:02}-9f8e7d6c5b4a39281706f5e4d3c2b1a0")
}

/// See the module docs.
pub fn head_pipeline<W: Write>(w: &mut Capture<W>) -> io::Result<()> {
    let mut v = victim();
    v.handshake(w)?;
    let mut reqs = Vec::new();
    for i in 1..=PIPELINE_REQUESTS {
        let method = if PIPELINE_HEADS.contains(&i) { "HEAD" } else { "GET" };
        let auth =
            if i == PIPELINE_BEARER { format!("Authorization: Bearer {}\r\n", victim_token()) } else { String::new() };
        reqs.extend_from_slice(
            format!("{method} {} HTTP/1.1\r\nHost: victim.lab\r\n{auth}\r\n", pipeline_target(i)).as_bytes(),
        );
    }
    v.client(w, &reqs)?;
    let mut resps = Vec::new();
    for i in 1..=PIPELINE_REQUESTS {
        let body = format!("body of {}\n", pipeline_target(i));
        let cookie = if PIPELINE_COOKIES.contains(&i) {
            format!("Set-Cookie: sessionid={}; Path=/; HttpOnly\r\n", pipeline_cookie(i))
        } else {
            String::new()
        };
        // A HEAD answer announces the length of the body a GET would get (larger than every later
        // response together, so mistaking it for a body eats them all), and sends none.
        let (len, body) = if PIPELINE_HEADS.contains(&i) { (100_000, String::new()) } else { (body.len(), body) };
        resps.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nX-For: {}\r\nContent-Type: text/plain\r\n{cookie}Content-Length: {len}\r\n\r\n{body}",
                pipeline_target(i)
            )
            .as_bytes(),
        );
    }
    v.server(w, &resps)?;
    v.close(w)
}
