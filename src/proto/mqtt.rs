//! MQTT 3.1 / 3.1.1 / 5: the username and password of CONNECT, with the verdict of CONNACK.
//!
//! Every packet is a fixed header (type and flags, then a remaining length of at most 4 varint bytes)
//! and a body; packets are framed per direction by [`super::ber::Framer`], so a CONNECT split over
//! segments is reassembled, and a large PUBLISH is skipped by its length without being buffered. A
//! packet type 0 or a 5-byte length means it is not MQTT: that direction is ignored.
//!
//! CONNECT: protocol name (`MQTT` level 4 or 5, `MQIsdp` level 3), connect flags, keepalive, the v5
//! properties, then the payload: client id, the will (v5 will properties, topic, payload) when the will
//! flag is set, username, password. A password (with or without a username, as v5 allows) is a login;
//! a username alone carries no secret. CONNACK gives the verdict: return/reason code 0 Accepted, any
//! other Refused.

use super::be::Cur;
use super::ber::{self, Exchange, FrameProto, Framed};
use super::{Cred, Line, Login, LoginSink, Proto, Verdict, secret, text, user};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// One MQTT connection.
pub type Mqtt = Framed<State>;

#[derive(Default, Debug)]
pub struct State {
    ex: Exchange,
    /// Protocol level of the CONNECT (CONNACK codes depend on it).
    level: u8,
}

/// A varint: value and bytes used. `Err` past 4 bytes.
fn varint(b: &[u8]) -> Result<Option<(usize, usize)>, ()> {
    let mut v = 0usize;
    for i in 0..4 {
        let Some(&x) = b.get(i) else { return Ok(None) };
        v |= ((x & 0x7f) as usize) << (7 * i);
        if x & 0x80 == 0 {
            return Ok(Some((v, i + 1)));
        }
    }
    Err(())
}

fn packet_len(h: &[u8]) -> ber::Len {
    let Some(&b0) = h.first() else { return ber::Len::Need };
    if b0 >> 4 == 0 {
        return ber::Len::Bad;
    }
    match varint(h.get(1..).unwrap_or_default()) {
        Err(()) => ber::Len::Bad,
        Ok(None) => ber::Len::Need,
        Ok(Some((rl, n))) => ber::Len::Is(1 + n + rl),
    }
}

fn type_name(t: u8) -> &'static str {
    match t {
        1 => "CONNECT",
        2 => "CONNACK",
        3 => "PUBLISH",
        4 => "PUBACK",
        5 => "PUBREC",
        6 => "PUBREL",
        7 => "PUBCOMP",
        8 => "SUBSCRIBE",
        9 => "SUBACK",
        10 => "UNSUBSCRIBE",
        11 => "UNSUBACK",
        12 => "PINGREQ",
        13 => "PINGRESP",
        14 => "DISCONNECT",
        _ => "AUTH",
    }
}

/// MQTT v5 properties (a varint length, then that many bytes): skipped.
fn skip_props(c: &mut Cur<'_>) -> Option<()> {
    let (n, used) = varint(c.rest()).ok()??;
    c.take(used)?;
    c.take(n)?;
    Some(())
}

struct Connect<'a> {
    name: &'a [u8],
    level: u8,
    keepalive: u16,
    client_id: &'a [u8],
    user: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
}

fn connect(body: &[u8]) -> Option<Connect<'_>> {
    let mut c = Cur(body);
    let name = c.u16_prefixed()?;
    if name != b"MQTT" && name != b"MQIsdp" {
        return None;
    }
    let level = c.u8()?;
    let flags = c.u8()?;
    let keepalive = c.u16()?;
    if level >= 5 {
        skip_props(&mut c)?;
    }
    let client_id = c.u16_prefixed()?;
    if flags & 0x04 != 0 {
        if level >= 5 {
            skip_props(&mut c)?;
        }
        c.u16_prefixed()?;
        c.u16_prefixed()?;
    }
    let user = if flags & 0x80 != 0 { Some(c.u16_prefixed()?) } else { None };
    let password = if flags & 0x40 != 0 { Some(c.u16_prefixed()?) } else { None };
    Some(Connect { name, level, keepalive, client_id, user, password })
}

fn prefix(side: Side) -> &'static str {
    if side == Side::Client { "C: " } else { "S: " }
}

impl State {
    fn line(&mut self, side: Side, line: &str, out: &mut dyn LoginSink) {
        self.ex.put(Line::lit_line(prefix(side), line.as_bytes()), out);
    }
}

impl FrameProto for State {
    fn len(&self, _: Side, h: &[u8]) -> ber::Len {
        packet_len(h)
    }

    /// One packet; `false`: not MQTT, ignore this direction.
    fn message(&mut self, side: Side, p: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        let Some(&b0) = p.first() else { return false };
        let Ok(Some((_, n))) = varint(p.get(1..).unwrap_or_default()) else { return false };
        let body = p.get(1 + n..).unwrap_or_default();
        let t = b0 >> 4;
        match (side, t) {
            (Side::Client, 1) => {
                let Some(c) = connect(body) else { return false };
                let mut t = Line::new(prefix(side));
                t.lit(
                    format!(
                        "CONNECT {} level {} client=\"{}\" keepalive={}",
                        text(c.name),
                        c.level,
                        text(c.client_id),
                        c.keepalive
                    )
                    .as_bytes(),
                );
                if let Some(u) = c.user {
                    t.user_field(u);
                }
                let pw = c.password.map(secret);
                if let Some(p) = &pw {
                    t.password_field(p);
                }
                self.ex.put(t, out);
                self.level = c.level;
                if let Some(pw) = pw.filter(|p| !p.is_empty()) {
                    let user = c.user.and_then(user);
                    let login = Login::attempt(Proto::Mqtt, "CONNECT", user, pw, Cred::Password, false, ts);
                    self.ex.attempt(login, out);
                }
                true
            }
            (Side::Server, 2) => {
                let Some(&code) = body.get(1) else { return false };
                let meaning = match (self.level >= 5, code) {
                    (_, 0) => "accepted",
                    (false, 1) => "unacceptable protocol version",
                    (false, 2) => "identifier rejected",
                    (false, 3) => "server unavailable",
                    (false, 4) => "bad user name or password",
                    (false, 5) => "not authorized",
                    (true, 0x86) => "bad user name or password",
                    (true, 0x87) => "not authorized",
                    _ => "refused",
                };
                self.line(side, &format!("CONNACK code={code} ({meaning})"), out);
                self.ex.settle(if code == 0 { Verdict::Accepted } else { Verdict::Refused }, out);
                true
            }
            _ => {
                self.line(side, &format!("{} ({} bytes)", type_name(t), body.len()), out);
                true
            }
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

    fn lstr(s: &[u8]) -> Vec<u8> {
        let mut v = (s.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(s);
        v
    }
    fn packet(b0: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![b0];
        let mut n = body.len();
        loop {
            let mut x = (n & 0x7f) as u8;
            n >>= 7;
            if n > 0 {
                x |= 0x80;
            }
            v.push(x);
            if n == 0 {
                break;
            }
        }
        v.extend_from_slice(body);
        v
    }
    fn connect(name: &[u8], level: u8, user: Option<&[u8]>, pass: Option<&[u8]>, will: bool) -> Vec<u8> {
        let mut flags = 0x02;
        if user.is_some() {
            flags |= 0x80;
        }
        if pass.is_some() {
            flags |= 0x40;
        }
        if will {
            flags |= 0x04 | 0x08;
        }
        let mut b = lstr(name);
        b.extend([level, flags, 0, 60]);
        if level >= 5 {
            b.extend([3, 0x21, 0, 10]); // receive maximum
        }
        b.extend(lstr(b"sensor-1"));
        if will {
            if level >= 5 {
                b.push(0);
            }
            b.extend(lstr(b"status/sensor-1"));
            b.extend(lstr(b"offline"));
        }
        if let Some(u) = user {
            b.extend(lstr(u));
        }
        if let Some(p) = pass {
            b.extend(lstr(p));
        }
        packet(0x10, &b)
    }

    fn summary(got: &super::super::Logins) -> Vec<(Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn mqtt311_connect_accepted() {
        let c = connect(b"MQTT", 4, Some(b"alice"), Some(b"pw"), false);
        let got = run_both(Mqtt::default, &[(C, &c), (S, &[0x20, 2, 0, 0])]);
        assert_eq!(summary(&got), vec![(Some("alice"), "pw", Verdict::Accepted)]);
        let t = full(&got.logins[0].transcript);
        assert_eq!(t[0], "C: CONNECT MQTT level 4 client=\"sensor-1\" keepalive=60 user=\"alice\" password=\"pw\"");
        assert_eq!(got.logins[0].transcript[0].secrets().next(), Some(&got.logins[0].secret));
        assert_eq!(got.logins[0].mechanism, "CONNECT");
    }

    #[test]
    fn mqtt311_bad_password_refused_with_code_4() {
        let c = connect(b"MQTT", 4, Some(b"alice"), Some(b"nope"), true);
        let got = run_both(Mqtt::default, &[(C, &c), (S, &[0x20, 2, 0, 4])]);
        assert_eq!(summary(&got), vec![(Some("alice"), "nope", Verdict::Refused)]);
    }

    #[test]
    fn v5_with_properties_and_will_refused_with_0x86() {
        let c = connect(b"MQTT", 5, Some(b"bob"), Some(b"s3"), true);
        let got = run_both(Mqtt::default, &[(C, &c), (S, &[0x20, 3, 0, 0x86, 0])]);
        assert_eq!(summary(&got), vec![(Some("bob"), "s3", Verdict::Refused)]);
    }

    #[test]
    fn mqisdp_v3_unanswered_is_unknown() {
        let c = connect(b"MQIsdp", 3, Some(b"old"), Some(b"pw"), false);
        let got = run_both(Mqtt::default, &[(C, &c)]);
        assert_eq!(summary(&got), vec![(Some("old"), "pw", Verdict::Unknown)]);
    }

    #[test]
    fn username_without_password_is_not_a_login() {
        let c = connect(b"MQTT", 4, Some(b"alice"), None, false);
        let got = run_both(Mqtt::default, &[(C, &c), (S, &[0x20, 2, 0, 0])]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn large_publish_is_skipped_and_later_packets_parsed() {
        let publish = packet(0x30, &[lstr(b"t"), vec![7u8; 100_000]].concat());
        let c = [publish, connect(b"MQTT", 4, Some(b"u"), Some(b"p"), false)].concat();
        let got = run_both(Mqtt::default, &[(C, &c), (S, &[0x20, 2, 0, 0])]);
        assert_eq!(summary(&got), vec![(Some("u"), "p", Verdict::Accepted)]);
    }

    #[test]
    fn non_mqtt_bytes_are_ignored() {
        let got = run_both(Mqtt::default, &[(C, &[0x10, 0xff, 0xff, 0xff, 0xff, 0x01]), (C, b"junk")]);
        assert!(got.logins.is_empty());
        let got = run_both(Mqtt::default, &[(C, &packet(0x10, b"\x00\x04HTTP\x04\xc2"))]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, connect(b"MQTT", 5, Some(b"bob"), Some(b"s3"), true)),
            (S, vec![0x20, 3, 0, 0x86, 0]),
            (C, connect(b"MQTT", 4, Some(b"alice"), Some(b"pw"), false)),
            (S, vec![0x20, 2, 0, 0]),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Mqtt::default, &refs);
        }
    }

    #[test]
    fn no_transcript_line_shows_a_connect_password_once_redacted() {
        let conv: &[(Side, &[u8])] = &[
            (C, &connect(b"MQTT", 4, Some(b"alice"), Some(b"pw-one"), false)),
            (S, &[0x20, 2, 0, 4]),
            (C, &connect(b"MQTT", 5, Some(b"alice"), Some(b"pw-two"), true)),
            (S, &[0x20, 3, 0, 0, 0]),
        ];
        let got = run_both(Mqtt::default, conv);
        assert_eq!(got.logins.len(), 2);
        assert_no_secret_shown(&got, &[b"pw-one", b"pw-two"]);
    }
}
