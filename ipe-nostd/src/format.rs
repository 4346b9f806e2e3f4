//! The bundle wire format: header, body sections and fixed-width record layouts.
//!
//! `docs/bundle-format.md` is the byte-level specification; this module is its code. The
//! compiler builds a [`Body`] over its own buffers and serializes it with postcard; the runtime
//! deserializes the same struct borrowing every section from the input bytes (zero copy).
//! Sections hold fixed-width little-endian records so any record is reachable in O(1).

use serde::{Deserialize, Serialize};

/// The first four bytes of every bundle.
pub const MAGIC: [u8; 4] = *b"IPEB";
/// The newest format version this crate reads and writes. Version 2 adds first-match groups
/// (the policy record's `group` byte); a bundle without a group is written as version 1, which
/// is byte-identical to the version 1 of earlier builds.
pub const VERSION: u16 = 2;
/// The oldest format version this crate reads.
pub const MIN_VERSION: u16 = 1;
/// The checksum of the body: CRC-32/ISCSI (Castagnoli).
#[cfg(not(any(feature = "size", feature = "alloc")))]
pub const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
/// The checksum of the body: CRC-32/ISCSI (Castagnoli). Hosts (the `alloc` feature, without
/// `size`) compute it sixteen bytes a step with a 16 KiB table (issue #15: a 10,000-policy
/// bundle's checksum took ~2% of its compile time): the same values.
#[cfg(all(feature = "alloc", not(feature = "size")))]
pub const CRC: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);
/// The checksum of the body: CRC-32/ISCSI (Castagnoli). The `size` profile (issue #15)
/// computes it bit by bit, without the 1 KiB lookup table: the same values.
#[cfg(feature = "size")]
pub const CRC: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISCSI);

/// "No such entry" in a `u16` reference field (no enum, no field).
pub const NONE_U16: u16 = u16::MAX;
/// "No such entry" in a `u32` reference field (no reason text).
pub const NONE_U32: u32 = u32::MAX;

/// The postcard-encoded body. Every section is a byte string of fixed-width records described
/// by the record views below ([`SlotRec`] and the others, all generated from one table);
/// `text` holds every string the records point into.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Body<'a> {
    /// 0: allow, 1: deny; the decision when no policy applies.
    pub default: u8,
    /// All strings, concatenated; records refer to `(offset, length)` ranges of it.
    #[serde(borrow)]
    pub text: &'a str,
    /// Sorted, distinct comparable strings (symbols): [`SYMBOL_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub symbols: &'a [u8],
    /// Attribute slots sorted by path: [`SLOT_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub slots: &'a [u8],
    /// Fields of list-of-records slots: [`FIELD_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub fields: &'a [u8],
    /// Enums: [`ENUM_LEN`]-byte records `(first member, member count)` into `members`.
    #[serde(borrow, with = "serde_bytes")]
    pub enums: &'a [u8],
    /// Enum members in rank order: [`MEMBER_LEN`]-byte records (`u32` symbol ids).
    #[serde(borrow, with = "serde_bytes")]
    pub members: &'a [u8],
    /// Constants: [`CONST_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub consts: &'a [u8],
    /// Constant sets: [`SET_LEN`]-byte records `(kind, first key, key count)` into `set_keys`.
    #[serde(borrow, with = "serde_bytes")]
    pub sets: &'a [u8],
    /// Sorted distinct keys of every set (symbol id, integer, rank or 0/1):
    /// [`SET_KEY_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub set_keys: &'a [u8],
    /// All bytecode, concatenated.
    #[serde(borrow, with = "serde_bytes")]
    pub code: &'a [u8],
    /// Policies in bundle order: [`POLICY_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub policies: &'a [u8],
    /// Requirement clauses: [`CLAUSE_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub clauses: &'a [u8],
    /// Metadata entries: [`META_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub metadata: &'a [u8],
    /// Trigger index groups, one per indexed slot, sorted by slot: [`GROUP_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub index_groups: &'a [u8],
    /// Trigger index buckets sorted by (group, key): [`BUCKET_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub index_buckets: &'a [u8],
    /// Policy id lists referenced by groups and buckets: [`POLICY_REF_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub index_policies: &'a [u8],
    /// Policies not in any index group, ascending: [`POLICY_REF_LEN`]-byte records.
    #[serde(borrow, with = "serde_bytes")]
    pub unindexed: &'a [u8],
    /// Compiled reason templates: [`REASON_PART_LEN`]-byte records, each policy's parts
    /// contiguous (see [`PolicyRec::part_count`]). Not part of the postcard struct: it is an
    /// optional trailing section, encoded after the struct only when non-empty, so a bundle
    /// without templates has the bytes it had before templates existed (`docs/bundle-format.md`).
    #[serde(skip)]
    pub reason_parts: &'a [u8],
    /// IP range tables (issue #14): [`IP_RANGE_LEN`]-byte records, each `[lo, hi]` of 128-bit
    /// addresses; a set of kind [`kind::IP`] names its table as `(first, count)` records of
    /// this section, sorted and disjoint ([`crate::ip::check_table`]). Not part of the
    /// postcard struct: the tagged trailing section [`TAG_IP_RANGES`], written only when
    /// non-empty (`docs/bundle-format.md`, "Trailing sections").
    #[serde(skip)]
    pub ip_ranges: &'a [u8],
    /// The regex table of `matches` (issue #14): trailing section
    /// [`REGEX_SECTION`](crate::regex::REGEX_SECTION), present only when non-empty (see
    /// [`crate::regex`]).
    #[serde(skip)]
    pub regexes: &'a [u8],
    /// The schema defaults of scalar attributes (issue #13): [`SLOT_DEFAULT_LEN`]-byte
    /// records, sorted by slot, read by default reasons (` (found ...)`, `{#found}`) for a
    /// missing attribute. Not part of the postcard struct: the tagged trailing section
    /// [`TAG_SLOT_DEFAULTS`], written only when non-empty.
    #[serde(skip)]
    pub slot_defaults: &'a [u8],
    /// The integer range tables of `in.range` (issue #14, session 9): [`INT_RANGE_LEN`]-byte
    /// records; a table is a header record (`lo` its range count, `hi` 0) followed by that
    /// many `[lo, hi]` ranges, sorted, disjoint and non-adjacent ([`crate::ranges`]). Not part
    /// of the postcard struct: the tagged trailing section [`TAG_INT_RANGES`], written only
    /// when non-empty.
    #[serde(skip)]
    pub int_ranges: &'a [u8],
}

/// The tag of the trailing section [`Body::ip_ranges`] (issue #14).
pub const TAG_IP_RANGES: u8 = 1;

/// The tag of the trailing section [`Body::slot_defaults`] (issue #13).
pub const TAG_SLOT_DEFAULTS: u8 = 3;

/// The tag of the trailing section [`Body::int_ranges`] (issue #14, session 9).
pub const TAG_INT_RANGES: u8 = 5;

/// Value kinds as encoded in slot, field, constant and set records.
pub mod kind {
    /// String.
    pub const STR: u8 = 0;
    /// Integer.
    pub const INT: u8 = 1;
    /// Boolean.
    pub const BOOL: u8 = 2;
    /// Enum member.
    pub const ENUM: u8 = 3;
    /// List of scalars (slot kind only; the element kind is in the slot record).
    pub const LIST: u8 = 4;
    /// List of records (slot kind only).
    pub const RECORDS: u8 = 5;
    /// Map from string keys (slot kind only): read from a JSON object as a list of records
    /// whose field 0 is the key (a string) and field 1 the value; every runtime but the
    /// request readers treats it exactly as [`RECORDS`].
    pub const MAP: u8 = 6;
    /// Pair of strings (set kind only, issue #13): each key packs two symbol ids, the
    /// descendant in the high 32 bits and the ancestor in the low 32 bits
    /// ([`crate::read::pair_key`]); read by `in.pair.set` only.
    pub const PAIR: u8 = 7;
    /// IP address (issue #14). As a set kind: a range table, the set's `first_key` and
    /// `key_count` naming records of [`Body::ip_ranges`](super::Body::ip_ranges) instead of
    /// set keys. As a slot or field kind: the `ip` type, read as [`Value::Ip`](crate::Value::Ip).
    pub const IP: u8 = 8;
    /// Kubernetes quantity (slot and field kind, issue #14): the request readers read a JSON
    /// string or number into [`Value::Int`](crate::Value::Int) milli-units (or an invalid
    /// value); every runtime then treats it as [`INT`].
    pub const QUANTITY: u8 = 10;

    /// Timestamp (issue #14; slot and field kind): read as an int of ms since the Unix epoch
    /// within [`crate::time::MIN_TIMESTAMP_MS`]`..=`[`crate::time::MAX_TIMESTAMP_MS`]; an int
    /// cell on the stack.
    pub const TIME: u8 = 12;
    /// Duration (issue #14; slot and field kind): read as an int of ms within
    /// ±[`crate::time::MAX_DURATION_MS`]; an int cell on the stack.
    pub const DURATION: u8 = 13;

    /// Whether kind byte `k` holds an int at run time ([`INT`], [`QUANTITY`], [`TIME`],
    /// [`DURATION`]).
    #[inline(always)]
    pub const fn is_int(k: u8) -> bool {
        matches!(k, INT | QUANTITY | TIME | DURATION)
    }

    /// Whether slot kind byte `k` is iterated as a list of records ([`RECORDS`] or [`MAP`]).
    #[inline(always)]
    pub const fn is_records(k: u8) -> bool {
        k == RECORDS || k == MAP
    }

    /// The value kind a record kind byte declares (lists of scalars and of records are both
    /// [`List`](crate::vocab::ValueKind::List)); `None` for an unknown byte.
    pub fn value_kind(k: u8) -> Option<crate::vocab::ValueKind> {
        Some(match k {
            STR => crate::vocab::ValueKind::Str,
            INT => crate::vocab::ValueKind::Int,
            BOOL => crate::vocab::ValueKind::Bool,
            ENUM => crate::vocab::ValueKind::Enum,
            LIST | RECORDS | MAP => crate::vocab::ValueKind::List,
            QUANTITY => crate::vocab::ValueKind::Quantity,
            TIME => crate::vocab::ValueKind::Time,
            DURATION => crate::vocab::ValueKind::Duration,
            IP => crate::vocab::ValueKind::Ip,
            _ => return None,
        })
    }

    /// The kind byte of a value kind: the inverse of [`value_kind`] (a list is [`LIST`]).
    pub const fn from_value_kind(k: crate::vocab::ValueKind) -> u8 {
        match k {
            crate::vocab::ValueKind::Str => STR,
            crate::vocab::ValueKind::Int => INT,
            crate::vocab::ValueKind::Bool => BOOL,
            crate::vocab::ValueKind::Enum => ENUM,
            crate::vocab::ValueKind::List => LIST,
            crate::vocab::ValueKind::Quantity => QUANTITY,
            crate::vocab::ValueKind::Time => TIME,
            crate::vocab::ValueKind::Duration => DURATION,
            crate::vocab::ValueKind::Ip => IP,
        }
    }
}

/// Metadata value kinds (the `kind` byte of a [`MetaRec`]).
pub mod meta_kind {
    /// A string: the value is a text range (offset in the low 32 bits, length in the high 32).
    pub const STR: u8 = 0;
    /// An integer.
    pub const INT: u8 = 1;
    /// A boolean (0 or 1).
    pub const BOOL: u8 = 2;
}

/// Kinds of reason template parts (the `kind` byte of a [`ReasonPartRec`]).
pub mod part_kind {
    /// Literal text.
    pub const TEXT: u8 = 0;
    /// The value of a scalar slot.
    pub const SLOT: u8 = 1;
    /// A field of the witness element of a clause.
    pub const FIELD: u8 = 2;
    /// The count a failed count clause reports.
    pub const COUNT: u8 = 3;
    /// The attributes a failed comparison clause read, with their values.
    pub const FOUND: u8 = 4;
    /// The value of a request map's entry under a key read from a string slot (issue #13,
    /// session 10: `{labels[params.key]}`, `{svc[want].port}`); family `dynkey`.
    pub const MAP_ENTRY: u8 = 5;
    /// The value of a request map's entry under a string field of a clause's witness element
    /// (issue #13, session 11: `{limits[c.name]}`); family `dynkey`.
    pub const WITNESS_ENTRY: u8 = 6;
    /// The value of a map constant's lookup table under a key read from a string slot
    /// (issue #13, session 11: `{owners[doc.id].team}`); family `lookups`.
    pub const CONST_ENTRY: u8 = 7;
}

/// Policy body kinds (the `body_kind` byte of a [`PolicyRec`]).
pub mod body_kind {
    /// `requires`: violated when a clause is false.
    pub const REQUIRES: u8 = 0;
    /// `denies`: violated whenever triggered.
    pub const DENIES: u8 = 1;
}

/// A policy's place in a first-match group (the `group` byte of a [`PolicyRec`], format
/// version 2; always [`NONE`](group::NONE) in version 1).
pub mod group {
    /// Not in a group: an ordinary policy.
    pub const NONE: u8 = 0;
    /// The first rule of a first-match group.
    pub const FIRST: u8 = 1;
    /// A later rule of the group the previous policy (id − 1) is in.
    pub const NEXT: u8 = 2;
}

/// An `(offset, length)` range of the text or code section, as stored in records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub off: u32,
    /// Length in bytes.
    pub len: u32,
}

impl Span {
    /// The range as `usize` bounds (`start`, `end`), `None` when the end overflows.
    #[inline(always)]
    pub fn bounds(self) -> Option<(usize, usize)> {
        let start = self.off as usize;
        Some((start, start.checked_add(self.len as usize)?))
    }
}

/// A fixed-width little-endian value of a record field.
pub trait Wire: Copy {
    /// Bytes the value takes in a record.
    const SIZE: usize;
    /// Reads the value at `at` (zero when `b` is too short, which a verified bundle never is).
    fn get(b: &[u8], at: usize) -> Self;
    /// Writes the value at `at` (nothing when `b` is too short).
    fn put(self, b: &mut [u8], at: usize);
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            #[inline(always)]
            fn get(b: &[u8], at: usize) -> Self {
                b.get(at..)
                    .and_then(<[u8]>::first_chunk::<{ core::mem::size_of::<$t>() }>)
                    .map_or(0, |c| <$t>::from_le_bytes(*c))
            }
            #[inline(always)]
            fn put(self, b: &mut [u8], at: usize) {
                if let Some(c) = b
                    .get_mut(at..)
                    .and_then(<[u8]>::first_chunk_mut::<{ core::mem::size_of::<$t>() }>)
                {
                    *c = self.to_le_bytes();
                }
            }
        }
    )*};
}
wire_int!(u8, u16, u32, i64);

impl<const N: usize> Wire for [u8; N] {
    const SIZE: usize = N;
    #[inline(always)]
    fn get(b: &[u8], at: usize) -> Self {
        b.get(at..)
            .and_then(<[u8]>::first_chunk::<N>)
            .copied()
            .unwrap_or([0; N])
    }
    #[inline(always)]
    fn put(self, b: &mut [u8], at: usize) {
        if let Some(c) = b.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<N>) {
            *c = self;
        }
    }
}

impl Wire for Span {
    const SIZE: usize = 8;
    #[inline(always)]
    fn get(b: &[u8], at: usize) -> Self {
        Span {
            off: u32::get(b, at),
            len: u32::get(b, at.wrapping_add(4)),
        }
    }
    #[inline(always)]
    fn put(self, b: &mut [u8], at: usize) {
        self.off.put(b, at);
        self.len.put(b, at.wrapping_add(4));
    }
}

/// One named byte range of a record layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// Field name (as the accessor is named).
    pub name: &'static str,
    /// Offset in the record.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// Reserved bytes: always written as 0 and never read.
    pub reserved: bool,
}

/// A record layout: its name in `docs/bundle-format.md`, its size and every byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The record's name in the specification's tables.
    pub name: &'static str,
    /// Record size in bytes.
    pub len: usize,
    /// Every field and reserved range, in table order.
    pub fields: &'static [FieldDef],
}

/// Generates, for each record kind of the table: its `*_LEN` constant, a borrowed view over
/// one record with an `#[inline(always)]` accessor per field, the view's `nth` over a section,
/// an owned struct of all fields with its encoder (the compiler's writer), and the layout
/// description the tests check.
macro_rules! records {
    ($(
        $(#[$doc:meta])*
        $view:ident, $fields:ident, $len:ident = $size:literal, $docname:literal {
            $( $(#[$fdoc:meta])* $f:ident : $t:ty = $off:literal, )*
        }
        reserved { $( $r:ident : $rsize:literal = $roff:literal, )* }
    )*) => {$(
        #[doc = concat!("Bytes of one ", $docname, " record.")]
        pub const $len: usize = $size;

        $(#[$doc])*
        #[doc = ""]
        #[doc = concat!("A borrowed view of one ", $docname, " record; [`", stringify!($fields),
            "`] holds the same fields by value.")]
        ///
        /// The view is a fixed-size array (issue #15): each field is read at a constant offset
        /// with no length check left in the interpreter's hot path; [`Self::nth`] checks once.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $view<'a>(&'a [u8; $len]);

        impl<'a> $view<'a> {
            /// The byte layout of this record kind.
            pub const LAYOUT: Layout = Layout {
                name: $docname,
                len: $len,
                fields: &[
                    $( FieldDef {
                        name: stringify!($f),
                        offset: $off,
                        size: <$t as Wire>::SIZE,
                        reserved: false,
                    }, )*
                    $( FieldDef {
                        name: stringify!($r),
                        offset: $roff,
                        size: $rsize,
                        reserved: true,
                    }, )*
                ],
            };

            /// A view of these bytes.
            #[inline(always)]
            pub fn new(bytes: &'a [u8; $len]) -> Self {
                $view(bytes)
            }

            /// Record `i` of `section` (all fields 0 when out of range, which a verified
            /// bundle never is). The range is checked once, here: the view holds exactly
            /// the record's bytes, so its field accessors are plain loads (issue #15). Out of
            /// line in the `size` profile (one copy per record kind instead of one per use).
            #[cfg_attr(feature = "size", inline(never))]
            #[cfg_attr(not(feature = "size"), inline(always))]
            pub fn nth(section: &'a [u8], i: usize) -> Self {
                const ZERO: [u8; $len] = [0; $len];
                let start = i.wrapping_mul($len);
                $view(
                    section
                        .get(start..start.wrapping_add($len))
                        .and_then(<[u8]>::first_chunk::<$len>)
                        .unwrap_or(&ZERO),
                )
            }

            /// Number of whole records in `section`.
            #[inline(always)]
            pub fn count(section: &[u8]) -> usize {
                section.len() / $len
            }

            /// The record's bytes (all 0 for a record out of range).
            #[inline(always)]
            pub fn bytes(self) -> &'a [u8] {
                self.0
            }

            $(
                $(#[$fdoc])*
                #[inline(always)]
                pub fn $f(self) -> $t {
                    <$t as Wire>::get(self.0, $off)
                }
            )*

            /// Every field, by value.
            #[inline]
            pub fn fields(self) -> $fields {
                $fields { $( $f: self.$f(), )* }
            }
        }

        #[doc = concat!("Every field of a ", $docname, " record by value: what the compiler \
            writes ([`Self::to_bytes`]); [`", stringify!($view), "`] reads it.")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        pub struct $fields {
            $( $(#[$fdoc])* pub $f: $t, )*
        }

        impl $fields {
            /// The record's bytes (reserved bytes 0).
            #[inline]
            pub fn to_bytes(&self) -> [u8; $len] {
                let mut b = [0; $len];
                $( <$t as Wire>::put(self.$f, &mut b, $off); )*
                b
            }

            /// Overwrites record `i` of `section`; `None` when it is out of range.
            pub fn put(&self, section: &mut [u8], i: usize) -> Option<()> {
                let start = i.checked_mul($len)?;
                section
                    .get_mut(start..start.checked_add($len)?)?
                    .copy_from_slice(&self.to_bytes());
                Some(())
            }
        }
    )*

        /// Every record layout of the format, the header first.
        pub const LAYOUTS: &[Layout] = &[$( $view::LAYOUT, )*];
    };
}

records! {
    /// The bundle header (before the body): magic, version, flags, body length, CRC-32.
    HeaderRec, Header, HEADER_LEN = 16, "header" {
        /// [`MAGIC`].
        magic: [u8; 4] = 0,
        /// The format version ([`VERSION`]).
        version: u16 = 4,
        /// Reserved flags (must be 0).
        flags: u16 = 6,
        /// Bytes of the body after the header.
        body_len: u32 = 8,
        /// [`CRC`] of the body.
        crc: u32 = 12,
    }
    reserved {}

    /// A symbol: one distinct comparable string; symbols are sorted and the index is the id.
    SymbolRec, SymbolFields, SYMBOL_LEN = 8, "symbol" {
        /// The string (text range).
        text: Span = 0,
    }
    reserved {}

    /// An attribute slot; slots are sorted by path and the index is the slot id.
    SlotRec, SlotFields, SLOT_LEN = 20, "slot" {
        /// Dotted path (text range).
        path: Span = 0,
        /// Value kind ([`kind`]).
        kind: u8 = 8,
        /// Element kind of a list of scalars ([`kind`]).
        elem_kind: u8 = 9,
        /// Enum of an enum slot or enum list ([`NONE_U16`]: none).
        enum_id: u16 = 10,
        /// First field record (lists of records).
        first_field: u16 = 12,
        /// Field count (lists of records).
        field_count: u16 = 14,
        /// Longest accepted list.
        max_len: u32 = 16,
    }
    reserved {}

    /// A field of the elements of a list-of-records slot.
    FieldRec, FieldFields, FIELD_LEN = 12, "field" {
        /// Dotted path inside the element (text range).
        path: Span = 0,
        /// Scalar kind ([`kind`]).
        kind: u8 = 8,
        /// Enum of an enum field ([`NONE_U16`]: none).
        enum_id: u16 = 10,
    }
    reserved { reserved_9: 1 = 9, }

    /// An enum: a range of the members section, in rank order.
    EnumRec, EnumFields, ENUM_LEN = 8, "enum" {
        /// First member entry.
        first_member: u32 = 0,
        /// Member count (1..=65535).
        member_count: u32 = 4,
    }
    reserved {}

    /// One enum member: its symbol id.
    MemberRec, MemberFields, MEMBER_LEN = 4, "member" {
        /// The member's symbol id.
        symbol: u32 = 0,
    }
    reserved {}

    /// A constant operand.
    ConstRec, ConstFields, CONST_LEN = 16, "constant" {
        /// Scalar kind ([`kind`]).
        kind: u8 = 0,
        /// Symbol id, integer, enum rank or 0/1.
        value: i64 = 4,
        /// Enum of an enum constant ([`NONE_U16`] otherwise).
        enum_id: u16 = 12,
    }
    reserved { reserved_1: 3 = 1, reserved_14: 2 = 14, }

    /// A constant set: a range of the set keys section.
    SetRec, SetFields, SET_LEN = 12, "set" {
        /// Scalar kind of the keys ([`kind`]).
        kind: u8 = 0,
        /// Enum of an enum set ([`NONE_U16`] otherwise).
        enum_id: u16 = 2,
        /// First key entry.
        first_key: u32 = 4,
        /// Key count.
        key_count: u32 = 8,
    }
    reserved { reserved_1: 1 = 1, }

    /// One range of an IP range table (issue #14, section `ip_ranges`): the first and the
    /// last address, each 16 bytes **big-endian** (so byte order is numeric order; IPv4 as
    /// IPv4-mapped IPv6, see [`crate::ip`]).
    IpRangeRec, IpRangeFields, IP_RANGE_LEN = 32, "ip range" {
        /// The first address of the range.
        lo: [u8; 16] = 0,
        /// The last address of the range (`lo <= hi`).
        hi: [u8; 16] = 16,
    }
    reserved {}

    /// One record of an integer range table (issue #14, session 9, section `int_ranges`):
    /// an inclusive range `[lo, hi]`, or a table's header (`lo` the number of ranges that
    /// follow it, `hi` 0).
    IntRangeRec, IntRangeFields, INT_RANGE_LEN = 16, "int range" {
        /// The first int of the range (a header: the range count).
        lo: i64 = 0,
        /// The last int of the range (`lo <= hi`; a header: 0).
        hi: i64 = 8,
    }
    reserved {}

    /// The schema default of a scalar attribute (issue #13, section `slot_defaults`): its text
    /// as a reason placeholder writes the value (strings raw, ints in decimal, bools, enum
    /// members by name). Records strictly ascending by slot.
    SlotDefaultRec, SlotDefaultFields, SLOT_DEFAULT_LEN = 12, "slot default" {
        /// The attribute's slot (a scalar of kind string, int, bool or enum).
        slot: u16 = 0,
        /// The default's text (text range).
        text: Span = 4,
    }
    reserved { reserved_2: 2 = 2, }

    /// One key of a constant set (symbol id, integer, rank or 0/1), strictly ascending per set.
    SetKeyRec, SetKeyFields, SET_KEY_LEN = 8, "set key" {
        /// The key.
        key: i64 = 0,
    }
    reserved {}

    /// A policy, in bundle order; the index is the policy id.
    PolicyRec, PolicyFields, POLICY_LEN = 56, "policy" {
        /// Name (text range).
        name: Span = 0,
        /// Intent (text range).
        intent: Span = 8,
        /// `with reason` text (text range; offset [`NONE_U32`]: none).
        reason: Span = 16,
        /// Trigger code (code range; length 0: always applies).
        trigger: Span = 24,
        /// First clause record.
        first_clause: u32 = 32,
        /// Clause count.
        clause_count: u16 = 36,
        /// Body kind ([`body_kind`]).
        body_kind: u8 = 38,
        /// Place in a first-match group ([`group`]; version 2).
        group: u8 = 39,
        /// First metadata record.
        first_meta: u32 = 40,
        /// Metadata count.
        meta_count: u16 = 44,
        /// Static bound on the steps one evaluation of the policy takes.
        cost_bound: u32 = 48,
        /// Number of reason template parts (0: the reason is `reason` or a default).
        part_count: u16 = 46,
        /// First reason template part (0 when `part_count` is 0).
        first_part: u32 = 52,
    }
    reserved {}

    /// A requirement clause.
    ClauseRec, ClauseFields, CLAUSE_LEN = 20, "clause" {
        /// Code (code range).
        code: Span = 0,
        /// Normalized source text (text range).
        text: Span = 8,
        /// 1 when a violation reports the count (` (found N)`), else 0.
        reports_count: u8 = 16,
        /// 1 when the clause is one `all` aggregate whose first false element (the witness) a
        /// reason template names; 0 otherwise.
        witness: u8 = 17,
    }
    reserved { reserved_18: 2 = 18, }

    ReasonPartRec, ReasonPartFields, REASON_PART_LEN = 16, "reason part" {
        /// The literal text (for [`part_kind::TEXT`]); for [`part_kind::WITNESS_ENTRY`]: the
        /// witness element's field holding the key in the offset, length 0; `(0, 0)`
        /// otherwise.
        text: Span = 0,
        /// What the part renders ([`part_kind`]).
        kind: u8 = 8,
        /// For [`part_kind::SLOT`]: 1 when `text` is what the part renders when the slot is
        /// missing (the attribute's schema default, as a placeholder writes it); 0 otherwise.
        default: u8 = 9,
        /// For [`part_kind::FIELD`] and [`part_kind::WITNESS_ENTRY`]: the clause (0-based
        /// within the policy) whose witness element is read; for [`part_kind::MAP_ENTRY`]:
        /// the string slot holding the key; 0 otherwise.
        clause: u16 = 10,
        /// The slot ([`part_kind::SLOT`]), the element field ([`part_kind::FIELD`]) or the
        /// map slot ([`part_kind::MAP_ENTRY`], [`part_kind::WITNESS_ENTRY`]); 0 otherwise.
        operand: u16 = 12,
        /// For [`part_kind::MAP_ENTRY`] and [`part_kind::WITNESS_ENTRY`]: the map entry's
        /// field shown (1 or more, as `map.get`'s); 0 otherwise (issue #13, session 10:
        /// formerly reserved, always 0).
        entry: u16 = 14,
    }
    reserved {}

    /// A metadata entry of a policy.
    MetaRec, MetaFields, META_LEN = 20, "metadata" {
        /// Key (text range).
        key: Span = 0,
        /// Value kind ([`meta_kind`]).
        kind: u8 = 8,
        /// Integer, 0/1, or a string's text offset (low 32 bits) and length (high 32 bits).
        value: i64 = 12,
    }
    reserved { reserved_9: 3 = 9, }

    /// A trigger-index group: the policies filed under one slot.
    GroupRec, GroupFields, GROUP_LEN = 20, "index group" {
        /// The indexed slot.
        slot: u16 = 0,
        /// First bucket record.
        first_bucket: u32 = 4,
        /// Bucket count.
        bucket_count: u32 = 8,
        /// First entry of every policy of the group in the policy lists.
        first_policy: u32 = 12,
        /// Number of policies of the group.
        policy_count: u32 = 16,
    }
    reserved { reserved_2: 2 = 2, }

    /// A trigger-index bucket: the policies of a group filed under one key.
    BucketRec, BucketFields, BUCKET_LEN = 16, "index bucket" {
        /// The key (like a set key).
        key: i64 = 0,
        /// First entry in the policy lists.
        first_policy: u32 = 8,
        /// Policy count (ascending ids).
        policy_count: u32 = 12,
    }
    reserved {}

    /// One policy id of the index's policy lists or of the unindexed list.
    PolicyRefRec, PolicyRefFields, POLICY_REF_LEN = 2, "policy id" {
        /// The policy id.
        policy: u16 = 0,
    }
    reserved {}
}

impl Body<'_> {
    /// The format version this body needs, which is the one its header must name: 2 when a
    /// policy is in a first-match group, else 1.
    pub fn version(&self) -> u16 {
        if self.has_groups() {
            2
        } else {
            1
        }
    }

    /// Whether a policy is in a first-match group.
    pub fn has_groups(&self) -> bool {
        (0..PolicyRec::count(self.policies))
            .any(|i| PolicyRec::nth(self.policies, i).group() != group::NONE)
    }
}

impl Header {
    /// The header of a version [`VERSION`] bundle whose body is `body`.
    pub fn for_body(body: &[u8]) -> Header {
        Self::for_body_version(body, VERSION)
    }

    /// The header of a bundle of format `version` whose body is `body`.
    pub fn for_body_version(body: &[u8], version: u16) -> Header {
        Header {
            magic: MAGIC,
            version,
            flags: 0,
            body_len: body.len() as u32,
            crc: CRC.checksum(body),
        }
    }

    /// Reads and checks the header at the start of `bytes`: long enough, [`MAGIC`],
    /// [`VERSION`] and no flags (the body length and checksum are the caller's to check).
    pub fn parse(bytes: &[u8]) -> Result<Header, crate::bundle::BundleError> {
        use crate::bundle::BundleError;
        let h = bytes
            .first_chunk::<HEADER_LEN>()
            .map(HeaderRec::new)
            .ok_or(BundleError::Truncated {
                needed: HEADER_LEN,
                found: bytes.len(),
            })?;
        if h.magic() != MAGIC {
            return Err(BundleError::BadMagic);
        }
        if !(MIN_VERSION..=VERSION).contains(&h.version()) {
            return Err(BundleError::UnsupportedVersion(h.version()));
        }
        if h.flags() != 0 {
            return Err(BundleError::ReservedFlags(h.flags()));
        }
        Ok(h.fields())
    }

    /// The header's bytes.
    pub fn write(&self) -> [u8; HEADER_LEN] {
        self.to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The body checksum is CRC-32/ISCSI in every profile (the `size` profile's has no lookup
    /// table, the hosts' a sixteen-byte one; issue #15): its check value, and a bundle-sized
    /// input against the table-driven one.
    #[test]
    fn issue15_crc_is_crc32c_in_every_profile() {
        assert_eq!(CRC.checksum(b"123456789"), 0xE306_9283);
        let table = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
        let bytes: Vec<u8> = (0..1500u32).map(|i| (i * 7 + i / 3) as u8).collect();
        assert_eq!(CRC.checksum(&bytes), table.checksum(&bytes));
        assert_eq!(CRC.checksum(&[]), table.checksum(&[]));
    }

    /// Every byte of every record is covered by exactly one field or reserved range.
    #[test]
    fn issue12_record_fields_fit_and_do_not_overlap() {
        for l in LAYOUTS {
            let mut owner: Vec<Option<&str>> = std::vec![None; l.len];
            for f in l.fields {
                assert!(f.size > 0, "{}.{} is empty", l.name, f.name);
                assert!(
                    f.offset + f.size <= l.len,
                    "{}.{} ends at {}, past the {}-byte record",
                    l.name,
                    f.name,
                    f.offset + f.size,
                    l.len
                );
                for (b, o) in owner.iter_mut().enumerate().skip(f.offset).take(f.size) {
                    if let Some(other) = o {
                        panic!(
                            "{}.{} overlaps {}.{other} at byte {b}",
                            l.name, f.name, l.name
                        );
                    }
                    *o = Some(f.name);
                }
            }
            for (b, o) in owner.iter().enumerate() {
                assert!(
                    o.is_some(),
                    "byte {b} of {} is not named (field or reserved)",
                    l.name
                );
            }
        }
    }

    /// The leading offsets of the `;`-separated entries of a records-table cell.
    fn doc_offsets(cell: &str) -> Vec<usize> {
        cell.split(';')
            .filter_map(|part| {
                let digits: std::string::String = part
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let rest = part.trim_start().get(digits.len()..)?;
                (!digits.is_empty() && (rest.starts_with(':') || rest.starts_with('–')))
                    .then(|| digits.parse().ok())
                    .flatten()
            })
            .collect()
    }

    /// The specification's header and record tables name the same offsets and sizes as
    /// the `records!` table.
    #[test]
    fn issue12_docs_tables_match_the_records_table() {
        let doc = include_str!("../../docs/bundle-format.md");
        for l in LAYOUTS {
            let mut want: Vec<usize> = l.fields.iter().map(|f| f.offset).collect();
            want.sort_unstable();
            if l.name == "header" {
                let header = doc
                    .split("## Header")
                    .nth(1)
                    .and_then(|s| s.split("## Body").next())
                    .expect("the spec has a header section");
                let rows: Vec<(usize, usize)> = header
                    .lines()
                    .filter_map(|line| {
                        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                        Some((cells.get(1)?.parse().ok()?, cells.get(2)?.parse().ok()?))
                    })
                    .collect();
                let mut ours: Vec<(usize, usize)> =
                    l.fields.iter().map(|f| (f.offset, f.size)).collect();
                ours.sort_unstable();
                assert_eq!(rows, ours, "docs header table vs records! table");
                continue;
            }
            let prefix = std::format!("| {} | ", l.name);
            let row = doc
                .lines()
                .find(|line| line.starts_with(&prefix))
                .unwrap_or_else(|| panic!("docs/bundle-format.md has no `{}` record row", l.name));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert_eq!(cells[2], std::format!("{}", l.len), "size of {}", l.name);
            assert_eq!(doc_offsets(cells[3]), want, "offsets of {}", l.name);
        }
    }

    /// A view reads what the writer wrote; out of range reads all zeros.
    #[test]
    fn issue12_views_read_what_writers_write() {
        let slot = SlotFields {
            path: Span { off: 7, len: 3 },
            kind: kind::LIST,
            elem_kind: kind::ENUM,
            enum_id: 2,
            first_field: 0x1234,
            field_count: 9,
            max_len: 70_000,
        };
        let mut section = Vec::new();
        section.extend_from_slice(&SlotFields::default().to_bytes());
        section.extend_from_slice(&slot.to_bytes());
        assert_eq!(SlotRec::count(&section), 2);
        assert_eq!(SlotRec::nth(&section, 1).fields(), slot);
        assert_eq!(SlotRec::nth(&section, 1).max_len(), 70_000);
        assert_eq!(SlotRec::nth(&section, 2).fields(), SlotFields::default());
        assert_eq!(SlotRec::nth(&section, usize::MAX).kind(), 0);
        let mut other = slot;
        other.enum_id = NONE_U16;
        assert_eq!(other.put(&mut section, 0), Some(()));
        assert_eq!(SlotRec::nth(&section, 0).enum_id(), NONE_U16);
        assert_eq!(other.put(&mut section, 2), None);

        let h = Header::for_body(b"body");
        let bytes = h.write();
        assert_eq!(&bytes[..4], b"IPEB");
        assert_eq!(Header::parse(&bytes), Ok(h));
        assert_eq!(h.body_len, 4);
    }
}
