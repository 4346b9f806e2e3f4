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
