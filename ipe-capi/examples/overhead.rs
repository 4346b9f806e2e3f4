//! The Rust side of BENCHMARKS.md's "C ABI per-call overhead": the same two firewall flows as
//! `examples/c/bench.c`, decided through `ipe_host` directly (JSON, the typed builder, and
//! prebuilt slot values, which is what the C fast path hands the engine).
//!
//! `overhead <firewall.ipeb> [iterations]`; prints ns per decision for each path.

use std::time::Instant;

use bumpalo::Bump;
use ipe_host::{PolicyEngine, PolicySet};
use ipe_nostd::Effect;

/// One flow: the JSON request and its typed attributes.
struct Flow {
    json: &'static str,
    iface: &'static str,
    src: &'static str,
    port: i64,
    size: i64,
    rate: i64,
}

const FLOWS: [Flow; 2] = [
    Flow {
        json: r#"{"packet":{"iface":"wan","proto":"tcp","src":"198.51.100.4","dst_port":443,"size":1200},"flow":{"rate_pps":20}}"#,
        iface: "wan",
        src: "198.51.100.4",
        port: 443,
        size: 1200,
        rate: 20,
    },
    Flow {
        json: r#"{"packet":{"iface":"lan","proto":"tcp","src":"10.0.0.7","dst_port":23,"size":60},"flow":{"rate_pps":3}}"#,
        iface: "lan",
        src: "10.0.0.7",
        port: 23,
        size: 60,
        rate: 3,
    },
];

fn build<'s, 'r>(
    set: &'s PolicySet,
    arena: &'r Bump,
    f: &Flow,
) -> ipe_host::RequestBuilder<'s, 'r> {
    let mut b = set.request(arena);
    b.str("packet.iface", f.iface)
        .str("packet.proto", "tcp")
        .str("packet.src", f.src)
        .int("packet.dst_port", f.port)
        .int("packet.size", f.size)
        .int("flow.rate_pps", f.rate);
    b
}

fn time(name: &str, n: usize, mut decide: impl FnMut(usize) -> Effect) {
    let start = Instant::now();
    let mut denies = 0;
    for i in 0..n {
        denies += usize::from(decide(i) == Effect::Deny);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{name:<12} {ns:8.1} ns/decision  ({denies} denied of {n})");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: overhead <firewall.ipeb> [iterations]");
    let n: usize = args
        .next()
        .map_or(1_000_000, |s| s.parse().expect("a number"));
    let engine = PolicyEngine::from_file(&path).expect("a bundle");
    time("json", n, |i| {
        let set = engine.load();
        set.evaluate_json(FLOWS[i & 1].json).expect("valid").effect
    });
    let mut arena = Bump::new();
    time("builder", n, |i| {
        arena.reset();
        let set = engine.load();
        build(&set, &arena, &FLOWS[i & 1])
            .evaluate()
            .expect("valid")
            .effect
    });
    let set = engine.load();
    let arenas = [Bump::new(), Bump::new()];
    let builders = [
        build(&set, &arenas[0], &FLOWS[0]),
        build(&set, &arenas[1], &FLOWS[1]),
    ];
    let values = [builders[0].values(), builders[1].values()];
    time("values", n, |i| set.evaluate_values(values[i & 1]).effect);
}
