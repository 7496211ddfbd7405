//! The reassembler on arbitrary segment sequences (seq deltas, flags, lengths, two flows): never panics,
//! and its buffered bytes stay under the per-flow caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plainsight::decode::{TcpFlags, TcpSegment};
use plainsight::reassembly::{CloseReason, Config, FlowInfo, Reassembler, Side, StreamHandler};
use plainsight::time::Timestamp;

struct Sink;
impl StreamHandler<()> for Sink {
    fn on_data(&mut self, _: &FlowInfo, _: &mut (), _: Side, _: &[u8], _: Timestamp) {}
    fn on_gap(&mut self, _: &FlowInfo, _: &mut (), _: Side, _: u64, _: Timestamp) {}
    fn on_close(&mut self, _: &FlowInfo, _: &mut (), _: CloseReason, _: Timestamp) {}
}

fuzz_target!(|data: &[u8]| {
    let cfg = Config { max_flows: 4, max_ooo_bytes_per_flow: 2048, idle_timeout_micros: 1_000_000 };
    // A budget small enough that flows give way to each other.
    let mut r = Reassembler::<()>::with_budget(cfg, plainsight::memory::Budget::new(96 * 1024));
    let payload = [0x41u8; 600];
    let addrs = ["10.0.0.1:1000", "10.0.0.2:80", "10.0.0.3:2000", "10.0.0.4:8080"].map(|a| a.parse().unwrap());
    let mut ts = 0i64;
    for c in data.chunks(8) {
        if c.len() < 8 {
            break;
        }
        let pair = (c[0] & 3) as usize;
        let (src, dst) = if c[0] & 4 == 0 {
            (addrs[pair % 2], addrs[(pair + 1) % 2 + 2 * (pair / 2)])
        } else {
            (addrs[(pair + 1) % 2 + 2 * (pair / 2)], addrs[pair % 2])
        };
        let seq = u32::from_be_bytes([c[1], c[2], c[3], c[4]]);
        let len = (u16::from_be_bytes([c[5], c[6]]) as usize) % payload.len();
        ts += (c[7] as i64) * 10_000;
        let seg = TcpSegment {
            src,
            dst,
            seq,
            ack: seq.rotate_left(7),
            flags: TcpFlags(c[7] & 0x1f),
            window: 1,
            payload: &payload[..len],
            checksum_span: None,
        };
        r.process(&seg, Timestamp(ts), &mut Sink);
        assert!(r.buffered_bytes() <= 4 * 2 * 2048);
        r.advance_time(Timestamp(ts), &mut Sink);
    }
    r.finish(Timestamp(ts), &mut Sink);
});
