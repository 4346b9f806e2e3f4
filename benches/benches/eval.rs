//! `eval/<engine>`: one decision per iteration, per workload and request.
//!
//! - `eval/<engine>/policy`: context prebuilt (evaluation only).
//! - `eval/<engine>/json`: end to end from the JSON request string.
//!
//! Run: `cargo bench -p ipe-benches --bench eval` (filter: `-- interp`).

mod common;

use common::split;
use divan::{black_box, Bencher};
use ipe_benches::{Native, RegoEngine};

/// Every prebuilt-context case, `workload:request`.
const CASES: &[&str] = &[
    "seed:allow",
    "seed:deny",
    "set/10:allow",
    "set/10:deny",
    "set/100:allow",
    "set/100:deny",
    "set/1000:allow",
    "set/1000:deny",
    "set/10000:allow",
    "set/10000:deny",
    "clauses16:allow",
    "clauses16:deny",
    "list50:allow",
    "list50:deny",
];

/// End-to-end cases.
const JSON_CASES: &[&str] = &["seed:allow", "seed:deny", "list50:allow", "list50:deny"];

fn main() {
    divan::main();
}

mod native {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::native(w);
        let req = Native::parse(&common::workload_def(w).case(c).json);
        b.bench_local(|| e.decide(black_box(&req)));
    }

    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::native(w);
        let json = common::workload_def(w).case(c).json.as_str();
        b.bench_local(|| e.decide_json(black_box(json)));
    }
}

mod interp {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let ctx = e.context(&common::workload_def(w).case(c).json);
        b.bench_local(|| e.decide(black_box(&ctx)));
    }

    /// Parse, fill a context from a reused arena, evaluate.
    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let json = common::workload_def(w).case(c).json.as_str();
        let mut arena = bumpalo::Bump::new();
        b.bench_local(|| e.decide_json(black_box(json), &mut arena));
    }

    /// `ipe_host::evaluate_json`: fresh arena and a rendered report per request.
    #[divan::bench(args = JSON_CASES)]
    fn json_report(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let json = common::workload_def(w).case(c).json.as_str();
        b.bench_local(|| e.decide_json_host(black_box(json)));
    }
}

mod host {
    use super::*;

    /// `PolicyEngine::load` + `PolicySet::evaluate_values` over prebuilt slot values.
    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host(w);
        let values = e.values(&common::workload_def(w).case(c).json);
        b.bench_local(|| e.decide(black_box(values)));
    }

    /// `PolicyEngine::evaluate_json`: one-pass parse into the thread's arena, evaluate.
    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host(w);
        let json = common::workload_def(w).case(c).json.as_str();
        b.bench_local(|| e.decide_json(black_box(json)));
    }
}

mod host_jit {
    use super::*;

    /// `PolicyEngine` with every policy JIT-compiled (optimized) at load, prebuilt values.
    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host_jit(w);
        let values = e.values(&common::workload_def(w).case(c).json);
        b.bench_local(|| e.decide(black_box(values)));
    }

    /// `PolicyEngine::evaluate_json` with every policy JIT-compiled.
    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host_jit(w);
        let json = common::workload_def(w).case(c).json.as_str();
        b.bench_local(|| e.decide_json(black_box(json)));
    }
}

mod jit {
    use super::*;

    /// Native code (optimized tier) per candidate policy, prebuilt context.
    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::jit(w);
        let ctx = e.interp.context(&common::workload_def(w).case(c).json);
        b.bench_local(|| e.decide(black_box(&ctx)));
    }
}

mod cedar {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::cedar(w);
        let req = e.request(&common::workload_def(w).case(c).cedar_json);
        b.bench_local(|| e.decide(black_box(&req)));
    }

    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::cedar(w);
        let json = common::workload_def(w).case(c).cedar_json.as_str();
        b.bench_local(|| e.decide_json(black_box(json)));
    }
}

mod regorus {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::rego(w);
        let input = RegoEngine::input(&common::workload_def(w).case(c).json);
        let mut vm = e.vm();
        b.bench_local(|| RegoEngine::decide(&mut vm, black_box(&input)));
    }

    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::rego(w);
        let json = common::workload_def(w).case(c).json.as_str();
        let mut vm = e.vm();
        b.bench_local(|| RegoEngine::decide_json(&mut vm, black_box(json)));
    }
}
