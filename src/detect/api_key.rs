//! API-key headers, and any other request header carrying a JWT.
//!
//! The list below is matched case-insensitively and ignoring `-`/`_`. CSRF tokens (`X-CSRF-Token`,
//! `X-XSRF-Token`) are not credentials: they only prove a page was loaded, and they are not in it.

use super::common::{norm_buf, token_finding, trim_range};
use super::{Field, Found, LeakKind, Span, jwt};
use crate::http::Headers;
use crate::time::Timestamp;

/// Normalised names (letters and digits, lower case) of headers that carry API keys or tokens.
pub const API_KEY_HEADERS: &[&str] = &[
    "xapikey",
    "apikey",
    "xapitoken",
    "apitoken",
    "xauthtoken",
    "xaccesstoken",
    "xsessiontoken",
    "xtoken",
    "xamzsecuritytoken",
    "privatetoken",
    "xauth",
    "xsecret",
    "xclientsecret",
    "xgoogapikey",
    "ocpapimsubscriptionkey",
    "xfunctionskey",
    "xvaulttoken",
    "xconsultoken",
    "xjfrogartapi",
    "xshopifyaccesstoken",
    "xrefreshtoken",
    "xidtoken",
    "xusertoken",
    "xapptoken",
    "xapisecret",
    "authtoken",
    "accesstoken",
    "xaccesskey",
    "xsessionid",
    "sessionid",
    "xpassword",
    "xapipassword",
];

/// Headers owned by other detectors or never credentials.
const SKIP: &[&str] =
    &["authorization", "proxyauthorization", "cookie", "xcsrftoken", "xxsrftoken", "csrftoken", "referer"];

pub fn detect(headers: &Headers, ts: Timestamp, out: &mut Found) {
    let mut buf = [0u8; 48];
    for (i, (name, value)) in headers.iter().enumerate() {
        let n = norm_buf(name, &mut buf);
        if SKIP.contains(&n) {
            continue;
        }
        let is_key_header = API_KEY_HEADERS.contains(&n);
        // Most headers are neither key headers nor carriers of a token: decide before converting.
        if !is_key_header && !could_hold_key(value) {
            continue;
        }
        let r = trim_range(value, 0..value.len());
        let v = String::from_utf8_lossy(&value[r.clone()]);
        let span = Span::new(Field::Header(i), r);
        if is_key_header {
            // Whatever it holds, a key header's value is not shown.
            out.masks.push(span.clone());
            if v.len() >= 6 && !v.contains(char::is_whitespace) {
                let f = token_finding(
                    LeakKind::ApiKeyHeader,
                    LeakKind::ApiKeyHeader,
                    &v,
                    None,
                    format!("header {}", super::common::short(name, 64)),
                    "API key header",
                    ts,
                );
                out.push(f.at(span));
            }
            continue;
        }
        if let Some(what) = super::common::known_key_format(&v) {
            let f = token_finding(
                LeakKind::ApiKeyHeader,
                LeakKind::ApiKeyHeader,
                &v,
                None,
                format!("header {}", super::common::short(name, 64)),
                what,
                ts,
            );
            out.push(f.at(span));
            continue;
        }
        if value.len() >= 16 && memchr::memmem::find(value, b"eyJ").is_some() {
            for (s, e) in jwt::find_all(value) {
                let tok = String::from_utf8_lossy(&value[s..e]);
                let f = token_finding(
                    LeakKind::ApiKeyHeader,
                    LeakKind::ApiKeyHeader,
                    &tok,
                    None,
                    format!("header {}", super::common::short(name, 64)),
                    "token in a custom header:",
                    ts,
                );
                out.push(f.at(Span::new(Field::Header(i), s..e)));
            }
        }
    }
}

/// Cheap pre-check for a JWT (`eyJ`) or a well-known key prefix in a header value.
fn could_hold_key(value: &[u8]) -> bool {
    value.len() >= 16
        && (memchr::memmem::find(value, b"eyJ").is_some()
            || [
                &b"AIza"[..],
                b"AKIA",
                b"ASIA",
                b"ghp_",
                b"gho_",
                b"ghu_",
                b"ghs_",
                b"github_pat_",
                b"xox",
                b"sk_live_",
                b"glpat-",
            ]
            .iter()
            .any(|p| value.starts_with(p)))
}
