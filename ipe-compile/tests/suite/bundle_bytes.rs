//! The bundle as bytes: golden bytes for a small bundle (see `docs/bundle-format.md`), and
//! malformed bundles (every truncation, random byte flips with and without a fixed checksum)
//! rejected with a typed error or evaluated without panicking.

use ipe_nostd::format::{self, Header, HEADER_LEN};
use ipe_nostd::{Bundle, BundleError, Context, Decision, Value};
use proptest::prelude::*;

const TINY: &str = r#"default allow
schema {
  env: string
  level: enum ["low", "high"]
}

policy NoHighInProd:
  "High levels are not allowed in production"
  triggers when env == "prod"
  requires level < "high"
"#;

fn compile(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("tiny.ipe", src)]).unwrap();
    ipe_compile::lower::lower(&program).unwrap().bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tiny bundle's exact bytes. Re-bless with `IPE_BLESS=1` after a deliberate format change
/// (and bump `format::VERSION` if old bundles can no longer be read).
#[test]
fn golden_bytes_of_a_tiny_bundle() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/tiny.ipeb.hex");
    let actual = hex(&compile(TINY));
    if std::env::var_os("IPE_BLESS").is_some() {
        std::fs::write(path, format!("{actual}\n")).unwrap();
    }
    let expected = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        actual,
        expected.trim_end(),
        "bundle bytes changed; see docs/bundle-format.md"
    );
}

#[test]
fn header_fields_are_where_the_spec_says() {
    // Literal offsets on purpose: an independent reading of the spec's header table.
    let b = compile(TINY);
    assert_eq!(&b[0..4], b"IPEB");
    // Issue #13: a bundle without first-match groups is still written as version 1.
    assert_eq!(u16::from_le_bytes([b[4], b[5]]), 1);
    assert_eq!(u16::from_le_bytes([b[6], b[7]]), 0);
    let len = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    assert_eq!(len, b.len() - HEADER_LEN);
    let crc = u32::from_le_bytes(b[12..16].try_into().unwrap());
    assert_eq!(crc, format::CRC.checksum(&b[HEADER_LEN..]));
}

fn seed_bytes() -> Vec<u8> {
    let program =
        ipe_compile::compile_paths(&[
            concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seed").into()
        ])
        .unwrap();
    ipe_compile::lower::lower(&program).unwrap().bytes
}

/// Evaluates an accepted bundle on a context filled from `noise`: must not panic.
fn exercise(bundle: &Bundle<'_>, noise: &[u8]) {
    let strs = [
        "Deployment",
        "production",
        "medium",
        "senior-engineer",
        "x",
        "",
    ];
    let mut ctx = Context::<64>::new();
    let recs: Vec<Value<'_>> = noise
        .iter()
        .map(|&n| match n % 4 {
            0 => Value::Str(bundle.intern(strs[usize::from(n) % strs.len()])),
            1 => Value::Int(i64::from(n)),
            2 => Value::Missing,
            _ => Value::Enum(u16::from(n % 5)),
        })
        .collect();
    for s in 0..bundle.slot_count().min(64) {
        let n = noise.get(s).copied().unwrap_or(0);
        let v = match n % 6 {
            0 => Value::Str(bundle.intern(strs[usize::from(n) % strs.len()])),
            1 => Value::Int(i64::from(n) - 100),
            2 => Value::Bool(n % 2 == 0),
            3 => Value::Enum(u16::from(n % 5)),
            4 => Value::Records(&recs),
            _ => Value::List(&recs),
        };
        ctx.set(s as u16, v);
    }
    let _: Decision<8> = ipe_nostd::evaluate(bundle, &ctx);
}

#[test]
fn every_truncation_of_a_bundle_is_rejected() {
    let b = seed_bytes();
    for len in 0..b.len() {
        let err = Bundle::from_bytes(&b[..len]).unwrap_err();
        assert!(
            matches!(err, BundleError::Truncated { .. }),
            "length {len}: {err:?}"
        );
    }
    assert!(Bundle::from_bytes(&b).is_ok());
    let mut longer = b.clone();
    longer.push(0);
    assert_eq!(
        Bundle::from_bytes(&longer).unwrap_err(),
        BundleError::TrailingBytes(1)
    );
}

#[test]
fn a_flipped_body_byte_fails_the_checksum() {
    let b = seed_bytes();
    for i in HEADER_LEN..b.len() {
        let mut c = b.clone();
        c[i] ^= 0x40;
        assert!(
            matches!(
                Bundle::from_bytes(&c),
                Err(BundleError::ChecksumMismatch { .. })
            ),
            "byte {i}"
        );
    }
}

fn refresh_crc(b: &mut [u8]) {
    // Keep the version the bundle was written with (1 unless it has first-match groups).
    let version = Header::parse(b).map_or(ipe_nostd::format::VERSION, |h| h.version);
    let header = Header::for_body_version(&b[HEADER_LEN..], version).write();
    b[..HEADER_LEN].copy_from_slice(&header);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Corruption that keeps a valid checksum reaches the decoder and the verifier: the bundle
    /// is rejected with a typed error or, if accepted, evaluates any context without panicking.
    #[test]
    fn corrupted_bundles_with_a_valid_checksum_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut b = seed_bytes_cached().to_vec();
        for (i, x) in &flips {
            let at = HEADER_LEN + i.index(b.len() - HEADER_LEN);
            b[at] ^= x | 1;
        }
        refresh_crc(&mut b);
        if let Ok(bundle) = Bundle::from_bytes(&b) {
            exercise(&bundle, &noise);
        }
    }
}

/// Issue 11 (malleability): reserved header flags other than 0 are refused, not ignored.
#[test]
fn issue11_reserved_header_flags_are_refused() {
    let b = compile(TINY);
    for flags in [1u16, 0x8000, 0xffff] {
        let mut c = b.clone();
        c[6..8].copy_from_slice(&flags.to_le_bytes());
        assert_eq!(
            Bundle::from_bytes(&c).unwrap_err(),
            BundleError::ReservedFlags(flags)
        );
    }
}

/// Issue 11 (malleability): a length prefix in a longer-than-shortest varint form is refused,
/// so one bundle has one encoding.
#[test]
fn issue11_overlong_varints_are_refused() {
    let b = compile(TINY);
    let body = &b[HEADER_LEN..];
    // The body is `default: u8` then `text` with a varint length prefix.
    let text_len = usize::from(body[1]);
    assert!(
        text_len < 0x80,
        "the tiny bundle's text length fits one byte"
    );
    // Every overlong form of that prefix: two to five bytes.
    for extra in 1..=4 {
        let mut prefix = vec![body[1] | 0x80];
        prefix.extend(std::iter::repeat_n(0x80, extra - 1));
        prefix.push(0x00);
        let mut new_body = vec![body[0]];
        new_body.extend_from_slice(&prefix);
        new_body.extend_from_slice(&body[2..]);
        let mut c = Header::for_body(&new_body).write().to_vec();
        c.extend_from_slice(&new_body);
        assert_eq!(
            Bundle::from_bytes(&c).unwrap_err(),
            BundleError::NonCanonical,
            "{extra} extra prefix bytes"
        );
    }
    assert!(Bundle::from_bytes(&b).is_ok());
}

fn seed_bytes_cached() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(seed_bytes)
}

mod verifier {
    //! Hand-corrupted bodies, re-encoded with a valid checksum: each is rejected by the
    //! verifier with a typed error naming what and where.

    use super::seed_bytes_cached;
    use ipe_compile::lower::encode;
    use ipe_nostd::format::{Body, BucketRec, GroupRec, PolicyRefFields};
    use ipe_nostd::verify::{Block, CodeError, Section, VerifyError};
    use ipe_nostd::{Bundle, BundleError};

    fn verify_with(patch: impl FnOnce(&Body<'_>) -> Vec<u8>) -> BundleError {
        let bytes = seed_bytes_cached();
        let body = Bundle::decode_unverified(bytes).unwrap();
        let patched = patch(&body);
        Bundle::from_bytes(&patched).unwrap_err()
    }

    fn code_error(policy: u16, block: Block, pc: u32, error: CodeError) -> BundleError {
        BundleError::Verify(VerifyError::Code {
            policy,
            block,
            pc,
            error,
        })
    }

    /// The seed trigger starts `cmp.slot.const == slot 4 const 0; jump.false +16; ...`.
    fn with_code(body: &Body<'_>, f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut code = body.code.to_vec();
        f(&mut code);
        encode(&Body {
            code: &code,
            ..*body
        })
    }

    #[test]
    fn an_invalid_opcode_byte() {
        let e = verify_with(|b| with_code(b, |c| c[0] = 0));
        assert_eq!(e, code_error(0, Block::Trigger, 0, CodeError::BadOpcode(0)));
    }

    #[test]
    fn a_slot_out_of_range() {
        let e = verify_with(|b| with_code(b, |c| c[2] = 99));
        assert_eq!(e, code_error(0, Block::Trigger, 0, CodeError::BadOperand));
    }

    #[test]
    fn comparing_an_enum_slot_with_a_string_constant() {
        // Slot 3 is `resource.risk_level` (an enum); constant 0 is "Deployment".
        let e = verify_with(|b| with_code(b, |c| c[2] = 3));
        assert_eq!(e, code_error(0, Block::Trigger, 0, CodeError::TypeMismatch));
    }

    #[test]
    fn a_jump_into_the_middle_of_an_instruction() {
        // jump.false at 6 targets 9 + d; d = 1 lands inside `in.slot.set` (9..14).
        let e = verify_with(|b| with_code(b, |c| c[7] = 1));
        assert!(
            matches!(
                e,
                BundleError::Verify(VerifyError::Code {
                    policy: 0,
                    block: Block::Trigger,
                    error: CodeError::BadJump,
                    ..
                })
            ),
            "{e:?}"
        );
    }

    #[test]
    fn an_aggregate_body_running_past_its_block() {
        // The clause starts right after the 25-byte trigger with `count slot 0 body n`.
        let e = verify_with(|b| with_code(b, |c| c[25 + 3] = 200));
        assert_eq!(e, code_error(0, Block::Clause(0), 0, CodeError::Truncated));
    }

    #[test]
    fn a_recorded_cost_bound_that_is_not_the_code_s() {
        let e = verify_with(|b| {
            let mut p = b.policies.to_vec();
            p[48] ^= 1;
            encode(&Body { policies: &p, ..*b })
        });
        assert!(
            matches!(
                e,
                BundleError::Verify(VerifyError::CostMismatch { policy: 0, .. })
            ),
            "{e:?}"
        );
    }

    #[test]
    fn symbols_out_of_order() {
        let e = verify_with(|b| {
            let mut s = b.symbols.to_vec();
            let (first, rest) = s.split_at_mut(8);
            first.swap_with_slice(&mut rest[..8]);
            encode(&Body { symbols: &s, ..*b })
        });
        assert_eq!(
            e,
            BundleError::Verify(VerifyError::Unsorted {
                section: Section::Symbols,
                index: 1
            })
        );
    }

    #[test]
    fn a_policy_both_indexed_and_unindexed() {
        let e = verify_with(|b| {
            encode(&Body {
                unindexed: &[0, 0],
                ..*b
            })
        });
        assert_eq!(
            e,
            BundleError::Verify(VerifyError::IndexCoverage { policy: 0 })
        );
    }

    #[test]
    fn a_section_that_is_not_whole_records() {
        let e = verify_with(|b| {
            let mut s = b.slots.to_vec();
            s.pop();
            encode(&Body { slots: &s, ..*b })
        });
        assert_eq!(
            e,
            BundleError::Verify(VerifyError::BadLength(Section::Slots))
        );
    }
    /// The seed's one index bucket, as `(key, first policy, policy count)`.
    fn seed_bucket(b: &Body<'_>) -> (i64, u32, u32) {
        let r = BucketRec::nth(b.index_buckets, 0);
        (r.key(), r.first_policy(), r.policy_count())
    }

    /// Issue 11: a bucket key that contradicts the trigger (here: another string than
    /// "Deployment") used to verify and silently skip the policy, turning denies into allows.
    #[test]
    fn issue11_index_key_contradicting_the_trigger_is_refused() {
        let e = verify_with(|b| {
            let mut k = b.index_buckets.to_vec();
            let mut r = BucketRec::nth(&k, 0).fields();
            r.key += 1;
            r.put(&mut k, 0).unwrap();
            encode(&Body {
                index_buckets: &k,
                ..*b
            })
        });
        assert!(
            matches!(
                e,
                BundleError::Verify(VerifyError::IndexKey { policy: 0, .. })
            ),
            "{e:?}"
        );
    }

    /// Issue 11: an index group on a slot the trigger does not test first.
    #[test]
    fn issue11_index_group_on_another_slot_is_refused() {
        let e = verify_with(|b| {
            let mut g = b.index_groups.to_vec();
            // Slot 1 is `environment`, a string slot like `resource.type`.
            let mut r = GroupRec::nth(&g, 0).fields();
            r.slot = 1;
            r.put(&mut g, 0).unwrap();
            encode(&Body {
                index_groups: &g,
                ..*b
            })
        });
        assert_eq!(
            e,
            BundleError::Verify(VerifyError::IndexTrigger {
                policy: 0,
                group: 0
            })
        );
    }

    /// Issue 11: a policy filed under a key its trigger does not admit (a second bucket).
    #[test]
    fn issue11_policy_under_an_extra_key_is_refused() {
        let e = verify_with(|b| {
            let mut extra = BucketRec::nth(b.index_buckets, 0).fields();
            extra.key += 1;
            let mut k = b.index_buckets.to_vec();
            k.extend_from_slice(&extra.to_bytes());
            let mut g = b.index_groups.to_vec();
            let mut r = GroupRec::nth(&g, 0).fields();
            r.bucket_count = 2;
            r.put(&mut g, 0).unwrap();
            encode(&Body {
                index_buckets: &k,
                index_groups: &g,
                ..*b
            })
        });
        assert_eq!(
            e,
            BundleError::Verify(VerifyError::IndexKey {
                policy: 0,
                key: seed_bucket(&Bundle::decode_unverified(seed_bytes_cached()).unwrap()).0 + 1
            })
        );
    }

    /// A bundle whose one index group holds policy 0 (`t in ["a", "b"]`, two keys) and policy
    /// 1 (`t == "c"`), nothing unindexed.
    fn two_indexed_policies() -> Vec<u8> {
        let src = "schema {\n  t: string\n}\n\npolicy A:\n  \"a\"\n  triggers when t in [\"a\", \"b\"]\n  denies\n\npolicy B:\n  \"b\"\n  triggers when t == \"c\"\n  denies\n";
        let program = ipe_compile::compile_str(&[("t.ipe", src)]).unwrap();
        ipe_compile::lower::lower(&program).unwrap().bytes
    }

    /// Issue 15: the index proof counts (policy, admitted key) pairs instead of decoding
    /// every bucket entry's trigger again; a set-keyed trigger's pairs are its keys. A
    /// bucket that also lists a policy its trigger keeps out (one more entry than pairs) is
    /// still named.
    #[test]
    fn issue15_a_set_keyed_index_with_an_extra_entry_is_refused() {
        let bytes = two_indexed_policies();
        assert!(Bundle::from_bytes(&bytes).is_ok());
        let b = Bundle::decode_unverified(&bytes).unwrap();
        let group = GroupRec::nth(b.index_groups, 0).fields();
        assert_eq!(
            (group.bucket_count, group.policy_count),
            (3, 2),
            "one group, three keys"
        );
        let first = BucketRec::nth(b.index_buckets, 0).fields();
        // The first bucket (one of A's keys) now lists the whole group: A and B.
        let mut k = b.index_buckets.to_vec();
        let mut r = first;
        r.first_policy = group.first_policy;
        r.policy_count = 2;
        r.put(&mut k, 0).unwrap();
        let patched = encode(&Body {
            index_buckets: &k,
            ..b
        });
        assert_eq!(
            Bundle::from_bytes(&patched).unwrap_err(),
            BundleError::Verify(VerifyError::IndexKey {
                policy: 1,
                key: first.key
            })
        );
    }

    /// Issue 15: the coverage check walks the lists side by side; a policy also in the
    /// unindexed list is named, the first such one when there are two.
    #[test]
    fn issue15_a_policy_in_two_index_lists_is_refused() {
        let bytes = two_indexed_policies();
        let b = Bundle::decode_unverified(&bytes).unwrap();
        assert!(b.unindexed.is_empty(), "both policies are indexed");
        for (ids, twice) in [(&[0u16][..], 0u16), (&[1], 1), (&[0, 1], 0)] {
            let list: Vec<u8> = ids
                .iter()
                .flat_map(|&policy| PolicyRefFields { policy }.to_bytes())
                .collect();
            let patched = encode(&Body {
                unindexed: &list,
                ..b
            });
            assert_eq!(
                Bundle::from_bytes(&patched).unwrap_err(),
                BundleError::Verify(VerifyError::IndexCoverage { policy: twice }),
                "unindexed {ids:?}"
            );
        }
    }

    /// Issue 11: the index is dropped altogether (no group, no unindexed entry).
    #[test]
    fn issue11_policy_missing_from_the_index_is_refused() {
        let e = verify_with(|b| {
            encode(&Body {
                index_groups: &[],
                index_buckets: &[],
                index_policies: &[],
                ..*b
            })
        });
        assert_eq!(
            e,
            BundleError::Verify(VerifyError::IndexCoverage { policy: 0 })
        );
    }
}

/// A v1 source with plain dotted paths lowers to the same path text as before quoted keys
/// existed, and a quoted key is written in its canonical form; the verifier refuses a slot
/// path that is not canonical (two texts must never name the same keys).
#[test]
fn issue13_quoted_keys_are_canonical_path_text() {
    let src = r#"schema {
  a.b: int
  x["a b"]: string
  x["c"]: bool
}
policy P:
  "p"
  triggers when a.b == 1 and x["a b"] == "v" and x.c
  denies
"#;
    let b = compile(src);
    let bundle = Bundle::from_bytes(&b).expect("verifies");
    let paths: Vec<&str> = (0..bundle.slot_count())
        .map(|s| bundle.slot_info(s as u16).path)
        .collect();
    assert_eq!(paths, ["a.b", "x.c", r#"x["a b"]"#]);
    for (from, to) in [
        (&br#"x["a b"]"#[..], &br#"x["a\b"]"#[..]),
        (br#"x["a b"]"#, br#"x[ "ab"]"#),
        (b"a.b", b"a..".as_slice()),
    ] {
        let at = b
            .windows(from.len())
            .position(|w| w == from)
            .expect("path text in the bundle");
        let mut c = b.clone();
        c[at..at + to.len()].copy_from_slice(to);
        refresh_crc(&mut c);
        assert!(
            matches!(
                Bundle::from_bytes(&c),
                Err(BundleError::Verify(
                    ipe_nostd::verify::VerifyError::BadRecord {
                        section: ipe_nostd::verify::Section::Slots,
                        ..
                    }
                ))
            ),
            "{}: {:?}",
            String::from_utf8_lossy(to),
            Bundle::from_bytes(&c).err()
        );
    }
}
