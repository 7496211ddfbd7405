//! The attacker's generator: captures built to hurt plainsight or the analyst who opens them, beside
//! the truth generators (`captures/gen`, `examples/gen_capture.rs`). `tests/hostile` shares these
//! builders; this binary writes them to files for measurements (README, the closing notes of issues).
//!
//! ```text
//! cargo run --release --example gen_hostile -- MODE OUT.pcap [ARGS...]
//! ```
//! Modes are listed by running it without arguments.

// Builders shared with tests/hostile: not every item is used by this binary.
mod h2;
mod http;
mod ip;
mod linear;
mod memory;
mod proto;
#[allow(dead_code)]
mod proto_more;
#[allow(dead_code)]
mod redaction;
#[allow(dead_code)]
mod terminal;
mod ws;

type Mode = (&'static str, &'static str, fn(&str, &[u64]) -> std::io::Result<()>);

/// Every mode: name, arguments and what it writes, and the builder.
fn modes() -> Vec<Mode> {
    let mut m: Vec<Mode> = Vec::new();
    m.extend(redaction::modes());
    m.extend(terminal::modes());
    m.extend(ip::modes());
    m.extend(linear::modes());
    m.extend(memory::modes());
    m.extend(proto::modes());
    m.extend(proto_more::modes());
    m.extend(http::modes());
    m.extend(h2::modes());
    m.extend(ws::modes());
    m
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let modes = modes();
    let found = args.first().and_then(|a| modes.iter().find(|m| m.0 == a.as_str()));
    let (Some(m), Some(out)) = (found, args.get(1)) else {
        eprintln!("usage: gen_hostile MODE OUT.pcap [ARGS...]\nmodes:");
        for (name, what, _) in &modes {
            eprintln!("  {name:<20} {what}");
        }
        std::process::exit(2);
    };
    let nums: Vec<u64> = args[2..].iter().filter_map(|a| a.parse().ok()).collect();
    if let Err(e) = (m.2)(out, &nums) {
        eprintln!("gen_hostile: {out}: {e}");
        std::process::exit(1);
    }
}
