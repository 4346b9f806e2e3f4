//! Typing the `ip` type's operators (issue #14): `addr in ["10.0.0.0/8", "fe80::/10", ...]`
//! (each string literal a network or one address, checked here with located diagnostics),
//! `addr == "10.0.0.1"`, `!=` and the orderings `<`, `<=`, `>`, `>=` against a literal
//! address (one-range tables) compile to [`hir::Expr::InIp`]: sorted, disjoint, merged
//! 128-bit ranges. Two addresses compared with each other (`src < dst`) are a
//! [`hir::Expr::Cmp`] of type `ip` (the `cmp.ip.*` instructions).

use super::expr::{VTy, Val, ValOp};
use super::{maps, ty_word, Ctx};
use crate::ast::{AggKind, ByteSpan, CmpOp, Expr, ExprKind, Lit, Name};
use crate::hir::{self, Literal, Operand, Scalar, SlotType};
use ipe_nostd::ip::{self, CidrError};
use ipe_nostd::ValueKind;

const NETWORK_HELP: &str = "write an IPv4 or IPv6 address (`10.0.0.1`, `fe80::1`) or a network \
                            in CIDR form (`10.0.0.0/8`, `fe80::/10`)";

impl Ctx<'_> {
    /// The `[first, last]` range of network literal `text` at `span`, or a located error.
    fn network(&mut self, text: &str, span: &ByteSpan) -> Option<(u128, u128)> {
        match ip::parse_cidr(text) {
            Ok((lo, hi)) => Some((ip::to_u128(&lo), ip::to_u128(&hi))),
            Err(CidrError::Address) => {
                self.error(
                    span.clone(),
                    format!("`{text}` is not an IP address or network"),
                    Some(NETWORK_HELP.to_owned()),
                );
                None
            }
            Err(CidrError::Prefix) => {
                self.error(
                    span.clone(),
                    format!(
                        "`{text}` has a bad prefix length: expected 0 to 32 for IPv4, 0 to 128 \
                         for IPv6"
                    ),
                    Some(NETWORK_HELP.to_owned()),
                );
                None
            }
            Err(CidrError::HostBits { network }) => {
                let mut net = String::new();
                let _ = ip::write(&mut net, &network);
                let len = text.rsplit_once('/').map_or("", |(_, l)| l);
                self.error(
                    span.clone(),
                    format!("`{text}` has host bits set below its prefix"),
                    Some(format!("the network is `{net}/{len}`")),
                );
                None
            }
        }
    }

    /// `l in [items]` where `l` is an `ip` operand.
    pub(super) fn in_ip_set(&mut self, l: Val, items: &[(Lit, ByteSpan)]) -> Option<hir::Expr> {
        let mut ranges = Vec::with_capacity(items.len());
        let mut ok = true;
        for (lit, span) in items {
            match lit {
                Lit::Str(s) => match self.network(s, span) {
                    Some(r) => ranges.push(r),
                    None => ok = false,
                },
                other => {
                    let found = match other {
                        Lit::Int(_) => "int",
                        Lit::Bool(_) => "bool",
                        Lit::Str(_) => "string",
                    };
                    self.error(
                        span.clone(),
                        format!("mismatched types: expected ip, found {found}"),
                        Some(NETWORK_HELP.to_owned()),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        let lhs = self.ip_operand(l)?;
        Some(hir::Expr::InIp {
            lhs,
            ranges: merge(ranges),
        })
    }

    /// `l op r` where either side is an `ip` operand: `==`, `!=`, `<`, `<=`, `>`, `>=` against
    /// a string literal address or another `ip` operand (ordered by the 128-bit value, IPv4 as
    /// IPv4-mapped); `None` (with an error) otherwise.
    pub(super) fn ip_compare(&mut self, op: CmpOp, l: Val, r: Val) -> Option<hir::Expr> {
        let is_ip = |v: &Val| v.ty == VTy::Scalar(Scalar::Ip);
        // With the address on the right, `"a" < x` is `x > "a"`.
        let (addr, lit, op) = if is_ip(&l) {
            (l, r, op)
        } else {
            (r, l, flip(op))
        };
        if is_ip(&lit) {
            // Issue #14: two addresses, compared by their 128-bit values in one instruction.
            let lhs = self.ip_operand(addr)?;
            let rhs = self.ip_operand(lit)?;
            return Some(hir::Expr::Cmp {
                op,
                lhs,
                rhs,
                ty: ValueKind::Ip,
            });
        }
        let ValOp::Operand(Operand::Lit(Literal::Str(text))) = &lit.op else {
            let found = ty_word(&lit.ty);
            self.error(
                lit.span.clone(),
                format!("mismatched types: expected an ip address literal, found {found}"),
                Some(
                    "compare an ip with a string literal address such as `\"10.0.0.1\"`".to_owned(),
                ),
            );
            return None;
        };
        let text = text.clone();
        let Some(a) = ip::parse(&text) else {
            self.error(
                lit.span.clone(),
                format!("`{text}` is not an IP address"),
                Some(NETWORK_HELP.to_owned()),
            );
            return None;
        };
        let a = ip::to_u128(&a);
        let lhs = self.ip_operand(addr)?;
        Some(literal_test(op, lhs, a))
    }

    /// The literal `lit` as the default of an `ip` value (`src ?? "10.0.0.1"`, a schema
    /// default): one address, in canonical text; `None` with a located error otherwise.
    pub(super) fn ip_default(&mut self, text: &str, span: &ByteSpan) -> Option<Literal> {
        match ip::parse(text) {
            Some(a) => Some(Literal::Str(canonical(&a).into())),
            None => {
                self.error(
                    span.clone(),
                    format!("`{text}` is not an IP address"),
                    Some(
                        "the default of an ip value is one address, such as `\"10.0.0.1\"` or \
                         `\"fe80::1\"`"
                            .to_owned(),
                    ),
                );
                None
            }
        }
    }

    /// `is_v4(v)`: whether the address is an IPv4(-mapped) one, `v in ["::ffff:0:0/96"]`.
    pub(super) fn is_v4(&mut self, v: Val) -> Option<hir::Expr> {
        if v.ty != VTy::Scalar(Scalar::Ip) {
            let found = ty_word(&v.ty);
            self.error(
                v.span.clone(),
                format!("mismatched types: expected ip, found {found}"),
                Some("`is_v4` tests an attribute or field declared `ip`".to_owned()),
            );
            return None;
        }
        let lhs = self.ip_operand(v)?;
        let lo = 0xffff_u128 << 32;
        Some(hir::Expr::InIp {
            lhs,
            ranges: vec![(lo, lo | 0xffff_ffff)],
        })
    }

    /// `x.is_v4` written as a path (issue #14, the spelling of `is_v4(x)`): when the
    /// last segment is `is_v4` and the rest names a scalar attribute or element field (and
    /// the whole path is no attribute or field of its own), the path of `x`, spanned at its
    /// text. A non-`ip` scalar then gets `is_v4`'s type error.
    pub(super) fn is_v4_path(&self, name: &Name) -> Option<Name> {
        let prefix = name.text.strip_suffix(".is_v4")?;
        if self.schema.contains_key(name.text.as_str()) {
            return None;
        }
        let (first, rest) = ipe_nostd::path::split_first(prefix);
        let named = |s: &&super::Scope| s.name == first || maps::alias_of(s, first).is_some();
        let scalar = match self.scopes.iter().rev().find(named) {
            Some(scope) => {
                let (_, full) = ipe_nostd::path::split_first(&name.text);
                maps::alias_of(scope, first).is_none()
                    && scope.fields.iter().any(|f| f.path == rest)
                    && !scope.fields.iter().any(|f| f.path == full)
            }
            None => matches!(self.schema.get(prefix), Some(SlotType::Scalar(_))),
        };
        if !scalar {
            return None;
        }
        // A span from an expanded def may not cover the text letter for letter: keep it whole.
        let span = if name.span.len() == name.text.len() {
            name.span.start..name.span.start + prefix.len()
        } else {
            name.span.clone()
        };
        Some(Name {
            text: prefix.to_owned().into(),
            span,
        })
    }

    /// `x in list` with `x` an `ip` and `list` a list of `ip` (an attribute or an element's
    /// list field): membership by the 128-bit value (IPv4 as IPv4-mapped), checked as
    /// `any(e in list where e == x)` with an element name no source can write, so it shares
    /// that form's errors, cost and code (the `cmp.ip.*` comparisons).
    pub(super) fn in_ip_list(&mut self, lhs: &Expr, list: &Name) -> Option<hir::Expr> {
        let span = list.span.clone();
        let var = Name {
            text: ("$ip".to_owned()).into(),
            span: span.clone(),
        };
        let elem = Expr {
            kind: ExprKind::Path(var.clone()),
            span: span.clone(),
        };
        let eq = Expr {
            kind: ExprKind::cmp(CmpOp::Eq, elem, lhs.clone()),
            span: span.clone(),
        };
        let any = Expr {
            kind: ExprKind::Agg {
                kind: AggKind::Any,
                var: Box::new(var),
                list: Box::new(list.clone()),
                filter: Some(Box::new(eq)),
            },
            span,
        };
        self.cond(&any)
    }

    /// The slot or element field an `ip` value reads.
    fn ip_operand(&mut self, v: Val) -> Option<Operand> {
        let span = v.span.clone();
        match v.operand()? {
            o @ (Operand::Slot(_) | Operand::Field { .. } | Operand::MapGet(_)) => Some(o),
            _ => {
                self.error(span, "expected an ip attribute or field".to_owned(), None);
                None
            }
        }
    }
}

/// The canonical text of an address.
pub(super) fn canonical(a: &ip::Ip) -> String {
    let mut t = String::new();
    let _ = ip::write(&mut t, a);
    t
}

/// `x op a` for the address operand `x` and the literal address `a`: the range of addresses
/// on the true side, as a one-range table (`!=` is `not ==`). Issue #14 ordering: the
/// 128-bit order of the stored values (IPv4 as IPv4-mapped `::ffff:a.b.c.d`).
fn literal_test(op: CmpOp, x: Operand, a: u128) -> hir::Expr {
    let ranges = match op {
        CmpOp::Eq | CmpOp::Ne => vec![(a, a)],
        CmpOp::Lt => a.checked_sub(1).map(|b| (0, b)).into_iter().collect(),
        CmpOp::Le => vec![(0, a)],
        CmpOp::Gt => a
            .checked_add(1)
            .map(|b| (b, u128::MAX))
            .into_iter()
            .collect(),
        CmpOp::Ge => vec![(a, u128::MAX)],
    };
    let e = hir::Expr::InIp { lhs: x, ranges };
    match op {
        CmpOp::Ne => hir::Expr::Not(Box::new(e)),
        _ => e,
    }
}

/// The address of a literal operand (a `??` or schema default substituted into an `ip` test,
/// checked when it was written).
fn literal_address(o: &Operand) -> Option<u128> {
    match o {
        Operand::Lit(Literal::Str(t)) => ip::parse(t).map(|a| ip::to_u128(&a)),
        _ => None,
    }
}

/// Folds the `ip` tests of a condition that a `??` or schema default expansion gave a literal
/// operand: `InIp` over a literal is a constant, a comparison of two addresses with one
/// literal side is that literal's one-range test, with two literal sides a constant. Anything
/// else is returned unchanged.
pub(super) fn fold_literal(e: hir::Expr) -> hir::Expr {
    match e {
        hir::Expr::InIp { lhs, ranges } => match literal_address(&lhs) {
            Some(a) => hir::Expr::Const(ranges.iter().any(|&(lo, hi)| lo <= a && a <= hi)),
            None => hir::Expr::InIp { lhs, ranges },
        },
        hir::Expr::Cmp {
            op,
            lhs,
            rhs,
            ty: ValueKind::Ip,
        } => match (literal_address(&lhs), literal_address(&rhs)) {
            (Some(a), Some(b)) => hir::Expr::Const(op.test(a.cmp(&b))),
            (None, Some(b)) => literal_test(op, lhs, b),
            (Some(a), None) => literal_test(flip(op), rhs, a),
            (None, None) => hir::Expr::Cmp {
                op,
                lhs,
                rhs,
                ty: ValueKind::Ip,
            },
        },
        other => other,
    }
}

/// The operator with its operands swapped (`a < b` is `b > a`).
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// Sorts and merges `[first, last]` ranges into disjoint, non-adjacent ones.
fn merge(mut r: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    r.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(r.len());
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::merge;

    #[test]
    fn ranges_merge_when_they_overlap_or_touch() {
        assert_eq!(
            merge(vec![(5, 9), (0, 3), (4, 4), (20, 30), (25, 26)]),
            vec![(0, 9), (20, 30)]
        );
        assert_eq!(merge(vec![(0, u128::MAX), (7, 7)]), vec![(0, u128::MAX)]);
        assert_eq!(merge(vec![]), vec![]);
    }
}
