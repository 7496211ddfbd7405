//! JWT analysis: decode, never verify (there is no key), and say how long it can be replayed.
//!
//! Deliberately not the `jsonwebtoken` crate: it refuses `alg: none`, exactly the token we most need
//! to flag. A JWS is `header.payload.signature`, each base64url; a JWE has five parts and an encrypted
//! payload, so only its header is readable, but it is still a bearer token: replayable as is.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::{Timestamp, human_duration};

/// Whether the token could be replayed at capture time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Validity {
    /// `exp` is after the capture time: replayable for `remaining_secs`.
    Valid { remaining_secs: i64, text: String },
    /// `exp` was before the capture time.
    Expired { ago_secs: i64, text: String },
    /// `nbf` is after the capture time.
    NotYetValid { in_secs: i64, text: String },
    /// No `exp` claim: replayable until the server revokes it.
    NoExpiry { text: String },
}

/// Decoded header and the claims that matter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JwtInfo {
    pub alg: Option<String>,
    pub typ: Option<String>,
    pub kid: Option<String>,
    /// `alg: none` (an unsigned token a server should never accept).
    pub alg_none: bool,
    /// HS256/384/512: shared-secret signature, offline brute-forceable.
    pub symmetric: bool,
    /// A JWE (five parts): encrypted payload, still replayable.
    pub encrypted: bool,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<String>,
    pub scope: Option<String>,
    pub roles: Vec<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub validity: Validity,
    /// The decoded header and claims JSON (for the detail view).
    #[serde(skip)]
    pub header_json: String,
    #[serde(skip)]
    pub claims_json: String,
}

/// Longest token analysed; real JWTs are rarely above 4 KiB.
const MAX_TOKEN: usize = 16 * 1024;

fn b64url(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok().or_else(|| URL_SAFE.decode(part).ok())
}

fn is_b64url(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
}

/// The header of `token` when it is shaped as a JWS (3 parts) or JWE (5 parts) whose first part is a
/// JSON object with `alg`. This is the shape test used everywhere: not the `eyJ` prefix alone.
pub fn header(token: &str) -> Option<(serde_json::Map<String, Value>, usize)> {
    if token.len() > MAX_TOKEN || token.len() < 16 {
        return None;
    }
    let parts: Vec<&str> = token.split('.').collect();
    let n = parts.len();
    if n != 3 && n != 5 {
        return None;
    }
    // The signature may be empty (alg none); header and payload may not.
    if !is_b64url(parts[0]) || !is_b64url(parts[1]) || (n == 3 && !parts[2].is_empty() && !is_b64url(parts[2])) {
        return None;
    }
    let h: Value = serde_json::from_slice(&b64url(parts[0])?).ok()?;
    let h = h.as_object()?.clone();
    h.get("alg")?.as_str()?;
    if n == 5 && h.get("enc").and_then(Value::as_str).is_none() {
        return None;
    }
    Some((h, n))
}

/// Whether `token` is shaped as a JWT (see [`header`]).
pub fn is_jwt(token: &str) -> bool {
    header(token).is_some()
}

fn num(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        Some(Value::String(s)) => s.split([' ', ',']).filter(|x| !x.is_empty()).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Analyse `token` as seen at `capture_ts`. `None` when it is not shaped as a JWT/JWE.
pub fn analyse(token: &str, capture_ts: Timestamp) -> Option<JwtInfo> {
    let (h, parts) = header(token)?;
    let encrypted = parts == 5;
    let claims: serde_json::Map<String, Value> = if encrypted {
        serde_json::Map::new()
    } else {
        let p = token.split('.').nth(1)?;
        match serde_json::from_slice::<Value>(&b64url(p)?).ok()? {
            Value::Object(m) => m,
            _ => return None,
        }
    };
    let alg = h.get("alg").and_then(Value::as_str).map(str::to_string);
    let alg_none = alg.as_deref().is_some_and(|a| a.eq_ignore_ascii_case("none"));
    let symmetric = alg.as_deref().is_some_and(|a| a.to_ascii_uppercase().starts_with("HS"));
    let mut roles = strings(claims.get("roles"));
    roles.extend(strings(claims.get("role")));
    roles.extend(strings(claims.get("groups")));
    roles.extend(strings(claims.get("authorities")));
    if let Some(Value::Object(ra)) = claims.get("realm_access") {
        roles.extend(strings(ra.get("roles")));
    }
    roles.dedup();
    let (iat, nbf, exp) = (num(claims.get("iat")), num(claims.get("nbf")), num(claims.get("exp")));
    let now = capture_ts.secs();
    // Claims are chosen by whoever minted (or forged) the token: `exp` may be near either end of i64.
    // Every difference saturates instead of wrapping into a negative "remaining" time.
    let validity = match (exp, nbf) {
        (_, Some(nbf)) if nbf > now => Validity::NotYetValid {
            in_secs: nbf.saturating_sub(now),
            text: format!("not valid for another {}", human_duration(nbf.saturating_sub(now))),
        },
        (Some(exp), _) if exp > now => Validity::Valid {
            remaining_secs: exp.saturating_sub(now),
            text: format!("replayable for {}", human_duration(exp.saturating_sub(now))),
        },
        (Some(exp), _) => Validity::Expired {
            ago_secs: now.saturating_sub(exp),
            text: format!("expired {} before capture", human_duration(now.saturating_sub(exp))),
        },
        (None, _) => Validity::NoExpiry { text: "never expires (no exp claim): replayable until revoked".into() },
    };
    Some(JwtInfo {
        alg,
        typ: h.get("typ").and_then(Value::as_str).map(str::to_string),
        kid: h.get("kid").and_then(Value::as_str).map(str::to_string),
        alg_none,
        symmetric,
        encrypted,
        iss: text(claims.get("iss")),
        sub: text(claims.get("sub")),
        aud: text(claims.get("aud")),
        scope: text(claims.get("scope")).or_else(|| text(claims.get("scp"))),
        roles,
        iat,
        nbf,
        exp,
        validity,
        header_json: serde_json::to_string_pretty(&Value::Object(h)).unwrap_or_default(),
        claims_json: serde_json::to_string_pretty(&Value::Object(claims)).unwrap_or_default(),
    })
}

/// Find JWT-shaped substrings in `hay` (for scanning paths and bodies): byte ranges. Candidates start
/// at `eyJ` (the base64url of `{"`), found with memchr's SIMD search, and are then confirmed by
/// [`header`], so the prefix alone never decides.
pub fn find_all(hay: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let finder = memchr::memmem::Finder::new(b"eyJ");
    let mut from = 0;
    while let Some(i) = finder.find(&hay[from..]) {
        let start = from + i;
        let mut end = start;
        while end < hay.len() && (hay[end].is_ascii_alphanumeric() || matches!(hay[end], b'-' | b'_' | b'.' | b'=')) {
            end += 1;
        }
        let cand = std::str::from_utf8(&hay[start..end]).unwrap_or("").trim_end_matches('.');
        if is_jwt(cand) {
            out.push((start, start + cand.len()));
        }
        from = end.max(start + 3);
        if out.len() >= 16 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(header: &str, claims: &str) -> String {
        format!("{}.{}.c2ln", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims))
    }

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn valid_token_says_how_long_it_is_replayable() {
        let t = tok(
            r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#,
            &format!(
                r#"{{"sub":"alice","iss":"shop","aud":["a","b"],"scope":"orders:read","roles":["admin","user"],"iat":{},"exp":{}}}"#,
                NOW - 10,
                NOW + 23 * 3600 + 12 * 60
            ),
        );
        let j = analyse(&t, Timestamp::from_secs(NOW)).unwrap();
        assert_eq!(j.alg.as_deref(), Some("HS256"));
        assert!(j.symmetric && !j.alg_none && !j.encrypted);
        assert_eq!(j.sub.as_deref(), Some("alice"));
        assert_eq!(j.aud.as_deref(), Some("a b"));
        assert_eq!(j.kid.as_deref(), Some("k1"));
        assert_eq!(j.roles, vec!["admin", "user"]);
        assert_eq!(
            j.validity,
            Validity::Valid { remaining_secs: 23 * 3600 + 12 * 60, text: "replayable for 23 h 12 min".into() }
        );
    }

    #[test]
    fn expired_token_says_how_long_before_capture() {
        let t = tok(r#"{"alg":"RS256"}"#, &format!(r#"{{"sub":"b","exp":{}}}"#, NOW - 3 * 86_400));
        let j = analyse(&t, Timestamp::from_secs(NOW)).unwrap();
        assert_eq!(
            j.validity,
            Validity::Expired { ago_secs: 3 * 86_400, text: "expired 3 days before capture".into() }
        );
    }

    #[test]
    fn token_without_exp_never_expires_and_nbf_in_future_is_not_yet_valid() {
        let t = tok(r#"{"alg":"ES256"}"#, r#"{"sub":"c"}"#);
        assert!(matches!(analyse(&t, Timestamp::from_secs(NOW)).unwrap().validity, Validity::NoExpiry { .. }));
        let t = tok(r#"{"alg":"ES256"}"#, &format!(r#"{{"nbf":"{}","exp":{}.5}}"#, NOW + 600, NOW + 6000));
        let j = analyse(&t, Timestamp::from_secs(NOW)).unwrap();
        assert!(matches!(j.validity, Validity::NotYetValid { in_secs: 600, .. }));
        assert_eq!(j.exp, Some(NOW + 6000));
    }

    #[test]
    fn alg_none_is_flagged_and_unsigned_tokens_parse() {
        let t = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#)
        );
        let j = analyse(&t, Timestamp::from_secs(NOW)).unwrap();
        assert!(j.alg_none);
    }

    #[test]
    fn jwe_has_header_only_and_is_encrypted() {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
        let t = format!("{h}.ZW5jcnlwdGVka2V5.aXZpdml2.Y2lwaGVydGV4dA.dGFndGFn");
        let j = analyse(&t, Timestamp::from_secs(NOW)).unwrap();
        assert!(j.encrypted);
        assert!(matches!(j.validity, Validity::NoExpiry { .. }));
    }

    #[test]
    fn shape_not_prefix_decides() {
        // eyJ prefix but the header has no alg.
        assert!(!is_jwt(&tok(r#"{"typ":"JWT"}"#, r#"{"sub":"x"}"#)));
        // Three dotted base64 parts that are not JSON.
        assert!(!is_jwt("eyJub3Rqc29u.cGF5bG9hZA.c2ln"));
        assert!(!is_jwt("a.b.c"));
        assert!(is_jwt(&tok(r#"{"alg":"HS256"}"#, r#"{"sub":"x"}"#)));
    }

    #[test]
    fn exp_and_nbf_near_the_i64_limits_saturate_instead_of_wrapping() {
        for (claims, check) in [
            (format!(r#"{{"exp":{}}}"#, i64::MIN), "expired"),
            (format!(r#"{{"exp":{}}}"#, i64::MAX), "valid"),
            (r#"{"exp":-1e300}"#.to_string(), "expired"),
            (r#"{"exp":1e300}"#.to_string(), "valid"),
            (format!(r#"{{"nbf":{}}}"#, i64::MAX), "not yet"),
        ] {
            let j = analyse(&tok(r#"{"alg":"HS256"}"#, &claims), Timestamp::from_secs(NOW)).unwrap();
            match (&j.validity, check) {
                (Validity::Expired { ago_secs, .. }, "expired") => assert!(*ago_secs > 0, "{claims}: {ago_secs}"),
                (Validity::Valid { remaining_secs, .. }, "valid") => assert!(*remaining_secs > 0, "{claims}"),
                (Validity::NotYetValid { in_secs, .. }, "not yet") => assert!(*in_secs > 0, "{claims}"),
                (v, _) => panic!("{claims}: {v:?}"),
            }
        }
    }

    #[test]
    fn find_all_locates_tokens_in_text() {
        let t = tok(r#"{"alg":"HS256"}"#, r#"{"sub":"x"}"#);
        let hay = format!("/verify/{t}?x=1 and eyJnope.xx.yy");
        let found = find_all(hay.as_bytes());
        assert_eq!(found, vec![(8, 8 + t.len())]);
    }
}
