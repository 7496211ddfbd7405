//! End-to-end on issue 11's more protocols: conversations built packet by packet (36-byte segments,
//! each message's segments sent last first, on ports that are not the protocol's own), run through the
//! binary, the login alerts checked (kind, user, password, verdict); STARTTLS gives nothing. The real
//! captures (captures/amqp.pcap ... kafka.pcap) are checked against their truth by tests/golden.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::*;
use plainsight_synth::Frame;

#[path = "../examples/gen_more/kafka.rs"]
mod kafka;

/// A conversation on `server`, each message `(from_client, bytes)` in reordered segments of `mss`.
fn talk(client: &str, server: &str, msgs: &[(bool, Vec<u8>)], mss: usize) -> Vec<Frame> {
    let mut c = conv(client, server);
    c.handshake();
    for (from_client, data) in msgs {
        let before = c.take();
        c.send(*from_client, data, mss);
        let mut segs = c.take();
        segs.reverse();
        c.frames = [before, segs].concat();
    }
    c.close();
    c.take()
}

fn c(b: &[u8]) -> (bool, Vec<u8>) {
    (true, b.to_vec())
}
fn s(b: &[u8]) -> (bool, Vec<u8>) {
    (false, b.to_vec())
}

fn logins(frames: &[Frame]) -> Vec<(String, String, String, String)> {
    let dir = tempdir();
    let p = dir.path().join("t.pcap");
    write_pcap(&p, frames);
    let alerts = alerts_of(&p, &["--reveal", "--alerts-at-end"]);
    let f = |a: &serde_json::Value, k: &str| a[k].as_str().unwrap_or("-").to_string();
    let mut v: Vec<_> = alerts.iter().map(|a| (f(a, "kind"), f(a, "user"), f(a, "secret"), f(a, "verdict"))).collect();
    v.sort();
    v
}

fn t(kind: &str, user: &str, secret: &str, verdict: &str) -> (String, String, String, String) {
    (kind.into(), user.into(), secret.into(), verdict.into())
}

fn amqp_frame(class: u16, method: u16, args: &[u8]) -> Vec<u8> {
    let payload = [class.to_be_bytes().to_vec(), method.to_be_bytes().to_vec(), args.to_vec()].concat();
    let mut v = vec![1, 0, 0];
    v.extend((payload.len() as u32).to_be_bytes());
    v.extend(payload);
    v.push(0xce);
    v
}

fn long(b: &[u8]) -> Vec<u8> {
    [(b.len() as u32).to_be_bytes().to_vec(), b.to_vec()].concat()
}

fn short(b: &[u8]) -> Vec<u8> {
    [vec![b.len() as u8], b.to_vec()].concat()
}

#[test]
fn the_five_protocols_in_36_byte_reordered_segments_on_unusual_ports() {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut frames = Vec::new();
    let props = long(b"");
    let start_ok =
        amqp_frame(10, 11, &[props, short(b"PLAIN"), long(b"\0rabbit\0Amqp-e2e-pw"), short(b"en_US")].concat());
    frames.extend(talk(
        "10.9.0.1:40001",
        "10.9.0.2:15672",
        &[c(b"AMQP\x00\x00\x09\x01"), c(&start_ok), s(&amqp_frame(10, 30, &[0, 0, 0, 2, 0, 0, 0, 0]))],
        36,
    ));
    frames.extend(talk(
        "10.9.0.1:40002",
        "10.9.0.2:16667",
        &[
            c(b"PASS Irc-e2e-pw\r\nNICK nick1\r\nUSER nick1 0 * :N\r\n"),
            s(b":irc.e2e 464 nick1 :Password incorrect\r\n"),
        ],
        36,
    ));
    let plain = b64(b"\0jid1\0Xmpp-e2e-pw");
    frames.extend(talk(
        "10.9.0.1:40003",
        "10.9.0.2:15222",
        &[
            c(b"<?xml version='1.0'?><stream:stream to='e2e' xmlns='jabber:client' version='1.0'>"),
            s(b"<?xml version='1.0'?><stream:stream from='e2e' id='1' version='1.0'>"),
            c(format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>").as_bytes()),
            s(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"),
        ],
        36,
    ));
    frames.extend(talk(
        "10.9.0.1:40004",
        "10.9.0.2:10119",
        &[
            s(b"200 news.e2e NNTP ready\r\n"),
            c(b"AUTHINFO USER reader\r\n"),
            s(b"381 Password required\r\n"),
            c(b"AUTHINFO PASS Nntp-e2e-pw\r\n"),
            s(b"281 Authentication accepted\r\n"),
        ],
        36,
    ));
    // An NNTP session that upgrades: nothing after 382.
    frames.extend(talk(
        "10.9.0.1:40005",
        "10.9.0.2:10119",
        &[
            s(b"200 news.e2e NNTP ready\r\n"),
            c(b"STARTTLS\r\n"),
            s(b"382 Continue with TLS negotiation\r\n"),
            c(b"\x16\x03\x01\x00\x30AUTHINFO USER x\r\nAUTHINFO PASS not-seen\r\n"),
        ],
        36,
    ));
    let mut all = frames;
    // Kafka on its own port, from the capture builder (its segments whole).
    let p = kafka::Passwords { alice: "Kafka-e2e-a", bob: "Kafka-e2e-b", carol: "Kafka-e2e-c" };
    all.extend(kafka::conversations(&p));
    let got = logins(&all);
    let mut want = vec![
        t("amqp_login", "rabbit", "Amqp-e2e-pw", "accepted"),
        t("irc_login", "nick1", "Irc-e2e-pw", "refused"),
        t("xmpp_login", "jid1", "Xmpp-e2e-pw", "accepted"),
        t("nntp_login", "reader", "Nntp-e2e-pw", "accepted"),
        t("kafka_sasl", "alice", "Kafka-e2e-a", "accepted"),
        t("kafka_sasl", "alice", kafka::WRONG, "refused"),
        t("kafka_sasl", "bob", "Kafka-e2e-b", "accepted"),
    ];
    want.sort();
    assert_eq!(got, want);
}
