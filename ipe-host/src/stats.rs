//! Per-policy profiling counters: sharded relaxed atomics, read by `stats()` and JIT tiering.
//!
//! Every evaluating thread owns a shard while it lives (the lowest free index at its first
//! evaluation, given back when it ends); with as many shards as cores (up to 16), a shard's
//! cache lines stay with one core, and since only its owner writes it, a counter is bumped
//! with a plain load and store: no locked read-modify-write, which costs ~3x as long on the
//! request path (issue #15, session 14). Threads beyond that share one more shard, bumped with
//! atomic adds, so the counts stay exact. A candidate that does not apply costs one bump; an
//! applied one two or three; one evaluation in [`SAMPLE_EVERY`] per shard and policy is timed
//! with [`Instant`] (and the first), each policy at its own phase so that the candidates of one
//! decision are seldom timed together.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Instant;

use ipe_nostd::{Bundle, Outcome, PolicyId};

use crate::options::{CodeTier, JitStats};

/// One evaluation in this many (per thread shard and policy) is timed. Two clock reads cost
/// 130–190 ns on a virtual machine (measured: `Instant::now` 64–97 ns each), half a typical
/// decision: at one in 64, a decision of four candidates timed one in 6 % of decisions, which
/// made its own p99 (issue #15, session 14).
pub const SAMPLE_EVERY: u64 = 1024;

/// Whether the target has a clock: `Instant::now` panics on `wasm32-unknown-unknown` (the
/// WebAssembly package, `ipe-wasm`), where evaluations are counted but never timed.
const TIMED: bool = !cfg!(all(target_family = "wasm", target_os = "unknown"));

#[derive(Debug, Default)]
struct PolicyCell {
    evaluations: AtomicU64,
    applied: AtomicU64,
    violated: AtomicU64,
    errors: AtomicU64,
    sampled_nanos: AtomicU64,
    samples: AtomicU64,
}

/// One shard: a counter cell per policy.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Shard {
    cells: Box<[PolicyCell]>,
    /// Whether one thread at a time writes this shard (its counters are then bumped with a
    /// plain load and store, no locked read-modify-write); the last shard is shared.
    exclusive: bool,
}

/// The counters of one policy set.
#[derive(Debug)]
pub(crate) struct Counters {
    shards: Box<[Shard]>,
}

/// Most threads that can own a shard at once (bits of [`OWNED`]); later threads share one.
const MAX_EXCLUSIVE: usize = 16;

/// Which exclusive shard indexes live threads own (bit `i`: index `i`).
static OWNED: AtomicU64 = AtomicU64::new(0);

/// The calling thread's shard index: `< MAX_EXCLUSIVE` while it owns that index,
/// [`SHARED`] when none was free, [`UNSET`] before its first evaluation.
const UNSET: usize = usize::MAX;
const SHARED: usize = usize::MAX - 1;

thread_local! {
    static TICKET: Cell<usize> = const { Cell::new(UNSET) };
    /// Frees the owned index when the thread ends (touched once, when the index is taken, so
    /// the hot path reads only `TICKET`, which has no destructor to test for).
    static RELEASE: GiveBack = const { GiveBack };
}

/// Gives the thread's exclusive index back when the thread ends.
struct GiveBack;

impl Drop for GiveBack {
    fn drop(&mut self) {
        let _ = TICKET.try_with(|t| {
            let v = t.replace(SHARED);
            if v < MAX_EXCLUSIVE {
                OWNED.fetch_and(!(1u64 << v), Release);
            }
        });
    }
}

/// Takes the lowest free exclusive index, or `SHARED`.
#[cold]
fn claim() -> usize {
    let mut owned = OWNED.load(Relaxed);
    loop {
        let free = !owned & ((1u64 << MAX_EXCLUSIVE) - 1);
        if free == 0 {
            return SHARED;
        }
        let i = free.trailing_zeros() as usize;
        match OWNED.compare_exchange_weak(owned, owned | (1u64 << i), Acquire, Relaxed) {
            Ok(_) => {
                // Without a destructor (thread teardown) the index stays taken: correct, since
                // no thread can then write through it twice; only a slot is lost.
                if RELEASE.try_with(|_| ()).is_err() {
                    return SHARED;
                }
                return i;
            }
            Err(now) => owned = now,
        }
    }
}

fn ticket() -> usize {
    TICKET.with(|t| {
        let v = t.get();
        if v != UNSET {
            return v;
        }
        let v = claim();
        t.set(v);
        v
    })
}

/// Adds one to a counter: a plain load and store on a shard one thread owns, an atomic add
/// on the shared one. Returns the old value.
#[inline(always)]
fn bump(exclusive: bool, c: &AtomicU64) -> u64 {
    if exclusive {
        let n = c.load(Relaxed);
        c.store(n.wrapping_add(1), Relaxed);
        n
    } else {
        c.fetch_add(1, Relaxed)
    }
}

impl Counters {
    /// Zeroed counters for `policies` policies.
    pub(crate) fn new(policies: usize) -> Counters {
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        // More shards than 16 would multiply memory (48 bytes per policy per shard) for little
        // gain: threads beyond that share the last shard, which stays exact (atomic adds).
        let exclusive = cores.clamp(1, MAX_EXCLUSIVE).next_power_of_two();
        Counters {
            shards: (0..=exclusive)
                .map(|i| Shard {
                    cells: (0..policies).map(|_| PolicyCell::default()).collect(),
                    exclusive: i < exclusive,
                })
                .collect(),
        }
    }

    /// The calling thread's shard: its own while it owns an index this set has a shard for,
    /// else the shared one.
    #[inline]
    pub(crate) fn shard(&self) -> Option<&Shard> {
        let t = ticket();
        let last = self.shards.len().wrapping_sub(1);
        self.shards.get(if t < last { t } else { last })
    }

    /// Number of shards.
    #[cfg(feature = "jit")]
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Runs `eval` for policy `id`, counting it in `shard` (timing one run in
    /// [`SAMPLE_EVERY`]); also returns the shard's evaluation count of `id` including this
    /// one (0 without a shard), which JIT tiering reads.
    ///
    /// `eval` has one call site (issue #15, session 20): with one per branch (timed, untimed,
    /// uncounted), the interpreter's 24-byte `Outcome` was merged from three return slots and
    /// copied whole right after the interpreter stored it in pieces, a load that waited.
    #[inline(always)]
    pub(crate) fn record<O: Counted>(
        shard: Option<&Shard>,
        id: PolicyId,
        eval: impl FnOnce() -> O,
    ) -> (O, u64) {
        let counted = shard.and_then(|s| Some((s.exclusive, s.cells.get(usize::from(id))?)));
        record_in(counted, id, eval)
    }

    fn sum(&self, id: PolicyId, field: impl Fn(&PolicyCell) -> &AtomicU64) -> u64 {
        self.shards
            .iter()
            .filter_map(|s| s.cells.get(usize::from(id)))
            .map(|c| field(c).load(Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// Evaluations of policy `id` so far (all threads; a relaxed, possibly slightly stale sum).
    pub(crate) fn evaluations(&self, id: PolicyId) -> u64 {
        self.sum(id, |c| &c.evaluations)
    }

    /// A snapshot of every policy's counters.
    pub(crate) fn snapshot(&self, bundle: &Bundle<'_>, version: u64) -> Stats {
        let policies = (0..bundle.policy_count())
            .filter_map(|i| PolicyId::try_from(i).ok())
            .map(|id| PolicyStats {
                id,
                name: bundle.policy(id).name.to_owned(),
                evaluations: self.sum(id, |c| &c.evaluations),
                applied: self.sum(id, |c| &c.applied),
                violated: self.sum(id, |c| &c.violated),
                errors: self.sum(id, |c| &c.errors),
                sampled_nanos: self.sum(id, |c| &c.sampled_nanos),
                samples: self.sum(id, |c| &c.samples),
                code: CodeTier::Interpreter,
            })
            .collect();
        Stats {
            version,
            policies,
            jit: JitStats::default(),
            jit_last_failure: None,
            retired_versions: 0,
            freed_versions: 0,
        }
    }
}

/// What the counters count of one evaluation: an [`Outcome`] without its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tally {
    NotApplicable,
    Satisfied,
    Violated,
    Error { applied: bool },
}

/// [`Counters::record`] in `cell`, a plain load and store per counter when `exclusive` (one
/// thread writes the shard), else an atomic add; `None`: not counted.
#[inline(always)]
fn record_in<O: Counted>(
    counted: Option<(bool, &PolicyCell)>,
    id: PolicyId,
    eval: impl FnOnce() -> O,
) -> (O, u64) {
    let mut n = 0;
    let mut start = None;
    if let Some((x, cell)) = counted {
        n = bump(x, &cell.evaluations);
        if TIMED && timed(n, id) {
            start = Some(Instant::now());
        }
    }
    let outcome = eval();
    let Some((x, cell)) = counted else {
        return (outcome, 0);
    };
    if let Some(start) = start {
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        cell.sampled_nanos.fetch_add(nanos, Relaxed);
        cell.samples.fetch_add(1, Relaxed);
    }
    match outcome.tally() {
        Tally::NotApplicable => {}
        Tally::Satisfied => {
            bump(x, &cell.applied);
        }
        Tally::Violated => {
            bump(x, &cell.applied);
            bump(x, &cell.violated);
        }
        Tally::Error { applied } => {
            if applied {
                bump(x, &cell.applied);
            }
            bump(x, &cell.errors);
        }
    }
    (outcome, n.wrapping_add(1))
}

/// A shard whose kind is known when the code is compiled (`EXCLUSIVE`): a decision loop
/// chooses once per decision ([`Shard::view`]) instead of per candidate (issue #15, session
/// 22).
#[derive(Clone, Copy)]
pub(crate) struct View<'a, const EXCLUSIVE: bool> {
    cells: &'a [PolicyCell],
}

impl<const EXCLUSIVE: bool> View<'_, EXCLUSIVE> {
    /// A view that counts nothing (no shard).
    pub(crate) const NONE: Self = View { cells: &[] };

    /// [`Counters::record`] in this shard.
    #[inline(always)]
    pub(crate) fn record<O: Counted>(self, id: PolicyId, eval: impl FnOnce() -> O) -> (O, u64) {
        record_in(
            self.cells.get(usize::from(id)).map(|c| (EXCLUSIVE, c)),
            id,
            eval,
        )
    }
}

/// A shard as a [`View`] of its kind.
pub(crate) enum Views<'a> {
    /// One thread at a time writes it: plain loads and stores.
    Exclusive(View<'a, true>),
    /// Threads share it: atomic adds.
    Shared(View<'a, false>),
}

impl Shard {
    /// This shard as a [`View`] of its kind.
    #[inline(always)]
    pub(crate) fn view(&self) -> Views<'_> {
        let cells = &self.cells;
        if self.exclusive {
            Views::Exclusive(View { cells })
        } else {
            Views::Shared(View { cells })
        }
    }
}

/// The result of one evaluation as [`Counters::record`] counts it: an interpreter's
/// [`Outcome`], or native code's return code before its record is decoded (issue #15, session
/// 18).
pub(crate) trait Counted {
    /// Which counters this evaluation bumps.
    fn tally(&self) -> Tally;
}

impl Counted for Outcome {
    #[inline(always)]
    fn tally(&self) -> Tally {
        match self {
            Outcome::NotApplicable => Tally::NotApplicable,
            Outcome::Satisfied => Tally::Satisfied,
            Outcome::Violated(_) => Tally::Violated,
            Outcome::Error { applied, .. } => Tally::Error { applied: *applied },
        }
    }
}

/// Whether evaluation `n` (from 0) of policy `id` in a shard is timed: the first, then one in
/// [`SAMPLE_EVERY`] at a phase given by the policy's id. With one phase for every policy, the
/// policies a request selects advance together and one decision in a period timed all of its
/// candidates (two clock reads each): that decision, not the machine, was the p99 (issue #15).
#[inline(always)]
fn timed(n: u64, id: PolicyId) -> bool {
    // Bits of a multiplicative hash (Fibonacci hashing) of the id: consecutive and
    // strided ids land on distinct phases.
    let phase = (u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % SAMPLE_EVERY;
    n == 0 || n.wrapping_add(phase).is_multiple_of(SAMPLE_EVERY)
}

/// The counters of one policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyStats {
    /// Policy id in its bundle.
    pub id: PolicyId,
    /// Policy name.
    pub name: String,
    /// Times it was evaluated (it was a candidate).
    pub evaluations: u64,
    /// Times its trigger held.
    pub applied: u64,
    /// Times it was violated.
    pub violated: u64,
    /// Times it ended in error.
    pub errors: u64,
    /// Total nanoseconds of the timed evaluations.
    pub sampled_nanos: u64,
    /// Number of timed evaluations.
    pub samples: u64,
    /// Which code runs it now.
    pub code: CodeTier,
}

impl PolicyStats {
    /// Mean nanoseconds per timed evaluation, if any was timed.
    pub fn mean_nanos(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.sampled_nanos as f64 / self.samples as f64)
    }
}

/// Per-policy counters of one published version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// The version they belong to.
    pub version: u64,
    /// One entry per policy, in bundle order.
    pub policies: Vec<PolicyStats>,
    /// The version's JIT counters (compilations, failures, policies per tier).
    pub jit: JitStats,
    /// Why the version's last failed JIT compilation failed (`None`: none failed).
    pub jit_last_failure: Option<String>,
    /// Replaced versions the engine has not freed yet because a reader still holds them
    /// ([`PolicyEngine::stats`](crate::PolicyEngine::stats); 0 from a set's own stats).
    pub retired_versions: usize,
    /// Replaced versions the engine freed (or is freeing) so far, off the request threads.
    pub freed_versions: u64,
}

impl Stats {
    /// The `n` most evaluated policies, most first.
    pub fn hottest(&self, n: usize) -> Vec<&PolicyStats> {
        let mut v: Vec<&PolicyStats> = self.policies.iter().collect();
        v.sort_by(|a, b| b.evaluations.cmp(&a.evaluations).then(a.id.cmp(&b.id)));
        v.truncate(n);
        v
    }

    /// The `n` policies violated or in error most often (never-violated ones left out).
    pub fn most_violating(&self, n: usize) -> Vec<&PolicyStats> {
        let mut v: Vec<&PolicyStats> = self
            .policies
            .iter()
            .filter(|p| p.violated + p.errors > 0)
            .collect();
        v.sort_by(|a, b| {
            (b.violated + b.errors)
                .cmp(&(a.violated + a.errors))
                .then(a.id.cmp(&b.id))
        });
        v.truncate(n);
        v
    }

    /// A text table of the `n` hottest and the `n` most violating policies.
    pub fn table(&self, n: usize) -> String {
        let mut out = String::new();
        let mut section = |title: &str, rows: Vec<&PolicyStats>| {
            let _ = writeln!(out, "{title} (version {})", self.version);
            let _ = writeln!(
                out,
                "  {:<32} {:>10} {:>10} {:>10} {:>8} {:>10}",
                "policy", "evaluated", "applied", "violated", "errors", "ns/eval"
            );
            for p in rows {
                let ns = p.mean_nanos().map_or("-".to_owned(), |x| format!("{x:.0}"));
                let _ = writeln!(
                    out,
                    "  {:<32} {:>10} {:>10} {:>10} {:>8} {:>10}",
                    p.name, p.evaluations, p.applied, p.violated, p.errors, ns
                );
            }
        };
        section("hottest policies", self.hottest(n));
        section("most violating policies", self.most_violating(n));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{timed, Counters, SAMPLE_EVERY};
    use ipe_nostd::{Outcome, PolicyId};

    #[test]
    fn counts_stay_exact_with_more_threads_than_exclusive_shards() {
        // 40 threads, started in waves so that ended threads' shards are taken again: each
        // owner bumps without a locked add, the threads beyond 16 share the last shard.
        let counters = Counters::new(3);
        let per_thread = 2_000u64;
        std::thread::scope(|s| {
            for wave in 0..2 {
                let handles: Vec<_> = (0..20)
                    .map(|t| {
                        let counters = &counters;
                        s.spawn(move || {
                            for i in 0..per_thread {
                                let id: PolicyId = ((t + wave + i as usize) % 3) as PolicyId;
                                let _ = Counters::record(counters.shard(), id, || {
                                    if i % 2 == 0 {
                                        Outcome::Satisfied
                                    } else {
                                        Outcome::NotApplicable
                                    }
                                });
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    assert!(h.join().is_ok());
                }
            }
        });
        let total: u64 = (0..3).map(|id| counters.evaluations(id)).sum();
        assert_eq!(total, 40 * per_thread);
        let applied: u64 = (0..3).map(|id| counters.sum(id, |c| &c.applied)).sum();
        assert_eq!(applied, 40 * per_thread / 2);
    }

    #[test]
    fn each_policy_is_timed_first_then_once_in_every_period() {
        for id in [0u16, 1, 2, 63, 64, 1000, u16::MAX] {
            assert!(timed(0, id), "policy {id}: the first evaluation is timed");
            for period in 0..4 {
                let from = 1 + period * SAMPLE_EVERY;
                let n = (from..from + SAMPLE_EVERY)
                    .filter(|&n| timed(n, id))
                    .count();
                assert_eq!(n, 1, "policy {id}, period {period}");
            }
        }
    }

    #[test]
    fn neighbouring_policies_are_timed_at_different_evaluations() {
        // The candidates of one request advance together: policies with nearby ids (a set's
        // candidates, or one policy per team) must not all be timed by the same decision.
        let phase = |id: u16| (1..=SAMPLE_EVERY).find(|&n| timed(n, id));
        let phases: std::collections::HashSet<_> = (0..16).map(phase).collect();
        assert_eq!(phases.len(), 16);
    }
}
