//! Issue #13 first-match groups: the bundle format (version 2, the policy record's group
//! byte), what the verifier refuses, and that a large group stays linear.

use ipe_nostd::format::{group, PolicyRec, POLICY_LEN};
use ipe_nostd::verify::VerifyError;
use ipe_nostd::{Bundle, BundleError};
use ipe_testgen::backend::{Backend, Interp, Reference};
use serde_json::json;

fn bytes(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

const GROUPED: &str = r#"schema {
  port: int
  host: string
}
policy Plain:
  "indexed ordinary policy"
  triggers when host == "a"
  denies
group G first-match {
  policy First:
    "indexable, but a rule"
    triggers when port == 1
    permits
  policy Second:
    "second"
    triggers when port == 2
    denies
}
"#;

/// `bytes` with the policy records rewritten by `f` (re-encoded with the version the body
/// needs).
fn with_policies(bytes: &[u8], f: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut body = Bundle::decode_unverified(bytes).expect("decodes");
    let mut policies = body.policies.to_vec();
    f(&mut policies);
    body.policies = &policies;
    ipe_compile::lower::encode(&body)
}

fn set_group(policies: &mut [u8], id: usize, g: u8) {
    policies[id * POLICY_LEN + 39] = g;
}

#[test]
fn issue13_a_bundle_is_version_2_exactly_when_it_has_a_group() {
    let grouped = bytes(GROUPED);
    assert_eq!(u16::from_le_bytes([grouped[4], grouped[5]]), 2);
    let plain = bytes(
        "schema {\n  port: int\n}\npolicy P:\n  \"p\"\n  triggers when port == 1\n  permits\n",
    );
    assert_eq!(u16::from_le_bytes([plain[4], plain[5]]), 1);
    let b = Bundle::from_bytes(&grouped).expect("verifies");
    let roles: Vec<u8> = (0..3).map(|i| b.policy_rec(i).group()).collect();
    assert_eq!(roles, [group::NONE, group::FIRST, group::NEXT]);
    // The rules are unindexed even though `port == 1` is indexable; `Plain` is indexed.
    assert_eq!(b.unindexed().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn issue13_the_header_must_name_the_version_the_body_needs() {
    let mut grouped = bytes(GROUPED);
    grouped[4..6].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(
        Bundle::from_bytes(&grouped).err(),
        Some(BundleError::VersionMismatch { header: 1, body: 2 })
    );
    let mut plain = bytes("policy P:\n  \"p\"\n  permits\n");
    plain[4..6].copy_from_slice(&2u16.to_le_bytes());
    assert_eq!(
        Bundle::from_bytes(&plain).err(),
        Some(BundleError::VersionMismatch { header: 2, body: 1 })
    );
    let mut future = bytes("policy P:\n  \"p\"\n  permits\n");
    future[4..6].copy_from_slice(&3u16.to_le_bytes());
    assert_eq!(
        Bundle::from_bytes(&future).err(),
        Some(BundleError::UnsupportedVersion(3))
    );
}

#[test]
fn issue13_the_verifier_refuses_malformed_groups() {
    let good = bytes(GROUPED);
    let bad_record = |policy: u32| {
        Some(BundleError::Verify(VerifyError::BadRecord {
            section: ipe_nostd::verify::Section::Policies,
            index: policy,
        }))
    };
    // A later rule right after an ordinary policy: it follows no rule of its group.
    let orphan = with_policies(&good, |p| set_group(p, 1, group::NEXT));
    assert_eq!(Bundle::from_bytes(&orphan).err(), bad_record(1));
    // A group byte outside 0..=2.
    let unknown = with_policies(&good, |p| set_group(p, 2, 3));
    assert_eq!(Bundle::from_bytes(&unknown).err(), bad_record(2));
    // An indexed policy made a rule.
    let indexed = with_policies(&good, |p| set_group(p, 0, group::FIRST));
    assert_eq!(
        Bundle::from_bytes(&indexed).err(),
        Some(BundleError::Verify(VerifyError::GroupRuleIndexed {
            policy: 0
        }))
    );
    // Sanity: the rewriting itself keeps a good bundle good.
    let same = with_policies(&good, |_| {});
    assert_eq!(same, good);
    assert!(PolicyRec::count(Bundle::decode_unverified(&good).unwrap().policies) == 3);
}

#[test]
fn issue13_a_large_group_costs_the_sum_of_its_rules_and_the_first_true_rule_decides() {
    let n = 400;
    let mut src = String::from("schema {\n  port: int\n}\ngroup Acl first-match {\n");
    for i in 0..n {
        src.push_str(&format!(
            "  policy R{i}:\n    \"rule {i}\"\n    triggers when port <= {i}\n    {}\n",
            if i % 2 == 0 { "permits" } else { "denies" }
        ));
    }
    src.push_str("}\n");
    let program = ipe_compile::compile_str(&[("t.ipe", src.as_str())]).expect("compiles");
    let compiled = ipe_compile::lower::lower(&program).expect("lowers");
    let alone = |body: &str| {
        let src = format!(
            "schema {{\n  port: int\n}}\npolicy R:\n  \"r\"\n  triggers when port <= 7\n  {body}\n"
        );
        let program = ipe_compile::compile_str(&[("t.ipe", src.as_str())]).unwrap();
        ipe_compile::lower::lower(&program).unwrap().policies[0].cost
    };
    let (permits, denies) = (alone("permits"), alone("denies"));
    // Every rule costs what the same policy costs alone: no expansion across rules.
    for (i, p) in compiled.policies.iter().enumerate() {
        assert_eq!(
            p.cost,
            if i % 2 == 0 { permits } else { denies },
            "{}",
            p.name
        );
    }
    let interp = Interp::new(&compiled.bytes).expect("verifies");
    for (port, expected) in [
        (
            0,
            json!({"decision":"allow","matched":["R0"],"violations":[],"errors":[]}),
        ),
        (
            399,
            json!({"decision":"deny","matched":["R399"],"violations":[{"policy":"R399","intent":"rule 399","reason":"denied by policy"}],"errors":[]}),
        ),
        (
            400,
            json!({"decision":"deny","matched":[],"violations":[],"errors":[]}),
        ),
    ] {
        let req = json!({ "port": port });
        for b in [&Reference(&program) as &dyn Backend, &interp] {
            let got: serde_json::Value = serde_json::from_str(&b.decide(&req).unwrap()).unwrap();
            assert_eq!(got, expected, "{} on port {port}", b.name());
        }
    }
}
