//! Body accumulation (capped, with optional skipping) and decoding of Content-Encoding.

use std::io::Read;

use super::{Body, Config};

/// How a body is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Deflate,
    /// br, zstd, compress...: kept raw, flagged.
    Unsupported,
}

impl Encoding {
    pub fn from_header(v: Option<&[u8]>) -> Encoding {
        let Some(v) = v else { return Encoding::Identity };
        let v = String::from_utf8_lossy(v).trim().to_ascii_lowercase();
        match v.as_str() {
            "" | "identity" => Encoding::Identity,
            "gzip" | "x-gzip" => Encoding::Gzip,
            "deflate" => Encoding::Deflate,
            _ => Encoding::Unsupported,
        }
    }
}

/// A body being received: the first `cap` bytes kept (when `keep`), the rest only counted.
#[derive(Debug, Default)]
pub struct Acc {
    pub raw: Vec<u8>,
    pub keep: bool,
    pub wire_len: u64,
    pub truncated: bool,
    pub incomplete: bool,
}

impl Acc {
    pub fn push(&mut self, bytes: &[u8], cap: usize) {
        self.wire_len += bytes.len() as u64;
        if !self.keep {
            return;
        }
        let room = cap.saturating_sub(self.raw.len());
        let take = room.min(bytes.len());
        self.raw.extend_from_slice(&bytes[..take]);
        if take < bytes.len() {
            self.truncated = true;
        }
    }

    /// The body as consumers see it: decompressed with a bound.
    pub fn finish(self, enc: Encoding, cfg: &Config) -> (Body, bool) {
        let mut body = Body {
            data: Vec::new(),
            truncated: self.truncated,
            wire_len: self.wire_len,
            incomplete: self.incomplete,
            decode_error: false,
        };
        match enc {
            Encoding::Identity => body.data = self.raw,
            Encoding::Unsupported => {
                body.data = self.raw;
                body.decode_error = true;
            }
            Encoding::Gzip | Encoding::Deflate if self.raw.is_empty() => {}
            Encoding::Gzip | Encoding::Deflate => {
                let limit = cfg.max_decompressed_bytes as u64;
                let (out, complete) = match enc {
                    Encoding::Gzip => inflate(flate2::read::MultiGzDecoder::new(&self.raw[..]), limit),
                    // "deflate" is zlib-wrapped by the standard, raw deflate by some servers.
                    _ if self.raw.first().is_some_and(|b| b & 0x0f == 8) => {
                        inflate(flate2::read::ZlibDecoder::new(&self.raw[..]), limit)
                    }
                    _ => inflate(flate2::read::DeflateDecoder::new(&self.raw[..]), limit),
                };
                if out.len() as u64 >= limit {
                    body.truncated = true;
                }
                if out.is_empty() && !complete {
                    body.decode_error = true;
                    body.data = self.raw;
                } else {
                    body.data = out;
                }
            }
        }
        let err = body.decode_error;
        (body, err)
    }
}

/// Read at most `limit` bytes of decompressed output. Returns the output and whether the stream ended
/// cleanly (a body cut by the cap or a gap ends early: what was decoded is still useful).
fn inflate<R: Read>(r: R, limit: u64) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let res = r.take(limit).read_to_end(&mut out);
    (out, res.is_ok())
}
