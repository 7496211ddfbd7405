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
