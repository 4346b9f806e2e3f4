//! Signed bundles (issue #18): an envelope around a bundle carrying a revision, a not-before
//! time, a key id and an Ed25519 signature over everything before the signature.
//!
//! The layout is specified in `docs/bundle-format.md` ("Signed envelope") and
//! `docs/signing.md`. Parsing the envelope ([`Envelope::parse`], [`open_unverified`]) needs
//! no feature, so every build can read the bundle inside a signed file; checking the signature
//! ([`Trust::check`], [`Bundle::from_signed`](crate::Bundle::from_signed)) and writing one
//! ([`seal`]) need the `signature` feature (Ed25519 by the `ed25519-compact` crate, no
//! allocation).

use crate::bundle::BundleError;

/// The first four bytes of a signed envelope.
pub const MAGIC: [u8; 4] = *b"IPES";
/// The envelope version this build reads and writes.
pub const VERSION: u16 = 1;
/// Bytes of the envelope header, before the bundle.
pub const HEADER_LEN: usize = 40;
/// Bytes of the Ed25519 signature that ends the envelope.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of an Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Bytes of a key id.
pub const KEY_ID_LEN: usize = 8;

/// A key id: the first 8 bytes of the SHA-512 digest of the 32-byte Ed25519 public key.
pub type KeyId = [u8; KEY_ID_LEN];

/// Why a byte string is not an acceptable signed bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SignatureError {
    /// The bytes are a plain (unsigned) bundle and a signature is required.
    Unsigned,
    /// Shorter than the envelope header, or than the length the header declares.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        found: usize,
    },
    /// Neither a signed envelope (`IPES`) nor a bundle (`IPEB`).
    BadMagic,
    /// An envelope version this build cannot read.
    UnsupportedVersion(u16),
    /// The envelope's flags are not 0.
    ReservedFlags(u16),
    /// The envelope's reserved bytes (offset 36) are not 0.
    ReservedBytes,
    /// Bytes follow the signature.
    TrailingBytes(usize),
    /// The signing key is not one of the trusted keys.
    UnknownKey(KeyId),
    /// The signature does not verify with the trusted key of its key id.
    BadSignature,
    /// The revision is below the minimum (anti-rollback).
    Rollback {
        /// The envelope's revision.
        revision: u64,
        /// The lowest revision accepted.
        minimum: u64,
    },
    /// The bundle is not valid before `not_before` (seconds since the Unix epoch) and the
    /// clock says `now`.
    NotYetValid {
        /// The envelope's not-before time.
        not_before: u64,
        /// The verifier's time.
        now: u64,
    },
    /// The signature is good but the bundle inside is not (header, checksum, body or
    /// verification).
    Bundle(BundleError),
}

impl core::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SignatureError::Unsigned => f.write_str("the bundle is not signed"),
            SignatureError::Truncated { needed, found } => {
                write!(
                    f,
                    "signed bundle truncated: needs {needed} bytes, found {found}"
                )
            }
            SignatureError::BadMagic => f.write_str("not an IPE bundle or signed bundle"),
            SignatureError::UnsupportedVersion(v) => {
                write!(f, "unsupported signed envelope version {v}")
            }
            SignatureError::ReservedFlags(v) => {
                write!(
                    f,
                    "signed envelope has reserved flags {v:#06x} set (must be 0)"
                )
            }
            SignatureError::ReservedBytes => {
                f.write_str("signed envelope has reserved bytes set (must be 0)")
            }
            SignatureError::TrailingBytes(n) => {
                write!(f, "{n} bytes follow the signature")
            }
            SignatureError::UnknownKey(id) => {
                f.write_str("signed by an untrusted key (key id ")?;
                for b in id {
                    write!(f, "{b:02x}")?;
                }
                f.write_str(")")
            }
            SignatureError::BadSignature => f.write_str("the signature does not verify"),
            SignatureError::Rollback { revision, minimum } => write!(
                f,
                "bundle revision {revision} is older than the minimum revision {minimum}"
            ),
            SignatureError::NotYetValid { not_before, now } => write!(
                f,
                "bundle is not valid before {not_before} (Unix seconds); the time is {now}"
            ),
            SignatureError::Bundle(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for SignatureError {}

impl From<BundleError> for SignatureError {
    fn from(e: BundleError) -> Self {
        SignatureError::Bundle(e)
    }
}

/// A parsed signed envelope, not yet checked: its fields and the bytes it borrows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The bundle revision (monotonic; anti-rollback compares it).
    pub revision: u64,
    /// Seconds since the Unix epoch before which the bundle is refused (0: always valid).
    pub not_before: u64,
    /// The id of the key that signed it.
    pub key_id: KeyId,
    /// The bundle inside (an `IPEB` bundle, not yet decoded).
    pub bundle: &'a [u8],
    /// The signed bytes: the header and the bundle.
    pub signed: &'a [u8],
    /// The Ed25519 signature of `signed`.
    pub signature: &'a [u8; SIGNATURE_LEN],
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

/// Whether `bytes` start like a signed envelope (`IPES`).
pub fn is_signed(bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&MAGIC[..])
}

impl<'a> Envelope<'a> {
    /// Parses the envelope's header and splits the bundle and the signature off, checking
    /// magic, version, reserved bytes and lengths (not the signature).
    pub fn parse(bytes: &'a [u8]) -> Result<Envelope<'a>, SignatureError> {
        if bytes.get(..4) == Some(&crate::format::MAGIC[..]) {
            return Err(SignatureError::Unsigned);
        }
        let header = bytes
            .get(..HEADER_LEN)
            .ok_or(if is_signed(bytes) || bytes.len() < 4 {
                SignatureError::Truncated {
                    needed: HEADER_LEN,
                    found: bytes.len(),
                }
            } else {
                SignatureError::BadMagic
            })?;
        if !is_signed(header) {
            return Err(SignatureError::BadMagic);
        }
        let version = le_u16(header, 4);
        if version != VERSION {
            return Err(SignatureError::UnsupportedVersion(version));
        }
        let flags = le_u16(header, 6);
        if flags != 0 {
            return Err(SignatureError::ReservedFlags(flags));
        }
        let reserved = le_u32(header, 36);
        if reserved != 0 {
            return Err(SignatureError::ReservedBytes);
        }
        let mut key_id = [0u8; KEY_ID_LEN];
        if let Some(s) = header.get(24..32) {
            key_id.copy_from_slice(s);
        }
        let bundle_len = le_u32(header, 32) as usize;
        let signed_len = HEADER_LEN.saturating_add(bundle_len);
        let total = signed_len.saturating_add(SIGNATURE_LEN);
        if bytes.len() < total {
            return Err(SignatureError::Truncated {
                needed: total,
                found: bytes.len(),
            });
        }
        if bytes.len() > total {
            return Err(SignatureError::TrailingBytes(bytes.len() - total));
        }
        let signed = bytes.get(..signed_len).ok_or(SignatureError::BadMagic)?;
        let bundle = signed.get(HEADER_LEN..).ok_or(SignatureError::BadMagic)?;
        let signature = bytes
            .get(signed_len..)
            .and_then(|s| <&[u8; SIGNATURE_LEN]>::try_from(s).ok())
            .ok_or(SignatureError::BadMagic)?;
        Ok(Envelope {
            revision: le_u64(header, 8),
            not_before: le_u64(header, 16),
            key_id,
            bundle,
            signed,
            signature,
        })
    }
}

/// The bundle bytes of a file that is either a plain bundle (returned as is) or a signed
/// envelope (its inner bundle, signature **not** checked): for builds and tools that do not
/// require signatures.
pub fn open_unverified(bytes: &[u8]) -> Result<&[u8], SignatureError> {
    if is_signed(bytes) {
        Envelope::parse(bytes).map(|e| e.bundle)
    } else {
        Ok(bytes)
    }
}

#[cfg(feature = "signature")]
pub use keys::*;

#[cfg(feature = "signature")]
mod keys {
    use super::*;
    use crate::bundle::Bundle;
    use ed25519_compact::{KeyPair, PublicKey, Seed, Signature};

    /// Writes the envelope header for a bundle of `bundle_len` bytes into `out[..HEADER_LEN]`.
    fn write_header(
        out: &mut [u8],
        revision: u64,
        not_before: u64,
        key_id: &KeyId,
        bundle_len: u32,
    ) {
        let mut put = |at: usize, v: &[u8]| {
            if let Some(d) = out.get_mut(at..at + v.len()) {
                d.copy_from_slice(v);
            }
        };
        put(0, &MAGIC);
        put(4, &VERSION.to_le_bytes());
        put(6, &0u16.to_le_bytes());
        put(8, &revision.to_le_bytes());
        put(16, &not_before.to_le_bytes());
        put(24, key_id);
        put(32, &bundle_len.to_le_bytes());
        put(36, &0u32.to_le_bytes());
    }

    /// The key id of an Ed25519 public key: the first 8 bytes of its SHA-512 digest.
    pub fn key_id(public: &[u8; PUBLIC_KEY_LEN]) -> KeyId {
        let digest = ed25519_compact::sha512::Hash::hash(public);
        let mut id = [0u8; KEY_ID_LEN];
        if let Some(s) = digest.get(..KEY_ID_LEN) {
            id.copy_from_slice(s);
        }
        id
    }

    /// The public key of a 32-byte Ed25519 secret seed.
    pub fn public_key(seed: &[u8; 32]) -> [u8; PUBLIC_KEY_LEN] {
        *KeyPair::from_seed(Seed::new(*seed)).pk
    }

    /// A public key a device or host trusts, with its key id computed once.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[cfg_attr(feature = "defmt", derive(defmt::Format))]
    pub struct TrustedKey {
        id: KeyId,
        public: [u8; PUBLIC_KEY_LEN],
    }

    impl TrustedKey {
        /// Trusts this 32-byte Ed25519 public key.
        pub fn new(public: [u8; PUBLIC_KEY_LEN]) -> TrustedKey {
            TrustedKey {
                id: key_id(&public),
                public,
            }
        }

        /// The key's id.
        pub fn id(&self) -> KeyId {
            self.id
        }

        /// The public key.
        pub fn public(&self) -> &[u8; PUBLIC_KEY_LEN] {
            &self.public
        }
    }

    /// What a verifier accepts: bundles signed by one of `keys` (several during a key
    /// rotation), of revision at least `min_revision`, whose not-before time is at most `now`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Trust<'k> {
        /// The trusted public keys.
        pub keys: &'k [TrustedKey],
        /// The lowest revision accepted (anti-rollback: the highest revision accepted before).
        pub min_revision: u64,
        /// The current time in seconds since the Unix epoch (a device without a clock passes
        /// the newest time it knows, e.g. its firmware's build time).
        pub now: u64,
    }

    impl<'k> Trust<'k> {
        /// Checks a signed envelope: a trusted key id, a good signature, then the revision
        /// and the not-before time. The bundle inside is not decoded (see
        /// [`Bundle::from_signed`]).
        pub fn check<'a>(&self, bytes: &'a [u8]) -> Result<Envelope<'a>, SignatureError> {
            let env = Envelope::parse(bytes)?;
            let key = self
                .keys
                .iter()
                .find(|k| k.id == env.key_id)
                .ok_or(SignatureError::UnknownKey(env.key_id))?;
            PublicKey::new(key.public)
                .verify(env.signed, &Signature::new(*env.signature))
                .map_err(|_| SignatureError::BadSignature)?;
            if env.revision < self.min_revision {
                return Err(SignatureError::Rollback {
                    revision: env.revision,
                    minimum: self.min_revision,
                });
            }
            if env.not_before > self.now {
                return Err(SignatureError::NotYetValid {
                    not_before: env.not_before,
                    now: self.now,
                });
            }
            Ok(env)
        }
    }

    impl<'a> Bundle<'a> {
        /// Checks a signed envelope against `trust` ([`Trust::check`]) and then decodes and
        /// verifies the bundle inside ([`Bundle::from_bytes_with_max_cost`]), returning both.
        pub fn from_signed(
            bytes: &'a [u8],
            trust: &Trust<'_>,
            max_cost: u32,
        ) -> Result<(Bundle<'a>, Envelope<'a>), SignatureError> {
            let env = trust.check(bytes)?;
            let bundle = Bundle::from_bytes_with_max_cost(env.bundle, max_cost)?;
            Ok((bundle, env))
        }

        /// [`from_signed`](Self::from_signed) with the inner bundle's CRC-32C computed by
        /// `checksum`, as [`Bundle::from_bytes_with_checksum`] does (a std host's
        /// hardware-assisted CRC). Not in the `size` profile.
        #[cfg(not(feature = "size"))]
        pub fn from_signed_with_checksum(
            bytes: &'a [u8],
            trust: &Trust<'_>,
            max_cost: u32,
            checksum: fn(&[u8]) -> u32,
        ) -> Result<(Bundle<'a>, Envelope<'a>), SignatureError> {
            let env = trust.check(bytes)?;
            let bundle = Bundle::from_bytes_with_checksum(env.bundle, max_cost, checksum)?;
            Ok((bundle, env))
        }
    }

    /// The bytes of the signed envelope of `bundle`, written into `out`; returns how many
    /// (`HEADER_LEN + bundle.len() + SIGNATURE_LEN`). `seed` is the signer's 32-byte Ed25519
    /// secret seed; signatures are deterministic (RFC 8032). `bundle` must be a plain bundle
    /// with a valid header and checksum.
    pub fn seal(
        bundle: &[u8],
        revision: u64,
        not_before: u64,
        seed: &[u8; 32],
        out: &mut [u8],
    ) -> Result<usize, SignatureError> {
        Bundle::decode_unverified(bundle)?;
        let bundle_len = u32::try_from(bundle.len()).map_err(|_| SignatureError::Truncated {
            needed: usize::MAX,
            found: out.len(),
        })?;
        let signed_len = HEADER_LEN.saturating_add(bundle.len());
        let total = signed_len.saturating_add(SIGNATURE_LEN);
        let found = out.len();
        let dest = out.get_mut(..total).ok_or(SignatureError::Truncated {
            needed: total,
            found,
        })?;
        let pair = KeyPair::from_seed(Seed::new(*seed));
        let id = key_id(&pair.pk);
        write_header(dest, revision, not_before, &id, bundle_len);
        if let Some(d) = dest.get_mut(HEADER_LEN..signed_len) {
            d.copy_from_slice(bundle);
        }
        let signature = pair.sk.sign(dest.get(..signed_len).unwrap_or(&[]), None);
        if let Some(d) = dest.get_mut(signed_len..total) {
            d.copy_from_slice(signature.as_ref());
        }
        Ok(total)
    }
}

#[cfg(test)]
#[cfg(feature = "signature")]
mod tests;
