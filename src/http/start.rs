//! Recognising where an HTTP message starts, by content: on any port, after garbage or a gap.

/// Request methods we accept at a message start. A closed list (not "any token") keeps a binary
/// protocol or a body tail from being taken for a request line.
const METHODS: &[&str] = &[
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "CONNECT",
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "SEARCH",
    "PURGE",
    "MKCALENDAR",
    "LINK",
    "UNLINK",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "NOTIFY",
    "POLL",
    "BPROPFIND",
    "MERGE",
    "CHECKOUT",
];

/// The method `m` as one of ours, when it is one (no copy to check it is text).
pub fn known_method(m: &[u8]) -> Option<&'static str> {
    METHODS.iter().find(|k| k.as_bytes() == m).copied()
}

/// What `data` starts with, as far as it is visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Request,
    Response,
    Tls,
    /// The HTTP/2 client connection preface (prior knowledge, or after `Upgrade: h2c`).
    H2,
    /// A SETTINGS frame, as a server's HTTP/2 stream starts (honoured only at the start of a stream).
    H2Server,
    /// Could still become a message start when more bytes arrive.
    Maybe,
    No,
}

pub fn classify(data: &[u8]) -> Start {
    if data.is_empty() {
        return Start::Maybe;
    }
    // TLS record: handshake (22), version 3.x.
    if data[0] == 0x16 {
        return match data.get(1..3) {
            Some([3, v]) if *v <= 4 => Start::Tls,
            Some(_) => Start::No,
            None => Start::Maybe,
        };
    }
    if data[0] == 0 {
        return match super::h2::frame::server_start(data) {
            Some(true) => Start::H2Server,
            Some(false) => Start::No,
            None => Start::Maybe,
        };
    }
    let preface = super::h2::frame::PREFACE;
    let n = data.len().min(preface.len());
    if n >= 3 && data[..n] == preface[..n] {
        return if n == preface.len() { Start::H2 } else { Start::Maybe };
    }
    const HTTP: &[u8] = b"HTTP/1.";
    let n = data.len().min(HTTP.len());
    if data[..n] == HTTP[..n] {
        return if data.len() >= HTTP.len() + 2 {
            if matches!(data[7], b'0' | b'1') && data[8] == b' ' { Start::Response } else { Start::No }
        } else {
            Start::Maybe
        };
    }
    let mut maybe = false;
    for m in METHODS {
        let m = m.as_bytes();
        let k = data.len().min(m.len());
        if data[..k] != m[..k] {
            continue;
        }
        if data.len() <= m.len() {
            maybe = true;
            continue;
        }
        if data[m.len()] != b' ' {
            continue;
        }
        return match data.get(m.len() + 1) {
            None => Start::Maybe,
            Some(b'/' | b'*') => Start::Request,
            Some(c) if c.is_ascii_alphanumeric() => Start::Request,
            Some(_) => Start::No,
        };
    }
    if maybe { Start::Maybe } else { Start::No }
}

/// Offset of the first line start in `data` (after a `\n`) where a message begins or may begin.
/// `Maybe` matches at the end of `data` are returned too, so that the caller keeps those bytes.
pub fn find_line_start(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'\n', &data[from..]) {
        let at = from + i + 1;
        match classify(&data[at..]) {
            Start::Request | Start::Response => return Some(at),
            Start::Maybe if data.len() - at < 16 => return Some(at),
            _ => {}
        }
        from = at;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_response_and_tls_starts() {
        assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Start::Request);
        assert_eq!(classify(b"CONNECT host:443 HTTP/1.1"), Start::Request);
        assert_eq!(classify(b"HTTP/1.1 200 OK"), Start::Response);
        assert_eq!(classify(&[0x16, 3, 1, 0, 5]), Start::Tls);
        assert_eq!(classify(b"GE"), Start::Maybe);
        assert_eq!(classify(b"HTTP/1"), Start::Maybe);
        assert_eq!(classify(b"GETX / HTTP/1.1"), Start::No);
        assert_eq!(classify(b"\x00\x01binary"), Start::No);
        assert_eq!(classify(b"SSH-2.0-OpenSSH"), Start::No);
        assert_eq!(classify(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0"), Start::H2);
        assert_eq!(classify(b"PRI * HTTP/2.0\r\n"), Start::Maybe);
        assert_eq!(classify(b"PR"), Start::Maybe);
        assert_eq!(classify(b"PRI * HTTP/1.1\r\n"), Start::No);
        assert_eq!(classify(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3]), Start::H2Server);
        assert_eq!(classify(&[0, 0, 6]), Start::Maybe);
    }

    #[test]
    fn finds_the_next_message_after_garbage() {
        let d = b"tail of a body\r\nmore junk\nPOST /x HTTP/1.1\r\n";
        assert_eq!(find_line_start(d), Some(26));
        assert_eq!(find_line_start(b"junk\nno message here"), None);
        // A line start at the very end may begin a message in the next segment.
        assert_eq!(find_line_start(b"junk\n"), Some(5));
        assert_eq!(find_line_start(b"junk\nGE"), Some(5));
    }
}
