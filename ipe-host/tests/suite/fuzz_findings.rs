//! Minimal reproducers of the JIT bugs the fuzz targets (`fuzz/`) found, one named test each.
//! Each was fixed in the commit that turned its test on.

use bumpalo::Bump;
use ipe_host::jit::compile_bundle;
use ipe_host::JitTier;
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::{vm, Bundle, Context};

/// fuzz `bundle` and `diff`: a list of scalars with several invalid elements. Since 71af9b2 the
/// interpreter reports the smallest element error (ipe-nostd/src/vm.rs, list loading,
/// `min_err`), like the reference evaluator; the JIT (ipe-host/src/jit) still reports the first
/// invalid element's, so `{"l": [true, 1]}` as `list of string` gives `got int` (interpreter)
/// against `got bool` (JIT, both tiers). Fixed in the JIT's list loading (`jit/shapes.rs`).
#[test]
fn jit_scalar_list_error_is_the_smallest() {
    let src = "schema {\n  l: list of string\n}\npolicy P:\n  \"i\"\n  requires l.count > 5\n";
    let program = ipe_compile::compile_str(&[("fuzz.ipe", src)]).expect("compiles");
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let request = serde_json::json!({"l": [true, 1]});
    let arena = Bump::new();
    let mut ctx = Context::<16>::new();
    ipe_host::request::fill(&bundle, &request, &arena, &mut ctx);
    let interp = vm::eval_policy_values(&bundle, PolicyId::from(0u16), ctx.values());
    for tier in [JitTier::Baseline, JitTier::Optimized] {
        let set = compile_bundle(&bundle, tier).expect("JIT compiles");
        assert_eq!(set.eval(0, ctx.values()), Some(interp), "{tier:?}");
    }
}
