//! Link layers: find where the IP packet starts and which version it is.

use super::{DecodeError, Decoded, LinkType, ip};

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
/// More stacked VLAN tags than any real network uses: a frame claiming more is garbage.
const MAX_VLAN_TAGS: usize = 8;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Decode one frame of the given link type. Never panics, never allocates.
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    match link.0 {
        1 => ethernet(frame),
        0 => null(frame, false),
        108 => null(frame, true),
        12 | 14 | 101 => raw(frame),
        228 => ip::ipv4(frame),
        229 => ip::ipv6(frame),
        113 => {
            // Linux cooked v1: 16-byte header, protocol (an ethertype) in the last two bytes.
            let proto = be16(frame, 14).ok_or(DecodeError::Truncated("linux sll"))?;
            by_ethertype(proto, frame.get(16..).unwrap_or_default())
        }
        276 => {
            // Linux cooked v2: 20-byte header, protocol first.
            let proto = be16(frame, 0).ok_or(DecodeError::Truncated("linux sll2"))?;
            if frame.len() < 20 {
                return Err(DecodeError::Truncated("linux sll2"));
            }
            by_ethertype(proto, frame.get(20..).unwrap_or_default())
        }
        n => Err(DecodeError::UnsupportedLink(n)),
    }
}

fn ethernet(frame: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if frame.len() < 14 {
        return Err(DecodeError::Truncated("ethernet"));
    }
    let mut ethertype = be16(frame, 12).ok_or(DecodeError::Truncated("ethernet"))?;
    let mut at = 14;
    let mut tags = 0;
    while matches!(ethertype, ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD) {
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Err(DecodeError::Malformed("vlan"));
        }
        ethertype = be16(frame, at + 2).ok_or(DecodeError::Truncated("vlan"))?;
        at += 4;
    }
    by_ethertype(ethertype, frame.get(at..).unwrap_or_default())
}

fn by_ethertype(ethertype: u16, rest: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    match ethertype {
        ETH_IPV4 => ip::ipv4(rest),
        ETH_IPV6 => ip::ipv6(rest),
        other => Ok(Decoded::NotIp(other)),
    }
}

/// BSD NULL (host byte order) and LOOP (network byte order): a 4-byte address family.
fn null(frame: &[u8], network_order: bool) -> Result<Decoded<'_>, DecodeError> {
    let b: [u8; 4] = frame.get(..4).and_then(|s| s.try_into().ok()).ok_or(DecodeError::Truncated("loopback"))?;
    let rest = frame.get(4..).unwrap_or_default();
    // NULL is written in the capturing host's byte order, which the file does not record: a family
    // is a small number, so whichever order gives one is the right one.
    let family = if network_order {
        u32::from_be_bytes(b)
    } else {
        let le = u32::from_le_bytes(b);
        if le <= 0xffff { le } else { u32::from_be_bytes(b) }
    };
    match family {
        2 => ip::ipv4(rest),
        10 | 24 | 28 | 30 => ip::ipv6(rest),
        other => Ok(Decoded::NotIp(other.min(0xffff) as u16)),
    }
}

fn raw(frame: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    match frame.first().map(|b| b >> 4) {
        Some(4) => ip::ipv4(frame),
        Some(6) => ip::ipv6(frame),
        Some(_) => Err(DecodeError::Malformed("raw ip version")),
        None => Err(DecodeError::Truncated("raw ip")),
    }
}
