//! Capture time.
//!
//! Every stage below the sinks is driven by the timestamp of the packet it is handling, never by the
//! wall clock: idle timeouts, eviction and JWT expiry are then deterministic for offline runs and tests,
//! and a capture analysed a year later still says how long a token *was* replayable when it was sniffed.

use std::fmt;

/// Microseconds since the Unix epoch, as recorded by the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    pub fn from_secs_micros(secs: i64, micros: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000).saturating_add(micros))
    }
    pub fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000))
    }
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }
    pub fn subsec_micros(self) -> i64 {
        self.0.rem_euclid(1_000_000)
    }
    /// Microseconds elapsed from `earlier` to `self` (0 if `earlier` is later: captures are not
    /// always monotonic, and a clock step must not underflow a timeout).
    pub fn micros_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0).max(0)
    }
    pub fn add_micros(self, micros: i64) -> Self {
        Timestamp(self.0.saturating_add(micros))
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2026-11-23T10:15:02.123456Z`.
    pub fn rfc3339(self) -> String {
        let secs = self.secs();
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60,
            self.subsec_micros()
        )
    }

    /// The inverse of [`Timestamp::rfc3339`]: `2026-11-23T10:15:02.123456Z` (any number of fraction
    /// digits up to 9, or none; `Z` or `+00:00`), as other sensors' events carry it. None if malformed.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = s.get(r)?;
            if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        let mut rest = &s[19..];
        let mut micros = 0i64;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return None;
            }
            let digits = &frac[..n];
            let padded: String = digits.chars().chain(std::iter::repeat('0')).take(6).collect();
            micros = padded.parse().ok()?;
            rest = &frac[n..];
        }
        if rest != "Z" && rest != "+00:00" && rest != "+0000" {
            return None;
        }
        let days = days_from_civil(y, m as u32, d as u32);
        Some(Timestamp::from_secs_micros(days * 86_400 + hh * 3600 + mm * 60 + ss, micros))
    }
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm), so that we need
/// no date crate for one conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A human duration such as `23 h 12 min`, `3 days 4 h` or `45 s`, for "replayable for ..." texts.
pub fn human_duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (d, h, m) = (s / 86_400, (s / 3600) % 24, (s / 60) % 60);
    if d >= 365 * 2 {
        format!("{} years", d / 365)
    } else if d >= 1 {
        let unit = if d == 1 { "day" } else { "days" };
        if h > 0 { format!("{d} {unit} {h} h") } else { format!("{d} {unit}") }
    } else if h >= 1 {
        if m > 0 { format!("{h} h {m} min") } else { format!("{h} h") }
    } else if m >= 1 {
        format!("{m} min")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_what_it_formats_and_refuses_the_malformed() {
        for t in [0, 42, 1_795_000_000_000_042, 951_782_400_000_000, -86_400_000_001] {
            let ts = Timestamp(t);
            assert_eq!(Timestamp::parse_rfc3339(&ts.rfc3339()), Some(ts), "{}", ts.rfc3339());
        }
        assert_eq!(Timestamp::parse_rfc3339("2026-11-18T11:06:40Z"), Some(Timestamp::from_secs(1_795_000_000)));
        assert_eq!(Timestamp::parse_rfc3339("2026-11-18T11:06:40.5+00:00"), Some(Timestamp(1_795_000_000_500_000)));
        for bad in [
            "",
            "2026-11-18",
            "2026-13-18T11:06:40Z",
            "2026-11-18T11:06:40",
            "2026-11-18T11:06:40.Z",
            "x026-11-18T11:06:40Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_formats_known_instant() {
        assert_eq!(Timestamp::from_secs_micros(0, 0).rfc3339(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp::from_secs_micros(1_795_000_000, 42).rfc3339(), "2026-11-18T11:06:40.000042Z");
        assert_eq!(Timestamp::from_secs(951_782_400).rfc3339(), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn micros_since_never_negative() {
        assert_eq!(Timestamp(5).micros_since(Timestamp(10)), 0);
        assert_eq!(Timestamp(10).micros_since(Timestamp(4)), 6);
    }

    #[test]
    fn human_duration_picks_two_units() {
        assert_eq!(human_duration(23 * 3600 + 12 * 60 + 5), "23 h 12 min");
        assert_eq!(human_duration(3 * 86_400), "3 days");
        assert_eq!(human_duration(86_400 + 7200), "1 day 2 h");
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(-600), "10 min");
        assert_eq!(human_duration(3 * 365 * 86_400), "3 years");
    }
}
