//! What a deployment uses beside the binary: shell completions, manual pages, the systemd unit, the
//! package's maintainer script, the Dockerfile. Generated from the parser itself or checked by the
//! tools that read them (`systemd-analyze verify`, `sh -n`) where those are installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn completions_for_every_shell_know_the_read_and_live_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {o:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.len() > 1000, "{shell}: {text}");
        assert!(text.contains("read") && text.contains("live"), "{shell}: {text}");
        // Options of the subcommands too (a completion of the top level alone would not have them).
        assert!(text.contains("fanout") && text.contains("alerts"), "{shell}");
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error: {o:?}");
}

#[test]
fn manpage_on_stdout_is_roff_naming_the_commands_and_dir_writes_one_page_per_command() {
    let o = run(&["manpage"]);
    assert!(o.status.success(), "{o:?}");
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH plainsight 1"), "{page}");
    assert!(page.contains(".TH plainsight 1"), "{page}");
    assert!(page.contains("plainsight\\-read") && page.contains("plainsight\\-live"), "{page}");

    let dir = tempdir();
    let o = run(&["manpage", "--dir", dir.path().to_str().expect("utf8")]);
    assert!(o.status.success(), "{o:?}");
    for name in ["plainsight.1", "plainsight-read.1", "plainsight-live.1", "plainsight-interfaces.1"] {
        let page = std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(page.contains(".TH"), "{name}: {page}");
    }
    let live = std::fs::read_to_string(dir.path().join("plainsight-live.1")).unwrap();
    assert!(live.contains("\\-\\-fanout") && live.contains("\\-\\-interface"), "{live}");
}

#[test]
fn the_systemd_unit_is_hardened_and_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(root().join("packaging/systemd/plainsight.service")).unwrap();
    for line in [
        "User=plainsight",
        "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN",
        "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "UMask=0077",
        "StateDirectory=plainsight",
        "EnvironmentFile=-/etc/default/plainsight",
    ] {
        assert!(unit.lines().any(|l| l == line), "missing {line:?}");
    }
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).expect("ExecStart");
    for part in ["live --no-tui", "--alerts /var/lib/plainsight/", "$PLAINSIGHT_ARGS", "${PLAINSIGHT_INTERFACE}"] {
        assert!(exec.contains(part), "{exec}");
    }

    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        missing("systemd-analyze not installed (systemd)");
        return;
    }
    // Verified with this build's binary in place of /usr/bin/plainsight (verify checks that it exists).
    let dir = tempdir();
    let path = dir.path().join("plainsight.service");
    std::fs::write(&path, unit.replace("/usr/bin/plainsight", bin().to_str().expect("utf8"))).unwrap();
    let o = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path).output().expect("systemd-analyze");
    let err = String::from_utf8_lossy(&o.stderr);
    // Only what concerns this unit: a machine without systemd as init may complain about its own units.
    let ours: Vec<&str> = err.lines().filter(|l| l.contains("plainsight")).collect();
    assert!(o.status.success() && ours.is_empty(), "systemd-analyze verify: {o:?}\n{err}");
}

#[test]
fn the_postinst_is_valid_sh_and_sets_the_capture_capabilities() {
    let script = root().join("packaging/debian/postinst");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("setcap cap_net_raw,cap_net_admin=eip /usr/bin/plainsight"), "{text}");
    assert!(text.contains("command -v setcap"), "a missing setcap must not fail the installation");
    let o = Command::new("sh").arg("-n").arg(&script).output().expect("sh");
    assert!(o.status.success(), "{o:?}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&script).unwrap().permissions().mode() & 0o111, 0o111, "postinst not executable");
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_as_a_user_in_a_slim_one() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms[0].contains("rust") && froms[1].contains("slim"), "{froms:?}");
    assert!(text.contains("libpcap0.8"), "the runtime needs libpcap");
    let user = text.lines().rfind(|l| l.starts_with("USER ")).expect("USER");
    assert!(!user.contains("root") && !user.ends_with(" 0"), "{user}");
    assert!(text.contains(r#"ENTRYPOINT ["plainsight"]"#), "{text}");
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim_matches('/') == "target"), "the build context must leave target/ out");
}
