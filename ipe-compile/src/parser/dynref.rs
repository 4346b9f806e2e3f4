//! `x in H value`: hierarchy membership under an entity given by a request path or a
//! def/template parameter (issue #13, `docs/LANGUAGE.md`, "Hierarchy membership of request
//! values").

use super::{path, peek_word, In, PResult, RESERVED};
use crate::ast::{DataRef, Expr, ExprKind, Name};

/// Words that may follow a complete condition in a policy: a path after `in H` is never one
/// of them, so `x in tags` followed by `requires`, `with reason`, ... keeps its meaning.
const CLAUSE_WORDS: [&str; 6] = [
    "requires", "denies", "permits", "with", "metadata", "triggers",
];

/// Words that start an item when a name (or `{`) follows them (`policy P:`, `group G
/// first-match {`, `schema {`, ...); followed by anything else they are a value's path
/// (`principal in teams group`).
const ITEM_WORDS: [&str; 8] = [
    "policy",
    "schema",
    "default",
    "const",
    "hierarchy",
    "def",
    "instance",
    "group",
];

/// Whether the next word starts an item rather than a value.
fn starts_item(i: &In<'_>, word: &str) -> bool {
    if !ITEM_WORDS.contains(&word) {
        return false;
    }
    let rest: &str = i.input.as_ref();
    let after = rest.get(word.len()..).unwrap_or("").trim_start();
    after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '{')
}

/// After `in name` (no `["key"]` or `"entity"`): a path next makes `name value` a hierarchy
/// selection ([`DataRef::Of`]); otherwise the name comes back (`x in list`).
pub(super) fn hierarchy_of_value(
    i: &mut In<'_>,
    name: Name,
) -> PResult<Result<(DataRef, usize), Name>> {
    let word = peek_word(i);
    if word.is_empty()
        || CLAUSE_WORDS.contains(&word)
        || RESERVED.contains(&word)
        || starts_item(i, word)
    {
        return Ok(Err(name));
    }
    let value = path(i)?;
    let end = value.span.end;
    let value = Expr {
        span: value.span.clone(),
        kind: ExprKind::Path(value),
    };
    Ok(Ok((DataRef::Of(name, Box::new(value)), end)))
}
