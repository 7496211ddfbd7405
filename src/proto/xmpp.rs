//! XMPP client-to-server streams (RFC 6120, XEP-0078) without TLS: SASL PLAIN and the legacy
//! `jabber:iq:auth` password.
//!
//! - SASL PLAIN: `<auth mechanism='PLAIN'>base64(authzid\0user\0password)</auth>`; `<success/>`
//!   accepts it, `<failure>` refuses it. Other mechanisms (SCRAM-SHA-1, DIGEST-MD5, EXTERNAL) carry no
//!   password: nothing is reported, and their `<auth>`/`<response>` payloads are slots in transcripts.
//! - Legacy authentication: `<iq type='set' id='X'><query xmlns='jabber:iq:auth'><username>u</username>
//!   <password>p</password>...` (the password in clear, XML-escaped); `<iq type='result' id='X'>`
//!   accepts it, `<iq type='error' id='X'>` refuses it. A `<digest>` instead of a password is a hash of
//!   the stream id and the password: nothing is reported.
//! - STARTTLS: `<proceed/>` ends the parse (what follows is TLS). `<starttls>` in the server's
//!   `<stream:features>` marks later logins [`TlsNote::OfferedNotUsed`](super::TlsNote::OfferedNotUsed).
//!
//! No XML parser: each direction is scanned by a small tokenizer that finds tags (`<...>`, quotes
//! respected) and the text between them, and only a few element names matter. It keeps no element stack,
//! so nesting costs nothing: every byte is looked at a bounded number of times (linear time whatever an
//! attacker nests). A tag is buffered up to [`MAX_LINE`] bytes (a longer one is skipped to its end),
//! the text of an element read for a credential too ([`Event::MessageTooLong`] either way).

use super::ber::Exchange;
use super::sasl::{self, b64};
use super::{Cred, Event, Line, Login, LoginSink, MAX_LINE, Proto, Session, Verdict, secret, text};
use crate::reassembly::Side;
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

#[derive(Default, Debug)]
pub struct Xmpp {
    dirs: [Tokenizer; 2],
    st: State,
}

/// One direction's scanner: where it is between and inside tags.
#[derive(Default, Debug)]
struct Tokenizer {
    /// Inside a tag: its bytes so far (from `<`).
    tag: Vec<u8>,
    in_tag: bool,
    /// The quote character of an attribute value being read.
    quote: Option<u8>,
    /// The tag outgrew [`MAX_LINE`]: skipping to its end.
    skipping: bool,
}

/// What a tokenizer hands out.
#[derive(Debug)]
enum Tok<'a> {
    /// A whole tag, `<` to `>` included.
    Tag(&'a [u8]),
    /// Text between tags (possibly a piece of it).
    Text(&'a [u8]),
}

impl Tokenizer {
    /// Calls `f` with every tag and text piece of `data`, in order; returns how many tags were too long.
    fn feed(&mut self, data: &[u8], mut f: impl FnMut(Tok<'_>)) -> usize {
        let mut too_long = 0;
        let mut i = 0;
        while i < data.len() {
            if !self.in_tag {
                // Text up to the next `<`.
                let end = memchr::memchr(b'<', &data[i..]).map_or(data.len(), |j| i + j);
                if end > i {
                    f(Tok::Text(&data[i..end]));
                }
                if end == data.len() {
                    break;
                }
                self.in_tag = true;
                self.tag.clear();
                i = end;
            }
            // Inside a tag: up to its `>` outside quotes.
            let start = i;
            let mut close = None;
            while i < data.len() {
                let c = data[i];
                i += 1;
                match self.quote {
                    Some(q) if c == q => self.quote = None,
                    Some(_) => {}
                    None if c == b'\'' || c == b'"' => self.quote = Some(c),
                    None if c == b'>' => {
                        close = Some(i);
                        break;
                    }
                    None => {}
                }
            }
            let piece = &data[start..close.unwrap_or(i)];
            if !self.skipping {
                if self.tag.len() + piece.len() > MAX_LINE {
                    self.skipping = true;
                    self.tag.clear();
                    too_long += 1;
                } else {
                    self.tag.extend_from_slice(piece);
                }
            }
            if close.is_some() {
                self.in_tag = false;
                if !std::mem::take(&mut self.skipping) {
                    f(Tok::Tag(&self.tag));
                }
                self.tag.clear();
            }
        }
        too_long
    }

    fn gap(&mut self) {
        *self = Tokenizer::default();
    }
}

/// A tag's name (without `<`, `</`, attributes), its local part (after a `prefix:`), whether it closes
/// an element (`</x>`) and whether it is empty (`<x/>`).
struct TagInfo<'a> {
    local: &'a [u8],
    end: bool,
    empty: bool,
}

fn tag_info(tag: &[u8]) -> TagInfo<'_> {
    let inner = tag.strip_prefix(b"<").unwrap_or(tag);
    let inner = inner.strip_suffix(b">").unwrap_or(inner);
    let (end, inner) = match inner.strip_prefix(b"/") {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let empty = inner.last() == Some(&b'/');
    let n = inner.iter().position(|&c| c.is_ascii_whitespace() || c == b'/' || c == b'>').unwrap_or(inner.len());
    let name = &inner[..n];
    let local = name.rsplit(|&c| c == b':').next().unwrap_or(name);
    TagInfo { local, end, empty }
}

/// The value of attribute `name` in a start tag (as written: XML-escaped).
fn attr<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while let Some(j) = memchr::memmem::find(tag.get(i..)?, name) {
        let at = i + j;
        i = at + name.len();
        let before_ok = at > 0 && tag.get(at - 1).is_some_and(u8::is_ascii_whitespace);
        let rest = tag.get(i..)?.trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else { continue };
        let rest = rest.trim_ascii_start();
        let (&q, rest) = rest.split_first()?;
        if !before_ok || (q != b'\'' && q != b'"') {
            continue;
        }
        let end = memchr::memchr(q, rest)?;
        return rest.get(..end);
    }
    None
}

/// XML text with the predefined entities and character references decoded (others kept as written).
fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'&' {
            if let Some(len) = b[i..].iter().take(12).position(|&c| c == b';') {
                let ent = &b[i + 1..i + len];
                let decoded: Option<char> = match ent {
                    b"amp" => Some('&'),
                    b"lt" => Some('<'),
                    b"gt" => Some('>'),
                    b"quot" => Some('"'),
                    b"apos" => Some('\''),
                    [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32),
                    [b'#', dec @ ..] => {
                        std::str::from_utf8(dec).ok().and_then(|d| d.parse::<u32>().ok()).and_then(char::from_u32)
                    }
                    _ => None,
                };
                if let Some(c) = decoded {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += len + 1;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// What answers a login.
#[derive(Debug)]
enum Wait {
    Sasl,
    /// The id of the `jabber:iq:auth` set.
    Iq(Vec<u8>),
}

/// The element whose text is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// `<auth>`: the SASL initial response.
    Auth,
    /// `<response>`: a SASL response.
    Response,
    /// `<username>` of a legacy auth query.
    Username,
    /// `<password>` of a legacy auth query.
    Password,
    /// `<mechanism>` of the server's features.
    Mechanism,
}

/// An element being read: what it is, its start tag, its text so far.
type Read = (Reading, Vec<u8>, Vec<u8>);

#[derive(Default, Debug)]
struct State {
    ex: Exchange,
    /// What answers the login waiting in `ex` (see [`State::waits_for`]).
    wait: Option<Wait>,
    /// Per direction: the element being read, its start tag and its text so far.
    reading: [Option<Read>; 2],
    /// The client's `<auth>` mechanism is PLAIN.
    auth_plain: bool,
    /// Inside a `jabber:iq:auth` query of a `set`: its iq id, username and password so far.
    legacy: Option<Legacy>,
    /// The id of the last client `<iq type='set'>`.
    iq_id: Vec<u8>,
    /// Mechanisms listed by the server (for its features' transcript line).
    mechanisms: Vec<u8>,
    tls_offered: bool,
    upgraded: bool,
}

#[derive(Default, Debug)]
struct Legacy {
    id: Vec<u8>,
    username: Vec<u8>,
    password: Vec<u8>,
}

fn prefix(side: Side) -> &'static str {
    if side == Side::Client { "C: " } else { "S: " }
}

/// Longest text kept of an element read for a credential (a SASL response, a password).
const MAX_TEXT: usize = MAX_LINE;
/// Bytes of mechanism names kept for the transcript.
const MAX_MECHANISMS: usize = 256;

impl State {
    fn tag_line(&mut self, side: Side, tag: &[u8], out: &mut dyn LoginSink) {
        self.ex.put(Line::lit_line(prefix(side), tag), out);
    }

    /// What answers the login waiting for its verdict; `None` when none waits.
    fn waits_for(&self) -> Option<&Wait> {
        self.ex.pending().and(self.wait.as_ref())
    }

    fn attempt(
        &mut self,
        w: Wait,
        mechanism: &'static str,
        user: Option<Text>,
        s: Secret,
        ts: Timestamp,
        out: &mut dyn LoginSink,
    ) {
        if s.is_empty() {
            return;
        }
        let l = Login::attempt(Proto::Xmpp, mechanism, user, s, Cred::Password, self.tls_offered, ts);
        self.ex.attempt(l, out);
        self.wait = Some(w);
    }

    fn on_tok(&mut self, side: Side, tok: Tok<'_>, ts: Timestamp, out: &mut dyn LoginSink) {
        if self.upgraded {
            return;
        }
        let d = side.index();
        let tag = match tok {
            Tok::Text(t) => {
                if let Some((_, _, text)) = &mut self.reading[d] {
                    if text.len() + t.len() > MAX_TEXT {
                        self.reading[d] = None;
                        out.on_event(Event::MessageTooLong);
                    } else {
                        text.extend_from_slice(t);
                    }
                }
                return;
            }
            Tok::Tag(t) => t,
        };
        let info = tag_info(tag);
        if info.end {
            if let Some((r, start, text)) = self.reading[d].take() {
                self.finish(side, r, &start, &text, ts, out);
            }
            if side == Side::Client && info.local == b"query" {
                self.legacy_done(ts, out);
            }
            if side == Side::Server && info.local == b"features" {
                let mut l = Line::new(prefix(side));
                l.lit(b"<stream:features> mechanisms: ").lit(&self.mechanisms);
                if self.tls_offered {
                    l.lit(b" starttls");
                }
                self.ex.put(l, out);
            }
            return;
        }
        match (side, info.local) {
            (Side::Client, b"auth") => {
                self.auth_plain = attr(tag, b"mechanism").is_some_and(|m| m.eq_ignore_ascii_case(b"PLAIN"));
                self.read(side, Reading::Auth, tag, info.empty, ts, out);
            }
            (Side::Client, b"response") => self.read(side, Reading::Response, tag, info.empty, ts, out),
            (Side::Client, b"iq") => {
                self.tag_line(side, tag, out);
                if attr(tag, b"type") == Some(b"set") {
                    self.iq_id = attr(tag, b"id").unwrap_or_default().to_vec();
                }
            }
            (Side::Client, b"query") => {
                self.tag_line(side, tag, out);
                if attr(tag, b"xmlns") == Some(b"jabber:iq:auth") && !self.iq_id.is_empty() {
                    self.legacy = Some(Legacy { id: std::mem::take(&mut self.iq_id), ..Legacy::default() });
                }
                if info.empty {
                    self.legacy = None;
                }
            }
            (Side::Client, b"username") if self.legacy.is_some() => {
                self.read(side, Reading::Username, tag, info.empty, ts, out)
            }
            (Side::Client, b"password") if self.legacy.is_some() => {
                self.read(side, Reading::Password, tag, info.empty, ts, out)
            }
            (Side::Server, b"mechanism") => self.read(side, Reading::Mechanism, tag, info.empty, ts, out),
            (Side::Server, b"starttls") => self.tls_offered = true,
            (Side::Server, b"features") => self.mechanisms.clear(),
            (Side::Server, b"success") => {
                self.tag_line(side, tag, out);
                if matches!(self.waits_for(), Some(Wait::Sasl)) {
                    self.ex.settle(Verdict::Accepted, out);
                }
            }
            (Side::Server, b"failure") => {
                self.tag_line(side, tag, out);
                if matches!(self.waits_for(), Some(Wait::Sasl)) {
                    self.ex.settle(Verdict::Refused, out);
                }
            }
            (Side::Server, b"proceed") => {
                self.tag_line(side, tag, out);
                self.ex.settle(Verdict::Unknown, out);
                self.upgraded = true;
                out.on_tls();
            }
            (Side::Server, b"iq") => {
                self.tag_line(side, tag, out);
                let id = attr(tag, b"id").unwrap_or_default();
                if let Some(Wait::Iq(want)) = self.waits_for() {
                    if want.as_slice() == id {
                        match attr(tag, b"type") {
                            Some(b"result") => self.ex.settle(Verdict::Accepted, out),
                            Some(b"error") => self.ex.settle(Verdict::Refused, out),
                            _ => {}
                        }
                    }
                }
            }
            (_, b"stream" | b"starttls" | b"challenge" | b"abort") => self.tag_line(side, tag, out),
            _ => {}
        }
    }

    /// Starts reading the text of an element (an empty element is finished at once).
    fn read(&mut self, side: Side, r: Reading, tag: &[u8], empty: bool, ts: Timestamp, out: &mut dyn LoginSink) {
        if empty {
            self.finish(side, r, tag, b"", ts, out);
        } else {
            self.reading[side.index()] = Some((r, tag.to_vec(), Vec::new()));
        }
    }

    fn finish(&mut self, side: Side, r: Reading, start: &[u8], raw: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        match r {
            Reading::Mechanism => {
                if self.mechanisms.len() + raw.len() < MAX_MECHANISMS {
                    if !self.mechanisms.is_empty() {
                        self.mechanisms.push(b' ');
                    }
                    self.mechanisms.extend_from_slice(raw.trim_ascii());
                } else {
                    // Left out of the features' transcript line: that line is cut.
                    out.on_event(Event::TranscriptLineCut);
                }
            }
            Reading::Auth | Reading::Response => {
                let blob = raw.trim_ascii();
                let d = (r == Reading::Auth && self.auth_plain)
                    .then(|| b64(blob).and_then(|p| sasl::plain_raw(&p)))
                    .flatten();
                let mut l = Line::new(prefix(side));
                l.lit(start);
                let wire = secret(blob);
                match &d {
                    Some(d) => l.wire(&d.secret, &wire),
                    None => l.secret(&wire),
                };
                l.lit(if r == Reading::Auth { b"</auth>" } else { b"</response>" });
                self.ex.put(l, out);
                if let Some(d) = d {
                    self.attempt(Wait::Sasl, "SASL PLAIN", d.user, d.secret, ts, out);
                }
            }
            Reading::Username => {
                if let Some(l) = &mut self.legacy {
                    l.username = raw.to_vec();
                }
            }
            Reading::Password => {
                if let Some(l) = &mut self.legacy {
                    l.password = raw.to_vec();
                }
            }
        }
    }

    /// The end of a `jabber:iq:auth` query: a login when it held a password.
    fn legacy_done(&mut self, ts: Timestamp, out: &mut dyn LoginSink) {
        let Some(l) = self.legacy.take() else { return };
        let user = unescape(&l.username);
        let pw = secret(&unescape(&l.password));
        let wire = secret(&l.password);
        let mut line = Line::new("C: ");
        line.lit(b"jabber:iq:auth username=\"").user(&user).lit(b"\" password=\"").wire(&pw, &wire).lit(b"\"");
        self.ex.put(line, out);
        let user = (!user.is_empty()).then(|| Text::user(&text(&user)));
        self.attempt(Wait::Iq(l.id), "jabber:iq:auth", user, pw, ts, out);
    }
}

impl Session for Xmpp {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink) {
        if self.st.upgraded {
            return;
        }
        let st = &mut self.st;
        let n = self.dirs[from.index()].feed(data, |t| st.on_tok(from, t, ts, out));
        super::report(out, Event::MessageTooLong, n);
    }

    fn on_gap(&mut self, from: Side, _len: u64) {
        self.dirs[from.index()].gap();
        self.st.reading[from.index()] = None;
        if from == Side::Client {
            self.st.legacy = None;
        }
    }

    fn on_close(&mut self, _ts: Timestamp, out: &mut dyn LoginSink) {
        self.st.ex.close(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{C, S, assert_no_secret_shown, full, run_both};
    use super::*;
    use base64::Engine as _;

    const CLIENT_OPEN: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' to='more.lab' version='1.0'>";
    const SERVER_OPEN: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
        xmlns='jabber:client' id='0b7c' from='more.lab' version='1.0'>";
    const FEATURES: &[u8] = b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
        <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";

    fn auth(mech: &str, payload: &[u8]) -> Vec<u8> {
        let b = base64::engine::general_purpose::STANDARD.encode(payload);
        format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mech}'>{b}</auth>").into_bytes()
    }

    fn summary(got: &super::super::Logins) -> Vec<(&str, Option<&str>, &str, Verdict)> {
        got.logins.iter().map(|l| (l.mechanism, l.user_name(), l.secret.expose(), l.verdict)).collect()
    }

    #[test]
    fn sasl_plain_accepted_by_success_with_starttls_offered_and_not_used() {
        let got = run_both(
            Xmpp::default,
            &[
                (C, CLIENT_OPEN),
                (S, SERVER_OPEN),
                (S, FEATURES),
                (C, &auth("PLAIN", b"\0alice\0Xmpp p&ss")),
                (S, b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"),
            ],
        );
        assert_eq!(summary(&got), vec![("SASL PLAIN", Some("alice"), "Xmpp p&ss", Verdict::Accepted)]);
        assert_eq!(got.logins[0].tls, super::super::TlsNote::OfferedNotUsed);
        let t = full(&got.logins[0].transcript);
        assert!(t.contains(&"S: <stream:features> mechanisms: SCRAM-SHA-1 PLAIN starttls".to_string()), "{t:?}");
        assert_eq!(t.last().map(String::as_str), Some("S: <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
        assert_no_secret_shown(&got, &[b"Xmpp p&ss"]);
    }

    #[test]
    fn sasl_plain_refused_by_failure() {
        let got = run_both(
            Xmpp::default,
            &[
                (C, CLIENT_OPEN),
                (C, &auth("PLAIN", b"bob@more.lab\0bob\0wrong")),
                (S, b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"),
            ],
        );
        assert_eq!(summary(&got), vec![("SASL PLAIN", Some("bob"), "wrong", Verdict::Refused)]);
    }

    #[test]
    fn scram_gives_nothing_and_its_payloads_are_slots() {
        let got = run_both(
            Xmpp::default,
            &[
                (C, CLIENT_OPEN),
                (C, &auth("SCRAM-SHA-1", b"n,,n=carol,r=fyko+d2lbbFgONRv9qkxdawL")),
                (S, b"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1meWtvK2Qy</challenge>"),
                (C, b"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>Yz1iaXdzLHI9Znlrbyt=</response>"),
                (S, b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VB</success>"),
            ],
        );
        assert!(got.logins.is_empty());
    }

    #[test]
    fn legacy_iq_auth_password_is_unescaped_and_judged_by_the_iq_reply_of_its_id() {
        let got = run_both(
            Xmpp::default,
            &[
                (C, CLIENT_OPEN),
                (C, b"<iq type='get' id='a1'><query xmlns='jabber:iq:auth'><username>dave</username></query></iq>"),
                (S, b"<iq type='result' id='a1'><query xmlns='jabber:iq:auth'><username/><password/><resource/></query></iq>"),
                (C, b"<iq type='set' id='a2'><query xmlns='jabber:iq:auth'><username>dave</username>"),
                (C, b"<password>Leg&amp;cy&#33;pw</password><resource>lab</resource></query></iq>"),
                (S, b"<iq type='error' id='other'/>"),
                (S, b"<iq type='result' id='a2'/>"),
                (C, b"<iq type='set' id='a3'><query xmlns='jabber:iq:auth'><username>dave</username>\
                       <digest>48fc78be9ec8f86d8ce1c39c320c97c21d62334d</digest><resource>x</resource></query></iq>"),
                (S, b"<iq type='error' id='a3'/>"),
            ],
        );
        assert_eq!(summary(&got), vec![("jabber:iq:auth", Some("dave"), "Leg&cy!pw", Verdict::Accepted)]);
        let t = full(&got.logins[0].transcript);
        assert!(t.contains(&"C: jabber:iq:auth username=\"dave\" password=\"Leg&amp;cy&#33;pw\"".to_string()), "{t:?}");
        assert_no_secret_shown(&got, &[b"Leg&cy!pw", b"Leg&amp;cy&#33;pw"]);
    }

    #[test]
    fn proceed_ends_the_parse_and_reports_tls() {
        let got = run_both(
            Xmpp::default,
            &[
                (C, CLIENT_OPEN),
                (S, SERVER_OPEN),
                (S, FEATURES),
                (C, b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                (S, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                (C, b"\x16\x03\x01\x00\x20<auth mechanism='PLAIN'>AGEAYg==</auth>"),
                (S, b"<success/>"),
            ],
        );
        assert!(got.tls && got.logins.is_empty());
    }

    #[test]
    fn quotes_hide_a_closing_bracket_and_attributes_are_matched_whole() {
        let got = run_both(
            Xmpp::default,
            &[
                (C, b"<auth note='a > b' xmechanism='SCRAM' mechanism=\"PLAIN\">AGVyaW4AcHc=</auth>"),
                (S, b"<success/>"),
            ],
        );
        assert_eq!(summary(&got), vec![("SASL PLAIN", Some("erin"), "pw", Verdict::Accepted)]);
    }

    #[test]
    fn an_overlong_tag_or_text_is_skipped_counted_and_the_stream_goes_on() {
        let long_tag = [b"<iq note='".to_vec(), vec![b'x'; MAX_LINE + 10], b"'>".to_vec()].concat();
        let long_auth = [b"<auth mechanism='PLAIN'>".to_vec(), vec![b'A'; MAX_LINE + 10], b"</auth>".to_vec()].concat();
        let got = run_both(
            Xmpp::default,
            &[(C, &long_tag), (C, &long_auth), (C, &auth("PLAIN", b"\0u\0p")), (S, b"<success/>")],
        );
        assert_eq!(summary(&got), vec![("SASL PLAIN", Some("u"), "p", Verdict::Accepted)]);
        assert_eq!(got.events, vec![Event::MessageTooLong, Event::MessageTooLong]);
    }

    #[test]
    fn unescape_decodes_entities_and_keeps_unknown_ones() {
        assert_eq!(unescape(b"a&lt;b&gt;&quot;&apos;&amp;&#x41;&#66;&nope;&"), b"a<b>\"'&AB&nope;&".to_vec());
    }

    #[test]
    fn mutated_conversations_never_panic_and_chunking_agrees() {
        let conv: Vec<(Side, Vec<u8>)> = vec![
            (C, CLIENT_OPEN.to_vec()),
            (S, [SERVER_OPEN, FEATURES].concat()),
            (C, auth("PLAIN", b"\0alice\0pw")),
            (S, b"<failure><not-authorized/></failure>".to_vec()),
            (C, b"<iq type='set' id='z'><query xmlns='jabber:iq:auth'><username>a</username><password>p</password></query></iq>".to_vec()),
            (S, b"<iq type='result' id='z'/>".to_vec()),
        ];
        for c in super::super::ber::enc::mutations(&conv, 400) {
            let refs: Vec<(Side, &[u8])> = c.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            run_both(Xmpp::default, &refs);
        }
    }
}
