//! IPv4, IPv6 (with extension headers) and the TCP/UDP headers on top.
//!
//! Checksums are not judged here: a segment carries the bytes its checksum covers
//! ([`TcpSegment::checksum_span`]) when they were captured whole, and [`super::checksum::Policy`]
//! decides what a bad one means (captures taken on the sending host carry checksums the NIC fills in
//! later, so "bad" is normal there). Fragments are returned as [`Fragment`] views for
//! [`super::defrag::Defragmenter`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{DecodeError, Decoded, Fragment, TcpFlags, TcpSegment, UdpDatagram};

pub(super) const TCP: u8 = 6;
pub(super) const UDP: u8 = 17;
/// IPv6 Fragment extension header.
pub(super) const IPV6_FRAGMENT: u8 = 44;
const IPV6_ROUTING: u8 = 43;
/// Extension headers walked before a transport header; more is garbage (or an attack on parsers).
const MAX_EXT_HEADERS: usize = 16;

pub fn ipv4(p: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if p.len() < 20 {
        return Err(DecodeError::Truncated("ipv4"));
    }
    let vihl = p[0];
    if vihl >> 4 != 4 {
        return Err(DecodeError::Malformed("ipv4 version"));
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < 20 {
        return Err(DecodeError::Malformed("ipv4 header length"));
    }
    if p.len() < ihl {
        return Err(DecodeError::Truncated("ipv4"));
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    // Ethernet pads short frames: trust the IP total length, but never past what was captured
    // (the snap length may have cut the packet). A total length of 0 is TSO on the sending host:
    // the real length is whatever was captured.
    let end = if total == 0 { p.len() } else { total.min(p.len()) };
    if end < ihl {
        return Err(DecodeError::Malformed("ipv4 total length"));
    }
    let proto = p[9];
    let src = IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]));
    let frag = u16::from_be_bytes([p[6], p[7]]);
    let more = frag & 0x2000 != 0;
    let offset = usize::from(frag & 0x1fff) * 8;
    if more || offset != 0 {
        return ipv4_fragment(p, ihl, total, offset, more);
    }
    // The checksum can be verified only over the whole segment, and only against the pseudo-header's
    // real destination (a source route names another).
    let verifiable = total != 0 && total <= p.len() && (ihl == 20 || !source_routed(&p[20..ihl]));
    transport(proto, src, dst, &p[ihl..end], verifiable)
}

/// An IPv4 fragment (kept out of line: the path of whole packets stays short).
#[cold]
#[inline(never)]
fn ipv4_fragment(p: &[u8], ihl: usize, total: usize, offset: usize, more: bool) -> Result<Decoded<'_>, DecodeError> {
    // A fragment cut by the snap length (or of unknown length) cannot be put back together.
    if total == 0 {
        return Err(DecodeError::Malformed("ipv4 fragment length"));
    }
    if total > p.len() || p.len() < ihl.max(20) {
        return Err(DecodeError::Truncated("ipv4 fragment"));
    }
    Ok(Decoded::Fragment(Fragment {
        src: IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15])),
        dst: IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19])),
        id: u32::from(u16::from_be_bytes([p[4], p[5]])),
        proto: p[9],
        offset,
        more,
        header: &p[..ihl],
        next_header_at: 9,
        data: &p[ihl..total],
    }))
}

/// Whether IPv4 options carry a loose or strict source route (the checksum's destination is then the
/// route's last hop, not the header's).
fn source_routed(mut opts: &[u8]) -> bool {
    while let Some(&kind) = opts.first() {
        match kind {
            0 => return false,
            1 => opts = &opts[1..],
            0x83 | 0x89 => return true,
            _ => {
                let len = usize::from(opts.get(1).copied().unwrap_or(0));
                if len < 2 {
                    return false;
                }
                opts = opts.get(len..).unwrap_or_default();
            }
        }
    }
    false
}

pub fn ipv6(p: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if p.len() < 40 {
        return Err(DecodeError::Truncated("ipv6"));
    }
    if p[0] >> 4 != 6 {
        return Err(DecodeError::Malformed("ipv6 version"));
    }
    let payload_len = usize::from(u16::from_be_bytes([p[4], p[5]]));
    // Payload length 0 is a jumbogram (or TSO): use what was captured.
    let end = if payload_len == 0 { p.len() } else { (40 + payload_len).min(p.len()) };
    let mut verifiable = payload_len != 0 && 40 + payload_len <= p.len();
    let mut next = p[6];
    // Where the Next Header byte naming the current header is.
    let mut next_at = 6;
    let src = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).map_err(|_| DecodeError::Truncated("ipv6"))?));
    let dst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).map_err(|_| DecodeError::Truncated("ipv6"))?));
    let mut at = 40;
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            // Hop-by-hop, routing, destination options, mobility: length in 8-octet units, not counting the first 8.
            0 | 43 | 60 | 135 => {
                let h = p.get(at..at + 2).ok_or(DecodeError::Truncated("ipv6 extension header"))?;
                if next == IPV6_ROUTING {
                    // The checksum's destination is the route's last address.
                    verifiable = false;
                }
                next = h[0];
                next_at = at;
                at += (usize::from(h[1]) + 1) * 8;
            }
            // Fragment header: 8 bytes. An atomic fragment (offset 0, no more fragments) carries a
            // whole transport segment; any other is a piece for the defragmenter.
            IPV6_FRAGMENT => {
                let h = p.get(at..at + 8).ok_or(DecodeError::Truncated("ipv6 fragment header"))?;
                let off_m = u16::from_be_bytes([h[2], h[3]]);
                if off_m & 0xfff8 != 0 || off_m & 1 != 0 {
                    if payload_len == 0 {
                        return Err(DecodeError::Malformed("ipv6 fragment length"));
                    }
                    if 40 + payload_len > p.len() {
                        return Err(DecodeError::Truncated("ipv6 fragment"));
                    }
                    return Ok(Decoded::Fragment(Fragment {
                        src,
                        dst,
                        id: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                        proto: h[0],
                        offset: usize::from(off_m & 0xfff8),
                        more: off_m & 1 != 0,
                        header: &p[..at],
                        next_header_at: next_at,
                        data: p.get(at + 8..end).unwrap_or_default(),
                    }));
                }
                next = h[0];
                next_at = at;
                at += 8;
            }
            // Authentication header: length in 4-octet units, not counting the first 2 units.
            51 => {
                let h = p.get(at..at + 2).ok_or(DecodeError::Truncated("ipv6 authentication header"))?;
                next = h[0];
                next_at = at;
                at += (usize::from(h[1]) + 2) * 4;
            }
            _ => {
                if at > end {
                    return Err(DecodeError::Truncated("ipv6 extension header"));
                }
                return transport(next, src, dst, p.get(at..end).unwrap_or_default(), verifiable);
            }
        }
    }
    Err(DecodeError::Malformed("ipv6 extension header chain"))
}

#[inline(always)]
fn transport(proto: u8, src: IpAddr, dst: IpAddr, p: &[u8], verifiable: bool) -> Result<Decoded<'_>, DecodeError> {
    match proto {
        TCP => {
            if p.len() < 20 {
                return Err(DecodeError::Truncated("tcp"));
            }
            let off = usize::from(p[12] >> 4) * 4;
            if off < 20 {
                return Err(DecodeError::Malformed("tcp data offset"));
            }
            let payload = p.get(off..).ok_or(DecodeError::Truncated("tcp options"))?;
            Ok(Decoded::Tcp(TcpSegment {
                src: SocketAddr::new(src, u16::from_be_bytes([p[0], p[1]])),
                dst: SocketAddr::new(dst, u16::from_be_bytes([p[2], p[3]])),
                seq: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
                ack: u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
                flags: TcpFlags(p[13]),
                window: u16::from_be_bytes([p[14], p[15]]),
                payload,
                checksum_span: if verifiable { Some(p) } else { None },
            }))
        }
        UDP => {
            if p.len() < 8 {
                return Err(DecodeError::Truncated("udp"));
            }
            let len = usize::from(u16::from_be_bytes([p[4], p[5]]));
            let end = if len >= 8 { len.min(p.len()) } else { p.len() };
            // Checksum 0: sent without one (IPv4; IPv6 tunnels, RFC 6935).
            let has_checksum = p[6] != 0 || p[7] != 0;
            let whole = len >= 8 && len <= p.len();
            Ok(Decoded::Udp(UdpDatagram {
                src: SocketAddr::new(src, u16::from_be_bytes([p[0], p[1]])),
                dst: SocketAddr::new(dst, u16::from_be_bytes([p[2], p[3]])),
                payload: p.get(8..end).unwrap_or_default(),
                checksum_span: if verifiable && has_checksum && whole { p.get(..len) } else { None },
            }))
        }
        // ESP (50), No Next Header (59), ICMP, ...: nothing we read.
        other => Ok(Decoded::OtherIp(other)),
    }
}
