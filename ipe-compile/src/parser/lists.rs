//! Set operators between lists (issue 13): `a contains_all b`, `contains_any`, `intersects`,
//! `subset_of`, where `b` is a list path or a list literal.

use super::{eat_kw, eat_sym, err_here, literal, path, peek_sym, In, Label, PResult};
use crate::ast::{Expr, ExprKind, ListOperand, SetOp};
use winnow::combinator::cut_err;
use winnow::error::ErrMode;
use winnow::prelude::*;

/// The set operator after `lhs`, if one is next.
pub(super) fn set_op(i: &mut In<'_>, lhs: &Expr) -> PResult<Option<Expr>> {
    for (kw, op) in SetOp::ALL {
        if eat_kw(i, kw)?.is_none() {
            continue;
        }
        let (rhs, end) = if let Some(open) = eat_sym(i, "[")? {
            let mut items = Vec::new();
            loop {
                if let Some(close) = eat_sym(i, "]")? {
                    break (ListOperand::Lits(items, open.start..close.end), close.end);
                }
                match literal(i)? {
                    Some(item) => items.push(item),
                    None => return Err(ErrMode::Cut(err_here(i, Label::Expected("a literal")))),
                }
                if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
                    return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
                }
            }
        } else {
            let p = cut_err(path)
                .context("a list literal `[...]` or a list path")
                .parse_next(i)?;
            let end = p.span.end;
            (ListOperand::Path(p), end)
        };
        return Ok(Some(Expr {
            span: lhs.span.start..end,
            kind: ExprKind::SetOp {
                op,
                lhs: Box::new(lhs.clone()),
                rhs,
            },
        }));
    }
    Ok(None)
}
