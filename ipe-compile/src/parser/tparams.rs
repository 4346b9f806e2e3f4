//! Record-list template parameters (issue #13): the parameter type
//! `list of { field: scalar, ... }` and the record literals `{field: value, ...}` of an
//! instance's list argument.

use super::{eat_sym, err_here, expect_sym, ident, literal, In, Label, PResult};
use crate::ast::{ByteSpan, Name, RecordArg, ScalarTy};
use winnow::combinator::cut_err;
use winnow::error::ErrMode;
use winnow::prelude::*;

/// The fields of a record-list parameter type, after `list of {`: `name: scalar, ... }`.
pub(super) fn record_fields(
    i: &mut In<'_>,
    scalar: fn(&mut In<'_>) -> PResult<Option<ScalarTy>>,
) -> PResult<Vec<(Name, ScalarTy)>> {
    let mut fields = Vec::new();
    if eat_sym(i, "}")?.is_some() {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("a field `name: type` (a record parameter has at least one field)"),
        )));
    }
    loop {
        let name = cut_err(ident).context("a field name").parse_next(i)?;
        expect_sym(i, ":", "`:` and the field's type")?;
        let Some(ty) = scalar(i)? else {
            return Err(ErrMode::Cut(err_here(
                i,
                Label::Expected(
                    "`string`, `int` or `bool` (a record parameter's fields are scalars)",
                ),
            )));
        };
        fields.push((name, ty));
        if eat_sym(i, "}")?.is_some() {
            return Ok(fields);
        }
        expect_sym(i, ",", "`,` or `}`")?;
    }
}

/// One record literal of an instance argument, after its `{`: `name: literal, ... }`.
pub(super) fn record_arg(i: &mut In<'_>, open: ByteSpan) -> PResult<RecordArg> {
    let mut fields = Vec::new();
    if let Some(close) = eat_sym(i, "}")? {
        return Ok(RecordArg {
            fields,
            span: open.start..close.end,
        });
    }
    loop {
        let name = cut_err(ident).context("a field name").parse_next(i)?;
        expect_sym(i, ":", "`:` after the field name")?;
        let Some((lit, span)) = literal(i)? else {
            return Err(ErrMode::Cut(err_here(
                i,
                Label::Expected("a literal (a record's fields are strings, integers or booleans)"),
            )));
        };
        fields.push((name.text.as_str().to_owned(), lit, span));
        if let Some(close) = eat_sym(i, "}")? {
            return Ok(RecordArg {
                fields,
                span: open.start..close.end,
            });
        }
        expect_sym(i, ",", "`,` or `}`")?;
    }
}

/// The records of an instance's list argument, after its `[` (the next token is `{`): the
/// records and the end of the closing `]`.
pub(super) fn record_list(i: &mut In<'_>) -> PResult<(Vec<RecordArg>, usize)> {
    let mut records = Vec::new();
    loop {
        if let Some(close) = eat_sym(i, "]")? {
            return Ok((records, close.end));
        }
        let Some(open) = eat_sym(i, "{")? else {
            return Err(ErrMode::Cut(err_here(
                i,
                Label::Expected("a record `{field: value, ...}` (all elements are records)"),
            )));
        };
        records.push(record_arg(i, open)?);
        if eat_sym(i, ",")?.is_none() && !super::peek_sym(i, "]") {
            return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
        }
    }
}
