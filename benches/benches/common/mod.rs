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
