//! The training lab's script: `--help` and `--clean` (the lab itself needs root and a terminal).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

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
