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

#[cfg(test)]
mod tests {
    use super::*;

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
