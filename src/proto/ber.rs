//! A tiny BER reader (LDAP, SNMP), plus the helpers the binary parsers share: per-direction message
//! framing ([`Framer`], driven by [`drive`]; [`Framed`] is the whole session of a framed protocol), a
//! bounded transcript of recent messages ([`Recent`]) and the login waiting for its answer with it
//! ([`Exchange`]).
//!
//! BER: only what LDAP and SNMP use on the wire. Single-byte tags (a high tag number form is a parse
//! failure), definite lengths in short form or long form of up to 4 length bytes. An indefinite length
//! (`0x80`, allowed by BER but never sent by LDAP or SNMP implementations) is treated as "not this
//! protocol": the caller gives up.
//!
//! Framing: a binary message split across segments is buffered up to [`MAX_LINE`] bytes; a longer one
//! is skipped by its declared length without being buffered (counted, [`Event::MessageTooLong`], as is
//! a header that does not complete within the cap); a header the protocol's length function calls
//! invalid kills the direction (everything after it is ignored).

use std::collections::VecDeque;

use super::{
    Cred, Event, Line, Login, LoginSink, MAX_LINE, MAX_TRANSCRIPT, Proto, Session, Verdict, report, secret, user,
};
use crate::reassembly::Side;
use crate::secret::Text;
use crate::time::Timestamp;

/// What a protocol's length function says about the start of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    /// The header is incomplete.
    Need,
    /// Not this protocol (absurd length, wrong tag...).
    Bad,
    /// The whole message (header included) is this many bytes (at least 1).
    Is(usize),
}

/// Where [`Framer::next`] found a complete message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The first `n` bytes of the data passed in (not consumed: the caller splits them off).
    Data(usize),
    /// In [`Framer::buf`] (valid until the next call).
    Buf,
}

/// Per-direction message framing.
#[derive(Default, Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Bytes of an overlong message still to drop.
    skip: u64,
    /// The direction was given up.
    dead: bool,
    /// `buf` holds a message handed out by the last call.
    full: bool,
    /// Messages skipped for their size since the last [`Framer::report`].
    skipped: usize,
}

impl Framer {
    /// The next complete message at the front of `data` (or completed by it), consuming what it buffers
    /// or skips. `None`: `data` is used up (or the direction is dead).
    pub fn next(&mut self, data: &mut &[u8], len: impl Fn(&[u8]) -> Len) -> Option<Frame> {
        if self.full {
            self.buf.clear();
            self.full = false;
        }
        loop {
            if self.dead {
                *data = &[];
                return None;
            }
            if self.skip > 0 {
                let n = self.skip.min(data.len() as u64) as usize;
                self.skip -= n as u64;
                *data = data.get(n..).unwrap_or_default();
                if self.skip > 0 {
                    return None;
                }
            }
            // A buffered message completed by the last byte of a header is handed out below, even
            // with no data left.
            if data.is_empty() && self.buf.is_empty() {
                return None;
            }
            if self.buf.is_empty() {
                match len(data) {
                    Len::Bad | Len::Is(0) => self.dead = true,
                    Len::Is(n) if n > MAX_LINE => {
                        self.skipped += 1;
                        self.skip = n as u64;
                    }
                    Len::Is(n) if n <= data.len() => return Some(Frame::Data(n)),
                    _ if data.len() > MAX_LINE => {
                        // A header that does not complete within the cap.
                        self.skipped += 1;
                        self.dead = true;
                    }
                    _ => {
                        self.buf.extend_from_slice(data);
                        *data = &[];
                        return None;
                    }
                }
            } else {
                match len(&self.buf) {
                    Len::Bad | Len::Is(0) => self.dead = true,
                    Len::Need if self.buf.len() >= MAX_LINE => {
                        self.skipped += 1;
                        self.dead = true;
                    }
                    Len::Need => {
                        // Headers are a few bytes: complete them one byte at a time.
                        let (&b, rest) = data.split_first()?;
                        self.buf.push(b);
                        *data = rest;
                    }
                    Len::Is(n) if n > MAX_LINE => {
                        self.skipped += 1;
                        self.skip = n.saturating_sub(self.buf.len()) as u64;
                        self.buf.clear();
                    }
                    Len::Is(n) if n < self.buf.len() => self.dead = true,
                    Len::Is(n) => {
                        let take = (n - self.buf.len()).min(data.len());
                        let (head, rest) = data.split_at(take);
                        self.buf.extend_from_slice(head);
                        *data = rest;
                        if self.buf.len() == n {
                            self.full = true;
                            return Some(Frame::Buf);
                        }
                        return None;
                    }
                }
            }
        }
    }

    /// Reports the messages skipped for their size since the last call.
    pub fn report(&mut self, out: &mut dyn LoginSink) {
        report(out, Event::MessageTooLong, std::mem::take(&mut self.skipped));
    }

    /// The buffered message after [`Frame::Buf`].
    pub fn buf(&self) -> &[u8] {
        &self.buf
    }

    /// Ignore the rest of this direction.
    pub fn kill(&mut self) {
        self.dead = true;
        self.buf.clear();
    }

    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// After a gap: a gap inside a skipped message shortens the skip; anywhere else we no longer know
    /// where the next message starts, and the direction is given up.
    pub fn gap(&mut self, len: u64) {
        self.buf.clear();
        self.full = false;
        if self.skip > 0 && len <= self.skip {
            self.skip -= len;
        } else {
            // We no longer know where the next message starts.
            self.dead = true;
        }
    }
}

/// Feeds `data` to `framer` and calls `f` with every complete message; `f` returning `false` gives up
/// on the direction.
pub fn drive(framer: &mut Framer, data: &[u8], len: impl Fn(&[u8]) -> Len, mut f: impl FnMut(&[u8]) -> bool) {
    drive_state(framer, data, &mut (), |_, h| len(h), |_, m| f(m), |_| false);
}

/// [`drive`] for a parser whose length function reads its state (PostgreSQL's startup messages have
/// no type byte) or that is done with the connection at some point (MySQL and PostgreSQL after the
/// verdict): `len` and `f` are given `st`, and once `done(st)` nothing more is framed, so what follows
/// is neither parsed nor counted as skipped (the direction is not given up either).
pub fn drive_state<S: ?Sized>(
    framer: &mut Framer,
    mut data: &[u8],
    st: &mut S,
    len: impl Fn(&S, &[u8]) -> Len,
    mut f: impl FnMut(&mut S, &[u8]) -> bool,
    done: impl Fn(&S) -> bool,
) {
    while !done(st) {
        let Some(fr) = framer.next(&mut data, |h| len(st, h)) else { break };
        let ok = match fr {
            Frame::Data(n) => match data.split_at_checked(n) {
                Some((m, rest)) => {
                    data = rest;
                    f(st, m)
                }
                None => false,
            },
            Frame::Buf => f(st, framer.buf()),
        };
        if !ok {
            framer.kill();
        }
    }
}

/// What a binary protocol does with its messages (AMQP, Kafka, MQTT, MySQL, PostgreSQL, memcached): the
/// part of a session [`Framed`] does not share.
pub trait FrameProto {
    /// The length of the message at the start of `h`, sent by `from` (see [`Framer::next`]).
    fn len(&self, from: Side, h: &[u8]) -> Len;
    /// One complete message; `false`: not this protocol (or nothing more to parse), ignore the rest of
    /// this direction.
    fn message(&mut self, from: Side, m: &[u8], ts: Timestamp, out: &mut dyn LoginSink) -> bool;
    /// Nothing more is read in either direction (MySQL and PostgreSQL after the verdict): see
    /// [`drive_state`].
    fn done(&self) -> bool {
        false
    }
    /// End of the connection.
    fn close(&mut self, out: &mut dyn LoginSink);
}

/// A session of a binary protocol: one [`Framer`] per direction feeding `P`'s messages.
#[derive(Default, Debug)]
pub struct Framed<P> {
    dirs: [Framer; 2],
    st: P,
}

impl<P> Framed<P> {
    /// The protocol's state (tests look at what it keeps).
    #[cfg(test)]
    pub fn state(&self) -> &P {
        &self.st
    }
}

impl<P: FrameProto> Session for Framed<P> {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        let Framed { dirs, st } = self;
        let Some(dir) = dirs.get_mut(from.index()) else { return };
        drive_state(dir, data, st, |st, h| st.len(from, h), |st, m| st.message(from, m, ts, out), P::done);
        dir.report(out);
    }

    fn on_gap(&mut self, from: Side, len: u64) {
        if let Some(d) = self.dirs.get_mut(from.index()) {
            d.gap(len);
        }
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        self.st.close(out);
    }
}

/// The last [`MAX_TRANSCRIPT`] summary lines of a connection, copied into a login when it is created
/// and extended with the lines that follow until its verdict. Older lines rotate out by design (a login
/// shows the lines just before it); a line a login's full transcript cannot take is counted
/// ([`Event::TranscriptFull`]).
#[derive(Default, Debug)]
pub struct Recent {
    lines: VecDeque<Text>,
}

impl Recent {
    /// Records one line and appends it to the transcripts of `pending` logins.
    pub fn push<'a>(&mut self, line: Line, pending: impl Iterator<Item = &'a mut Login>, out: &mut dyn LoginSink) {
        if line.cut {
            out.on_event(Event::TranscriptLineCut);
        }
        let t = line.into_text();
        for l in pending {
            if l.transcript.len() < MAX_TRANSCRIPT {
                l.transcript.push(t.clone());
            } else {
                out.on_event(Event::TranscriptFull);
            }
        }
        if self.lines.len() >= MAX_TRANSCRIPT {
            self.lines.pop_front();
        }
        self.lines.push_back(t);
    }

    /// Fewer lines than a transcript holds: new lines add context rather than replace old ones.
    pub fn has_room(&self) -> bool {
        self.lines.len() < MAX_TRANSCRIPT
    }

    /// The lines so far, for a new login: the last ones, leaving room for the server's answer.
    pub fn snapshot(&self) -> Vec<Text> {
        let keep = MAX_TRANSCRIPT - 2;
        self.lines.iter().skip(self.lines.len().saturating_sub(keep)).cloned().collect()
    }
}

/// The login in progress of a protocol that has at most one waiting for its answer (AMQP, Kafka, MQTT,
/// MySQL, PostgreSQL, SOCKS5, NNTP, XMPP): the connection's [`Recent`] lines and that login. The
/// binary protocols' counterpart of [`InProgress`](super::InProgress): their transcript is the recent
/// summary lines (copied into the login when it crosses, extended until its verdict), not the whole
/// exchange. One home so that every parser settles, replaces and hands out a login the same way: a
/// second credential before the answer to the first settles the first as [`Verdict::Unknown`], and the
/// end of the connection hands out the one still waiting with verdict unknown.
#[derive(Default, Debug)]
pub struct Exchange {
    recent: Recent,
    pending: Option<Login>,
}

impl Exchange {
    /// Records one transcript line (appended to the waiting login's transcript too).
    pub fn put(&mut self, line: Line, out: &mut dyn LoginSink) {
        self.recent.push(line, self.pending.iter_mut(), out);
    }

    /// [`Exchange::put`], the line also going to logins held elsewhere (after the waiting one's):
    /// SOCKS5 keeps an accepted login until the request that names its destination.
    pub fn put_also<'a>(&'a mut self, line: Line, also: impl Iterator<Item = &'a mut Login>, out: &mut dyn LoginSink) {
        self.recent.push(line, self.pending.iter_mut().chain(also), out);
    }

    /// A raw SASL response (AMQP's `Connection.StartOk`, Kafka's `SaslAuthenticate`) ends `l`, which is
    /// put. `cred`: the mechanism, user and password it decoded to (PLAIN, AMQPLAIN). With a password,
    /// ` user="…" password="…"` (no user part for an empty name) and a login that waits here for its
    /// answer; without (another mechanism, an empty password) the whole response is one slot after
    /// `label`: it may still be credential material, so it is never shown.
    #[allow(clippy::too_many_arguments)]
    pub fn raw_sasl(
        &mut self,
        mut l: Line,
        proto: Proto,
        cred: Option<(&'static str, &[u8], &[u8])>,
        label: &[u8],
        resp: &[u8],
        ts: Timestamp,
        out: &mut dyn LoginSink,
    ) {
        match cred.map(|(m, u, p)| (m, u, secret(p))).filter(|(_, _, s)| !s.is_empty()) {
            Some((mechanism, u, s)) => {
                if !u.is_empty() {
                    l.user_field(u);
                }
                l.password_field(&s);
                self.put(l, out);
                self.attempt(Login::attempt(proto, mechanism, user(u), s, Cred::Password, false, ts), out);
            }
            None => {
                l.lit(label).secret(&secret(resp));
                self.put(l, out);
            }
        }
    }

    /// The server answered the waiting login (if any): it is handed out with `v`.
    pub fn settle(&mut self, v: Verdict, out: &mut dyn LoginSink) {
        if let Some(l) = self.pending.take() {
            l.decide(v, out);
        }
    }

    /// A credential crossed: it waits for its answer, with the recent lines as its transcript (put the
    /// line that carried it first). One left waiting is settled as unknown first: the client went on
    /// without the server's answer we could see.
    pub fn attempt(&mut self, login: Login, out: &mut dyn LoginSink) {
        self.settle(Verdict::Unknown, out);
        self.pending = Some(login.with_transcript(self.recent.snapshot()));
    }

    /// The connection ended: the login still waiting is handed out, its verdict unknown (the end of a
    /// capture and a server hanging up look the same).
    pub fn close(&mut self, out: &mut dyn LoginSink) {
        self.settle(Verdict::Unknown, out);
    }

    /// The waiting login, taken out (its verdict decided elsewhere).
    pub fn take(&mut self) -> Option<Login> {
        self.pending.take()
    }

    /// The waiting login.
    pub fn pending(&self) -> Option<&Login> {
        self.pending.as_ref()
    }
}

/// The total length of the TLV at the start of `data`, tag and length included.
pub fn tlv_len(data: &[u8]) -> Len {
    let Some(&tag) = data.first() else { return Len::Need };
    if tag & 0x1f == 0x1f {
        return Len::Bad;
    }
    let Some(&l0) = data.get(1) else { return Len::Need };
    if l0 < 0x80 {
        return Len::Is(2 + l0 as usize);
    }
    let nbytes = (l0 & 0x7f) as usize;
    if nbytes == 0 || nbytes > 4 {
        return Len::Bad;
    }
    let Some(lb) = data.get(2..2 + nbytes) else { return Len::Need };
    match super::be::uint(lb).and_then(|n| usize::try_from(n).ok()) {
        Some(n) => Len::Is(n.saturating_add(2 + nbytes)),
        None => Len::Bad,
    }
}

/// Reads TLVs one after the other from a byte string.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The tag of the next TLV, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// The next TLV: its tag and its value. `None` on a malformed or truncated TLV.
    pub fn tlv(&mut self) -> Option<(u8, &'a [u8])> {
        let Len::Is(n) = tlv_len(self.data) else { return None };
        let whole = self.data.get(..n)?;
        let hdr = match whole.get(1)? {
            l if *l < 0x80 => 2,
            l => 2 + (l & 0x7f) as usize,
        };
        let tag = *whole.first()?;
        self.data = self.data.get(n..)?;
        Some((tag, whole.get(hdr..)?))
    }

    /// The next TLV, which must have tag `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.tlv()? {
            (t, v) if t == tag => Some(v),
            _ => None,
        }
    }

    /// An INTEGER (tag 0x02) or ENUMERATED (0x0a) that fits an i64.
    pub fn int(&mut self) -> Option<i64> {
        let (tag, v) = self.tlv()?;
        if tag != 0x02 && tag != 0x0a {
            return None;
        }
        int_value(v)
    }
}

/// A two's complement big-endian integer of 1 to 8 bytes.
pub fn int_value(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    let neg = v.first().is_some_and(|b| b & 0x80 != 0);
    let init: i64 = if neg { -1 } else { 0 };
    Some(v.iter().fold(init, |acc, &b| (acc << 8) | b as i64))
}

/// Test helper: encodes TLVs.
#[cfg(test)]
pub mod enc {
    pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = value.len();
        if n < 0x80 {
            out.push(n as u8);
        } else if n < 0x100 {
            out.extend_from_slice(&[0x81, n as u8]);
        } else if n < 0x10000 {
            out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        } else {
            out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(value);
        out
    }

    pub fn int(tag: u8, v: i64) -> Vec<u8> {
        let bytes = v.to_be_bytes();
        let mut start = 0;
        while start < 7 {
            let (b, next) = (bytes[start], bytes[start + 1]);
            if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        tlv(tag, &bytes[start..])
    }

    pub fn seq(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(tag, &parts.concat())
    }

    /// Deterministic pseudo-random variants of a conversation (a byte changed, some cut off, random
    /// bytes appended) for no-panic tests.
    pub fn mutations(
        conv: &[(crate::reassembly::Side, Vec<u8>)],
        n: usize,
    ) -> Vec<Vec<(crate::reassembly::Side, Vec<u8>)>> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut out = Vec::new();
        for _ in 0..n {
            let mut c = conv.to_vec();
            for _ in 0..1 + next() % 3 {
                let i = next() as usize % c.len();
                let m = &mut c[i].1;
                match next() % 4 {
                    0 if !m.is_empty() => {
                        let at = next() as usize % m.len();
                        m[at] = next() as u8;
                    }
                    1 if !m.is_empty() => {
                        let keep = next() as usize % m.len();
                        m.truncate(keep);
                    }
                    2 => m.extend((0..next() % 40).map(|_| next() as u8)),
                    _ => *m = (0..next() % 64).map(|_| next() as u8).collect(),
                }
            }
            out.push(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the memcached segmentation property test: a message that is all header (a 24-byte
    /// memcached request without body), its header completed byte by byte by the last bytes of a
    /// segment, was held until the next segment of its direction, after the other side's answer.
    #[test]
    fn a_message_completed_by_the_last_header_byte_is_handed_out_at_once() {
        let len = |h: &[u8]| if h.len() < 4 { Len::Need } else { Len::Is(4) };
        let mut f = Framer::default();
        let mut d: &[u8] = b"ab";
        assert_eq!(f.next(&mut d, len), None);
        let mut d: &[u8] = b"cd";
        assert_eq!(f.next(&mut d, len), Some(Frame::Buf));
        assert_eq!(f.buf(), b"abcd");
        assert_eq!(f.next(&mut d, len), None);
    }

    #[test]
    fn reads_short_and_long_lengths_and_integers() {
        let big = vec![7u8; 300];
        let mut data = enc::int(0x02, -129);
        data.extend(enc::tlv(0x04, &big));
        data.extend(enc::int(0x0a, 49));
        let mut r = Reader::new(&data);
        assert_eq!(r.int(), Some(-129));
        assert_eq!(r.expect(0x04), Some(&big[..]));
        assert_eq!(r.int(), Some(49));
        assert!(r.is_empty());
    }

    #[test]
    fn indefinite_or_oversized_lengths_are_bad() {
        assert_eq!(tlv_len(&[0x30, 0x80]), Len::Bad);
        assert_eq!(tlv_len(&[0x30, 0x85, 1, 1, 1, 1, 1]), Len::Bad);
        assert_eq!(tlv_len(&[0x1f, 0x01]), Len::Bad);
        assert_eq!(tlv_len(&[0x30, 0x82, 0x01]), Len::Need);
        assert_eq!(Reader::new(&[0x04, 0x05, 1, 2]).tlv(), None);
    }

    fn frames(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, bool) {
        let mut f = Framer::default();
        let mut got = Vec::new();
        for c in chunks {
            let mut data: &[u8] = c;
            while let Some(fr) = f.next(&mut data, tlv_len) {
                match fr {
                    Frame::Data(n) => {
                        let (m, rest) = data.split_at(n);
                        got.push(m.to_vec());
                        data = rest;
                    }
                    Frame::Buf => got.push(f.buf().to_vec()),
                }
            }
        }
        (got, f.is_dead())
    }

    #[test]
    fn framer_reassembles_and_skips_overlong_messages() {
        let a = enc::tlv(0x30, b"hello");
        let big = enc::tlv(0x30, &vec![0u8; MAX_LINE + 5]);
        let b = enc::tlv(0x30, b"x");
        let all = [a.clone(), big, b.clone()].concat();
        let want = vec![a, b];
        assert_eq!(frames(&[&all]), (want.clone(), false));
        let bytes: Vec<&[u8]> = all.chunks(1).collect();
        assert_eq!(frames(&bytes), (want, false));
        assert!(frames(&[&[0x30, 0x80, 0, 0]]).1);
    }

    #[test]
    fn a_message_that_is_only_its_header_completes_with_its_last_byte() {
        // An empty OCTET STRING, two bytes, fed one byte per call: handed out with its second byte.
        let (got, dead) = frames(&[&[0x04], &[0x00]]);
        assert_eq!((got, dead), (vec![vec![0x04, 0x00]], false));
    }

    #[test]
    fn skipped_messages_are_reported_once_each() {
        let big = enc::tlv(0x30, &vec![0u8; MAX_LINE + 5]);
        let all = [big.clone(), big, enc::tlv(0x30, b"x")].concat();
        for chunk in [all.len(), 1] {
            let mut f = Framer::default();
            for c in all.chunks(chunk) {
                let mut data: &[u8] = c;
                while let Some(fr) = f.next(&mut data, tlv_len) {
                    if let Frame::Data(n) = fr {
                        data = &data[n..];
                    }
                }
            }
            let mut out = super::super::Logins::default();
            f.report(&mut out);
            assert_eq!(out.events, vec![Event::MessageTooLong; 2], "chunks of {chunk}");
            f.report(&mut out);
            assert_eq!(out.events.len(), 2, "reported once");
        }
    }

    #[test]
    fn a_gap_inside_a_skipped_message_keeps_sync_elsewhere_kills() {
        let mut f = Framer::default();
        let big = enc::tlv(0x30, &vec![0u8; MAX_LINE + 100]);
        let mut data: &[u8] = &big[..10];
        assert_eq!(f.next(&mut data, tlv_len), None);
        f.gap(50);
        let rest = [&big[60..], &enc::tlv(0x30, b"ok")[..]].concat();
        let mut data: &[u8] = &rest;
        assert_eq!(f.next(&mut data, tlv_len), Some(Frame::Data(4)));
        f.gap(1);
        assert!(f.is_dead());
    }
}
