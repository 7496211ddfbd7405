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
//! Values shorter than 8 characters are not secrets worth reporting (`security=low`, `sid=1`).
//! A `Set-Cookie` that sets such a cookie without `Secure` is `set_cookie_insecure` (the browser will
//! also send it back over HTTP); with `Secure` it is still a `cookie_token`, since this response
//! carried it in clear. Cookies being deleted (empty value, `Max-Age=0`, an expiry in 1970) are not.

use std::ops::Range;

use super::common::{token_finding, trim_range};
use super::{Field, Found, LeakKind, Span, jwt};
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

fn is_excluded(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    NOT_CREDENTIAL.contains(&l.as_str())
        || NOT_CREDENTIAL_PREFIXES.iter().any(|p| l.starts_with(p))
        || l.contains("csrf")
        || l.contains("xsrf")
}

/// Whether cookie `name` with `value` is a credential.
pub fn is_credential(name: &str, value: &str) -> bool {
    // Short values first: most tracking and preference cookies end here without any allocation.
    if value.len() < MIN_VALUE || is_excluded(name) {
        return false;
    }
    let l = name.to_ascii_lowercase();
    SESSION_MARKS.iter().any(|m| l.contains(m)) || jwt::is_jwt(value)
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
            if is_credential(&name, &value) {
                let f = token_finding(
                    LeakKind::CookieToken,
                    LeakKind::CookieToken,
                    &value,
                    None,
                    format!("cookie {}", super::common::short(&name, 64)),
                    "session cookie",
                    ts,
                );
                out.push(f.at(Span::new(Field::Header(i), r)));
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
        if !is_credential(&name_s, value) || value.eq_ignore_ascii_case("deleted") {
            continue;
        }
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
        out.push(f.at(span));
    }
}
