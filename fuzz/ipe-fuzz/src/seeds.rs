//! Seed inputs for every target, built from `examples/` and `tests/corpus/` (read at run time
//! from the repository), so no large corpus is checked in. `fuzz/seed.sh` writes them to
//! `fuzz/corpus/<target>/`; the stable replay runs them through the oracles.

use std::path::{Path, PathBuf};

/// The repository root (`fuzz/ipe-fuzz/../..`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, ext, out);
        } else if p.to_string_lossy().ends_with(ext) {
            out.push(p);
        }
    }
}

fn corpus_files(ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&repo_root().join("tests/corpus"), ext, &mut out);
    out.sort();
    out
}

/// Source seeds: each example bundle (files joined by NUL) and each corpus `.ipe` file.
pub fn source() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, files) in crate::examples::SOURCES {
        let joined: Vec<&str> = files.iter().map(|(_, t)| *t).collect();
        out.push((format!("example-{name}"), joined.join("\0").into_bytes()));
    }
    for p in corpus_files(".ipe") {
        if let Ok(t) = std::fs::read(&p) {
            let name = p
                .strip_prefix(repo_root())
                .unwrap_or(&p)
                .display()
                .to_string();
            out.push((name.replace('/', "_"), t));
        }
    }
    out
}

/// Bundle seeds: every compilable source seed, whole and as a body, with typed and untyped
/// context bytes.
pub fn bundle() -> Vec<(String, Vec<u8>)> {
    let ctx: Vec<u8> = (0u8..=255).rev().chain(0u8..=255).collect();
    let mut out = Vec::new();
    for (name, text) in source() {
        let text = String::from_utf8_lossy(&text).into_owned();
        let names = ["a.ipe", "b.ipe", "c.ipe", "d.ipe", "e.ipe", "f.ipe"];
        let srcs: Vec<(&str, &str)> = text.split('\0').zip(names).map(|(t, n)| (n, t)).collect();
        let Some((_, bytes)) = crate::build(&srcs) else {
            continue;
        };
        let body = &bytes[ipe_nostd::format::HEADER_LEN..];
        out.push((
            format!("{name}-whole"),
            crate::bundle::frame(false, true, &bytes, &ctx),
        ));
        out.push((
            format!("{name}-body"),
            crate::bundle::frame(true, true, body, &ctx),
        ));
        out.push((
            format!("{name}-body-untyped"),
            crate::bundle::frame(true, false, body, &ctx),
        ));
    }
    out
}

/// Request seeds: every example request and every corpus case request, one per input.
pub fn request() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, lines) in crate::examples::REQUESTS.iter().enumerate() {
        for (j, l) in lines.lines().enumerate() {
            out.push((format!("example{i}-{j}"), l.as_bytes().to_vec()));
        }
    }
    for p in corpus_files(".cases.json") {
        let Ok(t) = std::fs::read_to_string(&p) else {
            continue;
        };
        let Ok(serde_json::Value::Array(cases)) = serde_json::from_str(&t) else {
            continue;
        };
        let stem = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (j, c) in cases.iter().enumerate() {
            if let Some(r) = c.get("request") {
                out.push((format!("{stem}-{j}"), r.to_string().into_bytes()));
            }
        }
    }
    out
}

/// A small deterministic byte stream (xorshift64*), so the stable run needs no fuzzer.
pub fn stream(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// The input of generated `diff` case `seed` in the stable replay.
pub fn diff_input(seed: u64) -> Vec<u8> {
    stream(seed, 64 + (seed as usize % 7) * 128)
}

/// Diff seeds: deterministic pseudo-random bytes of several lengths.
pub fn diff() -> Vec<(String, Vec<u8>)> {
    (0..32u64)
        .map(|s| {
            let mut x = s.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let bytes = (0..64 + 32 * s)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            (format!("gen-{s:02}"), bytes)
        })
        .collect()
}

/// Every target's seeds.
pub fn all() -> Vec<(&'static str, Vec<(String, Vec<u8>)>)> {
    vec![
        ("bundle", bundle()),
        ("source", source()),
        ("diff", diff()),
        ("request", request()),
    ]
}
