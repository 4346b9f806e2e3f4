//! The bundle wire format: header, body sections and fixed-width record layouts.
//!
//! `docs/bundle-format.md` is the byte-level specification; this module is its code. The
//! compiler builds a [`Body`] over its own buffers and serializes it with postcard; the runtime
//! deserializes the same struct borrowing every section from the input bytes (zero copy).
//! Sections hold fixed-width little-endian records so any record is reachable in O(1).

use serde::{Deserialize, Serialize};

/// The first four bytes of every bundle.
pub const MAGIC: [u8; 4] = *b"IPEB";
/// The format version this crate reads and writes.
pub const VERSION: u16 = 1;
/// Header length in bytes: magic, version, flags, body length, CRC-32.
pub const HEADER_LEN: usize = 16;
/// The checksum of the body: CRC-32/ISCSI (Castagnoli).
pub const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// "No such entry" in a `u16` reference field (no enum, no field).
pub const NONE_U16: u16 = u16::MAX;
/// "No such entry" in a `u32` reference field (no reason text).
pub const NONE_U32: u32 = u32::MAX;

/// The postcard-encoded body. Every section is a byte string of fixed-width records described
/// by the `*_LEN` constants and [`rec`]; `text` holds every string the records point into.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Body<'a> {
    /// 0: allow, 1: deny; the decision when no policy applies.
    pub default: u8,
    /// All strings, concatenated; records refer to `(offset, length)` ranges of it.
    #[serde(borrow)]
    pub text: &'a str,
    /// Sorted, distinct comparable strings (symbols): [`SYMBOL_LEN`]-byte records.
    pub symbols: &'a [u8],
    /// Attribute slots sorted by path: [`SLOT_LEN`]-byte records.
    pub slots: &'a [u8],
    /// Fields of list-of-records slots: [`FIELD_LEN`]-byte records.
    pub fields: &'a [u8],
    /// Enums: [`ENUM_LEN`]-byte records `(first member, member count)` into `members`.
    pub enums: &'a [u8],
    /// Enum members in rank order: `u32` symbol ids.
    pub members: &'a [u8],
    /// Constants: [`CONST_LEN`]-byte records.
    pub consts: &'a [u8],
    /// Constant sets: [`SET_LEN`]-byte records `(kind, first key, key count)` into `set_keys`.
    pub sets: &'a [u8],
    /// Sorted distinct `i64` keys of every set (symbol id, integer, rank or 0/1).
    pub set_keys: &'a [u8],
    /// All bytecode, concatenated.
    pub code: &'a [u8],
    /// Policies in bundle order: [`POLICY_LEN`]-byte records.
    pub policies: &'a [u8],
    /// Requirement clauses: [`CLAUSE_LEN`]-byte records.
    pub clauses: &'a [u8],
    /// Metadata entries: [`META_LEN`]-byte records.
    pub metadata: &'a [u8],
    /// Trigger index groups, one per indexed slot, sorted by slot: [`GROUP_LEN`]-byte records.
    pub index_groups: &'a [u8],
    /// Trigger index buckets sorted by (group, key): [`BUCKET_LEN`]-byte records.
    pub index_buckets: &'a [u8],
    /// Policy id lists referenced by groups and buckets: `u16` ids.
    pub index_policies: &'a [u8],
    /// Policies not in any index group, ascending: `u16` ids.
    pub unindexed: &'a [u8],
}

/// Symbol record: text offset `u32`, text length `u32`.
pub const SYMBOL_LEN: usize = 8;
/// Slot record: path offset `u32`, path length `u32`, kind `u8`, element kind `u8`,
/// enum `u16` (or [`NONE_U16`]), first field `u16`, field count `u16`, max length `u32`.
pub const SLOT_LEN: usize = 20;
/// Field record: path offset `u32`, path length `u32`, kind `u8`, reserved `u8`, enum `u16`.
pub const FIELD_LEN: usize = 12;
/// Enum record: first member `u32`, member count `u32`.
pub const ENUM_LEN: usize = 8;
/// Constant record: kind `u8`, three reserved bytes, value `i64` (symbol id, integer, rank
/// or 0/1), enum `u16`, two reserved bytes.
pub const CONST_LEN: usize = 16;
/// Set record: kind `u8`, reserved `u8`, enum `u16`, first key `u32`, key count `u32`.
pub const SET_LEN: usize = 12;
/// Policy record: name, intent and reason `(offset u32, length u32)` each (reason offset
/// [`NONE_U32`] when absent), trigger code `(offset u32, length u32)` (length 0: no trigger),
/// first clause `u32`, clause count `u16`, body kind `u8` (0 requires, 1 denies), reserved
/// `u8`, first metadata entry `u32`, metadata count `u16`, reserved `u16`, cost bound `u32`.
pub const POLICY_LEN: usize = 56;
/// Clause record: code `(offset u32, length u32)`, text `(offset u32, length u32)`,
/// reports-count flag `u8`, three reserved bytes.
pub const CLAUSE_LEN: usize = 20;
/// Metadata record: key `(offset u32, length u32)`, kind `u8` (0 string, 1 int, 2 bool),
/// three reserved bytes, value `i64` (for strings: text offset in the low 32 bits and length
/// in the high 32 bits).
pub const META_LEN: usize = 20;
/// Index group record: slot `u16`, reserved `u16`, first bucket `u32`, bucket count `u32`,
/// first policy `u32`, policy count `u32` (every policy of the group, ascending).
pub const GROUP_LEN: usize = 20;
/// Index bucket record: key `i64`, first policy `u32`, policy count `u32` (ascending ids).
pub const BUCKET_LEN: usize = 16;

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

    /// The value kind a record kind byte declares (lists of scalars and of records are both
    /// [`List`](crate::vocab::ValueKind::List)); `None` for an unknown byte.
    pub fn value_kind(k: u8) -> Option<crate::vocab::ValueKind> {
        Some(match k {
            STR => crate::vocab::ValueKind::Str,
            INT => crate::vocab::ValueKind::Int,
            BOOL => crate::vocab::ValueKind::Bool,
            ENUM => crate::vocab::ValueKind::Enum,
            LIST | RECORDS => crate::vocab::ValueKind::List,
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
        }
    }
}

/// Little-endian field readers over record bytes. They return 0 when out of range, which a
/// verified bundle never is.
pub mod rec {
    /// Reads a `u8` at `at`.
    #[inline(always)]
    pub fn u8(b: &[u8], at: usize) -> u8 {
        b.get(at).copied().unwrap_or(0)
    }
    /// Reads a little-endian `u16` at `at`.
    #[inline(always)]
    pub fn u16(b: &[u8], at: usize) -> u16 {
        match b.get(at..at.wrapping_add(2)) {
            Some(&[x, y]) => u16::from_le_bytes([x, y]),
            _ => 0,
        }
    }
    /// Reads a little-endian `u32` at `at`.
    #[inline(always)]
    pub fn u32(b: &[u8], at: usize) -> u32 {
        b.get(at..at.wrapping_add(4))
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map_or(0, u32::from_le_bytes)
    }
    /// Reads a little-endian `i64` at `at`.
    #[inline(always)]
    pub fn i64(b: &[u8], at: usize) -> i64 {
        b.get(at..at.wrapping_add(8))
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map_or(0, i64::from_le_bytes)
    }
    /// The `i`-th record of `len` bytes in `table` (empty when out of range).
    #[inline(always)]
    pub fn nth(table: &[u8], len: usize, i: usize) -> &[u8] {
        let start = i.wrapping_mul(len);
        table.get(start..start.wrapping_add(len)).unwrap_or(&[])
    }
}
