//! The training lab's script: `--help` and `--clean` (the lab itself needs root and a terminal).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::tmux;

/// The lab's namespaces and temporary directories are global: one lab test at a time (`--clean` would
/// tear down a running lab).
static LAB: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lab() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lab/run.sh")
}

#[test]
fn lab_help_prints_its_usage_and_starts_nothing() {
    let o = Command::new("bash").arg(lab()).arg("--help").output().expect("bash");
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for opt in ["--https", "--clean", "--help"] {
        assert!(out.contains(opt), "{out}");
    }
    assert!(!out.contains("set -euo"), "{out}");
}

#[test]
fn lab_clean_says_what_it_removed_key_material_of_a_killed_run_included() {
    if !nix::unistd::Uid::effective().is_root() {
        common::missing("lab --clean needs root (network namespaces)");
        return;
    }
    let _one = LAB.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // What a killed run leaves: its temporary directory with the TLS key.
    let left = PathBuf::from(format!("/tmp/plainsight-lab.test{}", std::process::id()));
    std::fs::create_dir_all(&left).unwrap();
    std::fs::write(left.join("key.pem"), "-----BEGIN PRIVATE KEY-----\n").unwrap();
    let o = Command::new("bash").arg(lab()).arg("--clean").output().expect("bash");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("removed temporary files and key material") && out.contains(left.to_str().unwrap()), "{out}");
    assert!(!left.exists());
    let again = Command::new("bash").arg(lab()).arg("--clean").output().expect("bash");
    assert!(String::from_utf8_lossy(&again.stdout).contains("lab: nothing to remove"));
}

/// Whether the lab can run here (root, iproute2); says "skipped" (or fails under `CI`) when not.
fn lab_can_run() -> bool {
    if !nix::unistd::Uid::effective().is_root() || Command::new("ip").arg("-V").output().is_err() {
        common::missing("the lab needs root and iproute2 (network namespaces)");
        return false;
    }
    true
}

/// The lab as a script runs it: `--no-tui --duration N`, with this build's binary.
fn run_lab(args: &[&str]) -> String {
    let o = Command::new("bash").arg(lab()).args(args).env("PLAINSIGHT_BIN", common::bin()).output().expect("bash");
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}");
    out
}

#[test]
fn the_lab_steals_a_token_over_http_and_its_attacker_replays_it_accepted_over_https_there_is_nothing() {
    if !lab_can_run() {
        return;
    }
    let _one = LAB.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let http = run_lab(&["--no-tui", "--duration", "10"]);
    let replays: Vec<&str> = http.lines().filter(|l| l.starts_with("replay ")).collect();
    assert!(
        replays
            .iter()
            .any(|l| (l.contains("bearer_jwt") || l.contains("login_response_token")) && l.contains("-> HTTP 200")),
        "a stolen token replayed and accepted:\n{http}"
    );
    assert!(replays.iter().any(|l| l.contains("\"user\"")), "the victim's data came back:\n{http}");
    assert!(http.contains("form_login"), "the first login is seen:\n{http}");
    let https = run_lab(&["--no-tui", "--duration", "8", "--https"]);
    assert!(!https.lines().any(|l| l.starts_with("replay ") && l.contains("-> HTTP")), "{https}");
    assert!(https.contains("nothing to replay: every credential crossed inside TLS"), "{https}");
}

/// What `lab/fixes.py` said after step `n`: the kinds still seen in clear, and those gone.
fn after_fix(out: &str, n: usize) -> (Vec<String>, Vec<String>) {
    let prefix = format!("after fix {n}/5: ");
    let line =
        out.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no summary of fix {n}:\n{out}"));
    let field = |name: &str| -> Vec<String> {
        line.split(" | ")
            .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix(": ")))
            .map(|v| v.split(", ").filter(|k| *k != "nothing").map(|k| k.split(' ').next().unwrap_or(k).to_string()))
            .into_iter()
            .flatten()
            .collect()
    };
    (field("in clear"), field("gone"))
}

#[test]
fn the_lab_fixed_turns_the_seeds_fixes_on_one_by_one_and_the_leaks_each_closes_disappear_until_none_is_left() {
    if !lab_can_run() {
        return;
    }
    let _one = LAB.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Six steps of 8 s (a sixth of the duration, less the start and each step's summary); each step's
    // last 5.5 s are counted, more than one round of the victim's (about 3.5 s).
    let out = run_lab(&["--no-tui", "--duration", "63", "--fixed"]);
    let has = |kinds: &[String], k: &str| kinds.iter().any(|x| x == k);
    let (clear, _) = after_fix(&out, 0);
    for k in [
        "form_login",
        "login_response_token",
        "bearer_jwt",
        "cookie_token",
        "set_cookie_insecure",
        "url_token",
        "ftp_login",
    ] {
        assert!(has(&clear, k), "{k} crosses in clear before any fix: {clear:?}\n{out}");
    }
    // Each fix closes what it is for, and what it closed stays closed.
    let closes: [&[&str]; 5] = [
        &["url_token"],
        &["set_cookie_insecure"],
        &["ftp_login"],
        &["login_response_token", "cookie_token"],
        &["bearer_jwt", "sslstrip_window"],
    ];
    let mut closed: Vec<&str> = Vec::new();
    for (i, kinds) in closes.iter().enumerate() {
        let (clear, gone) = after_fix(&out, i + 1);
        closed.extend_from_slice(kinds);
        for k in *kinds {
            assert!(has(&gone, k), "fix {} closes {k}: gone {gone:?}\n{out}", i + 1);
        }
        for k in &closed {
            assert!(!has(&clear, k), "after fix {}, {k} is still in clear: {clear:?}\n{out}", i + 1);
        }
        if i + 1 == 4 {
            // A redirect alone: the requests still go out in clear first, with the password and the token.
            assert!(has(&clear, "bearer_jwt") && has(&clear, "sslstrip_window"), "{clear:?}\n{out}");
        }
    }
    assert!(
        out.lines()
            .any(|l| l == "after fix 5/5: in clear: nothing" || l.starts_with("after fix 5/5: in clear: nothing |")),
        "{out}"
    );
    // A token stolen before the redirect is still good over HTTPS: the attacker follows and is let in.
    assert!(
        out.lines().any(|l| l.starts_with("replay ") && l.contains("-> HTTP 301 -> https: HTTP 200")),
        "a replay through the redirect:\n{out}"
    );
}

#[test]
fn the_lab_ui_shows_the_attackers_replays_on_screen_beside_the_sniffer_at_80x24_and_120x40() {
    if !lab_can_run() {
        return;
    }
    if !tmux::available() {
        return;
    }
    const LIMIT: Duration = Duration::from_secs(60);
    let _one = LAB.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (w, h, mode) in [(80u16, 24u16, "http"), (120, 40, "http"), (80, 24, "--https"), (80, 24, "--fixed")] {
        let cmd =
            format!("PLAINSIGHT_BIN={} {} {mode} --duration 14; sleep 60", common::bin().display(), lab().display());
        let session = tmux::Session::start("lab", (w, h), &cmd);
        // The sniffer's screen: live, newest first, the first login on it, a token's time counting down.
        let (ui, screen) = session.wait_pane("the UI with a login", LIMIT, |t| {
            t.contains("CAPTURING") && (mode != "http" || (t.contains("form_login") && t.contains(" left")))
        });
        assert!(screen.contains("sorted by time"), "live sorts newest first:\n{screen}");
        // Pause freezes the view, not the clock.
        let clock =
            |t: &str| t.lines().next().and_then(|l| l.split_whitespace().last()).unwrap_or_default().to_string();
        session.send_keys(&ui, &["p"]);
        let (_, paused) = session.wait_pane("the pause", LIMIT, |t| t.contains("PAUSED"));
        std::thread::sleep(std::time::Duration::from_millis(2200));
        let (_, later) = session.wait_pane("the pause", LIMIT, |t| t.contains("PAUSED"));
        assert_ne!(clock(&paused), clock(&later), "the clock stopped with the view:\n{paused}\n{later}");
        session.send_keys(&ui, &["p"]);
        if mode == "http" {
            // The attacker's pane, under the UI: a stolen token replayed, the server's 200 and the
            // victim's data.
            let (pane, replays) = session.wait_pane("a replay accepted", LIMIT, |t| {
                t.lines().any(|l| l.starts_with("replay ") && l.contains("-> HTTP 200") && l.contains("\"user\""))
            });
            assert_ne!(pane, ui, "the replays have a pane of their own");
            assert!(!replays.contains("CAPTURING"), "{replays}");
        }
        if mode == "--fixed" {
            // The same pane tells the fixes one by one: what crossed in clear before the first.
            let (pane, steps) = session.wait_pane("the first step of the fixes", LIMIT, |t| {
                t.contains("after fix 0/5: in clear:") && t.contains("url_token")
            });
            assert_ne!(pane, ui, "the fixes are told in the pane under the UI:\n{steps}");
        }
        let (_, screen) = session.wait_pane("the end of the capture", LIMIT, |t| t.contains("FINISHED"));
        // Rates are over a sliding window, zero once the capture ended.
        assert!(screen.contains(" 0 pkt/s") && screen.contains("leaks"), "{screen}");
        session.send_keys(&ui, &["q"]);
        let last = match mode {
            "http" => "What the attacker replayed:",
            "--fixed" => "What the attacker replayed, and the fixes one by one:",
            _ => "nothing to replay: every credential",
        };
        let (_, after) =
            session.wait_pane("the lab's last words", LIMIT, |t| t.contains(last) && !t.contains("q quit"));
        if mode == "--https" {
            assert!(!after.lines().any(|l| l.starts_with("replay ") && l.contains("-> HTTP")), "{after}");
        }
        assert_eq!(session.panes().len(), 1, "the replay pane is closed with the lab");
    }
}

fn attacker() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lab/attacker.py")
}

/// Text a hostile network could put in a user name or an answer: every character plainsight's
/// sanitiser escapes, a backslash, safe text around them, and a long run to cut.
fn hostile_samples() -> Vec<String> {
    let mut all: String =
        (0u32..0x3000).filter_map(char::from_u32).filter(|&c| plainsight::output::term::is_unsafe(c)).collect();
    all.push_str("\u{feff}\u{fff9}\u{fffb}");
    vec![
        all,
        "bob\\x1b is not an escape".into(),
        "\u{1b}]0;owned\u{7}\u{1b}[2Jroot\u{202e}nimda".into(),
        "é ü 漢字 🙂 plain".into(),
        "y".repeat(200),
    ]
}

#[test]
fn the_lab_attackers_pane_shows_wire_text_exactly_as_plainsights_sanitiser_does() {
    if !common::netns::have("python3") {
        common::missing("python3 (the lab's attacker)");
        return;
    }
    let dir = attacker().parent().unwrap().to_path_buf();
    let samples = hostile_samples();
    let input = serde_json::to_string(&samples).unwrap();
    let script = "import json, sys; import attacker\nfor s in json.loads(sys.stdin.read()):\n    print(json.dumps([attacker.shown(s, 64), attacker.shown(s, 60)]))";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .env("PYTHONPATH", &dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<(String, String)> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), samples.len());
    for (s, (at64, at60)) in samples.iter().zip(&lines) {
        assert_eq!(at64, &plainsight::output::term::clean(s, 64), "{s:?}");
        assert_eq!(at60, &plainsight::output::term::clean(s, 60), "{s:?}");
    }
}

#[test]
fn the_lab_attacker_replaying_a_hostile_alert_against_a_hostile_shop_prints_no_control_character() {
    if !common::netns::have("python3") {
        common::missing("python3 (the lab's attacker)");
        return;
    }
    // A shop that answers the replay with terminal escapes and a bidi override.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = "\u{1b}]52;c;b3duZWQ=\u{7}\u{1b}[2Jvictim\u{202e}latot";
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    let d = common::tempdir();
    let alerts = d.path().join("alerts.jsonl");
    let alert = serde_json::json!({
        "kind": "bearer_opaque", "secret": "tok-0123456789abcdef", "fingerprint": "0123456789ab",
        "user": "\u{1b}]0;pwned\u{7}mallory\u{202e}\r\nreplay forged line",
    });
    std::fs::write(&alerts, format!("{alert}\n")).unwrap();
    let mut child = Command::new("python3")
        .arg(attacker())
        .args([alerts.to_str().unwrap(), &format!("127.0.0.1:{port}"), "shop.lab"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(std::time::Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("the attacker printed its replay");
    let line = line.strip_suffix('\n').unwrap_or(&line);
    assert!(line.starts_with("replay bearer_opaque "), "{line:?}");
    assert!(line.contains("-> HTTP 200: "), "{line:?}");
    assert!(!line.chars().any(plainsight::output::term::is_unsafe), "{line:?}");
    assert!(line.contains("\\x1b]0;pwned\\x07mallory\\u202e\\x0d\\x0areplay forged line"), "{line:?}");
    assert!(line.contains("\\x1b[2Jvictim\\u202elatot"), "{line:?}");
}
