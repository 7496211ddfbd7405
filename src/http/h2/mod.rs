//! Cleartext HTTP/2 (h2c) on a connection the HTTP parser recognised: by the client's connection
//! preface (prior knowledge, on any port), by a server's SETTINGS frame at the start of its stream, or
//! after `Upgrade: h2c` and its `101` (the upgrade request itself is stream 1's request, already
//! reported as HTTP/1.1; its answer comes on stream 1 as HTTP/2).
//!
//! Each direction is read as a stream of frames (`frame`): the 9-byte header, then the payload as it
//! arrives, never buffered whole: DATA goes to its stream's body as it comes, a header block (HEADERS or
//! PUSH_PROMISE and their CONTINUATION frames, padding and priority fields skipped) is collected up to
//! its cap and decoded with the direction's HPACK table (`hpack`). Streams interleave: each has a
//! request half and a response half, and a half is handed to the same [`HttpHandler`] as HTTP/1.1
//! messages once its END_STREAM arrives (or its stream is reset, or the connection ends), so every
//! detector works on HTTP/2. A request gets the next number on the connection (`Request::seq`) and its
//! response the same (`RequestLine::seq`): pairing is by stream, not by order.
//!
//! A direction's header table is the state that makes it readable. A direction whose table was missed
//! (picked up mid-connection, a gap over a header block, a block past its cap, a block that does not
//! decode) is marked undecodable, counted, and its header blocks are skipped from then on: never
//! decoded against a table we know to be wrong, so never a guessed header. A gap that leaves the
//! frame boundaries unknown (across a frame header) loses the direction altogether (counted).
//!
//! gRPC (`application/grpc*`) bodies are split into their length-prefixed messages (`grpc`), compressed
//! ones decoded, and kept re-framed for the detectors. Everything is bounded: open streams
//! ([`MAX_STREAMS`]), a header block (the head cap), decoded header fields (twice the head cap, as
//! HTTP/1.1 heads), the HPACK table ([`hpack::MAX_TABLE`]), bodies (`max_body_bytes`, decoding bounds).

pub mod frame;
pub mod grpc;
mod hpack;
mod huffman;

use super::body::{BodyAcc, BodyCx};
use super::framing;
use super::head::{CE, MAX_FIELDS};
use super::headers::Headers;
use super::{HttpHandler, Request, RequestLine, Response, Shared, Stats};
use crate::reassembly::Side;
use crate::time::Timestamp;
use frame::{HEADER_LEN, Header};
use grpc::Grpc;

/// Streams tracked at once per connection. Servers allow 100 to 128 concurrent streams
/// (SETTINGS_MAX_CONCURRENT_STREAMS: nghttp2 100, Go 250 but clients open far fewer); past this a new
/// request is reported at once from its headers (its body is not read) and counted
/// (`streams_over_cap`).
pub const MAX_STREAMS: usize = 128;
/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;

/// HTTP/2 counters (a part of [`Stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct H2Stats {
    /// Connections recognised as HTTP/2 by their preface (prior knowledge) or a server's SETTINGS.
    pub connections: u64,
    /// Connections switched to HTTP/2 by `Upgrade: h2c`.
    pub upgrades: u64,
    pub frames: u64,
    /// Frames longer than the receiver's SETTINGS_MAX_FRAME_SIZE (read anyway, streamed).
    pub frames_oversized: u64,
    /// Frames that break the protocol (padding longer than the frame, a frame of the wrong size, a
    /// CONTINUATION out of place): skipped.
    pub frames_malformed: u64,
    /// Header blocks longer than their cap: not decoded, their direction undecodable.
    pub blocks_too_large: u64,
    /// Directions whose header table was missed (mid-connection pick-up, a gap, a block too large or
    /// that does not decode): their header blocks are skipped from then on.
    pub undecodable: u64,
    /// Header blocks skipped because their direction is undecodable.
    pub blocks_skipped: u64,
    /// Requests past `MAX_STREAMS` open streams (none of them only awaiting its response): reported
    /// from their headers alone.
    pub streams_over_cap: u64,
    /// Streams that only awaited their response, forgotten to make room for a new one (that response,
    /// if it comes, is unpaired).
    pub streams_forgotten: u64,
    /// Directions whose frame boundaries were lost (a gap across a frame header): no longer read.
    pub directions_lost: u64,
    pub grpc_messages: u64,
}

impl H2Stats {
    pub fn merge(&mut self, o: &H2Stats) {
        self.connections += o.connections;
        self.upgrades += o.upgrades;
        self.frames += o.frames;
        self.frames_oversized += o.frames_oversized;
        self.frames_malformed += o.frames_malformed;
        self.blocks_too_large += o.blocks_too_large;
        self.undecodable += o.undecodable;
        self.blocks_skipped += o.blocks_skipped;
        self.streams_over_cap += o.streams_over_cap;
        self.streams_forgotten += o.streams_forgotten;
        self.directions_lost += o.directions_lost;
        self.grpc_messages += o.grpc_messages;
    }
}

/// The frame being read.
#[derive(Clone, Copy, Debug)]
struct Frame {
    h: Header,
    /// Payload bytes read.
    read: u32,
    /// Where its content starts and ends in the payload (padding and priority fields excluded; the end
    /// is known once the pad length is read).
    start: u32,
    end: u32,
    padded: bool,
    /// Its content is ignored (malformed, or cut by a gap).
    skip: bool,
}

/// A header block being collected (HEADERS or PUSH_PROMISE, then CONTINUATION frames).
#[derive(Clone, Copy, Debug)]
struct Block {
    stream: u32,
    end_stream: bool,
    push: bool,
    /// Longer than its cap: not kept, not decodable.
    too_large: bool,
    /// Dropped because memory was short (counted then): not decodable either.
    shed: bool,
}

/// One direction of the connection.
#[derive(Debug, Default)]
struct Dir {
    /// Bytes of the client preface still expected.
    preface: usize,
    hdr: [u8; HEADER_LEN],
    have: usize,
    frame: Option<Frame>,
    block: Option<Block>,
    block_bytes: Vec<u8>,
    hpack: hpack::Decoder,
    /// The header table is unknown: header blocks are skipped.
    undecodable: bool,
    /// Frame boundaries are unknown: nothing more is read.
    lost: bool,
    /// The largest frame the other side accepts (its SETTINGS_MAX_FRAME_SIZE).
    max_frame: u32,
    /// A SETTINGS entry split across segments.
    setting: [u8; 6],
    setting_have: usize,
}

impl Dir {
    fn new(preface: bool) -> Dir {
        Dir {
            preface: if preface { frame::PREFACE.len() } else { 0 },
            max_frame: frame::DEFAULT_MAX_FRAME,
            ..Dir::default()
        }
    }
}

/// One half of a stream: the request (from the client) or the response.
#[derive(Debug, Default)]
struct Half {
    /// Headers seen.
    open: bool,
    /// Handed to the handler.
    done: bool,
    method: String,
    path: String,
    authority: Option<String>,
    status: u16,
    headers: Headers,
    body: BodyAcc,
    grpc: Option<Box<Grpc>>,
    ts: Timestamp,
}

impl Half {
    fn heap_bytes(&self) -> usize {
        self.method.capacity()
            + self.path.capacity()
            + self.authority.as_ref().map_or(0, String::capacity)
            + self.headers.heap_bytes()
            + self.body.heap_bytes()
            + self.grpc.as_ref().map_or(0, |g| std::mem::size_of::<Grpc>() + ALLOC + g.heap_bytes())
    }
}

#[derive(Debug, Default)]
struct Stream {
    id: u32,
    /// The request's number on the connection.
    seq: u64,
    /// The request, for its response (method, target, host).
    line: Option<RequestLine>,
    /// By direction index: [0] what the client sends, [1] what the server sends.
    halves: [Half; 2],
}

/// The fields of one decoded header block, before they are applied to a stream.
#[derive(Default)]
struct Decoded {
    method: Option<String>,
    path: Option<String>,
    authority: Option<String>,
    status: Option<u16>,
    headers: Headers,
    dropped: u64,
}

/// HTTP/2 state of one connection.
#[derive(Debug)]
pub struct Conn {
    dirs: [Dir; 2],
    /// Index of the direction the client sends (the preface's sender).
    client: usize,
    streams: Vec<Stream>,
    next_seq: u64,
}

/// Whether an `Upgrade` field names h2c (`Upgrade: h2c`, possibly among others).
pub fn upgrade_to_h2c(upgrade: Option<&[u8]>) -> bool {
    upgrade.is_some_and(|v| v.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"h2c")))
}

fn side(d: usize) -> Side {
    if d == 0 { Side::Client } else { Side::Server }
}

impl Conn {
    /// Prior knowledge: `client` sends the preface (if `preface`: not yet seen), requests get numbers
    /// from `next_seq`.
    pub fn new(client: usize, preface: bool, next_seq: u64, stats: &mut Stats) -> Conn {
        stats.h2.connections += 1;
        let mut dirs = [Dir::default(), Dir::default()];
        dirs[client] = Dir::new(preface);
        dirs[1 - client] = Dir::new(false);
        Conn { dirs, client, streams: Vec::new(), next_seq }
    }

    /// After `Upgrade: h2c` and its 101: stream 1 is the upgrade request (`req`, already reported), the
    /// client sends the preface next.
    pub fn upgraded(client: usize, req: Option<RequestLine>, next_seq: u64, stats: &mut Stats) -> Conn {
        stats.h2.upgrades += 1;
        let mut dirs = [Dir::default(), Dir::default()];
        dirs[client] = Dir::new(true);
        dirs[1 - client] = Dir::new(false);
        let mut s = Stream { id: 1, seq: req.as_ref().map_or(0, |r| r.seq), line: req, ..Stream::default() };
        s.halves[0].open = true;
        s.halves[0].done = true;
        Conn { dirs, client, streams: vec![s], next_seq }
    }

    /// Direction `d` was picked up mid-connection: its header table is unknown.
    pub fn undecodable(&mut self, d: usize, stats: &mut Stats) {
        let dir = &mut self.dirs[d];
        dir.preface = 0;
        if !dir.undecodable {
            dir.undecodable = true;
            stats.h2.undecodable += 1;
        }
    }

    /// Heap bytes held: header blocks being collected, HPACK tables, streams with their heads and
    /// bodies.
    pub fn held(&self) -> usize {
        let mut n = std::mem::size_of::<Conn>() + ALLOC + self.streams.capacity() * std::mem::size_of::<Stream>();
        for d in &self.dirs {
            n += d.block_bytes.capacity() + d.hpack.heap_bytes();
        }
        for s in &self.streams {
            n += s.halves[0].heap_bytes() + s.halves[1].heap_bytes();
            n += s.line.as_ref().map_or(0, super::pairing::request_line_cost);
        }
        n
    }

    /// Memory is short: drop kept bodies (their messages are still reported, cut) and header blocks
    /// being collected (their direction becomes undecodable).
    pub fn shed(&mut self, stats: &mut Stats) {
        for s in &mut self.streams {
            for half in &mut s.halves {
                let body = half.body.shed();
                let grpc = half.grpc.as_mut().is_some_and(|g| g.shed());
                if body || grpc {
                    stats.memcap_bodies_dropped += 1;
                }
            }
        }
        for d in 0..2 {
            if self.dirs[d].block_bytes.capacity() > 0 {
                self.dirs[d].block_bytes = Vec::new();
                if let Some(b) = self.dirs[d].block.as_mut() {
                    b.shed = true;
                    stats.memcap_heads_dropped += 1;
                }
            }
        }
    }

    /// In-order bytes sent by `from`.
    pub fn on_data<H: HttpHandler>(&mut self, sh: &mut Shared, from: Side, mut data: &[u8], ts: Timestamp, h: &mut H) {
        let d = from.index();
        while !data.is_empty() {
            let dir = &mut self.dirs[d];
            if dir.lost {
                return;
            }
            if dir.preface > 0 {
                let at = frame::PREFACE.len() - dir.preface;
                let n = dir.preface.min(data.len());
                if data[..n] != frame::PREFACE[at..at + n] {
                    // Not the preface after all: nothing here can be read as frames.
                    self.lose(d, &mut sh.stats);
                    return;
                }
                dir.preface -= n;
                data = &data[n..];
                continue;
            }
            match dir.frame {
                None => {
                    let n = (HEADER_LEN - dir.have).min(data.len());
                    dir.hdr[dir.have..dir.have + n].copy_from_slice(&data[..n]);
                    dir.have += n;
                    data = &data[n..];
                    if dir.have == HEADER_LEN {
                        dir.have = 0;
                        let hd = Header::parse(&dir.hdr);
                        self.start_frame(d, hd, sh, ts, h);
                    }
                }
                Some(f) => {
                    let n = ((f.h.len - f.read) as usize).min(data.len());
                    self.payload(d, &data[..n], sh);
                    data = &data[n..];
                    if let Some(f) = self.dirs[d].frame.as_mut() {
                        f.read += n as u32;
                        if f.read == f.h.len {
                            self.end_frame(d, sh, ts, h);
                        }
                    }
                }
            }
        }
    }

    /// The frame boundaries of direction `d` are lost.
    fn lose(&mut self, d: usize, stats: &mut Stats) {
        let dir = &mut self.dirs[d];
        if !dir.lost {
            dir.lost = true;
            stats.h2.directions_lost += 1;
        }
        if !dir.undecodable {
            dir.undecodable = true;
            stats.h2.undecodable += 1;
        }
        dir.frame = None;
        dir.block = None;
        dir.block_bytes = Vec::new();
    }

    fn start_frame<H: HttpHandler>(&mut self, d: usize, hd: Header, sh: &mut Shared, ts: Timestamp, h: &mut H) {
        let stats = &mut sh.stats;
        stats.h2.frames += 1;
        let dir = &mut self.dirs[d];
        if hd.len > dir.max_frame {
            stats.h2.frames_oversized += 1;
        }
        // A header block continues only with CONTINUATION frames of its stream (RFC 9113 6.10).
        let continuation = hd.kind == frame::CONTINUATION;
        match dir.block {
            Some(b) if !continuation || hd.stream != b.stream => {
                stats.h2.frames_malformed += 1;
                dir.block = None;
                dir.block_bytes.clear();
                if !dir.undecodable {
                    dir.undecodable = true;
                    stats.h2.undecodable += 1;
                }
            }
            None if continuation => stats.h2.frames_malformed += 1,
            _ => {}
        }
        let padded =
            hd.flags & frame::PADDED != 0 && matches!(hd.kind, frame::DATA | frame::HEADERS | frame::PUSH_PROMISE);
        let extra = match hd.kind {
            frame::HEADERS if hd.flags & frame::PRIORITY_FLAG != 0 => 5,
            frame::PUSH_PROMISE => 4,
            _ => 0,
        };
        let start = u32::from(padded) + extra;
        let mut f = Frame { h: hd, read: 0, start, end: hd.len, padded, skip: false };
        let fixed = match hd.kind {
            frame::RST_STREAM | frame::WINDOW_UPDATE => Some(4),
            frame::PRIORITY => Some(5),
            frame::PING => Some(8),
            _ => None,
        };
        let stream_kind = matches!(hd.kind, frame::DATA | frame::HEADERS | frame::PUSH_PROMISE | frame::CONTINUATION);
        if hd.len < start
            || fixed.is_some_and(|n| n != hd.len)
            || (hd.kind == frame::SETTINGS && hd.len % 6 != 0)
            || (stream_kind && hd.stream == 0)
        {
            stats.h2.frames_malformed += 1;
            f.skip = true;
        }
        match hd.kind {
            frame::HEADERS | frame::PUSH_PROMISE if !f.skip => {
                dir.block = Some(Block {
                    stream: hd.stream,
                    end_stream: hd.kind == frame::HEADERS && hd.flags & frame::END_STREAM != 0,
                    push: hd.kind == frame::PUSH_PROMISE,
                    too_large: false,
                    shed: false,
                });
                dir.block_bytes.clear();
            }
            frame::HEADERS | frame::PUSH_PROMISE if !dir.undecodable => {
                // A header block we cannot read: the table is unknown from here.
                dir.undecodable = true;
                stats.h2.undecodable += 1;
            }
            frame::SETTINGS => dir.setting_have = 0,
            _ => {}
        }
        dir.frame = Some(f);
        if hd.len == 0 {
            self.end_frame(d, sh, ts, h);
        }
    }

    /// Payload bytes of the current frame of direction `d` (at most up to its end).
    fn payload(&mut self, d: usize, mut b: &[u8], sh: &mut Shared) {
        let client = self.client;
        let Shared { cfg, stats, .. } = &mut *sh;
        let dir = &mut self.dirs[d];
        let Some(f) = dir.frame.as_mut() else { return };
        let mut off = f.read;
        if f.padded && off == 0 && !b.is_empty() {
            let pad = u32::from(b[0]);
            match f.h.len.checked_sub(pad).filter(|&e| e >= f.start) {
                Some(e) => f.end = e,
                None => {
                    // Padding longer than the frame: a protocol error the receiver rejects.
                    stats.h2.frames_malformed += 1;
                    f.skip = true;
                    if matches!(f.h.kind, frame::HEADERS | frame::PUSH_PROMISE) {
                        dir.block = None;
                        if !dir.undecodable {
                            dir.undecodable = true;
                            stats.h2.undecodable += 1;
                        }
                    }
                }
            }
            b = &b[1..];
            off = 1;
        }
        if f.skip {
            return;
        }
        let (cs, ce) = (f.start.max(off), f.end.min(off + b.len() as u32));
        if cs >= ce {
            return;
        }
        let content = &b[(cs - off) as usize..(ce - off) as usize];
        let f = *f;
        match f.h.kind {
            frame::DATA => {
                let half = usize::from(d != client);
                if let Some(s) = self.streams.iter_mut().find(|s| s.id == f.h.stream) {
                    let hf = &mut s.halves[half];
                    if hf.open && !hf.done {
                        push_body(hf, content, cfg, stats);
                    }
                }
            }
            frame::HEADERS | frame::PUSH_PROMISE | frame::CONTINUATION => {
                let Some(blk) = dir.block.as_mut() else { return };
                if blk.too_large || blk.shed {
                    return;
                }
                if dir.block_bytes.len() + content.len() > cfg.max_head_bytes {
                    blk.too_large = true;
                    dir.block_bytes = Vec::new();
                    return;
                }
                dir.block_bytes.extend_from_slice(content);
            }
            frame::SETTINGS if f.h.flags & frame::ACK == 0 => {
                let mut content = content;
                let mut max_frame = None;
                while !content.is_empty() {
                    let n = (6 - dir.setting_have).min(content.len());
                    dir.setting[dir.setting_have..dir.setting_have + n].copy_from_slice(&content[..n]);
                    dir.setting_have += n;
                    content = &content[n..];
                    if dir.setting_have == 6 {
                        dir.setting_have = 0;
                        let s = dir.setting;
                        // SETTINGS_HEADER_TABLE_SIZE is not applied here: it bounds the other side's
                        // encoder, which must say so with a size update in its next block, and that
                        // update resizes our copy of its table (a resize on the setting itself would
                        // evict entries that blocks already in flight still use).
                        if u16::from_be_bytes([s[0], s[1]]) == frame::SETTINGS_MAX_FRAME_SIZE {
                            max_frame = Some(u32::from_be_bytes([s[2], s[3], s[4], s[5]]));
                        }
                    }
                }
                if let Some(v) = max_frame {
                    // The largest frame this side accepts: what the other side may send.
                    self.dirs[1 - d].max_frame = v.clamp(frame::DEFAULT_MAX_FRAME, (1 << 24) - 1);
                }
            }
            _ => {}
        }
    }

    fn end_frame<H: HttpHandler>(&mut self, d: usize, sh: &mut Shared, ts: Timestamp, h: &mut H) {
        let Some(f) = self.dirs[d].frame.take() else { return };
        let id = f.h.stream;
        match f.h.kind {
            // END_STREAM is in the header: it holds even when the content was cut by a gap.
            frame::DATA if f.h.flags & frame::END_STREAM != 0 => {
                let half = usize::from(d != self.client);
                if let Some(i) = self.streams.iter().position(|s| s.id == id) {
                    self.end_half(i, half, sh, h);
                }
            }
            frame::HEADERS | frame::PUSH_PROMISE | frame::CONTINUATION
                if !f.skip && f.h.flags & frame::END_HEADERS != 0 =>
            {
                if let Some(b) = self.dirs[d].block.take() {
                    self.block_done(d, b, sh, ts, h);
                }
            }
            frame::RST_STREAM if !f.skip => {
                // The stream ends here: what it carried so far is reported, cut.
                if let Some(i) = self.streams.iter().position(|s| s.id == id) {
                    for hf in &mut self.streams[i].halves {
                        mark_incomplete(hf);
                        if !hf.open {
                            hf.done = true;
                        }
                    }
                    self.end_half(i, 0, sh, h);
                    if let Some(i) = self.streams.iter().position(|s| s.id == id) {
                        self.end_half(i, 1, sh, h);
                    }
                }
            }
            _ => {}
        }
    }

    /// A header block is complete: decode it with the direction's table and apply it to its stream.
    fn block_done<H: HttpHandler>(&mut self, d: usize, b: Block, sh: &mut Shared, ts: Timestamp, h: &mut H) {
        let Shared { cfg, stats, .. } = &mut *sh;
        let dir = &mut self.dirs[d];
        if b.too_large || b.shed {
            if b.too_large {
                stats.h2.blocks_too_large += 1;
            }
            dir.block_bytes = Vec::new();
            if !dir.undecodable {
                dir.undecodable = true;
                stats.h2.undecodable += 1;
            }
            return;
        }
        if dir.undecodable {
            stats.h2.blocks_skipped += 1;
            dir.block_bytes.clear();
            return;
        }
        let mut out = Decoded::default();
        let cap = cfg.max_head_bytes.saturating_mul(2);
        let block = std::mem::take(&mut dir.block_bytes);
        let res = dir.hpack.decode(&block, &mut |n, v| field(&mut out, n, v, cap));
        // The buffer is reused unless a large block grew it.
        if block.capacity() <= 4096 {
            dir.block_bytes = block;
            dir.block_bytes.clear();
        }
        if res.is_err() {
            // The fields decoded before the error are dropped too: the table they came from is in
            // doubt.
            dir.undecodable = true;
            stats.h2.undecodable += 1;
            return;
        }
        stats.head_bytes_dropped += out.dropped;
        if b.push {
            // A promised request: decoded to keep the table, not a request the client sent.
            return;
        }
        self.apply(d, b.stream, out, b.end_stream, sh, ts, h);
    }

    /// Decoded headers of stream `id` from direction `d`.
    #[allow(clippy::too_many_arguments)]
    fn apply<H: HttpHandler>(
        &mut self,
        d: usize,
        id: u32,
        dec: Decoded,
        end_stream: bool,
        sh: &mut Shared,
        ts: Timestamp,
        h: &mut H,
    ) {
        let half = usize::from(d != self.client);
        let mut found = self.streams.iter().position(|s| s.id == id);
        if found.is_none() && self.streams.len() >= MAX_STREAMS {
            // Room first from the oldest stream that only awaits its response (reported already: a
            // capture of the client's side alone never sees one): its response, if it comes, is unpaired.
            let waiting = self.streams.iter().enumerate().filter(|(_, s)| s.halves[0].done && !s.halves[1].open);
            if let Some((k, _)) = waiting.min_by_key(|(_, s)| s.id) {
                sh.stats.h2.streams_forgotten += 1;
                self.streams.swap_remove(k);
            }
        }
        let i = match found.take() {
            Some(i) => i,
            None if self.streams.len() >= MAX_STREAMS => {
                // No room to follow it: reported from its headers alone, now.
                sh.stats.h2.streams_over_cap += 1;
                let mut s = Stream { id, seq: self.take_seq(half), ..Stream::default() };
                open(&mut s.halves[half], dec, half == 0, ts, sh);
                emit(self.client, &mut s, half, sh, h);
                return;
            }
            None => {
                let mut s = Stream { id, seq: self.take_seq(half), ..Stream::default() };
                if half == 1 {
                    // A response to a request we did not see (or a pushed one): no request will come.
                    s.halves[0].open = true;
                    s.halves[0].done = true;
                }
                self.streams.push(s);
                self.streams.len() - 1
            }
        };
        let hf = &mut self.streams[i].halves[half];
        if hf.done {
            return;
        }
        let interim = half == 1 && (100..200).contains(&hf.status);
        if !hf.open || (interim && dec.status.is_some()) {
            *hf = Half::default();
            open(hf, dec, half == 0, ts, sh);
        } else {
            // Trailers: kept with the headers (a token can hide there too), within the head's bound.
            let cap = sh.cfg.max_head_bytes.saturating_mul(2);
            for (n, v) in dec.headers.iter() {
                if hf.headers.bytes() + n.len() + v.len() <= cap {
                    hf.headers.push(n, v);
                } else {
                    sh.stats.head_bytes_dropped += (n.len() + v.len()) as u64;
                }
            }
        }
        if end_stream {
            self.end_half(i, half, sh, h);
        }
    }

    /// A request's number (responses to unknown requests take none).
    fn take_seq(&mut self, half: usize) -> u64 {
        if half == 0 {
            self.next_seq += 1;
            self.next_seq - 1
        } else {
            u64::MAX
        }
    }

    /// Half `half` of stream `i` ended: handed to the handler; the stream is dropped once both are.
    fn end_half<H: HttpHandler>(&mut self, i: usize, half: usize, sh: &mut Shared, h: &mut H) {
        let Some(s) = self.streams.get_mut(i) else { return };
        if s.halves[half].open && !s.halves[half].done {
            emit(self.client, s, half, sh, h);
        }
        if s.halves.iter().all(|x| x.done) {
            self.streams.swap_remove(i);
        }
    }

    /// `len` bytes sent by `from` were never seen.
    pub fn on_gap(&mut self, from: Side, len: u64, stats: &mut Stats) {
        let d = from.index();
        let client = self.client;
        let dir = &mut self.dirs[d];
        if dir.lost {
            return;
        }
        let Some(f) = dir.frame else {
            // At a frame header (or inside one, or the preface): where the next frame starts is unknown.
            return self.lose(d, stats);
        };
        let rest = u64::from(f.h.len - f.read);
        // A gap ending exactly with a DATA frame keeps the boundaries (and its END_STREAM flag); any
        // other reaching the next frame header does not.
        if len > rest || (len == rest && f.h.kind != frame::DATA) {
            return self.lose(d, stats);
        }
        match f.h.kind {
            frame::DATA => {
                let half = usize::from(d != client);
                if let Some(s) = self.streams.iter_mut().find(|s| s.id == f.h.stream) {
                    let hf = &mut s.halves[half];
                    mark_incomplete(hf);
                    if let Some(g) = hf.grpc.as_mut() {
                        // Message boundaries inside the body are lost: what follows is not read.
                        g.lost();
                    }
                }
            }
            frame::HEADERS | frame::PUSH_PROMISE | frame::CONTINUATION => {
                dir.block = None;
                dir.block_bytes = Vec::new();
                if !dir.undecodable {
                    dir.undecodable = true;
                    stats.h2.undecodable += 1;
                }
            }
            _ => {}
        }
        // Within the frame: its boundaries still hold; the rest of its content is not delivered (its
        // padding may be unknown).
        if let Some(f) = dir.frame.as_mut() {
            f.skip = true;
            f.read += len as u32;
        }
    }

    /// The connection ended: halves still open are reported, cut.
    pub fn on_close<H: HttpHandler>(&mut self, sh: &mut Shared, h: &mut H) {
        let mut streams = std::mem::take(&mut self.streams);
        streams.sort_by_key(|s| s.id);
        for s in &mut streams {
            for half in 0..2 {
                let hf = &mut s.halves[half];
                if hf.open && !hf.done {
                    mark_incomplete(hf);
                    emit(self.client, s, half, sh, h);
                }
            }
        }
    }
}

/// Hand half `half` of `s` to the handler.
fn emit<H: HttpHandler>(client: usize, s: &mut Stream, half: usize, sh: &mut Shared, h: &mut H) {
    let stats = &mut sh.stats;
    let from = side(if half == 0 { client } else { 1 - client });
    let hf = &mut s.halves[half];
    hf.done = true;
    let body = match hf.grpc.as_mut() {
        Some(g) => g.finish(stats),
        None => hf.body.finish(stats),
    };
    if half == 0 {
        stats.requests += 1;
        let req = Request {
            method: std::mem::take(&mut hf.method),
            target: std::mem::take(&mut hf.path),
            version: 2,
            headers: std::mem::take(&mut hf.headers),
            body,
            ts: hf.ts,
            seq: s.seq,
        };
        h.on_request(from, &req);
        s.line = Some(RequestLine { method: req.method, target: req.target, host: hf.authority.take(), seq: s.seq });
    } else {
        stats.responses += 1;
        let resp = Response {
            status: hf.status,
            reason: String::new(),
            version: 2,
            headers: std::mem::take(&mut hf.headers),
            body,
            ts: hf.ts,
        };
        h.on_response(from, &resp, s.line.as_ref());
    }
    // What the handler has seen is not kept.
    *hf = Half { open: true, done: true, ..Half::default() };
}

/// One decoded field into `out` (pseudo-header fields apart), within `cap` bytes of fields.
fn field(out: &mut Decoded, n: &[u8], v: &[u8], cap: usize) {
    let text = || String::from_utf8_lossy(v).into_owned();
    match n {
        b":method" => out.method = Some(text()),
        b":path" => out.path = Some(text()),
        b":authority" => {
            // The host, as HTTP/1.1's Host field (RFC 9113 8.3.1): detectors and the hosts view read it.
            if out.headers.bytes() + 4 + v.len() <= cap {
                out.headers.push("host", v);
            }
            out.authority = Some(text());
        }
        b":status" => {
            out.status = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok());
        }
        _ if n.first() == Some(&b':') => {}
        _ => {
            let name = match std::str::from_utf8(n) {
                Ok(s) => s,
                Err(_) => return out.dropped += (n.len() + v.len()) as u64,
            };
            if name.eq_ignore_ascii_case("host") && out.authority.is_some() {
                // Already there from :authority.
                return;
            }
            if out.headers.len() >= MAX_FIELDS || out.headers.bytes() + n.len() + v.len() > cap {
                out.dropped += (n.len() + v.len()) as u64;
                return;
            }
            out.headers.push(name, v);
        }
    }
}

/// Open a half with its first header block: its start line, fields, and its body's decoding.
fn open(hf: &mut Half, dec: Decoded, request: bool, ts: Timestamp, sh: &mut Shared) {
    hf.open = true;
    hf.ts = ts;
    hf.method = dec.method.unwrap_or_default();
    hf.path = match dec.path {
        Some(p) => p,
        // CONNECT names its target in :authority.
        None => dec.authority.clone().unwrap_or_default(),
    };
    hf.authority = dec.authority;
    hf.status = dec.status.unwrap_or(0);
    hf.headers = dec.headers;
    let cfg = &sh.cfg;
    let ct = hf.headers.get("content-type");
    if grpc::is_grpc(ct) {
        hf.grpc = Some(Box::new(Grpc::new(hf.headers.get("grpc-encoding"))));
        return;
    }
    let keep = request || (cfg.keep_response_body)(ct);
    let codings = framing::decide(&hf.headers, CE, request, false).map(|d| d.codings).unwrap_or_default();
    hf.body.reset(keep, &codings, cfg.max_decompressed_bytes, cfg.max_body_bytes, None);
}

fn push_body(hf: &mut Half, b: &[u8], cfg: &super::Config, stats: &mut Stats) {
    if let Some(g) = hf.grpc.as_mut() {
        g.push(b, cfg.max_body_bytes, cfg.max_decompressed_bytes, stats);
        return;
    }
    let want = if hf.method.is_empty() { cfg.response_field } else { cfg.body_field };
    let cx = BodyCx { cap: cfg.max_body_bytes, want, headers: &hf.headers };
    hf.body.push(b, &cx, stats);
}

fn mark_incomplete(hf: &mut Half) {
    hf.body.incomplete = true;
    if let Some(g) = hf.grpc.as_mut() {
        g.incomplete = true;
    }
}

#[cfg(test)]
mod tests;
