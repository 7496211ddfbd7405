//! The HTTP details of issue 11 and the fixes seen missing, through the whole engine: the same
//! conversations fed whole, one byte per segment and in any cutting give the same alerts (the
//! redirect window waits for its answer, the HSTS rule spans two connections), and hostile names and
//! values never panic the general rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use plainsight::alert::{Alert, Collector};
use plainsight::decode::LinkType;
use plainsight::detect::generic;
use plainsight::pipeline::{Config, Engine};
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame};

/// One conversation: client address, server address, what the client sends and the server answers.
struct Conv {
    client: &'static str,
    server: &'static str,
    steps: Vec<(bool, Vec<u8>)>,
}

fn http(client: &'static str, server: &'static str, steps: &[(bool, &str)]) -> Conv {
    Conv { client, server, steps: steps.iter().map(|(c, s)| (*c, s.as_bytes().to_vec())).collect() }
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

/// The conversations, in capture order (their frames are laid one after the other in time).
fn conversations() -> Vec<Conv> {
    let tls = plainsight::http::tls::build_client_hello("portal.lab");
    vec![
        http(
            "10.0.0.1:40001",
            "10.0.0.2:8080",
            &[
                (
                    true,
                    "GET /auth/v1.0 HTTP/1.1\r\nHost: swift.lab:8080\r\nX-Auth-User: test:tester\r\nX-Auth-Key: Swift-pw-1\r\n\r\n",
                ),
                (
                    false,
                    "HTTP/1.1 200 OK\r\nX-Auth-Token: AUTH_tk0f1e2d3c4b5a69788796\r\nX-Storage-Token: AUTH_tk0f1e2d3c4b5a69788796\r\nX-Auth-Token-Expires: 86399\r\nContent-Length: 0\r\n\r\n",
                ),
                (
                    true,
                    "GET /v1/AUTH_test/c HTTP/1.1\r\nHost: swift.lab:8080\r\nX-Storage-Token: AUTH_tk0f1e2d3c4b5a69788796\r\nX-Request-Id: 550e8400-e29b-41d4-a716-446655440000\r\n\r\n",
                ),
                (false, OK),
            ],
        ),
        http(
            "10.0.0.1:40002",
            "10.0.0.2:80",
            &[
                (
                    true,
                    "POST /login HTTP/1.1\r\nHost: secure.lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\nuser=bob&password=Bob-pw-redir",
                ),
                (
                    false,
                    "HTTP/1.1 301 Moved Permanently\r\nLocation: https://secure.lab/login\r\nContent-Length: 0\r\n\r\n",
                ),
                (true, "GET /account HTTP/1.1\r\nHost: secure.lab\r\nCookie: session=Sess-0123456789ab\r\n\r\n"),
                (false, "HTTP/1.1 302 Found\r\nLocation: https://elsewhere.lab/\r\nContent-Length: 0\r\n\r\n"),
            ],
        ),
        Conv { client: "10.0.0.1:40003", server: "10.0.0.2:443", steps: vec![(true, tls)] },
        http(
            "10.0.0.1:40004",
            "10.0.0.2:80",
            &[
                (true, "GET /home HTTP/1.1\r\nHost: portal.lab\r\nCookie: portal_sid=Portal-0a1b2c3d4e\r\n\r\n"),
                (false, OK),
                (
                    true,
                    "GET /img.png HTTP/1.1\r\nHost: cdn.portal.lab\r\nReferer: https://portal.lab/cart?x=1\r\nAuthorization: Bearer tok-mixed-0123456789\r\n\r\n",
                ),
                (false, OK),
                (
                    true,
                    "GET /lab/r.csv HTTP/1.1\r\nHost: s3.lab\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0a1b2c3d\r\n\r\n",
                ),
                (false, OK),
                (
                    true,
                    "GET /weatherstation/updateweatherstation.php?ID=KLAB1&PASSWORD=Wx-pw-9&tempf=1 HTTP/1.1\r\nHost: wx.lab\r\n\r\n",
                ),
                (false, OK),
            ],
        ),
    ]
}

/// The frames of every conversation, each message cut into segments of `mss(i)` bytes (`i` counts the
/// messages), conversations one after the other in time.
fn frames(mss: &mut dyn FnMut(usize) -> usize) -> Vec<Frame> {
    let mut all = Vec::new();
    let mut ts = plainsight_synth::DEFAULT_START_MICROS;
    let mut n = 0;
    for c in conversations() {
        let mut conv = Conversation::new(c.client.parse().unwrap(), c.server.parse().unwrap());
        conv.ts = ts;
        conv.handshake();
        for (from_client, data) in &c.steps {
            conv.send(*from_client, data, mss(n));
            n += 1;
        }
        conv.close();
        ts = conv.ts + 1_000_000;
        all.extend(conv.take());
    }
    all
}

/// (kind, server, host, user, secret) of one alert.
type Key = (String, String, Option<String>, Option<String>, String);

/// What the engine reports, sorted.
fn run(frames: &[Frame]) -> Vec<Key> {
    let mut e = Engine::new(Config::default());
    let mut sink = Collector::default();
    for f in frames {
        e.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut sink);
    }
    e.finish(&mut sink);
    let mut v: Vec<_> = sink
        .0
        .iter()
        .map(|a: &Alert| {
            let r = a.record(plainsight::alert::Reveal::Full);
            (r.kind.as_str().to_string(), r.server, r.host, r.user, r.secret)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_conversations_give_the_expected_findings_of_the_issue() {
    let got = run(&frames(&mut |_| 1460));
    let kinds: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "api_key_header",
            "aws_access_key_id",
            "bearer_opaque",
            "cookie_token",
            "cookie_token",
            "form_login",
            "header_password",
            "hsts_missing",
            "login_response_token",
            "mixed_content",
            "sslstrip_window",
            "url_token",
        ],
        "{got:#?}"
    );
    let redirect = got.iter().find(|g| g.0 == "sslstrip_window").unwrap();
    assert_eq!(redirect.4, "Bob-pw-redir", "the login was redirected to https; the cookie went elsewhere");
    let hsts = got.iter().find(|g| g.0 == "hsts_missing").unwrap();
    assert_eq!((hsts.1.as_str(), hsts.2.as_deref()), ("10.0.0.2:80", Some("portal.lab")));
}

#[test]
fn fed_one_byte_per_segment_the_findings_are_the_same() {
    assert_eq!(run(&frames(&mut |_| 1)), run(&frames(&mut |_| 1460)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any cutting of any message gives the same findings.
    #[test]
    fn any_cutting_gives_the_same_findings(cuts in proptest::collection::vec(1usize..48, 24)) {
        let whole = run(&frames(&mut |_| 1460));
        let cut = run(&frames(&mut |i| cuts[i % cuts.len()]));
        prop_assert_eq!(cut, whole);
    }

    /// The general rule on arbitrary names and values (any bytes, any length) never panics, and what
    /// it calls a credential value is one word of bounded length.
    #[test]
    fn the_general_rule_never_panics_on_hostile_names_and_values(name in ".{0,300}", value in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = generic::words(&name);
        let _ = generic::credential_name(&name);
        let _ = generic::credential_path(Some(&name), &name);
        let v = String::from_utf8_lossy(&value);
        if generic::looks_like_credential(&v) {
            prop_assert!(v.len() >= 8 && !v.contains(char::is_whitespace));
        }
    }
}

/// A flood of names (one client, thousands of SNIs) keeps the HSTS rule's table at its cap, and what
/// it forgot reaches `--stats`.
#[test]
fn a_flood_of_names_is_bounded_and_counted_in_stats() {
    let extra = 100;
    let mut e = Engine::new(Config::default());
    let mut sink = Collector::default();
    let mut ts = plainsight_synth::DEFAULT_START_MICROS;
    for i in 0..plainsight::detect::fixes::MAX_PAIRS + extra {
        let client = format!("10.0.0.1:{}", 1024 + i % 60_000).parse().unwrap();
        let mut c = Conversation::new(client, "10.0.0.2:443".parse().unwrap());
        c.ts = ts;
        c.handshake().client(&plainsight::http::tls::build_client_hello(&format!("h{i}.flood.lab")));
        ts = c.ts + 10;
        for f in c.take() {
            e.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut sink);
        }
    }
    e.finish(&mut sink);
    let st = e.stats();
    assert_eq!(st.engine.hsts_pairs_forgotten, extra as u64);
    assert!(st.render(1.0, 0).contains("hsts pairs forgotten: 100"), "the counter is shown by --stats");
}
