//! The message as an attacker on the path saw it (the TUI's detail view, the alert's path), built from
//! parts: literal text, and a slot wherever a credential lies.
//!
//! Where the slots go is decided by structure, never by searching the text for a secret's value:
//! - every finding's span and every mask the detectors left ([`Found`]), low-confidence ones included;
//! - header values that carry credentials by their name alone: `Authorization` and
//!   `Proxy-Authorization` (after the scheme), every `Cookie` value, the `Set-Cookie` value, token and
//!   key headers.
//!
//! A slot of a finding shows that finding's secret (the same length and fingerprint as its alert; its
//! wire form when revealed); any other slot shows the masked bytes as a secret of their own. A slot is
//! never cut by the excerpt's length limits: literal text is. Building is linear in the message.

use std::ops::Range;

use super::common::{norm_buf, trim_range};
use super::{Field, Finding, Found, Span, api_key, auth, cookie};
use crate::http::{Headers, Request, Response};
use crate::secret::{Secret, Text};

/// Header lines kept per excerpt (the TUI detail view), and the literal bytes kept per line.
pub const MAX_LINES: usize = 40;
pub const MAX_LINE: usize = 512;

/// Headers whose value carries a credential by the name alone (beyond the ones with their own rules).
fn sensitive_name(name: &str) -> bool {
    let mut buf = [0u8; 48];
    let n = norm_buf(name, &mut buf);
    api_key::API_KEY_HEADERS.contains(&n)
        || ["token", "secret", "passw", "apikey", "session", "signature", "credential", "xauth"]
            .iter()
            .any(|w| memchr::memmem::find(n.as_bytes(), w.as_bytes()).is_some())
        || api_key::header_word(name, n).is_some()
}

/// Spans that header `i` (`name: value`) carries by structure.
fn header_masks(i: usize, name: &str, value: &[u8], out: &mut Vec<Span>) {
    let whole = trim_range(value, 0..value.len());
    if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("proxy-authorization") {
        let (_, rest) = auth::split_scheme(value, whole);
        out.push(Span::new(Field::Header(i), rest));
    } else if name.eq_ignore_ascii_case("cookie") {
        for (_, r) in cookie::cookie_pairs(value) {
            out.push(Span::new(Field::Header(i), r));
        }
    } else if name.eq_ignore_ascii_case("set-cookie") {
        let first_end = memchr::memchr(b';', value).unwrap_or(value.len());
        if let Some(eq) = memchr::memchr(b'=', &value[..first_end]) {
            out.push(Span::new(Field::Header(i), trim_range(value, eq + 1..first_end)));
        }
    } else if sensitive_name(name) {
        out.push(Span::new(Field::Header(i), whole));
    }
}

/// One slot region: the merged range and the finding whose span it is exactly (if any).
struct Region<'a> {
    range: Range<usize>,
    finding: Option<&'a Finding>,
}

/// The slot regions of `field`: every span of it, overlapping ones merged. Sorted by start.
fn regions<'a>(field: Field, found: &'a Found, extra: &[Span], len: usize) -> Vec<Region<'a>> {
    let mut spans: Vec<(Range<usize>, Option<&'a Finding>)> = Vec::new();
    for f in &found.findings {
        if let Some(s) = f.span.as_ref().filter(|s| s.field == field) {
            spans.push((s.range.clone(), Some(f)));
        }
    }
    for s in found.masks.iter().chain(extra).filter(|s| s.field == field) {
        spans.push((s.range.clone(), None));
    }
    spans.retain(|(r, _)| r.start < r.end && r.end <= len);
    // Findings first among equal ranges, so a region that is exactly a finding's span shows it.
    spans.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)).then(b.1.is_some().cmp(&a.1.is_some())));
    let mut out: Vec<Region<'a>> = Vec::new();
    for (r, f) in spans {
        match out.last_mut() {
            Some(last) if r.start < last.range.end => {
                if r.end > last.range.end {
                    last.range.end = r.end;
                    last.finding = None;
                } else if last.finding.is_none() && r == last.range {
                    last.finding = f;
                }
            }
            _ => out.push(Region { range: r, finding: f }),
        }
    }
    // A region grown past a finding's span no longer is that span.
    for reg in &mut out {
        if reg.finding.and_then(|f| f.span.as_ref()).is_some_and(|s| s.range != reg.range) {
            reg.finding = None;
        }
    }
    out
}

/// Append `bytes` (one field) to `t` with a slot on every region, literal text cut after `budget`
/// bytes (a slot is never cut). `flat` turns line breaks into spaces (a body on one line). Returns
/// whether everything fit.
fn build(t: &mut Text, bytes: &[u8], regions: &[Region<'_>], mut budget: usize, flat: bool) -> bool {
    let mut at = 0;
    let lit = |t: &mut Text, b: &[u8], budget: &mut usize| -> bool {
        let take = b.len().min(*budget);
        let s = String::from_utf8_lossy(&b[..take]);
        if flat && memchr::memchr2(b'\r', b'\n', &b[..take]).is_some() {
            t.push_lit(&s.replace(['\r', '\n'], " "));
        } else {
            t.push_lit(&s);
        }
        *budget -= take;
        take == b.len()
    };
    for reg in regions {
        if !lit(t, &bytes[at..reg.range.start], &mut budget) {
            t.push_lit("…");
            return false;
        }
        let wire = Secret::from_bytes(&bytes[reg.range.clone()]);
        match reg.finding {
            Some(f) => t.push_wire(f.secret.clone(), wire),
            None => t.push_secret(wire),
        };
        at = reg.range.end;
    }
    if !lit(t, &bytes[at..], &mut budget) {
        t.push_lit("…");
        return false;
    }
    true
}

fn header_lines(headers: &Headers, found: &Found, out: &mut Vec<Text>) {
    let mut extra = Vec::new();
    for (i, (name, value)) in headers.iter().enumerate().take(MAX_LINES) {
        extra.clear();
        header_masks(i, name, value, &mut extra);
        let regs = regions(Field::Header(i), found, &extra, value.len());
        let mut t = Text::lit(format!("{name}: "));
        build(&mut t, value, &regs, MAX_LINE, true);
        out.push(t);
    }
}

/// The request target with its slots (userinfo password, credential parameters, tokens found in it).
pub fn target(target: &str, found: &Found) -> Text {
    let regs = regions(Field::Target, found, &[], target.len());
    let mut t = Text::new();
    build(&mut t, target.as_bytes(), &regs, usize::MAX, false);
    t
}

/// The target of a request this message does not carry (a response's path): its slots come from the
/// URL rules alone (userinfo, credential parameters, JWT-shaped runs).
pub fn target_alone(t: &str) -> Text {
    let mut found = Found::default();
    super::url::detect(t, "request", Field::Target, crate::time::Timestamp::ZERO, &mut found);
    super::url::userinfo(t, crate::time::Timestamp::ZERO, &mut found);
    for (s, e) in super::jwt::find_all(t.as_bytes()) {
        found.masks.push(Span::new(Field::Target, s..e));
    }
    // Only the places matter here: a finding's secret is shown as the bytes it covers.
    found.masks.extend(found.findings.drain(..).filter_map(|f| f.span));
    target(t, &found)
}

/// The protocol as a start line names it (HTTP/2 has none on the wire: its pseudo-header fields say
/// the same, and the excerpt says which protocol carried the message).
fn version(v: u8) -> String {
    if v == 2 { "HTTP/2".to_string() } else { format!("HTTP/1.{v}") }
}

/// The request as it crossed the wire: request line, headers, and the start of the body on one line.
pub fn request(req: &Request, found: &Found) -> Vec<Text> {
    let mut out = Vec::with_capacity(req.headers.len().min(MAX_LINES) + 3);
    let mut first = Text::lit(format!("{} ", req.method));
    first.push_text(&target(&req.target, found));
    first.push_lit(&format!(" {}", version(req.version)));
    out.push(first);
    header_lines(&req.headers, found, &mut out);
    if !req.body.data.is_empty() {
        // The body as it crossed the wire (its start): a login form is the most telling part.
        let body = &req.body.data;
        let regs = regions(Field::Body, found, &[], body.len());
        let mut t = Text::new();
        build(&mut t, body, &regs, MAX_LINE, true);
        out.push(Text::new());
        out.push(t);
    }
    out
}

/// The first line of a request that carried no credential (the follow view's messages before a leak),
/// its target cut at [`MAX_LINE`] bytes.
pub fn request_line(req: &Request) -> Text {
    let mut t = Text::lit(format!("{} ", req.method));
    if !build(&mut t, req.target.as_bytes(), &[], MAX_LINE, true) {
        t.push_lit("…");
    }
    t.push_lit(&format!(" {}", version(req.version)));
    t
}

/// The status line of a response that carried no credential, its reason cut at [`MAX_LINE`] bytes.
pub fn status_line(resp: &Response) -> Text {
    let mut t = match resp.version {
        2 => return Text::lit(format!("HTTP/2 {}", resp.status)),
        v => Text::lit(format!("HTTP/1.{v} {} ", resp.status)),
    };
    if !build(&mut t, resp.reason.as_bytes(), &[], MAX_LINE, true) {
        t.push_lit("…");
    }
    t
}

/// A message body on one line (a WebSocket message), with a slot on every span of [`Field::Body`].
pub fn body_line(data: &[u8], found: &Found) -> Text {
    let regs = regions(Field::Body, found, &[], data.len());
    let mut t = Text::new();
    build(&mut t, data, &regs, MAX_LINE, true);
    t
}

/// The response head as it crossed the wire.
pub fn response(resp: &Response, found: &Found) -> Vec<Text> {
    let mut out = Vec::with_capacity(resp.headers.len().min(MAX_LINES) + 1);
    let line = match resp.version {
        // No reason phrase in HTTP/2.
        2 => format!("HTTP/2 {}", resp.status),
        v => format!("HTTP/1.{v} {} {}", resp.status, resp.reason),
    };
    out.push(Text::lit(line));
    header_lines(&resp.headers, found, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Config, detect_request};
    use crate::http::Body;
    use crate::secret::Reveal;
    use crate::time::Timestamp;

    fn req(target: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: "POST".into(),
            target: target.into(),
            version: 1,
            headers: headers.iter().copied().collect(),
            body: Body { data: body.as_bytes().to_vec(), ..Body::default() },
            ts: Timestamp::ZERO,
            seq: 0,
        }
    }

    fn excerpt_of(r: &Request) -> (Vec<String>, Vec<String>) {
        let mut found = Found::default();
        detect_request(&Config::default(), r, Timestamp::ZERO, &mut found);
        let ex = request(r, &found);
        (ex.iter().map(|t| t.render(Reveal::Redacted)).collect(), ex.iter().map(|t| t.render(Reveal::Full)).collect())
    }

    #[test]
    fn a_password_equal_to_the_path_and_to_template_words_leaves_them_alone() {
        let r = req(
            "/login",
            &[("Host", "shop.lab"), ("Content-Type", "application/x-www-form-urlencoded")],
            "user=bob&password=login",
        );
        let (red, full) = excerpt_of(&r);
        assert_eq!(red[0], "POST /login HTTP/1.1");
        assert!(red[4].starts_with("user=bob&password=…[5 chars, fp "), "{red:?}");
        assert_eq!(full[4], "user=bob&password=login");
    }

    #[test]
    fn encodings_are_masked_by_position_lower_case_escapes_and_json_unicode() {
        let r = req("/x", &[("Content-Type", "application/x-www-form-urlencoded")], "password=p%7eq%c3%a4");
        let (red, _) = excerpt_of(&r);
        assert!(!red[3].contains("p%7eq"), "{red:?}");
        assert!(red[3].contains("…[4 chars"), "the slot tells the decoded length: {red:?}");
        let r = req("/x", &[("Content-Type", "application/json")], r#"{"user":"a","password":"p\u00e4ss\/w"}"#);
        let (red, full) = excerpt_of(&r);
        assert!(!red[3].contains("u00e4") && red[3].contains("…[6 chars"), "{red:?}");
        assert!(full[3].contains(r#"p\u00e4ss\/w"#), "revealed, the wire form: {full:?}");
    }

    #[test]
    fn credential_headers_are_masked_by_name_and_the_basic_blob_whole() {
        let r = req(
            "/",
            &[
                ("Authorization", "Basic YWxpY2U6cGFzc3dvcmQ="),
                ("Cookie", "theme=dark; sid=abcdefghijkl"),
                ("X-Api-Key", "k"),
                ("Host", "password"),
            ],
            "",
        );
        let (red, full) = excerpt_of(&r);
        assert!(red[1].starts_with("Authorization: Basic …[8 chars, fp "), "the password's length: {red:?}");
        assert_eq!(full[1], "Authorization: Basic YWxpY2U6cGFzc3dvcmQ=");
        assert!(red[2].starts_with("Cookie: theme=…[4 chars, fp ") && red[2].contains("; sid=…[12 chars"), "{red:?}");
        assert!(red[3].starts_with("X-Api-Key: …[1 chars"), "{red:?}");
        assert_eq!(red[4], "Host: password");
    }

    #[test]
    fn a_long_header_cuts_literal_text_never_a_slot() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.".to_string() + &"s".repeat(600);
        let r = req("/", &[("X-Forwarded-For", &"1".repeat(600)), ("Authorization", &format!("Bearer {jwt}"))], "");
        let (red, _) = excerpt_of(&r);
        assert!(red[1].ends_with('…') && red[1].len() < 600, "{}", red[1].len());
        assert!(red[2].starts_with("Authorization: Bearer …[") && !red[2].contains("sss"), "{red:?}");
    }

    #[test]
    fn userinfo_in_an_absolute_target_is_a_slot() {
        let r = req("http://bob:hunter2@proxy.lab/x?a=1", &[], "");
        let (red, _) = excerpt_of(&r);
        assert!(red[0].starts_with("POST http://bob:…[7 chars, fp ") && red[0].contains("@proxy.lab/x?a=1"), "{red:?}");
    }
}
