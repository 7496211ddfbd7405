//! Tokens a server hands out over HTTP: token fields in JSON response bodies (login and token
//! endpoints), and JWTs in response headers. Only JSON bodies are walked: an HTML or Markdown page that
//! *shows* a token (documentation) is not a login response; the jwt.io example token is low confidence
//! wherever it appears.

use super::common::{norm, token_finding};
use super::json::{self, Json};
use super::{Field, Found, LeakKind, Span, jwt};
use crate::http::Response;
use crate::time::Timestamp;

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
    for (i, (name, value)) in resp.headers.iter().enumerate() {
        if name.eq_ignore_ascii_case("set-cookie") || value.len() < 16 {
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
                    walk(&v, "", ts, out);
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
        walk(&v, "", ts, out);
    }
}

fn walk(v: &Json, path: &str, ts: Timestamp, out: &mut Found) {
    match v {
        Json::Object(m) => {
            for (k, val) in m {
                let p = if path.is_empty() {
                    super::common::short(k, 64)
                } else {
                    format!("{path}.{}", super::common::short(k, 64))
                };
                match val {
                    Json::Str(s, r) if TOKEN_KEYS.contains(&norm(k).as_str()) => {
                        out.masks.push(Span::new(Field::Body, r.clone()));
                        if s.len() < 8 || s.contains(char::is_whitespace) {
                            continue;
                        }
                        let f = token_finding(
                            LeakKind::LoginResponseToken,
                            LeakKind::LoginResponseToken,
                            s,
                            None,
                            format!("json field {p}"),
                            "token handed out in a response body:",
                            ts,
                        );
                        out.push(f.at(Span::new(Field::Body, r.clone())));
                    }
                    _ => walk(val, &p, ts, out),
                }
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate().take(256) {
                walk(x, &format!("{path}[{i}]"), ts, out);
            }
        }
        _ => {}
    }
}
