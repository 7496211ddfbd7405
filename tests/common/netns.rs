//! Live tests' network: two namespaces joined by a veth pair (a server side, where plainsight
//! captures, and a client side), the servers started in them, and `plainsight live` runs that say when
//! they capture. Every name carries the test's own tag and its process id, so tests run side by side.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn sh(cmd: &str) -> bool {
    Command::new("sh").args(["-c", cmd]).status().is_ok_and(|s| s.success())
}

/// Whether `cmd` is on the PATH.
pub fn have(cmd: &str) -> bool {
    sh(&format!("command -v {cmd} >/dev/null"))
}

/// A prerequisite of a live test is absent (root, `ip`, `curl`, `python3`) or one of `extra` tools is:
/// [`super::missing`] says so (and fails under CI). Use as `if unprepared(&[]) { return }`.
pub fn unprepared(extra: &[&str]) -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        return super::missing("not root (live capture and network namespaces need root)");
    }
    for c in ["ip", "curl", "python3"].iter().chain(extra) {
        if !have(c) {
            return super::missing(&format!("{c} not installed (scripts/deps.sh --test)"));
        }
    }
    false
}

/// A python3 interpreter that has pyftpdlib (Debian's `python3-pyftpdlib` goes to the system python3,
/// which a pyenv or venv `python3` earlier on PATH does not see); `missing` says so when none has.
pub fn python_with_pyftpdlib() -> Option<&'static str> {
    let py =
        ["python3", "/usr/bin/python3"].into_iter().find(|py| sh(&format!("{py} -c 'import pyftpdlib' 2>/dev/null")));
    if py.is_none() {
        super::missing("pyftpdlib not installed (python3-pyftpdlib, scripts/deps.sh --test)");
    }
    py
}

/// A tiny HTTP/1.1 server: `HOST PORT [TOKEN]`; POST answers `{"token": TOKEN}` (a login handing out a
/// token), anything else `{"ok":true}`.
pub const HTTP_SERVER_PY: &str = r#"
import http.server, json, sys
TOKEN = sys.argv[3] if len(sys.argv) > 3 else "none"
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self): self.reply(b'{"ok":true}')
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); self.rfile.read(n)
        self.reply(json.dumps({"token": TOKEN}).encode())
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
"#;

/// A real FTP server (pyftpdlib): `HOST PORT USER PASSWORD HOME`, one user; `auth_failed_timeout`
/// shortened from 3 s so that a refused login is answered at once.
pub const FTP_SERVER_PY: &str = r#"
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
host, port, user, password, home = sys.argv[1:6]
auth = DummyAuthorizer()
auth.add_user(user, password, home, perm="elr")
class Handler(FTPHandler):
    authorizer = auth
    auth_failed_timeout = 0.05
FTPServer((host, int(port)), Handler).serve_forever()
"#;

/// Kills what it started and runs its clean-up commands (deleting the namespaces), even when the test
/// panics.
pub struct Cleanup(pub Vec<String>, pub Vec<Child>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in self.1.iter_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for cmd in &self.0 {
            sh(cmd);
        }
    }
}

/// A server namespace and a client namespace joined by a veth pair: `{net}.2` and `{net}.1`.
pub struct Pair {
    pub srv: String,
    pub cli: String,
    /// The server side's end of the pair (where plainsight captures).
    pub veth: String,
    pub guard: Cleanup,
}

/// Two namespaces named from `tag` (a few letters of the test's own) on the /24 `net` (`10.240.0`).
pub fn two_namespaces(tag: &str, net: &str) -> Pair {
    let id = std::process::id() % 100_000;
    let (srv, cli) = (format!("{tag}s{id}"), format!("{tag}c{id}"));
    let (vs, vc) = (format!("{tag}v{id}s"), format!("{tag}v{id}c"));
    let guard =
        Cleanup(vec![format!("ip netns del {srv} 2>/dev/null"), format!("ip netns del {cli} 2>/dev/null")], vec![]);
    assert!(sh(&format!(
        "set -e; ip netns add {srv}; ip netns add {cli}; \
         ip link add {vs} type veth peer name {vc}; \
         ip link set {vs} netns {srv}; ip link set {vc} netns {cli}; \
         ip -n {srv} addr add {net}.2/24 dev {vs}; ip -n {cli} addr add {net}.1/24 dev {vc}; \
         ip -n {srv} link set {vs} up; ip -n {cli} link set {vc} up; \
         ip -n {srv} link set lo up; ip -n {cli} link set lo up"
    )));
    Pair { srv, cli, veth: vs, guard }
}

impl Pair {
    /// Start `argv` inside the server namespace, quiet, killed by the guard.
    pub fn serve(&mut self, argv: &[&str], envs: &[(&str, &str)]) {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.srv])
            .args(argv)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {argv:?}: {e}"));
        self.guard.1.push(child);
    }

    /// Wait (at most 5 s) until something listens on `proto` (`t` or `u`) port `port` in the server
    /// namespace.
    pub fn wait_listening(&self, proto: char, port: u16) {
        for _ in 0..100 {
            if sh(&format!("ip netns exec {} ss -Hln{proto} 'sport = :{port}' | grep -q .", self.srv)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nothing listening on {proto} port {port} in {}", self.srv);
    }

    /// Run a shell command in the client namespace; its output.
    pub fn client(&self, cmd: &str) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.cli, "sh", "-c", cmd])
            .stdin(Stdio::null())
            .output()
            .expect("client command")
    }
}

/// A running `plainsight live`, its standard error collected.
pub struct Live {
    pub child: Child,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Live {
    /// Spawn `cmd` (a `plainsight live ... --no-tui` command line) and wait until it says it captures.
    pub fn spawn(mut cmd: Command) -> Live {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn plainsight live");
        let stderr = child.stderr.take().expect("stderr");
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (all_tx, all_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("capturing on") {
                    let _ = started_tx.send(());
                }
                all.push_str(&line);
                all.push('\n');
            }
            let _ = all_tx.send(all);
        });
        if started_rx.recv_timeout(Duration::from_secs(20)).is_err() {
            let _ = child.kill();
            let err = all_rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
            panic!("plainsight live did not start capturing:\n{err}");
        }
        Live { child, stderr: all_rx }
    }

    /// Wait (at most `limit`) for it to end by itself (`--duration`): its exit status and stderr.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let start = Instant::now();
        let code = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s.code();
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("plainsight live did not stop within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        (code, self.stderr.recv_timeout(Duration::from_secs(5)).unwrap_or_default())
    }

    /// SIGINT, then [`Live::wait`].
    pub fn stop(self) -> (Option<i32>, String) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
        self.wait(Duration::from_secs(20))
    }
}
