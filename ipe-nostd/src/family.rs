//! The optional language families (cargo features `time`, `ip`, `unicode`, `arith` of issue
//! #14; `segment`, `positional`, `defaults`, `dynkey`, `ranges`, `lookups`, `nested`, `like` of
//! issue #15): which value kinds and instructions
//! each needs, and the verifier's check that this build has them.
//! A build without a family refuses, at load, a bundle that uses it
//! ([`VerifyError::Unsupported`](crate::verify::VerifyError::Unsupported) for a slot, field,
//! constant or set kind, a positional slot or a `slot_defaults` section,
//! [`CodeError::Unsupported`](crate::verify::CodeError::Unsupported) for an instruction), so
//! the interpreter never meets the code left out.

use crate::format::kind;
use crate::isa::{Instr, StrOp};

/// An optional family of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Family {
    /// Timestamps and durations (kinds 12, 13), `sub` and `time.*` (feature `time`).
    Time,
    /// Addresses (kind 8), `in.ip.*` and IP range sets (feature `ip`).
    Ip,
    /// The `lower.*` string operators, `str.fold` and `str.match.fold`, and the Unicode case
    /// tables (feature `unicode`).
    Unicode,
    /// The `arith` instruction: checked `+ - * / % &`, `-`, `min`, `max`, `abs` (feature
    /// `arith`; 64-bit division is a library call on 32-bit targets).
    Arith,
    /// `segment(x, sep, i)`: the `seg.*` and `has.seg.*` instructions (feature `segment`).
    Segment,
    /// Positional list access `xs[2]`: slots derived from a list slot (feature `positional`).
    Positional,
    /// Schema defaults shown in default reasons: the `slot_defaults` section (feature
    /// `defaults`).
    Defaults,
    /// Dynamic keys on request maps (`labels[k]`): the `map.get` and `map.has` instructions
    /// (feature `dynkey`, issue #13).
    DynKey,
    /// Integer range tables: the `in.range` instruction (feature `ranges`, issue #14).
    Ranges,
    /// Lookup tables (`lookup(table, key)`, issue #13): the `lookup.slot` and `lookup.field`
    /// instructions (feature `lookups`, issue #15, session 10).
    Lookups,
    /// Nested lists (a list field of a list's elements, issue #13): the `in.field`,
    /// `count.field`, `any.field` and `all.field` instructions (feature `nested`, issue #15,
    /// session 10).
    Nested,
    /// Glob patterns: the `like` string operator (feature `like`, issue #15, session 10).
    Like,
}

impl Family {
    /// The cargo feature of ipe-nostd that enables the family.
    pub const fn feature(self) -> &'static str {
        match self {
            Family::Time => "time",
            Family::Ip => "ip",
            Family::Unicode => "unicode",
            Family::Arith => "arith",
            Family::Segment => "segment",
            Family::Positional => "positional",
            Family::Defaults => "defaults",
            Family::DynKey => "dynkey",
            Family::Ranges => "ranges",
            Family::Lookups => "lookups",
            Family::Nested => "nested",
            Family::Like => "like",
        }
    }

    /// Whether this build has the family.
    pub const fn enabled(self) -> bool {
        match self {
            Family::Time => cfg!(feature = "time"),
            Family::Ip => cfg!(feature = "ip"),
            Family::Unicode => cfg!(feature = "unicode"),
            Family::Arith => cfg!(feature = "arith"),
            Family::Segment => cfg!(feature = "segment"),
            Family::Positional => cfg!(feature = "positional"),
            Family::Defaults => cfg!(feature = "defaults"),
            Family::DynKey => cfg!(feature = "dynkey"),
            Family::Ranges => cfg!(feature = "ranges"),
            Family::Lookups => cfg!(feature = "lookups"),
            Family::Nested => cfg!(feature = "nested"),
            Family::Like => cfg!(feature = "like"),
        }
    }
}

impl core::fmt::Display for Family {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.feature())
    }
}

/// The family a value kind needs, if any.
pub const fn of_kind(k: u8) -> Option<Family> {
    match k {
        kind::TIME | kind::DURATION => Some(Family::Time),
        kind::IP => Some(Family::Ip),
        _ => None,
    }
}

/// The family an instruction needs, if any.
pub fn of_instr(i: &Instr) -> Option<Family> {
    match i {
        Instr::Sub {} | Instr::TimeHour {} | Instr::TimeWeekday {} | Instr::TimeOfDay {} => {
            Some(Family::Time)
        }
        Instr::InIpSlot { .. }
        | Instr::InIpField { .. }
        | Instr::CmpIpSlotSlot { .. }
        | Instr::CmpIpFieldSlot { .. }
        | Instr::CmpIpFieldField { .. } => Some(Family::Ip),
        Instr::Arith { .. } => Some(Family::Arith),
        Instr::MapGet { .. } | Instr::MapHas { .. } | Instr::InIp { .. } | Instr::CmpIp { .. } => {
            Some(Family::DynKey)
        }
        Instr::InRange { .. } => Some(Family::Ranges),
        Instr::LookupSlot { .. } | Instr::LookupField { .. } => Some(Family::Lookups),
        Instr::InField { .. }
        | Instr::CountField { .. }
        | Instr::AnyField { .. }
        | Instr::AllField { .. } => Some(Family::Nested),
        Instr::StrOp { op: StrOp::Like } => Some(Family::Like),
        Instr::SegSlot { .. }
        | Instr::SegField { .. }
        | Instr::HasSegSlot { .. }
        | Instr::HasSegField { .. }
        | Instr::Seg { .. }
        | Instr::HasSeg { .. } => Some(Family::Segment),
        Instr::StrOp {
            op:
                StrOp::LowerEq | StrOp::LowerStartsWith | StrOp::LowerEndsWith | StrOp::LowerContains,
        }
        | Instr::StrFold { .. }
        | Instr::StrMatchFold { .. } => Some(Family::Unicode),
        _ => None,
    }
}

/// `Err(family)` when kind `k` needs a family this build lacks.
pub fn check_kind(k: u8) -> Result<(), Family> {
    match of_kind(k) {
        Some(f) if !f.enabled() => Err(f),
        _ => Ok(()),
    }
}

/// `Err(family)` when instruction `i` needs a family this build lacks.
pub fn check_instr(i: &Instr) -> Result<(), Family> {
    match of_instr(i) {
        Some(f) if !f.enabled() => Err(f),
        _ => Ok(()),
    }
}
