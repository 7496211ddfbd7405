//! The `proto` fuzz harness, shared by fuzz/fuzz_targets/proto.rs and tests/regressions.rs (which
//! replays saved inputs through it).
//!
//! Input: the first byte picks one of the fifteen TCP protocols (below 0xf0: one of the first ten, as
//! before issue 11, so saved inputs keep their protocol; from 0xf0: AMQP, IRC, XMPP, NNTP, Kafka); the
//! rest is a list of events, each a header byte `h`:
//! - `h & 0x80`: the side (set = server, clear = client);
//! - `h & 0x40`: a gap of `h & 0x3f` (+1) bytes on that side, no payload follows;
//! - otherwise `h & 0x3f` bytes of payload follow; 0x3f means a big-endian u16 length follows.
//!
//! The conversation goes to the protocol's session (increasing timestamps, gaps as `on_gap`, then
//! `on_close`), to the same session wrapped in the connection's rules (`proto::Conn`, which must hand
//! out every login the session gives), to a `Prober`, and each payload also as a UDP datagram to an
//! SNMP `Tracker`. Every invariant failure panics.

use std::net::SocketAddr;

use plainsight::proto::probe::{Decision, MAX_PROBE, Prober};
use plainsight::proto::snmp::{self, MAX_PENDING, Tracker};
use plainsight::proto::{self, Login, Logins, MAX_TRANSCRIPT, MAX_TRANSCRIPT_LINE, Proto};
use plainsight::reassembly::Side;
use plainsight::secret::Part;
use plainsight::time::Timestamp;

pub const PROTOS: [(Proto, u16); 15] = [
    (Proto::Ftp, 21),
    (Proto::Telnet, 23),
    (Proto::Pop3, 110),
    (Proto::Imap, 143),
    (Proto::Smtp, 25),
    (Proto::Ldap, 389),
    (Proto::Redis, 6379),
    (Proto::Mqtt, 1883),
    (Proto::Postgres, 5432),
    (Proto::Socks5, 1080),
    (Proto::Amqp, 5672),
    (Proto::Irc, 6667),
    (Proto::Xmpp, 5222),
    (Proto::Nntp, 119),
    (Proto::Kafka, 9092),
];

/// The protocol a selector byte picks (see the module documentation).
pub fn pick(sel: u8) -> (Proto, u16) {
    let i = if sel >= 0xf0 { 10 + usize::from(sel - 0xf0) % 5 } else { usize::from(sel) % 10 };
    PROTOS[i]
}

/// One step of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Data(Side, &'a [u8]),
    Gap(Side, u64),
}

/// The protocol (and its usual port) and the events an input stands for.
pub fn decode(data: &[u8]) -> Option<((Proto, u16), Vec<Event<'_>>)> {
    let (&sel, mut rest) = data.split_first()?;
    let proto = pick(sel);
    let mut events = Vec::new();
    while let Some((&h, r)) = rest.split_first() {
        rest = r;
        let side = if h & 0x80 != 0 { Side::Server } else { Side::Client };
        if h & 0x40 != 0 {
            events.push(Event::Gap(side, u64::from(h & 0x3f) + 1));
            continue;
        }
        let mut len = usize::from(h & 0x3f);
        if len == 0x3f {
            match rest {
                [a, b, r @ ..] => {
                    len = usize::from(u16::from_be_bytes([*a, *b]));
                    rest = r;
                }
                _ => break,
            }
        }
        let (payload, r) = rest.split_at(len.min(rest.len()));
        rest = r;
        events.push(Event::Data(side, payload));
    }
    Some((proto, events))
}

/// What every login must look like.
pub fn check_login(l: &Login, proto: Proto) {
    assert_eq!(l.proto, proto, "{l:?}");
    assert!(!l.secret.is_empty(), "a login always carries its secret: {l:?}");
    assert!(l.transcript.len() <= MAX_TRANSCRIPT, "{} transcript lines: {l:?}", l.transcript.len());
    for line in &l.transcript {
        // Literal text: prefix ("C: ", "S: "), at most MAX_TRANSCRIPT_LINE characters, an ellipsis (3
        // bytes). Slots and user names are never cut (they are bounded by MAX_LINE).
        let lit: usize = line.parts().iter().map(|p| if let Part::Lit(t) = p { t.len() } else { 0 }).sum();
        assert!(lit <= MAX_TRANSCRIPT_LINE + 8, "transcript line of {lit} literal bytes: {line:?}");
        for s in line.secrets() {
            assert!(!s.is_empty(), "an empty slot: {line:?}");
        }
    }
}

/// Runs one input through a session, a prober and an SNMP tracker; returns the session's logins.
pub fn run(data: &[u8]) -> Vec<Login> {
    let Some(((p, port), events)) = decode(data) else { return Vec::new() };

    // The session.
    let mut session = proto::session(p);
    let mut out = Logins::default();
    let mut ts = 1_000_000i64;
    for e in &events {
        ts += 1000;
        match *e {
            Event::Data(side, d) => session.on_data(side, d, Timestamp(ts), &mut out),
            Event::Gap(side, n) => session.on_gap(side, n),
        }
    }
    session.on_close(Timestamp(ts + 1000), &mut out);
    for l in &out.logins {
        check_login(l, p);
        assert!(l.ts.0 <= ts + 1000, "{l:?}");
    }

    // The connection's rules hold and mask, never lose a login.
    let mut conn = proto::Conn::new(p);
    let mut via = Logins::default();
    let mut ts = 1_000_000i64;
    for e in &events {
        ts += 1000;
        match *e {
            Event::Data(side, d) => conn.on_data(side, d, Timestamp(ts), &mut via),
            Event::Gap(side, n) => conn.on_gap(side, n),
        }
    }
    conn.on_close(Timestamp(ts + 1000), &mut via);
    let secrets = |l: &Logins| {
        let mut v: Vec<String> = l.logins.iter().map(|x| x.secret.expose().to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(secrets(&out), secrets(&via), "proto::Conn lost or made up a login");
    for l in &via.logins {
        check_login(l, p);
    }

    // The prober: decides at most once for good, keeps at most MAX_PROBE bytes.
    let mut prober = Prober::default();
    let mut decided = None;
    for e in &events {
        if let Event::Data(side, d) = *e {
            match prober.feed(side, d, port) {
                Decision::NeedMore => {}
                d => {
                    decided = Some(d);
                    break;
                }
            }
        }
    }
    if let Some(Decision::Proto(q)) = decided {
        assert_ne!(q, Proto::Snmp, "a TCP connection recognised as SNMP");
    }
    let kept: usize = prober.take_chunks().iter().map(|(_, c)| c.len()).sum();
    assert!(kept <= MAX_PROBE, "prober kept {kept} bytes");

    // SNMP: each payload is a datagram; the timestamp jumps past the timeout now and then.
    let c = SocketAddr::from(([10, 0, 0, 1], 40000));
    let s = SocketAddr::from(([10, 0, 0, 2], 161));
    let mut tracker = Tracker::default();
    let mut snmp_logins = Vec::new();
    let mut ts = 0i64;
    for (i, e) in events.iter().enumerate() {
        if let Event::Data(side, d) = *e {
            ts += if i % 7 == 6 { snmp::TIMEOUT_MICROS } else { 1000 };
            let (src, dst) = if side == Side::Client { (c, s) } else { (s, c) };
            tracker.on_datagram(src, dst, d, Timestamp(ts), &mut |l| snmp_logins.push(l));
            assert!(tracker.pending() <= MAX_PENDING);
        } else {
            tracker.advance(Timestamp(ts), &mut |l| snmp_logins.push(l));
        }
    }
    tracker.finish(&mut |l| snmp_logins.push(l));
    assert_eq!(tracker.pending(), 0);
    for l in &snmp_logins {
        check_login(&l.login, Proto::Snmp);
    }

    out.logins
}
