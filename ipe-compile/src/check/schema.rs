//! Merging `schema` blocks, and renumbering slots (and element fields) by path once checking
//! is done.

use super::SourceFile;
use crate::ast::{self, ScalarTy, TypeExpr};
use crate::diag::Problem;
use crate::hir::{self, Field, Operand, Scalar, SlotId, SlotType};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

use ipe_nostd::ValueKind;

/// Longest list bound (`max N`) a schema may declare.
pub const MAX_LIST_LEN: u32 = ipe_nostd::verify::MAX_LIST_LEN;
/// Most members an enum may have.
pub const MAX_ENUM_MEMBERS: usize = u16::MAX as usize;

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
                if let Some(message) =
                    nesting_conflict(&e.path.text, type_expr_word(&e.ty), &out, type_word)
                {
                    problems.push(Problem {
                        file: fi,
                        span: e.path.span.clone(),
                        message,
                        help: Some(NESTING_HELP.to_owned()),
                    });
                    continue;
                }
                if out.contains_key(e.path.text.as_str()) {
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
                let ty = slot_type(&e.path, &e.ty, fi, problems);
                out.insert(e.path.text.as_str().to_owned(), ty);
                super::nested::declare(&e.path.text, &e.ty, fi, problems, &mut out, slot_type);
            }
        }
    }
    out
}

const NESTING_HELP: &str =
    "an attribute holds either a value or other attributes, not both; rename one of them";

/// The word for a slot type in messages.
pub(super) fn type_word(t: &SlotType) -> &'static str {
    match t {
        SlotType::Scalar(s) => s.kind().as_str(),
        SlotType::List { .. } => "list",
        SlotType::Records { .. } => "list of records",
        SlotType::Map { .. } => "map",
    }
}

/// The word for a declared scalar type in messages.
fn scalar_word(t: &ScalarTy) -> &'static str {
    match t {
        ScalarTy::Str => ValueKind::Str,
        ScalarTy::Int => ValueKind::Int,
        ScalarTy::Bool => ValueKind::Bool,
        ScalarTy::Enum(_) => ValueKind::Enum,
        ScalarTy::Quantity => ValueKind::Quantity,
        ScalarTy::Time => ValueKind::Time,
        ScalarTy::Duration => ValueKind::Duration,
        ScalarTy::Ip => ValueKind::Ip,
    }
    .as_str()
}

/// The word for a declared type in messages.
fn type_expr_word(t: &TypeExpr) -> &'static str {
    match t {
        TypeExpr::Scalar(s) => scalar_word(s),
        TypeExpr::List { .. } => "list",
        TypeExpr::Records { .. } => "list of records",
        TypeExpr::Map { .. } | TypeExpr::MapRecords(_) => "map",
    }
}

/// If `path` (of type `word`) nests inside, or around, one of the `declared` paths (sorted, so
/// each test is a lookup, not a scan), the message.
fn nesting_conflict<V>(
    path: &str,
    word: &str,
    declared: &BTreeMap<String, V>,
    word_of: impl Fn(&V) -> &'static str,
) -> Option<String> {
    // A declared path that `path` is inside is one of its prefixes.
    for outer in ipe_nostd::path::prefixes(path) {
        if let Some(v) = declared.get(outer) {
            return Some(format!(
                "attribute `{path}` is declared inside `{outer}`, which is declared as {}",
                word_of(v)
            ));
        }
    }
    // A declared path inside `path` sorts first among the keys from `path.` (or `path["`) on.
    let inner = [".", "[\""].into_iter().find_map(|sep| {
        let prefix = format!("{path}{sep}");
        declared
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .next()
            .filter(|(k, _)| k.starts_with(&prefix))
    });
    inner.map(|(other, _)| {
        format!("attribute `{path}` is declared as {word}, but `{other}` is declared inside it")
    })
}

/// Issue #14: timestamps and durations are attributes and record fields, not the elements of
/// a list of scalars or the values of a map (whose request readers read plain scalars).
fn time_not_inside(
    t: &ScalarTy,
    what: &str,
    path: &ast::Name,
    file: usize,
    problems: &mut Vec<Problem>,
) {
    if matches!(t, ScalarTy::Time | ScalarTy::Duration) {
        let w = scalar_word(t);
        problems.push(Problem {
            file,
            span: path.span.clone(),
            message: format!("`{}` is {what} of {w}s, which is not supported", path.text),
            help: Some(format!(
                "declare a list of records with a `{w}` field, or a {w} attribute"
            )),
        });
    }
}

/// Converts a declared scalar type of the attribute `path` (duplicate enum members count
/// once), reporting an enum with no member or more than [`MAX_ENUM_MEMBERS`].
fn scalar(t: &ScalarTy, path: &ast::Name, file: usize, problems: &mut Vec<Problem>) -> Scalar {
    match t {
        ScalarTy::Str => Scalar::Str,
        ScalarTy::Int => Scalar::Int,
        ScalarTy::Bool => Scalar::Bool,
        ScalarTy::Quantity => Scalar::Quantity,
        ScalarTy::Time => Scalar::Time,
        ScalarTy::Duration => Scalar::Duration,
        ScalarTy::Ip => Scalar::Ip,
        ScalarTy::Enum(m) => {
            let mut seen: HashSet<&str> = HashSet::with_capacity(m.len());
            let mut members: Vec<String> = Vec::new();
            for n in m {
                if seen.insert(&n.text) {
                    if members.len() == MAX_ENUM_MEMBERS {
                        problems.push(Problem {
                            file,
                            span: n.span.clone(),
                            message: format!(
                                "enum of `{}` has more than {MAX_ENUM_MEMBERS} members",
                                path.text
                            ),
                            help: Some("split the values into several attributes".to_owned()),
                        });
                        break;
                    }
                    members.push(n.text.as_str().to_owned());
                }
            }
            if members.is_empty() {
                problems.push(Problem {
                    file,
                    span: path.span.clone(),
                    message: format!("enum of `{}` has no members", path.text),
                    help: None,
                });
            }
            Scalar::Enum(members)
        }
    }
}

pub(super) fn slot_type(
    path: &ast::Name,
    t: &TypeExpr,
    file: usize,
    problems: &mut Vec<Problem>,
) -> SlotType {
    let mut max_len = |max: &Option<u32>| {
        let n = max.unwrap_or(DEFAULT_MAX_LEN);
        if n > MAX_LIST_LEN {
            problems.push(Problem {
                file,
                span: path.span.clone(),
                message: format!(
                    "list `{}` has `max {n}`, more than {MAX_LIST_LEN}",
                    path.text
                ),
                help: Some(format!("declare `max {MAX_LIST_LEN}` or less")),
            });
        }
        n
    };
    match t {
        TypeExpr::Scalar(s) => SlotType::Scalar(scalar(s, path, file, problems)),
        TypeExpr::List { elem, max } => {
            let max_len = max_len(max);
            time_not_inside(elem, "a list", path, file, problems);
            SlotType::List {
                elem: scalar(elem, path, file, problems),
                max_len,
            }
        }
        TypeExpr::Records {
            elem_name,
            max,
            fields,
            lists,
            ..
        } => {
            let max_len = max_len(max);
            let path = &path.text;
            let mut out: Vec<Field> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::with_capacity(fields.len());
            // Field paths declared so far with their type words, for nesting conflicts.
            let mut declared: BTreeMap<String, &'static str> = BTreeMap::new();
            for (name, ty) in fields {
                let word = scalar_word(ty);
                if let Some(message) = nesting_conflict(&name.text, word, &declared, |w| w) {
                    problems.push(Problem {
                        file,
                        span: name.span.clone(),
                        message: format!("in the elements of `{path}`: {message}"),
                        help: Some(NESTING_HELP.to_owned()),
                    });
                    continue;
                }
                if !seen.insert(&name.text) {
                    problems.push(Problem {
                        file,
                        span: name.span.clone(),
                        message: format!(
                            "attribute `{}` is declared twice in the schema",
                            crate::hir::joined(&format!("{path}[]"), &name.text)
                        ),
                        help: None,
                    });
                    continue;
                }
                let field = ast::Name {
                    text: (crate::hir::joined(&format!("{path}[]"), &name.text)).into(),
                    span: name.span.clone(),
                };
                declared.insert(name.text.as_str().to_owned(), word);
                out.push(Field {
                    path: name.text.as_str().to_owned(),
                    ty: scalar(ty, &field, file, problems),
                });
            }
            // A nested list is a field of the element too (its value is the list); its type
            // is its own slot's, `list[].field` (`check::nested`).
            for (i, (name, _)) in lists.iter().enumerate() {
                if !seen.insert(&name.text) {
                    // Reported at the later of the two declarations, as for scalar fields.
                    let earlier = fields
                        .iter()
                        .map(|(n, _)| n)
                        .chain(lists.iter().take(i).map(|(n, _)| n))
                        .find(|n| n.text == name.text)
                        .map(|n| n.span.clone());
                    let span = match earlier {
                        Some(e) if e.start > name.span.start => e,
                        _ => name.span.clone(),
                    };
                    problems.push(Problem {
                        file,
                        span,
                        message: format!(
                            "attribute `{path}[].{}` is declared twice in the schema",
                            name.text
                        ),
                        help: None,
                    });
                    continue;
                }
                out.push(Field {
                    path: name.text.as_str().to_owned(),
                    ty: Scalar::Str,
                });
            }
            out.sort_by(|a, b| a.path.cmp(&b.path));
            SlotType::Records {
                elem_name: elem_name.as_ref().map(|n| n.text.as_str().to_owned()),
                fields: out,
                max_len,
            }
        }
        TypeExpr::Map { value, max } => {
            let max_len = max_len(max);
            time_not_inside(value, "a map", path, file, problems);
            SlotType::Map {
                fields: vec![
                    Field {
                        path: "key".to_owned(),
                        ty: Scalar::Str,
                    },
                    Field {
                        path: "value".to_owned(),
                        ty: scalar(value, path, file, problems),
                    },
                ],
                max_len,
            }
        }
        TypeExpr::MapRecords(inner) => super::map_records::slot_type(path, inner, file, problems),
    }
}

/// Appends to each records slot the internal string fields that `has` on an element record
/// path uses (`implicit`, numbered after the declared fields), sorts the fields of those slots
/// by path, as the bundle requires, and renumbers every field operand to match.
pub(super) fn add_implicit_fields(
    program: &mut hir::Program,
    slots: &mut [(String, SlotType)],
    implicit: &HashMap<SlotId, Vec<(String, Scalar)>>,
) {
    let mut maps: HashMap<SlotId, Vec<u16>> = HashMap::new();
    for (&list, paths) in implicit {
        let Some((_, SlotType::Records { fields, .. })) = slots.get_mut(usize::from(list)) else {
            continue;
        };
        fields.extend(paths.iter().map(|(p, ty)| Field {
            path: p.clone(),
            ty: ty.clone(),
        }));
        let mut order: Vec<usize> = (0..fields.len()).collect();
        order.sort_by(|&a, &b| fields[a].path.cmp(&fields[b].path));
        let mut map = vec![0u16; fields.len()];
        for (new, &old) in order.iter().enumerate() {
            map[old] = u16::try_from(new).unwrap_or(u16::MAX);
        }
        fields.sort_by(|a, b| a.path.cmp(&b.path));
        maps.insert(list, map);
    }
    if maps.is_empty() {
        return;
    }
    each_top_expr(program, |e| renumber_fields(e, &maps));
    super::reason::renumber_fields(program, &maps);
}

fn renumber_fields(e: &mut hir::Expr, maps: &HashMap<SlotId, Vec<u16>>) {
    use hir::Expr as E;
    match e {
        E::Const(_) => {}
        E::Truthy(o)
        | E::Has(o)
        | E::InSet { lhs: o, .. }
        | E::InIp { lhs: o, .. }
        | E::InRanges { lhs: o, .. }
        | E::InList { lhs: o, .. }
        | E::InNested { lhs: o, .. } => {
            renumber_operand(o, maps);
        }
        E::Cmp { lhs, rhs, .. }
        | E::Str { lhs, rhs, .. }
        | E::Fold { lhs, rhs, .. }
        | E::InHierarchy { lhs, rhs, .. } => {
            renumber_operand(lhs, maps);
            renumber_operand(rhs, maps);
        }
        E::Not(x) => renumber_fields(x, maps),
        E::And(xs) | E::Or(xs) => xs.iter_mut().for_each(|x| renumber_fields(x, maps)),
        E::Any(a) | E::All(a) => {
            if let Some(f) = &mut a.filter {
                renumber_fields(f, maps);
            }
        }
    }
}

fn renumber_operand(o: &mut Operand, maps: &HashMap<SlotId, Vec<u16>>) {
    match o {
        Operand::Field { list, field, .. } => {
            if let Some(new) = maps.get(list).and_then(|m| m.get(usize::from(*field))) {
                *field = *new;
            }
        }
        Operand::Count(a) => {
            if let Some(f) = &mut a.filter {
                renumber_fields(f, maps);
            }
        }
        Operand::CountSum(aggs) => {
            for f in aggs.iter_mut().filter_map(|a| a.filter.as_mut()) {
                renumber_fields(f, maps);
            }
        }
        Operand::Arith(_, args) => args.iter_mut().for_each(|a| renumber_operand(a, maps)),
        Operand::Lookup(l) => renumber_operand(&mut l.key, maps),
        Operand::MapGet(m) => {
            if let Some(new) = maps.get(&m.map).and_then(|x| x.get(usize::from(m.field))) {
                m.field = *new;
            }
            renumber_operand(&mut m.key, maps);
        }
        Operand::Time(op) => match &mut **op {
            hir::TimeOp::Arith { lhs, rhs, .. } => {
                renumber_operand(lhs, maps);
                renumber_operand(rhs, maps);
            }
            hir::TimeOp::Part { arg, .. } => renumber_operand(arg, maps),
        },
        Operand::Len(x) => renumber_operand(x, maps),
        Operand::Segment(g) => renumber_operand(&mut g.x, maps),
        Operand::Slot(_) | Operand::Lit(_) => {}
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
        .map(|(path, ty)| hir::Slot {
            path,
            ty,
            default: None,
        })
        .collect();
    each_top_expr(program, |e| remap_expr(e, &map));
    super::reason::remap_slots(program, &map);
}

/// Calls `f` on every trigger and requirement clause of `program`.
fn each_top_expr(program: &mut hir::Program, mut f: impl FnMut(&mut hir::Expr)) {
    for p in &mut program.policies {
        if let Some(t) = &mut p.trigger {
            f(t);
        }
        if let hir::Body::Requires { clauses, .. } = &mut p.body {
            for c in clauses {
                f(&mut c.expr);
            }
        }
    }
}

fn remap_expr(e: &mut hir::Expr, map: &[SlotId]) {
    use hir::Expr as E;
    match e {
        E::Const(_) => {}
        E::Truthy(o)
        | E::Has(o)
        | E::InSet { lhs: o, .. }
        | E::InIp { lhs: o, .. }
        | E::InRanges { lhs: o, .. } => remap_operand(o, map),
        E::Cmp { lhs, rhs, .. }
        | E::Str { lhs, rhs, .. }
        | E::Fold { lhs, rhs, .. }
        | E::InHierarchy { lhs, rhs, .. } => {
            remap_operand(lhs, map);
            remap_operand(rhs, map);
        }
        E::InList { lhs, list } | E::InNested { lhs, list, .. } => {
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
        Operand::CountSum(aggs) => aggs.iter_mut().for_each(|a| remap_agg(a, map)),
        Operand::Arith(_, args) => args.iter_mut().for_each(|a| remap_operand(a, map)),
        Operand::Lookup(l) => remap_operand(&mut l.key, map),
        Operand::MapGet(m) => {
            m.map = map[usize::from(m.map)];
            remap_operand(&mut m.key, map);
        }
        Operand::Time(op) => match &mut **op {
            hir::TimeOp::Arith { lhs, rhs, .. } => {
                remap_operand(lhs, map);
                remap_operand(rhs, map);
            }
            hir::TimeOp::Part { arg, .. } => remap_operand(arg, map),
        },
        Operand::Len(x) => remap_operand(x, map),
        Operand::Segment(g) => remap_operand(&mut g.x, map),
    }
}
