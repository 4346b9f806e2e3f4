//! `x in H value`: hierarchy membership under an entity given by a request path or a
//! def/template parameter (issue #13, `docs/LANGUAGE.md`, "Hierarchy membership of request
//! values"), and `x in M[value]`: membership in the list a map constant holds under a key
//! given by a value.

use super::{expect_sym, path, peek_word, In, PResult, RESERVED};
use crate::ast::{DataRef, Expr, ExprKind, Name};
use winnow::combinator::cut_err;
use winnow::prelude::*;

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

/// After `in name[` when no string follows: `name[value]` selects the list under the key
/// given by a request path or a parameter ([`DataRef::KeyOf`]).
pub(super) fn key_of_value(i: &mut In<'_>, name: Name) -> PResult<Result<(DataRef, usize), Name>> {
    let value = cut_err(path)
        .context("a string key or an attribute path")
        .parse_next(i)?;
    let close = expect_sym(i, "]", "`]` after the key")?;
    let value = Expr {
        span: value.span.clone(),
        kind: ExprKind::Path(value),
    };
    Ok(Ok((DataRef::KeyOf(name, Box::new(value)), close.end)))
}
