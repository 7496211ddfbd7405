//! The parsers of the more protocols (issue 11) against structure the attacker chooses: an XMPP stream
//! nested 100,000 elements deep costs time in proportion to its bytes (no element stack, no rescans),
//! and the login after it is still found.

use std::time::Instant;

use plainsight::alert::{NullSink, Reveal};
use plainsight::decode::LinkType;
use plainsight::pipeline::{Config, Engine};
use plainsight::time::Timestamp;

#[path = "../../examples/gen_hostile/proto_more.rs"]
#[allow(dead_code)]
mod gen_more;

/// Runs a stream `n` elements deep: the secrets of the alerts, and the best of three wall times.
fn nesting(n: usize) -> (Vec<String>, f64) {
    let frames = gen_more::xmpp_nesting(n);
    let mut best = f64::MAX;
    let mut secrets = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut engine = Engine::new(Config::default());
        for f in &frames {
            engine.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut NullSink);
        }
        engine.finish(&mut NullSink);
        best = best.min(t.elapsed().as_secs_f64());
        secrets = engine.book().alerts().iter().map(|a| a.record(Reveal::Full).secret).collect();
    }
    (secrets, best)
}

#[test]
fn an_xmpp_stream_nested_100000_deep_costs_linear_time_and_its_login_is_found() {
    let (small, big) = (12_500, 100_000);
    let _ = nesting(small); // warm up
    let (s1, t1) = nesting(small);
    let (s2, t2) = nesting(big);
    assert_eq!(s1, vec![gen_more::NESTING_PASSWORD.to_string()]);
    assert_eq!(s2, vec![gen_more::NESTING_PASSWORD.to_string()]);
    // Eight times the depth: linear work takes about 8 times as long, quadratic 64 times.
    let ratio = t2 / t1.max(1e-6);
    assert!(ratio < 24.0, "{small} deep: {t1:.4} s, {big} deep: {t2:.4} s (x{ratio:.1}): worse than linear");
}
