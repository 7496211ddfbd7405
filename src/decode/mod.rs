//! Decode: link, IP and transport headers as zero-copy views over the captured frame.
//!
//! Every frame is hostile input. Nothing here allocates or copies: a decoded [`TcpSegment`] borrows its
//! payload from the capture buffer, and the reassembler decides whether it must keep a copy (only
//! out-of-order data is ever copied). A frame that cannot be decoded is a [`DecodeError`], which the
//! pipeline counts by reason and skips; it never stops the run.
//!
//! Two stateful helpers sit beside the views, both bounded and both called by the pipeline before
//! reassembly: [`defrag::Defragmenter`] rebuilds IP datagrams sent in fragments (the one place that
//! copies, since fragments are rare), and [`checksum::Policy`] decides which segments to believe when
//! their TCP/UDP checksum is bad.

pub mod checksum;
pub mod defrag;
mod ip;
mod link;

pub use link::decode;

use std::net::{IpAddr, SocketAddr};

/// A libpcap link-layer header type (DLT / LINKTYPE number as found in the file or on the interface).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW_DLT12: LinkType = LinkType(12);
    pub const RAW_DLT14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// TCP flags of one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// One TCP segment, borrowing its payload from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub payload: &'a [u8],
    /// The bytes the TCP checksum covers (header and payload), when it can be verified; `None` when it
    /// cannot (cut by the snap length, IPv4 total length 0 as with TSO, an IPv6 jumbogram, a routing
    /// header or source route that changes the pseudo-header's destination): unverifiable, never bad.
    pub checksum_span: Option<&'a [u8]>,
}

/// One UDP datagram, borrowing its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: &'a [u8],
    /// As [`TcpSegment::checksum_span`]; also `None` for a datagram sent without a checksum (0).
    pub checksum_span: Option<&'a [u8]>,
}

/// One IPv4 fragment, or one IPv6 packet with a Fragment extension header (not atomic), borrowing from
/// the frame: what [`defrag::Defragmenter`] needs to rebuild the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 identification (16 bits) or IPv6 fragment identification (32 bits).
    pub id: u32,
    /// IPv4 protocol, or the Next Header of the IPv6 Fragment header.
    pub proto: u8,
    /// Offset of `data` in the datagram's fragmentable part, in bytes.
    pub offset: usize,
    /// More fragments follow (MF).
    pub more: bool,
    /// What comes before the fragmentable part: the IPv4 header, or the IPv6 header and the extension
    /// headers before the Fragment header.
    pub header: &'a [u8],
    /// Where, in `header`, the Next Header byte that named the Fragment header is (IPv6; 9 for IPv4).
    pub next_header_at: usize,
    pub data: &'a [u8],
}

/// What a frame turned out to carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    /// An IPv4 or IPv6 fragment, for [`defrag::Defragmenter`].
    Fragment(Fragment<'a>),
    /// IP with another transport protocol (ICMP, ESP, ...).
    OtherIp(u8),
    /// Not IP at all (ARP, LLDP, ...), with its ethertype when known.
    NotIp(u16),
}

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported link type {0}")]
    UnsupportedLink(u32),
    #[error("truncated {0} header")]
    Truncated(&'static str),
    #[error("malformed {0} header")]
    Malformed(&'static str),
}

impl LinkType {
    /// libpcap's name for the link type (as `tcpdump -L` prints it), for messages about it.
    pub fn name(self) -> String {
        let known = match self.0 {
            0 => "NULL",
            1 => "EN10MB",
            12 | 14 | 101 => "RAW",
            105 => "IEEE802_11",
            108 => "LOOP",
            113 => "LINUX_SLL",
            127 => "IEEE802_11_RADIO",
            228 => "IPV4",
            229 => "IPV6",
            239 => "NFLOG",
            276 => "LINUX_SLL2",
            _ => "",
        };
        if !known.is_empty() {
            return known.to_string();
        }
        match pcap::Linktype(self.0 as i32).get_name() {
            Ok(n) => n,
            Err(_) => format!("DLT_{}", self.0),
        }
    }

    /// Whether [`decode`] understands this link type.
    pub fn is_supported(self) -> bool {
        matches!(self.0, 0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 276)
    }
}

#[cfg(test)]
mod tests;
