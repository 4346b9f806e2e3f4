//! The policy engine: a verified, indexed policy set behind an atomic pointer, replaced while
//! serving.

use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};
use bumpalo::Bump;
use ipe_nostd::{Bundle, Decision, DecisionBuilder, Outcome, PolicyId, Value};

use crate::error::{Error, ErrorKind};
use crate::index::Index;
use crate::mmap::{BundleBytes, FileSource};
use crate::report::Report;
use crate::request::{Plan, RequestBuilder};
use crate::stats::{Counters, Stats};

/// Entries per decision list kept by [`PolicySet::evaluate_values`] and the JSON paths (the
/// effect is right whatever the count; see [`Decision::truncated`]). Small on purpose: the
/// decision is returned by value and its lists are inline, so every entry of capacity is
/// copied per request; [`PolicySet::decide`] takes any capacity.
pub const DECISION_LIST: usize = 16;

/// The decision the engine returns: policy ids into the [`PolicySet`] that made it.
pub type HostDecision = Decision<DECISION_LIST>;

self_cell::self_cell!(
    /// A bundle's bytes and the verified view borrowing them.
    struct Loaded {
        owner: BundleBytes,
        #[covariant]
        dependent: Bundle,
    }
    impl {Debug}
);

/// How one policy of a set is evaluated: the hook JIT tiering plugs into.
///
/// Every evaluation of a policy goes through [`PolicySet::run_policy`], which dispatches on the
/// policy's entry in the set's `tiers` table. A set is built with every entry
/// [`Tier::Interp`]; the JIT (`src/jit/`, behind the `jit` feature) compiles the policies that
/// [`PolicySet::evaluations`] shows are hot and publishes a new set sharing the same bytes with
/// those entries replaced by [`Tier::Native`] (see [`PolicySet::with_tiers`]). Native code must
/// return exactly the interpreter's [`Outcome`] for the same bundle, policy and values, and
/// whatever it points into must be owned by the boxed [`PolicyCode`] so it lives as long as
/// the set.
#[derive(Default)]
pub(crate) enum Tier {
    /// The bytecode interpreter (`ipe_nostd::vm::eval_policy_values`).
    #[default]
    Interp,
    /// Compiled code for this policy.
    #[expect(dead_code, reason = "constructed by the JIT (issue 8)")]
    Native(Box<dyn PolicyCode>),
}

/// Compiled code for one policy (implemented by the JIT).
pub(crate) trait PolicyCode: Send + Sync {
    /// The policy's outcome for these slot values.
    fn eval(&self, bundle: &Bundle<'_>, id: PolicyId, values: &[Value<'_>]) -> Outcome;
}

impl std::fmt::Debug for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tier::Interp => "Interp",
            Tier::Native(_) => "Native",
        })
    }
}

/// One published, immutable version of the policy set: the verified bundle, its index, its
/// request plan, per-policy code and counters.
///
/// Obtained from [`PolicyEngine::load`]; every decision it makes refers to its own policy ids,
/// so render them with the same set ([`PolicySet::report`]).
#[derive(Debug)]
pub struct PolicySet {
    version: u64,
    shared: Arc<Shared>,
    tiers: Box<[Tier]>,
}

/// What every set built from the same bytes shares.
#[derive(Debug)]
struct Shared {
    loaded: Loaded,
    index: Index,
    plan: Plan,
    counters: Counters,
}

/// A verified and indexed set not yet published; [`PolicyEngine::publish`] makes it live.
#[derive(Debug)]
pub struct Prepared(PolicySet);

impl Prepared {
    /// Verifies `bytes` and builds the index, request plan and counters.
    pub fn new(bytes: Vec<u8>) -> Result<Prepared, Error> {
        PolicySet::build(BundleBytes::Owned(bytes.into_boxed_slice())).map(Prepared)
    }
}

thread_local! {
    /// The per-thread request arena, reset at the start of every JSON request.
    static ARENA: RefCell<Bump> = RefCell::new(Bump::new());
}

impl PolicySet {
    fn build(bytes: BundleBytes) -> Result<PolicySet, Error> {
        let loaded = Loaded::try_new(bytes, |b| Bundle::from_bytes(b))?;
        let bundle = loaded.borrow_dependent();
        let index = Index::build(bundle);
        let plan = Plan::build(bundle);
        let counters = Counters::new(bundle.policy_count());
        let tiers = (0..bundle.policy_count()).map(|_| Tier::Interp).collect();
        Ok(PolicySet {
            version: 0,
            shared: Arc::new(Shared {
                loaded,
                index,
                plan,
                counters,
            }),
            tiers,
        })
    }

    /// A set with the same bytes, index and counters and a new per-policy code table (the
    /// JIT's way to publish compiled policies; entries beyond the policy count are ignored).
    #[expect(dead_code, reason = "used by the JIT (issue 8)")]
    pub(crate) fn with_tiers(&self, tiers: Box<[Tier]>) -> Prepared {
        Prepared(PolicySet {
            version: 0,
            shared: Arc::clone(&self.shared),
            tiers,
        })
    }

    /// The version number [`PolicyEngine`] published this set under (0 if never published).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The verified bundle.
    pub fn bundle(&self) -> &Bundle<'_> {
        self.shared.loaded.borrow_dependent()
    }

    /// The bundle's bytes, as loaded.
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

    /// Every policy's counters.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot(self.bundle(), self.version)
    }

    /// Evaluates one policy through its tier, counting it.
    #[inline(always)]
    fn run_policy(
        &self,
        bundle: &Bundle<'_>,
        shard: Option<&crate::stats::Shard>,
        id: PolicyId,
        values: &[Value<'_>],
    ) -> Outcome {
        Counters::record(shard, id, || match self.tiers.get(usize::from(id)) {
            Some(Tier::Native(code)) => code.eval(bundle, id, values),
            _ => ipe_nostd::vm::eval_policy_values(bundle, id, values),
        })
    }

    /// Evaluates the candidate policies for these slot values (indexed by slot id; shorter
    /// slices read as missing) and combines their outcomes. Allocates nothing.
    #[inline]
    pub fn evaluate_values(&self, values: &[Value<'_>]) -> HostDecision {
        self.decide(values)
    }

    /// [`evaluate_values`](Self::evaluate_values) keeping up to `M` entries per decision list.
    pub fn decide<const M: usize>(&self, values: &[Value<'_>]) -> Decision<M> {
        let bundle = self.bundle();
        let shard = self.shared.counters.shard();
        let mut out = DecisionBuilder::<M>::new(bundle.default_effect());
        self.shared.index.for_each_candidate(bundle, values, |id| {
            out.add(id, self.run_policy(bundle, shard, id, values));
        });
        out.finish()
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

    /// Renders a decision this set made, with names, intents and reasons.
    pub fn report(&self, d: &HostDecision) -> Report {
        Report::new(self.bundle(), d)
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

/// A policy set that can be replaced while many threads evaluate it.
///
/// Readers ([`load`](Self::load), [`evaluate_json`](Self::evaluate_json)) never block and
/// never fail because of a swap: each evaluation sees exactly one version, and a replaced
/// version is freed when its last reader drops it. Writers ([`swap`](Self::swap),
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
    live: ArcSwap<PolicySet>,
    source: Option<FileSource>,
    writer: Mutex<u64>,
}

impl PolicyEngine {
    /// An engine over owned bundle bytes, verified; version 1.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<PolicyEngine, Error> {
        Ok(PolicyEngine::new(Prepared::new(bytes)?, None))
    }

    /// Reads a bundle file into an owned buffer and verifies it; version 1. The file may be
    /// changed or removed afterwards ([`reload`](Self::reload) reads it again). See
    /// [`from_file_mapped`](Self::from_file_mapped) to map large files instead.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PolicyEngine, Error> {
        PolicyEngine::from_source(FileSource {
            path: path.as_ref().to_owned(),
            map: None,
        })
    }

    pub(crate) fn from_source(source: FileSource) -> Result<PolicyEngine, Error> {
        let set = PolicySet::build(source.read()?)?;
        Ok(PolicyEngine::new(Prepared(set), Some(source)))
    }

    fn new(Prepared(mut set): Prepared, source: Option<FileSource>) -> PolicyEngine {
        set.version = 1;
        PolicyEngine {
            live: ArcSwap::from_pointee(set),
            source,
            writer: Mutex::new(1),
        }
    }

    /// The live set, for one request or a batch.
    #[inline]
    pub fn load(&self) -> Snapshot {
        Snapshot(self.live.load())
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

    /// Verifies `bytes` and publishes them as the next version, returning its number.
    pub fn swap(&self, bytes: Vec<u8>) -> Result<u64, Error> {
        Ok(self.publish(Prepared::new(bytes)?))
    }

    /// Reads the engine's file again (the same way it was first read) and publishes it.
    pub fn reload(&self) -> Result<u64, Error> {
        let source = self.source.as_ref().ok_or(ErrorKind::NoSource)?;
        let set = PolicySet::build(source.read()?)?;
        Ok(self.publish(Prepared(set)))
    }

    /// Publishes a prepared set as the next version (an atomic pointer store), returning its
    /// number.
    pub fn publish(&self, Prepared(mut set): Prepared) -> u64 {
        // A poisoned lock only means another writer panicked; the counter is still valid.
        let mut last = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        *last = last.wrapping_add(1);
        set.version = *last;
        self.live.store(Arc::new(set));
        *last
    }

    /// Evaluates a JSON request against the live version.
    pub fn evaluate_json(&self, json: &str) -> Result<HostDecision, Error> {
        self.load().evaluate_json(json)
    }

    /// The live version's per-policy counters.
    pub fn stats(&self) -> Stats {
        self.load().stats()
    }
}
