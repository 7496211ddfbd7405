//! SASL shared by POP3, IMAP and SMTP (and LDAP SASL binds): PLAIN, LOGIN, XOAUTH2, OAUTHBEARER
//! responses decoded from base64 to a user and a password or token; CRAM-MD5 and the like carry a
//! challenge response only. [`SaslExchange`] follows the client side of one exchange: PLAIN, LOGIN
//! (user then password, the user possibly on the command line), XOAUTH2 and OAUTHBEARER (a token),
//! CRAM-MD5 (user and the HMAC digest, [`Cred::HashOnly`]); `*` cancels.

use base64::Engine;

use super::material::Material;
use super::{Cred, Event, Line, LoginSink, Mark, secret, text, user};
use crate::secret::{Secret, Text};

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
    /// A user-name part (see [`Login::user`](super::Login::user)).
    pub user: Option<Text>,
    pub secret: Secret,
    pub cred: Cred,
    /// The exchange's challenge and response, when a cracker can attack them (CRAM-MD5).
    pub material: Option<Box<Material>>,
}

/// One client line of a SASL exchange as a transcript line: the response is a credential-bearing value
/// (a base64 blob holding the user and password, a token, a digest, SCRAM material), so all of it is a
/// slot. When it carried the login's credential (`cred`, what [`Step::Cred`] decoded), the slot shows
/// that secret redacted (one fingerprint with the alert) and the blob revealed; any other response is a
/// slot of its own. Only a cancel (`*`) or an empty response stays literal.
pub fn response_line(prefix: &str, line: &[u8], cred: Option<&Secret>) -> Line {
    let t = line.trim_ascii();
    if t == b"*" {
        return Line::lit_line(prefix, line);
    }
    let blob = secret(t);
    let mark = match cred {
        Some(s) => Mark::Wire(t, s, &blob),
        None => Mark::Secret(t, &blob),
    };
    Line::marked(prefix, line, &[mark])
}

/// The credential a step decoded, if any.
pub fn cred_of(step: &Step) -> Option<&Secret> {
    match step {
        Step::Cred(d) => Some(&d.secret),
        _ => None,
    }
}

/// Base64 (standard alphabet, padding optional, surrounding spaces ignored): SASL responses, and the
/// `Authorization: Basic` value of the HTTP detectors.
pub fn b64(data: &[u8]) -> Option<Vec<u8>> {
    let t = data.trim_ascii();
    if t.is_empty() || t == b"=" {
        return Some(Vec::new());
    }
    // Padded, or not (or wrongly: what clients and servers accept in practice).
    let mut unpadded = t;
    while let Some(u) = unpadded.strip_suffix(b"=") {
        unpadded = u;
    }
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(unpadded))
        .ok()
}

/// PLAIN in base64 (the SASL exchanges of POP3, IMAP, SMTP).
pub fn plain(resp: &[u8]) -> Option<Decoded> {
    plain_raw(&b64(resp)?)
}

/// PLAIN decoded: `authzid NUL authcid NUL passwd` (LDAP carries it raw). The user is the
/// authentication identity, or the authorization identity when that is all there is.
pub fn plain_raw(raw: &[u8]) -> Option<Decoded> {
    let (name, pass) = plain_fields(raw)?;
    if pass.is_empty() {
        return None;
    }
    Some(Decoded { user: user(name), secret: secret(pass), cred: Cred::Password, material: None })
}

/// The user (authcid, or authzid when that is all there is) and password of a decoded PLAIN response
/// `authzid NUL authcid NUL passwd`, as bytes (the password may be empty): for the binary protocols
/// that carry it raw and name the user in their summary lines (AMQP, Kafka).
pub fn plain_fields(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut parts = raw.splitn(3, |&b| b == 0);
    let (authz, authc, pass) = (parts.next()?, parts.next()?, parts.next()?);
    Some((if authc.is_empty() { authz } else { authc }, pass))
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
    Some(Decoded {
        user: user.filter(|u| !u.is_empty()).map(|u| Text::user(&u)),
        secret: Secret::new(&token),
        cred: Cred::Token,
        material: None,
    })
}

/// A SASL mechanism, as far as the credentials it carries go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Login,
    XOauth2,
    OauthBearer,
    CramMd5,
    /// SCRAM, DIGEST-MD5, GSSAPI, EXTERNAL...: followed (its responses are not commands), not reported.
    Other,
}

impl Kind {
    pub fn parse(name: &[u8]) -> Kind {
        if name.eq_ignore_ascii_case(b"CRAM-MD5") {
            return Kind::CramMd5;
        }
        match Mech::parse(name) {
            Mech::Plain => Kind::Plain,
            Mech::Login => Kind::Login,
            Mech::XOauth2 => Kind::XOauth2,
            Mech::OauthBearer => Kind::OauthBearer,
            Mech::HashOnly | Mech::Other => Kind::Other,
        }
    }
}

/// The mechanism strings of one protocol for PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, CRAM-MD5.
pub type Names = [&'static str; 5];
/// POP3 and SMTP say `AUTH <mech>`.
pub const AUTH_NAMES: Names = ["AUTH PLAIN", "AUTH LOGIN", "AUTH XOAUTH2", "AUTH OAUTHBEARER", "AUTH CRAM-MD5"];

/// The client side of one SASL exchange (POP3 AUTH, IMAP AUTHENTICATE, SMTP AUTH).
#[derive(Debug)]
pub struct SaslExchange {
    kind: Kind,
    /// AUTH LOGIN: the user name, once given.
    user: Option<String>,
    have_user: bool,
    /// A credential was taken: what may still come is the empty (or `*`) answer to an error challenge.
    taken: bool,
    /// CRAM-MD5: the server's challenge, decoded (at most [`MAX_CHALLENGE`] bytes).
    challenge: Option<Vec<u8>>,
}

/// Longest CRAM-MD5 challenge kept: RFC 2195's is a msg-id (`<1896.697170952@postoffice.example.net>`),
/// well under it; a longer one is not kept, and the login is reported without material.
pub const MAX_CHALLENGE: usize = 512;

/// What one client response line did to a [`SaslExchange`].
#[derive(Debug)]
pub enum Step {
    /// Nothing to report yet (or nothing decodable): keep reading responses.
    More,
    /// A credential crossed. The exchange goes on until the server's final answer.
    Cred(Decoded),
    /// The client cancelled (`*`).
    Cancelled,
    /// After the credential, a line that is no SASL response: the exchange is over, read it as a command.
    NotMine,
}

impl SaslExchange {
    pub fn new(kind: Kind) -> Self {
        SaslExchange { kind, user: None, have_user: false, taken: false, challenge: None }
    }

    pub fn mechanism(&self, names: &Names) -> &'static str {
        let [plain, login, xoauth2, oauthbearer, cram] = *names;
        match self.kind {
            Kind::Plain | Kind::Other => plain,
            Kind::Login => login,
            Kind::XOauth2 => xoauth2,
            Kind::OauthBearer => oauthbearer,
            Kind::CramMd5 => cram,
        }
    }

    /// The server's continuation (`334 <base64>`, `+ <base64>`), its code or `+` already stripped: for
    /// CRAM-MD5, the challenge the response answers (the last one before the response counts). A
    /// challenge past [`MAX_CHALLENGE`] is not kept, counted as [`Event::ChallengeTooLong`].
    pub fn server_challenge(&mut self, b64_text: &[u8], out: &mut dyn LoginSink) {
        if self.kind != Kind::CramMd5 || self.taken {
            return;
        }
        self.challenge = b64(b64_text).filter(|c| !c.is_empty());
        if self.challenge.as_ref().is_some_and(|c| c.len() > MAX_CHALLENGE) {
            self.challenge = None;
            out.on_event(Event::ChallengeTooLong);
        }
    }

    /// The initial response sent with the command (`=` is an empty one).
    pub fn initial(&mut self, resp: &[u8]) -> Step {
        self.decode(resp.trim_ascii())
    }

    /// One client line during the exchange.
    pub fn response(&mut self, line: &[u8]) -> Step {
        let t = line.trim_ascii();
        if self.taken {
            let ack = t.is_empty() || t == b"*" || b64(t).is_some_and(|d| d.len() <= 1);
            return if ack { Step::More } else { Step::NotMine };
        }
        if t == b"*" {
            return Step::Cancelled;
        }
        self.decode(t)
    }

    fn decode(&mut self, t: &[u8]) -> Step {
        let decoded = match self.kind {
            Kind::Plain => plain(t),
            Kind::XOauth2 | Kind::OauthBearer => oauth(t),
            Kind::Login => {
                let Some(raw) = b64(t) else { return Step::More };
                if !self.have_user {
                    self.have_user = true;
                    self.user = Some(text(&raw)).filter(|u| !u.is_empty());
                    return Step::More;
                }
                Some(Decoded {
                    user: self.user.as_deref().map(Text::user),
                    secret: secret(&raw),
                    cred: Cred::Password,
                    material: None,
                })
                .filter(|d| !d.secret.is_empty())
            }
            Kind::CramMd5 => b64(t).and_then(|raw| {
                // "user hexdigest"; the user name may hold spaces, the digest does not.
                let s = text(&raw);
                let (user, digest) = s.rsplit_once(' ')?;
                let (user, digest) = (user.trim(), digest.trim());
                (!digest.is_empty()).then(|| Decoded {
                    user: (!user.is_empty()).then(|| Text::user(user)),
                    secret: Secret::new(digest),
                    cred: Cred::HashOnly,
                    // Only with the server's challenge can a cracker use the digest.
                    material: self.challenge.as_ref().map(|c| {
                        Box::new(Material::CramMd5 {
                            challenge: c.clone(),
                            user: user.to_string(),
                            digest: digest.to_ascii_lowercase(),
                        })
                    }),
                })
            }),
            Kind::Other => None,
        };
        match decoded {
            Some(d) => {
                self.taken = true;
                Step::Cred(d)
            }
            None => Step::More,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn a_cram_md5_challenge_past_the_cap_is_not_kept_and_counted() {
        let mut out = crate::proto::Logins::default();
        let mut x = SaslExchange::new(Kind::CramMd5);
        x.server_challenge(STANDARD.encode(vec![b'a'; MAX_CHALLENGE + 1]).as_bytes(), &mut out);
        assert_eq!(out.events, vec![Event::ChallengeTooLong]);
        let Step::Cred(d) = x.response(STANDARD.encode(b"tim b913a602c7eda7a495b4e6e7334d3890").as_bytes()) else {
            panic!("no credential")
        };
        assert!(d.material.is_none(), "reported without material");
        let mut y = SaslExchange::new(Kind::CramMd5);
        y.server_challenge(STANDARD.encode(vec![b'a'; MAX_CHALLENGE]).as_bytes(), &mut out);
        let Step::Cred(d) = y.response(STANDARD.encode(b"tim b913a602c7eda7a495b4e6e7334d3890").as_bytes()) else {
            panic!("no credential")
        };
        assert!(d.material.is_some());
        assert_eq!(out.events.len(), 1);
    }

    #[test]
    fn plain_gives_authcid_and_password() {
        let r = STANDARD.encode(b"\0alice\0s3cret pass");
        let d = plain(r.as_bytes()).unwrap();
        assert_eq!(d.user, Some(Text::user("alice")));
        assert_eq!(d.secret.expose(), "s3cret pass");
        let r = STANDARD.encode(b"admin\0alice\0pw");
        assert_eq!(plain(r.as_bytes()).unwrap().user, Some(Text::user("alice")));
        assert_eq!(plain_raw(b"bob\0\0pw").unwrap().user, Some(Text::user("bob")), "authzid when no authcid");
        assert!(plain(b"not base64!!").is_none());
        assert!(plain(STANDARD.encode(b"\0alice\0").as_bytes()).is_none());
    }

    #[test]
    fn xoauth2_and_oauthbearer_give_the_bearer_token() {
        let x = STANDARD.encode(b"user=bob@example.com\x01auth=Bearer ya29.tok-en\x01\x01");
        let d = oauth(x.as_bytes()).unwrap();
        assert_eq!(
            (d.user, d.secret.expose(), d.cred),
            (Some(Text::user("bob@example.com")), "ya29.tok-en", Cred::Token)
        );
        let o = STANDARD.encode(b"n,a=carol@example.com,\x01host=mail\x01port=143\x01auth=Bearer abc.def\x01\x01");
        let d = oauth(o.as_bytes()).unwrap();
        assert_eq!((d.user, d.secret.expose()), (Some(Text::user("carol@example.com")), "abc.def"));
    }

    #[test]
    fn a_response_line_is_one_slot_and_a_cancel_stays_literal() {
        use crate::secret::Reveal;
        let blob = STANDARD.encode(b"\0alice\0s3cret");
        let l = response_line("C: ", format!("{blob} ").as_bytes(), None).into_text();
        assert_eq!(l.render(Reveal::Full), format!("C: {blob} "));
        assert_eq!(l.secrets().map(Secret::expose).collect::<Vec<_>>(), [blob.as_str()]);
        assert!(!l.render(Reveal::Redacted).contains(&blob[..8]));
        // The line that carried the credential: redacted as the password, revealed as the blob.
        let pw = Secret::new("s3cret");
        let l = response_line("C: ", blob.as_bytes(), Some(&pw)).into_text();
        assert_eq!(l.render(Reveal::Redacted), format!("C: {}", pw.redacted()));
        assert_eq!(l.render(Reveal::Full), format!("C: {blob}"));
        assert_eq!(response_line("C: ", b"*", None).into_text().render(Reveal::Redacted), "C: *");
        assert!(!response_line("C: ", b"", None).into_text().has_secret());
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(Mech::parse(b"plain"), Mech::Plain);
        assert_eq!(Mech::parse(b"SCRAM-SHA-256"), Mech::HashOnly);
        assert_eq!(Mech::parse(b"CRAM-MD5"), Mech::HashOnly);
        assert_eq!(Mech::parse(b"EXTERNAL"), Mech::Other);
    }
}
