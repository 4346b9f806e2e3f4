//! Kubernetes quantities (issue #14): `"200m"`, `"1Gi"`, `"0.5"`, `"1e3"` as integer
//! milli-units, without allocation.
//!
//! Grammar (Kubernetes `resource.Quantity`): an optional sign, digits with an optional
//! fraction (`1`, `1.5`, `.5`, `5.`), then one suffix: none, a decimal SI suffix (`n` `u` `m`
//! `k` `M` `G` `T` `P` `E`), a binary one (`Ki` `Mi` `Gi` `Ti` `Pi` `Ei`) or a decimal
//! exponent (`e3`, `E-2`). The result is the value times 1000, rounded up (toward positive
//! infinity) to a whole milli-unit as Kubernetes' `MilliValue` does (`1n` is 1); a result
//! outside the 64-bit signed range is [`QuantityError::Overflow`].

/// Why a text is not a quantity in milli-units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QuantityError {
    /// Not the quantity grammar.
    Malformed,
    /// The value in milli-units is outside the 64-bit signed range.
    Overflow,
}

/// The quantity `s` in milli-units (see the module docs).
pub fn parse_milli(s: &str) -> Result<i64, QuantityError> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    // Mantissa digits as an integer with `frac` digits after the point; digits past 38
    // significant ones could overflow i128, so they are refused as an overflow.
    let (mut m, mut frac, mut digits, mut point) = (0i128, 0i32, 0usize, false);
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                if m > 0 || c != b'0' {
                    if digits >= 30 {
                        return Err(QuantityError::Overflow);
                    }
                    digits += 1;
                }
                m = m * 10 + i128::from(c - b'0');
                if point {
                    frac += 1;
                }
            }
            b'.' if !point => point = true,
            _ => break,
        }
        i += 1;
    }
    let mantissa_len = i - usize::from(neg || b.first() == Some(&b'+'));
    if mantissa_len == 0 || (point && mantissa_len == 1) {
        return Err(QuantityError::Malformed);
    }
    let rest = b.get(i..).unwrap_or(&[]);
    // (power of 10, power of 1024) multiplying the mantissa.
    let (p10, p1024): (i32, u32) = match rest {
        b"" => (0, 0),
        b"n" => (-9, 0),
        b"u" => (-6, 0),
        b"m" => (-3, 0),
        b"k" => (3, 0),
        b"M" => (6, 0),
        b"G" => (9, 0),
        b"T" => (12, 0),
        b"P" => (15, 0),
        b"E" => (18, 0),
        b"Ki" => (0, 1),
        b"Mi" => (0, 2),
        b"Gi" => (0, 3),
        b"Ti" => (0, 4),
        b"Pi" => (0, 5),
        b"Ei" => (0, 6),
        [b'e' | b'E', exp @ ..] => (exponent(exp)?, 0),
        _ => return Err(QuantityError::Malformed),
    };
    // value × 1000 = m × 10^(p10 + 3 - frac) × 1024^p1024
    let mut num = m;
    for _ in 0..p1024 {
        num = num.checked_mul(1024).ok_or(QuantityError::Overflow)?;
    }
    let e = p10 + 3 - frac;
    let mut den = 1i128;
    if e >= 0 {
        for _ in 0..e {
            num = num.checked_mul(10).ok_or(QuantityError::Overflow)?;
        }
    } else {
        for _ in 0..(-e) {
            den = match den.checked_mul(10) {
                Some(d) => d,
                // Dividing by more than 10^38: any nonzero value rounds to ±1 or 0.
                None => break,
            };
        }
    }
    // Rounded toward positive infinity: up for positive values, toward zero for negative.
    let q = num / den;
    let r = num % den;
    let v = if neg {
        -q
    } else if r != 0 {
        q + 1
    } else {
        q
    };
    i64::try_from(v).map_err(|_| QuantityError::Overflow)
}

/// A decimal exponent `[+-]digits` (at most 3 digits).
fn exponent(b: &[u8]) -> Result<i32, QuantityError> {
    let (neg, digits) = match b {
        [b'-', d @ ..] => (true, d),
        [b'+', d @ ..] => (false, d),
        d => (false, d),
    };
    if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(QuantityError::Malformed);
    }
    let v = digits
        .iter()
        .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_quantities_in_milli_units() {
        for (s, v) in [
            ("200m", 200),
            ("1", 1000),
            ("0.5", 500),
            (".5", 500),
            ("1.5Gi", 1_610_612_736_000),
            ("1Ki", 1_024_000),
            ("1k", 1_000_000),
            ("2M", 2_000_000_000),
            ("1n", 1),
            ("-1n", 0),
            ("1u", 1),
            ("1500u", 2),
            ("1e3", 1_000_000),
            ("1E-3", 1),
            ("-200m", -200),
            ("+3", 3000),
            ("0", 0),
            ("9223372036854775m", 9_223_372_036_854_775),
            ("9223372036854775807m", i64::MAX),
        ] {
            assert_eq!(parse_milli(s), Ok(v), "{s}");
        }
        for s in [
            "", "m", "1.5.3", "1 m", "1mi", "1KI", "-", ".", "1e", "1e1234", "0x10", "1Gb",
        ] {
            assert_eq!(parse_milli(s), Err(QuantityError::Malformed), "{s}");
        }
        for s in ["9223372036854775808m", "10E", "9Ei", "1e100"] {
            assert_eq!(parse_milli(s), Err(QuantityError::Overflow), "{s}");
        }
    }
}
