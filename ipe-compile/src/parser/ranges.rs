//! Integer ranges after `in` (issue #14): `port in 1024..65535` and ranges mixed with literals
//! in a list, `port in [22, 80, 8000..8100]`. A range is inclusive at both ends. The parser
//! expands them into v1 syntax right away (`lo <= x and x <= hi`, and an `or` with the
//! remaining literals' `in [..]`), so the checker, the reference evaluator, lowering and every
//! engine see only comparisons they already have.

use super::{eat_sym, integer, string, In, PResult, SyntaxError};
use crate::ast::{ByteSpan, CmpOp, Expr, ExprKind, Lit};
use winnow::error::ErrMode;

/// An inclusive integer range `lo..hi` as written, with the span of `lo..hi`.
#[derive(Clone, Debug)]
pub(super) struct Range {
    lo: i64,
    lo_span: ByteSpan,
    hi: i64,
    hi_span: ByteSpan,
}

/// True when the input starts with an integer literal followed by `..` (a range).
pub(super) fn at_range(i: &In<'_>) -> bool {
    let s: &str = i.input.as_ref();
    let digits = s.strip_prefix('-').unwrap_or(s);
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    n > 0
        && digits
            .get(n..)
            .is_some_and(|r| r.trim_start().starts_with(".."))
}

/// The bounds of a range `lo..hi`, each read by `bound` with its span: the input is at `lo`;
/// after `..`, an upper bound must start with a char `starts` accepts, else the located error
/// `missing` (message, help). The one shape of integer and string ranges.
fn bounds<T>(
    i: &mut In<'_>,
    bound: fn(&mut In<'_>) -> PResult<(T, ByteSpan)>,
    starts: fn(char) -> bool,
    missing: (&'static str, &'static str),
) -> PResult<((T, ByteSpan), (T, ByteSpan))> {
    let (lo, lo_span) = bound(i)?;
    let Some(dots) = eat_sym(i, "..")? else {
        return Err(ErrMode::Cut(SyntaxError::located(
            lo_span,
            "expected `..` after the lower bound of a range",
            "a range is written `lo..hi`",
        )));
    };
    let s: &str = i.input.as_ref();
    if !s.starts_with(starts) {
        return Err(ErrMode::Cut(SyntaxError::located(
            dots, missing.0, missing.1,
        )));
    }
    let hi = bound(i)?;
    Ok(((lo, lo_span), hi))
}

/// Reads `lo..hi` (the input is at `lo`, [`at_range`] held). An empty range (`lo > hi`) is a
/// located error.
pub(super) fn range(i: &mut In<'_>) -> PResult<Range> {
    let ((lo, lo_span), (hi, hi_span)) = bounds(
        i,
        integer,
        |c| c.is_ascii_digit() || c == '-',
        (
            "a range needs an integer upper bound after `..`",
            "write both bounds as integer literals: `1024..65535` (inclusive)",
        ),
    )?;
    if lo > hi {
        return Err(ErrMode::Cut(SyntaxError::located(
            lo_span.start..hi_span.end,
            format!("the range `{lo}..{hi}` is empty"),
            format!("a range is inclusive and runs upwards: write `{hi}..{lo}`"),
        )));
    }
    Ok(Range {
        lo,
        lo_span,
        hi,
        hi_span,
    })
}

/// An inclusive range with string bounds, `"10.0.0.1".."10.0.0.99"` (issue #14: a range of `ip`
/// addresses), as written, with the spans of its bounds. It expands to the same `x >= lo and x
/// <= hi` as an integer range; the checker types the bounds (ordering ip against an address
/// literal).
#[derive(Clone, Debug)]
pub(super) struct StrRange {
    lo: String,
    lo_span: ByteSpan,
    hi: String,
    hi_span: ByteSpan,
}

/// True when the input starts with a string literal without escapes followed by `..`.
pub(super) fn at_str_range(i: &In<'_>) -> bool {
    let s: &str = i.input.as_ref();
    let Some(body) = s.strip_prefix('"') else {
        return false;
    };
    let Some(end) = body.find(['"', '\\', '\n']) else {
        return false;
    };
    body.get(end..).is_some_and(|r| r.starts_with('"'))
        && body
            .get(end + 1..)
            .is_some_and(|r| r.trim_start().starts_with(".."))
}

/// Reads `"lo".."hi"` ([`at_str_range`] held). When both bounds are IP addresses, an empty
/// range (`lo` after `hi` in the 128-bit order) is a located error.
pub(super) fn str_range(i: &mut In<'_>) -> PResult<StrRange> {
    let ((lo, lo_span), (hi, hi_span)) = bounds(
        i,
        string,
        |c| c == '"',
        (
            "a range needs a string upper bound after `..`",
            "write both bounds as addresses: `\"10.0.0.1\"..\"10.0.0.99\"` (inclusive)",
        ),
    )?;
    let order = |t: &str| ipe_nostd::ip::parse(t).map(|a| ipe_nostd::ip::to_u128(&a));
    if let (Some(a), Some(b)) = (order(&lo), order(&hi)) {
        if a > b {
            return Err(ErrMode::Cut(SyntaxError::located(
                lo_span.start..hi_span.end,
                format!("the range `\"{lo}\"..\"{hi}\"` is empty"),
                format!("a range is inclusive and runs upwards: write `\"{hi}\"..\"{lo}\"`"),
            )));
        }
    }
    Ok(StrRange {
        lo: lo.to_string(),
        lo_span,
        hi: hi.to_string(),
        hi_span,
    })
}

/// `lhs` within one string range: `lhs >= "lo" and lhs <= "hi"`, each bound located at itself.
fn within_str(lhs: &Expr, r: &StrRange) -> Expr {
    let span = lhs.span.start..r.hi_span.end;
    let cmp = |op, v: &str, at: &ByteSpan| Expr {
        kind: ExprKind::cmp(
            op,
            lhs.clone(),
            Expr {
                kind: ExprKind::Lit(Lit::Str(v.to_owned().into())),
                span: at.clone(),
            },
        ),
        span: span.clone(),
    };
    Expr {
        kind: ExprKind::And(vec![
            cmp(CmpOp::Ge, &r.lo, &r.lo_span),
            cmp(CmpOp::Le, &r.hi, &r.hi_span),
        ]),
        span,
    }
}

/// `lhs` within one range: `lhs >= lo and lhs <= hi` (one `==` when `lo == hi`).
fn within(lhs: &Expr, r: &Range) -> Expr {
    let span = lhs.span.start..r.hi_span.end;
    let cmp = |op, v: i64, at: &ByteSpan| Expr {
        kind: ExprKind::cmp(
            op,
            lhs.clone(),
            Expr {
                kind: ExprKind::Lit(Lit::Int(v)),
                span: at.clone(),
            },
        ),
        span: span.clone(),
    };
    // Both bounds are located at the whole `lo..hi`, so a misuse (a range over a string)
    // underlines the range.
    let whole = r.lo_span.start..r.hi_span.end;
    if r.lo == r.hi {
        return cmp(CmpOp::Eq, r.lo, &whole);
    }
    Expr {
        kind: ExprKind::And(vec![
            cmp(CmpOp::Ge, r.lo, &whole),
            cmp(CmpOp::Le, r.hi, &whole),
        ]),
        span,
    }
}

/// The expansion of `lhs in [items, ranges...]` (items keep their `in [..]`), spanning `span`.
pub(super) fn expand(
    lhs: Expr,
    items: Vec<(Lit, ByteSpan)>,
    ranges: &[Range],
    span: ByteSpan,
) -> Expr {
    expand_all(lhs, items, ranges, &[], span)
}

/// [`expand`] with string ranges too (after the integer ones).
pub(super) fn expand_all(
    lhs: Expr,
    items: Vec<(Lit, ByteSpan)>,
    ranges: &[Range],
    strs: &[StrRange],
    span: ByteSpan,
) -> Expr {
    let mut alts = Vec::new();
    if !items.is_empty() {
        alts.push(Expr {
            kind: ExprKind::InSet {
                lhs: Box::new(lhs.clone()),
                items,
            },
            span: span.clone(),
        });
    }
    alts.extend(ranges.iter().map(|r| within(&lhs, r)));
    alts.extend(strs.iter().map(|r| within_str(&lhs, r)));
    if alts.len() == 1 {
        if let Some(only) = alts.pop() {
            return Expr { span, ..only };
        }
    }
    Expr {
        kind: ExprKind::Or(alts),
        span,
    }
}

/// `lhs in [items, ranges...]` for ranges given by their bounds (issue #14, ranges in a
/// `const` list or a data file): the same expansion as a list written inline, every range
/// located at `at` (the constant's name in the test).
pub(crate) fn expand_bounds(
    lhs: Expr,
    items: Vec<(Lit, ByteSpan)>,
    bounds: &[(i64, i64)],
    at: &ByteSpan,
    span: ByteSpan,
) -> Expr {
    let ranges: Vec<Range> = bounds
        .iter()
        .map(|&(lo, hi)| Range {
            lo,
            lo_span: at.clone(),
            hi,
            hi_span: at.clone(),
        })
        .collect();
    expand(lhs, items, &ranges, span)
}

impl Range {
    /// The bounds and the span of `lo..hi`.
    pub(super) fn bounds(&self) -> (i64, i64, ByteSpan) {
        (self.lo, self.hi, self.lo_span.start..self.hi_span.end)
    }
}
