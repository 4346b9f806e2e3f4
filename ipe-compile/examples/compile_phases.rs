//! Minor page faults and peak RSS per compile phase (issue #15, session 12): one compile of
//! the `policy_set(n)` source of `benches/src/workloads.rs` (rebuilt verbatim here), read
//! from `/proc/self/stat` (minor faults) and `/proc/self/status` (`VmHWM`, `VmRSS`) between
//! the phases. Linux only; measuring code lives here, not in the library.
//!
//! ```sh
//! cargo run --release -p ipe-compile --example compile_phases -- 10000
//! ```
//!
//! Phases: `parse` (`parser::parse_file`, tree dropped), `compile` (the whole
//! `compile_bundle_str_with`: parse, expansions, check, lower), then `lower` again on the
//! returned program alone (so check + expansions ≈ compile − parse − lower). A second
//! argument `compile` runs the compile alone (a fresh heap); `SIZES=1` prints the node sizes.
//!
//! `compile_phases hash <path or set:N>...` compiles each path (a file or a directory) as one
//! bundle and prints its length and hash, or the hash of its diagnostics: two builds' outputs
//! compared with `cmp` show the bundles and diagnostics are the same.

use std::hint::black_box;

fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Field 10 (minflt), counted after the `(comm)` field, which may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .nth(7)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Mark {
    faults: u64,
}

impl Mark {
    fn new() -> Self {
        Mark {
            faults: minor_faults(),
        }
    }

    fn report(&mut self, phase: &str) {
        let now = minor_faults();
        println!(
            "{phase:<10} minor faults {:>7}  VmRSS {:>7} kB  VmHWM {:>7} kB",
            now - self.faults,
            status_kb("VmRSS:"),
            status_kb("VmHWM:")
        );
        self.faults = minor_faults();
    }
}

/// The `policy_set(n)` IPE source of `benches/src/workloads.rs`.
fn policy_set(n: usize) -> String {
    let mut ipe = String::from(
        "default allow\n\nschema {\n  resource.type: string\n  environment: string\n  \
         resource.replicas: int\n  requester.department: string\n}\n",
    );
    for i in 0..n {
        let g = i / 4;
        let limit = 10 + (i % 4) as i64;
        ipe.push_str(&format!(
            "\npolicy P{i}:\n  \"Generated policy {i}\"\n  triggers when resource.type == \"T{g}\" \
             and environment == \"production\"\n  requires resource.replicas <= {limit} \
             and requester.department != \"blocked-{i}\"\n"
        ));
    }
    ipe
}

/// `hash <path>...`: each path (a file or a directory) compiled as one bundle, one line per
/// path with the bundle's length and hash, or the hash of the diagnostics' debug text (to
/// compare two builds' output byte for byte).
fn hash(paths: impl Iterator<Item = String>) {
    use std::hash::{Hash, Hasher};
    let options = ipe_compile::CompileOptions::default();
    for path in paths {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // `set:N`: the `policy_set(N)` source.
        let result = match path.strip_prefix("set:").and_then(|n| n.parse().ok()) {
            Some(n) => {
                ipe_compile::compile_bundle_str_with(&[("bench.ipe", policy_set(n))], &options)
                    .map_err(|d| format!("{d:?}"))
            }
            None => ipe_compile::compile_bundle_paths_with(
                &[path.clone().into()],
                &options,
                &mut |_| {},
            )
            .map_err(|e| format!("{e:?}")),
        };
        match result {
            Ok((_, compiled)) => {
                compiled.bytes.hash(&mut h);
                println!("{path} ok {} {:016x}", compiled.bytes.len(), h.finish());
            }
            Err(e) => {
                e.hash(&mut h);
                println!("{path} err {:016x}", h.finish());
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("hash") {
        return hash(args.skip(1));
    }
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let only = args.next();
    if std::env::var_os("SIZES").is_some() {
        sizes();
    }
    let src = policy_set(n);
    let mut m = Mark::new();
    m.report("start");
    if only.as_deref() != Some("compile") {
        let (ast, errors) = ipe_compile::parser::parse_file(black_box(&src));
        assert!(errors.is_empty());
        m.report("parse");
        drop(black_box(ast));
        m.report("drop-ast");
    }
    let options = ipe_compile::CompileOptions::default();
    let (program, compiled) =
        ipe_compile::compile_bundle_str_with(&[("bench.ipe", black_box(src.as_str()))], &options)
            .expect("compiles");
    m.report("compile");
    let bytes = compiled.bytes.len();
    drop(compiled);
    m.report("drop-out");
    if only.as_deref() != Some("compile") {
        let again = ipe_compile::lower::lower(&program).expect("lowers");
        m.report("lower");
        assert_eq!(again.bytes.len(), bytes);
    }
    println!("{n} policies, bundle {bytes} bytes");
}

/// The sizes of the syntax tree's and the checked program's node types (`SIZES=1`).
fn sizes() {
    use ipe_compile::{ast, hir};
    use std::mem::size_of;
    println!(
        "ast::Expr {} ExprKind {} Name {} Item {} Policy {} Body {} Lit {}",
        size_of::<ast::Expr>(),
        size_of::<ast::ExprKind>(),
        size_of::<ast::Name>(),
        size_of::<ast::Item>(),
        size_of::<ast::Policy>(),
        size_of::<ast::Body>(),
        size_of::<ast::Lit>()
    );
    println!(
        "hir::Expr {} Clause {} Operand {} Policy {} Literal {} Span {}",
        size_of::<hir::Expr>(),
        size_of::<hir::Clause>(),
        size_of::<hir::Operand>(),
        size_of::<hir::Policy>(),
        size_of::<hir::Literal>(),
        size_of::<hir::Span>()
    );
}
