//! `request`: arbitrary bytes as a JSON request against the example bundles.
//!
//! Property: for every input, parsing either fails with a `serde_json` error (the host reports
//! a malformed request) or yields a value; for a value, the interpreter returns a decision (no
//! panic) whose JSON has the four keys, and for an object it equals the reference evaluator's.

use ipe_nostd::Bundle;

/// The oracle.
pub fn check(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(data) else {
        return; // a clear request error: `malformed request`
    };
    thread_local! {
        // Both JIT tiers of every example, compiled once per thread.
        static JITS: Vec<crate::Jits<'static>> = crate::examples::all()
            .iter()
            .map(|ex| crate::jits(&Bundle::from_bytes(&ex.bytes).expect("example verifies")))
            .collect();
    }
    for (i, ex) in crate::examples::all().iter().enumerate() {
        let bundle = Bundle::from_bytes(&ex.bytes).expect("example bundle verifies");
        let report = ipe_host::evaluate_json(&bundle, &request);
        let json: serde_json::Value =
            serde_json::from_str(&report.to_json()).expect("decision JSON parses");
        for key in ["decision", "matched", "violations", "errors"] {
            assert!(
                json.get(key).is_some(),
                "decision JSON lacks `{key}`: {json}"
            );
        }
        if request.is_object() {
            JITS.with(|j| crate::assert_agree(&ex.program, &bundle, &j[i], &request, &ex.name));
        }
    }
}
