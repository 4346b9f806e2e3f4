//! Positions on template list parameters and list equality against them (issue #13, session
//! 8): `repos[0]`, `allowed[-1]`, `ranges[0].min` (a record list's field) are the literal the
//! instance binds at that position, folded when the instance is expanded (one literal per
//! instance); `xs == p` / `xs != p` with `p` a `list of <scalar>` parameter is the list
//! equality `xs == [v1, ..., vk]` (`parser::expand_list_eq`). A position out of range, on a
//! scalar parameter, a record without a field or a record list compared with `==` is a located
//! error at the use, naming the instance.

use super::{lit_plain, where_is, Cx, Env, TArg, BASE};
use crate::ast::{ArgValue, ByteSpan, CmpOp, Expr, ExprKind, Lit, Name};

/// The index `index` (negative from the end) resolved against a list of `len` values.
pub(super) fn resolve_index(index: i32, len: usize) -> Option<usize> {
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

impl Cx<'_> {
    /// The template list parameter `head` names in `env` (not shadowed by an element, a bound
    /// name or a def parameter).
    fn tparam_named(&self, head: &str, env: &Env) -> Option<TArg> {
        if head.contains('.')
            || head.contains('[')
            || env.bound.iter().any(|b| b == head)
            || env.elems.contains_key(head)
            || env.subst.contains_key(head)
        {
            return None;
        }
        env.tparams.get(head).cloned()
    }

    /// `p[i]` or `p[i].field` with `p` a template parameter: the literal at that position, or
    /// a located error (then a `false` literal). `None` when `n` is no such position.
    pub(super) fn tparam_position(&mut self, n: &Name, env: &Env) -> Option<Expr> {
        let p = ipe_nostd::positional::positional(&n.text)?;
        let a = self.tparam_named(p.list, env)?;
        let head = p.list;
        let found: Result<(Lit, ByteSpan), (String, String)> = match &a.value {
            ArgValue::Lit(l) => Err((
                format!(
                    "parameter `{head}` is a {}, not a list: it has no position `[{}]`",
                    l.type_word(),
                    p.index
                ),
                format!("compare it as a value: `{head}`"),
            )),
            ArgValue::List(items) => match resolve_index(p.index, items.len()) {
                _ if !p.field.is_empty() => Err((
                    format!(
                        "`{head}` is a {}: its element has no field `{}`",
                        super::ty_name(&a.ty),
                        p.field
                    ),
                    format!("compare the element itself: `{head}[{}]`", p.index),
                )),
                Some(k) => items
                    .get(k)
                    .cloned()
                    .ok_or_else(|| out_of_range(head, p.index, items.len())),
                None => Err(out_of_range(head, p.index, items.len())),
            },
            ArgValue::Records(rs) => match resolve_index(p.index, rs.len()) {
                None => Err(out_of_range(head, p.index, rs.len())),
                Some(k) => {
                    let r = rs.get(k);
                    let names: Vec<String> = r
                        .map(|r| r.fields.iter().map(|(f, ..)| format!("`{f}`")).collect())
                        .unwrap_or_default();
                    match r.and_then(|r| r.fields.iter().find(|(f, ..)| f == p.field)) {
                        Some((_, l, s)) => Ok((l.clone(), s.clone())),
                        None if p.field.is_empty() => Err((
                            format!("`{}` is a record, not a value", n.text),
                            format!("use one of its fields: {}", names.join(", ")),
                        )),
                        None => Err((
                            format!(
                                "the records of parameter `{head}` have no field `{}`",
                                p.field
                            ),
                            format!("its fields are {}", names.join(", ")),
                        )),
                    }
                }
            },
        };
        match found {
            Ok((l, s)) => {
                self.nodes += 1;
                let s = if s.start >= BASE || s.is_empty() {
                    a.span.clone()
                } else {
                    s
                };
                let note = format!(
                    "the value of parameter `{head}` at position [{}] used at {}",
                    p.index,
                    where_is(self.files, env.file, n.span.start)
                );
                let out = self.out_file;
                Some(Expr {
                    kind: ExprKind::Lit(l.clone()),
                    span: self.origins.add(lit_plain(&l), out, s, note),
                })
            }
            Err((message, help)) => {
                self.error_at_use(env, &n.span, message, help);
                Some(Self::lit(self.span(env, &n.span)))
            }
        }
    }

    /// `xs == p` / `xs != p` (either side) with `p` a template list parameter: the list
    /// equality against the instance's values; `None` when neither side is a bare list
    /// parameter.
    pub(super) fn tparam_list_eq(
        &mut self,
        op: CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        span: &ByteSpan,
        env: &Env,
    ) -> Option<Expr> {
        let param = |e: &Expr| match &e.kind {
            ExprKind::Path(n) => Some(n.clone()),
            _ => None,
        };
        let (pname, other) = match (param(lhs), param(rhs)) {
            (_, Some(n)) if self.is_list_tparam(&n, env) => (n, lhs),
            (Some(n), _) if self.is_list_tparam(&n, env) => (n, rhs),
            _ => return None,
        };
        // Against anything but a declared list of scalars, the parameter keeps the error of
        // a list used as a value.
        let lists = crate::check::list_eq_lists::scalar_lists(self.files.iter().map(|f| f.ast));
        if !matches!(&other.kind, ExprKind::Path(n)
            if crate::check::list_eq_lists::is_scalar_list(&lists, &n.text))
        {
            return None;
        }
        let a = self.tparam_named(&pname.text, env)?;
        let whole = self.span(env, span);
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            self.error_at_use(
                env,
                span,
                "lists compare with `==` and `!=` only".to_owned(),
                format!(
                    "test the elements with `{}[0] < 5` or `all(x in xs where ...)`",
                    pname.text
                ),
            );
            return Some(Self::lit(whole));
        }
        let items = match &a.value {
            ArgValue::List(items) => items.clone(),
            _ => {
                self.records_not_values(&pname, &a, env);
                return Some(Self::lit(whole));
            }
        };
        let other = self.expr(other, env);
        let ExprKind::Path(list) = other.kind else {
            return None;
        };
        let out = self.out_file;
        let note = format!(
            "the value of parameter `{}` used at {}",
            pname.text,
            where_is(self.files, env.file, pname.span.start)
        );
        let items = items
            .into_iter()
            .map(|(l, s)| {
                let s = if s.start >= BASE || s.is_empty() {
                    a.span.clone()
                } else {
                    s
                };
                Expr {
                    span: self.origins.add(lit_plain(&l), out, s, note.clone()),
                    kind: ExprKind::Lit(l),
                }
            })
            .collect();
        Some(crate::parser::expand_list_eq(&list, items, op, whole))
    }

    fn is_list_tparam(&self, n: &Name, env: &Env) -> bool {
        self.tparam_named(&n.text, env)
            .is_some_and(|a| !matches!(a.value, ArgValue::Lit(_)))
    }
}

/// The message and help of a position out of range of a list of `len` values.
fn out_of_range(head: &str, index: i32, len: usize) -> (String, String) {
    (
        format!("position `[{index}]` is out of range: `{head}` has {len} values"),
        if len == 0 {
            "the list is empty: it has no position".to_owned()
        } else {
            format!(
                "a position is from 0 to {} (or from -{len} to -1 from the end)",
                len - 1
            )
        },
    )
}

/// The clause text of a position on a template parameter: `rest` is the text right after the
/// parameter's name; when it starts with a position (`[1]`, `[-1].max` on a record list) that
/// is in range, the value as source text and the length of text it replaces.
pub(super) fn position_text(rest: &str, a: &TArg) -> Option<(String, usize)> {
    let inner = rest.strip_prefix('[')?;
    let close = inner.find(']')?;
    let index: i32 = inner.get(..close)?.parse().ok()?;
    let used = close + 2;
    match &a.value {
        ArgValue::List(items) => {
            let (l, _) = items.get(resolve_index(index, items.len())?)?;
            Some((super::lit_source(l), used))
        }
        ArgValue::Records(rs) => {
            let r = rs.get(resolve_index(index, rs.len())?)?;
            let after = rest.get(used..)?.strip_prefix('.')?;
            let n = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let field = after.get(..n)?;
            let (_, l, _) = r.fields.iter().find(|(f, ..)| f == field)?;
            Some((super::lit_source(l), used + 1 + n))
        }
        ArgValue::Lit(_) => None,
    }
}
