//! Traffic that tries to drive the analyst's terminal (issue 10, section 2): every field plainsight
//! prints that the network chooses carries escape sequences (clear screen, window title, OSC 52
//! clipboard write, OSC 8 link), a C1 CSI (U+009B), CR/LF followed by a forged report line, a bidi
//! override (U+202E), and one user name is 45,000 characters long.
//!
//! - `terminal OUT.pcap`: the whole set in one capture (one connection per carrier).

use std::io;
use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use plainsight_synth::{Conversation, Frame};

/// The payload planted in every field: what a terminal must never receive raw.
pub const PAYLOAD: &str = "x\x1b[2J\x1b]0;pwned\x07\x1b]52;c;cGF5bG9hZA==\x07\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07\u{9b}31m\r\n  CRITICAL forged_leak 6.6.6.6 -> 6.6.6.6:80\r\n\u{202e}gnp.exe";

/// The length of the unbounded user name.
pub const LONG: usize = 45_000;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)))
}

fn http(i: u8, req: &str, resp: &str) -> Vec<Frame> {
    let mut c = Conversation::new(addr(&format!("10.67.0.{}:40000", i + 1)), addr("10.67.1.2:80"));
    c.ts += i64::from(i) * 1_000_000;
    c.handshake().client(req.as_bytes()).server(resp.as_bytes()).close();
    c.take()
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

fn pct(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Every carrier of the payload, one connection each.
pub fn frames() -> Vec<Frame> {
    let p = PAYLOAD;
    // A header value cannot hold CR/LF (it would end the header): there the payload stops at them.
    let h = p.split('\r').next().unwrap_or(p);
    let basic = STANDARD.encode(format!("{p}:S3cret-pw-1"));
    let claims = serde_json::json!({"sub": p, "iss": p, "scope": p, "exp": 1_795_003_600}).to_string();
    let jwt = format!(
        "{}.{}.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let long_user = "L".repeat(LONG);
    let form = format!("user={}&password=S3cret-pw-2", pct(p));
    let long_form = format!("user={long_user}&password=S3cret-pw-3");
    let field = format!("{}[password]=S3cret-pw-4", pct(p));
    let mut out = Vec::new();
    out.extend(http(0, &format!("GET /api HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Basic {basic}\r\n\r\n"), OK));
    out.extend(http(1, &format!("GET /api HTTP/1.1\r\nHost: {h}\r\nAuthorization: Bearer {jwt}\r\n\r\n"), OK));
    out.extend(http(2, &format!("GET /{}?access_token=tok-0123456789 HTTP/1.1\r\nHost: shop.lab\r\n\r\n", pct(p)), OK));
    out.extend(http(3, &format!("GET / HTTP/1.1\r\nHost: shop.lab\r\nCookie: {h}session=abcdefghijkl\r\n\r\n"), OK));
    for (i, body) in [(4, &form), (5, &long_form), (6, &field)] {
        out.extend(http(
            i,
            &format!(
                "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
            OK,
        ));
    }
    let mut ftp = Conversation::new(addr("10.67.0.20:40021"), addr("10.67.1.3:21"));
    ftp.ts += 20_000_000;
    ftp.handshake()
        .server(b"220 FTP ready\r\n")
        .client(format!("USER {}\r\n", h).as_bytes())
        .server(b"331 Password required\r\n")
        .client(b"PASS S3cret-pw-5\r\n")
        .server(b"230 Logged in\r\n")
        .close();
    out.extend(ftp.take());
    out
}

/// The modes of this module, for `gen_hostile`'s list.
#[allow(clippy::type_complexity)]
pub fn modes() -> Vec<(&'static str, &'static str, fn(&str, &[u64]) -> io::Result<()>)> {
    vec![(
        "terminal",
        "escape sequences, C1, CR/LF, bidi and a 45,000-character user in every printed field",
        |out, _| write(out, &frames()),
    )]
}

/// Writes `frames` as an Ethernet pcap at `out` (in capture-time order).
pub fn write(out: &str, frames: &[Frame]) -> io::Result<()> {
    use plainsight::capture::writer::PcapWriter;
    let mut frames: Vec<&Frame> = frames.iter().collect();
    frames.sort_by_key(|f| f.ts);
    let file = io::BufWriter::new(std::fs::File::create(out)?);
    let mut w = PcapWriter::new(file, plainsight::decode::LinkType::ETHERNET, 262_144)?;
    for f in frames {
        w.write_packet(plainsight::time::Timestamp(f.ts), &f.data)?;
    }
    io::Write::flush(&mut w.into_inner())
}
