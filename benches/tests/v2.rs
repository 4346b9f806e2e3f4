//! Language v2 workloads (issue #13): IPE's engines and the hand-written Rust give the expected
//! decision on every request, and the reason workload renders the same text everywhere.

use ipe_benches::{v2_all, HostEngine, Interp, Jit, NativeV2, REASONS_DENY_TEXT, V2_NAMES};

#[test]
fn issue13_v2_workloads_agree_on_every_engine() {
    let all = v2_all();
    assert_eq!(all.len(), V2_NAMES.len());
    for w in &all {
        let native = NativeV2::new(w);
        let interp = Interp::new(w);
        let host = HostEngine::new(w);
        let host_jit = HostEngine::jit(w);
        let jit = Jit::new(w);
        assert!(w.cases.iter().any(|c| c.allow) && w.cases.iter().any(|c| !c.allow));
        for c in &w.cases {
            let at = format!("{} / {}", w.name, c.name);
            assert_eq!(
                native.decide(&NativeV2::parse(&c.json)),
                c.allow,
                "native: {at}"
            );
            assert_eq!(native.decide_json(&c.json), c.allow, "native json: {at}");
            let ctx = interp.context(&c.json);
            assert_eq!(interp.decide(&ctx), c.allow, "ipe interp: {at}");
            assert_eq!(interp.decide_json_host(&c.json), c.allow, "ipe json: {at}");
            assert_eq!(host.decide(host.values(&c.json)), c.allow, "ipe host: {at}");
            assert_eq!(host.decide_json(&c.json), c.allow, "ipe host json: {at}");
            let values = host_jit.values(&c.json);
            assert_eq!(host_jit.decide(values), c.allow, "ipe host jit: {at}");
            let jctx = jit.interp.context(&c.json);
            assert_eq!(jit.decide(&jctx), c.allow, "ipe jit: {at}");
        }
    }
}

#[test]
fn issue13_v2_reason_renders_the_witness_on_every_engine() {
    let w = ipe_benches::reasons();
    let native = NativeV2::new(&w);
    let interp = Interp::new(&w);
    let host = HostEngine::new(&w);
    let host_jit = HostEngine::jit(&w);
    let jit = Jit::new(&w);
    for c in &w.cases {
        let want = if c.allow { "" } else { REASONS_DENY_TEXT };
        let mut out = String::from("stale");
        let at = format!("{} / {}", w.name, c.name);
        assert_eq!(
            native.decide_render(&NativeV2::parse(&c.json), &mut out),
            c.allow
        );
        assert_eq!(out, want, "native: {at}");
        assert_eq!(
            interp.decide_render(&interp.context(&c.json), &mut out),
            c.allow
        );
        assert_eq!(out, want, "ipe interp: {at}");
        assert_eq!(host.decide_render(host.values(&c.json), &mut out), c.allow);
        assert_eq!(out, want, "ipe host: {at}");
        assert_eq!(
            host_jit.decide_render(host_jit.values(&c.json), &mut out),
            c.allow
        );
        assert_eq!(out, want, "ipe host jit: {at}");
        assert_eq!(
            jit.decide_render(&jit.interp.context(&c.json), &mut out),
            c.allow
        );
        assert_eq!(out, want, "ipe jit: {at}");
    }
}

#[test]
fn issue13_v2_defs_decide_as_written_out() {
    let (defs, written) = (ipe_benches::defs(false), ipe_benches::defs(true));
    let (a, b) = (Interp::new(&defs), Interp::new(&written));
    for (c, d) in defs.cases.iter().zip(&written.cases) {
        assert_eq!(c.json, d.json);
        assert_eq!(a.decide(&a.context(&c.json)), b.decide(&b.context(&d.json)));
    }
}
