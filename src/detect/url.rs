//! Tokens and passwords in URLs: the request target's query and a response's `Location`.
//!
//! Parameter names, matched on the normalised name (`access_token`, `access-token`, `accessToken` are
//! one): [`TOKEN_PARAMS`] exactly, or ending in `token`/`apikey`/`secret`/`password` — except pagination
//! and CSRF tokens ([`NOT_SECRET`]). OAuth authorization `code`s are not reported: they are single-use
//! and expire within minutes, and a sniffer that sees one usually also sees the token it is traded for.
//! Values under 6 characters (except passwords) are not secrets; attack payloads are low confidence.

use super::common::{is_attack_payload, norm, pairs, password_finding, token_finding, trim_range};
use super::{Confidence, Field, Found, LeakKind, Span};
use crate::time::Timestamp;

pub const TOKEN_PARAMS: &[&str] = &[
    "accesstoken",
    "idtoken",
    "refreshtoken",
    "token",
    "authtoken",
    "apikey",
    "key",
    "auth",
    "session",
    "sessionid",
    "sid",
    "jwt",
    "apitoken",
    "privatetoken",
    "secret",
    "clientsecret",
    "sessiontoken",
    "bearer",
    "authkey",
    "accesskey",
    "sig",
];
pub const PASSWORD_PARAMS: &[&str] = &["password", "passwd", "pass", "pwd", "passphrase", "userpassword"];
pub const NOT_SECRET: &[&str] = &[
    "nexttoken",
    "pagetoken",
    "continuationtoken",
    "synctoken",
    "csrftoken",
    "xsrftoken",
    "authenticitytoken",
    "csrfmiddlewaretoken",
    "cursortoken",
    "paginationtoken",
    "statetoken",
    "sig",
];

fn classify(name: &str) -> Option<bool> {
    classify_norm(&norm(name))
}

/// [`classify`] on an already normalised name.
fn classify_norm(n: &str) -> Option<bool> {
    if NOT_SECRET.contains(&n) || n.contains("csrf") || n.contains("xsrf") {
        return None;
    }
    if PASSWORD_PARAMS.contains(&n) || (n.ends_with("password") && !n.contains("reset") && !n.contains("forgot")) {
        return Some(true);
    }
    if TOKEN_PARAMS.contains(&n)
        || n.ends_with("token")
        || n.ends_with("apikey")
        || n.ends_with("secret")
        || n.ends_with("sessionid")
    {
        return Some(false);
    }
    None
}

/// Findings for the query of `url` (a path with query, or an absolute URL), which is `field` of its
/// message.
pub fn detect(url: &str, where_: &str, field: Field, ts: Timestamp, out: &mut Found) {
    let Some(q) = url.find('?') else { return };
    let query = &url[q + 1..];
    let query = query.split('#').next().unwrap_or(query);
    // Decide on the raw names first: decoding every parameter of every URL would cost allocations on
    // the common path (`?v=123`), and credential parameter names are never percent-encoded in practice.
    let mut buf = [0u8; 48];
    let interesting = query.split('&').any(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        classify_norm(super::common::norm_buf(k, &mut buf)).is_some() || v.len() >= 20
    });
    if !interesting {
        return;
    }
    let base = q + 1;
    for p in pairs(query.as_bytes(), base) {
        let r = trim_range(url.as_bytes(), p.range.clone());
        let span = Span::new(field, r);
        let v = p.value.trim();
        let k = super::common::short(&p.name, 64);
        let Some(is_password) = classify(&p.name) else {
            if let Some(what) = super::common::known_key_format(v) {
                let f = token_finding(
                    LeakKind::UrlToken,
                    LeakKind::UrlToken,
                    v,
                    None,
                    format!("{where_} query {k}"),
                    &format!("{what} in a URL"),
                    ts,
                );
                out.push(f.at(span));
            }
            continue;
        };
        // A credential-named parameter is never shown, whatever its value.
        out.masks.push(span.clone());
        if v.is_empty() {
            continue;
        }
        let location = format!("{where_} query {k}");
        if is_password {
            let f = password_finding(
                LeakKind::UrlToken,
                v,
                None,
                location,
                "password in a URL (also ends up in proxy and server logs)".into(),
            );
            out.push(f.at(span));
        } else if v.len() >= 6 {
            let mut f = token_finding(
                LeakKind::UrlToken,
                LeakKind::UrlToken,
                v,
                None,
                location,
                "token in a URL (also ends up in proxy and server logs)",
                ts,
            );
            if is_attack_payload(v) {
                f.confidence = Confidence::Low;
            }
            out.push(f.at(span));
        }
    }
}

/// The `user:password@` of an absolute-form request target (`GET http://u:p@host/ HTTP/1.1`, as sent
/// to proxies): the password is a finding, and its span a slot wherever the target is shown.
pub fn userinfo(target: &str, out: &mut Found) {
    // Origin-form targets (`/path`), the common case, have no authority at all.
    if target.starts_with('/') || target.starts_with('*') {
        return;
    }
    let Some(rest_at) = memchr::memmem::find(target.as_bytes(), b"://").map(|i| i + 3) else { return };
    let rest = &target[rest_at..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else { return };
    let info = &authority[..at];
    let (user, pass_off) = match info.find(':') {
        Some(c) => (&info[..c], c + 1),
        None => return,
    };
    let r = rest_at + pass_off..rest_at + at;
    let pass = super::common::percent_decode(&target[r.clone()], false);
    let span = Span::new(Field::Target, r);
    out.masks.push(span.clone());
    if pass.is_empty() {
        return;
    }
    let user = super::common::percent_decode(user, false);
    let f = password_finding(
        LeakKind::UrlToken,
        &pass,
        Some(&user),
        "request target userinfo".into(),
        "password in the URL's user:password@ (also ends up in proxy logs)".into(),
    );
    out.push(f.at(span));
}
