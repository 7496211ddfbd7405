//! A message being read (its head, then its body), and the spare ones an engine keeps for reuse: a
//! message's storage (strings, fields, kept body, the box itself) goes back to [`Spares`] once the
//! handler has seen it, so a steady stream of messages allocates nothing for them.

use std::fmt;

use super::RequestLine;
use super::body::BodyAcc;
use super::framing::Framing;
use super::head::HeadReader;
use super::headers::Headers;
use super::pairing::request_line_cost;
use crate::time::Timestamp;

/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;
/// Spare messages kept per engine.
const MAX_SPARE_MSGS: usize = 16;
/// Spare request lines kept per engine (pipelined requests awaiting their answer take them).
const MAX_SPARE_LINES: usize = 64;
/// A spare keeps its buffers only while they hold at most this much: a message with a 60 KiB head or
/// body does not pin 60 KiB in the pool (16 spares hold at most 256 KiB per engine).
const MAX_SPARE_BYTES: usize = 16 * 1024;

/// A message whose head is being read, or whose body is arriving.
#[derive(Debug, Default)]
pub struct Msg {
    pub request: bool,
    /// Request line (requests).
    pub method: String,
    pub target: String,
    /// Status line (responses).
    pub status: u16,
    pub reason: String,
    pub version: u8,
    /// The request's number on its connection (requests).
    pub seq: u64,
    /// The request a response answers, when known.
    pub req: Option<RequestLine>,
    pub headers: Headers,
    pub ts: Timestamp,
    pub head: HeadReader,
    pub framing: Framing,
    pub body: BodyAcc,
    /// After this message the connection stops being HTTP (101, CONNECT 2xx).
    pub tunnel: bool,
    /// A response to a request we do not know (HEAD-ness unknown): its announced body may not follow.
    /// Decided by the next bytes: a status line means there was none.
    pub peek: bool,
    /// Heap bytes of the complete head (box, start line, fields, paired request), computed once the
    /// head is complete: `held` is asked per segment while the body arrives. 0 while the head is read.
    pub head_cost: usize,
}

fn string_cost(s: &String) -> usize {
    if s.capacity() == 0 { 0 } else { s.capacity() + ALLOC }
}

impl Msg {
    /// Heap bytes held (for the memory budget): the box, the start line, the fields, the body.
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        if self.head_cost > 0 {
            return self.head_cost + self.body.heap_bytes();
        }
        self.head_bytes() + self.body.heap_bytes()
    }

    /// Heap bytes of the head: the box, the start line, the fields, the paired request.
    pub fn head_bytes(&self) -> usize {
        std::mem::size_of::<Msg>()
            + ALLOC
            + string_cost(&self.method)
            + string_cost(&self.target)
            + string_cost(&self.reason)
            + self.req.as_ref().map_or(0, request_line_cost)
            + self.headers.heap_bytes()
    }
}

/// Spare messages and request lines of one engine (not charged to the memory budget: a fixed
/// overhead, bounded by the caps above).
#[derive(Default)]
pub struct Spares {
    /// Boxed: a message moves between a connection and the spares, and a box moves as one pointer.
    #[allow(clippy::vec_box)]
    msgs: Vec<Box<Msg>>,
    lines: Vec<RequestLine>,
}

impl fmt::Debug for Spares {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: usize = self.msgs.iter().map(|m| m.heap_bytes()).sum();
        write!(f, "Spares({} messages, {} request lines, {bytes} bytes)", self.msgs.len(), self.lines.len())
    }
}

impl Spares {
    /// An empty message (its buffers possibly grown by an earlier one).
    pub fn msg(&mut self) -> Box<Msg> {
        self.msgs.pop().unwrap_or_default()
    }

    /// A message the handler has seen: emptied and kept for the next one.
    pub fn put(&mut self, mut m: Box<Msg>) {
        if self.msgs.len() >= MAX_SPARE_MSGS {
            return;
        }
        if let Some(r) = m.req.take() {
            self.put_line(r);
        }
        let big =
            m.method.capacity() + m.target.capacity() + m.reason.capacity() + m.headers.heap_bytes() > MAX_SPARE_BYTES;
        if big {
            m.method = String::new();
            m.target = String::new();
            m.reason = String::new();
            m.headers = Headers::new();
        } else {
            m.method.clear();
            m.target.clear();
            m.reason.clear();
            m.headers.clear();
        }
        m.body.recycle(MAX_SPARE_BYTES);
        m.head = HeadReader::default();
        m.framing = Framing::None;
        m.tunnel = false;
        m.peek = false;
        m.head_cost = 0;
        self.msgs.push(m);
    }

    /// An empty request line.
    pub fn line(&mut self) -> RequestLine {
        self.lines.pop().unwrap_or_else(|| RequestLine {
            method: String::new(),
            target: String::new(),
            host: None,
            seq: 0,
        })
    }

    pub fn put_line(&mut self, mut r: RequestLine) {
        if self.lines.len() >= MAX_SPARE_LINES || r.target.capacity() > MAX_SPARE_BYTES {
            return;
        }
        r.method.clear();
        r.target.clear();
        if let Some(h) = r.host.as_mut() {
            h.clear();
        }
        self.lines.push(r);
    }
}
