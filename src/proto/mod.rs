//! Proto: the classic cleartext protocols on reassembled streams (and SNMP on UDP datagrams).
//!
//! HTTP has its own stage (`http`); this one covers what dsniff, Ettercap, CredSLayer and PCredz look
//! for elsewhere: FTP, Telnet, POP3, IMAP, SMTP, LDAP, Redis, MQTT, PostgreSQL and SOCKS5 on TCP, SNMP
//! on UDP. A connection is recognised **by content** ([`probe`]); a well-known port only breaks ties.
//!
//! Each protocol is one small session parser fed the in-order bytes of both directions, like
//! [`crate::http::HttpConnection`]. It follows the protocol far enough to see a login and the server's
//! answer to it, and emits one [`Login`] per attempt **once its verdict is known** (or, with
//! [`Verdict::Unknown`], when the connection ends first). A session that upgrades to TLS (STARTTLS,
//! STLS, AUTH TLS, LDAP StartTLS, PostgreSQL SSLRequest accepted) stops being parsed: what follows is
//! ciphertext, and the parser says so with [`LoginSink::on_tls`].
//!
//! Parsers never panic, buffer at most [`MAX_LINE`] bytes per direction (a longer line is skipped) and
//! keep at most [`MAX_TRANSCRIPT`] transcript lines per login. This stage knows nothing of detection:
//! what a login means (kind, severity) is decided by `detect`.

pub mod ber;
pub mod lines;
pub mod probe;
pub mod sasl;

pub mod ftp;
pub mod imap;
pub mod pop3;
pub mod smtp;
pub mod telnet;

pub mod ldap;
pub mod mqtt;
pub mod postgres;
pub mod redis;
pub mod snmp;
pub mod socks5;

use serde::Serialize;

use crate::reassembly::Side;
use crate::time::Timestamp;

/// Longest line (or binary message) a parser buffers per direction. Logins are short; a longer line is
/// skipped to its end, not buffered.
pub const MAX_LINE: usize = 8 * 1024;
/// Transcript lines kept per login (the TUI detail view shows them).
pub const MAX_TRANSCRIPT: usize = 24;
/// Length of one transcript line.
pub const MAX_TRANSCRIPT_LINE: usize = 200;

/// The protocols of this stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    Ftp,
    Telnet,
    Pop3,
    Imap,
    Smtp,
    Ldap,
    Snmp,
    Redis,
    Mqtt,
    Postgres,
    Socks5,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Ftp => "ftp",
            Proto::Telnet => "telnet",
            Proto::Pop3 => "pop3",
            Proto::Imap => "imap",
            Proto::Smtp => "smtp",
            Proto::Ldap => "ldap",
            Proto::Snmp => "snmp",
            Proto::Redis => "redis",
            Proto::Mqtt => "mqtt",
            Proto::Postgres => "postgres",
            Proto::Socks5 => "socks5",
        }
    }
}

/// What the server said to a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The server accepted it (FTP 230, `+OK`, IMAP `OK`, SMTP 235, LDAP success, CONNACK 0, ...).
    Accepted,
    /// The server refused it (FTP 530, `-ERR`, IMAP `NO`, SMTP 535, LDAP invalidCredentials, ...).
    Refused,
    /// No answer was seen (the capture or the connection ended first, or the protocol has none).
    Unknown,
}

impl Verdict {
    /// In a few letters (the TUI's table).
    pub fn short(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Refused => "refused",
            Verdict::Unknown => "no answer",
        }
    }
}

/// What the secret of a login is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cred {
    /// A password (or an SNMP community, which works as one).
    Password,
    /// A bearer token (SASL XOAUTH2 / OAUTHBEARER).
    Token,
    /// Only a hash or challenge response crossed (APOP, CRAM-MD5, PostgreSQL MD5, SCRAM): `secret` holds
    /// it, and nothing directly replayable leaked.
    HashOnly,
}

/// Where a login stood with respect to TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsNote {
    /// The server offered no upgrade the parser could see.
    NotOffered,
    /// The server offered STARTTLS (STLS, AUTH TLS...) and the client logged in without using it.
    OfferedNotUsed,
    /// The login was sent in clear, refused, and the session then upgraded to TLS (a server that
    /// requires TLS before authentication, a client that only upgrades when told to).
    SentBeforeUpgrade,
}

/// One login attempt seen on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct Login {
    pub proto: Proto,
    /// How it was sent: `USER/PASS`, `AUTH PLAIN`, `AUTH LOGIN`, `LOGIN`, `AUTHENTICATE PLAIN`, `XOAUTH2`,
    /// `APOP`, `simple bind`, `AUTH`, `CONNECT`, `password message`, `username/password`, `community`...
    pub mechanism: &'static str,
    /// User name, bind DN, MQTT username... when the protocol carries one.
    pub user: Option<String>,
    /// The password, token, community or (for [`Cred::HashOnly`]) the hash.
    pub secret: String,
    pub cred: Cred,
    pub verdict: Verdict,
    pub tls: TlsNote,
    /// Capture time of the segment that carried the secret.
    pub ts: Timestamp,
    /// The exchange as sniffed, `C: ...` / `S: ...` lines (bounded; binary protocols get a decoded
    /// one-line summary per message). Contains the secret: the alert stage scrubs it.
    pub transcript: Vec<String>,
}

/// Receives what a session parser finds.
pub trait LoginSink {
    fn on_login(&mut self, login: Login);
    /// The session upgraded to TLS (called at most once per connection).
    fn on_tls(&mut self) {}
}

/// A session parser for one connection. Fed the in-order bytes of both directions.
pub trait Session {
    fn on_data(&mut self, from: Side, data: &[u8], ts: Timestamp, out: &mut dyn LoginSink);
    /// `len` bytes from `from` were lost: drop any partial line or message of that direction.
    fn on_gap(&mut self, from: Side, len: u64);
    /// End of the connection: logins still waiting for a verdict are emitted with [`Verdict::Unknown`].
    fn on_close(&mut self, ts: Timestamp, out: &mut dyn LoginSink);
}

/// A new session parser for a recognised protocol.
pub fn session(p: Proto) -> Box<dyn Session + Send> {
    match p {
        Proto::Telnet => Box::new(telnet::Telnet::default()),
        Proto::Ftp => Box::new(ftp::Ftp::default()),
        Proto::Pop3 => Box::new(pop3::Pop3::default()),
        Proto::Ldap => Box::new(ldap::Ldap::default()),
        Proto::Mqtt => Box::new(mqtt::Mqtt::default()),
        Proto::Postgres => Box::new(postgres::Postgres::default()),
        Proto::Redis => Box::new(redis::Redis::default()),
        Proto::Imap => Box::new(imap::Imap::default()),
        Proto::Smtp => Box::new(smtp::Smtp::default()),
        Proto::Socks5 => Box::new(socks5::Socks5::default()),
        // SNMP is UDP: its messages go to `snmp::Tracker`, never to a stream session. A TCP connection
        // is never recognised as SNMP by the prober; should one be, it is ignored.
        Proto::Snmp => Box::new(Ignore),
    }
}

/// A session that reads nothing (see [`session`]).
struct Ignore;
impl Session for Ignore {
    fn on_data(&mut self, _: Side, _: &[u8], _: Timestamp, _: &mut dyn LoginSink) {}
    fn on_gap(&mut self, _: Side, _: u64) {}
    fn on_close(&mut self, _: Timestamp, _: &mut dyn LoginSink) {}
}

impl Login {
    /// A login attempt waiting for the server's answer (its verdict is set when the answer comes).
    #[allow(clippy::too_many_arguments)]
    pub fn attempt(
        proto: Proto,
        mechanism: &'static str,
        user: Option<String>,
        secret: String,
        cred: Cred,
        tls_offered: bool,
        ts: Timestamp,
    ) -> Login {
        Login {
            proto,
            mechanism,
            user,
            secret,
            cred,
            verdict: Verdict::Unknown,
            tls: if tls_offered { TlsNote::OfferedNotUsed } else { TlsNote::NotOffered },
            ts,
            transcript: Vec::new(),
        }
    }

    /// Settle the login with the server's answer and the exchange so far, and hand it out.
    pub fn settle(mut self, verdict: Verdict, transcript: &[String], out: &mut dyn LoginSink) {
        self.verdict = verdict;
        self.transcript = transcript.to_vec();
        out.on_login(self);
    }
}

/// What a line protocol keeps of the login in progress (POP3, SMTP): the exchange so far, the login
/// waiting for the server's answer, and whether the server offered STARTTLS.
#[derive(Default, Debug)]
pub struct InProgress {
    pub transcript: Vec<String>,
    pub pending: Option<Login>,
    pub tls_offered: bool,
}

impl InProgress {
    /// The server answered (or the next command came first: `Verdict::Unknown`).
    pub fn settle(&mut self, verdict: Verdict, out: &mut dyn LoginSink) {
        if let Some(l) = self.pending.take() {
            l.settle(verdict, &self.transcript, out);
        }
    }

    /// A credential crossed: it waits for its answer (one left waiting is settled as unknown first).
    pub fn attempt(
        &mut self,
        proto: Proto,
        mechanism: &'static str,
        d: sasl::Decoded,
        ts: Timestamp,
        out: &mut dyn LoginSink,
    ) {
        if d.secret.is_empty() {
            return;
        }
        self.settle(Verdict::Unknown, out);
        self.pending = Some(Login::attempt(proto, mechanism, d.user, d.secret, d.cred, self.tls_offered, ts));
    }
}

/// Appends one transcript line, bounded in count and length.
pub fn push_transcript(t: &mut Vec<String>, prefix: &str, line: &[u8]) {
    if t.len() >= MAX_TRANSCRIPT {
        return;
    }
    let mut s = String::with_capacity(prefix.len() + line.len().min(MAX_TRANSCRIPT_LINE));
    transcript_line(&mut s, prefix, line);
    t.push(s);
}

/// One transcript line written into `s`: the prefix, then at most [`MAX_TRANSCRIPT_LINE`] bytes of
/// `line` with anything unprintable shown as `.`.
pub fn transcript_line(s: &mut String, prefix: &str, line: &[u8]) {
    s.push_str(prefix);
    for &b in line.iter().take(MAX_TRANSCRIPT_LINE) {
        s.push(if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' });
    }
    if line.len() > MAX_TRANSCRIPT_LINE {
        s.push('…');
    }
}

/// A bytes-to-text conversion for user names and secrets: lossy UTF-8, control characters kept out.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().filter(|c| !c.is_control()).collect()
}

/// A collecting sink for tests.
#[derive(Default, Debug)]
pub struct Logins {
    pub logins: Vec<Login>,
    pub tls: bool,
}

impl LoginSink for Logins {
    fn on_login(&mut self, login: Login) {
        self.logins.push(login);
    }
    fn on_tls(&mut self) {
        self.tls = true;
    }
}

#[cfg(test)]
pub(crate) mod testutil;
