//! SOCKS5 (RFC 1928) with username/password authentication (RFC 1929).
//!
//! Client: greeting `[5, n, methods...]`, then (when username/password is used) `[1, ulen, user, plen,
//! pass]`, then the request `[5, cmd, 0, atyp, addr, port]`; server: method choice `[5, m]`, status
//! `[1, status]` (0 Accepted, anything else Refused), reply `[5, rep, 0, atyp, addr, port]`. The
//! messages are told apart by their first byte, so a client that sends its credentials without waiting
//! for the method choice is followed too. After the request (client) and the reply (server) the
//! connection carries tunnelled data: parsing stops. An accepted login is held until the request that
//! follows it (or the end of the connection), so that its transcript names the destination. SOCKS4
//! (first byte 4) carries no password and is ignored, as is anything else that does not look like
//! SOCKS5. Each direction buffers at most [`MAX_BUF`] bytes (a SOCKS5 message is at most 515).

use super::be::{Cur, u16_at};
use super::ber::Exchange;
use super::{Cred, Event, Line, Login, LoginSink, Proto, Session, Verdict, secret, text, user};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// Bytes buffered per direction: twice the longest SOCKS5 message (515 bytes), so a direction that fills
/// it without completing one is not SOCKS5 and is given up ([`Event::MessageTooLong`]).
const MAX_BUF: usize = 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    Start,
    /// After the greeting (client) or the method choice (server).
    Negotiated,
    /// Tunnelled data or not SOCKS5: ignore the rest.
    Done,
}

#[derive(Default, Debug)]
struct Dir {
    buf: Vec<u8>,
    phase: Phase,
}

#[derive(Default, Debug)]
pub struct Socks5 {
    client: Dir,
    server: Dir,
    ex: Exchange,
    /// An accepted login held until the request that follows it, so that its transcript names the
    /// destination (emitted at the request, or at close).
    accepted: Option<Login>,
}

/// Result of parsing the front of a buffer.
enum Parsed {
    Need,
    Bad,
    /// A message of this many bytes.
    Msg(usize),
}

/// Length of `[5, x, 0, atyp, addr, port]`.
fn addr_msg_len(b: &[u8]) -> Parsed {
    let Some(&atyp) = b.get(3) else { return Parsed::Need };
    let n = match atyp {
        1 => 4 + 4 + 2,
        4 => 4 + 16 + 2,
        3 => match b.get(4) {
            None => return Parsed::Need,
            Some(&l) => 4 + 1 + l as usize + 2,
        },
        _ => return Parsed::Bad,
    };
    if b.len() < n { Parsed::Need } else { Parsed::Msg(n) }
}

/// `host:port` of an address message.
fn destination(b: &[u8]) -> String {
    let port = |at: usize| u16_at(b, at).unwrap_or(0);
    match b.get(3) {
        Some(1) => match b.get(4..8).and_then(|a| <[u8; 4]>::try_from(a).ok()) {
            Some(a) => format!("{}:{}", std::net::Ipv4Addr::from(a), port(8)),
            None => String::new(),
        },
        Some(4) => match b.get(4..20).and_then(|a| <[u8; 16]>::try_from(a).ok()) {
            Some(a) => format!("[{}]:{}", std::net::Ipv6Addr::from(a), port(20)),
            None => String::new(),
        },
        Some(3) => {
            let l = b.get(4).copied().unwrap_or(0) as usize;
            format!("{}:{}", text(b.get(5..5 + l).unwrap_or_default()), port(5 + l))
        }
        _ => String::new(),
    }
}

fn method_name(m: u8) -> &'static str {
    match m {
        0 => "no authentication",
        1 => "GSSAPI",
        2 => "username/password",
        0xff => "no acceptable methods",
        _ => "other",
    }
}

impl Socks5 {
    fn line(&mut self, side: Side, line: &str, out: &mut dyn LoginSink) {
        let prefix = if side == Side::Client { "C: " } else { "S: " };
        self.put(Line::lit_line(prefix, line.as_bytes()), out);
    }

    fn put(&mut self, line: Line, out: &mut dyn LoginSink) {
        self.ex.put_also(line, self.accepted.iter_mut(), out);
    }

    /// Parses one client message at the front of the buffer.
    fn client_msg(&mut self, ts: Timestamp, out: &mut dyn LoginSink) -> Parsed {
        let b = std::mem::take(&mut self.client.buf);
        let r = self.client_msg_in(&b, ts, out);
        self.client.buf = b;
        r
    }

    fn client_msg_in(&mut self, b: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> Parsed {
        let Some(&v) = b.first() else { return Parsed::Need };
        match (self.client.phase, v) {
            (Phase::Start, 5) => {
                let Some(&n) = b.get(1) else { return Parsed::Need };
                let Some(methods) = b.get(2..2 + n as usize) else { return Parsed::Need };
                let list: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
                self.line(Side::Client, &format!("greeting methods=[{}]", list.join(",")), out);
                self.client.phase = Phase::Negotiated;
                Parsed::Msg(2 + n as usize)
            }
            (Phase::Negotiated, 1) => {
                // [1, ulen, user, plen, pass]
                let mut c = Cur(b.get(1..).unwrap_or_default());
                let (Some(name), Some(pass)) = (c.u8_prefixed(), c.u8_prefixed()) else { return Parsed::Need };
                let pw = secret(pass);
                let mut t = Line::new("C: ");
                t.lit(b"auth").user_field(name).password_field(&pw);
                self.put(t, out);
                if pw.is_empty() {
                    // No login, but the client went on: the one waiting gets no answer we could see.
                    self.ex.settle(Verdict::Unknown, out);
                } else {
                    let login =
                        Login::attempt(Proto::Socks5, "username/password", user(name), pw, Cred::Password, false, ts);
                    self.ex.attempt(login, out);
                }
                Parsed::Msg(b.len() - c.rest().len())
            }
            (Phase::Negotiated, 5) => match addr_msg_len(b) {
                Parsed::Msg(n) => {
                    let cmd = match b.get(1) {
                        Some(1) => "CONNECT",
                        Some(2) => "BIND",
                        Some(3) => "UDP ASSOCIATE",
                        _ => "command?",
                    };
                    self.line(Side::Client, &format!("{cmd} {}", destination(b)), out);
                    self.client.phase = Phase::Done;
                    if let Some(l) = self.accepted.take() {
                        out.on_login(l);
                    }
                    Parsed::Msg(n)
                }
                other => other,
            },
            _ => Parsed::Bad,
        }
    }

    fn server_msg(&mut self, out: &mut dyn LoginSink) -> Parsed {
        let b = std::mem::take(&mut self.server.buf);
        let r = self.server_msg_in(&b, out);
        self.server.buf = b;
        r
    }

    fn server_msg_in(&mut self, b: &[u8], out: &mut dyn LoginSink) -> Parsed {
        let Some(&v) = b.first() else { return Parsed::Need };
        let Some(&x) = b.get(1) else { return Parsed::Need };
        match (self.server.phase, v) {
            (Phase::Start, 5) => {
                self.line(Side::Server, &format!("method {x} ({})", method_name(x)), out);
                self.server.phase = Phase::Negotiated;
                Parsed::Msg(2)
            }
            (Phase::Negotiated, 1) => {
                self.line(Side::Server, &format!("auth status {x}"), out);
                if let Some(mut l) = self.ex.take() {
                    if x == 0 && self.client.phase != Phase::Done {
                        l.verdict = Verdict::Accepted;
                        self.accepted = Some(l);
                    } else {
                        l.decide(if x == 0 { Verdict::Accepted } else { Verdict::Refused }, out);
                    }
                }
                Parsed::Msg(2)
            }
            (Phase::Negotiated, 5) => match addr_msg_len(b) {
                Parsed::Msg(n) => {
                    self.line(Side::Server, &format!("reply {x} bound {}", destination(b)), out);
                    self.server.phase = Phase::Done;
                    Parsed::Msg(n)
                }
                other => other,
            },
            _ => Parsed::Bad,
        }
    }
}

impl Session for Socks5 {
    fn on_data(&mut self, from: Side, mut data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        loop {
            let dir = if from == Side::Client { &mut self.client } else { &mut self.server };
            if dir.phase == Phase::Done {
                dir.buf.clear();
                return;
            }
            let take = (MAX_BUF - dir.buf.len().min(MAX_BUF)).min(data.len());
            let (head, rest) = data.split_at_checked(take).unwrap_or((data, &[]));
            dir.buf.extend_from_slice(head);
            data = rest;
            loop {
                let r = if from == Side::Client { self.client_msg(ts, out) } else { self.server_msg(out) };
                let dir = if from == Side::Client { &mut self.client } else { &mut self.server };
                match r {
                    Parsed::Msg(n) => {
                        dir.buf.drain(..n.min(dir.buf.len()));
                    }
                    Parsed::Need if dir.buf.len() < MAX_BUF => break,
                    Parsed::Need | Parsed::Bad => {
                        if matches!(r, Parsed::Need) {
                            out.on_event(Event::MessageTooLong);
                        }
                        dir.phase = Phase::Done;
                        dir.buf.clear();
                        return;
                    }
                }
                if dir.phase == Phase::Done || dir.buf.is_empty() {
                    break;
                }
            }
            if data.is_empty() {
                return;
            }
        }
    }

    fn on_gap(&mut self, from: Side, _len: u64) {
        let dir = if from == Side::Client { &mut self.client } else { &mut self.server };
        dir.buf.clear();
        dir.phase = Phase::Done;
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        if let Some(l) = self.accepted.take() {
            out.on_login(l);
        }
        self.ex.close(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;

    fn auth(user: &[u8], pass: &[u8]) -> Vec<u8> {
        [&[1, user.len() as u8][..], user, &[pass.len() as u8], pass].concat()
    }
    fn connect_host(host: &str, port: u16) -> Vec<u8> {
        [&[5, 1, 0, 3, host.len() as u8][..], host.as_bytes(), &port.to_be_bytes()].concat()
    }
    fn summary(got: &super::super::Logins) -> Vec<(Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn username_password_accepted_and_destination_in_transcript() {
        let reply = [5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90];
        let conv: &[(Side, &[u8])] = &[
            (C, &[5, 2, 0, 2]),
            (S, &[5, 2]),
            (C, &auth(b"alice", b"pw")),
            (S, &[1, 0]),
            (C, &connect_host("example.com", 80)),
            (S, &reply),
            (C, b"GET / HTTP/1.1\r\n\r\n"),
        ];
        let got = run_both(Socks5::default, conv);
        assert_eq!(summary(&got), vec![(Some("alice"), "pw", Verdict::Accepted)]);
        assert_eq!(got.logins[0].mechanism, "username/password");
        let got = super::super::testutil::run(Socks5::default(), conv);
        let t = full(&got.logins[0].transcript);
        assert_eq!(t.len(), 5);
        assert_eq!(t[4], "C: CONNECT example.com:80");
        assert_eq!(t[2], "C: auth user=\"alice\" password=\"pw\"");
        assert_no_secret_shown(&got, &[b"pw"]);
    }

    #[test]
    fn destination_is_summarised() {
        assert_eq!(destination(&connect_host("example.com", 443)), "example.com:443");
        assert_eq!(destination(&[5, 1, 0, 1, 192, 0, 2, 1, 0, 22]), "192.0.2.1:22");
    }

    #[test]
    fn refused_status_and_pipelined_credentials() {
        let c = [vec![5, 1, 2], auth(b"bob", b"bad")].concat();
        let got = run_both(Socks5::default, &[(C, &c), (S, &[5, 2, 1, 1])]);
        assert_eq!(summary(&got), vec![(Some("bob"), "bad", Verdict::Refused)]);
    }

    #[test]
    fn unanswered_credentials_are_unknown() {
        let got = run_both(Socks5::default, &[(C, &[5, 1, 2]), (S, &[5, 2]), (C, &auth(b"u", b"p"))]);
        assert_eq!(summary(&got), vec![(Some("u"), "p", Verdict::Unknown)]);
    }

    #[test]
    fn no_auth_socks4_and_tunnelled_data_give_nothing() {
        let tunnel = auth(b"x", b"y");
        let conv: &[(Side, &[u8])] =
            &[(C, &[5, 1, 0]), (S, &[5, 0]), (C, &connect_host("h", 1)), (C, &tunnel), (S, &[1, 0])];
        assert!(run_both(Socks5::default, conv).logins.is_empty());
        let socks4 = [&[4, 1, 0, 80, 10, 0, 0, 1][..], b"user\0"].concat();
        assert!(run_both(Socks5::default, &[(C, &socks4), (C, &auth(b"a", b"b"))]).logins.is_empty());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, vec![5, 2, 0, 2]),
            (S, vec![5, 2]),
            (C, auth(b"alice", b"pw")),
            (S, vec![1, 0]),
            (C, connect_host("example.com", 80)),
            (S, vec![5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90]),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Socks5::default, &refs);
        }
    }

    #[test]
    fn no_transcript_line_shows_a_password_of_any_attempt_once_redacted() {
        // A client that sends credentials twice before the status (the first is replaced, unanswered).
        let c = [vec![5, 1, 2], auth(b"alice", b"pw-first"), auth(b"alice", b"pw-second")].concat();
        let got = run_both(Socks5::default, &[(C, &c), (S, &[5, 2, 1, 1])]);
        assert_eq!(
            summary(&got),
            vec![(Some("alice"), "pw-first", Verdict::Unknown), (Some("alice"), "pw-second", Verdict::Refused)]
        );
        assert_no_secret_shown(&got, &[b"pw-first", b"pw-second"]);
    }
}
