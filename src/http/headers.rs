//! Header fields of one message, stored flat: every name and value back to back in one buffer, and an
//! index of where each lies. Two allocations per message whatever the number of fields (a `Vec` of
//! `(String, Vec<u8>)` paid two per field plus the vector), and a look-up compares bytes in place.

use std::fmt;

/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;

/// Header fields in wire order. Names keep their case; look-ups are case-insensitive. A field's index
/// (its position in [`Headers::iter`]) is how detectors point at it (`detect::Field::Header`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every name, back to back (kept as a `String`: handing out a name costs no UTF-8 check).
    names: String,
    /// Names appended by the head reader and not yet checked (see [`Headers::seal`]): while `names` is
    /// empty, names go here, and are turned into `names` with one UTF-8 check per head instead of one
    /// per field.
    raw: Vec<u8>,
    /// Every value, back to back.
    values: Vec<u8>,
    /// Per field: where its name starts and ends in `names`, where its value starts and ends in
    /// `values`.
    index: Vec<[u32; 4]>,
}

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Room for `bytes` of names and values and `fields` fields without growing.
    pub fn with_capacity(bytes: usize, fields: usize) -> Headers {
        Headers {
            names: String::new(),
            raw: Vec::with_capacity(fields * 12),
            values: Vec::with_capacity(bytes),
            index: Vec::with_capacity(fields),
        }
    }

    /// Append a field. Refused (false) only past 4 GiB of fields, which no cap lets through.
    pub fn push(&mut self, name: &str, value: &[u8]) -> bool {
        if !self.raw.is_empty() {
            return self.push_token(name.as_bytes(), value);
        }
        if !self.room(name.len(), value.len()) {
            return false;
        }
        let (n, v) = (self.names.len() as u32, self.values.len() as u32);
        self.names.push_str(name);
        self.values.extend_from_slice(value);
        self.index.push([n, self.names.len() as u32, v, self.values.len() as u32]);
        true
    }

    /// Append a field whose name is a token (ASCII, as the head reader checked), unchecked until
    /// [`Headers::seal`]. Into `names` directly once sealed names exist (trailer fields).
    #[inline]
    pub(crate) fn push_token(&mut self, name: &[u8], value: &[u8]) -> bool {
        if !self.names.is_empty() {
            return match std::str::from_utf8(name) {
                Ok(n) => self.push(n, value),
                Err(_) => false,
            };
        }
        if !self.room(name.len(), value.len()) {
            return false;
        }
        let (n, v) = (self.raw.len() as u32, self.values.len() as u32);
        self.raw.extend_from_slice(name);
        self.values.extend_from_slice(value);
        self.index.push([n, self.raw.len() as u32, v, self.values.len() as u32]);
        true
    }

    /// Check the names the head reader appended, once for the whole head: from here on handing out a
    /// name costs nothing. Names are tokens (ASCII): anything else would be a bug, and drops them all.
    pub(crate) fn seal(&mut self) {
        if self.raw.is_empty() {
            return;
        }
        let mut spare = std::mem::take(&mut self.names).into_bytes();
        spare.clear();
        let raw = std::mem::replace(&mut self.raw, spare);
        match String::from_utf8(raw) {
            Ok(names) => self.names = names,
            Err(_) => self.clear(),
        }
        // `raw` keeps the old (empty) names buffer for the next head that reuses these headers.
        self.raw.clear();
    }

    fn room(&self, name: usize, value: usize) -> bool {
        self.names.len().max(self.raw.len()) + name <= u32::MAX as usize
            && self.values.len() + value <= u32::MAX as usize
    }

    /// Append bytes to the value of the last field (an obs-folded continuation line).
    pub(crate) fn extend_last(&mut self, more: &[u8]) -> bool {
        if self.index.is_empty() || !self.room(0, more.len()) {
            return false;
        }
        // The last field's value ends the buffer: it grows in place.
        self.values.extend_from_slice(more);
        if let Some(last) = self.index.last_mut() {
            last[3] = self.values.len() as u32;
        }
        true
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// No fields, the buffers kept (the names' buffer ready for the head reader).
    pub fn clear(&mut self) {
        if self.raw.capacity() < self.names.capacity() {
            self.raw = std::mem::take(&mut self.names).into_bytes();
        }
        self.raw.clear();
        self.names.clear();
        self.values.clear();
        self.index.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Bytes of names and values.
    pub fn bytes(&self) -> usize {
        self.names.len() + self.raw.len() + self.values.len()
    }

    #[inline]
    fn field(&self, e: &[u32; 4]) -> (&str, &[u8]) {
        (
            self.names.get(e[0] as usize..e[1] as usize).unwrap_or(""),
            self.values.get(e[2] as usize..e[3] as usize).unwrap_or_default(),
        )
    }

    /// Name of field `i` (also before the head is sealed).
    pub fn name(&self, i: usize) -> &str {
        let Some(e) = self.index.get(i) else { return "" };
        if !self.raw.is_empty() {
            let raw = self.raw.get(e[0] as usize..e[1] as usize).unwrap_or_default();
            return std::str::from_utf8(raw).unwrap_or("");
        }
        self.field(e).0
    }

    /// Value of field `i`.
    pub fn value(&self, i: usize) -> &[u8] {
        self.index.get(i).map_or(&[], |e| self.field(e).1)
    }

    /// First value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Every value of `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Every field as `(name, value)`, in wire order; `enumerate()` gives each field's index.
    pub fn iter(&self) -> Iter<'_> {
        Iter { h: self, i: self.index.iter() }
    }

    /// Heap bytes held (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        let blocks = usize::from(self.names.capacity() > 0)
            + usize::from(self.raw.capacity() > 0)
            + usize::from(self.values.capacity() > 0)
            + usize::from(self.index.capacity() > 0);
        self.names.capacity()
            + self.raw.capacity()
            + self.values.capacity()
            + self.index.capacity() * 16
            + blocks * ALLOC
    }
}

/// The fields of a [`Headers`], in wire order.
pub struct Iter<'a> {
    h: &'a Headers,
    i: std::slice::Iter<'a, [u32; 4]>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.i.next().map(|e| self.h.field(e))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.i.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.i.next_back().map(|e| self.h.field(e))
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|(n, v)| (n, String::from_utf8_lossy(v)))).finish()
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Headers {
        let mut h = Headers::new();
        for (n, v) in iter {
            h.push(n.as_ref(), v.as_ref());
        }
        h
    }
}

impl From<Vec<(String, Vec<u8>)>> for Headers {
    fn from(v: Vec<(String, Vec<u8>)>) -> Headers {
        v.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_ups_are_case_insensitive_and_keep_wire_order_and_indexes() {
        let h: Headers = [("Host", "a"), ("Cookie", "x=1"), ("cookie", "y=2"), ("X-Empty", "")].into_iter().collect();
        assert_eq!(h.len(), 4);
        assert_eq!(h.get("HOST"), Some(&b"a"[..]));
        assert_eq!(h.get_all("COOKIE").collect::<Vec<_>>(), vec![&b"x=1"[..], &b"y=2"[..]]);
        assert_eq!(h.get("x-empty"), Some(&b""[..]));
        assert_eq!(h.get("missing"), None);
        let all: Vec<(usize, &str)> = h.iter().enumerate().map(|(i, (n, _))| (i, n)).collect();
        assert_eq!(all, vec![(0, "Host"), (1, "Cookie"), (2, "cookie"), (3, "X-Empty")]);
        assert_eq!((h.name(2), h.value(2)), ("cookie", &b"y=2"[..]));
    }

    #[test]
    fn a_folded_line_extends_the_last_value_in_place() {
        let mut h = Headers::new();
        h.push("Authorization", b"Basic");
        h.extend_last(b" dXNlcjpwYXNz");
        h.push("Host", b"h");
        assert_eq!(h.get("authorization"), Some(&b"Basic dXNlcjpwYXNz"[..]));
        assert_eq!(h.get("host"), Some(&b"h"[..]));
    }
}
