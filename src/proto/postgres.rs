//! PostgreSQL (frontend/backend protocol 3.0): cleartext, MD5 and SCRAM password exchanges, with the
//! verdict of AuthenticationOk or ErrorResponse; SSLRequest/GSSENCRequest.
//!
//! The client's first message has no type byte (int32 length, int32 code): a StartupMessage (user,
//! database), an SSLRequest or GSSENCRequest (answered by one byte: `S`/`G` means what follows is
//! encrypted, so parsing stops; `N` means the client goes on in the clear with a StartupMessage), or a
//! CancelRequest. Every later message is a type byte and an int32 length; messages are framed per
//! direction by [`super::ber::Framer`] (buffered up to `MAX_LINE`, longer ones skipped), and a length
//! below 4 or beyond 1 GiB, or an unknown protocol version, means it is not PostgreSQL.
//!
//! The server's `R` Authentication request says what the next PasswordMessage (`p`) holds: after code 3
//! the cleartext password (a [`Cred::Password`] login), after code 5 `md5` + hash (HashOnly), after code
//! 10 the SASL exchange, whose client-final-message carries the SCRAM proof `p=` (HashOnly). `R` 0
//! (AuthenticationOk) is Accepted, an ErrorResponse Refused (its SQLSTATE, e.g. 28P01, goes in the
//! transcript).

use super::be::u32_at;
use super::ber::{self, Exchange, FrameProto, Framed};
use super::material::Material;
use super::{Cred, Line, Login, LoginSink, Proto, Verdict, secret, text};
use crate::reassembly::Side;
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

const PROTO_3: u32 = 196_608;
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;
/// Longest message length we believe (PostgreSQL caps most messages at 1 GiB). Past it, or past the
/// startup limit below, the direction is not PostgreSQL and is given up, not counted as a cap: a server
/// refuses such a message, so no login can follow it.
const MAX_LEN: u32 = 1 << 30;
/// Longest startup packet (PostgreSQL's own limit is 10000).
const MAX_STARTUP: u32 = 10_000;

/// One PostgreSQL connection.
pub type Postgres = Framed<State>;

#[derive(Default, Debug)]
pub struct State {
    ex: Exchange,
    /// The client's startup phase is over (its messages now have a type byte).
    client_typed: bool,
    /// The server is to answer an SSLRequest/GSSENCRequest with one byte.
    server_byte: bool,
    user: Option<String>,
    /// The last Authentication request code.
    auth: u32,
    sasl_mech: &'static str,
    /// The salt of the last AuthenticationMD5Password (the md5 response's material).
    salt: Option<[u8; 4]>,
    done: bool,
}

fn typed_len(h: &[u8]) -> ber::Len {
    let Some(&t) = h.first() else { return ber::Len::Need };
    if !t.is_ascii_alphabetic() {
        return ber::Len::Bad;
    }
    match u32_at(h, 1) {
        None if h.len() < 5 => ber::Len::Need,
        None => ber::Len::Bad,
        Some(n) if !(4..=MAX_LEN).contains(&n) => ber::Len::Bad,
        Some(n) => ber::Len::Is(1 + n as usize),
    }
}

fn startup_len(h: &[u8]) -> ber::Len {
    match u32_at(h, 0) {
        None if h.len() < 4 => ber::Len::Need,
        Some(n) if (8..=MAX_STARTUP).contains(&n) => ber::Len::Is(n as usize),
        _ => ber::Len::Bad,
    }
}

/// A NUL-terminated string and the rest.
fn cstr(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(0, b)?;
    Some((b.get(..i)?, b.get(i + 1..)?))
}

fn auth_name(code: u32) -> &'static str {
    match code {
        0 => "AuthenticationOk",
        2 => "AuthenticationKerberosV5",
        3 => "AuthenticationCleartextPassword",
        5 => "AuthenticationMD5Password",
        7 => "AuthenticationGSS",
        8 => "AuthenticationGSSContinue",
        9 => "AuthenticationSSPI",
        10 => "AuthenticationSASL",
        11 => "AuthenticationSASLContinue",
        12 => "AuthenticationSASLFinal",
        _ => "Authentication?",
    }
}

fn server_type_name(t: u8) -> &'static str {
    match t {
        b'S' => "ParameterStatus",
        b'K' => "BackendKeyData",
        b'Z' => "ReadyForQuery",
        b'T' => "RowDescription",
        b'D' => "DataRow",
        b'C' => "CommandComplete",
        b'N' => "NoticeResponse",
        b'A' => "NotificationResponse",
        _ => "message",
    }
}

fn client_type_name(t: u8) -> &'static str {
    match t {
        b'Q' => "Query",
        b'P' => "Parse",
        b'B' => "Bind",
        b'E' => "Execute",
        b'S' => "Sync",
        b'X' => "Terminate",
        _ => "message",
    }
}

fn prefix(side: Side) -> &'static str {
    if side == Side::Client { "C: " } else { "S: " }
}

impl State {
    fn line(&mut self, side: Side, line: &str, out: &mut dyn LoginSink) {
        self.ex.put(Line::lit_line(prefix(side), line.as_bytes()), out);
    }

    fn login(
        &mut self,
        mechanism: &'static str,
        secret: Secret,
        cred: Cred,
        material: Option<Material>,
        ts: Timestamp,
        out: &mut dyn LoginSink,
    ) {
        // Raw bytes that were only control characters leave no secret: no login.
        if secret.is_empty() {
            return;
        }
        let user = self.user.as_deref().map(Text::user);
        let login = Login::attempt(Proto::Postgres, mechanism, user, secret, cred, false, ts);
        self.ex.attempt(login.with_material(material), out);
    }

    fn startup(&mut self, m: &[u8], out: &mut dyn LoginSink) -> bool {
        let Some(code) = u32_at(m, 4) else { return false };
        let body = m.get(8..).unwrap_or_default();
        match code {
            SSL_REQUEST => {
                self.line(Side::Client, "SSLRequest", out);
                self.server_byte = true;
                true
            }
            GSSENC_REQUEST => {
                self.line(Side::Client, "GSSENCRequest", out);
                self.server_byte = true;
                true
            }
            CANCEL_REQUEST => {
                self.line(Side::Client, "CancelRequest", out);
                false
            }
            PROTO_3 => {
                let mut rest = body;
                let mut t = Line::new(prefix(Side::Client));
                t.lit(b"startup");
                while let Some((k, r)) = cstr(rest) {
                    if k.is_empty() {
                        break;
                    }
                    let Some((v, r)) = cstr(r) else { break };
                    rest = r;
                    match k {
                        b"user" => {
                            self.user = Some(text(v)).filter(|u| !u.is_empty());
                            t.lit(b" user=").user(v);
                        }
                        b"database" | b"application_name" => {
                            t.lit(format!(" {}={}", text(k), text(v)).as_bytes());
                        }
                        _ => {}
                    }
                }
                self.ex.put(t, out);
                self.client_typed = true;
                true
            }
            _ => false,
        }
    }

    fn client(&mut self, m: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        let Some(&t) = m.first() else { return false };
        let body = m.get(5..).unwrap_or_default();
        if t != b'p' {
            self.line(Side::Client, client_type_name(t), out);
            return true;
        }
        let mut line = Line::new(prefix(Side::Client));
        match self.auth {
            3 => {
                let pw = cstr(body).map_or(body, |(s, _)| s);
                let s = secret(pw);
                line.lit(b"PasswordMessage \"").secret(&s).lit(b"\"");
                self.ex.put(line, out);
                self.login("password message", s, Cred::Password, None, ts, out);
            }
            5 => {
                let h = cstr(body).map_or(body, |(s, _)| s);
                let s = secret(h);
                line.lit(b"PasswordMessage ").secret(&s);
                self.ex.put(line, out);
                // `md5` + hex(md5(hex(md5(password + user)) + salt)): with the salt and user, crackable.
                let hash = h.strip_prefix(b"md5").filter(|x| x.len() == 32 && x.iter().all(u8::is_ascii_hexdigit));
                let material = match (self.salt, hash, self.user.as_deref()) {
                    (Some(salt), Some(hash), Some(user)) => Some(Material::PostgresMd5 {
                        user: user.to_string(),
                        salt,
                        hash: text(hash).to_ascii_lowercase(),
                    }),
                    _ => None,
                };
                self.login("md5", s, Cred::HashOnly, material, ts, out);
            }
            10 => {
                // SASLInitialResponse: mechanism, int32 length, client-first-message (a nonce and the
                // user name: no secret yet).
                let Some((mech, rest)) = cstr(body) else { return false };
                self.sasl_mech = if mech.ends_with(b"-PLUS") { "SCRAM-SHA-256-PLUS" } else { "SCRAM-SHA-256" };
                let first = rest.get(4..).unwrap_or_default();
                self.line(Side::Client, &format!("SASLInitialResponse {} {}", text(mech), text(first)), out);
            }
            11 => {
                // SASLResponse: client-final-message `c=...,r=...,p=proof`; the proof is the material.
                line.lit(b"SASLResponse ");
                let mut proof = None;
                for (i, f) in body.split(|&b| b == b',').enumerate() {
                    if i > 0 {
                        line.lit(b",");
                    }
                    match f.strip_prefix(b"p=") {
                        Some(p) => {
                            let s = secret(p);
                            line.lit(b"p=").secret(&s);
                            proof = Some(s);
                        }
                        None => {
                            line.lit(f);
                        }
                    }
                }
                self.ex.put(line, out);
                if let Some(p) = proof.filter(|p| !p.is_empty()) {
                    let mech = if self.sasl_mech.is_empty() { "SCRAM-SHA-256" } else { self.sasl_mech };
                    self.login(mech, p, Cred::HashOnly, None, ts, out);
                }
            }
            _ => self.line(Side::Client, &format!("PasswordMessage ({} bytes)", body.len()), out),
        }
        true
    }

    fn server(&mut self, m: &[u8], out: &mut dyn LoginSink) -> bool {
        let Some(&t) = m.first() else { return false };
        let body = m.get(5..).unwrap_or_default();
        match t {
            b'R' => {
                let Some(code) = u32_at(body, 0) else { return false };
                let extra = match code {
                    10 => {
                        let mechs: Vec<String> = body
                            .get(4..)
                            .unwrap_or_default()
                            .split(|&b| b == 0)
                            .filter(|s| !s.is_empty())
                            .map(text)
                            .collect();
                        format!(" {}", mechs.join(","))
                    }
                    _ => String::new(),
                };
                self.line(Side::Server, &format!("{}{extra}", auth_name(code)), out);
                if code == 5 {
                    self.salt = body.get(4..8).and_then(|s| <[u8; 4]>::try_from(s).ok());
                }
                match code {
                    0 => self.ex.settle(Verdict::Accepted, out),
                    12 => {}
                    c => self.auth = c,
                }
            }
            b'E' => {
                let (mut code, mut msg) = (&b""[..], &b""[..]);
                let mut rest = body;
                while let Some((&f, r)) = rest.split_first() {
                    if f == 0 {
                        break;
                    }
                    let Some((v, r)) = cstr(r) else { break };
                    rest = r;
                    match f {
                        b'C' => code = v,
                        b'M' => msg = v,
                        _ => {}
                    }
                }
                self.line(Side::Server, &format!("ErrorResponse {} {}", text(code), text(msg)), out);
                self.ex.settle(Verdict::Refused, out);
            }
            _ => self.line(Side::Server, server_type_name(t), out),
        }
        true
    }
}

impl FrameProto for State {
    fn len(&self, side: Side, h: &[u8]) -> ber::Len {
        match side {
            Side::Client if !self.client_typed => startup_len(h),
            Side::Server if self.server_byte => match h.first() {
                None => ber::Len::Need,
                Some(b'S' | b'N' | b'G') => ber::Len::Is(1),
                Some(_) => typed_len(h),
            },
            _ => typed_len(h),
        }
    }

    /// One message; `false`: not PostgreSQL (or nothing more to parse) for this direction.
    fn message(&mut self, side: Side, m: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        if self.done {
            return false;
        }
        match side {
            Side::Client if !self.client_typed => self.startup(m, out),
            Side::Client => self.client(m, ts, out),
            Side::Server if self.server_byte && m.len() == 1 => {
                self.server_byte = false;
                match m.first() {
                    Some(b'S') => {
                        self.line(side, "S (TLS accepted)", out);
                        self.done = true;
                        out.on_tls();
                        false
                    }
                    Some(b'G') => {
                        self.line(side, "G (GSSAPI encryption accepted)", out);
                        self.done = true;
                        out.on_tls();
                        false
                    }
                    _ => {
                        self.line(side, "N (encryption refused)", out);
                        true
                    }
                }
            }
            Side::Server => {
                self.server_byte = false;
                self.server(m, out)
            }
        }
    }

    fn done(&self) -> bool {
        self.done
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        self.ex.close(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;
    use crate::proto::TlsNote;

    fn untyped(code: u32, body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend(code.to_be_bytes());
        v.extend_from_slice(body);
        v
    }
    fn startup(user: &str, db: &str) -> Vec<u8> {
        untyped(PROTO_3, format!("user\0{user}\0database\0{db}\0\0").as_bytes())
    }
    fn msg(t: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![t];
        v.extend(((body.len() + 4) as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }
    fn auth(code: u32, extra: &[u8]) -> Vec<u8> {
        msg(b'R', &[&code.to_be_bytes()[..], extra].concat())
    }
    fn error(code: &str, m: &str) -> Vec<u8> {
        msg(b'E', format!("SFATAL\0C{code}\0M{m}\0\0").as_bytes())
    }
    fn summary(got: &super::super::Logins) -> Vec<(&'static str, Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn cleartext_password_accepted() {
        let ok = [auth(0, b""), msg(b'S', b"server_version\x0016\0"), msg(b'Z', b"I")].concat();
        let conv: &[(Side, &[u8])] =
            &[(C, &startup("alice", "shop")), (S, &auth(3, b"")), (C, &msg(b'p', b"hunter2\0")), (S, &ok)];
        let got = run_both(Postgres::default, conv);
        assert_eq!(summary(&got), vec![("password message", Some("alice"), "hunter2", Verdict::Accepted)]);
        let t = full(&got.logins[0].transcript);
        assert_eq!(t[0], "C: startup user=alice database=shop");
        assert_eq!(t[1], "S: AuthenticationCleartextPassword");
        assert_eq!(t[2], "C: PasswordMessage \"hunter2\"");
        assert_eq!(got.logins[0].ts, Timestamp::from_secs(1_002));
    }

    #[test]
    fn md5_refused_with_28p01() {
        let hash = b"md5a3556571e93b0d20722ba62be61e8c2d\0";
        let err = error("28P01", "password authentication failed for user \"bob\"");
        let conv: &[(Side, &[u8])] =
            &[(C, &startup("bob", "db")), (S, &auth(5, b"\x01\x02\x03\x04")), (C, &msg(b'p', hash)), (S, &err)];
        let got = run_both(Postgres::default, conv);
        assert_eq!(summary(&got), vec![("md5", Some("bob"), "md5a3556571e93b0d20722ba62be61e8c2d", Verdict::Refused)]);
        assert_eq!(got.logins[0].cred, Cred::HashOnly);
        assert!(full(&got.logins[0].transcript).iter().any(|l| l.contains("28P01")));
        // The salt of AuthenticationMD5Password travels with the hash (`--export-hashes`).
        let want = super::super::material::Material::PostgresMd5 {
            user: "bob".into(),
            salt: [1, 2, 3, 4],
            hash: "a3556571e93b0d20722ba62be61e8c2d".into(),
        };
        assert_eq!(got.logins[0].material.as_deref(), Some(&want));
    }

    #[test]
    fn scram_gives_the_client_proof_as_hash_only() {
        let first = b"n,,n=,r=rOprNGfwEbeRWgbNEkqO";
        let init = [&b"SCRAM-SHA-256\0"[..], &(first.len() as u32).to_be_bytes(), first].concat();
        let fin = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let conv: &[(Side, &[u8])] = &[
            (C, &startup("carol", "app")),
            (S, &auth(10, b"SCRAM-SHA-256\0\0")),
            (C, &msg(b'p', &init)),
            (S, &auth(11, b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
            (C, &msg(b'p', fin)),
            (S, &[auth(12, b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), auth(0, b"")].concat()),
        ];
        let got = run_both(Postgres::default, conv);
        assert_eq!(
            summary(&got),
            vec![("SCRAM-SHA-256", Some("carol"), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", Verdict::Accepted)]
        );
        assert_eq!(got.logins[0].cred, Cred::HashOnly);
    }

    #[test]
    fn ssl_request_accepted_stops_parsing() {
        let conv: &[(Side, &[u8])] = &[(C, &untyped(SSL_REQUEST, b"")), (S, b"S"), (C, b"\x16\x03\x01\x02\x00\x01")];
        let got = run_both(Postgres::default, conv);
        assert!(got.tls);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn ssl_request_refused_then_cleartext_login() {
        let conv: &[(Side, &[u8])] = &[
            (C, &untyped(SSL_REQUEST, b"")),
            (S, b"N"),
            (C, &startup("dave", "x")),
            (S, &auth(3, b"")),
            (C, &msg(b'p', b"pw\0")),
            (S, &error("28P01", "password authentication failed")),
        ];
        let got = run_both(Postgres::default, conv);
        assert!(!got.tls);
        assert_eq!(summary(&got), vec![("password message", Some("dave"), "pw", Verdict::Refused)]);
        assert_eq!(got.logins[0].tls, TlsNote::NotOffered);
    }

    #[test]
    fn unanswered_password_is_unknown_and_non_postgres_ignored() {
        let conv: &[(Side, &[u8])] = &[(C, &startup("e", "x")), (S, &auth(3, b"")), (C, &msg(b'p', b"pw\0"))];
        let got = run_both(Postgres::default, conv);
        assert_eq!(summary(&got), vec![("password message", Some("e"), "pw", Verdict::Unknown)]);
        let got = run_both(Postgres::default, &[(C, b"GET / HTTP/1.1\r\n\r\n")]);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, untyped(SSL_REQUEST, b"")),
            (S, b"N".to_vec()),
            (C, startup("dave", "x")),
            (S, auth(3, b"")),
            (C, msg(b'p', b"pw\0")),
            (S, error("28P01", "password authentication failed")),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Postgres::default, &refs);
        }
    }

    #[test]
    fn no_transcript_line_shows_a_password_hash_or_proof_once_redacted() {
        let first = b"n,,n=,r=rOprNGfwEbeRWgbNEkqO";
        let init = [&b"SCRAM-SHA-256\0"[..], &(first.len() as u32).to_be_bytes(), first].concat();
        let fin = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let mut conv: Vec<(Side, Vec<u8>)> = vec![
            (C, startup("alice", "shop")),
            (S, auth(3, b"")),
            (C, msg(b'p', b"pw-clear\0")),
            (S, error("28P01", "password authentication failed")),
        ];
        let c2 = [startup("bob", "db"), Vec::new()].concat();
        let got1 = run_both(Postgres::default, &conv.iter().map(|(s, d)| (*s, d.as_slice())).collect::<Vec<_>>());
        assert_no_secret_shown(&got1, &[b"pw-clear"]);
        conv = vec![
            (C, c2),
            (S, auth(5, b"\x01\x02\x03\x04")),
            (C, msg(b'p', b"md5a3556571e93b0d20722ba62be61e8c2d\0")),
            (S, error("28P01", "password authentication failed")),
        ];
        let got2 = run_both(Postgres::default, &conv.iter().map(|(s, d)| (*s, d.as_slice())).collect::<Vec<_>>());
        assert_no_secret_shown(&got2, &[b"a3556571e93b0d20722ba62be61e8c2d"]);
        conv = vec![
            (C, startup("carol", "db")),
            (S, auth(10, b"SCRAM-SHA-256\0\0")),
            (C, msg(b'p', &init)),
            (S, auth(11, b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
            (C, msg(b'p', fin)),
            (S, error("28P01", "password authentication failed")),
        ];
        let got3 = run_both(Postgres::default, &conv.iter().map(|(s, d)| (*s, d.as_slice())).collect::<Vec<_>>());
        assert_eq!(got3.logins.len(), 1);
        assert_no_secret_shown(&got3, &[b"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="]);
        assert!(
            full(&got3.logins[0].transcript).iter().any(|l| l.ends_with(&String::from_utf8_lossy(fin).into_owned())),
            "revealed, the SASLResponse reads as sent"
        );
    }
}
