//! LDAP (RFC 4511): simple binds and SASL PLAIN binds, answered by bindResponse; StartTLS.
//!
//! Every LDAPMessage is a BER `SEQUENCE { messageID, protocolOp [APPLICATION n], controls }`, framed per
//! direction by its outer length ([`super::ber::Framer`]): several messages per segment and one message
//! over several segments both work, and a first byte that is not a SEQUENCE (or an indefinite length)
//! makes the parser ignore that direction: it is not LDAP.
//!
//! A bindRequest with a non-empty simple password is a login (user = the bind DN); an empty password is
//! an anonymous or "unauthenticated" bind (RFC 4513) and is not. SASL PLAIN carries its raw (not base64)
//! `authzid NUL authcid NUL password`; the other SASL mechanisms (CRAM-MD5, DIGEST-MD5, GSSAPI,
//! GSS-SPNEGO/NTLM...) carry no replayable secret and are only summarised. The bindResponse with the
//! same messageID gives the verdict: 0 Accepted, 14 (saslBindInProgress) keeps waiting, anything else
//! Refused. An extendedRequest for StartTLS answered with success ends parsing (what follows is TLS).

use super::ber::{self, Framer, Reader, Recent};
use super::{Cred, Event, Line, Login, LoginSink, Proto, Session, Verdict, sasl, secret, text};
use crate::reassembly::Side;
use crate::secret::Text;
use crate::time::Timestamp;

/// The StartTLS extended operation.
const STARTTLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";
/// Binds awaiting their response (a client does not pipeline many); past it the oldest is reported
/// without a verdict ([`Event::PendingFull`]).
const MAX_PENDING: usize = 16;

#[derive(Default, Debug)]
pub struct Ldap {
    dirs: [Framer; 2],
    st: State,
}

#[derive(Default, Debug)]
struct State {
    recent: Recent,
    /// messageID and login of binds awaiting their response, oldest first.
    pending: Vec<(i64, Login)>,
    /// messageID of a StartTLS request.
    starttls: Option<i64>,
    /// Upgraded to TLS: nothing more to parse.
    done: bool,
}

fn idx(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

fn prefix(side: Side) -> &'static str {
    match side {
        Side::Client => "C: ",
        Side::Server => "S: ",
    }
}

/// A BER message: must start with a SEQUENCE.
fn message_len(h: &[u8]) -> ber::Len {
    match h.first() {
        None => ber::Len::Need,
        Some(0x30) => ber::tlv_len(h),
        Some(_) => ber::Len::Bad,
    }
}

fn op_name(n: u8) -> &'static str {
    match n {
        0 => "bindRequest",
        1 => "bindResponse",
        2 => "unbindRequest",
        3 => "searchRequest",
        4 => "searchResEntry",
        5 => "searchResDone",
        6 => "modifyRequest",
        7 => "modifyResponse",
        8 => "addRequest",
        9 => "addResponse",
        10 => "delRequest",
        11 => "delResponse",
        12 => "modDNRequest",
        13 => "modDNResponse",
        14 => "compareRequest",
        15 => "compareResponse",
        16 => "abandonRequest",
        19 => "searchResRef",
        23 => "extendedRequest",
        24 => "extendedResponse",
        25 => "intermediateResponse",
        _ => "unknownOp",
    }
}

fn result_name(code: i64) -> &'static str {
    match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        13 => "confidentialityRequired",
        14 => "saslBindInProgress",
        32 => "noSuchObject",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        53 => "unwillingToPerform",
        _ => "other",
    }
}

/// An LDAPResult: resultCode, matchedDN, diagnosticMessage.
fn ldap_result(v: &[u8]) -> Option<(i64, &[u8])> {
    let mut r = Reader::new(v);
    let code = r.int()?;
    let _matched = r.expect(0x04)?;
    let diag = r.expect(0x04).unwrap_or_default();
    Some((code, diag))
}

impl State {
    fn line(&mut self, side: Side, line: &str, out: &mut dyn LoginSink) {
        self.put(Line::lit_line(prefix(side), line.as_bytes()), out);
    }

    fn put(&mut self, line: Line, out: &mut dyn LoginSink) {
        self.recent.push(line, self.pending.iter_mut().map(|(_, l)| l), out);
    }

    /// One LDAPMessage; `false`: not LDAP, give up on this direction.
    fn on_message(&mut self, side: Side, msg: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        if self.done {
            return false;
        }
        let Some(body) = Reader::new(msg).expect(0x30) else { return false };
        let mut r = Reader::new(body);
        let Some(id) = r.int() else { return false };
        let Some((tag, v)) = r.tlv() else { return false };
        if tag & 0xc0 != 0x40 {
            return false;
        }
        let op = tag & 0x1f;
        match (side, tag) {
            (Side::Client, 0x60) => self.bind_request(id, v, ts, out),
            (Side::Server, 0x61) => self.bind_response(id, v, out),
            (Side::Client, 0x77) => {
                let mut r = Reader::new(v);
                let name = r.expect(0x80).unwrap_or_default();
                if name == STARTTLS_OID {
                    self.starttls = Some(id);
                    self.line(side, &format!("extendedRequest({id}) StartTLS"), out);
                } else {
                    self.line(side, &format!("extendedRequest({id}) {}", text(name)), out);
                }
                true
            }
            (Side::Server, 0x78) => {
                let Some((code, diag)) = ldap_result(v) else { return false };
                self.line(side, &format!("extendedResponse({id}) {code} {} {}", result_name(code), text(diag)), out);
                if self.starttls == Some(id) {
                    self.starttls = None;
                    if code == 0 {
                        self.done = true;
                        out.on_tls();
                        return false;
                    }
                }
                true
            }
            _ => {
                self.line(side, &format!("{}({id})", op_name(op)), out);
                true
            }
        }
    }

    fn bind_request(&mut self, id: i64, v: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        let mut r = Reader::new(v);
        let Some(version) = r.int() else { return false };
        let Some(dn) = r.expect(0x04) else { return false };
        let Some((auth, av)) = r.tlv() else { return false };
        let dn_s = text(dn);
        let side = Side::Client;
        // The bind DN is a name: a user-name part. The password and SASL PLAIN's are slots.
        let mut t = Line::new(prefix(side));
        t.lit(format!("bindRequest({id}) v{version} dn=\"").as_bytes()).user_str(&dn_s).lit(b"\"");
        let (mechanism, user, secret) = match auth {
            0x80 => {
                if av.is_empty() {
                    let kind = if dn.is_empty() { "anonymous" } else { "unauthenticated" };
                    t.lit(format!(" simple {kind}").as_bytes());
                    self.put(t, out);
                    return true;
                }
                let pw = secret(av);
                t.lit(b" simple \"").secret(&pw).lit(b"\"");
                self.put(t, out);
                ("simple bind", (!dn_s.is_empty()).then(|| Text::user(&dn_s)), pw)
            }
            0xa3 => {
                let mut s = Reader::new(av);
                let Some(mech) = s.expect(0x04) else { return false };
                let creds = s.expect(0x04);
                let plain = if mech.eq_ignore_ascii_case(b"PLAIN") { creds.and_then(sasl::plain_raw) } else { None };
                match plain {
                    Some(d) => {
                        t.lit(b" sasl PLAIN user=\"");
                        if let Some(u) = &d.user {
                            t.user_str(&u.literal_only());
                        }
                        t.lit(b"\" \"").secret(&d.secret).lit(b"\"");
                        self.put(t, out);
                        ("SASL PLAIN", d.user, d.secret)
                    }
                    None => {
                        // Other mechanisms carry no replayable secret: their size only.
                        let n = creds.map_or(0, <[u8]>::len);
                        t.lit(format!(" sasl {} ({n} bytes)", text(mech)).as_bytes());
                        self.put(t, out);
                        return true;
                    }
                }
            }
            _ => {
                t.lit(format!(" auth [{}]", auth & 0x1f).as_bytes());
                self.put(t, out);
                return true;
            }
        };
        // A password of control characters only leaves no secret: no login.
        if secret.is_empty() {
            return true;
        }
        // A new bind with the same messageID replaces an unanswered one.
        if let Some(i) = self.pending.iter().position(|(pid, _)| *pid == id) {
            let (_, old) = self.pending.remove(i);
            old.decide(Verdict::Unknown, out);
        }
        if self.pending.len() >= MAX_PENDING {
            out.on_event(Event::PendingFull);
            let (_, old) = self.pending.remove(0);
            old.decide(Verdict::Unknown, out);
        }
        let login = Login::attempt(Proto::Ldap, mechanism, user, secret, Cred::Password, false, ts)
            .with_transcript(self.recent.snapshot());
        self.pending.push((id, login));
        true
    }

    fn bind_response(&mut self, id: i64, v: &[u8], out: &mut dyn LoginSink) -> bool {
        let Some((code, diag)) = ldap_result(v) else { return false };
        self.line(Side::Server, &format!("bindResponse({id}) {code} {} {}", result_name(code), text(diag)), out);
        if code == 14 {
            return true;
        }
        if let Some(i) = self.pending.iter().position(|(pid, _)| *pid == id) {
            let (_, login) = self.pending.remove(i);
            login.decide(if code == 0 { Verdict::Accepted } else { Verdict::Refused }, out);
        }
        true
    }
}

impl Session for Ldap {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.st.done {
            return;
        }
        let st = &mut self.st;
        let dir = &mut self.dirs[idx(from)];
        ber::drive(dir, data, message_len, |m| st.on_message(from, m, ts, out));
        dir.report(out);
    }

    fn on_gap(&mut self, from: Side, len: u64) {
        self.dirs[idx(from)].gap(len);
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        for (_, login) in self.st.pending.drain(..) {
            login.decide(Verdict::Unknown, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ber::enc::{int, seq, tlv};
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;

    fn msg(id: i64, op: Vec<u8>) -> Vec<u8> {
        seq(0x30, &[int(0x02, id), op])
    }
    fn simple_bind(id: i64, dn: &str, pw: &str) -> Vec<u8> {
        msg(id, seq(0x60, &[int(0x02, 3), tlv(0x04, dn.as_bytes()), tlv(0x80, pw.as_bytes())]))
    }
    fn sasl_bind(id: i64, mech: &str, creds: &[u8]) -> Vec<u8> {
        let sasl = seq(0xa3, &[tlv(0x04, mech.as_bytes()), tlv(0x04, creds)]);
        msg(id, seq(0x60, &[int(0x02, 3), tlv(0x04, b""), sasl]))
    }
    fn result(id: i64, app: u8, code: i64) -> Vec<u8> {
        msg(id, seq(app, &[int(0x0a, code), tlv(0x04, b""), tlv(0x04, b"")]))
    }
    fn unbind(id: i64) -> Vec<u8> {
        msg(id, tlv(0x42, b""))
    }

    #[test]
    fn ldapsearch_simple_bind_is_an_accepted_login() {
        // ldapsearch -x -D cn=admin,dc=example,dc=com -w secret -b dc=example,dc=com
        let search = msg(
            2,
            seq(
                0x63,
                &[
                    tlv(0x04, b"dc=example,dc=com"),
                    int(0x0a, 2),
                    int(0x0a, 0),
                    int(0x02, 0),
                    int(0x02, 0),
                    tlv(0x01, &[0]),
                    tlv(0x87, b"objectClass"),
                    tlv(0x30, b""),
                ],
            ),
        );
        let bind = simple_bind(1, "cn=admin,dc=example,dc=com", "secret");
        let conv: &[(Side, &[u8])] =
            &[(C, &bind), (S, &result(1, 0x61, 0)), (C, &search), (S, &result(2, 0x65, 0)), (C, &unbind(3))];
        let got = run_both(Ldap::default, conv);
        assert_eq!(got.logins.len(), 1);
        let l = &got.logins[0];
        assert_eq!(
            (l.mechanism, l.user_name(), l.secret.expose()),
            ("simple bind", Some("cn=admin,dc=example,dc=com"), "secret")
        );
        assert_eq!((l.verdict, l.cred, l.ts), (Verdict::Accepted, Cred::Password, Timestamp::from_secs(1_000)));
        let t = full(&l.transcript);
        assert_eq!(t[0], "C: bindRequest(1) v3 dn=\"cn=admin,dc=example,dc=com\" simple \"secret\"");
        assert!(t[1].contains("bindResponse(1) 0 success"));
        assert_eq!(l.transcript[0].secrets().next(), Some(&l.secret), "the slot holds the login's own secret");
        assert_eq!(l.transcript[0].users().collect::<Vec<_>>(), ["cn=admin,dc=example,dc=com"]);
    }

    #[test]
    fn wrong_password_answered_49_is_refused() {
        let bind = simple_bind(1, "cn=admin,dc=example,dc=com", "wrong");
        let got = run_both(Ldap::default, &[(C, &bind), (S, &result(1, 0x61, 49))]);
        assert_eq!(got.logins.len(), 1);
        assert_eq!((got.logins[0].verdict, got.logins[0].secret.expose()), (Verdict::Refused, "wrong"));
    }

    #[test]
    fn anonymous_and_unauthenticated_binds_are_not_logins() {
        let a = simple_bind(1, "", "");
        let b = simple_bind(2, "cn=nobody", "");
        let got = run_both(Ldap::default, &[(C, &a), (S, &result(1, 0x61, 0)), (C, &b), (S, &result(2, 0x61, 0))]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn several_binds_in_one_segment_matched_by_message_id() {
        let both = [simple_bind(1, "cn=a", "pa"), simple_bind(2, "cn=b", "pb")].concat();
        let answers = [result(2, 0x61, 0), result(1, 0x61, 49)].concat();
        let got = run_both(Ldap::default, &[(C, &both), (S, &answers)]);
        let v: Vec<_> = got.logins.iter().map(|l| (l.user_name(), l.verdict)).collect();
        assert_eq!(v, vec![(Some("cn=b"), Verdict::Accepted), (Some("cn=a"), Verdict::Refused)]);
    }

    #[test]
    fn unanswered_bind_is_unknown_at_close() {
        let got = run_both(Ldap::default, &[(C, &simple_bind(1, "cn=a", "pw"))]);
        assert_eq!(got.logins.len(), 1);
        assert_eq!(got.logins[0].verdict, Verdict::Unknown);
    }

    #[test]
    fn sasl_plain_is_decoded_raw_and_ntlm_is_not_a_password() {
        let plain = sasl_bind(1, "PLAIN", b"\0alice\0pw1");
        let ntlm = sasl_bind(2, "GSS-SPNEGO", b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2");
        let cram = sasl_bind(3, "CRAM-MD5", b"");
        let conv: &[(Side, &[u8])] = &[
            (C, &plain),
            (S, &result(1, 0x61, 0)),
            (C, &ntlm),
            (S, &result(2, 0x61, 14)),
            (C, &cram),
            (S, &result(3, 0x61, 14)),
        ];
        let got = run_both(Ldap::default, conv);
        assert_eq!(got.logins.len(), 1);
        let l = &got.logins[0];
        assert_eq!((l.mechanism, l.user_name(), l.secret.expose()), ("SASL PLAIN", Some("alice"), "pw1"));
        assert_eq!(l.verdict, Verdict::Accepted);
    }

    #[test]
    fn starttls_accepted_stops_parsing() {
        let req = msg(1, seq(0x77, &[tlv(0x80, STARTTLS_OID)]));
        let resp = msg(1, seq(0x78, &[int(0x0a, 0), tlv(0x04, b""), tlv(0x04, b"")]));
        let later = simple_bind(2, "cn=a", "pw");
        let got = run_both(Ldap::default, &[(C, &req), (S, &resp), (C, &later), (S, &result(2, 0x61, 0))]);
        assert!(got.tls);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn a_message_larger_than_max_line_is_skipped_and_the_next_parsed() {
        let big = msg(5, seq(0x68, &[tlv(0x04, &vec![b'x'; super::super::MAX_LINE + 100])]));
        let bind = simple_bind(6, "cn=a", "pw");
        let all = [big, bind].concat();
        let got = run_both(Ldap::default, &[(C, &all), (S, &result(6, 0x61, 0))]);
        assert_eq!(got.logins.len(), 1);
        assert_eq!(got.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn non_ber_traffic_is_ignored() {
        let got = run_both(Ldap::default, &[(C, b"GET / HTTP/1.1\r\n\r\n"), (C, &simple_bind(1, "cn=a", "pw"))]);
        assert!(got.logins.is_empty());
        let got = run_both(Ldap::default, &[(C, &[0x30, 0x80, 0x02, 0x01, 0x01, 0, 0])]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, simple_bind(1, "cn=admin,dc=example,dc=com", "secret")),
            (S, result(1, 0x61, 0)),
            (C, sasl_bind(2, "PLAIN", b"\0alice\0pw1")),
            (S, result(2, 0x61, 49)),
            (C, msg(3, seq(0x77, &[tlv(0x80, STARTTLS_OID)]))),
            (S, msg(3, seq(0x78, &[int(0x0a, 0), tlv(0x04, b""), tlv(0x04, b"")]))),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Ldap::default, &refs);
        }
    }

    #[test]
    fn no_transcript_line_shows_a_bind_password_once_redacted() {
        let conv: &[(Side, &[u8])] = &[
            (C, &simple_bind(1, "cn=admin,dc=example,dc=com", "pw-simple")),
            (S, &result(1, 0x61, 49)),
            (C, &sasl_bind(2, "PLAIN", b"\0alice\0pw-plain")),
            (S, &result(2, 0x61, 49)),
            (C, &simple_bind(3, "cn=admin,dc=example,dc=com", "pw-third")),
            (S, &result(3, 0x61, 0)),
        ];
        let got = run_both(Ldap::default, conv);
        assert_eq!(got.logins.len(), 3);
        assert_no_secret_shown(&got, &[b"pw-simple", b"pw-plain", b"pw-third"]);
        let last = full(&got.logins[2].transcript);
        assert!(last.iter().any(|l| l.contains("sasl PLAIN user=\"alice\" \"pw-plain\"")), "{last:?}");
    }
}
