//! UI snapshots on ratatui's TestBackend, key handling, and redaction in every view.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::event::{StatsMsg, UiEvent};
use super::render::draw;
use super::state::{RunState, Sort, UiState, View};
use crate::alert::{Alert, AlertId, Context, Reveal, Secret, Text};
use crate::detect::{Confidence, Finding, LeakKind, SecretClass, jwt};
use crate::pipeline::HostStats;
use crate::time::Timestamp;

const TOKEN: &str = "tok-secret-value-0123456789";
const PASSWORD: &str = "Hunter2-secret-pw";

fn alert(id: u64, kind: LeakKind, class: SecretClass, secret: &str, user: Option<&str>, path: &str) -> Alert {
    let jwt = if secret.starts_with("eyJ") { jwt::analyse(secret, Timestamp::from_secs(1_795_000_000)) } else { None };
    let f = Finding {
        kind,
        class,
        confidence: Confidence::High,
        secret: Secret::new(secret),
        user: user.map(Text::user),
        location: "header Authorization".into(),
        evidence: "Bearer".into(),
        jwt: jwt.map(Box::new),
        login: None,
        span: None,
    };
    // The excerpt as the detect stage builds it: the credential is a slot.
    let mut auth = Text::lit("Authorization: Bearer ");
    auth.push_secret(Secret::new(secret));
    let ctx = Context {
        ts: Timestamp::from_secs(1_795_000_000 + id as i64),
        client: "10.77.0.1:43000".parse().unwrap(),
        server: "10.77.0.2:80".parse().unwrap(),
        host: Some("shop.lab".into()),
        method: Some("GET".into()),
        path: Some(path.into()),
        capture: Arc::from("demo.pcap"),
        excerpt: Arc::from(vec![Text::lit(format!("GET {path} HTTP/1.1")), Text::lit("Host: shop.lab"), auth]),
        conversation: None,
        packet: 0,
    };
    Alert::new(AlertId(id), &f, &ctx)
}

fn state(reveal: Reveal) -> UiState {
    let mut st = UiState::new("demo.pcap", RunState::Reading, reveal);
    let jwt_tok = plainsight_synth::jwt(r#"{"sub":"alice","roles":["admin"],"exp":1795003600}"#);
    st.apply(UiEvent::NewAlert(Box::new(alert(
        1,
        LeakKind::BearerOpaque,
        SecretClass::Token,
        TOKEN,
        None,
        "/api/orders",
    ))));
    st.apply(UiEvent::NewAlert(Box::new(alert(
        2,
        LeakKind::FormLogin,
        SecretClass::Password,
        PASSWORD,
        Some("alice"),
        "/login",
    ))));
    st.apply(UiEvent::NewAlert(Box::new(alert(
        3,
        LeakKind::BearerJwt,
        SecretClass::Token,
        &jwt_tok,
        Some("alice"),
        "/api/profile",
    ))));
    st.apply(UiEvent::Repeat { id: AlertId(1), count: 42, last_seen: Timestamp::from_secs(1_795_000_100) });
    let mut m = StatsMsg { elapsed: 1.0, input_bytes: 1_000_000, ..StatsMsg::default() };
    m.snapshot.engine.packets = 1000;
    m.snapshot.engine.tls_flows = 2;
    m.hosts = vec![
        HostStats {
            name: "shop.lab".into(),
            service: "http".into(),
            addr: Some("10.77.0.2:80".parse().unwrap()),
            http_requests: 7,
            credentials: 3,
            https_redirects: 0,
            tls_flows: 2,
        },
        HostStats {
            name: "10.77.0.2".into(),
            service: "ftp".into(),
            addr: Some("10.77.0.2:21".parse().unwrap()),
            credentials: 2,
            ..HostStats::default()
        },
    ];
    st.apply(UiEvent::Stats(Box::new(m)));
    st
}

fn screen(st: &UiState, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, st)).unwrap();
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

#[test]
fn leaks_view_at_80x24_shows_header_rows_and_footer() {
    let st = state(Reveal::Redacted);
    let s = screen(&st, 80, 24);
    assert!(s.contains("plainsight demo.pcap"), "{s}");
    assert!(s.contains("TLS flows 2") && s.contains("leaks 3"), "{s}");
    assert!(s.contains("CRIT") && s.contains("form_login") && s.contains("bearer_opaque"), "{s}");
    assert!(s.contains("q quit"), "{s}");
    // Sorted by severity: the password first.
    let crit = s.find("CRIT").unwrap();
    let high = s.find("HIGH").unwrap();
    assert!(crit < high);
}

#[test]
fn material_is_marked_hash_and_counted_apart_in_the_leaks_view_and_detail() {
    let mut st = state(Reveal::Redacted);
    st.apply(UiEvent::NewAlert(Box::new(alert(
        9,
        LeakKind::OtherAuth,
        SecretClass::Material,
        "Digest username=\"bob\", response=\"0123456789abcdef0123456789abcdef\"",
        Some("bob"),
        "/digest",
    ))));
    let s = screen(&st, 100, 24);
    assert!(s.contains("leaks 3, material 1"), "{s}");
    assert!(s.contains("(1 hash material)"), "{s}");
    let row = s.lines().find(|l| l.contains("other_auth")).unwrap_or_else(|| panic!("{s}"));
    assert!(row.contains("HASH") && !row.contains("MED"), "{row}");
    st.filter = "digest".into();
    st.key(KeyCode::Enter, KeyModifiers::NONE);
    let d = screen(&st, 100, 40);
    assert!(d.contains("class: material") && d.contains("nothing to replay"), "{d}");
    assert!(!d.contains("0123456789abcdef0123456789abcdef"), "{d}");
}

#[test]
fn wide_terminal_adds_the_secret_column_redacted() {
    let st = state(Reveal::Redacted);
    let s = screen(&st, 160, 40);
    assert!(s.contains("Secret") && s.contains("fp "), "{s}");
    assert!(s.contains("…[17 chars"), "a password shows no prefix: {s}");
}

#[test]
fn detail_view_shows_request_jwt_replay_and_https_note() {
    let mut st = state(Reveal::Redacted);
    st.filter = "profile".into();
    st.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(st.view, View::Detail);
    let s = screen(&st, 100, 40);
    assert!(s.contains("What an attacker on the network sees"), "{s}");
    assert!(s.contains("GET /api/profile HTTP/1.1"), "{s}");
    assert!(s.contains("JWT: alg HS256") && s.contains("\"sub\": \"alice\""), "{s}");
    assert!(s.contains("Replay:") && s.contains("curl -H 'Authorization: Bearer"), "{s}");
    assert!(s.contains("Over HTTPS"), "{s}");
}

#[test]
fn hosts_view_lists_servers_with_credentials_and_tls() {
    let mut st = state(Reveal::Redacted);
    st.key(KeyCode::Tab, KeyModifiers::NONE);
    let s = screen(&st, 80, 24);
    assert!(s.contains("Hosts") && s.contains("shop.lab") && s.contains("10.77.0.2:80"), "{s}");
    assert!(s.contains("22%"), "{s}");
}

#[test]
fn help_and_empty_states_render() {
    let mut st = state(Reveal::Redacted);
    st.key(KeyCode::Char('?'), KeyModifiers::NONE);
    assert!(screen(&st, 80, 24).contains("this help"));
    let empty = UiState::new("eth0", RunState::Capturing, Reveal::Redacted);
    let s = screen(&empty, 80, 24);
    assert!(s.contains("No credential seen") && s.contains("CAPTURING"), "{s}");
}

#[test]
fn tiny_terminal_does_not_panic_and_keeps_the_leak_count_where_a_line_fits() {
    let st = state(Reveal::Redacted);
    for (w, h) in [(1, 1), (10, 3), (40, 8), (80, 5)] {
        let s = screen(&st, w, h);
        assert_eq!(s.lines().count(), usize::from(h));
        if w >= 40 {
            let status = s.lines().nth(1).unwrap_or_default();
            assert!(status.starts_with("leaks "), "{w}x{h}: {status:?}");
        }
    }
}

#[test]
fn no_view_shows_a_full_secret_without_reveal() {
    let mut st = state(Reveal::Redacted);
    for view in [View::Leaks, View::Hosts, View::Help] {
        st.view = view;
        for (w, h) in [(80, 24), (160, 50)] {
            let s = screen(&st, w, h);
            assert!(!s.contains(TOKEN) && !s.contains(PASSWORD), "{view:?}: {s}");
        }
    }
    for i in 0..3 {
        st.view = View::Leaks;
        st.selected = i;
        st.key(KeyCode::Enter, KeyModifiers::NONE);
        let s = screen(&st, 160, 60);
        assert!(!s.contains(TOKEN) && !s.contains(PASSWORD), "detail {i}: {s}");
    }
    let mut shown = state(Reveal::Full);
    shown.sort = Sort::Count;
    shown.key(KeyCode::Enter, KeyModifiers::NONE);
    assert!(screen(&shown, 160, 60).contains(TOKEN), "--reveal shows it");
}

#[test]
fn sort_cycles_and_filter_narrows_then_clears() {
    let mut st = state(Reveal::Redacted);
    assert_eq!(st.sort, Sort::Severity);
    st.key(KeyCode::Char('s'), KeyModifiers::NONE);
    assert_eq!(st.sort, Sort::Time);
    st.key(KeyCode::Char('s'), KeyModifiers::NONE);
    assert_eq!(st.sort, Sort::Count);
    assert_eq!(st.visible()[0].alert.count, 42);
    st.key(KeyCode::Char('/'), KeyModifiers::NONE);
    for c in "login".chars() {
        st.key(KeyCode::Char(c), KeyModifiers::NONE);
    }
    st.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(st.visible().len(), 1);
    assert!(screen(&st, 80, 24).contains("filter /login"));
    st.key(KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(st.visible().len(), 3);
}

#[test]
fn selection_stays_in_bounds_and_enter_esc_switch_views() {
    let mut st = state(Reveal::Redacted);
    for _ in 0..10 {
        st.key(KeyCode::Down, KeyModifiers::NONE);
    }
    assert_eq!(st.selected, 2);
    st.key(KeyCode::Char('k'), KeyModifiers::NONE);
    assert_eq!(st.selected, 1);
    st.key(KeyCode::Up, KeyModifiers::NONE);
    st.key(KeyCode::Up, KeyModifiers::NONE);
    assert_eq!(st.selected, 0);
    st.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(st.view, View::Detail);
    st.key(KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(st.view, View::Leaks);
    assert!(st.key(KeyCode::Char('q'), KeyModifiers::NONE));
}

#[test]
fn pause_holds_updates_and_resume_applies_them() {
    let mut st = state(Reveal::Redacted);
    st.key(KeyCode::Char('p'), KeyModifiers::NONE);
    st.apply(UiEvent::NewAlert(Box::new(alert(
        9,
        LeakKind::ApiKeyHeader,
        SecretClass::Token,
        "k-0123456789abc",
        None,
        "/v1",
    ))));
    assert_eq!(st.rows.len(), 3);
    assert!(screen(&st, 80, 24).contains("PAUSED"));
    st.key(KeyCode::Char('p'), KeyModifiers::NONE);
    assert_eq!(st.rows.len(), 4);
}

#[test]
fn new_leaks_are_marked_then_fade() {
    let mut st = state(Reveal::Redacted);
    assert!(screen(&st, 80, 24).contains("*"));
    st.now = 100.0;
    let s = screen(&st, 80, 24);
    assert!(!s.lines().any(|l| l.starts_with("│*")), "{s}");
}

#[test]
fn a_bearer_detail_at_80x24_scrolls_to_its_replay_command_and_https_note_and_back() {
    let mut st = state(Reveal::Redacted);
    // The JWT (sorted after the password): select it, open its detail.
    st.selected = st.visible().iter().position(|r| r.alert.kind == LeakKind::BearerJwt).unwrap();
    st.key(KeyCode::Enter, KeyModifiers::NONE);
    let top = screen(&st, 80, 24);
    assert!(top.contains("What an attacker") && !top.contains("Replay:"), "{top}");
    assert!(top.contains("more"), "the detail says it goes on: {top}");
    st.key(KeyCode::End, KeyModifiers::NONE);
    let bottom = screen(&st, 80, 24);
    assert!(bottom.contains("Replay:") && bottom.contains("curl -H"), "{bottom}");
    assert!(bottom.contains("HTTPS"), "{bottom}");
    // j/k and arrows scroll here, they do not change the leak.
    let id = st.selected_row().unwrap().alert.id;
    st.key(KeyCode::Char('k'), KeyModifiers::NONE);
    st.key(KeyCode::Up, KeyModifiers::NONE);
    assert_eq!(st.selected_row().unwrap().alert.id, id);
    assert_eq!(st.detail_scroll, st.detail_max.get() - 2, "scrolling up from the end moves at once");
    st.key(KeyCode::Home, KeyModifiers::NONE);
    assert_eq!(screen(&st, 80, 24), top);
    // Scrolling never passes the end.
    for _ in 0..100 {
        st.key(KeyCode::PageDown, KeyModifiers::NONE);
    }
    assert_eq!(st.detail_scroll, st.detail_max.get());
    // Back in the table, j/k move between leaks again.
    st.key(KeyCode::Esc, KeyModifiers::NONE);
    let before = st.selected;
    st.key(KeyCode::Char('k'), KeyModifiers::NONE);
    assert_eq!(st.selected, before - 1);
}

#[test]
fn columns_adapt_to_the_width_addresses_keep_their_port_kinds_are_never_cut_and_the_leak_count_stays() {
    let mut st = state(Reveal::Redacted);
    let mut a = alert(
        4,
        LeakKind::SetCookieInsecure,
        SecretClass::Token,
        TOKEN,
        None,
        "/a/very/long/path/that/cannot/fit/anywhere/at/eighty/columns/index.html",
    );
    a.server = "10.99.0.2:8000".parse().unwrap();
    a.client = "10.99.0.1:54321".parse().unwrap();
    st.apply(UiEvent::NewAlert(Box::new(a)));
    for w in [80u16, 100, 120, 200] {
        let s = screen(&st, w, 24);
        assert!(s.contains("10.99.0.2:8000"), "{w} columns: the server keeps its port\n{s}");
        assert!(s.contains("10.77.0.2:80 "), "{w} columns\n{s}");
        assert!(s.contains("set_cookie_insecure"), "{w} columns: the kind is whole\n{s}");
        assert!(s.contains("leaks 4"), "{w} columns\n{s}");
        if w < 200 {
            assert!(s.contains('…'), "{w} columns: a cut shows an ellipsis\n{s}");
        }
    }
    // Wide: every column, the client too.
    assert!(screen(&st, 200, 24).contains("10.99.0.1:54321"));
    // Very narrow: the count is still on the status line.
    assert!(screen(&st, 40, 24).contains("leaks 4"));
}

#[test]
fn live_shows_the_newest_first_sorts_by_any_column_and_r_reverses() {
    let mut st = UiState::new("eth0", RunState::Capturing, Reveal::Redacted);
    assert_eq!(st.sort, Sort::Time, "live: newest first");
    for (i, kind) in [(1, LeakKind::FormLogin), (2, LeakKind::BearerOpaque), (3, LeakKind::CookieToken)] {
        st.apply(UiEvent::NewAlert(Box::new(alert(i, kind, SecretClass::Token, TOKEN, None, "/x"))));
    }
    let ids = |st: &UiState| st.visible().iter().map(|r| r.alert.id.0).collect::<Vec<_>>();
    assert_eq!(ids(&st), [3, 2, 1]);
    st.key(KeyCode::Char('r'), KeyModifiers::NONE);
    assert_eq!(ids(&st), [1, 2, 3]);
    assert!(screen(&st, 100, 24).contains("(reversed)"));
    st.key(KeyCode::Char('r'), KeyModifiers::NONE);
    // s: count, kind...
    st.key(KeyCode::Char('s'), KeyModifiers::NONE);
    st.key(KeyCode::Char('s'), KeyModifiers::NONE);
    assert_eq!(st.sort, Sort::Kind);
    assert_eq!(ids(&st), [2, 3, 1], "bearer_opaque, cookie_token, form_login");
    assert_eq!(UiState::new("f.pcap", RunState::Reading, Reveal::Redacted).sort, Sort::Severity);
}

#[test]
fn a_live_tokens_time_left_counts_down_and_a_files_does_not() {
    let tok = plainsight_synth::jwt(r#"{"sub":"alice","exp":1795003600}"#);
    for (capture, live) in [("iface:eth0", true), ("demo.pcap", false)] {
        let mut st = UiState::new("x", RunState::Capturing, Reveal::Redacted);
        let mut a = alert(1, LeakKind::BearerJwt, SecretClass::Token, &tok, None, "/x");
        a.capture = Arc::from(capture);
        st.apply(UiEvent::NewAlert(Box::new(a)));
        let left0 = st.left(&st.rows[0]).unwrap();
        st.now += 600.0;
        let left1 = st.left(&st.rows[0]).unwrap();
        assert_eq!(left0 - left1, if live { 600 } else { 0 }, "{capture}");
    }
}

#[test]
fn rates_are_over_a_sliding_window_zero_when_the_capture_ends_and_pause_keeps_the_clock() {
    let mut st = UiState::new("eth0", RunState::Capturing, Reveal::Redacted);
    let stats = |elapsed: f64, packets: u64| {
        let mut m = StatsMsg { elapsed, input_bytes: packets * 1000, ..StatsMsg::default() };
        m.snapshot.engine.packets = packets;
        UiEvent::Stats(Box::new(m))
    };
    // 1000 pkt/s for 10 s, then nothing for 10 s: the window forgets the burst.
    for t in 0..=10 {
        st.apply(stats(t as f64, t * 1000));
    }
    assert!((st.pps - 1000.0).abs() < 1.0, "{}", st.pps);
    for t in 11..=20 {
        st.apply(stats(t as f64, 10_000));
    }
    assert_eq!(st.pps, 0.0);
    st.apply(stats(21.0, 20_000));
    assert!(st.pps > 0.0);
    // Paused: the view holds still, the clock runs on.
    st.now = 21.0;
    st.stats_at = 21.0;
    st.key(KeyCode::Char('p'), KeyModifiers::NONE);
    st.apply(stats(25.0, 30_000));
    st.now = 26.0;
    assert_eq!(st.stats.elapsed, 21.0, "stats held while paused");
    assert_eq!(st.elapsed(), 26.0, "the clock is not paused");
    st.key(KeyCode::Char('p'), KeyModifiers::NONE);
    st.apply(UiEvent::Finished);
    assert_eq!((st.pps, st.mbps), (0.0, 0.0), "no rate once the capture ended");
}

#[test]
fn without_colour_the_whole_selected_row_is_reversed_and_crit_and_high_still_differ() {
    use ratatui::style::{Color, Modifier};
    let mut st = state(Reveal::Redacted);
    st.color = false;
    let mut t = Terminal::new(TestBackend::new(100, 24)).unwrap();
    t.draw(|f| draw(f, &st)).unwrap();
    let buf = t.backend().buffer().clone();
    assert!(buf.content.iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset), "no colour at all");
    // The table's first row (the selected one) is y = 5: header 3 lines, border, column titles.
    let row_y = 5;
    let line: String = (0..100).map(|x| buf[(x, row_y)].symbol().to_string()).collect();
    assert!(line.contains("form_login"), "{line}");
    for x in 1..99 {
        assert!(buf[(x, row_y)].modifier.contains(Modifier::REVERSED), "column {x} of the selected row: {line}");
    }
    let sev = |y: u16| {
        let x = (0..100).find(|&x| buf[(x, y)].symbol() == "C" || buf[(x, y)].symbol() == "H").unwrap();
        buf[(x, y)].modifier
    };
    let (crit, high) = (sev(row_y), sev(row_y + 1));
    assert!(crit.contains(Modifier::UNDERLINED) && !high.contains(Modifier::UNDERLINED), "{crit:?} {high:?}");
    assert!(high.contains(Modifier::BOLD));
}

#[test]
fn the_hosts_view_has_a_row_per_service_and_enter_shows_that_services_leaks() {
    let mut st = state(Reveal::Redacted);
    let mut ftp = alert(5, LeakKind::FtpLogin, SecretClass::Password, PASSWORD, Some("alice"), "/");
    ftp.server = "10.77.0.2:21".parse().unwrap();
    st.apply(UiEvent::NewAlert(Box::new(ftp)));
    st.key(KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(st.view, View::Hosts);
    let s = screen(&st, 120, 24);
    assert!(s.contains("Service"), "{s}");
    let web = s.lines().find(|l| l.contains("shop.lab")).unwrap();
    let ftp_row = s.lines().find(|l| l.contains("10.77.0.2:21")).unwrap();
    assert!(web.contains("http") && web.contains("22%"), "7 requests, 2 TLS: {web}");
    assert!(ftp_row.contains("ftp") && ftp_row.contains("0%"), "{ftp_row}");
    // Down to the FTP service, Enter: its leaks only.
    st.key(KeyCode::Down, KeyModifiers::NONE);
    st.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(st.view, View::Leaks);
    let shown: Vec<LeakKind> = st.visible().iter().map(|r| r.alert.kind).collect();
    assert_eq!(shown, [LeakKind::FtpLogin]);
}

#[test]
fn the_story_view_chains_the_login_the_token_it_handed_out_and_every_reuse() {
    let mut st = UiState::new("demo.pcap", RunState::Reading, Reveal::Redacted);
    let tok = plainsight_synth::jwt(r#"{"sub":"alice","exp":1795003600}"#);
    st.apply(UiEvent::NewAlert(Box::new(alert(
        1,
        LeakKind::FormLogin,
        SecretClass::Password,
        PASSWORD,
        Some("alice"),
        "/login",
    ))));
    st.apply(UiEvent::NewAlert(Box::new(alert(
        2,
        LeakKind::LoginResponseToken,
        SecretClass::Token,
        &tok,
        Some("alice"),
        "/login",
    ))));
    let mut used = alert(3, LeakKind::BearerJwt, SecretClass::Token, &tok, Some("alice"), "/api/orders");
    used.client = "10.77.0.1:43999".parse().unwrap();
    used.count = 5;
    st.apply(UiEvent::NewAlert(Box::new(used)));
    // Another token, never reused.
    st.apply(UiEvent::NewAlert(Box::new(alert(
        4,
        LeakKind::SetCookieInsecure,
        SecretClass::Token,
        TOKEN,
        None,
        "/login",
    ))));
    let stories = st.stories();
    assert_eq!(stories.len(), 2);
    assert_eq!(stories[0].login.map(|l| l.alert.id.0), Some(1));
    assert_eq!(stories[0].replays.iter().map(|r| r.alert.id.0).collect::<Vec<_>>(), [3]);
    st.key(KeyCode::Tab, KeyModifiers::NONE);
    st.key(KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(st.view, View::Story);
    let s = screen(&st, 120, 24);
    let login = s.find("login   form_login").expect(&s);
    let token = s.find("└ token login_response_token").expect(&s);
    let reuse = s.find("└ reused 5x bearer_jwt GET shop.lab/api/orders").expect(&s);
    assert!(login < token && token < reuse, "{s}");
    assert!(s.contains("not seen reused yet"), "{s}");
    assert!(!s.contains(PASSWORD) && !s.contains(&tok), "secrets only as fingerprints: {s}");
    st.key(KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(st.view, View::Leaks);
}

#[test]
fn a_flood_of_new_leaks_is_listed_up_to_max_rows_and_the_rest_counted_on_the_status_line() {
    use super::state::MAX_ROWS;
    let mut st = UiState::new("eth0", RunState::Capturing, Reveal::Redacted);
    let template = alert(1, LeakKind::BearerOpaque, SecretClass::Token, TOKEN, None, "/x");
    for i in 1..=(MAX_ROWS as u64 + 100) {
        let mut a = template.clone();
        a.id = AlertId(i);
        st.apply(UiEvent::NewAlert(Box::new(a)));
    }
    assert_eq!(st.rows.len(), MAX_ROWS);
    assert_eq!(st.rows_not_listed, 100);
    let status = screen(&st, 100, 24).lines().nth(1).unwrap_or_default().to_string();
    assert!(status.starts_with(&format!("leaks {MAX_ROWS} ")) && status.contains("+100 not listed"), "{status}");
    // A repeat of a listed leak still finds its row (by its id, not by a scan).
    st.apply(UiEvent::Repeat {
        id: AlertId(MAX_ROWS as u64),
        count: 9,
        last_seen: Timestamp::from_secs(1_795_009_999),
    });
    assert_eq!(st.rows.last().map(|r| r.alert.count), Some(9));
}

#[test]
fn the_rows_hold_at_most_the_memory_reserved_for_them() {
    let budget = crate::memory::Budget::new(64 << 20);
    let r = budget.reserve(64 << 10);
    let mut st = UiState::new("eth0", RunState::Capturing, Reveal::Redacted).with_memory(r);
    let template = alert(1, LeakKind::BearerOpaque, SecretClass::Token, TOKEN, None, "/x");
    let each = template.heap_bytes(true);
    for i in 1..=1000 {
        let mut a = template.clone();
        a.id = AlertId(i);
        st.apply(UiEvent::NewAlert(Box::new(a)));
    }
    assert!(st.rows.len() < 1000 && st.rows.len() >= (64 << 10) / (2 * each), "{} rows of {each} bytes", st.rows.len());
    assert_eq!(st.rows.len() as u64 + st.rows_not_listed, 1000);
    drop(st);
    assert_eq!(budget.reserved(), 0, "given back with the screen");
}

#[test]
fn while_paused_repeats_are_folded_by_leak_and_new_leaks_past_the_rows_are_counted_at_once() {
    use super::state::MAX_ROWS;
    let mut st = UiState::new("eth0", RunState::Capturing, Reveal::Redacted);
    st.apply(UiEvent::NewAlert(Box::new(alert(1, LeakKind::BearerOpaque, SecretClass::Token, TOKEN, None, "/x"))));
    st.key(KeyCode::Char('p'), KeyModifiers::NONE);
    assert!(st.paused);
    // A client polling with its token while the view is frozen: one held entry, not one per sighting.
    for n in 2..=50_000u64 {
        st.apply(UiEvent::Repeat {
            id: AlertId(1),
            count: n,
            last_seen: Timestamp::from_secs(1_795_000_000 + n as i64),
        });
    }
    let template = alert(2, LeakKind::CookieToken, SecretClass::Token, TOKEN, None, "/y");
    for i in 2..=(MAX_ROWS as u64 + 10) {
        let mut a = template.clone();
        a.id = AlertId(i);
        st.apply(UiEvent::NewAlert(Box::new(a)));
    }
    assert_eq!(st.held.len(), MAX_ROWS - 1, "only the new leaks the rows can still list are held");
    assert_eq!(st.rows_not_listed, 10);
    assert_eq!(st.rows[0].alert.count, 1, "the view stays frozen");
    st.key(KeyCode::Char('p'), KeyModifiers::NONE);
    assert_eq!(st.rows.len(), MAX_ROWS);
    assert_eq!(st.rows[0].alert.count, 50_000);
    assert!(st.held.is_empty());
}
