//! Fields of a body past its kept prefix, read as the body streams by with bounded memory: a login
//! field after 64 KiB (or after megabytes of decompressed padding) is a leak too.
//!
//! Three formats, each a small state machine fed any segmentation: urlencoded forms (pairs), JSON (a
//! tokenizer tracking depth, keys and string values) and multipart/form-data (parts). Only fields whose
//! name the detectors care about are kept (`Config::body_field`, set by the pipeline from detect's
//! rules: http knows formats, not what a credential is), each value at most [`MAX_VALUE`] bytes and at
//! most [`MAX_FIELDS`] of them; a field wanted but dropped by those caps is counted
//! (`body_fields_dropped`). Only fields that end past the kept prefix are reported: those inside it are
//! read by the detectors from the prefix itself, with their place in the excerpt.

/// Longest field name compared (a longer one is not a credential name).
pub const MAX_NAME: usize = 256;
/// Longest value kept (a password or token longer than this is not one a person or a server sends).
pub const MAX_VALUE: usize = 4096;
/// Fields kept per body.
pub const MAX_FIELDS: usize = 16;
/// Bytes of a multipart part's header block read (its Content-Disposition is in there).
const MAX_PART_HEAD: usize = 1024;
/// Nesting tracked by the JSON tokenizer: deeper objects still have their keys read, as if at this depth.
const MAX_DEPTH: u32 = 64;

/// A body format we can read as a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Form,
    Json,
    /// With its boundary.
    Multipart(String),
}

impl Format {
    /// The format of a body from its Content-Type, or sniffed from its first bytes when there is none
    /// (a JSON document starts with `{` or `[`; a form without a type is not sniffed past the prefix).
    pub fn of(content_type: Option<&[u8]>, prefix: &[u8]) -> Option<Format> {
        let Some(ct) = content_type else {
            let first = prefix.iter().find(|b| !b.is_ascii_whitespace())?;
            return matches!(first, b'{' | b'[').then_some(Format::Json);
        };
        let has = |w: &[u8]| ct.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
        if has(b"x-www-form-urlencoded") {
            return Some(Format::Form);
        }
        if has(b"json") {
            return Some(Format::Json);
        }
        if has(b"multipart/form-data") {
            // The boundary is case-sensitive: taken as sent.
            let ct = String::from_utf8_lossy(ct);
            let b = ct.split(';').find_map(|p| {
                let p = p.trim();
                p.get(..9).filter(|k| k.eq_ignore_ascii_case("boundary=")).map(|_| p[9..].trim_matches('"'))
            })?;
            return (!b.is_empty() && b.len() <= 200).then(|| Format::Multipart(b.to_string()));
        }
        None
    }
}

/// The reader of one body.
#[derive(Debug)]
pub struct Scanner {
    want: fn(&str) -> bool,
    /// Absolute offset (decoded body bytes) of the next byte.
    at: u64,
    /// Fields that end at or before this offset are inside the kept prefix: not reported.
    prefix: u64,
    pub fields: Vec<(String, String)>,
    /// Wanted fields dropped by the caps.
    pub dropped: u64,
    /// The field being read: its name, whether it is wanted, its value so far.
    name: Vec<u8>,
    value: Vec<u8>,
    wanted: bool,
    /// The value outgrew [`MAX_VALUE`].
    long: bool,
    state: State,
}

#[derive(Debug)]
enum State {
    Form { in_value: bool },
    Json(Json),
    Multipart(Multipart),
}

#[derive(Debug, Default)]
struct Json {
    /// One bit per level: set for an object.
    objects: u64,
    depth: u32,
    /// In an object, before a key (after `{` or `,`).
    expect_key: bool,
    in_string: bool,
    escape: bool,
    /// The string being read is a key.
    is_key: bool,
    /// A key was read and its value has not started.
    after_key: bool,
}

#[derive(Debug)]
struct Multipart {
    /// `\r\n--boundary`.
    delim: Vec<u8>,
    /// How much of `delim` the last bytes matched.
    matched: usize,
    phase: Phase,
    head: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the first delimiter, or in a part we do not read.
    Skip,
    /// Just after a delimiter: `--` ends the body, anything else is the delimiter line's end.
    AfterDelim(u8),
    /// The rest of the delimiter line.
    DelimLine,
    Head,
    Value,
    End,
}

impl Scanner {
    /// A reader for `format` whose fields ending within the first `prefix` bytes are not reported.
    pub fn new(format: Format, want: fn(&str) -> bool, prefix: u64) -> Scanner {
        let state = match format {
            Format::Form => State::Form { in_value: false },
            Format::Json => State::Json(Json::default()),
            Format::Multipart(b) => {
                let mut delim = b"\r\n--".to_vec();
                delim.extend_from_slice(b.as_bytes());
                // The body starts with `--boundary`: as if after a line break.
                State::Multipart(Multipart { delim, matched: 2, phase: Phase::Skip, head: Vec::new() })
            }
        };
        Scanner {
            want,
            at: 0,
            prefix,
            fields: Vec::new(),
            dropped: 0,
            name: Vec::new(),
            value: Vec::new(),
            wanted: false,
            long: false,
            state,
        }
    }

    /// Heap bytes held (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        let own = self.name.capacity() + self.value.capacity();
        let fields: usize = self.fields.iter().map(|(n, v)| n.capacity() + v.capacity() + 32).sum();
        let mp = match &self.state {
            State::Multipart(m) => m.delim.capacity() + m.head.capacity(),
            _ => 0,
        };
        own + fields + self.fields.capacity() * std::mem::size_of::<(String, String)>() + mp
    }

    pub fn push(&mut self, b: &[u8]) {
        match &mut self.state {
            State::Form { .. } => self.form(b),
            State::Json(_) => self.json(b),
            State::Multipart(_) => self.multipart(b),
        }
    }

    /// The body ended: a form's last pair and a part cut short are complete.
    pub fn finish(&mut self) {
        match &self.state {
            State::Form { in_value: true } => self.emit(Decode::Form),
            State::Multipart(m) if m.phase == Phase::Value => self.emit(Decode::Raw),
            _ => {}
        }
    }

    fn start_field(&mut self) {
        self.name.clear();
        self.value.clear();
        self.wanted = false;
        self.long = false;
    }

    /// Add value bytes of a wanted field, within [`MAX_VALUE`] (`slack` bytes more are allowed, to be cut
    /// off later: a multipart delimiter being matched).
    fn take_value(&mut self, b: &[u8], slack: usize) {
        if !self.wanted || self.long {
            return;
        }
        if self.value.len() + b.len() > MAX_VALUE + slack {
            self.long = true;
            self.value = Vec::new();
            return;
        }
        self.value.extend_from_slice(b);
    }

    /// The field being read ended, its terminator (`&`, closing quote, delimiter) just before `self.at`
    /// (or the body ended there). Inside the prefix when its terminator is.
    fn emit(&mut self, how: Decode) {
        let wanted = std::mem::take(&mut self.wanted);
        if !wanted || self.at <= self.prefix {
            return;
        }
        if self.long || self.fields.len() >= MAX_FIELDS {
            self.dropped += 1;
            return;
        }
        let name = decode(&self.name, how);
        let value = decode(&self.value, how);
        self.fields.push((name, value));
        self.value = Vec::new();
    }

    fn form(&mut self, b: &[u8]) {
        let State::Form { in_value } = self.state else { return };
        let mut in_value = in_value;
        let mut i = 0;
        while i < b.len() {
            if in_value {
                let end = memchr::memchr(b'&', &b[i..]).map_or(b.len(), |k| i + k);
                self.take_value(&b[i..end], 0);
                self.at += (end - i) as u64;
                i = end;
                if i < b.len() {
                    in_value = false;
                    self.at += 1;
                    self.emit(Decode::Form);
                    self.start_field();
                    i += 1;
                }
            } else {
                let end = memchr::memchr2(b'=', b'&', &b[i..]).map_or(b.len(), |k| i + k);
                if self.name.len() + (end - i) <= MAX_NAME {
                    self.name.extend_from_slice(&b[i..end]);
                } else {
                    self.name.resize(MAX_NAME + 1, 0);
                }
                self.at += (end - i) as u64;
                i = end;
                if i < b.len() {
                    if b[i] == b'=' {
                        in_value = true;
                        self.wanted = self.name.len() <= MAX_NAME && (self.want)(&decode(&self.name, Decode::Form));
                    } else {
                        self.start_field();
                    }
                    self.at += 1;
                    i += 1;
                }
            }
        }
        self.state = State::Form { in_value };
    }

    fn json(&mut self, b: &[u8]) {
        let mut i = 0;
        while i < b.len() {
            let State::Json(j) = &mut self.state else { return };
            if j.in_string {
                // Up to the next quote or escape at once.
                if j.escape {
                    j.escape = false;
                    let is_key = j.is_key;
                    self.json_string_bytes(is_key, &b[i..i + 1]);
                    self.at += 1;
                    i += 1;
                    continue;
                }
                let end = memchr::memchr2(b'"', b'\\', &b[i..]).map_or(b.len(), |k| i + k);
                let is_key = j.is_key;
                self.json_string_bytes(is_key, &b[i..end]);
                self.at += (end - i) as u64;
                i = end;
                if i == b.len() {
                    return;
                }
                let State::Json(j) = &mut self.state else { return };
                if b[i] == b'\\' {
                    j.escape = true;
                    let is_key = j.is_key;
                    self.json_string_bytes(is_key, b"\\");
                } else {
                    j.in_string = false;
                    if j.is_key {
                        j.after_key = true;
                        j.expect_key = false;
                        self.wanted = self.name.len() <= MAX_NAME && (self.want)(&decode(&self.name, Decode::Json));
                    } else if self.wanted {
                        self.at += 1;
                        self.emit(Decode::Json);
                        self.at -= 1;
                    }
                }
                self.at += 1;
                i += 1;
                continue;
            }
            let c = b[i];
            match c {
                b'"' => {
                    j.in_string = true;
                    j.is_key = j.expect_key;
                    if j.is_key {
                        self.name.clear();
                    } else {
                        self.value.clear();
                        self.long = false;
                        // A string value of the key just read: wanted if the key was; any other string
                        // (in an array, or a second value) is not.
                        if !j.after_key {
                            self.wanted = false;
                        }
                    }
                    j.after_key = false;
                }
                b'{' | b'[' => {
                    if j.depth < MAX_DEPTH {
                        if c == b'{' {
                            j.objects |= 1 << j.depth;
                        } else {
                            j.objects &= !(1 << j.depth);
                        }
                    }
                    j.depth = j.depth.saturating_add(1);
                    j.expect_key = c == b'{';
                    j.after_key = false;
                    self.wanted = false;
                }
                b'}' | b']' => {
                    j.depth = j.depth.saturating_sub(1);
                    j.expect_key = false;
                    j.after_key = false;
                    self.wanted = false;
                }
                b',' => {
                    let level = j.depth.saturating_sub(1).min(MAX_DEPTH - 1);
                    j.expect_key = j.depth > 0 && j.objects & (1 << level) != 0;
                    j.after_key = false;
                    self.wanted = false;
                }
                b':' => {}
                c if c.is_ascii_whitespace() => {}
                // Numbers, literals: not a string value, so not one we keep.
                _ => {
                    j.after_key = false;
                    self.wanted = false;
                }
            }
            self.at += 1;
            i += 1;
        }
    }

    fn json_string_bytes(&mut self, is_key: bool, b: &[u8]) {
        if is_key {
            if self.name.len() + b.len() <= MAX_NAME {
                self.name.extend_from_slice(b);
            } else {
                self.name.resize(MAX_NAME + 1, 0);
            }
        } else {
            self.take_value(b, 0);
        }
    }

    fn multipart(&mut self, b: &[u8]) {
        let mut i = 0;
        while i < b.len() {
            let State::Multipart(m) = &mut self.state else { return };
            match m.phase {
                Phase::End => {
                    self.at += (b.len() - i) as u64;
                    return;
                }
                Phase::AfterDelim(k) => {
                    let c = b[i];
                    self.at += 1;
                    i += 1;
                    m.phase = match (k, c) {
                        (0, b'-') => Phase::AfterDelim(1),
                        (1, b'-') => Phase::End,
                        (_, b'\n') => Phase::Head,
                        _ => Phase::DelimLine,
                    };
                    if m.phase == Phase::Head {
                        m.head.clear();
                    }
                    continue;
                }
                Phase::DelimLine => {
                    let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |k| i + k + 1);
                    self.at += (end - i) as u64;
                    if b[end - 1] == b'\n' {
                        m.phase = Phase::Head;
                        m.head.clear();
                    }
                    i = end;
                    continue;
                }
                Phase::Head => {
                    let c = b[i];
                    self.at += 1;
                    i += 1;
                    if m.head.len() < MAX_PART_HEAD {
                        m.head.push(c);
                    } else {
                        // Past the cap the block's end is still looked for: its last bytes roll.
                        m.head.copy_within(MAX_PART_HEAD - 3.., MAX_PART_HEAD - 4);
                        m.head[MAX_PART_HEAD - 1] = c;
                    }
                    let h = &m.head;
                    if h.ends_with(b"\r\n\r\n") || h.ends_with(b"\n\n") || (h.len() <= 2 && c == b'\n') {
                        let (name, file) = disposition(h);
                        self.start_field();
                        if let (Some(n), false) = (name, file) {
                            if n.len() <= MAX_NAME {
                                self.wanted = (self.want)(&n);
                                self.name = n.into_bytes();
                            }
                        }
                        let State::Multipart(m) = &mut self.state else { return };
                        m.phase = Phase::Value;
                        m.matched = 0;
                    }
                    continue;
                }
                Phase::Skip | Phase::Value => {}
            }
            // Look for the delimiter: bytes up to it are the value (or skipped).
            let start = i;
            let delim_len = m.delim.len();
            let mut found = false;
            while i < b.len() {
                if m.matched == 0 {
                    match memchr::memchr(b'\r', &b[i..]) {
                        Some(k) => i += k,
                        None => {
                            i = b.len();
                            break;
                        }
                    }
                }
                let c = b[i];
                i += 1;
                if c == m.delim[m.matched] {
                    m.matched += 1;
                    if m.matched == delim_len {
                        found = true;
                        break;
                    }
                } else {
                    // Fall back: a new match may start at this byte (the delimiter begins with `\r`,
                    // which occurs in it only first).
                    m.matched = usize::from(c == b'\r');
                }
            }
            let in_value = m.phase == Phase::Value;
            let chunk = &b[start..i];
            self.at += chunk.len() as u64;
            if in_value {
                self.take_value(chunk, delim_len);
            }
            if found {
                if in_value {
                    // The delimiter is not part of the value (its bytes may have come in earlier chunks).
                    let keep = self.value.len().saturating_sub(delim_len);
                    self.value.truncate(keep);
                    self.emit(Decode::Raw);
                }
                let State::Multipart(m) = &mut self.state else { return };
                m.matched = 0;
                m.phase = Phase::AfterDelim(0);
            }
        }
    }
}

/// The `name` of a part's Content-Disposition, and whether it is a file.
fn disposition(head: &[u8]) -> (Option<String>, bool) {
    let head = String::from_utf8_lossy(head);
    let Some(line) = head.lines().find(|l| l.len() > 20 && l[..20].eq_ignore_ascii_case("content-disposition:")) else {
        return (None, false);
    };
    let mut name = None;
    let mut file = false;
    for p in line[20..].split(';') {
        let p = p.trim();
        if let Some(v) = p.strip_prefix("name=") {
            name = Some(v.trim_matches('"').to_string());
        } else if p.starts_with("filename") {
            file = true;
        }
    }
    (name, file)
}

#[derive(Clone, Copy)]
enum Decode {
    Form,
    Json,
    Raw,
}

fn decode(b: &[u8], how: Decode) -> String {
    match how {
        Decode::Raw => String::from_utf8_lossy(b).into_owned(),
        Decode::Form => percent_decode(b),
        Decode::Json => json_unescape(b),
    }
}

/// Percent-decoding with `+` as space (a form).
fn percent_decode(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (b.get(i + 1).and_then(|&c| hex(c)), b.get(i + 2).and_then(|&c| hex(c))) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// JSON string escapes (`\"`, `\\`, `\/`, `\n`..., `\uXXXX` with surrogate pairs); lossy on bad ones.
fn json_unescape(b: &[u8]) -> String {
    if memchr::memchr(b'\\', b).is_none() {
        return String::from_utf8_lossy(b).into_owned();
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex4 = |at: usize| -> Option<u32> {
        let s = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
        u32::from_str_radix(s, 16).ok()
    };
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let Some(&e) = b.get(i + 1) else { break };
        i += 2;
        let c = match e {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'u' => {
                let Some(hi) = hex4(i) else { continue };
                i += 4;
                let cp = if (0xd800..0xdc00).contains(&hi) && b.get(i..i + 2) == Some(b"\\u") {
                    match hex4(i + 2) {
                        Some(lo) if (0xdc00..0xe000).contains(&lo) => {
                            i += 6;
                            0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                        }
                        _ => hi,
                    }
                } else {
                    hi
                };
                char::from_u32(cp).unwrap_or('\u{fffd}')
            }
            other => other as char,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(n: &str) -> bool {
        matches!(n, "password" | "user" | "pass\u{e4}")
    }

    /// Feed `body` cut every `piece` bytes, prefix `prefix`.
    fn scan(format: Format, body: &[u8], piece: usize, prefix: u64) -> (Vec<(String, String)>, u64) {
        let mut s = Scanner::new(format, want, prefix);
        for p in body.chunks(piece.max(1)) {
            s.push(p);
        }
        s.finish();
        (s.fields, s.dropped)
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_form_password_after_a_megabyte_is_kept_in_any_segmentation() {
        let mut body = b"user=al%69ce&pad=".to_vec();
        body.resize(1 << 20, b'x');
        body.extend_from_slice(b"&pass%77ord=s3cr%21t+x");
        for piece in [1, 3, 1460, 1 << 21] {
            let (f, _) = scan(Format::Form, &body, piece, 0);
            assert_eq!(f, pairs(&[("user", "alice"), ("password", "s3cr!t x")]), "piece {piece}");
        }
        // Fields inside the prefix are left to the detectors.
        assert_eq!(scan(Format::Form, &body, 1460, 64 * 1024).0, pairs(&[("password", "s3cr!t x")]));
    }

    #[test]
    fn json_keys_at_any_depth_with_escapes_and_only_string_values() {
        let body = br#"{"pad":"\"}{","a":[{"user":"bob","n":{"password":"p\u00e4\"ss"}}],"password":12,"x":{"pass\u00e4":"k"}}"#;
        for piece in [1, 2, 5, 1000] {
            let (f, _) = scan(Format::Json, body, piece, 0);
            assert_eq!(f, pairs(&[("user", "bob"), ("password", "p\u{e4}\"ss"), ("pass\u{e4}", "k")]), "piece {piece}");
        }
        // A wanted key's value that is an array of strings is not a password.
        assert!(scan(Format::Json, br#"{"password":["a","b"]}"#, 1, 0).0.is_empty());
    }

    #[test]
    fn multipart_parts_by_name_files_skipped_and_a_cut_last_part_kept() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\npassword\r\n--XyZ\r\n\
                     content-disposition: form-data; name=\"user\"\r\n\r\nbob\r\n--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nhunter\r2\r\n--XyZ--\r\n";
        for piece in [1, 4, 1000] {
            let (f, _) = scan(Format::Multipart("XyZ".into()), body, piece, 0);
            assert_eq!(f, pairs(&[("user", "bob"), ("password", "hunter\r2")]), "piece {piece}");
        }
        let cut = &body[..body.len() - 11];
        assert_eq!(
            scan(Format::Multipart("XyZ".into()), cut, 7, 0).0,
            pairs(&[("user", "bob"), ("password", "hunter\r2")])
        );
    }

    #[test]
    fn a_part_head_longer_than_its_cap_does_not_hide_the_parts_after_it() {
        let body = format!(
            "--b\r\nX-Pad: {}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--b\r\n\
             Content-Disposition: form-data; name=\"password\"\r\n\r\nafter\r\n--b--\r\n",
            "p".repeat(5000)
        );
        for piece in [1, 100, 10_000] {
            assert_eq!(
                scan(Format::Multipart("b".into()), body.as_bytes(), piece, 0).0,
                pairs(&[("password", "after")])
            );
        }
    }

    #[test]
    fn values_and_fields_past_the_caps_are_counted_not_kept() {
        let mut body = format!("password={}", "a".repeat(MAX_VALUE + 1));
        for _ in 0..MAX_FIELDS + 3 {
            body.push_str("&user=x");
        }
        let (f, dropped) = scan(Format::Form, body.as_bytes(), 100, 0);
        assert_eq!(f.len(), MAX_FIELDS);
        assert_eq!(dropped, 4);
    }

    #[test]
    fn formats_come_from_the_content_type_or_a_json_sniff() {
        assert_eq!(Format::of(Some(b"application/x-www-form-urlencoded; charset=utf-8"), b""), Some(Format::Form));
        assert_eq!(Format::of(Some(b"Application/JSON"), b""), Some(Format::Json));
        assert_eq!(
            Format::of(Some(b"multipart/form-data; boundary=\"AbC\""), b""),
            Some(Format::Multipart("AbC".into()))
        );
        assert_eq!(Format::of(None, b"  {\"a\":1"), Some(Format::Json));
        assert_eq!(Format::of(None, b"a=1&b=2"), None);
        assert_eq!(Format::of(Some(b"image/png"), b"{"), None);
    }
}
