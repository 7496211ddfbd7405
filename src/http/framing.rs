//! Where a message body ends (RFC 9112 section 6) and how it is encoded: Content-Length,
//! Transfer-Encoding (chunked last, other transfer codings decoded), and the chunked decoder.
//!
//! Whatever a server would do, we do: a request with both Transfer-Encoding and Content-Length is framed
//! by Transfer-Encoding (RFC 9112 6.3; the request carries a note, an evasion signal); `chunked` is
//! recognised in any case and after other codings (`gzip, chunked`); Content-Length values that
//! disagree reject the message (a server answers 400); a request whose Transfer-Encoding does not end
//! with `chunked` is rejected too (400), a response's is read until the connection closes.

use super::headers::Headers;

/// Codings applied to a body, in the order the sender applied them: content codings
/// (`Content-Encoding`), then transfer codings other than chunked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Codings {
    list: [Coding; MAX_CODINGS],
    n: u8,
    /// A coding we cannot decode (br, zstd, compress...), or more layers than we decode: the body is kept
    /// as it is on the wire, flagged.
    pub unsupported: bool,
}

/// Coding layers decoded per body. Each layer holds a decompressor (~48 KiB): more is no real server.
pub const MAX_CODINGS: usize = 4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Coding {
    #[default]
    Gzip,
    /// zlib-wrapped as the standard says, or raw deflate as some servers send it (told by the first byte).
    Deflate,
}

impl Codings {
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Layers in decoding order (the last applied first).
    pub fn decode_order(&self) -> impl Iterator<Item = Coding> + '_ {
        self.list[..usize::from(self.n)].iter().rev().copied()
    }

    /// Append the codings named in a header value (`gzip, deflate`); `chunked` is not one of them.
    pub(super) fn add(&mut self, value: &[u8]) {
        for t in value.split(|&b| b == b',') {
            let t = trim(t);
            let c = if t.eq_ignore_ascii_case(b"gzip") || t.eq_ignore_ascii_case(b"x-gzip") {
                Coding::Gzip
            } else if t.eq_ignore_ascii_case(b"deflate") {
                Coding::Deflate
            } else if t.is_empty() || t.eq_ignore_ascii_case(b"identity") || t.eq_ignore_ascii_case(b"chunked") {
                continue;
            } else {
                self.unsupported = true;
                continue;
            };
            if usize::from(self.n) == MAX_CODINGS {
                self.unsupported = true;
                continue;
            }
            self.list[usize::from(self.n)] = c;
            self.n += 1;
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

/// How a body is delimited on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    #[default]
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

/// The note a request framed by Transfer-Encoding despite a Content-Length carries (to its alerts).
pub const TE_OVER_CL: &str = "framed by Transfer-Encoding; the request also had Content-Length";

/// What the head says about the body.
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    pub framing: Framing,
    pub codings: Codings,
    /// Both Transfer-Encoding and Content-Length (counted as `framing_conflicts`).
    pub conflict: bool,
    /// Framing worth telling the analyst, carried by a request to its alerts.
    pub note: Option<&'static str>,
}

/// Why a message's body cannot be delimited: a server rejects it (400), and so do we.
#[derive(Debug, PartialEq, Eq)]
pub enum Reject {
    /// Content-Length values that disagree (a smuggling attempt, or a broken proxy).
    ConflictingLengths,
    /// A malformed Content-Length, or a request whose Transfer-Encoding does not end with chunked.
    Malformed,
}

/// The body of a request or response with a body (`no_body` false), or of none. `present`: which
/// framing fields the head has (bits of `head::TE`, `CL`, `CE`; the others are not looked for).
pub fn decide(h: &Headers, present: u8, request: bool, no_body: bool) -> Result<Decision, Reject> {
    use super::head::{CE, CL, TE};
    let mut codings = Codings::default();
    if present & CE != 0 {
        for v in h.get_all("content-encoding") {
            codings.add(v);
        }
    }
    if no_body {
        return Ok(Decision { framing: Framing::None, codings, conflict: false, note: None });
    }
    // Transfer-Encoding: every field, in order; the last coding says whether it is chunked.
    let mut te = false;
    let mut chunked_last = false;
    if present & TE != 0 {
        for v in h.get_all("transfer-encoding") {
            for t in v.split(|&b| b == b',') {
                let t = trim(t);
                if t.is_empty() {
                    continue;
                }
                te = true;
                chunked_last = t.eq_ignore_ascii_case(b"chunked");
            }
        }
    }
    let length = if present & CL != 0 { content_length(h) } else { Ok(None) };
    if te {
        // Transfer codings were applied after the content codings: decoded first.
        for v in h.get_all("transfer-encoding") {
            codings.add(v);
        }
        let conflict = present & CL != 0;
        let note = (request && conflict).then_some(TE_OVER_CL);
        let framing = match (chunked_last, request) {
            (true, _) => Framing::Chunked(Chunk::Size),
            (false, true) => return Err(Reject::Malformed),
            (false, false) => Framing::UntilClose,
        };
        return Ok(Decision { framing, codings, conflict, note });
    }
    let framing = match length? {
        Some(0) => Framing::None,
        Some(n) => Framing::Length(n),
        None if request => Framing::None,
        None => Framing::UntilClose,
    };
    Ok(Decision { framing, codings, conflict: false, note: None })
}

fn content_length(h: &Headers) -> Result<Option<u64>, Reject> {
    let mut found: Option<u64> = None;
    for v in h.get_all("content-length") {
        // "5, 5" (a proxy merged duplicates) is one length; different lengths are a smuggling attempt.
        for part in v.split(|&b| b == b',') {
            let part = trim(part);
            if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
                return Err(Reject::Malformed);
            }
            let n = part.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            if found.is_some_and(|f| f != n) {
                return Err(Reject::ConflictingLengths);
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// Longest chunk-size or trailer line accepted.
pub const MAX_LINE: usize = 4096;

/// What the chunked decoder found in the bytes it was given.
pub enum Dechunked {
    /// Consumed this many bytes; the body goes on.
    More(usize),
    /// Consumed this many bytes; the body (trailers included) is complete.
    Done(usize),
    /// Not chunked encoding after all (consumed this many bytes).
    Error(usize),
}

/// Decode chunked framing from `data`: chunk contents go to `out`, trailer fields to `trailers`
/// (`line` carries a size or trailer line split across segments).
pub fn dechunk(
    state: &mut Chunk,
    line: &mut Vec<u8>,
    trailers: &mut dyn FnMut(&str, &[u8]),
    data: &[u8],
    out: &mut dyn FnMut(&[u8]),
) -> Dechunked {
    let mut p = 0;
    while p < data.len() {
        match *state {
            Chunk::Data(rem) => {
                let n = (rem.min((data.len() - p) as u64)) as usize;
                out(&data[p..p + n]);
                p += n;
                *state = if rem == n as u64 { Chunk::DataEnd } else { Chunk::Data(rem - n as u64) };
            }
            // CRLF after the chunk data (a bare LF is tolerated).
            Chunk::DataEnd => match data[p] {
                b'\r' => p += 1,
                b'\n' => {
                    p += 1;
                    *state = Chunk::Size;
                }
                _ => return Dechunked::Error(p),
            },
            Chunk::Size | Chunk::Trailer => {
                let rest = &data[p..];
                let (end, complete) = match memchr::memchr(b'\n', rest) {
                    Some(i) => (i + 1, true),
                    None => (rest.len(), false),
                };
                if line.len() + end > MAX_LINE {
                    line.clear();
                    return Dechunked::Error(data.len());
                }
                let text: &[u8] = if line.is_empty() && complete {
                    &rest[..end]
                } else {
                    line.extend_from_slice(&rest[..end]);
                    if !complete {
                        return Dechunked::More(data.len());
                    }
                    line
                };
                p += end;
                let text = trim(text);
                if *state == Chunk::Trailer {
                    if text.is_empty() {
                        line.clear();
                        return Dechunked::Done(p);
                    }
                    // Trailer fields are kept with the headers (a token can hide there too).
                    if let Some(c) = memchr::memchr(b':', text) {
                        if let Ok(name) = std::str::from_utf8(trim(&text[..c])) {
                            if !name.is_empty() {
                                trailers(name, trim(&text[c + 1..]));
                            }
                        }
                    }
                    line.clear();
                    continue;
                }
                let hex = trim(text.split(|&b| b == b';').next().unwrap_or_default());
                let size = if hex.is_empty() || hex.len() > 15 {
                    None
                } else {
                    hex.iter().try_fold(0u64, |n, &d| (d as char).to_digit(16).map(|d| n * 16 + u64::from(d)))
                };
                line.clear();
                match size {
                    Some(0) => *state = Chunk::Trailer,
                    Some(n) => *state = Chunk::Data(n),
                    None => return Dechunked::Error(p),
                }
            }
        }
    }
    Dechunked::More(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide_all(h: &Headers, request: bool, no_body: bool) -> Result<Decision, Reject> {
        decide(h, 7, request, no_body)
    }

    fn h(fields: &[(&str, &str)]) -> Headers {
        fields.iter().copied().collect()
    }

    #[test]
    fn transfer_encoding_wins_over_content_length_with_a_note_on_requests() {
        let d = decide_all(&h(&[("Content-Length", "5"), ("Transfer-Encoding", "chunked")]), true, false).unwrap();
        assert_eq!(d.framing, Framing::Chunked(Chunk::Size));
        assert_eq!(d.note, Some(TE_OVER_CL));
        let d = decide_all(&h(&[("Transfer-Encoding", "CHUNKED"), ("Content-Length", "5")]), false, false).unwrap();
        assert_eq!((d.framing, d.conflict, d.note), (Framing::Chunked(Chunk::Size), true, None));
    }

    #[test]
    fn transfer_codings_before_chunked_are_decoded_after_the_content_codings() {
        let d = decide_all(&h(&[("Content-Encoding", "deflate"), ("Transfer-Encoding", "gzip, Chunked")]), true, false)
            .unwrap();
        assert_eq!(d.framing, Framing::Chunked(Chunk::Size));
        assert_eq!(d.codings.decode_order().collect::<Vec<_>>(), vec![Coding::Gzip, Coding::Deflate]);
        // Not chunked last: a request is rejected, a response read until close.
        assert_eq!(decide_all(&h(&[("Transfer-Encoding", "chunked, gzip")]), true, false), Err(Reject::Malformed));
        assert_eq!(
            decide_all(&h(&[("Transfer-Encoding", "gzip")]), false, false).unwrap().framing,
            Framing::UntilClose
        );
    }

    #[test]
    fn content_lengths_that_disagree_are_rejected_and_equal_ones_merged() {
        let two = h(&[("Content-Length", "5"), ("Content-Length", "50")]);
        assert_eq!(decide_all(&two, true, false), Err(Reject::ConflictingLengths));
        assert_eq!(decide_all(&h(&[("Content-Length", "5, 5")]), true, false).unwrap().framing, Framing::Length(5));
        assert_eq!(decide_all(&h(&[("Content-Length", "+5")]), true, false), Err(Reject::Malformed));
    }

    #[test]
    fn stacked_codings_decode_last_applied_first_and_too_many_are_unsupported() {
        let d = decide_all(&h(&[("Content-Encoding", "deflate, gzip")]), false, false).unwrap();
        assert_eq!(d.codings.decode_order().collect::<Vec<_>>(), vec![Coding::Gzip, Coding::Deflate]);
        assert!(!d.codings.unsupported);
        assert!(decide_all(&h(&[("Content-Encoding", "br")]), false, false).unwrap().codings.unsupported);
        let many = h(&[("Content-Encoding", "gzip, gzip, gzip, gzip, gzip")]);
        assert!(decide_all(&many, false, false).unwrap().codings.unsupported);
    }
}
