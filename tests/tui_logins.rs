//! The terminal UI on the protocol captures: every login alert's row and detail view (the sniffed
//! exchange, the verdict, the replay) is drawn, and without `--reveal` no view shows a secret, neither
//! in clear nor in the base64 that Basic and SASL wrap it in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use base64::Engine as _;
use crossterm::event::{KeyCode, KeyModifiers};
use plainsight::alert::{Collector, Reveal};
use plainsight::pipeline::{Engine, offline};
use plainsight::tui::event::UiEvent;
use plainsight::tui::render::draw;
use plainsight::tui::state::{RunState, UiState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn alerts(name: &str) -> Vec<plainsight::alert::Alert> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("captures/{name}.pcap"));
    let mut engine = Engine::new(Default::default());
    let mut sink = Collector::default();
    offline::read_file(&mut engine, &path, None, &mut sink, &mut |_, _, _| {}).expect("read capture");
    engine.book().alerts().to_vec()
}

fn screen(st: &UiState) -> String {
    let (w, h) = (140, 50);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, st)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect()
}

/// Every base64 run of `text` that decodes to something containing `secret`.
fn base64_carrying(text: &str, secret: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=".contains(c)))
        .filter(|w| w.len() >= 8)
        .filter_map(|w| base64::engine::general_purpose::STANDARD_NO_PAD.decode(w.trim_end_matches('=')).ok())
        .any(|d| d.windows(secret.len()).any(|x| x == secret.as_bytes()))
}

#[test]
fn login_rows_and_details_show_protocol_verdict_and_exchange_but_no_secret() {
    for name in ["ftp", "telnet", "mail", "ldap", "redis", "mqtt", "postgres", "socks5", "proxy", "snmp", "kinds"] {
        let all = alerts(name);
        assert!(!all.is_empty(), "{name}");
        let mut st = UiState::new(name, RunState::Reading, Reveal::Redacted);
        for a in &all {
            st.apply(UiEvent::NewAlert(Box::new(a.clone())));
        }
        let table = screen(&st);
        let mut views = vec![table.clone()];
        for _ in 0..all.len() {
            st.key(KeyCode::Enter, KeyModifiers::NONE);
            let detail = screen(&st);
            if name != "kinds" {
                assert!(detail.contains("verdict: "), "{name}: detail without verdict:\n{detail}");
                assert!(detail.contains("What an attacker on the network sees"), "{detail}");
            }
            views.push(detail);
            st.key(KeyCode::Esc, KeyModifiers::NONE);
            st.key(KeyCode::Down, KeyModifiers::NONE);
        }
        if name != "kinds" {
            assert!(
                table.contains("accepted") || table.contains("no answer") || table.contains("refused"),
                "{name}: the table shows verdicts:\n{table}"
            );
        }
        for a in &all {
            let s = a.secret.expose();
            if s.len() < 4 {
                continue;
            }
            for v in &views {
                assert!(!v.contains(s), "{name}: a view shows the secret of {}:\n{v}", a.kind.as_str());
                assert!(!base64_carrying(v, s), "{name}: a view shows the secret in base64:\n{v}");
            }
        }
    }
}

#[test]
fn reveal_shows_the_sniffed_login_exchange() {
    let all = alerts("mail");
    let mut st = UiState::new("mail", RunState::Reading, Reveal::Full);
    for a in &all {
        st.apply(UiEvent::NewAlert(Box::new(a.clone())));
    }
    st.key(KeyCode::Enter, KeyModifiers::NONE);
    let detail = screen(&st);
    assert!(detail.contains("C: "), "the client's lines as sniffed:\n{detail}");
    assert!(detail.contains("S: "), "the server's lines as sniffed:\n{detail}");
}
