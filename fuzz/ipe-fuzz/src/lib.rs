//! IPE's fuzz oracles and generators.
//!
//! Each module has a `check(&[u8])` that is the whole body of the cargo-fuzz target of the same
//! name (`fuzz/fuzz_targets/*.rs`), and panics exactly when the property in `fuzz/README.md`
//! does not hold. The stable tests in `tests/replay.rs` run the same `check` functions over the
//! stored regression inputs and over generated `diff` cases, so a finding replays without
//! nightly.

pub mod bundle;
pub mod diff;
pub mod examples;
pub mod gen;
pub mod known;
pub mod request;
pub mod seeds;
pub mod source;

/// The targets, by name, for replay tools.
pub const TARGETS: [(&str, fn(&[u8])); 4] = [
    ("bundle", bundle::check),
    ("source", source::check),
    ("diff", diff::check),
    ("request", request::check),
];

/// The cost budget of the source-level oracles: the largest, so that generated bundles with
/// nested aggregates over long lists are still compared (their requests have short lists, so
/// evaluation stays fast whatever the static bound).
pub const MAX_COST: u32 = u32::MAX;

/// The options every source-level oracle compiles with.
pub fn options() -> ipe_compile::CompileOptions {
    ipe_compile::CompileOptions { max_cost: MAX_COST }
}

/// Compiles `sources`, lowers the program and decodes the bytes, with the [`MAX_COST`] budget:
/// the one pipeline every oracle shares. `None` when the sources do not compile (every limit,
/// the cost budget included, is a diagnostic); a checked program that fails to lower, a lowered
/// bundle the device refuses, or one that does not round-trip, panics.
pub fn build(sources: &[(&str, &str)]) -> Option<(ipe_compile::hir::Program, Vec<u8>)> {
    let (program, _diags) = ipe_compile::compile_sources_with(sources, &options());
    let program = program?;
    let compiled = match ipe_compile::lower::lower_with_max_cost(&program, MAX_COST) {
        Ok(c) => c,
        Err(e) => panic!("a checked program failed to lower: {e}\n{sources:?}"),
    };
    let bundle = match ipe_nostd::Bundle::from_bytes_with_max_cost(&compiled.bytes, MAX_COST) {
        Ok(b) => b,
        Err(e) => panic!("lower() returned bytes from_bytes refuses: {e:?}"),
    };
    let again = ipe_compile::lower::encode(bundle.body());
    assert!(
        again == compiled.bytes,
        "encode(decode(b)) != b for a compiled bundle"
    );
    Some((program, compiled.bytes))
}

/// The decision JSON of every backend for one request: the reference evaluator, the
/// interpreter (through the host's JSON request builder) and both JIT tiers.
pub fn decisions(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    request: &serde_json::Value,
) -> Vec<(&'static str, String)> {
    let sets = jits(bundle);
    decisions_with(program, bundle, request, &sets)
}

/// Both JIT tiers of `bundle` (those the JIT supports).
pub fn jits(bundle: &ipe_nostd::Bundle<'_>) -> Vec<ipe_host::jit::JitSet> {
    [
        ipe_host::JitTier::Baseline,
        ipe_host::JitTier::Optimized,
    ]
    .into_iter()
    .filter_map(|t| jit(bundle, t))
    .collect()
}

/// [`decisions`] with JIT sets compiled beforehand (one per tier).
pub fn decisions_with(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    request: &serde_json::Value,
    sets: &[ipe_host::jit::JitSet],
) -> Vec<(&'static str, String)> {
    let mut out = vec![
        (
            "reference",
            ipe_compile::evaluate(program, request).to_json(),
        ),
        (
            "interpreter",
            ipe_host::evaluate_json(bundle, request).to_json(),
        ),
    ];
    let arena = bumpalo::Bump::new();
    let mut ctx = ipe_nostd::Context::<{ ipe_host::MAX_SLOTS }>::new();
    ipe_host::request::fill(bundle, request, &arena, &mut ctx);
    for set in sets {
        let name = match set.tier() {
            ipe_host::JitTier::Baseline => "jit-baseline",
            ipe_host::JitTier::Optimized => "jit-optimized",
        };
        out.push((name, jit_decision(bundle, set, ctx.values())));
    }
    out
}

/// Compiles every policy of `bundle` at `tier`. A verified bundle the JIT cannot compile for a
/// reason other than declared unsupported bytecode is a finding.
pub fn jit(
    bundle: &ipe_nostd::Bundle<'_>,
    tier: ipe_host::JitTier,
) -> Option<ipe_host::jit::JitSet> {
    match ipe_host::jit::compile_bundle(bundle, tier) {
        Ok(set) => Some(set),
        Err(ipe_host::jit::JitError::Unsupported(what)) => {
            if std::env::var_os("IPE_FUZZ_VERBOSE").is_some() {
                eprintln!("JIT ({tier:?}): unsupported bytecode: {what}");
            }
            None
        }
        Err(e) => panic!("the JIT failed on a verified bundle ({tier:?}): {e}"),
    }
}

/// The JIT's decision JSON over `values`, after checking every compiled policy's outcome
/// against the interpreter's (`eval_policy_values`).
pub fn jit_decision(
    bundle: &ipe_nostd::Bundle<'_>,
    set: &ipe_host::jit::JitSet,
    values: &[ipe_nostd::Value<'_>],
) -> String {
    use ipe_nostd::{vm, PolicyId};
    for i in 0..bundle.policy_count() {
        let Ok(id) = PolicyId::try_from(i) else { break };
        let interp = vm::eval_policy_values(bundle, id, values);
        if let Some(jit) = set.eval(id, values) {
            assert!(
                jit == interp,
                "policy {} ({:?} tier): interpreter {interp:?}, JIT {jit:?}",
                bundle.policy(id).name,
                set.tier()
            );
        }
    }
    let mut d = ipe_host::HostDecision::new(bundle.default_effect());
    let mut acc = ipe_nostd::Accumulator::new(bundle.default_effect());
    vm::for_each_candidate(bundle, values, |id| {
        let o = set
            .eval(id, values)
            .unwrap_or_else(|| vm::eval_policy_values(bundle, id, values));
        acc.add(&mut d, id, o);
    });
    acc.finish(&mut d);
    ipe_host::Report::of_host(bundle, &d).to_json()
}

/// Panics with a readable report unless every backend gives the same decision JSON.
pub fn assert_agree(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    sets: &[ipe_host::jit::JitSet],
    request: &serde_json::Value,
    what: &dyn std::fmt::Display,
) {
    let ds = decisions_with(program, bundle, request, sets);
    let (first_name, first) = &ds[0];
    for (name, d) in &ds[1..] {
        assert!(
            d == first,
            "backends disagree\n{what}\nrequest: {request}\n{first_name}: {first}\n{name}: {d}"
        );
    }
}
