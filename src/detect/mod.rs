//! Detect: one detector per kind of leak, run on every complete HTTP message.
//!
//! STUB: the detect helper implements this module. The public surface below is the contract.

pub mod jwt;

use serde::Serialize;

use crate::http::{Request, RequestLine, Response};
use crate::time::Timestamp;

/// The kinds of leak, as written in alerts (`snake_case`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakKind {
    BearerJwt,
    BearerOpaque,
    BasicAuth,
    OtherAuth,
    ApiKeyHeader,
    CookieToken,
    SetCookieInsecure,
    FormLogin,
    JsonLogin,
    UrlToken,
    LoginResponseToken,
    JwtOther,
}

impl LeakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeakKind::BearerJwt => "bearer_jwt",
            LeakKind::BearerOpaque => "bearer_opaque",
            LeakKind::BasicAuth => "basic_auth",
            LeakKind::OtherAuth => "other_auth",
            LeakKind::ApiKeyHeader => "api_key_header",
            LeakKind::CookieToken => "cookie_token",
            LeakKind::SetCookieInsecure => "set_cookie_insecure",
            LeakKind::FormLogin => "form_login",
            LeakKind::JsonLogin => "json_login",
            LeakKind::UrlToken => "url_token",
            LeakKind::LoginResponseToken => "login_response_token",
            LeakKind::JwtOther => "jwt_other",
        }
    }
}

/// How sure a detector is that the value is a live credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// What the secret is, for severity and for the replay advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretClass {
    /// A password (reusable elsewhere, does not expire).
    Password,
    /// A bearer-style token or session id (replayable until it expires).
    Token,
    /// Authentication material that is not directly replayable (Digest, NTLM, hashes).
    Material,
}

/// One credential found in one message. The pipeline adds flow and capture context to make an alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub kind: LeakKind,
    pub class: SecretClass,
    pub confidence: Confidence,
    /// The secret itself (a token, a password, a cookie value). Redacted by the alert stage.
    pub secret: String,
    /// User name when known (Basic user, login form user field, JWT `sub`).
    pub user: Option<String>,
    /// Where in the message: `header Authorization`, `cookie sid`, `form field password`, `query access_token`.
    pub location: String,
    /// Short human text, must not contain the secret.
    pub evidence: String,
    /// JWT analysis when the secret is (or carries) a JWT.
    pub jwt: Option<jwt::JwtInfo>,
}

/// Which detectors run, and knobs.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Also report low-confidence findings.
    pub include_low_confidence: bool,
}

/// Run every request detector.
pub fn detect_request(_cfg: &Config, _req: &Request, _ts: Timestamp, _out: &mut Vec<Finding>) {}

/// Run every response detector. `req` is the request it answers when known.
pub fn detect_response(
    _cfg: &Config,
    _resp: &Response,
    _req: Option<&RequestLine>,
    _ts: Timestamp,
    _out: &mut Vec<Finding>,
) {
}
