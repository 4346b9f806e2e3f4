//! The located error for a construct the ported real policies reached for (issue #13) that the
//! language does not have: a bracket key that is not a string literal (`labels[k]`) after an
//! attribute path. (Hierarchy membership under a request value, `x in H y`, and membership in
//! a map constant's list picked by a request key, `x in M[y]`, are in the language:
//! `parser/dynref.rs`.)

use super::{In, SyntaxError};
use winnow::stream::{Location, Stream};

/// The length of an integer index in brackets at the start of `s` (`[2]`, `[-1]`, no spaces),
/// if `s` starts with one.
fn index_len(s: &str) -> Option<usize> {
    let inner = s.strip_prefix('[')?;
    let digits = inner.strip_prefix('-').unwrap_or(inner);
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    let close = digits.get(n..)?.starts_with(']');
    (n > 0 && close).then(|| 1 + (inner.len() - digits.len()) + n + 1)
}

/// Whether an integer index in brackets follows (positional list access, session 7).
pub(super) fn index_follows(i: &In<'_>) -> bool {
    let s: &str = i.input.as_ref();
    index_len(s).is_some()
}

/// Consumes the integer index in brackets [`index_follows`] saw: its text (`[2]`) and its
/// end offset. The checker validates it (`check::positional`).
pub(super) fn index(i: &mut In<'_>) -> (String, usize) {
    let s: &str = i.input.as_ref();
    let n = index_len(s).unwrap_or(0);
    let text = s.get(..n).unwrap_or("").to_owned();
    let start = i.current_token_start();
    let _ = i.next_slice(n);
    (text, start + n)
}

/// The error for `path[...]` whose key is neither a string literal nor a position (`[2]`,
/// session 7), at the `[` right after a path (`i` is at the `[`). Dynamic keys (a key read
/// from the request, a def parameter or an element) are not in the language.
pub(super) fn dynamic_key_error(i: &In<'_>, map: &str) -> SyntaxError {
    let s: &str = i.input.as_ref();
    let start = i.current_token_start();
    // The key as written: up to the closing `]` on the same line (or the end of the line).
    let inner = s.get(1..).unwrap_or("");
    let len = inner.find([']', '\n']).map_or(inner.len(), |n| {
        n + usize::from(inner.get(n..).is_some_and(|r| r.starts_with(']')))
    });
    let key = inner.get(..len).unwrap_or("").trim_end_matches(']').trim();
    let end = start + 1 + len;
    let help = if !key.is_empty()
        && key
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        "a list position is an integer written right after the path, without spaces \
         (`list[2]`, `list[-1]`); give the key as a string if this is a map"
            .to_owned()
    } else {
        format!(
            "a key in brackets is a string (`{map}[\"team\"]`) or, where a value is read, one \
             attribute path read at run time (`{map}[params.key]`, issue #13); test entries \
             otherwise with `any(k, v in {map} where k == ... and ...)`"
        )
    };
    SyntaxError::located(
        start..end.max(start + 1),
        "a key in brackets must be a string literal",
        help,
    )
}
