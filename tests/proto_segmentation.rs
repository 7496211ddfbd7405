//! Session parsers against TCP segmentation: for realistic login conversations, any split of each
//! message into chunks gives the same logins (user, secret, verdict, and the same transcripts, their
//! slots in the same places) as feeding every message whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use proptest::prelude::*;

use plainsight::proto::{Proto, Verdict};
use plainsight::reassembly::Side;
use plainsight::secret::Reveal;

const C: Side = Side::Client;
const S: Side = Side::Server;

type Conv = Vec<(Side, Vec<u8>)>;
type Key = (Option<String>, String, Verdict);

fn m(side: Side, b: &[u8]) -> (Side, Vec<u8>) {
    (side, b.to_vec())
}

/// A BER TLV with a short or 0x81 length.
fn tlv(tag: u8, v: &[u8]) -> Vec<u8> {
    let mut o = vec![tag];
    if v.len() < 0x80 {
        o.push(v.len() as u8);
    } else {
        o.extend([0x81, v.len() as u8]);
    }
    o.extend_from_slice(v);
    o
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn lstr(s: &[u8]) -> Vec<u8> {
    let mut o = (s.len() as u16).to_be_bytes().to_vec();
    o.extend_from_slice(s);
    o
}

/// The conversations, each with the logins it must give.
fn conversations() -> Vec<(Proto, Conv, Vec<Key>)> {
    let k = |u: Option<&str>, s: &str, v| (u.map(str::to_string), s.to_string(), v);
    // ldapsearch -x -D cn=admin,dc=example,dc=com -w secret: bindRequest(1) v3, then success.
    let bind = tlv(
        0x30,
        &cat(&[
            tlv(0x02, &[1]),
            tlv(0x60, &cat(&[tlv(0x02, &[3]), tlv(0x04, b"cn=admin,dc=example,dc=com"), tlv(0x80, b"secret")])),
        ]),
    );
    let bound =
        tlv(0x30, &cat(&[tlv(0x02, &[1]), tlv(0x61, &cat(&[tlv(0x0a, &[0]), tlv(0x04, b""), tlv(0x04, b"")]))]));
    let unbind = tlv(0x30, &cat(&[tlv(0x02, &[2]), tlv(0x42, b"")]));
    // mosquitto_pub -u sensor -P hunter2: CONNECT v3.1.1, clean session, user and password; CONNACK 0.
    let body = cat(&[lstr(b"MQTT"), vec![4, 0xc2, 0, 60], lstr(b"sensor-1"), lstr(b"sensor"), lstr(b"hunter2")]);
    let connect = cat(&[vec![0x10, body.len() as u8], body]);
    vec![
        (
            Proto::Ftp,
            vec![
                m(S, b"220 ProFTPD 1.3.8 Server ready.\r\n"),
                m(C, b"USER alice\r\n"),
                m(S, b"331 Password required for alice\r\n"),
                m(C, b"PASS wrong\r\n"),
                m(S, b"530 Login incorrect.\r\n"),
                m(C, b"USER alice\r\n"),
                m(S, b"331 Password required for alice\r\n"),
                m(C, b"PASS s3cret\r\n"),
                m(S, b"230 User alice logged in\r\n"),
                m(C, b"QUIT\r\n"),
                m(S, b"221 Goodbye.\r\n"),
            ],
            vec![k(Some("alice"), "wrong", Verdict::Refused), k(Some("alice"), "s3cret", Verdict::Accepted)],
        ),
        (
            Proto::Imap,
            vec![
                m(S, b"* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n"),
                m(C, b"a001 CAPABILITY\r\n"),
                m(S, b"* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN\r\na001 OK Pre-login capabilities listed.\r\n"),
                m(C, b"a002 LOGIN bob \"pa ss\"\r\n"),
                m(S, b"a002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                m(C, b"a003 LOGIN alice s3cret\r\n"),
                m(S, b"a003 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
                m(C, b"a004 LOGOUT\r\n"),
            ],
            vec![k(Some("bob"), "pa ss", Verdict::Refused), k(Some("alice"), "s3cret", Verdict::Accepted)],
        ),
        (
            Proto::Smtp,
            vec![
                m(S, b"220 mail.example.com ESMTP Postfix\r\n"),
                m(C, b"EHLO client.example.com\r\n"),
                m(S, b"250-mail.example.com\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"),
                // \0alice\0s3cret
                m(C, b"AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n"),
                m(S, b"235 2.7.0 Authentication successful\r\n"),
                m(C, b"QUIT\r\n"),
                m(S, b"221 2.0.0 Bye\r\n"),
            ],
            vec![k(Some("alice"), "s3cret", Verdict::Accepted)],
        ),
        (
            Proto::Ldap,
            vec![(C, bind), (S, bound), (C, unbind)],
            vec![k(Some("cn=admin,dc=example,dc=com"), "secret", Verdict::Accepted)],
        ),
        (
            Proto::Mqtt,
            vec![(C, connect), m(S, &[0x20, 2, 0, 0]), m(C, &[0xe0, 0])],
            vec![k(Some("sensor"), "hunter2", Verdict::Accepted)],
        ),
        (
            Proto::Redis,
            vec![
                m(C, b"*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n"),
                m(S, b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
                m(C, b"*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$8\r\npassword\r\n"),
                m(S, b"+OK\r\n"),
                m(C, b"*1\r\n$4\r\nPING\r\n"),
                m(S, b"+PONG\r\n"),
            ],
            // `AUTH password` alone is the user `default`, as `AUTH default password` says outright.
            vec![k(Some("default"), "wrong", Verdict::Refused), k(Some("default"), "password", Verdict::Accepted)],
        ),
        {
            // MariaDB with a PAM account: the client's native response, then the server switches it to
            // mysql_clear_password and the password crosses in clear.
            use plainsight::proto::mysql::enc;
            let native = [7u8; 20];
            (
                Proto::Mysql,
                vec![
                    (S, enc::greeting("5.5.5-10.11.6-MariaDB", b"abcdefghij0123456789", "mysql_native_password")),
                    (C, enc::response("bob", &native, Some("shop"), "mysql_native_password")),
                    (S, enc::switch(2, "mysql_clear_password", b"")),
                    (C, enc::packet(3, b"Cl3ar-pw!\0")),
                    (S, enc::ok(4)),
                ],
                vec![
                    k(Some("bob"), &"07".repeat(20), Verdict::Unknown),
                    k(Some("bob"), "Cl3ar-pw!", Verdict::Accepted),
                ],
            )
        },
        {
            // pylibmc with SASL: LIST_MECHS, a refused then an accepted SASL_AUTH PLAIN.
            use plainsight::proto::memcached::enc;
            (
                Proto::Memcached,
                vec![
                    (C, enc::request(0x20, 1, b"", b"")),
                    (S, enc::response(0x20, 0, 1, b"PLAIN")),
                    (C, enc::request(0x21, 2, b"PLAIN", b"cacheuser\0cacheuser\0wrong")),
                    (S, enc::response(0x21, 0x20, 2, b"Auth failure")),
                    (C, enc::request(0x21, 3, b"PLAIN", b"\0cacheuser\0s3cret")),
                    (S, enc::response(0x21, 0, 3, b"Authenticated")),
                ],
                vec![
                    k(Some("cacheuser"), "wrong", Verdict::Refused),
                    k(Some("cacheuser"), "s3cret", Verdict::Accepted),
                ],
            )
        },
        (
            // rlogin: the opening, the server's NUL and prompt, the password typed, a shell.
            Proto::Rlogin,
            vec![
                m(C, b"\0alice\0alice\0xterm/38400\0"),
                m(S, b"\0Password: "),
                m(C, b"Rl0gin-pw\r"),
                m(S, b"\r\nLast login: Mon Dec  1 10:00:00 from 10.77.0.1\r\nalice@lab:~$ "),
            ],
            vec![k(Some("alice"), "Rl0gin-pw", Verdict::Accepted)],
        ),
    ]
}

/// Feeds each message cut at `cuts[i]` (positions inside message i), then closes.
fn feed(p: Proto, conv: &Conv, cuts: &[Vec<usize>]) -> Vec<Key> {
    logins(p, conv, cuts).into_iter().map(|(k, _)| k).collect()
}

/// Every login's key and its transcript as outputs show it by default.
fn logins(p: Proto, conv: &Conv, cuts: &[Vec<usize>]) -> Vec<(Key, Vec<String>)> {
    common::session_logins(p, conv, cuts)
        .into_iter()
        .map(|l| {
            let t = l.transcript.iter().map(|t| t.render(Reveal::Redacted)).collect();
            ((l.user_name().map(str::to_string), l.secret.expose().to_string(), l.verdict), t)
        })
        .collect()
}

#[test]
fn whole_messages_give_the_expected_logins() {
    for (p, conv, want) in conversations() {
        assert_eq!(feed(p, &conv, &[]), want, "{p:?}");
    }
}

#[test]
fn one_byte_at_a_time_gives_the_same_logins() {
    for (p, conv, want) in conversations() {
        let cuts: Vec<Vec<usize>> = conv.iter().map(|(_, m)| (1..m.len()).collect()).collect();
        assert_eq!(feed(p, &conv, &cuts), want, "{p:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn any_split_of_each_message_gives_the_same_logins(
        which in 0usize..9,
        cuts in proptest::collection::vec(proptest::collection::vec(0usize..4096, 0..12), 11),
    ) {
        let convs = conversations();
        let (p, conv, want) = &convs[which % convs.len()];
        let got = logins(*p, conv, &cuts);
        prop_assert_eq!(&got.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), want, "{:?}", p);
        // rlogin's terminal login (telnet's rules) settles at the first verdict word: the verdict line of
        // its transcript ends where the segment did. Its logins are the same; the rest of the
        // protocols' transcripts too.
        if *p != Proto::Rlogin {
            prop_assert_eq!(got, logins(*p, conv, &[]), "transcripts differ: {:?}", p);
        }
    }
}
