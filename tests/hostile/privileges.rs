//! Capture privileges: THREAT_MODEL.md row "Capture privileges".
//!
//! Hostile traffic reaches the parsers of a process that opened a raw socket. Once the capture is open
//! plainsight needs no privilege, so a parser bug must find none: on the setcap route README recommends
//! (a non-root user, `cap_net_raw,cap_net_admin=eip` on the binary) and on the root route (`--user`),
//! every capability set is empty and no_new_privs is set while the capture runs, in every thread, and
//! the capture still sees a credential sent over loopback afterwards (the drop did not break it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{self, bin};

const TOKEN: &str = "abcdefghijklmnop1234";

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Root and a user `nobody` (uid 65534), or the reason the test cannot run.
fn prerequisites(tools: &[&str]) -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        return !common::missing("not root (capabilities and user switches need root)");
    }
    if nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(65534)).ok().flatten().is_none() {
        return !common::missing("no user with uid 65534 (nobody)");
    }
    for t in tools {
        if !have(t) {
            return !common::missing(&format!("{t} not installed (scripts/deps.sh --test)"));
        }
    }
    true
}

/// A loopback HTTP server on a free port that reads a request and answers it (only data opens a flow).
fn server() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let h = std::thread::spawn(move || {
        // Gives up after a while, so a run whose capture never opened does not hang the test.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            match l.accept() {
                Ok((mut c, _)) => {
                    let _ = c.set_nonblocking(false);
                    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buf = [0u8; 4096];
                    let _ = c.read(&mut buf);
                    let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                    return;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (port, h)
}

fn send_credential(port: u16) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n");
    c.write_all(req.as_bytes()).expect("send");
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "server did not answer");
}

/// What a run showed: the status of each of its threads once the capture was open, its alerts, stderr.
struct Seen {
    statuses: Vec<String>,
    alerts: Vec<serde_json::Value>,
    stderr: String,
}

/// Start `cmd` (which must exec plainsight in place, so its pid is plainsight's), wait for the capture to
/// be open, read /proc for every thread, send the credential, collect the alerts (stdout).
fn observe(mut cmd: Command, port: u16, server: std::thread::JoinHandle<()>) -> Seen {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn plainsight");
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stdout).read_to_string(&mut s);
        s
    });
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    let err = std::thread::spawn(move || {
        let mut all = String::new();
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(l.clone());
            all.push_str(&l);
            all.push('\n');
        }
        all
    });
    // "capturing on" is printed after the privileges are gone: from then on a parser bug finds none.
    let start = Instant::now();
    let mut open = false;
    while !open && start.elapsed() < Duration::from_secs(20) {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => open = l.contains("capturing on"),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let mut statuses = Vec::new();
    if open {
        // The capture and analysis threads start right after the line: wait for them.
        std::thread::sleep(Duration::from_millis(300));
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                statuses.push(std::fs::read_to_string(t.path().join("status")).unwrap_or_default());
            }
        }
        send_credential(port);
    }
    let _ = server.join();
    let status = child.wait().expect("wait");
    let stderr = err.join().expect("stderr reader");
    assert!(open, "the capture never opened: {stderr}");
    assert!(status.success(), "plainsight failed: {status:?}: {stderr}");
    let stdout = out.join().expect("stdout reader");
    let alerts = stdout.lines().map(|l| serde_json::from_str(l).expect("alert is JSON")).collect();
    Seen { statuses, alerts, stderr }
}

fn field<'a>(status: &'a str, name: &str) -> &'a str {
    status.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':'))).map_or("?", str::trim)
}

/// Every thread: no capability in any set, no_new_privs set, running as `uid`.
fn assert_unprivileged(seen: &Seen, uid: &str) {
    assert!(seen.statuses.len() >= 2, "expected the capture threads: {} seen: {}", seen.statuses.len(), seen.stderr);
    for s in &seen.statuses {
        let name = field(s, "Name");
        for set in ["CapEff", "CapPrm", "CapInh", "CapAmb"] {
            assert_eq!(field(s, set), "0000000000000000", "{set} of thread {name}");
        }
        assert_eq!(field(s, "NoNewPrivs"), "1", "no_new_privs of thread {name}");
        let uids: Vec<&str> = field(s, "Uid").split_whitespace().collect();
        assert_eq!(uids, [uid; 4], "uids of thread {name}");
    }
    assert!(
        seen.alerts.iter().any(|a| a["kind"] == "bearer_opaque" && a["secret"].as_str().is_some_and(|s| s == TOKEN)),
        "the capture missed the credential after the drop: {:?}\n{}",
        seen.alerts,
        seen.stderr
    );
}

fn live_args(port: u16) -> Vec<String> {
    ["live", "-i", "lo", "--no-tui", "--duration", "4", "--reveal", "--alerts", "-", "-f"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("tcp port {port}")])
        .collect()
}

/// A copy of the binary with file capabilities, where nobody can run it. /tmp first; where its filesystem
/// keeps no capabilities (tmpfs without xattrs), the target directory.
fn setcap_copy() -> Option<(tempfile::TempDir, PathBuf)> {
    copy_for_nobody(true)
}

/// A copy of the binary where nobody can run it, with file capabilities when `caps`.
fn copy_for_nobody(caps: bool) -> Option<(tempfile::TempDir, PathBuf)> {
    for base in [std::env::temp_dir(), PathBuf::from(env!("CARGO_TARGET_TMPDIR"))] {
        let Ok(d) = tempfile::tempdir_in(&base) else { continue };
        if std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).is_err() {
            continue;
        }
        let copy = d.path().join("plainsight");
        if std::fs::copy(bin(), &copy).is_err() {
            continue;
        }
        let ok = !caps
            || Command::new("setcap")
                .args(["cap_net_raw,cap_net_admin=eip"])
                .arg(&copy)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if ok && reachable_by_nobody(d.path()) {
            return Some((d, copy));
        }
    }
    None
}

/// nobody can reach `dir` (every parent searchable by others).
fn reachable_by_nobody(dir: &Path) -> bool {
    dir.ancestors().all(|p| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

#[test]
fn setcap_route_drops_every_capability_once_the_capture_is_open() {
    if !prerequisites(&["setcap", "setpriv"]) {
        return;
    }
    let Some((_dir, copy)) = setcap_copy() else {
        common::missing("no directory reachable by nobody whose filesystem keeps file capabilities");
        return;
    };
    let (port, srv) = server();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"]).arg(&copy).args(live_args(port));
    let seen = observe(cmd, port, srv);
    assert_unprivileged(&seen, "65534");
}

#[test]
fn root_route_switches_to_nobody_and_drops_every_capability() {
    if !prerequisites(&[]) {
        return;
    }
    let (port, srv) = server();
    let mut cmd = Command::new(bin());
    cmd.args(live_args(port)).args(["--user", "nobody"]);
    let seen = observe(cmd, port, srv);
    assert!(seen.stderr.contains("running as nobody"), "{}", seen.stderr);
    assert_unprivileged(&seen, "65534");
}

#[test]
fn root_staying_root_still_drops_every_capability() {
    if !prerequisites(&[]) {
        return;
    }
    let (port, srv) = server();
    let mut cmd = Command::new(bin());
    cmd.args(live_args(port)).args(["--user", "root"]);
    let seen = observe(cmd, port, srv);
    assert_unprivileged(&seen, "0");
}

/// The value of `key=` in the systemd unit (the last one: later lines override).
fn unit_setting(unit: &str, key: &str) -> Option<String> {
    unit.lines().rev().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('='))).map(str::to_string)
}

#[test]
fn the_systemd_units_route_ambient_capabilities_without_file_capabilities_captures_then_drops_them() {
    if !prerequisites(&["setpriv"]) {
        return;
    }
    // What the unit gives the service, read from the unit itself: a system user (nobody here), the
    // ambient and bounding capabilities it names, no_new_privs, its umask. The binary has no file
    // capabilities (a `cargo install`): the ambient set alone must be enough to open the capture.
    let unit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/systemd/plainsight.service"))
            .expect("the unit");
    let caps = |key: &str| -> String {
        let v = unit_setting(&unit, key).unwrap_or_else(|| panic!("{key} in the unit"));
        let names: Vec<String> =
            v.split_whitespace().map(|c| format!("+{}", c.trim_start_matches("CAP_").to_ascii_lowercase())).collect();
        format!("-all,{}", names.join(","))
    };
    assert_eq!(unit_setting(&unit, "NoNewPrivileges").as_deref(), Some("yes"));
    let umask = unit_setting(&unit, "UMask").expect("UMask in the unit");
    let Some((_dir, copy)) = copy_for_nobody(false) else {
        common::missing("no directory reachable by nobody for a copy of the binary");
        return;
    };
    let (port, srv) = server();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups", "--no-new-privs"])
        .arg(format!("--inh-caps={}", caps("AmbientCapabilities")))
        .arg(format!("--ambient-caps={}", caps("AmbientCapabilities")))
        .arg(format!("--bounding-set={}", caps("CapabilityBoundingSet")))
        .args(["sh", "-c", &format!("umask {umask} && exec \"$0\" \"$@\"")])
        .arg(&copy)
        .args(live_args(port));
    let seen = observe(cmd, port, srv);
    assert_unprivileged(&seen, "65534");
}
