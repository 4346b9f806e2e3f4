//! Helpers shared by the reason-part tests (`reason_defaults`, `reason_entry`): a bundle with
//! one byte of a reason part changed, and the verifier's refusal of it.

use ipe_nostd::format::REASON_PART_LEN;
use ipe_nostd::verify::{Section, VerifyError};
use ipe_nostd::{Bundle, BundleError};

/// The bundle of one source file `src`.
pub fn bytes(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("reasons.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

/// `bytes` with reason part `i`'s byte `at` set to `v` (checksum recomputed).
pub fn with_part_byte(bytes: &[u8], i: usize, at: usize, v: u8) -> Vec<u8> {
    let body = Bundle::decode_unverified(bytes).expect("decodes");
    let mut parts = body.reason_parts.to_vec();
    parts[i * REASON_PART_LEN + at] = v;
    ipe_compile::lower::encode(&ipe_nostd::format::Body {
        reason_parts: &parts,
        ..body
    })
}

/// The record the verifier refused `bytes` for, if it refused one.
pub fn rejected(bytes: &[u8]) -> Option<(Section, u32)> {
    match Bundle::from_bytes(bytes) {
        Err(BundleError::Verify(VerifyError::BadRecord { section, index })) => {
            Some((section, index))
        }
        _ => None,
    }
}
