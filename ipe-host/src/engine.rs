//! The policy engine: a verified, indexed policy set behind an atomic pointer, replaced while
//! serving.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};
use bumpalo::Bump;
use ipe_nostd::{
    Accumulator, Brief, BriefAccumulator, Bundle, Decision, DecisionBuilder, EffectOnly, Outcome,
    PolicyId, SlotId, Value, Violation,
};

use crate::builder::RequestBuilder;
pub use crate::decision::HostDecision;
use crate::error::{Error, ErrorKind};
use crate::index::Index;
use crate::jit::{Background, RawOut, Ret, Slots, Table};
use crate::mmap::{BundleBytes, FileSource};
use crate::options::{CodeTier, EngineOptions};
use crate::reclaim::Reclaimer;
use crate::report::Report;
use crate::request::plan::Plan;
use crate::stats::{Counters, Stats, View, Views};
use crate::trust::{self, Check, Gate, SignatureInfo, TrustPolicy};
use crate::verdict::Verdict;

self_cell::self_cell!(
    /// A bundle's bytes and the verified view borrowing them.
    struct Loaded {
        owner: BundleBytes,
        #[covariant]
        dependent: Bundle,
    }
    impl {Debug}
);

/// One published, immutable version of the policy set: the verified bundle, its index, its
/// request plan, counters and (with the `jit` feature) the native code compiled for it.
///
/// Obtained from [`PolicyEngine::load`]; every decision it makes refers to its own policy ids,
/// so render them with the same set ([`PolicySet::report`]). The set's native code is freed
/// with the set, after its last reader, by the engine (never on a reader's thread).
#[derive(Debug)]
pub struct PolicySet {
    version: u64,
    shared: Arc<Shared>,
    /// Per-policy native code of this version (`None`: interpreter only, always so without
    /// the `jit` feature).
    jit: Option<Table>,
}

#[cfg(test)]
impl Drop for PolicySet {
    fn drop(&mut self) {
        crate::reclaim::probe::on_free();
    }
}

/// The bundle and what is derived from it.
#[derive(Debug)]
struct Shared {
    loaded: Loaded,
    index: Index,
    plan: Plan,
    counters: Counters,
    /// The envelope of a signed bundle whose signature was checked (issue #18).
    signature: Option<SignatureInfo>,
    /// The bundle's aggregate chains decoded once, for the interpreter tier (issue #15).
    chains: ipe_nostd::vm::Prepared<16>,
}

/// A verified and indexed set not yet published; [`PolicyEngine::publish`] makes it live.
#[derive(Debug)]
pub struct Prepared(PolicySet);

impl Prepared {
    /// Verifies `bytes` (with the default cost budget) and builds the index, request plan
    /// and counters.
    pub fn new(bytes: Vec<u8>) -> Result<Prepared, Error> {
        Prepared::with_max_cost(bytes, ipe_nostd::verify::DEFAULT_MAX_COST)
    }

    /// [`new`](Self::new), refusing bundles with a policy whose cost bound exceeds
    /// `max_cost` steps.
    pub fn with_max_cost(bytes: Vec<u8>, max_cost: u32) -> Result<Prepared, Error> {
        PolicySet::build(BundleBytes::Owned(bytes.into_boxed_slice()), max_cost, None).map(Prepared)
    }

    /// [`with_max_cost`](Self::with_max_cost) requiring a signature that `trust` accepts
    /// (issue #18). An engine with its own [`TrustPolicy`] checks the envelope again against
    /// that policy when the set is [published](PolicyEngine::publish).
    pub fn signed(bytes: Vec<u8>, max_cost: u32, trust: &TrustPolicy) -> Result<Prepared, Error> {
        let check = Check {
            policy: trust,
            min_revision: trust.min_revision,
        };
        PolicySet::build(
            BundleBytes::Owned(bytes.into_boxed_slice()),
            max_cost,
            Some(check),
        )
        .map(Prepared)
    }
}

thread_local! {
    /// The per-thread request arena, reset at the start of every JSON request.
    static ARENA: RefCell<Bump> = RefCell::new(Bump::new());
}

impl PolicySet {
    fn build(
        bytes: BundleBytes,
        max_cost: u32,
        check: Option<Check<'_>>,
    ) -> Result<PolicySet, Error> {
        let mut signature = None;
        let loaded = Loaded::try_new(bytes, |b| {
            trust::open(b, check, max_cost).map(|(bundle, info)| {
                signature = info;
                bundle
            })
        })?;
        let bundle = loaded.borrow_dependent();
        let index = Index::build(bundle);
        let plan = Plan::build(bundle);
        let counters = Counters::new(bundle.policy_count());
        let chains = ipe_nostd::vm::Prepared::new(bundle);
        Ok(PolicySet {
            version: 0,
            shared: Arc::new(Shared {
                loaded,
                index,
                plan,
                counters,
                signature,
                chains,
            }),
            jit: None,
        })
    }

    /// The set's JIT table, if it has one.
    #[allow(
        dead_code,
        reason = "read by the background compiler, which exists only with the `jit` feature"
    )]
    pub(crate) fn jit_table(&self) -> Option<&Table> {
        self.jit.as_ref()
    }

    /// The version number [`PolicyEngine`] published this set under (0 if never published).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The verified bundle.
    pub fn bundle(&self) -> &Bundle<'_> {
        self.shared.loaded.borrow_dependent()
    }

    /// What the signed envelope of the bundle said, when the engine checked its signature
    /// (issue #18; `None` for an engine without a [`TrustPolicy`]).
    pub fn signature(&self) -> Option<SignatureInfo> {
        self.shared.signature
    }

    /// The bundle's bytes, as loaded (a signed bundle's whole envelope).
    pub fn bundle_bytes(&self) -> &[u8] {
        self.shared.loaded.borrow_owner()
    }

    /// Whether the bundle's bytes are a file mapping rather than an owned copy.
    pub fn is_mapped(&self) -> bool {
        self.shared.loaded.borrow_owner().is_mapped()
    }

    /// Number of policies.
    pub fn policy_count(&self) -> usize {
        self.bundle().policy_count()
    }

    /// Number of policies filed under the trigger index (the rest are visited on every
    /// request).
    pub fn indexed_policies(&self) -> usize {
        self.shared.index.indexed()
    }

    /// Evaluations of policy `id` so far, summed over threads (cheap; may lag by a few
    /// in-flight evaluations).
    pub fn evaluations(&self, id: PolicyId) -> u64 {
        self.shared.counters.evaluations(id)
    }

    /// Every policy's counters, with the code tier each runs at and the JIT's counters.
    pub fn stats(&self) -> Stats {
        let mut stats = self.shared.counters.snapshot(self.bundle(), self.version);
        if let Some(jit) = &self.jit {
            stats.jit = jit.stats();
            stats.jit_last_failure = jit.last_failure();
            for p in &mut stats.policies {
                p.code = jit.code_tier(p.id);
            }
        }
        stats
    }

    /// Which code runs policy `id` now.
    pub fn code_tier(&self, id: PolicyId) -> CodeTier {
        if let Some(jit) = &self.jit {
            return jit.code_tier(id);
        }
        CodeTier::Interpreter
    }

    /// Evaluates one policy with its native code or the interpreter, counting it (and, in
    /// adaptive mode, queuing it for compilation once it is hot).
    #[inline(always)]
    fn run_policy(
        &self,
        bundle: &Bundle<'_>,
        shard: Option<&crate::stats::Shard>,
        id: PolicyId,
        head: Option<SlotId>,
        values: &[Value<'_>],
    ) -> Outcome {
        if let Some(jit) = &self.jit {
            let (outcome, n) = Counters::record(shard, id, || jit.eval(bundle, id, values));
            jit.observe(id, n, &self.shared.counters);
            return outcome;
        }
        // A candidate found through an index bucket skips its trigger's head (issue #15);
        // a bundle with aggregate chains decodes them from its table (issue #15, session 13).
        let chains = &self.shared.chains;
        if chains.is_empty() {
            return Counters::record(shard, id, || match head {
                Some(slot) => ipe_nostd::vm::eval_policy_indexed(bundle, id, values, slot),
                None => ipe_nostd::vm::eval_policy_values(bundle, id, values),
            })
            .0;
        }
        Counters::record(shard, id, || match head {
            Some(slot) => {
                ipe_nostd::vm::eval_policy_indexed_prepared(bundle, chains, id, values, slot)
            }
            None => ipe_nostd::vm::eval_policy_values_prepared(bundle, chains, id, values),
        })
        .0
    }

    /// Evaluates policy `id` with its native code over checked slots, counting it as
    /// [`run_policy`](Self::run_policy) does.
    #[inline(always)]
    fn run_native<const X: bool>(
        &self,
        bundle: &Bundle<'_>,
        counts: View<'_, X>,
        jit: &Table,
        id: PolicyId,
        slots: Slots<'_, '_>,
    ) -> Outcome {
        let (outcome, n) = counts.record(id, || jit.eval_slots(bundle, id, slots));
        jit.observe(id, n, &self.shared.counters);
        outcome
    }

    /// Evaluates every policy a decision for these values evaluates, in order, and gives each
    /// outcome to `k`. First-match groups are honoured by `for_each_admitted` (a bundle without
    /// groups pays one check per decision).
    ///
    /// A set with native code and slots long enough for it runs [`native_outcomes`]
    /// (Self::native_outcomes), so neither the choice of code nor the slice's length is tested
    /// per candidate (issue #15, session 14).
    #[inline(always)]
    fn for_each_outcome<K: Collect>(&self, bundle: &Bundle<'_>, values: &[Value<'_>], k: &mut K) {
        if let Some(jit) = &self.jit {
            if let Some(slots) = jit.slots(values) {
                self.native_outcomes(bundle, jit, slots, k);
                return;
            }
        }
        self.interpreted_outcomes(bundle, values, k);
    }

    /// [`for_each_outcome`](Self::for_each_outcome) for a set without native code (or slots
    /// too short for it), out of line (issue #15, session 19): inlined, its frame was most of
    /// what a native decision paid in `evaluate_values`.
    #[inline(never)]
    fn interpreted_outcomes<K: Collect>(
        &self,
        bundle: &Bundle<'_>,
        values: &[Value<'_>],
        k: &mut K,
    ) {
        let shard = self.shared.counters.shard();
        self.shared.index.for_each_admitted(
            bundle,
            values,
            k,
            |k, id| {
                let outcome = self.run_policy(bundle, shard, id, None, values);
                k.add(id, outcome);
                k.next(outcome)
            },
            |k, id, head| {
                k.add(id, self.run_policy(bundle, shard, id, head, values));
                k.next(())
            },
        );
    }

    /// [`for_each_outcome`](Self::for_each_outcome) for a set with native code, out of line
    /// (issue #15, session 18): its own function keeps the candidate loop's state in
    /// registers, and a native candidate that was not applicable or satisfied is counted and
    /// combined from its return code, without an [`Outcome`] built and matched again.
    #[inline(never)]
    fn native_outcomes<K: Collect>(
        &self,
        bundle: &Bundle<'_>,
        jit: &Table,
        slots: Slots<'_, '_>,
        k: &mut K,
    ) {
        // The shard's kind is decided here, once per decision (issue #15, session 22: per
        // candidate, it was a test, a spill and a reload).
        match self.shared.counters.shard().map(|s| s.view()) {
            Some(Views::Exclusive(v)) => self.native_candidates(bundle, jit, slots, k, v),
            Some(Views::Shared(v)) => self.native_candidates(bundle, jit, slots, k, v),
            None => self.native_candidates(bundle, jit, slots, k, View::<false>::NONE),
        }
    }

    /// [`native_outcomes`](Self::native_outcomes) counting in `counts`.
    #[inline(always)]
    fn native_candidates<K: Collect, const X: bool>(
        &self,
        bundle: &Bundle<'_>,
        jit: &Table,
        slots: Slots<'_, '_>,
        k: &mut K,
        counts: View<'_, X>,
    ) {
        let index = &self.shared.index;
        if index.has_unindexed()
            && self
                .native_unindexed(bundle, counts, jit, slots, k)
                .is_break()
        {
            return;
        }
        let _ = index.for_each_indexed(bundle, slots.values(), k, |k, id, _| {
            let Some(code) = jit.native(id) else {
                k.add(id, self.run_native(bundle, counts, jit, id, slots));
                return k.next(());
            };
            let mut out = RawOut::default();
            let (ret, n) = counts.record(id, || code.call(slots, &mut out));
            jit.observe(id, n, &self.shared.counters);
            k.native(id, ret, &out);
            k.next(())
        });
    }

    /// The unindexed policies of [`native_outcomes`](Self::native_outcomes), out of line
    /// (issue #15, session 19: most indexed bundles have none, and their closure's captures
    /// were set up on every decision).
    #[inline(never)]
    fn native_unindexed<K: Collect, const X: bool>(
        &self,
        bundle: &Bundle<'_>,
        counts: View<'_, X>,
        jit: &Table,
        slots: Slots<'_, '_>,
        k: &mut K,
    ) -> ControlFlow<()> {
        self.shared.index.run_unindexed(bundle, k, |k, id| {
            let outcome = self.run_native(bundle, counts, jit, id, slots);
            k.add(id, outcome);
            k.next(outcome)
        })
    }

    /// Evaluates the candidate policies for these slot values (indexed by slot id; shorter
    /// slices read as missing) and combines their outcomes into complete lists. Allocates
    /// nothing once this thread's decision buffers have grown to the longest decision.
    #[inline(always)]
    pub fn evaluate_values(&self, values: &[Value<'_>]) -> HostDecision {
        let bundle = self.bundle();
        let default = bundle.default_effect();
        let mut d = HostDecision::new(default);
        // The decision is built where it is returned, not moved out of the collector.
        let mut k = Complete {
            acc: Accumulator::new(default),
            d: &mut d,
        };
        self.for_each_outcome(bundle, values, &mut k);
        k.acc.finish(k.d);
        d
    }

    /// [`evaluate_values`](Self::evaluate_values) into a fixed-capacity decision (inline
    /// lists of `M` entries; see [`Decision::truncated`]).
    pub fn decide<const M: usize>(&self, values: &[Value<'_>]) -> Decision<M> {
        let bundle = self.bundle();
        let mut out = DecisionBuilder::<M>::new(bundle.default_effect());
        self.for_each_outcome(bundle, values, &mut out);
        out.finish()
    }

    /// [`evaluate_values`](Self::evaluate_values) as data (issue #15): the effect and each
    /// applied or erring policy's outcome written into `out` (cleared first), no list built
    /// or sorted; [`Verdict::to_decision`] gives the lists when they are wanted. Allocates
    /// nothing once `out` has grown to the longest decision.
    #[inline]
    pub fn decide_into(&self, values: &[Value<'_>], out: &mut Verdict) {
        let bundle = self.bundle();
        let default = bundle.default_effect();
        out.start(default);
        let mut k = Data {
            acc: Accumulator::new(default),
            effect: EffectOnly::new(default),
            out,
        };
        self.for_each_outcome(bundle, values, &mut k);
        let Data {
            acc,
            mut effect,
            out,
        } = k;
        acc.finish(&mut effect);
        out.finish(effect.effect);
    }

    /// [`evaluate_values`](Self::evaluate_values) in brief (issue #15): the effect and, for a
    /// deny, the policy that settled it, for callers on a data path that want the answer
    /// first and the explanation only for some requests. Evaluation stops at the first
    /// policy that is violated or in error (deny overrides: the rest cannot change the
    /// effect); no reason is decoded and no list built. The effect is always the one
    /// `evaluate_values` gives for the same values, which also explains it. Policies after
    /// the deciding one are not evaluated, so they are not counted in [`stats`](Self::stats).
    #[inline]
    pub fn brief(&self, values: &[Value<'_>]) -> Brief {
        let bundle = self.bundle();
        let mut k = BriefAccumulator::new(bundle.default_effect());
        self.for_each_outcome(bundle, values, &mut k);
        k.finish()
    }

    /// Starts a typed request whose values live in `arena` (reset it between requests).
    pub fn request<'s, 'r>(&'s self, arena: &'r Bump) -> RequestBuilder<'s, 'r> {
        RequestBuilder::new(self, arena)
    }

    /// Parses a JSON request into slot values in `arena` (no intermediate tree).
    pub fn parse_json<'r>(&self, json: &'r str, arena: &'r Bump) -> Result<&'r [Value<'r>], Error> {
        self.shared.plan.parse(self.bundle(), json, arena)
    }

    /// Evaluates a JSON request, building its context in the calling thread's arena (reset
    /// per request). Allocates nothing once the arena has grown to the largest request.
    pub fn evaluate_json(&self, json: &str) -> Result<HostDecision, Error> {
        ARENA.with(|cell| match cell.try_borrow_mut() {
            Ok(mut arena) => {
                arena.reset();
                let values = self.parse_json(json, &arena)?;
                Ok(self.evaluate_values(values))
            }
            // Re-entered from inside an evaluation: use a private arena.
            Err(_) => {
                let arena = Bump::new();
                let values = self.parse_json(json, &arena)?;
                Ok(self.evaluate_values(values))
            }
        })
    }

    /// [`evaluate_json`](Self::evaluate_json) at the request time `now_ms` (issue #14: ms
    /// since the Unix epoch), which replaces any `now` the request carries, so a client cannot
    /// pick the clock its request is judged by.
    pub fn evaluate_json_at(&self, json: &str, now_ms: i64) -> Result<HostDecision, Error> {
        let run = |arena: &Bump| {
            let values = self.values_at(self.parse_json(json, arena)?, now_ms, arena);
            Ok(self.evaluate_values(values))
        };
        ARENA.with(|cell| match cell.try_borrow_mut() {
            Ok(mut arena) => {
                arena.reset();
                run(&arena)
            }
            Err(_) => run(&Bump::new()),
        })
    }

    /// [`report_json`](Self::report_json) at the request time `now_ms` (see
    /// [`evaluate_json_at`](Self::evaluate_json_at)).
    pub fn report_json_at(&self, json: &str, now_ms: i64) -> Result<Report, Error> {
        let run = |arena: &Bump| {
            let values = self.values_at(self.parse_json(json, arena)?, now_ms, arena);
            let d = self.evaluate_values(values);
            Ok(self.report_values(&d, values))
        };
        ARENA.with(|cell| match cell.try_borrow_mut() {
            Ok(mut arena) => {
                arena.reset();
                run(&arena)
            }
            Err(_) => run(&Bump::new()),
        })
    }

    /// `values` with the `now` slot set to `now_ms` (a copy in `arena` when the bundle reads
    /// `now`).
    fn values_at<'r>(
        &self,
        values: &'r [Value<'r>],
        now_ms: i64,
        arena: &'r Bump,
    ) -> &'r [Value<'r>] {
        match self.bundle().now_slot() {
            Some(s) => {
                let n = values.len().max(usize::from(s) + 1);
                let copy = arena.alloc_slice_fill_copy(n, Value::Missing);
                for (c, v) in copy.iter_mut().zip(values) {
                    *c = *v;
                }
                if let Some(v) = copy.get_mut(usize::from(s)) {
                    *v = Value::Int(now_ms);
                }
                copy
            }
            None => values,
        }
    }

    /// Renders a decision this set made, with names, intents and reasons. Reason template
    /// placeholders need the request's values: without them they render as `<missing>`; use
    /// [`report_values`](Self::report_values) or [`report_json`](Self::report_json).
    pub fn report(&self, d: &HostDecision) -> Report {
        Report::of_host(self.bundle(), d)
    }

    /// Renders a decision this set made from `values`, reasons filled from those values.
    pub fn report_values(&self, d: &HostDecision, values: &[Value<'_>]) -> Report {
        Report::with_values(self.bundle(), d, values)
    }

    /// Evaluates a JSON request and renders its decision while its values are at hand (reason
    /// templates filled), in the calling thread's arena as [`evaluate_json`](Self::evaluate_json).
    pub fn report_json(&self, json: &str) -> Result<Report, Error> {
        let run = |arena: &Bump| {
            let values = self.parse_json(json, arena)?;
            let d = self.evaluate_values(values);
            Ok(self.report_values(&d, values))
        };
        ARENA.with(|cell| match cell.try_borrow_mut() {
            Ok(mut arena) => {
                arena.reset();
                run(&arena)
            }
            Err(_) => run(&Bump::new()),
        })
    }
}

/// A borrowed view of the live set: cheap to take (no reference-count traffic in the common
/// case), meant to be held for one request or one batch.
pub struct Snapshot(Guard<Arc<PolicySet>>);

impl std::ops::Deref for Snapshot {
    type Target = PolicySet;

    fn deref(&self) -> &PolicySet {
        &self.0
    }
}

/// One thread's cached view of a [`PolicyEngine`]'s live set, from
/// [`PolicyEngine::reader`]: `load` is a relaxed pointer comparison while the version it holds
/// is still the live one, and loads the new version (one reference count) after a publish.
///
/// A reader holds the version it last loaded (as an `Arc` from
/// [`PolicyEngine::load_full`] would) until its next `load` or its drop: that version is not
/// freed meanwhile, and a reader kept past its engine frees it when dropped. The engine's
/// retired list keeps a reference to every replaced version, so a reader's refresh never runs
/// a version's destructor.
///
/// ```no_run
/// # fn demo(requests: &[&str]) -> Result<(), ipe_host::Error> {
/// let engine = ipe_host::PolicyEngine::from_file("policies.ipeb")?;
/// let mut reader = engine.reader(); // one per serving thread
/// for request in requests {
///     let decision = reader.load().evaluate_json(request)?;
///     println!("{:?}", decision.effect);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Reader {
    cache: arc_swap::Cache<Arc<ArcSwap<PolicySet>>, Arc<PolicySet>>,
}

impl Reader {
    /// The live set: the one this reader holds while nothing new was published.
    #[inline]
    pub fn load(&mut self) -> &PolicySet {
        self.cache.load()
    }

    /// [`PolicySet::evaluate_json`] on the live set.
    pub fn evaluate_json(&mut self, json: &str) -> Result<HostDecision, Error> {
        self.load().evaluate_json(json)
    }

    /// [`PolicySet::brief`] on the live set.
    #[inline]
    pub fn brief(&mut self, values: &[Value<'_>]) -> Brief {
        self.load().brief(values)
    }
}

/// Where a decision loop puts each evaluated policy's outcome (one implementation per kind of
/// decision the set gives).
trait Collect {
    /// Takes the outcome of policy `id`, in evaluation order.
    fn add(&mut self, id: PolicyId, outcome: Outcome);

    /// [`add`](Self::add) of [`Outcome::Satisfied`], the common outcome of a candidate.
    #[inline(always)]
    fn satisfied(&mut self, id: PolicyId) {
        self.add(id, Outcome::Satisfied);
    }

    /// [`add`](Self::add) of [`Outcome::Violated`] with `v`.
    #[inline(always)]
    fn violated(&mut self, v: Violation) {
        self.add(v.policy, Outcome::Violated(v));
    }

    /// Takes policy `id`'s outcome from its native code: the return code and the record the
    /// call wrote (decoded only for a violation or an error).
    #[inline(always)]
    fn native(&mut self, id: PolicyId, ret: Ret, out: &RawOut) {
        if ret.is_satisfied() {
            self.satisfied(id);
        } else if let Some(v) = ret.violation(id, out) {
            self.violated(v);
        } else if !ret.is_not_applicable() {
            self.add(id, ret.outcome(id, out));
        }
    }

    /// Whether the decision is settled, so the loop evaluates no further policy (only a
    /// collector that keeps nothing but the effect stops at a deny).
    #[inline(always)]
    fn done(&self) -> bool {
        false
    }

    /// What a loop's closure returns after giving this collector an outcome: go on with
    /// `c`, or stop when the decision is [`done`](Self::done).
    #[inline(always)]
    fn next<C>(&self, c: C) -> ControlFlow<(), C> {
        if self.done() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(c)
        }
    }
}

/// [`PolicySet::brief`]'s decision (`ipe_nostd`'s brief rules, shared with
/// `ipe_nostd::vm::brief`).
impl Collect for BriefAccumulator {
    #[inline(always)]
    fn add(&mut self, id: PolicyId, outcome: Outcome) {
        BriefAccumulator::add(self, id, &outcome);
    }

    #[inline(always)]
    fn satisfied(&mut self, _id: PolicyId) {
        BriefAccumulator::satisfied(self);
    }

    #[inline(always)]
    fn native(&mut self, id: PolicyId, ret: Ret, _out: &RawOut) {
        if ret.is_satisfied() {
            BriefAccumulator::satisfied(self);
        } else if !ret.is_not_applicable() {
            self.denied(id);
        }
    }

    #[inline(always)]
    fn done(&self) -> bool {
        self.settled()
    }
}

/// [`PolicySet::evaluate_values`]'s decision: complete lists.
struct Complete<'d> {
    acc: Accumulator,
    d: &'d mut HostDecision,
}

impl Collect for Complete<'_> {
    #[inline(always)]
    fn add(&mut self, id: PolicyId, outcome: Outcome) {
        self.acc.add(self.d, id, outcome);
    }

    #[inline(always)]
    fn satisfied(&mut self, id: PolicyId) {
        self.acc.satisfied(self.d, id);
    }

    #[inline(always)]
    fn violated(&mut self, v: Violation) {
        self.acc.violated(self.d, v.policy, v);
    }
}

impl<const M: usize> Collect for DecisionBuilder<M> {
    #[inline(always)]
    fn add(&mut self, id: PolicyId, outcome: Outcome) {
        DecisionBuilder::add(self, id, outcome);
    }
}

/// [`PolicySet::decide_into`]'s decision: the effect and the outcomes as data.
struct Data<'o> {
    acc: Accumulator,
    effect: EffectOnly,
    out: &'o mut Verdict,
}

impl Collect for Data<'_> {
    #[inline(always)]
    fn add(&mut self, id: PolicyId, outcome: Outcome) {
        self.acc.add(&mut self.effect, id, outcome);
        self.out.record(id, outcome);
    }
}

/// A policy set that can be replaced while many threads evaluate it.
///
/// Readers ([`load`](Self::load), [`evaluate_json`](Self::evaluate_json)) never block and
/// never fail because of a swap: each evaluation sees exactly one version. A replaced version
/// is *retired*: freed once no reader holds it any more, by the next writer or the engine's
/// reclaimer thread, never by a reader ([`retired_versions`](Self::retired_versions),
/// [`reclaim`](Self::reclaim)). Writers ([`swap`](Self::swap),
/// [`reload`](Self::reload), [`publish`](Self::publish)) are serialized and number versions
/// 1, 2, 3, ….
///
/// # Examples
/// ```no_run
/// # fn demo() -> Result<(), ipe_host::Error> {
/// let engine = ipe_host::PolicyEngine::from_file("policies.ipeb")?;
/// let set = engine.load();
/// let decision = set.evaluate_json(r#"{"resource":{"type":"Deployment"}}"#)?;
/// println!("{}", set.report(&decision).to_json());
/// engine.reload()?; // later readers see version 2
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PolicyEngine {
    live: Arc<ArcSwap<PolicySet>>,
    source: Option<FileSource>,
    writer: Mutex<u64>,
    options: EngineOptions,
    /// The background compiler (adaptive mode with the `jit` feature).
    background: Option<Arc<Background>>,
    /// The signature requirement and highest accepted revision (issue #18).
    gate: Option<Gate>,
    /// Replaced versions not freed yet, and the thread that frees them (issue #15).
    reclaimer: Reclaimer,
}

impl PolicyEngine {
    /// An engine over owned bundle bytes, verified; version 1. Uses the default
    /// [`EngineOptions`] (adaptive tiering when the `jit` feature is on).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<PolicyEngine, Error> {
        PolicyEngine::with_options(bytes, EngineOptions::default())
    }

    /// An engine over owned bundle bytes with explicit options (for example
    /// [`EngineOptions::interpreter`] or [`EngineOptions::jit_all`] in tests and benches).
    pub fn with_options(bytes: Vec<u8>, options: EngineOptions) -> Result<PolicyEngine, Error> {
        let prepared = Prepared::with_max_cost(bytes, options.max_cost)?;
        Ok(PolicyEngine::new(prepared, None, options, None))
    }

    /// An engine over owned bundle bytes that must be signed as `trust` requires (issue
    /// #18): this load, every [`swap`](Self::swap) and [`reload`](Self::reload) refuse an
    /// unsigned, wrongly signed, unknown-key, not-yet-valid bundle or one older than the
    /// highest revision accepted so far, and a refused bundle never replaces the live one.
    pub fn with_trust(
        bytes: Vec<u8>,
        options: EngineOptions,
        trust: TrustPolicy,
    ) -> Result<PolicyEngine, Error> {
        let gate = Gate::new(trust);
        let prepared = Prepared::signed(bytes, options.max_cost, &gate.policy)?;
        Ok(PolicyEngine::new(prepared, None, options, Some(gate)))
    }

    /// [`from_file_with_options`](Self::from_file_with_options) requiring signatures as
    /// [`with_trust`](Self::with_trust) does, on this load and every reload.
    pub fn from_file_with_trust(
        path: impl AsRef<Path>,
        options: EngineOptions,
        trust: TrustPolicy,
    ) -> Result<PolicyEngine, Error> {
        PolicyEngine::from_source_with(
            FileSource {
                path: path.as_ref().to_owned(),
                map: None,
            },
            options,
            Some(Gate::new(trust)),
        )
    }

    /// [`from_file`](Self::from_file) with explicit options.
    pub fn from_file_with_options(
        path: impl AsRef<Path>,
        options: EngineOptions,
    ) -> Result<PolicyEngine, Error> {
        PolicyEngine::from_source(
            FileSource {
                path: path.as_ref().to_owned(),
                map: None,
            },
            options,
        )
    }

    /// Reads a bundle file into an owned buffer and verifies it; version 1. The file may be
    /// changed or removed afterwards ([`reload`](Self::reload) reads it again). See
    /// [`from_file_mapped`](Self::from_file_mapped) to map large files instead.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PolicyEngine, Error> {
        PolicyEngine::from_file_with_options(path, EngineOptions::default())
    }

    pub(crate) fn from_source(
        source: FileSource,
        options: EngineOptions,
    ) -> Result<PolicyEngine, Error> {
        PolicyEngine::from_source_with(source, options, None)
    }

    pub(crate) fn from_source_with(
        source: FileSource,
        options: EngineOptions,
        gate: Option<Gate>,
    ) -> Result<PolicyEngine, Error> {
        let check = gate.as_ref().map(|g| Check {
            policy: &g.policy,
            min_revision: g.policy.min_revision,
        });
        let set = PolicySet::build(source.read()?, options.max_cost, check)?;
        Ok(PolicyEngine::new(
            Prepared(set),
            Some(source),
            options,
            gate,
        ))
    }

    fn new(
        Prepared(mut set): Prepared,
        source: Option<FileSource>,
        options: EngineOptions,
        gate: Option<Gate>,
    ) -> PolicyEngine {
        if let (Some(g), Some(info)) = (&gate, set.shared.signature) {
            let mut highest = g.highest.lock().unwrap_or_else(|e| e.into_inner());
            *highest = (*highest).max(info.revision);
        }
        let background = Background::for_options(&options);
        PolicyEngine::attach(&mut set, &options, background.as_ref(), None, 1);
        set.version = 1;
        let live = Arc::new(ArcSwap::from_pointee(set));
        if let Some(bg) = &background {
            bg.start(&live);
        }
        PolicyEngine {
            live,
            source,
            writer: Mutex::new(1),
            options,
            background,
            gate,
            reclaimer: Reclaimer::default(),
        }
    }

    /// Gives a set about to be published as `version` its JIT table (taking the native code
    /// of `prev`, the live set, for unchanged policies, and compiling everything else in
    /// `JitAll` mode; never a table without the `jit` feature).
    fn attach(
        set: &mut PolicySet,
        options: &EngineOptions,
        background: Option<&Arc<Background>>,
        prev: Option<&PolicySet>,
        version: u64,
    ) {
        let prev = prev.and_then(|p| p.jit.as_ref());
        set.jit = Table::new(
            set.bundle(),
            &set.shared.counters,
            options,
            background,
            prev,
        );
        if let Some(t) = &mut set.jit {
            t.set_version(version);
        }
    }

    /// The options the engine was created with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Waits until the background compiler has compiled every policy queued so far, or
    /// `timeout` passes; returns whether it went idle (always `true` when nothing compiles in
    /// the background). Requests never need this; tests and demos use it.
    pub fn wait_for_jit(&self, timeout: std::time::Duration) -> bool {
        if let Some(bg) = &self.background {
            return bg.wait_idle(timeout);
        }
        true
    }

    /// The live set, for one request or a batch.
    #[inline]
    pub fn load(&self) -> Snapshot {
        Snapshot(self.live.load())
    }

    /// A handle for one thread's hot loop: [`Reader::load`] costs one relaxed load and a
    /// comparison while nothing new is published, where [`load`](Self::load) registers and
    /// releases a borrow (issue #15, session 18). The reader keeps the version it last loaded
    /// alive until its next load or its drop, so give each serving thread its own and drop the
    /// readers of idle threads.
    pub fn reader(&self) -> Reader {
        Reader {
            cache: arc_swap::Cache::new(Arc::clone(&self.live)),
        }
    }

    /// The live set as an owned reference, for holding across many requests (keeps that
    /// version alive).
    pub fn load_full(&self) -> Arc<PolicySet> {
        self.live.load_full()
    }

    /// The live version number.
    pub fn version(&self) -> u64 {
        self.live.load().version
    }

    /// Verifies `bytes` (against the engine's cost budget and, with a [`TrustPolicy`], its
    /// signature) and publishes them as the next version, returning its number. A refused
    /// bundle leaves the live version in place.
    pub fn swap(&self, bytes: Vec<u8>) -> Result<u64, Error> {
        self.build_and_publish(BundleBytes::Owned(bytes.into_boxed_slice()))
    }

    /// Reads the engine's file again (the same way it was first read) and publishes it,
    /// checked as [`swap`](Self::swap) checks.
    pub fn reload(&self) -> Result<u64, Error> {
        let source = self.source.as_ref().ok_or(ErrorKind::NoSource)?;
        self.build_and_publish(source.read()?)
    }

    /// The highest revision of a signed bundle this engine accepted (its trust policy's
    /// minimum before any); `None` for an engine without a [`TrustPolicy`].
    pub fn highest_revision(&self) -> Option<u64> {
        self.gate
            .as_ref()
            .map(|g| *g.highest.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Verifies (and with a gate, checks the signature of) `bytes` and publishes them. The
    /// gate's lock is held from the check to the publication, so revisions only go up.
    fn build_and_publish(&self, bytes: BundleBytes) -> Result<u64, Error> {
        let max_cost = self.options.max_cost;
        let Some(gate) = &self.gate else {
            return Ok(self.publish_checked(PolicySet::build(bytes, max_cost, None)?));
        };
        let mut highest = gate.highest.lock().unwrap_or_else(|e| e.into_inner());
        let check = Check {
            policy: &gate.policy,
            min_revision: *highest,
        };
        let set = PolicySet::build(bytes, max_cost, Some(check))?;
        if let Some(info) = set.shared.signature {
            *highest = (*highest).max(info.revision);
        }
        Ok(self.publish_checked(set))
    }

    /// Publishes a prepared set as the next version (an atomic pointer store), returning its
    /// number. On an engine with a [`TrustPolicy`] the set's bytes must be a signed bundle
    /// that the policy accepts, at a revision not below the highest accepted so far (the
    /// signature is checked again, whatever [`Prepared`] constructor built the set); a refused
    /// set leaves the live version in place. With
    /// [`TierMode::JitAll`](crate::TierMode::JitAll) every policy is compiled first, on the
    /// calling thread.
    pub fn publish(&self, Prepared(mut set): Prepared) -> Result<u64, Error> {
        let Some(gate) = &self.gate else {
            return Ok(self.publish_checked(set));
        };
        let mut highest = gate.highest.lock().unwrap_or_else(|e| e.into_inner());
        let info = gate.admit(&mut highest, set.bundle_bytes())?;
        // The set is not shared before publication (`Prepared` owns it); when it is (never in
        // this crate), its own record of the envelope is left as it was.
        if let Some(shared) = Arc::get_mut(&mut set.shared) {
            shared.signature = Some(info);
        }
        Ok(self.publish_checked(set))
    }

    /// Publishes a set whose bytes passed the engine's checks.
    fn publish_checked(&self, mut set: PolicySet) -> u64 {
        // Unchanged policies keep the live version's native code (issue #15). The writer's
        // reference never frees it: the engine's pointer or retired list holds another.
        let live = self.live.load_full();
        PolicyEngine::attach(
            &mut set,
            &self.options,
            self.background.as_ref(),
            Some(&live),
            0,
        );
        drop(live);
        // A poisoned lock only means another writer panicked; the counter is still valid.
        let mut last = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        *last = last.wrapping_add(1);
        set.version = *last;
        if let Some(t) = &mut set.jit {
            t.set_version(*last);
        }
        let old = self.live.swap(Arc::new(set));
        let version = *last;
        drop(last);
        // The engine keeps the replaced version until no reader holds it: a reader never
        // runs its destructor.
        self.reclaimer.retire(old);
        version
    }

    /// Versions replaced and not freed yet because a reader still holds them (a
    /// [`Snapshot`] or an `Arc` from [`load_full`](Self::load_full)); the reclaimer thread
    /// frees each one shortly after its last reader is done.
    pub fn retired_versions(&self) -> usize {
        self.reclaimer.retired()
    }

    /// Frees, on the calling thread, the replaced versions no reader holds any more, and
    /// returns how many (the reclaimer thread does this by itself every few milliseconds).
    pub fn reclaim(&self) -> usize {
        self.reclaimer.reclaim()
    }

    /// Evaluates a JSON request against the live version.
    pub fn evaluate_json(&self, json: &str) -> Result<HostDecision, Error> {
        self.load().evaluate_json(json)
    }

    /// The live version's per-policy counters, with the engine's count of retired versions.
    pub fn stats(&self) -> Stats {
        let mut stats = self.load().stats();
        stats.retired_versions = self.reclaimer.retired();
        stats.freed_versions = self.reclaimer.freed();
        stats
    }
}

impl Drop for PolicyEngine {
    fn drop(&mut self) {
        if let Some(bg) = &self.background {
            bg.shutdown();
        }
        self.reclaimer.shutdown();
    }
}
