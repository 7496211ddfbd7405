//! A terminal for end-to-end tests: one tmux session on a tmux server of its own.
//!
//! Every session gets a private server (`tmux -L NAME`), killed with it. On the default shared server,
//! killing the last session makes the server exit, and a test starting its session at that moment
//! (the next size of a loop, or a test on another thread) fails with "server exited unexpectedly".

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Whether tmux can run; says "skipped" (or fails under `CI`) when it cannot.
pub fn available() -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        super::missing("tmux is not installed (scripts/deps.sh --test installs it)");
        return false;
    }
    true
}

/// A `w`x`h` tmux session running a shell command; its server is killed on drop.
pub struct Session {
    socket: String,
    /// The socket file, removed with the server.
    path: String,
}

impl Session {
    ///
    /// A server that dies while it starts ("server exited unexpectedly", seen once in CI) is started
    /// again on a new socket, three times at most; nothing of the test has run yet then.
    pub fn start(label: &str, (w, h): (u16, u16), cmd: &str) -> Session {
        let mut errors = Vec::new();
        for _ in 0..3 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let mut s =
                Session { socket: format!("ps-{label}-{w}x{h}-{}-{n}", std::process::id()), path: String::new() };
            let out = s.command(&["new-session", "-d", "-s", "main", "-x", &w.to_string(), "-y", &h.to_string(), cmd]);
            if out.status.success() {
                s.path = s.tmux(&["display-message", "-p", "-t", "main", "#{socket_path}"]).trim().to_string();
                return s;
            }
            errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("tmux new-session failed three times: {errors:?}");
    }

    fn command(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux")
    }

    /// A tmux command on this session's server; its standard output.
    pub fn tmux(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.command(args).stdout).into_owned()
    }

    /// Every pane, by id.
    pub fn panes(&self) -> Vec<String> {
        self.tmux(&["list-panes", "-t", "main", "-F", "#{pane_id}"]).lines().map(str::to_string).collect()
    }

    /// The text of a pane (`main` for the session's active one).
    pub fn capture(&self, pane: &str) -> String {
        self.tmux(&["capture-pane", "-p", "-t", pane])
    }

    /// The text of the active pane with its attributes (escape sequences).
    pub fn capture_styled(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", "main"])
    }

    /// Keys typed into a pane.
    pub fn send_keys(&self, pane: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", pane];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Wait until `pred` holds for the text of some pane; returns (pane, text). Fails with every pane's
    /// text after `limit`.
    pub fn wait_pane(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> (String, String) {
        let start = Instant::now();
        loop {
            for p in self.panes() {
                let text = self.capture(&p);
                if pred(&text) {
                    return (p, text);
                }
            }
            if start.elapsed() >= limit {
                let all: Vec<String> = self.panes().iter().map(|p| self.capture(p)).collect();
                panic!("{}: timed out waiting for {what}:\n{}", self.socket, all.join("\n----\n"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.command(&["kill-server"]);
        if !self.path.is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
