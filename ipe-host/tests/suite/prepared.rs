//! The interpreter's prepared aggregate chains (`ipe_nostd::vm::Prepared`, issue #15).

/// The bundle bytes of the one source file `src` named `name` (default options).
fn compile(name: &str, src: &str) -> Vec<u8> {
    ipe_compile::compile_bundle_str_with(&[(name, src)], &ipe_compile::CompileOptions::default())
        .expect("compiles")
        .1
        .bytes
}

/// The decision for `request` over `b`, evaluated with `table` (`prepared`) or without one.
fn decide<const N: usize>(
    b: &ipe_nostd::Bundle<'_>,
    table: &ipe_nostd::vm::Prepared<N>,
    request: &serde_json::Value,
    prepared: bool,
) -> ipe_nostd::Decision<8> {
    let arena = bumpalo::Bump::new();
    let mut ctx = ipe_nostd::Context::<64>::new();
    ipe_host::request::fill(b, request, &arena, &mut ctx);
    if prepared {
        ipe_nostd::vm::evaluate_prepared(b, table, &ctx)
    } else {
        ipe_nostd::evaluate(b, &ctx)
    }
}

/// Issue #15, session 13: the seed's `count ... where` filter is a chain the prepared table
/// holds, and a table is ignored for another bundle (decisions the same either way).
#[test]
fn prepared_chains_hold_the_seed_filter_and_only_serve_their_bundle() {
    let src = format!(
        "{}\n{}",
        include_str!("../../../examples/seed/schema.ipe"),
        include_str!("../../../examples/seed/policy.ipe")
    );
    let bytes = compile("seed.ipe", &src);
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

/// Issue #15, session 15: a string operator of a slot and a constant (`starts_with "CHG-"`)
/// runs as a clause plan, and `x in list` checks and searches the list in one pass; every
/// request (strings, a missing or mistyped attribute, a list with a bad element) decides as
/// without the table, reasons and errors included.
#[test]
fn planned_string_tests_and_one_pass_list_membership_decide_as_the_plain_interpreter() {
    let src = r#"
schema {
  ticket: string
  image: string
  name: string
  owners: list of string
  env: string
}

default allow

policy Ticket:
  "Changes carry a CHG ticket"
  triggers when env == "prod"
  requires ticket starts_with "CHG-"

policy Registry:
  "Images come from the internal registry"
  triggers when env == "prod"
  requires image starts_with "registry.internal/" and image ends_with ":signed"

policy NoLatest:
  "No latest tags"
  triggers when env == "prod"
  requires not (image contains "latest")

policy Owner:
  "Only owners deploy"
  triggers when env == "prod"
  requires name in owners
"#;
    let bytes = compile("plans.ipe", src);
    let b = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
    let table = ipe_nostd::vm::Prepared::<4>::new(&b);
    assert!(!table.is_empty(), "the string clauses are planned");
    let requests = [
        serde_json::json!({"env": "prod", "ticket": "CHG-1", "image": "registry.internal/a:signed",
                           "name": "ann", "owners": ["bob", "ann"]}),
        serde_json::json!({"env": "prod", "ticket": "chg-1", "image": "docker.io/a:latest",
                           "name": "ann", "owners": ["bob"]}),
        serde_json::json!({"env": "prod", "ticket": 7, "image": ["x"], "name": 3,
                           "owners": ["ann", 4]}),
        serde_json::json!({"env": "prod", "owners": "ann"}),
        serde_json::json!({"env": "prod", "ticket": "", "image": "registry.internal/:signed",
                           "name": "ann", "owners": ["ann", null]}),
        serde_json::json!({"env": "prod", "ticket": "CHG-", "image": "", "name": "",
                           "owners": []}),
        serde_json::json!({"env": "dev"}),
    ];
    for request in &requests {
        let plain = decide(&b, &table, request, false);
        assert_eq!(plain, decide(&b, &table, request, true), "{request}");
    }
    // The requests reach every outcome: allowed, violated and in error.
    let decide = |r: &serde_json::Value| {
        let d = decide(&b, &table, r, true);
        (d.effect, d.violations.len(), d.errors.len())
    };
    assert_eq!(decide(&requests[0]), (ipe_nostd::Effect::Allow, 0, 0));
    assert_eq!(decide(&requests[1]).1, 4, "every policy violated");
    assert_eq!(decide(&requests[2]).2, 4, "every policy in error");
}

/// Issue #15, session 16: a clause `xs.count >= N where ...` whose filter is a chain of one,
/// two or three tests (`and` or `or`) runs as a count plan; every request (elements missing a
/// field or of the wrong type, the list missing, mistyped or empty) decides as without the
/// table, the count a violation reports included.
#[test]
fn planned_counts_decide_as_the_plain_interpreter() {
    let src = r#"
schema {
  approvals: list of approver {
    role: string
    department: string
    level: int
  }
  requester.department: string
  env: string
}

default allow

policy Two:
  "Two senior approvals from another department"
  triggers when env == "prod"
  requires
    approvals.count >= 2
    where approver.role == "senior" and approver.department != requester.department

policy One:
  "One approval at level 3 or more"
  triggers when env == "prod"
  requires approvals.count >= 1 where approver.level >= 3

policy Either:
  "Two approvals that are senior or from security"
  triggers when env == "prod"
  requires approvals.count >= 2 where approver.role == "senior" or approver.department == "security"

policy Three:
  "At most one junior approval from the requester's department at a low level"
  triggers when env == "prod"
  requires
    approvals.count <= 1
    where approver.role == "junior" and approver.department == requester.department
    and approver.level < 2
"#;
    let bytes = compile("counts.ipe", src);
    let b = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
    let table = ipe_nostd::vm::Prepared::<8>::new(&b);
    assert_eq!(table.len(), 4, "every filter is a prepared chain");
    let a = |role: &str, dept: &str, level: i64| serde_json::json!({"role": role, "department": dept, "level": level});
    let req = |approvals: serde_json::Value| {
        serde_json::json!({"env": "prod", "requester": {"department": "pay"},
                           "approvals": approvals})
    };
    let requests = [
        req(serde_json::json!([
            a("senior", "sec", 3),
            a("senior", "ops", 1)
        ])),
        req(serde_json::json!([
            a("senior", "pay", 1),
            a("junior", "pay", 1),
            a("junior", "pay", 0)
        ])),
        req(serde_json::json!([a("senior", "sec", 3), {"role": "senior", "level": 2}])),
        req(
            serde_json::json!([{"role": 4, "department": "sec", "level": "x"},
                               a("junior", "security", 5)]),
        ),
        req(serde_json::json!([])),
        req(serde_json::json!("none")),
        serde_json::json!({"env": "prod", "approvals": [a("senior", "sec", 3)]}),
        serde_json::json!({"env": "prod"}),
        serde_json::json!({"env": "dev"}),
    ];
    let decide = |r: &serde_json::Value, prepared: bool| decide(&b, &table, r, prepared);
    for request in &requests {
        assert_eq!(decide(request, false), decide(request, true), "{request}");
    }
    // The requests reach every outcome, and a violated count reports its value.
    let allowed = decide(&requests[0], true);
    assert_eq!(allowed.effect, ipe_nostd::Effect::Allow, "{allowed:?}");
    let d = decide(&requests[1], true);
    let counts: Vec<_> = d.violations.iter().map(|v| v.count).collect();
    assert_eq!(counts, [Some(0), Some(0), Some(1), Some(2)], "{d:?}");
    assert!(
        !decide(&requests[2], true).errors.is_empty(),
        "a missing field errs"
    );
    assert!(
        !decide(&requests[5], true).errors.is_empty(),
        "a mistyped list errs"
    );
}

/// Issue #15, session 17: a trigger rest or a clause that is a chain of two slot tests (`and`
/// or `or`) runs without the chain loop; every combination of each attribute true, false,
/// mistyped and missing decides as without the table (which error a chain of two errors
/// reports included).
#[test]
fn planned_two_test_chains_decide_as_the_plain_interpreter() {
    let src = r#"
schema {
  env: string
  tier: string
  level: int
}

default allow

policy AndRest:
  "Tier a or b at level 3 or more"
  triggers when env == "prod" and tier in ["a", "b"] and level >= 3
  requires tier == "a"

policy AndRestByPath:
  "At level 3 or more in tier a or b (the tests in slot order: level sorts before tier)"
  triggers when env == "prod" and level >= 3 and tier in ["a", "b"]
  requires tier == "b"

policy OrRest:
  "Tier a or a low level"
  triggers when env == "prod" and (tier == "a" or level < 2)
  requires level != 1

policy AndClause:
  "Tier a at level 3 or more"
  triggers when env == "prod"
  requires tier == "a" and level >= 3

policy OrClause:
  "Tier b or a low level"
  triggers when env == "prod"
  requires tier == "b" or level < 2
"#;
    let bytes = compile("chains.ipe", src);
    let b = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
    let table = ipe_nostd::vm::Prepared::<8>::new(&b);
    assert!(!table.is_empty(), "the chains are planned");
    let tiers = [
        Some(serde_json::json!("a")),
        Some(serde_json::json!("b")),
        Some(serde_json::json!("c")),
        Some(serde_json::json!(7)),
        None,
    ];
    let levels = [
        Some(serde_json::json!(5)),
        Some(serde_json::json!(1)),
        Some(serde_json::json!("x")),
        None,
    ];
    let decide = |r: &serde_json::Value, prepared: bool| decide(&b, &table, r, prepared);
    let (mut violations, mut errors) = (0, 0);
    for tier in &tiers {
        for level in &levels {
            let mut request = serde_json::json!({"env": "prod"});
            if let Some(t) = tier {
                request["tier"] = t.clone();
            }
            if let Some(l) = level {
                request["level"] = l.clone();
            }
            let plain = decide(&request, false);
            assert_eq!(plain, decide(&request, true), "{request}");
            violations += plain.violations.len();
            errors += plain.errors.len();
        }
    }
    // The combinations reach violations and errors (two errors in one chain among them).
    assert!(violations > 0 && errors > 0, "{violations} {errors}");
    let both = decide(&serde_json::json!({"env": "prod", "tier": 7}), true);
    assert_eq!(both.errors.len(), 5, "{both:?}");
}

/// Issue #15, session 20: aggregate filters of one and two tests (`count`, `any`, `all`,
/// including the seed's shape `x.f == "const" and x.g != request.attr`) give the plain
/// interpreter's decision over elements and request values that are missing or of the wrong
/// type: which element errors are kept (the smallest), when one test's result absorbs the
/// other's error, and the count or witness reported. Both interpreter paths read element
/// conditions as `Truth`s, so the JIT (compiled from the bytecode, sharing none of that code)
/// decides each request too.
#[test]
fn aggregate_filters_with_errors_decide_as_the_plain_interpreter() {
    let src = r#"
schema {
  team: string
  min:  int
  items: list of item {
    kind: string
    team: string
    size: int
  }
}

default allow

policy CountPair:
  "Two widgets from another team"
  triggers when min >= 0
  requires items.count >= 2 where item.kind == "widget" and item.team != team

policy CountOr:
  "Two widgets or big items"
  triggers when min >= 0
  requires items.count >= 2 where item.kind == "widget" or item.size > 10

policy CountOne:
  "Two big items"
  triggers when min >= 0
  requires items.count >= 2 where item.size > min

policy AnyPair:
  "Some widget of this team"
  triggers when min >= 0
  requires any(i in items where i.kind == "widget" and i.team == team)

policy AllPair:
  "Every item a small widget"
  triggers when min >= 0
  requires all(i in items where i.kind == "widget" and i.size <= 10)

policy AllOr:
  "Every item of this team or small"
  triggers when min >= 0
  requires all(i in items where i.team == team or i.size <= min)
"#;
    let bytes = compile("aggregates.ipe", src);
    let b = ipe_nostd::Bundle::from_bytes(&bytes).expect("verifies");
    let table = ipe_nostd::vm::Prepared::<16>::new(&b);
    assert!(!table.is_empty(), "the filters are planned");
    let elements = [
        serde_json::json!({"kind": "widget", "team": "a", "size": 3}),
        serde_json::json!({"kind": "widget", "team": "b", "size": 30}),
        serde_json::json!({"kind": "gadget", "team": "a", "size": 12}),
        serde_json::json!({"kind": 5, "team": "b", "size": 1}),
        serde_json::json!({"kind": "widget", "team": 9}),
        serde_json::json!({"team": "a", "size": "big"}),
        serde_json::json!({"kind": 5, "team": 9, "size": "x"}),
        serde_json::json!(7),
    ];
    let teams = [
        Some(serde_json::json!("a")),
        Some(serde_json::json!(1)),
        None,
    ];
    let mins = [Some(serde_json::json!(5)), Some(serde_json::json!("x"))];
    let decide = |r: &serde_json::Value, prepared: bool| decide(&b, &table, r, prepared);
    let jit = cfg!(feature = "jit").then(|| {
        let opts = ipe_host::EngineOptions::jit_all(ipe_host::JitTier::Optimized);
        ipe_host::PolicyEngine::with_options(bytes.clone(), opts).expect("loads")
    });
    let jit_set = jit.as_ref().map(|e| e.load());
    let arena = bumpalo::Bump::new();
    let (mut violations, mut errors, mut requests) = (0, 0, 0);
    // Every list of up to three of the elements, in order, with each team and min.
    let mut lists: Vec<Vec<serde_json::Value>> = vec![vec![]];
    for a in &elements {
        lists.push(vec![a.clone()]);
        for b2 in &elements {
            lists.push(vec![a.clone(), b2.clone()]);
            for c in elements.iter().step_by(2) {
                lists.push(vec![a.clone(), b2.clone(), c.clone()]);
            }
        }
    }
    for items in &lists {
        for team in &teams {
            for min in &mins {
                let mut request = serde_json::json!({ "items": items });
                if let Some(t) = team {
                    request["team"] = t.clone();
                }
                if let Some(m) = min {
                    request["min"] = m.clone();
                }
                let plain = decide(&request, false);
                assert_eq!(plain, decide(&request, true), "{request}");
                if let Some(set) = &jit_set {
                    let json = request.to_string();
                    let values = set.parse_json(&json, &arena).expect("parses");
                    assert_eq!(plain, set.decide::<8>(values), "JIT: {request}");
                }
                violations += plain.violations.len();
                errors += plain.errors.len();
                requests += 1;
            }
        }
    }
    // The combinations reach violations and errors, counts and witnesses among them.
    assert!(
        requests > 1000 && violations > 0 && errors > 0,
        "{requests} {violations} {errors}"
    );
}
