//! Tokens a server hands out over HTTP: token fields in JSON response bodies (login and token
//! endpoints), and tokens in response headers. Only JSON bodies are walked: an HTML or Markdown page that
//! *shows* a token (documentation) is not a login response; the jwt.io example token is low confidence
//! wherever it appears.
//!
//! Beyond the listed keys ([`TOKEN_KEYS`]) and JWTs, the general rule of [`super::generic`] applies to
//! response header names (Swift's `X-Auth-Token`/`X-Storage-Token` after a tempauth login, Keystone's
//! `X-Subject-Token`) and JSON keys with their parent (Vault's `auth.client_token`, `{"session":
//! {"id": ..}}`), at medium confidence unless the name is a known token header. Password-named fields
//! of a response are not walked: a response is not a login.

use super::common::{norm_buf, token_finding, trim_range};
use super::generic::{self, Word};
use super::json::{self, Json};
use super::{Confidence, Field, Found, LeakKind, Span, jwt};
use crate::http::Response;
use crate::time::Timestamp;

/// Response headers that carry no token handed out (owned by other rules, or challenges).
const SKIP: &[&str] = &[
    "setcookie",
    "wwwauthenticate",
    "proxyauthenticate",
    "authenticationinfo",
    "location",
    "xcsrftoken",
    "xxsrftoken",
];

/// Response headers known to hand out a token (beside the request ones of `api_key`, which servers
/// echo or issue too): Swift, Keystone.
const TOKEN_HEADERS: &[&str] = &["xstoragetoken", "xsubjecttoken", "xauthtoken"];

pub const TOKEN_KEYS: &[&str] = &[
    "token",
    "accesstoken",
    "idtoken",
    "refreshtoken",
    "jwt",
    "authtoken",
    "sessiontoken",
    "sessionid",
    "apikey",
    "apitoken",
    "bearertoken",
    "authorizationtoken",
    "authenticationtoken",
    "usertoken",
    "secret",
    "clientsecret",
];

pub fn detect(resp: &Response, ts: Timestamp, out: &mut Found) {
    let mut buf = [0u8; 48];
    for (i, (name, value)) in resp.headers.iter().enumerate() {
        let n = norm_buf(name, &mut buf);
        // A common field (`Content-Type`, `Date`...) names no token: only its value is looked at.
        let common = super::api_key::common_header(n);
        if !common && SKIP.contains(&n) {
            continue;
        }
        match if common { None } else { super::api_key::header_word(name, n) } {
            Some(Word::Password) | None => {}
            Some(w) => {
                let r = trim_range(value, 0..value.len());
                let span = Span::new(Field::Header(i), r.clone());
                out.masks.push(span.clone());
                let v = String::from_utf8_lossy(&value[r]);
                if generic::looks_like_credential(&v) || jwt::is_jwt(&v) {
                    let listed = TOKEN_HEADERS.contains(&n) || super::api_key::API_KEY_HEADERS.contains(&n);
                    let mut f = token_finding(
                        LeakKind::LoginResponseToken,
                        LeakKind::LoginResponseToken,
                        &v,
                        None,
                        format!("response header {}", super::common::short(name, 64)),
                        &format!("{} handed out in a response header:", super::api_key::word_text(w)),
                        ts,
                    );
                    if !listed && !jwt::is_jwt(&v) {
                        f.confidence = f.confidence.min(Confidence::Medium);
                    }
                    out.push(f.at(span));
                }
                continue;
            }
        }
        if value.len() < 16 {
            continue;
        }
        for (s, e) in jwt::find_all(value) {
            let tok = String::from_utf8_lossy(&value[s..e]);
            let f = token_finding(
                LeakKind::LoginResponseToken,
                LeakKind::LoginResponseToken,
                &tok,
                None,
                format!("response header {}", super::common::short(name, 64)),
                "token handed out in a response header:",
                ts,
            );
            out.push(f.at(Span::new(Field::Header(i), s..e)));
        }
    }
    let body = &resp.body.data;
    if body.is_empty() {
        return;
    }
    if crate::http::h2::grpc::is_grpc(resp.headers.get("content-type")) {
        // gRPC messages that are JSON (kept uncompressed by the HTTP/2 stage).
        for r in crate::http::h2::grpc::messages(body) {
            let m = &body[r.clone()];
            if matches!(m.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'[')) {
                if let Some(mut v) = json::parse(m) {
                    json::shift(&mut v, r.start);
                    walk(&v, "", None, ts, out);
                }
            }
        }
        return;
    }
    let ct =
        resp.headers.get("content-type").map(|v| String::from_utf8_lossy(v).to_ascii_lowercase()).unwrap_or_default();
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let jsonish =
        ct.contains("json") || (ct.is_empty() || ct.starts_with("text/plain")) && matches!(first, Some(b'{' | b'['));
    if !jsonish {
        return;
    }
    if let Some(v) = json::parse(body) {
        walk(&v, "", None, ts, out);
    }
}

/// Whether a response JSON key (under `parent`) holds a token by the general rule.
pub fn general_key(parent: Option<&str>, key: &str) -> bool {
    !matches!(generic::credential_path(parent, key), None | Some(Word::Password))
}

fn walk(v: &Json, path: &str, parent: Option<&str>, ts: Timestamp, out: &mut Found) {
    // Runs for every key of every JSON response: the key is normalised on the stack, its path built
    // only when a finding or a nested value needs it.
    let mut buf = [0u8; 48];
    let path_of = |k: &str| {
        if path.is_empty() { super::common::short(k, 64) } else { format!("{path}.{}", super::common::short(k, 64)) }
    };
    match v {
        Json::Object(m) => {
            for (k, val) in m {
                let n = norm_buf(k, &mut buf);
                let listed = TOKEN_KEYS.contains(&n);
                match val {
                    Json::Str(s, r) if listed => {
                        out.masks.push(Span::new(Field::Body, r.clone()));
                        if s.len() < 8 || s.contains(char::is_whitespace) {
                            continue;
                        }
                        let f = token_finding(
                            LeakKind::LoginResponseToken,
                            LeakKind::LoginResponseToken,
                            s,
                            None,
                            format!("json field {}", path_of(k)),
                            "token handed out in a response body:",
                            ts,
                        );
                        out.push(f.at(Span::new(Field::Body, r.clone())));
                    }
                    // The general rule: a key named for a credential, or a `value`/`id` under one.
                    Json::Str(s, r)
                        if (super::api_key::may_be_named_for_a_credential(n) || matches!(n, "value" | "id"))
                            && general_key(parent, k) =>
                    {
                        out.masks.push(Span::new(Field::Body, r.clone()));
                        if !generic::looks_like_credential(s) && !jwt::is_jwt(s) {
                            continue;
                        }
                        let mut f = token_finding(
                            LeakKind::LoginResponseToken,
                            LeakKind::LoginResponseToken,
                            s,
                            None,
                            format!("json field {}", path_of(k)),
                            "token handed out in a response body (general rule):",
                            ts,
                        );
                        if !jwt::is_jwt(s) {
                            f.confidence = f.confidence.min(Confidence::Medium);
                        }
                        out.push(f.at(Span::new(Field::Body, r.clone())));
                    }
                    Json::Object(_) | Json::Array(_) => walk(val, &path_of(k), Some(k), ts, out),
                    _ => {}
                }
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate().take(256) {
                walk(x, &format!("{path}[{i}]"), parent, ts, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Body, Headers};

    fn resp(headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status: 200,
            reason: "OK".into(),
            version: 1,
            headers: Headers::from_iter(headers.iter().copied()),
            body: Body { data: body.as_bytes().to_vec(), ..Body::default() },
            ts: Timestamp::ZERO,
        }
    }

    fn found(r: &Response) -> Vec<(String, String, Confidence)> {
        let mut out = Found::default();
        detect(r, Timestamp::ZERO, &mut out);
        out.findings.iter().map(|f| (f.location.clone(), f.secret.expose().to_string(), f.confidence)).collect()
    }

    #[test]
    fn swift_and_keystone_tokens_handed_out_in_response_headers() {
        let r = resp(
            &[
                ("X-Storage-Url", "http://10.0.0.2:8080/v1/AUTH_test"),
                ("X-Auth-Token", "AUTH_tk5c2d8a61b9e04f7aa1c3"),
                ("X-Storage-Token", "AUTH_tk5c2d8a61b9e04f7aa1c3"),
                ("X-Auth-Token-Expires", "86399"),
                ("X-Trans-Id", "tx0123456789abcdef-0065f1a2b3"),
            ],
            "",
        );
        let got = found(&r);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|(_, s, c)| s == "AUTH_tk5c2d8a61b9e04f7aa1c3" && *c == Confidence::High), "{got:?}");
        let got = found(&resp(&[("X-Subject-Token", "gAAAAABlZ8Kx3q0a1b2c3d4e5f6")], ""));
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn vault_login_response_token_at_auth_client_token() {
        let body = r#"{"request_id":"8e33c808-f86c-cff8-f30a-fbb3ac22c4a8","lease_id":"","renewable":false,"lease_duration":0,"data":null,"auth":{"client_token":"hvs.CAESIJ4tXdrQk2bVb3zGfYwQ","accessor":"0e9e3b7a-5c3f-2f4b-b9c1-0f4d8e2a1b3c","policies":["default"],"token_policies":["default"],"metadata":{"username":"alice"},"lease_duration":2764800,"renewable":true,"entity_id":"9d6b1c2e-2a4f-6c3a-8b1e-3f2c4d5e6f7a","token_type":"service","orphan":true}}"#;
        let got = found(&resp(&[("Content-Type", "application/json")], body));
        assert_eq!(
            got,
            [(
                "json field auth.client_token".to_string(),
                "hvs.CAESIJ4tXdrQk2bVb3zGfYwQ".to_string(),
                Confidence::Medium
            )]
        );
    }

    #[test]
    fn generic_json_paths_take_the_parents_word_and_properties_are_not_tokens() {
        let body = r#"{"session":{"id":"s-9f8e7d6c5b4a3f2e","expires":"2030-01-01T00:00:00Z"},"token_type":"Bearer","expires_in":3600,"author":"x1y2z3w4v5u6","password_policy":"min8chars1"}"#;
        let got = found(&resp(&[("Content-Type", "application/json")], body));
        assert_eq!(got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(), ["json field session.id"]);
    }
}
