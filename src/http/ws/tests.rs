//! The WebSocket framer: every cutting, masking, fragments with control frames between, deflate with and
//! without context takeover, bombs, impossible lengths, gaps, the kept prefix and the memory budget.

use flate2::{Compress, Compression, FlushCompress};

use super::*;
use crate::http::{HttpConnection, HttpHandler, Request, RequestLine, Response, Shared, Stats};

/// A message as the handler saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Got {
    from: Side,
    text: bool,
    data: Vec<u8>,
    truncated: bool,
    incomplete: bool,
    compressed: bool,
    seq: u64,
    peer: u64,
    target: String,
    host: Option<String>,
}

#[derive(Default)]
struct Msgs {
    got: Vec<Got>,
}

impl HttpHandler for Msgs {
    fn on_request(&mut self, _from: Side, _req: &Request) {}
    fn on_response(&mut self, _from: Side, _resp: &Response, _req: Option<&RequestLine>) {}
    fn on_ws_message(&mut self, from: Side, m: &WsMessage<'_>) {
        self.got.push(Got {
            from,
            text: m.text,
            data: m.data.to_vec(),
            truncated: m.truncated,
            incomplete: m.incomplete,
            compressed: m.compressed,
            seq: m.seq,
            peer: m.peer_messages,
            target: m.target.to_string(),
            host: m.host.map(str::to_string),
        });
    }
}

const TEXT: u8 = 1;
const BINARY: u8 = 2;
const CONT: u8 = 0;
const CLOSE: u8 = 8;
const PING: u8 = 9;
const PONG: u8 = 10;

/// One frame, masked with `mask` when given.
fn frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n < 65536 => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

const MASK: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

/// A permessage-deflate sender: raw deflate, sync flush, the `00 00 ff ff` tail stripped.
struct Deflater {
    c: Compress,
    takeover: bool,
}

impl Deflater {
    fn new(takeover: bool) -> Deflater {
        Deflater { c: Compress::new(Compression::default(), false), takeover }
    }

    fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = self.c.total_in();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let used = (self.c.total_in() - start) as usize;
            self.c.compress_vec(&data[used..], &mut out, FlushCompress::Sync).unwrap();
            if (self.c.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        if !self.takeover {
            self.c.reset();
        }
        out
    }
}

const UPGRADE: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\nHost: ws.lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

fn switching(ext: &str) -> Vec<u8> {
    let ext = if ext.is_empty() { String::new() } else { format!("Sec-WebSocket-Extensions: {ext}\r\n") };
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{ext}\r\n"
    )
    .into_bytes()
}

const TOKEN_MSG: &[u8] = br#"{"type":"auth","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"}"#;

/// The fixed conversation: the upgrade, then each side's frames as one stream.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let mut cd = Deflater::new(true);
    let mut sd = Deflater::new(true);
    let mut client = Vec::new();
    client.extend(frame(true, false, TEXT, b"hello", MASK));
    // A compressed message in three fragments, a ping and a pong between them.
    let z = cd.message(TOKEN_MSG);
    let (a, rest) = z.split_at(z.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    client.extend(frame(false, true, TEXT, a, MASK));
    client.extend(frame(true, false, PING, b"are you there", MASK));
    client.extend(frame(false, false, CONT, b, MASK));
    client.extend(frame(true, false, PONG, b"", MASK));
    client.extend(frame(true, false, CONT, c, MASK));
    // 16-bit length, binary.
    let bin: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    client.extend(frame(true, false, BINARY, &bin, MASK));
    // Refers to the first compressed message (context takeover).
    client.extend(frame(true, true, TEXT, &cd.message(TOKEN_MSG), MASK));
    client.extend(frame(true, false, CLOSE, &[3, 232], MASK));
    client.extend(frame(true, false, TEXT, b"after close: never read", MASK));
    let mut server = switching("permessage-deflate");
    server.extend(frame(true, true, TEXT, &sd.message(b"welcome"), None));
    server.extend(frame(true, false, PING, b"", None));
    server.extend(frame(true, true, TEXT, &sd.message(b"ack welcome ack"), None));
    server.extend(frame(true, true, TEXT, &sd.message(b"ack welcome ack"), None));
    server.extend(frame(true, false, CLOSE, &[3, 232], None));
    (client, server)
}

/// Feed the upgrade request, then the server's bytes in `server` pieces, then the client's in `client`
/// pieces, then close.
fn run(cfg: &Config, client: &[&[u8]], server: &[&[u8]]) -> (Vec<Got>, Stats, usize) {
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(cfg.clone());
    let mut h = Msgs::default();
    let mut most = 0;
    c.on_data(&mut sh, Side::Client, UPGRADE, Timestamp(1), &mut h);
    for p in server {
        c.on_data(&mut sh, Side::Server, p, Timestamp(2), &mut h);
        most = most.max(c.held());
    }
    for p in client {
        c.on_data(&mut sh, Side::Client, p, Timestamp(3), &mut h);
        most = most.max(c.held());
    }
    c.on_close(&mut sh, Timestamp(4), &mut h);
    (h.got, sh.stats, most)
}

fn whole(cfg: &Config, client: &[u8], server: &[u8]) -> (Vec<Got>, Stats) {
    let (g, s, _) = run(cfg, &[client], &[server]);
    (g, s)
}

fn texts(got: &[Got], from: Side) -> Vec<&[u8]> {
    got.iter().filter(|g| g.from == from).map(|g| g.data.as_slice()).collect()
}

#[test]
fn the_conversation_reads_masked_fragmented_and_compressed_messages_of_both_sides() {
    let (client, server) = conversation();
    let (got, st) = whole(&Config::default(), &client, &server);
    let bin: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    assert_eq!(texts(&got, Side::Client), [&b"hello"[..], TOKEN_MSG, &bin, TOKEN_MSG]);
    assert_eq!(texts(&got, Side::Server), [&b"welcome"[..], b"ack welcome ack", b"ack welcome ack"]);
    let c: Vec<&Got> = got.iter().filter(|g| g.from == Side::Client).collect();
    assert_eq!(
        c.iter().map(|g| (g.text, g.compressed, g.seq)).collect::<Vec<_>>(),
        [(true, false, 0), (true, true, 1), (false, false, 2), (true, true, 3)]
    );
    assert!(got.iter().all(|g| !g.truncated && !g.incomplete));
    assert_eq!((c[0].target.as_str(), c[0].host.as_deref()), ("/chat?room=1", Some("ws.lab")));
    // The server's messages came first: the client's messages follow all three of them.
    assert_eq!(c[0].peer, 3);
    assert_eq!(st.ws, WsStats { connections: 1, messages: 7, ..WsStats::default() }, "{:?}", st.ws);
    assert_eq!(st.requests, 1);
    assert_eq!(st.responses, 1);
}

#[test]
fn every_cutting_of_the_conversation_and_one_byte_at_a_time_give_the_same_messages() {
    let (client, server) = conversation();
    let cfg = Config::default();
    let (want, want_st) = whole(&cfg, &client, &server);
    for k in 0..=client.len() {
        let (got, st, _) = run(&cfg, &[&client[..k], &client[k..]], &[&server]);
        assert_eq!(got, want, "client cut at {k}");
        assert_eq!(st.ws, want_st.ws, "client cut at {k}");
    }
    for k in 0..=server.len() {
        let (got, st, _) = run(&cfg, &[&client], &[&server[..k], &server[k..]]);
        assert_eq!(got, want, "server cut at {k}");
        assert_eq!(st.ws, want_st.ws, "server cut at {k}");
    }
    let cb: Vec<&[u8]> = client.chunks(1).collect();
    let sb: Vec<&[u8]> = server.chunks(1).collect();
    let (got, st, _) = run(&cfg, &cb, &sb);
    assert_eq!(got, want, "one byte at a time");
    assert_eq!(st.ws, want_st.ws);
}

#[test]
fn masked_and_unmasked_frames_and_every_length_form_read_alike() {
    for len in [0usize, 1, 125, 126, 127, 65535, 65536, 70_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        for mask in [None, MASK, Some([0, 0, 0, 0])] {
            let client = frame(true, false, BINARY, &payload, mask);
            let cfg = Config { max_body_bytes: 1 << 20, ..Config::default() };
            let (got, _) = whole(&cfg, &client, &switching(""));
            assert_eq!(got.len(), 1, "len {len} mask {mask:?}");
            assert_eq!(got[0].data, payload, "len {len} mask {mask:?}");
        }
    }
}

#[test]
fn a_fragmented_message_with_a_ping_between_fragments_is_one_message() {
    let mut client = frame(false, false, TEXT, b"user=al", MASK);
    client.extend(frame(true, false, PING, b"p", MASK));
    client.extend(frame(false, false, CONT, b"ice&pass", MASK));
    client.extend(frame(true, false, CLOSE, b"", MASK));
    // Not the close: a close between fragments ends the message, cut.
    let mut c2 = client[..client.len() - 6].to_vec();
    c2.extend(frame(true, false, CONT, b"word=x", MASK));
    let (got, st) = whole(&Config::default(), &c2, &switching(""));
    assert_eq!(texts(&got, Side::Client), [b"user=alice&password=x"]);
    assert_eq!(st.ws.messages_cut, 0);
    let (got, st) = whole(&Config::default(), &client, &switching(""));
    assert_eq!(texts(&got, Side::Client), [b"user=alice&pass"]);
    assert!(got[0].incomplete);
    assert_eq!(st.ws.messages_cut, 1);
}

#[test]
fn deflate_context_takeover_carries_across_three_messages() {
    let mut d = Deflater::new(true);
    let msgs = [TOKEN_MSG, TOKEN_MSG, br#"{"type":"auth","token":"other"}"#];
    let mut client = Vec::new();
    let mut sizes = Vec::new();
    for m in msgs {
        let z = d.message(m);
        sizes.push(z.len());
        client.extend(frame(true, true, TEXT, &z, MASK));
    }
    // The later messages refer back: they are much shorter than the first.
    assert!(sizes[1] * 3 < sizes[0], "{sizes:?}");
    let (got, st) = whole(&Config::default(), &client, &switching("permessage-deflate; client_max_window_bits=15"));
    assert_eq!(texts(&got, Side::Client), msgs);
    assert_eq!(st.ws.inflate_errors, 0);
}

#[test]
fn no_context_takeover_starts_each_message_afresh_for_its_side_only() {
    let mut cd = Deflater::new(false);
    let mut sd = Deflater::new(true);
    let mut client = Vec::new();
    let mut server = switching("permessage-deflate; client_no_context_takeover; server_max_window_bits=10");
    for _ in 0..3 {
        client.extend(frame(true, true, TEXT, &cd.message(TOKEN_MSG), MASK));
        server.extend(frame(true, true, TEXT, &sd.message(TOKEN_MSG), None));
    }
    let (got, st) = whole(&Config::default(), &client, &server);
    assert_eq!(texts(&got, Side::Client), [TOKEN_MSG; 3]);
    assert_eq!(texts(&got, Side::Server), [TOKEN_MSG; 3]);
    assert_eq!(st.ws.inflate_errors, 0);
}

#[test]
fn the_negotiated_parameters_are_read_from_the_101() {
    let d = negotiated(
        [&b"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=\"10\"; server_no_context_takeover"[..]]
            .into_iter(),
    );
    assert_eq!(
        d,
        Some(Deflate { server_no_context_takeover: true, client_max_window_bits: Some(10), ..Deflate::default() })
    );
    assert_eq!(
        negotiated([&b"permessage-deflate;client_no_context_takeover"[..]].into_iter())
            .map(|d| d.client_no_context_takeover),
        Some(true)
    );
    assert_eq!(negotiated([&b"x-custom"[..]].into_iter()), None);
    assert!(asks_websocket(b"WebSocket") && asks_websocket(b"h2c, websocket") && !asks_websocket(b"h2c"));
}

#[test]
fn a_deflate_bomb_stops_at_its_bound_counted_and_the_next_message_is_read_without_takeover() {
    let zeros = vec![0u8; 64 << 20];
    let cfg = Config { max_decompressed_bytes: 4 << 20, ..Config::default() };
    for takeover in [true, false] {
        let mut d = Deflater::new(takeover);
        let bomb = d.message(&zeros);
        assert!(bomb.len() < 128 * 1024, "{}", bomb.len());
        let mut client = frame(true, true, BINARY, &bomb, MASK);
        client.extend(frame(true, true, TEXT, &d.message(TOKEN_MSG), MASK));
        client.extend(frame(true, false, TEXT, b"plain", MASK));
        let ext = if takeover { "permessage-deflate" } else { "permessage-deflate; client_no_context_takeover" };
        let (got, st, most) = run(&cfg, &[&client], &[&switching(ext)]);
        assert_eq!(st.ws.inflate_capped, 1, "takeover {takeover}: {:?}", st.ws);
        assert!(got[0].truncated && got[0].data.len() == cfg.max_body_bytes, "kept prefix only");
        assert!(most < 256 * 1024, "held {most}");
        if takeover {
            // Its context is lost: the next compressed message cannot be read, and that is said.
            assert_eq!(texts(&got, Side::Client)[1..], [b"plain"]);
            assert_eq!(st.ws.undecodable, 1);
        } else {
            assert_eq!(texts(&got, Side::Client)[1..], [TOKEN_MSG, b"plain"]);
        }
    }
}

#[test]
fn a_length_of_2_63_is_refused_and_the_direction_given_up_counted() {
    let mut client = frame(true, false, TEXT, b"before", MASK);
    let mut huge = vec![0x82, 0x80 | 127];
    huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
    huge.extend_from_slice(&[1, 2, 3, 4]);
    client.extend(huge);
    client.extend(frame(true, false, TEXT, b"never", MASK));
    let (got, st) = whole(&Config::default(), &client, &switching(""));
    assert_eq!(texts(&got, Side::Client), [b"before"]);
    assert_eq!((st.ws.protocol_errors, st.ws.directions_lost), (1, 1));
    // Just below is a length like any other: the direction waits for the bytes.
    let mut ok = vec![0x82, 127];
    ok.extend_from_slice(&((1u64 << 63) - 1).to_be_bytes());
    let (got, st) = whole(&Config::default(), &ok, &switching(""));
    assert_eq!(st.ws.directions_lost, 0);
    assert_eq!(got.len(), 1, "cut by the connection's end");
    assert!(got[0].incomplete);
}

#[test]
fn a_gap_hands_the_message_on_cut_and_gives_the_direction_up() {
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(Config::default());
    let mut h = Msgs::default();
    c.on_data(&mut sh, Side::Client, UPGRADE, Timestamp(1), &mut h);
    c.on_data(&mut sh, Side::Server, &switching(""), Timestamp(1), &mut h);
    c.on_data(&mut sh, Side::Client, &frame(false, false, TEXT, b"token=abc", MASK), Timestamp(2), &mut h);
    assert_eq!(c.skippable(Side::Client), 0);
    c.on_gap(&mut sh, Side::Client, 100, Timestamp(3), &mut h);
    assert_eq!(h.got.len(), 1);
    assert!(h.got[0].incomplete);
    assert_eq!((sh.stats.ws.messages_cut, sh.stats.ws.directions_lost), (1, 1));
    // Nothing more is read from that side (and the reassembler need not verify it); the other reads on.
    assert_eq!(c.skippable(Side::Client), u64::MAX);
    c.on_data(&mut sh, Side::Client, &frame(true, false, TEXT, b"lost", MASK), Timestamp(4), &mut h);
    c.on_data(&mut sh, Side::Server, &frame(true, false, TEXT, b"still", None), Timestamp(4), &mut h);
    assert_eq!(texts(&h.got, Side::Server), [b"still"]);
    assert_eq!(h.got.len(), 2);
}

#[test]
fn a_long_message_keeps_its_prefix_counted_and_held_memory_stays_bounded() {
    let cfg = Config { max_body_bytes: 1024, ..Config::default() };
    let big = vec![b'a'; 200_000];
    let mut client = frame(false, false, TEXT, &big[..100_000], MASK);
    client.extend(frame(true, false, CONT, &big[100_000..], MASK));
    let mut d = Deflater::new(true);
    client.extend(frame(true, true, TEXT, &d.message(&big), MASK));
    client.extend(frame(true, true, TEXT, &d.message(TOKEN_MSG), MASK));
    let pieces: Vec<&[u8]> = client.chunks(1460).collect();
    let (got, st, most) = run(&cfg, &pieces, &[&switching("permessage-deflate")]);
    assert_eq!(got.len(), 3);
    assert!(got[0].truncated && got[0].data == big[..1024]);
    assert!(got[1].truncated && got[1].data == big[..1024]);
    assert_eq!(got[2].data, TOKEN_MSG, "inflated past the prefix: the context is intact");
    assert_eq!(st.ws.messages_truncated, 2);
    // The kept prefix and one inflater.
    assert!(most < LAYER_COST + 8 * 1024, "held {most}");
}

#[test]
fn shedding_drops_the_kept_prefix_and_the_inflater_and_says_what_was_lost() {
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(Config::default());
    let mut h = Msgs::default();
    c.on_data(&mut sh, Side::Client, UPGRADE, Timestamp(1), &mut h);
    c.on_data(&mut sh, Side::Server, &switching("permessage-deflate"), Timestamp(1), &mut h);
    let mut d = Deflater::new(true);
    c.on_data(&mut sh, Side::Client, &frame(true, true, TEXT, &d.message(TOKEN_MSG), MASK), Timestamp(2), &mut h);
    c.on_data(&mut sh, Side::Client, &frame(false, false, TEXT, &[b'x'; 3000], MASK), Timestamp(2), &mut h);
    let before = c.held();
    assert!(before > LAYER_COST + 3000, "{before}");
    c.shed(&mut sh);
    assert!(c.held() < 1024, "{}", c.held());
    assert_eq!(sh.stats.ws.memcap_dropped, 1);
    c.on_data(&mut sh, Side::Client, &frame(true, false, CONT, b"yyy", MASK), Timestamp(3), &mut h);
    c.on_data(&mut sh, Side::Client, &frame(true, true, TEXT, &d.message(TOKEN_MSG), MASK), Timestamp(3), &mut h);
    c.on_data(&mut sh, Side::Client, &frame(true, false, TEXT, b"plain", MASK), Timestamp(3), &mut h);
    assert_eq!(h.got.len(), 3, "{:?}", h.got);
    assert!(h.got[1].truncated && h.got[1].data.is_empty());
    assert_eq!(h.got[2].data, b"plain");
    assert_eq!(sh.stats.ws.undecodable, 1);
}

#[test]
fn only_a_websocket_upgrade_switches_and_a_101_seen_alone_switches_by_its_own_upgrade() {
    // h2c: a tunnel of another protocol, not frames.
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(Config::default());
    let mut h = Msgs::default();
    c.on_data(&mut sh, Side::Client, b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n", Timestamp(1), &mut h);
    c.on_data(
        &mut sh,
        Side::Server,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        Timestamp(1),
        &mut h,
    );
    c.on_data(&mut sh, Side::Client, &frame(true, false, TEXT, b"nope", MASK), Timestamp(1), &mut h);
    assert!(h.got.is_empty());
    assert_eq!(sh.stats.ws.connections, 0);
    // Picked up mid-stream: the 101 alone says it.
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(Config::default());
    c.on_data(&mut sh, Side::Server, &switching(""), Timestamp(1), &mut h);
    c.on_data(&mut sh, Side::Client, &frame(true, false, TEXT, b"yes", MASK), Timestamp(1), &mut h);
    assert_eq!(texts(&h.got, Side::Client), [b"yes"]);
    assert_eq!(h.got[0].target, "");
}

#[test]
fn protocol_errors_that_keep_the_framing_are_skipped_by_their_length_and_counted() {
    let mut client = frame(true, false, CONT, b"orphan continuation", MASK);
    client.extend(frame(true, false, 3, b"reserved opcode", MASK));
    client.extend(frame(false, false, PING, b"fragmented ping", MASK));
    client.extend(frame(true, false, PING, &[b'p'; 200], MASK));
    client.extend(frame(false, false, TEXT, b"first ", MASK));
    // A new message before the last one ended: the last one is cut.
    client.extend(frame(true, false, TEXT, b"second", MASK));
    let (got, st) = whole(&Config::default(), &client, &switching(""));
    assert_eq!(texts(&got, Side::Client), [&b"first "[..], b"second"]);
    assert!(got[0].incomplete && !got[1].incomplete);
    assert_eq!(st.ws.protocol_errors, 4);
    assert_eq!(st.ws.messages_cut, 1);
    assert_eq!(st.ws.directions_lost, 0);
}

/// Pieces of WebSocket traffic, valid and not.
fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let mut d = Deflater::new(true);
    let z = d.message(TOKEN_MSG);
    let bomb = Deflater::new(false).message(&vec![0u8; 4 << 20]);
    let mut huge = vec![0x82, 0xff];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    prop_oneof![
        (any::<bool>(), any::<bool>(), 0u8..16, proptest::collection::vec(any::<u8>(), 0..300), any::<bool>())
            .prop_map(|(fin, rsv1, op, p, m)| frame(fin, rsv1, op, &p, if m { MASK } else { None })),
        Just(frame(false, true, TEXT, &z[..z.len() / 2], MASK)),
        Just(frame(true, false, CONT, &z[z.len() / 2..], MASK)),
        Just(frame(true, true, BINARY, &bomb, None)),
        Just(frame(true, false, BINARY, &vec![7u8; 5000], MASK)),
        Just(huge),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Whatever the frames, their order, their cutting and gaps: no panic, memory within the caps.
    #[test]
    fn any_stream_of_websocket_pieces_never_panics_and_stays_within_its_caps(
        pieces in proptest::collection::vec((piece(), proptest::prelude::any::<u8>()), 1..30),
        ext in 0usize..3,
    ) {
        let cfg = Config { max_body_bytes: 512, max_decompressed_bytes: 1 << 20, ..Config::default() };
        let ext = ["", "permessage-deflate", "permessage-deflate; client_no_context_takeover; server_no_context_takeover"][ext];
        let mut c = HttpConnection::default();
        let mut sh = Shared::new(cfg);
        let mut h = Msgs::default();
        c.on_data(&mut sh, Side::Client, UPGRADE, Timestamp(1), &mut h);
        c.on_data(&mut sh, Side::Server, &switching(ext), Timestamp(1), &mut h);
        for (bytes, ctl) in &pieces {
            let side = if ctl & 1 == 0 { Side::Client } else { Side::Server };
            if ctl & 0xf0 == 0xf0 {
                c.on_gap(&mut sh, side, u64::from(*ctl & 0x0f) + 1, Timestamp(1), &mut h);
            }
            for part in bytes.chunks(usize::from(ctl >> 1).max(1)) {
                c.on_data(&mut sh, side, part, Timestamp(1), &mut h);
                // Two kept prefixes and their spares (never past the 512-byte cap), two inflaters, the
                // state itself and the pending upgrade request.
                proptest::prop_assert!(c.held() < 2 * LAYER_COST + 4 * 512 + 2048, "held {}", c.held());
            }
            if ctl & 0x0e == 0x0e {
                c.shed(&mut sh);
            }
        }
        c.on_close(&mut sh, Timestamp(2), &mut h);
        for g in &h.got {
            proptest::prop_assert!(g.data.len() <= 512);
        }
    }
}
