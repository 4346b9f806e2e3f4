//! Positions on list constants and list equality against them (issue #13, session 8):
//! `allowed[0]`, `allowed[-1]` with `allowed` a `const` list or a list of a `--data` file are
//! the literal at that position (folded here, before checking: nothing reaches the bundle), and
//! `xs == allowed` / `xs != allowed` (either side) is the list equality `xs == [v1, ..., vk]`
//! of `parser::expand_list_eq`. Out of range, on a non-list constant, a field of a value and
//! ranges are located errors.

use super::{value_word, Cx, Named, Value};
use crate::ast::{ByteSpan, CmpOp, Expr, ExprKind, Lit, Name};

/// The index `index` (negative from the end) resolved against a list of `len` values.
fn resolve_index(index: i32, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let at = if index < 0 {
        len + i64::from(index)
    } else {
        i64::from(index)
    };
    (0..len)
        .contains(&at)
        .then(|| usize::try_from(at).ok())
        .flatten()
}

impl Cx {
    /// `c[i]` with `c` a constant: the literal at that position, or a located error (`Some`
    /// of the name as written after an error). `None` when `name` is no position on a
    /// constant.
    pub(super) fn const_position(&mut self, name: &Name) -> Option<Option<Expr>> {
        let p = ipe_nostd::positional::positional(&name.text)?;
        if let Some(r) = self.map_const_position(name, p) {
            return Some(r);
        }
        if p.list.contains(['.', '[']) {
            return None;
        }
        let (message, help) = match self.named(p.list) {
            Named::Other => return None,
            Named::Bound(l) => (
                format!(
                    "`{}` is {} from a constant list, not a list: it has no position `[{}]`",
                    p.list,
                    super::a_kind(&l),
                    p.index
                ),
                format!("compare it as a value: `{}`", p.list),
            ),
            Named::Const(c) if !c.ranges.is_empty() => (
                format!("constant `{}` holds ranges, which only `in` reads", p.list),
                format!(
                    "test membership with `x in {}`; a position needs a list of values",
                    p.list
                ),
            ),
            Named::Const(c) => match &c.value {
                Value::List(_) if !p.field.is_empty() => (
                    format!(
                        "constant `{}` is a list of values: its element has no field `{}`",
                        p.list, p.field
                    ),
                    format!("compare the element itself: `{}[{}]`", p.list, p.index),
                ),
                Value::List(items) => match resolve_index(p.index, items.len()) {
                    Some(k) => {
                        let l = items.get(k).cloned()?;
                        return Some(Some(Expr {
                            kind: ExprKind::Lit(l),
                            span: name.span.clone(),
                        }));
                    }
                    None => (
                        format!(
                            "position `[{}]` is out of range: constant `{}` has {} values",
                            p.index,
                            p.list,
                            items.len()
                        ),
                        match items.len() {
                            0 => "the list is empty: it has no position".to_owned(),
                            n => format!(
                                "a position is from 0 to {} (or from -{n} to -1 from the end); `{}` is declared in {}",
                                n - 1,
                                p.list,
                                c.origin
                            ),
                        },
                    ),
                },
                v => (
                    format!(
                        "constant `{}` is {}, not a list: it has no position `[{}]`",
                        p.list,
                        value_word(v),
                        p.index
                    ),
                    format!("`{}` is declared in {}", p.list, c.origin),
                ),
            },
        };
        self.error(name.span.clone(), message, Some(help));
        Some(None)
    }

    /// `xs == c` / `xs != c` (either side) with `c` a list constant: the list equality
    /// against its values, or a located error (the expression as written). `None` when
    /// neither side is a bare list constant.
    pub(super) fn const_list_eq(
        &mut self,
        e: &Expr,
        op: CmpOp,
        lhs: &Expr,
        rhs: &Expr,
    ) -> Option<Expr> {
        let name = |e: &Expr| match &e.kind {
            ExprKind::Path(n) => Some(n.clone()),
            _ => None,
        };
        let values = |cx: &Self, n: &Name| match cx.named(&n.text) {
            Named::Const(c) => match &c.value {
                Value::List(items) => Some((items.clone(), !c.ranges.is_empty())),
                _ => None,
            },
            _ => None,
        };
        let (l, r) = (name(lhs), name(rhs));
        let lv = l.as_ref().and_then(|n| values(self, n));
        let rv = r.as_ref().and_then(|n| values(self, n));
        let (cname, (items, ranged), other) = match (lv, rv) {
            (Some(a), Some(b)) => {
                // Two constants: the comparison is known now.
                let same = a.0 == b.0 && !a.1 && !b.1;
                let eq = matches!(op, CmpOp::Eq);
                if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    self.not_eq(e.span.clone());
                    return Some(e.clone());
                }
                return Some(Expr {
                    kind: ExprKind::Lit(Lit::Bool(same == eq)),
                    span: e.span.clone(),
                });
            }
            (_, Some(v)) => (r?, v, lhs),
            (Some(v), _) => (l?, v, rhs),
            (None, None) => return None,
        };
        // Against anything but a declared list of scalars, the constant keeps the error of a
        // list used as a value (`x in c` is membership).
        if !matches!(&other.kind, ExprKind::Path(n)
            if crate::check::list_eq_lists::is_scalar_list(&self.scalar_lists, &n.text))
        {
            return None;
        }
        if ranged {
            self.error(
                cname.span.clone(),
                format!(
                    "constant `{}` holds ranges, which only `in` reads",
                    cname.text
                ),
                Some(format!(
                    "test membership with `x in {}`; `==` needs a list of values",
                    cname.text
                )),
            );
            return Some(e.clone());
        }
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            self.not_eq(e.span.clone());
            return Some(e.clone());
        }
        let ExprKind::Path(list) = &other.kind else {
            return None;
        };
        let items = items
            .into_iter()
            .map(|l| Expr {
                kind: ExprKind::Lit(l),
                span: cname.span.clone(),
            })
            .collect();
        Some(crate::parser::expand_list_eq(
            list,
            items,
            op,
            e.span.clone(),
        ))
    }

    /// `m["k"][i]` with `m` a map constant of lists (issue #13, session 9): the literal at
    /// that position of the key's list, or a located error (an absent key, out of range, a
    /// field of a value, a map of values or of records). `None` when `p.list` is not one
    /// fixed key of a constant.
    fn map_const_position(
        &mut self,
        name: &Name,
        p: ipe_nostd::positional::Positional<'_>,
    ) -> Option<Option<Expr>> {
        let mut segs = ipe_nostd::path::segments(p.list);
        let ipe_nostd::path::Segment::Plain(first) = segs.next()? else {
            return None;
        };
        let key_seg = segs.next()?;
        if !segs.rest().is_empty() {
            return None;
        }
        let mut key = String::new();
        let _ = key_seg.write_key(&mut key);
        let Named::Const(c) = self.named(first) else {
            return None;
        };
        let (message, help) = match &c.value {
            Value::Map(m) => match m.get(&key) {
                None => (
                    format!("map constant `{first}` has no key \"{key}\""),
                    super::did_you_mean(&key, m.keys())
                        .unwrap_or_else(|| format!("`{first}` is declared in {}", c.origin)),
                ),
                Some(_) if !p.field.is_empty() => (
                    format!(
                        "`{}` is a list of values: its element has no field `{}`",
                        p.list, p.field
                    ),
                    format!("compare the element itself: `{}[{}]`", p.list, p.index),
                ),
                Some(items) => match resolve_index(p.index, items.len()) {
                    Some(k) => {
                        let l = items.get(k).cloned()?;
                        return Some(Some(Expr {
                            kind: ExprKind::Lit(l),
                            span: name.span.clone(),
                        }));
                    }
                    None => (
                        format!(
                            "position `[{}]` is out of range: `{}` has {} values",
                            p.index,
                            p.list,
                            items.len()
                        ),
                        match items.len() {
                            0 => "the list is empty: it has no position".to_owned(),
                            n => format!(
                                "a position is from 0 to {} (or from -{n} to -1 from the end); `{first}` is declared in {}",
                                n - 1,
                                c.origin
                            ),
                        },
                    ),
                },
            },
            v => (
                format!(
                    "constant `{first}` is {}: `{}` has no position `[{}]`",
                    value_word(v),
                    p.list,
                    p.index
                ),
                format!("a position selects a value of a map of lists (`{first}` is declared in {})", c.origin),
            ),
        };
        self.error(name.span.clone(), message, Some(help));
        Some(None)
    }

    fn not_eq(&mut self, span: ByteSpan) {
        self.error(
            span,
            "lists compare with `==` and `!=` only".to_owned(),
            Some("test the elements with `xs[0] < 5` or `all(x in xs where ...)`".to_owned()),
        );
    }
}
