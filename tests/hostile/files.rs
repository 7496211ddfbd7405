//! The alert file, as root, in directories other users can write: THREAT_MODEL.md row "Alert file".
//!
//! Whoever can write where the alert file goes can plant a symbolic link to a file of root's, create the
//! file first to read what root writes into it, or hard-link a file of root's under that name. plainsight
//! refuses each (exit 2, one line naming the path) and leaves what is there untouched; it writes FIFOs
//! and devices of its own as they are (never chmods `/dev/null`), and a new file is 0600 whatever the umask.
//! Every test runs the real binary on a bundled capture.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, bin};

const NOBODY: u32 = 65534;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/demo.pcap")
}

/// `plainsight read -q --no-report --alerts <alerts> captures/demo.pcap`.
fn read_to(alerts: &Path) -> Output {
    Command::new(bin())
        .args(["read", "-q", "--no-report", "--threads", "1", "--alerts"])
        .arg(alerts)
        .arg(demo())
        .output()
        .expect("run plainsight")
}

fn root() -> bool {
    nix::unistd::Uid::effective().is_root() || common::missing("not root (the file attacks need root and chown)")
}

/// A directory like /tmp: world-writable and sticky, where anyone can plant a name.
fn sticky_dir() -> tempfile::TempDir {
    let d = common::tempdir();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o1777)).expect("chmod 1777");
    d
}

fn chown_nobody(p: &Path) {
    std::os::unix::fs::lchown(p, Some(NOBODY), Some(NOBODY)).expect("chown to nobody");
}

/// A root-owned file the attacker would like overwritten: content, mode.
fn victim(dir: &Path) -> PathBuf {
    let p = dir.join("victim");
    fs::write(&p, "root's precious content\n").expect("write victim");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).expect("chmod");
    p
}

fn state(p: &Path) -> (String, u32, u32) {
    let m = fs::symlink_metadata(p).expect("stat");
    (fs::read_to_string(p).unwrap_or_default(), m.mode() & 0o7777, m.uid())
}

/// Refused: exit 2, one line on stderr naming the path and the reason.
fn assert_refused(o: &Output, path: &Path, reason: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "not refused: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("plainsight: error: ") && err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains(reason), "expected {reason:?}: {err}");
}

fn assert_alert_lines(text: &str) {
    assert!(!text.is_empty(), "no alert written");
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON alert ({e}): {l}"));
        assert!(v["kind"].is_string(), "{l}");
    }
}

#[test]
fn a_symlink_planted_by_another_user_is_refused_and_its_target_untouched() {
    if !root() {
        return;
    }
    let safe = common::tempdir();
    let target = victim(safe.path());
    let before = state(&target);
    // In a sticky world-writable directory (the kernel may refuse first: fs.protected_symlinks), and in
    // a directory the other user owns (no kernel guard: only O_NOFOLLOW stands in the way).
    let sticky = sticky_dir();
    let theirs = common::tempdir();
    fs::set_permissions(theirs.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::chown(theirs.path(), Some(NOBODY), Some(NOBODY)).expect("chown dir");
    for dir in [sticky.path(), theirs.path()] {
        let link = dir.join("alerts.jsonl");
        std::os::unix::fs::symlink(&target, &link).expect("plant link");
        chown_nobody(&link);
        let o = read_to(&link);
        assert_refused(&o, &link, "is a symbolic link: refusing to follow it");
        assert_eq!(state(&target), before, "target changed through {}", link.display());
    }
    // A dangling link is not followed to create its target either.
    let link = sticky.path().join("dangling.jsonl");
    let would_be = safe.path().join("created-through-link");
    std::os::unix::fs::symlink(&would_be, &link).expect("plant link");
    chown_nobody(&link);
    assert_refused(&read_to(&link), &link, "is a symbolic link");
    assert!(!would_be.exists(), "followed a dangling link");
}

#[test]
fn a_file_another_user_created_is_refused_and_left_unchanged() {
    if !root() {
        return;
    }
    let d = sticky_dir();
    let planted = d.path().join("alerts.jsonl");
    fs::write(&planted, "the other user's file, they keep reading it\n").expect("write");
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o666)).expect("chmod");
    chown_nobody(&planted);
    let before = state(&planted);
    assert_refused(&read_to(&planted), &planted, "owned by uid 65534, not by us: refusing to write secrets into it");
    assert_eq!(state(&planted), before);
}

#[test]
fn a_hard_linked_file_is_refused() {
    if !root() {
        return;
    }
    let d = common::tempdir();
    let target = victim(d.path());
    let before = state(&target);
    let link = d.path().join("alerts.jsonl");
    fs::hard_link(&target, &link).expect("hard link");
    assert_refused(&read_to(&link), &link, "has 2 hard links");
    assert_eq!(state(&target), before);
    assert_eq!(fs::metadata(&target).expect("stat").nlink(), 2);
}

#[test]
fn a_directory_is_refused() {
    let d = common::tempdir();
    assert_refused(&read_to(d.path()), d.path(), "is a directory");
}

/// Puts /dev/null's mode back if a test changed it (the whole machine uses it).
struct RestoreMode(&'static str, u32);
impl Drop for RestoreMode {
    fn drop(&mut self) {
        if fs::metadata(self.0).is_ok_and(|m| m.mode() & 0o7777 != self.1) {
            let _ = fs::set_permissions(self.0, fs::Permissions::from_mode(self.1));
        }
    }
}

#[test]
fn dev_null_is_written_as_is_and_keeps_its_mode() {
    let before = fs::metadata("/dev/null").expect("stat /dev/null");
    let _restore = RestoreMode("/dev/null", before.mode() & 0o7777);
    let o = read_to(Path::new("/dev/null"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = fs::metadata("/dev/null").expect("stat /dev/null");
    assert_eq!((after.mode(), after.uid(), after.rdev()), (before.mode(), before.uid(), before.rdev()));
}

#[test]
fn a_fifo_of_ours_receives_the_alerts_and_keeps_its_mode() {
    let d = common::tempdir();
    let fifo = d.path().join("forwarder.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
    fs::set_permissions(&fifo, fs::Permissions::from_mode(0o644)).expect("chmod");
    // The forwarder opens it before or after plainsight does: both ways work.
    for reader_first in [true, false] {
        let path = fifo.clone();
        let reader = std::thread::spawn(move || {
            if !reader_first {
                std::thread::sleep(Duration::from_millis(300));
            }
            fs::read_to_string(path).expect("read fifo")
        });
        if reader_first {
            std::thread::sleep(Duration::from_millis(100));
        }
        let o = read_to(&fifo);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_alert_lines(&reader.join().expect("reader"));
        let m = fs::symlink_metadata(&fifo).expect("stat");
        assert!(m.file_type().is_fifo(), "replaced");
        assert_eq!(m.mode() & 0o7777, 0o644, "chmodded");
    }
}

#[test]
fn a_fifo_of_another_user_is_refused_without_waiting_for_a_reader() {
    if !root() {
        return;
    }
    let d = sticky_dir();
    let fifo = d.path().join("alerts.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o622)).expect("mkfifo");
    chown_nobody(&fifo);
    let mut child = Command::new(bin())
        .args(["read", "-q", "--no-report", "--alerts"])
        .arg(&fifo)
        .arg(demo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("plainsight waits on another user's FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = Output { status, stdout: vec![], stderr: child.wait_with_output().expect("stderr").stderr };
    assert_refused(&o, &fifo, "owned by uid 65534, not by us");
}

/// Run the binary with `umask` set by a shell that then execs it.
fn read_under_umask(umask: &str, alerts: &Path) -> Output {
    Command::new("sh")
        .args(["-c", &format!("umask {umask}; exec \"$0\" \"$@\"")])
        .arg(bin())
        .args(["read", "-q", "--no-report", "--alerts"])
        .arg(alerts)
        .arg(demo())
        .output()
        .expect("run sh")
}

#[test]
fn new_alert_files_are_0600_under_any_umask() {
    let d = common::tempdir();
    for umask in ["0000", "0277", "0022", "0777"] {
        let p = d.path().join(format!("alerts-{umask}.jsonl"));
        let o = read_under_umask(umask, &p);
        assert!(o.status.success(), "umask {umask}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(fs::metadata(&p).expect("stat").mode() & 0o7777, 0o600, "umask {umask}");
        assert_alert_lines(&fs::read_to_string(&p).expect("read"));
    }
}

#[test]
fn an_own_file_is_truncated_and_tightened_to_0600() {
    let d = common::tempdir();
    let p = d.path().join("alerts.jsonl");
    // Longer than the alerts written over it: anything not truncated would show as a tail.
    fs::write(&p, "stale line from an earlier run\n".repeat(10_000)).expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = read_to(&p);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fs::metadata(&p).expect("stat").mode() & 0o7777, 0o600);
    let text = fs::read_to_string(&p).expect("read");
    assert!(!text.contains("stale line"), "not truncated");
    assert_alert_lines(&text);
}
