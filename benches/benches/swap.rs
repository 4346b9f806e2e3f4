//! `swap/`: replace the live policy set of an `ipe_host::PolicyEngine`.
//!
//! - `swap/publish`: `PolicyEngine::publish` of a set prepared beforehand (`Prepared::new`
//!   outside the timing): the atomic pointer swap readers see, plus dropping the old version
//!   on the writer's thread.
//! - `swap/swap_bytes`: `PolicyEngine::swap(bytes)`: verify, build the index, publish.
//!
//! Run: `cargo bench -p ipe-benches --bench swap`.

use divan::{black_box, Bencher};
use ipe_host::{PolicyEngine, Prepared};

const BUNDLES: &[&str] = &["seed", "set/1000"];

fn main() {
    divan::main();
}

fn bytes(w: &str) -> Vec<u8> {
    ipe_benches::ipe_compile(&ipe_benches::by_name(w).ipe)
}

#[divan::bench(args = BUNDLES)]
fn publish(b: Bencher, w: &str) {
    let bytes = bytes(w);
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    b.with_inputs(|| Prepared::new(bytes.clone()).expect("prepares"))
        .bench_local_values(|p| engine.publish(black_box(p)));
}

#[divan::bench(args = BUNDLES)]
fn swap_bytes(b: Bencher, w: &str) {
    let bytes = bytes(w);
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    b.with_inputs(|| bytes.clone())
        .bench_local_values(|v| engine.swap(black_box(v)).expect("swaps"));
}
