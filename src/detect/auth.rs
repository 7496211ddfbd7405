//! `Authorization` and `Proxy-Authorization`: Bearer (JWT or opaque), Basic (decoded), Digest, NTLM,
//! Negotiate and any other scheme, and a bare token with no scheme. Basic in `Proxy-Authorization` is a
//! proxy login (`http_proxy_basic`); logins are settled by [`super::verdict`] when the answer comes.

use std::ops::Range;

use super::common::{looks_like_token, password_finding, token_finding, trim_range, user_text};
use super::{Confidence, Field, Finding, Found, LeakKind, LoginInfo, SecretClass, Span, TlsNote, Verdict};
use crate::http::Headers;
use crate::secret::Secret;
use crate::time::Timestamp;

pub fn detect(headers: &Headers, ts: Timestamp, out: &mut Found) {
    for (i, (name, v)) in headers.iter().enumerate() {
        let header = if name.eq_ignore_ascii_case("authorization") {
            "Authorization"
        } else if name.eq_ignore_ascii_case("proxy-authorization") {
            "Proxy-Authorization"
        } else {
            continue;
        };
        let value = trim_range(v, 0..v.len());
        if let Some(f) = one(header, i, v, value, ts) {
            out.push(f);
        }
        // Whatever the scheme, the value after it carries the credential: never shown.
        let (_, rest) = split_scheme(v, trim_range(v, 0..v.len()));
        if !rest.is_empty() {
            out.masks.push(Span::new(Field::Header(i), rest));
        }
    }
}

/// `Scheme rest`: the scheme's range and the rest's range (trimmed) within `value`.
pub fn split_scheme(v: &[u8], value: Range<usize>) -> (Range<usize>, Range<usize>) {
    let b = &v[value.clone()];
    match b.iter().position(|c| c.is_ascii_whitespace()) {
        Some(k) => (value.start..value.start + k, trim_range(v, value.start + k..value.end)),
        None => (value.start..value.start, value),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Passwords that say "the user name is the credential": services that take an API key or token as
/// the Basic user name ask clients to send one of these (or nothing) as the password.
const DUMMY_PASSWORDS: &[&str] =
    &["x-oauth-basic", "x", "X", "api_token", "apitoken", "token", "api", "unused", "none"];

fn one(header: &str, i: usize, v: &[u8], value: Range<usize>, ts: Timestamp) -> Option<Finding> {
    let location = format!("header {header}");
    let (scheme_r, rest_r) = split_scheme(v, value.clone());
    let scheme = lossy(&v[scheme_r]);
    let rest = lossy(&v[rest_r.clone()]);
    let span = |r: Range<usize>| Span::new(Field::Header(i), r);
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => {
            if rest.is_empty() {
                return None;
            }
            let f = token_finding(LeakKind::BearerJwt, LeakKind::BearerOpaque, &rest, None, location, "Bearer", ts);
            Some(f.at(span(rest_r)))
        }
        "basic" => {
            let mut f = basic(&rest, location).at(span(rest_r));
            if header == "Proxy-Authorization" && f.kind == LeakKind::BasicAuth {
                // A proxy login: its verdict (407 or not) comes with the response, filled in by the pipeline.
                f.kind = LeakKind::HttpProxyBasic;
                f.evidence = "proxy Basic authentication: base64 of user:password".into();
                f.login = Some(LoginInfo {
                    mechanism: "Basic",
                    verdict: Verdict::Unknown,
                    tls: TlsNote::NotOffered,
                    transcript: Vec::new(),
                    material: None,
                });
            }
            Some(f)
        }
        "digest" => {
            let user = param(&rest, "username");
            let f = material(
                &lossy(&v[value.clone()]),
                user.as_deref(),
                location,
                "Digest authentication (response hash, no plaintext password)",
            );
            Some(f.at(span(value)))
        }
        // NTLMSSP (in `NTLM`, or wrapped in `Negotiate`) is read by `ntlm`, with the server's challenge.
        "ntlm" | "negotiate" if super::ntlm::handles(&v[value.clone()]) => None,
        "ntlm" | "negotiate" => Some(
            material(
                &lossy(&v[value.clone()]),
                None,
                location,
                &format!("{} authentication (challenge-response material)", super::common::short(&scheme, 16)),
            )
            .at(span(value)),
        ),
        "" => {
            // A bare value with no scheme: some APIs send the token alone.
            if !looks_like_token(&rest) {
                return None;
            }
            let f = token_finding(
                LeakKind::BearerJwt,
                LeakKind::BearerOpaque,
                &rest,
                None,
                location,
                "token without scheme",
                ts,
            );
            Some(f.at(span(rest_r)))
        }
        _ => {
            if rest.is_empty() {
                return None;
            }
            if super::jwt::is_jwt(&rest) {
                let f = token_finding(
                    LeakKind::BearerJwt,
                    LeakKind::BearerOpaque,
                    &rest,
                    None,
                    location,
                    &format!("{} scheme", super::common::short(&scheme, 32)),
                    ts,
                );
                return Some(f.at(span(rest_r)));
            }
            Some(Finding {
                kind: LeakKind::OtherAuth,
                class: SecretClass::Token,
                confidence: Confidence::Medium,
                secret: Secret::from_bytes(&v[value.clone()]),
                user: None,
                location,
                evidence: format!("authorization scheme {}", super::common::short(&scheme, 32)),
                jwt: None,
                login: None,
                span: Some(span(value)),
            })
        }
    }
}

fn basic(b64: &str, location: String) -> Finding {
    let compact: String = b64.split_whitespace().collect();
    match crate::proto::sasl::b64(compact.as_bytes()).map(|d| String::from_utf8_lossy(&d).into_owned()) {
        Some(text) if text.contains(':') => {
            let (user, pass) = text.split_once(':').unwrap_or((&text, ""));
            if (pass.is_empty() || DUMMY_PASSWORDS.contains(&pass)) && !user.is_empty() {
                // `sk_live_...:` (Stripe), `TOKEN:x-oauth-basic` (GitHub): the user name is the key.
                return Finding {
                    kind: LeakKind::BasicAuth,
                    class: SecretClass::Token,
                    confidence: Confidence::High,
                    secret: Secret::new(user),
                    user: None,
                    location,
                    evidence: if pass.is_empty() {
                        "Basic authentication with the credential as the user name (empty password)".into()
                    } else {
                        "Basic authentication with the credential as the user name (placeholder password)".into()
                    },
                    jwt: None,
                    login: None,
                    span: None,
                };
            }
            if pass.is_empty() {
                return material(
                    &format!("Basic {b64}"),
                    Some(user),
                    location,
                    "Basic authentication with an empty password",
                );
            }
            password_finding(
                LeakKind::BasicAuth,
                pass,
                Some(user),
                location,
                "Basic authentication: base64 of user:password".into(),
            )
        }
        _ => Finding {
            kind: LeakKind::OtherAuth,
            class: SecretClass::Token,
            confidence: Confidence::Medium,
            secret: Secret::new(b64),
            user: None,
            location,
            evidence: "Basic scheme with a value that is not base64 of user:password".into(),
            jwt: None,
            login: None,
            span: None,
        },
    }
}

fn material(value: &str, user: Option<&str>, location: String, evidence: &str) -> Finding {
    Finding {
        kind: LeakKind::OtherAuth,
        class: SecretClass::Material,
        confidence: Confidence::High,
        secret: Secret::new(value),
        user: user_text(user),
        location,
        evidence: evidence.to_string(),
        jwt: None,
        login: None,
        span: None,
    }
}

/// `name="value"` or `name=value` in a comma-separated auth parameter list.
fn param(params: &str, name: &str) -> Option<String> {
    for p in params.split(',') {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case(name) {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}
