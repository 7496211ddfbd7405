//! Message heads, read line by line as they arrive (no head is ever buffered whole, only a line split
//! across segments): the start line, then header fields into a flat [`Headers`].
//!
//! Lenient as servers are, because a credential a server accepts is a leak: any number of fields;
//! obs-folded lines (a value continued on a line starting with SP or HT, RFC 9112 5.2) are unfolded,
//! each fold replaced by one SP; spaces before the colon are tolerated; a line that is not a field is
//! skipped. Bounded: the first `max_head_bytes` of fields (and at most [`MAX_FIELDS`] of them) are
//! kept; past that the reader goes on line by line, keeping only fields that can carry credentials
//! (`Config::keep_header`, from detect's rules) and those framing the body, up to as much again, and
//! counts the bytes it drops (`head_bytes_dropped`). A head longer than [`SCAN_FACTOR`] times the cap is
//! given up (`heads_too_large`): no server reads one.

use super::headers::Headers;
use super::{Config, Stats};

/// Fields kept before only credential-bearing ones are (each costs 12 bytes of index).
pub const MAX_FIELDS: usize = 4096;
/// Bytes of head read (kept or not) before the message is given up: 16 × 64 KiB = 1 MiB by default,
/// beyond any server's limit (8 to 64 KiB usually) and enough for the padding of an evasion.
pub const SCAN_FACTOR: usize = 16;

/// Fields http itself needs, whatever their place: they frame and describe the body and name the host.
fn structural(name: &str) -> bool {
    ["content-length", "transfer-encoding", "content-encoding", "content-type", "host"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// A request line: method, target, minor version.
pub fn request_line(line: &[u8]) -> Option<(&[u8], &[u8], u8)> {
    let line = trim_eol(line);
    let sp = memchr::memchr(b' ', line)?;
    let method = &line[..sp];
    let rest = skip_spaces(&line[sp..]);
    let end = memchr::memchr(b' ', rest)?;
    let target = &rest[..end];
    let version = version(skip_spaces(&rest[end..]))?;
    if target.is_empty() || target.iter().any(|&b| b < 0x21 || b == 0x7f) {
        return None;
    }
    Some((method, target, version))
}

/// A status line: code, reason, minor version.
pub fn status_line(line: &[u8]) -> Option<(u16, &[u8], u8)> {
    let line = trim_eol(line);
    let v = version(line.get(..8)?)?;
    let rest = skip_spaces(&line[8..]);
    if rest.len() == line.len() - 8 {
        return None;
    }
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|&b| b != b' ' && b != b'\t') {
        return None;
    }
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    Some((status, trim(&rest[3..]), v))
}

/// Append `b` to `s` as text (invalid UTF-8 replaced).
pub fn push_text(s: &mut String, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(t) => s.push_str(t),
        Err(_) => s.push_str(&String::from_utf8_lossy(b)),
    }
}

fn version(v: &[u8]) -> Option<u8> {
    match v {
        b"HTTP/1.1" => Some(1),
        b"HTTP/1.0" => Some(0),
        _ => None,
    }
}

fn skip_spaces(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
    &b[n..]
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|&c| c != b' ' && c != b'\t').unwrap_or(b.len());
    let e = b.iter().rposition(|&c| c != b' ' && c != b'\t').map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

/// Token characters (RFC 9110 5.6.2): what a field name is made of.
const TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(b, b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^'..=b'`' | b'|' | b'~');
        i += 1;
    }
    t
};

/// What the header lines of one head so far add up to.
#[derive(Debug, Default)]
pub struct HeadReader {
    /// Bytes of head read, kept or not (the start line included).
    pub seen: usize,
    /// Bytes kept (names and values).
    kept: usize,
    /// The last field line was kept (a fold continues it).
    last_kept: bool,
    pub unfolded: bool,
    /// Which framing fields the head has ([`TE`], [`CL`], [`CE`]): the framing looks only for those.
    pub framing: u8,
}

/// Transfer-Encoding, Content-Length, Content-Encoding: bits of [`HeadReader::framing`].
pub const TE: u8 = 1;
pub const CL: u8 = 2;
pub const CE: u8 = 4;

/// Which framing field `name` is, as a bit (0 for none). Compared by length first: most names are
/// none of them.
#[inline]
fn framing_bit(name: &[u8]) -> u8 {
    match name.len() {
        17 if name.eq_ignore_ascii_case(b"transfer-encoding") => TE,
        14 if name.eq_ignore_ascii_case(b"content-length") => CL,
        16 if name.eq_ignore_ascii_case(b"content-encoding") => CE,
        _ => 0,
    }
}

/// After a header line.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    More,
    /// The empty line: the head is complete.
    End,
    /// Longer than any server reads.
    TooLarge,
}

impl HeadReader {
    /// A head whose start line was `n` bytes long.
    pub fn after_start_line(n: usize) -> HeadReader {
        HeadReader { seen: n, ..HeadReader::default() }
    }

    /// Count bytes of head that were dropped unread (the rest of an overlong line).
    pub fn skipped(&mut self, n: usize, cfg: &Config, stats: &mut Stats) -> Next {
        self.seen += n;
        stats.head_bytes_dropped += n as u64;
        if self.seen > cfg.max_head_bytes.saturating_mul(SCAN_FACTOR) { Next::TooLarge } else { Next::More }
    }

    /// One complete header line (its line end included).
    pub fn line(&mut self, line: &[u8], h: &mut Headers, cfg: &Config, stats: &mut Stats) -> Next {
        self.seen += line.len();
        if self.seen > cfg.max_head_bytes.saturating_mul(SCAN_FACTOR) {
            return Next::TooLarge;
        }
        let text = trim_eol(line);
        if text.is_empty() {
            return Next::End;
        }
        if text[0] == b' ' || text[0] == b'\t' {
            // obs-fold: the value goes on; RFC 9112 lets a recipient replace the fold with one SP.
            let more = trim(text);
            if !self.last_kept {
                stats.head_bytes_dropped += line.len() as u64;
                return Next::More;
            }
            if more.is_empty() {
                return Next::More;
            }
            let last = h.name(h.len().saturating_sub(1)).as_bytes();
            if self.fits(more.len() + 1, cfg, last, h.len()) && h.extend_last(b" ") && h.extend_last(more) {
                self.kept += more.len() + 1;
                self.unfolded = true;
            } else {
                stats.head_bytes_dropped += line.len() as u64;
            }
            return Next::More;
        }
        self.last_kept = false;
        let name_end = text.iter().position(|&b| !TCHAR[usize::from(b)]).unwrap_or(text.len());
        let colon = skip_ws_from(text, name_end);
        if name_end == 0 || text.get(colon) != Some(&b':') {
            // Not a field (a line of garbage inside the head): skipped, as servers skip it.
            return Next::More;
        }
        let name = &text[..name_end];
        let value = trim(&text[colon + 1..]);
        if self.fits(name.len() + value.len(), cfg, name, h.len()) && h.push_token(name, value) {
            self.kept += name.len() + value.len();
            self.last_kept = true;
            self.framing |= framing_bit(name);
        } else {
            stats.head_bytes_dropped += line.len() as u64;
        }
        Next::More
    }

    /// Whether `n` more bytes of field `name` may be kept: anything within the cap, a field that can
    /// carry a credential (or frames the body) within twice the cap.
    #[inline]
    fn fits(&self, n: usize, cfg: &Config, name: &[u8], fields: usize) -> bool {
        let kept = self.kept + n;
        if kept <= cfg.max_head_bytes && fields < MAX_FIELDS {
            return true;
        }
        self.wanted_past_cap(kept, cfg, name)
    }

    #[cold]
    fn wanted_past_cap(&self, kept: usize, cfg: &Config, name: &[u8]) -> bool {
        kept <= cfg.max_head_bytes.saturating_mul(2)
            && std::str::from_utf8(name).is_ok_and(|n| structural(n) || (cfg.keep_header)(n))
    }
}

fn skip_ws_from(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines_with_extra_spaces_and_bad_ones() {
        assert_eq!(request_line(b"GET  /a?b HTTP/1.1\r\n"), Some((&b"GET"[..], &b"/a?b"[..], 1)));
        assert_eq!(request_line(b"GET / HTTP/1.0\n"), Some((&b"GET"[..], &b"/"[..], 0)));
        assert_eq!(request_line(b"GET /\r\n"), None);
        assert_eq!(request_line(b"GET /a\x01b HTTP/1.1\r\n"), None);
        assert_eq!(status_line(b"HTTP/1.1 200 OK\r\n"), Some((200, &b"OK"[..], 1)));
        assert_eq!(status_line(b"HTTP/1.1 204\r\n"), Some((204, &b""[..], 1)));
        assert_eq!(status_line(b"HTTP/1.1  404  Not Found \r\n"), Some((404, &b"Not Found"[..], 1)));
        assert_eq!(status_line(b"HTTP/1.1 20x OK\r\n"), None);
        assert_eq!(status_line(b"HTTP/1.1 2000\r\n"), None);
    }

    fn read(lines: &[&[u8]], cfg: &Config) -> (Headers, Stats, Vec<Next>) {
        let mut r = HeadReader::default();
        let mut h = Headers::new();
        let mut st = Stats::default();
        let next = lines.iter().map(|l| r.line(l, &mut h, cfg, &mut st)).collect();
        h.seal();
        if r.unfolded {
            st.heads_unfolded += 1;
        }
        (h, st, next)
    }

    #[test]
    fn folded_lines_are_unfolded_with_one_space_and_garbage_lines_skipped() {
        let (h, st, next) = read(
            &[
                b"Authorization: Basic\r\n",
                b"   dXNlcjpw\r\n",
                b"\tYXNz\r\n",
                b"junk line\r\n",
                b"Host :  h \r\n",
                b"\r\n",
            ],
            &Config::default(),
        );
        assert_eq!(h.get("authorization"), Some(&b"Basic dXNlcjpw YXNz"[..]));
        assert_eq!(h.get("host"), Some(&b"h"[..]));
        assert_eq!(h.len(), 2);
        assert_eq!(st.heads_unfolded, 1);
        assert_eq!(next.last(), Some(&Next::End));
    }

    #[test]
    fn past_the_cap_only_wanted_and_framing_fields_are_kept_and_the_rest_counted() {
        fn wanted(n: &str) -> bool {
            n.eq_ignore_ascii_case("authorization")
        }
        let cfg = Config { max_head_bytes: 100, keep_header: wanted, ..Config::default() };
        let pad = b"X-Pad: 0123456789012345678901234567890123456789\r\n";
        let (h, st, _) =
            read(&[pad, pad, pad, b"Authorization: Bearer abc\r\n", b"Content-Length: 5\r\n", pad, b"\r\n"], &cfg);
        let names: Vec<&str> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["X-Pad", "X-Pad", "Authorization", "Content-Length"]);
        assert_eq!(st.head_bytes_dropped, 2 * pad.len() as u64);
    }
}
