//! Every detector and the JWT analysis on requests and responses built from arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plainsight::detect::{Config, detect_request, detect_response, fixes, jwt};
use plainsight::http::{Body, Headers, Request, RequestLine, Response};
use plainsight::time::Timestamp;

const NAMES: [&str; 16] = [
    "Authorization",
    "Cookie",
    "Set-Cookie",
    "Content-Type",
    "X-API-Key",
    "Location",
    "Proxy-Authorization",
    "X-Token",
    "Content-Encoding",
    "Host",
    // The general rule, Swift tempauth and the fixes seen missing (`detect::generic`, `detect::fixes`).
    "X-Auth-User",
    "X-Auth-Key",
    "X-Storage-Token",
    "Origin",
    "Referer",
    "X-Vendor-Session-Key",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    for (i, p) in parts.by_ref().take(8).enumerate() {
        headers.push((NAMES[(i + p.len()) % NAMES.len()].to_string(), p.as_bytes().to_vec()));
    }
    let body: Vec<u8> = parts.collect::<Vec<_>>().join("\u{1}").into_bytes();
    let b = Body { data: body, ..Body::default() };
    let req = Request {
        method: "POST".into(),
        target: target.clone(),
        version: 1,
        headers: Headers::from(headers.clone()),
        body: b.clone(),
        ts: Timestamp(0),
        seq: 0,
    };
    let resp =
        Response { status: 200, reason: "OK".into(), version: 1, headers: Headers::from(headers), body: b, ts: Timestamp(0) };
    let cfg = Config { include_low_confidence: true };
    let mut out = plainsight::detect::Found::default();
    detect_request(&cfg, &req, Timestamp(1_795_000_000_000_000), &mut out);
    let line = RequestLine { method: "GET".into(), target, host: None, seq: 0 };
    detect_response(&cfg, &resp, Some(&line), Timestamp(0), &mut out);
    let _ = plainsight::detect::excerpt::request(&req, &out);
    for f in &out.findings {
        // Evidence is built from fixed words, the auth scheme and JWT claims, never from the secret.
        // (Checking `!evidence.contains(secret)` here only finds secrets the fuzzer made equal to those
        // fixed words, e.g. "ation scheme"; redaction of real secrets is tested in tests/golden.rs.)
        assert!(f.evidence.len() <= 1024, "evidence is a short text");
        assert!(!f.secret.is_empty(), "a finding always has a secret");
    }
    let _ = jwt::analyse(&text, Timestamp(0));
    // The fixes: a redirect's answer, and the HSTS table fed this message's names.
    let host = req.headers.get("host").map(|h| String::from_utf8_lossy(h).into_owned());
    let _ = fixes::Answer::of(&resp, host.as_deref());
    let mut t = fixes::HstsTracker::default();
    let mut touched = fixes::Touched::default();
    let (c, s): (std::net::SocketAddr, std::net::SocketAddr) = ("10.0.0.1:1".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
    let name = host.unwrap_or_default();
    let _ = t.on_plain(c.ip(), &name, Timestamp(2), || fixes::PlainVisit::new(&req, &name, c, s, &out.findings), &mut touched);
    let _ = t.on_tls(c.ip(), &name, Timestamp(1), &mut touched);
});
