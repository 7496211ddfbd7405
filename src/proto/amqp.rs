//! AMQP 0-9-1 (RabbitMQ and its clients): the SASL response of `Connection.StartOk`, PLAIN
//! (`\0user\0password`) or AMQPLAIN (a field table with `LOGIN` and `PASSWORD`), with the verdict the
//! server gives next.
//!
//! The client opens with the 8-byte protocol header `AMQP\0\0\x09\x01`; then both sides send frames:
//! type (1 method, 2 content header, 3 body, 8 heartbeat), channel (u16), size (u32), payload, and the
//! frame-end octet `0xCE`. Frames are framed per direction by [`super::ber::Framer`] (a body frame past
//! [`MAX_LINE`](super::MAX_LINE) is skipped by its size, counted); a frame of another type, or without
//! its frame-end octet, means it is not AMQP and the direction is given up. The header is optional (a
//! capture that starts after it still parses).
//!
//! Methods of class 10 (Connection) on channel 0 are decoded: `Start` (the mechanisms the server offers),
//! `StartOk` (the client's mechanism and response: a login for PLAIN and AMQPLAIN), `Secure`, `Tune`
//! (the server accepted the login: Accepted), `Close` (before `Tune`: reply code 403 ACCESS_REFUSED is
//! Refused, any other code says nothing about the password). A connection that ends before either is
//! reported with [`Verdict::Unknown`]: the end of a capture and a server hanging up look the same here,
//! and RabbitMQ answers a wrong password with `Close` 403 to every client that announces the
//! `authentication_failure_close` capability (pika and py-amqp do).
//!
//! AMQP has no STARTTLS: AMQPS is TLS from the first byte, which the prober never takes for AMQP.

use super::be::Cur;
use super::ber::{self, Exchange, FrameProto, Framed};
use super::{Line, LoginSink, Proto, Verdict, sasl};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// The frame-end octet closing every frame.
const FRAME_END: u8 = 0xce;
/// Frame header: type (1), channel (2), size (4).
const HEADER: usize = 7;

/// One AMQP connection.
pub type Amqp = Framed<State>;

#[derive(Default, Debug)]
pub struct State {
    ex: Exchange,
    /// `Connection.Tune` was seen: the login phase is over.
    tuned: bool,
}

/// The length of the frame (or protocol header) at the start of `h`.
fn frame_len(h: &[u8]) -> ber::Len {
    let Some(&t) = h.first() else { return ber::Len::Need };
    if t == b'A' {
        // The protocol header `AMQP` + 4 version bytes (sent by the client first, or by a server
        // refusing the client's version).
        let n = h.len().min(4);
        return if h.get(..n) == b"AMQP".get(..n) { ber::Len::Is(8) } else { ber::Len::Bad };
    }
    if !matches!(t, 1 | 2 | 3 | 8) {
        return ber::Len::Bad;
    }
    match super::be::u32_at(h, 3) {
        None => ber::Len::Need,
        Some(n) => usize::try_from(n).map_or(ber::Len::Bad, |n| ber::Len::Is(n.saturating_add(HEADER + 1))),
    }
}

/// A long string (u32 length).
fn longstr<'a>(c: &mut Cur<'a>) -> Option<&'a [u8]> {
    let n = c.u32()?;
    c.take(usize::try_from(n).ok()?)
}

/// Skips one field-table value of type `t`; `None` on an unknown type or a short value.
fn skip_value(c: &mut Cur<'_>, t: u8) -> Option<()> {
    let n = match t {
        b't' | b'b' | b'B' => 1,
        b's' | b'u' | b'U' => 2,
        b'I' | b'i' | b'f' => 4,
        b'l' | b'L' | b'd' | b'T' => 8,
        b'D' => 5,
        b'V' => 0,
        b'S' | b'x' | b'A' | b'F' => {
            longstr(c)?;
            return Some(());
        }
        _ => return None,
    };
    c.take(n).map(|_| ())
}

/// The `LOGIN` and `PASSWORD` of an AMQPLAIN response: a field table, with or without its leading u32
/// length (py-amqp and RabbitMQ's own clients send it without).
fn amqplain(resp: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = match super::be::u32_at(resp, 0) {
        Some(n) if usize::try_from(n).ok() == Some(resp.len().saturating_sub(4)) => resp.get(4..)?,
        _ => resp,
    };
    let mut c = Cur(body);
    let (mut login, mut password) = (None, None);
    while !c.rest().is_empty() {
        let name = c.u8_prefixed()?;
        let t = c.u8()?;
        if t == b'S' && (name == b"LOGIN" || name == b"PASSWORD") {
            let v = longstr(&mut c)?;
            if name == b"LOGIN" { login = Some(v) } else { password = Some(v) }
        } else {
            skip_value(&mut c, t)?;
        }
    }
    Some((login.unwrap_or_default(), password?))
}

fn prefix(side: Side) -> &'static str {
    if side == Side::Client { "C: " } else { "S: " }
}

fn method_name(class: u16, method: u16) -> Option<&'static str> {
    Some(match (class, method) {
        (10, 10) => "Connection.Start",
        (10, 11) => "Connection.StartOk",
        (10, 20) => "Connection.Secure",
        (10, 21) => "Connection.SecureOk",
        (10, 30) => "Connection.Tune",
        (10, 31) => "Connection.TuneOk",
        (10, 40) => "Connection.Open",
        (10, 41) => "Connection.OpenOk",
        (10, 50) => "Connection.Close",
        (10, 51) => "Connection.CloseOk",
        (20, 10) => "Channel.Open",
        (20, 11) => "Channel.OpenOk",
        (20, 40) => "Channel.Close",
        (40, 10) => "Exchange.Declare",
        (50, 10) => "Queue.Declare",
        (60, 20) => "Basic.Consume",
        (60, 40) => "Basic.Publish",
        (60, 60) => "Basic.Deliver",
        _ => return None,
    })
}

impl State {
    fn line(&mut self, side: Side, s: &str, out: &mut dyn LoginSink) {
        self.ex.put(Line::lit_line(prefix(side), s.as_bytes()), out);
    }

    /// `Connection.StartOk`: client-properties, mechanism, response, locale.
    fn start_ok(&mut self, side: Side, c: &mut Cur<'_>, ts: Timestamp, out: &mut dyn LoginSink) {
        let mut l = Line::new(prefix(side));
        l.lit(b"Connection.StartOk");
        let parsed = longstr(c).and_then(|_| c.u8_prefixed()).and_then(|m| Some((m, longstr(c)?)));
        let Some((mech, resp)) = parsed else {
            l.lit(b" (truncated)");
            self.ex.put(l, out);
            return;
        };
        l.lit(b" mechanism=").lit(mech);
        // PLAIN is raw here (AMQP carries it in a long string, not base64).
        let cred = match mech {
            b"PLAIN" => sasl::plain_fields(resp).map(|(u, p)| ("Connection.StartOk PLAIN", u, p)),
            b"AMQPLAIN" => amqplain(resp).map(|(u, p)| ("Connection.StartOk AMQPLAIN", u, p)),
            _ => None,
        };
        // One login per connection; a second StartOk (not AMQP) settles the first unanswered. Another
        // mechanism (EXTERNAL, a SCRAM plugin) or an empty password: the response is one slot.
        self.ex.raw_sasl(l, Proto::Amqp, cred, b" response=", resp, ts, out);
    }
}

impl FrameProto for State {
    fn len(&self, _: Side, h: &[u8]) -> ber::Len {
        frame_len(h)
    }

    /// One frame (or protocol header); `false`: not AMQP, ignore this direction.
    fn message(&mut self, side: Side, f: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        if f.starts_with(b"AMQP") {
            let v = f.get(4..8).unwrap_or_default();
            self.line(side, &format!("AMQP protocol header {v:?}"), out);
            return true;
        }
        if f.last() != Some(&FRAME_END) {
            return false;
        }
        let (Some(&t), Some(payload)) = (f.first(), f.get(HEADER..f.len().saturating_sub(1))) else { return false };
        let channel = super::be::u16_at(f, 1).unwrap_or_default();
        if t != 1 {
            let what = match t {
                2 => "content header",
                3 => "content body",
                _ => "heartbeat",
            };
            self.line(side, &format!("{what} frame, channel {channel} ({} bytes)", payload.len()), out);
            return true;
        }
        let mut c = Cur(payload);
        let (Some(class), Some(method)) = (c.u16(), c.u16()) else { return false };
        let name = method_name(class, method);
        match (side, class, method) {
            (Side::Server, 10, 10) => {
                // version-major, version-minor, server-properties, mechanisms, locales.
                let mechs = c.take(2).and_then(|_| longstr(&mut c)).and_then(|_| longstr(&mut c));
                let mut l = Line::new(prefix(side));
                l.lit(b"Connection.Start mechanisms=\"").lit(mechs.unwrap_or_default()).lit(b"\"");
                self.ex.put(l, out);
            }
            (Side::Client, 10, 11) => self.start_ok(side, &mut c, ts, out),
            (Side::Server, 10, 30) => {
                self.line(side, "Connection.Tune", out);
                self.tuned = true;
                self.ex.settle(Verdict::Accepted, out);
            }
            (Side::Server, 10, 50) => {
                let code = c.u16().unwrap_or_default();
                let reason = c.u8_prefixed().unwrap_or_default();
                let mut l = Line::new(prefix(side));
                l.lit(format!("Connection.Close {code} ").as_bytes()).lit(reason);
                self.ex.put(l, out);
                if !self.tuned {
                    self.ex.settle(if code == 403 { Verdict::Refused } else { Verdict::Unknown }, out);
                }
            }
            _ => {
                let s = match name {
                    Some(n) => format!("{n}, channel {channel}"),
                    None => format!("method {class}.{method}, channel {channel}"),
                };
                self.line(side, &s, out);
            }
        }
        true
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        self.ex.close(out);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;
    use crate::proto::Session;

    pub const HEADER: &[u8] = b"AMQP\x00\x00\x09\x01";

    fn longstr(b: &[u8]) -> Vec<u8> {
        [(b.len() as u32).to_be_bytes().to_vec(), b.to_vec()].concat()
    }
    fn shortstr(b: &[u8]) -> Vec<u8> {
        [vec![b.len() as u8], b.to_vec()].concat()
    }
    /// A frame of `typ` on `channel`.
    pub fn frame(typ: u8, channel: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![typ];
        v.extend(channel.to_be_bytes());
        v.extend((payload.len() as u32).to_be_bytes());
        v.extend_from_slice(payload);
        v.push(FRAME_END);
        v
    }
    pub fn method(class: u16, method: u16, args: &[u8]) -> Vec<u8> {
        frame(1, 0, &[class.to_be_bytes().to_vec(), method.to_be_bytes().to_vec(), args.to_vec()].concat())
    }
    /// A field table with its u32 length: `product` = "test".
    fn props() -> Vec<u8> {
        longstr(&[shortstr(b"product"), vec![b'S'], longstr(b"test")].concat())
    }
    pub fn start() -> Vec<u8> {
        method(10, 10, &[vec![0, 9], props(), longstr(b"AMQPLAIN PLAIN"), longstr(b"en_US")].concat())
    }
    pub fn start_ok(mech: &[u8], resp: &[u8]) -> Vec<u8> {
        method(10, 11, &[props(), shortstr(mech), longstr(resp), shortstr(b"en_US")].concat())
    }
    /// An AMQPLAIN response as py-amqp sends it: the table without its length.
    pub fn amqplain_resp(login: &[u8], pw: &[u8]) -> Vec<u8> {
        [shortstr(b"LOGIN"), vec![b'S'], longstr(login), shortstr(b"PASSWORD"), vec![b'S'], longstr(pw)].concat()
    }
    pub fn tune() -> Vec<u8> {
        method(10, 30, &[0, 0x07, 0xff, 0, 0x02, 0, 0, 0, 0x3c])
    }
    pub fn close(code: u16, text: &[u8]) -> Vec<u8> {
        method(10, 50, &[code.to_be_bytes().to_vec(), shortstr(text), vec![0, 0, 0, 0]].concat())
    }

    fn summary(got: &super::super::Logins) -> Vec<(Option<&str>, &str, Verdict, &str)> {
        got.logins.iter().map(|l| (l.user_name(), l.secret.expose(), l.verdict, l.mechanism)).collect()
    }

    #[test]
    fn plain_start_ok_answered_by_tune_is_accepted() {
        let got = run_both(
            Amqp::default,
            &[(C, HEADER), (S, &start()), (C, &start_ok(b"PLAIN", b"\0alice\0s3cret pw")), (S, &tune())],
        );
        assert_eq!(summary(&got), vec![(Some("alice"), "s3cret pw", Verdict::Accepted, "Connection.StartOk PLAIN")]);
        let t = full(&got.logins[0].transcript);
        assert_eq!(t[1], "S: Connection.Start mechanisms=\"AMQPLAIN PLAIN\"");
        assert_eq!(t[2], "C: Connection.StartOk mechanism=PLAIN user=\"alice\" password=\"s3cret pw\"");
        assert_eq!(t[3], "S: Connection.Tune");
        assert_no_secret_shown(&got, &[b"s3cret pw"]);
    }

    #[test]
    fn amqplain_with_or_without_the_table_length_gives_login_and_password() {
        let resp = amqplain_resp(b"bob", b"B0b-pass");
        let with_len = [(resp.len() as u32).to_be_bytes().to_vec(), resp.clone()].concat();
        for r in [resp, with_len] {
            let got = run_both(Amqp::default, &[(C, HEADER), (S, &start()), (C, &start_ok(b"AMQPLAIN", &r))]);
            assert_eq!(summary(&got), vec![(Some("bob"), "B0b-pass", Verdict::Unknown, "Connection.StartOk AMQPLAIN")]);
        }
    }

    #[test]
    fn close_403_before_tune_is_refused_and_a_later_close_changes_nothing() {
        let got = run_both(
            Amqp::default,
            &[
                (C, HEADER),
                (S, &start()),
                (C, &start_ok(b"PLAIN", b"\0alice\0wrong")),
                (S, &close(403, b"ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN")),
            ],
        );
        assert_eq!(summary(&got), vec![(Some("alice"), "wrong", Verdict::Refused, "Connection.StartOk PLAIN")]);
        let got = run_both(
            Amqp::default,
            &[(C, HEADER), (C, &start_ok(b"PLAIN", b"\0a\0pw")), (S, &tune()), (S, &close(320, b"CONNECTION_FORCED"))],
        );
        assert_eq!(got.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn other_mechanisms_and_empty_passwords_are_no_login_and_their_response_is_a_slot() {
        let got = run_both(
            Amqp::default,
            &[(C, HEADER), (C, &start_ok(b"EXTERNAL", b"CN=client")), (C, &start_ok(b"PLAIN", b"\0alice\0"))],
        );
        assert!(got.logins.is_empty());
    }

    #[test]
    fn large_body_frames_are_skipped_and_later_frames_parsed() {
        let body = frame(3, 1, &vec![b'x'; 100_000]);
        let c = [HEADER.to_vec(), body, start_ok(b"PLAIN", b"\0u\0p")].concat();
        let mut s = crate::proto::Logins::default();
        let mut a = Amqp::default();
        a.on_data(C, &c, Timestamp::from_secs(1), &mut s);
        a.on_data(S, &tune(), Timestamp::from_secs(2), &mut s);
        assert_eq!(summary(&s), vec![(Some("u"), "p", Verdict::Accepted, "Connection.StartOk PLAIN")]);
        assert_eq!(s.events, vec![crate::proto::Event::MessageTooLong]);
    }

    #[test]
    fn a_frame_without_its_end_octet_or_of_an_unknown_type_is_not_amqp() {
        let mut bad = start_ok(b"PLAIN", b"\0u\0p");
        if let Some(last) = bad.last_mut() {
            *last = 0;
        }
        let got = run_both(Amqp::default, &[(C, HEADER), (C, &bad), (C, &start_ok(b"PLAIN", b"\0u\0p2"))]);
        assert!(got.logins.is_empty());
        let got = run_both(Amqp::default, &[(C, &[9, 0, 0, 0, 0, 0, 0, 0xce]), (C, &start_ok(b"PLAIN", b"\0u\0p"))]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, HEADER.to_vec()),
            (S, start()),
            (C, start_ok(b"AMQPLAIN", &amqplain_resp(b"bob", b"pw"))),
            (S, close(403, b"ACCESS_REFUSED")),
            (C, start_ok(b"PLAIN", b"\0alice\0pw2")),
            (S, tune()),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Amqp::default, &refs);
        }
    }
}
