//! `plainsight watch`: the events of several sensors merged into one view, as a SOC runs it: two
//! sensors write their events (EVE from one, ECS from the other, as two teams might), one watcher reads
//! both. The truth is the sensors' own alert files: the watcher's leaks are their union by secret.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One sensor's run: `read` of `captures` with `--sensor NAME --alerts-format FMT`.
fn sensor(dir: &Path, name: &str, fmt: &str, captures: &[&str], reveal: bool) -> std::path::PathBuf {
    let out = dir.join(format!("{name}.jsonl"));
    let mut args: Vec<String> = vec!["read".into(), "--no-report".into(), "-q".into()];
    args.extend(["--sensor".into(), name.into(), "--alerts-format".into(), fmt.into()]);
    args.extend(["--alerts".into(), out.display().to_string()]);
    if reveal {
        args.push("--reveal".into());
    }
    args.extend(captures.iter().map(|c| root().join("captures").join(c).display().to_string()));
    let o = Command::new(common::bin()).args(&args).output().unwrap();
    assert!(o.status.success() || o.status.code() == Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// (kind, fingerprint) of every event of a sensor's file (under `plainsight` for eve and ecs).
fn leaks_of(path: &Path) -> BTreeSet<(String, String)> {
    common::read_jsonl(path)
        .iter()
        .map(|e| {
            let r = e.get("plainsight").unwrap_or(e);
            (r["kind"].as_str().unwrap().to_string(), r["fingerprint"].as_str().unwrap().to_string())
        })
        .collect()
}

fn watch(args: &[&str]) -> (String, String) {
    let o = Command::new(common::bin()).arg("watch").args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn two_sensors_one_watcher_one_leak_per_secret_with_both_sensors_and_no_secret_shown() {
    let dir = common::tempdir();
    // Segment A sees the shop; segment B sees the shop too (the same victim crossing both) and the mail.
    let a = sensor(dir.path(), "seg-a", "eve", &["demo.pcap"], false);
    let b = sensor(dir.path(), "seg-b", "ecs", &["demo.pcap", "mail.pcap"], false);
    let (out, err) = watch(&["--once", "--no-tui", a.to_str().unwrap(), b.to_str().unwrap()]);
    // The union by secret: the shop's leaks once each, the mail's once.
    let truth: BTreeSet<_> = leaks_of(&a).union(&leaks_of(&b)).cloned().collect();
    let new: Vec<&str> = out.lines().filter(|l| !l.starts_with("update ")).collect();
    assert_eq!(new.len(), truth.len(), "{out}");
    assert!(err.contains(&format!("{} leaks from 2 sensors", truth.len())), "{err}");
    // Every shop leak ends seen by both sensors, with the counts of both.
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for l in out.lines() {
        let fp = l.split(" fp=").nth(1).unwrap().split(' ').next().unwrap().to_string();
        let kind = l.trim_start_matches("update ").split(' ').nth(2).unwrap().to_string();
        last.insert(format!("{kind} {fp}"), l.to_string());
    }
    for (kind, fp) in leaks_of(&a) {
        let l = &last[&format!("{kind} {fp}")];
        assert!(l.ends_with("sensors=seg-a,seg-b"), "{l}");
    }
    let form = last.iter().find(|(k, _)| k.starts_with("form_login")).unwrap().1;
    assert!(form.contains("count=2"), "one login seen on two segments counts twice: {form}");
    // Redacted sensors, redacted watcher: no secret of any truth file.
    for secret in ["Tr0ub4dor&3", "sess-2bd806c97f0e00af1a1fc332"] {
        assert!(!out.contains(secret), "{secret} shown");
    }
}

#[test]
fn a_revealing_sensor_watched_without_reveal_shows_no_secret_and_with_reveal_shows_it() {
    let dir = common::tempdir();
    let lab = sensor(dir.path(), "lab", "eve", &["demo.pcap"], true);
    let text = std::fs::read_to_string(&lab).unwrap();
    assert!(text.contains("Tr0ub4dor&3"), "the lab sensor revealed its secrets");
    let (out, _) = watch(&["--once", "--no-tui", lab.to_str().unwrap()]);
    assert!(!out.contains("Tr0ub4dor&3") && !out.contains("sess-2bd806"), "{out}");
    assert!(out.contains("secret=…[11 chars, fp 48486e1514e8]"), "{out}");
    let (shown, _) = watch(&["--once", "--no-tui", "--reveal", lab.to_str().unwrap()]);
    assert!(shown.contains("Tr0ub4dor&3"), "{shown}");
}

#[test]
fn lines_that_are_not_events_are_counted_never_fatal() {
    let dir = common::tempdir();
    let a = sensor(dir.path(), "s", "ecs", &["demo.pcap"], false);
    let mut text = std::fs::read_to_string(&a).unwrap();
    // A hostile writer: junk, a forged event, a control sequence, a huge line.
    text.push_str("junk\n{\"kind\":\"bearer_jwt\"}\n\u{1b}]0;pwned\u{7}\n");
    text.push_str(&"x".repeat(3 << 20));
    text.push('\n');
    std::fs::write(&a, text).unwrap();
    let (out, err) = watch(&["--once", "--no-tui", a.to_str().unwrap()]);
    assert!(err.contains("6 leaks from 1 sensors; 4 lines were not events"), "{err}");
    assert!(!out.contains('\u{1b}'), "{out:?}");
}

#[test]
fn events_near_a_mebibyte_each_stop_at_watchs_memcap_and_the_leaks_not_kept_are_said() {
    let dir = common::tempdir();
    let a = sensor(dir.path(), "s", "ecs", &["demo.pcap"], false);
    let text = std::fs::read_to_string(&a).unwrap();
    // A hostile writer pads every event's evidence to 900 KiB (under the 1 MiB line bound) and writes
    // each under six kinds: dozens of distinct leaks of nearly a mebibyte each.
    let kinds = ["bearer_opaque", "cookie_token", "url_token", "form_login", "json_login", "api_key_header"];
    let mut big = String::new();
    for kind in kinds {
        for line in text.lines() {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let p = v.get_mut("plainsight").unwrap();
            p["evidence"] = serde_json::Value::from("e".repeat(900 << 10));
            p["kind"] = serde_json::Value::from(kind);
            big.push_str(&v.to_string());
            big.push('\n');
        }
    }
    std::fs::write(&a, big).unwrap();
    let first = |err: &str| -> u64 {
        err.split("plainsight watch: ").nth(1).and_then(|l| l.split(' ').next()).and_then(|n| n.parse().ok()).unwrap()
    };
    let (_, all) = watch(&["--once", "--no-tui", a.to_str().unwrap()]);
    assert!(!all.contains("not kept"), "{all}");
    let total = first(&all);
    assert!(total >= 24, "{all}");
    // 8M: 4 MiB for the merged leaks, about four of these.
    let (_, err) = watch(&["--once", "--no-tui", "--memcap", "8M", a.to_str().unwrap()]);
    let kept = first(&err);
    assert!((3..=5).contains(&kept), "{err}");
    let not_kept: u64 = err
        .split(" events of leaks not kept (past 100000 leaks or --memcap)")
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(not_kept >= total - kept, "{err}");
}

#[test]
fn watch_follows_a_growing_file_as_a_sensor_writes_it() {
    let dir = common::tempdir();
    let a = sensor(dir.path(), "s", "eve", &["demo.pcap"], false);
    let grow = dir.path().join("grow.jsonl");
    std::fs::write(&grow, "").unwrap();
    let mut child = Command::new(common::bin())
        .args(["watch", "--no-tui", grow.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let lines = std::fs::read_to_string(&a).unwrap();
    let (first, second) = lines.split_at(lines.len() / 2);
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(&grow).unwrap();
    // Half of the events, a line cut in the middle, then the rest.
    f.write_all(first.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    f.write_all(second.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.lines().filter(|l| !l.starts_with("update ")).count(), 6, "{out}");
}
