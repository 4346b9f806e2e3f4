//! Issue #15, session 13: aggregates compiled as a fast copy (no error values, no helper
//! calls) that leaves for an exact copy at its first failed read (`jit/codegen/fast.rs`), and
//! text equality without a helper call for every length, give the interpreter's outcome
//! (errors, counts and witnesses included) for element fields and slots that are valid,
//! missing, wrong-typed or invalid, in every position of the list, at both tiers.

use ipe_host::jit::{compile_bundle, JitSet};
use ipe_host::JitTier;
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::vm::eval_policy_values;
use ipe_nostd::{Bundle, ErrKind, Str, Value};

use crate::common::bundle;

const SOURCE: &str = r#"default allow

schema {
  who: string
  items: list of item {
    name: string
    n: int
    lvl: enum ["l", "m", "h"]
  }
}

policy Count:
  "a count of elements whose two fields hold, one compared with a slot"
  requires items.count >= 2 where item.name != who and item.n > 2

policy Any:
  "any with or: a true operand absorbs the other's error"
  requires items.any where item.lvl >= "m" or item.name == "x"

policy All:
  "all with a witness"
  requires items.all where item.n <= 4 and item.name != "zzzzzzzzzzzzzzzzzzzzzz"

policy Nested:
  "an aggregate inside an aggregate's filter, reading the outer element"
  requires items.count >= 1 where item.n > 0 and any(j in items where j.name == item.name and j.n != item.n)
"#;

/// Texts of every length class the native comparison handles (0..=3, 4..=7, 8..=16, longer),
/// pairs that differ only in their last byte, and texts with a symbol.
const TEXTS: [&str; 12] = [
    "",
    "ab",
    "abc",
    "abcd",
    "abcdefg",
    "security",
    "securitz",
    "abcdefghijklmnop",
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "abcdefghijklmnopqrstuvwxyz0123456788",
    "x",
    "zzzzzzzzzzzzzzzzzzzzzz",
];

/// Checks every policy of `b` on `values` in each of `sets` against the interpreter; returns
/// how many (policy, set) pairs it compared.
fn agree(b: &Bundle<'_>, sets: &[JitSet], values: &[Value<'_>]) -> usize {
    let mut checked = 0;
    for p in 0..b.policy_count() {
        let id = PolicyId::try_from(p).expect("policy id");
        let want = eval_policy_values(b, id, values);
        for set in sets {
            let got = set.eval(id, values).expect("compiled");
            assert_eq!(got, want, "{:?} policy {p} on {values:?}", set.tier());
            checked += 1;
        }
    }
    checked
}

fn text<'a>(b: &Bundle<'a>, t: &'static str) -> Value<'static> {
    let sym = (0..b.symbol_count() as u32)
        .find(|&i| b.symbol(i) == t)
        .unwrap_or(NO_SYMBOL);
    Value::Str(Str { text: t, sym })
}

/// A small deterministic generator (no dependency on the random ones).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn issue15_fast_aggregates_match_the_interpreter() {
    let bytes = bundle(SOURCE);
    let b = Bundle::from_bytes(&bytes).expect("verifies");
    let who = usize::from(b.slot("who").expect("who"));
    let items = usize::from(b.slot("items").expect("items"));
    let stride = usize::from(b.slot_info(b.slot("items").expect("items")).fields);
    assert_eq!(stride, 3, "three fields per element");
    let name_f = usize::from(
        b.field(b.slot("items").expect("items"), "name")
            .expect("name"),
    );
    let n_f = usize::from(b.field(b.slot("items").expect("items"), "n").expect("n"));
    let lvl_f = usize::from(
        b.field(b.slot("items").expect("items"), "lvl")
            .expect("lvl"),
    );
    let bad = [
        Value::Missing,
        Value::Invalid(ErrKind::TooLong),
        Value::Invalid(ErrKind::MissingEntry),
        Value::Bool(true),
    ];
    let names: Vec<Value<'static>> = TEXTS
        .iter()
        .map(|t| text(&b, t))
        .chain(bad.iter().copied())
        .collect();
    let ns: Vec<Value<'static>> = [1, 3, 5, -2]
        .into_iter()
        .map(Value::Int)
        .chain(bad.iter().copied())
        .chain([text(&b, "x")])
        .collect();
    let lvls: Vec<Value<'static>> = [
        Value::Enum(0),
        Value::Enum(2),
        Value::Enum(9),
        text(&b, "m"),
    ]
    .into_iter()
    .chain(bad.iter().copied())
    .collect();
    let sets = [
        compile_bundle(&b, JitTier::Baseline).expect("compiles"),
        compile_bundle(&b, JitTier::Optimized).expect("compiles"),
    ];
    let mut rng = Lcg(15);
    let mut checked = 0usize;
    for round in 0..4000 {
        let len = rng.next(5);
        // Mostly valid fields (the fast copy runs to the end), sometimes one failing read.
        let pick = |rng: &mut Lcg, pool: &[Value<'static>], valid: usize| {
            if rng.next(4) == 0 {
                pool[rng.next(pool.len())]
            } else {
                pool[rng.next(valid)]
            }
        };
        let mut elems = Vec::with_capacity(len * stride);
        for _ in 0..len {
            let mut e = [Value::Missing; 3];
            e[name_f] = pick(&mut rng, &names, TEXTS.len());
            e[n_f] = pick(&mut rng, &ns, 4);
            e[lvl_f] = pick(&mut rng, &lvls, 4);
            elems.extend_from_slice(&e);
        }
        let mut values = vec![Value::Missing; b.slot_count()];
        values[who] = pick(&mut rng, &names, TEXTS.len());
        values[items] = match round % 50 {
            0 => Value::Missing,
            1 => Value::Int(3),
            _ => Value::Records(&elems),
        };
        checked += agree(&b, &sets, &values);
    }
    assert_eq!(checked, 4000 * 4 * 2);
}

/// Issue #15, session 14: triggers and clauses of `and`/`or` chains whose short-circuits
/// leave straight for the outcome, enum reads through the rank table, set membership of
/// strings without a symbol, and request strings compared with each other by symbol and
/// text.
const CHAINS: &str = r#"default allow

schema {
  kind: string
  env: string
  owner: string
  risk: enum ["low", "medium", "high", "critical"]
  n: int
  on: bool
  items: list of item {
    name: string
    lvl: enum ["low", "medium", "high", "critical"]
  }
}

policy And:
  "an and chain trigger, an or chain clause"
  triggers when kind == "Deployment" and env in ["production", "staging"] and risk >= "medium"
  requires n <= 3 or on or owner == kind

policy Or:
  "an or chain trigger with a nested and"
  triggers when kind == "Job" or (risk < "high" and not on) or env == owner
  requires owner != env and n > 0

policy Count:
  "a count whose filter is an and chain with an or inside"
  triggers when on or n > 1
  requires items.count >= 2 where item.name != owner and (item.lvl >= "high" or item.name == "Job")

policy Any:
  "any with an or chain"
  requires items.any where item.lvl == "low" or item.name == env or item.name == "staging"

policy All:
  "all with an and chain"
  requires items.all where item.lvl <= "high" and item.name != kind

policy Denies:
  "a denying trigger"
  triggers when risk == "critical" and owner != "root" and n >= 0
  denies
"#;

#[test]
fn issue15_short_circuits_and_enum_tables_match_the_interpreter() {
    let bytes = bundle(CHAINS);
    let b = Bundle::from_bytes(&bytes).expect("verifies");
    let slot = |n: &str| usize::from(b.slot(n).expect("slot"));
    let items_s = b.slot("items").expect("items");
    let stride = usize::from(b.slot_info(items_s).fields);
    let name_f = usize::from(b.field(items_s, "name").expect("name"));
    let lvl_f = usize::from(b.field(items_s, "lvl").expect("lvl"));
    let bad = [
        Value::Missing,
        Value::Invalid(ErrKind::TooLong),
        Value::Int(1),
    ];
    // Texts with a symbol (constants, enum members) and without, equal texts without one.
    let texts: Vec<Value<'static>> = [
        "Deployment",
        "Job",
        "production",
        "staging",
        "medium",
        "root",
        "security",
        "platform",
        "",
    ]
    .iter()
    .map(|t| text(&b, t))
    .chain([Value::Str(Str {
        text: "Job",
        sym: NO_SYMBOL,
    })])
    .collect();
    // Enum values: members as strings (the host's form), ranks, a string with a symbol
    // that is no member, strings without a symbol, ranks out of range.
    let enums: Vec<Value<'static>> = ["low", "medium", "high", "critical"]
        .iter()
        .map(|t| text(&b, t))
        .chain([
            Value::Enum(0),
            Value::Enum(3),
            text(&b, "Deployment"),
            text(&b, "extreme"),
            Value::Str(Str {
                text: "high",
                sym: NO_SYMBOL,
            }),
            Value::Enum(4),
            Value::Enum(600),
        ])
        .collect();
    let ints = [Value::Int(-1), Value::Int(0), Value::Int(2), Value::Int(5)];
    let bools = [Value::Bool(false), Value::Bool(true)];
    let sets = [
        compile_bundle(&b, JitTier::Baseline).expect("compiles"),
        compile_bundle(&b, JitTier::Optimized).expect("compiles"),
    ];
    let mut rng = Lcg(14);
    let pick = |rng: &mut Lcg, pool: &[Value<'static>]| {
        if rng.next(6) == 0 {
            bad[rng.next(bad.len())]
        } else {
            pool[rng.next(pool.len())]
        }
    };
    let mut checked = 0usize;
    for _ in 0..6000 {
        let len = rng.next(4);
        let mut elems = Vec::with_capacity(len * stride);
        for _ in 0..len {
            let mut e = vec![Value::Missing; stride];
            e[name_f] = pick(&mut rng, &texts);
            e[lvl_f] = pick(&mut rng, &enums);
            elems.extend_from_slice(&e);
        }
        let mut values = vec![Value::Missing; b.slot_count()];
        values[slot("kind")] = pick(&mut rng, &texts);
        values[slot("env")] = pick(&mut rng, &texts);
        values[slot("owner")] = pick(&mut rng, &texts);
        values[slot("risk")] = pick(&mut rng, &enums);
        values[slot("n")] = pick(&mut rng, &ints);
        values[slot("on")] = pick(&mut rng, &bools);
        values[slot("items")] = Value::Records(&elems);
        checked += agree(&b, &sets, &values);
    }
    assert_eq!(checked, 6000 * 6 * 2);
}
