//! A body being received: decoded as it arrives (de-chunked by the framing, then its codings), its
//! first `max_body_bytes` kept for the detectors, the rest read by a streaming [`Scanner`] that keeps
//! only the fields the detectors care about. Memory per body: the prefix, the decoders' windows, the
//! scanner's bounded buffers, all reported by [`BodyAcc::heap_bytes`] for the memory budget.

use super::decode::{Decoder, Stop};
use super::framing::Codings;
use super::headers::Headers;
use super::scan::{Format, Scanner};
use super::{Body, Stats};

/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;

/// What a body needs from its message and the configuration.
pub struct BodyCx<'a> {
    /// Bytes of decoded body kept.
    pub cap: usize,
    /// Field names worth keeping past the prefix (`None`: the rest is not read).
    pub want: Option<fn(&str) -> bool>,
    /// The message's head (its Content-Type says how to read the body past the prefix).
    pub headers: &'a Headers,
}

#[derive(Debug, Default)]
pub struct BodyAcc {
    pub wire_len: u64,
    pub incomplete: bool,
    /// The body is read at all (response bodies no detector reads are not).
    pub keep: bool,
    data: Vec<u8>,
    /// Longer than the kept prefix.
    truncated: bool,
    decoder: Option<Box<Decoder>>,
    /// A coding we do not decode (the raw bytes are kept), or data that is not what its coding says.
    decode_error: bool,
    /// Decoding stopped at its bound.
    capped: bool,
    /// Whether a scanner was considered (once, when the prefix filled up).
    scan_decided: bool,
    scan: Option<Box<Scanner>>,
    /// Nothing more of this body is read: the rest is skipped unread.
    pub done: bool,
    pub note: Option<&'static str>,
}

impl BodyAcc {
    /// Ready for a body with these codings (`keep`: read it at all), `hint`: its length when known.
    /// The kept-prefix buffer of an earlier body is reused.
    pub fn reset(&mut self, keep: bool, codings: &Codings, max_decoded: usize, cap: usize, hint: Option<u64>) {
        let mut data = std::mem::take(&mut self.data);
        data.clear();
        *self = BodyAcc { keep, data, ..BodyAcc::default() };
        if !keep {
            return;
        }
        if codings.unsupported {
            self.decode_error = true;
        } else if !codings.is_empty() {
            self.decoder = Some(Box::new(Decoder::new(codings, max_decoded as u64)));
        } else if let Some(n) = hint {
            // One allocation of the right size instead of a doubling series of copies (a smaller
            // reused buffer is replaced, not grown: growing would copy it).
            let n = (n as usize).min(cap);
            if self.data.capacity() < n {
                self.data = Vec::with_capacity(n);
            }
        }
    }

    /// A finished body's buffer, back after its handler saw it: kept for the next body if small.
    pub fn give_back(&mut self, mut data: Vec<u8>, max: usize) {
        if data.capacity() <= max && self.data.capacity() == 0 {
            data.clear();
            self.data = data;
        }
    }

    /// Emptied for reuse; the prefix buffer kept if at most `max` bytes.
    pub fn recycle(&mut self, max: usize) {
        let mut data = std::mem::take(&mut self.data);
        if data.capacity() > max {
            data = Vec::new();
        }
        data.clear();
        *self = BodyAcc { data, ..BodyAcc::default() };
    }

    /// Heap bytes held: the prefix, decoders, the scanner.
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        let mut n = self.data.capacity();
        if let Some(d) = &self.decoder {
            n += std::mem::size_of::<Decoder>() + ALLOC + d.heap_bytes();
        }
        if let Some(s) = &self.scan {
            n += std::mem::size_of::<Scanner>() + ALLOC + s.heap_bytes();
        }
        n
    }

    /// Whether the rest of the body is skipped unread.
    pub fn skipped(&self) -> bool {
        !self.keep || self.done
    }

    /// Wire bytes of the body (de-chunked).
    pub fn push(&mut self, bytes: &[u8], cx: &BodyCx<'_>, stats: &mut Stats) {
        self.wire_len += bytes.len() as u64;
        if !self.keep || self.done {
            return;
        }
        let Some(mut dec) = self.decoder.take() else {
            self.decoded(bytes, cx);
            return;
        };
        let res = dec.push(bytes, &mut |b| self.decoded(b, cx));
        match res {
            Ok(()) => self.decoder = Some(dec),
            Err(Stop::Error) if dec.nothing_out() && self.data.is_empty() => {
                // Not encoded after all (a server that labels plain bytes gzip): kept as it is.
                self.decode_error = true;
                self.decoded(bytes, cx);
            }
            Err(Stop::Error) => {
                self.decode_error = true;
                self.done = true;
            }
            Err(Stop::Capped) => {
                self.capped = true;
                self.done = true;
                stats.decompressed_bytes_capped += 1;
            }
            Err(Stop::Enough) => self.done = true,
        }
    }

    /// Decoded bytes: into the prefix, the rest to the scanner. Returns whether more are wanted.
    fn decoded(&mut self, b: &[u8], cx: &BodyCx<'_>) -> bool {
        if self.done {
            return false;
        }
        let room = cx.cap.saturating_sub(self.data.len());
        if b.len() <= room {
            self.data.extend_from_slice(b);
            return true;
        }
        self.data.extend_from_slice(&b[..room]);
        self.truncated = true;
        let rest = &b[room..];
        if !self.scan_decided {
            self.scan_decided = true;
            let format = cx.want.and_then(|w| Format::of(cx.headers.get("content-type"), &self.data).map(|f| (f, w)));
            if let Some((f, want)) = format {
                let mut s = Scanner::new(f, want, self.data.len() as u64);
                // The prefix first: the scanner's state at the cut depends on it.
                s.push(&self.data);
                self.scan = Some(Box::new(s));
            }
        }
        match self.scan.as_mut() {
            Some(s) => {
                s.push(rest);
                true
            }
            None => {
                self.done = true;
                self.decoder = None;
                false
            }
        }
    }

    /// Memory is short: drop what is kept (the message is still reported, its body cut). Returns
    /// whether anything was held.
    pub fn shed(&mut self) -> bool {
        let held = self.heap_bytes() > 0;
        self.data = Vec::new();
        self.decoder = None;
        self.scan = None;
        self.keep = false;
        self.truncated = true;
        held
    }

    /// The body as consumers see it (its buffer moves out: [`BodyAcc::give_back`] returns it).
    pub fn finish(&mut self, stats: &mut Stats) -> Body {
        let mut extra = Vec::new();
        self.decoder = None;
        if let Some(mut s) = self.scan.take() {
            s.finish();
            stats.body_fields_dropped += s.dropped;
            extra = s.fields;
        }
        let truncated = self.truncated || self.capped;
        if truncated {
            stats.bodies_truncated += 1;
        }
        if self.decode_error {
            stats.decompression_errors += 1;
        }
        Body {
            data: std::mem::take(&mut self.data),
            truncated,
            wire_len: self.wire_len,
            incomplete: self.incomplete,
            decode_error: self.decode_error,
            extra,
            framing_note: self.note,
        }
    }
}
