//! The Huffman code of HPACK (RFC 7541 Appendix B), decoding only.
//!
//! The code of Appendix B is canonical: codes of one length are consecutive and ordered by symbol, and
//! each length starts where the shorter ones ended (shifted). So the code lengths alone define it: the
//! table below is the "len in bits" column of Appendix B, and decoding walks the code one bit at a time
//! with the number of codes of each length (as zlib's `puff` does). Checked by the code being complete
//! (Kraft sum exactly 1) and by the Huffman examples of RFC 7541 Appendix C.

/// Code length in bits of each symbol 0..=255 and EOS (256), RFC 7541 Appendix B.
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12,
    10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6,
    5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22,
    22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20,
    22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28,
    27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28,
    27, 27, 27, 27, 27, 26, 30,
];

/// The longest code.
const MAX_LEN: usize = 30;
const EOS: u16 = 256;

/// Codes of each length.
const COUNTS: [u16; MAX_LEN + 1] = {
    let mut c = [0u16; MAX_LEN + 1];
    let mut s = 0;
    while s < LENGTHS.len() {
        c[LENGTHS[s] as usize] += 1;
        s += 1;
    }
    c
};

/// Symbols ordered by (code length, symbol): the order of their codes.
const SORTED: [u16; 257] = {
    let mut out = [0u16; 257];
    let mut n = 0;
    let mut len = 1;
    while len <= MAX_LEN {
        let mut s = 0;
        while s < LENGTHS.len() {
            if LENGTHS[s] as usize == len {
                out[n] = s as u16;
                n += 1;
            }
            s += 1;
        }
        len += 1;
    }
    out
};

/// Why a Huffman string is not one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

/// Decode `input` onto `out`. Errors (RFC 7541 5.2): the EOS symbol, padding longer than 7 bits or
/// not all ones.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), Invalid> {
    // The code being read: its bits so far, their number, and where codes of that length start.
    let (mut code, mut len, mut first, mut index) = (0u32, 0usize, 0u32, 0u32);
    // Whether every bit of the code being read is 1 (a valid padding is a prefix of EOS: all ones).
    let mut ones = true;
    for &byte in input {
        for k in (0..8).rev() {
            let bit = u32::from((byte >> k) & 1);
            code |= bit;
            ones &= bit == 1;
            len += 1;
            let count = u32::from(COUNTS[len]);
            if code < first + count {
                let sym = SORTED[(index + code - first) as usize];
                if sym == EOS {
                    return Err(Invalid);
                }
                out.push(sym as u8);
                (code, len, first, index, ones) = (0, 0, 0, 0, true);
                continue;
            }
            if len == MAX_LEN {
                return Err(Invalid);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
    }
    if len > 7 || !ones {
        return Err(Invalid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0)).collect()
    }

    #[test]
    fn the_code_is_complete() {
        // Kraft: the sum of 2^-len over every code is exactly 1 (in units of 2^-30).
        let sum: u64 = LENGTHS.iter().map(|&l| 1u64 << (MAX_LEN - l as usize)).sum();
        assert_eq!(sum, 1 << MAX_LEN);
    }

    #[test]
    fn rfc7541_appendix_c4_and_c6_strings() {
        for (h, want) in [
            ("f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"),
            ("a8eb 1064 9cbf", "no-cache"),
            ("25a8 49e9 5ba9 7d7f", "custom-key"),
            ("25a8 49e9 5bb8 e8b4 bf", "custom-value"),
            ("6402", "302"),
            ("aec3 771a 4b", "private"),
            ("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"),
            ("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"),
            (
                "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            ),
        ] {
            let mut out = Vec::new();
            decode(&hex(h), &mut out).unwrap();
            assert_eq!(String::from_utf8_lossy(&out), want);
        }
    }

    #[test]
    fn eos_and_bad_padding_are_errors() {
        let mut out = Vec::new();
        // 30 ones: EOS itself.
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xfc], &mut out), Err(Invalid));
        // 'a' (00011) then padding 000: not ones.
        assert_eq!(decode(&[0b0001_1000], &mut out), Err(Invalid));
        // A whole byte of padding after a full symbol: longer than 7 bits.
        out.clear();
        assert_eq!(decode(&[0b0001_1111, 0xff], &mut out), Err(Invalid));
        out.clear();
        decode(&[0b0001_1111], &mut out).unwrap();
        assert_eq!(out, b"a");
    }
}
