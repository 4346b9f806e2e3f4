//! Random well-typed bundles and requests: the interpreter (with and without a prepared table)
//! must agree with the reference evaluator on every one (decisions, reasons and errors, as JSON).

use ipe_testgen::backend::{compare, Interp, PreparedInterp, Reference};
use ipe_testgen::{bundle, request, SCHEMA};
use proptest::prelude::*;

#[test]
fn interpreter_agrees_with_reference_on_random_bundles() {
    let mut runner = ipe_testgen::runner("IPE_PROP_CASES", 2_000);
    // Each bundle is checked against 5 requests: `cases * 5` request evaluations in all.
    runner
        .run(
            &(bundle(1..4), proptest::collection::vec(request(), 5)),
            |(src, reqs)| {
                let program = ipe_compile::compile_str(&[("schema.ipe", SCHEMA), ("p.ipe", &src)])
                    .map_err(|d| TestCaseError::fail(format!("does not compile:\n{src}\n{d}")))?;
                let compiled = ipe_compile::lower::lower(&program)
                    .map_err(|e| TestCaseError::fail(format!("does not lower: {e}\n{src}")))?;
                let interp = Interp::new(&compiled.bytes)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
                // Issue #15, session 14: the interpreter with a prepared table too.
                let prepared = PreparedInterp::new(&compiled.bytes)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
                for req in &reqs {
                    compare(&[&Reference(&program), &interp, &prepared], req)
                        .map_err(|e| TestCaseError::fail(format!("{e}\nbundle:\n{src}")))?;
                }
                Ok(())
            },
        )
        .unwrap();
}

/// The random bundles stay within the checker's nesting limit (issue #13, session 11: one
/// run failed with "expression is nested more than 32 levels deep"): compiling many of them
/// never reports it.
#[test]
fn random_bundles_stay_within_the_nesting_limit() {
    let mut runner = ipe_testgen::runner("IPE_PROP_CASES", 1_000);
    runner
        .run(&bundle(1..4), |src| {
            if let Err(d) = ipe_compile::compile_str(&[("schema.ipe", SCHEMA), ("p.ipe", &src)]) {
                let d = d.to_string();
                prop_assert!(!d.contains("nested more than"), "{d}\n{src}");
            }
            Ok(())
        })
        .unwrap();
}
