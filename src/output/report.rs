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

/// An input that was not analysed, or not in full: its name and why.
#[derive(Clone, Debug)]
pub struct NotAnalysed {
    pub input: String,
    pub why: String,
}

/// The alerts grouped by server, most severe first, a server's fixes seen missing first as `fix:` lines;
/// `noun` names one and several of them.
fn groups(s: &mut String, alerts: &[&Alert], reveal: Reveal, noun: (&str, &str)) {
    let mut groups: BTreeMap<(String, String), Vec<&Alert>> = BTreeMap::new();
    for a in alerts {
        let name = a.host.clone().unwrap_or_else(|| a.server.ip().to_string());
        groups.entry((name, a.server.to_string())).or_default().push(a);
    }
    for ((name, addr), list) in groups {
        // The fixes seen missing at this server are `fix:` lines, not leaks.
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
            "== {} ({addr}): {n} {}{missing} ==",
            clean(&name, term::HOST),
            if n == 1 { noun.0 } else { noun.1 }
        );
        fix_lines(s, &fixes);
        for a in list {
            let r = a.record(reveal);
            // HTTP leaks name the request, WebSocket ones the upgraded path; the other protocols their
            // protocol and mechanism.
            let (what, at) = if r.protocol == "http" {
                (clean(r.method.as_deref().unwrap_or("-"), 16), clean(r.path.as_deref().unwrap_or("-"), term::PATH))
            } else if r.protocol == "websocket" {
                (r.protocol.to_string(), clean(r.path.as_deref().unwrap_or("-"), term::PATH))
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
            let _ =
                writeln!(s, "           {user}{} {}", clean(&r.location, term::NAME), clean(&r.secret, term::SECRET));
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
///
/// Cleartext leaks (passwords, tokens) and crackable material (hashes and challenge responses: CRAM-MD5,
/// SCRAM, Digest, NTLM, MySQL native, PostgreSQL md5) are counted and listed apart: material is no
/// credential in clear, but what an attacker can crack offline.
pub fn render(alerts: &[Alert], hosts: &[HostStats], tls_flows: u64, reveal: Reveal) -> String {
    render_inputs(alerts, hosts, tls_flows, reveal, &[])
}

/// [`render`], saying which inputs were not analysed (in full): a run that could not read an input
/// never claims that nothing crossed in clear.
pub fn render_inputs(
    alerts: &[Alert],
    hosts: &[HostStats],
    tls_flows: u64,
    reveal: Reveal,
    not_analysed: &[NotAnalysed],
) -> String {
    let mut s = String::new();
    // The fixes seen missing (`detect::fixes`) are no credentials: told apart, as `fix:` lines; crackable
    // material (hash-only exchanges) too, in a section of its own.
    let fixes: Vec<&Alert> = alerts.iter().filter(|a| a.kind.is_fix()).collect();
    let (material, clear): (Vec<&Alert>, Vec<&Alert>) =
        alerts.iter().filter(|a| !a.kind.is_fix()).partition(|a| a.class.is_material());
    // One fix per kind and server (its alerts are the credentials or clients it concerns).
    let n_fixes =
        fixes.iter().map(|a| (a.kind, a.server, a.host.as_deref())).collect::<std::collections::BTreeSet<_>>().len();
    if clear.is_empty() && !not_analysed.is_empty() {
        let n = not_analysed.len();
        let _ = writeln!(
            s,
            "plainsight: no credential found in what could be read; {n} input{} not analysed in full (below).",
            if n == 1 { " was" } else { "s were" }
        );
    } else if clear.is_empty() {
        let _ = writeln!(s, "plainsight: no credential crossed the network in clear text.");
    } else {
        let noun = if clear.len() == 1 { "credential" } else { "credentials" };
        let _ = writeln!(
            s,
            "plainsight: {} {noun} crossed the network in clear text ({}).",
            clear.len(),
            severity_counts(clear.iter().copied())
        );
    }
    if n_fixes > 0 {
        let _ = writeln!(
            s,
            "{n_fixes} fix{} seen missing from the wire (redirect window, HSTS, mixed content): the fix: lines below.",
            if n_fixes == 1 { "" } else { "es" }
        );
    }
    if !material.is_empty() {
        let noun = if material.len() == 1 { "exchange" } else { "exchanges" };
        let _ = writeln!(
            s,
            "plainsight: {} hash-only {noun} gave crackable material (no password in clear; --export-hashes writes them for hashcat).",
            material.len()
        );
    }
    if (!clear.is_empty() || !material.is_empty()) && reveal == Reveal::Redacted {
        let _ = writeln!(s, "Secrets are redacted (length and fingerprint); --reveal shows them in full.");
    }
    let with_fixes: Vec<&Alert> = clear.iter().chain(fixes.iter()).copied().collect();
    groups(&mut s, &with_fixes, reveal, ("leak", "leaks"));
    if !material.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "== Crackable material (hash or challenge response only, not cleartext) ==");
        groups(&mut s, &material, reveal, ("hash exchange", "hash exchanges"));
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
    if !not_analysed.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Not analysed in full (what they hold past the point named is not in this report):");
        for n in not_analysed {
            let _ = writeln!(s, "  {}: {}", clean(&n.input, term::LINE), clean(&n.why, term::LINE));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::alert::{AlertId, Context, Secret, Text};
    use crate::detect::{Confidence, Finding, LeakKind, SecretClass};
    use crate::time::Timestamp;

    fn alert(id: u64, kind: LeakKind, class: SecretClass, secret: &str) -> Alert {
        let f = Finding {
            kind,
            class,
            confidence: Confidence::High,
            secret: Secret::new(secret),
            user: Some(Text::user("alice")),
            location: "md5".into(),
            evidence: "evidence".into(),
            jwt: None,
            login: None,
            span: None,
        };
        let ctx = Context {
            ts: Timestamp::from_secs(1_795_000_000),
            client: "10.77.0.1:43000".parse().unwrap_or_else(|_| unreachable!()),
            server: "10.77.0.2:5432".parse().unwrap_or_else(|_| unreachable!()),
            host: None,
            method: None,
            path: None,
            capture: Arc::from("x.pcap"),
            excerpt: Arc::from(Vec::<Text>::new()),
            conversation: None,
            packet: 0,
        };
        Alert::new(AlertId(id), &f, &ctx)
    }

    #[test]
    fn material_is_counted_and_listed_apart_from_cleartext_leaks() {
        let clear = alert(1, LeakKind::PostgresCleartext, SecretClass::Password, "pw-in-clear");
        let hash = alert(2, LeakKind::PostgresCleartext, SecretClass::Material, "md5abcdef0123456789");
        let r = render(&[clear.clone(), hash.clone()], &[], 0, Reveal::Redacted);
        assert!(r.starts_with("plainsight: 1 credential crossed the network in clear text (1 critical).\n"), "{r}");
        assert!(r.contains("plainsight: 1 hash-only exchange gave crackable material"), "{r}");
        let (before, after) = r.split_once("== Crackable material").unwrap_or_else(|| panic!("no section: {r}"));
        assert!(before.contains("CRITICAL") && !before.contains(&hash.secret.redacted()), "{r}");
        assert!(after.contains(&hash.secret.redacted()) && after.contains("1 hash exchange =="), "{r}");
        assert!(after.contains("nothing to replay"), "{r}");
        let only = render(&[hash], &[], 0, Reveal::Redacted);
        assert!(only.starts_with("plainsight: no credential crossed the network in clear text.\n"), "{only}");
        assert!(only.contains("gave crackable material"), "{only}");
    }

    fn fix_alert(id: u64, kind: LeakKind, evidence: &str, count: u64) -> Alert {
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
            client: "10.0.0.1:40000".parse().unwrap_or_else(|_| unreachable!()),
            server: "10.0.0.2:80".parse().unwrap_or_else(|_| unreachable!()),
            host: Some("shop.lab".into()),
            method: Some("GET".into()),
            path: None,
            capture: "t.pcap".into(),
            excerpt: Vec::new().into(),
            conversation: None,
            packet: 0,
        };
        let mut a = Alert::new(AlertId(id), &f, &ctx);
        a.count = count;
        a
    }

    #[test]
    fn fixes_seen_missing_are_fix_lines_of_their_server_not_credentials() {
        let alerts = [
            fix_alert(1, LeakKind::CookieToken, "session cookie", 1),
            fix_alert(2, LeakKind::SslstripWindow, "redirect window: carried cookie sid", 2),
            fix_alert(3, LeakKind::HstsMissing, "HSTS absent or ignored: \x1b[31mred", 1),
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
