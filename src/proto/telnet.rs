//! Telnet logins: the user name and password typed after the server's `login:` and `Password:`
//! prompts, with the server's verdict from what it prints next.
//!
//! In character mode (the default of most servers: they negotiate WILL ECHO and SGA) the client sends
//! one keystroke per segment, so nothing here depends on segment boundaries: both directions are
//! decoded byte by byte. Option negotiation (`IAC WILL/WONT/DO/DONT opt`, `IAC SB ... IAC SE`) is
//! stripped, `IAC IAC` is a data byte 255, `CR NUL` and `CR LF` end a line. Typed lines are edited as
//! a terminal would: backspace and DEL erase a character, ^U the whole line.
//!
//! Prompts are found in the server's text (its echo of the user name included, which does not matter:
//! only prompts and verdict words are looked for). The verdict: `Login incorrect`, `failed`, `denied`,
//! `invalid` or a new `login:` prompt is a refusal; `Last login`, `Welcome` or a shell prompt (`$ `,
//! `# `, `> `, `% ` at the end of the output) is an acceptance.
//!
//! The transcript shows the prompts, what was typed at them and the line that gave the verdict. What was
//! typed at the user prompt is a user name (which the connection's rules turn into a slot when it was
//! really a password); everything typed after a password prompt is a slot, and so is a line of the
//! server's that only echoes it.

use super::{Cred, Event, Line, Login, LoginSink, Proto, Session, Verdict, push_transcript, report, secret, text};
use crate::reassembly::Side;
use crate::secret::Text;
use crate::time::Timestamp;

const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;
/// Server text kept to find prompts and verdicts: the end of the output is what matters. Text sliding
/// out while a verdict is awaited is counted ([`Event::TelnetWindowSlid`]): a verdict word in it is
/// missed; at other times only the prompt at the end matters.
const WINDOW: usize = 256;
/// Longest typed line kept (user names and passwords are short); the rest of a longer one is dropped
/// ([`Event::TelnetTypedTooLong`]).
const MAX_TYPED: usize = 256;
/// Bytes of a subnegotiation skipped before giving up on finding its end
/// ([`Event::TelnetSubnegotiationTooLong`]; real ones are a few bytes: terminal type, window size).
const MAX_SB: usize = 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Iac {
    #[default]
    Data,
    /// After IAC.
    Cmd,
    /// After IAC WILL/WONT/DO/DONT: the option byte.
    Opt,
    /// Inside IAC SB ... (counting bytes).
    Sub(usize),
    /// IAC inside a subnegotiation.
    SubCmd(usize),
    /// After CR: a NUL or LF that follows belongs to it.
    Cr,
}

/// Strips telnet commands from one direction; yields data bytes, with `\n` for every end of line.
#[derive(Clone, Copy, Debug, Default)]
struct Decoder {
    st: Iac,
}

impl Decoder {
    /// Calls `f` with every data byte; returns how many subnegotiations were too long to follow.
    fn feed(&mut self, data: &[u8], mut f: impl FnMut(u8)) -> usize {
        let mut overlong = 0;
        for &b in data {
            self.st = match (self.st, b) {
                (Iac::Data | Iac::Cr, IAC) => Iac::Cmd,
                (Iac::Cr, 0 | b'\n') => Iac::Data,
                (Iac::Data | Iac::Cr, b'\r') => {
                    f(b'\n');
                    Iac::Cr
                }
                (Iac::Data | Iac::Cr, _) => {
                    f(b);
                    Iac::Data
                }
                (Iac::Cmd, IAC) => {
                    f(IAC);
                    Iac::Data
                }
                (Iac::Cmd, 251..=254) => Iac::Opt,
                (Iac::Cmd, SB) => Iac::Sub(0),
                (Iac::Cmd, _) | (Iac::Opt, _) => Iac::Data,
                (Iac::Sub(n), IAC) => Iac::SubCmd(n),
                (Iac::Sub(n), _) if n >= MAX_SB => {
                    overlong += 1;
                    Iac::Data
                }
                (Iac::Sub(n), _) => Iac::Sub(n + 1),
                (Iac::SubCmd(_), SE) => Iac::Data,
                (Iac::SubCmd(n), _) => Iac::Sub(n + 1),
            };
        }
        overlong
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// No prompt yet (or after a verdict): waiting for `login:` or `Password:`.
    #[default]
    Idle,
    /// After `login:`: the client types its user name.
    User,
    /// User name sent; waiting for `Password:`.
    AwaitPass,
    /// After `Password:`: the client types its password.
    Pass,
    /// Password sent; the server's next words are the verdict.
    Verdict,
}

#[derive(Debug, Default)]
pub struct Telnet {
    client: Decoder,
    server: Decoder,
    state: State,
    /// The end of the server's output since the last state change.
    window: Vec<u8>,
    /// The same, lower-cased as it arrives: prompts and verdict words are matched in it without a copy.
    lower: Vec<u8>,
    typed: Vec<u8>,
    /// The typed line went past [`MAX_TYPED`] (counted once per line).
    typed_overflow: bool,
    user: Option<String>,
    pending: Option<Login>,
    transcript: Vec<Text>,
}

fn ends_with_prompt(w: &[u8], prompts: &[&[u8]]) -> bool {
    let t = w.trim_ascii_end();
    prompts.iter().any(|p| t.ends_with(p))
}

fn contains(w: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(w, needle).is_some()
}

const LOGIN_PROMPTS: &[&[u8]] = &[b"login:", b"username:", b"user name:", b"user:"];
const PASS_PROMPTS: &[&[u8]] = &[b"password:", b"passcode:"];
const REFUSALS: &[&[u8]] =
    &[b"incorrect", b"failed", b"failure", b"denied", b"invalid", b"bad password", b"wrong", b"not allowed"];

impl Telnet {
    fn last_line(&self) -> &[u8] {
        let w = self.window.trim_ascii_end();
        match memchr::memrchr(b'\n', w) {
            Some(i) => &w[i + 1..],
            None => w,
        }
    }

    fn server_byte(&mut self, b: u8, out: &mut dyn LoginSink) {
        if self.window.len() >= WINDOW {
            if self.state == State::Verdict {
                out.on_event(Event::TelnetWindowSlid);
            }
            self.window.drain(..WINDOW / 2);
            self.lower.drain(..WINDOW / 2);
        }
        self.window.push(b);
        self.lower.push(b.to_ascii_lowercase());
    }

    fn clear_window(&mut self) {
        self.window.clear();
        self.lower.clear();
    }

    /// Look at the server's output after new bytes arrived.
    fn server_check(&mut self, out: &mut dyn LoginSink) {
        let lower = &self.lower;
        let pass_prompt = ends_with_prompt(lower, PASS_PROMPTS);
        // `Last login:` cut by the end of a segment is the welcome of an accepted login, not a prompt.
        let login_prompt = ends_with_prompt(lower, LOGIN_PROMPTS) && !ends_with_prompt(lower, &[b"last login:"]);
        let refused = login_prompt || REFUSALS.iter().any(|r| contains(lower, r));
        let accepted = contains(lower, b"last login")
            || contains(lower, b"welcome")
            || ends_with_prompt(lower, &[b"$", b"#", b">", b"%"]);
        match self.state {
            State::Idle | State::AwaitPass | State::User => {
                if pass_prompt {
                    let line = Line::lit_line("S: ", self.last_line());
                    push_transcript(&mut self.transcript, line, out);
                    if self.state == State::Idle {
                        self.user = None;
                    }
                    self.state = State::Pass;
                    self.typed.clear();
                    self.clear_window();
                } else if self.state == State::Idle && login_prompt {
                    let line = Line::lit_line("S: ", self.last_line());
                    push_transcript(&mut self.transcript, line, out);
                    self.state = State::User;
                    self.typed.clear();
                    self.clear_window();
                }
            }
            State::Pass => {}
            State::Verdict => {
                let verdict = if refused {
                    Some(Verdict::Refused)
                } else if accepted {
                    Some(Verdict::Accepted)
                } else {
                    None
                };
                if let Some(v) = verdict {
                    let line = self.verdict_line(v);
                    push_transcript(&mut self.transcript, line, out);
                    if let Some(l) = self.pending.take() {
                        l.settle(v, &self.transcript, out);
                    }
                    self.state = State::Idle;
                    // A refusal usually ends with a fresh `login:` prompt: look at it again as Idle.
                    if v == Verdict::Refused && login_prompt {
                        self.transcript.clear();
                        self.server_check(out);
                    } else {
                        self.clear_window();
                        self.transcript.clear();
                    }
                }
            }
        }
    }

    /// The server line that gave the verdict: the one with the refusal word, the new `login:` prompt, the
    /// `Last login`/`Welcome` line or the shell prompt. A line that only echoes the password typed is
    /// that password's slot.
    fn verdict_line(&self, v: Verdict) -> Line {
        let lines = || {
            let (mut at, w, lower) = (0, &self.window, &self.lower);
            std::iter::from_fn(move || {
                if at >= w.len() {
                    return None;
                }
                let rest = w.get(at..).unwrap_or_default();
                let end = memchr::memchr(b'\n', rest).map_or(w.len(), |i| at + i);
                let r = (w.get(at..end).unwrap_or_default().trim_ascii(), lower.get(at..end).unwrap_or_default());
                at = end + 1;
                Some(r)
            })
            .filter(|(l, _)| !l.is_empty())
        };
        let words: &[&[u8]] = match v {
            Verdict::Refused => REFUSALS,
            Verdict::Accepted => &[b"last login", b"welcome"],
            Verdict::Unknown => &[],
        };
        let decisive = lines().find(|(_, low)| words.iter().any(|w| contains(low, w))).map(|(l, _)| l);
        let line = decisive.unwrap_or_else(|| self.last_line());
        match self.pending.as_ref().filter(|p| line == p.secret.expose().as_bytes()) {
            Some(p) => {
                let mut l = Line::new("S: ");
                l.secret(&p.secret);
                l
            }
            None => Line::lit_line("S: ", line),
        }
    }

    fn client_byte(&mut self, b: u8, ts: Timestamp, out: &mut dyn LoginSink) {
        if !matches!(self.state, State::User | State::Pass) {
            return;
        }
        match b {
            b'\n' => {
                let line = std::mem::take(&mut self.typed);
                self.typed_overflow = false;
                if self.state == State::User {
                    let mut t = Line::new("C: ");
                    t.user(&line);
                    push_transcript(&mut self.transcript, t, out);
                    self.user = Some(text(&line)).filter(|u| !u.is_empty());
                    self.state = if self.user.is_some() { State::AwaitPass } else { State::Idle };
                } else {
                    // Everything typed after a password prompt is the secret.
                    let s = secret(&line);
                    let mut t = Line::new("C: ");
                    if !line.is_empty() {
                        t.secret(&s);
                    }
                    push_transcript(&mut self.transcript, t, out);
                    if let Some(prev) = self.pending.take() {
                        out.on_login(prev);
                    }
                    if !s.is_empty() {
                        let user = self.user.as_deref().map(Text::user);
                        self.pending =
                            Some(Login::attempt(Proto::Telnet, "login prompt", user, s, Cred::Password, false, ts));
                    }
                    self.state = State::Verdict;
                }
                self.clear_window();
            }
            0x08 | 0x7f => {
                self.typed.pop();
            }
            0x15 => self.typed.clear(),
            0 => {}
            _ if self.typed.len() < MAX_TYPED => self.typed.push(b),
            _ => {
                if !std::mem::replace(&mut self.typed_overflow, true) {
                    out.on_event(Event::TelnetTypedTooLong);
                }
            }
        }
    }
}

impl Session for Telnet {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        // The decoders are a few bytes of state: copied out so that decoding can feed `self` directly.
        match from {
            Side::Server => {
                let mut dec = self.server;
                let n = dec.feed(data, |b| self.server_byte(b, out));
                self.server = dec;
                report(out, Event::TelnetSubnegotiationTooLong, n);
                self.server_check(out);
            }
            Side::Client => {
                let mut dec = self.client;
                let n = dec.feed(data, |b| self.client_byte(b, ts, out));
                self.client = dec;
                report(out, Event::TelnetSubnegotiationTooLong, n);
            }
        }
    }

    fn on_gap(&mut self, from: Side, _len: u64) {
        match from {
            Side::Client => self.typed.clear(),
            Side::Server => self.clear_window(),
        }
        self.state = State::Idle;
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        if let Some(l) = self.pending.take() {
            l.settle(Verdict::Unknown, &std::mem::take(&mut self.transcript), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;
    use crate::secret::Reveal;

    const WILL_ECHO: &[u8] = &[IAC, 251, 1, IAC, 251, 3, IAC, 253, 24];

    /// Keystrokes as a character-mode client sends them: one byte per message.
    fn typed(conv: &mut Vec<(Side, Vec<u8>)>, s: &[u8], echo: bool) {
        for &b in s {
            conv.push((C, vec![b]));
            if echo {
                conv.push((S, vec![b]));
            }
        }
        conv.push((C, b"\r\0".to_vec()));
        conv.push((S, b"\r\n".to_vec()));
    }

    fn refs(c: &[(Side, Vec<u8>)]) -> Vec<(Side, &[u8])> {
        c.iter().map(|(s, d)| (*s, d.as_slice())).collect()
    }

    #[test]
    fn character_mode_login_refused_then_accepted_with_backspace_in_the_password() {
        let mut c: Vec<(Side, Vec<u8>)> = vec![(S, WILL_ECHO.to_vec()), (C, vec![IAC, 253, 1, IAC, 251, 24])];
        c.push((S, b"\r\nDebian GNU/Linux 12\r\nlab login: ".to_vec()));
        typed(&mut c, b"fake", true);
        c.push((S, b"Password: ".to_vec()));
        typed(&mut c, b"wrong", false);
        c.push((S, b"\r\nLogin incorrect\r\nlab login: ".to_vec()));
        typed(&mut c, b"fake", true);
        c.push((S, b"Password: ".to_vec()));
        typed(&mut c, b"usex\x7fr", false);
        c.push((S, b"\r\nLast login: Mon Nov 30 on pts/0\r\nfake@lab:~$ ".to_vec()));
        let got = run_both(Telnet::default, &refs(&c));
        let l: Vec<_> = got.logins.iter().map(|l| (l.user_name(), l.secret.expose(), l.verdict)).collect();
        assert_eq!(l, vec![(Some("fake"), "wrong", Verdict::Refused), (Some("fake"), "user", Verdict::Accepted)]);
        let t = full(&got.logins[1].transcript);
        assert!(t.iter().any(|t| t.contains("Last login")), "{t:?}");
    }

    /// Found by the segmentation property test (rlogin's session is telnet's): `Last login:` ending a
    /// segment looked like a fresh `login:` prompt, so the accepted password was called refused.
    #[test]
    fn last_login_cut_after_its_colon_is_an_acceptance_not_a_prompt() {
        let c: Vec<(Side, &[u8])> = vec![
            (S, b"login: "),
            (C, b"fake\r\n"),
            (S, b"Password:"),
            (C, b"pw\r\n"),
            (S, b"\r\nLast login:"),
            (S, b" Mon Nov 30 on pts/0\r\nfake@lab:~$ "),
        ];
        let got = run_both(Telnet::default, &c);
        assert_eq!(got.logins.iter().map(|l| l.verdict).collect::<Vec<_>>(), [Verdict::Accepted]);
    }

    #[test]
    fn line_mode_login_and_iac_iac_is_a_data_byte() {
        let c: Vec<(Side, &[u8])> = vec![
            (S, b"login: "),
            (C, b"fake\r\n"),
            (S, b"Password:"),
            (C, &[b'p', IAC, IAC, b'w', b'\r', b'\n']),
            (S, b"\r\n$ "),
        ];
        let got = run_both(Telnet::default, &c);
        assert_eq!(got.logins.len(), 1);
        assert_eq!(got.logins[0].secret.expose(), "p\u{fffd}w");
        assert_eq!(got.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn password_only_prompt_and_unknown_verdict_at_close() {
        let c: Vec<(Side, &[u8])> = vec![(S, b"\r\nUser Access Verification\r\n\r\nPassword: "), (C, b"cisco123\r\n")];
        let got = run_both(Telnet::default, &c);
        assert_eq!(got.logins.len(), 1);
        assert_eq!((got.logins[0].user_name(), got.logins[0].verdict), (None, Verdict::Unknown));
    }

    #[test]
    fn typing_without_a_prompt_and_subnegotiations_are_not_logins() {
        let c: Vec<(Side, &[u8])> = vec![
            (S, &[IAC, SB, 24, 1, IAC, SE]),
            (C, &[IAC, SB, 24, 0, b'x', b't', b'e', b'r', b'm', IAC, SE]),
            (C, b"ls -l\r\n"),
            (S, b"total 0\r\n$ "),
        ];
        assert!(run_both(Telnet::default, &c).logins.is_empty());
    }

    #[test]
    fn no_transcript_line_shows_a_typed_password_or_its_echo_once_redacted() {
        let mut c: Vec<(Side, Vec<u8>)> = vec![(S, WILL_ECHO.to_vec()), (S, b"\r\nlab login: ".to_vec())];
        typed(&mut c, b"alice", true);
        c.push((S, b"Password: ".to_vec()));
        typed(&mut c, b"s3cr3t", false);
        // A server that echoes the password (or an echo arriving late), then refuses.
        c.push((S, b"s3cr3t\r\nLogin incorrect\r\nlab login: ".to_vec()));
        typed(&mut c, b"alice", true);
        c.push((S, b"Password: ".to_vec()));
        typed(&mut c, b"pw-two", false);
        c.push((S, b"pw-two\r\n\r\nalice@lab:~$ ".to_vec()));
        let got = run_both(Telnet::default, &refs(&c));
        assert_eq!(got.logins.len(), 2);
        assert_no_secret_shown(&got, &[b"s3cr3t", b"pw-two"]);
        let t: Vec<String> = got.logins[0].transcript.iter().map(|l| l.render(Reveal::Redacted)).collect();
        assert_eq!(
            t,
            [
                "S: lab login:",
                "C: alice",
                "S: Password:",
                &format!("C: {}", got.logins[0].secret.redacted()),
                "S: Login incorrect"
            ]
            .map(String::from)
        );
    }

    #[test]
    fn caps_are_counted_long_typed_lines_and_subnegotiations() {
        let long_sb = [&[IAC, SB, 24][..], &vec![b'x'; MAX_SB + 10]].concat();
        let long_pw = [vec![b'p'; MAX_TYPED + 10], b"\r\n".to_vec()].concat();
        let c: Vec<(Side, &[u8])> = vec![(S, &long_sb), (S, b"Password: "), (C, &long_pw), (S, b"\r\n$ ")];
        let got = run_both(Telnet::default, &c);
        assert_eq!(got.logins[0].secret.chars(), MAX_TYPED);
        assert!(got.events.contains(&Event::TelnetTypedTooLong), "{:?}", got.events);
        assert!(got.events.contains(&Event::TelnetSubnegotiationTooLong), "{:?}", got.events);
    }
}
