//! Per-policy counters and signed bundles (issue #17): the engine's stats by policy index, and
//! engines that accept only bundles signed by a trusted Ed25519 key (`docs/signing.md`).

use std::ffi::c_char;

use ipe_host::{CodeTier, EngineOptions, PolicyEngine, TrustPolicy};

use crate::ffi::{bytes, engine_ref, give, path_arg, put, write_text};
use crate::{guard, Failure, IpeEngine, IpeStatus};

/// Which code runs a policy now.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpeCodeTier {
    /// The bytecode interpreter.
    Interpreter = 0,
    /// Baseline native code (the `jit` feature).
    Baseline = 1,
    /// Optimized native code (the `jit` feature).
    Optimized = 2,
    /// Native compilation failed; the policy stays interpreted.
    Failed = 3,
}

/// One policy's counters in the engine's live version (summed over threads; relaxed, so a
/// few in-flight evaluations may be missing). Counters belong to a version: a swap starts
/// new ones at zero, and decisions of a context pinned to an older version count there.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IpePolicyStats {
    /// Times the policy was evaluated (it was a candidate).
    pub evaluations: u64,
    /// Times its trigger held.
    pub applied: u64,
    /// Times it was violated.
    pub violated: u64,
    /// Times it ended in error.
    pub errors: u64,
    /// Mean nanoseconds of its timed evaluations (the first, then one in 1,024), or a
    /// negative number when none was timed yet.
    pub mean_nanos: f64,
    /// The code that runs it now.
    pub tier: IpeCodeTier,
    /// The version the counters belong to.
    pub version: u64,
}

fn tier(t: CodeTier) -> IpeCodeTier {
    match t {
        CodeTier::Interpreter => IpeCodeTier::Interpreter,
        CodeTier::Baseline => IpeCodeTier::Baseline,
        CodeTier::Optimized => IpeCodeTier::Optimized,
        CodeTier::Failed => IpeCodeTier::Failed,
    }
}

/// Writes the number of policies of the engine's live version (policy indexes are
/// `0..count`, in bundle order, as `IpeContextDecision` reports them).
///
/// # Safety
/// `engine` is a live handle; `count` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_policy_count(
    engine: *const IpeEngine,
    count: *mut usize,
) -> IpeStatus {
    guard("ipe_engine_policy_count", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        if count.is_null() {
            return Err(Failure::null("count"));
        }
        // SAFETY: non-null, and the caller promises it is writable.
        unsafe { put(count, e.engine.load().policy_count()) };
        Ok(IpeStatus::Ok)
    })
}

/// Writes policy `index`'s counters in the live version to `*stats`, and its name,
/// NUL-terminated, to `name` when `name` is not null (`name_cap` bytes; the needed size, the
/// NUL included, to `name_needed` when not null; too small: `IPE_STATUS_BUFFER_TOO_SMALL`,
/// `*stats` still written). An index outside `0..count` is `IPE_STATUS_BAD_SLOT`. Each call
/// takes a snapshot of every policy's counters (O(policies)): meant for monitoring, not the
/// decision path.
///
/// # Safety
/// `engine` is a live handle; `stats` is valid for a write; `name` is null or valid for
/// `name_cap` bytes of writes; `name_needed` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_policy_stats(
    engine: *const IpeEngine,
    index: usize,
    stats: *mut IpePolicyStats,
    name: *mut c_char,
    name_cap: usize,
    name_needed: *mut usize,
) -> IpeStatus {
    guard("ipe_engine_policy_stats", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        if stats.is_null() {
            return Err(Failure::null("stats"));
        }
        let all = e.engine.load().stats();
        let Some(p) = all.policies.get(index) else {
            return Err(Failure::new(
                IpeStatus::BadSlot,
                format!(
                    "policy index {index} is out of range (version {} has {} policies)",
                    all.version,
                    all.policies.len()
                ),
            ));
        };
        let s = IpePolicyStats {
            evaluations: p.evaluations,
            applied: p.applied,
            violated: p.violated,
            errors: p.errors,
            mean_nanos: p.mean_nanos().unwrap_or(-1.0),
            tier: tier(p.code),
            version: all.version,
        };
        // SAFETY: non-null, and the caller promises it is writable.
        unsafe { put(stats, s) };
        if name.is_null() {
            // SAFETY: the caller's promise for `name_needed`.
            unsafe { put(name_needed, p.name.len() + 1) };
            return Ok(IpeStatus::Ok);
        }
        // SAFETY: the caller's promises for `name`, `name_cap` and `name_needed`.
        unsafe { write_text(&p.name, name, name_cap, name_needed, "policy name") }
    })
}

/// The trust policy of `key_count` 32-byte Ed25519 public keys at `keys` (back to back).
///
/// # Safety
/// `keys` points to `32 * key_count` readable bytes.
unsafe fn trust(
    keys: *const u8,
    key_count: usize,
    min_revision: u64,
) -> Result<TrustPolicy, Failure> {
    if key_count == 0 {
        return Err(Failure::new(
            IpeStatus::Untrusted,
            "no trusted key given: a trusted engine needs at least one Ed25519 public key",
        ));
    }
    let len = key_count
        .checked_mul(32)
        .ok_or_else(|| Failure::new(IpeStatus::Other, "`key_count` is too large"))?;
    // SAFETY: the caller's promise for `keys`.
    let raw = unsafe { bytes(keys, len, "keys") }?;
    let keys = raw.chunks_exact(32).map(|k| {
        let mut key = [0u8; 32];
        key.copy_from_slice(k);
        key
    });
    Ok(TrustPolicy::new(keys).with_min_revision(min_revision))
}

/// Opens an engine over a copy of `len` bytes of a **signed** bundle (`ipe compile --sign`,
/// `docs/signing.md`): it must be signed by one of `key_count` trusted Ed25519 public keys
/// (32 raw bytes each, back to back at `keys`: the 64 hex digits of an `ipe keygen` `.pub`
/// file, decoded), with a revision of at least `min_revision` and a not-before time already
/// passed. Otherwise `IPE_STATUS_UNTRUSTED` (unsigned, wrongly signed, unknown key, older
/// revision, not yet valid) with a message naming the refusal. Every later
/// `ipe_engine_swap_bytes` on this engine is checked the same way, and also refuses a revision
/// below the highest accepted so far (anti-rollback); a refused bundle never replaces the live
/// one.
///
/// # Safety
/// `bytes` points to `len` readable bytes; `keys` to `32 * key_count` readable bytes; `out` is
/// valid for a write of a pointer.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_open_bytes_trusted(
    bytes: *const u8,
    len: usize,
    keys: *const u8,
    key_count: usize,
    min_revision: u64,
    out: *mut *mut IpeEngine,
) -> IpeStatus {
    guard("ipe_engine_open_bytes_trusted", || {
        // SAFETY: the caller's promise for `bytes` and `len`.
        let b = unsafe { self::bytes(bytes, len, "bytes") }?;
        // SAFETY: the caller's promise for `keys` and `key_count`.
        let t = unsafe { trust(keys, key_count, min_revision) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let engine = PolicyEngine::with_trust(b.to_vec(), EngineOptions::default(), t)?;
        // SAFETY: `out` is non-null and the caller promises it is writable.
        unsafe { give(out, IpeEngine { engine }) };
        Ok(IpeStatus::Ok)
    })
}

/// Opens an engine over a signed bundle file, checked as `ipe_engine_open_bytes_trusted`;
/// `ipe_engine_reload` reads the file again under the same checks.
///
/// # Safety
/// `path` points to `path_len` readable bytes; `keys` to `32 * key_count` readable bytes;
/// `out` is valid for a write of a pointer.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_open_file_trusted(
    path: *const c_char,
    path_len: usize,
    keys: *const u8,
    key_count: usize,
    min_revision: u64,
    out: *mut *mut IpeEngine,
) -> IpeStatus {
    guard("ipe_engine_open_file_trusted", || {
        // SAFETY: the caller's promise for `path` and `path_len`.
        let p = unsafe { path_arg(path, path_len) }?;
        // SAFETY: the caller's promise for `keys` and `key_count`.
        let t = unsafe { trust(keys, key_count, min_revision) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let engine = PolicyEngine::from_file_with_trust(&p, EngineOptions::default(), t)?;
        // SAFETY: `out` is non-null and the caller promises it is writable.
        unsafe { give(out, IpeEngine { engine }) };
        Ok(IpeStatus::Ok)
    })
}

/// Writes whether the live version's signature was checked (`*signed`: true only on an
/// engine opened with `ipe_engine_open_*_trusted`) and its revision (`*revision`, 0 when not
/// signed); each optional.
///
/// # Safety
/// `engine` is a live handle; `signed` and `revision` are each null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_signature(
    engine: *const IpeEngine,
    signed: *mut bool,
    revision: *mut u64,
) -> IpeStatus {
    guard("ipe_engine_signature", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        let sig = e.engine.load().signature();
        // SAFETY: the caller's promises for `signed` and `revision`.
        unsafe {
            put(signed, sig.is_some());
            put(revision, sig.map_or(0, |s| s.revision));
        }
        Ok(IpeStatus::Ok)
    })
}
