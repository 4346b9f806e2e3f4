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

/// Issue 13: a map of records is listed with its record's fields (it was shown as a map of its
/// first field's type), a map of scalars as before, and a nested list declared `= []` as the
/// list slot it is.
#[test]
fn issue13_inspect_shows_map_of_records_fields() {
    let src = r#"default allow
schema {
  services: map of max 4 { port: int, name: string, ["app/x"]: bool } = {}
  labels: map of string max 8
  containers: list of c max 2 { ports: list of p max 3 { hostPort: int } = [] } = []
}

policy Web:
  "web"
  triggers when any(k, v in services where v.port > 80 and v.name == "web" and v["app/x"])
    or "team" in labels
    or any(c in containers where c.ports.count > 1)
  denies
"#;
    let bytes = compile(src);
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let text = ipe_cli::inspect::inspect(&bytes, &bundle);
    assert!(
        text.contains(r#"services: map of { name: string, port: int, ["app/x"]: bool } (max 4)"#),
        "{text}"
    );
    assert!(text.contains("labels: map of string (max 8)"), "{text}");
    assert!(
        text.contains("containers[].ports: list of { hostPort: int } (max 3)"),
        "{text}"
    );
}

/// Issue #14: `ipe inspect` lists each `matches` regex with its DFA size, and the listings
/// show the pattern text of `like` (a constant) and `matches` (the regex operand).
#[test]
fn issue14_inspect_lists_pattern_texts() {
    let src = r#"schema {
  host: string
}

policy Bank:
  "bank"
  triggers when host matches "^[a-z]+\.bank$" and host like "*.b\*"
  denies
"#;
    let bytes = compile(src);
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let text = ipe_cli::inspect::inspect(&bytes, &bundle);
    let line = text
        .lines()
        .find(|l| l.contains(r#""^[a-z]+\\.bank$": DFA "#))
        .unwrap_or_else(|| panic!("no regex line in:\n{text}"));
    assert!(line.trim_start().starts_with("0 "), "{line}");
    assert!(text.contains("regexes (1)"), "{text}");
    assert!(
        text.contains(r#"str.match re 0 ("^[a-z]+\\.bank$")"#),
        "{text}"
    );
    assert!(text.contains(r#"const 0 ("*.b\*")"#), "{text}");
    // The regex is no symbol (its text is in the regex table only).
    assert!(text.contains("symbols (1)"), "{text}");
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

/// Issue #14 (session 8): the listing shows two addresses compared (`cmp.ip.*`, the field form
/// with the operator flipped for `slot op field`) and a piece of a piece (`seg`, its error
/// located at the slot: level 255).
#[test]
fn issue14_inspect_lists_ip_comparisons_and_pieces_of_pieces() {
    let src = r#"default allow
schema {
  dst: ip
  src: ip
  image: string
  peers: list of peer max 4 { addr: ip }
}

policy Below:
  "below"
  triggers when src < dst
  denies

policy Peer:
  "a peer above src"
  triggers when any(p in peers where src < p.addr)
  denies

policy Pairs:
  "two peers differ"
  triggers when any(p in peers where any(q in peers where p.addr != q.addr))
  denies

policy Tag:
  "latest"
  triggers when segment(segment(image, "/", -1), ":", 1) == "latest"
  denies
"#;
    let bytes = compile(src);
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let text = ipe_cli::inspect::inspect(&bytes, &bundle);
    for line in [
        "cmp.ip.slot.slot < slot 3 (src) slot 0 (dst)",
        "cmp.ip.field.slot > level 0 field 0 slot 3 (src)",
        "cmp.ip.field.field != level 0 field 0 level 1 field 0",
        "seg.slot slot 1 (image)",
        "seg const",
    ] {
        assert!(text.contains(line), "{line}:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains("seg const") && l.ends_with("level 255 field 1")),
        "{text}"
    );
}

/// Issue #14 (session 9): a list with ranges is one `in.range` over a merged table, listed
/// with its ranges; `lower(x) == lower(y)` is `str.fold`, `lower(x) matches` `str.match.fold`.
#[test]
fn issue14_inspect_lists_range_tables_and_folded_tests() {
    let src = r#"default allow
schema {
  port: int
  host: string
  want: string
}

policy Ports:
  "ports"
  triggers when port in [9000..9099, 22, 8050..8200, 23..25, 8000..8100]
  denies

policy Host:
  "host"
  triggers when lower(host) == lower(want) or lower(host) matches "^a+$"
  denies
"#;
    let bytes = compile(src);
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let text = ipe_cli::inspect::inspect(&bytes, &bundle);
    assert!(
        text.contains("in.range ranges 0 (22..25, 8000..8200, 9000..9099)"),
        "{text}"
    );
    assert!(text.contains("str.fold lower.eq"), "{text}");
    assert!(text.contains("str.match.fold re 0"), "{text}");
}
