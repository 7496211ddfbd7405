//! The Redis transport: one synchronous connection, owned by the sink's delivery thread.
//!
//! A batch goes in one round trip, wrapped in MULTI/EXEC so that the engine applies all of it or none
//! (a connection lost before the reply still leaves the batch to be sent again: at least once). In
//! list mode the batch is one `LPUSH key e1 e2 ...` (the same list as one LPUSH per event, Suricata's
//! way); in stream mode one `XADD key MAXLEN ~ N * eve <event>` per event.

use std::time::Duration;

use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};

use super::Transport;
use super::target::{Addr, Mode, STREAM_FIELD, SinkUrl};

/// How long a connection attempt may take: the delivery thread spools new events only between
/// attempts, so this bounds how long they wait in the queue when the engine's host is gone.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one batch may take to be written and acknowledged before the connection is given up (a
/// stopped server): the batch then goes to the spool.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

pub struct RedisTransport {
    client: redis::Client,
    conn: Option<redis::Connection>,
    key: String,
    mode: Mode,
}

impl RedisTransport {
    /// The client for `u` (nothing is connected yet). Reads `ca=` now, when the sinks start (in `live`:
    /// after the privilege drop, as the user it runs as).
    pub fn new(u: &SinkUrl) -> Result<RedisTransport, String> {
        Ok(RedisTransport { client: client(u)?, conn: None, key: u.key.clone(), mode: u.mode })
    }
}

/// A client for `u`, by the same rules for everyone who talks to the engine (the sinks, and
/// `plainsight watch` reading their events back): TLS through rustls, `ca=` read now, credentials
/// only where `SinkUrl::parse` allowed them.
pub fn client(u: &SinkUrl) -> Result<redis::Client, String> {
    {
        // rustls takes its one crypto provider from its crate features: only `ring` is enabled (no
        // system OpenSSL, no cmake), so it is the one used.
        let addr = match &u.addr {
            Addr::Tcp { host, port } => ConnectionAddr::Tcp(host.clone(), *port),
            Addr::Tls { host, port } => {
                ConnectionAddr::TcpTls { host: host.clone(), port: *port, insecure: false, tls_params: None }
            }
            Addr::Unix(p) => ConnectionAddr::Unix(p.clone()),
        };
        let mut settings =
            RedisConnectionInfo::default().set_db(u.db).set_lib_name("plainsight", env!("CARGO_PKG_VERSION"));
        if let Some(user) = &u.user {
            settings = settings.set_username(user);
        }
        if let Some(p) = &u.password {
            settings = settings.set_password(&p.0);
        }
        let info = addr.into_connection_info().map_err(|e| e.to_string())?.set_redis_settings(settings);
        let client = match &u.ca {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| format!("ca={}: {e}", path.display()))?;
                let certs = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
                redis::Client::build_with_tls(info, certs)
            }
            None => redis::Client::open(info),
        }
        .map_err(|e| e.to_string())?;
        Ok(client)
    }
}

impl Transport for RedisTransport {
    fn connected(&self) -> bool {
        self.conn.is_some()
    }

    fn connect(&mut self) -> Result<(), String> {
        let c = self.client.get_connection_with_timeout(CONNECT_TIMEOUT).map_err(|e| e.to_string())?;
        c.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
        c.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
        self.conn = Some(c);
        Ok(())
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }

    fn send(&mut self, lines: &[String]) -> Result<(), String> {
        let Some(conn) = self.conn.as_mut() else { return Err("not connected".into()) };
        if lines.is_empty() {
            return Ok(());
        }
        let mut p = redis::pipe();
        p.atomic();
        match self.mode {
            Mode::List { rpush } => {
                p.cmd(if rpush { "RPUSH" } else { "LPUSH" }).arg(&self.key).arg(lines).ignore();
            }
            Mode::Stream { maxlen } => {
                for l in lines {
                    let c = p.cmd("XADD").arg(&self.key);
                    if maxlen > 0 {
                        c.arg("MAXLEN").arg("~").arg(maxlen);
                    }
                    c.arg("*").arg(STREAM_FIELD).arg(l).ignore();
                }
            }
        }
        p.query::<()>(conn).map_err(|e| e.to_string())
    }
}
