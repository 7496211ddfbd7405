//! Output: sinks that consume alerts. Nothing below this stage prints.
//!
//! - [`event`]: the one renderer of events (native, Suricata EVE, ECS) every event sink uses.
//! - [`jsonl::JsonLines`]: the alert file, one JSON object per leak per line (docs/alerts.md), created
//!   with mode 0600 because it holds evidence about other people's credentials.
//! - [`file::create_private`]: how every file plainsight writes is opened (no symbolic link followed, no
//!   other user's file written, 0600 whatever the umask).
//! - [`report`]: the end-of-run report, leaks grouped by server with what an attacker can do with each.
//! - [`lines::AlertLines`]: one human line per new leak, for `live --no-tui` and pipes.
//! - [`hashes`]: `--export-hashes`, the crackable material of a run in hashcat's formats.
//! - [`sink`]: `--sink URL`, alerts delivered into Redis (list or stream) with a bounded queue and a
//!   spool on disk while the engine is away.
//! - [`term`]: the one sanitiser every text sink (and the TUI) passes attacker-chosen text through.

pub mod event;
pub mod file;
pub mod hashes;
pub mod jsonl;
pub mod lines;
pub mod report;
pub mod sink;
pub mod term;
