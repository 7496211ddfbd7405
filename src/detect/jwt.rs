//! JWT analysis: decode, never verify (there is no key), and say how long it can be replayed.
//!
//! STUB: the detect helper implements this module.

use serde::Serialize;

use crate::time::Timestamp;

/// Whether the token could be replayed at capture time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Validity {
    /// `exp` is after the capture time: replayable for `remaining_secs`.
    Valid { remaining_secs: i64, text: String },
    /// `exp` was before the capture time.
    Expired { ago_secs: i64, text: String },
    /// `nbf` is after the capture time.
    NotYetValid { in_secs: i64, text: String },
    /// No `exp` claim: replayable until the server revokes it.
    NoExpiry { text: String },
}

/// Decoded header and the claims that matter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JwtInfo {
    pub alg: Option<String>,
    pub typ: Option<String>,
    pub kid: Option<String>,
    /// `alg: none` (an unsigned token a server should never accept).
    pub alg_none: bool,
    /// HS256/384/512: shared-secret signature, offline brute-forceable.
    pub symmetric: bool,
    /// A JWE (five parts): encrypted payload, still replayable.
    pub encrypted: bool,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<String>,
    pub scope: Option<String>,
    pub roles: Vec<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub validity: Validity,
    /// The decoded header and claims JSON (for the detail view).
    #[serde(skip)]
    pub header_json: String,
    #[serde(skip)]
    pub claims_json: String,
}

/// Analyse `token` as seen at `capture_ts`. `None` when it is not shaped as a JWT/JWE.
pub fn analyse(_token: &str, _capture_ts: Timestamp) -> Option<JwtInfo> {
    None
}
