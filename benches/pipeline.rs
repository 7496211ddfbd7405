//! Per-stage and whole-pipeline throughput on synthetic keep-alive HTTP traffic.
//!
//! `cargo bench --bench pipeline` (add `-- --warm-up-time 1 --measurement-time 3` for a quick run).
//! Frames are built once with `plainsight::synth` and replayed from memory, so the figures measure the
//! analysis alone (no I/O): decode, detectors on typical requests, and the engine end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plainsight::alert::NullSink;
use plainsight::decode::{self, LinkType};
use plainsight::detect;
use plainsight::http::{Body, Headers, Request};
use plainsight::pipeline::{Config, Engine};
use plainsight::synth::{Conversation, Frame, jwt};
use plainsight::time::Timestamp;

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
    use plainsight::http::{Config as HttpConfig, HttpConnection, HttpHandler, RequestLine, Response, Stats};
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
            let cfg = HttpConfig::default();
            let mut st = Stats::default();
            let mut conn = HttpConnection::default();
            let mut n = N(0);
            for (side, data) in [(Side::Client, &reqs), (Side::Server, &resps)] {
                for seg in data.chunks(1460) {
                    conn.on_data(&cfg, &mut st, side, seg, Timestamp(0), &mut n);
                }
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
        headers: Headers(h),
        body: Body::default(),
        ts: Timestamp(0),
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
    let mut out = Vec::new();
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

criterion_group!(benches, bench_decode, bench_reassembly, bench_http, bench_detect, bench_engine);
criterion_main!(benches);
