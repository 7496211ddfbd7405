//! Kafka (the binary protocol of the Kafka protocol guide) on a `SASL_PLAINTEXT` listener: SASL/PLAIN.
//!
//! Every request and response is an int32 size and that many bytes, framed per direction by
//! [`super::ber::Framer`] (a Produce or Fetch past [`MAX_LINE`](super::MAX_LINE) is skipped by its size,
//! counted). A request header is api key (i16), api version (i16), correlation id (i32), client id
//! (nullable i16 string), and for flexible versions tagged fields; a response header is the correlation
//! id, and tagged fields for flexible versions. Responses are matched to requests by correlation id.
//!
//! - `SaslHandshake` (api key 17) names the mechanism. Version 1 is followed by `SaslAuthenticate`
//!   (api key 36) requests whose `auth_bytes` are the SASL token, for PLAIN `authzid\0user\0password`:
//!   a login, accepted when the response's error code is 0 and refused otherwise (58,
//!   SASL_AUTHENTICATION_FAILED). Versions 0-1 carry int32-sized bytes, version 2 (flexible) compact
//!   bytes.
//! - After a version 0 handshake accepted, the client sends the token raw (int32 size, no header): a
//!   login, accepted by the server's empty answer; a refusal closes the connection, which is not told
//!   apart from the end of a capture (no verdict).
//! - SCRAM-SHA-256/512 and GSSAPI tokens carry no password: nothing is reported.
//!
//! A request whose api key or version is out of range, or a size past 100 MiB, is not Kafka and the
//! direction is given up.

use std::collections::VecDeque;

use super::be::Cur;
use super::ber::{self, Exchange, FrameProto, Framed};
use super::{Event, Line, LoginSink, Proto, Verdict, sasl};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// Largest request or response believed (the broker's default `socket.request.max.bytes` is 100 MiB).
const MAX_SIZE: i32 = 100 << 20;
/// Requests awaiting their response. Clients keep at most 5 in flight per connection by default; past
/// this the oldest is forgotten ([`Event::PendingFull`]), and its response is read as an unknown one.
const MAX_INFLIGHT: usize = 16;
/// Highest api key and version believed (Kafka 3.x stops near 70 keys and 17 versions).
const MAX_API_KEY: i16 = 100;
const MAX_API_VERSION: i16 = 30;

const SASL_HANDSHAKE: i16 = 17;
const SASL_AUTHENTICATE: i16 = 36;
const API_VERSIONS: i16 = 18;

/// One Kafka connection.
pub type Kafka = Framed<State>;

#[derive(Default, Debug)]
pub struct State {
    ex: Exchange,
    /// (correlation id, api key, api version) of the requests awaiting a response.
    inflight: VecDeque<(i32, i16, i16)>,
    /// The mechanism of the last SaslHandshake.
    mechanism: Vec<u8>,
    /// A version 0 handshake was sent; once accepted the next client message is a raw token.
    handshake_v0: bool,
    /// The client's next message is a raw SASL token (no header).
    raw_client: bool,
    /// The server's next message answers a raw token.
    raw_server: bool,
}

fn size_len(h: &[u8]) -> ber::Len {
    match super::be::u32_at(h, 0) {
        None => ber::Len::Need,
        Some(n) => match i32::try_from(n) {
            Ok(n) if (0..=MAX_SIZE).contains(&n) => ber::Len::Is(4 + n as usize),
            _ => ber::Len::Bad,
        },
    }
}

fn i16_(c: &mut Cur<'_>) -> Option<i16> {
    c.u16().map(|v| v as i16)
}

fn i32_(c: &mut Cur<'_>) -> Option<i32> {
    c.u32().map(|v| v as i32)
}

/// An unsigned varint (at most 5 bytes for a u32).
fn uvarint(c: &mut Cur<'_>) -> Option<u32> {
    let mut v = 0u32;
    for i in 0..5 {
        let b = c.u8()?;
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Skips a tagged-fields section (flexible versions).
fn skip_tags(c: &mut Cur<'_>) -> Option<()> {
    let n = uvarint(c)?;
    for _ in 0..n {
        uvarint(c)?;
        let size = uvarint(c)?;
        c.take(usize::try_from(size).ok()?)?;
    }
    Some(())
}

/// A nullable string with an i16 size (`-1` is null).
fn nullable_str<'a>(c: &mut Cur<'a>) -> Option<&'a [u8]> {
    let n = i16_(c)?;
    if n < 0 { Some(&[]) } else { c.take(n as usize) }
}

/// Whether the request (`key`, `version`) uses the flexible header (v2, tagged fields after the client
/// id) and the response the flexible header (v1). Only what this parser reads: SaslAuthenticate v2+
/// (both), ApiVersions v3+ (request only: its response header stays v0).
fn flexible(key: i16, version: i16) -> (bool, bool) {
    match key {
        SASL_AUTHENTICATE => (version >= 2, version >= 2),
        API_VERSIONS => (version >= 3, false),
        _ => (false, false),
    }
}

fn api_name(key: i16) -> &'static str {
    match key {
        0 => "Produce",
        1 => "Fetch",
        2 => "ListOffsets",
        3 => "Metadata",
        8 => "OffsetCommit",
        9 => "OffsetFetch",
        10 => "FindCoordinator",
        11 => "JoinGroup",
        12 => "Heartbeat",
        SASL_HANDSHAKE => "SaslHandshake",
        API_VERSIONS => "ApiVersions",
        SASL_AUTHENTICATE => "SaslAuthenticate",
        _ => "request",
    }
}

fn error_name(code: i16) -> &'static str {
    match code {
        0 => "NONE",
        33 => "UNSUPPORTED_SASL_MECHANISM",
        34 => "ILLEGAL_SASL_STATE",
        35 => "UNSUPPORTED_VERSION",
        58 => "SASL_AUTHENTICATION_FAILED",
        _ => "error",
    }
}

fn prefix(side: Side) -> &'static str {
    if side == Side::Client { "C: " } else { "S: " }
}

impl State {
    fn line(&mut self, side: Side, s: &str, out: &mut dyn LoginSink) {
        self.ex.put(Line::lit_line(prefix(side), s.as_bytes()), out);
    }

    /// A SASL token from the client: a login when the mechanism is PLAIN and it holds a password.
    fn token(&mut self, what: &str, mechanism: &'static str, token: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let mut l = Line::new("C: ");
        l.lit(what.as_bytes());
        let plain = self.mechanism.eq_ignore_ascii_case(b"PLAIN");
        let cred = if plain { sasl::plain_fields(token).map(|(u, p)| (mechanism, u, p)) } else { None };
        // SCRAM messages, GSSAPI tokens: credential material all the same, a slot.
        self.ex.raw_sasl(l, Proto::Kafka, cred, b" token=", token, ts, out);
    }

    /// One request; `false`: not Kafka.
    fn request(&mut self, m: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        let mut c = Cur(m.get(4..).unwrap_or_default());
        if std::mem::take(&mut self.raw_client) {
            self.raw_server = true;
            self.token("SASL token (after SaslHandshake v0)", "SaslHandshake v0 PLAIN", c.rest(), ts, out);
            return true;
        }
        let (Some(key), Some(version), Some(corr)) = (i16_(&mut c), i16_(&mut c), i32_(&mut c)) else { return false };
        if !(0..=MAX_API_KEY).contains(&key) || !(0..=MAX_API_VERSION).contains(&version) {
            return false;
        }
        let Some(client_id) = nullable_str(&mut c) else { return false };
        if flexible(key, version).0 && skip_tags(&mut c).is_none() {
            return false;
        }
        if self.inflight.len() >= MAX_INFLIGHT {
            self.inflight.pop_front();
            out.on_event(Event::PendingFull);
        }
        self.inflight.push_back((corr, key, version));
        let what = format!("{} v{version} correlation={corr}", api_name(key));
        match key {
            SASL_HANDSHAKE => {
                let mech = nullable_str(&mut c).unwrap_or_default();
                self.mechanism = mech.to_vec();
                self.handshake_v0 = version == 0;
                let mut l = Line::new("C: ");
                l.lit(what.as_bytes()).lit(b" mechanism=").lit(mech).lit(b" client=\"").lit(client_id).lit(b"\"");
                self.ex.put(l, out);
            }
            SASL_AUTHENTICATE => {
                let bytes = if version >= 2 {
                    uvarint(&mut c).and_then(|n| c.take(n.checked_sub(1)? as usize))
                } else {
                    i32_(&mut c).and_then(|n| c.take(usize::try_from(n).ok()?))
                };
                match bytes {
                    Some(b) => self.token(&what, "SaslAuthenticate PLAIN", b, ts, out),
                    None => self.line(Side::Client, &format!("{what} (truncated)"), out),
                }
            }
            _ => self.line(Side::Client, &format!("{what} ({} bytes)", m.len()), out),
        }
        true
    }

    /// One response; `false`: not Kafka.
    fn response(&mut self, m: &[u8], out: &mut dyn LoginSink) -> bool {
        let mut c = Cur(m.get(4..).unwrap_or_default());
        if std::mem::take(&mut self.raw_server) {
            // The answer to a raw token: empty when accepted.
            self.line(Side::Server, &format!("SASL token answer ({} bytes)", c.rest().len()), out);
            self.ex.settle(if c.rest().is_empty() { Verdict::Accepted } else { Verdict::Unknown }, out);
            return true;
        }
        let Some(corr) = i32_(&mut c) else { return false };
        let Some(i) = self.inflight.iter().position(|(x, ..)| *x == corr) else {
            self.line(Side::Server, &format!("response correlation={corr} ({} bytes)", m.len()), out);
            return true;
        };
        let Some((_, key, version)) = self.inflight.remove(i) else { return true };
        if flexible(key, version).1 && skip_tags(&mut c).is_none() {
            return true;
        }
        let what = format!("{} v{version} response correlation={corr}", api_name(key));
        match key {
            SASL_HANDSHAKE | SASL_AUTHENTICATE => {
                let code = i16_(&mut c).unwrap_or(-1);
                self.line(Side::Server, &format!("{what} error={code} ({})", error_name(code)), out);
                if key == SASL_HANDSHAKE {
                    self.raw_client = code == 0 && self.handshake_v0;
                } else {
                    self.ex.settle(if code == 0 { Verdict::Accepted } else { Verdict::Refused }, out);
                }
            }
            _ => self.line(Side::Server, &format!("{what} ({} bytes)", m.len()), out),
        }
        true
    }
}

impl FrameProto for State {
    fn len(&self, _: Side, h: &[u8]) -> ber::Len {
        size_len(h)
    }

    fn message(&mut self, from: Side, m: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        match from {
            Side::Client => self.request(m, ts, out),
            Side::Server => self.response(m, out),
        }
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        self.ex.close(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;
    use crate::proto::Session;

    fn sized(body: &[u8]) -> Vec<u8> {
        [(body.len() as u32).to_be_bytes().to_vec(), body.to_vec()].concat()
    }
    fn str16(s: &[u8]) -> Vec<u8> {
        [(s.len() as u16).to_be_bytes().to_vec(), s.to_vec()].concat()
    }
    /// A request with a non-flexible (v1) or flexible (v2, empty tagged fields) header.
    fn request(key: i16, version: i16, corr: i32, body: &[u8]) -> Vec<u8> {
        let mut h = [key.to_be_bytes(), version.to_be_bytes()].concat();
        h.extend(corr.to_be_bytes());
        h.extend(str16(b"lab-producer"));
        if flexible(key, version).0 {
            h.push(0);
        }
        sized(&[h, body.to_vec()].concat())
    }
    fn response(corr: i32, flexible_header: bool, body: &[u8]) -> Vec<u8> {
        let mut h = corr.to_be_bytes().to_vec();
        if flexible_header {
            h.push(0);
        }
        sized(&[h, body.to_vec()].concat())
    }
    fn handshake(version: i16, corr: i32, mech: &[u8]) -> Vec<u8> {
        request(SASL_HANDSHAKE, version, corr, &str16(mech))
    }
    fn handshake_ok(corr: i32) -> Vec<u8> {
        response(corr, false, &[vec![0, 0, 0, 0, 0, 1], str16(b"PLAIN")].concat())
    }
    fn authenticate(version: i16, corr: i32, token: &[u8]) -> Vec<u8> {
        let body = if version >= 2 {
            [vec![token.len() as u8 + 1], token.to_vec(), vec![0]].concat()
        } else {
            [(token.len() as u32).to_be_bytes().to_vec(), token.to_vec()].concat()
        };
        request(SASL_AUTHENTICATE, version, corr, &body)
    }
    fn authenticate_answer(version: i16, corr: i32, code: i16) -> Vec<u8> {
        let body = if version >= 2 {
            [code.to_be_bytes().to_vec(), vec![0, 1], vec![0; 8], vec![0]].concat()
        } else {
            [code.to_be_bytes().to_vec(), vec![0xff, 0xff], vec![0, 0, 0, 0]].concat()
        };
        response(corr, version >= 2, &body)
    }

    fn summary(got: &super::super::Logins) -> Vec<(&str, Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn sasl_authenticate_v2_plain_accepted_by_error_0() {
        let api = request(API_VERSIONS, 3, 1, &[7, b'a', b'p', b'a', b'c', b'h', b'e', 4, b'3', b'.', b'6', 0]);
        let got = run_both(
            Kafka::default,
            &[
                (C, &api),
                (S, &response(1, false, &[0, 0, 0])),
                (C, &handshake(1, 2, b"PLAIN")),
                (S, &handshake_ok(2)),
                (C, &authenticate(2, 3, b"\0alice\0Kafka pw")),
                (S, &authenticate_answer(2, 3, 0)),
            ],
        );
        assert_eq!(summary(&got), vec![("SaslAuthenticate PLAIN", Some("alice"), "Kafka pw", Verdict::Accepted)]);
        let t = full(&got.logins[0].transcript);
        assert_eq!(t[2], "C: SaslHandshake v1 correlation=2 mechanism=PLAIN client=\"lab-producer\"");
        assert_eq!(t[4], "C: SaslAuthenticate v2 correlation=3 user=\"alice\" password=\"Kafka pw\"");
        assert_eq!(t[5], "S: SaslAuthenticate v2 response correlation=3 error=0 (NONE)");
        assert_no_secret_shown(&got, &[b"Kafka pw"]);
    }

    #[test]
    fn sasl_authenticate_v1_refused_by_error_58() {
        let got = run_both(
            Kafka::default,
            &[
                (C, &handshake(1, 7, b"PLAIN")),
                (S, &handshake_ok(7)),
                (C, &authenticate(1, 8, b"\0alice\0wrong")),
                (S, &authenticate_answer(1, 8, 58)),
            ],
        );
        assert_eq!(summary(&got), vec![("SaslAuthenticate PLAIN", Some("alice"), "wrong", Verdict::Refused)]);
    }

    #[test]
    fn a_raw_token_after_a_v0_handshake_is_a_login_accepted_by_the_empty_answer() {
        let got = run_both(
            Kafka::default,
            &[
                (C, &handshake(0, 1, b"PLAIN")),
                (S, &handshake_ok(1)),
                (C, &sized(b"\0bob\0raw-pw")),
                (S, &sized(b"")),
                (C, &request(3, 1, 2, &[0, 0, 0, 0])),
            ],
        );
        assert_eq!(summary(&got), vec![("SaslHandshake v0 PLAIN", Some("bob"), "raw-pw", Verdict::Accepted)]);
    }

    #[test]
    fn scram_tokens_give_nothing_and_responses_match_by_correlation_id() {
        let got = run_both(
            Kafka::default,
            &[
                (C, &handshake(1, 1, b"SCRAM-SHA-256")),
                (S, &handshake_ok(1)),
                (C, &authenticate(2, 2, b"n,,n=carol,r=rOprNGfwEbeRWgbNEkqO")),
                (C, &request(3, 1, 3, &[0, 0, 0, 0])),
                (S, &response(3, false, &[0, 0, 0, 0])),
                (S, &authenticate_answer(2, 2, 0)),
            ],
        );
        assert!(got.logins.is_empty());
    }

    #[test]
    fn large_requests_are_skipped_and_garbage_gives_the_direction_up() {
        let produce = request(0, 3, 1, &vec![b'r'; 50_000]);
        let c = [produce, handshake(1, 2, b"PLAIN"), authenticate(1, 3, b"\0u\0p")].concat();
        let mut out = super::super::Logins::default();
        let mut k = Kafka::default();
        k.on_data(C, &c, Timestamp::from_secs(1), &mut out);
        k.on_close(Timestamp::from_secs(2), &mut out);
        assert_eq!(summary(&out), vec![("SaslAuthenticate PLAIN", Some("u"), "p", Verdict::Unknown)]);
        assert_eq!(out.events, vec![Event::MessageTooLong]);
        let got = run_both(
            Kafka::default,
            &[(C, &sized(&[0x7f, 0x7f, 0, 0, 0, 0, 0, 1])), (C, &authenticate(1, 3, b"\0u\0p"))],
        );
        assert!(got.logins.is_empty());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, handshake(1, 1, b"PLAIN")),
            (S, handshake_ok(1)),
            (C, authenticate(2, 2, b"\0alice\0pw")),
            (S, authenticate_answer(2, 2, 58)),
            (C, handshake(0, 3, b"PLAIN")),
            (S, handshake_ok(3)),
            (C, sized(b"\0bob\0pw2")),
            (S, sized(b"")),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Kafka::default, &refs);
        }
    }
}
