//! Evasion at the HTTP layer (issue 10, section 5): a credential a server accepts, framed or encoded so
//! that a sniffer finds it only if it parses as leniently as servers do, reads on past its caps, and
//! decodes what servers decode. One capture per trick, each with its credential (the `*_PASS` and
//! `*_TOKEN` constants say which):
//!
//! - `http-fold`: `Authorization: Basic` whose base64 continues on obs-folded lines.
//! - `http-te-cl`: a login framed by both `Content-Length: 5` and `Transfer-Encoding: chunked`.
//! - `http-te-gzip`: a login sent `Transfer-Encoding: gzip, CHUNKED`.
//! - `http-cl-conflict`: two Content-Length values that disagree (rejected by servers, and by us,
//!   counted), then a login that must still be found.
//! - `http-many-headers`: 300 header fields before `Authorization`.
//! - `http-big-head`: 70 KiB of junk header fields before `Authorization`.
//! - `http-stacked`: a JSON login `Content-Encoding: gzip, gzip`, answered with a token `deflate, gzip`.
//! - `http-long-bodies [MIB=1]`: a form, a JSON and a multipart login, each a body of MIB MiB whose
//!   password comes last.
//! - `http-gzip-long [MIB=2]`: a JSON login whose gzip-decoded MIB MiB put the password last.
//! - `http-bomb`: a stacked gzip bomb (8 MiB of zeros, twice compressed) on a connection whose next
//!   request is a login.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufWriter, Write as _};

use base64::Engine as _;
use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame};

pub const FOLD_USER: &str = "alice";
pub const FOLD_PASS: &str = "f0lded-Basic-pass";
pub const TE_CL_PASS: &str = "te-over-cl-s3cret";
pub const TE_GZIP_PASS: &str = "gzip-chunked-s3cret";
pub const CL_CONFLICT_PASS: &str = "after-the-conflict";
pub const MANY_TOKEN: &str = "many-headers-0123456789abcdef";
pub const BIG_HEAD_TOKEN: &str = "after-70KiB-of-junk-0123456789";
pub const STACKED_PASS: &str = "gzip-gzip-s3cret";
pub const STACKED_TOKEN: &str = "deflate-gzip-token-0123456789";
pub const LONG_FORM_PASS: &str = "form-after-a-megabyte";
pub const LONG_JSON_PASS: &str = "json-after-a-megabyte";
pub const LONG_MULTIPART_PASS: &str = "multipart-after-a-megabyte";
pub const GZIP_LONG_PASS: &str = "after-2MiB-decoded";
pub const BOMB_PASS: &str = "after-the-bomb";

const FORM: &str = "application/x-www-form-urlencoded";

fn conv(n: u8) -> Conversation {
    let client = format!("10.7.0.{n}:4{n:04}").parse().unwrap_or_else(|_| unreachable!());
    let server = "10.7.1.1:80".parse().unwrap_or_else(|_| unreachable!());
    let mut c = Conversation::new(client, server);
    c.handshake();
    c
}

/// One exchange: `req` from the client, then a plain `200 OK` (or `resp`), then the close.
fn exchange(n: u8, req: &[u8], resp: Option<&[u8]>) -> Vec<Frame> {
    let mut c = conv(n);
    c.client(req);
    c.server(resp.unwrap_or(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    c.close();
    c.take()
}

/// A request with this head and body (Content-Length added).
fn post(path: &str, ctype: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: {ctype}\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// `data` as chunked encoding in chunks of `size`.
fn chunked(data: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in data.chunks(size.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

pub fn fold() -> Vec<Frame> {
    let cred = base64::engine::general_purpose::STANDARD.encode(format!("{FOLD_USER}:{FOLD_PASS}"));
    let (a, b) = cred.split_at(cred.len() / 2);
    let req = format!("GET /admin/ HTTP/1.1\r\nHost: intranet.lab\r\nAuthorization: Basic\r\n  {a}\r\n\t{b}\r\n\r\n");
    exchange(1, req.as_bytes(), None)
}

pub fn te_cl() -> Vec<Frame> {
    let body = chunked(format!("user=alice&password={TE_CL_PASS}").as_bytes(), 7);
    let mut req = format!(
        "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: {FORM}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    req.extend_from_slice(&body);
    exchange(2, &req, None)
}

pub fn te_gzip() -> Vec<Frame> {
    let body = chunked(&gzip(format!("user=bob&password={TE_GZIP_PASS}").as_bytes()), 16);
    let mut req = format!(
        "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: {FORM}\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"
    )
    .into_bytes();
    req.extend_from_slice(&body);
    exchange(3, &req, None)
}

pub fn cl_conflict() -> Vec<Frame> {
    let mut c = conv(4);
    c.client(b"POST /smuggle HTTP/1.1\r\nHost: shop.lab\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello");
    c.server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    c.close();
    let mut frames = c.take();
    frames.extend(exchange(
        5,
        &post("/login", FORM, "", format!("user=carol&password={CL_CONFLICT_PASS}").as_bytes()),
        None,
    ));
    frames
}

pub fn many_headers() -> Vec<Frame> {
    let mut req = String::from("GET /api/orders HTTP/1.1\r\nHost: api.lab\r\n");
    for i in 0..300 {
        req.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    req.push_str(&format!("Authorization: Bearer {MANY_TOKEN}\r\n\r\n"));
    exchange(6, req.as_bytes(), None)
}

pub fn big_head() -> Vec<Frame> {
    let mut req = String::from("GET /api/orders HTTP/1.1\r\nHost: api.lab\r\n");
    let mut i = 0;
    while req.len() < 70 * 1024 {
        req.push_str(&format!("X-Junk-{i}: {}\r\n", "j".repeat(80)));
        i += 1;
    }
    req.push_str(&format!("Authorization: Bearer {BIG_HEAD_TOKEN}\r\n\r\n"));
    exchange(7, req.as_bytes(), None)
}

pub fn stacked() -> Vec<Frame> {
    let json = format!(r#"{{"username":"dave","password":"{STACKED_PASS}"}}"#);
    let req = post("/api/login", "application/json", "Content-Encoding: gzip, gzip\r\n", &gzip(&gzip(json.as_bytes())));
    let token = format!(r#"{{"access_token":"{STACKED_TOKEN}","token_type":"bearer"}}"#);
    // deflate applied first, then gzip.
    let body = gzip(&zlib(token.as_bytes()));
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: deflate, gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    resp.extend_from_slice(&body);
    exchange(8, &req, Some(&resp))
}

/// A body of about `size` bytes of `kind` ("form", "json", "multipart") whose password comes last.
pub fn long_body(kind: &str, size: usize, pass: &str) -> (String, Vec<u8>) {
    let pad = "p".repeat(size);
    match kind {
        "form" => (FORM.to_string(), format!("user=erin&pad={pad}&password={pass}").into_bytes()),
        "json" => (
            "application/json".to_string(),
            format!(r#"{{"user":"erin","pad":"{pad}","auth":{{"password":"{pass}"}}}}"#).into_bytes(),
        ),
        _ => {
            let b = "----plainsightBoundary7MA4YWxk";
            let part = |name: &str, v: &str| {
                format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}\r\n")
            };
            let body = format!("{}{}{}--{b}--\r\n", part("user", "erin"), part("pad", &pad), part("password", pass));
            (format!("multipart/form-data; boundary={b}"), body.into_bytes())
        }
    }
}

pub fn long_bodies(mib: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    for (n, kind, pass) in
        [(9, "form", LONG_FORM_PASS), (10, "json", LONG_JSON_PASS), (11, "multipart", LONG_MULTIPART_PASS)]
    {
        let (ct, body) = long_body(kind, mib << 20, pass);
        frames.extend(exchange(n, &post("/login", &ct, "", &body), None));
    }
    frames
}

pub fn gzip_long(mib: usize) -> Vec<Frame> {
    let (ct, body) = long_body("json", mib << 20, GZIP_LONG_PASS);
    exchange(12, &post("/api/login", &ct, "Content-Encoding: gzip\r\n", &gzip(&body)), None)
}

pub fn bomb() -> Vec<Frame> {
    let bomb = gzip(&gzip(&vec![0u8; 8 << 20]));
    let mut c = conv(13);
    c.client(&post("/upload", "application/json", "Content-Encoding: gzip, gzip\r\n", &bomb));
    c.client(&post("/login", FORM, "", format!("user=frank&password={BOMB_PASS}").as_bytes()));
    c.server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    c.close();
    c.take()
}

/// Write frames as an Ethernet pcap.
pub fn write(path: &str, frames: &[Frame]) -> std::io::Result<()> {
    let mut w = PcapWriter::new(BufWriter::new(File::create(path)?), LinkType::ETHERNET, 262_144)?;
    for f in frames {
        w.write_packet(Timestamp(f.ts), &f.data)?;
    }
    Ok(())
}

type Mode = (&'static str, &'static str, fn(&str, &[u64]) -> std::io::Result<()>);

/// This class's modes for the generator.
pub fn modes() -> Vec<Mode> {
    vec![
        ("http-fold", "Basic credential on obs-folded header lines", |o, _| write(o, &fold())),
        ("http-te-cl", "login framed by both Content-Length and Transfer-Encoding", |o, _| write(o, &te_cl())),
        ("http-te-gzip", "login sent Transfer-Encoding: gzip, CHUNKED", |o, _| write(o, &te_gzip())),
        ("http-cl-conflict", "Content-Length values that disagree, then a login", |o, _| write(o, &cl_conflict())),
        ("http-many-headers", "300 header fields before Authorization", |o, _| write(o, &many_headers())),
        ("http-big-head", "70 KiB of junk header fields before Authorization", |o, _| write(o, &big_head())),
        ("http-stacked", "login Content-Encoding: gzip, gzip; token deflate, gzip", |o, _| write(o, &stacked())),
        ("http-long-bodies", "[MIB=1] form, JSON, multipart logins with the password last", |o, a| {
            write(o, &long_bodies(a.first().map_or(1, |&n| n as usize)))
        }),
        ("http-gzip-long", "[MIB=2] gzip JSON login, password after MIB MiB decoded", |o, a| {
            write(o, &gzip_long(a.first().map_or(2, |&n| n as usize)))
        }),
        ("http-bomb", "stacked gzip bomb, then a login on the same connection", |o, _| write(o, &bomb())),
    ]
}
