//! The syntax tree produced by [`crate::parser`]: source structure with byte spans, before any
//! name resolution or typing.

use std::ops::Range;

/// A byte range in one source file.
pub type ByteSpan = Range<usize>;

/// The text of a name, path, intent or string literal in the tree: a string of up to 24
/// bytes is held inline (issue #15: most of them, so the parser allocates nothing for them);
/// it derefs to `&str`.
pub type Text = compact_str::CompactString;

/// An identifier or dotted name with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// The text.
    pub text: Text,
    /// Where it is.
    pub span: ByteSpan,
}

/// One parsed source file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[allow(
    clippy::large_enum_variant,
    reason = "a policy is held inline (issue #15): a file's items are mostly policies, and a \
              box per policy was one allocation and one free each"
)]
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `default allow|deny`.
    Default {
        /// The declared effect.
        effect: ipe_nostd::Effect,
        /// Span of the whole declaration.
        span: ByteSpan,
    },
    /// `schema { ... }`.
    Schema(Vec<SchemaEntry>),
    /// `policy Name: ...`, held in the item itself (issue #15: no allocation per policy; an
    /// item list is mostly policies).
    Policy(Policy),
    /// `const NAME = ...` or `hierarchy NAME = ...`.
    Const(Box<ConstDecl>),
    /// `def name(params) = body`.
    Def(Box<Def>),
    /// `policy template Name(params): ...`.
    Template(Box<Template>),
    /// `instance Name = Template(arg: value, ...)`.
    Instance(Box<Instance>),
    /// `group Name first-match: "intent" { policy ... }` (issue #13).
    Group(Box<Group>),
}

/// A named predicate, value or list union with parameters, inlined where it is used.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    /// The def's name.
    pub name: Name,
    /// Parameter names, in order.
    pub params: Vec<Name>,
    /// What the def stands for.
    pub body: DefBody,
    /// Span of the whole declaration.
    pub span: ByteSpan,
}

/// The right-hand side of a `def`.
#[derive(Clone, Debug, PartialEq)]
pub enum DefBody {
    /// One expression (a condition or a value).
    Expr(Expr),
    /// Two or more list paths separated by `,`: the union iterated by aggregates.
    Lists(Vec<Name>),
}

/// The type of a template parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamTy {
    /// `string`, `int` or `bool`.
    Scalar(ScalarTy),
    /// `list of string|int|bool`.
    List(ScalarTy),
    /// `list of { field: string|int|bool, ... }`: a list of records (issue #13).
    Records(Vec<(Name, ScalarTy)>),
}

/// A template parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: Name,
    /// Its declared type.
    pub ty: ParamTy,
}

/// A policy with parameters; only its instances are policies.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// The body, with the template's name as its name and the intent before rendering.
    pub policy: Policy,
}

/// A value given to a template parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    /// A literal.
    Lit(Lit),
    /// A list literal `[...]`, items with their spans.
    List(Vec<(Lit, ByteSpan)>),
    /// A list of record literals `[{f: v, ...}, ...]` (issue #13): each record's fields (name,
    /// value, span of the value) and the record's span.
    Records(Vec<RecordArg>),
}

/// One record of a record-list template argument.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordArg {
    /// Fields in the order written: name, value, the value's span.
    pub fields: Vec<(String, Lit, ByteSpan)>,
    /// The span of the whole record (`{...}`).
    pub span: ByteSpan,
}

/// A template instance: a policy of its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// The instance (policy) name.
    pub name: Name,
    /// The template it instantiates.
    pub template: Name,
    /// Named arguments in source order, each with the span of its value.
    pub args: Vec<(Name, ArgValue, ByteSpan)>,
}

/// An ordered first-match group of policies (its rules).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The group's name.
    pub name: Name,
    /// The normalized intent (empty when none is given).
    pub intent: Text,
    /// The rules in source order.
    pub policies: Vec<Policy>,
}

/// One `path: type` line of a schema block.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaEntry {
    /// The declared attribute path.
    pub path: Name,
    /// Its declared type.
    pub ty: TypeExpr,
    /// `= <default>`: the value read when the attribute is missing (issue #13).
    pub default: Option<(SchemaDefault, ByteSpan)>,
}

/// A schema default (`= false`, `= 0`, `= "x"`, `= []`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaDefault {
    /// A scalar literal.
    Lit(Lit),
    /// `[]`: a missing list reads as empty.
    EmptyList,
    /// `{}`: a missing map reads as empty (issue 13).
    EmptyMap,
}

/// A declared scalar type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScalarTy {
    /// `string`.
    Str,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `enum [...]`, members in rank order.
    Enum(Vec<Name>),
    /// `quantity` (issue #14): a Kubernetes quantity, an int of milli-units once read.
    Quantity,
    /// `timestamp` (issue #14).
    Time,
    /// `duration` (issue #14).
    Duration,
    /// `ip`: an IPv4 or IPv6 address (issue #14).
    Ip,
}

/// A declared attribute type.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// A scalar.
    Scalar(ScalarTy),
    /// `list of <scalar> [max N]`.
    List {
        /// Element type.
        elem: ScalarTy,
        /// Declared bound.
        max: Option<u32>,
    },
    /// `list of [name] [max N] { fields }`.
    Records {
        /// Element name, for the seed form.
        elem_name: Option<Name>,
        /// Declared bound.
        max: Option<u32>,
        /// Fields in source order.
        fields: Vec<(Name, ScalarTy)>,
        /// List fields in source order: nested lists (issue #13).
        lists: Vec<(Name, TypeExpr)>,
        /// Defaults written on fields (`ports: list of p { .. } = []`, issue #13), with the
        /// field they follow; only a nested list's `= []` is valid (the checker says why
        /// any other is not).
        defaults: Vec<(Name, SchemaDefault, ByteSpan)>,
    },
    /// `map of <scalar> [max N]` (issue 13): a JSON object with any string keys.
    Map {
        /// The type of every value.
        value: ScalarTy,
        /// Declared bound on the number of entries.
        max: Option<u32>,
    },
    /// `map of [max N] { fields }` (issue 13): a JSON object with any string keys whose
    /// values are records; the inner type is the [`TypeExpr::Records`] of one value.
    MapRecords(Box<TypeExpr>),
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The policy name.
    pub name: Name,
    /// The normalized intent.
    pub intent: Text,
    /// `triggers when` condition.
    pub trigger: Option<Expr>,
    /// `requires` or `denies`.
    pub body: Body,
    /// `metadata` entries.
    pub metadata: Vec<(Name, Lit)>,
    /// The reason's parts when it has placeholders (`with reason "... {c.name} ..."`).
    pub reason_template: Option<Vec<ReasonPart>>,
}

/// One part of a reason template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReasonPart {
    /// Literal text (escapes and `{{`/`}}` already unescaped).
    Text(String),
    /// A placeholder: its path (or `#count`) and the span of `{...}`.
    Hole {
        /// The path inside the braces, trimmed.
        path: String,
        /// The braces and what is between them.
        span: ByteSpan,
    },
    /// `{M[y]}` / `{M[y].f}` with `M` a map constant (issue #13, session 11): a placeholder
    /// whose table `check::consts` filled in.
    Lookup {
        /// The map constant's name.
        map: String,
        /// The key's path (a top-level string attribute).
        key: String,
        /// Every (key, value) row, sorted by key, the values of one type.
        rows: Vec<(String, Lit)>,
        /// The braces and what is between them.
        span: ByteSpan,
    },
}

/// What a policy asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `requires E [with reason "R"]`.
    Requires {
        /// The requirement.
        expr: Expr,
        /// The reason, if given.
        reason: Option<String>,
    },
    /// `denies [with reason "R"]`.
    Denies {
        /// The reason, if given.
        reason: Option<String>,
    },
    /// `permits [with reason "R"]`: applies and allows (issue #13).
    Permits {
        /// The reason, if given (documentation only: an allow has no reason in decisions).
        reason: Option<String>,
    },
}

/// A literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Lit {
    /// A string.
    Str(Text),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl Lit {
    /// The literal's type as messages name it (`string`, `int`, `bool`).
    pub fn type_word(&self) -> &'static str {
        match self {
            Lit::Str(_) => "string",
            Lit::Int(_) => "int",
            Lit::Bool(_) => "bool",
        }
    }
}

/// The kind of an explicit aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    /// `count(...)`.
    Count,
    /// `any(...)`.
    Any,
    /// `all(...)`.
    All,
}

/// A comparison operator token.
pub use crate::hir::{CmpOp, StrOp};
/// An arithmetic operator (issue #14).
pub use ipe_nostd::arith::ArithOp;

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// The source range it covers (without surrounding whitespace).
    pub span: ByteSpan,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal.
    Lit(Lit),
    /// A dotted path (attributes, element fields and seed aggregates such as `list.count`).
    Path(Name),
    /// `( E )`.
    Paren(Box<Expr>),
    /// `count(x in list [where F])`, `any(...)`, `all(...)`.
    Agg {
        /// Which aggregate.
        kind: AggKind,
        /// The bound element name.
        var: Box<Name>,
        /// The list path.
        list: Box<Name>,
        /// The filter.
        filter: Option<Box<Expr>>,
    },
    /// `a op b`.
    Cmp {
        /// Operator.
        op: CmpOp,
        /// The left and the right operand (one allocation for both, issue #15).
        sides: Box<[Expr; 2]>,
    },
    /// `a in [l, ...]`.
    InSet {
        /// Tested operand.
        lhs: Box<Expr>,
        /// The literals with their spans.
        items: Vec<(Lit, ByteSpan)>,
    },
    /// `a in path`.
    InPath {
        /// Tested operand.
        lhs: Box<Expr>,
        /// The list.
        list: Name,
    },
    /// `a starts_with b` and friends.
    Str {
        /// Operator.
        op: StrOp,
        /// Haystack.
        lhs: Box<Expr>,
        /// Needle.
        rhs: Box<Expr>,
    },
    /// `has path`.
    Has(Name),
    /// `not E`.
    Not(Box<Expr>),
    /// `a and b and ...`.
    And(Vec<Expr>),
    /// `a or b or ...`.
    Or(Vec<Expr>),
    /// `E where F` (seed-form filter).
    Where {
        /// The expression holding the seed aggregate.
        expr: Box<Expr>,
        /// Span of the `where` keyword.
        kw: ByteSpan,
        /// The filter.
        filter: Box<Expr>,
    },
    /// `count(k, v in map [where F])`, `any(...)`, `all(...)` (issue 13): an aggregate over the
    /// entries of a map, binding the key and the value.
    MapAgg {
        /// Which aggregate.
        kind: AggKind,
        /// The name bound to each entry's key (boxed, issue #15: the largest form sets every
        /// expression's size).
        key: Box<Name>,
        /// The name bound to each entry's value (boxed, as `key`).
        value: Box<Name>,
        /// The map path.
        map: Box<Name>,
        /// The filter.
        filter: Option<Box<Expr>>,
    },
    /// `x ?? d`: `d` when the attribute `x` is missing (right-associative).
    Coalesce {
        /// The attribute that may be missing.
        lhs: Box<Expr>,
        /// The default (a literal, a path or another `??`).
        rhs: Box<Expr>,
        /// Span of the `??` token.
        op: ByteSpan,
    },
    /// `name(args)` or a bare name that is a `def` (resolved when defs are expanded).
    Call {
        /// The called name (boxed, issue #15: the largest form sets every expression's size).
        name: Box<Name>,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `count|any|all(x in l1, l2, ... [where F])`: an aggregate over several lists.
    AggLists {
        /// Which aggregate.
        kind: AggKind,
        /// The bound element name.
        var: Box<Name>,
        /// The list paths (two or more).
        lists: Vec<Name>,
        /// The filter.
        filter: Option<Box<Expr>>,
    },
    /// `list contains_all [..]` and the other set operators (expanded before checking).
    SetOp {
        /// Operator.
        op: SetOp,
        /// The list attribute.
        lhs: Box<Expr>,
        /// The values (boxed, issue #15: the largest form sets every expression's size).
        rhs: Box<DataRef>,
    },
    /// `name[key]`, `name[key].field` (issue #13): the value a map constant holds under a key
    /// given by a value (a request path, a def or template parameter, a bound element's
    /// field); a string literal key becomes the constant path `name["key"]...` when constants
    /// are expanded, any other key keeps the map's rows ([`Lookup::rows`]).
    Lookup(Box<Lookup>),
    /// `x in name["key"]` or `x in hierarchy "entity"` (expanded before checking).
    InData {
        /// Tested operand.
        lhs: Box<Expr>,
        /// The selected constant data ([`DataRef::Key`] or [`DataRef::Under`]; boxed, as
        /// [`ExprKind::SetOp`]'s).
        data: Box<DataRef>,
    },
    /// `count(x in l1, l2, ... [where F])` once expanded (issue #13): the sum of the `count`
    /// aggregates ([`ExprKind::Agg`]), one per list, each with its own copy of the filter.
    CountLists(Vec<Expr>),
    /// A timestamp or duration literal (issue #14): `30d`, `1h30m`, `timestamp("...")`,
    /// `duration("1h")`, in ms.
    TimeLit {
        /// Which of the two.
        ty: TimeTy,
        /// Milliseconds (since the Unix epoch for a timestamp).
        ms: i64,
    },
    /// `now`: the request time the host supplies (issue #14).
    Now,
    /// `a + b` or `a - b` on timestamps and durations (issue #14), left-associative.
    TimeArith {
        /// `true` for `-`.
        sub: bool,
        /// Span of the operator.
        op: ByteSpan,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `hour(t[, "offset"])`, `weekday(t[, "offset"])`, `time_of_day(t[, "offset"])` (issue
    /// #14): a calendar part of a timestamp at a fixed UTC offset.
    TimePart {
        /// Which part.
        part: TimePart,
        /// The timestamp.
        arg: Box<Expr>,
        /// The UTC offset in ms (0 for `"UTC"` or none).
        offset_ms: i64,
    },
    /// Integer arithmetic (issue #14): `a + b`, `a - b`, `a * b`, `a / b`, `a % b`, `a & b`,
    /// `-a`, `min(a, b)`, `max(a, b)`, `abs(a)`; `args` has one operand for the unary
    /// operators and two for the others.
    Arith {
        /// The operator.
        op: ArithOp,
        /// The operands.
        args: Vec<Expr>,
    },
    /// `len(x)` (issue #14): the number of chars (Unicode scalar values) of string `x`.
    Len(Box<Expr>),
    /// `lower(x)` (issue #14): string `x` lowered char by char, only as the left side of `==`,
    /// `!=`, `in [..]`, `starts_with`, `ends_with` or `contains` with a lower-case literal.
    Lower(Box<Expr>),
    /// `segment(x, sep, i)` (issue #14): piece `i` of string `x` split on the literal `sep`;
    /// always three arguments (the parser checks the arity).
    Segment(Vec<Expr>),
}

impl ExprKind {
    /// The comparison `lhs op rhs`.
    pub fn cmp(op: CmpOp, lhs: Expr, rhs: Expr) -> ExprKind {
        ExprKind::Cmp {
            op,
            sides: Box::new([lhs, rhs]),
        }
    }
}

/// A lookup `name[key]` or `name[key].field` in a map constant (issue #13).
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// The map constant's name.
    pub map: Name,
    /// The key (a path, or what a parameter stands for after inlining).
    pub key: Expr,
    /// The field path after the key for a map of records (`organization`, `a.b`).
    pub field: Option<String>,
    /// Where `[key]` is written (for errors about the key).
    pub brackets: ByteSpan,
    /// Written after `has` (`has m[k]`, issue #13): the condition that the entry is there.
    pub has: bool,
    /// The table once constants are expanded: every (key, value) row, sorted by key, and the
    /// type word of the values (`string`, `int`, `bool`).
    pub rows: Option<Vec<(String, Lit)>>,
}

/// The two time types (issue #14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeTy {
    /// A timestamp.
    Time,
    /// A duration.
    Duration,
}

pub use crate::hir::TimePart;

/// `const NAME = value` or `hierarchy NAME = { ... }`: a named constant (see
/// `docs/LANGUAGE.md`, "Constants, data files and hierarchies").
#[derive(Clone, Debug, PartialEq)]
pub struct ConstDecl {
    /// The constant's name.
    pub name: Name,
    /// Declared with `hierarchy` (its value must be a map of lists of strings).
    pub hierarchy: bool,
    /// Its value.
    pub value: ConstValue,
    /// The inclusive integer ranges `lo..hi` written among the items of a list value (issue
    /// #14, `const admin_ports = [22, 80, 8000..8100]`), with their spans.
    pub ranges: Vec<(i64, i64, ByteSpan)>,
}

/// The value of a constant, as written.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    /// A scalar literal.
    Lit(Lit, ByteSpan),
    /// `[l, ...]`: a list of literals, with the span of the brackets.
    List(Vec<(Lit, ByteSpan)>, ByteSpan),
    /// `{"key": [l, ...], ...}`: a map of lists, with the span of the braces.
    Map(Vec<MapEntry>, ByteSpan),
}

/// One `"key": [l, ...]` entry of a map constant.
#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    /// The key.
    pub key: String,
    /// Where the key is written.
    pub key_span: ByteSpan,
    /// The list's literals.
    pub items: Vec<(Lit, ByteSpan)>,
    /// Where the list is written.
    pub span: ByteSpan,
    /// The value is one literal (`"key": 3`, a map of values, issue #13 lookups), the only
    /// item of `items`, not a list.
    pub scalar: bool,
}

impl ConstValue {
    /// Where the value is written.
    pub fn span(&self) -> ByteSpan {
        match self {
            ConstValue::Lit(_, s) | ConstValue::List(_, s) | ConstValue::Map(_, s) => s.clone(),
        }
    }
}

/// A set operator between a list attribute and a list of values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// `contains_all`: every value is in the list.
    ContainsAll,
    /// `contains_any`: some value is in the list.
    ContainsAny,
    /// `intersects`: the same as `contains_any`.
    Intersects,
    /// `subset_of`: every element of the list is one of the values.
    SubsetOf,
}

impl SetOp {
    /// The operator's keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            SetOp::ContainsAll => "contains_all",
            SetOp::ContainsAny => "contains_any",
            SetOp::Intersects => "intersects",
            SetOp::SubsetOf => "subset_of",
        }
    }
}

/// The values side of a set operator or of a data selection.
#[derive(Clone, Debug, PartialEq)]
pub enum DataRef {
    /// `[l, ...]` literals, with the span of the brackets.
    Lits(Vec<(Lit, ByteSpan)>, ByteSpan),
    /// A name (a list constant, or a list attribute).
    Name(Name),
    /// `name["key"]`: one list of a map constant.
    Key(Name, String, ByteSpan),
    /// `name "entity"`: every entity under `entity` in a hierarchy (the entity included).
    Under(Name, String, ByteSpan),
    /// `name value`: membership in a hierarchy under an entity given by a value (a request
    /// path or a def/template parameter, issue #13); becomes [`DataRef::Under`] when the value
    /// is a string literal after inlining, else [`DataRef::Closure`].
    Of(Name, Box<Expr>),
    /// The compiled form of [`DataRef::Of`] with a request value (made by `check::consts`):
    /// the hierarchy's name, every (descendant, ancestor) pair of its reflexive transitive
    /// closure, sorted, and the value.
    Closure(Name, Vec<(String, String)>, Box<Expr>),
    /// `name[value]` after `in`: the list of map constant `name` under the key given by a
    /// value (a request path or a parameter, issue #13); becomes [`DataRef::Key`] when the
    /// value is a string literal after inlining, else a [`DataRef::Closure`] of the map's
    /// (element, key) pairs.
    KeyOf(Name, Box<Expr>),
}
