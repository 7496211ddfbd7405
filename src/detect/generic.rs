//! The general rule for credentials under names no list knows yet: header names and JSON keys that
//! contain a credential word, with a value that looks like a credential.
//!
//! Lists of header names lag behind new services (Swift's `X-Storage-Token`, Keystone's
//! `X-Subject-Token`, Vault's `auth.client_token`...). So a name is split into its words (at `-`, `_`,
//! `.`, spaces and camelCase: `X-Auth-Token` -> `x auth token`, `clientToken` -> `client token`) and
//! matched word by word, never as a substring: `monkey`, `author`, `keystone`, `tokenizer` and
//! `Sec-WebSocket-Key` are not credentials.
//!
//! 1. A credential word ([`Word`]): `token` (and compounds ending in it: `authtoken`), `secret`,
//!    `password`/`passwd`/`pass`/`pwd`, `auth` (`X-Auth`, `authorization` when not the standard header),
//!    `session` (`sessionid`), and `key` when a word before it says what key (`api`, `access`,
//!    `secret`, `private`, `auth`, `client`, `customer`...: a bare `key` is a cache key, a map key or an
//!    i18n key as often as a secret).
//! 2. No word of the name says it is about the credential rather than the credential itself
//!    ([`NOT_WORDS`]: `request`, `trace`, `csrf`, `count`, `expires`, `type`, `hash`, `policy`,
//!    `user`, `id` after `key` or `token` (a key's id is no key)...): `X-Request-Id`, `X-Session-Count`,
//!    `token_type`, `X-Auth-User`, `X-Api-Key-Id` are not credentials whatever their value.
//! 3. The value looks like a credential ([`looks_like_credential`]): 8 bytes to 16 KiB, one word (no
//!    spaces, commas or semicolons), not a number, a boolean, a date, a URL or a path, with letters
//!    and digits (or mixed case) and enough distinct characters (`aaaaaaa1` is not a token).
//!
//! What the rule finds is rated medium confidence (shown by default): a listed name is surer.

/// The credential word a name contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Word {
    Password,
    Secret,
    Token,
    Key,
    Auth,
    Session,
}

/// Words that make a name something else whatever comes with them: anti-forgery values, tracing ids,
/// caches, pagination, public keys.
pub const NOT_WORDS: &[&str] = &[
    "request",
    "requests",
    "trace",
    "correlation",
    "span",
    "transaction",
    "idempotency",
    "nonce",
    "csrf",
    "xsrf",
    "csrftoken",
    "xsrftoken",
    "websocket",
    "cache",
    "public",
    "publishable",
    "publickey",
    "sitekey",
    "page",
    "pagination",
    "cursor",
    "next",
    "continuation",
    "sync",
    "forgot",
    "accessor",
];

/// Words that, after the credential word, say the name is about a property of the credential (its
/// type, expiry, owner, id, hash...), not the credential: `token_type`, `X-Session-Count`,
/// `X-Auth-User`, `X-Api-Key-Id`. Before it they only qualify it (`user_token`, `reset_token`).
pub const PROPERTY_WORDS: &[&str] = &[
    "id",
    "ids",
    "count",
    "expires",
    "expiry",
    "expiration",
    "expire",
    "exp",
    "ttl",
    "timeout",
    "lifetime",
    "age",
    "length",
    "size",
    "type",
    "method",
    "methods",
    "scheme",
    "hash",
    "md5",
    "sha1",
    "sha256",
    "digest",
    "policy",
    "policies",
    "version",
    "name",
    "url",
    "uri",
    "endpoint",
    "status",
    "result",
    "error",
    "mode",
    "realm",
    "provider",
    "issuer",
    "hint",
    "header",
    "headers",
    "required",
    "supported",
    "allowed",
    "enabled",
    "fingerprint",
    "pins",
    "pin",
    "limit",
    "remaining",
    "reset",
    "state",
    "user",
    "username",
    "email",
    "mail",
    "login",
    "tenant",
    "project",
    "domain",
    "account",
    "region",
    "role",
    "roles",
    "scope",
    "scopes",
    "group",
    "org",
    "format",
    "encoding",
    "algorithm",
    "alg",
    "date",
    "time",
    "at",
    "created",
    "updated",
    "changed",
    "last",
    "label",
    "placeholder",
    "field",
    "prompt",
    "strength",
    "rule",
    "rules",
    "meter",
    "visible",
    "less",
    "duration",
    "renewable",
    "set",
    "info",
    "location",
];

/// Words naming which key a `key` is (`api key`, `access key`, `customer key`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "auth",
    "client",
    "app",
    "application",
    "session",
    "signing",
    "master",
    "license",
    "subscription",
    "function",
    "functions",
    "dev",
    "developer",
    "user",
    "service",
    "shared",
    "encryption",
    "customer",
    "consumer",
    "admin",
    "host",
    "account",
    "x",
];

/// Most words read from a name (a hostile one may have thousands).
const MAX_WORDS: usize = 12;

/// The words of `name`, lower case: split at every byte that is not a letter or a digit, and where a
/// lower-case letter or a digit is followed by an upper-case one (`clientToken`, `X-AuthToken`).
pub fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        } else {
            if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        }
        if out.len() >= MAX_WORDS {
            return out;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The credential word of one word of a name (`before`: the word before it, for `key`).
fn word_of(w: &str, before: Option<&str>) -> Option<Word> {
    let pass = ["user", "login", "admin", "storage", "auth", "db", "root", "api", "wifi", "proxy"];
    if matches!(w, "password" | "passwd" | "pass" | "pwd" | "passphrase" | "passcode" | "pswd")
        || w.ends_with("password")
        || w.ends_with("passwd")
        || pass.iter().any(|p| w.strip_suffix("pass") == Some(p) || w.strip_suffix("pwd") == Some(p))
    {
        return Some(Word::Password);
    }
    if w == "secret" || (w.ends_with("secret") && w.len() > 6) || matches!(w, "secretkey" | "secretaccesskey") {
        return Some(Word::Secret);
    }
    if w == "token" || (w.ends_with("token") && w.len() > 5) {
        return Some(Word::Token);
    }
    if w == "key" {
        return before.filter(|b| KEY_QUALIFIERS.contains(b)).map(|_| Word::Key);
    }
    if let Some(q) = w.strip_suffix("key") {
        return KEY_QUALIFIERS.contains(&q).then_some(Word::Key);
    }
    if matches!(w, "auth" | "authorization" | "authentication" | "authkey" | "authcookie") {
        return Some(Word::Auth);
    }
    if w == "session" || matches!(w, "sessionid" | "sessid" | "sessionkey") || (w.ends_with("session") && w.len() > 7) {
        return Some(Word::Session);
    }
    None
}

/// The credential word of a header name or a JSON key, by the rule of this module; `None` for a name
/// that is not a credential's.
pub fn credential_name(name: &str) -> Option<Word> {
    let ws = words(name);
    let mut found: Option<Word> = None;
    for (i, w) in ws.iter().enumerate() {
        if NOT_WORDS.contains(&w.as_str()) {
            return None;
        }
        // After the credential word a property word names a property of it; a session's id is the
        // session itself, though (`X-Session-Id`, `sessionId`).
        if found.is_some() && PROPERTY_WORDS.contains(&w.as_str()) && !(w == "id" && found == Some(Word::Session)) {
            return None;
        }
        let before = i.checked_sub(1).and_then(|j| ws.get(j)).map(String::as_str);
        if let Some(x) = word_of(w, before) {
            // The strongest word wins: `auth_token` is a token, `session_key` a key, `secret_key` a secret.
            found = Some(match (found, x) {
                (Some(Word::Password), _) | (_, Word::Password) => Word::Password,
                (Some(Word::Secret), _) | (_, Word::Secret) => Word::Secret,
                (Some(Word::Key), _) | (_, Word::Key) => Word::Key,
                (Some(Word::Token), _) | (_, Word::Token) => Word::Token,
                _ => x,
            });
        }
    }
    found
}

/// The credential word of a JSON key at `parent.leaf`: the leaf's own, or for a leaf that only holds
/// its parent's value (`{"token": {"value": ..}}`, `{"session": {"id": ..}}`) the parent's.
pub fn credential_path(parent: Option<&str>, leaf: &str) -> Option<Word> {
    if let Some(w) = credential_name(leaf) {
        return Some(w);
    }
    let l = leaf.to_ascii_lowercase();
    match (parent.and_then(credential_name), l.as_str()) {
        (Some(w @ (Word::Token | Word::Secret | Word::Auth | Word::Password | Word::Key)), "value") => Some(w),
        (Some(Word::Session), "value" | "id") => Some(Word::Session),
        _ => None,
    }
}

/// Whether `v` (trimmed) looks like a credential: see the module's rule 3.
pub fn looks_like_credential(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 8 || b.len() > 16 * 1024 {
        return false;
    }
    // Any whitespace or control character (a vertical tab is not ASCII whitespace to Rust, U+2003 is
    // not ASCII at all): a token is one printable word.
    if b.iter().any(|c| matches!(c, b',' | b';' | b'<' | b'>' | b'"'))
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
        || b[0] == b'/'
        || memchr::memmem::find(b, b"://").is_some()
    {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(lower.as_str(), "true" | "false" | "null" | "undefined" | "none" | "disabled" | "enabled") {
        return false;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let alpha = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    // A number, a date or a time (`1700000000`, `2025-01-01T00:00:00Z`, `Thu,` has a space anyway).
    if b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b':' | b'.' | b'+' | b'T' | b'Z')) {
        return false;
    }
    let mixed_case = b.iter().any(u8::is_ascii_lowercase) && b.iter().any(u8::is_ascii_uppercase);
    if !(digits > 0 && alpha > 0 || mixed_case && b.len() >= 12) {
        return false;
    }
    // Enough distinct characters: a token is random, `aaaaaaa1` and `12121212ab` are not.
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &c in b {
        if !seen[c as usize] {
            seen[c as usize] = true;
            distinct += 1;
        }
    }
    distinct * 2 >= b.len().min(24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_into_words_at_separators_and_camel_case() {
        assert_eq!(words("X-Auth-Token"), ["x", "auth", "token"]);
        assert_eq!(words("clientToken"), ["client", "token"]);
        assert_eq!(words("X-AuthToken"), ["x", "auth", "token"]);
        assert_eq!(words("auth.client_token"), ["auth", "client", "token"]);
        assert_eq!(words("APIKey"), ["apikey"]);
        assert_eq!(words(&"a-".repeat(1000)).len(), MAX_WORDS);
    }

    #[test]
    fn credential_words_are_matched_as_words_never_as_substrings() {
        for (n, w) in [
            ("X-Auth-Token", Word::Token),
            ("X-Storage-Token", Word::Token),
            ("X-Subject-Token", Word::Token),
            ("X-Storage-Pass", Word::Password),
            ("X-Auth-Key", Word::Key),
            ("client_token", Word::Token),
            ("X-Vendor-Secret", Word::Secret),
            ("X-Amz-Server-Side-Encryption-Customer-Key", Word::Key),
            ("X-Session", Word::Session),
            ("sessionId", Word::Session),
            ("X-Authorization", Word::Auth),
            ("x-goog-api-key", Word::Key),
            ("appSecret", Word::Secret),
            ("X-Secret-Key", Word::Secret),
            ("user_token", Word::Token),
            ("reset_token", Word::Token),
            ("X-Session-Id", Word::Session),
        ] {
            assert_eq!(credential_name(n), Some(w), "{n}");
        }
        for n in [
            "X-Request-Id",
            "X-Session-Count",
            "Keep-Alive",
            "X-Author",
            "Content-Security-Policy",
            "Sec-WebSocket-Key",
            "Sec-WebSocket-Accept",
            "Idempotency-Key",
            "X-Cache-Key",
            "X-Auth-User",
            "X-Storage-User",
            "X-Api-Key-Id",
            "token_type",
            "expires_in",
            "X-CSRF-Token",
            "X-Monkey",
            "X-Keystone-Region",
            "tokenizer",
            "Authority",
            "key",
            "X-Auth-Token-Expires",
            "X-Amz-Server-Side-Encryption-Customer-Key-MD5",
            "Public-Key-Pins",
            "token_policies",
            "accessor",
            "publicKey",
            "password_changed_at",
            "X-RateLimit-Reset",
            "session_state",
            "forgot_password",
            "password_hint",
            "X-Trace-Token",
        ] {
            assert_eq!(credential_name(n), None, "{n}");
        }
    }

    #[test]
    fn a_generic_leaf_takes_its_parents_word() {
        assert_eq!(credential_path(Some("token"), "value"), Some(Word::Token));
        assert_eq!(credential_path(Some("session"), "id"), Some(Word::Session));
        assert_eq!(credential_path(Some("auth"), "client_token"), Some(Word::Token));
        assert_eq!(credential_path(Some("apiKey"), "id"), None, "a key's id is no key");
        assert_eq!(credential_path(Some("data"), "value"), None);
        assert_eq!(credential_path(None, "id"), None);
    }

    #[test]
    fn values_that_look_like_credentials_and_values_that_do_not() {
        for v in [
            "AUTH_tk0123456789abcdef",
            "hvs.CAESIJ4tXdrQk2bVb3zGfYw",
            "gAAAAABlZ-8Kx3q",
            "550e8400-e29b-41d4-a716-446655440000",
            "s3cr3t-Sw1ft",
            "tk_9f8e7d6c5b4a",
        ] {
            assert!(looks_like_credential(v), "{v}");
        }
        for v in [
            "3",
            "true",
            "disabled",
            "optional",
            "1700000000",
            "2025-01-01T00:00:00Z",
            "aaaaaaa1",
            "https://id.lab/token",
            "/v1/auth/token",
            "a, b, c",
            "max-age=0; path=/",
            "Bearer abc def",
            "PASSWORD",
            "1.2.3.4",
            "tok\x0bAbc12345",
            "tok\u{2003}Abc12345",
        ] {
            assert!(!looks_like_credential(v), "{v}");
        }
    }
}
