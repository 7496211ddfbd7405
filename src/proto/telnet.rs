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

use super::{Cred, Login, LoginSink, Proto, Session, TlsNote, Verdict, push_transcript, text};
use crate::reassembly::Side;
use crate::time::Timestamp;

const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;
/// Server text kept to find prompts and verdicts: the end of the output is what matters.
const WINDOW: usize = 256;
/// Longest typed line kept (user names and passwords are short).
const MAX_TYPED: usize = 256;
/// Bytes of a subnegotiation skipped before giving up on finding its end.
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
    fn feed(&mut self, data: &[u8], mut f: impl FnMut(u8)) {
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
                (Iac::Sub(n), _) if n >= MAX_SB => Iac::Data,
                (Iac::Sub(n), _) => Iac::Sub(n + 1),
                (Iac::SubCmd(_), SE) => Iac::Data,
                (Iac::SubCmd(n), _) => Iac::Sub(n + 1),
            };
        }
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
    user: Option<String>,
    pending: Option<Login>,
    transcript: Vec<String>,
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

    fn server_byte(&mut self, b: u8) {
        if self.window.len() >= WINDOW {
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
        let login_prompt = ends_with_prompt(lower, LOGIN_PROMPTS);
        let refused = login_prompt || REFUSALS.iter().any(|r| contains(lower, r));
        let accepted = contains(lower, b"last login")
            || contains(lower, b"welcome")
            || ends_with_prompt(lower, &[b"$", b"#", b">", b"%"]);
        match self.state {
            State::Idle | State::AwaitPass | State::User => {
                if pass_prompt {
                    let line = self.last_line().to_vec();
                    push_transcript(&mut self.transcript, "S: ", &line);
                    if self.state == State::Idle {
                        self.user = None;
                    }
                    self.state = State::Pass;
                    self.typed.clear();
                    self.clear_window();
                } else if self.state == State::Idle && login_prompt {
                    let line = self.last_line().to_vec();
                    push_transcript(&mut self.transcript, "S: ", &line);
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
                    let line = self.last_line().to_vec();
                    let first = self.window.split(|&b| b == b'\n').map(<[u8]>::trim_ascii).find(|l| !l.is_empty());
                    let shown = first.map(<[u8]>::to_vec).unwrap_or(line);
                    push_transcript(&mut self.transcript, "S: ", &shown);
                    if let Some(mut l) = self.pending.take() {
                        l.verdict = v;
                        l.transcript = self.transcript.clone();
                        out.on_login(l);
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

    fn client_byte(&mut self, b: u8, ts: Timestamp, out: &mut dyn LoginSink) {
        if !matches!(self.state, State::User | State::Pass) {
            return;
        }
        match b {
            b'\n' => {
                let line = std::mem::take(&mut self.typed);
                if self.state == State::User {
                    push_transcript(&mut self.transcript, "C: ", &line);
                    self.user = Some(text(&line)).filter(|u| !u.is_empty());
                    self.state = if self.user.is_some() { State::AwaitPass } else { State::Idle };
                } else {
                    push_transcript(&mut self.transcript, "C: ", &line);
                    if let Some(prev) = self.pending.take() {
                        out.on_login(prev);
                    }
                    let secret = text(&line);
                    if secret.is_empty() {
                        self.state = State::Verdict;
                        return;
                    }
                    self.pending = Some(Login {
                        proto: Proto::Telnet,
                        mechanism: "login prompt",
                        user: self.user.clone(),
                        secret,
                        cred: Cred::Password,
                        verdict: Verdict::Unknown,
                        tls: TlsNote::NotOffered,
                        ts,
                        transcript: Vec::new(),
                    });
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
            _ => {}
        }
    }
}

impl Session for Telnet {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        // The decoders are a few bytes of state: copied out so that decoding can feed `self` directly.
        match from {
            Side::Server => {
                let mut dec = self.server;
                dec.feed(data, |b| self.server_byte(b));
                self.server = dec;
                self.server_check(out);
            }
            Side::Client => {
                let mut dec = self.client;
                dec.feed(data, |b| self.client_byte(b, ts, out));
                self.client = dec;
            }
        }
    }

    fn on_gap(&mut self, from: Side, _len: u64) {
        match from {
            Side::Client => self.typed.clear(),
            Side::Server => self.window.clear(),
        }
        self.state = State::Idle;
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        if let Some(mut l) = self.pending.take() {
            l.transcript = std::mem::take(&mut self.transcript);
            out.on_login(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, run_both};
    use super::*;

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
        let l: Vec<_> = got.logins.iter().map(|l| (l.user.as_deref(), l.secret.as_str(), l.verdict)).collect();
        assert_eq!(l, vec![(Some("fake"), "wrong", Verdict::Refused), (Some("fake"), "user", Verdict::Accepted)]);
        assert!(got.logins[1].transcript.iter().any(|t| t.contains("Last login")), "{:?}", got.logins[1].transcript);
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
        assert_eq!(got.logins[0].secret, "p\u{fffd}w");
        assert_eq!(got.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn password_only_prompt_and_unknown_verdict_at_close() {
        let c: Vec<(Side, &[u8])> = vec![(S, b"\r\nUser Access Verification\r\n\r\nPassword: "), (C, b"cisco123\r\n")];
        let got = run_both(Telnet::default, &c);
        assert_eq!(got.logins.len(), 1);
        assert_eq!((got.logins[0].user.as_deref(), got.logins[0].verdict), (None, Verdict::Unknown));
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
}
