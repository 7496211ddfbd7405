//! The sensors' events read back from the engine they were sent to (`--sink` URLs), without taking
//! them from anyone else:
//! - a stream (`mode=stream`) is read with `XREAD` from its first entry on, then as entries arrive
//!   (Suricata's `eve` field);
//! - a list (`mode=list`) is read with `LRANGE`, oldest first (an `LPUSH` list from its tail), then
//!   polled for what was pushed since. A list that another consumer pops (Logstash, Vector) loses what
//!   they took before the watcher saw it: give the watcher a stream, or a list of its own.
//!
//! The connection follows the sinks' rules (`output::sink::redis::client`: TLS, `ca=`, credentials only
//! over TLS or a unix socket). A lost connection is retried every second, and the reading resumes
//! where it stopped (the stream's last id; the list's length, when nobody trimmed it).

use std::time::Duration;

use crate::output::sink::target::{Mode, STREAM_FIELD, SinkUrl};

/// Entries asked for per round trip.
const BATCH: usize = 512;
/// How long one blocking read waits for new entries (and how often a list is polled).
const POLL: Duration = Duration::from_millis(500);

/// What the reader tells its caller besides events.
pub enum Status {
    /// The engine cannot be reached (said once per outage); the reader retries every second.
    Away(String),
    /// Connected (again).
    Connected,
}

/// Read `u`'s events, oldest first, handing each line to `on_line` (false stops). With `once`, stop at
/// the end of what the engine holds now. `on_status` hears when the engine goes away and comes back.
pub fn follow(
    u: &SinkUrl,
    once: bool,
    on_line: &mut dyn FnMut(String) -> bool,
    on_status: &mut dyn FnMut(Status),
) -> Result<(), String> {
    let client = crate::output::sink::redis::client(u)?;
    let mut stream_from = "0-0".to_string();
    let mut list_seen: u64 = 0;
    let mut away = false;
    loop {
        let mut conn = match client.get_connection_with_timeout(Duration::from_secs(2)) {
            Ok(c) => c,
            Err(e) if once => return Err(e.to_string()),
            Err(e) => {
                if !away {
                    away = true;
                    on_status(Status::Away(e.to_string()));
                }
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        // `away` stays set: the reader only comes round again after a failure, which says so itself.
        if away {
            on_status(Status::Connected);
        }
        let res = match u.mode {
            Mode::Stream { .. } => read_stream(&mut conn, &u.key, &mut stream_from, once, on_line),
            Mode::List { rpush } => read_list(&mut conn, &u.key, rpush, &mut list_seen, once, on_line),
        };
        match res {
            Ok(()) => return Ok(()),
            Err(e) if once => return Err(e),
            Err(e) => {
                away = true;
                on_status(Status::Away(e));
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

type Entries = Vec<(String, Vec<(String, Vec<(String, String)>)>)>;

fn read_stream(
    conn: &mut redis::Connection,
    key: &str,
    from: &mut String,
    once: bool,
    on_line: &mut dyn FnMut(String) -> bool,
) -> Result<(), String> {
    loop {
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT").arg(BATCH);
        if !once {
            cmd.arg("BLOCK").arg(POLL.as_millis() as u64);
        }
        cmd.arg("STREAMS").arg(key).arg(&*from);
        let got: Option<Entries> = cmd.query(conn).map_err(|e| e.to_string())?;
        let entries = got.into_iter().flatten().flat_map(|(_, e)| e).collect::<Vec<_>>();
        if entries.is_empty() && once {
            return Ok(());
        }
        for (id, fields) in entries {
            *from = id;
            for (name, value) in fields {
                if name == STREAM_FIELD && !on_line(value) {
                    return Ok(());
                }
            }
        }
    }
}

fn read_list(
    conn: &mut redis::Connection,
    key: &str,
    rpush: bool,
    seen: &mut u64,
    once: bool,
    on_line: &mut dyn FnMut(String) -> bool,
) -> Result<(), String> {
    loop {
        let len: u64 = redis::cmd("LLEN").arg(key).query(conn).map_err(|e| e.to_string())?;
        if len < *seen {
            // Trimmed or popped by another consumer: what is left is read again (the merger replaces
            // what it already has by event id).
            *seen = 0;
        }
        while *seen < len {
            let n = (len - *seen).min(BATCH as u64);
            // The oldest unseen first: an RPUSH list grows at its tail (counted from the head), an LPUSH
            // list at its head (counted from the tail, which stays put while sensors push).
            let (start, stop) = if rpush {
                (*seen as i64, (*seen + n) as i64 - 1)
            } else {
                (-((*seen + n) as i64), -(*seen as i64) - 1)
            };
            let mut lines: Vec<String> =
                redis::cmd("LRANGE").arg(key).arg(start).arg(stop).query(conn).map_err(|e| e.to_string())?;
            if !rpush {
                lines.reverse();
            }
            *seen += n;
            for l in lines {
                if !on_line(l) {
                    return Ok(());
                }
            }
        }
        if once {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
}
