//! Template list parameters wherever a list constant may be (issue #13): an aggregate over a
//! `list of <scalar>` or `list of { record }` parameter (`any(r in repos where image
//! starts_with r)`, `all(..)`, `count(r in repos)`, also as one list of a several-list
//! aggregate), a list parameter passed to a def, and the misuse errors located at the use in
//! the template.
//!
//! An aggregate over a parameter is expanded at compile time exactly as one over a list
//! constant (`check::consts`): `any` is the `or` of the filter with the element replaced by
//! each value (`false` for an empty list), `all` the `and` (`true`), `count` without a filter
//! the number of values. For a record list, `r.field` in the filter is that record's field.
//! Nothing of it reaches the bundle: an instance costs what its written-out form costs.

use super::{lit_plain, lit_source, where_is, Cx, Env, TArg, BASE};
use crate::ast::{
    AggKind, ArgValue, ByteSpan, Expr, ExprKind, Lit, Name, ParamTy, RecordArg, ScalarTy,
};
use crate::diag::Problem;

/// What an element name bound by an aggregate over a template list parameter stands for.
#[derive(Clone, Debug)]
pub(super) struct Elem {
    /// The parameter iterated.
    param: String,
    value: ElemValue,
    /// The element's value in the instance (for scalars, the literal's span).
    span: ByteSpan,
}

#[derive(Clone, Debug)]
enum ElemValue {
    Scalar(Lit),
    Record(Vec<(String, Lit, ByteSpan)>),
}

/// The name of a scalar type as a parameter type is written.
pub(super) fn scalar_word(s: &ScalarTy) -> &'static str {
    match s {
        ScalarTy::Str => "string",
        ScalarTy::Int => "int",
        ScalarTy::Bool => "bool",
        ScalarTy::Enum(_) => "enum",
        ScalarTy::Quantity => "quantity",
        ScalarTy::Time => "timestamp",
        ScalarTy::Duration => "duration",
        ScalarTy::Ip => "ip",
    }
}

/// `{ min: int, max: int }`.
pub(super) fn record_ty_name(fields: &[(Name, ScalarTy)]) -> String {
    let f: Vec<String> = fields
        .iter()
        .map(|(n, t)| format!("{}: {}", n.text, scalar_word(t)))
        .collect();
    format!("{{ {} }}", f.join(", "))
}

/// A record argument as the intent renders it (`{min: 1, max: 3}`), `source` choosing
/// source-text literals (strings quoted) over plain ones.
fn record_text(r: &RecordArg, source: bool) -> String {
    let f: Vec<String> = r
        .fields
        .iter()
        .map(|(k, l, _)| {
            let v = if source { lit_source(l) } else { lit_plain(l) };
            format!("{k}: {v}")
        })
        .collect();
    format!("{{{}}}", f.join(", "))
}

/// A record-list argument rendered: `{min: 1, max: 3}, {min: 5, max: 10}` (`source`: with
/// strings quoted, inside `[...]`).
pub(super) fn records_text(rs: &[RecordArg], source: bool) -> String {
    let items: Vec<String> = rs.iter().map(|r| record_text(r, source)).collect();
    if source {
        format!("[{}]", items.join(", "))
    } else {
        items.join(", ")
    }
}

/// Why an argument does not fit a record-list parameter (`found`, where), or `None`.
/// `json`: the argument comes from an instance file, whose values share one span.
pub(super) fn records_mismatch(
    fields: &[(Name, ScalarTy)],
    v: &ArgValue,
    vspan: &ByteSpan,
) -> Option<(String, ByteSpan)> {
    let records = match v {
        ArgValue::Records(rs) => rs,
        // `[]` parses as an empty list of literals: an empty list of records.
        ArgValue::List(items) if items.is_empty() => return None,
        ArgValue::List(_) => return Some(("a list of literals".to_owned(), vspan.clone())),
        ArgValue::Lit(l) => return Some((l.type_word().to_owned(), vspan.clone())),
    };
    for r in records {
        for (k, (name, lit, s)) in r.fields.iter().enumerate() {
            let declared = fields.iter().find(|(f, _)| f.text == name);
            let Some((_, ty)) = declared else {
                return Some((
                    format!("a record with the unknown field `{name}`"),
                    s.clone(),
                ));
            };
            if r.fields.iter().take(k).any(|(n, ..)| n == name) {
                return Some((format!("a record with field `{name}` twice"), s.clone()));
            }
            if !super::lit_fits(lit, ty) {
                return Some((
                    format!("field `{name}` of type {}", lit.type_word()),
                    s.clone(),
                ));
            }
        }
        if let Some((missing, _)) = fields
            .iter()
            .find(|(f, _)| !r.fields.iter().any(|(n, ..)| n == f.text))
        {
            return Some((
                format!("a record without field `{}`", missing.text),
                r.span.clone(),
            ));
        }
    }
    None
}

/// A JSON array of objects as a record-list argument (every field a literal), or `None`.
pub(super) fn json_records(items: &[serde_json::Value], span: &ByteSpan) -> Option<ArgValue> {
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let obj = it.as_object()?;
        let mut fields = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            fields.push((k.clone(), super::json_lit(v)?, span.clone()));
        }
        out.push(RecordArg {
            fields,
            span: span.clone(),
        });
    }
    Some(ArgValue::Records(out))
}

impl Cx<'_> {
    /// An error about a use of a template parameter: underlined at the use (in the template
    /// or def text), the help naming the instance (or def call) it was expanded for.
    pub(super) fn error_at_use(
        &mut self,
        env: &Env,
        span: &ByteSpan,
        message: String,
        help: String,
    ) {
        let real = span.start < BASE;
        let Some(via) = env.via.clone().filter(|_| real) else {
            let s = self.span(env, span);
            let out = self.out_file;
            self.error(out, s, message, Some(help));
            return;
        };
        let site = self.origins.resolve(Problem {
            file: via.file,
            span: via.span.clone(),
            message: String::new(),
            help: None,
        });
        let mut note = format!(
            "{help}; in {} at {}",
            via.what,
            where_is(self.files, site.file, site.span.start)
        );
        if let Some(h) = site.help {
            note.push_str("; ");
            note.push_str(&h);
        }
        self.error(env.file, span.clone(), message, Some(note));
    }

    /// The template list parameter `list` names in `env` (not an element name), if any.
    fn list_tparam(&self, list: &Name, env: &Env) -> Option<TArg> {
        if list.text.contains('.')
            || env.bound.iter().any(|b| *b == list.text)
            || env.elems.contains_key(list.text.as_str())
        {
            return None;
        }
        env.tparams.get(list.text.as_str()).cloned()
    }

    /// The argument of a def call when it is a bare template list parameter: passed on to the
    /// def as a list parameter of its own.
    pub(super) fn list_arg(&self, a: &Expr, env: &Env) -> Option<TArg> {
        let ExprKind::Path(n) = &a.kind else {
            return None;
        };
        self.list_tparam(n, env)
            .filter(|t| !matches!(t.value, ArgValue::Lit(_)))
    }

    /// An aggregate one of whose lists is a template parameter, expanded; `None` when none of
    /// `lists` is one (the ordinary aggregate).
    pub(super) fn tparam_agg(
        &mut self,
        kind: AggKind,
        var: &Name,
        lists: &[Name],
        filter: Option<&Expr>,
        span: &ByteSpan,
        env: &Env,
    ) -> Option<Expr> {
        if !lists.iter().any(|l| self.list_tparam(l, env).is_some()) {
            return None;
        }
        let whole = self.span(env, span);
        let fail = |cx: &mut Self| {
            Some(Expr {
                kind: ExprKind::Lit(Lit::Bool(false)),
                span: cx.span(env, span),
            })
        };
        if lists.len() > 1 && kind == AggKind::Count {
            self.error_at_use(
                env,
                span,
                "`count` over several lists is not supported yet".to_owned(),
                "`any` and `all` take several lists".to_owned(),
            );
            return fail(self);
        }
        let mut parts = Vec::new();
        for l in lists {
            let Some(a) = self.list_tparam(l, env) else {
                // Another list of a several-list aggregate: the ordinary expansion.
                parts.push(self.agg(kind, var, std::slice::from_ref(l), filter, span, env));
                continue;
            };
            let elems: Vec<(ElemValue, ByteSpan)> = match &a.value {
                ArgValue::Lit(_) => {
                    self.error_at_use(
                        env,
                        &l.span,
                        format!(
                            "parameter `{}` is a {}, not a list",
                            l.text,
                            super::ty_name(&a.ty)
                        ),
                        format!(
                            "an aggregate iterates a list; declare `{}: list of ...`",
                            l.text
                        ),
                    );
                    return fail(self);
                }
                ArgValue::List(items) => items
                    .iter()
                    .map(|(v, s)| (ElemValue::Scalar(v.clone()), value_span(s, &a.span)))
                    .collect(),
                ArgValue::Records(rs) => rs
                    .iter()
                    .map(|r| {
                        (
                            ElemValue::Record(r.fields.clone()),
                            value_span(&r.span, &a.span),
                        )
                    })
                    .collect(),
            };
            let Some(filter) = filter else {
                if kind == AggKind::Count {
                    let n = i64::try_from(elems.len()).unwrap_or(i64::MAX);
                    return Some(Expr {
                        kind: ExprKind::Lit(Lit::Int(n)),
                        span: whole,
                    });
                }
                // `any(r in p)` / `all(r in p)` without a filter: the checker's own error.
                parts.push(Expr {
                    kind: ExprKind::Agg {
                        kind,
                        var: Box::new(var.clone()),
                        list: Box::new(Name {
                            text: l.text.clone(),
                            span: self.span(env, &l.span),
                        }),
                        filter: None,
                    },
                    span: whole.clone(),
                });
                continue;
            };
            if kind == AggKind::Count {
                self.error_at_use(
                    env,
                    span,
                    format!(
                        "`count` with a filter over the list parameter `{}` is not supported",
                        l.text
                    ),
                    format!(
                        "test the values with `any(v in {} where ...)` or `all(...)`",
                        l.text
                    ),
                );
                return fail(self);
            }
            let mut copies = Vec::with_capacity(elems.len());
            for (value, vspan) in elems {
                let mut inner = env.clone();
                inner.elems.insert(
                    var.text.as_str().to_owned(),
                    Elem {
                        param: l.text.as_str().to_owned(),
                        value,
                        span: vspan,
                    },
                );
                copies.push(self.expr(filter, &inner));
            }
            parts.push(match copies.len() {
                0 => Expr {
                    kind: ExprKind::Lit(Lit::Bool(kind == AggKind::All)),
                    span: whole.clone(),
                },
                _ => joined(copies, kind, whole.clone()),
            });
        }
        Some(if parts.len() == 1 {
            parts
                .pop()
                .unwrap_or_else(|| joined(Vec::new(), kind, whole.clone()))
        } else {
            joined(parts, kind, whole)
        })
    }

    /// A path whose first segment is an element bound over a template list parameter: the
    /// value (or the record's field) as a literal, or a located error. `None` when the first
    /// segment is no such element.
    pub(super) fn elem_path(&mut self, n: &Name, env: &Env) -> Option<Expr> {
        let (head, rest) = match n.text.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (n.text.as_str(), None),
        };
        let e = env.elems.get(head)?.clone();
        let found = match (&e.value, rest) {
            (ElemValue::Scalar(l), None) => Some((l.clone(), e.span.clone())),
            (ElemValue::Record(fields), Some(f)) => fields
                .iter()
                .find(|(k, ..)| k == f)
                .map(|(_, l, s)| (l.clone(), value_span(s, &e.span))),
            _ => None,
        };
        if let Some((l, s)) = found {
            self.nodes += 1;
            let note = format!(
                "the value of parameter `{}` used at {}",
                e.param,
                where_is(self.files, env.file, n.span.start)
            );
            let out = self.out_file;
            return Some(Expr {
                kind: ExprKind::Lit(l.clone()),
                span: self.origins.add(lit_plain(&l), out, s, note),
            });
        }
        let (message, help) = match (&e.value, rest) {
            (ElemValue::Scalar(l), Some(f)) => (
                format!(
                    "`{head}` is a {} of the list parameter `{}`, it has no field `{f}`",
                    l.type_word(),
                    e.param
                ),
                format!("use `{head}` itself as a value"),
            ),
            (ElemValue::Record(fields), Some(f)) => (
                format!(
                    "`{head}` is a record of the list parameter `{}`, it has no field `{f}`",
                    e.param
                ),
                format!("its fields are {}", field_names(fields)),
            ),
            _ => (
                format!(
                    "`{head}` is a record of the list parameter `{}`, not a value",
                    e.param
                ),
                format!("use one of its fields: {}", field_names_of(&e.value, head)),
            ),
        };
        self.error_at_use(env, &n.span, message, help);
        Some(Expr {
            kind: ExprKind::Lit(Lit::Bool(false)),
            span: self.span(env, &n.span),
        })
    }

    /// An element over a template list parameter where a request attribute is needed (`has`,
    /// `in`, a list to iterate): a located error. `false` when `n` names no such element.
    pub(super) fn elem_not_path(&mut self, n: &Name, env: &Env) -> bool {
        let head = n.text.split('.').next().unwrap_or("");
        let Some(e) = env.elems.get(head).cloned() else {
            return false;
        };
        self.error_at_use(
            env,
            &n.span,
            format!(
                "`{head}` is an element of the list parameter `{}`, not an attribute",
                e.param
            ),
            "it is a value fixed by the instance: compare it (`x == v`), it cannot be read, tested with `has` or iterated".to_owned(),
        );
        true
    }

    /// A record-list parameter after `in` or a set operator: a located error.
    pub(super) fn records_not_values(&mut self, list: &Name, a: &TArg, env: &Env) {
        let ty = super::ty_name(&a.ty);
        self.error_at_use(
            env,
            &list.span,
            format!("parameter `{}` is a {ty}, not a list of values", list.text),
            format!(
                "iterate it: `any(r in {} where ...)` and read fields as `r.field`",
                list.text
            ),
        );
    }
}

/// `(a or b or ...)` / `(a and b and ...)` with the aggregate's span (its text is the clause
/// text of a requirement).
fn joined(mut parts: Vec<Expr>, kind: AggKind, span: ByteSpan) -> Expr {
    let inner = if parts.len() == 1 {
        parts.pop().unwrap_or(Expr {
            kind: ExprKind::Lit(Lit::Bool(kind == AggKind::All)),
            span: span.clone(),
        })
    } else {
        Expr {
            kind: match kind {
                AggKind::All => ExprKind::And(parts),
                _ => ExprKind::Or(parts),
            },
            span: span.clone(),
        }
    };
    Expr {
        kind: ExprKind::Paren(Box::new(inner)),
        span,
    }
}

/// A value's own span when it is a real one, else the argument's.
fn value_span(s: &ByteSpan, arg: &ByteSpan) -> ByteSpan {
    if s.start >= BASE || s.is_empty() {
        arg.clone()
    } else {
        s.clone()
    }
}

fn field_names(fields: &[(String, Lit, ByteSpan)]) -> String {
    fields
        .iter()
        .map(|(k, ..)| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn field_names_of(v: &ElemValue, head: &str) -> String {
    match v {
        ElemValue::Record(fields) => fields
            .iter()
            .map(|(k, ..)| format!("`{head}.{k}`"))
            .collect::<Vec<_>>()
            .join(", "),
        ElemValue::Scalar(_) => format!("`{head}`"),
    }
}

/// A well-typed record-list argument with each record's fields in the declared order (how
/// the intent and clause texts render it, whatever order the instance wrote them in).
pub(super) fn declared_order(ty: &ParamTy, v: ArgValue) -> ArgValue {
    let (ParamTy::Records(fields), ArgValue::Records(mut rs)) = (ty, v.clone()) else {
        return v;
    };
    let rank = |name: &str| fields.iter().position(|(f, _)| f.text == name);
    for r in &mut rs {
        r.fields.sort_by_key(|(k, ..)| rank(k));
    }
    ArgValue::Records(rs)
}
