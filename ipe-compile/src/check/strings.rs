//! String functions (issue #14): typing `len(x)` and folding it over a literal; `lower(x)`
//! compared with a lower-case literal, fused into one case-insensitive string test.

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx};
use crate::ast::{ByteSpan, Expr, ExprKind, Lit, StrOp};
use crate::hir::{self, Literal, Operand, Scalar};

impl Ctx<'_> {
    /// Checks `len(x)`: `x` a string; over a literal, the literal's char count.
    pub(super) fn len(&mut self, x: &Expr, span: ByteSpan, text: crate::ast::Text) -> Option<Val> {
        let v = self.value(x)?;
        let op = match (&v.op, &v.ty) {
            (ValOp::Operand(Operand::Lit(Literal::Str(s))), _) => {
                Operand::Lit(Literal::Int(i64::try_from(s.chars().count()).ok()?))
            }
            (ValOp::Operand(o), VTy::Scalar(Scalar::Str)) => Operand::Len(Box::new(o.clone())),
            (_, ty) => {
                let found = ty_word(ty);
                self.error(
                    v.span.clone(),
                    format!("mismatched types: `len` needs a string, found {found}"),
                    Some(
                        "`len(x)` counts the characters of a string attribute; a list's length \
                         is `count(x in list)`"
                            .into(),
                    ),
                );
                return None;
            }
        };
        Some(Val {
            op: ValOp::Operand(op),
            ty: VTy::Scalar(Scalar::Int),
            span,
            text,
        })
    }
}

/// `s` lowered char by char, as `lower(x)` compares (`char::to_lowercase`, context-free).
pub(super) fn lowered(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The fused case-insensitive form of a string operator.
pub(super) fn fused(op: StrOp) -> StrOp {
    match op {
        StrOp::StartsWith => StrOp::LowerStartsWith,
        StrOp::EndsWith => StrOp::LowerEndsWith,
        StrOp::Contains => StrOp::LowerContains,
        op => op,
    }
}

/// The `lower(x)` inside parentheses, if `e` is one.
pub(super) fn as_lower(e: &Expr) -> Option<&Expr> {
    match &e.kind {
        ExprKind::Lower(x) => Some(x),
        ExprKind::Paren(x) => as_lower(x),
        _ => None,
    }
}

const LOWER_HELP: &str = "`lower(x)` compares a string case-insensitively: write it on the left \
                          of `==`, `!=`, `in [..]`, `starts_with`, `ends_with`, `contains`, \
                          `like` or `matches`, with a lower-case string literal on the right (or \
                          another string, compared as it is, or `lower(y)`)";

/// `lower(a) op lower(b)` (`op` a fused `Lower*` operator), `lower(a) like b` or `lower(a)
/// matches b` over two literals: the constant every engine computes (issue #14, session 9).
pub(super) fn fold_const(op: StrOp, a: &str, b: &str) -> bool {
    let (la, lb) = (lowered(a), lowered(b));
    match op {
        StrOp::LowerEq => la == lb,
        StrOp::LowerStartsWith => la.starts_with(&lb),
        StrOp::LowerEndsWith => la.ends_with(&lb),
        StrOp::LowerContains => la.contains(&lb),
        StrOp::Like => crate::patterns::like(&la, &lb),
        StrOp::Matches => crate::patterns::matches(b, &la),
        op => op.test(a, b),
    }
}

/// The first char of regex `re` that is upper case outside a class (`[A-Z]`), an escape
/// (`\D`, `\p{Lu}`), a flag group (`(?U)`) or a group name (`(?P<Name>`): a char that no
/// lowered string holds there, so `lower(x) matches re` could never use it (issue #14,
/// session 9). With the byte offset of that char.
fn regex_upper(re: &str) -> Option<(usize, char)> {
    let mut it = re.char_indices().peekable();
    let mut class = 0usize;
    while let Some((at, c)) = it.next() {
        match c {
            '\\' => {
                // An escape: `\x`, or `\p{..}`, `\x{..}`, `\u{..}` with braces.
                if let Some((_, e)) = it.next() {
                    if matches!(e, 'p' | 'P' | 'x' | 'u' | 'U')
                        && it.peek().is_some_and(|&(_, b)| b == '{')
                    {
                        for (_, b) in it.by_ref() {
                            if b == '}' {
                                break;
                            }
                        }
                    }
                }
            }
            '[' => class += 1,
            ']' if class > 0 => class -= 1,
            '(' if class == 0 && it.peek().is_some_and(|&(_, b)| b == '?') => {
                // Flags and group names, up to `)`, `:` or the name's `>`.
                let mut name = false;
                for (_, b) in it.by_ref() {
                    match b {
                        '<' => name = true,
                        '>' if name => break,
                        ')' | ':' if !name => break,
                        _ => {}
                    }
                }
            }
            c if class == 0 && !c.to_lowercase().eq([c]) => return Some((at, c)),
            _ => {}
        }
    }
    None
}

impl Ctx<'_> {
    /// `lower(x)` where a value is expected (not a comparison it can fuse with).
    pub(super) fn lower_misplaced(&mut self, span: ByteSpan) -> Option<Val> {
        self.error(
            span,
            "`lower(x)` is not a value here".to_owned(),
            Some(LOWER_HELP.into()),
        );
        None
    }

    /// The string operand `x` of `lower(x)`; `None` (reported) when it is not a string.
    fn lower_operand(&mut self, x: &Expr) -> Option<Operand> {
        let v = self.value(x)?;
        match (&v.op, &v.ty) {
            (ValOp::Operand(o), VTy::Scalar(Scalar::Str)) => Some(o.clone()),
            (_, ty) => {
                let found = ty_word(ty);
                self.error(
                    v.span.clone(),
                    format!("mismatched types: `lower` needs a string, found {found}"),
                    Some(LOWER_HELP.into()),
                );
                None
            }
        }
    }

    /// The lower-case string literal `needle` compared with `lower(x)`; `None` (reported)
    /// otherwise.
    fn lower_needle(&mut self, needle: &Expr) -> Option<String> {
        let v = self.value(needle)?;
        let ValOp::Operand(Operand::Lit(Literal::Str(s))) = &v.op else {
            self.error(
                v.span.clone(),
                format!(
                    "`lower(x)` is compared with `{}`, not a string literal",
                    v.text_str()
                ),
                Some(LOWER_HELP.into()),
            );
            return None;
        };
        let low = lowered(s);
        if *s != low {
            self.error(
                v.span.clone(),
                format!("`{s}` is not lower case, so `lower(x)` never matches it"),
                Some(format!("write the literal in lower case: `\"{low}\"`")),
            );
            return None;
        }
        Some(s.as_str().to_owned())
    }

    /// The other side of `lower(x) op y` when it is not `lower(..)` (issue #14, session 9): a
    /// lower-case string literal (checked as [`Self::lower_needle`] does), or any other string
    /// value (an attribute, an element field, `y ?? "d"`), compared as it is; `None`
    /// (reported) otherwise.
    fn lower_other(&mut self, needle: &Expr) -> Option<Operand> {
        let v = self.value(needle)?;
        match (&v.op, &v.ty) {
            (ValOp::Operand(Operand::Lit(Literal::Str(_))), _) => self
                .lower_needle(needle)
                .map(|n| Operand::Lit(Literal::Str(n.into()))),
            (ValOp::Operand(o), VTy::Scalar(Scalar::Str)) => Some(o.clone()),
            (_, ty) => {
                let found = ty_word(ty);
                self.error(
                    v.span.clone(),
                    format!("mismatched types: `lower(x)` is compared with {found}, not a string"),
                    Some(LOWER_HELP.into()),
                );
                None
            }
        }
    }

    /// `lower(x) op needle` for a fused operator `op` (`LowerEq` .. `LowerContains`, or `Like`
    /// and `Matches`); over a literal `x` and a literal `needle`, the constant. A needle that is
    /// `lower(y)` folds both sides (issue #14, session 9); another string is compared as it
    /// is (only `x` is folded).
    pub(super) fn lower_test(&mut self, op: StrOp, x: &Expr, needle: &Expr) -> Option<hir::Expr> {
        match op {
            StrOp::Like => return self.lower_like(x, needle),
            StrOp::Matches => return self.lower_matches(x, needle),
            _ => {}
        }
        if let Some(y) = as_lower(needle) {
            return self.lower_both(op, x, y);
        }
        let (o, n) = (self.lower_operand(x), self.lower_other(needle));
        let (o, n) = (o?, n?);
        if let (Operand::Lit(Literal::Str(s)), Operand::Lit(Literal::Str(n))) = (&o, &n) {
            return Some(hir::Expr::Const(op.test(&lowered(s), n)));
        }
        Some(hir::Expr::Str { op, lhs: o, rhs: n })
    }

    /// `lower(x) op lower(y)`: both folded (`str.fold`); a literal side is lowered at compile
    /// time (issue #14, session 9).
    fn lower_both(&mut self, op: StrOp, x: &Expr, y: &Expr) -> Option<hir::Expr> {
        let (a, b) = (self.lower_operand(x), self.lower_operand(y));
        let (a, b) = (a?, b?);
        Some(match (a, b) {
            (Operand::Lit(Literal::Str(a)), Operand::Lit(Literal::Str(b))) => {
                hir::Expr::Const(fold_const(op, &a, &b))
            }
            (a, Operand::Lit(Literal::Str(b))) => hir::Expr::Str {
                op,
                lhs: a,
                rhs: Operand::Lit(Literal::Str(lowered(&b).into())),
            },
            (Operand::Lit(Literal::Str(a)), b) if op == StrOp::LowerEq => hir::Expr::Str {
                op,
                lhs: b,
                rhs: Operand::Lit(Literal::Str(lowered(&a).into())),
            },
            (lhs, rhs) => hir::Expr::Fold { op, lhs, rhs },
        })
    }

    /// `lower(x) like "pattern"` (issue #14, session 9): the pattern must be lower case (a `*`
    /// and an escape lower to themselves).
    fn lower_like(&mut self, x: &Expr, pat: &Expr) -> Option<hir::Expr> {
        let o = self.lower_operand(x);
        let v = self.value(pat)?;
        let ValOp::Operand(Operand::Lit(Literal::Str(p))) = &v.op else {
            self.error(
                v.span.clone(),
                "`like` needs a string literal after it".to_owned(),
                Some(LOWER_HELP.into()),
            );
            return None;
        };
        let low = lowered(p);
        if *p != low {
            self.error(
                v.span.clone(),
                format!("`{p}` is not lower case, so `lower(x)` never matches it"),
                Some(format!("write the pattern in lower case: `\"{low}\"`")),
            );
            return None;
        }
        Some(match o? {
            Operand::Lit(Literal::Str(s)) => hir::Expr::Const(fold_const(StrOp::Like, &s, p)),
            o => hir::Expr::Fold {
                op: StrOp::Like,
                lhs: o,
                rhs: Operand::Lit(Literal::Str(p.clone())),
            },
        })
    }

    /// `lower(x) matches "regex"` (issue #14, session 9): a regex that compiles, with no upper
    /// case letter outside a class, an escape or a flag group (no lowered string has one).
    fn lower_matches(&mut self, x: &Expr, re: &Expr) -> Option<hir::Expr> {
        let o = self.lower_operand(x);
        if !self.check_regex(re) {
            return None;
        }
        let ExprKind::Lit(Lit::Str(r)) = &re.kind else {
            return None;
        };
        if let Some((at, c)) = regex_upper(r) {
            let low = format!(
                "{}{}{}",
                r.get(..at).unwrap_or(""),
                lowered(&c.to_string()),
                r.get(at + c.len_utf8()..).unwrap_or("")
            );
            self.error(
                re.span.clone(),
                format!("`{c}` in the regex is upper case, so `lower(x)` never matches it"),
                Some(format!(
                    "write it in lower case (`\"{low}\"`), or inside a class such as `[A-Za-z]`"
                )),
            );
            return None;
        }
        Some(match o? {
            Operand::Lit(Literal::Str(s)) => hir::Expr::Const(fold_const(StrOp::Matches, &s, r)),
            o => hir::Expr::Fold {
                op: StrOp::Matches,
                lhs: o,
                rhs: Operand::Lit(Literal::Str(r.as_str().into())),
            },
        })
    }

    /// `lower(x) in [..]`: `lower(x) == a or lower(x) == b ...` (every item a lower-case
    /// string literal).
    pub(super) fn lower_in(&mut self, x: &Expr, items: &[(Lit, ByteSpan)]) -> Option<hir::Expr> {
        let o = self.lower_operand(x);
        let mut ok = true;
        let mut needles = Vec::with_capacity(items.len());
        for (lit, span) in items {
            let e = Expr {
                kind: ExprKind::Lit(lit.clone()),
                span: span.clone(),
            };
            match self.lower_needle(&e) {
                Some(n) if !needles.contains(&n) => needles.push(n),
                Some(_) => {}
                None => ok = false,
            }
        }
        let o = o?;
        if !ok {
            return None;
        }
        let parts: Vec<hir::Expr> = needles
            .into_iter()
            .map(|n| match &o {
                Operand::Lit(Literal::Str(s)) => hir::Expr::Const(lowered(s) == n),
                _ => hir::Expr::Str {
                    op: StrOp::LowerEq,
                    lhs: o.clone(),
                    rhs: Operand::Lit(Literal::Str(n.into())),
                },
            })
            .collect();
        Some(match parts.len() {
            0 => hir::Expr::Const(false),
            1 => parts.into_iter().next()?,
            _ => hir::Expr::Or(parts),
        })
    }
}

impl Ctx<'_> {
    /// `lower(x) == "lit"`, `lower(x) != "lit"` (either side); another comparison is an error.
    pub(super) fn lower_cmp(
        &mut self,
        op: crate::ast::CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        span: &ByteSpan,
    ) -> Option<hir::Expr> {
        use crate::ast::CmpOp;
        // `lower(x) == lower(y)` folds both (the needle is `lower(y)` itself).
        let (x, needle) = match (as_lower(lhs), as_lower(rhs)) {
            (Some(x), _) => (x, rhs),
            (None, Some(x)) => (x, lhs),
            (None, None) => return None,
        };
        match op {
            CmpOp::Eq => self.lower_test(StrOp::LowerEq, x, needle),
            CmpOp::Ne => {
                let t = self.lower_test(StrOp::LowerEq, x, needle)?;
                Some(match t {
                    hir::Expr::Const(b) => hir::Expr::Const(!b),
                    t => hir::Expr::Not(Box::new(t)),
                })
            }
            _ => {
                self.error(
                    span.clone(),
                    format!("comparison `{}` is not defined for `lower(x)`", op.symbol()),
                    Some(LOWER_HELP.into()),
                );
                None
            }
        }
    }
}
