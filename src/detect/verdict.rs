//! HTTP logins and the server's answer: the status of the response to the request that carried a
//! password is its verdict, as the other protocols' parsers read theirs from the server's reply.
//!
//! - Basic (`Authorization`): 401 is a refusal; a 2xx or 3xx answer means the credentials worked.
//! - A proxy login (`Proxy-Authorization: Basic`): 407 is a refusal (and 401, which tinyproxy sends);
//!   anything else got past the proxy.
//! - NTLM (the type 3 message): 401 (407 through a proxy) is a refusal, 2xx or 3xx an acceptance.
//! - A password in a header (Swift tempauth's `X-Auth-Key`): 401 and 403 are refusals, a 2xx or 3xx
//!   answer an acceptance (Swift answers with the token in `X-Auth-Token`).
//! - A login form or JSON login: 401 and 403 are refusals. Anything else says nothing (applications
//!   answer a wrong password with 200 and an error page, or a redirect to the form): unknown.
//!
//! A refused login is a near miss or a brute force in progress: severity medium, and every refused
//! attempt against one server folds into one alert. The findings of a request wait in [`Awaiting`]
//! until its answer (bounded: past [`MAX_AWAITING`] they are recorded at once, verdict unknown).

use std::collections::VecDeque;

pub use super::fixes::Answer;
use super::{Finding, LeakKind, LoginInfo, SecretClass, TlsNote, Verdict};

/// Logins waiting for their answer, per connection (a client pipelining more is not waited for).
pub const MAX_AWAITING: usize = 16;

/// The status a response answers its request with, for the verdict: its HTTP status, except for gRPC,
/// whose calls are all answered 200 and say how they went in `grpc-status` (a trailer field, kept with
/// the headers): UNAUTHENTICATED (16) reads as 401, PERMISSION_DENIED (7) as 403, the rest as sent.
pub fn answer_status(resp: &crate::http::Response) -> u16 {
    if resp.version == 2 && crate::http::h2::grpc::is_grpc(resp.headers.get("content-type")) {
        match resp.headers.get("grpc-status") {
            Some(b"16") => return 401,
            Some(b"7") => return 403,
            _ => {}
        }
    }
    resp.status
}

/// Whether a finding's verdict comes with the response to its request.
pub fn awaits_answer(f: &Finding) -> bool {
    (matches!(
        f.kind,
        LeakKind::HttpProxyBasic
            | LeakKind::BasicAuth
            | LeakKind::FormLogin
            | LeakKind::JsonLogin
            | LeakKind::HeaderPassword
    ) && f.class == SecretClass::Password)
        || f.kind == LeakKind::HttpNtlm
}

/// Settle `f` with the status of the response to its request (`None`: no answer was seen).
pub fn settle(f: &mut Finding, status: Option<u16>) {
    let (verdict, by) = match (f.kind, status) {
        (_, None) => (Verdict::Unknown, ""),
        (LeakKind::HttpProxyBasic, Some(401 | 407)) => (Verdict::Refused, "refused by the proxy"),
        (LeakKind::HttpProxyBasic, Some(_)) => (Verdict::Accepted, "accepted by the proxy"),
        (LeakKind::BasicAuth, Some(401)) => (Verdict::Refused, "refused by the server (401)"),
        (LeakKind::BasicAuth | LeakKind::HeaderPassword, Some(200..=399)) => {
            (Verdict::Accepted, "accepted by the server")
        }
        (LeakKind::HeaderPassword, Some(401 | 403)) => (Verdict::Refused, "refused by the server"),
        (LeakKind::HttpNtlm, Some(401 | 407)) => (Verdict::Refused, "refused by the server"),
        (LeakKind::HttpNtlm, Some(200..=399)) => (Verdict::Accepted, "accepted by the server"),
        // A STOMP `CONNECTED` frame (`detect::ws::stomp_answer`).
        (LeakKind::WebsocketLogin, Some(200)) => (Verdict::Accepted, "accepted by the server"),
        (_, Some(401 | 403)) => (Verdict::Refused, "refused by the server"),
        (_, Some(_)) => (Verdict::Unknown, ""),
    };
    if verdict == Verdict::Unknown && f.login.is_none() {
        // Nothing learnt: the finding stays a plain finding (no verdict field), as before it waited.
        return;
    }
    let mechanism = match f.kind {
        LeakKind::HttpProxyBasic | LeakKind::BasicAuth => "Basic",
        LeakKind::HttpNtlm => "NTLM",
        LeakKind::JsonLogin => "JSON login",
        LeakKind::HeaderPassword => "header password",
        _ => "login form",
    };
    let login = f.login.get_or_insert_with(|| LoginInfo {
        mechanism,
        verdict: Verdict::Unknown,
        tls: TlsNote::NotOffered,
        transcript: Vec::new(),
        material: None,
    });
    login.verdict = verdict;
    if !by.is_empty() {
        f.evidence = format!("{}, {by}", f.evidence);
    }
}

/// The logins of a connection's requests waiting for their answers, with whatever the caller keeps
/// beside each (its alert context).
#[derive(Debug)]
pub struct Awaiting<C> {
    items: VecDeque<(u64, Finding, C)>,
}

impl<C> Default for Awaiting<C> {
    fn default() -> Self {
        Awaiting { items: VecDeque::new() }
    }
}

impl<C> Awaiting<C> {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Hold `f` (carried by request `seq`) until its answer. When full, it comes back to be recorded at
    /// once, settled as unanswered.
    pub fn hold(&mut self, seq: u64, f: Finding, ctx: C) -> Option<(Finding, C)> {
        if self.items.len() >= MAX_AWAITING {
            // A redirect-window candidate is nothing without its answer.
            if f.kind == LeakKind::SslstripWindow {
                return None;
            }
            let mut f = f;
            settle(&mut f, None);
            return Some((f, ctx));
        }
        // Most connections hold one login at a time: room for one, not the four a first push reserves.
        if self.items.capacity() == 0 {
            self.items.reserve_exact(1);
        }
        self.items.push_back((seq, f, ctx));
        None
    }

    /// A final response (status 200 or more) to request `seq` (`None`: the HTTP parser could not tell
    /// which request it answers). Its logins are settled with the answer's status, its redirect-window
    /// candidate kept if the answer redirects to `https://` on the same host; logins of earlier requests
    /// never got an answer of their own (settled unknown); with no `seq`, nothing is known of any of
    /// them.
    pub fn answered(&mut self, seq: Option<u64>, answer: &Answer, out: &mut Vec<(Finding, C)>) {
        let Some(seq) = seq else {
            self.drain(out);
            return;
        };
        while self.items.front().is_some_and(|(s, _, _)| *s <= seq) {
            if let Some((s, f, c)) = self.items.pop_front() {
                settle_item(f, c, (s == seq).then_some(answer), out);
            }
        }
    }

    /// A final response to request `seq` on a connection whose responses come in any order (HTTP/2
    /// streams): only that request's logins are settled; the others wait for their own answer.
    pub fn answered_one(&mut self, seq: Option<u64>, answer: &Answer, out: &mut Vec<(Finding, C)>) {
        let Some(seq) = seq else { return };
        while let Some(i) = self.items.iter().position(|(s, _, _)| *s == seq) {
            if let Some((_, f, c)) = self.items.remove(i) {
                settle_item(f, c, Some(answer), out);
            }
        }
    }

    /// The connection ended: every login still waiting, unanswered (a redirect-window candidate
    /// unanswered is nothing).
    pub fn drain(&mut self, out: &mut Vec<(Finding, C)>) {
        for (_, mut f, c) in self.items.drain(..) {
            if f.kind == LeakKind::SslstripWindow {
                continue;
            }
            settle(&mut f, None);
            out.push((f, c));
        }
    }
}

/// One held finding and the answer to its own request (`None`: it got none): a login is settled, a
/// redirect-window candidate kept only when the answer redirects to `https://` on the same host.
fn settle_item<C>(mut f: Finding, c: C, own: Option<&Answer>, out: &mut Vec<(Finding, C)>) {
    if f.kind == LeakKind::SslstripWindow {
        if own.is_some_and(|a| a.https_same_host) {
            out.push((f, c));
        }
        return;
    }
    settle(&mut f, own.map(|a| a.status));
    out.push((f, c));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Config, Found, detect_request};
    use crate::http::{Body, Headers, Request};
    use crate::time::Timestamp;

    fn basic(seq: u64, header: &str) -> Finding {
        let req = Request {
            method: "GET".into(),
            target: "/".into(),
            version: 1,
            headers: Headers::from_iter([(header, "Basic YWxpY2U6czNjcmV0LXB3")]),
            body: Body::default(),
            ts: Timestamp::ZERO,
            seq,
        };
        let mut found = Found::default();
        detect_request(&Config::default(), &req, Timestamp::ZERO, &mut found);
        found.findings.remove(0)
    }

    fn verdict(f: &Finding) -> Option<Verdict> {
        f.login.as_ref().map(|l| l.verdict)
    }

    #[test]
    fn basic_401_refuses_2xx_and_3xx_accept_proxy_407_and_401_refuse() {
        for (header, status, want) in [
            ("Authorization", 401, Verdict::Refused),
            ("Authorization", 200, Verdict::Accepted),
            ("Authorization", 302, Verdict::Accepted),
            ("Proxy-Authorization", 407, Verdict::Refused),
            ("Proxy-Authorization", 401, Verdict::Refused),
            ("Proxy-Authorization", 502, Verdict::Accepted),
        ] {
            let mut f = basic(0, header);
            assert!(awaits_answer(&f));
            settle(&mut f, Some(status));
            assert_eq!(verdict(&f), Some(want), "{header} {status}");
        }
    }

    #[test]
    fn an_answer_that_tells_nothing_leaves_a_form_login_without_a_verdict() {
        let mut f = basic(0, "Authorization");
        settle(&mut f, Some(500));
        assert_eq!(verdict(&f), None);
        let mut p = basic(0, "Proxy-Authorization");
        settle(&mut p, None);
        assert_eq!(verdict(&p), Some(Verdict::Unknown), "a proxy login says it had no answer");
    }

    #[test]
    fn a_response_settles_its_own_request_never_a_later_one() {
        let mut a: Awaiting<u32> = Awaiting::default();
        assert!(a.hold(1, basic(1, "Authorization"), 1).is_none());
        assert!(a.hold(3, basic(3, "Authorization"), 3).is_none());
        let mut out = Vec::new();
        // The answer to request 0 (no login) settles nothing; to request 1, its login.
        a.answered(Some(0), &Answer::status(401), &mut out);
        assert!(out.is_empty());
        a.answered(Some(1), &Answer::status(401), &mut out);
        assert_eq!(out.iter().map(|(f, c)| (verdict(f), *c)).collect::<Vec<_>>(), [(Some(Verdict::Refused), 1)]);
        out.clear();
        // Request 3's answer got lost; request 4's comes: 3 is settled unanswered.
        a.answered(Some(4), &Answer::status(200), &mut out);
        assert_eq!(out.iter().map(|(f, c)| (verdict(f), *c)).collect::<Vec<_>>(), [(None, 3)]);
        assert!(a.is_empty());
    }

    #[test]
    fn past_the_cap_a_login_is_recorded_at_once_unanswered() {
        let mut a: Awaiting<u32> = Awaiting::default();
        for i in 0..MAX_AWAITING as u64 {
            assert!(a.hold(i, basic(i, "Authorization"), 0).is_none());
        }
        let back = a.hold(99, basic(99, "Authorization"), 7);
        assert_eq!(back.map(|(f, c)| (verdict(&f), c)), Some((None, 7)), "no verdict learnt");
    }
}
