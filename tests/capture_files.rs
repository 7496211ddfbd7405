//! Capture file reading: formats, timestamps, link types, filters and damaged files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;

use plainsight::capture::writer::{PcapNgWriter, PcapWriter};
use plainsight::capture::{CaptureError, FileReader};
use plainsight::decode::LinkType;
use plainsight::time::Timestamp;
use plainsight_synth::tcp_frame;

fn frame(port: u16, payload: &[u8]) -> Vec<u8> {
    tcp_frame("10.0.0.1:40000".parse().unwrap(), format!("10.0.0.2:{port}").parse().unwrap(), 1, 1, 0x18, payload)
}

fn sll(eth_frame: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    v.extend_from_slice(&eth_frame[14..]);
    v
}

type Packets = Vec<(LinkType, Timestamp, Vec<u8>)>;

fn read_all(path: &Path, filter: Option<&str>) -> Result<Packets, (CaptureError, usize)> {
    let mut r = FileReader::open(path, filter).map_err(|e| (e, 0))?;
    let mut out = Vec::new();
    loop {
        match r.next_packet() {
            Ok(Some(p)) => out.push((p.link, p.ts, p.data.to_vec())),
            Ok(None) => return Ok(out),
            Err(e) => return Err((e, out.len())),
        }
    }
}

fn pcap_bytes(frames: &[(Timestamp, Vec<u8>)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for (ts, f) in frames {
        w.write_packet(*ts, f).unwrap();
    }
    w.into_inner()
}

#[test]
fn pcap_written_then_read_gives_same_packets_and_timestamps() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.pcap");
    let frames: Vec<_> = (0..5)
        .map(|i| (Timestamp::from_secs_micros(1_700_000_000 + i, 123_456), frame(80, format!("p{i}").as_bytes())))
        .collect();
    std::fs::write(&p, pcap_bytes(&frames)).unwrap();
    let got = read_all(&p, None).unwrap();
    assert_eq!(got.len(), 5);
    for ((l, ts, data), (wts, wf)) in got.iter().zip(&frames) {
        assert_eq!(*l, LinkType::ETHERNET);
        assert_eq!(ts, wts);
        assert_eq!(data, wf);
    }
}

#[test]
fn big_endian_and_nanosecond_pcap_are_read() {
    let f = frame(80, b"be");
    let mut v = Vec::new();
    v.extend_from_slice(&[0xa1, 0xb2, 0x3c, 0x4d]); // big-endian, nanoseconds
    v.extend_from_slice(&2u16.to_be_bytes());
    v.extend_from_slice(&4u16.to_be_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&65535u32.to_be_bytes());
    v.extend_from_slice(&1u32.to_be_bytes());
    v.extend_from_slice(&1_700_000_000u32.to_be_bytes());
    v.extend_from_slice(&123_456_789u32.to_be_bytes());
    v.extend_from_slice(&(f.len() as u32).to_be_bytes());
    v.extend_from_slice(&(f.len() as u32).to_be_bytes());
    v.extend_from_slice(&f);
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("be.pcap");
    std::fs::write(&p, v).unwrap();
    let got = read_all(&p, None).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, Timestamp::from_secs_micros(1_700_000_000, 123_456));
    assert_eq!(got[0].2, f);
}

fn mixed_pcapng() -> Vec<u8> {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    let eth = w.add_interface(LinkType::ETHERNET).unwrap();
    let cooked = w.add_interface(LinkType::LINUX_SLL).unwrap();
    w.write_packet(eth, Timestamp(1_000_001), &frame(80, b"eth80")).unwrap();
    w.write_packet(cooked, Timestamp(2_000_002), &sll(&frame(80, b"sll80"))).unwrap();
    w.write_packet(eth, Timestamp(3_000_003), &frame(8080, b"eth8080")).unwrap();
    w.write_packet(cooked, Timestamp(4_000_004), &sll(&frame(8080, b"sll8080"))).unwrap();
    w.into_inner()
}

#[test]
fn pcapng_with_interfaces_of_different_link_types_is_read_in_order() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("mixed.pcapng");
    std::fs::write(&p, mixed_pcapng()).unwrap();
    let got = read_all(&p, None).unwrap();
    let links: Vec<LinkType> = got.iter().map(|g| g.0).collect();
    assert_eq!(links, vec![LinkType::ETHERNET, LinkType::LINUX_SLL, LinkType::ETHERNET, LinkType::LINUX_SLL]);
    assert_eq!(got[1].1, Timestamp(2_000_002));
}

#[test]
fn bpf_filter_is_compiled_per_link_type_on_mixed_pcapng() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("mixed.pcapng");
    std::fs::write(&p, mixed_pcapng()).unwrap();
    let got = read_all(&p, Some("tcp port 80")).unwrap();
    assert_eq!(got.len(), 2);
    assert!(got[0].2.ends_with(b"eth80"));
    assert!(got[1].2.ends_with(b"sll80"));
    let mut r = FileReader::open(&p, Some("tcp port 80")).unwrap();
    while r.next_packet().unwrap().is_some() {}
    assert_eq!((r.packets_read(), r.packets_filtered()), (4, 2));
}

#[test]
fn pcapng_nanosecond_resolution_option_is_honoured() {
    // An IDB with if_tsresol = 9 (nanoseconds), then one EPB.
    let mut v = Vec::new();
    let block = |t: u32, body: &[u8], v: &mut Vec<u8>| {
        let len = (12 + body.len()) as u32;
        v.extend_from_slice(&t.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(body);
        v.extend_from_slice(&len.to_le_bytes());
    };
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(0x0a0d_0d0a, &shb, &mut v);
    let mut idb = vec![1, 0, 0, 0, 0xff, 0xff, 0, 0];
    idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
    block(1, &idb, &mut v);
    let f = frame(80, b"ns");
    let ts: u64 = 1_700_000_000_123_456_789;
    let mut epb = 0u32.to_le_bytes().to_vec();
    epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
    epb.extend_from_slice(&(ts as u32).to_le_bytes());
    epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
    epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
    epb.extend_from_slice(&f);
    while epb.len() % 4 != 0 {
        epb.push(0);
    }
    block(6, &epb, &mut v);
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ns.pcapng");
    std::fs::write(&p, v).unwrap();
    let got = read_all(&p, None).unwrap();
    assert_eq!(got[0].1, Timestamp::from_secs_micros(1_700_000_000, 123_456));
}

#[test]
fn truncation_at_every_byte_is_a_clean_end_or_a_truncated_error_keeping_earlier_packets() {
    let d = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("cut.pcap", pcap_bytes(&[(Timestamp(1), frame(80, b"one")), (Timestamp(2), frame(80, b"two"))])),
        ("cut.pcapng", mixed_pcapng()),
    ] {
        let full = read_all(
            &{
                let p = d.path().join(name);
                std::fs::write(&p, &bytes).unwrap();
                p
            },
            None,
        )
        .unwrap();
        for cut in 0..bytes.len() {
            let p = d.path().join(name);
            std::fs::write(&p, &bytes[..cut]).unwrap();
            match read_all(&p, None) {
                Ok(got) => assert_eq!(got[..], full[..got.len()], "{name} cut at {cut}"),
                Err((CaptureError::Truncated { offset, packets, .. }, n)) => {
                    assert_eq!(packets as usize, n);
                    assert!(offset <= cut as u64);
                    assert_eq!(
                        &full[..n],
                        &read_all(
                            &{
                                let q = d.path().join(format!("{name}.ok"));
                                std::fs::write(&q, &bytes).unwrap();
                                q
                            },
                            None
                        )
                        .unwrap()[..n]
                    );
                }
                Err((CaptureError::NotACapture { .. }, 0)) => assert!(cut < 28, "{name} cut at {cut}"),
                Err((e, _)) => panic!("{name} cut at {cut}: unexpected {e}"),
            }
        }
    }
}

#[test]
fn a_pcap_cut_inside_the_last_record_says_where() {
    let d = tempfile::tempdir().unwrap();
    let bytes = pcap_bytes(&[(Timestamp(1), frame(80, b"one")), (Timestamp(2), frame(80, b"two"))]);
    let p = d.path().join("t.pcap");
    std::fs::write(&p, &bytes[..bytes.len() - 5]).unwrap();
    let (e, n) = read_all(&p, None).unwrap_err();
    assert_eq!(n, 1);
    let first_record_end = 24 + 16 + frame(80, b"one").len();
    let msg = e.to_string();
    assert!(msg.contains(&format!("truncated at byte {first_record_end} (after 1 packets)")), "{msg}");
    assert!(msg.contains("t.pcap"), "{msg}");
}

#[test]
fn corrupt_block_length_is_reported_with_its_offset() {
    let mut bytes = mixed_pcapng();
    // The first EPB starts after the SHB (28) and two IDBs (20 each).
    let at = 28 + 20 + 20;
    bytes[at + 4..at + 8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.pcapng");
    std::fs::write(&p, bytes).unwrap();
    match read_all(&p, None) {
        Err((CaptureError::Corrupt { offset, .. }, 0)) => assert_eq!(offset, at as u64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn absurd_legacy_record_length_is_corrupt_not_an_allocation() {
    let mut bytes = pcap_bytes(&[(Timestamp(1), frame(80, b"one"))]);
    bytes[24 + 8..24 + 12].copy_from_slice(&0xffff_0000u32.to_le_bytes());
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("huge.pcap");
    std::fs::write(&p, bytes).unwrap();
    assert!(matches!(read_all(&p, None), Err((CaptureError::Corrupt { offset: 24, .. }, 0))));
}

#[test]
fn not_a_capture_empty_file_and_header_only_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x.txt");
    std::fs::File::create(&p).unwrap().write_all(b"hello, this is text").unwrap();
    assert!(matches!(FileReader::open(&p, None), Err(CaptureError::NotACapture { .. })));
    let e = d.path().join("empty");
    std::fs::write(&e, b"").unwrap();
    assert!(matches!(FileReader::open(&e, None), Err(CaptureError::NotACapture { .. })));
    let h = d.path().join("header.pcap");
    std::fs::write(&h, pcap_bytes(&[])).unwrap();
    assert_eq!(read_all(&h, None).unwrap().len(), 0);
}

#[test]
fn invalid_filter_is_an_error_at_open() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.pcap");
    std::fs::write(&p, pcap_bytes(&[])).unwrap();
    match FileReader::open(&p, Some("tcp port banana")) {
        Err(CaptureError::Filter { filter, .. }) => assert_eq!(filter, "tcp port banana"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("invalid filter accepted"),
    }
}

#[test]
fn large_file_is_streamed_with_flat_buffer() {
    // 20 MB of packets through a 1 MiB buffer: every packet comes back intact.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big.pcap");
    let f = std::fs::File::create(&p).unwrap();
    let mut w = PcapWriter::new(std::io::BufWriter::new(f), LinkType::ETHERNET, 65535).unwrap();
    let payload = vec![b'z'; 1400];
    for i in 0..14_000u32 {
        let mut fr = frame(80, &payload);
        let n = fr.len();
        fr[n - 4..].copy_from_slice(&i.to_be_bytes());
        w.write_packet(Timestamp(i as i64), &fr).unwrap();
    }
    drop(w.into_inner());
    let mut r = FileReader::open(&p, None).unwrap();
    let mut i = 0u32;
    while let Some(pkt) = r.next_packet().unwrap() {
        assert_eq!(&pkt.data[pkt.data.len() - 4..], &i.to_be_bytes());
        i += 1;
    }
    assert_eq!(i, 14_000);
    let (done, total) = r.progress();
    assert_eq!(done, total);
}
