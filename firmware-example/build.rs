//! Build script: compiles `policies/*.ipe` with the ipe-compile library into `OUT_DIR`, writes
//! a deliberately corrupted copy for the fail-closed test, and sets up the firmware's linker
//! scripts.
//!
//! Outputs (all in `OUT_DIR`, embedded with `include_bytes!`; nothing is checked in):
//! - `policies.ipeb`: the verified bundle the firmware runs;
//! - `maintenance.ipeb`: `policies-maintenance/` (a port range and a time window), run by the
//!   `maintenance` binary (feature `time`);
//! - `corrupted-crc.ipeb`: the bundle with one body byte flipped (the CRC no longer matches);
//! - `corrupted-code.ipeb`: one bytecode byte changed and the CRC recomputed, so the damage
//!   gets past the checksum and only the bytecode verifier can catch it;
//! - issue #18, signed with the TEST key `keys/test.key` (committed; never a production key):
//!   `signed.ipeb` (revision [`REVISION`], not before [`NOT_BEFORE`]), `signed-tampered.ipeb`
//!   (one text byte of the bundle inside changed and its CRC fixed up, the signature kept),
//!   `signed-old.ipeb` (revision `REVISION - 1`), `signed-unknown.ipeb` (signed by another
//!   key), `signed-future.ipeb` (not before a time after the device's clock), and
//!   `test-key.pub.bin` (the 32-byte public key the device trusts).

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));

    // Linker setup, for the firmware binaries only (host builds of the library and its tests
    // never see these arguments).
    fs::copy(dir.join("memory.x"), out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    // cortex-m-rt's `device` feature includes `device.x` (a PAC's interrupt handler names);
    // the firmware's one interrupt vector (`board::__INTERRUPTS`) needs none.
    fs::write(
        out.join("device.x"),
        "/* No device interrupt handlers: see board::__INTERRUPTS. */\n",
    )
    .expect("write device.x");
    if env::var("TARGET").is_ok_and(|t| t.starts_with("thumb")) {
        println!("cargo:rustc-link-arg-bins=--nmagic");
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }

    // The policy bundle.
    let policies = dir.join("policies");
    println!("cargo:rerun-if-changed={}", policies.display());
    let files = ipe_compile::bundle_files(std::slice::from_ref(&policies))
        .unwrap_or_else(|e| fail(&e.to_string()));
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let program = ipe_compile::compile_paths(&files).unwrap_or_else(|e| fail(&e.to_string()));
    let compiled = ipe_compile::lower::lower(&program).unwrap_or_else(|e| fail(&format!("{e}")));
    let bytes = compiled.bytes;
    ipe_nostd::Bundle::from_bytes(&bytes).unwrap_or_else(|e| fail(&format!("{e}")));
    fs::write(out.join("policies.ipeb"), &bytes).expect("write policies.ipeb");

    // The remote-service bundle of the `maintenance` binary (issue #14: a port range and a time
    // window). Compiled in every build (the host has every family); only a firmware built
    // with the example's `time` feature embeds and loads it.
    let maintenance = dir.join("policies-maintenance");
    println!("cargo:rerun-if-changed={}", maintenance.display());
    let files = ipe_compile::bundle_files(std::slice::from_ref(&maintenance))
        .unwrap_or_else(|e| fail(&e.to_string()));
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let program = ipe_compile::compile_paths(&files).unwrap_or_else(|e| fail(&e.to_string()));
    let compiled = ipe_compile::lower::lower(&program).unwrap_or_else(|e| fail(&format!("{e}")));
    fs::write(out.join("maintenance.ipeb"), &compiled.bytes).expect("write maintenance.ipeb");

    // Corruption 1: flip the last body byte; the header CRC now disagrees.
    let mut crc_bad = bytes.clone();
    *crc_bad.last_mut().expect("non-empty bundle") ^= 0x5a;
    assert!(matches!(
        ipe_nostd::Bundle::from_bytes(&crc_bad),
        Err(ipe_nostd::BundleError::ChecksumMismatch { .. })
    ));
    fs::write(out.join("corrupted-crc.ipeb"), &crc_bad).expect("write corrupted-crc.ipeb");

    // Corruption 2: overwrite one byte of bytecode with an invalid opcode and fix up the CRC,
    // so decoding succeeds and the verifier must reject it. Try each code byte in turn and
    // keep the first one the verifier rejects (most are).
    let code_bad = corrupt_code(&bytes).unwrap_or_else(|| fail("no code byte to corrupt"));
    fs::write(out.join("corrupted-code.ipeb"), &code_bad).expect("write corrupted-code.ipeb");

    signed(&dir, &out, &bytes);
}

/// The revision of `signed.ipeb` (the device's minimum revision is the same: `src/signed.rs`).
const REVISION: u64 = 3;
/// Its not-before time: 2026-01-01T00:00:00Z.
const NOT_BEFORE: u64 = 1_767_225_600;
/// The not-before time of `signed-future.ipeb`: 2100-01-01T00:00:00Z.
const FUTURE: u64 = 4_102_444_800;

/// Reads the 32 bytes of an `ipe keygen` key file (`<label> <64 hex digits>`).
fn read_key(path: &std::path::Path, label: &str) -> [u8; 32] {
    println!("cargo:rerun-if-changed={}", path.display());
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    let hex = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| fail(&format!("{}: no `{label}` line", path.display())))
        .trim();
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = hex
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or_else(|| fail(&format!("{}: bad hex", path.display())));
    }
    key
}

fn seal(bytes: &[u8], revision: u64, not_before: u64, seed: &[u8; 32]) -> Vec<u8> {
    use ipe_nostd::signed;
    let mut out = vec![0u8; bytes.len() + signed::HEADER_LEN + signed::SIGNATURE_LEN];
    let n = signed::seal(bytes, revision, not_before, seed, &mut out)
        .unwrap_or_else(|e| fail(&format!("cannot sign: {e}")));
    out.truncate(n);
    out
}

/// The signed bundles of issue #18 (see the module docs).
fn signed(dir: &std::path::Path, out: &std::path::Path, bytes: &[u8]) {
    use ipe_nostd::signed::{self, HEADER_LEN, SIGNATURE_LEN};
    let seed = read_key(&dir.join("keys/test.key"), "ipe-ed25519-secret-key-v1");
    let public = read_key(&dir.join("keys/test.key.pub"), "ipe-ed25519-public-key-v1");
    assert_eq!(
        signed::public_key(&seed),
        public,
        "keys/test.key.pub is not test.key's"
    );
    fs::write(out.join("test-key.pub.bin"), public).expect("write test-key.pub.bin");
    let good = seal(bytes, REVISION, NOT_BEFORE, &seed);
    fs::write(out.join("signed.ipeb"), &good).expect("write signed.ipeb");

    // Tampered: a policy intent's first letter changed ("The inlet valve" to "the inlet
    // valve": the text section, so the bundle inside stays valid) and the CRC fixed up; the
    // signature no longer matches.
    let mut bad = good.clone();
    let needle = b"The inlet valve";
    let at = (0..bad.len())
        .find(|&i| bad[i..].starts_with(needle))
        .unwrap_or_else(|| fail("no intent text to tamper with"));
    bad[at] = b't';
    let inner_len = bad.len() - SIGNATURE_LEN;
    let version = ipe_nostd::format::Header::parse(bytes).map_or(1, |h| h.version);
    let header = ipe_nostd::format::Header::for_body_version(
        &bad[HEADER_LEN + ipe_nostd::format::HEADER_LEN..inner_len],
        version,
    )
    .write();
    bad[HEADER_LEN..HEADER_LEN + ipe_nostd::format::HEADER_LEN].copy_from_slice(&header);
    assert!(
        ipe_nostd::Bundle::from_bytes(&bad[HEADER_LEN..inner_len]).is_ok(),
        "the tampered bundle inside must still verify (only the signature catches it)"
    );
    fs::write(out.join("signed-tampered.ipeb"), &bad).expect("write signed-tampered.ipeb");

    fs::write(
        out.join("signed-old.ipeb"),
        seal(bytes, REVISION - 1, NOT_BEFORE, &seed),
    )
    .expect("write signed-old.ipeb");
    fs::write(
        out.join("signed-unknown.ipeb"),
        seal(bytes, REVISION, NOT_BEFORE, &[0x42; 32]),
    )
    .expect("write signed-unknown.ipeb");
    fs::write(
        out.join("signed-future.ipeb"),
        seal(bytes, REVISION, FUTURE, &seed),
    )
    .expect("write signed-future.ipeb");
}

/// A copy of `bytes` with one bytecode byte replaced and the CRC recomputed, such that
/// decoding succeeds and `Bundle::from_bytes` fails verification.
fn corrupt_code(bytes: &[u8]) -> Option<Vec<u8>> {
    use ipe_nostd::format::{Header, HEADER_LEN};
    let body = ipe_nostd::Bundle::decode_unverified(bytes).ok()?;
    // The code section is a borrowed sub-slice of `bytes`: find its offset.
    let code_at = body.code.as_ptr() as usize - bytes.as_ptr() as usize;
    for i in 0..body.code.len() {
        let mut bad = bytes.to_vec();
        bad[code_at + i] = 0xff;
        // Keep the version the bundle was written with (1 unless it has first-match groups).
        let version = Header::parse(bytes).map_or(ipe_nostd::format::VERSION, |h| h.version);
        let header = Header::for_body_version(&bad[HEADER_LEN..], version).write();
        bad[..HEADER_LEN].copy_from_slice(&header);
        if matches!(
            ipe_nostd::Bundle::from_bytes(&bad),
            Err(ipe_nostd::BundleError::Verify(_))
        ) {
            return Some(bad);
        }
    }
    None
}

fn fail(msg: &str) -> ! {
    eprintln!("error: cannot compile firmware-example/policies:\n{msg}");
    std::process::exit(1)
}
