//! One test per bug found (by fuzzing or otherwise), named after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use plainsight::detect::{Config, Found, detect_request};
use plainsight::http::{Body, Headers, Request};
use plainsight::time::Timestamp;

/// The `proto` fuzz target's harness: regression inputs replay through exactly the same checks.
#[path = "../fuzz/harness/proto.rs"]
#[allow(dead_code)]
mod proto_harness;

/// fuzz/artifacts/detect/crash-cb4fb291: `X-Token: key hea` was reported as an API key whose
/// "secret" then appeared inside the fixed evidence text "API key header". A value with spaces is
/// not a key.
#[test]
fn fuzz_detect_api_key_header_with_spaces_is_not_a_key() {
    let req = Request {
        method: "POST".into(),
        target: String::new(),
        version: 1,
        headers: Headers::from(vec![("X-Token".into(), b"key hea".to_vec())]),
        body: Body::default(),
        ts: Timestamp(0),
        seq: 0,
    };
    let mut out = Found::default();
    detect_request(&Config { include_low_confidence: true }, &req, Timestamp(0), &mut out);
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

/// fuzz/artifacts/detect/crash-b994de2f: evidence quoted the authorization scheme and the JWT `sub`
/// in full, so a hostile header made it arbitrarily long. User-controlled parts are now cut short.
#[test]
fn fuzz_detect_evidence_stays_short_whatever_the_scheme_or_sub() {
    let long = "x".repeat(5000);
    let token = plainsight_synth::jwt(&format!(r#"{{"sub":"{long}"}}"#));
    let req = Request {
        method: "GET".into(),
        target: "/".into(),
        version: 1,
        headers: Headers::from(vec![
            ("Authorization".into(), format!("{long} abcdefgh").into_bytes()),
            ("Proxy-Authorization".into(), format!("Bearer {token}").into_bytes()),
        ]),
        body: Body::default(),
        ts: Timestamp(0),
        seq: 0,
    };
    let mut out = Found::default();
    detect_request(&Config { include_low_confidence: true }, &req, Timestamp(0), &mut out);
    assert_eq!(out.findings.len(), 2);
    for f in &out.findings {
        assert!(f.evidence.len() < 200, "{} chars: {}", f.evidence.len(), &f.evidence[..80]);
    }
}

/// gen_capture `greetings`: with MAX_PROBING connections stuck undecided (servers that send only
/// `220 `), every later connection went straight to HTTP, so an FTP login after the flood was missed.
/// A new connection is now probed on its first segment even when the table of probers is full.
#[test]
fn an_ftp_login_after_a_flood_of_undecided_connections_is_still_found() {
    use plainsight::alert::NullSink;
    use plainsight::decode::LinkType;
    use plainsight::pipeline::{Config, Engine};
    use plainsight_synth::Conversation;
    use std::net::SocketAddr;
    let mut e = Engine::new(Config::default());
    let mut sink = NullSink;
    let mut ts = 1_795_000_000_000_000i64;
    let mut feed = |e: &mut Engine, c: &mut Conversation| {
        for f in c.take() {
            ts += 1;
            e.process(LinkType::ETHERNET, Timestamp(ts), &f.data, &mut sink);
        }
    };
    for i in 0..70_000u32 {
        // More connections than the prober table holds.
        let client = SocketAddr::from(([10, 1, (i >> 16) as u8, (i >> 8) as u8], 1024 + (i & 0xff) as u16));
        let mut c = Conversation::new(client, "10.2.0.1:2000".parse().unwrap());
        c.handshake().server(b"220 ");
        feed(&mut e, &mut c);
    }
    let mut c = Conversation::new("10.9.9.9:40000".parse().unwrap(), "10.9.9.1:21".parse().unwrap());
    c.handshake().server(b"220 (vsFTPd 3.0.3)\r\n").client(b"USER late\r\n").server(b"331 Password?\r\n");
    c.client(b"PASS after-the-flood\r\n").server(b"230 Login successful.\r\n").close();
    feed(&mut e, &mut c);
    assert_eq!(e.stats().leaks, 1);
    // The flood's connections past the table's size were abandoned to HTTP; the FTP one was not.
    assert_eq!(e.stats().engine.probes_abandoned, 70_000 - plainsight::pipeline::MAX_PROBING as u64);
}

/// fuzz/artifacts/proto/crash-cb8c9c85: a PostgreSQL PasswordMessage whose password is only control
/// characters (`\r`) gave a login with an empty secret (the raw bytes were checked, not the text).
#[test]
fn fuzz_proto_postgres_password_of_control_characters_is_no_login() {
    let logins = proto_harness::run(include_bytes!("../fuzz/regressions/proto-postgres-control-password"));
    assert!(logins.is_empty(), "{logins:?}");
}

/// Same class as the PostgreSQL one (found reading the parsers after it, replayed through the fuzz
/// harness): an LDAP simple bind whose password is one control character gave an empty secret.
#[test]
fn fuzz_proto_ldap_simple_bind_password_of_control_characters_is_no_login() {
    let logins = proto_harness::run(include_bytes!("../fuzz/regressions/proto-ldap-simple-control-secret"));
    assert!(logins.is_empty(), "{logins:?}");
}

/// An LDAP SASL PLAIN bind whose password is one control character gave an empty secret.
#[test]
fn fuzz_proto_ldap_sasl_plain_password_of_control_characters_is_no_login() {
    let logins = proto_harness::run(include_bytes!("../fuzz/regressions/proto-ldap-plain-control-secret"));
    assert!(logins.is_empty(), "{logins:?}");
}

/// An MQTT CONNECT whose password is one control character gave an empty secret.
#[test]
fn fuzz_proto_mqtt_password_of_control_characters_is_no_login() {
    let logins = proto_harness::run(include_bytes!("../fuzz/regressions/proto-mqtt-control-secret"));
    assert!(logins.is_empty(), "{logins:?}");
}

/// An SNMP v2c trap whose community is one control character was reported with an empty secret (the
/// harness sends every payload to the SNMP tracker too, and checks its logins).
#[test]
fn fuzz_proto_snmp_community_of_control_characters_is_no_login() {
    proto_harness::run(include_bytes!("../fuzz/regressions/proto-snmp-control-secret"));
}
