//! The parts of a bundle that compiled code and its helpers need, copied out of the bundle so
//! a [`super::JitSet`] owns everything its code points into.

use ipe_nostd::format::kind;
use ipe_nostd::read::{self, EnumTable, ListDecl, SymbolText};
use ipe_nostd::{Bundle, Str, Value};

use super::errcode;
use super::layout::Layout;

/// What the native code for reading a scalar accepts without calling
/// [`super::helpers::read_err`]: values with the kind's own tag and, for enums, strings
/// (resolved by symbol) whose rank is below the member count. Codegen emits its tag tests from
/// this, and [`Shapes::fast_accepts`] is the same predicate in Rust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FastRead {
    /// The tag of the declared kind's own variant.
    pub tag: u8,
    /// For enums: the tag of strings, read by symbol.
    pub by_symbol: Option<u8>,
    /// For timestamps and durations (issue #14): the accepted range of the int.
    pub range: Option<(i64, i64)>,
}

/// The [`FastRead`] of declared scalar kind `k` (`None` for a kind that is no scalar).
pub(crate) fn fast_read(l: &Layout, k: u8) -> Option<FastRead> {
    use ipe_nostd::time::{MAX_DURATION_MS, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS};
    let (tag, by_symbol, range) = match k {
        kind::STR => (l.tag_str, None, None),
        kind::INT | kind::QUANTITY => (l.tag_int, None, None),
        kind::BOOL => (l.tag_bool, None, None),
        kind::ENUM => (l.tag_enum, Some(l.tag_str), None),
        kind::TIME => (l.tag_int, None, Some((MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS))),
        kind::DURATION => (l.tag_int, None, Some((-MAX_DURATION_MS, MAX_DURATION_MS))),
        _ => return None,
    };
    Some(FastRead {
        tag,
        by_symbol,
        range,
    })
}

/// What the native code for checking a list slot accepts without calling
/// [`super::helpers::list_err`]: a list of records (its tag) of fewer than `limit` flattened
/// values, that is at most the declared maximum of records. A list of scalars always calls
/// the helper (its elements must be read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FastList {
    /// The tag of a list of records.
    pub tag: u8,
    /// `(max_len + 1) * stride`.
    pub limit: u64,
}

/// The [`FastList`] of list slot `sh` (`None`: always call the helper).
pub(crate) fn fast_list(l: &Layout, sh: SlotShape) -> Option<FastList> {
    kind::is_records(sh.kind).then(|| FastList {
        tag: l.tag_records,
        limit: (u64::from(sh.max_len) + 1) * u64::from(sh.fields.max(1)),
    })
}

/// The rank-table byte of a symbol that is no member of the enum.
pub(crate) const NO_RANK: u8 = u8::MAX;

/// The largest rank table [`Shapes::enum_ranks`] builds (bytes).
pub(crate) const RANK_TABLE_MAX: usize = 4096;

/// The rank table of an enum whose member symbols in rank order are `members` (empty when it
/// would exceed [`RANK_TABLE_MAX`] bytes or a rank does not fit below [`NO_RANK`]).
fn rank_table(members: &[u32]) -> Box<[u8]> {
    use ipe_nostd::value::NO_SYMBOL;
    let max = members.iter().copied().filter(|&m| m != NO_SYMBOL).max();
    let Some(len) = max.and_then(|m| usize::try_from(m).ok()).map(|m| m + 2) else {
        return Box::default();
    };
    if len > RANK_TABLE_MAX || members.len() >= usize::from(NO_RANK) {
        return Box::default();
    }
    let mut t = vec![NO_RANK; len];
    // The first member of a symbol wins, as in `read::enum_rank`'s scan.
    for (r, &m) in members.iter().enumerate().rev() {
        if let (Some(slot), Ok(r)) = (t.get_mut(m as usize), u8::try_from(r)) {
            if m != NO_SYMBOL {
                *slot = r;
            }
        }
    }
    t.into_boxed_slice()
}

/// One attribute slot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotShape {
    /// `format::kind`.
    pub kind: u8,
    /// Element kind of a list of scalars.
    pub elem: u8,
    /// Enum of the slot (or of its elements).
    pub enum_id: u16,
    /// First field record.
    pub first_field: u16,
    /// Field count of a list of records.
    pub fields: u16,
    /// Declared maximum list length.
    pub max_len: u32,
}

/// Bundle metadata owned by a compiled set.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    pub symbols: Vec<Box<str>>,
    pub slots: Vec<SlotShape>,
    /// Field records: (kind, enum).
    pub fields: Vec<(u8, u16)>,
    /// Member symbols of every enum, in rank order.
    pub enums: Vec<Vec<u32>>,
    /// Issue #15, session 14: the rank of every symbol up to the largest member symbol of
    /// each enum (one byte per symbol, [`NO_RANK`] for a symbol that is no member, and one
    /// last [`NO_RANK`] byte that a larger symbol reads), so native code reads a string's
    /// rank with one load; empty for an enum whose table would exceed [`RANK_TABLE_MAX`].
    pub enum_ranks: Vec<Box<[u8]>>,
    /// Sorted keys of every constant set.
    pub sets: Vec<Vec<i64>>,
    /// Constants: (kind, value).
    pub consts: Vec<(u8, i64)>,
    /// The bundle's regex DFAs (issue #14), validated once when the bundle was loaded and
    /// copied here (issue #15): `str.match` helpers search with them, never re-validating.
    pub regexes: Vec<regex_automata::dfa::sparse::DFA<Vec<u8>>>,
    /// The range table of every IP set (issue #14; empty for other sets).
    pub ip_tables: Vec<Box<[u8]>>,
    /// The bundle's integer range tables (issue #14, session 9: the `int_ranges` section).
    pub int_ranges: Box<[u8]>,
}

impl Shapes {
    pub(crate) fn of(bundle: &Bundle<'_>) -> Shapes {
        let symbols = (0..bundle.symbol_count())
            .map(|s| Box::<str>::from(bundle.symbol(s as u32)))
            .collect();
        let slots = (0..bundle.slot_count())
            .filter_map(|s| u16::try_from(s).ok())
            .map(|s| {
                let r = bundle.slot_rec(s);
                SlotShape {
                    kind: r.kind(),
                    elem: r.elem_kind(),
                    enum_id: r.enum_id(),
                    first_field: r.first_field(),
                    fields: r.field_count(),
                    max_len: r.max_len(),
                }
            })
            .collect();
        let fields = (0..bundle.field_count())
            .map(|f| {
                let r = bundle.field_rec(f);
                (r.kind(), r.enum_id())
            })
            .collect();
        let enums: Vec<Vec<u32>> = (0..bundle.enum_count())
            .filter_map(|e| u16::try_from(e).ok())
            .map(|e| bundle.enum_member_symbols(e).collect())
            .collect();
        let enum_ranks = enums.iter().map(|m| rank_table(m)).collect();
        let sets = (0..bundle.set_count())
            .filter_map(|s| u16::try_from(s).ok())
            .map(|s| bundle.set_keys(s).collect())
            .collect();
        let consts = (0..bundle.const_count())
            .filter_map(|c| u16::try_from(c).ok())
            .map(|c| {
                let r = bundle.const_rec(c);
                (r.kind(), r.value())
            })
            .collect();
        let ip_tables = (0..bundle.set_count())
            .filter_map(|s| u16::try_from(s).ok())
            .map(|s| Box::<[u8]>::from(bundle.ip_table(s)))
            .collect();
        Shapes {
            regexes: (0..bundle.dfas().len())
                .filter_map(|r| u16::try_from(r).ok())
                .filter_map(|r| bundle.dfas().get(r))
                .map(regex_automata::dfa::sparse::DFA::to_owned)
                .collect(),
            symbols,
            slots,
            fields,
            enums,
            enum_ranks,
            sets,
            consts,
            ip_tables,
            int_ranges: Box::from(bundle.int_ranges()),
        }
    }

    pub(crate) fn slot(&self, s: u16) -> SlotShape {
        self.slots
            .get(usize::from(s))
            .copied()
            .unwrap_or(SlotShape {
                kind: kind::BOOL,
                elem: 0,
                enum_id: 0,
                first_field: 0,
                fields: 0,
                max_len: 0,
            })
    }

    /// Kind and enum of field `f` of list-of-records slot `s`.
    pub(crate) fn field(&self, s: u16, f: u16) -> (u8, u16) {
        let i = usize::from(self.slot(s).first_field).wrapping_add(usize::from(f));
        self.fields.get(i).copied().unwrap_or((kind::BOOL, 0))
    }

    pub(crate) fn members(&self, e: u16) -> &[u32] {
        self.enums.get(usize::from(e)).map_or(&[], |v| v.as_slice())
    }

    /// The rank table of enum `e` (see [`Shapes::enum_ranks`]; empty when it has none).
    pub(crate) fn rank_table(&self, e: u16) -> &[u8] {
        self.enum_ranks.get(usize::from(e)).map_or(&[], |t| t)
    }

    pub(crate) fn set(&self, k: u16) -> &[i64] {
        self.sets.get(usize::from(k)).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn symbol(&self, sym: u32) -> &str {
        self.symbols.get(sym as usize).map_or("", |s| s)
    }

    /// The symbol of `text` in the string table (sorted: a binary search), or
    /// [`NO_SYMBOL`](ipe_nostd::value::NO_SYMBOL): `Bundle::intern`'s answer.
    pub(crate) fn intern(&self, text: &str) -> u32 {
        self.symbols
            .binary_search_by(|s| (**s).cmp(text))
            .ok()
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(ipe_nostd::value::NO_SYMBOL)
    }

    /// The rank of symbol `sym` in enum `e` ([`read::enum_rank`]).
    pub(crate) fn enum_rank(&self, e: u16, sym: u32) -> Option<u16> {
        read::enum_rank(self, e, Str { text: "", sym })
    }

    /// The error code of reading `v` as a scalar of kind `k` (enum `e`) when it is not a valid
    /// one, at location code `at`; [`errcode::OK`] when it is valid ([`read::scalar`]).
    /// The range table of IP set `set` (empty when there is none).
    pub(crate) fn ip_table(&self, set: u16) -> &[u8] {
        self.ip_tables.get(usize::from(set)).map_or(&[], |t| t)
    }

    pub(crate) fn read_err(&self, v: Value<'_>, k: u8, e: u16, at: u64) -> u64 {
        match read::scalar(self, v, k, e) {
            Ok(_) => errcode::OK,
            Err(kind) => at | errcode::kind_code(kind),
        }
    }

    /// Whether compiled code reading `v` as a scalar of kind `k` (enum `e`) accepts it on its
    /// native path ([`fast_read`]'s tag test and, for enums, the rank test) without a helper.
    #[cfg(test)]
    pub(crate) fn fast_accepts(&self, l: &Layout, k: u8, e: u16, v: &Value<'_>) -> bool {
        let Some(f) = fast_read(l, k) else {
            return false;
        };
        let tag = super::layout::tag(v);
        if let (Some((lo, hi)), Value::Int(i)) = (f.range, v) {
            return tag == f.tag && (lo..=hi).contains(i);
        }
        let Some(by_symbol) = f.by_symbol else {
            return tag == f.tag;
        };
        // The rank the native code computes: the payload, or the symbol's rank (at or
        // above the member count when it is none).
        let rank = match *v {
            Value::Enum(r) if tag == f.tag => u64::from(r),
            Value::Str(s) if tag == by_symbol => {
                self.enum_rank(e, s.sym).map_or(u64::MAX, u64::from)
            }
            _ => return false,
        };
        rank < self.members(e).len() as u64
    }

    /// Whether compiled code checking list slot `s` holding `v` accepts it on its native path
    /// ([`fast_list`]) without a helper.
    #[cfg(test)]
    pub(crate) fn fast_list_accepts(&self, l: &Layout, s: u16, v: &Value<'_>) -> bool {
        let len = match *v {
            Value::List(x) | Value::Records(x) => x.len() as u64,
            _ => 0,
        };
        fast_list(l, self.slot(s)).is_some_and(|f| super::layout::tag(v) == f.tag && len < f.limit)
    }

    /// The declaration of list slot `s`.
    pub(crate) fn list_decl(&self, s: u16) -> ListDecl {
        let sh = self.slot(s);
        ListDecl {
            kind: sh.kind,
            elem: sh.elem,
            enum_id: sh.enum_id,
            fields: sh.fields,
            max_len: sh.max_len,
        }
    }

    /// The elements and stride of list slot `s` holding `v`, or its error code
    /// ([`read::list`]).
    pub(crate) fn list<'v>(&self, s: u16, v: Value<'v>) -> Result<(&'v [Value<'v>], usize), u64> {
        read::list(self, self.list_decl(s), v)
            .map_err(|kind| errcode::at(s, None) | errcode::kind_code(kind))
    }
}

impl EnumTable for Shapes {
    fn enum_len(&self, e: u16) -> u32 {
        u32::try_from(self.members(e).len()).unwrap_or(u32::MAX)
    }

    fn symbol_rank(&self, e: u16, sym: u32) -> Option<u16> {
        self.members(e)
            .iter()
            .position(|&m| m == sym)
            .and_then(|i| u16::try_from(i).ok())
    }
}

impl SymbolText for Shapes {
    fn symbol_text(&self, sym: u32) -> &str {
        self.symbol(sym)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipe_nostd::value::NO_SYMBOL;
    use ipe_nostd::ErrKind;

    /// Which variant a value is; exhaustive, so a new variant must be added to the test.
    fn variant(v: &Value<'_>) -> usize {
        match v {
            Value::Missing => 0,
            Value::Invalid(_) => 1,
            Value::Bool(_) => 2,
            Value::Int(_) => 3,
            Value::Str(_) => 4,
            Value::Enum(_) => 5,
            Value::List(_) => 6,
            Value::Records(_) => 7,
            Value::Ip(_) => 8,
        }
    }
    const VARIANTS: usize = 9;

    #[test]
    fn issue12_jit_tag_predicate_matches_kernel() {
        let l = Layout::probe().expect("Value layout probe");
        // Enum 0: three members (ranked inline by compiled code), enum 1: twenty (ranked by
        // a helper), enum 2: none.
        let sh = Shapes {
            enums: vec![vec![4, 9, 2], (100..120).collect(), vec![]],
            ..Shapes::default()
        };
        let elems = [Value::Int(1), Value::Missing];
        let str_of = |sym| Value::Str(Str { text: "t", sym });
        let mut values = vec![
            Value::Missing,
            Value::Invalid(ErrKind::Missing),
            Value::Invalid(ErrKind::NotInEnum),
            Value::Bool(false),
            Value::Bool(true),
            Value::Int(0),
            Value::Int(-7),
            // Issue #14: the edges of the timestamp and duration ranges.
            Value::Int(ipe_nostd::time::MAX_TIMESTAMP_MS),
            Value::Int(ipe_nostd::time::MAX_TIMESTAMP_MS + 1),
            Value::Int(ipe_nostd::time::MIN_TIMESTAMP_MS),
            Value::Int(ipe_nostd::time::MIN_TIMESTAMP_MS - 1),
            Value::Int(-ipe_nostd::time::MAX_DURATION_MS),
            Value::Int(ipe_nostd::time::MAX_DURATION_MS + 1),
            Value::Int(i64::MIN),
            str_of(NO_SYMBOL),
            Value::Str(Str { text: "", sym: 0 }),
            Value::List(&elems),
            Value::List(&[]),
            Value::Records(&elems),
            Value::Ip([0, 0, 0xffff, 0x0a00_0001]),
        ];
        for sym in [0, 2, 4, 9, 99, 100, 119, 120] {
            values.push(str_of(sym));
        }
        for r in [0, 1, 2, 3, 19, 20, u16::MAX] {
            values.push(Value::Enum(r));
        }
        let mut seen = [false; VARIANTS];
        let mut accepted = 0;
        for v in &values {
            seen[variant(v)] = true;
            for (k, enums) in [
                (kind::STR, &[0u16][..]),
                (kind::INT, &[0]),
                (kind::BOOL, &[0]),
                (kind::ENUM, &[0, 1, 2]),
                (kind::TIME, &[0]),
                (kind::DURATION, &[0]),
            ] {
                for &e in enums {
                    let fast = sh.fast_accepts(&l, k, e, v);
                    let ok = read::scalar(&sh, *v, k, e).is_ok();
                    assert_eq!(fast, ok, "kind {k}, enum {e}, {v:?}");
                    accepted += usize::from(fast);
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "every Value variant is tried");
        // Not vacuous: strings, ints, bools, ranks and member strings are all accepted.
        assert!(accepted >= 10, "{accepted}");
        // List kinds are no scalar: native code never reads them as one.
        assert_eq!(fast_read(&l, kind::LIST), None);
        assert_eq!(fast_read(&l, kind::RECORDS), None);
    }

    #[test]
    fn issue12_jit_list_predicate_matches_kernel() {
        let l = Layout::probe().expect("Value layout probe");
        let slot = |kind, elem, fields, max_len| SlotShape {
            kind,
            elem,
            enum_id: 0,
            first_field: 0,
            fields,
            max_len,
        };
        let sh = Shapes {
            enums: vec![vec![4, 9]],
            slots: vec![
                slot(kind::RECORDS, 0, 2, 2),
                slot(kind::RECORDS, 0, 0, 1),
                slot(kind::RECORDS, 0, 3, 0),
                slot(kind::LIST, kind::INT, 0, 2),
                slot(kind::LIST, kind::ENUM, 0, 3),
            ],
            ..Shapes::default()
        };
        let vals = [
            Value::Int(1),
            Value::Missing,
            Value::Enum(1),
            Value::Bool(true),
            Value::Int(2),
            Value::Enum(0),
            Value::Int(3),
        ];
        let mut values = vec![
            Value::Missing,
            Value::Invalid(ErrKind::TooLong),
            Value::Int(0),
            Value::Str(Str { text: "x", sym: 4 }),
        ];
        for n in 0..=vals.len() {
            values.push(Value::List(&vals[..n]));
            values.push(Value::Records(&vals[..n]));
        }
        let mut accepted = 0;
        for s in 0..sh.slots.len() as u16 {
            let records = kind::is_records(sh.slot(s).kind);
            for v in &values {
                let fast = sh.fast_list_accepts(&l, s, v);
                let ok = sh.list(s, *v).is_ok();
                // Lists of records: exactly the kernel's valid values; lists of scalars
                // always ask the kernel.
                assert_eq!(fast, ok && records, "slot {s}, {v:?}");
                accepted += usize::from(fast);
            }
        }
        assert!(accepted >= 5, "{accepted}");
    }
}
