//! `eval/<engine>`: one decision per iteration, per workload and request.
//!
//! - `eval/<engine>/policy`: context prebuilt (evaluation only).
//! - `eval/<engine>/json`: end to end from the JSON request string.
//! - `eval/<engine>/v2`, `eval/<engine>/v3`: issue #13's and issue #14's feature families,
//!   context prebuilt (hand-written Rust and IPE only).
//! - `eval/<engine>/cidr`: `src in` a list of 100, 1,000 and 10,000 networks, context prebuilt,
//!   on every engine.
//!
//! Run: `cargo bench -p ipe-benches --bench eval` (filter: `-- interp`).

mod common;

use common::{split, Row};
use divan::{black_box, Bencher};
use ipe_benches::{NativeCidr, NativeV2, NativeV3, RegoEngine};

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

/// Language v2 cases (issue #13), prebuilt context: one workload per feature family, run by
/// the hand-written Rust and IPE's engines only (`v2/reasons` renders the deny reason).
const V2_CASES: &[&str] = &[
    "v2/optional:allow",
    "v2/optional:deny",
    "v2/hierarchy:allow",
    "v2/hierarchy:deny",
    "v2/scalars:allow",
    "v2/scalars:deny",
    "v2/set_ops:allow",
    "v2/set_ops:deny",
    "v2/maps:allow",
    "v2/maps:deny",
    "v2/first_match:allow",
    "v2/first_match:deny",
    "v2/reasons:allow",
    "v2/reasons:deny",
    "v2/defs:allow",
    "v2/defs:deny",
    "v2/defs_written:allow",
    "v2/defs_written:deny",
];

/// Language v2 part 2 cases (issue #14), prebuilt context: one workload per feature family,
/// run by the hand-written Rust and IPE's engines only.
const V3_CASES: &[&str] = &[
    "v3/ip:allow",
    "v3/ip:deny",
    "v3/ranges:allow",
    "v3/ranges:deny",
    "v3/like:allow",
    "v3/like:deny",
    "v3/matches:allow",
    "v3/matches:deny",
    "v3/strings:allow",
    "v3/strings:deny",
    "v3/arith:allow",
    "v3/arith:deny",
    "v3/time:allow",
    "v3/time:deny",
];

/// The CIDR allow-list (issue #14) at 100, 1,000 and 10,000 networks: an IPv4 and an IPv6
/// address inside a network (allow) and outside every network (deny).
const CIDR_CASES: &[&str] = &[
    "cidr/100:v4_hit",
    "cidr/100:v4_miss",
    "cidr/100:v6_hit",
    "cidr/100:v6_miss",
    "cidr/1000:v4_hit",
    "cidr/1000:v4_miss",
    "cidr/1000:v6_hit",
    "cidr/1000:v6_miss",
    "cidr/10000:v4_hit",
    "cidr/10000:v4_miss",
    "cidr/10000:v6_hit",
    "cidr/10000:v6_miss",
];

/// Checks an engine's decision on a v3 or cidr case before timing it.
fn check(case: &str, allow: bool) {
    let (w, c) = split(case);
    assert_eq!(allow, common::workload_def(w).case(c).allow, "{case}");
}

/// The v2 workload whose benches render the reason of a deny.
const RENDERS: &str = "v2/reasons";

/// Checks a v2 engine's answer before timing it: the expected decision and, for [`RENDERS`],
/// the rendered reason.
fn check_v2(case: &str, allow: bool, reason: &str) {
    let (w, c) = split(case);
    assert_eq!(allow, common::workload_def(w).case(c).allow, "{case}");
    if w == RENDERS {
        let want = if allow {
            ""
        } else {
            ipe_benches::REASONS_DENY_TEXT
        };
        assert_eq!(reason, want, "{case}: rendered reason");
    }
}

/// End-to-end cases.
const JSON_CASES: &[&str] = &["seed:allow", "seed:deny", "list50:allow", "list50:deny"];

fn main() {
    divan::main();
}

mod native {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        common::time(b, Row::Rust, case);
    }

    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        common::time(b, Row::RustJson, case);
    }

    #[divan::bench(args = V2_CASES)]
    fn v2(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::native_v2(w);
        let req = NativeV2::parse(&common::workload_def(w).case(c).json);
        let mut out = String::new();
        if w == RENDERS {
            check_v2(case, e.decide_render(&req, &mut out), &out);
            common::bench(b, || e.decide_render(black_box(&req), &mut out));
        } else {
            check_v2(case, e.decide(&req), "");
            common::bench(b, || e.decide(black_box(&req)));
        }
    }

    /// Issue #14 families: `ipnet`, `regex`, checked arithmetic, pre-parsed times.
    #[divan::bench(args = V3_CASES)]
    fn v3(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::native_v3(w);
        let req = NativeV3::parse(&common::workload_def(w).case(c).json);
        check(case, e.decide(&req));
        common::bench(b, || e.decide(black_box(&req)));
    }

    /// `ipnet` networks merged into sorted ranges, one binary search.
    #[divan::bench(args = CIDR_CASES)]
    fn cidr(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::native_cidr(w);
        let req = NativeCidr::parse(&common::workload_def(w).case(c).json);
        check(case, e.decide(&req));
        common::bench(b, || e.decide(black_box(&req)));
    }
}

mod interp {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        common::time(b, Row::Interp, case);
    }

    /// v2 workloads, context prebuilt (`v2/reasons`: the reason rendered into a reused string).
    #[divan::bench(args = V2_CASES)]
    fn v2(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let ctx = e.context(&common::workload_def(w).case(c).json);
        let mut out = String::new();
        if w == RENDERS {
            check_v2(case, e.decide_render(&ctx, &mut out), &out);
            common::bench(b, || e.decide_render(black_box(&ctx), &mut out));
        } else {
            check_v2(case, e.decide(&ctx), "");
            common::bench(b, || e.decide(black_box(&ctx)));
        }
    }

    /// Issue #14 families, context prebuilt.
    #[divan::bench(args = V3_CASES)]
    fn v3(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let ctx = e.context(&common::workload_def(w).case(c).json);
        check(case, e.decide(&ctx));
        common::bench(b, || e.decide(black_box(&ctx)));
    }

    /// `src in` a constant of N networks, context prebuilt.
    #[divan::bench(args = CIDR_CASES)]
    fn cidr(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let ctx = e.context(&common::workload_def(w).case(c).json);
        check(case, e.decide(&ctx));
        common::bench(b, || e.decide(black_box(&ctx)));
    }

    /// Parse, fill a context from a reused arena, evaluate.
    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let json = common::workload_def(w).case(c).json.as_str();
        let mut arena = bumpalo::Bump::new();
        common::bench(b, || e.decide_json(black_box(json), &mut arena));
    }

    /// `ipe_host::evaluate_json`: fresh arena and a rendered report per request.
    #[divan::bench(args = JSON_CASES)]
    fn json_report(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::interp(w);
        let json = common::workload_def(w).case(c).json.as_str();
        common::bench(b, || e.decide_json_host(black_box(json)));
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
        common::bench(b, || e.decide(black_box(values)));
    }

    /// The decision in brief through a thread's reader (issue #15, session 22): the effect and
    /// the deciding policy, evaluation stopped at the first deny, no reason decoded.
    #[divan::bench(args = CASES)]
    fn brief(b: Bencher, case: &str) {
        common::time(b, Row::HostJitBrief, case);
    }

    /// v2 workloads over prebuilt values (`v2/reasons`: the reason rendered into a reused string).
    #[divan::bench(args = V2_CASES)]
    fn v2(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host(w);
        let values = e.values(&common::workload_def(w).case(c).json);
        let mut out = String::new();
        if w == RENDERS {
            check_v2(case, e.decide_render(values, &mut out), &out);
            common::bench(b, || e.decide_render(black_box(values), &mut out));
        } else {
            check_v2(case, e.decide(values), "");
            common::bench(b, || e.decide(black_box(values)));
        }
    }

    /// `PolicyEngine::evaluate_json`: one-pass parse into the thread's arena, evaluate.
    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host(w);
        let json = common::workload_def(w).case(c).json.as_str();
        common::bench(b, || e.decide_json(black_box(json)));
    }
}

mod host_jit {
    use super::*;

    /// `PolicyEngine` with every policy JIT-compiled (optimized) at load, prebuilt values.
    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        common::time(b, Row::HostJit, case);
    }

    /// The same decision as data (issue #15): `decide_into` a reused `Verdict`, no lists.
    #[divan::bench(args = CASES)]
    fn data(b: Bencher, case: &str) {
        common::time(b, Row::HostJitData, case);
    }

    /// The same decision through a thread's `PolicyEngine::reader` (issue #15, session 18): the
    /// live version cached, one relaxed load per decision instead of a registered borrow.
    #[divan::bench(args = CASES)]
    fn reader(b: Bencher, case: &str) {
        common::time(b, Row::HostJitReader, case);
    }

    /// v2 workloads over prebuilt values (`v2/reasons`: the reason rendered into a reused string).
    #[divan::bench(args = V2_CASES)]
    fn v2(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host_jit(w);
        let values = e.values(&common::workload_def(w).case(c).json);
        let mut out = String::new();
        if w == RENDERS {
            check_v2(case, e.decide_render(values, &mut out), &out);
            common::bench(b, || e.decide_render(black_box(values), &mut out));
        } else {
            check_v2(case, e.decide(values), "");
            common::bench(b, || e.decide(black_box(values)));
        }
    }

    /// Issue #14 families over prebuilt values, every policy JIT-compiled.
    #[divan::bench(args = V3_CASES)]
    fn v3(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host_jit(w);
        let values = e.values(&common::workload_def(w).case(c).json);
        check(case, e.decide(values));
        common::bench(b, || e.decide(black_box(values)));
    }

    /// `src in` a constant of N networks, every policy JIT-compiled.
    #[divan::bench(args = CIDR_CASES)]
    fn cidr(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::host_jit(w);
        let values = e.values(&common::workload_def(w).case(c).json);
        check(case, e.decide(values));
        common::bench(b, || e.decide(black_box(values)));
    }

    /// `PolicyEngine::evaluate_json` with every policy JIT-compiled.
    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        common::time(b, Row::HostJitJson, case);
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
        common::bench(b, || e.decide(black_box(&ctx)));
    }

    /// v2 workloads, native code per candidate (`v2/reasons`: the reason rendered).
    #[divan::bench(args = V2_CASES)]
    fn v2(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::jit(w);
        let ctx = e.interp.context(&common::workload_def(w).case(c).json);
        let mut out = String::new();
        if w == RENDERS {
            check_v2(case, e.decide_render(&ctx, &mut out), &out);
            common::bench(b, || e.decide_render(black_box(&ctx), &mut out));
        } else {
            check_v2(case, e.decide(&ctx), "");
            common::bench(b, || e.decide(black_box(&ctx)));
        }
    }
}

mod cedar {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        common::time(b, Row::Cedar, case);
    }

    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::cedar(w);
        let json = common::workload_def(w).case(c).cedar_json.as_str();
        common::bench(b, || e.decide_json(black_box(json)));
    }
    /// `ip(context.src).isInRange(ip("net"))`, one `permit` per network.
    #[divan::bench(args = CIDR_CASES)]
    fn cidr(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::cedar(w);
        let req = e.request(&common::workload_def(w).case(c).cedar_json);
        check(case, e.decide(&req));
        common::bench(b, || e.decide(black_box(&req)));
    }
}

mod regorus {
    use super::*;

    #[divan::bench(args = CASES)]
    fn policy(b: Bencher, case: &str) {
        common::time(b, Row::Regorus, case);
    }

    #[divan::bench(args = JSON_CASES)]
    fn json(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::rego(w);
        let json = common::workload_def(w).case(c).json.as_str();
        let mut vm = e.vm();
        common::bench(b, || RegoEngine::decide_json(&mut vm, black_box(json)));
    }

    /// `some n in allowed; net.cidr_contains(n, input.src)`.
    #[divan::bench(args = CIDR_CASES)]
    fn cidr(b: Bencher, case: &str) {
        let (w, c) = split(case);
        let e = common::rego(w);
        let input = RegoEngine::input(&common::workload_def(w).case(c).json);
        let mut vm = e.vm();
        check(case, RegoEngine::decide(&mut vm, &input));
        common::bench(b, || RegoEngine::decide(&mut vm, black_box(&input)));
    }
}
