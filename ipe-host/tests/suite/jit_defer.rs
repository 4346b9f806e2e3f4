//! Issue #15 (compile time): slot reads whose errors the JIT defers to the function's error
//! exit (`jit/codegen/defer.rs`) give the interpreter's outcome, error kind and location
//! included, for every combination of valid, missing, wrong-typed and invalid slot values.

use ipe_host::jit::compile_bundle;
use ipe_host::JitTier;
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::vm::eval_policy_values;
use ipe_nostd::{Bundle, ErrKind, Str, Value};

use crate::common::bundle;

const SOURCE: &str = r#"default allow

schema {
  s: string
  n: int
  b: bool
  e: enum ["l", "m", "h"]
}

policy A:
  "trigger with or, two clauses"
  triggers when s == "x" or n > 3
  requires b and e >= "m"

policy B:
  "trigger with and, one clause with or"
  triggers when e in ["m", "h"] and s != "y"
  requires n <= 4 or not b

policy C:
  "no trigger, comparisons of two slots"
  requires s == "x" and n >= 2 and b
"#;

/// The values every slot takes: each kind's valid values, strings with and without a
/// symbol, enum ranks in and out of range, missing and invalid values of several kinds.
fn pool<'a>(bundle: &Bundle<'a>) -> Vec<Value<'a>> {
    let sym = |t: &str| {
        (0..bundle.symbol_count() as u32)
            .find(|&i| bundle.symbol(i) == t)
            .unwrap_or(NO_SYMBOL)
    };
    let s = |t: &'static str| {
        Value::Str(Str {
            text: t,
            sym: sym(t),
        })
    };
    vec![
        s("x"),
        s("y"),
        s("m"),
        Value::Str(Str {
            text: "elsewhere",
            sym: NO_SYMBOL,
        }),
        Value::Int(5),
        Value::Int(2),
        Value::Bool(true),
        Value::Bool(false),
        Value::Enum(1),
        Value::Enum(7),
        Value::Missing,
        Value::Invalid(ErrKind::TooLong),
        Value::Invalid(ErrKind::BadTimestamp),
        Value::Invalid(ErrKind::MissingEntry),
    ]
}

#[test]
fn issue15_deferred_read_errors_match_the_interpreter() {
    let bytes = bundle(SOURCE);
    let b = Bundle::from_bytes(&bytes).expect("verifies");
    let pool = pool(&b);
    let n = b.slot_count();
    assert_eq!(n, 4, "four scalar slots");
    for tier in [JitTier::Baseline, JitTier::Optimized] {
        let set = compile_bundle(&b, tier).expect("compiles");
        let mut values = vec![Value::Missing; n];
        let mut idx = vec![0usize; n];
        let mut checked = 0usize;
        'all: loop {
            for (v, &i) in values.iter_mut().zip(&idx) {
                *v = pool[i];
            }
            for p in 0..b.policy_count() {
                let id = PolicyId::try_from(p).expect("policy id");
                let want = eval_policy_values(&b, id, &values);
                let got = set.eval(id, &values).expect("compiled");
                assert_eq!(got, want, "{tier:?} policy {p} on {values:?}");
                checked += 1;
            }
            for i in idx.iter_mut() {
                *i += 1;
                if *i < pool.len() {
                    continue 'all;
                }
                *i = 0;
            }
            break;
        }
        assert_eq!(checked, pool.len().pow(4) * b.policy_count());
    }
}
