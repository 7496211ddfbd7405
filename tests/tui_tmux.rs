//! The real binary in a real terminal (tmux): keys in, screen out, at the two sizes a user meets first
//! (80x24, a default terminal; 120x40, a maximised one). Every view and key of the TUI is driven here
//! at both. Without tmux: `common::missing`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::tmux;

use std::process::Command;
use std::time::Duration;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// plainsight in a tmux session of its own; the session and its server are killed on drop.
struct Tui(tmux::Session);

fn have_tmux() -> bool {
    tmux::available()
}

impl Tui {
    /// `plainsight ARGS` in a `w`x`h` terminal, in directory `dir`; the pane stays after it exits.
    fn start(label: &str, size: (u16, u16), dir: &str, env: &str, args: &str) -> Tui {
        let cmd = format!("cd {dir} && {env} {} {args}; sleep 60", common::bin().display());
        Tui(tmux::Session::start(label, size, &cmd))
    }

    /// `read --tui` of a bundled capture, once it is read.
    fn read(label: &str, size: (u16, u16), capture: &str) -> Tui {
        let t = Tui::start(label, size, env!("CARGO_MANIFEST_DIR"), "", &format!("read --tui captures/{capture}"));
        t.wait_for("FINISHED");
        t
    }

    fn screen(&self) -> String {
        self.0.capture("main")
    }

    /// The screen with its attributes (escape sequences).
    fn screen_styled(&self) -> String {
        self.0.capture_styled()
    }

    fn wait_for(&self, what: &str) -> String {
        self.0.wait_pane(&format!("{what:?}"), Duration::from_secs(20), |s| s.contains(what)).1
    }

    fn keys(&self, k: &[&str]) {
        self.0.send_keys("main", k);
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Filter the table to the rows that match `text`.
    fn filter(&self, text: &str) {
        self.keys(&["/"]);
        self.keys(&["-l", text]);
        self.keys(&["Enter"]);
    }
}

/// Whether a styled screen sets any foreground or background colour (SGR 30-38, 40-48, 90-107; 39
/// and 49 are the defaults).
fn has_colour(styled: &str) -> bool {
    styled.split("\x1b[").skip(1).filter_map(|seq| seq.split_once('m').map(|(p, _)| p)).any(|params| {
        let mut it = params.split(';').map(|p| p.parse::<u16>().unwrap_or(0));
        it.any(|p| (30..=48).contains(&p) && p != 39 || (90..=107).contains(&p))
    })
}

/// The table rows of a screen (lines between the header row and the bottom border).
fn table_rows(s: &str) -> Vec<&str> {
    s.lines()
        .skip_while(|l| !l.contains("Sev"))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .filter(|l| !l.trim_matches(|c: char| c == '│' || c.is_whitespace()).is_empty())
        .collect()
}

#[test]
fn read_tui_on_the_demo_capture_navigates_views_and_quits() {
    if !have_tmux() {
        return;
    }
    for size in SIZES {
        let t = Tui::read("nav", size, "demo.pcap");
        let s = t.screen();
        assert!(s.contains("leaks 6") && s.contains("form_login") && s.contains("CRIT"), "{size:?}\n{s}");
        assert!(!s.contains("Tr0ub4dor"), "secret on screen without --reveal:\n{s}");
        t.keys(&["Enter"]);
        let s = t.wait_for("What an attacker on the network sees");
        assert!(s.contains("Leak #"), "{s}");
        t.keys(&["Escape", "/", "b", "o", "b", "Enter"]);
        let s = t.wait_for("filter /bob");
        assert!(s.contains("1 shown") && s.contains("expired"), "{s}");
        t.keys(&["q"]);
        assert!(!t.screen().contains("q quit"), "the UI did not quit:\n{}", t.screen());
    }
}

#[test]
fn columns_keep_ports_and_kinds_whole_and_the_status_line_keeps_the_leak_count() {
    if !have_tmux() {
        return;
    }
    for size in SIZES {
        let t = Tui::read("cols", size, "demo.pcap");
        let s = t.screen();
        let rows = table_rows(&s);
        assert_eq!(rows.len(), 6, "{size:?}\n{s}");
        for r in &rows {
            assert!(r.contains("10.77.0.2:80 "), "a server lost its port at {size:?}: {r}\n{s}");
        }
        assert!(s.contains("login_response_token") && s.contains("set_cookie_insecure"), "kinds cut at {size:?}\n{s}");
        let status = s.lines().nth(1).unwrap();
        assert!(status.starts_with("leaks 6 (7 sightings)"), "{size:?}: {status}");
        // Whatever does not fit is left out whole, not cut mid-figure.
        assert!(!status.trim_end().ends_with("n/"), "{status}");
        if size.0 >= 120 {
            // Room for the client column at 120.
            assert!(rows.iter().all(|r| r.contains("10.77.0.1:")), "{s}");
        }
        // The help says what the columns mean.
        t.keys(&["?"]);
        let s = t.wait_for("Columns:");
        assert!(s.contains("Status") && s.contains("follow stream"), "{s}");
    }
}

#[test]
fn detail_scrolls_to_the_replay_command_and_the_https_note() {
    if !have_tmux() {
        return;
    }
    for size in SIZES {
        let t = Tui::read("detail", size, "demo.pcap");
        t.filter("bearer_jwt");
        t.keys(&["Enter"]);
        t.wait_for("What an attacker on the network sees");
        t.keys(&["End"]);
        let s = t.wait_for("Replay:");
        assert!(s.contains("curl -H 'Authorization: Bearer …["), "{size:?}\n{s}");
        assert!(s.contains("Over HTTPS these headers would be encrypted"), "{size:?}\n{s}");
        t.keys(&["Home"]);
        let s = t.wait_for("HIGH bearer_jwt");
        assert!(s.contains("What an attacker on the network sees") || size.1 < 40, "{s}");
    }
}

#[test]
fn sort_by_any_column_and_reverse() {
    if !have_tmux() {
        return;
    }
    for size in SIZES {
        let t = Tui::read("sort", size, "demo.pcap");
        // severity -> time -> count -> kind
        t.keys(&["s", "s", "s"]);
        let s = t.wait_for("sorted by kind");
        let rows = table_rows(&s);
        assert!(rows[0].contains("bearer_jwt") && rows[5].contains("set_cookie_insecure"), "{size:?}\n{s}");
        t.keys(&["r"]);
        let s = t.wait_for("(reversed)");
        let rows = table_rows(&s);
        assert!(rows[0].contains("set_cookie_insecure") && rows[5].contains("bearer_jwt"), "{size:?}\n{s}");
        // count: the token replayed twice first.
        t.keys(&["r", "s", "s", "s", "s", "s", "s"]);
        let s = t.wait_for("sorted by count");
        assert!(table_rows(&s)[0].contains("bearer_jwt"), "{size:?}\n{s}");
    }
}

#[test]
fn hosts_view_has_a_row_per_service_and_enter_shows_that_services_leaks() {
    if !have_tmux() {
        return;
    }
    for size in SIZES {
        let t = Tui::read("hosts", size, "mail.pcap");
        t.keys(&["Tab"]);
        let s = t.wait_for("Hosts:");
        for svc in ["10.77.0.2:110", "10.77.0.2:143", "10.77.0.2:587"] {
            assert!(s.contains(svc), "{svc} has no row of its own at {size:?}\n{s}");
        }
        // The IMAP row, then Enter: its leaks only.
        let rows: Vec<&str> = s.lines().filter(|l| l.contains("10.77.0.2:")).collect();
        assert!(rows.iter().all(|r| !r.contains("100%")), "a cleartext service shown as all TLS:\n{s}");
        let imap = rows.iter().position(|l| l.contains(":143")).unwrap();
        for _ in 0..imap {
            t.keys(&["Down"]);
        }
        t.keys(&["Enter"]);
        let s = t.wait_for("filter /10.77.0.2:143");
        let rows = table_rows(&s);
        assert!(!rows.is_empty() && rows.iter().all(|r| r.contains("imap")), "{size:?}\n{s}");
    }
}

#[test]
fn story_view_chains_the_login_the_token_and_its_reuses() {
    if !have_tmux() {
        return;
    }
    for size in SIZES {
        let t = Tui::read("story", size, "demo.pcap");
        t.keys(&["Tab", "Tab"]);
        let s = t.wait_for("Story:");
        let login = s.find("form_login").expect(&s);
        let token = s.find("login_response_token").expect(&s);
        let reuse = s.find("bearer_jwt").expect(&s);
        assert!(login < token && token < reuse, "the chain is out of order at {size:?}:\n{s}");
        assert!(!s.contains("Tr0ub4dor"), "{s}");
    }
}

#[test]
fn follow_stream_shows_the_leaks_connection_with_the_servers_answer() {
    if !have_tmux() {
        return;
    }
    for size in SIZES {
        let t = Tui::read("follow", size, "demo.pcap");
        t.filter("form_login");
        t.keys(&["f"]);
        let s = t.wait_for("Follow stream");
        assert!(s.contains("▶") && s.contains("POST /login HTTP/1.1"), "{size:?}\n{s}");
        assert!(s.contains("password=…[11 chars"), "the password is a slot:\n{s}");
        t.keys(&["End"]);
        let s = t.wait_for("HTTP/1.1 200 OK");
        assert!(s.contains("◀") && s.contains("Set-Cookie: session=…["), "{size:?}\n{s}");
        assert!(s.contains("{\"token\": \"…["), "the answer's body, its token a slot:\n{s}");
        assert!(!s.contains("Tr0ub4dor") && !s.contains("sess-2bd806"), "{s}");
        // Esc goes back to the leak's detail.
        t.keys(&["Escape"]);
        t.wait_for("What an attacker on the network sees");
        // Above a leak, the messages that crossed before it on its connection, by their first line:
        // the WebSocket upgrade and its answer before the STOMP login inside it.
        let ws = Tui::read("follow-ws", size, "websocket.pcap");
        ws.filter("stomp");
        ws.keys(&["f"]);
        let s = ws.wait_for("Follow stream");
        assert_eq!(s.matches("▷ ").count() + s.matches("◁ ").count(), 2, "the upgrade and its answer:\n{s}");
        let order = ["before the leak (first lines):", "GET /stomp HTTP/1.1 ", "HTTP/1.1 101 Switching Protocols"];
        let at: Vec<usize> = order
            .iter()
            .chain(&["the leak, and what followed:", "passcode:…["])
            .map(|w| s.find(w).unwrap_or_else(|| panic!("{w:?} missing:\n{s}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "in the order they crossed:\n{s}");
    }
}

#[test]
fn no_color_keeps_the_whole_selected_row_reversed_and_colour_tells_crit_from_high() {
    if !have_tmux() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    for size in SIZES {
        let t = Tui::start("nocolor", size, root, "NO_COLOR=1", "read --tui captures/demo.pcap");
        t.wait_for("FINISHED");
        let s = t.screen_styled();
        assert!(!has_colour(&s), "colour under NO_COLOR:\n{s:?}");
        let selected = s.lines().find(|l| l.contains("form_login")).unwrap();
        // Reverse video from the first cell of the row (no reset before its last column).
        let first = selected.split("\x1b[").nth(1).and_then(|q| q.split_once('m')).map(|(p, _)| p).unwrap();
        assert!(first.split(';').any(|p| p == "7"), "the row does not start reversed: {selected:?}");
        let end = selected.rfind("1          ").unwrap();
        assert!(!selected[..end].contains("\x1b[0m"), "the reverse stops inside the row: {selected:?}");
        drop(t);
        let t = Tui::start("color", size, root, "", "read --tui --color always captures/demo.pcap");
        t.wait_for("FINISHED");
        let s = t.screen_styled();
        let style_of = |word: &str| {
            let l = s.lines().find(|l| l.contains(word)).unwrap();
            let at = l.find(word).unwrap();
            l[..at].rsplit("\x1b[").next().unwrap_or_default().to_string()
        };
        assert_ne!(style_of("CRIT"), style_of("HIGH"), "CRIT and HIGH styled alike:\n{s}");
    }
}

#[test]
fn quitting_the_ui_prints_the_report_and_w_saves_it_first() {
    if !have_tmux() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    for size in SIZES {
        let dir = common::tempdir();
        let t = Tui::start(
            "report",
            size,
            &dir.path().display().to_string(),
            "",
            &format!("read --tui {root}/captures/demo.pcap"),
        );
        t.wait_for("FINISHED");
        t.keys(&["w"]);
        let s = t.wait_for("report saved to");
        assert!(s.contains("plainsight-report-"), "{s}");
        let saved: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).collect();
        assert_eq!(saved.len(), 1);
        let text = std::fs::read_to_string(saved[0].path()).unwrap();
        assert!(text.starts_with("plainsight: 6 credentials crossed the network in clear text"), "{text}");
        assert!(!text.contains("Tr0ub4dor"), "the saved report is redacted");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(saved[0].metadata().unwrap().permissions().mode() & 0o777, 0o600);
        t.keys(&["q"]);
        // The report's last lines (its first scrolled off the screen).
        let s = t.wait_for("TLS-protected flows: 2");
        assert!(s.contains("attacker on the path") && !s.contains("q quit"), "the report follows the UI:\n{s}");
    }
}

#[test]
fn watch_shows_the_sensors_of_each_leak_and_the_hosts_across_the_fleet() {
    if !have_tmux() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = common::tempdir();
    for (name, fmt, caps) in
        [("seg-a", "eve", "captures/demo.pcap"), ("seg-b", "ecs", "captures/demo.pcap captures/mail.pcap")]
    {
        let out = dir.path().join(format!("{name}.jsonl"));
        let cmd = format!(
            "cd {root} && {} read -q --no-report --sensor {name} --alerts-format {fmt} --alerts {} {caps}",
            common::bin().display(),
            out.display()
        );
        assert!(Command::new("sh").args(["-c", &cmd]).status().unwrap().success());
    }
    let files = format!("{d}/seg-a.jsonl {d}/seg-b.jsonl", d = dir.path().display());
    for size in SIZES {
        let t = Tui::start("watch", size, root, "", &format!("watch --once {files}"));
        let s = t.wait_for("FINISHED");
        let status = s.lines().nth(1).unwrap();
        assert!(status.starts_with("leaks 16") && status.contains("sensors 2"), "{size:?}: {status}");
        if size.0 >= 120 {
            assert!(table_rows(&s).iter().any(|r| r.contains("seg-a,seg-b")), "the sensors column:\n{s}");
        }
        t.filter("form_login");
        t.keys(&["Enter"]);
        let s = t.wait_for("seen by sensors");
        assert!(s.contains("seen by sensors: seg-a, seg-b") && s.contains("seen 2x"), "{size:?}\n{s}");
        assert!(!s.contains("Tr0ub4dor"), "{s}");
        t.keys(&["Escape", "Escape", "Tab"]);
        let s = t.wait_for("Hosts:");
        assert!(s.contains("shop.lab") && s.contains("10.77.0.2:143"), "the fleet's hosts:\n{s}");
    }
}
