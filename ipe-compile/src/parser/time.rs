//! Time syntax (issue #14): duration literals (`30d`, `1h30m`), `now`, `timestamp("..")` and
//! `duration("..")` literals checked here with located errors, `hour` / `weekday` /
//! `time_of_day` calls with a fixed UTC offset, and `+` / `-` between operands.

use super::{eat_sym, enter, expect_sym, expr, peek_sym, string, ws, In, PResult};
use super::{ident, SyntaxError};
use crate::ast::{ByteSpan, Expr, ExprKind, TimePart, TimeTy};
use crate::time_text;
use winnow::error::ErrMode;
use winnow::stream::{Location, Stream};

fn located(span: ByteSpan, message: String, help: &str) -> ErrMode<SyntaxError> {
    ErrMode::Cut(SyntaxError::located(span, message, help))
}

const DURATION_HELP: &str = "a duration is a number and a unit (`d`, `h`, `m`, `s`, `ms`), \
    units largest first and each at most once, e.g. `30d`, `1h30m`, `500ms`";

/// A duration literal (`-`? digits then a letter: `30d`, `1h30m`, `-500ms`) if one is next.
pub(super) fn duration_literal(i: &mut In<'_>) -> PResult<Option<Expr>> {
    let s: &str = i.input.as_ref();
    let body = s.strip_prefix('-').unwrap_or(s);
    if body.starts_with("0x") || body.starts_with("0X") {
        return Ok(None); // a hexadecimal integer (issue #14 arithmetic), not a duration
    }
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !body[digits..].starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Ok(None);
    }
    let len = (s.len() - body.len())
        + digits
        + body[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphanumeric)
            .count();
    let at = i.current_token_start();
    let text = i.next_slice(len);
    let span = at..at + len;
    let Some(ms) = time_text::parse_duration(text) else {
        return Err(located(
            span,
            format!("`{text}` is not a duration"),
            DURATION_HELP,
        ));
    };
    ws(i)?;
    Ok(Some(Expr {
        kind: ExprKind::TimeLit {
            ty: TimeTy::Duration,
            ms,
        },
        span,
    }))
}

/// `now`, or a time function call, if `word` (the next word) starts one.
pub(super) fn builtin(i: &mut In<'_>, word: &str) -> PResult<Option<Expr>> {
    let s: &str = i.input.as_ref();
    let after = &s[word.len()..];
    if word == "now" {
        if after.starts_with(['.', '[', '(']) {
            return Ok(None);
        }
        let name = ident(i)?;
        return Ok(Some(Expr {
            kind: ExprKind::Now,
            span: name.span,
        }));
    }
    let part = match word {
        "hour" => Some(TimePart::Hour),
        "weekday" => Some(TimePart::Weekday),
        "time_of_day" => Some(TimePart::TimeOfDay),
        "timestamp" | "duration" => None,
        _ => return Ok(None),
    };
    if !after.trim_start().starts_with('(') {
        return Ok(None);
    }
    let name = ident(i)?;
    let _ = eat_sym(i, "(")?;
    match part {
        None => {
            let ty = if word == "timestamp" {
                TimeTy::Time
            } else {
                TimeTy::Duration
            };
            if !peek_sym(i, "\"") {
                let at = i.current_token_start();
                return Err(located(
                    name.span.start..at,
                    format!("`{word}(..)` takes one string literal"),
                    if ty == TimeTy::Time {
                        "write e.g. `timestamp(\"2026-01-01T00:00:00Z\")`"
                    } else {
                        "write e.g. `duration(\"1h30m\")` or the literal `1h30m`"
                    },
                ));
            }
            let (text, span) = string(i)?;
            let ms = if ty == TimeTy::Time {
                time_text::parse_timestamp(&text).ok_or_else(|| {
                    located(
                        span.clone(),
                        format!("`{text}` is not an RFC 3339 timestamp"),
                        "write `YYYY-MM-DDTHH:MM:SS` with an optional fraction `.fff` and `Z` or \
                         an offset `+HH:MM`, with a year from 0000 to 9999 \
                         (e.g. `2026-01-01T00:00:00Z`)",
                    )
                })?
            } else {
                time_text::parse_duration(&text).ok_or_else(|| {
                    located(
                        span.clone(),
                        format!("`{text}` is not a duration"),
                        DURATION_HELP,
                    )
                })?
            };
            let close = expect_sym(i, ")", "`)`")?;
            Ok(Some(Expr {
                kind: ExprKind::TimeLit { ty, ms },
                span: name.span.start..close.end,
            }))
        }
        Some(part) => {
            enter(i)?;
            let arg = expr(i);
            i.state.0 -= 1;
            let arg = arg?;
            let mut offset_ms = 0;
            if eat_sym(i, ",")?.is_some() {
                if !peek_sym(i, "\"") {
                    let at = i.current_token_start();
                    return Err(located(
                        at..at + 1,
                        format!("the offset of `{word}` must be a string literal"),
                        "write `\"UTC\"` or a fixed offset such as `\"+05:30\"`",
                    ));
                }
                let (text, span) = string(i)?;
                offset_ms = time_text::parse_offset(&text).ok_or_else(|| {
                    located(
                        span,
                        format!("`{text}` is not a UTC offset"),
                        "write `\"UTC\"`, `\"Z\"` or `\"+HH:MM\"` / `\"-HH:MM\"`; named time zones \
                         are not supported (their offsets change with rules the policy would have \
                         to carry)",
                    )
                })?;
            }
            let close = expect_sym(i, ")", "`)` or `, \"+HH:MM\"`")?;
            Ok(Some(Expr {
                kind: ExprKind::TimePart {
                    part,
                    arg: Box::new(arg),
                    offset_ms,
                },
                span: name.span.start..close.end,
            }))
        }
    }
}
