//! `ipe fmt` end to end (issue #16): standard input to standard output, `--check` with its
//! unified diff and exit status, rewriting in place, `--exclude`, and a source that does not
//! parse (its diagnostic, exit status 1, the file left unchanged). Expected outputs are the
//! golden files in `tests/golden/fmt/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/fmt")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ipe_in(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipe runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipe-fmt-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn issue16_fmt_stdin_to_stdout() {
    let out = ipe_in(&scratch("stdin"), &["fmt", "-"], &golden("messy.input"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), golden("messy.formatted"));
    // The canonical layout is a fixed point.
    let again = ipe_in(
        &scratch("stdin2"),
        &["fmt", "--check", "-"],
        &golden("messy.formatted"),
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again.stdout), "");
}

#[test]
fn issue16_fmt_check_prints_a_unified_diff_and_exits_1() {
    let dir = scratch("check");
    std::fs::write(dir.join("messy.ipe"), golden("messy.input")).unwrap();
    let out = ipe_in(&dir, &["fmt", "--check", "messy.ipe"], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), golden("messy.check.diff"));
    assert_eq!(text(&out.stderr), "");
    // `--check` changes nothing.
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.ipe")).unwrap(),
        golden("messy.input")
    );
}

#[test]
fn issue16_fmt_rewrites_files_in_place() {
    let dir = scratch("in-place");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/messy.ipe"), golden("messy.input")).unwrap();
    std::fs::write(dir.join("done.ipe"), golden("messy.formatted")).unwrap();
    let out = ipe_in(&dir, &["fmt"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "formatted ./sub/messy.ipe\n");
    for f in ["sub/messy.ipe", "done.ipe"] {
        assert_eq!(
            std::fs::read_to_string(dir.join(f)).unwrap(),
            golden("messy.formatted")
        );
    }
    let again = ipe_in(&dir, &["fmt", "--check", "."], "");
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again.stdout), "");
}

#[test]
fn issue16_fmt_reports_a_source_that_does_not_parse_and_leaves_it() {
    let dir = scratch("bad");
    std::fs::write(dir.join("bad.ipe"), golden("bad.input")).unwrap();
    std::fs::write(dir.join("good.ipe"), golden("messy.input")).unwrap();
    let out = ipe_in(&dir, &["fmt", "bad.ipe", "good.ipe"], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), golden("bad.stderr"));
    assert_eq!(
        std::fs::read_to_string(dir.join("bad.ipe")).unwrap(),
        golden("bad.input")
    );
    // The other file is still formatted.
    assert_eq!(
        std::fs::read_to_string(dir.join("good.ipe")).unwrap(),
        golden("messy.formatted")
    );
    let stdin = ipe_in(&dir, &["fmt", "-"], &golden("bad.input"));
    assert_eq!(stdin.status.code(), Some(1));
    assert_eq!(text(&stdin.stdout), "");
    assert!(
        text(&stdin.stderr).contains("--> <stdin>:3:"),
        "{}",
        text(&stdin.stderr)
    );
}

#[test]
fn issue16_fmt_exclude_skips_a_directory() {
    let dir = scratch("exclude");
    std::fs::create_dir_all(dir.join("fail")).unwrap();
    std::fs::write(dir.join("fail/bad.ipe"), golden("bad.input")).unwrap();
    std::fs::write(dir.join("ok.ipe"), golden("messy.formatted")).unwrap();
    let out = ipe_in(&dir, &["fmt", "--check", ".", "--exclude", "./fail"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let without = ipe_in(&dir, &["fmt", "--check", "."], "");
    assert_eq!(without.status.code(), Some(1));
    assert!(text(&without.stderr).contains("does not parse"));
}

#[test]
fn issue16_fmt_stdin_cannot_mix_with_paths() {
    let out = ipe_in(&scratch("mix"), &["fmt", "-", "x.ipe"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot be mixed"),
        "{}",
        text(&out.stderr)
    );
}

/// Issue #16: the examples and the corpus (but its compile-fail sources) are formatted, as CI
/// checks with the same command.
#[test]
fn issue16_examples_and_corpus_are_formatted() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let out = ipe_in(
        root,
        &[
            "fmt",
            "--check",
            "examples",
            "tests/corpus",
            "--exclude",
            "tests/corpus/fail",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
