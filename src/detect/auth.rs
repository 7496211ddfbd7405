//! `Authorization` and `Proxy-Authorization`: Bearer (JWT or opaque), Basic (decoded), Digest, NTLM,
//! Negotiate and any other scheme, and a bare token with no scheme. Basic in `Proxy-Authorization` is a
//! proxy login (`http_proxy_basic`); logins are settled by [`super::verdict`] when the answer comes.
//!
//! AWS signatures (`AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=..,
//! Signature=..`, SigV4a's `AWS4-ECDSA-P256-SHA256`, and SigV2's `AWS AKID:signature`) carry no secret
//! that replays: the signature is an HMAC over this request (method, path, signed headers, body hash,
//! date), refused by AWS for any other request and after 15 minutes, and the secret key never crosses.
//! What crosses is the access key id, which names the account and the key (and tells an attacker
//! whose secret key to hunt for): reported as `aws_access_key_id`, severity info.

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
        "aws4-hmac-sha256" | "aws4-ecdsa-p256-sha256" => {
            let cred = param(&rest, "credential")?;
            // `AKID/date/region/service/aws4_request`: the key id and the scope it signed for.
            let (akid, scope) = cred.split_once('/').unwrap_or((&cred, ""));
            let scope = super::common::short(scope, 80);
            aws_key_id(
                akid,
                location,
                &format!("AWS Signature V4 ({}, scope {scope})", super::common::short(&scheme, 32)),
            )
            .map(|f| f.at(span(value)))
        }
        "aws" => {
            // SigV2: `AWS AKID:base64(HMAC-SHA1)`.
            let (akid, _) = rest.split_once(':')?;
            aws_key_id(akid.trim(), location, "AWS Signature V2").map(|f| f.at(span(value)))
        }
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

/// The access key id of an AWS-signed request as an info finding (`None` for an empty or absurd id).
fn aws_key_id(akid: &str, location: String, what: &str) -> Option<Finding> {
    // Access key ids are 16 to 128 characters of `[A-Z0-9]` (`AKIA`, `ASIA`...); anything else is kept
    // bounded and reported as sent.
    if akid.is_empty() || akid.len() > 128 || akid.contains(char::is_whitespace) {
        return None;
    }
    let temporary = if akid.starts_with("ASIA") { " (temporary credentials)" } else { "" };
    Some(Finding {
        kind: LeakKind::AwsAccessKeyId,
        class: SecretClass::Identifier,
        confidence: Confidence::High,
        secret: Secret::new(akid),
        user: None,
        location,
        evidence: format!(
            "{what}: the signature is bound to this request and expires, the secret key never crossed; only the access key id{temporary} is exposed"
        ),
        jwt: None,
        login: None,
        span: None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Headers;
    use crate::time::Timestamp;

    fn run(value: &str) -> Found {
        let h = Headers::from_iter([("Authorization", value)]);
        let mut out = Found::default();
        detect(&h, Timestamp::ZERO, &mut out);
        out
    }

    #[test]
    fn aws_signature_v4_exposes_only_its_access_key_id_as_info() {
        let v = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
        let out = run(v);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(
            (f.kind, f.class, f.secret.expose()),
            (LeakKind::AwsAccessKeyId, SecretClass::Identifier, "AKIAIOSFODNN7EXAMPLE")
        );
        assert!(f.evidence.contains("us-east-1/s3"), "{}", f.evidence);
        assert!(!f.evidence.contains("fe5f80f7"), "the signature is not evidence");
        assert_eq!(crate::alert::Severity::of(f), crate::alert::Severity::Info);
        // The whole value is still a slot in the excerpt.
        assert_eq!(out.masks.len(), 1);
    }

    #[test]
    fn aws_sigv4a_and_sigv2_are_key_ids_too_and_a_malformed_one_is_nothing() {
        let out = run(
            "AWS4-ECDSA-P256-SHA256 Credential=ASIAXXXXXXXXXXXXXXXX/20240101/s3/aws4_request, SignedHeaders=host, Signature=3045",
        );
        assert_eq!(out.findings[0].kind, LeakKind::AwsAccessKeyId);
        assert!(out.findings[0].evidence.contains("temporary"));
        let out = run("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
        assert_eq!(
            (out.findings[0].kind, out.findings[0].secret.expose()),
            (LeakKind::AwsAccessKeyId, "AKIAIOSFODNN7EXAMPLE")
        );
        // No Credential parameter: nothing to say (and nothing high).
        assert!(run("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc").findings.is_empty());
        assert!(run("AWS nocolon").findings.is_empty());
    }
}
