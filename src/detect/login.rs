//! Login bodies: urlencoded forms, JSON (nested, GraphQL variables) and multipart, with OAuth2 token
//! requests. A password-like field *name* with a non-empty value is a login; the user-like field beside
//! it names the user. `client_secret` and `refresh_token` in a token request are secrets too (tokens).

use serde_json::Value;

use super::common::{is_password_name, is_user_name, norm, parse_pairs, password_finding, token_finding};
use super::{Finding, LeakKind};
use crate::http::Request;
use crate::time::Timestamp;

/// JSON nesting walked; a login is never deeper, a hostile body may be.
const MAX_DEPTH: usize = 10;
/// JSON values visited per body.
const MAX_NODES: usize = 5000;
/// Multipart parts looked at.
const MAX_PARTS: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyType {
    Form,
    Json,
    Multipart,
}

fn body_type(req: &Request) -> Option<(BodyType, Option<String>)> {
    let ct = req.headers.get("content-type").map(|v| String::from_utf8_lossy(v).to_ascii_lowercase());
    if let Some(ct) = &ct {
        if ct.contains("x-www-form-urlencoded") {
            return Some((BodyType::Form, None));
        }
        if ct.contains("json") {
            return Some((BodyType::Json, None));
        }
        if ct.contains("multipart/form-data") {
            let b =
                ct.split(';').find_map(|p| p.trim().strip_prefix("boundary=")).map(|b| b.trim_matches('"').to_string());
            // The boundary is case-sensitive: take it from the original header.
            let orig =
                req.headers.get("content-type").map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
            let b2 = orig.split(';').find_map(|p| {
                let p = p.trim();
                p.get(..9).filter(|k| k.eq_ignore_ascii_case("boundary=")).map(|_| p[9..].trim_matches('"').to_string())
            });
            return Some((BodyType::Multipart, b2.or(b)));
        }
    }
    // No (useful) content type: sniff.
    let body = req.body.data.as_slice();
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'{' || *first == b'[' {
        return Some((BodyType::Json, None));
    }
    if body.contains(&b'=') && !body.contains(&b'\n') && body.len() < 16 * 1024 {
        return Some((BodyType::Form, None));
    }
    None
}

pub fn detect(req: &Request, ts: Timestamp, out: &mut Vec<Finding>) {
    if req.body.data.is_empty() {
        return;
    }
    let Some((ty, boundary)) = body_type(req) else { return };
    match ty {
        BodyType::Form => {
            let text = String::from_utf8_lossy(&req.body.data);
            fields(&parse_pairs(text.trim()), LeakKind::FormLogin, "form", ts, out);
        }
        BodyType::Multipart => {
            if let Some(b) = boundary {
                fields(&multipart(&req.body.data, &b), LeakKind::FormLogin, "multipart", ts, out);
            }
        }
        BodyType::Json => {
            if let Ok(v) = serde_json::from_slice::<Value>(&req.body.data) {
                let mut nodes = 0;
                json(&v, "", 0, &mut nodes, ts, out);
            }
        }
    }
}

/// Flat fields (form or multipart): one finding per password-like field, plus OAuth secrets.
fn fields(pairs: &[(String, String)], kind: LeakKind, what: &str, ts: Timestamp, out: &mut Vec<Finding>) {
    let user = pairs.iter().find(|(k, v)| is_user_name(k) && !v.is_empty()).map(|(_, v)| v.clone());
    let grant = pairs.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.as_str());
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        if is_password_name(k) {
            let ev = match grant {
                Some("password") => "OAuth2 password grant: user password in the token request".to_string(),
                _ => format!("login {what} with a password field"),
            };
            out.push(password_finding(kind, v, user.clone(), format!("{what} field {k}"), ev));
        } else if matches!(norm(k).as_str(), "clientsecret" | "refreshtoken") && v.len() >= 6 {
            let ev = if norm(k) == "clientsecret" {
                "OAuth2 client secret in a token request"
            } else {
                "OAuth2 refresh token in a token request"
            };
            out.push(token_finding(kind, kind, v, user.clone(), format!("{what} field {k}"), ev, ts));
        }
    }
}

/// Walk JSON: in every object, password-like keys with a string value, the user-like sibling as user.
fn json(v: &Value, path: &str, depth: usize, nodes: &mut usize, ts: Timestamp, out: &mut Vec<Finding>) {
    *nodes += 1;
    if depth > MAX_DEPTH || *nodes > MAX_NODES {
        return;
    }
    match v {
        Value::Object(m) => {
            let user = m
                .iter()
                .find(|(k, v)| is_user_name(k) && v.as_str().is_some_and(|s| !s.is_empty()))
                .and_then(|(_, v)| v.as_str().map(str::to_string));
            let graphql = m.get("query").and_then(Value::as_str).is_some_and(|q| q.contains("mutation"));
            for (k, val) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match val {
                    Value::String(s) if !s.is_empty() && is_password_name(k) => {
                        let ev = if path.contains("variables") || graphql {
                            "GraphQL login variables with a password"
                        } else {
                            "JSON login with a password field"
                        };
                        out.push(password_finding(
                            LeakKind::JsonLogin,
                            s,
                            user.clone().or_else(|| sibling_user(m)),
                            format!("json field {p}"),
                            ev.to_string(),
                        ));
                    }
                    Value::String(s) if s.len() >= 6 && matches!(norm(k).as_str(), "clientsecret" | "refreshtoken") => {
                        out.push(token_finding(
                            LeakKind::JsonLogin,
                            LeakKind::JsonLogin,
                            s,
                            user.clone(),
                            format!("json field {p}"),
                            "OAuth2 secret in a JSON token request",
                            ts,
                        ));
                    }
                    _ => json(val, &p, depth + 1, nodes, ts, out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate().take(256) {
                json(x, &format!("{path}[{i}]"), depth + 1, nodes, ts, out);
            }
        }
        _ => {}
    }
}

/// A user in a nested object next to the password's object (`{"user":{"email":..},"password":..}`).
fn sibling_user(m: &serde_json::Map<String, Value>) -> Option<String> {
    m.values().find_map(|v| match v {
        Value::Object(inner) => inner
            .iter()
            .find(|(k, v)| is_user_name(k) && v.is_string())
            .and_then(|(_, v)| v.as_str().map(str::to_string)),
        _ => None,
    })
}

/// `multipart/form-data` parts as (name, value) pairs (file parts skipped).
fn multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delim = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for part in text.split(delim.as_str()).skip(1).take(MAX_PARTS) {
        if part.starts_with("--") {
            break;
        }
        let part = part.trim_start_matches(['\r', '\n']);
        let Some((head, value)) = part.split_once("\r\n\r\n").or_else(|| part.split_once("\n\n")) else { continue };
        let disp = head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition")).unwrap_or("");
        if disp.contains("filename=") {
            continue;
        }
        let Some(name) = disp.split(';').find_map(|p| p.trim().strip_prefix("name=")) else { continue };
        let value = value.strip_suffix("\r\n").or_else(|| value.strip_suffix('\n')).unwrap_or(value);
        out.push((name.trim_matches('"').to_string(), value.to_string()));
    }
    out
}
