//! One connection of the other protocols, as the pipeline holds it: the session parser, and the rules
//! that need more than one login of the connection to decide. The pipeline only wires what this emits.
//!
//! - **Refused logins are held** until the connection says what comes next. A client that sent its
//!   password, was told TLS is required (`NO [PRIVACYREQUIRED]`, `530 ... TLS`) and then upgraded leaked
//!   that password before the upgrade: its login says [`TlsNote::SentBeforeUpgrade`]. A retry in clear,
//!   the end of the connection or the window overflowing releases them unchanged.
//! - **A user field that is really a secret.** A password typed at the user prompt (telnet `login:
//!   hunter2`, refused, then `login: alice` / `Password: hunter2`; FTP `USER hunter2`) is a secret in the
//!   user field and in the transcript. A user name equal to the secret of *another* attempt of the same
//!   connection whose user differs becomes a slot showing that attempt's secret, in the login's user and
//!   in every transcript part the parser marked as a user name ([`Part::User`]): never by searching text.
//!   Both orders are caught: the mistyped attempt is refused, so it is still held when the right one
//!   comes; an attempt after the right one finds it in the window of the last [`MAX_HELD`] attempts.
//!
//! [`Part::User`]: crate::secret::Part::User

use std::collections::VecDeque;

use super::{Event, Login, LoginSink, Proto, Session, TlsNote, Verdict, session};
use crate::reassembly::Side;
use crate::secret::Secret;
use crate::time::Timestamp;

/// Attempts of one connection the rules remember (the refused ones among them held, not recorded yet).
/// A user who mistypes at the user prompt retries within a few attempts; a brute force of thousands on
/// one connection is remembered only by its last ones (the window is per connection and costs ~100 bytes
/// per attempt). Past it the oldest is forgotten, counted as [`Event::HeldFull`].
pub const MAX_HELD: usize = 8;

/// A connection of one of the other protocols.
pub struct Conn {
    proto: Proto,
    session: Box<dyn Session + Send>,
    window: VecDeque<Attempt>,
}

/// What the rules remember of one attempt.
#[derive(Debug)]
struct Attempt {
    /// The user name as typed (before any masking).
    name: Option<String>,
    secret: Secret,
    /// A refused login not recorded yet.
    held: Option<Login>,
}

impl Conn {
    pub fn new(p: Proto) -> Conn {
        Conn { proto: p, session: session(p), window: VecDeque::new() }
    }

    /// The protocol this connection speaks.
    pub fn proto(&self) -> Proto {
        self.proto
    }

    pub fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let mut r = Rules { window: &mut self.window, out };
        self.session.on_data(from, data, ts, &mut r);
    }

    pub fn on_gap(&mut self, from: Side, len: u64) {
        self.session.on_gap(from, len);
    }

    /// End of the connection: the session's last logins, then the held ones.
    pub fn on_close(&mut self, ts: Timestamp, out: &mut dyn LoginSink) {
        let mut r = Rules { window: &mut self.window, out };
        self.session.on_close(ts, &mut r);
        r.release(None);
    }
}

/// The sink the session writes into: applies the rules, then hands logins to the pipeline's sink.
struct Rules<'a> {
    window: &'a mut VecDeque<Attempt>,
    out: &'a mut dyn LoginSink,
}

impl Rules<'_> {
    /// Records the held logins (with `tls` as their note when given).
    fn release(&mut self, tls: Option<TlsNote>) {
        for a in self.window.iter_mut() {
            if let Some(mut l) = a.held.take() {
                if let Some(t) = tls {
                    l.tls = t;
                }
                self.out.on_login(l);
            }
        }
    }

    /// Turns every user name of `login` and of the held logins that is the secret of another attempt
    /// (one whose user differs) into a slot showing that secret. Allocates only for a name it masks.
    fn mask_users(&mut self, login: &mut Login) {
        // (whose: None for `login`, Some(i) for the login held in window[i]; the name; its secret)
        let mut masks: Vec<(Option<usize>, String, Secret)> = Vec::new();
        {
            let (window, new) = (&*self.window, &*login);
            let attempts = || {
                window
                    .iter()
                    .map(|a| (a.name.as_deref(), &a.secret))
                    .chain(std::iter::once((new.user_name(), &new.secret)))
            };
            let secret_of =
                |name: &str| attempts().find(|(n, s)| s.expose() == name && *n != Some(name)).map(|(_, s)| s);
            let held = window.iter().enumerate().filter_map(|(i, a)| a.held.as_ref().map(|l| (Some(i), l)));
            for (whose, l) in std::iter::once((None, new)).chain(held) {
                for name in l.user.iter().chain(&l.transcript).flat_map(|t| t.users()) {
                    if masks.iter().any(|(w, n, _)| *w == whose && n == name) {
                        continue;
                    }
                    if let Some(s) = secret_of(name) {
                        masks.push((whose, name.to_string(), s.clone()));
                    }
                }
            }
        }
        for (whose, name, s) in masks {
            let target = match whose {
                None => Some(&mut *login),
                Some(i) => self.window.get_mut(i).and_then(|a| a.held.as_mut()),
            };
            if let Some(l) = target {
                l.mask_user(&name, &s);
            }
        }
    }
}

impl LoginSink for Rules<'_> {
    fn on_login(&mut self, mut login: Login) {
        let name = login.user_name().map(str::to_string);
        self.mask_users(&mut login);
        // The connection went on with another login: the held ones were not followed by an upgrade.
        self.release(None);
        let secret = login.secret.clone();
        let held = if login.verdict == Verdict::Refused {
            Some(login)
        } else {
            self.out.on_login(login);
            None
        };
        self.window.push_back(Attempt { name, secret, held });
        if self.window.len() > MAX_HELD {
            if let Some(l) = self.window.pop_front().and_then(|a| a.held) {
                self.out.on_login(l);
            }
            self.out.on_event(Event::HeldFull);
        }
    }

    fn on_tls(&mut self) {
        // The refused logins just before the upgrade were sent in clear first.
        self.release(Some(TlsNote::SentBeforeUpgrade));
        self.out.on_tls();
    }

    fn on_event(&mut self, e: Event) {
        self.out.on_event(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Logins;
    use crate::secret::{Reveal, Text};

    fn run(p: Proto, conv: &[(Side, &[u8])]) -> Logins {
        let mut c = Conn::new(p);
        let mut out = Logins::default();
        for (i, (side, d)) in conv.iter().enumerate() {
            c.on_data(*side, d, Timestamp::from_secs(i as i64), &mut out);
        }
        c.on_close(Timestamp::from_secs(100), &mut out);
        out
    }

    const C: Side = Side::Client;
    const S: Side = Side::Server;

    fn rendered(t: &[Text]) -> Vec<String> {
        t.iter().map(|l| l.render(Reveal::Redacted)).collect()
    }

    #[test]
    fn a_refused_login_then_an_upgrade_was_sent_before_the_upgrade() {
        let out = run(
            Proto::Imap,
            &[
                (S, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
                (C, b"a1 LOGIN alice pw\r\n"),
                (S, b"a1 NO [PRIVACYREQUIRED] TLS required\r\n"),
                (C, b"a2 STARTTLS\r\n"),
                (S, b"a2 OK Begin TLS\r\n"),
            ],
        );
        assert!(out.tls);
        assert_eq!(out.logins.len(), 1);
        assert_eq!((out.logins[0].verdict, out.logins[0].tls), (Verdict::Refused, TlsNote::SentBeforeUpgrade));
    }

    #[test]
    fn a_refused_login_followed_by_a_retry_in_clear_is_recorded_unchanged() {
        let out = run(
            Proto::Ftp,
            &[
                (C, b"USER alice\r\nPASS one\r\n"),
                (S, b"331 Password\r\n530 no\r\n"),
                (C, b"USER alice\r\nPASS two\r\n"),
                (S, b"331 Password\r\n230 ok\r\n"),
            ],
        );
        let v: Vec<_> = out.logins.iter().map(|l| (l.secret.expose(), l.verdict, l.tls)).collect();
        assert_eq!(
            v,
            vec![("one", Verdict::Refused, TlsNote::NotOffered), ("two", Verdict::Accepted, TlsNote::NotOffered)]
        );
    }

    #[test]
    fn a_password_typed_at_the_user_prompt_first_becomes_a_slot_in_user_and_transcript() {
        let out = run(
            Proto::Ftp,
            &[
                (S, b"220 FTP ready\r\n"),
                (C, b"USER hunter2\r\n"),
                (S, b"331 Password required\r\n"),
                (C, b"PASS oops\r\n"),
                (S, b"530 Login incorrect.\r\n"),
                (C, b"USER alice\r\n"),
                (S, b"331 Password required\r\n"),
                (C, b"PASS hunter2\r\n"),
                (S, b"230 Logged in.\r\n"),
            ],
        );
        assert_eq!(out.logins.len(), 2);
        let (bad, good) = (&out.logins[0], &out.logins[1]);
        assert_eq!(good.user_name(), Some("alice"));
        assert_eq!(bad.user_name(), None, "the user field is a slot now");
        let u = bad.user.as_ref().unwrap();
        assert_eq!(u.secrets().next(), Some(&good.secret), "the slot holds the other attempt's secret");
        for l in &out.logins {
            for line in rendered(&l.transcript) {
                assert!(!line.contains("hunter2"), "{line}");
            }
        }
        assert_eq!(good.transcript[1].render(Reveal::Full), "C: USER hunter2", "revealed, the line is as sniffed");
    }

    #[test]
    fn a_password_typed_at_the_user_prompt_after_the_right_login_becomes_a_slot() {
        let out = run(
            Proto::Ftp,
            &[
                (C, b"USER alice\r\nPASS hunter2\r\n"),
                (S, b"331 Password\r\n230 ok\r\n"),
                (C, b"USER hunter2\r\nPASS again\r\n"),
                (S, b"331 Password\r\n530 no\r\n"),
            ],
        );
        let later = &out.logins[1];
        assert_eq!(later.user_name(), None);
        assert_eq!(later.user.as_ref().unwrap().render(Reveal::Redacted), out.logins[0].secret.redacted());
        assert!(rendered(&later.transcript).iter().all(|l| !l.contains("hunter2")), "{:?}", later.transcript);
    }

    #[test]
    fn a_user_equal_to_its_own_password_stays_a_name() {
        let out = run(Proto::Ftp, &[(C, b"USER admin\r\nPASS admin\r\n"), (S, b"331 Password\r\n530 no\r\n")]);
        assert_eq!(out.logins[0].user_name(), Some("admin"));
    }

    #[test]
    fn the_window_is_bounded_and_counted() {
        let mut c = Vec::new();
        for i in 0..(MAX_HELD + 3) {
            c.extend(format!("USER u\r\nPASS p{i}\r\n").bytes());
        }
        let mut s = Vec::new();
        for _ in 0..(MAX_HELD + 3) {
            s.extend(b"331 Password\r\n530 no\r\n");
        }
        let out = run(Proto::Ftp, &[(C, &c), (S, &s)]);
        assert_eq!(out.logins.len(), MAX_HELD + 3);
        assert_eq!(out.events.iter().filter(|e| **e == Event::HeldFull).count(), 3);
    }
}
