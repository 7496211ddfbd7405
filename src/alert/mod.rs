//! Alert: the one model every sink consumes, with severity, dedup, redaction and fingerprints.
//!
//! A detector's [`Finding`] says *what* leaked; the alert adds *where* (flow, host, path, capture file,
//! capture time) and *how bad* (severity), and folds repeats of the same leak into one record.
//!
//! Redaction is by construction, and the alert stage renders it once: the secret is a [`Secret`] (whose
//! `Debug` never shows it), and every field that could hold one (the user name, the path, the request
//! excerpt, the login transcript, the replay command) is a [`Text`] whose secret slots were placed by
//! the stage that knew the structure (detect, proto). The only way to turn an alert into text or JSON is
//! [`Alert::record`] (and the renderers built on it), which takes the [`Reveal`] decision explicitly;
//! nothing ever searches finished text for a secret. So the redacted output of an alert depends on its
//! secrets' lengths and fingerprints only: a password equal to the host, the user name, a path segment
//! or a word of the template changes nothing around it.

mod book;
pub mod community_id;
pub mod conversation;
mod severity;

pub use crate::secret::{Reveal, Secret, Text, fingerprint};
pub use book::{AlertBook, BookMemory, DEFAULT_MAX_ALERTS, Recorded};
pub use conversation::Conversation;
pub use severity::Severity;

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::detect::jwt::JwtInfo;
use crate::detect::{Confidence, Finding, LeakKind, LoginInfo, SecretClass, Verdict};
use crate::time::Timestamp;

/// Where a finding was seen: everything the alert needs beyond the finding itself.
#[derive(Clone, Debug)]
pub struct Context {
    pub ts: Timestamp,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub host: Option<String>,
    pub method: Option<String>,
    /// The request target, its credentials as slots.
    pub path: Option<Text>,
    pub capture: Arc<str>,
    /// The message as it crossed the wire (request line and headers, or a login's exchange), its
    /// credentials as slots.
    pub excerpt: Arc<[Text]>,
    /// The connection's messages from this one on (follow stream), when the stage keeps them.
    pub conversation: Option<Conversation>,
    /// The number of the packet whose arrival completed the message that carried the secret, counted
    /// from 1 as Wireshark numbers frames (see `pipeline::Engine::process_numbered`); 0 when unknown.
    pub packet: u64,
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
    /// The client of the latest sighting recorded (a token replayed from another connection): what a
    /// sink that follows connections (`read --write-leaks`) needs. Not written out: `client` is the
    /// first sighting's.
    pub last_client: SocketAddr,
    pub host: Option<String>,
    pub method: Option<String>,
    pub path: Option<Text>,
    pub user: Option<Text>,
    pub secret: Secret,
    pub location: String,
    pub evidence: String,
    pub capture: Arc<str>,
    pub jwt: Option<Box<JwtInfo>>,
    pub excerpt: Arc<[Text]>,
    /// For logins: verdict, TLS context, mechanism.
    pub login: Option<LoginInfo>,
    /// Every user name tried (refused logins against one server fold into one alert), at most
    /// [`MAX_USERS`] of them.
    pub users: Vec<Text>,
    /// The first sighting's connection, message by message (the TUI's follow view). Not written out.
    pub conversation: Option<Conversation>,
    /// The packet number of the sighting `client` and `capture` describe ([`Context::packet`]): the
    /// first recorded, for refused logins the earliest. Not in the native record unless `--sensor`.
    pub first_packet: u64,
}

/// (kind, server, SHA-256 of the secret), the digest of a fixed string for refused logins.
fn key_of(kind: LeakKind, server: SocketAddr, refused: bool, secret: &str) -> (LeakKind, SocketAddr, [u8; 32]) {
    use sha2::{Digest, Sha256};
    let digest: [u8; 32] =
        if refused { Sha256::digest(b"\0refused logins").into() } else { Sha256::digest(secret.as_bytes()).into() };
    (kind, server, digest)
}

/// User names remembered per alert (a brute force tries thousands).
pub const MAX_USERS: usize = 8;

/// A request target without its query (a token endpoint takes its parameters in the body).
fn strip_query(target: &str) -> &str {
    target.split_once('?').map_or(target, |(p, _)| p)
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
            last_client: ctx.client,
            host: ctx.host.clone(),
            method: ctx.method.clone(),
            path: ctx.path.clone(),
            user: f.user.clone(),
            secret: f.secret.clone(),
            location: f.location.clone(),
            evidence: f.evidence.clone(),
            capture: ctx.capture.clone(),
            jwt: f.jwt.clone(),
            excerpt: ctx.excerpt.clone(),
            login: f.login.as_ref().map(|l| LoginInfo { transcript: Vec::new(), ..l.clone() }),
            users: f.user.iter().cloned().collect(),
            conversation: ctx.conversation.clone(),
            first_packet: ctx.packet,
        }
    }

    /// What makes two sightings one leak: (kind, server, SHA-256 of the secret). Refused logins against
    /// one server fold into one alert whatever the user and password: a brute force is one leak with an
    /// attempt count, not thousands of lines.
    pub fn dedup_key(f: &Finding, server: SocketAddr) -> (LeakKind, SocketAddr, [u8; 32]) {
        let refused = f.login.as_ref().is_some_and(|l| l.verdict == Verdict::Refused);
        key_of(f.kind, server, refused, f.secret.expose())
    }

    /// [`Alert::dedup_key`] of an alert (the merged book of `read --threads`).
    pub fn key(&self) -> (LeakKind, SocketAddr, [u8; 32]) {
        key_of(self.kind, self.server, self.verdict() == Some(Verdict::Refused), self.secret.expose())
    }

    /// Another sighting of this leak seen earlier than its first: a refused-login group shows its
    /// earliest attempt (secret, user, client, exchange), whatever order the attempts were recorded in
    /// (connections closing out of order, several `read --threads` workers).
    pub fn earlier_sighting(&mut self, earlier: &Alert) {
        if earlier.first_seen >= self.first_seen {
            return;
        }
        self.first_seen = earlier.first_seen;
        if self.verdict() == Some(Verdict::Refused) {
            self.secret = earlier.secret.clone();
            self.user = earlier.user.clone();
            self.client = earlier.client;
            self.excerpt = earlier.excerpt.clone();
            self.conversation = earlier.conversation.clone();
            self.first_packet = earlier.first_packet;
        }
    }

    /// The server's verdict, for logins.
    pub fn verdict(&self) -> Option<Verdict> {
        self.login.as_ref().map(|l| l.verdict)
    }

    /// The verdict of a login alert as a sentence, with the attempts folded into it.
    pub fn verdict_line(&self, reveal: Reveal) -> Option<String> {
        let v = self.verdict()?;
        let mut s = match v {
            Verdict::Accepted => "accepted by the server: these credentials work".to_string(),
            Verdict::Refused if self.count > 1 => format!("refused by the server, {} attempts", self.count),
            Verdict::Refused => "refused by the server".to_string(),
            Verdict::Unknown => "no answer from the server seen".to_string(),
        };
        if v == Verdict::Refused && self.count > 1 && !self.users.is_empty() {
            let users: Vec<String> = self.users.iter().map(|u| u.render(reveal)).collect();
            s.push_str(&format!(" (users {})", users.join(", ")));
        }
        Some(s)
    }

    /// A refused login seen again (another attempt against the same server): remember who was tried.
    pub fn add_user(&mut self, user: Option<&Text>) {
        self.add_user_if(user, |_| true);
    }

    /// [`Alert::add_user`] when `room` grants the name's bytes. Returns false when a name not yet
    /// remembered was left out (past [`MAX_USERS`], or no room): the caller counts it.
    pub fn add_user_if(&mut self, user: Option<&Text>, room: impl FnOnce(&Text) -> bool) -> bool {
        let Some(u) = user else { return true };
        if self.users.iter().any(|x| x == u) {
            return true;
        }
        if self.users.len() < MAX_USERS && room(u) {
            self.users.push(u.clone());
            return true;
        }
        false
    }

    /// What this alert holds in memory, itself included: its strings, texts, JWT and login details,
    /// and its excerpt when `excerpt` (the alerts of one message share one: whoever charges for them
    /// counts it once, or a message with n secrets would cost n times its size). Linear in its size, no
    /// allocation: what a book of leaks charges for remembering it.
    pub fn heap_bytes(&self, excerpt: bool) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        let text = |t: &Option<Text>| t.as_ref().map_or(0, |t| std::mem::size_of::<Text>() + t.heap_bytes());
        let texts = |ts: &[Text]| ts.iter().map(|t| std::mem::size_of::<Text>() + t.heap_bytes()).sum::<usize>();
        let jwt = self.jwt.as_ref().map_or(0, |j| {
            std::mem::size_of::<JwtInfo>()
                + [&j.alg, &j.typ, &j.kid, &j.iss, &j.sub, &j.aud, &j.scope].into_iter().map(opt).sum::<usize>()
                + j.roles.iter().map(|r| r.capacity() + std::mem::size_of::<String>()).sum::<usize>()
                + j.header_json.capacity()
                + j.claims_json.capacity()
        });
        let login =
            self.login.as_ref().map_or(0, |l| texts(&l.transcript) + l.material.as_ref().map_or(0, |m| m.heap_bytes()));
        std::mem::size_of::<Alert>()
            + opt(&self.host)
            + opt(&self.method)
            + text(&self.path)
            + text(&self.user)
            + self.secret.heap_bytes()
            + self.location.capacity()
            + self.evidence.capacity()
            + if excerpt { texts(&self.excerpt) } else { 0 }
            + texts(&self.users)
            + jwt
            + login
    }

    pub fn fingerprint(&self) -> String {
        self.secret.fingerprint()
    }

    /// The secret as outputs show it.
    pub fn shown_secret(&self, reveal: Reveal) -> String {
        self.secret.shown(reveal).into_owned()
    }

    /// The request target (path and query) as outputs show it.
    pub fn shown_path(&self, reveal: Reveal) -> Option<String> {
        self.path.as_ref().map(|p| p.render(reveal))
    }

    /// The user name as outputs show it (a slot when it was really a secret).
    pub fn shown_user(&self, reveal: Reveal) -> Option<String> {
        self.user.as_ref().map(|u| u.render(reveal))
    }

    /// What an attacker on the path can do with this leak: the command that replays it. Every value
    /// that came from the wire is quoted for the shell as one word (a cookie named `x'; rm -rf ~; '` must
    /// not turn a copied command into another one), the secret rendered once by its slot.
    pub fn replay_command(&self, reveal: Reveal) -> String {
        if self.class.is_material() {
            return "nothing to replay: only a hash or challenge response crossed; it can be cracked offline (--reveal --export-hashes writes it in hashcat's format)".to_string();
        }
        if self.verdict() == Some(Verdict::Refused) {
            return "nothing to replay: the server refused it (the user name, and a password that may be a near miss, still crossed in clear)".to_string();
        }
        let q = shell_quote;
        let host = self.host.clone().unwrap_or_else(|| self.server.to_string());
        let path = self.shown_path(reveal).unwrap_or_else(|| "/".to_string());
        let url = format!("http://{host}{path}");
        let secret = self.shown_secret(reveal);
        let user = self.shown_user(reveal).unwrap_or_default();
        match self.kind {
            LeakKind::BearerJwt | LeakKind::BearerOpaque | LeakKind::JwtOther => {
                format!("curl -H {} {}", q(&format!("Authorization: Bearer {secret}")), q(&url))
            }
            // A refresh token buys new access tokens at the endpoint that issued it.
            LeakKind::LoginResponseToken if self.location.ends_with("refresh_token") => format!(
                "curl -d grant_type=refresh_token -d {} {}",
                q(&format!("refresh_token={secret}")),
                q(&format!("http://{host}{}", self.shown_path(reveal).as_deref().map_or("/", strip_query)))
            ),
            // The token was handed out here; it is used against the API that issued it.
            LeakKind::LoginResponseToken => {
                format!("curl -H {} {}", q(&format!("Authorization: Bearer {secret}")), q(&format!("http://{host}/")))
            }
            LeakKind::BasicAuth => format!("curl -u {} {}", q(&format!("{user}:{secret}")), q(&url)),
            LeakKind::OtherAuth => {
                format!("curl -H {} {}", q(&format!("Authorization: <captured {}>", self.location)), q(&url))
            }
            LeakKind::ApiKeyHeader => {
                let name = self.location.strip_prefix("header ").unwrap_or("X-API-Key");
                format!("curl -H {} {}", q(&format!("{name}: {secret}")), q(&url))
            }
            LeakKind::CookieToken | LeakKind::SetCookieInsecure => {
                let name = self.location.split_once(' ').map_or("session", |(_, n)| n);
                format!("curl -b {} {}", q(&format!("{name}={secret}")), q(&format!("http://{host}/")))
            }
            // An OAuth2 client secret authenticates the client itself at the token endpoint.
            LeakKind::FormLogin | LeakKind::JsonLogin if self.location.ends_with("client_secret") => format!(
                "curl -d grant_type=client_credentials -d 'client_id=<the client_id sent with it>' -d {} {}",
                q(&format!("client_secret={secret}")),
                q(&format!("http://{host}{}", strip_query(&path)))
            ),
            LeakKind::FormLogin | LeakKind::JsonLogin => {
                format!("log in at http://{host}{path} as {} with password {}", q(&user), q(&secret))
            }
            // A token in a redirect: the URL the `Location` header sent the browser to, query and all
            // (from the excerpt, whose token is a slot rendered as everything else is).
            LeakKind::UrlToken if self.location.starts_with("header Location") => {
                let target = self.location_target(reveal).unwrap_or(url);
                format!("curl {}", q(&target))
            }
            LeakKind::UrlToken => format!("curl {}", q(&url)),
            LeakKind::HttpProxyBasic => {
                format!("curl -x {} 'http://example.com/'", q(&format!("http://{user}:{secret}@{}", self.server)))
            }
            // The message that carried it is replayed on a connection of one's own.
            LeakKind::WebsocketToken => format!(
                "websocat {}, then send the captured message with the token {}",
                q(&format!("ws://{host}{path}")),
                q(&secret)
            ),
            LeakKind::WebsocketLogin => format!(
                "websocat {}, then log in as {} with password {}",
                q(&format!("ws://{host}{path}")),
                q(&user),
                q(&secret)
            ),
            LeakKind::HeaderPassword => {
                let name = self.location.strip_prefix("header ").unwrap_or("X-Auth-Key");
                let user_header = if name.to_ascii_lowercase().contains("storage") { "X-Storage-User" } else { "X-Auth-User" };
                format!(
                    "curl -i -H {} -H {} {}",
                    q(&format!("{user_header}: {user}")),
                    q(&format!("{name}: {secret}")),
                    q(&url)
                )
            }
            LeakKind::AwsAccessKeyId => {
                "nothing to replay: the signature is bound to its request and expires within minutes; the access key id names the account and the key whose secret to look for".to_string()
            }
            LeakKind::SslstripWindow | LeakKind::MixedContent => {
                "answer this plain-HTTP request yourself (sslstrip) and keep the victim on HTTP: every credential it carries is yours".to_string()
            }
            LeakKind::HstsMissing => {
                "strip TLS from this client's next visit (sslstrip): it already fell back to plain HTTP for a name it knew over HTTPS".to_string()
            }
            _ => self.login_replay(&user, &secret),
        }
    }

    /// The absolute URL of the `Location` header in the excerpt (a relative one on this alert's host).
    fn location_target(&self, reveal: Reveal) -> Option<String> {
        let line = self
            .excerpt
            .iter()
            .map(|l| l.render(reveal))
            .find(|l| l.get(..9).is_some_and(|p| p.eq_ignore_ascii_case("location:")))?;
        let value = line[9..].trim();
        if value.contains("://") {
            return Some(value.to_string());
        }
        let host = self.host.clone().unwrap_or_else(|| self.server.to_string());
        let sep = if value.starts_with('/') { "" } else { "/" };
        Some(format!("http://{host}{sep}{value}"))
    }

    /// The replay of a login of another protocol: the client command that logs in with it.
    fn login_replay(&self, user: &str, secret: &str) -> String {
        let q = shell_quote;
        let (ip, port) = (self.server.ip(), self.server.port());
        let host = match ip {
            std::net::IpAddr::V6(_) => format!("[{ip}]"),
            std::net::IpAddr::V4(_) => ip.to_string(),
        };
        let up = q(&format!("{user}:{secret}"));
        match self.kind {
            LeakKind::FtpLogin => format!("curl -u {up} 'ftp://{host}:{port}/'"),
            LeakKind::TelnetLogin => {
                format!("telnet {ip} {port}, then log in as {} with password {}", q(user), q(secret))
            }
            LeakKind::Pop3Login => format!("curl -u {up} 'pop3://{host}:{port}/'"),
            LeakKind::ImapLogin => format!("curl -u {up} 'imap://{host}:{port}/INBOX'"),
            LeakKind::SmtpAuth => format!(
                "curl -u {up} --mail-from {} --mail-rcpt 'victim@example.com' -T mail.txt 'smtp://{host}:{port}'",
                q(user)
            ),
            LeakKind::LdapSimpleBind => {
                format!("ldapsearch -x -H 'ldap://{host}:{port}' -D {} -w {}", q(user), q(secret))
            }
            // A trap receiver (162) acts on traps: the attacker sends forged ones with its community.
            // A v1 trap names its enterprise, agent, generic and specific type and uptime (here: the
            // defaults, a coldStart); a v2c trap its uptime and trap OID (coldStart).
            LeakKind::SnmpCommunity if port == 162 && self.location.ends_with("v1") => {
                format!("snmptrap -v1 -c {} '{host}:{port}' '' '' 0 0 ''", q(secret))
            }
            LeakKind::SnmpCommunity if port == 162 => {
                format!("snmptrap -v2c -c {} '{host}:{port}' '' 1.3.6.1.6.3.1.1.5.1", q(secret))
            }
            LeakKind::SnmpCommunity => {
                let v = if self.location.ends_with("v1") { "1" } else { "2c" };
                format!("snmpwalk -v{v} -c {} '{host}:{port}'", q(secret))
            }
            LeakKind::RedisAuth if user.is_empty() => format!("redis-cli -h {ip} -p {port} -a {}", q(secret)),
            LeakKind::RedisAuth => format!("redis-cli -h {ip} -p {port} --user {} --pass {}", q(user), q(secret)),
            LeakKind::MqttConnect => {
                format!("mosquitto_sub -h {ip} -p {port} -u {} -P {} -t '#' -v", q(user), q(secret))
            }
            LeakKind::PostgresCleartext => format!("PGPASSWORD={} psql -h {ip} -p {port} -U {}", q(secret), q(user)),
            LeakKind::MysqlCleartext => {
                format!("mysql --enable-cleartext-plugin -h {ip} -P {port} -u {} -p{}", q(user), q(secret))
            }
            LeakKind::RloginLogin => {
                format!("rlogin -l {} {ip}, then type the password {}", q(user), q(secret))
            }
            LeakKind::MemcachedSasl => {
                format!("memcstat --servers={host}:{port} --binary --username={} --password={}", q(user), q(secret))
            }
            LeakKind::Socks5Login => {
                format!("curl --socks5 {} 'http://example.com/'", q(&format!("{user}:{secret}@{host}:{port}")))
            }
            LeakKind::AmqpLogin => {
                format!(
                    "amqp-declare-queue -u {} -q plainsight-replay",
                    q(&format!("amqp://{user}:{secret}@{host}:{port}/"))
                )
            }
            LeakKind::KafkaSasl => format!(
                "kcat -b '{host}:{port}' -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X {} -X {} -L",
                q(&format!("sasl.username={user}")),
                q(&format!("sasl.password={secret}"))
            ),
            LeakKind::IrcLogin | LeakKind::XmppLogin | LeakKind::NntpLogin => format!(
                "with an {} client, connect to {host}:{port} and log in as {} with password {}",
                self.kind.protocol().to_uppercase(),
                q(user),
                q(secret)
            ),
            _ => String::new(),
        }
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
            host: self.host.clone(),
            method: self.method.clone(),
            path: self.shown_path(reveal),
            user: self.shown_user(reveal),
            secret: self.shown_secret(reveal),
            redacted: reveal == Reveal::Redacted,
            fingerprint: self.fingerprint(),
            location: self.location.clone(),
            evidence: self.evidence.clone(),
            capture: self.capture.to_string(),
            replay: self.replay_command(reveal),
            jwt: self.jwt.as_deref().cloned(),
            protocol: self.kind.protocol(),
            verdict: self.verdict(),
            starttls: self.login.as_ref().and_then(|l| match l.tls {
                crate::detect::TlsNote::OfferedNotUsed => Some("offered_not_used"),
                crate::detect::TlsNote::SentBeforeUpgrade => Some("sent_before_upgrade"),
                crate::detect::TlsNote::NotOffered => None,
            }),
            users: self.users.iter().map(|u| u.render(reveal)).collect(),
        }
    }
}

/// `s` as one single-quoted shell word (`'` written as `'\''`).
pub fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
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
    /// `http`, `ftp`, `telnet`, `pop3`, `imap`, `smtp`, `ldap`, `snmp`, `redis`, `mqtt`, `postgres`, `socks5`.
    pub protocol: &'static str,
    /// For logins: `accepted`, `refused` or `unknown`; null for the other kinds.
    pub verdict: Option<Verdict>,
    /// `offered_not_used` when the server offered STARTTLS and the client logged in without it;
    /// `sent_before_upgrade` when the login crossed in clear and the session upgraded to TLS after it.
    pub starttls: Option<&'static str>,
    /// User names seen for this leak (several for a brute force folded into one alert).
    pub users: Vec<String>,
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
