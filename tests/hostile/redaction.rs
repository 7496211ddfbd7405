//! Redaction by construction, as a property (issue 10, section 1): two captures that differ only in one
//! secret of the same length give byte-identical outputs on every path (alert file, report, one-line
//! alerts, every view of the terminal UI) once fingerprints are masked, for every kind and protocol,
//! including secrets equal to words of the template, the user name, the host and a path segment.
//! A scrubber that searches finished text fails this at once: the blanked word gives the secret away.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyModifiers};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use plainsight::alert::{Alert, NullSink, Reveal};
use plainsight::decode::LinkType;
use plainsight::output::{lines, report, term};
use plainsight::pipeline::{Config, Engine};
use plainsight::time::Timestamp;
use plainsight::tui::UiState;
use plainsight::tui::event::UiEvent;
use plainsight::tui::render::draw;
use plainsight::tui::state::RunState;
use plainsight_synth::Frame;

#[path = "../../examples/gen_hostile/redaction.rs"]
#[allow(dead_code)]
mod gen_redaction;
use gen_redaction::{Scenario, Shape, TRAPS, scenarios};

/// The alerts of a capture, analysed in process as `read --threads 1` does.
fn alerts(frames: &[Frame]) -> (Vec<Alert>, Engine) {
    // The follow view is one more output of every secret: kept here as the terminal UI keeps it.
    let mut engine = Engine::new(Config { follow: true, ..Config::default() });
    engine.set_capture_name("pair.pcap");
    let mut frames: Vec<&Frame> = frames.iter().collect();
    frames.sort_by_key(|f| f.ts);
    for f in frames {
        engine.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut NullSink);
    }
    engine.finish(&mut NullSink);
    (engine.book().alerts().to_vec(), engine)
}

fn screen(st: &UiState, w: u16, h: u16) -> String {
    let Ok(mut t) = Terminal::new(TestBackend::new(w, h));
    let _ = t.draw(|f| draw(f, st));
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Every redacted output of the capture, concatenated: JSON lines, the one-line alerts, the report,
/// and the terminal UI (the table at two widths, then the detail view of every leak).
fn outputs(frames: &[Frame]) -> (String, usize) {
    let (alerts, engine) = alerts(frames);
    let mut out = String::new();
    for a in &alerts {
        let mut j = Vec::new();
        let _ = term::to_json_line(&mut j, &a.record(Reveal::Redacted));
        out.push_str(&String::from_utf8_lossy(&j));
        out.push_str(&lines::line(a, Reveal::Redacted));
        out.push('\n');
    }
    out.push_str(&report::render(&alerts, &engine.hosts().sorted(), engine.stats().engine.tls_flows, Reveal::Redacted));
    let mut st = UiState::new("pair.pcap", RunState::Finished, Reveal::Redacted);
    for a in &alerts {
        st.apply(UiEvent::NewAlert(Box::new(a.clone())));
    }
    out.push_str(&screen(&st, 170, 40));
    out.push_str(&screen(&st, 100, 30));
    for _ in &alerts {
        st.key(KeyCode::Enter, KeyModifiers::NONE);
        out.push_str(&screen(&st, 120, 60));
        // The follow view: the leak's whole connection, message by message.
        st.key(KeyCode::Char('f'), KeyModifiers::NONE);
        out.push_str(&screen(&st, 120, 200));
        st.key(KeyCode::Esc, KeyModifiers::NONE);
        st.key(KeyCode::Esc, KeyModifiers::NONE);
        st.key(KeyCode::Down, KeyModifiers::NONE);
    }
    // The hosts and story views.
    st.key(KeyCode::Tab, KeyModifiers::NONE);
    out.push_str(&screen(&st, 120, 40));
    st.key(KeyCode::Tab, KeyModifiers::NONE);
    out.push_str(&screen(&st, 120, 60));
    (mask_fingerprints(&out), alerts.len())
}

/// Fingerprints differ by design (they identify the secret); everything else must not.
fn mask_fingerprints(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    while i < b.len() {
        // A run of exactly 12 lower-case hex digits not inside a longer word.
        if is_hex(b[i]) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let n = b[i..].iter().take_while(|&&c| is_hex(c)).count();
            if n == 12 && b.get(i + 12).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                out.push_str("FFFFFFFFFFFF");
                i += 12;
                continue;
            }
            // A fingerprint shortened by a table column (`fp 6b8467df62c…`): still only the
            // fingerprint, cut where the column ends.
            if n < 12 && s[..i].ends_with("fp ") && s[i + n..].starts_with('…') {
                out.push_str(&"F".repeat(n));
                i += n;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `a` and `b` (same length, both of the scenario's shape) give the same redacted outputs.
fn check_pair(sc: &Scenario, a: &str, b: &str) -> Result<(), String> {
    let (oa, na) = outputs(&(sc.build)(a));
    let (ob, nb) = outputs(&(sc.build)(b));
    if na == 0 || nb == 0 {
        return Err(format!("{}: no alert for {a:?} or {b:?} ({na}, {nb})", sc.name));
    }
    if oa != ob {
        let (la, lb) = oa
            .lines()
            .zip(ob.lines())
            .find(|(x, y)| x != y)
            .map(|(x, y)| (x.to_string(), y.to_string()))
            .unwrap_or_default();
        return Err(format!("{}: outputs differ for secrets {a:?} and {b:?}:\n  {la}\n  {lb}", sc.name));
    }
    // A trap word shows anyway (it is the template's): only a random secret can be looked for.
    for secret in [a, b] {
        if secret.len() >= 6 && !TRAPS.iter().any(|t| secret.contains(t)) && oa.contains(secret) {
            return Err(format!("{}: the secret {secret:?} shows in clear", sc.name));
        }
    }
    Ok(())
}

/// Another secret like `like`: each letter and digit replaced by a random one of its class, every
/// other character kept, so both have the same length on the wire too (a percent-encoded `%` is three
/// bytes: the `Content-Length` of the request tells that much to anyone, redacted or not).
fn random_like(like: &str, seed: u64) -> String {
    let mut x = seed | 1;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    like.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                (b'a' + next(26) as u8) as char
            } else if c.is_ascii_uppercase() {
                (b'A' + next(26) as u8) as char
            } else if c.is_ascii_digit() {
                (b'0' + next(10) as u8) as char
            } else {
                c
            }
        })
        .collect()
}

/// A secret of the scenario's shape and of length `n`, from `seed` (never a trap word).
fn random_secret(shape: Shape, n: usize, seed: u64) -> String {
    let alphabet: &[u8] = match shape {
        Shape::Password => b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&*+,-./:;<=>?@[]^_{|}~",
        Shape::Token | Shape::JwtSignature => b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_",
    };
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

#[test]
fn a_secret_equal_to_a_template_word_the_user_the_host_or_a_path_segment_changes_nothing_else() {
    let mut failures = Vec::new();
    for sc in scenarios() {
        let mut tried = 0;
        for trap in TRAPS {
            // The trap itself, and padded to the shape's minimum (a token of 8 containing the word).
            let word = if sc.shape.accepts(trap) { trap.to_string() } else { format!("{trap}{}", "x".repeat(8)) };
            if !sc.shape.accepts(&word) {
                continue;
            }
            let other = random_like(&word, word.len() as u64 * 7919 + 17);
            tried += 1;
            if let Err(e) = check_pair(&sc, &word, &other) {
                failures.push(e);
            }
        }
        assert!(tried > 0, "{}: no trap word fits its shape", sc.name);
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn two_captures_differing_in_one_secret_of_the_same_length_give_the_same_redacted_outputs(
        index in 0usize..64, len in 8usize..40, seed_a in any::<u64>(), seed_b in any::<u64>()
    ) {
        let all = scenarios();
        let sc = &all[index % all.len()];
        let a = random_secret(sc.shape, len, seed_a);
        let b = random_like(&a, seed_b);
        prop_assume!(a != b);
        if let Err(e) = check_pair(sc, &a, &b) {
            return Err(TestCaseError::fail(e));
        }
    }
}

#[test]
fn every_scenario_is_detected_and_revealing_shows_its_secret() {
    // The property above is only worth something if each scenario really reports its secret.
    for sc in scenarios() {
        let secret = random_secret(sc.shape, 16, 99);
        let (alerts, _) = alerts(&(sc.build)(&secret));
        assert!(!alerts.is_empty(), "{}: nothing reported", sc.name);
        let shown: Vec<String> = alerts.iter().map(|a| a.record(Reveal::Full).secret).collect();
        assert!(shown.iter().any(|s| s.contains(&secret)), "{}: {shown:?} does not carry {secret}", sc.name);
        let _ = Arc::new(());
    }
}
