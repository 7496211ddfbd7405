//! Decode tests: frames built with etherparse (an independent implementation) and by hand.

use proptest::prelude::*;

use super::*;
use etherparse::PacketBuilder;

fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64).tcp(40000, 80, 12345, 65535).ack(777).psh();
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv6(
        [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        64,
    )
    .tcp(40000, 8080, 1, 65535);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn eth(ethertype: u16, ip: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(ip);
    v
}

fn tcp(d: Decoded<'_>) -> TcpSegment<'_> {
    match d {
        Decoded::Tcp(t) => t,
        other => panic!("not tcp: {other:?}"),
    }
}

#[test]
fn ethernet_ipv4_tcp_fields_and_payload_borrowed() {
    let frame = eth(0x0800, &ipv4_tcp(b"GET / HTTP/1.1\r\n"));
    let t = tcp(decode(LinkType::ETHERNET, &frame).unwrap());
    assert_eq!(t.src, "10.0.0.1:40000".parse().unwrap());
    assert_eq!(t.dst, "10.0.0.2:80".parse().unwrap());
    assert_eq!((t.seq, t.ack), (12345, 777));
    assert!(t.flags.ack() && !t.flags.syn());
    assert_eq!(t.payload, b"GET / HTTP/1.1\r\n");
    // Zero copy: the payload is a slice of the frame.
    let fr = frame.as_ptr_range();
    assert!(fr.contains(&t.payload.as_ptr()));
}

#[test]
fn ethernet_padding_is_trimmed_by_ip_total_length() {
    let mut frame = eth(0x0800, &ipv4_tcp(b"hi"));
    frame.extend_from_slice(&[0u8; 20]);
    assert_eq!(tcp(decode(LinkType::ETHERNET, &frame).unwrap()).payload, b"hi");
}

#[test]
fn vlan_and_qinq_tags_are_skipped() {
    let ip = ipv4_tcp(b"x");
    let mut one = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00];
    one.extend_from_slice(&ip);
    assert_eq!(tcp(decode(LinkType::ETHERNET, &one).unwrap()).payload, b"x");
    let mut two = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00];
    two.extend_from_slice(&ip);
    assert_eq!(tcp(decode(LinkType::ETHERNET, &two).unwrap()).payload, b"x");
}

#[test]
fn endless_vlan_tags_are_malformed_not_a_loop() {
    let mut f = vec![0u8; 12];
    for _ in 0..20 {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
    }
    f.extend_from_slice(&[0x08, 0x00]);
    assert_eq!(decode(LinkType::ETHERNET, &f), Err(DecodeError::Malformed("vlan")));
}

#[test]
fn linux_sll_and_sll2_headers() {
    let ip = ipv4_tcp(b"sll");
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    assert_eq!(tcp(decode(LinkType::LINUX_SLL, &sll).unwrap()).payload, b"sll");
    let ip6 = ipv6_tcp(b"sll2");
    let mut sll2 = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    sll2.extend_from_slice(&ip6);
    assert_eq!(tcp(decode(LinkType::LINUX_SLL2, &sll2).unwrap()).payload, b"sll2");
}

#[test]
fn null_loopback_in_either_byte_order_and_loop() {
    let ip = ipv4_tcp(b"lo");
    for hdr in [[2u8, 0, 0, 0], [0, 0, 0, 2]] {
        let mut f = hdr.to_vec();
        f.extend_from_slice(&ip);
        assert_eq!(tcp(decode(LinkType::NULL, &f).unwrap()).payload, b"lo");
    }
    let ip6 = ipv6_tcp(b"lo6");
    for fam in [24u32, 28, 30] {
        let mut f = fam.to_le_bytes().to_vec();
        f.extend_from_slice(&ip6);
        assert_eq!(tcp(decode(LinkType::NULL, &f).unwrap()).payload, b"lo6");
    }
    let mut f = 2u32.to_be_bytes().to_vec();
    f.extend_from_slice(&ip);
    assert_eq!(tcp(decode(LinkType::LOOP, &f).unwrap()).payload, b"lo");
}

#[test]
fn raw_ip_link_types_pick_version_from_first_nibble() {
    for link in [LinkType::RAW, LinkType::RAW_DLT12, LinkType::RAW_DLT14] {
        assert_eq!(tcp(decode(link, &ipv4_tcp(b"4")).unwrap()).payload, b"4");
        assert_eq!(tcp(decode(link, &ipv6_tcp(b"6")).unwrap()).payload, b"6");
    }
    assert_eq!(tcp(decode(LinkType::IPV4, &ipv4_tcp(b"a")).unwrap()).payload, b"a");
    assert_eq!(tcp(decode(LinkType::IPV6, &ipv6_tcp(b"b")).unwrap()).payload, b"b");
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let base = ipv6_tcp(b"ext");
    let (hdr, tcp_part) = base.split_at(40);
    let mut p = hdr.to_vec();
    p[6] = 0; // hop-by-hop first
    let mut ext = vec![60, 0, 1, 4, 0, 0, 0, 0]; // hop-by-hop (8 bytes) -> dest opts
    ext.extend_from_slice(&[51, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // dest opts (16 bytes) -> AH
    ext.extend_from_slice(&[44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // AH: (1+2)*4 = 12 bytes -> fragment
    ext.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 1]); // atomic fragment (offset 0, M=0) -> TCP
    let plen = (ext.len() + tcp_part.len()) as u16;
    p[4..6].copy_from_slice(&plen.to_be_bytes());
    p.extend_from_slice(&ext);
    p.extend_from_slice(tcp_part);
    assert_eq!(tcp(decode(LinkType::IPV6, &p).unwrap()).payload, b"ext");
}

#[test]
fn fragments_are_reported_not_decoded() {
    let mut v4 = ipv4_tcp(b"frag");
    v4[6] = 0x20; // MF
    assert!(matches!(decode(LinkType::IPV4, &v4), Ok(Decoded::Fragment(_))));
    let mut v4b = ipv4_tcp(b"frag");
    v4b[7] = 10; // offset
    assert!(matches!(decode(LinkType::IPV4, &v4b), Ok(Decoded::Fragment(_))));
    let base = ipv6_tcp(b"x");
    let mut p = base[..40].to_vec();
    p[6] = 44;
    p.extend_from_slice(&[6, 0, 0, 0x09, 0, 0, 0, 1]); // offset 1, M=1
    p.extend_from_slice(&base[40..]);
    assert!(matches!(decode(LinkType::IPV6, &p), Ok(Decoded::Fragment(_))));
}

#[test]
fn tcp_options_are_skipped() {
    let b = PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 64)
        .tcp(1, 2, 3, 4)
        .options(&[
            etherparse::TcpOptionElement::MaximumSegmentSize(1460),
            etherparse::TcpOptionElement::Noop,
            etherparse::TcpOptionElement::WindowScale(7),
        ])
        .unwrap();
    let mut v = Vec::new();
    b.write(&mut v, b"opt").unwrap();
    assert_eq!(tcp(decode(LinkType::IPV4, &v).unwrap()).payload, b"opt");
}

#[test]
fn udp_other_ip_and_non_ip() {
    let b = PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 64).udp(5353, 161);
    let mut v = Vec::new();
    b.write(&mut v, b"public").unwrap();
    match decode(LinkType::IPV4, &v).unwrap() {
        Decoded::Udp(u) => assert_eq!((u.dst.port(), u.payload), (161, &b"public"[..])),
        other => panic!("{other:?}"),
    }
    let mut icmp = ipv4_tcp(b"");
    icmp[9] = 1;
    assert_eq!(decode(LinkType::IPV4, &icmp), Ok(Decoded::OtherIp(1)));
    assert_eq!(decode(LinkType::ETHERNET, &eth(0x0806, &[0u8; 28])), Ok(Decoded::NotIp(0x0806)));
}

#[test]
fn unsupported_link_type_is_named() {
    assert_eq!(decode(LinkType(127), &[0u8; 40]), Err(DecodeError::UnsupportedLink(127)));
    assert_eq!(LinkType(127).name(), "IEEE802_11_RADIO");
    assert_eq!(LinkType::LINUX_SLL2.name(), "LINUX_SLL2");
    assert!(!LinkType(127).is_supported());
    assert!(LinkType::LINUX_SLL2.is_supported());
}

#[test]
fn every_truncation_of_valid_frames_is_an_error_or_shorter_never_a_panic() {
    let frames = [
        (LinkType::ETHERNET, eth(0x0800, &ipv4_tcp(b"payload bytes"))),
        (LinkType::ETHERNET, eth(0x86dd, &ipv6_tcp(b"payload bytes"))),
    ];
    for (link, f) in frames {
        for cut in 0..f.len() {
            if let Ok(Decoded::Tcp(t)) = decode(link, &f[..cut]) {
                assert!(t.payload.len() < 13);
            }
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_for_any_link_type(data in proptest::collection::vec(any::<u8>(), 0..200), link in prop_oneof![Just(0u32), Just(1), Just(12), Just(101), Just(108), Just(113), Just(228), Just(229), Just(276), any::<u32>()]) {
        let _ = decode(LinkType(link), &data);
    }

    #[test]
    fn mutated_valid_frames_never_panic(idx in 0usize..80, byte in any::<u8>()) {
        let mut f = eth(0x86dd, &ipv6_tcp(b"mutate me"));
        if idx < f.len() { f[idx] = byte; }
        let _ = decode(LinkType::ETHERNET, &f);
    }
}

// ---- IP defragmentation -------------------------------------------------------------------------

use super::defrag::{self, Defragmenter};
use crate::time::Timestamp;

/// Cut an IPv4 packet into fragments whose data parts are `cuts` long (multiples of 8, the last takes
/// the rest), in order.
fn frag4(packet: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let (hdr, data) = packet.split_at(ihl);
    let mut out = Vec::new();
    let mut off = 0;
    let mut sizes: Vec<usize> = cuts.to_vec();
    sizes.push(data.len().saturating_sub(cuts.iter().sum::<usize>()));
    for (i, n) in sizes.iter().enumerate() {
        let last = i + 1 == sizes.len();
        let mut f = hdr.to_vec();
        let total = (ihl + n) as u16;
        f[2..4].copy_from_slice(&total.to_be_bytes());
        // DF kept as the packet had it (etherparse sets it), so the rebuilt header is the original.
        let fo = (off / 8) as u16 | if last { 0 } else { 0x2000 } | (u16::from(hdr[6]) << 8 & 0x4000);
        f[6..8].copy_from_slice(&fo.to_be_bytes());
        f.extend_from_slice(&data[off..off + n]);
        out.push(f);
        off += n;
    }
    out
}

/// Cut an IPv6 packet (no extension headers) into fragments with a Fragment header, id `id`.
fn frag6(packet: &[u8], cuts: &[usize], id: u32) -> Vec<Vec<u8>> {
    let (hdr, data) = packet.split_at(40);
    let next = hdr[6];
    let mut out = Vec::new();
    let mut off = 0;
    let mut sizes: Vec<usize> = cuts.to_vec();
    sizes.push(data.len().saturating_sub(cuts.iter().sum::<usize>()));
    for (i, n) in sizes.iter().enumerate() {
        let last = i + 1 == sizes.len();
        let mut f = hdr.to_vec();
        f[6] = 44;
        f[4..6].copy_from_slice(&((8 + n) as u16).to_be_bytes());
        let om = (off as u16) | u16::from(!last);
        f.extend_from_slice(&[next, 0]);
        f.extend_from_slice(&om.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&data[off..off + n]);
        out.push(f);
        off += n;
    }
    out
}

fn push(d: &mut Defragmenter, pkt: &[u8], ts: i64) -> Option<Vec<u8>> {
    match decode(LinkType::RAW, pkt) {
        Ok(Decoded::Fragment(f)) => d.push(&f, Timestamp(ts)),
        other => panic!("not a fragment: {other:?}"),
    }
}

fn big_payload() -> Vec<u8> {
    let mut p = b"POST /login HTTP/1.1\r\nHost: lab\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n".to_vec();
    p.extend((0..300).map(|i| b'a' + (i % 26) as u8));
    p
}

#[test]
fn ipv4_fragments_in_order_reassemble_to_the_packet_and_decode_as_tcp() {
    let pkt = ipv4_tcp(&big_payload());
    let frags = frag4(&pkt, &[96, 96, 96]);
    let mut d = Defragmenter::new();
    for f in &frags[..3] {
        assert_eq!(push(&mut d, f, 0), None);
    }
    let whole = push(&mut d, &frags[3], 0).expect("complete");
    assert_eq!(&whole[20..], &pkt[20..]);
    let t = tcp(decode(LinkType::RAW, &whole).unwrap());
    assert_eq!(t.payload, &big_payload()[..]);
    // The rebuilt header is a valid one (its checksum too), and the TCP checksum verifies.
    assert_eq!(&whole[..20], &pkt[..20]);
    assert!(checksum::verify(t.src.ip(), t.dst.ip(), 6, t.checksum_span.unwrap()));
    assert_eq!(d.stats().reassembled, 1);
    assert_eq!(d.stats().fragments, 4);
    assert_eq!((d.pending(), d.held_bytes()), (0, 0));
}

#[test]
fn ipv4_fragments_reversed_reassemble_too() {
    let pkt = ipv4_tcp(&big_payload());
    let mut frags = frag4(&pkt, &[8, 200, 16]);
    frags.reverse();
    let mut d = Defragmenter::new();
    let out: Vec<_> = frags.iter().filter_map(|f| push(&mut d, f, 0)).collect();
    assert_eq!(out, vec![pkt.clone()]);
}

#[test]
fn duplicated_fragments_are_counted_overlaps_without_conflict() {
    let pkt = ipv4_tcp(&big_payload());
    let frags = frag4(&pkt, &[128]);
    let mut d = Defragmenter::new();
    assert_eq!(push(&mut d, &frags[0], 0), None);
    assert_eq!(push(&mut d, &frags[0], 1), None);
    assert_eq!(push(&mut d, &frags[1], 2), Some(pkt.clone()));
    assert_eq!((d.stats().overlaps, d.stats().overlap_conflicts), (1, 0));
}

#[test]
fn ipv4_overlap_with_different_content_keeps_the_first_copy_and_counts_the_conflict() {
    let pkt = ipv4_tcp(&big_payload());
    let frags = frag4(&pkt, &[64]);
    // A forged second fragment starting 16 bytes earlier, with other bytes there.
    let mut forged = frags[1].clone();
    let fo = u16::from_be_bytes([forged[6], forged[7]]);
    forged[6..8].copy_from_slice(&((fo & 0xe000) | ((64 - 16) / 8)).to_be_bytes());
    let mut data = vec![b'X'; 16];
    data.extend_from_slice(&frags[1][20..]);
    forged.truncate(20);
    forged.extend_from_slice(&data);
    let total = forged.len() as u16;
    forged[2..4].copy_from_slice(&total.to_be_bytes());
    let mut d = Defragmenter::new();
    assert_eq!(push(&mut d, &frags[0], 0), None);
    assert_eq!(push(&mut d, &forged, 0), Some(pkt.clone()), "first copy wins");
    assert_eq!((d.stats().overlaps, d.stats().overlap_conflicts), (1, 1));
}

#[test]
fn a_missing_fragment_times_out_after_30_seconds_of_capture_time_counted() {
    let pkt = ipv4_tcp(&big_payload());
    let frags = frag4(&pkt, &[64, 64]);
    let mut d = Defragmenter::new();
    assert_eq!(push(&mut d, &frags[0], 0), None);
    assert_eq!(push(&mut d, &frags[2], 1_000_000), None);
    assert!(d.held_bytes() > 0);
    // 29 s later: still waiting. Then another datagram's fragment 31 s after the first.
    let other = frag4(&ipv4_tcp(b"other datagram, other id......."), &[8]);
    let mut other0 = other[0].clone();
    other0[4] = 9;
    assert_eq!(push(&mut d, &other0, 29_000_000), None);
    assert_eq!(d.stats().timed_out, 0);
    assert_eq!(push(&mut d, &other0, 31_000_000), None);
    assert_eq!(d.stats().timed_out, 1);
    // The middle fragment arriving now starts a new datagram that cannot complete.
    assert_eq!(push(&mut d, &frags[1], 31_000_001), None);
    assert_eq!(d.stats().reassembled, 0);
}

#[test]
fn too_many_datagrams_evict_the_oldest_counted_and_memory_stays_bounded() {
    let pkt = ipv4_tcp(&big_payload());
    let first = frag4(&pkt, &[256])[0].clone();
    let mut d = Defragmenter::new();
    let n = defrag::MAX_DATAGRAMS + 100;
    for id in 0..n {
        let mut f = first.clone();
        f[4..6].copy_from_slice(&(id as u16).to_be_bytes());
        assert_eq!(push(&mut d, &f, 0), None);
        assert!(d.pending() <= defrag::MAX_DATAGRAMS);
        assert!(d.held_bytes() <= defrag::MAX_HELD_BYTES);
    }
    assert_eq!(d.stats().evicted, 100);
    // The newest ones are still there: completing one works.
    let last = frag4(&pkt, &[256]);
    let mut tail = last[1].clone();
    tail[4..6].copy_from_slice(&((n - 1) as u16).to_be_bytes());
    let whole = push(&mut d, &tail, 0).expect("newest datagram completes");
    assert_eq!(&whole[20..], &pkt[20..]);
}

#[test]
fn the_byte_cap_evicts_oldest_datagrams() {
    // Big first fragments (60 KiB each) of many datagrams: the 4 MiB cap is reached before the count cap.
    let mut d = Defragmenter::new();
    let payload = vec![b'z'; 61_440];
    let pkt = ipv4_tcp(&payload);
    let first = frag4(&pkt, &[61_440])[0].clone();
    for id in 0..200u16 {
        let mut f = first.clone();
        f[4..6].copy_from_slice(&id.to_be_bytes());
        push(&mut d, &f, 0);
        assert!(d.held_bytes() <= defrag::MAX_HELD_BYTES);
    }
    assert!(d.stats().evicted >= 100, "{:?}", d.stats());
}

#[test]
fn a_datagram_over_65535_bytes_is_dropped_as_too_large() {
    let pkt = ipv4_tcp(&big_payload());
    let mut f = frag4(&pkt, &[64])[1].clone();
    // Offset 65,528 with more than 7 bytes of data: past the largest datagram.
    f[6..8].copy_from_slice(&(8191u16).to_be_bytes());
    let mut d = Defragmenter::new();
    assert_eq!(push(&mut d, &f, 0), None);
    assert_eq!(d.stats().too_large, 1);
    assert_eq!(d.held_bytes(), 0);
}

#[test]
fn ipv6_fragment_header_reassembles() {
    let pkt = ipv6_tcp(&big_payload());
    let mut frags = frag6(&pkt, &[104, 104], 0xdead_beef);
    frags.swap(0, 2);
    let mut d = Defragmenter::new();
    let out: Vec<_> = frags.iter().filter_map(|f| push(&mut d, f, 0)).collect();
    assert_eq!(out, vec![pkt.clone()]);
    let t = tcp(decode(LinkType::RAW, &out[0]).unwrap());
    assert_eq!(t.payload, &big_payload()[..]);
    assert!(checksum::verify(t.src.ip(), t.dst.ip(), 6, t.checksum_span.unwrap()));
}

#[test]
fn ipv6_overlap_drops_the_whole_datagram_and_its_later_fragments_rfc_5722() {
    let pkt = ipv6_tcp(&big_payload());
    let frags = frag6(&pkt, &[104, 104], 7);
    let overlapping = frag6(&pkt, &[56, 104], 7);
    let mut d = Defragmenter::new();
    assert_eq!(push(&mut d, &frags[0], 0), None);
    // Bytes 56..160: overlaps the first fragment's 56..104 (same bytes, still an overlap).
    assert_eq!(push(&mut d, &overlapping[1], 0), None);
    assert_eq!(d.stats().overlap_dropped, 1);
    assert_eq!(push(&mut d, &frags[1], 0), None);
    assert_eq!(push(&mut d, &frags[2], 0), None);
    assert_eq!(d.stats().reassembled, 0);
    assert_eq!(d.held_bytes(), 0);
    // An exact duplicate is not an overlap that kills.
    let mut d = Defragmenter::new();
    let mut out = Vec::new();
    for f in [&frags[0], &frags[0], &frags[1], &frags[2]] {
        out.extend(push(&mut d, f, 0));
    }
    assert_eq!(out, vec![pkt.clone()]);
}

#[test]
fn a_fragment_inside_a_reassembled_ipv6_datagram_is_not_reassembled_again() {
    // The fragments carry a packet whose own next header is a Fragment header.
    let inner = frag6(&ipv6_tcp(b"nested"), &[8], 1)[0].clone();
    let mut outer = inner[..40].to_vec();
    outer[6] = 60; // destination options -> fragment
    let mut body = vec![44, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&inner[40..]);
    outer[4..6].copy_from_slice(&(body.len() as u16).to_be_bytes());
    outer.extend_from_slice(&body);
    let frags = frag6(&outer, &[8], 2);
    let mut d = Defragmenter::new();
    let out: Vec<_> = frags.iter().filter_map(|f| push(&mut d, f, 0)).collect();
    assert!(out.is_empty());
    assert_eq!(d.stats().malformed, 1);
}

#[test]
fn middle_fragments_not_a_multiple_of_8_are_malformed() {
    let pkt = ipv4_tcp(&big_payload());
    let mut f = frag4(&pkt, &[64])[0].clone();
    f.pop();
    let total = f.len() as u16;
    f[2..4].copy_from_slice(&total.to_be_bytes());
    let mut d = Defragmenter::new();
    assert_eq!(push(&mut d, &f, 0), None);
    assert_eq!(d.stats().malformed, 1);
}

#[test]
fn a_truncated_fragment_is_a_decode_error_not_a_piece() {
    let pkt = ipv4_tcp(&big_payload());
    let f = frag4(&pkt, &[64])[0].clone();
    assert_eq!(decode(LinkType::RAW, &f[..f.len() - 1]), Err(DecodeError::Truncated("ipv4 fragment")));
}

proptest! {
    #[test]
    fn any_fragmentation_and_order_reassembles_to_the_same_bytes(
        len in 1usize..3000,
        cuts in proptest::collection::vec(1usize..64, 0..40),
        order in proptest::collection::vec(any::<u32>(), 0..41),
        v6 in any::<bool>(),
        dup in any::<bool>(),
    ) {
        let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let pkt = if v6 { ipv6_tcp(&payload) } else { ipv4_tcp(&payload) };
        let hdr = if v6 { 40 } else { 20 };
        // Cut sizes in 8-byte units, as long as they fit.
        let mut sizes = Vec::new();
        let mut used = 0;
        for c in cuts {
            let n = c * 8;
            if used + n >= pkt.len() - hdr {
                break;
            }
            sizes.push(n);
            used += n;
        }
        if sizes.is_empty() {
            sizes.push(8); // at least two fragments: one alone is a whole packet
        }
        let mut frags = if v6 { frag6(&pkt, &sizes, 42) } else { frag4(&pkt, &sizes) };
        // A permutation from the random keys.
        let mut keyed: Vec<(u32, Vec<u8>)> =
            frags.drain(..).enumerate().map(|(i, f)| (order.get(i).copied().unwrap_or(i as u32), f)).collect();
        keyed.sort_by_key(|(k, _)| *k);
        if dup {
            let again = keyed[0].1.clone();
            keyed.insert(keyed.len() / 2, (0, again));
        }
        let mut d = Defragmenter::new();
        let out: Vec<Vec<u8>> = keyed.iter().filter_map(|(_, f)| push(&mut d, f, 0)).collect();
        prop_assert_eq!(out, vec![pkt]);
        prop_assert_eq!(d.held_bytes(), 0);
    }
}

// ---- checksums ----------------------------------------------------------------------------------

use super::checksum::{self, Mode, Policy};

fn udp4(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64).udp(5353, 161);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn udp6(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv6([0xfd; 16], [0xfe; 16], 64).udp(5353, 161);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn span_of(pkt: &[u8]) -> (std::net::SocketAddr, std::net::SocketAddr, u8, Option<&[u8]>) {
    match decode(LinkType::RAW, pkt).unwrap() {
        Decoded::Tcp(t) => (t.src, t.dst, 6, t.checksum_span),
        Decoded::Udp(u) => (u.src, u.dst, 17, u.checksum_span),
        other => panic!("{other:?}"),
    }
}

fn good(pkt: &[u8]) -> bool {
    let (s, d, p, span) = span_of(pkt);
    checksum::verify(s.ip(), d.ip(), p, span.expect("verifiable"))
}

#[test]
fn checksums_built_by_etherparse_verify_for_tcp_and_udp_over_ipv4_and_ipv6_at_every_length() {
    for n in 0..80 {
        let payload: Vec<u8> = (0..n).map(|i| (i * 7 + 1) as u8).collect();
        assert!(good(&ipv4_tcp(&payload)), "tcp4 len {n}");
        assert!(good(&ipv6_tcp(&payload)), "tcp6 len {n}");
        assert!(good(&udp4(&payload)), "udp4 len {n}");
        assert!(good(&udp6(&payload)), "udp6 len {n}");
    }
    let big: Vec<u8> = (0..9000).map(|i| (i * 13) as u8).collect();
    assert!(good(&ipv4_tcp(&big[..1460])));
    assert!(good(&ipv6_tcp(&big)));
}

#[test]
fn any_flipped_bit_in_the_segment_or_pseudo_header_makes_it_bad() {
    let pkt = ipv4_tcp(b"password=hunter2");
    for i in 12..pkt.len() {
        if (2..4).contains(&i) || (10..12).contains(&i) {
            continue; // total length and IP header checksum are not in the pseudo-header
        }
        let mut p = pkt.clone();
        p[i] ^= 0x10;
        if let Ok(Decoded::Tcp(t)) = decode(LinkType::RAW, &p) {
            if let Some(span) = t.checksum_span {
                assert!(!checksum::verify(t.src.ip(), t.dst.ip(), 6, span), "flip at {i}");
            }
        }
    }
    let mut u = udp6(b"public");
    let last = u.len() - 1;
    u[last] ^= 1;
    assert!(!good(&u));
}

#[test]
fn unverifiable_segments_have_no_span() {
    let pkt = ipv4_tcp(b"0123456789abcdef");
    // Cut by the snap length.
    assert_eq!(span_of(&pkt[..pkt.len() - 4]).3, None);
    // IPv4 total length 0 (TSO).
    let mut tso = pkt.clone();
    tso[2] = 0;
    tso[3] = 0;
    assert_eq!(span_of(&tso).3, None);
    // IPv6 payload length 0 (jumbogram) and an IPv6 packet cut short.
    let mut jumbo = ipv6_tcp(b"0123456789abcdef");
    jumbo[4] = 0;
    jumbo[5] = 0;
    assert_eq!(span_of(&jumbo).3, None);
    let p6 = ipv6_tcp(b"0123456789abcdef");
    assert_eq!(span_of(&p6[..p6.len() - 1]).3, None);
    // UDP without a checksum.
    let mut u = udp4(b"public");
    u[26] = 0;
    u[27] = 0;
    assert_eq!(span_of(&u).3, None);
    // A source-routed IPv4 packet (LSRR option): the pseudo-header's destination is elsewhere.
    let mut routed = pkt[..20].to_vec();
    routed[0] = 0x46;
    routed.extend_from_slice(&[0x83, 3, 4, 0]);
    routed.extend_from_slice(&pkt[20..]);
    let total = routed.len() as u16;
    routed[2..4].copy_from_slice(&total.to_be_bytes());
    assert_eq!(span_of(&routed).3, None);
    // Ethernet padding past the IP length does not make it unverifiable.
    let mut padded = pkt.clone();
    padded.extend_from_slice(&[0; 6]);
    assert!(good(&padded));
}

fn bad_copy(pkt: &[u8]) -> Vec<u8> {
    let mut p = pkt.to_vec();
    let last = p.len() - 1;
    p[last] ^= 0xff;
    p
}

fn judge(pol: &mut Policy, pkt: &[u8]) -> checksum::Verdict {
    let (s, d, p, span) = span_of(pkt);
    if p == 17 {
        return if pol.udp(s, d, span) { checksum::Verdict::Accept } else { checksum::Verdict::Drop };
    }
    pol.tcp(s, d, span)
}

#[test]
fn auto_holds_a_bad_segment_for_the_reassembler_to_settle_and_accepts_good_ones() {
    use checksum::Verdict::{Accept, Hold};
    let mut pol = Policy::new(Mode::Auto);
    let real = ipv4_tcp(b"password=real");
    let decoy = bad_copy(&ipv4_tcp(b"password=decoy"));
    assert_eq!(judge(&mut pol, &decoy), Hold);
    assert_eq!(judge(&mut pol, &real), Accept);
    assert_eq!(judge(&mut pol, &decoy), Hold, "no state per source: a bad one is always held");
    assert_eq!((pol.stats().good, pol.stats().bad, pol.stats().bad_checksum_dropped), (1, 2, 0));
    // A bad UDP datagram (SNMP) is taken, counted: nothing would ever settle it.
    assert_eq!(judge(&mut pol, &bad_copy(&udp6(b"x"))), Accept);
    assert_eq!(pol.stats().bad_udp_accepted, 1);
}

#[test]
fn verify_drops_every_bad_segment_and_off_accepts_all() {
    use checksum::Verdict::{Accept, Drop};
    let bad = bad_copy(&ipv4_tcp(b"x"));
    let mut v = Policy::new(Mode::Verify);
    assert_eq!(judge(&mut v, &bad), Drop);
    assert_eq!(judge(&mut v, &bad_copy(&udp4(b"x"))), Drop);
    assert_eq!(v.stats().bad_checksum_dropped, 2);
    let mut off = Policy::new(Mode::Off);
    assert_eq!(judge(&mut off, &bad), Accept);
    assert_eq!(off.stats(), &checksum::Stats::default());
    // Unverifiable is accepted by every mode and counted.
    let mut cut = ipv4_tcp(b"0123456789");
    cut.truncate(cut.len() - 2);
    assert_eq!(judge(&mut v, &cut), Accept);
    assert_eq!(v.stats().unverifiable, 1);
}

#[test]
fn the_sum_matches_a_plain_rfc_1071_sum_at_every_length_and_alignment() {
    fn reference(d: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for c in d.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }
    let data: Vec<u8> = (0..700u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80).collect();
    for start in 0..2 {
        for end in start..data.len() {
            let d = &data[start..end];
            let mut v = checksum::sum(d);
            while v > 0xffff {
                v = (v & 0xffff) + (v >> 16);
            }
            let ours = u16::from_be(v as u16);
            assert!(
                ours == reference(d) || (ours == 0 && reference(d) == 0xffff) || (ours == 0xffff && reference(d) == 0),
                "{start}..{end}"
            );
        }
    }
}

#[test]
fn a_datagram_in_too_many_pieces_at_once_is_dropped_counted() {
    let payload = vec![b'p'; 8 * 2 * (defrag::MAX_PIECES + 4)];
    let pkt = ipv4_tcp(&payload);
    let frags = frag4(&pkt, &vec![8; (pkt.len() - 20) / 8 - 1]);
    let mut d = Defragmenter::new();
    // Every other fragment: no two pieces touch.
    for f in frags.iter().step_by(2) {
        assert_eq!(push(&mut d, f, 0), None);
    }
    assert_eq!(d.stats().too_fragmented, 1);
    assert_eq!(d.held_bytes(), 0);
    // Fragments last first do not make more pieces than fragments, and complete.
    let small = ipv4_tcp(&payload[..400]);
    let mut rev = frag4(&small, &vec![8; 50]);
    rev.reverse();
    let mut d = Defragmenter::new();
    let out: Vec<_> = rev.iter().filter_map(|f| push(&mut d, f, 0)).collect();
    assert_eq!(out, vec![small]);
}

proptest! {
    #[test]
    fn hostile_fragments_never_panic_and_stay_within_the_caps(
        frags in proptest::collection::vec(
            (any::<bool>(), 0u8..4, 0u16..8192, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..200), 0u8..3),
            1..120,
        ),
    ) {
        let mut d = Defragmenter::new();
        let base4 = ipv4_tcp(b"");
        let base6 = ipv6_tcp(b"");
        for (i, (v6, id, off8, more, data, proto)) in frags.into_iter().enumerate() {
            let proto = [6u8, 17, 44][usize::from(proto)];
            let pkt = if v6 {
                let mut p = base6[..40].to_vec();
                p[6] = 44;
                p[4..6].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
                p.extend_from_slice(&[proto, 0]);
                p.extend_from_slice(&((off8 << 3) | u16::from(more)).to_be_bytes());
                p.extend_from_slice(&u32::from(id).to_be_bytes());
                p.extend_from_slice(&data);
                p
            } else {
                let mut p = base4[..20].to_vec();
                p[9] = proto;
                p[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
                p[4..6].copy_from_slice(&u16::from(id).to_be_bytes());
                p[6..8].copy_from_slice(&(off8 | if more { 0x2000 } else { 0 }).to_be_bytes());
                p.extend_from_slice(&data);
                p
            };
            if let Ok(Decoded::Fragment(f)) = decode(LinkType::RAW, &pkt) {
                if let Some(whole) = d.push(&f, Timestamp(i as i64 * 1000)) {
                    prop_assert!(whole.len() <= 65_535 + 40);
                    let _ = decode(LinkType::RAW, &whole);
                }
            }
            prop_assert!(d.held_bytes() <= defrag::MAX_HELD_BYTES);
            prop_assert!(d.pending() <= defrag::MAX_DATAGRAMS);
        }
    }
}
