//! The checker: resolves every path against the merged schema (or the types inferred from the
//! policies when the bundle has no schema), types every expression and builds the
//! [`hir::Program`].

mod arith;
pub(crate) mod consts;
mod default_witness;
mod dynkey;
mod dynref;
mod elem_positions;
mod element_defaults;
mod expr;
mod infer;
pub(crate) mod inline;
mod int_ranges;
mod ip;
pub(crate) mod list_eq_lists;
mod lists;
mod lookup;
mod map_records;
mod maps;
mod nested;
mod optional;
mod patterns;
mod plain;
mod positional;
mod reason;
mod reason_entry;
mod schema;
mod segment;
mod strings;
mod sums;
mod time;
mod witness_lists;

use crate::ast::{self, ByteSpan, Name};
use crate::diag::Problem;
use crate::hir::{self, Field, Scalar, SlotId, SlotType};
use expr::VTy;
use ipe_nostd::Effect;
use std::collections::{BTreeMap, HashMap};

/// The policy (or group) names seen so far, borrowed from the syntax tree (issue #15).
type NameSet<'a> = hashbrown::HashSet<&'a str>;

/// Deepest expression nesting accepted.
pub const MAX_DEPTH: u32 = 32;
/// Deepest aggregate nesting accepted.
pub const MAX_AGG_DEPTH: u8 = 4;
/// Most conditions (comparisons, tests, `not`, `and`, `or`, aggregates, at any depth) in one
/// trigger or one requirement clause. Each lowers to at most 17 bytes of code, so a block
/// stays within the 65535 bytes its jumps and aggregate bodies can span.
pub const MAX_TERMS: usize = 2048;
/// Most requirement clauses (top-level `and` operands of `requires`) in one policy.
pub const MAX_CLAUSES: usize = u16::MAX as usize;
/// Most metadata entries in one policy.
pub const MAX_METADATA: usize = u16::MAX as usize;
/// Most policies in one bundle.
pub const MAX_POLICIES: usize = u16::MAX as usize - 1;

/// The number of conditions in `e`, counted as [`MAX_TERMS`] counts them.
fn terms(e: &hir::Expr) -> usize {
    use hir::{Expr as E, Operand as O};
    let agg = |a: &hir::Aggregate| a.filter.as_deref().map_or(0, terms);
    let operand = |o: &O| match o {
        O::Count(a) => agg(a),
        _ => 0,
    };
    1 + match e {
        E::Const(_) => 0,
        E::Truthy(o)
        | E::Has(o)
        | E::InSet { lhs: o, .. }
        | E::InIp { lhs: o, .. }
        | E::InRanges { lhs: o, .. }
        | E::InList { lhs: o, .. }
        | E::InNested { lhs: o, .. } => operand(o),
        E::Cmp { lhs, rhs, .. }
        | E::Str { lhs, rhs, .. }
        | E::Fold { lhs, rhs, .. }
        | E::InHierarchy { lhs, rhs, .. } => operand(lhs) + operand(rhs),
        E::Not(x) => terms(x),
        E::And(xs) | E::Or(xs) => xs.iter().map(terms).sum(),
        E::Any(a) | E::All(a) => agg(a),
    }
}

/// A parsed file handed to the checker.
pub(crate) struct SourceFile<'a> {
    /// File name.
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
    /// Its syntax tree.
    pub ast: &'a ast::File,
}

/// Checks a parsed bundle, expanded by [`inline::expand`] (whose synthetic spans `origins`
/// explains: their source text is the clause and operand text). Returns the program when no
/// problem was found.
pub(crate) fn check_expanded(
    files: &[SourceFile<'_>],
    origins: &inline::Origins,
) -> (Option<hir::Program>, Vec<Problem>) {
    let mut problems = Vec::new();
    let has_schema = files.iter().any(|f| {
        f.ast
            .items
            .iter()
            .any(|i| matches!(i, ast::Item::Schema(_)))
    });
    let types = if has_schema {
        schema::merge(files, &mut problems)
    } else {
        infer::infer(files, &mut problems)
    };
    let defaults = optional::defaults(files, &types, &mut problems);
    let mut default: Option<(Effect, usize, ByteSpan)> = None;
    let mut cx = Ctx {
        schema: &types,
        origins,
        file: 0,
        src: "",
        slots: Vec::new(),
        slot_ids: hashbrown::HashMap::default(),
        schema_slots: types.iter().map(|(p, t)| (p.as_str(), (t, None))).collect(),
        implicit_fields: HashMap::new(),
        scopes: Vec::new(),
        pending: None,
        depth: 0,
        depth_reported: false,
        problems: Vec::new(),
        optional: optional::State::new(defaults),
    };
    // Sized once from the items (issue #15): growing a large `Vec` by doubling faults fresh
    // pages at each step (a group's rules may still grow it).
    let npolicies_top = files
        .iter()
        .flat_map(|f| &f.ast.items)
        .filter(|i| matches!(i, ast::Item::Policy(_)))
        .count();
    let mut policies = Vec::with_capacity(npolicies_top);
    // hashbrown's default hasher, not SipHash (issue #15): one lookup per policy name, in a
    // table sized once.
    let mut names = NameSet::with_capacity(npolicies_top);
    let mut npolicies = 0usize;
    let mut groups = Vec::new();
    let mut group_names = NameSet::default();
    for (fi, f) in files.iter().enumerate() {
        cx.file = fi;
        cx.src = f.text;
        for item in &f.ast.items {
            match item {
                ast::Item::Default { effect, span } => {
                    if default.is_some() {
                        cx.error(
                            span.clone(),
                            "default is declared more than once".to_owned(),
                            None,
                        );
                    } else {
                        default = Some((*effect, fi, span.clone()));
                    }
                }
                ast::Item::Schema(_)
                | ast::Item::Const(_)
                | ast::Item::Def(_)
                | ast::Item::Template(_)
                | ast::Item::Instance(_) => {}
                ast::Item::Policy(p) => {
                    if let Some(p) = cx.named_policy(p, &mut names, &mut npolicies) {
                        policies.push(p);
                    }
                }
                ast::Item::Group(g) => {
                    let first = policies.len();
                    cx.group_header(g, &mut group_names);
                    for p in &g.policies {
                        if let Some(p) = cx.named_policy(p, &mut names, &mut npolicies) {
                            policies.push(p);
                        }
                    }
                    groups.push(hir::Group {
                        name: g.name.text.as_str().to_owned(),
                        intent: g.intent.as_str().to_owned(),
                        first,
                        len: policies.len() - first,
                    });
                }
            }
        }
    }
    problems.append(&mut cx.problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.file, p.span.start));
        return (None, problems);
    }
    let mut program = hir::Program {
        files: files.iter().map(|f| f.name.to_owned()).collect(),
        default: default.map_or(Effect::Deny, |d| d.0),
        slots: Vec::new(),
        policies,
        groups,
    };
    schema::add_implicit_fields(&mut program, &mut cx.slots, &cx.implicit_fields);
    schema::sort_slots(&mut program, cx.slots);
    for s in &mut program.slots {
        if let hir::SlotType::Scalar(_) = s.ty {
            s.default = cx.optional.scalar_default_of(&s.path);
        }
    }
    (Some(program), problems)
}

/// The kind of a seed aggregate (`list.count`, `list.any`, `list.all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SeedKind {
    Count,
    Any,
    All,
}

/// What a path names.
pub(super) enum Resolved {
    /// A top-level attribute.
    Slot(SlotId, SlotType),
    /// A field of an element bound by an enclosing aggregate.
    Field {
        level: u8,
        list: SlotId,
        field: u16,
        ty: Scalar,
        display: String,
    },
    /// A seed aggregate.
    Seed {
        list: SlotId,
        kind: SeedKind,
        list_path: String,
    },
    /// A nested list (issue #13): field `field` of the element of `parent` bound at `level`,
    /// declared by slot `list` (path `path`); with `count`, its length (`e.field.count`).
    Nested {
        level: u8,
        parent: SlotId,
        field: u16,
        list: SlotId,
        ty: SlotType,
        count: bool,
        path: String,
    },
    /// A seed form over a nested list (issue #13): `e.field.any` / `e.field.all` (its
    /// `where` filter pending), with the nested list as in [`Resolved::Nested`].
    NestedSeed {
        level: u8,
        list: SlotId,
        kind: SeedKind,
        /// The path as written (`c.ports`), for messages.
        written: String,
    },
}

/// An element name in scope.
pub(super) struct Scope {
    name: String,
    list: SlotId,
    list_path: String,
    fields: Vec<Field>,
    /// For a map aggregate `(k, v in m ...)`: the names bound to the key and the value.
    alias: Option<(String, String)>,
}

/// Checker state for one bundle.
pub(super) struct Ctx<'s> {
    schema: &'s BTreeMap<String, SlotType>,
    /// Where expanded (synthetic) spans came from.
    origins: &'s inline::Origins,
    file: usize,
    src: &'s str,
    /// Slots in first-use order (renumbered by path at the end).
    slots: Vec<(String, SlotType)>,
    /// Each slot's id by its path (hashbrown's default hasher: one lookup per path, issue #15).
    slot_ids: hashbrown::HashMap<String, SlotId>,
    /// Each declared path's type and, once resolved, its slot (issue #15: a top-level path
    /// found with one lookup, not a search of `schema` and then of `slot_ids`).
    schema_slots: hashbrown::HashMap<&'s str, (&'s SlotType, Option<SlotId>)>,
    /// Per records slot, the internal string fields that `has` on an element record path uses
    /// (`who` for declared `who.role`), numbered after the declared fields in this order; they
    /// join the slot's type at the end (`schema::add_implicit_fields`), so `resolve` never
    /// finds them. Positions on an element's list field (`c.args[0]`, session 9,
    /// `check::elem_positions`) are numbered with them, with their element's type.
    implicit_fields: HashMap<SlotId, Vec<(String, Scalar)>>,
    scopes: Vec<Scope>,
    /// The seed aggregate (by span) that the innermost `where` filters, and its filter.
    pending: Option<(ByteSpan, ast::Expr)>,
    depth: u32,
    depth_reported: bool,
    problems: Vec<Problem>,
    /// Schema defaults and the `??` reads of the conditions being checked (issue #13).
    optional: optional::State,
}

/// The word for a type in messages.
pub(in crate::check) fn ty_word(t: &VTy) -> &'static str {
    match t {
        VTy::Scalar(s) => s.kind().as_str(),
        VTy::List(_) => "list",
        VTy::Records => "list of records",
        VTy::Cond => "bool",
    }
}

impl Ctx<'_> {
    /// The source text of `span` (an expanded node's own text for a synthetic span).
    fn span_text(&self, span: &ByteSpan) -> crate::ast::Text {
        crate::ast::Text::new(self.span_str(span))
    }

    /// [`Self::span_text`], borrowed.
    fn span_str(&self, span: &ByteSpan) -> &str {
        match self.origins.text(span) {
            Some(t) => t,
            None => self.src.get(span.clone()).unwrap_or(""),
        }
    }

    fn error(&mut self, span: ByteSpan, message: String, help: Option<String>) {
        self.problems.push(Problem {
            file: self.file,
            span,
            message,
            help,
        });
    }

    /// Checks a policy and its name (unique, within the bundle's policy limit).
    fn named_policy<'a>(
        &mut self,
        p: &'a ast::Policy,
        names: &mut NameSet<'a>,
        npolicies: &mut usize,
    ) -> Option<hir::Policy> {
        *npolicies += 1;
        if *npolicies == MAX_POLICIES + 1 {
            self.error(
                p.name.span.clone(),
                format!("a bundle may have at most {MAX_POLICIES} policies"),
                Some("split the policies into several bundles".to_owned()),
            );
        }
        if !names.insert(&p.name.text) {
            self.error(
                p.name.span.clone(),
                format!("duplicate policy `{}`", p.name.text),
                None,
            );
        }
        self.policy(p)
    }

    /// Checks a first-match group's name (unique among groups) and that it has rules.
    fn group_header<'a>(&mut self, g: &'a ast::Group, names: &mut NameSet<'a>) {
        if !names.insert(&g.name.text) {
            self.error(
                g.name.span.clone(),
                format!("duplicate group `{}`", g.name.text),
                None,
            );
        }
        if g.policies.is_empty() {
            self.error(
                g.name.span.clone(),
                format!("group `{}` has no rules", g.name.text),
                Some("a first-match group needs at least one `policy`".to_owned()),
            );
        }
    }

    fn policy(&mut self, p: &ast::Policy) -> Option<hir::Policy> {
        self.depth_reported = false;
        let trigger = p.trigger.as_ref().map(|t| {
            let e = self.cond(t);
            self.check_terms(e.as_ref(), &t.span, "trigger");
            e
        });
        let body = match &p.body {
            ast::Body::Denies { reason } => Some(hir::Body::Denies {
                reason: reason.clone(),
            }),
            // An applicable policy whose one requirement always holds: it allows (a bundle's
            // `requires` policy has at least one clause).
            ast::Body::Permits { reason } => Some(hir::Body::Requires {
                clauses: vec![hir::Clause {
                    expr: hir::Expr::Const(true),
                    text: "true".into(),
                    reports_count: false,
                    witness: false,
                }],
                reason: reason.clone(),
            }),
            ast::Body::Requires { expr, reason } => {
                let parts = witness_lists::clause_parts(expr, p.reason_template.as_deref());
                // Sized once (issue #15): a growing `Vec` of 136-byte clauses keeps room for four.
                let mut clauses = Vec::with_capacity(parts.len().min(MAX_CLAUSES));
                let mut ok = true;
                if let Some(extra) = parts.get(MAX_CLAUSES).map(|c| c.expr) {
                    self.error(
                        extra.span.clone(),
                        format!("a policy may have at most {MAX_CLAUSES} requirement clauses"),
                        Some("split the requirement into several policies".to_owned()),
                    );
                    ok = false;
                }
                for witness_lists::ClausePart {
                    expr: part, whole, ..
                } in parts.iter()
                {
                    let checked = self.cond(part);
                    self.check_terms(checked.as_ref(), &part.span, "requirement clause");
                    match checked {
                        Some(e) => {
                            let reports_count = matches!(&e, hir::Expr::Cmp { lhs, rhs, .. }
                                if lhs.is_count() || rhs.is_count());
                            let text = crate::fmt::canonical_inline(self.span_str(&whole.span));
                            clauses.push(hir::Clause {
                                expr: e,
                                text,
                                reports_count,
                                witness: false,
                            });
                        }
                        None => ok = false,
                    }
                }
                ok.then(|| hir::Body::Requires {
                    clauses,
                    reason: reason.clone(),
                })
            }
        };
        let mut body = body;
        let template = match (&p.reason_template, body.as_mut()) {
            (Some(parts), Some(b)) => {
                let t = self.reason_template(p, parts, b);
                // The template replaces the reason text.
                match b {
                    hir::Body::Requires { reason, .. } | hir::Body::Denies { reason } => {
                        *reason = None
                    }
                }
                t
            }
            _ => None,
        };
        if p.reason_template.is_some() && template.is_none() {
            return None;
        }
        let trigger = match trigger {
            Some(Some(t)) => Some(t),
            Some(None) => return None,
            None => None,
        };
        if let Some((key, _)) = p.metadata.get(MAX_METADATA) {
            self.error(
                key.span.clone(),
                format!("a policy may have at most {MAX_METADATA} metadata entries"),
                None,
            );
        }
        // Each key's first offset, and its line once a repeat needs it (one scan per key).
        let mut first_key: HashMap<&str, (usize, Option<usize>)> =
            HashMap::with_capacity(p.metadata.len());
        for (key, _) in &p.metadata {
            if let Some((first, line)) = first_key.get_mut(key.text.as_str()) {
                let line = *line.get_or_insert_with(|| crate::source::line_col(self.src, *first).0);
                self.error(
                    key.span.clone(),
                    format!("metadata key `{}` is given twice", key.text),
                    Some(format!(
                        "it is first given on line {line}; keep one of the two"
                    )),
                );
            } else {
                first_key.insert(&key.text, (key.span.start, None));
            }
        }
        let metadata = p
            .metadata
            .iter()
            .map(|(k, v)| {
                let lit = match v {
                    ast::Lit::Str(s) => hir::Literal::Str(s.clone()),
                    ast::Lit::Int(n) => hir::Literal::Int(*n),
                    ast::Lit::Bool(b) => hir::Literal::Bool(*b),
                };
                (k.text.as_str().to_owned(), lit)
            })
            .collect();
        let span = hir::Span {
            file: u16::try_from(self.file).unwrap_or(u16::MAX),
            start: u32::try_from(p.name.span.start).unwrap_or(u32::MAX),
            end: u32::try_from(p.name.span.end).unwrap_or(u32::MAX),
        };
        Some(hir::Policy {
            name: p.name.text.clone(),
            intent: p.intent.clone(),
            span,
            trigger,
            body: body?,
            metadata,
            template,
        })
    }

    /// Reports a checked trigger or clause with more than [`MAX_TERMS`] conditions.
    fn check_terms(&mut self, e: Option<&hir::Expr>, span: &ByteSpan, what: &str) {
        let n = e.map_or(0, terms);
        if n > MAX_TERMS {
            self.error(
                span.clone(),
                format!("this {what} has {n} conditions, more than {MAX_TERMS}"),
                Some(
                    "split it into several policies, or use `in [...]` for long lists of values"
                        .to_owned(),
                ),
            );
        }
    }

    fn slot_type(&self, id: SlotId) -> &SlotType {
        &self.slots[usize::from(id)].1
    }

    fn slot_path(&self, id: SlotId) -> &str {
        &self.slots[usize::from(id)].0
    }

    fn slot(&mut self, path: &str, ty: &SlotType) -> SlotId {
        if let Some(id) = self.slot_ids.get(path) {
            return *id;
        }
        let id = SlotId::try_from(self.slots.len()).unwrap_or(SlotId::MAX);
        self.slots.push((path.to_owned(), ty.clone()));
        self.slot_ids.insert(path.to_owned(), id);
        self.add_nested_slots(path, ty);
        id
    }

    /// If `name` is a seed aggregate over a declared list, its list path and kind.
    fn seed_of(&self, name: &Name) -> Option<(String, SeedKind)> {
        let (first, _) = ipe_nostd::path::split_first(&name.text);
        if self.scopes.iter().any(|s| s.name == first)
            || self.schema.contains_key(name.text.as_str())
        {
            return None;
        }
        let (prefix, last) = ipe_nostd::path::split_last(&name.text)?;
        let ipe_nostd::path::Segment::Plain(last) = last else {
            return None;
        };
        let kind = match last {
            "count" => SeedKind::Count,
            "any" => SeedKind::Any,
            "all" => SeedKind::All,
            _ => return None,
        };
        match self.schema.get(prefix) {
            Some(SlotType::List { .. } | SlotType::Records { .. } | SlotType::Map { .. }) => {
                Some((prefix.to_owned(), kind))
            }
            _ => None,
        }
    }

    /// Resolves a path, reporting unknown ones.
    fn resolve(&mut self, name: &Name) -> Option<Resolved> {
        // The first segment only names a scope (issue #15: outside aggregates the path is
        // not split).
        let (first, rest) = if self.scopes.is_empty() {
            ("", None)
        } else {
            match ipe_nostd::path::split_first(&name.text) {
                (f, "") => (f, None),
                (f, r) => (f, Some(r)),
            }
        };
        let named = |s: &Scope| s.name == first || maps::alias_of(s, first).is_some();
        if let Some(level) = self.scopes.iter().rposition(named) {
            if let Some(field) = maps::alias_of(&self.scopes[level], first) {
                return self.map_alias(name, level, field);
            }
            let scope = &self.scopes[level];
            // The bare element name is the element itself: the self field (path "") that
            // only an element of a list of scalars has.
            let key = rest.unwrap_or("");
            let list_path = scope.list_path.clone();
            if let Some(r) = self.resolve_nested(level, scope.list, &list_path, key) {
                return Some(r);
            }
            let scope = &self.scopes[level];
            let found = scope.fields.iter().position(|f| f.path == key);
            if let Some(i) = found {
                return Some(Resolved::Field {
                    level: u8::try_from(level).unwrap_or(u8::MAX),
                    list: scope.list,
                    field: u16::try_from(i).unwrap_or(u16::MAX),
                    ty: scope.fields[i].ty.clone(),
                    display: hir::joined(&format!("{}[]", scope.list_path), &scope.fields[i].path),
                });
            }
            if let Some(r) = self.element_position(name, level, key) {
                return r;
            }
            let scope = &self.scopes[level];
            let candidates: Vec<String> = scope
                .fields
                .iter()
                .map(|f| hir::joined(first, &f.path))
                .collect();
            self.unknown(name, candidates);
            return None;
        }
        if let Some(&(ty, id)) = self.schema_slots.get(name.text.as_str()) {
            let id = match id {
                Some(id) => id,
                None => {
                    let id = self.slot(&name.text, ty);
                    if let Some(e) = self.schema_slots.get_mut(name.text.as_str()) {
                        e.1 = Some(id);
                    }
                    id
                }
            };
            return Some(Resolved::Slot(id, ty.clone()));
        }
        if let Some(r) = self.map_key(name) {
            return Some(r);
        }
        if let Some(r) = self.map_record_key(name) {
            return Some(r);
        }
        if let Some(r) = self.positional(name) {
            return r;
        }
        if let Some((list_path, kind)) = self.seed_of(name) {
            let ty = self.schema.get(&list_path)?.clone();
            let list = self.slot(&list_path, &ty);
            return Some(Resolved::Seed {
                list,
                kind,
                list_path,
            });
        }
        // Nested lists (`list[].field`) are no request paths.
        let mut candidates: Vec<String> = self
            .schema
            .keys()
            .filter(|k| !k.contains("[]"))
            .cloned()
            .collect();
        for (k, t) in self.schema {
            if k.contains("[]") {
                continue;
            }
            if matches!(
                t,
                SlotType::List { .. } | SlotType::Records { .. } | SlotType::Map { .. }
            ) {
                candidates.push(format!("{k}.count"));
            }
        }
        for s in &self.scopes {
            candidates.extend(s.fields.iter().map(|f| hir::joined(&s.name, &f.path)));
        }
        self.unknown(name, candidates);
        None
    }

    fn unknown(&mut self, name: &Name, candidates: Vec<String>) {
        let best = candidates
            .iter()
            .map(|c| (strsim::levenshtein(c, &name.text), c))
            .min();
        let limit = (name.text.chars().count() / 3).max(1);
        let help = best
            .filter(|(d, _)| *d <= limit)
            .map(|(_, c)| format!("did you mean `{c}`?"));
        self.error(
            name.span.clone(),
            format!("unknown attribute `{}`", name.text),
            help,
        );
    }
}
