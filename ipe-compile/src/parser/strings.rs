//! String functions (issue #14): `len(x)`, the number of chars of a string, and `lower(x)`,
//! a string compared case-insensitively, and `segment(x, sep, i)`, one piece of a string.

use super::{eat_sym, enter, peek_word, In, PResult};
use super::{ExprKind, SyntaxError};
use crate::ast::Expr;
use winnow::error::ErrMode;
use winnow::stream::{Location, Stream};

/// `len(x)`, `lower(x)` or `segment(x, sep, i)` if one is next (the name followed by `(`).
pub(super) fn builtin(i: &mut In<'_>) -> PResult<Option<Expr>> {
    let word = peek_word(i);
    let make: fn(Box<Expr>) -> ExprKind = match word {
        "len" => ExprKind::Len,
        "lower" => ExprKind::Lower,
        "segment" => |_| ExprKind::Segment(Vec::new()),
        _ => return Ok(None),
    };
    let s: &str = i.input.as_ref();
    if !s[word.len()..].trim_start().starts_with('(') {
        return Ok(None);
    }
    let start = i.current_token_start();
    let _ = i.next_slice(word.len());
    super::ws(i)?;
    let _ = eat_sym(i, "(")?;
    enter(i)?;
    let r = super::reuse::call_args(i);
    i.state.0 -= 1;
    let (args, close) = r?;
    let span = start..close.end;
    if word == "segment" {
        if args.len() != 3 {
            return Err(ErrMode::Cut(SyntaxError::located(
                span,
                format!("`segment` takes 3 arguments, found {}", args.len()),
                "write `segment(x, \"/\", i)`: a string, a separator literal and a piece index \
                 (negative counts from the end)",
            )));
        }
        return Ok(Some(Expr {
            kind: ExprKind::Segment(args),
            span,
        }));
    }
    match <[Expr; 1]>::try_from(args) {
        Ok([x]) => Ok(Some(Expr {
            kind: make(Box::new(x)),
            span,
        })),
        Err(args) => Err(ErrMode::Cut(SyntaxError::located(
            span,
            format!("`{word}` takes 1 argument, found {}", args.len()),
            format!("write `{word}(x)` with one string"),
        ))),
    }
}
