//! One engine deciding one request of one workload in a loop, for instruction counts:
//! `decide <engine> <workload> <request> [iterations]`.
//!
//! `engine`: `interp` (`ipe_nostd::evaluate`), `host` (host engine, interpreter tier),
//! `hostjit` (host engine, optimized JIT tier), `jit` (bare `JitSet`, the bench's loop),
//! `jit-gated` (bare `JitSet` in the loop the benches had before the group gate was hoisted:
//! `FirstMatch::admit`/`settle` around every candidate, for an A/B in one binary),
//! `hostjit-data` (`hostjit` deciding into a reused `ipe_host::Verdict`, issue #15),
//! `hostjit-reader` (`hostjit` through a `PolicyEngine::reader`, issue #15),
//! `hostjit-brief` (`hostjit-reader` deciding in brief, `Reader::brief`, issue #15),
//! `jit-data` (`jit` keeping only the effect, `ipe_nostd::EffectOnly`, issue #15),
//! `hostjit-json` (`hostjit` from the request's JSON text, `evaluate_json`, issue #15),
//! `native` (hand-written Rust over a parsed request), `native-json` (hand-written Rust from the JSON text: serde parse, then decide; the
//! `eval/native/json` bench's baseline, issue #15). The timed loop is the function `decide_loop` alone, so callgrind counts only it:
//!
//! ```sh
//! cargo build --profile bench -p ipe-benches --no-default-features --example decide
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*decide_loop*' \
//!     target/release/examples/decide jit set/1000 allow 10000
//! ```
//!
//! Instructions per decision: the run's `Ir` total divided by the iterations.

use std::hint::black_box;

use ipe_benches::{by_name, HostEngine, Interp, Jit, Native, LIST};
use ipe_nostd::vm::{for_each_admitted, for_each_candidate, FirstMatch};
use ipe_nostd::Effect;

/// Runs `f` `n` times and counts the allows (kept out of line: the profiler's collection
/// window).
#[inline(never)]
fn decide_loop(n: usize, mut f: impl FnMut() -> bool) -> usize {
    let mut allowed = 0usize;
    for _ in 0..n {
        allowed += usize::from(black_box(f()));
    }
    allowed
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine = args.first().map_or("interp", String::as_str);
    let workload = args.get(1).map_or("seed", String::as_str);
    let request = args.get(2).map_or("allow", String::as_str);
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let w = by_name(workload);
    let json = w.case(request).json.clone();
    let allowed = match engine {
        "interp" => {
            let e = Interp::new(&w);
            let ctx = e.context(&json);
            decide_loop(n, || e.decide(black_box(&ctx)))
        }
        "host" | "hostjit" => {
            let e = if engine == "host" {
                HostEngine::new(&w)
            } else {
                HostEngine::jit(&w)
            };
            let values = e.values(&json);
            decide_loop(n, || e.decide(black_box(values)))
        }
        // Issue #15, session 18: the host engine's JIT tier through a thread's `Reader` (no
        // borrow registered per decision).
        "hostjit-reader" => {
            let e = HostEngine::jit(&w);
            let values = e.values(&json);
            let mut reader = e.engine.reader();
            decide_loop(n, || e.decide_reader(&mut reader, black_box(values)))
        }
        // Issue #15, session 22: the decision in brief through a thread's `Reader`.
        "hostjit-brief" => {
            let e = HostEngine::jit(&w);
            let values = e.values(&json);
            let mut reader = e.engine.reader();
            decide_loop(n, || e.decide_brief(&mut reader, black_box(values)))
        }
        // Issue #15: the host engine's JIT tier deciding into a reused `Verdict` (decision
        // as data: the effect, no lists built).
        "hostjit-data" => {
            let e = HostEngine::jit(&w);
            let values = e.values(&json);
            let mut v = ipe_host::Verdict::new();
            decide_loop(n, || {
                e.engine.load().decide_into(black_box(values), &mut v);
                v.effect() == Effect::Allow
            })
        }
        // Issue #15: end to end from the JSON text through the host engine's JIT tier (the
        // `eval/host_jit/json` bench: stream reader, candidates, native code, decision).
        "hostjit-json" => {
            let e = HostEngine::jit(&w);
            decide_loop(n, || e.decide_json(black_box(&json)))
        }
        // Issue #15: the baseline of the end-to-end ratio (serde + hand-written Rust).
        // The hand-written Rust decider over a parsed request (the `eval/native/policy` rows,
        // the baseline of every engine ratio).
        "native" => {
            let e = Native::new(&w);
            let r = Native::parse(&json);
            decide_loop(n, || e.decide(black_box(&r)))
        }
        "native-json" => {
            let e = Native::new(&w);
            decide_loop(n, || e.decide_json(black_box(&json)))
        }
        "jit" => {
            let e = Jit::new(&w);
            let ctx = e.interp.context(&json);
            decide_loop(n, || e.decide(black_box(&ctx)))
        }
        // Issue #15: the bench's bare-JIT loop keeping only the effect (`EffectOnly`): what
        // the decision lists cost that loop.
        "jit-data" => {
            let e = Jit::new(&w);
            let ctx = e.interp.context(&json);
            let bundle = &e.interp.bundle;
            decide_loop(n, || {
                let values = black_box(&ctx).values();
                let mut acc = ipe_nostd::Accumulator::new(bundle.default_effect());
                let mut effect = ipe_nostd::EffectOnly::new(bundle.default_effect());
                for_each_admitted(bundle, values, |id| {
                    let o = e.code.eval(id, values).expect("policy compiled");
                    acc.add(&mut effect, id, o);
                    o
                });
                acc.finish(&mut effect);
                effect.effect == Effect::Allow
            })
        }
        "jit-gated" => {
            let e = Jit::new(&w);
            let ctx = e.interp.context(&json);
            let bundle = &e.interp.bundle;
            decide_loop(n, || {
                let values = black_box(&ctx).values();
                let mut out = ipe_nostd::DecisionBuilder::<LIST>::new(bundle.default_effect());
                let mut groups = FirstMatch::new();
                for_each_candidate(bundle, values, |id| {
                    if groups.admit(bundle, id) {
                        let o = e.code.eval(id, values).expect("policy compiled");
                        groups.settle(&o);
                        out.add(id, o);
                    }
                });
                out.finish().effect == Effect::Allow
            })
        }
        other => panic!("unknown engine {other}"),
    };
    println!("{engine} {workload}:{request}: {allowed} allowed of {n}");
}
