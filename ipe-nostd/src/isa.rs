//! The instruction set, defined once.
//!
//! Code is a byte string: an opcode byte followed by its operands, little-endian. Every code
//! block (a trigger, a requirement clause, an aggregate body) runs on an operand stack that
//! starts empty and must end holding exactly one condition (a `bool` or an error).
//!
//! Stack cells are typed statically by the verifier: `bool`, `int`, `str`, `enum`; any cell may
//! hold an *error* at run time instead (a missing or invalid attribute). Conditions are
//! three-valued: true, false, or error; the absorption rules are those of `docs/LANGUAGE.md`.
//! When two errors meet, the smaller one (by slot, field, kind) survives.
//!
//! Each row of [`for_each_opcode!`](crate::for_each_opcode) names the instruction's typed operands; the typed
//! instruction [`Instr`] with its decoder and encoder, and every operand length, are generated
//! from it. Operand types ([`CmpOp`], [`StrOp`], [`Level`], [`Slot`], [`Field`], [`Const`],
//! [`Set`], [`Offset`], [`BodyLen`]) have a fixed encoded width (`u8` or `u16`, little-endian).
//! Stack effects read `[before] -> [after]`. Jump distances count from the end of the jump
//! instruction; an aggregate's body is the `n` bytes right after the aggregate instruction.
//! See `docs/adding-an-opcode.md` for the checklist of a new row.

pub use crate::arith::ArithOp;

/// Calls `$m!` with the list of every opcode: `Name = byte, mnemonic { operand: Type, ... }`.
///
/// [`Opcode`], [`Instr`], mnemonics, operand lengths, the decoder and the encoder all come
/// from this one list.
#[macro_export]
macro_rules! for_each_opcode {
    ($m:ident) => {
        $m! {
            /// `load.slot slot` `[] -> [v]`: pushes the value of scalar slot `slot`, or an
            /// error if it is missing or not of the slot's declared type.
            LoadSlot = 0x01, "load.slot" { slot: Slot };
            /// `load.field level field` `[] -> [v]`: pushes field `field` of the element
            /// currently bound by the aggregate at nesting level `level`, or an error.
            LoadField = 0x02, "load.field" { level: Level, field: Field };
            /// `load.const konst` `[] -> [v]`: pushes constant `konst`.
            LoadConst = 0x03, "load.const" { konst: Const };
            /// `cmp op` `[a b] -> [a op b]`: compares two values of one type (ordered ops on
            /// int and enum only).
            Cmp = 0x04, "cmp" { op: CmpOp };
            /// `cmp.slot.const op slot konst` `[] -> [slot op konst]`: `load.slot slot`,
            /// `load.const konst`, `cmp op` in one step.
            CmpSlotConst = 0x05, "cmp.slot.const" { op: CmpOp, slot: Slot, konst: Const };
            /// `str op` `[a b] -> [a op b]`: string test.
            StrOp = 0x06, "str" { op: StrOp };
            /// `in.set set` `[a] -> [a in set]`: membership in constant set `set`.
            InSet = 0x07, "in.set" { set: Set };
            /// `in.slot.set slot set` `[] -> [slot in set]`: `load.slot slot`, `in.set set`.
            InSlotSet = 0x08, "in.slot.set" { slot: Slot, set: Set };
            /// `in.list list` `[a] -> [a in list]`: membership in list-of-scalars slot `list`;
            /// an error if the list is missing or invalid.
            InList = 0x09, "in.list" { list: Slot };
            /// `has slot` `[] -> [bool]`: whether slot `slot` is present. Never an error.
            Has = 0x0A, "has" { slot: Slot };
            /// `has.field level field` `[] -> [bool]`: whether field `field` of the element
            /// bound at level `level` is present. Never an error.
            HasField = 0x0B, "has.field" { level: Level, field: Field };
            /// `not` `[a] -> [not a]`; `not error` is the same error.
            Not = 0x0C, "not" {};
            /// `and` `[a b] -> [a and b]`: false if either is false, else the smaller error,
            /// else true.
            And = 0x0D, "and" {};
            /// `or` `[a b] -> [a or b]`: true if either is true, else the smaller error, else
            /// false.
            Or = 0x0E, "or" {};
            /// `jump.false by` `[a] -> [a]`: if `a` is false, continues `by` bytes after the
            /// end of this instruction (forward only), keeping `a`.
            JumpIfFalse = 0x0F, "jump.false" { by: Offset };
            /// `jump.true by` `[a] -> [a]`: if `a` is true, continues `by` bytes after the end
            /// of this instruction, keeping `a`.
            JumpIfTrue = 0x10, "jump.true" { by: Offset };
            /// `count list body` `[] -> [int]`: runs the next `body` bytes (a body, one level
            /// deeper) once per element of list slot `list` and counts the elements whose body
            /// is true; an error if the list is missing or invalid or any body is an error.
            /// With `body = 0`, the list's length.
            Count = 0x11, "count" { list: Slot, body: BodyLen };
            /// `any list body` `[] -> [bool]`: true if some element's body is true, else the
            /// smallest element error, else false. Stops at the first true.
            Any = 0x12, "any" { list: Slot, body: BodyLen };
            /// `all list body` `[] -> [bool]`: false if some element's body is false, else
            /// the smallest element error, else true. Stops at the first false.
            All = 0x13, "all" { list: Slot, body: BodyLen };
            /// `note.count` `[i] -> [i]`: records int `i` as the count a failed clause reports.
            NoteCount = 0x14, "note.count" {};
            /// `cmp.field.const op level field konst` `[] -> [field op konst]`:
            /// `load.field level field`, `load.const konst`, `cmp op` in one step.
            CmpFieldConst = 0x15, "cmp.field.const" { op: CmpOp, level: Level, field: Field, konst: Const };
            /// `cmp.field.slot op level field slot` `[] -> [field op slot]`:
            /// `load.field level field`, `load.slot slot`, `cmp op` in one step.
            CmpFieldSlot = 0x16, "cmp.field.slot" { op: CmpOp, level: Level, field: Field, slot: Slot };
            /// `in.field level field` `[a] -> [a in list]`: membership in the list of scalars
            /// that is field `field` of the element bound at level `level` (a *nested list*:
            /// the field record's kind is a list and its enum id names the nested list's slot
            /// record, which declares it); an error (naming that slot) if the list is missing
            /// or invalid. Issue #13.
            InField = 0x17, "in.field" { level: Level, field: Field };
            /// `count.field level field body` `[] -> [int]`: `count` over the nested list that
            /// is field `field` of the element bound at level `level` (see `in.field`).
            CountField = 0x18, "count.field" { level: Level, field: Field, body: BodyLen };
            /// `any.field level field body` `[] -> [bool]`: `any` over a nested list.
            AnyField = 0x19, "any.field" { level: Level, field: Field, body: BodyLen };
            /// `all.field level field body` `[] -> [bool]`: `all` over a nested list.
            AllField = 0x1A, "all.field" { level: Level, field: Field, body: BodyLen };
            /// `add` `[a b] -> [a + b]`: the sum of two ints (issue #13: `count` over several
            /// lists is the sum of the per-list counts); an error if either is, the smaller
            /// when both are. Counts are bounded by list lengths, so the sum never overflows
            /// (it saturates defensively).
            Add = 0x1B, "add" {};
            /// `in.pair.set set` `[a b] -> [(a, b) in set]`: whether the pair of strings
            /// (`a`, `b`) is a key of pair set `set` (kind [`PAIR`](crate::format::kind::PAIR):
            /// a hierarchy's transitive closure, `a` a descendant of `b` or `b` itself); false
            /// when either string is not in the bundle's string table; the smaller error if
            /// either is one. One binary search ([`read::pair_key`](crate::read::pair_key)).
            /// Issue #13.
            InPairSet = 0x1C, "in.pair.set" { set: Set };
            /// `arith op at` `[a b] -> [a op b]` (binary `op`) or `[a] -> [op a]` (`neg`,
            /// `abs`): checked 64-bit integer arithmetic ([`ArithOp::apply`]); an error if an
            /// operand is (the smaller when both are), else an overflow or division-by-zero
            /// error at slot `at` (the first attribute the expression reads) when the result
            /// has no value. Issue #14.
            Arith = 0x2E, "arith" { op: ArithOp, at: Slot };
            /// `lookup.slot slot set konst` `[] -> [v]`: the value of a lookup table (issue #13
            /// `M[y]`, a map constant indexed by a request value) under the string in scalar
            /// slot `slot`: set `set` (strings) holds the table's keys, and the value of its
            /// `i`-th smallest key is constant `konst + i`. One binary search; the slot's error
            /// if it is one; a key not in the table (or not in the string table) is the error
            /// [`MissingKey`](crate::ErrKind::MissingKey) at `slot`.
            LookupSlot = 0x1D, "lookup.slot" { slot: Slot, set: Set, konst: Const };
            /// `lookup.field level field set konst` `[] -> [v]`: `lookup.slot` with the key
            /// read from field `field` of the element bound at level `level` (the missing key
            /// error is at that field).
            LookupField = 0x1E, "lookup.field" { level: Level, field: Field, set: Set, konst: Const };
            /// `str.match re` `[a] -> [a matches re]`: whether string `a` matches regex `re` of
            /// the bundle's regex table somewhere (one DFA search, linear in `a`'s length; see
            /// [`regex`](crate::regex)); an error if `a` is one. Issue #14.
            StrMatch = 0x2A, "str.match" { re: Regex };
            /// `sub` `[a b] -> [a - b]` (issue #14: `t - d`, `t1 - t2`): the difference of two
            /// ints; an error if either is, the smaller when both are. Timestamps and durations
            /// are range-checked when read, so it never overflows (it saturates defensively).
            Sub = 0x36, "sub" {};
            /// `time.hour` `[t] -> [h]` (issue #14): the UTC hour (0 to 23) of timestamp `t`
            /// ([`time::hour`](crate::time::hour)); an error stays the error.
            TimeHour = 0x37, "time.hour" {};
            /// `time.weekday` `[t] -> [w]` (issue #14): the ISO weekday of `t` in UTC, 1 (Monday)
            /// to 7 (Sunday) ([`time::weekday`](crate::time::weekday)).
            TimeWeekday = 0x38, "time.weekday" {};
            /// `time.of_day` `[t] -> [d]` (issue #14): the ms since UTC midnight of `t`, a
            /// duration ([`time::time_of_day`](crate::time::time_of_day)).
            TimeOfDay = 0x39, "time.of_day" {};
            /// `str.len` `[s] -> [int]`: the number of Unicode scalar values (chars) of string
            /// `s` ([`read::char_len`](crate::read::char_len)); an error if `s` is one.
            /// Issue #14.
            StrLen = 0x2F, "str.len" {};
            /// `in.ip.slot slot set` `[] -> [slot in set]`: whether the address in slot
            /// `slot` (kind [`IP`](crate::format::kind::IP)) is in the range table of set
            /// `set` (kind `IP`); an error if the slot is missing or invalid. One binary search
            /// ([`read::ip_in_set`](crate::read::ip_in_set)). Issue #14.
            InIpSlot = 0x24, "in.ip.slot" { slot: Slot, set: Set };
            /// `in.ip.field level field set` `[] -> [field in set]`: `in.ip.slot` on field
            /// `field` (kind `IP`) of the element bound at level `level`. Issue #14.
            InIpField = 0x25, "in.ip.field" { level: Level, field: Field, set: Set };
            /// `seg.slot slot sep index` `[] -> [s]` (issue #14, `segment(x, sep, i)`): piece
            /// `index` (int constant; negative counts from the end) of the string in slot
            /// `slot` split on the non-empty string constant `sep`
            /// ([`segment::segment`](crate::segment::segment)), a slice of it; the slot's error
            /// if it is one, else [`NoSegment`](crate::ErrKind::NoSegment) at the slot when
            /// there is no such piece.
            SegSlot = 0x40, "seg.slot" { slot: Slot, sep: Const, index: Const };
            /// `seg.field level field sep index` `[] -> [s]`: `seg.slot` on string field
            /// `field` of the element bound at level `level` (errors at that field).
            SegField = 0x41, "seg.field" { level: Level, field: Field, sep: Const, index: Const };
            /// `has.seg.slot slot sep index` `[] -> [bool]`: whether `seg.slot` would not be
            /// missing (`segment(x, ..) ?? d`): false when the slot is missing, true when it is
            /// present but invalid, else whether the piece exists. Never an error.
            HasSegSlot = 0x42, "has.seg.slot" { slot: Slot, sep: Const, index: Const };
            /// `has.seg.field level field sep index` `[] -> [bool]`: `has.seg.slot` on a field.
            HasSegField = 0x43, "has.seg.field" { level: Level, field: Field, sep: Const, index: Const };
            /// `cmp.ip.slot.slot op a b` `[] -> [a op b]` (issue #14): compares the addresses in
            /// slots `a` and `b` (kind [`IP`](crate::format::kind::IP)) by their 128-bit value
            /// ([`ip::cmp`](crate::ip::cmp), IPv4 as IPv4-mapped); the smaller error if either
            /// is missing or invalid. One step.
            CmpIpSlotSlot = 0x46, "cmp.ip.slot.slot" { op: CmpOp, a: Slot, b: Slot };
            /// `cmp.ip.field.slot op level field slot` `[] -> [field op slot]`: `cmp.ip.slot.slot`
            /// with field `field` (kind `IP`) of the element bound at level `level` on the left.
            CmpIpFieldSlot = 0x47, "cmp.ip.field.slot" { op: CmpOp, level: Level, field: Field, slot: Slot };
            /// `cmp.ip.field.field op la fa lb fb` `[] -> [a op b]`: `cmp.ip.slot.slot` on field
            /// `fa` of the element bound at level `la` and field `fb` of the one at level `lb`.
            CmpIpFieldField = 0x48, "cmp.ip.field.field" { op: CmpOp, la: Level, fa: Field, lb: Level, fb: Field };
            /// `seg sep index level at` `[s] -> [piece]` (issue #14, `segment` over any string
            /// value: a piece, a map value): `seg.slot` on the string cell `s`, whose error
            /// stays; [`NoSegment`](crate::ErrKind::NoSegment) at field `at` of the element
            /// bound at level `level`, or at slot `at` when `level` is [`SEG_AT_SLOT`], when
            /// there is no such piece.
            Seg = 0x49, "seg" { sep: Const, index: Const, level: Level, at: Field };
            /// `has.seg sep index` `[s] -> [bool]`: whether `seg` would give a piece
            /// (`segment(..) ?? d`): false when `s` is a missing, no-segment or missing-key
            /// error, true for any other error (the read is that error), else whether the
            /// piece exists. Never an error.
            HasSeg = 0x4A, "has.seg" { sep: Const, index: Const };
            /// `map.get map field` `[k] -> [v]` (issue #13, `labels[k]`, a request map indexed
            /// by a value read at run time): field `field` (1 or more: the value, or a field of
            /// a map of records' value) of the entry of map slot `map` (kind
            /// [`MAP`](crate::format::kind::MAP)) whose key (field 0) is the string `k`
            /// ([`dynkey::find`](crate::dynkey::find), a scan of at most the map's `max`
            /// entries). `k`'s error and the map's (missing or invalid) meet as usual, the
            /// smaller surviving; no such entry is the error
            /// [`MissingEntry`](crate::ErrKind::MissingEntry) at `map`; a field of the entry is
            /// read as `load.field` reads it (its errors at that field).
            MapGet = 0x4E, "map.get" { map: Slot, field: Field };
            /// `map.has map field` `[k] -> [bool]` (`has labels[k]`, `labels[k] ?? d`): whether
            /// map slot `map` has an entry whose key is `k` and whose field `field` is present
            /// (always, for field 0, the key, and for a map of scalars' value; a value that is
            /// not a record has its fields present but unreadable, as a list element's); false
            /// when the map is
            /// missing; the smaller of `k`'s error and the map's invalid error when either is
            /// one.
            MapHas = 0x4F, "map.has" { map: Slot, field: Field };
            /// `str.fold op` `[a b] -> [bool]` (issue #14, session 9): `lower(a) op lower(b)`,
            /// both strings folded char by char as they are compared, nothing allocated
            /// ([`fold::test_both`](crate::fold::test_both)); `op` is `lower.eq`,
            /// `lower.starts_with`, `lower.ends_with`, `lower.contains` or `like` (`lower(a)
            /// like lower(b)`), any other is `BadOperand`. The smaller error if either is one.
            /// One step. Family `unicode`.
            StrFold = 0x50, "str.fold" { op: StrOp };
            /// `str.match.fold re` `[s] -> [bool]` (issue #14, session 9): `lower(s) matches`
            /// regex `re`: the DFA is fed the lower-case UTF-8 of each char of `s` in turn
            /// ([`regex::is_match_folded`](crate::regex::is_match_folded)), nothing allocated;
            /// an error if `s` is one. One step. Families `regex` and `unicode`.
            StrMatchFold = 0x51, "str.match.fold" { re: Regex };
            /// `in.range table` `[n] -> [bool]` (issue #14, session 9): whether the int `n` is
            /// in the integer range table at record `table` of the `int_ranges` section
            /// (sorted, disjoint, non-adjacent inclusive ranges, checked by the verifier; one
            /// binary search, [`ranges::contains`](crate::ranges::contains)); an error if `n`
            /// is one. One step.
            InRange = 0x52, "in.range" { table: Ranges };
            /// `in.ip set` `[a] -> [bool]` (issue #13, session 10: an `ip` field read through a
            /// dynamic key, `svc[k].addr in [..]`): whether the address cell `a` (pushed by
            /// `map.get` of an `ip` field, or `load.slot`/`load.field` of an `ip`) is in the IP
            /// range table of set `set` (kind [`IP`](crate::format::kind::IP)); an error if `a`
            /// is one. One step. Family `dynkey`.
            InIp = 0x53, "in.ip" { set: Set };
            /// `cmp.ip op` `[a b] -> [a op b]` (issue #13, session 10): the address cells `a`
            /// and `b` compared by their 128-bit value ([`ip::cmp`](crate::ip::cmp)); the
            /// smaller error if either is one. One step. Family `dynkey`.
            CmpIp = 0x54, "cmp.ip" { op: CmpOp };
        }
    };
}

/// The `level` operand of [`Instr::Seg`] that makes its `at` operand a slot, not a field.
pub const SEG_AT_SLOT: u8 = u8::MAX;

/// Why bytes do not decode to an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// A byte that is no opcode.
    BadOpcode(u8),
    /// The instruction's operands run past the end of the code.
    Truncated,
    /// An operand is outside its type's range (an operator byte that names no operator).
    BadOperand,
}

/// The type of one instruction operand, for tools that read or write listings generically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OperandKind {
    /// A [`CmpOp`].
    Cmp,
    /// A [`StrOp`].
    Str,
    /// An [`ArithOp`].
    Arith,
    /// A [`Level`].
    Level,
    /// A [`Slot`].
    Slot,
    /// A [`Field`].
    Field,
    /// A [`Const`].
    Const,
    /// A [`Set`].
    Set,
    /// An [`Offset`].
    Offset,
    /// A [`BodyLen`].
    BodyLen,
    /// A [`Regex`] (issue #14).
    Regex,
    /// A [`Ranges`] (issue #14, session 9).
    Ranges,
}

impl OperandKind {
    /// Encoded width in bytes.
    pub const fn width(self) -> usize {
        match self {
            OperandKind::Cmp | OperandKind::Str | OperandKind::Arith | OperandKind::Level => 1,
            _ => 2,
        }
    }

    /// The word a listing writes before the operand's number (`slot 3`), if any: operators
    /// are written as their symbol alone, jump distances as `-> target`.
    pub const fn keyword(self) -> Option<&'static str> {
        match self {
            OperandKind::Cmp | OperandKind::Str | OperandKind::Arith => None,
            OperandKind::Level => Some("level"),
            OperandKind::Slot => Some("slot"),
            OperandKind::Field => Some("field"),
            OperandKind::Const => Some("const"),
            OperandKind::Set => Some("set"),
            OperandKind::Offset => Some("->"),
            OperandKind::BodyLen => Some("body"),
            OperandKind::Regex => Some("re"),
            OperandKind::Ranges => Some("ranges"),
        }
    }
}

/// One decoded operand of any type, for tools that walk an instruction's operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OperandValue {
    /// A comparison operator.
    Cmp(CmpOp),
    /// A string operator.
    Str(StrOp),
    /// An arithmetic operator.
    Arith(ArithOp),
    /// An aggregate nesting level.
    Level(Level),
    /// A slot.
    Slot(Slot),
    /// A field of a list-of-records slot.
    Field(Field),
    /// A constant.
    Const(Const),
    /// A constant set.
    Set(Set),
    /// A forward jump distance.
    Offset(Offset),
    /// An aggregate body's length.
    BodyLen(BodyLen),
    /// A regex of the regex table.
    Regex(Regex),
    /// An integer range table (issue #14, session 9).
    Ranges(Ranges),
}

/// An instruction operand type: its kind, encoded width and bit conversions.
pub trait Operand: Copy {
    /// The operand's kind.
    const KIND: OperandKind;
    /// Encoded width in bytes.
    const LEN: usize = Self::KIND.width();
    /// Reads the operand from the low [`Self::LEN`] bytes of `bits` (higher bits ignored);
    /// `None` if they name no value of the type.
    fn from_bits(bits: u64) -> Option<Self>;
    /// The operand's encoded bits (only the low [`Self::LEN`] bytes may be set).
    fn to_bits(self) -> u64;
    /// The operand as an [`OperandValue`].
    fn value(self) -> OperandValue;
}

macro_rules! int_operands {
    ($( $(#[$doc:meta])* $name:ident($int:ty); )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(transparent)]
        pub struct $name(pub $int);

        impl Operand for $name {
            const KIND: OperandKind = OperandKind::$name;
            #[inline(always)]
            fn from_bits(bits: u64) -> Option<Self> {
                Some($name(bits as $int))
            }
            #[inline(always)]
            fn to_bits(self) -> u64 {
                u64::from(self.0)
            }
            fn value(self) -> OperandValue {
                OperandValue::$name(self)
            }
        }
    )*};
}

int_operands! {
    /// An aggregate nesting level (`u8`): 0 is the outermost aggregate's element.
    Level(u8);
    /// A slot index (`u16`).
    Slot(u16);
    /// A field index within the element's record (`u16`).
    Field(u16);
    /// A constant index (`u16`).
    Const(u16);
    /// A constant set index (`u16`).
    Set(u16);
    /// A forward jump distance in bytes, from the end of the jump instruction (`u16`).
    Offset(u16);
    /// The length in bytes of an aggregate's body, which follows the instruction (`u16`).
    BodyLen(u16);
    /// A regex index into the bundle's regex table (`u16`, issue #14).
    Regex(u16);
    /// The header record of an integer range table in the `int_ranges` section (`u16`, issue
    /// #14, session 9; see [`ranges`](crate::ranges)).
    Ranges(u16);
}

impl Operand for CmpOp {
    const KIND: OperandKind = OperandKind::Cmp;
    #[inline(always)]
    fn from_bits(bits: u64) -> Option<Self> {
        CmpOp::from_byte(bits as u8)
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self as u64
    }
    fn value(self) -> OperandValue {
        OperandValue::Cmp(self)
    }
}

impl Operand for StrOp {
    const KIND: OperandKind = OperandKind::Str;
    #[inline(always)]
    fn from_bits(bits: u64) -> Option<Self> {
        StrOp::from_byte(bits as u8)
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self as u64
    }
    fn value(self) -> OperandValue {
        OperandValue::Str(self)
    }
}

impl Operand for ArithOp {
    const KIND: OperandKind = OperandKind::Arith;
    #[inline(always)]
    fn from_bits(bits: u64) -> Option<Self> {
        ArithOp::from_byte(bits as u8)
    }
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self as u64
    }
    fn value(self) -> OperandValue {
        OperandValue::Arith(self)
    }
}

/// An encoded instruction: up to 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    bytes: [u8; 8],
    len: u8,
}

impl Encoded {
    /// The instruction's bytes (opcode, then operands little-endian).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

macro_rules! define_opcodes {
    ($(
        $(#[$doc:meta])*
        $name:ident = $byte:literal, $mnemonic:literal { $($f:ident : $t:ident),* $(,)? };
    )*) => {
        /// One bytecode operation. The discriminant is the encoded byte; 0 is never valid.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum Opcode {
            $( $(#[$doc])* $name = $byte, )*
        }

        impl Opcode {
            /// Every opcode, in byte order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$name),*];

            /// The mnemonic used by the disassembler.
            pub const fn mnemonic(self) -> &'static str {
                match self { $(Opcode::$name => $mnemonic,)* }
            }

            /// Number of operand bytes after the opcode byte (the sum of the operand widths).
            #[inline(always)]
            pub const fn operand_len(self) -> usize {
                match self { $(Opcode::$name => 0 $(+ <$t as Operand>::LEN)*,)* }
            }

            /// The kinds of the operands, in encoding order.
            pub const fn operand_kinds(self) -> &'static [OperandKind] {
                match self { $(Opcode::$name => &[$(<$t as Operand>::KIND),*],)* }
            }

            /// Decodes an opcode byte.
            #[inline(always)]
            pub const fn from_byte(b: u8) -> Option<Opcode> {
                match b { $($byte => Some(Opcode::$name),)* _ => None }
            }

            /// Looks an opcode up by mnemonic.
            pub fn from_mnemonic(m: &str) -> Option<Opcode> {
                match m { $($mnemonic => Some(Opcode::$name),)* _ => None }
            }
        }

        /// One instruction with its typed operands (the variants and fields of
        /// [`for_each_opcode!`](crate::for_each_opcode)). The discriminant is the opcode byte.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum Instr {
            $(
                $(#[$doc])*
                $name {
                    $(
                        #[doc = concat!("The `", stringify!($f), "` operand.")]
                        $f: $t,
                    )*
                } = $byte,
            )*
        }

        // Every instruction (opcode byte and operands) fits the little-endian word the
        // decoder reads.
        const _: () = { $( assert!(0 $(+ <$t as Operand>::LEN)* < 8); )* };

        impl Instr {
            /// The instruction's opcode.
            #[inline(always)]
            pub const fn opcode(&self) -> Opcode {
                match self { $(Instr::$name { .. } => Opcode::$name,)* }
            }

            /// Encoded length in bytes, opcode included.
            #[inline(always)]
            pub const fn encoded_len(&self) -> usize {
                1 + self.opcode().operand_len()
            }

            /// Decodes the instruction whose opcode is the low byte of `word` and whose
            /// operands are the following bytes (little-endian, as read from the code at the
            /// instruction's offset; bytes past the instruction are ignored). `None` if the
            /// byte is no opcode or an operand is out of its type's range ([`Instr::decode`]
            /// says which).
            #[inline(always)]
            #[allow(unused_assignments, reason = "the shift after the last operand")]
            pub fn from_word(word: u64) -> Option<Instr> {
                match word as u8 {
                    $(
                        $byte => {
                            #[allow(unused_mut, unused_variables, reason = "rows without operands")]
                            let mut shift = 8u32;
                            $(
                                let $f = <$t as Operand>::from_bits(word >> shift)?;
                                shift += 8 * <$t as Operand>::LEN as u32;
                            )*
                            Some(Instr::$name { $($f),* })
                        }
                    )*
                    _ => None,
                }
            }

            /// Encodes the instruction.
            #[allow(unused_assignments, reason = "the shift after the last operand")]
            pub fn encode(&self) -> Encoded {
                match *self {
                    $(
                        Instr::$name { $($f),* } => {
                            #[allow(unused_mut, reason = "rows without operands")]
                            let mut word = $byte as u64;
                            #[allow(unused_mut, unused_variables, reason = "rows without operands")]
                            let mut shift = 8u32;
                            $(
                                word |= Operand::to_bits($f) << shift;
                                shift += 8 * <$t as Operand>::LEN as u32;
                            )*
                            Encoded {
                                bytes: word.to_le_bytes(),
                                len: (1 + Opcode::$name.operand_len()) as u8,
                            }
                        }
                    )*
                }
            }

            /// Calls `f` with each operand in encoding order, stopping at the first error.
            pub fn try_for_each_operand<E>(
                &self,
                mut f: impl FnMut(OperandValue) -> Result<(), E>,
            ) -> Result<(), E> {
                match *self {
                    $( Instr::$name { $($f),* } => { $( f(Operand::value($f))?; )* } )*
                }
                Ok(())
            }
        }
    };
}

for_each_opcode!(define_opcodes);

impl Opcode {
    /// Whether the instruction is an aggregate (`count`, `any`, `all`, over a list slot or a
    /// bound element's field): the body of its element follows it in the code.
    pub const fn is_aggregate(self) -> bool {
        matches!(
            self,
            Opcode::Count
                | Opcode::Any
                | Opcode::All
                | Opcode::CountField
                | Opcode::AnyField
                | Opcode::AllField
        )
    }
}

impl Instr {
    /// Decodes the instruction at `pc` of `code`, returning it and the offset just past it.
    pub fn decode(code: &[u8], pc: usize) -> Result<(Instr, usize), DecodeError> {
        let byte = *code.get(pc).ok_or(DecodeError::Truncated)?;
        let op = Opcode::from_byte(byte).ok_or(DecodeError::BadOpcode(byte))?;
        let next = pc.saturating_add(1 + op.operand_len());
        let bytes = code.get(pc..next).ok_or(DecodeError::Truncated)?;
        let word = bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let instr = Instr::from_word(word).ok_or(DecodeError::BadOperand)?;
        Ok((instr, next))
    }
}

impl TryFrom<u8> for Opcode {
    type Error = u8;
    fn try_from(b: u8) -> Result<Self, u8> {
        Opcode::from_byte(b).ok_or(b)
    }
}

/// Comparison operator operand of the `cmp` instructions (one byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum CmpOp {
    /// `==`
    Eq = 0,
    /// `!=`
    Ne = 1,
    /// `<`
    Lt = 2,
    /// `<=`
    Le = 3,
    /// `>`
    Gt = 4,
    /// `>=`
    Ge = 5,
}

impl CmpOp {
    /// Decodes the operand byte.
    pub const fn from_byte(b: u8) -> Option<CmpOp> {
        Some(match b {
            0 => CmpOp::Eq,
            1 => CmpOp::Ne,
            2 => CmpOp::Lt,
            3 => CmpOp::Le,
            4 => CmpOp::Gt,
            5 => CmpOp::Ge,
            _ => return None,
        })
    }

    /// Whether the operator needs an ordered type (int or enum).
    pub const fn is_ordered(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// The source symbol.
    pub const fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Applies the operator to an ordering.
    pub const fn test(self, ord: core::cmp::Ordering) -> bool {
        use core::cmp::Ordering::*;
        match self {
            CmpOp::Eq => matches!(ord, Equal),
            CmpOp::Ne => !matches!(ord, Equal),
            CmpOp::Lt => matches!(ord, Less),
            CmpOp::Le => !matches!(ord, Greater),
            CmpOp::Gt => matches!(ord, Greater),
            CmpOp::Ge => !matches!(ord, Less),
        }
    }
}

/// String operator operand of [`Opcode::StrOp`] (one byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum StrOp {
    /// `starts_with`
    StartsWith = 0,
    /// `ends_with`
    EndsWith = 1,
    /// `contains`
    Contains = 2,
    /// `like` (issue #14): `a` matches glob pattern `b` ([`crate::pattern::like`]); the
    /// compiler writes `b` from a pattern literal.
    Like = 3,
    /// `matches` (issue #14): a regular expression. A language operator only: the compiler
    /// lowers it to `str.match` over the bundle's regex table, and the verifier rejects a
    /// `str` instruction naming it.
    Matches = 4,
    /// `lower(a) == b` (issue #14; [`fold::eq`](crate::fold::eq)).
    LowerEq = 5,
    /// `lower(a) starts_with b` (issue #14).
    LowerStartsWith = 6,
    /// `lower(a) ends_with b` (issue #14).
    LowerEndsWith = 7,
    /// `lower(a) contains b` (issue #14).
    LowerContains = 8,
}

impl StrOp {
    /// Decodes the operand byte.
    pub const fn from_byte(b: u8) -> Option<StrOp> {
        Some(match b {
            0 => StrOp::StartsWith,
            1 => StrOp::EndsWith,
            2 => StrOp::Contains,
            3 => StrOp::Like,
            4 => StrOp::Matches,
            5 => StrOp::LowerEq,
            6 => StrOp::LowerStartsWith,
            7 => StrOp::LowerEndsWith,
            8 => StrOp::LowerContains,
            _ => return None,
        })
    }

    /// The source keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            StrOp::StartsWith => "starts_with",
            StrOp::EndsWith => "ends_with",
            StrOp::Contains => "contains",
            StrOp::Like => "like",
            StrOp::Matches => "matches",
            StrOp::LowerEq => "lower.eq",
            StrOp::LowerStartsWith => "lower.starts_with",
            StrOp::LowerEndsWith => "lower.ends_with",
            StrOp::LowerContains => "lower.contains",
        }
    }

    /// Applies the operator.
    pub fn test(self, hay: &str, needle: &str) -> bool {
        match self {
            // The prefix or suffix compared as `Str`'s `==` compares (issue #15, session 16:
            // short texts word by word, not through `memcmp`).
            StrOp::StartsWith => hay
                .as_bytes()
                .get(..needle.len())
                .is_some_and(|h| crate::value::text_eq(h, needle.as_bytes())),
            StrOp::EndsWith => hay
                .len()
                .checked_sub(needle.len())
                .and_then(|at| hay.as_bytes().get(at..))
                .is_some_and(|h| crate::value::text_eq(h, needle.as_bytes())),
            StrOp::Contains => contains(hay, needle),
            #[cfg(feature = "like")]
            StrOp::Like => crate::pattern::like(hay, needle),
            // Never run without the `like` family: the verifier refuses it (issue #15).
            #[cfg(not(feature = "like"))]
            StrOp::Like => false,
            // Never run: the verifier rejects `str matches` (the regex lives in the bundle).
            StrOp::Matches => false,
            #[cfg(feature = "unicode")]
            StrOp::LowerEq => crate::fold::eq(hay, needle),
            #[cfg(feature = "unicode")]
            StrOp::LowerStartsWith => crate::fold::starts_with(hay, needle),
            #[cfg(feature = "unicode")]
            StrOp::LowerEndsWith => crate::fold::ends_with(hay, needle),
            #[cfg(feature = "unicode")]
            StrOp::LowerContains => crate::fold::contains(hay, needle),
            // Never run without the `unicode` family: the verifier refuses them (issue #14).
            #[cfg(not(feature = "unicode"))]
            StrOp::LowerEq
            | StrOp::LowerStartsWith
            | StrOp::LowerEndsWith
            | StrOp::LowerContains => false,
        }
    }
}

/// `str::contains` (two-way search: linear time), the default.
#[cfg(not(feature = "size"))]
#[inline(always)]
fn contains(hay: &str, needle: &str) -> bool {
    hay.contains(needle)
}

/// The `size` feature's `contains`: the same answer by a byte-wise scan (worst case
/// `len(hay) * len(needle)` byte comparisons) that leaves `core::str::pattern` out of the
/// binary.
#[cfg(feature = "size")]
#[inline(always)]
fn contains(hay: &str, needle: &str) -> bool {
    crate::path::find_bytes(hay, needle).is_some()
}

/// Deepest nesting of aggregate bodies the verifier accepts.
pub const MAX_LEVELS: usize = 4;

/// Operand stack cells available to one evaluation (all nesting levels together).
pub const STACK_CELLS: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #15, session 16: `starts_with` and `ends_with` compare word by word, as `str`'s
    /// own do, for every prefix and suffix length up to 36 bytes and every differing byte.
    #[test]
    fn issue15_prefix_and_suffix_tests_are_strs() {
        let base = "abcdefghijklmnopqrstuvwxyz0123456789";
        for n in 0..=base.len() {
            let hay = &base[..n];
            for m in 0..=base.len() {
                for needle in [&base[..m], &base[n.saturating_sub(m)..n]] {
                    assert_eq!(StrOp::StartsWith.test(hay, needle), hay.starts_with(needle));
                    assert_eq!(StrOp::EndsWith.test(hay, needle), hay.ends_with(needle));
                }
            }
            // One byte changed anywhere in a prefix, or in a suffix, of the whole.
            for i in 0..n {
                let mut b = [0u8; 36];
                b[..n].copy_from_slice(&base.as_bytes()[..n]);
                b[i] = b'#';
                let prefix = core::str::from_utf8(&b[..n]).unwrap_or("");
                assert!(!StrOp::StartsWith.test(base, prefix), "{prefix}");
                b[..n].copy_from_slice(&base.as_bytes()[base.len() - n..]);
                b[i] = b'#';
                let suffix = core::str::from_utf8(&b[..n]).unwrap_or("");
                assert!(!StrOp::EndsWith.test(base, suffix), "{suffix}");
            }
        }
    }

    /// `contains` answers as `str::contains` does, with or without the `size` feature (whose
    /// byte-wise scan replaces the two-way search).
    #[test]
    fn issue13_fw_contains_agrees_with_str_contains() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "aab",
            "abab",
            "ababa",
            "é",
            "aé",
            "éa",
            "ééé",
            "xyz",
            "abc",
            "bca",
            "aaaaaaaaab",
            "aaaab",
        ];
        for hay in words {
            for needle in words {
                assert_eq!(
                    StrOp::Contains.test(hay, needle),
                    hay.contains(needle),
                    "{hay:?} contains {needle:?}"
                );
            }
        }
    }

    #[test]
    fn every_opcode_round_trips_through_its_byte_and_mnemonic() {
        for &op in Opcode::ALL {
            assert_eq!(Opcode::try_from(op as u8), Ok(op));
            assert_eq!(Opcode::from_mnemonic(op.mnemonic()), Some(op));
        }
        assert_eq!(Opcode::try_from(0), Err(0));
    }

    #[test]
    fn the_aggregates_are_the_opcodes_with_a_body() {
        for &op in Opcode::ALL {
            let body = op.operand_kinds().contains(&OperandKind::BodyLen);
            assert_eq!(op.is_aggregate(), body, "{}", op.mnemonic());
        }
    }

    #[test]
    fn cmp_ops_round_trip() {
        for b in 0..6 {
            assert_eq!(CmpOp::from_byte(b).map(|o| o as u8), Some(b));
        }
        assert_eq!(CmpOp::from_byte(6), None);
    }

    /// An instruction of `op` with every operand's bits set to `bits` (masked to its width).
    fn sample(op: Opcode, bits: u64) -> Option<Instr> {
        let mut word = op as u64;
        let mut shift = 8;
        for k in op.operand_kinds() {
            let mask = (1u64 << (8 * k.width())) - 1;
            word |= (bits & mask) << shift;
            shift += 8 * k.width() as u32;
        }
        Instr::from_word(word)
    }

    #[test]
    fn issue12_every_instruction_round_trips_through_encode_and_decode() {
        for &op in Opcode::ALL {
            let lens: usize = op.operand_kinds().iter().map(|k| k.width()).sum();
            assert_eq!(op.operand_len(), lens, "{op:?}");
            for bits in [0u64, 1, 2, 0x0102_0102_0102, 0x0405_0405_0405] {
                let Some(i) = sample(op, bits) else { continue };
                assert_eq!(i.opcode(), op);
                let e = i.encode();
                assert_eq!(e.as_bytes().len(), i.encoded_len());
                assert_eq!(e.as_bytes()[0], op as u8);
                // Trailing bytes (the next instruction) do not change the decoding.
                let mut code = e.as_bytes().to_vec();
                code.extend_from_slice(&[0xFF; 8]);
                assert_eq!(Instr::decode(&code, 0), Ok((i, i.encoded_len())));
                let word = u64::from_le_bytes(code[..8].try_into().unwrap());
                assert_eq!(Instr::from_word(word), Some(i));
            }
        }
    }

    #[test]
    fn issue12_decoding_rejects_bad_opcodes_operators_and_truncation() {
        assert_eq!(Instr::decode(&[0x00], 0), Err(DecodeError::BadOpcode(0)));
        assert_eq!(Instr::decode(&[0xFF], 0), Err(DecodeError::BadOpcode(0xFF)));
        assert_eq!(Instr::decode(&[], 0), Err(DecodeError::Truncated));
        let cmp = Opcode::Cmp as u8;
        assert_eq!(Instr::decode(&[cmp, 6], 0), Err(DecodeError::BadOperand));
        assert_eq!(Instr::decode(&[cmp], 0), Err(DecodeError::Truncated));
        let str_op = Opcode::StrOp as u8;
        assert_eq!(Instr::decode(&[str_op, 9], 0), Err(DecodeError::BadOperand));
        let csc = Opcode::CmpSlotConst as u8;
        assert_eq!(
            Instr::decode(&[csc, 9, 1, 0, 2, 0], 0),
            Err(DecodeError::BadOperand)
        );
        assert_eq!(
            Instr::decode(&[csc, 0, 1, 0, 2], 0),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Instr::decode(&[csc, 1, 3, 0, 2, 0], 0),
            Ok((
                Instr::CmpSlotConst {
                    op: CmpOp::Ne,
                    slot: Slot(3),
                    konst: Const(2)
                },
                6
            ))
        );
    }
}
