//! `M[y]` and `M[y].field` as a value (issue #13, `docs/LANGUAGE.md`, "Lookups by a request
//! value"): a map constant indexed by a key read at run time. A path followed right away by
//! `[` and a path (not a string, not a number) is a lookup; a number in brackets keeps the
//! located error of [`super::keys::dynamic_key_error`] (positional list access).

use super::{expect_sym, keys, path, path_rest, peek_sym, In, PResult};
use crate::ast::{Expr, ExprKind, Lookup, Name};
use winnow::combinator::cut_err;
use winnow::error::ErrMode;
use winnow::prelude::*;
use winnow::stream::Location;

/// A path, or a lookup `path[path]` with optional field segments after it (`Err` holds the
/// lookup expression).
pub(super) fn path_or_lookup(i: &mut In<'_>) -> PResult<Result<Name, Expr>> {
    let saved = i.state.2;
    i.state.2 = true;
    let p = path(i);
    i.state.2 = saved;
    let map = p?;
    if !(peek_sym(i, "[") && !peek_sym(i, "[\"") && i.current_token_start() == map.span.end) {
        return Ok(Ok(map));
    }
    let s: &str = i.input.as_ref();
    let inner = s.get(1..).unwrap_or("").trim_start();
    if !inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(ErrMode::Cut(keys::dynamic_key_error(i, &map.text)));
    }
    let open = i.current_token_start();
    let _ = expect_sym(i, "[", "`[`")?;
    let key = cut_err(path)
        .context("a string key or an attribute path")
        .parse_next(i)?;
    let close = expect_sym(i, "]", "`]` after the key")?;
    let rest = path_rest(
        i,
        Name {
            text: crate::ast::Text::default(),
            span: close.end..close.end,
        },
    )?;
    let field = rest.text.trim_start_matches('.').to_owned();
    let end = if field.is_empty() {
        close.end
    } else {
        rest.span.end
    };
    let start = map.span.start;
    let key = Expr {
        span: key.span.clone(),
        kind: ExprKind::Path(key),
    };
    Ok(Err(Expr {
        span: start..end,
        kind: ExprKind::Lookup(Box::new(Lookup {
            map,
            key,
            field: (!field.is_empty()).then_some(field),
            brackets: open..close.end,
            has: false,
            rows: None,
        })),
    }))
}
