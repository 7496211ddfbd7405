//! FTP control connection (RFC 959, AUTH TLS from RFC 4217): `USER`/`PASS` and `ACCT` in clear.
//!
//! The client side is read as commands, one per line (`PASS` takes the rest of the line as is, since a
//! password may hold spaces). The server side is read as replies: `ddd text` is a final reply, `ddd-`
//! opens a multi-line reply that only a line `ddd ` with the same code closes (lines in between are
//! text, even if they start with another code). FTP clients do not pipeline logins in practice, so the
//! next final reply after `PASS` is its answer: 230/202 accept it, 4xx/5xx refuse it, 331/332 (and
//! 1xx) mean "more to come" and keep it waiting; after 331/332 the following `ACCT` joins the attempt
//! instead of ending it.
//!
//! `ACCT` is a secret too: it is reported as its own [`Login`] with mechanism `ACCT` (user = the last
//! `USER`), with the verdict of the reply to it; the `PASS` waiting on 332 gets that same verdict.
//! Anonymous logins are reported like any other (the "password" is an e-mail address, still sent in
//! clear); an empty `PASS` carries no secret and reports nothing.
//!
//! TLS: a `211` FEAT reply listing `AUTH TLS`/`AUTH SSL` marks later logins
//! [`super::TlsNote::OfferedNotUsed`]; `AUTH TLS` (or SSL, TLS-C, TLS-P) answered 234 ends the parse.

use super::lines::{Keyword, LineProto, Lines, contains_ci, split_word, starts_ci};
use super::{Cred, Event, Line, Login, LoginSink, Mark, Proto, Verdict, push_transcript, secret, text};
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

/// Logins waiting for one reply (a PASS answered 332 plus its ACCT); more is not FTP, and the oldest
/// are reported without a verdict ([`Event::PendingFull`]).
const MAX_PENDING: usize = 4;

/// One FTP control connection.
pub type Ftp = Lines<State>;

/// What an FTP connection keeps between lines.
#[derive(Default, Debug)]
pub struct State {
    transcript: Vec<Text>,
    /// The last `USER` argument.
    user: Option<String>,
    /// The replies to the last `USER` may repeat its name (`331 Password required for alice`): those
    /// words are user-name parts of the transcript.
    echo: bool,
    /// Attempts waiting for their verdict (verdict Unknown, transcript filled when emitted).
    pending: Vec<Login>,
    /// The server answered the pending attempt with 331/332 (or 1xx): the next ACCT belongs to it.
    more: bool,
    /// The client asked `AUTH TLS` and the reply is not in yet.
    auth_tls: bool,
    tls_offered: bool,
    /// Inside a multi-line reply opened with this code.
    multi: Option<[u8; 3]>,
    /// AUTH TLS accepted: the rest is ciphertext.
    upgraded: bool,
}

/// The reply code of a line and whether it opens a multi-line reply (`ddd-`).
fn reply_code(line: &[u8]) -> Option<([u8; 3], bool)> {
    let c: [u8; 3] = line.get(..3)?.try_into().ok()?;
    if !c.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match line.get(3) {
        None | Some(b' ') => Some((c, false)),
        Some(b'-') => Some((c, true)),
        Some(_) => None,
    }
}

fn code_num(c: [u8; 3]) -> u16 {
    c.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
}

impl State {
    fn flush(&mut self, verdict: Verdict, out: &mut dyn LoginSink) {
        for l in std::mem::take(&mut self.pending) {
            l.settle(verdict, &self.transcript, out);
        }
        self.more = false;
    }

    fn attempt(&mut self, mechanism: &'static str, secret: Secret, ts: Timestamp, out: &mut dyn LoginSink) {
        if secret.is_empty() {
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            out.on_event(Event::PendingFull);
            self.flush(Verdict::Unknown, out);
        }
        let user = self.user.as_deref().map(Text::user);
        self.pending.push(Login::attempt(Proto::Ftp, mechanism, user, secret, Cred::Password, self.tls_offered, ts));
        self.more = false;
    }

    /// A multi-line reply's text: FEAT lists ` AUTH TLS`.
    fn reply_text(&mut self, code: [u8; 3], line: &[u8]) {
        if &code != b"211" {
            return;
        }
        let mut t = line.trim_ascii();
        if let Some((c, true)) = reply_code(t) {
            if c == code {
                t = t.get(4..).unwrap_or_default().trim_ascii();
            }
        }
        if starts_ci(t, b"AUTH ") && (contains_ci(t, b"TLS") || contains_ci(t, b"SSL")) {
            self.tls_offered = true;
        }
    }

    fn reply(&mut self, code: [u8; 3], out: &mut dyn LoginSink) {
        self.echo = false;
        let n = code_num(code);
        if std::mem::take(&mut self.auth_tls) && n == 234 {
            self.flush(Verdict::Unknown, out);
            self.upgraded = true;
            out.on_tls();
            return;
        }
        if self.pending.is_empty() {
            return;
        }
        match n {
            230 | 202 => self.flush(Verdict::Accepted, out),
            100..=199 | 331 | 332 => self.more = true,
            400..=599 => self.flush(Verdict::Refused, out),
            _ => {}
        }
    }
}

impl LineProto for State {
    fn client_line(&mut self, line: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        let (word, arg) = split_word(line);
        let cmd = Keyword::new(word);
        let joins_pending = self.more && cmd.as_slice() == b"ACCT";
        if !self.pending.is_empty() && !joins_pending {
            self.flush(Verdict::Unknown, out);
        }
        match cmd.as_slice() {
            b"USER" => {
                let name = arg.trim_ascii();
                push_transcript(&mut self.transcript, Line::marked("C: ", line, &[Mark::User(name)]), out);
                self.user = Some(text(name)).filter(|u| !u.is_empty());
                self.echo = self.user.is_some();
            }
            b"PASS" | b"ACCT" => {
                // The whole rest of the line, as is: a password may hold spaces.
                let s = secret(arg);
                push_transcript(&mut self.transcript, Line::marked("C: ", line, &[Mark::Secret(arg, &s)]), out);
                let mech = if cmd.as_slice() == b"PASS" { "USER/PASS" } else { "ACCT" };
                self.attempt(mech, s, ts, out);
            }
            b"AUTH" => {
                push_transcript(&mut self.transcript, Line::lit_line("C: ", line), out);
                let a = Keyword::new(arg.trim_ascii());
                self.auth_tls = matches!(a.as_slice(), b"TLS" | b"SSL" | b"TLS-C" | b"TLS-P");
            }
            _ => push_transcript(&mut self.transcript, Line::lit_line("C: ", line), out),
        }
    }

    fn server_line(&mut self, line: &[u8], out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        let mut t = Line::new("S: ");
        match self.user.as_deref().filter(|_| self.echo) {
            Some(name) => t.lit_naming(line, name),
            None => t.lit(line),
        };
        push_transcript(&mut self.transcript, t, out);
        if let Some(open) = self.multi {
            match reply_code(line) {
                Some((c, false)) if c == open => {
                    self.multi = None;
                    self.reply(c, out);
                }
                _ => self.reply_text(open, line),
            }
            return;
        }
        match reply_code(line) {
            Some((c, true)) => self.multi = Some(c),
            Some((c, false)) => self.reply(c, out),
            None => {}
        }
    }

    fn upgraded(&self) -> bool {
        self.upgraded
    }

    fn server_gap(&mut self) {
        self.multi = None;
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        self.flush(Verdict::Unknown, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use crate::proto::{Session, TlsNote};

    const GREETING: &[u8] = b"220 (vsFTPd 3.0.3)\r\n";

    #[test]
    fn accepted_login_gives_user_password_and_transcript() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"USER alice\r\n"),
                (S, b"331 Please specify the password.\r\n"),
                (C, b"PASS s3cret pass\r\n"),
                (S, b"230 Login successful.\r\n"),
                (C, b"SYST\r\n"),
                (S, b"215 UNIX Type: L8\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 1);
        let l = &out.logins[0];
        assert_eq!(l.proto, Proto::Ftp);
        assert_eq!(l.mechanism, "USER/PASS");
        assert_eq!(l.user_name(), Some("alice"));
        assert_eq!(l.secret.expose(), "s3cret pass");
        assert_eq!(l.cred, Cred::Password);
        assert_eq!(l.verdict, Verdict::Accepted);
        assert_eq!(l.tls, TlsNote::NotOffered);
        assert_eq!(l.ts, Timestamp::from_secs(1_003));
        assert_eq!(
            full(&l.transcript),
            vec![
                "S: 220 (vsFTPd 3.0.3)",
                "C: USER alice",
                "S: 331 Please specify the password.",
                "C: PASS s3cret pass",
                "S: 230 Login successful."
            ]
        );
        assert!(!out.tls);
    }

    #[test]
    fn refused_login_then_retry_gives_two_logins() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"USER alice\r\n"),
                (S, b"331 Please specify the password.\r\n"),
                (C, b"PASS wrong\r\n"),
                (S, b"530 Login incorrect.\r\n"),
                (C, b"user alice\r\n"),
                (S, b"331 Please specify the password.\r\n"),
                (C, b"pass right\r\n"),
                (S, b"230 Login successful.\r\n"),
            ],
        );
        let got: Vec<_> = out.logins.iter().map(|l| (l.user_name(), l.secret.expose(), l.verdict)).collect();
        assert_eq!(got, vec![(Some("alice"), "wrong", Verdict::Refused), (Some("alice"), "right", Verdict::Accepted)]);
    }

    #[test]
    fn login_without_reply_is_unknown_at_close() {
        let out = run_both(
            Ftp::default,
            &[(S, GREETING), (C, b"USER bob\r\n"), (S, b"331 Password?\r\n"), (C, b"PASS pw\r\n")],
        );
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].verdict, Verdict::Unknown);
        assert_eq!(out.logins[0].secret.expose(), "pw");
    }

    #[test]
    fn unanswered_login_is_emitted_unknown_when_the_next_command_comes() {
        let out = run_both(
            Ftp::default,
            &[(C, b"USER bob\r\n"), (C, b"PASS first\r\n"), (C, b"PASS second\r\n"), (S, b"530 Login incorrect.\r\n")],
        );
        let got: Vec<_> = out.logins.iter().map(|l| (l.secret.expose(), l.verdict)).collect();
        assert_eq!(got, vec![("first", Verdict::Unknown), ("second", Verdict::Refused)]);
    }

    #[test]
    fn anonymous_login_is_reported() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"USER anonymous\r\n"),
                (S, b"331 Please specify the password.\r\n"),
                (C, b"PASS guest@example.com\r\n"),
                (S, b"230 Login successful.\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].user_name(), Some("anonymous"));
        assert_eq!(out.logins[0].secret.expose(), "guest@example.com");
    }

    #[test]
    fn empty_pass_and_user_alone_report_nothing() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"USER ftp\r\n"),
                (S, b"331 Please specify the password.\r\n"),
                (C, b"PASS\r\n"),
                (S, b"230 Login successful.\r\n"),
                (C, b"USER carol\r\n"),
                (S, b"331 Please specify the password.\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 Goodbye.\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
    }

    #[test]
    fn acct_is_its_own_login_and_shares_the_verdict() {
        let out = run_both(
            Ftp::default,
            &[
                (S, b"220 mainframe FTP ready\r\n"),
                (C, b"USER dave\r\n"),
                (S, b"331 Send password please.\r\n"),
                (C, b"PASS pw1\r\n"),
                (S, b"332 Need account for login.\r\n"),
                (C, b"ACCT billing42\r\n"),
                (S, b"230 User logged in.\r\n"),
            ],
        );
        let got: Vec<_> =
            out.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.verdict)).collect();
        assert_eq!(
            got,
            vec![
                ("USER/PASS", Some("dave"), "pw1", Verdict::Accepted),
                ("ACCT", Some("dave"), "billing42", Verdict::Accepted)
            ]
        );
    }

    #[test]
    fn auth_tls_accepted_stops_parsing_and_reports_tls() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"AUTH TLS\r\n"),
                (S, b"234 Proceeding with negotiation.\r\n"),
                (C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\nPASS not-a-pass\r\n"),
                (S, b"\x16\x03\x03\x00\x7a\x02\r\n230 x\r\n"),
            ],
        );
        assert!(out.tls);
        assert!(out.logins.is_empty());
    }

    #[test]
    fn auth_tls_refused_keeps_parsing() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"AUTH TLS\r\n"),
                (S, b"530 Please login with USER and PASS.\r\n"),
                (C, b"USER alice\r\n"),
                (S, b"331 Please specify the password.\r\n"),
                (C, b"PASS pw\r\n"),
                (S, b"230 Login successful.\r\n"),
            ],
        );
        assert!(!out.tls);
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn login_after_feat_offered_auth_tls_is_offered_not_used() {
        let out = run_both(Ftp::default, &[
            (S, GREETING),
            (C, b"FEAT\r\n"),
            (S, b"211-Features:\r\n AUTH SSL\r\n AUTH TLS\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n PBSZ\r\n PROT\r\n"),
            (S, b" REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n"),
            (C, b"USER alice\r\n"),
            (S, b"331 Please specify the password.\r\n"),
            (C, b"PASS pw\r\n"),
            (S, b"230 Login successful.\r\n"),
        ]);
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].tls, TlsNote::OfferedNotUsed);
        assert_eq!(out.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn feat_without_auth_tls_leaves_not_offered() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"FEAT\r\n"),
                (S, b"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n211 End\r\n"),
                (C, b"USER alice\r\nPASS pw\r\n"),
                (S, b"331 Please specify the password.\r\n230 Login successful.\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].tls, TlsNote::NotOffered);
        assert_eq!(out.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn multi_line_reply_ends_only_at_its_own_code() {
        let out = run_both(
            Ftp::default,
            &[
                (S, b"220-Welcome to the archive\r\n220-530 users beware\r\n220 ready\r\n"),
                (C, b"USER alice\r\n"),
                (S, b"331 Password required for alice\r\n"),
                (C, b"PASS pw\r\n"),
                (S, b"230-Last login: yesterday\r\n530 is just text here\r\n230 User alice logged in\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn gap_drops_the_partial_line() {
        let mut f = Ftp::default();
        let mut out = crate::proto::Logins::default();
        let ts = Timestamp::from_secs(1);
        f.on_data(C, b"USER alice\r\nPASS sec", ts, &mut out);
        f.on_gap(C, 100);
        f.on_data(C, b"ret\r\n", ts, &mut out);
        f.on_close(ts, &mut out);
        assert!(out.logins.is_empty());
    }

    #[test]
    fn no_transcript_line_shows_a_password_of_any_attempt_once_redacted() {
        let out = run_both(
            Ftp::default,
            &[
                (S, GREETING),
                (C, b"USER alice\r\nPASS first pw\r\n"),
                (S, b"331 Please specify the password.\r\n530 Login incorrect.\r\n"),
                (C, b"USER alice\r\nPASS 530\r\n"),
                (S, b"331 Please specify the password.\r\n530 Login incorrect.\r\n"),
                (C, b"USER dave\r\nPASS pw1\r\n"),
                (S, b"331 Password required for dave\r\n332 Need account.\r\n"),
                (C, b"ACCT billing42\r\n"),
                (S, b"230 User logged in.\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 4);
        assert_no_secret_shown(&out, &[b"first pw", b"pw1", b"billing42"]);
        // A password equal to a word of the server's text: its slot is where PASS put it, the reply intact.
        let last = &out.logins[3];
        let shown: Vec<String> = last.transcript.iter().map(|t| t.render(crate::secret::Reveal::Redacted)).collect();
        let pw530 = &out.logins[1].secret;
        assert!(shown.contains(&format!("C: PASS {}", pw530.redacted())), "{shown:?}");
        assert!(shown.contains(&"S: 530 Login incorrect.".to_string()), "{shown:?}");
        // The slot of an attempt's own password holds the login's secret (one fingerprint).
        assert!(last.transcript.iter().flat_map(|t| t.secrets()).any(|s| s == &last.secret));
    }

    #[test]
    fn the_reply_naming_the_user_marks_the_name_so_a_mistyped_password_can_be_masked() {
        let out = run_both(
            Ftp::default,
            &[
                (C, b"USER hunter2\r\n"),
                (S, b"331 Password required for hunter2.\r\n"),
                (C, b"PASS x\r\n"),
                (S, b"530 no\r\n"),
            ],
        );
        let t = &out.logins[0].transcript;
        assert_eq!(t[1].users().collect::<Vec<_>>(), ["hunter2"], "{t:?}");
        assert_eq!(full(t)[1], "S: 331 Password required for hunter2.");
    }

    #[test]
    fn an_overlong_line_is_counted() {
        let long = [b"PASS ".to_vec(), vec![b'x'; crate::proto::MAX_LINE + 1], b"\r\n".to_vec()].concat();
        let mut f = Ftp::default();
        let mut out = crate::proto::Logins::default();
        for c in long.chunks(1000) {
            f.on_data(C, c, Timestamp::from_secs(1), &mut out);
        }
        assert_eq!(out.events, vec![crate::proto::Event::LineTooLong]);
    }
}
