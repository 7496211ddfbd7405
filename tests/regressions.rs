//! One test per bug found (by fuzzing or otherwise), named after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use plainsight::detect::{Config, detect_request};
use plainsight::http::{Body, Headers, Request};
use plainsight::time::Timestamp;

/// fuzz/artifacts/detect/crash-cb4fb291: `X-Token: key hea` was reported as an API key whose
/// "secret" then appeared inside the fixed evidence text "API key header". A value with spaces is
/// not a key.
#[test]
fn fuzz_detect_api_key_header_with_spaces_is_not_a_key() {
    let req = Request {
        method: "POST".into(),
        target: String::new(),
        version: 1,
        headers: Headers(vec![("X-Token".into(), b"key hea".to_vec())]),
        body: Body::default(),
        ts: Timestamp(0),
    };
    let mut out = Vec::new();
    detect_request(&Config { include_low_confidence: true }, &req, Timestamp(0), &mut out);
    assert!(out.is_empty(), "{out:?}");
}
