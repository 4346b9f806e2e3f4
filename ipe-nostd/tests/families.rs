//! The optional families (cargo features `time`, `ip`, `unicode`, `arith` of issue #14;
//! `segment`, `positional`, `defaults` of issue #15): a build without a family refuses, at load, a bundle that uses it, with a typed error; a build with it loads
//! the bundle. Run in several feature sets, e.g.
//! `cargo test -p ipe-nostd --no-default-features --test families` and
//! `cargo test -p ipe-nostd --no-default-features --features ip --test families`.

#[allow(dead_code, reason = "the fixture helpers the listing tests use too")]
mod support;

use ipe_nostd::family::Family;
use ipe_nostd::verify::{Block, CodeError, VerifyError};
use ipe_nostd::{Bundle, BundleError};
use support::{assemble, bundle_bytes, bundle_bytes_with, Variant};

/// Loads the one-policy fixture bundle around `listing`.
fn load(listing: &str) -> Result<(), BundleError> {
    let bytes = bundle_bytes(&assemble(listing).unwrap());
    Bundle::from_bytes(&bytes).map(|_| ())
}

/// The error of a clause instruction at byte 0 of policy 0 needing `family`.
#[allow(dead_code, reason = "only builds without a family use it")]
fn code_refused(family: Family) -> BundleError {
    BundleError::Verify(VerifyError::Code {
        policy: 0,
        block: Block::Clause(0),
        pc: 0,
        error: CodeError::Unsupported(family),
    })
}

/// The listings of each family, each verifying when the family is built in.
const TIME: &str = "load.const const 1\nload.const const 5\nsub\nload.const const 1\ncmp ==";
#[allow(dead_code, reason = "unused in a build without `ip`")]
const TIME_PART: &str = "load.const const 1\ntime.hour\nload.const const 1\ncmp ==";
const IP: &str = "in.ip.slot slot 10 set 3";
const LOWER: &str = "load.slot slot 0\nload.const const 4\nstr lower.starts_with";
/// Issue #14, session 9: both sides folded (family `unicode`), and a range table (no family).
const FOLD: &str = "load.slot slot 0\nload.const const 4\nstr.fold lower.eq";
#[allow(dead_code, reason = "unused in a build without `ip`")]
const RANGE: &str = "load.slot slot 1\nin.range ranges 0";
const ARITH: &str =
    "load.const const 1\nload.const const 5\narith / slot 1\nload.const const 1\ncmp ==";
const PLAIN: &str = "load.slot slot 0\nload.const const 4\nstr starts_with";

/// The fixture has an address slot and an IP range set: without `ip` every bundle of it is
/// refused at the records, before any code is read.
#[cfg(not(feature = "ip"))]
#[test]
fn issue14_without_ip_the_address_kinds_are_refused() {
    let refused = Err(BundleError::Verify(VerifyError::Unsupported(Family::Ip)));
    for listing in [PLAIN, IP, TIME, LOWER, ARITH, FOLD] {
        assert_eq!(load(listing), refused, "{listing}");
    }
    assert_eq!(
        BundleError::Verify(VerifyError::Unsupported(Family::Ip)).to_string(),
        "bundle failed verification: the bundle uses values that need the `ip` feature, \
         which this engine was built without"
    );
}

#[cfg(feature = "ip")]
#[test]
fn issue14_with_ip_addresses_load() {
    assert_eq!(load(PLAIN), Ok(()));
    assert_eq!(load(IP), Ok(()));
}

#[cfg(all(feature = "ip", not(feature = "time")))]
#[test]
fn issue14_without_time_sub_and_parts_are_refused() {
    // `sub` is the third instruction (two 3-byte loads before it); `time.hour` the second.
    let at = |pc, e: BundleError| match e {
        BundleError::Verify(VerifyError::Code {
            policy,
            block,
            error,
            ..
        }) => BundleError::Verify(VerifyError::Code {
            policy,
            block,
            pc,
            error,
        }),
        e => e,
    };
    assert_eq!(load(TIME), Err(at(6, code_refused(Family::Time))));
    assert_eq!(load(TIME_PART), Err(at(3, code_refused(Family::Time))));
}

#[cfg(all(feature = "ip", feature = "time"))]
#[test]
fn issue14_with_time_sub_and_parts_load() {
    assert_eq!(load(TIME), Ok(()));
    assert_eq!(load(TIME_PART), Ok(()));
}

#[cfg(all(feature = "ip", not(feature = "unicode")))]
#[test]
fn issue14_without_unicode_lower_tests_are_refused() {
    let Err(BundleError::Verify(VerifyError::Code { error, .. })) = load(LOWER) else {
        panic!("lower.starts_with loaded without `unicode`");
    };
    assert_eq!(error, CodeError::Unsupported(Family::Unicode));
    let Err(BundleError::Verify(VerifyError::Code { error, .. })) = load(FOLD) else {
        panic!("str.fold loaded without `unicode`");
    };
    assert_eq!(error, CodeError::Unsupported(Family::Unicode));
    // `in.range` is its own family (`ranges`, session 9), not `unicode`'s.
    if cfg!(feature = "ranges") {
        assert_eq!(load(RANGE), Ok(()));
    } else {
        let Err(BundleError::Verify(VerifyError::Code { error, .. })) = load(RANGE) else {
            panic!("in.range loaded without `ranges`");
        };
        assert_eq!(error, CodeError::Unsupported(Family::Ranges));
    }
    assert_eq!(
        error.to_string(),
        "the instruction needs the `unicode` feature, which this engine was built without"
    );
    assert_eq!(code_refused(Family::Unicode), code_refused(Family::Unicode));
}

#[cfg(all(feature = "ip", feature = "unicode"))]
#[test]
fn issue14_with_unicode_lower_tests_load() {
    assert_eq!(load(LOWER), Ok(()));
    assert_eq!(load(FOLD), Ok(()));
    // `in.range` is its own family (`ranges`, session 9), not `unicode`'s.
    if cfg!(feature = "ranges") {
        assert_eq!(load(RANGE), Ok(()));
    } else {
        let Err(BundleError::Verify(VerifyError::Code { error, .. })) = load(RANGE) else {
            panic!("in.range loaded without `ranges`");
        };
        assert_eq!(error, CodeError::Unsupported(Family::Ranges));
    }
}

#[cfg(all(feature = "ip", not(feature = "arith")))]
#[test]
fn issue14_without_arith_the_arith_instruction_is_refused() {
    let Err(BundleError::Verify(VerifyError::Code { pc, error, .. })) = load(ARITH) else {
        panic!("arith loaded without `arith`");
    };
    assert_eq!((pc, error), (6, CodeError::Unsupported(Family::Arith)));
}

#[cfg(all(feature = "ip", feature = "arith"))]
#[test]
fn issue14_with_arith_the_arith_instruction_loads() {
    assert_eq!(load(ARITH), Ok(()));
}

#[test]
fn issue14_families_name_their_features() {
    assert_eq!(Family::Time.feature(), "time");
    assert_eq!(Family::Ip.feature(), "ip");
    assert_eq!(Family::Unicode.feature(), "unicode");
    assert_eq!(Family::Time.enabled(), cfg!(feature = "time"));
    assert_eq!(Family::Ip.enabled(), cfg!(feature = "ip"));
    assert_eq!(Family::Unicode.enabled(), cfg!(feature = "unicode"));
    assert_eq!(Family::Arith.feature(), "arith");
    assert_eq!(Family::Arith.enabled(), cfg!(feature = "arith"));
}

/// `segment(x, sep, i)`: piece 1 of `a.env` split on "pr", in a set (issue #15 gate).
const SEG: &str = "seg.slot slot 0 const 4 const 7\nin.set set 0";
const HAS_SEG: &str = "has.seg.slot slot 0 const 4 const 7";

/// The fixture with slot 2 renamed to the positional path `b.n[0]`.
fn positional_fixture() -> Variant {
    Variant {
        slot2_path: Some("b.n[0]"),
        ..Variant::default()
    }
}

/// The fixture with a schema default for `b.n`.
fn defaults_fixture() -> Variant {
    Variant {
        default_of_b_n: Some("7"),
        ..Variant::default()
    }
}

/// Loads the fixture bundle changed by `variant` around the plain listing.
fn load_variant(variant: &Variant) -> Result<(), BundleError> {
    let bytes = bundle_bytes_with(&assemble(PLAIN).unwrap(), variant);
    Bundle::from_bytes(&bytes).map(|_| ())
}

#[cfg(all(feature = "ip", not(feature = "segment")))]
#[test]
fn issue15_without_segment_the_seg_instructions_are_refused() {
    assert_eq!(load(SEG), Err(code_refused(Family::Segment)));
    assert_eq!(load(HAS_SEG), Err(code_refused(Family::Segment)));
    assert_eq!(
        CodeError::Unsupported(Family::Segment).to_string(),
        "the instruction needs the `segment` feature, which this engine was built without"
    );
}

#[cfg(all(feature = "ip", feature = "segment"))]
#[test]
fn issue15_with_segment_the_seg_instructions_load() {
    assert_eq!(load(SEG), Ok(()));
    assert_eq!(load(HAS_SEG), Ok(()));
}

#[cfg(all(feature = "ip", not(feature = "positional")))]
#[test]
fn issue15_without_positional_a_positional_slot_is_refused() {
    assert_eq!(
        load_variant(&positional_fixture()),
        Err(BundleError::Verify(VerifyError::Unsupported(
            Family::Positional
        )))
    );
}

#[cfg(all(feature = "ip", feature = "positional"))]
#[test]
fn issue15_with_positional_a_positional_slot_loads() {
    assert_eq!(load_variant(&positional_fixture()), Ok(()));
}

#[cfg(all(feature = "ip", not(feature = "defaults")))]
#[test]
fn issue15_without_defaults_a_slot_defaults_section_is_refused() {
    assert_eq!(
        load_variant(&defaults_fixture()),
        Err(BundleError::Verify(VerifyError::Unsupported(
            Family::Defaults
        )))
    );
}

#[cfg(all(feature = "ip", feature = "defaults"))]
#[test]
fn issue15_with_defaults_a_slot_defaults_section_loads() {
    assert_eq!(load_variant(&defaults_fixture()), Ok(()));
    let bytes = bundle_bytes_with(&assemble(PLAIN).unwrap(), &defaults_fixture());
    let b = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(b.slot_default(1), Some("7"));
    assert_eq!(b.slot_default(0), None);
}

/// The plain fixture (no new family in it) loads in every build that has its address kinds.
#[cfg(feature = "ip")]
#[test]
fn issue15_the_plain_fixture_needs_none_of_the_new_families() {
    assert_eq!(load_variant(&Variant::default()), Ok(()));
}

#[test]
fn issue15_families_name_their_features() {
    assert_eq!(Family::Segment.feature(), "segment");
    assert_eq!(Family::Positional.feature(), "positional");
    assert_eq!(Family::Defaults.feature(), "defaults");
    assert_eq!(Family::Segment.enabled(), cfg!(feature = "segment"));
    assert_eq!(Family::Positional.enabled(), cfg!(feature = "positional"));
    assert_eq!(Family::Defaults.enabled(), cfg!(feature = "defaults"));
}

/// Session 9's instructions are families of their own (issue #15): firmware without them
/// leaves their interpreter code out, and the verifier refuses a bundle that uses them.
#[test]
fn issue15_dynamic_keys_and_range_tables_are_families() {
    use ipe_nostd::family::of_instr;
    use ipe_nostd::isa::{Field, Instr, Ranges, Slot};
    let get = Instr::MapGet {
        map: Slot(0),
        field: Field(1),
    };
    let has = Instr::MapHas {
        map: Slot(0),
        field: Field(1),
    };
    let range = Instr::InRange { table: Ranges(0) };
    assert_eq!(of_instr(&get), Some(Family::DynKey));
    assert_eq!(of_instr(&has), Some(Family::DynKey));
    assert_eq!(of_instr(&range), Some(Family::Ranges));
    assert_eq!(Family::DynKey.feature(), "dynkey");
    assert_eq!(Family::Ranges.feature(), "ranges");
    assert_eq!(Family::DynKey.enabled(), cfg!(feature = "dynkey"));
    assert_eq!(Family::Ranges.enabled(), cfg!(feature = "ranges"));
}

/// Issue #13, session 10: the address-cell instructions (`in.ip`, `cmp.ip`, an `ip` field read
/// through a dynamic key) belong to the `dynkey` family with `map.get`.
#[test]
fn issue13_address_cell_instructions_are_dynkey() {
    use ipe_nostd::family::of_instr;
    use ipe_nostd::isa::{CmpOp, Instr, Set};
    assert_eq!(of_instr(&Instr::InIp { set: Set(0) }), Some(Family::DynKey));
    assert_eq!(
        of_instr(&Instr::CmpIp { op: CmpOp::Eq }),
        Some(Family::DynKey)
    );
}
