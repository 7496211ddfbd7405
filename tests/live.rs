//! Live capture end to end: real servers, real curl, `plainsight live` on a real interface.
//!
//! Needs root (network namespaces, capture privileges), `ip`, `curl` and `python3` (some tests `setpriv`
//! and `ss` too). Addresses live only inside namespaces this test creates (and loopback). The protocol
//! tests also drive real FTP, Redis and SNMP servers and clients (pyftpdlib, redis-server and redis-cli,
//! snmpd and snmpget). `scripts/deps.sh --test` installs them all; a test without one calls
//! `common::missing`: it fails under CI (which runs as root) and says it skipped elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::netns::{Cleanup, FTP_SERVER_PY, HTTP_SERVER_PY, python_with_pyftpdlib, sh, two_namespaces, unprepared};
use common::*;

const JWT_CLAIMS_EXP_FAR: &str = r#"{"sub":"victim","roles":["user"],"exp":4102444800}"#;

/// Start `plainsight live` (optionally inside a netns) and wait until the capture is open.
fn start_live(netns: Option<&str>, iface: &str, filter: &str, alerts: &std::path::Path, secs: u32) -> Child {
    start_live_with(netns, iface, filter, alerts, secs, &[])
}

/// [`start_live`] with extra arguments (`--reveal`).
fn start_live_with(
    netns: Option<&str>,
    iface: &str,
    filter: &str,
    alerts: &std::path::Path,
    secs: u32,
    extra: &[&str],
) -> Child {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(bin());
            c
        }
        None => Command::new(bin()),
    };
    cmd.args(["live", "-i", iface, "--no-tui", "-f", filter, "--alerts"])
        .arg(alerts)
        .args(["--duration", &secs.to_string(), "--stats"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn plainsight live");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("capturing on") {
                let _ = tx.send(String::new());
            }
            all.push_str(&line);
            all.push('\n');
        }
        eprintln!("plainsight live stderr:\n{all}");
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("plainsight live did not start capturing");
    child
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("plainsight live did not stop after --duration");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_port(ns_prefix: &str, host: &str, port: u16) {
    for _ in 0..100 {
        if sh(&format!("{ns_prefix} curl -s -o /dev/null http://{host}:{port}/ready")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server on {host}:{port} did not come up");
}

#[test]
fn live_on_a_veth_between_two_namespaces_reports_curl_leaks() {
    if unprepared(&[]) {
        return;
    }
    let id = std::process::id() % 100_000;
    let (srv, cli) = (format!("ps-s{id}"), format!("ps-c{id}"));
    let (vs, vc) = (format!("psv{id}s"), format!("psv{id}c"));
    let mut guard =
        Cleanup(vec![format!("ip netns del {srv} 2>/dev/null"), format!("ip netns del {cli} 2>/dev/null")], vec![]);
    assert!(sh(&format!(
        "set -e; ip netns add {srv}; ip netns add {cli}; \
         ip link add {vs} type veth peer name {vc}; \
         ip link set {vs} netns {srv}; ip link set {vc} netns {cli}; \
         ip -n {srv} addr add 10.231.0.2/24 dev {vs}; ip -n {cli} addr add 10.231.0.1/24 dev {vc}; \
         ip -n {srv} link set {vs} up; ip -n {cli} link set {vc} up; \
         ip -n {srv} link set lo up; ip -n {cli} link set lo up"
    )));
    let token = plainsight_synth::jwt(JWT_CLAIMS_EXP_FAR);
    let server = Command::new("ip")
        .args(["netns", "exec", &srv, "python3", "-c", HTTP_SERVER_PY, "10.231.0.2", "8080", &token])
        .spawn()
        .expect("server");
    guard.1.push(server);
    let cli_prefix = format!("ip netns exec {cli}");
    wait_port(&cli_prefix, "10.231.0.2", 8080);

    let dir = tempdir();
    let alerts = dir.path().join("live.jsonl");
    let mut live = start_live(Some(&srv), &vs, "tcp port 8080", &alerts, 4);
    assert!(sh(&format!(
        "{cli_prefix} curl -s -o /dev/null -d 'username=victim&password=Hunter2-live' http://10.231.0.2:8080/login && \
         {cli_prefix} curl -s -o /dev/null -H 'Authorization: Bearer {token}' http://10.231.0.2:8080/api/orders && \
         {cli_prefix} curl -s -o /dev/null -u admin:S3cr3t-basic http://10.231.0.2:8080/admin"
    )));
    let code = wait_exit(&mut live, Duration::from_secs(20));
    assert_eq!(code, Some(0));
    let got = read_jsonl(&alerts);
    let mut k = kinds(&got);
    k.dedup();
    assert_eq!(k, vec!["basic_auth", "bearer_jwt", "form_login", "login_response_token"], "{got:?}");
    assert!(got.iter().all(|a| a["server"] == "10.231.0.2:8080" && a["redacted"] == true));
    assert!(got.iter().all(|a| a["capture"] == format!("iface:{vs}")));
}

#[test]
fn live_on_loopback_reports_curl_leaks_and_stops_on_duration() {
    if unprepared(&[]) {
        return;
    }
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let token = plainsight_synth::jwt(JWT_CLAIMS_EXP_FAR);
    let server = Command::new("python3")
        .args(["-c", HTTP_SERVER_PY, "127.0.0.1", &port.to_string(), &token])
        .spawn()
        .expect("server");
    let _guard = Cleanup(vec![], vec![server]);
    wait_port("", "127.0.0.1", port);
    let dir = tempdir();
    let alerts = dir.path().join("lo.jsonl");
    let mut live = start_live(None, "lo", &format!("tcp port {port}"), &alerts, 3);
    assert!(sh(&format!(
        "curl -s -o /dev/null -H 'X-API-Key: k-0123456789abcdef0123' http://127.0.0.1:{port}/v1/items && \
         curl -s -o /dev/null -b 'sessionid=0f1e2d3c4b5a69788796a5b4' http://127.0.0.1:{port}/cart"
    )));
    let started = Instant::now();
    let code = wait_exit(&mut live, Duration::from_secs(20));
    assert_eq!(code, Some(0));
    assert!(started.elapsed() < Duration::from_secs(10), "--duration not honoured");
    let got = read_jsonl(&alerts);
    assert_eq!(kinds(&got), vec!["api_key_header", "cookie_token"], "{got:?}");
}

#[test]
fn live_errors_are_clear() {
    if unprepared(&["setpriv"]) {
        return;
    }
    let o = run(&["live", "-i", "nosuchif0", "--no-tui", "--duration", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nosuchif0: no such interface"));

    // An interface that exists but is down (a veth pair left down, in a private namespace).
    let id = std::process::id() % 100_000;
    let ns = format!("ps-d{id}");
    let _guard = Cleanup(vec![format!("ip netns del {ns} 2>/dev/null")], vec![]);
    assert!(sh(&format!("ip netns add {ns} && ip -n {ns} link add pd{id}a type veth peer name pd{id}b")));
    let o = Command::new("ip")
        .args(["netns", "exec", &ns])
        .arg(bin())
        .args(["live", "-i", &format!("pd{id}a"), "--no-tui", "--duration", "1"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is down"), "{}", String::from_utf8_lossy(&o.stderr));

    // Without privileges: the error names the capabilities and the setcap command.
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
        .arg(bin())
        .args(["live", "-i", "lo", "--no-tui", "--duration", "1"])
        .output()
        .expect("run setpriv");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("CAP_NET_RAW") && err.contains("setcap"), "{err}");
}

#[test]
fn live_drops_root_to_nobody_and_sigterm_stops_cleanly_with_a_summary() {
    if unprepared(&[]) {
        return;
    }
    if nix::unistd::User::from_name("nobody").ok().flatten().is_none() {
        missing("no user nobody (the user live drops root to)");
        return;
    }
    let dir = tempdir();
    let alerts = dir.path().join("term.jsonl");
    let mut child = Command::new(bin())
        .args(["live", "-i", "lo", "--no-tui", "-f", "tcp port 9", "--duration", "60", "--alerts"])
        .arg(&alerts)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        use std::io::Read;
        let mut r = BufReader::new(stderr);
        let _ = r.read_to_string(&mut s);
        s
    });
    // Wait for the capture to be open and privileges dropped.
    let pid = child.id();
    let start = Instant::now();
    let mut uid_line = String::new();
    while start.elapsed() < Duration::from_secs(10) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap_or("").to_string();
        if uid_line.contains("65534") {
            break;
        }
        // Poll tightly: the signal below must come as soon after the drop as a supervisor's could (a
        // handler installed only after the drop lost this race once in CI).
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(uid_line.split_whitespace().skip(1).all(|u| u == "65534"), "still privileged: {uid_line}");
    // And without a capability left (tests/hostile/privileges.rs checks every set and thread, and the setcap
    // route).
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    for set in ["CapEff:", "CapPrm:"] {
        let line = status.lines().find(|l| l.starts_with(set)).unwrap_or("");
        assert!(line.ends_with("0000000000000000"), "capabilities kept: {line}");
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM).expect("kill");
    let code = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    let err = reader.join().expect("stderr reader");
    assert!(err.contains("running as nobody") && err.contains("packets captured"), "{err}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&alerts).expect("alert file").permissions()) & 0o777;
    assert_eq!(mode, 0o600);
}

/// The alerts of `kind`, in the order they were written.
fn of_kind<'a>(got: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    got.iter().filter(|a| a["kind"] == kind).collect()
}

/// A real FTP client (ftplib): a refused login on one connection, then an accepted one on another.
const FTP_CLIENT_PY: &str = r#"
import ftplib, sys
host, user, wrong, right = sys.argv[1:5]
f = ftplib.FTP(host, timeout=5)
try:
    f.login(user, wrong)
    sys.exit("the wrong password was accepted")
except ftplib.error_perm as e:
    assert str(e).startswith("530"), e
f.close()
f = ftplib.FTP(host, timeout=5)
print(f.login(user, right))
f.pwd()
f.quit()
"#;

#[test]
fn live_ftp_login_with_its_verdict() {
    if unprepared(&["ss"]) {
        return;
    }
    let Some(py) = python_with_pyftpdlib() else {
        missing("pyftpdlib not installed (python3-pyftpdlib, scripts/deps.sh --test)");
        return;
    };
    let mut pair = two_namespaces("pf", "10.232.0");
    let home = tempdir();
    let home_s = home.path().to_str().expect("utf8 path");
    pair.serve(&[py, "-c", FTP_SERVER_PY, "10.232.0.2", "21", "alice", "Ftp-Alice-live1", home_s], &[]);
    pair.wait_listening('t', 21);

    let dir = tempdir();
    let alerts = dir.path().join("ftp.jsonl");
    let mut live = start_live_with(Some(&pair.srv), &pair.veth, "tcp port 21", &alerts, 4, &["--reveal"]);
    let o = pair.client(&format!(
        "python3 -c '{}' 10.232.0.2 alice wrong-Alice-guess Ftp-Alice-live1",
        FTP_CLIENT_PY.replace('\'', r"'\''")
    ));
    assert!(o.status.success(), "ftp client: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("230"), "{o:?}");
    assert_eq!(wait_exit(&mut live, Duration::from_secs(20)), Some(0));

    let got = read_jsonl(&alerts);
    let ftp = of_kind(&got, "ftp_login");
    assert_eq!(ftp.len(), 2, "{got:?}");
    let (refused, accepted) = (ftp[0], ftp[1]);
    assert_eq!(refused["verdict"], "refused", "{refused}");
    assert_eq!(refused["secret"], "wrong-Alice-guess", "{refused}");
    assert_eq!(accepted["verdict"], "accepted", "{accepted}");
    assert_eq!(accepted["secret"], "Ftp-Alice-live1", "{accepted}");
    for a in &ftp {
        assert_eq!(a["user"], "alice", "{a}");
        assert_eq!(a["protocol"], "ftp", "{a}");
        assert_eq!(a["server"], "10.232.0.2:21", "{a}");
        assert_eq!(a["redacted"], false, "{a}");
        assert_eq!(a["count"], 1, "{a}");
        assert!(a["starttls"].is_null(), "pyftpdlib without TLS offers no AUTH TLS: {a}");
        assert_eq!(a["capture"], format!("iface:{}", pair.veth), "{a}");
    }
    assert_eq!(got.len(), 2, "nothing else crossed: {got:?}");
}

/// snmpd's whole configuration: one read-only community, answered only from the client's subnet. No
/// AgentX master (it would want /var/agentx), persistent state in the test's directory (`SNMP_PERSISTENT_DIR`).
const SNMPD_CONF: &str = "agentAddress udp:10.233.0.2:161\nrocommunity Lab-ro-live-C0mm 10.233.0.0/24\nmaster no\n";

#[test]
fn live_redis_auth_and_snmp_community_are_seen() {
    if unprepared(&["ss", "redis-server", "redis-cli", "snmpd", "snmpget"]) {
        return;
    }
    let mut pair = two_namespaces("pr", "10.233.0");
    let state = tempdir();
    let state_s = state.path().to_str().expect("utf8 path");
    pair.serve(
        &[
            "redis-server",
            "--port",
            "6379",
            "--bind",
            "10.233.0.2",
            "--requirepass",
            "Redis-live-pass-1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            state_s,
        ],
        &[],
    );
    let conf = state.path().join("snmpd.conf");
    std::fs::write(&conf, SNMPD_CONF).expect("write snmpd.conf");
    let pid = state.path().join("snmpd.pid");
    pair.serve(
        &["snmpd", "-f", "-Le", "-C", "-c", conf.to_str().expect("utf8"), "-p", pid.to_str().expect("utf8")],
        &[("SNMP_PERSISTENT_DIR", state_s)],
    );
    pair.wait_listening('t', 6379);
    pair.wait_listening('u', 161);

    let dir = tempdir();
    let alerts = dir.path().join("redis-snmp.jsonl");
    let filter = "tcp port 6379 or udp port 161";
    let mut live = start_live_with(Some(&pair.srv), &pair.veth, filter, &alerts, 4, &["--reveal"]);
    let redis =
        |pass: &str| pair.client(&format!("redis-cli --no-auth-warning -h 10.233.0.2 -p 6379 -a '{pass}' PING"));
    let o = redis("wrong-redis-guess");
    assert!(String::from_utf8_lossy(&o.stderr).contains("WRONGPASS"), "{o:?}");
    let o = redis("Redis-live-pass-1");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "PONG", "{o:?}");
    // sysName.0; the agent drops a wrong community without a word (the request times out).
    let snmp = |community: &str| {
        pair.client(&format!("snmpget -v2c -c '{community}' -t 1 -r 0 -On 10.233.0.2 1.3.6.1.2.1.1.5.0"))
    };
    let o = snmp("guessed-public");
    assert!(!o.status.success(), "a wrong community was answered: {o:?}");
    let o = snmp("Lab-ro-live-C0mm");
    assert!(o.status.success(), "snmpget: {o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(".1.3.6.1.2.1.1.5.0 = STRING:"), "{o:?}");
    assert_eq!(wait_exit(&mut live, Duration::from_secs(20)), Some(0));

    let got = read_jsonl(&alerts);
    let r = of_kind(&got, "redis_auth");
    assert_eq!(r.len(), 2, "{got:?}");
    assert_eq!((&r[0]["secret"], &r[0]["verdict"]), (&"wrong-redis-guess".into(), &"refused".into()), "{}", r[0]);
    assert_eq!((&r[1]["secret"], &r[1]["verdict"]), (&"Redis-live-pass-1".into(), &"accepted".into()), "{}", r[1]);
    for a in &r {
        assert_eq!(a["user"], "default", "requirepass is the default user's password: {a}");
        assert_eq!(a["protocol"], "redis", "{a}");
        assert_eq!(a["server"], "10.233.0.2:6379", "{a}");
    }
    let s = of_kind(&got, "snmp_community");
    assert_eq!(s.len(), 2, "{got:?}");
    let by = |c: &str| s.iter().find(|a| a["secret"] == c).unwrap_or_else(|| panic!("no alert for {c}: {got:?}"));
    assert_eq!(by("guessed-public")["verdict"], "unknown", "unanswered: {got:?}");
    assert_eq!(by("Lab-ro-live-C0mm")["verdict"], "accepted", "answered by the agent: {got:?}");
    for a in &s {
        assert_eq!(a["protocol"], "snmp", "{a}");
        assert_eq!(a["server"], "10.233.0.2:161", "{a}");
        assert_eq!(a["count"], 1, "the agent's GetResponse carries the community back, not a second leak: {a}");
    }
    assert_eq!(got.len(), 4, "nothing else: {got:?}");
}

#[test]
fn live_ring_keeps_the_recent_traffic_in_its_files_after_dropping_to_nobody() {
    if unprepared(&[]) {
        return;
    }
    let port = 20_000 + ((std::process::id() + 7) % 20_000) as u16;
    let token = plainsight_synth::jwt(JWT_CLAIMS_EXP_FAR);
    let server = Command::new("python3")
        .args(["-c", HTTP_SERVER_PY, "127.0.0.1", &port.to_string(), &token])
        .spawn()
        .expect("server");
    let _guard = Cleanup(vec![], vec![server]);
    wait_port("", "127.0.0.1", port);
    let dir = tempdir();
    let ring = dir.path().join("ring");
    std::fs::create_dir(&ring).unwrap();
    let alerts = dir.path().join("lo.jsonl");
    let spec = format!("{},64K,3", ring.display());
    let mut live = start_live_with(None, "lo", &format!("tcp port {port}"), &alerts, 3, &["--reveal", "--ring", &spec]);
    assert!(sh(&format!(
        "curl -s -o /dev/null -H 'X-API-Key: k-ring-0123456789abcdef0' http://127.0.0.1:{port}/v1/items"
    )));
    assert_eq!(wait_exit(&mut live, Duration::from_secs(20)), Some(0));
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    for i in 0..3 {
        let f = ring.join(format!("ring-{i:03}.pcap"));
        assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
        found.extend(read_alerts_of(&f));
    }
    assert!(found.iter().any(|a| a["secret"] == "k-ring-0123456789abcdef0"), "{found:?}");
    // Without --reveal the ring is refused.
    let o = run(&["live", "-i", "lo", "--no-tui", "--duration", "1", "--ring", &spec]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--reveal"));
}

fn read_alerts_of(pcap: &std::path::Path) -> Vec<serde_json::Value> {
    alerts_of(pcap, &["--reveal"])
}
