//! Where a decision's latency tail comes from (issue #15): the same timed loop with and without
//! a decision in it, on one or more threads, with each thread's page faults and context switches
//! and the machine's interrupts over the run.
//!
//! `tail <what> <threads> <seconds> [workload]`, `what` one of:
//! - `empty`: two `Instant::now()` back to back, nothing between (the machine's own tail);
//! - `spin`: a fixed busy loop about as long as a decision (the machine's tail at that length);
//! - `json`: `load` + `evaluate_json` of the workload's `deny` request on a `PolicyEngine`
//!   (interpreter tier), as the `latency` bench times it, nothing swapped;
//! - `values`: `evaluate_values` of the prebuilt request (no JSON parse);
//! - `first`: swaps the set in, then times the first five decisions after each swap on one
//!   thread (the cold-cache cost of a new version; `threads` is ignored).
//!
//! ```sh
//! cargo build --profile bench -p ipe-benches --no-default-features --example tail
//! target/release/examples/tail empty 2 3; target/release/examples/tail json 2 3 set/10000
//! ```
//!
//! Prints one line per thread and a total: p50/p99/p99.9/max, the number of samples over 2 µs
//! and 10 µs per second, and the thread's minor faults and voluntary / involuntary context
//! switches (Linux `/proc/thread-self`).
//!
//! Each thread records its samples in an HDR histogram, as the `latency` bench does. With
//! `IPE_TAIL_STORE=vec` it stores every sample in a preallocated `Vec` instead (as both did
//! before session 13), and prints how often a slow sample (over 1.3x the median, under 2 µs)
//! follows the previous one by exactly 16 samples, one 64-byte line of `u32`s: that `Vec`'s
//! store misses are what slowed one decision in 16.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ipe_host::{EngineOptions, PolicyEngine};

/// Samples kept per thread with `IPE_TAIL_STORE=vec` (the rest are counted, not stored).
const MAX_SAMPLES: usize = 40_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("empty", String::as_str).to_owned();
    let threads: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let workload = args.get(3).map_or("set/10000", String::as_str);
    let def = ipe_benches::by_name(workload);
    let bytes = ipe_benches::ipe_compile(&def.ipe);
    let json = def.case("deny").json.clone();
    let engine = Arc::new(
        PolicyEngine::with_options(bytes.clone(), EngineOptions::interpreter()).expect("loads"),
    );
    if what == "first" {
        first(&engine, &bytes, &json, secs);
        return;
    }
    let irq_before = interrupts();
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, stop, json, what) = (
                Arc::clone(&engine),
                Arc::clone(&stop),
                json.clone(),
                what.clone(),
            );
            std::thread::spawn(move || {
                let arena = bumpalo::Bump::new();
                let values = {
                    let set = engine.load();
                    set.parse_json(&json, &arena).expect("parses")
                };
                // Warm up, and size the spin loop to about one decision (the fastest of ten
                // batches, so a preempted batch does not count).
                let per = (0..10)
                    .map(|_| {
                        let warm = Instant::now();
                        for _ in 0..1_000 {
                            black_box(engine.evaluate_json(&json).expect("evaluates"));
                        }
                        warm.elapsed() / 1_000
                    })
                    .min()
                    .unwrap_or_default();
                let spins =
                    ipe_benches::spin_rounds(u64::try_from(per.as_nanos()).unwrap_or(u64::MAX));
                let store_vec = std::env::var("IPE_TAIL_STORE").is_ok_and(|v| v == "vec");
                let mut hist = ipe_benches::latency_histogram();
                // Touch the buffer now so no page fault lands between two samples.
                let mut samples: Vec<u32> = if store_vec {
                    vec![u32::MAX; MAX_SAMPLES]
                } else {
                    Vec::new()
                };
                samples.clear();
                let before = thread_counts();
                let started = Instant::now();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    match what.as_str() {
                        "empty" => {}
                        "spin" => ipe_benches::spin(spins),
                        "json" => {
                            let set = engine.load();
                            black_box(set.evaluate_json(black_box(&json)).expect("evaluates"));
                        }
                        "values" => {
                            let set = engine.load();
                            black_box(set.evaluate_values(black_box(values)));
                        }
                        other => panic!("unknown mode {other}"),
                    }
                    let nanos = start.elapsed().as_nanos();
                    n += 1;
                    if !store_vec {
                        hist.saturating_record(u64::try_from(nanos).unwrap_or(u64::MAX));
                    } else if samples.len() < MAX_SAMPLES {
                        samples.push(u32::try_from(nanos).unwrap_or(u32::MAX));
                    }
                }
                let took = started.elapsed();
                let after = thread_counts();
                let delta: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
                if store_vec {
                    println!("{what} thread={t} {}", line_period(&samples));
                    for &s in &samples {
                        hist.saturating_record(u64::from(s));
                    }
                }
                (t, hist, n, took, delta)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let mut all = ipe_benches::latency_histogram();
    let mut total = 0u64;
    for h in handles {
        let (t, samples, n, took, delta) = h.join().expect("thread");
        total += n;
        println!(
            "{what} {workload} thread={t} {} minflt={} vcsw={} ivcsw={}",
            summary(&samples, took),
            delta[0],
            delta[1],
            delta[2]
        );
        all.add(&samples).expect("same bounds");
    }
    let irq_after = interrupts();
    let irq: Vec<String> = irq_after
        .iter()
        .map(|(name, v)| {
            let b = irq_before
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, b)| *b);
            format!("{name}={}", v - b)
        })
        .collect();
    println!(
        "{what} {workload} all threads={threads} decisions={total} {} irq: {}",
        summary(&all, Duration::from_secs_f64(secs * threads as f64)),
        irq.join(" ")
    );
}

/// Quantiles and the rate of slow samples.
fn summary(h: &Histogram<u64>, took: Duration) -> String {
    let q = |p: f64| h.value_at_quantile(p);
    let over = |ns: u64| {
        h.iter_recorded()
            .filter(|v| v.value_iterated_to() > ns)
            .map(|v| v.count_at_value())
            .sum::<u64>()
    };
    let per_s = |c: u64| c as f64 / took.as_secs_f64();
    format!(
        "n={} p50={} p99={} p99.9={} p99.99={} max={} over2us/s={:.0} over10us/s={:.0} over2us={:.4}%",
        h.len(),
        q(0.5),
        q(0.99),
        q(0.999),
        q(0.9999),
        h.max(),
        per_s(over(2_000)),
        per_s(over(10_000)),
        100.0 * over(2_000) as f64 / h.len().max(1) as f64,
    )
}

/// How the slow samples (over 1.3x the median, under 2 µs) of one thread's sequence are
/// spaced: their share, and the share of them that follow the previous one by exactly 16.
fn line_period(samples: &[u32]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let p50 = f64::from(sorted.get(sorted.len() / 2).copied().unwrap_or(0));
    let slow: Vec<usize> = samples
        .iter()
        .enumerate()
        .filter(|&(_, &s)| f64::from(s) > 1.3 * p50 && s < 2_000)
        .map(|(i, _)| i)
        .collect();
    let by16 = slow.windows(2).filter(|w| w[1] - w[0] == 16).count();
    format!(
        "slow={:.2}% of samples, gap of 16 between slow samples: {:.1}% of them",
        100.0 * slow.len() as f64 / samples.len().max(1) as f64,
        100.0 * by16 as f64 / slow.len().max(1) as f64,
    )
}

/// This thread's minor faults, voluntary and involuntary context switches.
fn thread_counts() -> [i64; 3] {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis: state is field 3, minflt field 10.
    let minflt = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(7))
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1);
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(-1)
    };
    [
        minflt,
        field("voluntary_ctxt_switches:"),
        field("nonvoluntary_ctxt_switches:"),
    ]
}

/// The machine's interrupt counts by kind, summed over CPUs (Linux `/proc/interrupts`).
fn interrupts() -> Vec<(String, i64)> {
    let text = std::fs::read_to_string("/proc/interrupts").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(':')?;
            let sum: i64 = rest
                .split_whitespace()
                .map_while(|w| w.parse::<i64>().ok())
                .sum();
            Some((name.to_owned(), sum))
        })
        .filter(|(n, _)| ["LOC", "RES", "CAL", "TLB"].contains(&n.as_str()))
        .collect()
}

/// Times the first decisions on each newly swapped-in version, on this thread alone.
fn first(engine: &PolicyEngine, bytes: &[u8], json: &str, secs: f64) {
    let rounds = (secs * 10.0).max(4.0) as usize;
    let mut by_position: Vec<Vec<u32>> = vec![Vec::new(); 5];
    for _ in 0..rounds {
        engine.swap(bytes.to_vec()).expect("swaps");
        for slot in by_position.iter_mut() {
            let start = Instant::now();
            let set = engine.load();
            black_box(set.evaluate_json(black_box(json)).expect("evaluates"));
            drop(set);
            slot.push(u32::try_from(start.elapsed().as_nanos()).unwrap_or(u32::MAX));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for (i, v) in by_position.iter_mut().enumerate() {
        v.sort_unstable();
        println!(
            "first decision #{} after a swap: median={} max={} (rounds={rounds})",
            i + 1,
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
}
