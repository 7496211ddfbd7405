//! Generate large synthetic captures with ground truth, for benchmarks and memory checks.
//!
//! ```text
//! cargo run --release --example gen_capture -- http  OUT.pcap [MEGABYTES] [FLOWS]
//! cargo run --release --example gen_capture -- flood OUT.pcap [FLOWS]
//! ```
//! `http`: interleaved keep-alive HTTP/1.1 flows (Content-Length and chunked bodies of 200 B to 64 KiB,
//! several content types), ~3% of requests carrying a credential (Bearer JWT, Basic, session cookie,
//! form login, API key, URL token), a fifth of those sent in 64-byte segments so the secret is split.
//! Writes OUT.truth.json: `{"credentials": N, "split": M, "secrets": [...]}`.
//! `flood`: FLOWS one-packet flows (SYNs from distinct ports) plus one slow-drip flow that sends a
//! Bearer request one byte every 1000 packets: memory must stay flat and the drip still be found.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;

use plainsight::capture::writer::PcapWriter;
use plainsight::decode::LinkType;
use plainsight::synth::{Conversation, Frame, SYN, jwt, tcp_frame};
use plainsight::time::Timestamp;

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
                    secrets.push(t);
                }
                1 => {
                    use base64::Engine as _;
                    let p = format!("pw-{id}-{}", rng.next() % 1_000_000);
                    extra = format!(
                        "Authorization: Basic {}\r\n",
                        base64::engine::general_purpose::STANDARD.encode(format!("user{id}:{p}"))
                    );
                    secrets.push(p);
                }
                2 => {
                    let s = format!("sess{id:08}{:016x}", rng.next());
                    extra = format!("Cookie: _ga=GA1.2.3.4; sessionid={s}\r\n");
                    secrets.push(s);
                }
                3 => {
                    let p = format!("Login-{id}-{:x}", rng.next() % 0xffff_ffff);
                    method = "POST";
                    target = "/login".into();
                    body = format!("username=user{id}&password={p}");
                    extra = "Content-Type: application/x-www-form-urlencoded\r\n".into();
                    secrets.push(p);
                }
                4 => {
                    let k = format!("key-{id}-{:016x}", rng.next());
                    extra = format!("X-API-Key: {k}\r\n");
                    secrets.push(k);
                }
                _ => {
                    let t = format!("at{id}x{:016x}", rng.next());
                    target = format!("/feed?access_token={t}&page=1");
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
    let truth = serde_json::json!({"credentials": secrets.len(), "split": split, "requests": req_no, "bytes": bytes, "secrets": secrets});
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("http"), Some(out)) => http(out, arg(2, 300), arg(3, 6400) as usize),
        (Some("flood"), Some(out)) => flood(out, arg(2, 200_000) as usize),
        _ => {
            eprintln!("usage: gen_capture http OUT.pcap [MEGABYTES] [FLOWS] | flood OUT.pcap [FLOWS]");
            std::process::exit(2);
        }
    }
}
