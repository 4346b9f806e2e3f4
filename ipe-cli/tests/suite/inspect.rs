//! `ipe inspect`'s listing, read in-process.

use ipe_nostd::Bundle;

fn compile(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("tiny.ipe", src)]).unwrap();
    ipe_compile::lower::lower(&program).unwrap().bytes
}

/// Issue 11: `ipe inspect` shows what the index says (slot, each key as text, the policies in
/// each bucket), so an index that contradicts a trigger is visible.
#[test]
fn issue11_inspect_prints_index_keys() {
    let src = r#"default allow
schema {
  env: string
  port: int
  risk: enum ["low", "medium", "high"]
}

policy Prod:
  "prod"
  triggers when env == "prod"
  denies

policy Ports:
  "ports"
  triggers when port in [22, -1] and env != "dev"
  denies

policy Risky:
  "risky"
  triggers when risk in ["medium", "high"]
  denies

policy Always:
  "always"
  triggers when port > 3
  denies
"#;
    let bytes = compile(src);
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let text = ipe_cli::inspect::inspect(&bytes, &bundle);
    let index: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "index")
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        index,
        [
            "index",
            "  on env: 1 keys, 1 policies",
            "    \"prod\" => 0 Prod",
            "  on port: 2 keys, 1 policies",
            "    -1 => 1 Ports",
            "    22 => 1 Ports",
            "  on risk: 2 keys, 1 policies",
            "    \"medium\" => 2 Risky",
            "    \"high\" => 2 Risky",
            "  unindexed: 3 Always",
        ]
    );
}

/// Issue 13: `ipe inspect` shows the format version and each first-match rule's place.
#[test]
fn issue13_inspect_shows_first_match_rules() {
    let src = r#"schema {
  port: int
}

policy Plain:
  "plain"
  triggers when port == 1
  denies

group Acl first-match {
  policy A:
    "a"
    triggers when port == 22
    permits
  policy B:
    "b"
    denies
}
"#;
    let bytes = compile(src);
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let text = ipe_cli::inspect::inspect(&bytes, &bundle);
    assert!(text.contains("format version 2"), "{text}");
    let places: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("policy ") || l.contains("rule of"))
        .collect();
    assert_eq!(
        places,
        [
            "policy 0 Plain",
            "policy 1 A",
            "  first rule of a first-match group",
            "policy 2 B",
            "  later rule of the first-match group above",
        ]
    );
    assert!(text.contains("  unindexed: 1 A, 2 B"), "{text}");
}

/// Issue 14: `ipe inspect` shows an `ip` slot's type, each IP range table in canonical text
/// (merged: the overlapping and adjacent networks are one range) and the `in.ip.*` code.
#[test]
fn issue14_inspect_prints_ip_slots_and_range_tables() {
    let src = r#"default allow
schema {
  src: ip
}

policy Private:
  "private"
  triggers when src in ["10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "fe80::/10", "::1"]
  denies
"#;
    let bytes = compile(src);
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let text = ipe_cli::inspect::inspect(&bytes, &bundle);
    assert!(text.contains("     0  src: ip\n"), "{text}");
    assert!(
        text.contains(
            "  set 0: ip ranges ::1, 10.0.0.0-10.255.255.255, fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
        ),
        "{text}"
    );
    assert!(text.contains("in.ip.slot slot 0 (src) set 0"), "{text}");
}
