//! README's "Using IPE from C and Python" snippets run as written: the C program compiled with
//! the link flags it names, the Python one with the package, both on the seed bundle.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The first fenced block of `lang` in README's C and Python section.
fn snippet(lang: &str) -> String {
    let readme = std::fs::read_to_string(support::root().join("README.md")).expect("README");
    let section = readme
        .split("## Using IPE from C and Python")
        .nth(1)
        .expect("README has the section");
    let section = section.split("\n## ").next().expect("section text");
    let start = section
        .find(&format!("```{lang}\n"))
        .unwrap_or_else(|| panic!("a {lang} block"));
    let body = &section[start + lang.len() + 4..];
    body[..body.find("```").expect("closing fence")].to_owned()
}

/// A scratch directory with the seed bundle as `policies.ipeb` and `new.ipeb`.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ipe-capi")
        .join(name);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let seed = support::bundle_dir("examples/seed");
    std::fs::write(dir.join("policies.ipeb"), &seed).expect("write");
    std::fs::write(dir.join("new.ipeb"), &seed).expect("write");
    dir
}

#[test]
fn readme_c_snippet_builds_with_its_flags_and_decides() {
    let code = snippet("c");
    let dir = scratch("readme-c");
    std::fs::write(dir.join("app.c"), &code).expect("write");
    // The command line the snippet names, with this build's library.
    let flags = code
        .split("/* cc ")
        .nth(1)
        .and_then(|c| c.split("*/").next())
        .expect("a cc command in the snippet");
    let lib = support::lib_dir().join("libipe_capi.a");
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".to_owned()));
    for arg in flags.split_whitespace() {
        match arg {
            "target/release/libipe_capi.a" => cc.arg(&lib),
            "ipe-capi/include" => cc.arg(support::root().join("ipe-capi/include")),
            _ => cc.arg(arg),
        };
    }
    cc.arg("-o").arg(dir.join("app")).current_dir(&dir);
    let out = cc.output().expect("run cc");
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(dir.join("app"))
        .current_dir(&dir)
        .output()
        .expect("run");
    assert!(run.status.success(), "the snippet failed: {}", run.status);
    let cli = support::cli_decisions(&[r#"{"environment": "production"}"#.to_owned()]);
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim_end(), cli[0]);
}

#[test]
fn readme_python_snippet_runs() {
    let code = snippet("python");
    let dir = scratch("readme-python");
    std::fs::write(dir.join("snippet.py"), &code).expect("write");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = Command::new(&python)
        .arg("snippet.py")
        .current_dir(&dir)
        .env("PYTHONPATH", support::root().join("ipe-capi/python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("IPE_CAPI_LIB", support::lib_dir().join(support::so_name()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{python}` (install Python 3): {e}"));
    assert!(
        out.status.success(),
        "the snippet failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let request = r#"{"resource": {"type": "Deployment"}, "environment": "production"}"#;
    let cli: serde_json::Value =
        serde_json::from_str(&support::cli_decisions(&[request.to_owned()])[0]).expect("JSON");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let word = stdout.split_whitespace().next().unwrap_or_default();
    assert_eq!(word, cli["decision"], "{stdout}");
}

#[test]
fn readme_fast_path_snippet_builds_and_filters() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).expect("README");
    let section = readme
        .split("### The C fast path")
        .nth(1)
        .expect("README has the fast path section");
    let start = section.find("```c\n").expect("a c block");
    let body = &section[start + 5..];
    let code = &body[..body.find("```").expect("closing fence")];
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ipe-capi")
        .join("readme-fast");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    std::fs::write(dir.join("fast.c"), code).expect("write");
    std::fs::write(
        dir.join("firewall.ipeb"),
        support::bundle_dir("examples/firewall"),
    )
    .expect("write");
    let flags = code
        .split("/* cc ")
        .nth(1)
        .and_then(|c| c.split("*/").next())
        .expect("a cc command in the snippet");
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".to_owned()));
    for arg in flags.split_whitespace() {
        match arg {
            "target/release/libipe_capi.a" => cc.arg(support::lib_dir().join("libipe_capi.a")),
            "ipe-capi/include" => cc.arg(support::root().join("ipe-capi/include")),
            _ => cc.arg(arg),
        };
    }
    let out = cc
        .args(["-Wall", "-Werror", "-o"])
        .arg(dir.join("fast"))
        .current_dir(&dir)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(dir.join("fast"))
        .current_dir(&dir)
        .output()
        .expect("run");
    assert!(run.status.success(), "the snippet failed: {}", run.status);
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "port 22: allow\nport 23: deny\n"
    );
}
