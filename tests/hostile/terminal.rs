//! Attacker text never drives the analyst's terminal (issue 10, section 2): escape sequences, C1
//! controls, CR/LF with a forged report line, bidi overrides and a 45,000-character user name, planted
//! in every field the network chooses (user names, JWT claims, Host, path, cookie and field names),
//! reach the report, the one-line alerts and the terminal UI escaped and shortened, and the alert file
//! as valid JSON with them escaped.

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use plainsight::alert::{NullSink, Reveal};
use plainsight::decode::LinkType;
use plainsight::output::lines;
use plainsight::output::term::is_unsafe;
use plainsight::pipeline::{Config, Engine};
use plainsight::time::Timestamp;
use plainsight::tui::UiState;
use plainsight::tui::event::UiEvent;
use plainsight::tui::render::draw;
use plainsight::tui::state::RunState;

use crate::common;

#[path = "../../examples/gen_hostile/terminal.rs"]
#[allow(dead_code)]
mod gen_terminal;

/// A character a terminal acts on, or that reorders what it shows.
fn bad_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| c != '\n' && is_unsafe(c))
}

fn assert_terminal_safe(what: &str, text: &str, max_line: usize) {
    if let Some((i, c)) = bad_char(text) {
        let from = text[..i].char_indices().rev().nth(40).map_or(0, |(j, _)| j);
        panic!("{what}: raw {c:?} reaches the terminal near: {:?}", &text[from..i]);
    }
    for l in text.lines() {
        assert!(l.chars().count() <= max_line, "{what}: a line of {} chars", l.chars().count());
        assert!(!l.trim_start().starts_with("CRITICAL forged_leak"), "{what}: a forged line: {l}");
    }
}

fn capture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = common::tempdir();
    let p = dir.path().join("terminal.pcap");
    gen_terminal::write(p.to_str().unwrap_or_default(), &gen_terminal::frames()).expect("write capture");
    (dir, p)
}

#[test]
fn the_report_and_stats_on_a_terminal_show_hostile_fields_escaped_and_shortened() {
    let (_d, p) = capture();
    for reveal in [false, true] {
        let mut args = vec!["read", "-q", "--threads", "1", "--stats", p.to_str().unwrap_or_default()];
        if reveal {
            args.push("--reveal");
        }
        let o = common::run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(out.matches("leak").count() >= 1, "{out}");
        assert_terminal_safe("report", &out, 5000);
        assert_terminal_safe("stats", &err, 5000);
        assert!(out.contains("\\x1b[2J") && out.contains("\\u202e") && out.contains("\\x0d\\x0a"), "{out}");
        // Bounded where it is found (the alert keeps 256 characters and the length), shortened again
        // for the terminal, an ellipsis and a length each time.
        let long = out.lines().find(|l| l.contains("user LLLL")).unwrap_or_default();
        assert!(long.contains("…(") && long.chars().count() < 400, "the long user is shortened: {long}");
    }
}

#[test]
fn the_alert_file_is_valid_json_with_control_and_bidi_characters_escaped() {
    let (_d, p) = capture();
    let o =
        common::run(&["read", "-q", "--no-report", "--threads", "1", "--alerts", "-", p.to_str().unwrap_or_default()]);
    assert!(o.status.success());
    let raw = String::from_utf8_lossy(&o.stdout);
    assert_terminal_safe("alert file", &raw, usize::MAX);
    let alerts: Vec<serde_json::Value> =
        raw.lines().map(|l| serde_json::from_str(l).expect("every alert line is JSON")).collect();
    assert!(alerts.len() >= 7, "{}", alerts.len());
    // The values decode to what crossed the wire: escaped, not altered.
    assert!(alerts.iter().any(|a| a["user"].as_str().is_some_and(|u| u.contains("\x1b[2J") && u.contains('\u{202e}'))));
}

#[test]
fn one_line_alerts_and_every_view_of_the_terminal_ui_are_safe() {
    let mut engine = Engine::new(Config::default());
    for f in gen_terminal::frames() {
        engine.process(LinkType::ETHERNET, Timestamp(f.ts), &f.data, &mut NullSink);
    }
    engine.finish(&mut NullSink);
    let alerts = engine.book().alerts().to_vec();
    assert!(alerts.len() >= 7);
    for reveal in [Reveal::Redacted, Reveal::Full] {
        for a in &alerts {
            let l = lines::line(a, reveal);
            assert_terminal_safe("live --no-tui line", &l, 6000);
            assert_eq!(l.lines().count(), 1, "one alert, one line: {l}");
        }
        let mut st = UiState::new("terminal.pcap", RunState::Finished, reveal);
        for a in &alerts {
            st.apply(UiEvent::NewAlert(Box::new(a.clone())));
        }
        let mut views = vec![screen(&st, 170, 40)];
        for _ in &alerts {
            st.key(KeyCode::Enter, KeyModifiers::NONE);
            views.push(screen(&st, 120, 80));
            st.key(KeyCode::Esc, KeyModifiers::NONE);
            st.key(KeyCode::Down, KeyModifiers::NONE);
        }
        st.key(KeyCode::Tab, KeyModifiers::NONE);
        views.push(screen(&st, 120, 40));
        // The story view.
        st.key(KeyCode::Tab, KeyModifiers::NONE);
        views.push(screen(&st, 120, 40));
        for v in &views {
            assert_terminal_safe("terminal UI", v, 170);
        }
    }
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
