//! Optional values (issue #13): `x ?? d` and schema defaults (`spec.hostPID: bool = false`,
//! `spec.volumes: list of string = []`).
//!
//! Both are expanded by the checker into existing conditions, so every engine runs them
//! unchanged and the cost bound stays exact. A condition `C` reading `x ?? d` (at most one
//! comparison, string test, `in`, or bare condition) becomes
//! `(has x and C[x]) or (not has x and C[d])`, a chain `a ?? b ?? d` one disjunct per
//! alternative; a condition reading a list `L` declared `= []` becomes
//! `(has L and C) or (not has L and C[L := []])`. Disjuncts whose operands are all constants
//! are folded. Under the three-valued logic this is exactly "`d` when `x` is missing": when
//! `x` is missing `has x` is false (absorbing the error of `C[x]`) and the second disjunct is
//! `C[d]`; when `x` is present (valid or not) the second disjunct is false and the result is
//! `C[x]`, so an invalid `x` is still its error (fail closed) and errors of other operands
//! meet as they would in `C` itself (the smallest-error rule holds).
//!
//! While a condition is checked, every `??` operand is a placeholder operand (a field at a
//! level no aggregate has) naming an entry of [`State::pending`]; [`Ctx::cond`] expands the
//! entries its own condition created once it is typed.

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx, SourceFile};
use crate::ast::{self, ByteSpan, Expr, ExprKind, Lit, SchemaDefault};
use crate::diag::Problem;
use crate::hir::{self, Literal, Operand, Scalar, SlotId, SlotType};
use std::collections::{BTreeMap, HashMap};

/// The level of a placeholder operand: no aggregate nests this deep.
const PLACEHOLDER_LEVEL: u8 = u8::MAX;

/// A declared schema default.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Default {
    /// A scalar attribute's default.
    Scalar(Literal),
    /// `= []` on a list: a missing list reads as empty.
    EmptyList,
    /// `= []` on a nested list (a list field of list elements, issue #13): an element without
    /// the field reads it as empty.
    NestedEmptyList,
}

/// Something a condition being checked reads optionally.
#[derive(Clone, Debug)]
enum Entry {
    /// `x ?? ... ?? d`: the alternatives in order (every one but the last is an attribute).
    Coalesce(Vec<Operand>),
    /// A list with the default `[]`: the list, the operand whose `has` tells it is present
    /// (the slot, or the field of the element holding a nested list) and, for a nested list,
    /// the level of the aggregate binding that element.
    EmptyList(SlotId, Operand, Option<u8>),
}

/// The checker's state for optional values.
#[derive(Default)]
pub(super) struct State {
    /// Schema defaults by attribute path.
    defaults: HashMap<String, Default>,
    /// Optional reads of the conditions being checked (innermost last).
    pending: Vec<Entry>,
    /// Set while the operands of a `??` are read: their schema defaults are spliced into the
    /// chain instead.
    pub(super) raw: bool,
}

impl State {
    /// The state for a bundle with these schema defaults.
    pub(super) fn new(defaults: HashMap<String, Default>) -> Self {
        State {
            defaults,
            ..State::default()
        }
    }
}

/// The schema defaults of the bundle, checked against the declared types.
pub(super) fn defaults(
    files: &[SourceFile<'_>],
    types: &BTreeMap<String, SlotType>,
    problems: &mut Vec<Problem>,
) -> HashMap<String, Default> {
    let mut out = HashMap::new();
    for (fi, f) in files.iter().enumerate() {
        for item in &f.ast.items {
            let ast::Item::Schema(entries) = item else {
                continue;
            };
            for e in entries {
                super::element_defaults::check(fi, &e.path.text, &e.ty, types, problems, &mut out);
                let Some((d, span)) = &e.default else {
                    continue;
                };
                let Some(ty) = types.get(e.path.text.as_str()) else {
                    continue;
                };
                let mut error = |message: String, help: &str| {
                    problems.push(Problem {
                        file: fi,
                        span: span.clone(),
                        message,
                        help: Some(help.to_owned()),
                    });
                };
                let path = &e.path.text;
                let checked = match (ty, d) {
                    (SlotType::Scalar(s), SchemaDefault::Lit(lit)) => {
                        match default_literal(s, lit) {
                            Ok(l) => Some(Default::Scalar(l)),
                            Err(found) => {
                                let help = match s {
                                    Scalar::Enum(m) => format!(
                                        "the default must be one of {}",
                                        m.iter()
                                            .map(|m| format!("\"{m}\""))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                    Scalar::Int => {
                                        format!("the default of `{path}` must be an int literal")
                                    }
                                    Scalar::Ip => format!(
                                        "the default of `{path}` must be one IP address, such as \
                                         `\"10.0.0.1\"`"
                                    ),
                                    _ => format!(
                                        "the default of `{path}` must be a {} literal",
                                        s.kind().as_str()
                                    ),
                                };
                                error(
                                    format!(
                                        "mismatched default of `{path}`: expected {}, found {found}",
                                        s.kind().as_str()
                                    ),
                                    &help,
                                );
                                None
                            }
                        }
                    }
                    (
                        SlotType::List { .. } | SlotType::Records { .. },
                        SchemaDefault::EmptyList,
                    ) => Some(Default::EmptyList),
                    (SlotType::List { .. } | SlotType::Records { .. }, SchemaDefault::Lit(_)) => {
                        error(
                            format!(
                                "mismatched default of `{path}`: expected `[]`, found a literal"
                            ),
                            "a list's only default is the empty list `= []`",
                        );
                        None
                    }
                    (SlotType::Map { .. }, SchemaDefault::EmptyMap) => Some(Default::EmptyList),
                    (SlotType::Map { .. }, d) => {
                        let found = match d {
                            SchemaDefault::EmptyList => "the empty list `[]`",
                            _ => "a literal",
                        };
                        error(
                            format!(
                                "mismatched default of `{path}`: expected `{{}}`, found {found}"
                            ),
                            "a map's only default is the empty map `= {}`",
                        );
                        None
                    }
                    (_, SchemaDefault::EmptyMap) => {
                        error(
                            format!(
                                "mismatched default of `{path}`: expected {}, found the empty map `{{}}`",
                                super::schema::type_word(ty)
                            ),
                            "`= {}` is for maps; a list's default is `= []`, a scalar's a literal",
                        );
                        None
                    }
                    (SlotType::Scalar(s), SchemaDefault::EmptyList) => {
                        error(
                            format!(
                                "mismatched default of `{path}`: expected {}, found a list",
                                s.kind().as_str()
                            ),
                            "`= []` is for lists; give a scalar attribute a literal default",
                        );
                        None
                    }
                };
                if let Some(d) = checked {
                    out.insert(path.to_string(), d);
                }
            }
        }
    }
    out
}

/// A default literal of scalar type `s`, or the word for what was found instead.
fn default_literal(s: &Scalar, lit: &Lit) -> Result<Literal, String> {
    match (s, lit) {
        (Scalar::Str, Lit::Str(v)) => Ok(Literal::Str(v.clone())),
        (Scalar::Int, Lit::Int(n)) => Ok(Literal::Int(*n)),
        (Scalar::Bool, Lit::Bool(b)) => Ok(Literal::Bool(*b)),
        // Issue #14: one address, kept in canonical text.
        (Scalar::Ip, Lit::Str(v)) => match ipe_nostd::ip::parse(v) {
            Some(a) => Ok(Literal::Str(super::ip::canonical(&a).into())),
            None => Err(format!("\"{v}\", which is not an IP address")),
        },
        (Scalar::Enum(m), Lit::Str(v)) => match m.iter().position(|x| x == v) {
            Some(rank) => Ok(Literal::Enum {
                rank: u16::try_from(rank).unwrap_or(u16::MAX),
                name: v.to_string(),
            }),
            None => Err(format!("\"{v}\", which is not a member")),
        },
        (_, Lit::Str(_)) => Err("string".to_owned()),
        (_, Lit::Int(_)) => Err("int".to_owned()),
        (_, Lit::Bool(_)) => Err("bool".to_owned()),
    }
}

/// The placeholder operand for entry `k`.
fn placeholder(k: usize) -> Operand {
    Operand::Field {
        level: PLACEHOLDER_LEVEL,
        list: SlotId::try_from(k).unwrap_or(SlotId::MAX),
        field: u16::MAX,
    }
}

fn strip_paren(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => strip_paren(inner),
        _ => e,
    }
}

impl Ctx<'_> {
    /// The number of optional reads pending, before a condition is checked.
    pub(super) fn optional_mark(&self) -> usize {
        self.optional.pending.len()
    }

    /// Expands the optional reads the condition `e` created since `mark`.
    pub(super) fn optional_expand(
        &mut self,
        mark: usize,
        e: Option<hir::Expr>,
    ) -> Option<hir::Expr> {
        if self.optional.pending.len() <= mark {
            return e;
        }
        let entries: Vec<(usize, Entry)> = self
            .optional
            .pending
            .drain(mark..)
            .enumerate()
            .map(|(i, x)| (mark + i, x))
            .collect();
        let e = e?;
        Some(expand(e, &entries))
    }

    /// The value of a top-level scalar attribute as an operand: with its schema default,
    /// `x ?? default`.
    pub(super) fn scalar_slot_value(
        &mut self,
        id: SlotId,
        s: Scalar,
        span: ByteSpan,
        text: crate::ast::Text,
    ) -> Val {
        let default = match self.optional.defaults.get(self.slot_path(id)) {
            Some(Default::Scalar(l)) if !self.optional.raw => Some(l.clone()),
            _ => None,
        };
        let op = match default {
            Some(l) => self.push(Entry::Coalesce(vec![Operand::Slot(id), Operand::Lit(l)])),
            None => Operand::Slot(id),
        };
        Val {
            op: ValOp::Operand(op),
            ty: VTy::Scalar(s.read_type()),
            span,
            text,
        }
    }

    /// The schema default of the top-level scalar attribute `id`, if it has one.
    pub(super) fn scalar_default(&self, id: SlotId) -> Option<Literal> {
        self.optional.scalar_default_of(self.slot_path(id))
    }
}

impl State {
    /// The schema default of the scalar attribute at `path`, if it has one.
    pub(super) fn scalar_default_of(&self, path: &str) -> Option<Literal> {
        match self.defaults.get(path) {
            Some(Default::Scalar(l)) => Some(l.clone()),
            _ => None,
        }
    }
}

impl Ctx<'_> {
    /// Notes that the condition being checked reads the list `id` (as a whole: `in`, an
    /// aggregate or its length): with the schema default `[]`, a missing list reads as empty.
    pub(super) fn list_read(&mut self, id: SlotId) {
        if self.optional.raw {
            return;
        }
        if self.optional.defaults.get(self.slot_path(id)) == Some(&Default::EmptyList) {
            self.push_empty_list(id, Operand::Slot(id), None);
        }
    }

    /// Notes that the condition being checked reads the nested list `id` held by the element
    /// bound at `level`: with the schema default `[]`, an element without it reads it as empty.
    pub(super) fn nested_list_read(&mut self, id: SlotId, level: u8) {
        if self.optional.raw
            || self.optional.defaults.get(self.slot_path(id)) != Some(&Default::NestedEmptyList)
        {
            return;
        }
        let path = self.slot_path(id).to_owned();
        let Some(scope) = self.scopes.get(usize::from(level)) else {
            return;
        };
        let Some(field) = scope
            .fields
            .iter()
            .position(|f| super::nested::nested_path(&scope.list_path, &f.path) == path)
        else {
            return;
        };
        let has = Operand::Field {
            level,
            list: scope.list,
            field: u16::try_from(field).unwrap_or(u16::MAX),
        };
        self.push_empty_list(id, has, Some(level));
    }

    fn push_empty_list(&mut self, id: SlotId, has: Operand, within: Option<u8>) {
        let fresh = !self
            .optional
            .pending
            .iter()
            .any(|e| matches!(e, Entry::EmptyList(l, _, w) if *l == id && *w == within));
        if fresh {
            self.optional
                .pending
                .push(Entry::EmptyList(id, has, within));
        }
    }

    fn push(&mut self, entry: Entry) -> Operand {
        self.optional.pending.push(entry);
        placeholder(self.optional.pending.len() - 1)
    }

    /// Checks `x ?? d` (a chain) as a value: an operand of `x`'s type standing for the chain.
    pub(super) fn coalesce(&mut self, e: &Expr) -> Option<Val> {
        let mut parts: Vec<(&Expr, Option<&ByteSpan>)> = Vec::new();
        let mut cur = e;
        while let ExprKind::Coalesce { lhs, rhs, op } = &cur.kind {
            parts.push((lhs, Some(op)));
            cur = rhs;
        }
        parts.push((cur, None));
        let mut vals: Vec<Val> = Vec::new();
        let mut ok = true;
        for (part, op) in &parts {
            let saved = std::mem::replace(&mut self.optional.raw, true);
            let v = self.value(part);
            self.optional.raw = saved;
            let Some(v) = v else {
                ok = false;
                continue;
            };
            let last = op.is_none();
            if let Some(message) = self.coalesce_misuse(part, &v, last) {
                self.error(v.span.clone(), message.0, Some(message.1));
                ok = false;
                continue;
            }
            vals.push(v);
        }
        if !ok {
            return None;
        }
        let mut vals = vals.into_iter();
        let head = vals.next()?;
        let mut alts = vec![head.clone()];
        for mut v in vals {
            // Issue #14: the default of an address is a string literal address.
            if let (VTy::Scalar(Scalar::Ip), ValOp::Operand(Operand::Lit(Literal::Str(t)))) =
                (&head.ty, &v.op)
            {
                let l = self.ip_default(&t.clone(), &v.span)?;
                v.op = ValOp::Operand(Operand::Lit(l));
                v.ty = head.ty.clone();
            }
            let mut head = head.clone();
            self.unify(&mut head, &mut v)?;
            alts.push(v);
        }
        // Splice schema defaults: `x` with a default is never missing, so what follows it is
        // unreachable (an error unless `x` is the last alternative).
        let mut ops = Vec::new();
        let n = alts.len();
        for (i, v) in alts.into_iter().enumerate() {
            let ValOp::Operand(o) = v.op else {
                return None;
            };
            let default = match &o {
                Operand::Slot(id) => match self.optional.defaults.get(self.slot_path(*id)) {
                    Some(Default::Scalar(l)) => Some(l.clone()),
                    _ => None,
                },
                _ => None,
            };
            ops.push(o);
            if let Some(l) = default {
                if i + 1 < n {
                    let at = parts
                        .get(i)
                        .and_then(|p| p.1)
                        .cloned()
                        .unwrap_or(v.span.clone());
                    self.error(
                        at,
                        format!("`{}` has a schema default, so it is never missing and this `??` default is never used", v.text),
                        Some(format!("remove the `?? ...` after `{}`, or its default in the schema", v.text)),
                    );
                    return None;
                }
                ops.push(Operand::Lit(l));
            }
        }
        let op = self.push(Entry::Coalesce(ops));
        Some(Val {
            op: ValOp::Operand(op),
            ty: head.ty.clone(),
            span: e.span.clone(),
            text: head.into_text().into(),
        })
    }

    /// Why `v` (the part `part` of a `??` chain) cannot be there, if it cannot: the message
    /// and the help.
    fn coalesce_misuse(&self, part: &Expr, v: &Val, last: bool) -> Option<(String, String)> {
        if matches!(strip_paren(part).kind, ExprKind::Coalesce { .. }) {
            return Some((
                "`??` cannot take a parenthesized `??` on its left".to_owned(),
                "write the chain without parentheses: `a ?? b ?? c` tries `a`, then `b`, then `c`"
                    .to_owned(),
            ));
        }
        let found = match (&v.op, &v.ty) {
            (
                ValOp::Operand(
                    Operand::Slot(_)
                    | Operand::Field { .. }
                    | Operand::Lookup(_)
                    | Operand::Segment(_)
                    | Operand::MapGet(_),
                ),
                VTy::Scalar(_),
            ) => return None,
            (ValOp::Operand(Operand::Lit(_)), _) if last => return None,
            (ValOp::Operand(Operand::Lit(_)), _) => "a literal",
            (ValOp::Operand(Operand::Count(_) | Operand::CountSum(_)), _) => "a count",
            (ValOp::Operand(Operand::Arith(..)), _) => "arithmetic",
            (ValOp::Operand(Operand::Len(_)), _) => "`len`",
            (_, VTy::Cond) => "a condition",
            (_, t) => ty_word(t),
        };
        let (what, help) = if last {
            (
                "the default of `??` must be a literal or an attribute",
                "write a literal of the attribute's type, e.g. `x ?? 0`, or another attribute",
            )
        } else if found == "a literal" {
            (
                "`??` needs an attribute on its left",
                "a literal is never missing, so `??` after it has no effect",
            )
        } else if found == "a count" {
            ("`??` needs an attribute on its left", "a count is never missing (a missing list is an error, or empty with the schema default `= []`)")
        } else if self.is_map_path(part) {
            (
                "`??` needs a scalar attribute on its left",
                "a map has no `??`: declare it with `= {}` in the schema so that a missing map reads as empty",
            )
        } else if matches!(v.ty, VTy::List(_) | VTy::Records) {
            (
                "`??` needs a scalar attribute on its left",
                "declare the list with `= []` in the schema so that a missing list reads as empty",
            )
        } else {
            (
                "`??` needs an attribute on its left",
                "`x ?? d` gives a default to an attribute `x` that may be missing",
            )
        };
        let found = match found {
            _ if self.is_map_path(part) => "a map",
            "list" => "a list",
            "list of records" => "a list of records",
            other => other,
        };
        Some((format!("{what}, found {found}"), help.to_owned()))
    }
}

/// Expands `e` over `entries` (each with its placeholder index) and folds constants.
fn expand(e: hir::Expr, entries: &[(usize, Entry)]) -> hir::Expr {
    let Some(((k, entry), rest)) = entries.split_first() else {
        return fold(e);
    };
    let mut disjuncts = Vec::new();
    match entry {
        Entry::Coalesce(alts) => {
            let p = placeholder(*k);
            let mut earlier: Vec<hir::Expr> = Vec::new();
            let n = alts.len();
            let origin = alts.first();
            for (i, alt) in alts.iter().enumerate() {
                let mut guard = earlier.clone();
                let attr = matches!(
                    alt,
                    Operand::Slot(_)
                        | Operand::Field { .. }
                        | Operand::Lookup(_)
                        | Operand::Segment(_)
                        | Operand::MapGet(_)
                );
                if attr && i + 1 < n {
                    guard.push(hir::Expr::Has(alt.clone()));
                }
                let mut body = e.clone();
                subst(&mut body, &p, alt, origin.unwrap_or(alt));
                guard.push(expand(body, rest));
                disjuncts.push(fold(hir::Expr::And(guard)));
                if !attr {
                    break;
                }
                earlier.push(hir::Expr::Not(Box::new(hir::Expr::Has(alt.clone()))));
            }
        }
        Entry::EmptyList(list, has, within) => {
            let has = hir::Expr::Has(has.clone());
            let mut empty = e.clone();
            subst_empty(&mut empty, *list, *within);
            disjuncts.push(fold(hir::Expr::And(vec![has.clone(), expand(e, rest)])));
            disjuncts.push(fold(hir::Expr::And(vec![
                hir::Expr::Not(Box::new(has)),
                expand(empty, rest),
            ])));
        }
    }
    fold(hir::Expr::Or(disjuncts))
}

/// Replaces the operand `p` by `by` in the condition `e`. Filters expanded their own `??`
/// reads already, so a placeholder left inside one stands for an outer read that the checker
/// put there (`x ?? d in map` is an `any` over the map's keys comparing each with `x ?? d`):
/// it is replaced too.
///
/// A value computed from the substituted default alone (arithmetic, `len`, `segment`, a
/// lookup) is folded to a literal, since the bytecode computes values from attributes only.
/// When that computation fails (overflow, division by zero, no such piece or key), the value
/// reads `origin` (the attribute whose default it is) instead: in this disjunct the attribute
/// is missing, so the condition is its "missing attribute" error (`docs/LANGUAGE.md`,
/// "Defaults in computed values").
fn subst(e: &mut hir::Expr, p: &Operand, by: &Operand, origin: &Operand) {
    use hir::Expr as E;
    match e {
        E::Const(_) => {}
        E::Any(a) | E::All(a) => {
            if let Some(f) = a.filter.as_mut() {
                subst(f, p, by, origin);
            }
        }
        E::Truthy(o)
        | E::Has(o)
        | E::InSet { lhs: o, .. }
        | E::InIp { lhs: o, .. }
        | E::InRanges { lhs: o, .. }
        | E::InList { lhs: o, .. }
        | E::InNested { lhs: o, .. } => subst_operand(o, p, by, origin),
        E::Cmp { lhs, rhs, .. }
        | E::Str { lhs, rhs, .. }
        | E::Fold { lhs, rhs, .. }
        | E::InHierarchy { lhs, rhs, .. } => {
            subst_operand(lhs, p, by, origin);
            subst_operand(rhs, p, by, origin);
        }
        E::Not(x) => subst(x, p, by, origin),
        E::And(xs) | E::Or(xs) => xs.iter_mut().for_each(|x| subst(x, p, by, origin)),
    }
}

/// [`subst`] on one operand.
fn subst_operand(o: &mut Operand, p: &Operand, by: &Operand, origin: &Operand) {
    if o == p {
        *o = by.clone();
        return;
    }
    match o {
        Operand::Count(a) => {
            if let Some(f) = a.filter.as_mut() {
                subst(f, p, by, origin);
            }
        }
        Operand::CountSum(aggs) => {
            for f in aggs.iter_mut().filter_map(|a| a.filter.as_mut()) {
                subst(f, p, by, origin);
            }
        }
        Operand::Arith(..)
        | Operand::Segment(_)
        | Operand::Len(_)
        | Operand::Lookup(_)
        | Operand::MapGet(_)
        | Operand::Time(_) => {
            let saved = o.clone();
            each_child(o, &mut |c| subst_operand(c, p, by, origin));
            if let Some(folded) = const_value(o) {
                match folded {
                    Some(l) => *o = Operand::Lit(l),
                    None => {
                        *o = saved;
                        each_child(o, &mut |c| subst_operand(c, p, origin, origin));
                    }
                }
            }
        }
        Operand::Slot(_) | Operand::Field { .. } | Operand::Lit(_) => {}
    }
}

/// Calls `f` on each value operand of a computed operand (not inside aggregate filters).
fn each_child(o: &mut Operand, f: &mut dyn FnMut(&mut Operand)) {
    match o {
        Operand::Arith(_, args) => args.iter_mut().for_each(f),
        Operand::Segment(g) => f(&mut g.x),
        Operand::Len(x) => f(x),
        Operand::Lookup(l) => f(&mut l.key),
        Operand::MapGet(m) => f(&mut m.key),
        Operand::Time(t) => match &mut **t {
            hir::TimeOp::Arith { lhs, rhs, .. } => {
                f(lhs);
                f(rhs);
            }
            hir::TimeOp::Part { arg, .. } => f(arg),
        },
        _ => {}
    }
}

/// The value of a computed operand whose operands are all literals: `Some(Some(lit))`, or
/// `Some(None)` when computing it fails; `None` when it reads a value at run time (time
/// operands are left to the engines, which compute them from constants as well).
fn const_value(o: &Operand) -> Option<Option<Literal>> {
    match o {
        Operand::Arith(op, args) => {
            let ints: Option<Vec<i64>> = args
                .iter()
                .map(|a| match a {
                    Operand::Lit(Literal::Int(i)) => Some(*i),
                    _ => None,
                })
                .collect();
            let ints = ints?;
            let (a, b) = (
                ints.first().copied().unwrap_or(0),
                ints.get(1).copied().unwrap_or(0),
            );
            Some(op.apply(a, b).ok().map(Literal::Int))
        }
        Operand::Len(x) => match &**x {
            Operand::Lit(Literal::Str(s)) => Some(Some(Literal::Int(
                i64::try_from(s.chars().count()).unwrap_or(i64::MAX),
            ))),
            _ => None,
        },
        Operand::Segment(g) => match &g.x {
            Operand::Lit(Literal::Str(s)) => Some(
                ipe_nostd::segment::segment(s, &g.sep, g.index).map(|p| Literal::Str(p.into())),
            ),
            _ => None,
        },
        Operand::Lookup(l) => match &l.key {
            Operand::Lit(Literal::Str(k)) => Some(
                l.rows
                    .binary_search_by(|(r, _)| r.as_str().cmp(k))
                    .ok()
                    .and_then(|i| l.rows.get(i))
                    .map(|(_, v)| v.clone()),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// Reads the list `list` (a nested list when `within` is the level of the element holding
/// it) as empty in the condition `e` (not inside aggregate filters).
fn subst_empty(e: &mut hir::Expr, list: SlotId, within: Option<u8>) {
    use hir::Expr as E;
    fn count(o: &mut Operand, list: SlotId, within: Option<u8>) {
        if matches!(o, Operand::Arith(..)) {
            // Folded when only constants are left; kept (the list's missing error) when the
            // empty list's count makes it fail (see [`subst`]).
            let saved = o.clone();
            if let Operand::Arith(_, args) = o {
                args.iter_mut().for_each(|a| count(a, list, within));
            }
            match const_value(o) {
                Some(Some(l)) => *o = Operand::Lit(l),
                Some(None) => *o = saved,
                None => {}
            }
        } else if matches!(o, Operand::Count(a) if a.list == list && a.within == within) {
            *o = Operand::Lit(Literal::Int(0));
        } else if let Operand::CountSum(aggs) = o {
            // The empty list's count is 0: it leaves the sum.
            aggs.retain(|a| a.list != list || a.within != within);
            match aggs.len() {
                0 => *o = Operand::Lit(Literal::Int(0)),
                1 => {
                    if let Some(a) = aggs.pop() {
                        *o = Operand::Count(Box::new(a));
                    }
                }
                _ => {}
            }
        }
    }
    let count = |o: &mut Operand| count(o, list, within);
    match e {
        E::Any(a) if a.list == list && a.within == within => *e = E::Const(false),
        E::All(a) if a.list == list && a.within == within => *e = E::Const(true),
        E::InList { lhs, list: l } if *l == list && within.is_none() => {
            *e = E::InSet {
                lhs: lhs.clone(),
                set: Vec::new(),
            }
        }
        E::InNested {
            lhs,
            list: l,
            level,
        } if *l == list && within == Some(*level) => {
            *e = E::InSet {
                lhs: lhs.clone(),
                set: Vec::new(),
            }
        }
        E::Const(_) | E::Any(_) | E::All(_) | E::Has(_) | E::InList { .. } => {}
        E::Truthy(o)
        | E::InSet { lhs: o, .. }
        | E::InIp { lhs: o, .. }
        | E::InRanges { lhs: o, .. }
        | E::InNested { lhs: o, .. } => count(o),
        E::Cmp { lhs, rhs, .. }
        | E::Str { lhs, rhs, .. }
        | E::Fold { lhs, rhs, .. }
        | E::InHierarchy { lhs, rhs, .. } => {
            count(lhs);
            count(rhs);
        }
        E::Not(x) => subst_empty(x, list, within),
        E::And(xs) | E::Or(xs) => xs.iter_mut().for_each(|x| subst_empty(x, list, within)),
    }
}

/// Folds conditions over constants only, and `and`/`or` with constant operands (`false and
/// X` is false and `true or X` true whatever X is, errors included).
fn fold(e: hir::Expr) -> hir::Expr {
    use hir::Expr as E;
    match e {
        // Issue #14: address tests given a literal address.
        e @ (E::InIp { .. }
        | E::Cmp {
            ty: ipe_nostd::ValueKind::Ip,
            ..
        }) => super::ip::fold_literal(e),
        E::Cmp {
            op,
            lhs: Operand::Lit(a),
            rhs: Operand::Lit(b),
            ty,
        } => match lit_order(&a, &b) {
            Some(ord) => E::Const(op.test(ord)),
            None => E::Cmp {
                op,
                lhs: Operand::Lit(a),
                rhs: Operand::Lit(b),
                ty,
            },
        },
        E::Str {
            op,
            lhs: Operand::Lit(Literal::Str(a)),
            rhs: Operand::Lit(Literal::Str(b)),
        } => E::Const(op.test(&a, &b)),
        // Issue #14, session 9.
        E::Fold {
            op,
            lhs: Operand::Lit(Literal::Str(a)),
            rhs: Operand::Lit(Literal::Str(b)),
        } => E::Const(super::strings::fold_const(op, &a, &b)),
        E::InRanges {
            lhs: Operand::Lit(Literal::Int(v)),
            ranges,
        } => E::Const(ranges.iter().any(|&(lo, hi)| lo <= v && v <= hi)),
        E::InSet {
            lhs: Operand::Lit(a),
            set,
        } => E::Const(set.contains(&a)),
        E::Truthy(Operand::Lit(Literal::Bool(b))) => E::Const(b),
        E::Not(x) => match fold(*x) {
            E::Const(b) => E::Const(!b),
            x => E::Not(Box::new(x)),
        },
        E::And(xs) => junction(xs, false),
        E::Or(xs) => junction(xs, true),
        other => other,
    }
}

/// An `and` (`or` when `or`) of `xs`, folded: the absorbing constant wins, the neutral one
/// drops, nested junctions of the same kind flatten.
fn junction(xs: Vec<hir::Expr>, or: bool) -> hir::Expr {
    use hir::Expr as E;
    let mut out = Vec::new();
    for x in xs {
        match fold(x) {
            E::Const(b) if b == or => return E::Const(or),
            E::Const(_) => {}
            E::Or(inner) if or => out.extend(inner),
            E::And(inner) if !or => out.extend(inner),
            x => out.push(x),
        }
    }
    match out.len() {
        0 => E::Const(!or),
        1 => out.pop().unwrap_or(E::Const(!or)),
        _ if or => E::Or(out),
        _ => E::And(out),
    }
}

/// The order of two constants of the same type.
fn lit_order(a: &Literal, b: &Literal) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Literal::Str(x), Literal::Str(y)) => Some(x.cmp(y)),
        (Literal::Int(x), Literal::Int(y)) => Some(x.cmp(y)),
        (Literal::Bool(x), Literal::Bool(y)) => Some(x.cmp(y)),
        (Literal::Enum { rank: x, .. }, Literal::Enum { rank: y, .. }) => Some(x.cmp(y)),
        _ => None,
    }
}
