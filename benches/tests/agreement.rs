//! Every engine gives the expected decision for every workload request, before any timing.

use ipe_benches::{all, CedarEngine, HostEngine, Interp, Jit, Native, RegoEngine};

#[test]
fn engines_agree_on_every_workload() {
    let mut bump = bumpalo::Bump::new();
    for w in all() {
        let native = Native::new(&w);
        let interp = Interp::new(&w);
        let host = HostEngine::new(&w);
        let host_jit = HostEngine::jit(&w);
        let jit = Jit::new(&w);
        let cedar = CedarEngine::new(&w);
        let rego = RegoEngine::new(&w);
        let mut vm = rego.vm();
        for c in &w.cases {
            let at = format!("{} / {}", w.name, c.name);
            assert_eq!(
                native.decide(&Native::parse(&c.json)),
                c.allow,
                "native: {at}"
            );
            assert_eq!(native.decide_json(&c.json), c.allow, "native json: {at}");
            let ctx = interp.context(&c.json);
            assert_eq!(interp.decide(&ctx), c.allow, "ipe interp: {at}");
            assert_eq!(
                interp.decide_json(&c.json, &mut bump),
                c.allow,
                "ipe json: {at}"
            );
            assert_eq!(
                interp.decide_json_host(&c.json),
                c.allow,
                "ipe host json: {at}"
            );
            assert_eq!(host.decide(host.values(&c.json)), c.allow, "ipe host: {at}");
            assert_eq!(host.decide_json(&c.json), c.allow, "ipe host json: {at}");
            assert_eq!(
                host_jit.decide(host_jit.values(&c.json)),
                c.allow,
                "ipe host jit: {at}"
            );
            let mut verdict = ipe_host::Verdict::new();
            assert_eq!(
                host_jit.decide_data(host_jit.values(&c.json), &mut verdict),
                c.allow,
                "ipe host jit, decision as data: {at}"
            );
            assert_eq!(
                host_jit.decide_json(&c.json),
                c.allow,
                "ipe host jit json: {at}"
            );
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
                cedar.decide_json(&c.cedar_json),
                c.allow,
                "cedar json: {at}"
            );
            let input = RegoEngine::input(&c.json);
            assert_eq!(
                RegoEngine::decide(&mut vm, &input),
                c.allow,
                "regorus: {at}"
            );
            assert_eq!(
                RegoEngine::decide_json(&mut vm, &c.json),
                c.allow,
                "regorus json: {at}"
            );
        }
    }
}

/// The workloads mean what they say: a handful of the generated policies apply.
#[test]
fn policy_sets_apply_a_handful() {
    for n in ipe_benches::SET_SIZES {
        let w = ipe_benches::policy_set(n);
        let interp = Interp::new(&w);
        let ctx = interp.context(&w.case("deny").json);
        let d: ipe_nostd::Decision<{ ipe_benches::LIST }> =
            ipe_nostd::evaluate(&interp.bundle, &ctx);
        assert_eq!(d.matched.len(), ipe_benches::SET_GROUP, "set/{n}");
        assert_eq!(d.violations.len(), 2, "set/{n}");
    }
}
