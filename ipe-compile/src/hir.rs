//! The checked program: every path resolved to a slot, every expression typed.
//!
//! This is the contract between the front end (parser + checker), the reference evaluator and
//! the bytecode lowering. Nothing here refers back to source syntax except spans and clause
//! texts kept for messages.

use ipe_nostd::{Effect, ValueKind};

/// A name or string held inline up to 24 bytes (the syntax tree's [`crate::ast::Text`]).
pub use crate::ast::Text;

/// Index into [`Program::slots`]. Slots are sorted by path, so comparing ids compares paths.
pub type SlotId = u16;

/// A byte range in one source file, for diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// Index into [`Program::files`].
    pub file: u16,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

/// A whole checked bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Source file names, in bundle order.
    pub files: Vec<String>,
    /// The decision when no policy applies (`Deny` when the source declares none).
    pub default: Effect,
    /// Every attribute the policies read, sorted by path (dense; `SlotId` indexes it).
    pub slots: Vec<Slot>,
    /// Policies in bundle order (file order, then source order).
    pub policies: Vec<Policy>,
    /// First-match groups, in bundle order (issue #13): each is a run of consecutive
    /// policies, its rules.
    pub groups: Vec<Group>,
}

/// An ordered first-match group: the first of its rules whose trigger is true (or an error)
/// decides for the group.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// Its intent (empty when none is given).
    pub intent: String,
    /// Index of its first rule in [`Program::policies`].
    pub first: usize,
    /// Number of rules (at least 1).
    pub len: usize,
}

/// One top-level attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    /// Path text ([`ipe_nostd::path`]), e.g. `resource.risk_level` or
    /// `metadata.labels["app.kubernetes.io/name"]`.
    pub path: String,
    /// Its type.
    pub ty: SlotType,
    /// The schema default of a scalar attribute (issue #13, `x: bool = false`): what the
    /// conditions read when it is missing, and what a default reason's ` (found ...)` part and
    /// `{#found}` show for it then.
    pub default: Option<Literal>,
}

/// A scalar type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scalar {
    /// String.
    Str,
    /// 64-bit signed integer.
    Int,
    /// Boolean.
    Bool,
    /// Ordered enum: members in rank order (index = rank).
    Enum(Vec<String>),
    /// A Kubernetes quantity (issue #14): read from a JSON string or number into an int of
    /// milli-units; typed as [`Scalar::Int`] in expressions.
    Quantity,
    /// A timestamp (issue #14): ms since the Unix epoch, an int at run time.
    Time,
    /// A duration (issue #14): ms, an int at run time.
    Duration,
    /// IP address (issue #14).
    Ip,
}

impl Scalar {
    /// The type of a value read from an attribute of this type: a quantity is an int
    /// (issue #14); every other scalar is itself.
    pub fn read_type(self) -> Scalar {
        match self {
            Scalar::Quantity => Scalar::Int,
            s => s,
        }
    }

    /// The value kind of this scalar.
    pub fn kind(&self) -> ValueKind {
        match self {
            Scalar::Str => ValueKind::Str,
            Scalar::Int => ValueKind::Int,
            Scalar::Bool => ValueKind::Bool,
            Scalar::Enum(_) => ValueKind::Enum,
            Scalar::Quantity => ValueKind::Quantity,
            Scalar::Time => ValueKind::Time,
            Scalar::Duration => ValueKind::Duration,
            Scalar::Ip => ValueKind::Ip,
        }
    }
}

/// The type of a top-level attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum SlotType {
    /// A scalar.
    Scalar(Scalar),
    /// A list of scalars (for `x in path`, `path.count` and aggregates binding its elements).
    List {
        /// Element type.
        elem: Scalar,
        /// Longest accepted list (default 256); longer is an invalid attribute.
        max_len: u32,
    },
    /// A list of records (for aggregates); also a map's entries (see [`SlotType::Map`]).
    Records {
        /// Element name declared in the schema for the seed form, if any.
        elem_name: Option<String>,
        /// Fields sorted by path (index = field id).
        fields: Vec<Field>,
        /// Longest accepted list (default 256); longer is an invalid attribute.
        max_len: u32,
    },
    /// `map of <scalar>` (issue 13): a JSON object read as a list of entries with the fields
    /// `key` (a string, field 0) and `value` (field 1), so aggregates iterate it like a list
    /// of records.
    Map {
        /// The entry fields: `key` then `value`.
        fields: Vec<Field>,
        /// Most entries accepted (default 256); more is an invalid attribute.
        max_len: u32,
    },
}

impl SlotType {
    /// The element fields of a list of records or the entry fields of a map.
    pub fn record_fields(&self) -> Option<&[Field]> {
        match self {
            SlotType::Records { fields, .. } | SlotType::Map { fields, .. } => Some(fields),
            _ => None,
        }
    }
}

/// One field of a list-of-records element.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Path text inside the element ([`ipe_nostd::path`]), e.g. `role` or `["app/x"]`.
    pub path: String,
    /// Its type.
    pub ty: Scalar,
}

/// A literal constant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Literal {
    /// A string (for `string` operands).
    Str(Text),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An enum member, already resolved to its rank in the enum of the other operand.
    Enum {
        /// Rank (index in the enum's member list).
        rank: u16,
        /// The member's name.
        name: String,
    },
}

impl Literal {
    /// The literal as a reason placeholder writes a value (`docs/LANGUAGE.md`, "Reasons with
    /// values"): strings raw, ints in decimal, bools `true`/`false`, enum members by name.
    pub fn placeholder_text(&self) -> String {
        match self {
            Literal::Str(s) => s.as_str().to_owned(),
            Literal::Int(n) => n.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Enum { name, .. } => name.clone(),
        }
    }
}

/// A checked policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Unique name.
    pub name: Text,
    /// Normalized intent (whitespace collapsed).
    pub intent: Text,
    /// Span of the name, for diagnostics.
    pub span: Span,
    /// The guard; `None` means the policy always applies.
    pub trigger: Option<Expr>,
    /// What the policy asks for.
    pub body: Body,
    /// `metadata` entries in source order.
    pub metadata: Vec<(String, Literal)>,
    /// The reason template, when the reason has placeholders (it then replaces the body's
    /// reason, which is `None`).
    pub template: Option<Vec<ReasonPart>>,
}

/// One part of a checked reason template (see `docs/LANGUAGE.md`, "Reasons with values").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReasonPart {
    /// Literal text.
    Text(String),
    /// The value of a top-level scalar attribute.
    Slot(SlotId),
    /// The value of a top-level scalar attribute with a schema default (issue #13): the
    /// default when the attribute is missing, as the conditions read it.
    SlotOr(SlotId, Literal),
    /// A field of the witness element of clause `clause` (a top-level `all` over `list`).
    Field {
        /// The clause (0-based, in source order).
        clause: u16,
        /// The list the clause's `all` iterates.
        list: SlotId,
        /// Index into that slot's `Records::fields`.
        field: u16,
    },
    /// A field of the witness of an `all` over several lists (issue #13), split into one
    /// clause per list: the field of whichever of these clauses failed (the first, in list
    /// order), `<none>` when another clause failed. One entry per list, in list order.
    FieldOf(Vec<WitnessField>),
    /// The count a failed count clause reports.
    Count,
    /// The attributes a failed comparison clause read, with their values (`{#found}`).
    Found,
    /// `{m[k]}` / `{m[k].f}` (issue #13, session 10): the value of the entry of request map
    /// `map` under the string in slot `key` (field `field`, as [`MapGet::field`]).
    MapEntry {
        /// The map slot ([`SlotType::Map`]).
        map: SlotId,
        /// The top-level string attribute holding the key.
        key: SlotId,
        /// The entry field shown: 1 for a map of scalars' value, a `value.<f>` field of a map
        /// of records.
        field: u16,
    },
    /// `{limits[c.name]}` / `{svc[c.name].port}` (issue #13, session 11): the value of the
    /// entry of request map `map` under the string field `key_field` of the witness element
    /// of clause `clause` (an `all` over `list`); `<none>` when another clause failed.
    WitnessEntry {
        /// The clause (0-based, in source order) whose witness holds the key.
        clause: u16,
        /// The list the clause's `all` iterates.
        list: SlotId,
        /// The string field of the element holding the key (index into `Records::fields`).
        key_field: u16,
        /// The map slot ([`SlotType::Map`]).
        map: SlotId,
        /// The entry field shown, as in [`ReasonPart::MapEntry`].
        field: u16,
    },
    /// `{M[y]}` / `{M[y].f}` with `M` a map constant (issue #13, session 11): the table's
    /// value under the string in slot `key` (a lookup table, as [`Lookup`]).
    ConstEntry {
        /// The top-level string attribute holding the key.
        key: SlotId,
        /// Every (key, value) row, sorted by key, the values of one type (not an enum).
        rows: Vec<(String, Literal)>,
    },
}

/// One list's field of a [`ReasonPart::FieldOf`] placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessField {
    /// The clause (0-based, in source order) whose `all` iterates `list`.
    pub clause: u16,
    /// The list.
    pub list: SlotId,
    /// Index into that slot's `Records::fields`.
    pub field: u16,
}

/// What a policy asks for once triggered.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `requires <clauses>`: each top-level `and` conjunct is one clause, in source order.
    Requires {
        /// The clauses.
        clauses: Vec<Clause>,
        /// `with reason "..."`, replacing the per-clause reason.
        reason: Option<String>,
    },
    /// `denies [with reason "..."]`.
    Denies {
        /// The reason, if given.
        reason: Option<String>,
    },
}

/// One top-level conjunct of a `requires` expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    /// The condition.
    pub expr: Expr,
    /// Source text canonically spaced ([`crate::fmt::canonical_text`]), for
    /// `requirement not met: <text>`.
    pub text: Text,
    /// True when the clause is a comparison with a `count` on one side: the reason then ends
    /// with ` (found N)`.
    pub reports_count: bool,
    /// True when the clause is one `all` whose witness (first false element) the policy's
    /// reason template names.
    pub witness: bool,
}

impl Clause {
    /// The `all` of a clause that is one `all` over a top-level list: `all(x in L ...)` itself,
    /// or its expansion for a list `L` declared `= []` (issue 13), `not has L or all(...)`
    /// (the `all` is then false exactly when the clause is).
    pub fn witness_all(&self) -> Option<&Aggregate> {
        match &self.expr {
            Expr::All(agg) if agg.within.is_none() => Some(agg),
            Expr::Or(xs) => match xs.as_slice() {
                [Expr::Not(has), Expr::All(agg)]
                    if agg.within.is_none() && **has == Expr::Has(Operand::Slot(agg.list)) =>
                {
                    Some(agg)
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// Something a comparison reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A top-level scalar attribute.
    Slot(SlotId),
    /// A field of the element bound by an enclosing aggregate. Over a list of scalars the
    /// element itself is field 0, its *self field* (`t` in `all(t in tags where ...)`).
    Field {
        /// Nesting level of the aggregate that binds it (0 = outermost aggregate).
        level: u8,
        /// The list slot that aggregate iterates (so messages can name `list[].field`).
        list: SlotId,
        /// Index into that slot's `Records::fields` (0, the self field, for a `List`).
        field: u16,
    },
    /// A constant.
    Lit(Literal),
    /// The number of elements of a list (records or scalars) whose filter holds
    /// (every element when `filter` is `None`). An int.
    Count(Box<Aggregate>),
    /// `count(x in l1, l2, ... [where F])` (issue #13): the sum of the counts of two or more
    /// aggregates, an int; an error when any of them is (the smallest error).
    CountSum(Vec<Aggregate>),
    /// Checked integer arithmetic over int operands (issue #14): one operand for the unary
    /// operators, two for the others. Never all literals (those are folded by the checker).
    Arith(ArithOp, Vec<Operand>),
    /// `len(x)` (issue #14): the number of chars of a string operand, an int; an error when
    /// the operand is. Never a literal (the checker folds those).
    Len(Box<Operand>),
    /// `M[y]` or `M[y].field` (issue #13): the value a map constant holds under the string
    /// `y`; a key the table does not hold is a missing-key error at `y`.
    Lookup(Box<Lookup>),
    /// Time arithmetic or a calendar part (issue #14): an int of ms, or a part's int.
    Time(Box<TimeOp>),
    /// `segment(x, sep, i)` (issue #14): a piece of a string attribute or element field.
    Segment(Box<Segment>),
    /// `m[k]` or `m[k].f` (issue #13): the value of a request map under a key read at run
    /// time; a map without that entry is a missing value (a missing-entry error at the map).
    MapGet(Box<MapGet>),
}

/// A request map read with a key known only at run time (issue #13, [`Operand::MapGet`]):
/// `metadata.labels[params.key]`, `ports[p.name].number`.
#[derive(Clone, Debug, PartialEq)]
pub struct MapGet {
    /// The map slot ([`SlotType::Map`]).
    pub map: SlotId,
    /// The key: any string operand (an attribute, an element's field, a bound map key).
    pub key: Operand,
    /// The entry field read: 1 for a map of scalars' value, the `value.<f>` field of a map of
    /// records.
    pub field: u16,
}

/// `segment(x, sep, i)` (issue #14, [`Operand::Segment`]): piece `index` of the string `x`
/// split on `sep` ([`ipe_nostd::segment::segment`]); `x`'s error, else a no-segment error at
/// `x` when there is no such piece.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// The string: a top-level string attribute or a string field of a bound element.
    pub x: Operand,
    /// The separator, not empty.
    pub sep: String,
    /// The piece, from 0 at the left; negative counts from the end (`-1` is the last).
    pub index: i64,
}

/// A lookup table read with a key read at run time (issue #13, [`Operand::Lookup`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// The key: a top-level string attribute or a string field of a bound element.
    pub key: Operand,
    /// Every (key, value) row, sorted by key, the values of one type (not an enum).
    pub rows: Vec<(String, Literal)>,
}

/// An arithmetic operator (issue #14).
pub use ipe_nostd::arith::ArithOp;

impl Operand {
    /// The error location of arithmetic over this operand: the smallest slot it reads (a
    /// top-level attribute, the list of an element field or of a count); `None` when it reads
    /// none. Every engine names an overflow or a division by zero at this slot.
    pub fn first_slot(&self) -> Option<SlotId> {
        match self {
            Operand::Slot(s) => Some(*s),
            Operand::Field { list, .. } => Some(*list),
            Operand::Lit(_) => None,
            Operand::Count(a) => Some(a.list),
            Operand::CountSum(aggs) => aggs.iter().map(|a| a.list).min(),
            Operand::Arith(_, args) => args.iter().filter_map(Operand::first_slot).min(),
            Operand::Lookup(l) => l.key.first_slot(),
            Operand::Time(op) => op
                .operands()
                .into_iter()
                .filter_map(Operand::first_slot)
                .min(),
            Operand::Len(x) => x.first_slot(),
            Operand::Segment(g) => g.x.first_slot(),
            Operand::MapGet(m) => Some(m.key.first_slot().map_or(m.map, |k| k.min(m.map))),
        }
    }

    /// Whether the operand is a count (`count(...)` over one list or several).
    pub fn is_count(&self) -> bool {
        matches!(self, Operand::Count(_) | Operand::CountSum(_))
    }
}

/// A calendar part of a timestamp (issue #14), each its own instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePart {
    /// `hour(t)`: 0 to 23.
    Hour,
    /// `weekday(t)`: ISO 8601, 1 (Monday) to 7 (Sunday).
    Weekday,
    /// `time_of_day(t)`: the duration since midnight.
    TimeOfDay,
}

impl TimePart {
    /// The function's name in sources.
    pub fn name(self) -> &'static str {
        match self {
            TimePart::Hour => "hour",
            TimePart::Weekday => "weekday",
            TimePart::TimeOfDay => "time_of_day",
        }
    }
}

/// Arithmetic and calendar parts on timestamps and durations (issue #14): ints of ms at run
/// time; see `docs/LANGUAGE.md`, "Time".
#[derive(Clone, Debug, PartialEq)]
pub enum TimeOp {
    /// `lhs + rhs` (`sub` false) or `lhs - rhs`.
    Arith {
        /// Subtraction.
        sub: bool,
        /// Left operand.
        lhs: Operand,
        /// Right operand.
        rhs: Operand,
    },
    /// A calendar part of `arg` in UTC (a fixed offset is already added to `arg`).
    Part {
        /// Which part.
        part: TimePart,
        /// The timestamp.
        arg: Operand,
    },
}

impl TimeOp {
    /// The operands it reads, left to right.
    pub fn operands(&self) -> Vec<&Operand> {
        match self {
            TimeOp::Arith { lhs, rhs, .. } => vec![lhs, rhs],
            TimeOp::Part { arg, .. } => vec![arg],
        }
    }
}

/// An aggregate over a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// The list slot iterated.
    pub list: SlotId,
    /// Nesting level of this aggregate (0 = not inside another aggregate's filter).
    pub level: u8,
    /// The filter, evaluated per element; `None` only for `count` (plain length).
    pub filter: Option<Box<Expr>>,
    /// For a nested list (issue #13): the level of the aggregate whose element holds it (as
    /// the field named by the last segment of `list`'s path `parent[].field`); `None` for a
    /// top-level list.
    pub within: Option<u8>,
}

/// `outer` followed by the relative path `inner`, in path text ([`ipe_nostd::path`]):
/// `list[]` + `role` is `list[].role`, `list[]` + `["a.b"]` is `list[]["a.b"]`.
pub fn joined(outer: &str, inner: &str) -> String {
    let mut s = String::with_capacity(outer.len() + inner.len() + 1);
    // Writing to a `String` cannot fail.
    let _ = ipe_nostd::path::write_joined(&mut s, outer, inner);
    s
}

/// Comparison and string operators: the instruction set's own operand types, so the
/// checked program and the bytecode name each operator once (the reference evaluator still
/// applies them with its own code: it is the oracle).
pub use ipe_nostd::isa::{CmpOp, StrOp};

/// A typed condition (evaluates to true, false or error).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A boolean literal used as a condition.
    Const(bool),
    /// A boolean attribute or field used as a condition.
    Truthy(Operand),
    /// `lhs op rhs`; both operands have the same type (`ty`).
    Cmp {
        /// Operator (ordered ones only on int and enum).
        op: CmpOp,
        /// Left operand.
        lhs: Operand,
        /// Right operand.
        rhs: Operand,
        /// The common type of both operands.
        ty: ValueKind,
    },
    /// `lhs in [set]`: literals of lhs's type, deduplicated.
    InSet {
        /// Tested operand.
        lhs: Operand,
        /// The constant set.
        set: Vec<Literal>,
    },
    /// `lhs in path` where the slot is a list of lhs's scalar type.
    InList {
        /// Tested operand.
        lhs: Operand,
        /// The list slot.
        list: SlotId,
    },
    /// `lhs starts_with|ends_with|contains rhs` on strings.
    Str {
        /// Operator.
        op: StrOp,
        /// Haystack.
        lhs: Operand,
        /// Needle.
        rhs: Operand,
    },
    /// `has path`: the attribute (or element field) is present. Never an error.
    Has(Operand),
    /// `not e`.
    Not(Box<Expr>),
    /// Conjunction of two or more conditions.
    And(Vec<Expr>),
    /// Disjunction of two or more conditions.
    Or(Vec<Expr>),
    /// `any(...)` / `list.any where ...`.
    Any(Aggregate),
    /// `all(...)` / `list.all where ...`.
    All(Aggregate),
    /// `lhs in e.field` where `e.field` is a nested list of lhs's scalar type (issue #13).
    InNested {
        /// Tested operand.
        lhs: Operand,
        /// The nested list's slot.
        list: SlotId,
        /// The level of the aggregate whose element holds the list.
        level: u8,
    },
    /// `lhs in H rhs` with `rhs` a request value (issue #13): whether the pair of strings
    /// (`lhs`, `rhs`) is in the hierarchy's reflexive transitive closure.
    InHierarchy {
        /// The tested entity.
        lhs: Operand,
        /// The entity it should be under.
        rhs: Operand,
        /// Every (descendant, ancestor) pair, `(e, e)` included, sorted.
        pairs: Vec<(String, String)>,
    },
    /// `lhs in [networks]` with `lhs` an `ip` attribute or element field (issue #14); also
    /// `lhs == "address"` (one address) and `is_v4(lhs)` (`::ffff:0:0/96`).
    InIp {
        /// The tested address (a slot or an element field of type `ip`).
        lhs: Operand,
        /// The networks as sorted, disjoint, merged `[first, last]` 128-bit ranges.
        ranges: Vec<(u128, u128)>,
    },
    /// A case-insensitive test the `lower.*` operators of [`Expr::Str`] (which fold `lhs` only)
    /// do not cover (issue #14, session 9): `lower(lhs) op lower(rhs)` for `op` one of
    /// `LowerEq`, `LowerStartsWith`, `LowerEndsWith`, `LowerContains` (both folded);
    /// `lower(lhs) like rhs` (`Like`, `rhs` a lower-case pattern literal, which folding leaves
    /// as it is); `lower(lhs) matches rhs` (`Matches`, `rhs` the regex literal).
    Fold {
        /// Operator.
        op: StrOp,
        /// The string folded.
        lhs: Operand,
        /// The other string (folded for the `Lower*` operators), the pattern or the regex.
        rhs: Operand,
    },
    /// `lhs in [ints and ranges]` over ints (issue #14, session 9): the inclusive ranges
    /// sorted, disjoint and non-adjacent (merged), a single int as `(v, v)`.
    InRanges {
        /// The tested int.
        lhs: Operand,
        /// The ranges.
        ranges: Vec<(i64, i64)>,
    },
}

#[cfg(test)]
mod tests {
    use super::{CmpOp, Expr, StrOp};

    /// The trigger of a one-policy bundle, checked and lowered, and its disassembly.
    fn trigger(cond: &str) -> (Expr, String) {
        let src = format!(
            "schema {{\n  n: int\n  s: string\n}}\ndefault allow\n\npolicy P:\n  \"t\"\n  \
             triggers when\n    {cond}\n  requires\n    n == 1\n"
        );
        let program = crate::compile_str(&[("t.ipe", src)]).expect("compiles");
        let expr = program.policies[0].trigger.clone().expect("has a trigger");
        let bytes = crate::lower::lower(&program).expect("lowers").bytes;
        let bundle = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
        let mut listing = String::new();
        ipe_nostd::disasm::disassemble(&mut listing, &bundle, bundle.policy(0).trigger, 0)
            .expect("lists");
        (expr, listing)
    }

    #[test]
    fn issue12_source_operators_are_the_isa_operands() {
        for op in [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ] {
            let (expr, listing) = trigger(&format!("n {} 3", op.symbol()));
            assert!(
                matches!(expr, Expr::Cmp { op: o, .. } if o == op),
                "{op:?}: {expr:?}"
            );
            assert!(
                listing.contains(&format!("cmp.slot.const {} slot", op.symbol())),
                "{op:?}: {listing}"
            );
        }
        for op in [StrOp::StartsWith, StrOp::EndsWith, StrOp::Contains] {
            let (expr, listing) = trigger(&format!("s {} \"a\"", op.keyword()));
            assert!(
                matches!(expr, Expr::Str { op: o, .. } if o == op),
                "{op:?}: {expr:?}"
            );
            assert!(
                listing.contains(&format!("str {}", op.keyword())),
                "{listing}"
            );
        }
    }
}
