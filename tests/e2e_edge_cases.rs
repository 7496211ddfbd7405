//! End-to-end: captures built packet by packet, run through the binary, alerts checked exactly.
//! Each test is one way the wire can present a credential that a naive sniffer would miss or misreport.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;

/// Capture time used by `Conversation` (2026-11-18): JWT expiry is measured against it.
const T0: i64 = 1_795_000_000;

fn jwt(sub: &str, exp: i64) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"{sub}","roles":["admin"],"exp":{exp}}}"#));
    format!("{h}.{p}.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU")
}

fn bearer_request(token: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Bearer {token}\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

fn one(frames: &[Frame], extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempdir();
    let p = dir.path().join("t.pcap");
    write_pcap(&p, frames);
    alerts_of(&p, extra)
}

#[test]
fn bearer_jwt_split_into_7_byte_segments_is_found_once_with_validity() {
    let token = jwt("alice", T0 + 3600);
    let mut c = conv("10.0.0.1:40000", "10.0.0.2:80");
    c.handshake().send(true, &bearer_request(&token, "/api/orders"), 7).server(OK).close();
    let a = one(&c.frames, &["--reveal"]);
    assert_eq!(kinds(&a), vec!["bearer_jwt"]);
    assert_eq!(a[0]["secret"], token.as_str());
    assert_eq!(a[0]["server"], "10.0.0.2:80");
    assert_eq!(a[0]["host"], "shop.lab");
    assert_eq!(a[0]["path"], "/api/orders");
    assert_eq!(a[0]["severity"], "high");
    assert_eq!(a[0]["jwt"]["sub"], "alice");
    assert_eq!(a[0]["jwt"]["validity"]["state"], "valid");
}

#[test]
fn reordered_and_retransmitted_segments_still_give_exactly_one_alert() {
    let token = jwt("bob", T0 + 600);
    let mut c = conv("10.0.0.1:40001", "10.0.0.2:80");
    c.handshake().send(true, &bearer_request(&token, "/api"), 10);
    // Reverse the data segments (handshake stays first) and retransmit two of them.
    let mut frames = c.frames.clone();
    let data: Vec<Frame> = frames.split_off(3).into_iter().rev().collect();
    frames.extend(data.iter().cloned());
    frames.push(data[0].clone());
    frames.push(data[3].clone());
    let mut c2 = c;
    c2.frames = frames;
    c2.server(OK).close();
    let a = one(&c2.frames, &["--reveal"]);
    assert_eq!(kinds(&a), vec!["bearer_jwt"]);
    assert_eq!(a[0]["secret"], token.as_str());
}

#[test]
fn expired_jwt_is_medium_and_says_how_long_ago() {
    let token = jwt("carol", T0 - 3 * 86_400);
    let mut c = conv("10.0.0.1:40002", "10.0.0.2:80");
    c.handshake().client(&bearer_request(&token, "/old")).server(OK).close();
    let a = one(&c.frames, &[]);
    assert_eq!(kinds(&a), vec!["bearer_jwt"]);
    assert_eq!(a[0]["severity"], "medium");
    assert_eq!(a[0]["jwt"]["validity"]["state"], "expired");
    let text = a[0]["jwt"]["validity"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("3 days"), "{text}");
}

#[test]
fn login_over_ipv6_on_a_non_standard_port_is_critical() {
    let body = "username=alice&password=Secr3t%21pass";
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: [fd00::2]:31337\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut c = conv("[fd00::1]:50000", "[fd00::2]:31337");
    c.handshake().client(req.as_bytes()).server(OK).close();
    let a = one(&c.frames, &["--reveal"]);
    assert_eq!(kinds(&a), vec!["form_login"]);
    assert_eq!(a[0]["secret"], "Secr3t!pass");
    assert_eq!(a[0]["user"], "alice");
    assert_eq!(a[0]["severity"], "critical");
    assert_eq!(a[0]["server"], "[fd00::2]:31337");
}

#[test]
fn token_in_chunked_gzip_login_response_is_found() {
    use std::io::Write as _;
    let token = jwt("dave", T0 + 7200);
    let json = format!(r#"{{"token":"{token}","user":"dave"}}"#);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let (a1, a2) = gz.split_at(gz.len() / 2);
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in [a1, a2] {
        resp.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        resp.extend_from_slice(part);
        resp.extend_from_slice(b"\r\n");
    }
    resp.extend_from_slice(b"0\r\n\r\n");
    let body = r#"{"username":"dave","password":""}"#;
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut c = conv("10.0.0.1:40003", "10.0.0.2:8080");
    c.handshake().client(req.as_bytes()).send(false, &resp, 20).close();
    let a = one(&c.frames, &["--reveal"]);
    // The empty password is not a credential; the token handed out is.
    assert_eq!(kinds(&a), vec!["login_response_token"]);
    assert_eq!(a[0]["secret"], token.as_str());
    assert_eq!(a[0]["path"], "/login");
}

#[test]
fn pipelined_requests_each_give_their_alert() {
    let t1 = jwt("erin", T0 + 100);
    let basic = base64::engine::general_purpose::STANDARD.encode("erin:pa:ss:word");
    let mut reqs = bearer_request(&t1, "/a");
    reqs.extend_from_slice(
        format!("GET /b HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Basic {basic}\r\n\r\n").as_bytes(),
    );
    reqs.extend_from_slice(
        b"GET /c HTTP/1.1\r\nHost: shop.lab\r\nCookie: _ga=GA1.2.3; sessionid=9f8e7d6c5b4a39281706\r\n\r\n",
    );
    let mut resps = Vec::new();
    for _ in 0..3 {
        resps.extend_from_slice(OK);
    }
    let mut c = conv("10.0.0.1:40004", "10.0.0.2:80");
    c.handshake().client(&reqs).server(&resps).close();
    let a = one(&c.frames, &["--reveal"]);
    assert_eq!(kinds(&a), vec!["basic_auth", "bearer_jwt", "cookie_token"]);
    let basic_alert = a.iter().find(|x| x["kind"] == "basic_auth").expect("basic");
    assert_eq!(basic_alert["user"], "erin");
    assert_eq!(basic_alert["secret"], "pa:ss:word");
    let cookie = a.iter().find(|x| x["kind"] == "cookie_token").expect("cookie");
    assert_eq!(cookie["secret"], "9f8e7d6c5b4a39281706");
}

#[test]
fn stream_picked_up_mid_connection_still_yields_later_requests() {
    let token = jwt("frank", T0 + 100);
    let mut c = conv("10.0.0.1:40005", "10.0.0.2:80");
    // A previous response body tail, then a full request: no handshake seen.
    c.send(true, b"tail-of-an-earlier-body-with-no-meaning\r\n", 1460);
    c.client(&bearer_request(&token, "/late")).server(OK);
    let a = one(&c.frames, &[]);
    assert_eq!(kinds(&a), vec!["bearer_jwt"]);
    assert_eq!(a[0]["path"], "/late");
}

#[test]
fn a_lost_segment_does_not_stall_the_next_request() {
    let t1 = jwt("gina", T0 + 100);
    let t2 = jwt("gina2", T0 + 100);
    let mut c = conv("10.0.0.1:40006", "10.0.0.2:80");
    c.handshake().send(true, &bearer_request(&t1, "/first"), 16);
    // Lose the 3rd data segment of the first request.
    c.frames.remove(3 + 2);
    c.server(OK).client(&bearer_request(&t2, "/second")).server(OK).close();
    let a = one(&c.frames, &["--reveal"]);
    assert!(a.iter().any(|x| x["secret"] == t2.as_str()), "second request lost after the gap: {a:?}");
}

#[test]
fn ten_thousand_polls_with_one_token_give_one_alert_line_and_a_count_in_the_report() {
    let token = jwt("poller", T0 + 3600);
    let mut c = conv("10.0.0.1:40007", "10.0.0.2:80");
    c.handshake();
    for _ in 0..10_000 {
        c.client(&bearer_request(&token, "/poll")).server(OK);
    }
    c.close();
    let dir = tempdir();
    let p = dir.path().join("poll.pcap");
    write_pcap(&p, &c.frames);
    let out = dir.path().join("a.jsonl");
    let o = run(&["read", "-q", "--alerts", out.to_str().unwrap(), p.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(read_jsonl(&out).len(), 1);
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("seen 10000 times"), "{report}");
}

#[test]
fn tls_flow_is_counted_as_protected_and_never_reported() {
    // A TLS ClientHello with SNI shop.lab, then opaque records.
    let rec = plainsight::http::tls::build_client_hello("shop.lab");
    // Inside the "encrypted" records, bytes that look like a credential must not matter.
    let mut app = vec![0x17, 0x03, 0x03, 0x00, 0x40];
    app.extend_from_slice(&bearer_request(&jwt("x", T0 + 10), "/")[..0x40]);
    let mut c = conv("10.0.0.1:40008", "10.0.0.2:443");
    c.handshake().client(&rec).server(&[0x16, 0x03, 0x03, 0x00, 0x04, 2, 0, 0, 0]).client(&app).close();
    let dir = tempdir();
    let p = dir.path().join("tls.pcap");
    write_pcap(&p, &c.frames);
    let o = run(&["read", "-q", "--stats", p.to_str().unwrap()]);
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stdout.contains("no credential"), "{stdout}");
    assert!(stdout.contains("TLS-protected flows: 1 (shop.lab)"), "{stdout}");
    assert!(stderr.contains("tls flows:            1"), "{stderr}");
}

#[test]
fn bpf_filter_applies_to_files() {
    let t = jwt("henry", T0 + 100);
    let mut c1 = conv("10.0.0.1:40009", "10.0.0.2:80");
    c1.handshake().client(&bearer_request(&t, "/on80")).server(OK).close();
    let mut c2 = conv("10.0.0.1:40010", "10.0.0.3:8080");
    c2.handshake().client(&bearer_request(&t, "/on8080")).server(OK).close();
    let mut frames = c1.frames.clone();
    frames.extend(c2.frames.iter().cloned());
    let all = one(&frames, &[]);
    assert_eq!(all.len(), 2);
    let only80 = one(&frames, &["-f", "tcp port 80"]);
    assert_eq!(only80.len(), 1);
    assert_eq!(only80[0]["path"], "/on80");
}

#[test]
fn one_token_over_flows_analysed_by_different_threads_is_one_leak() {
    let token = jwt("shared", T0 + 3600);
    let mut frames = Vec::new();
    for i in 0..8 {
        let mut c = conv(&format!("10.0.0.{}:{}", i + 1, 41000 + i), "10.0.0.2:80");
        c.handshake().client(&bearer_request(&token, "/poll")).server(OK).close();
        frames.extend(c.frames);
    }
    let dir = tempdir();
    let p = dir.path().join("multi.pcap");
    write_pcap(&p, &frames);
    let out = dir.path().join("a.jsonl");
    let o = run(&["read", "-q", "--threads", "4", "--alerts", out.to_str().unwrap(), p.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(read_jsonl(&out).len(), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("seen 8 times"), "{}", String::from_utf8_lossy(&o.stdout));
}

/// The answer to a request carrying Basic credentials is their verdict: refused (401) attempts are
/// medium and fold into one alert with their count, the accepted one is critical; a login form answered
/// 401 is refused, one answered 200 has no verdict (an application says nothing by its status).
#[test]
fn http_logins_take_their_verdict_from_the_answer_to_their_request() {
    use base64::engine::general_purpose::STANDARD;
    let mut c = conv("10.0.0.1:40002", "10.0.0.2:80");
    c.handshake();
    for (pw, status) in [("wrong-one", 401), ("wrong-two", 401), ("Right-pw-1", 200)] {
        let auth = STANDARD.encode(format!("alice:{pw}"));
        c.client(format!("GET /admin HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Basic {auth}\r\n\r\n").as_bytes());
        c.server(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n").as_bytes());
    }
    for (pw, status) in [("form-wrong", 401), ("form-maybe", 200)] {
        let body = format!("user=bob&password={pw}");
        c.client(
            format!(
                "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        c.server(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n").as_bytes());
    }
    c.close();
    let mut got: Vec<(String, String, String, u64, String)> = one(&c.frames, &["--reveal", "--alerts-at-end"])
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["verdict"].as_str().unwrap_or("-").to_string(),
                a["severity"].as_str().unwrap().to_string(),
                a["count"].as_u64().unwrap(),
                a["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want = [
        ("basic_auth", "accepted", "critical", 1, "Right-pw-1"),
        ("basic_auth", "refused", "medium", 2, "wrong-one"),
        ("form_login", "-", "critical", 1, "form-maybe"),
        ("form_login", "refused", "medium", 1, "form-wrong"),
    ]
    .map(|(k, v, s, n, p)| (k.to_string(), v.to_string(), s.to_string(), n, p.to_string()));
    assert_eq!(got, want);
}
