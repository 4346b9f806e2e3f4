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

/// Compiles `sources`, lowers the program and decodes the bytes: the one pipeline every oracle
/// shares. `None` when the sources do not compile or the program is too large to lower; a
/// lowered bundle the device refuses, or one that does not round-trip, panics.
pub fn build(sources: &[(&str, &str)]) -> Option<(ipe_compile::hir::Program, Vec<u8>)> {
    let (program, _diags) = ipe_compile::compile_sources(sources);
    let program = program?;
    let compiled = match ipe_compile::lower::lower(&program) {
        Ok(c) => c,
        Err(ipe_compile::lower::LowerError::Verify(_)) if known::empty_non_string_set(&program) => {
            return None
        }
        Err(ipe_compile::lower::LowerError::Verify(e)) => {
            panic!("a checked program lowered to a bundle the verifier refuses: {e:?}\n{sources:?}")
        }
        // Size limits of the format (65535 ids, 64 KiB blocks): a compile error, not a bug.
        Err(_) => return None,
    };
    let bundle = match ipe_nostd::Bundle::from_bytes(&compiled.bytes) {
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

/// The decision JSON of the reference evaluator and of the interpreter (through the host's JSON
/// request builder) for one request; every backend the host offers is added here.
pub fn decisions(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    request: &serde_json::Value,
) -> Vec<(&'static str, String)> {
    // TODO(jit): add `("jit", ipe_host::jit::...)` once `ipe_host::jit` lands (issue 8).
    vec![
        ("reference", ipe_compile::evaluate(program, request).to_json()),
        ("interpreter", ipe_host::evaluate_json(bundle, request).to_json()),
    ]
}

/// Panics with a readable report unless every backend gives the same decision JSON.
pub fn assert_agree(
    program: &ipe_compile::hir::Program,
    bundle: &ipe_nostd::Bundle<'_>,
    request: &serde_json::Value,
    what: &dyn std::fmt::Display,
) {
    if known::non_object_element(program, request)
        || known::several_bad_scalar_elements(program, request)
    {
        return;
    }
    let ds = decisions(program, bundle, request);
    let (first_name, first) = &ds[0];
    for (name, d) in &ds[1..] {
        assert!(
            d == first,
            "backends disagree\n{what}\nrequest: {request}\n{first_name}: {first}\n{name}: {d}"
        );
    }
}
