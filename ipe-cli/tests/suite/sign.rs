//! Issue #18 end to end: `ipe keygen` → `ipe compile --sign` → `ipe verify` →
//! `ipe eval --trusted-key`, every refusal, `ipe sign`, and the README's commands.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ipe_nostd::signed::{HEADER_LEN, SIGNATURE_LEN};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn ipe_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("ipe runs")
}

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ipe-sign-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}

fn refused(o: &Output, why: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains(why), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
}

fn seed_dir() -> String {
    root().join("examples/seed").to_str().unwrap().to_owned()
}

fn requests() -> String {
    root()
        .join("examples/seed/requests.jsonl")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Keys `a` and `b` and `seed.ipeb` signed by `a` at revision 5.
fn setup(d: &Path) {
    ok(&ipe_in(d, &["keygen", "-o", "a"]));
    ok(&ipe_in(d, &["keygen", "-o", "b"]));
    ok(&ipe_in(
        d,
        &[
            "compile",
            &seed_dir(),
            "-o",
            "seed.ipeb",
            "--sign",
            "a",
            "--revision",
            "5",
        ],
    ));
}

#[test]
fn keygen_compile_sign_verify_and_eval() {
    let d = dir("e2e");
    setup(&d);
    let v = ipe_in(&d, &["verify", "--key", "a.pub", "seed.ipeb"]);
    ok(&v);
    assert!(
        text(&v.stdout).contains("ok: revision 5, not before 0"),
        "{}",
        text(&v.stdout)
    );
    let signed = ipe_in(
        &d,
        &[
            "eval",
            "seed.ipeb",
            "--trusted-key",
            "a.pub",
            "--input",
            &requests(),
        ],
    );
    ok(&signed);
    let plain = ipe_in(&d, &["eval", &seed_dir(), "--input", &requests()]);
    ok(&plain);
    assert_eq!(text(&signed.stdout), text(&plain.stdout));
    assert!(text(&signed.stdout).contains("\"decision\":\"deny\""));
    // Without --trusted-key a signed bundle is read, its signature unchecked.
    let unchecked = ipe_in(&d, &["eval", "seed.ipeb", "--input", &requests()]);
    ok(&unchecked);
    assert_eq!(text(&unchecked.stdout), text(&plain.stdout));
    // inspect lists the bundle inside.
    let i = ipe_in(&d, &["inspect", "seed.ipeb"]);
    ok(&i);
    assert!(text(&i.stdout).contains("RequireApproval"));
    assert!(
        text(&i.stdout).starts_with("signed envelope (signature not checked here"),
        "{}",
        text(&i.stdout)
    );
    assert!(text(&i.stdout).contains("  revision 5, not before 0, key id "));
    let o = ipe_in(
        &d,
        &[
            "eval",
            "seed.ipeb",
            "--trusted-key",
            "a.pub",
            "--data",
            "x.json",
            "--input",
            &requests(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("`--data` and `--instances` apply to sources"));
}

#[test]
fn a_tampered_bundle_with_a_fixed_crc_is_refused() {
    let d = dir("tamper");
    setup(&d);
    let mut bytes = std::fs::read(d.join("seed.ipeb")).unwrap();
    // Change the policy's intent text ("Production" to "production") and repair the CRC.
    let body = HEADER_LEN + ipe_nostd::format::HEADER_LEN;
    let end = bytes.len() - SIGNATURE_LEN;
    let needle = b"Production deployments";
    let at = (body..end)
        .find(|&i| bytes[i..].starts_with(needle))
        .unwrap();
    bytes[at] = b'p';
    let crc = ipe_nostd::format::CRC.checksum(&bytes[body..end]);
    bytes[HEADER_LEN + 12..HEADER_LEN + 16].copy_from_slice(&crc.to_le_bytes());
    assert!(ipe_nostd::Bundle::from_bytes(&bytes[HEADER_LEN..end]).is_ok());
    std::fs::write(d.join("tampered.ipeb"), &bytes).unwrap();
    let why = "the signature does not verify";
    refused(
        &ipe_in(&d, &["verify", "--key", "a.pub", "tampered.ipeb"]),
        why,
    );
    refused(
        &ipe_in(
            &d,
            &[
                "eval",
                "tampered.ipeb",
                "--trusted-key",
                "a.pub",
                "--input",
                &requests(),
            ],
        ),
        why,
    );
}

#[test]
fn every_refusal_has_its_message() {
    let d = dir("refusals");
    setup(&d);
    ok(&ipe_in(&d, &["compile", &seed_dir(), "-o", "plain.ipeb"]));
    let eval = |bundle: &str, extra: &[&str]| {
        let input = requests();
        let mut args = vec!["eval", bundle, "--input", &input];
        args.extend_from_slice(extra);
        ipe_in(&d, &args)
    };
    refused(
        &eval("plain.ipeb", &["--trusted-key", "a.pub"]),
        "the bundle is not signed",
    );
    refused(
        &ipe_in(&d, &["verify", "--key", "a.pub", "plain.ipeb"]),
        "the bundle is not signed",
    );
    refused(
        &eval("seed.ipeb", &["--trusted-key", "b.pub"]),
        "signed by an untrusted key (key id ",
    );
    refused(
        &eval(
            "seed.ipeb",
            &["--trusted-key", "a.pub", "--min-revision", "6"],
        ),
        "bundle revision 5 is older than the minimum revision 6",
    );
    // Not yet valid: signed for 2100, checked now and at an explicit earlier time.
    ok(&ipe_in(
        &d,
        &[
            "sign",
            "plain.ipeb",
            "--key",
            "a",
            "--revision",
            "6",
            "--not-before",
            "2100-01-01T00:00:00Z",
            "-o",
            "future.ipeb",
        ],
    ));
    refused(
        &eval("future.ipeb", &["--trusted-key", "a.pub"]),
        "bundle is not valid before 4102444800",
    );
    refused(
        &ipe_in(
            &d,
            &[
                "verify",
                "--key",
                "a.pub",
                "--now",
                "4102444799",
                "future.ipeb",
            ],
        ),
        "not valid before 4102444800 (Unix seconds); the time is 4102444799",
    );
    ok(&ipe_in(
        &d,
        &[
            "verify",
            "--key",
            "a.pub",
            "--now",
            "2100-01-01T00:00:00Z",
            "future.ipeb",
        ],
    ));
    // Sources cannot be trusted.
    let o = eval(&seed_dir(), &["--trusted-key", "a.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("exactly one compiled, signed bundle"));
}

#[test]
fn sign_rotates_keys_and_revisions() {
    let d = dir("rotate");
    setup(&d);
    // Re-sign the bundle inside a signed one with the new key and a new revision.
    ok(&ipe_in(
        &d,
        &[
            "sign",
            "seed.ipeb",
            "--key",
            "b",
            "--revision",
            "6",
            "-o",
            "next.ipeb",
        ],
    ));
    refused(
        &ipe_in(&d, &["verify", "--key", "a.pub", "next.ipeb"]),
        "untrusted key",
    );
    let both = ipe_in(
        &d,
        &["verify", "--key", "a.pub", "--key", "b.pub", "next.ipeb"],
    );
    ok(&both);
    assert!(text(&both.stdout).contains("ok: revision 6"));
    let old = ipe_in(
        &d,
        &["verify", "--key", "a.pub", "--key", "b.pub", "seed.ipeb"],
    );
    ok(&old);
    // Signing the same bundle twice gives the same bytes (deterministic Ed25519).
    ok(&ipe_in(
        &d,
        &[
            "sign",
            "next.ipeb",
            "--key",
            "b",
            "--revision",
            "6",
            "-o",
            "again.ipeb",
        ],
    ));
    assert_eq!(
        std::fs::read(d.join("next.ipeb")).unwrap(),
        std::fs::read(d.join("again.ipeb")).unwrap()
    );
}

#[test]
fn key_files_are_checked() {
    let d = dir("keys");
    setup(&d);
    let secret = std::fs::read_to_string(d.join("a")).unwrap();
    assert!(secret.contains("ipe-ed25519-secret-key-v1 "), "{secret}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("a")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let o = ipe_in(&d, &["keygen", "-o", "a"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--force"), "{}", text(&o.stderr));
    ok(&ipe_in(&d, &["keygen", "-o", "a", "--force"]));
    assert_ne!(std::fs::read_to_string(d.join("a")).unwrap(), secret);
    // A public key where a secret one is expected, and the reverse.
    let o = ipe_in(
        &d,
        &[
            "sign",
            "seed.ipeb",
            "--key",
            "b.pub",
            "--revision",
            "1",
            "-o",
            "x.ipeb",
        ],
    );
    assert!(
        text(&o.stderr).contains("holds a `ipe-ed25519-public-key-v1`"),
        "{}",
        text(&o.stderr)
    );
    let o = ipe_in(&d, &["verify", "--key", "b", "seed.ipeb"]);
    assert!(
        text(&o.stderr).contains("holds a `ipe-ed25519-secret-key-v1`"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(d.join("bad.pub"), "ipe-ed25519-public-key-v1 zz\n").unwrap();
    let o = ipe_in(&d, &["verify", "--key", "bad.pub", "seed.ipeb"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("not 64 hex digits"),
        "{}",
        text(&o.stderr)
    );
    // --revision without --sign is a usage error.
    let o = ipe_in(
        &d,
        &["compile", &seed_dir(), "-o", "y.ipeb", "--revision", "1"],
    );
    assert_eq!(o.status.code(), Some(2));
}

/// The commands of README.md's "### Signed bundles" run as written (in a scratch directory,
/// with `examples/` resolved in the repository).
#[test]
fn readme_signed_bundles_commands_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("### Signed bundles")
        .nth(1)
        .expect("README has a Signed bundles section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh code block");
    let d = dir("readme");
    let examples = root().join("examples").to_str().unwrap().to_owned();
    let mut ran = 0;
    for line in block.lines() {
        let line = line.split(" #").next().unwrap().trim();
        let Some(rest) = line.strip_prefix("ipe ") else {
            assert!(line.is_empty(), "unexpected line `{line}`");
            continue;
        };
        let args: Vec<String> = rest
            .split_whitespace()
            .map(|a| a.replace("examples/", &format!("{examples}/")))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = ipe_in(&d, &args);
        ok(&o);
        if args[0] == "eval" {
            assert!(
                text(&o.stdout).contains("\"decision\""),
                "{}",
                text(&o.stdout)
            );
        }
        ran += 1;
    }
    assert!(ran >= 5, "{ran} commands");
}
