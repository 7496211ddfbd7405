//! HTTP/2 frames (RFC 9113 section 4 and 6): the 9-byte header, the types and flags we read, and how to
//! tell a stream of frames by content.

/// The client connection preface (RFC 9113 3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Its first line, as a line-oriented HTTP/1 reader sees it.
pub const PREFACE_LINE: &[u8] = b"PRI * HTTP/2.0\r\n";

pub const HEADER_LEN: usize = 9;
/// SETTINGS_MAX_FRAME_SIZE's initial value: a longer frame is an error unless the receiver allowed it.
pub const DEFAULT_MAX_FRAME: u32 = 16_384;

pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const PRIORITY: u8 = 2;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PUSH_PROMISE: u8 = 5;
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;
pub const WINDOW_UPDATE: u8 = 8;
pub const CONTINUATION: u8 = 9;

pub const END_STREAM: u8 = 0x1;
/// SETTINGS and PING.
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

pub const SETTINGS_HEADER_TABLE_SIZE: u16 = 1;
pub const SETTINGS_MAX_FRAME_SIZE: u16 = 5;

/// A frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
}

impl Header {
    pub fn parse(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            len: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            // The reserved bit is ignored (RFC 9113 4.1).
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    /// Whether this header is one a peer could send: a known type on the kind of stream it belongs to,
    /// with the length its type fixes, within the default frame size.
    fn plausible(&self) -> bool {
        let on_zero = self.stream == 0;
        self.len <= DEFAULT_MAX_FRAME
            && match self.kind {
                DATA | HEADERS | CONTINUATION | PUSH_PROMISE => !on_zero,
                PRIORITY => !on_zero && self.len == 5,
                RST_STREAM => !on_zero && self.len == 4,
                SETTINGS => on_zero && self.len % 6 == 0 && (self.flags & ACK == 0 || self.len == 0),
                PING => on_zero && self.len == 8,
                GOAWAY => on_zero && self.len >= 8,
                WINDOW_UPDATE => self.len == 4,
                _ => false,
            }
    }
}

/// Whether `data` (the first bytes seen of a direction picked up mid-connection) is a run of frames:
/// at least two plausible headers back to back, or one frame ending exactly with `data`. Used only to
/// count such connections as HTTP/2 that cannot be decoded: a false match costs a counter, and the
/// connection's other direction is still looked at afresh.
pub fn plausible(data: &[u8]) -> bool {
    let mut p = 0;
    let mut seen = 0;
    while let Some(h) = data.get(p..p + HEADER_LEN) {
        let mut b = [0u8; HEADER_LEN];
        b.copy_from_slice(h);
        let h = Header::parse(&b);
        if !h.plausible() {
            return false;
        }
        seen += 1;
        p += HEADER_LEN + h.len as usize;
        if seen == 2 || p == data.len() {
            return true;
        }
    }
    false
}

/// Whether `data` starts like a server's connection preface: a SETTINGS frame (not an ACK) on stream 0
/// (RFC 9113 3.4). `None`: too short to tell.
pub fn server_start(data: &[u8]) -> Option<bool> {
    let n = data.len().min(HEADER_LEN);
    // Length (within the default frame size, a multiple of 6), type 4, flags 0, stream 0.
    let ok = |i: usize, b: u8| match i {
        0 => b == 0,
        1 => b < 0x40,
        2 => true,
        3 => b == SETTINGS,
        _ => b == 0,
    };
    if !data[..n].iter().enumerate().all(|(i, &b)| ok(i, b)) {
        return Some(false);
    }
    if n < HEADER_LEN {
        return None;
    }
    let len = u32::from_be_bytes([0, data[0], data[1], data[2]]);
    Some(len % 6 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_and_runs_of_frames_are_told_from_other_protocols() {
        let settings = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100];
        let h = Header::parse(&[0, 0, 6, 4, 0, 0x80, 0, 0, 1]);
        assert_eq!(h, Header { len: 6, kind: SETTINGS, flags: 0, stream: 1 });
        assert!(plausible(&settings), "one whole frame");
        let mut two = settings.to_vec();
        two.extend_from_slice(&[0, 0, 4, 8, 0, 0, 0, 0, 0]);
        assert!(plausible(&two), "two headers");
        // A PostgreSQL SSLRequest, an HTTP request, TLS: not frames.
        assert!(!plausible(&[0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f]));
        assert!(!plausible(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(!plausible(&[0x16, 3, 1, 0, 0x40, 1, 0, 0, 0x3c, 3, 3]));
        assert_eq!(server_start(&settings), Some(true));
        assert_eq!(server_start(&settings[..4]), None);
        assert_eq!(server_start(&[0, 0, 4, 8, 0, 0, 0, 0, 0]), Some(false));
        assert_eq!(server_start(b"HTTP/1.1 200 OK"), Some(false));
    }
}
