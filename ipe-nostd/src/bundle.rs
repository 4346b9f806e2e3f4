//! A decoded, verified bundle borrowed from its bytes, and typed views of its records.

use crate::format::{
    self, body_kind,
    kind::{self, value_kind},
    meta_kind, Body, BucketRec, ClauseRec, ConstRec, EnumRec, FieldRec, GroupRec, Header,
    MemberRec, MetaRec, PolicyRec, PolicyRefRec, ReasonPartRec, SetKeyRec, SetRec, SlotDefaultRec,
    SlotRec, Span, SymbolRec, IP_RANGE_LEN, NONE_U16, NONE_U32,
};
use crate::value::{Str, NO_SYMBOL};
use crate::verify::{self, VerifyError};
use crate::vocab::{Effect, ValueKind};

/// Index of an attribute slot in a bundle (slots are sorted by path).
pub type SlotId = u16;
/// Index of a policy in a bundle (bundle order).
pub type PolicyId = u16;

/// Why a byte string is not a usable bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt-errors", derive(defmt::Format))]
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
    /// The header names another format version than the body needs (version 2 exactly when
    /// a policy is in a first-match group).
    VersionMismatch {
        /// The header's version.
        header: u16,
        /// The version the body needs.
        body: u16,
    },
    /// The bundle has a regex table (`matches`, issue #14) and this build has no `regex`
    /// feature.
    RegexUnsupported,
    /// Regex `n` of the regex table is not a valid DFA for unanchored search.
    BadRegex(u16),
    /// The regex table has more regexes than this build (without the `alloc` feature) holds:
    /// see [`MAX_REGEXES`](crate::regex::MAX_REGEXES).
    TooManyRegexes {
        /// The most this build holds.
        max: usize,
    },
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
            BundleError::VersionMismatch { header, body } => write!(
                f,
                "bundle header says format version {header}, but its body is version {body} \
                 (version 2 exactly when it has first-match groups)"
            ),
            BundleError::RegexUnsupported => f.write_str(
                "bundle uses `matches` (a regex table) and this engine was built without the \
                 `regex` feature",
            ),
            BundleError::BadRegex(n) => write!(f, "regex {n} of the bundle is not a valid DFA"),
            BundleError::TooManyRegexes { max } => write!(
                f,
                "bundle has more regexes than this engine (built without `alloc`) holds ({max})"
            ),
        }
    }
}

impl core::error::Error for BundleError {}

impl From<VerifyError> for BundleError {
    fn from(e: VerifyError) -> Self {
        BundleError::Verify(e)
    }
}

/// The tagged trailing sections of a body, by increasing tag (`docs/bundle-format.md`,
/// "Trailing sections"): each is written as its tag byte and a byte string when non-empty.
pub fn tagged_sections<'a>(body: &Body<'a>) -> [(u8, &'a [u8]); 4] {
    [
        (format::TAG_IP_RANGES, body.ip_ranges),
        (crate::regex::REGEX_SECTION, body.regexes),
        (format::TAG_SLOT_DEFAULTS, body.slot_defaults),
        (format::TAG_INT_RANGES, body.int_ranges),
    ]
}

/// A verified policy bundle borrowing its bytes (from flash, an mmap or a buffer).
#[derive(Clone, Debug)]
pub struct Bundle<'a> {
    pub(crate) body: Body<'a>,
    /// The regex table's DFAs, validated once when loaded (issue #15: `matches` does not
    /// re-validate per decision).
    dfas: crate::regex::Dfas<'a>,
    /// Whether a policy is in a first-match group (format version 2), found once when loaded
    /// so that decision loops check it once per decision, not per policy.
    grouped: bool,
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
    /// Whether a violation records the witness element (a reason template names it).
    pub witness: bool,
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

/// The body's CRC-32C by the crate's own table-driven (or, in the `size` profile, bitwise)
/// implementation, which every target has.
fn table_crc(body: &[u8]) -> u32 {
    format::CRC.checksum(body)
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
    /// ([`VerifyError::OverBudget`]).
    pub fn from_bytes_with_max_cost(bytes: &'a [u8], max_cost: u32) -> Result<Self, BundleError> {
        Self::load(bytes, max_cost, Some(table_crc))
    }

    /// [`from_bytes_with_max_cost`](Self::from_bytes_with_max_cost) for bytes the caller has
    /// just encoded, header checksum included, from the body in its own memory (a compiler
    /// verifying its output): every check but recomputing the body's CRC-32 (issue #15: one
    /// CRC pass per compilation). Bytes from anywhere else go through `from_bytes`.
    pub fn from_encoded_with_max_cost(bytes: &'a [u8], max_cost: u32) -> Result<Self, BundleError> {
        Self::load(bytes, max_cost, None)
    }

    /// [`from_bytes_with_max_cost`](Self::from_bytes_with_max_cost) with the body's CRC-32C
    /// computed by `checksum`: a std host passes a hardware-assisted implementation (issue
    /// #15: the table-driven checksum was 15 % of swapping in a 10,000-policy bundle). The
    /// same checks in the same order, so the same errors; a `checksum` that is not CRC-32C
    /// (Castagnoli) refuses every bundle. Not in the `size` profile.
    #[cfg(not(feature = "size"))]
    pub fn from_bytes_with_checksum(
        bytes: &'a [u8],
        max_cost: u32,
        checksum: fn(&[u8]) -> u32,
    ) -> Result<Self, BundleError> {
        Self::load(bytes, max_cost, Some(checksum))
    }

    /// Decodes (the body's CRC-32C computed by `checksum`, when given) and verifies.
    fn load(
        bytes: &'a [u8],
        max_cost: u32,
        checksum: Option<fn(&[u8]) -> u32>,
    ) -> Result<Self, BundleError> {
        let body = Self::decode(bytes, checksum)?;
        let dfas = crate::regex::load(body.regexes)?;
        verify::verify_with_max_cost(&body, max_cost)?;
        let grouped = body.has_groups();
        Ok(Bundle {
            body,
            dfas,
            grouped,
        })
    }

    /// Checks the header and checksum and decodes the body, without verifying it.
    pub fn decode_unverified(bytes: &'a [u8]) -> Result<Body<'a>, BundleError> {
        Self::decode(bytes, Some(table_crc))
    }

    /// [`decode_unverified`](Self::decode_unverified), the body's CRC-32C computed by
    /// `checksum` and compared with the header's, or not compared without one (bytes a
    /// compiler has just encoded).
    pub(crate) fn decode(
        bytes: &'a [u8],
        checksum: Option<fn(&[u8]) -> u32>,
    ) -> Result<Body<'a>, BundleError> {
        let header = Header::parse(bytes)?;
        let body_len = header.body_len as usize;
        let crc = header.crc;
        let rest = bytes.get(format::HEADER_LEN..).unwrap_or(&[]);
        let body_bytes = rest.get(..body_len).ok_or(BundleError::Truncated {
            needed: format::HEADER_LEN.saturating_add(body_len),
            found: bytes.len(),
        })?;
        if rest.len() > body_len {
            return Err(BundleError::TrailingBytes(rest.len() - body_len));
        }
        let found = checksum.map_or(crc, |checksum| checksum(body_bytes));
        if found != crc {
            return Err(BundleError::ChecksumMismatch {
                expected: crc,
                found,
            });
        }
        // The struct, the optional trailing area (reason templates, then tagged sections)
        // and the canonical-length check, read by hand (issue #15: `wire.rs`).
        let body = crate::wire::decode_body(body_bytes)?;
        if header.version != body.version() {
            return Err(BundleError::VersionMismatch {
                header: header.version,
                body: body.version(),
            });
        }
        Ok(body)
    }

    /// The integer range tables of `in.range` (issue #14, session 9; section `int_ranges`, empty
    /// without them): see [`crate::ranges`].
    #[inline(always)]
    pub fn int_ranges(&self) -> &'a [u8] {
        self.body.int_ranges
    }

    /// The regex table of `matches` (issue #14; empty without regexes): see [`crate::regex`].
    #[inline(always)]
    pub fn regexes(&self) -> &'a [u8] {
        self.body.regexes
    }

    /// The schema default of scalar slot `s` as a placeholder writes it (issue #13; section
    /// `slot_defaults`), if it has one: what default reasons show for it when it is missing.
    /// One binary search.
    pub fn slot_default(&self, s: SlotId) -> Option<&'a str> {
        if !crate::family::Family::Defaults.enabled() {
            // The verifier refuses a `slot_defaults` section without the family (issue #15).
            return None;
        }
        let section = self.body.slot_defaults;
        let at = |i| SlotDefaultRec::nth(section, i);
        let i = search_sorted(0, SlotDefaultRec::count(section), &s, |i| at(i).slot())?;
        Some(self.text_span(at(i).text()))
    }

    /// The regex table's DFAs, validated when the bundle was loaded: `str.match` searches
    /// with them.
    #[inline(always)]
    pub fn dfas(&self) -> &crate::regex::Dfas<'a> {
        &self.dfas
    }

    /// Whether a policy is in a first-match group (then the bundle is format version 2 and
    /// decision loops gate its unindexed policies with [`crate::vm::FirstMatch`]).
    #[inline(always)]
    pub fn has_groups(&self) -> bool {
        self.grouped
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

    /// The text of a text range.
    #[inline]
    pub(crate) fn text_span(&self, span: Span) -> &'a str {
        self.text(span.off, span.len)
    }

    /// The code of a code range (empty when out of range).
    #[inline(always)]
    pub(crate) fn code_span(&self, span: Span) -> &'a [u8] {
        let start = span.off as usize;
        self.body
            .code
            .get(start..start.wrapping_add(span.len as usize))
            .unwrap_or(&[])
    }

    /// Number of attribute slots.
    pub fn slot_count(&self) -> usize {
        SlotRec::count(self.body.slots)
    }

    /// Number of symbols in the string table.
    pub fn symbol_count(&self) -> usize {
        SymbolRec::count(self.body.symbols)
    }

    /// The text of symbol `sym`.
    pub fn symbol(&self, sym: u32) -> &'a str {
        self.text_span(SymbolRec::nth(self.body.symbols, sym as usize).text())
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

    /// The slot of the request time `now` (issue #14: a timestamp attribute at the path
    /// [`NOW`](crate::time::NOW)), if the policies read it.
    pub fn now_slot(&self) -> Option<SlotId> {
        self.slot(crate::time::NOW)
            .filter(|&s| self.slot_rec(s).kind() == crate::format::kind::TIME)
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
        let r = self.slot_rec(slot);
        let k = r.kind();
        SlotInfo {
            path: self.text_span(r.path()),
            kind: value_kind(k).unwrap_or(ValueKind::Str),
            elem: if k == kind::LIST {
                value_kind(r.elem_kind())
            } else {
                None
            },
            enum_id: r.enum_id(),
            first_field: r.first_field(),
            fields: r.field_count(),
            max_len: r.max_len(),
        }
    }

    /// The record of slot `slot` (all zeros when out of range).
    #[inline(always)]
    pub fn slot_rec(&self, slot: SlotId) -> SlotRec<'a> {
        SlotRec::nth(self.body.slots, usize::from(slot))
    }

    /// What list slot `slot` declares, as [`crate::read::list`] checks a value against it.
    #[inline]
    pub fn list_decl(&self, slot: SlotId) -> crate::read::ListDecl {
        let r = self.slot_rec(slot);
        crate::read::ListDecl {
            kind: r.kind(),
            elem: r.elem_kind(),
            enum_id: r.enum_id(),
            fields: r.field_count(),
            max_len: r.max_len(),
        }
    }

    /// Number of field records (of all list-of-records slots).
    pub fn field_count(&self) -> usize {
        FieldRec::count(self.body.fields)
    }

    /// Field record `i`, counted over all slots (a slot's fields start at its
    /// [`first_field`](SlotRec::first_field)).
    #[inline(always)]
    pub fn field_rec(&self, i: usize) -> FieldRec<'a> {
        FieldRec::nth(self.body.fields, i)
    }

    /// The enum of scalar enum slot `slot` (`None` for any other slot).
    #[inline]
    pub fn enum_of_slot(&self, slot: SlotId) -> Option<u16> {
        let r = self.slot_rec(slot);
        (r.kind() == kind::ENUM).then(|| r.enum_id())
    }

    /// Whether slot `slot` is a list of records (or a map, iterated as one).
    pub fn is_records(&self, slot: SlotId) -> bool {
        kind::is_records(self.slot_rec(slot).kind())
    }

    /// Whether slot `slot` is a map: a JSON object read as a list of (key, value) records.
    pub fn is_map(&self, slot: SlotId) -> bool {
        self.slot_rec(slot).kind() == kind::MAP
    }

    /// Whether slot `slot` is a map of records (issue 13): a map whose entry fields after the
    /// key are the value's fields, `value.<field>` (a map of scalars has the one field `value`).
    pub fn is_record_map(&self, slot: SlotId) -> bool {
        self.is_map(slot) && self.field_info(slot, 1).path != "value"
    }

    /// The field of list-of-records slot `slot` with this path.
    pub fn field(&self, slot: SlotId, path: &str) -> Option<u16> {
        let info = self.slot_info(slot);
        (0..info.fields).find(|&f| self.field_info(slot, f).path == path)
    }

    /// The nested list's slot of field `field` of list-of-records slot `slot`, when that
    /// field is a list (issue #13: its field record names the slot record declaring it).
    pub fn nested_slot(&self, slot: SlotId, field: u16) -> Option<SlotId> {
        let first = self.slot_rec(slot).first_field();
        let r = self.field_rec(usize::from(first).wrapping_add(usize::from(field)));
        matches!(r.kind(), kind::LIST | kind::RECORDS).then(|| r.enum_id())
    }

    /// Whether slot `slot` declares a nested list (its path has `[]`, as in
    /// `containers[].ports`): no request key names it, it is read inside the elements of the
    /// list that holds it.
    pub fn is_nested_slot(&self, slot: SlotId) -> bool {
        crate::path::find_bytes(self.slot_info(slot).path, "[]").is_some()
    }

    /// The shape of field `field` of slot `slot`.
    pub fn field_info(&self, slot: SlotId, field: u16) -> FieldInfo<'a> {
        let first = self.slot_info(slot).first_field;
        let r = self.field_rec(usize::from(first).wrapping_add(usize::from(field)));
        FieldInfo {
            path: self.text_span(r.path()),
            kind: value_kind(r.kind()).unwrap_or(ValueKind::Str),
            enum_id: r.enum_id(),
        }
    }

    /// Members of enum `enum_id` in rank order.
    pub fn enum_members(&self, enum_id: u16) -> impl Iterator<Item = &'a str> + '_ {
        self.enum_member_symbols(enum_id)
            .map(move |s| self.symbol(s))
    }

    /// Number of enums.
    pub fn enum_count(&self) -> usize {
        EnumRec::count(self.body.enums)
    }

    /// The record of enum `enum_id` (all zeros when out of range).
    #[inline(always)]
    pub fn enum_rec(&self, enum_id: u16) -> EnumRec<'a> {
        EnumRec::nth(self.body.enums, usize::from(enum_id))
    }

    /// Symbol ids of the members of enum `enum_id`, in rank order.
    pub fn enum_member_symbols(&self, enum_id: u16) -> impl Iterator<Item = u32> + 'a {
        let r = self.enum_rec(enum_id);
        let (first, n) = (r.first_member() as usize, r.member_count() as usize);
        let members = self.body.members;
        (first..first.saturating_add(n)).map(move |m| MemberRec::nth(members, m).symbol())
    }

    /// The rank of a string in enum `enum_id`, if it is a member.
    #[inline]
    pub fn enum_rank(&self, enum_id: u16, s: Str<'_>) -> Option<u16> {
        crate::read::enum_rank(self, enum_id, s)
    }

    /// Constant `c`.
    pub fn constant(&self, c: u16) -> ConstInfo {
        let r = self.const_rec(c);
        ConstInfo {
            kind: value_kind(r.kind()).unwrap_or(ValueKind::Str),
            value: r.value(),
            enum_id: r.enum_id(),
        }
    }

    /// Number of constants.
    pub fn const_count(&self) -> usize {
        ConstRec::count(self.body.consts)
    }

    /// The record of constant `c` (all zeros when out of range).
    #[inline(always)]
    pub fn const_rec(&self, c: u16) -> ConstRec<'a> {
        ConstRec::nth(self.body.consts, usize::from(c))
    }

    /// Number of constant sets.
    pub fn set_count(&self) -> usize {
        SetRec::count(self.body.sets)
    }

    /// The record of constant set `set` (all zeros when out of range).
    #[inline(always)]
    pub fn set_rec(&self, set: u16) -> SetRec<'a> {
        SetRec::nth(self.body.sets, usize::from(set))
    }

    /// The keys of constant set `set`, ascending (none for an IP range set, whose ranges are
    /// [`Self::ip_table`]).
    pub fn set_keys(&self, set: u16) -> impl Iterator<Item = i64> + 'a {
        let r = self.set_rec(set);
        let (first, n) = match r.kind() {
            kind::IP => (0, 0),
            _ => (r.first_key() as usize, r.key_count() as usize),
        };
        let keys = self.body.set_keys;
        (first..first.saturating_add(n)).map(move |k| SetKeyRec::nth(keys, k).key())
    }

    /// The range table of IP range set `set` (issue #14; [`IP_RANGE_LEN`]-byte records,
    /// sorted and disjoint in a verified bundle); empty for any other set.
    pub fn ip_table(&self, set: u16) -> &'a [u8] {
        let r = self.set_rec(set);
        if r.kind() != kind::IP {
            return &[];
        }
        let (first, n) = (r.first_key() as usize, r.key_count() as usize);
        self.body
            .ip_ranges
            .get(
                first.saturating_mul(IP_RANGE_LEN)
                    ..first.saturating_add(n).saturating_mul(IP_RANGE_LEN),
            )
            .unwrap_or(&[])
    }

    /// Whether address `ip` is in IP range set `set` (binary search, no allocation).
    #[inline]
    pub fn ip_set_contains(&self, set: u16, ip: &crate::ip::Ip) -> bool {
        crate::ip::table_contains(self.ip_table(set), ip)
    }

    /// Whether constant set `set` holds `key` (binary search; never for an IP range set).
    #[inline]
    pub fn set_contains(&self, set: u16, key: i64) -> bool {
        self.set_rec(set).kind() != kind::IP && self.key_index(set, key).is_some()
    }

    /// The position of `key` among the keys of constant set `set` (0 for its smallest key),
    /// or `None` when the set does not hold it: one binary search (issue #13 lookups: row `i`
    /// of a lookup table is the constant right after the table's first value constant).
    #[inline]
    pub fn set_position(&self, set: u16, key: i64) -> Option<u16> {
        self.key_index(set, key).and_then(|i| u16::try_from(i).ok())
    }

    /// The index of `key` among the sorted keys of set `set`: the one binary search behind
    /// [`Bundle::set_contains`] and [`Bundle::set_position`].
    #[inline(always)]
    fn key_index(&self, set: u16, key: i64) -> Option<usize> {
        let r = self.set_rec(set);
        let (first, n) = (r.first_key() as usize, r.key_count() as usize);
        let keys = self.body.set_keys;
        search_sorted(first, first.saturating_add(n), &key, |i| {
            SetKeyRec::nth(keys, i).key()
        })
        .map(|i| i - first)
    }

    /// Number of policies.
    pub fn policy_count(&self) -> usize {
        PolicyRec::count(self.body.policies)
    }

    /// Policy `id`.
    #[inline]
    pub fn policy(&self, id: PolicyId) -> PolicyInfo<'a> {
        let r = self.policy_rec(id);
        let reason = r.reason();
        PolicyInfo {
            name: self.text_span(r.name()),
            intent: self.text_span(r.intent()),
            reason: (reason.off != NONE_U32).then(|| self.text_span(reason)),
            trigger: self.code_span(r.trigger()),
            first_clause: r.first_clause(),
            clauses: r.clause_count(),
            kind: if r.body_kind() == body_kind::DENIES {
                BodyKind::Denies
            } else {
                BodyKind::Requires
            },
            first_meta: r.first_meta(),
            metas: r.meta_count(),
            cost: r.cost_bound(),
        }
    }

    /// The record of policy `id` (all zeros when out of range).
    #[inline(always)]
    pub fn policy_rec(&self, id: PolicyId) -> PolicyRec<'a> {
        PolicyRec::nth(self.body.policies, usize::from(id))
    }

    /// The record of clause `i` (absolute index; all zeros when out of range).
    #[inline(always)]
    pub fn clause_rec(&self, i: u32) -> ClauseRec<'a> {
        ClauseRec::nth(self.body.clauses, i as usize)
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
        let r = self.clause_rec(i);
        ClauseInfo {
            code: self.code_span(r.code()),
            text: self.text_span(r.text()),
            reports_count: r.reports_count() != 0,
            witness: r.witness() != 0,
        }
    }

    /// The reason template parts of policy `id`, in order (none: the policy's reason is its
    /// `with reason` text or a default).
    pub fn reason_parts(&self, id: PolicyId) -> impl Iterator<Item = ReasonPartRec<'a>> + 'a {
        let r = self.policy_rec(id);
        let first = r.first_part() as usize;
        let parts = self.body.reason_parts;
        (first..first.saturating_add(usize::from(r.part_count())))
            .map(move |i| ReasonPartRec::nth(parts, i))
    }

    /// The literal text of a reason template part (empty for other kinds).
    pub fn part_text(&self, part: ReasonPartRec<'_>) -> &'a str {
        self.text_span(part.text())
    }

    /// Whether policy `id` has a reason template.
    #[inline]
    pub fn has_reason_template(&self, id: PolicyId) -> bool {
        self.policy_rec(id).part_count() != 0
    }

    /// Metadata entry `i` (absolute index): key and value.
    pub fn metadata(&self, i: u32) -> (&'a str, MetaValue<'a>) {
        let r = MetaRec::nth(self.body.metadata, i as usize);
        let v = r.value();
        let value = match r.kind() {
            meta_kind::INT => MetaValue::Int(v),
            meta_kind::BOOL => MetaValue::Bool(v != 0),
            _ => MetaValue::Str(self.text(v as u32, (v >> 32) as u32)),
        };
        (self.text_span(r.key()), value)
    }

    /// Number of trigger-index groups.
    pub fn index_group_count(&self) -> usize {
        GroupRec::count(self.body.index_groups)
    }

    /// Trigger-index group `g`.
    #[inline]
    pub fn index_group(&self, g: usize) -> IndexGroup {
        let r = GroupRec::nth(self.body.index_groups, g);
        IndexGroup {
            slot: r.slot(),
            first_bucket: r.first_bucket(),
            buckets: r.bucket_count(),
            first_policy: r.first_policy(),
            policies: r.policy_count(),
        }
    }

    /// The buckets of `group` in key order.
    pub fn index_buckets(&self, group: &IndexGroup) -> impl Iterator<Item = BucketRec<'a>> + 'a {
        let first = group.first_bucket as usize;
        let buckets = self.body.index_buckets;
        (first..first.saturating_add(group.buckets as usize))
            .map(move |b| BucketRec::nth(buckets, b))
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
            let r = BucketRec::nth(self.body.index_buckets, mid);
            match r.key().cmp(&key) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Some((r.first_policy(), r.policy_count())),
            }
        }
        None
    }

    /// Entry `i` of the index's policy-id lists.
    #[inline]
    pub fn index_policy(&self, i: u32) -> PolicyId {
        PolicyRefRec::nth(self.body.index_policies, i as usize).policy()
    }

    /// The policies in no index group, ascending.
    #[inline]
    pub fn unindexed(&self) -> impl Iterator<Item = PolicyId> + '_ {
        self.body
            .unindexed
            .chunks_exact(format::POLICY_REF_LEN)
            .map(|r| PolicyRefRec::nth(r, 0).policy())
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
        enum_id != NONE_U16 && usize::from(enum_id) < self.enum_count()
    }
}

/// The index in `lo..hi` whose key (`key_at`, ascending over the range) equals `key`: a binary
/// search over verified, sorted records.
#[inline(always)]
fn search_sorted<K: Ord>(
    mut lo: usize,
    mut hi: usize,
    key: &K,
    key_at: impl Fn(usize) -> K,
) -> Option<usize> {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match key_at(mid).cmp(key) {
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
            core::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}
