//! Big-endian integers and length-prefixed fields of the binary protocols (PostgreSQL, MQTT, SOCKS5,
//! the prober, BER lengths): one reader, bounds-checked, never panicking, instead of a copy per parser.

/// The unsigned big-endian integer of `b` (at most 8 bytes are meaningful; more would overflow and give
/// `None`).
pub fn uint(b: &[u8]) -> Option<u64> {
    if b.len() > 8 {
        return None;
    }
    Some(b.iter().fold(0u64, |n, &x| (n << 8) | u64::from(x)))
}

/// The `u16` at byte `at` of `b`.
pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let x: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(x))
}

/// The `u32` at byte `at` of `b`.
pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let x: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(x))
}

/// A cursor over a message body: each read consumes what it returns, `None` when the body is too short.
#[derive(Clone, Copy, Debug)]
pub struct Cur<'a>(pub &'a [u8]);

impl<'a> Cur<'a> {
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (h, t) = self.0.split_at_checked(n)?;
        self.0 = t;
        Some(h)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    pub fn u16(&mut self) -> Option<u16> {
        u16_at(self.take(2)?, 0)
    }

    pub fn u32(&mut self) -> Option<u32> {
        u32_at(self.take(4)?, 0)
    }

    /// A string or binary prefixed with its `u16` length (MQTT).
    pub fn u16_prefixed(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// A string or binary prefixed with its `u8` length (SOCKS5).
    pub fn u8_prefixed(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// What is left.
    pub fn rest(&self) -> &'a [u8] {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked_and_big_endian() {
        assert_eq!(u16_at(&[1, 2, 3], 1), Some(0x0203));
        assert_eq!(u16_at(&[1, 2], 1), None);
        assert_eq!(u32_at(&[0, 0, 0, 8, 4], 0), Some(8));
        assert_eq!(u32_at(&[0; 4], usize::MAX), None);
        assert_eq!(uint(&[1, 0]), Some(256));
        assert_eq!(uint(&[]), Some(0));
        assert_eq!(uint(&[0; 9]), None);
        let mut c = Cur(&[0, 2, b'h', b'i', 7, 1, b'x']);
        assert_eq!(c.u16_prefixed(), Some(&b"hi"[..]));
        assert_eq!(c.u8(), Some(7));
        assert_eq!(c.u8_prefixed(), Some(&b"x"[..]));
        assert_eq!(c.u8(), None);
        assert!(c.rest().is_empty());
        assert_eq!(Cur(&[0, 5, b'a']).u16_prefixed(), None);
    }
}
