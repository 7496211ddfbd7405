//! Line splitting for the text protocols (FTP, POP3, IMAP, SMTP, Redis inline), per direction.
//!
//! A line inside one segment is handed out as a borrowed slice (no copy); only a line split across
//! segments is buffered, up to [`MAX_LINE`](super::MAX_LINE) bytes. A longer line is skipped to its end
//! (counted by the caller if it cares): logins are short, and a huge line is a body or an attack.

use super::MAX_LINE;

/// `line` starts with `prefix`, ASCII case-insensitively.
pub fn starts_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len()).is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

/// `hay` contains `needle`, ASCII case-insensitively (no copy: protocol keywords are short).
pub fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Splits `word rest` at the first space.
pub fn split_word(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', line) {
        Some(i) => (line.get(..i).unwrap_or_default(), line.get(i + 1..).unwrap_or_default()),
        None => (line, &b""[..]),
    }
}

/// A command word upper-cased on the stack, to `match` on without allocating per line. Commands and
/// statuses are short; a longer word is no keyword and compares equal to none.
pub struct Keyword {
    buf: [u8; 16],
    len: usize,
}

impl Keyword {
    pub fn new(w: &[u8]) -> Keyword {
        let mut k = Keyword { buf: [0; 16], len: 0 };
        if w.len() <= k.buf.len() {
            k.buf[..w.len()].copy_from_slice(w);
            k.buf[..w.len()].make_ascii_uppercase();
            k.len = w.len();
        } else {
            // Longer than any keyword: a value no keyword equals.
            k.buf = [0xff; 16];
            k.len = k.buf.len();
        }
        k
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[derive(Default, Debug)]
pub struct LineBuf {
    buf: Vec<u8>,
    /// Inside a line that overflowed: drop bytes until its end.
    skipping: bool,
}

/// `line` without its trailing `\r` (the `\n` is already gone).
fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl LineBuf {
    /// Calls `f` with every complete line of `data` (without `\r\n`), in order.
    pub fn feed(&mut self, mut data: &[u8], mut f: impl FnMut(&[u8])) {
        while let Some(i) = memchr::memchr(b'\n', data) {
            let (head, rest) = (&data[..i], &data[i + 1..]);
            data = rest;
            if self.skipping {
                self.skipping = false;
                self.buf.clear();
                continue;
            }
            if self.buf.is_empty() {
                f(trim_cr(head));
            } else {
                if self.buf.len() + head.len() <= MAX_LINE {
                    self.buf.extend_from_slice(head);
                    f(trim_cr(&self.buf));
                }
                self.buf.clear();
            }
        }
        if data.is_empty() || self.skipping {
            return;
        }
        if self.buf.len() + data.len() > MAX_LINE {
            self.buf.clear();
            self.skipping = true;
        } else {
            self.buf.extend_from_slice(data);
        }
    }

    /// Forget a partial line (after a gap).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.skipping = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut lb = LineBuf::default();
        let mut out = Vec::new();
        for c in chunks {
            lb.feed(c, |l| out.push(l.to_vec()));
        }
        out
    }

    #[test]
    fn splits_on_lf_and_strips_cr_whatever_the_chunking() {
        let want = vec![b"USER bob".to_vec(), b"PASS x".to_vec(), b"".to_vec()];
        assert_eq!(lines(&[b"USER bob\r\nPASS x\r\n\r\n"]), want);
        assert_eq!(lines(&[b"US", b"ER bob\r", b"\nPASS", b" x\r\n", b"\n"]), want);
        let whole = b"USER bob\r\nPASS x\r\n\r\n";
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(lines(&bytes), want);
    }

    #[test]
    fn an_overlong_line_is_skipped_and_the_next_one_kept() {
        let long = vec![b'a'; MAX_LINE + 10];
        let got = lines(&[&long[..100], &long[100..], b"\r\nPASS x\r\n"]);
        assert_eq!(got, vec![b"PASS x".to_vec()]);
    }

    #[test]
    fn keywords_compare_upper_cased_and_overlong_words_match_nothing() {
        assert_eq!(Keyword::new(b"uSeR").as_slice(), b"USER");
        assert_eq!(Keyword::new(b"").as_slice(), b"");
        assert_ne!(Keyword::new(b"AUTHENTICATEAUTHENTICATE").as_slice(), b"AUTHENTICATEAUTHENTICATE");
        assert!(starts_ci(b"+ok ready", b"+OK") && !starts_ci(b"+O", b"+OK"));
        assert!(contains_ci(b"* OK [capability IMAP4rev1]", b"CAPABILITY") && !contains_ci(b"x", b""));
        assert_eq!(split_word(b"AUTH PLAIN x"), (&b"AUTH"[..], &b"PLAIN x"[..]));
        assert_eq!(split_word(b"QUIT"), (&b"QUIT"[..], &b""[..]));
    }
}
