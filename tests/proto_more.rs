//! The parsers of issue 11's more protocols (AMQP, IRC, XMPP, NNTP, Kafka) against segmentation and
//! random input: any split of each message gives the same logins and transcripts as whole messages,
//! one byte per segment included; random bytes in random cuttings, with gaps, never panic, and every
//! login stays within the transcript bounds (the `proto` fuzz harness's checks, run here in CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use proptest::prelude::*;

use plainsight::proto::{self, Proto, Verdict};
use plainsight::reassembly::Side;
use plainsight::secret::Reveal;

#[path = "../fuzz/harness/proto.rs"]
#[allow(dead_code)]
mod proto_harness;

const C: Side = Side::Client;
const S: Side = Side::Server;

type Conv = Vec<(Side, Vec<u8>)>;
type Key = (Option<String>, String, Verdict, &'static str);

fn m(side: Side, b: &[u8]) -> (Side, Vec<u8>) {
    (side, b.to_vec())
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

fn str16(b: &[u8]) -> Vec<u8> {
    [(b.len() as u16).to_be_bytes().to_vec(), b.to_vec()].concat()
}

fn kafka(body: &[u8]) -> Vec<u8> {
    long(body)
}

fn kafka_req(key: i16, version: i16, corr: i32, body: &[u8]) -> Vec<u8> {
    let mut h = [key.to_be_bytes(), version.to_be_bytes()].concat();
    h.extend(corr.to_be_bytes());
    h.extend(str16(b"cli"));
    if key == 36 && version >= 2 {
        h.push(0);
    }
    kafka(&[h, body.to_vec()].concat())
}

/// The conversations, each with the logins it must give.
fn conversations() -> Vec<(Proto, Conv, Vec<Key>)> {
    let k = |u: &str, s: &str, v, mech| (Some(u.to_string()), s.to_string(), v, mech);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let props = long(&[short(b"product"), vec![b'S'], long(b"pika")].concat());
    let start = amqp_frame(10, 10, &[vec![0, 9], props.clone(), long(b"PLAIN AMQPLAIN"), long(b"en_US")].concat());
    let start_ok = |mech: &[u8], resp: &[u8]| {
        amqp_frame(10, 11, &[props.clone(), short(mech), long(resp), short(b"en_US")].concat())
    };
    let amqplain =
        [short(b"LOGIN"), vec![b'S'], long(b"bot"), short(b"PASSWORD"), vec![b'S'], long(b"B0t pw")].concat();
    let close =
        amqp_frame(10, 50, &[403u16.to_be_bytes().to_vec(), short(b"ACCESS_REFUSED"), vec![0, 0, 0, 0]].concat());
    let tune = amqp_frame(10, 30, &[0, 0x07, 0xff, 0, 0x02, 0, 0, 0, 0x3c]);
    vec![
        (
            Proto::Amqp,
            vec![
                m(C, b"AMQP\x00\x00\x09\x01"),
                m(S, &start),
                m(C, &start_ok(b"PLAIN", b"\0alice\0wrong")),
                m(S, &close),
            ],
            vec![k("alice", "wrong", Verdict::Refused, "Connection.StartOk PLAIN")],
        ),
        (
            Proto::Amqp,
            vec![m(C, b"AMQP\x00\x00\x09\x01"), m(S, &start), m(C, &start_ok(b"AMQPLAIN", &amqplain)), m(S, &tune)],
            vec![k("bot", "B0t pw", Verdict::Accepted, "Connection.StartOk AMQPLAIN")],
        ),
        (
            Proto::Irc,
            vec![
                m(C, b"PASS :srv pass\r\nNICK alice\r\nUSER alice 0 * :Alice\r\n"),
                m(S, b":irc.lab 001 alice :Welcome alice\r\n:irc.lab 375 alice :- motd\r\n"),
                m(C, b"OPER labop Oper-pw\r\n"),
                m(S, b":irc.lab 381 alice :You are now an IRC Operator\r\n"),
                m(C, b"PRIVMSG NickServ :IDENTIFY alice Ns-pw\r\n"),
                m(S, b":NickServ!s@services.lab NOTICE alice :Invalid password for alice\r\n"),
                m(C, format!("AUTHENTICATE PLAIN\r\nAUTHENTICATE {}\r\n", b64(b"\0alice\0sasl pw")).as_bytes()),
                m(S, b"AUTHENTICATE +\r\n:irc.lab 903 alice :SASL authentication successful\r\n"),
            ],
            vec![
                k("alice", "srv pass", Verdict::Accepted, "PASS"),
                k("labop", "Oper-pw", Verdict::Accepted, "OPER"),
                k("alice", "Ns-pw", Verdict::Refused, "NickServ IDENTIFY"),
                k("alice", "sasl pw", Verdict::Accepted, "SASL PLAIN"),
            ],
        ),
        (
            Proto::Xmpp,
            vec![
                m(C, b"<?xml version='1.0'?><stream:stream to='lab' xmlns='jabber:client' version='1.0'>"),
                m(S, b"<?xml version='1.0'?><stream:stream from='lab' id='x' version='1.0'><stream:features><mechanisms><mechanism>PLAIN</mechanism></mechanisms></stream:features>"),
                m(C, format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{}</auth>", b64(b"\0alice\0x pw")).as_bytes()),
                m(S, b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"),
                m(C, b"<iq type='set' id='a2'><query xmlns='jabber:iq:auth'><username>bob</username><password>b&amp;b</password></query></iq>"),
                m(S, b"<iq type='result' id='a2'/>"),
            ],
            vec![
                k("alice", "x pw", Verdict::Refused, "SASL PLAIN"),
                k("bob", "b&b", Verdict::Accepted, "jabber:iq:auth"),
            ],
        ),
        (
            Proto::Nntp,
            vec![
                m(S, b"200 news.lab NNTP ready\r\n"),
                m(C, b"CAPABILITIES\r\n"),
                m(S, b"101 list\r\nVERSION 2\r\nAUTHINFO USER\r\n.\r\n"),
                m(C, b"AUTHINFO USER alice\r\n"),
                m(S, b"381 Password required\r\n"),
                m(C, b"AUTHINFO PASS nn pw\r\n"),
                m(S, b"281 Authentication accepted\r\n"),
                m(C, format!("AUTHINFO SASL PLAIN {}\r\n", b64(b"\0bob\0sasl-nn")).as_bytes()),
                m(S, b"481 Authentication failed\r\n"),
            ],
            vec![
                k("alice", "nn pw", Verdict::Accepted, "AUTHINFO USER/PASS"),
                k("bob", "sasl-nn", Verdict::Refused, "AUTHINFO SASL PLAIN"),
            ],
        ),
        (
            Proto::Kafka,
            vec![
                m(C, &kafka_req(17, 1, 1, &str16(b"PLAIN"))),
                m(S, &kafka(&[vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 1], str16(b"PLAIN")].concat())),
                m(C, &kafka_req(36, 2, 2, &[vec![13], b"\0alice\0kf pw".to_vec(), vec![0]].concat())),
                m(S, &kafka(&[vec![0, 0, 0, 2, 0], vec![0, 58, 0, 1, 1], vec![0; 8], vec![0]].concat())),
                m(C, &kafka_req(17, 0, 3, &str16(b"PLAIN"))),
                m(S, &kafka(&[vec![0, 0, 0, 3, 0, 0, 0, 0, 0, 1], str16(b"PLAIN")].concat())),
                m(C, &kafka(b"\0bob\0raw pw")),
                m(S, &kafka(b"")),
            ],
            vec![
                k("alice", "kf pw", Verdict::Refused, "SaslAuthenticate PLAIN"),
                k("bob", "raw pw", Verdict::Accepted, "SaslHandshake v0 PLAIN"),
            ],
        ),
    ]
}

/// Every login's key and its transcript as outputs show it by default, each message cut at `cuts[i]`.
fn logins(p: Proto, conv: &Conv, cuts: &[Vec<usize>]) -> Vec<(Key, Vec<String>)> {
    common::session_logins(p, conv, cuts)
        .into_iter()
        .map(|l| {
            let t = l.transcript.iter().map(|t| t.render(Reveal::Redacted)).collect();
            ((l.user_name().map(str::to_string), l.secret.expose().to_string(), l.verdict, l.mechanism), t)
        })
        .collect()
}

fn keys(v: &[(Key, Vec<String>)]) -> Vec<Key> {
    v.iter().map(|(k, _)| k.clone()).collect()
}

#[test]
fn whole_messages_give_the_expected_logins_and_no_transcript_shows_a_password() {
    for (p, conv, want) in conversations() {
        let got = logins(p, &conv, &[]);
        assert_eq!(keys(&got), want, "{p:?}");
        for ((_, secret, ..), t) in &got {
            assert!(t.iter().all(|l| !l.contains(secret.as_str())), "{p:?}: {secret:?} shown in {t:?}");
        }
    }
}

#[test]
fn one_byte_at_a_time_gives_the_same_logins_and_transcripts() {
    for (p, conv, _) in conversations() {
        let cuts: Vec<Vec<usize>> = conv.iter().map(|(_, m)| (1..m.len()).collect()).collect();
        assert_eq!(logins(p, &conv, &cuts), logins(p, &conv, &[]), "{p:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn any_split_of_each_message_gives_the_same_logins(
        which in 0usize..6,
        cuts in proptest::collection::vec(proptest::collection::vec(0usize..4096, 0..12), 9),
    ) {
        let convs = conversations();
        let (p, conv, want) = &convs[which % convs.len()];
        let got = logins(*p, conv, &cuts);
        prop_assert_eq!(&keys(&got), want, "{:?}", p);
        prop_assert_eq!(got, logins(*p, conv, &[]), "transcripts differ: {:?}", p);
    }

    /// Random events (payloads, gaps, either side) for each new protocol through the fuzz harness:
    /// session, connection rules, prober, SNMP tracker; every login within its bounds, no panic.
    #[test]
    fn random_bytes_in_random_cuttings_never_panic_and_stay_bounded(
        which in 0u8..5,
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let input = [vec![0xf0 + which], body].concat();
        proto_harness::run(&input);
    }

    /// The same with the conversations above mutated (bytes changed, cut, random bytes added): input
    /// that is nearly the protocol reaches deeper than random bytes.
    #[test]
    fn mutated_conversations_in_random_cuttings_never_panic(
        which in 0usize..6,
        edits in proptest::collection::vec((0usize..16, 0usize..4096, any::<u8>()), 1..6),
        cuts in proptest::collection::vec(proptest::collection::vec(0usize..4096, 0..6), 9),
    ) {
        let convs = conversations();
        let (p, conv, _) = &convs[which % convs.len()];
        let mut conv = conv.clone();
        for (i, at, b) in edits {
            let n = conv.len();
            let msg = &mut conv[i % n].1;
            match b % 3 {
                0 if !msg.is_empty() => { let j = at % msg.len(); msg[j] = b; }
                1 => msg.truncate(at % (msg.len() + 1)),
                _ => msg.extend(std::iter::repeat_n(b, at % 64)),
            }
        }
        let got = logins(*p, &conv, &cuts);
        for ((_, secret, ..), t) in &got {
            prop_assert!(!secret.is_empty());
            prop_assert!(t.len() <= proto::MAX_TRANSCRIPT);
        }
    }
}
