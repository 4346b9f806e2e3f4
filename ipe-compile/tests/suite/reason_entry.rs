//! Issue #13 (session 10): reason part kind 5, `{m[k]}` / `{m[k].f}`: a request map's entry
//! under a key read from a string slot. Written with the map slot, the key's slot and the entry
//! field, rendered from the request's values by every engine's renderer, and verified.

use crate::reason_parts::{rejected, with_part_byte};
use ipe_nostd::format::{ReasonPartRec, REASON_PART_LEN};
use ipe_nostd::verify::Section;
use ipe_nostd::{Bundle, Context, Decision, Str, Value};

const SRC: &str = r#"schema {
  n: int
  k: string
  labels: map of string max 4
  svc: map of max 2 { port: int }
}

policy P:
  "n is small"
  requires n < 5
  with reason "{labels[k]}/{svc[k].port}"
"#;

fn bytes() -> Vec<u8> {
    crate::reason_parts::bytes(SRC)
}

#[test]
fn issue13_map_entry_parts_are_written_rendered_and_verified() {
    let bytes = bytes();
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let body = Bundle::decode_unverified(&bytes).expect("decodes");
    let slot = |p: &str| bundle.slot(p).expect("slot");
    let (n, k, labels, svc) = (slot("n"), slot("k"), slot("labels"), slot("svc"));
    let parts: Vec<(u8, u16, u16, u16)> = (0..body.reason_parts.len() / REASON_PART_LEN)
        .map(|i| {
            let p = ReasonPartRec::nth(body.reason_parts, i);
            (p.kind(), p.clause(), p.operand(), p.entry())
        })
        .collect();
    // The map entry under `k`, text, the record field `port` (field 1: key, value.port).
    assert_eq!(parts, [(5, k, labels, 1), (0, 0, 0, 0), (5, k, svc, 1)]);

    let s = |t: &'static str| {
        Value::Str(Str {
            text: t,
            sym: bundle.intern(t).sym,
        })
    };
    let entries = [s("a"), s("x"), s("web"), s("y")];
    let services = [s("web"), Value::Int(443)];
    let mut ctx = Context::<8>::new();
    ctx.set(n, Value::Int(9));
    ctx.set(k, s("web"));
    ctx.set(labels, Value::Records(&entries));
    ctx.set(svc, Value::Records(&services));
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    let v = d.violations[0];
    assert_eq!(bundle.reason_with(ctx.values(), v).to_string(), "y/443");
    // No entry under the key; the key missing.
    ctx.set(k, s("db"));
    assert_eq!(
        bundle.reason_with(ctx.values(), v).to_string(),
        "<missing>/<missing>"
    );
    ctx.set(k, Value::Missing);
    assert_eq!(
        bundle.reason_with(ctx.values(), v).to_string(),
        "<missing>/<missing>"
    );
    ctx.set(k, Value::Int(1));
    assert_eq!(
        bundle.reason_with(ctx.values(), v).to_string(),
        "<invalid>/<invalid>"
    );

    // Entry field 0 (the key), past the map's fields, a key slot that is no string, a map
    // slot that is no map, and text on the part are rejected.
    assert_eq!(
        rejected(&with_part_byte(&bytes, 0, 14, 0)),
        Some((Section::ReasonParts, 0))
    );
    assert_eq!(
        rejected(&with_part_byte(&bytes, 2, 14, 2)),
        Some((Section::ReasonParts, 2))
    );
    let n_byte = u8::try_from(n).expect("small slot id");
    assert_eq!(
        rejected(&with_part_byte(&bytes, 0, 10, n_byte)),
        Some((Section::ReasonParts, 0))
    );
    assert_eq!(
        rejected(&with_part_byte(&bytes, 0, 12, n_byte)),
        Some((Section::ReasonParts, 0))
    );
    assert_eq!(
        rejected(&with_part_byte(&bytes, 2, 9, 1)),
        Some((Section::ReasonParts, 2))
    );
}
