//! Golden output files (`ipe-cli/tests/golden/`) of `ipe test` and `ipe explain`: the output
//! must equal the file byte for byte; `IPE_BLESS=1 cargo test -p ipe-cli` rewrites them (review
//! the diff before committing).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `ipe` from the repository root.
pub fn ipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ipe runs")
}

/// The golden file `name`.
pub fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Asserts that `got` equals the golden file `name` (or rewrites it under `IPE_BLESS`).
pub fn check(name: &str, got: &str) {
    let p = path(name);
    if std::env::var_os("IPE_BLESS").is_some() {
        std::fs::write(&p, got).expect("write golden file");
        return;
    }
    let want = std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("golden file {}: {e} (IPE_BLESS=1 writes it)", p.display()));
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .take(5)
            .map(|(i, (w, g))| format!("line {}:\n  - {w}\n  + {g}", i + 1))
            .collect();
        panic!(
            "{name} differs from its golden file ({} vs {} lines):\n{}\n--- got ---\n{got}",
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
