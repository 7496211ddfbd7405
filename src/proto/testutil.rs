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

/// Feeds every message in pieces of `cut` bytes (at least 1), then closes: what the random-cutting
/// property tests do. `s` is borrowed so that they can look at what it still keeps.
pub fn run_cut(s: &mut impl Session, conv: &[(Side, Vec<u8>)], cut: usize) -> Logins {
    let mut out = Logins::default();
    for (side, m) in conv {
        for piece in m.chunks(cut) {
            s.on_data(*side, piece, Timestamp::from_secs(1), &mut out);
        }
    }
    s.on_close(Timestamp::from_secs(2), &mut out);
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

/// A transcript as strings, every slot revealed (what the tests of the exchange compare).
pub fn full(t: &[crate::secret::Text]) -> Vec<String> {
    t.iter().map(|l| l.render(crate::secret::Reveal::Full)).collect()
}

/// Every transcript line of every login, redacted: what outputs show by default.
pub fn redacted(out: &Logins) -> Vec<String> {
    out.logins.iter().flat_map(|l| l.transcript.iter()).map(|l| l.render(crate::secret::Reveal::Redacted)).collect()
}

/// No transcript line of any login shows any of `secrets` (in clear, or in base64), once redacted; and
/// every login's transcript holds its own secret as a slot (one fingerprint with its alert).
pub fn assert_no_secret_shown(out: &Logins, secrets: &[&[u8]]) {
    for l in &out.logins {
        let own = l.transcript.iter().flat_map(|t| t.secrets()).any(|s| s == &l.secret);
        assert!(own, "the transcript of {:?} has no slot of its own secret: {:?}", l.mechanism, l.transcript);
    }
    use base64::Engine as _;
    let lines = redacted(out);
    assert!(!lines.is_empty(), "no transcript to check");
    for s in secrets {
        let clear = String::from_utf8_lossy(s).into_owned();
        let b64 = base64::engine::general_purpose::STANDARD.encode(s);
        for l in &lines {
            assert!(!l.contains(&clear), "{clear:?} shown in {l:?}");
            assert!(!l.contains(b64.trim_end_matches('=')), "{clear:?} shown in base64 in {l:?}");
        }
    }
}
