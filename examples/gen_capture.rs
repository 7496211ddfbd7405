//! Generate large synthetic captures with ground truth, for benchmarks and memory checks.
//!
//! ```text
//! cargo run --release --example gen_capture -- http  OUT.pcap [MEGABYTES] [FLOWS]
//! cargo run --release --example gen_capture -- flood OUT.pcap [FLOWS]
//! cargo run --release --example gen_capture -- protos OUT.pcap [MEGABYTES] [CONCURRENT]
//! cargo run --release --example gen_capture -- greetings OUT.pcap [FLOWS]
//! cargo run --release --example gen_capture -- kafka OUT.pcap ALICE_PW BOB_PW CAROL_PW
//! ```
//! `http`: interleaved keep-alive HTTP/1.1 flows (Content-Length and chunked bodies of 200 B to 64 KiB,
//! several content types), ~3% of requests carrying a credential (Bearer JWT, Basic, session cookie,
//! form login, API key, URL token), a fifth of those sent in 64-byte segments so the secret is split.
//! Writes OUT.truth.json: `{"credentials": N, "split": M, "secrets": [...], "expected": [...]}`, where
//! `expected` gives each planted secret its alert kind and the severity of README's rules (every server
//! answers 200, so passwords are critical; the JWTs expire a day after the capture starts, so high).
//! `flood`: FLOWS one-packet flows (SYNs from distinct ports) plus one slow-drip flow that sends a
//! Bearer request one byte every 1000 packets: memory must stay flat and the drip still be found.
//! `protos`: FTP, IMAP, SMTP and Redis sessions (CONCURRENT interleaved at a time, 4 servers per
//! protocol), each with one login of a distinct password, one in eight refused, around ordinary work
//! (FTP LIST, IMAP FETCH of 4 KiB messages, a 2-16 KiB mail through DATA, pipelined GET/SET). Writes
//! OUT.truth.json with the expected alerts: one per accepted login (`expected`: secret, kind, critical),
//! one per (protocol, server) with refusals (`refused_groups`: kind, server, count, medium), and
//! `sightings` (the sum of the alerts' counts: every login).
//! `kafka`: Kafka SASL/PLAIN built by code (examples/gen_more/kafka.rs); captures/gen/gen_more.sh runs
//! it and writes the truth.
//! `greetings`: FLOWS connections to port 2000 whose server only sends `220 ` and which never close
//! (the prober can never decide), then one FTP login that must still be found.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;

use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::{Conversation, Frame, SYN, jwt, tcp_frame};

#[path = "gen_more/kafka.rs"]
mod kafka;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

type W = PcapWriter<BufWriter<File>>;

fn write(w: &mut W, frames: Vec<Frame>, ts: &mut i64) -> u64 {
    let mut n = 0;
    for f in frames {
        *ts += 10;
        n += f.data.len() as u64;
        w.write_packet(Timestamp(*ts), &f.data).expect("write packet");
    }
    n
}

fn addr(i: usize, server: bool) -> SocketAddr {
    if server {
        SocketAddr::from(([10, 200, (i % 4) as u8, 1], [80, 8080, 8000, 3000][i % 4]))
    } else {
        SocketAddr::from((
            [10, 100 + (i / 60000) as u8, ((i / 250) % 240) as u8, (i % 250 + 1) as u8],
            1024 + (i % 60000) as u16,
        ))
    }
}

fn http(out: &str, megabytes: u64, flows: usize) {
    let mut w = PcapWriter::new(BufWriter::new(File::create(out).expect("create")), LinkType::ETHERNET, 262_144)
        .expect("header");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut convs: Vec<Conversation> = (0..flows).map(|i| Conversation::new(addr(i, false), addr(i, true))).collect();
    let mut ts = 1_795_000_000_000_000i64;
    let mut bytes = 0u64;
    let mut secrets: Vec<String> = Vec::new();
    let mut expected: Vec<serde_json::Value> = Vec::new();
    let mut split = 0usize;
    for c in convs.iter_mut() {
        c.handshake();
        bytes += write(&mut w, c.take(), &mut ts);
    }
    let bodies: Vec<Vec<u8>> = [200usize, 2_000, 16_000, 64_000]
        .iter()
        .map(|&n| (0..n).map(|i| b"abcdefghij{}\":, \n"[i % 17]).collect())
        .collect();
    let mut req_no = 0u64;
    while bytes < megabytes * 1_000_000 {
        let i = rng.below(flows as u64) as usize;
        let c = &mut convs[i];
        req_no += 1;
        let host = format!("svc{}.lab", i % 4);
        let mut req = String::new();
        let mut body = String::new();
        let cred = rng.below(100) < 3;
        let mut method = "GET";
        let mut target = format!("/assets/{}/app-{}.js", i, req_no % 97);
        let mut extra = String::new();
        if cred {
            let id = secrets.len();
            match id % 6 {
                0 => {
                    let t = jwt(&format!(r#"{{"sub":"user{id}","exp":1795090000}}"#));
                    extra = format!("Authorization: Bearer {t}\r\n");
                    expected.push(serde_json::json!({"secret": t, "kind": "bearer_jwt", "severity": "high"}));
                    secrets.push(t);
                }
                1 => {
                    use base64::Engine as _;
                    let p = format!("pw-{id}-{}", rng.next() % 1_000_000);
                    extra = format!(
                        "Authorization: Basic {}\r\n",
                        base64::engine::general_purpose::STANDARD.encode(format!("user{id}:{p}"))
                    );
                    expected.push(serde_json::json!({"secret": p, "kind": "basic_auth", "severity": "critical"}));
                    secrets.push(p);
                }
                2 => {
                    let s = format!("sess{id:08}{:016x}", rng.next());
                    extra = format!("Cookie: _ga=GA1.2.3.4; sessionid={s}\r\n");
                    expected.push(serde_json::json!({"secret": s, "kind": "cookie_token", "severity": "high"}));
                    secrets.push(s);
                }
                3 => {
                    let p = format!("Login-{id}-{:x}", rng.next() % 0xffff_ffff);
                    method = "POST";
                    target = "/login".into();
                    body = format!("username=user{id}&password={p}");
                    extra = "Content-Type: application/x-www-form-urlencoded\r\n".into();
                    expected.push(serde_json::json!({"secret": p, "kind": "form_login", "severity": "critical"}));
                    secrets.push(p);
                }
                4 => {
                    let k = format!("key-{id}-{:016x}", rng.next());
                    extra = format!("X-API-Key: {k}\r\n");
                    expected.push(serde_json::json!({"secret": k, "kind": "api_key_header", "severity": "high"}));
                    secrets.push(k);
                }
                _ => {
                    let t = format!("at{id}x{:016x}", rng.next());
                    target = format!("/feed?access_token={t}&page=1");
                    expected.push(serde_json::json!({"secret": t, "kind": "url_token", "severity": "high"}));
                    secrets.push(t);
                }
            }
        }
        req.push_str(&format!(
            "{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n{extra}"
        ));
        if !body.is_empty() {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        let mss = if cred && rng.below(5) == 0 {
            split += 1;
            64
        } else {
            1460
        };
        c.send(true, req.as_bytes(), mss);
        let b = &bodies[rng.below(4) as usize];
        let ct = ["application/json", "text/html", "application/javascript", "image/png"][rng.below(4) as usize];
        let mut resp;
        if rng.below(3) == 0 {
            resp = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
            for chunk in b.chunks(4096) {
                resp.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                resp.extend_from_slice(chunk);
                resp.extend_from_slice(b"\r\n");
            }
            resp.extend_from_slice(b"0\r\n\r\n");
        } else {
            resp = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n", b.len()).into_bytes();
            resp.extend_from_slice(b);
        }
        c.server(&resp);
        bytes += write(&mut w, c.take(), &mut ts);
    }
    for c in convs.iter_mut() {
        c.close();
        bytes += write(&mut w, c.take(), &mut ts);
    }
    w.into_inner().flush().expect("flush");
    let truth = serde_json::json!({"credentials": secrets.len(), "split": split, "requests": req_no, "bytes": bytes, "secrets": secrets, "expected": expected});
    std::fs::write(format!("{}.truth.json", out.trim_end_matches(".pcap")), truth.to_string()).expect("truth");
    eprintln!("{out}: {bytes} bytes of frames, {req_no} requests, {} credentials ({split} split)", secrets.len());
}

fn flood(out: &str, flows: usize) {
    let mut w = PcapWriter::new(BufWriter::new(File::create(out).expect("create")), LinkType::ETHERNET, 262_144)
        .expect("header");
    let mut ts = 1_795_000_000_000_000i64;
    let token = jwt(r#"{"sub":"drip","exp":1795090000}"#);
    let req = format!("GET /slow HTTP/1.1\r\nHost: drip.lab\r\nAuthorization: Bearer {token}\r\n\r\n");
    let mut drip = Conversation::new("10.9.9.9:40000".parse().expect("addr"), "10.9.9.1:80".parse().expect("addr"));
    drip.handshake();
    write(&mut w, drip.take(), &mut ts);
    let mut sent = 0;
    let srv: SocketAddr = "10.200.0.1:80".parse().expect("addr");
    for i in 0..flows {
        let f = Frame { ts: 0, data: tcp_frame(addr(i, false), srv, i as u32, 0, SYN, b"") };
        write(&mut w, vec![f], &mut ts);
        if i % 1000 == 999 && sent < req.len() {
            drip.send(true, &req.as_bytes()[sent..sent + 1], 1);
            sent += 1;
            write(&mut w, drip.take(), &mut ts);
        }
    }
    drip.send(true, &req.as_bytes()[sent..], 1460);
    write(&mut w, drip.take(), &mut ts);
    w.into_inner().flush().expect("flush");
    eprintln!("{out}: {flows} one-packet flows and a slow drip flow ({sent} bytes dripped)");
}

/// The steps of a conversation: (from the client, bytes).
type Steps = Vec<(bool, Vec<u8>)>;

/// One session of `protos`: its protocol (index), its steps and its password.
fn proto_session(rng: &mut Rng, n: usize, refused: bool) -> (usize, Steps, String) {
    use base64::Engine as _;
    let proto = n % 4;
    let pw = format!("pw{n}-{:08x}", rng.next() as u32);
    let user = format!("user{n}");
    let t = |c: bool, s: &str| (c, s.as_bytes().to_vec());
    let mut steps = Vec::new();
    match proto {
        0 => {
            steps.push(t(false, "220 (vsFTPd 3.0.3)\r\n"));
            steps.push(t(true, &format!("USER {user}\r\n")));
            steps.push(t(false, "331 Please specify the password.\r\n"));
            steps.push(t(true, &format!("PASS {pw}\r\n")));
            if refused {
                steps.push(t(false, "530 Login incorrect.\r\n"));
            } else {
                steps.push(t(false, "230 Login successful.\r\n"));
                steps.push(t(true, "SYST\r\n"));
                steps.push(t(false, "215 UNIX Type: L8\r\n"));
                for d in 0..1 + rng.below(4) {
                    steps.push(t(true, &format!("CWD /srv/data/{d}\r\n")));
                    steps.push(t(false, "250 Directory successfully changed.\r\n"));
                    steps.push(t(true, "PASV\r\n"));
                    steps.push(t(false, "227 Entering Passive Mode (10,60,0,21,195,80).\r\n"));
                    steps.push(t(true, "LIST\r\n"));
                    steps.push(t(false, "150 Here comes the directory listing.\r\n226 Directory send OK.\r\n"));
                }
            }
            steps.push(t(true, "QUIT\r\n"));
            steps.push(t(false, "221 Goodbye.\r\n"));
        }
        1 => {
            steps.push(t(
                false,
                "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE STARTTLS] Dovecot ready.\r\n",
            ));
            steps.push(t(true, &format!("a1 LOGIN {user} {pw}\r\n")));
            if refused {
                steps.push(t(false, "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"));
            } else {
                steps.push(t(false, "a1 OK [CAPABILITY IMAP4rev1] Logged in\r\n"));
                steps.push(t(true, "a2 SELECT INBOX\r\n"));
                steps.push(t(false, "* FLAGS (\\Answered \\Seen)\r\n* 8 EXISTS\r\n* 0 RECENT\r\na2 OK [READ-WRITE] Select completed.\r\n"));
                steps.push(t(true, "a3 FETCH 1:8 (FLAGS BODY.PEEK[])\r\n"));
                let mut f = Vec::new();
                for i in 1..=8 {
                    let len = 1024 + rng.below(4096) as usize;
                    f.extend_from_slice(format!("* {i} FETCH (FLAGS (\\Seen) BODY[] {{{len}}}\r\n").as_bytes());
                    f.extend((0..len).map(|j| if j % 72 == 71 { b'\n' } else { b'a' + (j % 26) as u8 }));
                    f.extend_from_slice(b")\r\n");
                }
                f.extend_from_slice(b"a3 OK Fetch completed.\r\n");
                steps.push((false, f));
            }
            steps.push(t(true, "a4 LOGOUT\r\n"));
            steps.push(t(false, "* BYE Logging out\r\na4 OK Logout completed.\r\n"));
        }
        2 => {
            steps.push(t(false, "220 mail.lab ESMTP Postfix\r\n"));
            steps.push(t(true, "EHLO client.lab\r\n"));
            steps.push(t(
                false,
                "250-mail.lab\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            ));
            let b64 = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pw}"));
            steps.push(t(true, &format!("AUTH PLAIN {b64}\r\n")));
            if refused {
                steps.push(t(false, "535 5.7.8 Error: authentication failed\r\n"));
            } else {
                steps.push(t(false, "235 2.7.0 Authentication successful\r\n"));
                steps.push(t(true, &format!("MAIL FROM:<{user}@lab>\r\n")));
                steps.push(t(false, "250 2.1.0 Ok\r\n"));
                steps.push(t(true, "RCPT TO:<ops@lab>\r\n"));
                steps.push(t(false, "250 2.1.5 Ok\r\n"));
                steps.push(t(true, "DATA\r\n"));
                steps.push(t(false, "354 End data with <CR><LF>.<CR><LF>\r\n"));
                let mut m = format!("From: <{user}@lab>\r\nTo: <ops@lab>\r\nSubject: report {n}\r\n\r\n").into_bytes();
                let size = 2048 + rng.below(14 * 1024) as usize;
                while m.len() < size {
                    m.extend_from_slice(
                        b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n",
                    );
                }
                m.extend_from_slice(b".\r\n");
                steps.push((true, m));
                steps.push(t(false, "250 2.0.0 Ok: queued\r\n"));
            }
            steps.push(t(true, "QUIT\r\n"));
            steps.push(t(false, "221 2.0.0 Bye\r\n"));
        }
        _ => {
            let resp = |args: &[&[u8]]| {
                let mut v = format!("*{}\r\n", args.len()).into_bytes();
                for a in args {
                    v.extend(format!("${}\r\n", a.len()).bytes());
                    v.extend_from_slice(a);
                    v.extend(b"\r\n");
                }
                v
            };
            steps.push((true, resp(&[b"AUTH", pw.as_bytes()])));
            if refused {
                steps.push(t(false, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"));
            } else {
                steps.push(t(false, "+OK\r\n"));
                let (mut req, mut rep) = (Vec::new(), Vec::new());
                let value = [b'v'; 48];
                for k in 0..50 + rng.below(200) {
                    let key = format!("cache:{n}:{k}");
                    req.extend(resp(&[b"SET", key.as_bytes(), &value]));
                    req.extend(resp(&[b"GET", key.as_bytes()]));
                    rep.extend(b"+OK\r\n$48\r\n");
                    rep.extend(value);
                    rep.extend(b"\r\n");
                }
                steps.push((true, req));
                steps.push((false, rep));
            }
            steps.push((true, resp(&[b"QUIT"])));
            steps.push(t(false, "+OK\r\n"));
        }
    }
    (proto, steps, pw)
}

fn protos(out: &str, megabytes: u64, concurrent: usize) {
    let mut w = PcapWriter::new(BufWriter::new(File::create(out).expect("create")), LinkType::ETHERNET, 262_144)
        .expect("header");
    let mut rng = Rng(0x5eed_9876_0000_0002);
    let mut ts = 1_795_000_000_000_000i64;
    let mut bytes = 0u64;
    let ports = [21u16, 143, 587, 6379];
    let names = ["ftp", "imap", "smtp", "redis"];
    let kinds = ["ftp_login", "imap_login", "smtp_auth", "redis_auth"];
    let mut accepted: Vec<String> = Vec::new();
    let mut expected: Vec<serde_json::Value> = Vec::new();
    let mut refused = [[0u64; 4]; 4];
    let mut sessions = 0usize;
    let mut active: Vec<(Conversation, Steps, usize)> = Vec::new();
    loop {
        while active.len() < concurrent && bytes < megabytes * 1_000_000 {
            let n = sessions;
            sessions += 1;
            let is_refused = rng.below(8) == 0;
            let (proto, steps, pw) = proto_session(&mut rng, n, is_refused);
            let server_no = (n / 4) % 4;
            if is_refused {
                refused[proto][server_no] += 1;
            } else {
                expected.push(serde_json::json!({"secret": pw, "kind": kinds[proto], "severity": "critical"}));
                accepted.push(pw);
            }
            let server = SocketAddr::from(([10, 60, proto as u8, server_no as u8 + 1], ports[proto]));
            let mut c = Conversation::new(addr(n, false), server);
            c.handshake();
            bytes += write(&mut w, c.take(), &mut ts);
            active.push((c, steps, 0));
        }
        if active.is_empty() {
            break;
        }
        let i = rng.below(active.len() as u64) as usize;
        let (c, steps, next) = &mut active[i];
        let (client, data) = &steps[*next];
        c.send(*client, data, 1460);
        *next += 1;
        let done = *next == steps.len();
        if done {
            c.close();
        }
        bytes += write(&mut w, c.take(), &mut ts);
        if done {
            active.swap_remove(i);
        }
    }
    w.into_inner().flush().expect("flush");
    let groups = refused.iter().flatten().filter(|&&r| r > 0).count();
    let refusals: u64 = refused.iter().flatten().sum();
    let by_proto: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(refused.iter())
        .map(|(n, r)| (n.to_string(), serde_json::json!(r.iter().sum::<u64>())))
        .collect();
    // Refused logins against one server fold into one alert, medium whatever the password.
    let refused_groups: Vec<serde_json::Value> = (0..4)
        .flat_map(|p| (0..4).map(move |s| (p, s)))
        .filter(|&(p, s)| refused[p][s] > 0)
        .map(|(p, s)| {
            let server = SocketAddr::from(([10, 60, p as u8, s as u8 + 1], ports[p]));
            serde_json::json!({"kind": kinds[p], "server": server.to_string(), "count": refused[p][s], "severity": "medium"})
        })
        .collect();
    let truth = serde_json::json!({
        "sessions": sessions, "bytes": bytes, "accepted": accepted.len(), "refused": refusals,
        "refused_by_proto": by_proto, "alerts": accepted.len() + groups, "sightings": sessions,
        "secrets": accepted, "expected": expected, "refused_groups": refused_groups,
    });
    std::fs::write(format!("{}.truth.json", out.trim_end_matches(".pcap")), truth.to_string()).expect("truth");
    eprintln!(
        "{out}: {bytes} bytes of frames, {sessions} sessions ({} accepted, {refusals} refused in {groups} groups): expect {} alerts, counts summing to {sessions}",
        accepted.len(),
        accepted.len() + groups
    );
}

fn greetings(out: &str, flows: usize) {
    let mut w = PcapWriter::new(BufWriter::new(File::create(out).expect("create")), LinkType::ETHERNET, 262_144)
        .expect("header");
    let mut ts = 1_795_000_000_000_000i64;
    for i in 0..flows {
        let srv = SocketAddr::from(([10, 70, (i % 200) as u8, 1], 2000));
        let mut c = Conversation::new(addr(i, false), srv);
        c.handshake();
        c.server(b"220 ");
        write(&mut w, c.take(), &mut ts);
    }
    let mut c = Conversation::new("10.9.9.9:40000".parse().expect("addr"), "10.9.9.1:21".parse().expect("addr"));
    c.handshake();
    c.server(b"220 (vsFTPd 3.0.3)\r\n").client(b"USER late\r\n").server(b"331 Password?\r\n");
    c.client(b"PASS still-found-after-flood\r\n").server(b"230 Login successful.\r\n").close();
    write(&mut w, c.take(), &mut ts);
    w.into_inner().flush().expect("flush");
    eprintln!("{out}: {flows} connections greeted with a bare `220 `, then one FTP login");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("http"), Some(out)) => http(out, arg(2, 300), arg(3, 6400) as usize),
        (Some("flood"), Some(out)) => flood(out, arg(2, 200_000) as usize),
        (Some("protos"), Some(out)) => protos(out, arg(2, 50), arg(3, 256) as usize),
        (Some("greetings"), Some(out)) => greetings(out, arg(2, 200_000) as usize),
        (Some("kafka"), Some(out)) if args.len() == 5 => {
            let p = kafka::Passwords { alice: &args[2], bob: &args[3], carol: &args[4] };
            let mut w =
                PcapWriter::new(BufWriter::new(File::create(out).expect("create")), LinkType::ETHERNET, 262_144)
                    .expect("pcap header");
            for f in kafka::conversations(&p) {
                w.write_packet(Timestamp(f.ts), &f.data).expect("write packet");
            }
            w.into_inner().flush().expect("flush");
        }
        _ => {
            eprintln!(
                "usage: gen_capture http OUT.pcap [MEGABYTES] [FLOWS] | flood OUT.pcap [FLOWS] | \
                 protos OUT.pcap [MEGABYTES] [CONCURRENT] | greetings OUT.pcap [FLOWS] | \
                 kafka OUT.pcap ALICE_PW BOB_PW CAROL_PW"
            );
            std::process::exit(2);
        }
    }
}
