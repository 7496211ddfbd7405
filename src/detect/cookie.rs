//! Cookies: session and token cookies in `Cookie`, and `Set-Cookie` over HTTP.
//!
//! A cookie is a credential when its name marks a session or a token, or when its value is a JWT.
//! Rules on the lower-cased name, in order:
//! 1. tracking, analytics, preference and CSRF cookies are never credentials ([`NOT_CREDENTIAL`]:
//!    prefixes such as `_ga`, `__utm`, `_fbp`, names such as `theme`, `lang`, `csrftoken`, `XSRF-TOKEN`);
//! 2. a name containing one of [`SESSION_MARKS`] (`session`, `sess`, `sid`, `token`, `jwt`, `auth`,
//!    `access`, `refresh`, `remember`, `login`, ... which covers `PHPSESSID`, `JSESSIONID`,
//!    `ASP.NET_SessionId`, `connect.sid`, `laravel_session`) is one;
//! 3. otherwise only a JWT value makes it one.
//!
//! Values shorter than 8 characters are reported only when the name is a session id's
//! ([`is_session_id_name`]: `PHPSESSID`, `session`, `connect.sid`, `sid`...), at medium confidence: a
//! short session id (`session=abc123`, `PHPSESSID=1` from a toy or embedded server) is still the
//! session, and its shortness tells that it can be guessed too. Placeholders (`deleted`, `0`, `null`,
//! `false`...) are not. Any other short value (`security=low`, `auth=1`, `remember=0`) is a flag, not a
//! secret.
//! A `Set-Cookie` that sets such a cookie without `Secure` is `set_cookie_insecure` (the browser will
//! also send it back over HTTP); with `Secure` it is still a `cookie_token`, since this response
//! carried it in clear. Cookies being deleted (empty value, `Max-Age=0`, an expiry in 1970) are not.

use std::ops::Range;

use super::common::{token_finding, trim_range};
use super::{Confidence, Field, Finding, Found, LeakKind, Span, jwt};
use crate::http::Headers;
use crate::time::Timestamp;

pub const NOT_CREDENTIAL_PREFIXES: &[&str] = &[
    "_ga",
    "_gid",
    "__utm",
    "_fbp",
    "_fbc",
    "_gcl",
    "_hj",
    "__hs",
    "_pk_",
    "mp_",
    "amplitude",
    "optimizely",
    "_uet",
    "__cf",
    "_cf",
    "wp-settings",
    "comment_author",
    "__unam",
    "ajs_",
];
pub const NOT_CREDENTIAL: &[&str] = &[
    "theme",
    "lang",
    "language",
    "locale",
    "lng",
    "consent",
    "cookieconsent",
    "cookie_consent",
    "tz",
    "timezone",
    "currency",
    "pref",
    "nid",
    "1p_jar",
    "aec",
    "otz",
    "dv",
    "csrftoken",
    "csrf",
    "_csrf",
    "csrf_token",
    "xsrf-token",
    "_xsrf",
    "xsrf",
    "template",
    "security",
    "has_js",
    "dnt",
    "gdpr",
];
pub const SESSION_MARKS: &[&str] = &[
    "session",
    "sess",
    "sid",
    "token",
    "jwt",
    "auth",
    "access",
    "refresh",
    "remember",
    "login",
    "logged",
    "ticket",
    "apikey",
    "api_key",
    // ASP.NET Core (`.AspNetCore.Cookies`, `.AspNetCore.Identity.Application`), Keycloak
    // (`KEYCLOAK_IDENTITY`), ColdFusion (`CFID`/`CFTOKEN`): session cookies whose names say none of
    // the words above.
    "aspnetcore",
    "identity",
    "cfid",
];

const MIN_VALUE: usize = 8;

/// Values that hold no session: what servers write when they clear or have not set one yet.
const PLACEHOLDERS: &[&str] = &["0", "-", "deleted", "null", "none", "undefined", "false", "true", "nil"];

/// Names that can only be a session id (not a flag that mentions one): they end with `session`,
/// `sessid`, `sessionid` or `sid` once lower-cased and stripped of separators (`PHPSESSID`,
/// `JSESSIONID`, `ASP.NET_SessionId`, `laravel_session`, `session`, `sid`, `connect.sid`). SharePoint's
/// `WSS_KeepSessionAuthenticated=80`, `session_timeout=1800` and `session_count=3` mention a session
/// and hold something else.
pub fn is_session_id_name(name: &str) -> bool {
    let n = super::common::norm(name);
    ["session", "sessid", "sessionid", "sid"].iter().any(|e| n.ends_with(e))
}

fn is_excluded(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    NOT_CREDENTIAL.contains(&l.as_str())
        || NOT_CREDENTIAL_PREFIXES.iter().any(|p| l.starts_with(p))
        || l.contains("csrf")
        || l.contains("xsrf")
}

/// Whether cookie `name` with `value` is a credential, and how sure: a short value is one only under a
/// session id's name, at medium confidence.
pub fn credential(name: &str, value: &str) -> Option<Confidence> {
    if value.len() < MIN_VALUE {
        // Most tracking and preference cookies end here, on the length or the placeholder test.
        if value.is_empty() || PLACEHOLDERS.iter().any(|p| value.eq_ignore_ascii_case(p)) || is_excluded(name) {
            return None;
        }
        return is_session_id_name(name).then_some(Confidence::Medium);
    }
    if is_excluded(name) {
        return None;
    }
    let l = name.to_ascii_lowercase();
    (SESSION_MARKS.iter().any(|m| l.contains(m)) || jwt::is_jwt(value)).then_some(Confidence::High)
}

/// Whether cookie `name` with `value` is a credential.
pub fn is_credential(name: &str, value: &str) -> bool {
    credential(name, value).is_some()
}

/// A short session id's finding says so, and is rated as sure as its rule.
fn short_value(mut f: Finding, confidence: Confidence) -> Finding {
    if confidence < f.confidence {
        f.confidence = confidence;
        // No length in the evidence: evidence never holds the secret, and a one-digit id would be there.
        f.evidence = format!("{} (a short session id: guessable too)", f.evidence);
    }
    f
}

/// The value's range without surrounding whitespace and quotes.
fn unquote(b: &[u8], r: Range<usize>) -> Range<usize> {
    let r = trim_range(b, r);
    if r.end - r.start >= 2 && b[r.start] == b'"' && b[r.end - 1] == b'"' { r.start + 1..r.end - 1 } else { r }
}

/// Cookies per header looked at (a hostile header may hold thousands).
const MAX_COOKIES: usize = 200;

/// `name=value; name=value`: (name, value range) of each pair of a Cookie header.
pub fn cookie_pairs(b: &[u8]) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut at = 0;
    for pair in b.split(|&c| c == b';').take(MAX_COOKIES) {
        let start = at;
        at += pair.len() + 1;
        let Some(eq) = memchr::memchr(b'=', pair) else { continue };
        let name = String::from_utf8_lossy(&b[trim_range(b, start..start + eq)]).into_owned();
        out.push((name, unquote(b, start + eq + 1..start + pair.len())));
    }
    out
}

pub fn detect_request(headers: &Headers, ts: Timestamp, out: &mut Found) {
    for (i, (hname, v)) in headers.iter().enumerate() {
        if !hname.eq_ignore_ascii_case("cookie") {
            continue;
        }
        for (name, r) in cookie_pairs(v) {
            let value = String::from_utf8_lossy(&v[r.clone()]);
            if let Some(confidence) = credential(&name, &value) {
                let f = token_finding(
                    LeakKind::CookieToken,
                    LeakKind::CookieToken,
                    &value,
                    None,
                    format!("cookie {}", super::common::short(&name, 64)),
                    "session cookie",
                    ts,
                );
                out.push(short_value(f, confidence).at(Span::new(Field::Header(i), r)));
            }
        }
    }
}

pub fn detect_response(headers: &Headers, ts: Timestamp, out: &mut Found) {
    for (i, (hname, raw)) in headers.iter().enumerate() {
        if !hname.eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let first_end = memchr::memchr(b';', raw).unwrap_or(raw.len());
        let Some(eq) = memchr::memchr(b'=', &raw[..first_end]) else { continue };
        let name_s = String::from_utf8_lossy(&raw[trim_range(raw, 0..eq)]).into_owned();
        let vr = unquote(raw, eq + 1..first_end);
        let value_s = String::from_utf8_lossy(&raw[vr.clone()]).into_owned();
        let span = Span::new(Field::Header(i), vr);
        let (name, value) = (super::common::short(&name_s, 64), value_s.as_str());
        let v = String::from_utf8_lossy(raw);
        let mut parts = v.split(';');
        parts.next();
        let Some(confidence) = credential(&name_s, value).filter(|_| !value.eq_ignore_ascii_case("deleted")) else {
            continue;
        };
        let mut secure = false;
        let mut http_only = false;
        let mut same_site: Option<String> = None;
        let mut deleting = false;
        for attr in parts {
            let (k, val) = match attr.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim()),
                None => (attr.trim().to_ascii_lowercase(), ""),
            };
            match k.as_str() {
                "secure" => secure = true,
                "httponly" => http_only = true,
                "samesite" => same_site = Some(val.to_string()),
                "max-age" => deleting |= val.parse::<i64>().is_ok_and(|n| n <= 0),
                "expires" => deleting |= val.contains("1970") || val.contains("1969"),
                _ => {}
            }
        }
        if deleting {
            continue;
        }
        let flags = format!(
            "HttpOnly {}, SameSite {}",
            if http_only { "set" } else { "missing (readable by scripts)" },
            same_site.as_deref().map(|s| super::common::short(s, 16)).unwrap_or_else(|| "missing".into())
        );
        let mut f = if secure {
            token_finding(
                LeakKind::CookieToken,
                LeakKind::CookieToken,
                value,
                None,
                format!("set-cookie {name}"),
                &format!("Set-Cookie with Secure, but sent over HTTP ({flags});"),
                ts,
            )
        } else {
            let mut f = token_finding(
                LeakKind::SetCookieInsecure,
                LeakKind::SetCookieInsecure,
                value,
                None,
                format!("set-cookie {name}"),
                &format!("Set-Cookie without Secure ({flags}): the browser sends it back over plain HTTP;"),
                ts,
            );
            f.kind = LeakKind::SetCookieInsecure;
            f
        };
        if secure {
            f.kind = LeakKind::CookieToken;
        }
        out.push(short_value(f, confidence).at(span));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Headers;
    use crate::time::Timestamp;

    fn request(cookie: &str) -> Vec<(String, Confidence)> {
        let mut out = Found::default();
        detect_request(&Headers::from_iter([("Cookie", cookie)]), Timestamp::ZERO, &mut out);
        out.findings.iter().map(|f| (f.location.clone(), f.confidence)).collect()
    }

    #[test]
    fn short_values_of_session_id_cookies_are_reported_at_medium_confidence() {
        for c in ["session=abc123", "PHPSESSID=1", "connect.sid=s%3Ax", "sid=42", "JSESSIONID=A1B2"] {
            let got = request(c);
            assert_eq!(got.len(), 1, "{c}: {got:?}");
            assert_eq!(got[0].1, Confidence::Medium, "{c}");
        }
        let mut out = Found::default();
        detect_request(&Headers::from_iter([("Cookie", "session=abc123")]), Timestamp::ZERO, &mut out);
        assert!(out.findings[0].evidence.contains("short session id"), "{}", out.findings[0].evidence);
        // A long value under the same name is as sure as ever.
        assert_eq!(request("PHPSESSID=8a7b6c5d4e3f2a1b")[0].1, Confidence::High);
    }

    #[test]
    fn short_flags_placeholders_and_session_metadata_are_not_session_ids() {
        for c in [
            "security=low",
            "auth=1",
            "remember=0",
            "logged_in=yes",
            "session=deleted",
            "PHPSESSID=null",
            "sid=0",
            "session_timeout=1800",
            "session_count=3",
            "WSS_KeepSessionAuthenticated=80",
            "csrf_session=abc",
            "session=",
        ] {
            assert!(request(c).is_empty(), "{c}: {:?}", request(c));
        }
    }

    #[test]
    fn a_short_session_id_set_without_secure_is_reported() {
        let mut out = Found::default();
        let h = Headers::from_iter([("Set-Cookie", "session=abc123; Path=/")]);
        detect_response(&h, Timestamp::ZERO, &mut out);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(
            (out.findings[0].kind, out.findings[0].confidence),
            (LeakKind::SetCookieInsecure, Confidence::Medium)
        );
    }
}
