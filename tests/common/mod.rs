//! Shared helpers for end-to-end tests: TCP conversations built packet by packet (so tests control
//! segmentation, order, loss and retransmission exactly), written as capture files, and the binary run
//! on them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use plainsight_synth::{Conversation, Frame};

pub mod netns;
pub mod tmux;

/// A conversation between two `ip:port` strings.
pub fn conv(client: &str, server: &str) -> Conversation {
    Conversation::new(client.parse().expect("client addr"), server.parse().expect("server addr"))
}

/// Write frames as a legacy pcap (Ethernet) file.
pub fn write_pcap(path: &Path, frames: &[Frame]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for f in frames {
        out.extend_from_slice(&((f.ts / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((f.ts % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&f.data);
    }
    std::fs::write(path, out).expect("write pcap");
}

/// A fresh temporary directory for one test.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_plainsight"))
}

/// Run `plainsight` with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().expect("run plainsight")
}

/// Run `plainsight read --alerts <tmp> --no-report -q <file>` and return the alert objects.
pub fn alerts_of(pcap: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempdir();
    let out = dir.path().join("alerts.jsonl");
    let mut args = vec!["read", "-q", "--no-report", "--alerts", out.to_str().expect("utf8 path")];
    args.extend_from_slice(extra);
    args.push(pcap.to_str().expect("utf8 path"));
    let o = run(&args);
    assert!(o.status.success(), "plainsight failed: {:?}\nstderr: {}", o.status, String::from_utf8_lossy(&o.stderr));
    read_jsonl(&out)
}

pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("read alerts");
    text.lines().map(|l| serde_json::from_str(l).expect("alert line is JSON")).collect()
}

/// `(kind, secret)` pairs of alerts (secrets need `--reveal`).
pub fn kinds(alerts: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = alerts.iter().map(|a| a["kind"].as_str().unwrap_or("?").to_string()).collect();
    v.sort();
    v
}

/// A prerequisite of a test is missing (a tool, root, `../shared`): under CI (`CI` set) that is a failure,
/// because a test that cannot run proves nothing; elsewhere the test says it skipped and returns.
/// Use as `let Some(x) = have(...) else { return };` or `if missing(..) { return }`.
pub fn missing(reason: &str) -> bool {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("prerequisite missing under CI: {reason}");
    }
    // Written to the process's stderr directly: `eprintln!` is captured by the test harness and a
    // passing test's output is never shown, so the skip would go unseen.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped: {reason}");
    true
}

/// A protocol session fed a conversation of (side, message), each message cut at the offsets
/// `cuts[i]` (taken modulo its length; none: whole), one second apart; the logins it reported, close
/// included.
pub fn session_logins(
    p: plainsight::proto::Proto,
    conv: &[(plainsight::reassembly::Side, Vec<u8>)],
    cuts: &[Vec<usize>],
) -> Vec<plainsight::proto::Login> {
    use plainsight::time::Timestamp;
    let mut s = plainsight::proto::session(p);
    let mut out = plainsight::proto::Logins::default();
    for (i, (side, msg)) in conv.iter().enumerate() {
        let ts = Timestamp::from_secs(1_000 + i as i64);
        let mut at: Vec<usize> =
            cuts.get(i).map(|c| c.iter().map(|&x| x % (msg.len() + 1)).collect()).unwrap_or_default();
        at.extend([0, msg.len()]);
        at.sort_unstable();
        at.dedup();
        for w in at.windows(2) {
            s.on_data(*side, &msg[w[0]..w[1]], ts, &mut out);
        }
    }
    s.on_close(Timestamp::from_secs(2_000), &mut out);
    out.logins
}
