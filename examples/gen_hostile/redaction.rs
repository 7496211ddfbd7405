//! Pairs of captures that differ in one secret only (issue 10, section 1): the attacker's side of the
//! redaction property. Whoever reads plainsight's redacted outputs must learn nothing about a secret
//! beyond its length and fingerprint, so two captures whose only difference is one secret of the same
//! length must give byte-identical outputs once fingerprints are masked. The secret that makes a
//! search-and-replace scrubber leak is one equal to something else the output prints: a word of the
//! template (`password`, `Basic`, `login`), the user name, the host, a path segment.
//!
//! Every scenario is one exchange carrying `secret` where its kind puts it, between the same hosts,
//! user (`alice`), host (`shop.lab`) and path (`/login`, `/api/orders`), for every HTTP kind and every
//! protocol of `proto`.
//!
//! - `redaction SCENARIO OUT.pcap` writes one scenario with a fixed secret; `redaction-list` lists them.

use std::io;
use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame};

pub const USER: &str = "alice";
pub const HOST: &str = "shop.lab";
/// Words the outputs print around secrets, the user, the host and path segments: secrets equal to
/// these are the ones a text scrubber gives away.
pub const TRAPS: &[&str] = &[
    "password", "Basic", "Bearer", "login", "form", "with", "http", "curl", "user", "alice", "shop.lab", "orders",
    "secret", "chars", "accepted", "field", "header", "cookie", "session", "PASS", "USER", "AUTH", "LOGIN",
];

/// What a scenario's secret may look like (so that both captures of a pair are detected alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Any printable ASCII without spaces, quotes or backslashes, 1 character or more.
    Password,
    /// Letters, digits, `-` and `_`, 8 characters or more (cookies, API keys, bearer tokens).
    Token,
    /// The signature of a JWT: base64url characters, any length from 8 (the claims stay the same).
    JwtSignature,
}

impl Shape {
    pub fn accepts(self, s: &str) -> bool {
        let printable = |c: char| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '\\');
        match self {
            Shape::Password => !s.is_empty() && s.chars().all(printable),
            Shape::Token | Shape::JwtSignature => {
                s.len() >= 8 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            }
        }
    }
}

pub struct Scenario {
    pub name: &'static str,
    pub shape: Shape,
    pub build: fn(&str) -> Vec<Frame>,
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)))
}

fn conv(server: &str) -> Conversation {
    let mut c = Conversation::new(addr("10.66.0.1:40000"), addr(server));
    c.handshake();
    c
}

fn http(req: &str, resp: &str) -> Vec<Frame> {
    let mut c = conv("10.66.0.2:80");
    c.client(req.as_bytes()).server(resp.as_bytes()).close();
    c.take()
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

fn get(path: &str, header: &str) -> Vec<Frame> {
    http(&format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: curl/8.0\r\n{header}\r\n"), OK)
}

fn post(path: &str, ct: &str, body: &str) -> Vec<Frame> {
    http(
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        OK,
    )
}

/// A JWT for alice whose signature is `sig` (the claims, header and so the analysis are fixed).
pub fn jwt_with(sig: &str) -> String {
    let t = plainsight_synth::jwt(r#"{"sub":"alice","iss":"shop.lab","exp":1795003600}"#);
    let head = t.rsplit_once('.').map_or(t.as_str(), |(h, _)| h);
    format!("{head}.{sig}")
}

/// Percent-encoded as a form or URL carries it (RFC 3986's unreserved characters kept).
fn pct(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

fn b64(s: &[u8]) -> String {
    STANDARD.encode(s)
}

fn line_proto(server: &str, steps: &[(bool, String)]) -> Vec<Frame> {
    let mut c = conv(server);
    for (client, data) in steps {
        if *client {
            c.client(data.as_bytes());
        } else {
            c.server(data.as_bytes());
        }
    }
    c.close();
    c.take()
}

fn c(s: impl Into<String>) -> (bool, String) {
    (true, s.into())
}
fn s(s: impl Into<String>) -> (bool, String) {
    (false, s.into())
}

fn bytes_proto(server: &str, steps: &[(bool, Vec<u8>)]) -> Vec<Frame> {
    let mut conv = conv(server);
    for (client, data) in steps {
        if *client {
            conv.client(data);
        } else {
            conv.server(data);
        }
    }
    conv.close();
    conv.take()
}

/// A BER length.
fn ber_len(n: usize) -> Vec<u8> {
    if n < 128 {
        vec![n as u8]
    } else if n < 256 {
        vec![0x81, n as u8]
    } else {
        vec![0x82, (n >> 8) as u8, n as u8]
    }
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(ber_len(body.len()));
    v.extend_from_slice(body);
    v
}

fn ldap_bind(pw: &str) -> Vec<Frame> {
    let dn = "cn=alice,dc=shop,dc=lab";
    let mut bind = tlv(0x02, &[3]);
    bind.extend(tlv(0x04, dn.as_bytes()));
    bind.extend(tlv(0x80, pw.as_bytes()));
    let mut msg = tlv(0x02, &[1]);
    msg.extend(tlv(0x60, &bind));
    let req = tlv(0x30, &msg);
    let resp = [0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00];
    bytes_proto("10.66.0.2:389", &[(true, req), (false, resp.to_vec())])
}

fn mqtt_connect(pw: &str) -> Vec<Frame> {
    let field = |b: &[u8]| {
        let mut v = (b.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(b);
        v
    };
    let mut body = field(b"MQTT");
    body.extend([4, 0xc2, 0, 60]);
    body.extend(field(b"sensor-1"));
    body.extend(field(USER.as_bytes()));
    body.extend(field(pw.as_bytes()));
    let mut pkt = vec![0x10];
    let mut n = body.len();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        pkt.push(b);
        if n == 0 {
            break;
        }
    }
    pkt.extend(body);
    bytes_proto("10.66.0.2:1883", &[(true, pkt), (false, vec![0x20, 2, 0, 0])])
}

fn postgres(pw: &str) -> Vec<Frame> {
    let mut startup = Vec::new();
    let params = format!("user\0{USER}\0database\0shop\0\0");
    startup.extend(((8 + params.len()) as u32).to_be_bytes());
    startup.extend(196_608u32.to_be_bytes());
    startup.extend(params.as_bytes());
    let mut pass = vec![b'p'];
    pass.extend(((4 + pw.len() + 1) as u32).to_be_bytes());
    pass.extend(pw.as_bytes());
    pass.push(0);
    let cleartext = [b'R', 0, 0, 0, 8, 0, 0, 0, 3].to_vec();
    let mut ok = [b'R', 0, 0, 0, 8, 0, 0, 0, 0].to_vec();
    ok.extend([b'Z', 0, 0, 0, 5, b'I']);
    bytes_proto("10.66.0.2:5432", &[(true, startup), (false, cleartext), (true, pass), (false, ok)])
}

fn socks5(pw: &str) -> Vec<Frame> {
    let mut auth = vec![1, USER.len() as u8];
    auth.extend(USER.as_bytes());
    auth.push(pw.len() as u8);
    auth.extend(pw.as_bytes());
    bytes_proto("10.66.0.2:1080", &[(true, vec![5, 1, 2]), (false, vec![5, 2]), (true, auth), (false, vec![1, 0])])
}

fn redis(pw: &str) -> Vec<Frame> {
    line_proto(
        "10.66.0.2:6379",
        &[
            c(format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{pw}\r\n", pw.len())),
            s("+OK\r\n"),
            c("*1\r\n$4\r\nPING\r\n"),
            s("+PONG\r\n"),
        ],
    )
}

fn telnet(pw: &str) -> Vec<Frame> {
    let mut c = conv("10.66.0.2:23");
    c.server(&[255, 251, 1, 255, 251, 3, 255, 253, 24]);
    c.client(&[255, 253, 1, 255, 253, 3, 255, 252, 24]);
    c.server(b"\r\nDebian GNU/Linux 12\r\nshop login: ");
    for b in USER.bytes() {
        c.client(&[b]).server(&[b]);
    }
    c.client(b"\r\0").server(b"\r\nPassword: ");
    for b in pw.bytes() {
        c.client(&[b]);
    }
    c.client(b"\r\0");
    c.server(b"\r\nLast login: Mon Nov 16 09:12:01 2026 from 10.66.0.1\r\nalice@shop:~$ ");
    c.close();
    c.take()
}

fn snmp(community: &str) -> Vec<Frame> {
    let oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00];
    let pdu = |tag: u8, value: &[u8]| {
        let mut vb = oid.to_vec();
        vb.extend_from_slice(value);
        let vbl = tlv(0x30, &tlv(0x30, &vb));
        let mut p = tlv(0x02, &[0x11, 0x22]);
        p.extend(tlv(0x02, &[0]));
        p.extend(tlv(0x02, &[0]));
        p.extend(vbl);
        let mut m = tlv(0x02, &[1]);
        m.extend(tlv(0x04, community.as_bytes()));
        m.extend(tlv(tag, &p));
        tlv(0x30, &m)
    };
    let (mgr, agent) = (addr("10.66.0.1:40161"), addr("10.66.0.2:161"));
    let udp = |src: SocketAddr, dst: SocketAddr, payload: &[u8], ts: i64| {
        let (SocketAddr::V4(s), SocketAddr::V4(d)) = (src, dst) else { return Frame { ts, data: Vec::new() } };
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(s.ip().octets(), d.ip().octets(), 64)
            .udp(src.port(), dst.port());
        let mut data = Vec::with_capacity(b.size(payload.len()));
        if b.write(&mut data, payload).is_err() {
            data.clear();
        }
        Frame { ts, data }
    };
    let t0 = plainsight_synth::DEFAULT_START_MICROS;
    vec![
        udp(mgr, agent, &pdu(0xa0, &[0x05, 0x00]), t0 + 100),
        udp(agent, mgr, &pdu(0xa2, &tlv(0x04, b"shop")), t0 + 200),
    ]
}

/// A WebSocket connection to `/socket` at the shop: the upgrade, its 101 (`ext` negotiated), then one
/// masked text message from the client (compressed when `deflate`) and the server's `answer`.
fn websocket(ext: &str, message: &[u8], deflate: bool, answer: &[u8]) -> Vec<Frame> {
    let payload = if deflate {
        let mut c = flate2::Compress::new(flate2::Compression::default(), false);
        let mut out = Vec::with_capacity(message.len() + 64);
        let _ = c.compress_vec(message, &mut out, flate2::FlushCompress::Sync);
        out.truncate(out.len().saturating_sub(4));
        out
    } else {
        message.to_vec()
    };
    let mask = [0x1f, 0x8b, 0x3c, 0xd2];
    let mut frame = vec![0x81 | if deflate { 0x40 } else { 0 }, 0x80 | 126];
    frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    let mut reply = vec![0x81, 126];
    reply.extend_from_slice(&(answer.len() as u16).to_be_bytes());
    reply.extend_from_slice(answer);
    let mut c = conv("10.66.0.2:80");
    c.client(
        format!("GET /socket HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").as_bytes(),
    );
    c.server(
        format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{ext}\r\n")
            .as_bytes(),
    );
    c.client(&frame).server(&reply).close();
    c.take()
}

/// Every scenario: each HTTP kind and each protocol, the secret where it belongs.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "bearer_opaque",
            shape: Shape::Token,
            build: |s| get("/api/orders", &format!("Authorization: Bearer {s}\r\n")),
        },
        Scenario {
            name: "bearer_jwt",
            shape: Shape::JwtSignature,
            build: |s| get("/api/orders", &format!("Authorization: Bearer {}\r\n", jwt_with(s))),
        },
        Scenario {
            name: "basic",
            shape: Shape::Password,
            build: |s| {
                get("/api/orders", &format!("Authorization: Basic {}\r\n", b64(format!("{USER}:{s}").as_bytes())))
            },
        },
        Scenario {
            name: "basic_key_as_user",
            shape: Shape::Token,
            build: |s| get("/api/orders", &format!("Authorization: Basic {}\r\n", b64(format!("{s}:").as_bytes()))),
        },
        Scenario {
            name: "api_key",
            shape: Shape::Token,
            build: |s| get("/api/orders", &format!("X-Api-Key: {s}\r\n")),
        },
        Scenario {
            name: "cookie",
            shape: Shape::Token,
            build: |s| get("/api/orders", &format!("Cookie: theme=dark; sessionid={s}; lang=en\r\n")),
        },
        Scenario {
            name: "set_cookie",
            shape: Shape::Token,
            build: |s| {
                http(
                    &format!("GET /login HTTP/1.1\r\nHost: {HOST}\r\n\r\n"),
                    &format!(
                        "HTTP/1.1 200 OK\r\nSet-Cookie: sessionid={s}; Path=/; HttpOnly\r\nContent-Length: 0\r\n\r\n"
                    ),
                )
            },
        },
        Scenario {
            name: "form_login",
            shape: Shape::Password,
            build: |s| post("/login", "application/x-www-form-urlencoded", &format!("user={USER}&password={}", pct(s))),
        },
        Scenario {
            name: "json_login",
            shape: Shape::Password,
            build: |s| post("/login", "application/json", &format!(r#"{{"user":"{USER}","password":"{s}"}}"#)),
        },
        Scenario {
            name: "multipart_login",
            shape: Shape::Password,
            build: |s| {
                let body = format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\n{USER}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{s}\r\n--XyZ--\r\n"
                );
                post("/login", "multipart/form-data; boundary=XyZ", &body)
            },
        },
        Scenario {
            name: "url_token",
            shape: Shape::Token,
            build: |s| get(&format!("/api/orders?access_token={s}&page=2"), ""),
        },
        Scenario {
            name: "url_userinfo",
            shape: Shape::Password,
            build: |s| {
                let mut c = conv("10.66.0.2:3128");
                c.client(
                    format!("GET http://{USER}:{}@{HOST}/login HTTP/1.1\r\nHost: {HOST}\r\n\r\n", pct(s)).as_bytes(),
                );
                c.server(OK.as_bytes()).close();
                c.take()
            },
        },
        Scenario {
            name: "login_response_token",
            shape: Shape::Token,
            build: |s| {
                let body = format!(r#"{{"user":"{USER}","token":"{s}"}}"#);
                http(
                    &format!("GET /session HTTP/1.1\r\nHost: {HOST}\r\n\r\n"),
                    &format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    ),
                )
            },
        },
        Scenario {
            name: "jwt_in_path",
            shape: Shape::JwtSignature,
            build: |s| get(&format!("/verify/{}", jwt_with(s)), ""),
        },
        Scenario {
            name: "proxy_basic",
            shape: Shape::Password,
            build: |s| {
                let mut c = conv("10.66.0.2:3128");
                let auth = b64(format!("{USER}:{s}").as_bytes());
                c.client(
                    format!(
                        "GET http://{HOST}/login HTTP/1.1\r\nHost: {HOST}\r\nProxy-Authorization: Basic {auth}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                c.server(OK.as_bytes()).close();
                c.take()
            },
        },
        Scenario {
            name: "ftp",
            shape: Shape::Password,
            build: |p| {
                line_proto(
                    "10.66.0.2:21",
                    &[
                        s("220 (vsFTPd 3.0.3)\r\n"),
                        c(format!("USER {USER}\r\n")),
                        s("331 Please specify the password.\r\n"),
                        c(format!("PASS {p}\r\n")),
                        s("230 Login successful.\r\n"),
                        c("QUIT\r\n"),
                        s("221 Goodbye.\r\n"),
                    ],
                )
            },
        },
        Scenario { name: "telnet", shape: Shape::Password, build: telnet },
        Scenario {
            name: "pop3",
            shape: Shape::Password,
            build: |p| {
                line_proto(
                    "10.66.0.2:110",
                    &[
                        s("+OK Dovecot ready.\r\n"),
                        c(format!("USER {USER}\r\n")),
                        s("+OK\r\n"),
                        c(format!("PASS {p}\r\n")),
                        s("+OK Logged in.\r\n"),
                        c("QUIT\r\n"),
                        s("+OK Logging out.\r\n"),
                    ],
                )
            },
        },
        Scenario {
            name: "imap",
            shape: Shape::Password,
            build: |p| {
                line_proto(
                    "10.66.0.2:143",
                    &[
                        s("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"),
                        c(format!("a1 LOGIN {USER} \"{p}\"\r\n")),
                        s("a1 OK Logged in\r\n"),
                        c("a2 LOGOUT\r\n"),
                        s("* BYE\r\na2 OK Logout completed.\r\n"),
                    ],
                )
            },
        },
        Scenario {
            name: "smtp_plain",
            shape: Shape::Password,
            build: |p| {
                line_proto(
                    "10.66.0.2:25",
                    &[
                        s("220 mail.shop.lab ESMTP\r\n"),
                        c("EHLO client\r\n"),
                        s("250-mail.shop.lab\r\n250 AUTH PLAIN LOGIN\r\n"),
                        c(format!("AUTH PLAIN {}\r\n", b64(format!("\0{USER}\0{p}").as_bytes()))),
                        s("235 2.7.0 Authentication successful\r\n"),
                        c("QUIT\r\n"),
                        s("221 Bye\r\n"),
                    ],
                )
            },
        },
        Scenario {
            name: "smtp_login",
            shape: Shape::Password,
            build: |p| {
                line_proto(
                    "10.66.0.2:587",
                    &[
                        s("220 mail.shop.lab ESMTP\r\n"),
                        c("EHLO client\r\n"),
                        s("250-mail.shop.lab\r\n250 AUTH PLAIN LOGIN\r\n"),
                        c("AUTH LOGIN\r\n"),
                        s("334 VXNlcm5hbWU6\r\n"),
                        c(format!("{}\r\n", b64(USER.as_bytes()))),
                        s("334 UGFzc3dvcmQ6\r\n"),
                        c(format!("{}\r\n", b64(p.as_bytes()))),
                        s("235 2.7.0 Authentication successful\r\n"),
                        c("QUIT\r\n"),
                        s("221 Bye\r\n"),
                    ],
                )
            },
        },
        Scenario { name: "ldap", shape: Shape::Password, build: ldap_bind },
        Scenario { name: "redis", shape: Shape::Password, build: redis },
        Scenario { name: "mqtt", shape: Shape::Password, build: mqtt_connect },
        Scenario { name: "postgres", shape: Shape::Password, build: postgres },
        Scenario { name: "socks5", shape: Shape::Password, build: socks5 },
        Scenario { name: "snmp", shape: Shape::Password, build: snmp },
        Scenario {
            name: "swift_header_password",
            shape: Shape::Password,
            build: |p| get("/auth/v1.0", &format!("X-Auth-User: {USER}\r\nX-Auth-Key: {p}\r\n")),
        },
        Scenario {
            name: "irc",
            shape: Shape::Password,
            build: |p| {
                line_proto(
                    "10.66.0.2:6667",
                    &[
                        c(format!("PASS {p}\r\nNICK {USER}\r\nUSER {USER} 0 * :{USER}\r\n")),
                        s(":irc.lab 001 alice :Welcome\r\n"),
                        c("QUIT\r\n"),
                    ],
                )
            },
        },
        Scenario {
            name: "nntp",
            shape: Shape::Password,
            build: |p| {
                line_proto(
                    "10.66.0.2:119",
                    &[
                        s("200 news.lab ready (posting ok)\r\n"),
                        c(format!("AUTHINFO USER {USER}\r\n")),
                        s("381 Password required\r\n"),
                        c(format!("AUTHINFO PASS {p}\r\n")),
                        s("281 Authentication accepted\r\n"),
                        c("QUIT\r\n"),
                        s("205 bye\r\n"),
                    ],
                )
            },
        },
        Scenario {
            name: "websocket_token",
            shape: Shape::Token,
            build: |s| {
                let m = format!(r#"{{"type":"auth","user":"{USER}","token":"{s}"}}"#);
                websocket("Sec-WebSocket-Extensions: permessage-deflate\r\n", m.as_bytes(), true, br#"{"type":"ok"}"#)
            },
        },
        Scenario {
            name: "websocket_stomp",
            shape: Shape::Password,
            build: |s| {
                let m = format!("CONNECT\naccept-version:1.2\nhost:{HOST}\nlogin:{USER}\npasscode:{s}\n\n\0");
                websocket("", m.as_bytes(), false, b"CONNECTED\nversion:1.2\n\n\0")
            },
        },
    ]
}

/// The modes of this module, for `gen_hostile`'s list.
#[allow(clippy::type_complexity)]
pub fn modes() -> Vec<(&'static str, &'static str, fn(&str, &[u64]) -> io::Result<()>)> {
    vec![(
        "redaction",
        "INDEX: scenario INDEX of the redaction pairs (secret `Tr0ub4dor-pw1`); without INDEX, all in one capture",
        |out, a| {
            let all = scenarios();
            let frames: Vec<Frame> = match a.first() {
                Some(&i) => all.get(i as usize).map(|sc| (sc.build)("Tr0ub4dor-pw1")).unwrap_or_default(),
                None => all.iter().flat_map(|sc| (sc.build)("Tr0ub4dor-pw1")).collect(),
            };
            write(out, &frames)
        },
    )]
}

/// Writes `frames` as an Ethernet pcap at `out` (in capture-time order).
pub fn write(out: &str, frames: &[Frame]) -> io::Result<()> {
    let mut w = PcapWriter::new(io::BufWriter::new(std::fs::File::create(out)?), LinkType::ETHERNET, 262_144)?;
    for f in frames {
        w.write_packet(Timestamp(f.ts), &f.data)?;
    }
    io::Write::flush(&mut w.into_inner())
}
