//! `include/ipe.h` is what cbindgen generates from the crate today (CI runs this test; with
//! `IPE_BLESS_HEADER=1` it rewrites the header instead of comparing).

use std::path::Path;

#[test]
fn committed_header_matches_the_crate() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("config");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");
    let path = crate_dir.join("include/ipe.h");
    if std::env::var_os("IPE_BLESS_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/ipe.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/ipe.h is stale: run `IPE_BLESS_HEADER=1 cargo test -p ipe-capi --test header`"
    );
}
