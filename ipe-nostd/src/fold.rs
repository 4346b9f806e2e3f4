//! Case-insensitive string tests for `lower(x)` (issue #14), without materialising the lower-case
//! string: the haystack is lowered char by char ([`char::to_lowercase`], the Unicode lowercase
//! mapping of each char, context-free: `Σ` is always `σ`, `İ` is `i` + U+0307) as it is
//! compared with the needle, which the compiler has checked is lower case already. One
//! definition for the interpreter, the JIT's helper and the tests.

use core::str::Chars;

/// The chars of `s` lowered one by one.
fn lowered(
    s: &str,
) -> core::iter::FlatMap<Chars<'_>, core::char::ToLowercase, fn(char) -> core::char::ToLowercase> {
    s.chars()
        .flat_map(char::to_lowercase as fn(char) -> core::char::ToLowercase)
}

/// Whether the chars of `it` begin with the chars of `needle`.
fn begins<I: Iterator<Item = char>>(mut it: I, needle: &str) -> bool {
    needle.chars().all(|c| it.next() == Some(c))
}

/// `lower(hay) == needle`.
pub fn eq(hay: &str, needle: &str) -> bool {
    lowered(hay).eq(needle.chars())
}

/// `lower(hay) starts_with needle`.
pub fn starts_with(hay: &str, needle: &str) -> bool {
    begins(lowered(hay), needle)
}

/// `lower(hay) ends_with needle`.
pub fn ends_with(hay: &str, needle: &str) -> bool {
    let mut it = lowered(hay).rev();
    needle.chars().rev().all(|c| it.next() == Some(c))
}

/// `lower(hay) contains needle`: at every position of the lowered chars (worst case
/// `chars(hay) * chars(needle)` comparisons, no allocation).
pub fn contains(hay: &str, needle: &str) -> bool {
    let mut it = lowered(hay);
    loop {
        if begins(it.clone(), needle) {
            return true;
        }
        if it.next().is_none() {
            return false;
        }
    }
}

/// Both sides folded (issue #14, session 9: `lower(a) op lower(b)`, the `str.fold`
/// instruction).
///
/// `lower(a) == lower(b)`.
pub fn eq_both(a: &str, b: &str) -> bool {
    lowered(a).eq(lowered(b))
}

/// `lower(a) starts_with lower(b)`.
pub fn starts_with_both(a: &str, b: &str) -> bool {
    let mut it = lowered(a);
    lowered(b).all(|c| it.next() == Some(c))
}

/// `lower(a) ends_with lower(b)`.
pub fn ends_with_both(a: &str, b: &str) -> bool {
    let mut it = lowered(a).rev();
    lowered(b).rev().all(|c| it.next() == Some(c))
}

/// `lower(a) contains lower(b)` (worst case `chars(a) * chars(b)` comparisons).
pub fn contains_both(a: &str, b: &str) -> bool {
    let mut it = lowered(a);
    loop {
        let mut h = it.clone();
        if lowered(b).all(|c| h.next() == Some(c)) {
            return true;
        }
        if it.next().is_none() {
            return false;
        }
    }
}

/// The chars of a `like` pattern piece with its escapes resolved (`\x` is `x`, a final `\`
/// itself; see [`crate::pattern`]).
#[derive(Clone)]
struct Unescaped<'a>(Chars<'a>);

impl Iterator for Unescaped<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        match self.0.next()? {
            '\\' => Some(self.0.next().unwrap_or('\\')),
            c => Some(c),
        }
    }
}

/// The lowered chars of pattern piece `p` (escapes resolved, then each char lowered: a `*`
/// or `\` lowers to itself, so this is also the piece of the lowered pattern).
fn piece(
    p: &str,
) -> core::iter::FlatMap<Unescaped<'_>, core::char::ToLowercase, fn(char) -> core::char::ToLowercase>
{
    Unescaped(p.chars()).flat_map(char::to_lowercase as fn(char) -> core::char::ToLowercase)
}

/// The byte offset of the first unescaped `*` of pattern `p`.
fn next_star(p: &str) -> Option<usize> {
    let b = p.as_bytes();
    let mut k = 0;
    while let Some(&c) = b.get(k) {
        match c {
            b'*' => return Some(k),
            b'\\' => k += 2,
            _ => k += 1,
        }
    }
    None
}

/// `lower(hay) like lower(pat)` over the stored `like` pattern `pat` ([`crate::pattern`]): the
/// same walk as [`crate::pattern::like`] (the first piece a prefix, each middle piece at its
/// leftmost place, the last a suffix after them), over the lowered chars of both, without
/// allocating. Worst case `chars(hay) * chars(pat)` comparisons.
pub fn like(hay: &str, pat: &str) -> bool {
    let Some(star) = next_star(pat) else {
        return lowered(hay).eq(piece(pat));
    };
    let mut it = lowered(hay);
    // `pos`: the lowered chars of `hay` consumed so far.
    let mut pos = 0usize;
    for c in piece(pat.get(..star).unwrap_or("")) {
        if it.next() != Some(c) {
            return false;
        }
        pos += 1;
    }
    let mut rest = pat.get(star + 1..).unwrap_or("");
    while let Some(star) = next_star(rest) {
        let p = rest.get(..star).unwrap_or("");
        loop {
            let mut h = it.clone();
            let mut n = 0usize;
            if piece(p).all(|c| {
                n += 1;
                h.next() == Some(c)
            }) {
                it = h;
                pos += n;
                break;
            }
            if it.next().is_none() {
                return false;
            }
            pos += 1;
        }
        rest = rest.get(star + 1..).unwrap_or("");
    }
    // The last piece: a suffix, not overlapping what the earlier pieces used.
    let need = piece(rest).count();
    let total = pos + it.clone().count();
    match total.checked_sub(need) {
        Some(at) if at >= pos => {
            for _ in pos..at {
                it.next();
            }
            it.eq(piece(rest))
        }
        _ => false,
    }
}

/// `str.fold op`: `lower(a) op lower(b)` for the operators the instruction takes
/// (`lower.eq`, `lower.starts_with`, `lower.ends_with`, `lower.contains`, `like`); false for
/// any other (which the verifier refuses).
pub fn test_both(op: crate::isa::StrOp, a: &str, b: &str) -> bool {
    use crate::isa::StrOp;
    match op {
        StrOp::LowerEq => eq_both(a, b),
        StrOp::LowerStartsWith => starts_with_both(a, b),
        StrOp::LowerEndsWith => ends_with_both(a, b),
        StrOp::LowerContains => contains_both(a, b),
        StrOp::Like => like(a, b),
        _ => false,
    }
}

/// Whether `op` is one `str.fold` takes.
pub const fn folds(op: crate::isa::StrOp) -> bool {
    use crate::isa::StrOp;
    matches!(
        op,
        StrOp::LowerEq
            | StrOp::LowerStartsWith
            | StrOp::LowerEndsWith
            | StrOp::LowerContains
            | StrOp::Like
    )
}

/// Calls `f` with the lower-case UTF-8 bytes of each char of `s` in turn (through a 4-byte
/// buffer; the `matches` DFA's input for `lower(s)`); stops early when `f` returns false.
pub fn for_each_lowered_byte(s: &str, mut f: impl FnMut(u8) -> bool) -> bool {
    let mut buf = [0u8; 4];
    for c in lowered(s) {
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            if !f(b) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue14_both_sides_fold() {
        assert!(eq_both("ÄB", "äB"));
        assert!(eq_both("ΟΔΟΣ", "οδοΣ"));
        assert!(!eq_both("ΟΔΟΣ", "οδος"));
        assert!(eq_both("İ", "i\u{307}"));
        assert!(!eq_both("ab", "abc"));
        assert!(starts_with_both("Hello", "HE"));
        assert!(!starts_with_both("He", "HEL"));
        assert!(ends_with_both("WWW.Example.COM", ".EXAMPLE.com"));
        assert!(contains_both("xxABab", "BAB"));
        assert!(!contains_both("", "a"));
        assert!(contains_both("", ""));
    }

    #[test]
    fn issue14_like_over_folded_chars() {
        assert!(like("WWW.EXAMPLE.COM", "*.example.com"));
        assert!(like("Api.Example.Com", "api.*.com"));
        assert!(!like("API.EXAMPLE.ORG", "*.example.com"));
        assert!(like("ARN:AWS:IAM::1:USER/Bob", "arn:aws:iam::*:user/*"));
        assert!(like("A*B", "a\\*b"));
        assert!(!like("AXB", "a\\*b"));
        assert!(like("", "*"));
        assert!(like("abc", "***"));
        assert!(!like("ab", "a*b*c"));
        assert!(like("ÄBC", "äb*"));
        assert!(like("xİ", "x*\u{307}"));
        assert!(like("İ", "i*"));
        assert!(!like("aXa", "a*a*a"));
        assert!(like("aXaYa", "a*a*a"));
        assert!(like("ABAB", "*ab"));
        for (h, p) in [
            ("abcabc", "*bc*bc"),
            ("ab", "*a*b*"),
            ("a", "a*a"),
            ("aa", "a*a"),
        ] {
            assert_eq!(like(h, p), crate::pattern::like(h, p), "{h} {p}");
        }
    }

    #[test]
    fn issue14_lowered_tests_fold_each_char() {
        assert!(eq("ÄB", "äb"));
        assert!(eq("AbC", "abc"));
        assert!(!eq("ABC", "ABC"));
        assert!(!eq("ab", "abc"));
        assert!(eq("", ""));
        // Context-free: a final capital sigma is `σ`, not `ς`.
        assert!(eq("ΟΔΟΣ", "οδοσ"));
        // `İ` lowers to two chars.
        assert!(eq("İ", "i\u{307}"));
        assert!(starts_with("İX", "i"));
        assert!(contains("AİB", "\u{307}b"));
        assert!(ends_with("xİ", "\u{307}"));
        assert!(starts_with("Hello", "he"));
        assert!(starts_with("Hello", ""));
        assert!(!starts_with("He", "hel"));
        assert!(ends_with("WORLD.Example.COM", ".example.com"));
        assert!(!ends_with("M", "om"));
        assert!(contains("XXabAB", "bab"));
        assert!(contains("", ""));
        assert!(!contains("", "a"));
        assert!(contains("aaAB", "aab"));
        assert!(!contains("aaAB", "aba"));
    }
}
