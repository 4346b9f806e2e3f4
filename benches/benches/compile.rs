//! `compile/<engine>`: source text of `n` generated policies to something that can decide.
//!
//! - `compile/ipe`: `compile_str` (parse, check) + `lower` (bytecode, index, encode).
//! - `compile/ipe_front`: `compile_str` only.
//! - `compile/cedar`: `PolicySet::from_str` (Cedar parses; it has no further compile step).
//! - `compile/regorus`: `add_policy` + `compile_with_entrypoint` (ready for its interpreter).
//! - `compile/regorus_rvm`: the same + RVM `compile_from_policy` (the RVM holds at most 65,535
//!   instructions: not the 10,000-policy set).
//! - `compile/regorus_parse`: `add_policy` only.
//! - `compile/jit_baseline`, `compile/jit_optimized`: `ipe_host::jit::compile_bundle` of a
//!   one-policy bundle (the JIT time for that policy, module creation included), and of the
//!   100-policy set (one module).
//!
//! Run: `cargo bench -p ipe-benches --bench compile`.

mod common;

use std::str::FromStr;

use divan::{black_box, Bencher};
use ipe_benches::policy_set;

const SIZES: &[usize] = &[10, 1_000, 10_000];

fn main() {
    divan::main();
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn ipe(b: Bencher, n: usize) {
    let src = policy_set(n).ipe;
    common::bench(b, || ipe_benches::ipe_compile(black_box(&src)));
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn ipe_front(b: Bencher, n: usize) {
    let src = policy_set(n).ipe;
    common::bench(b, || {
        ipe_compile::compile_str(&[("bench.ipe", black_box(src.as_str()))]).is_ok()
    });
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn cedar(b: Bencher, n: usize) {
    let src = policy_set(n).cedar;
    common::bench(b, || {
        cedar_policy::PolicySet::from_str(black_box(&src)).expect("parses")
    });
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn regorus(b: Bencher, n: usize) {
    let src = policy_set(n).rego;
    common::bench(b, || ipe_benches::rego_compile(black_box(&src)));
}

#[divan::bench(args = [10, 1_000], sample_count = 5)]
fn regorus_rvm(b: Bencher, n: usize) {
    let src = policy_set(n).rego;
    common::bench(b, || {
        ipe_benches::rego_compile_rvm(black_box(&src)).expect("fits the RVM")
    });
}

#[divan::bench(args = SIZES, sample_count = 5)]
fn regorus_parse(b: Bencher, n: usize) {
    let src = policy_set(n).rego;
    common::bench(b, || ipe_benches::rego_parse(black_box(&src)));
}

/// JIT compile time: one-policy bundles, and 100 policies in one module (per-policy cost
/// with the module set-up amortized).
const JIT_POLICIES: &[&str] = &["seed", "clauses16", "list50", "set/100"];

fn jit_compile(b: Bencher, w: &str, tier: ipe_host::JitTier) {
    let bytes = ipe_benches::ipe_compile(&ipe_benches::by_name(w).ipe);
    let bundle = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
    common::bench(b, || {
        ipe_host::jit::compile_bundle(black_box(&bundle), tier).expect("compiles")
    });
}

#[divan::bench(args = JIT_POLICIES, sample_count = 20)]
fn jit_baseline(b: Bencher, w: &str) {
    jit_compile(b, w, ipe_host::JitTier::Baseline);
}

#[divan::bench(args = JIT_POLICIES, sample_count = 20)]
fn jit_optimized(b: Bencher, w: &str) {
    jit_compile(b, w, ipe_host::JitTier::Optimized);
}
