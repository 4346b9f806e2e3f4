//! Issue #14's optional families (cargo features `time`, `ip`, `unicode`, `arith`): a build without a
//! family refuses, at load, a bundle that uses it, with a typed error; a build with it loads
//! the bundle. Run in several feature sets, e.g.
//! `cargo test -p ipe-nostd --no-default-features --test families` and
//! `cargo test -p ipe-nostd --no-default-features --features ip --test families`.

#[allow(dead_code, reason = "the fixture helpers the listing tests use too")]
mod support;

use ipe_nostd::family::Family;
use ipe_nostd::verify::{Block, CodeError, VerifyError};
use ipe_nostd::{Bundle, BundleError};
use support::{assemble, bundle_bytes};

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
const ARITH: &str =
    "load.const const 1\nload.const const 5\narith / slot 1\nload.const const 1\ncmp ==";
const PLAIN: &str = "load.slot slot 0\nload.const const 4\nstr starts_with";

/// The fixture has an address slot and an IP range set: without `ip` every bundle of it is
/// refused at the records, before any code is read.
#[cfg(not(feature = "ip"))]
#[test]
fn issue14_without_ip_the_address_kinds_are_refused() {
    let refused = Err(BundleError::Verify(VerifyError::Unsupported(Family::Ip)));
    for listing in [PLAIN, IP, TIME, LOWER, ARITH] {
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
