//! HTTP/1.1 on reassembled streams.
//!
//! One [`HttpConnection`] per TCP connection, fed the in-order bytes of each direction by the
//! reassembler. Requests and responses are recognised **by content**, on any port: a direction whose
//! bytes start with a request line carries requests, one starting with `HTTP/1.` carries responses, one
//! starting with a TLS record is TLS (its ClientHello's SNI is read, nothing else), anything else is
//! scanned for a message start within a budget and then ignored.
//!
//! Heads are parsed with httparse, in place when a whole head is inside one segment (no copy), from a
//! buffer capped at `max_head_bytes` otherwise. Bodies: Content-Length, chunked (with trailers) and
//! read-until-close; no body for HEAD responses, 1xx, 204 and 304. gzip and deflate are decoded with a
//! bound. Only the first `max_body_bytes` of a body are kept, and response bodies of media types no
//! detector reads (images, scripts, archives...) are not kept at all: a large download costs nothing.
//!
//! Responses are paired with the oldest unanswered request (pipelining), interim 1xx responses do not
//! consume it. Past `max_pending_requests` unanswered requests a connection stops pairing (counted in
//! `pipeline_overflow`): the responses to the requests still pending are paired, later ones are not,
//! and a response to an unknown request whose announced body is followed at once by a status line had
//! no body (the answer to a HEAD) instead of eating the next response. After a gap or garbage the
//! parser resynchronises on the next message start.
//!
//! What a connection holds (partial heads, parsed heads awaiting their body, kept bodies, pending
//! requests) is reported by [`HttpConnection::held`] for the memory budget, and dropped by
//! [`HttpConnection::shed`] when memory is short and this connection holds the most.

mod body;
mod conn;
mod start;
pub mod tls;

pub use conn::HttpConnection;

use crate::reassembly::Side;
use crate::time::Timestamp;

/// Header fields in wire order. Names keep their case; look-ups are case-insensitive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, Vec<u8>)>);

impl Headers {
    /// First value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }
    /// Every value of `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

/// A message body as consumers see it: de-chunked and decompressed, up to the body cap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// Decoded bytes: the first `max_body_bytes` on the wire, decompressed up to
    /// `max_decompressed_bytes` when the body is gzip or deflate encoded.
    pub data: Vec<u8>,
    /// The body was longer than the cap, or decompression hit its bound; `data` is a prefix.
    pub truncated: bool,
    /// Bytes of body on the wire (before de-chunking and decompression).
    pub wire_len: u64,
    /// A gap in the stream cut this body short.
    pub incomplete: bool,
    /// Content-Encoding that could not be decoded (data holds the raw bytes).
    pub decode_error: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    pub headers: Headers,
    pub body: Body,
    /// Capture time of the first byte of the request line.
    pub ts: Timestamp,
    /// The request's number on its connection (0 for the first), as [`RequestLine::seq`].
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub version: u8,
    pub headers: Headers,
    pub body: Body,
    pub ts: Timestamp,
}

/// What a response is paired with: the request it answers, when that request was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    pub target: String,
    pub host: Option<String>,
    /// The request's number on its connection (0 for the first): what a response answers.
    pub seq: u64,
}

/// What a stream was recognised as, by content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    Unknown,
    Http,
    /// TLS, with the server name from the ClientHello when present.
    Tls {
        sni: Option<String>,
    },
    Other,
}

/// Receives complete messages.
pub trait HttpHandler {
    fn on_request(&mut self, from: Side, req: &Request);
    fn on_response(&mut self, from: Side, resp: &Response, req: Option<&RequestLine>);
    /// The connection was recognised as TLS (called once per connection).
    fn on_tls(&mut self, _sni: Option<&str>) {}
}

/// Caps.
#[derive(Clone, Debug)]
pub struct Config {
    pub max_head_bytes: usize,
    pub max_body_bytes: usize,
    pub max_decompressed_bytes: usize,
    pub max_pending_requests: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_head_bytes: 64 * 1024,
            max_body_bytes: 64 * 1024,
            max_decompressed_bytes: 1024 * 1024,
            max_pending_requests: 64,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub requests: u64,
    pub responses: u64,
    pub parse_errors: u64,
    pub resyncs: u64,
    pub heads_too_large: u64,
    pub bodies_truncated: u64,
    pub decompression_errors: u64,
    pub tls_connections: u64,
    /// Connections that pipelined more than `max_pending_requests`: their later responses are not
    /// paired with a request (never with the wrong one).
    pub pipeline_overflow: u64,
    /// Partial heads (or ClientHellos) dropped because memory was short and their connection held the
    /// most; the parser resynchronises on the next message.
    pub memcap_heads_dropped: u64,
    /// Kept bodies dropped for the same reason (the message is still analysed, its body cut).
    pub memcap_bodies_dropped: u64,
    /// Requests awaiting a response dropped for the same reason (later responses are not paired).
    pub memcap_pending_dropped: u64,
}

#[cfg(test)]
mod tests;
