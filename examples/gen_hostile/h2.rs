//! Evasion over cleartext HTTP/2 (issue 11): a credential hidden by HTTP/2's own framing, and a
//! connection picked up mid-way whose header blocks cannot be read honestly.
//!
//! - `h2-continuation`: prior knowledge; a Bearer token in a header block split over a padded HEADERS
//!   frame with a priority field and two CONTINUATION frames (the token cut between them), while
//!   another stream (a JSON login) is open and its DATA frames come before and after; every TCP segment
//!   13 bytes long.
//! - `h2-midstream`: the same kind of connection captured from its middle (no handshake, no preface, no
//!   SETTINGS): its blocks name entries of header tables that were never seen, beside a literal
//!   `authorization` field whose name comes from the table. Nothing may be reported (a guess would be
//!   a false alert), the directions are counted undecodable.
#![allow(dead_code)]

use std::fs::File;
use std::io::BufWriter;

use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame};

pub const CONT_TOKEN: &str = "h2-continuation-token-4b7e1d9a0c3f5682";
pub const CONT_PASS: &str = "interleaved-h2-pass";
pub const MID_TOKEN: &str = "midstream-token-never-guessed-0123";

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const SETTINGS: u8 = 4;
pub const CONTINUATION: u8 = 9;
pub const END_STREAM: u8 = 1;
pub const END_HEADERS: u8 = 4;
pub const PADDED: u8 = 8;
pub const PRIORITY: u8 = 0x20;

/// An HPACK integer with an `n`-bit prefix (RFC 7541 5.1), its first byte carrying `flags`.
pub fn int(flags: u8, n: u32, v: usize, out: &mut Vec<u8>) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut v = v - max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

fn string(s: &[u8], out: &mut Vec<u8>) {
    int(0, 7, s.len(), out);
    out.extend_from_slice(s);
}

/// A literal field with incremental indexing and a new name (it enters the table).
pub fn lit(name: &str, value: &str) -> Vec<u8> {
    let mut out = vec![0x40];
    string(name.as_bytes(), &mut out);
    string(value.as_bytes(), &mut out);
    out
}

/// A literal field never indexed, its name from table entry `i` (0: a new name, `name`).
pub fn never(i: usize, name: &str, value: &str) -> Vec<u8> {
    let mut out = Vec::new();
    int(0x10, 4, i, &mut out);
    if i == 0 {
        string(name.as_bytes(), &mut out);
    }
    string(value.as_bytes(), &mut out);
    out
}

/// An indexed field.
pub fn indexed(i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    int(0x80, 7, i, &mut out);
    out
}

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn conv(n: u8) -> Conversation {
    let client = format!("10.9.0.{n}:4{n:04}").parse().unwrap_or_else(|_| unreachable!());
    let server = "10.9.1.1:8080".parse().unwrap_or_else(|_| unreachable!());
    Conversation::new(client, server)
}

/// The client's side of `h2-continuation`.
pub fn continuation_client() -> Vec<u8> {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]));
    // Stream 3: a JSON login whose body comes in two DATA frames, around stream 1.
    let h3 = [
        indexed(3),
        indexed(6),
        lit(":path", "/api/login"),
        lit(":authority", "h2.lab"),
        lit("content-type", "application/json"),
    ]
    .concat();
    c.extend(frame(HEADERS, END_HEADERS, 3, &h3));
    let login = format!(r#"{{"username":"mallory","password":"{CONT_PASS}"}}"#);
    let (l1, l2) = login.as_bytes().split_at(20);
    c.extend(frame(DATA, PADDED, 3, &[&[6u8][..], l1, &[0; 6]].concat()));
    // Stream 1: GET with the token; :authority from the table (64: after the new :path and
    // content-type entries of stream 3 and this block's own :path).
    let h1 = [
        indexed(2),
        indexed(6),
        lit(":path", "/api/vault"),
        indexed(64),
        never(23, "", &format!("Bearer {CONT_TOKEN}")),
    ]
    .concat();
    let cut = h1.len() - CONT_TOKEN.len() / 2 - 4;
    let (a, rest) = h1.split_at(cut - 10);
    let (b, d) = rest.split_at(10);
    // Padded (pad length 5), with a priority field (exclusive dependency on stream 3, weight 200).
    let first = [&[5u8][..], &[0x80, 0, 0, 3, 200], a, &[0; 5]].concat();
    c.extend(frame(HEADERS, PADDED | PRIORITY | END_STREAM, 1, &first));
    c.extend(frame(CONTINUATION, 0, 1, b));
    c.extend(frame(CONTINUATION, END_HEADERS, 1, d));
    c.extend(frame(DATA, END_STREAM, 3, l2));
    c.extend(frame(SETTINGS, 1, 0, &[]));
    c
}

/// The server's side of `h2-continuation`: stream 1 answered 200, stream 3 answered 401.
pub fn continuation_server() -> Vec<u8> {
    let mut s = frame(SETTINGS, 0, 0, &[]);
    s.extend(frame(SETTINGS, 1, 0, &[]));
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &indexed(8)));
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &lit(":status", "401")));
    s
}

/// `h2-continuation` in TCP segments of `mss` bytes.
pub fn continuation(mss: usize) -> Vec<Frame> {
    let mut c = conv(1);
    c.handshake();
    c.send(false, &continuation_server()[..15], mss);
    c.send(true, &continuation_client(), mss);
    c.send(false, &continuation_server()[15..], mss);
    c.close();
    c.take()
}

/// `h2-midstream`: no handshake, the first bytes are frames of streams 7 and 9.
pub fn midstream() -> Vec<Frame> {
    let mut c = conv(2);
    // Stream 7: :method from the static table, :path and :authority from dynamic entries the capture
    // never saw, a token whose field name is dynamic entry 63 (in the real table: authorization?).
    let h7 = [indexed(2), indexed(62), indexed(65), never(63, "", &format!("Bearer {MID_TOKEN}"))].concat();
    let mut cl = frame(HEADERS, END_HEADERS | END_STREAM, 7, &h7);
    // Stream 9: a request whose every field is literal, yet read against a table we do not know.
    let h9 = [indexed(3), lit(":path", "/login"), never(0, "authorization", &format!("Bearer {MID_TOKEN}"))].concat();
    cl.extend(frame(HEADERS, END_HEADERS, 9, &h9));
    cl.extend(frame(DATA, END_STREAM, 9, br#"{"user":"x","password":"midstream-pass"}"#));
    c.client(&cl);
    let mut sv = frame(HEADERS, END_HEADERS | END_STREAM, 7, &[indexed(8), indexed(70)].concat());
    sv.extend(frame(HEADERS, END_HEADERS | END_STREAM, 9, &indexed(62)));
    c.server(&sv);
    c.close();
    c.take()
}

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
        ("h2-continuation", "[MSS=13] Bearer over padded HEADERS + CONTINUATION, streams interleaved", |o, a| {
            write(o, &continuation(a.first().map_or(13, |&n| n as usize)))
        }),
        ("h2-midstream", "HTTP/2 picked up mid-connection: undecodable, nothing guessed", |o, _| {
            write(o, &midstream())
        }),
    ]
}
