//! Evasion over cleartext HTTP/2 (issue 11): a credential hidden by HTTP/2's framing must be found, a
//! connection picked up mid-way must give nothing guessed, and the real h2c and gRPC captures cut into
//! one-byte segments must give exactly the alerts they give whole. The real binary runs on captures built
//! by `examples/gen_hostile/h2.rs`.

#[path = "../../examples/gen_hostile/h2.rs"]
mod h2;

use std::path::{Path, PathBuf};

use plainsight::capture::FileReader;
use plainsight::decode::{self, Decoded};

use crate::common;

fn capture(dir: &Path, name: &str, frames: &[plainsight_synth::Frame]) -> PathBuf {
    let p = dir.join(name);
    h2::write(p.to_str().expect("utf8"), frames).expect("write capture");
    p
}

/// (kind, secret, evidence) of every alert with `--reveal` at `--threads N`, sorted.
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
fn a_bearer_token_over_padded_continuation_frames_interleaved_with_another_stream_is_found() {
    let dir = common::tempdir();
    for mss in [13, 1, 1460] {
        let p = capture(dir.path(), &format!("cont-{mss}.pcap"), &h2::continuation(mss));
        let one = alerts(&p, "1");
        assert_eq!(one, alerts(&p, "2"), "the same alerts at --threads 1 and 2");
        let kinds: Vec<(&str, &str)> = one.iter().map(|(k, s, _)| (k.as_str(), s.as_str())).collect();
        assert_eq!(kinds, vec![("bearer_opaque", h2::CONT_TOKEN), ("json_login", h2::CONT_PASS)], "mss {mss}");
        // The login of stream 3 is settled by stream 3's own answer (401), though stream 1's came first.
        assert!(one[1].2.contains("refused by the server"), "{}", one[1].2);
        let st = stats(&p);
        assert_eq!(counter(&st, "frames_malformed"), 0);
        assert_eq!(counter(&st, "undecodable"), 0);
    }
}

#[test]
fn an_http2_connection_picked_up_mid_way_is_counted_undecodable_and_nothing_is_guessed() {
    let dir = common::tempdir();
    let p = capture(dir.path(), "mid.pcap", &h2::midstream());
    assert_eq!(alerts(&p, "1"), vec![], "no alert from header blocks read against unknown tables");
    let st = stats(&p);
    assert_eq!(counter(&st, "undecodable"), 2, "{st}");
    assert!(counter(&st, "blocks_skipped") >= 3, "{st}");
}

/// The frames of `pcap` with every TCP payload re-cut into one-byte segments (same sequence numbers,
/// flags on the last piece, the handshake and pure ACKs as they were).
fn one_byte_segments(pcap: &Path) -> Vec<plainsight_synth::Frame> {
    let mut r = FileReader::open(pcap, None).expect("open capture");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().expect("read") {
        let ts = p.ts.0;
        let Ok(Decoded::Tcp(seg)) = decode::decode(p.link, p.data) else { continue };
        if seg.payload.len() <= 1 {
            out.push(plainsight_synth::Frame {
                ts,
                data: plainsight_synth::tcp_frame(seg.src, seg.dst, seg.seq, seg.ack, seg.flags.0, seg.payload),
            });
            continue;
        }
        let n = seg.payload.len();
        for (i, b) in seg.payload.iter().enumerate() {
            // FIN (if any) only with the last byte.
            let flags = if i + 1 == n { seg.flags.0 } else { seg.flags.0 & !0x01 };
            let data =
                plainsight_synth::tcp_frame(seg.src, seg.dst, seg.seq.wrapping_add(i as u32), seg.ack, flags, &[*b]);
            out.push(plainsight_synth::Frame { ts, data });
        }
    }
    out
}

#[test]
fn the_real_h2c_and_grpc_captures_cut_into_one_byte_segments_give_the_same_alerts() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = common::tempdir();
    for name in ["h2c", "grpc"] {
        let real = root.join(format!("captures/{name}.pcap"));
        let whole = alerts(&real, "1");
        assert!(whole.len() >= 5, "{name}: {whole:?}");
        let cut = capture(dir.path(), &format!("{name}-1.pcap"), &one_byte_segments(&real));
        assert_eq!(alerts(&cut, "1"), whole, "{name} cut into one-byte segments");
    }
}
