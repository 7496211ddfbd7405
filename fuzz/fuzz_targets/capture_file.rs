//! The capture file reader on arbitrary files (pcap and pcapng headers are likely prefixes): never panics,
//! never loops, ends with a clean end or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plainsight::capture::FileReader;

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile_path();
    let _ = std::fs::write(&f, data);
    if let Ok(mut r) = FileReader::open(&f, None) {
        for _ in 0..100_000 {
            match r.next_packet() {
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
    let _ = std::fs::remove_file(&mut f);
});

fn tempfile_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("plainsight-fuzz-{}.cap", std::process::id()))
}
