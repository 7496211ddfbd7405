//! A small JSON reader for the detectors: values with their byte spans, bounded, lenient at the end.
//!
//! Why not serde_json's `Value`: a detector must say *where* a secret lies in the body (its span), so
//! that the excerpt shows a slot there instead of the bytes, whatever their encoding (`\u00e4`, `\/`);
//! `Value` forgets positions. And a body cut at the body cap is still worth reading: this reader keeps
//! everything complete before the cut instead of failing the whole document.
//!
//! Bounded: at most [`MAX_NODES`] values and [`MAX_DEPTH`] levels; past either the rest is not read.
//! Work is linear in the input.

use std::ops::Range;

/// Nesting read; a login is never deeper, a hostile body may be.
pub const MAX_DEPTH: usize = 10;
/// Values read per document.
pub const MAX_NODES: usize = 5000;

#[derive(Debug, PartialEq)]
pub enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    /// The decoded string and the span of its content on the wire (between the quotes).
    Str(String, Range<usize>),
    /// A number, `true`, `false` or `null` (not needed by any detector).
    Other,
}

impl Json {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s, _) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Read `b` (a JSON document, possibly cut short). `None` when it does not start as JSON.
pub fn parse(b: &[u8]) -> Option<Json> {
    let mut r = Reader { b, i: 0, nodes: 0 };
    r.ws();
    if !matches!(r.peek(), Some(b'{' | b'[')) {
        return None;
    }
    r.value(0)
}

/// Move every span of `v` by `off` bytes (a document read from inside a larger body).
pub fn shift(v: &mut Json, off: usize) {
    match v {
        Json::Object(m) => m.iter_mut().for_each(|(_, x)| shift(x, off)),
        Json::Array(a) => a.iter_mut().for_each(|x| shift(x, off)),
        Json::Str(_, r) => *r = r.start + off..r.end + off,
        Json::Other => {}
    }
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    nodes: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    /// One value at `depth`. `None` at the end of input or on a syntax error: the caller keeps what it
    /// has and stops.
    fn value(&mut self, depth: usize) -> Option<Json> {
        self.nodes += 1;
        if self.nodes > MAX_NODES || depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b'}') => {
                            self.i += 1;
                            return Some(Json::Object(m));
                        }
                        Some(b',') => self.i += 1,
                        Some(b'"') => {
                            let Some((k, _)) = self.string() else { return Some(Json::Object(m)) };
                            self.ws();
                            if self.peek() != Some(b':') {
                                return Some(Json::Object(m));
                            }
                            self.i += 1;
                            match self.value(depth + 1) {
                                Some(v) => m.push((k, v)),
                                None => return Some(Json::Object(m)),
                            }
                        }
                        _ => return Some(Json::Object(m)),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b']') => {
                            self.i += 1;
                            return Some(Json::Array(a));
                        }
                        Some(b',') => self.i += 1,
                        Some(_) => match self.value(depth + 1) {
                            Some(v) => a.push(v),
                            None => return Some(Json::Array(a)),
                        },
                        None => return Some(Json::Array(a)),
                    }
                }
            }
            b'"' => self.string().map(|(s, r)| Json::Str(s, r)),
            _ => {
                // A number or a literal: skip to the next delimiter.
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.i += 1;
                }
                (self.i > start).then_some(Json::Other)
            }
        }
    }

    /// A string at the cursor (on its opening quote): decoded, and the span of its content.
    fn string(&mut self) -> Option<(String, Range<usize>)> {
        self.i += 1;
        let start = self.i;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            match c {
                b'"' => {
                    let span = start..self.i;
                    self.i += 1;
                    return Some((String::from_utf8_lossy(&out).into_owned(), span));
                }
                b'\\' => {
                    let e = *self.b.get(self.i + 1)?;
                    self.i += 2;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp) && self.b.get(self.i..self.i + 2) == Some(b"\\u") {
                                self.i += 2;
                                let lo = self.hex4()?;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                _ => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.i += 4;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_decoded_and_their_wire_span_kept() {
        let b = br#"{"user":"al\u00e4ce","pass\/word":"a\"b\\c"}"#;
        let j = parse(b).unwrap();
        let Json::Object(m) = &j else { panic!("{j:?}") };
        assert_eq!(m[0].0, "user");
        assert_eq!(m[0].1.as_str(), Some("aläce"));
        assert_eq!(m[1].0, "pass/word");
        let Json::Str(s, r) = &m[1].1 else { panic!() };
        assert_eq!(s, "a\"b\\c");
        assert_eq!(&b[r.clone()], br#"a\"b\\c"#);
    }

    #[test]
    fn a_document_cut_short_keeps_what_was_complete() {
        let j = parse(br#"{"a":{"password":"pw1"},"b":[1,2,"x"],"c":"unterminat"#).unwrap();
        assert_eq!(j.get("a").and_then(|a| a.get("password")).and_then(Json::as_str), Some("pw1"));
        assert!(j.get("b").is_some());
        assert!(j.get("c").is_none());
    }

    #[test]
    fn depth_and_node_bounds_stop_reading_without_failing() {
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_some());
        let wide = format!("[{}]", "1,".repeat(100_000));
        let Some(Json::Array(a)) = parse(wide.as_bytes()) else { panic!() };
        assert!(a.len() < MAX_NODES);
    }

    #[test]
    fn surrogate_pairs_decode() {
        let j = parse(br#"["\ud83d\ude00"]"#).unwrap();
        assert_eq!(j, Json::Array(vec![Json::Str("😀".into(), 2..14)]));
    }
}
