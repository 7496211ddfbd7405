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

/// `2026-11-23T10:00:01.000000Z HIGH bearer_jwt 10.0.0.1:50000 -> 10.0.0.2:80 shop.lab GET /api user=alice secret=eyJhbGciOi…[..] jwt: replayable for 59 min`
pub fn line(a: &Alert, reveal: Reveal) -> String {
    let r = a.record(reveal);
    let mut s = format!(
        "{} {} {} {} -> {} {} {} {}",
        r.first_seen,
        r.severity.as_str().to_uppercase(),
        r.kind.as_str(),
        r.client,
        r.server,
        r.host.as_deref().unwrap_or("-"),
        r.method.as_deref().unwrap_or("-"),
        r.path.as_deref().unwrap_or("-"),
    );
    if let Some(u) = &r.user {
        s.push_str(&format!(" user={u}"));
    }
    s.push_str(&format!(" secret={} fp={}", r.secret, r.fingerprint));
    if let Some(j) = &a.jwt {
        s.push_str(&format!(" jwt: {}", crate::output::report::validity_text(j)));
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
