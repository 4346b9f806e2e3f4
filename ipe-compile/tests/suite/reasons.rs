//! Issue 13, reasons with values: the device path (fixed-capacity decision, rendering into a
//! caller's buffer with no allocation), the bundle bytes of templates and the verifier's
//! checks of them.

use core::fmt::Write;

use ipe_nostd::format::{ClauseRec, PolicyRec, ReasonPartRec, CLAUSE_LEN, POLICY_LEN};
use ipe_nostd::render::write_reason;
use ipe_nostd::verify::{Section, VerifyError};
use ipe_nostd::{Bundle, BundleError, Context, Decision, Str, Value};

const SRC: &str = r#"schema {
  spec.containers: list of container {
    image: string
    name: string
  }
  user: string
}

policy Registry:
  "images come from gcr.io"
  requires user != "" and all(c in spec.containers where c.image starts_with "gcr.io/")
  with reason "{user}: container {c.name} uses {c.image}"
"#;

fn compile(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("reasons.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

/// A `fmt::Write` over a fixed byte buffer, as a device would use.
struct Buf {
    bytes: [u8; 128],
    len: usize,
}

impl Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn slot(bundle: &Bundle<'_>, path: &str) -> u16 {
    (0..bundle.slot_count())
        .map(|i| i as u16)
        .find(|&i| bundle.slot_info(i).path == path)
        .expect("slot exists")
}

#[test]
fn issue13_device_renders_the_witness_into_a_fixed_buffer() {
    let bytes = compile(SRC);
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let (list, user) = (slot(&bundle, "spec.containers"), slot(&bundle, "user"));
    let s = |t: &'static str| {
        Value::Str(Str {
            text: t,
            sym: bundle.intern(t).sym,
        })
    };
    // Fields sorted by path: image, name.
    let elems = [
        s("gcr.io/a"),
        s("a"),
        Value::Missing,
        s("b"),
        s("docker.io/c"),
        s("c"),
        s("quay.io/d"),
        s("d"),
    ];
    let mut ctx = Context::<4>::new();
    ctx.set(list, Value::Records(&elems));
    ctx.set_str(&bundle, user, "ann");
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    let v = d.violations[0];
    // The first false element is the third (the second is an error), clause 1.
    assert_eq!((v.clause, v.witness.map(|w| w.get())), (Some(1), Some(2)));
    let mut buf = Buf {
        bytes: [0; 128],
        len: 0,
    };
    write_reason(&mut buf, &bundle, ctx.values(), v).expect("fits");
    assert_eq!(
        core::str::from_utf8(&buf.bytes[..buf.len]).expect("utf-8"),
        "ann: container c uses docker.io/c"
    );
    // Without the values, placeholders cannot be read.
    assert_eq!(
        bundle.reason(v).to_string(),
        "<missing>: container <none> uses <none>"
    );
    // The first clause failing: the element has no value.
    ctx.set_str(&bundle, user, "");
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    let v = d.violations[0];
    assert_eq!((v.clause, v.witness), (Some(0), None));
    assert_eq!(
        bundle.reason_with(ctx.values(), v).to_string(),
        ": container <none> uses <none>"
    );
}

/// Re-encodes `bytes` after `edit` changes its sections (checksum recomputed).
fn edited(bytes: &[u8], edit: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>, &mut Vec<u8>)) -> Vec<u8> {
    let body = Bundle::decode_unverified(bytes).expect("decodes");
    let (mut policies, mut clauses, mut parts) = (
        body.policies.to_vec(),
        body.clauses.to_vec(),
        body.reason_parts.to_vec(),
    );
    edit(&mut policies, &mut clauses, &mut parts);
    let body = ipe_nostd::format::Body {
        policies: &policies,
        clauses: &clauses,
        reason_parts: &parts,
        ..body
    };
    ipe_compile::lower::encode(&body)
}

fn rejected(bytes: &[u8]) -> Option<(Section, u32)> {
    match Bundle::from_bytes(bytes) {
        Err(BundleError::Verify(VerifyError::BadRecord { section, index })) => {
            Some((section, index))
        }
        _ => None,
    }
}

#[test]
fn issue13_verifier_checks_templates_and_witness_flags() {
    let bytes = compile(SRC);
    assert!(Bundle::from_bytes(&bytes).is_ok());
    // The template round-trips through decode and encode.
    assert_eq!(edited(&bytes, |_, _, _| {}), bytes);
    let body = Bundle::decode_unverified(&bytes).expect("decodes");
    let clause1 = ClauseRec::nth(body.clauses, 1).fields();
    assert_eq!(
        (clause1.witness, ClauseRec::nth(body.clauses, 0).witness()),
        (1, 0)
    );

    // A witness flag on a clause that is not one `all`.
    let bad = edited(&bytes, |_, c, _| c[17] = 1);
    assert_eq!(rejected(&bad), Some((Section::Clauses, 0)));
    // A flag that is not 0 or 1.
    let bad = edited(&bytes, |_, c, _| c[CLAUSE_LEN + 17] = 2);
    assert_eq!(rejected(&bad), Some((Section::Clauses, 1)));
    // Parts: find the first field part and point it at clause 0 (no witness there).
    let n = body.reason_parts.len() / ipe_nostd::format::REASON_PART_LEN;
    let field = (0..n)
        .find(|&i| ReasonPartRec::nth(body.reason_parts, i).kind() == 2)
        .expect("a field part");
    let at = field * ipe_nostd::format::REASON_PART_LEN;
    let bad = edited(&bytes, |_, _, p| p[at + 10] = 0);
    let bad2 = edited(&bytes, |_, _, p| {
        p[at + 10] = 0;
        p[at + 12] = 0;
    });
    assert_eq!(rejected(&bad), Some((Section::ReasonParts, field as u32)));
    assert_eq!(rejected(&bad2), Some((Section::ReasonParts, field as u32)));
    // A field beyond the list's fields, an unknown kind, a slot part naming a list.
    let bad = edited(&bytes, |_, _, p| p[at + 12] = 9);
    assert_eq!(rejected(&bad), Some((Section::ReasonParts, field as u32)));
    let bad = edited(&bytes, |_, _, p| p[at + 8] = 7);
    assert_eq!(rejected(&bad), Some((Section::ReasonParts, field as u32)));
    let list = body
        .slots
        .chunks(ipe_nostd::format::SLOT_LEN)
        .position(|s| s[8] == 5)
        .expect("a records slot") as u8;
    let bad = edited(&bytes, |_, _, p| {
        p[at + 8] = 1;
        p[at + 10] = 0;
        p[at + 12] = list;
    });
    assert_eq!(rejected(&bad), Some((Section::ReasonParts, field as u32)));
    // Parts out of range, and a policy with parts and a reason text.
    let count =
        PolicyRec::new(body.policies[..POLICY_LEN].try_into().expect("one policy")).part_count();
    let bad = edited(&bytes, |pol, _, _| pol[46] = (count + 1) as u8);
    assert_eq!(rejected(&bad), Some((Section::Policies, 0)));
    let bad = edited(&bytes, |pol, _, _| {
        pol[16..20].copy_from_slice(&[0, 0, 0, 0])
    });
    assert_eq!(rejected(&bad), Some((Section::Policies, 0)));
    // An empty trailing section is not canonical: it is simply absent.
    let mut with_empty = bytes.clone();
    let body_len = with_empty.len() - ipe_nostd::format::HEADER_LEN;
    let plain = ipe_compile::lower::encode(&ipe_nostd::format::Body {
        reason_parts: &[],
        ..body
    });
    with_empty.clear();
    with_empty.extend_from_slice(&plain);
    with_empty.push(0);
    let fixed = {
        let payload = &with_empty[ipe_nostd::format::HEADER_LEN..];
        let mut out = ipe_nostd::format::Header::for_body(payload)
            .write()
            .to_vec();
        out.extend_from_slice(payload);
        out
    };
    assert!(body_len > 0);
    assert!(matches!(
        Bundle::from_bytes(&fixed),
        Err(BundleError::MalformedBody)
    ));
}

#[test]
fn issue13_v1_bundles_have_no_trailing_section() {
    // A `with reason` without braces is a v1 reason: no parts, no flags, no trailing section.
    let src = SRC.replace("{user}: container {c.name} uses {c.image}", "plain text");
    let bytes = compile(&src);
    let body = Bundle::decode_unverified(&bytes).expect("decodes");
    assert!(body.reason_parts.is_empty());
    assert!(body.clauses.chunks(CLAUSE_LEN).all(|c| c[17] == 0));
    // Escaped braces only: the text with single braces, still no template.
    let src = SRC.replace("{user}: container {c.name} uses {c.image}", "{{x}}");
    let bytes = compile(&src);
    assert!(Bundle::decode_unverified(&bytes)
        .expect("decodes")
        .reason_parts
        .is_empty());
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    assert!(!bundle.has_reason_template(0));
    assert_eq!(bundle.policy(0).reason, Some("{x}"));
}

const DEFAULTS: &str = r#"schema {
  name: string
  replicas: int
  tier: enum ["dev", "prod"]
  tags: list of string
}

policy Limits:
  "limits"
  requires (replicas <= 50 or name starts_with "svc-") and tier == "prod" and tags.count >= 1
"#;

/// Renders `v`'s reason into a fixed buffer with `values`, as a device does.
fn render_fixed(bundle: &Bundle<'_>, values: &[Value<'_>], v: ipe_nostd::Violation) -> String {
    let mut buf = Buf {
        bytes: [0; 128],
        len: 0,
    };
    write_reason(&mut buf, bundle, values, v).expect("fits");
    core::str::from_utf8(&buf.bytes[..buf.len])
        .expect("utf-8")
        .to_owned()
}

#[test]
fn issue13_default_reasons_show_the_values_read_on_the_device() {
    let bytes = compile(DEFAULTS);
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let (name, replicas, tier, tags) = (
        slot(&bundle, "name"),
        slot(&bundle, "replicas"),
        slot(&bundle, "tier"),
        slot(&bundle, "tags"),
    );
    let mut ctx = Context::<4>::new();
    ctx.set_str(&bundle, name, "a\"b\\c\n");
    ctx.set(replicas, Value::Int(60));
    ctx.set(tier, Value::Enum(0));
    ctx.set(tags, Value::List(&[]));
    // The first clause fails: both attributes it reads, in path order, the string
    // JSON-quoted.
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    assert_eq!(
        render_fixed(&bundle, ctx.values(), d.violations[0]),
        r#"requirement not met: (replicas <= 50 or name starts_with "svc-") (found name = "a\"b\\c\n", replicas = 60)"#
    );
    // Without the request's values nothing is shown, not `<missing>`.
    assert_eq!(
        bundle.reason(d.violations[0]).to_string(),
        r#"requirement not met: (replicas <= 50 or name starts_with "svc-")"#
    );
    // An enum member by name, quoted.
    ctx.set_str(&bundle, name, "svc-a");
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    assert_eq!(
        render_fixed(&bundle, ctx.values(), d.violations[0]),
        r#"requirement not met: tier == "prod" (found tier = "dev")"#
    );
    // A count clause keeps ` (found N)`.
    ctx.set(tier, Value::Enum(1));
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    assert_eq!(
        render_fixed(&bundle, ctx.values(), d.violations[0]),
        "requirement not met: tags.count >= 1 (found 0)"
    );
}

#[test]
fn issue13_default_reason_values_in_the_reference_evaluator() {
    let program = ipe_compile::compile_str(&[("d.ipe", DEFAULTS)]).expect("compiles");
    let value: serde_json::Value = serde_json::from_str(
        r#"{"name": "web\u0001", "replicas": 70.0, "tier": "prod", "tags": []}"#,
    )
    .expect("json");
    let reference = ipe_compile::eval::evaluate(&program, &value);
    assert_eq!(
        reference.violations[0].reason,
        r#"requirement not met: (replicas <= 50 or name starts_with "svc-") (found name = "web\u0001", replicas = 70)"#
    );
    // The first false clause decides (the count clause is an error: `tags` is missing).
    let value: serde_json::Value =
        serde_json::from_str(r#"{"name": "svc-a", "replicas": 1, "tier": "dev"}"#).expect("json");
    let reference = ipe_compile::eval::evaluate(&program, &value);
    assert_eq!(
        reference.violations[0].reason,
        r#"requirement not met: tier == "prod" (found tier = "dev")"#
    );
}
