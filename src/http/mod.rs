//! HTTP/1.1 on reassembled streams.
//!
//! STUB: the http helper implements this module. The public surface below is the contract.

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
    /// Decoded bytes (at most the configured cap).
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
}

/// What a stream was recognised as, by content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    Unknown,
    Http,
    /// TLS, with the server name from the ClientHello when present.
    Tls { sni: Option<String> },
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
}

/// Per-connection HTTP state (both directions). Lives inside the flow table.
#[derive(Default)]
pub struct HttpConnection {}

impl HttpConnection {
    pub fn on_data<H: HttpHandler>(&mut self, _cfg: &Config, _stats: &mut Stats, _from: Side, _data: &[u8], _ts: Timestamp, _h: &mut H) {}
    pub fn on_gap<H: HttpHandler>(&mut self, _cfg: &Config, _stats: &mut Stats, _from: Side, _len: u64, _ts: Timestamp, _h: &mut H) {}
    /// The connection ended: flush read-until-close bodies.
    pub fn on_close<H: HttpHandler>(&mut self, _cfg: &Config, _stats: &mut Stats, _ts: Timestamp, _h: &mut H) {}
    pub fn protocol(&self) -> &Protocol {
        &Protocol::Unknown
    }
}
