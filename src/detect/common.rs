//! Shared helpers of the detectors: field-name rules, decoding, payload checks.

use std::ops::Range;

use super::jwt::{self, JwtInfo};
use super::{Confidence, Finding, LeakKind, SecretClass};
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

/// Lower-case `name` and drop everything but letters and digits (`X-Api-Key` -> `xapikey`,
/// `user[password]` -> `userpassword`), so that one rule covers every spelling.
pub fn norm(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// [`norm`] into a stack buffer: no allocation, for the per-header hot path. Names longer than the
/// buffer are truncated (no credential header name is that long).
pub fn norm_buf<'a>(name: &str, buf: &'a mut [u8; 48]) -> &'a str {
    let mut n = 0;
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() && n < buf.len() {
            buf[n] = b.to_ascii_lowercase();
            n += 1;
        }
    }
    std::str::from_utf8(&buf[..n]).unwrap_or("")
}

/// The last component of a structured field name: `user[password]` -> `password`, `creds.pass` -> `pass`.
pub fn leaf(name: &str) -> &str {
    let n = name.trim_end_matches(']');
    n.rsplit(['[', '.']).next().unwrap_or(n)
}

/// Words that make a password-like name *not* a password (`password_hint`, `forgot_password`).
const NOT_PASSWORD: &[&str] = &[
    "hint",
    "reset",
    "forgot",
    "less",
    "policy",
    "strength",
    "expir",
    "length",
    "required",
    "rule",
    "meter",
    "visible",
    "show",
    "type",
    "label",
    "placeholder",
    "field",
    "changed",
    "lastchange",
    "salt",
    "hash",
    "algo",
];

/// Password-like field names, matched on the normalised leaf.
pub fn is_password_name(name: &str) -> bool {
    let n = norm(leaf(name));
    if n.is_empty() || NOT_PASSWORD.iter().any(|w| n.contains(w)) {
        return false;
    }
    matches!(
        n.as_str(),
        "password"
            | "passwd"
            | "pass"
            | "pwd"
            | "passphrase"
            | "pin"
            | "pswd"
            | "passw"
            | "passcode"
            | "secret"
            | "userpass"
            | "psw"
    ) || n.ends_with("password")
        || n.ends_with("passwd")
        || n.starts_with("password")
        || ["user", "login", "admin", "root", "db", "new", "old", "my", "wifi", "current", "confirm"]
            .iter()
            .any(|p| n.strip_suffix("pass") == Some(p))
        || n.ends_with("pwd")
}

/// User-like field names.
pub fn is_user_name(name: &str) -> bool {
    let n = norm(leaf(name));
    matches!(
        n.as_str(),
        "user"
            | "username"
            | "usr"
            | "login"
            | "loginname"
            | "loginid"
            | "email"
            | "mail"
            | "emailaddress"
            | "account"
            | "accountname"
            | "uid"
            | "userid"
            | "uname"
            | "log"
            | "jusername"
            | "identifier"
            | "principal"
            | "phone"
            | "name"
            | "nick"
            | "handle"
    ) || n.ends_with("username")
        || n.ends_with("email")
        || n.ends_with("login")
}

/// Values that are attack payloads, not passwords someone typed: injection, traversal, Log4Shell, XSS.
///
/// Only the shapes of a payload count, never a lone character: a password may well contain a
/// backtick, `&&`, `$`, `;` or `|` (random generators use them), and a password rated low confidence is
/// not reported. A command injection needs a command after its separator (`;cat `, `| id`), a
/// substitution needs its closing half (`$(id)`, `` `id` `` around a word).
pub fn is_attack_payload(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    const MARKS: &[&str] = &[
        "${jndi:",
        "${env:",
        "${::-",
        ";cat ",
        "|cat ",
        "; cat ",
        "| cat ",
        "; ls",
        ";ls ",
        "; id",
        "| id",
        "/etc/passwd",
        "/etc/shadow",
        "../../",
        "..\\..\\",
        "<script",
        "javascript:",
        "onerror=",
        "' or ",
        "\" or ",
        "' or'",
        "or 1=1",
        "union select",
        "sleep(",
        "waitfor delay",
        "%00",
        "{{7*7",
        "<?php",
        "cmd.exe",
        "/bin/sh",
        "/bin/bash",
        "$(id)",
        "$(whoami)",
        "`id`",
        "`whoami`",
        "&& id",
        "&& whoami",
        "&& cat ",
    ];
    MARKS.iter().any(|m| l.contains(m))
}

/// Percent-decoding (and `+` as space for forms), lossy on invalid UTF-8.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One `name=value` of a query or form, decoded, with the byte range of its value on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub name: String,
    pub value: String,
    pub range: Range<usize>,
}

/// Parameters kept per query or form (a query of 10,000 parameters is not a login).
pub const MAX_PAIRS: usize = 512;

/// `a=1&b=2` (bytes at offset `base` of their field) into decoded pairs with the span of each value.
pub fn pairs(b: &[u8], base: usize) -> Vec<Pair> {
    let mut out = Vec::new();
    let mut at = 0;
    for p in b.split(|&c| c == b'&') {
        let start = at;
        at += p.len() + 1;
        if p.is_empty() {
            continue;
        }
        if out.len() >= MAX_PAIRS {
            break;
        }
        let (k, v, voff) = match memchr::memchr(b'=', p) {
            Some(eq) => (&p[..eq], &p[eq + 1..], eq + 1),
            None => (p, &p[p.len()..], p.len()),
        };
        let name = percent_decode_bytes(k, true);
        let value = percent_decode_bytes(v, true);
        out.push(Pair { name, value, range: base + start + voff..base + start + p.len() });
    }
    out
}

/// [`percent_decode`] over bytes.
pub fn percent_decode_bytes(b: &[u8], plus_is_space: bool) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => percent_decode(s, plus_is_space),
        Err(_) => percent_decode(&String::from_utf8_lossy(b), plus_is_space),
    }
}

/// `a=1&b=2` into decoded pairs (bounded).
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    pairs(s.as_bytes(), 0).into_iter().map(|p| (p.name, p.value)).collect()
}

/// The trimmed part of `b[range]` (ASCII whitespace off both ends), as a range.
pub fn trim_range(b: &[u8], range: Range<usize>) -> Range<usize> {
    let (mut s, mut e) = (range.start, range.end.min(b.len()));
    while s < e && b[s].is_ascii_whitespace() {
        s += 1;
    }
    while e > s && b[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    s..e
}

/// A value plausible as a token: long enough, no spaces, not a word or a number.
pub fn looks_like_token(v: &str) -> bool {
    v.len() >= 8
        && v.len() <= 16 * 1024
        && !v.contains(char::is_whitespace)
        && !v.bytes().all(|b| b.is_ascii_digit())
        && v.bytes().filter(|b| b.is_ascii_alphanumeric()).count() * 2 >= v.len()
}

/// Credentials whose *format* says what they are, whatever the parameter or header is called:
/// Google API keys (`AIza` + 35), AWS access key ids (`AKIA`/`ASIA` + 16), GitHub tokens (`ghp_`,
/// `gho_`, `ghu_`, `ghs_`, `github_pat_`), Slack tokens (`xoxb-`, `xoxp-`, ...), Stripe secret keys
/// (`sk_live_`), GitLab personal tokens (`glpat-`).
pub fn known_key_format(v: &str) -> Option<&'static str> {
    let tokenish = |rest: &str, min: usize| {
        rest.len() >= min && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if let Some(r) = v.strip_prefix("AIza") {
        return (r.len() == 35 && tokenish(r, 35)).then_some("Google API key");
    }
    if let Some(r) = v.strip_prefix("AKIA").or_else(|| v.strip_prefix("ASIA")) {
        return (r.len() == 16 && r.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
            .then_some("AWS access key id");
    }
    for (p, what, min) in [
        ("ghp_", "GitHub token", 30),
        ("gho_", "GitHub token", 30),
        ("ghu_", "GitHub token", 30),
        ("ghs_", "GitHub token", 30),
        ("github_pat_", "GitHub token", 30),
        ("xoxb-", "Slack token", 20),
        ("xoxp-", "Slack token", 20),
        ("xoxa-", "Slack token", 20),
        ("sk_live_", "Stripe secret key", 20),
        ("glpat-", "GitLab token", 20),
    ] {
        if let Some(r) = v.strip_prefix(p) {
            return tokenish(r, min).then_some(what);
        }
    }
    None
}

/// At most `n` characters of `s` (with `…` when cut): user-controlled text in evidence stays short.
pub fn short(s: &str, n: usize) -> String {
    let total = s.chars().count();
    if total <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n).collect();
    out.push_str(&format!("…({total} chars)"));
    out
}

/// The famous example token of jwt.io and countless tutorials: documentation, not a leak.
pub fn is_example_jwt(info: &JwtInfo) -> bool {
    info.sub.as_deref() == Some("1234567890") && info.claims_json.contains("John Doe")
}

/// A token finding: JWT analysis attached when it is one, `sub` as the user when no better one is known.
#[allow(clippy::too_many_arguments)]
pub fn token_finding(
    kind_jwt: LeakKind,
    kind_opaque: LeakKind,
    secret: &str,
    user: Option<Text>,
    location: String,
    evidence: &str,
    ts: Timestamp,
) -> Finding {
    let info = jwt::analyse(secret, ts);
    let (kind, confidence) = match &info {
        Some(j) if is_example_jwt(j) => (kind_jwt, Confidence::Low),
        Some(_) => (kind_jwt, Confidence::High),
        None => (kind_opaque, Confidence::High),
    };
    let evidence = match &info {
        Some(j) => {
            let alg = short(j.alg.as_deref().unwrap_or_default(), 16);
            let who = j.sub.as_deref().map(|s| format!(" for sub {}", short(s, 64))).unwrap_or_default();
            let what = if j.encrypted { "JWE" } else { "JWT" };
            format!("{}, {what} ({alg}){who}", evidence.trim_end_matches([';', ':']))
        }
        None => evidence.trim_end_matches([';', ':']).to_string(),
    };
    Finding {
        kind,
        class: SecretClass::Token,
        confidence,
        secret: Secret::new(secret),
        // A JWT's `sub` names who the token is for: plain text, not a user name that could be a secret.
        user: user.or_else(|| info.as_ref().and_then(|j| j.sub.as_deref()).map(|s| Text::lit(short(s, 256)))),
        location,
        evidence,
        jwt: info.map(Box::new),
        login: None,
        span: None,
    }
}

pub fn password_finding(
    kind: LeakKind,
    password: &str,
    user: Option<&str>,
    location: String,
    evidence: String,
) -> Finding {
    Finding {
        kind,
        class: SecretClass::Password,
        confidence: if is_attack_payload(password) { Confidence::Low } else { Confidence::High },
        secret: Secret::new(password),
        user: user_text(user),
        location,
        evidence,
        jwt: None,
        login: None,
        span: None,
    }
}

/// A user name as found (bounded: a hostile one can be any length), `None` when empty.
pub fn user_text(user: Option<&str>) -> Option<Text> {
    user.filter(|u| !u.is_empty()).map(|u| Text::user(&short(u, 256)))
}

/// Whether a user name is really a secret by its shape: a JWT, a key of a known format, or a long
/// token-like value (an API key sent as the Basic user, a GitHub token as the FTP user).
pub fn user_is_secret_shaped(u: &str) -> bool {
    let uuid = u.len() == 36 && u.bytes().enumerate().all(|(i, b)| matches!(i, 8 | 13 | 18 | 23) == (b == b'-'));
    let long_token = u.len() >= 24
        && !uuid
        && looks_like_token(u)
        && !u.contains('@')
        && u.bytes().any(|b| b.is_ascii_digit())
        && u.bytes().any(|b| b.is_ascii_alphabetic());
    jwt::is_jwt(u) || known_key_format(u).is_some() || long_token
}

/// Turn every user-name part of `u` that is shaped as a secret into a slot.
pub fn mask_secret_user(u: &mut Text) {
    let shaped: Vec<String> = u.users().filter(|x| user_is_secret_shaped(x)).map(str::to_string).collect();
    for x in shaped {
        u.mask_user(&x, &Secret::new(&x));
    }
}

/// Header fields that can carry a credential by their name: the ones HTTP keeps past its head cap
/// (`http::Config::keep_header`). Authorization schemes, cookies, API-key and token headers, a
/// redirect's Location (a token in its query).
pub fn header_wanted(name: &str) -> bool {
    let mut buf = [0u8; 48];
    let n = norm_buf(name, &mut buf);
    matches!(n, "authorization" | "proxyauthorization" | "cookie" | "setcookie" | "location")
        || super::api_key::API_KEY_HEADERS.contains(&n)
        || ["token", "secret", "passw", "apikey", "session", "signature", "credential", "xauth"]
            .iter()
            .any(|w| memchr::memmem::find(n.as_bytes(), w.as_bytes()).is_some())
        || super::api_key::header_word(name, n).is_some()
}

/// Request body fields the login detector reads (`http::Config::body_field`): password-like and
/// user-like names, the OAuth2 fields of a token request, and names of the general rule.
pub fn body_field_wanted(name: &str) -> bool {
    is_password_name(name)
        || is_user_name(name)
        || matches!(norm(leaf(name)).as_str(), "clientsecret" | "refreshtoken" | "granttype")
        || super::login::general_key(leaf(name))
}

/// Response body fields the response-token detector reads (`http::Config::response_field`).
pub fn response_field_wanted(name: &str) -> bool {
    super::response_token::TOKEN_KEYS.contains(&norm(name).as_str()) || super::response_token::general_key(None, name)
}

/// Response bodies worth reading (`http::Config::keep_response_body`): structured or textual, never
/// media or binaries, by Content-Type.
pub fn response_body_wanted(content_type: Option<&[u8]>) -> bool {
    let Some(ct) = content_type else { return true };
    let has = |w: &[u8]| ct.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
    has(b"json")
        || (ct.len() >= 10 && ct[..10].eq_ignore_ascii_case(b"text/plain"))
        || has(b"x-www-form-urlencoded")
        || has(b"jwt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_names_match_compounds_but_not_hints_or_resets() {
        for n in [
            "password",
            "Passwd",
            "pwd",
            "user[password]",
            "new_password",
            "login_password",
            "j_password",
            "pass",
            "confirm_password",
            "Password1",
        ] {
            assert!(is_password_name(n), "{n}");
        }
        for n in [
            "password_hint",
            "passwordless",
            "forgot_password",
            "password_reset",
            "compass",
            "bypass_cache",
            "username",
            "passport",
        ] {
            assert!(!is_password_name(n), "{n}");
        }
    }

    #[test]
    fn attack_payloads_are_recognised() {
        assert!(is_attack_payload(";cat /etc/passwd"));
        assert!(is_attack_payload("${jndi:ldap://x/a}"));
        assert!(is_attack_payload("' or 1=1 --"));
        assert!(!is_attack_payload("Hunter2!correct-horse"));
        // Shell characters alone are not an attack: generated passwords use them.
        for pw in ["pa`ss", "a&&b$c", "$ecret!", "x;y|z", "S3c$(r)t", "{{braces}}", "../x"] {
            assert!(!is_attack_payload(pw), "{pw}");
        }
        assert!(is_attack_payload("a; cat /etc/hosts") && is_attack_payload("$(id)") && is_attack_payload("`id`"));
    }

    #[test]
    fn percent_decoding_handles_plus_and_bad_escapes() {
        assert_eq!(percent_decode("a%20b+c%zz%", true), "a b c%zz%");
        assert_eq!(percent_decode("a+b", false), "a+b");
    }
}
