//! Kafka SASL/PLAIN conversations built by code (Debian has no Kafka), following the Kafka protocol
//! guide: request and response headers, ApiVersions v3 (flexible), SaslHandshake v0/v1,
//! SaslAuthenticate v2 (flexible, compact bytes), Metadata, Produce. Shared by `gen_capture kafka`
//! (captures/kafka.pcap, driven by captures/gen/gen_more.sh) and the end-to-end tests.

use std::net::SocketAddr;

use plainsight_synth::{Conversation, Frame};

/// The passwords of one capture: alice's (accepted), bob's raw v0 token (accepted), carol's SCRAM
/// (never on the wire).
pub struct Passwords<'a> {
    pub alice: &'a str,
    pub bob: &'a str,
    pub carol: &'a str,
}

/// The wrong password alice tries on the second connection (refused, error 58).
pub const WRONG: &str = "wrong-kafka-pass";

fn sized(body: &[u8]) -> Vec<u8> {
    [(body.len() as u32).to_be_bytes().to_vec(), body.to_vec()].concat()
}

fn str16(s: &[u8]) -> Vec<u8> {
    [(s.len() as u16).to_be_bytes().to_vec(), s.to_vec()].concat()
}

/// A compact string or bytes (unsigned varint length + 1; every value here is under 127 bytes).
fn compact(s: &[u8]) -> Vec<u8> {
    [vec![s.len() as u8 + 1], s.to_vec()].concat()
}

/// A request: header v1 (api key, version, correlation id, client id), or v2 with empty tagged fields.
fn request(key: i16, version: i16, corr: i32, flexible: bool, body: &[u8]) -> Vec<u8> {
    let mut m = [key.to_be_bytes(), version.to_be_bytes()].concat();
    m.extend(corr.to_be_bytes());
    m.extend(str16(b"lab-producer-1"));
    if flexible {
        m.push(0);
    }
    m.extend_from_slice(body);
    sized(&m)
}

/// A response: header v0 (correlation id), or v1 with empty tagged fields.
fn response(corr: i32, flexible: bool, body: &[u8]) -> Vec<u8> {
    let mut m = corr.to_be_bytes().to_vec();
    if flexible {
        m.push(0);
    }
    m.extend_from_slice(body);
    sized(&m)
}

fn api_versions(corr: i32) -> (Vec<u8>, Vec<u8>) {
    let req = request(18, 3, corr, true, &[compact(b"apache-kafka-java"), compact(b"3.6.1"), vec![0]].concat());
    // error 0, api_keys (compact array of key, min, max, tags), throttle 0, tags.
    let keys: [(i16, i16, i16); 5] = [(0, 0, 9), (1, 0, 15), (3, 0, 12), (17, 0, 1), (36, 0, 2)];
    let mut body = vec![0, 0, keys.len() as u8 + 1];
    for (k, lo, hi) in keys {
        body.extend(k.to_be_bytes());
        body.extend(lo.to_be_bytes());
        body.extend(hi.to_be_bytes());
        body.push(0);
    }
    body.extend([0, 0, 0, 0, 0]);
    (req, response(corr, false, &body))
}

fn handshake(version: i16, corr: i32, mech: &str) -> (Vec<u8>, Vec<u8>) {
    let req = request(17, version, corr, false, &str16(mech.as_bytes()));
    let body = [vec![0, 0, 0, 0, 0, 2], str16(b"PLAIN"), str16(b"SCRAM-SHA-256")].concat();
    (req, response(corr, false, &body))
}

/// SaslAuthenticate v2: the token as compact bytes; the answer's error code, message and bytes.
fn authenticate(corr: i32, token: &[u8], code: i16, message: Option<&str>, answer: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let req = request(36, 2, corr, true, &[compact(token), vec![0]].concat());
    let msg = message.map_or(vec![0], |m| compact(m.as_bytes()));
    let body = [code.to_be_bytes().to_vec(), msg, compact(answer), 0i64.to_be_bytes().to_vec(), vec![0]].concat();
    (req, response(corr, true, &body))
}

fn metadata(corr: i32) -> (Vec<u8>, Vec<u8>) {
    let req = request(3, 1, corr, false, &[0xff, 0xff, 0xff, 0xff]);
    let broker =
        [0i32.to_be_bytes().to_vec(), str16(b"kafka.more.lab"), 9092i32.to_be_bytes().to_vec(), vec![0xff, 0xff]];
    let body = [vec![0, 0, 0, 1], broker.concat(), 0i32.to_be_bytes().to_vec(), vec![0, 0, 0, 0]].concat();
    (req, response(corr, false, &body))
}

fn exchange(c: &mut Conversation, (req, resp): (Vec<u8>, Vec<u8>)) {
    c.client(&req).server(&resp);
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)))
}

/// Four connections to 10.77.0.2:9092: alice accepted (SaslAuthenticate v2), alice refused (error 58),
/// bob accepted (raw token after SaslHandshake v0, then a Produce whose record value talks about
/// passwords), carol with SCRAM-SHA-256 (no password crosses).
pub fn conversations(p: &Passwords<'_>) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut start = plainsight_synth::DEFAULT_START_MICROS;
    let mut conn = |port: u16, build: &dyn Fn(&mut Conversation)| {
        let mut c = Conversation::new(addr(&format!("10.77.0.1:{port}")), addr("10.77.0.2:9092"));
        c.ts = start;
        c.handshake();
        build(&mut c);
        c.close();
        start = c.ts + 1_000_000;
        frames.extend(c.take());
    };
    conn(41001, &|c| {
        exchange(c, api_versions(1));
        exchange(c, handshake(1, 2, "PLAIN"));
        exchange(c, authenticate(3, format!("\0alice\0{}", p.alice).as_bytes(), 0, None, b""));
        exchange(c, metadata(4));
    });
    conn(41002, &|c| {
        exchange(c, api_versions(1));
        exchange(c, handshake(1, 2, "PLAIN"));
        let msg = "Authentication failed: Invalid username or password";
        exchange(c, authenticate(3, format!("\0alice\0{WRONG}").as_bytes(), 58, Some(msg), b""));
    });
    conn(41003, &|c| {
        // An old client: SaslHandshake v0, then the token raw (int32 size, no header), answered empty.
        exchange(c, handshake(0, 1, "PLAIN"));
        c.client(&sized(format!("\0bob\0{}", p.bob).as_bytes())).server(&sized(b""));
        exchange(c, metadata(2));
        let record = br#"{"event":"rotate","note":"the password field is gone"}"#;
        let produce = request(
            0,
            3,
            3,
            false,
            &[vec![0xff, 0xff, 0, 1, 0, 0, 0x75, 0x30], str16(b"lab-events"), record.to_vec()].concat(),
        );
        c.client(&produce).server(&response(3, false, &[0, 0, 0, 0]));
    });
    conn(41004, &|c| {
        // SCRAM-SHA-256: client-first, server-first, client-final with the proof, server-final.
        exchange(c, handshake(1, 1, "SCRAM-SHA-256"));
        let first = b"n,,n=carol,r=6d442b5d9e51a740f369e3dcecf3178e";
        let server_first = b"r=6d442b5d9e51a740f369e3dcecf3178ekkl5ou3d5bm6bq9o1,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        exchange(c, authenticate(2, first, 0, None, server_first));
        let fin = b"c=biws,r=6d442b5d9e51a740f369e3dcecf3178ekkl5ou3d5bm6bq9o1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        exchange(c, authenticate(3, fin, 0, None, b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
        let _ = p.carol;
    });
    frames
}
