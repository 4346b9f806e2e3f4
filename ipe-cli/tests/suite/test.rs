//! `ipe test` (issue #16 part 1) end to end: golden output of passing and failing runs, JSON,
//! coverage (table, JSON, LCOV), `--filter`, `--engine all` over every example, and errors.

use super::golden::{check, ipe, stderr, stdout};

const FIXTURE: &str = "ipe-cli/tests/golden/fixtures/failing";
const FIXTURE_DATA: &str = "ipe-cli/tests/golden/fixtures/failing/writers.data.json";

#[test]
fn issue16_test_seed_passes_golden() {
    let o = ipe(&["test", "examples/seed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    check("test/seed.txt", &stdout(&o));
}

/// Full clause coverage of the seed policy: every condition true, false and error.
#[test]
fn issue16_test_seed_coverage_is_full_golden() {
    let o = ipe(&["test", "examples/seed", "--coverage"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("coverage: 18/18 condition outcomes seen (100.0%)"),
        "{out}"
    );
    assert!(out.contains("every condition was seen true, false and (where possible) error"));
    check("test/seed-coverage.txt", &out);
}

#[test]
fn issue16_test_coverage_json_and_lcov_golden() {
    let lcov = std::env::temp_dir().join(format!("ipe-test-{}.lcov", std::process::id()));
    let o = ipe(&[
        "test",
        "examples/seed",
        "--coverage",
        "json",
        "--lcov",
        lcov.to_str().expect("UTF-8 path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Standard output is the coverage document alone; the case lines went to standard error.
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(doc["outcomes_seen"], doc["outcomes_possible"]);
    assert!(stderr(&o).contains("test result: ok. 11 passed, 0 failed"));
    check("test/seed-coverage.json", &stdout(&o));
    let text = std::fs::read_to_string(&lcov).expect("LCOV written");
    let _ = std::fs::remove_file(&lcov);
    assert!(text.contains("SF:examples/seed/policy.ipe\n"));
    assert!(text.contains("FN:5,RequireApproval\n"));
    check("test/seed.lcov", &text);
}

/// Failures: a diff per failed case, the summary, exit code 1.
#[test]
fn issue16_test_failures_golden() {
    let o = ipe(&["test", FIXTURE, "--data", FIXTURE_DATA, "--coverage"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("test result: FAILED. 3 passed, 3 failed; 0 filtered out"));
    check("test/failing.txt", &out);
}

#[test]
fn issue16_test_failures_json_golden() {
    let lcov = std::env::temp_dir().join(format!("ipe-test-f-{}.lcov", std::process::id()));
    let o = ipe(&[
        "test",
        FIXTURE,
        "--data",
        FIXTURE_DATA,
        "--format",
        "json",
        "--engine",
        "all",
        "--coverage",
        "--lcov",
        lcov.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(doc["passed"], 3);
    assert_eq!(doc["failed"], 3);
    assert!(doc["coverage"]["policies"].is_array());
    check("test/failing.json", &stdout(&o));
    let text = std::fs::read_to_string(&lcov).expect("LCOV written");
    let _ = std::fs::remove_file(&lcov);
    check("test/failing.lcov", &text);
}

#[test]
fn issue16_test_filter_runs_only_matching_cases() {
    let o = ipe(&["test", "examples/seed", "--filter", "fails closed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("running 4 tests (engine interp)\n"),
        "{out}"
    );
    assert!(
        out.contains("test result: ok. 4 passed, 0 failed; 7 filtered out"),
        "{out}"
    );
}

/// Every example's test files pass on the interpreter, the JIT and the reference evaluator,
/// which agree on every case.
#[test]
fn issue16_test_every_example_on_every_engine() {
    for (dir, extra) in [
        ("examples/seed", &[][..]),
        ("examples/policies", &[][..]),
        ("examples/k8s-admission", &[][..]),
        ("examples/firewall", &[][..]),
        (
            "examples/api-gateway",
            &[
                "--data",
                "examples/api-gateway/roles.data.json",
                "--instances",
                "examples/api-gateway/tenants.instances.json",
            ][..],
        ),
    ] {
        let mut args = vec!["test", dir, "--engine", "all"];
        args.extend_from_slice(extra);
        let o = ipe(&args);
        assert!(o.status.success(), "{dir}: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("(engines interp, jit, reference)"));
        assert!(stdout(&o).contains(" 0 failed;"), "{dir}");
    }
}

#[test]
fn issue16_test_reports_bad_test_files_and_missing_tests() {
    let dir = std::env::temp_dir().join(format!("ipe-test-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("p.ipe"),
        "default allow\n\npolicy P:\n  \"p\"\n  triggers when a == 1\n  denies\n",
    )
    .expect("write");
    let d = dir.to_str().expect("UTF-8 path");
    let o = ipe(&["test", d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: no test files:"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        dir.join("p.test.json"),
        r#"{"cases": [{"name": "x", "request": {}, "expect": {"decision": "allow"}, "extra": 1}]}"#,
    )
    .expect("write");
    let o = ipe(&["test", d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a test file (see docs/testing.md)"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("unknown field `extra`"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Coverage over every corpus file (every construct of the language): each policy's
/// applies / does not apply / error / not evaluated counts add up to the number of requests,
/// and every condition counted was evaluated by some request.
#[test]
fn issue16_coverage_counts_every_corpus_case() {
    let files = ipe_testgen::corpus::compiled(&ipe_testgen::corpus::default_root())
        .expect("the corpus compiles");
    let mut conditions_seen = 0u64;
    for f in files {
        let mut cov = ipe_cli::coverage::Coverage::new(&f.program);
        for case in &f.cases {
            let (_, traces) = ipe_compile::eval::evaluate_traced(&f.program, &case.request);
            assert!(cov.add(&f.program, &traces), "{}", f.id);
        }
        for p in &cov.policies {
            assert_eq!(
                p.applies.iter().sum::<u64>(),
                f.cases.len() as u64,
                "{} {}",
                f.id,
                p.name
            );
            // A trigger is evaluated exactly when its policy is (true, false or error).
            if let Some(t) = p
                .items
                .iter()
                .find(|i| i.kind == ipe_compile::trace::ItemKind::Trigger)
            {
                assert_eq!(t.t, p.applies[0], "{} {}", f.id, p.name);
                assert_eq!(t.f, p.applies[1], "{} {}", f.id, p.name);
                assert_eq!(t.e, p.applies[2], "{} {}", f.id, p.name);
            }
            conditions_seen += p.items.iter().map(|i| i.t + i.f + i.e).sum::<u64>();
        }
        let (seen, all) = cov.totals();
        assert!(seen <= all, "{}", f.id);
    }
    assert!(conditions_seen > 1000);
}
