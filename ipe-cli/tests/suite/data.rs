//! Issue #13: `--data` on `ipe check`, `ipe compile` and `ipe eval`, with the corpus's own data
//! files (`tests/corpus/data/`).

use std::process::{Command, Output};

fn ipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ipe runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SRC: &str = "tests/corpus/data/hierarchy_data.ipe";
const DATA: &str = "tests/corpus/data/hierarchy_data.data.json";

#[test]
fn issue13_check_needs_the_data_file_and_accepts_it() {
    let without = ipe(&["check", SRC]);
    assert_eq!(without.status.code(), Some(1));
    assert!(
        text(&without.stderr).contains("unknown constant `folders`"),
        "{}",
        text(&without.stderr)
    );
    let with = ipe(&["check", SRC, "--data", DATA]);
    assert!(with.status.success(), "{}", text(&with.stderr));
}

#[test]
fn issue13_eval_and_compile_with_data_decide_alike() {
    let dir = std::env::temp_dir().join(format!("ipe-cli-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("requests.jsonl");
    std::fs::write(
        &input,
        "{\"resource\":\"q1.xlsx\"}\n{\"resource\":\"secret.txt\"}\n",
    )
    .unwrap();
    let input = input.to_str().unwrap();
    let from_sources = ipe(&["eval", SRC, "--data", DATA, "--input", input]);
    assert!(
        from_sources.status.success(),
        "{}",
        text(&from_sources.stderr)
    );
    let lines: Vec<String> = text(&from_sources.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("{\"decision\":\"allow\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("{\"decision\":\"deny\""),
        "{}",
        lines[1]
    );

    let bundle = dir.join("shared.ipeb");
    let bundle = bundle.to_str().unwrap();
    let c = ipe(&["compile", SRC, "--data", DATA, "-o", bundle]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    let from_bundle = ipe(&["eval", bundle, "--input", input]);
    assert_eq!(text(&from_bundle.stdout), text(&from_sources.stdout));

    // A compiled bundle already holds its constants.
    let both = ipe(&["eval", bundle, "--data", DATA, "--input", input]);
    assert_eq!(both.status.code(), Some(1));
    assert!(
        text(&both.stderr).contains("`--data` applies to sources"),
        "{}",
        text(&both.stderr)
    );
}

#[test]
fn issue13_a_missing_data_file_is_an_error_naming_it() {
    let o = ipe(&["check", SRC, "--data", "tests/corpus/data/no_such.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no_such.json"),
        "{}",
        text(&o.stderr)
    );
}
