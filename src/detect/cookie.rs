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

use super::common::token_finding;
use super::{Finding, LeakKind, jwt};
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
    "session", "sess", "sid", "token", "jwt", "auth", "access", "refresh", "remember", "login", "logged", "ticket",
    "apikey", "api_key",
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

fn unquote(v: &str) -> &str {
    v.trim().trim_matches('"')
}

pub fn detect_request(headers: &Headers, ts: Timestamp, out: &mut Vec<Finding>) {
    for v in headers.get_all("cookie") {
        let v = String::from_utf8_lossy(v);
        for pair in v.split(';').take(200) {
            let Some((name, value)) = pair.split_once('=') else { continue };
            let (name, value) = (name.trim(), unquote(value));
            if is_credential(name, value) {
                out.push(token_finding(
                    LeakKind::CookieToken,
                    LeakKind::CookieToken,
                    value,
                    None,
                    format!("cookie {name}"),
                    "session cookie",
                    ts,
                ));
            }
        }
    }
}

pub fn detect_response(headers: &Headers, ts: Timestamp, out: &mut Vec<Finding>) {
    for v in headers.get_all("set-cookie") {
        let v = String::from_utf8_lossy(v);
        let mut parts = v.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
        let (name, value) = (name.trim(), unquote(value));
        if !is_credential(name, value) || value.eq_ignore_ascii_case("deleted") {
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
        out.push(f);
    }
}
