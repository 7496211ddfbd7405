//! IRC (RFC 1459/2812, IRCv3 SASL and STARTTLS): the passwords a client sends in clear.
//!
//! - `PASS <password>`, the server (connection) password, before registration: accepted by the welcome
//!   (001), refused by 464 ERR_PASSWDMISMATCH or an `ERROR` naming the password (ngircd sends only
//!   `ERROR :Access denied: Bad password?`). Its user is the nick the client registers with.
//! - `OPER <name> <password>`: accepted by 381 RPL_YOUREOPER, refused by 464 or 491 ERR_NOOPERHOST.
//! - NickServ: `PRIVMSG NickServ :IDENTIFY [account] <password>`, and the `NS`/`NICKSERV` aliases. The
//!   verdict is the services' NOTICE when it is a known phrase ("you are now identified", "password
//!   accepted" / "invalid password", "password incorrect"); the line is a leak even when no services
//!   answer, and a login still waiting after a whole transcript of lines is reported without a verdict
//!   (services answer at once).
//! - IRCv3 SASL: `AUTHENTICATE PLAIN`, then `AUTHENTICATE <base64>` (in 400-byte pieces, `+` for an empty
//!   one, `*` to abort): 903 RPL_SASLSUCCESS accepts, 904/905 refuse. Other mechanisms (EXTERNAL,
//!   SCRAM-SHA-256) carry no password; their responses are slots all the same.
//! - `STARTTLS` answered 670 RPL_STARTTLS ends the parse: what follows is TLS. A `CAP LS` reply listing
//!   `tls` marks later logins [`TlsNote::OfferedNotUsed`](super::TlsNote::OfferedNotUsed).
//!
//! Messages are lines (`@tags :prefix COMMAND params :trailing`), split by [`Lines`]; the transcript is
//! the connection's recent lines ([`Recent`]), secrets as slots, nicks and account names as user names.

use super::ber::Recent;
use super::lines::{Keyword, LineProto, Lines, contains_ci, starts_ci};
use super::sasl::{self, b64};
use super::{Cred, Event, Line, Login, LoginSink, MAX_TRANSCRIPT, Mark, Proto, Verdict, secret, text};
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

/// Logins awaiting their answer: a registration, an OPER, a SASL exchange, a NickServ IDENTIFY or two.
/// More is a client that sends logins without waiting: the oldest is reported without a verdict
/// ([`Event::PendingFull`]).
const MAX_PENDING: usize = 4;
/// Lines of context a new login copies from the connection's recent ones: the rest of its transcript
/// is left for what follows, up to the answer (an OPER after a long MOTD still gets its 381).
const CONTEXT: usize = 8;
/// IRCv3 SASL sends its base64 in pieces of 400 bytes; a PLAIN response is short. Longer is no login.
const MAX_SASL: usize = 2048;

/// One IRC connection.
pub type Irc = Lines<State>;

/// What answers a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// `PASS`: the welcome (001) or 464.
    Welcome,
    /// `OPER`: 381, or 464/491.
    Oper,
    /// SASL: 903, or 904/905.
    Sasl,
    /// NickServ: its NOTICE.
    NickServ,
}

#[derive(Default, Debug)]
enum SaslStep {
    #[default]
    None,
    /// `AUTHENTICATE PLAIN` sent: the base64 pieces so far.
    Plain(Vec<u8>),
    /// Another mechanism: its responses are followed, not decoded.
    Other,
}

/// What an IRC connection keeps between lines.
#[derive(Default, Debug)]
pub struct State {
    recent: Recent,
    pending: Vec<(Wait, Login)>,
    /// The last `NICK`.
    nick: Option<String>,
    sasl: SaslStep,
    /// `STARTTLS` sent, 670 not seen yet.
    starttls: bool,
    tls_offered: bool,
    upgraded: bool,
}

/// A message without its tags and prefix: the command word and the rest.
fn command(line: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let mut rest = line;
    if rest.first() == Some(&b'@') {
        rest = after_word(rest);
    }
    let mut prefix: &[u8] = b"";
    if rest.first() == Some(&b':') {
        prefix = word(rest).get(1..).unwrap_or_default();
        rest = after_word(rest);
    }
    (prefix, word(rest), after_word(rest))
}

fn word(b: &[u8]) -> &[u8] {
    let b = b.trim_ascii_start();
    &b[..memchr::memchr(b' ', b).unwrap_or(b.len())]
}

fn after_word(b: &[u8]) -> &[u8] {
    let b = b.trim_ascii_start();
    match memchr::memchr(b' ', b) {
        Some(i) => b.get(i + 1..).unwrap_or_default().trim_ascii_start(),
        None => &[],
    }
}

/// The parameters of a message: the middle ones, then the trailing one (after ` :`), as sub-slices.
fn params(mut rest: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    // IRC allows 15 parameters; past that the rest is one.
    while !rest.is_empty() && out.len() < 15 {
        if let Some(t) = rest.strip_prefix(b":") {
            out.push(t);
            return out;
        }
        out.push(word(rest));
        rest = after_word(rest);
    }
    out
}

/// The words of a NickServ command (`IDENTIFY [account] password`): split on spaces, as services do.
fn words(b: &[u8]) -> Vec<&[u8]> {
    b.split(|&c| c == b' ').filter(|w| !w.is_empty()).take(4).collect()
}

impl State {
    fn push(&mut self, line: Line, out: &mut dyn LoginSink) {
        // A login that waited a whole transcript of lines gets no answer (no services, or a server that
        // ignores it): reported without a verdict instead of counting every later line as dropped.
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].1.transcript.len() >= MAX_TRANSCRIPT {
                let (_, l) = self.pending.remove(i);
                l.decide(Verdict::Unknown, out);
            } else {
                i += 1;
            }
        }
        self.recent.push(line, self.pending.iter_mut().map(|(_, l)| l), out);
    }

    fn settle(&mut self, w: Wait, v: Verdict, out: &mut dyn LoginSink) {
        if let Some(i) = self.pending.iter().position(|(x, _)| *x == w) {
            let (_, l) = self.pending.remove(i);
            l.decide(v, out);
        }
    }

    fn waits(&self, w: Wait) -> bool {
        self.pending.iter().any(|(x, _)| *x == w)
    }

    /// A login whose transcript line is already pushed.
    fn attempt(
        &mut self,
        w: Wait,
        mechanism: &'static str,
        user: Option<Text>,
        secret: Secret,
        ts: Timestamp,
        out: &mut dyn LoginSink,
    ) {
        if secret.is_empty() {
            return;
        }
        // A second login of the same kind before the first's answer: the first gets none.
        self.settle(w, Verdict::Unknown, out);
        if self.pending.len() >= MAX_PENDING {
            out.on_event(Event::PendingFull);
            let (_, l) = self.pending.remove(0);
            l.decide(Verdict::Unknown, out);
        }
        let l = Login::attempt(Proto::Irc, mechanism, user, secret, Cred::Password, self.tls_offered, ts);
        let mut t = self.recent.snapshot();
        t.drain(..t.len().saturating_sub(CONTEXT));
        self.pending.push((w, l.with_transcript(t)));
    }

    fn nick_user(&self) -> Option<Text> {
        self.nick.as_deref().map(Text::user)
    }

    /// `AUTHENTICATE <arg>`.
    fn authenticate(&mut self, line: &[u8], arg: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        match std::mem::take(&mut self.sasl) {
            SaslStep::None => {
                self.push(Line::lit_line("C: ", line), out);
                if arg.eq_ignore_ascii_case(b"PLAIN") {
                    self.sasl = SaslStep::Plain(Vec::new());
                } else if arg != b"*" {
                    self.sasl = SaslStep::Other;
                }
            }
            SaslStep::Other => {
                let l = sasl::response_line("C: ", line, None);
                self.push(l, out);
                if arg != b"*" {
                    self.sasl = SaslStep::Other;
                }
            }
            SaslStep::Plain(mut so_far) => {
                if arg == b"*" {
                    self.push(Line::lit_line("C: ", line), out);
                    return;
                }
                if arg != b"+" {
                    so_far.extend_from_slice(arg);
                }
                if arg.len() == 400 && so_far.len() < MAX_SASL {
                    // More pieces follow.
                    self.push(sasl::response_line("C: ", line, None), out);
                    self.sasl = SaslStep::Plain(so_far);
                    return;
                }
                let d = if so_far.len() <= MAX_SASL {
                    b64(&so_far).and_then(|raw| sasl::plain_raw(&raw))
                } else {
                    out.on_event(Event::MessageTooLong);
                    None
                };
                let cred = d.as_ref().map(|d| &d.secret);
                let l = if arg == b"+" { Line::lit_line("C: ", line) } else { sasl::response_line("C: ", line, cred) };
                self.push(l, out);
                if let Some(d) = d {
                    self.attempt(Wait::Sasl, "SASL PLAIN", d.user, d.secret, ts, out);
                }
            }
        }
    }

    /// A NickServ command's text (`IDENTIFY [account] password`).
    fn nickserv(&mut self, line: &[u8], text_: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let w = words(text_);
        let identify = w.first().is_some_and(|c| c.eq_ignore_ascii_case(b"IDENTIFY"));
        let (account, pw) = match w.as_slice() {
            [_, pw] => (None, *pw),
            [_, account, pw, ..] => (Some(*account), *pw),
            _ => (None, &b""[..]),
        };
        if !identify || pw.is_empty() {
            self.push(Line::lit_line("C: ", line), out);
            return;
        }
        let s = secret(pw);
        let mut marks = Vec::new();
        if let Some(a) = account {
            marks.push(Mark::User(a));
        }
        marks.push(Mark::Secret(pw, &s));
        self.push(Line::marked("C: ", line, &marks), out);
        let user = match account {
            Some(a) => super::user(a),
            None => self.nick_user(),
        };
        self.attempt(Wait::NickServ, "NickServ IDENTIFY", user, s, ts, out);
    }

    /// A NOTICE from NickServ: its verdict on an IDENTIFY, when it is a known phrase.
    fn nickserv_notice(&mut self, msg: &[u8], out: &mut dyn LoginSink) {
        if !self.waits(Wait::NickServ) {
            return;
        }
        let accepted = ["you are now identified", "password accepted", "you are now logged in"];
        let refused = ["invalid password", "password incorrect", "incorrect password", "authentication failed"];
        if accepted.iter().any(|p| contains_ci(msg, p.as_bytes())) {
            self.settle(Wait::NickServ, Verdict::Accepted, out);
        } else if refused.iter().any(|p| contains_ci(msg, p.as_bytes())) {
            self.settle(Wait::NickServ, Verdict::Refused, out);
        }
    }
}

impl LineProto for State {
    fn client_line(&mut self, line: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        let (_, cmd, rest) = command(line);
        let cmd = Keyword::new(cmd);
        let p = params(rest);
        match cmd.as_slice() {
            b"PASS" => {
                let pw = p.first().copied().unwrap_or_default();
                let s = secret(pw);
                self.push(Line::marked("C: ", line, &[Mark::Secret(pw, &s)]), out);
                let user = self.nick_user();
                self.attempt(Wait::Welcome, "PASS", user, s, ts, out);
            }
            b"NICK" => {
                let n = p.first().copied().unwrap_or_default();
                self.push(Line::marked("C: ", line, &[Mark::User(n)]), out);
                let n = text(n);
                if !n.is_empty() {
                    // The nick the server password was sent for.
                    for (w, l) in &mut self.pending {
                        if *w == Wait::Welcome && l.user.is_none() {
                            l.user = Some(Text::user(&n));
                        }
                    }
                    self.nick = Some(n);
                }
            }
            b"OPER" => {
                let (name, pw) = (p.first().copied().unwrap_or_default(), p.get(1).copied().unwrap_or_default());
                let s = secret(pw);
                self.push(Line::marked("C: ", line, &[Mark::User(name), Mark::Secret(pw, &s)]), out);
                self.attempt(Wait::Oper, "OPER", super::user(name), s, ts, out);
            }
            b"PRIVMSG" | b"NOTICE" if p.first().is_some_and(|t| starts_ci(t, b"NickServ")) && p.len() >= 2 => {
                let msg = p.get(1).copied().unwrap_or_default();
                self.nickserv(line, msg, ts, out);
            }
            b"NS" | b"NICKSERV" => self.nickserv(line, rest, ts, out),
            b"AUTHENTICATE" => {
                let arg = p.first().copied().unwrap_or_default();
                self.authenticate(line, arg, ts, out);
            }
            b"STARTTLS" => {
                self.starttls = true;
                self.push(Line::lit_line("C: ", line), out);
            }
            _ => self.push(Line::lit_line("C: ", line), out),
        }
    }

    fn server_line(&mut self, line: &[u8], out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        let mut l = Line::new("S: ");
        match self.nick.as_deref() {
            Some(n) => l.lit_naming(line, n),
            None => l.lit(line),
        };
        self.push(l, out);
        let (prefix, cmd, rest) = command(line);
        match cmd {
            b"001" => self.settle(Wait::Welcome, Verdict::Accepted, out),
            b"464" if self.waits(Wait::Oper) => self.settle(Wait::Oper, Verdict::Refused, out),
            b"464" => self.settle(Wait::Welcome, Verdict::Refused, out),
            // ngircd answers a wrong server password with `ERROR :Access denied: Bad password?` alone.
            b"ERROR" if contains_ci(rest, b"password") => self.settle(Wait::Welcome, Verdict::Refused, out),
            b"381" => self.settle(Wait::Oper, Verdict::Accepted, out),
            b"491" => self.settle(Wait::Oper, Verdict::Refused, out),
            b"903" => {
                self.sasl = SaslStep::None;
                self.settle(Wait::Sasl, Verdict::Accepted, out);
            }
            b"904" | b"905" => {
                self.sasl = SaslStep::None;
                self.settle(Wait::Sasl, Verdict::Refused, out);
            }
            b"902" | b"906" | b"907" => {
                self.sasl = SaslStep::None;
                self.settle(Wait::Sasl, Verdict::Unknown, out);
            }
            b"670" if self.starttls => {
                for (_, l) in std::mem::take(&mut self.pending) {
                    l.decide(Verdict::Unknown, out);
                }
                self.upgraded = true;
                out.on_tls();
            }
            b"691" => self.starttls = false,
            b"NOTICE" | b"PRIVMSG" if starts_ci(prefix, b"NickServ") => {
                let p = params(rest);
                self.nickserv_notice(p.get(1).copied().unwrap_or_default(), out);
            }
            b"CAP" => {
                let p = params(rest);
                let is_ls = p.get(1).is_some_and(|s| s.eq_ignore_ascii_case(b"LS"));
                let caps = p.last().copied().unwrap_or_default();
                if is_ls && caps.split(|&c| c == b' ').any(|c| c.eq_ignore_ascii_case(b"tls")) {
                    self.tls_offered = true;
                }
            }
            _ => {}
        }
    }

    fn upgraded(&self) -> bool {
        self.upgraded
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        for (_, l) in std::mem::take(&mut self.pending) {
            l.decide(Verdict::Unknown, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;
    use base64::Engine as _;

    fn summary(got: &super::super::Logins) -> Vec<(&str, Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn server_password_accepted_by_the_welcome_names_the_nick() {
        let got = run_both(
            Irc::default,
            &[
                (C, b"PASS :Irc-server pass\r\nNICK alice\r\nUSER alice 0 * :Alice Lab\r\n"),
                (S, b":irc.lab 001 alice :Welcome to the Internet Relay Network alice!~alice@10.77.0.1\r\n"),
                (S, b":irc.lab 002 alice :Your host is irc.lab\r\n"),
            ],
        );
        assert_eq!(summary(&got), vec![("PASS", Some("alice"), "Irc-server pass", Verdict::Accepted)]);
        let t = full(&got.logins[0].transcript);
        assert_eq!(t[0], "C: PASS :Irc-server pass");
        assert!(t[3].starts_with("S: :irc.lab 001 alice"), "{t:?}");
        assert_no_secret_shown(&got, &[b"Irc-server pass"]);
    }

    #[test]
    fn a_wrong_server_password_is_refused_by_464() {
        let got = run_both(
            Irc::default,
            &[
                (C, b"PASS wrong\r\nNICK bob\r\nUSER bob 0 * :Bob\r\n"),
                (S, b":irc.lab 464 bob :Password incorrect\r\nERROR :Access denied: Bad password?\r\n"),
            ],
        );
        assert_eq!(summary(&got), vec![("PASS", Some("bob"), "wrong", Verdict::Refused)]);
    }

    #[test]
    fn an_error_naming_the_password_refuses_the_server_password_others_do_not() {
        let got = run_both(
            Irc::default,
            &[(C, b"PASS wrong\r\nNICK bob\r\nUSER bob 0 * :Bob\r\n"), (S, b"ERROR :Access denied: Bad password?\r\n")],
        );
        assert_eq!(summary(&got), vec![("PASS", Some("bob"), "wrong", Verdict::Refused)]);
        let got =
            run_both(Irc::default, &[(C, b"PASS pw\r\nNICK bob\r\n"), (S, b"ERROR :Closing link (ping timeout)\r\n")]);
        assert_eq!(summary(&got), vec![("PASS", Some("bob"), "pw", Verdict::Unknown)]);
    }

    #[test]
    fn oper_is_accepted_by_381_and_refused_by_464_or_491() {
        let got = run_both(
            Irc::default,
            &[
                (C, b"NICK carol\r\nUSER carol 0 * :Carol\r\n"),
                (S, b":irc.lab 001 carol :Welcome\r\n"),
                (C, b"OPER labop bad-oper-pw\r\n"),
                (S, b":irc.lab 464 carol :Password incorrect\r\n"),
                (C, b"OPER labop Oper-r1ght\r\n"),
                (S, b":irc.lab 381 carol :You are now an IRC Operator\r\n"),
                (C, b"OPER other x\r\n"),
                (S, b":irc.lab 491 carol :No O-lines for your host\r\n"),
            ],
        );
        assert_eq!(
            summary(&got),
            vec![
                ("OPER", Some("labop"), "bad-oper-pw", Verdict::Refused),
                ("OPER", Some("labop"), "Oper-r1ght", Verdict::Accepted),
                ("OPER", Some("other"), "x", Verdict::Refused),
            ]
        );
        assert_no_secret_shown(&got, &[b"bad-oper-pw", b"Oper-r1ght"]);
    }

    #[test]
    fn nickserv_identify_in_every_form_with_the_services_verdict_or_none() {
        let got = run_both(
            Irc::default,
            &[
                (C, b"NICK dave\r\nUSER dave 0 * :Dave\r\n"),
                (S, b":irc.lab 001 dave :Welcome\r\n"),
                (C, b"PRIVMSG NickServ :IDENTIFY Ns-pass-1\r\n"),
                (S, b":NickServ!NickServ@services.lab NOTICE dave :Password accepted - you are now recognized.\r\n"),
                (C, b"NS IDENTIFY daveacct Ns-pass-2\r\n"),
                (S, b":NickServ!NickServ@services.lab NOTICE dave :Invalid password for daveacct.\r\n"),
                (C, b"PRIVMSG nickserv@services.lab :identify Ns-pass-3\r\n"),
                (C, b"PRIVMSG #lab :IDENTIFY is not a NickServ command here\r\n"),
            ],
        );
        assert_eq!(
            summary(&got),
            vec![
                ("NickServ IDENTIFY", Some("dave"), "Ns-pass-1", Verdict::Accepted),
                ("NickServ IDENTIFY", Some("daveacct"), "Ns-pass-2", Verdict::Refused),
                ("NickServ IDENTIFY", Some("dave"), "Ns-pass-3", Verdict::Unknown),
            ]
        );
        assert_no_secret_shown(&got, &[b"Ns-pass-1", b"Ns-pass-2", b"Ns-pass-3"]);
    }

    #[test]
    fn an_identify_nobody_answers_is_reported_once_its_transcript_is_full_without_dropping_lines() {
        let mut conv: Vec<(Side, Vec<u8>)> = vec![(C, b"PRIVMSG NickServ :IDENTIFY lonely-pw\r\n".to_vec())];
        for i in 0..100 {
            conv.push((S, format!(":x!y@z PRIVMSG #lab :line {i}\r\n").into_bytes()));
        }
        let refs: Vec<(Side, &[u8])> = conv.iter().map(|(s, d)| (*s, d.as_slice())).collect();
        let got = run_both(Irc::default, &refs);
        assert_eq!(summary(&got), vec![("NickServ IDENTIFY", None, "lonely-pw", Verdict::Unknown)]);
        assert!(got.events.is_empty(), "{:?}", got.events);
    }

    #[test]
    fn sasl_plain_is_decoded_and_judged_by_903_or_904_other_mechanisms_give_nothing() {
        let b = base64::engine::general_purpose::STANDARD;
        let ok = format!("AUTHENTICATE {}\r\n", b.encode(b"erin\0erin\0Sasl-1rc-pw"));
        let ko = format!("AUTHENTICATE {}\r\n", b.encode(b"\0erin\0wrong-sasl"));
        let got = run_both(
            Irc::default,
            &[
                (C, b"CAP LS 302\r\nNICK erin\r\nUSER erin 0 * :Erin\r\n"),
                (S, b":irc.lab CAP * LS :multi-prefix sasl\r\n"),
                (C, b"CAP REQ :sasl\r\n"),
                (S, b":irc.lab CAP erin ACK :sasl\r\n"),
                (C, b"AUTHENTICATE SCRAM-SHA-256\r\n"),
                (S, b"AUTHENTICATE +\r\n"),
                (C, b"AUTHENTICATE biwsbj1lcmluLHI9ZnlrbyticmVzcG9uc2U=\r\n"),
                (S, b":irc.lab 904 erin :SASL authentication failed\r\n"),
                (C, b"AUTHENTICATE PLAIN\r\n"),
                (S, b"AUTHENTICATE +\r\n"),
                (C, ko.as_bytes()),
                (S, b":irc.lab 904 erin :SASL authentication failed\r\n"),
                (C, b"AUTHENTICATE PLAIN\r\n"),
                (S, b"AUTHENTICATE +\r\n"),
                (C, ok.as_bytes()),
                (S, b":irc.lab 900 erin erin!erin@x erin :You are now logged in as erin\r\n"),
                (S, b":irc.lab 903 erin :SASL authentication successful\r\n"),
                (C, b"CAP END\r\n"),
            ],
        );
        assert_eq!(
            summary(&got),
            vec![
                ("SASL PLAIN", Some("erin"), "wrong-sasl", Verdict::Refused),
                ("SASL PLAIN", Some("erin"), "Sasl-1rc-pw", Verdict::Accepted),
            ]
        );
        assert_no_secret_shown(&got, &[b"wrong-sasl", b"Sasl-1rc-pw"]);
        // The SCRAM response is a slot too.
        let all: Vec<String> =
            got.logins[1].transcript.iter().map(|t| t.render(crate::secret::Reveal::Redacted)).collect();
        assert!(all.iter().all(|l| !l.contains("biwsbj1")), "{all:?}");
    }

    #[test]
    fn sasl_in_400_byte_pieces_is_joined() {
        let b = base64::engine::general_purpose::STANDARD;
        let long_pw = "p".repeat(320);
        let blob = b.encode(format!("\0frank\0{long_pw}"));
        assert!(blob.len() > 400);
        let (a, rest) = blob.split_at(400);
        let conv = [
            format!("AUTHENTICATE PLAIN\r\nAUTHENTICATE {a}\r\nAUTHENTICATE {rest}\r\n"),
            ":irc.lab 903 frank :SASL authentication successful\r\n".to_string(),
        ];
        let got = run_both(Irc::default, &[(C, conv[0].as_bytes()), (S, conv[1].as_bytes())]);
        assert_eq!(summary(&got), vec![("SASL PLAIN", Some("frank"), long_pw.as_str(), Verdict::Accepted)]);
    }

    #[test]
    fn sasl_pieces_past_the_cap_give_no_login_and_are_counted() {
        let piece = format!("AUTHENTICATE {}\r\n", "A".repeat(400));
        let mut c = b"AUTHENTICATE PLAIN\r\n".to_vec();
        for _ in 0..8 {
            c.extend(piece.as_bytes());
        }
        let got = run_both(Irc::default, &[(C, &c), (S, b":irc.lab 904 x :SASL authentication failed\r\n")]);
        assert!(got.logins.is_empty());
        // The pieces after the cap are read as commands again (their long lines cut in the transcript).
        assert_eq!(got.events.iter().filter(|e| **e == Event::MessageTooLong).count(), 1, "{:?}", got.events);
    }

    #[test]
    fn starttls_accepted_ends_the_parse_and_a_tls_cap_marks_offered_not_used() {
        let got = run_both(
            Irc::default,
            &[
                (C, b"CAP LS\r\n"),
                (S, b":irc.lab CAP * LS :tls sasl\r\n"),
                (C, b"STARTTLS\r\n"),
                (S, b":irc.lab 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"),
                (C, b"\x16\x03\x01\x00\x10PASS hidden\r\n"),
            ],
        );
        assert!(got.tls && got.logins.is_empty());
        let got = run_both(
            Irc::default,
            &[(S, b":irc.lab CAP * LS :tls sasl\r\n"), (C, b"PASS pw\r\nNICK g\r\n"), (S, b":irc.lab 001 g :hi\r\n")],
        );
        assert_eq!(got.logins[0].tls, super::super::TlsNote::OfferedNotUsed);
    }

    #[test]
    fn tags_and_prefixes_are_skipped_and_chatter_is_not_a_login() {
        let got = run_both(
            Irc::default,
            &[
                (C, b"@label=1 :me PASS tagged-pw\r\n"),
                (C, b"PRIVMSG #lab :PASS hunter2 and OPER x y are just words\r\n"),
                (S, b"@time=2024 :irc.lab 001 me :hi\r\n"),
            ],
        );
        assert_eq!(summary(&got), vec![("PASS", None, "tagged-pw", Verdict::Accepted)]);
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, b"PASS srv\r\nNICK a\r\nUSER a 0 * :A\r\n".to_vec()),
            (S, b":irc.lab 001 a :hi\r\n".to_vec()),
            (C, b"OPER op pw\r\nAUTHENTICATE PLAIN\r\nAUTHENTICATE AGEAcHc=\r\n".to_vec()),
            (S, b":irc.lab 381 a :op\r\n:irc.lab 903 a :ok\r\n".to_vec()),
            (C, b"PRIVMSG NickServ :IDENTIFY acct pw2\r\n".to_vec()),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Irc::default, &refs);
        }
    }

    use crate::reassembly::Side;
}
