//! `--sink URL`: where the events go, parsed and checked before anything runs.
//!
//! | form | meaning |
//! |---|---|
//! | `redis://HOST[:PORT][/KEY]` | plain TCP (no password accepted, see below) |
//! | `rediss://[USER:PASS@]HOST[:PORT][/KEY]` | TLS (rustls; the system's roots, or `ca=PEM`) |
//! | `redis+unix:///PATH[?key=KEY]` | a unix socket |
//!
//! Query: `mode=list` (default: LPUSH, `push=rpush` for RPUSH) or `mode=stream` (`XADD KEY MAXLEN ~ N *
//! eve JSON`, `maxlen=N`, default 100000, 0: never trimmed); `key=KEY` (the path's key otherwise,
//! default `suricata`); `db=N`; `ca=PATH` (rediss only). These are Suricata's own choices (its redis
//! output: key `suricata`, LPUSH for `list`, field `eve` and an approximate MAXLEN of 100000 for
//! `stream`), so a consumer already reading Suricata's events reads ours unchanged.
//!
//! Authentication: an ACL user and password from the URL, or from `PLAINSIGHT_REDIS_USER` /
//! `PLAINSIGHT_REDIS_PASSWORD`. Over plain TCP a password is refused at start-up: `AUTH` in clear is
//! exactly the `redis_auth` leak plainsight reports in other people's traffic.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

/// Suricata's default key (its redis output's `key`).
pub const DEFAULT_KEY: &str = "suricata";
/// Suricata's default `stream-maxlen`: the stream is trimmed (approximately) to this many entries.
pub const DEFAULT_STREAM_MAXLEN: u64 = 100_000;
/// The field each stream entry holds the event in (Suricata's `XADD key ... * eve <json>`).
pub const STREAM_FIELD: &str = "eve";
/// Environment variables for the ACL user and password (kept out of the command line, which any local
/// user can read in /proc).
pub const ENV_USER: &str = "PLAINSIGHT_REDIS_USER";
pub const ENV_PASSWORD: &str = "PLAINSIGHT_REDIS_PASSWORD";

/// Where a sink connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Tcp { host: String, port: u16 },
    Tls { host: String, port: u16 },
    Unix(PathBuf),
}

/// List (LPUSH or RPUSH) or stream (XADD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    List { rpush: bool },
    Stream { maxlen: u64 },
}

/// A password that never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A parsed `--sink` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkUrl {
    pub addr: Addr,
    pub key: String,
    pub mode: Mode,
    pub db: i64,
    pub user: Option<String>,
    pub password: Option<Password>,
    /// `ca=PATH`: the PEM roots to trust instead of the system's (rediss only).
    pub ca: Option<PathBuf>,
}

/// Why a `--sink` URL was refused: one line, the URL shown without its credentials.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("{url}: not a URL: {why}")]
    Syntax { url: String, why: String },
    #[error("{url}: unknown scheme {scheme:?} (redis://, rediss:// or redis+unix://)")]
    Scheme { url: String, scheme: String },
    #[error("{url}: {why}")]
    Invalid { url: String, why: String },
    #[error(
        "{url}: refusing to send a password over plain TCP: it travels in clear, exactly the redis_auth leak plainsight reports in other people's traffic; use rediss:// (TLS) or redis+unix:// (a unix socket)"
    )]
    PasswordInClear { url: String },
}

/// Credentials from the environment ([`ENV_USER`], [`ENV_PASSWORD`]), read by the caller so that tests
/// need not touch the process environment.
#[derive(Debug, Default, Clone)]
pub struct EnvAuth {
    pub user: Option<String>,
    pub password: Option<String>,
}

impl EnvAuth {
    pub fn from_env() -> EnvAuth {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        EnvAuth { user: get(ENV_USER), password: get(ENV_PASSWORD) }
    }
}

impl SinkUrl {
    /// Parse and check `s`; the URL's own user and password win over the environment's.
    pub fn parse(s: &str, env: &EnvAuth) -> Result<SinkUrl, UrlError> {
        let shown = redact(s);
        let invalid = |why: String| UrlError::Invalid { url: shown.clone(), why };
        let u = url::Url::parse(s).map_err(|e| UrlError::Syntax { url: shown.clone(), why: e.to_string() })?;
        let decode = |t: &str| percent_decode_str(t).decode_utf8().map(|c| c.into_owned());
        let mut user = (!u.username().is_empty())
            .then(|| decode(u.username()))
            .transpose()
            .map_err(|_| invalid("the user name is not UTF-8".into()))?;
        let mut password =
            u.password().map(decode).transpose().map_err(|_| invalid("the password is not UTF-8".into()))?;
        let path = decode(u.path()).map_err(|_| invalid("the path is not UTF-8".into()))?;
        let addr = match u.scheme() {
            "redis" | "rediss" => {
                let host = match u.host() {
                    Some(url::Host::Ipv6(a)) => a.to_string(),
                    Some(h) => h.to_string(),
                    None => return Err(invalid("no host".into())),
                };
                let port = u.port().unwrap_or(6379);
                if u.scheme() == "rediss" { Addr::Tls { host, port } } else { Addr::Tcp { host, port } }
            }
            "redis+unix" | "unix" => {
                if path.is_empty() || path == "/" {
                    return Err(invalid("no socket path (redis+unix:///run/redis.sock?key=KEY)".into()));
                }
                Addr::Unix(PathBuf::from(path.clone()))
            }
            other => return Err(UrlError::Scheme { url: shown, scheme: other.to_string() }),
        };
        let mut key = match &addr {
            Addr::Unix(_) => None,
            _ => Some(path.trim_start_matches('/').to_string()).filter(|k| !k.is_empty()),
        };
        let (mut mode, mut rpush, mut maxlen, mut db, mut ca) = ("list".to_string(), None, None, 0i64, None);
        for (k, v) in u.query_pairs() {
            let v = v.into_owned();
            match k.as_ref() {
                "key" => key = Some(v),
                "mode" => mode = v,
                "push" => {
                    rpush = Some(match v.as_str() {
                        "lpush" => false,
                        "rpush" => true,
                        _ => return Err(invalid(format!("push={v}: lpush or rpush"))),
                    })
                }
                "maxlen" => {
                    maxlen = Some(v.parse::<u64>().map_err(|_| invalid(format!("maxlen={v}: a number of entries")))?)
                }
                "db" => db = v.parse::<i64>().map_err(|_| invalid(format!("db={v}: a database number")))?,
                "ca" => ca = Some(PathBuf::from(v)),
                "user" => user = Some(v),
                "password" => password = Some(v),
                other => {
                    return Err(invalid(format!(
                        "unknown parameter {other:?} (key, mode, push, maxlen, db, ca, user, password)"
                    )));
                }
            }
        }
        let mode = match mode.as_str() {
            // Suricata's aliases too.
            "list" | "lpush" | "rpush" => {
                if maxlen.is_some() {
                    return Err(invalid("maxlen= is for mode=stream".into()));
                }
                Mode::List { rpush: rpush.unwrap_or(mode == "rpush") }
            }
            "stream" | "xadd" => {
                if rpush.is_some() {
                    return Err(invalid("push= is for mode=list".into()));
                }
                Mode::Stream { maxlen: maxlen.unwrap_or(DEFAULT_STREAM_MAXLEN) }
            }
            other => return Err(invalid(format!("mode={other}: list or stream"))),
        };
        if ca.is_some() && !matches!(addr, Addr::Tls { .. }) {
            return Err(invalid("ca= is for rediss:// (TLS)".into()));
        }
        let key = key.unwrap_or_else(|| DEFAULT_KEY.to_string());
        if key.is_empty() {
            return Err(invalid("empty key".into()));
        }
        if user.is_none() {
            user = env.user.clone();
        }
        if password.is_none() {
            password = env.password.clone();
        }
        let password = password.filter(|p| !p.is_empty()).map(Password);
        if password.is_some() && matches!(addr, Addr::Tcp { .. }) {
            return Err(UrlError::PasswordInClear { url: shown });
        }
        Ok(SinkUrl { addr, key, mode, db, user, password, ca })
    }

    /// The URL as shown in messages and `--stats`: no user, no password, every part escaped.
    pub fn display(&self) -> String {
        let mode = match self.mode {
            Mode::List { rpush: false } => String::new(),
            Mode::List { rpush: true } => "?push=rpush".into(),
            Mode::Stream { maxlen } => format!("?mode=stream&maxlen={maxlen}"),
        };
        let sep = if mode.is_empty() { '?' } else { '&' };
        let text = match &self.addr {
            Addr::Tcp { host, port } => format!("redis://{}/{}{mode}", host_port(host, *port), self.key),
            Addr::Tls { host, port } => format!("rediss://{}/{}{mode}", host_port(host, *port), self.key),
            Addr::Unix(p) => format!("redis+unix://{}{mode}{sep}key={}", p.display(), self.key),
        };
        crate::output::term::clean(&text, 200)
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// `s` with whatever sits between `://` and `@` replaced, for messages about a URL that did not parse.
fn redact(s: &str) -> String {
    let shown = match (s.find("://"), s.rfind('@')) {
        (Some(a), Some(b)) if b > a => format!("{}://…@{}", &s[..a], &s[b + 1..]),
        _ => s.to_string(),
    };
    let shown = match shown.find("password=") {
        Some(i) => {
            let end = shown[i..].find('&').map_or(shown.len(), |e| i + e);
            format!("{}password=…{}", &shown[..i], &shown[end..])
        }
        None => shown,
    };
    crate::output::term::clean(&shown, 200)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(s: &str) -> Result<SinkUrl, UrlError> {
        SinkUrl::parse(s, &EnvAuth::default())
    }

    #[test]
    fn each_form_with_suricatas_defaults() {
        let u = parse("redis://10.0.0.5").unwrap();
        assert_eq!(u.addr, Addr::Tcp { host: "10.0.0.5".into(), port: 6379 });
        assert_eq!((u.key.as_str(), u.mode, u.db), ("suricata", Mode::List { rpush: false }, 0));
        let u = parse("rediss://siem.example:6380/events?mode=stream").unwrap();
        assert_eq!(u.addr, Addr::Tls { host: "siem.example".into(), port: 6380 });
        assert_eq!((u.key.as_str(), u.mode), ("events", Mode::Stream { maxlen: 100_000 }));
        let u = parse("redis+unix:///run/redis/redis.sock?key=plainsight&push=rpush&db=2").unwrap();
        assert_eq!(u.addr, Addr::Unix("/run/redis/redis.sock".into()));
        assert_eq!((u.key.as_str(), u.mode, u.db), ("plainsight", Mode::List { rpush: true }, 2));
        let u = parse("redis://[::1]:7000/k?mode=stream&maxlen=0").unwrap();
        assert_eq!(u.addr, Addr::Tcp { host: "::1".into(), port: 7000 });
        assert_eq!(u.mode, Mode::Stream { maxlen: 0 });
        assert_eq!(u.display(), "redis://[::1]:7000/k?mode=stream&maxlen=0");
    }

    #[test]
    fn a_password_over_plain_tcp_is_refused_with_the_reason_and_never_shown() {
        let e = parse("redis://alice:Sup3rSecret@10.0.0.5/suricata").unwrap_err();
        assert!(matches!(e, UrlError::PasswordInClear { .. }));
        let msg = e.to_string();
        assert!(msg.contains("redis_auth") && msg.contains("in clear"), "{msg}");
        assert!(!msg.contains("Sup3rSecret") && !msg.contains("alice"), "{msg}");
        // From the environment too.
        let env = EnvAuth { user: None, password: Some("fromenv".into()) };
        assert!(matches!(SinkUrl::parse("redis://h/k", &env), Err(UrlError::PasswordInClear { .. })));
        // Over TLS and a unix socket it is accepted, and Debug hides it.
        let u = parse("rediss://alice:Sup3r%40Secret@h/k").unwrap();
        assert_eq!(
            (u.user.as_deref(), u.password.as_ref().map(|p| p.0.as_str())),
            (Some("alice"), Some("Sup3r@Secret"))
        );
        assert!(!format!("{u:?}").contains("Sup3r"));
        assert!(!u.display().contains("alice"));
        let u = SinkUrl::parse("redis+unix:///tmp/r.sock", &env).unwrap();
        assert_eq!(u.password, Some(Password("fromenv".into())));
    }

    #[test]
    fn mistakes_are_named() {
        let e = |s: &str| parse(s).unwrap_err().to_string();
        assert!(e("http://h/k").contains("unknown scheme"));
        assert!(e("redis://h/k?mode=pubsub").contains("mode=pubsub"));
        assert!(e("redis://h/k?push=lpop").contains("push=lpop"));
        assert!(e("redis://h/k?mode=stream&maxlen=x").contains("maxlen=x"));
        assert!(e("redis://h/k?maxlen=5").contains("for mode=stream"));
        assert!(e("redis://h/k?keys=x").contains("unknown parameter \"keys\""));
        assert!(e("redis://h/k?ca=/x.pem").contains("rediss"));
        assert!(e("redis+unix://").contains("no socket path"));
        assert!(e("redis://h/k?key=").contains("empty key"));
        let msg = e("redis://u:pw1@h/k?mode=bad&password=pw2");
        assert!(!msg.contains("pw1") && !msg.contains("pw2"), "{msg}");
    }
}
