//! Every refusal of a signed bundle, on the golden `tiny` bundle.

use super::*;
use crate::bundle::Bundle;
use crate::format;
use std::vec::Vec;

const SEED_A: [u8; 32] = [7; 32];
const SEED_B: [u8; 32] = [9; 32];

/// The golden bundle of `ipe-compile/tests/golden/tiny.ipeb.hex`.
fn tiny() -> Vec<u8> {
    include_str!("../../../ipe-compile/tests/golden/tiny.ipeb.hex")
        .split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}

fn sealed(bundle: &[u8], revision: u64, not_before: u64, seed: &[u8; 32]) -> Vec<u8> {
    let mut out = std::vec![0u8; bundle.len() + HEADER_LEN + SIGNATURE_LEN];
    let n = seal(bundle, revision, not_before, seed, &mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

fn keys() -> [TrustedKey; 2] {
    [
        TrustedKey::new(public_key(&SEED_A)),
        TrustedKey::new(public_key(&SEED_B)),
    ]
}

fn trust(keys: &[TrustedKey], min_revision: u64, now: u64) -> Trust<'_> {
    Trust {
        keys,
        min_revision,
        now,
    }
}

/// Rewrites the CRC of the bundle inside an envelope after tampering with its body.
fn fix_crc(env: &mut [u8]) {
    let body_len = env.len() - HEADER_LEN - SIGNATURE_LEN - format::HEADER_LEN;
    let body = &env[HEADER_LEN + format::HEADER_LEN..][..body_len];
    let crc = format::CRC.checksum(body);
    env[HEADER_LEN + 12..HEADER_LEN + 16].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_sealed_bundle_opens_with_its_fields() {
    let plain = tiny();
    let env = sealed(&plain, 42, 1_000, &SEED_A);
    assert_eq!(&env[..4], b"IPES");
    let keys = keys();
    let (bundle, e) = Bundle::from_signed(&env, &trust(&keys, 42, 1_000), u32::MAX).unwrap();
    assert_eq!(
        bundle.policy_count(),
        Bundle::from_bytes(&plain).unwrap().policy_count()
    );
    assert_eq!((e.revision, e.not_before), (42, 1_000));
    assert_eq!(e.key_id, key_id(&public_key(&SEED_A)));
    assert_eq!(e.bundle, &plain[..]);
    assert_eq!(open_unverified(&env).unwrap(), &plain[..]);
    assert_eq!(open_unverified(&plain).unwrap(), &plain[..]);
    // Deterministic: the same inputs give the same bytes.
    assert_eq!(env, sealed(&plain, 42, 1_000, &SEED_A));
}

#[test]
fn either_key_of_a_rotation_is_accepted() {
    let plain = tiny();
    let keys = keys();
    for seed in [&SEED_A, &SEED_B] {
        let env = sealed(&plain, 1, 0, seed);
        assert!(trust(&keys, 0, 0).check(&env).is_ok());
    }
}

#[test]
fn an_unsigned_bundle_is_refused() {
    let keys = keys();
    assert_eq!(
        trust(&keys, 0, 0).check(&tiny()),
        Err(SignatureError::Unsigned)
    );
}

#[test]
fn an_unknown_key_is_refused() {
    let env = sealed(&tiny(), 1, 0, &[3; 32]);
    let keys = keys();
    assert_eq!(
        trust(&keys, 0, 0).check(&env),
        Err(SignatureError::UnknownKey(key_id(&public_key(&[3; 32]))))
    );
    assert_eq!(
        trust(&[], 0, 0).check(&env),
        Err(SignatureError::UnknownKey(key_id(&public_key(&[3; 32]))))
    );
}

#[test]
fn a_wrong_signature_is_refused() {
    let mut env = sealed(&tiny(), 1, 0, &SEED_A);
    let last = env.len() - 1;
    env[last] ^= 1;
    let keys = keys();
    assert_eq!(
        trust(&keys, 0, 0).check(&env),
        Err(SignatureError::BadSignature)
    );
    // A signature by key B under key A's id.
    let by_b = sealed(&tiny(), 1, 0, &SEED_B);
    let mut forged = sealed(&tiny(), 1, 0, &SEED_A);
    let n = forged.len();
    forged[n - SIGNATURE_LEN..].copy_from_slice(&by_b[n - SIGNATURE_LEN..]);
    assert_eq!(
        trust(&keys, 0, 0).check(&forged),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn a_tampered_bundle_with_a_fixed_crc_is_refused() {
    let mut env = sealed(&tiny(), 1, 0, &SEED_A);
    // Flip a byte of the body's text (a policy name) and repair the CRC: a valid bundle.
    let at = HEADER_LEN + format::HEADER_LEN + 3;
    env[at] ^= 0x20;
    fix_crc(&mut env);
    let inner = &env[HEADER_LEN..env.len() - SIGNATURE_LEN];
    assert!(
        Bundle::from_bytes(inner).is_ok(),
        "the tampered bundle is valid"
    );
    let keys = keys();
    assert_eq!(
        Bundle::from_signed(&env, &trust(&keys, 0, 0), u32::MAX).err(),
        Some(SignatureError::BadSignature)
    );
}

#[test]
fn a_changed_revision_or_time_breaks_the_signature() {
    let keys = keys();
    for at in [8, 16] {
        let mut env = sealed(&tiny(), 1, 0, &SEED_A);
        env[at] ^= 0x10;
        assert_eq!(
            trust(&keys, 0, u64::MAX).check(&env),
            Err(SignatureError::BadSignature),
            "byte {at}"
        );
    }
}

#[test]
fn an_older_revision_is_refused() {
    let env = sealed(&tiny(), 6, 0, &SEED_A);
    let keys = keys();
    assert_eq!(
        trust(&keys, 7, 0).check(&env),
        Err(SignatureError::Rollback {
            revision: 6,
            minimum: 7
        })
    );
    assert!(trust(&keys, 6, 0).check(&env).is_ok(), "the same revision");
}

#[test]
fn a_bundle_not_yet_valid_is_refused() {
    let env = sealed(&tiny(), 1, 1_700_000_000, &SEED_A);
    let keys = keys();
    assert_eq!(
        trust(&keys, 0, 1_699_999_999).check(&env),
        Err(SignatureError::NotYetValid {
            not_before: 1_700_000_000,
            now: 1_699_999_999
        })
    );
    assert!(trust(&keys, 0, 1_700_000_000).check(&env).is_ok());
}

#[test]
fn a_signed_bundle_still_goes_through_the_verifier() {
    let env = sealed(&tiny(), 1, 0, &SEED_A);
    let keys = keys();
    assert!(matches!(
        Bundle::from_signed(&env, &trust(&keys, 0, 0), 0).err(),
        Some(SignatureError::Bundle(crate::BundleError::Verify(_)))
    ));
}

#[test]
fn malformed_envelopes_are_refused() {
    let env = sealed(&tiny(), 1, 0, &SEED_A);
    let keys = keys();
    let t = trust(&keys, 0, 0);
    let with = |at: usize, v: u8| {
        let mut e = env.clone();
        e[at] = v;
        t.check(&e).map(|_| ())
    };
    assert_eq!(with(0, b'X'), Err(SignatureError::BadMagic));
    assert_eq!(with(4, 2), Err(SignatureError::UnsupportedVersion(2)));
    assert_eq!(with(6, 1), Err(SignatureError::ReservedFlags(1)));
    assert_eq!(with(37, 1), Err(SignatureError::ReservedBytes));
    let mut longer = env.clone();
    longer.push(0);
    assert_eq!(t.check(&longer), Err(SignatureError::TrailingBytes(1)));
    assert_eq!(
        t.check(&env[..env.len() - 1]),
        Err(SignatureError::Truncated {
            needed: env.len(),
            found: env.len() - 1
        })
    );
    assert_eq!(
        t.check(&env[..10]),
        Err(SignatureError::Truncated {
            needed: HEADER_LEN,
            found: 10
        })
    );
    assert_eq!(
        t.check(b"xy"),
        Err(SignatureError::Truncated {
            needed: HEADER_LEN,
            found: 2
        })
    );
    // A declared bundle length far beyond the bytes.
    let mut huge = env.clone();
    huge[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        t.check(&huge),
        Err(SignatureError::Truncated { .. })
    ));
}

#[test]
fn every_prefix_and_every_flipped_byte_is_refused() {
    let env = sealed(&tiny(), 3, 5, &SEED_A);
    let keys = keys();
    let t = trust(&keys, 0, 10);
    for n in 0..env.len() {
        assert!(t.check(&env[..n]).is_err(), "prefix {n}");
    }
    for at in 0..env.len() {
        let mut e = env.clone();
        e[at] ^= 0x01;
        assert!(
            Bundle::from_signed(&e, &t, u32::MAX).is_err(),
            "flipped byte {at}"
        );
    }
}

#[test]
fn seal_needs_room_and_a_bundle() {
    let plain = tiny();
    let mut small = std::vec![0u8; plain.len()];
    assert!(matches!(
        seal(&plain, 1, 0, &SEED_A, &mut small),
        Err(SignatureError::Truncated { .. })
    ));
    let mut out = std::vec![0u8; 200];
    assert_eq!(
        seal(b"not a bundle at all", 1, 0, &SEED_A, &mut out),
        Err(SignatureError::Bundle(crate::BundleError::BadMagic))
    );
}

#[test]
#[cfg(not(feature = "size"))]
fn issue15_from_signed_with_checksum_answers_as_from_signed() {
    let env = sealed(&tiny(), 3, 5, &SEED_A);
    let keys = keys();
    let t = trust(&keys, 0, 10);
    let table: fn(&[u8]) -> u32 = |b| format::CRC.checksum(b);
    let count = |r: Result<(Bundle<'_>, Envelope<'_>), SignatureError>| {
        r.map(|(b, e)| (b.policy_count(), e.revision))
    };
    let mut cases = std::vec![env.clone(), env[..env.len() - 1].to_vec()];
    for at in 0..env.len() {
        let mut e = env.clone();
        e[at] ^= 0x01;
        cases.push(e);
    }
    for (i, e) in cases.iter().enumerate() {
        assert_eq!(
            count(Bundle::from_signed_with_checksum(e, &t, u32::MAX, table)),
            count(Bundle::from_signed(e, &t, u32::MAX)),
            "case {i}"
        );
    }
    // The checksum given is the one compared: a wrong one refuses the intact envelope.
    let wrong: fn(&[u8]) -> u32 = |b| format::CRC.checksum(b) ^ 1;
    assert!(matches!(
        Bundle::from_signed_with_checksum(&env, &t, u32::MAX, wrong).err(),
        Some(SignatureError::Bundle(BundleError::ChecksumMismatch { .. }))
    ));
}
