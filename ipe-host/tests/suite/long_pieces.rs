//! Issue #15 (16-byte interpreter cells): a `segment` piece is at most
//! `ipe_nostd::segment::MAX_PIECE` bytes on every engine. A longer one is no piece (`??` gives
//! its default; without `??` it is the no-segment error), and the reference evaluator, the
//! interpreter, the host engine and both JIT tiers agree on each side of the limit.

use ipe_host::{EngineOptions, JitTier};
use ipe_nostd::segment::MAX_PIECE;
use ipe_nostd::Bundle;
use ipe_testgen::backend::{compare, Backend, Host, Interp, Jit, Reference};

const SOURCE: &str = r#"default allow

schema {
  path: string
}

policy FirstPiece:
  "the path has a first piece"
  triggers when true
  requires (segment(path, "/", 0) ?? "none") != "none"

policy SecondPieceShort:
  "the second piece of the path is short"
  triggers when true
  requires len(segment(path, "/", 1)) < 5
"#;

#[test]
fn pieces_longer_than_the_limit_are_no_piece_on_every_engine() {
    let program = ipe_compile::compile_str(&[("long.ipe", SOURCE)]).expect("compiles");
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let interp = Interp::new(&bytes).expect("verifies");
    let host = Host::new("host", &bytes, EngineOptions::interpreter()).expect("loads");
    let jit_host = Host::new(
        "host-jit",
        &bytes,
        EngineOptions::jit_all(JitTier::Baseline),
    )
    .expect("loads");
    let baseline = Jit::new(
        Bundle::from_bytes(&bytes).expect("verifies"),
        JitTier::Baseline,
        true,
    )
    .expect("compiles");
    let optimized = Jit::new(
        Bundle::from_bytes(&bytes).expect("verifies"),
        JitTier::Optimized,
        true,
    )
    .expect("compiles");
    let backends: [&dyn Backend; 6] = [
        &Reference(&program),
        &interp,
        &host,
        &jit_host,
        &baseline,
        &optimized,
    ];
    // (first piece's length, second piece's length, decision, whether it is the no-segment
    // error): a piece past the limit is no piece, so `??` gives "none" for the first and
    // `len` of the second is the no-segment error (fail closed).
    for (first, second, expected, no_segment) in [
        (MAX_PIECE, 3, "allow", false),
        (MAX_PIECE + 1, 3, "deny", false),
        (3, MAX_PIECE, "deny", false),
        (3, MAX_PIECE + 1, "deny", true),
    ] {
        let path = format!("{}/{}", "b".repeat(first), "c".repeat(second));
        let request = serde_json::json!({ "path": path });
        let decision = compare(&backends, &request).unwrap_or_else(|e| panic!("{e}"));
        let json: serde_json::Value = serde_json::from_str(&decision).expect("decision JSON");
        assert_eq!(json["decision"], expected, "{first}/{second}: {decision}");
        assert_eq!(
            decision.contains("no such segment"),
            no_segment,
            "{first}/{second}: {decision}"
        );
    }
}
