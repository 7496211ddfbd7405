//! Line splitting for the text protocols (FTP, POP3, IMAP, SMTP, Redis inline), per direction.
//!
//! A line inside one segment is handed out as a borrowed slice (no copy); only a line split across
//! segments is buffered, up to [`MAX_LINE`](super::MAX_LINE) bytes. A longer line is skipped to its end
//! (the caller reports it as [`Event::LineTooLong`]): logins are short, and a huge line is a body or an
//! attack.
//!
//! [`Lines`] is the session code FTP and POP3 share: two line buffers, one per direction, feeding a
//! protocol's line handlers ([`LineProto`]).

use super::{Event, LoginSink, MAX_LINE, Session, report};
use crate::reassembly::Side;
use crate::time::Timestamp;

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
    /// Calls `f` with every complete line of `data` (without `\r\n`), in order. Returns how many lines
    /// were found too long and skipped (each counted once, when the skip starts).
    #[must_use]
    pub fn feed(&mut self, mut data: &[u8], mut f: impl FnMut(&[u8])) -> usize {
        let mut skipped = 0;
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
                } else {
                    skipped += 1;
                }
                self.buf.clear();
            }
        }
        if data.is_empty() || self.skipping {
            return skipped;
        }
        if self.buf.len() + data.len() > MAX_LINE {
            self.buf.clear();
            self.skipping = true;
            skipped += 1;
        } else {
            self.buf.extend_from_slice(data);
        }
        skipped
    }

    /// [`LineBuf::feed`], reporting skipped lines to `out` once `f` is done with it.
    pub fn feed_counted(&mut self, data: &[u8], out: &mut dyn LoginSink, mut f: impl FnMut(&[u8], &mut dyn LoginSink)) {
        let n = self.feed(data, |l| f(l, &mut *out));
        report(out, Event::LineTooLong, n);
    }

    /// Forget a partial line (after a gap).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.skipping = false;
    }
}

/// What a line protocol does with each line (FTP, POP3): the part of a session [`Lines`] does not share.
pub trait LineProto {
    fn client_line(&mut self, line: &[u8], ts: Timestamp, out: &mut dyn LoginSink);
    fn server_line(&mut self, line: &[u8], out: &mut dyn LoginSink);
    /// The session upgraded to TLS: nothing more is read.
    fn upgraded(&self) -> bool;
    /// The server direction lost bytes (its partial line is already dropped).
    fn server_gap(&mut self) {}
    /// End of the connection.
    fn close(&mut self, out: &mut dyn LoginSink);
}

/// A session of a line protocol: one [`LineBuf`] per direction feeding `P`'s line handlers.
#[derive(Default, Debug)]
pub struct Lines<P> {
    client: LineBuf,
    server: LineBuf,
    st: P,
}

impl<P: LineProto> Session for Lines<P> {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let Lines { client, server, st } = self;
        if st.upgraded() {
            return;
        }
        match from {
            Side::Client => client.feed_counted(data, out, |l, out| st.client_line(l, ts, out)),
            Side::Server => server.feed_counted(data, out, |l, out| st.server_line(l, out)),
        }
    }

    fn on_gap(&mut self, from: Side, _len: u64) {
        match from {
            Side::Client => self.client.clear(),
            Side::Server => {
                self.server.clear();
                self.st.server_gap();
            }
        }
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        self.st.close(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut lb = LineBuf::default();
        let mut out = Vec::new();
        for c in chunks {
            let _ = lb.feed(c, |l| out.push(l.to_vec()));
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
    fn every_overlong_line_is_counted_once_however_it_arrives() {
        let long = vec![b'a'; MAX_LINE + 10];
        let mut lb = LineBuf::default();
        let mut n = lb.feed(&long[..100], |_| {});
        n += lb.feed(&long[100..], |_| {});
        n += lb.feed(b"\r\nPASS x\r\n", |_| {});
        assert_eq!(n, 1);
        // Complete in one piece after a partial start: counted when it completes.
        let mut lb = LineBuf::default();
        let mut n = lb.feed(b"abc", |_| {});
        n += lb.feed(&[&long[..MAX_LINE - 1], &b"\n"[..]].concat(), |_| {});
        assert_eq!(n, 1);
        // Whole in one segment: handed out (the buffer is not involved), not skipped.
        assert_eq!(LineBuf::default().feed(&[&long[..], &b"\n"[..]].concat(), |_| {}), 0);
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
