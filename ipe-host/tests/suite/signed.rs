//! Issue 18: an engine with a trust policy refuses unsigned, wrongly signed, unknown-key,
//! older and not-yet-valid bundles on load, swap and reload, and a refused bundle never
//! replaces the live one.

use ipe_host::{EngineOptions, ErrorKind, PolicyEngine, TrustPolicy};
use ipe_nostd::signed::{self, SignatureError, HEADER_LEN, SIGNATURE_LEN};

use crate::common::bundle;

const KEY: [u8; 32] = [1; 32];
const NEXT_KEY: [u8; 32] = [2; 32];
const OTHER: [u8; 32] = [3; 32];

/// A bundle that denies everything (`deny`) or allows everything (`allow`).
fn plain(default: &str) -> Vec<u8> {
    bundle(&format!(
        "default {default}\nschema {{\n  env: string\n}}\n\npolicy P:\n  \"p\"\n  triggers when env == \"never\"\n  denies\n"
    ))
}

fn sign(bytes: &[u8], revision: u64, not_before: u64, seed: &[u8; 32]) -> Vec<u8> {
    let mut out = vec![0; bytes.len() + HEADER_LEN + SIGNATURE_LEN];
    let n = signed::seal(bytes, revision, not_before, seed, &mut out).unwrap();
    out.truncate(n);
    out
}

fn trust() -> TrustPolicy {
    TrustPolicy::new([signed::public_key(&KEY), signed::public_key(&NEXT_KEY)]).with_now(1_000)
}

fn engine(bytes: Vec<u8>) -> PolicyEngine {
    PolicyEngine::with_trust(bytes, EngineOptions::interpreter(), trust()).expect("accepted")
}

/// The live version's answer to `{"env":"x"}`: `allow` or `deny`.
fn answer(e: &PolicyEngine) -> String {
    let set = e.load();
    let d = set.evaluate_json(r#"{"env":"x"}"#).unwrap();
    let json: serde_json::Value = serde_json::from_str(&set.report(&d).to_json()).unwrap();
    json["decision"].as_str().unwrap().to_owned()
}

fn refusal(r: Result<u64, ipe_host::Error>) -> SignatureError {
    match r.expect_err("refused").into_kind() {
        ErrorKind::Signature(e) => e,
        other => panic!("not a signature error: {other:?}"),
    }
}

#[test]
fn a_signed_engine_loads_swaps_and_remembers_the_highest_revision() {
    let e = engine(sign(&plain("allow"), 5, 0, &KEY));
    assert_eq!(answer(&e), "allow");
    assert_eq!(e.highest_revision(), Some(5));
    let info = e.load().signature().unwrap();
    assert_eq!(info.revision, 5);
    assert_eq!(info.key_id, signed::key_id(&signed::public_key(&KEY)));
    // The rotated key, a newer revision.
    assert_eq!(e.swap(sign(&plain("deny"), 7, 0, &NEXT_KEY)).unwrap(), 2);
    assert_eq!(answer(&e), "deny");
    assert_eq!(e.highest_revision(), Some(7));
    // The same revision again is accepted (a reload of the same file).
    assert_eq!(e.swap(sign(&plain("deny"), 7, 0, &KEY)).unwrap(), 3);
}

#[test]
fn refused_swaps_keep_the_live_version() {
    let e = engine(sign(&plain("allow"), 5, 0, &KEY));
    let deny = plain("deny");
    assert_eq!(refusal(e.swap(deny.clone())), SignatureError::Unsigned);
    assert_eq!(
        refusal(e.swap(sign(&deny, 4, 0, &KEY))),
        SignatureError::Rollback {
            revision: 4,
            minimum: 5
        }
    );
    assert!(matches!(
        refusal(e.swap(sign(&deny, 6, 0, &OTHER))),
        SignatureError::UnknownKey(_)
    ));
    assert_eq!(
        refusal(e.swap(sign(&deny, 6, 1_001, &KEY))),
        SignatureError::NotYetValid {
            not_before: 1_001,
            now: 1_000
        }
    );
    // Tampered: a byte of the inner bundle's text changed and its CRC fixed.
    let mut tampered = sign(&deny, 6, 0, &KEY);
    let body = HEADER_LEN + ipe_nostd::format::HEADER_LEN;
    let end = tampered.len() - SIGNATURE_LEN;
    tampered[body + 2] ^= 0x20;
    let crc = ipe_nostd::format::CRC.checksum(&tampered[body..end]);
    tampered[HEADER_LEN + 12..HEADER_LEN + 16].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(refusal(e.swap(tampered)), SignatureError::BadSignature);
    assert_eq!(e.version(), 1);
    assert_eq!(answer(&e), "allow");
    assert_eq!(e.highest_revision(), Some(5));
}

#[test]
fn refused_reloads_keep_the_live_version() {
    let dir = std::env::temp_dir().join(format!("ipe-host-signed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.ipeb");
    std::fs::write(&path, sign(&plain("allow"), 10, 0, &KEY)).unwrap();
    let e =
        PolicyEngine::from_file_with_trust(&path, EngineOptions::interpreter(), trust()).unwrap();
    assert_eq!(e.highest_revision(), Some(10));
    std::fs::write(&path, sign(&plain("deny"), 9, 0, &KEY)).unwrap();
    assert!(matches!(
        refusal(e.reload()),
        SignatureError::Rollback { revision: 9, .. }
    ));
    std::fs::write(&path, plain("deny")).unwrap();
    assert_eq!(refusal(e.reload()), SignatureError::Unsigned);
    assert_eq!((e.version(), answer(&e).as_str()), (1, "allow"));
    std::fs::write(&path, sign(&plain("deny"), 11, 0, &KEY)).unwrap();
    assert_eq!(e.reload().unwrap(), 2);
    assert_eq!(
        (answer(&e).as_str(), e.highest_revision()),
        ("deny", Some(11))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_first_load_is_checked_too() {
    let load = |bytes: Vec<u8>, t: TrustPolicy| {
        PolicyEngine::with_trust(bytes, EngineOptions::interpreter(), t).map(|_| 0)
    };
    assert_eq!(
        refusal(load(plain("allow"), trust())),
        SignatureError::Unsigned
    );
    assert_eq!(
        refusal(load(
            sign(&plain("allow"), 2, 0, &KEY),
            trust().with_min_revision(3)
        )),
        SignatureError::Rollback {
            revision: 2,
            minimum: 3
        }
    );
}

#[test]
fn an_engine_without_trust_reads_signed_and_unsigned_bundles() {
    let e = PolicyEngine::with_options(
        sign(&plain("allow"), 1, 0, &OTHER),
        EngineOptions::interpreter(),
    )
    .unwrap();
    assert_eq!(answer(&e), "allow");
    assert_eq!((e.load().signature(), e.highest_revision()), (None, None));
    e.swap(plain("deny")).unwrap();
    assert_eq!(answer(&e), "deny");
}

#[test]
fn publish_checks_a_prepared_set_against_the_engines_trust_policy() {
    use ipe_host::Prepared;
    let e = engine(sign(&plain("allow"), 5, 0, &KEY));
    let deny = plain("deny");
    // Unsigned bytes, and signed bytes opened without a check: both are checked on publish.
    let unsigned = Prepared::new(deny.clone()).expect("prepares");
    assert_eq!(refusal(e.publish(unsigned)), SignatureError::Unsigned);
    let unknown = Prepared::new(sign(&deny, 6, 0, &OTHER)).expect("prepares");
    assert!(matches!(
        refusal(e.publish(unknown)),
        SignatureError::UnknownKey(_)
    ));
    // Checked by a more lenient policy than the engine's: its own signer, an old revision.
    let lenient = TrustPolicy::new([signed::public_key(&OTHER)]).with_now(1_000);
    let other = Prepared::signed(sign(&deny, 9, 0, &OTHER), u32::MAX, &lenient).expect("signed");
    assert!(matches!(
        refusal(e.publish(other)),
        SignatureError::UnknownKey(_)
    ));
    let old = Prepared::new(sign(&deny, 4, 0, &KEY)).expect("prepares");
    assert_eq!(
        refusal(e.publish(old)),
        SignatureError::Rollback {
            revision: 4,
            minimum: 5
        }
    );
    assert_eq!(e.version(), 1);
    assert_eq!(answer(&e), "allow");
    assert_eq!(e.highest_revision(), Some(5));
    // A good one publishes, records its envelope and raises the highest revision.
    let good = Prepared::new(sign(&deny, 8, 0, &NEXT_KEY)).expect("prepares");
    assert_eq!(e.publish(good).expect("published"), 2);
    assert_eq!(answer(&e), "deny");
    assert_eq!(e.highest_revision(), Some(8));
    assert_eq!(e.load().signature().map(|s| s.revision), Some(8));
    // An engine without a trust policy publishes any prepared set.
    let open = PolicyEngine::from_bytes(plain("allow")).expect("loads");
    assert_eq!(
        open.publish(Prepared::new(deny).expect("prepares"))
            .unwrap(),
        2
    );
}

#[test]
fn issue15_a_trusted_engine_refuses_exactly_what_the_device_refuses() {
    // The host checks the inner bundle's CRC with the CPU's CRC instruction
    // (`Bundle::from_signed_with_checksum`); the device with its table. Same answers.
    let good = sign(&plain("allow"), 5, 0, &KEY);
    let mut cases = vec![
        good.clone(),
        good[..good.len() - 1].to_vec(),
        sign(&plain("allow"), 5, 2_000, &KEY),
        sign(&plain("allow"), 5, 0, &OTHER),
    ];
    for at in [0, HEADER_LEN + 4, HEADER_LEN + 20, good.len() - 1] {
        let mut b = good.clone();
        b[at] ^= 0x5a;
        cases.push(b);
    }
    let keys = [KEY, NEXT_KEY].map(|k| signed::TrustedKey::new(signed::public_key(&k)));
    let device_trust = signed::Trust {
        keys: &keys,
        min_revision: 0,
        now: 1_000,
    };
    for (i, bytes) in cases.into_iter().enumerate() {
        let device = ipe_nostd::Bundle::from_signed(&bytes, &device_trust, u32::MAX)
            .map(|(b, env)| (b.policy_count(), env.revision));
        let host = PolicyEngine::with_trust(bytes, EngineOptions::interpreter(), trust())
            .map(|e| (e.load().bundle().policy_count(), e.highest_revision()));
        match (device, host) {
            (Ok((n, rev)), Ok((m, hrev))) => assert_eq!((m, hrev), (n, Some(rev)), "case {i}"),
            (Err(SignatureError::Bundle(d)), Err(h)) => assert!(
                matches!(h.kind(), ErrorKind::Format(e) if *e == d),
                "case {i}: device {d:?}, host {h}"
            ),
            (Err(d), Err(h)) => assert!(
                matches!(h.kind(), ErrorKind::Signature(e) if *e == d),
                "case {i}: device {d:?}, host {h}"
            ),
            (d, h) => panic!("case {i}: device {d:?}, host {:?}", h.map(|_| ())),
        }
    }
}
