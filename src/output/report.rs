//! The end-of-run report: every leak grouped by server, each with what an attacker on the path can do
//! with it. Plain text (no colour codes) so that it pastes into tickets and CI logs unchanged. Every
//! field passes through [`term::clean`]: what the traffic chose cannot drive the terminal or forge lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::term::{self, clean};
use crate::alert::{Alert, Reveal, Severity};
use crate::detect::jwt::{JwtInfo, Validity};
use crate::pipeline::HostStats;

/// The validity sentence of a JWT: "replayable for 59 min", "expired 3 days before capture", ...
pub fn validity_text(j: &JwtInfo) -> String {
    match &j.validity {
        Validity::Valid { text, .. }
        | Validity::Expired { text, .. }
        | Validity::NotYetValid { text, .. }
        | Validity::NoExpiry { text } => text.clone(),
    }
}

/// One line describing a JWT's header and claims.
pub fn jwt_summary(j: &JwtInfo) -> String {
    let mut parts = Vec::new();
    if j.encrypted {
        parts.push("JWE (encrypted payload, still replayable)".to_string());
    }
    if let Some(alg) = &j.alg {
        let note = if j.alg_none {
            " (UNSIGNED: alg none)"
        } else if j.symmetric {
            " (shared secret: brute-forceable offline)"
        } else {
            ""
        };
        parts.push(format!("alg {alg}{note}"));
    }
    if let Some(v) = &j.sub {
        parts.push(format!("sub {v}"));
    }
    if let Some(v) = &j.iss {
        parts.push(format!("iss {v}"));
    }
    if !j.roles.is_empty() {
        parts.push(format!("roles {}", j.roles.join(",")));
    }
    if let Some(v) = &j.scope {
        parts.push(format!("scope {v}"));
    }
    parts.push(validity_text(j));
    parts.join(", ")
}

fn severity_counts<'a>(alerts: impl IntoIterator<Item = &'a Alert>) -> String {
    let mut counts: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for a in alerts {
        *counts.entry(std::cmp::Reverse(a.severity)).or_default() += 1;
    }
    counts.iter().map(|(s, n)| format!("{n} {}", s.0)).collect::<Vec<_>>().join(", ")
}

/// The per-server summary's `fix:` lines: one per kind of fix seen missing at this server (the
/// sightings of its alerts added up), with the first alert's evidence. Every field through [`clean`].
fn fix_lines(s: &mut String, fixes: &[&Alert]) {
    let mut by_kind: BTreeMap<&'static str, (u64, &Alert)> = BTreeMap::new();
    for a in fixes {
        let e = by_kind.entry(a.kind.as_str()).or_insert((0, a));
        e.0 += a.count;
        if a.id < e.1.id {
            e.1 = a;
        }
    }
    for (kind, (n, first)) in by_kind {
        let times = if n == 1 { "seen once".to_string() } else { format!("seen {n} times") };
        let _ = writeln!(s, "  fix: {} ({kind}, {times})", clean(&first.evidence, term::EVIDENCE));
    }
}

/// Render the report. `tls_flows` and `hosts` give the contrast: what was protected.
pub fn render(alerts: &[Alert], hosts: &[HostStats], tls_flows: u64, reveal: Reveal) -> String {
    let mut s = String::new();
    // The fixes seen missing (`detect::fixes`) are no credentials: told apart, as `fix:` lines.
    let leaks: Vec<&Alert> = alerts.iter().filter(|a| !a.kind.is_fix()).collect();
    // One fix per kind and server (its alerts are the credentials or clients it concerns).
    let fixes = alerts
        .iter()
        .filter(|a| a.kind.is_fix())
        .map(|a| (a.kind, a.server, a.host.as_deref()))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if leaks.is_empty() {
        let _ = writeln!(s, "plainsight: no credential crossed the network in clear text.");
    } else {
        let noun = if leaks.len() == 1 { "credential" } else { "credentials" };
        let _ = writeln!(
            s,
            "plainsight: {} {noun} crossed the network in clear text ({}).",
            leaks.len(),
            severity_counts(leaks.iter().copied())
        );
    }
    if fixes > 0 {
        let _ = writeln!(
            s,
            "{fixes} fix{} seen missing from the wire (redirect window, HSTS, mixed content): the fix: lines below.",
            if fixes == 1 { "" } else { "es" }
        );
    }
    if !alerts.is_empty() {
        if reveal == Reveal::Redacted && !leaks.is_empty() {
            let _ = writeln!(s, "Secrets are redacted (length and fingerprint); --reveal shows them in full.");
        }
        // Group by server, most severe first.
        let mut groups: BTreeMap<(String, String), Vec<&Alert>> = BTreeMap::new();
        for a in alerts {
            let name = a.host.clone().unwrap_or_else(|| a.server.ip().to_string());
            groups.entry((name, a.server.to_string())).or_default().push(a);
        }
        for ((name, addr), list) in groups {
            let (fixes, mut list): (Vec<&Alert>, Vec<&Alert>) = list.into_iter().partition(|a| a.kind.is_fix());
            list.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
            let n = list.len();
            let _ = writeln!(s);
            let kinds = fixes.iter().map(|a| a.kind).collect::<std::collections::BTreeSet<_>>().len();
            let missing = match kinds {
                0 => String::new(),
                1 => ", a fix missing".to_string(),
                f => format!(", {f} fixes missing"),
            };
            let _ = writeln!(
                s,
                "== {} ({addr}): {n} leak{}{missing} ==",
                clean(&name, term::HOST),
                if n == 1 { "" } else { "s" }
            );
            fix_lines(&mut s, &fixes);
            for a in list {
                let r = a.record(reveal);
                // HTTP leaks name the request; the other protocols their protocol and mechanism.
                let (what, at) = if r.protocol == "http" {
                    (clean(r.method.as_deref().unwrap_or("-"), 16), clean(r.path.as_deref().unwrap_or("-"), term::PATH))
                } else {
                    (r.protocol.to_string(), clean(&r.location, term::NAME))
                };
                let _ = writeln!(
                    s,
                    "  {:<8} {:<20} {what} {at} from {}",
                    r.severity.as_str().to_uppercase(),
                    r.kind.as_str(),
                    r.client,
                );
                let user = r.user.as_deref().map(|u| format!("user {}, ", clean(u, term::USER))).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "           {user}{} {}",
                    clean(&r.location, term::NAME),
                    clean(&r.secret, term::SECRET)
                );
                let times = if a.count > 1 {
                    format!("seen {} times, {} .. {}", a.count, r.first_seen, r.last_seen)
                } else {
                    format!("seen once, {}", r.first_seen)
                };
                let _ = writeln!(s, "           {times}");
                // One attempt's verdict is in the evidence; attempts folded together are told here.
                if a.count > 1 {
                    if let Some(v) = a.verdict_line(reveal) {
                        let _ = writeln!(s, "           {}", clean(&v, term::LINE));
                    }
                }
                if !r.evidence.is_empty() {
                    let _ = writeln!(s, "           {}", clean(&r.evidence, term::EVIDENCE));
                }
                if let Some(j) = &a.jwt {
                    let _ = writeln!(s, "           JWT: {}", clean(&jwt_summary(j), term::LINE));
                }
                let _ = writeln!(s, "           attacker on the path: {}", clean(&r.replay, term::SECRET));
            }
        }
    }
    let tls_hosts: Vec<String> = hosts.iter().filter(|h| h.tls_flows > 0).map(|h| clean(&h.name, term::HOST)).collect();
    if tls_flows > 0 {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "TLS-protected flows: {tls_flows} ({}): their content is unreadable on the wire, nothing to report.",
            if tls_hosts.is_empty() { "-".to_string() } else { tls_hosts.join(", ") }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertId, Context};
    use crate::detect::{Confidence, Finding, LeakKind, SecretClass};
    use crate::secret::Secret;
    use crate::time::Timestamp;

    fn alert(id: u64, kind: LeakKind, evidence: &str, count: u64) -> Alert {
        let f = Finding {
            kind,
            class: if kind == LeakKind::HstsMissing { SecretClass::Identifier } else { SecretClass::Token },
            confidence: Confidence::High,
            secret: Secret::new(if kind == LeakKind::HstsMissing { "" } else { "sess-0123456789" }),
            user: None,
            location: "cookie sid".into(),
            evidence: evidence.into(),
            jwt: None,
            login: None,
            span: None,
        };
        let ctx = Context {
            ts: Timestamp::from_secs(1_795_000_000),
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:80".parse().unwrap(),
            host: Some("shop.lab".into()),
            method: Some("GET".into()),
            path: None,
            capture: "t.pcap".into(),
            excerpt: Vec::new().into(),
        };
        let mut a = Alert::new(AlertId(id), &f, &ctx);
        a.count = count;
        a
    }

    #[test]
    fn fixes_seen_missing_are_fix_lines_of_their_server_not_credentials() {
        let alerts = [
            alert(1, LeakKind::CookieToken, "session cookie", 1),
            alert(2, LeakKind::SslstripWindow, "redirect window: carried cookie sid", 2),
            alert(3, LeakKind::HstsMissing, "HSTS absent or ignored: \x1b[31mred", 1),
        ];
        let r = render(&alerts, &[], 0, Reveal::Redacted);
        assert!(r.starts_with("plainsight: 1 credential crossed the network in clear text (1 high)."), "{r}");
        assert!(r.contains("2 fixes seen missing from the wire"), "{r}");
        assert!(r.contains("== shop.lab (10.0.0.2:80): 1 leak, 2 fixes missing =="), "{r}");
        assert!(r.contains("  fix: redirect window: carried cookie sid (sslstrip_window, seen 2 times)"), "{r}");
        assert!(r.contains("  fix: HSTS absent or ignored: "), "{r}");
        assert!(!r.contains('\x1b'), "attacker text through term::clean: {r:?}");
        let only = render(&alerts[2..], &[], 0, Reveal::Redacted);
        assert!(
            only.starts_with("plainsight: no credential crossed the network in clear text.\n1 fix seen missing"),
            "{only}"
        );
    }
}
