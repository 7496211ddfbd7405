//! Memory under floods (issue 10, section 4): whatever the traffic, the process stays within its one
//! memory budget plus a fixed overhead, at one thread and at two, and a victim's credential sent in the
//! middle of the flood is still found. THREAT_MODEL.md, "Resource exhaustion by the traffic itself".
//!
//! The floods come from the attacker's generator (`examples/gen_hostile/memory.rs`), built small in
//! each test's tempdir, and the real binary runs on them with a 16 MiB `--memcap`. Peak RSS is read
//! with `getrusage(RUSAGE_CHILDREN)` in a helper process (this test binary run again, see
//! [`helper_measures_the_peak_rss_of_one_child`]) whose only child is that run, so that other tests'
//! children, running in parallel, cannot count.
//!
//! The fixed overhead is measured, not guessed: the same binary on a tiny capture (the pipeline one,
//! one connection) at the same thread count (code, libpcap, the reader's buffers, thread stacks);
//! with more than one thread, the frames the reader may have in flight to each worker
//! (`parallel::MAX_IN_FLIGHT_BYTES`, fixed: a flood keeps the workers busy enough to fill them, a tiny
//! capture does not); plus [`SLACK`] for what the budget does not see (allocator fragmentation and
//! free lists, each thread's unused lease, one segment past the budget before the flows holding the
//! most give way; 2 to 3 MiB measured on these floods).

use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::common;

#[allow(dead_code)]
#[path = "../../examples/gen_hostile/memory.rs"]
mod gen_memory;

use gen_memory::Capture;

/// The budget the floods run with.
pub(super) const MEMCAP: u64 = 16 << 20;
/// What the budget does not see, beyond the tiny capture's footprint (see the module docs).
pub(super) const SLACK: u64 = 6 << 20;

const HELPER_ENV: &str = "PLAINSIGHT_HOSTILE_RSS_ARGS";

/// Not a behaviour of plainsight: the helper the RSS measurements run in. Does nothing unless this
/// binary was started by [`measure`], then runs plainsight with the arguments it was given (one per
/// line) as its only child, waits, and prints that child's peak RSS and exit status.
#[test]
fn helper_measures_the_peak_rss_of_one_child() {
    let Some(args) = std::env::var_os(HELPER_ENV) else { return };
    let args = args.to_string_lossy().into_owned();
    let status = Command::new(common::bin()).args(args.lines()).status().expect("run plainsight");
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    // Linux reports ru_maxrss in KiB.
    println!("HELPER-RSS-KIB {} STATUS {}", usage.max_rss(), status.code().unwrap_or(-1));
}

/// One measured run: its peak RSS in bytes, its `--stats` text and its alerts.
pub(super) struct Run {
    pub(super) rss: u64,
    pub(super) stats: String,
    pub(super) alerts: Vec<serde_json::Value>,
}

pub(super) fn measure(pcap: &Path, threads: usize, memcap: u64) -> Run {
    let dir = pcap.parent().expect("capture in a directory");
    let alerts =
        dir.join(format!("alerts-{threads}-{}.jsonl", pcap.file_stem().and_then(|s| s.to_str()).unwrap_or("x")));
    let stats = alerts.with_extension("stats");
    let args = [
        "read".to_string(),
        "-q".into(),
        "--no-report".into(),
        "--reveal".into(),
        "--stats".into(),
        format!("--threads={threads}"),
        format!("--memcap={memcap}"),
        format!("--alerts={}", alerts.display()),
        pcap.display().to_string(),
    ];
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--exact", "memory::helper_measures_the_peak_rss_of_one_child", "--nocapture", "--test-threads=1"])
        .env(HELPER_ENV, args.join("\n"))
        .stderr(std::fs::File::create(&stats).expect("stats file"))
        .output()
        .expect("run the helper");
    let text = String::from_utf8_lossy(&out.stdout);
    // The harness prints the test's name on the same line.
    let line = text
        .lines()
        .find_map(|l| l.find("HELPER-RSS-KIB ").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("helper said: {text}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        words.get(3),
        Some(&"0"),
        "plainsight failed: {line}\n{}",
        std::fs::read_to_string(&stats).unwrap_or_default()
    );
    let rss = words[1].parse::<u64>().expect("rss") * 1024;
    Run { rss, stats: std::fs::read_to_string(&stats).expect("stats"), alerts: common::read_jsonl(&alerts) }
}

/// The value of counter `name` in a `--stats` text (`name N` or `name: N`).
fn counter(stats: &str, name: &str) -> u64 {
    let at = stats.find(name).unwrap_or_else(|| panic!("no {name} in --stats:\n{stats}"));
    stats[at + name.len()..]
        .trim_start_matches([':', ' '])
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name} has no value in --stats:\n{stats}"))
}

fn build(dir: &Path, name: &str, f: impl FnOnce(&mut Capture<BufWriter<std::fs::File>>) -> io::Result<()>) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("create capture");
    let mut c = Capture::new(BufWriter::with_capacity(1 << 20, file)).expect("pcap header");
    f(&mut c).expect("write capture");
    let mut w = c.into_inner().expect("writer");
    io::Write::flush(&mut w).expect("flush capture");
    path
}

fn victim_found(run: &Run) -> bool {
    let token = gen_memory::victim_token();
    run.alerts.iter().any(|a| a["kind"] == "bearer_jwt" && a["secret"] == token.as_str())
}

/// Run a flood at one and two threads: within budget plus overhead, victim found. Returns the runs.
fn flood_within_budget(dir: &Path, pcap: &Path) -> Vec<Run> {
    let tiny = build(dir, "tiny.pcap", gen_memory::head_pipeline);
    let mut runs = Vec::new();
    for threads in [1, 2] {
        let in_flight =
            if threads > 1 { (threads * plainsight::pipeline::parallel::MAX_IN_FLIGHT_BYTES) as u64 } else { 0 };
        let base = measure(&tiny, threads, MEMCAP).rss + in_flight;
        let run = measure(pcap, threads, MEMCAP);
        let bound = MEMCAP + base + SLACK;
        eprintln!("{}: --threads {threads}: peak RSS {} KiB, bound {} KiB", pcap.display(), run.rss >> 10, bound >> 10);
        assert!(
            run.rss <= bound,
            "--threads {threads}: peak RSS {} KiB over the budget {} KiB + the fixed overhead {} KiB + slack {} KiB\n{}",
            run.rss >> 10,
            MEMCAP >> 10,
            base >> 10,
            SLACK >> 10,
            run.stats
        );
        assert!(victim_found(&run), "--threads {threads}: the victim's token was not found\n{}", run.stats);
        runs.push(run);
    }
    runs
}

#[test]
fn out_of_order_flood_stays_within_the_budget_and_the_victims_swapped_segments_are_reassembled() {
    let dir = common::tempdir();
    // 96 flows of 3,000 one-byte runs: each flow could hold its own cap (256 KiB), 24 MiB in all.
    let pcap = build(dir.path(), "ooo.pcap", |w| gen_memory::ooo_flood(w, 96, 3000, 1));
    for run in flood_within_budget(dir.path(), &pcap) {
        assert!(counter(&run.stats, "memcap_holes_given_up") > 0, "{}", run.stats);
    }
}

#[test]
fn partial_head_flood_stays_within_the_budget_and_the_victims_split_head_is_parsed() {
    let dir = common::tempdir();
    // 400 heads of 60 KiB that never end: 24 MiB of bytes, more with their buffers.
    let pcap = build(dir.path(), "heads.pcap", |w| gen_memory::head_flood(w, 400));
    for run in flood_within_budget(dir.path(), &pcap) {
        assert!(counter(&run.stats, "memcap_heads_dropped") > 0, "{}", run.stats);
    }
}

#[test]
fn flow_flood_stays_within_the_budget_and_the_victims_flow_survives_eviction() {
    let dir = common::tempdir();
    // 200,000 one-segment connections: far more than 16 MiB of flow table.
    let pcap = build(dir.path(), "flows.pcap", |w| gen_memory::flow_flood(w, 200_000));
    for run in flood_within_budget(dir.path(), &pcap) {
        assert!(counter(&run.stats, "memcap_flows_evicted") > 0, "{}", run.stats);
    }
}

#[test]
fn a_flood_of_distinct_secrets_stays_within_the_budget_every_leak_is_still_reported_and_the_victim_found() {
    let dir = common::tempdir();
    // 8,000 distinct 1 KiB tokens on 400-byte paths: each a new leak whose alert (secret, path, excerpt)
    // holds some 3 KiB, tens of MiB if every one were remembered.
    const N: u64 = 8000;
    let pcap = build(dir.path(), "secrets.pcap", |w| gen_memory::secret_flood(w, N));
    for run in flood_within_budget(dir.path(), &pcap) {
        // Nothing hidden: every leak reaches the alert file, the remembered and the others.
        assert_eq!(run.alerts.len() as u64, N + 1, "{}", run.stats);
        assert!(run.alerts.iter().any(|a| a["secret"] == gen_memory::flood_token(N - 1).as_str()));
        assert!(counter(&run.stats, "alerts_not_deduped") > 0, "{}", run.stats);
        assert_eq!(counter(&run.stats, "leaks:"), N + 1, "{}", run.stats);
    }
}

#[test]
fn pipeline_past_the_pending_cap_never_pairs_a_response_with_the_wrong_request() {
    let dir = common::tempdir();
    let pcap = build(dir.path(), "pipeline.pcap", gen_memory::head_pipeline);
    for threads in [1, 2] {
        let run = measure(&pcap, threads, MEMCAP);
        // The credential in a request past the cap is found, on its request.
        let token = gen_memory::victim_token();
        let bearer = run.alerts.iter().find(|a| a["secret"] == token.as_str()).expect("bearer alert");
        assert_eq!(bearer["path"], gen_memory::pipeline_target(gen_memory::PIPELINE_BEARER));
        // Both cookies are found: the HEAD answers past the cap did not eat the responses after them.
        for i in gen_memory::PIPELINE_COOKIES {
            let cookie = gen_memory::pipeline_cookie(i);
            let alert =
                run.alerts.iter().find(|a| a["secret"] == cookie.as_str()).unwrap_or_else(|| {
                    panic!("--threads {threads}: the cookie of response {i} was lost\n{}", run.stats)
                });
            // Paired with its own request, or with none: never with another.
            let path = alert["path"].as_str();
            assert!(
                path.is_none() || path == Some(gen_memory::pipeline_target(i).as_str()),
                "--threads {threads}: response {i} paired with {path:?}"
            );
        }
        // Response 10 is within the pending cap: it is paired.
        let first = run.alerts.iter().find(|a| a["secret"] == gen_memory::pipeline_cookie(10).as_str());
        assert_eq!(first.map(|a| a["path"].clone()), Some(serde_json::json!(gen_memory::pipeline_target(10))));
        assert_eq!(counter(&run.stats, "http responses"), gen_memory::PIPELINE_REQUESTS as u64, "{}", run.stats);
        assert_eq!(counter(&run.stats, "pipeline_overflow"), 1, "{}", run.stats);
    }
}

#[test]
fn memcap_takes_suffixes_and_refuses_a_budget_too_small_to_work_with() {
    let dir = common::tempdir();
    let pcap = build(dir.path(), "tiny.pcap", gen_memory::head_pipeline);
    let p = pcap.to_str().expect("utf8 path");
    let ok = common::run(&["read", "-q", "--no-report", "--stats", "--memcap", "2G", p]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("of the 2048.0 MiB budget"));
    let small = common::run(&["read", "-q", "--no-report", "--memcap", "64K", p]);
    assert_eq!(small.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&small.stderr).contains("smallest budget"));
}
