//! Secrets as typed values, and text built from parts with secret slots.
//!
//! A foundation module (like `time`): every stage that finds or shows a secret uses these types. The
//! parser that finds a secret wraps it in a [`Secret`] at once; any text that contains one (a request
//! excerpt, a login transcript, a path with a token in its query, a replay command) is a [`Text`]: literal
//! parts and [`Part::Secret`] slots, built by whoever knows the structure (the HTTP excerpt builder knows
//! which header values carry credentials, the FTP parser knows what follows `PASS`). Outputs render a
//! [`Text`] once with a [`Reveal`] decision; the slot decides how the secret is shown, in one function
//! ([`Secret::shown`]).
//!
//! Why not scrub finished text (search for the secret, replace it)? Because the blanked spot tells what
//! it blanked: a password equal to a word of the template (`password`, `Basic`), to the user name, the
//! host or a path segment blanks that word everywhere; encodings the search did not think of (lower-case
//! percent escapes, JSON `\u00e4`, base64 split by spaces) pass through; a secret cut at a length limit
//! is not found. A slot has none of these problems: its redacted form depends only on the secret's
//! length and fingerprint, and nothing around it is ever edited.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Whether outputs show secrets in full (`--reveal`, for training labs) or redacted (the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reveal {
    #[default]
    Redacted,
    Full,
}

/// A captured secret. `Debug` and `Display` never print it, so a log line, a panic message or a `{:?}`
/// in a test failure cannot leak it; [`Secret::expose`] is the one explicit way to read it. Cheap to
/// clone (shared).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(Repr);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    /// The secret itself, as captured.
    Held(Arc<str>),
    /// A secret this process never saw, known by its length and fingerprint only: a redacted event of
    /// another sensor (`plainsight watch`). It renders as any redacted secret does, revealed or not.
    Known { chars: usize, fingerprint: Arc<str> },
}

impl Secret {
    /// What the secret holds on the heap (its bytes and the `Arc`'s counts; counted again by every
    /// holder of a clone): what memory bounds charge for it.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Held(s) => s.len() + 16,
            Repr::Known { fingerprint, .. } => fingerprint.len() + 16,
        }
    }

    pub fn new(s: &str) -> Secret {
        Secret(Repr::Held(Arc::from(s)))
    }

    /// From wire bytes (lossy UTF-8: a byte that is not UTF-8 becomes U+FFFD).
    pub fn from_bytes(b: &[u8]) -> Secret {
        Secret(Repr::Held(Arc::from(String::from_utf8_lossy(b))))
    }

    /// A secret known only by its length and fingerprint (another sensor's redacted event).
    pub fn known_by(chars: usize, fingerprint: &str) -> Secret {
        Secret(Repr::Known { chars, fingerprint: Arc::from(fingerprint) })
    }

    /// The secret itself; empty for one known only by its fingerprint.
    pub fn expose(&self) -> &str {
        match &self.0 {
            Repr::Held(s) => s,
            Repr::Known { .. } => "",
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Repr::Held(s) => s.is_empty(),
            Repr::Known { chars, .. } => *chars == 0,
        }
    }

    /// Length in characters (what the redacted form tells).
    pub fn chars(&self) -> usize {
        match &self.0 {
            Repr::Held(s) => s.chars().count(),
            Repr::Known { chars, .. } => *chars,
        }
    }

    /// 12 hex digits of SHA-256: stable across runs and machines, so alerts of two captures (or a SIEM
    /// and a ticket) can be correlated without either holding the secret.
    pub fn fingerprint(&self) -> String {
        match &self.0 {
            Repr::Held(s) => fingerprint(s),
            Repr::Known { fingerprint, .. } => fingerprint.to_string(),
        }
    }

    /// `…[11 chars, fp 48486e1514e8]`: the length and the fingerprint, nothing else. No prefix, even
    /// for a JWT: any character of a secret is part of the secret, and a prefix would make the redacted
    /// form depend on more than length and fingerprint.
    pub fn redacted(&self) -> String {
        format!("…[{} chars, fp {}]", self.chars(), self.fingerprint())
    }

    /// How a slot shows its secret: the one place that decides. A secret known only by its
    /// fingerprint has nothing else to show.
    pub fn shown(&self, reveal: Reveal) -> Cow<'_, str> {
        match (reveal, &self.0) {
            (Reveal::Full, Repr::Held(s)) => Cow::Borrowed(s),
            _ => Cow::Owned(self.redacted()),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// 12 hex digits of SHA-256.
pub fn fingerprint(secret: &str) -> String {
    use fmt::Write as _;
    let digest = Sha256::digest(secret.as_bytes());
    let mut s = String::with_capacity(12);
    for b in digest.iter().take(6) {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One part of a [`Text`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Part {
    /// Text shown as is (still attacker-controlled: terminal sinks sanitise it).
    Lit(String),
    /// A secret, shown by [`Secret::shown`].
    Secret(Secret),
    /// A secret whose wire form differs from its value (a password inside `Basic` base64, a
    /// percent-encoded form field): redacted as the secret (its length and fingerprint, the same as its
    /// alert's), revealed as the wire bytes (the excerpt shows what crossed).
    Wire { secret: Secret, wire: Secret },
    /// A user name as typed: shown as is, unless whoever owns the connection finds it is really a secret
    /// (a password typed at the user prompt, a token sent as the user) and turns it into a slot with
    /// [`Text::mask_user`]. The parser marks where user names are; nothing searches text for them.
    User(String),
}

/// Text made of literal parts and secret slots. The only way to get a string out is [`Text::render`],
/// which takes the [`Reveal`] decision.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Text(Vec<Part>);

impl Text {
    pub fn new() -> Text {
        Text(Vec::new())
    }

    /// What this text holds on the heap: its parts and their bytes (a secret shared with an alert is
    /// counted again). Linear in the parts, no allocation: what memory bounds charge for it.
    pub fn heap_bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Part>()
            + self
                .0
                .iter()
                .map(|p| match p {
                    Part::Lit(l) | Part::User(l) => l.capacity(),
                    Part::Secret(s) => s.heap_bytes(),
                    Part::Wire { secret, wire } => secret.heap_bytes() + wire.heap_bytes(),
                })
                .sum::<usize>()
    }

    /// A text with no secret in it.
    pub fn lit(s: impl Into<String>) -> Text {
        let s = s.into();
        if s.is_empty() { Text(Vec::new()) } else { Text(vec![Part::Lit(s)]) }
    }

    /// A text that is one secret.
    pub fn secret(s: Secret) -> Text {
        Text(vec![Part::Secret(s)])
    }

    pub fn push_lit(&mut self, s: &str) -> &mut Text {
        if s.is_empty() {
            return self;
        }
        match self.0.last_mut() {
            Some(Part::Lit(l)) => l.push_str(s),
            _ => self.0.push(Part::Lit(s.to_string())),
        }
        self
    }

    pub fn push_secret(&mut self, s: Secret) -> &mut Text {
        self.0.push(Part::Secret(s));
        self
    }

    /// A slot for `secret` whose wire form is `wire` (see [`Part::Wire`]).
    pub fn push_wire(&mut self, secret: Secret, wire: Secret) -> &mut Text {
        if secret == wire {
            self.0.push(Part::Secret(secret));
        } else {
            self.0.push(Part::Wire { secret, wire });
        }
        self
    }

    /// A user name (see [`Part::User`]).
    pub fn push_user(&mut self, u: &str) -> &mut Text {
        self.0.push(Part::User(u.to_string()));
        self
    }

    /// A text that is one user name.
    pub fn user(u: &str) -> Text {
        Text(vec![Part::User(u.to_string())])
    }

    pub fn push_text(&mut self, t: &Text) -> &mut Text {
        for p in &t.0 {
            match p {
                Part::Lit(l) => self.push_lit(l),
                Part::Secret(s) => self.push_secret(s.clone()),
                Part::User(u) => self.push_user(u),
                Part::Wire { secret, wire } => self.push_wire(secret.clone(), wire.clone()),
            };
        }
        self
    }

    /// Every user-name part equal to `user` becomes a slot showing `as_secret` (the user name was
    /// really a secret). Returns how many parts changed.
    pub fn mask_user(&mut self, user: &str, as_secret: &Secret) -> usize {
        let mut n = 0;
        for p in &mut self.0 {
            if matches!(p, Part::User(u) if u == user) {
                *p = Part::Secret(as_secret.clone());
                n += 1;
            }
        }
        n
    }

    /// The user names of this text, in order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::User(u) => Some(u.as_str()),
            _ => None,
        })
    }

    pub fn parts(&self) -> &[Part] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any part is a secret.
    pub fn has_secret(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Part::Secret(_) | Part::Wire { .. }))
    }

    /// The secrets of this text, in order.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        self.0.iter().filter_map(|p| match p {
            Part::Secret(s) | Part::Wire { secret: s, .. } => Some(s),
            _ => None,
        })
    }

    /// The literal text only, secret slots left out (for filters and sorting that must not see secrets).
    pub fn literal_only(&self) -> String {
        let mut out = String::new();
        for p in &self.0 {
            if let Part::Lit(l) | Part::User(l) = p {
                out.push_str(l);
            }
        }
        out
    }

    /// The text with every slot rendered by [`Secret::shown`]. Linear in the size of the parts.
    pub fn render(&self, reveal: Reveal) -> String {
        let mut out = String::new();
        self.render_into(&mut out, reveal);
        out
    }

    pub fn render_into(&self, out: &mut String, reveal: Reveal) {
        for p in &self.0 {
            match p {
                Part::Lit(l) | Part::User(l) => out.push_str(l),
                Part::Secret(s) => out.push_str(&s.shown(reveal)),
                Part::Wire { secret, wire } => match reveal {
                    Reveal::Full => out.push_str(wire.expose()),
                    Reveal::Redacted => out.push_str(&secret.redacted()),
                },
            }
        }
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({:?})", self.render(Reveal::Redacted))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::lit(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::lit(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_12_hex_of_sha256() {
        // sha256("password") = 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
        assert_eq!(fingerprint("password"), "5e884898da28");
    }

    #[test]
    fn redacted_form_is_length_and_fingerprint_only_even_for_a_jwt() {
        let jwt = Secret::new("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl");
        let r = jwt.redacted();
        assert_eq!(r, format!("…[{} chars, fp {}]", jwt.chars(), jwt.fingerprint()));
        assert!(!r.contains("eyJ"), "{r}");
    }

    #[test]
    fn debug_and_display_of_a_secret_never_show_it() {
        let s = Secret::new("s3cr3t-value-that-is-long");
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(!format!("{s}").contains("s3cr3t"));
        let t = Text::secret(s);
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_slot_equal_to_the_literal_around_it_leaves_the_literal_alone() {
        // The password is "login" and the path is /login: the path must not be touched.
        let pw = Secret::new("login");
        let mut t = Text::lit("POST /login user=login password=");
        t.push_secret(pw.clone());
        let r = t.render(Reveal::Redacted);
        assert_eq!(r, format!("POST /login user=login password={}", pw.redacted()));
        assert_eq!(t.render(Reveal::Full), "POST /login user=login password=login");
    }

    #[test]
    fn adjacent_literals_coalesce_and_secrets_are_listed_in_order() {
        let mut t = Text::new();
        t.push_lit("a").push_lit("b").push_secret(Secret::new("x1")).push_lit("c").push_secret(Secret::new("x2"));
        assert_eq!(t.parts().len(), 4);
        let s: Vec<&str> = t.secrets().map(Secret::expose).collect();
        assert_eq!(s, ["x1", "x2"]);
        assert_eq!(t.literal_only(), "abc");
    }

    #[test]
    fn a_user_part_becomes_a_slot_only_where_it_was_marked() {
        let pw = Secret::new("hunter2");
        let mut t = Text::lit("C: USER ");
        t.push_user("hunter2").push_lit(" (hunter2 in literal text stays)");
        assert_eq!(t.mask_user("hunter2", &pw), 1);
        assert_eq!(t.render(Reveal::Redacted), format!("C: USER {} (hunter2 in literal text stays)", pw.redacted()));
    }
}
