//! The one sanitiser between attacker-chosen text and the analyst's terminal.
//!
//! User names, JWT claims, Host headers, paths, cookie and field names, revealed secrets: anyone on the
//! network chooses them. Printed raw, they drive the terminal that shows them: ESC sequences clear the
//! screen, set the window title, write the clipboard (OSC 52) or plant links (OSC 8); C1 controls
//! (U+009B is a one-byte CSI) do the same on terminals that honour them; CR and LF forge report lines;
//! bidi overrides (U+202E) make text read backwards; a 45,000-character user name floods the screen.
//! Every text sink (the report, `live --no-tui` lines, the terminal UI) passes every field through
//! [`clean`]: such characters are shown visibly escaped (`\x1b`, `\u202e`, and `\\` for the backslash
//! itself, so an escape in the output is never ambiguous), and a field longer than its limit is
//! shortened with an ellipsis and its length. The alert file is JSON: [`JsonEscapes`] escapes the same
//! characters there (`\u001b`, `\u202e`), so the file stays valid JSON and `jq -r` cannot print them raw.

use std::io;

/// Limits, in characters, of the fields of text outputs.
pub const HOST: usize = 128;
pub const PATH: usize = 256;
pub const USER: usize = 64;
pub const NAME: usize = 96;
pub const EVIDENCE: usize = 300;
/// A revealed secret (redacted ones are short): long enough for any real token.
pub const SECRET: usize = 4096;
pub const LINE: usize = 1024;

/// Characters shown escaped: C0 controls, DEL, C1 controls, and the invisible or direction-changing
/// format characters (bidi embeddings, overrides and isolates, marks, zero-width characters, line and
/// paragraph separators, the byte order mark, interlinear annotations).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}')
}

/// `s` made safe for a terminal: unsafe characters escaped visibly, at most `max` characters of `s`
/// kept (then `…(N chars)` with the full length). Linear in `s`.
pub fn clean(s: &str, max: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)) + 16);
    let mut n = 0usize;
    let mut chars = s.chars();
    for c in chars.by_ref() {
        if n == max {
            n += 1;
            break;
        }
        n += 1;
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_unsafe(c) {
            if (c as u32) < 0x80 {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        } else {
            out.push(c);
        }
    }
    if n > max {
        let total = max + 1 + chars.count();
        let _ = write!(out, "…({total} chars)");
    }
    out
}

/// A serde_json formatter that also escapes what [`is_unsafe`] names (serde_json escapes the C0
/// controls itself): the alert file is valid JSON whose strings cannot drive a terminal however it is
/// printed.
pub struct JsonEscapes;

impl serde_json::ser::Formatter for JsonEscapes {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    write!(w, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// `value` as one line of JSON through [`JsonEscapes`].
pub fn to_json_line<T: serde::Serialize, W: io::Write>(w: &mut W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, JsonEscapes);
    value.serialize(&mut ser).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_c1_controls_line_breaks_and_bidi_are_shown_escaped() {
        let hostile = "al\x1b]52;c;aGk=\x07ice\u{9b}2J\r\nFAKE LINE \u{202e}gnp.exe\\";
        let c = clean(hostile, 200);
        assert_eq!(c, "al\\x1b]52;c;aGk=\\x07ice\\u009b2J\\x0d\\x0aFAKE LINE \\u202egnp.exe\\\\");
        assert!(!c.chars().any(is_unsafe));
    }

    #[test]
    fn a_long_field_is_shortened_with_an_ellipsis_and_its_length() {
        let c = clean(&"a".repeat(45_000), 64);
        assert_eq!(c, format!("{}…(45000 chars)", "a".repeat(64)));
        assert_eq!(clean("short", 64), "short");
        assert_eq!(clean(&"é".repeat(64), 64), "é".repeat(64));
    }

    #[test]
    fn json_stays_valid_with_every_unsafe_character_escaped() {
        let mut out = Vec::new();
        to_json_line(&mut out, &serde_json::json!({"user": "a\x1b[2J\u{9b}\u{202e}\u{7f}b"})).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert_eq!(line, "{\"user\":\"a\\u001b[2J\\u009b\\u202e\\u007fb\"}\n");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["user"], "a\x1b[2J\u{9b}\u{202e}\u{7f}b");
    }
}
