//! Shared by the C ABI's tests: the seed bundle, its requests, the CLI's decisions and the
//! built libraries.

#![allow(dead_code, reason = "each test binary uses part of the support module")]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Compiles a source directory of the repository (e.g. `examples/seed`) to bundle bytes.
pub fn bundle_dir(rel: &str) -> Vec<u8> {
    let program = ipe_compile::compile_paths(&[root().join(rel)]).expect("bundle compiles");
    ipe_compile::lower::lower(&program)
        .expect("program lowers")
        .bytes
}

/// Compiles one in-memory source to bundle bytes.
pub fn bundle(source: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("test.ipe", source)]).expect("source compiles");
    ipe_compile::lower::lower(&program)
        .expect("program lowers")
        .bytes
}

/// Writes the seed bundle to a file of this test's scratch directory and returns its path.
pub fn seed_bundle_file(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ipe-capi");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let path = dir.join(name);
    std::fs::write(&path, bundle_dir("examples/seed")).expect("write bundle");
    path
}

/// The seed requests, one JSON object per line.
pub fn seed_requests() -> Vec<String> {
    std::fs::read_to_string(root().join("examples/seed/requests.jsonl"))
        .expect("seed requests")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `ipe eval` prints for each request against the seed bundle (the CLI's own decider).
pub fn cli_decisions(requests: &[String]) -> Vec<String> {
    let engine =
        ipe_host::PolicyEngine::from_bytes(bundle_dir("examples/seed")).expect("seed bundle");
    let cli = ipe_cli::cli::Decider(engine, None);
    requests
        .iter()
        .map(|r| cli.decide(r).expect("a valid request"))
        .collect()
}

/// The directory holding `libipe_capi.a` and `libipe_capi.so` built with this test (cargo
/// builds every crate type of the library, into `deps/`, before its integration tests; a
/// `cargo build` also copies them one level up).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let deps = exe.parent().expect("deps directory");
    let has_libs = |d: &Path| d.join("libipe_capi.a").is_file() && d.join(so_name()).is_file();
    if has_libs(deps) {
        return deps.to_owned();
    }
    let profile = deps.parent().expect("profile directory");
    assert!(
        has_libs(profile),
        "libipe_capi not found in {}",
        deps.display()
    );
    profile.to_owned()
}

/// The shared library's file name on this platform.
pub fn so_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "libipe_capi.dylib"
    } else {
        "libipe_capi.so"
    }
}
