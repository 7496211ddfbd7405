//! No per-message work worse than linear (issue 10, section 4): a message with many secrets costs in
//! proportion to its size on every path (detection, the alert file, the report, one-line alerts, the
//! TUI's detail view). Today's main took 25 s for one JSON login of 2,350 password fields (each alert
//! scrubbed its text of every other secret of the message); this checks how the cost grows, not a speed.

use std::time::Instant;

use plainsight::alert::{NullSink, Reveal};
use plainsight::decode::LinkType;
use plainsight::output::{lines, report, term};
use plainsight::pipeline::{Config, Engine};
use plainsight::time::Timestamp;

#[path = "../../examples/gen_hostile/linear.rs"]
#[allow(dead_code)]
mod gen_linear;

/// Analyse a login of `n` password fields and render every output of every alert: the number of
/// alerts, and the best of three wall times.
fn cost(n: usize) -> (usize, f64) {
    let frames = gen_linear::many_passwords(n);
    let mut best = f64::MAX;
    let mut alerts = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut engine = Engine::new(Config::default());
        for f in &frames {
            engine.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut NullSink);
        }
        engine.finish(&mut NullSink);
        let all = engine.book().alerts();
        let mut out = Vec::new();
        for a in all {
            let _ = term::to_json_line(&mut out, &a.record(Reveal::Redacted));
            out.extend_from_slice(lines::line(a, Reveal::Redacted).as_bytes());
            for l in a.excerpt.iter() {
                out.extend_from_slice(l.render(Reveal::Redacted).as_bytes());
            }
        }
        out.extend_from_slice(report::render(all, &[], 0, Reveal::Redacted).as_bytes());
        alerts = all.len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (alerts, best)
}

#[test]
fn a_message_with_many_secrets_costs_in_proportion_to_its_size() {
    let (small_n, big_n) = (250, 2000);
    let _ = cost(small_n); // warm up
    let (a1, t1) = cost(small_n);
    let (a2, t2) = cost(big_n);
    assert_eq!((a1, a2), (small_n, big_n), "every field is a finding");
    // Eight times the fields: linear work takes about 8 times as long, quadratic 64 times.
    let ratio = t2 / t1.max(1e-6);
    assert!(ratio < 24.0, "{small_n} fields: {t1:.4} s, {big_n} fields: {t2:.4} s (x{ratio:.1}): worse than linear");
}
