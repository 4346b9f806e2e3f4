//! Timestamp, duration and UTC offset text (issue #14) for the compiler and the reference
//! evaluator: compile-time literals and request values. Independent of
//! [`ipe_nostd::time`], the runtimes' reader, on purpose (the evaluator is the oracle): RFC
//! 3339 goes through the `time` crate.

use ipe_nostd::time::{MAX_DURATION_MS, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// RFC 3339 text to ms since the Unix epoch (`docs/LANGUAGE.md`, "Time"): `T`/`Z` in either
/// case, a fraction of 1 to 9 digits (truncated to the millisecond), `Z` or `±HH:MM`; no leap
/// second; `None` outside years 0000 to 9999 in UTC. Also Cedar's `datetime` forms (issue
/// #14): `YYYY-MM-DD` alone (midnight UTC) and an offset `±HHMM` without a colon, read as the
/// RFC 3339 text they stand for.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let n = b.len();
    if n == 10 {
        return parse_rfc3339_text(&format!("{text}T00:00:00Z"));
    }
    let colonless = n >= 24
        && matches!(b.get(n - 5), Some(b'+' | b'-'))
        && b.get(n - 4..)
            .is_some_and(|t| t.iter().all(u8::is_ascii_digit));
    if colonless {
        let (head, mm) = text.split_at(n - 2);
        return parse_rfc3339_text(&format!("{head}:{mm}"));
    }
    parse_rfc3339_text(text)
}

/// [`parse_timestamp`] of RFC 3339 text proper.
fn parse_rfc3339_text(text: &str) -> Option<i64> {
    // The crate reads a leap second `:60` as `:59.999999999` and accepts a space for `T`
    // (RFC 3339's note); the language refuses both.
    if text.get(17..19) == Some("60") || !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    let frac = text
        .split_once('.')
        .map(|(_, f)| f.bytes().take_while(u8::is_ascii_digit).count());
    if frac.is_some_and(|n| !(1..=9).contains(&n)) {
        return None;
    }
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let ms = i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).ok()?;
    (MIN_TIMESTAMP_MS..=MAX_TIMESTAMP_MS)
        .contains(&ms)
        .then_some(ms)
}

/// Duration text to ms: `-`? then `<digits><unit>` parts, units `d h m s ms` each at most
/// once and largest first; `None` otherwise or beyond 10,000 years.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    const UNITS: [(&str, i128); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut total: i128 = 0;
    let mut rest = body;
    let mut last: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_end = rest[digits..]
            .find(|c: char| !c.is_ascii_lowercase())
            .map_or(rest.len(), |n| digits + n);
        let (num, unit) = (&rest[..digits], &rest[digits..unit_end]);
        if num.is_empty() || num.len() > 16 {
            return None;
        }
        let idx = UNITS.iter().position(|(u, _)| *u == unit)?;
        if last.is_some_and(|l| idx <= l) {
            return None;
        }
        last = Some(idx);
        total += num.parse::<i128>().ok()? * UNITS[idx].1;
        rest = &rest[unit_end..];
    }
    if total > i128::from(MAX_DURATION_MS) {
        return None;
    }
    let total = i64::try_from(total).ok()?;
    Some(if neg { -total } else { total })
}

/// A fixed UTC offset for `hour`, `weekday` and `time_of_day`, in ms: `UTC`, `Z` or
/// `±HH:MM` (hours 0 to 23, minutes 0 to 59). Named time zones are not offsets: `None`.
pub fn parse_offset(text: &str) -> Option<i64> {
    if text == "UTC" || text == "Z" {
        return Some(0);
    }
    let b = text.as_bytes();
    if !text.is_ascii() || b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let num = |s: &str| {
        (s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let (h, m) = (num(&text[1..3])?, num(&text[4..6])?);
    (h <= 23 && m <= 59).then_some(sign * (h * 3_600_000 + m * 60_000))
}

/// A timestamp as reasons show it: RFC 3339 in UTC, `.mmm` only when the milliseconds are
/// not zero.
pub fn format_timestamp(ms: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return ms.to_string();
    };
    let frac = ms.rem_euclid(1000);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if frac != 0 {
        s.push_str(&format!(".{frac:03}"));
    }
    s.push('Z');
    s
}

/// A duration as reasons show it: largest units first, zero parts left out (`1h30m`), `0ms`
/// for zero.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0ms".to_owned();
    }
    let mut s = String::new();
    if ms < 0 {
        s.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (u, len) in [
        ("d", 86_400_000u64),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= len {
            s.push_str(&format!("{}{u}", rest / len));
            rest %= len;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue14_the_evaluator_reads_what_the_runtime_reads() {
        for t in [
            "1970-01-01T00:00:00Z",
            "1970-01-01t00:00:00.0019z",
            "2024-02-29T23:59:59.999-05:30",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00+00:01",
            "2023-02-29T00:00:00Z",
            "2026-12-01T23:59:60Z",
            "2026-12-01T10:00:00.1234567890Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01 10:00:00Z",
            "2026-12-01T10:00:00+0530",
            "2024-10-15T11:35:00+0100",
            "2024-10-15T11:35:00.123-0100",
            "2024-10-15T11:35:00.5+0000",
            "2024-10-15T11:35:00+2400",
            "2024-10-15T11:35:00+0160",
            "2024-10-15T11:35:00+01000",
            "2024-10-15T11:35:00+010",
            "0000-01-01T00:00:00+0001",
            "2024-10-15",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "0000-01-01",
            "9999-12-31",
            "2024-10-1x",
            "2024-10-15T",
            "2024-10-15Z",
        ] {
            assert_eq!(parse_timestamp(t), ipe_nostd::time::parse_rfc3339(t), "{t}");
        }
        for d in [
            "1h30m",
            "-500ms",
            "1d2h3m4s5ms",
            "3652426d",
            "1m1h",
            "1H",
            "",
            "-",
        ] {
            assert_eq!(parse_duration(d), ipe_nostd::time::parse_duration(d), "{d}");
        }
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(parse_offset("+05:30"), Some(19_800_000));
        assert_eq!(parse_offset("Europe/Paris"), None);
        assert_eq!(parse_offset("+\u{e9}:0"), None);
        assert_eq!(parse_offset("-23:59"), Some(-86_340_000));
    }
}
