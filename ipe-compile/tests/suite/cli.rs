//! The `ipe` binary end to end: compile, eval on sources and on a bundle, inspect, check, and
//! clear failures (exit code 1, never a panic) for bad sources and corrupted bundles.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ipe runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipe-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_compiled_bundle_decides_like_its_sources() {
    let out = tmp("seed.ipeb");
    let c = ipe(&["compile", "examples/seed", "-o", out.to_str().unwrap()]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(
        text(&c.stderr).contains("RequireApproval"),
        "per-policy report"
    );
    assert!(text(&c.stderr).contains("cost bound"));
    let input = "examples/seed/requests.jsonl";
    let from_bundle = ipe(&["eval", out.to_str().unwrap(), "--input", input]);
    let from_sources = ipe(&[
        "eval",
        "examples/seed",
        "--engine",
        "reference",
        "--input",
        input,
    ]);
    assert!(from_bundle.status.success() && from_sources.status.success());
    assert_eq!(text(&from_bundle.stdout), text(&from_sources.stdout));
    assert_eq!(
        text(&from_bundle.stdout).lines().count(),
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/seed/requests.jsonl"
        ))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
    );
    let listing = ipe(&["inspect", out.to_str().unwrap()]);
    assert!(listing.status.success());
    let listing = text(&listing.stdout);
    assert!(listing.contains("cmp.slot.const == slot"), "{listing}");
    assert!(listing.contains("policy 0 RequireApproval"));
}

#[test]
fn corrupted_and_truncated_bundles_fail_with_exit_code_1() {
    let good = tmp("good.ipeb");
    assert!(
        ipe(&["compile", "examples/seed", "-o", good.to_str().unwrap()])
            .status
            .success()
    );
    let bytes = std::fs::read(&good).unwrap();
    let truncated = tmp("truncated.ipeb");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped = bytes.clone();
    flipped[40] ^= 0xff;
    let corrupted = tmp("corrupted.ipeb");
    std::fs::write(&corrupted, &flipped).unwrap();
    for (path, needle) in [(&truncated, "truncated"), (&corrupted, "checksum")] {
        for cmd in [
            vec![
                "eval",
                path.to_str().unwrap(),
                "--input",
                "examples/seed/requests.jsonl",
            ],
            vec!["inspect", path.to_str().unwrap()],
        ] {
            let o = ipe(&cmd);
            assert_eq!(o.status.code(), Some(1), "{cmd:?}: {}", text(&o.stderr));
            assert!(
                text(&o.stderr).contains(needle),
                "{cmd:?}: {}",
                text(&o.stderr)
            );
            assert!(o.stdout.is_empty());
        }
    }
}

#[test]
fn check_reports_a_typo_with_position_underline_and_suggestion() {
    let dir = tmp("typo");
    std::fs::create_dir_all(&dir).unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seed");
    std::fs::copy(format!("{root}/schema.ipe"), dir.join("schema.ipe")).unwrap();
    let policy = std::fs::read_to_string(format!("{root}/policy.ipe"))
        .unwrap()
        .replace("resource.risk_level >=", "resource.rsk_level >=");
    std::fs::write(dir.join("policy.ipe"), policy).unwrap();
    let o = ipe(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("unknown attribute `resource.rsk_level`"),
        "{err}"
    );
    assert!(err.contains("policy.ipe:10:9"), "{err}");
    assert!(err.contains("^^^^^^^^^^^^^^^^^^"), "{err}");
    assert!(err.contains("did you mean `resource.risk_level`?"), "{err}");
    assert!(ipe(&["check", "examples/seed"]).status.success());
}

#[test]
fn a_malformed_request_line_gets_an_error_object_and_the_run_goes_on() {
    let input = tmp("mixed.jsonl");
    std::fs::write(
        &input,
        "{\"resource\": {\"type\": \"Job\"}}\nnot json\n[1, 2]\n{\"resource\": {\"type\": \"Job\"}}\n",
    )
    .unwrap();
    let o = ipe(&["eval", "examples/seed", "--input", input.to_str().unwrap()]);
    assert!(o.status.success());
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("{\"decision\":\"allow\""), "{out}");
    assert!(lines[1].contains("malformed request on line 2"), "{out}");
    assert!(lines[2].contains("malformed request on line 3"), "{out}");
    assert!(lines[3].starts_with("{\"decision\":\"allow\""), "{out}");
}

/// Issue #11: `--max-cost` sets the cost budget of `check`, `compile` and `eval` (sources
/// and bundles); over it, each refuses with the located diagnostic or the verifier's error.
#[test]
fn issue11_max_cost_flag_sets_the_budget_of_check_compile_and_eval() {
    let src = tmp("nested.ipe");
    std::fs::write(
        &src,
        "schema {\n  a: list of x { v: int }\n  b: list of y { v: int }\n  c: list of z { v: int }\n}\n\
         policy Three:\n  \"three nested aggregates\"\n  \
         requires any(p in a where any(q in b where any(r in c where r.v == p.v)))\n",
    )
    .unwrap();
    let src = src.to_str().unwrap();
    let c = ipe(&["check", src]);
    assert!(!c.status.success());
    let err = text(&c.stderr);
    assert!(
        err.contains(
            "policy `Three` may take up to 67240449 steps, over the cost budget of 1000000"
        ),
        "{err}"
    );
    assert!(err.contains("nested.ipe:6:8"), "{err}");
    assert!(err.contains("--max-cost"), "{err}");
    assert!(ipe(&["check", src, "--max-cost", "67240449"])
        .status
        .success());
    assert!(!ipe(&["check", src, "--max-cost", "67240448"])
        .status
        .success());
    let out = tmp("nested.ipeb");
    let out = out.to_str().unwrap();
    assert!(!ipe(&["compile", src, "-o", out]).status.success());
    let c = ipe(&["compile", src, "-o", out, "--max-cost", "70000000"]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(text(&c.stderr).contains("cost bound 67240449 steps"));
    let input = tmp("nested.json");
    std::fs::write(
        &input,
        r#"{"a": [{"v": 1}], "b": [{"v": 2}], "c": [{"v": 1}]}"#,
    )
    .unwrap();
    let input = input.to_str().unwrap();
    for target in [src, out] {
        let e = ipe(&["eval", target, "--input", input, "--max-cost", "70000000"]);
        assert!(e.status.success(), "{}", text(&e.stderr));
        assert!(
            text(&e.stdout).contains(r#""decision":"allow""#),
            "{}",
            text(&e.stdout)
        );
        let e = ipe(&["eval", target, "--input", input]);
        assert!(!e.status.success());
    }
    let e = ipe(&["eval", out, "--input", input]);
    assert!(
        text(&e.stderr).contains("may take up to 67240449 steps, over the budget of 1000000"),
        "{}",
        text(&e.stderr)
    );
}
