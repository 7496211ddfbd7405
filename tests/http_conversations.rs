//! HTTP conversation fixtures (tests/fixtures/http/*.txt), each fed in every chunking.
//!
//! Fixture format: `>>>` starts client bytes, `<<<` server bytes; every line of a block is sent with
//! CRLF appended; `~~~ client gap N` / `~~~ server gap N` is a gap of N bytes in that direction;
//! `=== ...` lines are the expected messages in order; `#` lines are comments. Every conversation is fed
//! whole, byte by byte, split in two at every point of every block, and in seeded random chunkings:
//! the messages seen must be the expected ones every time.
//!
//! The parser runs with the pipeline's predicates (detect's rules for what is kept past the caps).
//! `@@@ max_head_bytes N` / `@@@ max_body_bytes N` lines before the first block shrink a cap, so that a
//! fixture crosses it with a few kilobytes. Directives inside a block build what text cannot say:
//! `$$$ repeat N LINE` (N lines), `$$$ chunk CODINGS TEXT` (one chunk of TEXT encoded with CODINGS,
//! a comma list of `identity`, `gzip`, `deflate` applied in order), `$$$ end-chunks` (the last chunk);
//! in TEXT, `{{N:C}}` is C repeated N times and `\\r`, `\\n` are CR and LF. Expected lines show a body longer than 64 bytes by its
//! first 32 and its length, the Authorization value when there is one, the fields read past the kept
//! prefix (`extra`) and the framing note.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use plainsight::http::{Body, Config, Headers, HttpConnection, HttpHandler, Request, RequestLine, Response, Shared};
use plainsight::reassembly::Side;
use plainsight::time::Timestamp;

#[derive(Clone, Debug)]
enum Ev {
    Data(Side, Vec<u8>),
    Gap(Side, u64),
}

struct Fixture {
    name: String,
    cfg: Config,
    events: Vec<Ev>,
    expected: Vec<String>,
}

/// `{{N:C}}` expanded.
fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").expect("unclosed {{") + i;
        let (n, c) = rest[i + 2..j].split_once(':').expect("{{N:C}}");
        out.push_str(&c.repeat(n.parse().expect("N")));
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out.replace("\\r", "\r").replace("\\n", "\n")
}

fn encode(codings: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut b = data.to_vec();
    for c in codings.split(',') {
        b = match c {
            "identity" => b,
            "gzip" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&b).unwrap();
                e.finish().unwrap()
            }
            "deflate" => {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&b).unwrap();
                e.finish().unwrap()
            }
            other => panic!("unknown coding {other}"),
        };
    }
    b
}

/// A directive line (`$$$ ...`) of a block, as bytes.
fn directive(d: &str) -> Vec<u8> {
    let mut words = d.splitn(3, ' ');
    match (words.next(), words.next(), words.next()) {
        (Some("repeat"), Some(n), Some(line)) => {
            format!("{}\r\n", expand(line)).repeat(n.parse().unwrap()).into_bytes()
        }
        (Some("chunk"), Some(codings), Some(text)) => {
            let body = encode(codings, expand(text).as_bytes());
            let mut b = format!("{:x}\r\n", body.len()).into_bytes();
            b.extend_from_slice(&body);
            b.extend_from_slice(b"\r\n");
            b
        }
        (Some("end-chunks"), None, None) => b"0\r\n\r\n".to_vec(),
        _ => panic!("bad directive {d}"),
    }
}

/// The configuration the pipeline gives HTTP.
fn pipeline_config() -> Config {
    use plainsight::detect::common as rules;
    Config {
        keep_header: rules::header_wanted,
        body_field: Some(rules::body_field_wanted),
        response_field: Some(rules::response_field_wanted),
        keep_response_body: rules::response_body_wanted,
        ..Config::default()
    }
}

fn parse(name: &str, text: &str) -> Fixture {
    let mut cfg = pipeline_config();
    let mut events = Vec::new();
    let mut expected = Vec::new();
    let mut cur: Option<(Side, Vec<u8>)> = None;
    let flush = |cur: &mut Option<(Side, Vec<u8>)>, events: &mut Vec<Ev>| {
        if let Some((s, b)) = cur.take() {
            if !b.is_empty() {
                events.push(Ev::Data(s, b));
            }
        }
    };
    for line in text.lines() {
        if line.starts_with('#') && cur.is_none() {
            continue;
        }
        if let Some(set) = line.strip_prefix("@@@ ").filter(|_| cur.is_none() && events.is_empty()) {
            let (k, v) = set.split_once(' ').expect("@@@ name value");
            let v: usize = v.parse().expect("a number");
            match k {
                "max_head_bytes" => cfg.max_head_bytes = v,
                "max_body_bytes" => cfg.max_body_bytes = v,
                _ => panic!("unknown setting {k}"),
            }
        } else if line == ">>>" || line == "<<<" {
            flush(&mut cur, &mut events);
            cur = Some((if line == ">>>" { Side::Client } else { Side::Server }, Vec::new()));
        } else if let Some(rest) = line.strip_prefix("~~~ ") {
            flush(&mut cur, &mut events);
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let side = if parts[0] == "client" { Side::Client } else { Side::Server };
            events.push(Ev::Gap(side, parts[2].parse().unwrap()));
        } else if let Some(rest) = line.strip_prefix("=== ") {
            flush(&mut cur, &mut events);
            expected.push(rest.to_string());
        } else if let Some((_, b)) = cur.as_mut() {
            match line.strip_prefix("$$$ ") {
                Some(d) => b.extend_from_slice(&directive(d)),
                None => {
                    b.extend_from_slice(line.as_bytes());
                    b.extend_from_slice(b"\r\n");
                }
            }
        }
    }
    flush(&mut cur, &mut events);
    Fixture { name: name.to_string(), cfg, events, expected }
}

#[derive(Default)]
struct Seen(Vec<String>);

/// A body as the expected lines show it: whole when short, else its start and length.
fn show_body(b: &Body) -> String {
    let text = String::from_utf8_lossy(&b.data);
    if text.len() <= 64 {
        return format!("body={text:?}");
    }
    let start: String = text.chars().take(32).collect();
    format!("body={start:?}…({} bytes)", b.data.len())
}

/// What the expected lines show beyond the start line and body: only when there is something.
fn details(headers: &Headers, b: &Body) -> String {
    let mut s = String::new();
    if let Some(a) = headers.get("authorization") {
        s.push_str(&format!(" auth={:?}", String::from_utf8_lossy(a)));
    }
    if !b.extra.is_empty() {
        let f: Vec<String> = b.extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
        s.push_str(&format!(" extra=[{}]", f.join(", ")));
    }
    if let Some(n) = b.framing_note {
        s.push_str(&format!(" note={n:?}"));
    }
    s
}

impl HttpHandler for Seen {
    fn on_request(&mut self, _from: Side, r: &Request) {
        self.0.push(format!(
            "REQ {} {} {} wire={} inc={}{}",
            r.method,
            r.target,
            show_body(&r.body),
            r.body.wire_len,
            r.body.incomplete,
            details(&r.headers, &r.body)
        ));
    }
    fn on_response(&mut self, _from: Side, r: &Response, req: Option<&RequestLine>) {
        let to = req.map(|q| format!("{} {}", q.method, q.target)).unwrap_or_else(|| "-".into());
        self.0.push(format!(
            "RESP {} to={to} {} wire={} inc={}{}",
            r.status,
            show_body(&r.body),
            r.body.wire_len,
            r.body.incomplete,
            details(&r.headers, &r.body)
        ));
    }
}

/// Feed the events, each data block cut at the given points.
fn run(cfg: &Config, events: &[Ev], cut: &dyn Fn(usize, usize) -> Vec<usize>) -> Vec<String> {
    let mut sh = Shared::new(cfg.clone());
    let mut conn = HttpConnection::default();
    let mut seen = Seen::default();
    for (i, ev) in events.iter().enumerate() {
        match ev {
            Ev::Gap(s, n) => conn.on_gap(&mut sh, *s, *n, Timestamp(0), &mut seen),
            Ev::Data(s, b) => {
                let mut points = cut(i, b.len());
                points.retain(|&p| p > 0 && p < b.len());
                points.sort_unstable();
                points.dedup();
                let mut last = 0;
                for p in points.into_iter().chain(std::iter::once(b.len())) {
                    conn.on_data(&mut sh, *s, &b[last..p], Timestamp(0), &mut seen);
                    last = p;
                }
            }
        }
    }
    conn.on_close(&mut sh, Timestamp(0), &mut seen);
    seen.0
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/http");
    let mut out: Vec<Fixture> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
        .map(|e| parse(&e.file_name().to_string_lossy(), &std::fs::read_to_string(e.path()).unwrap()))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 10, "fixtures missing");
    out
}

#[test]
fn every_fixture_gives_its_expected_messages_when_fed_whole() {
    for f in fixtures() {
        assert_eq!(run(&f.cfg, &f.events, &|_, _| vec![]), f.expected, "fixture {}", f.name);
    }
}

#[test]
fn every_fixture_gives_the_same_messages_byte_by_byte() {
    for f in fixtures() {
        assert_eq!(run(&f.cfg, &f.events, &|_, n| (1..n).collect()), f.expected, "fixture {} byte by byte", f.name);
    }
}

#[test]
fn every_fixture_gives_the_same_messages_at_every_two_chunk_split() {
    for f in fixtures() {
        for (block, ev) in f.events.iter().enumerate() {
            let Ev::Data(_, b) = ev else { continue };
            // Every point of a short block; past 2 KiB, every point of its first and last 512 bytes
            // and 256 points spread between (the long middle of such a block is padding).
            let points: Vec<usize> = if b.len() <= 2048 {
                (1..b.len()).collect()
            } else {
                let step = b.len() / 256;
                (1..512).chain((512..b.len() - 512).step_by(step)).chain(b.len() - 512..b.len()).collect()
            };
            for at in points {
                let got = run(&f.cfg, &f.events, &|i, _| if i == block { vec![at] } else { vec![] });
                assert_eq!(got, f.expected, "fixture {} block {block} split at {at}", f.name);
            }
        }
    }
}

#[test]
fn every_fixture_gives_the_same_messages_in_random_chunkings() {
    for f in fixtures() {
        for seed in 1..=40u64 {
            let cut = |i: usize, n: usize| {
                let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i as u64 + 1);
                let mut pts = Vec::new();
                let mut p = 0;
                while p < n {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    p += 1 + (x % 23) as usize;
                    pts.push(p);
                }
                pts
            };
            assert_eq!(run(&f.cfg, &f.events, &cut), f.expected, "fixture {} seed {seed}", f.name);
        }
    }
}
