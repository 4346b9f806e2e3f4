//! Loads the example bundle, evaluates a stream of requests and prints the average latency of
//! each evaluation phase.
//!
//! ```text
//! cargo run --release -p ipe-host --example jit_demo [BUNDLE.ipeb] [REQUESTS.jsonl]
//! ```
//!
//! Without arguments it compiles `examples/seed` (through ipe-compile, a dev-dependency) and
//! replays `examples/seed/requests.jsonl`. Each phase of `phases()` runs on an
//! interpreter-only engine; then (feature `jit`) the same stream runs through an engine with
//! the default adaptive tiering: an interpreter phase, the wait for the background compiler
//! once the policies are hot, and a JIT phase.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bumpalo::Bump;
use ipe_host::{PolicyEngine, PolicySet};
use ipe_nostd::Value;

/// Requests evaluated per phase (the stream is cycled).
const ROUNDS: usize = 200_000;

/// Evaluates request `i` of the stream; returns whether it was allowed.
type RunFn = Box<dyn FnMut(&PolicySet, usize) -> bool>;

/// One measured way of evaluating the request stream.
struct Phase {
    name: &'static str,
    run: RunFn,
}

/// The request stream, as JSON text and pre-parsed into slot values.
struct Stream {
    json: Vec<String>,
    /// Each request's slot values, leaked into one arena for the program's lifetime.
    values: Vec<&'static [Value<'static>]>,
}

fn phases(stream: &'static Stream) -> Vec<Phase> {
    vec![
        Phase {
            name: "interpreter, from JSON text",
            run: Box::new(move |set, i| {
                let json = &stream.json[i % stream.json.len()];
                set.evaluate_json(json)
                    .is_ok_and(|d| d.effect == ipe_nostd::Effect::Allow)
            }),
        },
        Phase {
            name: "interpreter, prebuilt context",
            run: Box::new(move |set, i| {
                let values = stream.values[i % stream.values.len()];
                set.evaluate_values(values).effect == ipe_nostd::Effect::Allow
            }),
        },
    ]
}

fn load(
    args: &[String],
    options: ipe_host::EngineOptions,
) -> anyhow::Result<(PolicyEngine, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed");
    let requests = args
        .get(1)
        .map_or_else(|| root.join("requests.jsonl"), PathBuf::from);
    let engine = match args.first() {
        Some(path) => PolicyEngine::from_file_with_options(path, options)
            .with_context(|| format!("loading `{path}`"))?,
        None => {
            let program = ipe_compile::compile_paths(&[root])?;
            PolicyEngine::with_options(ipe_compile::lower::lower(&program)?.bytes, options)?
        }
    };
    Ok((engine, requests))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (engine, requests) = load(&args, ipe_host::EngineOptions::interpreter())?;
    let text = std::fs::read_to_string(&requests)
        .with_context(|| format!("reading `{}`", requests.display()))?;
    let json: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(!json.is_empty(), "no requests in `{}`", requests.display());
    let set = engine.load_full();
    // The stream lives for the whole program: leak it so phases can borrow it freely.
    let arena: &'static Bump = Box::leak(Box::new(Bump::new()));
    let json: &'static [String] = Box::leak(json.into_boxed_slice());
    let mut values = Vec::new();
    for j in json {
        values.push(set.parse_json(j, arena)?);
    }
    let stream: &'static Stream = Box::leak(Box::new(Stream {
        json: json.to_vec(),
        values,
    }));
    println!(
        "bundle: {} policies ({} indexed), {} requests, {ROUNDS} evaluations per phase",
        set.policy_count(),
        set.indexed_policies(),
        stream.json.len()
    );
    for mut phase in phases(stream) {
        // Warm up, then measure.
        for i in 0..stream.json.len() * 10 {
            std::hint::black_box((phase.run)(&set, i));
        }
        let start = Instant::now();
        let mut allowed = 0usize;
        for i in 0..ROUNDS {
            allowed += usize::from(std::hint::black_box((phase.run)(&set, i)));
        }
        let per = start.elapsed() / ROUNDS as u32;
        println!(
            "  {:<36} {:>8.1} ns/decision  ({allowed} allowed)",
            phase.name,
            per.as_secs_f64() * 1e9
        );
    }
    let swap_start = Instant::now();
    let prepared = ipe_host::Prepared::new(set.bundle_bytes().to_vec())?;
    let built = swap_start.elapsed();
    let publish_start = Instant::now();
    let version = engine.publish(prepared)?;
    let published: Duration = publish_start.elapsed();
    println!(
        "swap to version {version}: verify+index {:.1} µs, publish {:.2} µs",
        built.as_secs_f64() * 1e6,
        published.as_secs_f64() * 1e6
    );
    #[cfg(feature = "jit")]
    jit_phases(&args, stream)?;
    eprint!("{}", set.stats().table(5));
    Ok(())
}

/// The stream through an engine with the default adaptive tiering (baseline after 100
/// evaluations of a policy, optimized after 10,000, compiled on a background thread).
#[cfg(feature = "jit")]
fn jit_phases(args: &[String], stream: &'static Stream) -> anyhow::Result<()> {
    let (engine, _) = load(args, ipe_host::EngineOptions::default())?;
    let set = engine.load_full();
    let measure = |rounds: usize| {
        let start = Instant::now();
        for i in 0..rounds {
            let values = stream.values[i % stream.values.len()];
            std::hint::black_box(set.evaluate_values(std::hint::black_box(values)));
        }
        start.elapsed().as_secs_f64() * 1e9 / rounds as f64
    };
    // Interpreter phase: the first 90 requests (below the baseline threshold of 100).
    let interp_rounds = 90;
    let interp_ns = measure(interp_rounds);
    let before = set.stats().jit;
    // Run past both thresholds (100 and 10,000 evaluations per policy), then wait for the
    // background compiler.
    measure(10_000);
    let wait = Instant::now();
    let idle = engine.wait_for_jit(Duration::from_secs(30));
    let waited = wait.elapsed();
    let jit_ns = measure(ROUNDS);
    // A long interpreter phase on an interpreter-only engine, for a steadier reference.
    let interp_long = {
        let (reference, _) = load(args, ipe_host::EngineOptions::interpreter())?;
        let r = reference.load_full();
        let start = Instant::now();
        for i in 0..ROUNDS {
            let values = stream.values[i % stream.values.len()];
            std::hint::black_box(r.evaluate_values(std::hint::black_box(values)));
        }
        start.elapsed().as_secs_f64() * 1e9 / ROUNDS as f64
    };
    let s = set.stats().jit;
    println!(
        "adaptive tiering through PolicyEngine (prebuilt contexts, {} policies):",
        set.policy_count()
    );
    println!(
        "  {:<36} {:>8.1} ns/decision  (first {interp_rounds} requests; {} compiled before)",
        "interpreter phase", interp_ns, before.compiled
    );
    println!(
        "  {:<36} {:>8.1} ns/decision  ({ROUNDS} requests, interpreter-only engine)",
        "interpreter, steady state", interp_long
    );
    println!(
        "  waited {:.3} ms for compilation after 10,090 requests (drained: {idle})",
        waited.as_secs_f64() * 1e3
    );
    println!(
        "  {:<36} {:>8.1} ns/decision  ({} baseline, {} optimized)",
        "JIT phase", jit_ns, s.baseline, s.optimized
    );
    println!(
        "  speedup: {:.2}x (steady-state interpreter / JIT)",
        interp_long / jit_ns
    );
    println!(
        "  compile: {} batches, {} policies, {:.1} µs/policy, {} failures",
        s.batches,
        s.compiled,
        s.compile_micros as f64 / s.compiled.max(1) as f64,
        s.failures
    );
    Ok(())
}
