//! memcached's binary protocol: SASL authentication (`memcached -S`), up to the server's verdict.
//!
//! Every packet is a 24-byte header (magic `0x80` request or `0x81` response, opcode, key length,
//! extras length, data type, vbucket or status, total body length, opaque, CAS) and a body of extras,
//! key and value; packets are framed per direction by [`super::ber::Framer`] (buffered up to
//! `MAX_LINE`, longer ones skipped: a large SET is skipped unread). The SASL opcodes:
//! - `SASL_LIST_MECHS` (0x20): the server's mechanisms in the response value;
//! - `SASL_AUTH` (0x21): key = mechanism, value = the first response. PLAIN is `authzid NUL user NUL
//!   password` (a [`Cred::Password`] login); CRAM-MD5 starts empty and the server answers status 0x21
//!   (continue) with its challenge;
//! - `SASL_STEP` (0x22): the next response (CRAM-MD5's `user hexdigest`: material, with the challenge).
//!
//! Verdict: status 0 Accepted, 0x20 (auth error) Refused. Responses are matched to requests by their
//! opaque value; requests awaiting one are bounded ([`MAX_PENDING`]). Nothing else is read: keys and
//! values of the cache are data, not credentials.

use super::ber::{self, FrameProto, Framed, Recent};
use super::material::Material;
use super::{Cred, Event, Line, Login, LoginSink, Proto, Verdict, sasl, text};
use crate::reassembly::Side;
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

const HEADER: usize = 24;
const LIST_MECHS: u8 = 0x20;
const AUTH: u8 = 0x21;
const STEP: u8 = 0x22;
const STATUS_OK: u16 = 0;
const STATUS_AUTH_ERROR: u16 = 0x20;
const STATUS_AUTH_CONTINUE: u16 = 0x21;

/// SASL logins awaiting the server's answer. A client authenticates once per connection; a pipelining
/// brute force past this is remembered by its last ones (the oldest reported with verdict unknown,
/// [`Event::PendingFull`]).
pub const MAX_PENDING: usize = 4;

/// One memcached connection.
pub type Memcached = Framed<State>;

#[derive(Default, Debug)]
pub struct State {
    recent: Recent,
    /// (opaque, login) awaiting the server's status.
    pending: Vec<(u32, Login)>,
    /// CRAM-MD5 in progress: the server's challenge, once sent.
    cram: Option<Vec<u8>>,
}

/// A packet's total length.
fn packet_len(h: &[u8]) -> ber::Len {
    if h.len() < HEADER {
        // The magic tells early when this is not memcached's binary protocol.
        return match h.first() {
            Some(0x80 | 0x81) | None => ber::Len::Need,
            Some(_) => ber::Len::Bad,
        };
    }
    let body = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
    let key = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let extras = usize::from(h[4]);
    if !matches!(h[0], 0x80 | 0x81) || h[5] != 0 || key + extras > body {
        return ber::Len::Bad;
    }
    ber::Len::Is(HEADER + body)
}

fn opcode_name(op: u8) -> &'static str {
    match op {
        0x00 => "GET",
        0x01 => "SET",
        0x02 => "ADD",
        0x03 => "REPLACE",
        0x04 => "DELETE",
        0x05 => "INCREMENT",
        0x06 => "DECREMENT",
        0x07 => "QUIT",
        0x08 => "FLUSH",
        0x0a => "NOOP",
        0x0b => "VERSION",
        0x0c => "GETK",
        0x10 => "STAT",
        LIST_MECHS => "SASL_LIST_MECHS",
        AUTH => "SASL_AUTH",
        STEP => "SASL_STEP",
        _ => "command",
    }
}

/// A packet's parts: opcode, status (responses) or vbucket, opaque, key, value.
struct Packet<'a> {
    op: u8,
    status: u16,
    opaque: u32,
    key: &'a [u8],
    value: &'a [u8],
}

fn parse(p: &[u8]) -> Option<Packet<'_>> {
    let h = p.get(..HEADER)?;
    let key = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let extras = usize::from(h[4]);
    let body = p.get(HEADER..)?;
    Some(Packet {
        op: h[1],
        status: u16::from_be_bytes([h[6], h[7]]),
        opaque: u32::from_be_bytes([h[12], h[13], h[14], h[15]]),
        key: body.get(extras..extras + key)?,
        value: body.get(extras + key..)?,
    })
}

fn prefix(side: Side) -> &'static str {
    if side == Side::Client { "C: " } else { "S: " }
}

impl State {
    fn put(&mut self, line: Line, out: &mut dyn LoginSink) {
        self.recent.push(line, self.pending.iter_mut().map(|(_, l)| l), out);
    }

    fn attempt(&mut self, opaque: u32, login: Login, out: &mut dyn LoginSink) {
        if self.pending.len() >= MAX_PENDING {
            let (_, old) = self.pending.remove(0);
            out.on_login(old);
            out.on_event(Event::PendingFull);
        }
        self.pending.push((opaque, login.with_transcript(self.recent.snapshot())));
    }

    fn client(&mut self, pk: &Packet<'_>, ts: Timestamp, out: &mut dyn LoginSink) {
        let mut line = Line::new(prefix(Side::Client));
        line.lit(opcode_name(pk.op).as_bytes());
        match pk.op {
            AUTH | STEP if pk.key.eq_ignore_ascii_case(b"PLAIN") => {
                line.lit(b" PLAIN ");
                match sasl::plain_raw(pk.value) {
                    Some(d) => {
                        // The whole value carries the credential: a slot showing the password redacted
                        // and the value as sent revealed.
                        let wire = Secret::from_bytes(pk.value);
                        line.wire(&d.secret, &wire);
                        self.put(line, out);
                        let login = Login::attempt(Proto::Memcached, "SASL PLAIN", d.user, d.secret, d.cred, false, ts);
                        self.attempt(pk.opaque, login, out);
                    }
                    None => {
                        line.secret(&Secret::from_bytes(pk.value));
                        self.put(line, out);
                    }
                }
            }
            AUTH | STEP if pk.key.eq_ignore_ascii_case(b"CRAM-MD5") => {
                line.lit(b" CRAM-MD5");
                // `user hexdigest` (the user name may hold spaces, the digest does not).
                let s = text(pk.value);
                match s.rsplit_once(' ').filter(|(_, d)| !d.is_empty()) {
                    Some((user, digest)) => {
                        let secret = Secret::new(digest);
                        line.lit(b" ").user(user.as_bytes()).lit(b" ").secret(&secret);
                        self.put(line, out);
                        let material = self.cram.take().map(|challenge| Material::CramMd5 {
                            challenge,
                            user: user.to_string(),
                            digest: digest.to_ascii_lowercase(),
                        });
                        let login = Login::attempt(
                            Proto::Memcached,
                            "SASL CRAM-MD5",
                            Some(Text::user(user)).filter(|u| !u.is_empty()),
                            secret,
                            Cred::HashOnly,
                            false,
                            ts,
                        )
                        .with_material(material);
                        self.attempt(pk.opaque, login, out);
                    }
                    None => self.put(line, out),
                }
            }
            AUTH | STEP => {
                // Another mechanism (SCRAM...): followed, its responses slots, not reported.
                line.lit(b" ").lit(&pk.key[..pk.key.len().min(32)]);
                if !pk.value.is_empty() {
                    line.lit(b" ").secret(&Secret::from_bytes(pk.value));
                }
                self.put(line, out);
            }
            _ => self.put(line, out),
        }
    }

    fn server(&mut self, pk: &Packet<'_>, out: &mut dyn LoginSink) {
        let mut line = Line::new(prefix(Side::Server));
        line.lit(format!("{} status {:#04x}", opcode_name(pk.op), pk.status).as_bytes());
        match pk.op {
            LIST_MECHS => {
                line.lit(b" ").lit(&pk.value[..pk.value.len().min(128)]);
            }
            AUTH | STEP if pk.status == STATUS_AUTH_CONTINUE => {
                // CRAM-MD5's challenge (bounded like SASL's in the text protocols).
                let keep = !pk.value.is_empty() && pk.value.len() <= sasl::MAX_CHALLENGE;
                if pk.value.len() > sasl::MAX_CHALLENGE {
                    out.on_event(Event::ChallengeTooLong);
                }
                self.cram = keep.then(|| pk.value.to_vec());
                line.lit(b" challenge ").lit(&pk.value[..pk.value.len().min(64)]);
            }
            _ => {}
        }
        self.put(line, out);
        if !matches!(pk.op, AUTH | STEP) || pk.status == STATUS_AUTH_CONTINUE {
            return;
        }
        let verdict = match pk.status {
            STATUS_OK => Verdict::Accepted,
            STATUS_AUTH_ERROR => Verdict::Refused,
            _ => Verdict::Unknown,
        };
        if let Some(i) = self.pending.iter().position(|(o, _)| *o == pk.opaque) {
            let (_, l) = self.pending.remove(i);
            l.decide(verdict, out);
        }
    }
}

impl FrameProto for State {
    fn len(&self, _: Side, h: &[u8]) -> ber::Len {
        packet_len(h)
    }

    fn message(&mut self, side: Side, p: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        let Some(pk) = parse(p) else { return false };
        match side {
            Side::Client => self.client(&pk, ts, out),
            Side::Server => self.server(&pk, out),
        }
        true
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        for (_, l) in self.pending.drain(..) {
            out.on_login(l);
        }
    }
}

/// Builders of binary-protocol packets (tests, generators).
pub mod enc {
    /// A request (`magic` 0x80) or response (0x81; `status` in place of the vbucket).
    pub fn packet(magic: u8, op: u8, status: u16, opaque: u32, key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut v = vec![magic, op];
        v.extend_from_slice(&(key.len() as u16).to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&status.to_be_bytes());
        v.extend_from_slice(&((key.len() + value.len()) as u32).to_be_bytes());
        v.extend_from_slice(&opaque.to_be_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(key);
        v.extend_from_slice(value);
        v
    }
    pub fn request(op: u8, opaque: u32, key: &[u8], value: &[u8]) -> Vec<u8> {
        packet(0x80, op, 0, opaque, key, value)
    }
    pub fn response(op: u8, status: u16, opaque: u32, value: &[u8]) -> Vec<u8> {
        packet(0x81, op, status, opaque, b"", value)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;

    fn summary(got: &super::super::Logins) -> Vec<(&'static str, Option<&str>, &str, Cred, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.cred, l.verdict)).collect()
    }

    #[test]
    fn sasl_plain_accepted_and_refused() {
        let conv: &[(Side, &[u8])] = &[
            (C, &enc::request(LIST_MECHS, 1, b"", b"")),
            (S, &enc::response(LIST_MECHS, 0, 1, b"CRAM-MD5 PLAIN")),
            (C, &enc::request(AUTH, 2, b"PLAIN", b"\0cacheuser\0wrong-pass")),
            (S, &enc::response(AUTH, STATUS_AUTH_ERROR, 2, b"Auth failure")),
            (C, &enc::request(AUTH, 3, b"PLAIN", b"cacheuser\0cacheuser\0Mc-pass-1")),
            (S, &enc::response(AUTH, STATUS_OK, 3, b"Authenticated")),
            (C, &enc::request(0x00, 4, b"some-key", b"")),
            (S, &enc::response(0x00, 0, 4, b"\0\0\0\0value AUTH PLAIN \0x\0y")),
        ];
        let got = run_both(Memcached::default, conv);
        assert_eq!(
            summary(&got),
            vec![
                ("SASL PLAIN", Some("cacheuser"), "wrong-pass", Cred::Password, Verdict::Refused),
                ("SASL PLAIN", Some("cacheuser"), "Mc-pass-1", Cred::Password, Verdict::Accepted),
            ]
        );
        let t = full(&got.logins[1].transcript);
        assert!(t.iter().any(|l| l == "S: SASL_LIST_MECHS status 0x00 CRAM-MD5 PLAIN"), "{t:?}");
        assert!(t.last().is_some_and(|l| l == "S: SASL_AUTH status 0x00"), "{t:?}");
        assert_no_secret_shown(&got, &[b"Mc-pass-1", b"wrong-pass"]);
    }

    #[test]
    fn sasl_cram_md5_is_material_with_its_challenge() {
        let conv: &[(Side, &[u8])] = &[
            (C, &enc::request(AUTH, 7, b"CRAM-MD5", b"")),
            (S, &enc::response(AUTH, STATUS_AUTH_CONTINUE, 7, b"<1896.697170952@postoffice.reston.mci.net>")),
            (C, &enc::request(STEP, 8, b"CRAM-MD5", b"tim b913a602c7eda7a495b4e6e7334d3890")),
            (S, &enc::response(STEP, STATUS_OK, 8, b"Authenticated")),
        ];
        let got = run_both(Memcached::default, conv);
        assert_eq!(
            summary(&got),
            vec![("SASL CRAM-MD5", Some("tim"), "b913a602c7eda7a495b4e6e7334d3890", Cred::HashOnly, Verdict::Accepted)]
        );
        let want = Material::CramMd5 {
            challenge: b"<1896.697170952@postoffice.reston.mci.net>".to_vec(),
            user: "tim".into(),
            digest: "b913a602c7eda7a495b4e6e7334d3890".into(),
        };
        assert_eq!(got.logins[0].material.as_deref(), Some(&want));
    }

    #[test]
    fn unanswered_is_unknown_and_text_protocol_or_http_is_nothing() {
        let got = run_both(Memcached::default, &[(C, &enc::request(AUTH, 1, b"PLAIN", b"\0u\0p"))]);
        assert_eq!(summary(&got), vec![("SASL PLAIN", Some("u"), "p", Cred::Password, Verdict::Unknown)]);
        let got = run_both(Memcached::default, &[(C, b"set k 0 0 5\r\nhello\r\n"), (S, b"STORED\r\n")]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn pending_logins_are_bounded_and_counted() {
        let mut conv = Vec::new();
        for i in 0..(MAX_PENDING as u32 + 2) {
            conv.push((C, enc::request(AUTH, i, b"PLAIN", format!("\0u\0p{i}").as_bytes())));
        }
        let refs: Vec<(Side, &[u8])> = conv.iter().map(|(s, d)| (*s, d.as_slice())).collect();
        let got = run_both(Memcached::default, &refs);
        assert_eq!(got.logins.len(), MAX_PENDING + 2);
        assert_eq!(got.events.iter().filter(|e| **e == Event::PendingFull).count(), 2);
    }

    #[test]
    fn mutated_conversations_never_panic() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, enc::request(LIST_MECHS, 1, b"", b"")),
            (S, enc::response(LIST_MECHS, 0, 1, b"PLAIN")),
            (C, enc::request(AUTH, 2, b"PLAIN", b"\0cacheuser\0wrong-pass")),
            (S, enc::response(AUTH, STATUS_AUTH_ERROR, 2, b"Auth failure")),
        ];
        for c in super::super::ber::enc::mutations(&conv, 500) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Memcached::default, &refs);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Random packets and bytes in random cuttings: no panic, logins bounded by the requests.
        #[test]
        fn random_bytes_in_random_cuttings_never_panic(
            msgs in proptest::collection::vec((proptest::bool::ANY, proptest::num::u8::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..60)), 0..12),
            cut in 1usize..9,
        ) {
            let conv: Vec<(Side, Vec<u8>)> = msgs
                .into_iter()
                .map(|(client, op, v)| {
                    let side = if client { C } else { S };
                    let p = match op % 4 {
                        0 => v,
                        1 => enc::request(AUTH, u32::from(op), b"PLAIN", &v),
                        2 => enc::response(AUTH, u16::from(op % 3) * 0x10, u32::from(op), &v),
                        _ => enc::request(op, 1, &v[..v.len().min(4)], &v),
                    };
                    (side, p)
                })
                .collect();
            let mut s = Memcached::default();
            let out = super::super::testutil::run_cut(&mut s, &conv, cut);
            proptest::prop_assert!(out.logins.len() <= conv.len());
            proptest::prop_assert!(s.state().pending.is_empty());
        }
    }
}
