//! `latency/`: per-decision latency of `ipe_host::PolicyEngine` while its policy set is
//! replaced every 10 ms (issue #15), for the interpreter, JIT-all (baseline) and adaptive
//! tiers, on versions of 1,000 and 10,000 policies, with 2 reader threads.
//!
//! Divan reports medians; this needs the tail, so it is a plain harness: every decision of the
//! readers is timed (`Instant` around `load` + `evaluate_json`) into a preallocated buffer,
//! and the run prints one line per case:
//!
//! ```text
//! latency <tier> <workload> p50_ns=… p99_ns=… p999_ns=… max_ns=… over_1ms=… decisions=… swaps=…
//! ```
//!
//! which `benches/report.py` turns into BENCHMARKS.md's latency table. A writer thread swaps
//! the same bundle bytes in (`PolicyEngine::swap`: verify, index, publish; every policy being
//! unchanged, JIT-all and adaptive versions take the live version's native code instead of
//! compiling it again, issue #15).
//!
//! It then prints one line for JIT-all publication of `set/1000` with one policy changed
//! (issue #15: the unchanged policies keep the live version's native code):
//!
//! ```text
//! publish jit_all set/1000 changed=1 load_compile_ns=… publish_p50_ns=… publish_max_ns=… swap_p50_ns=… compiled=… reused=…
//! ```
//!
//! Run: `cargo bench -p ipe-benches --bench latency` (env `IPE_LATENCY_SECS`: seconds per
//! case, default 3; `IPE_LATENCY_CASES`: a comma-separated filter such as `interp,set/1000`
//! or `publish`).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipe_host::{EngineOptions, JitTier, PolicyEngine, Prepared};

const WORKLOADS: &[&str] = &["set/1000", "set/10000"];
const READERS: usize = 2;
const SWAP_EVERY: Duration = Duration::from_millis(10);
/// Samples kept per reader (the rest of a long run is not recorded).
const MAX_SAMPLES: usize = 16 << 20;

fn tiers() -> Vec<(&'static str, EngineOptions)> {
    vec![
        ("interp", EngineOptions::interpreter()),
        ("jit_all", EngineOptions::jit_all(JitTier::Baseline)),
        ("adaptive", EngineOptions::default()),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a token case.
    let benching = std::env::args().any(|a| a == "--bench");
    let secs: f64 = std::env::var("IPE_LATENCY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 3.0 } else { 0.05 });
    let filter = std::env::var("IPE_LATENCY_CASES").unwrap_or_default();
    let wanted = |name: &str| {
        filter.is_empty()
            || filter
                .split(',')
                .all(|f| name.split(' ').any(|part| part == f))
    };
    for w in WORKLOADS {
        if !benching && *w != "set/1000" {
            continue;
        }
        let def = ipe_benches::by_name(w);
        let bytes = ipe_benches::ipe_compile(&def.ipe);
        let json = def.case("deny").json.clone();
        for (tier, opts) in tiers() {
            if !wanted(&format!("{tier} {w}")) {
                continue;
            }
            let line = run(tier, w, &bytes, &json, opts, Duration::from_secs_f64(secs));
            println!("{line}");
        }
    }
    if wanted("publish jit_all set/1000") {
        println!("{}", publish(if benching { 21 } else { 3 }));
    }
}

/// JIT-all publication of `set/1000` with one policy changed relative to the live version
/// (policy 500's limit, a new constant, so later policies' constant numbers shift), `n`
/// times, alternating between the two bundles.
fn publish(n: usize) -> String {
    let def = ipe_benches::by_name("set/1000");
    let from = format!(
        "replicas <= {} and requester.department != \"blocked-500\"",
        ipe_benches::set_limit(500)
    );
    let changed = def.ipe.replace(
        &from,
        "replicas <= 99 and requester.department != \"blocked-500\"",
    );
    assert_ne!(changed, def.ipe, "policy 500 changed");
    let (a, b) = (
        ipe_benches::ipe_compile(&def.ipe),
        ipe_benches::ipe_compile(&changed),
    );
    let engine = PolicyEngine::with_options(a.clone(), EngineOptions::jit_all(JitTier::Baseline))
        .expect("loads");
    let load_compile = engine.stats().jit.compile_micros * 1_000;
    let mut publish = Vec::with_capacity(n);
    let mut swap = Vec::with_capacity(n);
    let (mut compiled, mut reused) = (0, 0);
    for i in 0..n {
        let bytes = if i % 2 == 0 { &b } else { &a };
        // Verification and indexing outside the timing: `publish` is the writer's JIT work
        // (content keys, taking the live version's code, compiling the changed policy).
        let prepared = Prepared::new(bytes.clone()).expect("prepares");
        let start = Instant::now();
        engine.publish(black_box(prepared));
        publish.push(start.elapsed().as_nanos());
        let jit = engine.stats().jit;
        (compiled, reused) = (jit.compiled, jit.reused);
        // The whole swap (verify, index, publish) of the other bundle, back and forth.
        let other = if i % 2 == 0 { &a } else { &b };
        let start = Instant::now();
        engine.swap(black_box(other.clone())).expect("swaps");
        swap.push(start.elapsed().as_nanos());
        engine.swap(bytes.clone()).expect("swaps");
    }
    publish.sort_unstable();
    swap.sort_unstable();
    format!(
        "publish jit_all set/1000 changed=1 load_compile_ns={load_compile} publish_p50_ns={} \
         publish_max_ns={} swap_p50_ns={} compiled={compiled} reused={reused}",
        publish.get(n / 2).copied().unwrap_or(0),
        publish.last().copied().unwrap_or(0),
        swap.get(n / 2).copied().unwrap_or(0),
    )
}

fn run(
    tier: &str,
    workload: &str,
    bytes: &[u8],
    json: &str,
    opts: EngineOptions,
    duration: Duration,
) -> String {
    let engine = Arc::new(PolicyEngine::with_options(bytes.to_vec(), opts).expect("loads"));
    let expected = engine
        .evaluate_json(json)
        .expect("the request evaluates")
        .effect;
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (engine, stop, json) = (Arc::clone(&engine), Arc::clone(&stop), json.to_owned());
            std::thread::spawn(move || {
                let mut samples: Vec<u32> = Vec::with_capacity(MAX_SAMPLES);
                let mut decisions = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    let set = engine.load();
                    let d = set.evaluate_json(black_box(&json)).expect("evaluates");
                    drop(set);
                    let nanos = start.elapsed().as_nanos();
                    assert_eq!(d.effect, expected, "decisions never change under swaps");
                    black_box(d);
                    decisions += 1;
                    if samples.len() < MAX_SAMPLES {
                        samples.push(u32::try_from(nanos).unwrap_or(u32::MAX));
                    }
                }
                (samples, decisions)
            })
        })
        .collect();
    let writer = {
        let (engine, stop, swaps, bytes) = (
            Arc::clone(&engine),
            Arc::clone(&stop),
            Arc::clone(&swaps),
            bytes.to_vec(),
        );
        std::thread::spawn(move || {
            let mut next = Instant::now() + SWAP_EVERY;
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now < next {
                    std::thread::sleep(next - now);
                }
                next += SWAP_EVERY;
                engine.swap(bytes.clone()).expect("swaps");
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let mut all = Vec::new();
    let mut decisions = 0;
    for r in readers {
        let (s, n) = r.join().expect("reader");
        all.extend(s);
        decisions += n;
    }
    all.sort_unstable();
    let q = |p: f64| -> u32 {
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all.get(i).copied().unwrap_or(0)
    };
    let over = all.iter().filter(|&&n| n > 1_000_000).count();
    let stats = engine.stats();
    format!(
        "latency {tier} {workload} p50_ns={} p99_ns={} p999_ns={} max_ns={} over_1ms={over} \
         decisions={decisions} swaps={} retired={} freed={}",
        q(0.5),
        q(0.99),
        q(0.999),
        all.last().copied().unwrap_or(0),
        swaps.load(Ordering::Relaxed),
        stats.retired_versions,
        stats.freed_versions,
    )
}
