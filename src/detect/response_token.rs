//! Tokens a server hands out over HTTP: token fields in JSON response bodies (login and token
//! endpoints), and JWTs in response headers. Only JSON bodies are walked: an HTML or Markdown page that
//! *shows* a token (documentation) is not a login response; the jwt.io example token is low confidence
//! wherever it appears.

use serde_json::Value;

use super::common::{norm, token_finding};
use super::{Finding, LeakKind, jwt};
use crate::http::Response;
use crate::time::Timestamp;

/// Normalised JSON keys whose string value is a token handed to the client.
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

const MAX_DEPTH: usize = 8;
const MAX_NODES: usize = 5000;

pub fn detect(resp: &Response, ts: Timestamp, out: &mut Vec<Finding>) {
    // JWTs in any response header other than Set-Cookie (the cookie detector owns that).
    for (name, value) in resp.headers.iter() {
        if name.eq_ignore_ascii_case("set-cookie") || value.len() < 16 {
            continue;
        }
        for (s, e) in jwt::find_all(value) {
            let tok = String::from_utf8_lossy(&value[s..e]);
            out.push(token_finding(
                LeakKind::LoginResponseToken,
                LeakKind::LoginResponseToken,
                &tok,
                None,
                format!("response header {name}"),
                "token handed out in a response header:",
                ts,
            ));
        }
    }
    let body = &resp.body.data;
    if body.is_empty() {
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
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return };
    let mut nodes = 0;
    walk(&v, "", 0, &mut nodes, ts, out);
}

fn walk(v: &Value, path: &str, depth: usize, nodes: &mut usize, ts: Timestamp, out: &mut Vec<Finding>) {
    *nodes += 1;
    if depth > MAX_DEPTH || *nodes > MAX_NODES {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match val {
                    Value::String(s)
                        if s.len() >= 8
                            && !s.contains(char::is_whitespace)
                            && TOKEN_KEYS.contains(&norm(k).as_str()) =>
                    {
                        out.push(token_finding(
                            LeakKind::LoginResponseToken,
                            LeakKind::LoginResponseToken,
                            s,
                            None,
                            format!("json field {p}"),
                            "token handed out in a response body:",
                            ts,
                        ));
                    }
                    _ => walk(val, &p, depth + 1, nodes, ts, out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate().take(256) {
                walk(x, &format!("{path}[{i}]"), depth + 1, nodes, ts, out);
            }
        }
        _ => {}
    }
}
