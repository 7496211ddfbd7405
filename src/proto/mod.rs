//! Proto: the classic cleartext protocols on reassembled streams (and SNMP on UDP datagrams).
//!
//! HTTP has its own stage (`http`); this one covers what dsniff, Ettercap, CredSLayer and PCredz look
//! for elsewhere: FTP, Telnet, POP3, IMAP, SMTP, LDAP, Redis, MQTT, PostgreSQL and SOCKS5 on TCP, SNMP
//! on UDP; and AMQP 0-9-1, IRC, XMPP, NNTP and Kafka SASL/PLAIN (issue 11). A connection is recognised **by content** ([`probe`]); a well-known port only breaks ties.
//!
//! Each protocol is one small session parser fed the in-order bytes of both directions, like
//! [`crate::http::HttpConnection`]. It follows the protocol far enough to see a login and the server's
//! answer to it, and emits one [`Login`] per attempt **once its verdict is known** (or, with
//! [`Verdict::Unknown`], when the connection ends first). A session that upgrades to TLS (STARTTLS,
//! STLS, AUTH TLS, LDAP StartTLS, PostgreSQL SSLRequest accepted) stops being parsed: what follows is
//! ciphertext, and the parser says so with [`LoginSink::on_tls`].
//!
//! Secrets by construction: the parser that finds a secret wraps it in a [`Secret`] at once, and builds
//! every text around it from parts ([`Line`]): the transcript's credential-bearing values are slots, user
//! names are [`Part::User`]s. Nothing downstream searches text for a secret. [`Conn`] holds a session
//! with the rules that need several logins of a connection (refused logins held until the connection
//! says what comes next; a user name that is another attempt's password becomes a slot).
//!
//! Parsers never panic, buffer at most [`MAX_LINE`] bytes per direction (a longer line is skipped) and
//! keep at most [`MAX_TRANSCRIPT`] transcript lines per login; every cap hit is an [`Event`] the
//! pipeline counts. This stage knows nothing of detection: what a login means (kind, severity) is
//! decided by `detect`.

pub mod be;
pub mod ber;
pub mod conn;
pub mod lines;
pub mod material;
pub mod probe;
pub mod sasl;

pub mod ftp;
pub mod imap;
pub mod pop3;
pub mod smtp;
pub mod telnet;

pub mod ldap;
pub mod memcached;
pub mod mqtt;
pub mod mysql;
pub mod postgres;
pub mod redis;
pub mod rlogin;
pub mod snmp;
pub mod socks5;

pub mod amqp;
pub mod irc;
pub mod kafka;
pub mod nntp;
pub mod xmpp;

use serde::Serialize;

use crate::reassembly::Side;
use crate::secret::{Part, Secret, Text};
use crate::time::Timestamp;

pub use conn::Conn;

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
    Amqp,
    Irc,
    Xmpp,
    Nntp,
    Kafka,
    Mysql,
    Memcached,
    Rlogin,
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
            Proto::Amqp => "amqp",
            Proto::Irc => "irc",
            Proto::Xmpp => "xmpp",
            Proto::Nntp => "nntp",
            Proto::Kafka => "kafka",
            Proto::Mysql => "mysql",
            Proto::Memcached => "memcached",
            Proto::Rlogin => "rlogin",
        }
    }
}

/// What the server said to a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
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
///
/// The secret is a [`Secret`] from the moment the parser finds it; every text around it (the user name,
/// the transcript) is a [`Text`] whose credential-bearing values are slots. A slot that is this login's
/// own secret holds the same `Secret` as [`Login::secret`] (one fingerprint in the alert and its
/// transcript); a slot of another attempt on the connection holds that attempt's secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Login {
    pub proto: Proto,
    /// How it was sent: `USER/PASS`, `AUTH PLAIN`, `AUTH LOGIN`, `LOGIN`, `AUTHENTICATE PLAIN`, `XOAUTH2`,
    /// `APOP`, `simple bind`, `AUTH`, `CONNECT`, `password message`, `username/password`, `community`...
    pub mechanism: &'static str,
    /// User name, bind DN, MQTT username... when the protocol carries one: a [`Part::User`] (which the
    /// connection's rules may turn into a slot: see [`Conn`]), or a slot when the parser knows it is a
    /// secret.
    ///
    /// [`Part::User`]: crate::secret::Part::User
    pub user: Option<Text>,
    /// The password, token, community or (for [`Cred::HashOnly`]) the hash.
    pub secret: Secret,
    pub cred: Cred,
    pub verdict: Verdict,
    pub tls: TlsNote,
    /// Capture time of the segment that carried the secret.
    pub ts: Timestamp,
    /// The exchange as sniffed, `C: ...` / `S: ...` lines (bounded; binary protocols get a decoded
    /// one-line summary per message), every credential-bearing value a slot.
    pub transcript: Vec<Text>,
    /// For [`Cred::HashOnly`] exchanges a cracker can attack: the challenge and response
    /// (`--export-hashes`).
    pub material: Option<Box<material::Material>>,
}

/// A cap of this stage was hit: data was dropped or skipped. The pipeline counts them per
/// [`Event::name`] and `--stats` prints them; ARCHITECTURE.md's caps table names each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    /// A text line longer than [`MAX_LINE`] was skipped to its end (FTP, POP3, IMAP, SMTP, Redis, IRC,
    /// NNTP).
    LineTooLong,
    /// A binary message longer than [`MAX_LINE`] was skipped by its length, or a header that did not
    /// complete within it gave the direction up (LDAP, MQTT, PostgreSQL, SOCKS5, AMQP, Kafka); an XMPP
    /// tag or credential text past it was skipped.
    MessageTooLong,
    /// An IMAP `LOGIN` literal longer than [`MAX_LINE`] was skipped unread (its login is lost).
    LiteralTooLong,
    /// A Redis `AUTH`/`HELLO` argument longer than 1 KiB, or past the 8th, was skipped unread.
    RedisArgSkipped,
    /// A Redis length, element count or nesting past its limit: the direction is given up.
    RedisFrameTooLarge,
    /// A telnet line typed longer than 256 bytes: the rest of it is not kept.
    TelnetTypedTooLong,
    /// A telnet subnegotiation longer than 1 KiB: its end is no longer looked for.
    TelnetSubnegotiationTooLong,
    /// Telnet server output slid out of the 256-byte window while a verdict was awaited.
    TelnetWindowSlid,
    /// A transcript line was not kept: the transcript already has [`MAX_TRANSCRIPT`] lines.
    TranscriptFull,
    /// A transcript line's literal text was cut at [`MAX_TRANSCRIPT_LINE`] bytes.
    TranscriptLineCut,
    /// Commands or logins awaiting a reply past the parser's queue: the oldest is forgotten (a login
    /// among them is reported with [`Verdict::Unknown`]).
    PendingFull,
    /// The connection's window of recent attempts is full: the oldest is forgotten by the
    /// cross-attempt rules ([`Conn`]).
    HeldFull,
    /// The SNMP table of unanswered requests is full: the oldest is reported with [`Verdict::Unknown`].
    SnmpPendingFull,
    /// The prober kept [`probe::MAX_PROBE`] bytes without deciding: the connection goes to HTTP.
    ProbeGaveUp,
    /// A CRAM-MD5 challenge longer than [`sasl::MAX_CHALLENGE`] was not kept: its login is reported
    /// without material for `--export-hashes`.
    ChallengeTooLong,
}

impl Event {
    /// How many events there are (counters are an array indexed by `e as usize`).
    pub const COUNT: usize = 15;

    /// Every event, in declaration order (`ALL[e as usize] == e`).
    pub const ALL: [Event; Event::COUNT] = [
        Event::LineTooLong,
        Event::MessageTooLong,
        Event::LiteralTooLong,
        Event::RedisArgSkipped,
        Event::RedisFrameTooLarge,
        Event::TelnetTypedTooLong,
        Event::TelnetSubnegotiationTooLong,
        Event::TelnetWindowSlid,
        Event::TranscriptFull,
        Event::TranscriptLineCut,
        Event::PendingFull,
        Event::HeldFull,
        Event::SnmpPendingFull,
        Event::ProbeGaveUp,
        Event::ChallengeTooLong,
    ];

    /// The counter's name in `--stats` and ARCHITECTURE.md.
    pub fn name(self) -> &'static str {
        match self {
            Event::LineTooLong => "proto_line_too_long",
            Event::MessageTooLong => "proto_message_too_long",
            Event::LiteralTooLong => "imap_literal_too_long",
            Event::RedisArgSkipped => "redis_arg_skipped",
            Event::RedisFrameTooLarge => "redis_frame_too_large",
            Event::TelnetTypedTooLong => "telnet_typed_too_long",
            Event::TelnetSubnegotiationTooLong => "telnet_subnegotiation_too_long",
            Event::TelnetWindowSlid => "telnet_window_slid",
            Event::TranscriptFull => "transcript_lines_dropped",
            Event::TranscriptLineCut => "transcript_lines_cut",
            Event::PendingFull => "proto_pending_full",
            Event::HeldFull => "proto_held_full",
            Event::SnmpPendingFull => "snmp_pending_full",
            Event::ProbeGaveUp => "probe_gave_up",
            Event::ChallengeTooLong => "cram_challenge_too_long",
        }
    }
}

#[cfg(test)]
#[test]
fn events_are_listed_in_declaration_order_with_distinct_names() {
    for (i, e) in Event::ALL.iter().enumerate() {
        assert_eq!(*e as usize, i, "{e:?}");
    }
    let mut names: Vec<&str> = Event::ALL.iter().map(|e| e.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Event::COUNT);
}

/// Receives what a session parser finds.
pub trait LoginSink {
    fn on_login(&mut self, login: Login);
    /// The session upgraded to TLS (called at most once per connection).
    fn on_tls(&mut self) {}
    /// A cap was hit (see [`Event`]).
    fn on_event(&mut self, _e: Event) {}
}

/// Reports `n` occurrences of `e`.
pub fn report(out: &mut dyn LoginSink, e: Event, n: usize) {
    for _ in 0..n {
        out.on_event(e);
    }
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
        Proto::Amqp => Box::new(amqp::Amqp::default()),
        Proto::Irc => Box::new(irc::Irc::default()),
        Proto::Xmpp => Box::new(xmpp::Xmpp::default()),
        Proto::Nntp => Box::new(nntp::Nntp::default()),
        Proto::Kafka => Box::new(kafka::Kafka::default()),
        Proto::Mysql => Box::new(mysql::Mysql::default()),
        Proto::Memcached => Box::new(memcached::Memcached::default()),
        Proto::Rlogin => Box::new(rlogin::Rlogin::default()),
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
    /// A login attempt waiting for the server's answer (its verdict is set when the answer comes). The
    /// one constructor: parsers build no `Login { .. }` of their own.
    pub fn attempt(
        proto: Proto,
        mechanism: &'static str,
        user: Option<Text>,
        secret: Secret,
        cred: Cred,
        tls_offered: bool,
        ts: Timestamp,
    ) -> Login {
        Login {
            proto,
            mechanism,
            user: user.filter(|u| !u.is_empty()),
            secret,
            cred,
            verdict: Verdict::Unknown,
            tls: if tls_offered { TlsNote::OfferedNotUsed } else { TlsNote::NotOffered },
            ts,
            transcript: Vec::new(),
            material: None,
        }
    }

    /// The same login with the material of its exchange (a hash-only login a cracker can attack).
    pub fn with_material(mut self, m: Option<material::Material>) -> Login {
        self.material = m.map(Box::new);
        self
    }

    /// The same login with its transcript so far (binary protocols: the recent summary lines).
    pub fn with_transcript(mut self, transcript: Vec<Text>) -> Login {
        self.transcript = transcript;
        self
    }

    /// Settle the login with the server's answer and the exchange so far, and hand it out.
    pub fn settle(mut self, verdict: Verdict, transcript: &[Text], out: &mut dyn LoginSink) {
        self.verdict = verdict;
        self.transcript = transcript.to_vec();
        out.on_login(self);
    }

    /// Hand the login out with `verdict` (its transcript already filled).
    pub fn decide(mut self, verdict: Verdict, out: &mut dyn LoginSink) {
        self.verdict = verdict;
        out.on_login(self);
    }

    /// The user name as typed, when the user is one name and not (yet) a secret.
    pub fn user_name(&self) -> Option<&str> {
        match self.user.as_ref()?.parts() {
            [Part::User(u)] => Some(u),
            _ => None,
        }
    }

    /// Every user-name part equal to `name`, in the user field and the transcript, becomes a slot
    /// showing `as_secret` (the name was really a secret). Returns how many parts changed.
    pub fn mask_user(&mut self, name: &str, as_secret: &Secret) -> usize {
        let mut n = self.user.as_mut().map_or(0, |u| u.mask_user(name, as_secret));
        for t in &mut self.transcript {
            n += t.mask_user(name, as_secret);
        }
        n
    }
}

/// What a line protocol keeps of the login in progress (POP3, SMTP): the exchange so far, the login
/// waiting for the server's answer, and whether the server offered STARTTLS.
#[derive(Default, Debug)]
pub struct InProgress {
    pub transcript: Vec<Text>,
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
        let l = Login::attempt(proto, mechanism, d.user, d.secret, d.cred, self.tls_offered, ts);
        self.pending = Some(l.with_material(d.material.map(|m| *m)));
    }

    /// Appends one transcript line (see [`push_transcript`]).
    pub fn push(&mut self, line: Line, out: &mut dyn LoginSink) {
        push_transcript(&mut self.transcript, line, out);
    }
}

/// One transcript line being built from parts: literal bytes (anything unprintable shown as `.`, at
/// most [`MAX_TRANSCRIPT_LINE`] bytes of them, then `…`), user names and secret slots, which are never
/// cut (a slot shows a whole secret or nothing; a cut user name could no longer be recognised as a
/// secret).
#[derive(Debug)]
pub struct Line {
    text: Text,
    /// Literal bytes still allowed.
    left: usize,
    /// Literal text was cut.
    pub cut: bool,
}

impl Line {
    /// A line starting with `prefix` (`C: `, `S: `).
    pub fn new(prefix: &str) -> Line {
        Line::with_capacity(prefix, 64)
    }

    /// A line starting with `prefix`, room made for `n` more bytes of literal text (one allocation for
    /// a line that is all literal).
    fn with_capacity(prefix: &str, n: usize) -> Line {
        let mut s = String::with_capacity(prefix.len() + n.min(MAX_TRANSCRIPT_LINE) + '…'.len_utf8());
        s.push_str(prefix);
        Line { text: Text::lit(s), left: MAX_TRANSCRIPT_LINE, cut: false }
    }

    /// A line of literal bytes only.
    pub fn lit_line(prefix: &str, line: &[u8]) -> Line {
        let mut l = Line::with_capacity(prefix, line.len());
        l.lit(line);
        l
    }

    /// Literal bytes (attacker-controlled text: unprintable bytes become `.`).
    pub fn lit(&mut self, b: &[u8]) -> &mut Line {
        if self.cut || b.is_empty() {
            return self;
        }
        let take = b.len().min(self.left);
        let part = b.get(..take).unwrap_or_default();
        let printable = |c: u8| c.is_ascii_graphic() || c == b' ';
        match std::str::from_utf8(part) {
            // The common case, printable ASCII: appended as is, no copy of our own.
            Ok(s) if part.iter().all(|&c| printable(c)) => {
                self.text.push_lit(s);
            }
            _ => {
                let s: String = part.iter().map(|&c| if printable(c) { c as char } else { '.' }).collect();
                self.text.push_lit(&s);
            }
        }
        self.left -= take;
        if take < b.len() {
            self.text.push_lit("…");
            self.cut = true;
        }
        self
    }

    /// Literal bytes in which every whole-word occurrence of `name` (the user name the client just sent,
    /// which servers repeat: `331 Password required for alice`) is a user-name part, so that it becomes
    /// a slot with the others should the name turn out to be a secret.
    pub fn lit_naming(&mut self, b: &[u8], name: &str) -> &mut Line {
        let n = name.as_bytes();
        let word = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
        let mut from = 0;
        let mut i = 0;
        while !n.is_empty() && i + n.len() <= b.len() {
            let whole = i == 0 || !word(b.get(i - 1));
            if whole && b[i..].starts_with(n) && !word(b.get(i + n.len())) {
                self.lit(&b[from..i]).user_str(name);
                i += n.len();
                from = i;
            } else {
                i += 1;
            }
        }
        self.lit(&b[from..])
    }

    /// A user name as typed (see [`Part::User`](crate::secret::Part::User)).
    pub fn user(&mut self, b: &[u8]) -> &mut Line {
        let u = text(b);
        if !u.is_empty() {
            self.text.push_user(&u);
        }
        self
    }

    /// A user name already converted (the same string as the login's user).
    pub fn user_str(&mut self, u: &str) -> &mut Line {
        if !u.is_empty() {
            self.text.push_user(u);
        }
        self
    }

    /// ` user="name"`: how the binary protocols' summary lines name the user a message carries.
    pub fn user_field(&mut self, u: &[u8]) -> &mut Line {
        self.lit(b" user=\"").user(u).lit(b"\"")
    }

    /// ` password="…"` around a slot: the password of the same summary lines.
    pub fn password_field(&mut self, s: &Secret) -> &mut Line {
        self.lit(b" password=\"").secret(s).lit(b"\"")
    }

    /// A secret slot (none for an empty secret: nothing to show or hide).
    pub fn secret(&mut self, s: &Secret) -> &mut Line {
        if !s.is_empty() {
            self.text.push_secret(s.clone());
        }
        self
    }

    /// A slot for `secret` that crossed as `wire` (a password inside a SASL base64 blob): redacted as
    /// the secret (the fingerprint of its alert), revealed as the wire form.
    pub fn wire(&mut self, secret: &Secret, wire: &Secret) -> &mut Line {
        if !wire.is_empty() {
            self.text.push_wire(secret.clone(), wire.clone());
        }
        self
    }

    pub fn into_text(self) -> Text {
        self.text
    }

    /// `line` with its sub-slices `marks` (in order, not overlapping) as user names and slots, the rest
    /// literal. A mark that is not a sub-slice of `line` (a parser bug) leaves nothing literal after the
    /// last mark placed: never a secret shown as text.
    pub fn marked(prefix: &str, line: &[u8], marks: &[Mark<'_>]) -> Line {
        let mut l = Line::new(prefix);
        l.mark(line, marks);
        l
    }

    /// Appends `line` with its marks (see [`Line::marked`]).
    pub fn mark(&mut self, line: &[u8], marks: &[Mark<'_>]) -> &mut Line {
        let l = self;
        let mut at = 0;
        // An empty span marks nothing (and may not even point into `line`).
        let marks = || marks.iter().filter(|m| !m.span().is_empty());
        for m in marks() {
            let span = m.span();
            let Some(start) = offset_in(line, span).filter(|&s| s >= at) else {
                // Not where it should be: place the secrets alone, show no more of the line.
                for m in marks() {
                    if let Mark::Secret(_, s) | Mark::Wire(_, s, _) = m {
                        l.secret(s);
                    }
                }
                return l;
            };
            l.lit(line.get(at..start).unwrap_or_default());
            match m {
                Mark::User(b) => l.user(b),
                Mark::UserNamed(_, u) => l.user_str(u),
                Mark::Secret(_, s) => l.secret(s),
                Mark::Wire(_, s, w) => l.wire(s, w),
            };
            at = start + span.len();
        }
        l.lit(line.get(at..).unwrap_or_default())
    }
}

/// A part of a line that is not literal (see [`Line::marked`]).
#[derive(Debug)]
pub enum Mark<'a> {
    /// These bytes are a user name.
    User(&'a [u8]),
    /// These bytes are this user name (once unquoted).
    UserNamed(&'a [u8], &'a str),
    /// These bytes are a credential, shown as this secret's slot.
    Secret(&'a [u8], &'a Secret),
    /// These bytes carry this secret (first) in the wire form given (second): see [`Line::wire`].
    Wire(&'a [u8], &'a Secret, &'a Secret),
}

impl Mark<'_> {
    fn span(&self) -> &[u8] {
        match self {
            Mark::User(b) | Mark::UserNamed(b, _) | Mark::Secret(b, _) | Mark::Wire(b, ..) => b,
        }
    }
}

/// Where `part`, a sub-slice of `line`, starts in it (`None` if it is not one).
pub fn offset_in(line: &[u8], part: &[u8]) -> Option<usize> {
    let off = (part.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
    (off.checked_add(part.len())? <= line.len()).then_some(off)
}

/// Appends one transcript line, at most [`MAX_TRANSCRIPT`] of them; a dropped or cut line is counted.
pub fn push_transcript(t: &mut Vec<Text>, line: Line, out: &mut dyn LoginSink) {
    if t.len() >= MAX_TRANSCRIPT {
        out.on_event(Event::TranscriptFull);
        return;
    }
    if line.cut {
        out.on_event(Event::TranscriptLineCut);
    }
    t.push(line.into_text());
}

/// A bytes-to-text conversion for user names and secrets: lossy UTF-8, control characters kept out.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().filter(|c| !c.is_control()).collect()
}

/// A secret from wire bytes, converted as [`text`] converts them.
pub fn secret(b: &[u8]) -> Secret {
    Secret::new(&text(b))
}

/// A user name from wire bytes (`None` when empty once converted).
pub fn user(b: &[u8]) -> Option<Text> {
    let u = text(b);
    (!u.is_empty()).then(|| Text::user(&u))
}

/// A collecting sink for tests.
#[derive(Default, Debug)]
pub struct Logins {
    pub logins: Vec<Login>,
    pub tls: bool,
    pub events: Vec<Event>,
}

impl LoginSink for Logins {
    fn on_login(&mut self, login: Login) {
        self.logins.push(login);
    }
    fn on_tls(&mut self) {
        self.tls = true;
    }
    fn on_event(&mut self, e: Event) {
        self.events.push(e);
    }
}

#[cfg(test)]
pub(crate) mod testutil;
