//! Capture files: legacy pcap (both byte orders, µs and ns) and pcapng (sections, several interfaces
//! with their own link types and timestamp resolutions; EPB, SPB and the obsolete Packet Block), read
//! record by record from a fixed buffer so memory stays flat whatever the file size.
//!
//! Why our own reader rather than libpcap's: libpcap refuses a pcapng whose interfaces have different
//! link types, and reports damage without saying where. Here every record's byte offset is known, so a
//! truncated or corrupt file is reported as "truncated at byte N (after K packets)", and the packets
//! before the damage have already been analysed. The BPF filter is still libpcap's, compiled once per
//! link type (`pcap::Capture::dead`), so `-f` means exactly what it means to tcpdump.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CaptureError, PacketRef};
use crate::decode::LinkType;
use crate::time::Timestamp;

/// Initial read buffer. Records larger than this grow it, up to [`MAX_RECORD`]. 256 KiB: a refill
/// every few hundred packets costs nothing measurable, and the buffer is resident for the whole run
/// (1 MiB was 0.7 MB of the peak RSS on the bench capture).
const BUF_SIZE: usize = 1 << 18;
/// Largest record accepted. libpcap's own limit for a packet is 256 KiB; pcapng blocks carry options
/// too. A length field beyond this is garbage, not a reason to allocate gigabytes.
const MAX_RECORD: usize = 16 << 20;

#[derive(Clone, Copy, Debug)]
struct Iface {
    link: LinkType,
    /// Timestamp units per second (10^6 for µs, 10^9 for ns, 2^k ...).
    units_per_sec: u64,
}

#[derive(Debug)]
enum Format {
    /// `hdr` is the record header size: 16, or 24 in Kuznetsov's modified format (ifindex, protocol, type).
    Legacy {
        be: bool,
        nanos: bool,
        link: LinkType,
        hdr: usize,
    },
    Ng {
        be: bool,
        ifaces: Vec<Iface>,
    },
}

/// Counts the bytes read through it (the compressed bytes of a compressed capture, for progress).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

type Opened = (Box<dyn Read + Send>, Option<Arc<AtomicU64>>, PathBuf);

/// `raw` as a capture stream: decompressed when it starts with gzip's or zstd's magic (as tcpdump's
/// rotated files and archived captures often are). The first bytes are read once and chained back in
/// front, so an uncompressed file costs nothing more. For a compressed file, offsets in errors are
/// offsets in the decompressed stream: the name shown says so.
fn decompressing(mut raw: Box<dyn Read + Send>, path: &Path) -> Result<Opened, CaptureError> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match raw.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(CaptureError::Read { path: path.to_path_buf(), offset: got as u64, source }),
        }
    }
    let head = io::Cursor::new(magic[..got].to_vec());
    let kind = match magic[..got] {
        [0x1f, 0x8b, ..] => "gzip",
        [0x28, 0xb5, 0x2f, 0xfd] => "zstd",
        _ => return Ok((Box::new(head.chain(raw)), None, path.to_path_buf())),
    };
    let count = Arc::new(AtomicU64::new(0));
    let counted = io::BufReader::new(Counting { inner: head.chain(raw), count: count.clone() });
    let shown = PathBuf::from(format!("{} ({kind}-decompressed)", path.display()));
    let file: Box<dyn Read + Send> = if kind == "gzip" {
        // Multi-member: `cat a.gz b.gz` and some archivers write several members.
        Box::new(flate2::bufread::MultiGzDecoder::new(counted))
    } else {
        let d = ruzstd::decoding::StreamingDecoder::new(counted).map_err(|e| CaptureError::Corrupt {
            path: shown.clone(),
            offset: 0,
            packets: 0,
            reason: format!("not a valid zstd stream: {e}"),
        })?;
        Box::new(d)
    };
    Ok((file, Some(count), shown))
}

/// Why a file that is not a capture may be here, from its first bytes: what to do with it.
fn not_a_capture_hint(b: &[u8]) -> &'static str {
    if b.is_empty() {
        return " (the file is empty)";
    }
    if b.starts_with(b"BZh") || b.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) || b.starts_with(&[0x5d, 0, 0]) {
        return " (compressed with bzip2, xz or lzma: decompress it first; gzip and zstd are read as they are)";
    }
    if b.starts_with(b"PK\x03\x04") || b.starts_with(b"7z\xbc\xaf") || b.starts_with(b"Rar!") {
        return " (an archive: extract the capture from it first)";
    }
    if b.starts_with(b"snoop\0") || b.starts_with(b"GMBU") || b.starts_with(b"XCP\0") {
        return " (a snoop, Network Monitor or NetXray capture: convert it with `editcap -F pcap IN OUT`)";
    }
    let text = b.iter().take(64).all(|&c| c.is_ascii_graphic() || c.is_ascii_whitespace());
    if text {
        return " (it looks like text: plainsight reads pcap and pcapng captures, as written by `tcpdump -w` or Wireshark)";
    }
    " (plainsight reads pcap and pcapng captures, also gzip- or zstd-compressed)"
}

/// Reads a pcap or pcapng file record by record.
pub struct FileReader {
    path: PathBuf,
    /// The file, or standard input for `-` (`tcpdump -U -w - | plainsight read -`), decompressed when
    /// it is gzip or zstd.
    file: Box<dyn Read + Send>,
    size: u64,
    /// Compressed bytes consumed, when the file is compressed (progress is measured on the file).
    compressed: Option<Arc<AtomicU64>>,
    buf: Vec<u8>,
    /// Valid data is `buf[start..end]`; `base` is the file offset of `buf[0]`.
    start: usize,
    end: usize,
    base: u64,
    eof: bool,
    /// Bytes of the record returned last, consumed at the next call.
    pending: usize,
    format: Format,
    packets: u64,
    filtered: u64,
    filter: Option<String>,
    programs: HashMap<u32, Option<pcap::BpfProgram>>,
}

fn rd16(b: &[u8], be: bool) -> u16 {
    let a = [b[0], b[1]];
    if be { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) }
}
fn rd32(b: &[u8], be: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if be { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
}

fn compile(filter: &str, link: LinkType) -> Result<Option<pcap::BpfProgram>, String> {
    let dead = match pcap::Capture::dead(pcap::Linktype(link.0 as i32)) {
        Ok(d) => d,
        // libpcap does not know this link type: it cannot filter it, and we cannot decode it either.
        Err(_) => return Ok(None),
    };
    dead.compile(filter, true).map(Some).map_err(|e| e.to_string())
}

impl FileReader {
    /// Open `path`; `filter` is a BPF expression applied to every packet (compiled per link type).
    pub fn open(path: &Path, filter: Option<&str>) -> Result<FileReader, CaptureError> {
        let (raw, size): (Box<dyn Read + Send>, u64) = if path.as_os_str() == "-" {
            (Box::new(io::stdin()), 0)
        } else {
            let f = File::open(path).map_err(|source| CaptureError::Open { path: path.to_path_buf(), source })?;
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            (Box::new(f), size)
        };
        let (file, compressed, shown) = decompressing(raw, path)?;
        let mut r = FileReader {
            path: shown,
            file,
            size,
            compressed,
            buf: vec![0; BUF_SIZE],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            pending: 0,
            format: Format::Legacy { be: false, nanos: false, link: LinkType::ETHERNET, hdr: 16 },
            packets: 0,
            filtered: 0,
            filter: filter.map(str::to_string),
            programs: HashMap::new(),
        };
        r.read_header()?;
        if let Some(f) = filter {
            // Validate the filter now (a usage error, before any packet), for the first link type.
            let link = match &r.format {
                Format::Legacy { link, .. } => *link,
                Format::Ng { ifaces, .. } => ifaces.first().map(|i| i.link).unwrap_or(LinkType::ETHERNET),
            };
            let prog = compile(f, link).map_err(|reason| CaptureError::Filter { filter: f.to_string(), reason })?;
            r.programs.insert(link.0, prog);
        }
        Ok(r)
    }

    fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Make at least `n` bytes available at `start`; false at end of file with fewer.
    fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.start > 0 && (self.start > self.buf.len() / 2 || self.buf.len() - self.start < n) {
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() < n {
                self.buf.resize(n.next_power_of_two().min(MAX_RECORD.max(n)), 0);
            }
            let got = loop {
                match self.file.read(&mut self.buf[self.end..]) {
                    Ok(g) => break g,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(source) => {
                        return Err(CaptureError::Read {
                            path: self.path.clone(),
                            offset: self.base + self.end as u64,
                            source,
                        });
                    }
                }
            };
            if got == 0 {
                self.eof = true;
            }
            self.end += got;
        }
        Ok(true)
    }

    fn truncated(&self, reason: &str) -> CaptureError {
        CaptureError::Truncated {
            path: self.path.clone(),
            offset: self.offset(),
            packets: self.packets,
            reason: reason.into(),
        }
    }
    fn corrupt(&self, reason: String) -> CaptureError {
        CaptureError::Corrupt { path: self.path.clone(), offset: self.offset(), packets: self.packets, reason }
    }

    fn read_header(&mut self) -> Result<(), CaptureError> {
        if !self.fill(4)? {
            let hint = not_a_capture_hint(&self.buf[self.start..self.end]);
            return Err(CaptureError::NotACapture { path: self.path.clone(), hint });
        }
        let magic =
            [self.buf[self.start], self.buf[self.start + 1], self.buf[self.start + 2], self.buf[self.start + 3]];
        let legacy = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false, 16)),
            [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, false, 16)),
            [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, true, 16)),
            [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true, 16)),
            [0x34, 0xcd, 0xb2, 0xa1] => Some((false, false, 24)),
            [0xa1, 0xb2, 0xcd, 0x34] => Some((true, false, 24)),
            _ => None,
        };
        if let Some((be, nanos, hdr)) = legacy {
            if !self.fill(24)? {
                return Err(self.truncated("file header"));
            }
            let h = &self.buf[self.start..self.start + 24];
            // The link type's upper bits carry FCS flags (LINKTYPE_FCS_LEN); the type is the low 16.
            let link = LinkType(rd32(&h[20..24], be) & 0xffff);
            self.format = Format::Legacy { be, nanos, link, hdr };
            self.start += 24;
            return Ok(());
        }
        if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            self.format = Format::Ng { be: false, ifaces: Vec::new() };
            // The first block must be a section header; read_ng handles it like any other.
            return Ok(());
        }
        self.fill(64)?;
        let hint = not_a_capture_hint(&self.buf[self.start..self.end]);
        Err(CaptureError::NotACapture { path: self.path.clone(), hint })
    }

    /// Next packet that passes the filter; `Ok(None)` at a clean end of file.
    pub fn next_packet(&mut self) -> Result<Option<PacketRef<'_>>, CaptureError> {
        loop {
            self.start += self.pending;
            self.pending = 0;
            let rec = match self.format {
                Format::Legacy { .. } => self.read_legacy()?,
                Format::Ng { .. } => self.read_ng()?,
            };
            let Some((link, ts, data_at, caplen, orig_len, reclen)) = rec else {
                return Ok(None);
            };
            self.pending = reclen;
            self.packets += 1;
            let (s, e) = (self.start + data_at, self.start + data_at + caplen);
            if self.filter.is_some() && !self.passes(link, s, e) {
                self.filtered += 1;
                continue;
            }
            return Ok(Some(PacketRef { link, ts, data: &self.buf[s..e], orig_len, number: self.packets }));
        }
    }

    fn passes(&mut self, link: LinkType, s: usize, e: usize) -> bool {
        let Some(filter) = self.filter.as_deref() else { return true };
        let prog = self.programs.entry(link.0).or_insert_with(|| compile(filter, link).ok().flatten());
        match prog {
            Some(p) => p.filter(&self.buf[s..e]),
            // libpcap cannot filter this link type; nothing matches a filter there (as with tcpdump).
            None => false,
        }
    }

    /// One legacy record: (link, ts, data offset in record, caplen, orig_len, record length).
    #[allow(clippy::type_complexity)]
    fn read_legacy(&mut self) -> Result<Option<(LinkType, Timestamp, usize, usize, u32, usize)>, CaptureError> {
        let Format::Legacy { be, nanos, link, hdr } = self.format else { return Ok(None) };
        if !self.fill(hdr)? {
            if self.end == self.start {
                return Ok(None);
            }
            return Err(self.truncated("record header cut short"));
        }
        let h = &self.buf[self.start..self.start + 16];
        let secs = rd32(&h[0..4], be) as i64;
        let frac = rd32(&h[4..8], be) as i64;
        let caplen = rd32(&h[8..12], be) as usize;
        let orig = rd32(&h[12..16], be);
        if caplen > MAX_RECORD {
            return Err(self.corrupt(format!("record length {caplen} is not plausible")));
        }
        if !self.fill(hdr + caplen)? {
            return Err(self.truncated("packet data cut short"));
        }
        let micros = if nanos { frac / 1000 } else { frac };
        Ok(Some((link, Timestamp::from_secs_micros(secs, micros), hdr, caplen, orig, hdr + caplen)))
    }

    #[allow(clippy::type_complexity)]
    fn read_ng(&mut self) -> Result<Option<(LinkType, Timestamp, usize, usize, u32, usize)>, CaptureError> {
        loop {
            if !self.fill(12)? {
                if self.end == self.start {
                    return Ok(None);
                }
                return Err(self.truncated("block header cut short"));
            }
            let Format::Ng { be: cur_be, .. } = self.format else { return Ok(None) };
            let h = &self.buf[self.start..self.start + 12];
            let btype = rd32(&h[0..4], cur_be);
            let mut be = cur_be;
            if btype == 0x0a0d_0d0a {
                // A section header sets the byte order of its section: read it from the magic.
                be = match [h[8], h[9], h[10], h[11]] {
                    [0x1a, 0x2b, 0x3c, 0x4d] => true,
                    [0x4d, 0x3c, 0x2b, 0x1a] => false,
                    _ => return Err(self.corrupt("section header with a bad byte-order magic".into())),
                };
            }
            let blen = rd32(&self.buf[self.start + 4..self.start + 8], be) as usize;
            if blen < 12 || blen % 4 != 0 || blen > MAX_RECORD {
                return Err(self.corrupt(format!("block length {blen} is not valid")));
            }
            if !self.fill(blen)? {
                return Err(self.truncated("block cut short"));
            }
            let b = &self.buf[self.start..self.start + blen];
            if rd32(&b[blen - 4..], be) as usize != blen {
                return Err(self.corrupt("block length trailer does not match its header".into()));
            }
            let body = &b[8..blen - 4];
            match btype {
                0x0a0d_0d0a => {
                    self.format = Format::Ng { be, ifaces: Vec::new() };
                }
                1 => {
                    if body.len() < 8 {
                        return Err(self.corrupt("interface description block too short".into()));
                    }
                    let link = LinkType(rd16(&body[0..2], be) as u32);
                    let units = if_tsresol(&body[8..], be);
                    if let Format::Ng { ifaces, .. } = &mut self.format {
                        if ifaces.len() < 65_536 {
                            ifaces.push(Iface { link, units_per_sec: units });
                        }
                    }
                }
                // Enhanced Packet Block and the obsolete Packet Block.
                6 | 2 => {
                    if body.len() < 20 {
                        return Err(self.corrupt("packet block too short".into()));
                    }
                    let (iface_id, ts_hi, ts_lo, caplen, orig) = if btype == 6 {
                        (
                            rd32(&body[0..4], be) as usize,
                            rd32(&body[4..8], be),
                            rd32(&body[8..12], be),
                            rd32(&body[12..16], be) as usize,
                            rd32(&body[16..20], be),
                        )
                    } else {
                        (
                            rd16(&body[0..2], be) as usize,
                            rd32(&body[4..8], be),
                            rd32(&body[8..12], be),
                            rd32(&body[12..16], be) as usize,
                            rd32(&body[16..20], be),
                        )
                    };
                    if 20 + caplen > body.len() {
                        return Err(self.corrupt(format!("packet length {caplen} exceeds its block")));
                    }
                    let iface = self.iface(iface_id)?;
                    let ts = ng_ts(((ts_hi as u64) << 32) | ts_lo as u64, iface.units_per_sec);
                    return Ok(Some((iface.link, ts, 8 + 20, caplen, orig, blen)));
                }
                // Simple Packet Block: interface 0, no timestamp.
                3 => {
                    if body.len() < 4 {
                        return Err(self.corrupt("simple packet block too short".into()));
                    }
                    let orig = rd32(&body[0..4], be);
                    let caplen = (orig as usize).min(body.len() - 4);
                    let iface = self.iface(0)?;
                    return Ok(Some((iface.link, Timestamp::ZERO, 8 + 4, caplen, orig, blen)));
                }
                // Statistics, name resolution, custom, decryption secrets...: not packets.
                _ => {}
            }
            self.start += blen;
        }
    }

    fn iface(&self, id: usize) -> Result<Iface, CaptureError> {
        match &self.format {
            Format::Ng { ifaces, .. } => ifaces
                .get(id)
                .copied()
                .ok_or_else(|| self.corrupt(format!("packet for interface {id}, which was not described"))),
            Format::Legacy { .. } => Err(self.corrupt("internal: interface in legacy file".into())),
        }
    }

    /// (bytes consumed, file size), for progress. On standard input the size is what was read so far.
    pub fn progress(&self) -> (u64, u64) {
        let done = match &self.compressed {
            Some(n) => n.load(Ordering::Relaxed),
            None => self.offset() + self.pending as u64,
        };
        if self.size == 0 {
            return (done, done);
        }
        (done.min(self.size), self.size)
    }
    /// Packets read from the file (before the filter).
    pub fn packets_read(&self) -> u64 {
        self.packets
    }
    /// Packets the BPF filter rejected.
    pub fn packets_filtered(&self) -> u64 {
        self.filtered
    }
}

/// `if_tsresol` (option 9) in an IDB's options: 10^-n, or 2^-n when the top bit is set. Default µs.
fn if_tsresol(mut opts: &[u8], be: bool) -> u64 {
    while opts.len() >= 4 {
        let code = rd16(&opts[0..2], be);
        let len = rd16(&opts[2..4], be) as usize;
        let padded = (len + 3) & !3;
        if code == 0 || opts.len() < 4 + len {
            break;
        }
        if code == 9 && len >= 1 {
            let v = opts[4];
            let exp = u32::from(v & 0x7f);
            return if v & 0x80 != 0 {
                1u64.checked_shl(exp).unwrap_or(1_000_000)
            } else {
                10u64.checked_pow(exp).unwrap_or(1_000_000)
            };
        }
        opts = opts.get(4 + padded..).unwrap_or_default();
    }
    1_000_000
}

fn ng_ts(raw: u64, units_per_sec: u64) -> Timestamp {
    let units = units_per_sec.max(1);
    let secs = raw / units;
    let frac = raw % units;
    let micros = (frac as u128 * 1_000_000 / units as u128) as i64;
    Timestamp::from_secs_micros(secs.min(i64::MAX as u64) as i64, micros)
}
