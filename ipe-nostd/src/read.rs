//! Reading request values by their declared kind: the one implementation of the rules every
//! runtime shares.
//!
//! The interpreter ([`crate::vm`]), the host's JIT helpers and slow paths and the host's trigger
//! index all read a [`Value`] through these kernels, so they cannot disagree on what a value
//! means: whether a scalar of a declared kind is valid and which [`ErrKind`] it is otherwise,
//! whether a list slot is valid and which element error it reports, the key a scalar has in
//! constant sets and index buckets, enum ranks and the string operators. (The compiler's
//! reference evaluator stays independent on purpose: it is the oracle these are tested
//! against.)
//!
//! The kernels are generic over where the bundle's tables live ([`EnumTable`],
//! [`SymbolText`]): a [`Bundle`] reads them in place, the JIT from its own copies.

use crate::bundle::Bundle;
use crate::format::{kind, MemberRec};
use crate::isa::StrOp;
use crate::value::{Str, Value, NO_SYMBOL};
use crate::vocab::{ErrKind, JsonKind, ValueKind};

/// The enums of a bundle, wherever they are stored.
pub trait EnumTable {
    /// Number of members of enum `e` (0 when there is no such enum).
    fn enum_len(&self, e: u16) -> u32;
    /// The rank of symbol `sym` among the members of enum `e`, if it is one; `sym` is never
    /// [`NO_SYMBOL`].
    fn symbol_rank(&self, e: u16, sym: u32) -> Option<u16>;
}

/// The string table of a bundle, wherever it is stored.
pub trait SymbolText {
    /// The text of symbol `sym` (empty when there is no such symbol).
    fn symbol_text(&self, sym: u32) -> &str;
}

impl EnumTable for Bundle<'_> {
    #[inline(always)]
    fn enum_len(&self, e: u16) -> u32 {
        self.enum_rec(e).member_count()
    }

    #[inline]
    fn symbol_rank(&self, e: u16, sym: u32) -> Option<u16> {
        let r = self.enum_rec(e);
        let (first, n) = (r.first_member() as usize, r.member_count() as usize);
        // The enum's records as one slice scanned in place (issue #15, session 12: the
        // per-record bounds and index checks were most of an enum read); a range outside the
        // section reads record by record as before (all-zero records past its end). The
        // firmware's `size` profile keeps only the record-by-record loop (same result).
        #[cfg(not(feature = "size"))]
        {
            let len = crate::format::MEMBER_LEN;
            let range = first
                .checked_mul(len)
                .and_then(|start| Some(start..start.checked_add(n.checked_mul(len)?)?));
            if let Some(recs) = range.and_then(|range| self.body.members.get(range)) {
                return recs
                    .chunks_exact(len)
                    .position(|rec| MemberRec::nth(rec, 0).symbol() == sym)
                    .and_then(|i| u16::try_from(i).ok());
            }
        }
        (0..n)
            .find(|&i| MemberRec::nth(self.body.members, first + i).symbol() == sym)
            .and_then(|i| u16::try_from(i).ok())
    }
}

impl SymbolText for Bundle<'_> {
    #[inline]
    fn symbol_text(&self, sym: u32) -> &str {
        self.symbol(sym)
    }
}

/// A valid scalar read from a request value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'v> {
    /// A string (equal by symbol when either side has one, by text otherwise).
    Str(Str<'v>),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An enum member, by rank.
    Enum(u16),
    /// An IP address (issue #14).
    Ip(crate::ip::Ip),
}

/// The value kind a kind byte declares in an error (unknown bytes read as lists, which no
/// verified scalar is).
#[inline(always)]
fn expected(k: u8) -> ValueKind {
    kind::value_kind(k).unwrap_or(ValueKind::List)
}

/// The rank of string `s` in enum `e`, if it is a member (a string outside the bundle's string
/// table never is).
#[inline(always)]
pub fn enum_rank<T: EnumTable + ?Sized>(t: &T, e: u16, s: Str<'_>) -> Option<u16> {
    if s.sym == NO_SYMBOL {
        None
    } else {
        t.symbol_rank(e, s.sym)
    }
}

/// Whether `rank` names a member of enum `e`.
#[inline(always)]
pub fn rank_in_range<T: EnumTable + ?Sized>(t: &T, e: u16, rank: u16) -> bool {
    u32::from(rank) < t.enum_len(e)
}

/// The common cases of [`scalar`] (a string or an integer of that kind), which need no table;
/// `None` means "ask [`scalar`]".
#[inline(always)]
pub fn scalar_fast<'v>(v: &Value<'v>, k: u8) -> Option<Scalar<'v>> {
    match (k, v) {
        (kind::STR, &Value::Str(s)) => Some(Scalar::Str(s)),
        (kind::INT | kind::QUANTITY, &Value::Int(i)) => Some(Scalar::Int(i)),
        #[cfg(feature = "time")]
        (kind::TIME, &Value::Int(i)) if crate::time::timestamp_ok(i) => Some(Scalar::Int(i)),
        #[cfg(feature = "time")]
        (kind::DURATION, &Value::Int(i)) if crate::time::duration_ok(i) => Some(Scalar::Int(i)),
        _ => None,
    }
}

/// Reads `v` as a scalar of declared kind `k` (a [`kind`] byte; enum `e` for enums), or the
/// reason it is not one: [`ErrKind::Missing`], the error an [`Value::Invalid`] carries,
/// [`ErrKind::NotInEnum`] for an enum rank or string that is no member, or
/// [`ErrKind::WrongType`].
#[inline]
pub fn scalar<'v, T: EnumTable + ?Sized>(
    t: &T,
    v: Value<'v>,
    k: u8,
    e: u16,
) -> Result<Scalar<'v>, ErrKind> {
    match (k, v) {
        (_, Value::Missing) => Err(ErrKind::Missing),
        (_, Value::Invalid(kind)) => Err(kind),
        (kind::STR, Value::Str(s)) => Ok(Scalar::Str(s)),
        (kind::INT | kind::QUANTITY, Value::Int(i)) => Ok(Scalar::Int(i)),
        (kind::QUANTITY, _) => Err(ErrKind::BadQuantity),
        (kind::BOOL, Value::Bool(b)) => Ok(Scalar::Bool(b)),
        (kind::ENUM, Value::Enum(r)) if rank_in_range(t, e, r) => Ok(Scalar::Enum(r)),
        (kind::ENUM, Value::Str(s)) => match enum_rank(t, e, s) {
            Some(r) => Ok(Scalar::Enum(r)),
            None => Err(ErrKind::NotInEnum),
        },
        (kind::ENUM, Value::Enum(_)) => Err(ErrKind::NotInEnum),
        // Issue #14: a host passes ms (the JSON readers convert text and seconds first). Without
        // the `time` family no verified bundle has these kinds.
        #[cfg(feature = "time")]
        (kind::TIME, Value::Int(i)) if crate::time::timestamp_ok(i) => Ok(Scalar::Int(i)),
        #[cfg(feature = "time")]
        (kind::TIME, Value::Int(_)) => Err(ErrKind::BadTimestamp),
        #[cfg(feature = "time")]
        (kind::DURATION, Value::Int(i)) if crate::time::duration_ok(i) => Ok(Scalar::Int(i)),
        #[cfg(feature = "time")]
        (kind::DURATION, Value::Int(_)) => Err(ErrKind::BadDuration),
        (kind::IP, Value::Ip(a)) => Ok(Scalar::Ip(a)),
        (_, v) => Err(ErrKind::WrongType {
            expected: expected(k),
            got: v.json_kind(),
        }),
    }
}

/// [`scalar`] over a bundle's enum table, for the reason renderer: one copy of `scalar` in
/// this crate (issue #15: the renderer's writers, generic over the writer, made a firmware
/// instantiate a second copy of the generic `scalar` in its own crate, 342 B of thumbv7m flash).
#[cfg_attr(feature = "size", inline(never))]
#[cfg_attr(not(feature = "size"), inline)]
pub(crate) fn bundle_scalar<'v>(
    b: &Bundle<'_>,
    v: Value<'v>,
    k: u8,
    e: u16,
) -> Result<Scalar<'v>, ErrKind> {
    scalar(b, v, k, e)
}

/// The key of a valid scalar in constant sets and trigger index buckets: its symbol id,
/// integer, 0/1 or rank; `None` for a string outside the bundle's string table, which no set
/// or bucket holds.
#[inline(always)]
pub fn key(s: &Scalar<'_>) -> Option<i64> {
    match *s {
        Scalar::Str(s) if s.sym != NO_SYMBOL => Some(i64::from(s.sym)),
        Scalar::Str(_) => None,
        Scalar::Int(i) => Some(i),
        Scalar::Bool(b) => Some(i64::from(b)),
        Scalar::Enum(r) => Some(i64::from(r)),
        // No integer set or bucket holds an address (ip sets are range tables).
        Scalar::Ip(_) => None,
    }
}

/// Whether the address `v` (read as declared kind [`kind::IP`]) is in the range table of IP
/// set `set` of `bundle`, or the reason it cannot be read (`in.ip.slot`, `in.ip.field`;
/// issue #14). One binary search, no allocation.
#[inline]
pub fn ip_in_set(table: &[u8], v: Value<'_>) -> Result<bool, ErrKind> {
    match v {
        Value::Missing => Err(ErrKind::Missing),
        Value::Invalid(k) => Err(k),
        Value::Ip(a) => Ok(crate::ip::table_contains(table, &a)),
        v => Err(ErrKind::WrongType {
            expected: ValueKind::Ip,
            got: v.json_kind(),
        }),
    }
}

/// The address a value of declared kind [`kind::IP`] holds, or the reason it cannot be read
/// (`cmp.ip.*`; issue #14): the same errors as [`ip_in_set`].
#[inline]
pub fn ip_value(v: Value<'_>) -> Result<crate::ip::Ip, ErrKind> {
    match v {
        Value::Missing => Err(ErrKind::Missing),
        Value::Invalid(k) => Err(k),
        Value::Ip(a) => Ok(a),
        v => Err(ErrKind::WrongType {
            expected: ValueKind::Ip,
            got: v.json_kind(),
        }),
    }
}

/// The key of the pair (`a`, `b`) of strings in a pair set ([`kind::PAIR`]): `a`'s symbol id
/// in the high 32 bits, `b`'s in the low 32 bits; `None` when either is not in the bundle's
/// string table (no pair set holds it). The interpreter and the JIT (which emits the same
/// packing) share it.
#[inline(always)]
pub fn pair_key(a: u32, b: u32) -> Option<i64> {
    if a == NO_SYMBOL || b == NO_SYMBOL {
        None
    } else {
        Some(((u64::from(a) << 32) | u64::from(b)) as i64)
    }
}

/// What a list slot declares (from its slot record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListDecl {
    /// [`kind::LIST`], [`kind::RECORDS`] or [`kind::MAP`] (any other kind reads as a wrong
    /// type).
    pub kind: u8,
    /// Element kind of a list of scalars.
    pub elem: u8,
    /// Enum of the elements of a list of enum members.
    pub enum_id: u16,
    /// Field count of a list of records.
    pub fields: u16,
    /// Maximum number of elements.
    pub max_len: u32,
}

/// The elements of a list's flattened values, `stride` values each, in order: what
/// `chunks_exact(stride)` gives (a partial element at the end is none), found without a
/// division. A `stride` of 0 reads as 1.
#[derive(Clone, Debug)]
pub struct Elements<'a, T> {
    rest: &'a [T],
    stride: usize,
}

impl<'a, T> Elements<'a, T> {
    /// The elements of `vals`, `stride` values each.
    #[inline(always)]
    pub fn new(vals: &'a [T], stride: usize) -> Self {
        Elements {
            rest: vals,
            stride: stride.max(1),
        }
    }
}

impl<'a, T> Iterator for Elements<'a, T> {
    type Item = &'a [T];

    #[inline(always)]
    fn next(&mut self) -> Option<&'a [T]> {
        let (e, rest) = self.rest.split_at_checked(self.stride)?;
        self.rest = rest;
        Some(e)
    }
}

/// [`list`]'s answer for a list of records `v` of declaration `d` that it accepts (no
/// longer than `d.max_len`), found inline; `None` for any other value or declaration
/// (issue #15, session 16: the count plan's common case without a call).
#[inline(always)]
pub fn records_fast<'v>(d: ListDecl, v: Value<'v>) -> Option<(&'v [Value<'v>], usize)> {
    match (d.kind, v) {
        (kind::RECORDS | kind::MAP, Value::Records(vals)) => {
            let stride = usize::from(d.fields).max(1);
            let max = (d.max_len as usize)
                .saturating_add(1)
                .saturating_mul(stride);
            (vals.len() < max).then_some((vals, stride))
        }
        _ => None,
    }
}

/// Checks list slot value `v` against its declaration: the flattened elements and their
/// stride (the field count of a list of records, at least 1; 1 for scalars), or the error.
///
/// The checks, in order: missing or invalid, not a list of the declared kind, longer than
/// `max_len`, and for a list of scalars the smallest error of any element (in [`ErrKind`]'s
/// order; a missing element reads as a wrong type `null`).
#[inline]
pub fn list<'v, T: EnumTable + ?Sized>(
    t: &T,
    d: ListDecl,
    v: Value<'v>,
) -> Result<(&'v [Value<'v>], usize), ErrKind> {
    let (vals, stride) = match (d.kind, v) {
        (_, Value::Missing) => return Err(ErrKind::Missing),
        (_, Value::Invalid(kind)) => return Err(kind),
        (kind::RECORDS | kind::MAP, Value::Records(v)) => (v, usize::from(d.fields).max(1)),
        (kind::LIST, Value::List(v)) => (v, 1),
        (_, v) => {
            return Err(ErrKind::WrongType {
                expected: ValueKind::List,
                got: v.json_kind(),
            })
        }
    };
    // `len / stride > max_len` without a division (issue #15, session 16): a hardware divide
    // per aggregate, invisible in instruction counts, is tens of cycles on a host. The
    // firmware keeps the division (Cortex-M3's `udiv` takes 2 to 12 cycles, and the
    // multiplication's overflow checks took more thumbv7m flash).
    #[cfg(not(feature = "size"))]
    let too_long = vals.len()
        >= (d.max_len as usize)
            .saturating_add(1)
            .saturating_mul(stride);
    #[cfg(feature = "size")]
    let too_long = vals.len() / stride > d.max_len as usize;
    if too_long {
        return Err(ErrKind::TooLong);
    }
    if d.kind == kind::LIST {
        let mut worst: Option<ErrKind> = None;
        for &v in vals {
            if let Err(e) = element(t, d, v) {
                worst = Some(smaller(worst, e));
            }
        }
        if let Some(e) = worst {
            return Err(e);
        }
    }
    Ok((vals, stride))
}

/// Element `v` of a list of scalars read as `d` declares (a missing element is a wrong type:
/// JSON `null`).
#[inline(always)]
fn element<'v, T: EnumTable + ?Sized>(
    t: &T,
    d: ListDecl,
    v: Value<'v>,
) -> Result<Scalar<'v>, ErrKind> {
    // The common elements (a string or an int of its declared kind) without the call to
    // `scalar` (issue #15, session 15: one call per element of `x in list`); not in the
    // firmware's `size` profile.
    #[cfg(not(feature = "size"))]
    if let Some(x) = scalar_fast(&v, d.elem) {
        return Ok(x);
    }
    let v = if matches!(v, Value::Missing) {
        Value::Invalid(ErrKind::WrongType {
            expected: expected(d.elem),
            got: JsonKind::Null,
        })
    } else {
        v
    };
    scalar(t, v, d.elem, d.enum_id)
}

/// The smaller of `worst` (if any) and `e`.
#[inline(always)]
fn smaller(worst: Option<ErrKind>, e: ErrKind) -> ErrKind {
    match worst {
        Some(w) if w <= e => w,
        _ => e,
    }
}

/// [`list`] and [`list_contains`] in one pass over the elements (issue #15: `x in list`
/// read every element twice, once to check the list and once to search it): whether list slot
/// value `v`, read as `d` declares, holds `needle` (`None`: the list is only checked). The
/// error is [`list`]'s, whether or not `needle` was found: an invalid element fails the whole
/// list, as it does for every other use of it.
pub fn list_find<T: EnumTable + ?Sized>(
    t: &T,
    d: ListDecl,
    v: Value<'_>,
    needle: Option<Scalar<'_>>,
) -> Result<bool, ErrKind> {
    let vals = match (d.kind, v) {
        (kind::LIST, Value::List(vals)) => vals,
        // Every other form (an error, records, a wrong type): the general read, then a search.
        _ => {
            let (vals, _) = list(t, d, v)?;
            return Ok(needle.is_some_and(|n| list_contains(t, d.elem, d.enum_id, vals, n)));
        }
    };
    if vals.len() > d.max_len as usize {
        return Err(ErrKind::TooLong);
    }
    let mut worst: Option<ErrKind> = None;
    let mut found = false;
    // A string sought in a list of strings (issue #15, session 16: `requester.name in
    // resource.owners`): each string element compared as `Str`'s `==`, without the read and
    // the `Scalar` comparison; any other element read as below.
    #[cfg(not(feature = "size"))]
    if let (kind::STR, Some(Scalar::Str(n))) = (d.elem, needle) {
        for &v in vals {
            match v {
                Value::Str(s) => found |= s == n,
                v => match element(t, d, v) {
                    Ok(x) => found |= x == Scalar::Str(n),
                    Err(e) => worst = Some(smaller(worst, e)),
                },
            }
        }
        return match worst {
            Some(e) => Err(e),
            None => Ok(found),
        };
    }
    for &v in vals {
        match element(t, d, v) {
            Ok(x) => found |= needle.is_some_and(|n| n == x),
            Err(e) => worst = Some(smaller(worst, e)),
        }
    }
    match worst {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// Whether the elements `vals` of a valid list of scalars of kind `elem` (enum `e`) hold
/// `needle`. (Out of line: one call per membership test, not per element.)
#[inline(never)]
pub fn list_contains<T: EnumTable + ?Sized>(
    t: &T,
    elem: u8,
    e: u16,
    vals: &[Value<'_>],
    needle: Scalar<'_>,
) -> bool {
    vals.iter()
        .any(|&v| scalar(t, v, elem, e).is_ok_and(|x| x == needle))
}

/// The text of a string: its own, or its symbol's when it has only a symbol (a constant).
#[inline(always)]
pub fn text<'t, T: SymbolText + ?Sized>(t: &'t T, s: &'t Str<'_>) -> &'t str {
    if s.text.is_empty() && s.sym != NO_SYMBOL {
        t.symbol_text(s.sym)
    } else {
        s.text
    }
}

/// A string operator applied to two strings, `a op b` over their texts (constants resolved
/// through their symbols; the operator itself is [`StrOp::test`]).
#[inline]
pub fn str_op<T: SymbolText + ?Sized>(t: &T, op: StrOp, a: Str<'_>, b: Str<'_>) -> bool {
    op.test(text(t, &a), text(t, &b))
}

/// `lower(a) op lower(b)` (`str.fold`, issue #14, session 9: both strings folded;
/// [`fold::test_both`](crate::fold::test_both)), constants resolved through their symbols.
#[inline]
pub fn str_fold<T: SymbolText + ?Sized>(t: &T, op: StrOp, a: Str<'_>, b: Str<'_>) -> bool {
    crate::fold::test_both(op, text(t, &a), text(t, &b))
}

/// `len(s)`: the number of Unicode scalar values (chars) of a string's text (constants
/// resolved through their symbols). Issue #14.
#[inline]
pub fn char_len<T: SymbolText + ?Sized>(t: &T, s: Str<'_>) -> i64 {
    let text = text(t, &s);
    // The `size` profile (issue #15) counts the bytes that start a char (every byte but UTF-8
    // continuation bytes `10xxxxxx`): the same count for any `str`, without `core`'s unrolled
    // `chars().count()` (316 B of thumbv7m flash).
    #[cfg(feature = "size")]
    let n = text.bytes().filter(|b| b & 0xC0 != 0x80).count();
    #[cfg(not(feature = "size"))]
    let n = text.chars().count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Enum 0: members `sym 10, sym 11, sym 12`; enum 1: no members. Symbols `0..20` read
    /// as `s<n>`.
    struct Tables;

    impl EnumTable for Tables {
        fn enum_len(&self, e: u16) -> u32 {
            if e == 0 {
                3
            } else {
                0
            }
        }
        fn symbol_rank(&self, e: u16, sym: u32) -> Option<u16> {
            assert_ne!(sym, NO_SYMBOL);
            (e == 0 && (10..13).contains(&sym)).then(|| (sym - 10) as u16)
        }
    }

    impl SymbolText for Tables {
        fn symbol_text(&self, sym: u32) -> &str {
            ["abc", "bcd", "", "xbcx"]
                .get(sym as usize)
                .copied()
                .unwrap_or("")
        }
    }

    fn s(text: &str, sym: u32) -> Str<'_> {
        Str { text, sym }
    }

    fn wrong(expected: ValueKind, got: JsonKind) -> ErrKind {
        ErrKind::WrongType { expected, got }
    }

    /// `len(s)` counts chars, not bytes, in every profile (the `size` profile counts the bytes
    /// that start a char: issue #15), for request texts and constants' symbols alike.
    #[test]
    fn issue15_char_len_counts_chars_in_every_profile() {
        let none = crate::value::NO_SYMBOL;
        for (text, n) in [
            ("", 0),
            ("abc", 3),
            ("\u{e9}t\u{e9}", 3),
            ("\u{65e5}\u{672c}", 2),
            ("a\u{1f389}b", 3),
            ("\u{10ffff}\u{7f}\u{80}\u{7ff}\u{800}", 5),
        ] {
            assert_eq!(char_len(&Tables, s(text, none)), n, "{text:?}");
            assert_eq!(text.chars().count(), n as usize, "{text:?}");
        }
        assert_eq!(char_len(&Tables, s("", 3)), 4);
    }

    #[test]
    fn issue12_scalar_reads_each_declared_kind() {
        let t = Tables;
        let str_v = Value::Str(s("x", 10));
        assert_eq!(scalar(&t, str_v, kind::STR, 0), Ok(Scalar::Str(s("x", 10))));
        assert_eq!(
            scalar(&t, Value::Int(-4), kind::INT, 0),
            Ok(Scalar::Int(-4))
        );
        assert_eq!(
            scalar(&t, Value::Bool(true), kind::BOOL, 0),
            Ok(Scalar::Bool(true))
        );
        // Enum members by rank and by symbol.
        assert_eq!(
            scalar(&t, Value::Enum(2), kind::ENUM, 0),
            Ok(Scalar::Enum(2))
        );
        assert_eq!(scalar(&t, str_v, kind::ENUM, 0), Ok(Scalar::Enum(0)));
        assert_eq!(
            scalar(&t, Value::Enum(3), kind::ENUM, 0),
            Err(ErrKind::NotInEnum)
        );
        assert_eq!(scalar(&t, str_v, kind::ENUM, 1), Err(ErrKind::NotInEnum));
        assert_eq!(
            scalar(&t, Value::Str(s("zz", NO_SYMBOL)), kind::ENUM, 0),
            Err(ErrKind::NotInEnum)
        );
        assert_eq!(
            scalar(&t, Value::Missing, kind::INT, 0),
            Err(ErrKind::Missing)
        );
        assert_eq!(
            scalar(&t, Value::Invalid(ErrKind::TooLong), kind::STR, 0),
            Err(ErrKind::TooLong)
        );
        assert_eq!(
            scalar(&t, Value::Int(1), kind::STR, 0),
            Err(wrong(ValueKind::Str, JsonKind::Int))
        );
        assert_eq!(
            scalar(&t, Value::Enum(0), kind::STR, 0),
            Err(wrong(ValueKind::Str, JsonKind::Str))
        );
        assert_eq!(
            scalar(&t, Value::List(&[]), kind::ENUM, 0),
            Err(wrong(ValueKind::Enum, JsonKind::List))
        );
        assert_eq!(
            scalar(&t, Value::Bool(false), kind::INT, 0),
            Err(wrong(ValueKind::Int, JsonKind::Bool))
        );
    }

    #[test]
    fn issue12_the_fast_path_agrees_with_the_full_read() {
        let t = Tables;
        let values = [
            Value::Missing,
            Value::Invalid(ErrKind::NotInEnum),
            Value::Bool(true),
            Value::Int(3),
            Value::Str(s("a", 11)),
            Value::Str(s("a", NO_SYMBOL)),
            Value::Enum(1),
            Value::List(&[]),
            Value::Records(&[]),
        ];
        for k in [kind::STR, kind::INT, kind::BOOL, kind::ENUM] {
            for v in values {
                if let Some(fast) = scalar_fast(&v, k) {
                    assert_eq!(scalar(&t, v, k, 0), Ok(fast), "{k} {v:?}");
                }
            }
        }
        assert!(scalar_fast(&Value::Str(s("a", 1)), kind::STR).is_some());
        assert!(scalar_fast(&Value::Int(1), kind::INT).is_some());
    }

    #[test]
    fn issue12_one_kind_converter_both_ways() {
        for k in [
            ValueKind::Str,
            ValueKind::Int,
            ValueKind::Bool,
            ValueKind::Enum,
            ValueKind::List,
        ] {
            assert_eq!(kind::value_kind(kind::from_value_kind(k)), Some(k));
        }
        assert_eq!(kind::value_kind(kind::RECORDS), Some(ValueKind::List));
        // Kind 6 is a map since issue 13 (iterated as a list of records); 7 is unknown.
        assert_eq!(kind::value_kind(kind::MAP), Some(ValueKind::List));
        assert_eq!(kind::value_kind(7), None);
        // An unknown declared kind reads every value as a wrong type "list".
        assert_eq!(
            scalar(&Tables, Value::Int(1), 9, 0),
            Err(wrong(ValueKind::List, JsonKind::Int))
        );
    }

    #[test]
    fn issue12_keys_are_symbols_integers_bits_and_ranks() {
        assert_eq!(key(&Scalar::Str(s("a", 7))), Some(7));
        assert_eq!(key(&Scalar::Str(s("a", NO_SYMBOL))), None);
        assert_eq!(key(&Scalar::Int(-9)), Some(-9));
        assert_eq!(key(&Scalar::Bool(true)), Some(1));
        assert_eq!(key(&Scalar::Bool(false)), Some(0));
        assert_eq!(key(&Scalar::Enum(4)), Some(4));
    }

    #[test]
    fn issue12_enum_ranks_by_symbol_and_range() {
        let t = Tables;
        assert_eq!(enum_rank(&t, 0, s("", 12)), Some(2));
        assert_eq!(enum_rank(&t, 0, s("", 9)), None);
        assert_eq!(enum_rank(&t, 0, s("x", NO_SYMBOL)), None);
        assert!(rank_in_range(&t, 0, 2));
        assert!(!rank_in_range(&t, 0, 3));
        assert!(!rank_in_range(&t, 1, 0));
    }

    #[test]
    fn issue12_list_checks_kind_length_and_smallest_element_error() {
        let t = Tables;
        let ints = ListDecl {
            kind: kind::LIST,
            elem: kind::INT,
            enum_id: 0,
            fields: 0,
            max_len: 3,
        };
        let ok = [Value::Int(1), Value::Int(2)];
        assert_eq!(list(&t, ints, Value::List(&ok)), Ok((&ok[..], 1)));
        assert_eq!(list(&t, ints, Value::Missing), Err(ErrKind::Missing));
        assert_eq!(
            list(&t, ints, Value::Invalid(ErrKind::TooLong)),
            Err(ErrKind::TooLong)
        );
        assert_eq!(
            list(&t, ints, Value::Int(1)),
            Err(wrong(ValueKind::List, JsonKind::Int))
        );
        // A list of records where scalars are declared is a wrong type, and vice versa.
        assert_eq!(
            list(&t, ints, Value::Records(&ok)),
            Err(wrong(ValueKind::List, JsonKind::List))
        );
        let long = [Value::Int(1); 4];
        assert_eq!(list(&t, ints, Value::List(&long)), Err(ErrKind::TooLong));
        // The smallest element error wins, whatever its position; a missing element is a
        // wrong type `null`.
        let bad = [Value::Missing, Value::Bool(true), Value::Str(s("a", 1))];
        assert_eq!(
            list(&t, ints, Value::List(&bad)),
            Err(wrong(ValueKind::Int, JsonKind::Str))
        );
        let bad = [Value::Int(3), Value::Missing];
        assert_eq!(
            list(&t, ints, Value::List(&bad)),
            Err(wrong(ValueKind::Int, JsonKind::Null))
        );
        let bad = [Value::Bool(true), Value::Invalid(ErrKind::Missing)];
        assert_eq!(list(&t, ints, Value::List(&bad)), Err(ErrKind::Missing));
        let enums = ListDecl {
            elem: kind::ENUM,
            ..ints
        };
        let bad = [Value::Enum(7), Value::Str(s("a", 11)), Value::Int(0)];
        assert_eq!(
            list(&t, enums, Value::List(&bad)),
            Err(wrong(ValueKind::Enum, JsonKind::Int))
        );
        let bad = [Value::Enum(7), Value::Str(s("a", 11))];
        assert_eq!(list(&t, enums, Value::List(&bad)), Err(ErrKind::NotInEnum));
        // Records: stride is the field count (at least 1), length counts records, fields
        // are not checked here.
        let recs = ListDecl {
            kind: kind::RECORDS,
            elem: 0,
            enum_id: 0,
            fields: 2,
            max_len: 2,
        };
        let four = [
            Value::Missing,
            Value::Int(1),
            Value::Bool(true),
            Value::Missing,
        ];
        assert_eq!(list(&t, recs, Value::Records(&four)), Ok((&four[..], 2)));
        let six = [Value::Missing; 6];
        assert_eq!(list(&t, recs, Value::Records(&six)), Err(ErrKind::TooLong));
        let none = ListDecl { fields: 0, ..recs };
        assert_eq!(
            list(&t, none, Value::Records(&four[..2])),
            Ok((&four[..2], 1))
        );
        assert_eq!(
            list(&t, recs, Value::List(&four)),
            Err(wrong(ValueKind::List, JsonKind::List))
        );
    }

    #[test]
    fn issue12_list_contains_compares_read_elements() {
        let t = Tables;
        let vals = [Value::Enum(0), Value::Str(s("b", 12))];
        assert!(list_contains(&t, kind::ENUM, 0, &vals, Scalar::Enum(2)));
        assert!(!list_contains(&t, kind::ENUM, 0, &vals, Scalar::Enum(1)));
        let strs = [Value::Str(s("q", NO_SYMBOL)), Value::Str(s("r", 4))];
        assert!(list_contains(
            &t,
            kind::STR,
            0,
            &strs,
            Scalar::Str(s("q", NO_SYMBOL))
        ));
        assert!(list_contains(
            &t,
            kind::STR,
            0,
            &strs,
            Scalar::Str(s("", 4))
        ));
        assert!(!list_contains(
            &t,
            kind::STR,
            0,
            &strs,
            Scalar::Str(s("r", NO_SYMBOL))
        ));
    }

    /// Issue #15, session 16: `Elements` is `chunks_exact` (a partial element at the end
    /// is none), `list`'s length check is `len / stride > max_len` and `records_fast` is
    /// `list`, for every length, stride and maximum around the edges.
    #[test]
    fn issue15_elements_and_the_length_check_need_no_division() {
        let vals = [Value::Int(0); 13];
        for len in 0..=vals.len() {
            for stride in 1..=5usize {
                let got = Elements::new(&vals[..len], stride);
                let want = vals[..len].chunks_exact(stride);
                assert_eq!(got.clone().count(), want.len(), "len {len} stride {stride}");
                for (g, w) in got.zip(want) {
                    assert_eq!(
                        g.as_ptr_range(),
                        w.as_ptr_range(),
                        "len {len} stride {stride}"
                    );
                }
                for max_len in 0..=4u32 {
                    let fields = u16::try_from(stride).unwrap();
                    let d = ListDecl {
                        kind: kind::RECORDS,
                        elem: kind::INT,
                        enum_id: 0,
                        fields,
                        max_len,
                    };
                    let too_long = len / stride > max_len as usize;
                    let r = list(&Tables, d, Value::Records(&vals[..len]));
                    // The count plan's inline read answers as `list` where it answers.
                    let fast = records_fast(d, Value::Records(&vals[..len]));
                    assert_eq!(fast, r.ok(), "len {len} stride {stride} max {max_len}");
                    assert_eq!(
                        matches!(r, Err(ErrKind::TooLong)),
                        too_long,
                        "len {len} stride {stride} max {max_len}"
                    );
                }
            }
        }
        assert_eq!(
            Elements::new(&vals[..3], 0).count(),
            3,
            "stride 0 reads as 1"
        );
    }

    /// `list_find` answers as `list` then `list_contains` did: the list's error whether or not
    /// the needle was found, the smallest error of several, the search only of a valid list.
    #[test]
    fn issue15_list_find_is_list_then_list_contains() {
        let t = Tables;
        let d = |elem, max_len| ListDecl {
            kind: kind::LIST,
            elem,
            enum_id: 0,
            fields: 0,
            max_len,
        };
        let needles = [
            None,
            Some(Scalar::Int(1)),
            Some(Scalar::Int(7)),
            Some(Scalar::Str(s("x", NO_SYMBOL))),
        ];
        let lists: [&[Value<'_>]; 5] = [
            &[Value::Int(1), Value::Int(2)],
            &[Value::Int(1), Value::Missing],
            &[
                Value::Int(1),
                Value::Bool(true),
                Value::Invalid(ErrKind::Missing),
            ],
            &[],
            &[Value::Int(3); 3],
        ];
        for vals in lists {
            for max_len in [2, 8] {
                for needle in needles {
                    let v = Value::List(vals);
                    let old = list(&t, d(kind::INT, max_len), v).map(|(vals, _)| {
                        needle.is_some_and(|n| list_contains(&t, kind::INT, 0, vals, n))
                    });
                    assert_eq!(list_find(&t, d(kind::INT, max_len), v, needle), old);
                }
            }
        }
        assert_eq!(
            list_find(
                &t,
                d(kind::INT, 8),
                Value::List(lists[1]),
                Some(Scalar::Int(1))
            ),
            Err(ErrKind::WrongType {
                expected: ValueKind::Int,
                got: JsonKind::Null
            })
        );
        assert_eq!(
            list_find(&t, d(kind::INT, 8), Value::Missing, None),
            Err(ErrKind::Missing)
        );
        assert_eq!(
            list_find(
                &t,
                d(kind::INT, 8),
                Value::List(lists[0]),
                Some(Scalar::Int(2))
            ),
            Ok(true)
        );
    }

    #[test]
    fn issue12_string_operators_resolve_symbols() {
        let t = Tables;
        // Symbol 0 is "abc", symbol 3 "xbcx"; a request text wins over its symbol.
        assert!(str_op(&t, StrOp::StartsWith, s("", 0), s("ab", NO_SYMBOL)));
        assert!(str_op(&t, StrOp::EndsWith, s("", 3), s("cx", NO_SYMBOL)));
        assert!(str_op(&t, StrOp::Contains, s("", 3), s("bc", NO_SYMBOL)));
        assert!(str_op(&t, StrOp::Contains, s("", 1), s("", 3)) == "bcd".contains("xbcx"));
        assert!(!str_op(&t, StrOp::Contains, s("", 0), s("", 3)));
        assert!(str_op(&t, StrOp::Contains, s("zzz", 0), s("", NO_SYMBOL)));
        assert!(!str_op(
            &t,
            StrOp::StartsWith,
            s("zzz", 0),
            s("ab", NO_SYMBOL)
        ));
        assert_eq!(text(&t, &s("", NO_SYMBOL)), "");
        assert_eq!(text(&t, &s("", 1)), "bcd");
    }
}
