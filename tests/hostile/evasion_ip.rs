//! Evasion at the IP layer (issue 10, section 5): credentials in IP fragments, a bad-checksum decoy sent
//! first at the real segment's sequence number, a capture with checksum offload, a flood of fragments.
//! The real binary runs on captures built by `examples/gen_hostile/ip.rs`, at `--threads 1` and 2.

#[path = "../../examples/gen_hostile/ip.rs"]
mod ip;

use std::path::Path;
use std::process::Output;

use crate::common;

fn capture(dir: &Path, name: &str, frames: &[plainsight_synth::Frame]) -> std::path::PathBuf {
    let p = dir.join(name);
    ip::write(p.to_str().expect("utf8"), frames).expect("write capture");
    p
}

/// (kind, secret) of every alert, with `--reveal`.
fn found(pcap: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["--reveal"];
    args.extend_from_slice(extra);
    let mut v: Vec<(String, String)> = common::alerts_of(pcap, &args)
        .iter()
        .map(|a| (a["kind"].as_str().unwrap_or("?").to_string(), a["secret"].as_str().unwrap_or("?").to_string()))
        .collect();
    v.sort();
    v
}

fn run_stats(pcap: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["read", "-q", "--no-report", "--stats"];
    args.extend_from_slice(extra);
    args.push(pcap.to_str().expect("utf8"));
    let o = common::run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stat_line<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} line in:\n{text}"))
}

#[test]
fn basic_auth_in_ip_fragments_is_found_in_order_reversed_and_over_ipv6_at_1_and_2_threads() {
    let dir = common::tempdir();
    let want = vec![("basic_auth".to_string(), ip::FRAG_PASS.to_string())];
    for (name, v6, reversed) in [("v4.pcap", false, false), ("v4rev.pcap", false, true), ("v6.pcap", true, false)] {
        let p = capture(dir.path(), name, &ip::fragmented_basic_auth(v6, reversed));
        let one = found(&p, &["--threads", "1"]);
        let two = found(&p, &["--threads", "2"]);
        assert_eq!(one, want, "{name} at --threads 1");
        assert_eq!(two, one, "{name}: same alerts at --threads 2");
        for t in ["1", "2"] {
            let err = stderr(&run_stats(&p, &["--threads", t]));
            assert!(stat_line(&err, "ip datagrams:").starts_with("ip datagrams:         1 reassembled"), "{err}");
            assert!(stat_line(&err, "ip fragments:").ends_with(" 7"), "{err}");
        }
    }
}

#[test]
fn bad_checksum_decoy_sent_first_is_dropped_and_the_real_password_reported() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "decoy.pcap", &ip::checksum_decoy());
    let want = vec![("form_login".to_string(), ip::REAL_PASS.to_string())];
    assert_eq!(found(&p, &["--threads", "1"]), want);
    assert_eq!(found(&p, &["--threads", "2"]), want);
    assert_eq!(found(&p, &["--checksums", "verify"]), want);
    let err = stderr(&run_stats(&p, &["--threads", "1"]));
    assert!(stat_line(&err, "bad checksums:").starts_with("bad checksums:        1 dropped"), "{err}");
    // The attack works without verification (the test can fail): the decoy wins, the real one is lost.
    assert_eq!(found(&p, &["--checksums", "off"]), vec![("form_login".to_string(), ip::DECOY_PASS.to_string())]);
}

#[test]
fn a_host_with_checksum_offload_still_has_its_login_found_and_a_warning_printed() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "offload.pcap", &ip::offloaded_client());
    let want = vec![("form_login".to_string(), ip::OFFLOAD_PASS.to_string())];
    assert_eq!(found(&p, &["--threads", "1"]), want);
    assert_eq!(found(&p, &["--threads", "2"]), want);
    let err = stderr(&run_stats(&p, &["--threads", "1"]));
    assert!(err.contains("warning: every TCP/UDP checksum from 10.0.0.30 is bad"), "{err}");
    assert!(stat_line(&err, "bad checksums:").contains("(1 offloaded sources"), "{err}");
    // `verify` drops everything that host sent: the trade-off `auto` exists for.
    assert_eq!(found(&p, &["--checksums", "verify"]), vec![]);
}

#[test]
fn a_flood_of_incomplete_fragments_stays_bounded_and_counted_and_a_later_login_is_found() {
    let dir = common::tempdir();
    let n = 5000;
    let p = capture(dir.path(), "flood.pcap", &ip::fragment_flood(n));
    let want = vec![("basic_auth".to_string(), ip::FRAG_PASS.to_string())];
    for t in ["1", "2"] {
        assert_eq!(found(&p, &["--threads", t]), want, "--threads {t}");
        let err = stderr(&run_stats(&p, &["--threads", t]));
        // Every datagram past the 1,024 held at once was evicted, counted (the login's own included
        // one more eviction); none was reassembled but the login.
        let max = plainsight::decode::defrag::MAX_DATAGRAMS;
        let evicted = n + 1 - max;
        // At most the cap is held at the end (the login's datagram completed and left).
        assert!(stat_line(&err, "ip datagrams:").ends_with(&format!("incomplete {})", max - 1)), "{err}");
        assert!(
            stat_line(&err, "ip datagrams:")
                .starts_with(&format!("ip datagrams:         1 reassembled (timed out 0, evicted {evicted},")),
            "{err}"
        );
    }
}

/// A response whose media body (of known length) is skipped unread, then a second response on the
/// same connection handing out a session cookie. `decoy_at`: where a bad-checksum segment is sent first
/// at the real segment's sequence number: inside the body (`Inside`) or across the body's end into the
/// next response's head (`Across`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Decoy {
    Inside,
    Across,
}

fn skipped_body_then_cookie(decoy: Decoy) -> Vec<plainsight_synth::Frame> {
    use plainsight_synth::Conversation;
    const ACK_PSH: u8 = 0x18;
    let mut c = Conversation::new(common_addr("10.0.0.40:43000"), common_addr("10.0.0.41:80"));
    c.handshake();
    c.client(b"GET /logo.png HTTP/1.1\r\nHost: shop.lab\r\n\r\nGET /login HTTP/1.1\r\nHost: shop.lab\r\n\r\n");
    let body = vec![b'P'; 3000];
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    resp.extend_from_slice(&body);
    resp.extend_from_slice(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: sessionid=real-session-0123456789; Path=/\r\nContent-Length: 0\r\n\r\n",
    );
    // The decoy replaces one 1000-byte segment: inside the body, or the one carrying the body's end and
    // the next head (its forged head would hand out another cookie).
    let at = match decoy {
        Decoy::Inside => 1000,
        Decoy::Across => 3000,
    };
    assert!(
        resp.len() > 3000 && resp.len() - 3000 < 1000 + 200,
        "the last segment holds the body's end and the next head"
    );
    let mut fake = resp.clone();
    let forged =
        b"HTTP/1.1 200 OK\r\nSet-Cookie: sessionid=decoy-session-9876543210; Path=/\r\nContent-Length: 0\r\n\r\n";
    match decoy {
        Decoy::Inside => fake[at..at + 1000].fill(b'X'),
        Decoy::Across => {
            let head_at = resp.len() - forged.len();
            fake[head_at..].copy_from_slice(forged);
        }
    }
    let mut sent = 0;
    while sent < resp.len() {
        let n = 1000.min(resp.len() - sent);
        if sent == at {
            let seq = c.sseq;
            let mut d = c.raw(false, seq, ACK_PSH, &fake[sent..sent + n]);
            ip::break_tcp_checksum(&mut d.data);
            c.frames.push(d);
        }
        c.send(false, &resp[sent..sent + n], 1000);
        sent += n;
    }
    c.close();
    c.take()
}

fn common_addr(s: &str) -> std::net::SocketAddr {
    s.parse().unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 1)))
}

#[test]
fn bytes_no_parser_reads_are_not_verified_but_a_decoy_reaching_a_head_is_dropped() {
    let dir = common::tempdir();
    let want = vec![("set_cookie_insecure".to_string(), "real-session-0123456789".to_string())];
    // Inside a media body of known length the decoy is accepted unverified: it changes nothing.
    let p = capture(dir.path(), "inside.pcap", &skipped_body_then_cookie(Decoy::Inside));
    assert_eq!(found(&p, &["--threads", "1"]), want);
    let err = stderr(&run_stats(&p, &["--threads", "1"]));
    assert!(stat_line(&err, "bad checksums:").starts_with("bad checksums:        0 dropped"), "{err}");
    assert!(!stat_line(&err, "checksums:").contains(" 0 not verified"), "{err}");
    // Across the body's end into the next head it is verified and dropped: the real cookie is found.
    let p = capture(dir.path(), "across.pcap", &skipped_body_then_cookie(Decoy::Across));
    assert_eq!(found(&p, &["--threads", "1"]), want);
    assert_eq!(found(&p, &["--threads", "2"]), want);
    let err = stderr(&run_stats(&p, &["--threads", "1"]));
    assert!(stat_line(&err, "bad checksums:").starts_with("bad checksums:        1 dropped"), "{err}");
}
