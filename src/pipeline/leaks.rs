//! `read --write-leaks`: the packets of every connection that carried a leak, written to a capture file
//! an analyst opens in Wireshark. The alerts name the connections (every sighting's client and the
//! server); a second pass over the inputs copies their packets, in capture order.
//!
//! Matching is by address pair and port pair, both directions; IP fragments are matched by their
//! address pair alone (a fragment after the first has no ports), so a fragmented login is complete.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::alert::{Alert, AlertSink};
use crate::capture::writer::{PcapNgWriter, PcapWriter};
use crate::capture::{CaptureError, FileReader};
use crate::decode::{self, Decoded, LinkType};

/// Connections remembered; past this a leak's connection is not written (counted in
/// [`LeakConns::dropped`]): a flood of invented secrets must not grow this set without bound.
pub const MAX_LEAK_CONNS: usize = 65_536;

/// An alert sink that remembers the connections leaks crossed (client, server).
#[derive(Default)]
pub struct LeakConns {
    conns: HashSet<(SocketAddr, SocketAddr)>,
    hosts: HashSet<(IpAddr, IpAddr)>,
    /// Connections not remembered because the set was full.
    pub dropped: u64,
}

impl LeakConns {
    fn add(&mut self, client: SocketAddr, server: SocketAddr) {
        if self.conns.contains(&(client, server)) {
            return;
        }
        if self.conns.len() >= MAX_LEAK_CONNS {
            self.dropped += 1;
            return;
        }
        self.conns.insert((client, server));
        self.hosts.insert((client.ip(), server.ip()));
    }

    pub fn len(&self) -> usize {
        self.conns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    fn wants(&self, d: &Decoded<'_>) -> bool {
        let pair =
            |src: SocketAddr, dst: SocketAddr| self.conns.contains(&(src, dst)) || self.conns.contains(&(dst, src));
        match d {
            Decoded::Tcp(s) => pair(s.src, s.dst),
            Decoded::Udp(u) => pair(u.src, u.dst),
            Decoded::Fragment(f) => self.hosts.contains(&(f.src, f.dst)) || self.hosts.contains(&(f.dst, f.src)),
            _ => false,
        }
    }
}

impl AlertSink for LeakConns {
    fn on_new(&mut self, a: &Alert) {
        self.add(a.client, a.server);
        self.add(a.last_client, a.server);
    }
    fn on_repeat(&mut self, a: &Alert) {
        self.add(a.last_client, a.server);
    }
}

/// The output capture: pcap (one link type: packets of another are skipped and counted) or pcapng
/// (one interface per link type), chosen by the file name's extension.
pub enum LeakWriter<W: Write> {
    Pcap { w: Option<PcapWriter<BufWriter<W>>>, out: Option<W>, link: Option<LinkType> },
    Ng { w: PcapNgWriter<BufWriter<W>>, ifaces: Vec<(LinkType, u32)> },
}

/// What the second pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub packets: u64,
    /// Packets of another link type than the first, which a pcap file cannot hold (use .pcapng).
    pub other_link_skipped: u64,
}

impl<W: Write> LeakWriter<W> {
    /// A writer for `name` (`.pcapng` gives pcapng, anything else pcap).
    pub fn new(out: W, name: &Path) -> io::Result<LeakWriter<W>> {
        let ng = name.extension().is_some_and(|e| e.eq_ignore_ascii_case("pcapng"));
        Ok(if ng {
            LeakWriter::Ng { w: PcapNgWriter::new(BufWriter::new(out))?, ifaces: Vec::new() }
        } else {
            LeakWriter::Pcap { w: None, out: Some(out), link: None }
        })
    }

    fn write(&mut self, link: LinkType, ts: crate::time::Timestamp, data: &[u8], n: &mut Written) -> io::Result<()> {
        match self {
            LeakWriter::Pcap { w, out, link: l } => {
                if w.is_none() {
                    if let Some(o) = out.take() {
                        *w = Some(PcapWriter::new(BufWriter::new(o), link, 262_144)?);
                        *l = Some(link);
                    }
                }
                match (w.as_mut(), *l == Some(link)) {
                    (Some(w), true) => w.write_packet(ts, data)?,
                    _ => {
                        n.other_link_skipped += 1;
                        return Ok(());
                    }
                }
            }
            LeakWriter::Ng { w, ifaces } => {
                let id = match ifaces.iter().find(|(l, _)| *l == link) {
                    Some(&(_, id)) => id,
                    None => {
                        let id = w.add_interface(link)?;
                        ifaces.push((link, id));
                        id
                    }
                };
                w.write_packet(id, ts, data)?;
            }
        }
        n.packets += 1;
        Ok(())
    }

    /// Flush; a pcap file that received no packet still gets its header (Ethernet).
    pub fn finish(self) -> io::Result<()> {
        match self {
            LeakWriter::Pcap { w: Some(w), .. } => w.into_inner().flush(),
            LeakWriter::Pcap { w: None, out: Some(o), .. } => {
                PcapWriter::new(BufWriter::new(o), LinkType::ETHERNET, 262_144)?.into_inner().flush()
            }
            LeakWriter::Pcap { .. } => Ok(()),
            LeakWriter::Ng { w, .. } => w.into_inner().flush(),
        }
    }
}

/// Why the second pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum LeakWriteError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("cannot write the leak capture: {0}")]
    Write(#[from] io::Error),
}

/// Copy the packets of `conns` from `path` (read again, with the same filter) to `out`.
pub fn copy_packets<W: Write>(
    path: &Path,
    filter: Option<&str>,
    conns: &LeakConns,
    out: &mut LeakWriter<W>,
    written: &mut Written,
) -> Result<(), LeakWriteError> {
    if conns.is_empty() {
        return Ok(());
    }
    let mut reader = FileReader::open(path, filter)?;
    while let Some(pkt) = reader.next_packet()? {
        if decode::decode(pkt.link, pkt.data).is_ok_and(|d| conns.wants(&d)) {
            out.write(pkt.link, pkt.ts, pkt.data, written)?;
        }
    }
    Ok(())
}
