//! Logins of the classic cleartext protocols (the `proto` stage) as findings.
//!
//! The protocol parsers already know the user, the secret, the mechanism and the server's verdict; this
//! detector decides what it means: which kind, how sure, and what class of secret (a password, a bearer
//! token from SASL XOAUTH2/OAUTHBEARER, or only a hash, which is material: crackable offline, not
//! replayable). JWTs handed over as passwords or tokens (MQTT brokers, XOAUTH2) get their analysis.

use super::common::{is_attack_payload, short};
use super::{Confidence, Finding, LeakKind, LoginInfo, SecretClass, TlsNote, Verdict};
use crate::proto::{Cred, Login, Proto};
use crate::secret::Text;

/// The alert kind of a protocol's logins.
pub fn kind(p: Proto) -> LeakKind {
    match p {
        Proto::Ftp => LeakKind::FtpLogin,
        Proto::Telnet => LeakKind::TelnetLogin,
        Proto::Pop3 => LeakKind::Pop3Login,
        Proto::Imap => LeakKind::ImapLogin,
        Proto::Smtp => LeakKind::SmtpAuth,
        Proto::Ldap => LeakKind::LdapSimpleBind,
        Proto::Snmp => LeakKind::SnmpCommunity,
        Proto::Redis => LeakKind::RedisAuth,
        Proto::Mqtt => LeakKind::MqttConnect,
        Proto::Postgres => LeakKind::PostgresCleartext,
        Proto::Socks5 => LeakKind::Socks5Login,
        Proto::Amqp => LeakKind::AmqpLogin,
        Proto::Irc => LeakKind::IrcLogin,
        Proto::Xmpp => LeakKind::XmppLogin,
        Proto::Nntp => LeakKind::NntpLogin,
        Proto::Kafka => LeakKind::KafkaSasl,
        Proto::Mysql => LeakKind::MysqlCleartext,
        Proto::Memcached => LeakKind::MemcachedSasl,
        Proto::Rlogin => LeakKind::RloginLogin,
    }
}

/// An anonymous FTP login: its "password" is an e-mail address by convention (still in clear, but no
/// key to anything; severity medium).
pub fn is_anonymous_ftp(kind: LeakKind, user: Option<&str>) -> bool {
    kind == LeakKind::FtpLogin
        && user.is_some_and(|u| u.eq_ignore_ascii_case("anonymous") || u.eq_ignore_ascii_case("ftp"))
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Accepted => "accepted by the server",
        Verdict::Refused => "refused by the server",
        Verdict::Unknown => "no answer seen",
    }
}

/// One finding for one login (none when there is no secret).
pub fn detect(l: &Login, ts: crate::time::Timestamp, out: &mut Vec<Finding>) {
    if l.secret.is_empty() {
        return;
    }
    let kind = match (l.proto, l.cred) {
        // MySQL's hash-only logins are a kind of their own (the material class), apart from its
        // `mysql_clear_password` logins.
        (Proto::Mysql, Cred::HashOnly) => LeakKind::MysqlNative,
        (p, _) => kind(p),
    };
    let (class, what) = match l.cred {
        Cred::Password if l.proto == Proto::Snmp => (SecretClass::Password, "community string"),
        Cred::Password => (SecretClass::Password, "password"),
        Cred::Token => (SecretClass::Token, "bearer token"),
        Cred::HashOnly => (SecretClass::Material, "hash only, no password: crackable offline, not replayable"),
    };
    let secret = l.secret.expose();
    let jwt =
        if class == SecretClass::Token || super::jwt::is_jwt(secret) { super::jwt::analyse(secret, ts) } else { None };
    let confidence =
        if class == SecretClass::Password && is_attack_payload(secret) { Confidence::Low } else { Confidence::High };
    // A user name as typed is bounded like every name in a finding; one holding a slot is kept whole.
    let user = l.user.clone().filter(|u| !u.is_empty()).map(|u| match l.user_name() {
        Some(name) if name.chars().count() > 256 => Text::user(&short(name, 256)),
        _ => u,
    });
    let mut evidence =
        format!("{} {} ({what}), {}", l.proto.as_str().to_uppercase(), l.mechanism, verdict_text(l.verdict));
    if is_anonymous_ftp(kind, l.user_name()) {
        evidence.push_str("; anonymous login (the password is an e-mail address by convention)");
    }
    match l.tls {
        TlsNote::OfferedNotUsed => evidence.push_str("; the server offered STARTTLS and the client did not use it"),
        TlsNote::SentBeforeUpgrade => evidence.push_str("; sent in clear before the session upgraded to TLS"),
        TlsNote::NotOffered => {}
    }
    out.push(Finding {
        kind,
        class,
        confidence,
        // The login's own Secret and user Text: one fingerprint in the alert and its transcript, and a
        // user that turned out to be a secret (typed at the user prompt) stays a slot.
        secret: l.secret.clone(),
        user,
        location: l.mechanism.to_string(),
        evidence,
        jwt: jwt.map(Box::new),
        login: Some(LoginInfo {
            mechanism: l.mechanism,
            verdict: l.verdict,
            tls: l.tls,
            transcript: l.transcript.clone(),
            material: l.material.clone(),
        }),
        span: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{Secret, Text};
    use crate::time::Timestamp;

    fn login(proto: Proto, cred: Cred, secret: &str, verdict: Verdict) -> Login {
        let mut l = Login::attempt(
            proto,
            "USER/PASS",
            Some(Text::user("alice")),
            Secret::new(secret),
            cred,
            true,
            Timestamp::from_secs(1),
        )
        .with_transcript(vec!["C: USER alice".into()]);
        l.verdict = verdict;
        l
    }

    #[test]
    fn a_login_becomes_a_finding_of_its_protocol_kind_with_verdict_and_starttls_note() {
        let mut out = Vec::new();
        detect(&login(Proto::Ftp, Cred::Password, "s3cret-pw", Verdict::Refused), Timestamp::from_secs(1), &mut out);
        let f = &out[0];
        assert_eq!(
            (f.kind, f.class, f.plain_user().as_deref()),
            (LeakKind::FtpLogin, SecretClass::Password, Some("alice"))
        );
        assert!(f.evidence.contains("refused") && f.evidence.contains("STARTTLS"), "{}", f.evidence);
        assert!(!f.evidence.contains("s3cret-pw"));
        assert_eq!(f.secret.expose(), "s3cret-pw");
        assert_eq!(f.login.as_ref().map(|l| l.verdict), Some(Verdict::Refused));
    }

    #[test]
    fn the_login_secret_user_slot_and_transcript_pass_through_as_they_are() {
        let mut l = login(Proto::Telnet, Cred::Password, "oops", Verdict::Refused);
        let pw = Secret::new("hunter2");
        l.user = Some(Text::secret(pw.clone()));
        l.transcript = vec![Text::secret(pw.clone())];
        let mut out = Vec::new();
        detect(&l, Timestamp::ZERO, &mut out);
        assert_eq!(out[0].secret, l.secret, "the same Secret: one fingerprint");
        assert_eq!(out[0].user, Some(Text::secret(pw.clone())), "a user that is a secret stays a slot");
        assert_eq!(out[0].plain_user(), None);
        assert_eq!(out[0].login.as_ref().map(|i| i.transcript.clone()), Some(l.transcript.clone()));
        let long = "u".repeat(300);
        l.user = Some(Text::user(&long));
        detect(&l, Timestamp::ZERO, &mut out);
        assert_eq!(out[1].plain_user(), Some(short(&long, 256)), "bounded like every name of a finding");
        assert!(out[1].plain_user().is_some_and(|u| u.starts_with(&long[..256]) && u.len() < 300));
    }

    #[test]
    fn hashes_are_material_and_empty_secrets_nothing() {
        let mut out = Vec::new();
        detect(&login(Proto::Postgres, Cred::HashOnly, "md5abc", Verdict::Accepted), Timestamp::ZERO, &mut out);
        assert_eq!(out[0].class, SecretClass::Material);
        detect(&login(Proto::Ftp, Cred::Password, "", Verdict::Accepted), Timestamp::ZERO, &mut out);
        assert_eq!(out.len(), 1);
    }
}
