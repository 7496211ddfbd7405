//! Secrets, their fingerprints and their redacted forms.
//!
//! The fingerprint is the first 12 hex digits of SHA-256 of the secret: stable across runs and machines
//! so that alerts from two captures (or a SIEM and a ticket) can be correlated without either holding the
//! secret, and long enough that two different secrets of one capture do not collide in practice. It is
//! not a protection against guessing a short password (nothing unsalted is); passwords are therefore
//! shown with no prefix at all.

use std::fmt;

use sha2::{Digest, Sha256};

pub use crate::secret::Reveal;

/// A captured secret. `Debug` and `Display` never print it, so a log line, a panic message or a
/// `{:?}` in a test failure cannot leak it; [`Secret::expose`] is the one explicit way to read it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String, bool);

impl Secret {
    /// A token, key or cookie: its redacted form keeps a short prefix (a JWT's shape).
    pub fn new(s: String) -> Secret {
        Secret(s, false)
    }
    /// A password: its redacted form keeps no prefix at all.
    pub fn password(s: String) -> Secret {
        Secret(s, true)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }
    pub fn redacted(&self) -> String {
        if self.1 { redact_fully(&self.0) } else { redact(&self.0) }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// 12 hex digits of SHA-256.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// How many leading characters a redacted form keeps. A JWT's first 10 characters are its base64url
/// header prefix (`eyJhbGciOi`), which shows the shape and nothing secret. Short secrets (passwords,
/// PINs) keep nothing: any prefix of a password is part of the password.
fn kept_prefix(secret: &str) -> usize {
    let n = secret.chars().count();
    if n < 16 {
        0
    } else if secret.starts_with("eyJ") {
        10
    } else {
        (n / 8).min(6)
    }
}

/// `eyJhbGciOi…[212 chars, fp 3f2a9c01d4e7]`: enough to recognise, never enough to replay.
pub fn redact(secret: &str) -> String {
    let keep = kept_prefix(secret);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}…[{} chars, fp {}]", secret.chars().count(), fingerprint(secret))
}

/// `…[11 chars, fp 48486e1514e8]`: length and fingerprint only (passwords).
pub fn redact_fully(secret: &str) -> String {
    format!("…[{} chars, fp {}]", secret.chars().count(), fingerprint(secret))
}

/// Replace every occurrence of `secret` in `text` (raw, and percent-encoded as it appears in URLs) by
/// its redacted form.
pub fn scrub(text: &str, secret: &Secret) -> String {
    let s = secret.expose();
    if s.len() < 3 {
        // Too short to search for without mangling unrelated text; such values are never shown in
        // free text by the detectors either.
        return text.to_string();
    }
    let red = secret.redacted();
    let mut out = text.replace(s, &red);
    let enc = percent_encode(s);
    if enc != s {
        out = out.replace(&enc, &red);
        let plus = enc.replace("%20", "+");
        if plus != enc {
            out = out.replace(&plus, &red);
        }
    }
    out
}

/// `text` with every base64 run that decodes to something containing `secret` replaced by the secret's
/// redacted form: `Authorization: Basic dXNlcjpwYXNz` and SASL `AHVzZXIAcGFzcw==` carry a password
/// without spelling it, and a sniffed request shown in the UI must not hand it over in base64.
pub fn scrub_base64(text: &str, secret: &Secret) -> String {
    use base64::Engine as _;
    let s = secret.expose().as_bytes();
    if s.len() < 3 || text.len() < 8 {
        return text.to_string();
    }
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_b64) {
        out.push_str(&rest[..start]);
        let run_len = rest[start..].find(|c: char| !is_b64(c)).unwrap_or(rest.len() - start);
        let run = &rest[start..start + run_len];
        let decoded = if run.len() >= 8 {
            let t = run.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(t)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
                .ok()
        } else {
            None
        };
        if decoded.is_some_and(|d| d.windows(s.len()).any(|w| w == s)) {
            out.push_str(&secret.redacted());
        } else {
            out.push_str(run);
        }
        rest = &rest[start + run_len..];
    }
    out.push_str(rest);
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_that_carries_the_secret_is_scrubbed_and_other_base64_kept() {
        use base64::Engine as _;
        let pw = Secret::password("S3cure:Adm1n!".into());
        let basic = base64::engine::general_purpose::STANDARD.encode("admin:S3cure:Adm1n!");
        let sasl = base64::engine::general_purpose::STANDARD.encode("\0admin\0S3cure:Adm1n!");
        let text = format!("Authorization: Basic {basic} / C: AUTH PLAIN {sasl} / ETag: aGVsbG8gd29ybGQ=");
        let out = scrub_base64(&text, &pw);
        assert!(!out.contains(&basic) && !out.contains(&sasl), "{out}");
        assert!(out.contains("aGVsbG8gd29ybGQ="), "unrelated base64 kept: {out}");
        assert!(out.contains(&pw.redacted()));
    }

    #[test]
    fn fingerprint_is_stable_12_hex_of_sha256() {
        // sha256("password") = 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
        assert_eq!(fingerprint("password"), "5e884898da28");
    }

    #[test]
    fn redacted_password_keeps_no_prefix() {
        let r = redact("hunter2hunter2");
        assert!(r.starts_with('…'), "{r}");
        assert!(!r.contains("hunter"));
        let long = Secret::password("correct-horse-battery-staple".into()).redacted();
        assert!(long.starts_with('…'), "a long password keeps no prefix either: {long}");
    }

    #[test]
    fn redacted_jwt_keeps_header_prefix_only() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl";
        let r = redact(jwt);
        assert!(r.starts_with("eyJhbGciOi…"), "{r}");
        assert!(!r.contains("eyJzdWIi"));
        assert!(r.contains(&fingerprint(jwt)));
    }

    #[test]
    fn debug_of_secret_never_shows_it() {
        let s = Secret::new("s3cr3t-value-that-is-long".into());
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(!format!("{s}").contains("s3cr3t"));
    }

    #[test]
    fn scrub_replaces_raw_and_percent_encoded_occurrences() {
        let s = Secret::new("a b/c+d=secret".into());
        let text = "GET /x?t=a%20b%2Fc%2Bd%3Dsecret&u=a+b%2Fc%2Bd%3Dsecret raw a b/c+d=secret";
        let out = scrub(text, &s);
        assert!(!out.contains("secret&"), "{out}");
        assert!(!out.contains("d=secret"), "{out}");
        assert_eq!(out.matches("fp ").count(), 3, "{out}");
    }
}
