//! IMAP4 (RFC 3501/9051, LITERAL+ from RFC 7888, SASL-IR from RFC 4959): `LOGIN` and `AUTHENTICATE`.
//!
//! Client commands are `tag NAME args`; the answer is the server's tagged line with the same tag
//! (`OK` accepts, `NO`/`BAD` refuse), so no queue is needed. Arguments are atoms, quoted strings
//! (`\"` and `\\` escapes) or literals: a line ending in `{n}` or `{n+}` is followed by exactly `n` raw
//! bytes and then the rest of the same command line. Both directions go through that literal layer
//! before the line splitter: client literals of a `LOGIN` are captured (up to
//! [`MAX_LINE`](super::MAX_LINE)), any other literal (APPEND of a whole message) and every server literal
//! (`* 1 FETCH (BODY[] {1234}`) is skipped unread, so a mail quoting `a1 LOGIN x y` is no login. A lost
//! segment inside a literal only shortens it; elsewhere it resets that direction.
//!
//! During `AUTHENTICATE` the client lines are SASL responses until the tagged answer (server `+ `
//! lines are continuations); the decoding is `sasl::SaslExchange` (PLAIN, LOGIN, XOAUTH2,
//! OAUTHBEARER, CRAM-MD5, `*` cancels). A `CAPABILITY` list with `STARTTLS` (untagged, or in a
//! `[CAPABILITY ...]` code of the greeting or of an `OK`) marks later logins
//! [`TlsNote::OfferedNotUsed`]; `tag STARTTLS` answered `tag OK` ends the parse.

use super::lines::LineBuf;
use super::lines::{Keyword, contains_ci, split_word};
use super::sasl::{self, Decoded, Kind, Names, SaslExchange, Step};
use super::{Cred, Event, Line, Login, LoginSink, MAX_LINE, Mark, Proto, Session, Verdict, push_transcript, secret};
use crate::reassembly::Side;
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

const NAMES: Names = [
    "AUTHENTICATE PLAIN",
    "AUTHENTICATE LOGIN",
    "AUTHENTICATE XOAUTH2",
    "AUTHENTICATE OAUTHBEARER",
    "AUTHENTICATE CRAM-MD5",
];

/// Arguments kept of one command (tag, name, and a few more: LOGIN needs four). Later ones are not kept
/// and not counted: no command read here has more than four.
const MAX_ARGS: usize = 8;

/// One IMAP connection.
#[derive(Default, Debug)]
pub struct Imap {
    client: LineBuf,
    server: LineBuf,
    st: State,
}

#[derive(Default, Debug)]
struct State {
    transcript: Vec<Text>,
    /// A login waiting for the tagged answer, and its tag.
    pending: Option<(Login, Vec<u8>)>,
    sasl: Option<(SaslExchange, Vec<u8>)>,
    starttls_tag: Option<Vec<u8>>,
    /// The command being read: its arguments so far.
    args: Vec<Vec<u8>>,
    /// A `LOGIN` literal just captured (its argument index): shown, as a user name or a slot, at the start
    /// of the line that continues the command.
    lit_shown: Option<usize>,
    /// The `LOGIN` password (an atom, a quoted string or a literal), or the credential an `AUTHENTICATE`
    /// initial response decoded to: the secret its transcript slot shows.
    pass: Option<Secret>,
    /// A literal interrupted the command line: the next line continues it.
    in_cmd: bool,
    /// Bytes lost inside the command: do not act on it.
    broken: bool,
    /// Client literal bytes still to come, whether they are kept, and the kept bytes.
    c_lit: u64,
    capture: bool,
    lit: Vec<u8>,
    /// Server literal bytes still to skip; the server line after a literal continues a response.
    s_lit: u64,
    s_cont: bool,
    tls_offered: bool,
    upgraded: bool,
    /// The timestamp of the data being handled (the literal of a password may end the command).
    ts: Timestamp,
}

/// The `{n}` / `{n+}` literal announcement ending `line`, if any.
fn literal_suffix(line: &[u8]) -> Option<u64> {
    let body = line.strip_suffix(b"}")?;
    let open = memchr::memrchr(b'{', body)?;
    let n = body.get(open + 1..)?;
    let n = n.strip_suffix(b"+").unwrap_or(n);
    if n.is_empty() || n.len() > 12 || !n.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(n).ok()?.parse().ok()
}

/// Appends the atoms and quoted strings of `line` to `args` (at most [`MAX_ARGS`]); a trailing literal
/// announcement is not an argument (its bytes come next). Returns each new argument's index and where it
/// lies in `line` (inside the quotes of a quoted string), for the transcript.
fn tokenize<'a>(line: &'a [u8], args: &mut Vec<Vec<u8>>) -> Vec<(usize, &'a [u8])> {
    let line = match literal_suffix(line) {
        Some(_) => line.get(..memchr::memrchr(b'{', line).unwrap_or(0)).unwrap_or_default(),
        None => line,
    };
    let mut spans = Vec::new();
    let mut i = 0;
    while args.len() < MAX_ARGS {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        let Some(&first) = line.get(i) else { break };
        let mut tok = Vec::new();
        let (start, end);
        if first == b'"' {
            i += 1;
            start = i;
            loop {
                match line.get(i) {
                    None => {
                        end = i;
                        break;
                    }
                    Some(b'"') => {
                        end = i;
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        tok.extend(line.get(i + 1));
                        i += 2;
                    }
                    Some(&b) => {
                        tok.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            start = i;
            while let Some(&b) = line.get(i).filter(|&&b| b != b' ') {
                tok.push(b);
                i += 1;
            }
            end = i;
        }
        spans.push((args.len(), line.get(start..end.min(line.len())).unwrap_or_default()));
        args.push(tok);
    }
    spans
}

/// A `CAPABILITY` list in `line` that names `STARTTLS`.
fn offers_starttls(line: &[u8]) -> bool {
    contains_ci(line, b"CAPABILITY")
        && line.split(|&b| b == b' ' || b == b'[' || b == b']').any(|w| w.eq_ignore_ascii_case(b"STARTTLS"))
}

impl State {
    fn emit(&mut self, verdict: Verdict, out: &mut dyn LoginSink) {
        if let Some((l, _)) = self.pending.take() {
            l.settle(verdict, &self.transcript, out);
        }
    }

    fn attempt(&mut self, mechanism: &'static str, d: Decoded, tag: Vec<u8>, out: &mut dyn LoginSink) {
        if d.secret.is_empty() {
            return;
        }
        self.emit(Verdict::Unknown, out);
        let login = Login::attempt(Proto::Imap, mechanism, d.user, d.secret, d.cred, self.tls_offered, self.ts);
        self.pending = Some((login.with_material(d.material.map(|m| *m)), tag));
    }

    fn is_login(&self) -> bool {
        self.args.get(1).is_some_and(|n| n.eq_ignore_ascii_case(b"LOGIN"))
    }

    /// The transcript line of a command line whose new arguments lie at `spans`: the `LOGIN` user is a
    /// user name, its password and an `AUTHENTICATE` initial response are slots.
    fn command_line(&mut self, line: &[u8], spans: &[(usize, &[u8])]) -> Line {
        let name = self.args.get(1).map(|n| n.to_ascii_uppercase()).unwrap_or_default();
        let (login, auth) = (name == b"LOGIN", name == b"AUTHENTICATE");
        let user = self.args.get(2).filter(|_| login).map(|u| super::text(u));
        let blob = self.args.get(3).filter(|_| login || auth).map(|p| secret(p));
        if spans.iter().any(|(i, _)| *i == 3) {
            self.pass = match (login, auth, self.args.get(2), self.args.get(3)) {
                (true, _, _, _) => blob.clone(),
                // What the initial response decodes to (the exchange itself starts in `command`).
                (_, true, Some(mech), Some(ir)) => match SaslExchange::new(Kind::parse(mech)).initial(ir) {
                    Step::Cred(d) => Some(d.secret),
                    _ => None,
                },
                _ => None,
            };
        }
        let mut t = Line::new("C: ");
        // The literal that ends where this line starts (only LOGIN's are captured).
        match (self.lit_shown.take(), self.args.get(2), self.args.get(3)) {
            (Some(2), Some(u), _) => {
                t.user(u);
            }
            (Some(3), _, Some(p)) => {
                let s = secret(p);
                t.secret(&s);
                self.pass = Some(s);
            }
            _ => {}
        }
        let mut marks = Vec::new();
        for (i, span) in spans {
            match (*i, &user, &blob, &self.pass) {
                (2, Some(u), _, _) => marks.push(Mark::UserNamed(span, u)),
                (3, _, Some(b), Some(s)) if auth => marks.push(Mark::Wire(span, s, b)),
                (3, _, Some(s), _) => marks.push(Mark::Secret(span, s)),
                _ => {}
            }
        }
        t.mark(line, &marks);
        t
    }

    /// A client literal ended: a kept one is the next argument.
    fn literal_done(&mut self) {
        if self.capture && self.args.len() < MAX_ARGS {
            self.lit_shown = Some(self.args.len());
            self.args.push(std::mem::take(&mut self.lit));
        }
        self.lit.clear();
        self.capture = false;
    }

    fn client_line(&mut self, line: &[u8], out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        if !self.in_cmd {
            if let Some((x, tag)) = self.sasl.as_mut() {
                let step = x.response(line);
                if !matches!(step, Step::NotMine) {
                    push_transcript(&mut self.transcript, sasl::response_line("C: ", line, sasl::cred_of(&step)), out);
                }
                match step {
                    Step::More => return,
                    Step::Cred(d) => {
                        let (mech, tag) = (x.mechanism(&NAMES), tag.clone());
                        return self.attempt(mech, d, tag, out);
                    }
                    Step::Cancelled => {
                        self.sasl = None;
                        return;
                    }
                    Step::NotMine => self.sasl = None,
                }
            }
            self.emit(Verdict::Unknown, out);
            self.args.clear();
            self.pass = None;
            self.lit_shown = None;
            self.broken = false;
        }
        let spans = tokenize(line, &mut self.args);
        let t = self.command_line(line, &spans);
        push_transcript(&mut self.transcript, t, out);
        if let Some(n) = literal_suffix(line) {
            self.in_cmd = true;
            self.capture = self.is_login() && n <= MAX_LINE as u64;
            if self.is_login() && !self.capture {
                out.on_event(Event::LiteralTooLong);
            }
            self.c_lit = n;
            if n == 0 {
                self.literal_done();
            }
            return;
        }
        self.in_cmd = false;
        if !self.broken {
            self.command(out);
        }
    }

    fn command(&mut self, out: &mut dyn LoginSink) {
        let (Some(tag), Some(name)) = (self.args.first(), self.args.get(1)) else { return };
        let (tag, name) = (tag.clone(), name.to_ascii_uppercase());
        match name.as_slice() {
            b"LOGIN" => {
                let (Some(user), Some(pass)) = (self.args.get(2), self.args.get(3)) else { return };
                // The same secret as the transcript's slot (a literal password has none: not shown).
                let secret = self.pass.take().unwrap_or_else(|| secret(pass));
                let d = Decoded { user: super::user(user), secret, cred: Cred::Password, material: None };
                self.attempt("LOGIN", d, tag, out);
            }
            b"AUTHENTICATE" => {
                let Some(mech) = self.args.get(2) else { return };
                let mut x = SaslExchange::new(Kind::parse(mech));
                if let Some(initial) = self.args.get(3) {
                    if let Step::Cred(mut d) = x.initial(initial) {
                        // The same secret as the transcript's slot.
                        if let Some(s) = self.pass.take().filter(|s| *s == d.secret) {
                            d.secret = s;
                        }
                        let m = x.mechanism(&NAMES);
                        self.attempt(m, d, tag.clone(), out);
                    }
                }
                self.sasl = Some((x, tag));
            }
            b"STARTTLS" => self.starttls_tag = Some(tag),
            _ => {}
        }
    }

    fn server_line(&mut self, line: &[u8], out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        let cont = std::mem::take(&mut self.s_cont);
        if let Some(n) = literal_suffix(line) {
            self.s_lit = n;
            self.s_cont = true;
        }
        if cont {
            // The rest of a response after a literal: not a response of its own.
            return;
        }
        push_transcript(&mut self.transcript, Line::lit_line("S: ", line), out);
        if offers_starttls(line) {
            self.tls_offered = true;
        }
        let (tag, rest) = split_word(line);
        if tag == b"+" {
            // A continuation: during AUTHENTICATE, the server's challenge (CRAM-MD5's material).
            if let Some((x, _)) = self.sasl.as_mut() {
                x.server_challenge(rest, out);
            }
        }
        if tag == b"*" || tag.starts_with(b"+") {
            return;
        }
        let (status, _) = split_word(rest);
        let status = Keyword::new(status);
        let ok = status.as_slice() == b"OK";
        if !ok && !matches!(status.as_slice(), b"NO" | b"BAD") {
            return;
        }
        if self.pending.as_ref().is_some_and(|(_, t)| t == tag) {
            self.emit(if ok { Verdict::Accepted } else { Verdict::Refused }, out);
        }
        if self.sasl.as_ref().is_some_and(|(_, t)| t == tag) {
            self.sasl = None;
        }
        if self.in_cmd && self.args.first().is_some_and(|t| t == tag) {
            // A synchronizing literal refused: the client will not send it.
            self.in_cmd = false;
            self.c_lit = 0;
            self.literal_done();
            self.args.clear();
            self.lit_shown = None;
        }
        if self.starttls_tag.as_deref() == Some(tag) {
            self.starttls_tag = None;
            if ok {
                self.emit(Verdict::Unknown, out);
                self.upgraded = true;
                out.on_tls();
            }
        }
    }
}

impl Session for Imap {
    fn on_data(&mut self, from: Side, mut data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let Imap { client, server, st } = self;
        st.ts = ts;
        while !data.is_empty() && !st.upgraded {
            let lit = if from == Side::Client { st.c_lit } else { st.s_lit };
            if lit > 0 {
                let n = usize::try_from(lit).unwrap_or(usize::MAX).min(data.len());
                let (head, rest) = data.split_at(n);
                data = rest;
                if from == Side::Server {
                    st.s_lit -= n as u64;
                    continue;
                }
                st.c_lit -= n as u64;
                if st.capture {
                    st.lit.extend_from_slice(head);
                }
                if st.c_lit == 0 {
                    st.literal_done();
                }
                continue;
            }
            // One line at a time: a line may announce a literal, raw bytes that are no lines.
            let end = memchr::memchr(b'\n', data).map_or(data.len(), |i| i + 1);
            let (head, rest) = data.split_at(end);
            data = rest;
            match from {
                Side::Client => client.feed_counted(head, out, |l, out| st.client_line(l, out)),
                Side::Server => server.feed_counted(head, out, |l, out| st.server_line(l, out)),
            }
        }
    }

    fn on_gap(&mut self, from: Side, len: u64) {
        let st = &mut self.st;
        match from {
            Side::Client if st.c_lit > len => {
                st.c_lit -= len;
                st.broken = true;
                st.capture = false;
                st.lit.clear();
            }
            Side::Client => {
                self.client.clear();
                st.c_lit = 0;
                st.capture = false;
                st.lit.clear();
                st.in_cmd = false;
                st.args.clear();
                st.lit_shown = None;
            }
            Side::Server if st.s_lit > len => st.s_lit -= len,
            Side::Server => {
                self.server.clear();
                st.s_lit = 0;
                st.s_cont = false;
            }
        }
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        self.st.emit(Verdict::Unknown, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::TlsNote;
    use crate::proto::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use crate::secret::Reveal;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    const GREETING_TLS: &[u8] = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n";
    const GREETING: &[u8] =
        b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.\r\n";

    fn b(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

    fn summary(out: &crate::proto::Logins) -> Vec<(&'static str, Option<&str>, &str, Cred, Verdict)> {
        out.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.cred, l.verdict)).collect()
    }

    #[test]
    fn login_with_atoms_accepted() {
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a001 LOGIN alice s3cret\r\n"),
                (S, b"a001 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT] Logged in\r\n"),
                (C, b"a002 SELECT INBOX\r\n"),
                (S, b"* 3 EXISTS\r\na002 OK [READ-WRITE] Select completed.\r\n"),
            ],
        );
        assert_eq!(summary(&out), vec![("LOGIN", Some("alice"), "s3cret", Cred::Password, Verdict::Accepted)]);
        let l = &out.logins[0];
        assert_eq!((l.proto, l.tls, l.ts), (Proto::Imap, TlsNote::NotOffered, Timestamp::from_secs(1_001)));
        assert_eq!(l.transcript.len(), 3);
        assert_eq!(full(&l.transcript)[1], "C: a001 LOGIN alice s3cret");
        assert_eq!(l.transcript[1].render(Reveal::Redacted), format!("C: a001 LOGIN alice {}", l.secret.redacted()));
        assert_eq!(l.transcript[1].secrets().next(), Some(&l.secret), "the slot holds the login's own secret");
    }

    #[test]
    fn quoted_strings_with_escapes() {
        let out = run_both(
            Imap::default,
            &[(S, GREETING), (C, b"A1 login \"alice smith\" \"pa ss\\\"w\\\\rd\"\r\n"), (S, b"A1 OK Logged in\r\n")],
        );
        assert_eq!(
            summary(&out),
            vec![("LOGIN", Some("alice smith"), "pa ss\"w\\rd", Cred::Password, Verdict::Accepted)]
        );
    }

    #[test]
    fn synchronizing_and_non_synchronizing_literals() {
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a1 LOGIN {5}\r\n"),
                (S, b"+ OK\r\n"),
                (C, b"alice {8}\r\n"),
                (S, b"+ OK\r\n"),
                (C, b"p{w} \"xy\r\n"),
                (S, b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, b"a2 LOGIN {3+}\r\nbob {4+}\r\npw 2\r\n"),
                (S, b"a2 OK Logged in\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("LOGIN", Some("alice"), "p{w} \"xy", Cred::Password, Verdict::Refused),
                ("LOGIN", Some("bob"), "pw 2", Cred::Password, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn refused_then_retry_and_bad_is_refused() {
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a1 LOGIN alice wrong\r\n"),
                (S, b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, b"a2 LOGIN alice \"\"\r\n"),
                (S, b"a2 BAD Error in IMAP command LOGIN: Invalid arguments.\r\n"),
                (C, b"a3 LOGIN alice right\r\n"),
                (S, b"a3 BAD Too many invalid IMAP commands.\r\n"),
                (C, b"a4 LOGIN alice right\r\n"),
                (S, b"a4 OK Logged in\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("LOGIN", Some("alice"), "wrong", Cred::Password, Verdict::Refused),
                ("LOGIN", Some("alice"), "right", Cred::Password, Verdict::Refused),
                ("LOGIN", Some("alice"), "right", Cred::Password, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn unanswered_login_is_unknown_at_close_and_other_tags_do_not_decide() {
        let out = run_both(
            Imap::default,
            &[(S, GREETING), (C, b"a1 LOGIN carol pw\r\n"), (S, b"* BYE shutting down\r\nzz OK not yours\r\n")],
        );
        assert_eq!(summary(&out), vec![("LOGIN", Some("carol"), "pw", Cred::Password, Verdict::Unknown)]);
    }

    #[test]
    fn authenticate_plain_with_sasl_ir_and_after_continuation() {
        let ir = format!("a1 AUTHENTICATE PLAIN {}\r\n", b(b"\0alice\0pw1"));
        let later = format!("{}\r\n", b(b"\0alice\0pw2"));
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, ir.as_bytes()),
                (S, b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, b"a2 AUTHENTICATE PLAIN\r\n"),
                (S, b"+ \r\n"),
                (C, later.as_bytes()),
                (S, b"a2 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("AUTHENTICATE PLAIN", Some("alice"), "pw1", Cred::Password, Verdict::Refused),
                ("AUTHENTICATE PLAIN", Some("alice"), "pw2", Cred::Password, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn authenticate_login_xoauth2_oauthbearer_cram_md5() {
        let (u, p) = (format!("{}\r\n", b(b"alice")), format!("{}\r\n", b(b"pw1")));
        let x = format!("a2 AUTHENTICATE XOAUTH2 {}\r\n", b(b"user=bob@example.com\x01auth=Bearer ya29.t\x01\x01"));
        let o = format!("{}\r\n", b(b"n,a=bob@example.com,\x01host=imap\x01port=143\x01auth=Bearer ob.t\x01\x01"));
        let c = format!("{}\r\n", b(b"tim b913a602c7eda7a495b4e6e7334d3890"));
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a1 AUTHENTICATE LOGIN\r\n"),
                (S, b"+ VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"+ UGFzc3dvcmQ6\r\n"),
                (C, p.as_bytes()),
                (S, b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, x.as_bytes()),
                (S, b"+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n"),
                (C, b"\r\n"),
                (S, b"a2 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
                (C, b"a3 AUTHENTICATE OAUTHBEARER\r\n"),
                (S, b"+ \r\n"),
                (C, o.as_bytes()),
                (S, b"a3 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
                (C, b"a4 AUTHENTICATE CRAM-MD5\r\n"),
                (S, b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
                (C, c.as_bytes()),
                (S, b"a4 OK Logged in\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("AUTHENTICATE LOGIN", Some("alice"), "pw1", Cred::Password, Verdict::Refused),
                ("AUTHENTICATE XOAUTH2", Some("bob@example.com"), "ya29.t", Cred::Token, Verdict::Refused),
                ("AUTHENTICATE OAUTHBEARER", Some("bob@example.com"), "ob.t", Cred::Token, Verdict::Refused),
                (
                    "AUTHENTICATE CRAM-MD5",
                    Some("tim"),
                    "b913a602c7eda7a495b4e6e7334d3890",
                    Cred::HashOnly,
                    Verdict::Accepted
                ),
            ]
        );
        // The server's challenge travels with the digest (`--export-hashes`); the others have none.
        let m = out.logins.iter().map(|l| l.material.as_ref().map(|m| m.hashcat_mode())).collect::<Vec<_>>();
        assert_eq!(m, [None, None, None, Some(10200)]);
        let Some(crate::proto::material::Material::CramMd5 { challenge, .. }) = out.logins[3].material.as_deref()
        else {
            panic!("no material")
        };
        assert_eq!(challenge, b"<1896.697170952@postoffice.reston.mci.net>");
    }

    #[test]
    fn client_star_cancels_authenticate() {
        let u = format!("{}\r\n", b(b"alice"));
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a1 AUTHENTICATE LOGIN\r\n"),
                (S, b"+ VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"+ UGFzc3dvcmQ6\r\n"),
                (C, b"*\r\n"),
                (S, b"a1 BAD Authentication aborted by client.\r\n"),
                (C, b"a2 LOGOUT\r\n"),
                (S, b"* BYE Logging out\r\na2 OK Logout completed.\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
    }

    #[test]
    fn starttls_accepted_stops_parsing() {
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING_TLS),
                (C, b"a1 STARTTLS\r\n"),
                (S, b"a1 OK Begin TLS negotiation now.\r\n"),
                (C, b"\x16\x03\x01\x02\x00\x01\r\na2 LOGIN alice pw\r\n"),
                (S, b"a2 OK x\r\n"),
            ],
        );
        assert!(out.tls);
        assert!(out.logins.is_empty());
    }

    #[test]
    fn login_after_offered_starttls_is_offered_not_used() {
        let greeting =
            run_both(Imap::default, &[(S, GREETING_TLS), (C, b"a1 LOGIN alice pw\r\n"), (S, b"a1 OK Logged in\r\n")]);
        let untagged = run_both(
            Imap::default,
            &[
                (S, b"* OK IMAP4rev1 Service Ready\r\n"),
                (C, b"a0 CAPABILITY\r\n"),
                (S, b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na0 OK CAPABILITY completed\r\n"),
                (C, b"a1 LOGIN alice pw\r\n"),
                (S, b"a1 NO Logins disabled\r\n"),
            ],
        );
        for out in [greeting, untagged] {
            assert_eq!(out.logins.len(), 1);
            assert_eq!(out.logins[0].tls, TlsNote::OfferedNotUsed);
            assert!(!out.tls);
        }
    }

    #[test]
    fn server_literals_are_skipped() {
        let body = b"Subject: hi\r\n\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na2 NO fake {99}\r\n";
        let fetch = [format!("* 1 FETCH (BODY[] {{{}}}\r\n", body.len()).as_bytes(), body, b")\r\n"].concat();
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a1 LOGIN alice pw\r\n"),
                (S, b"a1 OK Logged in\r\n"),
                (C, b"a2 FETCH 1 BODY[]\r\n"),
                (S, &fetch),
                (S, b"a2 OK Fetch completed.\r\n"),
                (C, b"a3 LOGIN bob pw2\r\n"),
                (S, b"a3 BAD Already logged in\r\n"),
            ],
        );
        let got: Vec<_> = out.logins.iter().map(|l| (l.secret.expose(), l.verdict, l.tls)).collect();
        assert_eq!(
            got,
            vec![("pw", Verdict::Accepted, TlsNote::NotOffered), ("pw2", Verdict::Refused, TlsNote::NotOffered)]
        );
    }

    #[test]
    fn appended_message_is_not_read_as_commands() {
        let msg = b"From: a@example.org\r\n\r\nx1 LOGIN mallory notapass\r\n";
        let append = [format!("a2 APPEND INBOX {{{}+}}\r\n", msg.len()).as_bytes(), msg, b"\r\n"].concat();
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, &append),
                (S, b"a2 NO Not logged in\r\n"),
                (C, b"a3 LOGOUT\r\n"),
                (S, b"a3 OK bye\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
    }

    #[test]
    fn refused_synchronizing_literal_is_not_awaited() {
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a1 LOGIN {5000000}\r\n"),
                (S, b"a1 NO Literal too large\r\n"),
                (C, b"a2 LOGIN alice pw\r\n"),
                (S, b"a2 OK Logged in\r\n"),
            ],
        );
        assert_eq!(summary(&out), vec![("LOGIN", Some("alice"), "pw", Cred::Password, Verdict::Accepted)]);
    }

    #[test]
    fn no_transcript_line_shows_a_password_quoted_literal_or_base64_once_redacted() {
        let ir = format!("a4 AUTHENTICATE PLAIN {}\r\n", b(b"\0carol\0pw-four"));
        let cont = format!("{}\r\n", b(b"\0dave\0pw-five"));
        let out = run_both(
            Imap::default,
            &[
                (S, GREETING),
                (C, b"a1 LOGIN alice \"pa ss\\\"w\\\\rd\"\r\n"),
                (S, b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, b"a2 LOGIN {3+}\r\nbob pw-two\r\n"),
                (S, b"a2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, b"a3 LOGIN erin {6+}\r\npw-3rd\r\n"),
                (S, b"a3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, ir.as_bytes()),
                (S, b"a4 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
                (C, b"a5 AUTHENTICATE PLAIN\r\n"),
                (S, b"+ \r\n"),
                (C, cont.as_bytes()),
                (S, b"a5 OK Logged in\r\n"),
            ],
        );
        let secrets: Vec<&str> = out.logins.iter().map(|l| l.secret.expose()).collect();
        assert_eq!(secrets, ["pa ss\"w\\rd", "pw-two", "pw-3rd", "pw-four", "pw-five"]);
        assert_no_secret_shown(&out, &[b"pa ss", b"pw-two", b"pw-3rd", b"pw-four", b"pw-five"]);
        // The quoted password's slot sits inside its quotes; revealed, the line reads as sent (unescaped).
        let t = full(&out.logins[4].transcript);
        assert_eq!(t[1], "C: a1 LOGIN alice \"pa ss\"w\\rd\"");
        // A literal is shown where the command continues: the user a name, the password a slot.
        assert_eq!(t[3..5], ["C: a2 LOGIN {3+}", "C: bob pw-two"]);
        assert_eq!(t[6..8], ["C: a3 LOGIN erin {6+}", "C: pw-3rd"]);
        assert_eq!(out.logins[1].transcript[4].users().collect::<Vec<_>>(), ["bob"]);
    }
}
