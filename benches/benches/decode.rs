//! `decode/`: load a bundle from bytes.
//!
//! - `decode/verify`: `Bundle::from_bytes` (decode + CRC + full verifier), what every load runs.
//! - `decode/unverified`: `Bundle::decode_unverified` (decode only), to split the cost.
//!
//! Run: `cargo bench -p ipe-benches --bench decode`.

mod common;

use divan::{black_box, Bencher};
use ipe_benches::by_name;
use ipe_nostd::Bundle;

const BUNDLES: &[&str] = &["seed", "set/10", "set/1000", "set/10000"];

fn main() {
    divan::main();
}

fn bytes(w: &str) -> Vec<u8> {
    ipe_benches::ipe_compile(&by_name(w).ipe)
}

#[divan::bench(args = BUNDLES)]
fn verify(b: Bencher, w: &str) {
    let bytes = bytes(w);
    common::bench(b, || Bundle::from_bytes(black_box(&bytes)).is_ok());
}

#[divan::bench(args = BUNDLES)]
fn unverified(b: Bencher, w: &str) {
    let bytes = bytes(w);
    common::bench(b, || Bundle::decode_unverified(black_box(&bytes)).is_ok());
}
