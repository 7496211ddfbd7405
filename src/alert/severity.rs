//! Severity rules (documented in README, "Severity").
//!
//! Severity answers "what can an attacker on the path do with it, now?":
//! - **critical**: a password (Basic, login forms, OAuth password grant, a password in a URL). It does not
//!   expire, and people reuse passwords.
//! - **high**: a token that was replayable at capture time: a JWT not yet expired or without `exp`, an
//!   opaque bearer token, API key or session cookie (their lifetime is unknown, so assume live), a token
//!   handed out by a login response, a session cookie set without `Secure`.
//! - **medium**: an expired or not-yet-valid JWT (it shows the scheme and the claims, and a server that
//!   does not check `exp` still takes it), and authentication material that is not directly replayable
//!   (Digest, NTLM, Negotiate).
//! - a login the server **refused** is **medium** whatever its secret: it is not the password, but it
//!   may be a near miss, and a thousand of them are a brute force in progress.
//! - an anonymous FTP login is **medium**: its password is an e-mail address by convention.
//! - **low**: low-confidence findings (shown only with `--include-low`).
//! - **info**: what is not a credential that replays but is worth knowing: the access key id of an
//!   AWS-signed request (the signature is bound to that request and expires in minutes), and the fixes
//!   seen missing (`sslstrip_window`, `hsts_missing`, `mixed_content`: the credentials they name are
//!   alerts of their own).

use serde::Serialize;

use crate::detect::jwt::Validity;
use crate::detect::{Confidence, Finding, LeakKind, SecretClass, Verdict};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn of(f: &Finding) -> Severity {
        if f.confidence == Confidence::Low {
            return Severity::Low;
        }
        if f.kind.is_fix() || f.kind == LeakKind::AwsAccessKeyId {
            return Severity::Info;
        }
        if f.login.as_ref().is_some_and(|l| l.verdict == Verdict::Refused) {
            // A refused password is not the password (but maybe a near miss, or a brute force going on).
            return Severity::Medium;
        }
        if crate::detect::cleartext::is_anonymous_ftp(f.kind, f.plain_user().as_deref()) {
            return Severity::Medium;
        }
        match f.class {
            SecretClass::Password => Severity::Critical,
            SecretClass::Material => Severity::Medium,
            SecretClass::Identifier => Severity::Info,
            SecretClass::Token => match f.jwt.as_ref().map(|j| &j.validity) {
                Some(Validity::Expired { .. }) | Some(Validity::NotYetValid { .. }) => Severity::Medium,
                _ => Severity::High,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
