//! Content and transfer codings (gzip, deflate), decoded as the body arrives: each layer inflates into
//! a bounded stack buffer and hands it on, so no layer's output is ever held whole. Stacked layers
//! (`gzip, gzip`, `deflate, gzip`) are decoded in order, last applied first.
//!
//! Bounded (no decompression bomb): the bytes any layer outputs are capped at `max_total`
//! (`Config::max_decompressed_bytes`), and past [`FREE_OUTPUT`] at [`MAX_RATIO`] times the bytes
//! received on the wire. One deflate layer cannot exceed about 1032:1, so the ratio only stops stacked
//! layers, whose ratios multiply.

use flate2::{Decompress, FlushDecompress, Status};

use super::framing::{Coding, Codings};

/// Output allowed whatever the ratio: what one message could inflate to before this bound existed.
pub const FREE_OUTPUT: u64 = 1 << 20;
/// Output allowed per wire byte past [`FREE_OUTPUT`]: above what one deflate layer can reach (~1032),
/// below what two stacked layers can.
pub const MAX_RATIO: u64 = 1100;
/// Heap bytes of one inflating layer: miniz_oxide's state (a 32 KiB window, its Huffman tables) and
/// our box, for the memory budget.
pub const LAYER_COST: usize = 48 * 1024;
/// Output handed on at a time (on the stack, per layer).
const CHUNK: usize = 16 * 1024;

/// Why decoding stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A layer's data is not what its coding says.
    Error,
    /// The output bound was reached.
    Capped,
    /// The consumer wants no more.
    Enough,
}

/// The decoding layers of one body.
#[derive(Debug)]
pub struct Decoder {
    layers: Vec<Layer>,
    wire_in: u64,
    max_total: u64,
}

#[derive(Debug)]
struct Layer {
    coding: Coding,
    st: St,
    produced: u64,
}

#[derive(Debug)]
enum St {
    /// Before the first byte (deflate: zlib-wrapped or raw is told by it).
    Start,
    GzHeader(GzHeader),
    Inflate(Box<Decompress>),
    /// The 8-byte gzip trailer (CRC and length, not checked: a sniffer reads what the client sent).
    GzTrailer(u8),
    /// The stream ended; anything after it is ignored.
    Done,
}

/// A gzip member header being read (RFC 1952 2.3).
#[derive(Debug, Default)]
struct GzHeader {
    /// Bytes of the fixed 10-byte part seen.
    fixed: u8,
    flags: u8,
    /// Bytes left to skip (FEXTRA length, then its data; the header CRC).
    skip: u16,
    stage: GzStage,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum GzStage {
    #[default]
    Fixed,
    ExtraLen(u8),
    Extra,
    Name,
    Comment,
    Crc,
}

const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;
const FHCRC: u8 = 2;

impl GzHeader {
    /// Read header bytes from `b`. `Ok(Some(n))`: the header ended after `n` bytes.
    fn feed(&mut self, b: &[u8]) -> Result<Option<usize>, Stop> {
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            i += 1;
            match self.stage {
                GzStage::Fixed => {
                    let ok = match self.fixed {
                        0 => c == 0x1f,
                        1 => c == 0x8b,
                        2 => c == 8,
                        3 => {
                            self.flags = c;
                            c & 0xe0 == 0
                        }
                        _ => true,
                    };
                    if !ok {
                        return Err(Stop::Error);
                    }
                    self.fixed += 1;
                    if self.fixed == 10 {
                        self.stage = GzStage::ExtraLen(0);
                        if self.flags & FEXTRA == 0 {
                            self.stage = self.after(FEXTRA);
                        }
                    }
                }
                GzStage::ExtraLen(k) => {
                    self.skip |= u16::from(c) << (8 * k);
                    self.stage = if k == 0 { GzStage::ExtraLen(1) } else { GzStage::Extra };
                    if k == 1 && self.skip == 0 {
                        self.stage = self.after(FEXTRA);
                    }
                }
                GzStage::Extra => {
                    self.skip -= 1;
                    if self.skip == 0 {
                        self.stage = self.after(FEXTRA);
                    }
                }
                GzStage::Name if c == 0 => self.stage = self.after(FNAME),
                GzStage::Comment if c == 0 => self.stage = self.after(FCOMMENT),
                GzStage::Name | GzStage::Comment => {}
                GzStage::Crc => {
                    self.skip -= 1;
                    if self.skip == 0 {
                        return Ok(Some(i));
                    }
                }
            }
            if self.stage == GzStage::Crc && self.skip == 0 {
                // No header CRC: the header is over.
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// The stage after the optional field `done`.
    fn after(&mut self, done: u8) -> GzStage {
        if done < FNAME && self.flags & FNAME != 0 {
            return GzStage::Name;
        }
        if done < FCOMMENT && self.flags & FCOMMENT != 0 {
            return GzStage::Comment;
        }
        self.skip = if self.flags & FHCRC != 0 { 2 } else { 0 };
        GzStage::Crc
    }
}

impl Decoder {
    pub fn new(codings: &Codings, max_total: u64) -> Decoder {
        Decoder {
            layers: codings.decode_order().map(|coding| Layer { coding, st: St::Start, produced: 0 }).collect(),
            wire_in: 0,
            max_total,
        }
    }

    /// Heap bytes held (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.layers.capacity() * std::mem::size_of::<Layer>()
            + self.layers.iter().filter(|l| matches!(l.st, St::Inflate(_))).count() * LAYER_COST
    }

    /// Whether the outermost layer has produced nothing yet (a body that is not encoded after all is
    /// then kept as it is).
    pub fn nothing_out(&self) -> bool {
        self.layers.first().is_none_or(|l| l.produced == 0)
    }

    /// Decode `input` (wire bytes, de-chunked), handing the decoded bytes to `sink`, which returns false
    /// when it wants no more.
    pub fn push(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), Stop> {
        self.wire_in += input.len() as u64;
        let limit = self.max_total.min(FREE_OUTPUT.saturating_add(self.wire_in.saturating_mul(MAX_RATIO)));
        feed(&mut self.layers, input, limit, sink)
    }
}

/// Run `input` through `layers[0]`, its output through the rest, the last output into `sink`.
fn feed(layers: &mut [Layer], input: &[u8], limit: u64, sink: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), Stop> {
    let Some((layer, rest)) = layers.split_first_mut() else {
        return if sink(input) { Ok(()) } else { Err(Stop::Enough) };
    };
    let mut buf = [0u8; CHUNK];
    let mut p = 0;
    loop {
        match &mut layer.st {
            St::Done => return Ok(()),
            St::Start => {
                let Some(&first) = input.get(p) else { return Ok(()) };
                layer.st = match layer.coding {
                    Coding::Gzip => St::GzHeader(GzHeader::default()),
                    // "deflate" is zlib-wrapped by the standard, raw deflate by some servers.
                    Coding::Deflate => St::Inflate(Box::new(Decompress::new(first & 0x0f == 8))),
                };
            }
            St::GzHeader(h) => {
                if p == input.len() {
                    return Ok(());
                }
                match h.feed(&input[p..]) {
                    Ok(Some(n)) => {
                        p += n;
                        layer.st = St::Inflate(Box::new(Decompress::new(false)));
                    }
                    Ok(None) => return Ok(()),
                    // Bytes after a complete member that are not another member: ignored.
                    Err(_) if layer.produced > 0 => {
                        layer.st = St::Done;
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
            St::GzTrailer(left) => {
                let n = usize::from(*left).min(input.len() - p);
                p += n;
                *left -= n as u8;
                if *left > 0 {
                    return Ok(());
                }
                // Another member may follow (concatenated gzip members are one body).
                layer.st = St::GzHeader(GzHeader::default());
                if p == input.len() {
                    return Ok(());
                }
            }
            St::Inflate(d) => {
                let (in0, out0) = (d.total_in(), d.total_out());
                let status = d.decompress(&input[p..], &mut buf, FlushDecompress::None);
                let used = (d.total_in() - in0) as usize;
                let mut made = (d.total_out() - out0) as usize;
                p += used;
                let room = limit.saturating_sub(layer.produced);
                let capped = made as u64 > room;
                if capped {
                    made = room as usize;
                }
                layer.produced += made as u64;
                if made > 0 {
                    feed(rest, &buf[..made], limit, sink)?;
                }
                if capped {
                    return Err(Stop::Capped);
                }
                match status {
                    Ok(Status::StreamEnd) => {
                        layer.st = if layer.coding == Coding::Gzip { St::GzTrailer(8) } else { St::Done };
                    }
                    Ok(_) if used == 0 && made == 0 => return Ok(()),
                    Ok(_) => {}
                    Err(_) => return Err(Stop::Error),
                }
                if p == input.len() && made < buf.len() && !matches!(layer.st, St::GzTrailer(_)) {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn codings(v: &str) -> Codings {
        let h: super::super::Headers = [("Content-Encoding", v)].into_iter().collect();
        super::super::framing::decide(&h, 7, false, true).unwrap().codings
    }

    fn run(c: &Codings, wire: &[u8], piece: usize, max: u64) -> (Vec<u8>, Result<(), Stop>) {
        let mut d = Decoder::new(c, max);
        let mut out = Vec::new();
        for p in wire.chunks(piece) {
            let r = d.push(p, &mut |b| {
                out.extend_from_slice(b);
                true
            });
            if r.is_err() {
                return (out, r);
            }
        }
        (out, Ok(()))
    }

    #[test]
    fn stacked_gzip_and_deflate_layers_decode_in_any_segmentation() {
        let text = b"user=alice&password=stacked".repeat(50);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&text).unwrap();
        // deflate applied first, then gzip: `Content-Encoding: deflate, gzip`.
        let wire = gzip(&z.finish().unwrap());
        for piece in [1, 7, 1460, usize::MAX] {
            let (out, r) = run(&codings("deflate, gzip"), &wire, piece.min(wire.len()), 1 << 24);
            assert_eq!(r, Ok(()));
            assert_eq!(out, text, "piece {piece}");
        }
        let twice = gzip(&gzip(&text));
        assert_eq!(run(&codings("gzip, gzip"), &twice, 3, 1 << 24).0, text);
    }

    #[test]
    fn gzip_headers_with_every_optional_field_and_concatenated_members() {
        let mut member = gzip(b"first ");
        // FEXTRA (2 bytes), FNAME, FCOMMENT, FHCRC.
        member[3] = FEXTRA | FNAME | FCOMMENT | FHCRC;
        let mut fancy = member[..10].to_vec();
        fancy.extend_from_slice(&[2, 0, 0xaa, 0xbb]);
        fancy.extend_from_slice(b"name\0comment\0\x12\x34");
        fancy.extend_from_slice(&member[10..]);
        fancy.extend_from_slice(&gzip(b"second"));
        for piece in [1, 5, 1000] {
            assert_eq!(run(&codings("gzip"), &fancy, piece, 1 << 20), (b"first second".to_vec(), Ok(())));
        }
    }

    #[test]
    fn a_stacked_bomb_stops_at_the_ratio_and_one_layer_at_the_total() {
        let zeros = vec![0u8; 64 << 20];
        let bomb = gzip(&gzip(&zeros));
        assert!(bomb.len() < 16 * 1024, "{}", bomb.len());
        let (out, r) = run(&codings("gzip, gzip"), &bomb, 1460, 16 << 20);
        assert_eq!(r, Err(Stop::Capped));
        assert!((out.len() as u64) <= FREE_OUTPUT + bomb.len() as u64 * MAX_RATIO, "{}", out.len());
        let one = gzip(&zeros);
        let (out, r) = run(&codings("gzip"), &one, 1460, 4 << 20);
        assert_eq!((out.len(), r), (4 << 20, Err(Stop::Capped)));
    }

    #[test]
    fn garbage_is_an_error_before_any_output_and_ignored_after_a_member() {
        let (out, r) = run(&codings("gzip"), b"not gzip at all", 4, 1 << 20);
        assert_eq!((out.len(), r), (0, Err(Stop::Error)));
        let mut w = gzip(b"ok");
        w.extend_from_slice(b"trailing junk");
        assert_eq!(run(&codings("gzip"), &w, 3, 1 << 20), (b"ok".to_vec(), Ok(())));
    }
}
