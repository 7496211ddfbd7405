//! rlogin (RFC 1282, port 513 by convention, recognised by content on any port).
//!
//! The client opens with `NUL local-user NUL remote-user NUL terminal/speed NUL`; the server answers
//! one NUL byte. A host that trusts the client (`.rhosts`, `hosts.equiv`) logs it in without a
//! password: nothing secret crosses, nothing is reported. Otherwise the server prompts `Password:` and
//! the user types it, in clear, one keystroke per segment: from there on the session is a terminal
//! login like telnet's, so the bytes after the opening go to [`super::telnet::Telnet`] (prompts,
//! keystrokes edited as a terminal would, the verdict from what the server prints next), and its
//! logins are relabelled: protocol rlogin, the user the remote user name of the opening when no
//! `login:` prompt asked for one. The client's window-size messages (`FF FF s s` and 8 bytes, sent
//! after the server's urgent 0x80) are stripped from its keystrokes; the server's in-band control
//! bytes are not text and change nothing.
//!
//! rsh (port 514) carries no password at all (the user names and the command, trusted by host):
//! it is not parsed and never reported.

use super::telnet::Telnet;
use super::{Event, Login, LoginSink, Proto, Session, text};
use crate::reassembly::Side;
use crate::secret::Text;
use crate::time::Timestamp;

/// Longest opening kept (two user names and a terminal type: a few dozen bytes). A client that sends
/// more without its four NULs is not rlogin ([`Event::MessageTooLong`] and the connection is dropped).
pub const MAX_OPENING: usize = 512;

#[derive(Default)]
pub struct Rlogin {
    opening: Vec<u8>,
    opened: bool,
    remote: Option<String>,
    /// The server's NUL answer was seen.
    acked: bool,
    /// Bytes of a client window-size message still to drop (of 12).
    esc: u8,
    dead: bool,
    inner: Telnet,
}

/// The four fields of a complete opening (`None` while incomplete or when not one).
pub fn opening(b: &[u8]) -> Option<[&[u8]; 3]> {
    let rest = b.strip_prefix(b"\0")?;
    let mut it = rest.splitn(4, |&c| c == 0);
    let local = it.next()?;
    let remote = it.next()?;
    let term = it.next()?;
    it.next()?;
    Some([local, remote, term])
}

/// Relabels the telnet session's logins as rlogin's.
struct Relabel<'a> {
    out: &'a mut dyn LoginSink,
    remote: Option<&'a str>,
}

impl LoginSink for Relabel<'_> {
    fn on_login(&mut self, mut l: Login) {
        l.proto = Proto::Rlogin;
        if l.user.is_none() {
            l.user = self.remote.filter(|r| !r.is_empty()).map(Text::user);
            l.mechanism = "password prompt";
        }
        self.out.on_login(l);
    }
    fn on_tls(&mut self) {
        self.out.on_tls();
    }
    fn on_event(&mut self, e: Event) {
        self.out.on_event(e);
    }
}

impl Rlogin {
    /// The client's keystrokes without window-size messages.
    fn keystrokes(&mut self, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(data.len());
        for &b in data {
            if self.esc > 0 {
                self.esc -= 1;
                continue;
            }
            if b == 0xff {
                // FF FF 's' 's' rows cols xpixels ypixels: 11 more bytes.
                self.esc = 11;
                continue;
            }
            v.push(b);
        }
        v
    }
}

impl Session for Rlogin {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.dead {
            return;
        }
        let mut data = data;
        match from {
            Side::Client if !self.opened => {
                let room = MAX_OPENING.saturating_sub(self.opening.len());
                let take = data.len().min(room);
                self.opening.extend_from_slice(&data[..take]);
                let Some([local, remote, term]) = opening(&self.opening) else {
                    if self.opening.len() >= MAX_OPENING {
                        out.on_event(Event::MessageTooLong);
                        self.dead = true;
                    }
                    return;
                };
                self.remote = Some(text(remote));
                // What follows the opening's fourth NUL was typed already.
                let used = 4 + local.len() + remote.len() + term.len();
                let extra = self.opening.get(used..).unwrap_or_default().to_vec();
                self.opened = true;
                self.opening = Vec::new();
                let keys = self.keystrokes(&extra);
                let mut r = Relabel { out, remote: self.remote.as_deref() };
                self.inner.on_data(Side::Client, &keys, ts, &mut r);
            }
            Side::Client => {
                let keys = self.keystrokes(data);
                let mut r = Relabel { out, remote: self.remote.as_deref() };
                self.inner.on_data(Side::Client, &keys, ts, &mut r);
            }
            Side::Server => {
                if !self.acked {
                    let Some((&first, rest)) = data.split_first() else { return };
                    if first != 0 {
                        // Not the NUL of an rlogin server: an error message (`rlogind: ...`) or no
                        // rlogin at all. Read on as text: a refused connection prompts nothing.
                    } else {
                        data = rest;
                    }
                    self.acked = true;
                }
                let mut r = Relabel { out, remote: self.remote.as_deref() };
                self.inner.on_data(Side::Server, data, ts, &mut r);
            }
        }
    }

    fn on_gap(&mut self, from: Side, len: u64) {
        if !self.opened {
            self.dead = true;
            return;
        }
        self.inner.on_gap(from, len);
    }

    fn on_close(&mut self, ts: Timestamp, out: &mut dyn LoginSink) {
        let mut r = Relabel { out, remote: self.remote.as_deref() };
        self.inner.on_close(ts, &mut r);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, run_both};
    use super::super::{Cred, Verdict};
    use super::*;

    type Row<'a> = (Proto, &'static str, Option<&'a str>, &'a str, Cred, Verdict);

    fn summary(got: &super::super::Logins) -> Vec<Row<'_>> {
        got.logins.iter().map(|l| (l.proto, l.mechanism, l.user_name(), l.secret.expose(), l.cred, l.verdict)).collect()
    }

    /// The client types one key per segment, the server does not echo the password.
    fn typed(s: &str) -> Vec<Vec<u8>> {
        s.bytes().map(|b| vec![b]).collect()
    }

    #[test]
    fn the_password_typed_at_the_prompt_is_a_login_of_the_remote_user() {
        let mut conv: Vec<(Side, Vec<u8>)> =
            vec![(C, b"\0alice\0alice\0xterm/38400\0".to_vec()), (S, b"\0".to_vec()), (S, b"Password: ".to_vec())];
        for k in typed("R1ogin-pw\r") {
            conv.push((C, k));
        }
        // The server asks for the window size (urgent 0x80) and the client answers FF FF s s + 8 bytes.
        conv.push((S, b"\x80".to_vec()));
        conv.push((C, b"\xff\xffss\x00\x18\x00\x50\x00\x00\x00\x00".to_vec()));
        conv.push((S, b"\r\nLast login: Mon Dec  1 10:00:00 from 10.77.0.1\r\nalice@lab:~$ ".to_vec()));
        let refs: Vec<(Side, &[u8])> = conv.iter().map(|(s, d)| (*s, d.as_slice())).collect();
        let got = run_both(Rlogin::default, &refs);
        assert_eq!(
            summary(&got),
            vec![(Proto::Rlogin, "password prompt", Some("alice"), "R1ogin-pw", Cred::Password, Verdict::Accepted)]
        );
        assert_no_secret_shown(&got, &[b"R1ogin-pw"]);
    }

    #[test]
    fn a_wrong_password_is_refused_and_a_trusted_login_is_nothing() {
        let mut conv: Vec<(Side, Vec<u8>)> =
            vec![(C, b"\0bob\0root\0vt100/9600\0".to_vec()), (S, b"\0Password: ".to_vec())];
        conv.push((C, b"guess\r".to_vec()));
        conv.push((S, b"\r\nLogin incorrect\r\nPassword: ".to_vec()));
        let refs: Vec<(Side, &[u8])> = conv.iter().map(|(s, d)| (*s, d.as_slice())).collect();
        let got = run_both(Rlogin::default, &refs);
        assert_eq!(
            summary(&got),
            vec![(Proto::Rlogin, "password prompt", Some("root"), "guess", Cred::Password, Verdict::Refused)]
        );
        // Trusted by .rhosts: no prompt, a shell at once.
        let trusted: &[(Side, &[u8])] =
            &[(C, b"\0bob\0bob\0xterm/38400\0"), (S, b"\0"), (S, b"Last login: today\r\nbob@lab:~$ "), (C, b"ls\r")];
        assert!(run_both(Rlogin::default, trusted).logins.is_empty());
    }

    #[test]
    fn an_opening_that_never_ends_is_dropped_and_counted() {
        let long = [&b"\0"[..], &vec![b'a'; MAX_OPENING]].concat();
        let got = run_both(Rlogin::default, &[(C, &long), (S, b"\0Password: "), (C, b"pw\r")]);
        assert!(got.logins.is_empty());
        assert!(got.events.contains(&Event::MessageTooLong));
        assert_eq!(opening(b"\0a\0b\0c/1\0"), Some([&b"a"[..], b"b", b"c/1"]));
        assert_eq!(opening(b"\0a\0b\0c/1"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Random bytes after a real opening, in random cuttings: no panic, logins only with a secret.
        #[test]
        fn random_bytes_in_random_cuttings_never_panic(
            msgs in proptest::collection::vec((proptest::bool::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..40)), 0..16),
            cut in 1usize..5,
        ) {
            let mut s = Rlogin::default();
            let mut out = super::super::Logins::default();
            let ts = Timestamp::from_secs(1);
            s.on_data(C, b"\0u\0u\0xterm/9600\0", ts, &mut out);
            s.on_data(S, b"\0Password: ", ts, &mut out);
            for (client, m) in &msgs {
                for piece in m.chunks(cut) {
                    s.on_data(if *client { C } else { S }, piece, ts, &mut out);
                }
            }
            s.on_close(ts, &mut out);
            for l in &out.logins {
                proptest::prop_assert!(!l.secret.is_empty());
                proptest::prop_assert_eq!(l.proto, Proto::Rlogin);
            }
        }
    }
}
