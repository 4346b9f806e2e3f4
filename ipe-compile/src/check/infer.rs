//! Type inference for bundles without a schema: each path takes the type of what it is
//! compared with; paths whose type nothing determines are strings. `.count` after a path
//! always means the length of a list here. An element field used as a list is a nested list
//! (issue #13), declared as `list[].field` like a schema's.

use super::schema::DEFAULT_MAX_LEN;
use super::SourceFile;
use crate::ast::{self, ByteSpan, Expr, ExprKind, Lit, Name};
use crate::diag::Problem;
use crate::hir::{Field, Scalar, SlotType};
use std::collections::BTreeMap;

/// An inferred type.
#[derive(Clone, Debug, PartialEq)]
enum It {
    Str,
    Int,
    Bool,
    /// A list of scalars, element type when known.
    List(Option<Box<It>>),
    Records,
    /// Issue #14: from `now`, a timestamp literal or `hour(..)`'s argument.
    Time,
    /// Issue #14: from a duration literal.
    Duration,
}

fn word(t: &It) -> &'static str {
    match t {
        It::Str => "string",
        It::Int => "int",
        It::Bool => "bool",
        It::List(_) => "list",
        It::Records => "list of records",
        It::Time => "timestamp",
        It::Duration => "duration",
    }
}

/// What an operand tells about types.
enum Info {
    Known(It),
    Key(String),
    Nothing,
}

#[derive(Default)]
struct Infer {
    types: BTreeMap<String, Option<It>>,
    eqs: Vec<(String, String, usize, ByteSpan)>,
    members: Vec<(String, String, usize, ByteSpan)>,
    scopes: Vec<(String, String)>,
    /// Issue 13: lists whose bound element is used itself (`t` in `all(t in tags where t ==
    /// "a")`), with the first such use: a list of scalars, not of records.
    self_uses: BTreeMap<String, (usize, ByteSpan)>,
    file: usize,
    problems: Vec<Problem>,
}

/// Infers a schema from the policies' uses of paths.
pub(super) fn infer(
    files: &[SourceFile<'_>],
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, SlotType> {
    let mut cx = Infer::default();
    for (fi, f) in files.iter().enumerate() {
        cx.file = fi;
        for item in &f.ast.items {
            let ps: &[ast::Policy] = match item {
                ast::Item::Policy(p) => std::slice::from_ref(p),
                ast::Item::Group(g) => &g.policies,
                _ => continue,
            };
            for p in ps {
                if let Some(t) = &p.trigger {
                    cx.cond(t);
                }
                if let ast::Body::Requires { expr, .. } = &p.body {
                    cx.cond(expr);
                }
            }
        }
    }
    cx.propagate();
    problems.append(&mut cx.problems);
    let mut out = BTreeMap::new();
    for (key, t) in &cx.types {
        let Some(path) = slot_path(key, t.as_ref()) else {
            continue;
        };
        let ty = match t {
            None | Some(It::Str) => SlotType::Scalar(Scalar::Str),
            Some(It::Int) => SlotType::Scalar(Scalar::Int),
            Some(It::Bool) => SlotType::Scalar(Scalar::Bool),
            Some(It::Time) => SlotType::Scalar(Scalar::Time),
            Some(It::Duration) => SlotType::Scalar(Scalar::Duration),
            Some(It::List(e)) => SlotType::List {
                elem: match e.as_deref() {
                    Some(It::Int) => Scalar::Int,
                    Some(It::Bool) => Scalar::Bool,
                    _ => Scalar::Str,
                },
                max_len: DEFAULT_MAX_LEN,
            },
            Some(It::Records) if cx.self_uses.contains_key(key) => {
                // The element itself is read: a list of scalars, unless fields are read too.
                let prefix = format!("{key}\0");
                let mut fields = cx
                    .types
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix));
                let elem = fields.next().and_then(|(_, t)| t.clone());
                if fields.next().is_some() {
                    let (file, span) = cx.self_uses[key].clone();
                    problems.push(Problem {
                        file,
                        span,
                        message: format!(
                            "conflicting types for `{key}[]`: an element used as a value and as a record"
                        ),
                        help: Some("declare the list in a schema".to_owned()),
                    });
                }
                SlotType::List {
                    elem: match elem {
                        Some(It::Int) => Scalar::Int,
                        Some(It::Bool) => Scalar::Bool,
                        _ => Scalar::Str,
                    },
                    max_len: DEFAULT_MAX_LEN,
                }
            }
            Some(It::Records) => {
                let fields = cx.element_fields(key);
                SlotType::Records {
                    elem_name: None,
                    fields,
                    max_len: DEFAULT_MAX_LEN,
                }
            }
        };
        out.insert(path, ty);
    }
    out
}

/// The schema path of inference key `key` of type `t`, or `None` when the key is no slot:
/// a top-level attribute is its path; an element field (`list\0field`) is a slot only when
/// it is a nested list (issue #13), `list[].field` (`containers[].ports`, one `[]` per level).
fn slot_path(key: &str, t: Option<&It>) -> Option<String> {
    if !key.contains('\0') {
        return Some(key.to_owned());
    }
    if key.ends_with('\0') || !matches!(t, Some(It::List(_) | It::Records)) {
        return None;
    }
    Some(key.split('\0').collect::<Vec<_>>().join("[]."))
}

impl Infer {
    /// The fields of the elements of list `key` (sorted by path): its direct element fields,
    /// a nested list among them as a field of its own (its type is its slot's, as for a
    /// declared nested list), and not `field.count` next to a nested list `field` (that is
    /// the nested list's length).
    fn element_fields(&self, key: &str) -> Vec<Field> {
        let prefix = format!("{key}\0");
        let direct: Vec<(&str, Option<&It>)> = self
            .types
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, t)| (&k[prefix.len()..], t.as_ref()))
            .filter(|(rest, _)| !rest.is_empty() && !rest.contains('\0'))
            .collect();
        let is_list = |f: &str| {
            direct
                .iter()
                .any(|(r, t)| *r == f && matches!(t, Some(It::List(_) | It::Records)))
        };
        direct
            .iter()
            .filter(|(rest, _)| !rest.strip_suffix(".count").is_some_and(is_list))
            .map(|(rest, t)| Field {
                path: (*rest).to_owned(),
                ty: match t {
                    Some(It::Int) => Scalar::Int,
                    Some(It::Bool) => Scalar::Bool,
                    Some(It::Time) => Scalar::Time,
                    Some(It::Duration) => Scalar::Duration,
                    _ => Scalar::Str,
                },
            })
            .collect()
    }

    fn set(&mut self, key: &str, t: It, span: &ByteSpan) {
        let entry = self.types.entry(key.to_owned()).or_insert(None);
        let merged = match (entry.take(), t) {
            (None, t) => t,
            (Some(a), b) if a == b => a,
            (Some(It::List(None)), It::List(e)) | (Some(It::List(e)), It::List(None)) => {
                It::List(e)
            }
            (Some(It::List(None)), It::Records) | (Some(It::Records), It::List(None)) => {
                It::Records
            }
            (Some(a), b) => {
                let shown = match key.split_once('\0') {
                    Some((list, field)) => crate::hir::joined(&format!("{list}[]"), field),
                    None => key.to_owned(),
                };
                self.problems.push(Problem {
                    file: self.file,
                    span: span.clone(),
                    message: format!(
                        "conflicting types for `{shown}`: {} and {}",
                        word(&a),
                        word(&b)
                    ),
                    help: None,
                });
                a
            }
        };
        *self.types.entry(key.to_owned()).or_insert(None) = Some(merged);
    }

    fn mention(&mut self, key: &str) {
        self.types.entry(key.to_owned()).or_insert(None);
    }

    /// The key of a path: `path` for attributes, `list\0field` for element fields (`list\0`
    /// for the element itself, whose use is recorded).
    fn key(&mut self, name: &Name) -> String {
        let (first, rest) = ipe_nostd::path::split_first(&name.text);
        match self.scopes.iter().rev().find(|(v, _)| v == first) {
            Some((_, list)) => {
                let list = list.clone();
                if let Some(p) = ipe_nostd::positional::positional(rest) {
                    // A position on an element's list field (`c.args[0]`, session 9): the
                    // readers derive it from the nested list a schema declares.
                    self.problems.push(Problem {
                        file: self.file,
                        span: name.span.clone(),
                        message: format!(
                            "the list position `{}` needs a schema declaring `{}`",
                            name.text,
                            crate::hir::joined(first, p.list)
                        ),
                        help: Some(format!(
                            "declare the list field `{}` of the elements of `{list}` in a \
                             `schema {{ ... }}` block",
                            p.list
                        )),
                    });
                }
                if rest.is_empty() {
                    self.self_uses
                        .entry(list.clone())
                        .or_insert_with(|| (self.file, name.span.clone()));
                }
                format!("{list}\0{rest}")
            }
            None => {
                // A list position (`items[0].name`) selects an element of a declared list:
                // without a schema there is no list slot for the readers to derive it from.
                if let Some(p) = ipe_nostd::positional::positional(&name.text) {
                    self.problems.push(Problem {
                        file: self.file,
                        span: name.span.clone(),
                        message: format!(
                            "the list position `{}` needs a schema declaring `{}`",
                            name.text, p.list
                        ),
                        help: Some(format!(
                            "declare `{}` as a list in a `schema {{ ... }}` block",
                            p.list
                        )),
                    });
                }
                name.text.as_str().to_owned()
            }
        }
    }

    fn operand(&mut self, e: &Expr) -> Info {
        match &e.kind {
            ExprKind::Lit(Lit::Str(_)) => Info::Known(It::Str),
            ExprKind::Lit(Lit::Int(_)) => Info::Known(It::Int),
            ExprKind::Lit(Lit::Bool(_)) => Info::Known(It::Bool),
            ExprKind::Paren(x) => self.operand(x),
            ExprKind::Path(name) => {
                if let Some(list) = name.text.strip_suffix(".count") {
                    if !self
                        .scopes
                        .iter()
                        .any(|(v, _)| ipe_nostd::path::split_first(&name.text).0 == v)
                    {
                        self.set(list, It::List(None), &name.span);
                        return Info::Known(It::Int);
                    }
                }
                let k = self.key(name);
                self.mention(&k);
                Info::Key(k)
            }
            ExprKind::CountLists(xs) => {
                xs.iter().for_each(|x| self.cond(x));
                Info::Known(It::Int)
            }
            // `segment(x, sep, i)` (issue #14): `x` is a string, and so is the piece.
            ExprKind::Segment(xs) => {
                if let Some(x) = xs.first() {
                    if let Info::Key(k) = self.operand(x) {
                        self.set(&k, It::Str, &x.span);
                    }
                }
                xs.iter().skip(1).for_each(|x| {
                    self.operand(x);
                });
                Info::Known(It::Str)
            }
            // `M[y]` (issue #13): `y` is a string, the value has the type of the table's rows.
            ExprKind::Lookup(l) => {
                if let Info::Key(k) = self.operand(&l.key) {
                    self.set(&k, It::Str, &l.key.span);
                }
                if l.rows.is_none() {
                    // Issue #13: a request map read with a run-time key; a JSON object is a
                    // map only where a schema says so.
                    self.problems.push(Problem {
                        file: self.file,
                        span: l.map.span.clone(),
                        message: format!("map `{}` needs a schema", l.map.text),
                        help: Some(format!(
                            "declare it in a schema block, e.g. `{}: map of string`",
                            l.map.text
                        )),
                    });
                }
                match l.rows.as_ref().and_then(|r| r.first()).map(|r| &r.1) {
                    Some(Lit::Str(_)) => Info::Known(It::Str),
                    Some(Lit::Int(_)) => Info::Known(It::Int),
                    Some(Lit::Bool(_)) => Info::Known(It::Bool),
                    _ => Info::Nothing,
                }
            }
            ExprKind::TimeLit {
                ty: ast::TimeTy::Time,
                ..
            }
            | ExprKind::Now => Info::Known(It::Time),
            ExprKind::TimeLit { .. } => Info::Known(It::Duration),
            ExprKind::TimePart { part, arg, .. } => {
                if let Info::Key(k) = self.operand(arg) {
                    self.set(&k, It::Time, &arg.span);
                }
                if *part == ast::TimePart::TimeOfDay {
                    Info::Known(It::Duration)
                } else {
                    Info::Known(It::Int)
                }
            }
            // Without a schema a path in `+`/`-` takes its type from elsewhere (a comparison
            // with `now`, `hour(..)`); the result's type follows from known operands.
            ExprKind::TimeArith { sub, lhs, rhs, .. } => {
                match (self.operand(lhs), self.operand(rhs)) {
                    (Info::Known(It::Time), Info::Known(It::Time)) if *sub => {
                        Info::Known(It::Duration)
                    }
                    (Info::Known(It::Time), _) | (_, Info::Known(It::Time)) => {
                        Info::Known(It::Time)
                    }
                    (Info::Known(It::Duration), Info::Known(It::Duration)) => {
                        Info::Known(It::Duration)
                    }
                    _ => Info::Nothing,
                }
            }
            ExprKind::Agg { kind, .. } => {
                self.cond(e);
                if *kind == ast::AggKind::Count {
                    Info::Known(It::Int)
                } else {
                    Info::Nothing
                }
            }
            ExprKind::Where { expr, filter, .. } => {
                let i = self.operand(expr);
                self.cond(filter);
                i
            }
            ExprKind::Len(x) => {
                // Issue #14: `len` reads a string.
                if let Info::Key(k) = self.operand(x) {
                    self.set(&k, It::Str, &x.span);
                }
                Info::Known(It::Int)
            }
            ExprKind::Lower(x) => {
                // Issue #14: `lower` reads a string and compares as one.
                if let Info::Key(k) = self.operand(x) {
                    self.set(&k, It::Str, &x.span);
                }
                Info::Known(It::Str)
            }
            ExprKind::Arith { op, args } => {
                // Issue #14: every operand of arithmetic is an int, but for `+` and `-` with a
                // timestamp or duration operand (time arithmetic, typed like `TimeArith`).
                let infos: Vec<Info> = args.iter().map(|a| self.operand(a)).collect();
                let known = |i: &Info, t: It| matches!(i, Info::Known(k) if *k == t);
                let timeish = matches!(op, ast::ArithOp::Add | ast::ArithOp::Sub)
                    && infos
                        .iter()
                        .any(|i| known(i, It::Time) || known(i, It::Duration));
                if timeish {
                    let sub = *op == ast::ArithOp::Sub;
                    let (l, r) = (infos.first(), infos.get(1));
                    let is = |i: Option<&Info>, t: It| i.is_some_and(|i| known(i, t));
                    if sub && is(l, It::Time) && is(r, It::Time) {
                        Info::Known(It::Duration)
                    } else if is(l, It::Time) || is(r, It::Time) {
                        Info::Known(It::Time)
                    } else if is(l, It::Duration) && is(r, It::Duration) {
                        Info::Known(It::Duration)
                    } else {
                        Info::Nothing
                    }
                } else {
                    for (a, info) in args.iter().zip(infos) {
                        if let Info::Key(k) = info {
                            self.set(&k, It::Int, &a.span);
                        }
                    }
                    Info::Known(It::Int)
                }
            }
            ExprKind::Coalesce { lhs, rhs, .. } => {
                // Every alternative has the type of the first.
                let (l, r) = (self.operand(lhs), self.operand(rhs));
                match (l, r) {
                    (Info::Key(k), Info::Known(t)) => {
                        self.set(&k, t, &rhs.span);
                        Info::Key(k)
                    }
                    (Info::Key(a), Info::Key(b)) => {
                        self.eqs.push((a.clone(), b, self.file, rhs.span.clone()));
                        Info::Key(a)
                    }
                    (l, _) => l,
                }
            }
            _ => {
                self.cond(e);
                Info::Nothing
            }
        }
    }

    fn cond(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Lit(_)
            | ExprKind::Call { .. }
            | ExprKind::AggLists { .. }
            | ExprKind::TimeLit { .. }
            | ExprKind::Now => {}
            ExprKind::TimeArith { .. } | ExprKind::TimePart { .. } => {
                let _ = self.operand(e);
            }
            ExprKind::Path(name) => {
                if let Info::Key(k) = self.operand(&Expr {
                    kind: ExprKind::Path(name.clone()),
                    span: e.span.clone(),
                }) {
                    self.set(&k, It::Bool, &e.span);
                }
            }
            ExprKind::Paren(x) | ExprKind::Not(x) => self.cond(x),
            ExprKind::And(xs) | ExprKind::Or(xs) | ExprKind::CountLists(xs) => {
                xs.iter().for_each(|x| self.cond(x))
            }
            ExprKind::Where { expr, filter, .. } => {
                self.cond(expr);
                self.cond(filter);
            }
            ExprKind::Coalesce { .. } => {
                if let Info::Key(k) = self.operand(e) {
                    self.set(&k, It::Bool, &e.span);
                }
            }
            ExprKind::Arith { .. }
            | ExprKind::Len(_)
            | ExprKind::Lower(_)
            | ExprKind::Segment(_) => {
                self.operand(e);
            }
            ExprKind::Lookup(_) => {
                let _ = self.operand(e);
            }
            ExprKind::Has(name) => {
                let k = self.key(name);
                self.mention(&k);
            }
            ExprKind::Agg {
                kind,
                var,
                list,
                filter,
            } => {
                let lk = self.key(list);
                let t = if filter.is_some() || *kind != ast::AggKind::Count {
                    It::Records
                } else {
                    It::List(None)
                };
                self.set(&lk, t, &list.span);
                if let Some(f) = filter {
                    self.scopes.push((var.text.as_str().to_owned(), lk));
                    self.cond(f);
                    self.scopes.pop();
                }
            }
            ExprKind::MapAgg { map, .. } => {
                // A JSON object is a map only where a schema says so.
                self.problems.push(Problem {
                    file: self.file,
                    span: map.span.clone(),
                    message: format!("map `{}` needs a schema", map.text),
                    help: Some(format!(
                        "declare it in a schema block, e.g. `{}: map of string`",
                        map.text
                    )),
                });
            }
            ExprKind::Cmp { sides, .. } => {
                let [lhs, rhs] = &**sides;
                let (l, r) = (self.operand(lhs), self.operand(rhs));
                match (l, r) {
                    (Info::Key(k), Info::Known(t)) => self.set(&k, t, &lhs.span),
                    (Info::Known(t), Info::Key(k)) => self.set(&k, t, &rhs.span),
                    (Info::Key(a), Info::Key(b)) => {
                        self.eqs.push((a, b, self.file, rhs.span.clone()))
                    }
                    _ => {}
                }
            }
            ExprKind::Str { lhs, rhs, .. } => {
                for x in [lhs, rhs] {
                    if let Info::Key(k) = self.operand(x) {
                        self.set(&k, It::Str, &x.span);
                    }
                }
            }
            ExprKind::InSet { lhs, items } => {
                if let (Info::Key(k), Some((lit, _))) = (self.operand(lhs), items.first()) {
                    let span = &lhs.span;
                    let t = match lit {
                        Lit::Str(_) => It::Str,
                        Lit::Int(_) => It::Int,
                        Lit::Bool(_) => It::Bool,
                    };
                    self.set(&k, t, span);
                }
            }
            ExprKind::SetOp { lhs, rhs, .. } => {
                // Both sides are lists of scalars; a literal list gives the element type.
                let elem = match &**rhs {
                    ast::DataRef::Lits(items, _) => items.first().map(|(lit, _)| match lit {
                        Lit::Str(_) => It::Str,
                        Lit::Int(_) => It::Int,
                        Lit::Bool(_) => It::Bool,
                    }),
                    ast::DataRef::Name(p) => {
                        let k = self.key(p);
                        self.set(&k, It::List(None), &p.span);
                        None
                    }
                    // Constant data is expanded before inference.
                    ast::DataRef::Key(..)
                    | ast::DataRef::Under(..)
                    | ast::DataRef::Of(..)
                    | ast::DataRef::KeyOf(..)
                    | ast::DataRef::Closure(..) => None,
                };
                if let ExprKind::Path(name) = &lhs.kind {
                    let k = self.key(name);
                    self.set(&k, It::List(elem.map(Box::new)), &name.span);
                }
            }
            ExprKind::InPath { lhs, list } => {
                let lk = self.key(list);
                match self.operand(lhs) {
                    Info::Known(t) => self.set(&lk, It::List(Some(Box::new(t))), &list.span),
                    Info::Key(k) => {
                        self.set(&lk, It::List(None), &list.span);
                        self.members.push((k, lk, self.file, list.span.clone()));
                    }
                    Info::Nothing => self.set(&lk, It::List(None), &list.span),
                }
            }
            // `x in H value` (issue #13): both sides are strings.
            ExprKind::InData { lhs, data } => {
                if let ast::DataRef::Closure(_, _, v) = &**data {
                    for x in [lhs, v] {
                        if let Info::Key(k) = self.operand(x) {
                            self.set(&k, It::Str, &x.span);
                        }
                    }
                }
                // Other selections are expanded into the forms above before checking
                // (`check::consts`).
            }
        }
    }

    /// Spreads known types along `a == b` and `a in list` until nothing changes.
    fn propagate(&mut self) {
        for _ in 0..=self.eqs.len() + self.members.len() {
            let mut changed = false;
            for (a, b, file, span) in self.eqs.clone() {
                self.file = file;
                let (ta, tb) = (self.get(&a), self.get(&b));
                match (ta, tb) {
                    (Some(t), None) => {
                        self.set(&b, t, &span);
                        changed = true;
                    }
                    (None, Some(t)) => {
                        self.set(&a, t, &span);
                        changed = true;
                    }
                    (Some(x), Some(y)) if x != y => self.set(&b, x, &span),
                    _ => {}
                }
            }
            for (k, l, file, span) in self.members.clone() {
                self.file = file;
                match (self.get(&k), self.get(&l)) {
                    (Some(t), Some(It::List(None))) => {
                        self.set(&l, It::List(Some(Box::new(t))), &span);
                        changed = true;
                    }
                    (None, Some(It::List(Some(t)))) => {
                        self.set(&k, *t, &span);
                        changed = true;
                    }
                    _ => {}
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn get(&self, k: &str) -> Option<It> {
        self.types.get(k).cloned().flatten()
    }
}
