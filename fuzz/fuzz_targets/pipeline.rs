//! The whole engine on hostile frames: the fuzz input is a sequence of frames, each prefixed by a
//! one-byte link-type selector and a two-byte length, all in one flow-rich capture.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plainsight::alert::NullSink;
use plainsight::decode::LinkType;
use plainsight::pipeline::{Config, Engine};
use plainsight::time::Timestamp;

const LINKS: [LinkType; 6] =
    [LinkType::ETHERNET, LinkType::RAW, LinkType::LINUX_SLL, LinkType::LINUX_SLL2, LinkType::NULL, LinkType::IPV6];

fuzz_target!(|data: &[u8]| {
    let mut engine = Engine::new(Config::default());
    let mut sink = NullSink;
    let mut rest = data;
    let mut ts = 0i64;
    while rest.len() >= 3 {
        let link = LINKS[(rest[0] as usize) % LINKS.len()];
        let len = u16::from_be_bytes([rest[1], rest[2]]) as usize;
        rest = &rest[3..];
        let take = len.min(rest.len());
        ts += 1000;
        engine.process(link, Timestamp(ts), &rest[..take], &mut sink);
        rest = &rest[take..];
    }
    engine.finish(&mut sink);
});
