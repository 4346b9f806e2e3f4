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
