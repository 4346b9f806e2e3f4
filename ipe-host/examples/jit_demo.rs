//! Loads the example bundle, evaluates a stream of requests and prints the average latency of
//! each evaluation phase.
//!
//! ```text
//! cargo run --release -p ipe-host --example jit_demo [BUNDLE.ipeb] [REQUESTS.jsonl]
//! ```
//!
//! Without arguments it compiles `examples/seed` (through ipe-compile, a dev-dependency) and
//! replays `examples/seed/requests.jsonl`. Each phase is one entry of `phases()`: the
//! interpreter from JSON text and from prebuilt slot values today; the JIT phases are added as
//! further entries.

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
        // JIT phases (baseline, optimized, tiered) go here.
    ]
}

fn load(args: &[String]) -> anyhow::Result<(PolicyEngine, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed");
    let requests = args
        .get(1)
        .map_or_else(|| root.join("requests.jsonl"), PathBuf::from);
    let engine = match args.first() {
        Some(path) => PolicyEngine::from_file(path).with_context(|| format!("loading `{path}`"))?,
        None => {
            let program = ipe_compile::compile_paths(&[root])?;
            PolicyEngine::from_bytes(ipe_compile::lower::lower(&program)?.bytes)?
        }
    };
    Ok((engine, requests))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (engine, requests) = load(&args)?;
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
    let version = engine.publish(prepared);
    let published: Duration = publish_start.elapsed();
    println!(
        "swap to version {version}: verify+index {:.1} µs, publish {:.2} µs",
        built.as_secs_f64() * 1e6,
        published.as_secs_f64() * 1e6
    );
    #[cfg(feature = "jit")]
    jit_phases(&set, stream)?;
    eprint!("{}", set.stats().table(5));
    Ok(())
}

/// Per-policy evaluation of the stream: interpreter, then adaptive tiering (compiled in the
/// background after 100 and 10,000 evaluations per policy), with measured figures.
#[cfg(feature = "jit")]
fn jit_phases(set: &PolicySet, stream: &'static Stream) -> anyhow::Result<()> {
    use ipe_host::jit::tiering::{TierMode, TierOptions, Tiered};
    let bundle = set.bundle();
    let bytes: std::sync::Arc<[u8]> = set.bundle_bytes().into();
    let ids: Vec<u16> = (0..bundle.policy_count())
        .filter_map(|i| u16::try_from(i).ok())
        .collect();
    let measure = |t: &Tiered, rounds: usize| {
        let start = Instant::now();
        for i in 0..rounds {
            let values = stream.values[i % stream.values.len()];
            for &id in &ids {
                std::hint::black_box(t.eval(bundle, id, std::hint::black_box(values)));
            }
        }
        start.elapsed().as_secs_f64() * 1e9 / rounds as f64
    };
    let interp = Tiered::new(
        bytes.clone(),
        TierOptions {
            mode: TierMode::InterpreterOnly,
            ..TierOptions::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    measure(&interp, ROUNDS / 10);
    let interp_ns = measure(&interp, ROUNDS);
    let tiered =
        Tiered::new(bytes, TierOptions::default()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    // Run past both thresholds (100 and 10,000 evaluations), then wait for the compiler.
    measure(&tiered, 10_001);
    let wait = Instant::now();
    let idle = tiered.wait_idle(Duration::from_secs(30));
    let waited = wait.elapsed();
    measure(&tiered, ROUNDS / 10);
    let jit_ns = measure(&tiered, ROUNDS);
    let s = tiered.stats();
    println!(
        "per-policy evaluation of every policy, prebuilt context ({} policies):",
        ids.len()
    );
    println!("  {:<36} {:>8.1} ns/request", "interpreter", interp_ns);
    println!(
        "  waited {:.2} ms for compilation (drained: {idle}); {} batches, {} policies compiled, {:.1} µs/policy, {} failures",
        waited.as_secs_f64() * 1e3,
        s.batches,
        s.compiled,
        s.compile_micros as f64 / s.compiled.max(1) as f64,
        s.failures
    );
    println!(
        "  {:<36} {:>8.1} ns/request  ({} baseline, {} optimized)",
        "JIT (tiered)", jit_ns, s.baseline, s.optimized
    );
    println!("  speedup: {:.2}x", interp_ns / jit_ns);
    Ok(())
}
