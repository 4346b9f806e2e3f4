//! `segment(x, sep, i)` (issue #14): one piece of a string split on a literal separator, as a
//! borrowed slice of the string (no copy, no allocation).
//!
//! The pieces are those of splitting `x` from the left at every non-overlapping occurrence of
//! `sep` (`str::split`): `"a//b"` on `"/"` is `"a"`, `""`, `"b"`; a string without `sep` is
//! one piece, itself; the empty string is one empty piece. `i` counts from 0 at the left;
//! a negative `i` counts from the end of the same list (`-1` is the last piece). There is no
//! piece for an `i` outside the list, nor for an empty `sep` (the compiler refuses one and the
//! verifier rejects a bundle naming one).
//!
//! The search is a byte-wise scan ([`crate::path::find_bytes`]): at most
//! `len(x) * len(sep)` byte comparisons per pass, and a negative `i` makes two passes (one to
//! count the pieces).

use crate::path::find_bytes;

/// The longest piece `segment` gives, in bytes (16 MiB − 1): a longer piece is no piece, on
/// every engine (the interpreter holds a piece's length in 24 bits, issue #15's 16-byte cells).
pub const MAX_PIECE: usize = 0xFF_FFFF;

/// The pieces of `text` between the occurrences of the non-empty `sep`, left to right.
fn pieces<'s, 'p>(text: &'s str, sep: &'p str) -> impl Iterator<Item = &'s str> + use<'s, 'p> {
    let mut rest = Some(text);
    let step = sep.len();
    core::iter::from_fn(move || {
        let r = rest?;
        match find_bytes(r, sep) {
            Some(at) => {
                rest = r.get(at.wrapping_add(step)..);
                r.get(..at)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Piece `index` of `text` split on `sep` (negative: from the end), or `None` when there is no
/// such piece, `sep` is empty or the piece is longer than [`MAX_PIECE`].
pub fn segment<'s>(text: &'s str, sep: &str, index: i64) -> Option<&'s str> {
    if sep.is_empty() {
        return None;
    }
    let at = if index >= 0 {
        usize::try_from(index).ok()?
    } else {
        let n = pieces(text, sep).count();
        let back = usize::try_from(index.checked_neg()?).ok()?;
        n.checked_sub(back)?
    };
    pieces(text, sep).nth(at).filter(|p| p.len() <= MAX_PIECE)
}

/// The byte range of [`segment`]'s piece inside `text` (`start`, `len`), for native code that
/// keeps its own pointer to `text`.
pub fn segment_range(text: &str, sep: &str, index: i64) -> Option<(usize, usize)> {
    let piece = segment(text, sep, index)?;
    let start = (piece.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    Some((start, piece.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue14_segment_counts_from_both_ends() {
        let img = "registry.example.com/team/app:1.2";
        assert_eq!(segment(img, "/", 0), Some("registry.example.com"));
        assert_eq!(segment(img, "/", 1), Some("team"));
        assert_eq!(segment(img, "/", 2), Some("app:1.2"));
        assert_eq!(segment(img, "/", 3), None);
        assert_eq!(segment(img, "/", -1), Some("app:1.2"));
        assert_eq!(segment(img, "/", -3), Some("registry.example.com"));
        assert_eq!(segment(img, "/", -4), None);
        assert_eq!(segment(img, "/", i64::MIN), None);
        assert_eq!(segment(img, "/", i64::MAX), None);
    }

    #[test]
    fn issue14_segment_keeps_empty_pieces_and_multi_byte_separators() {
        assert_eq!(segment("/api/v1", "/", 0), Some(""));
        assert_eq!(segment("/api/v1", "/", 1), Some("api"));
        assert_eq!(segment("a//b", "/", 1), Some(""));
        assert_eq!(segment("", "/", 0), Some(""));
        assert_eq!(segment("", "/", -1), Some(""));
        assert_eq!(segment("", "/", 1), None);
        assert_eq!(segment("abc", "/", 0), Some("abc"));
        assert_eq!(segment("a::b::c", "::", -1), Some("c"));
        assert_eq!(segment("aaa", "aa", 0), Some(""));
        assert_eq!(segment("aaa", "aa", -1), Some("a"));
        assert_eq!(segment("é→ü→ö", "→", 2), Some("ö"));
        assert_eq!(segment("abc", "", 0), None);
        assert_eq!(segment_range("x/yz", "/", 1), Some((2, 2)));
    }
}
