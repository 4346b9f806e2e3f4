//! Integers as decimal text through [`fmt::Write::write_str`] alone, for the reason and error
//! renderers: the same text as `{}` without `core::fmt`'s integer formatting (`pad_integral`
//! and the 64-bit division routine it calls on 32-bit targets).

use core::fmt;

/// Writes `n` in decimal: a `-` for negatives, no padding; the text of `format!("{n}")`.
pub fn write_i64<W: fmt::Write + ?Sized>(w: &mut W, n: i64) -> fmt::Result {
    if n < 0 {
        w.write_str("-")?;
    }
    write_u64(w, n.unsigned_abs())
}

/// Writes `n` in decimal, no padding; the text of `format!("{n}")`.
pub fn write_u64<W: fmt::Write + ?Sized>(w: &mut W, n: u64) -> fmt::Result {
    // u64::MAX has 20 digits. Digits are produced last first, into the end of the buffer.
    let mut buf = [0u8; 20];
    let mut len = 0;
    let mut m = n;
    for d in buf.iter_mut().rev() {
        let (q, r) = match u32::try_from(m) {
            // 32-bit division is one instruction on Cortex-M3 and up.
            Ok(s) => (u64::from(s / 10), s % 10),
            Err(_) => div10(m),
        };
        *d = b'0' + r as u8;
        m = q;
        len += 1;
        if m == 0 {
            break;
        }
    }
    let digits = buf.get(buf.len() - len..).unwrap_or_default();
    w.write_str(core::str::from_utf8(digits).unwrap_or_default())
}

/// `(n / 10, n % 10)` by long division over 16-bit limbs with 32-bit arithmetic only, so
/// 32-bit targets link no 64-bit division routine (about 900 B on thumbv7m).
fn div10(n: u64) -> (u64, u32) {
    let (mut q, mut rem) = (0u64, 0u32);
    for shift in [48u32, 32, 16, 0] {
        // rem < 10, so cur < 10 * 2^16.
        let cur = (rem << 16) | ((n >> shift) as u32 & 0xffff);
        q = (q << 16) | u64::from(cur / 10);
        rem = cur % 10;
    }
    (q, rem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};

    fn text(n: i64) -> String {
        let mut s = String::new();
        write_i64(&mut s, n).unwrap();
        s
    }

    #[test]
    fn issue13_fw_ints_render_as_display_does() {
        let mut cases = std::vec![
            0,
            1,
            -1,
            9,
            10,
            -10,
            99,
            100,
            4_294_967_295,
            4_294_967_296,
            -4_294_967_296,
            1_000_000_000_000,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        let mut x: i64 = 1;
        for _ in 0..19 {
            cases.extend([x - 1, x, x + 1, -x]);
            x = x.saturating_mul(10);
        }
        for n in cases {
            assert_eq!(text(n), n.to_string(), "{n}");
        }
        let mut s = String::new();
        write_u64(&mut s, u64::MAX).unwrap();
        assert_eq!(s, u64::MAX.to_string());
    }
}
