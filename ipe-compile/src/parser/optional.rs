//! Optional values (issue #13): `x ?? d` operands and schema defaults (`= false`, `= []`).

use super::{eat_sym, enter, err_here, literal, primary, In, Label, PResult};
use crate::ast::{ByteSpan, Expr, ExprKind, SchemaDefault};
use winnow::error::ErrMode;

/// An operand of a comparison: a primary, optionally followed by `?? operand`
/// (right-associative, so `a ?? b ?? 1` is `a ?? (b ?? 1)`; binds tighter than comparisons).
pub(super) fn operand(i: &mut In<'_>) -> PResult<Expr> {
    let lhs = primary(i)?;
    let Some(op) = eat_sym(i, "??")? else {
        return Ok(lhs);
    };
    enter(i)?;
    let rhs = operand(i);
    i.state.0 -= 1;
    let rhs = rhs?;
    let span = lhs.span.start..rhs.span.end;
    Ok(Expr {
        kind: ExprKind::Coalesce {
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            op,
        },
        span,
    })
}

/// `= <literal>` or `= []` after a schema entry's type, if present.
pub(super) fn schema_default(i: &mut In<'_>) -> PResult<Option<(SchemaDefault, ByteSpan)>> {
    if super::peek_sym(i, "==") || eat_sym(i, "=")?.is_none() {
        return Ok(None);
    }
    if let Some(open) = eat_sym(i, "[")? {
        let Some(close) = eat_sym(i, "]")? else {
            return Err(ErrMode::Cut(err_here(
                i,
                Label::Expected("`]`: a list default can only be the empty list `[]`"),
            )));
        };
        return Ok(Some((SchemaDefault::EmptyList, open.start..close.end)));
    }
    if let Some(open) = eat_sym(i, "{")? {
        let Some(close) = eat_sym(i, "}")? else {
            return Err(ErrMode::Cut(err_here(
                i,
                Label::Expected("`}`: a map default can only be the empty map `{}`"),
            )));
        };
        return Ok(Some((SchemaDefault::EmptyMap, open.start..close.end)));
    }
    match literal(i)? {
        Some((lit, span)) => Ok(Some((SchemaDefault::Lit(lit), span))),
        None => Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("a default value: a string, integer or boolean literal, `[]` or `{}`"),
        ))),
    }
}
