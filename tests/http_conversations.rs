//! HTTP conversation fixtures (tests/fixtures/http/*.txt), each fed in every chunking.
//!
//! Fixture format: `>>>` starts client bytes, `<<<` server bytes; every line of a block is sent with
//! CRLF appended; `~~~ client gap N` / `~~~ server gap N` is a gap of N bytes in that direction;
//! `=== ...` lines are the expected messages in order; `#` lines are comments. Every conversation is fed
//! whole, byte by byte, split in two at every point of every block, and in seeded random chunkings:
//! the messages seen must be the expected ones every time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use plainsight::http::{HttpConnection, HttpHandler, Request, RequestLine, Response, Shared};
use plainsight::reassembly::Side;
use plainsight::time::Timestamp;

#[derive(Clone, Debug)]
enum Ev {
    Data(Side, Vec<u8>),
    Gap(Side, u64),
}

struct Fixture {
    name: String,
    events: Vec<Ev>,
    expected: Vec<String>,
}

fn parse(name: &str, text: &str) -> Fixture {
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
        if line == ">>>" || line == "<<<" {
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
            b.extend_from_slice(line.as_bytes());
            b.extend_from_slice(b"\r\n");
        }
    }
    flush(&mut cur, &mut events);
    Fixture { name: name.to_string(), events, expected }
}

#[derive(Default)]
struct Seen(Vec<String>);

impl HttpHandler for Seen {
    fn on_request(&mut self, _from: Side, r: &Request) {
        self.0.push(format!(
            "REQ {} {} body={:?} wire={} inc={}",
            r.method,
            r.target,
            String::from_utf8_lossy(&r.body.data),
            r.body.wire_len,
            r.body.incomplete
        ));
    }
    fn on_response(&mut self, _from: Side, r: &Response, req: Option<&RequestLine>) {
        let to = req.map(|q| format!("{} {}", q.method, q.target)).unwrap_or_else(|| "-".into());
        self.0.push(format!(
            "RESP {} to={to} body={:?} wire={} inc={}",
            r.status,
            String::from_utf8_lossy(&r.body.data),
            r.body.wire_len,
            r.body.incomplete
        ));
    }
}

/// Feed the events, each data block cut at the given points.
fn run(events: &[Ev], cut: &dyn Fn(usize, usize) -> Vec<usize>) -> Vec<String> {
    let mut sh = Shared::default();
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
        assert_eq!(run(&f.events, &|_, _| vec![]), f.expected, "fixture {}", f.name);
    }
}

#[test]
fn every_fixture_gives_the_same_messages_byte_by_byte() {
    for f in fixtures() {
        assert_eq!(run(&f.events, &|_, n| (1..n).collect()), f.expected, "fixture {} byte by byte", f.name);
    }
}

#[test]
fn every_fixture_gives_the_same_messages_at_every_two_chunk_split() {
    for f in fixtures() {
        for (block, ev) in f.events.iter().enumerate() {
            let Ev::Data(_, b) = ev else { continue };
            for at in 1..b.len() {
                let got = run(&f.events, &|i, _| if i == block { vec![at] } else { vec![] });
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
            assert_eq!(run(&f.events, &cut), f.expected, "fixture {} seed {seed}", f.name);
        }
    }
}
