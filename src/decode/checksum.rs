//! TCP and UDP checksums over the IPv4/IPv6 pseudo-header, and the policy that says which segments to
//! believe.
//!
//! Why verify: a receiver silently drops a segment whose checksum is bad, but a passive sniffer that
//! keeps the first copy of each byte (as the reassembler does) would keep it. An attacker who sends a
//! decoy at the same sequence number as the real segment, with a broken checksum, first, makes the
//! sniffer read the decoy and discard the real data as a retransmission: the real password is never
//! seen. Dropping bad segments closes that.
//!
//! Why not simply drop every bad one: a capture taken on a sending host sees its outgoing segments
//! before the NIC fills the checksum in (offload), and captures are spoilt in other ways (edited,
//! anonymised, cut): a bad checksum on a segment the receiver did take is common, and dropping it loses
//! the credential it carried. So in `auto` (the default) a bad segment is neither believed nor dropped:
//! its bytes are *held* by the reassembler, not delivered (`reassembly::Admit::Held`), until either
//! - a copy with a good checksum comes: it replaces them (the bad one was a decoy the receiver
//!   dropped: `bad_checksum_conflicts` counts it when the contents differ), or
//! - the receiver acknowledges them: it took them, so the checksum was spoilt by the capture, and they
//!   are delivered (`bad_checksum_accepted_bytes`); so are they when the flow ends, or when more than
//!   `reassembly::MAX_HELD` bytes wait (a capture of one direction only).
//!
//! A held segment's flags and acknowledgement are not believed either (a decoy RST or FIN cannot end
//! the parsing of a connection, a decoy ACK cannot make the sniffer give up a hole). The trade-off
//! (THREAT_MODEL.md): an attacker who can also inject a *valid* acknowledgement, from the receiver's
//! address, for the decoy's bytes before the real segment is captured, still wins; that acknowledgement
//! reaches the real sender too. `--checksums verify` drops every bad segment (and then misses what a
//! host with offload sent); `--checksums off` accepts all (as before checksums were verified).
//!
//! Segments whose checksum cannot be verified (see [`super::TcpSegment::checksum_span`]) are
//! "unverifiable", never "bad", and are accepted in every mode.
//!
//! Cost: the sum adds 8 bytes per instruction (an add-with-carry chain over 64-bit words), the one
//! pass over a payload's bytes that the in-order path makes, and only over bytes some parser reads (the
//! reassembler does not ask for segments that fall where the parser skips unread). No state per
//! source, no allocation.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

/// What `--checksums` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Hold bad segments until the receiver's word (see the module docs).
    #[default]
    Auto,
    /// Drop every segment with a bad checksum.
    Verify,
    /// Verify nothing, accept everything.
    Off,
}

/// What to do with one segment or datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Good, unverifiable, or not verified: use it.
    Accept,
    /// Bad, in `auto`: hold its bytes until the receiver's acknowledgement or a good copy decides.
    Hold,
    /// Bad, in `verify`: drop it.
    Drop,
}

/// Counters of checksum verification (`--stats`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Segments and datagrams whose checksum was verified and good.
    pub good: u64,
    /// ... and bad.
    pub bad: u64,
    /// Could not be verified (cut by the snap length, TSO, jumbogram, source route, UDP without one).
    pub unverifiable: u64,
    /// Bad ones dropped (`--checksums verify`).
    pub bad_checksum_dropped: u64,
    /// Bad UDP datagrams accepted in `auto` (SNMP: no acknowledgement to wait for; a decoy community
    /// can only add a false alert, never hide a real one).
    pub bad_udp_accepted: u64,
    /// Segments not verified because every byte of them falls where the parser skips unread (the rest
    /// of a media body of known length, TLS, a stream of no protocol of ours): a decoy there cannot
    /// change what is reported.
    pub unread_not_verified: u64,
}

impl Stats {
    pub fn merge(&mut self, o: &Stats) {
        self.good += o.good;
        self.bad += o.bad;
        self.unverifiable += o.unverifiable;
        self.bad_checksum_dropped += o.bad_checksum_dropped;
        self.bad_udp_accepted += o.bad_udp_accepted;
        self.unread_not_verified += o.unread_not_verified;
    }
}

/// The checksum policy of one analysis engine: the mode and the counters (no state per source).
pub struct Policy {
    mode: Mode,
    stats: Stats,
}

impl Policy {
    pub fn new(mode: Mode) -> Policy {
        Policy { mode, stats: Stats::default() }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A segment accepted without verification because nobody reads it.
    #[inline]
    pub fn unread(&mut self) {
        self.stats.unread_not_verified += 1;
    }

    /// What to do with a TCP segment from `src` to `dst` whose checksum covers `span` (`None`:
    /// unverifiable).
    #[inline(always)]
    pub fn tcp(&mut self, src: SocketAddr, dst: SocketAddr, span: Option<&[u8]>) -> Verdict {
        match self.good(src, dst, 6, span) {
            true => Verdict::Accept,
            false if self.mode == Mode::Verify => {
                self.stats.bad_checksum_dropped += 1;
                Verdict::Drop
            }
            false => Verdict::Hold,
        }
    }

    /// Whether to take a UDP datagram (see [`Stats::bad_udp_accepted`]).
    #[inline(always)]
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, span: Option<&[u8]>) -> bool {
        if self.good(src, dst, 17, span) {
            return true;
        }
        if self.mode == Mode::Verify {
            self.stats.bad_checksum_dropped += 1;
            return false;
        }
        self.stats.bad_udp_accepted += 1;
        true
    }

    /// Whether the checksum is good, or not to be verified (counted).
    #[inline(always)]
    fn good(&mut self, src: SocketAddr, dst: SocketAddr, proto: u8, span: Option<&[u8]>) -> bool {
        if self.mode == Mode::Off {
            return true;
        }
        let Some(span) = span else {
            self.stats.unverifiable += 1;
            return true;
        };
        let addrs = match (src, dst) {
            (SocketAddr::V4(s), SocketAddr::V4(d)) => ne32(s.ip().octets()) + ne32(d.ip().octets()),
            (SocketAddr::V6(s), SocketAddr::V6(d)) => pseudo_v6(&s.ip().octets(), &d.ip().octets()),
            // One segment cannot have two families: nothing to verify against.
            _ => {
                self.stats.unverifiable += 1;
                return true;
            }
        };
        if check(addrs, proto, span) {
            self.stats.good += 1;
            true
        } else {
            self.stats.bad += 1;
            false
        }
    }
}

/// Whether the checksum of a TCP or UDP `segment` (header with its checksum field, and payload) from
/// `src` to `dst` is right.
pub fn verify(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> bool {
    let addrs = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ne32(s.octets()) + ne32(d.octets()),
        (IpAddr::V6(s), IpAddr::V6(d)) => pseudo_v6(&s.octets(), &d.octets()),
        _ => return false,
    };
    check(addrs, proto, segment)
}

/// The checksum test given the pseudo-header's addresses already summed.
///
/// The one's complement sum does not depend on the byte order its words are read in, as long as it is
/// one order throughout: the pseudo-header is added as native-order 32-bit words of its bytes as sent
/// (addresses, then zero, protocol and length). Folded to 16 bits the total must be 0xffff: the 64-bit
/// sum (carries wrapped around) is then a non-zero multiple of 0xffff, since 2^64 - 1 is one.
#[inline(always)]
fn check(addrs: u64, proto: u8, segment: &[u8]) -> bool {
    let len = segment.len() as u32;
    let pseudo = addrs + ne32([0, 0, 0, proto]) + ne32(len.to_be_bytes());
    add(sum(segment), pseudo) % 0xffff == 0
}

#[inline(always)]
fn ne32(b: [u8; 4]) -> u64 {
    u64::from(u32::from_ne_bytes(b))
}

fn pseudo_v6(s: &[u8; 16], d: &[u8; 16]) -> u64 {
    let mut t = 0;
    for a in [s, d] {
        for w in a.chunks_exact(4) {
            t += ne32([w[0], w[1], w[2], w[3]]);
        }
    }
    t
}

/// `u64::carrying_add` (stable only since Rust 1.91), in the form LLVM turns into one `adc`.
#[inline(always)]
fn carrying_add(a: u64, b: u64, carry: bool) -> (u64, bool) {
    let (s, c1) = a.overflowing_add(b);
    let (s, c2) = s.overflowing_add(u64::from(carry));
    (s, c1 | c2)
}

fn add(a: u64, b: u64) -> u64 {
    let (s, c) = a.overflowing_add(b);
    s + u64::from(c)
}

/// The IPv4 header checksum of `header` (whose checksum field is zero), as its two bytes.
pub(super) fn header_checksum(header: &[u8]) -> [u8; 2] {
    (!fold16(sum(header))).to_ne_bytes()
}

/// Fold a 64-bit one's complement accumulator to 16 bits.
fn fold16(mut v: u64) -> u16 {
    v = (v & 0xffff_ffff) + (v >> 32);
    v = (v & 0xffff_ffff) + (v >> 32);
    v = (v & 0xffff) + (v >> 16);
    v = (v & 0xffff) + (v >> 16);
    v = (v & 0xffff) + (v >> 16);
    v as u16
}

/// One's complement sum of `data` in native-order 16-bit words (RFC 1071), not folded: 64-bit words
/// added with carry, 32 at a time, which compiles to a chain of `adc` with memory operands on
/// x86-64 (one instruction per 8 bytes, the least a baseline x86-64 can do: SSE2 needs four per 16).
#[inline(always)]
pub fn sum(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut blocks = data.chunks_exact(256);
    for b in &mut blocks {
        acc = chain(acc, b);
    }
    // The rest (under 256 bytes) in halving steps, each one straight chain: no loop per word.
    let mut rest = blocks.remainder();
    if let Some((h, t)) = rest.split_at_checked(128) {
        (acc, rest) = (chain(acc, h), t);
    }
    if let Some((h, t)) = rest.split_at_checked(64) {
        (acc, rest) = (chain(acc, h), t);
    }
    if let Some((h, t)) = rest.split_at_checked(32) {
        (acc, rest) = (chain(acc, h), t);
    }
    if let Some((h, t)) = rest.split_at_checked(16) {
        (acc, rest) = (chain(acc, h), t);
    }
    if let Some((h, t)) = rest.split_at_checked(8) {
        (acc, rest) = (chain(acc, h), t);
    }
    // The last 0 to 7 bytes, as 16-bit words (an odd last byte padded with zero), without a copy.
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc = add(acc, u64::from(u16::from_ne_bytes([p[0], p[1]])));
    }
    if let Some(&b) = pairs.remainder().first() {
        acc = add(acc, u64::from(u16::from_ne_bytes([b, 0])));
    }
    acc
}

/// `acc` plus the 64-bit words of `b` (a multiple of 8 bytes long), carries wrapped around.
#[inline(always)]
fn chain(acc: u64, b: &[u8]) -> u64 {
    let mut c = false;
    let mut s = acc;
    for w in b.chunks_exact(8) {
        let word = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        (s, c) = carrying_add(s, word, c);
    }
    s + u64::from(c)
}
