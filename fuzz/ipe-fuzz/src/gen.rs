//! Structured generation of well-typed bundles (schema + policies, as `.ipe` text) and of JSON
//! requests against their schema, driven by `arbitrary::Unstructured`.
//!
//! Every bundle [`case`] returns declares a schema and uses every path at its declared type, so
//! the compiler must accept it: a rejection is reported by the `diff` oracle as a finding (the
//! front end refusing a valid program), with the generated text.

use arbitrary::Unstructured;
use serde_json::{json, Map, Value};

/// A scalar type of the model.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// `string`
    Str,
    /// `int`
    Int,
    /// `bool`
    Bool,
    /// `enum [..]`, by index into [`ENUMS`].
    Enum(usize),
}

/// Enum member lists the generator declares (structurally equal lists are the same enum).
pub const ENUMS: &[&[&str]] = &[
    &["low", "medium", "high", "critical"],
    &["b", "a"],
    &["x y", "q\"uote", "back\\slash"],
    &["only"],
];

/// Top-level paths; no path is a prefix of another, no first segment is reserved, an element
/// name or a bound variable. Quoted keys (issue 13) are one segment each, whatever they hold.
const PATHS: &[&str] = &[
    r#"labels["app.kubernetes.io/name"]"#,
    r#"ctx["aws:SourceIp"]"#,
    r#"ctx["say \"hi\" \\ ü"]"#,
    r#"ctx[""].x"#,
    "resource.type",
    "resource.risk",
    "resource.replicas",
    "resource.public",
    "env",
    "user.dept",
    "user.roles",
    "user.level",
    "approvals",
    "items",
    "tags",
    "stats.count",
    "type.name",
    "policy.version",
    "x.with",
    "x.when",
    "flags.not",
    "limits.in",
    "a-b.c_d",
    "_u",
];

/// Field paths of record elements (no prefix relations).
const FIELDS: &[&str] = &[
    "role",
    "dept",
    "level",
    "ok",
    "meta.kind",
    "type",
    "count",
    r#"["a.b"]"#,
    r#"tags["x/y z"]"#,
];
/// Element names for the seed form.
const ELEMS: &[&str] = &["approver", "el", "item_"];
/// Field names of nested lists (issue #13; no prefix relation with [`FIELDS`]).
const NESTED_FIELDS: &[&str] = &["ports", "subs", "caps.add"];
/// Field paths of the elements of a nested list of records.
const NESTED_REC_FIELDS: &[&str] = &["k", "tag", "n.x"];
/// Element names of nested lists of records, one per top-level attribute index.
const NESTED_ELEMS: &[&str] = &["np0", "np1", "np2", "np3", "np4", "np5", "np6", "np7"];

const STRS: &[&str] = &[
    "",
    "a",
    "b",
    "x",
    "senior",
    "x y",
    "q\"uote",
    "back\\slash",
    "nl\nx",
    "t\tb",
    "ü",
    "/prod/",
    "low",
    "only",
    "prod",
];
const INTS: &[i64] = &[0, 1, -1, 2, 3, 100, i64::MAX, i64::MIN];

/// An attribute's declared shape.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A scalar.
    Scalar(Ty),
    /// `list of T [max N]`.
    List(Ty, Option<u32>),
    /// `list of [elem] [max N] { fields }`.
    Records {
        /// Element name for the seed form.
        elem: Option<&'static str>,
        /// Fields and their types.
        fields: Vec<(&'static str, Ty)>,
        /// `max N`.
        max: Option<u32>,
    },
    /// `map of T [max N]` (issue 13).
    Map(Ty, Option<u32>),
}

/// A nested list (issue #13): a list field of the elements of a top-level list of records.
#[derive(Clone, Debug)]
pub struct Nested {
    /// Index of the list of records (in [`Case::attrs`]) whose elements hold it.
    pub parent: usize,
    /// Its field path in those elements.
    pub field: &'static str,
    /// Its shape: [`Kind::List`] or [`Kind::Records`].
    pub kind: Kind,
}

/// One declared attribute.
#[derive(Clone, Debug)]
pub struct Attr {
    /// Dotted path.
    pub path: &'static str,
    /// Shape.
    pub kind: Kind,
}

/// A generated bundle and requests.
#[derive(Clone, Debug)]
pub struct Case {
    /// `(file name, text)` in bundle order.
    pub sources: Vec<(String, String)>,
    /// The schema model.
    pub attrs: Vec<Attr>,
    /// Requests.
    pub requests: Vec<Value>,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, t) in &self.sources {
            writeln!(f, "--- {n}\n{t}")?;
        }
        Ok(())
    }
}

/// Renders a string literal in `.ipe` syntax.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The keys of a path text (`a.b["c.d"]` is `a`, `b`, `c.d`; see `ipe_nostd::path`).
pub fn keys(path: &str) -> Vec<String> {
    ipe_nostd::path::segments(path)
        .map(|seg| {
            let mut key = String::new();
            let _ = seg.write_key(&mut key);
            key
        })
        .collect()
}

/// An element variable followed by a field path (`c.role`, `c["a.b"]`).
fn field_of(var: &str, field: &str) -> String {
    let mut s = String::new();
    let _ = ipe_nostd::path::write_joined(&mut s, var, field);
    s
}

/// Sets `path` (path text) in a JSON object, creating objects on the way; a step that is not
/// an object is left alone.
pub fn insert_path(root: &mut Value, path: &str, v: Value) {
    let mut cur = root;
    let segs = keys(path);
    for (i, seg) in segs.iter().enumerate() {
        let Value::Object(m) = cur else { return };
        if i + 1 == segs.len() {
            m.insert(seg.clone(), v);
            return;
        }
        cur = m
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

struct G<'u, 'd> {
    u: &'u mut Unstructured<'d>,
    attrs: Vec<Attr>,
    /// Variables in scope: (name, attr index). Seed filters bind the element name.
    vars: Vec<(String, usize)>,
    agg_depth: usize,
    /// Bound-variable counter.
    fresh: usize,
    /// `const kN = [...]` items (issue #13) the policies use, emitted as a file of their own.
    consts: Vec<String>,
    /// Nested lists (issue #13); a variable bound to nested list `j` has index
    /// `attrs.len() + j` in `vars`.
    nested: Vec<Nested>,
}

impl G<'_, '_> {
    fn bool(&mut self) -> bool {
        self.u.arbitrary().unwrap_or(false)
    }
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    fn ty(&mut self) -> Ty {
        match self.below(5) {
            0 | 1 => Ty::Str,
            2 => Ty::Int,
            3 => Ty::Bool,
            _ => Ty::Enum(self.below(ENUMS.len())),
        }
    }

    fn ty_text(t: &Ty) -> String {
        match t {
            Ty::Str => "string".into(),
            Ty::Int => "int".into(),
            Ty::Bool => "bool".into(),
            Ty::Enum(e) => format!(
                "enum [{}]",
                ENUMS[*e]
                    .iter()
                    .map(|m| quote(m))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn max(&mut self) -> Option<u32> {
        if self.below(3) == 0 {
            Some(self.below(4) as u32)
        } else {
            None
        }
    }

    fn schema(&mut self) {
        let n = 1 + self.below(8);
        let mut used = Vec::new();
        for _ in 0..n {
            let path = self.pick(PATHS);
            if used.contains(&path) {
                continue;
            }
            used.push(path);
            let kind = match self.below(6) {
                0 => {
                    let t = self.ty();
                    let t = if t == Ty::Bool { Ty::Str } else { t };
                    Kind::List(t, self.max())
                }
                1 => {
                    let mut fields: Vec<(&'static str, Ty)> = Vec::new();
                    for _ in 0..1 + self.below(3) {
                        let f = self.pick(FIELDS);
                        if !fields.iter().any(|(g, _)| *g == f) {
                            let t = self.ty();
                            fields.push((f, t));
                        }
                    }
                    let elem = if self.below(4) == 0 {
                        None
                    } else {
                        let e = self.pick(ELEMS);
                        let taken = self.attrs.iter().any(
                            |a| matches!(a.kind, Kind::Records { elem: Some(x), .. } if x == e),
                        );
                        (!taken).then_some(e)
                    };
                    let max = self.max();
                    // Issue #13: now and then a nested list field.
                    if self.below(3) == 0 {
                        let parent = self.attrs.len();
                        self.nested_list(parent);
                    }
                    Kind::Records { elem, fields, max }
                }
                2 if self.bool() => Kind::Map(self.ty(), self.max()),
                _ => Kind::Scalar(self.ty()),
            };
            self.attrs.push(Attr { path, kind });
        }
    }

    /// Declares a nested list in the elements of attribute `parent` (issue #13).
    fn nested_list(&mut self, parent: usize) {
        let field = self.pick(NESTED_FIELDS);
        let max = if self.bool() {
            Some(self.below(4) as u32)
        } else {
            None
        };
        let kind = if self.bool() {
            let t = self.ty();
            let t = if t == Ty::Bool { Ty::Str } else { t };
            Kind::List(t, max)
        } else {
            let mut fields: Vec<(&'static str, Ty)> = Vec::new();
            for _ in 0..1 + self.below(2) {
                let f = self.pick(NESTED_REC_FIELDS);
                if !fields.iter().any(|(g, _)| *g == f) {
                    let t = self.ty();
                    fields.push((f, t));
                }
            }
            let elem = self
                .bool()
                .then(|| NESTED_ELEMS[parent % NESTED_ELEMS.len()]);
            Kind::Records { elem, fields, max }
        };
        self.nested.push(Nested {
            parent,
            field,
            kind,
        });
    }

    /// The schema text of a nested list's type.
    fn nested_text(kind: &Kind) -> String {
        let max = |m: &Option<u32>| m.map(|m| format!(" max {m}")).unwrap_or_default();
        match kind {
            Kind::List(t, m) => format!("list of {}{}", Self::ty_text(t), max(m)),
            Kind::Records {
                elem,
                fields,
                max: m,
            } => format!(
                "list of {}{} {{ {} }}",
                elem.unwrap_or(""),
                max(m),
                fields
                    .iter()
                    .map(|(f, t)| format!("{f}: {}", Self::ty_text(t)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::Scalar(_) | Kind::Map(..) => String::new(),
        }
    }

    /// The shape of what variable index `i` iterates: an attribute, or a nested list.
    fn kind_of(&self, i: usize) -> Option<&Kind> {
        match self.attrs.get(i) {
            Some(a) => Some(&a.kind),
            None => self.nested.get(i - self.attrs.len()).map(|n| &n.kind),
        }
    }

    fn schema_text(&mut self) -> Vec<String> {
        let mut blocks = vec![String::new()];
        for (ai, a) in self.attrs.clone().into_iter().enumerate() {
            if self.below(5) == 0 {
                blocks.push(String::new());
            }
            let sep = if self.bool() { ",\n" } else { "\n" };
            let t = match &a.kind {
                Kind::Scalar(t) => Self::ty_text(t),
                Kind::List(t, max) => format!(
                    "list of {}{}",
                    Self::ty_text(t),
                    max.map(|m| format!(" max {m}")).unwrap_or_default()
                ),
                Kind::Map(t, max) => format!(
                    "map of {}{}",
                    Self::ty_text(t),
                    max.map(|m| format!(" max {m}")).unwrap_or_default()
                ),
                Kind::Records { elem, fields, max } => format!(
                    "list of {}{} {{ {} }}",
                    elem.unwrap_or(""),
                    max.map(|m| format!(" max {m}")).unwrap_or_default(),
                    fields
                        .iter()
                        .map(|(f, t)| format!("{f}: {}", Self::ty_text(t)))
                        .chain(
                            self.nested
                                .iter()
                                .filter(|n| n.parent == ai)
                                .map(|n| format!("{}: {}", n.field, Self::nested_text(&n.kind)))
                        )
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let b = blocks.last_mut().expect("one block");
            b.push_str(&format!("  {}: {t}{sep}", a.path));
        }
        blocks
            .into_iter()
            .map(|b| format!("schema {{\n{b}}}\n"))
            .collect()
    }

    fn lit(&mut self, t: &Ty) -> String {
        match t {
            Ty::Str => quote(self.pick(STRS)),
            Ty::Int => self.pick(INTS).to_string(),
            Ty::Bool => self.pick(&["true", "false"]).to_owned(),
            Ty::Enum(e) => quote(self.pick(ENUMS[*e])),
        }
    }

    /// Non-literal operands of type `t`: scalar paths and fields of bound elements.
    fn places(&self, t: &Ty) -> Vec<String> {
        let mut out = Vec::new();
        for a in &self.attrs {
            if matches!(&a.kind, Kind::Scalar(s) if s == t) {
                out.push(a.path.to_owned());
            }
        }
        for (v, i) in &self.vars {
            match self.kind_of(*i) {
                Some(Kind::Records { fields, .. }) => {
                    for (f, ft) in fields {
                        if ft == t {
                            out.push(field_of(v, f));
                        }
                    }
                }
                // Issue 13: the element of a list of scalars is the bound name itself.
                Some(Kind::List(s, _)) if s == t => out.push(v.clone()),
                _ => {}
            }
            // A map entry bound by one name: `v.key` (a string) and `v.value`.
            if let Some(Kind::Map(vt, _)) = self.kind_of(*i) {
                if *t == Ty::Str {
                    out.push(format!("{v}.key"));
                }
                if vt == t {
                    out.push(format!("{v}.value"));
                }
            }
        }
        out
    }

    /// Map attributes (issue 13).
    fn maps(&self) -> Vec<usize> {
        (0..self.attrs.len())
            .filter(|&i| matches!(self.attrs[i].kind, Kind::Map(..)))
            .collect()
    }

    fn lists_of(&self, t: &Ty) -> Vec<&'static str> {
        self.attrs
            .iter()
            .filter(|a| matches!(&a.kind, Kind::List(s, _) if s == t))
            .map(|a| a.path)
            .collect()
    }

    /// An int-valued count operand, if any list exists.
    fn count(&mut self, depth: usize) -> Option<String> {
        let lists: Vec<usize> = (0..self.attrs.len())
            .filter(|&i| !matches!(self.attrs[i].kind, Kind::Scalar(_)))
            .collect();
        if lists.is_empty() || self.agg_depth >= 3 {
            return None;
        }
        let i = self.pick(&lists);
        let path = self.attrs[i].path;
        Some(match self.below(3) {
            0 if !matches!(self.attrs[i].kind, Kind::Records { elem: None, .. }) => {
                format!("{path}.count")
            }
            1 => {
                let v = format!("v{}", self.fresh);
                self.fresh += 1;
                let f = self.filter(&v, i, depth);
                format!("count({v} in {path} where {f})")
            }
            _ => {
                let v = format!("v{}", self.fresh);
                self.fresh += 1;
                format!("count({v} in {path})")
            }
        })
    }

    fn filter(&mut self, var: &str, attr: usize, depth: usize) -> String {
        self.vars.push((var.to_owned(), attr));
        self.agg_depth += 1;
        let f = self.cond(depth + 1);
        self.agg_depth -= 1;
        self.vars.pop();
        f
    }

    /// An operand of type `t` (a literal only when `allow_lit`).
    fn operand(&mut self, t: &Ty, allow_lit: bool, depth: usize) -> Option<String> {
        let places = self.places(t);
        if *t == Ty::Int && self.below(4) == 0 {
            if let Some(c) = self.count(depth) {
                return Some(c);
            }
        }
        if places.is_empty() || (allow_lit && self.bool()) {
            return allow_lit.then(|| self.lit(t));
        }
        let place = places[self.below(places.len())].clone();
        // Optional values (issue #13): `place ?? default`, the default a literal or a place.
        if self.below(6) == 0 {
            let default = if self.bool() {
                self.lit(t)
            } else {
                places[self.below(places.len())].clone()
            };
            return Some(format!("{place} ?? {default}"));
        }
        Some(place)
    }

    fn atom(&mut self, depth: usize) -> String {
        for _ in 0..4 {
            if let Some(s) = self.try_atom(depth) {
                return s;
            }
        }
        self.pick(&["true", "false"]).to_owned()
    }

    fn try_atom(&mut self, depth: usize) -> Option<String> {
        if self.below(4) == 0 {
            if let Some(a) = self.nested_atom(depth) {
                return Some(a);
            }
        }
        let t = self.ty();
        Some(match self.below(10) {
            0 => self.pick(&["true", "false"]).to_owned(),
            1 => self.operand(&Ty::Bool, false, depth)?,
            2 | 3 | 4 => {
                let lhs = self.operand(&t, false, depth)?;
                let rhs = self.operand(&t, true, depth)?;
                let ordered = matches!(t, Ty::Int | Ty::Enum(_));
                let op = if ordered {
                    self.pick(&["==", "!=", "<", "<=", ">", ">="])
                } else {
                    self.pick(&["==", "!="])
                };
                if self.bool() {
                    format!("{lhs} {op} {rhs}")
                } else {
                    format!("{rhs} {op} {lhs}")
                }
            }
            5 => {
                if t == Ty::Bool {
                    return None;
                }
                let lhs = self.operand(&t, false, depth)?;
                let n = self.below(4);
                let lits: Vec<String> = (0..n).map(|_| self.lit(&t)).collect();
                let trail = if n > 0 && self.bool() { "," } else { "" };
                if t == Ty::Int && self.below(4) == 0 {
                    // Issue #14: an inclusive integer range, alone or among the literals.
                    let a: i64 = self.lit(&t).parse().ok()?;
                    let b: i64 = self.lit(&t).parse().ok()?;
                    let r = format!("{}..{}", a.min(b), a.max(b));
                    return Some(if lits.is_empty() {
                        format!("{lhs} in {r}")
                    } else {
                        format!("{lhs} in [{}, {r}{trail}]", lits.join(", "))
                    });
                }
                if t == Ty::Str && n > 0 && self.below(4) == 0 {
                    // Issue #13: membership under a request value in a hierarchy whose
                    // entities are the literals, each the parent of the one before it.
                    let rhs = self.operand(&t, false, depth)?;
                    if rhs.contains([' ', '(']) {
                        // Only a path follows `in H` (not `a ?? b`, not a call).
                        return None;
                    }
                    let mut ents: Vec<String> = Vec::new();
                    for l in lits {
                        if !ents.contains(&l) {
                            ents.push(l);
                        }
                    }
                    let entries: Vec<String> = ents
                        .iter()
                        .enumerate()
                        .map(|(i, e)| match ents.get(i + 1) {
                            Some(p) => format!("{e}: [{p}]"),
                            None => format!("{e}: []"),
                        })
                        .collect();
                    let name = format!("k{}", self.consts.len());
                    self.consts
                        .push(format!("hierarchy {name} = {{{}}}", entries.join(", ")));
                    return Some(format!("{lhs} in {name} {rhs}"));
                }
                if self.below(3) == 0 {
                    // Issue #13: the same set as a constant.
                    let name = format!("k{}", self.consts.len());
                    self.consts
                        .push(format!("const {name} = [{}{trail}]", lits.join(", ")));
                    format!("{lhs} in {name}")
                } else {
                    format!("{lhs} in [{}{trail}]", lits.join(", "))
                }
            }
            6 if !self.maps().is_empty() && self.bool() => self.map_atom(depth)?,
            6 => {
                let lists = self.lists_of(&t);
                if lists.is_empty() {
                    return None;
                }
                let l = self.pick(&lists);
                if self.below(3) == 0 {
                    // Issue 13: a set operator against another list of the type or literals.
                    let op =
                        self.pick(&["contains_all", "contains_any", "intersects", "subset_of"]);
                    if self.bool() {
                        let r = self.pick(&lists);
                        return Some(format!("{l} {op} {r}"));
                    }
                    let n = self.below(3);
                    let lits: Vec<String> = (0..n).map(|_| self.lit(&t)).collect();
                    return Some(format!("{l} {op} [{}]", lits.join(", ")));
                }
                let lhs = self.operand(&t, true, depth)?;
                format!("{lhs} in {l}")
            }
            7 => {
                let lhs = self.operand(&Ty::Str, true, depth)?;
                // Issue #14: `like` and `matches` take a literal pattern.
                match self.below(4) {
                    0 => {
                        let pat = self.pick(&["*", "", "a*", "*.b", "a\\*b", "*a*b*"]);
                        return Some(format!("{lhs} like \"{pat}\""));
                    }
                    1 => {
                        let re = self.pick(&["", "^a", "b$", "^(a|aa)*b$", "[0-9]", "(?i)^x\\.y$"]);
                        return Some(format!("{lhs} matches \"{re}\""));
                    }
                    _ => {}
                }
                let rhs = self.operand(&Ty::Str, true, depth)?;
                let op = self.pick(&["starts_with", "ends_with", "contains"]);
                format!("{lhs} {op} {rhs}")
            }
            8 => {
                let mut paths: Vec<String> = self.attrs.iter().map(|a| a.path.to_owned()).collect();
                for (v, i) in &self.vars {
                    match self.kind_of(*i) {
                        Some(Kind::Records { fields, .. }) => {
                            paths.extend(fields.iter().map(|(f, _)| field_of(v, f)));
                        }
                        Some(Kind::List(..)) => paths.push(v.clone()),
                        Some(Kind::Scalar(_) | Kind::Map(..)) | None => {}
                    }
                    // Issue #13: `has c.ports` on a nested list of the element.
                    for n in self.nested.iter().filter(|n| n.parent == *i) {
                        paths.push(field_of(v, n.field));
                    }
                }
                if paths.is_empty() {
                    return None;
                }
                format!("has {}", paths[self.below(paths.len())])
            }
            _ => {
                // Aggregates (over lists of records, and of scalars since issue 13).
                let recs: Vec<usize> = (0..self.attrs.len())
                    .filter(|&i| !matches!(self.attrs[i].kind, Kind::Scalar(_)))
                    .collect();
                if recs.is_empty() || self.agg_depth >= 3 || depth > 5 {
                    return None;
                }
                let i = self.pick(&recs);
                let path = self.attrs[i].path;
                let elem = match self.attrs[i].kind {
                    Kind::Records { elem, .. } => elem,
                    _ => None,
                };
                match (elem, self.below(4)) {
                    (Some(e), 0) => {
                        let q = self.pick(&["any", "all"]);
                        let f = self.filter(e, i, depth);
                        format!("({path}.{q} where {f})")
                    }
                    (Some(e), 1) => {
                        let op = self.pick(&["==", "!=", "<", "<=", ">", ">="]);
                        let n = self.pick(&[0i64, 1, 2]);
                        let f = self.filter(e, i, depth);
                        if self.bool() {
                            format!("({path}.count {op} {n} where {f})")
                        } else {
                            format!("({n} {op} {path}.count where {f})")
                        }
                    }
                    _ => {
                        let q = self.pick(&["any", "all"]);
                        let v = format!("v{}", self.fresh);
                        self.fresh += 1;
                        let f = self.filter(&v, i, depth);
                        format!("{q}({v} in {path} where {f})")
                    }
                }
            }
        })
    }

    /// An atom over a nested list of an element in scope (issue #13): `.count`, seed forms,
    /// explicit aggregates, `in` and set operators (against literals, a top-level list or a
    /// nested list of the same type); or, when no nested list is in scope, an aggregate over
    /// two lists at once.
    fn nested_atom(&mut self, depth: usize) -> Option<String> {
        if self.agg_depth >= 3 || depth > 5 {
            return None;
        }
        let mut inscope: Vec<(String, usize)> = Vec::new();
        for (v, i) in &self.vars {
            for (j, n) in self.nested.iter().enumerate() {
                if n.parent == *i {
                    inscope.push((v.clone(), j));
                }
            }
        }
        if inscope.is_empty() || self.bool() {
            return self.several_lists(depth);
        }
        let (v, j) = inscope[self.below(inscope.len())].clone();
        let path = field_of(&v, self.nested[j].field);
        let idx = self.attrs.len() + j;
        let kind = self.nested[j].kind.clone();
        let op = self.pick(&["==", "!=", "<", "<=", ">", ">="]);
        let n = self.pick(&[0i64, 1, 2]);
        Some(match (kind, self.below(5)) {
            (_, 0) => format!("{path}.count {op} {n}"),
            (Kind::Records { elem: Some(e), .. }, 1) => {
                let q = self.pick(&["any", "all", "count"]);
                let f = self.filter(e, idx, depth);
                if q == "count" {
                    format!("({path}.count {op} {n} where {f})")
                } else {
                    format!("({path}.{q} where {f})")
                }
            }
            (Kind::List(t, _), 1 | 2) => {
                if self.bool() {
                    let lhs = self.operand(&t, true, depth)?;
                    format!("{lhs} in {path}")
                } else {
                    let sop =
                        self.pick(&["contains_all", "contains_any", "intersects", "subset_of"]);
                    let mut others: Vec<String> =
                        self.lists_of(&t).iter().map(|l| (*l).to_owned()).collect();
                    for (w, k) in &inscope {
                        if matches!(&self.nested[*k].kind, Kind::List(u, _) if *u == t) {
                            others.push(field_of(w, self.nested[*k].field));
                        }
                    }
                    if others.is_empty() || self.bool() {
                        let m = self.below(3);
                        let lits: Vec<String> = (0..m).map(|_| self.lit(&t)).collect();
                        format!("{path} {sop} [{}]", lits.join(", "))
                    } else {
                        let o = others[self.below(others.len())].clone();
                        if self.bool() {
                            format!("{path} {sop} {o}")
                        } else {
                            format!("{o} {sop} {path}")
                        }
                    }
                }
            }
            (_, 3) => {
                let x = format!("v{}", self.fresh);
                self.fresh += 1;
                let f = self.filter(&x, idx, depth);
                format!("count({x} in {path} where {f}) {op} {n}")
            }
            _ => {
                let q = self.pick(&["any", "all"]);
                let x = format!("v{}", self.fresh);
                self.fresh += 1;
                let f = self.filter(&x, idx, depth);
                format!("{q}({x} in {path} where {f})")
            }
        })
    }

    /// `count`, `any` or `all` over two lists at once (issue #13; `count` is a run-time sum):
    /// one list twice, or two lists of scalars of one type.
    fn several_lists(&mut self, depth: usize) -> Option<String> {
        let lists: Vec<usize> = (0..self.attrs.len())
            .filter(|&i| matches!(self.attrs[i].kind, Kind::List(..) | Kind::Records { .. }))
            .collect();
        if lists.is_empty() || self.agg_depth >= 3 || depth > 5 {
            return None;
        }
        let i = self.pick(&lists);
        let a = self.attrs[i].path;
        let b = match self.attrs[i].kind.clone() {
            Kind::List(t, _) => {
                let same = self.lists_of(&t);
                self.pick(&same)
            }
            _ => a,
        };
        let x = format!("v{}", self.fresh);
        self.fresh += 1;
        let op = self.pick(&["==", "!=", "<", "<=", ">", ">="]);
        let n = self.pick(&[0i64, 1, 2, 3]);
        Some(match self.below(3) {
            0 => format!("count({x} in {a}, {b}) {op} {n}"),
            1 => {
                let f = self.filter(&x, i, depth);
                format!("count({x} in {a}, {b} where {f}) {op} {n}")
            }
            _ => {
                let q = self.pick(&["any", "all"]);
                let f = self.filter(&x, i, depth);
                format!("{q}({x} in {a}, {b} where {f})")
            }
        })
    }

    /// The JSON value of a nested list (issue #13): mostly a list (some too long, some with
    /// invalid elements), sometimes `null` or not a list.
    fn nested_json(&mut self, kind: &Kind) -> Value {
        match self.below(10) {
            0 => Value::Null,
            1 => json!("nope"),
            _ => match kind {
                Kind::List(t, max) => {
                    let n = self.below(max.map_or(4, |m| m as usize + 2));
                    Value::Array((0..n).map(|_| self.scalar_json(t)).collect())
                }
                Kind::Records { fields, max, .. } => {
                    let n = self.below(max.map_or(4, |m| m as usize + 2));
                    let mut els = Vec::new();
                    for _ in 0..n {
                        if self.below(8) == 0 {
                            els.push(self.scalar_json(&Ty::Str));
                            continue;
                        }
                        let mut el = Value::Object(Map::new());
                        for (f, t) in fields {
                            if self.below(5) != 0 {
                                let v = self.scalar_json(t);
                                insert_path(&mut el, f, v);
                            }
                        }
                        els.push(el);
                    }
                    Value::Array(els)
                }
                Kind::Scalar(_) | Kind::Map(..) => Value::Null,
            },
        }
    }

    /// A condition on a map (issue 13): a key test, a `k, v` aggregate, or a fixed key.
    fn map_atom(&mut self, depth: usize) -> Option<String> {
        let maps = self.maps();
        let i = self.pick(&maps);
        let path = self.attrs[i].path;
        let Kind::Map(t, _) = self.attrs[i].kind.clone() else {
            return None;
        };
        Some(match self.below(4) {
            0 => {
                let key = self.operand(&Ty::Str, true, depth)?;
                format!("{key} in {path}")
            }
            1 if self.agg_depth < 3 && depth <= 5 => {
                let (k, v) = (format!("k{}", self.fresh), format!("w{}", self.fresh));
                self.fresh += 1;
                let q = self.pick(&["any", "all"]);
                let key = quote(self.pick(STRS));
                let op = self.pick(&["starts_with", "ends_with", "contains", "=="]);
                let rhs = self.lit(&t);
                let cmp = if matches!(t, Ty::Bool) { "==" } else { "!=" };
                format!("{q}({k}, {v} in {path} where {k} {op} {key} or {v} {cmp} {rhs})")
            }
            2 => {
                let mut fixed = path.to_owned();
                let _ = ipe_nostd::path::write_segment(&mut fixed, self.pick(STRS), false);
                if self.bool() {
                    format!("has {fixed}")
                } else {
                    let rhs = self.lit(&t);
                    format!("{fixed} == {rhs}")
                }
            }
            _ => {
                let n = self.pick(&[0i64, 1, 2]);
                format!("{path}.count >= {n}")
            }
        })
    }

    fn cond(&mut self, depth: usize) -> String {
        if depth > 4 {
            return self.atom(depth);
        }
        match self.below(10) {
            0 => format!("not {}", self.cond_paren(depth + 1)),
            1 => format!("({} and {})", self.cond(depth + 1), self.cond(depth + 1)),
            2 => format!("({} or {})", self.cond(depth + 1), self.cond(depth + 1)),
            3 if depth <= 1 && self.bool() => self.wide(depth),
            4 if depth == 0 => self.deep(depth),
            _ => self.atom(depth),
        }
    }

    /// A flat `and` or `or` of 1 to 64 atoms (issue #11: wide chains once failed to verify);
    /// only near the top of a condition or a filter, so that a case holds a few of them.
    fn wide(&mut self, depth: usize) -> String {
        let op = if self.bool() { " and " } else { " or " };
        // Mostly around the 16 pending jumps the verifier once tracked, sometimes up to 64.
        let n = 1 + if self.bool() {
            self.below(20)
        } else {
            self.below(64)
        };
        let atoms: Vec<String> = (0..n).map(|_| self.atom(depth + 2)).collect();
        format!("({})", atoms.join(op))
    }

    /// Up to 6 atoms in alternating `and`/`or` nested to the right, `(a and (b or (c and d)))`,
    /// so that several chains are open at once. Each step counts as one level of `depth`, so
    /// the whole stays within the 32 levels the language allows.
    fn deep(&mut self, depth: usize) -> String {
        let n = 1 + self.below(6);
        let mut out = String::from("(");
        for i in 0..n {
            out.push_str(&self.atom(depth + 1 + i));
            if i + 1 < n {
                out.push_str(if i % 2 == 0 { " and (" } else { " or (" });
            }
        }
        out.push_str(&")".repeat(n));
        out
    }

    fn cond_paren(&mut self, depth: usize) -> String {
        let c = self.cond(depth);
        if c.starts_with('(') || !c.contains(' ') {
            c
        } else {
            format!("({c})")
        }
    }

    fn policy(&mut self, i: usize) -> String {
        let name = format!("{}{i}", self.pick(&["P", "policy_", "Type", "_"]));
        let intent = self.pick(&[
            "intent",
            "  spaces   and\n  newlines  ",
            "q\"uote \\ back",
            "tab\there",
        ]);
        let mut s = format!("policy {name}:\n  {}", quote(intent));
        if self.bool() {
            s.push_str(&format!(" {}", quote("more")));
        }
        s.push('\n');
        if self.below(3) != 0 {
            let c = self.cond(0);
            if self.below(3) == 0 {
                // Issue #13: the same condition through a def (inlined, so it decides the same).
                s.insert_str(0, &format!("def when_{i} = {c}\n"));
                s.push_str(&format!("  triggers when when_{i}\n"));
            } else {
                s.push_str(&format!("  triggers when {c}\n"));
            }
        }
        let denies = self.below(4) == 0;
        let mut witness = None;
        let mut permits = false;
        if denies {
            let body = self.pick(&["  denies", "  permits"]);
            permits = body == "  permits";
            s.push_str(body);
        } else {
            let n = 1 + self.below(3);
            let mut clauses: Vec<String> = (0..n).map(|_| self.cond(1)).collect();
            if self.below(3) == 0 {
                witness = self.witness_clause();
                clauses.extend(witness.as_ref().map(|(c, _, _)| c.clone()));
            }
            s.push_str(&format!("  requires {}", clauses.join("\n    and ")));
        }
        if self.below(3) == 0 {
            let text = if self.bool() && !permits {
                self.template(witness.as_ref().map(|(_, v, i)| (v.as_str(), *i)))
            } else {
                self.pick(STRS).to_owned()
            };
            s.push_str(&format!(" with reason {}", quote(&text)));
        }
        s.push('\n');
        if self.below(4) == 0 {
            s.push_str("  metadata\n    owner: \"team\"\n    severity: -3\n    on: true\n");
        }
        s
    }

    /// A clause `all(w in list where F)` over a list of records with fields, with its
    /// element name and list (for reason templates naming its witness).
    fn witness_clause(&mut self) -> Option<(String, String, usize)> {
        let lists: Vec<usize> = (0..self.attrs.len())
            .filter(|&i| matches!(&self.attrs[i].kind, Kind::Records { fields, .. } if !fields.is_empty()))
            .collect();
        if lists.is_empty() {
            return None;
        }
        let i = self.pick(&lists);
        let v = format!("w{}", self.fresh);
        self.fresh += 1;
        let f = self.filter(&v, i, 1);
        Some((
            format!("all({v} in {} where {f})", self.attrs[i].path),
            v,
            i,
        ))
    }

    /// A reason template (issue 13): literal text, escaped braces, top-level scalar
    /// attributes and, given a witness clause's element, its fields.
    fn template(&mut self, witness: Option<(&str, usize)>) -> String {
        let mut out = String::new();
        for _ in 0..1 + self.below(4) {
            match self.below(4) {
                0 => out.push_str(self.pick(STRS)),
                1 if witness.is_some() && self.bool() => out.push_str("{#found}"),
                1 => out.push_str(self.pick(&["{{", "}}"])),
                2 => {
                    let scalars: Vec<&str> = self
                        .attrs
                        .iter()
                        // Placeholders name plain dotted paths (quoted keys are not read
                        // inside a reason's braces yet).
                        .filter(|a| matches!(a.kind, Kind::Scalar(_)) && !a.path.contains('['))
                        .map(|a| a.path)
                        .collect();
                    if !scalars.is_empty() {
                        out.push_str(&format!("{{{}}}", self.pick(&scalars)));
                    }
                }
                _ => {
                    if let Some((v, i)) = witness {
                        if let Kind::Records { fields, .. } = &self.attrs[i].kind {
                            let names: Vec<&str> = fields
                                .iter()
                                .map(|(f, _)| *f)
                                .filter(|f| !f.contains('['))
                                .collect();
                            if !names.is_empty() {
                                out.push_str(&format!("{{{v}.{}}}", self.pick(&names)));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn scalar_json(&mut self, t: &Ty) -> Value {
        match self.below(12) {
            0 => Value::Null,
            1 => json!(1.5),
            2 => json!(9223372036854775808u64),
            3 => json!({"k": 1}),
            4 => json!([1]),
            5 => json!("not-a-member"),
            6 => json!(true),
            _ => match t {
                Ty::Str => json!(self.pick(STRS)),
                Ty::Int => json!(self.pick(INTS)),
                Ty::Bool => json!(self.bool()),
                Ty::Enum(e) => json!(self.pick(ENUMS[*e])),
            },
        }
    }

    fn request(&mut self) -> Value {
        let mut req = Value::Object(Map::new());
        let nested = self.nested.clone();
        for (ai, a) in self.attrs.clone().into_iter().enumerate() {
            if self.below(6) == 0 {
                continue; // missing
            }
            let v = match &a.kind {
                Kind::Scalar(t) => self.scalar_json(t),
                Kind::List(t, max) => {
                    if self.below(8) == 0 {
                        self.scalar_json(t)
                    } else {
                        let n = self.below(max.map_or(4, |m| m as usize + 2));
                        Value::Array((0..n).map(|_| self.scalar_json(t)).collect())
                    }
                }
                Kind::Map(t, max) => {
                    if self.below(8) == 0 {
                        json!(["nope"])
                    } else {
                        let n = self.below(max.map_or(4, |m| m as usize + 2));
                        let mut m = Map::new();
                        for _ in 0..n {
                            let k = self.pick(STRS).to_owned();
                            let v = self.scalar_json(t);
                            m.insert(k, v);
                        }
                        Value::Object(m)
                    }
                }
                Kind::Records { fields, max, .. } => {
                    if self.below(8) == 0 {
                        json!("nope")
                    } else {
                        let n = self.below(max.map_or(4, |m| m as usize + 2));
                        let mut els = Vec::new();
                        for _ in 0..n {
                            if self.below(8) == 0 {
                                els.push(self.scalar_json(&Ty::Str));
                                continue;
                            }
                            let mut el = Value::Object(Map::new());
                            for (f, t) in fields {
                                if self.below(5) != 0 {
                                    let v = self.scalar_json(t);
                                    insert_path(&mut el, f, v);
                                }
                            }
                            // Issue #13: the element's nested lists (sometimes missing).
                            for n in nested.iter().filter(|n| n.parent == ai) {
                                if self.below(5) != 0 {
                                    let v = self.nested_json(&n.kind);
                                    insert_path(&mut el, n.field, v);
                                }
                            }
                            els.push(el);
                        }
                        Value::Array(els)
                    }
                }
            };
            if self.below(16) == 0 && keys(a.path).len() > 1 {
                // An intermediate step that is not an object.
                let (first, _) = ipe_nostd::path::split_first(a.path);
                insert_path(&mut req, first, json!("scalar"));
            } else {
                insert_path(&mut req, a.path, v);
            }
        }
        req
    }
}

/// Generates one case from the fuzzer's bytes.
pub fn case(u: &mut Unstructured<'_>) -> Case {
    let mut g = G {
        u,
        attrs: Vec::new(),
        vars: Vec::new(),
        agg_depth: 0,
        fresh: 0,
        consts: Vec::new(),
        nested: Vec::new(),
    };
    g.schema();
    let mut texts = g.schema_text();
    match g.below(3) {
        0 => texts[0].insert_str(0, "default allow\n"),
        1 => texts[0].insert_str(0, "# a comment\ndefault deny # trailing\n"),
        _ => {}
    }
    let n = 1 + g.below(4);
    // Sometimes the policies are the rules of one first-match group (issue #13).
    let grouped = g.below(3) == 0;
    let mut rules = String::new();
    let mut defs = String::new();
    for i in 0..n {
        let p = g.policy(i);
        if grouped {
            // A group holds only policies: a def the policy starts with goes before it.
            let mut rest = p.as_str();
            while rest.starts_with("def ") {
                let end = rest.find('\n').map_or(rest.len(), |e| e + 1);
                defs.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            rules.push_str(rest);
            rules.push('\n');
        } else if g.bool() {
            texts.push(p);
        } else {
            let last = texts.last_mut().expect("a schema block");
            last.push('\n');
            last.push_str(&p);
        }
    }
    if !g.consts.is_empty() {
        texts.push(format!("{}\n", g.consts.join("\n")));
    }
    if grouped {
        texts.push(format!(
            "{defs}group G first-match: \"rules\" {{\n{rules}}}\n"
        ));
    }
    let requests = (0..1 + g.below(6)).map(|_| g.request()).collect();
    let sources = texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("f{i:02}.ipe"), t))
        .collect();
    Case {
        sources,
        attrs: g.attrs,
        requests,
    }
}
