//! Issue #18: the signed envelope parser and checker, run by the `bundle` target on every
//! input (no target of its own: the bundle seeds and mutations feed it).
//!
//! Properties, with one fixed test key trusted:
//! - [`Envelope::parse`], [`signed::open_unverified`], [`Trust::check`] and
//!   [`Bundle::from_signed`] never panic on any bytes;
//! - an envelope `from_signed` accepts is exactly the bytes [`signed::seal`] writes for its
//!   bundle, revision and not-before (no malleable byte: every accepted signed file is one the
//!   key holder produced), and its bundle passes `Bundle::from_bytes`;
//! - a bundle that `from_bytes` accepts, once sealed, is accepted by `from_signed`, and
//!   refused when one byte chosen from the input is flipped anywhere in the envelope.

use ipe_nostd::signed::{self, Envelope, Trust, TrustedKey, HEADER_LEN, SIGNATURE_LEN};
use ipe_nostd::Bundle;

/// The fuzz key's secret seed (a test value).
const SEED: [u8; 32] = [0x5e; 32];

fn seal(bundle: &[u8], revision: u64, not_before: u64) -> Option<Vec<u8>> {
    let mut out = vec![0; bundle.len() + HEADER_LEN + SIGNATURE_LEN];
    let n = signed::seal(bundle, revision, not_before, &SEED, &mut out).ok()?;
    out.truncate(n);
    Some(out)
}

/// The oracle; `pick` chooses the byte flipped in the sealed copy.
pub fn check(data: &[u8], pick: usize) {
    let keys = [TrustedKey::new(signed::public_key(&SEED))];
    let trust = Trust {
        keys: &keys,
        min_revision: 0,
        now: u64::MAX,
    };
    let _ = Envelope::parse(data);
    let _ = signed::open_unverified(data);
    if let Ok((_, env)) = Bundle::from_signed(data, &trust, u32::MAX) {
        assert!(Bundle::from_bytes(env.bundle).is_ok());
        assert_eq!(
            seal(env.bundle, env.revision, env.not_before).as_deref(),
            Some(data),
            "an accepted envelope differs from the one the key holder writes"
        );
    }
    if Bundle::from_bytes(data).is_err() {
        return;
    }
    let sealed = seal(data, pick as u64, 0).expect("an accepted bundle seals");
    assert!(
        Bundle::from_signed(&sealed, &trust, u32::MAX).is_ok(),
        "a sealed valid bundle is refused"
    );
    let mut bad = sealed.clone();
    let at = pick % bad.len();
    bad[at] ^= 0x01;
    assert!(
        Bundle::from_signed(&bad, &trust, u32::MAX).is_err(),
        "a flipped byte {at} of a signed bundle was accepted"
    );
}
