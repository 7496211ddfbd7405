//! Streams built against the parsers of the more protocols (issue 11): structure an attacker chooses
//! freely must cost time in proportion to its bytes.
//!
//! - `xmpp-nesting OUT.pcap [N=100000]`: an XMPP client stream that opens N nested elements and closes
//!   them, then logs in with SASL PLAIN (accepted): a parser keeping an element stack, or rescanning
//!   what it buffered, would pay for the depth; this one must not, and must still find the login.

use std::io;
use std::net::SocketAddr;

use plainsight_synth::{Conversation, Frame};

/// The SASL PLAIN password the stream ends with (`\0mallory\0Deep-nest-pw`).
pub const NESTING_PASSWORD: &str = "Deep-nest-pw";

/// One XMPP connection: N nested elements, then `<auth mechanism='PLAIN'>`, answered `<success/>`.
pub fn xmpp_nesting(n: usize) -> Vec<Frame> {
    let mut c2s = b"<?xml version='1.0'?><stream:stream to='more.lab' xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        .to_vec();
    for _ in 0..n {
        c2s.extend_from_slice(b"<x>");
    }
    for _ in 0..n {
        c2s.extend_from_slice(b"</x>");
    }
    // base64("\0mallory\0Deep-nest-pw")
    c2s.extend_from_slice(
        b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AG1hbGxvcnkARGVlcC1uZXN0LXB3</auth>",
    );
    let addr = |s: &str| s.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)));
    let mut c = Conversation::new(addr("10.68.0.1:40000"), addr("10.68.0.2:5222"));
    c.handshake()
        .server(b"<?xml version='1.0'?><stream:stream from='more.lab' id='n1' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        .client(&c2s)
        .server(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .close();
    c.take()
}

/// The modes of this module, for `gen_hostile`'s list.
#[allow(clippy::type_complexity)]
pub fn modes() -> Vec<(&'static str, &'static str, fn(&str, &[u64]) -> io::Result<()>)> {
    vec![("xmpp-nesting", "[N=100000]: an XMPP stream N elements deep, then a PLAIN login", |out, a| {
        let n = a.first().map_or(100_000, |&n| n as usize);
        let file = io::BufWriter::new(std::fs::File::create(out)?);
        let mut w =
            plainsight::capture::writer::PcapWriter::new(file, plainsight::decode::LinkType::ETHERNET, 262_144)?;
        for f in xmpp_nesting(n) {
            w.write_packet(plainsight::time::Timestamp(f.ts), &f.data)?;
        }
        io::Write::flush(&mut w.into_inner())
    })]
}
