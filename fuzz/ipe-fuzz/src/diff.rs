//! `diff`: generated well-typed bundles and requests through every backend.
//!
//! Property: for every generated bundle `P` (schema + policies) and request `r`:
//! `compile(P)` succeeds, the bundle verifies and round-trips, and
//! `reference(P, r) == interpreter(lower(P), r)` (== `jit(..)` once the host has one), as
//! decision JSON: decision, matched, violations with reasons, errors with texts.

use arbitrary::Unstructured;
use ipe_nostd::Bundle;

/// The oracle over raw fuzzer bytes.
pub fn check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let case = crate::gen::case(&mut u);
    check_case(&case);
}

/// The oracle over one generated case.
pub fn check_case(case: &crate::gen::Case) {
    let sources: Vec<(&str, &str)> = case
        .sources
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let (program, diags) = ipe_compile::compile_sources_with(&sources, &crate::options());
    // A static cost bound beyond even the largest budget is the one refusal a well-typed
    // bundle may get (nested aggregates over long lists).
    let over_budget = |d: &ipe_compile::Diagnostic| d.message().contains("over the cost budget");
    if program.is_none() && !diags.is_empty() && diags.iter().all(over_budget) {
        return;
    }
    let Some(_) = program else {
        let msgs: Vec<String> = diags.iter().map(|d| format!("{d:?}")).collect();
        panic!(
            "a well-typed generated bundle does not compile:\n{case}\n{}",
            msgs.join("\n")
        );
    };
    let Some((program, bytes)) = crate::build(&sources) else {
        return;
    };
    let bundle =
        Bundle::from_bytes_with_max_cost(&bytes, crate::MAX_COST).expect("checked by build");
    let sets = crate::jits(&bundle);
    for r in &case.requests {
        crate::assert_agree(&program, &bundle, &sets, r, case);
    }
}
