use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ipe_host::{CodeTier, EngineOptions, JitTier, PolicyEngine};
use ipe_nostd::Effect;
use ipe_testgen::backend::{check_cases, Backend, Host, Reference};
use ipe_testgen::corpus::CompiledFile;

use crate::common;

/// The forced tiers every corpus case runs through.
fn forced() -> [(&'static str, EngineOptions); 3] {
    [
        ("interpreter", EngineOptions::interpreter()),
        ("baseline JIT", EngineOptions::jit_all(JitTier::Baseline)),
        ("optimized JIT", EngineOptions::jit_all(JitTier::Optimized)),
    ]
}

/// One corpus file in every forced tier: the host engine agrees with the reference (and the
/// expectations) on every case, and with the JIT every policy compiles.
fn every_forced_tier_agrees_with_the_reference(file: &CompiledFile) {
    let mut backends = Vec::new();
    for (name, opts) in forced() {
        let host = Host::new(name, &file.bytes, opts).expect("engine loads");
        let set = host.engine().load();
        if cfg!(feature = "jit") && name != "interpreter" {
            let s = set.stats();
            assert_eq!(
                (s.jit.compiled, s.jit.failures),
                (set.policy_count() as u64, 0),
                "{}: {name}: every policy compiles",
                file.id
            );
        }
        backends.push(host);
    }
    let reference = Reference(&file.program);
    let mut all: Vec<&dyn Backend> = vec![&reference];
    all.extend(backends.iter().map(|h| h as &dyn Backend));
    check_cases(file, &all);
}

/// Every corpus file with cases in every forced tier, one test each.
mod every_corpus_file_in_every_tier {
    ipe_testgen::corpus_tests!(cases: super::every_forced_tier_agrees_with_the_reference);
}

/// Adaptive mode: interpreted below the threshold, baseline after it, optimized after the
/// second one, with the interpreter's decisions throughout.
#[cfg(feature = "jit")]
#[test]
fn adaptive_mode_promotes_hot_policies_with_identical_decisions() {
    let bytes = common::bundle_dir("examples/seed");
    let requests = common::seed_requests();
    let interp =
        PolicyEngine::with_options(bytes.clone(), EngineOptions::interpreter()).expect("loads");
    let engine =
        PolicyEngine::with_options(bytes, EngineOptions::adaptive(100, 1_000)).expect("loads");
    let (iset, set) = (interp.load_full(), engine.load_full());
    let mut evaluated = 0usize;
    let mut run = |n: usize| {
        for i in 0..n {
            let text = &requests[(evaluated + i) % requests.len()];
            let want = iset
                .report(&iset.evaluate_json(text).expect("valid"))
                .to_json();
            let got = set
                .report(&set.evaluate_json(text).expect("valid"))
                .to_json();
            assert_eq!(got, want, "request {text}");
        }
        evaluated += n;
    };
    // The seed's one policy is a candidate of every request.
    run(99);
    assert_eq!(set.evaluations(0), 99);
    assert!(engine.wait_for_jit(std::time::Duration::from_secs(60)));
    assert_eq!(set.code_tier(0), CodeTier::Interpreter, "not hot yet");
    run(1);
    assert!(
        engine.wait_for_jit(std::time::Duration::from_secs(60)),
        "baseline compile"
    );
    assert_eq!(set.code_tier(0), CodeTier::Baseline);
    run(500);
    assert_eq!(set.code_tier(0), CodeTier::Baseline);
    run(500);
    assert!(
        engine.wait_for_jit(std::time::Duration::from_secs(60)),
        "optimized compile"
    );
    assert_eq!(set.code_tier(0), CodeTier::Optimized);
    run(200);
    let s = engine.stats();
    assert_eq!(
        (s.jit.optimized, s.jit.failures, s.jit.compiled),
        (1, 0, 2),
        "{:?}",
        s.jit
    );
    assert_eq!(s.policies[0].code, CodeTier::Optimized);
    assert_eq!(s.policies[0].evaluations, 1_300);
}

/// Adaptive promotion on a many-policy bundle from several threads: every policy that got
/// hot is compiled, decisions never change.
#[cfg(feature = "jit")]
#[test]
fn adaptive_mode_compiles_hot_policies_in_batches_from_many_threads() {
    let bytes = common::many_policies(200);
    let interp = Arc::new(
        PolicyEngine::with_options(bytes.clone(), EngineOptions::interpreter()).expect("loads"),
    );
    let engine = Arc::new(
        PolicyEngine::with_options(bytes, EngineOptions::adaptive(20, 150)).expect("loads"),
    );
    let request = |i: usize| {
        format!(
            r#"{{"kind":"k{}","env":"stage","replicas":{},"risk":"low","approvals":[{{"role":"lead-{}","team":"x"}}]}}"#,
            i % 40,
            i % 20,
            i % 7
        )
    };
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let (engine, interp) = (Arc::clone(&engine), Arc::clone(&interp));
            std::thread::spawn(move || {
                for i in 0..3_000 {
                    let text = request(i * 3 + t);
                    let a = engine.evaluate_json(&text).expect("valid");
                    let b = interp.evaluate_json(&text).expect("valid");
                    assert_eq!(a, b, "request {text}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("evaluating thread");
    }
    assert!(engine.wait_for_jit(std::time::Duration::from_secs(60)));
    let s = engine.stats();
    let hot = s.policies.iter().filter(|p| p.evaluations >= 150).count();
    assert!(hot > 0);
    assert_eq!(s.jit.optimized, hot, "{:?}", s.jit);
    assert_eq!(s.jit.failures, 0);
    assert!(
        s.jit.batches < s.jit.compiled,
        "batches hold several policies: {:?}",
        s.jit
    );
    for i in 0..500 {
        let text = request(i);
        assert_eq!(
            engine.evaluate_json(&text).expect("valid"),
            interp.evaluate_json(&text).expect("valid")
        );
    }
}

/// Readers against swaps between two bundles, every version compiled at publication.
fn swap_stress(opts: EngineOptions, swaps: u64) {
    const READERS: usize = 3;
    let (a, b) = (common::bundle(common::FREEZE), common::bundle(common::OPEN));
    let engine = Arc::new(PolicyEngine::with_options(a.clone(), opts).expect("loads"));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let engine = Arc::clone(&engine);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let (mut seen_a, mut seen_b, mut total) = (0u64, 0u64, 0u64);
                while !stop.load(Ordering::Relaxed) || total < 1_000 {
                    let set = engine.load();
                    let d = set
                        .evaluate_json(r#"{"kind":"deploy"}"#)
                        .expect("never fails during a swap");
                    total += 1;
                    let name = set.bundle().policy(d.matched()[0]).name;
                    if set.version() % 2 == 1 {
                        assert_eq!((d.effect, name), (Effect::Deny, "Freeze"));
                        seen_a += 1;
                    } else {
                        assert_eq!((d.effect, name), (Effect::Allow, "Open"));
                        seen_b += 1;
                    }
                }
                (seen_a, seen_b, total)
            })
        })
        .collect();
    for i in 0..swaps {
        let bytes = if i % 2 == 0 { b.clone() } else { a.clone() };
        assert_eq!(engine.swap(bytes).expect("valid bundle"), i + 2);
        if cfg!(feature = "jit") {
            if let ipe_host::TierMode::JitAll(_) = opts.tier {
                assert_ne!(engine.load().code_tier(0), CodeTier::Interpreter);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for r in readers {
        let (seen_a, seen_b, n) = r.join().expect("reader thread");
        assert_eq!(seen_a + seen_b, n, "every decision matched one version");
        total += n;
    }
    assert!(total >= (READERS as u64) * 1_000);
    assert_eq!(engine.version(), swaps + 1);
}

#[test]
fn swaps_with_every_version_jit_compiled_keep_decisions_consistent() {
    swap_stress(EngineOptions::jit_all(JitTier::Baseline), 1_000);
    swap_stress(EngineOptions::jit_all(JitTier::Optimized), 300);
}

#[test]
fn swaps_with_adaptive_tiering_keep_decisions_consistent() {
    // Low thresholds: versions get promoted (and dropped) while readers run.
    swap_stress(EngineOptions::adaptive(5, 50), 1_000);
}

/// Resident set size in KiB (`/proc/self/statm`), if the platform has it.
#[cfg(feature = "jit")]
fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

/// Thousands of versions, each with native code, swapped in and dropped: their code is freed
/// with them, so memory stays flat. Also versions that share most of their code (issue #15):
/// each runs the first version's code for its unchanged policies and its own for the changed
/// one, freed with the last version using it.
#[cfg(feature = "jit")]
#[test]
fn swapping_jit_compiled_versions_thousands_of_times_does_not_grow_memory() {
    let (a, b) = (
        common::bundle_dir("examples/seed"),
        common::many_policies(20),
    );
    let requests = common::seed_requests();
    let forced = PolicyEngine::with_options(a.clone(), EngineOptions::jit_all(JitTier::Baseline))
        .expect("loads");
    let adaptive = PolicyEngine::with_options(a.clone(), EngineOptions::adaptive(2, 1_000_000))
        .expect("loads");
    let (c, d) = (
        common::bundle(&crate::reuse::source(None)),
        common::bundle(&crate::reuse::source(Some(3))),
    );
    let reusing = PolicyEngine::with_options(c.clone(), EngineOptions::jit_all(JitTier::Baseline))
        .expect("loads");
    let round = |n: usize| {
        for i in 0..n {
            let bytes = if i % 2 == 0 { b.clone() } else { a.clone() };
            forced.swap(bytes.clone()).expect("valid");
            assert_eq!(forced.stats().jit.failures, 0);
            if i % 4 == 3 {
                // Odd versions run `c`, even ones `d`: each swap changes one policy.
                let next = if reusing.version() % 2 == 1 {
                    d.clone()
                } else {
                    c.clone()
                };
                reusing.swap(next).expect("valid");
                let s = reusing.stats().jit;
                assert_eq!((s.compiled, s.failures), (1, 0));
                assert_eq!(s.reused as usize, s.baseline - 1);
            }
            if i % 4 == 1 {
                adaptive.swap(bytes).expect("valid");
                let set = adaptive.load();
                for r in requests.iter().take(3) {
                    set.evaluate_json(r).expect("valid");
                }
                assert!(adaptive.wait_for_jit(std::time::Duration::from_secs(60)));
                assert_eq!(set.code_tier(0), CodeTier::Baseline);
            }
        }
    };
    round(300);
    let Some(before) = rss_kib() else {
        return;
    };
    round(3_000);
    let after = rss_kib().unwrap_or(before);
    let grown = after.saturating_sub(before);
    eprintln!("RSS growth over 3,000 JIT-compiled swaps: {grown} KiB");
    // A leaked module costs at least a page of code and one of data: 3,000+ leaks would be
    // 24 MiB or more.
    assert!(grown < 8 * 1024, "RSS grew by {grown} KiB");
}

/// CPU time of the calling thread in nanoseconds (`/proc/thread-self/schedstat`), if the
/// platform has it: unlike wall time, it does not count time other processes hold the cores.
#[cfg(feature = "jit")]
fn thread_cpu_nanos() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Compile time per policy on a 1,000-policy bundle, one batch per tier, wall and thread CPU
/// time (printed, never asserted):
/// `cargo test --release -p ipe-host --test main compile_time -- --nocapture`.
#[cfg(feature = "jit")]
#[test]
fn compile_time_per_policy_on_a_thousand_policy_bundle() {
    let bytes = common::many_policies(1_000);
    let bundle = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
    for tier in [JitTier::Baseline, JitTier::Optimized] {
        // Warm the per-process caches (ISA, layout), then measure.
        let _ = ipe_host::jit::compile_policies(&bundle, &[0], tier).expect("compiles");
        let cpu = thread_cpu_nanos();
        let set = ipe_host::jit::compile_bundle(&bundle, tier).expect("compiles");
        let cpu = thread_cpu_nanos()
            .zip(cpu)
            .map(|(b, a)| b.saturating_sub(a));
        assert_eq!(set.len(), 1_000);
        eprintln!(
            "{tier:?}: 1,000 policies in one module: wall {:.1} µs/policy, thread CPU {} µs/policy",
            set.compile_time().as_secs_f64() * 1e6 / 1_000.0,
            cpu.map_or("?".to_owned(), |c| format!(
                "{:.1}",
                c as f64 / 1e3 / 1_000.0
            ))
        );
        let cpu = thread_cpu_nanos();
        let start = std::time::Instant::now();
        for id in 0..100u16 {
            let one = ipe_host::jit::compile_policies(&bundle, &[id], tier).expect("compiles");
            assert_eq!(one.len(), 1);
        }
        let cpu = thread_cpu_nanos()
            .zip(cpu)
            .map(|(b, a)| b.saturating_sub(a));
        eprintln!(
            "{tier:?}: one-policy batches: wall {:.1} µs/policy, thread CPU {} µs/policy",
            start.elapsed().as_secs_f64() * 1e6 / 100.0,
            cpu.map_or("?".to_owned(), |c| format!("{:.1}", c as f64 / 1e3 / 100.0))
        );
    }
}

/// Every tier mode builds with and without the `jit` feature (the engine has no feature
/// switches of its own): with it, a hot or forced policy runs native code; without it, every
/// mode runs the interpreter, reports no JIT counters and never waits for a compiler.
#[test]
fn issue12_every_tier_mode_runs_with_and_without_the_jit_feature() {
    let bytes = common::bundle_dir("examples/seed");
    let requests = common::seed_requests();
    let interp =
        PolicyEngine::with_options(bytes.clone(), EngineOptions::interpreter()).expect("loads");
    let iset = interp.load_full();
    for (opts, native) in [
        (
            EngineOptions::jit_all(JitTier::Baseline),
            CodeTier::Baseline,
        ),
        (
            EngineOptions::jit_all(JitTier::Optimized),
            CodeTier::Optimized,
        ),
        (EngineOptions::adaptive(1, u64::MAX), CodeTier::Baseline),
    ] {
        let engine = PolicyEngine::with_options(bytes.clone(), opts).expect("loads");
        for text in &requests {
            let want = iset.report(&iset.evaluate_json(text).expect("valid"));
            let set = engine.load();
            let got = set.report(&set.evaluate_json(text).expect("valid"));
            assert_eq!(got, want, "{opts:?}: request {text}");
        }
        assert!(engine.wait_for_jit(std::time::Duration::from_secs(60)));
        let stats = engine.stats();
        let code = stats.policies.first().map(|p| p.code);
        if cfg!(feature = "jit") {
            assert_eq!(code, Some(native), "{opts:?}");
            assert_eq!(stats.jit.compiled, 1, "{opts:?}");
        } else {
            assert_eq!(code, Some(CodeTier::Interpreter), "{opts:?}");
            assert_eq!(stats.jit, ipe_host::JitStats::default(), "{opts:?}");
        }
        assert_eq!(engine.load().code_tier(0), code.unwrap_or_default());
    }
}
