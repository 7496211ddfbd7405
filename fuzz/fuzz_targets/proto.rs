//! The ten TCP session parsers (alone and behind `proto::Conn`), the prober and the SNMP tracker on a
//! hostile conversation (the input format and the invariants are in fuzz/harness/proto.rs, shared with
//! tests/regressions.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/proto.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
