//! Tokens and passwords in URLs: the request target's query and a response's `Location`.
//!
//! Parameter names, matched on the normalised name (`access_token`, `access-token`, `accessToken` are
//! one): [`TOKEN_PARAMS`] exactly, or ending in `token`/`apikey`/`secret`/`password` — except pagination
//! and CSRF tokens ([`NOT_SECRET`]). OAuth authorization `code`s are not reported: they are single-use
//! and expire within minutes, and a sniffer that sees one usually also sees the token it is traded for.
//! Values under 6 characters (except passwords) are not secrets; attack payloads are low confidence.
//!
//! Passwords in a query go by any common name in any case (`password`, `PASSWORD`, `pass`, `pwd`,
//! `passwd`, `loginpass`, `admin_pwd`...), as weather stations
//! (`/weatherstation/updateweatherstation.php?ID=..&PASSWORD=..`), IP cameras (`?usr=admin&pwd=..`) and
//! routers send them; the user is the user-like parameter beside it (`user`, `username`, `usr`, `login`,
//! `account`...), else a station's `ID`. `user:password@` in an absolute URL (a request target sent to a
//! proxy, a redirect's `Location`) is a password too, and a token alone as the user part
//! (`http://ghp_...@host/`) is a token.

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
    if PASSWORD_PARAMS.contains(&n)
        || (n.ends_with("password") && !n.contains("reset") && !n.contains("forgot"))
        // A PIN in a URL is a map pin as often as a code, and `secret` is a token (below).
        || (n != "pin" && n != "secret" && super::common::is_password_name(n))
    {
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
    let ps = pairs(query.as_bytes(), base);
    let user = query_user(&ps);
    for p in &ps {
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
                user,
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

/// The user beside a password in a query: a user-like parameter, else a weather station's `ID`.
fn query_user(ps: &[super::common::Pair]) -> Option<&str> {
    let named = |p: &&super::common::Pair| !p.value.trim().is_empty() && classify(&p.name).is_none();
    ps.iter()
        .filter(named)
        .find(|p| super::common::is_user_name(&p.name) || matches!(norm(&p.name).as_str(), "loginuse" | "usr"))
        .or_else(|| ps.iter().filter(named).find(|p| matches!(norm(&p.name).as_str(), "id" | "stationid")))
        .map(|p| p.value.trim())
}

/// The `user:password@` of an absolute-form request target (`GET http://u:p@host/ HTTP/1.1`, as sent
/// to proxies): the password is a finding, and its span a slot wherever the target is shown.
pub fn userinfo(target: &str, ts: Timestamp, out: &mut Found) {
    userinfo_in(target, Field::Target, "request target", ts, out);
}

/// The `user:password@` of an absolute URL that is `field` of its message (a request target, a
/// `Location`). A user part alone that is shaped as a secret (a token, a key) is a token.
pub fn userinfo_in(url: &str, field: Field, where_: &str, ts: Timestamp, out: &mut Found) {
    // Origin-form targets (`/path`), the common case, have no authority at all.
    if url.starts_with('/') || url.starts_with('*') {
        return;
    }
    let Some(rest_at) = memchr::memmem::find(url.as_bytes(), b"://").map(|i| i + 3) else { return };
    let rest = &url[rest_at..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else { return };
    let info = &authority[..at];
    let Some(c) = info.find(':') else {
        // `http://TOKEN@host/`: git and API clients put a token there.
        let user = super::common::percent_decode(info, false);
        if super::common::user_is_secret_shaped(&user) {
            let r = rest_at..rest_at + at;
            out.masks.push(Span::new(field, r.clone()));
            let f = super::common::token_finding(
                LeakKind::UrlToken,
                LeakKind::UrlToken,
                &user,
                None,
                format!("{where_} userinfo"),
                "token as the user of the URL's user@ (also ends up in proxy logs)",
                ts,
            );
            out.push(f.at(Span::new(field, r)));
        }
        return;
    };
    let user = &info[..c];
    let r = rest_at + c + 1..rest_at + at;
    let pass = super::common::percent_decode(&url[r.clone()], false);
    let span = Span::new(field, r);
    out.masks.push(span.clone());
    if pass.is_empty() {
        return;
    }
    let user = super::common::percent_decode(user, false);
    let f = password_finding(
        LeakKind::UrlToken,
        &pass,
        Some(&user),
        format!("{where_} userinfo"),
        "password in the URL's user:password@ (also ends up in proxy logs)".into(),
    );
    out.push(f.at(span));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::SecretClass;

    fn query(target: &str) -> Vec<(String, Option<String>, SecretClass)> {
        let mut out = Found::default();
        detect(target, "request", Field::Target, Timestamp::ZERO, &mut out);
        out.findings.iter().map(|f| (f.secret.expose().to_string(), f.plain_user(), f.class)).collect()
    }

    fn pw(secret: &str, user: Option<&str>) -> (String, Option<String>, SecretClass) {
        (secret.to_string(), user.map(str::to_string), SecretClass::Password)
    }

    #[test]
    fn query_passwords_under_any_common_name_with_the_user_beside_them() {
        let ws = "/weatherstation/updateweatherstation.php?ID=KCASANFR5&PASSWORD=Wx-St4tion&dateutc=now&tempf=70.5";
        assert_eq!(query(ws), [pw("Wx-St4tion", Some("KCASANFR5"))]);
        let cam = "/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=Cam-9pw";
        assert_eq!(query(cam), [pw("Cam-9pw", Some("admin"))]);
        assert_eq!(query("/goform/login?username=admin&passwd=r0uter"), [pw("r0uter", Some("admin"))]);
        assert_eq!(query("/login.cgi?Login=root&Pass=toor1"), [pw("toor1", Some("root"))]);
        assert_eq!(query("/cgi?loginuse=admin&loginpass=888888"), [pw("888888", Some("admin"))]);
        assert_eq!(query("/api?admin_pwd=x"), [pw("x", None)]);
    }

    #[test]
    fn query_names_that_only_look_like_passwords_are_not() {
        for t in [
            "/account?password_reset=1",
            "/map?pin=1234",
            "/c?compass=north&bypass=1",
            "/visa?passport=X1234567",
            "/item?id=5&page=2",
            "/login?forgot_password=yes",
            "/signup?passwordless=true",
        ] {
            assert!(query(t).is_empty(), "{t}: {:?}", query(t));
        }
    }

    fn userinfo_of(url: &str) -> Vec<(String, Option<String>, LeakKind)> {
        let mut out = Found::default();
        userinfo_in(url, Field::Target, "request target", Timestamp::ZERO, &mut out);
        out.findings.iter().map(|f| (f.secret.expose().to_string(), f.plain_user(), f.kind)).collect()
    }

    #[test]
    fn userinfo_password_and_a_token_as_the_user_part() {
        assert_eq!(
            userinfo_of("http://alice:s3cr%40t@proxy.lab:3128/x?y=1"),
            [("s3cr@t".to_string(), Some("alice".to_string()), LeakKind::UrlToken)]
        );
        assert_eq!(
            userinfo_of("ftp://anon:guest-pw@ftp.lab/pub/"),
            [("guest-pw".to_string(), Some("anon".to_string()), LeakKind::UrlToken)]
        );
        let tok = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        assert_eq!(userinfo_of(&format!("http://{tok}@git.lab/r.git")), [(tok.to_string(), None, LeakKind::UrlToken)]);
        // A plain user name alone, an e-mail in the path, an empty password: nothing.
        assert!(userinfo_of("http://alice@host.lab/").is_empty());
        assert!(userinfo_of("http://host.lab/u/a@b.c").is_empty());
        assert!(userinfo_of("http://alice:@host.lab/").is_empty());
    }
}
