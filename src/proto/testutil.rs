//! Feeding a conversation to a session parser in tests: whole, and one byte per call (a telnet login
//! typed one character per segment, a 36-byte MSS), which must give the same logins.

use super::{Logins, Session};
use crate::reassembly::Side;
use crate::time::Timestamp;

/// `C` and `S` for readable conversations.
pub const C: Side = Side::Client;
pub const S: Side = Side::Server;

/// Feeds each message as one call, then closes.
pub fn run(mut s: impl Session, conv: &[(Side, &[u8])]) -> Logins {
    let mut out = Logins::default();
    for (i, (side, data)) in conv.iter().enumerate() {
        s.on_data(*side, data, Timestamp::from_secs(1_000 + i as i64), &mut out);
    }
    s.on_close(Timestamp::from_secs(2_000), &mut out);
    out
}

/// Feeds every message one byte per call, then closes.
pub fn run_bytewise(mut s: impl Session, conv: &[(Side, &[u8])]) -> Logins {
    let mut out = Logins::default();
    for (i, (side, data)) in conv.iter().enumerate() {
        for b in data.chunks(1) {
            s.on_data(*side, b, Timestamp::from_secs(1_000 + i as i64), &mut out);
        }
    }
    s.on_close(Timestamp::from_secs(2_000), &mut out);
    out
}

/// Both ways must agree (same users, secrets, verdicts, TLS); returns the logins.
pub fn run_both<S: Session>(make: impl Fn() -> S, conv: &[(Side, &[u8])]) -> Logins {
    let a = run(make(), conv);
    let b = run_bytewise(make(), conv);
    let key = |l: &Logins| {
        l.logins.iter().map(|x| (x.user.clone(), x.secret.clone(), x.verdict, x.tls, x.mechanism)).collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b), "whole vs byte-by-byte feeding differ");
    assert_eq!(a.tls, b.tls);
    a
}
