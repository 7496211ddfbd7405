//! IPv4, IPv6 (with extension headers) and the TCP/UDP headers on top.
//!
//! Checksums are not verified: captures taken on the sending host carry checksums the NIC fills in
//! later (offload), so a "bad" checksum is normal in a pcap and says nothing about the data.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{DecodeError, Decoded, TcpFlags, TcpSegment, UdpDatagram};

const TCP: u8 = 6;
const UDP: u8 = 17;
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
    let frag = u16::from_be_bytes([p[6], p[7]]);
    let more_fragments = frag & 0x2000 != 0;
    let offset = frag & 0x1fff;
    if more_fragments || offset != 0 {
        return Ok(Decoded::Fragment);
    }
    let proto = p[9];
    let src = IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]));
    transport(proto, src, dst, &p[ihl..end])
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
    let mut next = p[6];
    let src = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).map_err(|_| DecodeError::Truncated("ipv6"))?));
    let dst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).map_err(|_| DecodeError::Truncated("ipv6"))?));
    let mut at = 40;
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            // Hop-by-hop, routing, destination options, mobility: length in 8-octet units, not counting the first 8.
            0 | 43 | 60 | 135 => {
                let h = p.get(at..at + 2).ok_or(DecodeError::Truncated("ipv6 extension header"))?;
                next = h[0];
                at += (usize::from(h[1]) + 1) * 8;
            }
            // Fragment header: 8 bytes. Only an atomic fragment (offset 0, no more fragments) carries a
            // whole transport segment.
            44 => {
                let h = p.get(at..at + 8).ok_or(DecodeError::Truncated("ipv6 fragment header"))?;
                let off_m = u16::from_be_bytes([h[2], h[3]]);
                if off_m & 0xfff8 != 0 || off_m & 1 != 0 {
                    return Ok(Decoded::Fragment);
                }
                next = h[0];
                at += 8;
            }
            // Authentication header: length in 4-octet units, not counting the first 2 units.
            51 => {
                let h = p.get(at..at + 2).ok_or(DecodeError::Truncated("ipv6 authentication header"))?;
                next = h[0];
                at += (usize::from(h[1]) + 2) * 4;
            }
            _ => {
                if at > end {
                    return Err(DecodeError::Truncated("ipv6 extension header"));
                }
                return transport(next, src, dst, p.get(at..end).unwrap_or_default());
            }
        }
    }
    Err(DecodeError::Malformed("ipv6 extension header chain"))
}

fn transport(proto: u8, src: IpAddr, dst: IpAddr, p: &[u8]) -> Result<Decoded<'_>, DecodeError> {
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
            }))
        }
        UDP => {
            if p.len() < 8 {
                return Err(DecodeError::Truncated("udp"));
            }
            let len = usize::from(u16::from_be_bytes([p[4], p[5]]));
            let end = if len >= 8 { len.min(p.len()) } else { p.len() };
            Ok(Decoded::Udp(UdpDatagram {
                src: SocketAddr::new(src, u16::from_be_bytes([p[0], p[1]])),
                dst: SocketAddr::new(dst, u16::from_be_bytes([p[2], p[3]])),
                payload: p.get(8..end).unwrap_or_default(),
            }))
        }
        // ESP (50), No Next Header (59), ICMP, ...: nothing we read.
        other => Ok(Decoded::OtherIp(other)),
    }
}
