//! One human-readable line per new leak (`live --no-tui`): for a terminal, a service log or `grep`.

use std::io::{self, Write};

use crate::alert::{Alert, AlertSink, Reveal};

pub struct AlertLines<W: Write> {
    out: W,
    reveal: Reveal,
    broken: bool,
}

impl<W: Write> AlertLines<W> {
    pub fn new(out: W, reveal: Reveal) -> Self {
        AlertLines { out, reveal, broken: false }
    }
}

/// `2026-11-23T10:00:01.000000Z HIGH bearer_jwt 10.0.0.1:50000 -> 10.0.0.2:80 shop.lab GET /api user=alice secret=eyJhbGciOi…[..] jwt: replayable for 59 min`,
/// `2026-12-01T17:04:27.781111Z CRITICAL ftp_login 10.77.0.1:44852 -> 10.77.0.2:21 - ftp USER/PASS user=alice secret=…[15 chars, fp ed0916a37284] fp=ed0916a37284 verdict=accepted`
pub fn line(a: &Alert, reveal: Reveal) -> String {
    use super::term::{self, clean};
    let r = a.record(reveal);
    // HTTP leaks name host, method and path; the other protocols their protocol and mechanism.
    let (host, what, at) = if r.protocol == "http" {
        (
            clean(r.host.as_deref().unwrap_or("-"), term::HOST),
            clean(r.method.as_deref().unwrap_or("-"), 16),
            clean(r.path.as_deref().unwrap_or("-"), term::PATH),
        )
    } else {
        ("-".to_string(), r.protocol.to_string(), clean(&r.location, term::NAME))
    };
    let mut s = format!(
        "{} {} {} {} -> {} {host} {what} {at}",
        r.first_seen,
        r.severity.as_str().to_uppercase(),
        r.kind.as_str(),
        r.client,
        r.server,
    );
    if let Some(u) = &r.user {
        s.push_str(&format!(" user={}", clean(u, term::USER)));
    }
    // A missing fix (`hsts_missing`) names no secret: no empty `secret=` and fingerprint of nothing.
    if !a.secret.is_empty() {
        s.push_str(&format!(" secret={} fp={}", clean(&r.secret, term::SECRET), r.fingerprint));
    }
    if let Some(v) = r.verdict {
        s.push_str(&format!(" verdict={}", v.short().replace(' ', "-")));
    }
    if let Some(t) = r.starttls {
        s.push_str(&format!(" starttls={t}"));
    }
    if let Some(j) = &a.jwt {
        s.push_str(&format!(" jwt: {}", clean(&crate::output::report::validity_text(j), term::EVIDENCE)));
    }
    s
}

impl<W: Write> AlertSink for AlertLines<W> {
    fn on_new(&mut self, alert: &Alert) {
        if self.broken {
            return;
        }
        let l = line(alert, self.reveal);
        if writeln!(self.out, "{l}").and_then(|()| self.out.flush()).is_err() {
            // A closed pipe or a full disk: stop writing, keep analysing (the alert file still gets it).
            self.broken = true;
        }
    }
}

impl AlertLines<io::Stdout> {
    pub fn stdout(reveal: Reveal) -> Self {
        AlertLines::new(io::stdout(), reveal)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::alert::{AlertId, Context};
    use crate::proto::{Cred, Login, Proto, TlsNote, Verdict};
    use crate::time::Timestamp;

    #[test]
    fn a_login_line_names_protocol_mechanism_verdict_and_starttls_without_the_password() {
        let mut login = Login::attempt(
            Proto::Imap,
            "LOGIN",
            Some(crate::secret::Text::user("grace")),
            crate::secret::Secret::new("Gr@ce-1906-pass"),
            Cred::Password,
            true,
            Timestamp::from_secs(1_795_000_000),
        );
        login.verdict = Verdict::Accepted;
        assert_eq!(login.tls, TlsNote::OfferedNotUsed);
        let mut f = Vec::new();
        crate::detect::cleartext::detect(&login, login.ts, &mut f);
        let ctx = Context {
            ts: login.ts,
            client: "10.0.0.1:50000".parse().unwrap_or(std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
            server: "10.0.0.2:143".parse().unwrap_or(std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
            host: None,
            method: None,
            path: None,
            capture: Arc::from("t.pcap"),
            excerpt: Arc::from(Vec::<crate::secret::Text>::new()),
            conversation: None,
            packet: 0,
        };
        let a = Alert::new(AlertId(1), &f[0], &ctx);
        let l = line(&a, Reveal::Redacted);
        assert!(l.contains("imap_login 10.0.0.1:50000 -> 10.0.0.2:143 - imap LOGIN user=grace"), "{l}");
        assert!(l.contains("verdict=accepted") && l.contains("starttls=offered_not_used"), "{l}");
        assert!(!l.contains("Gr@ce-1906-pass"), "{l}");
    }

    #[test]
    fn a_missing_fix_line_names_its_request_but_no_secret_or_fingerprint() {
        let f = crate::detect::Finding {
            kind: crate::detect::LeakKind::HstsMissing,
            class: crate::detect::SecretClass::Identifier,
            confidence: crate::detect::Confidence::High,
            secret: crate::secret::Secret::new(""),
            user: None,
            location: "plain HTTP to a name seen over HTTPS".into(),
            evidence: "HSTS absent or ignored".into(),
            jwt: None,
            login: None,
            span: None,
        };
        let ctx = Context {
            ts: Timestamp::from_secs(1_795_000_000),
            client: std::net::SocketAddr::from(([10, 0, 0, 1], 40000)),
            server: std::net::SocketAddr::from(([10, 0, 0, 2], 80)),
            host: Some("shop.lab".into()),
            method: Some("POST".into()),
            path: Some("/login".into()),
            capture: Arc::from("t.pcap"),
            excerpt: Arc::from(Vec::<crate::secret::Text>::new()),
            conversation: None,
            packet: 0,
        };
        let l = line(&Alert::new(AlertId(1), &f, &ctx), Reveal::Full);
        assert!(l.ends_with("hsts_missing 10.0.0.1:40000 -> 10.0.0.2:80 shop.lab POST /login"), "{l}");
        assert!(!l.contains("secret=") && !l.contains("fp="), "{l}");
    }
}
