//! Recognising a connection's protocol by its first bytes, on any port.
//!
//! Each side's first bytes are compared with what each protocol must start with: the server's greeting
//! (`220` FTP or SMTP, `+OK` POP3, `* OK` IMAP, telnet option negotiation) or the client's first message
//! (a RESP array, an MQTT CONNECT, a PostgreSQL startup packet, a SOCKS5 greeting, an LDAP message, an
//! FTP/POP3/IMAP/SMTP command when the capture starts mid-stream). Ports only break ties (FTP and SMTP
//! both greet with `220`) and confirm weak signatures (a bare SOCKS5 greeting is three bytes).
//!
//! The prober keeps the first [`MAX_PROBE`] bytes of the connection, both directions in arrival order,
//! so that the chosen parser sees the conversation from its start.

use super::Proto;
use super::lines::{contains_ci, starts_ci};
use crate::reassembly::Side;

/// Bytes kept while deciding. Every signature is visible in the first message of a side; a connection
/// still undecided past it goes to HTTP ([`Event::ProbeGaveUp`](super::Event::ProbeGaveUp)).
pub const MAX_PROBE: usize = 1024;

/// Bytes of each side's start that signatures are matched against.
const FIRST_BYTES: usize = 256;

/// What the prober concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Proto(Proto),
    /// Not decided yet: more bytes may tell.
    NeedMore,
    /// None of ours.
    No,
}

#[derive(Debug, Default)]
pub struct Prober {
    chunks: Vec<(Side, Vec<u8>)>,
    total: usize,
    first: [Vec<u8>; 2],
    /// Said [`Decision::No`] only because [`MAX_PROBE`] bytes were kept without deciding.
    gave_up: bool,
}

/// A telnet command: IAC then WILL/WONT/DO/DONT or SB.
fn telnet_negotiation(d: &[u8]) -> bool {
    matches!(d, [255, 250..=254, ..])
}

/// The first word of a command line (up to a space or the line end).
fn word(d: &[u8]) -> &[u8] {
    let end = d.iter().position(|&b| b == b' ' || b == b'\r' || b == b'\n').unwrap_or(d.len());
    &d[..end]
}

/// An IMAP command: `tag SP command`, the tag an atom.
fn imap_command(d: &[u8]) -> bool {
    let tag = word(d);
    if tag.is_empty() || tag.len() > 16 || !tag.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'.') {
        return false;
    }
    let rest = d.get(tag.len() + 1..).unwrap_or_default();
    let cmd = word(rest);
    [&b"LOGIN"[..], b"CAPABILITY", b"AUTHENTICATE", b"STARTTLS", b"ID", b"NOOP", b"SELECT", b"LIST"]
        .iter()
        .any(|c| cmd.eq_ignore_ascii_case(c))
}

/// A BER LDAPMessage: SEQUENCE, length, INTEGER message id, then an application tag of a request.
fn ldap_message(d: &[u8]) -> Option<bool> {
    if d.first() != Some(&0x30) {
        return Some(false);
    }
    let l = *d.get(1)?;
    let off = match l {
        0..=0x7f => 2,
        0x81..=0x84 => 2 + usize::from(l & 0x7f),
        _ => return Some(false),
    };
    if d.get(off)? != &0x02 {
        return Some(false);
    }
    let idlen = usize::from(*d.get(off + 1)?);
    if idlen == 0 || idlen > 4 {
        return Some(false);
    }
    let op = *d.get(off + 2 + idlen)?;
    // bindRequest, unbind, search, modify, add, delete, modDN, compare, abandon, extended.
    Some(matches!(op, 0x60 | 0x42 | 0x63 | 0x66 | 0x68 | 0x4a | 0x6c | 0x6e | 0x50 | 0x77))
}

/// An MQTT CONNECT: type 1, a remaining length, then the protocol name "MQTT" or "MQIsdp".
fn mqtt_connect(d: &[u8]) -> Option<bool> {
    if d.first() != Some(&0x10) {
        return Some(false);
    }
    let mut i = 1;
    loop {
        let b = *d.get(i)?;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        if i > 4 {
            return Some(false);
        }
    }
    let name = d.get(i..i + 8)?;
    Some(name.starts_with(b"\x00\x04MQTT") || name.starts_with(b"\x00\x06MQIsdp"))
}

/// A PostgreSQL first message: int32 length, int32 protocol 3.0, SSLRequest or GSSENCRequest.
fn postgres_start(d: &[u8]) -> Option<bool> {
    let len = super::be::u32_at(d, 0)?;
    let code = super::be::u32_at(d, 4)?;
    Some(match code {
        196_608 => (9..=10_000).contains(&len),
        80_877_103 | 80_877_104 => len == 8,
        _ => false,
    })
}

/// A RESP array of bulk strings (`*2\r\n$4\r\nAUTH`), or an inline AUTH/HELLO.
fn redis_command(d: &[u8], port: u16) -> bool {
    if let [b'*', n, rest @ ..] = d {
        if n.is_ascii_digit() {
            let after = rest.iter().position(|&b| b == b'\n').map(|i| &rest[i + 1..]);
            return after.is_some_and(|a| a.first() == Some(&b'$'));
        }
    }
    port == 6379 && (starts_ci(d, b"AUTH ") || starts_ci(d, b"HELLO "))
}

/// The AMQP 0-9-1 protocol header (`AMQP\0\0\x09\x01`, or 0-9's `AMQP\x01\x01\x00\x09`). AMQP 1.0
/// (`AMQP\0\x01\0\0`, `AMQP\x03\x01\0\0` for its SASL layer) frames differently and is not ours.
fn amqp_header(d: &[u8]) -> Option<bool> {
    let n = d.len().min(8);
    let known = [&b"AMQP\x00\x00\x09\x01"[..], b"AMQP\x01\x01\x00\x09"];
    if !known.iter().any(|k| k.get(..n) == d.get(..n)) {
        return Some(false);
    }
    if n < 8 { None } else { Some(true) }
}

/// An AMQP method frame on channel 0 of class Connection: `Start` (10) from the server, `StartOk` (11)
/// from the client, when the capture missed the protocol header. Type 1, channel 0, a size, class 10.
fn amqp_connection_frame(d: &[u8], method: u8) -> bool {
    matches!(d, [1, 0, 0, _, _, _, _, 0, 10, 0, m, ..] if *m == method)
}

/// The well-known IRC ports (6697 is TLS from the first byte).
fn irc_port(port: u16) -> bool {
    matches!(port, 194 | 6665..=6669 | 7000)
}

/// An IRC client's registration: a line (among the first few, tags skipped) starting with `NICK` or
/// `CAP` (no FTP, POP3 or SMTP client sends them), or `PASS`/`USER` on an IRC port.
fn irc_client(d: &[u8], port: u16) -> bool {
    d.split(|&b| b == b'\n').take(4).any(|line| {
        let line = if line.first() == Some(&b'@') {
            line.iter().position(|&b| b == b' ').map_or(&b""[..], |i| &line[i + 1..])
        } else {
            line
        };
        let w = word(line);
        let is = |c: &[u8]| w.eq_ignore_ascii_case(c);
        (is(b"NICK") || is(b"CAP")) && line.len() > w.len() || (irc_port(port) && (is(b"PASS") || is(b"USER")))
    })
}

/// An IRC server's first line: `:server NOTICE ...` (the hostname lookup notice), `NOTICE AUTH`, or
/// `:server` and a three-digit numeric.
fn irc_server(d: &[u8]) -> bool {
    if starts_ci(d, b"NOTICE AUTH ") {
        return true;
    }
    let Some(rest) = d.strip_prefix(b":") else { return false };
    let Some(sp) = rest.iter().position(|&b| b == b' ') else { return false };
    let cmd = word(&rest[sp + 1..]);
    cmd == b"NOTICE" || (cmd.len() == 3 && cmd.iter().all(u8::is_ascii_digit))
}

/// The opening of an XMPP stream (either side): `<?xml ...?>` and/or `<stream:stream`, which must show
/// up within the first bytes (another XML protocol over TCP is not ours).
fn xmpp_stream(d: &[u8]) -> Option<bool> {
    let t = d.trim_ascii_start();
    let t = t.strip_prefix(b"\xef\xbb\xbf").unwrap_or(t);
    let open = b"<stream:stream";
    let n = t.len().min(open.len());
    if !(starts_ci(t, b"<?xml") || t.get(..n) == open.get(..n)) {
        return Some(false);
    }
    if contains_ci(t, open) {
        return Some(true);
    }
    // An XML declaration alone so far (maybe unfinished), or a stream tag still arriving.
    let after_decl = match memchr::memmem::find(t, b"?>") {
        Some(i) => t.get(i + 2..).unwrap_or_default().trim_ascii_start(),
        None if t.len() < 128 => b"",
        None => t,
    };
    let m = after_decl.len().min(open.len());
    if after_decl.get(..m) == open.get(..m) && after_decl.len() < open.len() { None } else { Some(false) }
}

/// A Kafka client's first request: int32 size, then ApiVersions (18) or SaslHandshake (17) with a
/// small version, a correlation id and a client id that fits the size. (Metadata, a client's first
/// request long ago, is not taken: Metadata v0 starts like a PostgreSQL startup packet.)
fn kafka_request(d: &[u8]) -> Option<bool> {
    let size = super::be::u32_at(d, 0)?;
    let key = super::be::u16_at(d, 4)?;
    let version = super::be::u16_at(d, 6)?;
    if !(10..=(1 << 20)).contains(&size) || !matches!(key, 17 | 18) || version > 4 {
        return Some(false);
    }
    let client_id = super::be::u16_at(d, 12)? as i16;
    Some(client_id == -1 || (0..=size as i32 - 10).contains(&i32::from(client_id)))
}

impl Prober {
    /// Remember `data` and try to decide.
    pub fn feed(&mut self, from: Side, data: &[u8], server_port: u16) -> Decision {
        let room = MAX_PROBE.saturating_sub(self.total);
        let take = &data[..data.len().min(room)];
        self.total += take.len();
        if !take.is_empty() {
            self.chunks.push((from, take.to_vec()));
            let f = &mut self.first[from.index()];
            let r = FIRST_BYTES.saturating_sub(f.len());
            f.extend_from_slice(&take[..take.len().min(r)]);
        }
        let d = decide(&self.first[0], &self.first[1], server_port);
        if d == Decision::NeedMore && self.total >= MAX_PROBE {
            self.gave_up = true;
            return Decision::No;
        }
        d
    }

    /// The last [`Decision::No`] was the cap, not a verdict on the bytes.
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// The bytes seen so far, in arrival order, to replay into the chosen parser.
    pub fn take_chunks(&mut self) -> Vec<(Side, Vec<u8>)> {
        std::mem::take(&mut self.chunks)
    }

    /// Heap bytes this prober holds (for the memory budget): its buffers, 16 bytes of allocator
    /// header each.
    pub fn held(&self) -> usize {
        let chunks: usize = self.chunks.iter().map(|(_, c)| c.capacity() + 16).sum();
        let first: usize = self.first.iter().map(|f| f.capacity() + 16).sum();
        self.chunks.capacity() * std::mem::size_of::<(Side, Vec<u8>)>() + 16 + chunks + first
    }
}

/// Decide from the first bytes of each side (`client`, `server`) and the server's port.
pub fn decide(client: &[u8], server: &[u8], port: u16) -> Decision {
    // Server greetings.
    if !server.is_empty() {
        if amqp_connection_frame(server, 10) {
            return Decision::Proto(Proto::Amqp);
        }
        if telnet_negotiation(server) {
            return Decision::Proto(Proto::Telnet);
        }
        if starts_ci(server, b"+OK") {
            return Decision::Proto(Proto::Pop3);
        }
        if starts_ci(server, b"* OK") || starts_ci(server, b"* PREAUTH") {
            return Decision::Proto(Proto::Imap);
        }
        if server.len() >= 4 && &server[..3] == b"220" && matches!(server[3], b' ' | b'-') {
            let line = &server[..server.iter().position(|&b| b == b'\n').unwrap_or(server.len())];
            if contains_ci(line, b"SMTP")
                || contains_ci(line, b"postfix")
                || contains_ci(line, b"exim")
                || contains_ci(line, b"mail")
            {
                return Decision::Proto(Proto::Smtp);
            }
            if contains_ci(line, b"FTP") {
                return Decision::Proto(Proto::Ftp);
            }
            let w = word(client);
            if [&b"EHLO"[..], b"HELO", b"LHLO"].iter().any(|c| w.eq_ignore_ascii_case(c)) {
                return Decision::Proto(Proto::Smtp);
            }
            if [&b"USER"[..], b"AUTH", b"FEAT", b"SYST", b"OPTS", b"PASS"].iter().any(|c| w.eq_ignore_ascii_case(c)) {
                return Decision::Proto(if w.eq_ignore_ascii_case(b"AUTH") && port != 21 && port != 990 {
                    Proto::Smtp
                } else {
                    Proto::Ftp
                });
            }
            return match port {
                21 | 2121 => Decision::Proto(Proto::Ftp),
                25 | 465 | 587 | 2525 => Decision::Proto(Proto::Smtp),
                _ if client.is_empty() => Decision::NeedMore,
                _ => Decision::No,
            };
        }
        if irc_server(server) {
            return Decision::Proto(Proto::Irc);
        }
        if xmpp_stream(server) == Some(true) {
            return Decision::Proto(Proto::Xmpp);
        }
        // NNTP greets with 200 (posting allowed) or 201.
        if server.len() >= 4 && (server.starts_with(b"200") || server.starts_with(b"201")) && server[3] == b' ' {
            let line = &server[..server.iter().position(|&b| b == b'\n').unwrap_or(server.len())];
            let w = word(client);
            let nntp_cmd = [&b"AUTHINFO"[..], b"MODE", b"CAPABILITIES", b"GROUP", b"LIST", b"ARTICLE", b"STARTTLS"]
                .iter()
                .any(|c| w.eq_ignore_ascii_case(c));
            if nntp_cmd
                || matches!(port, 119 | 433)
                || contains_ci(line, b"NNTP")
                || contains_ci(line, b"news")
                || contains_ci(line, b"INN")
            {
                return Decision::Proto(Proto::Nntp);
            }
            return if client.is_empty() { Decision::NeedMore } else { Decision::No };
        }
        // A server that greets with a login prompt is a telnet-style login, whatever the port (servers
        // that skip option negotiation, and `nc -l` backdoors, do).
        let t = server.trim_ascii_end().to_ascii_lowercase();
        if [&b"login:"[..], b"username:", b"password:"].iter().any(|p| t.ends_with(p)) {
            return Decision::Proto(Proto::Telnet);
        }
        if port == 23 && client.is_empty() {
            return Decision::NeedMore;
        }
    }
    // Client first messages.
    if !client.is_empty() {
        if telnet_negotiation(client) {
            return Decision::Proto(Proto::Telnet);
        }
        match amqp_header(client) {
            Some(true) => return Decision::Proto(Proto::Amqp),
            None => return Decision::NeedMore,
            Some(false) if amqp_connection_frame(client, 11) => return Decision::Proto(Proto::Amqp),
            Some(false) => {}
        }
        if redis_command(client, port) {
            return Decision::Proto(Proto::Redis);
        }
        match mqtt_connect(client) {
            Some(true) => return Decision::Proto(Proto::Mqtt),
            None => return Decision::NeedMore,
            Some(false) => {}
        }
        match postgres_start(client) {
            Some(true) => return Decision::Proto(Proto::Postgres),
            None if client[0] == 0 => return Decision::NeedMore,
            _ => {}
        }
        match kafka_request(client) {
            Some(true) => return Decision::Proto(Proto::Kafka),
            None if client[0] == 0 => return Decision::NeedMore,
            _ => {}
        }
        match ldap_message(client) {
            Some(true) => return Decision::Proto(Proto::Ldap),
            None => return Decision::NeedMore,
            Some(false) => {}
        }
        if let [5, n, methods @ ..] = client {
            let n = usize::from(*n);
            if n >= 1 && methods.len() >= n && methods[..n].iter().all(|&m| m <= 0x09 || m >= 0x80) {
                return Decision::Proto(Proto::Socks5);
            }
            if methods.len() < n {
                return Decision::NeedMore;
            }
        }
        if irc_client(client, port) {
            return Decision::Proto(Proto::Irc);
        }
        match xmpp_stream(client) {
            Some(true) => return Decision::Proto(Proto::Xmpp),
            None => return Decision::NeedMore,
            Some(false) => {}
        }
        // Commands of the text protocols, when the greeting was not captured (a capture that starts
        // mid-connection). On the protocol's own port the command is enough; elsewhere the server's
        // answer must confirm it, because an upload on an FTP data connection can start with `USER`.
        let w = word(client);
        let is = |c: &[u8]| w.eq_ignore_ascii_case(c);
        let code_reply =
            server.len() >= 4 && server[..3].iter().all(u8::is_ascii_digit) && matches!(server[3], b' ' | b'-');
        let pop_reply = starts_ci(server, b"+OK") || starts_ci(server, b"-ERR") || starts_ci(server, b"+ ");
        let imap_reply = starts_ci(server, b"* ")
            || starts_ci(server, b"+ ")
            || server.strip_prefix(word(client)).is_some_and(|r| r.first() == Some(&b' '));
        let confirm = |well_known: bool, reply: bool, p: Proto| {
            if well_known || reply {
                Decision::Proto(p)
            } else if server.is_empty() {
                Decision::NeedMore
            } else {
                Decision::No
            }
        };
        let smtp_port = matches!(port, 25 | 465 | 587 | 2525);
        if is(b"EHLO") || is(b"HELO") {
            return confirm(smtp_port, code_reply, Proto::Smtp);
        }
        if is(b"STLS") || is(b"CAPA") || is(b"APOP") {
            return confirm(port == 110, pop_reply, Proto::Pop3);
        }
        if is(b"USER") || is(b"PASS") {
            if port == 110 || pop_reply {
                return Decision::Proto(Proto::Pop3);
            }
            return confirm(port == 21, code_reply, Proto::Ftp);
        }
        if is(b"AUTH") {
            let arg = word(client.get(5..).unwrap_or_default());
            let ftp_tls = arg.eq_ignore_ascii_case(b"TLS") || arg.eq_ignore_ascii_case(b"SSL");
            return match port {
                110 => Decision::Proto(Proto::Pop3),
                21 => Decision::Proto(Proto::Ftp),
                _ if smtp_port => Decision::Proto(Proto::Smtp),
                _ if pop_reply => Decision::Proto(Proto::Pop3),
                _ => confirm(false, code_reply, if ftp_tls { Proto::Ftp } else { Proto::Smtp }),
            };
        }
        if is(b"AUTHINFO") {
            return confirm(port == 119, code_reply, Proto::Nntp);
        }
        if imap_command(client) {
            return confirm(port == 143, imap_reply, Proto::Imap);
        }
        if !client.contains(&b'\n')
            && client.len() < 64
            && server.is_empty()
            && client.iter().all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\r')
        {
            // A command line still arriving (a 36-byte MSS, or one character per segment).
            return Decision::NeedMore;
        }
        return Decision::No;
    }
    // A server greeting too short to tell yet, or nothing at all yet.
    if server.len() < 8 { Decision::NeedMore } else { Decision::No }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(client: &[u8], server: &[u8], port: u16) -> Decision {
        decide(client, server, port)
    }
    use Decision::{NeedMore, No};

    #[test]
    fn greetings_name_the_protocol_on_any_port() {
        assert_eq!(d(b"", b"220 (vsFTPd 3.0.3)\r\n", 2100), Decision::Proto(Proto::Ftp));
        assert_eq!(d(b"", b"220 mail.lab ESMTP Postfix\r\n", 2500), Decision::Proto(Proto::Smtp));
        assert_eq!(d(b"", b"+OK Dovecot ready.\r\n", 9110), Decision::Proto(Proto::Pop3));
        assert_eq!(d(b"", b"* OK [CAPABILITY IMAP4rev1] ready\r\n", 9143), Decision::Proto(Proto::Imap));
        assert_eq!(d(b"", &[255, 251, 1, 255, 251, 3], 2323), Decision::Proto(Proto::Telnet));
        assert_eq!(d(b"", b"login:", 2323), Decision::Proto(Proto::Telnet));
        assert_eq!(d(b"", b"\r\nUser Access Verification\r\n\r\nPassword: ", 23), Decision::Proto(Proto::Telnet));
    }

    #[test]
    fn a_bare_220_is_told_apart_by_the_client_command_or_the_port() {
        assert_eq!(d(b"", b"220 ready\r\n", 4000), NeedMore);
        assert_eq!(d(b"EHLO x\r\n", b"220 ready\r\n", 4000), Decision::Proto(Proto::Smtp));
        assert_eq!(d(b"USER bob\r\n", b"220 ready\r\n", 4000), Decision::Proto(Proto::Ftp));
        assert_eq!(d(b"", b"220 ready\r\n", 21), Decision::Proto(Proto::Ftp));
        assert_eq!(d(b"", b"220 ready\r\n", 587), Decision::Proto(Proto::Smtp));
    }

    #[test]
    fn client_first_messages_name_the_binary_protocols() {
        assert_eq!(d(b"*2\r\n$4\r\nAUTH\r\n$3\r\nabc\r\n", b"", 7000), Decision::Proto(Proto::Redis));
        let mqtt = b"\x10\x1a\x00\x04MQTT\x04\xc2\x00\x3c";
        assert_eq!(d(mqtt, b"", 8883), Decision::Proto(Proto::Mqtt));
        let pg = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
        assert_eq!(d(&pg, b"", 6000), Decision::Proto(Proto::Postgres));
        let bind = [0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00];
        assert_eq!(d(&bind, b"", 32681), Decision::Proto(Proto::Ldap));
        assert_eq!(d(&[5, 2, 0, 2], b"", 1080), Decision::Proto(Proto::Socks5));
        assert_eq!(d(b"a001 LOGIN bob pw\r\n", b"", 143), Decision::Proto(Proto::Imap));
    }

    #[test]
    fn a_command_without_a_greeting_off_its_port_needs_the_server_to_confirm() {
        // Mid-stream pick-ups: the server's answer confirms the protocol.
        assert_eq!(d(b"USER bob\r\n", b"", 2100), NeedMore);
        assert_eq!(d(b"USER bob\r\n", b"331 Password required\r\n", 2100), Decision::Proto(Proto::Ftp));
        assert_eq!(d(b"USER bob\r\n", b"+OK send PASS\r\n", 1100), Decision::Proto(Proto::Pop3));
        assert_eq!(d(b"a001 LOGIN bob pw\r\n", b"a001 OK done\r\n", 1430), Decision::Proto(Proto::Imap));
        assert_eq!(d(b"AUTH PLAIN AGJvYgBwdw==\r\n", b"235 ok\r\n", 2600), Decision::Proto(Proto::Smtp));
        // An upload on an FTP data connection whose file starts like a login: the server never answers.
        assert_eq!(d(b"USER root\nPASS toor\n", b"", 40123), NeedMore);
        assert_eq!(d(b"USER root\nPASS toor\n", b"HTTP/1.1 400 Bad Request\r\n", 40123), No);
        assert_eq!(d(b"USER bob\r\n", b"", 21), Decision::Proto(Proto::Ftp));
    }

    #[test]
    fn amqp_is_recognised_by_its_header_or_its_connection_frames() {
        let amqp = Decision::Proto(Proto::Amqp);
        assert_eq!(d(b"AMQP\x00\x00\x09\x01", b"", 5672), amqp);
        assert_eq!(d(b"AMQP\x00\x00\x09\x01", b"", 40000), amqp);
        assert_eq!(d(b"AMQP\x00\x00", b"", 5672), NeedMore);
        // AMQP 1.0 and its SASL layer frame differently.
        assert_eq!(d(b"AMQP\x00\x01\x00\x00", b"", 5672), No);
        assert_eq!(d(b"AMQP\x03\x01\x00\x00", b"", 5672), No);
        // Picked up after the header: the server's Connection.Start, the client's StartOk.
        assert_eq!(d(b"", &[1, 0, 0, 0, 0, 1, 0xf4, 0, 10, 0, 10, 0, 9], 5672), amqp);
        assert_eq!(d(&[1, 0, 0, 0, 0, 1, 0xf4, 0, 10, 0, 11, 0], b"", 5672), amqp);
        // Other protocols' first bytes are not AMQP.
        assert_eq!(d(b"AUTH PLAIN AGJvYgBwdw==\r\n", b"", 5672), NeedMore);
        assert_eq!(d(b"", b"* OK ready\r\n", 5672), Decision::Proto(Proto::Imap));
    }

    #[test]
    fn irc_is_recognised_by_its_registration_or_its_server_lines() {
        let irc = Decision::Proto(Proto::Irc);
        assert_eq!(d(b"NICK alice\r\nUSER alice 0 * :Alice\r\n", b"", 4000), irc);
        assert_eq!(d(b"CAP LS 302\r\n", b"", 4000), irc);
        assert_eq!(d(b"PASS pw\r\nNICK alice\r\n", b"", 4000), irc);
        assert_eq!(d(b"@label=x NICK alice\r\n", b"", 4000), irc);
        assert_eq!(d(b"PASS pw\r\n", b"", 6667), irc);
        assert_eq!(d(b"", b":irc.lab NOTICE * :*** Looking up your hostname...\r\n", 4000), irc);
        assert_eq!(d(b"", b"NOTICE AUTH :*** Processing connection\r\n", 4000), irc);
        assert_eq!(d(b"PASS pw\r\n", b":irc.lab 464 * :Password incorrect\r\n", 4000), irc);
        // A lone PASS elsewhere still waits for the server to tell; FTP and POP3 are theirs.
        assert_eq!(d(b"PASS pw\r\n", b"", 4000), NeedMore);
        assert_eq!(d(b"USER bob\r\n", b"331 Password required\r\n", 2100), Decision::Proto(Proto::Ftp));
        assert_eq!(d(b"USER bob\r\n", b"+OK\r\n", 1100), Decision::Proto(Proto::Pop3));
        assert_eq!(d(b"", b"220 (vsFTPd 3.0.3)\r\n", 6667), Decision::Proto(Proto::Ftp));
        assert_eq!(d(b"NICK", b"", 4000), NeedMore);
        assert_eq!(d(b"NICKNAME alice\r\n", b"", 4000), No);
    }

    #[test]
    fn xmpp_is_recognised_by_its_stream_opening() {
        let xmpp = Decision::Proto(Proto::Xmpp);
        let open = b"<?xml version='1.0'?><stream:stream to='lab' xmlns='jabber:client' version='1.0'>";
        assert_eq!(d(open, b"", 5222), xmpp);
        assert_eq!(d(open, b"", 40000), xmpp);
        assert_eq!(d(b"<stream:stream to='lab'>", b"", 40000), xmpp);
        assert_eq!(d(b"<?xml version='1.0'?>", b"", 5222), NeedMore);
        assert_eq!(d(b"<?xml version='1.0'?>\n", b"", 5222), NeedMore);
        assert_eq!(d(b"<?xml version='1.0'?><str", b"", 5222), NeedMore);
        assert_eq!(d(b"<stre", b"", 5222), NeedMore);
        assert_eq!(d(b"", b"<?xml version='1.0'?><stream:stream from='lab' id='x'>", 5222), xmpp);
        // Other XML over TCP, HTML, HTTP: not XMPP.
        assert_eq!(d(b"<?xml version='1.0'?>\n<methodCall><methodName>x</methodName></methodCall>\n", b"", 80), No);
        assert_eq!(d(b"<html><body>hi</body></html>\n", b"", 8080), No);
        assert_eq!(d(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"", 5222), No);
    }

    #[test]
    fn nntp_is_recognised_by_its_greeting_or_authinfo() {
        let nntp = Decision::Proto(Proto::Nntp);
        assert_eq!(d(b"", b"200 news.lab InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n", 9119), nntp);
        assert_eq!(d(b"", b"201 server ready - no posting allowed\r\n", 119), nntp);
        assert_eq!(d(b"", b"200 ready\r\n", 9119), NeedMore);
        assert_eq!(d(b"CAPABILITIES\r\n", b"200 ready\r\n", 9119), nntp);
        assert_eq!(d(b"AUTHINFO USER alice\r\n", b"", 119), nntp);
        assert_eq!(d(b"AUTHINFO USER alice\r\n", b"", 9119), NeedMore);
        assert_eq!(d(b"AUTHINFO USER alice\r\n", b"381 Password required\r\n", 9119), nntp);
        // An FTP or SMTP greeting is not NNTP; neither is an HTTP status line.
        assert_eq!(d(b"", b"220 (vsFTPd 3.0.3)\r\n", 119), Decision::Proto(Proto::Ftp));
        assert_eq!(d(b"", b"HTTP/1.1 200 OK\r\n", 119), No);
    }

    #[test]
    fn kafka_is_recognised_by_its_first_request() {
        let kafka = Decision::Proto(Proto::Kafka);
        // ApiVersions v3, correlation 1, client id "producer-1".
        let mut api = vec![0, 0, 0, 0x22, 0, 18, 0, 3, 0, 0, 0, 1, 0, 10];
        api.extend_from_slice(b"producer-1\x00");
        assert_eq!(d(&api, b"", 9092), kafka);
        assert_eq!(d(&api, b"", 40000), kafka);
        // SaslHandshake v1, no client id.
        assert_eq!(d(&[0, 0, 0, 15, 0, 17, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0, 5, b'P'], b"", 9092), kafka);
        assert_eq!(d(&[0, 0, 0, 0x22, 0, 18, 0, 3, 0, 0], b"", 9092), NeedMore);
        // A PostgreSQL startup and an SSLRequest stay PostgreSQL; other binary is not Kafka.
        let pg = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
        assert_eq!(d(&pg, b"", 9092), Decision::Proto(Proto::Postgres));
        let startup = [0, 0, 0, 0x29, 0, 3, 0, 0, 0, 0, 0, 0, b'u', b's'];
        assert_eq!(d(&startup, b"", 9092), Decision::Proto(Proto::Postgres));
        assert_eq!(d(&[0, 0, 0, 0x22, 0, 19, 0, 3, 0, 0, 0, 1, 0, 10, 1, 2], b"", 9092), No);
        assert_eq!(d(&[0, 0, 0, 0x22, 0, 18, 0, 3, 0, 0, 0, 1, 0x7f, 0, 1, 2], b"", 9092), No);
    }

    #[test]
    fn other_traffic_is_not_ours() {
        assert_eq!(d(b"SSH-2.0-OpenSSH_9.2\r\n", b"", 22), No);
        assert_eq!(d(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"", 443), No);
        assert_eq!(d(b"", b"SSH-2.0-OpenSSH_9.2\r\n", 22), No);
        assert_eq!(d(b"random binary \x00\x01\x02 data\n", b"", 9999), No);
    }

    #[test]
    fn the_prober_is_bounded_and_replays_in_order() {
        let mut p = Prober::default();
        assert_eq!(p.feed(Side::Client, b"US", 21), NeedMore);
        assert_eq!(p.feed(Side::Client, b"ER bob\r\n", 21), Decision::Proto(Proto::Ftp));
        let c = p.take_chunks();
        assert_eq!(c.len(), 2);
        let mut q = Prober::default();
        let junk = vec![b'x'; 100];
        let mut last = NeedMore;
        for _ in 0..100 {
            last = q.feed(Side::Server, &junk, 23);
        }
        assert_eq!(last, No);
        assert!(q.total <= MAX_PROBE);
        assert!(q.gave_up() && !p.gave_up());
    }
}
