//! Source text (issue #11, item 3): one definition of a line end, control characters rejected
//! with a located error, and CRLF sources meaning exactly what their LF twins mean.

use ipe_compile::{compile_sources, compile_str, hir};

/// A `# comment` ended by `line_end`, then a policy that denies everything, under `default
/// allow`: if the comment swallowed the policy, everything would be allowed.
fn swallowing(line_end: char) -> String {
    format!("default allow\n# a comment{line_end}policy Deny: \"deny\" denies\n")
}

#[test]
fn issue11_comment_ended_by_a_non_lf_line_end_is_a_located_error() {
    let cases = [
        ('\r', "control character U+000D is not allowed in source"),
        ('\u{2028}', "line separator U+2028 is not allowed in source"),
        (
            '\u{85}',
            "control character U+0085 is not allowed in source",
        ),
        ('\u{c}', "control character U+000C is not allowed in source"),
        ('\u{b}', "control character U+000B is not allowed in source"),
    ];
    for (c, message) in cases {
        let src = swallowing(c);
        let (program, diags) = compile_sources(&[("a.ipe", src.as_str())]);
        assert!(program.is_none(), "{c:?} compiled");
        assert_eq!(diags.len(), 1, "{c:?}: {diags:?}");
        let d = &diags[0];
        assert_eq!(d.message(), message);
        assert_eq!(d.underlined(), c.to_string());
        assert_eq!(d.line_col(), (2, 12), "{c:?}");
        assert!(d.help().is_some_and(|h| h.contains("LF")), "{c:?}");
    }
}

#[test]
fn issue11_lone_cr_help_asks_for_lf_or_crlf_and_counts_occurrences() {
    let src = "default allow\r# c\rpolicy P: \"x\" denies\r";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line_col(), (1, 14));
    let help = diags[0].help().unwrap_or("");
    assert!(help.contains("followed by a line feed"), "{help}");
    assert!(help.contains("3 times"), "{help}");
    // The quoted line shows the carriage returns as visible symbols, not as line breaks.
    let rendered = diags[0].render();
    assert!(rendered.contains("default allow\u{240d}# c"), "{rendered}");
}

#[test]
fn issue11_other_control_characters_are_located_errors() {
    let src = "policy P: \"x\u{1b}[31m\" denies\n";
    let (_, diags) = compile_sources(&[("a.ipe", src)]);
    assert_eq!(
        diags[0].message(),
        "control character U+001B is not allowed in source"
    );
    assert_eq!(diags[0].line_col(), (1, 13));
    // Tab is the one control character allowed besides line ends.
    assert!(compile_str(&[("a.ipe", "policy\tP:\t\"x\"\tdenies\n")]).is_ok());
}

/// The program with every source position cleared (CRLF moves byte offsets, nothing else).
fn without_spans(mut p: hir::Program) -> hir::Program {
    for policy in &mut p.policies {
        policy.span = hir::Span::default();
    }
    p
}

const MULTI_LINE: &str = "schema {\n  env: string\n}\n\n# a comment\npolicy P:\n  \"first line\n   second line\"\n  triggers when env == \"a\n  b\"\n  requires env != \"x\" and\n    env != \"y\"\n    with reason \"two\n  lines\"\n  metadata\n    note: \"a\n  b\"\n";

#[test]
fn issue11_crlf_file_compiles_to_the_same_program_as_lf() {
    let lf = compile_str(&[("a.ipe", MULTI_LINE)]).unwrap_or_else(|d| panic!("{d}"));
    let crlf_src = MULTI_LINE.replace('\n', "\r\n");
    let crlf = compile_str(&[("a.ipe", crlf_src.as_str())]).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(without_spans(crlf.clone()), without_spans(lf.clone()));
    let bytes = |p: &hir::Program| {
        ipe_compile::lower::lower(&without_spans(p.clone()))
            .map(|c| c.bytes)
            .unwrap_or_default()
    };
    assert!(!bytes(&lf).is_empty());
    assert_eq!(bytes(&crlf), bytes(&lf));
}

#[test]
fn issue11_multi_line_string_reads_crlf_as_lf() {
    let crlf_src = MULTI_LINE.replace('\n', "\r\n");
    let p = compile_str(&[("a.ipe", crlf_src.as_str())]).unwrap_or_else(|d| panic!("{d}"));
    let policy = &p.policies[0];
    assert_eq!(policy.intent, "first line second line");
    match &policy.body {
        hir::Body::Requires { reason, .. } => assert_eq!(reason.as_deref(), Some("two\n  lines")),
        hir::Body::Denies { .. } => panic!("expected requires"),
    }
    assert_eq!(
        policy.metadata,
        [("note".to_owned(), hir::Literal::Str("a\n  b".into()))]
    );
}

#[test]
fn issue11_crlf_diagnostic_has_the_same_position_and_line() {
    let lf = "policy P:\n  \"x\"\n  requires a &&\n b\n";
    let crlf = lf.replace('\n', "\r\n");
    for src in [lf.to_owned(), crlf] {
        let (_, diags) = compile_sources(&[("a.ipe", src.as_str())]);
        assert_eq!(diags[0].line_col(), (3, 14));
        let rendered = diags[0].render();
        assert!(rendered.contains("3 |   requires a &&\n"), "{rendered:?}");
    }
}
