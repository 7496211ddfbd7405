//! Synthetic traffic: TCP conversations built frame by frame.
//!
//! Not part of plainsight's library: a test and benchmark kit (a dev-dependency). Tests use it to control segmentation, order, loss
//! and retransmission exactly; benches and the capture generator (`examples/gen_capture.rs`) use it to
//! produce large realistic captures with known ground truth. Frames are Ethernet + IPv4/IPv6 + TCP, built
//! with etherparse (an implementation independent of our decoder, so the two check each other).

use std::net::{IpAddr, SocketAddr};

use etherparse::PacketBuilder;

/// One frame and its capture time (µs since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub ts: i64,
    pub data: Vec<u8>,
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// Build one Ethernet/IP/TCP frame.
pub fn tcp_frame(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let builder = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => builder.ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => builder.ipv6(s.octets(), d.octets(), 64),
        // Mixed families cannot be one packet: map the v4 side into v6.
        (s, d) => builder.ipv6(v6(s), v6(d), 64),
    };
    let mut tcp = builder.tcp(src.port(), dst.port(), seq, 65535);
    if flags & SYN != 0 {
        tcp = tcp.syn();
    }
    if flags & ACK != 0 {
        tcp = tcp.ack(ack);
    }
    if flags & FIN != 0 {
        tcp = tcp.fin();
    }
    if flags & RST != 0 {
        tcp = tcp.rst();
    }
    if flags & PSH != 0 {
        tcp = tcp.psh();
    }
    let mut data = Vec::with_capacity(tcp.size(payload.len()));
    // Writing into a Vec cannot fail; an error here would be a builder bug, and yields an empty frame.
    if tcp.write(&mut data, payload).is_err() {
        data.clear();
    }
    data
}

fn v6(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// The frames of one TCP connection, built in order; tests may reorder, drop or duplicate them.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub cseq: u32,
    pub sseq: u32,
    /// Capture time of the next frame (µs); each frame advances it by `step`.
    pub ts: i64,
    pub step: i64,
    pub frames: Vec<Frame>,
}

/// 2026-11-18T11:06:40Z: the default capture start, so that JWT expiry in tests is reproducible.
pub const DEFAULT_START_MICROS: i64 = 1_795_000_000_000_000;

impl Conversation {
    pub fn new(client: SocketAddr, server: SocketAddr) -> Conversation {
        Conversation::with_isn(client, server, 1_000_000, 2_000_000)
    }

    pub fn with_isn(client: SocketAddr, server: SocketAddr, cisn: u32, sisn: u32) -> Conversation {
        Conversation { client, server, cseq: cisn, sseq: sisn, ts: DEFAULT_START_MICROS, step: 100, frames: Vec::new() }
    }

    /// A frame from one side with explicit seq, flags and payload (sequence state is not moved).
    pub fn raw(&mut self, from_client: bool, seq: u32, flags: u8, payload: &[u8]) -> Frame {
        let (src, dst, ack) =
            if from_client { (self.client, self.server, self.sseq) } else { (self.server, self.client, self.cseq) };
        self.ts += self.step;
        Frame { ts: self.ts, data: tcp_frame(src, dst, seq, ack, flags, payload) }
    }

    pub fn handshake(&mut self) -> &mut Self {
        let f = self.raw(true, self.cseq, SYN, &[]);
        self.frames.push(f);
        self.cseq = self.cseq.wrapping_add(1);
        let f = self.raw(false, self.sseq, SYN | ACK, &[]);
        self.frames.push(f);
        self.sseq = self.sseq.wrapping_add(1);
        let f = self.raw(true, self.cseq, ACK, &[]);
        self.frames.push(f);
        self
    }

    /// `data` from one side in segments of at most `mss` bytes, in order.
    pub fn send(&mut self, from_client: bool, data: &[u8], mss: usize) -> &mut Self {
        for chunk in data.chunks(mss.max(1)) {
            let seq = if from_client { self.cseq } else { self.sseq };
            let f = self.raw(from_client, seq, ACK | PSH, chunk);
            self.frames.push(f);
            if from_client {
                self.cseq = self.cseq.wrapping_add(chunk.len() as u32);
            } else {
                self.sseq = self.sseq.wrapping_add(chunk.len() as u32);
            }
        }
        self
    }

    pub fn client(&mut self, data: &[u8]) -> &mut Self {
        self.send(true, data, 1460)
    }

    pub fn server(&mut self, data: &[u8]) -> &mut Self {
        self.send(false, data, 1460)
    }

    /// FIN from both sides and the last ACK.
    pub fn close(&mut self) -> &mut Self {
        let f = self.raw(true, self.cseq, FIN | ACK, &[]);
        self.frames.push(f);
        self.cseq = self.cseq.wrapping_add(1);
        let f = self.raw(false, self.sseq, FIN | ACK, &[]);
        self.frames.push(f);
        self.sseq = self.sseq.wrapping_add(1);
        let f = self.raw(true, self.cseq, ACK, &[]);
        self.frames.push(f);
        self
    }

    /// Take the frames built so far (the sequence state stays, so building can continue).
    pub fn take(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.frames)
    }
}

/// A JWT (HS256, fake signature) with the given claims JSON: for tests, benches and generators.
pub fn jwt(claims_json: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims_json.as_bytes());
    // The "signature" is 12 hex digits of SHA-256 of the claims: deterministic, and not a real MAC.
    let s = URL_SAFE_NO_PAD.encode(fingerprint(claims_json).as_bytes());
    format!("{h}.{p}.{s}")
}

/// 12 hex digits of SHA-256 (the same digest plainsight prints as a secret's fingerprint).
fn fingerprint(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_sequence_numbers_advance_by_payload_and_flags() {
        let mut c =
            Conversation::with_isn("10.0.0.1:1000".parse().unwrap(), "10.0.0.2:80".parse().unwrap(), u32::MAX - 2, 7);
        c.handshake().send(true, b"hello world", 4);
        // SYN consumes one sequence number and wraps past u32::MAX.
        assert_eq!(c.cseq, (u32::MAX - 2).wrapping_add(1 + 11));
        assert_eq!(c.frames.len(), 3 + 3);
        assert!(c.frames.windows(2).all(|w| w[0].ts < w[1].ts));
    }

    #[test]
    fn jwt_has_three_base64url_parts() {
        let t = jwt(r#"{"sub":"a"}"#);
        assert_eq!(t.split('.').count(), 3);
        assert!(t.starts_with("eyJ"));
    }
}
