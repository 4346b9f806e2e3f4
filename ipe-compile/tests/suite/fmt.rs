//! `ipe fmt` (issue #16): the formatter keeps the meaning (the same syntax tree and, where the
//! source compiles, the same HIR, spans aside), every comment, and is idempotent, on every
//! corpus and example source that parses, on random bundles and on random re-spacings of them.

use ipe_compile::fmt::format_source;
use ipe_compile::parser::{comments, parse_file};
use ipe_testgen::{bundle, SCHEMA};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// A Debug dump (or diagnostics) with every byte range (`12..34`, `start: 12, end: 34`) and
/// line number (`line 8`) blanked: positions move, nothing else may.
fn span_free(dump: String) -> String {
    let re = regex::Regex::new(r"\d+\.\.\d+|start: \d+, end: \d+|line \d+").unwrap();
    re.replace_all(&dump, "_").into_owned()
}

fn ast(src: &str) -> String {
    let (file, errors) = parse_file(src);
    assert!(errors.is_empty(), "{errors:?}");
    span_free(format!("{file:?}"))
}

fn comment_texts(src: &str) -> Vec<String> {
    comments(src).into_iter().map(|c| c.text).collect()
}

/// The HIR of a source that compiles on its own, spans blanked; otherwise its diagnostics'
/// messages.
fn meaning(src: &str) -> String {
    match ipe_compile::compile_str(&[("x.ipe", src)]) {
        Ok(p) => span_free(format!("{p:?}")),
        Err(d) => span_free(
            d.0.iter()
                .map(|d| format!("{} / {:?} / {}\n", d.message(), d.help(), d.underlined()))
                .collect(),
        ),
    }
}

/// Checks every property for one source that parses; `Err` says which failed.
fn check(name: &str, src: &str) -> Result<String, String> {
    let once = format_source(src).map_err(|e| format!("{name}: does not format: {e:?}"))?;
    let twice = format_source(&once)
        .map_err(|e| format!("{name}: output does not parse: {e:?}\n{once}"))?;
    if twice != once {
        return Err(format!(
            "{name}: not idempotent:\n--- once\n{once}\n--- twice\n{twice}"
        ));
    }
    if ast(src) != ast(&once) {
        return Err(format!("{name}: the syntax tree changed:\n{once}"));
    }
    if comment_texts(src) != comment_texts(&once) {
        return Err(format!("{name}: comments changed:\n{once}"));
    }
    let (before, after) = (meaning(src), meaning(&once));
    if before != after {
        let at = before
            .bytes()
            .zip(after.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let near = |s: &str| {
            s.get(at.saturating_sub(80)..(at + 80).min(s.len()))
                .unwrap_or("")
                .to_owned()
        };
        return Err(format!(
            "{name}: the HIR (or the diagnostics) changed: `{}` became `{}`:\n{once}",
            near(&before),
            near(&after)
        ));
    }
    if let Some(l) = once.lines().find(|l| l.ends_with(' ') || l.contains('\t')) {
        return Err(format!("{name}: trailing whitespace or a tab in `{l}`"));
    }
    Ok(once)
}

fn sources(dir: &Path) -> Vec<PathBuf> {
    ipe_compile::compile::bundle_files(&[dir.to_owned()]).unwrap()
}

/// Issue #16: every corpus and example source that parses (the compile-fail sources
/// included: most of them parse and fail in the checker, and their diagnostics must not
/// change, spans aside).
#[test]
fn issue16_fmt_keeps_meaning_and_comments_of_every_corpus_and_example_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = sources(&root.join("tests/corpus"));
    files.extend(sources(&root.join("examples")));
    let (mut parsed, mut failures) = (0, Vec::new());
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        if !parse_file(&src).1.is_empty() {
            assert!(format_source(&src).is_err(), "{}", f.display());
            continue;
        }
        parsed += 1;
        if let Err(e) = check(&f.display().to_string(), &src) {
            failures.push(e);
        }
    }
    assert!(parsed > 300, "only {parsed} sources parse");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `src` with the whitespace between tokens (outside strings and comments) replaced by
/// `choices` (spaces, several spaces, line ends, indentation, or nothing between two
/// symbols such as `>=` and `"x"` or `)` and `and`... only where both sides are symbols).
fn respace(src: &str, choices: &[u8]) -> String {
    let mut out = String::new();
    let (mut in_str, mut in_comment, mut esc) = (false, false, false);
    let mut k = 0;
    let chars: Vec<char> = src.chars().collect();
    let symbol = |c: Option<&char>| {
        c.is_some_and(|c| !c.is_alphanumeric() && !matches!(c, '_' | '-' | ' ' | '\n' | '#'))
    };
    for (at, &c) in chars.iter().enumerate() {
        if in_comment {
            in_comment = c != '\n';
        } else if in_str {
            in_str = esc || c != '"';
            esc = !esc && c == '\\';
        } else if c == '"' {
            in_str = true;
        } else if c == '#' {
            in_comment = true;
        } else if c == ' ' {
            let pick = choices.get(k % choices.len().max(1)).copied().unwrap_or(0);
            k += 1;
            let squeeze = symbol(out.chars().last().as_ref())
                && symbol(chars.get(at + 1))
                && !(out.ends_with('"') && chars.get(at + 1) == Some(&'"'));
            let gap = match pick % 7 {
                6 if squeeze => "",
                p => ["   ", "\n", "\n      ", " ", "\n\n\n  ", " ", " "][usize::from(p)],
            };
            out.push_str(gap);
            continue;
        }
        out.push(c);
    }
    out
}

/// Issue #16: random well-typed bundles (ipe-testgen's generator, with the shared schema),
/// as generated and re-spaced at random, keep their syntax tree, HIR and comments, and
/// format idempotently; a re-spaced bundle has the same HIR as the original (clause texts
/// included: they are canonically spaced), and formats to the same text as the original's
/// formatting when only spaces were added or removed (no line ends).
#[test]
fn issue16_fmt_random_bundles() {
    let mut runner = ipe_testgen::runner("IPE_PROP_CASES", 300);
    runner
        .run(
            &(bundle(1..5), proptest::collection::vec(0u8..7, 1..40)),
            |(src, choices)| {
                let src = format!("# generated\n{SCHEMA}\n{src}  # the end\n");
                check("generated", &src).map_err(TestCaseError::fail)?;
                let messy = respace(&src, &choices);
                check("respaced", &messy).map_err(TestCaseError::fail)?;
                prop_assert_eq!(meaning(&messy), meaning(&src));
                let spaces: Vec<u8> = choices
                    .iter()
                    .map(|c| [0, 3, 6][usize::from(c % 3)])
                    .collect();
                let wide = respace(&src, &spaces);
                prop_assert_eq!(format_source(&wide).unwrap(), format_source(&src).unwrap());
                Ok(())
            },
        )
        .unwrap();
}

/// The layout of the constructs of the language, by example.
#[test]
fn issue16_fmt_layout() {
    let src = "  # header\ndefault   allow\nschema {\n    a: int   # x\n  bb: list of e max 2 {\n n: string  # the name\n  }\n}\nconst  ks = [\"a\",\n\"b\"]\ndef big(x) = x > 3\npolicy P:\n\"intent\"\n      triggers when a > 1 and has bb\n        requires a < 9\n   with reason \"r {a}\"\n";
    let want = "# header\ndefault allow\n\nschema {\n  a:  int  # x\n  bb: list of e max 2 {\n    n: string  # the name\n  }\n}\n\nconst ks = [\"a\",\n  \"b\"]\n\ndef big(x) = x > 3\n\npolicy P:\n  \"intent\"\n  triggers when a > 1 and has bb\n  requires a < 9\n  with reason \"r {a}\"\n";
    assert_eq!(format_source(src).unwrap(), want);
    assert_eq!(format_source(want).unwrap(), want);
}

/// Issue #16: a chain wider than 100 columns breaks before its top-level `or` (else `and`)
/// operators, the first operand of a trigger on its own line; a narrower one stays as written.
#[test]
fn issue16_fmt_breaks_wide_chains() {
    let long = "policy P:\n  \"p\"\n  triggers when aaaaaaaaaaaaaaaaaaaaaa == 1 and bbbbbbbbbbbbbbbbbbbbbbbbbbb == 2 or ccccccccccccccccccccccccccc == 3 and d\n  requires eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee > 1 and ffffffffffffffffffffffffffffffffffffffffff > 2 and g with reason \"x\"\n  metadata\n    owner: \"me\"\n";
    let want = "policy P:\n  \"p\"\n  triggers when\n    aaaaaaaaaaaaaaaaaaaaaa == 1 and bbbbbbbbbbbbbbbbbbbbbbbbbbb == 2\n    or ccccccccccccccccccccccccccc == 3 and d\n  requires eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee > 1\n    and ffffffffffffffffffffffffffffffffffffffffff > 2\n    and g\n  with reason \"x\"\n  metadata\n    owner: \"me\"\n";
    assert_eq!(format_source(long).unwrap(), want);
    let short = "policy P:\n  \"p\"\n  triggers when a == 1 and b == 2\n  requires c > 1\n    and d\n  denies\n";
    assert!(format_source(short).is_err());
    let short =
        "policy P:\n  \"p\"\n  triggers when a == 1 and b == 2\n  requires c > 1\n    and d\n";
    assert_eq!(format_source(short).unwrap(), short);
}

/// A source that does not parse is not formatted: the parser's errors come back.
#[test]
fn issue16_fmt_refuses_a_source_that_does_not_parse() {
    let errors = format_source("policy P:\n  \"p\"\n  requires a ==\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].message(), "expected an expression");
}

/// Issue #16: spacing inside a line is canonical: one space around binary operators and
/// between words, none inside brackets, around `.` and `..`, before `,` and `:`, after a sign
/// or before a call's `(`; a record type's braces spaced, a value's not; strings and numbers
/// as written; an index's `[` keeps its place (a space there would make it another
/// expression); schema field types aligned per block.
#[test]
fn issue16_fmt_canonical_spacing() {
    let src = "schema {\n  n:int\n  long.name  :   string\n  xs : list of string\n  rs: list of r max 2 {k: int,v:string}\n\n  after_blank: int\n}\nconst  m={ \"a\" :1 ,\"b\":[ 1,2 ] }\npolicy P:\n  \"p\"\n  triggers when n>=0x1F and(n<-3 or n==-  x or n>- 4)and n in[1 .. 5]\n  requires len( long.name )>2*n+1 and any(x in xs where x==\"a\")and xs[0]!=\"b\"and(n??1)%2==0\n";
    let want = "schema {\n  n:         int\n  long.name: string\n  xs:        list of string\n  rs:        list of r max 2 { k: int, v: string }\n\n  after_blank: int\n}\n\nconst m = {\"a\": 1, \"b\": [1, 2]}\n\npolicy P:\n  \"p\"\n  triggers when n >= 0x1F and (n < -3 or n == -x or n > - 4) and n in [1..5]\n  requires len(long.name) > 2 * n + 1\n    and any(x in xs where x == \"a\")\n    and xs[0] != \"b\"\n    and (n ?? 1) % 2 == 0\n";
    let got = format_source(src).unwrap();
    assert_eq!(got, want);
    assert_eq!(format_source(&got).unwrap(), got);
    assert_eq!(ast(src), ast(&got));
}

/// Issue #16: the text of a requirement clause in a decision is canonically spaced, so two
/// sources that differ only in spacing give the same reasons (and the same HIR); a comment
/// inside a clause is not part of its text.
#[test]
fn issue16_clause_text_is_canonical() {
    let schema = "schema {\n  a: int\n  s: string\n}\n";
    let text = |body: &str| {
        let src = format!("{schema}policy P:\n  \"p\"\n  requires {body}\n");
        let p = ipe_compile::compile_str(&[("x.ipe", &src)]).unwrap();
        let req = serde_json::json!({"a": 1, "s": "y"});
        let d = ipe_compile::eval::evaluate(&p, &req);
        (span_free(format!("{p:?}")), format!("{d:?}"))
    };
    let canonical = text("a >= 2 and s in [\"x\", \"z\"]");
    assert!(canonical.1.contains("a >= 2"), "{}", canonical.1);
    assert_eq!(text("a>=2 and s in[ \"x\" ,\"z\" ]"), canonical);
    assert_eq!(text("a  >=\n    2 and s   in [\"x\",\n  \"z\"]"), canonical);
    assert_eq!(text("a >= # two\n    2 and s in [\"x\", \"z\"]"), canonical);
    assert_eq!(
        ipe_compile::fmt::canonical_text("count( x in xs where x.n>-1 )>=2"),
        "count(x in xs where x.n > -1) >= 2"
    );
}
