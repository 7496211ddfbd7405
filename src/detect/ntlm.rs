//! HTTP NTLM (`Authorization: NTLM <base64>`, and NTLMSSP inside `Negotiate`): the three messages
//! across request, response, request on one connection. Type 1 (negotiate) carries nothing; the
//! server's type 2 (in `WWW-Authenticate` or `Proxy-Authenticate` of a 401/407) carries the 8-byte
//! challenge; the client's type 3 carries the user, the domain and the LM and NT responses computed
//! from the password and that challenge: NetNTLMv1 (a 24-byte NT response) or NetNTLMv2 (a 16-byte
//! proof and the client's blob). That is crackable material, class `material` ([`LeakKind::HttpNtlm`]),
//! exported for hashcat (modes 5500/5600) when the challenge was seen.
//!
//! Detectors are stateless: the pipeline keeps the last challenge of each connection ([`challenge`] on
//! every response) and hands it to [`detect`] with the next request. Messages are parsed by their
//! field offsets (MS-NLMP 2.2.1), every offset and length checked against the message.

use base64::Engine;

use super::{Confidence, Field, Finding, Found, LeakKind, LoginInfo, SecretClass, Span, TlsNote, Verdict};
use crate::http::Headers;
use crate::proto::material::Material;
use crate::secret::{Secret, Text};

const SIGNATURE: &[u8] = b"NTLMSSP\0";
const NEGOTIATE_UNICODE: u32 = 0x1;

/// Longest base64 value decoded: a type 3 message is a few hundred bytes to a few KiB (the NTLMv2 blob
/// holds the server's target info); anything longer is not one.
const MAX_B64: usize = 16 * 1024;

/// The NTLMSSP message in an `NTLM` or `Negotiate` header value (`Negotiate` may wrap it in SPNEGO:
/// the signature is looked for), or `None`.
fn message(value: &[u8]) -> Option<Vec<u8>> {
    let v = value.trim_ascii();
    let sp = v.iter().position(u8::is_ascii_whitespace)?;
    let (scheme, rest) = v.split_at(sp);
    if !scheme.eq_ignore_ascii_case(b"NTLM") && !scheme.eq_ignore_ascii_case(b"Negotiate") {
        return None;
    }
    let rest = rest.trim_ascii();
    if rest.len() > MAX_B64 {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
    let at = memchr::memmem::find(&raw, SIGNATURE)?;
    Some(raw.get(at..)?.to_vec())
}

fn u16_le(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?])))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The bytes a security buffer (length, max length, offset) at `at` points to.
fn field(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = u16_le(m, at)?;
    let off = u32_le(m, at + 4)? as usize;
    m.get(off..off.checked_add(len)?)
}

fn message_type(m: &[u8]) -> Option<u32> {
    u32_le(m, 8)
}

/// Whether this module accounts for an `Authorization`-style value: an NTLMSSP negotiate or challenge
/// (nothing to report), or an authenticate message it reads (reported by [`detect`], or anonymous).
/// Anything else after `NTLM` (a damaged message) stays `auth`'s opaque material.
pub fn handles(value: &[u8]) -> bool {
    message(value).is_some_and(|m| match message_type(&m) {
        Some(1 | 2) => true,
        Some(3) => authenticate(&m).is_some(),
        _ => false,
    })
}

/// The server's challenge, when `headers` carry an NTLM type 2 message (`WWW-Authenticate` or
/// `Proxy-Authenticate`).
pub fn challenge(headers: &Headers) -> Option<[u8; 8]> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("www-authenticate") || n.eq_ignore_ascii_case("proxy-authenticate"))
        .find_map(|(_, v)| {
            let m = message(v)?;
            (message_type(&m)? == 2).then_some(())?;
            m.get(24..32)?.try_into().ok()
        })
}

/// A type 3 message's user, domain, LM and NT responses.
struct Authenticate {
    user: String,
    domain: String,
    lm: Vec<u8>,
    nt: Vec<u8>,
}

fn authenticate(m: &[u8]) -> Option<Authenticate> {
    if message_type(m)? != 3 {
        return None;
    }
    let lm = field(m, 12)?.to_vec();
    let nt = field(m, 20)?.to_vec();
    let flags = u32_le(m, 60).unwrap_or(NEGOTIATE_UNICODE);
    let string = |b: &[u8]| -> String {
        let s = if flags & NEGOTIATE_UNICODE != 0 {
            let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(b).into_owned()
        };
        s.chars().filter(|c| !c.is_control()).collect()
    };
    Some(Authenticate { domain: string(field(m, 28)?), user: string(field(m, 36)?), lm, nt })
}

/// The NTLM type 3 messages of a request's `Authorization` and `Proxy-Authorization` headers, as
/// `http_ntlm` material; `challenge` is the connection's last type 2 challenge (none: reported without
/// material). Anonymous authentication (no user, no NT response) is nothing.
pub fn detect(headers: &Headers, challenge: Option<[u8; 8]>, out: &mut Found) {
    for (i, (name, v)) in headers.iter().enumerate() {
        let header = if name.eq_ignore_ascii_case("authorization") {
            "Authorization"
        } else if name.eq_ignore_ascii_case("proxy-authorization") {
            "Proxy-Authorization"
        } else {
            continue;
        };
        let Some(a) = message(v).and_then(|m| authenticate(&m)) else { continue };
        if a.user.is_empty() || a.nt.len() < 24 {
            continue;
        }
        let v2 = a.nt.len() > 24;
        let hex: String = a.nt.iter().map(|b| format!("{b:02x}")).collect();
        let who = if a.domain.is_empty() { a.user.clone() } else { format!("{}\\{}", a.domain, a.user) };
        let material = challenge.map(|c| {
            Box::new(Material::NetNtlm {
                user: a.user.clone(),
                domain: a.domain.clone(),
                challenge: c,
                lm: a.lm.clone(),
                nt: a.nt.clone(),
            })
        });
        let mut evidence = format!(
            "NTLM {} challenge response (hash only, no password: crackable offline, not replayable)",
            if v2 { "NetNTLMv2" } else { "NetNTLMv1" }
        );
        if material.is_none() {
            evidence.push_str("; the server's challenge was not seen (capture started mid-connection)");
        }
        let trimmed = super::common::trim_range(v, 0..v.len());
        out.push(Finding {
            kind: LeakKind::HttpNtlm,
            class: SecretClass::Material,
            confidence: Confidence::High,
            secret: Secret::new(&hex),
            user: Some(Text::user(&super::common::short(&who, 256))),
            location: format!("header {header}"),
            evidence,
            jwt: None,
            login: Some(LoginInfo {
                mechanism: "NTLM",
                verdict: Verdict::Unknown,
                tls: TlsNote::NotOffered,
                transcript: Vec::new(),
                material,
            }),
            span: Some(Span::new(Field::Header(i), trimmed)),
        });
    }
}

/// Builders of NTLM messages (tests, generators).
pub mod enc {
    use base64::Engine;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A type 1 (negotiate) message, base64.
    pub fn negotiate() -> String {
        let mut m = super::SIGNATURE.to_vec();
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&0xe208_8297u32.to_le_bytes());
        m.extend_from_slice(&[0; 16]);
        base64::engine::general_purpose::STANDARD.encode(m)
    }

    /// A type 2 (challenge) message with `challenge`, base64.
    pub fn challenge(challenge: [u8; 8]) -> String {
        let target = utf16("LAB");
        let mut m = super::SIGNATURE.to_vec();
        m.extend_from_slice(&2u32.to_le_bytes());
        m.extend_from_slice(&(target.len() as u16).to_le_bytes());
        m.extend_from_slice(&(target.len() as u16).to_le_bytes());
        m.extend_from_slice(&48u32.to_le_bytes());
        m.extend_from_slice(&0xe28a_8215u32.to_le_bytes());
        m.extend_from_slice(&challenge);
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[0; 8]); // target info: empty
        m.extend_from_slice(&target);
        base64::engine::general_purpose::STANDARD.encode(m)
    }

    /// A type 3 (authenticate) message, base64, Unicode strings.
    pub fn authenticate(user: &str, domain: &str, lm: &[u8], nt: &[u8]) -> String {
        let (d, u, w) = (utf16(domain), utf16(user), utf16("WS"));
        let mut off = 72u32;
        let mut m = super::SIGNATURE.to_vec();
        m.extend_from_slice(&3u32.to_le_bytes());
        let mut payload = Vec::new();
        for part in [lm, nt, &d[..], &u[..], &w[..], &[][..]] {
            m.extend_from_slice(&(part.len() as u16).to_le_bytes());
            m.extend_from_slice(&(part.len() as u16).to_le_bytes());
            m.extend_from_slice(&off.to_le_bytes());
            off += part.len() as u32;
            payload.extend_from_slice(part);
        }
        m.extend_from_slice(&0xe288_8215u32.to_le_bytes());
        m.extend_from_slice(&[0; 8]); // version
        m.extend_from_slice(&payload);
        base64::engine::general_purpose::STANDARD.encode(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        Headers::from_iter(pairs.iter().copied())
    }

    #[test]
    fn a_type_3_after_the_servers_challenge_is_material_with_user_and_domain() {
        let c = *b"\x01\x23\x45\x67\x89\xab\xcd\xef";
        let resp = headers(&[("WWW-Authenticate", &format!("NTLM {}", enc::challenge(c)))]);
        assert_eq!(challenge(&resp), Some(c));
        let nt: Vec<u8> = (0..60).collect();
        let req = headers(&[("Authorization", &format!("NTLM {}", enc::authenticate("alice", "LAB", &[0; 24], &nt)))]);
        let mut found = Found::default();
        detect(&req, Some(c), &mut found);
        let f = &found.findings[0];
        assert_eq!((f.kind, f.class), (LeakKind::HttpNtlm, SecretClass::Material));
        assert_eq!(f.plain_user().as_deref(), Some("LAB\\alice"));
        assert!(f.evidence.contains("NetNTLMv2"), "{}", f.evidence);
        let m = f.login.as_ref().and_then(|l| l.material.as_deref());
        let want = Material::NetNtlm { user: "alice".into(), domain: "LAB".into(), challenge: c, lm: vec![0; 24], nt };
        assert_eq!(m, Some(&want));
    }

    #[test]
    fn type_1_anonymous_and_unrelated_values_are_nothing_and_no_challenge_no_material() {
        let mut found = Found::default();
        detect(&headers(&[("Authorization", &format!("NTLM {}", enc::negotiate()))]), None, &mut found);
        detect(
            &headers(&[("Authorization", &format!("NTLM {}", enc::authenticate("", "", &[], &[])))]),
            None,
            &mut found,
        );
        detect(&headers(&[("Authorization", "NTLM !!!not-base64"), ("Authorization", "Basic YTpi")]), None, &mut found);
        assert!(found.findings.is_empty());
        assert!(handles(format!("NTLM {}", enc::negotiate()).as_bytes()));
        assert!(!handles(b"NTLM TlRMTVNTUAADAAAAGAAYAEAAAAA="), "a damaged type 3 stays auth's opaque material");
        let v1 = enc::authenticate("bob", "", &[1; 24], &[2; 24]);
        detect(&headers(&[("Proxy-Authorization", &format!("NTLM {v1}"))]), None, &mut found);
        let f = &found.findings[0];
        assert!(f.evidence.contains("NetNTLMv1") && f.evidence.contains("not seen"), "{}", f.evidence);
        assert!(f.login.as_ref().is_some_and(|l| l.material.is_none()));
        assert_eq!(challenge(&headers(&[("WWW-Authenticate", "NTLM"), ("WWW-Authenticate", "Basic realm=x")])), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Any bytes after the signature, as a challenge or an authenticate message: no panic, at most
        /// one finding per header, never for a type 1 or 2.
        #[test]
        fn any_ntlmssp_message_never_panics(kind in 1u32..4, body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut m = SIGNATURE.to_vec();
            m.extend_from_slice(&kind.to_le_bytes());
            m.extend_from_slice(&body);
            let v = format!("NTLM {}", base64::engine::general_purpose::STANDARD.encode(&m));
            let h = headers(&[("Authorization", &v), ("WWW-Authenticate", &v)]);
            let _ = challenge(&h);
            let mut found = Found::default();
            detect(&h, Some([7; 8]), &mut found);
            proptest::prop_assert!(found.findings.len() <= 1);
            proptest::prop_assert!(kind == 3 || found.findings.is_empty());
        }
    }

    #[test]
    fn truncated_and_lying_offsets_never_panic() {
        let full = base64::engine::general_purpose::STANDARD
            .decode(enc::authenticate("alice", "LAB", &[0; 24], &[1; 40]))
            .unwrap_or_default();
        let mut found = Found::default();
        for cut in 0..full.len() {
            let mut m = full[..cut].to_vec();
            let v = format!("NTLM {}", base64::engine::general_purpose::STANDARD.encode(&m));
            detect(&headers(&[("Authorization", &v)]), Some([0; 8]), &mut found);
            if cut > 30 {
                m[cut / 2] ^= 0xff;
                let v = format!("Negotiate {}", base64::engine::general_purpose::STANDARD.encode(&m));
                detect(&headers(&[("Authorization", &v)]), Some([0; 8]), &mut found);
            }
        }
    }
}
