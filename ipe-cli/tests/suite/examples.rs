//! Issue #13: every bundle under `examples/` through `ipe eval`, as `examples/README.md` says to
//! run it: the directory, `--data` for each `*.data.json` and `--instances` for each
//! `*.instances.json` in it (file-name order), and `--input requests.jsonl`.

use std::path::Path;
use std::process::Command;

/// `ipe eval examples/<name> [--data F].. [--instances F].. --input examples/<name>/requests.jsonl`,
/// run from the repository root: its standard output.
fn eval_example(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = format!("examples/{name}");
    let mut files: Vec<String> = std::fs::read_dir(root.join(&dir))
        .expect("example directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut args = vec!["eval".to_owned(), dir.clone()];
    for (suffix, flag) in [(".data.json", "--data"), (".instances.json", "--instances")] {
        for f in files.iter().filter(|f| f.ends_with(suffix)) {
            args.push(flag.to_owned());
            args.push(format!("{dir}/{f}"));
        }
    }
    args.push("--input".to_owned());
    args.push(format!("{dir}/requests.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(&args)
        .current_dir(&root)
        .output()
        .expect("ipe runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: {stderr}");
    assert!(stderr.is_empty(), "{name}: no warning expected: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn expected(name: &str) -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{name}/expected.jsonl"));
    std::fs::read_to_string(path).expect("expected.jsonl")
}

/// The three v2 bundles print exactly their `expected.jsonl`, byte for byte.
#[test]
fn issue13_cli_prints_the_v2_examples_expected_lines() {
    for name in ["k8s-admission", "api-gateway", "firewall"] {
        let got = eval_example(name);
        let want = expected(name);
        for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "{name} request {}", i + 1);
        }
        assert_eq!(got.lines().count(), want.lines().count(), "{name}");
    }
}

/// The v1 bundles decide as their `expected.jsonl` says (written with spaces: compared as JSON).
#[test]
fn issue13_cli_decides_the_v1_examples_as_expected() {
    for name in ["seed", "policies"] {
        let got: Vec<serde_json::Value> = eval_example(name)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a decision"))
            .collect();
        let want: Vec<serde_json::Value> = expected(name)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("expected is JSON"))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}
