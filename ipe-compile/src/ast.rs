//! The syntax tree produced by [`crate::parser`]: source structure with byte spans, before any
//! name resolution or typing.

use std::ops::Range;

/// A byte range in one source file.
pub type ByteSpan = Range<usize>;

/// An identifier or dotted name with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// The text.
    pub text: String,
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
    /// `policy Name: ...`.
    Policy(Box<Policy>),
}

/// One `path: type` line of a schema block.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaEntry {
    /// The declared attribute path.
    pub path: Name,
    /// Its declared type.
    pub ty: TypeExpr,
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
    },
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The policy name.
    pub name: Name,
    /// The normalized intent.
    pub intent: String,
    /// `triggers when` condition.
    pub trigger: Option<Expr>,
    /// `requires` or `denies`.
    pub body: Body,
    /// `metadata` entries.
    pub metadata: Vec<(Name, Lit)>,
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
}

/// A literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lit {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
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
        var: Name,
        /// The list path.
        list: Name,
        /// The filter.
        filter: Option<Box<Expr>>,
    },
    /// `a op b`.
    Cmp {
        /// Operator.
        op: CmpOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
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
    /// `a contains_all b`, `a contains_any b`, `a intersects b`, `a subset_of b`: a set
    /// operator between a list and a list path or a list literal.
    SetOp {
        /// Operator.
        op: SetOp,
        /// The left list.
        lhs: Box<Expr>,
        /// The right list.
        rhs: ListOperand,
    },
}

/// A set operator between two lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// `a contains_all b`: every element of `b` is in `a`.
    ContainsAll,
    /// `a contains_any b`: some element of `a` is in `b`.
    ContainsAny,
    /// `a intersects b`: the same as `contains_any`.
    Intersects,
    /// `a subset_of b`: every element of `a` is in `b`.
    SubsetOf,
}

impl SetOp {
    /// Every set operator with its keyword.
    pub const ALL: [(&'static str, SetOp); 4] = [
        ("contains_all", SetOp::ContainsAll),
        ("contains_any", SetOp::ContainsAny),
        ("intersects", SetOp::Intersects),
        ("subset_of", SetOp::SubsetOf),
    ];
}

/// The right operand of a set operator.
#[derive(Clone, Debug, PartialEq)]
pub enum ListOperand {
    /// A list path.
    Path(Name),
    /// A list literal `[l, ...]` with its span.
    Lits(Vec<(Lit, ByteSpan)>, ByteSpan),
}
