//! Evasion inside WebSocket (issue 11): a credential a server reads only after unmasking, reassembling
//! fragments between control frames and inflating with the context of earlier messages; bombs and
//! floods of inflaters. The real binary runs on captures built by `examples/gen_hostile/ws.rs`.

#[path = "../../examples/gen_hostile/ws.rs"]
mod ws;

use std::path::{Path, PathBuf};

use crate::common;

fn capture(dir: &Path, name: &str, frames: &[plainsight_synth::Frame]) -> PathBuf {
    let p = dir.join(name);
    ws::write(p.to_str().expect("utf8"), frames).expect("write capture");
    p
}

/// (kind, secret, user, verdict, evidence) of every alert, with `--reveal`, sorted.
fn alerts(pcap: &Path, threads: &str) -> Vec<[String; 5]> {
    let mut v: Vec<[String; 5]> = common::alerts_of(pcap, &["--reveal", "--threads", threads])
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or("-").to_string();
            [s("kind"), s("secret"), s("user"), s("verdict"), s("evidence")]
        })
        .collect();
    v.sort();
    v
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
fn a_token_split_over_compressed_fragments_with_control_frames_between_is_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "split.pcap", &ws::split());
    let one = alerts(&p, "1");
    assert_eq!(alerts(&p, "2"), one, "the same alerts at --threads 1 and 2");
    assert_eq!(one.len(), 1, "{one:?}");
    let [kind, secret, user, _, evidence] = &one[0];
    assert_eq!(
        (kind.as_str(), secret.as_str(), user.as_str()),
        ("websocket_token", ws::split_token().as_str(), ws::SPLIT_SUB)
    );
    assert!(evidence.contains("token in a JSON WebSocket message"), "{evidence}");
    let st = stats(&p);
    assert_eq!(counter(&st, "ws_inflate_errors"), 0, "{st}");
    assert_eq!(counter(&st, "ws_protocol_errors"), 0, "{st}");
}

#[test]
fn websocket_logins_give_the_same_alerts_fed_whole_and_one_byte_per_segment() {
    let dir = common::tempdir();
    let mut whole = ws::connection(7, "permessage-deflate", &ws::split_client(), 1460, b"");
    let mut bytewise = ws::connection(8, "permessage-deflate", &ws::split_client(), 1, b"");
    whole.extend(ws::stomp_logins());
    bytewise.extend(ws::stomp_logins());
    let a = alerts(&capture(dir.path(), "whole.pcap", &whole), "1");
    let b = alerts(&capture(dir.path(), "bytes.pcap", &bytewise), "1");
    assert_eq!(a, b);
    assert_eq!(a.len(), 3, "{a:?}");
}

#[test]
fn stomp_connect_logins_take_their_verdict_from_connected_or_error() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "stomp.pcap", &ws::stomp_logins());
    let got = alerts(&p, "1");
    let row = |pass: &str| got.iter().find(|a| a[1] == pass).cloned().unwrap_or_else(|| panic!("{pass}: {got:?}"));
    let ok = row(ws::STOMP_PASS);
    assert_eq!((ok[0].as_str(), ok[2].as_str(), ok[3].as_str()), ("websocket_login", ws::STOMP_USER, "accepted"));
    assert!(ok[4].contains("STOMP CONNECT") && ok[4].contains("accepted by the server"), "{}", ok[4]);
    let bad = row(ws::STOMP_BAD_PASS);
    assert_eq!(bad[3], "refused");
    assert!(bad[4].contains("refused by the server"), "{}", bad[4]);
}

#[test]
fn a_deflate_bomb_stops_at_its_bound_counted_and_the_next_token_is_found() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "bomb.pcap", &ws::bomb());
    let got = alerts(&p, "1");
    assert_eq!(
        got.iter().map(|a| (a[0].as_str(), a[1].as_str())).collect::<Vec<_>>(),
        [("websocket_token", ws::BOMB_TOKEN)]
    );
    let st = stats(&p);
    assert_eq!(counter(&st, "ws_inflate_capped"), 1, "{st}");
    assert_eq!(counter(&st, "ws_messages_truncated"), 1, "{st}");
}

#[test]
fn a_flood_of_websocket_connections_holding_inflaters_stays_within_the_budget_and_the_last_token_is_found() {
    use super::memory::{MEMCAP, SLACK, measure};
    let dir = common::tempdir();
    // 1,000 connections, each an inflater (48 KiB) and a kept prefix: three times the budget.
    let p = capture(dir.path(), "flood.pcap", &ws::flood(1000));
    let tiny = capture(dir.path(), "tiny.pcap", &ws::stomp_logins());
    for threads in [1, 2] {
        let in_flight =
            if threads > 1 { (threads * plainsight::pipeline::parallel::MAX_IN_FLIGHT_BYTES) as u64 } else { 0 };
        let base = measure(&tiny, threads, MEMCAP).rss + in_flight;
        let run = measure(&p, threads, MEMCAP);
        let bound = MEMCAP + base + SLACK;
        assert!(
            run.rss <= bound,
            "--threads {threads}: peak RSS {} KiB over {} KiB\n{}",
            run.rss >> 10,
            bound >> 10,
            run.stats
        );
        assert!(counter(&run.stats, "memcap_ws_dropped") > 0, "{}", run.stats);
        assert!(
            run.alerts.iter().any(|a| a["kind"] == "websocket_token" && a["secret"] == ws::FLOOD_TOKEN),
            "--threads {threads}: the token after the flood was not found\n{}",
            run.stats
        );
    }
}

#[test]
fn tokens_in_the_upgrade_request_are_still_found_beside_those_of_the_messages() {
    let dir = common::tempdir();
    let client = "10.11.9.1:45000".parse().expect("addr");
    let server = "10.11.200.1:8080".parse().expect("addr");
    let mut c = plainsight_synth::Conversation::new(client, server);
    c.handshake();
    let upgrade = ws::upgrade("chat.lab", "/socket?access_token=query-token-0123456789");
    let upgrade = String::from_utf8(upgrade).expect("utf8").replacen(
        "Upgrade: websocket\r\n",
        "Upgrade: websocket\r\nAuthorization: Bearer header-token-0123456789\r\n",
        1,
    );
    c.client(upgrade.as_bytes());
    c.server(&ws::switching(""));
    c.client(&ws::frame(true, false, ws::TEXT, br#"{"type":"auth","token":"message-token-0123456789"}"#, ws::MASK));
    c.close();
    let p = capture(dir.path(), "upgrade.pcap", &c.take());
    let got: Vec<(String, String)> = alerts(&p, "1").into_iter().map(|[k, s, ..]| (k, s)).collect();
    assert_eq!(
        got,
        [
            ("bearer_opaque".to_string(), "header-token-0123456789".to_string()),
            ("url_token".to_string(), "query-token-0123456789".to_string()),
            ("websocket_token".to_string(), "message-token-0123456789".to_string()),
        ]
    );
}
