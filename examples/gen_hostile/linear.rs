//! Messages built to make per-message work grow faster than the message (issue 10, section 4): one
//! JSON login with N password fields gives N findings in one message, and each alert's outputs once
//! scrubbed every field of every other secret of the message (2,350 fields took 25 s).
//!
//! - `many-passwords OUT.pcap [N=2350]`: one POST whose JSON object has N password fields.

use std::io;
use std::net::SocketAddr;

use plainsight_synth::{Conversation, Frame};

/// One connection: a POST of a JSON object with `n` password fields (`password0`...), answered 200.
pub fn many_passwords(n: usize) -> Vec<Frame> {
    let mut body = String::from("{");
    for i in 0..n {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!("\"password{i}\":\"pw-{i:05}\""));
    }
    body.push('}');
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let addr = |s: &str| s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)));
    let mut c = Conversation::new(addr("10.68.0.1:40000"), addr("10.68.0.2:80"));
    c.handshake().client(req.as_bytes()).server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").close();
    c.take()
}

/// The modes of this module, for `gen_hostile`'s list.
#[allow(clippy::type_complexity)]
pub fn modes() -> Vec<(&'static str, &'static str, fn(&str, &[u64]) -> io::Result<()>)> {
    vec![("many-passwords", "[N=2350]: one JSON login with N password fields", |out, a| {
        let n = a.first().map_or(2350, |&n| n as usize);
        let file = io::BufWriter::new(std::fs::File::create(out)?);
        let mut w =
            plainsight::capture::writer::PcapWriter::new(file, plainsight::decode::LinkType::ETHERNET, 262_144)?;
        for f in many_passwords(n) {
            w.write_packet(plainsight::time::Timestamp(f.ts), &f.data)?;
        }
        io::Write::flush(&mut w.into_inner())
    })]
}
