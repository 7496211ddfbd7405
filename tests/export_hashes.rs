//! `--export-hashes` on the bundled captures, checked against independent truth: each line is parsed by
//! hashcat's documented layout and its hash recomputed with the RustCrypto crates from the password the
//! generator set (the truth file's `hash_passwords`), never from plainsight's output. With hashcat and a
//! CPU OpenCL runtime installed, `cargo test --test export_hashes -- --ignored` has hashcat itself crack
//! the lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use hmac::{Hmac, Mac};
use md4::Md4;
use md5::Md5;
use serde_json::Value;
use sha1::{Digest, Sha1};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn export(capture: &str, dir: &std::path::Path) -> Vec<String> {
    let out = dir.join(format!("{capture}.hashes"));
    let o = Command::new(common::bin())
        .current_dir(root())
        .args(["read", "-q", "--no-report", "--reveal", "--export-hashes"])
        .arg(&out)
        .arg(format!("captures/{capture}.pcap"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap().lines().map(str::to_string).collect()
}

fn passwords(capture: &str) -> Vec<String> {
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(format!("captures/{capture}.truth.json"))).unwrap())
            .unwrap();
    t["hash_passwords"].as_object().expect("hash_passwords").values().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))): what a MySQL client sends for mysql_native_password.
fn mysql_native(pw: &str, scramble: &[u8]) -> Vec<u8> {
    let h1 = Sha1::digest(pw.as_bytes());
    let h2 = Sha1::digest(h1);
    let x = Sha1::digest([scramble, &h2[..]].concat());
    h1.iter().zip(x.iter()).map(|(a, b)| a ^ b).collect()
}

#[test]
fn mysql_native_lines_recompute_from_the_generators_passwords() {
    let d = common::tempdir();
    let lines = export("mysql", d.path());
    // app_native accepted, and the PAM account's native responses before the server switched it to
    // mysql_clear_password (one with its password, one with the wrong one); the refused app_native
    // login is left out.
    assert_eq!(lines.len(), 3, "{lines:?}");
    let pws = passwords("mysql");
    let mut cracked = 0;
    for l in &lines {
        let (s, r) = l.strip_prefix("$mysqlna$").and_then(|x| x.split_once('*')).expect(l);
        if pws.iter().any(|pw| mysql_native(pw, &unhex(s)) == unhex(r)) {
            cracked += 1;
        }
    }
    assert_eq!(cracked, 2, "the lines of the two right passwords recompute: {lines:?}");
}

fn hmac_md5(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Md5> as Mac>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// NetNTLMv2 (MS-NLMP 3.3.2): NTProofStr = HMAC-MD5(NTOWFv2, challenge + blob), NTOWFv2 =
/// HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(upper(user) + domain)).
fn ntlmv2_proof(pw: &str, user: &str, domain: &str, challenge: &[u8], blob: &[u8]) -> Vec<u8> {
    let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
    let owf = hmac_md5(&Md4::digest(utf16(pw)), &utf16(&format!("{}{domain}", user.to_uppercase())));
    hmac_md5(&owf, &[challenge, blob].concat())
}

#[test]
fn netntlmv2_line_recomputes_from_the_generators_password() {
    let d = common::tempdir();
    let lines = export("ntlm", d.path());
    // The accepted login; the refused one is left out.
    assert_eq!(lines.len(), 1, "{lines:?}");
    let f: Vec<&str> = lines[0].split(':').collect();
    assert_eq!((f[0], f[1], f[2]), ("alice", "", "LAB"));
    let pw = &passwords("ntlm")[0];
    assert_eq!(unhex(f[4]), ntlmv2_proof(pw, f[0], f[2], &unhex(f[3]), &unhex(f[5])), "{}", lines[0]);
}

#[test]
fn postgres_md5_line_recomputes_from_the_generators_password() {
    let d = common::tempdir();
    let lines = export("postgres", d.path());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let f: Vec<&str> = lines[0].strip_prefix("$postgres$").unwrap().split('*').collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let inner = hex(&Md5::digest(format!("Pg-md5-pass-2{}", f[0]).as_bytes()));
    assert_eq!(hex(&Md5::digest([inner.as_bytes(), &unhex(f[1])].concat())), f[2]);
}

/// hashcat itself cracks every exported line whose password the truth knows (needs hashcat and an
/// OpenCL runtime: `apt-get install hashcat pocl-opencl-icd ocl-icd-libopencl1`; about 30 s per mode
/// on a CPU).
#[test]
#[ignore = "slow: runs hashcat on the CPU"]
fn hashcat_cracks_the_exported_lines() {
    if Command::new("hashcat").arg("--version").output().is_err() {
        common::missing("hashcat is not installed");
        return;
    }
    let d = common::tempdir();
    for (capture, mode, want) in [("mysql", "11200", 2), ("postgres", "11100", 1), ("ntlm", "5600", 1)] {
        let lines = export(capture, d.path());
        let hashes = d.path().join(format!("{capture}.h"));
        std::fs::write(&hashes, lines.join("\n") + "\n").unwrap();
        let words = d.path().join(format!("{capture}.w"));
        let mut pws = if capture == "postgres" { vec!["Pg-md5-pass-2".to_string()] } else { passwords(capture) };
        pws.push("not-the-password".into());
        std::fs::write(&words, pws.join("\n") + "\n").unwrap();
        let o = Command::new("hashcat")
            .args(["-m", mode, "-a", "0", "--potfile-disable", "--quiet"])
            .arg(&hashes)
            .arg(&words)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let cracked = out.lines().filter(|l| pws.iter().any(|p| l.ends_with(&format!(":{p}")))).count();
        assert_eq!(cracked, want, "{capture}: {out}\n{}", String::from_utf8_lossy(&o.stderr));
    }
}
