//! Merging `schema` blocks, and renumbering slots by path once checking is done.

use super::SourceFile;
use crate::ast::{self, ScalarTy, TypeExpr};
use crate::diag::Problem;
use crate::hir::{self, Field, Operand, Scalar, SlotId, SlotType};
use std::collections::BTreeMap;

/// List length bound when the schema gives none.
pub const DEFAULT_MAX_LEN: u32 = 256;

/// Merges every schema block of the bundle into one map from path to type.
pub(super) fn merge(
    files: &[SourceFile<'_>],
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, SlotType> {
    let mut out: BTreeMap<String, SlotType> = BTreeMap::new();
    for (fi, f) in files.iter().enumerate() {
        for item in &f.ast.items {
            let ast::Item::Schema(entries) = item else {
                continue;
            };
            for e in entries {
                let declared = out.iter().map(|(k, t)| (k.as_str(), type_word(t)));
                if let Some(message) =
                    nesting_conflict(&e.path.text, type_expr_word(&e.ty), declared)
                {
                    problems.push(Problem {
                        file: fi,
                        span: e.path.span.clone(),
                        message,
                        help: Some(NESTING_HELP.to_owned()),
                    });
                    continue;
                }
                if out.contains_key(&e.path.text) {
                    problems.push(Problem {
                        file: fi,
                        span: e.path.span.clone(),
                        message: format!(
                            "attribute `{}` is declared twice in the schema",
                            e.path.text
                        ),
                        help: None,
                    });
                    continue;
                }
                let ty = slot_type(&e.path.text, &e.ty, fi, problems);
                out.insert(e.path.text.clone(), ty);
            }
        }
    }
    out
}

const NESTING_HELP: &str =
    "an attribute holds either a value or other attributes, not both; rename one of them";

/// The word for a slot type in messages.
fn type_word(t: &SlotType) -> &'static str {
    match t {
        SlotType::Scalar(s) => s.kind().as_str(),
        SlotType::List { .. } => "list",
        SlotType::Records { .. } => "list of records",
    }
}

/// The word for a declared type in messages.
fn type_expr_word(t: &TypeExpr) -> &'static str {
    match t {
        TypeExpr::Scalar(s) => scalar(s).kind().as_str(),
        TypeExpr::List { .. } => "list",
        TypeExpr::Records { .. } => "list of records",
    }
}

/// If `path` (of type `word`) nests inside, or around, one of the `declared` paths, the message.
fn nesting_conflict<'a>(
    path: &str,
    word: &str,
    declared: impl IntoIterator<Item = (&'a str, &'static str)>,
) -> Option<String> {
    let inside = |outer: &str, inner: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.'))
    };
    for (other, other_word) in declared {
        if inside(other, path) {
            return Some(format!(
                "attribute `{path}` is declared inside `{other}`, which is declared as {other_word}"
            ));
        }
        if inside(path, other) {
            return Some(format!(
                "attribute `{path}` is declared as {word}, but `{other}` is declared inside it"
            ));
        }
    }
    None
}

/// Converts a declared scalar type.
pub(super) fn scalar(t: &ScalarTy) -> Scalar {
    match t {
        ScalarTy::Str => Scalar::Str,
        ScalarTy::Int => Scalar::Int,
        ScalarTy::Bool => Scalar::Bool,
        ScalarTy::Enum(m) => {
            let mut members: Vec<String> = Vec::new();
            for n in m {
                if !members.contains(&n.text) {
                    members.push(n.text.clone());
                }
            }
            Scalar::Enum(members)
        }
    }
}

fn slot_type(path: &str, t: &TypeExpr, file: usize, problems: &mut Vec<Problem>) -> SlotType {
    match t {
        TypeExpr::Scalar(s) => SlotType::Scalar(scalar(s)),
        TypeExpr::List { elem, max } => SlotType::List {
            elem: scalar(elem),
            max_len: max.unwrap_or(DEFAULT_MAX_LEN),
        },
        TypeExpr::Records {
            elem_name,
            max,
            fields,
        } => {
            let mut out: Vec<Field> = Vec::new();
            for (name, ty) in fields {
                let declared = out.iter().map(|f| (f.path.as_str(), f.ty.kind().as_str()));
                let word = scalar(ty).kind().as_str();
                if let Some(message) = nesting_conflict(&name.text, word, declared) {
                    problems.push(Problem {
                        file,
                        span: name.span.clone(),
                        message: format!("in the elements of `{path}`: {message}"),
                        help: Some(NESTING_HELP.to_owned()),
                    });
                    continue;
                }
                if out.iter().any(|f| f.path == name.text) {
                    problems.push(Problem {
                        file,
                        span: name.span.clone(),
                        message: format!(
                            "attribute `{path}[].{}` is declared twice in the schema",
                            name.text
                        ),
                        help: None,
                    });
                    continue;
                }
                out.push(Field {
                    path: name.text.clone(),
                    ty: scalar(ty),
                });
            }
            out.sort_by(|a, b| a.path.cmp(&b.path));
            SlotType::Records {
                elem_name: elem_name.as_ref().map(|n| n.text.clone()),
                fields: out,
                max_len: max.unwrap_or(DEFAULT_MAX_LEN),
            }
        }
    }
}

/// Stores `slots` (in first-use order) into `program` sorted by path and renumbers every
/// reference to them.
pub(super) fn sort_slots(program: &mut hir::Program, slots: Vec<(String, SlotType)>) {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by(|&a, &b| slots[a].0.cmp(&slots[b].0));
    let mut map = vec![0 as SlotId; slots.len()];
    for (new, &old) in order.iter().enumerate() {
        map[old] = SlotId::try_from(new).unwrap_or(SlotId::MAX);
    }
    let mut slots: Vec<Option<(String, SlotType)>> = slots.into_iter().map(Some).collect();
    program.slots = order
        .iter()
        .filter_map(|&old| slots[old].take())
        .map(|(path, ty)| hir::Slot { path, ty })
        .collect();
    for p in &mut program.policies {
        if let Some(t) = &mut p.trigger {
            remap_expr(t, &map);
        }
        if let hir::Body::Requires { clauses, .. } = &mut p.body {
            for c in clauses {
                remap_expr(&mut c.expr, &map);
            }
        }
    }
}

fn remap_expr(e: &mut hir::Expr, map: &[SlotId]) {
    use hir::Expr as E;
    match e {
        E::Const(_) => {}
        E::Truthy(o) | E::Has(o) | E::InSet { lhs: o, .. } => remap_operand(o, map),
        E::Cmp { lhs, rhs, .. } | E::Str { lhs, rhs, .. } => {
            remap_operand(lhs, map);
            remap_operand(rhs, map);
        }
        E::InList { lhs, list } => {
            remap_operand(lhs, map);
            *list = map[usize::from(*list)];
        }
        E::Not(x) => remap_expr(x, map),
        E::And(xs) | E::Or(xs) => xs.iter_mut().for_each(|x| remap_expr(x, map)),
        E::Any(a) | E::All(a) => remap_agg(a, map),
    }
}

fn remap_agg(a: &mut hir::Aggregate, map: &[SlotId]) {
    a.list = map[usize::from(a.list)];
    if let Some(f) = &mut a.filter {
        remap_expr(f, map);
    }
}

fn remap_operand(o: &mut Operand, map: &[SlotId]) {
    match o {
        Operand::Slot(s) => *s = map[usize::from(*s)],
        Operand::Field { list, .. } => *list = map[usize::from(*list)],
        Operand::Lit(_) => {}
        Operand::Count(a) => remap_agg(a, map),
    }
}
