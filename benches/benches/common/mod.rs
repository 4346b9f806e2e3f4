//! Engines built once per workload and kept for the whole bench run.
#![allow(dead_code, reason = "each bench binary uses a subset")]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

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
