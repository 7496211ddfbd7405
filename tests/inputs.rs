//! What `read` takes as input: compressed captures, directories, and inputs it cannot read (which the
//! report names, never claiming that nothing crossed in clear).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use common::*;

fn leaky(dir: &Path, name: &str, token: &str) -> PathBuf {
    let mut c = conv("10.0.0.1:41000", "10.0.0.2:80");
    c.handshake()
        .client(format!("GET / HTTP/1.1\r\nHost: api.lab\r\nAuthorization: Bearer {token}\r\n\r\n").as_bytes())
        .server(b"HTTP/1.1 204 No Content\r\n\r\n")
        .close();
    let p = dir.join(name);
    write_pcap(&p, &c.frames);
    p
}

fn secrets(alerts: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = alerts.iter().map(|a| a["secret"].as_str().unwrap_or_default().to_string()).collect();
    v.sort();
    v
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_zstd_captures_are_read_as_they_are_with_the_same_alerts() {
    let d = tempdir();
    let plain = leaky(d.path(), "a.pcap", "opaque-token-gzip-and-zstd-0123456789");
    let bytes = std::fs::read(&plain).unwrap();
    let gz = d.path().join("a.pcap.gz");
    std::fs::write(&gz, gzip(&bytes)).unwrap();
    let zst = d.path().join("a.pcap.zst");
    std::fs::write(&zst, ruzstd::encoding::compress_to_vec(&bytes[..], ruzstd::encoding::CompressionLevel::Fastest))
        .unwrap();
    let want = secrets(&alerts_of(&plain, &["--reveal"]));
    assert_eq!(want, ["opaque-token-gzip-and-zstd-0123456789"]);
    assert_eq!(secrets(&alerts_of(&gz, &["--reveal"])), want, "gzip");
    assert_eq!(secrets(&alerts_of(&zst, &["--reveal"])), want, "zstd");
}

#[test]
fn a_truncated_gzip_capture_keeps_the_alerts_before_the_cut_and_says_where() {
    let d = tempdir();
    let first = leaky(d.path(), "one.pcap", "opaque-token-before-the-cut-0123456789");
    let mut bytes = std::fs::read(&first).unwrap();
    // A second capture's packets appended (no second header): the file goes on past the first flow.
    let second = std::fs::read(leaky(d.path(), "two.pcap", "opaque-token-after-the-cut-0123456789")).unwrap();
    bytes.extend_from_slice(&second[24..]);
    let gz = gzip(&bytes);
    let cut = d.path().join("cut.pcap.gz");
    std::fs::write(&cut, &gz[..gz.len() * 3 / 4]).unwrap();
    let out = d.path().join("a.jsonl");
    let o = run(&["read", "--reveal", "--alerts", out.to_str().unwrap(), cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a damaged input fails the run");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("gzip-decompressed"), "{stderr}");
    assert!(secrets(&read_jsonl(&out)).contains(&"opaque-token-before-the-cut-0123456789".to_string()));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Not analysed in full"), "{stdout}");
    assert!(stdout.contains("cut.pcap.gz"), "{stdout}");
}

#[test]
fn a_directory_is_read_recursively_in_name_order_and_files_that_are_not_captures_are_named_not_fatal() {
    let d = tempdir();
    let root = d.path().join("caps");
    std::fs::create_dir_all(root.join("day2")).unwrap();
    leaky(&root, "b.pcap", "opaque-token-in-b-0123456789abcdef");
    leaky(&root.join("day2"), "a.pcap", "opaque-token-in-day2-0123456789abc");
    std::fs::write(root.join("README.txt"), "captures of the lab\n").unwrap();
    let out = d.path().join("a.jsonl");
    let o = run(&["read", "--threads", "1", "--reveal", "--alerts", out.to_str().unwrap(), root.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    let alerts = read_jsonl(&out);
    assert_eq!(
        secrets(&alerts),
        ["opaque-token-in-b-0123456789abcdef", "opaque-token-in-day2-0123456789abc"],
        "both captures read"
    );
    // Name order: b.pcap before day2/a.pcap.
    let captures: Vec<&str> = alerts.iter().map(|a| a["capture"].as_str().unwrap()).collect();
    assert!(captures[0].ends_with("b.pcap") && captures[1].ends_with("day2/a.pcap"), "{captures:?}");
    assert!(stdout.contains("README.txt: not a capture, skipped"), "{stdout}");
}

#[test]
fn an_input_that_cannot_be_read_is_named_and_the_report_never_says_nothing_crossed() {
    let d = tempdir();
    let missing = d.path().join("nope.pcap");
    let o = run(&["read", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!stdout.contains("no credential crossed"), "{stdout}");
    assert!(stdout.contains("not analysed in full"), "{stdout}");
    assert!(stdout.contains("nope.pcap: cannot open"), "{stdout}");
}

#[test]
fn a_file_that_is_not_a_capture_gets_a_hint_saying_what_it_looks_like() {
    let d = tempdir();
    for (name, bytes, hint) in [
        ("notes.txt", b"GET / HTTP/1.1\r\n".to_vec(), "looks like text"),
        ("cap.pcap.bz2", b"BZh91AY&SY".to_vec(), "bzip2"),
        ("cap.zip", b"PK\x03\x04rest".to_vec(), "archive"),
        ("empty.pcap", Vec::new(), "empty"),
    ] {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = run(&["read", "-q", "--no-report", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("not a pcap or pcapng file") && stderr.contains(hint), "{name}: {stderr}");
    }
}
