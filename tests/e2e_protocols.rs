//! End-to-end on the other cleartext protocols: conversations built packet by packet (36-byte
//! segments, reordered, on ports that are not the protocol's own), run through the binary, the login
//! alerts checked: kind, user, password, verdict, STARTTLS note; TLS upgrades give nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::*;
use plainsight_synth::Frame;

/// A conversation on `server` (`ip:port`): each message `(from_client, bytes)` in segments of `mss`
/// bytes; with `reorder`, the segments of every message are sent last first.
fn talk(server: &str, msgs: &[(bool, Vec<u8>)], mss: usize, reorder: bool) -> Vec<Frame> {
    let mut c = conv("10.9.0.1:40001", server);
    c.handshake();
    for (from_client, data) in msgs {
        if reorder {
            let before = c.take();
            c.send(*from_client, data, mss);
            let mut segs = c.take();
            segs.reverse();
            let mut all = before;
            all.extend(segs);
            c.frames = all;
        } else {
            c.send(*from_client, data, mss);
        }
    }
    c.close();
    c.take()
}

fn run_on(frames: &[Frame], extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempdir();
    let p = dir.path().join("t.pcap");
    write_pcap(&p, frames);
    let mut args = vec!["--reveal", "--alerts-at-end"];
    args.extend_from_slice(extra);
    alerts_of(&p, &args)
}

fn c(b: &[u8]) -> (bool, Vec<u8>) {
    (true, b.to_vec())
}
fn s(b: &[u8]) -> (bool, Vec<u8>) {
    (false, b.to_vec())
}

/// (kind, user, secret, verdict) of every alert.
fn logins(alerts: &[serde_json::Value]) -> Vec<(String, String, String, String)> {
    let f = |a: &serde_json::Value, k: &str| a[k].as_str().unwrap_or("-").to_string();
    alerts.iter().map(|a| (f(a, "kind"), f(a, "user"), f(a, "secret"), f(a, "verdict"))).collect()
}

fn tuple(kind: &str, user: &str, secret: &str, verdict: &str) -> (String, String, String, String) {
    (kind.into(), user.into(), secret.into(), verdict.into())
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    if body.len() < 128 {
        v.push(body.len() as u8);
    } else {
        v.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
    }
    v.extend_from_slice(body);
    v
}

fn ldap_bind(id: u8, dn: &str, pw: &str) -> Vec<u8> {
    let mut op = tlv(0x02, &[3]);
    op.extend(tlv(0x04, dn.as_bytes()));
    op.extend(tlv(0x80, pw.as_bytes()));
    let mut msg = tlv(0x02, &[id]);
    msg.extend(tlv(0x60, &op));
    tlv(0x30, &msg)
}

fn ldap_bind_response(id: u8, code: u8) -> Vec<u8> {
    let mut op = tlv(0x0a, &[code]);
    op.extend(tlv(0x04, b""));
    op.extend(tlv(0x04, b""));
    let mut msg = tlv(0x02, &[id]);
    msg.extend(tlv(0x61, &op));
    tlv(0x30, &msg)
}

fn u16s(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

fn mqtt_connect(client: &str, user: &str, pw: &str) -> Vec<u8> {
    let mut body = u16s(b"MQTT");
    body.extend([4, 0xc2, 0, 60]);
    body.extend(u16s(client.as_bytes()));
    body.extend(u16s(user.as_bytes()));
    body.extend(u16s(pw.as_bytes()));
    let mut v = vec![0x10, body.len() as u8];
    v.extend(body);
    v
}

fn pg(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![kind];
    v.extend(((body.len() + 4) as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn binary_protocol_logins_in_36_byte_reordered_segments_on_unusual_ports() {
    let mut frames = Vec::new();
    // LDAP: a refused bind, then an accepted one, on port 32681.
    frames.extend(talk(
        "10.9.0.2:32681",
        &[
            c(&ldap_bind(1, "cn=admin,dc=lab,dc=example", "wrong-ldap-pw")),
            s(&ldap_bind_response(1, 49)),
            c(&ldap_bind(2, "cn=admin,dc=lab,dc=example", "Right-ldap-pw-1")),
            s(&ldap_bind_response(2, 0)),
        ],
        36,
        true,
    ));
    // MQTT on 18830: CONNECT, CONNACK 0.
    frames.extend(talk(
        "10.9.0.3:18830",
        &[c(&mqtt_connect("sensor-7", "sensor7", "Mqtt-secret-77")), s(&[0x20, 2, 0, 0])],
        36,
        true,
    ));
    // Redis on 7000: ACL AUTH, +OK.
    frames.extend(talk(
        "10.9.0.4:7000",
        &[c(b"*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$15\r\nRedis-ACL-pw-42\r\n"), s(b"+OK\r\n")],
        36,
        true,
    ));
    // PostgreSQL on 6543: startup, cleartext password request, password, AuthenticationOk.
    let mut startup = Vec::new();
    let params = b"user\0app_user\0database\0shop\0\0";
    startup.extend(((params.len() + 8) as u32).to_be_bytes());
    startup.extend(196_608u32.to_be_bytes());
    startup.extend_from_slice(params);
    frames.extend(talk(
        "10.9.0.5:6543",
        &[
            c(&startup),
            s(&pg(b'R', &3u32.to_be_bytes())),
            c(&pg(b'p', b"Pg-clear-pass-9\0")),
            s(&pg(b'R', &0u32.to_be_bytes())),
        ],
        36,
        true,
    ));
    // SOCKS5 on 10800: username/password refused.
    let mut auth = vec![1, 5];
    auth.extend(b"alice");
    auth.push(13);
    auth.extend(b"socks-wrong-1");
    frames.extend(talk("10.9.0.6:10800", &[c(&[5, 1, 2]), s(&[5, 2]), c(&auth), s(&[1, 1])], 36, true));
    let got = logins(&run_on(&frames, &["--threads", "1"]));
    assert_eq!(
        got,
        vec![
            tuple("ldap_simple_bind", "cn=admin,dc=lab,dc=example", "wrong-ldap-pw", "refused"),
            tuple("ldap_simple_bind", "cn=admin,dc=lab,dc=example", "Right-ldap-pw-1", "accepted"),
            tuple("mqtt_connect", "sensor7", "Mqtt-secret-77", "accepted"),
            tuple("redis_auth", "alice", "Redis-ACL-pw-42", "accepted"),
            tuple("postgres_cleartext", "app_user", "Pg-clear-pass-9", "accepted"),
            tuple("socks5_login", "alice", "socks-wrong-1", "refused"),
        ]
    );
}

#[test]
fn smtp_auth_after_an_offered_starttls_says_so_and_imap_login_is_found_on_port_1430() {
    let plain = base64::engine::general_purpose::STANDARD.encode(b"\0judy@lab\0Smtp-pass-12");
    let mut frames = talk(
        "10.9.0.7:2525",
        &[
            s(b"220 mail.lab ESMTP ready\r\n"),
            c(b"EHLO client.lab\r\n"),
            s(b"250-mail.lab\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"),
            c(format!("AUTH PLAIN {plain}\r\n").as_bytes()),
            s(b"235 2.7.0 Authentication successful\r\n"),
            c(b"QUIT\r\n"),
            s(b"221 bye\r\n"),
        ],
        36,
        false,
    );
    frames.extend(talk(
        "10.9.0.8:1430",
        &[
            s(b"* OK IMAP4rev1 ready\r\n"),
            c(b"a1 LOGIN grace \"Imap pass 3\"\r\n"),
            s(b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
        ],
        36,
        false,
    ));
    let alerts = run_on(&frames, &["--threads", "1"]);
    assert_eq!(
        logins(&alerts),
        vec![
            tuple("smtp_auth", "judy@lab", "Smtp-pass-12", "accepted"),
            tuple("imap_login", "grace", "Imap pass 3", "refused"),
        ]
    );
    assert_eq!(alerts[0]["starttls"], "offered_not_used");
    assert!(alerts[0]["evidence"].as_str().unwrap().contains("STARTTLS"));
    assert_eq!(alerts[1]["starttls"], serde_json::Value::Null);
    assert_eq!(alerts[0]["severity"], "critical");
    assert_eq!(alerts[1]["severity"], "medium", "a refused login is medium");
}

#[test]
fn sessions_upgraded_to_tls_before_the_login_report_nothing_and_count_as_tls() {
    let hello = [0x16, 3, 1, 0, 0x40, 1, 0, 0, 0x3c, 3, 3];
    let mut frames = talk(
        "10.9.0.9:110",
        &[s(b"+OK ready\r\n"), c(b"STLS\r\n"), s(b"+OK Begin TLS\r\n"), c(&hello), c(b"USER x\r\nPASS y\r\n")],
        36,
        false,
    );
    frames.extend(talk(
        "10.9.0.10:21",
        &[s(b"220 FTP ready\r\n"), c(b"AUTH TLS\r\n"), s(b"234 Proceed\r\n"), c(&hello), c(b"PASS hidden\r\n")],
        36,
        false,
    ));
    let mut ssl = 8u32.to_be_bytes().to_vec();
    ssl.extend(80_877_103u32.to_be_bytes());
    frames.extend(talk("10.9.0.11:5432", &[c(&ssl), s(b"S"), c(&hello)], 36, false));
    let dir = tempdir();
    let p = dir.path().join("t.pcap");
    write_pcap(&p, &frames);
    let o = run(&["read", "-q", "--stats", "--no-report", "--alerts", "-", p.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(o.stdout.is_empty(), "nothing reported: {}", String::from_utf8_lossy(&o.stdout));
    let stats = String::from_utf8_lossy(&o.stderr);
    assert!(stats.contains("tls flows:            3"), "{stats}");
}

#[test]
fn a_brute_force_across_connections_is_one_alert_with_its_attempts_and_users() {
    let mut frames = Vec::new();
    for (i, (user, pw)) in
        [("admin", "123456"), ("admin", "qwerty"), ("root", "toor"), ("admin", "letmein")].iter().enumerate()
    {
        let mut c0 = conv(&format!("10.9.1.1:{}", 41000 + i), "10.9.1.2:21");
        c0.handshake();
        c0.server(b"220 FTP ready\r\n");
        c0.client(format!("USER {user}\r\n").as_bytes());
        c0.server(b"331 Password required\r\n");
        c0.client(format!("PASS {pw}\r\n").as_bytes());
        c0.server(b"530 Login incorrect.\r\n");
        c0.close();
        // One connection after the other, a second apart.
        frames.extend(c0.take().into_iter().map(|mut f| {
            f.ts += i as i64 * 1_000_000;
            f
        }));
    }
    for threads in ["1", "2"] {
        let alerts = run_on(&frames, &["--threads", threads]);
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(
            (a["kind"].as_str(), a["verdict"].as_str(), a["count"].as_u64()),
            (Some("ftp_login"), Some("refused"), Some(4))
        );
        assert_eq!(a["users"], serde_json::json!(["admin", "root"]));
        assert_eq!(a["secret"], "123456", "the earliest attempt stands for the group");
    }
    // Without --alerts-at-end the line is written at the first attempt; the report has the attempts.
    let dir = tempdir();
    let p = dir.path().join("t.pcap");
    write_pcap(&p, &frames);
    let o = run(&["read", "-q", p.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("refused by the server, 4 attempts (users admin, root)"), "{report}");
}

#[test]
fn alerts_at_end_needs_an_alert_file() {
    let o = run(&["read", "--alerts-at-end", "captures/ftp.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--alerts"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn an_upload_that_starts_like_a_login_on_a_data_connection_is_not_a_login() {
    // A passive FTP data connection (a high port, the client sends the file, the server says nothing).
    let file = b"USER root\r\nPASS toor\r\n# notes for the ops team\r\n".repeat(40);
    let frames = talk("10.9.2.2:40123", &[c(&file)], 1448, false);
    assert!(run_on(&frames, &["--threads", "1"]).is_empty());
}

#[test]
fn a_login_refused_because_tls_is_required_then_upgraded_says_it_was_sent_before_the_upgrade() {
    let hello = [0x16, 3, 1, 0, 0x40, 1, 0, 0, 0x3c, 3, 3];
    let frames = talk(
        "10.9.3.2:143",
        &[
            s(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
            c(b"a1 LOGIN grace Gr4ce-in-clear\r\n"),
            s(b"a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections.\r\n"),
            c(b"a2 STARTTLS\r\n"),
            s(b"a2 OK Begin TLS negotiation now.\r\n"),
            c(&hello),
            c(b"a3 LOGIN grace encrypted-now\r\n"),
        ],
        36,
        false,
    );
    let alerts = run_on(&frames, &["--threads", "1"]);
    assert_eq!(logins(&alerts), vec![tuple("imap_login", "grace", "Gr4ce-in-clear", "refused")]);
    assert_eq!(alerts[0]["starttls"], "sent_before_upgrade");
    assert!(alerts[0]["evidence"].as_str().unwrap().contains("before the session upgraded to TLS"));
}
