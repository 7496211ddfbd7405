//! The training lab's script: `--help` and `--clean` (the lab itself needs root and a terminal).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

/// The lab's namespaces and temporary directories are global: one lab test at a time (`--clean` would
/// tear down a running lab).
static LAB: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lab() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lab/run.sh")
}

#[test]
fn lab_help_prints_its_usage_and_starts_nothing() {
    let o = Command::new("bash").arg(lab()).arg("--help").output().expect("bash");
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for opt in ["--https", "--clean", "--help"] {
        assert!(out.contains(opt), "{out}");
    }
    assert!(!out.contains("set -euo"), "{out}");
}

#[test]
fn lab_clean_says_what_it_removed_key_material_of_a_killed_run_included() {
    if !nix::unistd::Uid::effective().is_root() {
        common::missing("lab --clean needs root (network namespaces)");
        return;
    }
    let _one = LAB.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // What a killed run leaves: its temporary directory with the TLS key.
    let left = PathBuf::from(format!("/tmp/plainsight-lab.test{}", std::process::id()));
    std::fs::create_dir_all(&left).unwrap();
    std::fs::write(left.join("key.pem"), "-----BEGIN PRIVATE KEY-----\n").unwrap();
    let o = Command::new("bash").arg(lab()).arg("--clean").output().expect("bash");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("removed temporary files and key material") && out.contains(left.to_str().unwrap()), "{out}");
    assert!(!left.exists());
    let again = Command::new("bash").arg(lab()).arg("--clean").output().expect("bash");
    assert!(String::from_utf8_lossy(&again.stdout).contains("lab: nothing to remove"));
}

/// The lab as a script runs it: `--no-tui --duration N`, with this build's binary.
fn run_lab(args: &[&str]) -> String {
    let o = Command::new("bash").arg(lab()).args(args).env("PLAINSIGHT_BIN", common::bin()).output().expect("bash");
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}");
    out
}

#[test]
fn the_lab_steals_a_token_over_http_and_its_attacker_replays_it_accepted_over_https_or_fixed_there_is_nothing() {
    if !nix::unistd::Uid::effective().is_root() || Command::new("ip").arg("-V").output().is_err() {
        common::missing("the lab needs root and iproute2 (network namespaces)");
        return;
    }
    let _one = LAB.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let http = run_lab(&["--no-tui", "--duration", "10"]);
    let replays: Vec<&str> = http.lines().filter(|l| l.starts_with("replay ")).collect();
    assert!(
        replays
            .iter()
            .any(|l| (l.contains("bearer_jwt") || l.contains("login_response_token")) && l.contains("-> HTTP 200")),
        "a stolen token replayed and accepted:\n{http}"
    );
    assert!(replays.iter().any(|l| l.contains("\"user\"")), "the victim's data came back:\n{http}");
    assert!(http.contains("form_login"), "the first login is seen:\n{http}");
    let https = run_lab(&["--no-tui", "--duration", "8", "--https"]);
    assert!(!https.lines().any(|l| l.starts_with("replay ") && l.contains("-> HTTP")), "{https}");
    assert!(https.contains("nothing to replay: every credential crossed inside TLS"), "{https}");
    // The fixed shop: plain HTTP only redirects, HSTS, Secure cookies; the victim (honouring HSTS after
    // its first plain request, which carries nothing) leaks nothing.
    let fixed = run_lab(&["--no-tui", "--duration", "8", "--fixed"]);
    assert!(fixed.contains(" 0 leaks "), "{fixed}");
    assert!(!fixed.contains("form_login") && !fixed.lines().any(|l| l.starts_with("replay ") && l.contains("-> HTTP")));
}
