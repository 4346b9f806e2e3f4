//! A decoded, verified bundle borrowed from its bytes, and typed views of its records.

use crate::format::{
    self,
    kind::{self, value_kind},
    rec, Body, NONE_U16, NONE_U32,
};
use crate::value::{Str, NO_SYMBOL};
use crate::verify::{self, VerifyError};
use crate::vocab::{Effect, ValueKind};

/// Index of an attribute slot in a bundle (slots are sorted by path).
pub type SlotId = u16;
/// Index of a policy in a bundle (bundle order).
pub type PolicyId = u16;

/// Why a byte string is not a usable bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BundleError {
    /// Shorter than the header, or shorter than the body length the header declares.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        found: usize,
    },
    /// The first four bytes are not `IPEB`.
    BadMagic,
    /// A format version this build cannot read.
    UnsupportedVersion(u16),
    /// The header's reserved flags are not 0.
    ReservedFlags(u16),
    /// Bytes follow the body.
    TrailingBytes(usize),
    /// The body's CRC-32 does not match the header.
    ChecksumMismatch {
        /// Checksum in the header.
        expected: u32,
        /// Checksum of the body.
        found: u32,
    },
    /// The body is not a valid postcard encoding of the body structure.
    MalformedBody,
    /// A length prefix of the body is longer than its shortest varint form (each bundle has
    /// exactly one encoding).
    NonCanonical,
    /// The body decoded but failed verification.
    Verify(VerifyError),
}

impl core::fmt::Display for BundleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BundleError::Truncated { needed, found } => {
                write!(f, "bundle truncated: needs {needed} bytes, found {found}")
            }
            BundleError::BadMagic => f.write_str("not an IPE bundle (bad magic)"),
            BundleError::UnsupportedVersion(v) => {
                write!(f, "unsupported bundle format version {v}")
            }
            BundleError::ReservedFlags(v) => {
                write!(
                    f,
                    "bundle header has reserved flags {v:#06x} set (must be 0)"
                )
            }
            BundleError::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the bundle"),
            BundleError::ChecksumMismatch { expected, found } => write!(
                f,
                "bundle checksum mismatch: header says {expected:#010x}, body is {found:#010x}"
            ),
            BundleError::MalformedBody => f.write_str("bundle body is malformed"),
            BundleError::NonCanonical => {
                f.write_str("bundle body has a length prefix that is not in its shortest form")
            }
            BundleError::Verify(e) => write!(f, "bundle failed verification: {e}"),
        }
    }
}

impl core::error::Error for BundleError {}

impl From<VerifyError> for BundleError {
    fn from(e: VerifyError) -> Self {
        BundleError::Verify(e)
    }
}

/// Bytes of the shortest postcard varint encoding `n`.
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// The length of the canonical postcard encoding of `body` (`None` on overflow).
fn canonical_len(body: &Body<'_>) -> Option<usize> {
    let sections = [
        body.text.as_bytes(),
        body.symbols,
        body.slots,
        body.fields,
        body.enums,
        body.members,
        body.consts,
        body.sets,
        body.set_keys,
        body.code,
        body.policies,
        body.clauses,
        body.metadata,
        body.index_groups,
        body.index_buckets,
        body.index_policies,
        body.unindexed,
    ];
    sections.iter().try_fold(1usize, |acc, s| {
        acc.checked_add(varint_len(s.len()))?.checked_add(s.len())
    })
}

/// A verified policy bundle borrowing its bytes (from flash, an mmap or a buffer).
#[derive(Clone, Copy, Debug)]
pub struct Bundle<'a> {
    pub(crate) body: Body<'a>,
}

/// A slot's declared shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotInfo<'a> {
    /// Dotted path.
    pub path: &'a str,
    /// `Str`, `Int`, `Bool`, `Enum`, or `List` (of scalars or of records).
    pub kind: ValueKind,
    /// For a list of scalars, the element kind; for a list of records, `None`.
    pub elem: Option<ValueKind>,
    /// The enum of an enum slot or enum-list slot ([`NONE_U16`] if none).
    pub enum_id: u16,
    /// First field (lists of records).
    pub first_field: u16,
    /// Field count (0 except for lists of records).
    pub fields: u16,
    /// Longest accepted list.
    pub max_len: u32,
}

/// A list-of-records field's declared shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo<'a> {
    /// Dotted path inside the element.
    pub path: &'a str,
    /// Scalar kind.
    pub kind: ValueKind,
    /// Enum id ([`NONE_U16`] if not an enum).
    pub enum_id: u16,
}

/// A constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConstInfo {
    /// Scalar kind.
    pub kind: ValueKind,
    /// Symbol id, integer, rank, or 0/1.
    pub value: i64,
    /// Enum id for enum constants ([`NONE_U16`] otherwise).
    pub enum_id: u16,
}

/// Whether a policy requires something or denies outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyKind {
    /// `requires`: violated when a clause is false.
    Requires,
    /// `denies`: violated whenever triggered.
    Denies,
}

/// A policy record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyInfo<'a> {
    /// Name.
    pub name: &'a str,
    /// Intent.
    pub intent: &'a str,
    /// `with reason` text, if any.
    pub reason: Option<&'a str>,
    /// Trigger code (empty: always applies).
    pub trigger: &'a [u8],
    /// First clause index.
    pub first_clause: u32,
    /// Number of clauses.
    pub clauses: u16,
    /// Requires or denies.
    pub kind: BodyKind,
    /// First metadata entry.
    pub first_meta: u32,
    /// Number of metadata entries.
    pub metas: u16,
    /// Static bound on the instructions one evaluation of this policy executes.
    pub cost: u32,
}

/// A requirement clause record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClauseInfo<'a> {
    /// Code.
    pub code: &'a [u8],
    /// Normalized source text.
    pub text: &'a str,
    /// Whether a violation reports the count (` (found N)`).
    pub reports_count: bool,
}

/// A metadata value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaValue<'a> {
    /// A string.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// One trigger-index group: the policies whose trigger requires one slot to equal a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexGroup {
    /// The indexed slot.
    pub slot: SlotId,
    /// First bucket.
    pub first_bucket: u32,
    /// Bucket count.
    pub buckets: u32,
    /// First entry (in the policy-id list) of every policy of the group.
    pub first_policy: u32,
    /// Number of policies in the group.
    pub policies: u32,
}

impl<'a> Bundle<'a> {
    /// Decodes and verifies a bundle without copying it, with the default cost budget
    /// ([`DEFAULT_MAX_COST`](crate::verify::DEFAULT_MAX_COST) steps per policy).
    ///
    /// # Examples
    /// ```
    /// # fn demo(bytes: &[u8]) -> Result<(), ipe_nostd::BundleError> {
    /// let bundle = ipe_nostd::Bundle::from_bytes(bytes)?;
    /// println!("{} policies", bundle.policy_count());
    /// # Ok(()) }
    /// ```
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, BundleError> {
        Self::from_bytes_with_max_cost(bytes, verify::DEFAULT_MAX_COST)
    }

    /// [`from_bytes`](Self::from_bytes) with an explicit cost budget: a bundle with a policy
    /// whose cost bound exceeds `max_cost` steps is refused
    /// ([`VerifyError::OverBudget`](crate::verify::VerifyError::OverBudget)).
    pub fn from_bytes_with_max_cost(bytes: &'a [u8], max_cost: u32) -> Result<Self, BundleError> {
        let body = Self::decode_unverified(bytes)?;
        verify::verify_with_max_cost(&body, max_cost)?;
        Ok(Bundle { body })
    }

    /// Checks the header and checksum and decodes the body, without verifying it.
    pub fn decode_unverified(bytes: &'a [u8]) -> Result<Body<'a>, BundleError> {
        let header = bytes
            .get(..format::HEADER_LEN)
            .ok_or(BundleError::Truncated {
                needed: format::HEADER_LEN,
                found: bytes.len(),
            })?;
        if rec::u32(header, 0).to_le_bytes() != format::MAGIC {
            return Err(BundleError::BadMagic);
        }
        let version = rec::u16(header, 4);
        if version != format::VERSION {
            return Err(BundleError::UnsupportedVersion(version));
        }
        let flags = rec::u16(header, 6);
        if flags != 0 {
            return Err(BundleError::ReservedFlags(flags));
        }
        let body_len = rec::u32(header, 8) as usize;
        let crc = rec::u32(header, 12);
        let rest = bytes.get(format::HEADER_LEN..).unwrap_or(&[]);
        let body_bytes = rest.get(..body_len).ok_or(BundleError::Truncated {
            needed: format::HEADER_LEN.saturating_add(body_len),
            found: bytes.len(),
        })?;
        if rest.len() > body_len {
            return Err(BundleError::TrailingBytes(rest.len() - body_len));
        }
        let found = format::CRC.checksum(body_bytes);
        if found != crc {
            return Err(BundleError::ChecksumMismatch {
                expected: crc,
                found,
            });
        }
        let (body, left) = postcard::take_from_bytes::<Body<'a>>(body_bytes)
            .map_err(|_| BundleError::MalformedBody)?;
        if !left.is_empty() {
            return Err(BundleError::MalformedBody);
        }
        // Every varint of the body is a length prefix: the body is canonical exactly when it is
        // as long as its encoding with shortest prefixes (a longer prefix only adds bytes).
        if canonical_len(&body) != Some(body_bytes.len()) {
            return Err(BundleError::NonCanonical);
        }
        Ok(body)
    }

    /// The raw body sections.
    pub fn body(&self) -> &Body<'a> {
        &self.body
    }

    /// The decision when no policy applies.
    pub fn default_effect(&self) -> Effect {
        if self.body.default == 0 {
            Effect::Allow
        } else {
            Effect::Deny
        }
    }

    /// A `(offset, length)` range of the text section.
    #[inline]
    pub(crate) fn text(&self, off: u32, len: u32) -> &'a str {
        let start = off as usize;
        self.body
            .text
            .get(start..start.wrapping_add(len as usize))
            .unwrap_or("")
    }

    fn text_at(&self, r: &[u8], at: usize) -> &'a str {
        self.text(rec::u32(r, at), rec::u32(r, at + 4))
    }

    /// Number of attribute slots.
    pub fn slot_count(&self) -> usize {
        self.body.slots.len() / format::SLOT_LEN
    }

    /// Number of symbols in the string table.
    pub fn symbol_count(&self) -> usize {
        self.body.symbols.len() / format::SYMBOL_LEN
    }

    /// The text of symbol `sym`.
    pub fn symbol(&self, sym: u32) -> &'a str {
        self.text_at(
            rec::nth(self.body.symbols, format::SYMBOL_LEN, sym as usize),
            0,
        )
    }

    /// Looks a request string up in the string table (binary search).
    #[inline]
    pub fn intern<'s>(&self, text: &'s str) -> Str<'s> {
        let n = self.symbol_count();
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.symbol(mid as u32).cmp(text) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => {
                    return Str {
                        text,
                        sym: mid as u32,
                    }
                }
            }
        }
        Str {
            text,
            sym: NO_SYMBOL,
        }
    }

    /// The slot with this path.
    pub fn slot(&self, path: &str) -> Option<SlotId> {
        let (mut lo, mut hi) = (0usize, self.slot_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.slot_info(mid as SlotId).path.cmp(path) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return SlotId::try_from(mid).ok(),
            }
        }
        None
    }

    /// The shape of slot `slot`.
    pub fn slot_info(&self, slot: SlotId) -> SlotInfo<'a> {
        let r = rec::nth(self.body.slots, format::SLOT_LEN, usize::from(slot));
        let k = rec::u8(r, 8);
        SlotInfo {
            path: self.text_at(r, 0),
            kind: value_kind(k).unwrap_or(ValueKind::Str),
            elem: if k == kind::LIST {
                value_kind(rec::u8(r, 9))
            } else {
                None
            },
            enum_id: rec::u16(r, 10),
            first_field: rec::u16(r, 12),
            fields: rec::u16(r, 14),
            max_len: rec::u32(r, 16),
        }
    }

    /// The enum of scalar enum slot `slot` (`None` for any other slot).
    #[inline]
    pub fn enum_of_slot(&self, slot: SlotId) -> Option<u16> {
        let r = rec::nth(self.body.slots, format::SLOT_LEN, usize::from(slot));
        (rec::u8(r, 8) == kind::ENUM).then(|| rec::u16(r, 10))
    }

    /// Whether slot `slot` is a list of records.
    pub fn is_records(&self, slot: SlotId) -> bool {
        let r = rec::nth(self.body.slots, format::SLOT_LEN, usize::from(slot));
        rec::u8(r, 8) == kind::RECORDS
    }

    /// The field of list-of-records slot `slot` with this path.
    pub fn field(&self, slot: SlotId, path: &str) -> Option<u16> {
        let info = self.slot_info(slot);
        (0..info.fields).find(|&f| self.field_info(slot, f).path == path)
    }

    /// The shape of field `field` of slot `slot`.
    pub fn field_info(&self, slot: SlotId, field: u16) -> FieldInfo<'a> {
        let first = self.slot_info(slot).first_field;
        let r = rec::nth(
            self.body.fields,
            format::FIELD_LEN,
            usize::from(first).wrapping_add(usize::from(field)),
        );
        FieldInfo {
            path: self.text_at(r, 0),
            kind: value_kind(rec::u8(r, 8)).unwrap_or(ValueKind::Str),
            enum_id: rec::u16(r, 10),
        }
    }

    /// Members of enum `enum_id` in rank order.
    pub fn enum_members(&self, enum_id: u16) -> impl Iterator<Item = &'a str> + '_ {
        let r = rec::nth(self.body.enums, format::ENUM_LEN, usize::from(enum_id));
        let (first, n) = (rec::u32(r, 0) as usize, rec::u32(r, 4) as usize);
        (first..first.saturating_add(n))
            .map(move |m| self.symbol(rec::u32(self.body.members, m * 4)))
    }

    /// The rank of a string in enum `enum_id`, if it is a member.
    #[inline]
    pub fn enum_rank(&self, enum_id: u16, s: Str<'_>) -> Option<u16> {
        crate::read::enum_rank(self, enum_id, s)
    }

    /// Constant `c`.
    pub fn constant(&self, c: u16) -> ConstInfo {
        let r = rec::nth(self.body.consts, format::CONST_LEN, usize::from(c));
        ConstInfo {
            kind: value_kind(rec::u8(r, 0)).unwrap_or(ValueKind::Str),
            value: rec::i64(r, 4),
            enum_id: rec::u16(r, 12),
        }
    }

    /// Whether constant set `set` holds `key` (binary search).
    #[inline]
    pub fn set_contains(&self, set: u16, key: i64) -> bool {
        let r = rec::nth(self.body.sets, format::SET_LEN, usize::from(set));
        let (first, n) = (rec::u32(r, 4) as usize, rec::u32(r, 8) as usize);
        let (mut lo, mut hi) = (first, first.saturating_add(n));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let k = rec::i64(self.body.set_keys, mid * 8);
            match k.cmp(&key) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// Number of policies.
    pub fn policy_count(&self) -> usize {
        self.body.policies.len() / format::POLICY_LEN
    }

    /// Policy `id`.
    #[inline]
    pub fn policy(&self, id: PolicyId) -> PolicyInfo<'a> {
        let r = rec::nth(self.body.policies, format::POLICY_LEN, usize::from(id));
        let reason_off = rec::u32(r, 16);
        let (t_off, t_len) = (rec::u32(r, 24) as usize, rec::u32(r, 28) as usize);
        PolicyInfo {
            name: self.text_at(r, 0),
            intent: self.text_at(r, 8),
            reason: (reason_off != NONE_U32).then(|| self.text(reason_off, rec::u32(r, 20))),
            trigger: self
                .body
                .code
                .get(t_off..t_off.wrapping_add(t_len))
                .unwrap_or(&[]),
            first_clause: rec::u32(r, 32),
            clauses: rec::u16(r, 36),
            kind: if rec::u8(r, 38) == 1 {
                BodyKind::Denies
            } else {
                BodyKind::Requires
            },
            first_meta: rec::u32(r, 40),
            metas: rec::u16(r, 44),
            cost: rec::u32(r, 48),
        }
    }

    /// The policy with this name.
    pub fn policy_by_name(&self, name: &str) -> Option<PolicyId> {
        (0..self.policy_count())
            .filter_map(|i| PolicyId::try_from(i).ok())
            .find(|&i| self.policy(i).name == name)
    }

    /// Clause `i` (absolute index).
    #[inline]
    pub fn clause(&self, i: u32) -> ClauseInfo<'a> {
        let r = rec::nth(self.body.clauses, format::CLAUSE_LEN, i as usize);
        let (off, len) = (rec::u32(r, 0) as usize, rec::u32(r, 4) as usize);
        ClauseInfo {
            code: self
                .body
                .code
                .get(off..off.wrapping_add(len))
                .unwrap_or(&[]),
            text: self.text_at(r, 8),
            reports_count: rec::u8(r, 16) != 0,
        }
    }

    /// Metadata entry `i` (absolute index): key and value.
    pub fn metadata(&self, i: u32) -> (&'a str, MetaValue<'a>) {
        let r = rec::nth(self.body.metadata, format::META_LEN, i as usize);
        let v = rec::i64(r, 12);
        let value = match rec::u8(r, 8) {
            1 => MetaValue::Int(v),
            2 => MetaValue::Bool(v != 0),
            _ => MetaValue::Str(self.text(v as u32, (v >> 32) as u32)),
        };
        (self.text_at(r, 0), value)
    }

    /// Number of trigger-index groups.
    pub fn index_group_count(&self) -> usize {
        self.body.index_groups.len() / format::GROUP_LEN
    }

    /// Trigger-index group `g`.
    #[inline]
    pub fn index_group(&self, g: usize) -> IndexGroup {
        let r = rec::nth(self.body.index_groups, format::GROUP_LEN, g);
        IndexGroup {
            slot: rec::u16(r, 0),
            first_bucket: rec::u32(r, 4),
            buckets: rec::u32(r, 8),
            first_policy: rec::u32(r, 12),
            policies: rec::u32(r, 16),
        }
    }

    /// The `(first, count)` policy-list range of the bucket of `group` for `key`, if any.
    #[inline]
    pub fn index_bucket(&self, group: &IndexGroup, key: i64) -> Option<(u32, u32)> {
        let (mut lo, mut hi) = (
            group.first_bucket as usize,
            (group.first_bucket as usize).saturating_add(group.buckets as usize),
        );
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let r = rec::nth(self.body.index_buckets, format::BUCKET_LEN, mid);
            match rec::i64(r, 0).cmp(&key) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Some((rec::u32(r, 8), rec::u32(r, 12))),
            }
        }
        None
    }

    /// Entry `i` of the index's policy-id lists.
    #[inline]
    pub fn index_policy(&self, i: u32) -> PolicyId {
        rec::u16(self.body.index_policies, (i as usize).wrapping_mul(2))
    }

    /// The policies in no index group, ascending.
    pub fn unindexed(&self) -> impl Iterator<Item = PolicyId> + '_ {
        self.body.unindexed.chunks_exact(2).map(|c| rec::u16(c, 0))
    }

    /// Static bound on the instructions one evaluation of the whole bundle executes.
    pub fn cost_bound(&self) -> u64 {
        (0..self.policy_count())
            .filter_map(|i| PolicyId::try_from(i).ok())
            .map(|i| u64::from(self.policy(i).cost))
            .sum()
    }

    /// Whether `enum_id` names an enum (not [`NONE_U16`]).
    pub fn has_enum(&self, enum_id: u16) -> bool {
        enum_id != NONE_U16 && usize::from(enum_id) < self.body.enums.len() / format::ENUM_LEN
    }
}
