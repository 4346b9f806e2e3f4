//! Issue #16 part 4: `ipe analyze` end to end. Every witness it prints is replayed with
//! `ipe eval` and must show what the finding says.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("ipe runs")
}

/// `ipe analyze <args> --format json`: the findings and the exit status.
fn analyze_json(args: &[&str]) -> (Vec<Value>, i32) {
    let mut all = vec!["analyze"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = ipe(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    (
        v["findings"].as_array().expect("findings").clone(),
        out.status.code().expect("exit code"),
    )
}

/// The decision `ipe eval <bundle>` gives `request`.
fn eval(bundle: &str, request: &Value) -> Value {
    let dir = std::env::temp_dir().join(format!("ipe-analyze-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("w{}.json", rand_name(request)));
    std::fs::write(&file, format!("{request}\n")).expect("write witness");
    let out = ipe(&[
        "eval",
        bundle,
        "--input",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a decision")
}

/// A file name for a request (its text's hash).
fn rand_name(v: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.to_string().hash(&mut h);
    h.finish()
}

fn names(d: &Value, key: &str) -> Vec<String> {
    d[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.as_str()
                        .or_else(|| x["policy"].as_str())
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

const PLANTED: &str = "ipe-cli/tests/analyze/planted";

/// Every planted problem is found, with its code, and no other.
#[test]
fn issue16_analyze_finds_every_planted_problem() {
    let (findings, code) = analyze_json(&[PLANTED]);
    assert_eq!(code, 1, "findings exit 1");
    let got: Vec<(String, String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or("").to_owned(),
                f["policy"].as_str().unwrap_or("").to_owned(),
                f["other"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want = [
        ("IPE-A001", "Dead", ""),
        ("IPE-A003", "NeverMet", ""),
        ("IPE-A002", "Tautology", ""),
        ("IPE-A004", "ProdReplicas", "ProdSmall"),
        ("IPE-A005", "NoLatestProd", "NoLatest"),
        ("IPE-A006", "Blessed", "BlessedAgain"),
        ("IPE-A008", "", ""),
        ("IPE-A008", "", ""),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    let mut g = got.clone();
    g.sort();
    let mut w = want.clone();
    w.sort();
    assert_eq!(g, w, "{findings:#?}");
    let clause_of = |p: &str| {
        findings
            .iter()
            .find(|f| f["policy"] == p)
            .and_then(|f| f["clause"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(clause_of("NeverMet").as_deref(), Some("env == \"dev\""));
    assert_eq!(clause_of("Tautology").as_deref(), Some("replicas > 0"));
}

/// Each witness, replayed with `ipe eval`, shows what its finding says.
#[test]
fn issue16_analyze_witnesses_are_confirmed_by_ipe_eval() {
    let (findings, _) = analyze_json(&[PLANTED]);
    let mut checked = 0;
    for f in &findings {
        let Some(w) = f.get("witness").filter(|w| !w.is_null()) else {
            continue;
        };
        let d = eval(PLANTED, w);
        let matched = names(&d, "matched");
        let violated = names(&d, "violations");
        let p = f["policy"].as_str().unwrap_or("").to_owned();
        let o = f["other"].as_str().unwrap_or("").to_owned();
        match f["code"].as_str().unwrap_or("") {
            // Always false: the policy applies and that clause is its violation.
            "IPE-A003" => {
                assert!(violated.contains(&p), "{f} {d}");
                let reason = d["violations"][0]["reason"].as_str().unwrap_or("");
                assert!(reason.contains("env == \"dev\""), "{d}");
            }
            // Always true: it applies, and is not violated.
            "IPE-A002" => {
                assert!(matched.contains(&p) && !violated.contains(&p), "{f} {d}");
            }
            // A conflict: both apply, denied, one of them violated.
            "IPE-A004" => {
                assert_eq!(d["decision"], "deny", "{d}");
                assert!(matched.contains(&p) && matched.contains(&o), "{d}");
                assert!(violated.contains(&p) || violated.contains(&o), "{d}");
            }
            // Shadowing and duplicates: both violated.
            "IPE-A005" | "IPE-A006" => {
                assert!(violated.contains(&p) && violated.contains(&o), "{f} {d}");
            }
            "IPE-A007" => {
                assert_eq!(d["decision"], "deny", "{d}");
                assert!(matched.contains(&p), "{d}");
            }
            c => panic!("unexpected witness for {c}: {f}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 5, "{findings:#?}");
}

/// The text output, byte for byte (`tests/analyze/planted.txt`).
#[test]
fn issue16_analyze_text_output_is_golden() {
    let out = ipe(&["analyze", PLANTED]);
    assert_eq!(out.status.code(), Some(1));
    let got = String::from_utf8(out.stdout).expect("utf-8");
    let golden = root().join("ipe-cli/tests/analyze/planted.txt");
    if std::env::var_os("IPE_BLESS").is_some() {
        std::fs::write(&golden, &got).expect("bless");
    }
    let want = std::fs::read_to_string(golden).expect("golden file");
    assert_eq!(got, want);
}

/// Bundles without planted problems: no finding, exit 0.
#[test]
fn issue16_analyze_reports_nothing_on_clean_examples() {
    for dir in [
        "examples/seed",
        "examples/policies",
        "examples/k8s-admission",
    ] {
        // A generous time limit: "0 unknown" is about the encoding, and a loaded machine
        // (CI on 2 shared cores) must not turn a slow query into an unknown.
        let out = ipe(&["analyze", "--timeout-ms", "60000", dir]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{dir}: {text}");
        assert!(text.ends_with(" findings, 0 unknown\n"), "{dir}: {text}");
        assert!(text.contains(": 0 findings"), "{dir}: {text}");
    }
}

/// `--against`: the one change of decision, with a witness each bundle decides as reported.
#[test]
fn issue16_analyze_against_reports_the_changed_decision() {
    let (old, new) = (
        "ipe-cli/tests/analyze/diff/old",
        "ipe-cli/tests/analyze/diff/new",
    );
    let (findings, code) = analyze_json(&[new, "--against", old]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["code"], "IPE-A009");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or("")
            .contains("allowed by the old bundle and denied by the new one"),
        "{f}"
    );
    let w = &f["witness"];
    assert_eq!(eval(old, w)["decision"], "allow", "{w}");
    assert_eq!(eval(new, w)["decision"], "deny", "{w}");
    // A bundle against itself: no change.
    let (same, code) = analyze_json(&[new, "--against", new]);
    assert!(same.is_empty(), "{same:#?}");
    assert_eq!(code, 0);
}

/// A list longer than the bound: "unknown", never a wrong "dead"; with a bound covering the
/// list's `max`, the dead trigger is found.
#[test]
fn issue16_analyze_says_unknown_beyond_the_list_bound() {
    let dir = "ipe-cli/tests/analyze/unknown";
    let (findings, code) = analyze_json(&[dir]);
    assert_eq!(code, 0, "unknown answers do not fail");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["code"], "IPE-A000");
    assert!(
        findings[0]["note"]
            .as_str()
            .unwrap_or("")
            .contains("list-bound"),
        "{findings:#?}"
    );
    let (findings, code) = analyze_json(&[dir, "--list-bound", "256"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["code"], "IPE-A001");
    assert_eq!(findings[0]["policy"], "Many");
}
