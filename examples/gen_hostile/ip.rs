//! Evasion at the IP layer: credentials sent in IP fragments (IPv4 and IPv6, in order or not), a
//! bad-checksum decoy sent first at the same sequence number as the real segment, a host whose every
//! checksum is bad (offload on the capturing host), and a flood of fragments that never complete.
#![allow(dead_code)]

use std::fs::File;
use std::io::BufWriter;

use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{ACK, Conversation, Frame, PSH};

/// The Basic credential of the fragmented request: `alice:fr4gmented-s3cret`.
pub const FRAG_USER: &str = "alice";
pub const FRAG_PASS: &str = "fr4gmented-s3cret";
/// The real password of the decoy capture, and the decoy's.
pub const REAL_PASS: &str = "real-Passw0rd";
pub const DECOY_PASS: &str = "decoy";
/// The password sent by the host whose checksums are all offloaded.
pub const OFFLOAD_PASS: &str = "offl0aded-pass";

const ETH: usize = 14;

/// The Basic-authenticated request, as bytes.
pub fn basic_request() -> Vec<u8> {
    use base64::Engine as _;
    let cred = base64::engine::general_purpose::STANDARD.encode(format!("{FRAG_USER}:{FRAG_PASS}"));
    format!("GET /admin/ HTTP/1.1\r\nHost: intranet.lab\r\nUser-Agent: curl/8.5\r\nAuthorization: Basic {cred}\r\n\r\n")
        .into_bytes()
}

fn ip_header_checksum(h: &mut [u8]) {
    h[10] = 0;
    h[11] = 0;
    let mut s: u32 = 0;
    for c in h.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    h[10..12].copy_from_slice(&(!(s as u16)).to_be_bytes());
}

/// Cut an Ethernet frame's IP packet (IPv4, or IPv6 without extension headers) into fragments whose
/// data parts are `first` bytes, then `size` bytes (multiples of 8), each in its own Ethernet frame.
pub fn fragment_frame(frame: &[u8], first: usize, size: usize, id: u32) -> Vec<Vec<u8>> {
    let (eth, ip) = frame.split_at(ETH);
    let v6 = ip[0] >> 4 == 6;
    let hl = if v6 { 40 } else { usize::from(ip[0] & 0x0f) * 4 };
    let (hdr, data) = ip.split_at(hl);
    let mut out = Vec::new();
    let mut off = 0;
    while off < data.len() {
        let n = (if off == 0 { first } else { size }).min(data.len() - off);
        let last = off + n == data.len();
        let mut f = eth.to_vec();
        if v6 {
            let mut h = hdr.to_vec();
            let next = h[6];
            h[6] = 44;
            h[4..6].copy_from_slice(&((8 + n) as u16).to_be_bytes());
            f.extend_from_slice(&h);
            f.extend_from_slice(&[next, 0]);
            f.extend_from_slice(&((off as u16) | u16::from(!last)).to_be_bytes());
            f.extend_from_slice(&id.to_be_bytes());
        } else {
            let mut h = hdr.to_vec();
            h[2..4].copy_from_slice(&((hl + n) as u16).to_be_bytes());
            h[4..6].copy_from_slice(&(id as u16).to_be_bytes());
            let fo = (off / 8) as u16 | if last { 0 } else { 0x2000 };
            h[6..8].copy_from_slice(&fo.to_be_bytes());
            ip_header_checksum(&mut h);
            f.extend_from_slice(&h);
        }
        f.extend_from_slice(&data[off..off + n]);
        out.push(f);
        off += n;
    }
    out
}

/// Break a frame's TCP checksum (Ethernet, IPv4 or IPv6 without extension headers).
pub fn break_tcp_checksum(frame: &mut [u8]) {
    let hl = if frame[ETH] >> 4 == 6 { 40 } else { usize::from(frame[ETH] & 0x0f) * 4 };
    frame[ETH + hl + 16] ^= 0x5a;
}

/// An HTTP request with `Authorization: Basic` whose one data segment is sent in IP fragments: the
/// first only 8 bytes (too short for the TCP header), then 24-byte pieces that cut the credential.
/// `reversed` sends the fragments last first.
pub fn fragmented_basic_auth(v6: bool, reversed: bool) -> Vec<Frame> {
    let (c, s) = if v6 { ("[fd00::10]:41000", "[fd00::80]:80") } else { ("10.0.0.10:41000", "10.0.0.80:80") };
    let mut conv =
        Conversation::new(c.parse().unwrap_or_else(|_| unreachable!()), s.parse().unwrap_or_else(|_| unreachable!()));
    conv.handshake();
    let mut out = conv.take();
    let req = basic_request();
    conv.client(&req);
    let data = conv.take();
    for f in data {
        let mut frags = fragment_frame(&f.data, 8, 24, 0x4242);
        if reversed {
            frags.reverse();
        }
        for (i, fr) in frags.into_iter().enumerate() {
            out.push(Frame { ts: f.ts + i as i64, data: fr });
        }
    }
    conv.server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    conv.close();
    out.extend(conv.take());
    out
}

/// A login form whose body carries `password=<pass>`, padded so both bodies have one length.
fn login(pass: &str) -> Vec<u8> {
    let mut body = format!("user=alice&password={pass}");
    let want = "user=alice&password=".len() + REAL_PASS.len().max(DECOY_PASS.len()) + 8;
    if body.len() < want {
        body.push_str("&x=");
        while body.len() < want {
            body.push('a');
        }
    }
    format!(
        "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The decoy: after a handshake with valid checksums, a segment with the real one's sequence number
/// and length carrying `password=decoy`, with a broken checksum (the server drops it), then the real
/// segment. A sniffer that keeps the first copy reports the decoy and never sees the real password.
pub fn checksum_decoy() -> Vec<Frame> {
    let mut conv = Conversation::new(
        "10.0.0.20:42000".parse().unwrap_or_else(|_| unreachable!()),
        "10.0.0.81:80".parse().unwrap_or_else(|_| unreachable!()),
    );
    conv.handshake();
    let (real, decoy) = (login(REAL_PASS), login(DECOY_PASS));
    assert_eq!(real.len(), decoy.len());
    let mut d = conv.raw(true, conv.cseq, ACK | PSH, &decoy);
    break_tcp_checksum(&mut d.data);
    conv.frames.push(d);
    conv.client(&real);
    conv.server(b"HTTP/1.1 302 Found\r\nLocation: /account\r\nContent-Length: 0\r\n\r\n");
    conv.close();
    conv.take()
}

/// A capture taken on the client with checksum offload: every segment the client sent has a bad
/// checksum (the server's are good). Its login is in small segments, so the client sends more than
/// the 8 checksummed segments that decide.
pub fn offloaded_client() -> Vec<Frame> {
    let client: std::net::SocketAddr = "10.0.0.30:43000".parse().unwrap_or_else(|_| unreachable!());
    let mut conv = Conversation::new(client, "10.0.0.82:80".parse().unwrap_or_else(|_| unreachable!()));
    conv.handshake();
    let body = format!("user=bob&password={OFFLOAD_PASS}");
    let req = format!(
        "POST /session HTTP/1.1\r\nHost: app.lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conv.send(true, req.as_bytes(), 24);
    conv.server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    conv.close();
    let mut frames = conv.take();
    for f in &mut frames {
        // Frames from the client: Ethernet source address of tcp_frame is the same for both sides,
        // so look at the IP source.
        if f.data[ETH + 12..ETH + 16] == [10, 0, 0, 30] {
            break_tcp_checksum(&mut f.data);
        }
    }
    frames
}

/// `n` first fragments of datagrams that never complete (each 1 KiB, distinct identifications, from
/// one attacker), then the fragmented Basic login of [`fragmented_basic_auth`].
pub fn fragment_flood(n: usize) -> Vec<Frame> {
    let mut conv = Conversation::new(
        "10.6.6.6:6666".parse().unwrap_or_else(|_| unreachable!()),
        "10.0.0.80:80".parse().unwrap_or_else(|_| unreachable!()),
    );
    let junk = vec![b'j'; 2048];
    let f = conv.raw(true, 1, ACK | PSH, &junk);
    let first = fragment_frame(&f.data, 1024, 1024, 0)[0].clone();
    let mut out = Vec::with_capacity(n + 16);
    for i in 0..n {
        let mut fr = first.clone();
        // A distinct identification and a few distinct sources, IPv4 header checksum left as is.
        fr[ETH + 4..ETH + 6].copy_from_slice(&(i as u16).to_be_bytes());
        fr[ETH + 15] = (i >> 16) as u8;
        out.push(Frame { ts: f.ts + i as i64, data: fr });
    }
    let start = f.ts + n as i64 + 1;
    for mut fr in fragmented_basic_auth(false, false) {
        fr.ts = fr.ts.max(start);
        out.push(fr);
    }
    out.sort_by_key(|f| f.ts);
    out
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
        ("ip-frag4", "Basic login in IPv4 fragments, in order", |o, _| write(o, &fragmented_basic_auth(false, false))),
        ("ip-frag4-reversed", "Basic login in IPv4 fragments, last first", |o, _| {
            write(o, &fragmented_basic_auth(false, true))
        }),
        ("ip-frag6", "Basic login in IPv6 fragments", |o, _| write(o, &fragmented_basic_auth(true, false))),
        ("ip-checksum-decoy", "bad-checksum decoy sent first at the real segment's sequence number", |o, _| {
            write(o, &checksum_decoy())
        }),
        ("ip-offload", "a client whose every checksum is bad (offload), with a login", |o, _| {
            write(o, &offloaded_client())
        }),
        ("ip-frag-flood", "[N=20000] incomplete datagrams, then a fragmented login", |o, a| {
            write(o, &fragment_flood(a.first().map_or(20_000, |&n| n as usize)))
        }),
    ]
}
