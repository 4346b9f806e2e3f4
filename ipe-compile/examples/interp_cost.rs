//! Cost of one `ipe_nostd::evaluate` call on the seed policy (`examples/seed`).
//!
//! `interp_cost [allow|deny|na] [iterations]` prints ns/decision. Run it under callgrind for
//! deterministic instruction counts (subtract a run with 0 iterations for the setup):
//!
//! ```sh
//! cargo build --release -p ipe-compile --example interp_cost
//! valgrind --tool=callgrind target/release/examples/interp_cost deny 100000
//! ```

use std::hint::black_box;
use std::time::Instant;

use ipe_nostd::{Bundle, Context, Decision, Effect, Value};

const SLOTS: usize = 16;

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "deny".into());
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let schema = include_str!("../../examples/seed/schema.ipe");
    let policy = include_str!("../../examples/seed/policy.ipe");
    let program = ipe_compile::compile_str(&[("schema.ipe", schema), ("policy.ipe", policy)])
        .unwrap_or_else(|d| panic!("seed compiles: {d:?}"));
    let bytes = ipe_compile::lower::lower(&program)
        .expect("seed lowers")
        .bytes;
    let bundle = Bundle::from_bytes(&bytes).expect("seed verifies");
    if case == "disasm" {
        for id in 0..bundle.policy_count() {
            let p = bundle.policy(id as u16);
            let mut out = String::new();
            ipe_nostd::disasm::disassemble(&mut out, &bundle, p.trigger, 0).expect("fmt");
            for c in 0..p.clauses {
                let clause = bundle.clause(p.first_clause + u32::from(c));
                out.push_str("-- clause\n");
                ipe_nostd::disasm::disassemble(&mut out, &bundle, clause.code, 0).expect("fmt");
            }
            println!("policy {}:\n{out}", p.name);
        }
        println!("index groups: {}", bundle.index_group_count());
        return;
    }
    let slot = |p: &str| bundle.slot(p).unwrap_or_else(|| panic!("slot {p}"));

    // Same requests as the benches' seed workload.
    let approvals: &[(&str, &str)] = match case.as_str() {
        "allow" => &[
            ("senior-engineer", "security"),
            ("senior-engineer", "platform"),
        ],
        _ => &[
            ("senior-engineer", "security"),
            ("senior-engineer", "payments"),
            ("junior-engineer", "platform"),
        ],
    };
    let ap = slot("approvals");
    let (role, dept) = (
        bundle.field(ap, "role").expect("role"),
        bundle.field(ap, "department").expect("department"),
    );
    let fields = usize::from(bundle.slot_info(ap).fields);
    let mut recs = vec![Value::Missing; approvals.len() * fields];
    for (i, (r, d)) in approvals.iter().enumerate() {
        recs[i * fields + usize::from(role)] = Value::Str(bundle.intern(r));
        recs[i * fields + usize::from(dept)] = Value::Str(bundle.intern(d));
    }
    let mut ctx = Context::<SLOTS>::new();
    Context::<SLOTS>::check_capacity(&bundle).expect("capacity");
    let ty = if case == "na" {
        "Service"
    } else {
        "Deployment"
    };
    ctx.set_str(&bundle, slot("resource.type"), ty);
    ctx.set_str(&bundle, slot("environment"), "production");
    ctx.set_str(&bundle, slot("resource.risk_level"), "high");
    ctx.set_str(&bundle, slot("requester.department"), "payments");
    ctx.set(ap, Value::Records(&recs));

    let d: Decision<16> = ipe_nostd::evaluate(&bundle, &ctx);
    let want = if case == "deny" {
        Effect::Deny
    } else {
        Effect::Allow
    };
    assert_eq!(d.effect, want, "{case}: {d:?}");

    let start = Instant::now();
    let mut allowed = 0usize;
    for _ in 0..n {
        let d: Decision<16> = ipe_nostd::evaluate(black_box(&bundle), black_box(&ctx));
        allowed += usize::from(d.effect == Effect::Allow);
    }
    let ns = start.elapsed().as_nanos() as f64 / n.max(1) as f64;
    println!("seed/{case}: {ns:.1} ns/decision ({allowed} allowed of {n})");
}
