//! Tiering inside the engine: hot policies move from the interpreter to baseline and then
//! optimized native code, per published version.
//!
//! Every version ([`crate::PolicySet`]) published by a JIT-enabled engine owns a [`Table`]: per
//! policy, the address of its native code (0: interpreted, published with a release store),
//! the tier it runs at, and the highest tier requested for it; plus every [`JitSet`] compiled
//! for that version. The code is freed (`JITModule::free_memory`) when the version itself is
//! dropped, i.e. after its last reader (by the engine's reclaimer, `crate::reclaim`), so a
//! pointer read from the table is valid for as long as the reader holds the set.
//!
//! Promotion is driven by the sharded profiling counters: an evaluation whose shard-local
//! count reaches `threshold / shards` sums the shards (a cold path, taken only until the
//! policy has been queued) and, once the total reaches the threshold, queues the policy with
//! the engine's [`Background`] compiler. Requests never compile and never wait. The compiler
//! thread lets a batch gather, then compiles it against the version that is live *and* that
//! queued it (entries of a swapped-out version are dropped as stale), into one `JITModule`
//! installed in that version's own table.
//!
//! Code is also reused across versions (issue #15, [`super::reuse`]): a version being
//! published takes the code of every policy whose content key equals that of a policy the
//! live version runs natively ([`Table::adopt`]; in `JitAll` mode only the other policies are
//! compiled), a batch that finishes after its version was replaced is handed on to the
//! version now live, and jobs queued by a replaced version are compiled for the live
//! version's policy with the same key. Each table holds an `Arc` of every [`JitSet`] it runs
//! code from, so a code region is freed with the last version that uses it.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::vm::eval_policy_values;
use ipe_nostd::{Bundle, Outcome, Value};

use super::reuse::{Key, Keys};
use super::shapes::Shapes;
use super::{compile_with, JitSet};
use crate::engine::PolicySet;
use crate::options::{CodeTier, EngineOptions, JitStats, JitTier, TierMode};
use crate::stats::Counters;

// A policy's code tier as stored in the table's atomics (both the running tier and the
// requested one): `CodeTier`'s own discriminants, in promotion order.
const INTERP: u8 = CodeTier::Interpreter as u8;
const BASELINE: u8 = CodeTier::Baseline as u8;
const OPTIMIZED: u8 = CodeTier::Optimized as u8;
const FAILED: u8 = CodeTier::Failed as u8;

fn level(tier: JitTier) -> u8 {
    CodeTier::from(tier) as u8
}

/// A queued compilation: (version, policy, tier, the policy's reuse key).
type Job = (u64, PolicyId, JitTier, Option<Key>);

/// Adaptive-mode thresholds of a table.
#[derive(Debug)]
struct Adaptive {
    baseline_after: u64,
    optimized_after: u64,
    /// Shard-local counts below which the total cannot have reached the threshold.
    baseline_min: u64,
    optimized_min: u64,
    background: Arc<Background>,
}

/// One version's native code (see the module docs).
#[derive(Debug)]
pub(crate) struct Table {
    version: u64,
    slot_count: usize,
    code: Box<[AtomicUsize]>,
    tier: Box<[AtomicU8]>,
    queued: Box<[AtomicU8]>,
    adaptive: Option<Adaptive>,
    shapes: Arc<Shapes>,
    /// Each policy's reuse key (issue #15).
    keys: Keys,
    /// Every batch whose code this version runs, compiled for it or taken from an older
    /// version: a region is freed with the last table holding it.
    sets: Mutex<Vec<Arc<JitSet>>>,
    /// Per policy, 1 + the index in `sets` of the batch its code lives in (0: none); written
    /// with `code` under the `sets` lock.
    owner: Box<[AtomicU32]>,
    batches: AtomicU64,
    compiled: AtomicU64,
    /// Policies whose code was taken from another version instead of compiled.
    reused: AtomicU64,
    failures: AtomicU64,
    /// Why the last failed compilation failed (shown in `Stats`; issue #15).
    last_failure: Mutex<Option<String>>,
    compile_micros: AtomicU64,
}

/// A request's slot values, at least as many as the bundle of the [`Table`] that checked them
/// declares ([`Table::slots`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slots<'a, 'v>(&'a [Value<'v>]);

impl<'a, 'v> Slots<'a, 'v> {
    /// The slot values.
    #[inline(always)]
    pub(crate) fn values(self) -> &'a [Value<'v>] {
        self.0
    }
}

/// The native code of one policy, borrowed from the [`Table`] that keeps it alive.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NativeCode<'t>(usize, PhantomData<&'t Table>);

impl NativeCode<'_> {
    /// Runs the code over slots checked by [`Table::slots`], its record written into `out`.
    #[inline(always)]
    pub(crate) fn call(self, slots: Slots<'_, '_>, out: &mut super::RawOut) -> super::Ret {
        // `self.0` was installed by `Table::install` from a set the borrowed table owns until
        // it is dropped; `slots` holds at least `slot_count` values.
        super::call(self.0, slots.0, out)
    }
}

impl Table {
    /// The table of a version about to be published: `None` in interpreter mode. It first
    /// takes the code of `prev` (the live version) for every policy whose content is
    /// unchanged; in `JitAll` mode the other policies are compiled here (on the publishing
    /// thread).
    pub(crate) fn new(
        bundle: &Bundle<'_>,
        counters: &Counters,
        opts: &EngineOptions,
        background: Option<&Arc<Background>>,
        prev: Option<&Table>,
    ) -> Option<Table> {
        let n = bundle.policy_count();
        let adaptive = match (opts.tier, background) {
            (TierMode::Interpreter, _) => return None,
            (TierMode::Adaptive, None) => return None,
            (TierMode::Adaptive, Some(bg)) => {
                let shards = counters.shard_count().max(1) as u64;
                let baseline_after = opts.baseline_after.max(1);
                let optimized_after = opts.optimized_after.max(baseline_after);
                bg.reserve(2 * n);
                Some(Adaptive {
                    baseline_after,
                    optimized_after,
                    baseline_min: baseline_after.div_ceil(shards),
                    optimized_min: optimized_after.div_ceil(shards),
                    background: Arc::clone(bg),
                })
            }
            (TierMode::JitAll(_), _) => None,
        };
        let shapes = super::shapes(bundle);
        let keys = Keys::of(bundle, &shapes);
        let table = Table {
            version: 0,
            slot_count: bundle.slot_count(),
            code: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            tier: (0..n).map(|_| AtomicU8::new(INTERP)).collect(),
            queued: (0..n).map(|_| AtomicU8::new(INTERP)).collect(),
            adaptive,
            shapes,
            keys,
            sets: Mutex::new(Vec::new()),
            owner: (0..n).map(|_| AtomicU32::new(0)).collect(),
            batches: AtomicU64::new(0),
            compiled: AtomicU64::new(0),
            reused: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_failure: Mutex::new(None),
            compile_micros: AtomicU64::new(0),
        };
        if let Some(prev) = prev {
            table.adopt(prev);
        }
        if let TierMode::JitAll(tier) = opts.tier {
            let ids: Vec<PolicyId> = (0..n)
                .filter_map(|i| PolicyId::try_from(i).ok())
                .filter(|&id| table.needs(id, level(tier)))
                .collect();
            table.compile(bundle, &ids, tier, None);
        }
        Some(table)
    }

    /// Whether policy `id` runs below tier level `lvl` (interpreted, failed, or baseline when
    /// `lvl` is optimized).
    fn needs(&self, id: PolicyId, lvl: u8) -> bool {
        self.tier.get(usize::from(id)).is_some_and(|t| {
            let now = t.load(Ordering::Relaxed);
            now < lvl || now == FAILED
        })
    }

    /// Raises policy `i`'s requested tier to `lvl` (it runs code of that tier now).
    fn raise_queued(&self, i: usize, lvl: u8) {
        if let Some(q) = self.queued.get(i) {
            let _ = q.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                (now < lvl || now == FAILED).then_some(lvl)
            });
        }
    }

    /// Takes the native code `prev` (an older version of the same engine) runs for a policy
    /// with the same reuse key, for every policy of this version running a lower tier, with a
    /// share of the region the code lives in; returns how many policies took code. Nothing
    /// moves between versions whose environments differ ([`Keys::same_env`]).
    pub(crate) fn adopt(&self, prev: &Table) -> usize {
        if !self.keys.same_env(&prev.keys) {
            return 0;
        }
        // Under `prev`'s lock, so each policy's code, tier and owner agree. The best code of
        // each key, with its owner's position in `owners` (issue #15: not an `Arc` cloned per
        // policy, and hashbrown's hasher, not SipHash, on keys that are digests already).
        let (found, owners) = {
            let Ok(sets) = prev.sets.lock() else {
                return 0;
            };
            let mut found: hashbrown::HashMap<Key, (usize, u8, usize)> =
                hashbrown::HashMap::with_capacity(prev.keys.all().len());
            for (i, key) in prev.keys.all().iter().enumerate() {
                let (Some(c), Some(t), Some(o)) =
                    (prev.code.get(i), prev.tier.get(i), prev.owner.get(i))
                else {
                    continue;
                };
                let (f, lvl) = (c.load(Ordering::Acquire), t.load(Ordering::Relaxed));
                let owner = (o.load(Ordering::Relaxed) as usize)
                    .checked_sub(1)
                    .filter(|&o| o < sets.len());
                let Some(owner) = owner else {
                    continue;
                };
                if f == 0 || lvl == INTERP || lvl == FAILED {
                    continue;
                }
                match found.entry(*key) {
                    hashbrown::hash_map::Entry::Occupied(mut e) => {
                        if e.get().1 < lvl {
                            e.insert((f, lvl, owner));
                        }
                    }
                    hashbrown::hash_map::Entry::Vacant(e) => {
                        e.insert((f, lvl, owner));
                    }
                }
            }
            (found, sets.clone())
        };
        if found.is_empty() {
            return 0;
        }
        let Ok(mut sets) = self.sets.lock() else {
            return 0;
        };
        let mut index: hashbrown::HashMap<*const JitSet, u32> = sets
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((Arc::as_ptr(s), u32::try_from(i + 1).ok()?)))
            .collect();
        let mut n = 0;
        for (i, key) in self.keys.all().iter().enumerate() {
            let Some((f, lvl, set)) = found
                .get(key)
                .and_then(|&(f, lvl, o)| Some((f, lvl, owners.get(o)?)))
            else {
                continue;
            };
            let (Some(c), Some(t), Some(o)) =
                (self.code.get(i), self.tier.get(i), self.owner.get(i))
            else {
                continue;
            };
            let now = t.load(Ordering::Relaxed);
            if !(now < lvl || now == FAILED) {
                continue;
            }
            let owner = match index.get(&Arc::as_ptr(set)) {
                Some(&o) => o,
                None => {
                    let Ok(o) = u32::try_from(sets.len() + 1) else {
                        continue;
                    };
                    sets.push(Arc::clone(set));
                    index.insert(Arc::as_ptr(set), o);
                    o
                }
            };
            // The region is in `sets` before any reader can load its address.
            c.store(f, Ordering::Release);
            t.store(lvl, Ordering::Relaxed);
            o.store(owner, Ordering::Relaxed);
            self.raise_queued(i, lvl);
            n += 1;
        }
        self.reused.fetch_add(n as u64, Ordering::Relaxed);
        n
    }

    /// Records the version number the table's set is published under.
    pub(crate) fn set_version(&mut self, version: u64) {
        self.version = version;
    }

    /// `values` as slots this table's native code may read in place (`None` when the slice is
    /// shorter than the bundle declares: [`eval`](Self::eval) then interprets).
    #[inline]
    pub(crate) fn slots<'a, 'v>(&self, values: &'a [Value<'v>]) -> Option<Slots<'a, 'v>> {
        (values.len() >= self.slot_count).then_some(Slots(values))
    }

    /// [`eval`](Self::eval) over slots already checked by [`slots`](Self::slots) (issue #15,
    /// session 14: the length is checked once per decision, not per candidate).
    #[inline(always)]
    pub(crate) fn eval_slots(
        &self,
        bundle: &Bundle<'_>,
        id: PolicyId,
        slots: Slots<'_, '_>,
    ) -> Outcome {
        let f = self
            .code
            .get(usize::from(id))
            .map_or(0, |c| c.load(Ordering::Acquire));
        if f != 0 {
            // As in `eval`; `slots` holds at least `slot_count` values.
            super::run(f, id, slots.0)
        } else {
            eval_policy_values(bundle, id, slots.0)
        }
    }

    /// Policy `id`'s native code, if it has some (issue #15, session 18: the caller counts and
    /// combines its return code, decoding the record only for a violation or an error).
    #[inline(always)]
    pub(crate) fn native(&self, id: PolicyId) -> Option<NativeCode<'_>> {
        let f = self
            .code
            .get(usize::from(id))
            .map_or(0, |c| c.load(Ordering::Acquire));
        (f != 0).then_some(NativeCode(f, PhantomData))
    }

    /// Evaluates policy `id` with its native code if it has some, else the interpreter.
    #[inline(always)]
    pub(crate) fn eval(&self, bundle: &Bundle<'_>, id: PolicyId, values: &[Value<'_>]) -> Outcome {
        let f = self
            .code
            .get(usize::from(id))
            .map_or(0, |c| c.load(Ordering::Acquire));
        if f != 0 && values.len() >= self.slot_count {
            // `f` was installed by `Table::install` from a set this table owns until it is
            // dropped, and the caller borrows the table.
            super::run(f, id, values)
        } else {
            eval_policy_values(bundle, id, values)
        }
    }

    /// Adaptive promotion after an evaluation of `id` whose shard-local count is `n`.
    #[inline(always)]
    pub(crate) fn observe(&self, id: PolicyId, n: u64, counters: &Counters) {
        let Some(a) = &self.adaptive else {
            return;
        };
        let q = self
            .queued
            .get(usize::from(id))
            .map_or(FAILED, |q| q.load(Ordering::Relaxed));
        let min = match q {
            INTERP => a.baseline_min,
            BASELINE => a.optimized_min,
            _ => return,
        };
        if n >= min {
            self.promote(a, id, q, counters);
        }
    }

    #[cold]
    #[inline(never)]
    fn promote(&self, a: &Adaptive, id: PolicyId, q: u8, counters: &Counters) {
        let total = counters.evaluations(id);
        let tier = if total >= a.optimized_after {
            JitTier::Optimized
        } else if q == INTERP && total >= a.baseline_after {
            JitTier::Baseline
        } else {
            return;
        };
        let Some(cell) = self.queued.get(usize::from(id)) else {
            return;
        };
        if cell
            .compare_exchange(q, level(tier), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            let key = self.keys.get(id).copied();
            a.background.push((self.version, id, tier, key));
        }
    }

    /// Compiles `ids` at `tier` into one module and installs their code; a failing batch is
    /// retried policy by policy so one bad policy does not keep the others interpreted. Once
    /// `cancel` is set the batch is abandoned (its policies stay as they are, no failure is
    /// counted).
    pub(crate) fn compile(
        &self,
        bundle: &Bundle<'_>,
        ids: &[PolicyId],
        tier: JitTier,
        cancel: Option<&AtomicBool>,
    ) {
        if ids.is_empty() || cancel.is_some_and(|c| c.load(Ordering::Acquire)) {
            return;
        }
        let start = Instant::now();
        let result = compile_with(bundle, &self.shapes, ids, tier, cancel);
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.compile_micros.fetch_add(micros, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(set) => self.install(set, ids, tier),
            Err(super::JitError::Cancelled) => {}
            Err(_) if ids.len() > 1 => {
                for &id in ids {
                    self.compile(bundle, &[id], tier, cancel);
                }
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut last) = self.last_failure.lock() {
                    *last = Some(format!(
                        "{tier:?} policy {}: {e}",
                        ids.first().map_or(0, |&id| usize::from(id))
                    ));
                }
                for &id in ids {
                    let i = usize::from(id);
                    if let Some(q) = self.queued.get(i) {
                        q.store(FAILED, Ordering::Relaxed);
                    }
                    if let (Some(t), Some(c)) = (self.tier.get(i), self.code.get(i)) {
                        if c.load(Ordering::Relaxed) == 0 {
                            t.store(FAILED, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
    }

    fn install(&self, set: JitSet, ids: &[PolicyId], tier: JitTier) {
        let lvl = level(tier);
        let Ok(mut sets) = self.sets.lock() else {
            // Another compile panicked while holding the lock: leave these interpreted (and
            // the set is freed right here, nothing having seen its code).
            return;
        };
        let Ok(owner) = u32::try_from(sets.len() + 1) else {
            return;
        };
        for &id in ids {
            let i = usize::from(id);
            if let (Some(c), Some(t), Some(o), Some(f)) = (
                self.code.get(i),
                self.tier.get(i),
                self.owner.get(i),
                set.entry(id),
            ) {
                // Optimized code is never replaced by a late baseline batch.
                let now = t.load(Ordering::Relaxed);
                if now < lvl || now == FAILED {
                    c.store(f, Ordering::Release);
                    t.store(lvl, Ordering::Relaxed);
                    o.store(owner, Ordering::Relaxed);
                    self.raise_queued(i, lvl);
                }
            }
        }
        self.compiled.fetch_add(set.len() as u64, Ordering::Relaxed);
        sets.push(Arc::new(set));
    }

    /// Which code runs policy `id`.
    pub(crate) fn code_tier(&self, id: PolicyId) -> CodeTier {
        match self
            .tier
            .get(usize::from(id))
            .map(|t| t.load(Ordering::Relaxed))
        {
            Some(BASELINE) => CodeTier::Baseline,
            Some(OPTIMIZED) => CodeTier::Optimized,
            Some(FAILED) => CodeTier::Failed,
            _ => CodeTier::Interpreter,
        }
    }

    /// Why the last failed compilation of this version failed.
    pub(crate) fn last_failure(&self) -> Option<String> {
        self.last_failure.lock().ok().and_then(|l| l.clone())
    }

    /// The table's counters.
    pub(crate) fn stats(&self) -> JitStats {
        let mut s = JitStats {
            batches: self.batches.load(Ordering::Relaxed),
            compiled: self.compiled.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            compile_micros: self.compile_micros.load(Ordering::Relaxed),
            pending: self
                .adaptive
                .as_ref()
                .map_or(0, |a| a.background.pending.load(Ordering::Relaxed) as u64),
            ..JitStats::default()
        };
        for t in self.tier.iter() {
            match t.load(Ordering::Relaxed) {
                BASELINE => s.baseline += 1,
                OPTIMIZED => s.optimized += 1,
                _ => {}
            }
        }
        s
    }
}

/// An engine's background compiler: a queue of hot policies and the thread draining it.
#[derive(Debug)]
pub(crate) struct Background {
    /// The engine's live set (weak: the compiler never keeps the engine alive).
    live: OnceLock<Weak<ArcSwap<PolicySet>>>,
    queue: Mutex<Vec<Job>>,
    wake: Condvar,
    stop: AtomicBool,
    /// Jobs queued or being compiled.
    pending: AtomicUsize,
    window: Duration,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Background {
    /// The background compiler an engine with these options needs: one in adaptive mode,
    /// none otherwise.
    pub(crate) fn for_options(opts: &EngineOptions) -> Option<Arc<Background>> {
        (opts.tier == TierMode::Adaptive).then(|| Background::new(opts.batch_window))
    }

    /// A compiler for an adaptive engine (its thread starts with [`Background::start`]).
    pub(crate) fn new(window: Duration) -> Arc<Background> {
        Arc::new(Background {
            live: OnceLock::new(),
            queue: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            pending: AtomicUsize::new(0),
            window,
            thread: Mutex::new(None),
        })
    }

    /// Starts the compiler thread over the engine's live set. Without a thread (spawning
    /// failed) policies stay interpreted.
    pub(crate) fn start(self: &Arc<Self>, live: &Arc<ArcSwap<PolicySet>>) {
        let _ = self.live.set(Arc::downgrade(live));
        let worker = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("ipe-jit".into())
            .spawn(move || worker.serve());
        if let (Ok(handle), Ok(mut slot)) = (spawned, self.thread.lock()) {
            *slot = Some(handle);
        }
    }

    /// Makes room for `n` more jobs so queuing from the request path does not allocate.
    fn reserve(&self, n: usize) {
        if let Ok(mut q) = self.queue.lock() {
            q.reserve(n);
        }
    }

    fn push(&self, job: Job) {
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut q) = self.queue.lock() {
            q.push(job);
            self.pending.fetch_add(1, Ordering::AcqRel);
            self.wake.notify_one();
        }
    }

    /// The compiler thread: waits for jobs, lets a batch gather, compiles it.
    fn serve(&self) {
        // Off the request path: detect the CPU and configure Cranelift before any job.
        super::warm();
        let mut batch: Vec<Job> = Vec::new();
        loop {
            {
                let Ok(mut q) = self.queue.lock() else {
                    return;
                };
                while q.is_empty() && !self.stop.load(Ordering::Acquire) {
                    q = match self.wake.wait(q) {
                        Ok(q) => q,
                        Err(_) => return,
                    };
                }
            }
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(self.window);
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            match self.queue.lock() {
                // `drain` keeps the queue's capacity for allocation-free pushes.
                Ok(mut q) => batch.extend(q.drain(..)),
                Err(_) => return,
            }
            self.run(&batch);
            self.pending.fetch_sub(batch.len(), Ordering::AcqRel);
            batch.clear();
        }
    }

    fn run(&self, batch: &[Job]) {
        let Some(live) = self.live.get().and_then(Weak::upgrade) else {
            return;
        };
        // Compile against the live version's own `Arc`: the code goes into that version's
        // table and is freed with it (or with the last version that takes it over). A job
        // queued by an older version compiles the live version's policy with the same reuse
        // key, if there is one.
        let set = live.load_full();
        drop(live);
        let Some(table) = set.jit_table() else {
            return;
        };
        for tier in [JitTier::Baseline, JitTier::Optimized] {
            let mut ids: Vec<PolicyId> = batch
                .iter()
                .filter(|j| j.2 == tier)
                .filter_map(|&(v, id, _, key)| {
                    if v == set.version() {
                        Some(id)
                    } else {
                        key.and_then(|k| table.keys.find(&k))
                    }
                })
                // Already running code of that tier (taken from another version).
                .filter(|&id| table.needs(id, level(tier)))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            // Dropping the engine sets `stop`: the batch is abandoned at the next function.
            table.compile(set.bundle(), &ids, tier, Some(&self.stop));
        }
        // A version published while the batch compiled takes its code over.
        if let Some(live) = self.live.get().and_then(Weak::upgrade) {
            let newer = live.load_full();
            drop(live);
            if newer.version() != set.version() {
                if let Some(t) = newer.jit_table() {
                    t.adopt(table);
                }
            }
        }
    }

    /// Waits until no job is queued or compiling, or `timeout` passes; returns whether the
    /// compiler went idle.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while self.pending.load(Ordering::Acquire) > 0 {
            if Instant::now() >= end || self.stop.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }

    /// Stops the thread and waits for it (the engine is being dropped).
    pub(crate) fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        if let Ok(_q) = self.queue.lock() {
            self.wake.notify_all();
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = handle {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use ipe_nostd::{Bundle, PolicyId};

    use super::{Background, Table};
    use crate::options::{CodeTier, EngineOptions, JitTier};
    use crate::stats::Counters;

    fn bundle_bytes() -> Vec<u8> {
        bundle_changed(None)
    }

    /// 20 policies; policy `changed` (if any) with a limit no other policy uses.
    fn bundle_changed(changed: Option<usize>) -> Vec<u8> {
        let mut src = String::from("schema {\n  kind: string\n  n: int\n}\ndefault allow\n");
        for i in 0..20 {
            let limit = if changed == Some(i) { 100 + i } else { i };
            src.push_str(&format!(
                "policy P{i}:\n  \"p\"\n  triggers when kind == \"k{i}\"\n  requires\n    n > {limit}\n"
            ));
        }
        let program = ipe_compile::compile_str(&[("t.ipe", &src)]).expect("compiles");
        ipe_compile::lower::lower(&program).expect("lowers").bytes
    }

    fn code(t: &Table, id: usize) -> usize {
        t.code[id].load(Ordering::Relaxed)
    }

    /// Issue #15: a version takes the native code of the one it replaces for its unchanged
    /// policies (a changed one is compiled), and a code region is freed with the last
    /// version running code from it.
    #[test]
    fn unchanged_policies_share_code_freed_with_the_last_version_using_it() {
        let (a, b) = (bundle_bytes(), bundle_changed(Some(4)));
        let (ba, bb) = (
            Bundle::from_bytes(&a).expect("verifies"),
            Bundle::from_bytes(&b).expect("verifies"),
        );
        let opts = EngineOptions::jit_all(JitTier::Baseline);
        let t1 = Table::new(&ba, &Counters::new(20), &opts, None, None).expect("a table");
        let s = t1.stats();
        assert_eq!((s.compiled, s.reused, s.baseline), (20, 0, 20));
        let region = Arc::downgrade(&t1.sets.lock().expect("lock")[0]);
        let t2 = Table::new(&bb, &Counters::new(20), &opts, None, Some(&t1)).expect("a table");
        let s = t2.stats();
        assert_eq!((s.compiled, s.reused, s.baseline), (1, 19, 20));
        for id in 0..20 {
            assert_ne!(code(&t2, id), 0);
            assert_eq!(code(&t1, id) == code(&t2, id), id != 4, "policy {id}");
        }
        assert_eq!(
            t2.sets.lock().expect("lock").len(),
            2,
            "its own batch and t1's"
        );
        // A third version of the first bundle: 19 from t2 (t1's region), P4 compiled again.
        let t3 = Table::new(&ba, &Counters::new(20), &opts, None, Some(&t2)).expect("a table");
        assert_eq!((t3.stats().compiled, t3.stats().reused), (1, 19));
        assert_eq!(code(&t3, 7), code(&t1, 7));
        drop(t1);
        assert!(region.upgrade().is_some(), "t2 and t3 run code from it");
        drop(t2);
        assert!(region.upgrade().is_some(), "t3 runs code from it");
        drop(t3);
        assert!(
            region.upgrade().is_none(),
            "freed with the last version using it"
        );
    }

    /// Code compiled for a version after the next one was published is taken over by it (the
    /// background compiler's hand-over), once, and raises its requested tier.
    #[test]
    fn a_newer_version_takes_over_code_compiled_for_the_one_it_replaced() {
        let bytes = bundle_bytes();
        let bundle = Bundle::from_bytes(&bytes).expect("verifies");
        let bg = Background::new(Duration::from_millis(1));
        let opts = EngineOptions::adaptive(1, u64::MAX);
        let (c1, c2) = (Counters::new(20), Counters::new(20));
        let t1 = Table::new(&bundle, &c1, &opts, Some(&bg), None).expect("a table");
        let t2 = Table::new(&bundle, &c2, &opts, Some(&bg), Some(&t1)).expect("a table");
        assert_eq!(t2.stats().reused, 0, "nothing compiled yet");
        t1.compile(&bundle, &[3, 5], JitTier::Baseline, None);
        assert_eq!(t2.adopt(&t1), 2);
        assert_eq!(t2.code_tier(3), CodeTier::Baseline);
        assert_eq!(t2.code_tier(4), CodeTier::Interpreter);
        assert_eq!(code(&t2, 5), code(&t1, 5));
        assert_eq!(t2.queued[3].load(Ordering::Relaxed), super::BASELINE);
        assert_eq!(t2.adopt(&t1), 0, "already running that code");
        assert_eq!(t2.stats().reused, 2);
    }

    #[test]
    fn a_batch_observes_the_cancel_flag() {
        let bytes = bundle_bytes();
        let bundle = Bundle::from_bytes(&bytes).expect("verifies");
        let counters = Counters::new(bundle.policy_count());
        let bg = Background::new(Duration::from_millis(1));
        let table = Table::new(
            &bundle,
            &counters,
            &EngineOptions::adaptive(1, 1),
            Some(&bg),
            None,
        )
        .expect("an adaptive table");
        let ids: Vec<PolicyId> = (0..20).collect();
        let cancel = AtomicBool::new(true);
        // The batch and its split into single policies are abandoned, not failures.
        let shapes = super::super::shapes(&bundle);
        assert!(matches!(
            super::compile_with(&bundle, &shapes, &ids, JitTier::Baseline, Some(&cancel)),
            Err(crate::jit::JitError::Cancelled)
        ));
        table.compile(&bundle, &ids, JitTier::Baseline, Some(&cancel));
        let stats = table.stats();
        assert_eq!((stats.compiled, stats.failures, stats.baseline), (0, 0, 0));
        assert_eq!(table.code_tier(3), CodeTier::Interpreter);
        assert_eq!(table.last_failure(), None);
        // Without the flag the same batch compiles.
        cancel.store(false, Ordering::Release);
        table.compile(&bundle, &ids, JitTier::Baseline, Some(&cancel));
        let stats = table.stats();
        assert_eq!(
            (stats.compiled, stats.failures, stats.baseline),
            (20, 0, 20)
        );
        assert_eq!(table.code_tier(3), CodeTier::Baseline);
    }
}
