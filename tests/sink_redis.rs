//! `--sink` end to end against a real `redis-server` (Debian package, started by each test on a unix
//! socket in a temporary directory, no persistence unless the test is about a restart): what arrives
//! is exactly the alert file, two sensors at once lose nothing, the stream carries Suricata's field,
//! an engine away spools and the next run (or the engine back in time) delivers in order, a password
//! over plain TCP is refused; as root, a live run on a veth pair whose engine is killed and restarted.
//! `scripts/deps.sh --test` installs redis-server, redis-cli, openssl; a test without them calls
//! `common::missing`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::netns::{HTTP_SERVER_PY, Live, have, sh, two_namespaces, unprepared};
use common::*;

/// A redis-server of this test, on `dir/redis.sock`; killed when dropped.
struct Server {
    child: Option<Child>,
    dir: PathBuf,
    persist: bool,
}

impl Server {
    /// Start one (None, after saying why, when redis-server is not installed).
    fn start(dir: &Path) -> Option<Server> {
        Server::start_with(dir, false)
    }

    /// `persist`: append-only file, fsync'ed at every write, so that a killed server keeps what it
    /// acknowledged (the restart test).
    fn start_with(dir: &Path, persist: bool) -> Option<Server> {
        if !have("redis-server") {
            missing("redis-server not installed (scripts/deps.sh --test)");
            return None;
        }
        let mut s = Server { child: None, dir: dir.to_path_buf(), persist };
        s.up();
        Some(s)
    }

    fn sock(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    fn up(&mut self) {
        let _ = std::fs::remove_file(self.sock());
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", "0", "--unixsocket"])
            .arg(self.sock())
            .args(["--unixsocketperm", "700", "--save", "", "--dir"])
            .arg(&self.dir);
        if self.persist {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start redis-server");
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if self.sock().exists() && self.conn().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not come up on {}", self.sock().display());
    }

    /// SIGKILL: the server goes away without a word, as a crash.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn conn(&self) -> Option<redis::Connection> {
        let c = redis::Client::open(redis::ConnectionAddr::Unix(self.sock())).ok()?;
        c.get_connection_with_timeout(Duration::from_secs(1)).ok()
    }

    fn url(&self, query: &str) -> String {
        format!("redis+unix://{}?{query}", self.sock().display())
    }

    fn lrange(&self, key: &str) -> Vec<String> {
        let mut c = self.conn().expect("connect to redis-server");
        redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query(&mut c).expect("LRANGE")
    }

    fn xrange(&self, key: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut c = self.conn().expect("connect to redis-server");
        redis::cmd("XRANGE").arg(key).arg("-").arg("+").query(&mut c).expect("XRANGE")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The bundled captures (captures/*.pcap*).
fn bundled() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".pcap")))
        .collect();
    v.sort();
    assert!(v.len() >= 10, "bundled captures: {v:?}");
    v
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/demo.pcap")
}

fn read_with(args: &[&str], pcap: &Path) -> Output {
    let mut a = vec!["read", "-q", "--no-report"];
    a.extend_from_slice(args);
    a.push(pcap.to_str().unwrap());
    run(&a)
}

fn lines_of(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p).unwrap().lines().map(str::to_string).collect()
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "plainsight failed: {:?}\n{err}", o.status);
    err
}

#[test]
fn alerts_of_every_bundled_capture_arrive_exactly_as_in_the_alert_file() {
    let dir = tempdir();
    let Some(srv) = Server::start(dir.path()) else { return };
    let mut total = 0;
    for (i, pcap) in bundled().iter().enumerate() {
        let file = dir.path().join(format!("{i}.jsonl"));
        let (rkey, lkey) = (format!("r{i}"), format!("l{i}"));
        let rurl = srv.url(&format!("key={rkey}&push=rpush"));
        let lurl = srv.url(&format!("key={lkey}"));
        ok(&read_with(&["--alerts", file.to_str().unwrap(), "--sink", &rurl, "--sink", &lurl], pcap));
        let want = lines_of(&file);
        assert_eq!(srv.lrange(&rkey), want, "{} (RPUSH)", pcap.display());
        // LPUSH, Suricata's default: the newest at the head.
        let mut l = srv.lrange(&lkey);
        l.reverse();
        assert_eq!(l, want, "{} (LPUSH)", pcap.display());
        total += want.len();
    }
    assert!(total > 50, "only {total} alerts in the bundled captures");
}

#[test]
fn the_default_key_is_suricatas_and_redacted_unless_reveal() {
    let dir = tempdir();
    let Some(srv) = Server::start(dir.path()) else { return };
    let file = dir.path().join("a.jsonl");
    let url = format!("redis+unix://{}", srv.sock().display());
    let err = ok(&read_with(&["--alerts", file.to_str().unwrap(), "--sink", &url, "--stats"], &demo()));
    let got = srv.lrange("suricata");
    assert_eq!(got.len(), lines_of(&file).len());
    assert!(got.iter().all(|l| l.contains("\"redacted\":true")), "{got:?}");
    assert!(err.contains(" queued, ") && err.contains(" delivered (0 replayed), 0 spooled"), "{err}");
}

#[test]
fn two_sensors_writing_to_one_key_at_once_lose_nothing() {
    let dir = tempdir();
    let Some(srv) = Server::start(dir.path()) else { return };
    let url = srv.url("key=fleet&push=rpush");
    let caps = bundled();
    let (a, b) = (caps.clone(), caps.iter().rev().cloned().collect::<Vec<_>>());
    let spawn = |name: &str, files: &[PathBuf]| {
        let out = dir.path().join(format!("{name}.jsonl"));
        let mut cmd = Command::new(bin());
        cmd.args(["read", "-q", "--no-report", "--threads", "1", "--alerts"]).arg(&out).args(["--sink", &url]);
        cmd.args(files);
        (cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap(), out)
    };
    let (mut pa, fa) = spawn("a", &a);
    let (mut pb, fb) = spawn("b", &b);
    assert!(pa.wait().unwrap().success());
    assert!(pb.wait().unwrap().success());
    let mut want = lines_of(&fa);
    want.extend(lines_of(&fb));
    let mut got = srv.lrange("fleet");
    assert_eq!(got.len(), want.len());
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn stream_mode_entries_carry_the_event_in_suricatas_eve_field() {
    let dir = tempdir();
    let Some(srv) = Server::start(dir.path()) else { return };
    let file = dir.path().join("a.jsonl");
    ok(&read_with(&["--alerts", file.to_str().unwrap(), "--sink", &srv.url("key=events&mode=stream")], &demo()));
    let entries = srv.xrange("events");
    let want = lines_of(&file);
    assert!(!want.is_empty());
    let got: Vec<String> = entries
        .iter()
        .map(|(_, fields)| {
            assert_eq!(fields.len(), 1, "{fields:?}");
            assert_eq!(fields[0].0, "eve");
            fields[0].1.clone()
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn an_engine_away_spools_0600_files_and_the_next_run_delivers_them_first_in_order() {
    let dir = tempdir();
    let spool = dir.path().join("spool");
    let file = dir.path().join("a.jsonl");
    let sock = dir.path().join("redis.sock");
    let url = format!("redis+unix://{}?push=rpush", sock.display());
    // No server yet.
    let started = Instant::now();
    let err = ok(&read_with(
        &[
            "--alerts",
            file.to_str().unwrap(),
            "--sink",
            &url,
            "--spool",
            spool.to_str().unwrap(),
            "--sink-timeout",
            "1",
            "--stats",
        ],
        &demo(),
    ));
    assert!(started.elapsed() < Duration::from_secs(8), "waited {:?}", started.elapsed());
    let first = lines_of(&file);
    let n = first.len();
    assert!(n > 0);
    assert!(err.contains(&format!("{n} events stay spooled in {}", spool.display())), "{err}");
    assert!(err.contains(&format!("{n} spooled")), "{err}");
    let mut files = 0;
    for sub in std::fs::read_dir(&spool).unwrap() {
        let sub = sub.unwrap().path();
        assert_eq!(std::fs::metadata(&sub).unwrap().permissions().mode() & 0o777, 0o700);
        for f in std::fs::read_dir(&sub).unwrap() {
            let m = f.unwrap().metadata().unwrap();
            assert_eq!(m.permissions().mode() & 0o777, 0o600);
            files += 1;
        }
    }
    assert!(files >= 2);

    // The engine is back; the next run replays the spool before its own events.
    let Some(srv) = Server::start(dir.path()) else { return };
    let file2 = dir.path().join("b.jsonl");
    let err = ok(&read_with(
        &["--alerts", file2.to_str().unwrap(), "--sink", &url, "--spool", spool.to_str().unwrap(), "--stats"],
        &demo(),
    ));
    assert!(err.contains(&format!("{n} events spooled by an earlier run")), "{err}");
    // The earlier run's events are replayed, and so are this run's that came while they were (they
    // queue behind them to keep the order).
    let replayed: u64 = err
        .split_once(" replayed)")
        .and_then(|(a, _)| a.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no replayed count: {err}"));
    assert!(replayed >= n as u64, "{err}");
    assert!(err.contains(", 0 left, "), "{err}");
    let mut want = first;
    want.extend(lines_of(&file2));
    assert_eq!(srv.lrange("suricata"), want);
}

#[test]
fn an_engine_back_within_the_sink_timeout_gets_everything_in_order() {
    let dir = tempdir();
    let file = dir.path().join("a.jsonl");
    let sock = dir.path().join("redis.sock");
    let url = format!("redis+unix://{}?push=rpush", sock.display());
    if !have("redis-server") {
        missing("redis-server not installed (scripts/deps.sh --test)");
        return;
    }
    let mut cmd = Command::new(bin());
    cmd.args(["read", "-q", "--no-report", "--alerts"])
        .arg(&file)
        .args(["--sink", &url, "--sink-timeout", "30"])
        .args(bundled());
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let srv = Server::start(dir.path()).unwrap();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = ok(&out);
    // Found again within the longest backoff (2 s), not at the end of the timeout.
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(err.contains("events are held in memory (no --spool) and retried"), "{err}");
    assert!(!err.contains("stay spooled") && !err.contains("lost"), "{err}");
    assert_eq!(srv.lrange("suricata"), lines_of(&file));
}

#[test]
fn a_password_over_plain_tcp_is_refused_at_start_up_with_the_reason() {
    let o = read_with(&["--sink", "redis://alice:Hunter2@127.0.0.1:6399/suricata"], &demo());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("refusing to send a password over plain TCP") && err.contains("redis_auth"), "{err}");
    assert!(!err.contains("Hunter2"), "{err}");
    // From the environment too; nothing was analysed.
    let o = Command::new(bin())
        .args(["read", "--sink", "redis://127.0.0.1:6399/k"])
        .arg(demo())
        .env("PLAINSIGHT_REDIS_PASSWORD", "Hunter2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("use rediss:// (TLS) or redis+unix://"), "{err}");
}

#[test]
fn rediss_with_a_private_ca_and_an_acl_user_delivers() {
    let dir = tempdir();
    if !have("redis-server") || !have("openssl") {
        missing("redis-server or openssl not installed (scripts/deps.sh --test)");
        return;
    }
    let d = dir.path();
    let sh = |c: &str| Command::new("sh").current_dir(d).args(["-c", c]).output().unwrap();
    // A private CA of the test's own, and the server's certificate signed by it (a CA certificate used
    // as the server's own is refused by webpki, rightly).
    let o = sh("set -e; openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=plainsight-test-ca \
                  -keyout ca.key -out ca.pem; \
                openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out srv.csr; \
                printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf; \
                openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out cert.pem");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A TLS port chosen from our pid, retried on the next ones if taken.
    let base = 20_000 + (std::process::id() % 20_000) as u16;
    let mut server = None;
    for port in base..base + 20 {
        let mut c = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--tls-cert-file", "cert.pem", "--tls-key-file", "key.pem", "--tls-ca-cert-file", "ca.pem"])
            .args(["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
            .args(["--user", "sensor", "on", ">S3nsor-pass", "~*", "+@all", "--user", "default", "off"])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        if c.try_wait().unwrap().is_none() {
            server = Some((c, port));
            break;
        }
    }
    let Some((mut child, port)) = server else {
        missing("redis-server built without TLS, or no free port");
        return;
    };
    let ca = d.join("ca.pem");
    let url = format!("rediss://sensor:S3nsor-pass@127.0.0.1:{port}/tls?push=rpush&ca={}", ca.display());
    let file = d.join("a.jsonl");
    let out =
        read_with(&["--alerts", file.to_str().unwrap(), "--sink", &url, "--sink-timeout", "5", "--stats"], &demo());
    let cli = Command::new("redis-cli")
        .args(["--tls", "--cacert"])
        .arg(&ca)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--user",
            "sensor",
            "--pass",
            "S3nsor-pass",
            "--no-auth-warning",
        ])
        .args(["--raw", "LRANGE", "tls", "0", "-1"])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let err = ok(&out);
    assert!(!err.contains("S3nsor-pass"), "{err}");
    let got: Vec<String> = String::from_utf8_lossy(&cli.stdout).lines().map(str::to_string).collect();
    assert_eq!(got, lines_of(&file), "{err}");
}

// ---- live, as root: the engine killed and restarted in the middle of a run ----

#[test]
fn live_with_the_engine_killed_and_restarted_in_the_middle_delivers_every_event() {
    if unprepared(&[]) {
        return;
    }
    let dir = tempdir();
    let Some(mut srv) = Server::start_with(dir.path(), true) else { return };
    let mut pair = two_namespaces("psk", "10.232.0");
    pair.serve(&["python3", "-c", HTTP_SERVER_PY, "10.232.0.2", "8080"], &[]);
    let (s, vs, c) = (pair.srv.clone(), pair.veth.clone(), pair.cli.clone());
    let cli = format!("ip netns exec {c}");
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        sh(&format!("{cli} curl -s -o /dev/null http://10.232.0.2:8080/ready"))
    });
    assert!(up, "the HTTP server did not come up");

    let alerts = dir.path().join("live.jsonl");
    let spool = dir.path().join("spool");
    let url = srv.url("key=live&push=rpush");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &s])
        .arg(bin())
        .args(["live", "-i", &vs, "--no-tui", "-f", "tcp port 8080", "--user", "root", "--stats", "--alerts"])
        .arg(&alerts)
        .args(["--sink", &url, "--spool"])
        .arg(&spool)
        .args(["--duration", "12", "--sink-timeout", "10"]);
    let live = Live::spawn(cmd);
    let round = |from: usize, to: usize| {
        for i in from..to {
            assert!(sh(&format!("{cli} curl -s -o /dev/null -u sensor{i}:Pass-{i} http://10.232.0.2:8080/r{i}")));
        }
        std::thread::sleep(Duration::from_millis(800));
    };
    round(0, 5);
    srv.kill();
    round(5, 10);
    std::thread::sleep(Duration::from_millis(500));
    srv.up();
    round(10, 15);
    let (code, err) = live.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    let want = lines_of(&alerts);
    assert_eq!(want.len(), 15, "{err}");
    // At least once: a batch whose reply the kill cut off may come twice; by event id, every event is
    // there once, in order.
    let got = srv.lrange("live");
    let mut seen = std::collections::HashSet::new();
    let firsts: Vec<String> = got
        .into_iter()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            seen.insert(v["id"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(firsts, want, "{err}");
    assert!(err.contains("events are spooled in") && err.contains("connected again, replaying"), "{err}");
    assert!(!err.contains("stay spooled"), "{err}");
}

/// Not a check: the sink's own rate into a real redis-server, and the spool's size after an outage.
/// `cargo test --release --test sink_redis -- --ignored --nocapture sink_rates`
#[test]
#[ignore]
fn sink_rates() {
    use plainsight::output::sink::target::{EnvAuth, SinkUrl};
    use plainsight::output::sink::{Notify, SinkOptions, Sinks};
    let dir = tempdir();
    let Some(srv) = Server::start(dir.path()) else { return };
    let n = 200_000usize;
    // An alert line of the usual size (~1 KiB).
    let line = |i: usize| format!("{{\"id\":{i},\"kind\":\"basic_auth\",\"pad\":\"{}\"}}", "x".repeat(1000));
    let quiet: Notify = std::sync::Arc::new(|_: &str| {});
    let encoder = || -> plainsight::output::sink::Encoder { Box::new(|_: &plainsight::alert::Alert, _| String::new()) };
    let run = |query: &str, spool: Option<&Path>| {
        let url = SinkUrl::parse(&srv.url(query), &EnvAuth::default()).unwrap();
        let opts = SinkOptions {
            spool: spool.map(Path::to_path_buf),
            spool_max: 1 << 30,
            timeout: Duration::from_secs(60),
            budget: None,
        };
        let mut s = Sinks::start(&[url], &opts, encoder(), quiet.clone()).unwrap();
        let t = Instant::now();
        for i in 0..n {
            s.push_line(line(i));
        }
        let r = s.finish().remove(0);
        (t.elapsed().as_secs_f64(), r)
    };
    let (t, r) = run("key=list", None);
    println!("list: {n} events in {t:.2} s: {:.0} events/s ({} delivered)", n as f64 / t, r.delivered);
    let (t, r) = run("key=stream&mode=stream", None);
    println!("stream: {n} events in {t:.2} s: {:.0} events/s ({} delivered)", n as f64 / t, r.delivered);
    // The engine away: everything to the spool; then back, the next run replays it.
    let d2 = dir.path().join("later");
    std::fs::create_dir(&d2).unwrap();
    let away_url = format!("redis+unix://{}?key=k", d2.join("redis.sock").display());
    let spool = dir.path().join("spool");
    let opts = SinkOptions {
        spool: Some(spool.clone()),
        spool_max: 1 << 30,
        timeout: Duration::from_millis(100),
        budget: None,
    };
    let away = SinkUrl::parse(&away_url, &EnvAuth::default()).unwrap();
    let mut s = Sinks::start(std::slice::from_ref(&away), &opts, encoder(), quiet.clone()).unwrap();
    let t = Instant::now();
    for i in 0..n {
        s.push_line(line(i));
    }
    let r = s.finish().remove(0);
    let t = t.elapsed().as_secs_f64();
    let sub = r.spool.clone().unwrap();
    let bytes: u64 = std::fs::read_dir(&sub).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    println!(
        "outage: {n} events spooled in {t:.2} s ({:.0} events/s), spool {:.1} MB on disk, {} left",
        n as f64 / t,
        bytes as f64 / 1e6,
        r.left
    );
    let later = Server::start(&d2).unwrap();
    let opts = SinkOptions { timeout: Duration::from_secs(60), ..opts };
    let t = Instant::now();
    let s = Sinks::start(&[away], &opts, encoder(), quiet.clone()).unwrap();
    let r = s.finish().remove(0);
    let t = t.elapsed().as_secs_f64();
    let got = later.lrange("k").len();
    println!(
        "replay: {} events in {t:.2} s ({:.0} events/s), {got} in the list, {} left",
        r.replayed,
        r.replayed as f64 / t,
        r.left
    );
}

/// The fleet: two sensors (one writing EVE, one ECS) send into one engine at once, and `watch` reads
/// it back as one set of leaks, each with the sensors that saw it. Both modes: a stream (read with
/// XREAD) and an LPUSH list (read from its tail, without taking anything from it).
#[test]
fn two_sensors_into_one_engine_watched_as_one_fleet_in_stream_and_list_mode() {
    let dir = tempdir();
    let Some(srv) = Server::start(dir.path()) else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    for (mode, key) in [("stream", "fleet-s"), ("list", "fleet-l")] {
        let url = srv.url(&format!("key={key}&mode={mode}"));
        let spawn = |name: &str, fmt: &str, files: &[&str]| {
            let out = dir.path().join(format!("{name}-{mode}.jsonl"));
            let mut cmd = Command::new(bin());
            cmd.args(["read", "-q", "--no-report", "--sensor", name, "--alerts-format", fmt, "--alerts"]);
            cmd.arg(&out).args(["--sink", &url]);
            cmd.args(files.iter().map(|f| root.join(f)));
            (cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap(), out)
        };
        let (mut pa, fa) = spawn("seg-a", "eve", &["demo.pcap"]);
        let (mut pb, fb) = spawn("seg-b", "ecs", &["demo.pcap", "mail.pcap"]);
        assert!(pa.wait().unwrap().success());
        assert!(pb.wait().unwrap().success());
        // The truth: the sensors' own files, as (kind, fingerprint).
        let mut truth = std::collections::BTreeSet::new();
        for f in [&fa, &fb] {
            for l in lines_of(f) {
                let v: serde_json::Value = serde_json::from_str(&l).unwrap();
                let p = &v["plainsight"];
                truth.insert((p["kind"].as_str().unwrap().to_string(), p["fingerprint"].as_str().unwrap().to_string()));
            }
        }
        let o = Command::new(bin()).args(["watch", "--once", "--no-tui", &url]).output().unwrap();
        let err = ok(&o);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            err.contains(&format!("{} leaks from 2 sensors; 0 lines were not events", truth.len())),
            "{mode}: {err}"
        );
        let form: Vec<&str> = out.lines().filter(|l| l.contains(" form_login ")).collect();
        assert!(form.last().unwrap().ends_with("sensors=seg-a,seg-b"), "{mode}: {out}");
        assert!(!out.contains("Tr0ub4dor"), "{mode}: a redacted fleet shows no secret");
    }
}

/// The fleet end to end, as deployed: two segments (each a pair of namespaces joined by a veth), a live
/// sensor on each sending EVE events into one engine, and one `watch` reading them back. A token used
/// on both segments is one leak seen by both sensors, its count the sum of theirs (the live sensors'
/// update events carry their final counts).
#[test]
fn two_live_sensors_in_two_segments_into_one_engine_are_one_fleet_in_watch() {
    if unprepared(&[]) {
        return;
    }
    let dir = tempdir();
    let Some(srv) = Server::start(dir.path()) else { return };
    let url = srv.url("key=fleet&mode=stream");
    let mut pairs = Vec::new();
    let mut sensors = Vec::new();
    for (seg, net) in [("a", 233), ("b", 234)] {
        let mut pair = two_namespaces(&format!("psf{seg}"), &format!("10.{net}.0"));
        pair.serve(&["python3", "-c", HTTP_SERVER_PY, &format!("10.{net}.0.2"), "8080"], &[]);
        let (s, vs, c) = (pair.srv.clone(), pair.veth.clone(), pair.cli.clone());
        pairs.push(pair);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &s])
            .arg(bin())
            .args(["live", "-i", &vs, "--no-tui", "-f", "tcp port 8080", "--user", "root", "--buffer-mib", "8"])
            .args(["--sensor", &format!("seg-{seg}"), "--alerts-format", "eve", "--sink", &url, "--duration", "8"]);
        let live = Live::spawn(cmd);
        sensors.push((live, format!("ip netns exec {c}"), format!("10.{net}.0.2")));
    }
    let token = "tok_7f3a9c2e5b1d4f6a8c0e2b4d6f8a1c3e";
    for (i, (_, cli, server)) in sensors.iter().enumerate() {
        let up = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            sh(&format!("{cli} curl -s -o /dev/null http://{server}:8080/ready"))
        });
        assert!(up, "the HTTP server did not come up");
        for n in 0..3 {
            assert!(sh(&format!(
                "{cli} curl -s -o /dev/null -H 'Authorization: Bearer {token}' http://{server}:8080/api/{n}"
            )));
        }
        assert!(sh(&format!("{cli} curl -s -o /dev/null -u user{i}:Segment-Pass-{i} http://{server}:8080/login")));
    }
    for (live, _, _) in sensors {
        let (code, err) = live.wait(Duration::from_secs(60));
        assert_eq!(code, Some(0), "{err}");
    }
    let o = Command::new(bin()).args(["watch", "--once", "--no-tui", &url]).output().unwrap();
    let err = ok(&o);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(err.contains("3 leaks from 2 sensors; 0 lines were not events"), "{err}\n{out}");
    let last_bearer = out.lines().rfind(|l| l.contains(" bearer_opaque ")).unwrap();
    assert!(last_bearer.ends_with("count=6 sensors=seg-a,seg-b"), "{out}");
    for (i, seg) in ["seg-a", "seg-b"].iter().enumerate() {
        let basic = out.lines().find(|l| l.contains(" basic_auth ") && l.contains(&format!("user=user{i}"))).unwrap();
        assert!(basic.ends_with(&format!("sensors={seg}")), "{out}");
    }
    assert!(!out.contains(token) && !out.contains("Segment-Pass"), "{out}");
    // The live sensors sent their hosts views: one row per segment's server, with its traffic.
    for net in [233, 234] {
        let row = err.lines().find(|l| l.contains(&format!(" http 10.{net}.0.2:8080 "))).unwrap_or_default();
        assert!(row.contains("credentials 4 requests") && row.contains("tls 0 (0%)"), "{err}");
    }
}

/// `watch` started before the engine: it says the engine is away, retries, says when it is connected,
/// and shows what the sensors send from then on.
#[test]
fn watch_waits_for_an_engine_that_is_not_up_yet_and_says_so() {
    let dir = tempdir();
    let Some(mut srv) = Server::start(dir.path()) else { return };
    srv.kill();
    let url = srv.url("key=later&mode=stream");
    let mut watch = Command::new(bin())
        .args(["watch", "--no-tui", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    srv.up();
    ok(&read_with(&["--sensor", "late", "--alerts-format", "eve", "--sink", &url], &demo()));
    std::thread::sleep(Duration::from_millis(2500));
    let _ = watch.kill();
    let o = watch.wait_with_output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(err.contains("retrying every second") && err.contains(": connected"), "{err}");
    assert_eq!(out.lines().filter(|l| !l.starts_with("update ")).count(), 6, "{out}\n{err}");
}
