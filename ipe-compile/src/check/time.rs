//! Typing time (issue #14): `now`, timestamp and duration literals, `+` / `-` on timestamps and
//! durations, and the calendar parts `hour`, `weekday`, `time_of_day`
//! (`docs/LANGUAGE.md`, "Time").

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx};
use crate::ast::{ByteSpan, Expr, ExprKind, TimeTy};
use crate::hir::{Literal, Operand, Scalar, SlotType, TimeOp, TimePart};

/// The path of the request time.
pub(super) const NOW: &str = "now";

fn is_time(t: &VTy) -> bool {
    *t == VTy::Scalar(Scalar::Time)
}

fn is_duration(t: &VTy) -> bool {
    *t == VTy::Scalar(Scalar::Duration)
}

impl Ctx<'_> {
    /// Types a time form (`e` is one of [`ExprKind::TimeLit`], [`ExprKind::Now`],
    /// [`ExprKind::TimeArith`], [`ExprKind::TimePart`]).
    pub(super) fn time_value(&mut self, e: &Expr) -> Option<Val> {
        let span = e.span.clone();
        let text = self.span_text(&span);
        let val = |op: Operand, s: Scalar| Val {
            op: ValOp::Operand(op),
            ty: VTy::Scalar(s),
            span: span.clone(),
            text: text.clone(),
        };
        match &e.kind {
            ExprKind::TimeLit { ty, ms } => Some(val(
                Operand::Lit(Literal::Int(*ms)),
                match ty {
                    TimeTy::Time => Scalar::Time,
                    TimeTy::Duration => Scalar::Duration,
                },
            )),
            ExprKind::Now => {
                let declared = self.schema.get(NOW);
                if let Some(t) = declared.filter(|t| **t != SlotType::Scalar(Scalar::Time)) {
                    let w = super::schema::type_word(t);
                    self.error(
                        span.clone(),
                        format!("`now` is the request time, a timestamp, but the schema declares `now` as {w}"),
                        Some("declare `now: timestamp` or rename the attribute".to_owned()),
                    );
                    return None;
                }
                let id = self.slot(NOW, &SlotType::Scalar(Scalar::Time));
                Some(val(Operand::Slot(id), Scalar::Time))
            }
            ExprKind::TimeArith { sub, op, lhs, rhs } => {
                let (l, r) = (self.value(lhs), self.value(rhs));
                self.time_arith(*sub, op.clone(), span.clone(), l?, r?)
            }
            ExprKind::TimePart {
                part,
                arg,
                offset_ms,
            } => {
                let a = self.value(arg)?;
                if !is_time(&a.ty) {
                    let found = ty_word(&a.ty);
                    self.error(
                        a.span.clone(),
                        format!(
                            "mismatched types: `{}` needs a timestamp, found {found}",
                            part.name()
                        ),
                        Some(
                            "declare the attribute as `timestamp` in the schema, or pass `now`"
                                .to_owned(),
                        ),
                    );
                    return None;
                }
                let mut arg = a.operand()?;
                if *offset_ms != 0 {
                    arg = Operand::Time(Box::new(TimeOp::Arith {
                        sub: false,
                        lhs: arg,
                        rhs: Operand::Lit(Literal::Int(*offset_ms)),
                    }));
                }
                let ty = match part {
                    TimePart::TimeOfDay => Scalar::Duration,
                    TimePart::Hour | TimePart::Weekday => Scalar::Int,
                };
                Some(val(
                    Operand::Time(Box::new(TimeOp::Part { part: *part, arg })),
                    ty,
                ))
            }
            _ => None,
        }
    }

    /// Types `l + r` / `l - r` (`sub`) when an operand is a timestamp or a duration (issue
    /// #14); `op` is where the operator is reported, `span` the whole expression.
    pub(super) fn time_arith(
        &mut self,
        sub: bool,
        op: ByteSpan,
        span: ByteSpan,
        l: Val,
        r: Val,
    ) -> Option<Val> {
        let text = self.span_text(&span);
        let val = |op: Operand, s: Scalar| Val {
            op: ValOp::Operand(op),
            ty: VTy::Scalar(s),
            span: span.clone(),
            text: text.clone(),
        };
        let sym = if sub { "-" } else { "+" };
        let (lt, rt) = (
            is_time(&l.ty) || is_duration(&l.ty),
            is_time(&r.ty) || is_duration(&r.ty),
        );
        if !lt && !rt {
            self.error(
                op.clone(),
                "arithmetic is not part of the language".to_owned(),
                Some(format!(
                    "`{sym}` applies to timestamps and durations only (`now - 30d`); \
                     compare an attribute with a literal or another attribute; compute \
                     derived values before the request and send them as attributes"
                )),
            );
            return None;
        }
        if !lt || !rt {
            let (bad, other) = if lt { (&r, &l) } else { (&l, &r) };
            let want = if is_time(&other.ty) && !sub {
                "duration"
            } else {
                "timestamp or duration"
            };
            let found = ty_word(&bad.ty);
            let help = matches!(bad.op, ValOp::Operand(Operand::Lit(Literal::Int(_)))).then(|| {
                "write a duration literal such as `30d`, `12h`, `90s` or `500ms`".to_owned()
            });
            self.error(
                bad.span.clone(),
                format!("mismatched types: expected {want}, found {found}"),
                help,
            );
            return None;
        }
        let ty = match (sub, is_time(&l.ty), is_time(&r.ty)) {
            (false, true, false) | (false, false, true) | (true, true, false) => Scalar::Time,
            (false, false, false) | (true, true, true) | (true, false, false) => Scalar::Duration,
            (false, true, true) => {
                self.error(
                    op.clone(),
                    "`+` is not defined for two timestamps".to_owned(),
                    Some(
                        "add a duration to a timestamp, or subtract timestamps (`a - b` \
                         is a duration)"
                            .to_owned(),
                    ),
                );
                return None;
            }
            (true, false, true) => {
                self.error(
                    op.clone(),
                    "cannot subtract a timestamp from a duration".to_owned(),
                    Some("write `t - d`: a timestamp minus a duration".to_owned()),
                );
                return None;
            }
        };
        let op = TimeOp::Arith {
            sub,
            lhs: l.operand()?,
            rhs: r.operand()?,
        };
        Some(val(Operand::Time(Box::new(op)), ty))
    }
}
