//! Robustness over the public capture corpus in `../shared/corpus` (beside the checkout, here and in CI;
//! without it the test calls `common::missing`: a failure under CI, a "skipped" note elsewhere).
//!
//! Every capture must be read without a panic or a hang: exit 0, or, for the damaged ones (categories
//! `format-truncated`, `format-corrupt`, `robust-fuzzed`), exit 0 or 2 where 2 comes with a one-line
//! error naming the file. Nothing else is accepted (101 is a panic; a kill is a hang).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DAMAGED: [&str; 3] = ["format-truncated", "format-corrupt", "robust-fuzzed"];
const PER_FILE_LIMIT: Duration = Duration::from_secs(60);

fn corpus_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    d.join("MANIFEST.tsv").is_file().then_some(d)
}

/// Run with a time limit; `None` when it had to be killed.
fn run_limited(args: &[&str]) -> Option<(Option<i32>, String)> {
    let mut child = Command::new(common::bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn plainsight");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            return Some((status.code(), err));
        }
        if start.elapsed() > PER_FILE_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_corpus_capture_is_read_without_panic_or_hang() {
    let Some(dir) = corpus_dir() else {
        common::missing("../shared/corpus/MANIFEST.tsv is absent (the public corpus beside the checkout)");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut absent = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(category)) = (cols.first(), cols.get(9)) else { continue };
        let path = dir.join(file);
        if !path.is_file() {
            absent.push(*file);
            continue;
        }
        checked += 1;
        let p = path.to_str().expect("utf8 path");
        let Some((code, err)) = run_limited(&["read", "-q", "--stats", p]) else {
            failures.push(format!("{file}: hung (killed after {PER_FILE_LIMIT:?})"));
            continue;
        };
        // Damaged files: the damaged categories, and any row whose notes say the file is truncated.
        let notes = format!("{} {}", cols.get(6).unwrap_or(&""), cols.get(7).unwrap_or(&"")).to_ascii_lowercase();
        let damaged = DAMAGED.contains(category) || notes.contains("truncated");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("plainsight: error")).collect();
        match code {
            Some(0) => {}
            Some(2) if damaged => {
                if errors.len() != 1 || !errors[0].contains(file.rsplit('/').next().unwrap_or(file)) {
                    failures.push(format!("{file}: exit 2 without a one-line error naming the file: {err}"));
                }
            }
            other => failures.push(format!("{file} ({category}): exit {other:?}: {}", err.trim())),
        }
    }
    if !absent.is_empty() {
        common::missing(&format!("{} corpus files listed in MANIFEST.tsv are absent: {absent:?}", absent.len()));
    }
    assert!(checked > 0, "manifest listed no readable capture");
    assert!(failures.is_empty(), "{} of {checked} captures failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{checked} corpus captures read cleanly");
}
