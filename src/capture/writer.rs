//! Capture file writers: legacy pcap and pcapng (several interfaces, each with its own link type).
//!
//! Used by tests across the project, the capture generators and benches. Little-endian, microsecond
//! timestamps: what tcpdump writes by default, readable by every tool.

use std::io::{self, Write};

use crate::decode::LinkType;
use crate::time::Timestamp;

/// The 24-byte header of a legacy pcap file (little-endian, microseconds).
pub fn pcap_header(link: LinkType, snaplen: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    // thiszone and sigfigs: 0.
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&link.0.to_le_bytes());
    h
}

/// The 16-byte header of one legacy pcap record of `len` bytes.
pub fn record_header(ts: Timestamp, len: usize) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&(ts.secs() as u32).to_le_bytes());
    h[4..8].copy_from_slice(&(ts.subsec_micros() as u32).to_le_bytes());
    h[8..12].copy_from_slice(&(len as u32).to_le_bytes());
    h[12..16].copy_from_slice(&(len as u32).to_le_bytes());
    h
}

/// Legacy pcap writer.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Write the file header for `link` with the given snap length.
    pub fn new(mut out: W, link: LinkType, snaplen: u32) -> io::Result<Self> {
        out.write_all(&pcap_header(link, snaplen))?;
        Ok(PcapWriter { out })
    }

    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        self.out.write_all(&record_header(ts, data.len()))?;
        self.out.write_all(data)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// pcapng writer: one section, interfaces added with [`PcapNgWriter::add_interface`].
pub struct PcapNgWriter<W: Write> {
    out: W,
    interfaces: u32,
}

impl<W: Write> PcapNgWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        // Section header block: magic, version 1.0, section length unknown (-1).
        let mut body = Vec::new();
        body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        write_block(&mut out, 0x0a0d_0d0a, &body)?;
        Ok(PcapNgWriter { out, interfaces: 0 })
    }

    /// Describe a new interface; returns its id for [`PcapNgWriter::write_packet`].
    pub fn add_interface(&mut self, link: LinkType) -> io::Result<u32> {
        let mut body = Vec::new();
        body.extend_from_slice(&(link.0 as u16).to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&262_144u32.to_le_bytes());
        write_block(&mut self.out, 1, &body)?;
        self.interfaces += 1;
        Ok(self.interfaces - 1)
    }

    /// An Enhanced Packet Block on interface `iface` (µs resolution, the default).
    pub fn write_packet(&mut self, iface: u32, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        let t = ts.0.max(0) as u64;
        let mut body = Vec::with_capacity(20 + data.len() + 3);
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(t as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        while body.len() % 4 != 0 {
            body.push(0);
        }
        write_block(&mut self.out, 6, &body)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn write_block<W: Write>(out: &mut W, btype: u32, body: &[u8]) -> io::Result<()> {
    let len = (12 + body.len()) as u32;
    out.write_all(&btype.to_le_bytes())?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&len.to_le_bytes())
}
