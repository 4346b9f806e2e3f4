//! `x like "glob"` and `x matches "regex"` (issue #14): the operators and their literals.
//!
//! A `like` literal keeps Cedar's escapes: `\*` is a literal star, a bare `*` a wildcard; the
//! string it becomes is the stored pattern of [`ipe_nostd::pattern`] (a literal `*` or `\`
//! escaped by `\`). A `matches` literal is the regular expression's text as written: every
//! `\` reaches the regex syntax (`\.`, `\d`), except that `\"` is a quote. A `matches` may
//! also name its regex (`matches l.allowedRegex`, a template parameter or constant): the
//! operand is parsed here and must be a string literal once parameters are bound (checked in
//! `check::patterns`).

use super::{eat_kw, foreign_after_operand, string_lit, In, PResult, SyntaxError};
use crate::ast::{Expr, ExprKind, Lit as AstLit, StrOp};
use winnow::error::ErrMode;

/// How a string literal's escapes read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lit {
    /// A plain string: `\"`, `\\`, `\n`, `\t`.
    Plain,
    /// A `like` pattern: the plain escapes and `\*`, written in the stored pattern form.
    Like,
    /// A `matches` regular expression: the text as written, `\"` a quote.
    Regex,
}

/// Appends the escape `\c` of a `mode` literal to `out`; the message and help of a bad one.
pub(super) fn escape(
    mode: Lit,
    c: Option<char>,
    out: &mut crate::ast::Text,
) -> Result<(), (String, String)> {
    match (mode, c) {
        (_, Some('"')) => out.push('"'),
        (Lit::Like, Some('*')) => out.push_str("\\*"),
        (Lit::Like, Some('\\')) => out.push_str("\\\\"),
        (Lit::Like, Some('n')) => out.push('\n'),
        (Lit::Like, Some('t')) => out.push('\t'),
        (Lit::Regex, Some(c)) => {
            out.push('\\');
            out.push(c);
        }
        _ => {
            return Err((
                "unknown escape in a `like` pattern".to_owned(),
                r#"a pattern's escapes are `\*` (a literal star), `\"`, `\\`, `\n` and `\t`"#
                    .to_owned(),
            ))
        }
    }
    Ok(())
}

/// `lhs like "..."` or `lhs matches "..."` after an operand; `Err(lhs)` if neither follows.
pub(super) fn operator(i: &mut In<'_>, lhs: Expr) -> PResult<Result<Expr, Expr>> {
    let (op, mode, kw) = if let Some(kw) = eat_kw(i, "like")? {
        (StrOp::Like, Lit::Like, kw)
    } else if let Some(kw) = eat_kw(i, "matches")? {
        (StrOp::Matches, Lit::Regex, kw)
    } else {
        return Ok(Err(lhs));
    };
    let (text, span) = match string_lit(i, mode) {
        Ok(lit) => lit,
        Err(ErrMode::Backtrack(_)) if op == StrOp::Matches && named_regex(i) => {
            // A regex fixed when the policy compiles but not written here: a template or def
            // parameter, an element of a template record-list parameter (`l.allowedRegex`) or
            // a constant. The checker requires it to be a string literal once expanded.
            let rhs = super::arith::operand(i)?;
            foreign_after_operand(i)?;
            let whole = lhs.span.start..rhs.span.end;
            return Ok(Ok(Expr {
                kind: ExprKind::Str {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span: whole,
            }));
        }
        Err(ErrMode::Backtrack(_)) => {
            let (word, example) = match op {
                StrOp::Like => ("like", r#"host like "*.example.com""#),
                _ => (
                    "matches",
                    r#"name matches "^[a-z]+$" (or a parameter: `matches re`)"#,
                ),
            };
            return Err(ErrMode::Cut(SyntaxError::located(
                kw,
                format!("`{word}` needs a string literal after it"),
                format!("the pattern is fixed when the policy compiles: `{example}`"),
            )));
        }
        Err(e) => return Err(e),
    };
    foreign_after_operand(i)?;
    let whole = lhs.span.start..span.end;
    Ok(Ok(Expr {
        kind: ExprKind::Str {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(Expr {
                kind: ExprKind::Lit(AstLit::Str(text)),
                span,
            }),
        },
        span: whole,
    }))
}

/// Whether the input continues with a name (`re`, `l.allowedRegex`): the regex of a `matches`
/// given by a parameter or constant.
fn named_regex(i: &In<'_>) -> bool {
    let rest: &str = i.input.as_ref();
    rest.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}
