//! TCP and UDP checksums over the IPv4/IPv6 pseudo-header, and the policy that says which segments to
//! believe.
//!
//! Why verify: a receiver silently drops a segment whose checksum is bad, but a passive sniffer that
//! keeps the first copy of each byte (as the reassembler does) would keep it. An attacker who sends a
//! decoy at the same sequence number as the real segment, with a broken checksum, first, makes the
//! sniffer read the decoy and discard the real data as a retransmission: the real password is never
//! seen. Dropping bad segments closes that.
//!
//! Why not simply drop every bad one: a capture taken on the sending host sees its outgoing segments
//! before the NIC fills the checksum in (offload), so everything that host sent looks bad. The policy
//! is Suricata's `checksum-validation: auto`, made per source: [`Policy`] keeps a bounded table of
//! source addresses and their verdict.
//!
//! - a source seen once with a valid checksum is *verifying*: its bad segments are dropped
//!   (`bad_checksum_dropped`). A bare ACK or RST does not count as that evidence: Linux checksums those
//!   in software even where the NIC does the rest;
//! - a source whose first [`OFFLOAD_AFTER`] checksummed segments were all bad, none good, is
//!   *offloaded*: its segments are accepted (`checksum_offloaded`) and a warning is raised once per
//!   run; a valid checksum seen later from it makes it *verifying* (a real offloading host never sends
//!   one, so that source was being spoofed);
//! - segments of a source still undecided are accepted.
//!
//! The trade-off (THREAT_MODEL.md): in `auto` mode a decoy from a source never seen with a good
//! checksum (the attacker speaks first, or floods the table until the victim's source is forgotten,
//! `checksum_sources_forgotten`) is still accepted. `--checksums verify` drops every bad segment (and
//! then misses everything a host with offload sent); `--checksums off` accepts all (as before).
//!
//! Segments whose checksum cannot be verified (see [`super::TcpSegment::checksum_span`]) are
//! "unverifiable", never "bad", and are accepted in every mode.
//!
//! Cost: the sum adds 8 bytes per instruction (an add-with-carry chain over 64-bit words), the one
//! pass over every payload byte that the in-order path makes; the source table is a fixed array of
//! 4-way buckets (one keyed hash and at most four compares per segment, no allocation after the
//! first segment).

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

/// What `--checksums` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Per-source: drop bad segments of sources known to send good ones (see the module docs).
    #[default]
    Auto,
    /// Drop every segment with a bad checksum.
    Verify,
    /// Verify nothing, accept everything.
    Off,
}

/// Checksummed segments of a source that must all be bad, with none good, before it is taken for a
/// host whose NIC computes checksums after capture. Few enough that a host with offload loses nothing
/// (its segments are accepted while undecided), enough that a few corrupt packets do not flip a source.
pub const OFFLOAD_AFTER: u8 = 8;

/// Source addresses remembered. 4,096 is more hosts than a sensor's capture usually holds talking at
/// once; past it the oldest of a bucket is forgotten (it goes back to undecided), counted.
pub const MAX_SOURCES: usize = 4096;
const WAYS: usize = 4;
const BUCKETS: usize = MAX_SOURCES / WAYS;

/// Counters of checksum verification (`--stats`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Segments and datagrams whose checksum was verified and good.
    pub good: u64,
    /// ... and bad.
    pub bad: u64,
    /// Could not be verified (cut by the snap length, TSO, jumbogram, source route, UDP without one).
    pub unverifiable: u64,
    /// Bad ones dropped before reassembly (a verifying source, or `--checksums verify`).
    pub bad_checksum_dropped: u64,
    /// Bad ones accepted because their source is offloaded.
    pub checksum_offloaded: u64,
    /// Sources taken for hosts with checksum offload.
    pub offloaded_sources: u64,
    /// Sources forgotten because the table was full (they went back to undecided).
    pub sources_forgotten: u64,
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
        self.checksum_offloaded += o.checksum_offloaded;
        self.offloaded_sources += o.offloaded_sources;
        self.sources_forgotten += o.sources_forgotten;
        self.unread_not_verified += o.unread_not_verified;
    }
}

/// What a source is known to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Seen {
    /// Only bad checksums so far (this many).
    #[default]
    Undecided,
    Verifying,
    Offloaded,
}

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    addr: u128,
    /// 0: empty. Otherwise when the slot was filled (to forget the oldest of a bucket).
    born: u64,
    seen: Seen,
    bad: u8,
}

/// The per-source checksum policy. One per analysis engine; time-free (nothing here expires: the table
/// is bounded by count).
pub struct Policy {
    mode: Mode,
    slots: Vec<Slot>,
    births: u64,
    /// The last two sources marked verifying (0: none; cleared when any source is forgotten).
    recent: [u128; 2],
    key: (u64, u64),
    warned: bool,
    stats: Stats,
}

impl Policy {
    pub fn new(mode: Mode) -> Policy {
        // A key per run for the bucket hash: source addresses are chosen by whoever sends packets, and
        // must not be able to aim at one bucket (that would only evict, never cost time, but still).
        use std::hash::{BuildHasher, Hasher};
        let rs = std::collections::hash_map::RandomState::new();
        let mut h = rs.build_hasher();
        h.write_u64(0x9e37_79b9_7f4a_7c15);
        let k1 = h.finish();
        h.write_u64(k1);
        let k2 = h.finish();
        Policy {
            mode,
            slots: Vec::new(),
            births: 0,
            recent: [0; 2],
            key: (k1 | 1, k2),
            warned: false,
            stats: Stats::default(),
        }
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

    /// Whether to accept a TCP segment (`proto` 6) or UDP datagram (17) from `src` to `dst` whose
    /// checksum covers `span` (`None`: unverifiable). The first time a source is taken for offloaded, a
    /// warning is pushed to `warnings` (once per run).
    #[inline(always)]
    pub fn admit(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        proto: u8,
        span: Option<&[u8]>,
        warnings: &mut Vec<String>,
    ) -> bool {
        if self.mode == Mode::Off {
            return true;
        }
        let Some(span) = span else {
            self.stats.unverifiable += 1;
            return true;
        };
        // The pseudo-header's addresses and the source's table key, straight from the socket addresses.
        let (addrs, key) = match (src, dst) {
            (SocketAddr::V4(s), SocketAddr::V4(d)) => {
                let (s, d) = (s.ip().octets(), d.ip().octets());
                (ne32(s) + ne32(d), (0xffff_u128 << 32) | u128::from(u32::from_be_bytes(s)))
            }
            (SocketAddr::V6(s), SocketAddr::V6(d)) => {
                (pseudo_v6(&s.ip().octets(), &d.ip().octets()), u128::from_be_bytes(s.ip().octets()))
            }
            // One segment cannot have two families: nothing to verify against.
            _ => {
                self.stats.unverifiable += 1;
                return true;
            }
        };
        if check(addrs, proto, span) {
            self.stats.good += 1;
            // Sources just marked verifying stay so until forgotten: skip the table for them
            // (consecutive segments often come from one source, a response in several segments).
            if self.mode == Mode::Auto && key != self.recent[0] && key != self.recent[1] && evidence(proto, span) {
                self.slot(key).seen = Seen::Verifying;
                self.recent = [key, self.recent[0]];
            }
            return true;
        }
        self.bad(src.ip(), warnings)
    }

    /// A bad checksum from `src`: the verdict, and what it teaches about the source.
    #[cold]
    fn bad(&mut self, src: IpAddr, warnings: &mut Vec<String>) -> bool {
        self.stats.bad += 1;
        if self.mode == Mode::Verify {
            self.stats.bad_checksum_dropped += 1;
            return false;
        }
        let slot = self.slot(addr_key(src));
        match slot.seen {
            Seen::Verifying => {
                self.stats.bad_checksum_dropped += 1;
                false
            }
            Seen::Offloaded => {
                self.stats.checksum_offloaded += 1;
                true
            }
            Seen::Undecided => {
                slot.bad = slot.bad.saturating_add(1);
                if slot.bad >= OFFLOAD_AFTER {
                    slot.seen = Seen::Offloaded;
                    self.stats.offloaded_sources += 1;
                    self.stats.checksum_offloaded += 1;
                    if !self.warned {
                        self.warned = true;
                        warnings.push(format!(
                            "every TCP/UDP checksum from {src} is bad (checksum offload on the capturing host?): \
                             its packets are accepted unverified (--checksums verify drops them)"
                        ));
                    }
                }
                true
            }
        }
    }

    /// The table slot of `src`, filled (undecided) if it was not there, forgetting the oldest of its
    /// bucket when the bucket is full.
    fn slot(&mut self, addr: u128) -> &mut Slot {
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); BUCKETS * WAYS];
        }
        let h = ((addr as u64) ^ ((addr >> 64) as u64) ^ self.key.1).wrapping_mul(self.key.0);
        let b = (h >> 54) as usize % BUCKETS * WAYS;
        if let Some(i) = self.slots[b..b + WAYS].iter().position(|s| s.addr == addr && s.born != 0) {
            return &mut self.slots[b + i];
        }
        // Not there: take an empty way, or forget the oldest.
        let bucket = &self.slots[b..b + WAYS];
        let mut pick = 0;
        for (i, s) in bucket.iter().enumerate() {
            if s.born < bucket[pick].born {
                pick = i;
            }
        }
        if bucket[pick].born != 0 {
            self.stats.sources_forgotten += 1;
            self.recent = [0; 2];
        }
        self.births += 1;
        let s = &mut self.slots[b + pick];
        *s = Slot { addr, born: self.births, seen: Seen::Undecided, bad: 0 };
        s
    }
}

/// Whether a good checksum on this segment shows that its source does not offload checksums. Not a
/// bare ACK or RST: Linux computes those in software (replies from TIME_WAIT, resets) even on a host
/// whose every other segment leaves the checksum to the NIC, so one refused connection on a loopback
/// capture would otherwise make the host "verifying" and drop all its data.
fn evidence(proto: u8, span: &[u8]) -> bool {
    if proto != 6 {
        return true;
    }
    let data_offset = usize::from(span.get(12).map_or(0, |b| b >> 4)) * 4;
    let syn_or_fin = span.get(13).is_some_and(|f| f & 0x03 != 0);
    span.len() > data_offset || syn_or_fin
}

/// A source address as a table key: IPv4 as IPv4-mapped IPv6, so the two families never collide.
fn addr_key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => (0xffff_u128 << 32) | u128::from(a.to_bits()),
        IpAddr::V6(a) => a.to_bits(),
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
