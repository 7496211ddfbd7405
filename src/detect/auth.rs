//! `Authorization` and `Proxy-Authorization`: Bearer (JWT or opaque), Basic (decoded), Digest, NTLM,
//! Negotiate and any other scheme, and a bare token with no scheme. Basic in `Proxy-Authorization` is a
//! proxy login (`http_proxy_basic`), settled by [`proxy_answered`] when the proxy answers (407 or not).

use super::common::{looks_like_token, password_finding, token_finding};
use super::{Confidence, Finding, LeakKind, LoginInfo, SecretClass, TlsNote, Verdict};
use crate::http::Headers;
use crate::time::Timestamp;

pub fn detect(headers: &Headers, ts: Timestamp, out: &mut Vec<Finding>) {
    for name in ["Authorization", "Proxy-Authorization"] {
        for v in headers.get_all(name) {
            let v = String::from_utf8_lossy(v);
            if let Some(f) = one(name, v.trim(), ts) {
                out.push(f);
            }
        }
    }
}

/// The proxy answered a request that carried a proxy login: 407 is a refusal (and 401, which tinyproxy
/// sends for wrong credentials); anything else got past the proxy.
pub fn proxy_answered(f: &mut Finding, status: u16) {
    let refused = matches!(status, 401 | 407);
    if let Some(l) = f.login.as_mut() {
        l.verdict = if refused { Verdict::Refused } else { Verdict::Accepted };
    }
    f.evidence = format!("{}, {}", f.evidence, if refused { "refused by the proxy" } else { "accepted by the proxy" });
}

fn one(header: &str, value: &str, ts: Timestamp) -> Option<Finding> {
    let location = format!("header {header}");
    let (scheme, rest) = match value.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r.trim()),
        None => ("", value),
    };
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => {
            if rest.is_empty() {
                return None;
            }
            Some(token_finding(LeakKind::BearerJwt, LeakKind::BearerOpaque, rest, None, location, "Bearer", ts))
        }
        "basic" => {
            let mut f = basic(rest, location);
            if header == "Proxy-Authorization" && f.kind == LeakKind::BasicAuth {
                // A proxy login: its verdict (407 or not) comes with the response, filled in by the pipeline.
                f.kind = LeakKind::HttpProxyBasic;
                f.evidence = "proxy Basic authentication: base64 of user:password".into();
                f.login = Some(LoginInfo {
                    mechanism: "Basic",
                    verdict: Verdict::Unknown,
                    tls: TlsNote::NotOffered,
                    transcript: Vec::new(),
                });
            }
            Some(f)
        }
        "digest" => {
            let user = param(rest, "username");
            Some(material(value, user, location, "Digest authentication (response hash, no plaintext password)"))
        }
        "ntlm" | "negotiate" => Some(material(
            value,
            None,
            location,
            &format!("{} authentication (challenge-response material)", super::common::short(scheme, 16)),
        )),
        "" => {
            // A bare value with no scheme: some APIs send the token alone.
            if !looks_like_token(rest) {
                return None;
            }
            Some(token_finding(
                LeakKind::BearerJwt,
                LeakKind::BearerOpaque,
                rest,
                None,
                location,
                "token without scheme",
                ts,
            ))
        }
        _ => {
            if rest.is_empty() {
                return None;
            }
            if super::jwt::is_jwt(rest) {
                return Some(token_finding(
                    LeakKind::BearerJwt,
                    LeakKind::BearerOpaque,
                    rest,
                    None,
                    location,
                    &format!("{} scheme", super::common::short(scheme, 32)),
                    ts,
                ));
            }
            Some(Finding {
                kind: LeakKind::OtherAuth,
                class: SecretClass::Token,
                confidence: Confidence::Medium,
                secret: value.to_string(),
                user: None,
                location,
                evidence: format!("authorization scheme {}", super::common::short(scheme, 32)),
                jwt: None,
                login: None,
            })
        }
    }
}

fn basic(b64: &str, location: String) -> Finding {
    let compact: String = b64.split_whitespace().collect();
    match crate::proto::sasl::b64(compact.as_bytes()).map(|d| String::from_utf8_lossy(&d).into_owned()) {
        Some(text) if text.contains(':') => {
            let (user, pass) = text.split_once(':').unwrap_or((&text, ""));
            if pass.is_empty() {
                return material(
                    &format!("Basic {b64}"),
                    Some(user.to_string()),
                    location,
                    "Basic authentication with an empty password",
                );
            }
            password_finding(
                LeakKind::BasicAuth,
                pass,
                Some(user.to_string()),
                location,
                "Basic authentication: base64 of user:password".into(),
            )
        }
        _ => Finding {
            kind: LeakKind::OtherAuth,
            class: SecretClass::Token,
            confidence: Confidence::Medium,
            secret: b64.to_string(),
            user: None,
            location,
            evidence: "Basic scheme with a value that is not base64 of user:password".into(),
            jwt: None,
            login: None,
        },
    }
}

fn material(value: &str, user: Option<String>, location: String, evidence: &str) -> Finding {
    Finding {
        kind: LeakKind::OtherAuth,
        class: SecretClass::Material,
        confidence: Confidence::High,
        secret: value.to_string(),
        user,
        location,
        evidence: evidence.to_string(),
        jwt: None,
        login: None,
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

    fn proxy_login() -> Finding {
        let h = Headers(vec![("Proxy-Authorization".into(), b"Basic cHJveHl1c2VyOnMzY3JldC1wdw==".to_vec())]);
        let mut out = Vec::new();
        detect(&h, Timestamp::ZERO, &mut out);
        out.remove(0)
    }

    #[test]
    fn proxy_basic_waits_for_the_proxy_407_and_401_refuse_other_statuses_accept() {
        let f = proxy_login();
        assert_eq!(
            (f.kind, f.user.as_deref(), f.secret.as_str()),
            (LeakKind::HttpProxyBasic, Some("proxyuser"), "s3cret-pw")
        );
        assert_eq!(f.login.as_ref().map(|l| l.verdict), Some(Verdict::Unknown));
        for (status, want) in
            [(407, Verdict::Refused), (401, Verdict::Refused), (200, Verdict::Accepted), (502, Verdict::Accepted)]
        {
            let mut g = f.clone();
            proxy_answered(&mut g, status);
            assert_eq!(g.login.as_ref().map(|l| l.verdict), Some(want), "status {status}");
        }
    }
}
