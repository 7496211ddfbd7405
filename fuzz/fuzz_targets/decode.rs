//! Every link-type decoder on arbitrary frames: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plainsight::decode::{LinkType, decode};

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, frame)) = data.split_first() {
        let links = [0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276];
        let _ = decode(LinkType(links[sel as usize % links.len()]), frame);
    }
});
