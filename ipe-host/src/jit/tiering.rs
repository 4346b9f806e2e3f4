//! Tiering: hot policies move from the interpreter to baseline and then optimized native code.
//!
//! [`Tiered`] keeps, per policy, an evaluation counter and an [`AtomicPtr`] to its native code
//! (null: interpreted). When a counter reaches [`TierOptions::baseline_after`] (and later
//! [`TierOptions::optimized_after`]) the policy is queued; a background thread drains the
//! queue in batches, compiles each batch into one [`JitSet`] and publishes the new entry
//! points with a release store. Requests never compile and never wait. A batch that fails to
//! compile is counted in [`TierStats::failures`] and its policies stay interpreted.
//!
//! Every `JitSet` compiled for a `Tiered` is kept until the `Tiered` itself is dropped, so a
//! published pointer is valid as long as the reader holds `&Tiered` (an evaluation in flight
//! may still run baseline code after the optimized code is published).

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ipe_nostd::bundle::PolicyId;
use ipe_nostd::vm::eval_policy_values;
use ipe_nostd::{Bundle, BundleError, Outcome, Value};

use super::{compile_policies, JitSet, Tier};

/// Which code runs the policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierMode {
    /// Interpreter first; hot policies are compiled in the background.
    Adaptive,
    /// The interpreter only (nothing is ever compiled).
    InterpreterOnly,
    /// Every policy compiled at this tier when the [`Tiered`] is created.
    JitAll(Tier),
}

/// Tiering thresholds and mode (the JIT part of the host's engine options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierOptions {
    /// Which code runs the policies.
    pub mode: TierMode,
    /// Evaluations after which a policy is compiled at [`Tier::Baseline`].
    pub baseline_after: u64,
    /// Evaluations after which a policy is recompiled at [`Tier::Optimized`].
    pub optimized_after: u64,
    /// How long the compiler thread waits for more hot policies before compiling a batch.
    pub batch_window: Duration,
}

impl Default for TierOptions {
    fn default() -> Self {
        TierOptions {
            mode: TierMode::Adaptive,
            baseline_after: 100,
            optimized_after: 10_000,
            batch_window: Duration::from_millis(2),
        }
    }
}

/// Counters of the tiering machinery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Policies currently running baseline code.
    pub baseline: usize,
    /// Policies currently running optimized code.
    pub optimized: usize,
    /// Batches compiled.
    pub batches: u64,
    /// Policies whose compilation failed (they stay interpreted).
    pub failures: u64,
    /// Total wall time spent compiling, in microseconds.
    pub compile_micros: u64,
    /// Policies compiled (all tiers).
    pub compiled: u64,
}

// Tier states; 0 (the default) is "interpreted".
const BASELINE: u8 = 1;
const OPTIMIZED: u8 = 2;
const FAILED: u8 = 3;

#[derive(Debug, Default)]
struct PolicyTier {
    count: AtomicU64,
    code: AtomicPtr<u8>,
    tier: AtomicU8,
}

#[derive(Debug)]
struct Inner {
    bytes: Arc<[u8]>,
    slot_count: usize,
    policies: Box<[PolicyTier]>,
    /// Every set compiled for this bundle: alive as long as a published pointer may be used.
    sets: Mutex<Vec<JitSet>>,
    queue: Mutex<Vec<(PolicyId, Tier)>>,
    wake: Condvar,
    pending: AtomicUsize,
    stop: AtomicBool,
    batches: AtomicU64,
    failures: AtomicU64,
    compiled: AtomicU64,
    compile_micros: AtomicU64,
}

/// One bundle's policies with tiered execution (see the module docs).
#[derive(Debug)]
pub struct Tiered {
    inner: Arc<Inner>,
    opts: TierOptions,
    thread: Option<JoinHandle<()>>,
}

impl Inner {
    fn compile(&self, ids: &[PolicyId], tier: Tier) {
        let Ok(bundle) = Bundle::from_bytes(&self.bytes) else {
            self.failures.fetch_add(ids.len() as u64, Ordering::Relaxed);
            return;
        };
        let start = Instant::now();
        let result = compile_policies(&bundle, ids, tier);
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.compile_micros.fetch_add(micros, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        let set = match result {
            Ok(set) => set,
            Err(_) => {
                self.failures.fetch_add(ids.len() as u64, Ordering::Relaxed);
                for &id in ids {
                    if let Some(p) = self.policies.get(usize::from(id)) {
                        if p.code.load(Ordering::Acquire).is_null() {
                            p.tier.store(FAILED, Ordering::Relaxed);
                        }
                    }
                }
                return;
            }
        };
        let level = if tier == Tier::Optimized {
            OPTIMIZED
        } else {
            BASELINE
        };
        for &id in ids {
            if let (Some(p), Some(f)) = (self.policies.get(usize::from(id)), set.entry(id)) {
                // An optimized entry is never replaced by a late baseline one.
                if p.tier.load(Ordering::Relaxed) < level
                    || p.code.load(Ordering::Relaxed).is_null()
                {
                    p.code.store(f as *mut u8, Ordering::Release);
                    p.tier.store(level, Ordering::Relaxed);
                }
            }
        }
        self.compiled.fetch_add(set.len() as u64, Ordering::Relaxed);
        if let Ok(mut sets) = self.sets.lock() {
            sets.push(set);
        }
    }

    /// The compiler thread: waits for work, lets a batch gather, compiles it.
    fn serve(&self, window: Duration) {
        loop {
            let batch = {
                let Ok(mut q) = self.queue.lock() else {
                    return;
                };
                while q.is_empty() && !self.stop.load(Ordering::Acquire) {
                    q = match self.wake.wait(q) {
                        Ok(q) => q,
                        Err(_) => return,
                    };
                }
                if self.stop.load(Ordering::Acquire) {
                    return;
                }
                drop(q);
                std::thread::sleep(window);
                match self.queue.lock() {
                    Ok(mut q) => std::mem::take(&mut *q),
                    Err(_) => return,
                }
            };
            for tier in [Tier::Baseline, Tier::Optimized] {
                let ids: Vec<PolicyId> = batch
                    .iter()
                    .filter(|(_, t)| *t == tier)
                    .map(|(id, _)| *id)
                    .collect();
                if !ids.is_empty() {
                    self.compile(&ids, tier);
                }
            }
            self.pending.fetch_sub(batch.len(), Ordering::AcqRel);
        }
    }
}

impl Tiered {
    /// Tiered execution for the bundle in `bytes` (verified here).
    pub fn new(bytes: Arc<[u8]>, opts: TierOptions) -> Result<Tiered, BundleError> {
        let bundle = Bundle::from_bytes(&bytes)?;
        let n = bundle.policy_count();
        let slot_count = bundle.slot_count();
        let inner = Arc::new(Inner {
            bytes: Arc::clone(&bytes),
            slot_count,
            policies: (0..n).map(|_| PolicyTier::default()).collect(),
            sets: Mutex::new(Vec::new()),
            queue: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            pending: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            batches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            compiled: AtomicU64::new(0),
            compile_micros: AtomicU64::new(0),
        });
        let thread = match opts.mode {
            TierMode::Adaptive => {
                let worker = Arc::clone(&inner);
                let window = opts.batch_window;
                std::thread::Builder::new()
                    .name("ipe-jit".into())
                    .spawn(move || worker.serve(window))
                    .ok()
            }
            TierMode::JitAll(tier) => {
                let ids: Vec<PolicyId> =
                    (0..n).filter_map(|i| PolicyId::try_from(i).ok()).collect();
                inner.compile(&ids, tier);
                None
            }
            TierMode::InterpreterOnly => None,
        };
        Ok(Tiered {
            inner,
            opts,
            thread,
        })
    }

    /// Evaluates policy `id` of `bundle` — which must be the bundle of the bytes this
    /// `Tiered` was created with — over `values`, with native code when it is ready.
    #[inline]
    pub fn eval(&self, bundle: &Bundle<'_>, id: PolicyId, values: &[Value<'_>]) -> Outcome {
        let Some(p) = self.inner.policies.get(usize::from(id)) else {
            return eval_policy_values(bundle, id, values);
        };
        let f = p.code.load(Ordering::Acquire);
        let out = if f.is_null() || values.len() < self.inner.slot_count {
            eval_policy_values(bundle, id, values)
        } else {
            // `f` was published by `Inner::compile` from a set that `self.inner.sets` keeps
            // alive as long as `self`.
            super::run(f as usize, id, values)
        };
        if self.opts.mode == TierMode::Adaptive {
            let n = p.count.fetch_add(1, Ordering::Relaxed) + 1;
            if n == self.opts.baseline_after {
                self.request(id, Tier::Baseline);
            } else if n == self.opts.optimized_after {
                self.request(id, Tier::Optimized);
            }
        }
        out
    }

    #[cold]
    fn request(&self, id: PolicyId, tier: Tier) {
        let i = &self.inner;
        let state = i
            .policies
            .get(usize::from(id))
            .map_or(FAILED, |p| p.tier.load(Ordering::Relaxed));
        if state == FAILED || self.thread.is_none() {
            return;
        }
        if let Ok(mut q) = i.queue.lock() {
            q.push((id, tier));
            i.pending.fetch_add(1, Ordering::AcqRel);
            i.wake.notify_one();
        }
    }

    /// Waits until every queued compilation is done, or `timeout` passes; returns whether
    /// the queue drained.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while self.inner.pending.load(Ordering::Acquire) > 0 {
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }

    /// Current tier counts and compilation counters.
    pub fn stats(&self) -> TierStats {
        let i = &self.inner;
        let mut s = TierStats {
            batches: i.batches.load(Ordering::Relaxed),
            failures: i.failures.load(Ordering::Relaxed),
            compile_micros: i.compile_micros.load(Ordering::Relaxed),
            compiled: i.compiled.load(Ordering::Relaxed),
            ..TierStats::default()
        };
        for p in i.policies.iter() {
            match p.tier.load(Ordering::Relaxed) {
                BASELINE => s.baseline += 1,
                OPTIMIZED => s.optimized += 1,
                _ => {}
            }
        }
        s
    }
}

impl Drop for Tiered {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Release);
        if let Ok(_q) = self.inner.queue.lock() {
            self.inner.wake.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
