//! `latency/`: per-decision latency of `ipe_host::PolicyEngine` while its policy set is
//! replaced every 10 ms (issue #15), for the interpreter, JIT-all (baseline) and adaptive
//! tiers, on versions of 1,000 and 10,000 policies, with 2 reader threads.
//!
//! Divan reports medians; this needs the tail, so it is a plain harness: every decision of the
//! readers is timed (`Instant` around `load` + `evaluate_json`) into an HDR histogram,
//! and the run prints one line per case:
//!
//! ```text
//! latency <tier> <workload> p50_ns=… p99_ns=… p999_ns=… max_ns=… over_1ms=… decisions=… swaps=…
//! ```
//!
//! plus, to tell where a tail comes from (issue #15), `near_swap=…` (samples that started
//! within 1 ms after a swap was published), `p999_away_ns=…` (p99.9 of the other samples) and
//! `p999_first_ns=…` (p99.9 of each reader's first decision on a new version). A control case
//! with no writer at all (`writer=none`, `swaps=0`) runs the same readers on the same engine:
//! its tail is the machine's and the reader's own, with nothing being swapped.
//!
//! After each control case, a busy loop as long as its median decision (a chain of
//! multiplications, no memory) is timed the same way on the same number of threads
//! (`control=busy`): the tail the machine gives any work of that length.
//!
//! `benches/report.py` turns these lines into BENCHMARKS.md's latency table. A writer thread swaps
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
//! or `publish`; `IPE_LATENCY_READERS`: reader threads, default 2).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ipe_host::{EngineOptions, JitTier, PolicyEngine, Prepared};

const WORKLOADS: &[&str] = &["set/1000", "set/10000"];
/// Reader threads: 2, or `IPE_LATENCY_READERS` (1 leaves a core to the writer on a 2-core
/// machine, which tells the writer's preemption of a reader from the engine's own tail).
fn readers() -> usize {
    std::env::var("IPE_LATENCY_READERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2)
}
const SWAP_EVERY: Duration = Duration::from_millis(10);

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
            let d = Duration::from_secs_f64(secs);
            println!("{}", run(tier, w, &bytes, &json, opts, d, true).line);
            if wanted(&format!("{tier} {w} noswap")) {
                let control = run(tier, w, &bytes, &json, opts, d, false);
                println!("{}", control.line);
                println!("{}", busy(tier, w, control.p50_ns, d));
            }
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
        engine
            .publish(black_box(prepared))
            .expect("an unsigned engine publishes any prepared set");
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

/// One case's harness line, and its median for the busy-loop control that follows it.
struct Case {
    line: String,
    p50_ns: u64,
}

fn run(
    tier: &str,
    workload: &str,
    bytes: &[u8],
    json: &str,
    opts: EngineOptions,
    duration: Duration,
    swapping: bool,
) -> Case {
    let engine = Arc::new(PolicyEngine::with_options(bytes.to_vec(), opts).expect("loads"));
    let expected = engine
        .evaluate_json(json)
        .expect("the request evaluates")
        .effect;
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    // When the last swap was published, in nanoseconds since `epoch` (0: none yet).
    let epoch = Instant::now();
    let published = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..readers())
        .map(|_| {
            let (engine, stop, json, published) = (
                Arc::clone(&engine),
                Arc::clone(&stop),
                json.to_owned(),
                Arc::clone(&published),
            );
            std::thread::spawn(move || {
                let mut samples = Samples::new();
                let mut version = engine.version();
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    let set = engine.load();
                    let d = set.evaluate_json(black_box(&json)).expect("evaluates");
                    let first = set.version() != version;
                    version = set.version();
                    drop(set);
                    let nanos = start.elapsed().as_nanos();
                    assert_eq!(d.effect, expected, "decisions never change under swaps");
                    black_box(d);
                    let last = published.load(Ordering::Relaxed);
                    let since = (start - epoch).as_nanos().saturating_sub(u128::from(last));
                    let near = last != 0 && since < NEAR_SWAP.as_nanos();
                    samples.push(u64::try_from(nanos).unwrap_or(u64::MAX), near, first);
                }
                samples
            })
        })
        .collect();
    let writer = swapping.then(|| {
        let (engine, stop, swaps, bytes, published) = (
            Arc::clone(&engine),
            Arc::clone(&stop),
            Arc::clone(&swaps),
            bytes.to_vec(),
            Arc::clone(&published),
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
                let at = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
                published.store(at.max(1), Ordering::Relaxed);
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    });
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    if let Some(w) = writer {
        w.join().expect("writer");
    }
    let mut all = Samples::new();
    for r in readers {
        all.extend(&r.join().expect("reader"));
    }
    let over = all.over_1ms;
    let near = all.near;
    let all_q = |q| all.all.value_at_quantile(q);
    let stats = engine.stats();
    let p50 = all_q(0.5);
    let line = format!(
        "latency {tier} {workload} p50_ns={p50} p99_ns={} p999_ns={} max_ns={} over_1ms={over} \
         decisions={} swaps={} retired={} freed={} near_swap={near} p999_away_ns={} \
         p999_first_ns={} writer={}",
        all_q(0.99),
        all_q(0.999),
        all.all.max(),
        all.decisions,
        swaps.load(Ordering::Relaxed),
        stats.retired_versions,
        stats.freed_versions,
        all.away.value_at_quantile(0.999),
        all.first.value_at_quantile(0.999),
        if swapping { "swapping" } else { "none" },
    );
    Case { line, p50_ns: p50 }
}

/// A sample "near a swap" started within this long after a swap was published.
const NEAR_SWAP: Duration = Duration::from_millis(1);

/// One reader's (or all readers') timed decisions, split by where they fell, in HDR
/// histograms (three significant digits): recording one is a few instructions on a bucket that
/// stays in cache. A `Vec` of every sample, as this harness kept before, took a cache miss on
/// every 16th store (a new line), and that miss slowed the decision timed after it: one
/// decision in 16 ran 60–130 ns slower, which was the p95–p99 (issue #15, session 13).
struct Samples {
    /// Every decision's time, in nanoseconds.
    all: Histogram<u64>,
    /// Those that started more than [`NEAR_SWAP`] after the last swap (or with none yet).
    away: Histogram<u64>,
    /// Each reader's first decision on a version it had not seen.
    first: Histogram<u64>,
    /// Decisions that started within [`NEAR_SWAP`] after a swap.
    near: u64,
    /// Every decision.
    decisions: u64,
    /// Decisions that took over 1 ms.
    over_1ms: u64,
}

impl Samples {
    fn new() -> Samples {
        let h = ipe_benches::latency_histogram;
        Samples {
            all: h(),
            away: h(),
            first: h(),
            near: 0,
            decisions: 0,
            over_1ms: 0,
        }
    }

    fn push(&mut self, nanos: u64, near: bool, first: bool) {
        self.decisions += 1;
        self.over_1ms += u64::from(nanos > 1_000_000);
        self.all.saturating_record(nanos);
        if near {
            self.near += 1;
        } else {
            self.away.saturating_record(nanos);
        }
        if first {
            self.first.saturating_record(nanos);
        }
    }

    fn extend(&mut self, other: &Samples) {
        self.all.add(&other.all).expect("same bounds");
        self.away.add(&other.away).expect("same bounds");
        self.first.add(&other.first).expect("same bounds");
        self.near += other.near;
        self.decisions += other.decisions;
        self.over_1ms += other.over_1ms;
    }
}

/// The machine's own tail at a decision's length: [`readers`] threads time a busy loop of
/// about `p50_ns` (no memory, no engine) as the readers time decisions.
fn busy(tier: &str, workload: &str, p50_ns: u64, duration: Duration) -> String {
    let rounds = ipe_benches::spin_rounds(p50_ns);
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..readers())
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut samples = Samples::new();
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    ipe_benches::spin(rounds);
                    let nanos = start.elapsed().as_nanos();
                    samples.push(u64::try_from(nanos).unwrap_or(u64::MAX), false, false);
                }
                samples
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut all = Samples::new();
    for t in threads {
        all.extend(&t.join().expect("busy thread"));
    }
    let over = all.over_1ms;
    let q = |p| all.all.value_at_quantile(p);
    format!(
        "latency {tier} {workload} p50_ns={} p99_ns={} p999_ns={} max_ns={} over_1ms={over} \
         decisions={} swaps=0 writer=none control=busy",
        q(0.5),
        q(0.99),
        q(0.999),
        all.all.max(),
        all.decisions,
    )
}
