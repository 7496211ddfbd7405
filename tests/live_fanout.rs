//! `live --fanout`: several capture handles in one kernel fanout group, one analysis worker each, their
//! alerts merged. End to end on a veth pair between two network namespaces this test creates (prefix
//! `fo`), with real servers (a Python HTTP server, pyftpdlib, redis-server) and real clients (curl,
//! ftplib, redis-cli), many connections of each.
//!
//! What it proves: every leak is found and none twice (each secret one alert, a token answered on every
//! connection one alert counting them all, though its sightings were spread over the workers); both
//! directions of every flow reached the same worker (every FTP and Redis login has the verdict only the
//! server's answer gives, every form login its token); and both workers had traffic (`--stats`).
//!
//! Needs root, `ip`, `ss`, `curl`, `python3` with pyftpdlib, `redis-server` and `redis-cli`
//! (`scripts/deps.sh --test`); without them [`common::missing`] says why (and fails under CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use common::netns::{self, FTP_SERVER_PY, HTTP_SERVER_PY, Live, Pair, two_namespaces};
use common::*;

/// One ftplib connection per password given; prints `ok` or `refused` for each.
const FTP_CLIENT_PY: &str = r#"
import ftplib, sys
host, user = sys.argv[1:3]
for pw in sys.argv[3:]:
    f = ftplib.FTP(host, timeout=5)
    try:
        f.login(user, pw); f.quit(); print("ok")
    except ftplib.error_perm:
        f.close(); print("refused")
"#;

const NET: &str = "10.236.0";
const FTP_USER: &str = "carol";
const FTP_PASS: &str = "Ftp-Carol-fanout1";
const REDIS_PASS: &str = "Redis-fanout-pass-1";

/// Everything this test drives, and the python3 that has pyftpdlib.
fn unprepared() -> Option<&'static str> {
    if netns::unprepared(&["ss", "redis-server", "redis-cli"]) {
        return None;
    }
    netns::python_with_pyftpdlib()
}

/// `plainsight live --fanout N` in the server namespace, started once the capture is open.
fn start_live(pair: &Pair, n: u16, filter: &str, alerts: &std::path::Path) -> Live {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &pair.srv])
        .arg(bin())
        .args(["live", "-i", &pair.veth, "--no-tui", "--reveal", "--stats", "-f", filter])
        .args(["--fanout", &n.to_string(), "--duration", "60", "--buffer-mib", "8", "--alerts"])
        .arg(alerts);
    Live::spawn(cmd)
}

#[test]
fn live_fanout_2_finds_every_leak_of_a_mixed_run_once_with_both_directions_of_each_flow_on_one_worker() {
    let Some(py) = unprepared() else { return };
    let mut pair = two_namespaces("fo", NET);
    let token = plainsight_synth::jwt(r#"{"sub":"fanout","exp":4102444800}"#);
    pair.serve(&["python3", "-c", HTTP_SERVER_PY, &format!("{NET}.2"), "8080", &token], &[]);
    let home = tempdir();
    let home_s = home.path().to_str().expect("utf8 path");
    pair.serve(&[py, "-c", FTP_SERVER_PY, &format!("{NET}.2"), "21", FTP_USER, FTP_PASS, home_s], &[]);
    let state = tempdir();
    let state_s = state.path().to_str().expect("utf8 path");
    let bind = format!("{NET}.2");
    pair.serve(
        &[
            "redis-server",
            "--port",
            "6379",
            "--bind",
            &bind,
            "--requirepass",
            REDIS_PASS,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            state_s,
        ],
        &[],
    );
    for port in [8080, 21, 6379] {
        pair.wait_listening('t', port);
    }

    let dir = tempdir();
    let alerts = dir.path().join("fanout.jsonl");
    let live = start_live(&pair, 2, "tcp port 8080 or tcp port 21 or tcp port 6379", &alerts);

    // Many connections of each protocol, so that both workers get some: 16 form logins (each its own
    // password, all answered with the same token), 8 Basic logins, 4 FTP connections (2 refused), 6 Redis
    // AUTHs (3 refused).
    const FORMS: usize = 16;
    let mut script = String::new();
    for i in 0..FORMS {
        script.push_str(&format!(
            "curl -s -o /dev/null -d 'username=user{i}&password=Form-pass-{i:02}-fanout' http://{NET}.2:8080/login || exit 1\n"
        ));
    }
    for i in 0..8 {
        script.push_str(&format!(
            "curl -s -o /dev/null -u admin{i}:Basic-pass-{i:02}-fanout http://{NET}.2:8080/admin || exit 1\n"
        ));
    }
    let o = pair.client(&script);
    assert!(o.status.success(), "curl: {o:?}");
    let ftp_tries = ["wrong-Carol-1", FTP_PASS, "wrong-Carol-2", FTP_PASS];
    let o = pair.client(&format!(
        "python3 -c '{}' {NET}.2 {FTP_USER} {}",
        FTP_CLIENT_PY.replace('\'', r"'\''"),
        ftp_tries.join(" ")
    ));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).split_whitespace().collect::<Vec<_>>(),
        ["refused", "ok", "refused", "ok"],
        "{o:?}"
    );
    let redis_tries = ["wrong-redis-1", REDIS_PASS, "wrong-redis-2", "wrong-redis-3", REDIS_PASS, REDIS_PASS];
    for pass in redis_tries {
        pair.client(&format!("redis-cli --no-auth-warning -h {NET}.2 -p 6379 -a '{pass}' PING"));
    }
    // Let the last answers reach the workers before the stop.
    std::thread::sleep(Duration::from_millis(500));
    let (code, err) = live.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("2 workers in fanout group"), "{err}");

    let got = read_jsonl(&alerts);
    let by_secret = |kind: &str| -> HashMap<String, Vec<&serde_json::Value>> {
        let mut m: HashMap<String, Vec<&serde_json::Value>> = HashMap::new();
        for a in got.iter().filter(|a| a["kind"] == kind) {
            m.entry(a["secret"].as_str().unwrap_or("?").to_string()).or_default().push(a);
        }
        m
    };

    // HTTP: every form and Basic password once, each with the answer's verdict.
    let forms = by_secret("form_login");
    for i in 0..FORMS {
        let s = format!("Form-pass-{i:02}-fanout");
        let a = forms.get(&s).unwrap_or_else(|| panic!("form login {s} not found: {got:#?}"));
        assert_eq!(a.len(), 1, "{s} reported twice: {a:#?}");
        assert_eq!(a[0]["count"], 1, "{}", a[0]);
        assert_eq!(a[0]["user"], format!("user{i}"), "{}", a[0]);
    }
    assert_eq!(forms.len(), FORMS, "{forms:#?}");
    let basic = by_secret("basic_auth");
    for i in 0..8 {
        let s = format!("admin{i}:Basic-pass-{i:02}-fanout");
        let found = basic.iter().filter(|(k, _)| k.contains(&format!("Basic-pass-{i:02}-fanout"))).count();
        assert_eq!(found, 1, "{s}: {basic:#?}");
    }
    assert_eq!(basic.len(), 8, "{basic:#?}");
    // The token in every login's answer: one leak, every sighting counted, whichever worker saw it. The
    // answer reaches the worker of its request only if both directions of the flow went to it.
    let tokens = by_secret("login_response_token");
    assert_eq!(tokens.len(), 1, "{tokens:#?}");
    let t = &tokens[&token];
    assert_eq!(t.len(), 1, "the token reported twice: {t:#?}");

    // FTP and Redis: the refused attempts of a server are one leak (a brute force is one alert, as
    // without --fanout), the accepted password another; each with the verdict of the server's answer. A
    // login whose two directions were split between workers would have no verdict (`unknown`): a
    // third alert.
    for (kind, wrong, right) in [
        ("ftp_login", &["wrong-Carol-1", "wrong-Carol-2"][..], FTP_PASS),
        ("redis_auth", &["wrong-redis-1", "wrong-redis-2", "wrong-redis-3"][..], REDIS_PASS),
    ] {
        let of: Vec<_> = got.iter().filter(|a| a["kind"] == kind).collect();
        assert_eq!(of.len(), 2, "{of:#?}");
        let refused: Vec<_> = of.iter().filter(|a| a["verdict"] == "refused").collect();
        assert_eq!(refused.len(), 1, "{of:#?}");
        assert!(wrong.iter().any(|w| refused[0]["secret"] == *w), "{of:#?}");
        let accepted: Vec<_> = of.iter().filter(|a| a["verdict"] == "accepted").collect();
        assert_eq!(accepted.len(), 1, "{of:#?}");
        assert_eq!(accepted[0]["secret"], right, "{of:#?}");
    }
    // Every attempt counted once in the merged book: 16 forms, 8 Basic, the token 16 times, FTP 2
    // refused and 2 accepted, Redis 3 and 3; as 16 + 8 + 1 + 2 + 2 leaks.
    assert!(err.contains("29 leaks (50 sightings)"), "{err}");
    // No alert line twice (an id is one leak).
    let mut ids: Vec<_> = got.iter().map(|a| a["id"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "{got:#?}");

    // Both workers had traffic, and the summary adds them up.
    let workers: Vec<u64> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("worker ")?.split_once(": ")?.1.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(workers.len(), 2, "{err}");
    assert!(workers.iter().all(|&n| n > 0), "a worker got nothing: {err}");
    let total: u64 = workers.iter().sum();
    assert!(err.contains(&format!("plainsight: {total} packets captured")), "{err}");
}

#[test]
fn fanout_is_refused_with_the_ring_and_out_of_range() {
    let o = run(&["live", "-i", "lo", "--no-tui", "--fanout", "2", "--reveal", "--ring", "/tmp,1M,2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--ring cannot be used with --fanout"), "{o:?}");
    for n in ["0", "65"] {
        let o = run(&["live", "-i", "lo", "--no-tui", "--fanout", n]);
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--fanout"), "{o:?}");
    }
}
