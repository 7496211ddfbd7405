//! API-key headers, and any other request header carrying a JWT.
//!
//! The list below is matched case-insensitively and ignoring `-`/`_`. CSRF tokens (`X-CSRF-Token`,
//! `X-XSRF-Token`) are not credentials: they only prove a page was loaded, and they are not in it.

use super::common::{norm, token_finding};
use super::{Finding, LeakKind, jwt};
use crate::http::Headers;
use crate::time::Timestamp;

/// Normalised names (letters and digits, lower case) of headers that carry API keys or tokens.
pub const API_KEY_HEADERS: &[&str] = &[
    "xapikey", "apikey", "xapitoken", "apitoken", "xauthtoken", "xaccesstoken", "xsessiontoken", "xtoken",
    "xamzsecuritytoken", "privatetoken", "xauth", "xsecret", "xclientsecret", "xgoogapikey",
    "ocpapimsubscriptionkey", "xfunctionskey", "xvaulttoken", "xconsultoken", "xjfrogartapi",
    "xshopifyaccesstoken", "xrefreshtoken", "xidtoken", "xusertoken", "xapptoken", "xapisecret", "authtoken",
    "accesstoken", "xaccesskey", "xsessionid", "sessionid", "xpassword", "xapipassword",
];

/// Headers owned by other detectors or never credentials.
const SKIP: &[&str] = &["authorization", "proxyauthorization", "cookie", "xcsrftoken", "xxsrftoken", "csrftoken", "referer"];

pub fn detect(headers: &Headers, ts: Timestamp, out: &mut Vec<Finding>) {
    for (name, value) in headers.iter() {
        let n = norm(name);
        if SKIP.contains(&n.as_str()) {
            continue;
        }
        let v = String::from_utf8_lossy(value);
        let v = v.trim();
        if API_KEY_HEADERS.contains(&n.as_str()) {
            if v.len() >= 6 {
                out.push(token_finding(LeakKind::ApiKeyHeader, LeakKind::ApiKeyHeader, v, None, format!("header {name}"), "API key header", ts));
            }
            continue;
        }
        if let Some(what) = super::common::known_key_format(v) {
            out.push(token_finding(LeakKind::ApiKeyHeader, LeakKind::ApiKeyHeader, v, None, format!("header {name}"), what, ts));
            continue;
        }
        // Any other header whose value is, or contains, a JWT.
        if value.len() >= 16 && memchr::memmem::find(value, b"eyJ").is_some() {
            for (s, e) in jwt::find_all(value) {
                let tok = String::from_utf8_lossy(&value[s..e]);
                out.push(token_finding(LeakKind::ApiKeyHeader, LeakKind::ApiKeyHeader, &tok, None, format!("header {name}"), "token in a custom header:", ts));
            }
        }
    }
}
