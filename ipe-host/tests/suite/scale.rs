//! Issue #15: the host at scale: JIT code in few kernel mappings.

use ipe_host::{EngineOptions, JitTier, PolicyEngine};

use crate::common;

/// Lines of `/proc/self/maps`: the process's kernel mappings.
fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.lines().count())
        .unwrap_or(0)
}

const CHILD: &str = "IPE_HOST_MAPPINGS_CHILD";

/// Compiling 3,000 small policies at load (three versions alive at once) adds a few mappings
/// per version, not one per few policies (it was ~0.5 per policy: 4 versions of 30,000
/// policies exhausted `vm.max_map_count`); the two later versions run the first one's code
/// (issue #15: their policies are unchanged), adding none. Then a version with other code
/// (other strings: nothing reused) is compiled. Measured in a child process (this test
/// binary, re-run on this test alone), so other tests' threads do not map memory meanwhile.
#[test]
fn jit_code_lives_in_a_few_mappings_per_version() {
    if !std::path::Path::new("/proc/self/maps").exists() {
        return;
    }
    if common::in_child("scale::jit_code_lives_in_a_few_mappings_per_version", CHILD) {
        return;
    }
    let (a, b) = (common::many_policies(3_000), common::many_policies(2_999));
    let opts = EngineOptions::jit_all(JitTier::Baseline);
    // Warm the process (ISA, thread-locals, allocator arenas) before counting.
    drop(PolicyEngine::with_options(common::many_policies(10), opts).expect("loads"));
    let before = mappings();
    let engine = PolicyEngine::with_options(a, opts).expect("loads");
    let held = engine.load_full();
    engine.swap(b.clone()).expect("swaps");
    let held2 = engine.load_full();
    engine.swap(b).expect("swaps");
    let stats = engine.stats();
    assert_eq!((stats.jit.compiled, stats.jit.reused), (0, 2_999));
    assert_eq!(stats.jit.failures, 0, "{:?}", stats.jit_last_failure);
    assert_eq!(held.stats().jit.compiled, 3_000);
    assert_eq!(held2.stats().jit.reused, 2_999);
    let added = mappings().saturating_sub(before);
    println!("3 versions of ~3,000 policies, compiled once: {added} new mappings");
    assert!(added <= 30, "{added} mappings for 3 versions sharing code");
    // Policy 3,001 brings the string "prod-3001": symbols are renumbered, everything compiles.
    engine.swap(common::many_policies(3_002)).expect("swaps");
    let stats = engine.stats();
    assert_eq!((stats.jit.compiled, stats.jit.reused), (3_002, 0));
    let added = mappings().saturating_sub(before);
    println!("and a fourth version compiled anew: {added} new mappings");
    assert!(added <= 60, "{added} mappings for 2 compiled versions");
    drop((held, held2));
}
