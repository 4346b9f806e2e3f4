//! Timestamps and durations (issue #14, item 6): the one runtime definition of their range,
//! their text forms and the calendar parts the time instructions compute.
//!
//! A timestamp is an `i64` of milliseconds since 1970-01-01T00:00:00Z (UTC, no leap seconds,
//! proleptic Gregorian calendar), within [`MIN_TIMESTAMP_MS`]`..=`[`MAX_TIMESTAMP_MS`] (the
//! years 0000 to 9999 of RFC 3339). A duration is an `i64` of milliseconds within
//! `-`[`MAX_DURATION_MS`]`..=`[`MAX_DURATION_MS`] (the length of that range). Every reader
//! rejects values outside these ranges ([`read::scalar`](crate::read::scalar)), so sums of a
//! few timestamps and durations stay far from `i64` overflow (see `docs/LANGUAGE.md`, "Time").
//!
//! Everything here is integer arithmetic with no allocation, no floating point and no table;
//! the device needs only [`hour`], [`weekday`] and [`time_of_day`] (a host passes it
//! milliseconds); the parsers and writers serve the host readers and the reason renderer.

use core::fmt;

/// The path of the request time, `now` in sources: a top-level timestamp attribute the host
/// (or the device, from its clock) supplies per request; the engine never reads a clock.
pub const NOW: &str = "now";

/// The earliest timestamp: 0000-01-01T00:00:00.000Z, in ms since the Unix epoch.
pub const MIN_TIMESTAMP_MS: i64 = -62_167_219_200_000;
/// The latest timestamp: 9999-12-31T23:59:59.999Z, in ms since the Unix epoch.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;
/// The largest duration magnitude, in ms: 10,000 years of 365.2425 days
/// (3,652,425 days), a little more than the width of the timestamp range.
pub const MAX_DURATION_MS: i64 = 3_652_425 * DAY_MS;

/// Milliseconds in a day, an hour, a minute and a second.
pub const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;
const SECOND_MS: i64 = 1_000;

/// Whether `ms` is a timestamp in range.
#[inline(always)]
pub const fn timestamp_ok(ms: i64) -> bool {
    ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS
}

/// Whether `ms` is a duration in range.
#[inline(always)]
pub const fn duration_ok(ms: i64) -> bool {
    ms >= -MAX_DURATION_MS && ms <= MAX_DURATION_MS
}

/// The hour of day (0 to 23) of timestamp `ms` in UTC. Any `i64` gives an answer.
#[inline]
pub const fn hour(ms: i64) -> i64 {
    ms.rem_euclid(DAY_MS) / HOUR_MS
}

/// The ISO 8601 weekday of timestamp `ms` in UTC: 1 (Monday) to 7 (Sunday). 1970-01-01 was a
/// Thursday (4).
#[inline]
pub const fn weekday(ms: i64) -> i64 {
    (ms.div_euclid(DAY_MS) + 3).rem_euclid(7) + 1
}

/// The time of day of timestamp `ms` in UTC, as a duration in ms since midnight
/// (0 to 86,399,999).
#[inline]
pub const fn time_of_day(ms: i64) -> i64 {
    ms.rem_euclid(DAY_MS)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
const fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

const fn leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

const fn month_days(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A fixed number of ASCII digits at the front of `s`, and the rest.
fn digits(s: &[u8], n: usize) -> Option<(i64, &[u8])> {
    let (head, rest) = s.split_at_checked(n)?;
    let mut v = 0i64;
    for &c in head {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some((v, rest))
}

fn byte(s: &[u8], want: u8) -> Option<&[u8]> {
    match s.split_first() {
        Some((&c, rest)) if c == want => Some(rest),
        _ => None,
    }
}

/// Parses RFC 3339 `date-time` text into ms since the epoch: `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction `.d+` (1 to 9 digits; digits past the millisecond are dropped, which is
/// the floor since a fraction is positive), then `Z` or `±HH:MM` (hours 0-23, minutes 0-59).
/// `T` and `Z` may be lower case. Second 60 (a leap second) is rejected. Cedar's `datetime`
/// text forms are accepted too (issue #14): a date alone, `YYYY-MM-DD` (midnight UTC), and an
/// offset without a colon, `±HHMM`. `None` for anything else or a result outside the
/// timestamp range (an offset can move 0000-01-01 or 9999-12-31 out of it).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let s = text.as_bytes();
    let (y, s) = digits(s, 4)?;
    let (mo, s) = digits(byte(s, b'-')?, 2)?;
    let (d, s) = digits(byte(s, b'-')?, 2)?;
    let s = match s.split_first() {
        Some((b'T' | b't', rest)) => rest,
        // Cedar's date-only form: midnight UTC.
        None if (1..=12).contains(&mo) && d >= 1 && d <= month_days(y, mo) => {
            let ms = days_from_civil(y, mo, d) * DAY_MS;
            return timestamp_ok(ms).then_some(ms);
        }
        _ => return None,
    };
    let (h, s) = digits(s, 2)?;
    let (mi, s) = digits(byte(s, b':')?, 2)?;
    let (sec, mut s) = digits(byte(s, b':')?, 2)?;
    if !(1..=12).contains(&mo) || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut frac_ms = 0i64;
    if let Some(rest) = byte(s, b'.') {
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        let mut scale = 100;
        for &c in rest.iter().take(n.min(3)) {
            frac_ms += i64::from(c - b'0') * scale;
            scale /= 10;
        }
        s = rest.get(n..)?;
    }
    let offset_ms = match s.split_first() {
        Some((b'Z' | b'z', [])) => 0,
        Some((&sign @ (b'+' | b'-'), rest)) => {
            let (oh, rest) = digits(rest, 2)?;
            // `±HH:MM`, or Cedar's `±HHMM`.
            let (om, rest) = digits(byte(rest, b':').unwrap_or(rest), 2)?;
            if !rest.is_empty() || oh > 23 || om > 59 {
                return None;
            }
            let o = oh * HOUR_MS + om * MINUTE_MS;
            if sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let ms = days_from_civil(y, mo, d) * DAY_MS
        + h * HOUR_MS
        + mi * MINUTE_MS
        + sec * SECOND_MS
        + frac_ms
        - offset_ms;
    timestamp_ok(ms).then_some(ms)
}

/// The units of a duration text, largest first, with their length in ms.
const UNITS: [(&str, i64); 5] = [
    ("d", DAY_MS),
    ("h", HOUR_MS),
    ("m", MINUTE_MS),
    ("s", SECOND_MS),
    ("ms", 1),
];

/// Parses duration text (Cedar's `duration` form): an optional `-`, then one or more
/// `<digits><unit>` parts with units `d`, `h`, `m`, `s`, `ms`, each at most once and largest
/// first (`1h30m`, `90s`, `-500ms`, `1d2h3m4s5ms`). `None` for anything else or a total
/// outside the duration range.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (neg, mut s) = match text.as_bytes().split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text.as_bytes()),
    };
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut next_unit = 0usize;
    while !s.is_empty() {
        let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 16 {
            return None;
        }
        let (v, rest) = digits(s, n)?;
        let u = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let (unit, rest) = rest.split_at_checked(u)?;
        let i = UNITS.iter().position(|(name, _)| name.as_bytes() == unit)?;
        if i < next_unit {
            return None;
        }
        next_unit = i + 1;
        let (_, len) = UNITS.get(i)?;
        total = total.checked_add(v.checked_mul(*len)?)?;
        if total > MAX_DURATION_MS {
            return None;
        }
        s = rest;
    }
    Some(if neg { -total } else { total })
}

fn two<W: fmt::Write + ?Sized>(w: &mut W, v: i64) -> fmt::Result {
    let d = |x: i64| char::from(b'0' + (x.rem_euclid(10)) as u8);
    w.write_char(d(v / 10))?;
    w.write_char(d(v))
}

/// Writes timestamp `ms` as RFC 3339 text in UTC: `2026-12-01T10:00:00Z`, with `.mmm` when
/// the milliseconds are not zero. Years outside 0000-9999 (never read from a request) are
/// written with as many digits as they need and a sign when negative.
pub fn write_rfc3339<W: fmt::Write + ?Sized>(w: &mut W, ms: i64) -> fmt::Result {
    let days = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        two(w, y / 100)?;
        two(w, y % 100)?;
    } else {
        crate::digits::write_i64(w, y)?;
    }
    w.write_char('-')?;
    two(w, m)?;
    w.write_char('-')?;
    two(w, d)?;
    w.write_char('T')?;
    two(w, in_day / HOUR_MS)?;
    w.write_char(':')?;
    two(w, in_day % HOUR_MS / MINUTE_MS)?;
    w.write_char(':')?;
    two(w, in_day % MINUTE_MS / SECOND_MS)?;
    let frac = in_day % SECOND_MS;
    if frac != 0 {
        w.write_char('.')?;
        w.write_char(char::from(b'0' + (frac / 100) as u8))?;
        two(w, frac % 100)?;
    }
    w.write_char('Z')
}

/// Writes duration `ms` in the form [`parse_duration`] reads, largest units first, zero parts
/// left out (`1h30m`, `-500ms`, `0ms` for zero).
pub fn write_duration<W: fmt::Write + ?Sized>(w: &mut W, ms: i64) -> fmt::Result {
    if ms == 0 {
        return w.write_str("0ms");
    }
    if ms < 0 {
        w.write_char('-')?;
    }
    let mut rest = ms.unsigned_abs();
    for (name, len) in UNITS {
        let len = len.unsigned_abs();
        let n = rest / len;
        rest %= len;
        if n > 0 {
            crate::digits::write_u64(w, n)?;
            w.write_str(name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn text(ms: i64) -> String {
        let mut s = String::new();
        write_rfc3339(&mut s, ms).unwrap();
        s
    }

    #[test]
    fn issue14_rfc3339_reads_offsets_fractions_and_edges() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01t00:00:00.0019z"), Some(1));
        assert_eq!(parse_rfc3339("1970-01-01T05:30:00+05:30"), Some(0));
        // Cedar's `datetime` forms: a date alone (midnight UTC), an offset without a colon.
        assert_eq!(parse_rfc3339("1970-01-02"), Some(DAY_MS));
        assert_eq!(parse_rfc3339("1970-01-01T05:30:00+0530"), Some(0));
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:00.001-0100"),
            Some(HOUR_MS + 1)
        );
        assert_eq!(parse_rfc3339("2024-02-30"), None);
        assert_eq!(parse_rfc3339("2024-1-01"), None);
        assert_eq!(parse_rfc3339("2024-01-01T"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00+053"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00+05300"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00+2400"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00+0060"), None);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00+05:3"), None);
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        assert_eq!(parse_rfc3339("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2100-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(
            parse_rfc3339("0000-01-01T00:00:00Z"),
            Some(MIN_TIMESTAMP_MS)
        );
        assert_eq!(
            parse_rfc3339("9999-12-31T23:59:59.999Z"),
            Some(MAX_TIMESTAMP_MS)
        );
        assert_eq!(parse_rfc3339("0000-01-01T00:00:00+00:01"), None);
        for bad in [
            "",
            "2026-12-0",
            "2026-12-01 10:00:00Z",
            "2026-12-01T10:00:00",
            "2026-12-01T24:00:00Z",
            "2026-12-01T23:59:60Z",
            "2026-13-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01T10:00:00.1234567890Z",
            "2026-12-01T10:00:00+053",
            "2026-12-01T10:00:00+24:00",
            "2026-12-01T10:00:00Zx",
            "+2026-12-01T10:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn issue14_rfc3339_writes_what_it_reads() {
        for ms in [
            0,
            -1,
            1,
            MIN_TIMESTAMP_MS,
            MAX_TIMESTAMP_MS,
            1_709_164_800_123,
        ] {
            assert_eq!(parse_rfc3339(&text(ms)), Some(ms), "{}", text(ms));
        }
        assert_eq!(text(1_796_119_200_000), "2026-12-01T10:00:00Z");
        assert_eq!(text(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn issue14_calendar_parts() {
        // 1970-01-01 was a Thursday; 2026-12-01 is a Tuesday.
        assert_eq!(weekday(0), 4);
        assert_eq!(weekday(-1), 3);
        assert_eq!(weekday(1_796_119_200_000), 2);
        assert_eq!(hour(1_796_119_200_000), 10);
        assert_eq!(hour(-1), 23);
        assert_eq!(time_of_day(-1), DAY_MS - 1);
        assert_eq!(hour(i64::MIN), hour(i64::MIN.rem_euclid(DAY_MS)));
    }

    #[test]
    fn issue14_durations() {
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("-500ms"), Some(-500));
        assert_eq!(parse_duration("1d2h3m4s5ms"), Some(93_784_005));
        assert_eq!(parse_duration("3652425d"), Some(MAX_DURATION_MS));
        assert_eq!(parse_duration("3652426d"), None);
        for bad in ["", "-", "1", "h", "1m1h", "1h1h", "1 h", "1H", "1.5h", "1w"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let mut s = String::new();
        write_duration(&mut s, -93_784_005).unwrap();
        assert_eq!(s, "-1d2h3m4s5ms");
    }
}
