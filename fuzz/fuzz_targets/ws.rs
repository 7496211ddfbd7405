//! WebSocket frames after an upgrade (with or without permessage-deflate, with or without context
//! takeover, chosen by the first byte), on arbitrary bytes split into chunks, directions and gaps by the
//! input itself; every message goes through the WebSocket detectors and their excerpt.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plainsight::detect::{self, Found};
use plainsight::http::{Config, HttpConnection, HttpHandler, Request, RequestLine, Response, Shared, WsMessage};
use plainsight::reassembly::Side;
use plainsight::time::Timestamp;

struct Sink(Found);
impl HttpHandler for Sink {
    fn on_request(&mut self, _: Side, _: &Request) {}
    fn on_response(&mut self, _: Side, _: &Response, _: Option<&RequestLine>) {}
    fn on_ws_message(&mut self, from: Side, msg: &WsMessage<'_>) {
        self.0.clear();
        detect::ws::detect(&detect::Config::default(), from, msg, &mut self.0);
        let _ = detect::ws::stomp_answer(msg.data);
        let _ = detect::ws::excerpt(from, msg, &self.0);
    }
}

const UPGRADE: &[u8] = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else { return };
    // Small caps so that every cap is hit.
    let cfg = Config { max_body_bytes: 4096, max_decompressed_bytes: 1 << 20, ..Config::default() };
    let ext = match mode % 3 {
        0 => "",
        1 => "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        _ => "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n",
    };
    let switching = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n{ext}\r\n");
    let mut sh = Shared::new(cfg);
    let mut c = HttpConnection::default();
    let mut sink = Sink(Found::default());
    c.on_data(&mut sh, Side::Client, UPGRADE, Timestamp(0), &mut sink);
    c.on_data(&mut sh, Side::Server, switching.as_bytes(), Timestamp(0), &mut sink);
    while let Some((&ctl, tail)) = rest.split_first() {
        let n = ((ctl & 0x3f) as usize + 1).min(tail.len());
        let side = if ctl & 0x40 == 0 { Side::Client } else { Side::Server };
        if ctl & 0x80 != 0 && ctl & 0x3f == 0x3f {
            c.on_gap(&mut sh, side, n as u64, Timestamp(0), &mut sink);
        } else if ctl == 0xbe {
            c.shed(&mut sh);
        } else {
            c.on_data(&mut sh, side, &tail[..n], Timestamp(0), &mut sink);
        }
        rest = &tail[n..];
    }
    c.on_close(&mut sh, Timestamp(0), &mut sink);
});
