//! Reason templates: resolves each placeholder of a `with reason` string to a top-level
//! attribute, a field of the witness element of an `all` clause, or the count of a count
//! clause (`docs/LANGUAGE.md`, "Reasons with values"), with located errors for the rest.

use super::Ctx;
use crate::ast::{self, AggKind, ExprKind, Name, ReasonPart};
use crate::hir::{self, SlotId, SlotType};
use std::collections::HashMap;

/// What a placeholder that names an element may name, for help texts.
const ELEMENT_HELP: &str = "only the element of a clause that is an `all(...)` at the top of \
     `requires` can be named (the first element that made it false); a false `any` has no such \
     element, a count is shown with `{#count}`, and elements of nested aggregates cannot be named";

/// The longest list whose witness a reason may name (the witness index is 16 bits).
pub const MAX_WITNESS_LIST: u32 = u16::MAX as u32;

/// An element name bound by a top-level `all` clause.
struct Witness {
    name: String,
    clause: u16,
    list: hir::SlotId,
    /// For a clause split from an `all` over several lists: the conjunct it comes from.
    group: Option<usize>,
}

impl Ctx<'_> {
    /// Checks policy `p`'s reason template against its checked body, marking the clauses whose
    /// witness it names. `None` after reporting a problem.
    pub(super) fn reason_template(
        &mut self,
        p: &ast::Policy,
        parts: &[ReasonPart],
        body: &mut hir::Body,
    ) -> Option<Vec<hir::ReasonPart>> {
        let witnesses = self.witnesses(p, body);
        let mut bound = Vec::new();
        if let Some(t) = &p.trigger {
            bound_names(t, &mut bound);
        }
        if let ast::Body::Requires { expr, .. } = &p.body {
            bound_names(expr, &mut bound);
        }
        // Seed-form element names (`approver` of `approvals.any where approver.role == ...`).
        bound.extend(self.schema.values().filter_map(|t| match t {
            SlotType::Records { elem_name, .. } => elem_name.clone(),
            _ => None,
        }));
        let mut out = Vec::with_capacity(parts.len());
        let mut ok = true;
        for part in parts {
            let (path, span) = match part {
                ReasonPart::Text(t) => {
                    out.push(hir::ReasonPart::Text(t.clone()));
                    continue;
                }
                ReasonPart::Hole { path, span } => (path, span),
                ReasonPart::Lookup {
                    map,
                    key,
                    rows,
                    span,
                } => {
                    match self.const_entry_placeholder(map, key, rows, span) {
                        Some(part) => out.push(part),
                        None => ok = false,
                    }
                    continue;
                }
            };
            let name = Name {
                text: path.clone().into(),
                span: span.clone(),
            };
            match self.placeholder(&name, &witnesses, &bound, body) {
                Some(part) => {
                    let marked: Vec<u16> = match &part {
                        hir::ReasonPart::Field { clause, .. }
                        | hir::ReasonPart::WitnessEntry { clause, .. } => vec![*clause],
                        hir::ReasonPart::FieldOf(alts) => alts.iter().map(|a| a.clause).collect(),
                        _ => Vec::new(),
                    };
                    if let hir::Body::Requires { clauses, .. } = &mut *body {
                        for clause in marked {
                            if let Some(c) = clauses.get_mut(usize::from(clause)) {
                                super::default_witness::mark(c);
                            }
                        }
                    }
                    out.push(part);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// The element names of the clauses that are one `all` (explicit or seed form).
    fn witnesses(&self, p: &ast::Policy, body: &hir::Body) -> Vec<Witness> {
        let (ast::Body::Requires { expr, .. }, hir::Body::Requires { clauses, .. }) =
            (&p.body, body)
        else {
            return Vec::new();
        };
        let parts = super::witness_lists::clause_parts(expr, p.reason_template.as_deref());
        let mut out = Vec::new();
        for (i, (cp, clause)) in parts.iter().zip(clauses).enumerate() {
            let part = cp.expr;
            let Some(agg) = super::default_witness::all_of(clause) else {
                continue;
            };
            let Ok(clause) = u16::try_from(i) else {
                continue;
            };
            let name = match &strip(part).kind {
                ExprKind::Agg {
                    kind: AggKind::All,
                    var,
                    ..
                } => Some(var.text.as_str().to_owned()),
                ExprKind::Where { .. } => match self.slot_type(agg.list) {
                    SlotType::Records {
                        elem_name: Some(n), ..
                    } => Some(n.clone()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(name) = name {
                out.push(Witness {
                    name,
                    clause,
                    list: agg.list,
                    group: cp.group,
                });
            }
        }
        out
    }

    /// The index of the field `rest` of the element of witness clause `w` (placeholder
    /// `name`, element `first`), after reporting why there is none.
    fn witness_field(
        &mut self,
        name: &Name,
        first: &str,
        rest: Option<&str>,
        w: &Witness,
    ) -> Option<u16> {
        let SlotType::Records {
            fields, max_len, ..
        } = self.slot_type(w.list).clone()
        else {
            // Never drop a policy silently: say why its element cannot be shown.
            let list = self.slot_path(w.list).to_owned();
            self.error(
                name.span.clone(),
                format!("the element of `{list}` cannot be named: it is not a list of records"),
                Some("a witness placeholder names a field of a list-of-records element; show the list's scalars with a separate clause".to_owned()),
            );
            return None;
        };
        if max_len > MAX_WITNESS_LIST {
            let list = self.slot_path(w.list).to_owned();
            self.error(
                name.span.clone(),
                format!(
                    "the element of `{list}` cannot be named: the list may have {max_len} elements, more than {MAX_WITNESS_LIST}"
                ),
                Some(format!("declare `{list}` with `max {MAX_WITNESS_LIST}` or less")),
            );
            return None;
        }
        if let Some(r) = rest.filter(|r| super::elem_positions::has_index(r)) {
            // A position on the element's list field (`{c.args[0]}`, session 9).
            return self.position_field(name, w.list, first, r).map(|(f, _)| f);
        }
        let found = rest.and_then(|r| fields.iter().position(|f| f.path == r));
        match found.and_then(|i| u16::try_from(i).ok()) {
            Some(field) => Some(field),
            None if rest.is_none() => {
                let list = fields
                    .iter()
                    .map(|f| format!("`{}`", hir::joined(first, &f.path)))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(
                    name.span.clone(),
                    format!("`{first}` is a whole element; a placeholder shows one value"),
                    Some(format!("name one of its fields: {list}")),
                );
                None
            }
            None => {
                let candidates = fields.iter().map(|f| hir::joined(first, &f.path)).collect();
                self.unknown(name, candidates);
                None
            }
        }
    }

    fn placeholder(
        &mut self,
        name: &Name,
        witnesses: &[Witness],
        bound: &[String],
        body: &hir::Body,
    ) -> Option<hir::ReasonPart> {
        if name.text == "#count" {
            let counts = matches!(body, hir::Body::Requires { clauses, .. }
                if clauses.iter().any(|c| c.reports_count));
            if !counts {
                self.error(
                    name.span.clone(),
                    "`{#count}` needs a clause that compares a count".to_owned(),
                    Some(
                        "use it with a clause such as `count(a in approvals where ...) >= 2`"
                            .to_owned(),
                    ),
                );
                return None;
            }
            return Some(hir::ReasonPart::Count);
        }
        if name.text == "#found" {
            if !matches!(body, hir::Body::Requires { .. }) {
                self.error(
                    name.span.clone(),
                    "`{#found}` needs a `requires` clause".to_owned(),
                    Some("it shows the attributes the failed comparison clause read".to_owned()),
                );
                return None;
            }
            return Some(hir::ReasonPart::Found);
        }
        // `{labels[params.key]}`: a map entry under a key read at run time (session 10).
        if let Some(parts) = super::reason_entry::split(&name.text) {
            // `{limits[c.name]}` (session 11): the key is a field of a witness element.
            let (kfirst, krest) = ipe_nostd::path::split_first(parts.1);
            let ws: Vec<&Witness> = witnesses.iter().filter(|w| w.name == kfirst).collect();
            let witness = match ws.as_slice() {
                [] if bound.iter().any(|b| b == kfirst) && !self.schema.contains_key(parts.1) => {
                    self.error(
                        name.span.clone(),
                        format!(
                            "`{kfirst}` is not the element of an `all` clause, so `{}[{}]` has no key to show",
                            parts.0, parts.1
                        ),
                        Some(ELEMENT_HELP.to_owned()),
                    );
                    return None;
                }
                [] => None,
                [w] => {
                    let key = Name {
                        text: parts.1.to_owned().into(),
                        span: name.span.clone(),
                    };
                    let rest = (!krest.is_empty()).then_some(krest);
                    let f = self.witness_field(&key, kfirst, rest, w)?;
                    self.witness_key_is_string(name, parts, w.list, f)?;
                    Some((w.clause, w.list, f))
                }
                _ => {
                    self.error(
                        name.span.clone(),
                        format!(
                            "`{kfirst}` names the element of more than one clause, so it cannot be the key of `{}[...]`",
                            parts.0
                        ),
                        Some("a key read from a witness names the element of one `all` over one list: give the aggregates different element names".to_owned()),
                    );
                    return None;
                }
            };
            return self.map_entry_placeholder(name, parts, witness);
        }
        // `c["a.b"]` is `c` and `["a.b"]` (a path's text is canonical: quoted keys stay whole).
        let (first, rest) = match ipe_nostd::path::split_first(&name.text) {
            (f, "") => (f, None),
            (f, r) => (f, Some(r)),
        };
        let ws: Vec<&Witness> = witnesses.iter().filter(|w| w.name == first).collect();
        if let Some(w0) = ws.first() {
            let grouped =
                ws.len() > 1 && ws.iter().all(|x| x.group.is_some() && x.group == w0.group);
            if ws.len() > 1 && !grouped {
                self.error(
                    name.span.clone(),
                    format!("`{first}` names the element of more than one clause"),
                    Some("give the aggregates different element names".to_owned()),
                );
                return None;
            }
            let mut alts = Vec::with_capacity(ws.len());
            for w in ws {
                let field = self.witness_field(name, first, rest, w)?;
                alts.push(hir::WitnessField {
                    clause: w.clause,
                    list: w.list,
                    field,
                });
            }
            if grouped {
                return Some(hir::ReasonPart::FieldOf(alts));
            }
            let a = alts.pop()?;
            return Some(hir::ReasonPart::Field {
                clause: a.clause,
                list: a.list,
                field: a.field,
            });
        }
        if bound.iter().any(|b| b == first) && !self.schema.contains_key(name.text.as_str()) {
            self.error(
                name.span.clone(),
                format!(
                    "`{first}` is not the element of an `all` clause, so it has no value to show"
                ),
                Some(ELEMENT_HELP.to_owned()),
            );
            return None;
        }
        if !self.schema.contains_key(name.text.as_str()) {
            // A fixed key of a map (`m["team"]`, `m["k"].port`): an attribute of its own.
            if let Some(part) = self.map_key_placeholder(name) {
                return part;
            }
            // A position on a request list (`{xs[0]}`, `{items[-1].name}`): a slot of its own.
            if let Some(r) = self.positional(name) {
                let Some(super::Resolved::Slot(id, _)) = r else {
                    return None;
                };
                return Some(hir::ReasonPart::Slot(id));
            }
        }
        match self.schema.get(name.text.as_str()).cloned() {
            Some(ty @ SlotType::Scalar(_)) => {
                let id = self.slot(&name.text, &ty);
                Some(match self.scalar_default(id) {
                    Some(d) => hir::ReasonPart::SlotOr(id, d),
                    None => hir::ReasonPart::Slot(id),
                })
            }
            Some(_) => {
                self.error(
                    name.span.clone(),
                    format!("`{}` is a list; a placeholder shows one value", name.text),
                    Some(
                        "name a scalar attribute, or a field of an `all` clause's element"
                            .to_owned(),
                    ),
                );
                None
            }
            None => {
                let candidates = self
                    .schema
                    .iter()
                    .filter(|(_, t)| matches!(t, SlotType::Scalar(_)))
                    .map(|(k, _)| k.clone())
                    .chain(
                        witnesses
                            .iter()
                            .filter_map(|w| match self.slot_type(w.list) {
                                SlotType::Records { fields, .. } => Some((w, fields)),
                                _ => None,
                            })
                            .flat_map(|(w, fs)| {
                                fs.iter().map(move |f| format!("{}.{}", w.name, f.path))
                            }),
                    )
                    .collect();
                self.unknown(name, candidates);
                None
            }
        }
    }
}

/// `e` without surrounding parentheses.
fn strip(e: &ast::Expr) -> &ast::Expr {
    match &e.kind {
        ExprKind::Paren(x) => strip(x),
        _ => e,
    }
}

/// Every element name an aggregate in `e` binds (explicit forms), at any depth.
fn bound_names(e: &ast::Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::Path(_)
        | ExprKind::Has(_)
        | ExprKind::TimeLit { .. }
        | ExprKind::Now => {}
        ExprKind::Lookup(l) => bound_names(&l.key, out),
        ExprKind::TimeArith { lhs, rhs, .. } => {
            bound_names(lhs, out);
            bound_names(rhs, out);
        }
        ExprKind::TimePart { arg, .. } => bound_names(arg, out),
        ExprKind::Paren(x) | ExprKind::Not(x) | ExprKind::Len(x) | ExprKind::Lower(x) => {
            bound_names(x, out)
        }
        ExprKind::Agg { var, filter, .. } => {
            out.push(var.text.as_str().to_owned());
            if let Some(f) = filter {
                bound_names(f, out);
            }
        }
        ExprKind::MapAgg {
            key, value, filter, ..
        } => {
            out.push(key.text.as_str().to_owned());
            out.push(value.text.as_str().to_owned());
            if let Some(f) = filter {
                bound_names(f, out);
            }
        }
        ExprKind::AggLists { var, filter, .. } => {
            out.push(var.text.as_str().to_owned());
            if let Some(f) = filter {
                bound_names(f, out);
            }
        }
        ExprKind::Cmp { sides, .. } => sides.iter().for_each(|x| bound_names(x, out)),
        ExprKind::Str { lhs, rhs, .. } | ExprKind::Coalesce { lhs, rhs, .. } => {
            bound_names(lhs, out);
            bound_names(rhs, out);
        }
        ExprKind::InSet { lhs, .. }
        | ExprKind::InPath { lhs, .. }
        | ExprKind::SetOp { lhs, .. }
        | ExprKind::InData { lhs, .. } => bound_names(lhs, out),
        ExprKind::Call { args, .. } => args.iter().for_each(|x| bound_names(x, out)),
        ExprKind::And(xs)
        | ExprKind::Or(xs)
        | ExprKind::CountLists(xs)
        | ExprKind::Segment(xs)
        | ExprKind::Arith { args: xs, .. } => xs.iter().for_each(|x| bound_names(x, out)),
        ExprKind::Where { expr, filter, .. } => {
            bound_names(expr, out);
            bound_names(filter, out);
        }
    }
}

/// Renumbers the slots of every reason template (`map[old]` is the new id), as
/// `schema::sort_slots` does for expressions.
pub(super) fn remap_slots(program: &mut hir::Program, map: &[SlotId]) {
    let new = |s: &mut SlotId| {
        if let Some(n) = map.get(usize::from(*s)) {
            *s = *n;
        }
    };
    for part in program
        .policies
        .iter_mut()
        .flat_map(|p| p.template.iter_mut().flatten())
    {
        match part {
            hir::ReasonPart::Slot(s) | hir::ReasonPart::SlotOr(s, _) => new(s),
            hir::ReasonPart::Field { list, .. } => new(list),
            hir::ReasonPart::FieldOf(alts) => alts.iter_mut().for_each(|a| new(&mut a.list)),
            hir::ReasonPart::MapEntry { map, key, .. } => {
                new(map);
                new(key);
            }
            hir::ReasonPart::WitnessEntry { list, map, .. } => {
                new(list);
                new(map);
            }
            hir::ReasonPart::ConstEntry { key, .. } => new(key),
            hir::ReasonPart::Text(_) | hir::ReasonPart::Count | hir::ReasonPart::Found => {}
        }
    }
}

/// Renumbers the element fields of every reason template after implicit fields joined their
/// lists, as `schema::add_implicit_fields` does for expressions.
pub(super) fn renumber_fields(program: &mut hir::Program, maps: &HashMap<SlotId, Vec<u16>>) {
    for part in program
        .policies
        .iter_mut()
        .flat_map(|p| p.template.iter_mut().flatten())
    {
        if let hir::ReasonPart::Field { list, field, .. } = part {
            if let Some(new) = maps.get(list).and_then(|m| m.get(usize::from(*field))) {
                *field = *new;
            }
        }
        if let hir::ReasonPart::WitnessEntry {
            list, key_field, ..
        } = part
        {
            if let Some(new) = maps.get(list).and_then(|m| m.get(usize::from(*key_field))) {
                *key_field = *new;
            }
        }
        if let hir::ReasonPart::FieldOf(alts) = part {
            for a in alts {
                if let Some(new) = maps.get(&a.list).and_then(|m| m.get(usize::from(a.field))) {
                    a.field = *new;
                }
            }
        }
    }
}
