//! Issue #14 workloads: IPE's engines and the hand-written Rust give the expected decision on
//! every family request, and every engine (Cedar and regorus included) on every request of the
//! CIDR allow-list at each size.

use ipe_benches::{
    cidr, v3_all, CedarEngine, HostEngine, Interp, Jit, NativeCidr, NativeV3, RegoEngine,
    CIDR_SIZES, V3_NAMES,
};

#[test]
fn issue14_family_workloads_agree_on_every_engine() {
    let all = v3_all();
    assert_eq!(all.len(), V3_NAMES.len());
    for w in &all {
        let native = NativeV3::new(w);
        let interp = Interp::new(w);
        let host = HostEngine::new(w);
        let host_jit = HostEngine::jit(w);
        let jit = Jit::new(w);
        assert!(w.cases.iter().any(|c| c.allow) && w.cases.iter().any(|c| !c.allow));
        for c in &w.cases {
            let at = format!("{} / {}", w.name, c.name);
            assert_eq!(
                native.decide(&NativeV3::parse(&c.json)),
                c.allow,
                "native: {at}"
            );
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
fn issue14_cidr_allow_list_agrees_on_every_engine() {
    for n in CIDR_SIZES {
        let w = cidr(n);
        assert_eq!(w.cases.len(), 4, "{}", w.name);
        let native = NativeCidr::new(&w);
        // Overlapping networks merge: never more ranges than networks.
        assert!(
            native.ranges() <= n && native.ranges() > n / 2,
            "{}",
            w.name
        );
        let interp = Interp::new(&w);
        let host_jit = HostEngine::jit(&w);
        let jit = Jit::new(&w);
        let cedar = CedarEngine::new(&w);
        let rego = RegoEngine::new(&w);
        let mut vm = rego.vm();
        for c in &w.cases {
            let at = format!("{} / {}", w.name, c.name);
            assert_eq!(
                native.decide(&NativeCidr::parse(&c.json)),
                c.allow,
                "native: {at}"
            );
            assert_eq!(
                interp.decide(&interp.context(&c.json)),
                c.allow,
                "interp: {at}"
            );
            let values = host_jit.values(&c.json);
            assert_eq!(host_jit.decide(values), c.allow, "ipe host jit: {at}");
            assert_eq!(
                jit.decide(&jit.interp.context(&c.json)),
                c.allow,
                "ipe jit: {at}"
            );
            let req = cedar.request(&c.cedar_json);
            assert_eq!(
                cedar.errors(&req),
                Vec::<String>::new(),
                "cedar errors: {at}"
            );
            assert_eq!(cedar.decide(&req), c.allow, "cedar: {at}");
            assert_eq!(
                RegoEngine::decide(&mut vm, &RegoEngine::input(&c.json)),
                c.allow,
                "regorus: {at}"
            );
        }
    }
}
