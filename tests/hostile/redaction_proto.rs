//! Redaction by construction in the cleartext protocols (issue 10, section 1): a login's transcript
//! carries every credential of the connection as a slot, with no count limit, and a password typed at
//! the user prompt is a slot in the user field too. The real binary runs on captures built by
//! `examples/gen_hostile/proto.rs`; the terminal UI is drawn from the same engine the binary runs.

#[path = "../../examples/gen_hostile/proto.rs"]
#[allow(dead_code)]
mod proto;

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyModifiers};
use plainsight::alert::{Collector, Reveal};
use plainsight::pipeline::{Engine, offline};
use plainsight::tui::event::UiEvent;
use plainsight::tui::render::draw;
use plainsight::tui::state::{RunState, UiState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::common;

fn capture(dir: &Path, name: &str, frames: &[plainsight_synth::Frame]) -> PathBuf {
    let p = dir.join(name);
    proto::write(p.to_str().expect("utf8"), frames).expect("write capture");
    p
}

/// `read` with the report on stdout, the alert stream on stdout too (`--alerts -`) and `--stats` on
/// stderr: every text output of a run, in one string.
fn every_output(pcap: &Path, extra: &[&str]) -> String {
    let mut args = vec!["read", "-q", "--stats", "--alerts", "-"];
    args.extend_from_slice(extra);
    args.push(pcap.to_str().expect("utf8"));
    let o = common::run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The alert objects as the run ends (`--alerts-at-end`: a group of refused attempts with its users).
fn alerts(pcap: &Path) -> Vec<serde_json::Value> {
    common::alerts_of(pcap, &["--alerts-at-end"])
}

/// The table and every detail view of the terminal UI (redacted), as text.
fn tui_views(pcap: &Path) -> Vec<String> {
    let mut engine = Engine::new(Default::default());
    let mut sink = Collector::default();
    offline::read_file(&mut engine, pcap, None, &mut sink, &mut |_, _, _| {}).expect("read capture");
    let all = engine.book().alerts().to_vec();
    assert!(!all.is_empty());
    let mut st = UiState::new("hostile", RunState::Reading, Reveal::Redacted);
    for a in &all {
        st.apply(UiEvent::NewAlert(Box::new(a.clone())));
    }
    let screen = |st: &UiState| {
        let (w, h) = (160, 80);
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        t.draw(|f| draw(f, st)).expect("draw");
        let buf = t.backend().buffer().clone();
        (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect::<String>()
    };
    let mut views = vec![screen(&st)];
    for _ in 0..all.len() {
        st.key(KeyCode::Enter, KeyModifiers::NONE);
        views.push(screen(&st));
        st.key(KeyCode::Esc, KeyModifiers::NONE);
        st.key(KeyCode::Down, KeyModifiers::NONE);
    }
    views
}

fn assert_absent(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} shows {s:?}:\n{text}");
    }
}

#[test]
fn forty_refused_ftp_logins_then_an_accepted_one_show_no_password_in_any_output() {
    let dir = common::tempdir();
    let (frames, passwords) = proto::ftp_brute(40);
    let pcap = capture(dir.path(), "ftp-brute.pcap", &frames);

    let out = every_output(&pcap, &[]);
    assert!(out.contains("ftp_login"), "the logins are reported:\n{out}");
    assert_absent("read (report, --alerts -, --stats)", &out, &passwords);
    // The transcript of the connection was full and the window of attempts overflowed: both counted.
    assert!(out.contains("transcript_lines_dropped: "), "{out}");
    assert!(out.contains(&format!("proto_held_full: {}", 41 - plainsight::proto::conn::MAX_HELD)), "{out}");

    // The detail view shows the sniffed exchange: the first passwords of the connection are in it, as
    // slots (a scrub that remembered the last 32 secrets showed the first 8 in clear).
    for v in tui_views(&pcap) {
        assert_absent("the terminal UI", &v, &passwords);
    }

    // The test can fail: revealed, the outputs do carry the passwords.
    let revealed = every_output(&pcap, &["--reveal"]);
    assert!(revealed.contains(proto::FTP_RIGHT) && revealed.contains(&passwords[0]), "{revealed}");
}

#[test]
fn a_password_typed_at_the_telnet_login_prompt_never_appears_in_clear() {
    let dir = common::tempdir();
    for after in [false, true] {
        let pcap = capture(dir.path(), &format!("telnet-{after}.pcap"), &proto::telnet_mistyped(after));
        let secret = [proto::TELNET_PASSWORD.to_string()];

        let out = every_output(&pcap, &[]);
        assert!(out.contains("telnet_login"), "{out}");
        assert_absent("read (report, --alerts -, --stats)", &out, &secret);
        for v in tui_views(&pcap) {
            assert_absent("the terminal UI", &v, &secret);
        }

        // The mistyped attempt is reported (refused attempts fold into one alert): in its group's users
        // list and, when it is the group's first attempt, in the user field, as a slot.
        let all = alerts(&pcap);
        let refused = all
            .iter()
            .find(|a| a["verdict"] == "refused")
            .unwrap_or_else(|| panic!("the refused attempts are reported: {all:#?}"));
        let slot = |u: &str| u.starts_with("…[") && u.contains(" chars, fp ");
        let users: Vec<&str> = refused["users"].as_array().into_iter().flatten().filter_map(|u| u.as_str()).collect();
        assert!(users.iter().any(|u| slot(u)), "after={after}: users {users:?}");
        assert!(users.iter().all(|u| *u == proto::TELNET_USER || slot(u)), "after={after}: users {users:?}");
        let user = refused["user"].as_str().unwrap_or_default();
        assert_eq!(slot(user), !after, "after={after}: user {user:?}");
        // The right user stays a name.
        assert!(all.iter().any(|a| a["user"] == proto::TELNET_USER), "{all:#?}");
    }
}
