//! Evasion inside WebSocket (issue 11, section WebSocket): credentials that a server reads only after
//! unmasking, reassembling fragments and inflating with the context of earlier messages. One capture per
//! trick, each with its credential (the `*_TOKEN` and `*_PASS` constants):
//!
//! - `ws-split`: a JWT in a JSON auth message, compressed with context takeover (two messages before it
//!   prime the context, so its own compressed bytes refer back to them), sent in fragments of 3 bytes
//!   with a ping or a pong between every two, in TCP segments of 7 bytes; the server answers compressed.
//! - `ws-stomp`: STOMP CONNECT logins, one accepted (`CONNECTED`) and one refused (`ERROR`).
//! - `ws-bomb`: a permessage-deflate bomb (64 MiB of zeros), then a token in a compressed message
//!   (`client_no_context_takeover`: it can be read) on the same connection.
//! - `ws-flood [N=2000]`: N WebSocket connections, each with a compressed message left half-sent (an
//!   inflater and a kept prefix held), then a token sent on one more connection.
//! - `ws-chat [CONNS=200] [MSGS=200]`: not an attack, a measure: CONNS connections each exchanging MSGS
//!   compressed chat messages each way (context takeover), the last client message carrying a token.
#![allow(dead_code)]

use std::fs::File;
use std::io::BufWriter;

use flate2::{Compress, Compression, FlushCompress};
use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame};

pub const TEXT: u8 = 1;
pub const BINARY: u8 = 2;
pub const CONT: u8 = 0;
pub const CLOSE: u8 = 8;
pub const PING: u8 = 9;
pub const PONG: u8 = 10;

pub const MASK: Option<[u8; 4]> = Some([0x5a, 0x13, 0xc4, 0x9e]);

pub const SPLIT_SUB: &str = "ws-split-victim";
pub const STOMP_USER: &str = "stomp-admin";
pub const STOMP_PASS: &str = "St0mp-accepted!";
pub const STOMP_BAD_PASS: &str = "St0mp-refused?";
pub const BOMB_TOKEN: &str = "after-the-ws-bomb-0123456789";
pub const FLOOD_TOKEN: &str = "after-the-ws-flood-0123456789";

/// The JWT of `ws-split` (its `sub` is [`SPLIT_SUB`]).
pub fn split_token() -> String {
    plainsight_synth::jwt(&format!(r#"{{"sub":"{SPLIT_SUB}","scope":"chat","iat":1795000000}}"#))
}

/// One frame, masked with `mask` when given (RFC 6455 5.2).
pub fn frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n < 65536 => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

/// A permessage-deflate sender (RFC 7692): raw deflate, a sync flush per message, its `00 00 ff ff`
/// tail stripped; the context kept from message to message with `takeover`.
pub struct Deflater {
    c: Compress,
    takeover: bool,
}

impl Deflater {
    pub fn new(takeover: bool) -> Deflater {
        Deflater { c: Compress::new(Compression::default(), false), takeover }
    }

    pub fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = self.c.total_in();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let used = (self.c.total_in() - start) as usize;
            if self.c.compress_vec(&data[used..], &mut out, FlushCompress::Sync).is_err() {
                break;
            }
            if (self.c.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        }
        if !self.takeover {
            self.c.reset();
        }
        out
    }
}

/// The client's upgrade request for `path` at `host`.
pub fn upgrade(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    .into_bytes()
}

/// The server's 101 with these extensions (none when empty).
pub fn switching(ext: &str) -> Vec<u8> {
    let ext = if ext.is_empty() { String::new() } else { format!("Sec-WebSocket-Extensions: {ext}\r\n") };
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{ext}\r\n"
    )
    .into_bytes()
}

fn conv(n: u16) -> Conversation {
    let client =
        format!("10.11.{}.{}:{}", n / 250, n % 250 + 1, 40000 + n % 20000).parse().unwrap_or_else(|_| unreachable!());
    let server = "10.11.200.1:8080".parse().unwrap_or_else(|_| unreachable!());
    let mut c = Conversation::new(client, server);
    c.handshake();
    c
}

/// A connection upgraded with `ext` negotiated: client frames `client` in segments of `mss`, server
/// frames `server`, then the close.
pub fn connection(n: u16, ext: &str, client: &[u8], mss: usize, server: &[u8]) -> Vec<Frame> {
    let mut c = conv(n);
    c.client(&upgrade("chat.lab", "/socket"));
    c.server(&switching(ext));
    c.send(true, client, mss);
    if !server.is_empty() {
        c.server(server);
    }
    c.close();
    c.take()
}

/// The client's side of `ws-split`: the token message, fragmented with control frames between.
pub fn split_client() -> Vec<u8> {
    let mut d = Deflater::new(true);
    let mut out = Vec::new();
    // Two messages prime the context: the token message's bytes then refer back to them.
    let prime = format!(r#"{{"type":"hello","client":"{SPLIT_SUB}","token":null}}"#);
    out.extend(frame(true, true, TEXT, &d.message(prime.as_bytes()), MASK));
    out.extend(frame(true, true, TEXT, &d.message(br#"{"type":"auth","token":"pending"}"#), MASK));
    let msg = format!(r#"{{"type":"auth","token":"{}"}}"#, split_token());
    let z = d.message(msg.as_bytes());
    let pieces: Vec<&[u8]> = z.chunks(3).collect();
    for (i, p) in pieces.iter().enumerate() {
        let op = if i == 0 { TEXT } else { CONT };
        out.extend(frame(i + 1 == pieces.len(), i == 0, op, p, MASK));
        if i + 1 < pieces.len() {
            let ctl = if i % 2 == 0 { PING } else { PONG };
            out.extend(frame(true, false, ctl, b"keepalive", MASK));
        }
    }
    out.extend(frame(true, false, CLOSE, &[3, 232], MASK));
    out
}

pub fn split() -> Vec<Frame> {
    let mut sd = Deflater::new(true);
    let mut server = frame(true, true, TEXT, &sd.message(br#"{"type":"welcome"}"#), None);
    server.extend(frame(true, true, TEXT, &sd.message(br#"{"type":"auth_ok"}"#), None));
    connection(1, "permessage-deflate", &split_client(), 7, &server)
}

/// A STOMP frame: command, headers, empty body, NUL.
pub fn stomp(command: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut s = format!("{command}\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}:{v}\n"));
    }
    s.push_str("\n\0");
    s.into_bytes()
}

pub fn stomp_logins() -> Vec<Frame> {
    let mut frames = Vec::new();
    for (n, pass, answer) in [
        (2, STOMP_PASS, stomp("CONNECTED", &[("version", "1.2"), ("heart-beat", "0,0")])),
        (3, STOMP_BAD_PASS, stomp("ERROR", &[("message", "Bad CONNECT"), ("content-type", "text/plain")])),
    ] {
        let connect =
            stomp("CONNECT", &[("accept-version", "1.2"), ("host", "/"), ("login", STOMP_USER), ("passcode", pass)]);
        let mut c = conv(n);
        c.client(&upgrade("mq.lab", "/stomp"));
        c.server(&switching(""));
        c.client(&frame(true, false, TEXT, &connect, MASK));
        c.server(&frame(true, false, TEXT, &answer, None));
        c.close();
        frames.extend(c.take());
    }
    frames
}

pub fn bomb() -> Vec<Frame> {
    let mut d = Deflater::new(false);
    let mut client = frame(true, true, BINARY, &d.message(&vec![0u8; 64 << 20]), MASK);
    let msg = format!(r#"{{"type":"auth","token":"{BOMB_TOKEN}"}}"#);
    client.extend(frame(true, true, TEXT, &d.message(msg.as_bytes()), MASK));
    connection(4, "permessage-deflate; client_no_context_takeover", &client, 1460, b"")
}

/// N connections, each with a compressed message half-sent, then one more with a token.
pub fn flood(n: u16) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut d = Deflater::new(true);
    // 8 KiB of text that compresses poorly (a counter), sent without its last bytes.
    let text: String = (0..1200).map(|i| format!("{i:06}")).collect();
    let z = d.message(text.as_bytes());
    let mut half = frame(true, true, TEXT, &z, MASK);
    half.truncate(half.len() - 16);
    for i in 0..n {
        let mut c = conv(10 + i);
        c.client(&upgrade("chat.lab", "/socket"));
        c.server(&switching("permessage-deflate"));
        c.client(&half);
        frames.extend(c.take());
    }
    let msg = format!(r#"{{"type":"auth","token":"{FLOOD_TOKEN}"}}"#);
    let last = frame(true, true, TEXT, &Deflater::new(true).message(msg.as_bytes()), MASK);
    frames.extend(connection(5, "permessage-deflate", &last, 1460, b""));
    frames
}

/// CONNS chatty connections of MSGS compressed messages each way; the last client message has a token.
pub fn chat(conns: u16, msgs: u32) -> Vec<Frame> {
    let mut frames = Vec::new();
    for n in 0..conns {
        let (mut cd, mut sd) = (Deflater::new(true), Deflater::new(true));
        let mut c = conv(20_000 + n);
        c.client(&upgrade("chat.lab", "/socket"));
        c.server(&switching("permessage-deflate"));
        for i in 0..msgs {
            let text = if i + 1 == msgs {
                format!(r#"{{"type":"auth","token":"{FLOOD_TOKEN}"}}"#)
            } else {
                format!(
                    r#"{{"type":"chat","room":"general","seq":{i},"text":"message {i} from user {n}, nothing secret here"}}"#
                )
            };
            c.client(&frame(true, true, TEXT, &cd.message(text.as_bytes()), MASK));
            let ack = format!(r#"{{"type":"ack","seq":{i},"room":"general"}}"#);
            c.server(&frame(true, true, TEXT, &sd.message(ack.as_bytes()), None));
        }
        c.close();
        frames.extend(c.take());
    }
    frames
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
        ("ws-split", "JWT in a compressed, fragmented WebSocket message, control frames between", |o, _| {
            write(o, &split())
        }),
        ("ws-stomp", "STOMP CONNECT logins over WebSocket, accepted and refused", |o, _| write(o, &stomp_logins())),
        ("ws-bomb", "permessage-deflate bomb, then a token on the same connection", |o, _| write(o, &bomb())),
        ("ws-flood", "[N=2000] WebSocket connections holding inflaters, then a token", |o, a| {
            write(o, &flood(a.first().map_or(2000, |&n| n.min(60_000) as u16)))
        }),
        ("ws-chat", "[CONNS=200] [MSGS=200] chatty compressed WebSocket connections (a measure)", |o, a| {
            let conns = a.first().map_or(200, |&n| n.min(20_000) as u16);
            write(o, &chat(conns, a.get(1).map_or(200, |&n| n.min(100_000) as u32)))
        }),
    ]
}
