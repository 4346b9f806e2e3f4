//! Writes a generated bundle of N policies (for the `ipe analyze` timings in BENCHMARKS.md):
//! `cargo run -p ipe-analyze --example gen_bundle -- N [sparse] > dir/bundle.ipe`.
//!
//! `sparse`: every trigger also names a team shared by 10 policies only, so most pairs of
//! policies never apply together (closer to a real bundle than the dense default).
//!
//! Policies pick a resource kind and an environment (and sometimes a team) as their trigger and
//! one of five requirement shapes with varying constants, so many pairs overlap: the analysis
//! meets live policies, conflicts, shadowing and duplicates at every size.

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let sparse = std::env::args().nth(2).is_some_and(|a| a == "sparse");
    let kinds = ["pod", "job", "secret", "service"];
    let envs = ["dev", "test", "staging", "prod", "edge"];
    let mut out = String::from(
        "default deny\nschema {\n  kind: enum [\"pod\", \"job\", \"secret\", \"service\"]\n  \
         env: enum [\"dev\", \"test\", \"staging\", \"prod\", \"edge\"]\n  team: string\n  \
         replicas: int\n  image: string\n  mfa: bool\n  tags: list of string max 4\n}\n",
    );
    for i in 0..n {
        let kind = kinds[i % kinds.len()];
        let env = envs[(i / kinds.len()) % envs.len()];
        let team = if sparse {
            format!(" and team == \"g{}\"", i / 10)
        } else if i % 3 == 0 {
            format!(" and team == \"t{}\"", i % 7)
        } else {
            String::new()
        };
        let req = match i % 5 {
            0 => format!("replicas >= {}", i % 10),
            1 => format!("image starts_with \"reg{}/\"", i % 3),
            2 => format!("\"tag{}\" in tags", i % 5),
            3 => "not (image ends_with \":latest\") and mfa".to_owned(),
            _ => format!("replicas <= {} and has image", 20 + i % 10),
        };
        out.push_str(&format!(
            "\npolicy P{i}:\n  \"generated {i}\"\n  triggers when kind == \"{kind}\" and env == \
             \"{env}\"{team}\n  requires {req}\n"
        ));
    }
    print!("{out}");
}
