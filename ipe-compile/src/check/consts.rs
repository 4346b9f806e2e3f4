//! Constants, data files and hierarchies (`docs/LANGUAGE.md`, "Constants, data files and
//! hierarchies"): collects the `const` and `hierarchy` items of every file and the top-level
//! keys of the JSON data files, checks them, and expands every use into the v1 forms the
//! checker already knows (literals, `in [...]` sets, `or`/`and` of tests), so constants cost
//! nothing new at run time and every engine runs them unchanged.

use crate::ast::{self, AggKind, ByteSpan, ConstValue, DataRef, Expr, ExprKind, Lit, Name, SetOp};
use crate::diag::Problem;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

#[path = "const_positions.rs"]
mod const_positions;
#[path = "hierarchy_of.rs"]
mod hierarchy_of;

/// Most conditions one expansion of a quantifier or set operator over constant data may
/// produce (the checker's limit for one clause, [`super::MAX_TERMS`]).
const MAX_EXPANSION: usize = super::MAX_TERMS;

/// A JSON data file given to the compiler.
pub(crate) struct DataSource<'a> {
    /// Its name, for messages.
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// A problem in a data file: which file, the JSON path, what is wrong.
pub(crate) struct DataProblem {
    /// Index into the data files.
    pub data: usize,
    /// The top-level key the problem is under (to locate it), if any.
    pub key: Option<String>,
    /// The JSON path, e.g. `$.roles.admin[2]`.
    pub path: String,
    /// Message (without the file and path).
    pub message: String,
    /// Help.
    pub help: Option<String>,
    /// Line and column given by the JSON parser, when the file is not JSON.
    pub line_col: Option<(usize, usize)>,
}

/// What a constant holds.
#[derive(Clone, Debug)]
enum Value {
    Scalar(Lit),
    List(Vec<Lit>),
    Map(BTreeMap<String, Vec<Lit>>),
    /// A map of scalars of one type (issue #13 lookups, `M[y]`): a data file's object whose
    /// values are strings, integers or booleans.
    Table(BTreeMap<String, Lit>),
    /// A map of records (issue #13 lookups, `M[y].field`): a data file's object whose values
    /// are objects; each record's scalar fields by their path (`a.b` for nested objects).
    Records(BTreeMap<String, BTreeMap<String, Lit>>),
}

/// A constant and where it comes from.
#[derive(Clone, Debug)]
struct Const {
    value: Value,
    /// `a.ipe line 3` or `data file \`roles.json\``.
    origin: String,
    /// The inclusive integer ranges of a list of ints (issue #14, `[22, 8000..8100]`, or
    /// `{"from": 8000, "to": 8100}` in a data file), read only by `x in name`.
    ranges: Vec<(i64, i64)>,
}

/// The result of [`expand`].
pub(crate) struct Expanded {
    /// The files with every use of a constant expanded.
    pub asts: Vec<ast::File>,
    /// Problems located in the sources.
    pub problems: Vec<Problem>,
    /// Problems in the data files.
    pub data_problems: Vec<DataProblem>,
}

/// A source file handed to [`expand`]: name and text.
pub(crate) type SourceText<'a> = (&'a str, &'a str);

/// What a constant holds, with its article (`an int`, `a list`).
fn value_word(v: &Value) -> &'static str {
    match v {
        Value::Scalar(l) => a_kind(l),
        Value::List(_) => "a list",
        Value::Map(_) => "a map of lists",
        Value::Table(_) => "a map of values",
        Value::Records(_) => "a map of records",
    }
}

/// A literal's type with its article.
fn a_kind(l: &Lit) -> &'static str {
    match l {
        Lit::Str(_) => "a string",
        Lit::Int(_) => "an int",
        Lit::Bool(_) => "a bool",
    }
}

/// Whether `s` is an identifier that may name a constant.
fn is_const_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !RESERVED.contains(&s)
}

const RESERVED: [&str; 8] = ["and", "or", "not", "in", "has", "where", "true", "false"];

fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a String>) -> Option<String> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .map(|c| (strsim::levenshtein(c, word), c))
        .min()
        .filter(|(d, _)| *d <= limit)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Collects and checks every constant, then expands their uses in every policy of `asts` (one
/// syntax tree per file of `files`). Policies that use no constant, lookup or set operator
/// ([`super::plain::consts_plain`]) are left as they are (issue #15: moved, not copied).
pub(crate) fn expand(
    files: &[SourceText<'_>],
    mut asts: Vec<ast::File>,
    data: &[DataSource<'_>],
) -> Expanded {
    let mut cx = collect(files, &asts, data);
    let maps = cx.consts.values().any(|c| matches!(c.value, Value::Map(_)));
    let no_schema = cx.schema_heads.is_empty();
    for (fi, ast) in asts.iter_mut().enumerate() {
        cx.file = fi;
        for item in &mut ast.items {
            match item {
                ast::Item::Policy(p) if !cx.plain(p, maps, no_schema) => {
                    *p = cx.policy(p);
                }
                ast::Item::Group(g) => {
                    for p in &mut g.policies {
                        if !cx.plain(p, maps, no_schema) {
                            *p = cx.policy(p);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Expanded {
        asts,
        problems: cx.problems,
        data_problems: cx.data_problems,
    }
}

/// The policies of `asts` that [`Cx::plain`] calls plain (their number), and the names of
/// those whose expansion differs from them or reports a problem (test of
/// [`super::plain::consts_plain`]).
#[cfg(test)]
pub(crate) fn plain_mismatches(
    files: &[SourceText<'_>],
    asts: &[ast::File],
    data: &[DataSource<'_>],
) -> (usize, Vec<String>) {
    let mut cx = collect(files, asts, data);
    let maps = cx.consts.values().any(|c| matches!(c.value, Value::Map(_)));
    let no_schema = cx.schema_heads.is_empty();
    let (mut plain, mut bad) = (0, Vec::new());
    for (fi, ast) in asts.iter().enumerate() {
        cx.file = fi;
        for item in &ast.items {
            let policies = match item {
                ast::Item::Policy(p) => std::slice::from_ref(p),
                ast::Item::Group(g) => g.policies.as_slice(),
                _ => &[],
            };
            for p in policies {
                if !cx.plain(p, maps, no_schema) {
                    continue;
                }
                plain += 1;
                let before = cx.problems.len();
                if cx.policy(p) != *p || cx.problems.len() != before {
                    bad.push(p.name.text.as_str().to_owned());
                }
            }
        }
    }
    (plain, bad)
}

/// Collects and checks every constant of the sources and the data files.
fn collect(files: &[SourceText<'_>], asts: &[ast::File], data: &[DataSource<'_>]) -> Cx {
    let mut cx = Cx {
        consts: HashMap::new(),
        problems: Vec::new(),
        data_problems: Vec::new(),
        file: 0,
        env: Vec::new(),
        schema_heads: HashSet::new(),
        scalar_lists: super::list_eq_lists::scalar_lists(asts.iter()),
    };
    // Attribute names a constant may not take: first segments of schema paths and element
    // names of lists of records.
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for ast in asts {
        for item in &ast.items {
            if let ast::Item::Schema(entries) = item {
                for e in entries {
                    let first = e.path.text.split('.').next().unwrap_or("");
                    taken
                        .entry(first.to_owned())
                        .or_insert_with(|| format!("the attribute `{}`", e.path.text));
                    if let ast::TypeExpr::Records {
                        elem_name: Some(n), ..
                    } = &e.ty
                    {
                        taken
                            .entry(n.text.as_str().to_owned())
                            .or_insert_with(|| format!("the element name of `{}`", e.path.text));
                    }
                }
            }
        }
    }
    cx.schema_heads = taken.keys().cloned().collect();
    // Each declared name and where (`a.ipe line 3`), also when its value is in error.
    let mut declared: HashMap<String, String> = HashMap::new();
    for (fi, ((name, text), ast)) in files.iter().zip(asts).enumerate() {
        cx.file = fi;
        for item in &ast.items {
            let ast::Item::Const(c) = item else { continue };
            let n = &c.name;
            if let Some(first) = declared.get(n.text.as_str()) {
                cx.error(
                    n.span.clone(),
                    format!("constant `{}` is declared twice", n.text),
                    Some(format!("it is first declared in {first}")),
                );
                continue;
            }
            let (line, _) = crate::source::line_col(text, n.span.start);
            let origin = format!("{name} line {line}");
            declared.insert(n.text.as_str().to_owned(), origin.clone());
            if let Some(what) = taken.get(n.text.as_str()) {
                cx.error(
                    n.span.clone(),
                    format!("constant `{}` has the same name as {what}", n.text),
                    Some(
                        "a constant may not share its name with the first segment of a schema \
                         path or an element name: rename one of them"
                            .to_owned(),
                    ),
                );
                continue;
            }
            if let Some(value) = cx.source_value(c) {
                if let Some(ranges) = cx.source_ranges(c, &value) {
                    cx.consts.insert(
                        n.text.as_str().to_owned(),
                        Const {
                            value,
                            origin,
                            ranges,
                        },
                    );
                }
            }
        }
    }
    for (di, d) in data.iter().enumerate() {
        cx.data_file(di, d, &declared, &taken);
    }
    cx
}

/// What an element name bound in a filter stands for.
#[derive(Clone, Debug)]
enum Binding {
    /// One value of a constant list (a quantifier over it being expanded).
    Lit(Lit),
    /// An element of a request list: it shadows constants of the same name.
    Shadow,
}

struct Cx {
    consts: HashMap<String, Const>,
    /// First segments of schema paths and element names (empty without a schema).
    schema_heads: HashSet<String>,
    /// Paths declared as lists of scalars (a list constant compares with them).
    scalar_lists: HashSet<String>,
    problems: Vec<Problem>,
    data_problems: Vec<DataProblem>,
    file: usize,
    env: Vec<(String, Binding)>,
}

/// What the first segment of a path names.
enum Named<'a> {
    Bound(Lit),
    Const(&'a Const),
    Other,
}

impl Cx {
    /// Whether the expansion leaves policy `p` as it is (`maps`: some constant is a map of
    /// lists; `no_schema`: the bundle declares no schema).
    fn plain(&self, p: &ast::Policy, maps: bool, no_schema: bool) -> bool {
        let is_const = |n: &str| self.consts.contains_key(n);
        super::plain::consts_plain(
            p,
            &super::plain::ConstNames {
                is_const: (!self.consts.is_empty()).then_some(&is_const as &dyn Fn(&str) -> bool),
                is_head: &|n| no_schema || self.schema_heads.contains(n),
                maps,
            },
        )
    }

    fn error(&mut self, span: ByteSpan, message: String, help: Option<String>) {
        self.problems.push(Problem {
            file: self.file,
            span,
            message,
            help,
        });
    }

    /// `const M = {"a": 1, "b": 2}`: a map of values of one type (issue #13 lookups).
    fn source_table(
        &mut self,
        name: &str,
        entries: &[ast::MapEntry],
        span: &ByteSpan,
    ) -> Option<Value> {
        let mut table = BTreeMap::new();
        let mut want: Option<&'static str> = None;
        for e in entries {
            let value = match (e.scalar, e.items.first()) {
                (true, Some((l, _))) => l,
                _ => {
                    self.error(
                        e.span.clone(),
                        format!("constant `{name}` mixes lists and values"),
                        Some(
                            "a map constant holds lists (`x in M[y]`) or values (`M[y]`), not both"
                                .to_owned(),
                        ),
                    );
                    return None;
                }
            };
            if let Some(w) = want.filter(|w| *w != value.type_word()) {
                self.error(
                    e.span.clone(),
                    format!(
                        "mismatched types in constant `{name}`: expected {w}, found {}",
                        value.type_word()
                    ),
                    Some("the values of a map constant all have one type".to_owned()),
                );
                return None;
            }
            want = Some(value.type_word());
            if table.insert(e.key.clone(), value.clone()).is_some() {
                self.error(
                    e.key_span.clone(),
                    format!("key \"{}\" is given twice in constant `{name}`", e.key),
                    Some("keep one of the two".to_owned()),
                );
                return None;
            }
        }
        let _ = span;
        Some(Value::Table(table))
    }

    /// The ranges of a `const` list (issue #14): only among ints (`None` after an error).
    fn source_ranges(&mut self, c: &ast::ConstDecl, value: &Value) -> Option<Vec<(i64, i64)>> {
        let Some((_, _, at)) = c.ranges.first() else {
            return Some(Vec::new());
        };
        let name = &c.name.text;
        if let Value::List(items) = value {
            if let Some(other) = items.iter().find(|l| !matches!(l, Lit::Int(_))) {
                self.error(
                    at.clone(),
                    format!(
                        "mismatched types in constant `{name}`: a range holds ints, and the \
                         list holds {}",
                        a_kind(other)
                    ),
                    Some("a list with ranges holds ints only: `[22, 80, 8000..8100]`".to_owned()),
                );
                return None;
            }
        }
        Some(c.ranges.iter().map(|&(lo, hi, _)| (lo, hi)).collect())
    }

    /// A data file's list that holds range objects `{"from": lo, "to": hi}` (issue #14): the
    /// ints, with the ranges in `ranges` (both ends included).
    fn json_ranged_list(
        &mut self,
        di: usize,
        key: &str,
        path: &str,
        items: &[serde_json::Value],
        ranges: &mut Vec<(i64, i64)>,
    ) -> Option<Value> {
        use serde_json::Value as J;
        let mut out = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let p = format!("{path}[{n}]");
            if let J::Object(m) = item {
                let bound = |k: &str| m.get(k).and_then(|v| v.as_i64());
                let (Some(lo), Some(hi), 2) = (bound("from"), bound("to"), m.len()) else {
                    self.data_error(
                        di,
                        Some(key),
                        p,
                        "is an object, expected an integer or a range {\"from\": lo, \"to\": hi} \
                         of two integers"
                            .to_owned(),
                    );
                    return None;
                };
                if lo > hi {
                    self.data_error(
                        di,
                        Some(key),
                        p,
                        format!("is the empty range {lo}..{hi} (a range runs upwards: from <= to)"),
                    );
                    return None;
                }
                ranges.push((lo, hi));
                continue;
            }
            let l = self.json_scalar(di, key, &p, item)?;
            if !matches!(l, Lit::Int(_)) {
                self.data_error(
                    di,
                    Some(key),
                    p,
                    format!(
                        "is {}, expected int (a list with ranges holds integers only)",
                        l.type_word()
                    ),
                );
                return None;
            }
            out.push(l);
        }
        Some(Value::List(out))
    }

    /// Checks the value of a `const` or `hierarchy` item.
    fn source_value(&mut self, c: &ast::ConstDecl) -> Option<Value> {
        let name = &c.name.text;
        let value = match &c.value {
            ConstValue::Lit(l, _) => Value::Scalar(l.clone()),
            ConstValue::List(items, _) => Value::List(self.same_kind(name, items, None)?),
            ConstValue::Map(entries, span) if entries.iter().any(|e| e.scalar) => {
                self.source_table(name, entries, span)?
            }
            ConstValue::Map(entries, _) => {
                let mut map = BTreeMap::new();
                let mut kind: Option<&'static str> = None;
                let mut ok = true;
                for ast::MapEntry {
                    key,
                    key_span,
                    items,
                    ..
                } in entries
                {
                    let Some(list) = self.same_kind(name, items, kind) else {
                        ok = false;
                        continue;
                    };
                    kind = kind.or(list.first().map(Lit::type_word));
                    if map.insert(key.clone(), list).is_some() {
                        self.error(
                            key_span.clone(),
                            format!("key \"{key}\" is given twice in constant `{name}`"),
                            Some("keep one of the two".to_owned()),
                        );
                        ok = false;
                    }
                }
                if !ok {
                    return None;
                }
                Value::Map(map)
            }
        };
        if c.hierarchy {
            let strings = match &value {
                Value::Map(m) => m.values().flatten().all(|l| matches!(l, Lit::Str(_))),
                _ => false,
            };
            if !strings {
                self.error(
                    c.value.span(),
                    format!("hierarchy `{name}` must map each entity to the list of its parents"),
                    Some(
                        "write `hierarchy groups = {\"alice\": [\"eng\"], \"eng\": [\"staff\"]}`"
                            .to_owned(),
                    ),
                );
                return None;
            }
        }
        Some(value)
    }

    /// The literals of a list when they all have one type (`kind`, if given).
    fn same_kind(
        &mut self,
        name: &str,
        items: &[(Lit, ByteSpan)],
        kind: Option<&'static str>,
    ) -> Option<Vec<Lit>> {
        let Some(want) = kind.or(items.first().map(|(l, _)| l.type_word())) else {
            return Some(Vec::new());
        };
        for (l, span) in items {
            if l.type_word() != want {
                self.error(
                    span.clone(),
                    format!(
                        "mismatched types in constant `{name}`: expected {want}, found {}",
                        l.type_word()
                    ),
                    Some("the values of a constant all have one type".to_owned()),
                );
                return None;
            }
        }
        Some(items.iter().map(|(l, _)| l.clone()).collect())
    }

    fn data_error(&mut self, data: usize, key: Option<&str>, path: String, message: String) {
        self.data_problems.push(DataProblem {
            data,
            key: key.map(str::to_owned),
            path,
            message,
            help: Some(
                "a data file is a JSON object whose keys name constants: strings, integers, \
                 booleans, lists of one of them, or objects of such lists"
                    .to_owned(),
            ),
            line_col: None,
        });
    }

    /// Reads one data file's top-level keys as constants.
    fn data_file(
        &mut self,
        di: usize,
        d: &DataSource<'_>,
        declared: &HashMap<String, String>,
        taken: &BTreeMap<String, String>,
    ) {
        let json: serde_json::Value = match serde_json::from_str(d.text) {
            Ok(v) => v,
            Err(e) => {
                self.data_problems.push(DataProblem {
                    data: di,
                    key: None,
                    path: "$".to_owned(),
                    message: format!("is not valid JSON: {e}"),
                    help: None,
                    line_col: Some((e.line(), e.column())),
                });
                return;
            }
        };
        let serde_json::Value::Object(top) = json else {
            self.data_error(di, None, "$".to_owned(), "is not a JSON object".to_owned());
            return;
        };
        for (key, v) in &top {
            let path = json_key("$", key);
            if !is_const_name(key) {
                self.data_error(
                    di,
                    Some(key),
                    path,
                    format!("`{key}` cannot name a constant (an identifier that is not a reserved word)"),
                );
                continue;
            }
            if let Some(at) = declared.get(key) {
                self.data_error(
                    di,
                    Some(key),
                    path,
                    format!("constant `{key}` is also declared in {at}"),
                );
                continue;
            }
            if let Some(c) = self.consts.get(key) {
                let origin = c.origin.clone();
                self.data_error(
                    di,
                    Some(key),
                    path,
                    format!("constant `{key}` is also given by {origin}"),
                );
                continue;
            }
            if let Some(what) = taken.get(key) {
                self.data_error(
                    di,
                    Some(key),
                    path,
                    format!("constant `{key}` has the same name as {what}"),
                );
                continue;
            }
            let mut ranges = Vec::new();
            if let Some(value) = self.json_value(di, key, &path, v, &mut ranges) {
                self.consts.insert(
                    key.clone(),
                    Const {
                        value,
                        origin: format!("data file `{}`", d.name),
                        ranges,
                    },
                );
            }
        }
    }

    fn json_value(
        &mut self,
        di: usize,
        key: &str,
        path: &str,
        v: &serde_json::Value,
        ranges: &mut Vec<(i64, i64)>,
    ) -> Option<Value> {
        use serde_json::Value as J;
        match v {
            J::Array(items) if items.iter().any(|x| x.is_object()) => {
                self.json_ranged_list(di, key, path, items, ranges)
            }
            J::Array(items) => Some(Value::List(self.json_list(di, key, path, items, None)?)),
            J::Object(m)
                if m.values().any(|v| !v.is_array()) && !m.values().any(|v| v.is_array()) =>
            {
                self.json_table(di, key, path, m)
            }
            J::Object(m) => {
                let mut map = BTreeMap::new();
                let mut kind = None;
                for (k, v) in m {
                    let p = json_key(path, k);
                    let J::Array(items) = v else {
                        self.data_error(
                            di,
                            Some(key),
                            p,
                            format!(
                                "is {}, expected a list (the values of an object are lists)",
                                json_word(v)
                            ),
                        );
                        return None;
                    };
                    let list = self.json_list(di, key, &p, items, kind)?;
                    kind = kind.or(list.first().map(Lit::type_word));
                    map.insert(k.clone(), list);
                }
                Some(Value::Map(map))
            }
            other => Some(Value::Scalar(self.json_scalar(di, key, path, other)?)),
        }
    }

    fn json_list(
        &mut self,
        di: usize,
        key: &str,
        path: &str,
        items: &[serde_json::Value],
        kind: Option<&'static str>,
    ) -> Option<Vec<Lit>> {
        let mut out = Vec::with_capacity(items.len());
        let mut want = kind;
        for (n, item) in items.iter().enumerate() {
            let p = format!("{path}[{n}]");
            let l = self.json_scalar(di, key, &p, item)?;
            let k = l.type_word();
            if let Some(w) = want {
                if w != k {
                    self.data_error(
                        di,
                        Some(key),
                        p,
                        format!(
                            "is {k}, expected {w} (the values of a constant all have one type)"
                        ),
                    );
                    return None;
                }
            }
            want = Some(k);
            out.push(l);
        }
        Some(out)
    }

    /// An object of scalars of one type ([`Value::Table`]) or of objects ([`Value::Records`],
    /// a field of one path has one type across the records) (issue #13 lookups).
    fn json_table(
        &mut self,
        di: usize,
        key: &str,
        path: &str,
        m: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<Value> {
        if m.values().all(|v| v.is_object()) {
            let mut recs = BTreeMap::new();
            let mut types: BTreeMap<String, &'static str> = BTreeMap::new();
            for (k, v) in m {
                let mut fields = BTreeMap::new();
                self.json_record(di, key, &json_key(path, k), "", v, &mut fields)?;
                for (f, l) in &fields {
                    let w = l.type_word();
                    match types.get(f) {
                        Some(t) if *t != w => {
                            self.data_error(
                                di,
                                Some(key),
                                format!("{}.{f}", json_key(path, k)),
                                format!(
                                    "is {}, expected {t} (a field has one type in every record)",
                                    a_kind(l)
                                ),
                            );
                            return None;
                        }
                        _ => {
                            types.insert(f.clone(), w);
                        }
                    }
                }
                recs.insert(k.clone(), fields);
            }
            return Some(Value::Records(recs));
        }
        let mut table = BTreeMap::new();
        let mut want: Option<&'static str> = None;
        for (k, v) in m {
            let p = json_key(path, k);
            let l = self.json_scalar(di, key, &p, v)?;
            if let Some(w) = want.filter(|w| *w != l.type_word()) {
                self.data_error(
                    di,
                    Some(key),
                    p,
                    format!(
                        "is {}, expected {w} (the values of a map have one type)",
                        a_kind(&l)
                    ),
                );
                return None;
            }
            want = Some(l.type_word());
            table.insert(k.clone(), l);
        }
        Some(Value::Table(table))
    }

    /// The scalar fields of the record `v` at JSON path `path`, under the field prefix
    /// `prefix` (nested objects give dotted fields).
    fn json_record(
        &mut self,
        di: usize,
        key: &str,
        path: &str,
        prefix: &str,
        v: &serde_json::Value,
        out: &mut BTreeMap<String, Lit>,
    ) -> Option<()> {
        let serde_json::Value::Object(m) = v else {
            return None;
        };
        for (k, v) in m {
            let mut f = prefix.to_owned();
            let _ = ipe_nostd::path::write_segment(&mut f, k, prefix.is_empty());
            match v {
                serde_json::Value::Object(_) => {
                    self.json_record(di, key, &json_key(path, k), &f, v, out)?
                }
                // A null field is an absent field (a lookup of it is missing).
                serde_json::Value::Null => {}
                v => {
                    let l = self.json_scalar(di, key, &json_key(path, k), v)?;
                    out.insert(f, l);
                }
            }
        }
        Some(())
    }

    fn json_scalar(
        &mut self,
        di: usize,
        key: &str,
        path: &str,
        v: &serde_json::Value,
    ) -> Option<Lit> {
        use serde_json::Value as J;
        match v {
            J::String(s) => Some(Lit::Str(s.clone().into())),
            J::Bool(b) => Some(Lit::Bool(*b)),
            J::Number(n) => match ipe_nostd::report::json_int(n) {
                Some(i) => Some(Lit::Int(i)),
                None => {
                    self.data_error(
                        di,
                        Some(key),
                        path.to_owned(),
                        format!("is the number {n}, which is not a 64-bit integer"),
                    );
                    None
                }
            },
            other => {
                self.data_error(
                    di,
                    Some(key),
                    path.to_owned(),
                    format!(
                        "is {}, expected a string, an integer or a boolean",
                        json_word(other)
                    ),
                );
                None
            }
        }
    }

    /// `lhs in name` over a list constant with ranges (issue #14): the expansion of the same
    /// list written inline, `lhs in [ints] or lhs >= lo and lhs <= hi or ...`.
    fn in_ranged(&mut self, lhs: &Expr, list: &Name, span: &ByteSpan) -> Option<Expr> {
        let Named::Const(c) = self.named(&list.text) else {
            return None;
        };
        if c.ranges.is_empty() {
            return None;
        }
        let Value::List(items) = &c.value else {
            return None;
        };
        let items = items
            .iter()
            .map(|l| (l.clone(), list.span.clone()))
            .collect();
        let ranges = c.ranges.clone();
        Some(crate::parser::expand_bounds(
            lhs.clone(),
            items,
            &ranges,
            &list.span,
            span.clone(),
        ))
    }

    /// What the first segment of `name` names, given the element names in scope.
    fn named(&self, first: &str) -> Named<'_> {
        if let Some((_, b)) = self.env.iter().rev().find(|(n, _)| n == first) {
            return match b {
                Binding::Lit(l) => Named::Bound(l.clone()),
                Binding::Shadow => Named::Other,
            };
        }
        match self.consts.get(first) {
            Some(c) => Named::Const(c),
            None => Named::Other,
        }
    }

    fn policy(&mut self, p: &ast::Policy) -> ast::Policy {
        self.env.clear();
        let trigger = p.trigger.as_ref().map(|t| self.expr(t));
        let body = match &p.body {
            ast::Body::Requires { expr, reason } => {
                // Each top-level conjunct is one clause: an `all` or `contains_all` expanded
                // into an `and` stays one clause (with its source text) in parentheses.
                let clause = |cx: &mut Self, e: &Expr| {
                    let x = cx.expr(e);
                    if matches!(x.kind, ExprKind::And(_)) && !matches!(e.kind, ExprKind::And(_)) {
                        Expr {
                            span: x.span.clone(),
                            kind: ExprKind::Paren(Box::new(x)),
                        }
                    } else {
                        x
                    }
                };
                let expr = match &expr.kind {
                    ExprKind::And(parts) => Expr {
                        kind: ExprKind::And(parts.iter().map(|e| clause(self, e)).collect()),
                        span: expr.span.clone(),
                    },
                    _ => clause(self, expr),
                };
                ast::Body::Requires {
                    expr,
                    reason: reason.clone(),
                }
            }
            other => other.clone(),
        };
        ast::Policy {
            name: p.name.clone(),
            intent: p.intent.clone(),
            trigger,
            body,
            metadata: p.metadata.clone(),
            reason_template: p.reason_template.as_ref().map(|t| self.template(t)),
        }
    }

    /// A reason template with each `{M[y]}` / `{M[y].f}` naming a map constant given its table
    /// (issue #13, session 11: [`ast::ReasonPart::Lookup`]); errors reported, the hole left.
    fn template(&mut self, parts: &[ast::ReasonPart]) -> Vec<ast::ReasonPart> {
        parts
            .iter()
            .map(|part| {
                let ast::ReasonPart::Hole { path, span } = part else {
                    return part.clone();
                };
                let Some((m, key, rest)) = super::reason_entry::split(path) else {
                    return part.clone();
                };
                let Named::Const(c) = self.named(m) else {
                    return part.clone();
                };
                let c = c.clone();
                let field = rest.strip_prefix('.');
                let rows: Vec<(String, Lit)> = match (&c.value, field) {
                    (Value::Table(t), None) if rest.is_empty() => {
                        t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                    }
                    (Value::Records(r), Some(f)) => r
                        .iter()
                        .filter_map(|(k, rec)| rec.get(f).map(|v| (k.clone(), v.clone())))
                        .collect(),
                    _ => Vec::new(),
                };
                if rows.is_empty() {
                    let (message, help) = match &c.value {
                        Value::Table(_) if rest.is_empty() => (
                            format!(
                                "map constant `{m}` is empty: a lookup in it is always missing"
                            ),
                            format!("`{m}` is declared in {}", c.origin),
                        ),
                        _ => self.lookup_shape_error(&c, m, field),
                    };
                    self.error(span.clone(), message, Some(help));
                    return part.clone();
                }
                let mut rows = rows;
                rows.sort_by(|a, b| a.0.cmp(&b.0));
                ast::ReasonPart::Lookup {
                    map: m.to_owned(),
                    key: key.to_owned(),
                    rows,
                    span: span.clone(),
                }
            })
            .collect()
    }

    fn boxed(&mut self, e: &Expr) -> Box<Expr> {
        Box::new(self.expr(e))
    }

    /// `e` with every constant expanded (errors reported, the node left as written).
    fn expr(&mut self, e: &Expr) -> Expr {
        let span = e.span.clone();
        let kind = match &e.kind {
            // Defs, templates and several-list aggregates are expanded before constants
            // (`check::inline`): none is left here.
            ExprKind::Lit(_)
            | ExprKind::Call { .. }
            | ExprKind::AggLists { .. }
            | ExprKind::TimeLit { .. }
            | ExprKind::Now => return e.clone(),
            ExprKind::TimeArith { sub, op, lhs, rhs } => ExprKind::TimeArith {
                sub: *sub,
                op: op.clone(),
                lhs: self.boxed(lhs),
                rhs: self.boxed(rhs),
            },
            ExprKind::TimePart {
                part,
                arg,
                offset_ms,
            } => ExprKind::TimePart {
                part: *part,
                arg: self.boxed(arg),
                offset_ms: *offset_ms,
            },
            ExprKind::Path(name) => return self.path(name).unwrap_or_else(|| e.clone()),
            ExprKind::Lookup(l) => return self.lookup(l, e),
            ExprKind::Paren(x) => ExprKind::Paren(self.boxed(x)),
            ExprKind::CountLists(xs) => {
                ExprKind::CountLists(xs.iter().map(|x| self.expr(x)).collect())
            }
            ExprKind::Arith { op, args } => ExprKind::Arith {
                op: *op,
                args: args.iter().map(|x| self.expr(x)).collect(),
            },
            ExprKind::Len(x) => ExprKind::Len(self.boxed(x)),
            ExprKind::Lower(x) => ExprKind::Lower(self.boxed(x)),
            ExprKind::Segment(xs) => ExprKind::Segment(xs.iter().map(|x| self.expr(x)).collect()),
            ExprKind::MapAgg {
                kind,
                key,
                value,
                map,
                filter,
            } => {
                // The entry's key and value names shadow constants inside the filter.
                self.env
                    .push((key.text.as_str().to_owned(), Binding::Shadow));
                self.env
                    .push((value.text.as_str().to_owned(), Binding::Shadow));
                let filter = filter.as_deref().map(|f| self.boxed(f));
                self.env.pop();
                self.env.pop();
                ExprKind::MapAgg {
                    kind: *kind,
                    key: key.clone(),
                    value: value.clone(),
                    map: map.clone(),
                    filter,
                }
            }
            ExprKind::Coalesce { lhs, rhs, op } => ExprKind::Coalesce {
                lhs: self.boxed(lhs),
                rhs: self.boxed(rhs),
                op: op.clone(),
            },
            ExprKind::Not(x) => ExprKind::Not(self.boxed(x)),
            ExprKind::And(xs) => ExprKind::And(xs.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Or(xs) => ExprKind::Or(xs.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Where { expr, kw, filter } => ExprKind::Where {
                expr: self.boxed(expr),
                kw: kw.clone(),
                filter: self.boxed(filter),
            },
            ExprKind::Cmp { op, sides } => {
                let [lhs, rhs] = &**sides;
                if let Some(x) = self.const_list_eq(e, *op, lhs, rhs) {
                    return x;
                }
                ExprKind::cmp(*op, self.expr(lhs), self.expr(rhs))
            }
            ExprKind::Str { op, lhs, rhs } => ExprKind::Str {
                op: *op,
                lhs: self.boxed(lhs),
                rhs: self.boxed(rhs),
            },
            ExprKind::InSet { lhs, items } => ExprKind::InSet {
                lhs: self.boxed(lhs),
                items: items.clone(),
            },
            ExprKind::Has(name) => {
                let first = name.text.split(['.', '[']).next().unwrap_or("");
                if !matches!(self.named(first), Named::Other) {
                    self.error(
                        name.span.clone(),
                        format!("`has` tests a request attribute, and `{first}` is a constant"),
                        Some("a constant is always present; test its value instead".to_owned()),
                    );
                }
                return e.clone();
            }
            ExprKind::InPath { lhs, list } => {
                let lhs = self.boxed(lhs);
                if let Some(expanded) = self.in_ranged(&lhs, list, &span) {
                    return expanded;
                }
                match self.list_values(list, "`in`") {
                    Some(Some(values)) => ExprKind::InSet {
                        lhs,
                        items: values.into_iter().map(|l| (l, list.span.clone())).collect(),
                    },
                    Some(None) => return e.clone(),
                    None => ExprKind::InPath {
                        lhs,
                        list: list.clone(),
                    },
                }
            }
            ExprKind::Agg {
                kind,
                var,
                list,
                filter,
            } => return self.agg(e, *kind, var, list, filter.as_deref()),
            ExprKind::SetOp { op, lhs, rhs } => return self.set_op(e, *op, lhs, rhs),
            ExprKind::InData { lhs, data } => match &**data {
                DataRef::Of(n, value) => return self.in_hierarchy_of(e, lhs, n, value),
                DataRef::KeyOf(n, value) => return self.in_key_of(e, lhs, n, value),
                data => {
                    let lhs = self.boxed(lhs);
                    let Some(values) = self.selection(data) else {
                        return e.clone();
                    };
                    ExprKind::InSet {
                        lhs,
                        items: values.into_iter().map(|l| (l, span.clone())).collect(),
                    }
                }
            },
        };
        Expr { kind, span }
    }

    /// `M[key]` or `M[key].field` with the key given by a value (issue #13): a string literal
    /// key (after inlining) is the literal it selects; any other key keeps the table's rows
    /// for the checker ([`ast::Lookup::rows`]). Errors are reported and leave `e` as written.
    fn lookup(&mut self, l: &ast::Lookup, e: &Expr) -> Expr {
        let key = self.expr(&l.key);
        let first = l.map.text.as_str();
        let c = match self.named(first) {
            Named::Const(c) => c.clone(),
            _ => {
                let maps = self
                    .consts
                    .iter()
                    .filter(|(_, c)| matches!(c.value, Value::Table(_) | Value::Records(_)))
                    .map(|(n, _)| n);
                if let Some(help) = did_you_mean(first, maps).filter(|_| !first.contains('.')) {
                    self.error(
                        l.map.span.clone(),
                        format!("unknown constant `{first}`"),
                        Some(help),
                    );
                    return e.clone();
                }
                // Issue #13: a request map (or anything else, which the checker refuses) with
                // a key read at run time; a string literal key (a parameter's value) is the
                // fixed key `m["k"]`.
                return super::dynkey::request_lookup(l, key, e);
            }
        };
        let field = l.field.as_deref();
        if let ExprKind::Lit(Lit::Str(k)) = &key.kind {
            if l.has {
                self.error(
                    e.span.clone(),
                    format!("`has` tests a request attribute, and `{first}[\"{k}\"]` is a constant's value"),
                    Some("a constant is always present; test its value instead".to_owned()),
                );
                return e.clone();
            }
            return match self.literal_lookup(&c, first, k, field, &e.span) {
                Some(v) => Expr {
                    kind: ExprKind::Lit(v),
                    span: e.span.clone(),
                },
                None => e.clone(),
            };
        }
        let rows: Vec<(String, Lit)> = match (&c.value, field) {
            (Value::Table(t), None) => t.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            (Value::Records(r), Some(f)) => r
                .iter()
                .filter_map(|(k, rec)| rec.get(f).map(|v| (k.clone(), v.clone())))
                .collect(),
            (v, _) => {
                let (message, help) = self.lookup_shape_error(&c, first, field);
                let _ = v;
                self.error(e.span.clone(), message, Some(help));
                return e.clone();
            }
        };
        if rows.is_empty() {
            let (message, help) = match (&c.value, field) {
                (Value::Records(r), Some(_)) if !r.is_empty() => {
                    self.lookup_shape_error(&c, first, field)
                }
                _ => (
                    format!("map constant `{first}` is empty: a lookup in it is always missing"),
                    format!("`{first}` is declared in {}", c.origin),
                ),
            };
            self.error(e.span.clone(), message, Some(help));
            return e.clone();
        }
        let mut rows = rows;
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Expr {
            kind: ExprKind::Lookup(Box::new(ast::Lookup {
                map: l.map.clone(),
                key,
                field: l.field.clone(),
                brackets: l.brackets.clone(),
                has: l.has,
                rows: Some(rows),
            })),
            span: e.span.clone(),
        }
    }

    /// Why `first[...]` (with `field` after it) does not select a value of `c`.
    fn lookup_shape_error(&self, c: &Const, first: &str, field: Option<&str>) -> (String, String) {
        match (&c.value, field) {
            (Value::Records(r), None) => (
                format!("`{first}[...]` is a record, not a value"),
                format!(
                    "name one of its fields: {}",
                    r.values()
                        .flat_map(|rec| rec.keys())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .take(8)
                        .map(|f| format!("`{first}[...].{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            (Value::Records(r), Some(f)) => (
                format!("the records of `{first}` have no field `{f}`"),
                did_you_mean(
                    f,
                    r.values()
                        .flat_map(|rec| rec.keys())
                        .collect::<BTreeSet<_>>()
                        .into_iter(),
                )
                .unwrap_or_else(|| format!("`{first}` is declared in {}", c.origin)),
            ),
            (Value::Table(_), Some(f)) => (
                format!("the values of `{first}` are scalars, they have no field `{f}`"),
                format!("use `{first}[...]` itself"),
            ),
            (Value::Map(_), _) => (
                format!("constant `{first}` is a map of lists, not a map of values"),
                format!("test membership in the list under a key with `x in {first}[y]`"),
            ),
            (v, _) => (
                format!("constant `{first}` is {}, not a map", value_word(v)),
                format!("`{first}` is declared in {}", c.origin),
            ),
        }
    }

    /// The value `first["key"]` (`.field`) selects in `c`; `None` after reporting an error.
    fn literal_lookup(
        &mut self,
        c: &Const,
        first: &str,
        key: &str,
        field: Option<&str>,
        span: &ByteSpan,
    ) -> Option<Lit> {
        let found = match (&c.value, field) {
            (Value::Table(t), None) => t.get(key).cloned().ok_or(()),
            (Value::Records(r), Some(f)) => match r.get(key) {
                Some(rec) => match rec.get(f) {
                    Some(v) => Ok(v.clone()),
                    None => {
                        let (m, h) = self.lookup_shape_error(c, first, field);
                        let (m, h) = if rec.is_empty() || r.values().any(|x| x.contains_key(f)) {
                            (
                                format!(
                                    "the record of `{first}` under \"{key}\" has no field `{f}`"
                                ),
                                format!("`{first}` is declared in {}", c.origin),
                            )
                        } else {
                            (m, h)
                        };
                        self.error(span.clone(), m, Some(h));
                        return None;
                    }
                },
                None => Err(()),
            },
            _ => {
                let (m, h) = self.lookup_shape_error(c, first, field);
                self.error(span.clone(), m, Some(h));
                return None;
            }
        };
        match found {
            Ok(v) => Some(v),
            Err(()) => {
                let keys: Vec<&String> = match &c.value {
                    Value::Table(t) => t.keys().collect(),
                    Value::Records(r) => r.keys().collect(),
                    _ => Vec::new(),
                };
                let help = did_you_mean(key, keys.into_iter())
                    .unwrap_or_else(|| format!("`{first}` is declared in {}", c.origin));
                self.error(
                    span.clone(),
                    format!("map constant `{first}` has no key \"{key}\""),
                    Some(help),
                );
                None
            }
        }
    }

    /// A path naming a constant or a bound value, as a literal; `None` when it names neither
    /// (or is an error, reported).
    fn path(&mut self, name: &Name) -> Option<Expr> {
        if let Some(r) = self.const_position(name) {
            return r;
        }
        let (first, rest) = match name.text.split_once('.') {
            Some((f, r)) => (f, Some(r)),
            None => (name.text.as_str(), None),
        };
        let lit = |l: Lit| {
            Some(Expr {
                kind: ExprKind::Lit(l),
                span: name.span.clone(),
            })
        };
        let (message, help) = match (self.named(first), rest) {
            (Named::Other, _) => return None,
            (Named::Bound(l), None) => return lit(l),
            (Named::Const(c), None) => match &c.value {
                Value::Scalar(l) => return lit(l.clone()),
                Value::Table(_) | Value::Records(_) => (
                    format!("constant `{first}` is {}, not a value", value_word(&c.value)),
                    format!("select one value with `{first}[\"key\"]` or `{first}[path]` (a key read from the request)"),
                ),
                Value::List(_) => (
                    format!("constant `{first}` is a list, not a value"),
                    format!("test membership with `x in {first}`, or iterate it with `any(v in {first} where ...)`"),
                ),
                Value::Map(_) => (
                    format!("constant `{first}` is a map of lists, not a value"),
                    format!("select one list with `x in {first}[\"key\"]`"),
                ),
            },
            (Named::Const(c), Some("count")) if !c.ranges.is_empty() => (
                format!("constant `{first}` holds ranges, which only `in` reads"),
                format!("test membership with `x in {first}`; `.count` needs a list of values"),
            ),
            (Named::Const(c), Some("count")) if matches!(c.value, Value::List(_)) => {
                let Value::List(items) = &c.value else {
                    return None;
                };
                return lit(Lit::Int(i64::try_from(items.len()).unwrap_or(i64::MAX)));
            }
            (Named::Const(c), Some(_))
                if matches!(c.value, Value::Table(_) | Value::Records(_)) =>
            {
                let mut segs = ipe_nostd::path::segments(&name.text);
                segs.next();
                let key = segs.next().map(|k| {
                    let mut s = String::new();
                    let _ = k.write_key(&mut s);
                    s
                });
                let field = segs.rest().trim_start_matches('.');
                let field = (!field.is_empty()).then(|| field.to_owned());
                let c = c.clone();
                let key = key.unwrap_or_default();
                let l = self.literal_lookup(&c, first, &key, field.as_deref(), &name.span)?;
                return lit(l);
            }
            (Named::Const(c), Some(rest)) => (
                format!(
                    "constant `{first}` is {}, it has no field `{rest}`",
                    value_word(&c.value)
                ),
                format!("`{first}` is declared in {}", c.origin),
            ),
            (Named::Bound(l), Some(rest)) => (
                format!(
                    "`{first}` is {} from a constant list, it has no field `{rest}`",
                    a_kind(&l)
                ),
                "the values of a constant list are strings, integers or booleans".to_owned(),
            ),
        };
        self.error(name.span.clone(), message, Some(help));
        None
    }

    /// The values of the list constant `list` names: `None` when it is not a constant,
    /// `Some(None)` after reporting an error (`what` names the use).
    fn list_values(&mut self, list: &Name, what: &str) -> Option<Option<Vec<Lit>>> {
        let first = list.text.split('.').next().unwrap_or("");
        let problem = match self.named(first) {
            // `x in m["key"]` with a misspelled map constant: with a schema, a first segment
            // it does not declare is no attribute either.
            Named::Other
                if !self.schema_heads.is_empty()
                    && !self.schema_heads.contains(first)
                    && !self.env.iter().any(|(n, _)| n == first)
                    && is_one_key_below(&list.text) =>
            {
                let maps = self
                    .consts
                    .iter()
                    .filter(|(_, c)| matches!(c.value, Value::Map(_)))
                    .map(|(n, _)| n);
                let help = did_you_mean(first, maps)?;
                let at = list.span.start..list.span.start + first.len();
                self.error(at, format!("unknown constant `{first}`"), Some(help));
                return Some(None);
            }
            Named::Other => return None,
            Named::Bound(l) => format!(
                "`{first}` is {} from a constant list, not a list",
                a_kind(&l)
            ),
            Named::Const(c) if !c.ranges.is_empty() && list.text == first => {
                self.error(
                    list.span.clone(),
                    format!("constant `{first}` holds ranges, which only `in` reads"),
                    Some(format!(
                        "test membership with `x in {first}`; {what} needs a list of values"
                    )),
                );
                return Some(None);
            }
            Named::Const(c) => match &c.value {
                Value::List(items) if list.text == first => return Some(Some(items.clone())),
                // `m["key"]` (a path of two keys, since quoted keys are path segments): the
                // list under that key of a map constant.
                Value::Map(_) if is_one_key_below(&list.text) => {
                    let mut keys = ipe_nostd::path::segments(&list.text);
                    let key = keys.nth(1).map(|k| {
                        let mut s = String::new();
                        let _ = k.write_key(&mut s);
                        s
                    });
                    let key = key.unwrap_or_default();
                    // Underline the key as written: `"key"` in `m["key"]`, `key` in `m.key`.
                    let (start, end) = (list.span.start + first.len() + 1, list.span.end);
                    let dotted = end.saturating_sub(start) == key.len();
                    let at = start..if dotted { end } else { end.saturating_sub(1) };
                    let name = Name {
                        text: first.to_owned().into(),
                        span: list.span.clone(),
                    };
                    return Some(self.selection(&DataRef::Key(name, key, at)));
                }
                Value::Map(_) if list.text == first => {
                    self.error(
                        list.span.clone(),
                        format!("constant `{first}` is a map of lists"),
                        Some(format!("select one list with `{first}[\"key\"]`")),
                    );
                    return Some(None);
                }
                v if list.text == first => {
                    format!(
                        "{what} needs a list, and constant `{first}` is {}",
                        value_word(v)
                    )
                }
                v => format!(
                    "constant `{first}` is {}, it has no field `{}`",
                    value_word(v),
                    list.text.get(first.len() + 1..).unwrap_or("")
                ),
            },
        };
        self.error(list.span.clone(), problem, None);
        Some(None)
    }

    /// The values a set operator's right side or a data selection stands for (`None` after
    /// an error).
    fn selection(&mut self, data: &DataRef) -> Option<Vec<Lit>> {
        match data {
            DataRef::Lits(items, _) => Some(items.iter().map(|(l, _)| l.clone()).collect()),
            DataRef::Name(n) => match self.list_values(n, "a set operator") {
                Some(values) => values,
                None => {
                    self.error(
                        n.span.clone(),
                        format!("unknown constant `{}`", n.text),
                        None,
                    );
                    None
                }
            },
            DataRef::Key(n, key, key_span) => {
                let map = self.map_const(n)?;
                match map.get(key) {
                    Some(list) => Some(list.clone()),
                    None => {
                        let help = did_you_mean(key, map.keys())
                            .or_else(|| Some(format!("its keys are {}", quoted_keys(&map))));
                        self.error(
                            key_span.clone(),
                            format!("constant `{}` has no key \"{key}\"", n.text),
                            help,
                        );
                        None
                    }
                }
            }
            DataRef::Of(n, _) | DataRef::KeyOf(n, _) | DataRef::Closure(n, _, _) => {
                // Only after `in`, where `in_hierarchy_of` expands it.
                self.error(
                    n.span.clone(),
                    format!("`{} value` selects no list of values here", n.text),
                    Some("write the values as a list `[...]` or a constant".to_owned()),
                );
                None
            }
            DataRef::Under(n, entity, span) => {
                let map = self.map_const(n)?;
                let (entities, parents_of) = self.hierarchy_edges(n, &map)?;
                let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
                for (&child, parents) in &parents_of {
                    for &p in parents {
                        children.entry(p).or_default().push(child);
                    }
                }
                if !entities.contains(entity.as_str()) {
                    let names: Vec<String> = entities.iter().map(|s| (*s).to_owned()).collect();
                    self.error(
                        span.clone(),
                        format!("\"{entity}\" is not an entity of hierarchy `{}`", n.text),
                        did_you_mean(entity, names.iter()),
                    );
                    return None;
                }
                // Every entity whose ancestors include `entity`, and `entity` itself.
                let mut seen: BTreeSet<&str> = BTreeSet::new();
                let mut queue = VecDeque::from([entity.as_str()]);
                while let Some(x) = queue.pop_front() {
                    if seen.insert(x) {
                        queue.extend(children.get(x).into_iter().flatten().copied());
                    }
                }
                Some(
                    seen.into_iter()
                        .map(|s| Lit::Str(s.to_owned().into()))
                        .collect(),
                )
            }
        }
    }

    /// The map the constant `n` holds (`None` after an error).
    fn map_const(&mut self, n: &Name) -> Option<BTreeMap<String, Vec<Lit>>> {
        let (message, help) = match self.named(&n.text) {
            Named::Const(Const {
                value: Value::Map(m),
                ..
            }) => return Some(m.clone()),
            Named::Const(c) => (
                format!(
                    "constant `{}` is {}, not a map of lists",
                    n.text,
                    value_word(&c.value)
                ),
                format!("`{}` is declared in {}", n.text, c.origin),
            ),
            _ => {
                let names: Vec<String> = self.consts.keys().cloned().collect();
                (
                    format!("unknown constant `{}`", n.text),
                    did_you_mean(&n.text, names.iter()).unwrap_or_else(|| {
                        "`name[\"key\"]` and `name \"entity\"` select from a constant declared \
                         with `const`, `hierarchy` or a data file"
                            .to_owned()
                    }),
                )
            }
        };
        self.error(n.span.clone(), message, Some(help));
        None
    }

    /// An aggregate: expanded when it iterates a constant list.
    fn agg(
        &mut self,
        e: &Expr,
        kind: AggKind,
        var: &Name,
        list: &Name,
        filter: Option<&Expr>,
    ) -> Expr {
        let span = e.span.clone();
        let values = match self.list_values(list, "an aggregate") {
            Some(Some(v)) => v,
            Some(None) => return e.clone(),
            None => {
                self.env
                    .push((var.text.as_str().to_owned(), Binding::Shadow));
                let filter = filter.map(|f| self.boxed(f));
                self.env.pop();
                return Expr {
                    kind: ExprKind::Agg {
                        kind,
                        var: Box::new(var.clone()),
                        list: Box::new(list.clone()),
                        filter,
                    },
                    span,
                };
            }
        };
        let Some(filter) = filter else {
            // `count(v in C)`: the constant's length.
            let n = i64::try_from(values.len()).unwrap_or(i64::MAX);
            return Expr {
                kind: ExprKind::Lit(Lit::Int(n)),
                span,
            };
        };
        if kind == AggKind::Count {
            self.error(
                span.clone(),
                format!(
                    "`count` with a filter over the constant `{}` is not supported",
                    list.text
                ),
                Some(format!(
                    "test the values with `any(v in {} where ...)` or `all(...)`",
                    list.text
                )),
            );
            return e.clone();
        }
        let mut parts = Vec::with_capacity(values.len());
        let mut size = 0usize;
        for v in values {
            self.env
                .push((var.text.as_str().to_owned(), Binding::Lit(v)));
            let part = self.expr(filter);
            self.env.pop();
            size += nodes(&part);
            if size > MAX_EXPANSION {
                self.error(
                    span.clone(),
                    format!(
                        "expanding this aggregate over the constant `{}` gives more than {MAX_EXPANSION} conditions",
                        list.text
                    ),
                    Some("use `x in constant` where you can, or split the constant".to_owned()),
                );
                return e.clone();
            }
            parts.push(part);
        }
        combine(parts, kind == AggKind::All, span)
    }

    /// `list contains_all ...` and friends, as `in` tests on the list.
    fn set_op(&mut self, e: &Expr, op: SetOp, lhs: &Expr, rhs: &DataRef) -> Expr {
        let span = e.span.clone();
        // Between two list attributes, and `subset_of` (a quantifier over the left list), the
        // checker expands the operator (`check::lists`); constants on the right are replaced
        // by their values for it.
        let attribute_rhs = matches!(rhs, DataRef::Name(n) if matches!(
            self.named(n.text.split('.').next().unwrap_or("")),
            Named::Other
        ));
        if attribute_rhs || op == SetOp::SubsetOf {
            let rhs = match rhs {
                DataRef::Lits(..) => rhs.clone(),
                _ if attribute_rhs => rhs.clone(),
                _ => {
                    let Some(values) = self.selection(rhs) else {
                        return e.clone();
                    };
                    let at = match rhs {
                        DataRef::Lits(_, s) => s.clone(),
                        DataRef::Name(n)
                        | DataRef::Key(n, _, _)
                        | DataRef::Under(n, _, _)
                        | DataRef::Of(n, _)
                        | DataRef::KeyOf(n, _)
                        | DataRef::Closure(n, _, _) => n.span.clone(),
                    };
                    DataRef::Lits(values.into_iter().map(|v| (v, at.clone())).collect(), at)
                }
            };
            return Expr {
                kind: ExprKind::SetOp {
                    op,
                    lhs: self.boxed(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        let list = match &lhs.kind {
            ExprKind::Path(n)
                if matches!(
                    self.named(n.text.split('.').next().unwrap_or("")),
                    Named::Other
                ) =>
            {
                n.clone()
            }
            _ => {
                self.error(
                    lhs.span.clone(),
                    format!("`{}` needs a list attribute on its left", op.keyword()),
                    Some("write e.g. `resource.tags contains_all [\"a\", \"b\"]`".to_owned()),
                );
                return e.clone();
            }
        };
        let Some(values) = self.selection(rhs) else {
            return e.clone();
        };
        let mut seen = HashSet::new();
        let values: Vec<Lit> = values
            .into_iter()
            .filter(|v| seen.insert(v.clone()))
            .collect();
        let all = op == SetOp::ContainsAll;
        if values.is_empty() {
            // No value to test: true (`contains_all`) or false (the others) when the list
            // reads, an error when it does not (fail closed): `not count(_ in L) < 0` or
            // `not count(_ in L) >= 0` (a `not`, so a failed clause gets no ` (found N)`).
            let count = Expr {
                kind: ExprKind::Agg {
                    kind: AggKind::Count,
                    var: Box::new(Name {
                        text: ("_".to_owned()).into(),
                        span: list.span.clone(),
                    }),
                    list: Box::new(list.clone()),
                    filter: None,
                },
                span: list.span.clone(),
            };
            let zero = Expr {
                kind: ExprKind::Lit(Lit::Int(0)),
                span: span.clone(),
            };
            let cmp = Expr {
                kind: ExprKind::cmp(
                    if all { ast::CmpOp::Lt } else { ast::CmpOp::Ge },
                    count,
                    zero,
                ),
                span: span.clone(),
            };
            return Expr {
                kind: ExprKind::Not(Box::new(cmp)),
                span,
            };
        }
        if values.len() > MAX_EXPANSION {
            self.error(
                span,
                format!(
                    "`{}` over {} values gives more than {MAX_EXPANSION} conditions",
                    op.keyword(),
                    values.len()
                ),
                Some("split the values over several clauses".to_owned()),
            );
            return e.clone();
        }
        let item_span = match rhs {
            DataRef::Lits(_, s) => s.clone(),
            DataRef::Name(n)
            | DataRef::Key(n, _, _)
            | DataRef::Under(n, _, _)
            | DataRef::Of(n, _)
            | DataRef::KeyOf(n, _)
            | DataRef::Closure(n, _, _) => n.span.clone(),
        };
        let parts = values
            .into_iter()
            .map(|v| Expr {
                kind: ExprKind::InPath {
                    lhs: Box::new(Expr {
                        kind: ExprKind::Lit(v),
                        span: item_span.clone(),
                    }),
                    list: list.clone(),
                },
                span: span.clone(),
            })
            .collect();
        combine(parts, all, span)
    }
}

/// `and` (`all`) or `or` of `parts`; `true`/`false` when there are none.
fn combine(mut parts: Vec<Expr>, all: bool, span: ByteSpan) -> Expr {
    let kind = match parts.len() {
        0 => ExprKind::Lit(Lit::Bool(all)),
        1 => match parts.pop() {
            Some(p) => return p,
            None => ExprKind::Lit(Lit::Bool(all)),
        },
        _ if all => ExprKind::And(parts),
        _ => ExprKind::Or(parts),
    };
    Expr { kind, span }
}

/// The number of conditions of `e` as the checker counts them (`check::terms`): every
/// operator; literals and paths are operands.
fn nodes(e: &Expr) -> usize {
    if matches!(
        e.kind,
        ExprKind::Lit(_) | ExprKind::Path(_) | ExprKind::TimeLit { .. } | ExprKind::Now
    ) {
        return 0;
    }
    // Issue #14: time arithmetic and parts are values, not conditions.
    match &e.kind {
        ExprKind::TimeArith { lhs, rhs, .. } => return nodes(lhs) + nodes(rhs),
        ExprKind::TimePart { arg, .. } => return nodes(arg),
        _ => {}
    }
    1 + match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::Path(_)
        | ExprKind::Has(_)
        | ExprKind::TimeLit { .. }
        | ExprKind::Now => 0,
        ExprKind::Lookup(l) => nodes(&l.key),
        ExprKind::TimeArith { lhs, rhs, .. } => nodes(lhs) + nodes(rhs),
        ExprKind::TimePart { arg, .. } => nodes(arg),
        ExprKind::Paren(x) | ExprKind::Not(x) | ExprKind::Len(x) | ExprKind::Lower(x) => nodes(x),
        ExprKind::And(xs)
        | ExprKind::Or(xs)
        | ExprKind::CountLists(xs)
        | ExprKind::Segment(xs)
        | ExprKind::Arith { args: xs, .. } => xs.iter().map(nodes).sum(),
        ExprKind::Where { expr, filter, .. } => nodes(expr) + nodes(filter),
        ExprKind::Cmp { sides, .. } => sides.iter().map(nodes).sum(),
        ExprKind::Str { lhs, rhs, .. } | ExprKind::Coalesce { lhs, rhs, .. } => {
            nodes(lhs) + nodes(rhs)
        }
        ExprKind::InSet { lhs, .. }
        | ExprKind::InPath { lhs, .. }
        | ExprKind::SetOp { lhs, .. }
        | ExprKind::InData { lhs, .. } => nodes(lhs),
        ExprKind::Agg { filter, .. }
        | ExprKind::AggLists { filter, .. }
        | ExprKind::MapAgg { filter, .. } => filter.as_deref().map_or(0, nodes),
        ExprKind::Call { args, .. } => args.iter().map(nodes).sum(),
    }
}

fn quoted_keys(map: &BTreeMap<String, Vec<Lit>>) -> String {
    let keys: Vec<String> = map.keys().take(8).map(|k| format!("\"{k}\"")).collect();
    let more = if map.len() > 8 { ", ..." } else { "" };
    format!("{}{more}", keys.join(", "))
}

/// Whether `path` is exactly two keys (a constant's name and one key under it).
fn is_one_key_below(path: &str) -> bool {
    ipe_nostd::path::segments(path).count() == 2
}

/// `path.key`, or `path["key"]` when the key is not an identifier.
fn json_key(path: &str, key: &str) -> String {
    if is_const_name(key) {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

fn json_word(v: &serde_json::Value) -> &'static str {
    use serde_json::Value as J;
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "a list",
        J::Object(_) => "an object",
    }
}
