//! `throughput/<engine>`: the 1,000-policy set on 1 and 2 threads. Divan reports the time per
//! decision on each thread; decisions per second = threads / median (see `run.sh`).
//!
//! Run: `cargo bench -p ipe-benches --bench throughput`.

mod common;

use std::cell::RefCell;

use divan::{black_box, Bencher};
use ipe_benches::{Native, RegoEngine};

const W: &str = "set/1000";
const C: &str = "deny";

fn main() {
    divan::main();
}

#[divan::bench(threads = [1, 2])]
fn native(b: Bencher) {
    let e = common::native(W);
    let req = Native::parse(&common::workload_def(W).case(C).json);
    b.bench(|| e.decide(black_box(&req)));
}

#[divan::bench(threads = [1, 2])]
fn interp(b: Bencher) {
    let e = common::interp(W);
    let ctx = e.context(&common::workload_def(W).case(C).json);
    b.bench(|| e.decide(black_box(&ctx)));
}

#[divan::bench(threads = [1, 2], sample_count = 20)]
fn cedar(b: Bencher) {
    let e = common::cedar(W);
    let req = e.request(&common::workload_def(W).case(C).cedar_json);
    b.bench(|| e.decide(black_box(&req)));
}

thread_local! {
    static VM: RefCell<Option<ipe_benches::RegoRunner>> = const { RefCell::new(None) };
}

#[divan::bench(threads = [1, 2], sample_count = 20)]
fn regorus(b: Bencher) {
    let e = common::rego(W);
    let json = common::workload_def(W).case(C).json.clone();
    b.bench(|| {
        VM.with(|vm| {
            let mut vm = vm.borrow_mut();
            let vm = vm.get_or_insert_with(|| e.vm());
            thread_local! {
                static INPUT: RefCell<Option<::regorus::Value>> = const { RefCell::new(None) };
            }
            INPUT.with(|i| {
                let mut i = i.borrow_mut();
                let input = i.get_or_insert_with(|| RegoEngine::input(&json));
                RegoEngine::decide(vm, black_box(input))
            })
        })
    });
}

#[divan::bench(threads = [1, 2])]
fn host(b: Bencher) {
    let e = common::host(W);
    let values = e.values(&common::workload_def(W).case(C).json);
    b.bench(|| e.decide(black_box(values)));
}

#[divan::bench(threads = [1, 2])]
fn jit(b: Bencher) {
    let e = common::jit(W);
    let ctx = e.interp.context(&common::workload_def(W).case(C).json);
    b.bench(|| e.decide(black_box(&ctx)));
}

#[divan::bench(threads = [1, 2])]
fn host_jit(b: Bencher) {
    let e = common::host_jit(W);
    let values = e.values(&common::workload_def(W).case(C).json);
    b.bench(|| e.decide(black_box(values)));
}
