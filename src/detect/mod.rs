//! Detect: one detector per kind of leak, run on every complete HTTP message.
//!
//! Detectors are pure functions of a message and the capture time. Cheap signals come first (a header
//! name, a content type), so the common message without credentials costs a few comparisons. Each
//! finding carries the secret itself; redaction is the alert stage's job, and `evidence` never contains
//! the secret. Within one message a secret is reported once per kind, and a JWT already claimed by a
//! specific detector is not reported again as `jwt_other`.

pub mod api_key;
pub mod auth;
pub mod cleartext;
pub mod common;
pub mod cookie;
pub mod jwt;
pub mod login;
pub mod response_token;
pub mod url;

use serde::Serialize;

use crate::http::{Request, RequestLine, Response};
pub use crate::proto::{TlsNote, Verdict};
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
    HttpProxyBasic,
    FtpLogin,
    TelnetLogin,
    Pop3Login,
    ImapLogin,
    SmtpAuth,
    LdapSimpleBind,
    SnmpCommunity,
    RedisAuth,
    MqttConnect,
    PostgresCleartext,
    Socks5Login,
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
            LeakKind::HttpProxyBasic => "http_proxy_basic",
            LeakKind::FtpLogin => "ftp_login",
            LeakKind::TelnetLogin => "telnet_login",
            LeakKind::Pop3Login => "pop3_login",
            LeakKind::ImapLogin => "imap_login",
            LeakKind::SmtpAuth => "smtp_auth",
            LeakKind::LdapSimpleBind => "ldap_simple_bind",
            LeakKind::SnmpCommunity => "snmp_community",
            LeakKind::RedisAuth => "redis_auth",
            LeakKind::MqttConnect => "mqtt_connect",
            LeakKind::PostgresCleartext => "postgres_cleartext",
            LeakKind::Socks5Login => "socks5_login",
        }
    }

    /// The protocol a kind of leak crossed in (`http` for the HTTP kinds).
    pub fn protocol(self) -> &'static str {
        match self {
            LeakKind::FtpLogin => "ftp",
            LeakKind::TelnetLogin => "telnet",
            LeakKind::Pop3Login => "pop3",
            LeakKind::ImapLogin => "imap",
            LeakKind::SmtpAuth => "smtp",
            LeakKind::LdapSimpleBind => "ldap",
            LeakKind::SnmpCommunity => "snmp",
            LeakKind::RedisAuth => "redis",
            LeakKind::MqttConnect => "mqtt",
            LeakKind::PostgresCleartext => "postgres",
            LeakKind::Socks5Login => "socks5",
            _ => "http",
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
    /// For logins (other protocols, proxy Basic): the server's verdict, TLS context, the exchange.
    pub login: Option<LoginInfo>,
}

/// What a login finding knows beyond its secret.
#[derive(Clone, Debug, PartialEq)]
pub struct LoginInfo {
    /// `USER/PASS`, `AUTH PLAIN`, `simple bind`...
    pub mechanism: &'static str,
    pub verdict: Verdict,
    pub tls: TlsNote,
    /// The exchange as sniffed (contains the secret; scrubbed at output time).
    pub transcript: Vec<crate::secret::Text>,
}

/// Which detectors run, and knobs.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Also report low-confidence findings.
    pub include_low_confidence: bool,
}

/// Run every request detector.
pub fn detect_request(cfg: &Config, req: &Request, ts: Timestamp, out: &mut Vec<Finding>) {
    let start = out.len();
    auth::detect(&req.headers, ts, out);
    api_key::detect(&req.headers, ts, out);
    cookie::detect_request(&req.headers, ts, out);
    login::detect(req, ts, out);
    url::detect(&req.target, "request", ts, out);
    jwt_other(req, ts, out, start);
    finish(cfg, out, start);
}

/// Run every response detector. `req` is the request it answers when known.
pub fn detect_response(
    cfg: &Config,
    resp: &Response,
    _req: Option<&RequestLine>,
    ts: Timestamp,
    out: &mut Vec<Finding>,
) {
    let start = out.len();
    cookie::detect_response(&resp.headers, ts, out);
    for loc in resp.headers.get_all("location") {
        url::detect(&String::from_utf8_lossy(loc), "header Location", ts, out);
    }
    response_token::detect(resp, ts, out);
    finish(cfg, out, start);
}

/// JWTs anywhere else in a request (target, body), by shape, that no specific detector claimed.
fn jwt_other(req: &Request, ts: Timestamp, out: &mut Vec<Finding>, start: usize) {
    let mut found: Vec<String> = Vec::new();
    for hay in [req.target.as_bytes(), req.body.data.as_slice()] {
        if hay.len() < 16 || memchr::memmem::find(hay, b"eyJ").is_none() {
            continue;
        }
        for (s, e) in jwt::find_all(hay) {
            found.push(String::from_utf8_lossy(&hay[s..e]).into_owned());
        }
    }
    for tok in found {
        if out[start..].iter().any(|f| f.secret.contains(tok.as_str())) {
            continue;
        }
        out.push(common::token_finding(
            LeakKind::JwtOther,
            LeakKind::JwtOther,
            &tok,
            None,
            "request target or body".into(),
            "JWT in the request:",
            ts,
        ));
    }
}

/// Drop low-confidence findings unless asked for, and repeats of one (kind, secret) in a message.
fn finish(cfg: &Config, out: &mut Vec<Finding>, start: usize) {
    let mut i = start;
    while i < out.len() {
        let dup = out[start..i].iter().any(|f| f.kind == out[i].kind && f.secret == out[i].secret);
        if dup || (!cfg.include_low_confidence && out[i].confidence == Confidence::Low) {
            out.remove(i);
        } else {
            i += 1;
        }
    }
}
