//! Community ID v1 (<https://github.com/corelight/community-id-spec>): the flow hash Zeek, Suricata,
//! Arkime and Elastic all write, so that an analyst pivots from a plainsight event to the same
//! connection in another tool's logs with one string comparison.
//!
//! A pure function of the transport protocol and the two endpoints: SHA-1 over the seed (2 bytes, big
//! endian), the two addresses and the protocol number with one byte of padding, then the two ports, the
//! endpoints ordered so that both directions of a flow hash alike (the smaller address first, or with
//! equal addresses the smaller port), base64 with its padding, prefixed with the version, `1:`.

use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The transport protocol of a flow, as the hash numbers it (IANA protocol numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    pub fn number(self) -> u8 {
        match self {
            Transport::Tcp => 6,
            Transport::Udp => 17,
        }
    }
    /// Suricata's spelling (`proto` in EVE).
    pub fn upper(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Udp => "UDP",
        }
    }
    /// ECS's spelling (`network.transport`).
    pub fn lower(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

fn octets(ip: IpAddr) -> ([u8; 16], usize) {
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => {
            b[..4].copy_from_slice(&v4.octets());
            (b, 4)
        }
        IpAddr::V6(v6) => {
            b.copy_from_slice(&v6.octets());
            (b, 16)
        }
    }
}

/// The Community ID v1 of a flow between `a` and `b` (either direction gives the same), with `seed`
/// (0 unless every tool of the site agreed on another).
///
/// Two endpoints of different address families cannot be one flow; they are hashed in the order given
/// (the spec does not define it, and the decoder never produces it).
pub fn community_id_v1(transport: Transport, a: SocketAddr, b: SocketAddr, seed: u16) -> String {
    let (ab, alen) = octets(a.ip());
    let (bb, blen) = octets(b.ip());
    let a_first = (&ab[..alen], a.port()) <= (&bb[..blen], b.port());
    let ((first, flen, fport), (second, slen, sport)) = if a_first {
        ((ab, alen, a.port()), (bb, blen, b.port()))
    } else {
        ((bb, blen, b.port()), (ab, alen, a.port()))
    };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(&first[..flen]);
    h.update(&second[..slen]);
    h.update([transport.number(), 0]);
    h.update(fport.to_be_bytes());
    h.update(sport.to_be_bytes());
    format!("1:{}", base64::engine::general_purpose::STANDARD.encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// The vectors published with the spec and its implementations (Zeek's `community_id_v1` tests,
    /// Tenzir's documentation), whatever the direction given.
    #[test]
    fn published_test_vectors() {
        let cases = [
            (Transport::Tcp, "1.2.3.4:1122", "5.6.7.8:3344", "1:wCb3OG7yAFWelaUydu0D+125CLM="),
            (Transport::Udp, "1.2.3.4:1122", "5.6.7.8:3344", "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="),
            (Transport::Tcp, "1.2.3.4:4584", "43.3.132.3:3483", "1:koNcqhFRD5kb254ZrLsdv630jCM="),
            (Transport::Tcp, "192.168.0.1:12345", "10.0.0.5:80", "1:JHvDxB6S6/K68OntUBf4DJZYvkM="),
        ];
        for (t, a, b, want) in cases {
            assert_eq!(community_id_v1(t, sa(a), sa(b), 0), want, "{a} -> {b}");
            assert_eq!(community_id_v1(t, sa(b), sa(a), 0), want, "{b} -> {a}");
        }
    }

    #[test]
    fn equal_addresses_are_ordered_by_port_and_the_seed_changes_the_hash() {
        let (a, b) = (sa("10.0.0.1:80"), sa("10.0.0.1:40000"));
        assert_eq!(community_id_v1(Transport::Tcp, a, b, 0), community_id_v1(Transport::Tcp, b, a, 0));
        assert_ne!(community_id_v1(Transport::Tcp, a, b, 0), community_id_v1(Transport::Tcp, a, b, 1));
    }
}
