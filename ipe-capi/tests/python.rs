//! The ctypes package over the C ABI (`python/ipe_capi`, over the library built with this test)
//! decides the seed requests as the CLI does: runs `python3 -m unittest` on `python/tests`.

mod support;

use std::path::Path;
use std::process::Command;

#[test]
fn python_package_agrees_with_the_cli() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ipe-capi");
    let bundle = support::seed_bundle_file("python.ipeb");
    let requests = support::seed_requests();
    let cli = scratch.join("python-cli.jsonl");
    std::fs::write(&cli, support::cli_decisions(&requests).join("\n") + "\n").expect("write");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = Command::new(&python)
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(crate_dir.join("python/tests"))
        .env("PYTHONPATH", crate_dir.join("python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("IPE_CAPI_LIB", support::lib_dir().join(support::so_name()))
        .env("IPE_TEST_BUNDLE", &bundle)
        .env(
            "IPE_TEST_REQUESTS",
            support::root().join("examples/seed/requests.jsonl"),
        )
        .env("IPE_TEST_CLI", &cli)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{python}` (install Python 3): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python tests failed:\n{stderr}");
    // unittest's summary: every test ran (none skipped).
    assert!(stderr.contains("Ran 5 tests"), "{stderr}");
}
