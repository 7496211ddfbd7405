//! Login bodies: urlencoded forms, JSON (nested, GraphQL variables) and multipart, with OAuth2 token
//! requests. A password-like field *name* with a non-empty value is a login; the user-like field beside
//! it names the user. `client_secret` and `refresh_token` in a token request are secrets too (tokens).

use super::common::{Pair, is_password_name, is_user_name, norm, pairs, password_finding, token_finding};
use super::json::{self, Json};
use super::{Field, Found, LeakKind, Span};
use crate::http::Request;
use crate::time::Timestamp;

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
            // The boundary is case-sensitive: take it from the original header.
            let orig =
                req.headers.get("content-type").map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
            let b = orig.split(';').find_map(|p| {
                let p = p.trim();
                p.get(..9).filter(|k| k.eq_ignore_ascii_case("boundary=")).map(|_| p[9..].trim_matches('"').to_string())
            });
            return Some((BodyType::Multipart, b));
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

pub fn detect(req: &Request, ts: Timestamp, out: &mut Found) {
    if req.body.data.is_empty() && req.body.extra.is_empty() {
        return;
    }
    if crate::http::h2::grpc::is_grpc(req.headers.get("content-type")) {
        grpc(&req.body.data, ts, out);
        return;
    }
    let Some((ty, boundary)) = body_type(req) else { return };
    let start = out.findings.len();
    let body = req.body.data.as_slice();
    // A body longer than the kept prefix was read on by the HTTP stage: a field cut by the prefix's end
    // is reported whole from `extra`, and only masked here.
    let cut = req.body.truncated.then_some(body.len());
    let user = match ty {
        BodyType::Form => {
            let r = super::common::trim_range(body, 0..body.len());
            let ps = pairs(&body[r.clone()], r.start);
            fields(&ps, LeakKind::FormLogin, "form", cut, ts, out);
            first_user(&ps)
        }
        BodyType::Multipart => {
            let ps = boundary.map(|b| multipart(body, &b)).unwrap_or_default();
            fields(&ps, LeakKind::FormLogin, "multipart", cut, ts, out);
            first_user(&ps)
        }
        BodyType::Json => json::parse(body).and_then(|v| {
            walk(&v, "", ts, out);
            match &v {
                Json::Object(m) => json_user(m).map(str::to_string),
                _ => None,
            }
        }),
    };
    if !req.body.extra.is_empty() {
        past_the_prefix(req, ty, user.as_deref(), ts, out);
    }
    // Vault's login names its user in the path (`POST /v1/auth/userpass/login/alice`, `ldap`, `okta`,
    // `radius`), the body holds the password alone.
    if let Some(u) = path_user(&req.target) {
        for f in
            out.findings[start..].iter_mut().filter(|f| f.user.is_none() && f.class == super::SecretClass::Password)
        {
            f.user = super::common::user_text(Some(&u));
        }
    }
}

/// The user a login path names: `.../auth/<method>/login/<user>` (Vault's userpass, ldap, okta, radius).
fn path_user(target: &str) -> Option<String> {
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let mut segs = path.rsplit('/');
    let user = segs.next().filter(|u| !u.is_empty())?;
    (segs.next()? == "login" && segs.next().is_some() && segs.next()? == "auth")
        .then(|| super::common::percent_decode(user, false))
}

/// gRPC messages (length-prefixed, kept uncompressed by the HTTP/2 stage): those that are JSON or a
/// urlencoded form are read as such bodies are; protobuf is not (no schema says which field is what).
fn grpc(body: &[u8], ts: Timestamp, out: &mut Found) {
    let start = out.findings.len();
    for r in crate::http::h2::grpc::messages(body) {
        let m = &body[r.clone()];
        match m.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => {
                if let Some(mut v) = json::parse(m) {
                    json::shift(&mut v, r.start);
                    walk(&v, "", ts, out);
                }
            }
            Some(_) if m.contains(&b'=') && m.iter().all(|&b| b.is_ascii_graphic()) => {
                let ps = pairs(m, r.start);
                fields(&ps, LeakKind::FormLogin, "form", None, ts, out);
            }
            _ => {}
        }
    }
    for f in &mut out.findings[start..] {
        f.evidence = format!("{} (in a gRPC message)", f.evidence);
    }
}

fn first_user(ps: &[Pair]) -> Option<String> {
    ps.iter().find(|p| is_user_name(&p.name) && !p.value.is_empty()).map(|p| p.value.clone())
}

/// Fields the HTTP stage read past the kept prefix of the body (`Body::extra`): a login whose password
/// comes after megabytes of padding. They have no place in the excerpt (it shows the prefix).
fn past_the_prefix(req: &Request, ty: BodyType, prefix_user: Option<&str>, ts: Timestamp, out: &mut Found) {
    let (kind, what) = match ty {
        BodyType::Json => (LeakKind::JsonLogin, "json"),
        BodyType::Form => (LeakKind::FormLogin, "form"),
        BodyType::Multipart => (LeakKind::FormLogin, "multipart"),
    };
    let extra = &req.body.extra;
    let user = extra.iter().find(|(k, v)| is_user_name(k) && !v.is_empty()).map(|(_, v)| v.as_str()).or(prefix_user);
    for (k, v) in extra {
        let name = super::common::short(k, 64);
        if is_password_name(k) && !v.is_empty() {
            let ev = format!("login {what} with a password field past the body's first bytes kept");
            out.push(password_finding(kind, v, user, format!("{what} field {name}"), ev));
        } else if matches!(norm(k).as_str(), "clientsecret" | "refreshtoken") && v.len() >= 6 {
            let ev = "OAuth2 secret in a token request, past the body's first bytes kept";
            let f =
                token_finding(kind, kind, v, super::common::user_text(user), format!("{what} field {name}"), ev, ts);
            out.push(f);
        } else if ty == BodyType::Json && general_key(k) && super::generic::looks_like_credential(v) {
            let ev = "token in a JSON request body, by its name (general rule), past the body's first bytes kept";
            let mut f =
                token_finding(kind, kind, v, super::common::user_text(user), format!("{what} field {name}"), ev, ts);
            f.confidence = f.confidence.min(super::Confidence::Medium);
            out.push(f);
        }
    }
}

/// The user of a JSON login object: a user-like key beside the password, or in a nested object.
fn json_user(m: &[(String, Json)]) -> Option<&str> {
    m.iter()
        .find(|(k, v)| is_user_name(k) && v.as_str().is_some_and(|s| !s.is_empty()))
        .and_then(|(_, v)| v.as_str())
        .or_else(|| sibling_user(m))
}

fn body_span(r: &std::ops::Range<usize>) -> Span {
    Span::new(Field::Body, r.clone())
}

/// Flat fields (form or multipart): one finding per password-like field, plus OAuth secrets. A field
/// ending at `cut` (the end of a prefix of a longer body) may be cut short: masked, not reported.
fn fields(pairs: &[Pair], kind: LeakKind, what: &str, cut: Option<usize>, ts: Timestamp, out: &mut Found) {
    let user = pairs.iter().find(|p| is_user_name(&p.name) && !p.value.is_empty()).map(|p| p.value.as_str());
    let grant = pairs.iter().find(|p| p.name == "grant_type").map(|p| p.value.as_str());
    for (i, p) in pairs.iter().enumerate() {
        let k = super::common::short(&p.name, 64);
        // The last field, running to (a line break short of) the cut.
        let cut_short = cut.is_some_and(|c| i + 1 == pairs.len() && p.range.end + 2 >= c);
        if is_password_name(&p.name) {
            // Masked whatever its value: a password field is never shown.
            out.masks.push(body_span(&p.range));
            if p.value.is_empty() || cut_short {
                continue;
            }
            let ev = match grant {
                Some("password") => "OAuth2 password grant: user password in the token request".to_string(),
                _ => format!("login {what} with a password field"),
            };
            out.push(password_finding(kind, &p.value, user, format!("{what} field {k}"), ev).at(body_span(&p.range)));
        } else if matches!(norm(&p.name).as_str(), "clientsecret" | "refreshtoken") {
            out.masks.push(body_span(&p.range));
            if p.value.len() < 6 || cut_short {
                continue;
            }
            let ev = if norm(&p.name) == "clientsecret" {
                "OAuth2 client secret in a token request"
            } else {
                "OAuth2 refresh token in a token request"
            };
            let f = token_finding(
                kind,
                kind,
                &p.value,
                super::common::user_text(user),
                format!("{what} field {k}"),
                ev,
                ts,
            );
            out.push(f.at(body_span(&p.range)));
        }
    }
}

/// Walk JSON: in every object, password-like keys with a string value, the user-like sibling as user.
fn walk(v: &Json, path: &str, ts: Timestamp, out: &mut Found) {
    match v {
        Json::Object(m) => {
            let user = json_user(m);
            let graphql = m.iter().any(|(k, v)| k == "query" && v.as_str().is_some_and(|q| q.contains("mutation")));
            for (k, val) in m {
                let p = if path.is_empty() {
                    super::common::short(k, 64)
                } else {
                    format!("{path}.{}", super::common::short(k, 64))
                };
                match val {
                    Json::Str(s, r) if is_password_name(k) => {
                        out.masks.push(body_span(r));
                        if s.is_empty() {
                            continue;
                        }
                        let ev = if path.contains("variables") || graphql {
                            "GraphQL login variables with a password"
                        } else {
                            "JSON login with a password field"
                        };
                        let f =
                            password_finding(LeakKind::JsonLogin, s, user, format!("json field {p}"), ev.to_string());
                        out.push(f.at(body_span(r)));
                    }
                    Json::Str(s, r) if general_key(k) => {
                        out.masks.push(body_span(r));
                        if !super::generic::looks_like_credential(s) && !super::jwt::is_jwt(s) {
                            continue;
                        }
                        let mut f = token_finding(
                            LeakKind::JsonLogin,
                            LeakKind::JsonLogin,
                            s,
                            super::common::user_text(user),
                            format!("json field {p}"),
                            "token in a JSON request body, by its name (general rule)",
                            ts,
                        );
                        f.confidence = f.confidence.min(super::Confidence::Medium);
                        out.push(f.at(body_span(r)));
                    }
                    Json::Str(s, r) if matches!(norm(k).as_str(), "clientsecret" | "refreshtoken") => {
                        out.masks.push(body_span(r));
                        if s.len() < 6 {
                            continue;
                        }
                        let f = token_finding(
                            LeakKind::JsonLogin,
                            LeakKind::JsonLogin,
                            s,
                            super::common::user_text(user),
                            format!("json field {p}"),
                            "OAuth2 secret in a JSON token request",
                            ts,
                        );
                        out.push(f.at(body_span(r)));
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

/// A JSON request key that holds a token by the general rule ([`super::generic`]): a token, secret,
/// key or credential word. Not passwords (their own rule above), not the OAuth2 fields, and not a bare
/// session word: analytics beacons send `session_id`s that are no login.
pub fn general_key(k: &str) -> bool {
    use super::generic::Word;
    !is_password_name(k)
        && !matches!(norm(k).as_str(), "clientsecret" | "refreshtoken")
        && matches!(super::generic::credential_name(k), Some(Word::Token | Word::Secret | Word::Key | Word::Auth))
}

/// A user in a nested object next to the password's object (`{"user":{"email":..},"password":..}`).
fn sibling_user(m: &[(String, Json)]) -> Option<&str> {
    m.iter().find_map(|(_, v)| match v {
        Json::Object(inner) => {
            inner.iter().find(|(k, v)| is_user_name(k) && v.as_str().is_some()).and_then(|(_, v)| v.as_str())
        }
        _ => None,
    })
}

/// `multipart/form-data` parts as pairs with the span of each value (file parts skipped).
fn multipart(body: &[u8], boundary: &str) -> Vec<Pair> {
    let delim = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let mut starts: Vec<usize> = finder.find_iter(body).take(MAX_PARTS + 1).collect();
    // A body cut short has no closing delimiter: its last part ends with the body.
    starts.push(body.len());
    let mut out = Vec::new();
    for w in starts.windows(2) {
        let (s, e) = ((w[0] + delim.len()).min(w[1]), w[1]);
        let part = &body[s..e];
        if part.starts_with(b"--") {
            break;
        }
        let Some((head_end, sep)) = memchr::memmem::find(part, b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| memchr::memmem::find(part, b"\n\n").map(|i| (i, 2)))
        else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..head_end]);
        let disp = head.lines().find(|l| l.to_ascii_lowercase().contains("content-disposition")).unwrap_or("");
        if disp.contains("filename=") {
            continue;
        }
        let Some(name) = disp.split(';').find_map(|p| p.trim().strip_prefix("name=")) else { continue };
        let mut vs = s + head_end + sep;
        let mut ve = e;
        if body[vs..ve].ends_with(b"\r\n") {
            ve -= 2;
        } else if body[vs..ve].ends_with(b"\n") {
            ve -= 1;
        }
        vs = vs.min(ve);
        out.push(Pair {
            name: name.trim_matches('"').to_string(),
            value: String::from_utf8_lossy(&body[vs..ve]).into_owned(),
            range: vs..ve,
        });
    }
    out
}
