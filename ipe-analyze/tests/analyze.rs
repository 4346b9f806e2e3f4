//! `ipe_analyze::analyze` on small bundles: the encoding of groups, aggregates over records,
//! lookups, and the "unknown" answer for a construct that is not encoded.

use ipe_analyze::{analyze, Kind, Options};

fn findings(src: &str) -> Vec<(Kind, Option<String>)> {
    let program = ipe_compile::compile_str(&[("t.ipe", src.to_owned())]).expect("compiles");
    analyze(&program, &Options::default())
        .findings
        .into_iter()
        .map(|f| {
            (
                f.kind,
                f.policy
                    .map(|p| program.policies[p].name.as_str().to_owned()),
            )
        })
        .collect()
}

fn has(found: &[(Kind, Option<String>)], kind: Kind, policy: &str) -> bool {
    found
        .iter()
        .any(|(k, p)| *k == kind && p.as_deref() == Some(policy))
}

/// A first-match rule after a rule that always decides never applies.
#[test]
fn issue16_a_rule_after_a_catch_all_is_dead() {
    let src = r#"default allow
schema {
  port: int
}
group G first-match: "g" {
  policy Any:
    "any port"
    triggers when port >= 0 or port < 0
    permits
  policy Ssh:
    "ssh"
    triggers when port == 22
    denies
}
"#;
    let found = findings(src);
    assert!(has(&found, Kind::Dead, "Ssh"), "{found:?}");
    assert!(!has(&found, Kind::Dead, "Any"), "{found:?}");
}

/// `any` and `all` over a list of records, exactly: some element has the role and every
/// element lacks it cannot both hold; a shadowing through `all` is found with its witness.
#[test]
fn issue16_aggregates_over_records_are_exact() {
    let src = r#"default allow
schema {
  approvals: list of approval max 4 {
    role: string
    team: string
  }
}
policy Never:
  "contradiction"
  triggers when any(a in approvals where a.role == "sre")
    and all(a in approvals where a.role != "sre")
  denies
policy TwoSre:
  "two sre approvals"
  triggers when any(a in approvals where a.team == "x")
  requires approvals.count >= 2 where approval.role == "sre"
"#;
    let found = findings(src);
    assert!(has(&found, Kind::Dead, "Never"), "{found:?}");
    assert!(!has(&found, Kind::Dead, "TwoSre"), "{found:?}");
    assert!(!found.iter().any(|(k, _)| *k == Kind::Unknown), "{found:?}");
}

/// A policy written with `like` (not encoded): the solver's conflict does not reproduce, so the
/// answer is unknown and names the construct, never a wrong conflict.
#[test]
fn issue16_unsupported_constructs_give_unknown_not_wrong_answers() {
    let src = r#"default allow
schema {
  name: string
  n: int
}
policy A:
  "a names"
  triggers when name like "a*"
  requires n > 0
policy B:
  "b names"
  triggers when name like "b*"
  requires n < 0
"#;
    let program = ipe_compile::compile_str(&[("t.ipe", src.to_owned())]).expect("compiles");
    let a = analyze(&program, &Options::default());
    assert!(
        !a.findings.iter().any(|f| f.kind == Kind::Conflict),
        "{:?}",
        a.findings
    );
    let unknown: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Unknown)
        .collect();
    assert!(!unknown.is_empty(), "{:?}", a.findings);
    assert!(
        unknown.iter().all(|f| f
            .note
            .as_deref()
            .unwrap_or("")
            .contains("`like` not supported yet")),
        "{unknown:?}"
    );
}

/// A clean bundle: nothing to report.
#[test]
fn issue16_a_clean_bundle_has_no_findings() {
    let src = r#"default allow
schema {
  env: string
  replicas: int
}
policy Prod:
  "production is replicated"
  triggers when env == "prod"
  requires replicas >= 3
"#;
    assert_eq!(findings(src), []);
}

/// Issue #14: two addresses compared with each other and `segment` over a piece are not
/// encoded: the answer is unknown and names the construct, never a wrong conflict.
#[test]
fn issue14_ip_comparisons_and_pieces_of_pieces_give_unknown_not_wrong_answers() {
    for (cond, construct) in [
        ("src < dst", "ip addresses"),
        (
            "segment(segment(image, \"/\", -1), \":\", 1) == \"latest\"",
            "`segment`",
        ),
    ] {
        let src = format!(
            "default allow\nschema {{\n  src: ip\n  dst: ip\n  image: string\n  n: int\n}}\n\
             policy A:\n  \"a\"\n  triggers when {cond}\n  requires n > 0\n\
             policy B:\n  \"b\"\n  triggers when {cond}\n  requires n < 0\n"
        );
        let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
        let a = analyze(&program, &Options::default());
        assert!(
            !a.findings.iter().any(|f| f.kind == Kind::Conflict),
            "{cond}: {:?}",
            a.findings
        );
        let unknown: Vec<_> = a
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Unknown)
            .collect();
        assert!(!unknown.is_empty(), "{cond}: {:?}", a.findings);
        assert!(
            unknown
                .iter()
                .all(|f| f.note.as_deref().unwrap_or("").contains(construct)),
            "{cond}: {unknown:?}"
        );
    }
}
