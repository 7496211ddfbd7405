//! Crackable material: what a hash-only exchange leaves on the wire, kept as the parts an offline cracker
//! needs (the challenge the server sent and the response the client computed from it and its password).
//!
//! The parser that sees both halves of the exchange builds it (the server's challenge arrives first, the
//! client's response after it), because no later stage could find the challenge again: it is in the
//! server's bytes, not in the secret. The material travels with the login to the alert, and only
//! `--export-hashes` (with `--reveal`) writes it out, in hashcat's formats (`output::hashes`). Its
//! `Debug` shows the variant alone: the parts are as sensitive as a password hash.

/// One exchange's material. The variants are the exchanges hashcat can attack.
#[derive(Clone, PartialEq, Eq)]
pub enum Material {
    /// CRAM-MD5 (RFC 2195; SMTP, IMAP, POP3 AUTH): the server's challenge (decoded from base64), the
    /// user and the HMAC-MD5 hex digest of the client's answer. hashcat mode 10200.
    CramMd5 { challenge: Vec<u8>, user: String, digest: String },
    /// PostgreSQL `md5` authentication: user, the 4-byte salt of AuthenticationMD5Password and the hex
    /// hash after `md5`. hashcat mode 11100.
    PostgresMd5 { user: String, salt: [u8; 4], hash: String },
    /// MySQL/MariaDB `mysql_native_password`: the server's 20-byte scramble and the client's 20-byte
    /// response. hashcat mode 11200.
    MysqlNative { scramble: Vec<u8>, response: Vec<u8> },
    /// NTLM (HTTP `Authorization: NTLM`): the server's 8-byte challenge (type 2) and the type 3
    /// responses. NetNTLMv1 (mode 5500) when the NT response is 24 bytes, NetNTLMv2 (mode 5600) when it
    /// is longer (the 16-byte proof and the blob).
    NetNtlm { user: String, domain: String, challenge: [u8; 8], lm: Vec<u8>, nt: Vec<u8> },
    /// HTTP Digest (RFC 2617/7616, MD5): what the client's Authorization header and request carry.
    /// hashcat mode 11400 (its SIP digest format takes any method and URI).
    HttpDigest(Box<Digest>),
}

/// The fields of one HTTP Digest response.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Digest {
    pub user: String,
    pub realm: String,
    pub method: String,
    pub uri: String,
    pub nonce: String,
    pub cnonce: String,
    pub nc: String,
    pub qop: String,
    pub response: String,
}

impl Material {
    /// What this material holds in memory, itself included (what a book of leaks charges for it).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Material>()
            + match self {
                Material::CramMd5 { challenge, user, digest } => {
                    challenge.capacity() + user.capacity() + digest.capacity()
                }
                Material::PostgresMd5 { user, hash, .. } => user.capacity() + hash.capacity(),
                Material::MysqlNative { scramble, response } => scramble.capacity() + response.capacity(),
                Material::NetNtlm { user, domain, lm, nt, .. } => {
                    user.capacity() + domain.capacity() + lm.capacity() + nt.capacity()
                }
                Material::HttpDigest(d) => {
                    std::mem::size_of::<Digest>()
                        + [&d.user, &d.realm, &d.method, &d.uri, &d.nonce, &d.cnonce, &d.nc, &d.qop, &d.response]
                            .into_iter()
                            .map(String::capacity)
                            .sum::<usize>()
                }
            }
    }

    /// hashcat's `-m` mode for this material.
    pub fn hashcat_mode(&self) -> u32 {
        match self {
            Material::CramMd5 { .. } => 10200,
            Material::PostgresMd5 { .. } => 11100,
            Material::MysqlNative { .. } => 11200,
            Material::NetNtlm { nt, .. } if nt.len() == 24 => 5500,
            Material::NetNtlm { .. } => 5600,
            Material::HttpDigest(_) => 11400,
        }
    }

    /// The name of the exchange (a label, no data).
    pub fn name(&self) -> &'static str {
        match self {
            Material::CramMd5 { .. } => "CRAM-MD5",
            Material::PostgresMd5 { .. } => "PostgreSQL md5",
            Material::MysqlNative { .. } => "MySQL native password",
            Material::NetNtlm { nt, .. } if nt.len() == 24 => "NetNTLMv1",
            Material::NetNtlm { .. } => "NetNTLMv2",
            Material::HttpDigest(_) => "HTTP Digest MD5",
        }
    }

    /// HTTP Digest material from an `Authorization: Digest ...` value and the request's method, when it
    /// is an MD5 digest with the fields a cracker needs (`username`, `realm`, `nonce`, `uri`,
    /// `response`; `qop` with `cnonce` and `nc`, or neither). `None` for other algorithms (SHA-256,
    /// `-sess`), which hashcat's mode does not take.
    pub fn from_digest(value: &str, method: &str) -> Option<Material> {
        let rest = value.trim_start();
        let (scheme, params) = rest.split_once(|c: char| c.is_ascii_whitespace())?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let mut d = Digest { method: method.to_string(), ..Digest::default() };
        let mut algorithm = String::new();
        for (k, v) in digest_params(params) {
            match k.to_ascii_lowercase().as_str() {
                "username" => d.user = v,
                "realm" => d.realm = v,
                "uri" => d.uri = v,
                "nonce" => d.nonce = v,
                "cnonce" => d.cnonce = v,
                "nc" => d.nc = v,
                "qop" => d.qop = v,
                "response" => d.response = v.to_ascii_lowercase(),
                "algorithm" => algorithm = v,
                _ => {}
            }
        }
        let md5 = algorithm.is_empty() || algorithm.eq_ignore_ascii_case("MD5");
        let hex32 = d.response.len() == 32 && d.response.bytes().all(|b| b.is_ascii_hexdigit());
        let qop_ok = if d.qop.is_empty() { d.cnonce.is_empty() && d.nc.is_empty() } else { d.qop == "auth" };
        // hashcat's fields are separated by `*`: a value holding one cannot be written.
        let fields = [&d.user, &d.realm, &d.method, &d.uri, &d.nonce, &d.cnonce, &d.nc];
        let clean = fields.iter().all(|f| !f.contains('*') && !f.contains(['\r', '\n']));
        let complete = !d.user.is_empty() && !d.nonce.is_empty() && !d.uri.is_empty() && !d.method.is_empty();
        (md5 && hex32 && qop_ok && clean && complete).then(|| Material::HttpDigest(Box::new(d)))
    }
}

/// `name="value"` and `name=value` pairs of an auth parameter list (quoted values may hold commas and
/// `\"`).
fn digest_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    // Bounded by the header value the HTTP stage kept; 32 parameters is more than any client sends.
    while out.len() < 32 {
        while it.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            it.next();
        }
        let mut name = String::new();
        while let Some(&c) = it.peek() {
            if c == '=' || c == ',' {
                break;
            }
            name.push(c);
            it.next();
        }
        if it.next() != Some('=') {
            if it.peek().is_none() {
                break;
            }
            continue;
        }
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        let mut value = String::new();
        if it.peek() == Some(&'"') {
            it.next();
            while let Some(c) = it.next() {
                match c {
                    '\\' => value.extend(it.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = it.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                it.next();
            }
        }
        out.push((name.trim().to_string(), value.trim_end().to_string()));
        if it.peek().is_none() {
            break;
        }
    }
    out
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Material({}, redacted)", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_parts() {
        let m = Material::PostgresMd5 { user: "alice".into(), salt: [1, 2, 3, 4], hash: "deadbeef".into() };
        let d = format!("{m:?}");
        assert!(!d.contains("alice") && !d.contains("deadbeef"), "{d}");
        assert_eq!(m.hashcat_mode(), 11100);
    }

    #[test]
    fn a_digest_header_gives_its_fields_and_other_algorithms_none() {
        let v = r#"Digest username="bob", realm="shop, lab", nonce="abc", uri="/admin?x=1", qop=auth, nc=00000001, cnonce="xyz", response="0123456789ABCDEF0123456789abcdef", opaque="o""#;
        let Some(Material::HttpDigest(d)) = Material::from_digest(v, "GET") else { panic!("not digest") };
        assert_eq!(
            (d.user.as_str(), d.realm.as_str(), d.uri.as_str(), d.nc.as_str(), d.cnonce.as_str()),
            ("bob", "shop, lab", "/admin?x=1", "00000001", "xyz")
        );
        assert_eq!(d.response, "0123456789abcdef0123456789abcdef");
        let sha = v.replace("qop=auth", "algorithm=SHA-256, qop=auth");
        assert!(Material::from_digest(&sha, "GET").is_none());
        assert!(Material::from_digest("Basic YWxpY2U6cHc=", "GET").is_none());
        assert!(
            Material::from_digest(
                "Digest username=\"a*b\", nonce=\"n\", uri=\"/\", response=\"0123456789abcdef0123456789abcdef\"",
                "GET"
            )
            .is_none()
        );
        assert!(Material::from_digest("Digest ,,,=,\"", "GET").is_none());
    }
}
