//! Per-stage and whole-pipeline throughput on synthetic keep-alive HTTP traffic.
//!
//! `cargo bench --bench pipeline` (add `-- --warm-up-time 1 --measurement-time 3` for a quick run).
//! Frames are built once with `plainsight_synth` and replayed from memory, so the figures measure the
//! analysis alone (no I/O): decode, detectors on typical requests, and the engine end to end.
//! `probe` and `proto` time the prober on a connection's first bytes and each session parser on a
//! realistic conversation (`cargo bench --bench pipeline -- 'probe|proto'`). `checksum` and `defrag`
//! time TCP checksum verification and IP defragmentation (`cargo bench --bench pipeline --
//! 'checksum|defrag|engine'`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plainsight::alert::NullSink;
use plainsight::decode::{self, LinkType};
use plainsight::detect;
use plainsight::http::{Body, Headers, Request};
use plainsight::pipeline::{Config, Engine};
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame, jwt};

const BROWSER_HEADERS: &str = "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nCookie: _ga=GA1.2.1234567890.1700000000; theme=dark\r\n";

/// `flows` interleaved keep-alive connections, `reqs` request/response pairs each; every 20th request
/// carries a Bearer JWT. Responses have 8 KiB bodies (6 segments).
fn traffic(flows: usize, reqs: usize) -> Vec<Frame> {
    let token = jwt(r#"{"sub":"bench","exp":4102444800}"#);
    let body = vec![b'x'; 8192];
    let mut convs: Vec<Conversation> = (0..flows)
        .map(|i| {
            let c: SocketAddr = format!("10.1.{}.{}:{}", (i / 250) % 250, i % 250 + 1, 10_000 + i % 50_000)
                .parse()
                .unwrap_or_else(|_| unreachable!());
            let s: SocketAddr = "10.2.0.1:80".parse().unwrap_or_else(|_| unreachable!());
            let mut conv = Conversation::new(c, s);
            conv.handshake();
            conv
        })
        .collect();
    let mut out: Vec<Frame> = Vec::new();
    for c in convs.iter_mut() {
        out.extend(c.take());
    }
    for r in 0..reqs {
        for (i, c) in convs.iter_mut().enumerate() {
            let auth = if (i + r) % 20 == 0 { format!("Authorization: Bearer {token}\r\n") } else { String::new() };
            let req = format!("GET /static/app-{r}.js HTTP/1.1\r\nHost: shop.lab\r\n{BROWSER_HEADERS}{auth}\r\n");
            c.client(req.as_bytes());
            let mut resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            resp.extend_from_slice(&body);
            c.server(&resp);
            out.extend(c.take());
        }
    }
    for c in convs.iter_mut() {
        c.close();
        out.extend(c.take());
    }
    out
}

fn bytes(frames: &[Frame]) -> u64 {
    frames.iter().map(|f| f.data.len() as u64).sum()
}

fn bench_decode(c: &mut Criterion) {
    let frames = traffic(50, 20);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes(&frames)));
    g.bench_function("ethernet_ipv4_tcp", |b| {
        b.iter(|| {
            for f in &frames {
                let _ = black_box(decode::decode(LinkType::ETHERNET, black_box(&f.data)));
            }
        })
    });
    g.finish();
}

/// TCP checksum verification over the pseudo-header (the one pass over every payload byte that the
/// default `--checksums auto` adds), alone and through the per-source policy.
fn bench_checksum(c: &mut Criterion) {
    use plainsight::decode::checksum::{self, Mode, Policy};
    use plainsight::decode::{Decoded, TcpSegment};
    let frames = traffic(50, 20);
    let segs: Vec<TcpSegment<'_>> = frames
        .iter()
        .filter_map(|f| match decode::decode(LinkType::ETHERNET, &f.data) {
            Ok(Decoded::Tcp(s)) => Some(s),
            _ => None,
        })
        .collect();
    let covered: u64 = segs.iter().map(|s| s.checksum_span.map_or(0, |b| b.len() as u64)).sum();
    let mut g = c.benchmark_group("checksum");
    g.throughput(Throughput::Bytes(covered));
    g.bench_function("verify_tcp_ipv4", |b| {
        b.iter(|| {
            let mut good = 0u32;
            for s in &segs {
                if let Some(span) = s.checksum_span {
                    good += u32::from(checksum::verify(s.src.ip(), s.dst.ip(), 6, black_box(span)));
                }
            }
            assert_eq!(good as usize, segs.len());
            black_box(good)
        })
    });
    g.bench_function("policy_auto", |b| {
        let mut p = Policy::new(Mode::Auto);
        b.iter(|| {
            for s in &segs {
                black_box(p.tcp(s.src, s.dst, black_box(s.checksum_span)));
            }
        })
    });
    let one = segs.iter().map(|s| s.checksum_span.unwrap_or_default()).max_by_key(|b| b.len()).unwrap_or_default();
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("sum_one_full_segment", |b| b.iter(|| black_box(checksum::sum(black_box(one)))));
    g.finish();
}

/// IP defragmentation: a 64 KiB datagram in 1,480-byte IPv4 fragments, in order and last first.
fn bench_defrag(c: &mut Criterion) {
    use plainsight::decode::Decoded;
    use plainsight::decode::defrag::Defragmenter;
    let payload: Vec<u8> = (0..65_000u32).map(|i| (i % 251) as u8).collect();
    let frame = plainsight_synth::tcp_frame(
        "10.0.0.1:40000".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
        1,
        1,
        plainsight_synth::ACK,
        &payload[..65_000 - 40],
    );
    let ip = &frame[14..];
    let (hdr, data) = ip.split_at(20);
    let mut frags: Vec<Vec<u8>> = Vec::new();
    for (i, chunk) in data.chunks(1480).enumerate() {
        let mut f = hdr.to_vec();
        f[2..4].copy_from_slice(&((20 + chunk.len()) as u16).to_be_bytes());
        let more = if (i + 1) * 1480 < data.len() { 0x2000 } else { 0 };
        f[6..8].copy_from_slice(&(((i * 1480 / 8) as u16) | more).to_be_bytes());
        f.extend_from_slice(chunk);
        frags.push(f);
    }
    let mut reversed = frags.clone();
    reversed.reverse();
    let mut g = c.benchmark_group("defrag");
    g.throughput(Throughput::Bytes(data.len() as u64));
    for (name, order) in [("ipv4_64k_in_order", &frags), ("ipv4_64k_reversed", &reversed)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut d = Defragmenter::new();
                let mut out = None;
                for f in order.iter() {
                    if let Ok(Decoded::Fragment(fr)) = decode::decode(LinkType::RAW, f) {
                        out = out.or(d.push(&fr, Timestamp(0)));
                    }
                }
                assert_eq!(out.as_ref().map(|o| o.len()), Some(ip.len()));
                black_box(out)
            })
        });
    }
    g.finish();
}

fn bench_reassembly(c: &mut Criterion) {
    use plainsight::decode::Decoded;
    use plainsight::reassembly::{CloseReason, FlowInfo, Reassembler, Side, StreamHandler};
    struct Count(u64);
    impl StreamHandler<()> for Count {
        fn on_data(&mut self, _: &FlowInfo, _: &mut (), _: Side, d: &[u8], _: Timestamp) {
            self.0 += d.len() as u64;
        }
        fn on_gap(&mut self, _: &FlowInfo, _: &mut (), _: Side, _: u64, _: Timestamp) {}
        fn on_close(&mut self, _: &FlowInfo, _: &mut (), _: CloseReason, _: Timestamp) {}
    }
    let frames = traffic(200, 20);
    let segs: Vec<(Timestamp, plainsight::decode::TcpSegment<'_>)> = frames
        .iter()
        .filter_map(|f| match decode::decode(LinkType::ETHERNET, &f.data) {
            Ok(Decoded::Tcp(s)) => Some((Timestamp(f.ts), s)),
            _ => None,
        })
        .collect();
    let payload: u64 = segs.iter().map(|(_, s)| s.payload.len() as u64).sum();
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(payload));
    g.sample_size(20);
    g.bench_function("in_order_200_flows", |b| {
        b.iter(|| {
            let mut r = Reassembler::<()>::new(plainsight::reassembly::Config::default());
            let mut h = Count(0);
            for (ts, s) in &segs {
                r.process(s, *ts, &mut h);
            }
            r.finish(Timestamp(0), &mut h);
            black_box(h.0)
        })
    });
    // Every pair of consecutive segments of a flow swapped: the out-of-order path.
    let mut swapped = segs.clone();
    for i in (0..swapped.len().saturating_sub(1)).step_by(2) {
        if swapped[i].1.src == swapped[i + 1].1.src && swapped[i].1.dst == swapped[i + 1].1.dst {
            swapped.swap(i, i + 1);
        }
    }
    g.bench_function("pairwise_reordered_200_flows", |b| {
        b.iter(|| {
            let mut r = Reassembler::<()>::new(plainsight::reassembly::Config::default());
            let mut h = Count(0);
            for (ts, s) in &swapped {
                r.process(s, *ts, &mut h);
            }
            r.finish(Timestamp(0), &mut h);
            black_box(h.0)
        })
    });
    g.finish();
}

fn bench_http(c: &mut Criterion) {
    use plainsight::http::{HttpConnection, HttpHandler, RequestLine, Response, Shared};
    use plainsight::reassembly::Side;
    struct N(u64);
    impl HttpHandler for N {
        fn on_request(&mut self, _: Side, _: &Request) {
            self.0 += 1;
        }
        fn on_response(&mut self, _: Side, _: &Response, _: Option<&RequestLine>) {
            self.0 += 1;
        }
    }
    let body = vec![b'x'; 8192];
    let mut reqs = Vec::new();
    let mut resps = Vec::new();
    for i in 0..200 {
        reqs.extend_from_slice(
            format!("GET /static/app-{i}.js HTTP/1.1\r\nHost: shop.lab\r\n{BROWSER_HEADERS}\r\n").as_bytes(),
        );
        resps.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        resps.extend_from_slice(&body);
    }
    let mut g = c.benchmark_group("http");
    g.throughput(Throughput::Bytes((reqs.len() + resps.len()) as u64));
    g.bench_function("keepalive_1460_byte_segments", |b| {
        b.iter(|| {
            let mut sh = Shared::default();
            let mut conn = HttpConnection::default();
            let mut n = N(0);
            for (side, data) in [(Side::Client, &reqs), (Side::Server, &resps)] {
                for seg in data.chunks(1460) {
                    conn.on_data(&mut sh, side, seg, Timestamp(0), &mut n);
                }
            }
            black_box(n.0)
        })
    });
    // A 1 MiB form whose password comes last: the first 64 KiB kept, the rest read as a stream by the
    // form scanner (the pipeline's predicates), in 1460-byte segments.
    let mut body = b"user=alice&pad=".to_vec();
    body.resize(1 << 20, b'x');
    body.extend_from_slice(b"&password=last");
    let mut upload = format!(
        "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    upload.extend_from_slice(&body);
    g.throughput(Throughput::Bytes(upload.len() as u64));
    g.bench_function("form_body_streamed_past_the_prefix", |b| {
        b.iter(|| {
            let cfg = plainsight::http::Config {
                body_field: Some(plainsight::detect::common::body_field_wanted),
                ..Default::default()
            };
            let mut sh = Shared::new(cfg);
            let mut conn = HttpConnection::default();
            let mut n = N(0);
            for seg in upload.chunks(1460) {
                conn.on_data(&mut sh, Side::Client, seg, Timestamp(0), &mut n);
            }
            black_box(n.0)
        })
    });
    g.finish();
}

fn request(extra: &[(&str, &str)]) -> Request {
    let mut h = vec![
        ("Host".to_string(), b"shop.lab".to_vec()),
        ("User-Agent".to_string(), b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".to_vec()),
        ("Accept".to_string(), b"*/*".to_vec()),
        ("Cookie".to_string(), b"_ga=GA1.2.1234567890.1700000000; theme=dark".to_vec()),
    ];
    for (n, v) in extra {
        h.push((n.to_string(), v.as_bytes().to_vec()));
    }
    Request {
        method: "GET".into(),
        target: "/static/app.js?v=123".into(),
        version: 1,
        headers: Headers::from(h),
        body: Body::default(),
        ts: Timestamp(0),
        seq: 0,
    }
}

fn bench_detect(c: &mut Criterion) {
    let cfg = detect::Config::default();
    let clean = request(&[]);
    let token = jwt(r#"{"sub":"bench","exp":4102444800}"#);
    let bearer_value = format!("Bearer {token}");
    let with_jwt = request(&[("Authorization", bearer_value.as_str())]);
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(1));
    let mut out = detect::Found::default();
    g.bench_function("request_without_credentials", |b| {
        b.iter(|| {
            out.clear();
            detect::detect_request(&cfg, black_box(&clean), Timestamp(0), &mut out);
        })
    });
    g.bench_function("request_with_bearer_jwt", |b| {
        b.iter(|| {
            out.clear();
            detect::detect_request(&cfg, black_box(&with_jwt), Timestamp(0), &mut out);
        })
    });
    g.finish();
}

fn bench_engine(c: &mut Criterion) {
    let frames = traffic(200, 20);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Bytes(bytes(&frames)));
    g.sample_size(10);
    g.bench_function("keepalive_http_200_flows_checksums_off", |b| {
        b.iter(|| {
            let mut e = Engine::new(Config { checksums: plainsight::decode::checksum::Mode::Off, ..Config::default() });
            let mut sink = NullSink;
            for f in &frames {
                e.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut sink);
            }
            e.finish(&mut sink);
            black_box(e.stats().leaks)
        })
    });
    g.bench_function("keepalive_http_200_flows", |b| {
        b.iter(|| {
            let mut e = Engine::new(Config::default());
            let mut sink = NullSink;
            for f in &frames {
                e.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut sink);
            }
            e.finish(&mut sink);
            black_box(e.stats().leaks)
        })
    });
    g.finish();
}

/// One side's bytes of a conversation, split as TCP would carry them (1460-byte segments).
type Conv = Vec<(plainsight::reassembly::Side, Vec<u8>)>;

fn conv_bytes(conv: &Conv) -> u64 {
    conv.iter().map(|(_, d)| d.len() as u64).sum()
}

/// `messages` from one side in segments of at most 1460 bytes, pipelined as a client would.
fn segments(side: plainsight::reassembly::Side, data: &[u8], out: &mut Conv) {
    for seg in data.chunks(1460) {
        out.push((side, seg.to_vec()));
    }
}

fn text_conv(lines: &[(bool, &str)]) -> Conv {
    use plainsight::reassembly::Side;
    let mut out = Conv::new();
    for (client, l) in lines {
        segments(if *client { Side::Client } else { Side::Server }, l.as_bytes(), &mut out);
    }
    out
}

fn ftp_conv() -> Conv {
    text_conv(&[
        (false, "220 (vsFTPd 3.0.3)\r\n"),
        (true, "USER alice\r\n"),
        (false, "331 Please specify the password.\r\n"),
        (true, "PASS s3cret-ftp\r\n"),
        (false, "230 Login successful.\r\n"),
        (true, "SYST\r\n"),
        (false, "215 UNIX Type: L8\r\n"),
        (true, "FEAT\r\n"),
        (false, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n"),
        (true, "PWD\r\n"),
        (false, "257 \"/home/alice\" is the current directory\r\n"),
        (true, "TYPE I\r\n"),
        (false, "200 Switching to Binary mode.\r\n"),
        (true, "PASV\r\n"),
        (false, "227 Entering Passive Mode (10,0,0,21,195,80).\r\n"),
        (true, "LIST\r\n"),
        (false, "150 Here comes the directory listing.\r\n"),
        (false, "226 Directory send OK.\r\n"),
        (true, "QUIT\r\n"),
        (false, "221 Goodbye.\r\n"),
    ])
}

/// LOGIN, SELECT, then FETCH of 20 messages of 4 KiB as literals.
fn imap_conv() -> Conv {
    use plainsight::reassembly::Side;
    let mut c = text_conv(&[
        (
            false,
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS] Dovecot ready.\r\n",
        ),
        (true, "a001 LOGIN alice \"s3cret imap\"\r\n"),
        (false, "a001 OK [CAPABILITY IMAP4rev1 SORT THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN] Logged in\r\n"),
        (true, "a002 SELECT INBOX\r\n"),
        (
            false,
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n* 20 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 21] Predicted next UID\r\na002 OK [READ-WRITE] Select completed.\r\n",
        ),
        (true, "a003 FETCH 1:20 (FLAGS BODY.PEEK[])\r\n"),
    ]);
    let body: String = (0..4096).map(|i| if i % 64 == 63 { '\n' } else { (b'a' + (i % 26) as u8) as char }).collect();
    let mut fetch = Vec::new();
    for i in 1..=20 {
        fetch.extend_from_slice(format!("* {i} FETCH (FLAGS (\\Seen) BODY[] {{{}}}\r\n", body.len()).as_bytes());
        fetch.extend_from_slice(body.as_bytes());
        fetch.extend_from_slice(b")\r\n");
    }
    fetch.extend_from_slice(b"a003 OK Fetch completed.\r\n");
    segments(Side::Server, &fetch, &mut c);
    c.extend(text_conv(&[(true, "a004 LOGOUT\r\n"), (false, "* BYE Logging out\r\na004 OK Logout completed.\r\n")]));
    c
}

/// EHLO, AUTH PLAIN, then one 10 KiB mail through DATA.
fn smtp_conv() -> Conv {
    use base64::Engine as _;
    use plainsight::reassembly::Side;
    let plain = base64::engine::general_purpose::STANDARD.encode(b"\0alice@example.org\0s3cret-smtp");
    let auth = format!("AUTH PLAIN {plain}\r\n");
    let mut c = text_conv(&[
        (false, "220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n"),
        (true, "EHLO client.example.org\r\n"),
        (
            false,
            "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n",
        ),
        (true, &auth),
        (false, "235 2.7.0 Authentication successful\r\n"),
        (true, "MAIL FROM:<alice@example.org>\r\n"),
        (false, "250 2.1.0 Ok\r\n"),
        (true, "RCPT TO:<bob@example.com>\r\n"),
        (false, "250 2.1.5 Ok\r\n"),
        (true, "DATA\r\n"),
        (false, "354 End data with <CR><LF>.<CR><LF>\r\n"),
    ]);
    let mut mail = String::from(
        "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\nSubject: quarterly report\r\nDate: Mon, 1 Dec 2025 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\n",
    );
    while mail.len() < 10 * 1024 {
        mail.push_str("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.\r\n");
    }
    mail.push_str(".\r\n");
    segments(Side::Client, mail.as_bytes(), &mut c);
    c.extend(text_conv(&[
        (false, "250 2.0.0 Ok: queued as 4F2A81C0042\r\n"),
        (true, "QUIT\r\n"),
        (false, "221 2.0.0 Bye\r\n"),
    ]));
    c
}

/// A BER TLV (definite length).
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = value.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend([0x81, n as u8]);
    } else {
        v.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(value);
    v
}

fn ldap_msg(id: u8, op: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[tlv(0x02, &[id]), op].concat())
}

/// Simple bind, then a subtree search answered by 100 entries of a few attributes.
fn ldap_conv() -> Conv {
    use plainsight::reassembly::Side;
    let mut c = Conv::new();
    let bind = ldap_msg(
        1,
        tlv(0x60, &[tlv(0x02, &[3]), tlv(0x04, b"cn=admin,dc=example,dc=com"), tlv(0x80, b"s3cret-ldap")].concat()),
    );
    let ok = |id: u8, app: u8| ldap_msg(id, tlv(app, &[tlv(0x0a, &[0]), tlv(0x04, b""), tlv(0x04, b"")].concat()));
    c.push((Side::Client, bind));
    c.push((Side::Server, ok(1, 0x61)));
    let search = ldap_msg(
        2,
        tlv(
            0x63,
            &[
                tlv(0x04, b"dc=example,dc=com"),
                tlv(0x0a, &[2]),
                tlv(0x0a, &[0]),
                tlv(0x02, &[0]),
                tlv(0x02, &[0]),
                tlv(0x01, &[0]),
                tlv(0x87, b"objectClass"),
                tlv(0x30, b""),
            ]
            .concat(),
        ),
    );
    c.push((Side::Client, search));
    let mut entries = Vec::new();
    for i in 0..100 {
        let dn = format!("uid=user{i},ou=people,dc=example,dc=com");
        let attr = |name: &str, val: &str| {
            tlv(0x30, &[tlv(0x04, name.as_bytes()), tlv(0x31, &tlv(0x04, val.as_bytes()))].concat())
        };
        let attrs = [
            attr("objectClass", "inetOrgPerson"),
            attr("cn", &format!("User Number {i}")),
            attr("sn", &format!("Number{i}")),
            attr("mail", &format!("user{i}@example.com")),
            attr("description", "A person in the directory, with a reasonably long description line."),
        ]
        .concat();
        entries.extend(ldap_msg(2, tlv(0x64, &[tlv(0x04, dn.as_bytes()), tlv(0x30, &attrs)].concat())));
    }
    entries.extend(ok(2, 0x65));
    segments(Side::Server, &entries, &mut c);
    c.push((Side::Client, ldap_msg(3, tlv(0x42, b""))));
    c
}

fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend(format!("${}\r\n", a.len()).bytes());
        v.extend_from_slice(a);
        v.extend(b"\r\n");
    }
    v
}

/// AUTH, then 1000 pipelined commands (SET and GET alternating, 64-byte values).
fn redis_conv() -> Conv {
    use plainsight::reassembly::Side;
    let mut c = Conv::new();
    c.push((Side::Client, resp(&[b"AUTH", b"s3cret-redis"])));
    c.push((Side::Server, b"+OK\r\n".to_vec()));
    let value = [b'v'; 64];
    let (mut req, mut rep) = (Vec::new(), Vec::new());
    for i in 0..1000 {
        let key = format!("session:{}", i / 2);
        if i % 2 == 0 {
            req.extend(resp(&[b"SET", key.as_bytes(), &value]));
            rep.extend(b"+OK\r\n");
        } else {
            req.extend(resp(&[b"GET", key.as_bytes()]));
            rep.extend(format!("${}\r\n", value.len()).bytes());
            rep.extend(value);
            rep.extend(b"\r\n");
        }
    }
    segments(Side::Client, &req, &mut c);
    segments(Side::Server, &rep, &mut c);
    c
}

fn mqtt_packet(b0: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![b0];
    let mut n = body.len();
    loop {
        let mut x = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            x |= 0x80;
        }
        v.push(x);
        if n == 0 {
            break;
        }
    }
    v.extend_from_slice(body);
    v
}

fn lstr(s: &[u8]) -> Vec<u8> {
    [&(s.len() as u16).to_be_bytes()[..], s].concat()
}

/// MQTT 3.1.1 CONNECT with a password, CONNACK, then 1000 QoS 0 PUBLISH of 100 bytes.
fn mqtt_conv() -> Conv {
    use plainsight::reassembly::Side;
    let mut c = Conv::new();
    let mut b = lstr(b"MQTT");
    b.extend([4, 0xc2, 0, 60]);
    b.extend(lstr(b"sensor-1"));
    b.extend(lstr(b"alice"));
    b.extend(lstr(b"s3cret-mqtt"));
    c.push((Side::Client, mqtt_packet(0x10, &b)));
    c.push((Side::Server, vec![0x20, 2, 0, 0]));
    let mut pubs = Vec::new();
    for i in 0..1000 {
        let topic = format!("sensors/{}/temperature", i % 16);
        pubs.extend(mqtt_packet(0x30, &[lstr(topic.as_bytes()), vec![b'7'; 100]].concat()));
    }
    segments(Side::Client, &pubs, &mut c);
    c
}

struct CountLogins(usize);
impl plainsight::proto::LoginSink for CountLogins {
    fn on_login(&mut self, _: plainsight::proto::Login) {
        self.0 += 1;
    }
}

fn bench_probe(c: &mut Criterion) {
    use plainsight::proto::probe::{Decision, Prober};
    use plainsight::reassembly::Side;
    let http = format!("GET /static/app-1.js HTTP/1.1\r\nHost: shop.lab\r\n{BROWSER_HEADERS}\r\n");
    let ftp = b"220 (vsFTPd 3.0.3)\r\n";
    let mut g = c.benchmark_group("probe");
    g.throughput(Throughput::Bytes(http.len() as u64));
    g.bench_function("first_http_segment", |b| {
        b.iter(|| {
            let mut p = Prober::default();
            let d = p.feed(Side::Client, black_box(http.as_bytes()), 8080);
            assert_eq!(d, Decision::No);
            black_box(d)
        })
    });
    g.throughput(Throughput::Bytes(ftp.len() as u64));
    g.bench_function("ftp_greeting", |b| {
        b.iter(|| {
            let mut p = Prober::default();
            let d = p.feed(Side::Server, black_box(ftp), 2121);
            assert!(matches!(d, Decision::Proto(_)));
            black_box(p.take_chunks())
        })
    });
    g.finish();
}

fn bench_proto(c: &mut Criterion) {
    use plainsight::proto::{Proto, session};
    let convs = [
        ("ftp_login_list", Proto::Ftp, ftp_conv()),
        ("imap_login_select_fetch_20x4k", Proto::Imap, imap_conv()),
        ("smtp_auth_plain_data_10k", Proto::Smtp, smtp_conv()),
        ("ldap_bind_search_100_entries", Proto::Ldap, ldap_conv()),
        ("redis_auth_1000_get_set", Proto::Redis, redis_conv()),
        ("mqtt_connect_1000_publish", Proto::Mqtt, mqtt_conv()),
    ];
    let mut g = c.benchmark_group("proto");
    for (name, p, conv) in &convs {
        // Each conversation must yield its one login: the bench measures a parser that works.
        let run = || {
            let mut s = session(*p);
            let mut out = CountLogins(0);
            for (i, (side, data)) in conv.iter().enumerate() {
                s.on_data(*side, black_box(data), Timestamp(i as i64), &mut out);
            }
            s.on_close(Timestamp(conv.len() as i64), &mut out);
            out.0
        };
        assert_eq!(run(), 1, "{name}: one login expected");
        g.throughput(Throughput::Bytes(conv_bytes(conv)));
        g.bench_function(*name, |b| b.iter(|| black_box(run())));
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_decode,
    bench_checksum,
    bench_defrag,
    bench_reassembly,
    bench_http,
    bench_detect,
    bench_engine,
    bench_probe,
    bench_proto
);
criterion_main!(benches);
