use ipe_compile::compile_sources;

const SCHEMA: &str = r#"schema {
  resource.type: string
  resource.risk_level: enum ["low", "medium", "high", "critical"]
}
"#;

fn first_error(policy: &str) -> ipe_compile::Diagnostic {
    let (program, mut diags) = compile_sources(&[("schema.ipe", SCHEMA), ("p.ipe", policy)]);
    assert!(program.is_none());
    assert!(!diags.is_empty());
    diags.remove(0)
}

#[test]
fn typo_suggests_the_declared_attribute() {
    let d = first_error("policy P:\n  \"x\"\n  requires\n    resource.rsk_level >= \"medium\"\n");
    assert_eq!(d.message(), "unknown attribute `resource.rsk_level`");
    assert_eq!(d.underlined(), "resource.rsk_level");
    assert_eq!(d.line_col(), (4, 5));
    assert_eq!(d.help(), Some("did you mean `resource.risk_level`?"));
    let rendered = d.render();
    assert!(rendered.contains("p.ipe:4:5"), "{rendered}");
    assert!(rendered.contains("    ^^^^^^^^^^^^^^^^^^"), "{rendered}");
}

#[test]
fn enum_literal_must_be_a_member() {
    let d = first_error("policy P: \"x\" requires resource.risk_level >= \"severe\"");
    assert_eq!(
        d.message(),
        "\"severe\" is not a value of enum `resource.risk_level`"
    );
    assert_eq!(d.underlined(), "\"severe\"");
    assert!(d.help().unwrap().contains("\"low\", \"medium\""));
}

#[test]
fn ordered_string_comparison_suggests_an_enum() {
    let d = first_error("policy P: \"x\" requires resource.type < \"b\"");
    assert_eq!(d.message(), "comparison `<` is not defined for string");
    assert_eq!(d.underlined(), "resource.type < \"b\"");
    assert!(d.help().unwrap().contains("enum"));
}

#[test]
fn mismatched_types_underline_the_right_operand() {
    let d = first_error("policy P: \"x\" requires resource.type == 3");
    assert_eq!(d.message(), "mismatched types: expected string, found int");
    assert_eq!(d.underlined(), "3");
}

#[test]
fn several_errors_in_one_run() {
    let src = "policy A: \"x\" requires (\npolicy B: \"y\" requires resource.type ==\npolicy C: \"z\" denies\n";
    let (program, diags) = compile_sources(&[("a.ipe", src)]);
    assert!(program.is_none());
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert!(diags.iter().all(|d| d.message().starts_with("expected ")));
}

#[test]
fn unterminated_string() {
    let (_, diags) = compile_sources(&[("a.ipe", "policy A: \"never closed\n denies")]);
    assert_eq!(diags[0].message(), "unterminated string");
}

#[test]
fn duplicate_policy_and_default() {
    let src = "default allow\ndefault deny\npolicy A: \"x\" denies\npolicy A: \"y\" denies\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    let msgs: Vec<&str> = diags.iter().map(|d| d.message()).collect();
    assert_eq!(
        msgs,
        ["default is declared more than once", "duplicate policy `A`"]
    );
    assert_eq!(diags[1].underlined(), "A");
    assert_eq!(diags[1].line_col(), (4, 8));
}
