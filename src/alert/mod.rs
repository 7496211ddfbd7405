//! Alert: the one model every sink consumes, with severity, dedup, redaction and fingerprints.
//!
//! A detector's [`Finding`] says *what* leaked; the alert adds *where* (flow, host, path, capture file,
//! capture time) and *how bad* (severity), and folds repeats of the same leak into one record.
//!
//! Redaction is the alert stage's job so that no sink can forget it: an [`Alert`] keeps the secret in a
//! [`Secret`] (whose `Debug` never shows it), and the only way to turn an alert into text or JSON is
//! [`Alert::record`], which takes the [`Reveal`] decision explicitly. Every free-text field that could
//! carry a secret (the path, the request excerpt, the replay command) is scrubbed of every secret seen in
//! the same message, not just the alert's own: a URL token must not leak through the path of the Bearer
//! alert raised by the same request.

mod book;
mod redact;
mod severity;

pub use book::{AlertBook, Recorded};
pub use redact::{Reveal, Secret, fingerprint, redact, redact_fully};
pub use severity::Severity;

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::detect::jwt::JwtInfo;
use crate::detect::{Confidence, Finding, LeakKind, SecretClass};
use crate::time::Timestamp;

/// Where a finding was seen: everything the alert needs beyond the finding itself.
#[derive(Clone, Debug)]
pub struct Context {
    pub ts: Timestamp,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub host: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub capture: Arc<str>,
    /// Request line and headers as they crossed the wire (raw; scrubbed at output time).
    pub excerpt: Arc<[String]>,
    /// Every secret found in the same message (scrubbed from every text field of every alert of it).
    pub message_secrets: Arc<[Secret]>,
}

/// Identity of one leak for the run (the index in the [`AlertBook`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AlertId(pub u64);

/// One leak: a secret of one kind sent to one server, however many times it was seen.
#[derive(Clone, Debug)]
pub struct Alert {
    pub id: AlertId,
    pub kind: LeakKind,
    pub class: SecretClass,
    pub severity: Severity,
    pub confidence: Confidence,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub count: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub host: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub user: Option<String>,
    pub secret: Secret,
    pub location: String,
    pub evidence: String,
    pub capture: Arc<str>,
    pub jwt: Option<JwtInfo>,
    pub excerpt: Arc<[String]>,
    pub message_secrets: Arc<[Secret]>,
}

impl Alert {
    pub fn new(id: AlertId, f: &Finding, ctx: &Context) -> Alert {
        Alert {
            id,
            kind: f.kind,
            class: f.class,
            severity: Severity::of(f),
            confidence: f.confidence,
            first_seen: ctx.ts,
            last_seen: ctx.ts,
            count: 1,
            client: ctx.client,
            server: ctx.server,
            host: ctx.host.clone(),
            method: ctx.method.clone(),
            path: ctx.path.clone(),
            user: f.user.clone(),
            secret: if f.class == SecretClass::Password {
                Secret::password(f.secret.clone())
            } else {
                Secret::new(f.secret.clone())
            },
            location: f.location.clone(),
            evidence: f.evidence.clone(),
            capture: ctx.capture.clone(),
            jwt: f.jwt.clone(),
            excerpt: ctx.excerpt.clone(),
            message_secrets: ctx.message_secrets.clone(),
        }
    }

    pub fn fingerprint(&self) -> String {
        self.secret.fingerprint()
    }

    /// `text` with every secret of this alert's message replaced by its redacted form (unless revealing).
    pub fn scrub(&self, text: &str, reveal: Reveal) -> String {
        if reveal == Reveal::Full {
            return text.to_string();
        }
        let mut out = redact::scrub(text, &self.secret);
        for s in self.message_secrets.iter() {
            out = redact::scrub(&out, s);
        }
        out
    }

    /// The secret as outputs show it.
    pub fn shown_secret(&self, reveal: Reveal) -> String {
        match reveal {
            Reveal::Full => self.secret.expose().to_string(),
            Reveal::Redacted => self.secret.redacted(),
        }
    }

    /// What an attacker on the path can do with this leak: the command that replays it.
    pub fn replay_command(&self, reveal: Reveal) -> String {
        let host = self.host.clone().unwrap_or_else(|| self.server.to_string());
        let path = self.path.clone().unwrap_or_else(|| "/".to_string());
        let url = format!("http://{host}{path}");
        let secret = self.shown_secret(reveal);
        let user = self.user.clone().unwrap_or_default();
        let cmd = match self.kind {
            LeakKind::BearerJwt | LeakKind::BearerOpaque | LeakKind::JwtOther => {
                format!("curl -H 'Authorization: Bearer {secret}' '{url}'")
            }
            // The token was handed out here; it is used against the API that issued it.
            LeakKind::LoginResponseToken => format!("curl -H 'Authorization: Bearer {secret}' 'http://{host}/'"),
            LeakKind::BasicAuth => format!("curl -u '{user}:{secret}' '{url}'"),
            LeakKind::OtherAuth => format!("curl -H 'Authorization: <captured {}>' '{url}'", self.location),
            LeakKind::ApiKeyHeader => {
                let name = self.location.strip_prefix("header ").unwrap_or("X-API-Key");
                format!("curl -H '{name}: {secret}' '{url}'")
            }
            LeakKind::CookieToken | LeakKind::SetCookieInsecure => {
                let name = self.location.split_whitespace().last().unwrap_or("session");
                format!("curl -b '{name}={secret}' 'http://{host}/'")
            }
            LeakKind::FormLogin | LeakKind::JsonLogin => {
                format!("log in at http://{host}{path} as '{user}' with password '{secret}'")
            }
            LeakKind::UrlToken => format!("curl '{url}'"),
        };
        self.scrub(&cmd, reveal)
    }

    /// The serialisable view written by every sink. The only way out of an alert.
    pub fn record(&self, reveal: Reveal) -> AlertRecord {
        AlertRecord {
            id: self.id.0,
            kind: self.kind,
            severity: self.severity,
            confidence: self.confidence,
            class: self.class,
            first_seen: self.first_seen.rfc3339(),
            last_seen: self.last_seen.rfc3339(),
            count: self.count,
            client: self.client.to_string(),
            server: self.server.to_string(),
            host: self.host.as_deref().map(|h| self.scrub(h, reveal)),
            method: self.method.clone(),
            path: self.path.as_deref().map(|p| self.scrub(p, reveal)),
            user: self.user.clone(),
            secret: self.shown_secret(reveal),
            redacted: reveal == Reveal::Redacted,
            fingerprint: self.fingerprint(),
            location: self.location.clone(),
            evidence: self.scrub(&self.evidence, reveal),
            capture: self.capture.to_string(),
            replay: self.replay_command(reveal),
            jwt: self.jwt.clone(),
        }
    }
}

/// One line of the alert file (documented in docs/alerts.md; field order is stable).
#[derive(Clone, Debug, Serialize)]
pub struct AlertRecord {
    pub id: u64,
    pub kind: LeakKind,
    pub severity: Severity,
    pub confidence: Confidence,
    pub class: SecretClass,
    pub first_seen: String,
    pub last_seen: String,
    pub count: u64,
    pub client: String,
    pub server: String,
    pub host: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub user: Option<String>,
    pub secret: String,
    pub redacted: bool,
    pub fingerprint: String,
    pub location: String,
    pub evidence: String,
    pub capture: String,
    pub replay: String,
    pub jwt: Option<JwtInfo>,
}

/// Push-model consumer of alerts (JSON lines, report, TUI, test collectors).
pub trait AlertSink {
    /// A leak seen for the first time.
    fn on_new(&mut self, alert: &Alert);
    /// A leak seen again (its count and last_seen were raised).
    fn on_repeat(&mut self, _alert: &Alert) {}
}

/// A sink that ignores everything.
pub struct NullSink;
impl AlertSink for NullSink {
    fn on_new(&mut self, _alert: &Alert) {}
}

/// Collects first sightings (tests, the report).
#[derive(Default)]
pub struct Collector(pub Vec<Alert>);
impl AlertSink for Collector {
    fn on_new(&mut self, alert: &Alert) {
        self.0.push(alert.clone());
    }
    fn on_repeat(&mut self, alert: &Alert) {
        if let Some(a) = self.0.iter_mut().find(|a| a.id == alert.id) {
            a.count = alert.count;
            a.last_seen = alert.last_seen;
        }
    }
}

/// Fan out to several sinks.
pub struct Tee<'a>(pub Vec<&'a mut dyn AlertSink>);
impl AlertSink for Tee<'_> {
    fn on_new(&mut self, alert: &Alert) {
        for s in self.0.iter_mut() {
            s.on_new(alert);
        }
    }
    fn on_repeat(&mut self, alert: &Alert) {
        for s in self.0.iter_mut() {
            s.on_repeat(alert);
        }
    }
}
