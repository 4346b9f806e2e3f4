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
pub mod signed;
pub mod source;

use ipe_testgen::backend::{compare, Backend, Interp, Jit, Reference};

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
    ipe_compile::CompileOptions {
        max_cost: MAX_COST,
        ..ipe_compile::CompileOptions::default()
    }
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
    if let Err(e) = ipe_nostd::Bundle::from_bytes_with_max_cost(&compiled.bytes, MAX_COST) {
        panic!("lower() returned bytes from_bytes refuses: {e:?}");
    }
    let body = match ipe_nostd::Bundle::decode_unverified(&compiled.bytes) {
        Ok(b) => b,
        Err(e) => panic!("an accepted bundle does not decode: {e:?}"),
    };
    let again = ipe_compile::lower::encode(&body);
    assert!(
        again == compiled.bytes,
        "encode(decode(b)) != b for a compiled bundle"
    );
    Some((program, compiled.bytes))
}

/// The JIT backends of `bundle`: both tiers, those the JIT supports ([`jit`]).
pub type Jits<'b> = Vec<Jit<'b>>;

/// The decision JSON of every backend for one request: the reference evaluator, the
/// interpreter (through the host's JSON request builder) and both JIT tiers (a JIT backend's
/// disagreement with the interpreter on a policy outcome is shown as its answer).
pub fn decisions(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    request: &serde_json::Value,
) -> Vec<(String, String)> {
    let sets = jits(bundle);
    with_backends(program, bundle, &sets, |all| {
        all.iter()
            .map(|b| {
                let d = b.decide(request).unwrap_or_else(|e| format!("error: {e}"));
                (b.name().to_owned(), d)
            })
            .collect()
    })
}

/// Both JIT tiers of `bundle` (those the JIT supports).
pub fn jits<'b>(bundle: &ipe_nostd::Bundle<'b>) -> Jits<'b> {
    [ipe_host::JitTier::Baseline, ipe_host::JitTier::Optimized]
        .into_iter()
        .filter_map(|t| jit(bundle, t))
        .collect()
}

/// Calls `f` with every backend of one bundle, the reference first: the list
/// [`assert_agree`] compares.
fn with_backends<R>(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    sets: &[Jit<'_>],
    f: impl FnOnce(&[&dyn Backend]) -> R,
) -> R {
    let (reference, interp) = (Reference(program), Interp(bundle.clone()));
    let mut all: Vec<&dyn Backend> = vec![&reference, &interp];
    all.extend(sets.iter().map(|s| s as &dyn Backend));
    f(&all)
}

/// Compiles every policy of `bundle` at `tier` (policies the JIT leaves to the interpreter
/// are not a disagreement). A verified bundle the JIT cannot compile for a reason other than
/// declared unsupported bytecode is a finding.
pub fn jit<'b>(bundle: &ipe_nostd::Bundle<'b>, tier: ipe_host::JitTier) -> Option<Jit<'b>> {
    match Jit::new(bundle.clone(), tier, false) {
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

/// The JIT's decision JSON over `values` (any values, type-confused ones included), after
/// checking every compiled policy's outcome against the interpreter's; panics on a
/// disagreement.
pub fn jit_decision(set: &Jit<'_>, values: &[ipe_nostd::Value<'_>]) -> String {
    set.decide_values(values).unwrap_or_else(|e| panic!("{e}"))
}

/// Panics with a readable report unless every backend gives the same decision JSON (the one
/// differential loop, [`ipe_testgen::backend::compare`]).
pub fn assert_agree(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    sets: &[Jit<'_>],
    request: &serde_json::Value,
    what: &dyn std::fmt::Display,
) {
    if let Err(e) = with_backends(program, bundle, sets, |all| compare(all, request)) {
        panic!("{e}\n{what}");
    }
}
