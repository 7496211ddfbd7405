//! SMTP submission and relay (RFC 5321, AUTH from RFC 4954, STARTTLS from RFC 3207): SASL `AUTH`
//! logins.
//!
//! Replies are `ddd-text` lines closed by a `ddd text` line. SMTP clients pipeline (RFC 2920: MAIL,
//! RCPT, DATA in one segment), so each client command queues what its reply means and each final reply
//! takes the oldest; `334` is always an AUTH continuation and takes nothing. 235 accepts a pending
//! login, 4xx/5xx refuse it. A reply to EHLO listing `STARTTLS` marks later logins
//! [`TlsNote::OfferedNotUsed`]; `STARTTLS` answered 220 ends the parse.
//!
//! The message itself is not commands: from `DATA` to the line `.` (or until DATA is answered with
//! anything but 354) client lines are skipped, and after `BDAT n` the next `n` bytes are; a mail that
//! quotes `AUTH PLAIN ...` is no login. The SASL exchange is `sasl::SaslExchange`: PLAIN
//! (inline or after `334`), LOGIN (user possibly inline), XOAUTH2/OAUTHBEARER, CRAM-MD5; `*` cancels.

use std::collections::VecDeque;

use super::lines::LineBuf;
use super::lines::{Keyword, split_word};
use super::sasl::{self, AUTH_NAMES, Kind, SaslExchange, Step};
use super::{Event, InProgress, Line, LoginSink, Mark, Proto, Session, Verdict, secret};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// Commands whose reply is still to come; a longer queue means we lost track, the oldest go
/// ([`Event::PendingFull`]).
const MAX_QUEUE: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Other,
    Ehlo,
    Auth,
    StartTls,
    Data,
}

/// One SMTP connection.
#[derive(Default, Debug)]
pub struct Smtp {
    client: LineBuf,
    server: LineBuf,
    /// BDAT chunk bytes still to skip on the client side.
    skip: u64,
    st: State,
}

#[derive(Default, Debug)]
struct State {
    /// The exchange, the login waiting for its answer, the STARTTLS offer.
    lg: InProgress,
    queue: VecDeque<Expect>,
    sasl: Option<SaslExchange>,
    /// Client lines are message content (after DATA) until `.`.
    body: bool,
    /// Set by `BDAT n`: bytes the client sends raw after this line.
    bdat: u64,
    upgraded: bool,
}

/// Reply code and whether more lines of the reply follow (`ddd-`).
fn reply_code(line: &[u8]) -> Option<(u16, bool)> {
    let c = line.get(..3)?;
    if !c.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = c.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None | Some(b' ') => Some((n, false)),
        Some(b'-') => Some((n, true)),
        Some(_) => None,
    }
}

impl State {
    fn expect(&mut self, e: Expect, out: &mut dyn LoginSink) {
        if self.queue.len() >= MAX_QUEUE {
            out.on_event(Event::PendingFull);
            self.queue.pop_front();
        }
        self.queue.push_back(e);
    }

    fn client_line(&mut self, line: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        if self.body {
            if line == b"." {
                self.body = false;
                self.lg.push(Line::lit_line("C: ", line), out);
                self.expect(Expect::Other, out);
            }
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
                    return self.lg.attempt(Proto::Smtp, mech, d, ts, out);
                }
                Step::Cancelled => {
                    self.sasl = None;
                    return;
                }
                Step::NotMine => self.sasl = None,
            }
        }
        self.lg.settle(Verdict::Unknown, out);
        let (cmd, arg) = split_word(line);
        let cmd = Keyword::new(cmd);
        if cmd.as_slice() != b"AUTH" {
            self.lg.push(Line::lit_line("C: ", line), out);
        }
        let e = match cmd.as_slice() {
            b"EHLO" | b"HELO" | b"LHLO" => Expect::Ehlo,
            b"AUTH" => {
                let (mech, initial) = split_word(arg.trim_ascii());
                let initial = initial.trim_ascii();
                let mut x = SaslExchange::new(Kind::parse(mech));
                let step = if initial.is_empty() { Step::More } else { x.initial(initial) };
                // The initial response (PLAIN's blob, LOGIN's user name) is a credential: a slot (the
                // decoded secret's, when it held one).
                let blob = secret(initial);
                let mark = match sasl::cred_of(&step) {
                    Some(s) => Mark::Wire(initial, s, &blob),
                    None => Mark::Secret(initial, &blob),
                };
                self.lg.push(Line::marked("C: ", line, &[mark]), out);
                if let Step::Cred(d) = step {
                    let m = x.mechanism(&AUTH_NAMES);
                    self.lg.attempt(Proto::Smtp, m, d, ts, out);
                }
                self.sasl = Some(x);
                Expect::Auth
            }
            b"STARTTLS" => Expect::StartTls,
            b"DATA" => {
                self.body = true;
                Expect::Data
            }
            b"BDAT" => {
                let (n, _last) = split_word(arg.trim_ascii());
                self.bdat = std::str::from_utf8(n).ok().and_then(|n| n.parse().ok()).unwrap_or(0);
                Expect::Other
            }
            _ => Expect::Other,
        };
        self.expect(e, out);
    }

    fn server_line(&mut self, line: &[u8], out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        self.lg.push(Line::lit_line("S: ", line), out);
        let Some((code, more)) = reply_code(line) else { return };
        if code == 250 && self.queue.front() == Some(&Expect::Ehlo) {
            let (kw, _) = split_word(line.get(4..).unwrap_or_default().trim_ascii());
            if kw.eq_ignore_ascii_case(b"STARTTLS") {
                self.lg.tls_offered = true;
            }
        }
        if code == 334 {
            // An AUTH continuation: CRAM-MD5's challenge.
            if let Some(x) = self.sasl.as_mut() {
                x.server_challenge(line.get(4..).unwrap_or_default(), out);
            }
        }
        if more || code == 334 {
            return;
        }
        let Some(e) = self.queue.pop_front() else { return }; // greeting
        match e {
            Expect::Other | Expect::Ehlo => {}
            Expect::Auth => {
                self.sasl = None;
                match code {
                    200..=299 => self.lg.settle(Verdict::Accepted, out),
                    400..=599 => self.lg.settle(Verdict::Refused, out),
                    _ => {}
                }
            }
            Expect::StartTls if code == 220 => {
                self.lg.settle(Verdict::Unknown, out);
                self.upgraded = true;
                out.on_tls();
            }
            Expect::StartTls => {}
            Expect::Data if code != 354 => self.body = false,
            Expect::Data => {}
        }
    }
}

impl Session for Smtp {
    fn on_data(&mut self, from: Side, mut data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let Smtp { client, server, skip, st } = self;
        if st.upgraded {
            return;
        }
        if from == Side::Server {
            return server.feed_counted(data, out, |l, out| st.server_line(l, out));
        }
        while !data.is_empty() && !st.upgraded {
            if *skip > 0 {
                let n = usize::try_from(*skip).unwrap_or(usize::MAX).min(data.len());
                *skip -= n as u64;
                data = data.get(n..).unwrap_or_default();
                continue;
            }
            // One line at a time: a BDAT line is followed by raw bytes.
            let end = memchr::memchr(b'\n', data).map_or(data.len(), |i| i + 1);
            let (head, rest) = data.split_at(end);
            client.feed_counted(head, out, |l, out| st.client_line(l, ts, out));
            *skip = std::mem::take(&mut st.bdat);
            data = rest;
        }
    }

    fn on_gap(&mut self, from: Side, len: u64) {
        match from {
            Side::Client if self.skip > len => self.skip -= len,
            Side::Client => {
                self.skip = 0;
                self.client.clear();
            }
            Side::Server => self.server.clear(),
        }
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        self.st.lg.settle(Verdict::Unknown, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Cred;
    use crate::proto::TlsNote;
    use crate::proto::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    const GREETING: &[u8] = b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n";
    const EHLO_REPLY: &[u8] = b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n";
    const EHLO_TLS_REPLY: &[u8] = b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";

    fn b(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

    fn summary(out: &crate::proto::Logins) -> Vec<(&'static str, Option<&str>, &str, Cred, Verdict)> {
        out.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.cred, l.verdict)).collect()
    }

    #[test]
    fn auth_plain_inline_accepted() {
        let auth = format!("AUTH PLAIN {}\r\n", b(b"\0alice@example.com\0s3cret"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client.example.org\r\n"),
                (S, EHLO_REPLY),
                (C, auth.as_bytes()),
                (S, b"235 2.7.0 Authentication successful\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 2.0.0 Bye\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![("AUTH PLAIN", Some("alice@example.com"), "s3cret", Cred::Password, Verdict::Accepted)]
        );
        let l = &out.logins[0];
        assert_eq!((l.proto, l.tls, l.ts), (Proto::Smtp, TlsNote::NotOffered, Timestamp::from_secs(1_003)));
        let t = full(&l.transcript);
        assert_eq!(t.first().map(String::as_str), Some("S: 220 mail.example.com ESMTP Postfix (Debian/GNU)"));
        assert_eq!(t.last().map(String::as_str), Some("S: 235 2.7.0 Authentication successful"));
        assert_eq!(t.len(), 11);
        assert_eq!(t[9], format!("C: {}", auth.trim_end()), "revealed, the AUTH line reads as sent");
    }

    #[test]
    fn auth_plain_after_334_refused_then_retry() {
        let r1 = format!("{}\r\n", b(b"\0alice\0wrong"));
        let r2 = format!("AUTH PLAIN {}\r\n", b(b"\0alice\0right"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_REPLY),
                (C, b"AUTH PLAIN\r\n"),
                (S, b"334 \r\n"),
                (C, r1.as_bytes()),
                (S, b"535 5.7.8 Error: authentication failed: authentication failure\r\n"),
                (C, r2.as_bytes()),
                (S, b"235 2.7.0 Authentication successful\r\n"),
            ],
        );
        assert_eq!(
            summary(&out),
            vec![
                ("AUTH PLAIN", Some("alice"), "wrong", Cred::Password, Verdict::Refused),
                ("AUTH PLAIN", Some("alice"), "right", Cred::Password, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn auth_login_with_prompts_and_inline_user() {
        let (u, p) = (format!("{}\r\n", b(b"alice")), format!("{}\r\n", b(b"pw1")));
        let inline = format!("AUTH LOGIN {}\r\n", b(b"bob"));
        let p2 = format!("{}\r\n", b(b"pw2"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_REPLY),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"334 VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"334 UGFzc3dvcmQ6\r\n"),
                (C, p.as_bytes()),
                (S, b"535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6\r\n"),
                (C, inline.as_bytes()),
                (S, b"334 UGFzc3dvcmQ6\r\n"),
                (C, p2.as_bytes()),
                (S, b"235 2.7.0 Authentication successful\r\n"),
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
    fn xoauth2_and_oauthbearer_give_tokens() {
        let x = format!("AUTH XOAUTH2 {}\r\n", b(b"user=bob@gmail.com\x01auth=Bearer ya29.a0tok\x01\x01"));
        let o =
            format!("{}\r\n", b(b"n,a=bob@gmail.com,\x01host=smtp.gmail.com\x01port=587\x01auth=Bearer zz.yy\x01\x01"));
        let out = run_both(Smtp::default, &[
            (S, b"220 smtp.gmail.com ESMTP a1sm123456wrb.1 - gsmtp\r\n"),
            (C, b"EHLO [127.0.0.1]\r\n"),
            (S, b"250-smtp.gmail.com at your service\r\n250-AUTH LOGIN PLAIN XOAUTH2 OAUTHBEARER\r\n250 SMTPUTF8\r\n"),
            (C, x.as_bytes()),
            (S, b"334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"),
            (C, b"\r\n"),
            (S, b"535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 https://support.google.com/mail/?p=BadCredentials\r\n"),
            (C, b"AUTH OAUTHBEARER\r\n"),
            (S, b"334 \r\n"),
            (C, o.as_bytes()),
            (S, b"235 2.7.0 Accepted\r\n"),
        ]);
        assert_eq!(
            summary(&out),
            vec![
                ("AUTH XOAUTH2", Some("bob@gmail.com"), "ya29.a0tok", Cred::Token, Verdict::Refused),
                ("AUTH OAUTHBEARER", Some("bob@gmail.com"), "zz.yy", Cred::Token, Verdict::Accepted),
            ]
        );
    }

    #[test]
    fn cram_md5_is_hash_only() {
        let r = format!("{}\r\n", b(b"tim b913a602c7eda7a495b4e6e7334d3890"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_REPLY),
                (C, b"AUTH CRAM-MD5\r\n"),
                (S, b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
                (C, r.as_bytes()),
                (S, b"235 2.7.0 Authentication successful\r\n"),
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
    fn unanswered_auth_is_unknown_at_close() {
        let auth = format!("AUTH PLAIN {}\r\n", b(b"\0carol\0pw"));
        let out =
            run_both(Smtp::default, &[(S, GREETING), (C, b"EHLO client\r\n"), (S, EHLO_REPLY), (C, auth.as_bytes())]);
        assert_eq!(summary(&out), vec![("AUTH PLAIN", Some("carol"), "pw", Cred::Password, Verdict::Unknown)]);
    }

    #[test]
    fn client_star_cancels() {
        let u = format!("{}\r\n", b(b"alice"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"334 VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"334 UGFzc3dvcmQ6\r\n"),
                (C, b"*\r\n"),
                (S, b"501 5.7.0 Authentication aborted\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 2.0.0 Bye\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
    }

    #[test]
    fn auth_login_then_quit_without_credentials_is_no_login() {
        // As in suricata-verify smtp-long-command: AUTH LOGIN, an over-long line, QUIT.
        let long = [b"A".repeat(crate::proto::MAX_LINE + 100), b"\r\n".to_vec()].concat();
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_REPLY),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"334 VXNlcm5hbWU6\r\n"),
                (C, &long),
                (S, b"500 5.5.0 Error: line too long\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 2.0.0 Bye\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"334 VXNlcm5hbWU6\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"334 UGFzc3dvcmQ6\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
    }

    #[test]
    fn starttls_accepted_stops_parsing() {
        let auth = format!("AUTH PLAIN {}\r\n", b(b"\0alice\0pw"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_TLS_REPLY),
                (C, b"STARTTLS\r\n"),
                (S, b"220 2.0.0 Ready to start TLS\r\n"),
                (C, &[b"\x16\x03\x01\x02\x00\x01\r\n".as_slice(), auth.as_bytes()].concat()),
                (S, b"235 2.7.0 x\r\n"),
            ],
        );
        assert!(out.tls);
        assert!(out.logins.is_empty());
    }

    #[test]
    fn auth_after_ehlo_offered_starttls_is_offered_not_used() {
        let auth = format!("AUTH PLAIN {}\r\n", b(b"\0alice\0pw"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_TLS_REPLY),
                (C, auth.as_bytes()),
                (S, b"235 2.7.0 Authentication successful\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].tls, TlsNote::OfferedNotUsed);
        assert!(!out.tls);
    }

    #[test]
    fn message_body_is_not_read_as_commands() {
        let quoted = format!(
            "Subject: how to\r\n\r\nType this:\r\nAUTH PLAIN {}\r\nSTARTTLS\r\n..\r\n.\r\n",
            b(b"\0bob\0not-a-login")
        );
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_REPLY),
                (C, b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"),
                (S, b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
                (C, quoted.as_bytes()),
                (S, b"250 2.0.0 Ok: queued as 4F1A2B\r\n"),
                (C, b"BDAT 29 LAST\r\nAUTH PLAIN AGJvYgBub3Bhc3M=\r\n"),
                (S, b"250 2.0.0 Ok: queued as 4F1A2C\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 2.0.0 Bye\r\n"),
            ],
        );
        assert!(out.logins.is_empty());
        assert!(!out.tls);
    }

    #[test]
    fn refused_data_returns_to_commands() {
        let auth = format!("AUTH PLAIN {}\r\n", b(b"\0alice\0pw"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"MAIL FROM:<a@example.org>\r\nDATA\r\n"),
                (S, b"250 2.1.0 Ok\r\n554 5.5.1 Error: no valid recipients\r\n"),
                (C, auth.as_bytes()),
                (S, b"235 2.7.0 Authentication successful\r\n"),
            ],
        );
        assert_eq!(summary(&out), vec![("AUTH PLAIN", Some("alice"), "pw", Cred::Password, Verdict::Accepted)]);
    }

    #[test]
    fn no_transcript_line_shows_a_secret_of_any_attempt_once_redacted() {
        let ir = format!("AUTH PLAIN {}\r\n", b(b"\0alice\0pw-plain"));
        let (u, p) = (format!("{}\r\n", b(b"bob")), format!("{}\r\n", b(b"pw-login")));
        let x = format!("AUTH XOAUTH2 {}\r\n", b(b"user=carol\x01auth=Bearer ya29.tok-xo\x01\x01"));
        let cram = format!("{}\r\n", b(b"tim b913a602c7eda7a495b4e6e7334d3890"));
        let out = run_both(
            Smtp::default,
            &[
                (S, GREETING),
                (C, b"EHLO client\r\n"),
                (S, EHLO_REPLY),
                (C, ir.as_bytes()),
                (S, b"535 5.7.8 Error: authentication failed\r\n"),
                (C, b"AUTH LOGIN\r\n"),
                (S, b"334 VXNlcm5hbWU6\r\n"),
                (C, u.as_bytes()),
                (S, b"334 UGFzc3dvcmQ6\r\n"),
                (C, p.as_bytes()),
                (S, b"535 5.7.8 Error: authentication failed\r\n"),
                (C, x.as_bytes()),
                (S, b"334 eyJzdGF0dXMiOiI0MDAifQ==\r\n"),
                (C, b"\r\n"),
                (S, b"535 5.7.8 Username and Password not accepted\r\n"),
                (C, b"AUTH CRAM-MD5\r\n"),
                (S, b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
                (C, cram.as_bytes()),
                (S, b"235 2.7.0 Authentication successful\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 4);
        assert_no_secret_shown(
            &out,
            &[
                b"pw-plain",
                b"\0alice\0pw-plain",
                b"bob",
                b"pw-login",
                b"ya29.tok-xo",
                b"b913a602c7eda7a495b4e6e7334d3890",
            ],
        );
    }
}
