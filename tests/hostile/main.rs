//! The adversarial suite: what whoever controls the traffic, or whoever wrote a capture file, can do to
//! plainsight, and the promise of THREAT_MODEL.md that stops it. One module per class of attack; the
//! traffic comes from the attacker's generator (`examples/gen_hostile`, whose builders these tests
//! share) beside the truth generators of `captures/gen`.

#[path = "../common/mod.rs"]
mod common;
mod evasion_h2;
mod evasion_http;
mod evasion_ip;
mod evasion_ws;
mod files;
mod linear;
mod memory;
mod privileges;
mod proto_more;
mod redaction;
mod redaction_proto;
mod terminal;
