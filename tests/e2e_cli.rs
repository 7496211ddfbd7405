//! The command-line contract: exit codes, error messages, the alert file's mode and redaction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

const TOKEN: &str = "opaque-token-0123456789abcdef";

fn leaky_capture(dir: &std::path::Path) -> std::path::PathBuf {
    let mut c = conv("10.0.0.1:41000", "10.0.0.2:80");
    c.handshake();
    for i in 0..5 {
        c.client(format!("GET /r{i} HTTP/1.1\r\nHost: api.lab\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").as_bytes());
        c.server(b"HTTP/1.1 204 No Content\r\n\r\n");
    }
    c.close();
    let p = dir.join("leaky.pcap");
    write_pcap(&p, &c.frames);
    p
}

fn clean_capture(dir: &std::path::Path) -> std::path::PathBuf {
    let mut c = conv("10.0.0.1:41001", "10.0.0.2:80");
    c.handshake().client(b"GET / HTTP/1.1\r\nHost: api.lab\r\n\r\n").server(b"HTTP/1.1 204 No Content\r\n\r\n").close();
    let p = dir.join("clean.pcap");
    write_pcap(&p, &c.frames);
    p
}

#[test]
fn alert_file_is_created_with_mode_0600() {
    let d = tempdir();
    let cap = leaky_capture(d.path());
    let out = d.path().join("alerts.jsonl");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(&["read", "-q", "--alerts", out.to_str().unwrap(), cap.to_str().unwrap()]);
    assert!(o.status.success());
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let fresh = d.path().join("fresh.jsonl");
    run(&["read", "-q", "--alerts", fresh.to_str().unwrap(), cap.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn secrets_are_redacted_everywhere_by_default_and_revealed_on_request() {
    let d = tempdir();
    let cap = leaky_capture(d.path());
    let out = d.path().join("a.jsonl");
    let o = run(&["read", "-q", "--stats", "--alerts", out.to_str().unwrap(), cap.to_str().unwrap()]);
    assert!(o.status.success());
    let everything = format!(
        "{}{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(&out).unwrap()
    );
    assert!(everything.contains("bearer_opaque"), "{everything}");
    assert!(!everything.contains(TOKEN), "secret leaked: {everything}");
    let o = run(&["read", "-q", "--reveal", "--alerts", "-", "--no-report", cap.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(TOKEN));
}

#[test]
fn alerts_to_stdout_hold_only_json_lines() {
    let d = tempdir();
    let cap = leaky_capture(d.path());
    let o = run(&["read", "-q", "--alerts", "-", cap.to_str().unwrap()]);
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!stdout.is_empty());
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        assert_eq!(v["kind"], "bearer_opaque");
    }
    // The report moved to stderr.
    assert!(String::from_utf8_lossy(&o.stderr).contains("crossed the network"));
}

#[test]
fn fail_on_leak_exits_1_only_when_something_leaked() {
    let d = tempdir();
    let leaky = leaky_capture(d.path());
    let clean = clean_capture(d.path());
    let o = run(&["read", "-q", "--fail-on-leak", leaky.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["read", "-q", "--fail-on-leak", clean.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
}

/// Crackable material alone (a PostgreSQL md5 login) is no cleartext leak for CI gating: `--fail-on-leak`
/// passes it, `--fail-on-material` fails on it; the report and `--stats` count it apart.
#[test]
fn material_alone_fails_only_with_fail_on_material() {
    let md5_only = ["-f", "tcp port 48114", "captures/postgres.pcap"];
    let run_with = |flags: &[&str]| {
        let mut args = vec!["read", "-q", "--threads", "1", "--stats"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&md5_only);
        std::process::Command::new(bin()).current_dir(env!("CARGO_MANIFEST_DIR")).args(&args).output().unwrap()
    };
    let o = run_with(&["--fail-on-leak"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("no credential crossed the network in clear text"), "{report}");
    assert!(report.contains("1 hash-only exchange gave crackable material"), "{report}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("leaks:                1 (1 sightings): 0 cleartext, 1 material")
    );
    assert_eq!(run_with(&["--fail-on-material"]).status.code(), Some(1));
    // The whole capture has cleartext logins too: --fail-on-leak fails on those.
    let o = run(&["read", "-q", "--fail-on-leak", concat!(env!("CARGO_MANIFEST_DIR"), "/captures/postgres.pcap")]);
    assert_eq!(o.status.code(), Some(1));
}

/// `--export-hashes` writes hashcat lines (mode 0600) only with `--reveal`; without it the run is refused
/// before anything is read, and no file is created.
#[test]
fn export_hashes_writes_hashcat_lines_only_with_reveal() {
    let d = tempdir();
    let out = d.path().join("hashes.txt");
    let cap = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/postgres.pcap");
    let o = run(&["read", "-q", "--no-report", "--export-hashes", out.to_str().unwrap(), cap]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--export-hashes") && err.contains("--reveal"), "{err}");
    assert!(!out.exists());
    let o = run(&["read", "-q", "--no-report", "--reveal", "--export-hashes", out.to_str().unwrap(), cap]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // The md5 login of app_md5 (salt and hash as sniffed); SCRAM has no hashcat mode: left out.
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text, "$postgres$app_md5*15c11110*d1880f058a98de66c8a76ff22fa5ef1f\n");
    // Independent truth: the generator's password for app_md5 (captures/gen/gen_services.sh) gives it.
    use md5::{Digest, Md5};
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let inner = hex(&Md5::digest(b"Pg-md5-pass-2app_md5"));
    assert_eq!(
        hex(&Md5::digest([inner.as_bytes(), &[0x15, 0xc1, 0x11, 0x10]].concat())),
        "d1880f058a98de66c8a76ff22fa5ef1f"
    );
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 line: 1 for hashcat -m 11100; 1 left out"), "{err}");
}

#[test]
fn missing_file_is_exit_2_with_a_one_line_error_naming_it() {
    let o = run(&["read", "-q", "/nonexistent/cap.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/cap.pcap"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn not_a_capture_is_exit_2() {
    let d = tempdir();
    let p = d.path().join("notes.txt");
    std::fs::write(&p, "this is not a capture file at all, just text").unwrap();
    let o = run(&["read", "-q", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("notes.txt"));
}

#[test]
fn truncated_capture_keeps_alerts_found_before_the_damage_and_exits_2() {
    let d = tempdir();
    let cap = leaky_capture(d.path());
    let bytes = std::fs::read(&cap).unwrap();
    let cut = d.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let out = d.path().join("a.jsonl");
    let o = run(&["read", "-q", "--alerts", out.to_str().unwrap(), cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cut.pcap") && err.contains("truncated at byte"), "{err}");
    assert_eq!(read_jsonl(&out).len(), 1, "alert found before the damage must be kept");
    assert!(String::from_utf8_lossy(&o.stdout).contains("bearer_opaque"));
}

#[test]
fn invalid_filter_is_a_usage_error() {
    let d = tempdir();
    let cap = clean_capture(d.path());
    let o = run(&["read", "-q", "-f", "tcp port banana", cap.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("filter"));
}

#[test]
fn usage_error_is_exit_2() {
    let o = run(&["read"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_shows_examples() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("Examples:") && s.contains("plainsight read"));
}

#[test]
fn interfaces_lists_loopback_with_its_state() {
    let o = run(&["interfaces"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    let lo = s.lines().find(|l| l.starts_with("lo ")).unwrap_or_else(|| panic!("no lo in:\n{s}"));
    assert!(lo.contains("up") && lo.contains("loopback") && lo.contains("127.0.0.1"), "{lo}");
}

#[test]
fn unsupported_link_type_is_reported_once_by_number_and_name() {
    use plainsight::capture::writer::PcapWriter;
    use plainsight::decode::LinkType;
    let d = tempdir();
    let p = d.path().join("wifi.pcap");
    let mut w = PcapWriter::new(Vec::new(), LinkType(127), 65535).unwrap();
    for i in 0..50 {
        w.write_packet(plainsight::time::Timestamp(i), &[0u8; 60]).unwrap();
    }
    std::fs::write(&p, w.into_inner()).unwrap();
    let o = run(&["read", "-q", "--stats", p.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("unsupported link type 127 (IEEE802_11_RADIO)").count(), 1, "{err}");
    assert!(err.contains("unsupported link 127:  50"), "{err}");
}

#[test]
fn capture_on_standard_input_is_read_like_a_file() {
    use std::io::Write as _;
    use std::process::Stdio;
    let d = tempdir();
    let cap = leaky_capture(d.path());
    let mut child = std::process::Command::new(bin())
        .args(["read", "-q", "--no-report", "--alerts", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(&cap).unwrap()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("\"capture\":\"-\""), "{out}");
}
