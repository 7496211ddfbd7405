//! The bundled captures (made by captures/gen with real clients and servers): their alerts are exactly
//! the ground truth, with the severity and evidence the truth pins; pinned byte for byte by golden files;
//! and no output path leaks a secret.
//!
//! The truth files (`captures/*.truth.json`, see captures/README.md) are written by the generators from
//! what they sent and how the servers answered, never from plainsight's output, so a wrong severity or
//! verdict fails here even when the golden files were blessed with it.
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites tests/golden/*.jsonl after a deliberate change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

// A slice, not an array: branches adding captures do not fight over its length.
const CAPTURES: &[&str] = &[
    "demo",
    "kinds",
    "ipv6_altport",
    "tiny_mss",
    "pipelined",
    // The classic cleartext protocols (captures/gen/gen_mail.sh, gen_services.sh).
    "ftp",
    "telnet",
    "mail",
    "tiny_segments",
    "ldap",
    "snmp",
    "redis",
    "mqtt",
    "postgres",
    "socks5",
    "proxy",
    // More protocols (captures/gen/gen_more.sh).
    "amqp",
    "irc",
    "xmpp",
    "nntp",
    "kafka",
    // Cleartext HTTP/2 and gRPC (captures/gen/gen_h2.sh).
    "h2c",
    "grpc",
    // More protocols, part B (captures/gen/gen_more_b.sh).
    "mysql",
    "memcached",
    "ntlm",
    "rlogin",
    // WebSocket messages, permessage-deflate (captures/gen/gen_ws.sh).
    "websocket",
    // HTTP details and the fixes seen missing (captures/gen/gen_http_more.sh).
    "http_more",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run from the repository root with a relative capture path, so the `capture` field is stable.
fn plainsight(args: &[&str]) -> std::process::Output {
    Command::new(common::bin()).current_dir(root()).args(args).output().expect("run plainsight")
}

fn alerts(name: &str, reveal: bool) -> Vec<Value> {
    alerts_with(name, if reveal { &["--reveal"] } else { &[] })
}

fn alerts_with(name: &str, extra: &[&str]) -> Vec<Value> {
    let cap = format!("captures/{name}.pcap");
    // At the end of the run, so that counts (a brute force's attempts) are final.
    let mut args = vec!["read", "-q", "--threads", "1", "--no-report", "--alerts-at-end", "--alerts", "-"];
    args.extend_from_slice(extra);
    args.push(&cap);
    let o = plainsight(&args);
    assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

fn truth(name: &str) -> Value {
    let p = root().join(format!("captures/{name}.truth.json"));
    serde_json::from_str(&std::fs::read_to_string(p).expect("truth file")).expect("truth json")
}

fn matches(t: &Value, a: &Value) -> bool {
    let same = |k: &str| t.get(k).is_none_or(|v| v.is_null() && k == "path" || *v == a[k]);
    same("kind")
        && same("server")
        && same("user")
        && same("method")
        && (t["path"].is_null() || t["path"] == a["path"])
        && t.get("secret").is_none_or(|s| *s == a["secret"])
        && t.get("jwt_sub").is_none_or(|s| *s == a["jwt"]["sub"])
        && t.get("verdict").is_none_or(|v| *v == a["verdict"])
        && t.get("count").is_none_or(|c| *c == a["count"])
}

/// A hash-only login of the truth (PostgreSQL md5 / SCRAM): reported as material, never as a password.
fn matches_hash_only(t: &Value, a: &Value) -> bool {
    a["server"] == t["server"] && a["user"] == t["user"] && a["class"] == "material" && a["location"] == t["mechanism"]
}

/// A capture's truth set against its alerts (`--reveal`): each truth leak (and hash-only login, and with
/// `include_low` each low-confidence finding) with the alert it matched, the truth entries nothing
/// matched, and the alerts no truth entry claimed.
struct Paired {
    pairs: Vec<(Value, Value)>,
    unmatched: Vec<String>,
    extra: Vec<Value>,
}

fn pair_with_truth(name: &str, include_low: bool) -> Paired {
    let t = truth(name);
    let got = alerts_with(name, if include_low { &["--reveal", "--include-low"] } else { &["--reveal"] });
    let mut used = vec![false; got.len()];
    let mut p = Paired { pairs: Vec::new(), unmatched: Vec::new(), extra: Vec::new() };
    let leaks = t["leaks"].as_array().expect("leaks").iter().map(|l| (l, false));
    let hashes = t["hash_only"].as_array().into_iter().flatten().map(|h| (h, true));
    let low = t["low_confidence"].as_array().into_iter().flatten().filter(|_| include_low).map(|l| (l, false));
    for (entry, hash_only) in leaks.chain(hashes).chain(low) {
        let fits = |a: &Value| if hash_only { matches_hash_only(entry, a) } else { matches(entry, a) };
        match got.iter().enumerate().position(|(i, a)| !used[i] && fits(a)) {
            Some(i) => {
                used[i] = true;
                p.pairs.push((entry.clone(), got[i].clone()));
            }
            None if hash_only => p.unmatched.push(format!("hash-only login not reported as material: {entry}")),
            None => p.unmatched.push(format!("expected leak not reported: {entry}")),
        }
    }
    p.extra = got.iter().zip(&used).filter(|(_, u)| !**u).map(|(a, _)| a.clone()).collect();
    p
}

#[test]
fn every_bundled_capture_gives_exactly_its_ground_truth() {
    for name in CAPTURES {
        let p = pair_with_truth(name, false);
        assert!(p.unmatched.is_empty(), "{name}: {}\ngot: {:#?}", p.unmatched.join("\n"), alerts(name, true));
        assert!(p.extra.is_empty(), "{name}: unexpected alerts: {:#?}", p.extra);
    }
}

const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// How `alert` departs from what the truth entry `t` pins: its `severity` (the documented rule applied by
/// the generator to what it sent) and `evidence_has` (phrases the evidence must contain, compared
/// case-insensitively). A truth entry without them is a departure too: every leak pins both.
fn pinned_mismatches(t: &Value, alert: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match t["severity"].as_str() {
        Some(s) if SEVERITIES.contains(&s) => {
            if alert["severity"] != s {
                out.push(format!("severity {} where the truth says {s}", alert["severity"]));
            }
        }
        _ => out.push(format!("truth entry without a valid severity: {}", t["severity"])),
    }
    let evidence = alert["evidence"].as_str().unwrap_or_default().to_lowercase();
    match t["evidence_has"].as_array() {
        Some(phrases) if !phrases.is_empty() => {
            for ph in phrases {
                let ph = ph.as_str().unwrap_or_default();
                if ph.is_empty() || !evidence.contains(&ph.to_lowercase()) {
                    out.push(format!("evidence {} lacks {ph:?}", alert["evidence"]));
                }
            }
        }
        _ => out.push("truth entry without evidence_has phrases".into()),
    }
    out
}

#[test]
fn every_truth_leak_gets_its_documented_severity_and_evidence() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for name in CAPTURES {
        for (t, a) in pair_with_truth(name, false).pairs {
            checked += 1;
            for m in pinned_mismatches(&t, &a) {
                wrong.push(format!("{name}: {m}\n  truth: {t}"));
            }
        }
    }
    assert!(checked > 0);
    assert!(wrong.is_empty(), "{} departures from the truth:\n{}", wrong.len(), wrong.join("\n"));
}

/// `--include-low` adds exactly the truth's low-confidence findings (an attack payload in a password
/// parameter), each rated low with its evidence, and changes nothing else.
#[test]
fn include_low_adds_exactly_the_low_confidence_truth_rated_low() {
    let mut low = 0;
    for name in CAPTURES {
        let p = pair_with_truth(name, true);
        assert!(p.unmatched.is_empty(), "{name}: {}", p.unmatched.join("\n"));
        assert!(p.extra.is_empty(), "{name}: unexpected alerts with --include-low: {:#?}", p.extra);
        for (t, a) in &p.pairs {
            let m = pinned_mismatches(t, a);
            assert!(m.is_empty(), "{name}: {}\n  truth: {t}", m.join("\n"));
            low += usize::from(t["severity"] == "low");
        }
    }
    assert!(low > 0, "no truth file lists a low-confidence finding");
}

/// The check above can fail: a wrong severity, a missing phrase and a truth entry that pins nothing are
/// each reported.
#[test]
fn pinned_severity_and_evidence_catch_a_wrong_alert() {
    let t = serde_json::json!({"severity": "medium", "evidence_has": ["FTP USER/PASS", "refused by the server"]});
    let right =
        serde_json::json!({"severity": "medium", "evidence": "FTP USER/PASS (password), REFUSED by the server"});
    assert!(pinned_mismatches(&t, &right).is_empty(), "{:?}", pinned_mismatches(&t, &right));
    let wrong =
        serde_json::json!({"severity": "critical", "evidence": "FTP USER/PASS (password), accepted by the server"});
    let m = pinned_mismatches(&t, &wrong);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m[0].contains("severity") && m[1].contains("refused by the server"), "{m:?}");
    let bare = serde_json::json!({"kind": "ftp_login"});
    assert_eq!(pinned_mismatches(&bare, &right).len(), 2);
}

#[test]
fn alerts_of_bundled_captures_match_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for name in CAPTURES {
        let got: String = alerts(name, false).iter().map(|a| format!("{a}\n")).collect();
        let path = root().join(format!("tests/golden/{name}.jsonl"));
        if update {
            std::fs::write(&path, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing {}: run with UPDATE_GOLDEN=1", path.display()));
        assert_eq!(got, want, "{name}: alerts differ from {}", path.display());
    }
}

/// Every secret of a capture: the ground truth's, and every secret the tool itself reports with --reveal.
fn secrets(name: &str) -> Vec<String> {
    let mut s: Vec<String> = truth(name)["leaks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["secret"].as_str().map(str::to_string))
        .collect();
    s.extend(alerts(name, true).iter().filter_map(|a| a["secret"].as_str().map(str::to_string)));
    // A fix finding that names no credential (hsts_missing) has an empty secret: nothing to hide.
    s.retain(|x| !x.is_empty());
    s.sort();
    s.dedup();
    s
}

fn assert_no_secret(name: &str, what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "{name}: {what} leaks a secret ({} chars starting {:?})",
            s.len(),
            &s[..s.len().min(3)]
        );
        // Percent-encoded forms too (URLs).
        let enc: String = s
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert!(!text.contains(enc.as_str()), "{name}: {what} leaks a percent-encoded secret");
    }
}

#[test]
fn no_output_path_shows_a_full_secret_without_reveal() {
    let dir = common::tempdir();
    for name in CAPTURES {
        let secrets = secrets(name);
        assert!(!secrets.is_empty());
        let cap = format!("captures/{name}.pcap");
        // Report on stdout, --stats on stderr.
        let o = plainsight(&["read", "-q", "--stats", &cap]);
        assert_no_secret(name, "report", &String::from_utf8_lossy(&o.stdout), &secrets);
        assert_no_secret(name, "stats", &String::from_utf8_lossy(&o.stderr), &secrets);
        // Alert file.
        let file = dir.path().join(format!("{name}.jsonl"));
        let o = plainsight(&["read", "-q", "--alerts", file.to_str().expect("utf8"), &cap]);
        assert!(o.status.success());
        assert_no_secret(name, "alert file", &std::fs::read_to_string(&file).expect("alerts"), &secrets);
        // Alerts on stdout, report on stderr.
        let o = plainsight(&["read", "-q", "--alerts", "-", &cap]);
        assert_no_secret(name, "alert stream", &String::from_utf8_lossy(&o.stdout), &secrets);
        assert_no_secret(name, "report on stderr", &String::from_utf8_lossy(&o.stderr), &secrets);
    }
}

#[test]
fn reveal_shows_the_secrets_for_training_labs() {
    let o = plainsight(&["read", "-q", "--reveal", "captures/demo.pcap"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Tr0ub4dor&3"), "{out}");
    assert!(Path::new(&root().join("captures/demo.pcap")).is_file());
}

#[test]
fn sharded_analysis_finds_exactly_the_same_leaks_as_one_thread() {
    for name in CAPTURES {
        let cap = format!("captures/{name}.pcap");
        let key = |threads: &str| {
            let o = plainsight(&[
                "read",
                "-q",
                "--no-report",
                "--threads",
                threads,
                "--alerts-at-end",
                "--alerts",
                "-",
                &cap,
            ]);
            assert!(o.status.success());
            let mut v: Vec<(String, String, String, u64)> = String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).expect("json"))
                .map(|a| {
                    (
                        a["kind"].to_string(),
                        a["server"].to_string(),
                        a["fingerprint"].to_string(),
                        a["count"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(key("1"), key("3"), "{name}");
    }
}
