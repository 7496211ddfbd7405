//! API-key headers, passwords in headers, any other request header carrying a JWT, and the general
//! rule ([`super::generic`]) for headers named for a credential that no list knows.
//!
//! The list below is matched case-insensitively and ignoring `-`/`_`. CSRF tokens (`X-CSRF-Token`,
//! `X-XSRF-Token`) are not credentials: they only prove a page was loaded, and they are not in it.
//!
//! A header named for a password (`X-Storage-Pass`, `X-Password`), or Swift tempauth's `X-Auth-Key`
//! beside `X-Auth-User`/`X-Storage-User` (`GET /auth/v1.0` with `X-Auth-User: account:user` and
//! `X-Auth-Key: password`), is a `header_password`: a password, with the user header as its user, whose
//! verdict is the answer's status (401 refused; Swift answers a good one with 200 and `X-Auth-Token`).

use super::common::{norm_buf, password_finding, token_finding, trim_range, user_text};
use super::generic::{self, Word};
use super::{Confidence, Field, Found, LeakKind, Span, jwt};
use crate::http::Headers;
use crate::time::Timestamp;

/// Normalised names (letters and digits, lower case) of headers that carry API keys or tokens.
pub const API_KEY_HEADERS: &[&str] = &[
    "xapikey",
    "apikey",
    "xapitoken",
    "apitoken",
    "xauthtoken",
    "xaccesstoken",
    "xsessiontoken",
    "xtoken",
    "xamzsecuritytoken",
    "privatetoken",
    "xauth",
    "xsecret",
    "xclientsecret",
    "xgoogapikey",
    "ocpapimsubscriptionkey",
    "xfunctionskey",
    "xvaulttoken",
    "xconsultoken",
    "xjfrogartapi",
    "xshopifyaccesstoken",
    "xrefreshtoken",
    "xidtoken",
    "xusertoken",
    "xapptoken",
    "xapisecret",
    "authtoken",
    "accesstoken",
    "xaccesskey",
    "xsessionid",
    "sessionid",
    "xpassword",
    "xapipassword",
];

/// Headers owned by other detectors or never credentials.
const SKIP: &[&str] =
    &["authorization", "proxyauthorization", "cookie", "xcsrftoken", "xxsrftoken", "csrftoken", "referer"];

/// Headers that name the user of a password or a key header (normalised).
const USER_HEADERS: &[&str] = &["xauthuser", "xstorageuser", "xauthemail", "xuser", "xusername", "xapiuser"];

/// Swift tempauth's user headers: beside them `X-Auth-Key`/`X-Storage-Key` is the user's password.
const SWIFT_USERS: &[&str] = &["xauthuser", "xstorageuser"];

/// Cheap pre-check on a normalised name before splitting it into words: a fragment of a credential
/// word. Most headers (`Host`, `Accept`, `User-Agent`...) end here.
pub(super) fn may_be_named_for_a_credential(n: &str) -> bool {
    // One pass over the name (it runs for every header of every message): a fragment can only start at
    // one of these letters.
    let b = n.as_bytes();
    (0..b.len()).any(|i| {
        let rest = &b[i..];
        match b[i] {
            b't' => rest.starts_with(b"tok"),
            b's' => rest.starts_with(b"secret") || rest.starts_with(b"sess"),
            b'p' => rest.starts_with(b"pass") || rest.starts_with(b"pwd"),
            b'k' => rest.starts_with(b"key"),
            b'a' => rest.starts_with(b"auth"),
            _ => false,
        }
    })
}

/// The header fields nearly every message carries, by their normalised name: none names a credential
/// (one `match`, compiled to a length switch and a compare: most fields end here).
pub fn common_header(n: &str) -> bool {
    matches!(
        n,
        "host"
            | "useragent"
            | "accept"
            | "acceptencoding"
            | "acceptlanguage"
            | "connection"
            | "contenttype"
            | "contentlength"
            | "contentencoding"
            | "transferencoding"
            | "date"
            | "server"
            | "cachecontrol"
            | "pragma"
            | "expires"
            | "lastmodified"
            | "etag"
            | "vary"
            | "location"
            | "origin"
            | "ifnonematch"
            | "ifmodifiedsince"
            | "upgrade"
            | "keepalive"
            | "acceptranges"
            | "age"
            | "via"
    )
}

/// The general rule's word for header `name` (normalised `n`).
pub fn header_word(name: &str, n: &str) -> Option<Word> {
    if common_header(n) || !may_be_named_for_a_credential(n) {
        return None;
    }
    generic::credential_name(name)
}

/// A header value's credential part: the value, or what follows a `Bearer`/`Token` scheme.
fn credential_part(value: &[u8]) -> std::ops::Range<usize> {
    let r = trim_range(value, 0..value.len());
    let (scheme, rest) = super::auth::split_scheme(value, r.clone());
    let s = &value[scheme];
    if !rest.is_empty() && (s.eq_ignore_ascii_case(b"bearer") || s.eq_ignore_ascii_case(b"token")) { rest } else { r }
}

pub fn detect(headers: &Headers, ts: Timestamp, out: &mut Found) {
    let mut buf = [0u8; 48];
    let mut user: Option<(String, bool)> = None;
    for (name, value) in headers.iter() {
        // Every user header starts with `X-`: the others are not even normalised.
        if user.is_some() || !name.as_bytes().first().is_some_and(|c| c.eq_ignore_ascii_case(&b'x')) {
            continue;
        }
        let n = norm_buf(name, &mut buf);
        if USER_HEADERS.contains(&n) {
            let v = String::from_utf8_lossy(&value[trim_range(value, 0..value.len())]).into_owned();
            if !v.is_empty() {
                user = Some((v, SWIFT_USERS.contains(&n)));
            }
        }
    }
    let swift = user.as_ref().is_some_and(|(_, s)| *s);
    for (i, (name, value)) in headers.iter().enumerate() {
        let n = norm_buf(name, &mut buf);
        if SKIP.contains(&n) {
            continue;
        }
        let word = header_word(name, n);
        if word == Some(Word::Password) || (swift && matches!(n, "xauthkey" | "xstoragekey")) {
            // A password in a header: never shown, reported whatever its length.
            let r = trim_range(value, 0..value.len());
            let span = Span::new(Field::Header(i), r.clone());
            out.masks.push(span.clone());
            let v = String::from_utf8_lossy(&value[r]);
            if v.is_empty() || v.contains(char::is_whitespace) && v.len() > 256 {
                continue;
            }
            let what = if swift { "Swift tempauth: the user's password in a header" } else { "password in a header" };
            let f = password_finding(
                LeakKind::HeaderPassword,
                &v,
                user.as_ref().map(|(u, _)| u.as_str()),
                format!("header {}", super::common::short(name, 64)),
                what.to_string(),
            );
            out.push(f.at(span));
            continue;
        }
        let is_key_header = !common_header(n) && API_KEY_HEADERS.contains(&n);
        // Most headers are neither key headers nor carriers of a token: decide before converting.
        if !is_key_header && word.is_none() && !could_hold_key(value) {
            continue;
        }
        let r = trim_range(value, 0..value.len());
        let v = String::from_utf8_lossy(&value[r.clone()]);
        let span = Span::new(Field::Header(i), r);
        if is_key_header {
            // Whatever it holds, a key header's value is not shown.
            out.masks.push(span.clone());
            if v.len() >= 6 && !v.contains(char::is_whitespace) {
                let f = token_finding(
                    LeakKind::ApiKeyHeader,
                    LeakKind::ApiKeyHeader,
                    &v,
                    None,
                    format!("header {}", super::common::short(name, 64)),
                    "API key header",
                    ts,
                );
                out.push(f.at(span));
            }
            continue;
        }
        if let Some(what) = super::common::known_key_format(&v) {
            let f = token_finding(
                LeakKind::ApiKeyHeader,
                LeakKind::ApiKeyHeader,
                &v,
                None,
                format!("header {}", super::common::short(name, 64)),
                what,
                ts,
            );
            out.push(f.at(span));
            continue;
        }
        if let Some(w) = word {
            // Named for a credential by the general rule: never shown, reported when it looks like one.
            let r = credential_part(value);
            let span = Span::new(Field::Header(i), r.clone());
            out.masks.push(span.clone());
            let v = String::from_utf8_lossy(&value[r]);
            let is_jwt = jwt::is_jwt(&v);
            if generic::looks_like_credential(&v) || is_jwt {
                // A JWT is one by its shape: as sure as the JWT rule of any header.
                let what = if is_jwt {
                    "token in a custom header:".to_string()
                } else {
                    format!("{} in a header named for one (general rule)", word_text(w))
                };
                let mut f = token_finding(
                    LeakKind::ApiKeyHeader,
                    LeakKind::ApiKeyHeader,
                    &v,
                    user_text(user.as_ref().map(|(u, _)| u.as_str())),
                    format!("header {}", super::common::short(name, 64)),
                    &what,
                    ts,
                );
                if !is_jwt {
                    f.confidence = f.confidence.min(Confidence::Medium);
                }
                out.push(f.at(span));
            }
            continue;
        }
        if value.len() >= 16 && memchr::memmem::find(value, b"eyJ").is_some() {
            for (s, e) in jwt::find_all(value) {
                let tok = String::from_utf8_lossy(&value[s..e]);
                let f = token_finding(
                    LeakKind::ApiKeyHeader,
                    LeakKind::ApiKeyHeader,
                    &tok,
                    None,
                    format!("header {}", super::common::short(name, 64)),
                    "token in a custom header:",
                    ts,
                );
                out.push(f.at(Span::new(Field::Header(i), s..e)));
            }
        }
    }
}

/// Cheap pre-check for a JWT (`eyJ`) or a well-known key prefix in a header value.
fn could_hold_key(value: &[u8]) -> bool {
    value.len() >= 16
        && (memchr::memmem::find(value, b"eyJ").is_some()
            || [
                &b"AIza"[..],
                b"AKIA",
                b"ASIA",
                b"ghp_",
                b"gho_",
                b"ghu_",
                b"ghs_",
                b"github_pat_",
                b"xox",
                b"sk_live_",
                b"glpat-",
            ]
            .iter()
            .any(|p| value.starts_with(p)))
}

/// What a credential word names, for evidence.
pub fn word_text(w: Word) -> &'static str {
    match w {
        Word::Password => "password",
        Word::Secret => "secret",
        Word::Token => "token",
        Word::Key => "key",
        Word::Auth => "credential",
        Word::Session => "session id",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::SecretClass;

    fn run(headers: &[(&str, &str)]) -> Found {
        let mut out = Found::default();
        detect(&Headers::from_iter(headers.iter().copied()), Timestamp::ZERO, &mut out);
        out
    }

    #[test]
    fn swift_tempauth_key_and_storage_pass_are_passwords_of_the_user_header() {
        let out = run(&[("X-Auth-User", "test:tester"), ("X-Auth-Key", "testing")]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!((f.kind, f.class, f.secret.expose()), (LeakKind::HeaderPassword, SecretClass::Password, "testing"));
        assert_eq!(f.plain_user().as_deref(), Some("test:tester"));
        let out = run(&[("X-Storage-User", "acct:bob"), ("X-Storage-Pass", "b0b-swift")]);
        assert_eq!(
            (out.findings[0].kind, out.findings[0].plain_user().as_deref()),
            (LeakKind::HeaderPassword, Some("acct:bob"))
        );
        // Without a Swift user header, X-Auth-Key is a key (Cloudflare's, with X-Auth-Email).
        let out = run(&[("X-Auth-Email", "ops@lab"), ("X-Auth-Key", "144c9defac04969c7bfad8efaa8ea194")]);
        assert_eq!((out.findings[0].kind, out.findings[0].class), (LeakKind::ApiKeyHeader, SecretClass::Token));
        assert_eq!(out.findings[0].plain_user().as_deref(), Some("ops@lab"));
    }

    #[test]
    fn headers_named_for_a_credential_are_found_by_the_general_rule_at_medium_confidence() {
        for (h, v) in [
            ("X-Storage-Token", "AUTH_tk0123456789abcdef0123"),
            ("X-Vendor-Session", "Zm9vYmFyYmF6MTIzNDU2"),
            ("X-Acme-Secret", "s3cr3t-0a1b2c3d"),
            ("X-Customer-Api-Key", "ck_live_51HxYz"),
            ("X-Forwarded-Access-Token", "Bearer ya29.a0AfH6SMBx"),
        ] {
            let out = run(&[(h, v)]);
            assert_eq!(out.findings.len(), 1, "{h}");
            let f = &out.findings[0];
            assert_eq!((f.kind, f.confidence), (LeakKind::ApiKeyHeader, Confidence::Medium), "{h}");
            assert!(f.evidence.contains("general rule"), "{}", f.evidence);
            assert!(!f.secret.expose().starts_with("Bearer"), "the scheme is not the secret");
        }
    }

    #[test]
    fn headers_that_only_look_like_credentials_are_not() {
        for (h, v) in [
            ("X-Request-Id", "550e8400-e29b-41d4-a716-446655440000"),
            ("X-Session-Count", "3"),
            ("Keep-Alive", "timeout=5, max=1000"),
            ("X-Author", "jdoe1234abcd"),
            ("Content-Security-Policy", "script-src 'nonce-r4nd0mN0nc3'"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Idempotency-Key", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
            ("X-Auth-Token-Expires", "2025-01-01T00:00:00Z"),
            ("X-Session-Timeout", "1800"),
            ("X-Token-Type", "Bearer"),
            ("X-Auth-Method", "password"),
            ("X-Csrf-Token", "a1b2c3d4e5f6a7b8"),
            ("X-Api-Key-Id", "kid-0123456789"),
            ("X-Session-Enabled", "true"),
            ("X-Auth-User", "svc-backup01"),
        ] {
            let out = run(&[(h, v)]);
            assert!(out.findings.is_empty(), "{h}: {:?}", out.findings);
        }
    }
}
