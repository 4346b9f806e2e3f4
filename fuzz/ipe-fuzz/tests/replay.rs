//! The fuzz oracles on stable: every stored regression input of every target, the seeds the
//! corpora grow from, and a few thousand generated `diff` cases.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"));
    out.sort();
    out
}

/// Runs `check` on `input`, naming the input when it panics.
fn replay(target: &str, check: fn(&[u8]), name: &str, input: &[u8]) {
    if std::panic::catch_unwind(|| check(input)).is_err() {
        panic!("fuzz/{target}: input {name} fails its oracle (see the panic above)");
    }
}

#[test]
fn stored_regressions_pass_their_oracles() {
    let mut n = 0;
    for (target, check) in ipe_fuzz::TARGETS {
        for f in files(&fuzz_dir().join("regressions").join(target)) {
            let bytes = std::fs::read(&f).expect("readable regression input");
            replay(target, check, &f.display().to_string(), &bytes);
            n += 1;
        }
    }
    eprintln!("{n} stored regression inputs replayed");
}

#[test]
fn seed_corpora_pass_their_oracles() {
    for (target, inputs) in ipe_fuzz::seeds::all() {
        let check = ipe_fuzz::TARGETS
            .iter()
            .find(|(t, _)| *t == target)
            .expect("known target")
            .1;
        for (name, bytes) in inputs {
            replay(target, check, &name, &bytes);
        }
    }
}

#[test]
fn generated_diff_cases_agree() {
    let n: u64 = std::env::var("IPE_FUZZ_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut requests = 0;
    for seed in 0..n {
        let data = ipe_fuzz::seeds::diff_input(seed);
        let case = ipe_fuzz::gen::case(&mut arbitrary::Unstructured::new(&data));
        requests += case.requests.len();
        if std::panic::catch_unwind(|| ipe_fuzz::diff::check_case(&case)).is_err() {
            panic!("generated diff case {seed} fails (see the panic above)");
        }
    }
    eprintln!("{n} generated bundles, {requests} requests compared");
}

#[test]
fn generated_bundles_are_not_trivial() {
    // The generator must reach policies that decide on something: count the decisions that
    // are not the default over a sample.
    let mut varied = 0;
    for seed in 0..300u64 {
        let data = ipe_fuzz::seeds::diff_input(seed);
        let case = ipe_fuzz::gen::case(&mut arbitrary::Unstructured::new(&data));
        let srcs: Vec<(&str, &str)> = case
            .sources
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let Some((program, _)) = ipe_fuzz::build(&srcs) else {
            continue;
        };
        for r in &case.requests {
            let d = ipe_compile::evaluate(&program, r);
            if !d.violations.is_empty() || !d.matched.is_empty() {
                varied += 1;
            }
        }
    }
    assert!(
        varied > 100,
        "only {varied} generated requests matched or violated a policy"
    );
}
