#![allow(clippy::unwrap_used)]
//! The delivery rules against a fake engine that can be taken away and brought back.

use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

#[derive(Default)]
struct Engine {
    up: bool,
    got: Vec<String>,
    /// Fail the next N sends even when up (a batch lost on the way).
    fail_sends: usize,
}

struct Fake(Arc<Mutex<Engine>>, bool);

impl Transport for Fake {
    fn connected(&self) -> bool {
        self.1
    }
    fn connect(&mut self) -> Result<(), String> {
        if self.0.lock().unwrap().up {
            self.1 = true;
            Ok(())
        } else {
            Err("connection refused".into())
        }
    }
    fn disconnect(&mut self) {
        self.1 = false;
    }
    fn send(&mut self, lines: &[String]) -> Result<(), String> {
        let mut e = self.0.lock().unwrap();
        if !e.up {
            return Err("broken pipe".into());
        }
        if e.fail_sends > 0 {
            e.fail_sends -= 1;
            return Err("reply lost".into());
        }
        e.got.extend(lines.iter().cloned());
        Ok(())
    }
}

fn engine(up: bool) -> Arc<Mutex<Engine>> {
    Arc::new(Mutex::new(Engine { up, ..Engine::default() }))
}

fn opts(spool: Option<&std::path::Path>, timeout_ms: u64) -> SinkOptions {
    SinkOptions {
        spool: spool.map(|p| p.to_path_buf()),
        spool_max: DEFAULT_SPOOL_MAX,
        timeout: Duration::from_millis(timeout_ms),
        budget: None,
    }
}

fn start(e: &Arc<Mutex<Engine>>, o: &SinkOptions) -> Sinks {
    start_many(e, o, &["fake"])
}

/// One sink per name, all delivering to `e`.
fn start_many(e: &Arc<Mutex<Engine>>, o: &SinkOptions, names: &[&str]) -> Sinks {
    let quiet: Notify = Arc::new(|_: &str| {});
    Sinks::start_with(
        names.iter().map(|n| (n.to_string(), Box::new(Fake(e.clone(), false)) as Box<dyn Transport>)).collect(),
        o,
        Box::new(|_: &Alert, _| String::new()),
        quiet,
    )
    .unwrap()
}

fn lines(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("{{\"id\":{i}}}")).collect()
}

fn wait_for(e: &Arc<Mutex<Engine>>, n: usize) {
    for _ in 0..400 {
        if e.lock().unwrap().got.len() >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn with_the_engine_up_every_event_is_delivered_in_order_and_nothing_spooled() {
    let e = engine(true);
    let mut s = start(&e, &opts(None, 2000));
    for l in lines(0, 5000) {
        s.push_line(l);
    }
    let r = s.finish().remove(0);
    assert_eq!(e.lock().unwrap().got, lines(0, 5000));
    assert_eq!((r.queued, r.delivered, r.spooled, r.replayed, r.left), (5000, 5000, 0, 0, 0));
}

#[test]
fn an_outage_holds_events_and_the_engine_back_gets_them_first_in_order() {
    let e = engine(false);
    let mut s = start(&e, &opts(None, 5000));
    for l in lines(0, 300) {
        s.push_line(l);
    }
    std::thread::sleep(Duration::from_millis(200));
    e.lock().unwrap().up = true;
    for l in lines(300, 600) {
        s.push_line(l);
    }
    let r = s.finish().remove(0);
    assert_eq!(e.lock().unwrap().got, lines(0, 600));
    assert_eq!((r.delivered, r.left), (600, 0));
    assert!(r.spooled >= 300 && r.replayed == r.spooled, "{r:?}");
    assert!(r.failures >= 1, "{r:?}");
}

#[test]
fn a_lost_batch_is_sent_again_at_least_once_and_order_is_kept() {
    let e = engine(true);
    e.lock().unwrap().fail_sends = 2;
    let mut s = start(&e, &opts(None, 5000));
    for l in lines(0, 1000) {
        s.push_line(l);
    }
    let r = s.finish().remove(0);
    assert_eq!(e.lock().unwrap().got, lines(0, 1000));
    assert_eq!((r.delivered, r.left, r.failures), (1000, 0, 2));
}

#[test]
fn the_spool_outlives_the_run_with_0600_files_and_the_next_run_delivers_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let away = engine(false);
    let mut s = start(&away, &opts(Some(&spool), 300));
    for l in lines(0, 700) {
        s.push_line(l);
    }
    let r = s.finish().remove(0);
    assert_eq!((r.spooled, r.left, r.delivered), (700, 700, 0));
    let sub = r.spool.clone().unwrap();
    assert!(sub.starts_with(&spool));
    assert!(r.leftover_line().unwrap().contains("700 events stay spooled in"), "{:?}", r.leftover_line());
    assert_eq!(std::fs::metadata(&spool).unwrap().permissions().mode() & 0o777, 0o700);
    let mut files = 0;
    for f in std::fs::read_dir(&sub).unwrap() {
        let m = f.unwrap().metadata().unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        files += 1;
    }
    assert!(files >= 3, "segment, head, lock, sink.url");

    // The next run: its own events come after the earlier run's.
    let up = engine(true);
    let mut s = start(&up, &opts(Some(&spool), 3000));
    wait_for(&up, 700);
    for l in lines(700, 900) {
        s.push_line(l);
    }
    let r = s.finish().remove(0);
    assert_eq!(up.lock().unwrap().got, lines(0, 900));
    assert_eq!((r.replayed, r.left), (700, 0), "{r:?}");
    assert!(r.leftover_line().is_none());
    // Nothing left behind but the lock and the sink's name.
    let left: Vec<String> =
        std::fs::read_dir(&sub).unwrap().map(|f| f.unwrap().file_name().into_string().unwrap()).collect();
    assert!(left.iter().all(|n| n == "lock" || n == "sink.url"), "{left:?}");
}

#[test]
fn the_queue_and_the_memory_backlog_are_reserved_off_the_memory_budget_and_bound_what_an_outage_holds() {
    // An 8 MiB budget: the queue asks a 32nd of it (256 KiB), the memory backlog a 16th (512 KiB),
    // not their 1 MiB and 8 MiB: the book of leaks keeps its part.
    let budget = crate::memory::Budget::new(8 << 20);
    let e = engine(false);
    let mut o = opts(None, 100);
    o.budget = Some(budget.clone());
    let mut s = start(&e, &o);
    let backlog = (8u64 << 20) / 16;
    assert_eq!(budget.reserved() as u64, (8 << 20) / 32 + backlog);
    let line = |i: usize| format!("{{\"id\":{i:05},\"pad\":\"{}\"}}", "x".repeat(1000));
    for i in 0..5000 {
        s.push_line(line(i));
    }
    let r = s.finish().remove(0);
    let cost = spool::line_cost(&line(1000));
    // What the backlog kept is what its reservation holds, each line counted with its allocation.
    assert_eq!(r.left, backlog / cost, "{r:?}");
    assert_eq!(r.dropped_spool_full, 5000 - r.left, "{r:?}");
    assert_eq!(budget.reserved(), 0, "given back with the sinks");
}

#[test]
fn sinks_started_first_on_the_smallest_budget_leave_the_book_of_leaks_its_part() {
    let budget = crate::memory::Budget::new(1 << 20);
    let e = engine(true);
    let mut o = opts(None, 100);
    o.budget = Some(budget.clone());
    // Two sinks, started before the engine (as live and read do).
    let s = start_many(&e, &o, &["a", "b"]);
    let book = budget.reserve(crate::pipeline::book_memory(&budget));
    assert_eq!(book.bytes(), crate::pipeline::book_memory(&budget));
    drop(s.finish());
}

#[test]
fn a_queue_full_in_bytes_makes_the_analysis_wait_and_loses_nothing() {
    let budget = crate::memory::Budget::new(1 << 20);
    let e = engine(true);
    let mut o = opts(None, 5000);
    o.budget = Some(budget.clone());
    let mut s = start(&e, &o);
    // A 1 MiB budget: 32 KiB for the queue, some 30 events of 1 KiB at a time.
    let big: Vec<String> = (0..3000).map(|i| format!("{{\"id\":{i},\"pad\":\"{}\"}}", "x".repeat(1000))).collect();
    for l in &big {
        s.push_line(l.clone());
    }
    let r = s.finish().remove(0);
    assert_eq!(e.lock().unwrap().got, big);
    assert_eq!((r.delivered, r.dropped_spool_full), (3000, 0), "{r:?}");
}

#[test]
fn a_full_spool_drops_new_events_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(false);
    let mut o = opts(Some(dir.path()), 100);
    o.spool_max = 10 * 10; // ten lines of `{"id":NN}` and their newlines
    let mut s = start(&e, &o);
    for l in lines(10, 40) {
        s.push_line(l);
    }
    let r = s.finish().remove(0);
    assert_eq!((r.spooled, r.dropped_spool_full, r.left), (10, 20, 10), "{r:?}");
    assert!(r.leftover_line().unwrap().contains("20 events dropped"));
}

#[test]
fn a_spool_cut_by_a_crash_skips_the_damaged_lines_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("s");
    {
        let mut sp = spool::DiskSpool::open(&sub, 1 << 20).unwrap();
        sp.append(&lines(0, 3)).unwrap();
        sp.close().unwrap();
    }
    // A damaged line, then a line cut short at the end.
    let seg = std::fs::read_dir(&sub)
        .unwrap()
        .map(|f| f.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(b"\xff\xfe\n{\"id\":3}\n{\"id\":4");
    std::fs::write(&seg, bytes).unwrap();
    let mut sp = spool::DiskSpool::open(&sub, 1 << 20).unwrap();
    assert_eq!(sp.events(), 5);
    sp.append(&lines(5, 6)).unwrap();
    let mut got = Vec::new();
    loop {
        let b = sp.peek(2).unwrap();
        if b.is_empty() {
            break;
        }
        sp.consume(b.len()).unwrap();
        got.extend(b);
    }
    let mut want = lines(0, 4);
    want.extend(lines(5, 6));
    assert_eq!(got, want);
    assert_eq!((sp.events(), sp.damaged()), (0, 2));
}

#[test]
fn a_spool_directory_others_can_write_or_another_run_holds_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = spool::DiskSpool::open(&open, 1 << 20).err().unwrap().to_string();
    assert!(e.contains("writable by others"), "{e}");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&open, &link).unwrap();
    let e = spool::DiskSpool::open(&link, 1 << 20).err().unwrap().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    let mine = dir.path().join("mine");
    let _held = spool::DiskSpool::open(&mine, 1 << 20).unwrap();
    let e = spool::DiskSpool::open(&mine, 1 << 20).err().unwrap().to_string();
    assert!(e.contains("in use by another plainsight run"), "{e}");
}
