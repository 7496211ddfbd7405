//! `--export-hashes FILE`: the crackable material of a run, one line per exchange in hashcat's formats.
//!
//! | exchange | hashcat mode | line |
//! |---|---|---|
//! | CRAM-MD5 (SMTP, IMAP, POP3) | 10200 | `$cram_md5$<base64 challenge>$<base64 of "user digest">` |
//! | PostgreSQL md5 | 11100 | `$postgres$<user>*<salt hex>*<hash hex>` |
//! | MySQL `mysql_native_password` | 11200 | `$mysqlna$<scramble hex>*<response hex>` |
//! | NetNTLMv1 | 5500 | `<user>::<domain>:<lm hex>:<nt hex>:<challenge hex>` |
//! | NetNTLMv2 | 5600 | `<user>::<domain>:<challenge hex>:<ntproof hex>:<blob hex>` |
//! | HTTP Digest MD5 | 11400 | `$sip$*<server>*<client>*<user>*<realm>*<method>**<uri>**<nonce>*<cnonce>*<nc>*<qop>*MD5*<response>` |
//!
//! The formats are hashcat's own example hashes (`hashcat -m MODE --example-hashes`); tests recompute
//! each hash from a known password, and `captures/README.md` cracks the bundled captures' lines with
//! hashcat itself. A line is the material in the clear (a hash is as good as a weak password), so the
//! file is written only with `--reveal`, created like every file we write (`file::create_private`).
//!
//! Left out: SCRAM and APOP (no hashcat mode takes them from the wire), refused logins (a brute force
//! folds into one alert holding its first attempt only, and a refused response cracks to a wrong
//! password), values a format cannot carry (a user name holding its separator or a line break), and a
//! Digest with another algorithm than MD5.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

use base64::Engine;

use super::file::{OutputFileError, create_private};
use crate::alert::Alert;
use crate::detect::{LeakKind, Verdict};
use crate::proto::material::Material;

/// What an export wrote and left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exported {
    /// Lines written per hashcat mode, in increasing mode order.
    pub by_mode: Vec<(u32, usize)>,
    /// Material alerts left out: refused logins, exchanges no hashcat mode takes (SCRAM, APOP), values
    /// a format cannot carry.
    pub left_out: usize,
}

impl Exported {
    pub fn written(&self) -> usize {
        self.by_mode.iter().map(|(_, n)| n).sum()
    }

    /// `3 lines: 2 for hashcat -m 10200, 1 for -m 11100; 1 left out` (for the run's summary).
    pub fn summary(&self) -> String {
        let modes: Vec<String> = self
            .by_mode
            .iter()
            .enumerate()
            .map(|(i, (m, n))| if i == 0 { format!("{n} for hashcat -m {m}") } else { format!("{n} for -m {m}") })
            .collect();
        let n = self.written();
        let mut s = format!("{n} line{}", if n == 1 { "" } else { "s" });
        if !modes.is_empty() {
            s.push_str(&format!(": {}", modes.join(", ")));
        }
        if self.left_out > 0 {
            s.push_str(&format!("; {} left out (refused, or no hashcat format)", self.left_out));
        }
        s
    }
}

/// The material of an alert: what its parser kept, or for an HTTP Digest header (the alert's secret is
/// the whole header value), the digest's fields with the request's method.
pub fn material_of(a: &Alert) -> Option<Cow<'_, Material>> {
    if let Some(m) = a.login.as_ref().and_then(|l| l.material.as_deref()) {
        return Some(Cow::Borrowed(m));
    }
    if a.kind == LeakKind::OtherAuth && a.class.is_material() {
        return Material::from_digest(a.secret.expose(), a.method.as_deref()?).map(Cow::Owned);
    }
    None
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A value that may sit between two separators of a line: no separator, no line break, not too long
/// for hashcat's parsers.
fn fits(v: &str, sep: char, max: usize) -> bool {
    v.len() <= max && !v.contains(sep) && !v.contains(['\r', '\n'])
}

/// The hashcat line of one exchange (`server` and `client` only label a Digest line), `None` when a
/// value cannot be written in the format.
pub fn line(m: &Material, server: &str, client: &str) -> Option<String> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match m {
        Material::CramMd5 { challenge, user, digest } => {
            let hexdigest = digest.len() == 32 && digest.bytes().all(|c| c.is_ascii_hexdigit());
            (hexdigest && fits(user, '\n', 256))
                .then(|| format!("$cram_md5${}${}", b64(challenge), b64(format!("{user} {digest}").as_bytes())))
        }
        Material::PostgresMd5 { user, salt, hash } => {
            (fits(user, '*', 256) && hash.len() == 32).then(|| format!("$postgres${user}*{}*{hash}", hex(salt)))
        }
        Material::MysqlNative { scramble, response } => (scramble.len() == 20 && response.len() == 20)
            .then(|| format!("$mysqlna${}*{}", hex(scramble), hex(response))),
        Material::NetNtlm { user, domain, challenge, lm, nt } => {
            if !fits(user, ':', 256) || !fits(domain, ':', 256) {
                return None;
            }
            if nt.len() == 24 {
                // NetNTLMv1: the LM response as sent (24 bytes; with ESS, the client challenge and zeros).
                (lm.len() == 24).then(|| format!("{user}::{domain}:{}:{}:{}", hex(lm), hex(nt), hex(challenge)))
            } else {
                let (proof, blob) = nt.split_at_checked(16)?;
                (!blob.is_empty()).then(|| format!("{user}::{domain}:{}:{}:{}", hex(challenge), hex(proof), hex(blob)))
            }
        }
        Material::HttpDigest(d) => {
            let label = |s: &str| s.replace(['*', '\r', '\n'], "_");
            // hashcat's limits: user and realm together 117 bytes, method and URI 246, nonce 1024.
            let ok = d.user.len() + d.realm.len() <= 117
                && d.method.len() <= 246
                && (1..=246).contains(&d.uri.len())
                && d.nonce.len() <= 1024
                && d.cnonce.len() <= 1024
                && d.nc.len() <= 1024;
            ok.then(|| {
                format!(
                    "$sip$*{}*{}*{}*{}*{}**{}**{}*{}*{}*{}*MD5*{}",
                    label(server),
                    label(client),
                    d.user,
                    d.realm,
                    d.method,
                    d.uri,
                    d.nonce,
                    d.cnonce,
                    d.nc,
                    d.qop,
                    d.response
                )
            })
        }
    }
}

/// Writes the exportable lines of `alerts` to `out`, in the alerts' order.
pub fn write_to(out: &mut dyn Write, alerts: &[&Alert]) -> io::Result<Exported> {
    let mut e = Exported::default();
    for a in alerts.iter().filter(|a| a.class.is_material()) {
        let refused = a.verdict() == Some(Verdict::Refused);
        let l = material_of(a).filter(|_| !refused).and_then(|m| {
            line(&m, &a.server.ip().to_string(), &a.client.ip().to_string()).map(|l| (m.hashcat_mode(), l))
        });
        let Some((mode, l)) = l else {
            e.left_out += 1;
            continue;
        };
        writeln!(out, "{l}")?;
        match e.by_mode.iter_mut().find(|(m, _)| *m == mode) {
            Some((_, n)) => *n += 1,
            None => e.by_mode.push((mode, 1)),
        }
    }
    e.by_mode.sort_unstable();
    Ok(e)
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Create(#[from] OutputFileError),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: io::Error },
}

/// Creates `path` (mode 0600, see [`create_private`]) and writes the alerts' material into it, sorted by
/// alert id.
pub fn export(path: &Path, alerts: &[Alert]) -> Result<Exported, ExportError> {
    let mut all: Vec<&Alert> = alerts.iter().collect();
    all.sort_by_key(|a| a.id);
    let f = create_private(path)?;
    let mut w = io::BufWriter::new(f);
    let err = |source| ExportError::Write { path: path.display().to_string(), source };
    let e = write_to(&mut w, &all).map_err(err)?;
    w.flush().map_err(err)?;
    Ok(e)
}

#[cfg(test)]
mod tests {
    //! Independent truth: every line is parsed back by the format's documented layout and its hash
    //! recomputed from the known password with the RustCrypto crates (nothing of ours), and where
    //! hashcat's own example hash is reproducible from its parts, our line equals it byte for byte.

    use hmac::{Hmac, Mac};
    use md4::Md4;
    use md5::{Digest as _, Md5};
    use sha1::Sha1;

    use super::*;

    const PW: &str = "Secret-Pass-7";

    fn md5(b: &[u8]) -> Vec<u8> {
        Md5::digest(b).to_vec()
    }
    fn hmac_md5(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut m = <Hmac<Md5> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }
    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("{s}")))
            .collect()
    }
    fn b64d(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).unwrap_or_else(|_| panic!("{s}"))
    }

    #[test]
    fn cram_md5_line_is_hmac_md5_of_the_challenge_keyed_by_the_password() {
        let challenge = b"<1896.697170952@postoffice.reston.mci.net>".to_vec();
        let digest = hex(&hmac_md5(PW.as_bytes(), &challenge));
        let m = Material::CramMd5 { challenge, user: "tim".into(), digest };
        let l = line(&m, "s", "c").unwrap_or_else(|| panic!("no line"));
        let parts: Vec<&str> = l.strip_prefix("$cram_md5$").unwrap_or_else(|| panic!("{l}")).split('$').collect();
        let (ch, resp) = (b64d(parts[0]), String::from_utf8(b64d(parts[1])).unwrap_or_default());
        let (user, d) = resp.rsplit_once(' ').unwrap_or_else(|| panic!("{resp}"));
        assert_eq!(user, "tim");
        assert_eq!(d, hex(&hmac_md5(PW.as_bytes(), &ch)));
        assert_eq!(m.hashcat_mode(), 10200);
        // hashcat's example (`--example-hashes`, password "hashcat") from its parts.
        let ex = Material::CramMd5 {
            challenge: b"12".to_vec(),
            user: "user".into(),
            digest: "b8f0699114b057889223df084f82246f".into(),
        };
        assert_eq!(
            line(&ex, "", "").as_deref(),
            Some("$cram_md5$MTI=$dXNlciBiOGYwNjk5MTE0YjA1Nzg4OTIyM2RmMDg0ZjgyMjQ2Zg==")
        );
        assert_eq!(hex(&hmac_md5(b"hashcat", b"12")), "b8f0699114b057889223df084f82246f", "the example's truth");
    }

    #[test]
    fn postgres_line_is_md5_of_the_inner_hash_and_salt() {
        let (user, salt) = ("app_md5", [0x15, 0xc1, 0x11, 0x10]);
        let inner = hex(&md5(format!("{PW}{user}").as_bytes()));
        let hash = hex(&md5(&[inner.as_bytes(), &salt].concat()));
        let l = line(&Material::PostgresMd5 { user: user.into(), salt, hash }, "", "").unwrap_or_default();
        let f: Vec<&str> = l.strip_prefix("$postgres$").unwrap_or_else(|| panic!("{l}")).split('*').collect();
        let inner = hex(&md5(format!("{PW}{}", f[0]).as_bytes()));
        assert_eq!(f[2], hex(&md5(&[inner.as_bytes(), &unhex(f[1])].concat())));
        let ex = Material::PostgresMd5 {
            user: "postgres".into(),
            salt: [0x74, 0x40, 0x28, 0x44],
            hash: "4e7fabaaf34d780c4a5822d28ee1c83e".into(),
        };
        assert_eq!(line(&ex, "", "").as_deref(), Some("$postgres$postgres*74402844*4e7fabaaf34d780c4a5822d28ee1c83e"));
        let star = Material::PostgresMd5 { user: "a*b".into(), salt, hash: "0".repeat(32) };
        assert_eq!(line(&star, "", ""), None, "a user holding the separator cannot be written");
    }

    /// MySQL native: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
    pub fn mysql_native(pw: &[u8], scramble: &[u8]) -> Vec<u8> {
        let h1 = Sha1::digest(pw);
        let h2 = Sha1::digest(h1);
        let mut s = Sha1::new();
        s.update(scramble);
        s.update(h2);
        let x = s.finalize();
        h1.iter().zip(x.iter()).map(|(a, b)| a ^ b).collect()
    }

    #[test]
    fn mysql_line_is_the_scramble_and_the_xored_sha1_response() {
        let scramble: Vec<u8> = (1..=20).collect();
        let response = mysql_native(PW.as_bytes(), &scramble);
        let l = line(&Material::MysqlNative { scramble, response }, "", "").unwrap_or_default();
        let (s, r) = l.strip_prefix("$mysqlna$").and_then(|x| x.split_once('*')).unwrap_or_else(|| panic!("{l}"));
        assert_eq!(unhex(r), mysql_native(PW.as_bytes(), &unhex(s)));
        let ex = Material::MysqlNative {
            scramble: unhex("2576670568531371763643101056213751754328"),
            response: unhex("5e4be686a3149a12847caa9898247dcc05739601"),
        };
        assert_eq!(
            line(&ex, "", "").as_deref(),
            Some("$mysqlna$2576670568531371763643101056213751754328*5e4be686a3149a12847caa9898247dcc05739601")
        );
        assert_eq!(
            hex(&mysql_native(b"hashcat", &unhex("2576670568531371763643101056213751754328"))),
            "5e4be686a3149a12847caa9898247dcc05739601"
        );
    }

    /// NTOWFv2 and the NTProofStr of NTLMv2 (MS-NLMP 3.3.2).
    pub fn ntlmv2_proof(pw: &str, user: &str, domain: &str, challenge: &[u8], blob: &[u8]) -> Vec<u8> {
        let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let nt_hash = Md4::digest(utf16(pw));
        let ntowf = hmac_md5(&nt_hash, &utf16(&format!("{}{domain}", user.to_uppercase())));
        hmac_md5(&ntowf, &[challenge, blob].concat())
    }

    #[test]
    fn netntlmv2_line_is_user_domain_challenge_proof_blob() {
        let challenge = *b"\x01\x23\x45\x67\x89\xab\xcd\xef";
        let blob = [&[1u8, 1, 0, 0, 0, 0, 0, 0][..], &[9; 8], b"client-ch", &[0; 4]].concat();
        let proof = ntlmv2_proof(PW, "alice", "LAB", &challenge, &blob);
        let m = Material::NetNtlm {
            user: "alice".into(),
            domain: "LAB".into(),
            challenge,
            lm: vec![0; 24],
            nt: [proof, blob].concat(),
        };
        assert_eq!(m.hashcat_mode(), 5600);
        let l = line(&m, "", "").unwrap_or_default();
        let f: Vec<&str> = l.split(':').collect();
        assert_eq!((f[0], f[1], f[2]), ("alice", "", "LAB"), "{l}");
        assert_eq!(unhex(f[4]), ntlmv2_proof(PW, f[0], f[2], &unhex(f[3]), &unhex(f[5])));
        // hashcat's example from its parts.
        let ex = "0UL5G37JOI0SX::6VB1IS0KA74:ebe1afa18b7fbfa6:aab8bf8675658dd2a939458a1077ba08:010100000000000031c8aa092510945398b9f7b7dde1a9fb00000000f7876f2b04b700";
        let f: Vec<&str> = ex.split(':').collect();
        let ch: [u8; 8] = unhex(f[3]).try_into().unwrap_or_else(|_| unreachable!());
        let m = Material::NetNtlm {
            user: f[0].into(),
            domain: f[2].into(),
            challenge: ch,
            lm: Vec::new(),
            nt: [unhex(f[4]), unhex(f[5])].concat(),
        };
        assert_eq!(line(&m, "", "").as_deref(), Some(ex));
        assert_eq!(unhex(f[4]), ntlmv2_proof("hashcat", f[0], f[2], &unhex(f[3]), &unhex(f[5])), "the example's truth");
    }

    #[test]
    fn netntlmv1_line_is_user_domain_lm_nt_challenge_as_hashcats_example() {
        let ex = "::5V4T:ada06359242920a500000000000000000000000000000000:0556d5297b5daa70eaffde82ef99293a3f3bb59b7c9704ea:9c23f6c094853920";
        let f: Vec<&str> = ex.split(':').collect();
        let m = Material::NetNtlm {
            user: String::new(),
            domain: f[2].into(),
            challenge: unhex(f[5]).try_into().unwrap_or_else(|_| unreachable!()),
            lm: unhex(f[3]),
            nt: unhex(f[4]),
        };
        assert_eq!(m.hashcat_mode(), 5500);
        assert_eq!(line(&m, "", "").as_deref(), Some(ex));
        let colon = Material::NetNtlm {
            user: "a:b".into(),
            domain: String::new(),
            challenge: [0; 8],
            lm: vec![0; 24],
            nt: vec![0; 24],
        };
        assert_eq!(line(&colon, "", ""), None);
    }

    #[test]
    fn digest_line_recomputes_the_response_with_qop_and_without() {
        for qop in [true, false] {
            let (user, realm, method, uri, nonce, nc, cnonce) =
                ("bob", "shop.lab", "GET", "/admin?x=1", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b");
            let ha1 = hex(&md5(format!("{user}:{realm}:{PW}").as_bytes()));
            let ha2 = hex(&md5(format!("{method}:{uri}").as_bytes()));
            let resp = if qop {
                hex(&md5(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes()))
            } else {
                hex(&md5(format!("{ha1}:{nonce}:{ha2}").as_bytes()))
            };
            let header = if qop {
                format!(
                    r#"Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", qop=auth, nc={nc}, cnonce="{cnonce}", response="{resp}""#
                )
            } else {
                format!(r#"Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{resp}""#)
            };
            let m = Material::from_digest(&header, method).unwrap_or_else(|| panic!("{header}"));
            let l = line(&m, "10.77.0.2", "10.77.0.1").unwrap_or_default();
            // hashcat's module: user*realm*method*uri_prefix*uri_resource*uri_suffix*nonce*cnonce*nc*qop*MD5*hash.
            let f: Vec<&str> = l.split('*').collect();
            assert_eq!((f[0], f[1], f[2], f[13]), ("$sip$", "10.77.0.2", "10.77.0.1", "MD5"), "{l}");
            let ha1 = hex(&md5(format!("{}:{}:{PW}", f[3], f[4]).as_bytes()));
            assert_eq!(f[6], "", "no URI prefix: HA2 is md5(method:uri)");
            let ha2 = hex(&md5(format!("{}:{}", f[5], f[7]).as_bytes()));
            let want = if f[12] == "auth" {
                hex(&md5(format!("{ha1}:{}:{}:{}:auth:{ha2}", f[9], f[11], f[10]).as_bytes()))
            } else {
                hex(&md5(format!("{ha1}:{}:{ha2}", f[9]).as_bytes()))
            };
            assert_eq!(f[14], want, "{l}");
        }
    }

    #[test]
    fn refused_and_unexportable_material_is_left_out_and_counted() {
        let e = Exported { by_mode: vec![(10200, 2), (11100, 1)], left_out: 1 };
        assert_eq!(
            e.summary(),
            "3 lines: 2 for hashcat -m 10200, 1 for -m 11100; 1 left out (refused, or no hashcat format)"
        );
        assert_eq!(Exported::default().summary(), "0 lines");
    }
}
