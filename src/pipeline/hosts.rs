//! The hosts view: for each server, did it receive credentials in the clear, does it redirect HTTP to
//! HTTPS, how much of its traffic was TLS. Keyed by name (Host header or SNI) so that the HTTP and TLS
//! sides of one site meet; by address when no name is known.
//!
//! Bounded: at most [`MAX_HOSTS`] entries; past it, new hosts are counted in `dropped` only.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::Serialize;

/// Servers tracked. A LAN has far fewer; a scan or a flood of Host headers must not grow memory.
pub const MAX_HOSTS: usize = 4096;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostStats {
    pub name: String,
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
        let e = self.hosts.entry(key.clone()).or_insert_with(|| HostStats { name: key, ..HostStats::default() });
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

fn strip_port(host: &str) -> &str {
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
