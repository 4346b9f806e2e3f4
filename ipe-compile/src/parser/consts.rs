//! `const` and `hierarchy` items, set operators (`contains_all`, ...) and the data selections
//! `name["key"]` / `name "entity"` after `in`.

use super::{
    eat_kw, eat_sym, err_here, expect_sym, ident, literal, path, peek_sym, string, In, Label,
    PResult, SyntaxError, RESERVED,
};
use crate::ast::{self, ByteSpan, ConstDecl, ConstValue, DataRef, Expr, ExprKind, Lit, SetOp};
use winnow::combinator::cut_err;
use winnow::error::ErrMode;
use winnow::prelude::*;

/// The set operators, by keyword.
pub(super) const SET_OPS: [(&str, SetOp); 4] = [
    ("contains_all", SetOp::ContainsAll),
    ("contains_any", SetOp::ContainsAny),
    ("intersects", SetOp::Intersects),
    ("subset_of", SetOp::SubsetOf),
];

/// A `const` or `hierarchy` item, after its keyword.
pub(super) fn const_item(i: &mut In<'_>, hierarchy: bool) -> PResult<ast::Item> {
    let what = if hierarchy {
        "a hierarchy name"
    } else {
        "a constant name"
    };
    let name = cut_err(ident).context(what).parse_next(i)?;
    if RESERVED.contains(&name.text.as_str()) || name.text.contains('-') {
        return Err(ErrMode::Cut(SyntaxError::located(
            name.span.clone(),
            format!("`{}` cannot name a constant", name.text),
            "a constant name is an identifier without `-` that is not a reserved word",
        )));
    }
    expect_sym(i, "=", "`=` after the constant name")?;
    let (value, ranges) = const_value(i)?;
    Ok(ast::Item::Const(Box::new(ConstDecl {
        name,
        hierarchy,
        value,
        ranges,
    })))
}

/// The inclusive ranges of a list constant, with their spans.
type Ranges = Vec<(i64, i64, ByteSpan)>;

/// A list constant's literals, its ranges and the span of its brackets.
type RangeList = (Vec<(Lit, ByteSpan)>, Ranges, ByteSpan);

/// A literal, a list of literals (and integer ranges, issue #14) or a map of lists of
/// literals.
fn const_value(i: &mut In<'_>) -> PResult<(ConstValue, Ranges)> {
    if peek_sym(i, "[") {
        let (items, ranges, span) = lit_range_list(i)?;
        return Ok((ConstValue::List(items, span), ranges));
    }
    const_value_rest(i).map(|v| (v, Vec::new()))
}

/// `[l, lo..hi, ...]`: literals and inclusive integer ranges, and the span of the brackets.
fn lit_range_list(i: &mut In<'_>) -> PResult<RangeList> {
    let open = expect_sym(i, "[", "`[`")?;
    let mut items = Vec::new();
    let mut ranges = Vec::new();
    loop {
        if let Some(close) = eat_sym(i, "]")? {
            return Ok((items, ranges, open.start..close.end));
        }
        if super::ranges::at_range(i) {
            ranges.push(super::ranges::range(i)?.bounds());
        } else {
            match literal(i)? {
                Some(item) => items.push(item),
                None => return Err(ErrMode::Cut(err_here(i, Label::Expected("a literal")))),
            }
        }
        if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
            return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
        }
    }
}

/// A literal or a map of lists of literals.
fn const_value_rest(i: &mut In<'_>) -> PResult<ConstValue> {
    if let Some(open) = eat_sym(i, "{")? {
        let mut entries = Vec::new();
        loop {
            if let Some(close) = eat_sym(i, "}")? {
                return Ok(ConstValue::Map(entries, open.start..close.end));
            }
            let (key, key_span) = match string(i) {
                Ok(k) => k,
                Err(ErrMode::Backtrack(e)) => {
                    return Err(ErrMode::Cut(SyntaxError {
                        label: Label::Expected("a string key or `}`"),
                        ..e
                    }))
                }
                Err(e) => return Err(e),
            };
            expect_sym(i, ":", "`:` after the key")?;
            // A literal value makes a map of values (issue #13 lookups, `M[y]`).
            let scalar = !peek_sym(i, "[");
            let (items, span) = if scalar {
                match literal(i)? {
                    Some((l, s)) => (vec![(l, s.clone())], s),
                    None => {
                        return Err(ErrMode::Cut(err_here(
                            i,
                            Label::Expected("a list `[...]` or a literal (the map's value)"),
                        )))
                    }
                }
            } else {
                lit_list(i)?
            };
            entries.push(ast::MapEntry {
                key: key.to_string(),
                key_span,
                items,
                span,
                scalar,
            });
            if eat_sym(i, ",")?.is_none() && !peek_sym(i, "}") {
                return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `}`"))));
            }
        }
    }
    match literal(i)? {
        Some((lit, span)) => Ok(ConstValue::Lit(lit, span)),
        None => Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("a literal, a list `[...]` or a map `{...}`"),
        ))),
    }
}

/// `[l, ...]` and the span of the brackets.
pub(super) fn lit_list(i: &mut In<'_>) -> PResult<(Vec<(Lit, ByteSpan)>, ByteSpan)> {
    let open = expect_sym(i, "[", "`[`")?;
    let mut items = Vec::new();
    loop {
        if let Some(close) = eat_sym(i, "]")? {
            return Ok((items, open.start..close.end));
        }
        match literal(i)? {
            Some(item) => items.push(item),
            None => return Err(ErrMode::Cut(err_here(i, Label::Expected("a literal")))),
        }
        if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
            return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
        }
    }
}

/// After a path that follows `in`: `["key"]` or `"entity"` makes it a data selection.
/// Returns the selection and where it ends, or the name back.
pub(super) fn data_selection(
    i: &mut In<'_>,
    name: ast::Name,
) -> PResult<Result<(DataRef, usize), ast::Name>> {
    if eat_sym(i, "[")?.is_some() {
        if !peek_sym(i, "\"") {
            return super::dynref::key_of_value(i, name);
        }
        let (key, span) = cut_err(string).context("a string key").parse_next(i)?;
        let close = expect_sym(i, "]", "`]` after the key")?;
        return Ok(Ok((DataRef::Key(name, key.to_string(), span), close.end)));
    }
    if peek_sym(i, "\"") {
        let (entity, span) = string(i)?;
        let end = span.end;
        return Ok(Ok((DataRef::Under(name, entity.to_string(), span), end)));
    }
    super::dynref::hierarchy_of_value(i, name)
}

/// The right side of a set operator (`[..]`, a name, or `name["key"]`) and where it ends.
fn set_rhs(i: &mut In<'_>) -> PResult<(DataRef, usize)> {
    if peek_sym(i, "[") {
        let (items, span) = lit_list(i)?;
        let end = span.end;
        return Ok((DataRef::Lits(items, span), end));
    }
    let name = cut_err(path)
        .context("a list `[...]` or a constant")
        .parse_next(i)?;
    if eat_sym(i, "[")?.is_some() {
        let (key, span) = cut_err(string).context("a string key").parse_next(i)?;
        let close = expect_sym(i, "]", "`]` after the key")?;
        return Ok((DataRef::Key(name, key.to_string(), span), close.end));
    }
    let end = name.span.end;
    Ok((DataRef::Name(name), end))
}

/// `lhs contains_all ...` and the other set operators, if one is next.
pub(super) fn set_op(i: &mut In<'_>, lhs: Expr) -> PResult<Result<Expr, Expr>> {
    for (kw, op) in SET_OPS {
        if eat_kw(i, kw)?.is_some() {
            let (rhs, end) = set_rhs(i)?;
            let span = lhs.span.start..end;
            return Ok(Ok(Expr {
                kind: ExprKind::SetOp {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            }));
        }
    }
    Ok(Err(lhs))
}
