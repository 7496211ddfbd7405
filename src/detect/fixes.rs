//! The seed's fixes, seen from the wire: what a site should have done against sniffing, and did not.
//!
//! The seeds tell developers to redirect HTTP to HTTPS, send HSTS, and keep every page and form on
//! HTTPS. A passive sniffer can tell when one of them is missing, as findings of their own kinds
//! (severity info: the credentials they name are alerts of their own; these say what to fix):
//!
//! - **`sslstrip_window`**: a plaintext request that carried credentials (a cookie, an `Authorization`,
//!   a login body) was answered by a redirect to `https://` on the same host (or its `www.` twin). The
//!   redirect came too late for what that first request carried, and an attacker on the path answers it
//!   instead of the server and keeps the browser on HTTP (sslstrip). HSTS with preload is the fix: the
//!   browser never sends the plain request. The request's findings wait for its answer as a login waits
//!   for its verdict ([`super::verdict::Awaiting`]); a request without credentials is no finding (the
//!   hosts view counts its redirect).
//! - **`hsts_missing`**: a client reached a name over TLS (SNI) and later sent plain HTTP to the same
//!   name (`Host`): the site sends no HSTS, or the client ignored it. One finding per (client, name),
//!   whatever the plain request carried (its secret is empty; its evidence names what it carried).
//!   Kept in [`HstsTracker`], bounded ([`MAX_PAIRS`] pairs, the oldest forgotten and counted).
//! - **`mixed_content`**: a plaintext request whose `Referer` or `Origin` is an `https://` page, with
//!   the credentials it carried (a form of an HTTPS page posting to HTTP, a script fetching an HTTP
//!   API). Without credentials it is no finding.
//!
//! The finding's secret is the first credential the request carried (its fingerprint links it to that
//! credential's alert), and its excerpt the request with every credential a slot.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use super::common::short;
use super::{Confidence, Finding, LeakKind, SecretClass};
use crate::http::{Headers, Request, Response};
use crate::secret::Secret;
use crate::time::Timestamp;

/// The credentials of a request's findings a fix finding names: not the fixes themselves, not what
/// grants nothing (an AWS access key id), not low-confidence guesses.
fn carried(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(|f| !f.kind.is_fix() && f.confidence > Confidence::Low && f.class != SecretClass::Identifier)
}

/// `cookie sid, header Authorization` (at most four, then `and N more`).
fn carried_list(findings: &[Finding]) -> String {
    let all: Vec<&str> = carried(findings).map(|f| f.location.as_str()).collect();
    let mut s: Vec<String> = all.iter().take(4).map(|l| short(l, 64)).collect();
    s.dedup();
    if all.len() > 4 {
        s.push(format!("and {} more", all.len() - 4));
    }
    s.join(", ")
}

/// A fix finding naming the first credential `findings` carried (`None` when they carry none).
fn naming_first(kind: LeakKind, findings: &[Finding], evidence: String) -> Option<Finding> {
    let first = carried(findings).next()?;
    Some(Finding {
        kind,
        class: first.class,
        confidence: Confidence::High,
        secret: first.secret.clone(),
        user: first.user.clone(),
        location: first.location.clone(),
        evidence,
        jwt: None,
        login: None,
        span: first.span.clone(),
    })
}

/// The name part of a `Host` or SNI: without port, brackets or a trailing dot (case as sent).
fn name_part(host: &str) -> &str {
    let h = host.trim();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        match h.rsplit_once(':') {
            Some((n, p)) if !n.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => h,
        }
    };
    h.trim_end_matches('.')
}

/// A name as compared: lower case, without port, brackets or a trailing dot.
pub fn name_key(host: &str) -> String {
    name_part(host).to_ascii_lowercase()
}

/// Whether two names are one site for a redirect: equal, or one is the other's `www.` twin.
fn same_site(a: &str, b: &str) -> bool {
    a == b || a.strip_prefix("www.") == Some(b) || b.strip_prefix("www.") == Some(a)
}

// --- redirect window -----------------------------------------------------------------------------

/// The redirect-window candidate of a request: a finding that becomes an alert only if the answer
/// redirects to `https://` on the same host ([`Answer`]). `None` when the request carried no
/// credential, had no `Host`, or went somewhere else than an origin server's path (a proxy request).
pub fn redirect_candidate(req: &Request, findings: &[Finding]) -> Option<Finding> {
    if !req.target.starts_with('/') || req.headers.get("host").is_none() {
        return None;
    }
    let list = carried_list(findings);
    naming_first(
        LeakKind::SslstripWindow,
        findings,
        format!(
            "redirect window: this plain-HTTP request was redirected to https:// only after it had carried {list} in clear; an attacker on the path answers it instead (sslstrip): HSTS with preload keeps the browser off plain HTTP"
        ),
    )
}

/// What a response says about the request it answers, for the findings waiting for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// A redirect to `https://` on the request's own host (or its `www.` twin).
    pub https_same_host: bool,
}

impl Answer {
    /// A status alone (tests, and a response whose request is unknown).
    pub fn status(status: u16) -> Answer {
        Answer { status, https_same_host: false }
    }

    /// `resp`, answering a request to `host` (its `Host` header).
    pub fn of(resp: &Response, host: Option<&str>) -> Answer {
        // A gRPC call refused in its trailers counts as the HTTP status it means.
        Answer { status: super::verdict::answer_status(resp), https_same_host: https_redirect_to(resp, host) }
    }
}

/// Whether `resp` redirects to `https://` on `host` (or its `www.` twin).
pub fn https_redirect_to(resp: &Response, host: Option<&str>) -> bool {
    let (Some(host), true) = (host, (300..400).contains(&resp.status)) else { return false };
    let Some(loc) = resp.headers.get("location") else { return false };
    if loc.len() < 8 || !loc[..8].eq_ignore_ascii_case(b"https://") {
        return false;
    }
    let rest = String::from_utf8_lossy(&loc[8..]);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // `user@host`: the host is after the last `@`.
    let target = authority.rsplit('@').next().unwrap_or(authority);
    same_site(&name_key(target), &name_key(host))
}

// --- mixed content ---------------------------------------------------------------------------------

/// The `https://` page (scheme and host, never its path or query: they may hold tokens of their own)
/// that sent this request, by its `Origin` or `Referer`.
fn https_page(headers: &Headers) -> Option<(&'static str, String)> {
    for (name, header) in [("origin", "Origin"), ("referer", "Referer")] {
        let Some(v) = headers.get(name) else { continue };
        if v.len() > 8 && v[..8].eq_ignore_ascii_case(b"https://") {
            let rest = String::from_utf8_lossy(&v[8..]);
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit('@').next().unwrap_or(authority);
            return Some((header, format!("https://{}", short(host, 128))));
        }
    }
    None
}

/// The mixed-content finding of a plaintext request sent from an `https://` page with credentials.
pub fn mixed_content(req: &Request, findings: &[Finding]) -> Option<Finding> {
    let (header, page) = https_page(&req.headers)?;
    let list = carried_list(findings);
    naming_first(
        LeakKind::MixedContent,
        findings,
        format!(
            "mixed content: a page of {page} ({header}) sent this request over plain HTTP, carrying {list} in clear: serve every resource and form target of an HTTPS page over HTTPS"
        ),
    )
}

// --- HSTS absent or ignored ------------------------------------------------------------------------

/// Whether a request is plain HTTP to the name of its `Host` (not a `CONNECT` tunnel: what crosses
/// a tunnel to port 443 is TLS).
pub fn plain_visit(req: &Request) -> bool {
    !req.method.eq_ignore_ascii_case("CONNECT")
}

/// (client, name) pairs remembered: a LAN's clients times the sites they use over both schemes fit
/// well within it; a flood of names must not grow memory. Past it the oldest pair is forgotten
/// (counted by the caller: `hsts_pairs_forgotten`), and a plain visit after a forgotten TLS one is
/// missed.
pub const MAX_PAIRS: usize = 8192;

/// A plain-HTTP request to a name: what its finding needs (no path, no excerpt: the finding is about
/// the name, and a path may hold secrets the table would have to guard).
#[derive(Clone, Debug, PartialEq)]
pub struct PlainVisit {
    pub ts: Timestamp,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The `Host` as sent (bounded).
    pub host: String,
    pub method: String,
    /// What the request carried, for the evidence (`cookie sid, header Authorization`), empty if
    /// nothing.
    pub carried: String,
}

impl Default for PlainVisit {
    fn default() -> Self {
        let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
        PlainVisit {
            ts: Timestamp::ZERO,
            client: nowhere,
            server: nowhere,
            host: String::new(),
            method: String::new(),
            carried: String::new(),
        }
    }
}

/// `s` into `out` (emptied first), shortened as [`short`] does: no allocation when it fits the
/// capacity `out` already has.
fn set_short(out: &mut String, s: &str, n: usize) {
    out.clear();
    if s.len() <= n {
        out.push_str(s);
    } else {
        out.push_str(&short(s, n));
    }
}

impl PlainVisit {
    pub fn new(req: &Request, host: &str, client: SocketAddr, server: SocketAddr, findings: &[Finding]) -> PlainVisit {
        let mut v = PlainVisit::default();
        v.fill(req, host, client, server, findings);
        v
    }

    /// This visit becomes `req`'s, reusing its strings (a plain visit is remembered per request: the
    /// latest one of each pair).
    pub fn fill(&mut self, req: &Request, host: &str, client: SocketAddr, server: SocketAddr, findings: &[Finding]) {
        self.ts = req.ts;
        self.client = client;
        self.server = server;
        set_short(&mut self.host, host, 255);
        set_short(&mut self.method, &req.method, 16);
        if carried(findings).next().is_none() {
            self.carried.clear();
        } else {
            self.carried = carried_list(findings);
        }
    }

    /// The `hsts_missing` finding of this visit, the name having been reached over TLS at `tls`.
    pub fn finding(&self, tls: Timestamp) -> Finding {
        let secs = self.ts.micros_since(tls).max(0) / 1_000_000;
        let after = if secs == 0 { "less than a second".to_string() } else { format!("{secs} s") };
        let carried = if self.carried.is_empty() {
            "it carried no credential this time".to_string()
        } else {
            format!("it carried {} in clear", self.carried)
        };
        Finding {
            kind: LeakKind::HstsMissing,
            class: SecretClass::Identifier,
            confidence: Confidence::High,
            // The finding is about the name: one per server, whatever each visit carried.
            secret: Secret::new(""),
            user: None,
            location: "plain HTTP after HTTPS".into(),
            evidence: format!(
                "HSTS absent or ignored: this client reached {} over HTTPS (TLS, SNI) and {after} later sent plain HTTP to it; {carried}. Send Strict-Transport-Security on HTTPS (and preload it)",
                short(&name_key(&self.host), 128)
            ),
            jwt: None,
            login: None,
            span: None,
        }
    }
}

#[derive(Debug)]
struct Pair {
    /// Insertion number (the order queue's entries for a replaced pair are stale).
    seq: u64,
    /// The earliest TLS connection to the name.
    tls: Option<Timestamp>,
    /// The latest plain visit not yet reported (kept for a TLS connection that arrives later in
    /// processing but earlier in capture time: workers of `read --threads N` run at their own pace).
    /// Inline and without strings: every plain request of every client updates one, so it must not
    /// allocate (a LAN's clients would otherwise scatter small blocks over the heap).
    plain: Option<Stored>,
    reported: bool,
}

/// A plain visit as the table keeps it: the host is the name the pair is keyed by (a late report
/// names it as the TLS connection did), the client's address is in the key but for its port.
#[derive(Clone, Debug)]
struct Stored {
    ts: Timestamp,
    client_port: u16,
    server: SocketAddr,
    method: [u8; 16],
    method_len: u8,
    /// What the request carried: rare (most plain requests carry no credential), allocated then.
    carried: Option<Box<str>>,
}

impl Stored {
    fn of(v: &PlainVisit) -> Stored {
        let m = v.method.as_bytes();
        let n = m.len().min(16);
        let mut method = [0u8; 16];
        method[..n].copy_from_slice(&m[..n]);
        Stored {
            ts: v.ts,
            client_port: v.client.port(),
            server: v.server,
            method,
            method_len: n as u8,
            carried: (!v.carried.is_empty()).then(|| v.carried.as_str().into()),
        }
    }

    fn visit(&self, client: IpAddr, host: &str) -> PlainVisit {
        PlainVisit {
            ts: self.ts,
            client: SocketAddr::new(client, self.client_port),
            server: self.server,
            host: short(host, 255),
            method: String::from_utf8_lossy(&self.method[..usize::from(self.method_len)]).into_owned(),
            carried: self.carried.as_deref().unwrap_or_default().to_string(),
        }
    }
}

/// What one call did to the table, for the caller's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// Pairs forgotten to make room.
    pub forgotten: u64,
}

/// Which clients reached which names over TLS, and their plain visits: bounded, keyed by (client
/// address, hash of the name). The name is hashed with a per-run key (an attacker choosing names
/// cannot aim collisions), so the table holds no name at all.
#[derive(Debug)]
pub struct HstsTracker {
    /// Keyed by an already keyed hash: ahash, not SipHash, over it (this runs for every plain request).
    pairs: HashMap<(IpAddr, u64), Pair, ahash::RandomState>,
    order: VecDeque<((IpAddr, u64), u64)>,
    seq: u64,
    keys: ahash::RandomState,
    /// Where a plain visit is filled before it is kept inline (its strings reused).
    scratch: PlainVisit,
    /// Remember plain visits to names not (yet) seen over TLS: only when several workers share the
    /// table (one engine meets a client's connections in capture order: its TLS connection comes
    /// first, or HSTS could not have helped). One engine then keeps only names reached over TLS.
    keep_plain: bool,
}

impl Default for HstsTracker {
    fn default() -> Self {
        HstsTracker {
            pairs: HashMap::with_hasher(ahash::RandomState::new()),
            order: VecDeque::new(),
            seq: 0,
            keys: ahash::RandomState::new(),
            scratch: PlainVisit::default(),
            keep_plain: false,
        }
    }
}

impl HstsTracker {
    /// Hashed byte by byte in lower case: no allocation per request.
    fn key(&self, client: IpAddr, name: &str) -> (IpAddr, u64) {
        let mut h = self.keys.build_hasher();
        for b in name_part(name).bytes() {
            h.write_u8(b.to_ascii_lowercase());
        }
        (client, h.finish())
    }

    /// The pair of `key`, made if new (forgetting the oldest when full).
    fn pair(&mut self, key: (IpAddr, u64), touched: &mut Touched) -> &mut Pair {
        if !self.pairs.contains_key(&key) {
            while self.pairs.len() >= MAX_PAIRS {
                let Some((k, seq)) = self.order.pop_front() else { break };
                if self.pairs.get(&k).is_some_and(|p| p.seq == seq) {
                    self.pairs.remove(&k);
                    touched.forgotten += 1;
                }
            }
            self.seq += 1;
            self.order.push_back((key, self.seq));
            if self.order.len() > 2 * MAX_PAIRS {
                let pairs = &self.pairs;
                self.order.retain(|(k, s)| pairs.get(k).is_some_and(|p| p.seq == *s));
            }
        }
        let seq = self.seq;
        self.pairs.entry(key).or_insert(Pair { seq, tls: None, plain: None, reported: false })
    }

    /// `client` opened a TLS connection to `sni` at `ts`. A plain visit already seen later in capture
    /// time comes back to be reported.
    pub fn on_tls(
        &mut self,
        client: IpAddr,
        sni: &str,
        ts: Timestamp,
        touched: &mut Touched,
    ) -> Option<(Finding, PlainVisit)> {
        let key = self.key(client, sni);
        let p = self.pair(key, touched);
        if p.tls.is_none_or(|t| ts < t) {
            p.tls = Some(ts);
        }
        if p.reported || p.plain.as_ref().is_none_or(|v| v.ts <= ts) {
            return None;
        }
        p.reported = true;
        p.plain.take().map(|s| {
            let v = s.visit(client, sni);
            (v.finding(ts), v)
        })
    }

    /// A plain-HTTP request to `host` by `visit.client`. Reported when the client reached the name
    /// over TLS earlier (once per pair); otherwise remembered for a TLS connection processed later.
    /// `visit` is made only when needed.
    pub fn on_plain(
        &mut self,
        client: IpAddr,
        host: &str,
        ts: Timestamp,
        visit: impl FnOnce(&mut PlainVisit),
        touched: &mut Touched,
    ) -> Option<(Finding, PlainVisit)> {
        let key = self.key(client, host);
        if !self.keep_plain && !self.pairs.contains_key(&key) {
            // Not reached over TLS before: nothing to report, nothing to keep (one engine).
            return None;
        }
        let p = self.pair(key, touched);
        if p.reported {
            return None;
        }
        if let Some(tls) = p.tls.filter(|t| *t < ts) {
            p.reported = true;
            p.plain = None;
            let mut v = PlainVisit::default();
            visit(&mut v);
            return Some((v.finding(tls), v));
        }
        // The latest visit is the one a TLS connection processed later can be before: keep it (filled
        // in the reused scratch, kept inline: no allocation per request).
        if p.plain.as_ref().is_none_or(|v| ts > v.ts) {
            visit(&mut self.scratch);
            let stored = Stored::of(&self.scratch);
            if let Some(p) = self.pairs.get_mut(&key) {
                p.plain = Some(stored);
            }
        }
        None
    }

    /// Pairs remembered.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// The tracker shared by the engines of one run (`read --threads N` shards flows by their ports, so a
/// client's TLS and plain connections to one name meet on different workers). Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Shared(Arc<Mutex<HstsTracker>>);

impl Shared {
    /// Several engines share the table (`read --threads N`): plain visits are remembered for TLS
    /// connections analysed later.
    pub fn keep_plain_visits(&self) {
        self.with(|t| t.keep_plain = true);
    }

    /// Run `f` on the tracker (a poisoned lock is taken as it is: the table holds no invariant a
    /// panic elsewhere could break beyond one pair).
    pub fn with<R>(&self, f: impl FnOnce(&mut HstsTracker) -> R) -> R {
        let mut g = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Config, Found, detect_request};
    use crate::http::Body;

    fn request(target: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
            version: 1,
            headers: Headers::from_iter(headers.iter().copied()),
            body: Body::default(),
            ts: Timestamp::from_secs(100),
            seq: 0,
        }
    }

    fn found(r: &Request) -> Found {
        let mut out = Found::default();
        detect_request(&Config::default(), r, r.ts, &mut out);
        out
    }

    fn redirect(location: &str) -> Response {
        Response {
            status: 301,
            reason: "Moved".into(),
            version: 1,
            headers: Headers::from_iter([("Location", location)]),
            body: Body::default(),
            ts: Timestamp::from_secs(101),
        }
    }

    #[test]
    fn a_request_with_credentials_gets_a_redirect_candidate_and_one_without_does_not() {
        let r = request("/account", &[("Host", "shop.lab"), ("Cookie", "PHPSESSID=8a7b6c5d4e3f2a1b")]);
        let f = found(&r);
        let c = f.awaiting_redirect.expect("a candidate");
        assert_eq!((c.kind, c.secret.expose()), (LeakKind::SslstripWindow, "8a7b6c5d4e3f2a1b"));
        assert!(c.evidence.contains("cookie PHPSESSID"), "{}", c.evidence);
        assert!(found(&request("/", &[("Host", "shop.lab")])).awaiting_redirect.is_none());
        // An AWS access key id grants nothing: no candidate for it alone.
        let aws = request(
            "/b",
            &[
                ("Host", "s3.lab"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/s3/aws4_request, Signature=00",
                ),
            ],
        );
        assert!(found(&aws).awaiting_redirect.is_none());
    }

    #[test]
    fn only_a_redirect_to_https_on_the_same_host_or_its_www_twin_opens_the_window() {
        for (loc, host, want) in [
            ("https://shop.lab/account", "shop.lab", true),
            ("HTTPS://Shop.Lab:443/", "shop.lab:80", true),
            ("https://www.shop.lab/", "shop.lab", true),
            ("https://shop.lab/", "www.shop.lab", true),
            ("https://login.other.lab/", "shop.lab", false),
            ("http://shop.lab/x", "shop.lab", false),
            ("/relative", "shop.lab", false),
            ("https://shop.lab.evil/", "shop.lab", false),
            ("https://evil@shop.lab/", "shop.lab", true),
        ] {
            assert_eq!(https_redirect_to(&redirect(loc), Some(host)), want, "{loc} for {host}");
        }
        let mut ok = redirect("https://shop.lab/");
        ok.status = 200;
        assert!(!https_redirect_to(&ok, Some("shop.lab")), "not a redirect");
    }

    #[test]
    fn the_candidate_waits_for_its_answer_and_is_dropped_unless_redirected_to_https() {
        use crate::detect::verdict::Awaiting;
        let r = request("/account", &[("Host", "shop.lab"), ("Cookie", "session=abcdef0123456789")]);
        let c = found(&r).awaiting_redirect.expect("a candidate");
        let mut out = Vec::new();
        let mut a: Awaiting<()> = Awaiting::default();
        a.hold(0, c.clone(), ());
        a.answered(Some(0), &Answer::of(&redirect("https://shop.lab/account"), Some("shop.lab")), &mut out);
        assert_eq!(out.iter().map(|(f, _)| f.kind).collect::<Vec<_>>(), [LeakKind::SslstripWindow]);
        out.clear();
        a.hold(1, c.clone(), ());
        a.answered(Some(1), &Answer::of(&redirect("https://elsewhere.lab/"), Some("shop.lab")), &mut out);
        a.hold(2, c.clone(), ());
        a.drain(&mut out);
        assert!(out.is_empty(), "another host, or no answer: nothing");
    }

    #[test]
    fn mixed_content_needs_an_https_page_and_credentials() {
        let r = request(
            "/api/cart",
            &[
                ("Host", "api.shop.lab"),
                ("Origin", "https://shop.lab"),
                ("Authorization", "Bearer tok-0123456789abcdef"),
            ],
        );
        let f = found(&r);
        let m: Vec<&Finding> = f.findings.iter().filter(|f| f.kind == LeakKind::MixedContent).collect();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].secret.expose(), "tok-0123456789abcdef");
        assert!(m[0].evidence.contains("https://shop.lab (Origin)") && m[0].evidence.contains("header Authorization"));
        // The Referer's path and query are not evidence (they may hold tokens of their own).
        let r = request(
            "/img.png",
            &[("Referer", "https://shop.lab/cb?code=secret-code-1"), ("Cookie", "sid=0123456789abcdef")],
        );
        let f = found(&r);
        let m = f.findings.iter().find(|f| f.kind == LeakKind::MixedContent).expect("mixed content");
        assert!(!m.evidence.contains("secret-code-1"), "{}", m.evidence);
        for headers in [
            vec![("Referer", "https://shop.lab/"), ("Accept", "*/*")],
            vec![("Referer", "http://shop.lab/"), ("Cookie", "sid=0123456789abcdef")],
        ] {
            let f = found(&request("/x", &headers));
            assert!(f.findings.iter().all(|f| f.kind != LeakKind::MixedContent), "{headers:?}");
        }
    }

    fn visit(ts: i64) -> PlainVisit {
        PlainVisit {
            ts: Timestamp::from_secs(ts),
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:80".parse().unwrap(),
            host: "Shop.Lab:80".into(),
            method: "GET".into(),
            carried: String::new(),
        }
    }

    #[test]
    fn plain_http_after_tls_to_one_name_is_hsts_missing_once_per_client_and_name() {
        let (c, other) = ("10.0.0.1".parse().unwrap(), "10.0.0.9".parse().unwrap());
        let mut t = HstsTracker::default();
        let mut touched = Touched::default();
        assert!(t.on_tls(c, "shop.lab", Timestamp::from_secs(10), &mut touched).is_none());
        let (f, v) =
            t.on_plain(c, "SHOP.lab:80", Timestamp::from_secs(20), |v| *v = visit(20), &mut touched).expect("reported");
        assert_eq!((f.kind, f.class, v.host.as_str()), (LeakKind::HstsMissing, SecretClass::Identifier, "Shop.Lab:80"));
        assert!(f.evidence.contains("shop.lab over HTTPS") && f.evidence.contains(" 10 s later"), "{}", f.evidence);
        assert!(
            t.on_plain(c, "shop.lab", Timestamp::from_secs(30), |v| *v = visit(30), &mut touched).is_none(),
            "once"
        );
        // Another client, another name, or plain before TLS: nothing.
        assert!(t.on_plain(other, "shop.lab", Timestamp::from_secs(20), |v| *v = visit(20), &mut touched).is_none());
        assert!(t.on_plain(c, "api.shop.lab", Timestamp::from_secs(20), |v| *v = visit(20), &mut touched).is_none());
        let mut t = HstsTracker::default();
        assert!(t.on_plain(c, "shop.lab", Timestamp::from_secs(5), |v| *v = visit(5), &mut touched).is_none());
        assert!(
            t.on_tls(c, "shop.lab", Timestamp::from_secs(10), &mut touched).is_none(),
            "first visit plain: HSTS cannot help"
        );
        assert_eq!(touched, Touched::default());
    }

    #[test]
    fn a_tls_connection_processed_after_a_later_plain_visit_still_reports_it() {
        // `read --threads N`: the plain connection's worker may run ahead of the TLS connection's.
        let c = "10.0.0.1".parse().unwrap();
        let mut t = HstsTracker { keep_plain: true, ..HstsTracker::default() };
        let mut touched = Touched::default();
        assert!(t.on_plain(c, "shop.lab", Timestamp::from_secs(20), |v| *v = visit(20), &mut touched).is_none());
        let (f, v) = t.on_tls(c, "shop.lab", Timestamp::from_secs(10), &mut touched).expect("reported late");
        assert_eq!((f.kind, v.ts), (LeakKind::HstsMissing, Timestamp::from_secs(20)));
        assert!(t.on_plain(c, "shop.lab", Timestamp::from_secs(30), |v| *v = visit(30), &mut touched).is_none());
        // A first visit before TLS and one after it, both processed before the TLS connection.
        let mut t = HstsTracker { keep_plain: true, ..HstsTracker::default() };
        assert!(t.on_plain(c, "shop.lab", Timestamp::from_secs(5), |v| *v = visit(5), &mut touched).is_none());
        assert!(t.on_plain(c, "shop.lab", Timestamp::from_secs(30), |v| *v = visit(30), &mut touched).is_none());
        let (_, v) = t.on_tls(c, "shop.lab", Timestamp::from_secs(10), &mut touched).expect("the later visit");
        assert_eq!(v.ts, Timestamp::from_secs(30));
    }

    #[test]
    fn one_engine_keeps_no_plain_visit_to_a_name_it_never_saw_over_tls() {
        let c = "10.0.0.1".parse().unwrap();
        let mut t = HstsTracker::default();
        let mut touched = Touched::default();
        for i in 0..100 {
            assert!(
                t.on_plain(c, &format!("h{i}.lab"), Timestamp::from_secs(2), |v| *v = visit(2), &mut touched).is_none()
            );
        }
        assert!(t.is_empty(), "a LAN's plain traffic costs the table nothing");
        // Shared by workers, the same visits are kept for a TLS connection analysed later.
        let shared = Shared::default();
        shared.keep_plain_visits();
        shared.with(|t| t.on_plain(c, "h0.lab", Timestamp::from_secs(2), |v| *v = visit(2), &mut touched));
        assert_eq!(shared.with(|t| t.len()), 1);
    }

    #[test]
    fn the_pair_table_is_bounded_and_counts_what_it_forgets() {
        let mut t = HstsTracker::default();
        let mut touched = Touched::default();
        let c = "10.0.0.1".parse().unwrap();
        for i in 0..MAX_PAIRS + 10 {
            t.on_tls(c, &format!("h{i}.lab"), Timestamp::from_secs(1), &mut touched);
        }
        assert_eq!((t.len(), touched.forgotten), (MAX_PAIRS, 10));
        // The oldest were forgotten: a plain visit to one of them is missed; to a recent one, reported.
        assert!(t.on_plain(c, "h0.lab", Timestamp::from_secs(2), |v| *v = visit(2), &mut touched).is_none());
        assert!(
            t.on_plain(c, &format!("h{}.lab", MAX_PAIRS + 9), Timestamp::from_secs(2), |v| *v = visit(2), &mut touched)
                .is_some()
        );
    }
}
