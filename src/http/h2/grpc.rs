//! gRPC messages in an HTTP/2 body (the gRPC over HTTP/2 protocol): each is a 1-byte compressed flag,
//! a 4-byte big-endian length, then the message. Compressed messages (`grpc-encoding: gzip` or
//! `deflate`) are decoded as they arrive, bounded like HTTP bodies.
//!
//! The kept body is the messages as they would be uncompressed: each re-framed with flag 0 and the
//! length of what is kept of it, so that a detector reads messages with [`messages`] and its spans
//! point into the body the excerpt shows. A message that does not fit the kept prefix is cut (its
//! length says what is kept) and the body marked truncated.

use super::super::decode::{Decoder, Stop};
use super::super::framing::Codings;
use super::super::{Body, Stats};

/// The messages of a kept gRPC body: the byte range of each message's content.
pub fn messages(body: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut p = 0usize;
    std::iter::from_fn(move || {
        let h = body.get(p..p + 5)?;
        let len = u32::from_be_bytes([h[1], h[2], h[3], h[4]]) as usize;
        let start = p + 5;
        let end = start.saturating_add(len).min(body.len());
        p = end;
        Some(start..end)
    })
}

/// Whether a Content-Type is gRPC's (`application/grpc`, `application/grpc+proto`, `+json`...).
pub fn is_grpc(content_type: Option<&[u8]>) -> bool {
    content_type.is_some_and(|c| c.len() >= 16 && c[..16].eq_ignore_ascii_case(b"application/grpc"))
}

/// One gRPC body being received.
#[derive(Debug, Default)]
pub struct Grpc {
    /// The message prefix being read (flag and length) and how much of it.
    prefix: [u8; 5],
    have: u8,
    /// Bytes of the current message still to come.
    rest: u32,
    /// Where the current message's kept copy starts in `out` (its re-framed prefix).
    at: usize,
    decoder: Option<Box<Decoder>>,
    /// The rest of the current message is not kept (past the cap, or its decoding stopped).
    skipping: bool,
    codings: Codings,
    out: Vec<u8>,
    wire_len: u64,
    truncated: bool,
    decode_error: bool,
    pub incomplete: bool,
    /// Message boundaries were lost (a gap): nothing more is read.
    gone: bool,
}

impl Grpc {
    /// A body whose compressed messages use the coding named by `grpc-encoding` (if any).
    pub fn new(encoding: Option<&[u8]>) -> Grpc {
        let mut codings = Codings::default();
        if let Some(e) = encoding {
            codings.add(e);
        }
        Grpc { codings, ..Grpc::default() }
    }

    pub fn heap_bytes(&self) -> usize {
        self.out.capacity() + self.decoder.as_ref().map_or(0, |d| std::mem::size_of::<Decoder>() + d.heap_bytes())
    }

    /// Body bytes (DATA content).
    pub fn push(&mut self, mut b: &[u8], cap: usize, max_decoded: usize, stats: &mut Stats) {
        self.wire_len += b.len() as u64;
        if self.gone {
            return;
        }
        while !b.is_empty() {
            if self.rest == 0 && usize::from(self.have) < 5 {
                let take = (5 - usize::from(self.have)).min(b.len());
                self.prefix[usize::from(self.have)..usize::from(self.have) + take].copy_from_slice(&b[..take]);
                self.have += take as u8;
                b = &b[take..];
                if self.have == 5 {
                    self.start(cap, max_decoded, stats);
                }
                continue;
            }
            let take = (self.rest as usize).min(b.len());
            self.content(&b[..take], cap, stats);
            self.rest -= take as u32;
            b = &b[take..];
            if self.rest == 0 {
                self.end();
            }
        }
    }

    /// A message prefix is complete: its kept copy starts.
    fn start(&mut self, cap: usize, max_decoded: usize, stats: &mut Stats) {
        let p = self.prefix;
        self.rest = u32::from_be_bytes([p[1], p[2], p[3], p[4]]);
        stats.h2.grpc_messages += 1;
        self.at = self.out.len();
        self.skipping = false;
        if self.out.len() + 5 <= cap {
            self.out.extend_from_slice(&[0; 5]);
        } else {
            self.truncated = true;
        }
        if p[0] & 1 != 0 {
            if self.codings.is_empty() || self.codings.unsupported {
                // Compressed with a coding we do not decode: the message is kept as it is, flagged.
                self.decode_error = true;
            } else {
                self.decoder = Some(Box::new(Decoder::new(&self.codings, max_decoded as u64)));
            }
        }
        if self.rest == 0 {
            self.end();
        }
    }

    fn content(&mut self, b: &[u8], cap: usize, stats: &mut Stats) {
        if self.skipping {
            return;
        }
        let out = &mut self.out;
        let truncated = &mut self.truncated;
        let mut keep = |x: &[u8]| {
            let room = cap.saturating_sub(out.len());
            if x.len() > room {
                *truncated = true;
            }
            out.extend_from_slice(&x[..x.len().min(room)]);
            x.len() <= room
        };
        match self.decoder.as_mut() {
            None => {
                keep(b);
            }
            Some(d) => match d.push(b, &mut keep) {
                Ok(()) | Err(Stop::Enough) => {}
                Err(Stop::Capped) => {
                    stats.decompressed_bytes_capped += 1;
                    self.truncated = true;
                    self.skipping = true;
                }
                Err(Stop::Error) => {
                    self.decode_error = true;
                    self.skipping = true;
                }
            },
        }
        if self.truncated {
            // Nothing more of it is kept: no need to inflate the rest.
            self.skipping = true;
        }
        if self.skipping {
            self.decoder = None;
        }
    }

    /// The current message ended: its kept length written in its prefix.
    fn end(&mut self) {
        self.have = 0;
        self.rest = 0;
        self.decoder = None;
        let len = self.out.len().saturating_sub(self.at + 5) as u32;
        if let Some(h) = self.out.get_mut(self.at..self.at + 5) {
            h[1..].copy_from_slice(&len.to_be_bytes());
        }
        self.at = self.out.len();
    }

    /// A gap inside the body: where the next message starts is unknown, the rest is not read.
    pub fn lost(&mut self) {
        if self.rest > 0 {
            self.end();
        }
        self.gone = true;
        self.incomplete = true;
        self.decoder = None;
    }

    /// Memory is short: drop what is kept.
    pub fn shed(&mut self) -> bool {
        let held = self.heap_bytes() > 0;
        self.out = Vec::new();
        self.decoder = None;
        self.truncated = true;
        self.at = 0;
        held
    }

    pub fn finish(&mut self, stats: &mut Stats) -> Body {
        if self.rest > 0 {
            // A message cut by the end of the stream: its kept part is what it carried.
            self.end();
        }
        if self.truncated {
            stats.bodies_truncated += 1;
        }
        if self.decode_error {
            stats.decompression_errors += 1;
        }
        Body {
            data: std::mem::take(&mut self.out),
            truncated: self.truncated,
            wire_len: self.wire_len,
            incomplete: self.incomplete,
            decode_error: self.decode_error,
            extra: Vec::new(),
            framing_note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn framed(flag: u8, m: &[u8]) -> Vec<u8> {
        let mut v = vec![flag];
        v.extend_from_slice(&(m.len() as u32).to_be_bytes());
        v.extend_from_slice(m);
        v
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn body_of(wire: &[u8], piece: usize, enc: Option<&[u8]>, cap: usize) -> Body {
        let mut st = Stats::default();
        let mut g = Grpc::new(enc);
        for p in wire.chunks(piece) {
            g.push(p, cap, 1 << 20, &mut st);
        }
        g.finish(&mut st)
    }

    #[test]
    fn messages_are_split_and_compressed_ones_decoded_in_any_cutting() {
        let a = br#"{"user":"ann","password":"pw-1"}"#;
        let b = b"token=abc";
        let mut wire = framed(0, a);
        wire.extend(framed(1, &gzip(b)));
        wire.extend(framed(0, b""));
        for piece in [1, 2, 3, 7, wire.len()] {
            let body = body_of(&wire, piece, Some(b"gzip"), 1 << 16);
            let ms: Vec<&[u8]> = messages(&body.data).map(|r| &body.data[r]).collect();
            assert_eq!(ms, vec![&a[..], &b[..], &b""[..]], "piece {piece}");
            assert!(!body.truncated && !body.decode_error);
        }
    }

    #[test]
    fn a_message_past_the_cap_is_cut_and_its_length_says_what_is_kept() {
        let wire = framed(0, &[b'x'; 100]);
        let body = body_of(&wire, 10, None, 30);
        assert!(body.truncated);
        let ms: Vec<_> = messages(&body.data).collect();
        assert_eq!(ms, vec![5..30]);
        // Compressed without a grpc-encoding: kept raw, flagged.
        let body = body_of(&framed(1, b"zz"), 1, None, 100);
        assert!(body.decode_error);
        assert_eq!(messages(&body.data).count(), 1);
    }
}
