//! IPE's engines: the no_std interpreter, the host engine and the JIT.

use crate::{Workload, LIST, SLOTS};
use bumpalo::Bump;
use ipe_nostd::{Bundle, Context, Decision, Effect};
use serde_json::Value as Json;
use std::fmt::Write as _;

/// Writes the first violation's reason of `violations` into `out` (cleared first), its
/// placeholders filled from `values` (`Bundle::reason_with`, the renderer every engine shares).
#[inline]
fn render_first(
    bundle: &Bundle<'_>,
    values: &[ipe_nostd::Value<'_>],
    violations: &[ipe_nostd::Violation],
    out: &mut String,
) {
    out.clear();
    if let Some(v) = violations.first() {
        let _ = write!(out, "{}", bundle.reason_with(values, *v));
    }
}

/// Compiles IPE source to verified bundle bytes (parse, check, lower: `compile_bundle_str_with`,
/// which keeps the lowering `compile_str` runs to prove the program compiles).
pub fn ipe_compile(src: &str) -> Vec<u8> {
    let options = ipe_compile::CompileOptions::default();
    ipe_compile::compile_bundle_str_with(&[("bench.ipe", src)], &options)
        .unwrap_or_else(|d| panic!("IPE source compiles: {d:?}"))
        .1
        .bytes
}

/// IPE's interpreter (the no_std path) over a verified bundle.
pub struct Interp {
    /// The verified bundle (its bytes are leaked: benches keep them for the whole run).
    pub bundle: Bundle<'static>,
    /// The bundle's aggregate chains decoded at load (issue #15, session 13).
    pub prepared: ipe_nostd::vm::Prepared<PREPARED>,
}

/// Aggregate chains the benches' interpreter decodes at load ([`Interp::prepared`]).
pub const PREPARED: usize = 16;

impl Interp {
    /// Compiles, lowers and loads a workload.
    pub fn new(w: &Workload) -> Self {
        let bytes: &'static [u8] = Box::leak(ipe_compile(&w.ipe).into_boxed_slice());
        let bundle = Bundle::from_bytes(bytes).expect("bundle verifies");
        Context::<SLOTS>::check_capacity(&bundle).expect("context large enough");
        let prepared = ipe_nostd::vm::Prepared::new(&bundle);
        Interp { bundle, prepared }
    }

    /// A prebuilt context for a request (its JSON and arena are leaked).
    pub fn context(&self, json: &str) -> Context<'static, SLOTS> {
        let json: &'static Json = Box::leak(Box::new(serde_json::from_str(json).expect("json")));
        let arena: &'static Bump = Box::leak(Box::new(Bump::new()));
        let mut ctx = Context::new();
        ipe_host::request::fill(&self.bundle, json, arena, &mut ctx);
        ctx
    }

    /// Evaluates a prebuilt context.
    #[inline]
    pub fn decide(&self, ctx: &Context<'_, SLOTS>) -> bool {
        let d: Decision<LIST> = ipe_nostd::vm::evaluate_prepared(&self.bundle, &self.prepared, ctx);
        d.effect == Effect::Allow
    }

    /// Evaluates a prebuilt context and renders the first violation's reason into `out`.
    #[inline]
    pub fn decide_render(&self, ctx: &Context<'_, SLOTS>, out: &mut String) -> bool {
        let d: Decision<LIST> = ipe_nostd::vm::evaluate_prepared(&self.bundle, &self.prepared, ctx);
        render_first(&self.bundle, ctx.values(), &d.violations, out);
        d.effect == Effect::Allow
    }

    /// End to end: `serde_json` parse, fill a context from a reused arena, evaluate.
    pub fn decide_json(&self, json: &str, arena: &mut Bump) -> bool {
        arena.reset();
        let v: Json = serde_json::from_str(json).expect("json");
        let mut ctx = Context::<SLOTS>::new();
        ipe_host::request::fill(&self.bundle, &v, arena, &mut ctx);
        self.decide(&ctx)
    }

    /// End to end through `ipe_host::evaluate_json` (fresh arena, rendered report).
    pub fn decide_json_host(&self, json: &str) -> bool {
        let v: Json = serde_json::from_str(json).expect("json");
        let report = ipe_host::evaluate_json(&self.bundle, &v);
        report.to_json().starts_with("{\"decision\":\"allow\"")
    }
}

// ---------------------------------------------------------------------------------------------
// IPE host engine and JIT.

/// `ipe_host::PolicyEngine`: arc-swapped set, hashbrown trigger index, per-policy counters.
/// Built with a fixed tier (not the default adaptive tiering, whose promotions would land at
/// random points of a run).
pub struct HostEngine {
    /// The engine.
    pub engine: ipe_host::PolicyEngine,
}

impl HostEngine {
    /// Compiles a workload and loads it into a `PolicyEngine` with `options`.
    pub fn with_options(w: &Workload, options: ipe_host::EngineOptions) -> Self {
        HostEngine {
            engine: ipe_host::PolicyEngine::with_options(ipe_compile(&w.ipe), options)
                .expect("host loads"),
        }
    }

    /// Every policy on the interpreter tier (`EngineOptions::interpreter`).
    pub fn new(w: &Workload) -> Self {
        Self::with_options(w, ipe_host::EngineOptions::interpreter())
    }

    /// Every policy JIT-compiled at the optimized tier when loaded
    /// (`EngineOptions::jit_all(JitTier::Optimized)`: the adaptive engine's steady state).
    pub fn jit(w: &Workload) -> Self {
        Self::with_options(
            w,
            ipe_host::EngineOptions::jit_all(ipe_host::JitTier::Optimized),
        )
    }

    /// Prebuilt slot values for a request (`PolicySet::parse_json`; JSON and arena leaked).
    pub fn values(&self, json: &str) -> &'static [ipe_nostd::Value<'static>] {
        let json: &'static str = Box::leak(json.to_owned().into_boxed_str());
        let arena: &'static Bump = Box::leak(Box::new(Bump::new()));
        self.engine
            .load()
            .parse_json(json, arena)
            .expect("host parses")
    }

    /// Evaluates prebuilt slot values on the live set (`load` + `evaluate_values`).
    #[inline]
    pub fn decide(&self, values: &[ipe_nostd::Value<'_>]) -> bool {
        self.engine.load().evaluate_values(values).effect == Effect::Allow
    }

    /// Evaluates prebuilt slot values as data (issue #15): `decide_into` a reused
    /// [`ipe_host::Verdict`] (the effect and each applied or erring policy's outcome; lists and
    /// text only when asked for).
    #[inline]
    pub fn decide_data(&self, values: &[ipe_nostd::Value<'_>], v: &mut ipe_host::Verdict) -> bool {
        self.engine.load().decide_into(values, v);
        v.effect() == Effect::Allow
    }

    /// Evaluates prebuilt slot values through a thread's cached [`ipe_host::Reader`] (issue #15,
    /// session 18).
    #[inline]
    pub fn decide_reader(
        &self,
        reader: &mut ipe_host::Reader,
        values: &[ipe_nostd::Value<'_>],
    ) -> bool {
        reader.load().evaluate_values(values).effect == Effect::Allow
    }

    /// Decides prebuilt slot values in brief through a thread's cached [`ipe_host::Reader`]
    /// (issue #15, session 22: the effect and the deciding policy, stopping at the first deny).
    #[inline]
    pub fn decide_brief(
        &self,
        reader: &mut ipe_host::Reader,
        values: &[ipe_nostd::Value<'_>],
    ) -> bool {
        reader.brief(values).allows()
    }

    /// Evaluates prebuilt slot values and renders the first violation's reason into `out`.
    #[inline]
    pub fn decide_render(&self, values: &[ipe_nostd::Value<'_>], out: &mut String) -> bool {
        let set = self.engine.load();
        let d = set.evaluate_values(values);
        render_first(set.bundle(), values, d.violations(), out);
        d.effect == Effect::Allow
    }

    /// End to end: `PolicyEngine::evaluate_json` (one-pass parse into the thread's arena).
    pub fn decide_json(&self, json: &str) -> bool {
        self.engine
            .evaluate_json(json)
            .expect("host evaluates")
            .effect
            == Effect::Allow
    }
}

/// IPE's JIT: every policy of the bundle compiled by `ipe_host::jit::compile_bundle`
/// (optimized tier), candidates from the bundle's trigger index, outcomes combined as
/// `ipe_nostd::evaluate` does.
pub struct Jit {
    /// The interpreter over the same bundle (contexts, trigger index).
    pub interp: Interp,
    /// The compiled policies.
    pub code: ipe_host::jit::JitSet,
}

impl Jit {
    /// Compiles a workload to native code.
    pub fn new(w: &Workload) -> Self {
        let interp = Interp::new(w);
        let code = ipe_host::jit::compile_bundle(&interp.bundle, ipe_host::JitTier::Optimized)
            .expect("JIT compiles");
        Jit { interp, code }
    }

    /// Evaluates a prebuilt context with native code.
    #[inline]
    pub fn decide(&self, ctx: &Context<'_, SLOTS>) -> bool {
        self.decision(ctx).effect == Effect::Allow
    }

    /// Evaluates a prebuilt context with native code and renders the first violation's reason
    /// into `out`.
    #[inline]
    pub fn decide_render(&self, ctx: &Context<'_, SLOTS>, out: &mut String) -> bool {
        let d = self.decision(ctx);
        render_first(&self.interp.bundle, ctx.values(), &d.violations, out);
        d.effect == Effect::Allow
    }

    /// The decision of a prebuilt context, every candidate policy run as native code.
    #[inline]
    fn decision(&self, ctx: &Context<'_, SLOTS>) -> Decision<LIST> {
        let bundle = &self.interp.bundle;
        let values = ctx.values();
        let mut out = ipe_nostd::DecisionBuilder::<LIST>::new(bundle.default_effect());
        // First-match groups (issue #13) stop at their deciding rule, as in every loop; a
        // bundle without groups pays one check per decision.
        ipe_nostd::vm::for_each_admitted(bundle, values, |id| {
            let o = self.code.eval(id, values).expect("policy compiled");
            out.add(id, o);
            o
        });
        out.finish()
    }
}
