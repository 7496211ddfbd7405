//! NNTP (RFC 3977) with its authentication extension (RFC 4643) and STARTTLS (RFC 4642).
//!
//! - `AUTHINFO USER name` (answered 381, password required), then `AUTHINFO PASS password`: 281
//!   accepts it, 481 refuses it (482 out of sequence and 502 say nothing about the password).
//! - `AUTHINFO SASL <mech> [initial-response]`, the exchange going on after 383 with base64 lines (shared
//!   with the mail protocols: [`SaslExchange`]): PLAIN, LOGIN, XOAUTH2/OAUTHBEARER tokens, CRAM-MD5
//!   material; 281/283 accept, 481 refuses.
//! - `STARTTLS` answered 382 ends the parse; `STARTTLS` among the `CAPABILITIES` marks later logins
//!   [`TlsNote::OfferedNotUsed`](super::TlsNote::OfferedNotUsed).
//!
//! Replies are lines `ddd text`; the multi-line ones (capabilities, lists, articles: 100, 101, 215, 220,
//! 221, 222, 224, 225, 230, 231, and 211 after `LISTGROUP`) run to a line `.`, and their lines are data:
//! an article body line `281 ok` accepts nothing. Data lines are not kept in transcripts, only counted
//! as skipped by the reply's line.

use super::ber::Exchange;
use super::lines::{Keyword, LineProto, Lines, split_word};
use super::sasl::{Kind, Names, SaslExchange, Step, cred_of, response_line};
use super::{Cred, Line, Login, LoginSink, Mark, Proto, Verdict, secret, text};
use crate::secret::Text;
use crate::time::Timestamp;

/// The mechanism names of `AUTHINFO SASL`.
const NAMES: Names = [
    "AUTHINFO SASL PLAIN",
    "AUTHINFO SASL LOGIN",
    "AUTHINFO SASL XOAUTH2",
    "AUTHINFO SASL OAUTHBEARER",
    "AUTHINFO SASL CRAM-MD5",
];

/// One NNTP connection.
pub type Nntp = Lines<State>;

#[derive(Default, Debug)]
pub struct State {
    ex: Exchange,
    /// The last `AUTHINFO USER`.
    user: Option<String>,
    /// An `AUTHINFO SASL` exchange in progress.
    sasl: Option<SaslExchange>,
    /// The last command was `LISTGROUP` (its 211 reply is multi-line).
    listgroup: bool,
    /// The last command was `CAPABILITIES` (its lines may name STARTTLS).
    capabilities: bool,
    /// Inside a multi-line reply: data lines until `.`.
    data: bool,
    /// Data lines of the current multi-line reply (shown as one count in the transcript).
    data_lines: u64,
    starttls: bool,
    tls_offered: bool,
    upgraded: bool,
}

impl State {
    fn attempt(
        &mut self,
        mechanism: &'static str,
        user: Option<Text>,
        s: crate::secret::Secret,
        cred: Cred,
        ts: Timestamp,
        out: &mut dyn LoginSink,
    ) {
        if s.is_empty() {
            return;
        }
        let l = Login::attempt(Proto::Nntp, mechanism, user, s, cred, self.tls_offered, ts);
        self.ex.attempt(l, out);
    }

    fn sasl_step(&mut self, step: Step, mechanism: &'static str, ts: Timestamp, out: &mut dyn LoginSink) {
        if let Step::Cred(d) = step {
            self.attempt(mechanism, d.user, d.secret, d.cred, ts, out);
        }
    }
}

/// A reply code (`ddd` then a space or the end of the line).
fn code(line: &[u8]) -> Option<u16> {
    let c = line.get(..3)?;
    if !c.iter().all(u8::is_ascii_digit) || !matches!(line.get(3), None | Some(b' ')) {
        return None;
    }
    Some(c.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
}

impl LineProto for State {
    fn client_line(&mut self, line: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        if let Some(mut ex) = self.sasl.take() {
            let step = ex.response(line);
            if !matches!(step, Step::NotMine) {
                let mech = ex.mechanism(&NAMES);
                self.ex.put(response_line("C: ", line, cred_of(&step)), out);
                if !matches!(step, Step::Cancelled) {
                    self.sasl = Some(ex);
                }
                self.sasl_step(step, mech, ts, out);
                return;
            }
        }
        let (word, arg) = split_word(line);
        let cmd = Keyword::new(word);
        self.listgroup = cmd.as_slice() == b"LISTGROUP";
        self.capabilities = cmd.as_slice() == b"CAPABILITIES";
        if cmd.as_slice() != b"AUTHINFO" {
            self.starttls = cmd.as_slice() == b"STARTTLS";
            self.ex.put(Line::lit_line("C: ", line), out);
            return;
        }
        let (sub, rest) = split_word(arg);
        match Keyword::new(sub).as_slice() {
            b"USER" => {
                self.ex.put(Line::marked("C: ", line, &[Mark::User(rest)]), out);
                self.user = Some(text(rest)).filter(|u| !u.is_empty());
            }
            b"PASS" => {
                let s = secret(rest);
                self.ex.put(Line::marked("C: ", line, &[Mark::Secret(rest, &s)]), out);
                let user = self.user.as_deref().map(Text::user);
                self.attempt("AUTHINFO USER/PASS", user, s, Cred::Password, ts, out);
            }
            b"SASL" => {
                let (mech, initial) = split_word(rest);
                let mut ex = SaslExchange::new(Kind::parse(mech));
                let name = ex.mechanism(&NAMES);
                let step = if initial.is_empty() { Step::More } else { ex.initial(initial) };
                let blob = secret(initial.trim_ascii());
                let mark = match cred_of(&step) {
                    Some(c) => Mark::Wire(initial, c, &blob),
                    None => Mark::Secret(initial, &blob),
                };
                self.ex.put(Line::marked("C: ", line, &[mark]), out);
                self.sasl = Some(ex);
                self.sasl_step(step, name, ts, out);
            }
            _ => self.ex.put(Line::lit_line("C: ", line), out),
        }
    }

    fn server_line(&mut self, line: &[u8], out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        if self.data {
            if line == b"." {
                self.data = false;
                let n = std::mem::take(&mut self.data_lines);
                self.ex.put(Line::lit_line("S: ", format!("({n} data lines) .").as_bytes()), out);
            } else {
                self.data_lines += 1;
                if self.capabilities && line.trim_ascii().eq_ignore_ascii_case(b"STARTTLS") {
                    self.tls_offered = true;
                }
            }
            return;
        }
        let mut l = Line::new("S: ");
        match self.user.as_deref() {
            Some(n) => l.lit_naming(line, n),
            None => l.lit(line),
        };
        self.ex.put(l, out);
        let Some(c) = code(line) else { return };
        match c {
            100 | 101 | 215 | 220..=222 | 224 | 225 | 230 | 231 => self.data = true,
            211 if self.listgroup => self.data = true,
            281 | 283 => {
                self.sasl = None;
                self.ex.settle(Verdict::Accepted, out);
            }
            481 => {
                self.sasl = None;
                self.ex.settle(Verdict::Refused, out);
            }
            382 if self.starttls => {
                self.ex.settle(Verdict::Unknown, out);
                self.upgraded = true;
                out.on_tls();
            }
            381 | 383 => {}
            _ => self.sasl = None,
        }
    }

    fn upgraded(&self) -> bool {
        self.upgraded
    }

    fn server_gap(&mut self) {
        self.data = false;
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        self.ex.close(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;
    use crate::reassembly::Side;

    const GREETING: &[u8] = b"200 news.more.lab NNTP lab server ready (posting ok)\r\n";

    fn summary(got: &super::super::Logins) -> Vec<(&str, Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn authinfo_user_pass_accepted_by_281_refused_by_481() {
        let got = run_both(
            Nntp::default,
            &[
                (S, GREETING),
                (C, b"AUTHINFO USER alice\r\n"),
                (S, b"381 Password required\r\n"),
                (C, b"AUTHINFO PASS wrong one\r\n"),
                (S, b"481 Authentication failed\r\n"),
                (C, b"AUTHINFO USER alice\r\n"),
                (S, b"381 Password required\r\n"),
                (C, b"AUTHINFO PASS Nntp-Al1ce\r\n"),
                (S, b"281 Authentication accepted\r\n"),
            ],
        );
        assert_eq!(
            summary(&got),
            vec![
                ("AUTHINFO USER/PASS", Some("alice"), "wrong one", Verdict::Refused),
                ("AUTHINFO USER/PASS", Some("alice"), "Nntp-Al1ce", Verdict::Accepted),
            ]
        );
        let t = full(&got.logins[1].transcript);
        assert_eq!(t.last().map(String::as_str), Some("S: 281 Authentication accepted"));
        assert_no_secret_shown(&got, &[b"wrong one", b"Nntp-Al1ce"]);
    }

    #[test]
    fn authinfo_sasl_plain_with_an_initial_response_or_after_383() {
        let got = run_both(
            Nntp::default,
            &[
                (S, GREETING),
                // \0bob\0Sasl-nntp
                (C, b"AUTHINFO SASL PLAIN AGJvYgBTYXNsLW5udHA=\r\n"),
                (S, b"281 Authentication accepted\r\n"),
                (C, b"AUTHINFO SASL PLAIN\r\n"),
                (S, b"383 \r\n"),
                // \0bob\0bad
                (C, b"AGJvYgBiYWQ=\r\n"),
                (S, b"481 Authentication failed\r\n"),
                (C, b"LIST\r\n"),
            ],
        );
        assert_eq!(
            summary(&got),
            vec![
                ("AUTHINFO SASL PLAIN", Some("bob"), "Sasl-nntp", Verdict::Accepted),
                ("AUTHINFO SASL PLAIN", Some("bob"), "bad", Verdict::Refused),
            ]
        );
        assert_no_secret_shown(&got, &[b"Sasl-nntp", b"bad"]);
    }

    #[test]
    fn multi_line_data_is_not_read_as_replies_and_starttls_in_capabilities_is_offered() {
        let got = run_both(
            Nntp::default,
            &[
                (S, GREETING),
                (C, b"CAPABILITIES\r\n"),
                (S, b"101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\nAUTHINFO USER SASL\r\n.\r\n"),
                (C, b"ARTICLE 1\r\n"),
                (S, b"220 1 <a@lab> article\r\nSubject: x\r\n\r\n281 is just text\r\nAUTHINFO PASS no\r\n.\r\n"),
                (C, b"AUTHINFO USER carol\r\nAUTHINFO PASS pw\r\n"),
                (S, b"381 more\r\n"),
                (C, b"LISTGROUP lab.test\r\n"),
                (S, b"211 2 1 2 lab.test\r\n1\r\n481\r\n.\r\n"),
                (S, b"481 Authentication failed\r\n"),
            ],
        );
        assert_eq!(summary(&got), vec![("AUTHINFO USER/PASS", Some("carol"), "pw", Verdict::Refused)]);
        assert_eq!(got.logins[0].tls, super::super::TlsNote::OfferedNotUsed);
    }

    #[test]
    fn starttls_answered_382_ends_the_parse() {
        let got = run_both(
            Nntp::default,
            &[
                (S, GREETING),
                (C, b"STARTTLS\r\n"),
                (S, b"382 Continue with TLS negotiation\r\n"),
                (C, b"\x16\x03\x01\x00\x10AUTHINFO PASS hidden\r\n"),
                (S, b"281 ok\r\n"),
            ],
        );
        assert!(got.tls && got.logins.is_empty());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (S, GREETING.to_vec()),
            (C, b"AUTHINFO USER a\r\nAUTHINFO PASS p\r\n".to_vec()),
            (S, b"381 more\r\n481 no\r\n".to_vec()),
            (C, b"AUTHINFO SASL PLAIN\r\nAGEAcA==\r\n".to_vec()),
            (S, b"383 \r\n281 ok\r\n".to_vec()),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Nntp::default, &refs);
        }
    }
}
