use std::path::Path;

/// Compiles one in-memory source to verified bundle bytes.
pub fn bundle(source: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("test.ipe", source)]).expect("source compiles");
    ipe_compile::lower::lower(&program)
        .expect("program lowers")
        .bytes
}

/// Compiles the files of a directory of the repository (e.g. `examples/seed`).
pub fn bundle_dir(rel: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    let program = ipe_compile::compile_paths(&[dir]).expect("bundle compiles");
    ipe_compile::lower::lower(&program)
        .expect("program lowers")
        .bytes
}

/// The seed bundle's requests, one JSON object per line.
pub fn seed_requests() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed/requests.jsonl");
    std::fs::read_to_string(path)
        .expect("seed requests")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// A bundle of `n` policies over a small schema (a string, an int, an enum and a list of
/// records), each with its own constants, for JIT compile-time measurements and swap tests.
#[cfg_attr(
    not(feature = "jit"),
    expect(dead_code, reason = "used by the JIT tests")
)]
pub fn many_policies(n: usize) -> Vec<u8> {
    let mut src = String::from(
        "schema {\n  kind: string\n  env: string\n  replicas: int\n  \
         risk: enum [\"low\", \"medium\", \"high\"]\n  \
         approvals: list of approver {\n    role: string\n    team: string\n  }\n}\n\
         default allow\n",
    );
    for i in 0..n {
        let body = match i % 3 {
            0 => format!("replicas <= {}", i % 17 + 1),
            1 => format!("env in [\"prod-{i}\", \"stage\"] and risk < \"high\""),
            _ => format!(
                "approvals.count >= {} where approver.role == \"lead-{}\" and approver.team != env",
                i % 3 + 1,
                i % 7
            ),
        };
        src.push_str(&format!(
            "policy P{i}:\n  \"policy {i}\"\n  triggers when kind == \"k{}\" and replicas > {}\n  requires\n    {body}\n",
            i % 40,
            i % 5
        ));
    }
    bundle(&src)
}

/// `FREEZE` denies `deploy`; `OPEN` allows it and reports a different matched policy.
pub const FREEZE: &str = r#"
default allow
policy Freeze:
  "deploys are frozen"
  triggers when kind == "deploy"
  denies
"#;

/// The other answer for the swap tests (see [`FREEZE`]).
pub const OPEN: &str = r#"
default deny
policy Open:
  "deploys are fine"
  triggers when kind == "deploy"
  requires true
"#;

/// Runs test `name` (its full path, `module::test`) alone in a child process of this test
/// binary, with environment variable `marker` set, and asserts that it passed; returns `true`
/// in the parent (which should return at once) and `false` in the child (which measures).
/// For measurements of the whole process (RSS, mappings) that other tests' threads would skew.
#[cfg(feature = "jit")]
pub fn in_child(name: &str, marker: &str) -> bool {
    if std::env::var_os(marker).is_some() {
        return false;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(marker, "1")
        .output()
        .expect("child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 passed"), "the child ran the test: {text}");
    true
}
