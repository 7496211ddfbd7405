//! HTTP/2 through the connection parser (`HttpConnection`): recognition, streams, pairing, every
//! cutting, gaps, caps. Frames and header blocks are built here by hand (an encoder of our own would
//! only check itself: the HPACK decoder is checked against RFC 7541's examples in `hpack`).

use std::io::Write as _;

use super::super::{Config, HttpConnection, HttpHandler, Request, RequestLine, Response, Shared, Stats};
use super::frame::*;
use crate::reassembly::Side;
use crate::time::Timestamp;

#[derive(Default, Debug)]
struct Seen {
    reqs: Vec<Request>,
    resps: Vec<(Response, Option<RequestLine>)>,
}

impl HttpHandler for Seen {
    fn on_request(&mut self, _from: Side, r: &Request) {
        self.reqs.push(r.clone());
    }
    fn on_response(&mut self, _from: Side, r: &Response, q: Option<&RequestLine>) {
        self.resps.push((r.clone(), q.cloned()));
    }
}

/// An HPACK integer with an `n`-bit prefix, its first byte carrying `flags`.
fn int(flags: u8, n: u32, v: usize, out: &mut Vec<u8>) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut v = v - max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

fn string(s: &[u8], out: &mut Vec<u8>) {
    int(0, 7, s.len(), out);
    out.extend_from_slice(s);
}

/// A literal field with incremental indexing (a new name): it enters the table.
fn lit(name: &str, value: &str) -> Vec<u8> {
    let mut out = vec![0x40];
    string(name.as_bytes(), &mut out);
    string(value.as_bytes(), &mut out);
    out
}

/// A literal field never indexed.
fn never(name: &str, value: &str) -> Vec<u8> {
    let mut out = vec![0x10];
    string(name.as_bytes(), &mut out);
    string(value.as_bytes(), &mut out);
    out
}

fn indexed(i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    int(0x80, 7, i, &mut out);
    out
}

fn block(fields: &[Vec<u8>]) -> Vec<u8> {
    fields.concat()
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn grpc_msg(flag: u8, m: &[u8]) -> Vec<u8> {
    let mut v = vec![flag];
    v.extend_from_slice(&(m.len() as u32).to_be_bytes());
    v.extend_from_slice(m);
    v
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const TOKEN: &str = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl";
const LOGIN: &str = r#"{"user":"ann","password":"h2-s3cret"}"#;

/// A prior-knowledge conversation: a login (stream 1) answered 401, a Bearer call (stream 3) whose
/// `:authority` comes from the table, answered 200 with a token.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[0, 1, 0, 0, 0x10, 0]));
    let h1 = block(&[
        indexed(3),
        indexed(6),
        lit(":path", "/api/login"),
        lit(":authority", "api.lab"),
        lit("content-type", "application/json"),
    ]);
    c.extend(frame(HEADERS, END_HEADERS, 1, &h1));
    c.extend(frame(DATA, END_STREAM, 1, LOGIN.as_bytes()));
    // :method GET, :scheme http, a new :path, then :authority from the dynamic table (the new :path
    // entered it first: 62 is the :path, 63 content-type, 64 :authority).
    let h3 = block(&[indexed(2), indexed(6), lit(":path", "/api/me"), indexed(64), never("authorization", TOKEN)]);
    c.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &h3));
    c.extend(frame(SETTINGS, ACK, 0, &[]));
    let mut s = frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
    s.extend(frame(SETTINGS, ACK, 0, &[]));
    // Answers in the other order: stream 3 first.
    s.extend(frame(HEADERS, END_HEADERS, 3, &block(&[indexed(8), lit("content-type", "application/json")])));
    s.extend(frame(DATA, END_STREAM, 3, br#"{"access_token":"tok-0123456789abcdef"}"#));
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &block(&[lit(":status", "401")])));
    (c, s)
}

fn small() -> Config {
    Config { keep_response_body: |_| true, ..Config::default() }
}

/// Feed both sides in pieces of `piece` bytes, client first, then close.
fn run(cfg: &Config, client: &[u8], server: &[u8], piece: usize) -> (Seen, Stats, HttpConnection) {
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(cfg.clone());
    let mut s = Seen::default();
    for p in client.chunks(piece.max(1)) {
        c.on_data(&mut sh, Side::Client, p, Timestamp(1), &mut s);
    }
    for p in server.chunks(piece.max(1)) {
        c.on_data(&mut sh, Side::Server, p, Timestamp(2), &mut s);
    }
    c.on_close(&mut sh, Timestamp(3), &mut s);
    (s, sh.stats, c)
}

/// What the handler saw, as text: every request and response with the fields that matter.
fn summary(s: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    for r in &s.reqs {
        let hs: Vec<String> = r.headers.iter().map(|(n, v)| format!("{n}={}", String::from_utf8_lossy(v))).collect();
        out.push(format!(
            "req#{} {} {} v{} [{}] {} inc={}",
            r.seq,
            r.method,
            r.target,
            r.version,
            hs.join(" "),
            String::from_utf8_lossy(&r.body.data),
            r.body.incomplete
        ));
    }
    for (r, q) in &s.resps {
        out.push(format!(
            "resp {} for {:?} {}",
            r.status,
            q.as_ref().map(|q| (q.seq, q.target.clone(), q.host.clone())),
            String::from_utf8_lossy(&r.body.data)
        ));
    }
    out
}

#[test]
fn prior_knowledge_streams_become_requests_and_responses_paired_by_stream() {
    let (c, s) = conversation();
    let (seen, st, _) = run(&small(), &c, &s, 1460);
    assert_eq!(
        summary(&seen),
        vec![
            format!("req#0 POST /api/login v2 [host=api.lab content-type=application/json] {LOGIN} inc=false"),
            format!("req#1 GET /api/me v2 [host=api.lab authorization={TOKEN}]  inc=false"),
            r#"resp 200 for Some((1, "/api/me", Some("api.lab"))) {"access_token":"tok-0123456789abcdef"}"#.to_string(),
            r#"resp 401 for Some((0, "/api/login", Some("api.lab"))) "#.to_string(),
        ]
    );
    assert_eq!((st.h2.connections, st.h2.undecodable, st.h2.frames_malformed), (1, 0, 0));
    assert_eq!((st.requests, st.responses), (2, 2));
}

#[test]
fn every_cutting_gives_the_same_messages() {
    let (c, s) = conversation();
    let (whole, _, _) = run(&small(), &c, &s, usize::MAX);
    let want = summary(&whole);
    // One byte at a time, and every cut of each side in two.
    let (one, _, _) = run(&small(), &c, &s, 1);
    assert_eq!(summary(&one), want);
    for cut in 1..c.len().max(s.len()) {
        let mut conn = HttpConnection::default();
        let mut sh = Shared::new(small());
        let mut seen = Seen::default();
        for (side, b) in [(Side::Client, &c), (Side::Server, &s)] {
            let k = cut.min(b.len());
            conn.on_data(&mut sh, side, &b[..k], Timestamp(1), &mut seen);
            conn.on_data(&mut sh, side, &b[k..], Timestamp(1), &mut seen);
        }
        conn.on_close(&mut sh, Timestamp(3), &mut seen);
        assert_eq!(summary(&seen), want, "cut at {cut}");
    }
}

#[test]
fn a_header_block_over_continuation_frames_with_padding_and_priority_interleaved_with_another_stream() {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[]));
    // Stream 3 opens and sends half its body.
    let h3 = block(&[indexed(3), indexed(6), lit(":path", "/upload"), lit(":authority", "files.lab")]);
    c.extend(frame(HEADERS, END_HEADERS, 3, &h3));
    c.extend(frame(DATA, PADDED, 3, &[&[4u8][..], b"part-one;", &[0; 4]].concat()));
    // Stream 1: its block in three pieces, the token cut in the middle; padded, with priority.
    // :authority from stream 3's block (63, once the new :path entered the table).
    let h1 = block(&[indexed(2), indexed(6), lit(":path", "/secret"), indexed(63), never("authorization", TOKEN)]);
    let (a, rest) = h1.split_at(h1.len() - 30);
    let (b, d) = rest.split_at(12);
    let mut first = vec![3u8];
    first.extend_from_slice(&[0x80, 0, 0, 3, 15]);
    first.extend_from_slice(a);
    first.extend_from_slice(&[0xaa; 3]);
    c.extend(frame(HEADERS, PADDED | PRIORITY_FLAG | END_STREAM, 1, &first));
    c.extend(frame(CONTINUATION, 0, 1, b));
    c.extend(frame(CONTINUATION, END_HEADERS, 1, d));
    c.extend(frame(DATA, END_STREAM, 3, b"part-two"));
    let mut s = frame(SETTINGS, 0, 0, &[]);
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &block(&[indexed(8)])));
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &block(&[indexed(9)])));
    for piece in [1, 7, 1460] {
        let (seen, st, _) = run(&small(), &c, &s, piece);
        assert_eq!(
            summary(&seen),
            vec![
                format!("req#1 GET /secret v2 [host=files.lab authorization={TOKEN}]  inc=false"),
                "req#0 POST /upload v2 [host=files.lab] part-one;part-two inc=false".to_string(),
                r#"resp 200 for Some((1, "/secret", Some("files.lab"))) "#.to_string(),
                r#"resp 204 for Some((0, "/upload", Some("files.lab"))) "#.to_string(),
            ],
            "piece {piece}"
        );
        assert_eq!(st.h2.frames_malformed, 0);
    }
}

#[test]
fn upgrade_h2c_continues_the_upgrade_request_on_stream_1_and_numbers_new_streams_after_it() {
    let c1 = b"GET /feed HTTP/1.1\r\nHost: up.lab\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nAuthorization: Basic YWxpY2U6cGFzcw==\r\n\r\n";
    let s1 = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    let mut c2 = PREFACE.to_vec();
    c2.extend(frame(SETTINGS, 0, 0, &[]));
    let h3 = block(&[indexed(3), indexed(6), lit(":path", "/login"), lit(":authority", "up.lab")]);
    c2.extend(frame(HEADERS, END_HEADERS, 3, &h3));
    c2.extend(frame(DATA, END_STREAM, 3, LOGIN.as_bytes()));
    let mut s2 = frame(SETTINGS, 0, 0, &[]);
    s2.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &block(&[indexed(8)])));
    s2.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &block(&[lit(":status", "403")])));
    for piece in [1, 1460] {
        let mut conn = HttpConnection::default();
        let mut sh = Shared::new(small());
        let mut seen = Seen::default();
        for (side, b) in [(Side::Client, &c1[..]), (Side::Server, &s1[..]), (Side::Client, &c2), (Side::Server, &s2)] {
            for p in b.chunks(piece) {
                conn.on_data(&mut sh, side, p, Timestamp(1), &mut seen);
            }
        }
        conn.on_close(&mut sh, Timestamp(3), &mut seen);
        let sum = summary(&seen);
        assert_eq!(sum.len(), 5, "{sum:?}");
        assert!(sum[0].starts_with("req#0 GET /feed v1 "), "{sum:?}");
        assert!(sum[1].starts_with("req#1 POST /login v2 [host=up.lab] {"), "{sum:?}");
        assert!(sum[2].starts_with("resp 101 "), "{sum:?}");
        assert_eq!(sum[3], r#"resp 200 for Some((0, "/feed", Some("up.lab"))) "#);
        assert_eq!(sum[4], r#"resp 403 for Some((1, "/login", Some("up.lab"))) "#);
        assert_eq!((sh.stats.h2.upgrades, sh.stats.h2.undecodable), (1, 0));
    }
}

#[test]
fn a_gap_over_a_header_block_makes_its_direction_undecodable_and_later_blocks_are_skipped() {
    let (c, s) = conversation();
    // Where stream 1's HEADERS payload lies in the client's bytes.
    let at = PREFACE.len() + 15 + 9 + 4;
    let mut conn = HttpConnection::default();
    let mut sh = Shared::new(small());
    let mut seen = Seen::default();
    conn.on_data(&mut sh, Side::Client, &c[..at], Timestamp(1), &mut seen);
    conn.on_gap(&mut sh, Side::Client, 5, Timestamp(1), &mut seen);
    conn.on_data(&mut sh, Side::Client, &c[at + 5..], Timestamp(1), &mut seen);
    conn.on_data(&mut sh, Side::Server, &s, Timestamp(2), &mut seen);
    conn.on_close(&mut sh, Timestamp(3), &mut seen);
    // No request is guessed: stream 3's block names entries of the block that was lost.
    assert!(seen.reqs.is_empty(), "{:?}", summary(&seen));
    assert_eq!((sh.stats.h2.undecodable, sh.stats.h2.blocks_skipped), (1, 1));
    // The server's direction is still read: its responses are reported, unpaired.
    assert_eq!(seen.resps.len(), 2);
    assert!(seen.resps.iter().all(|(_, q)| q.is_none()));
}

#[test]
fn a_gap_inside_data_keeps_the_frames_and_cuts_the_body() {
    let (c, s) = conversation();
    let data_at = c.windows(LOGIN.len()).position(|w| w == LOGIN.as_bytes()).unwrap();
    let mut conn = HttpConnection::default();
    let mut sh = Shared::new(small());
    let mut seen = Seen::default();
    conn.on_data(&mut sh, Side::Client, &c[..data_at + 3], Timestamp(1), &mut seen);
    conn.on_gap(&mut sh, Side::Client, 4, Timestamp(1), &mut seen);
    conn.on_data(&mut sh, Side::Client, &c[data_at + 7..], Timestamp(1), &mut seen);
    conn.on_data(&mut sh, Side::Server, &s, Timestamp(2), &mut seen);
    conn.on_close(&mut sh, Timestamp(3), &mut seen);
    assert_eq!(seen.reqs.len(), 2);
    assert!(seen.reqs[0].body.incomplete);
    assert_eq!(seen.reqs[1].headers.get("authorization"), Some(TOKEN.as_bytes()));
    assert_eq!(sh.stats.h2.undecodable, 0);
    // A gap across a frame header loses the direction.
    let mut conn = HttpConnection::default();
    let mut sh = Shared::new(small());
    conn.on_data(&mut sh, Side::Client, &c[..PREFACE.len() + 4], Timestamp(1), &mut seen);
    conn.on_gap(&mut sh, Side::Client, 100, Timestamp(1), &mut seen);
    assert_eq!(sh.stats.h2.directions_lost, 1);
    assert!(conn.held() < 4096);
}

#[test]
fn picked_up_mid_connection_frames_are_counted_undecodable_and_nothing_is_guessed() {
    let (c, s) = conversation();
    // The capture starts after the preface, the SETTINGS and stream 1.
    let from = c.windows(TOKEN.len()).position(|w| w == TOKEN.as_bytes()).unwrap();
    let h3 = c[..from].iter().rposition(|&b| b == HEADERS).unwrap() - 3;
    let mut conn = HttpConnection::default();
    conn.set_midstream();
    let mut sh = Shared::new(small());
    let mut seen = Seen::default();
    conn.on_data(&mut sh, Side::Client, &c[h3..], Timestamp(1), &mut seen);
    let s3 = s.windows(2).position(|w| w == [0, 0]).unwrap_or(0);
    conn.on_data(&mut sh, Side::Server, &s[s3 + 30..], Timestamp(2), &mut seen);
    conn.on_close(&mut sh, Timestamp(3), &mut seen);
    assert!(seen.reqs.is_empty() && seen.resps.is_empty(), "{:?}", summary(&seen));
    assert_eq!(sh.stats.h2.undecodable, 2);
    assert!(sh.stats.h2.blocks_skipped >= 1);
}

#[test]
fn grpc_messages_are_split_decoded_and_kept_reframed() {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[]));
    let h = block(&[
        indexed(3),
        indexed(6),
        lit(":path", "/auth.Auth/Login"),
        lit(":authority", "grpc.lab:50051"),
        lit("content-type", "application/grpc"),
        lit("grpc-encoding", "gzip"),
        never("authorization", TOKEN),
    ]);
    c.extend(frame(HEADERS, END_HEADERS, 1, &h));
    let body = [grpc_msg(1, &gzip(LOGIN.as_bytes())), grpc_msg(0, b"user=ann&password=x")].concat();
    let (a, b) = body.split_at(9);
    c.extend(frame(DATA, 0, 1, a));
    c.extend(frame(DATA, END_STREAM, 1, b));
    let mut s = frame(SETTINGS, 0, 0, &[]);
    s.extend(frame(HEADERS, END_HEADERS, 1, &block(&[indexed(8), lit("content-type", "application/grpc+json")])));
    s.extend(frame(DATA, 0, 1, &grpc_msg(0, br#"{"token":"grpc-tok-0123456789"}"#)));
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &block(&[lit("grpc-status", "0")])));
    for piece in [1, 1460] {
        let (seen, st, _) = run(&small(), &c, &s, piece);
        assert_eq!(seen.reqs.len(), 1);
        let data = &seen.reqs[0].body.data;
        let ms: Vec<&[u8]> = super::grpc::messages(data).map(|r| &data[r]).collect();
        assert_eq!(ms, vec![LOGIN.as_bytes(), b"user=ann&password=x"]);
        let (resp, q) = &seen.resps[0];
        assert_eq!(q.as_ref().map(|q| q.seq), Some(0));
        // The trailers are kept with the headers.
        assert_eq!(resp.headers.get("grpc-status"), Some(&b"0"[..]));
        assert!(String::from_utf8_lossy(&resp.body.data).contains("grpc-tok-0123456789"));
        assert_eq!(st.h2.grpc_messages, 3);
    }
}

#[test]
fn open_streams_are_bounded_and_the_ones_past_the_cap_still_report_their_headers() {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[]));
    for i in 0..(super::MAX_STREAMS as u32 + 10) {
        let h = block(&[
            indexed(3),
            indexed(6),
            indexed(4),
            never("authorization", &format!("Bearer tok-{i:04}-abcdefgh")),
        ]);
        // Never ended: every stream stays open.
        c.extend(frame(HEADERS, END_HEADERS, 2 * i + 1, &h));
        c.extend(frame(DATA, 0, 2 * i + 1, &[b'x'; 100]));
    }
    let mut conn = HttpConnection::default();
    let mut sh = Shared::new(small());
    let mut seen = Seen::default();
    conn.on_data(&mut sh, Side::Client, &c, Timestamp(1), &mut seen);
    assert_eq!(sh.stats.h2.streams_over_cap, 10);
    assert_eq!(seen.reqs.len(), 10, "the ones past the cap, at once");
    assert!(conn.held() < 256 * 1024, "{}", conn.held());
    conn.on_close(&mut sh, Timestamp(3), &mut seen);
    assert_eq!(seen.reqs.len(), super::MAX_STREAMS + 10);
    assert!(seen.reqs.iter().filter(|r| r.body.incomplete).count() == super::MAX_STREAMS);
}

#[test]
fn a_header_block_past_its_cap_is_counted_and_its_direction_undecodable() {
    let cfg = Config { max_head_bytes: 1024, ..small() };
    let mut c = PREFACE.to_vec();
    let big = block(&[indexed(2), indexed(6), indexed(4), never("x-pad", &"p".repeat(2000))]);
    c.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &big));
    c.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &block(&[indexed(2), indexed(6), indexed(4)])));
    let (seen, st, conn) = run(&cfg, &c, &[], 100);
    assert_eq!((st.h2.blocks_too_large, st.h2.undecodable, st.h2.blocks_skipped), (1, 1, 1));
    assert!(seen.reqs.is_empty());
    assert!(conn.held() < 8192, "{}", conn.held());
}

#[test]
fn malformed_frames_are_counted_and_skipped() {
    let mut c = PREFACE.to_vec();
    // Padding longer than the frame, a PING of the wrong size, DATA on stream 0, a stray CONTINUATION.
    c.extend(frame(DATA, PADDED, 1, &[200, 1, 2]));
    c.extend(frame(PING, 0, 0, &[0; 3]));
    c.extend(frame(DATA, 0, 0, b"x"));
    c.extend(frame(CONTINUATION, END_HEADERS, 5, b""));
    c.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &block(&[indexed(2), indexed(6), indexed(4)])));
    let (seen, st, _) = run(&small(), &c, &[], 3);
    assert_eq!(st.h2.frames_malformed, 4);
    assert_eq!(seen.reqs.len(), 1);
}

/// Pieces an attacker assembles HTTP/2 directions from.
fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let h = block(&[indexed(3), indexed(6), lit(":path", "/l"), lit("content-type", "application/grpc")]);
    let words: Vec<Vec<u8>> = vec![
        frame(SETTINGS, 0, 0, &[0, 1, 0, 0, 0x10, 0, 0, 5, 0, 0, 0x40, 0]),
        frame(HEADERS, END_HEADERS, 1, &h),
        frame(HEADERS, PADDED | PRIORITY_FLAG, 3, &[2, 0, 0, 0, 1, 9, 0x82, 0x86, 0, 0]),
        frame(CONTINUATION, END_HEADERS, 3, &[0x84]),
        frame(HEADERS, END_HEADERS | END_STREAM, 5, &[0xbe, 0x3f, 0xe1, 0x1f]),
        frame(DATA, END_STREAM, 1, &grpc_msg(0, LOGIN.as_bytes())),
        frame(DATA, PADDED, 3, &[1, b'a', 0]),
        frame(RST_STREAM, 0, 1, &[0, 0, 0, 8]),
        frame(GOAWAY, 0, 0, &[0; 8]),
        frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0]),
        frame(PUSH_PROMISE, END_HEADERS, 1, &[0, 0, 0, 2, 0x82]),
        block(&[lit("a", "b")]),
        PREFACE.to_vec(),
    ];
    prop_oneof![
        proptest::sample::select(words),
        proptest::collection::vec(any::<u8>(), 0..40),
        (1u32..40_000).prop_map(|n| frame(DATA, 0, 1, &vec![0; n as usize])),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Whatever the frames, their order, their cutting and the gaps: no panic, memory within the caps.
    #[test]
    fn any_stream_of_frames_never_panics_and_stays_within_its_caps(
        pieces in proptest::collection::vec((piece(), proptest::prelude::any::<u8>()), 1..40),
    ) {
        let cfg = Config {
            max_head_bytes: 512,
            max_body_bytes: 256,
            max_decompressed_bytes: 1 << 16,
            max_pending_requests: 4,
            keep_header: |_| true,
            body_field: Some(|_| true),
            response_field: Some(|_| true),
            keep_response_body: |_| true,
        };
        let mut c = HttpConnection::default();
        let mut sh = Shared::new(cfg);
        let mut s = Seen::default();
        c.on_data(&mut sh, Side::Client, PREFACE, Timestamp(1), &mut s);
        for (bytes, ctl) in &pieces {
            let side = if ctl & 1 == 0 { Side::Client } else { Side::Server };
            if ctl & 0xf0 == 0xf0 {
                c.on_gap(&mut sh, side, u64::from(*ctl & 0x0f) + 1, Timestamp(1), &mut s);
            }
            for part in bytes.chunks(usize::from(ctl >> 1).max(1)) {
                c.on_data(&mut sh, side, part, Timestamp(1), &mut s);
                // Two HPACK tables, two blocks, every stream with its heads and bodies.
                let bound = 2 * super::hpack::MAX_TABLE + 2 * 512 + super::MAX_STREAMS * 4096;
                proptest::prop_assert!(c.held() < bound, "held {}", c.held());
            }
        }
        c.on_close(&mut sh, Timestamp(2), &mut s);
    }
}

#[test]
fn a_client_side_alone_never_fills_the_stream_table_its_requests_keep_their_bodies() {
    // A capture of the client's side only: no response ever frees a stream.
    let mut c = PREFACE.to_vec();
    for i in 0..(super::MAX_STREAMS as u32 * 2) {
        let h = block(&[indexed(3), indexed(6), indexed(4), lit("content-type", "application/json")]);
        c.extend(frame(HEADERS, END_HEADERS, 2 * i + 1, &h));
        c.extend(frame(DATA, END_STREAM, 2 * i + 1, LOGIN.as_bytes()));
    }
    let (seen, st, conn) = run(&small(), &c, &[], 1460);
    assert_eq!(seen.reqs.len(), super::MAX_STREAMS * 2);
    assert!(seen.reqs.iter().all(|r| r.body.data == LOGIN.as_bytes()));
    assert_eq!((st.h2.streams_over_cap, st.h2.streams_forgotten), (0, super::MAX_STREAMS as u64));
    assert!(conn.held() < 64 * 1024, "{}", conn.held());
}
