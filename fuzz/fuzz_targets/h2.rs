//! The HTTP/2 parser (frames, HPACK, streams, gRPC) on arbitrary frames: the connection is started as
//! HTTP/2 (the preface, or a flow picked up mid-stream), then the input's bytes are split into chunks,
//! directions and gaps by the input itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plainsight::http::{Config, HttpConnection, HttpHandler, Request, RequestLine, Response, Shared};
use plainsight::reassembly::Side;
use plainsight::time::Timestamp;

struct Sink;
impl HttpHandler for Sink {
    fn on_request(&mut self, _: Side, _: &Request) {}
    fn on_response(&mut self, _: Side, _: &Response, _: Option<&RequestLine>) {}
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    // Small caps so that every cap is hit.
    let cfg = Config {
        max_head_bytes: 1024,
        max_body_bytes: 1024,
        max_decompressed_bytes: 65536,
        max_pending_requests: 8,
        keep_header: |_| true,
        body_field: Some(|_| true),
        response_field: Some(|_| true),
        keep_response_body: |_| true,
    };
    let mut sh = Shared::new(cfg);
    let mut c = HttpConnection::default();
    if mode & 1 == 0 {
        c.on_data(&mut sh, Side::Client, PREFACE, Timestamp(0), &mut Sink);
    } else {
        c.set_midstream();
    }
    let mut rest = data;
    while let Some((&ctl, tail)) = rest.split_first() {
        let n = ((ctl & 0x3f) as usize + 1).min(tail.len());
        let side = if ctl & 0x40 == 0 { Side::Client } else { Side::Server };
        if ctl & 0x80 != 0 && ctl & 0x3f == 0x3f {
            c.on_gap(&mut sh, side, n as u64, Timestamp(0), &mut Sink);
        } else {
            c.on_data(&mut sh, side, &tail[..n], Timestamp(0), &mut Sink);
        }
        rest = &tail[n..];
    }
    c.on_close(&mut sh, Timestamp(0), &mut Sink);
});
