//! The bundle verifier: every check that makes evaluation of an accepted bundle total.
//!
//! After [`verify`] accepts a body, every reference in it is in range, every text range is
//! valid UTF-8, every code block is well typed with a bounded stack, its jumps go forward to
//! instruction boundaries, its aggregate bodies are well nested, and each policy's recorded
//! cost bound equals the one recomputed here. The interpreter relies on nothing else.
//!
//! The checks are split by what they cover: `records.rs` (every section's records and each
//! policy's metadata and cost), `index.rs` (the trigger index proves what it skips) and
//! `code.rs` (bytecode typing, stack depth, jumps and cost bounds).

mod code;
mod index;
mod records;

pub use code::block_cost;
pub use records::verify_with_max_cost;

#[cfg(not(feature = "size"))]
use crate::bundle::{Bundle, BundleError};
use crate::format::{Body, EnumRec, SlotRec, Span};
#[cfg(not(feature = "size"))]
use crate::format::{PolicyRec, CRC, HEADER_LEN};

/// A section of the body, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Section {
    /// The default decision byte.
    Default,
    /// String table.
    Symbols,
    /// Attribute slots.
    Slots,
    /// Record fields.
    Fields,
    /// Enums.
    Enums,
    /// Enum members.
    Members,
    /// Constants.
    Consts,
    /// Constant sets.
    Sets,
    /// Set keys.
    SetKeys,
    /// Policies.
    Policies,
    /// Requirement clauses.
    Clauses,
    /// Metadata.
    Metadata,
    /// Index groups.
    IndexGroups,
    /// Index buckets.
    IndexBuckets,
    /// Index policy lists.
    IndexPolicies,
    /// Unindexed policy list.
    Unindexed,
    /// Reason template parts (the optional trailing section).
    ReasonParts,
    /// IP range tables (the tagged trailing section 1, issue #14).
    IpRanges,
    /// Schema defaults of scalar attributes (the tagged trailing section 3, issue #13).
    SlotDefaults,
    /// The integer range tables (issue #14, session 9).
    IntRanges,
}

/// Which code block of a policy an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Block {
    /// The trigger.
    Trigger,
    /// Requirement clause `n` of the policy (0-based).
    Clause(u16),
}

/// What is wrong with a code block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CodeError {
    /// A byte that is no opcode.
    BadOpcode(u8),
    /// An instruction's operands run past the block.
    Truncated,
    /// An operand is out of range (slot, field, constant, set, operator or level).
    BadOperand,
    /// An instruction pops more cells than the block pushed.
    StackUnderflow,
    /// The stack would exceed its fixed size.
    StackOverflow,
    /// Operand types do not fit the instruction.
    TypeMismatch,
    /// A jump lands outside the block, inside an instruction, or with a different stack.
    BadJump,
    /// The block does not end with exactly one condition on the stack.
    BadEnd,
    /// Aggregate bodies nest deeper than the fixed bound.
    TooDeep,
    /// More jumps pending at once than the verifier tracks.
    TooManyJumps,
    /// The instruction needs a language family this build lacks (issue #14: cargo features
    /// `time`, `ip`, `unicode`, `arith` of ipe-nostd; issue #15: `segment`).
    Unsupported(crate::family::Family),
}

/// Why a bundle body was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt-errors", derive(defmt::Format))]
pub enum VerifyError {
    /// A section's length is not a whole number of records, or has too many records.
    BadLength(Section),
    /// Record `index` of `section` has an invalid field (kind, flag, text range, reference).
    BadRecord {
        /// The section.
        section: Section,
        /// The record index.
        index: u32,
    },
    /// Records of `section` that must be strictly ascending are not, at `index`.
    Unsorted {
        /// The section.
        section: Section,
        /// The first out-of-order record.
        index: u32,
    },
    /// Policy `policy` is not in exactly one index group or the unindexed list.
    IndexCoverage {
        /// The policy.
        policy: u16,
    },
    /// Policy `policy` is filed in index group `group`, but its trigger does not begin with
    /// `slot == constant` or `slot in set` on the group's slot (followed by nothing or by a
    /// jump to the end on false), so the index is not implied by the code.
    IndexTrigger {
        /// The policy.
        policy: u16,
        /// The index group.
        group: u32,
    },
    /// The buckets policy `policy` is filed under are not exactly the keys of its trigger's
    /// leading conjunct: `key` is a bucket without that key in the trigger, or a key of the
    /// trigger without a bucket holding the policy.
    IndexKey {
        /// The policy.
        policy: u16,
        /// The key in question.
        key: i64,
    },
    /// A code block is invalid.
    Code {
        /// The policy.
        policy: u16,
        /// The block.
        block: Block,
        /// Byte offset of the bad instruction in the block.
        pc: u32,
        /// What is wrong.
        error: CodeError,
    },
    /// A policy's cost bound exceeds the budget the verifier was given.
    OverBudget {
        /// The policy.
        policy: u16,
        /// Its cost bound (`u64::MAX` when it does not even fit 64 bits).
        cost: u64,
        /// The budget.
        budget: u32,
    },
    /// A policy's recorded cost bound differs from the recomputed one.
    CostMismatch {
        /// The policy.
        policy: u16,
        /// Recorded.
        recorded: u32,
        /// Recomputed.
        computed: u32,
    },
    /// A rule of a first-match group is in the trigger index: evaluation loops meet group
    /// rules in order only among the unindexed policies.
    GroupRuleIndexed {
        /// The policy.
        policy: u16,
    },
    /// A slot, field, constant or set has a value kind of a language family this build lacks
    /// (issue #14: cargo features `time`, `ip`, `unicode`, `arith` of ipe-nostd), or the
    /// bundle has a positional slot or a `slot_defaults` section and the build lacks
    /// `positional` or `defaults` (issue #15).
    Unsupported(crate::family::Family),
}

impl Section {
    /// The section's field name in the body (`docs/bundle-format.md`).
    pub const fn name(self) -> &'static str {
        match self {
            Section::Default => "default",
            Section::Symbols => "symbols",
            Section::Slots => "slots",
            Section::Fields => "fields",
            Section::Enums => "enums",
            Section::Members => "members",
            Section::Consts => "consts",
            Section::Sets => "sets",
            Section::SetKeys => "set_keys",
            Section::Policies => "policies",
            Section::Clauses => "clauses",
            Section::Metadata => "metadata",
            Section::IndexGroups => "index_groups",
            Section::IndexBuckets => "index_buckets",
            Section::IndexPolicies => "index_policies",
            Section::Unindexed => "unindexed",
            Section::ReasonParts => "reason_parts",
            Section::IpRanges => "ip_ranges",
            Section::SlotDefaults => "slot_defaults",
            Section::IntRanges => "int_ranges",
        }
    }
}

/// Displays as "section `slots`" (the field name in the body).
impl core::fmt::Display for Section {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "section `{}`", self.name())
    }
}

/// "the trigger" or "clause N" (0-based, as in the bundle).
impl core::fmt::Display for Block {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Block::Trigger => f.write_str("the trigger"),
            Block::Clause(n) => write!(f, "clause {n}"),
        }
    }
}

impl core::fmt::Display for CodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CodeError::BadOpcode(b) => write!(f, "unknown opcode {b:#04x}"),
            CodeError::Truncated => f.write_str("the instruction's operands run past the block"),
            CodeError::BadOperand => f.write_str("an operand is out of range"),
            CodeError::StackUnderflow => {
                f.write_str("the instruction pops more values than the block pushed")
            }
            CodeError::StackOverflow => write!(
                f,
                "the operand stack would exceed its {} cells",
                crate::isa::STACK_CELLS
            ),
            CodeError::TypeMismatch => f.write_str("the operand types do not fit the instruction"),
            CodeError::BadJump => f.write_str(
                "the jump lands outside the block, inside an instruction or with a different stack",
            ),
            CodeError::BadEnd => {
                f.write_str("the block does not end with exactly one condition on the stack")
            }
            CodeError::TooDeep => write!(
                f,
                "aggregate bodies nest deeper than {} levels",
                crate::isa::MAX_LEVELS
            ),
            CodeError::TooManyJumps => {
                f.write_str("more jumps are pending at once than the verifier tracks")
            }
            CodeError::Unsupported(family) => write!(
                f,
                "the instruction needs the `{family}` feature, which this engine was built without"
            ),
        }
    }
}

impl core::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            VerifyError::BadLength(s) => write!(f, "{s} has a bad length"),
            VerifyError::BadRecord { section, index } => {
                write!(f, "record {index} of {section} is invalid")
            }
            VerifyError::Unsorted { section, index } => {
                write!(f, "record {index} of {section} is out of order")
            }
            VerifyError::IndexCoverage { policy } => {
                write!(f, "policy {policy} is not indexed exactly once")
            }
            VerifyError::Unsupported(family) => write!(
                f,
                "the bundle uses values that need the `{family}` feature, which this engine was \
                 built without"
            ),
            VerifyError::GroupRuleIndexed { policy } => write!(
                f,
                "policy {policy} is a rule of a first-match group but is in the trigger index"
            ),
            VerifyError::IndexTrigger { policy, group } => write!(
                f,
                "policy {policy} is in index group {group} but its trigger does not begin \
                 with an equality or set test on that group's slot"
            ),
            VerifyError::IndexKey { policy, key } => write!(
                f,
                "policy {policy} is filed under index keys that differ from its trigger's \
                 at key {key}"
            ),
            VerifyError::Code {
                policy,
                block,
                pc,
                error,
            } => write!(f, "{block} of policy {policy}, byte {pc}: {error}"),
            VerifyError::OverBudget {
                policy,
                cost,
                budget,
            } => write!(
                f,
                "policy {policy} may take up to {cost} steps, over the budget of {budget}"
            ),
            VerifyError::CostMismatch {
                policy,
                recorded,
                computed,
            } => write!(
                f,
                "policy {policy} records cost bound {recorded} but its code bounds {computed}"
            ),
        }
    }
}

impl core::error::Error for VerifyError {}

/// Longest list bound a slot may declare.
pub const MAX_LIST_LEN: u32 = 1 << 16;

/// The cost budget [`verify`] applies: the most steps one policy's evaluation may take
/// (its trigger and clauses together, by the cost model of `docs/LANGUAGE.md`).
pub const DEFAULT_MAX_COST: u32 = 1_000_000;

pub(crate) type R<T = ()> = Result<T, VerifyError>;

pub(super) fn count(section: Section, bytes: &[u8], len: usize, max: usize) -> R<usize> {
    if !bytes.len().is_multiple_of(len) || bytes.len() / len > max {
        return Err(VerifyError::BadLength(section));
    }
    Ok(bytes.len() / len)
}

pub(super) fn bad(section: Section, index: usize) -> VerifyError {
    VerifyError::BadRecord {
        section,
        index: index as u32,
    }
}

pub(super) fn text_ok(body: &Body<'_>, off: u32, len: u32) -> bool {
    let start = off as usize;
    body.text
        .get(start..start.wrapping_add(len as usize))
        .is_some()
}

pub(super) fn text<'a>(body: &Body<'a>, span: Span) -> Option<&'a str> {
    let (start, end) = span.bounds()?;
    body.text.get(start..end)
}

pub(super) fn range_ok(first: u32, n: u32, total: usize) -> bool {
    (first as usize)
        .checked_add(n as usize)
        .is_some_and(|end| end <= total)
}

/// The shapes the code verifier needs, read once.
pub(super) struct Tables<'b, 'a> {
    pub(super) body: &'b Body<'a>,
    pub(super) symbols: usize,
    pub(super) slots: usize,
    pub(super) enums: usize,
    pub(super) consts: usize,
    pub(super) sets: usize,
}

impl Tables<'_, '_> {
    pub(super) fn slot(&self, s: u16) -> Option<SlotRec<'_>> {
        (usize::from(s) < self.slots).then(|| SlotRec::nth(self.body.slots, s.into()))
    }
    pub(super) fn enum_len(&self, e: u16) -> Option<u32> {
        (usize::from(e) < self.enums)
            .then(|| EnumRec::nth(self.body.enums, e.into()).member_count())
    }
}

/// Verifies a decoded body with the [`DEFAULT_MAX_COST`] budget.
pub fn verify(body: &Body<'_>) -> R {
    verify_with_max_cost(body, DEFAULT_MAX_COST)
}

/// Finishes an encoded bundle whose policies' cost bounds and body checksum are not written
/// yet (a compiler's output, issue #15): verifies it as [`Bundle::from_bytes_with_max_cost`]
/// would, except that each policy's recorded bound is replaced by the one computed here
/// (also stored in `costs`, indexed by policy), then writes the header's checksum. Bytes
/// sealed without error load as they are; one verification and one checksum pass in all.
///
/// `costs` needs one entry per policy; a policy past its end is a
/// [`VerifyError::CostMismatch`]. Not in the `size` profile (firmware seals nothing).
#[cfg(not(feature = "size"))]
pub fn seal(bytes: &mut [u8], max_cost: u32, costs: &mut [u32]) -> Result<(), BundleError> {
    seal_with_checksum(bytes, max_cost, costs, |body| CRC.checksum(body))
}

/// [`seal`], the body's CRC-32C (Castagnoli, [`crate::format::CRC`]'s algorithm) computed by
/// `checksum`: a host compiler passes a hardware-assisted implementation (issue #15). A
/// `checksum` that is not CRC-32C writes a header that [`Bundle::from_bytes`] refuses. Not in
/// the `size` profile.
#[cfg(not(feature = "size"))]
pub fn seal_with_checksum(
    bytes: &mut [u8],
    max_cost: u32,
    costs: &mut [u32],
    checksum: impl FnOnce(&[u8]) -> u32,
) -> Result<(), BundleError> {
    let (at, n) = {
        let body = Bundle::decode(bytes, None)?;
        crate::regex::load(body.regexes)?;
        records::verify_costs(&body, max_cost, &mut records::Fill(costs))?;
        // Where the policy records start in `bytes` (the body borrows them in place).
        let at = (body.policies.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
        (at, PolicyRec::count(body.policies))
    };
    // In range: the section holds `n` records (none when the section is empty).
    if let Some(section) = bytes.get_mut(at..) {
        for (i, &cost) in costs.iter().enumerate().take(n) {
            let mut r = PolicyRec::nth(section, i).fields();
            r.cost_bound = cost;
            let _ = r.put(section, i);
        }
    }
    let mut header = crate::format::Header::parse(bytes)?;
    header.crc = checksum(bytes.get(HEADER_LEN..).unwrap_or(&[]));
    if let Some(place) = bytes.get_mut(..HEADER_LEN) {
        place.copy_from_slice(&header.write());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn issue12_verify_errors_print_words_not_debug_names() {
        let cases = [
            (
                VerifyError::BadLength(Section::SetKeys),
                "section `set_keys` has a bad length",
            ),
            (
                VerifyError::BadRecord {
                    section: Section::Slots,
                    index: 4,
                },
                "record 4 of section `slots` is invalid",
            ),
            (
                VerifyError::Unsorted {
                    section: Section::IndexBuckets,
                    index: 2,
                },
                "record 2 of section `index_buckets` is out of order",
            ),
            (
                VerifyError::Code {
                    policy: 2,
                    block: Block::Clause(3),
                    pc: 12,
                    error: CodeError::BadOpcode(0x1f),
                },
                "clause 3 of policy 2, byte 12: unknown opcode 0x1f",
            ),
            (
                VerifyError::Code {
                    policy: 0,
                    block: Block::Trigger,
                    pc: 0,
                    error: CodeError::TypeMismatch,
                },
                "the trigger of policy 0, byte 0: the operand types do not fit the instruction",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
        // No message of any code error is a Rust identifier (a `Debug` name).
        for e in [
            CodeError::BadOpcode(0),
            CodeError::Truncated,
            CodeError::BadOperand,
            CodeError::StackUnderflow,
            CodeError::StackOverflow,
            CodeError::TypeMismatch,
            CodeError::BadJump,
            CodeError::BadEnd,
            CodeError::TooDeep,
            CodeError::TooManyJumps,
        ] {
            let text = e.to_string();
            assert!(
                text.contains(' ') && text.starts_with(char::is_lowercase),
                "{text}"
            );
        }
    }
}
