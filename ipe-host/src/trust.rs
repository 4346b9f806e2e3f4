//! Signed bundles on the host (issue #18): which signatures an engine requires, and the
//! highest revision it has accepted (anti-rollback across swaps and reloads).
//!
//! The checks are `ipe_nostd`'s ([`ipe_nostd::signed::Trust`]): the host refuses exactly what
//! a device refuses. An engine without a [`TrustPolicy`] reads plain bundles and also the
//! bundle inside a signed envelope, without checking its signature.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use ipe_nostd::signed::{self, Envelope, KeyId, Trust, TrustedKey};
use ipe_nostd::Bundle;

use crate::error::{Error, ErrorKind};

pub use ipe_nostd::signed::SignatureError;

/// What an engine requires of every bundle it loads, swaps in or reloads: a signature by one
/// of `keys`, a revision of at least `min_revision` (and never below the highest it accepted
/// before), and a not-before time that has passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicy {
    /// The trusted Ed25519 public keys (several during a rotation).
    pub keys: Vec<TrustedKey>,
    /// The lowest revision accepted at first load.
    pub min_revision: u64,
    /// The time not-before is compared with, in seconds since the Unix epoch; `None` reads
    /// the system clock at each load.
    pub now: Option<u64>,
}

impl TrustPolicy {
    /// Requires signatures by one of these 32-byte Ed25519 public keys, any revision, the
    /// system clock.
    pub fn new(keys: impl IntoIterator<Item = [u8; 32]>) -> TrustPolicy {
        TrustPolicy {
            keys: keys.into_iter().map(TrustedKey::new).collect(),
            min_revision: 0,
            now: None,
        }
    }

    /// The same policy with a minimum revision.
    pub fn with_min_revision(mut self, min_revision: u64) -> TrustPolicy {
        self.min_revision = min_revision;
        self
    }

    /// The same policy with a fixed clock (seconds since the Unix epoch).
    pub fn with_now(mut self, now: u64) -> TrustPolicy {
        self.now = Some(now);
        self
    }

    fn now(&self) -> u64 {
        self.now.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
    }
}

/// What the envelope of an accepted signed bundle said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The bundle revision.
    pub revision: u64,
    /// Its not-before time (seconds since the Unix epoch; 0: none).
    pub not_before: u64,
    /// The id of the key that signed it.
    pub key_id: KeyId,
}

impl From<&Envelope<'_>> for SignatureInfo {
    fn from(e: &Envelope<'_>) -> Self {
        SignatureInfo {
            revision: e.revision,
            not_before: e.not_before,
            key_id: e.key_id,
        }
    }
}

/// An engine's trust policy and the highest revision it accepted; the lock is held from the
/// check of a new bundle to its publication, so two writers cannot publish out of order.
#[derive(Debug)]
pub(crate) struct Gate {
    pub(crate) policy: TrustPolicy,
    pub(crate) highest: Mutex<u64>,
}

impl Gate {
    pub(crate) fn new(policy: TrustPolicy) -> Gate {
        Gate {
            highest: Mutex::new(policy.min_revision),
            policy,
        }
    }
}

impl Gate {
    /// Checks the envelope of `bytes` (a prepared set's bytes) against the trust policy and
    /// the highest revision accepted so far, under the lock `highest` was taken from: the
    /// signature again, the key, the revision and the not-before time. The bundle inside was
    /// verified when the set was prepared.
    pub(crate) fn admit(&self, highest: &mut u64, bytes: &[u8]) -> Result<SignatureInfo, Error> {
        let trust = Trust {
            keys: &self.policy.keys,
            min_revision: *highest,
            now: self.policy.now(),
        };
        let info = SignatureInfo::from(&trust.check(bytes).map_err(signature_error)?);
        *highest = (*highest).max(info.revision);
        Ok(info)
    }
}

/// The check applied to bytes being loaded: `None` accepts unsigned bundles (and opens signed
/// ones unchecked).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Check<'p> {
    pub(crate) policy: &'p TrustPolicy,
    pub(crate) min_revision: u64,
}

/// Decodes and verifies `bytes` under `check`, returning the bundle and, for a checked signed
/// bundle, its envelope's fields.
pub(crate) fn open<'a>(
    bytes: &'a [u8],
    check: Option<Check<'_>>,
    max_cost: u32,
) -> Result<(Bundle<'a>, Option<SignatureInfo>), Error> {
    match check {
        None => {
            let inner = signed::open_unverified(bytes).map_err(signature_error)?;
            Ok((load(inner, max_cost)?, None))
        }
        Some(c) => {
            let trust = Trust {
                keys: &c.policy.keys,
                min_revision: c.min_revision,
                now: c.policy.now(),
            };
            let (bundle, env) =
                Bundle::from_signed_with_checksum(bytes, &trust, max_cost, crc32c::crc32c)
                    .map_err(signature_error)?;
            Ok((bundle, Some(SignatureInfo::from(&env))))
        }
    }
}

/// Decodes and verifies a plain bundle as `Bundle::from_bytes_with_max_cost` does, its CRC-32C
/// computed by the `crc32c` crate (the CPU's CRC instruction where it has one; issue #15).
fn load(bytes: &[u8], max_cost: u32) -> Result<Bundle<'_>, Error> {
    Ok(Bundle::from_bytes_with_checksum(
        bytes,
        max_cost,
        crc32c::crc32c,
    )?)
}

/// A bundle error stays a format error; the rest are signature errors.
fn signature_error(e: SignatureError) -> Error {
    match e {
        SignatureError::Bundle(b) => b.into(),
        e => ErrorKind::Signature(e).into(),
    }
}
