//! The optional families (cargo features `time`, `ip`, `unicode`, `arith` of issue #14;
//! `segment`, `positional`, `defaults`, `dynkey`, `ranges`, `lookups`, `nested`, `like` of issue
//! #15): a build without a family refuses, at load, a bundle that uses it, with a typed error;
//! a build with it loads the bundle. One table ([`GATED`]) holds a listing per instruction
//! family. Run in several feature sets, e.g.
//! `cargo test -p ipe-nostd --no-default-features --test families` and
//! `cargo test -p ipe-nostd --no-default-features --features ip --test families`.

#[allow(dead_code, reason = "the fixture helpers the listing tests use too")]
mod support;

use ipe_nostd::family::{of_instr, Family};
use ipe_nostd::isa::Instr;
use ipe_nostd::verify::{CodeError, VerifyError};
use ipe_nostd::{Bundle, BundleError};
use support::{assemble, bundle_bytes, bundle_bytes_with, Variant};

/// Loads the one-policy fixture bundle around `listing`.
fn load(listing: &str) -> Result<(), BundleError> {
    let bytes = bundle_bytes(&assemble(listing).unwrap());
    Bundle::from_bytes(&bytes).map(|_| ())
}

/// The listings of each family, each verifying when the family is built in.
const TIME: &str = "load.const const 1\nload.const const 5\nsub\nload.const const 1\ncmp ==";
const TIME_PART: &str = "load.const const 1\ntime.hour\nload.const const 1\ncmp ==";
const IP: &str = "in.ip.slot slot 10 set 3";
const LOWER: &str = "load.slot slot 0\nload.const const 4\nstr lower.starts_with";
/// Issue #14, session 9: both sides folded (family `unicode`).
const FOLD: &str = "load.slot slot 0\nload.const const 4\nstr.fold lower.eq";
/// Issue #14, session 9: a range table (family `ranges`).
const RANGE: &str = "load.slot slot 1\nin.range ranges 0";
const ARITH: &str =
    "load.const const 1\nload.const const 5\narith / slot 1\nload.const const 1\ncmp ==";
/// `segment(x, sep, i)`: piece 1 of `a.env` split on "pr", in a set (issue #15 gate).
const SEG: &str = "seg.slot slot 0 const 4 const 7\nin.set set 0";
const HAS_SEG: &str = "has.seg.slot slot 0 const 4 const 7";
/// A request map indexed by a request string (issue #13, session 9; family `dynkey`).
const MAP_GET: &str = "load.slot slot 0\nmap.get slot 12 field 1\nload.const const 1\ncmp ==";
const MAP_HAS: &str = "load.slot slot 0\nmap.has slot 12 field 0";
/// The lookup table `{"dev": 1, "prod": 2}` (issue #13; family `lookups`, session 10).
const LOOKUP: &str = "lookup.slot slot 0 set 0 const 7\nload.const const 7\ncmp ==";
const LOOKUP_FIELD: &str =
    "any slot 5 body 13\nlookup.field level 0 field 0 set 0 const 7\nload.const const 8\ncmp ==";
/// A nested list of `h.boxes` (issue #13; family `nested`, session 10).
const IN_FIELD: &str = "any slot 7 body 7\nload.const const 1\nin.field level 0 field 0";
const ANY_FIELD: &str =
    "any slot 7 body 13\nany.field level 0 field 1 body 7\ncmp.field.const > level 1 field 0 const 1";
const COUNT_FIELD: &str =
    "any slot 7 body 11\ncount.field level 0 field 0 body 0\nload.const const 1\ncmp ==";
/// A glob pattern (family `like`, session 10).
const LIKE: &str = "load.slot slot 0\nload.const const 4\nstr like";

/// Every gated instruction family with listings that use it (one row each): the table the
/// refusal test below runs in every feature set.
const GATED: &[(Family, &str)] = &[
    (Family::Time, TIME),
    (Family::Time, TIME_PART),
    (Family::Ip, IP),
    (Family::Unicode, LOWER),
    (Family::Unicode, FOLD),
    (Family::Arith, ARITH),
    (Family::Segment, SEG),
    (Family::Segment, HAS_SEG),
    (Family::DynKey, MAP_GET),
    (Family::DynKey, MAP_HAS),
    (Family::Ranges, RANGE),
    (Family::Lookups, LOOKUP),
    (Family::Lookups, LOOKUP_FIELD),
    (Family::Nested, IN_FIELD),
    (Family::Nested, ANY_FIELD),
    (Family::Nested, COUNT_FIELD),
    (Family::Like, LIKE),
];

/// Every family with whether this test build has its feature (`cfg!` needs each name
/// written out).
const BUILT: &[(Family, &str, bool)] = &[
    (Family::Time, "time", cfg!(feature = "time")),
    (Family::Ip, "ip", cfg!(feature = "ip")),
    (Family::Unicode, "unicode", cfg!(feature = "unicode")),
    (Family::Arith, "arith", cfg!(feature = "arith")),
    (Family::Segment, "segment", cfg!(feature = "segment")),
    (
        Family::Positional,
        "positional",
        cfg!(feature = "positional"),
    ),
    (Family::Defaults, "defaults", cfg!(feature = "defaults")),
    (Family::DynKey, "dynkey", cfg!(feature = "dynkey")),
    (Family::Ranges, "ranges", cfg!(feature = "ranges")),
    (Family::Lookups, "lookups", cfg!(feature = "lookups")),
    (Family::Nested, "nested", cfg!(feature = "nested")),
    (Family::Like, "like", cfg!(feature = "like")),
];

/// The family a load was refused for (`Ok` when it loaded); any other error fails the test.
fn refusal(listing: &str) -> Result<(), Family> {
    match load(listing) {
        Ok(()) => Ok(()),
        Err(BundleError::Verify(
            VerifyError::Unsupported(f)
            | VerifyError::Code {
                error: CodeError::Unsupported(f),
                ..
            },
        )) => Err(f),
        Err(e) => panic!("{listing}: {e}"),
    }
}

/// Issue #15: each row loads in a build with its family and is refused, naming the family,
/// in a build without it (the fixture's address kinds are refused first without `ip`).
#[test]
fn issue15_every_gated_family_loads_only_with_its_feature() {
    for &(family, listing) in GATED {
        let want = if !Family::Ip.enabled() {
            Err(Family::Ip)
        } else if family.enabled() {
            Ok(())
        } else {
            Err(family)
        };
        assert_eq!(refusal(listing), want, "{family}: {listing}");
    }
}

/// The table is right in every build: some instruction of each row needs the row's family
/// (so a build with every feature still checks the rows a build without one refuses), and
/// every gated family has a row.
#[test]
fn issue15_the_gated_listings_use_their_families() {
    for &(family, listing) in GATED {
        let code = assemble(listing).unwrap();
        let mut pc = 0;
        let mut found = false;
        while pc < code.len() {
            let (instr, next) = Instr::decode(&code, pc).unwrap();
            found |= of_instr(&instr) == Some(family);
            pc = next;
        }
        assert!(found, "no instruction of {family} in {listing}");
    }
    for &(family, _, _) in BUILT {
        let gated_by_code = !matches!(family, Family::Positional | Family::Defaults);
        assert_eq!(
            GATED.iter().any(|&(f, _)| f == family),
            gated_by_code,
            "{family}"
        );
    }
}

/// Every family names its cargo feature and knows whether this build has it.
#[test]
fn issue15_families_name_their_features() {
    for &(family, feature, built) in BUILT {
        assert_eq!(family.feature(), feature);
        assert_eq!(family.enabled(), built, "{feature}");
        assert_eq!(family.to_string(), feature);
    }
    assert_eq!(
        CodeError::Unsupported(Family::Nested).to_string(),
        "the instruction needs the `nested` feature, which this engine was built without"
    );
}

const PLAIN: &str = "load.slot slot 0\nload.const const 4\nstr starts_with";

/// The fixture has an address slot and an IP range set: without `ip` every bundle of it is
/// refused at the records, before any code is read.
#[cfg(not(feature = "ip"))]
#[test]
fn issue14_without_ip_the_address_kinds_are_refused() {
    let refused = Err(BundleError::Verify(VerifyError::Unsupported(Family::Ip)));
    for listing in [PLAIN, IP, TIME, LOWER, ARITH, FOLD, LOOKUP, IN_FIELD, LIKE] {
        assert_eq!(load(listing), refused, "{listing}");
    }
    assert_eq!(
        BundleError::Verify(VerifyError::Unsupported(Family::Ip)).to_string(),
        "bundle failed verification: the bundle uses values that need the `ip` feature, \
         which this engine was built without"
    );
}

/// The fixture with slot 2 renamed to the positional path `b.n[0]`.
#[cfg_attr(
    not(feature = "ip"),
    allow(dead_code, reason = "the fixture needs `ip`")
)]
fn positional_fixture() -> Variant {
    Variant {
        slot2_path: Some("b.n[0]"),
        ..Variant::default()
    }
}

/// The fixture with a schema default for `b.n`.
#[cfg_attr(
    not(feature = "ip"),
    allow(dead_code, reason = "the fixture needs `ip`")
)]
fn defaults_fixture() -> Variant {
    Variant {
        default_of_b_n: Some("7"),
        ..Variant::default()
    }
}

/// Loads the fixture bundle changed by `variant` around the plain listing.
#[cfg_attr(
    not(feature = "ip"),
    allow(dead_code, reason = "the fixture needs `ip`")
)]
fn load_variant(variant: &Variant) -> Result<(), BundleError> {
    let bytes = bundle_bytes_with(&assemble(PLAIN).unwrap(), variant);
    Bundle::from_bytes(&bytes).map(|_| ())
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
