//! Logins of the cleartext protocols built to make plainsight show passwords it has redacted (issue 10,
//! section 1): what a transcript or a user field carries besides the alert's own secret.
//!
//! - `ftp-brute [N=40]`: one FTP connection, N refused logins with N distinct passwords, then an accepted
//!   one. A transcript that scrubs only the last 32 secrets of a connection shows the first ones.
//! - `telnet-mistyped [ORDER=0]`: a character-mode telnet session where the password is typed at the
//!   `login:` prompt and refused. ORDER 0: that attempt first, then the right login (`alice`, the
//!   password); ORDER 1: `alice` with the password first (refused), then the password typed at `login:`.
//!   Shown as typed, the user field of the mistyped attempt is the password.
//!
//! Builders return frames so tests write them where they like; `write` puts them in a pcap.

use std::io;

use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame};

pub const FTP_CLIENT: &str = "10.77.0.1:40021";
pub const FTP_SERVER: &str = "10.77.0.2:21";
pub const TELNET_CLIENT: &str = "10.77.1.1:40023";
pub const TELNET_SERVER: &str = "10.77.1.2:23";

/// The user of every FTP attempt.
pub const FTP_USER: &str = "alice";
/// The password that works.
pub const FTP_RIGHT: &str = "Right-h0rse-battery";
/// The telnet user and the password typed at its `login:` prompt by mistake (then the right one).
pub const TELNET_USER: &str = "alice";
pub const TELNET_PASSWORD: &str = "Tr0ub4dor&3x";
/// What the mistyped attempt then typed at `Password:`.
pub const TELNET_AFTER_MISTAKE: &str = "oops-typed";

type Builder = fn(&str, &[u64]) -> io::Result<()>;

/// The modes of this module, for `gen_hostile`'s list.
pub fn modes() -> Vec<(&'static str, &'static str, Builder)> {
    vec![
        ("ftp-brute", "[N=40]: one FTP connection, N refused logins then an accepted one", |out, a| {
            write(out, &ftp_brute(a.first().map_or(40, |&n| n as usize)).0)
        }),
        ("telnet-mistyped", "[ORDER=0]: the password typed at telnet's login: prompt (0 first, 1 after)", |out, a| {
            write(out, &telnet_mistyped(a.first().copied().unwrap_or(0) != 0))
        }),
    ]
}

/// The refused passwords of `ftp-brute` (distinct, none a word the server prints).
pub fn ftp_refused(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("brute-{i:03}-Qz")).collect()
}

/// One FTP connection: `n` refused logins, then the accepted one. Returns the frames and every password.
pub fn ftp_brute(n: usize) -> (Vec<Frame>, Vec<String>) {
    let mut c = conversation(FTP_CLIENT, FTP_SERVER);
    c.handshake();
    c.server(b"220 (vsFTPd 3.0.3)\r\n");
    let mut passwords = ftp_refused(n);
    passwords.push(FTP_RIGHT.to_string());
    for (i, pw) in passwords.iter().enumerate() {
        c.client(format!("USER {FTP_USER}\r\n").as_bytes());
        c.server(b"331 Please specify the password.\r\n");
        c.client(format!("PASS {pw}\r\n").as_bytes());
        c.server(if i < n { b"530 Login incorrect.\r\n" } else { b"230 Login successful.\r\n" });
    }
    c.client(b"QUIT\r\n").server(b"221 Goodbye.\r\n").close();
    (c.take(), passwords)
}

/// A character-mode telnet session in which the password is typed at the `login:` prompt (see the
/// module documentation for `after`).
pub fn telnet_mistyped(after: bool) -> Vec<Frame> {
    let mut c = conversation(TELNET_CLIENT, TELNET_SERVER);
    c.handshake();
    // WILL ECHO, WILL SUPPRESS-GO-AHEAD, DO TERMINAL-TYPE; the client agrees.
    c.server(&[255, 251, 1, 255, 251, 3, 255, 253, 24]);
    c.client(&[255, 253, 1, 255, 253, 3, 255, 252, 24]);
    c.server(b"\r\nDebian GNU/Linux 12\r\nlab login: ");
    let attempts: [(&str, &str, bool); 2] = if after {
        [(TELNET_USER, TELNET_PASSWORD, false), (TELNET_PASSWORD, TELNET_AFTER_MISTAKE, false)]
    } else {
        [(TELNET_PASSWORD, TELNET_AFTER_MISTAKE, false), (TELNET_USER, TELNET_PASSWORD, true)]
    };
    for (user, pw, accepted) in attempts {
        keystrokes(&mut c, user, true);
        c.server(b"Password: ");
        keystrokes(&mut c, pw, false);
        if accepted {
            c.server(b"\r\nLast login: Mon Nov 16 09:12:01 2026 from 10.77.1.1\r\nalice@lab:~$ ");
        } else {
            c.server(b"\r\nLogin incorrect\r\nlab login: ");
        }
    }
    c.close();
    c.take()
}

/// One keystroke per segment, echoed by the server when `echo`, then Enter (`CR NUL`).
fn keystrokes(c: &mut Conversation, s: &str, echo: bool) {
    for b in s.bytes() {
        c.client(&[b]);
        if echo {
            c.server(&[b]);
        }
    }
    c.client(b"\r\0");
    c.server(b"\r\n");
}

fn conversation(client: &str, server: &str) -> Conversation {
    let addr = |s: &str| s.parse().unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 1)));
    Conversation::new(addr(client), addr(server))
}

/// Writes `frames` as an Ethernet pcap at `out`.
pub fn write(out: &str, frames: &[Frame]) -> io::Result<()> {
    let mut w = PcapWriter::new(io::BufWriter::new(std::fs::File::create(out)?), LinkType::ETHERNET, 262_144)?;
    for f in frames {
        w.write_packet(Timestamp(f.ts), &f.data)?;
    }
    io::Write::flush(&mut w.into_inner())
}
