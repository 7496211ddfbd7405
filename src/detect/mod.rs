//! Detect: one detector per kind of leak, run on every complete HTTP message.
//!
//! Detectors are pure functions of a message and the capture time. Cheap signals come first (a header
//! name, a content type), so the common message without credentials costs a few comparisons. Each
//! finding carries the secret itself; redaction is the alert stage's job, and `evidence` never contains
//! the secret. Within one message a secret is reported once per kind, and a JWT already claimed by a
//! specific detector is not reported again as `jwt_other`.
//!
//! A finding carries its secret as a typed [`Secret`] and, for HTTP, the [`Span`] of its wire form in
//! the message, so that [`excerpt`] can show the message with a slot there (never by searching text for
//! the value). Findings dropped for low confidence leave their span behind as a mask
//! ([`Found::masks`]): a value not worth an alert is still not shown in another alert's excerpt.
//! Detection is linear in the size of the message.

pub mod api_key;
pub mod auth;
pub mod cleartext;
pub mod common;
pub mod cookie;
pub mod excerpt;
pub mod fixes;
pub mod generic;
pub mod json;
pub mod jwt;
pub mod login;
pub mod ntlm;
pub mod response_token;
pub mod url;
pub mod verdict;
pub mod ws;

use serde::{Deserialize, Serialize};

use std::ops::Range;

use crate::http::{Request, RequestLine, Response};
pub use crate::proto::{TlsNote, Verdict};
use crate::secret::{Secret, Text};
use crate::time::Timestamp;

/// The kinds of leak, as written in alerts (`snake_case`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    AmqpLogin,
    IrcLogin,
    XmppLogin,
    NntpLogin,
    KafkaSasl,
    MysqlCleartext,
    MysqlNative,
    MemcachedSasl,
    HttpNtlm,
    RloginLogin,
    WebsocketToken,
    WebsocketLogin,
    /// A password in a request header (Swift tempauth `X-Auth-Key`/`X-Storage-Pass` beside a user header).
    HeaderPassword,
    /// The access key id of an AWS-signed request (Signature V4 or V2): not a secret that replays, but
    /// it names the account and the key.
    AwsAccessKeyId,
    /// A fix seen missing: a plaintext request that carried credentials was redirected to `https://`
    /// on the same host only after they had crossed (the sslstrip opening).
    SslstripWindow,
    /// A fix seen missing: a client that reached a name over TLS later sent plain HTTP to it (no HSTS, or
    /// HSTS ignored).
    HstsMissing,
    /// A fix seen missing: a plaintext request sent from an `https://` page (`Referer` or `Origin`) with
    /// credentials.
    MixedContent,
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
            LeakKind::AmqpLogin => "amqp_login",
            LeakKind::IrcLogin => "irc_login",
            LeakKind::XmppLogin => "xmpp_login",
            LeakKind::NntpLogin => "nntp_login",
            LeakKind::KafkaSasl => "kafka_sasl",
            LeakKind::MysqlCleartext => "mysql_cleartext",
            LeakKind::MysqlNative => "mysql_native",
            LeakKind::MemcachedSasl => "memcached_sasl",
            LeakKind::HttpNtlm => "http_ntlm",
            LeakKind::RloginLogin => "rlogin_login",
            LeakKind::WebsocketToken => "websocket_token",
            LeakKind::WebsocketLogin => "websocket_login",
            LeakKind::HeaderPassword => "header_password",
            LeakKind::AwsAccessKeyId => "aws_access_key_id",
            LeakKind::SslstripWindow => "sslstrip_window",
            LeakKind::HstsMissing => "hsts_missing",
            LeakKind::MixedContent => "mixed_content",
        }
    }

    /// The kinds that say a fix the site should have made is missing (`detect::fixes`), rather than
    /// that a credential crossed: reports list them as `fix:` lines beside the server's leaks.
    pub fn is_fix(self) -> bool {
        matches!(self, LeakKind::SslstripWindow | LeakKind::HstsMissing | LeakKind::MixedContent)
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
            LeakKind::AmqpLogin => "amqp",
            LeakKind::IrcLogin => "irc",
            LeakKind::XmppLogin => "xmpp",
            LeakKind::NntpLogin => "nntp",
            LeakKind::KafkaSasl => "kafka",
            LeakKind::MysqlCleartext | LeakKind::MysqlNative => "mysql",
            LeakKind::MemcachedSasl => "memcached",
            LeakKind::RloginLogin => "rlogin",
            LeakKind::WebsocketToken | LeakKind::WebsocketLogin => "websocket",
            _ => "http",
        }
    }
}

/// How sure a detector is that the value is a live credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// What the secret is, for severity and for the replay advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretClass {
    /// A password (reusable elsewhere, does not expire).
    Password,
    /// A bearer-style token or session id (replayable until it expires).
    Token,
    /// Authentication material that is not directly replayable (Digest, NTLM, hashes).
    Material,
    /// Names an account or a key and grants nothing by itself (an AWS access key id); the class of a
    /// fix finding whose request carried no credential.
    Identifier,
}

impl SecretClass {
    /// Crackable material (a hash or a challenge response: CRAM-MD5, SCRAM, APOP, HTTP Digest, NTLM,
    /// MySQL native password, PostgreSQL md5), not a cleartext leak: the report, the TUI and the counts
    /// show it apart, and `--fail-on-leak` does not count it (`--fail-on-material` does). The one
    /// place that decides it is the detector that made the finding (`class`), never a later stage.
    pub fn is_material(self) -> bool {
        self == SecretClass::Material
    }
}

/// Which part of an HTTP message a [`Span`] is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// The request target.
    Target,
    /// The value of the header at this index of [`crate::http::Headers`].
    Header(usize),
    /// The (decoded) body as kept by the HTTP stage.
    Body,
}

/// Where a secret's wire form lies in a message: a byte range of one field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub field: Field,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(field: Field, range: Range<usize>) -> Span {
        Span { field, range }
    }
}

/// One credential found in one message. The pipeline adds flow and capture context to make an alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub kind: LeakKind,
    pub class: SecretClass,
    pub confidence: Confidence,
    /// The secret itself (a token, a password, a cookie value), decoded.
    pub secret: Secret,
    /// User name when known (Basic user, login form user field, JWT `sub`): a [`Text`] because it may
    /// turn out to be a secret itself (a token sent as the user name), shown as a slot then.
    pub user: Option<Text>,
    /// Where in the message: `header Authorization`, `cookie sid`, `form field password`, `query access_token`.
    pub location: String,
    /// Short human text, must not contain the secret.
    pub evidence: String,
    /// JWT analysis when the secret is (or carries) a JWT.
    pub jwt: Option<Box<jwt::JwtInfo>>,
    /// For logins (other protocols, proxy Basic): the server's verdict, TLS context, the exchange.
    pub login: Option<LoginInfo>,
    /// HTTP: where the secret's wire form lies in the message (its slot in the excerpt).
    pub span: Option<Span>,
}

impl Finding {
    /// The finding, located at `span`.
    pub fn at(mut self, span: Span) -> Finding {
        self.span = Some(span);
        self
    }

    /// The user name as plain text when it is one (not a secret): for rules on well-known user names.
    pub fn plain_user(&self) -> Option<String> {
        self.user.as_ref().filter(|u| !u.has_secret()).map(Text::literal_only)
    }
}

/// What the detectors found in one message: findings, and the spans of credential-bearing values that
/// are not findings (dropped for low confidence, or masked by structure) but must not be shown either.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub findings: Vec<Finding>,
    pub masks: Vec<Span>,
    /// A request's `sslstrip_window` candidate ([`fixes::redirect_candidate`]): a finding only if the
    /// answer redirects to `https://` on the same host, so it waits for it beside the logins.
    pub awaiting_redirect: Option<Finding>,
}

impl Found {
    pub fn clear(&mut self) {
        self.findings.clear();
        self.masks.clear();
        self.awaiting_redirect = None;
    }
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }
    pub fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }
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
    /// What a cracker needs of a hash-only exchange (challenge and response), for `--export-hashes`.
    pub material: Option<Box<crate::proto::material::Material>>,
}

/// Which detectors run, and knobs.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Also report low-confidence findings.
    pub include_low_confidence: bool,
}

/// Run every request detector.
pub fn detect_request(cfg: &Config, req: &Request, ts: Timestamp, out: &mut Found) {
    let start = out.findings.len();
    auth::detect(&req.headers, ts, out);
    api_key::detect(&req.headers, ts, out);
    cookie::detect_request(&req.headers, ts, out);
    login::detect(req, ts, out);
    url::detect(&req.target, "request", Field::Target, ts, out);
    url::userinfo(&req.target, ts, out);
    jwt_other(req, ts, out, start);
    if let Some(note) = req.body.framing_note {
        // An evasion signal the analyst should see beside every finding of the request.
        for f in &mut out.findings[start..] {
            f.evidence = format!("{} ({note})", f.evidence);
        }
    }
    finish(cfg, out, start);
    // The fixes this request shows missing, from what it carried (their rules: `fixes`).
    let carried = &out.findings[start..];
    if !carried.is_empty() {
        let mixed = fixes::mixed_content(req, carried);
        out.awaiting_redirect = fixes::redirect_candidate(req, carried);
        out.findings.extend(mixed);
    }
}

/// The NTLM responses of a request (`ntlm`), given the connection's last server challenge.
pub fn detect_ntlm(cfg: &Config, headers: &crate::http::Headers, challenge: Option<[u8; 8]>, out: &mut Found) {
    let start = out.findings.len();
    ntlm::detect(headers, challenge, out);
    finish(cfg, out, start);
}

/// A login of another protocol (`proto`) as a finding, through the same rules as every other finding.
pub fn detect_login(cfg: &Config, l: &crate::proto::Login, out: &mut Found) {
    let start = out.findings.len();
    cleartext::detect(l, l.ts, &mut out.findings);
    finish(cfg, out, start);
}

/// Run every response detector. `req` is the request it answers when known.
pub fn detect_response(cfg: &Config, resp: &Response, _req: Option<&RequestLine>, ts: Timestamp, out: &mut Found) {
    let start = out.findings.len();
    cookie::detect_response(&resp.headers, ts, out);
    for (i, (name, loc)) in resp.headers.iter().enumerate() {
        if name.eq_ignore_ascii_case("location") {
            // A header value that is not UTF-8 is not a URL anyone follows.
            if let Ok(loc) = std::str::from_utf8(loc) {
                url::detect(loc, "header Location", Field::Header(i), ts, out);
                url::userinfo_in(loc, Field::Header(i), "header Location", ts, out);
            }
        }
    }
    response_token::detect(resp, ts, out);
    // Token fields the HTTP stage read past the kept prefix of the body (they have no place in the
    // excerpt), by the rules of `response_token`'s walk.
    for (k, v) in &resp.body.extra {
        let listed = response_token::TOKEN_KEYS.contains(&common::norm(k).as_str());
        if v.len() < 8 || v.contains(char::is_whitespace) || !listed && !generic::looks_like_credential(v) {
            continue;
        }
        let mut f = common::token_finding(
            LeakKind::LoginResponseToken,
            LeakKind::LoginResponseToken,
            v,
            None,
            format!("json field {}", common::short(k, 64)),
            "token handed out in a response body, past its first bytes kept:",
            ts,
        );
        if !listed {
            f.confidence = f.confidence.min(Confidence::Medium);
        }
        out.push(f);
    }
    finish(cfg, out, start);
}

/// JWTs anywhere else in a request (target, body), by shape, that no specific detector claimed.
fn jwt_other(req: &Request, ts: Timestamp, out: &mut Found, start: usize) {
    for (field, hay) in [(Field::Target, req.target.as_bytes()), (Field::Body, req.body.data.as_slice())] {
        if hay.len() < 16 || memchr::memmem::find(hay, b"eyJ").is_none() {
            continue;
        }
        for (s, e) in jwt::find_all(hay) {
            let tok = String::from_utf8_lossy(&hay[s..e]);
            if out.findings[start..].iter().any(|f| f.secret.expose().contains(tok.as_ref())) {
                continue;
            }
            let f = common::token_finding(
                LeakKind::JwtOther,
                LeakKind::JwtOther,
                &tok,
                None,
                "request target or body".into(),
                "JWT in the request:",
                ts,
            );
            out.push(f.at(Span::new(field, s..e)));
        }
    }
}

/// The rules every finding of a message goes through, in one place: repeats of one (kind, secret) are
/// dropped; low-confidence findings are dropped unless asked for, their span kept as a mask; a user name
/// that is really a secret (shaped as a token or a key) becomes a slot. Linear in the findings.
pub fn finish(cfg: &Config, out: &mut Found, start: usize) {
    let mut seen: std::collections::HashSet<(LeakKind, Secret)> = std::collections::HashSet::new();
    let mut kept = Vec::with_capacity(out.findings.len() - start);
    for mut f in out.findings.drain(start..) {
        if !seen.insert((f.kind, f.secret.clone())) {
            continue;
        }
        if !cfg.include_low_confidence && f.confidence == Confidence::Low {
            out.masks.extend(f.span.take());
            continue;
        }
        if let Some(u) = f.user.as_mut() {
            common::mask_secret_user(u);
        }
        kept.push(f);
    }
    out.findings.extend(kept);
}
