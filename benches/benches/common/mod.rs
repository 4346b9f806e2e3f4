//! Engines built once per workload and kept for the whole bench run.
#![allow(dead_code, reason = "each bench binary uses a subset")]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use divan::{black_box, Bencher};

use ipe_benches::{
    by_name, CedarEngine, HostEngine, Interp, Jit, Native, NativeCidr, NativeV2, NativeV3,
    RegoEngine, Workload,
};

/// What one `eval` or `pairs` row times for a workload request.
#[derive(Clone, Copy, Debug)]
pub enum Row {
    /// Hand-written Rust over a parsed request (`eval/native/policy`).
    Rust,
    /// The interpreter over a prebuilt context (`eval/interp/policy`).
    Interp,
    /// The host engine's JIT tier, `load` + `evaluate_values` (`eval/host_jit/policy`).
    HostJit,
    /// The same decision as data, `decide_into` a reused `Verdict` (`eval/host_jit/data`).
    HostJitData,
    /// The same through a thread's `PolicyEngine::reader` (`eval/host_jit/reader`).
    HostJitReader,
    /// The decision in brief through a thread's reader (`eval/host_jit/brief`): the effect and
    /// the deciding policy, stopping at the first deny.
    HostJitBrief,
    /// Hand-written Rust from the JSON text: serde, then decide (`eval/native/json`).
    RustJson,
    /// The host engine's JIT tier from the JSON text (`eval/host_jit/json`).
    HostJitJson,
    /// Cedar over a prebuilt request (`eval/cedar/policy`).
    Cedar,
    /// regorus over a prebuilt input (`eval/regorus/policy`).
    Regorus,
}

/// Times `row` for `case` (`workload:request`), after checking it gives the case's decision.
pub fn time(b: Bencher<'_, '_>, row: Row, case: &str) {
    let (w, c) = split(case);
    let def = workload_def(w).case(c);
    let (json, allow) = (def.json.as_str(), def.allow);
    match row {
        Row::Rust => {
            let e = native(w);
            let req = Native::parse(json);
            assert_eq!(e.decide(&req), allow, "{case}");
            bench(b, || e.decide(black_box(&req)));
        }
        Row::Interp => {
            let e = interp(w);
            let ctx = e.context(json);
            assert_eq!(e.decide(&ctx), allow, "{case}");
            bench(b, || e.decide(black_box(&ctx)));
        }
        Row::HostJit => {
            let e = host_jit(w);
            let values = e.values(json);
            assert_eq!(e.decide(values), allow, "{case}");
            bench(b, || e.decide(black_box(values)));
        }
        Row::HostJitData => {
            let e = host_jit(w);
            let values = e.values(json);
            let mut v = ipe_host::Verdict::new();
            assert_eq!(e.decide_data(values, &mut v), allow, "{case}");
            bench(b, || e.decide_data(black_box(values), &mut v));
        }
        Row::HostJitReader => {
            let e = host_jit(w);
            let values = e.values(json);
            let mut r = e.engine.reader();
            assert_eq!(e.decide_reader(&mut r, values), allow, "{case}");
            bench(b, || e.decide_reader(&mut r, black_box(values)));
        }
        Row::HostJitBrief => {
            let e = host_jit(w);
            let values = e.values(json);
            let mut r = e.engine.reader();
            assert_eq!(e.decide_brief(&mut r, values), allow, "{case}");
            bench(b, || e.decide_brief(&mut r, black_box(values)));
        }
        Row::RustJson => {
            let e = native(w);
            assert_eq!(e.decide_json(json), allow, "{case}");
            bench(b, || e.decide_json(black_box(json)));
        }
        Row::HostJitJson => {
            let e = host_jit(w);
            assert_eq!(e.decide_json(json), allow, "{case}");
            bench(b, || e.decide_json(black_box(json)));
        }
        Row::Cedar => {
            let e = cedar(w);
            let req = e.request(&def.cedar_json);
            assert_eq!(e.decide(&req), allow, "{case}");
            bench(b, || e.decide(black_box(&req)));
        }
        Row::Regorus => {
            let e = rego(w);
            let input = RegoEngine::input(json);
            let mut vm = e.vm();
            assert_eq!(RegoEngine::decide(&mut vm, &input), allow, "{case}");
            bench(b, || RegoEngine::decide(&mut vm, black_box(&input)));
        }
    }
}

/// `seed:allow` → (`seed`, `allow`).
pub fn split(case: &str) -> (&str, &str) {
    case.rsplit_once(':').expect("workload:case")
}

macro_rules! cache {
    ($name:ident, $t:ty, $make:expr) => {
        /// The engine for a workload, built on first use.
        pub fn $name(workload: &str) -> &'static $t {
            static CACHE: OnceLock<Mutex<HashMap<String, &'static $t>>> = OnceLock::new();
            let mut m = CACHE.get_or_init(Default::default).lock().unwrap();
            if let Some(e) = m.get(workload) {
                return e;
            }
            let make: fn(&Workload) -> $t = $make;
            let e: &'static $t = Box::leak(Box::new(make(workload_def(workload))));
            m.insert(workload.to_string(), e);
            e
        }
    };
}

/// A workload's definition, generated on first use.
pub fn workload_def(name: &str) -> &'static Workload {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static Workload>>> = OnceLock::new();
    let mut m = CACHE.get_or_init(Default::default).lock().unwrap();
    if let Some(w) = m.get(name) {
        return w;
    }
    let w: &'static Workload = Box::leak(Box::new(by_name(name)));
    m.insert(name.to_string(), w);
    w
}

cache!(native, Native, Native::new);
cache!(native_v2, NativeV2, NativeV2::new);
cache!(native_v3, NativeV3, NativeV3::new);
cache!(native_cidr, NativeCidr, NativeCidr::new);
cache!(interp, Interp, Interp::new);
cache!(cedar, CedarEngine, CedarEngine::new);
cache!(rego, RegoEngine, RegoEngine::new);
cache!(host, HostEngine, HostEngine::new);
cache!(jit, Jit, Jit::new);
cache!(host_jit, HostEngine, HostEngine::jit);

/// Times `f` with divan after warming it up (up to 1,000 calls or 50 ms).
///
/// Divan sizes a benchmark's samples from its first call: when that call takes over 100x the
/// timer's precision, it times every call alone, the clock's own cost included. A cold first
/// call (first-touch page faults, a thread's first use of the engine's per-thread state) did
/// that to nanosecond benches on this VM (session 15: `eval/interp/policy/seed:allow` 180 ns
/// timed alone in one run, 93 ns in samples of 3,200 calls in the next).
pub fn bench<O>(b: Bencher<'_, '_>, mut f: impl FnMut() -> O) {
    let start = Instant::now();
    for _ in 0..1_000 {
        black_box(f());
        if start.elapsed() > Duration::from_millis(50) {
            break;
        }
    }
    b.bench_local(f);
}
