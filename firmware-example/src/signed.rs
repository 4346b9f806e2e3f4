//! Issue #18: the device's trust in signed bundles, and the signed bundles `build.rs` made.
//!
//! The key is a TEST key (`keys/test.key`, committed so the example builds anywhere): a real
//! device trusts the public key of a secret kept off the repository, and stores its minimum
//! revision in non-volatile memory, raising it after each accepted update.

use ipe_nostd::signed::{Trust, TrustedKey};

use crate::controller::Engine;

/// The 32-byte public key of the TEST signing key (`keys/test.key.pub`).
pub static TEST_PUBLIC_KEY: &[u8; 32] =
    include_bytes!(concat!(env!("OUT_DIR"), "/test-key.pub.bin"));
/// The policies, signed with the test key: revision [`MIN_REVISION`], not before
/// 2026-01-01T00:00:00Z.
pub static SIGNED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/signed.ipeb"));
/// [`SIGNED`] with a policy name changed and the bundle's CRC fixed up (the signature kept).
pub static SIGNED_TAMPERED: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/signed-tampered.ipeb"));
/// The policies signed with the test key at revision `MIN_REVISION - 1`.
pub static SIGNED_OLD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/signed-old.ipeb"));
/// The policies signed with a key the device does not trust.
pub static SIGNED_UNKNOWN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/signed-unknown.ipeb"));
/// The policies signed with the test key, not before 2100-01-01T00:00:00Z.
pub static SIGNED_FUTURE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/signed-future.ipeb"));

/// The lowest revision the device accepts (anti-rollback).
pub const MIN_REVISION: u64 = 3;
/// The device's idea of the time, in seconds since the Unix epoch: it has no clock, so it
/// uses a fixed time after the bundle's not-before (2026-06-01T00:00:00Z).
pub const DEVICE_TIME: u64 = 1_780_272_000;

/// Loads `bytes` as the device does: signed by the test key, revision at least
/// [`MIN_REVISION`], valid at [`DEVICE_TIME`].
pub fn load(bytes: &[u8]) -> Engine<'_> {
    let keys = [TrustedKey::new(*TEST_PUBLIC_KEY)];
    let trust = Trust {
        keys: &keys,
        min_revision: MIN_REVISION,
        now: DEVICE_TIME,
    };
    Engine::load_signed(bytes, &trust)
}
