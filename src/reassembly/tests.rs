//! Reassembly tests: properties over random segmentations, and one unit test per behaviour.

use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;
use crate::decode::{TcpFlags, TcpSegment};

const C: &str = "10.0.0.1:40000";
const S: &str = "10.0.0.2:80";

#[derive(Default)]
struct Rec {
    data: [Vec<u8>; 2],
    gaps: [Vec<u64>; 2],
    closes: Vec<(FlowId, CloseReason)>,
    /// Pointers of delivered slices, to check in-order data is not copied.
    ptrs: Vec<usize>,
}

impl StreamHandler<u32> for Rec {
    fn on_data(&mut self, _f: &FlowInfo, st: &mut u32, from: Side, data: &[u8], _ts: Timestamp) {
        *st += 1;
        self.data[from.index()].extend_from_slice(data);
        self.ptrs.push(data.as_ptr() as usize);
    }
    fn on_gap(&mut self, _f: &FlowInfo, _st: &mut u32, from: Side, len: u64, _ts: Timestamp) {
        self.gaps[from.index()].push(len);
        // A gap is bytes we never saw: mark them so byte counts stay aligned in tests.
        self.data[from.index()].extend(std::iter::repeat_n(b'?', len as usize));
    }
    fn on_close(&mut self, f: &FlowInfo, _st: &mut u32, reason: CloseReason, _ts: Timestamp) {
        self.closes.push((f.id, reason));
    }
}

fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn seg<'a>(src: &str, dst: &str, seq: u32, ack: Option<u32>, flags: u8, payload: &'a [u8]) -> TcpSegment<'a> {
    let mut f = flags;
    if ack.is_some() {
        f |= TcpFlags::ACK;
    }
    TcpSegment {
        src: a(src),
        dst: a(dst),
        seq,
        ack: ack.unwrap_or(0),
        flags: TcpFlags(f),
        window: 65535,
        payload,
        checksum_span: None,
    }
}

fn ts(n: i64) -> Timestamp {
    Timestamp(n * 1000)
}

fn small() -> Config {
    Config { max_flows: 1000, max_ooo_bytes_per_flow: 4096, idle_timeout_micros: 60_000_000 }
}

#[test]
fn in_order_stream_is_delivered_without_copy_and_nothing_buffered() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 100, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(S, C, 500, Some(101), TcpFlags::SYN, b""), ts(2), &mut h);
    let payloads: Vec<Vec<u8>> = (0..10).map(|i| vec![b'a' + i as u8; 100]).collect();
    for (i, p) in payloads.iter().enumerate() {
        r.process(&seg(C, S, 101 + 100 * i as u32, Some(501), TcpFlags::PSH, p), ts(3 + i as i64), &mut h);
        assert_eq!(h.ptrs.last().copied(), Some(p.as_ptr() as usize), "segment {i} was copied");
        assert_eq!(r.buffered_bytes(), 0);
    }
    assert_eq!(h.data[0], payloads.concat());
}

#[test]
fn data_on_syn_is_delivered() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 7, None, TcpFlags::SYN, b"fast-open"), ts(1), &mut h);
    r.process(&seg(C, S, 17, None, 0, b" more"), ts(2), &mut h);
    assert_eq!(h.data[0], b"fast-open more");
}

#[test]
fn lost_segment_becomes_a_gap_of_exact_length_at_close_then_the_rest() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(C, S, 1, None, 0, b"aaaa"), ts(2), &mut h);
    // bytes 5..9 lost
    r.process(&seg(C, S, 9, None, 0, b"cccc"), ts(3), &mut h);
    assert_eq!(h.data[0], b"aaaa");
    // Four bytes, and what a buffered run costs besides them.
    assert_eq!(r.buffered_bytes(), 4 + flow::RUN_OVERHEAD);
    r.process(&seg(C, S, 13, None, TcpFlags::RST, b""), ts(4), &mut h);
    assert_eq!(h.gaps[0], vec![4]);
    assert_eq!(h.data[0], b"aaaa????cccc");
    assert_eq!(h.closes.len(), 1);
    assert_eq!(h.closes[0].1, CloseReason::Rst);
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(r.stats().gaps, 1);
    assert_eq!(r.stats().gap_bytes, 4);
}

#[test]
fn ack_past_a_hole_releases_the_stall() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(S, C, 1000, Some(1), TcpFlags::SYN, b""), ts(2), &mut h);
    r.process(&seg(C, S, 1, Some(1001), 0, b"GET /a HTTP/1.1\r\n\r\n"), ts(3), &mut h);
    // Next request: first 10 bytes lost, then the rest; the server ACKs everything.
    r.process(&seg(C, S, 30, Some(1001), 0, b"/b HTTP/1.1\r\n\r\n"), ts(4), &mut h);
    assert_eq!(h.data[0].len(), 19);
    r.process(&seg(S, C, 1001, Some(45), 0, b"HTTP/1.1 200 OK\r\n"), ts(5), &mut h);
    assert_eq!(h.gaps[0], vec![10]);
    assert!(h.data[0].ends_with(b"/b HTTP/1.1\r\n\r\n"));
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn retransmission_is_dropped_and_counted() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(C, S, 1, None, 0, b"hello"), ts(2), &mut h);
    r.process(&seg(C, S, 1, None, 0, b"hello"), ts(3), &mut h);
    r.process(&seg(C, S, 3, None, 0, b"llo world"), ts(4), &mut h);
    assert_eq!(h.data[0], b"hello world");
    assert_eq!(r.stats().retransmissions, 1);
    assert_eq!(r.stats().overlaps, 1);
}

#[test]
fn conflicting_overlap_keeps_first_bytes_and_is_counted() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(C, S, 5, None, 0, b"WORLD"), ts(2), &mut h);
    r.process(&seg(C, S, 7, None, 0, b"xxxxx!"), ts(3), &mut h);
    r.process(&seg(C, S, 1, None, 0, b"hell"), ts(4), &mut h);
    assert_eq!(h.data[0], b"hellWORLDxx!");
    assert_eq!(r.stats().overlap_conflicts, 1);
}

#[test]
fn per_flow_cap_gives_a_gap_and_bounds_buffering() {
    let mut r = Reassembler::<u32>::new(small());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    // Byte 1 never arrives; 100-byte segments keep arriving after it.
    let chunk = [b'z'; 100];
    for i in 0..100u32 {
        r.process(&seg(C, S, 2 + i * 100, None, 0, &chunk), ts(2 + i as i64), &mut h);
        assert!(r.buffered_bytes() <= 4096);
    }
    assert_eq!(h.gaps[0], vec![1]);
    assert_eq!(h.data[0].len(), 1 + 100 * 100);
}

#[test]
fn memory_budget_bounds_buffering_across_flows() {
    let budget = crate::memory::Budget::new(1 << 20);
    let cfg = Config { max_ooo_bytes_per_flow: 64 * 1024, ..small() };
    let mut r = Reassembler::<u32>::with_budget(cfg, budget.clone());
    let mut h = Rec::default();
    for f in 0..200u16 {
        let c = format!("10.0.1.{}:{}", f % 200 + 1, 30000 + f);
        r.process(&seg(&c, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
        for i in 0..100u32 {
            r.process(&seg(&c, S, 10 + i * 501, None, 0, &[b'q'; 500]), ts(2), &mut h);
            assert!(budget.used() <= 1 << 20, "{}", budget.used());
        }
    }
    assert!(r.stats().memcap_holes_given_up > 0);
    assert!(r.stats().gaps >= 40);
}

#[test]
fn flood_of_one_packet_flows_stays_at_max_flows_and_counts_evictions() {
    let mut r = Reassembler::<u32>::new(small());
    let mut h = Rec::default();
    for i in 0..200_000u32 {
        let c = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 1024 + (i % 60000) as u16));
        let s = TcpSegment {
            src: c,
            dst: a(S),
            seq: i,
            ack: 0,
            flags: TcpFlags(TcpFlags::SYN),
            window: 1,
            payload: b"",
            checksum_span: None,
        };
        r.process(&s, ts(i as i64), &mut h);
        assert!(r.embryonic_flows() <= 1000);
    }
    // Handshakes without data live in the bounded SYN cache, never in the flow table.
    assert_eq!(r.embryonic_flows(), 1000);
    assert_eq!(r.active_flows(), 0);
    assert_eq!(r.stats().syn_cache_evicted, 199_000);
    assert_eq!(r.stats().flows_created, 0);
}

#[test]
fn flood_of_one_packet_data_flows_stays_at_max_flows_and_counts_evictions() {
    let mut r = Reassembler::<u32>::new(small());
    let mut h = Rec::default();
    for i in 0..200_000u32 {
        let c = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 1024 + (i % 60000) as u16));
        let s = TcpSegment {
            src: c,
            dst: a(S),
            seq: i,
            ack: 0,
            flags: TcpFlags(TcpFlags::PSH),
            window: 1,
            payload: b"x",
            checksum_span: None,
        };
        r.process(&s, ts(i as i64), &mut h);
        assert!(r.active_flows() <= 1000);
    }
    assert_eq!(r.active_flows(), 1000);
    assert_eq!(r.stats().flows_evicted, 199_000);
    assert_eq!(r.stats().flows_created, 200_000);
}

#[test]
fn pure_acks_and_resets_never_create_flows() {
    let mut r = Reassembler::<u32>::new(small());
    let mut h = Rec::default();
    for i in 0..1000u16 {
        let c = format!("10.0.2.1:{}", 2000 + i);
        r.process(&seg(&c, S, 1, Some(1), 0, b""), ts(1), &mut h);
        r.process(&seg(&c, S, 1, None, TcpFlags::RST, b""), ts(1), &mut h);
    }
    assert_eq!(r.active_flows(), 0);
}

#[test]
fn idle_timeout_uses_capture_time() {
    let mut r = Reassembler::<u32>::new(small());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b"x"), Timestamp(0), &mut h);
    r.process(&seg("10.0.0.9:1", S, 0, None, TcpFlags::SYN, b"y"), Timestamp(50_000_000), &mut h);
    r.process(&seg("10.0.0.9:2", S, 0, None, TcpFlags::SYN, b""), Timestamp(50_000_000), &mut h);
    r.advance_time(Timestamp(60_000_000), &mut h);
    assert_eq!((r.active_flows(), r.embryonic_flows()), (2, 1));
    r.advance_time(Timestamp(60_000_001), &mut h);
    assert_eq!(r.active_flows(), 1);
    r.advance_time(Timestamp(110_000_001), &mut h);
    assert_eq!((r.active_flows(), r.embryonic_flows()), (0, 0));
    assert_eq!(h.closes[0].1, CloseReason::IdleTimeout);
    assert_eq!(r.stats().flows_timed_out, 2);
}

#[test]
fn fin_both_ways_closes_and_late_packets_do_not_resurrect_state() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(S, C, 50, Some(1), TcpFlags::SYN, b""), ts(2), &mut h);
    r.process(&seg(C, S, 1, Some(51), 0, b"req"), ts(3), &mut h);
    r.process(&seg(S, C, 51, Some(4), TcpFlags::FIN, b"resp"), ts(4), &mut h);
    assert!(h.closes.is_empty());
    r.process(&seg(C, S, 4, Some(56), TcpFlags::FIN, b""), ts(5), &mut h);
    assert_eq!(h.closes.len(), 1);
    assert_eq!(h.closes[0].1, CloseReason::Fin);
    assert_eq!(r.active_flows(), 0);
    // The last ACK arrives after the close: it must not create a flow.
    r.process(&seg(S, C, 56, Some(5), 0, b""), ts(6), &mut h);
    assert_eq!(r.active_flows(), 0);
    assert_eq!(h.data[0], b"req");
    assert_eq!(h.data[1], b"resp");
}

#[test]
fn midstream_pickup_guesses_the_server_by_port() {
    #[derive(Default)]
    struct Info(Vec<FlowInfo>);
    impl StreamHandler<()> for Info {
        fn on_data(&mut self, f: &FlowInfo, _: &mut (), _: Side, _: &[u8], _: Timestamp) {
            self.0.push(*f);
        }
        fn on_gap(&mut self, _: &FlowInfo, _: &mut (), _: Side, _: u64, _: Timestamp) {}
        fn on_close(&mut self, _: &FlowInfo, _: &mut (), _: CloseReason, _: Timestamp) {}
    }
    let mut r = Reassembler::<()>::new(Config::default());
    let mut h = Info::default();
    // First packet seen goes server -> client.
    r.process(&seg(S, C, 12345, Some(99), 0, b"HTTP/1.1 200 OK\r\n"), ts(1), &mut h);
    assert_eq!(h.0[0].server, a(S));
    assert!(!h.0[0].saw_syn);
    assert_eq!(r.stats().midstream_pickups, 1);
}

#[test]
fn sequence_wraparound_is_invisible() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    let isn = u32::MAX - 5;
    r.process(&seg(C, S, isn, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(C, S, isn.wrapping_add(9), None, 0, b"89abcdef"), ts(2), &mut h);
    r.process(&seg(C, S, isn.wrapping_add(1), None, 0, b"01234567"), ts(3), &mut h);
    assert_eq!(h.data[0], b"0123456789abcdef");
}

/// One test segment: offset into the stream, length, and whether to duplicate it.
fn segments(len: usize) -> impl Strategy<Value = Vec<(usize, usize)>> {
    // Random cut points give a segmentation; extra random (offset, len) pairs give consistent overlaps.
    (proptest::collection::vec(2usize..300, 1..40), proptest::collection::vec((0usize..len.max(1), 1usize..200), 0..6))
        .prop_map(move |(sizes, extra)| {
            let mut out = Vec::new();
            let mut pos = 0;
            let mut i = 0;
            while pos < len {
                let s = sizes[i % sizes.len()].min(len - pos);
                out.push((pos, s));
                pos += s;
                i += 1;
            }
            for (o, l) in extra {
                if o < len {
                    out.push((o, l.min(len - o)));
                }
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn any_segmentation_order_duplication_and_overlap_yields_the_original_bytes(
        (client_data, cseg) in proptest::collection::vec(any::<u8>(), 0..6000).prop_flat_map(|d| { let n = d.len(); (Just(d), segments(n)) }),
        (server_data, sseg) in proptest::collection::vec(any::<u8>(), 0..6000).prop_flat_map(|d| { let n = d.len(); (Just(d), segments(n)) }),
        cisn in prop_oneof![any::<u32>(), (0u32..3000).prop_map(|d| u32::MAX - d)],
        sisn in prop_oneof![any::<u32>(), (0u32..3000).prop_map(|d| u32::MAX - d)],
        with_syn in any::<bool>(),
        order_seed in any::<u64>(),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let cs: Vec<(usize, usize)> = cseg.into_iter().filter(|(o, l)| o + l <= client_data.len() && *l > 0).collect();
        let ss: Vec<(usize, usize)> = sseg.into_iter().filter(|(o, l)| o + l <= server_data.len() && *l > 0).collect();
        // Without a SYN, the first segment of each direction must be the one at offset 0 (a capture
        // that starts mid-stream starts *somewhere*; the test defines that place as offset 0).
        let mut events: Vec<(bool, usize, usize)> = cs.iter().map(|&(o, l)| (true, o, l)).chain(ss.iter().map(|&(o, l)| (false, o, l))).collect();
        // Deterministic shuffle from the seed.
        let mut x = order_seed | 1;
        for i in (1..events.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            events.swap(i, (x % (i as u64 + 1)) as usize);
        }
        for d in &dups {
            if !events.is_empty() {
                let e = events[d.index(events.len())];
                events.push(e);
            }
        }
        let mut r = Reassembler::<u32>::new(Config::default());
        let mut h = Rec::default();
        let (cbase, sbase) = if with_syn { (cisn.wrapping_add(1), sisn.wrapping_add(1)) } else { (cisn, sisn) };
        if with_syn {
            r.process(&seg(C, S, cisn, None, TcpFlags::SYN, b""), ts(0), &mut h);
            r.process(&seg(S, C, sisn, None, TcpFlags::SYN, b""), ts(0), &mut h);
        } else {
            if let Some(&(o, l)) = cs.iter().find(|(o, _)| *o == 0) {
                r.process(&seg(C, S, cbase.wrapping_add(o as u32), None, 0, &client_data[o..o + l]), ts(0), &mut h);
            }
            if let Some(&(o, l)) = ss.iter().find(|(o, _)| *o == 0) {
                r.process(&seg(S, C, sbase.wrapping_add(o as u32), None, 0, &server_data[o..o + l]), ts(0), &mut h);
            }
        }
        for (t, (client, o, l)) in events.into_iter().enumerate() {
            let (src, dst, base, data) = if client { (C, S, cbase, &client_data) } else { (S, C, sbase, &server_data) };
            r.process(&seg(src, dst, base.wrapping_add(o as u32), None, 0, &data[o..o + l]), ts(1 + t as i64), &mut h);
        }
        r.finish(ts(1_000_000), &mut h);
        prop_assert!(h.gaps[0].is_empty() && h.gaps[1].is_empty(), "gaps {:?}", h.gaps);
        prop_assert!(h.data[0] == client_data, "client stream differs: got {} bytes, want {}", h.data[0].len(), client_data.len());
        prop_assert!(h.data[1] == server_data, "server stream differs: got {} bytes, want {}", h.data[1].len(), server_data.len());
        prop_assert_eq!(r.buffered_bytes(), 0);
        prop_assert_eq!(r.stats().overlap_conflicts, 0);
    }
}

/// Records each flow's streams apart (the flood tests run many flows through one handler).
#[derive(Default)]
struct PerFlow {
    data: std::collections::HashMap<(FlowId, usize), Vec<u8>>,
    gaps: std::collections::HashMap<FlowId, u64>,
    closes: Vec<(FlowId, CloseReason)>,
}

impl StreamHandler<u32> for PerFlow {
    fn on_data(&mut self, f: &FlowInfo, _st: &mut u32, from: Side, data: &[u8], _ts: Timestamp) {
        self.data.entry((f.id, from.index())).or_default().extend_from_slice(data);
    }
    fn on_gap(&mut self, f: &FlowInfo, _st: &mut u32, _from: Side, _len: u64, _ts: Timestamp) {
        *self.gaps.entry(f.id).or_insert(0) += 1;
    }
    fn on_close(&mut self, f: &FlowInfo, _st: &mut u32, reason: CloseReason, _ts: Timestamp) {
        self.closes.push((f.id, reason));
    }
}

fn client(i: u32) -> String {
    format!("10.1.{}.{}:{}", (i >> 8) & 255, i & 255, 20000 + (i % 40000))
}

/// The victim: two segments of a request, the second sent first.
const VICTIM: &str = "10.200.0.1:5555";
const VICTIM_REQ: &[u8] = b"GET /account HTTP/1.1\r\nAuthorization: Bearer victim-token-0123456789\r\n\r\n";

/// The victim's flow and client stream.
fn victim_stream(h: &PerFlow) -> Option<(FlowId, &[u8])> {
    h.data.iter().find(|((_, side), d)| *side == 0 && d.starts_with(b"GET /account")).map(|((id, _), d)| (*id, &d[..]))
}

#[test]
fn victims_swapped_segments_survive_a_flood_of_other_flows_one_byte_holes() {
    let budget = crate::memory::Budget::new(1 << 20);
    let mut r = Reassembler::<u32>::with_budget(Config::default(), budget.clone());
    let mut h = PerFlow::default();
    let flows = 64u32;
    for f in 0..flows {
        r.process(&seg(&client(f), S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    }
    r.process(&seg(VICTIM, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    let (first, second) = VICTIM_REQ.split_at(30);
    let mut t = 2;
    for s in 0..1000u32 {
        if s == 500 {
            r.process(&seg(VICTIM, S, 31, None, 0, second), ts(t), &mut h);
        }
        for f in 0..flows {
            // One byte after a one-byte hole, again and again: ~100 bytes of memory each.
            r.process(&seg(&client(f), S, 2 + 2 * s, None, 0, b"A"), ts(t), &mut h);
            t += 1;
        }
        if s == 500 {
            r.process(&seg(VICTIM, S, 1, None, 0, first), ts(t), &mut h);
        }
        // A segment's worth past the budget at most, before the largest holders give way.
        assert!(budget.used() <= (1 << 20) + 4096, "{}", budget.used());
    }
    assert!(r.stats().memcap_holes_given_up > 0);
    let (id, stream) = victim_stream(&h).expect("the victim's stream was not delivered from its start");
    assert_eq!(stream, VICTIM_REQ, "the victim's stream was not reassembled");
    assert!(!h.gaps.contains_key(&id), "the victim's stream had a gap");
}

#[test]
fn the_largest_holder_gives_way_not_the_flow_that_inserts() {
    let budget = crate::memory::Budget::new(1 << 20);
    let cfg = Config { max_ooo_bytes_per_flow: 1 << 20, ..Config::default() };
    let mut r = Reassembler::<u32>::with_budget(cfg, budget.clone());
    let mut h = PerFlow::default();
    // Small flows first, in order (their slots are taken, they hold nothing).
    for f in 0..400u32 {
        let c = client(f);
        r.process(&seg(&c, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
        r.process(&seg(&c, S, 1, None, 0, b"hello"), ts(1), &mut h);
    }
    // The big holder: one byte lost, then as much as the budget has room for behind it.
    let big = "10.0.5.5:1000";
    r.process(&seg(big, S, 0, None, TcpFlags::SYN, b""), ts(2), &mut h);
    let chunk = [b'b'; 1400];
    let mut i = 0;
    while budget.used() + 2 * 1400 < 1 << 20 {
        r.process(&seg(big, S, 2 + i * 1400, None, 0, &chunk), ts(2), &mut h);
        i += 1;
    }
    assert_eq!(r.stats().memcap_holes_given_up, 0);
    // Each small flow now buffers one segment behind a hole: the budget is full when they do.
    for f in 0..400u32 {
        r.process(&seg(&client(f), S, 10, None, 0, &[b's'; 500]), ts(3), &mut h);
        assert!(budget.used() <= (1 << 20) + 4096, "{}", budget.used());
    }
    assert_eq!(r.stats().memcap_holes_given_up, 1, "only the big holder gave way");
    assert_eq!(h.gaps.len(), 1);
    // The small flows' holes fill: no small flow lost its buffered bytes.
    for f in 0..400u32 {
        r.process(&seg(&client(f), S, 6, None, 0, b"1234"), ts(4), &mut h);
    }
    assert_eq!(h.gaps.len(), 1, "a small flow gave up its hole");
}

#[test]
fn small_holders_give_way_least_recently_active_first() {
    let budget = crate::memory::Budget::new(1 << 20);
    let mut r = Reassembler::<u32>::with_budget(Config::default(), budget.clone());
    let mut h = PerFlow::default();
    // Each flow holds one small segment behind a hole (well under SHED_MIN): more than fit.
    for f in 0..4000u32 {
        let c = client(f);
        r.process(&seg(&c, S, 0, None, TcpFlags::SYN, b""), ts(f as i64), &mut h);
        r.process(&seg(&c, S, 5, None, 0, &[b's'; 200]), ts(f as i64), &mut h);
        assert!(budget.used() <= (1 << 20) + 4096);
    }
    assert!(r.stats().memcap_flows_evicted > 0);
    // The evicted are the oldest: the last flows still hold their segment.
    let evicted: Vec<FlowId> = h.closes.iter().map(|c| c.0).collect();
    assert!(evicted.iter().all(|id| id.0 < 4000 - 100), "a recent flow was evicted: {evicted:?}");
    assert!(evicted.windows(2).all(|w| w[0] < w[1]), "evicted out of order");
}

#[test]
fn a_flood_of_flows_takes_the_slots_of_the_least_recently_active_within_the_table_share() {
    let budget = crate::memory::Budget::new(1 << 20);
    let mut r = Reassembler::<u32>::with_budget(Config::default(), budget.clone());
    let mut h = PerFlow::default();
    for i in 0..100_000u32 {
        let c = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 1024 + (i % 60000) as u16));
        let s = TcpSegment {
            src: c,
            dst: a(S),
            seq: i,
            ack: 0,
            flags: TcpFlags(TcpFlags::PSH),
            window: 1,
            payload: b"x",
            checksum_span: None,
        };
        r.process(&s, ts(i as i64), &mut h);
        assert!(budget.used() <= 1 << 20, "{}", budget.used());
    }
    assert!(r.stats().memcap_flows_evicted > 90_000);
    assert!(r.active_flows() > 100);
    // Oldest first.
    assert!(h.closes.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn segments_in_order_behind_a_hole_coalesce_into_one_run() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Rec::default();
    r.process(&seg(C, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
    // Byte 1 lost; 40 segments of 100 bytes follow in order.
    for i in 0..40u32 {
        r.process(&seg(C, S, 2 + i * 100, None, 0, &[b'z'; 100]), ts(2), &mut h);
    }
    // One run (with its spare capacity), not 40 allocations with their overhead.
    assert!(r.buffered_bytes() < 8192 + flow::RUN_OVERHEAD, "{}", r.buffered_bytes());
    r.process(&seg(C, S, 1, None, 0, b"y"), ts(3), &mut h);
    assert_eq!(h.data[0].len(), 4001);
    assert_eq!(r.buffered_bytes(), 0);
}

/// A handler that keeps every byte it is given in the flow's state, as a parser keeping a partial
/// message does, and drops it when asked.
#[derive(Default)]
struct Hoarder {
    shed: u32,
}

impl StreamHandler<Vec<u8>> for Hoarder {
    fn on_data(&mut self, _f: &FlowInfo, st: &mut Vec<u8>, _from: Side, data: &[u8], _ts: Timestamp) {
        st.extend_from_slice(data);
    }
    fn on_gap(&mut self, _f: &FlowInfo, _st: &mut Vec<u8>, _from: Side, _len: u64, _ts: Timestamp) {}
    fn on_close(&mut self, _f: &FlowInfo, _st: &mut Vec<u8>, _reason: CloseReason, _ts: Timestamp) {}
    fn held(&self, _f: &FlowInfo, st: &Vec<u8>) -> usize {
        st.capacity()
    }
    fn shed(&mut self, _f: &FlowInfo, st: &mut Vec<u8>, _ts: Timestamp) {
        self.shed += 1;
        *st = Vec::new();
    }
}

#[test]
fn what_the_handler_holds_is_charged_and_the_largest_is_shed() {
    let budget = crate::memory::Budget::new(1 << 20);
    let mut r = Reassembler::<Vec<u8>>::with_budget(Config::default(), budget.clone());
    let mut h = Hoarder::default();
    for f in 0..20u32 {
        let c = client(f);
        for i in 0..100u32 {
            r.process(&seg(&c, S, i * 1000, None, 0, &[b'h'; 1000]), ts(1), &mut h);
            assert!(budget.used() <= (1 << 20) + 256 * 1024, "{}", budget.used());
        }
    }
    assert!(h.shed > 0);
    assert!(r.held_bytes() <= 1 << 20);
}

#[test]
fn two_tables_on_one_budget_together_stay_within_it() {
    let budget = crate::memory::Budget::new(2 << 20);
    let mut tables = [
        Reassembler::<u32>::with_budget(Config::default(), budget.clone()),
        Reassembler::<u32>::with_budget(Config::default(), budget.clone()),
    ];
    let mut h = PerFlow::default();
    for s in 0..2000u32 {
        for f in 0..64u32 {
            let t = &mut tables[(f % 2) as usize];
            let c = client(f);
            if s == 0 {
                t.process(&seg(&c, S, 0, None, TcpFlags::SYN, b""), ts(1), &mut h);
            }
            t.process(&seg(&c, S, 2 + 2 * s, None, 0, b"A"), ts(2), &mut h);
        }
        assert!(budget.used() <= (2 << 20) + 2 * 4096, "{}", budget.used());
    }
    assert!(tables.iter().all(|t| t.stats().memcap_holes_given_up > 0));
    drop(tables);
    assert_eq!(budget.used(), 0);
}

#[test]
fn a_syn_flood_grows_the_handshake_cache_only_within_the_table_share() {
    let budget = crate::memory::Budget::new(1 << 20);
    let mut r = Reassembler::<u32>::with_budget(Config::default(), budget.clone());
    let mut h = Rec::default();
    for i in 0..200_000u32 {
        let c = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 1024 + (i % 60000) as u16));
        let s = TcpSegment {
            src: c,
            dst: a(S),
            seq: i,
            ack: 0,
            flags: TcpFlags(TcpFlags::SYN),
            window: 1,
            payload: b"",
            checksum_span: None,
        };
        r.process(&s, ts(i as i64), &mut h);
    }
    // Half of the budget is the tables' share: the cache stops growing there and forgets the oldest.
    assert!(budget.used() <= 1 << 19, "{}", budget.used());
    assert!(r.embryonic_flows() < MAX_SYN_CACHE);
    assert!(r.embryonic_flows() > 1000, "{} {}", r.embryonic_flows(), budget.used());
    assert_eq!(r.stats().syn_cache_evicted, 200_000 - r.embryonic_flows() as u64);
}

/// A handler whose checksum verdict is chosen by the test: segments whose payload starts with `!`
/// (or whose window is 1, for segments without payload) are bad and held.
#[derive(Default)]
struct Checked(Rec);

impl StreamHandler<u32> for Checked {
    fn on_data(&mut self, f: &FlowInfo, st: &mut u32, from: Side, data: &[u8], ts: Timestamp) {
        self.0.on_data(f, st, from, data, ts);
    }
    fn on_gap(&mut self, f: &FlowInfo, st: &mut u32, from: Side, len: u64, ts: Timestamp) {
        self.0.on_gap(f, st, from, len, ts);
    }
    fn on_close(&mut self, f: &FlowInfo, st: &mut u32, reason: CloseReason, ts: Timestamp) {
        self.0.on_close(f, st, reason, ts);
    }
    fn admit(&mut self, seg: &TcpSegment<'_>, _unread: bool) -> Admit {
        if seg.payload.first() == Some(&b'!') || seg.window == 1 { Admit::Held } else { Admit::Take }
    }
}

fn handshake(r: &mut Reassembler<u32>, h: &mut Checked) {
    r.process(&seg(C, S, 100, None, TcpFlags::SYN, b""), ts(1), h);
    r.process(&seg(S, C, 500, Some(101), TcpFlags::SYN, b""), ts(2), h);
}

#[test]
fn a_bad_checksum_decoy_sent_first_loses_to_the_real_segment() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    handshake(&mut r, &mut h);
    r.process(&seg(C, S, 101, Some(501), TcpFlags::PSH, b"!password=decoy"), ts(3), &mut h);
    assert!(h.0.data[0].is_empty(), "a held segment is not delivered");
    r.process(&seg(C, S, 101, Some(501), TcpFlags::PSH, b"?password=right"), ts(4), &mut h);
    r.process(&seg(S, C, 501, Some(116), TcpFlags::PSH, b"HTTP/1.1 200 OK"), ts(5), &mut h);
    assert_eq!(h.0.data[0], b"?password=right");
    let st = r.stats();
    assert_eq!((st.bad_checksum_held, st.bad_checksum_replaced_bytes, st.bad_checksum_conflicts), (1, 15, 1));
    assert_eq!(st.bad_checksum_accepted_bytes, 0);
}

#[test]
fn bad_segments_the_receiver_acknowledges_are_delivered_in_order() {
    // A capture on a host with checksum offload: everything it sends is bad; the peer acknowledges.
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    handshake(&mut r, &mut h);
    r.process(&seg(C, S, 101, Some(501), TcpFlags::PSH, b"!GET / HTTP/1.1\r\n"), ts(3), &mut h);
    r.process(&seg(C, S, 118, Some(501), TcpFlags::PSH, b"!Host: x\r\n\r\n"), ts(4), &mut h);
    assert!(h.0.data[0].is_empty());
    r.process(&seg(S, C, 501, Some(118), 0, b""), ts(5), &mut h);
    assert_eq!(h.0.data[0], b"!GET / HTTP/1.1\r\n", "delivered as far as acknowledged");
    r.process(&seg(S, C, 501, Some(130), TcpFlags::PSH, b"HTTP/1.1 200 OK\r\n"), ts(6), &mut h);
    assert_eq!(h.0.data[0], b"!GET / HTTP/1.1\r\n!Host: x\r\n\r\n");
    assert_eq!(r.stats().bad_checksum_accepted_bytes, 29);
    assert!(h.0.gaps[0].is_empty(), "acknowledged bytes that were held are no gap");
}

#[test]
fn held_bytes_nobody_acknowledges_are_delivered_when_the_flow_ends_or_the_hold_is_full() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    handshake(&mut r, &mut h);
    r.process(&seg(C, S, 101, Some(501), TcpFlags::PSH, b"!one-sided"), ts(3), &mut h);
    r.finish(ts(9), &mut h);
    assert_eq!(h.0.data[0], b"!one-sided");
    // One direction only, more than the hold takes: the oldest bytes are taken as they are.
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    handshake(&mut r, &mut h);
    let chunk = [b'!'; 1000];
    for i in 0..(MAX_HELD / 1000 + 5) as u32 {
        r.process(&seg(C, S, 101 + i * 1000, Some(501), TcpFlags::PSH, &chunk), ts(3), &mut h);
    }
    assert!(h.0.data[0].len() >= MAX_HELD / 2, "{}", h.0.data[0].len());
    assert!(r.buffered_bytes() <= MAX_HELD + 4096);
}

#[test]
fn where_every_checksum_is_bad_both_ways_held_bytes_are_delivered_as_the_peer_acknowledges() {
    // A loopback capture with offload: SYNs, data and ACKs all bad. Segments flow in their real order.
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    let bad = |src, dst, seq, ack, payload: &'static [u8]| {
        let mut s = seg(src, dst, seq, Some(ack), TcpFlags::PSH, payload);
        s.window = 1;
        s
    };
    r.process(&bad(S, C, 500, 100, b"login: "), ts(1), &mut h);
    r.process(&bad(C, S, 100, 507, b"alice\r\n"), ts(2), &mut h);
    assert_eq!(h.0.data[1], b"login: ", "the client's acknowledgement delivers the server's bytes");
    r.process(&bad(S, C, 507, 107, b"Password: "), ts(3), &mut h);
    assert_eq!(h.0.data[0], b"alice\r\n");
    r.process(&bad(C, S, 107, 517, b"s3cr3t\r\n"), ts(4), &mut h);
    r.process(&bad(S, C, 517, 115, b"$ "), ts(5), &mut h);
    assert_eq!(h.0.data[0], b"alice\r\ns3cr3t\r\n");
    assert_eq!(h.0.data[1], b"login: Password: ");
    assert!(h.0.gaps.iter().all(Vec::is_empty));
}

#[test]
fn a_held_segments_flags_and_acknowledgement_are_not_believed() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    handshake(&mut r, &mut h);
    r.process(&seg(S, C, 501, Some(101), TcpFlags::PSH, b"220 hello\r\n"), ts(3), &mut h);
    // A bad RST (window 1 marks it bad) does not end the flow; a bad FIN does not either.
    let mut rst = seg(S, C, 512, Some(101), TcpFlags::RST, b"");
    rst.window = 1;
    r.process(&rst, ts(4), &mut h);
    let mut fin = seg(C, S, 101, Some(512), TcpFlags::FIN, b"");
    fin.window = 1;
    r.process(&fin, ts(5), &mut h);
    assert!(h.0.closes.is_empty(), "{:?}", h.0.closes);
    // A bad segment acknowledging far ahead does not make the sniffer give up the server's bytes.
    r.process(&seg(C, S, 101, Some(9000), TcpFlags::PSH, b"!x"), ts(6), &mut h);
    assert!(h.0.gaps[1].is_empty());
    assert!(h.0.data[1].ends_with(b"hello\r\n"), "nothing was held there to deliver");
    r.process(&seg(S, C, 512, Some(101), TcpFlags::PSH, b"more\r\n"), ts(7), &mut h);
    assert_eq!(h.0.data[1], b"220 hello\r\nmore\r\n");
}

#[test]
fn a_handshake_with_bad_checksums_still_names_the_client_and_a_good_one_overrides_it() {
    // Every checksum bad (a loopback capture with offload), ports that do not tell the server: the
    // held SYN says who the client is.
    let (cl, sv) = ("10.0.0.1:25936", "10.0.0.2:32681");
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    let mut syn = seg(cl, sv, 100, None, TcpFlags::SYN, b"");
    syn.window = 1;
    r.process(&syn, ts(1), &mut h);
    r.process(&seg(cl, sv, 101, Some(501), TcpFlags::PSH, b"!bind"), ts(2), &mut h);
    r.finish(ts(3), &mut h);
    assert_eq!(h.0.data[0], b"!bind", "the client's bytes, from its side");
    // A decoy SYN with a bad checksum and a wrong sequence number, then the real one: the real wins.
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    let mut decoy = seg(cl, sv, 7_000_000, None, TcpFlags::SYN, b"");
    decoy.window = 1;
    r.process(&decoy, ts(1), &mut h);
    r.process(&seg(cl, sv, 100, None, TcpFlags::SYN, b""), ts(2), &mut h);
    r.process(&seg(cl, sv, 101, Some(501), TcpFlags::PSH, b"hello"), ts(3), &mut h);
    r.finish(ts(4), &mut h);
    assert_eq!(h.0.data[0], b"hello");
    assert!(h.0.gaps[0].is_empty(), "{:?}", h.0.gaps);
}

#[test]
fn a_held_fin_ends_the_stream_once_the_receiver_acknowledges_it() {
    // The server's segments all have bad checksums (offload where the capture was taken).
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Checked::default();
    handshake(&mut r, &mut h);
    let bad = |seq, ack, flags, payload: &'static [u8]| {
        let mut s = seg(S, C, seq, Some(ack), flags, payload);
        s.window = 1;
        s
    };
    r.process(&seg(C, S, 101, Some(501), TcpFlags::PSH | TcpFlags::FIN, b"QUIT\r\n"), ts(3), &mut h);
    r.process(&bad(501, 108, TcpFlags::PSH | TcpFlags::FIN, b"221 bye\r\n"), ts(4), &mut h);
    assert!(h.0.closes.is_empty(), "not before the client acknowledges the server's FIN");
    r.process(&seg(C, S, 108, Some(511), 0, b""), ts(5), &mut h);
    assert_eq!(h.0.data[1], b"221 bye\r\n");
    assert_eq!(h.0.closes.len(), 1, "{:?}", h.0.closes);
}

/// Records when each delivery says its bytes crossed the wire.
#[derive(Default)]
struct Times(Vec<(Vec<u8>, Timestamp)>);

impl StreamHandler<u32> for Times {
    fn on_data(&mut self, _f: &FlowInfo, _st: &mut u32, _from: Side, data: &[u8], ts: Timestamp) {
        self.0.push((data.to_vec(), ts));
    }
    fn on_gap(&mut self, _f: &FlowInfo, _st: &mut u32, _from: Side, _len: u64, _ts: Timestamp) {}
    fn on_close(&mut self, _f: &FlowInfo, _st: &mut u32, _reason: CloseReason, _ts: Timestamp) {}
    fn admit(&mut self, seg: &TcpSegment<'_>, _unread: bool) -> Admit {
        if seg.payload.first() == Some(&b'!') { Admit::Held } else { Admit::Take }
    }
}

#[test]
fn held_bytes_are_delivered_with_the_capture_time_of_their_first_segment_not_the_acknowledgements() {
    let mut r = Reassembler::<u32>::new(Config::default());
    let mut h = Times::default();
    r.process(&seg(C, S, 100, None, TcpFlags::SYN, b""), ts(1), &mut h);
    r.process(&seg(S, C, 500, Some(101), TcpFlags::SYN, b""), ts(2), &mut h);
    r.process(&seg(C, S, 101, Some(501), TcpFlags::PSH, b"!GET / HTTP/1.1\r\n"), ts(3), &mut h);
    r.process(&seg(C, S, 118, Some(501), TcpFlags::PSH, b"!Host: x\r\n\r\n"), ts(4), &mut h);
    r.process(&seg(S, C, 501, Some(130), TcpFlags::PSH, b"HTTP/1.1 200 OK\r\n"), ts(7), &mut h);
    assert_eq!(h.0[0], (b"!GET / HTTP/1.1\r\n!Host: x\r\n\r\n".to_vec(), ts(3)));
    assert_eq!(h.0[1].1, ts(7));
}
