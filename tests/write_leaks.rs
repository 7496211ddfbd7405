//! `read --write-leaks`: exactly the packets of the connections that leaked, in a capture Wireshark
//! opens (and plainsight reads back to the same leaks).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use plainsight::capture::FileReader;

const TOKEN: &str = "opaque-token-write-leaks-0123456789";

/// Three connections: a Bearer token, the same token again from another client port, and one without
/// any credential.
fn capture(dir: &Path) -> (PathBuf, usize, usize) {
    let mut frames = Vec::new();
    let mut leaky = 0;
    for (port, auth) in [(41000, true), (41001, false), (41002, true)] {
        let mut c = conv(&format!("10.0.0.1:{port}"), "10.0.0.2:80");
        let header = if auth { format!("Authorization: Bearer {TOKEN}\r\n") } else { String::new() };
        c.handshake()
            .client(format!("GET /r{port} HTTP/1.1\r\nHost: api.lab\r\n{header}\r\n").as_bytes())
            .server(b"HTTP/1.1 204 No Content\r\n\r\n")
            .close();
        if auth {
            leaky += c.frames.len();
        }
        frames.extend(c.frames);
    }
    let total = frames.len();
    let p = dir.join("three.pcap");
    write_pcap(&p, &frames);
    (p, leaky, total)
}

fn packets(p: &Path) -> Vec<Vec<u8>> {
    let mut r = FileReader::open(p, None).unwrap();
    let mut v = Vec::new();
    while let Some(pkt) = r.next_packet().unwrap() {
        v.push(pkt.data.to_vec());
    }
    v
}

#[test]
fn the_packets_of_every_leaking_connection_and_only_them_are_written_as_pcap_or_pcapng() {
    let d = tempdir();
    let (cap, leaky, total) = capture(d.path());
    assert!(leaky < total);
    for name in ["leaks.pcap", "leaks.pcapng"] {
        for threads in ["1", "2"] {
            let out = d.path().join(name);
            let o = run(&[
                "read",
                "-q",
                "--threads",
                threads,
                "--reveal",
                "--write-leaks",
                out.to_str().unwrap(),
                cap.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let got = packets(&out);
            assert_eq!(got.len(), leaky, "{name} --threads {threads}: both leaking connections, whole");
            let original = packets(&cap);
            assert!(got.iter().all(|p| original.contains(p)), "packets copied unchanged");
            assert!(
                got.iter().all(|p| !String::from_utf8_lossy(p).contains("/r41001")),
                "nothing of the clean connection"
            );
            let ng = std::fs::read(&out).unwrap()[..4] == [0x0a, 0x0d, 0x0d, 0x0a];
            assert_eq!(ng, name.ends_with(".pcapng"), "{name}: format by extension");
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
            // Read back: the same leak, seen twice.
            let alerts = alerts_of(&out, &["--reveal", "--alerts-at-end"]);
            assert_eq!(alerts.len(), 1);
            assert_eq!((alerts[0]["secret"].as_str(), alerts[0]["count"].as_u64()), (Some(TOKEN), Some(2)));
            std::fs::remove_file(&out).unwrap();
        }
    }
}

#[test]
fn write_leaks_needs_reveal_and_refuses_standard_input() {
    let d = tempdir();
    let (cap, _, _) = capture(d.path());
    let out = d.path().join("leaks.pcap");
    let o = run(&["read", "-q", "--write-leaks", out.to_str().unwrap(), cap.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--reveal"));
    assert!(!out.exists(), "nothing written without --reveal");
    let o = run(&["read", "-q", "--reveal", "--write-leaks", out.to_str().unwrap(), "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("standard input"));
}
