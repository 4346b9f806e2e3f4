use bumpalo::Bump;
use ipe_host::{EngineOptions, PolicyEngine, Verdict};
use ipe_nostd::{Effect, Outcome};

use crate::common;

/// Every tier this build has.
fn tiers() -> Vec<EngineOptions> {
    let mut t = vec![EngineOptions::interpreter()];
    if cfg!(feature = "jit") {
        t.push(EngineOptions::jit_all(ipe_host::JitTier::Baseline));
        t.push(EngineOptions::jit_all(ipe_host::JitTier::Optimized));
    }
    t
}

/// Issue 15: a verdict (the decision as data) holds the effect and the outcome of every
/// applied or erring policy, in evaluation order, and its lists, once asked for, are the
/// decision `evaluate_values` makes; a reused verdict forgets the previous decision.
#[test]
fn issue15_verdict_is_the_decision_as_data() {
    // Three groups of policies: one indexed by `kind`, one unindexed that errs when `n` is
    // missing, one whose trigger errs.
    let src = r#"
default allow

schema {
  kind: string
  n: int
  team: string
}

policy KindA:
  "kind a needs n >= 2"
  triggers when kind == "a"
  requires n >= 2

policy KindB:
  "kind b is denied"
  triggers when kind == "b"
  denies

policy Always:
  "n at most 10"
  requires n <= 10

policy TeamX:
  "team x needs n == 3"
  triggers when team == "x"
  requires n == 3
"#;
    let bytes = common::bundle(src);
    for opts in tiers() {
        let engine = PolicyEngine::with_options(bytes.clone(), opts).expect("loads");
        let set = engine.load();
        let mut verdict = Verdict::new();
        let arena = Bump::new();
        // (request, effect, policies listed by the verdict in evaluation order)
        let cases: [(&str, Effect, &[&str]); 5] = [
            (
                r#"{"kind": "a", "n": 1, "team": "y"}"#,
                Effect::Deny,
                &["Always", "KindA"],
            ),
            (
                r#"{"kind": "a", "n": 5, "team": "y"}"#,
                Effect::Allow,
                &["Always", "KindA"],
            ),
            (
                r#"{"kind": "c", "n": 11, "team": "y"}"#,
                Effect::Deny,
                &["Always"],
            ),
            (
                r#"{"kind": "b", "team": "x"}"#,
                Effect::Deny,
                &["Always", "TeamX", "KindB"],
            ),
            (
                r#"{"kind": "zzz", "n": 3}"#,
                Effect::Deny,
                &["Always", "TeamX"],
            ),
        ];
        for (text, effect, listed) in cases {
            let values = set.parse_json(text, &arena).expect("valid request");
            set.decide_into(values, &mut verdict);
            assert_eq!(verdict.effect(), effect, "{text} ({opts:?})");
            let names: Vec<&str> = verdict
                .outcomes()
                .iter()
                .map(|&(id, _)| set.bundle().policy(id).name)
                .collect();
            let mut want = listed.to_vec();
            let mut got = names.clone();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "{text} ({opts:?})");
            assert!(
                verdict
                    .outcomes()
                    .iter()
                    .all(|(_, o)| !matches!(o, Outcome::NotApplicable)),
                "{text}"
            );
            assert_eq!(verdict.to_decision(), set.evaluate_values(values), "{text}");
        }
    }
}

/// Issue 15, session 19: a decision keeps its first matched policies and violations in place
/// and moves them to pooled lists beyond that; on every tier, for 0 to 12 matched policies (up
/// to 12 violations, with and without an erring one, unindexed policies evaluated first so the
/// lists arrive out of order), `evaluate_values` lists exactly what the interpreter's
/// fixed-capacity decision (`decide::<64>`, never cut here) lists, in ascending ids.
#[test]
fn issue15_decision_lists_across_the_in_place_capacity() {
    use std::fmt::Write as _;
    let mut src = String::from("default allow\n\nschema {\n  kind: string\n");
    for i in 0..12 {
        let _ = writeln!(src, "  v{i}: int");
    }
    src.push_str("  m: int\n}\n\n");
    // Policies 0..6 indexed by `kind`, 6..12 unindexed: `vI` decides whether policy I matches
    // (1: satisfied, 2: violated, else not applicable); `m` missing makes policy 11 err.
    for i in 0..12 {
        let _ = write!(src, "policy P{i}:\n  \"policy {i}\"\n  triggers when ");
        if i < 6 {
            let _ = write!(src, "kind == \"k\" and ");
        }
        let _ = writeln!(src, "v{i} >= 1");
        if i == 11 {
            let _ = writeln!(src, "  requires v{i} == 1 and m >= 0\n");
        } else {
            let _ = writeln!(src, "  requires v{i} == 1\n");
        }
    }
    let bytes = common::bundle(&src);
    for opts in tiers() {
        let engine = PolicyEngine::with_options(bytes.clone(), opts).expect("loads");
        let set = engine.load();
        let arena = Bump::new();
        for matched in 0..=12usize {
            for violated_every in [1usize, 2, 3] {
                for with_m in [true, false] {
                    let mut json = String::from("{\"kind\": \"k\"");
                    for i in 0..12 {
                        let v = if i >= matched {
                            0
                        } else if i % violated_every == 0 {
                            2
                        } else {
                            1
                        };
                        let _ = write!(json, ", \"v{i}\": {v}");
                    }
                    if with_m {
                        json.push_str(", \"m\": 0");
                    }
                    json.push('}');
                    let values = set.parse_json(&json, &arena).expect("parses");
                    let d = set.evaluate_values(values);
                    let fixed = set.decide::<64>(values);
                    let case = format!("{opts:?} {json}");
                    assert_eq!(d.effect, fixed.effect, "{case}");
                    assert_eq!(d.matched(), fixed.matched.as_slice(), "{case}");
                    assert_eq!(d.violations(), fixed.violations.as_slice(), "{case}");
                    assert_eq!(d.errors(), fixed.errors.as_slice(), "{case}");
                    assert!(d.matched().is_sorted(), "{case}");
                    assert_eq!(d.matched().len(), matched, "{case}");
                    assert_eq!(d.clone(), d, "{case}");
                    // A decision made while this one is alive (no values: every trigger
                    // errs) holds none of its entries.
                    let empty = set.evaluate_values(&[]);
                    assert!(empty.matched().is_empty() && empty.violations().is_empty());
                }
            }
        }
    }
}

/// Issue 15: a decision in brief has the full decision's effect and names the first policy
/// (in evaluation order) that denied; it evaluates nothing after that policy, so the policies
/// after it are not counted, and a bundle whose default is deny denies in brief with no
/// policy named when none applied.
#[test]
fn issue15_brief_stops_at_the_first_deny() {
    let src = r#"
default allow

schema {
  kind: string
  n: int
  team: string
}

policy KindA:
  "kind a needs n >= 2"
  triggers when kind == "a"
  requires n >= 2

policy KindA2:
  "kind a needs n >= 3"
  triggers when kind == "a"
  requires n >= 3

policy Always:
  "n at most 10"
  requires n <= 10

policy Positive:
  "n at least 0"
  requires n >= 0

policy TeamX:
  "team x needs n == 3"
  triggers when team == "x"
  requires n == 3
"#;
    let bytes = common::bundle(src);
    for opts in tiers() {
        let engine = PolicyEngine::with_options(bytes.clone(), opts).expect("loads");
        let set = engine.load();
        let id = |name: &str| {
            (0..set.policy_count())
                .map(|i| ipe_nostd::PolicyId::try_from(i).expect("few policies"))
                .find(|&i| set.bundle().policy(i).name == name)
                .expect("policy exists")
        };
        let arena = Bump::new();
        let counts = || {
            ["KindA", "KindA2", "Always", "Positive", "TeamX"].map(|name| set.evaluations(id(name)))
        };
        // (request, effect, the policies that may have denied, evaluations the brief made of
        // each of KindA, KindA2, Always, Positive and TeamX; 9: either of the two kind-a
        // policies, whichever runs first). Evaluation order: the unindexed `Always` and
        // `Positive` in ascending ids, then the `kind` group's candidates, then `team`'s.
        let cases: [(&str, Effect, &[&str], [u64; 5]); 5] = [
            // Both kind-a policies are violated: the brief stops at the first, and `TeamX`
            // (a candidate of the `team` group) does not run.
            (
                r#"{"kind": "a", "n": 1, "team": "x"}"#,
                Effect::Deny,
                &["KindA", "KindA2"],
                [9, 9, 1, 1, 0],
            ),
            (
                r#"{"kind": "a", "n": 5, "team": "y"}"#,
                Effect::Allow,
                &[],
                [1, 1, 1, 1, 0],
            ),
            // `Always` denies: nothing after it runs, not even the unindexed `Positive`.
            (
                r#"{"kind": "a", "n": 11, "team": "x"}"#,
                Effect::Deny,
                &["Always"],
                [0, 0, 1, 0, 0],
            ),
            // `team` is missing: every policy runs, and `TeamX`, the last, errs.
            (
                r#"{"kind": "a", "n": 3}"#,
                Effect::Deny,
                &["TeamX"],
                [1, 1, 1, 1, 1],
            ),
            (
                r#"{"kind": "zzz", "n": 3, "team": "y"}"#,
                Effect::Allow,
                &[],
                [0, 0, 1, 1, 0],
            ),
        ];
        for (text, effect, deciders, evaluated) in cases {
            let case = format!("{text} ({opts:?})");
            let values = set.parse_json(text, &arena).expect("valid request");
            let before = counts();
            let brief = set.brief(values);
            let after = counts();
            let d = set.evaluate_values(values);
            assert_eq!(brief.effect, effect, "{case}");
            assert_eq!(d.effect, effect, "{case}");
            assert_eq!(brief.allows(), effect == Effect::Allow, "{case}");
            let by = brief.denied_by.map(|i| set.bundle().policy(i).name);
            match by {
                Some(name) => assert!(deciders.contains(&name), "{case}: {name}"),
                None => assert!(deciders.is_empty(), "{case}"),
            }
            let ran: Vec<u64> = before.iter().zip(after).map(|(b, a)| a - b).collect();
            for (i, want) in evaluated.into_iter().enumerate() {
                if want != 9 {
                    assert_eq!(ran[i], want, "{case}: evaluations {ran:?}");
                }
            }
            if deciders.len() == 2 {
                // Exactly the deciding one of the two ran.
                assert_eq!(ran[0] + ran[1], 1, "{case}: evaluations {ran:?}");
                let first = if ran[0] == 1 { "KindA" } else { "KindA2" };
                assert_eq!(by, Some(first), "{case}");
            }
            let mut reader = engine.reader();
            assert_eq!(reader.brief(values), brief, "{case}");
            // The same brief from `ipe-nostd`'s interpreter (the same evaluation order).
            assert_eq!(ipe_nostd::vm::brief(set.bundle(), values), brief, "{case}");
        }
    }
    // Default deny, nothing applies: a deny no policy made.
    let bytes = common::bundle(
        "default deny\n\nschema {\n  kind: string\n}\n\npolicy K:\n  \"kind k\"\n  \
         triggers when kind == \"k\"\n  requires kind == \"k\"\n",
    );
    for opts in tiers() {
        let engine = PolicyEngine::with_options(bytes.clone(), opts).expect("loads");
        let set = engine.load();
        let arena = Bump::new();
        let none = set.parse_json(r#"{"kind": "j"}"#, &arena).expect("valid");
        let brief = set.brief(none);
        assert_eq!((brief.effect, brief.denied_by), (Effect::Deny, None));
        let k = set.parse_json(r#"{"kind": "k"}"#, &arena).expect("valid");
        assert_eq!(
            (set.brief(k).effect, set.brief(k).denied_by),
            (Effect::Allow, None)
        );
    }
}
