//! The interpreter's prepared aggregate chains (`ipe_nostd::vm::Prepared`, issue #15).

/// Issue #15, session 13: the seed's `count ... where` filter is a chain the prepared table
/// holds, and a table is ignored for another bundle (decisions the same either way).
#[test]
fn prepared_chains_hold_the_seed_filter_and_only_serve_their_bundle() {
    let src = format!(
        "{}\n{}",
        include_str!("../../../examples/seed/schema.ipe"),
        include_str!("../../../examples/seed/policy.ipe")
    );
    let bytes = ipe_compile::compile_bundle_str_with(
        &[("seed.ipe", src.as_str())],
        &ipe_compile::CompileOptions::default(),
    )
    .expect("the seed compiles")
    .1
    .bytes;
    let copy = bytes.clone();
    let a = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
    let b = ipe_nostd::Bundle::from_bytes(&copy).expect("verifies");
    let table = ipe_nostd::vm::Prepared::<4>::new(&a);
    assert_eq!(table.len(), 1, "the seed's one aggregate filter");
    let request = serde_json::json!({
        "resource": {"type": "Deployment", "risk_level": "high"},
        "environment": "production",
        "requester": {"department": "payments"},
        "approvals": [
            {"role": "senior-engineer", "department": "security"},
            {"role": "senior-engineer", "department": "payments"}
        ]
    });
    let arena = bumpalo::Bump::new();
    let mut ctx = ipe_nostd::Context::<64>::new();
    ipe_host::request::fill(&b, &request, &arena, &mut ctx);
    let plain: ipe_nostd::Decision<4> = ipe_nostd::evaluate(&b, &ctx);
    let other: ipe_nostd::Decision<4> = ipe_nostd::vm::evaluate_prepared(&b, &table, &ctx);
    assert_eq!(plain, other, "a table of another bundle is not used");
    let mut ctx_a = ipe_nostd::Context::<64>::new();
    ipe_host::request::fill(&a, &request, &arena, &mut ctx_a);
    let own: ipe_nostd::Decision<4> = ipe_nostd::vm::evaluate_prepared(&a, &table, &ctx_a);
    assert_eq!(plain, own, "its own bundle's table gives the same decision");
    assert_eq!(plain.effect, ipe_nostd::Effect::Deny, "one approval counts");
}
