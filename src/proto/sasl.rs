//! SASL initial responses shared by POP3, IMAP and SMTP (and LDAP SASL binds): PLAIN, LOGIN, XOAUTH2,
//! OAUTHBEARER, decoded from base64 to a user and a password or token. CRAM-MD5 and the like carry a
//! challenge response only.

use base64::Engine;

use super::{Cred, text};

/// What one SASL mechanism is, as far as credentials go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mech {
    Plain,
    Login,
    XOauth2,
    OauthBearer,
    /// CRAM-MD5, DIGEST-MD5, SCRAM-*, NTLM, GSSAPI...: no replayable secret crosses.
    HashOnly,
    Other,
}

impl Mech {
    pub fn parse(name: &[u8]) -> Mech {
        let n = name.to_ascii_uppercase();
        match n.as_slice() {
            b"PLAIN" => Mech::Plain,
            b"LOGIN" => Mech::Login,
            b"XOAUTH2" => Mech::XOauth2,
            b"OAUTHBEARER" => Mech::OauthBearer,
            b"CRAM-MD5" | b"DIGEST-MD5" | b"NTLM" | b"GSSAPI" | b"GSS-SPNEGO" => Mech::HashOnly,
            _ if n.starts_with(b"SCRAM-") => Mech::HashOnly,
            _ => Mech::Other,
        }
    }
}

/// A decoded credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub user: Option<String>,
    pub secret: String,
    pub cred: Cred,
}

/// Base64 (standard alphabet, padding optional, surrounding spaces ignored).
pub fn b64(data: &[u8]) -> Option<Vec<u8>> {
    let t = data.trim_ascii();
    if t.is_empty() || t == b"=" {
        return Some(Vec::new());
    }
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
        .ok()
}

/// PLAIN: `authzid NUL authcid NUL passwd`. The user is the authentication identity.
pub fn plain(resp: &[u8]) -> Option<Decoded> {
    let raw = b64(resp)?;
    let mut parts = raw.splitn(3, |&b| b == 0);
    let authz = parts.next()?;
    let authc = parts.next()?;
    let pass = parts.next()?;
    if pass.is_empty() {
        return None;
    }
    let user = if authc.is_empty() { authz } else { authc };
    Some(Decoded { user: Some(text(user)).filter(|u| !u.is_empty()), secret: text(pass), cred: Cred::Password })
}

/// XOAUTH2 (`user=U^Aauth=Bearer T^A^A`) and OAUTHBEARER (`n,a=U,^Ahost=...^Aauth=Bearer T^A^A`).
pub fn oauth(resp: &[u8]) -> Option<Decoded> {
    let raw = b64(resp)?;
    let mut user = None;
    let mut token = None;
    for field in raw.split(|&b| b == 1) {
        if let Some(u) = field.strip_prefix(b"user=") {
            user = Some(text(u));
        } else if let Some(a) = field.strip_prefix(b"auth=") {
            let a = a.trim_ascii();
            let t = if a.len() > 7 && a[..7].eq_ignore_ascii_case(b"bearer ") { &a[7..] } else { a };
            token = Some(text(t.trim_ascii()));
        } else if field.starts_with(b"n,") || field.starts_with(b"y,") || field.starts_with(b"p=") {
            // GS2 header: n,a=user,
            for part in field.split(|&b| b == b',') {
                if let Some(u) = part.strip_prefix(b"a=") {
                    user = Some(text(u));
                }
            }
        }
    }
    let token = token.filter(|t| !t.is_empty())?;
    Some(Decoded { user: user.filter(|u| !u.is_empty()), secret: token, cred: Cred::Token })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn plain_gives_authcid_and_password() {
        let r = STANDARD.encode(b"\0alice\0s3cret pass");
        let d = plain(r.as_bytes()).unwrap();
        assert_eq!(d.user.as_deref(), Some("alice"));
        assert_eq!(d.secret, "s3cret pass");
        let r = STANDARD.encode(b"admin\0alice\0pw");
        assert_eq!(plain(r.as_bytes()).unwrap().user.as_deref(), Some("alice"));
        assert!(plain(b"not base64!!").is_none());
        assert!(plain(STANDARD.encode(b"\0alice\0").as_bytes()).is_none());
    }

    #[test]
    fn xoauth2_and_oauthbearer_give_the_bearer_token() {
        let x = STANDARD.encode(b"user=bob@example.com\x01auth=Bearer ya29.tok-en\x01\x01");
        let d = oauth(x.as_bytes()).unwrap();
        assert_eq!(
            (d.user.as_deref(), d.secret.as_str(), d.cred),
            (Some("bob@example.com"), "ya29.tok-en", Cred::Token)
        );
        let o = STANDARD.encode(b"n,a=carol@example.com,\x01host=mail\x01port=143\x01auth=Bearer abc.def\x01\x01");
        let d = oauth(o.as_bytes()).unwrap();
        assert_eq!((d.user.as_deref(), d.secret.as_str()), (Some("carol@example.com"), "abc.def"));
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(Mech::parse(b"plain"), Mech::Plain);
        assert_eq!(Mech::parse(b"SCRAM-SHA-256"), Mech::HashOnly);
        assert_eq!(Mech::parse(b"CRAM-MD5"), Mech::HashOnly);
        assert_eq!(Mech::parse(b"EXTERNAL"), Mech::Other);
    }
}
