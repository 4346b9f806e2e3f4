//! A loop for profilers (callgrind, perf): `profile <what> [iterations]`.
//!
//! `what`: `interp-seed`, `interp-set10000`, `jit-seed`, `compile10000` (and
//! `compile10000-str-lower`: `compile_str` then `lower`, the path before issue #15), `json-seed`,
//! `swap10000` / `swap10000-jit` (`PolicyEngine::swap` of the 10,000-policy set's bytes,
//! interpreter / JIT-all: the latency bench's writer), `jit-compile100` / `jit-compile100-opt` (JIT compile of the 100-policy set in one module,
//! baseline / optimized tier, `n` times: the `compile/jit_*/set/100` bench).
//!
//! ```sh
//! cargo build --release -p ipe-benches --no-default-features --example profile
//! valgrind --tool=callgrind target/release/examples/profile interp-seed 100000
//! valgrind --tool=callgrind target/release/examples/profile jit-compile100 1
//! ```

use std::hint::black_box;

use ipe_benches::{by_name, policy_set, Interp};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "interp-seed".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    match what.as_str() {
        "interp-seed" | "interp-set10000" => {
            let w = by_name(if what == "interp-seed" {
                "seed"
            } else {
                "set/10000"
            });
            let e = Interp::new(&w);
            let ctx = e.context(&w.case("deny").json);
            let mut allowed = 0usize;
            for _ in 0..n {
                allowed += usize::from(e.decide(black_box(&ctx)));
            }
            println!("{what}: {allowed} allowed of {n}");
        }
        "jit-seed" => {
            let w = by_name("seed");
            let e = ipe_benches::Jit::new(&w);
            let ctx = e.interp.context(&w.case("deny").json);
            let mut allowed = 0usize;
            for _ in 0..n {
                allowed += usize::from(e.decide(black_box(&ctx)));
            }
            println!("{what}: {allowed} allowed of {n}");
        }
        "json-seed" => {
            let w = by_name("seed");
            let e = Interp::new(&w);
            let json = w.case("deny").json.clone();
            let mut arena = bumpalo::Bump::new();
            let mut allowed = 0usize;
            for _ in 0..n {
                allowed += usize::from(e.decide_json(black_box(&json), &mut arena));
            }
            println!("{what}: {allowed} allowed of {n}");
        }
        "compile10000" => {
            let src = policy_set(10_000).ipe;
            for _ in 0..n {
                black_box(ipe_benches::ipe_compile(black_box(&src)));
            }
            println!("{what}: {n} compiles");
        }
        "compile10000-str-lower" => {
            // What `ipe_compile` ran before issue #15: `compile_str` (which lowers to prove
            // the program compiles), then `lower` again for the bytes.
            let src = policy_set(10_000).ipe;
            for _ in 0..n {
                let program = ipe_compile::compile_str(&[("bench.ipe", black_box(src.as_str()))])
                    .expect("compiles");
                black_box(ipe_compile::lower::lower(&program).expect("lowers").bytes);
            }
            println!("{what}: {n} compiles");
        }
        "jit-compile100" | "jit-compile100-opt" => {
            let tier = if what == "jit-compile100" {
                ipe_host::JitTier::Baseline
            } else {
                ipe_host::JitTier::Optimized
            };
            let bytes = ipe_benches::ipe_compile(&policy_set(100).ipe);
            let bundle = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
            let mut compiled = 0usize;
            for _ in 0..n {
                let set =
                    ipe_host::jit::compile_bundle(black_box(&bundle), tier).expect("compiles");
                compiled += set.len();
            }
            println!("{what}: {compiled} policies compiled");
        }
        "swap10000" | "swap10000-jit" => {
            // The latency bench's writer: `PolicyEngine::swap` of the same 10,000-policy bytes
            // (verify, index, publish; JIT-all reuses the live version's native code).
            let bytes = ipe_benches::ipe_compile(&policy_set(10_000).ipe);
            let options = if what == "swap10000" {
                ipe_host::EngineOptions::interpreter()
            } else {
                ipe_host::EngineOptions::jit_all(ipe_host::JitTier::Baseline)
            };
            let engine =
                ipe_host::PolicyEngine::with_options(bytes.clone(), options).expect("loads");
            for _ in 0..n {
                black_box(engine.swap(black_box(bytes.clone())).expect("swaps"));
            }
            println!("{what}: {n} swaps, {} retired", engine.retired_versions());
        }
        other => panic!("unknown: {other}"),
    }
}
