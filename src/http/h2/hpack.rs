//! HPACK (RFC 7541) decoding, one [`Decoder`] per direction of a connection: the static table, the
//! dynamic table the sender's encoder maintains, literals (Huffman-coded or not), table size updates.
//!
//! A header block is decoded whole (HEADERS and its CONTINUATION frames, collected by the framer). The
//! dynamic table is the state that makes a direction readable: every block changes it, so a block that
//! was not decoded (a gap, a block past its cap, an error) leaves the table unknown, and the caller marks
//! the direction undecodable rather than guess later fields from a wrong table.
//!
//! Bounded: the table holds at most [`MAX_TABLE`] bytes (RFC 7541 4.1 sizes: name + value + 32 per
//! entry); a size update past it is refused ([`Error::TableTooLarge`]), as the sender's table would no
//! longer fit in ours.

use std::collections::VecDeque;

use super::huffman;

/// Largest dynamic table kept per direction. Servers and clients announce 4 KiB (the default) to
/// 64 KiB (nghttp2 accepts 64 KiB by default at most, Go 4 KiB): beyond is no real peer.
pub const MAX_TABLE: usize = 64 * 1024;
/// The size every table starts at (RFC 7540 6.5.2, SETTINGS_HEADER_TABLE_SIZE's initial value).
pub const DEFAULT_TABLE: usize = 4096;
/// Bytes an entry costs in the RFC's size accounting beyond its name and value.
const ENTRY_OVERHEAD: usize = 32;
/// Allocator header per heap block, for the memory estimates.
const ALLOC: usize = 16;

/// RFC 7541 Appendix A.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// Why a header block could not be decoded (the direction's table is unknown from then on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Truncated representation, integer overflow, bad Huffman string.
    Malformed,
    /// An index past the tables: the sender's table holds entries we never saw.
    BadIndex,
    /// A size update past [`MAX_TABLE`].
    TableTooLarge,
}

/// One entry: name and value in one allocation.
#[derive(Debug)]
struct Entry {
    bytes: Box<[u8]>,
    name_len: usize,
}

impl Entry {
    fn name(&self) -> &[u8] {
        &self.bytes[..self.name_len]
    }
    fn value(&self) -> &[u8] {
        &self.bytes[self.name_len..]
    }
    fn size(&self) -> usize {
        self.bytes.len() + ENTRY_OVERHEAD
    }
}

/// The decoding state of one direction.
#[derive(Debug)]
pub struct Decoder {
    /// Newest first (index 62 is the front).
    table: VecDeque<Entry>,
    /// RFC size of the entries.
    size: usize,
    /// The table's maximum size as the sender's encoder last set it.
    max: usize,
    /// Heap bytes of the entries (allocations), for the memory budget.
    heap: usize,
    /// Reused buffers for literals.
    name: Vec<u8>,
    value: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { table: VecDeque::new(), size: 0, max: DEFAULT_TABLE, heap: 0, name: Vec::new(), value: Vec::new() }
    }
}

impl Decoder {
    /// Heap bytes held: the entries, the table's ring, the literal buffers.
    pub fn heap_bytes(&self) -> usize {
        self.heap + self.table.capacity() * std::mem::size_of::<Entry>() + self.name.capacity() + self.value.capacity()
    }

    /// Decode one header block, handing each field to `field` in order (a name and its value).
    pub fn decode(&mut self, block: &[u8], field: &mut dyn FnMut(&[u8], &[u8])) -> Result<(), Error> {
        let mut p = 0;
        while p < block.len() {
            let b = block[p];
            if b & 0x80 != 0 {
                // Indexed field (6.1).
                let i = int(block, &mut p, 7)?;
                let (n, v) = self.get(i)?;
                field(n, v);
            } else if b & 0xe0 == 0x20 {
                // Dynamic table size update (6.3).
                let n = int(block, &mut p, 5)?;
                if n > MAX_TABLE {
                    return Err(Error::TableTooLarge);
                }
                self.max = n;
                self.evict(0);
            } else {
                // Literal (6.2): with incremental indexing (01), without (0000), never indexed (0001).
                let (prefix, index) = if b & 0x40 != 0 { (6, true) } else { (4, false) };
                let i = int(block, &mut p, prefix)?;
                let mut name = std::mem::take(&mut self.name);
                let mut value = std::mem::take(&mut self.value);
                name.clear();
                value.clear();
                let res = self.literal(block, &mut p, i, &mut name, &mut value);
                if res.is_ok() {
                    field(&name, &value);
                    if index {
                        self.insert(&name, &value);
                    }
                }
                // Buffers that grew past a typical field are not kept.
                if name.capacity() <= 4096 {
                    self.name = name;
                }
                if value.capacity() <= 4096 {
                    self.value = value;
                }
                res?;
            }
        }
        Ok(())
    }

    fn literal(
        &self,
        block: &[u8],
        p: &mut usize,
        i: usize,
        name: &mut Vec<u8>,
        value: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if i == 0 {
            string(block, p, name)?;
        } else {
            name.extend_from_slice(self.get(i)?.0);
        }
        string(block, p, value)
    }

    /// Entry `i` of the static table followed by the dynamic one (1-based).
    fn get(&self, i: usize) -> Result<(&[u8], &[u8]), Error> {
        match i {
            0 => Err(Error::BadIndex),
            1..=61 => {
                let (n, v) = STATIC[i - 1];
                Ok((n.as_bytes(), v.as_bytes()))
            }
            _ => self.table.get(i - 62).map(|e| (e.name(), e.value())).ok_or(Error::BadIndex),
        }
    }

    fn insert(&mut self, name: &[u8], value: &[u8]) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max {
            // An entry larger than the table empties it (4.4).
            self.evict(self.max);
            return;
        }
        self.evict(size);
        let mut bytes = Vec::with_capacity(name.len() + value.len());
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(value);
        let e = Entry { bytes: bytes.into_boxed_slice(), name_len: name.len() };
        self.size += e.size();
        self.heap += e.bytes.len() + ALLOC;
        self.table.push_front(e);
    }

    /// Evict the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max {
            let Some(e) = self.table.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= e.size();
            self.heap -= e.bytes.len() + ALLOC;
        }
    }
}

/// An integer with an `n`-bit prefix (5.1) at `*p`; `*p` moves past it. Bounded to 2^28 (no field or
/// table size comes near): a longer encoding is malformed.
fn int(b: &[u8], p: &mut usize, n: u32) -> Result<usize, Error> {
    let mask = (1u32 << n) - 1;
    let first = u32::from(*b.get(*p).ok_or(Error::Malformed)?) & mask;
    *p += 1;
    if first < mask {
        return Ok(first as usize);
    }
    let mut v = mask;
    let mut shift = 0;
    loop {
        let c = u32::from(*b.get(*p).ok_or(Error::Malformed)?);
        *p += 1;
        if shift > 21 {
            return Err(Error::Malformed);
        }
        v += (c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Ok(v as usize);
        }
    }
}

/// A string literal (5.2) at `*p` onto `out`.
fn string(b: &[u8], p: &mut usize, out: &mut Vec<u8>) -> Result<(), Error> {
    let huff = b.get(*p).ok_or(Error::Malformed)? & 0x80 != 0;
    let len = int(b, p, 7)?;
    let end = p.checked_add(len).filter(|&e| e <= b.len()).ok_or(Error::Malformed)?;
    let raw = &b[*p..end];
    *p = end;
    if huff {
        huffman::decode(raw, out).map_err(|_| Error::Malformed)
    } else {
        out.extend_from_slice(raw);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0)).collect()
    }

    fn fields(d: &mut Decoder, block: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        d.decode(&hex(block), &mut |n, v| {
            out.push((String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
        })
        .unwrap();
        out
    }

    fn pairs(x: &[(&str, &str)]) -> Vec<(String, String)> {
        x.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    /// The dynamic table, newest first, and its RFC size.
    fn table(d: &Decoder) -> (Vec<(String, String)>, usize) {
        let t = d
            .table
            .iter()
            .map(|e| (String::from_utf8_lossy(e.name()).into_owned(), String::from_utf8_lossy(e.value()).into_owned()))
            .collect();
        (t, d.size)
    }

    #[test]
    fn rfc7541_c2_single_representations() {
        let mut d = Decoder::default();
        // C.2.1 literal with indexing.
        assert_eq!(
            fields(&mut d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
            pairs(&[("custom-key", "custom-header")])
        );
        assert_eq!(table(&d), (pairs(&[("custom-key", "custom-header")]), 55));
        // C.2.2 without indexing, C.2.3 never indexed, C.2.4 indexed.
        let mut d = Decoder::default();
        assert_eq!(fields(&mut d, "040c 2f73 616d 706c 652f 7061 7468"), pairs(&[(":path", "/sample/path")]));
        assert_eq!(fields(&mut d, "1008 7061 7373 776f 7264 0673 6563 7265 74"), pairs(&[("password", "secret")]));
        assert_eq!(fields(&mut d, "82"), pairs(&[(":method", "GET")]));
        assert_eq!(table(&d).1, 0);
    }

    fn c3_requests(d: &mut Decoder, blocks: [&str; 3]) {
        assert_eq!(
            fields(d, blocks[0]),
            pairs(&[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")])
        );
        assert_eq!(table(d), (pairs(&[(":authority", "www.example.com")]), 57));
        assert_eq!(
            fields(d, blocks[1]),
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
                ("cache-control", "no-cache")
            ])
        );
        assert_eq!(table(d), (pairs(&[("cache-control", "no-cache"), (":authority", "www.example.com")]), 110));
        assert_eq!(
            fields(d, blocks[2]),
            pairs(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value")
            ])
        );
        assert_eq!(
            table(d),
            (
                pairs(&[
                    ("custom-key", "custom-value"),
                    ("cache-control", "no-cache"),
                    (":authority", "www.example.com")
                ]),
                164
            )
        );
    }

    #[test]
    fn rfc7541_c3_requests_without_huffman() {
        c3_requests(
            &mut Decoder::default(),
            [
                "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                "8286 84be 5808 6e6f 2d63 6163 6865",
                "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
            ],
        );
    }

    #[test]
    fn rfc7541_c4_requests_with_huffman() {
        c3_requests(
            &mut Decoder::default(),
            [
                "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                "8286 84be 5886 a8eb 1064 9cbf",
                "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            ],
        );
    }

    fn c5_responses(d: &mut Decoder, blocks: [&str; 3]) {
        let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
        let date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
        let loc = "https://www.example.com";
        let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
        // The table is 256 bytes (the example's SETTINGS): evictions happen.
        d.max = 256;
        assert_eq!(
            fields(d, blocks[0]),
            pairs(&[(":status", "302"), ("cache-control", "private"), ("date", date1), ("location", loc)])
        );
        assert_eq!(table(d).1, 222);
        assert_eq!(
            fields(d, blocks[1]),
            pairs(&[(":status", "307"), ("cache-control", "private"), ("date", date1), ("location", loc)])
        );
        assert_eq!(table(d).1, 222);
        assert_eq!(
            fields(d, blocks[2]),
            pairs(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", date2),
                ("location", loc),
                ("content-encoding", "gzip"),
                ("set-cookie", cookie)
            ])
        );
        assert_eq!(table(d), (pairs(&[("set-cookie", cookie), ("content-encoding", "gzip"), ("date", date2)]), 215));
    }

    #[test]
    fn rfc7541_c5_responses_with_evictions() {
        c5_responses(
            &mut Decoder::default(),
            [
                "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                "4803 3330 37c1 c0bf",
                "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
            ],
        );
    }

    #[test]
    fn rfc7541_c6_responses_with_huffman() {
        c5_responses(
            &mut Decoder::default(),
            [
                "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
                "4883 640e ff c1 c0 bf",
                "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            ],
        );
    }

    #[test]
    fn a_missed_table_is_an_error_never_a_guess_and_size_updates_are_bounded() {
        let mut d = Decoder::default();
        // Index 62 with an empty dynamic table: the entry was added by a block we never saw.
        assert_eq!(d.decode(&[0xbe], &mut |_, _| {}), Err(Error::BadIndex));
        // A size update to 1 MiB: refused; to 0: empties the table.
        let mut big = vec![0x3f];
        let mut n = (1usize << 20) - 31;
        while n >= 128 {
            big.push((n % 128) as u8 | 0x80);
            n /= 128;
        }
        big.push(n as u8);
        assert_eq!(d.decode(&big, &mut |_, _| {}), Err(Error::TableTooLarge));
        fields(&mut d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        assert_eq!(table(&d).1, 55);
        fields(&mut d, "20");
        assert_eq!(table(&d), (vec![], 0));
        assert!(d.heap_bytes() >= d.heap);
        // Truncated and overlong integers.
        assert_eq!(d.decode(&[0x7f], &mut |_, _| {}), Err(Error::Malformed));
        assert_eq!(d.decode(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], &mut |_, _| {}), Err(Error::Malformed));
    }
}
