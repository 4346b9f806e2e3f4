//! Issue 13, default reasons with values: the host renders ` (found ...)` from the request's
//! values through every reader and code tier, and leaves it out without them.

use bumpalo::Bump;
use ipe_host::{EngineOptions, JitTier, PolicyEngine};

use crate::common;

const SRC: &str = r#"
schema {
  name: string
  replicas: int
  tier: enum ["dev", "prod"]
}
policy Limits:
  "limits"
  requires (replicas <= 50 or name starts_with "svc-") and tier == "prod"
"#;

const REQUEST: &str = r#"{"name": "we\"b", "replicas": 60, "tier": "prod"}"#;
const WANT: &str = r#"requirement not met: (replicas <= 50 or name starts_with "svc-") (found name = "we\"b", replicas = 60)"#;

#[test]
fn issue13_host_default_reasons_show_the_values_read() {
    let mut engines = vec![PolicyEngine::from_bytes(common::bundle(SRC)).expect("loads")];
    if cfg!(feature = "jit") {
        for tier in [JitTier::Baseline, JitTier::Optimized] {
            engines.push(
                PolicyEngine::with_options(common::bundle(SRC), EngineOptions::jit_all(tier))
                    .expect("loads"),
            );
        }
    }
    for engine in &engines {
        let set = engine.load();
        // One-pass JSON reader, values at hand.
        let report = set.report_json(REQUEST).expect("an object");
        assert_eq!(report.violations[0].reason, WANT);
        // Without the values: the clause alone, never `<missing>`.
        let d = set.evaluate_json(REQUEST).expect("an object");
        assert_eq!(
            set.report(&d).violations[0].reason,
            r#"requirement not met: (replicas <= 50 or name starts_with "svc-")"#
        );
        // Typed builder.
        let arena = Bump::new();
        let mut req = set.request(&arena);
        req.str("name", "we\"b");
        req.int("replicas", 60);
        req.str("tier", "prod");
        let typed = req.report().expect("no attribute set twice");
        assert_eq!(typed.violations[0].reason, WANT);
    }
}
