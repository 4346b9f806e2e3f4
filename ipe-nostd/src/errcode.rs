//! Stable numeric codes for load errors (issue #15): a firmware logs a [`BundleError`] as its
//! code and its numbers instead of its text or structure (no text in flash), and a host turns
//! them back into the error (`ipe explain-error <code> [numbers]`, [`BundleError::from_code`]).
//!
//! **Codes.** Every variant of [`BundleError`], and every variant of the [`VerifyError`] and
//! [`CodeError`] it wraps, has one code, the variant's position in its enum plus a base:
//! `1 +` for [`BundleError`]'s own variants (`1..=99`: header, checksum, body), `101 +` for
//! [`VerifyError`]'s (`101..=199`: records and index) and `201 +` for the [`CodeError`] of a
//! [`VerifyError::Code`] (`201..=299`: bytecode). `9` ([`BundleError::Verify`]) and `107`
//! ([`VerifyError::Code`]) are never codes: their errors have the wrapped error's code. The
//! numbering is the table of `docs/bundle-format.md` ("Load error codes") and [`CODES`]; it
//! never changes (a new variant goes last and takes the next number; a test pins every code).
//!
//! **Numbers.** [`BundleError::args`] are the fields of the variant the code names, in
//! declaration order, each as a `u64` (a signed field as its two's complement); an enum field
//! is its variant's position followed by that variant's own fields: a [`Section`] or a
//! [`Family`] is one number (its position in [`Section::ALL`] or [`Family::ALL`]), a [`Block`]
//! is `0` for the trigger or `1, n` for clause `n`, and a [`VerifyError::Code`]'s error field
//! is its [`CodeError`]'s position (the code's last two digits minus one) and its field, if any.
//! They are read off the errors' derived [`Hash`], which writes exactly this sequence, so the
//! firmware carries no code per variant.
//!
//! With feature `defmt` (and not `defmt-errors`), [`BundleError`] and [`VerifyError`] are logged
//! as their code alone, `E<code>`; feature `defmt-errors` derives their full structure instead
//! (0.28 KiB more thumbv7m flash; logging the numbers too costs more than that, 0.44 KiB, so
//! the compact form leaves them to the host, which gets them by loading the same bytes).

use core::hash::{Hash, Hasher};

use crate::bundle::BundleError;
use crate::family::Family;
use crate::verify::{Block, CodeError, Section, VerifyError};

/// The most numbers a load error carries ([`BundleError::args`]).
pub const MAX_ARGS: usize = 6;

/// The integers an error's derived [`Hash`] writes, in order: each variant's position (from
/// `write_isize`, how `derive(Hash)` writes a discriminant) and each integer field.
struct Stream {
    values: [u64; MAX_ARGS + 2],
    len: usize,
}

impl Stream {
    fn of<T: Hash>(t: &T) -> Self {
        let mut s = Stream {
            values: [0; MAX_ARGS + 2],
            len: 0,
        };
        t.hash(&mut s);
        s
    }

    fn push(&mut self, v: u64) {
        if let Some(slot) = self.values.get_mut(self.len) {
            *slot = v;
            self.len += 1;
        }
    }

    fn get(&self, i: usize) -> u64 {
        self.values.get(i).copied().unwrap_or(0)
    }
}

impl Hasher for Stream {
    fn finish(&self) -> u64 {
        0
    }
    // Every integer write of the derived `Hash` of the error types has its own method below;
    // byte strings are never written.
    fn write(&mut self, _: &[u8]) {}
    fn write_u8(&mut self, i: u8) {
        self.push(i.into());
    }
    fn write_u16(&mut self, i: u16) {
        self.push(i.into());
    }
    fn write_u32(&mut self, i: u32) {
        self.push(i.into());
    }
    fn write_u64(&mut self, i: u64) {
        self.push(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.push(i as u64);
    }
    fn write_i64(&mut self, i: i64) {
        self.push(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.push(i as u64);
    }
}

/// The numbers of a load error ([`BundleError::args`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorArgs {
    values: [u64; MAX_ARGS + 2],
    start: u8,
    len: u8,
}

impl ErrorArgs {
    /// The numbers.
    pub fn as_slice(&self) -> &[u64] {
        self.values
            .get(usize::from(self.start)..usize::from(self.len))
            .unwrap_or(&[])
    }
}

/// One load error code: its number, the variant's name and the names of its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    /// The stable code.
    pub code: u16,
    /// The variant, as `BundleError::...` (a nested variant with its path).
    pub name: &'static str,
    /// The names of its numbers ([`BundleError::args`]), in order.
    pub args: &'static [&'static str],
}

const fn info(code: u16, name: &'static str, args: &'static [&'static str]) -> CodeInfo {
    CodeInfo { code, name, args }
}

const BLOCK: &str = "block (0: the trigger; 1, n: clause n)";
const CODE_ARGS: &[&str] = &["policy", BLOCK, "pc", "error (code - 201)"];

/// Every load error code, ascending (the table of `docs/bundle-format.md`).
pub const CODES: &[CodeInfo] = &[
    info(1, "BundleError::Truncated", &["needed", "found"]),
    info(2, "BundleError::BadMagic", &[]),
    info(3, "BundleError::UnsupportedVersion", &["version"]),
    info(4, "BundleError::ReservedFlags", &["flags"]),
    info(5, "BundleError::TrailingBytes", &["bytes"]),
    info(6, "BundleError::ChecksumMismatch", &["expected", "found"]),
    info(7, "BundleError::MalformedBody", &[]),
    info(8, "BundleError::NonCanonical", &[]),
    info(10, "BundleError::VersionMismatch", &["header", "body"]),
    info(11, "BundleError::RegexUnsupported", &[]),
    info(12, "BundleError::BadRegex", &["regex"]),
    info(13, "BundleError::TooManyRegexes", &["max"]),
    info(101, "VerifyError::BadLength", &["section"]),
    info(102, "VerifyError::BadRecord", &["section", "index"]),
    info(103, "VerifyError::Unsorted", &["section", "index"]),
    info(104, "VerifyError::IndexCoverage", &["policy"]),
    info(105, "VerifyError::IndexTrigger", &["policy", "group"]),
    info(106, "VerifyError::IndexKey", &["policy", "key"]),
    info(
        108,
        "VerifyError::OverBudget",
        &["policy", "cost", "budget"],
    ),
    info(
        109,
        "VerifyError::CostMismatch",
        &["policy", "recorded", "computed"],
    ),
    info(110, "VerifyError::GroupRuleIndexed", &["policy"]),
    info(111, "VerifyError::Unsupported", &["family"]),
    info(
        201,
        "VerifyError::Code(CodeError::BadOpcode)",
        &["policy", BLOCK, "pc", "error (code - 201)", "byte"],
    ),
    info(202, "VerifyError::Code(CodeError::Truncated)", CODE_ARGS),
    info(203, "VerifyError::Code(CodeError::BadOperand)", CODE_ARGS),
    info(
        204,
        "VerifyError::Code(CodeError::StackUnderflow)",
        CODE_ARGS,
    ),
    info(
        205,
        "VerifyError::Code(CodeError::StackOverflow)",
        CODE_ARGS,
    ),
    info(206, "VerifyError::Code(CodeError::TypeMismatch)", CODE_ARGS),
    info(207, "VerifyError::Code(CodeError::BadJump)", CODE_ARGS),
    info(208, "VerifyError::Code(CodeError::BadEnd)", CODE_ARGS),
    info(209, "VerifyError::Code(CodeError::TooDeep)", CODE_ARGS),
    info(210, "VerifyError::Code(CodeError::TooManyJumps)", CODE_ARGS),
    info(
        211,
        "VerifyError::Code(CodeError::Unsupported)",
        &["policy", BLOCK, "pc", "error (code - 201)", "family"],
    ),
];

/// The table entry of `code`, if it is a load error code.
pub fn lookup(code: u16) -> Option<&'static CodeInfo> {
    CODES.iter().find(|i| i.code == code)
}

/// A variant's position in its enum (the first integer its derived `Hash` writes).
fn position<T: Hash>(t: &T) -> u16 {
    let mut s = Stream {
        values: [0; MAX_ARGS + 2],
        len: 0,
    };
    core::mem::discriminant(t).hash(&mut s);
    s.get(0) as u16
}

/// `(code, how many leading integers of the error's `Hash` stream the code names)`.
fn code_of(e: &BundleError) -> (u16, u8) {
    match e {
        BundleError::Verify(VerifyError::Code { error, .. }) => (201 + position(error), 2),
        BundleError::Verify(v) => (101 + position(v), 2),
        e => (1 + position(e), 1),
    }
}

impl BundleError {
    /// The error's stable code (`1..=299`; see the [module](crate::errcode)).
    pub fn code(&self) -> u16 {
        code_of(self).0
    }

    /// The error's numbers: its fields in declaration order (see the [module](crate::errcode)).
    pub fn args(&self) -> ErrorArgs {
        let s = Stream::of(self);
        ErrorArgs {
            values: s.values,
            start: code_of(self).1,
            len: s.len as u8,
        }
    }

    /// The error of `code` with the numbers `args`, or `None` if `code` is no load error code
    /// or `args` are not its numbers (too few, too many, or out of a field's range): the
    /// inverse of [`code`](Self::code) and [`args`](Self::args).
    pub fn from_code(code: u16, args: &[u64]) -> Option<Self> {
        let mut r = Args(args.iter());
        let e = match code {
            1 => BundleError::Truncated {
                needed: r.int()?,
                found: r.int()?,
            },
            2 => BundleError::BadMagic,
            3 => BundleError::UnsupportedVersion(r.int()?),
            4 => BundleError::ReservedFlags(r.int()?),
            5 => BundleError::TrailingBytes(r.int()?),
            6 => BundleError::ChecksumMismatch {
                expected: r.int()?,
                found: r.int()?,
            },
            7 => BundleError::MalformedBody,
            8 => BundleError::NonCanonical,
            10 => BundleError::VersionMismatch {
                header: r.int()?,
                body: r.int()?,
            },
            11 => BundleError::RegexUnsupported,
            12 => BundleError::BadRegex(r.int()?),
            13 => BundleError::TooManyRegexes { max: r.int()? },
            _ => BundleError::Verify(VerifyError::read(code, &mut r)?),
        };
        r.0.next().is_none().then_some(e)
    }
}

impl VerifyError {
    /// The error's stable code (`101..=299`; see the [module](crate::errcode)).
    pub fn code(&self) -> u16 {
        BundleError::Verify(*self).code()
    }

    /// The error's numbers (see the [module](crate::errcode)).
    pub fn args(&self) -> ErrorArgs {
        BundleError::Verify(*self).args()
    }

    fn read(code: u16, r: &mut Args<'_>) -> Option<Self> {
        Some(match code {
            101 => VerifyError::BadLength(r.section()?),
            102 => VerifyError::BadRecord {
                section: r.section()?,
                index: r.int()?,
            },
            103 => VerifyError::Unsorted {
                section: r.section()?,
                index: r.int()?,
            },
            104 => VerifyError::IndexCoverage { policy: r.int()? },
            105 => VerifyError::IndexTrigger {
                policy: r.int()?,
                group: r.int()?,
            },
            106 => VerifyError::IndexKey {
                policy: r.int()?,
                key: r.next()? as i64,
            },
            108 => VerifyError::OverBudget {
                policy: r.int()?,
                cost: r.next()?,
                budget: r.int()?,
            },
            109 => VerifyError::CostMismatch {
                policy: r.int()?,
                recorded: r.int()?,
                computed: r.int()?,
            },
            110 => VerifyError::GroupRuleIndexed { policy: r.int()? },
            111 => VerifyError::Unsupported(r.family()?),
            201..=299 => {
                let policy = r.int()?;
                let block = match r.next()? {
                    0 => Block::Trigger,
                    1 => Block::Clause(r.int()?),
                    _ => return None,
                };
                let pc = r.int()?;
                if r.next()? != u64::from(code - 201) {
                    return None;
                }
                let error = match code {
                    201 => CodeError::BadOpcode(r.int()?),
                    202 => CodeError::Truncated,
                    203 => CodeError::BadOperand,
                    204 => CodeError::StackUnderflow,
                    205 => CodeError::StackOverflow,
                    206 => CodeError::TypeMismatch,
                    207 => CodeError::BadJump,
                    208 => CodeError::BadEnd,
                    209 => CodeError::TooDeep,
                    210 => CodeError::TooManyJumps,
                    211 => CodeError::Unsupported(r.family()?),
                    _ => return None,
                };
                VerifyError::Code {
                    policy,
                    block,
                    pc,
                    error,
                }
            }
            _ => return None,
        })
    }
}

/// The numbers [`BundleError::from_code`] reads, one field at a time.
struct Args<'a>(core::slice::Iter<'a, u64>);

impl Args<'_> {
    fn next(&mut self) -> Option<u64> {
        self.0.next().copied()
    }
    fn int<T: TryFrom<u64>>(&mut self) -> Option<T> {
        T::try_from(self.next()?).ok()
    }
    fn section(&mut self) -> Option<Section> {
        Section::ALL.get(self.int::<usize>()?).copied()
    }
    fn family(&mut self) -> Option<Family> {
        Family::ALL.get(self.int::<usize>()?).copied()
    }
}

/// `E<code>` (the compact form; feature `defmt-errors` derives the structure instead).
#[cfg(all(feature = "defmt", not(feature = "defmt-errors")))]
impl defmt::Format for BundleError {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "E{=u16}", self.code());
    }
}

/// `E<code>` (the compact form; feature `defmt-errors` derives the structure instead).
#[cfg(all(feature = "defmt", not(feature = "defmt-errors")))]
impl defmt::Format for VerifyError {
    fn format(&self, f: defmt::Formatter<'_>) {
        BundleError::Verify(*self).format(f);
    }
}

impl Section {
    /// Every section, in declaration order: a section's load error number is its position.
    pub const ALL: [Section; 20] = [
        Section::Default,
        Section::Symbols,
        Section::Slots,
        Section::Fields,
        Section::Enums,
        Section::Members,
        Section::Consts,
        Section::Sets,
        Section::SetKeys,
        Section::Policies,
        Section::Clauses,
        Section::Metadata,
        Section::IndexGroups,
        Section::IndexBuckets,
        Section::IndexPolicies,
        Section::Unindexed,
        Section::ReasonParts,
        Section::IpRanges,
        Section::SlotDefaults,
        Section::IntRanges,
    ];
}

impl Family {
    /// Every family, in declaration order: a family's load error number is its position.
    pub const ALL: [Family; 12] = [
        Family::Time,
        Family::Ip,
        Family::Unicode,
        Family::Arith,
        Family::Segment,
        Family::Positional,
        Family::Defaults,
        Family::DynKey,
        Family::Ranges,
        Family::Lookups,
        Family::Nested,
        Family::Like,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::vec::Vec;

    fn code_err(code: CodeError) -> BundleError {
        BundleError::Verify(VerifyError::Code {
            policy: 3,
            block: Block::Clause(1),
            pc: 17,
            error: code,
        })
    }

    /// One error of every variant, with its code and numbers: the numbering of
    /// `docs/bundle-format.md`, which never changes.
    fn every_variant() -> Vec<(BundleError, u16, Vec<u64>)> {
        use BundleError as B;
        use VerifyError as V;
        let v = |e: VerifyError| B::Verify(e);
        let code = |ce: CodeError, extra: &[u64]| {
            let mut n = std::vec![3, 1, 1, 17, u64::from(ce.clone_code() - 201)];
            n.extend_from_slice(extra);
            (code_err(ce), ce.clone_code(), n)
        };
        std::vec![
            (
                B::Truncated {
                    needed: 40,
                    found: 12
                },
                1,
                std::vec![40, 12]
            ),
            (B::BadMagic, 2, std::vec![]),
            (B::UnsupportedVersion(7), 3, std::vec![7]),
            (B::ReservedFlags(0x8001), 4, std::vec![0x8001]),
            (B::TrailingBytes(5), 5, std::vec![5]),
            (
                B::ChecksumMismatch {
                    expected: 0xdead_beef,
                    found: 1
                },
                6,
                std::vec![0xdead_beef, 1]
            ),
            (B::MalformedBody, 7, std::vec![]),
            (B::NonCanonical, 8, std::vec![]),
            (
                B::VersionMismatch { header: 1, body: 2 },
                10,
                std::vec![1, 2]
            ),
            (B::RegexUnsupported, 11, std::vec![]),
            (B::BadRegex(4), 12, std::vec![4]),
            (B::TooManyRegexes { max: 8 }, 13, std::vec![8]),
            (v(V::BadLength(Section::Slots)), 101, std::vec![2]),
            (
                v(V::BadRecord {
                    section: Section::IntRanges,
                    index: 9
                }),
                102,
                std::vec![19, 9]
            ),
            (
                v(V::Unsorted {
                    section: Section::Symbols,
                    index: 2
                }),
                103,
                std::vec![1, 2]
            ),
            (v(V::IndexCoverage { policy: 6 }), 104, std::vec![6]),
            (
                v(V::IndexTrigger {
                    policy: 6,
                    group: 2
                }),
                105,
                std::vec![6, 2]
            ),
            (
                v(V::IndexKey { policy: 6, key: -2 }),
                106,
                std::vec![6, (-2i64) as u64]
            ),
            (
                v(V::OverBudget {
                    policy: 1,
                    cost: u64::MAX,
                    budget: 1000
                }),
                108,
                std::vec![1, u64::MAX, 1000]
            ),
            (
                v(V::CostMismatch {
                    policy: 1,
                    recorded: 5,
                    computed: 6
                }),
                109,
                std::vec![1, 5, 6]
            ),
            (v(V::GroupRuleIndexed { policy: 0 }), 110, std::vec![0]),
            (v(V::Unsupported(Family::Like)), 111, std::vec![11]),
            code(CodeError::BadOpcode(0xff), &[0xff]),
            code(CodeError::Truncated, &[]),
            code(CodeError::BadOperand, &[]),
            code(CodeError::StackUnderflow, &[]),
            code(CodeError::StackOverflow, &[]),
            code(CodeError::TypeMismatch, &[]),
            code(CodeError::BadJump, &[]),
            code(CodeError::BadEnd, &[]),
            code(CodeError::TooDeep, &[]),
            code(CodeError::TooManyJumps, &[]),
            code(CodeError::Unsupported(Family::Time), &[0]),
        ]
    }

    impl CodeError {
        /// The pinned code of each code error (independent of [`BundleError::code`]).
        fn clone_code(self) -> u16 {
            match self {
                CodeError::BadOpcode(_) => 201,
                CodeError::Truncated => 202,
                CodeError::BadOperand => 203,
                CodeError::StackUnderflow => 204,
                CodeError::StackOverflow => 205,
                CodeError::TypeMismatch => 206,
                CodeError::BadJump => 207,
                CodeError::BadEnd => 208,
                CodeError::TooDeep => 209,
                CodeError::TooManyJumps => 210,
                CodeError::Unsupported(_) => 211,
            }
        }
    }

    #[test]
    fn issue15_every_load_error_has_its_pinned_code_and_numbers() {
        for (e, code, args) in every_variant() {
            assert_eq!(e.code(), code, "{e:?}");
            assert_eq!(e.args().as_slice(), &args[..], "{e:?}");
            if let BundleError::Verify(v) = e {
                assert_eq!(v.code(), code);
                assert_eq!(v.args().as_slice(), &args[..]);
            }
        }
    }

    #[test]
    fn issue15_codes_are_unique_and_the_table_lists_each_once() {
        let all = every_variant();
        let mut codes: Vec<u16> = all.iter().map(|(e, _, _)| e.code()).collect();
        let listed: Vec<u16> = CODES.iter().map(|i| i.code).collect();
        // The table is ascending, one entry per variant, and holds exactly the codes above.
        assert!(listed.windows(2).all(|w| w[0] < w[1]), "{listed:?}");
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "two variants share a code");
        assert_eq!(codes, listed);
        for (e, code, args) in &all {
            let info = lookup(*code).expect("listed");
            // The table's name ends with the innermost variant's name, as `Debug` spells it.
            let inner = match e {
                BundleError::Verify(VerifyError::Code { error, .. }) => format!("{error:?}"),
                BundleError::Verify(v) => format!("{v:?}"),
                e => format!("{e:?}"),
            };
            let variant = inner.split(['(', ' ']).next().unwrap_or_default();
            assert!(
                info.name.trim_end_matches(')').ends_with(variant),
                "{} vs {inner}",
                info.name
            );
            // A clause's block is two numbers (`1, n`) under one name.
            let clause = matches!(
                e,
                BundleError::Verify(VerifyError::Code {
                    block: Block::Clause(_),
                    ..
                })
            );
            assert_eq!(
                info.args.len() + usize::from(clause),
                args.len(),
                "{}",
                info.name
            );
        }
        assert_eq!(lookup(9), None, "9 is BundleError::Verify, never a code");
        assert_eq!(lookup(107), None, "107 is VerifyError::Code, never a code");
    }

    #[test]
    fn issue15_from_code_inverts_code_and_args() {
        for (e, code, args) in every_variant() {
            assert_eq!(
                BundleError::from_code(code, &args),
                Some(e),
                "{code} {args:?}"
            );
            // Too few or too many numbers, or an unknown code, are refused.
            if let Some((_, fewer)) = args.split_last() {
                assert_eq!(BundleError::from_code(code, fewer), None, "{code}");
            }
            let mut more = args.clone();
            more.push(0);
            assert_eq!(BundleError::from_code(code, &more), None, "{code}");
        }
        for bad in [0, 9, 14, 100, 107, 112, 200, 212, 300, u16::MAX] {
            assert_eq!(BundleError::from_code(bad, &[0; 6]), None, "{bad}");
        }
        // Out of a field's range: a section past the last, a version past u16.
        assert_eq!(BundleError::from_code(101, &[20]), None);
        assert_eq!(BundleError::from_code(3, &[1 << 16]), None);
        // A code error's position must agree with the code.
        assert_eq!(BundleError::from_code(203, &[3, 0, 17, 1]), None);
        assert_eq!(
            BundleError::from_code(203, &[3, 0, 17, 2]),
            Some(BundleError::Verify(VerifyError::Code {
                policy: 3,
                block: Block::Trigger,
                pc: 17,
                error: CodeError::BadOperand
            }))
        );
    }

    #[test]
    fn issue15_section_and_family_positions_are_their_order() {
        for (i, s) in Section::ALL.iter().enumerate() {
            let e = BundleError::Verify(VerifyError::BadLength(*s));
            assert_eq!(e.args().as_slice(), &[i as u64]);
        }
        for (i, f) in Family::ALL.iter().enumerate() {
            let e = BundleError::Verify(VerifyError::Unsupported(*f));
            assert_eq!(e.args().as_slice(), &[i as u64]);
        }
    }
}
