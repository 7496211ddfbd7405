//! HTTP/1.1 on reassembled streams.
//!
//! One [`HttpConnection`] per TCP connection, fed the in-order bytes of each direction by the
//! reassembler. Requests and responses are recognised **by content**, on any port: a direction whose
//! bytes start with a request line carries requests, one starting with `HTTP/1.` carries responses, one
//! starting with a TLS record is TLS (its ClientHello's SNI is read, nothing else), anything else is
//! scanned for a message start within a budget and then ignored.
//!
//! One module per concern: `start` (where a message starts), `head` (heads read line by line, no head
//! buffered whole: any number of fields, obs-folds unfolded, past the head cap only credential-bearing
//! and framing fields kept), [`headers`] (fields stored flat: two allocations per message), `framing`
//! (Content-Length, Transfer-Encoding, chunked), `decode` (gzip and deflate, stacked, streamed with a
//! bound), `body` (the kept prefix), `scan` (fields past the prefix, read as a stream), `pairing`
//! (responses to requests), [`tls`] (the ClientHello), `conn` (one connection: modes, gaps, resync),
//! [`ws`] (WebSocket frames after a 101 that answered `Upgrade: websocket`, messages handed on by
//! [`HttpHandler::on_ws_message`]).
//!
//! Bodies: Content-Length, chunked (with trailers) and read-until-close; no body for HEAD responses,
//! 1xx, 204 and 304. Transfer-Encoding wins over Content-Length, as servers do, and the request says so
//! (`Body::framing_note`). The first `max_body_bytes` of a decoded body are kept; past them, request
//! bodies in a format we read (form, JSON, multipart) are scanned as a stream for the fields the
//! detectors care about (`Body::extra`). Response bodies of media types no detector reads (images,
//! scripts, archives...) are not kept at all: a large download costs nothing. What the detectors care
//! about is theirs to say: [`Config`] carries their predicates (set by the pipeline from detect's rules),
//! http never imports detect.
//!
//! Responses are paired with the oldest unanswered request (pipelining), interim 1xx responses do not
//! consume it. Past `max_pending_requests` unanswered requests a connection stops pairing (counted in
//! `pipeline_overflow`): the responses to the requests still pending are paired, later ones are not,
//! and a response to an unknown request whose announced body is followed at once by a status line had
//! no body (the answer to a HEAD) instead of eating the next response. After a gap or garbage the
//! parser resynchronises on the next message start.
//!
//! What a connection holds (partial lines, heads being read or awaiting their body, kept bodies with
//! their decoders and scanners, pending requests) is reported by [`HttpConnection::held`] for the
//! memory budget, and dropped by [`HttpConnection::shed`] when memory is short and this connection
//! holds the most.

mod body;
mod conn;
mod decode;
mod framing;
pub mod h2;
mod head;
pub mod headers;
mod msg;
mod pairing;
mod scan;
mod start;
pub mod tls;
pub mod ws;

pub use conn::HttpConnection;
pub use framing::TE_OVER_CL;
pub use headers::Headers;
pub use ws::{WsMessage, WsStats};

use crate::reassembly::Side;
use crate::time::Timestamp;

/// A message body as consumers see it: de-chunked and decoded, its first `max_body_bytes` kept, the
/// fields that matter past them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// Decoded bytes: the first `max_body_bytes` after de-chunking and decoding gzip or deflate.
    pub data: Vec<u8>,
    /// The body was longer than the cap, or decoding hit its bound; `data` is a prefix.
    pub truncated: bool,
    /// Bytes of body on the wire (before de-chunking and decompression).
    pub wire_len: u64,
    /// A gap in the stream cut this body short.
    pub incomplete: bool,
    /// Content-Encoding that could not be decoded (data holds the raw bytes when nothing could be).
    pub decode_error: bool,
    /// Fields past `data` that the detectors asked for (`Config::body_field`), `(name, value)`
    /// decoded, in body order: they have no place in the excerpt.
    pub extra: Vec<(String, String)>,
    /// How the body was framed, when that is an evasion signal worth an alert's evidence.
    pub framing_note: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1, 2 for HTTP/2.
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
    /// A WebSocket message (complete, or cut by a gap or the connection's end) after a `101` that
    /// answered an `Upgrade: websocket` request.
    fn on_ws_message(&mut self, _from: Side, _msg: &WsMessage<'_>) {}
}

/// What the connections of one engine share: the configuration, the counters, and spare message
/// storage (a message's strings, fields and kept body go back to the spares once its handler has seen
/// it, so a steady stream of messages allocates nothing for them).
#[derive(Debug, Default)]
pub struct Shared {
    pub cfg: Config,
    pub stats: Stats,
    spares: msg::Spares,
}

impl Shared {
    pub fn new(cfg: Config) -> Shared {
        Shared { cfg, ..Shared::default() }
    }
}

/// Caps, and what the detectors care about (predicates: http knows formats, detect knows credentials).
#[derive(Clone, Debug)]
pub struct Config {
    /// Head bytes kept; past them only fields `keep_header` wants (and framing ones) are, up to as much
    /// again, and a head 16 times as long is given up.
    pub max_head_bytes: usize,
    /// Decoded body bytes kept for the detectors.
    pub max_body_bytes: usize,
    /// Bytes any decoding layer may output per body (and past 1 MiB, 1,100 per wire byte).
    pub max_decompressed_bytes: usize,
    pub max_pending_requests: usize,
    /// Header fields worth keeping past the head cap (they can carry credentials).
    pub keep_header: fn(&str) -> bool,
    /// Fields of a request body worth keeping past `max_body_bytes` (`None`: the rest is skipped).
    pub body_field: Option<fn(&str) -> bool>,
    /// The same for response bodies that are kept.
    pub response_field: Option<fn(&str) -> bool>,
    /// Whether a response body with this Content-Type is read at all.
    pub keep_response_body: fn(Option<&[u8]>) -> bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_head_bytes: 64 * 1024,
            max_body_bytes: 64 * 1024,
            // Past the kept prefix a body is scanned, not kept: this bounds work, not memory.
            max_decompressed_bytes: 16 * 1024 * 1024,
            max_pending_requests: 64,
            keep_header: |_| false,
            body_field: None,
            response_field: None,
            keep_response_body: |_| true,
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
    /// Heads with obs-folded lines, unfolded.
    pub heads_unfolded: u64,
    /// Bytes of head lines dropped: fields past the head cap that carry no credential, lines longer
    /// than the cap.
    pub head_bytes_dropped: u64,
    /// Messages with both Transfer-Encoding and Content-Length (framed by Transfer-Encoding).
    pub framing_conflicts: u64,
    /// Messages rejected for Content-Length values that disagree.
    pub length_conflicts: u64,
    pub bodies_truncated: u64,
    pub decompression_errors: u64,
    /// Bodies whose decoding stopped at its bound (total or ratio).
    pub decompressed_bytes_capped: u64,
    /// Wanted fields past the kept prefix dropped by the scanner's caps (value length, count).
    pub body_fields_dropped: u64,
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
    /// Cleartext HTTP/2 (h2c) and gRPC.
    pub h2: h2::H2Stats,
    /// WebSocket connections after their upgrade.
    pub ws: WsStats,
}

#[cfg(test)]
mod tests;
