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

/// The first diagnostic of a bundle whose schema declares every attribute the inputs use.
fn foreign(requires: &str) -> ipe_compile::Diagnostic {
    let src = format!(
        "schema {{\n  a: bool\n  b: bool\n  host: string\n  x: string\n  now: int\n  exp: int\n  port: int\n}}\npolicy P:\n  \"t\"\n  requires {requires}\n"
    );
    let (program, mut diags) = compile_sources(&[("p.ipe", src.as_str())]);
    assert!(program.is_none(), "{requires} compiled");
    diags.remove(0)
}

#[test]
fn issue11_what_the_language_does_not_have_gets_its_own_message() {
    // (input, message, help substring, underlined text)
    let cases = [
        (
            "a && b",
            "unknown operator `&&`",
            "`&&` is written `and`",
            "&&",
        ),
        (
            "a || b",
            "unknown operator `||`",
            "`||` is written `or`",
            "||",
        ),
        ("!a", "unknown operator `!`", "`!` is written `not`", "!"),
        (
            // `lower` and `len` are built-in (issue #14); `upper` is not.
            "upper(x) == \"A\"",
            "functions are not part of the language (yet)",
            "`upper` is read as an attribute path",
            "upper",
        ),
        (
            "host glob \"*.x\"",
            "unknown operator `glob`",
            "write a glob as `x like",
            "glob",
        ),
        (
            "cpu < quantity(\"2Gb\")",
            "`2Gb` is not a Kubernetes quantity",
            "a quantity is a number with an optional suffix",
            "\"2Gb\"",
        ),
        (
            "1 < port < 5",
            "comparisons do not chain",
            "write `1 < port and port < 5`",
            "<",
        ),
        (
            "x = \"a\"",
            "unknown operator `=`",
            "equality is written `==`",
            "=",
        ),
        (
            "x not in [\"a\"]",
            "`not in` is not an operator",
            "`not x in [...]`",
            "not",
        ),
    ];
    for (input, message, help, underlined) in cases {
        let d = foreign(input);
        assert_eq!(d.message(), message, "{input}");
        assert!(
            d.help().is_some_and(|h| h.contains(help)),
            "{input}: {:?}",
            d.help()
        );
        assert_eq!(d.underlined(), underlined, "{input}");
        assert_eq!(d.line_col().0, 12, "{input}");
    }
    // The chained comparison's help is built from the source, whatever the operands.
    let d = foreign("exp >= now <= port");
    assert_eq!(d.help(), Some("write `exp >= now and now <= port`"));
}

/// Issue #13 replaced issue 11's "a record field cannot be a list" error: a list inside a
/// record is a nested list now; its own `max` is checked and located like any list's.
#[test]
fn issue13_list_inside_a_record_is_a_nested_list() {
    let src = "schema {\n  items: list of item {\n    name: string\n    ports: list of int\n  }\n}\npolicy P: \"t\" requires items.count > 1\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert!(diags.is_empty(), "{diags:?}");
    let src = "schema {\n  items: list of item {\n    name: string\n    ports: list of int max 70000\n  }\n}\npolicy P: \"t\" requires items.count > 1\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert_eq!(
        diags[0].message(),
        "list `items[].ports` has `max 70000`, more than 65536"
    );
    assert_eq!(diags[0].underlined(), "ports");
    assert_eq!(diags[0].line_col(), (4, 5));
}

#[test]
fn issue11_unterminated_string_is_reported_at_its_opening_quote() {
    // Closed only by the next policy's opening quote.
    let src = "policy A: \"never closed\n  denies\npolicy B: \"x\" denies\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].message(), "unterminated string");
    assert_eq!(diags[0].underlined(), "\"");
    assert_eq!(diags[0].line_col(), (1, 11));
    assert!(diags[0].help().is_some_and(|h| h.contains("line 3")));
    // Never closed at all.
    let (_, diags) = compile_sources(&[("a.ipe", "policy A: \"x\" denies\npolicy B: \"open\n")]);
    assert_eq!(diags[0].message(), "unterminated string");
    assert_eq!(diags[0].line_col(), (2, 11));
    // A string that spans lines on purpose is still fine.
    let ok = "policy A: \"two\n  lines\" denies\n";
    assert!(ipe_compile::compile_str(&[("a.ipe", ok)]).is_ok());
}

#[test]
fn issue11_depth_limit_is_32_levels_at_the_boundary() {
    let nested = |n: usize| {
        format!(
            "schema {{\n  x: int\n}}\npolicy P: \"t\" requires {}x == 1{}\n",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    // 31 parentheses and the comparison: 32 levels.
    assert!(ipe_compile::compile_str(&[("a.ipe", nested(31).as_str())]).is_ok());
    let src = nested(32);
    let (program, diags) = compile_sources(&[("a.ipe", src.as_str())]);
    assert!(program.is_none());
    assert_eq!(
        diags[0].message(),
        "expression is nested more than 32 levels deep"
    );
    assert_eq!(diags[0].underlined(), "x == 1");
    // A bare bool path is not a level either.
    let bare = format!(
        "schema {{\n  b: bool\n}}\npolicy P: \"t\" requires {}b{}\n",
        "(".repeat(32),
        ")".repeat(32)
    );
    assert!(ipe_compile::compile_str(&[("a.ipe", bare.as_str())]).is_ok());
}

#[test]
fn issue11_schema_path_inside_a_scalar_is_a_conflict() {
    let src = "schema {\n  a: int\n  a.b: int\n}\npolicy P: \"t\" requires a == 1\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert_eq!(
        diags[0].message(),
        "attribute `a.b` is declared inside `a`, which is declared as int"
    );
    assert_eq!(diags[0].underlined(), "a.b");
    assert_eq!(diags[0].line_col(), (3, 3));
    assert!(diags[0].help().is_some_and(|h| h.contains("not both")));
    // The other order, across two schema blocks.
    let src = "schema {\n  a.b: int\n}\nschema {\n  a: list of string\n}\npolicy P: \"t\" requires a.b == 1\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert_eq!(
        diags[0].message(),
        "attribute `a` is declared as list, but `a.b` is declared inside it"
    );
    assert_eq!(diags[0].line_col(), (5, 3));
    // Inside the elements of a list of records.
    let src = "schema {\n  l: list of e {\n    who: string\n    who.role: string\n  }\n}\npolicy P: \"t\" requires l.count > 0\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert_eq!(
        diags[0].message(),
        "in the elements of `l`: attribute `who.role` is declared inside `who`, which is declared as string"
    );
    assert_eq!(diags[0].underlined(), "who.role");
}

#[test]
fn issue11_duplicate_metadata_key_is_an_error() {
    let src = "policy P: \"t\" denies\n  metadata\n    owner: \"a\"\n    owner: \"b\"\n";
    let (program, diags) = compile_sources(&[("a.ipe", src)]);
    assert!(program.is_none());
    assert_eq!(diags[0].message(), "metadata key `owner` is given twice");
    assert_eq!(diags[0].line_col(), (4, 5));
    assert_eq!(
        diags[0].help(),
        Some("it is first given on line 3; keep one of the two")
    );
}

#[test]
fn issue11_has_on_a_record_path_is_accepted_with_a_schema() {
    let with =
        "schema {\n  resource.owner.name: string\n}\npolicy P: \"t\" requires has resource.owner\n";
    let program = ipe_compile::compile_str(&[("a.ipe", with)]).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(program.slots[0].path, "resource.owner");
    // Still unknown when nothing is declared inside it.
    let d = first_error("policy P: \"x\" requires has resource.owner\n");
    assert_eq!(d.message(), "unknown attribute `resource.owner`");
}
