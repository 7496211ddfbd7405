//! Evasion at the HTTP layer (issue 10, section 5): a credential a server accepts, hidden by framing,
//! folding, size or encoding. The real binary runs on captures built by `examples/gen_hostile/http.rs`;
//! each test checks the credential is found (with `--reveal`, kind and secret) and the cap or signal
//! involved is counted in `--stats`.

#[path = "../../examples/gen_hostile/http.rs"]
mod http;

use std::path::{Path, PathBuf};

use crate::common;

fn capture(dir: &Path, name: &str, frames: &[plainsight_synth::Frame]) -> PathBuf {
    let p = dir.join(name);
    http::write(p.to_str().expect("utf8"), frames).expect("write capture");
    p
}

/// (kind, secret, evidence) of every alert, with `--reveal`, sorted.
fn alerts(pcap: &Path, threads: &str) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = common::alerts_of(pcap, &["--reveal", "--threads", threads])
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or("?").to_string();
            (s("kind"), s("secret"), s("evidence"))
        })
        .collect();
    v.sort();
    v
}

/// (kind, secret) of every alert at `--threads 1`, the same at `--threads 2`.
fn found(pcap: &Path) -> Vec<(String, String)> {
    let one: Vec<(String, String)> = alerts(pcap, "1").into_iter().map(|(k, s, _)| (k, s)).collect();
    let two: Vec<(String, String)> = alerts(pcap, "2").into_iter().map(|(k, s, _)| (k, s)).collect();
    assert_eq!(one, two, "the same alerts at --threads 1 and 2");
    one
}

fn want(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut w: Vec<(String, String)> = v.iter().map(|(k, s)| (k.to_string(), s.to_string())).collect();
    w.sort();
    w
}

/// The `--stats` text (stderr).
fn stats(pcap: &Path) -> String {
    let o = common::run(&["read", "-q", "--no-report", "--stats", "--threads", "1", pcap.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The value of counter `name` in `--stats` (`name N` anywhere in a line).
fn counter(text: &str, name: &str) -> u64 {
    let at = text.find(&format!("{name} ")).unwrap_or_else(|| panic!("no {name} in:\n{text}"));
    let digits: String = text[at + name.len() + 1..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("{name} is not followed by a number in:\n{text}"))
}

#[test]
fn a_basic_credential_on_obs_folded_header_lines_is_unfolded_and_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "fold.pcap", &http::fold());
    assert_eq!(found(&p), want(&[("basic_auth", http::FOLD_PASS)]));
    assert_eq!(counter(&stats(&p), "heads_unfolded"), 1);
}

#[test]
fn a_login_framed_by_transfer_encoding_and_content_length_is_found_and_its_alert_says_so() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "te-cl.pcap", &http::te_cl());
    let a = alerts(&p, "1");
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!((a[0].0.as_str(), a[0].1.as_str()), ("form_login", http::TE_CL_PASS));
    assert!(a[0].2.contains("framed by Transfer-Encoding; the request also had Content-Length"), "{}", a[0].2);
    assert_eq!(counter(&stats(&p), "framing_conflicts"), 1);
}

#[test]
fn a_login_sent_transfer_encoding_gzip_chunked_in_upper_case_is_decoded_and_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "te-gzip.pcap", &http::te_gzip());
    assert_eq!(found(&p), want(&[("form_login", http::TE_GZIP_PASS)]));
}

#[test]
fn content_lengths_that_disagree_reject_the_message_counted_and_the_next_login_is_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "cl.pcap", &http::cl_conflict());
    assert_eq!(found(&p), want(&[("form_login", http::CL_CONFLICT_PASS)]));
    let s = stats(&p);
    assert_eq!(counter(&s, "length_conflicts"), 1);
    assert!(s.contains("http requests:        1\n"), "the rejected request is not a message:\n{s}");
}

#[test]
fn a_bearer_token_after_300_header_fields_is_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "many.pcap", &http::many_headers());
    assert_eq!(found(&p), want(&[("bearer_opaque", http::MANY_TOKEN)]));
}

#[test]
fn a_bearer_token_after_70_kib_of_junk_header_fields_is_found_and_the_junk_dropped_is_counted() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "big-head.pcap", &http::big_head());
    assert_eq!(found(&p), want(&[("bearer_opaque", http::BIG_HEAD_TOKEN)]));
    let s = stats(&p);
    assert_eq!(counter(&s, "heads too large"), 0, "{s}");
    // The junk past the 64 KiB cap is dropped, not kept: ~6 KiB of it.
    let dropped = counter(&s, "head_bytes_dropped");
    assert!((1024..16 * 1024).contains(&dropped), "{dropped}");
}

#[test]
fn stacked_content_encodings_are_decoded_layer_by_layer_in_a_login_and_in_a_token_response() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "stacked.pcap", &http::stacked());
    assert_eq!(found(&p), want(&[("json_login", http::STACKED_PASS), ("login_response_token", http::STACKED_TOKEN)]));
}

#[test]
fn form_json_and_multipart_logins_whose_password_comes_after_a_megabyte_are_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "long.pcap", &http::long_bodies(1));
    assert_eq!(
        found(&p),
        want(&[
            ("form_login", http::LONG_FORM_PASS),
            ("json_login", http::LONG_JSON_PASS),
            ("form_login", http::LONG_MULTIPART_PASS),
        ])
    );
    // Read as a stream: what the flows held stayed far below the bodies' size (the peak of the budget
    // less what the run reserved off its top for the book of leaks).
    let s = stats(&p);
    let line = s.lines().find_map(|l| l.strip_prefix("memory:               peak ")).unwrap_or("");
    let mib = |after: &str| -> f64 {
        let at = line.find(after).map_or(line.len(), |i| i + after.len());
        line[at..].split(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no {after:?} in:\n{s}"))
    };
    let (peak, reserved) = (mib(""), mib("budget ("));
    assert!(reserved > 0.0 && peak - reserved < 0.5, "peak {peak} MiB ({reserved} reserved) for three 1 MiB bodies");
}

#[test]
fn a_json_login_whose_gzip_decoded_two_mebibytes_put_the_password_last_is_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "gzip-long.pcap", &http::gzip_long(2));
    assert_eq!(found(&p), want(&[("json_login", http::GZIP_LONG_PASS)]));
    assert_eq!(counter(&stats(&p), "decompressed_bytes_capped"), 0);
}

#[test]
fn a_stacked_gzip_bomb_stops_at_the_ratio_bound_counted_and_the_next_login_is_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "bomb.pcap", &http::bomb());
    assert_eq!(found(&p), want(&[("form_login", http::BOMB_PASS)]));
    assert_eq!(counter(&stats(&p), "decompressed_bytes_capped"), 1);
}
