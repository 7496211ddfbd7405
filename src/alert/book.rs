//! The book of leaks: dedup by (secret, kind, server); refused logins by (kind, server).
//!
//! A client polling an API with one token 10,000 times is one leak seen 10,000 times, not 10,000
//! alerts. The book keeps one [`Alert`] per key and raises its count and last-seen on repeats.
//!
//! It is bounded: garbage or an attacker can invent secrets faster than anyone can read alerts. Past
//! `max_alerts` distinct leaks, or once what it remembers fills its [`BookMemory`] (bytes reserved off
//! `--memcap`), new ones are still emitted to the sinks (nothing is hidden) but no longer remembered for
//! dedup, and `overflow` counts them. User names past [`super::MAX_USERS`] or past the memory are
//! counted in `users_not_kept`.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::{Alert, AlertId, AlertSink, Context, Text};
use crate::detect::{Finding, LeakKind};
use crate::memory::{Quota, Reservation};

/// Bytes a remembered alert costs beyond what it holds: its slot in the book's vector and its index
/// entry, twice (a vector or a map that grows by doubling holds up to as much again, unused).
const ENTRY_OVERHEAD: usize =
    2 * (std::mem::size_of::<Alert>() + std::mem::size_of::<((LeakKind, SocketAddr, [u8; 32]), usize)>() + 1);

/// What a book of leaks may hold in memory: bytes reserved off the process's budget
/// ([`crate::memory::Budget::reserve`]), charged for every alert remembered ([`Alert::heap_bytes`]
/// and its entry) and every user name added to one. A book without a reservation is bounded by its
/// count alone (tests, `watch`).
#[derive(Debug)]
pub struct BookMemory {
    _reserved: Option<Reservation>,
    quota: Quota,
    /// The excerpt of the last alert admitted (compared by address only): the alerts of one message
    /// share it, and it is charged once.
    last_excerpt: usize,
    /// User names not remembered (past [`super::MAX_USERS`], or no room).
    pub users_not_kept: u64,
}

impl BookMemory {
    /// Bounded by what `r` reserved.
    pub fn reserved(r: Reservation) -> BookMemory {
        BookMemory { quota: Quota::new(r.bytes()), _reserved: Some(r), last_excerpt: 0, users_not_kept: 0 }
    }
    /// Bounded by the count of alerts alone.
    pub fn unbounded() -> BookMemory {
        BookMemory { _reserved: None, quota: Quota::unbounded(), last_excerpt: 0, users_not_kept: 0 }
    }
    /// Bytes charged.
    pub fn used(&self) -> usize {
        self.quota.used()
    }

    /// Charge for remembering `a`, if it fits.
    pub fn admit(&mut self, a: &Alert) -> bool {
        let excerpt = a.excerpt.as_ptr() as usize;
        let shared = excerpt == self.last_excerpt && !a.excerpt.is_empty();
        if !self.quota.take(a.heap_bytes(!shared) + ENTRY_OVERHEAD) {
            return false;
        }
        self.last_excerpt = excerpt;
        true
    }

    /// Add `user` to `a`'s names if it is new and fits; count it when it is left out.
    pub fn add_user(&mut self, a: &mut Alert, user: Option<&Text>) {
        if !a.add_user_if(user, |u| self.quota.take(std::mem::size_of::<Text>() + u.heap_bytes())) {
            self.users_not_kept += 1;
        }
    }
}

/// What recording a finding did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    New(AlertId),
    Repeat(AlertId),
}

pub struct AlertBook {
    alerts: Vec<Alert>,
    index: HashMap<(LeakKind, SocketAddr, [u8; 32]), usize>,
    max_alerts: usize,
    memory: BookMemory,
    next_id: u64,
    overflow: u64,
    sightings: u64,
    /// Distinct leaks of the material class emitted (remembered or not).
    material: u64,
}

/// Distinct leaks a book remembers unless told otherwise (its memory may allow fewer).
pub const DEFAULT_MAX_ALERTS: usize = 100_000;

impl Default for AlertBook {
    fn default() -> Self {
        AlertBook::new(DEFAULT_MAX_ALERTS)
    }
}

impl AlertBook {
    /// A book bounded by its count alone.
    pub fn new(max_alerts: usize) -> AlertBook {
        AlertBook::with_memory(max_alerts, BookMemory::unbounded())
    }

    /// A book bounded by its count and by `memory`.
    pub fn with_memory(max_alerts: usize, memory: BookMemory) -> AlertBook {
        AlertBook {
            alerts: Vec::new(),
            index: HashMap::new(),
            max_alerts,
            memory,
            next_id: 1,
            overflow: 0,
            sightings: 0,
            material: 0,
        }
    }

    /// Record one sighting and tell the sink.
    pub fn record(&mut self, f: &Finding, ctx: &Context, sink: &mut dyn AlertSink) -> Recorded {
        self.sightings += 1;
        let key = Alert::dedup_key(f, ctx.server);
        if let Some(&i) = self.index.get(&key) {
            if let Some(a) = self.alerts.get_mut(i) {
                a.count += 1;
                a.last_client = ctx.client;
                if ctx.ts > a.last_seen {
                    a.last_seen = ctx.ts;
                }
                if ctx.ts < a.first_seen {
                    a.earlier_sighting(&Alert::new(a.id, f, ctx));
                }
                self.memory.add_user(a, f.user.as_ref());
                // A later answer settles a login first seen without one (an SNMP request answered
                // after a retry, a server that answered the second attempt).
                if let (Some(l), Some(new)) = (a.login.as_mut(), f.login.as_ref()) {
                    if l.verdict == crate::detect::Verdict::Unknown && new.verdict == crate::detect::Verdict::Accepted {
                        l.verdict = new.verdict;
                    }
                }
                sink.on_repeat(a);
                return Recorded::Repeat(a.id);
            }
        }
        let id = AlertId(self.next_id);
        self.next_id += 1;
        let alert = Alert::new(id, f, ctx);
        if alert.class.is_material() {
            self.material += 1;
        }
        sink.on_new(&alert);
        if self.alerts.len() < self.max_alerts && self.memory.admit(&alert) {
            self.index.insert(key, self.alerts.len());
            self.alerts.push(alert);
        } else {
            self.overflow += 1;
        }
        Recorded::New(id)
    }

    /// Every distinct leak remembered, in order of first sighting.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }
    pub fn len(&self) -> usize {
        self.alerts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }
    /// Distinct leaks emitted but not remembered because the book was full.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
    /// User names of refused logins not remembered (past `MAX_USERS` or the book's memory).
    pub fn users_not_kept(&self) -> u64 {
        self.memory.users_not_kept
    }
    /// Bytes the remembered leaks hold.
    pub fn memory_used(&self) -> usize {
        self.memory.used()
    }
    /// Every sighting, repeats included.
    pub fn sightings(&self) -> u64 {
        self.sightings
    }
    /// Leaks emitted in total (remembered or not).
    pub fn distinct(&self) -> u64 {
        self.next_id - 1
    }
    /// Of [`AlertBook::distinct`], those of the material class (crackable, not cleartext).
    pub fn material(&self) -> u64 {
        self.material
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Collector, Secret};
    use crate::detect::{Confidence, SecretClass};
    use crate::time::Timestamp;
    use std::sync::Arc;

    fn finding(secret: &str, kind: LeakKind) -> Finding {
        Finding {
            kind,
            class: SecretClass::Token,
            confidence: Confidence::High,
            secret: Secret::new(secret),
            user: None,
            location: "header Authorization".into(),
            evidence: "Bearer token".into(),
            jwt: None,
            login: None,
            span: None,
        }
    }

    fn ctx(ts: i64, server: &str) -> Context {
        Context {
            ts: Timestamp(ts),
            client: "10.0.0.1:40000".parse().unwrap(),
            server: server.parse().unwrap(),
            host: Some("api.lab".into()),
            method: Some("GET".into()),
            path: Some("/x".into()),
            capture: Arc::from("t.pcap"),
            excerpt: Arc::from(Vec::<crate::secret::Text>::new()),
            conversation: None,
            packet: 0,
        }
    }

    #[test]
    fn ten_thousand_polls_with_one_token_are_one_alert() {
        let mut book = AlertBook::default();
        let mut sink = Collector::default();
        for i in 0..10_000 {
            book.record(&finding("tok-123456789", LeakKind::BearerOpaque), &ctx(i, "10.0.0.2:80"), &mut sink);
        }
        assert_eq!(sink.0.len(), 1);
        assert_eq!(book.len(), 1);
        let a = &book.alerts()[0];
        assert_eq!(a.count, 10_000);
        assert_eq!(a.first_seen, Timestamp(0));
        assert_eq!(a.last_seen, Timestamp(9_999));
        assert_eq!(sink.0[0].count, 10_000);
    }

    #[test]
    fn same_secret_to_other_server_or_kind_is_another_leak() {
        let mut book = AlertBook::default();
        let mut sink = Collector::default();
        book.record(&finding("tok-123456789", LeakKind::BearerOpaque), &ctx(0, "10.0.0.2:80"), &mut sink);
        book.record(&finding("tok-123456789", LeakKind::BearerOpaque), &ctx(1, "10.0.0.3:80"), &mut sink);
        book.record(&finding("tok-123456789", LeakKind::CookieToken), &ctx(2, "10.0.0.2:80"), &mut sink);
        assert_eq!(sink.0.len(), 3);
    }

    #[test]
    fn full_book_still_emits_new_leaks_and_counts_overflow() {
        let mut book = AlertBook::new(2);
        let mut sink = Collector::default();
        for i in 0..5 {
            book.record(&finding(&format!("tok-{i:09}"), LeakKind::BearerOpaque), &ctx(i, "10.0.0.2:80"), &mut sink);
        }
        assert_eq!(sink.0.len(), 5);
        assert_eq!(book.len(), 2);
        assert_eq!(book.overflow(), 3);
    }

    #[test]
    fn a_book_remembers_only_what_its_reserved_memory_holds_and_counts_the_rest() {
        let budget = crate::memory::Budget::new(1 << 20);
        let r = budget.reserve(64 << 10);
        assert_eq!(r.bytes(), 64 << 10);
        let mut book = AlertBook::with_memory(DEFAULT_MAX_ALERTS, BookMemory::reserved(r));
        let mut sink = Collector::default();
        // Long secrets with long excerpts: an attacker inventing them fills the book by bytes long
        // before its count.
        for i in 0..1000 {
            let secret = format!("tok-{i:09}-{}", "s".repeat(500));
            let mut c = ctx(i, "10.0.0.2:80");
            c.excerpt = Arc::from(vec![crate::secret::Text::lit("e".repeat(1000))]);
            book.record(&finding(&secret, LeakKind::BearerOpaque), &c, &mut sink);
        }
        assert_eq!(sink.0.len(), 1000, "every leak is still emitted");
        assert!(book.len() > 10 && book.len() < 100, "{}", book.len());
        assert_eq!(book.overflow(), 1000 - book.len() as u64);
        assert!(book.memory_used() <= 64 << 10);
        // Each remembered alert was charged at least what its secret and excerpt hold.
        assert!(book.memory_used() >= book.len() * 1500);
        drop(book);
        assert_eq!(budget.reserved(), 0, "the reservation goes with the book");
    }

    #[test]
    fn user_names_past_eight_or_past_the_memory_are_counted_not_kept() {
        let mut book = AlertBook::default();
        let mut sink = Collector::default();
        let mut refused = finding("pw", LeakKind::FormLogin);
        refused.login = Some(crate::detect::LoginInfo {
            mechanism: "form",
            verdict: crate::detect::Verdict::Refused,
            tls: crate::proto::TlsNote::NotOffered,
            transcript: Vec::new(),
            material: None,
        });
        for i in 0..12 {
            refused.secret = Secret::new(&format!("pw{i}"));
            refused.user = Some(crate::secret::Text::lit(format!("user{i}")));
            book.record(&refused, &ctx(i, "10.0.0.2:80"), &mut sink);
        }
        assert_eq!(book.len(), 1, "refused logins against one server are one alert");
        assert_eq!(book.alerts()[0].users.len(), crate::alert::MAX_USERS);
        assert_eq!(book.users_not_kept(), 12 - crate::alert::MAX_USERS as u64);
    }

    #[test]
    fn record_redacts_secret_everywhere_unless_revealed() {
        let mut book = AlertBook::default();
        let mut sink = Collector::default();
        let mut c = ctx(0, "10.0.0.2:80");
        let mut path = crate::secret::Text::lit("/x?access_token=");
        path.push_secret(Secret::new("tok-123456789"));
        c.path = Some(path);
        book.record(&finding("tok-123456789", LeakKind::UrlToken), &c, &mut sink);
        let rec = book.alerts()[0].record(crate::alert::Reveal::Redacted);
        let json = serde_json::to_string(&rec).unwrap();
        assert!(!json.contains("tok-123456789"), "{json}");
        let rec = book.alerts()[0].record(crate::alert::Reveal::Full);
        assert_eq!(rec.secret, "tok-123456789");
    }
}
