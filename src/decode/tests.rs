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
