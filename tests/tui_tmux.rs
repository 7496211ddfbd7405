//! The real binary in a real terminal (tmux): keys in, screen out. Without tmux: `common::missing`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Session(String);
impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.0]).output();
    }
}

fn tmux(args: &[&str]) -> String {
    let o = Command::new("tmux").args(args).output().expect("tmux");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn screen(name: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", name])
}

fn wait_for(name: &str, what: &str) -> String {
    let start = Instant::now();
    loop {
        let s = screen(name);
        if s.contains(what) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "timed out waiting for {what:?}; screen:\n{s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn keys(name: &str, k: &[&str]) {
    let mut args = vec!["send-keys", "-t", name];
    args.extend_from_slice(k);
    tmux(&args);
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn read_tui_on_the_demo_capture_navigates_views_and_quits() {
    if Command::new("tmux").arg("-V").output().is_err() {
        common::missing("tmux is not installed (scripts/deps.sh --test installs it)");
        return;
    }
    let name = format!("plainsight-test-{}", std::process::id());
    let root = env!("CARGO_MANIFEST_DIR");
    let cmd = format!("cd {root} && {} read --tui captures/demo.pcap; sleep 30", common::bin().display());
    let st = Command::new("tmux")
        .args(["new-session", "-d", "-s", &name, "-x", "100", "-y", "30", &cmd])
        .status()
        .expect("tmux");
    assert!(st.success());
    let _guard = Session(name.clone());

    let s = wait_for(&name, "FINISHED");
    assert!(s.contains("leaks 6") && s.contains("TLS flows 2"), "{s}");
    assert!(s.contains("form_login") && s.contains("CRIT") && s.contains("shop.lab/login"), "{s}");
    assert!(!s.contains("Tr0ub4dor"), "secret on screen without --reveal:\n{s}");

    keys(&name, &["Enter"]);
    let s = wait_for(&name, "What an attacker on the network sees");
    assert!(s.contains("POST /login HTTP/1.1") && s.contains("username=alice&password=…["), "{s}");

    keys(&name, &["Escape", "Tab"]);
    let s = wait_for(&name, "Hosts:");
    assert!(s.contains("shop.lab") && s.contains("10.77.0.2:80"), "{s}");

    keys(&name, &["Tab", "/", "b", "o", "b", "Enter"]);
    let s = wait_for(&name, "filter /bob");
    assert!(s.contains("1 shown") && s.contains("expired"), "{s}");

    keys(&name, &["q"]);
    let s = screen(&name);
    assert!(!s.contains("q quit"), "the UI did not quit:\n{s}");
}

#[test]
fn quitting_the_ui_prints_the_report_and_w_saves_it_first() {
    if Command::new("tmux").arg("-V").output().is_err() {
        common::missing("tmux is not installed (scripts/deps.sh --test installs it)");
        return;
    }
    let name = format!("plainsight-report-{}", std::process::id());
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = common::tempdir();
    let cmd = format!(
        "cd {} && {} read --tui {root}/captures/demo.pcap; sleep 30",
        dir.path().display(),
        common::bin().display()
    );
    let st = Command::new("tmux")
        .args(["new-session", "-d", "-s", &name, "-x", "80", "-y", "24", &cmd])
        .status()
        .expect("tmux");
    assert!(st.success());
    let _guard = Session(name.clone());
    wait_for(&name, "FINISHED");
    keys(&name, &["w"]);
    let s = wait_for(&name, "report saved to");
    assert!(s.contains("plainsight-report-"), "{s}");
    let saved: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).collect();
    assert_eq!(saved.len(), 1);
    let text = std::fs::read_to_string(saved[0].path()).unwrap();
    assert!(text.starts_with("plainsight: 6 credentials crossed the network in clear text"), "{text}");
    assert!(!text.contains("Tr0ub4dor"), "the saved report is redacted");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(saved[0].metadata().unwrap().permissions().mode() & 0o777, 0o600);
    keys(&name, &["q"]);
    // The report's last lines (its first scrolled off the 24 rows).
    let s = wait_for(&name, "TLS-protected flows: 2");
    assert!(s.contains("attacker on the path") && !s.contains("q quit"), "the report follows the UI:\n{s}");
}
