//! List equality (issue #13, session 7): `xs == [a, b, c]` and `xs != [...]`, with `xs` a
//! request list of scalars and the items literals or operands (paths, bound elements, def
//! parameters: OPA's `path == ["finance", "salary", user]`).
//!
//! Expanded here, as written source would be: `xs == [a, b]` is
//! `(count(xs) == 2 and xs[0] == a and xs[1] == b)` (the list has exactly the items, in
//! order: positional access, `check::positional`), `!=` its `not`. So a missing or invalid
//! list is its error, a list of another length is false without reading an element, and every
//! engine runs the expansion.

use super::{arith, eat_sym, expect_sym, In, PResult, SyntaxError};
use crate::ast::{AggKind, ByteSpan, CmpOp, Expr, ExprKind, Name};
use winnow::error::ErrMode;

/// The items of a list literal after `==` / `!=` (`i` at the `[`), then the expansion;
/// `Ok(None)` when no `[` follows.
pub(super) fn list_eq(
    i: &mut In<'_>,
    lhs: &Expr,
    op: CmpOp,
    op_span: &ByteSpan,
) -> PResult<Option<Expr>> {
    if !super::peek_sym(i, "[") {
        return Ok(None);
    }
    let open = eat_sym(i, "[")?.unwrap_or(op_span.clone());
    let mut items = Vec::new();
    loop {
        if super::peek_sym(i, "]") {
            break;
        }
        items.push(arith::operand(i)?);
        if eat_sym(i, ",")?.is_none() {
            break;
        }
    }
    let close = expect_sym(i, "]", "`]` after the list's items")?;
    let whole = lhs.span.start..close.end;
    let ExprKind::Path(list) = &lhs.kind else {
        return Err(ErrMode::Cut(SyntaxError::located(
            lhs.span.clone(),
            "a list literal is compared with a list attribute",
            "write the list attribute on the left: `path == [\"a\", \"b\"]`".to_owned(),
        )));
    };
    if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
        return Err(ErrMode::Cut(SyntaxError::located(
            op_span.clone(),
            "lists compare with `==` and `!=` only",
            "test the elements with `xs[0] < 5` or `all(x in xs where ...)`".to_owned(),
        )));
    }
    let _ = open;
    Ok(Some(expand(list, items, op, whole)))
}

/// The expansion of `list == [items]` (`op` `==` or `!=`) spanning `whole`: `(count(list) ==
/// k and list[0] == items[0] and ...)`, or its `not`. Also used for a list constant or a
/// template list parameter on the right (`xs == allowed`, `check::consts`, `check::inline`).
pub(crate) fn expand(list: &Name, items: Vec<Expr>, op: CmpOp, whole: ByteSpan) -> Expr {
    let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let at = |kind: ExprKind| Expr {
        kind,
        span: whole.clone(),
    };
    let mut parts = vec![at(ExprKind::cmp(
        CmpOp::Eq,
        at(ExprKind::Agg {
            kind: AggKind::Count,
            var: Box::new(Name {
                text: ("__element".to_owned()).into(),
                span: list.span.clone(),
            }),
            list: Box::new(list.clone()),
            filter: None,
        }),
        at(ExprKind::Lit(crate::ast::Lit::Int(n))),
    ))];
    for (k, item) in items.into_iter().enumerate() {
        let elem = Name {
            text: format!("{}[{k}]", list.text).into(),
            span: list.span.clone(),
        };
        parts.push(at(ExprKind::cmp(CmpOp::Eq, at(ExprKind::Path(elem)), item)));
    }
    let all = at(ExprKind::Paren(Box::new(at(ExprKind::And(parts)))));
    match op {
        CmpOp::Ne => at(ExprKind::Not(Box::new(all))),
        _ => all,
    }
}
