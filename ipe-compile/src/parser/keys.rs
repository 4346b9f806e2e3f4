//! The located error for a construct the ported real policies reached for (issue #13) that the
//! language does not have: a bracket key that is not a string literal (`labels[k]`) after an
//! attribute path. (Hierarchy membership under a request value, `x in H y`, and membership in
//! a map constant's list picked by a request key, `x in M[y]`, are in the language:
//! `parser/dynref.rs`.)

use super::{In, SyntaxError};
use winnow::stream::Location;

/// The error for `path[...]` whose key is not a string literal, at the `[` right after a path
/// (`i` is at the `[`). Dynamic keys (a key read from the request, a def parameter or an
/// element) and positional list access are not in the language: a key must be a string
/// literal.
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
        "positional list access (`list[2]`) is not supported: iterate the list with \
         `any(x in list where ...)`, or give the key as a string if this is a map"
            .to_owned()
    } else {
        format!(
            "dynamic keys are not supported: a key read from the request, a def parameter or an \
             element cannot select an entry; write the key as a string (`{map}[\"team\"]`), or \
             test the entries with `any(k, v in {map} where k == ... and ...)`"
        )
    };
    SyntaxError::located(
        start..end.max(start + 1),
        "a key in brackets must be a string literal",
        help,
    )
}
