//! Integer arithmetic operands (issue #14): `&`, `+ -`, `* / %` (tightest), unary `-`,
//! and the built-in functions `min(a, b)`, `max(a, b)`, `abs(a)` and `quantity("...")`.

use super::{eat_sym, enter, expect_sym, optional, peek_sym, peek_word, string, In, PResult};
use super::{ExprKind, SyntaxError};
use crate::ast::{ArithOp, Expr, Lit};
use winnow::error::ErrMode;
use winnow::stream::{Location, Stream};

/// An operand of a comparison: `bitand = additive { "&" additive }`.
pub(super) fn operand(i: &mut In<'_>) -> PResult<Expr> {
    // Issue #15: most operands are one primary (a path, a literal). Read it directly when
    // no level below starts with its first byte (`-`, a negation); when a level's operator
    // follows it (`??`, `*`, `/`, `%`, `+`, `-`, `&`), read it again through the levels.
    let s: &str = i.input.as_ref();
    if !s.starts_with('-') {
        let start = i.checkpoint();
        let e = super::primary(i)?;
        let s: &str = i.input.as_ref();
        if !matches!(
            s.as_bytes().first(),
            Some(b'?' | b'*' | b'/' | b'%' | b'+' | b'-' | b'&')
        ) {
            return Ok(e);
        }
        i.reset(&start);
    }
    let mut lhs = additive(i)?;
    while peek_sym(i, "&") && !peek_sym(i, "&&") {
        let _ = eat_sym(i, "&")?;
        let rhs = additive(i)?;
        lhs = binary(ArithOp::BitAnd, lhs, rhs);
    }
    Ok(lhs)
}

fn binary(op: ArithOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.start..rhs.span.end;
    Expr {
        kind: ExprKind::Arith {
            op,
            args: vec![lhs, rhs],
        },
        span,
    }
}

/// `additive = multiplicative { ("+" | "-") multiplicative }`.
fn additive(i: &mut In<'_>) -> PResult<Expr> {
    let mut lhs = multiplicative(i)?;
    loop {
        let op = if eat_sym(i, "+")?.is_some() {
            ArithOp::Add
        } else if peek_sym(i, "-") && !peek_sym(i, "->") {
            let _ = eat_sym(i, "-")?;
            ArithOp::Sub
        } else {
            return Ok(lhs);
        };
        let rhs = multiplicative(i)?;
        lhs = binary(op, lhs, rhs);
    }
}

/// `multiplicative = unary { ("*" | "/" | "%") unary }`.
fn multiplicative(i: &mut In<'_>) -> PResult<Expr> {
    let mut lhs = unary(i)?;
    loop {
        let op = if eat_sym(i, "*")?.is_some() {
            ArithOp::Mul
        } else if eat_sym(i, "/")?.is_some() {
            ArithOp::Div
        } else if eat_sym(i, "%")?.is_some() {
            ArithOp::Rem
        } else {
            return Ok(lhs);
        };
        let rhs = unary(i)?;
        lhs = binary(op, lhs, rhs);
    }
}

/// `unary = "-" unary | operand` (a `-` right before a digit is a negative literal).
fn unary(i: &mut In<'_>) -> PResult<Expr> {
    let s: &str = i.input.as_ref();
    if s.starts_with('-') && !s[1..].starts_with(|c: char| c.is_ascii_digit()) {
        let start = i.current_token_start();
        let _ = eat_sym(i, "-")?;
        enter(i)?;
        let inner = unary(i);
        i.state.0 -= 1;
        let inner = inner?;
        let span = start..inner.span.end;
        return Ok(Expr {
            kind: ExprKind::Arith {
                op: ArithOp::Neg,
                args: vec![inner],
            },
            span,
        });
    }
    optional::operand(i)
}

/// `min(a, b)`, `max(a, b)`, `abs(a)` or `quantity("text")` if one is next (a built-in
/// name followed by `(`).
pub(super) fn builtin(i: &mut In<'_>) -> PResult<Option<Expr>> {
    let word = peek_word(i);
    let (op, arity) = match word {
        "min" => (Some(ArithOp::Min), 2),
        "max" => (Some(ArithOp::Max), 2),
        "abs" => (Some(ArithOp::Abs), 1),
        "quantity" => (None, 1),
        _ => return Ok(None),
    };
    let s: &str = i.input.as_ref();
    if !s[word.len()..].trim_start().starts_with('(') {
        return Ok(None);
    }
    let start = i.current_token_start();
    let name_end = start + word.len();
    let _ = i.next_slice(word.len());
    super::ws(i)?;
    let _ = eat_sym(i, "(")?;
    let Some(op) = op else {
        // `quantity("200m")`: parsed now, an int literal of milli-units.
        if !peek_sym(i, "\"") {
            return Err(ErrMode::Cut(SyntaxError::located(
                start..name_end,
                "`quantity` takes a string literal",
                "write the quantity in quotes: `quantity(\"200m\")`; an attribute declared \
                 `quantity` in the schema is read as one already",
            )));
        }
        let (text, tspan) = string(i)?;
        let close = expect_sym(i, ")", "`)` after the quantity")?;
        let v = ipe_nostd::quantity::parse_milli(&text).map_err(|e| {
            let (msg, help) = match e {
                ipe_nostd::quantity::QuantityError::Malformed => (
                    format!("`{text}` is not a Kubernetes quantity"),
                    "a quantity is a number with an optional suffix: `200m`, `0.5`, `2`, \
                     `1k`, `1Gi`, `1e3`",
                ),
                ipe_nostd::quantity::QuantityError::Overflow => (
                    format!("the quantity `{text}` is out of range"),
                    "in milli-units a quantity must fit in 64 bits (about 9.2e15 units)",
                ),
            };
            ErrMode::Cut(SyntaxError::located(tspan.clone(), msg, help))
        })?;
        return Ok(Some(Expr {
            kind: ExprKind::Lit(Lit::Int(v)),
            span: start..close.end,
        }));
    };
    enter(i)?;
    let r = super::reuse::call_args(i);
    i.state.0 -= 1;
    let (args, close) = r?;
    if args.len() != arity {
        return Err(ErrMode::Cut(SyntaxError::located(
            start..close.end,
            format!(
                "`{word}` takes {arity} argument{}, found {}",
                if arity == 1 { "" } else { "s" },
                args.len()
            ),
            if arity == 1 {
                "write `abs(x)`"
            } else {
                "write `min(a, b)`; nest for more: `min(a, min(b, c))`"
            },
        )));
    }
    Ok(Some(Expr {
        kind: ExprKind::Arith { op, args },
        span: start..close.end,
    }))
}
