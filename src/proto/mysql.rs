//! MySQL and MariaDB (client/server protocol): the connection phase, up to the server's verdict.
//!
//! Every packet is a 3-byte little-endian length, a sequence number and the payload; packets are framed
//! per direction by [`super::ber::Framer`] (buffered up to `MAX_LINE`, longer ones skipped). The server
//! speaks first: a HandshakeV10 greeting (protocol 10, version, the first 8 bytes of the 20-byte scramble,
//! capabilities, the other 12 bytes, the default auth plugin), or an ERR packet (a host not allowed).
//! The client answers with
//! - an SSLRequest (32 bytes with `CLIENT_SSL`): TLS follows, nothing more is parsed
//!   ([`LoginSink::on_tls`]);
//! - a HandshakeResponse41: user, auth response, database, plugin name. What the response is depends
//!   on the plugin: `mysql_native_password` is SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))),
//!   crackable material ([`Cred::HashOnly`] with [`Material::MysqlNative`]); `mysql_clear_password`
//!   (PAM, LDAP back ends) is the password itself, NUL-terminated ([`Cred::Password`]); the others
//!   (`caching_sha2_password`, `client_ed25519`, `sha256_password`) are hash-only too, without a
//!   hashcat format. An empty response is a user without a password: no secret, no login.
//!
//! The server may answer with an AuthSwitchRequest (`0xfe`, a plugin name and a fresh scramble): the
//! client's next packet is the auth data for that plugin (the password in clear for
//! `mysql_clear_password`). AuthMoreData (`0x01`) goes on with the same plugin (caching_sha2's fast or
//! full path: over plain TCP the full path encrypts the password with the server's RSA key, or fails).
//! OK (`0x00`) is the verdict Accepted, ERR (`0xff`, e.g. 1045 access denied) Refused. After the verdict
//! nothing more is parsed (queries are not credentials; `COM_CHANGE_USER` is rare and not followed).

use super::ber::{self, Exchange, FrameProto, Framed};
use super::material::Material;
use super::{Cred, Line, Login, LoginSink, Proto, Verdict, secret, text};
use crate::reassembly::Side;
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

const CLIENT_CONNECT_WITH_DB: u32 = 0x8;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_SSL: u32 = 0x800;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x8_0000;
const CLIENT_PLUGIN_AUTH_LENENC_DATA: u32 = 0x20_0000;

/// A plugin whose auth data is the password in clear.
const CLEAR: &str = "mysql_clear_password";
const NATIVE: &str = "mysql_native_password";

/// One MySQL connection.
pub type Mysql = Framed<State>;

#[derive(Default, Debug)]
pub struct State {
    ex: Exchange,
    /// The scramble the next native response answers (the greeting's, or an AuthSwitchRequest's).
    scramble: Vec<u8>,
    /// The plugin the client's next auth data is for.
    plugin: String,
    user: Option<String>,
    /// The client's HandshakeResponse was seen: its next packet is auth data (after a switch).
    responded: bool,
    /// The server asked to switch plugins: the client's next packet is auth data for `plugin`.
    switched: bool,
    done: bool,
}

/// A packet's total length (header included).
fn packet_len(h: &[u8]) -> ber::Len {
    match h.get(..3) {
        None => ber::Len::Need,
        Some(l) => {
            let n = usize::from(l[0]) | usize::from(l[1]) << 8 | usize::from(l[2]) << 16;
            // A packet of 2^24-1 bytes continues in the next one: never in the connection phase.
            if n == 0xff_ffff { ber::Len::Bad } else { ber::Len::Is(4 + n) }
        }
    }
}

/// A NUL-terminated string and the rest.
fn cstr(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(0, b)?;
    Some((b.get(..i)?, b.get(i + 1..)?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// A length-encoded integer and the rest.
fn lenenc(b: &[u8]) -> Option<(u64, &[u8])> {
    let (&f, r) = b.split_first()?;
    let n = match f {
        0..=0xfa => return Some((u64::from(f), r)),
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => return None,
    };
    let v = r.get(..n)?.iter().rev().fold(0u64, |a, &x| a << 8 | u64::from(x));
    Some((v, r.get(n..)?))
}

/// The auth response of a HandshakeResponse41 and the rest.
fn auth_response(caps: u32, b: &[u8]) -> Option<(&[u8], &[u8])> {
    if caps & CLIENT_PLUGIN_AUTH_LENENC_DATA != 0 {
        let (n, r) = lenenc(b)?;
        let n = usize::try_from(n).ok()?;
        Some((r.get(..n)?, r.get(n..)?))
    } else if caps & CLIENT_SECURE_CONNECTION != 0 {
        let (&n, r) = b.split_first()?;
        let n = usize::from(n);
        Some((r.get(..n)?, r.get(n..)?))
    } else {
        cstr(b)
    }
}

fn prefix(side: Side) -> &'static str {
    if side == Side::Client { "C: " } else { "S: " }
}

/// The password of a `mysql_clear_password` packet: the data up to its NUL.
fn clear_password(data: &[u8]) -> &[u8] {
    cstr(data).map_or(data, |(s, _)| s)
}

impl State {
    fn line(&mut self, side: Side, line: &str, out: &mut dyn LoginSink) {
        self.ex.put(Line::lit_line(prefix(side), line.as_bytes()), out);
    }

    /// The client's auth data for the current plugin: a login waiting for the verdict.
    fn auth_data(&mut self, data: &[u8], what: &str, ts: Timestamp, out: &mut dyn LoginSink) {
        let plugin = self.plugin.clone();
        let mut line = Line::new(prefix(Side::Client));
        line.lit(what.as_bytes());
        let (s, cred, mechanism, material) = if plugin == CLEAR {
            let s = secret(clear_password(data));
            line.lit(b" password \"").secret(&s).lit(b"\"");
            (s, Cred::Password, CLEAR, None)
        } else {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            let s = Secret::new(&hex);
            line.lit(format!(" {} auth response ", text(plugin.as_bytes())).as_bytes()).secret(&s);
            let mechanism = match plugin.as_str() {
                "" | NATIVE => NATIVE,
                "caching_sha2_password" => "caching_sha2_password",
                "sha256_password" => "sha256_password",
                "client_ed25519" => "client_ed25519",
                _ => "other plugin",
            };
            // Only the native plugin's response has a cracker's format (and needs the 20-byte scramble).
            let material = (mechanism == NATIVE && data.len() == 20 && self.scramble.len() == 20)
                .then(|| Material::MysqlNative { scramble: self.scramble.clone(), response: data.to_vec() });
            (s, Cred::HashOnly, mechanism, material)
        };
        self.ex.put(line, out);
        // An empty response: an account without a password (or a client that only asks for the
        // server's RSA key, `0x01`/`0x02` of caching_sha2 and sha256): nothing crossed.
        if s.is_empty() || (cred == Cred::HashOnly && data.len() <= 1) {
            return;
        }
        let user = self.user.as_deref().map(Text::user);
        let login = Login::attempt(Proto::Mysql, mechanism, user, s, cred, false, ts).with_material(material);
        self.ex.attempt(login, out);
    }

    fn server(&mut self, m: &[u8], out: &mut dyn LoginSink) -> bool {
        let Some(&t) = m.first() else { return false };
        match t {
            0x0a if self.scramble.is_empty() && !self.responded => self.greeting(m, out),
            0x00 => {
                self.line(Side::Server, "OK", out);
                self.ex.settle(Verdict::Accepted, out);
                self.done = true;
                false
            }
            0xff => {
                let code = u16_le(m, 1).unwrap_or(0);
                let msg = m.get(3..).unwrap_or_default();
                let msg = msg.strip_prefix(b"#").map_or(msg, |r| r.get(5..).unwrap_or_default());
                self.line(Side::Server, &format!("ERR {code} {}", text(msg)), out);
                self.ex.settle(Verdict::Refused, out);
                // A refused client may try again with another plugin (it seldom does): keep reading
                // unless this was the answer to a completed exchange.
                self.done = self.responded;
                !self.done
            }
            0xfe if m.len() > 1 => {
                // AuthSwitchRequest: plugin name, then the plugin's data (a new scramble and a NUL).
                let body = m.get(1..).unwrap_or_default();
                let (name, data) = cstr(body).unwrap_or((body, b""));
                self.plugin = text(name);
                let data = data.strip_suffix(b"\0").unwrap_or(data);
                if !data.is_empty() {
                    self.scramble = data.to_vec();
                }
                self.switched = true;
                self.line(Side::Server, &format!("AuthSwitchRequest {}", self.plugin), out);
                true
            }
            0x01 => {
                // AuthMoreData: caching_sha2's 0x03 (fast auth done, OK follows) or 0x04 (full auth).
                self.switched = true;
                self.line(Side::Server, &format!("AuthMoreData ({} bytes)", m.len() - 1), out);
                true
            }
            _ => {
                self.line(Side::Server, "packet", out);
                true
            }
        }
    }

    fn greeting(&mut self, m: &[u8], out: &mut dyn LoginSink) -> bool {
        let Some((version, r)) = cstr(m.get(1..).unwrap_or_default()) else { return false };
        // conn id (4), scramble part 1 (8), filler (1), caps low (2), charset, status (2), caps high (2),
        // scramble length (1), reserved (10), then the rest of the scramble and the plugin name.
        let Some(part1) = r.get(4..12) else { return false };
        let caps = u32::from(u16_le(r, 13).unwrap_or(0)) | u32::from(u16_le(r, 18).unwrap_or(0)) << 16;
        let rest = r.get(31..).unwrap_or_default();
        let (part2, plugin) = match cstr(rest) {
            Some((p2, name)) => (p2, cstr(name).map_or(name, |(n, _)| n)),
            None => (rest, &b""[..]),
        };
        self.scramble = [part1, part2.get(..12).unwrap_or(part2)].concat();
        self.plugin = if caps & CLIENT_PLUGIN_AUTH != 0 { text(plugin) } else { String::new() };
        self.line(Side::Server, &format!("greeting {} auth {}", text(version), self.plugin), out);
        true
    }

    fn client(&mut self, m: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        if self.switched {
            self.switched = false;
            // A client asking caching_sha2 for the RSA key (one byte 0x02) or answering it: no secret.
            self.auth_data(m, "auth data", ts, out);
            return true;
        }
        if self.responded {
            self.line(Side::Client, "packet", out);
            return true;
        }
        let Some(caps) = u32_le(m, 0) else { return false };
        if caps & CLIENT_PROTOCOL_41 == 0 {
            // HandshakeResponse320 (pre-4.1 servers): its password scramble has no format of ours.
            self.line(Side::Client, "HandshakeResponse320", out);
            self.done = true;
            return false;
        }
        if m.len() == 32 && caps & CLIENT_SSL != 0 {
            self.line(Side::Client, "SSLRequest", out);
            self.done = true;
            out.on_tls();
            return false;
        }
        let Some(body) = m.get(32..) else { return false };
        let Some((user, r)) = cstr(body) else { return false };
        let Some((auth, r)) = auth_response(caps, r) else { return false };
        let (db, r) = if caps & CLIENT_CONNECT_WITH_DB != 0 { cstr(r).unwrap_or((r, b"")) } else { (&b""[..], r) };
        if caps & CLIENT_PLUGIN_AUTH != 0 {
            if let Some((p, _)) = cstr(r).or(Some((r, b""))).filter(|(p, _)| !p.is_empty()) {
                self.plugin = text(p);
            }
        }
        self.user = Some(text(user)).filter(|u| !u.is_empty());
        self.responded = true;
        let mut l = Line::new(prefix(Side::Client));
        l.lit(b"HandshakeResponse user=").user(user);
        if !db.is_empty() {
            l.lit(format!(" db={}", text(db)).as_bytes());
        }
        l.lit(format!(" plugin={}", self.plugin).as_bytes());
        self.ex.put(l, out);
        self.auth_data(auth, "auth response", ts, out);
        true
    }
}

impl FrameProto for State {
    fn len(&self, _: Side, h: &[u8]) -> ber::Len {
        packet_len(h)
    }

    /// One packet; `false`: not MySQL (or nothing more to parse) for this direction.
    fn message(&mut self, side: Side, p: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool {
        if self.done {
            return false;
        }
        let payload = p.get(4..).unwrap_or_default();
        match side {
            Side::Server => self.server(payload, out),
            Side::Client => self.client(payload, ts, out),
        }
    }

    fn done(&self) -> bool {
        self.done
    }

    fn close(&mut self, out: &mut dyn LoginSink) {
        self.ex.close(out);
    }
}

/// Builders of MySQL packets (tests, the hostile and capture generators).
pub mod enc {
    /// A packet: 3-byte length, sequence number, payload.
    pub fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
        let n = payload.len() as u32;
        let mut v = vec![n as u8, (n >> 8) as u8, (n >> 16) as u8, seq];
        v.extend_from_slice(payload);
        v
    }

    /// A HandshakeV10 greeting with this 20-byte scramble and default plugin.
    pub fn greeting(version: &str, scramble: &[u8; 20], plugin: &str) -> Vec<u8> {
        let caps: u32 = 0xa00f_f7ff; // PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, SSL...
        let mut p = vec![0x0a];
        p.extend_from_slice(version.as_bytes());
        p.push(0);
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(&scramble[..8]);
        p.push(0);
        p.extend_from_slice(&(caps as u16).to_le_bytes());
        p.push(0x2d);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0; 10]);
        p.extend_from_slice(&scramble[8..]);
        p.push(0);
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
        packet(0, &p)
    }

    /// A HandshakeResponse41 (1-byte auth length, database, plugin name).
    pub fn response(user: &str, auth: &[u8], db: Option<&str>, plugin: &str) -> Vec<u8> {
        let mut caps: u32 = 0x0000_0200 | 0x8000 | 0x8_0000 | 0x1;
        if db.is_some() {
            caps |= 0x8;
        }
        let mut p = caps.to_le_bytes().to_vec();
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(0x2d);
        p.extend_from_slice(&[0; 23]);
        p.extend_from_slice(user.as_bytes());
        p.push(0);
        p.push(auth.len() as u8);
        p.extend_from_slice(auth);
        if let Some(d) = db {
            p.extend_from_slice(d.as_bytes());
            p.push(0);
        }
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
        packet(1, &p)
    }

    /// An SSLRequest.
    pub fn ssl_request() -> Vec<u8> {
        let caps: u32 = 0x0000_0200 | 0x8000 | 0x8_0000 | 0x800;
        let mut p = caps.to_le_bytes().to_vec();
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(0x2d);
        p.extend_from_slice(&[0; 23]);
        packet(1, &p)
    }

    pub fn ok(seq: u8) -> Vec<u8> {
        packet(seq, &[0, 0, 0, 2, 0, 0, 0])
    }

    pub fn err(seq: u8, code: u16, msg: &str) -> Vec<u8> {
        let mut p = vec![0xff];
        p.extend_from_slice(&code.to_le_bytes());
        p.extend_from_slice(b"#28000");
        p.extend_from_slice(msg.as_bytes());
        packet(seq, &p)
    }

    /// An AuthSwitchRequest to `plugin` with `data` (a scramble and its NUL, or nothing).
    pub fn switch(seq: u8, plugin: &str, data: &[u8]) -> Vec<u8> {
        let mut p = vec![0xfe];
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
        p.extend_from_slice(data);
        packet(seq, &p)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;

    const SCRAMBLE: [u8; 20] = *b"abcdefghij0123456789";

    fn summary(got: &super::super::Logins) -> Vec<(&'static str, Option<&str>, &str, Cred, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.cred, l.verdict)).collect()
    }

    #[test]
    fn native_password_is_material_with_the_scramble_accepted_and_refused() {
        let resp: Vec<u8> = (100..120).collect();
        for (answer, v) in [(enc::ok(2), Verdict::Accepted), (enc::err(2, 1045, "Access denied"), Verdict::Refused)] {
            let conv: &[(Side, &[u8])] = &[
                (S, &enc::greeting("5.5.5-10.11.6-MariaDB", &SCRAMBLE, NATIVE)),
                (C, &enc::response("alice", &resp, Some("shop"), NATIVE)),
                (S, &answer),
            ];
            let got = run_both(Mysql::default, conv);
            let hex: String = resp.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(summary(&got), vec![(NATIVE, Some("alice"), hex.as_str(), Cred::HashOnly, v)]);
            let want = Material::MysqlNative { scramble: SCRAMBLE.to_vec(), response: resp.clone() };
            assert_eq!(got.logins[0].material.as_deref(), Some(&want));
            let t = full(&got.logins[0].transcript);
            assert_eq!(t[0], "S: greeting 5.5.5-10.11.6-MariaDB auth mysql_native_password");
            assert_eq!(t[1], "C: HandshakeResponse user=alice db=shop plugin=mysql_native_password");
            assert!(t.last().is_some_and(|l| l.starts_with(if v == Verdict::Accepted {
                "S: OK"
            } else {
                "S: ERR 1045"
            })));
            assert_no_secret_shown(&got, &[hex.as_bytes()]);
        }
    }

    #[test]
    fn clear_password_after_an_auth_switch_is_a_cleartext_login() {
        let conv: &[(Side, &[u8])] = &[
            (S, &enc::greeting("8.0.36", &SCRAMBLE, "caching_sha2_password")),
            (C, &enc::response("bob", &[7; 32], None, "caching_sha2_password")),
            (S, &enc::switch(2, CLEAR, b"")),
            (C, &enc::packet(3, b"Cl3ar-pw!\0")),
            (S, &enc::ok(4)),
        ];
        let got = run_both(Mysql::default, conv);
        assert_eq!(
            summary(&got),
            vec![
                ("caching_sha2_password", Some("bob"), &"07".repeat(32)[..], Cred::HashOnly, Verdict::Unknown),
                (CLEAR, Some("bob"), "Cl3ar-pw!", Cred::Password, Verdict::Accepted),
            ]
        );
        assert!(got.logins[0].material.is_none(), "no hashcat format for caching_sha2");
        assert!(full(&got.logins[1].transcript).iter().any(|l| l == "C: auth data password \"Cl3ar-pw!\""));
        assert_no_secret_shown(&got, &[b"Cl3ar-pw!"]);
    }

    #[test]
    fn a_client_defaulting_to_clear_password_sends_it_in_the_handshake_response() {
        let conv: &[(Side, &[u8])] = &[
            (S, &enc::greeting("10.11.6-MariaDB", &SCRAMBLE, NATIVE)),
            (C, &enc::response("carol", b"pw-in-clear\0", None, CLEAR)),
            (S, &enc::err(2, 1045, "Access denied for user 'carol'")),
        ];
        let got = run_both(Mysql::default, conv);
        assert_eq!(summary(&got), vec![(CLEAR, Some("carol"), "pw-in-clear", Cred::Password, Verdict::Refused)]);
    }

    #[test]
    fn native_switch_uses_the_new_scramble_and_an_empty_password_is_nothing() {
        let fresh = *b"ZYXWVUTSRQPONMLKJIHG";
        let resp = [9u8; 20];
        let conv: &[(Side, &[u8])] = &[
            (S, &enc::greeting("10.11.6-MariaDB", &SCRAMBLE, NATIVE)),
            (C, &enc::response("dave", &[], None, "client_ed25519")),
            (S, &enc::switch(2, NATIVE, &[&fresh[..], b"\0"].concat())),
            (C, &enc::packet(3, &resp)),
            (S, &enc::ok(4)),
        ];
        let got = run_both(Mysql::default, conv);
        assert_eq!(got.logins.len(), 1);
        let want = Material::MysqlNative { scramble: fresh.to_vec(), response: resp.to_vec() };
        assert_eq!(got.logins[0].material.as_deref(), Some(&want));
        assert_eq!(got.logins[0].verdict, Verdict::Accepted);
    }

    #[test]
    fn ssl_request_means_tls_and_nothing_after() {
        let conv: &[(Side, &[u8])] = &[
            (S, &enc::greeting("10.11.6-MariaDB", &SCRAMBLE, NATIVE)),
            (C, &enc::ssl_request()),
            (C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
            (S, b"\x16\x03\x03\x00\x7a\x02"),
        ];
        let got = run_both(Mysql::default, conv);
        assert!(got.tls);
        assert!(got.logins.is_empty());
    }

    #[test]
    fn unanswered_login_is_unknown_and_other_traffic_gives_nothing() {
        let resp = [1u8; 20];
        let conv: &[(Side, &[u8])] = &[
            (S, &enc::greeting("10.11.6-MariaDB", &SCRAMBLE, NATIVE)),
            (C, &enc::response("erin", &resp, None, NATIVE)),
        ];
        assert_eq!(run_both(Mysql::default, conv).logins[0].verdict, Verdict::Unknown);
        assert!(
            run_both(Mysql::default, &[(C, b"GET / HTTP/1.1\r\n\r\n"), (S, b"HTTP/1.1 200 OK\r\n\r\n")])
                .logins
                .is_empty()
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Random packets and random bytes, cut anywhere: no panic, at most one login per client packet,
        /// and a real exchange among them still cut the same way whole or byte by byte.
        #[test]
        fn random_bytes_in_random_cuttings_never_panic(
            msgs in proptest::collection::vec((proptest::bool::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..80)), 0..12),
            cut in 1usize..7,
        ) {
            let mut conv: Vec<(Side, Vec<u8>)> = vec![(S, enc::greeting("10.11.6-MariaDB", &SCRAMBLE, NATIVE))];
            for (client, m) in msgs {
                conv.push((if client { C } else { S }, if m.first().is_some_and(|b| b % 2 == 0) { enc::packet(1, &m) } else { m }));
            }
            let mut s = Mysql::default();
            let out = super::super::testutil::run_cut(&mut s, &conv, cut);
            proptest::prop_assert!(out.logins.len() <= conv.len());
            for l in &out.logins {
                proptest::prop_assert!(!l.secret.is_empty());
                proptest::prop_assert!(l.transcript.len() <= super::super::MAX_TRANSCRIPT);
            }
        }
    }

    #[test]
    fn mutated_conversations_never_panic() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (S, enc::greeting("10.11.6-MariaDB", &SCRAMBLE, NATIVE)),
            (C, enc::response("bob", &[7; 32], Some("db"), "caching_sha2_password")),
            (S, enc::switch(2, CLEAR, b"")),
            (C, enc::packet(3, b"Cl3ar-pw!\0")),
            (S, enc::ok(4)),
        ];
        for c in super::super::ber::enc::mutations(&conv, 500) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Mysql::default, &refs);
        }
    }
}
