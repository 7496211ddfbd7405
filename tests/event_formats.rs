//! `--alerts-format eve|ecs` on every bundled capture: each event carries the fields docs/alerts.md's
//! mapping table documents, with its JSON types (the table is read from the document, so the two cannot
//! drift); no event carries a secret without `--reveal`, and with it they do; the Community ID agrees
//! with an independent implementation (Python's hashlib); `pcap_cnt` is the frame that carried the
//! secret, found by scanning the capture's frames for the secret's bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every capture in captures/, by name.
fn captures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("captures"))
        .expect("captures/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".pcap").map(str::to_string))
        .collect();
    v.sort();
    assert!(v.len() >= 25, "{v:?}");
    v
}

/// `plainsight read` on one capture, alerts on stdout, from the repository root.
fn events(name: &str, extra: &[&str]) -> Vec<Value> {
    let cap = format!("captures/{name}.pcap");
    let mut args = vec!["read", "-q", "--no-report", "--alerts", "-"];
    args.extend_from_slice(extra);
    args.push(&cap);
    let o = Command::new(common::bin()).current_dir(root()).args(&args).output().expect("run plainsight");
    assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).expect("utf8");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}"))).collect()
}

/// A documented field: its path in the event and its type (`optional`: may be absent or null).
#[derive(Debug)]
struct Field {
    path: String,
    ty: String,
    optional: bool,
}

/// The cells of a markdown table row.
fn cells(line: &str) -> Vec<&str> {
    line.trim().trim_matches('|').split('|').map(str::trim).collect()
}

/// The backticked name alone in a cell, if the cell is one.
fn code(cell: &str) -> Option<&str> {
    cell.strip_prefix('`')?.strip_suffix('`').filter(|c| !c.contains('`'))
}

/// The section of docs/alerts.md that starts with `heading`, up to the next `## `.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let rest = doc.split(heading).nth(1).unwrap_or_else(|| panic!("docs/alerts.md has no {heading}"));
    rest.split("\n## ").next().unwrap_or(rest)
}

fn doc() -> String {
    std::fs::read_to_string(root().join("docs/alerts.md")).expect("docs/alerts.md")
}

/// The mapping table's fields of one format (column 1 eve, 2 ecs).
fn mapping(col: usize) -> Vec<Field> {
    let doc = doc();
    let sec = section(&doc, "## Event formats");
    let mut rows = sec.lines().skip_while(|l| !l.starts_with("| native | eve | ecs | type |")).skip(2);
    let mut out = Vec::new();
    for line in rows.by_ref().take_while(|l| l.starts_with('|')) {
        let c = cells(line);
        assert_eq!(c.len(), 4, "{line}");
        let Some(path) = code(c[col]) else {
            assert_eq!(c[col], "—", "a cell is a `field` or —: {line}");
            continue;
        };
        let (ty, optional) = match c[3].strip_suffix('?') {
            Some(t) => (t, true),
            None => (c[3], false),
        };
        assert!(["string", "integer", "boolean", "array", "object"].contains(&ty), "{line}");
        out.push(Field { path: path.to_string(), ty: ty.to_string(), optional });
    }
    assert!(out.len() >= 20, "the mapping table was not found or is short: {out:?}");
    out
}

/// The native record's fields from the *Fields* table, with their types (`or null`: optional).
fn native_fields() -> Vec<Field> {
    let doc = doc();
    let sec = section(&doc, "## Fields");
    // The table of the record itself, not the `jwt` object's below it.
    let sec = sec.split("\n### ").next().unwrap_or(sec);
    let mut out = Vec::new();
    for line in sec.lines().filter(|l| l.starts_with("| `")) {
        let c = cells(line);
        let optional = c[1].contains("or null");
        let ty = match c[1].split_whitespace().next() {
            Some("bool") => "boolean",
            Some("array") => "array",
            Some("object") => "object",
            Some(t) => t,
            None => panic!("{line}"),
        };
        for name in c[0].split(',').filter_map(|n| code(n.trim())) {
            out.push(Field { path: format!("plainsight.{name}"), ty: ty.to_string(), optional });
        }
    }
    assert!(out.len() >= 25, "{out:?}");
    out
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    // ECS's `@timestamp` is one key; every other dot is a level.
    if let Some(x) = v.get(path) {
        return Some(x);
    }
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn type_ok(v: &Value, ty: &str) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

fn check(name: &str, fmt: &str, e: &Value, fields: &[Field], problems: &mut Vec<String>) {
    for f in fields {
        match at(e, &f.path) {
            None | Some(Value::Null) if f.optional => {}
            None => problems.push(format!("{name} {fmt}: no {} in {e}", f.path)),
            Some(v) if !type_ok(v, &f.ty) => problems.push(format!("{name} {fmt}: {} is {v}, not {}", f.path, f.ty)),
            Some(_) => {}
        }
    }
}

#[test]
fn every_event_of_every_capture_carries_the_documented_fields_with_their_types() {
    let native = native_fields();
    let mut problems = Vec::new();
    let mut n = 0;
    for (col, fmt) in [(1, "eve"), (2, "ecs")] {
        let fields = mapping(col);
        for name in captures() {
            for e in events(&name, &["--alerts-format", fmt]) {
                n += 1;
                check(&name, fmt, &e, &fields, &mut problems);
                check(&name, fmt, &e, &native, &mut problems);
                // Fixed values the document names.
                let kind = if fmt == "eve" { at(&e, "event_type") } else { at(&e, "event.kind") };
                assert_eq!(kind, Some(&Value::from("alert")), "{name}");
                assert_eq!(at(&e, "plainsight.event"), Some(&Value::from("new")), "{name}");
                let sev = at(&e, if fmt == "eve" { "alert.severity" } else { "event.severity" });
                assert!(sev.and_then(Value::as_u64).is_some_and(|s| (1..=3).contains(&s)), "{name}: {sev:?}");
                let id = at(&e, "plainsight.event_id").and_then(Value::as_str).unwrap();
                let run = at(&e, "plainsight.run_id").and_then(Value::as_str).unwrap();
                assert_eq!(run.len(), 16, "{run}");
                let num = at(&e, "plainsight.id").and_then(Value::as_u64).unwrap();
                assert!(id.ends_with(&format!(":{run}:{num}")), "{id}");
                if fmt == "ecs" {
                    let outcome = at(&e, "event.outcome").and_then(Value::as_str).unwrap();
                    let want = match at(&e, "plainsight.verdict").and_then(Value::as_str) {
                        Some("accepted") => "success",
                        Some("refused") => "failure",
                        _ => "unknown",
                    };
                    assert_eq!(outcome, want, "{name}");
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(n > 300, "only {n} events");
}

/// The secrets a capture's truth file lists (percent-encoded forms checked too).
fn truth_secrets(name: &str) -> Vec<String> {
    let p = root().join(format!("captures/{name}.truth.json"));
    let Ok(text) = std::fs::read_to_string(p) else { return Vec::new() };
    let t: Value = serde_json::from_str(&text).expect("truth json");
    let mut v: Vec<String> = t["leaks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["secret"].as_str().map(str::to_string))
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Percent-encoded as a form or URL carries it (RFC 3986's unreserved characters kept).
fn percent(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

#[test]
fn no_event_carries_a_secret_without_reveal_and_every_secret_with_it() {
    let mut checked = 0;
    for name in captures() {
        let secrets = truth_secrets(&name);
        for fmt in ["eve", "ecs"] {
            let redacted: Vec<String> = events(&name, &["--alerts-format", fmt]).iter().map(Value::to_string).collect();
            let text = redacted.join("\n");
            // The parsed strings too: JSON escapes (`\/`, `\u...`) must not hide a secret.
            let raw: String = events(&name, &["--alerts-format", fmt])
                .iter()
                .map(|e| format!("{:?}", e))
                .collect::<Vec<_>>()
                .join("\n");
            for s in &secrets {
                assert!(
                    !text.contains(s.as_str()) && !raw.contains(s.as_str()),
                    "{name} {fmt}: a secret without --reveal"
                );
                assert!(!text.contains(&percent(s)), "{name} {fmt}: a percent-encoded secret without --reveal");
            }
            // With --reveal: the secrets of the native file (which tests/golden.rs holds to the truth).
            let args = ["--threads", "1", "--alerts-at-end", "--reveal"];
            let native: Vec<Value> = events(&name, &args);
            let revealed = events(&name, &[&args[..], &["--alerts-format", fmt]].concat());
            assert_eq!(native.len(), revealed.len(), "{name} {fmt}");
            for (n, e) in native.iter().zip(&revealed) {
                assert_eq!(at(e, "plainsight.secret"), Some(&n["secret"]), "{name} {fmt}");
                assert_eq!(at(e, "plainsight.redacted"), Some(&Value::Bool(false)));
            }
            let shown: Vec<&str> = revealed.iter().filter_map(|e| at(e, "plainsight.secret")?.as_str()).collect();
            let found = secrets.iter().filter(|s| shown.contains(&s.as_str())).count();
            assert!(secrets.is_empty() || found > 0, "{name} {fmt}: --reveal shows no truth secret");
            checked += found;
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn native_with_a_sensor_is_the_native_record_followed_by_the_fleet_fields() {
    for name in ["demo", "ftp", "snmp"] {
        let plain = lines(name, &["--threads", "1"]);
        let fleet = lines(name, &["--threads", "1", "--sensor", "lan-a"]);
        assert_eq!(plain.len(), fleet.len());
        for (p, f) in plain.iter().zip(&fleet) {
            // Byte for byte the native line, then the fleet fields in their documented order.
            let head = p.strip_suffix('}').unwrap();
            let tail = f.strip_prefix(head).unwrap_or_else(|| panic!("{name}: {f} does not start with {head}"));
            let v: Value = serde_json::from_str(f).unwrap();
            let want = format!(
                r#","community_id":{},"pcap_cnt":{},"sensor":"lan-a","run_id":{},"event_id":{},"event":"new"}}"#,
                v["community_id"], v["pcap_cnt"], v["run_id"], v["event_id"]
            );
            assert_eq!(tail, want, "{name}");
        }
    }
}

/// The alert lines of a run, as text.
fn lines(name: &str, extra: &[&str]) -> Vec<String> {
    let cap = format!("captures/{name}.pcap");
    let mut args = vec!["read", "-q", "--no-report", "--alerts", "-"];
    args.extend_from_slice(extra);
    args.push(&cap);
    let o = Command::new(common::bin()).current_dir(root()).args(&args).output().expect("run plainsight");
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap().lines().map(str::to_string).collect()
}

/// One frame's direction and payload (Ethernet, optional VLAN tags, IPv4 or IPv6, TCP or UDP).
struct Frame {
    src: (Vec<u8>, u16),
    dst: (Vec<u8>, u16),
    payload: Vec<u8>,
}

/// The frames of a little-endian microsecond pcap with Ethernet link type (every bundled capture).
fn frames(path: &Path) -> Vec<Option<Frame>> {
    let d = std::fs::read(path).expect("capture");
    assert_eq!(&d[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "{}: not a little-endian pcap", path.display());
    assert_eq!(u32::from_le_bytes(d[20..24].try_into().unwrap()), 1, "not Ethernet");
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= d.len() {
        let incl = u32::from_le_bytes(d[off + 8..off + 12].try_into().unwrap()) as usize;
        let f = &d[off + 16..(off + 16 + incl).min(d.len())];
        out.push(parse(f));
        off += 16 + incl;
    }
    out
}

fn parse(f: &[u8]) -> Option<Frame> {
    let mut i = 12;
    let mut ethertype = u16::from_be_bytes([*f.get(i)?, *f.get(i + 1)?]);
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        i += 4;
        ethertype = u16::from_be_bytes([*f.get(i)?, *f.get(i + 1)?]);
    }
    let ip = f.get(i + 2..)?;
    let (src, dst, proto, l4) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            (ip.get(12..16)?.to_vec(), ip.get(16..20)?.to_vec(), *ip.get(9)?, ip.get(ihl..total.min(ip.len()))?)
        }
        0x86dd => {
            let plen = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            (ip.get(8..24)?.to_vec(), ip.get(24..40)?.to_vec(), *ip.get(6)?, ip.get(40..(40 + plen).min(ip.len()))?)
        }
        _ => return None,
    };
    let ports = (u16::from_be_bytes([*l4.first()?, *l4.get(1)?]), u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]));
    let payload = match proto {
        6 => l4.get(usize::from(l4.get(12)? >> 4) * 4..)?,
        17 => l4.get(8..)?,
        _ => return None,
    };
    Some(Frame { src: (src, ports.0), dst: (dst, ports.1), payload: payload.to_vec() })
}

fn endpoint(addr: &str) -> (Vec<u8>, u16) {
    let sa: std::net::SocketAddr = addr.parse().expect("ip:port");
    let ip = match sa.ip() {
        std::net::IpAddr::V4(v) => v.octets().to_vec(),
        std::net::IpAddr::V6(v) => v.octets().to_vec(),
    };
    (ip, sa.port())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// `pcap_cnt` against the frames themselves: where a secret's bytes appear whole in one frame of its
/// flow, the event names that frame, or (a message of several segments) a later frame of the same
/// direction before the other side answered with data: the frame that completed the message, where
/// Wireshark shows it. For logins of other protocols and single-segment messages, exactly the frame.
/// `read --threads 2` numbers as `--threads 1` does (leaks seen once).
#[test]
fn pcap_cnt_is_the_frame_that_carried_the_secret() {
    let (mut exact, mut later, mut total) = (0, 0, 0);
    for name in captures() {
        let fr = frames(&root().join(format!("captures/{name}.pcap")));
        // At the end: a refused-login group's first event depends on which worker reports first.
        let one = events(&name, &["--threads", "1", "--reveal", "--alerts-at-end", "--alerts-format", "eve"]);
        let two = events(&name, &["--threads", "2", "--reveal", "--alerts-at-end", "--alerts-format", "eve"]);
        let key = |e: &Value| {
            (
                e["plainsight"]["kind"].to_string(),
                e["plainsight"]["fingerprint"].to_string(),
                e["plainsight"]["server"].to_string(),
                e["pcap_cnt"].as_u64(),
            )
        };
        // A leak seen once: a leak seen on several connections describes the sighting reported first
        // (its client, capture and packet), which with several workers is whichever finished first.
        // `hsts_missing` carries no secret: it is numbered by the packet that revealed it, the plain
        // request or, analysed later by another worker, the TLS connection.
        let once = |e: &&Value| e["plainsight"]["count"] == 1 && e["plainsight"]["kind"] != "hsts_missing";
        let mut k1: Vec<_> = one.iter().filter(once).map(key).collect();
        let mut k2: Vec<_> = two.iter().filter(once).map(key).collect();
        k1.sort();
        k2.sort();
        assert_eq!(k1, k2, "{name}: --threads 2 numbers packets as --threads 1");
        for e in &one {
            let secret = e["plainsight"]["secret"].as_str().unwrap().as_bytes();
            if secret.len() < 4 {
                continue;
            }
            let c = endpoint(e["plainsight"]["client"].as_str().unwrap());
            let s = endpoint(e["plainsight"]["server"].as_str().unwrap());
            let of_flow = |f: &Frame| (f.src == c && f.dst == s) || (f.src == s && f.dst == c);
            let hits: Vec<usize> = fr
                .iter()
                .enumerate()
                .filter(|(_, f)| f.as_ref().is_some_and(|f| of_flow(f) && contains(&f.payload, secret)))
                .map(|(i, _)| i)
                .collect();
            if hits.is_empty() {
                continue; // encoded on the wire (base64, SASL) or split across frames
            }
            total += 1;
            let n = e["pcap_cnt"].as_u64().unwrap() as usize;
            let kind = e["plainsight"]["kind"].as_str().unwrap();
            assert!(n >= 1 && n <= fr.len(), "{name} {kind}: pcap_cnt {n} of {} frames", fr.len());
            if hits.contains(&(n - 1)) {
                exact += 1;
                continue;
            }
            // The secret's last frame before the one named (a token handed out, then sent back, is in
            // both directions).
            let x = *hits
                .iter()
                .rev()
                .find(|&&h| h < n - 1)
                .unwrap_or_else(|| panic!("{name} {kind}: pcap_cnt {n} is before every frame with the secret"));
            let first = fr[x].as_ref().unwrap();
            let at_n = fr[n - 1].as_ref().unwrap_or_else(|| panic!("{name} {kind}: frame {n} is not IP"));
            assert!(at_n.src == first.src && at_n.dst == first.dst, "{name} {kind}: frame {n} is another direction");
            let answered = fr[x + 1..n - 1]
                .iter()
                .flatten()
                .any(|f| f.src == first.dst && f.dst == first.src && !f.payload.is_empty());
            assert!(!answered, "{name} {kind}: frame {n} is after the other side answered frame {}", x + 1);
            assert_ne!(e["plainsight"]["protocol"], "ftp", "{name}: a login's line is one frame");
            later += 1;
        }
    }
    eprintln!("pcap_cnt: {exact} exactly the frame with the secret, {later} the frame completing its message");
    assert!(total >= 100 && exact * 10 >= total * 8, "{exact} exact of {total}");
}

/// Community ID recomputed by Python's hashlib from each EVE event's own 5-tuple.
#[test]
fn community_ids_agree_with_an_independent_implementation() {
    if Command::new("python3").arg("-c").arg("import hashlib").output().map(|o| !o.status.success()).unwrap_or(true) {
        common::missing("python3 (an independent Community ID)");
        return;
    }
    let mut tuples = Vec::new();
    let mut want = Vec::new();
    for name in ["demo", "ftp", "snmp", "ipv6_altport", "mail"] {
        for e in events(name, &["--alerts-format", "eve"]) {
            let proto = if e["proto"] == "TCP" { 6 } else { 17 };
            tuples.push(format!(
                "{} {} {} {} {}",
                proto,
                e["src_ip"].as_str().unwrap(),
                e["src_port"],
                e["dest_ip"].as_str().unwrap(),
                e["dest_port"]
            ));
            want.push(e["community_id"].as_str().unwrap().to_string());
        }
    }
    let script = r#"
import base64, hashlib, ipaddress, struct, sys
for line in sys.stdin:
    p, sip, sport, dip, dport = line.split()
    s, d, sport, dport = ipaddress.ip_address(sip).packed, ipaddress.ip_address(dip).packed, int(sport), int(dport)
    if (s, sport) > (d, dport):
        s, d, sport, dport = d, s, dport, sport
    h = hashlib.sha1(struct.pack('!H', 0) + s + d + struct.pack('!BBHH', int(p), 0, sport, dport)).digest()
    print('1:' + base64.b64encode(h).decode())
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(tuples.join("\n").as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let got: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    assert!(want.len() > 20 && tuples.iter().any(|t| t.contains(':')), "IPv6 flows are among them");
    assert_eq!(got, want);
}

/// A live run writes an update event (same event id) when a leak is seen again, at most one per
/// second of capture time with its latest count, the last state at the end: a token sent 60 times
/// in about three seconds is a handful of lines, the last one with count 60. Live events name the
/// interface and carry no file fields.
#[test]
fn live_eve_updates_a_repeated_leak_a_few_times_and_ends_with_its_final_count() {
    if !nix::unistd::Uid::effective().is_root() {
        common::missing("not root (live capture needs root)");
        return;
    }
    for c in ["curl", "python3"] {
        if !Command::new("sh").args(["-c", &format!("command -v {c}")]).output().is_ok_and(|o| o.status.success()) {
            common::missing(&format!("{c} not installed (scripts/deps.sh --test)"));
            return;
        }
    }
    use std::time::{Duration, Instant};
    let port = 40_000 + (std::process::id() % 20_000) as u16;
    struct Kill(Vec<std::process::Child>);
    impl Drop for Kill {
        fn drop(&mut self) {
            for c in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
    let server = Command::new("python3")
        .args(["-c", common::netns::HTTP_SERVER_PY, "127.0.0.1", &port.to_string()])
        .spawn()
        .expect("server");
    let _server = Kill(vec![server]);
    let url = format!("http://127.0.0.1:{port}/v1/items");
    let up = Instant::now();
    while !Command::new("curl").args(["-s", "-o", "/dev/null", &url]).status().is_ok_and(|s| s.success()) {
        assert!(up.elapsed() < Duration::from_secs(10), "test server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = common::tempdir();
    let alerts = dir.path().join("live.eve.json");
    let mut cmd = Command::new(common::bin());
    cmd.args(["live", "-i", "lo", "--no-tui", "-f", &format!("tcp port {port}"), "--alerts"]).arg(&alerts).args([
        "--alerts-format",
        "eve",
        "--sensor",
        "lo-test",
        "--duration",
        "6",
        "--stats",
    ]);
    let live = common::netns::Live::spawn(cmd);
    for _ in 0..60 {
        let ok = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-H", "X-API-Key: k-0123456789abcdef0123", &url])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok);
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, err) = live.wait(Duration::from_secs(20));
    let got = common::read_jsonl(&alerts);
    assert!(!got.is_empty(), "no events; stderr:\n{err}");
    let id = got[0]["plainsight"]["event_id"].clone();
    assert!(got.iter().all(|e| e["plainsight"]["event_id"] == id), "one leak: {got:?}");
    assert_eq!(got[0]["plainsight"]["event"], "new");
    assert!(got[1..].iter().all(|e| e["plainsight"]["event"] == "update"));
    // One per second of capture time at most (about three seconds of repeats), plus the last state.
    assert!(got.len() >= 2 && got.len() <= 7, "{} events: {got:?}", got.len());
    let counts: Vec<u64> = got.iter().map(|e| e["plainsight"]["count"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    assert_eq!(counts.last(), Some(&60), "{counts:?}");
    for e in &got {
        assert_eq!(e["in_iface"], "lo");
        assert_eq!(e["host"], "lo-test");
        assert!(e.get("pcap_filename").is_none() && e.get("pcap_cnt").is_none(), "{e}");
        assert!(!e.to_string().contains("k-0123456789abcdef0123"));
    }
    assert!(err.contains("update events folded into a later one"), "{err}");
}
