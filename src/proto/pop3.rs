//! POP3 (RFC 1939, CAPA/STLS from RFC 2449 and RFC 2595, AUTH from RFC 5034): `USER`/`PASS`, `APOP`
//! and SASL `AUTH` logins.
//!
//! POP3 replies say `+OK` or `-ERR` but not what they answer, and clients may pipeline (RFC 2449), so
//! every client command queues what its reply will be (`Expect`) and every `+OK`/`-ERR` takes the
//! oldest one. That also tells which `+OK` opens a multi-line reply (CAPA, RETR, TOP, LIST and UIDL
//! without argument, bare AUTH): its lines, up to the line `.`, are data, not replies (a mail body
//! holding `-ERR` or `+OK` must not decide a login). A `CAPA` reply listing `STLS` marks later logins
//! [`TlsNote::OfferedNotUsed`]; `STLS` answered `+OK` ends the parse.
//!
//! During `AUTH` the client sends SASL responses, not commands, until the server's final `+OK`/`-ERR`
//! (`+ ` lines are continuations). The SASL side is `sasl::SaslExchange`, shared with `imap` and `smtp`
//! (the three differ only in how the server prompts). APOP reports the digest as [`Cred::HashOnly`].

use std::collections::VecDeque;

use super::lines::{Keyword, LineProto, Lines, split_word, starts_ci};
use super::sasl::{self, AUTH_NAMES, Decoded, Kind, SaslExchange, Step};
use super::{Cred, Event, InProgress, Line, LoginSink, Mark, Proto, Verdict, secret, text, user};
use crate::secret::Text;
use crate::time::Timestamp;

/// Commands whose reply is still to come; a longer queue means we lost track (gap), the oldest go
/// ([`Event::PendingFull`]).
const MAX_QUEUE: usize = 32;

/// What the reply to a queued command is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Single,
    /// `+OK` opens a multi-line reply.
    Multi,
    /// The CAPA multi-line reply.
    Capa,
    /// The verdict of the pending login (PASS, APOP).
    Login,
    /// The final answer of an AUTH exchange.
    Auth,
    Stls,
}

/// One POP3 connection.
pub type Pop3 = Lines<State>;

/// What a POP3 connection keeps between lines.
#[derive(Default, Debug)]
pub struct State {
    /// The exchange, the login waiting for its answer, the STARTTLS offer.
    lg: InProgress,
    user: Option<String>,
    /// The reply to the last `USER` may repeat its name: those words are user-name parts.
    echo: bool,
    queue: VecDeque<Expect>,
    sasl: Option<SaslExchange>,
    /// Inside a multi-line reply; `true` for CAPA.
    body: Option<bool>,
    upgraded: bool,
}

fn command(line: &[u8]) -> (Keyword, &[u8]) {
    let (w, rest) = split_word(line);
    (Keyword::new(w), rest)
}

impl State {
    fn expect(&mut self, e: Expect, out: &mut dyn LoginSink) {
        if self.queue.len() >= MAX_QUEUE {
            out.on_event(Event::PendingFull);
            self.queue.pop_front();
        }
        self.queue.push_back(e);
    }
}

impl LineProto for State {
    fn client_line(&mut self, line: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        if let Some(x) = self.sasl.as_mut() {
            let step = x.response(line);
            if !matches!(step, Step::NotMine) {
                self.lg.push(sasl::response_line("C: ", line, sasl::cred_of(&step)), out);
            }
            match step {
                Step::More => return,
                Step::Cred(d) => {
                    let mech = x.mechanism(&AUTH_NAMES);
                    return self.lg.attempt(Proto::Pop3, mech, d, ts, out);
                }
                Step::Cancelled => {
                    self.sasl = None;
                    return;
                }
                Step::NotMine => self.sasl = None,
            }
        }
        self.lg.settle(Verdict::Unknown, out);
        let (cmd, arg) = command(line);
        let e = match cmd.as_slice() {
            b"USER" => {
                let name = arg.trim_ascii();
                self.lg.push(Line::marked("C: ", line, &[Mark::User(name)]), out);
                self.user = Some(text(name)).filter(|u| !u.is_empty());
                self.echo = self.user.is_some();
                Expect::Single
            }
            b"PASS" => {
                let s = secret(arg);
                self.lg.push(Line::marked("C: ", line, &[Mark::Secret(arg, &s)]), out);
                let d = Decoded {
                    user: self.user.as_deref().map(Text::user),
                    secret: s,
                    cred: Cred::Password,
                    material: None,
                };
                self.lg.attempt(Proto::Pop3, "USER/PASS", d, ts, out);
                Expect::Login
            }
            b"APOP" => {
                let (name, digest) = split_word(arg.trim_ascii());
                let digest = digest.trim_ascii();
                let s = secret(digest);
                self.lg.push(Line::marked("C: ", line, &[Mark::User(name), Mark::Secret(digest, &s)]), out);
                let d = Decoded { user: user(name), secret: s, cred: Cred::HashOnly, material: None };
                self.lg.attempt(Proto::Pop3, "APOP", d, ts, out);
                Expect::Login
            }
            b"AUTH" if arg.trim_ascii().is_empty() => {
                self.lg.push(Line::lit_line("C: ", line), out);
                Expect::Multi
            }
            b"AUTH" => {
                let (mech, initial) = split_word(arg.trim_ascii());
                let initial = initial.trim_ascii();
                let mut x = SaslExchange::new(Kind::parse(mech));
                let step = if initial.is_empty() { Step::More } else { x.initial(initial) };
                // The initial response is a credential: a slot (the decoded secret's, when it held one).
                let blob = secret(initial);
                let mark = match sasl::cred_of(&step) {
                    Some(s) => Mark::Wire(initial, s, &blob),
                    None => Mark::Secret(initial, &blob),
                };
                self.lg.push(Line::marked("C: ", line, &[mark]), out);
                if let Step::Cred(d) = step {
                    let m = x.mechanism(&AUTH_NAMES);
                    self.lg.attempt(Proto::Pop3, m, d, ts, out);
                }
                self.sasl = Some(x);
                Expect::Auth
            }
            c => {
                self.lg.push(Line::lit_line("C: ", line), out);
                match c {
                    b"STLS" => Expect::Stls,
                    b"CAPA" => Expect::Capa,
                    b"RETR" | b"TOP" => Expect::Multi,
                    b"LIST" | b"UIDL" if arg.trim_ascii().is_empty() => Expect::Multi,
                    _ => Expect::Single,
                }
            }
        };
        self.expect(e, out);
    }

    fn server_line(&mut self, line: &[u8], out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        if let Some(capa) = self.body {
            if line == b"." {
                self.body = None;
            } else if capa {
                self.lg.push(Line::lit_line("S: ", line), out);
                if line.trim_ascii().eq_ignore_ascii_case(b"STLS") {
                    self.lg.tls_offered = true;
                }
            }
            return;
        }
        let mut t = Line::new("S: ");
        match self.user.as_deref().filter(|_| self.echo) {
            Some(name) => t.lit_naming(line, name),
            None => t.lit(line),
        };
        self.lg.push(t, out);
        let ok = starts_ci(line, b"+OK");
        if !ok && !starts_ci(line, b"-ERR") {
            // `+ ` continuations of an AUTH exchange (CRAM-MD5's challenge), or noise.
            if let (Some(x), Some(c)) = (self.sasl.as_mut(), line.strip_prefix(b"+ ")) {
                x.server_challenge(c, out);
            }
            return;
        }
        self.echo = false;
        let Some(e) = self.queue.pop_front() else { return }; // greeting
        match e {
            Expect::Single => {}
            Expect::Multi | Expect::Capa if ok => self.body = Some(e == Expect::Capa),
            Expect::Multi | Expect::Capa => {}
            Expect::Login | Expect::Auth => {
                if e == Expect::Auth {
                    self.sasl = None;
                }
                self.lg.settle(if ok { Verdict::Accepted } else { Verdict::Refused }, out);
            }
            Expect::Stls if ok => {
                self.lg.settle(Verdict::Unknown, out);
                self.upgraded = true;
                out.on_tls();
            }
            Expect::Stls => {}
        }
    }

    fn upgraded(&self) -> bool {
        self.upgraded
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        self.lg.settle(Verdict::Unknown, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::TlsNote;
    use crate::proto::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    const GREETING: &[u8] = b"+OK Dovecot ready.\r\n";

    fn b(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

    fn summary(out: &crate::proto::Logins) -> Vec<(&'static str, Option<&str>, &str, Cred, Verdict)> {
        out.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.cred, l.verdict)).collect()
    }

    #[test]
    fn user_pass_accepted() {
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"USER alice\r\n"),
                (S, b"+OK\r\n"),
                (C, b"PASS s3cret\r\n"),
                (S, b"+OK Logged in.\r\n"),
                (C, b"STAT\r\n"),
                (S, b"+OK 2 3012\r\n"),
            ],
        );
        assert_eq!(summary(&out), vec![("USER/PASS", Some("alice"), "s3cret", Cred::Password, Verdict::Accepted)]);
        let l = &out.logins[0];
        assert_eq!(l.proto, Proto::Pop3);
        assert_eq!(l.tls, TlsNote::NotOffered);
        assert_eq!(l.ts, Timestamp::from_secs(1_003));
        assert_eq!(
            full(&l.transcript),
            vec!["S: +OK Dovecot ready.", "C: USER alice", "S: +OK", "C: PASS s3cret", "S: +OK Logged in."]
        );
    }

    #[test]
    fn refused_then_retry_on_one_connection() {
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"USER alice\r\n"),
                (S, b"+OK\r\n"),
                (C, b"PASS wrong\r\n"),
                (S, b"-ERR [AUTH] Authentication failed.\r\n"),
                (C, b"user alice\r\n"),
                (S, b"+OK\r\n"),
                (C, b"pass right\r\n"),
                (S, b"+OK Logged in.\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("USER/PASS", Some("alice"), "wrong", Cred::Password, Verdict::Refused),
                ("USER/PASS", Some("alice"), "right", Cred::Password, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn unanswered_login_is_unknown_at_close() {
        let out = run_both(Pop3::default, &[(S, GREETING), (C, b"USER bob\r\n"), (S, b"+OK\r\n"), (C, b"PASS pw\r\n")]);
        assert_eq!(summary(&out), vec![("USER/PASS", Some("bob"), "pw", Cred::Password, Verdict::Unknown)]);
    }

    #[test]
    fn pipelined_user_pass_take_their_own_replies() {
        let out = run_both(Pop3::default, &[
            (S, GREETING),
            (C, b"CAPA\r\nUSER bob\r\nPASS pw\r\n"),
            (S, b"+OK\r\nUSER\r\n-ERR not a reply\r\nPIPELINING\r\n.\r\n+OK\r\n-ERR [AUTH] Authentication failed.\r\n"),
        ]);
        assert_eq!(summary(&out), vec![("USER/PASS", Some("bob"), "pw", Cred::Password, Verdict::Refused)]);
    }

    #[test]
    fn empty_pass_and_user_alone_report_nothing() {
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"USER bob\r\n"),
                (S, b"+OK\r\n"),
                (C, b"PASS\r\n"),
                (S, b"-ERR No password given.\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"+OK Logging out\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
    }

    #[test]
    fn apop_reports_the_digest_as_hash_only() {
        let out = run_both(
            Pop3::default,
            &[
                (S, b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
                (C, b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
                (S, b"+OK maildrop has 1 message (369 octets)\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![("APOP", Some("mrose"), "c4c9334bac560ecc979e58001b3e22fb", Cred::HashOnly, Verdict::Accepted)]
        );
    }

    #[test]
    fn auth_plain_inline_and_after_continuation() {
        let ir = format!("AUTH PLAIN {}\r\n", b(b"\0alice\0pw1"));
        let later = format!("{}\r\n", b(b"\0alice\0pw2"));
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, ir.as_bytes()),
                (S, b"-ERR [AUTH] Authentication failed.\r\n"),
                (C, b"AUTH PLAIN\r\n"),
                (S, b"+ \r\n"),
                (C, later.as_bytes()),
                (S, b"+OK Logged in.\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("AUTH PLAIN", Some("alice"), "pw1", Cred::Password, Verdict::Refused),
                ("AUTH PLAIN", Some("alice"), "pw2", Cred::Password, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn auth_login_with_prompts_and_with_inline_user() {
        let (u, p) = (format!("{}\r\n", b(b"alice")), format!("{}\r\n", b(b"pw1")));
        let inline = format!("AUTH LOGIN {}\r\n", b(b"bob"));
        let p2 = format!("{}\r\n", b(b"pw2"));
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"+ VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"+ UGFzc3dvcmQ6\r\n"),
                (C, p.as_bytes()),
                (S, b"-ERR [AUTH] Authentication failed.\r\n"),
                (C, inline.as_bytes()),
                (S, b"+ UGFzc3dvcmQ6\r\n"),
                (C, p2.as_bytes()),
                (S, b"+OK Logged in.\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("AUTH LOGIN", Some("alice"), "pw1", Cred::Password, Verdict::Refused),
                ("AUTH LOGIN", Some("bob"), "pw2", Cred::Password, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn auth_xoauth2_and_oauthbearer_give_tokens() {
        let x = format!("AUTH XOAUTH2 {}\r\n", b(b"user=bob@example.com\x01auth=Bearer ya29.tok\x01\x01"));
        let o = format!(
            "{}\r\n",
            b(b"n,a=bob@example.com,\x01host=pop.example.com\x01port=110\x01auth=Bearer abc.def\x01\x01")
        );
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, x.as_bytes()),
                (S, b"+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n"),
                (C, b"\r\n"),
                (S, b"-ERR [AUTH] Invalid credentials\r\n"),
                (C, b"AUTH OAUTHBEARER\r\n"),
                (S, b"+ \r\n"),
                (C, o.as_bytes()),
                (S, b"+OK Logged in.\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("AUTH XOAUTH2", Some("bob@example.com"), "ya29.tok", Cred::Token, Verdict::Refused),
                ("AUTH OAUTHBEARER", Some("bob@example.com"), "abc.def", Cred::Token, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn auth_cram_md5_is_hash_only() {
        let r = format!("{}\r\n", b(b"tim b913a602c7eda7a495b4e6e7334d3890"));
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"AUTH CRAM-MD5\r\n"),
                (S, b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
                (C, r.as_bytes()),
                (S, b"+OK Logged in.\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![("AUTH CRAM-MD5", Some("tim"), "b913a602c7eda7a495b4e6e7334d3890", Cred::HashOnly, Verdict::Accepted)]
        );
        // RFC 2195's example: the server's challenge travels with the digest (`--export-hashes`).
        let want = crate::proto::material::Material::CramMd5 {
            challenge: b"<1896.697170952@postoffice.reston.mci.net>".to_vec(),
            user: "tim".into(),
            digest: "b913a602c7eda7a495b4e6e7334d3890".into(),
        };
        assert_eq!(out.logins[0].material.as_deref(), Some(&want));
    }

    #[test]
    fn client_star_cancels_the_exchange() {
        let u = format!("{}\r\n", b(b"alice"));
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"+ VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"+ UGFzc3dvcmQ6\r\n"),
                (C, b"*\r\n"),
                (S, b"-ERR Authentication aborted\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"+OK Logging out\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
    }

    #[test]
    fn stls_accepted_stops_parsing() {
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"STLS\r\n"),
                (S, b"+OK Begin TLS negotiation now.\r\n"),
                (C, b"\x16\x03\x01\x00\xa5\x01\r\nUSER x\r\nPASS y\r\n"),
                (S, b"+OK\r\n+OK\r\n"),
            ],
        );
        assert!(out.tls);
        assert!(out.logins.is_empty());
    }

    #[test]
    fn login_after_capa_offered_stls_is_offered_not_used() {
        let out = run_both(Pop3::default, &[
            (S, GREETING),
            (C, b"CAPA\r\n"),
            (S, b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n"),
            (C, b"USER alice\r\n"),
            (S, b"+OK\r\n"),
            (C, b"PASS pw\r\n"),
            (S, b"+OK Logged in.\r\n"),
        ]);
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].tls, TlsNote::OfferedNotUsed);
        assert!(!out.tls);
    }

    #[test]
    fn retr_body_is_not_read_as_replies() {
        let out = run_both(
            Pop3::default,
            &[
                (S, GREETING),
                (C, b"USER alice\r\n"),
                (S, b"+OK\r\n"),
                (C, b"PASS pw\r\n"),
                (S, b"+OK Logged in.\r\n"),
                (C, b"RETR 1\r\n"),
                (S, b"+OK 120 octets\r\nSubject: hi\r\n\r\n-ERR this is text\r\nSTLS\r\n..\r\n.\r\n"),
                (C, b"USER bob\r\nPASS pw2\r\n"),
                (S, b"-ERR Unknown command.\r\n-ERR Unknown command.\r\n"),
            ],
        );
        let got: Vec<_> = out.logins.iter().map(|l| (l.secret.expose(), l.verdict, l.tls)).collect();
        assert_eq!(
            got,
            vec![("pw", Verdict::Accepted, TlsNote::NotOffered), ("pw2", Verdict::Refused, TlsNote::NotOffered)]
        );
    }

    #[test]
    fn no_transcript_line_shows_a_secret_of_any_attempt_once_redacted() {
        let ir = format!("AUTH PLAIN {}\r\n", b(b"\0alice\0pw-plain"));
        let (u, p) = (format!("{}\r\n", b(b"bob")), format!("{}\r\n", b(b"pw-login")));
        let out = run_both(
            Pop3::default,
            &[
                (S, b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
                (C, b"USER alice\r\nPASS pw one\r\n"),
                (S, b"+OK\r\n-ERR [AUTH] Authentication failed.\r\n"),
                (C, b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
                (S, b"-ERR [AUTH] Authentication failed.\r\n"),
                (C, ir.as_bytes()),
                (S, b"-ERR [AUTH] Authentication failed.\r\n"),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"+ VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"+ UGFzc3dvcmQ6\r\n"),
                (C, p.as_bytes()),
                (S, b"+OK Logged in.\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 4);
        assert_no_secret_shown(
            &out,
            &[b"pw one", b"c4c9334bac560ecc979e58001b3e22fb", b"pw-plain", b"\0alice\0pw-plain", b"pw-login"],
        );
        assert_eq!(full(&out.logins[3].transcript)[1], "C: USER alice", "user names stay names");
    }
}
