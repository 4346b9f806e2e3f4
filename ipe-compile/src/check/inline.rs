//! Reuse (issue #13): `def` items, aggregates over several lists, `policy template` and
//! `instance` items (from sources or JSON instance files) are expanded here into the plain
//! syntax tree the checker already knows, before any typing. Nothing of them reaches the
//! bundle: their run-time cost is the cost of their expansion.
//!
//! Expanded nodes that come from a def body, a template body or a copy of a filter get
//! *synthetic* spans: indices into [`Origins`], which remember where the node came from (its
//! source text, where an error about it is underlined, and a note naming the def or template
//! and the line inside it). [`Origins::resolve`] turns a synthetic span back into a file, a
//! real span and the notes.

use super::SourceFile;
use crate::ast::{
    self, AggKind, ArgValue, ByteSpan, DataRef, DefBody, Expr, ExprKind, Lit, Name, ParamTy,
    ScalarTy,
};
use crate::diag::Problem;
use crate::source;
use std::collections::{HashMap, HashSet};

#[path = "tparam_positions.rs"]
mod tparam_positions;
#[path = "tparams.rs"]
mod tparams;

/// Synthetic spans start here (far beyond any source text).
const BASE: usize = usize::MAX / 4;
/// Most expression nodes the defs and template bodies of one policy may expand to (defs calling
/// defs can double at each level).
pub const MAX_EXPANSION: usize = 100_000;
/// Words a def cannot be named (they start other syntax).
const RESERVED_DEF: [&str; 13] = [
    "count", "any", "all", "has", "not", "and", "or", "in", "where", "true", "false", "with",
    "requires",
];

/// Where one synthetic span came from.
#[derive(Clone, Debug)]
struct Origin {
    /// The node's source text (its expanded text for a substituted path).
    text: String,
    /// The file and span to underline instead (itself possibly synthetic).
    file: usize,
    span: ByteSpan,
    /// What the help line adds about the expansion.
    note: String,
}

/// The origins of synthetic spans.
#[derive(Clone, Debug, Default)]
pub(crate) struct Origins {
    entries: Vec<Origin>,
}

impl Origins {
    fn add(&mut self, text: String, file: usize, span: ByteSpan, note: String) -> ByteSpan {
        let k = self.entries.len().saturating_mul(2);
        self.entries.push(Origin {
            text,
            file,
            span,
            note,
        });
        BASE.saturating_add(k)..BASE.saturating_add(k).saturating_add(1)
    }

    fn get(&self, span: &ByteSpan) -> Option<&Origin> {
        let k = span.start.checked_sub(BASE)? / 2;
        self.entries.get(k)
    }

    /// The source text of a synthetic span (`None` for a real one).
    pub(crate) fn text(&self, span: &ByteSpan) -> Option<&str> {
        self.get(span).map(|o| o.text.as_str())
    }

    /// A problem's real location, with the notes of every expansion it went through appended
    /// to its help.
    pub(crate) fn resolve(&self, mut p: Problem) -> Problem {
        let mut notes = Vec::new();
        let mut guard = 0;
        while let Some(o) = self.get(&p.span) {
            notes.push(o.note.clone());
            p.file = o.file;
            p.span = o.span.clone();
            guard += 1;
            if guard > self.entries.len() {
                break;
            }
        }
        if !notes.is_empty() {
            let notes = notes.join("; ");
            p.help = Some(match p.help {
                Some(h) => format!("{h}; {notes}"),
                None => notes,
            });
        }
        p
    }
}

/// One JSON instance file given to the compiler.
pub(crate) struct InstanceFile<'a> {
    /// Its index among the bundle's files.
    pub file: usize,
    /// Its name.
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// The bundle after expansion.
pub(crate) struct Expanded {
    /// One syntax tree per file (same order), without defs and templates, instances turned into
    /// policies.
    pub files: Vec<ast::File>,
    /// Where synthetic spans came from.
    pub origins: Origins,
    /// What went wrong (spans may be synthetic: resolve them).
    pub problems: Vec<Problem>,
}

/// What [`expand`] changes in the parsed files (issue #15: plain policies, most of a bundle,
/// stay where they are instead of being copied): [`Expansion::apply`] makes the expanded files.
pub(crate) struct Expansion {
    /// Items replaced (`Some`) or removed (`None`), by file and item index, in order.
    edits: Vec<(usize, usize, Option<ast::Item>)>,
    /// Policies appended to a file (JSON instance files), in order.
    appended: Vec<(usize, Vec<ast::Item>)>,
    /// Where synthetic spans came from.
    pub origins: Origins,
    /// What went wrong (spans may be synthetic: resolve them).
    pub problems: Vec<Problem>,
}

impl Expansion {
    /// The expanded files, from the parsed files [`expand`] was given (moved, not copied).
    pub(crate) fn apply(self, mut files: Vec<ast::File>) -> Expanded {
        let mut edits = self.edits.into_iter().peekable();
        for (fi, f) in files.iter_mut().enumerate() {
            if edits.peek().is_none_or(|(file, ..)| *file != fi) {
                continue;
            }
            let old = std::mem::take(&mut f.items);
            f.items.reserve(old.len());
            for (k, item) in old.into_iter().enumerate() {
                match edits.next_if(|(file, at, _)| *file == fi && *at == k) {
                    Some((.., with)) => f.items.extend(with),
                    None => f.items.push(item),
                }
            }
        }
        for (fi, items) in self.appended {
            if let Some(f) = files.get_mut(fi) {
                f.items.extend(items);
            }
        }
        Expanded {
            files,
            origins: self.origins,
            problems: self.problems,
        }
    }
}

/// A template parameter's value.
#[derive(Clone, Debug)]
struct TArg {
    ty: ParamTy,
    value: ArgValue,
    /// Where the value is (in the instance's file).
    span: ByteSpan,
}

/// Where expanded nodes come from.
#[derive(Clone, Debug)]
struct Via {
    /// The file and span errors are underlined at.
    file: usize,
    span: ByteSpan,
    /// What kind of expansion, for the note: "def `f`" or "template `T`".
    what: String,
}

/// The environment of the text being expanded.
#[derive(Clone, Debug, Default)]
struct Env {
    /// Def parameters and their (expanded) arguments.
    subst: HashMap<String, Expr>,
    /// Def parameters bound to a list union (their argument named one).
    unions: HashMap<String, Vec<Name>>,
    /// Template parameters and their values.
    tparams: HashMap<String, TArg>,
    /// Element names bound by an aggregate over a template list parameter (expanded per value).
    elems: HashMap<String, tparams::Elem>,
    /// Element names bound inside the text being expanded.
    bound: Vec<String>,
    /// Element names bound around the call site (a def body must not read them).
    outer: Vec<String>,
    /// The file the text's real spans belong to.
    file: usize,
    /// `Some` inside a def or template body: nodes get synthetic spans.
    via: Option<Via>,
    /// The defs being expanded (outermost first), for messages.
    stack: Vec<String>,
}

struct Cx<'a> {
    files: &'a [SourceFile<'a>],
    defs: HashMap<&'a str, (usize, &'a ast::Def)>,
    bad_defs: HashSet<String>,
    templates: HashMap<&'a str, (usize, &'a ast::Template)>,
    policies: hashbrown::HashSet<&'a str>,
    origins: Origins,
    problems: Vec<Problem>,
    /// The file the expanded policy lands in (real spans of the output belong to it).
    out_file: usize,
    nodes: usize,
    too_large: bool,
}

/// Expands every reuse item of the bundle. `instances` are the JSON instance files (their
/// `files` entries have empty syntax trees). Policies that use no def, template or
/// several-list aggregate ([`super::plain::inline_plain`]) are left as they are.
pub(crate) fn expand(files: &[SourceFile<'_>], instances: &[InstanceFile<'_>]) -> Expansion {
    let mut cx = Cx::new(files);
    let mut edits = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        cx.out_file = fi;
        for (k, item) in f.ast.items.iter().enumerate() {
            let with = match item {
                ast::Item::Policy(p) => {
                    if cx.plain(p) {
                        continue;
                    }
                    let env = Env {
                        file: fi,
                        ..Env::default()
                    };
                    cx.nodes = 0;
                    cx.too_large = false;
                    Some(ast::Item::Policy(cx.policy(p, &env, p.name.clone())))
                }
                ast::Item::Group(g) => {
                    if g.policies.iter().all(|p| cx.plain(p)) {
                        continue;
                    }
                    let mut rules = Vec::with_capacity(g.policies.len());
                    for p in &g.policies {
                        let env = Env {
                            file: fi,
                            ..Env::default()
                        };
                        cx.nodes = 0;
                        cx.too_large = false;
                        rules.push(cx.policy(p, &env, p.name.clone()));
                    }
                    Some(ast::Item::Group(Box::new(ast::Group {
                        policies: rules,
                        ..(**g).clone()
                    })))
                }
                ast::Item::Instance(inst) => cx.instance(fi, inst).map(ast::Item::Policy),
                ast::Item::Def(_) | ast::Item::Template(_) => None,
                _ => continue,
            };
            edits.push((fi, k, with));
        }
    }
    let mut appended = Vec::new();
    for inst in instances {
        cx.out_file = inst.file;
        let policies = cx.json_instances(inst);
        appended.push((
            inst.file,
            policies.into_iter().map(ast::Item::Policy).collect(),
        ));
    }
    Expansion {
        edits,
        appended,
        origins: cx.origins,
        problems: cx.problems,
    }
}

/// The top-level policies that [`Cx::plain`] calls plain (their number), and the names of
/// those whose expansion differs from them or adds a problem or a synthetic span (test of
/// [`super::plain::inline_plain`]).
#[cfg(test)]
pub(crate) fn plain_mismatches(files: &[SourceFile<'_>]) -> (usize, Vec<String>) {
    let mut cx = Cx::new(files);
    let (mut plain, mut bad) = (0, Vec::new());
    for (fi, f) in files.iter().enumerate() {
        cx.out_file = fi;
        for item in &f.ast.items {
            let policies = match item {
                ast::Item::Policy(p) => std::slice::from_ref(p),
                ast::Item::Group(g) => g.policies.as_slice(),
                _ => &[],
            };
            for p in policies {
                if !cx.plain(p) {
                    continue;
                }
                plain += 1;
                let before = (cx.problems.len(), cx.origins.entries.len());
                let env = Env {
                    file: fi,
                    ..Env::default()
                };
                let out = cx.policy(p, &env, p.name.clone());
                if out != *p || (cx.problems.len(), cx.origins.entries.len()) != before {
                    bad.push(p.name.text.as_str().to_owned());
                }
            }
        }
    }
    (plain, bad)
}

fn where_is(files: &[SourceFile<'_>], file: usize, offset: usize) -> String {
    files.get(file).map_or_else(String::new, |f| {
        let (l, c) = source::line_col(f.text, offset);
        format!("{}:{l}:{c}", f.name)
    })
}

fn ty_name(t: &ParamTy) -> String {
    let s = |s: &ScalarTy| match s {
        ScalarTy::Str => "string",
        ScalarTy::Int => "int",
        ScalarTy::Bool => "bool",
        ScalarTy::Enum(_) => "enum",
        ScalarTy::Quantity => "quantity",
        ScalarTy::Time => "timestamp",
        ScalarTy::Duration => "duration",
        ScalarTy::Ip => "ip",
    };
    match t {
        ParamTy::Scalar(x) => s(x).to_owned(),
        ParamTy::List(x) => format!("list of {}", s(x)),
        ParamTy::Records(fields) => format!("list of {}", tparams::record_ty_name(fields)),
    }
}

fn lit_fits(l: &Lit, t: &ScalarTy) -> bool {
    matches!(
        (l, t),
        (Lit::Str(_), ScalarTy::Str)
            | (Lit::Int(_), ScalarTy::Int)
            | (Lit::Bool(_), ScalarTy::Bool)
    )
}

fn lit_plain(l: &Lit) -> String {
    match l {
        Lit::Str(s) => s.to_string(),
        Lit::Int(n) => n.to_string(),
        Lit::Bool(b) => b.to_string(),
    }
}

/// `{param}` placeholders of `text` replaced by the parameters' values; other braces stay.
fn render(text: &str, args: &HashMap<String, TArg>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open).unwrap_or(""));
        let after = rest.get(open + 1..).unwrap_or("");
        let value = after
            .find('}')
            .and_then(|close| Some((close, args.get(after.get(..close)?)?)));
        match value {
            Some((close, a)) => {
                out.push_str(&match &a.value {
                    ArgValue::Lit(l) => lit_plain(l),
                    ArgValue::List(items) => items
                        .iter()
                        .map(|(l, _)| lit_plain(l))
                        .collect::<Vec<_>>()
                        .join(", "),
                    ArgValue::Records(rs) => tparams::records_text(rs, false),
                });
                rest = after.get(close + 1..).unwrap_or("");
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A literal as source text.
fn lit_source(l: &Lit) -> String {
    match l {
        Lit::Str(s) => serde_json::to_string(s.as_str()).unwrap_or_default(),
        Lit::Int(n) => n.to_string(),
        Lit::Bool(b) => b.to_string(),
    }
}

/// Source text with every template parameter name (a whole word, not a path segment, not
/// inside a string) replaced by its value as source text: the clause text of an instance.
fn with_values(text: &str, args: &HashMap<String, TArg>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            out.push(c);
            let mut escaped = false;
            for (_, d) in chars.by_ref() {
                out.push(d);
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == '"' {
                    break;
                }
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !word(d) {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let tok = text.get(i..end).unwrap_or("");
            let after_dot = text.get(..i).is_some_and(|b| b.ends_with('.'));
            let before_dot = text.get(end..).is_some_and(|a| a.starts_with('.'));
            if let Some((v, used)) = args
                .get(tok)
                .filter(|_| !after_dot)
                .and_then(|a| tparam_positions::position_text(text.get(end..)?, a))
            {
                // A position on a list parameter (`xs[1]`, `rs[0].min`): its value.
                out.push_str(&v);
                while chars.next_if(|&(j, _)| j < end + used).is_some() {}
                continue;
            }
            match args.get(tok) {
                Some(a) if !after_dot && !before_dot => out.push_str(&match &a.value {
                    ArgValue::Lit(l) => lit_source(l),
                    ArgValue::List(items) => format!(
                        "[{}]",
                        items
                            .iter()
                            .map(|(l, _)| lit_source(l))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    ArgValue::Records(rs) => tparams::records_text(rs, true),
                }),
                _ => out.push_str(tok),
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn suggest<'n>(name: &str, names: impl Iterator<Item = &'n str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    names
        .map(|c| (strsim::levenshtein(c, name), c))
        .min()
        .filter(|(d, _)| *d <= limit)
        .map(|(_, c)| c.to_owned())
}

/// The first segment of every path an expression reads (for capture checks).
fn free_heads(e: &Expr, out: &mut HashSet<String>) {
    let head = |n: &Name| n.text.split('.').next().unwrap_or("").to_owned();
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::TimeLit { .. } | ExprKind::Now => {}
        ExprKind::TimeArith { lhs, rhs, .. } => {
            free_heads(lhs, out);
            free_heads(rhs, out);
        }
        ExprKind::TimePart { arg, .. } => free_heads(arg, out),
        ExprKind::Path(n) | ExprKind::Has(n) => {
            out.insert(head(n));
        }
        ExprKind::Paren(x) | ExprKind::Not(x) | ExprKind::Len(x) | ExprKind::Lower(x) => {
            free_heads(x, out)
        }
        ExprKind::Agg { list, filter, .. } => {
            out.insert(head(list));
            if let Some(f) = filter {
                free_heads(f, out);
            }
        }
        ExprKind::AggLists { lists, filter, .. } => {
            out.extend(lists.iter().map(head));
            if let Some(f) = filter {
                free_heads(f, out);
            }
        }
        ExprKind::Cmp { sides, .. } => sides.iter().for_each(|x| free_heads(x, out)),
        ExprKind::Str { lhs, rhs, .. } | ExprKind::Coalesce { lhs, rhs, .. } => {
            free_heads(lhs, out);
            free_heads(rhs, out);
        }
        ExprKind::InSet { lhs, .. } => free_heads(lhs, out),
        ExprKind::InPath { lhs, list } => {
            free_heads(lhs, out);
            out.insert(head(list));
        }
        ExprKind::And(xs)
        | ExprKind::Or(xs)
        | ExprKind::CountLists(xs)
        | ExprKind::Segment(xs)
        | ExprKind::Arith { args: xs, .. } => xs.iter().for_each(|x| free_heads(x, out)),
        ExprKind::Where { expr, filter, .. } => {
            free_heads(expr, out);
            free_heads(filter, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|x| free_heads(x, out)),
        ExprKind::MapAgg { map, filter, .. } => {
            out.insert(head(map));
            if let Some(f) = filter {
                free_heads(f, out);
            }
        }
        ExprKind::Lookup(l) => {
            out.insert(head(&l.map));
            free_heads(&l.key, out);
        }
        ExprKind::SetOp { lhs, rhs: data, .. } | ExprKind::InData { lhs, data } => {
            free_heads(lhs, out);
            if let Some(n) = data_name(data) {
                out.insert(head(n));
            }
            if let DataRef::Of(_, v) | DataRef::KeyOf(_, v) | DataRef::Closure(_, _, v) = &**data {
                free_heads(v, out);
            }
        }
    }
}

/// The name a set operator's or data selection's values side refers to, if any.
fn data_name(d: &DataRef) -> Option<&Name> {
    match d {
        DataRef::Lits(..) => None,
        DataRef::Name(n)
        | DataRef::Key(n, ..)
        | DataRef::Under(n, ..)
        | DataRef::Of(n, _)
        | DataRef::KeyOf(n, _)
        | DataRef::Closure(n, ..) => Some(n),
    }
}

/// Def names a def body refers to (calls, bare names, path heads and aggregate lists).
fn def_refs(e: &Expr, params: &[String], out: &mut Vec<(String, ByteSpan)>) {
    let mut heads = Vec::new();
    collect_refs(e, &mut heads);
    for (h, s) in heads {
        if !params.contains(&h) {
            out.push((h, s));
        }
    }
}

fn collect_refs(e: &Expr, out: &mut Vec<(String, ByteSpan)>) {
    let head = |n: &Name| {
        (
            n.text.split('.').next().unwrap_or("").to_owned(),
            n.span.clone(),
        )
    };
    match &e.kind {
        ExprKind::Call { name, args } => {
            out.push(head(name));
            args.iter().for_each(|a| collect_refs(a, out));
        }
        ExprKind::Path(n) | ExprKind::Has(n) => out.push(head(n)),
        ExprKind::Lit(_) | ExprKind::TimeLit { .. } | ExprKind::Now => {}
        ExprKind::TimeArith { lhs, rhs, .. } => {
            collect_refs(lhs, out);
            collect_refs(rhs, out);
        }
        ExprKind::TimePart { arg, .. } => collect_refs(arg, out),
        ExprKind::Paren(x) | ExprKind::Not(x) | ExprKind::Len(x) | ExprKind::Lower(x) => {
            collect_refs(x, out)
        }
        ExprKind::Agg { list, filter, .. } => {
            out.push(head(list));
            if let Some(f) = filter {
                collect_refs(f, out);
            }
        }
        ExprKind::AggLists { lists, filter, .. } => {
            out.extend(lists.iter().map(head));
            if let Some(f) = filter {
                collect_refs(f, out);
            }
        }
        ExprKind::MapAgg { map, filter, .. } => {
            out.push(head(map));
            if let Some(f) = filter {
                collect_refs(f, out);
            }
        }
        ExprKind::Cmp { sides, .. } => sides.iter().for_each(|x| collect_refs(x, out)),
        ExprKind::Str { lhs, rhs, .. } | ExprKind::Coalesce { lhs, rhs, .. } => {
            collect_refs(lhs, out);
            collect_refs(rhs, out);
        }
        ExprKind::InSet { lhs, .. } => collect_refs(lhs, out),
        ExprKind::InPath { lhs, list } => {
            collect_refs(lhs, out);
            out.push(head(list));
        }
        ExprKind::Lookup(l) => {
            out.push(head(&l.map));
            collect_refs(&l.key, out);
        }
        ExprKind::SetOp { lhs, rhs: data, .. } | ExprKind::InData { lhs, data } => {
            collect_refs(lhs, out);
            if let Some(n) = data_name(data) {
                out.push(head(n));
            }
            if let DataRef::Of(_, v) | DataRef::KeyOf(_, v) | DataRef::Closure(_, _, v) = &**data {
                collect_refs(v, out);
            }
        }
        ExprKind::And(xs)
        | ExprKind::Or(xs)
        | ExprKind::CountLists(xs)
        | ExprKind::Segment(xs)
        | ExprKind::Arith { args: xs, .. } => xs.iter().for_each(|x| collect_refs(x, out)),
        ExprKind::Where { expr, filter, .. } => {
            collect_refs(expr, out);
            collect_refs(filter, out);
        }
    }
}

impl<'a> Cx<'a> {
    /// The context for `files`, with their defs and templates collected and checked.
    fn new(files: &'a [SourceFile<'a>]) -> Self {
        let mut cx = Cx {
            files,
            defs: HashMap::new(),
            bad_defs: HashSet::new(),
            templates: HashMap::new(),
            policies: hashbrown::HashSet::new(),
            origins: Origins::default(),
            problems: Vec::new(),
            out_file: 0,
            nodes: 0,
            too_large: false,
        };
        cx.collect();
        cx.cycles();
        cx
    }

    /// Whether the expansion leaves top-level policy `p` as it is.
    fn plain(&self, p: &ast::Policy) -> bool {
        let is_def = |name: &str| self.defs.contains_key(name) || self.bad_defs.contains(name);
        let none = self.defs.is_empty() && self.bad_defs.is_empty();
        super::plain::inline_plain(p, (!none).then_some(&is_def as &dyn Fn(&str) -> bool))
    }

    fn error(&mut self, file: usize, span: ByteSpan, message: String, help: Option<String>) {
        self.problems.push(Problem {
            file,
            span,
            message,
            help,
        });
    }

    /// Collects defs, templates and policy names; reports duplicates, reserved names and defs
    /// named like an attribute's first segment.
    fn collect(&mut self) {
        let files = self.files;
        let mut heads: HashMap<String, String> = HashMap::new();
        for f in files {
            for item in &f.ast.items {
                if let ast::Item::Schema(entries) = item {
                    for e in entries {
                        let h = e.path.text.split('.').next().unwrap_or("").to_owned();
                        heads
                            .entry(h)
                            .or_insert_with(|| e.path.text.as_str().to_owned());
                    }
                }
                if let ast::Item::Policy(p) = item {
                    self.policies.insert(p.name.text.as_str());
                }
            }
        }
        for (fi, f) in files.iter().enumerate() {
            for item in &f.ast.items {
                match item {
                    ast::Item::Def(d) => {
                        let name = d.name.text.as_str();
                        if RESERVED_DEF.contains(&name) {
                            self.error(
                                fi,
                                d.name.span.clone(),
                                format!("`{name}` cannot be a def name"),
                                Some(format!(
                                    "`{name}` is a keyword of the language; choose another name"
                                )),
                            );
                            self.bad_defs.insert(name.to_owned());
                            continue;
                        }
                        if let Some(path) = heads.get(name) {
                            self.error(
                                fi,
                                d.name.span.clone(),
                                format!("def `{name}` has the name of an attribute"),
                                Some(format!(
                                    "the schema declares `{path}`, so `{name}` would mean both; rename the def"
                                )),
                            );
                            self.bad_defs.insert(name.to_owned());
                            continue;
                        }
                        if let Some((pf, prev)) = self.defs.get(name) {
                            let at = where_is(files, *pf, prev.name.span.start);
                            self.error(
                                fi,
                                d.name.span.clone(),
                                format!("duplicate def `{name}`"),
                                Some(format!(
                                    "it is first declared at {at}; rename or remove one of the two"
                                )),
                            );
                            continue;
                        }
                        let mut seen = HashSet::new();
                        for p in &d.params {
                            if !seen.insert(p.text.as_str()) {
                                self.error(
                                    fi,
                                    p.span.clone(),
                                    format!("parameter `{}` is declared twice", p.text),
                                    Some("give each parameter its own name".to_owned()),
                                );
                            }
                        }
                        self.defs.insert(name, (fi, d));
                    }
                    ast::Item::Template(t) => {
                        let name = t.policy.name.text.as_str();
                        if let Some((pf, prev)) = self.templates.get(name) {
                            let at = where_is(files, *pf, prev.policy.name.span.start);
                            self.error(
                                fi,
                                t.policy.name.span.clone(),
                                format!("duplicate template `{name}`"),
                                Some(format!(
                                    "it is first declared at {at}; rename or remove one of the two"
                                )),
                            );
                            continue;
                        }
                        let mut seen = HashSet::new();
                        for p in &t.params {
                            if !seen.insert(p.name.text.as_str()) {
                                self.error(
                                    fi,
                                    p.name.span.clone(),
                                    format!("parameter `{}` is declared twice", p.name.text),
                                    Some("give each parameter its own name".to_owned()),
                                );
                            }
                        }
                        self.templates.insert(name, (fi, t));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Reports every def that uses itself, directly or through other defs.
    fn cycles(&mut self) {
        let mut graph: HashMap<&str, Vec<(String, ByteSpan)>> = HashMap::new();
        for (name, (_, d)) in &self.defs {
            let params: Vec<String> = d
                .params
                .iter()
                .map(|p| p.text.as_str().to_owned())
                .collect();
            let mut refs = Vec::new();
            match &d.body {
                DefBody::Expr(e) => def_refs(e, &params, &mut refs),
                DefBody::Lists(ls) => {
                    for l in ls {
                        let h = l.text.split('.').next().unwrap_or("").to_owned();
                        if !params.contains(&h) {
                            refs.push((h, l.span.clone()));
                        }
                    }
                }
            }
            refs.retain(|(r, _)| self.defs.contains_key(r.as_str()));
            graph.insert(name, refs);
        }
        let mut names: Vec<&str> = graph.keys().copied().collect();
        names.sort_unstable();
        let mut reported: HashSet<String> = HashSet::new();
        for start in names {
            // Depth-first search for a path back to `start`.
            let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
            let mut on_path: Vec<&str> = vec![start];
            let mut visited: HashSet<&str> = HashSet::new();
            while let Some((node, k)) = stack.pop() {
                let edges = graph.get(node).map_or(&[][..], Vec::as_slice);
                if let Some((next, _)) = edges.get(k) {
                    stack.push((node, k + 1));
                    if next == start {
                        if reported.insert(start.to_owned()) {
                            let mut cycle: Vec<&str> = on_path.clone();
                            cycle.push(start);
                            // One error per cycle: its other defs are marked, not reported.
                            for c in &cycle {
                                reported.insert((*c).to_owned());
                                self.bad_defs.insert((*c).to_owned());
                            }
                            self.report_cycle(start, &cycle);
                        }
                        continue;
                    }
                    if let Some((n, _)) = self.defs.get_key_value(next.as_str()) {
                        if visited.insert(n) {
                            stack.push((n, 0));
                            on_path.push(n);
                        }
                    }
                } else {
                    on_path.pop();
                }
            }
        }
    }

    fn report_cycle(&mut self, start: &str, cycle: &[&str]) {
        self.bad_defs.insert(start.to_owned());
        let Some((fi, d)) = self.defs.get(start) else {
            return;
        };
        let (fi, span) = (*fi, d.name.span.clone());
        let chain = cycle
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(" -> ");
        let message = if cycle.len() == 2 {
            format!("def `{start}` uses itself")
        } else {
            format!("def `{start}` uses itself through other defs: {chain}")
        };
        self.error(
            fi,
            span,
            message,
            Some(
                "defs are inlined where they are used, so they cannot be recursive, directly or \
                 through other defs"
                    .to_owned(),
            ),
        );
    }

    /// A span for a node of the text in `env` at `span`, with `text` as its source text.
    fn span_as(&mut self, env: &Env, span: &ByteSpan, text: Option<String>) -> ByteSpan {
        let Some(via) = &env.via else {
            return span.clone();
        };
        // Only expanded nodes count toward the limit: plain policies have their own limits.
        self.nodes += 1;
        let text = text.unwrap_or_else(|| {
            let raw = self
                .files
                .get(env.file)
                .and_then(|f| f.text.get(span.clone()))
                .map(crate::fmt::canonical_text)
                .unwrap_or_default();
            if env.tparams.is_empty() {
                raw
            } else {
                with_values(&raw, &env.tparams)
            }
        });
        let note = format!(
            "in {} at {}",
            via.what,
            where_is(self.files, env.file, span.start)
        );
        self.origins.add(text, via.file, via.span.clone(), note)
    }

    fn span(&mut self, env: &Env, span: &ByteSpan) -> ByteSpan {
        self.span_as(env, span, None)
    }

    fn policy(&mut self, p: &ast::Policy, env: &Env, name: Name) -> ast::Policy {
        let trigger = p.trigger.as_ref().map(|t| self.expr(t, env));
        let body = match &p.body {
            ast::Body::Requires { expr, reason } => ast::Body::Requires {
                expr: self.top_and(expr, env),
                reason: reason.as_ref().map(|r| render(r, &env.tparams)),
            },
            ast::Body::Denies { reason } => ast::Body::Denies {
                reason: reason.as_ref().map(|r| render(r, &env.tparams)),
            },
            ast::Body::Permits { reason } => ast::Body::Permits {
                reason: reason.as_ref().map(|r| render(r, &env.tparams)),
            },
        };
        let reason_template = p
            .reason_template
            .as_ref()
            .and_then(|parts| self.reason_parts(parts, env));
        ast::Policy {
            name,
            intent: (render(&p.intent, &env.tparams)).into(),
            trigger,
            body,
            reason_template,
            metadata: p
                .metadata
                .iter()
                .map(|(k, v)| {
                    let span = self.span(env, &k.span);
                    (
                        Name {
                            text: k.text.clone(),
                            span,
                        },
                        v.clone(),
                    )
                })
                .collect(),
        }
    }

    /// A reason template in `env`: a placeholder naming a template parameter becomes the
    /// parameter's value (as `{param}` renders in the reason text), others keep their place;
    /// `None` when no placeholder is left.
    fn reason_parts(
        &mut self,
        parts: &[ast::ReasonPart],
        env: &Env,
    ) -> Option<Vec<ast::ReasonPart>> {
        let mut out: Vec<ast::ReasonPart> = Vec::with_capacity(parts.len());
        for part in parts {
            let part = match part {
                ast::ReasonPart::Hole { path, .. } if env.tparams.contains_key(path) => {
                    ast::ReasonPart::Text(render(&format!("{{{path}}}"), &env.tparams))
                }
                ast::ReasonPart::Hole { path, span } => ast::ReasonPart::Hole {
                    path: path.clone(),
                    span: self.span(env, span),
                },
                other => other.clone(),
            };
            match (out.last_mut(), part) {
                (Some(ast::ReasonPart::Text(prev)), ast::ReasonPart::Text(t)) => prev.push_str(&t),
                (_, part) => out.push(part),
            }
        }
        out.iter()
            .any(|p| matches!(p, ast::ReasonPart::Hole { .. }))
            .then_some(out)
    }

    /// A requirement: its top-level `and` stays one `and` (each clause expanded on its own).
    fn top_and(&mut self, e: &Expr, env: &Env) -> Expr {
        if let ExprKind::And(parts) = &e.kind {
            let parts = parts.iter().map(|x| self.expr(x, env)).collect();
            return Expr {
                kind: ExprKind::And(parts),
                span: self.span(env, &e.span),
            };
        }
        self.expr(e, env)
    }

    fn guard(&mut self, env: &Env, span: &ByteSpan) -> bool {
        if self.nodes > MAX_EXPANSION && !self.too_large {
            self.too_large = true;
            let s = self.span(env, span);
            let file = self.out_file;
            self.error(
                file,
                s,
                format!("this policy expands to more than {MAX_EXPANSION} nodes"),
                Some("defs are inlined at each use; use fewer nested def calls".to_owned()),
            );
        }
        self.too_large
    }

    fn lit(span: ByteSpan) -> Expr {
        Expr {
            kind: ExprKind::Lit(Lit::Bool(false)),
            span,
        }
    }

    fn expr(&mut self, e: &Expr, env: &Env) -> Expr {
        if self.guard(env, &e.span) {
            return Self::lit(e.span.clone());
        }
        let kind = match &e.kind {
            ExprKind::Lit(l) => ExprKind::Lit(l.clone()),
            ExprKind::TimeLit { ty, ms } => ExprKind::TimeLit { ty: *ty, ms: *ms },
            ExprKind::Now => ExprKind::Now,
            ExprKind::TimeArith { sub, op, lhs, rhs } => ExprKind::TimeArith {
                sub: *sub,
                op: self.span(env, op),
                lhs: Box::new(self.expr(lhs, env)),
                rhs: Box::new(self.expr(rhs, env)),
            },
            ExprKind::TimePart {
                part,
                arg,
                offset_ms,
            } => ExprKind::TimePart {
                part: *part,
                arg: Box::new(self.expr(arg, env)),
                offset_ms: *offset_ms,
            },
            ExprKind::Path(n) => return self.path_expr(n, e, env),
            ExprKind::Call { name, args } => return self.call(name, args, &e.span, env),
            ExprKind::Paren(x) => ExprKind::Paren(Box::new(self.expr(x, env))),
            ExprKind::Coalesce { lhs, rhs, op } => ExprKind::Coalesce {
                lhs: Box::new(self.expr(lhs, env)),
                rhs: Box::new(self.expr(rhs, env)),
                op: self.span(env, op),
            },
            ExprKind::Not(x) => ExprKind::Not(Box::new(self.expr(x, env))),
            ExprKind::Len(x) => ExprKind::Len(Box::new(self.expr(x, env))),
            ExprKind::Lower(x) => ExprKind::Lower(Box::new(self.expr(x, env))),
            ExprKind::Segment(xs) => {
                ExprKind::Segment(xs.iter().map(|x| self.expr(x, env)).collect())
            }
            ExprKind::Arith { op, args } => ExprKind::Arith {
                op: *op,
                args: args.iter().map(|x| self.expr(x, env)).collect(),
            },
            ExprKind::And(xs) => ExprKind::And(xs.iter().map(|x| self.expr(x, env)).collect()),
            ExprKind::Or(xs) => ExprKind::Or(xs.iter().map(|x| self.expr(x, env)).collect()),
            ExprKind::CountLists(xs) => {
                ExprKind::CountLists(xs.iter().map(|x| self.expr(x, env)).collect())
            }
            // The key is an expression: a parameter becomes its argument (a string literal
            // makes the lookup a constant's path in `check::consts`).
            ExprKind::Lookup(l) => ExprKind::Lookup(Box::new(crate::ast::Lookup {
                map: self.lookup_map(&l.map, env),
                key: self.expr(&l.key, env),
                field: l.field.clone(),
                brackets: self.span(env, &l.brackets),
                has: l.has,
                rows: l.rows.clone(),
            })),
            ExprKind::Cmp { op, sides } => {
                let [lhs, rhs] = &**sides;
                if let Some(x) = self.tparam_list_eq(*op, lhs, rhs, &e.span, env) {
                    return x;
                }
                ExprKind::cmp(*op, self.expr(lhs, env), self.expr(rhs, env))
            }
            ExprKind::Str { op, lhs, rhs } => ExprKind::Str {
                op: *op,
                lhs: Box::new(self.expr(lhs, env)),
                rhs: Box::new(self.expr(rhs, env)),
            },
            ExprKind::InSet { lhs, items } => ExprKind::InSet {
                lhs: Box::new(self.expr(lhs, env)),
                items: items
                    .iter()
                    .map(|(l, s)| (l.clone(), self.span(env, s)))
                    .collect(),
            },
            ExprKind::InPath { lhs, list } => {
                let lhs = Box::new(self.expr(lhs, env));
                if self.elem_not_path(list, env) {
                    return Self::lit(self.span(env, &e.span));
                }
                if let Some(a) = self.list_param(list, env) {
                    ExprKind::InSet { lhs, items: a }
                } else {
                    match self.one_path(list, env) {
                        Some(list) => ExprKind::InPath { lhs, list },
                        None => return Self::lit(self.span(env, &e.span)),
                    }
                }
            }
            ExprKind::Has(n) if self.elem_not_path(n, env) => {
                return Self::lit(self.span(env, &e.span))
            }
            ExprKind::Has(n) => match self.one_path(n, env) {
                Some(n) => ExprKind::Has(n),
                None => return Self::lit(self.span(env, &e.span)),
            },
            ExprKind::SetOp { op, lhs, rhs } => ExprKind::SetOp {
                op: *op,
                lhs: Box::new(self.expr(lhs, env)),
                rhs: Box::new(self.data_ref(rhs, env)),
            },
            ExprKind::InData { lhs, data } => ExprKind::InData {
                lhs: Box::new(self.expr(lhs, env)),
                data: Box::new(self.data_ref(data, env)),
            },
            ExprKind::Where { expr, kw, filter } => ExprKind::Where {
                expr: Box::new(self.expr(expr, env)),
                kw: self.span(env, kw),
                filter: Box::new(self.expr(filter, env)),
            },
            ExprKind::Agg {
                kind,
                var,
                list,
                filter,
            } => {
                return self.agg(
                    *kind,
                    var,
                    std::slice::from_ref(list),
                    filter.as_deref(),
                    &e.span,
                    env,
                )
            }
            ExprKind::AggLists {
                kind,
                var,
                lists,
                filter,
            } => return self.agg(*kind, var, lists, filter.as_deref(), &e.span, env),
            ExprKind::MapAgg {
                kind,
                key,
                value,
                map,
                filter,
            } => {
                let Some(map) = self.one_path(map, env) else {
                    return Self::lit(self.span(env, &e.span));
                };
                let mut inner = env.clone();
                inner.bound.push(key.text.as_str().to_owned());
                inner.bound.push(value.text.as_str().to_owned());
                inner.elems.remove(key.text.as_str());
                inner.elems.remove(value.text.as_str());
                let respan = |cx: &mut Self, n: &Name| Name {
                    text: n.text.clone(),
                    span: cx.span(env, &n.span),
                };
                ExprKind::MapAgg {
                    kind: *kind,
                    key: Box::new(respan(self, key)),
                    value: Box::new(respan(self, value)),
                    map: Box::new(map),
                    filter: filter.as_deref().map(|f| Box::new(self.expr(f, &inner))),
                }
            }
        };
        Expr {
            kind,
            span: self.span(env, &e.span),
        }
    }

    /// The values side of a set operator or data selection in `env`: a template list
    /// parameter becomes its literals, a def parameter its argument's path; constants stay
    /// (`check::consts` expands them next).
    fn data_ref(&mut self, d: &DataRef, env: &Env) -> DataRef {
        match d {
            DataRef::Lits(items, s) => DataRef::Lits(
                items
                    .iter()
                    .map(|(l, s)| (l.clone(), self.span(env, s)))
                    .collect(),
                self.span(env, s),
            ),
            DataRef::Name(n) => {
                if let Some(items) = self.list_param(n, env) {
                    return DataRef::Lits(items, self.span(env, &n.span));
                }
                let head = n.text.split('.').next().unwrap_or("");
                let param = env.subst.contains_key(head) || env.unions.contains_key(head);
                match param.then(|| self.one_path(n, env)).flatten() {
                    Some(p) => DataRef::Name(p),
                    None => DataRef::Name(Name {
                        text: n.text.clone(),
                        span: self.span(env, &n.span),
                    }),
                }
            }
            DataRef::Key(n, k, s) => DataRef::Key(
                Name {
                    text: n.text.clone(),
                    span: self.span(env, &n.span),
                },
                k.clone(),
                self.span(env, s),
            ),
            DataRef::Under(n, k, s) => DataRef::Under(
                Name {
                    text: n.text.clone(),
                    span: self.span(env, &n.span),
                },
                k.clone(),
                self.span(env, s),
            ),
            // The value is an expression: a parameter becomes its argument (a string
            // literal makes the selection `DataRef::Under` in `check::consts`).
            DataRef::Of(n, v) => DataRef::Of(
                Name {
                    text: n.text.clone(),
                    span: self.span(env, &n.span),
                },
                Box::new(self.expr(v, env)),
            ),
            DataRef::KeyOf(n, v) => DataRef::KeyOf(
                Name {
                    text: n.text.clone(),
                    span: self.span(env, &n.span),
                },
                Box::new(self.expr(v, env)),
            ),
            DataRef::Closure(n, pairs, v) => DataRef::Closure(
                Name {
                    text: n.text.clone(),
                    span: self.span(env, &n.span),
                },
                pairs.clone(),
                Box::new(self.expr(v, env)),
            ),
        }
    }

    /// The values of a template list parameter used after `in`, with spans.
    fn list_param(&mut self, list: &Name, env: &Env) -> Option<Vec<(Lit, ByteSpan)>> {
        if env.bound.iter().any(|b| *b == list.text) || env.elems.contains_key(list.text.as_str()) {
            return None;
        }
        let a = env.tparams.get(list.text.as_str())?.clone();
        match &a.value {
            ArgValue::Records(_) => {
                self.records_not_values(list, &a, env);
                Some(Vec::new())
            }
            ArgValue::List(items) => {
                let out = self.out_file;
                let note = format!(
                    "the value of parameter `{}` used at {}",
                    list.text,
                    where_is(self.files, env.file, list.span.start)
                );
                Some(
                    items
                        .iter()
                        .map(|(l, s)| {
                            let s = if s.start >= BASE || s.is_empty() {
                                a.span.clone()
                            } else {
                                s.clone()
                            };
                            (
                                l.clone(),
                                self.origins.add(lit_plain(l), out, s, note.clone()),
                            )
                        })
                        .collect(),
                )
            }
            ArgValue::Lit(_) => {
                self.error_at_use(
                    env,
                    &list.span,
                    format!(
                        "parameter `{}` is a {}, not a list",
                        list.text,
                        ty_name(&a.ty)
                    ),
                    format!("compare with `==`, or declare `{}: list of ...`", list.text),
                );
                Some(Vec::new())
            }
        }
    }

    /// A path that must stay a path (`has`, `in path`): substituted, or an error.
    fn one_path(&mut self, n: &Name, env: &Env) -> Option<Name> {
        let mut v = self.paths(n, env)?;
        if v.len() == 1 {
            return v.pop();
        }
        let s = self.span(env, &n.span);
        let out = self.out_file;
        self.error(
            out,
            s,
            format!("`{}` names several lists", n.text),
            Some("a list union can only be iterated: `any(x in union where ...)`".to_owned()),
        );
        None
    }

    /// The lists an argument names when it is a bare list union (a union def, or a parameter
    /// bound to one).
    fn union_of(&mut self, a: &Expr, env: &Env) -> Option<Vec<Name>> {
        let ExprKind::Path(n) = &a.kind else {
            return None;
        };
        if n.text.contains('.') || env.bound.iter().any(|b| *b == n.text) {
            return None;
        }
        if let Some(ls) = env.unions.get(n.text.as_str()) {
            return Some(ls.clone());
        }
        if env.subst.contains_key(n.text.as_str()) {
            return None;
        }
        let (_, d) = self.defs.get(n.text.as_str())?;
        if !matches!(d.body, DefBody::Lists(_)) {
            return None;
        }
        let v = self.paths(n, env)?;
        (v.len() > 1).then_some(v)
    }

    /// The paths a name stands for after substitution (several for a list union def).
    /// The map of a lookup `m[k]`: a def parameter bound to an attribute path at its head
    /// (`p.labels[k]` with `p := metadata`, issue #13 session 9) is replaced by it, like any
    /// path it starts; any other name (a constant, a request map) stays as written.
    fn lookup_map(&mut self, n: &Name, env: &Env) -> Name {
        let head = n.text.split_once('.').map_or(n.text.as_str(), |(h, _)| h);
        let bound_path = matches!(
            env.subst.get(head).map(|a| &a.kind),
            Some(ExprKind::Path(_))
        );
        if bound_path {
            if let Some(p) = self.paths(n, env).and_then(|mut v| v.pop()) {
                return p;
            }
        }
        Name {
            text: n.text.clone(),
            span: self.span(env, &n.span),
        }
    }

    fn paths(&mut self, n: &Name, env: &Env) -> Option<Vec<Name>> {
        let (head, rest) = match n.text.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (n.text.as_str(), None),
        };
        let join = |base: &str| match rest {
            Some(r) => format!("{base}.{r}"),
            None => base.to_owned(),
        };
        if self.elem_not_path(n, env) {
            return None;
        }
        if let Some(x) = self.param_position(n, head, env) {
            return x;
        }
        if env.bound.iter().any(|b| b == head) {
            let span = self.span(env, &n.span);
            return Some(vec![Name {
                text: n.text.clone(),
                span,
            }]);
        }
        if let Some(lists) = env.unions.get(head).cloned() {
            if rest.is_some() {
                let s = self.span(env, &n.span);
                let out = self.out_file;
                self.error(
                    out,
                    s,
                    format!("`{head}` names several lists"),
                    Some(
                        "iterate the union with an aggregate: `any(x in union where ...)`"
                            .to_owned(),
                    ),
                );
                return None;
            }
            return Some(lists);
        }
        if let Some(arg) = env.subst.get(head).cloned() {
            return match &arg.kind {
                ExprKind::Path(p) => {
                    let text = join(&p.text);
                    let span = self.span_as(env, &n.span, Some(text.clone()));
                    Some(vec![Name {
                        text: text.into(),
                        span,
                    }])
                }
                _ => {
                    let out = self.out_file;
                    let def = env.stack.last().cloned().unwrap_or_default();
                    self.error(
                        out,
                        arg.span.clone(),
                        format!("the argument for `{head}` must be an attribute path or an element name"),
                        Some(format!("def `{def}` reads `{}` from it", n.text)),
                    );
                    None
                }
            };
        }
        if let Some(a) = env.tparams.get(head) {
            let (message, help) = if matches!(a.value, ArgValue::Lit(_)) {
                (
                    format!(
                        "parameter `{head}` is a {}, not an attribute",
                        ty_name(&a.ty)
                    ),
                    "use it as a value (`x == param`); it has no fields".to_owned(),
                )
            } else {
                (
                    format!(
                        "parameter `{head}` is a {}, not an attribute",
                        ty_name(&a.ty)
                    ),
                    format!("iterate it (`any(v in {head} where ...)`), or use `x in {head}`"),
                )
            };
            self.error_at_use(env, &n.span, message, help);
            return None;
        }
        if !self.defs.contains_key(head) && !self.bad_defs.contains(head) {
            if env.via.is_some() && env.outer.iter().any(|o| o == head) {
                let s = self.span(env, &n.span);
                let out = self.out_file;
                let def = env.stack.last().cloned().unwrap_or_default();
                self.error(
                    out,
                    s,
                    format!("def `{def}` reads attribute `{}`, but `{head}` is an element name where it is used", n.text),
                    Some(format!("rename the element `{head}` at the call site")),
                );
                return None;
            }
            let span = self.span(env, &n.span);
            return Some(vec![Name {
                text: n.text.clone(),
                span,
            }]);
        }
        // A def used as a path: its body must be a path or a list union.
        let body = self.def_body(head, &[], HashMap::new(), HashMap::new(), &n.span, env)?;
        match body {
            Expanded1::Expr(e) => match e.kind {
                ExprKind::Path(p) => {
                    let text = join(&p.text);
                    let span = self.span_as(env, &n.span, Some(text.clone()));
                    Some(vec![Name {
                        text: text.into(),
                        span,
                    }])
                }
                ExprKind::Paren(inner) if matches!(inner.kind, ExprKind::Path(_)) => {
                    let ExprKind::Path(p) = inner.kind else {
                        return None;
                    };
                    let text = join(&p.text);
                    let span = self.span_as(env, &n.span, Some(text.clone()));
                    Some(vec![Name {
                        text: text.into(),
                        span,
                    }])
                }
                _ => {
                    let s = self.span(env, &n.span);
                    let out = self.out_file;
                    self.error(
                        out,
                        s,
                        format!("def `{head}` is not an attribute path"),
                        Some(format!(
                            "`{}` needs a path here; `{head}` stands for an expression",
                            n.text
                        )),
                    );
                    None
                }
            },
            Expanded1::Lists(ls) => {
                if rest.is_some() {
                    let s = self.span(env, &n.span);
                    let out = self.out_file;
                    self.error(
                        out,
                        s,
                        format!("def `{head}` names several lists"),
                        Some(
                            "iterate the union with an aggregate: `any(x in union where ...)`"
                                .to_owned(),
                        ),
                    );
                    return None;
                }
                Some(ls)
            }
        }
    }

    /// `xs[0]`, `xs[-1].name` with `xs` a def parameter bound to a path (issue #13, session
    /// 9): the same position on the argument (`tags[0]`, `c.args[0]`, `allowed[0]`, folded
    /// later for a constant). `None` when `head` is no position on a def parameter.
    fn param_position(&mut self, n: &Name, head: &str, env: &Env) -> Option<Option<Vec<Name>>> {
        let (base, _) = head.split_once('[')?;
        ipe_nostd::positional::positional(head)?;
        if env.bound.iter().any(|b| b == base) || env.unions.contains_key(base) {
            return None;
        }
        let arg = env.subst.get(base).cloned()?;
        let after = n.text.get(base.len()..).unwrap_or("");
        match &arg.kind {
            ExprKind::Path(p) => {
                let text = format!("{}{after}", p.text);
                let span = self.span_as(env, &n.span, Some(text.clone()));
                Some(Some(vec![Name {
                    text: text.into(),
                    span,
                }]))
            }
            _ => {
                let out = self.out_file;
                let def = env.stack.last().cloned().unwrap_or_default();
                self.error(
                    out,
                    arg.span.clone(),
                    format!("the argument for `{base}` must be a list: an attribute path, an element's list field or a constant"),
                    Some(format!("def `{def}` reads the position `{}` of it", n.text)),
                );
                Some(None)
            }
        }
    }

    fn path_expr(&mut self, n: &Name, e: &Expr, env: &Env) -> Expr {
        if let Some(x) = self.elem_path(n, env) {
            return x;
        }
        if let Some(x) = self.tparam_position(n, env) {
            return x;
        }
        let head = n.text.split('.').next().unwrap_or("");
        let bound = env.bound.iter().any(|b| b == head);
        if !bound && !n.text.contains('.') {
            if let Some(arg) = env
                .subst
                .get(head)
                .filter(|_| !env.unions.contains_key(head))
            {
                return arg.clone();
            }
            if let Some(a) = env.tparams.get(head).cloned() {
                return match &a.value {
                    ArgValue::Lit(l) => {
                        self.nodes += 1;
                        let note = format!(
                            "the value of parameter `{head}` used at {}",
                            where_is(self.files, env.file, e.span.start)
                        );
                        let out = self.out_file;
                        Expr {
                            kind: ExprKind::Lit(l.clone()),
                            span: self.origins.add(lit_plain(l), out, a.span.clone(), note),
                        }
                    }
                    ArgValue::List(_) | ArgValue::Records(_) => {
                        self.error_at_use(
                            env,
                            &e.span,
                            format!("parameter `{head}` is a {}, not a value", ty_name(&a.ty)),
                            format!(
                                "use it after `in` (`x in {head}`), iterate it (`any(v in {head} where ...)`) or pass it to a def"
                            ),
                        );
                        Self::lit(e.span.clone())
                    }
                };
            }
            if self.defs.contains_key(head) || self.bad_defs.contains(head) {
                return self.call(n, &[], &e.span, env);
            }
        }
        // `g.id` with `g` a def parameter bound to a lookup of a record (issue #13,
        // `same(x, repos[r].readers)`): the lookup with the field path extended.
        if let Some((h, rest)) = n.text.split_once('.').filter(|_| !bound) {
            if let Some(ExprKind::Lookup(l)) = env.subst.get(h).map(|a| &a.kind) {
                let mut l = (**l).clone();
                l.field = Some(match &l.field {
                    Some(f) => format!("{f}.{rest}"),
                    None => rest.to_owned(),
                });
                return Expr {
                    kind: ExprKind::Lookup(Box::new(l)),
                    span: self.span(env, &e.span),
                };
            }
        }
        match self.paths(n, env) {
            Some(mut v) if v.len() == 1 => {
                let p = v.pop().unwrap_or_else(|| n.clone());
                Expr {
                    span: p.span.clone(),
                    kind: ExprKind::Path(p),
                }
            }
            Some(_) => {
                let s = self.span(env, &e.span);
                let out = self.out_file;
                self.error(
                    out,
                    s,
                    format!("`{}` names several lists", n.text),
                    Some(
                        "a list union can only be iterated: `any(x in union where ...)`".to_owned(),
                    ),
                );
                Self::lit(e.span.clone())
            }
            None => Self::lit(self.span(env, &e.span)),
        }
    }

    /// A def's body expanded with `args` (already expanded in the caller's environment).
    fn def_body(
        &mut self,
        name: &str,
        args: &[Expr],
        unions: HashMap<String, Vec<Name>>,
        lists: HashMap<String, TArg>,
        call_span: &ByteSpan,
        env: &Env,
    ) -> Option<Expanded1> {
        if self.bad_defs.contains(name) {
            return None;
        }
        let (dfile, d) = *self.defs.get(name)?;
        if d.params.len() != args.len() {
            let s = self.span(env, call_span);
            let out = self.out_file;
            let n = d.params.len();
            let decl = self.files.get(dfile).and_then(|f| {
                let end = d.params.last().map_or(d.name.span.end, |p| p.span.end + 1);
                f.text.get(d.span.start..end)
            });
            self.error(
                out,
                s,
                format!(
                    "def `{name}` takes {n} argument{}, found {}",
                    if n == 1 { "" } else { "s" },
                    args.len()
                ),
                Some(format!(
                    "it is declared at {} as `{}`",
                    where_is(self.files, dfile, d.span.start),
                    decl.unwrap_or(name)
                )),
            );
            return None;
        }
        // The caller's element names; a def's own element names must not capture arguments.
        let mut outer = env.outer.clone();
        outer.extend(env.bound.iter().cloned());
        let site = self.span(env, call_span);
        let mut stack = env.stack.clone();
        stack.push(name.to_owned());
        let body_env = Env {
            subst: d
                .params
                .iter()
                .map(|p| p.text.as_str().to_owned())
                .zip(args.iter().cloned())
                .filter(|(p, _)| !lists.contains_key(p.as_str()))
                .collect(),
            unions,
            tparams: lists,
            elems: HashMap::new(),
            bound: Vec::new(),
            outer,
            file: dfile,
            via: Some(Via {
                file: self.out_file,
                span: site,
                what: format!("def `{name}`"),
            }),
            stack,
        };
        Some(match &d.body {
            DefBody::Expr(e) => Expanded1::Expr(self.expr(e, &body_env)),
            DefBody::Lists(ls) => {
                let mut out = Vec::new();
                for l in ls {
                    out.extend(self.paths(l, &body_env)?);
                }
                Expanded1::Lists(out)
            }
        })
    }

    fn call(&mut self, name: &Name, args: &[Expr], span: &ByteSpan, env: &Env) -> Expr {
        let fallback = |cx: &mut Self| Self::lit(cx.span(env, span));
        if env.subst.contains_key(name.text.as_str())
            || env.tparams.contains_key(name.text.as_str())
        {
            let s = self.span(env, &name.span);
            let out = self.out_file;
            self.error(
                out,
                s,
                format!("`{}` is a parameter, not a def", name.text),
                Some("only defs take arguments".to_owned()),
            );
            return fallback(self);
        }
        if name.text == "is_v4" && args.len() == 1 && !self.defs.contains_key("is_v4") {
            // Issue #14: the built-in `is_v4(x)` on an `ip`, typed by the checker.
            let arg = self.expr(&args[0], env);
            return Expr {
                kind: ExprKind::Call {
                    name: Box::new(Name {
                        text: name.text.clone(),
                        span: self.span(env, &name.span),
                    }),
                    args: vec![arg],
                },
                span: self.span(env, span),
            };
        }
        if !self.defs.contains_key(name.text.as_str()) {
            if self.bad_defs.contains(name.text.as_str()) {
                return fallback(self);
            }
            let s = self.span(env, &name.span);
            let out = self.out_file;
            let mut help = format!(
                "`{}` is read as an attribute path; only `count`, `any`, `all` and defs take parentheses",
                name.text
            );
            if let Some(s) = suggest(&name.text, self.defs.keys().copied()) {
                help.push_str(&format!("; did you mean the def `{s}`?"));
            } else if !self.defs.is_empty() {
                let mut names: Vec<&str> = self.defs.keys().copied().collect();
                names.sort_unstable();
                help.push_str(&format!("; the defs are {}", names.join(", ")));
            }
            self.error(
                out,
                s,
                "functions are not part of the language (yet)".to_owned(),
                Some(help),
            );
            return fallback(self);
        }
        // An argument naming a list union stays a union for the def's aggregates.
        let mut unions = HashMap::new();
        let mut lists = HashMap::new();
        let mut expanded = Vec::with_capacity(args.len());
        let params: Vec<String> = self
            .defs
            .get(name.text.as_str())
            .map(|(_, d)| {
                d.params
                    .iter()
                    .map(|p| p.text.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        for (k, a) in args.iter().enumerate() {
            if let Some(t) = self.list_arg(a, env) {
                // A template list parameter stays a list parameter inside the def.
                if let Some(p) = params.get(k) {
                    lists.insert(p.clone(), t);
                }
                expanded.push(a.clone());
            } else if let Some(lists) = self.union_of(a, env) {
                if let Some(p) = params.get(k) {
                    unions.insert(p.clone(), lists);
                }
                expanded.push(a.clone());
            } else {
                expanded.push(self.expr(a, env));
            }
        }
        let args = expanded;
        match self.def_body(&name.text, &args, unions, lists, span, env) {
            Some(Expanded1::Expr(body)) => Expr {
                kind: ExprKind::Paren(Box::new(body)),
                span: self.span(env, span),
            },
            Some(Expanded1::Lists(_)) => {
                let s = self.span(env, span);
                let out = self.out_file;
                self.error(
                    out,
                    s,
                    format!("def `{}` names several lists", name.text),
                    Some(
                        "iterate the union with an aggregate: `any(x in union where ...)`"
                            .to_owned(),
                    ),
                );
                fallback(self)
            }
            None => fallback(self),
        }
    }

    fn agg(
        &mut self,
        kind: AggKind,
        var: &Name,
        lists: &[Name],
        filter: Option<&Expr>,
        span: &ByteSpan,
        env: &Env,
    ) -> Expr {
        if let Some(x) = self.tparam_agg(kind, var, lists, filter, span, env) {
            return x;
        }
        let mut paths = Vec::new();
        for l in lists {
            match self.paths(l, env) {
                Some(v) => paths.extend(v),
                None => return Self::lit(self.span(env, span)),
            }
        }
        if env.via.is_some() {
            // An element name of the def must not capture an argument that reads the caller's
            // element of the same name.
            let mut heads = HashSet::new();
            for a in env.subst.values() {
                free_heads(a, &mut heads);
            }
            if heads.contains(var.text.as_str()) {
                let s = self.span(env, &var.span);
                let out = self.out_file;
                self.error(
                    out,
                    s,
                    format!(
                        "the element name `{}` hides an argument of the same name",
                        var.text
                    ),
                    Some(format!(
                        "rename the element `{}` at the call site",
                        var.text
                    )),
                );
                return Self::lit(self.span(env, span));
            }
        }
        let mut inner = env.clone();
        inner.bound.push(var.text.as_str().to_owned());
        inner.elems.remove(var.text.as_str());
        let var_out = Name {
            text: var.text.clone(),
            span: self.span(env, &var.span),
        };
        if paths.len() == 1 {
            let filter = filter.map(|f| Box::new(self.expr(f, &inner)));
            let list = paths.pop().unwrap_or_else(|| var.clone());
            return Expr {
                kind: ExprKind::Agg {
                    kind,
                    var: Box::new(var_out),
                    list: Box::new(list),
                    filter,
                },
                span: self.span(env, span),
            };
        }
        let whole = self.span(env, span);
        let mut copies = Vec::with_capacity(paths.len());
        let expanded = filter.map(|f| self.expr(f, &inner));
        for list in paths {
            // Each list gets its own copy of the filter, noted with the list it runs over.
            let filter = expanded
                .as_ref()
                .map(|x| Box::new(self.respan(x, &list.text)));
            copies.push(Expr {
                kind: ExprKind::Agg {
                    kind,
                    var: Box::new(var_out.clone()),
                    list: Box::new(list),
                    filter,
                },
                span: whole.clone(),
            });
        }
        let joined = match kind {
            AggKind::All => ExprKind::And(copies),
            AggKind::Any => ExprKind::Or(copies),
            // A sum of counts: an int, not a condition (no parentheses needed).
            AggKind::Count => {
                return Expr {
                    kind: ExprKind::CountLists(copies),
                    span: whole,
                }
            }
        };
        Expr {
            kind: ExprKind::Paren(Box::new(Expr {
                kind: joined,
                span: whole.clone(),
            })),
            span: whole,
        }
    }

    /// A copy of an expanded filter whose every span notes the list it runs over.
    fn respan(&mut self, e: &Expr, list: &str) -> Expr {
        let mut x = e.clone();
        self.respan_in(&mut x, list);
        x
    }

    fn respan_in(&mut self, e: &mut Expr, list: &str) {
        let out = self.out_file;
        let note = |cx: &mut Self, s: &mut ByteSpan| {
            let text = cx
                .origins
                .text(s)
                .map(str::to_owned)
                .or_else(|| {
                    cx.files
                        .get(out)
                        .and_then(|f| f.text.get(s.clone()))
                        .map(crate::fmt::canonical_text)
                })
                .unwrap_or_default();
            let note = format!("in the filter over `{list}`");
            *s = cx.origins.add(text, out, s.clone(), note);
        };
        note(self, &mut e.span);
        match &mut e.kind {
            ExprKind::Lit(_) | ExprKind::TimeLit { .. } | ExprKind::Now => {}
            ExprKind::TimeArith { lhs, rhs, op, .. } => {
                self.respan_in(lhs, list);
                note(self, op);
                self.respan_in(rhs, list);
            }
            ExprKind::TimePart { arg, .. } => self.respan_in(arg, list),
            ExprKind::Path(n) | ExprKind::Has(n) => note(self, &mut n.span),
            ExprKind::Paren(x) | ExprKind::Not(x) | ExprKind::Len(x) | ExprKind::Lower(x) => {
                self.respan_in(x, list)
            }
            ExprKind::And(xs)
            | ExprKind::Or(xs)
            | ExprKind::CountLists(xs)
            | ExprKind::Segment(xs)
            | ExprKind::Arith { args: xs, .. } => {
                for x in xs {
                    self.respan_in(x, list);
                }
            }
            ExprKind::Cmp { sides, .. } => {
                for x in sides.iter_mut() {
                    self.respan_in(x, list);
                }
            }
            ExprKind::Str { lhs, rhs, .. } => {
                self.respan_in(lhs, list);
                self.respan_in(rhs, list);
            }
            ExprKind::Coalesce { lhs, rhs, op } => {
                self.respan_in(lhs, list);
                note(self, op);
                self.respan_in(rhs, list);
            }
            ExprKind::InSet { lhs, items } => {
                self.respan_in(lhs, list);
                for (_, s) in items {
                    note(self, s);
                }
            }
            ExprKind::InPath { lhs, list: l } => {
                self.respan_in(lhs, list);
                note(self, &mut l.span);
            }
            ExprKind::Agg {
                var,
                list: l,
                filter,
                ..
            } => {
                note(self, &mut var.span);
                note(self, &mut l.span);
                if let Some(f) = filter {
                    self.respan_in(f, list);
                }
            }
            ExprKind::Where { expr, kw, filter } => {
                self.respan_in(expr, list);
                note(self, kw);
                self.respan_in(filter, list);
            }
            ExprKind::Lookup(l) => {
                note(self, &mut l.map.span);
                note(self, &mut l.brackets);
                self.respan_in(&mut l.key, list);
            }
            ExprKind::SetOp { lhs, rhs: data, .. } | ExprKind::InData { lhs, data } => {
                self.respan_in(lhs, list);
                match &mut **data {
                    DataRef::Lits(items, s) => {
                        for (_, s) in items {
                            note(self, s);
                        }
                        note(self, s);
                    }
                    DataRef::Name(n) => note(self, &mut n.span),
                    DataRef::Key(n, _, s) | DataRef::Under(n, _, s) => {
                        note(self, &mut n.span);
                        note(self, s);
                    }
                    DataRef::Of(n, v) | DataRef::KeyOf(n, v) | DataRef::Closure(n, _, v) => {
                        note(self, &mut n.span);
                        self.respan_in(v, list);
                    }
                }
            }
            ExprKind::MapAgg {
                key,
                value,
                map,
                filter,
                ..
            } => {
                note(self, &mut key.span);
                note(self, &mut value.span);
                note(self, &mut map.span);
                if let Some(f) = filter {
                    self.respan_in(f, list);
                }
            }
            ExprKind::AggLists { .. } | ExprKind::Call { .. } => {}
        }
    }

    /// A template instance declared in a source file.
    fn instance(&mut self, fi: usize, inst: &ast::Instance) -> Option<ast::Policy> {
        let given: Vec<(String, ArgValue, ByteSpan, ByteSpan)> = inst
            .args
            .iter()
            .map(|(k, v, s)| {
                (
                    k.text.as_str().to_owned(),
                    v.clone(),
                    k.span.clone(),
                    s.clone(),
                )
            })
            .collect();
        let site = Site {
            file: fi,
            name_span: inst.name.span.clone(),
            json: None,
        };
        self.instantiate(
            &inst.name.text,
            &inst.template.text,
            &inst.template.span,
            &given,
            &site,
        )
    }

    fn instantiate(
        &mut self,
        name: &str,
        template: &str,
        template_span: &ByteSpan,
        given: &[(String, ArgValue, ByteSpan, ByteSpan)],
        site: &Site,
    ) -> Option<ast::Policy> {
        let in_json = |m: String| match &site.json {
            Some(f) => format!("{m} (instance `{name}` in `{f}`)"),
            None => m,
        };
        let Some(&(tfile, t)) = self.templates.get(template) else {
            let help = if self.policies.contains(template) {
                format!("`{template}` is a policy; only a `policy template` has instances")
            } else if let Some(s) = suggest(template, self.templates.keys().copied()) {
                format!("did you mean `{s}`?")
            } else {
                "declare it with `policy template Name(param: type, ...): ...`".to_owned()
            };
            self.error(
                site.file,
                template_span.clone(),
                in_json(format!("unknown template `{template}`")),
                Some(help),
            );
            return None;
        };
        let mut ok = true;
        let mut args: HashMap<String, TArg> = HashMap::new();
        let names: Vec<&str> = t.params.iter().map(|p| p.name.text.as_str()).collect();
        for (k, v, kspan, vspan) in given {
            let Some(p) = t.params.iter().find(|p| p.name.text == k) else {
                ok = false;
                self.error(
                    site.file,
                    kspan.clone(),
                    in_json(format!("template `{template}` has no parameter `{k}`")),
                    Some(format!("its parameters are {}", names.join(", "))),
                );
                continue;
            };
            if args.contains_key(k) {
                ok = false;
                self.error(
                    site.file,
                    kspan.clone(),
                    in_json(format!("argument `{k}` is given twice")),
                    Some("keep one of the two".to_owned()),
                );
                continue;
            }
            let bad = match (&p.ty, v) {
                (ParamTy::Scalar(s), ArgValue::Lit(l)) => {
                    (!lit_fits(l, s)).then(|| (l.type_word().to_owned(), vspan.clone()))
                }
                (ParamTy::List(s), ArgValue::List(items)) => {
                    items.iter().find(|(l, _)| !lit_fits(l, s)).map(|(l, sp)| {
                        (
                            format!("a list element of type {}", l.type_word()),
                            if site.json.is_some() {
                                vspan.clone()
                            } else {
                                sp.clone()
                            },
                        )
                    })
                }
                (ParamTy::Records(fields), v) => tparams::records_mismatch(fields, v, vspan),
                (ParamTy::Scalar(_), ArgValue::List(_) | ArgValue::Records(_)) => {
                    Some(("a list".to_owned(), vspan.clone()))
                }
                (ParamTy::List(_), ArgValue::Records(_)) => {
                    Some(("a list of records".to_owned(), vspan.clone()))
                }
                (ParamTy::List(_), ArgValue::Lit(l)) => {
                    Some((l.type_word().to_owned(), vspan.clone()))
                }
            };
            if let Some((found, span)) = bad {
                ok = false;
                self.error(
                    site.file,
                    span,
                    in_json(format!(
                        "mismatched types: parameter `{k}` of template `{template}` is {}, found {found}",
                        ty_name(&p.ty)
                    )),
                    Some(format!("give `{k}` a value of type {}", ty_name(&p.ty))),
                );
                continue;
            }
            args.insert(
                k.clone(),
                TArg {
                    ty: p.ty.clone(),
                    value: tparams::declared_order(&p.ty, v.clone()),
                    span: vspan.clone(),
                },
            );
        }
        for p in &t.params {
            if !given.iter().any(|(k, ..)| k == p.name.text) {
                ok = false;
                self.error(
                    site.file,
                    site.name_span.clone(),
                    in_json(format!(
                        "instance `{name}` is missing argument `{}` of template `{template}`",
                        p.name.text
                    )),
                    Some(format!("add `{}: <{}>`", p.name.text, ty_name(&p.ty))),
                );
            }
        }
        if !ok {
            return None;
        }
        self.nodes = 0;
        self.too_large = false;
        let what = match &site.json {
            Some(f) => format!("template `{template}` (instance `{name}` from `{f}`)"),
            None => format!("template `{template}` (instance `{name}`)"),
        };
        let env = Env {
            tparams: args,
            file: tfile,
            via: Some(Via {
                file: site.file,
                span: site.name_span.clone(),
                what,
            }),
            ..Env::default()
        };
        let name = Name {
            text: name.to_owned().into(),
            span: site.name_span.clone(),
        };
        Some(self.policy(&t.policy, &env, name))
    }

    /// The instances of one JSON instance file: a JSON array of
    /// `{"name": "...", "template": "...", "args": {"param": value, ...}}`.
    fn json_instances(&mut self, f: &InstanceFile<'_>) -> Vec<ast::Policy> {
        let value: serde_json::Value = match serde_json::from_str(f.text) {
            Ok(v) => v,
            Err(e) => {
                let at = offset_of(f.text, e.line(), e.column());
                self.error(
                    f.file,
                    at..at.saturating_add(1).min(f.text.len().max(at)),
                    format!("instance file `{}` is not valid JSON: {e}", f.name),
                    Some("an instance file is a JSON array of {\"name\", \"template\", \"args\"} objects".to_owned()),
                );
                return Vec::new();
            }
        };
        let shape_help = "an instance file is a JSON array of objects such as {\"name\": \"ProdRepos\", \"template\": \"AllowedRepos\", \"args\": {\"repos\": [\"gcr.io/\"]}}";
        let Some(list) = value.as_array() else {
            self.error(
                f.file,
                0..f.text.len().min(1),
                format!("instance file `{}` is not a JSON array", f.name),
                Some(shape_help.to_owned()),
            );
            return Vec::new();
        };
        let mut cursor = 0;
        let mut out = Vec::new();
        for (k, item) in list.iter().enumerate() {
            let name = item.get("name").and_then(|n| n.as_str());
            let template = item.get("template").and_then(|n| n.as_str());
            let empty = serde_json::Map::new();
            let args = item.get("args").map_or(Some(&empty), |a| a.as_object());
            let (Some(name), Some(template), Some(args)) = (name, template, args) else {
                let at = find_from(f.text, "{", cursor).unwrap_or(0);
                self.error(
                    f.file,
                    at..at + 1,
                    format!("instance {} of `{}` needs a string `name`, a string `template` and an object `args`", k + 1, f.name),
                    Some(shape_help.to_owned()),
                );
                continue;
            };
            let quoted = serde_json::to_string(name).unwrap_or_default();
            let name_span = match name_at(f.text, &quoted, cursor) {
                Some(at) => at..at + quoted.len(),
                None => cursor..cursor,
            };
            cursor = name_span.end;
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.error(
                    f.file,
                    name_span,
                    format!(
                        "instance name `{name}` in `{}` is not a policy name",
                        f.name
                    ),
                    Some("use letters, digits and `_`, starting with a letter".to_owned()),
                );
                continue;
            }
            let mut given = Vec::new();
            let mut bad = false;
            for (key, v) in args {
                let value = match v {
                    serde_json::Value::Array(items)
                        if items.first().is_some_and(serde_json::Value::is_object) =>
                    {
                        match tparams::json_records(items, &name_span) {
                            Some(v) => v,
                            None => {
                                bad = true;
                                ArgValue::List(Vec::new())
                            }
                        }
                    }
                    serde_json::Value::Array(items) => {
                        let mut lits = Vec::new();
                        for it in items {
                            match json_lit(it) {
                                Some(l) => lits.push((l, name_span.clone())),
                                None => bad = true,
                            }
                        }
                        ArgValue::List(lits)
                    }
                    other => match json_lit(other) {
                        Some(l) => ArgValue::Lit(l),
                        None => {
                            bad = true;
                            continue;
                        }
                    },
                };
                if bad {
                    self.error(
                        f.file,
                        name_span.clone(),
                        format!("argument `{key}` of instance `{name}` in `{}` is not a string, an integer, a boolean, a list of them or a list of records of them", f.name),
                        Some("template parameters take literals".to_owned()),
                    );
                    break;
                }
                given.push((key.clone(), value, name_span.clone(), name_span.clone()));
            }
            if bad {
                continue;
            }
            let site = Site {
                file: f.file,
                name_span: name_span.clone(),
                json: Some(f.name.to_owned()),
            };
            if let Some(p) = self.instantiate(name, template, &name_span, &given, &site) {
                out.push(p);
            }
        }
        out
    }
}

/// Where an instance is declared.
struct Site {
    file: usize,
    name_span: ByteSpan,
    /// The JSON file's name, for instances from one.
    json: Option<String>,
}

/// A def body after expansion.
enum Expanded1 {
    Expr(Expr),
    Lists(Vec<Name>),
}

fn json_lit(v: &serde_json::Value) -> Option<Lit> {
    match v {
        serde_json::Value::String(s) => Some(Lit::Str(s.clone().into())),
        serde_json::Value::Bool(b) => Some(Lit::Bool(*b)),
        serde_json::Value::Number(n) => n.as_i64().map(Lit::Int),
        _ => None,
    }
}

/// Where the value `quoted` of a `"name"` key is, at or after `from`.
fn name_at(text: &str, quoted: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(k) = find_from(text, "\"name\"", at) {
        let after = k + "\"name\"".len();
        let rest = text.get(after..)?;
        let colon = rest.trim_start();
        if let Some(v) = colon.strip_prefix(':') {
            let v_trim = v.trim_start();
            if v_trim.starts_with(quoted) {
                return Some(text.len() - v_trim.len());
            }
        }
        at = after;
    }
    find_from(text, quoted, from)
}

fn find_from(text: &str, needle: &str, from: usize) -> Option<usize> {
    text.get(from..)?.find(needle).map(|n| n + from)
}

/// The byte offset of a one-based line and column (serde_json's error position).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            return (off + column.saturating_sub(1)).min(text.len());
        }
        off += l.len();
    }
    text.len()
}
