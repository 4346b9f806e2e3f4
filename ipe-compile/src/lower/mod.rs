//! The compiler back end: lowers a checked [`Program`] into a verified bundle.
//!
//! Steps: intern every comparable string into the sorted symbol table, lay out slots, enums,
//! constants and sets, generate code per trigger and clause (conjuncts cheapest first), build
//! the trigger index, encode with postcard behind the header, and finally verify the bytes
//! with the device's own verifier ([`ipe_nostd::verify::seal`]), which also computes each
//! policy's cost bound and writes it, so nothing unverifiable is ever written.

mod code;
mod lists;
mod nested;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::BuildHasher;

// Issue #15: hashbrown's default hasher (foldhash) for the interning tables, not SipHash.
use hashbrown::HashMap;
use serde_bytes::Bytes;

use ipe_nostd::format::{
    body_kind, group, kind, meta_kind, part_kind, Body, BucketFields, ClauseFields, ConstFields,
    EnumFields, FieldFields, GroupFields, Header, MemberFields, MetaFields, PolicyFields,
    PolicyRefFields, ReasonPartFields, SetFields, SetKeyFields, SlotDefaultFields, SlotFields,
    Span, SymbolFields, HEADER_LEN, MAGIC, NONE_U16, NONE_U32,
};
use ipe_nostd::verify::VerifyError;
use ipe_nostd::{BundleError, Effect};

use crate::hir::{self, Body as PolicyBody, Expr, Literal, Operand, Program, Scalar, SlotType};
use code::CodeGen;

/// Why a checked program could not be lowered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LowerError {
    /// A code block or aggregate body exceeds the 64 KiB jump range.
    #[error("a policy's code is too large (over 65535 bytes in one block)")]
    CodeTooLarge,
    /// More constants, sets, slots, enums or policies than the format's 16-bit ids allow.
    #[error("too many {0} for one bundle (at most 65534)")]
    TooMany(&'static str),
    /// A policy's cost bound exceeds the budget.
    #[error("policy `{name}` may take up to {cost} steps, over the budget of {budget}")]
    OverBudget {
        /// The policy's name.
        name: String,
        /// Its cost bound (`u64::MAX` when it does not fit 64 bits).
        cost: u64,
        /// The budget.
        budget: u32,
    },
    /// The produced bundle failed verification: a compiler bug, reported rather than written.
    #[error("internal error: the generated bundle failed verification: {0}")]
    Verify(BundleError),
    /// A `matches` regex the checker accepted does not compile (a compiler bug).
    #[error("internal error: a checked regex does not compile: {0}")]
    Regex(String),
}

/// What `ipe compile` reports per policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyReport {
    /// Policy name.
    pub name: hir::Text,
    /// Bytes of bytecode (trigger and clauses).
    pub code_bytes: usize,
    /// Static bound on instructions executed per evaluation.
    pub cost: u32,
    /// The slot the trigger index files it under, if any.
    pub indexed_on: Option<hir::Text>,
}

/// A lowered bundle: its bytes and a per-policy report.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The bundle bytes (header + postcard body), already verified.
    pub bytes: Vec<u8>,
    /// One entry per policy, in bundle order.
    pub policies: Vec<PolicyReport>,
}

/// Most enums a bundle holds (the verifier's count; id `0xFFFF` means none).
const MAX_ENUMS: usize = u16::MAX as usize - 1;
/// Most constants, and most sets, a bundle holds (16-bit ids below `0xFFFF`).
const MAX_CONSTS: usize = u16::MAX as usize;

/// The id of the next record of a table holding `len` records, at most `max` in all.
fn id16(len: usize, max: usize, what: &'static str) -> Result<u16, LowerError> {
    if len >= max {
        return Err(LowerError::TooMany(what));
    }
    u16::try_from(len).map_err(|_| LowerError::TooMany(what))
}

/// Interned tables shared by all code blocks.
#[derive(Default)]
pub(crate) struct Tables {
    text: String,
    /// Each interned text's span in `text`, found by hashing the text itself (no owned key).
    text_ids: hashbrown::HashTable<Span>,
    text_hasher: hashbrown::DefaultHashBuilder,
    /// Each symbol's text (a span of `text`) and id, found by hashing the text (issue #15:
    /// no owned key per symbol).
    symbols: hashbrown::HashTable<(Span, u32)>,
    enums: Vec<Vec<String>>,
    consts: Vec<ConstFields>,
    const_ids: HashMap<ConstFields, u16>,
    sets: Vec<SetFields>,
    set_keys: Vec<i64>,
    set_ids: HashMap<(u8, u16, Vec<i64>), u16>,
    /// Enum id of each literal's enum, keyed by member list.
    enum_ids: HashMap<Vec<String>, u16>,
    /// IP range records (issue #14): every IP set's table, back to back.
    ip_ranges: Vec<(u128, u128)>,
    /// IP set ids by their ranges.
    ip_set_ids: HashMap<Vec<(u128, u128)>, u16>,
    /// `matches` regexes (issue #14): source text and serialized DFA, in table order.
    regexes: Vec<(String, Vec<u8>)>,
    regex_ids: HashMap<String, u16>,
    /// Integer range tables (issue #14, session 9): the `int_ranges` section's records, each
    /// table a header (`lo` its count) and its ranges.
    int_ranges: Vec<(i64, i64)>,
    /// The header record of each table, by its ranges.
    int_range_ids: HashMap<Vec<(i64, i64)>, u16>,
}

impl Tables {
    /// The index of regex `re` in the regex table, compiling it on first use.
    pub(super) fn regex(&mut self, re: &str) -> Result<u16, LowerError> {
        if let Some(&i) = self.regex_ids.get(re) {
            return Ok(i);
        }
        let dfa =
            crate::patterns::compile_regex(re).map_err(|e| LowerError::Regex(format!("{e:?}")))?;
        let i = u16::try_from(self.regexes.len()).map_err(|_| LowerError::TooMany("regexes"))?;
        self.regexes.push((re.to_owned(), dfa));
        self.regex_ids.insert(re.to_owned(), i);
        Ok(i)
    }

    /// The regex table's bytes (`ipe_nostd::regex`): each entry's text and DFA as postcard
    /// byte strings.
    fn regex_table(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (text, dfa) in &self.regexes {
            out.extend(postcard::to_allocvec(text.as_str()).unwrap_or_default());
            out.extend(postcard::to_allocvec(dfa.as_slice()).unwrap_or_default());
        }
        out
    }
}

/// The first 16 bytes of `s` (zeros past its end) as a big-endian number: texts in byte order
/// have their keys in the same order (equal keys say nothing).
fn prefix_key(s: &str) -> u128 {
    let mut key = [0u8; 16];
    let n = s.len().min(16);
    if let (Some(to), Some(from)) = (key.get_mut(..n), s.as_bytes().get(..n)) {
        to.copy_from_slice(from);
    }
    u128::from_be_bytes(key)
}

/// The text of span `r` of the interned `text`.
fn at<'t>(text: &'t str, r: &Span) -> &'t str {
    let start = r.off as usize;
    text.get(start..start + r.len as usize).unwrap_or("")
}

impl Tables {
    fn text(&mut self, s: &str) -> Span {
        let hash = self.text_hasher.hash_one(s);
        let (text, hasher) = (&self.text, &self.text_hasher);
        // One probe for a text seen or new (issue #15); a new text's span is where it goes.
        let entry =
            self.text_ids
                .entry(hash, |r| at(text, r) == s, |r| hasher.hash_one(at(text, r)));
        let r = match entry {
            hashbrown::hash_table::Entry::Occupied(e) => return *e.get(),
            hashbrown::hash_table::Entry::Vacant(e) => *e
                .insert(Span {
                    off: text.len() as u32,
                    len: s.len() as u32,
                })
                .get(),
        };
        self.text.push_str(s);
        r
    }

    fn sym(&self, s: &str) -> u32 {
        // Every string literal was interned before code generation.
        let hash = self.text_hasher.hash_one(s);
        self.symbols
            .find(hash, |(r, _)| at(&self.text, r) == s)
            .map_or(0, |&(_, id)| id)
    }

    /// Interns symbol `s` with id `id` (the last id given wins, as a map's insert); its text.
    fn add_symbol(&mut self, s: &str, id: u32) -> Span {
        let r = self.text(s);
        let hash = self.text_hasher.hash_one(s);
        let text = &self.text;
        if let Some(e) = self.symbols.find_mut(hash, |(r, _)| at(text, r) == s) {
            e.1 = id;
        } else {
            let hasher = &self.text_hasher;
            self.symbols
                .insert_unique(hash, (r, id), |(r, _)| hasher.hash_one(at(text, r)));
        }
        r
    }

    fn enum_id(&mut self, members: &[String]) -> Result<u16, LowerError> {
        if let Some(&id) = self.enum_ids.get(members) {
            return Ok(id);
        }
        let id = id16(self.enums.len(), MAX_ENUMS, "enums")?;
        self.enums.push(members.to_vec());
        self.enum_ids.insert(members.to_vec(), id);
        Ok(id)
    }

    fn key(&self, lit: &Literal) -> (u8, i64) {
        match lit {
            Literal::Str(s) => (kind::STR, i64::from(self.sym(s))),
            Literal::Int(i) => (kind::INT, *i),
            Literal::Bool(b) => (kind::BOOL, i64::from(*b)),
            Literal::Enum { rank, .. } => (kind::ENUM, i64::from(*rank)),
        }
    }

    fn push_const(&mut self, k: u8, v: i64, e: u16) -> Result<u16, LowerError> {
        let r = ConstFields {
            kind: k,
            value: v,
            enum_id: e,
        };
        // One hash and probe for a constant seen or new (issue #15).
        let next = self.consts.len();
        match self.const_ids.entry(r) {
            hashbrown::hash_map::Entry::Occupied(e) => Ok(*e.get()),
            hashbrown::hash_map::Entry::Vacant(e) => {
                let id = id16(next, MAX_CONSTS, "constants")?;
                e.insert(id);
                self.consts.push(r);
                Ok(id)
            }
        }
    }

    pub(crate) fn const_bool(&mut self, b: bool) -> Result<u16, LowerError> {
        self.push_const(kind::BOOL, i64::from(b), NONE_U16)
    }

    /// The constant for a literal, compared with an operand of type `ty` when known (an enum
    /// literal records that operand's enum).
    pub(crate) fn constant(
        &mut self,
        lit: &Literal,
        ty: Option<&Scalar>,
    ) -> Result<u16, LowerError> {
        let (k, v) = self.key(lit);
        let e = self.enum_of(k, ty, v)?;
        self.push_const(k, v, e)
    }

    /// The enum id recorded with an enum constant or set: the other operand's enum, or else
    /// any enum with enough members (ranks compare within one enum, which the checker
    /// guarantees; the id only lets the verifier bound the rank).
    fn enum_of(&mut self, k: u8, ty: Option<&Scalar>, max_rank: i64) -> Result<u16, LowerError> {
        if k != kind::ENUM {
            return Ok(NONE_U16);
        }
        if let Some(Scalar::Enum(members)) = ty {
            return self.enum_id(members);
        }
        let id = self
            .enums
            .iter()
            .position(|m| (m.len() as i64) > max_rank)
            .unwrap_or(0);
        u16::try_from(id).map_err(|_| LowerError::TooMany("enums"))
    }

    /// The pair set of a hierarchy's closure (issue #13, [`kind::PAIR`]): each pair's key is
    /// [`ipe_nostd::read::pair_key`] of its two symbols.
    pub(crate) fn pair_set(&mut self, pairs: &[(String, String)]) -> Result<u16, LowerError> {
        let mut keys: Vec<i64> = pairs
            .iter()
            .filter_map(|(d, a)| ipe_nostd::read::pair_key(self.sym(d), self.sym(a)))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let k = kind::PAIR;
        if let Some(&id) = self.set_ids.get(&(k, NONE_U16, keys.clone())) {
            return Ok(id);
        }
        let id = id16(self.sets.len(), MAX_CONSTS, "sets")?;
        self.sets.push(SetFields {
            kind: k,
            enum_id: NONE_U16,
            first_key: u32::try_from(self.set_keys.len())
                .map_err(|_| LowerError::TooMany("set keys"))?,
            key_count: u32::try_from(keys.len()).map_err(|_| LowerError::TooMany("set keys"))?,
        });
        self.set_keys.extend_from_slice(&keys);
        self.set_ids.insert((k, NONE_U16, keys), id);
        Ok(id)
    }

    /// A lookup table (issue #13, `lookup.slot`/`lookup.field`): the set of its keys and the
    /// first of its value constants, one per key in the set's (symbol) order, consecutive.
    pub(crate) fn lookup_table(
        &mut self,
        rows: &[(String, Literal)],
    ) -> Result<(u16, u16), LowerError> {
        let mut keyed: Vec<(i64, (u8, i64))> = rows
            .iter()
            .map(|(k, v)| (i64::from(self.sym(k)), self.key(v)))
            .collect();
        keyed.sort_unstable_by_key(|r| r.0);
        keyed.dedup_by_key(|r| r.0);
        let keys: Vec<i64> = keyed.iter().map(|r| r.0).collect();
        let first = id16(self.consts.len(), MAX_CONSTS, "constants")?;
        for &(_, (k, v)) in &keyed {
            id16(self.consts.len(), MAX_CONSTS, "constants")?;
            self.consts.push(ConstFields {
                kind: k,
                value: v,
                enum_id: NONE_U16,
            });
        }
        let id = id16(self.sets.len(), MAX_CONSTS, "sets")?;
        self.sets.push(SetFields {
            kind: kind::STR,
            enum_id: NONE_U16,
            first_key: u32::try_from(self.set_keys.len())
                .map_err(|_| LowerError::TooMany("set keys"))?,
            key_count: u32::try_from(keys.len()).map_err(|_| LowerError::TooMany("set keys"))?,
        });
        self.set_keys.extend_from_slice(&keys);
        Ok((id, first))
    }
    /// The integer range table of `ranges` (sorted, disjoint, non-adjacent; issue #14, session
    /// 9): the index of its header record in the `int_ranges` section.
    pub(crate) fn int_ranges(&mut self, ranges: &[(i64, i64)]) -> Result<u16, LowerError> {
        if let Some(&id) = self.int_range_ids.get(ranges) {
            return Ok(id);
        }
        let too_many = || LowerError::TooMany("integer ranges");
        let id = u16::try_from(self.int_ranges.len()).map_err(|_| too_many())?;
        let n = i64::try_from(ranges.len()).map_err(|_| too_many())?;
        self.int_ranges.push((n, 0));
        self.int_ranges.extend_from_slice(ranges);
        // Every record's index fits the section's `u16` count.
        if self.int_ranges.len() > usize::from(u16::MAX) {
            return Err(too_many());
        }
        self.int_range_ids.insert(ranges.to_vec(), id);
        Ok(id)
    }
    /// The IP set ([`kind::IP`], issue #14) of `ranges` (sorted, disjoint, merged): a set
    /// record naming its records in the `ip_ranges` section.
    pub(crate) fn ip_set(&mut self, ranges: &[(u128, u128)]) -> Result<u16, LowerError> {
        if let Some(&id) = self.ip_set_ids.get(ranges) {
            return Ok(id);
        }
        let id = id16(self.sets.len(), MAX_CONSTS, "sets")?;
        let too_many = || LowerError::TooMany("ip ranges");
        self.sets.push(SetFields {
            kind: kind::IP,
            enum_id: NONE_U16,
            first_key: u32::try_from(self.ip_ranges.len()).map_err(|_| too_many())?,
            key_count: u32::try_from(ranges.len()).map_err(|_| too_many())?,
        });
        self.ip_ranges.extend_from_slice(ranges);
        self.ip_set_ids.insert(ranges.to_vec(), id);
        Ok(id)
    }

    /// The constant set of `set`, tested against an operand of type `ty` (which gives an
    /// empty set its kind).
    pub(crate) fn set(&mut self, set: &[Literal], ty: Option<&Scalar>) -> Result<u16, LowerError> {
        let mut keys: Vec<i64> = set.iter().map(|l| self.key(l).1).collect();
        keys.sort_unstable();
        keys.dedup();
        let k = match (set.first(), ty) {
            (Some(l), _) => self.key(l).0,
            (None, Some(t)) => scalar_kind(t),
            (None, None) => kind::STR,
        };
        let max = keys.last().copied().unwrap_or(0);
        let e = self.enum_of(k, ty, max)?;
        if let Some(&id) = self.set_ids.get(&(k, e, keys.clone())) {
            return Ok(id);
        }
        let id = id16(self.sets.len(), MAX_CONSTS, "sets")?;
        self.sets.push(SetFields {
            kind: k,
            enum_id: e,
            first_key: self.set_keys.len() as u32,
            key_count: keys.len() as u32,
        });
        self.set_keys.extend_from_slice(&keys);
        self.set_ids.insert((k, e, keys), id);
        Ok(id)
    }
}

/// Every string `e` compares with, borrowed from the program where it is written there
/// (issue #15: no copy per literal).
fn collect_strings<'p>(e: &'p Expr, out: &mut Vec<Cow<'p, str>>) {
    let lit = |l: &'p Literal, out: &mut Vec<Cow<'p, str>>| {
        if let Literal::Str(s) = l {
            out.push(Cow::Borrowed(s));
        }
    };
    fn operand<'p>(o: &'p Operand, out: &mut Vec<Cow<'p, str>>) {
        match o {
            Operand::Lit(Literal::Str(s)) => out.push(Cow::Borrowed(s)),
            Operand::Count(a) => {
                if let Some(f) = &a.filter {
                    collect_strings(f, out);
                }
            }
            Operand::CountSum(aggs) => {
                for f in aggs.iter().filter_map(|a| a.filter.as_deref()) {
                    collect_strings(f, out);
                }
            }
            Operand::Arith(_, args) => args.iter().for_each(|a| operand(a, out)),
            Operand::Lookup(l) => {
                for (k, v) in &l.rows {
                    out.push(Cow::Borrowed(k));
                    if let Literal::Str(s) = v {
                        out.push(Cow::Borrowed(s));
                    }
                }
            }
            Operand::Len(x) => operand(x, out),
            Operand::MapGet(m) => operand(&m.key, out),
            Operand::Segment(g) => {
                out.push(Cow::Borrowed(&g.sep));
                // Issue #14: a piece of a map constant's value is a constant: every piece the
                // runtimes can cut is in the string table.
                out.extend(constant_pieces(g).into_iter().map(Cow::Owned));
                operand(&g.x, out);
            }
            _ => {}
        }
    }
    match e {
        // A regex is no symbol: its text lives in the regex table (issue #14).
        Expr::Str {
            op: ipe_nostd::isa::StrOp::Matches,
            lhs,
            ..
        }
        | Expr::Fold {
            op: ipe_nostd::isa::StrOp::Matches,
            lhs,
            ..
        } => operand(lhs, out),
        Expr::Cmp { lhs, rhs, .. } | Expr::Str { lhs, rhs, .. } | Expr::Fold { lhs, rhs, .. } => {
            operand(lhs, out);
            operand(rhs, out);
        }
        Expr::InSet { lhs, set } => {
            operand(lhs, out);
            set.iter().for_each(|l| lit(l, out));
        }
        Expr::InHierarchy { lhs, rhs, pairs } => {
            operand(lhs, out);
            operand(rhs, out);
            for (d, a) in pairs {
                out.push(Cow::Borrowed(d));
                out.push(Cow::Borrowed(a));
            }
        }
        Expr::InList { lhs, .. }
        | Expr::InIp { lhs, .. }
        | Expr::InRanges { lhs, .. }
        | Expr::InNested { lhs, .. }
        | Expr::Truthy(lhs)
        | Expr::Has(lhs) => operand(lhs, out),
        Expr::Not(e) => collect_strings(e, out),
        Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| collect_strings(e, out)),
        Expr::Any(a) | Expr::All(a) => {
            if let Some(f) = &a.filter {
                collect_strings(f, out);
            }
        }
        Expr::Const(_) => {}
    }
}

/// A string metadata value `s`: its kind and its text section span (offset, length << 32).
fn str_meta(t: &mut Tables, s: &str) -> (u8, i64) {
    let Span { off, len } = t.text(s);
    (meta_kind::STR, i64::from(off) | (i64::from(len) << 32))
}

fn scalar_kind(s: &Scalar) -> u8 {
    match s {
        Scalar::Str => kind::STR,
        Scalar::Int => kind::INT,
        Scalar::Bool => kind::BOOL,
        Scalar::Enum(_) => kind::ENUM,
        Scalar::Quantity => kind::QUANTITY,
        Scalar::Time => kind::TIME,
        Scalar::Duration => kind::DURATION,
        Scalar::Ip => kind::IP,
    }
}

/// The trigger conjunct the index files a policy under: `slot == literal` or
/// `slot in [literals]`, fewest keys first; with its position among the top-level conjuncts.
fn index_key(trigger: &Expr) -> Option<(u16, &[Literal], usize)> {
    let conjuncts: &[Expr] = match trigger {
        Expr::And(es) => es,
        e => std::slice::from_ref(e),
    };
    conjuncts
        .iter()
        .enumerate()
        .filter_map(|(at, c)| match c {
            Expr::Cmp {
                op: crate::hir::CmpOp::Eq,
                lhs: Operand::Slot(s),
                rhs: Operand::Lit(l),
                ..
            }
            | Expr::Cmp {
                op: crate::hir::CmpOp::Eq,
                lhs: Operand::Lit(l),
                rhs: Operand::Slot(s),
                ..
            } => Some((*s, std::slice::from_ref(l), at)),
            Expr::InSet {
                lhs: Operand::Slot(s),
                set,
            } if !set.is_empty() => Some((*s, set.as_slice(), at)),
            _ => None,
        })
        .min_by_key(|(_, keys, _)| keys.len())
}

/// The bytes of a section of records.
fn section<const N: usize>(records: impl IntoIterator<Item = [u8; N]>) -> Vec<u8> {
    records.into_iter().flatten().collect()
}

/// Lowers a checked program into verified bundle bytes, with the default cost budget
/// ([`ipe_nostd::verify::DEFAULT_MAX_COST`]).
pub fn lower(program: &Program) -> Result<Compiled, LowerError> {
    lower_with_max_cost(program, ipe_nostd::verify::DEFAULT_MAX_COST)
}

/// Lowers a checked program, refusing any policy whose cost bound exceeds `max_cost` steps
/// (the bundle is verified against that budget too).
pub fn lower_with_max_cost(program: &Program, max_cost: u32) -> Result<Compiled, LowerError> {
    lower_located(program, max_cost).map_err(|(_, e)| e)
}

/// [`lower_with_max_cost`], also naming the policy (its index) an error is about, when it
/// is about one.
pub fn lower_located(
    program: &Program,
    max_cost: u32,
) -> Result<Compiled, (Option<usize>, LowerError)> {
    let bundle_wide = |e| (None, e);
    let mut t = Tables::default();
    // Symbols: every string literal and enum member, sorted.
    let mut strings = Vec::new();
    for slot in &program.slots {
        let mut scalars: Vec<&Scalar> = Vec::new();
        match &slot.ty {
            SlotType::Scalar(s) | SlotType::List { elem: s, .. } => scalars.push(s),
            SlotType::Records { fields, .. } | SlotType::Map { fields, .. } => {
                scalars.extend(fields.iter().map(|f| &f.ty))
            }
        }
        for s in scalars {
            if let Scalar::Enum(m) = s {
                strings.extend(m.iter().map(|m| Cow::Borrowed(m.as_str())));
            }
        }
    }
    for p in &program.policies {
        if let Some(tr) = &p.trigger {
            collect_strings(tr, &mut strings);
        }
        if let PolicyBody::Requires { clauses, .. } = &p.body {
            clauses
                .iter()
                .for_each(|c| collect_strings(&c.expr, &mut strings));
        }
        // `{M[y]}` placeholders (session 11): their table's keys and string values.
        for part in p.template.iter().flatten() {
            if let hir::ReasonPart::ConstEntry { rows, .. } = part {
                for (k, v) in rows {
                    strings.push(Cow::Borrowed(k.as_str()));
                    if let Literal::Str(s) = v {
                        strings.push(Cow::Borrowed(s.as_str()));
                    }
                }
            }
        }
    }
    // Each text once before sorting (issue #15: most literals repeat across policies).
    let mut seen = hashbrown::HashSet::with_capacity(strings.len());
    strings.retain(|s| seen.insert(s.clone()));
    drop(seen);
    // Sorted by each text's first 16 bytes as a number, the texts compared only on a tie
    // (issue #15: the same order, most comparisons one integer comparison).
    // The sort moves 32-byte (key, index) pairs, not the texts (issue #15).
    let mut keyed: Vec<(u128, u32)> = strings
        .iter()
        .enumerate()
        .map(|(i, s)| (prefix_key(s), i as u32))
        .collect();
    let text_of = |i: u32| strings.get(i as usize).map_or("", |s| &**s);
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| text_of(a.1).cmp(text_of(b.1))));
    let strings: Vec<Cow<'_, str>> = keyed
        .iter()
        .filter_map(|&(_, i)| strings.get_mut(i as usize).map(std::mem::take))
        .collect();
    let mut symbols = Vec::with_capacity(strings.len());
    // The interning tables sized once (issue #15): every symbol, slot path and policy name,
    // intent and clause text at most (most are distinct).
    fn clause_texts(p: &hir::Policy) -> &[hir::Clause] {
        match &p.body {
            PolicyBody::Requires { clauses, .. } => clauses,
            PolicyBody::Denies { .. } => &[],
        }
    }
    let nclauses = program
        .policies
        .iter()
        .map(|p| clause_texts(p).len())
        .sum::<usize>();
    let texts = strings.len() + program.slots.len() + 3 * program.policies.len() + nclauses;
    // The text section's bytes, short of reasons, metadata and the like.
    let text_bytes = strings.iter().map(|s| s.len()).sum::<usize>()
        + program
            .policies
            .iter()
            .map(|p| {
                p.name.len()
                    + p.intent.len()
                    + clause_texts(p).iter().map(|c| c.text.len()).sum::<usize>()
            })
            .sum::<usize>();
    t.symbols = hashbrown::HashTable::with_capacity(strings.len());
    t.text_ids = hashbrown::HashTable::with_capacity(texts);
    t.text.reserve(text_bytes);
    for (i, s) in strings.iter().enumerate() {
        symbols.push(SymbolFields {
            text: t.add_symbol(s, i as u32),
        });
    }

    // Slots, fields and enums.
    if program.slots.len() >= usize::from(u16::MAX) {
        return Err(bundle_wide(LowerError::TooMany("attributes")));
    }
    let mut slots = Vec::new();
    let mut fields = Vec::new();
    let bound_lists = lists::bound_scalar_lists(program);
    for (id, slot) in program.slots.iter().enumerate() {
        let mut r = SlotFields {
            path: t.text(&slot.path),
            enum_id: NONE_U16,
            ..SlotFields::default()
        };
        match &slot.ty {
            SlotType::Scalar(s) => {
                r.kind = scalar_kind(s);
                if let Scalar::Enum(m) = s {
                    r.enum_id = t.enum_id(m).map_err(bundle_wide)?;
                }
            }
            SlotType::List { elem, max_len } => {
                r.kind = kind::LIST;
                r.elem_kind = scalar_kind(elem);
                if let Scalar::Enum(m) = elem {
                    r.enum_id = t.enum_id(m).map_err(bundle_wide)?;
                }
                r.max_len = *max_len;
                if u16::try_from(id).is_ok_and(|id| bound_lists.contains(&id)) {
                    // The self field an aggregate reads the elements through.
                    r.first_field = u16::try_from(fields.len())
                        .map_err(|_| bundle_wide(LowerError::TooMany("fields")))?;
                    r.field_count = 1;
                    fields.push(FieldFields {
                        path: t.text(""),
                        kind: r.elem_kind,
                        enum_id: r.enum_id,
                    });
                }
            }
            SlotType::Records {
                fields: fs,
                max_len,
                ..
            }
            | SlotType::Map {
                fields: fs,
                max_len,
            } => {
                r.kind = kind::RECORDS;
                if let SlotType::Map { fields: fs, .. } = &slot.ty {
                    // A map: its value's enum (if any) renders the map's `not one of` error.
                    r.kind = kind::MAP;
                    // A map of records (fields `value.<f>`, issue 13) has no map-wide enum.
                    let scalar_value = fs.get(1).filter(|f| f.path == "value");
                    if let Some(Scalar::Enum(m)) = scalar_value.map(|f| &f.ty) {
                        r.enum_id = t.enum_id(m).map_err(bundle_wide)?;
                    }
                }
                r.first_field = u16::try_from(fields.len())
                    .map_err(|_| bundle_wide(LowerError::TooMany("fields")))?;
                r.field_count = u16::try_from(fs.len())
                    .map_err(|_| bundle_wide(LowerError::TooMany("fields")))?;
                r.max_len = *max_len;
                for f in fs {
                    // A nested list (issue #13): its kind, and its slot in the enum id.
                    if let Some(n) = nested::nested_slot(&program.slots, slot, &f.path) {
                        let kind = match program.slots.get(usize::from(n)).map(|s| &s.ty) {
                            Some(SlotType::List { .. }) => kind::LIST,
                            _ => kind::RECORDS,
                        };
                        fields.push(FieldFields {
                            path: t.text(&f.path),
                            kind,
                            enum_id: n,
                        });
                        continue;
                    }
                    let enum_id = match &f.ty {
                        Scalar::Enum(m) => t.enum_id(m).map_err(bundle_wide)?,
                        _ => NONE_U16,
                    };
                    fields.push(FieldFields {
                        path: t.text(&f.path),
                        kind: scalar_kind(&f.ty),
                        enum_id,
                    });
                }
            }
        }
        slots.push(r);
    }

    // Code, policies, clauses, metadata.
    if program.policies.len() >= usize::from(u16::MAX) {
        return Err(bundle_wide(LowerError::TooMany("policies")));
    }
    let mut code = Vec::new();
    let mut policies = Vec::with_capacity(program.policies.len());
    let mut clauses = Vec::with_capacity(nclauses);
    let mut metadata = Vec::new();
    let mut reason_parts = Vec::new();
    let mut reports = Vec::with_capacity(program.policies.len());
    let mut groups: BTreeMap<u16, BTreeMap<i64, Vec<u16>>> = BTreeMap::new();
    let mut unindexed = Vec::new();
    // Each policy's place in a first-match group (issue #13; format version 2).
    let mut roles = vec![group::NONE; program.policies.len()];
    for g in &program.groups {
        for (k, role) in roles.iter_mut().skip(g.first).take(g.len).enumerate() {
            *role = if k == 0 { group::FIRST } else { group::NEXT };
        }
    }
    for (pid, p) in program.policies.iter().enumerate() {
        let role = roles.get(pid).copied().unwrap_or(group::NONE);
        let in_policy = |e| (Some(pid), e);
        let pid = pid as u16;
        let mut r = PolicyFields {
            name: t.text(&p.name),
            intent: t.text(&p.intent),
            reason: Span {
                off: NONE_U32,
                len: 0,
            },
            group: role,
            ..PolicyFields::default()
        };
        let start = code.len();
        // A first-match rule stays out of the trigger index: evaluation loops meet the
        // unindexed policies in id order, which is the group's order.
        let indexed = p
            .trigger
            .as_ref()
            .filter(|_| role == group::NONE)
            .and_then(index_key);
        if let Some(tr) = &p.trigger {
            let off = code.len();
            let mut g = CodeGen {
                tables: &mut t,
                slots: &program.slots,
                out: &mut code,
            };
            // The indexed conjunct leads the code: the verifier proves the index from it.
            g.trigger(tr, indexed.as_ref().map(|(_, _, at)| *at))
                .map_err(in_policy)?;
            r.trigger = Span {
                off: off as u32,
                len: (code.len() - off) as u32,
            };
        } else {
            r.trigger = Span {
                off: code.len() as u32,
                len: 0,
            };
        }
        r.first_clause = clauses.len() as u32;
        let reason = match &p.body {
            PolicyBody::Requires {
                clauses: cs,
                reason,
            } => {
                r.clause_count = u16::try_from(cs.len())
                    .map_err(|_| in_policy(LowerError::TooMany("clauses")))?;
                for c in cs {
                    let off = code.len();
                    let mut g = CodeGen {
                        tables: &mut t,
                        slots: &program.slots,
                        out: &mut code,
                    };
                    g.clause(&c.expr, c.reports_count).map_err(in_policy)?;
                    clauses.push(ClauseFields {
                        code: Span {
                            off: off as u32,
                            len: (code.len() - off) as u32,
                        },
                        text: t.text(&c.text),
                        reports_count: u8::from(c.reports_count),
                        witness: u8::from(c.witness),
                    });
                }
                reason
            }
            PolicyBody::Denies { reason } => {
                r.body_kind = body_kind::DENIES;
                reason
            }
        };
        if let Some(reason) = reason {
            r.reason = t.text(reason);
        }
        if let Some(template) = &p.template {
            let parts: Vec<ReasonPartFields> = template
                .iter()
                .map(|part| reason_parts_of(&mut t, part))
                .collect::<Result<Vec<_>, _>>()
                .map_err(in_policy)?
                .into_iter()
                .flatten()
                .collect();
            r.part_count = u16::try_from(parts.len())
                .map_err(|_| in_policy(LowerError::TooMany("reason template parts")))?;
            r.first_part = if parts.is_empty() {
                0
            } else {
                reason_parts.len() as u32
            };
            reason_parts.extend(parts);
        }
        r.first_meta = metadata.len() as u32;
        r.meta_count = u16::try_from(p.metadata.len())
            .map_err(|_| in_policy(LowerError::TooMany("metadata")))?;
        for (k, v) in &p.metadata {
            let key = t.text(k);
            let (kind, value): (u8, i64) = match v {
                Literal::Str(s) => str_meta(&mut t, s),
                Literal::Enum { name: s, .. } => str_meta(&mut t, s),
                Literal::Int(i) => (meta_kind::INT, *i),
                Literal::Bool(b) => (meta_kind::BOOL, i64::from(*b)),
            };
            metadata.push(MetaFields { key, kind, value });
        }
        // Index.
        match &indexed {
            Some((slot, keys, _)) => {
                let group = groups.entry(*slot).or_default();
                for k in *keys {
                    let key = t.key(k).1;
                    let bucket = group.entry(key).or_default();
                    if bucket.last() != Some(&pid) {
                        bucket.push(pid);
                    }
                }
            }
            None => unindexed.push(pid),
        }
        reports.push(PolicyReport {
            name: p.name.clone(),
            code_bytes: code.len() - start,
            cost: 0,
            indexed_on: indexed.map(|(s, _, _)| program.slots[usize::from(s)].path.as_str().into()),
        });
        policies.push(r);
    }

    // Index tables.
    let mut index_groups = Vec::new();
    let mut index_buckets = Vec::new();
    let mut index_policies: Vec<u16> = Vec::new();
    let push_ids = |ids: &[u16], out: &mut Vec<u16>| -> (u32, u32) {
        let first = out.len() as u32;
        out.extend_from_slice(ids);
        (first, ids.len() as u32)
    };
    for (slot, buckets) in &groups {
        let mut all: Vec<u16> = buckets.values().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        let first_bucket = index_buckets.len() as u32;
        let (first_policy, policy_count) = push_ids(&all, &mut index_policies);
        index_groups.push(GroupFields {
            slot: *slot,
            first_bucket,
            bucket_count: buckets.len() as u32,
            first_policy,
            policy_count,
        });
        for (key, ids) in buckets {
            let (first_policy, policy_count) = push_ids(ids, &mut index_policies);
            index_buckets.push(BucketFields {
                key: *key,
                first_policy,
                policy_count,
            });
        }
    }

    let mut enums = Vec::new();
    let mut members = Vec::new();
    for m in &t.enums {
        enums.push(EnumFields {
            first_member: members.len() as u32,
            member_count: m.len() as u32,
        });
        members.extend(m.iter().map(|name| MemberFields {
            symbol: t.sym(name),
        }));
    }
    let ids = |ids: &[u16]| {
        section(
            ids.iter()
                .map(|&policy| PolicyRefFields { policy }.to_bytes()),
        )
    };
    let symbols = section(symbols.iter().map(SymbolFields::to_bytes));
    let slots = section(slots.iter().map(SlotFields::to_bytes));
    let fields = section(fields.iter().map(FieldFields::to_bytes));
    let enums = section(enums.iter().map(EnumFields::to_bytes));
    let members = section(members.iter().map(MemberFields::to_bytes));
    let consts = section(t.consts.iter().map(ConstFields::to_bytes));
    let sets = section(t.sets.iter().map(SetFields::to_bytes));
    let set_keys = section(
        t.set_keys
            .iter()
            .map(|&key| SetKeyFields { key }.to_bytes()),
    );
    let clauses = section(clauses.iter().map(ClauseFields::to_bytes));
    let metadata = section(metadata.iter().map(MetaFields::to_bytes));
    let index_groups = section(index_groups.iter().map(GroupFields::to_bytes));
    let index_buckets = section(index_buckets.iter().map(BucketFields::to_bytes));
    let index_policies = ids(&index_policies);
    let unindexed_bytes = ids(&unindexed);
    let reason_parts = section(reason_parts.iter().map(ReasonPartFields::to_bytes));
    let regexes = t.regex_table();
    // Schema defaults of scalar attributes (issue #13), for default reasons: slot order.
    let mut defaults = Vec::new();
    for (id, slot) in program.slots.iter().enumerate() {
        if let (SlotType::Scalar(s), Some(d)) = (&slot.ty, &slot.default) {
            if crate::eval::shows_default(s) {
                defaults.push(SlotDefaultFields {
                    slot: u16::try_from(id)
                        .map_err(|_| bundle_wide(LowerError::TooMany("attributes")))?,
                    text: t.text(&d.placeholder_text()),
                });
            }
        }
    }
    let slot_defaults = section(defaults.iter().map(SlotDefaultFields::to_bytes));
    let ip_ranges = {
        let ranges: Vec<(ipe_nostd::ip::Ip, ipe_nostd::ip::Ip)> = t
            .ip_ranges
            .iter()
            .map(|&(lo, hi)| (ipe_nostd::ip::from_u128(lo), ipe_nostd::ip::from_u128(hi)))
            .collect();
        let mut out = Vec::with_capacity(ranges.len() * ipe_nostd::ip::RANGE_BYTES);
        ipe_nostd::ip::encode_table(&ranges, |b| out.extend_from_slice(b));
        out
    };
    let int_ranges = section(
        t.int_ranges
            .iter()
            .map(|&(lo, hi)| ipe_nostd::format::IntRangeFields { lo, hi }.to_bytes()),
    );

    let policies = section(policies.iter().map(PolicyFields::to_bytes));
    let body = Body {
        default: u8::from(program.default == Effect::Deny),
        text: &t.text,
        symbols: &symbols,
        slots: &slots,
        fields: &fields,
        enums: &enums,
        members: &members,
        consts: &consts,
        sets: &sets,
        set_keys: &set_keys,
        code: &code,
        policies: &policies,
        clauses: &clauses,
        metadata: &metadata,
        index_groups: &index_groups,
        index_buckets: &index_buckets,
        index_policies: &index_policies,
        unindexed: &unindexed_bytes,
        reason_parts: &reason_parts,
        ip_ranges: &ip_ranges,
        regexes: &regexes,
        slot_defaults: &slot_defaults,
        int_ranges: &int_ranges,
    };
    // One verification of the finished bytes, as any loader does, which computes each
    // policy's cost bound by the verifier's own cost model and writes it, then the checksum
    // (issue #15: no separate cost pass before it).
    let mut bytes = encode_unsealed(&body);
    let mut costs = vec![0; program.policies.len()];
    // The checksum by the `crc32c` crate: the CPU's CRC-32C instruction where it has one
    // (issue #15: ~4 instructions a byte with `crc`'s table), the same value.
    ipe_nostd::verify::seal_with_checksum(&mut bytes, max_cost, &mut costs, crc32c::crc32c)
        .map_err(|e| match e {
            BundleError::Verify(VerifyError::OverBudget {
                policy,
                cost,
                budget,
            }) => {
                let i = usize::from(policy);
                let name = program
                    .policies
                    .get(i)
                    .map_or_else(String::new, |p| p.name.as_str().to_owned());
                (Some(i), LowerError::OverBudget { name, cost, budget })
            }
            BundleError::Verify(e @ VerifyError::Code { policy, .. }) => (
                Some(usize::from(policy)),
                LowerError::Verify(BundleError::Verify(e)),
            ),
            e => bundle_wide(LowerError::Verify(e)),
        })?;
    for (report, cost) in reports.iter_mut().zip(costs) {
        report.cost = cost;
    }
    Ok(Compiled {
        bytes,
        policies: reports,
    })
}

/// The records of one reason template part: one, or for a witness field over several lists
/// (issue #13) one witness field part per list, each but the last flagged as continued
/// (`docs/bundle-format.md`, "Reason templates").
fn reason_parts_of(
    t: &mut Tables,
    part: &hir::ReasonPart,
) -> Result<Vec<ReasonPartFields>, LowerError> {
    if let hir::ReasonPart::ConstEntry { key, rows } = part {
        // Session 11: the lookup table `lookup.slot` reads, shared with it.
        let (set, konst) = t.lookup_table(rows)?;
        return Ok(vec![ReasonPartFields {
            kind: part_kind::CONST_ENTRY,
            clause: *key,
            operand: set,
            entry: konst,
            ..ReasonPartFields::default()
        }]);
    }
    let hir::ReasonPart::FieldOf(alts) = part else {
        return Ok(vec![reason_part(t, part)]);
    };
    let n = alts.len();
    Ok(alts
        .iter()
        .enumerate()
        .map(|(i, a)| ReasonPartFields {
            kind: part_kind::FIELD,
            clause: a.clause,
            operand: a.field,
            default: u8::from(i + 1 < n),
            ..ReasonPartFields::default()
        })
        .collect())
}

/// The record of one reason template part (`docs/bundle-format.md`, "Reason templates").
fn reason_part(t: &mut Tables, part: &hir::ReasonPart) -> ReasonPartFields {
    match part {
        hir::ReasonPart::Text(s) => ReasonPartFields {
            text: t.text(s),
            kind: part_kind::TEXT,
            ..ReasonPartFields::default()
        },
        hir::ReasonPart::Slot(s) => ReasonPartFields {
            kind: part_kind::SLOT,
            operand: *s,
            ..ReasonPartFields::default()
        },
        hir::ReasonPart::SlotOr(s, d) => ReasonPartFields {
            text: t.text(&d.placeholder_text()),
            kind: part_kind::SLOT,
            default: 1,
            operand: *s,
            ..ReasonPartFields::default()
        },
        hir::ReasonPart::Field { clause, field, .. } => ReasonPartFields {
            kind: part_kind::FIELD,
            clause: *clause,
            operand: *field,
            ..ReasonPartFields::default()
        },
        // `FieldOf` and `ConstEntry` are written by `reason_parts_of`; never reached.
        hir::ReasonPart::FieldOf(_) | hir::ReasonPart::ConstEntry { .. } => {
            ReasonPartFields::default()
        }
        hir::ReasonPart::Count => ReasonPartFields {
            kind: part_kind::COUNT,
            ..ReasonPartFields::default()
        },
        hir::ReasonPart::Found => ReasonPartFields {
            kind: part_kind::FOUND,
            ..ReasonPartFields::default()
        },
        hir::ReasonPart::MapEntry { map, key, field } => ReasonPartFields {
            kind: part_kind::MAP_ENTRY,
            clause: *key,
            operand: *map,
            entry: *field,
            ..ReasonPartFields::default()
        },
        // Session 11: the key is a string field of the clause's witness, its index in the
        // text range's offset (`docs/bundle-format.md`).
        hir::ReasonPart::WitnessEntry {
            clause,
            key_field,
            map,
            field,
            ..
        } => ReasonPartFields {
            text: ipe_nostd::format::Span {
                off: u32::from(*key_field),
                len: 0,
            },
            kind: part_kind::WITNESS_ENTRY,
            clause: *clause,
            operand: *map,
            entry: *field,
            ..ReasonPartFields::default()
        },
    }
}

/// Serializes a body behind the bundle header.
pub fn encode(body: &Body<'_>) -> Vec<u8> {
    let mut out = encode_unsealed(body);
    let header =
        Header::for_body_version(out.get(HEADER_LEN..).unwrap_or_default(), body.version());
    if let Some(place) = out.get_mut(..HEADER_LEN) {
        place.copy_from_slice(&header.write());
    }
    out
}

/// [`encode`] with the header's checksum left 0 ([`ipe_nostd::verify::seal`] writes it).
fn encode_unsealed(body: &Body<'_>) -> Vec<u8> {
    let tagged = ipe_nostd::bundle::tagged_sections(body);
    let trailing = !body.reason_parts.is_empty() || tagged.iter().any(|(_, s)| !s.is_empty());
    // One buffer, sized once: the header's place, the postcard struct, then the optional
    // trailing area (docs/bundle-format.md): `reason_parts` (empty only when a tagged section
    // follows), then each non-empty tagged section by tag, each a postcard byte string.
    // Serializing byte slices into a Vec cannot fail.
    let mut len = HEADER_LEN + size(body);
    if trailing {
        len += size(&Bytes::new(body.reason_parts));
        len += tagged
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(_, s)| 1 + size(&Bytes::new(s)))
            .sum::<usize>();
    }
    let mut out = Vec::with_capacity(len);
    out.resize(HEADER_LEN, 0);
    out = postcard::to_extend(body, out).unwrap_or_default();
    if trailing {
        out = postcard::to_extend(Bytes::new(body.reason_parts), out).unwrap_or_default();
        for (tag, section) in tagged.iter().filter(|(_, s)| !s.is_empty()) {
            out.push(*tag);
            out = postcard::to_extend(Bytes::new(section), out).unwrap_or_default();
        }
    }
    let header = Header {
        magic: MAGIC,
        version: body.version(),
        flags: 0,
        body_len: (out.len() - HEADER_LEN) as u32,
        crc: 0,
    };
    if let Some(place) = out.get_mut(..HEADER_LEN) {
        place.copy_from_slice(&header.write());
    }
    out
}

/// The length of `value`'s postcard encoding.
fn size<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    postcard::experimental::serialized_size(value).unwrap_or(0)
}

/// Every piece `segment` `g` can cut from a map constant's values (through nested `segment`s),
/// for the string table: the interpreter keeps such a piece as its symbol (issue #14).
fn constant_pieces(g: &hir::Segment) -> Vec<String> {
    let texts: Vec<String> = match &g.x {
        Operand::Lookup(l) => l
            .rows
            .iter()
            .filter_map(|(_, v)| match v {
                Literal::Str(s) => Some(s.as_str().to_owned()),
                _ => None,
            })
            .collect(),
        Operand::Segment(inner) => constant_pieces(inner),
        _ => return Vec::new(),
    };
    texts
        .iter()
        .filter_map(|t| ipe_nostd::segment::segment(t, &g.sep, g.index).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15, session 19: the compiler's checksum (the `crc32c` crate) is the format's
    /// CRC-32C (`format::CRC`), byte for byte.
    #[test]
    fn issue15_crc32c_crate_matches_the_format_checksum() {
        // Every length up to 1 KiB (the hardware path's 8-byte steps and their tails) at
        // three alignments, over bytes of a simple generator.
        let mut x = 0x9e37_79b9_u32;
        let data: Vec<u8> = (0..1100)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for start in 0..3 {
            for len in 0..1024 {
                let b = &data[start..start + len];
                assert_eq!(
                    crc32c::crc32c(b),
                    ipe_nostd::format::CRC.checksum(b),
                    "{len}"
                );
            }
        }
    }

    /// `serde_bytes` writes a byte section as postcard wrote the sequence of `u8` before it
    /// (a varint length, then the bytes), across the varint's 1-, 2- and 3-byte lengths; and
    /// `encode`'s one buffer holds the header of its body and the body, which decodes back.
    #[test]
    fn sections_encode_as_before_and_the_body_decodes_back() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + 3) as u8).collect();
        let text = "é".repeat(70);
        let lens = [0, 1, 127, 128, 129, 300, 16_383, 16_384, 20_000];
        for (k, &n) in lens.iter().enumerate() {
            let seq = data[..n].to_vec();
            assert_eq!(
                postcard::to_allocvec(Bytes::new(&seq)).expect("encodes"),
                postcard::to_allocvec(&seq).expect("encodes"),
                "length {n}"
            );
            let at = |d: usize| &data[..lens[(k + d) % lens.len()]];
            let body = Body {
                default: (k % 2) as u8,
                text: &text[..(n.min(140) / 2) * 2],
                symbols: &data[..n],
                slots: at(1),
                fields: at(2),
                enums: at(3),
                members: at(4),
                consts: at(5),
                sets: at(6),
                set_keys: at(7),
                code: at(8),
                policies: at(1),
                clauses: at(2),
                metadata: at(3),
                index_groups: at(4),
                index_buckets: at(5),
                index_policies: at(6),
                unindexed: at(7),
                reason_parts: at(8),
                ip_ranges: at(k % 2),
                regexes: &[],
                slot_defaults: at(2),
                int_ranges: at(3),
            };
            let bytes = encode(&body);
            let (head, rest) = bytes.split_at(HEADER_LEN);
            assert_eq!(
                Header::parse(head).expect("a header"),
                Header::for_body_version(rest, body.version())
            );
            let (decoded, _trailing): (Body<'_>, _) =
                postcard::take_from_bytes(rest).expect("decodes");
            let struct_only = Body {
                reason_parts: &[],
                ip_ranges: &[],
                regexes: &[],
                slot_defaults: &[],
                int_ranges: &[],
                ..body
            };
            assert_eq!(decoded, struct_only, "lengths from {n}");
        }
    }

    /// The one verification that seals a compiled bundle (issue #15) writes what the separate
    /// cost pass wrote before it: over every corpus file that compiles, each policy's bound
    /// is the sum of `block_cost` over its trigger and clauses, the checksum is the body's
    /// (the bytes load through `Bundle::from_bytes`), sealing the bytes again with the bounds
    /// and checksum cleared gives the same bytes, and a `costs` slice one short is refused.
    #[test]
    fn sealing_writes_the_cost_pass_bounds_and_the_checksum() {
        use ipe_nostd::format::{ClauseRec, PolicyRec, POLICY_LEN};
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
        let files = crate::bundle_files(&[corpus]).expect("the corpus");
        let mut sealed = 0;
        for file in files {
            let Ok((_, compiled)) = crate::compile_bundle_paths_with(
                std::slice::from_ref(&file),
                &crate::CompileOptions::default(),
                &mut |_| {},
            ) else {
                continue;
            };
            let bytes = compiled.bytes;
            ipe_nostd::Bundle::from_bytes(&bytes).expect("loads");
            let body = &ipe_nostd::Bundle::decode_unverified(&bytes).expect("decodes");
            let n = PolicyRec::count(body.policies);
            for i in 0..n {
                let r = PolicyRec::nth(body.policies, i);
                let block = |s: Span| {
                    let code = &body.code[s.off as usize..(s.off + s.len) as usize];
                    if code.is_empty() {
                        0
                    } else {
                        ipe_nostd::verify::block_cost(body, code).expect("verified")
                    }
                };
                let clauses: u64 = (0..usize::from(r.clause_count()))
                    .map(|c| {
                        block(ClauseRec::nth(body.clauses, r.first_clause() as usize + c).code())
                    })
                    .sum();
                let cost = block(r.trigger()) + clauses;
                assert_eq!(
                    u64::from(r.cost_bound()),
                    cost,
                    "{} policy {i}",
                    file.display()
                );
                assert_eq!(compiled.policies[i].cost, r.cost_bound());
            }
            // Cleared bounds and checksum, sealed again.
            let at = (body.policies.as_ptr() as usize) - (bytes.as_ptr() as usize);
            let mut again = bytes.clone();
            for i in 0..n {
                let off = at + i * POLICY_LEN;
                let mut r = PolicyRec::nth(&again[off..off + POLICY_LEN], 0).fields();
                r.cost_bound = 0;
                r.put(&mut again[off..off + POLICY_LEN], 0)
                    .expect("in range");
            }
            let header = Header {
                crc: 0,
                ..Header::parse(&again).expect("a header")
            };
            again[..HEADER_LEN].copy_from_slice(&header.write());
            assert_ne!(again, bytes);
            let mut short = again.clone();
            let mut costs = vec![0; n];
            ipe_nostd::verify::seal(&mut again, ipe_nostd::verify::DEFAULT_MAX_COST, &mut costs)
                .expect("seals");
            assert_eq!(again, bytes, "{}", file.display());
            if n > 0 {
                let e = ipe_nostd::verify::seal(
                    &mut short,
                    ipe_nostd::verify::DEFAULT_MAX_COST,
                    &mut costs[1..],
                );
                assert!(
                    matches!(
                        e,
                        Err(BundleError::Verify(VerifyError::CostMismatch { policy, .. }))
                            if usize::from(policy) == n - 1
                    ),
                    "{e:?}"
                );
            }
            sealed += 1;
        }
        assert!(sealed > 50, "{sealed} bundles");
    }
}
