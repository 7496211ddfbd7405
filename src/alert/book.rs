//! The book of leaks: dedup by (secret, kind, server); refused logins by (kind, server).
//!
//! A client polling an API with one token 10,000 times is one leak seen 10,000 times, not 10,000
//! alerts. The book keeps one [`Alert`] per key and raises its count and last-seen on repeats.
//!
//! It is bounded: garbage or an attacker can invent secrets faster than anyone can read alerts. Past
//! `max_alerts` distinct leaks, new ones are still emitted to the sinks (nothing is hidden) but no longer
//! remembered for dedup, and `overflow` counts them.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::{Alert, AlertId, AlertSink, Context};
use crate::detect::{Finding, LeakKind};

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
    next_id: u64,
    overflow: u64,
    sightings: u64,
    /// Distinct leaks of the material class emitted (remembered or not).
    material: u64,
}

impl Default for AlertBook {
    fn default() -> Self {
        AlertBook::new(100_000)
    }
}

impl AlertBook {
    pub fn new(max_alerts: usize) -> AlertBook {
        AlertBook {
            alerts: Vec::new(),
            index: HashMap::new(),
            max_alerts,
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
                a.add_user(f.user.as_ref());
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
        if self.alerts.len() < self.max_alerts {
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
