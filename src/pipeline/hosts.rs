//! The hosts view: for each service, did it receive credentials in the clear, does it redirect HTTP to
//! HTTPS, how much of its traffic was TLS. A web site is keyed by name (Host header or SNI) so that the
//! HTTP and TLS sides of one site meet (by address when no name is known); every other service by its
//! address, port and protocol, so that FTP, POP3 and IMAP on one host are rows of their own, each with
//! its own TLS share.
//!
//! Bounded: at most [`MAX_HOSTS`] entries; past it, new hosts are counted in `dropped` only.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::Serialize;

/// Servers tracked. A LAN has far fewer; a scan or a flood of Host headers must not grow memory.
pub const MAX_HOSTS: usize = 4096;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HostStats {
    pub name: String,
    /// `http` for a web site (its HTTP and TLS sides), else the protocol (`ftp`, `imap`, `snmp`...).
    pub service: String,
    pub addr: Option<SocketAddr>,
    pub http_requests: u64,
    pub credentials: u64,
    pub https_redirects: u64,
    pub tls_flows: u64,
}

#[derive(Default)]
pub struct HostTable {
    hosts: HashMap<String, HostStats>,
    pub dropped: u64,
}

impl HostTable {
    fn entry(&mut self, name: Option<&str>, addr: SocketAddr) -> Option<&mut HostStats> {
        let key = match name {
            Some(n) if !n.is_empty() => strip_port(n).to_ascii_lowercase(),
            _ => addr.ip().to_string(),
        };
        if !self.hosts.contains_key(&key) && self.hosts.len() >= MAX_HOSTS {
            self.dropped += 1;
            return None;
        }
        let e = self.hosts.entry(key.clone()).or_insert_with(|| HostStats {
            name: key,
            service: "http".into(),
            ..HostStats::default()
        });
        if e.addr.is_none() {
            e.addr = Some(addr);
        }
        Some(e)
    }
    pub fn on_request(&mut self, name: Option<&str>, server: SocketAddr) {
        if let Some(e) = self.entry(name, server) {
            e.http_requests += 1;
        }
    }
    pub fn on_credentials(&mut self, name: Option<&str>, server: SocketAddr, n: u64) {
        if let Some(e) = self.entry(name, server) {
            e.credentials += n;
        }
    }
    pub fn on_https_redirect(&mut self, name: Option<&str>, server: SocketAddr) {
        if let Some(e) = self.entry(name, server) {
            e.https_redirects += 1;
        }
    }
    pub fn on_tls(&mut self, sni: Option<&str>, server: SocketAddr) {
        if let Some(e) = self.entry(sni, server) {
            e.tls_flows += 1;
        }
    }

    /// The row of a service other than the web: its address, port and protocol.
    fn service(&mut self, server: SocketAddr, proto: &str) -> Option<&mut HostStats> {
        let key = format!("{server}/{proto}");
        if !self.hosts.contains_key(&key) && self.hosts.len() >= MAX_HOSTS {
            self.dropped += 1;
            return None;
        }
        Some(self.hosts.entry(key).or_insert_with(|| HostStats {
            name: server.ip().to_string(),
            service: proto.to_string(),
            addr: Some(server),
            ..HostStats::default()
        }))
    }

    /// Credentials of another protocol crossed in clear to `server`.
    pub fn on_login(&mut self, server: SocketAddr, proto: &str, n: u64) {
        if let Some(e) = self.service(server, proto) {
            e.credentials += n;
        }
    }

    /// A session of another protocol went TLS (STARTTLS and the like) before any login.
    pub fn on_service_tls(&mut self, server: SocketAddr, proto: &str) {
        if let Some(e) = self.service(server, proto) {
            e.tls_flows += 1;
        }
    }
    /// Hosts sorted by credentials seen, then name.
    pub fn sorted(&self) -> Vec<HostStats> {
        let mut v: Vec<HostStats> = self.hosts.values().cloned().collect();
        v.sort_by(|a, b| b.credentials.cmp(&a.credentials).then_with(|| a.name.cmp(&b.name)));
        v
    }
    pub fn len(&self) -> usize {
        self.hosts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}

pub fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_tls_of_one_site_meet_by_name() {
        let mut t = HostTable::default();
        let a: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:443".parse().unwrap();
        t.on_request(Some("Shop.lab:80"), a);
        t.on_credentials(Some("shop.lab"), a, 2);
        t.on_tls(Some("shop.lab"), b);
        let v = t.sorted();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].http_requests, v[0].credentials, v[0].tls_flows), (1, 2, 1));
    }

    #[test]
    fn services_of_one_host_are_rows_of_their_own_with_their_own_tls_share() {
        let mut t = HostTable::default();
        let ip = |p: u16| SocketAddr::from(([10, 77, 0, 2], p));
        t.on_request(Some("shop.lab"), ip(80));
        t.on_credentials(Some("shop.lab"), ip(80), 3);
        t.on_login(ip(21), "ftp", 2);
        t.on_login(ip(110), "pop3", 1);
        t.on_service_tls(ip(143), "imap");
        t.on_login(ip(143), "imap", 1);
        let v = t.sorted();
        let row = |svc: &str| v.iter().find(|h| h.service == svc).unwrap_or_else(|| panic!("{svc}: {v:?}"));
        assert_eq!(v.len(), 4);
        assert_eq!((row("http").credentials, row("http").addr), (3, Some(ip(80))));
        assert_eq!((row("ftp").credentials, row("ftp").tls_flows, row("ftp").addr), (2, 0, Some(ip(21))));
        assert_eq!((row("imap").credentials, row("imap").tls_flows), (1, 1));
        assert_eq!(row("pop3").name, "10.77.0.2");
    }

    #[test]
    fn host_table_is_bounded() {
        let mut t = HostTable::default();
        let a: SocketAddr = "10.0.0.2:80".parse().unwrap();
        for i in 0..(MAX_HOSTS + 10) {
            t.on_request(Some(&format!("h{i}.lab")), a);
        }
        assert_eq!(t.len(), MAX_HOSTS);
        assert_eq!(t.dropped, 10);
    }
}
