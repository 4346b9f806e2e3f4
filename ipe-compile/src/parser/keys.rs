//! Located errors for two constructs the ported real policies reached for (issue #13) that the
//! language does not have: a bracket key that is not a string literal (`labels[k]`) and
//! hierarchy membership with an entity that is not a literal (`principal in teams
//! resource.readers`, `x in h g` with `g` a template parameter). Each comes from one function,
//! so a change that makes the construct valid bypasses (or removes) that function only.

use super::{peek_word, In, SyntaxError};
use winnow::stream::Location;

/// Words that may follow a complete `x in path` expression (operators, clause and item
/// keywords): anything else there is read as an attempted entity.
const FOLLOWERS: [&str; 17] = [
    "and",
    "or",
    "where",
    "requires",
    "denies",
    "permits",
    "with",
    "metadata",
    "triggers",
    "policy",
    "group",
    "schema",
    "default",
    "def",
    "instance",
    "const",
    "hierarchy",
];

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

/// The error for hierarchy membership written with an entity that is not a string literal
/// (`x in H y`, `y` a path or a template parameter), when the next word after `x in H` is such
/// an entity; `None` when it is anything else (the caller goes on).
pub(super) fn hierarchy_entity_error(i: &In<'_>, hierarchy: &str) -> Option<SyntaxError> {
    let word = peek_word(i);
    if word.is_empty() || FOLLOWERS.contains(&word) {
        return None;
    }
    let s: &str = i.input.as_ref();
    // The whole path `a.b.c` after the hierarchy's name.
    let len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .unwrap_or(s.len());
    // `name:` starts something else (a metadata entry, a named argument).
    if s.get(len..)
        .is_some_and(|r| r.trim_start().starts_with(':'))
    {
        return None;
    }
    let start = i.current_token_start();
    let entity = s.get(..len).unwrap_or(word);
    Some(SyntaxError::located(
        start..start + len,
        "hierarchy membership takes a literal entity",
        format!(
            "write the entity as a string (`x in {hierarchy} \"admins\"`); an entity read from \
             the request or given by a template parameter (`{entity}`) is not supported: with \
             ancestors carried by the request, test them with `any(p in ... where p == ...)`"
        ),
    ))
}
