//! `schema { ... }` blocks.

use super::{
    eat_kw, eat_sym, err_here, expect_sym, ident, integer, path, peek_sym, string, In, Label,
    PResult,
};
use crate::ast::{Name, ScalarTy, SchemaEntry, TypeExpr};
use winnow::combinator::cut_err;
use winnow::error::ErrMode;
use winnow::prelude::*;

/// The entries of a schema block, after the `schema` keyword.
pub(super) fn schema_block(i: &mut In<'_>) -> PResult<Vec<SchemaEntry>> {
    expect_sym(i, "{", "`{` after `schema`")?;
    let mut entries = Vec::new();
    loop {
        if eat_sym(i, "}")?.is_some() {
            return Ok(entries);
        }
        let path = cut_err(path)
            .context("an attribute path or `}`")
            .parse_next(i)?;
        expect_sym(i, ":", "`:` after the attribute path")?;
        let ty = type_expr(i)?;
        let default = super::optional::schema_default(i)?;
        entries.push(SchemaEntry { path, ty, default });
        let _ = eat_sym(i, ",")?;
    }
}

fn max_len(i: &mut In<'_>) -> PResult<Option<u32>> {
    if eat_kw(i, "max")?.is_none() {
        return Ok(None);
    }
    let (n, span) = cut_err(integer).context("a list length").parse_next(i)?;
    match u32::try_from(n) {
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(ErrMode::Cut(super::SyntaxError {
            offset: span.start,
            end: Some(span.end),
            label: Label::Expected("a list length between 0 and 4294967295"),
            help: None,
        })),
    }
}

/// A scalar type, if one is next.
fn scalar(i: &mut In<'_>) -> PResult<Option<ScalarTy>> {
    if eat_kw(i, "string")?.is_some() {
        return Ok(Some(ScalarTy::Str));
    }
    if eat_kw(i, "int")?.is_some() {
        return Ok(Some(ScalarTy::Int));
    }
    if eat_kw(i, "bool")?.is_some() {
        return Ok(Some(ScalarTy::Bool));
    }
    if eat_kw(i, "quantity")?.is_some() {
        return Ok(Some(ScalarTy::Quantity));
    }
    if eat_kw(i, "timestamp")?.is_some() {
        return Ok(Some(ScalarTy::Time));
    }
    if eat_kw(i, "duration")?.is_some() {
        return Ok(Some(ScalarTy::Duration));
    }
    if eat_kw(i, "ip")?.is_some() {
        return Ok(Some(ScalarTy::Ip));
    }
    if eat_kw(i, "enum")?.is_some() {
        expect_sym(i, "[", "`[` after `enum`")?;
        let mut members = Vec::new();
        loop {
            // An enum needs at least one member: `enum []` expects a string here.
            if !members.is_empty() && eat_sym(i, "]")?.is_some() {
                return Ok(Some(ScalarTy::Enum(members)));
            }
            let (text, span) = cut_err(string)
                .context("an enum member string")
                .parse_next(i)?;
            members.push(Name { text, span });
            if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
                return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
            }
        }
    }
    Ok(None)
}

/// `map of <scalar> [max N]`, if `map` is next (issue 13).
fn map_type(i: &mut In<'_>) -> PResult<Option<TypeExpr>> {
    if eat_kw(i, "map")?.is_none() {
        return Ok(None);
    }
    if eat_kw(i, "of")?.is_none() {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("`of` after `map`"),
        )));
    }
    let Some(value) = scalar(i)? else {
        if peek_sym(i, "{") || super::at_kw(i, "max") {
            return Ok(Some(TypeExpr::MapRecords(Box::new(records_type(i, None)?))));
        }
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected(
                "a map value type: `string`, `int`, `bool`, `enum [...]` or `{` and the record's fields",
            ),
        )));
    };
    let max = max_len(i)?;
    Ok(Some(TypeExpr::Map { value, max }))
}

fn type_expr(i: &mut In<'_>) -> PResult<TypeExpr> {
    if let Some(s) = scalar(i)? {
        return Ok(TypeExpr::Scalar(s));
    }
    if let Some(m) = map_type(i)? {
        return Ok(m);
    }
    if eat_kw(i, "list")?.is_none() {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("a type: `string`, `int`, `bool`, `enum [...]` or `list of ...`"),
        )));
    }
    if eat_kw(i, "of")?.is_none() {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("`of` after `list`"),
        )));
    }
    if let Some(elem) = scalar(i)? {
        let max = max_len(i)?;
        return Ok(TypeExpr::List { elem, max });
    }
    let elem_name = if peek_sym(i, "{") || super::at_kw(i, "max") {
        None
    } else {
        Some(
            cut_err(ident)
                .context("an element type or name")
                .parse_next(i)?,
        )
    };
    records_type(i, elem_name)
}

/// `[max N] { fields }` of a list of records (after its element name) or of a map of records.
fn records_type(i: &mut In<'_>, elem_name: Option<Name>) -> PResult<TypeExpr> {
    let max = max_len(i)?;
    expect_sym(i, "{", "`{` and the element's fields")?;
    let mut fields = Vec::new();
    let mut lists = Vec::new();
    let mut defaults = Vec::new();
    loop {
        if eat_sym(i, "}")?.is_some() {
            return Ok(TypeExpr::Records {
                elem_name,
                max,
                fields,
                lists,
                defaults,
            });
        }
        let name = cut_err(super::field_path)
            .context("a field name or `}`")
            .parse_next(i)?;
        expect_sym(i, ":", "`:` after the field name")?;
        match scalar(i)? {
            Some(ty) => fields.push((name.clone(), ty)),
            // A nested list (issue #13).
            None if super::at_kw(i, "list") => lists.push((name.clone(), type_expr(i)?)),
            None => {
                return Err(ErrMode::Cut(err_here(
                    i,
                    Label::Expected("a field type: `string`, `int`, `bool` or `enum [...]`"),
                )))
            }
        }
        // A field's default (issue #13): the checker accepts `= []` on a nested list only.
        if let Some((d, span)) = super::optional::schema_default(i)? {
            defaults.push((name, d, span));
        }
        let _ = eat_sym(i, ",")?;
    }
}
