//! HTTP parser tests beyond the text fixtures: encodings, caps, TLS.

use std::io::Write as _;

use super::*;

#[derive(Default)]
struct Seen {
    reqs: Vec<Request>,
    resps: Vec<(Response, Option<RequestLine>)>,
    tls: Vec<Option<String>>,
}

impl HttpHandler for Seen {
    fn on_request(&mut self, _from: Side, r: &Request) {
        self.reqs.push(r.clone());
    }
    fn on_response(&mut self, _from: Side, r: &Response, q: Option<&RequestLine>) {
        self.resps.push((r.clone(), q.cloned()));
    }
    fn on_tls(&mut self, sni: Option<&str>) {
        self.tls.push(sni.map(str::to_string));
    }
}

fn feed(cfg: &Config, chunks: &[(Side, &[u8])]) -> (Seen, Stats) {
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(cfg.clone());
    let mut s = Seen::default();
    for (side, b) in chunks {
        for piece in b.chunks(1460) {
            c.on_data(&mut sh, *side, piece, Timestamp(7), &mut s);
        }
    }
    c.on_close(&mut sh, Timestamp(8), &mut s);
    (s, sh.stats)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn response_with(enc: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {enc}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

const GET: &[u8] = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n";

#[test]
fn gzip_and_both_deflate_flavours_are_decoded() {
    let json = br#"{"access_token":"abc"}"#;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).unwrap();
    let zlib = z.finish().unwrap();
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    d.write_all(json).unwrap();
    let raw = d.finish().unwrap();
    for (enc, body) in [("gzip", gzip(json)), ("x-gzip", gzip(json)), ("deflate", zlib), ("deflate", raw)] {
        let (s, _) = feed(&Config::default(), &[(Side::Client, GET), (Side::Server, &response_with(enc, &body))]);
        assert_eq!(s.resps[0].0.body.data, json, "{enc}");
        assert!(!s.resps[0].0.body.decode_error);
    }
}

#[test]
fn decompression_bomb_stops_at_the_bound_and_is_counted() {
    let bomb = gzip(&vec![b'A'; 50 << 20]);
    assert!(bomb.len() < 64 * 1024);
    // Fields past the prefix are wanted: the rest is read as a stream up to the bound, never held.
    let cfg = Config { response_field: Some(|_| false), ..Config::default() };
    let (s, st) = feed(&cfg, &[(Side::Client, GET), (Side::Server, &response_with("gzip", &bomb))]);
    let b = &s.resps[0].0.body;
    assert_eq!(b.data.len(), cfg.max_body_bytes);
    assert!(b.truncated);
    assert_eq!(st.decompressed_bytes_capped, 1);
    // Nothing wanted past the prefix: decoding stops there.
    let (s, st) = feed(&Config::default(), &[(Side::Client, GET), (Side::Server, &response_with("gzip", &bomb))]);
    assert_eq!(s.resps[0].0.body.data.len(), cfg.max_body_bytes);
    assert_eq!(st.decompressed_bytes_capped, 0);
}

#[test]
fn large_upload_keeps_only_the_cap_but_counts_every_byte() {
    let body = vec![b'u'; 5 << 20];
    let mut req = format!("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    req.extend_from_slice(&body);
    req.extend_from_slice(GET);
    let cfg = Config::default();
    let (s, st) = feed(&cfg, &[(Side::Client, &req)]);
    assert_eq!(s.reqs.len(), 2);
    assert_eq!(s.reqs[0].body.data.len(), cfg.max_body_bytes);
    assert_eq!(s.reqs[0].body.wire_len, 5 << 20);
    assert!(s.reqs[0].body.truncated);
    assert_eq!(st.bodies_truncated, 1);
}

#[test]
fn response_bodies_the_policy_does_not_want_are_skipped_not_kept() {
    let img = vec![0xffu8; 100_000];
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", img.len()).into_bytes();
    resp.extend_from_slice(&img);
    let cfg = Config { keep_response_body: |ct| ct.is_none_or(|c| !c.starts_with(b"image/")), ..Config::default() };
    let (s, _) = feed(&cfg, &[(Side::Client, GET), (Side::Server, &resp)]);
    assert!(s.resps[0].0.body.data.is_empty());
    assert_eq!(s.resps[0].0.body.wire_len, 100_000);
    let mut c = HttpConnection::default();
    let mut sh = Shared::new(cfg);
    let mut seen = Seen::default();
    c.on_data(&mut sh, Side::Client, GET, Timestamp(1), &mut seen);
    c.on_data(&mut sh, Side::Server, &resp[..2000], Timestamp(1), &mut seen);
    // The rest is skipped unread (the reassembler need not verify its checksums).
    assert_eq!(c.skippable(Side::Server), (resp.len() - 2000) as u64);
}

#[test]
fn tls_client_hello_is_recognised_with_sni_and_nothing_else_is_parsed() {
    let mut hello = tls::build_client_hello("shop.lab");
    hello.extend_from_slice(b"GET /inside HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut c = HttpConnection::default();
    let mut sh = Shared::default();
    let mut s = Seen::default();
    // The hello split across two segments.
    c.on_data(&mut sh, Side::Client, &hello[..20], Timestamp(1), &mut s);
    c.on_data(&mut sh, Side::Client, &hello[20..], Timestamp(1), &mut s);
    c.on_data(&mut sh, Side::Server, b"\x16\x03\x03\x00\x02\x02\x00HTTP/1.1 200 OK\r\n\r\n", Timestamp(1), &mut s);
    assert_eq!(s.tls, vec![Some("shop.lab".to_string())]);
    assert!(s.reqs.is_empty() && s.resps.is_empty());
    assert_eq!(sh.stats.tls_connections, 1);
    assert!(matches!(c.protocol(), Protocol::Tls { .. }));
}

#[test]
fn a_head_over_the_cap_keeps_its_credential_fields_and_one_past_the_scan_limit_is_dropped() {
    fn wanted(n: &str) -> bool {
        n.eq_ignore_ascii_case("authorization")
    }
    let cfg = Config { max_head_bytes: 1024, keep_header: wanted, ..Config::default() };
    let mut req = b"GET /big HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..100 {
        req.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "v".repeat(30)).as_bytes());
    }
    req.extend_from_slice(b"Authorization: Bearer abcdefgh\r\n\r\n");
    req.extend_from_slice(GET);
    let (s, st) = feed(&cfg, &[(Side::Client, &req)]);
    assert_eq!(st.heads_too_large, 0);
    assert_eq!(s.reqs.len(), 2);
    assert_eq!(s.reqs[0].headers.get("authorization"), Some(&b"Bearer abcdefgh"[..]));
    assert!(s.reqs[0].headers.len() < 40, "fillers past the cap dropped");
    assert!(st.head_bytes_dropped > 2000, "{}", st.head_bytes_dropped);
    // 16 times the cap: given up, counted; the parser recovers on the next request.
    let mut huge = b"GET /huge HTTP/1.1\r\n".to_vec();
    while huge.len() < 17 * 1024 {
        huge.extend_from_slice(b"X-Filler: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n");
    }
    huge.extend_from_slice(b"\r\n");
    huge.extend_from_slice(GET);
    let (s, st) = feed(&cfg, &[(Side::Client, &huge)]);
    assert_eq!(st.heads_too_large, 1);
    assert_eq!(s.reqs.len(), 1);
    assert_eq!(s.reqs[0].target, "/x");
}

#[test]
fn websocket_upgrade_stops_http_parsing() {
    let up = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
    let (s, _) = feed(
        &Config::default(),
        &[(Side::Client, up), (Side::Server, resp), (Side::Client, b"\x81\x85GET / HTTP/1.1\r\n\r\n")],
    );
    assert_eq!(s.reqs.len(), 1);
    assert_eq!(s.resps.len(), 1);
    assert_eq!(s.resps[0].0.status, 101);
}

#[test]
fn conflicting_content_lengths_are_rejected() {
    let req = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nhello";
    let (s, st) = feed(&Config::default(), &[(Side::Client, req)]);
    assert!(s.reqs.is_empty());
    assert_eq!(st.parse_errors, 1);
}

#[test]
fn message_timestamp_is_that_of_its_first_byte() {
    let mut c = HttpConnection::default();
    let mut sh = Shared::default();
    let mut s = Seen::default();
    c.on_data(&mut sh, Side::Client, b"GET /t HTTP/1.1\r\n", Timestamp(100), &mut s);
    c.on_data(&mut sh, Side::Client, b"Host: h\r\n\r\n", Timestamp(200), &mut s);
    assert_eq!(s.reqs[0].ts, Timestamp(100));
}

#[test]
fn a_body_past_the_prefix_is_read_in_bounded_memory_and_not_skipped_only_when_a_scanner_reads_it() {
    let cfg = Config { body_field: Some(|n| n == "password"), ..Config::default() };
    let mut body = b"user=a&pad=".to_vec();
    body.resize(1 << 20, b'x');
    body.extend_from_slice(b"&password=last");
    let head = |ct: &str| {
        format!("POST /l HTTP/1.1\r\nHost: h\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes()
    };
    for (ct, scanned) in [("application/x-www-form-urlencoded", true), ("application/octet-stream", false)] {
        let mut c = HttpConnection::default();
        let mut sh = Shared::new(cfg.clone());
        let mut s = Seen::default();
        c.on_data(&mut sh, Side::Client, &head(ct), Timestamp(1), &mut s);
        let mut most = 0;
        for (i, piece) in body.chunks(1460).enumerate() {
            c.on_data(&mut sh, Side::Client, piece, Timestamp(1), &mut s);
            most = most.max(c.held());
            if i == 100 {
                let rest = (body.len() - 101 * 1460) as u64;
                assert_eq!(c.skippable(Side::Client), if scanned { 0 } else { rest }, "{ct}");
            }
        }
        assert!(most < cfg.max_body_bytes + 16 * 1024, "{ct}: held {most}");
        let extra: Vec<_> = s.reqs[0].body.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(extra, if scanned { vec![("password", "last")] } else { vec![] }, "{ct}");
    }
}

#[test]
fn decoders_of_a_body_being_read_are_held_and_shed_under_memory_pressure() {
    let json = br#"{"user":"a","password":"p"}"#.repeat(5000);
    let z = gzip(&json);
    let mut c = HttpConnection::default();
    let mut sh = Shared::default();
    let mut s = Seen::default();
    let head = format!(
        "POST /l HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    );
    c.on_data(&mut sh, Side::Client, head.as_bytes(), Timestamp(1), &mut s);
    c.on_data(&mut sh, Side::Client, &z[..z.len() / 2], Timestamp(1), &mut s);
    assert!(c.held() >= super::decode::LAYER_COST, "{}", c.held());
    c.shed(&mut sh);
    assert_eq!(sh.stats.memcap_bodies_dropped, 1);
    assert!(c.held() < 4096, "{}", c.held());
    // The rest is skipped; the message is still reported, its body cut.
    c.on_data(&mut sh, Side::Client, &z[z.len() / 2..], Timestamp(1), &mut s);
    assert_eq!(s.reqs.len(), 1);
    assert!(s.reqs[0].body.truncated);
}

#[test]
fn spares_are_reused_and_a_message_that_grew_them_large_does_not_pin_its_buffers() {
    let mut c = HttpConnection::default();
    let mut sh = Shared::default();
    let mut s = Seen::default();
    let mut big = b"GET /big HTTP/1.1\r\nX-Pad: ".to_vec();
    big.resize(40_000, b'a');
    big.extend_from_slice(b"\r\n\r\n");
    c.on_data(&mut sh, Side::Client, &big, Timestamp(1), &mut s);
    for _ in 0..3 {
        c.on_data(&mut sh, Side::Client, GET, Timestamp(1), &mut s);
    }
    assert_eq!(s.reqs.len(), 4);
    assert_eq!(s.reqs[3].headers.get("host"), Some(&b"h"[..]));
    let spares = format!("{sh:?}");
    assert!(spares.contains("Spares(1 messages"), "{spares}");
    let bytes: usize =
        spares.split("request lines, ").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
    assert!(bytes < 20 * 1024, "{spares}");
}

/// Pieces an attacker assembles a stream from: message starts, framing fields, folds, chunk lines,
/// encoded bodies, garbage.
fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let words: Vec<&'static [u8]> = vec![
        b"GET / HTTP/1.1\r\n",
        b"POST /l HTTP/1.1\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 7\r\n",
        b"Content-Length: 70000\r\n",
        b"Content-Encoding: gzip, deflate\r\n",
        b"Content-Type: application/json\r\n",
        b"Content-Type: multipart/form-data; boundary=b\r\n",
        b"Content-Type: application/x-www-form-urlencoded\r\n",
        b"Authorization: Basic\r\n \tYWxpY2U6cA==\r\n",
        b"\r\n",
        b"5\r\nabcde\r\n",
        b"0\r\n\r\n",
        b"{\"password\":\"p\\u00e4\",\"a\":[{\"user\":\"u\"}]}",
        b"--b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n--b--\r\n",
        b"user=a&pass%77ord=b",
    ];
    prop_oneof![
        proptest::sample::select(words).prop_map(<[u8]>::to_vec),
        proptest::collection::vec(any::<u8>(), 0..64),
        Just(gzip(b"password=zipped&user=u")),
        (1usize..3000).prop_map(|n| vec![b'x'; n]),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Whatever the bytes, their order and their cutting: no panic, memory held within the caps.
    #[test]
    fn any_stream_of_http_pieces_never_panics_and_stays_within_its_caps(
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
        for (bytes, ctl) in &pieces {
            let side = if ctl & 1 == 0 { Side::Client } else { Side::Server };
            if ctl & 0xf0 == 0xf0 {
                c.on_gap(&mut sh, side, u64::from(*ctl & 0x0f) + 1, Timestamp(1), &mut s);
            }
            for part in bytes.chunks(usize::from(ctl >> 1).max(1)) {
                c.on_data(&mut sh, side, part, Timestamp(1), &mut s);
                // Two heads of twice the cap, their lines, two bodies with scanners and two layers.
                proptest::prop_assert!(c.held() < 256 * 1024, "held {}", c.held());
            }
        }
        c.on_close(&mut sh, Timestamp(2), &mut s);
    }
}
