//! Redis (RESP2/RESP3): `AUTH password`, `AUTH user password` (Redis 6 ACL) and `HELLO 3 AUTH user
//! password`, in RESP arrays or inline commands, with the verdict from the matching reply. `AUTH
//! password` logs in as the user `default` (Redis 6 ACL: `requirepass` is the `default` user's
//! password; before 6 there were no users at all), so its login names that user.
//!
//! Both directions are parsed as a stream of lines and bulk strings. A bulk string is kept only when it
//! is a short argument near the start of a command (where a command name, user and password are); any
//! other bulk (a `SET` value, a `GET` reply) is skipped by its declared length, never buffered. Replies
//! are matched to commands in order, as Redis answers them (pipelining): a small bounded FIFO remembers
//! which commands await a reply, and the reply to an `AUTH`/`HELLO AUTH` gives its verdict (`+OK` or, for
//! `HELLO`, a map: Accepted; `-ERR`, `-WRONGPASS`...: Refused). Nested RESP3 aggregates are walked
//! with a bounded stack; push messages (`>`) and attributes (`|`) answer no command. A line that is not
//! RESP on the server side, an absurd length or a gap makes the parser ignore that direction.

use std::collections::VecDeque;

use super::ber::Recent;
use super::{Cred, Event, Line, Login, LoginSink, MAX_LINE, Proto, Session, Verdict, secret, user};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// Entries awaiting a reply that we remember: logins, and runs of other commands (a run of any length
/// is one entry, so a client pipelining thousands of GETs costs one); past it the oldest is forgotten
/// ([`Event::PendingFull`]).
const MAX_FIFO: usize = 64;
/// Arguments of one command that we keep (command name, user, password... are at the start); an
/// `AUTH`/`HELLO` argument past it is skipped ([`Event::RedisArgSkipped`]).
const MAX_ARGS: usize = 8;
/// Longest argument we keep (passwords are short; a longer one is skipped, [`Event::RedisArgSkipped`]).
const MAX_ARG: u64 = 1024;
/// Redis' own limit on a bulk string (`proto-max-bulk-len`); past it, or past the two below, the
/// direction is given up ([`Event::RedisFrameTooLarge`]).
const MAX_BULK: i64 = 512 * 1024 * 1024;
/// The user `AUTH password` (one argument) logs in as.
pub const DEFAULT_USER: &str = "default";
/// Most elements in one aggregate we accept.
const MAX_ELEMS: i64 = 1 << 24;
/// Nesting depth of replies we follow.
const MAX_DEPTH: usize = 16;

/// What the stream reader hands to the protocol state.
enum Token<'a> {
    /// A line without `\r\n` (`None`: longer than [`MAX_LINE`], skipped).
    Line(Option<&'a [u8]>),
    /// The end of a bulk string (its content if kept).
    Bulk(Option<&'a [u8]>),
}

/// What the protocol state wants next.
enum Action {
    Continue,
    /// A bulk string of this many bytes follows (then `\r\n`); keep it or skip it.
    Bulk {
        len: u64,
        keep: bool,
    },
    /// Not Redis: ignore the rest of this direction.
    Die,
}

/// Lines and bulk strings of one direction.
#[derive(Default, Debug)]
struct Stream {
    line: Vec<u8>,
    line_skip: bool,
    /// Bytes of the current bulk string still to come, its trailing `\r\n` included.
    bulk_left: u64,
    /// Bytes of the current bulk string to keep (its content, without `\r\n`).
    keep_left: u64,
    keep: Option<Vec<u8>>,
    dead: bool,
}

impl Stream {
    fn feed(&mut self, mut data: &[u8], mut f: impl FnMut(Token) -> Action) {
        while !data.is_empty() && !self.dead {
            let action = if self.bulk_left > 0 {
                let n = self.bulk_left.min(data.len() as u64) as usize;
                let (chunk, rest) = data.split_at_checked(n).unwrap_or((data, &[]));
                data = rest;
                self.bulk_left -= n as u64;
                if let Some(k) = self.keep.as_mut() {
                    let m = self.keep_left.min(chunk.len() as u64) as usize;
                    k.extend_from_slice(chunk.get(..m).unwrap_or_default());
                    self.keep_left -= m as u64;
                }
                if self.bulk_left > 0 {
                    continue;
                }
                let kept = self.keep.take();
                f(Token::Bulk(kept.as_deref()))
            } else {
                match memchr::memchr(b'\n', data) {
                    None => {
                        if !self.line_skip {
                            if self.line.len() + data.len() > MAX_LINE {
                                self.line.clear();
                                self.line_skip = true;
                            } else {
                                self.line.extend_from_slice(data);
                            }
                        }
                        return;
                    }
                    Some(i) => {
                        let head = data.get(..i).unwrap_or_default();
                        data = data.get(i + 1..).unwrap_or_default();
                        if self.line_skip {
                            self.line_skip = false;
                            self.line.clear();
                            f(Token::Line(None))
                        } else if self.line.is_empty() {
                            f(Token::Line(Some(head.strip_suffix(b"\r").unwrap_or(head))))
                        } else if self.line.len() + head.len() > MAX_LINE {
                            self.line.clear();
                            f(Token::Line(None))
                        } else {
                            let mut line = std::mem::take(&mut self.line);
                            line.extend_from_slice(head);
                            let a = f(Token::Line(Some(line.strip_suffix(b"\r").unwrap_or(&line))));
                            line.clear();
                            self.line = line;
                            a
                        }
                    }
                }
            };
            match action {
                Action::Continue => {}
                Action::Die => self.dead = true,
                Action::Bulk { len, keep } => {
                    self.bulk_left = len.saturating_add(2);
                    self.keep_left = if keep { len } else { 0 };
                    self.keep = keep.then(|| Vec::with_capacity(len as usize));
                }
            }
        }
    }

    /// After a gap: inside a bulk string the stream stays in sync (the bulk is then treated as
    /// skipped); anywhere else the next line boundary is unknown and the direction is given up.
    fn gap(&mut self, len: u64) {
        if self.bulk_left > 0 && len < self.bulk_left {
            self.bulk_left -= len;
            self.keep = None;
        } else {
            self.kill();
        }
    }

    fn kill(&mut self) {
        self.dead = true;
        self.line.clear();
        self.keep = None;
    }
}

/// An argument of a command.
#[derive(Debug)]
enum Arg {
    Kept(Vec<u8>),
    Skipped,
}

/// A command awaiting its reply.
#[derive(Debug)]
enum Awaiting {
    /// This many other commands in a row.
    Other(u64),
    Login(Box<Login>),
}

#[derive(Default, Debug)]
struct State {
    recent: Recent,
    fifo: VecDeque<Awaiting>,
    // Client: the command being read.
    args_left: u64,
    args: Vec<Arg>,
    nargs: u64,
    // Server: the reply being read.
    stack: Vec<(u64, bool)>,
    /// Type byte of the reply being read and whether it answers a command.
    top: (u8, bool),
}

fn parse_int(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

impl State {
    /// Whether lines are still worth recording: the transcript has room, or a login awaits its reply.
    fn recording(&self) -> bool {
        self.recent.has_room() || self.fifo.iter().any(|a| matches!(a, Awaiting::Login(_)))
    }

    fn put(&mut self, line: Line, out: &mut dyn LoginSink) {
        let pending = self.fifo.iter_mut().filter_map(|a| match a {
            Awaiting::Login(l) => Some(l.as_mut()),
            Awaiting::Other(_) => None,
        });
        self.recent.push(line, pending, out);
    }

    fn client(&mut self, ev: Token, ts: Timestamp, out: &mut dyn LoginSink) -> Action {
        match ev {
            Token::Line(None) => {
                out.on_event(Event::LineTooLong);
                if self.args_left > 0 {
                    return Action::Die;
                }
                self.await_reply(Awaiting::Other(1), out);
                Action::Continue
            }
            Token::Line(Some(l)) if self.args_left > 0 => {
                let Some(len) = l.strip_prefix(b"$").and_then(parse_int) else { return Action::Die };
                if len > MAX_BULK {
                    out.on_event(Event::RedisFrameTooLarge);
                    return Action::Die;
                }
                if len < 0 {
                    self.arg(Arg::Kept(Vec::new()), ts, out);
                    return Action::Continue;
                }
                let len = len as u64;
                // The command name is kept, and the arguments of AUTH and HELLO only: a GET or SET
                // costs no copy of its key and value.
                let auth = match self.args.first() {
                    Some(Arg::Kept(name)) => name.eq_ignore_ascii_case(b"AUTH") || name.eq_ignore_ascii_case(b"HELLO"),
                    _ => false,
                };
                let fits = self.args.len() < MAX_ARGS && len <= MAX_ARG;
                if auth && !fits {
                    out.on_event(Event::RedisArgSkipped);
                }
                Action::Bulk { len, keep: (self.args.is_empty() || auth) && fits }
            }
            Token::Line(Some(l)) => {
                if let Some(n) = l.strip_prefix(b"*") {
                    let Some(n) = parse_int(n) else { return Action::Die };
                    if n > MAX_ELEMS {
                        out.on_event(Event::RedisFrameTooLarge);
                        return Action::Die;
                    }
                    if n > 0 {
                        self.args_left = n as u64;
                        self.nargs = n as u64;
                        self.args.clear();
                    }
                    return Action::Continue;
                }
                let words: Vec<Arg> = l
                    .split(|b| b.is_ascii_whitespace())
                    .filter(|w| !w.is_empty())
                    .map(|w| Arg::Kept(w.to_vec()))
                    .collect();
                if !words.is_empty() {
                    self.nargs = words.len() as u64;
                    self.args = words;
                    self.command(ts, out);
                }
                Action::Continue
            }
            Token::Bulk(kept) => {
                let arg = match kept {
                    Some(k) => Arg::Kept(k.to_vec()),
                    None => Arg::Skipped,
                };
                self.arg(arg, ts, out);
                Action::Continue
            }
        }
    }

    fn arg(&mut self, arg: Arg, ts: Timestamp, out: &mut dyn LoginSink) {
        if self.args.len() < MAX_ARGS {
            self.args.push(arg);
        }
        self.args_left = self.args_left.saturating_sub(1);
        if self.args_left == 0 {
            self.command(ts, out);
        }
    }

    fn kept(&self, i: usize) -> Option<&[u8]> {
        match self.args.get(i)? {
            Arg::Kept(k) => Some(k),
            Arg::Skipped => None,
        }
    }

    /// A complete command in `self.args`.
    fn command(&mut self, ts: Timestamp, out: &mut dyn LoginSink) {
        let name: &[u8] = match self.kept(0) {
            Some(n) if n.eq_ignore_ascii_case(b"AUTH") => b"AUTH",
            Some(n) if n.eq_ignore_ascii_case(b"HELLO") => b"HELLO",
            _ => b"",
        };
        // Which arguments are the user and the password: (mechanism, user index, password index).
        let roles = match name {
            b"AUTH" if self.nargs == 2 => self.kept(1).map(|_| ("AUTH", None, 1)),
            b"AUTH" if self.nargs == 3 => self.kept(1).and(self.kept(2)).map(|_| ("AUTH", Some(1), 2)),
            b"HELLO" => {
                let at = (2..self.args.len().saturating_sub(2))
                    .find(|&i| self.kept(i).is_some_and(|a| a.eq_ignore_ascii_case(b"AUTH")));
                at.and_then(|i| self.kept(i + 1).and(self.kept(i + 2)).map(|_| ("HELLO AUTH", Some(i + 1), i + 2)))
            }
            _ => None,
        };
        let mut login = None;
        if let Some((mechanism, u, p)) = roles {
            // The whole (short) command, the user a name and the password a slot.
            let pw = secret(self.kept(p).unwrap_or_default());
            let mut t = Line::new("C: ");
            for (i, a) in self.args.iter().enumerate() {
                if i > 0 {
                    t.lit(b" ");
                }
                match a {
                    Arg::Kept(k) if Some(i) == u => t.user(k),
                    Arg::Kept(_) if i == p => t.secret(&pw),
                    Arg::Kept(k) => t.lit(k),
                    Arg::Skipped => t.lit(b"<long>"),
                };
            }
            self.put(t, out);
            // `AUTH password` authenticates the `default` user (Redis 6 ACL, `requirepass`).
            let user = match u {
                Some(u) => self.kept(u).and_then(user),
                None => Some(crate::secret::Text::user(DEFAULT_USER)),
            };
            login = Some(Login::attempt(Proto::Redis, mechanism, user, pw, Cred::Password, false, ts));
        } else if self.recording() {
            // Other commands are summarised while the transcript has room or a login awaits its reply:
            // a busy cache connection costs no allocation per command once its first lines are kept.
            // Written straight into the line: a pipelining client costs one allocation per command here.
            let mut t = Line::new("C: ");
            let mut n = [0u8; 24];
            let digits = {
                use std::io::Write as _;
                let mut w = &mut n[..];
                let _ = write!(w, " ({} args)", self.nargs.saturating_sub(1));
                24 - w.len()
            };
            t.lit(self.kept(0).unwrap_or_default()).lit(n.get(..digits).unwrap_or_default());
            self.put(t, out);
        }
        let awaiting = match login.filter(|l| !l.secret.is_empty()) {
            Some(l) => Awaiting::Login(Box::new(l.with_transcript(self.recent.snapshot()))),
            None => Awaiting::Other(1),
        };
        self.args.clear();
        self.nargs = 0;
        self.await_reply(awaiting, out);
    }

    fn await_reply(&mut self, a: Awaiting, out: &mut dyn LoginSink) {
        if let (Awaiting::Other(_), Some(Awaiting::Other(n))) = (&a, self.fifo.back_mut()) {
            *n += 1;
            return;
        }
        if self.fifo.len() >= MAX_FIFO {
            out.on_event(Event::PendingFull);
            if let Some(Awaiting::Login(l)) = self.fifo.pop_front() {
                out.on_login(*l);
            }
        }
        self.fifo.push_back(a);
    }

    fn server(&mut self, ev: Token, out: &mut dyn LoginSink) -> Action {
        let l = match ev {
            Token::Bulk(_) => {
                self.element_done(out);
                return Action::Continue;
            }
            Token::Line(None) => {
                // An overlong simple string: one element.
                out.on_event(Event::LineTooLong);
                self.element_done(out);
                return Action::Continue;
            }
            Token::Line(Some(l)) => l,
        };
        let Some((&t, rest)) = l.split_first() else { return Action::Die };
        if self.stack.is_empty() {
            self.top = (t, t != b'>' && t != b'|');
            if self.recording() {
                let summary = match t {
                    b'+' | b'-' | b'!' => l,
                    _ => l.get(..l.len().min(24)).unwrap_or_default(),
                };
                self.put(Line::lit_line("S: ", summary), out);
            }
        }
        match t {
            b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => {
                self.element_done(out);
                Action::Continue
            }
            b'$' | b'!' | b'=' => match parse_int(rest) {
                Some(n) if n > MAX_BULK => {
                    out.on_event(Event::RedisFrameTooLarge);
                    Action::Die
                }
                Some(n) if n < 0 => {
                    self.element_done(out);
                    Action::Continue
                }
                Some(n) => Action::Bulk { len: n as u64, keep: false },
                None => Action::Die,
            },
            b'*' | b'~' | b'>' | b'%' | b'|' => match parse_int(rest) {
                Some(n) if n > MAX_ELEMS => {
                    out.on_event(Event::RedisFrameTooLarge);
                    Action::Die
                }
                Some(n) if n <= 0 => {
                    self.element_done(out);
                    Action::Continue
                }
                Some(n) => {
                    if self.stack.len() >= MAX_DEPTH {
                        out.on_event(Event::RedisFrameTooLarge);
                        return Action::Die;
                    }
                    let n = if t == b'%' || t == b'|' { n as u64 * 2 } else { n as u64 };
                    // An attribute precedes the element it describes: that element is still to come.
                    self.stack.push((n, t == b'|'));
                    Action::Continue
                }
                None => Action::Die,
            },
            _ => Action::Die,
        }
    }

    /// One element (scalar or completed aggregate) ended.
    fn element_done(&mut self, out: &mut dyn LoginSink) {
        loop {
            let Some(top) = self.stack.last_mut() else {
                if self.top.1 {
                    self.reply(out);
                }
                return;
            };
            top.0 = top.0.saturating_sub(1);
            if top.0 > 0 {
                return;
            }
            let attribute = top.1;
            self.stack.pop();
            if attribute {
                // The attribute map ended; the element it annotates follows and counts instead.
                return;
            }
        }
    }

    /// A complete top-level reply.
    fn reply(&mut self, out: &mut dyn LoginSink) {
        if let Some(Awaiting::Other(n)) = self.fifo.front_mut() {
            *n -= 1;
            if *n == 0 {
                self.fifo.pop_front();
            }
            return;
        }
        if let Some(Awaiting::Login(l)) = self.fifo.pop_front() {
            let verdict = if matches!(self.top.0, b'-' | b'!') { Verdict::Refused } else { Verdict::Accepted };
            l.decide(verdict, out);
        }
    }
}

#[derive(Default, Debug)]
pub struct Redis {
    client: Stream,
    server: Stream,
    st: State,
}

impl Session for Redis {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let st = &mut self.st;
        match from {
            Side::Client => self.client.feed(data, |ev| st.client(ev, ts, out)),
            Side::Server => self.server.feed(data, |ev| st.server(ev, out)),
        }
    }

    fn on_gap(&mut self, from: Side, len: u64) {
        match from {
            Side::Client => self.client.gap(len),
            Side::Server => self.server.gap(len),
        }
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        for a in self.st.fifo.drain(..) {
            if let Awaiting::Login(l) = a {
                out.on_login(*l);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;

    fn resp(args: &[&[u8]]) -> Vec<u8> {
        let mut v = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            v.extend(format!("${}\r\n", a.len()).bytes());
            v.extend_from_slice(a);
            v.extend_from_slice(b"\r\n");
        }
        v
    }

    fn summary(got: &super::super::Logins) -> Vec<(&'static str, Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn auth_with_the_password_alone_is_the_default_user_accepted() {
        let got = run_both(Redis::default, &[(C, &resp(&[b"AUTH", b"password"])), (S, b"+OK\r\n")]);
        assert_eq!(summary(&got), vec![("AUTH", Some("default"), "password", Verdict::Accepted)]);
        assert_eq!(full(&got.logins[0].transcript), vec!["C: AUTH password".to_string(), "S: +OK".to_string()]);
    }

    #[test]
    fn acl_auth_refused_with_wrongpass() {
        let wrong = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
        let got = run_both(Redis::default, &[(C, &resp(&[b"auth", b"alice", b"pw"])), (S, wrong)]);
        assert_eq!(summary(&got), vec![("AUTH", Some("alice"), "pw", Verdict::Refused)]);
    }

    #[test]
    fn hello_auth_answered_by_a_map() {
        let cmd = resp(&[b"HELLO", b"3", b"AUTH", b"bob", b"s3cret", b"SETNAME", b"app"]);
        let reply = b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n";
        let got = run_both(Redis::default, &[(C, &cmd), (S, reply)]);
        assert_eq!(summary(&got), vec![("HELLO AUTH", Some("bob"), "s3cret", Verdict::Accepted)]);
    }

    #[test]
    fn inline_auth_and_pipelined_replies_are_matched_in_order() {
        let big = vec![b'v'; 20_000];
        let mut c = resp(&[b"SET", b"k", &big]);
        c.extend(b"AUTH first\r\n");
        c.extend(resp(&[b"GET", b"k"]));
        c.extend(resp(&[b"AUTH", b"second"]));
        let mut s = b"+OK\r\n-ERR invalid password\r\n".to_vec();
        s.extend(format!("${}\r\n", big.len()).bytes());
        s.extend(&big);
        s.extend(b"\r\n*2\r\n*1\r\n:1\r\n$-1\r\n+OK\r\n");
        let got = run_both(Redis::default, &[(C, &c), (S, &s)]);
        assert_eq!(
            summary(&got),
            vec![
                ("AUTH", Some("default"), "first", Verdict::Refused),
                ("AUTH", Some("default"), "second", Verdict::Accepted)
            ]
        );
    }

    #[test]
    fn unanswered_auth_is_unknown_at_close() {
        let got = run_both(Redis::default, &[(C, b"AUTH pw\r\n")]);
        assert_eq!(summary(&got), vec![("AUTH", Some("default"), "pw", Verdict::Unknown)]);
    }

    #[test]
    fn push_messages_do_not_answer_commands() {
        let got = run_both(
            Redis::default,
            &[(C, &resp(&[b"AUTH", b"pw"])), (S, b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n-ERR no\r\n")],
        );
        assert_eq!(summary(&got), vec![("AUTH", Some("default"), "pw", Verdict::Refused)]);
    }

    #[test]
    fn non_resp_server_traffic_is_ignored() {
        let got = run_both(Redis::default, &[(C, b"AUTH pw\r\n"), (S, b"HTTP/1.1 400 Bad\r\n+OK\r\n")]);
        assert_eq!(summary(&got), vec![("AUTH", Some("default"), "pw", Verdict::Unknown)]);
        let got = run_both(Redis::default, &[(C, b"*99999999999\r\n$4\r\nAUTH\r\n")]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn a_gap_inside_a_large_value_keeps_replies_in_sync() {
        let mut r = Redis::default();
        let mut out = super::super::Logins::default();
        let ts = Timestamp::from_secs(1);
        r.on_data(C, b"GET k\r\nAUTH pw\r\n", ts, &mut out);
        r.on_data(S, b"$100000\r\n", ts, &mut out);
        r.on_data(S, &[b'x'; 1000], ts, &mut out);
        r.on_gap(S, 50_000);
        r.on_data(S, &vec![b'x'; 49_000], ts, &mut out);
        r.on_data(S, b"\r\n-ERR invalid password\r\n", ts, &mut out);
        let v: Vec<_> = out.logins.iter().map(|l| (l.secret.expose(), l.verdict)).collect();
        assert_eq!(v, vec![("pw", Verdict::Refused)]);
    }

    #[test]
    fn fifo_is_bounded() {
        let mut c = Vec::new();
        for i in 0..200 {
            c.extend(format!("AUTH p{i}\r\n").bytes());
        }
        let got = run_both(Redis::default, &[(C, &c)]);
        assert_eq!(got.logins.len(), 200);
        assert!(got.logins.iter().all(|l| l.verdict == Verdict::Unknown));
    }

    #[test]
    fn thousands_of_pipelined_commands_cost_one_entry_and_the_login_after_them_gets_its_reply() {
        let mut c = Vec::new();
        let mut s = Vec::new();
        for _ in 0..5000 {
            c.extend(resp(&[b"GET", b"k"]));
            s.extend(b"$1\r\nv\r\n");
        }
        c.extend(resp(&[b"AUTH", b"after-the-flood"]));
        s.extend(b"+OK\r\n");
        let mut st = Redis::default();
        let mut out = crate::proto::Logins::default();
        st.on_data(C, &c, Timestamp::ZERO, &mut out);
        assert!(st.st.fifo.len() <= 2, "{}", st.st.fifo.len());
        st.on_data(S, &s, Timestamp::ZERO, &mut out);
        assert_eq!(out.logins.len(), 1);
        assert_eq!(out.logins[0].verdict, Verdict::Accepted);
        assert!(!out.events.contains(&Event::PendingFull), "{:?}", out.events);
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, resp(&[b"AUTH", b"alice", b"pw"])),
            (S, b"-WRONGPASS no\r\n".to_vec()),
            (C, resp(&[b"HELLO", b"3", b"AUTH", b"bob", b"s3cret"])),
            (S, b"%1\r\n$6\r\nserver\r\n|1\r\n+a\r\n+b\r\n*1\r\n:1\r\n".to_vec()),
            (C, b"AUTH pw\r\n".to_vec()),
            (S, b"+OK\r\n".to_vec()),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Redis::default, &refs);
        }
    }

    #[test]
    fn no_transcript_line_shows_an_auth_or_hello_password_once_redacted() {
        let wrong = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
        let conv: &[(Side, &[u8])] = &[
            (C, &resp(&[b"AUTH", b"pw-one"])),
            (S, wrong),
            (C, b"AUTH alice pw-two\r\n"),
            (S, wrong),
            (C, &resp(&[b"HELLO", b"3", b"AUTH", b"bob", b"pw-three", b"SETNAME", b"app"])),
            (S, b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        ];
        let got = run_both(Redis::default, conv);
        assert_eq!(got.logins.len(), 3);
        assert_no_secret_shown(&got, &[b"pw-one", b"pw-two", b"pw-three"]);
        let t = full(&got.logins[2].transcript);
        assert!(t.contains(&"C: HELLO 3 AUTH bob pw-three SETNAME app".to_string()), "{t:?}");
    }

    #[test]
    fn a_skipped_auth_argument_and_an_overlong_line_are_counted() {
        let long = vec![b'x'; 2000];
        let got = run_both(Redis::default, &[(C, &resp(&[b"AUTH", &long])), (S, b"+OK\r\n")]);
        assert!(got.logins.is_empty());
        assert!(got.events.contains(&crate::proto::Event::RedisArgSkipped), "{:?}", got.events);
        let line = [vec![b'+'; crate::proto::MAX_LINE + 10], b"\r\n".to_vec()].concat();
        let mut r = Redis::default();
        let mut out = crate::proto::Logins::default();
        for c in line.chunks(100) {
            r.on_data(S, c, Timestamp::from_secs(1), &mut out);
        }
        assert_eq!(out.events, vec![crate::proto::Event::LineTooLong]);
    }
}

#[cfg(test)]
mod transcript_tests {
    use super::super::testutil::{C, S, run_both};
    use super::*;

    #[test]
    fn an_auth_after_a_long_session_has_its_command_and_reply_in_the_transcript() {
        let mut conv: Vec<(Side, Vec<u8>)> = Vec::new();
        for i in 0..100 {
            conv.push((C, format!("*2\r\n$3\r\nGET\r\n$4\r\nk{i:03}\r\n").into_bytes()));
            conv.push((S, b"$1\r\nv\r\n".to_vec()));
        }
        conv.push((C, b"*2\r\n$4\r\nAUTH\r\n$10\r\nlate-pass1\r\n".to_vec()));
        conv.push((S, b"+OK\r\n".to_vec()));
        let refs: Vec<(Side, &[u8])> = conv.iter().map(|(s, d)| (*s, d.as_slice())).collect();
        let got = run_both(Redis::default, &refs);
        assert_eq!(got.logins.len(), 1);
        let t = super::super::testutil::full(&got.logins[0].transcript);
        assert!(t.len() <= super::super::MAX_TRANSCRIPT);
        assert!(t.iter().any(|l| l.contains("AUTH late-pass1")), "{t:?}");
        super::super::testutil::assert_no_secret_shown(&got, &[b"late-pass1"]);
        assert_eq!(t.last().map(String::as_str), Some("S: +OK"), "{t:?}");
        assert!(t.iter().any(|l| l.starts_with("C: GET")), "earlier commands give context: {t:?}");
    }
}
