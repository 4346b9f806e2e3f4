//! Issue 13, nested lists (runtime layer): a hand-assembled bundle whose list of records
//! `h.boxes` has two list fields, `ports` (the nested list of ints `h.boxes[].ports`, max 3)
//! and `subs` (the nested list of records `h.boxes[].subs { size: int }`, max 2), with
//! policies using `in.field`, `count.field`, `any.field` and `all.field`. The three request
//! readers, the interpreter and both JIT tiers must agree with the expectations below,
//! derived from the instructions' documented semantics (`ipe-nostd/src/isa.rs`).

use bumpalo::Bump;
use ipe_compile::lower::encode;
use ipe_host::{Field, PolicyEngine};
use ipe_nostd::format::{
    kind, Body, ClauseFields, ConstFields, FieldFields, PolicyFields, SlotFields, Span, NONE_U16,
    NONE_U32,
};
use ipe_nostd::isa::{BodyLen, CmpOp, Const, Field as F, Instr, Level, Slot};
use ipe_nostd::{Bundle, Value};

fn code(instrs: &[Instr]) -> Vec<u8> {
    instrs
        .iter()
        .flat_map(|i| i.encode().as_bytes().to_vec())
        .collect()
}

/// The policies: (name, clause code). Each `requires` its one clause.
fn policies() -> Vec<(&'static str, Vec<u8>)> {
    let boxes = Slot(0);
    let (ports, subs) = (F(1), F(2));
    vec![
        // any(b in h.boxes where any(s in b.subs where s.size > 5))
        (
            "BigSub",
            code(&[
                Instr::Any {
                    list: boxes,
                    body: BodyLen(13),
                },
                Instr::AnyField {
                    level: Level(0),
                    field: subs,
                    body: BodyLen(7),
                },
                Instr::CmpFieldConst {
                    op: CmpOp::Gt,
                    level: Level(1),
                    field: F(0),
                    konst: Const(0),
                },
            ]),
        ),
        // all(b in h.boxes where 443 in b.ports)
        (
            "Https",
            code(&[
                Instr::All {
                    list: boxes,
                    body: BodyLen(7),
                },
                Instr::LoadConst { konst: Const(1) },
                Instr::InField {
                    level: Level(0),
                    field: ports,
                },
            ]),
        ),
        // all(b in h.boxes where b.ports.count < 2)
        (
            "FewPorts",
            code(&[
                Instr::All {
                    list: boxes,
                    body: BodyLen(11),
                },
                Instr::CountField {
                    level: Level(0),
                    field: ports,
                    body: BodyLen(0),
                },
                Instr::LoadConst { konst: Const(2) },
                Instr::Cmp { op: CmpOp::Lt },
            ]),
        ),
        // all(b in h.boxes where all(s in b.subs where s.size < 443))
        (
            "SmallSubs",
            code(&[
                Instr::All {
                    list: boxes,
                    body: BodyLen(13),
                },
                Instr::AllField {
                    level: Level(0),
                    field: subs,
                    body: BodyLen(7),
                },
                Instr::CmpFieldConst {
                    op: CmpOp::Lt,
                    level: Level(1),
                    field: F(0),
                    konst: Const(1),
                },
            ]),
        ),
    ]
}

fn bundle_bytes() -> Vec<u8> {
    let mut text = String::new();
    let mut span = |s: &str| {
        let off = text.len() as u32;
        text.push_str(s);
        Span {
            off,
            len: s.len() as u32,
        }
    };
    let slot = |path, kind, elem_kind, first_field, field_count, max_len| SlotFields {
        path,
        kind,
        elem_kind,
        enum_id: NONE_U16,
        first_field,
        field_count,
        max_len,
    };
    let slots = [
        slot(span("h.boxes"), kind::RECORDS, 0, 0, 3, 4),
        slot(span("h.boxes[].ports"), kind::LIST, kind::INT, 0, 0, 3),
        slot(span("h.boxes[].subs"), kind::RECORDS, 0, 3, 1, 2),
    ];
    let fields = [
        FieldFields {
            path: span("name"),
            kind: kind::STR,
            enum_id: NONE_U16,
        },
        FieldFields {
            path: span("ports"),
            kind: kind::LIST,
            enum_id: 1,
        },
        FieldFields {
            path: span("subs"),
            kind: kind::RECORDS,
            enum_id: 2,
        },
        FieldFields {
            path: span("size"),
            kind: kind::INT,
            enum_id: NONE_U16,
        },
    ];
    let consts = [5, 443, 2].map(|v| ConstFields {
        kind: kind::INT,
        value: v,
        enum_id: NONE_U16,
    });
    let mut all_code = Vec::new();
    let mut clauses = Vec::new();
    let mut pols = Vec::new();
    for (i, (name, c)) in policies().into_iter().enumerate() {
        let at = Span {
            off: all_code.len() as u32,
            len: c.len() as u32,
        };
        all_code.extend_from_slice(&c);
        clauses.push(ClauseFields {
            code: at,
            text: span("clause"),
            reports_count: 0,
            witness: 0,
        });
        pols.push((span(name), span("intent"), i as u32));
    }
    let cat = |recs: Vec<Vec<u8>>| recs.concat();
    let slots_b = cat(slots.iter().map(|r| r.to_bytes().to_vec()).collect());
    let fields_b = cat(fields.iter().map(|r| r.to_bytes().to_vec()).collect());
    let consts_b = cat(consts.iter().map(|r| r.to_bytes().to_vec()).collect());
    let clauses_b = cat(clauses.iter().map(|r| r.to_bytes().to_vec()).collect());
    let unindexed: Vec<u8> = (0..pols.len() as u16).flat_map(u16::to_le_bytes).collect();
    let mut body = Body {
        default: 0,
        text: &text,
        symbols: &[],
        slots: &slots_b,
        fields: &fields_b,
        enums: &[],
        members: &[],
        consts: &consts_b,
        sets: &[],
        set_keys: &[],
        code: &all_code,
        policies: &[],
        clauses: &clauses_b,
        metadata: &[],
        index_groups: &[],
        index_buckets: &[],
        index_policies: &[],
        unindexed: &unindexed,
        reason_parts: &[],
        ip_ranges: &[],
        regexes: &[],
        slot_defaults: &[],
        int_ranges: &[],
    };
    let mut pol_b = Vec::new();
    for (name, intent, i) in &pols {
        let cl = clauses[*i as usize].code;
        let cost =
            ipe_nostd::verify::block_cost(&body, &all_code[cl.off as usize..][..cl.len as usize])
                .expect("the clause verifies");
        let p = PolicyFields {
            name: *name,
            intent: *intent,
            reason: Span {
                off: NONE_U32,
                len: 0,
            },
            trigger: Span { off: 0, len: 0 },
            first_clause: *i,
            clause_count: 1,
            body_kind: 0,
            first_meta: 0,
            meta_count: 0,
            cost_bound: cost as u32,
            group: 0,
            part_count: 0,
            first_part: 0,
        };
        pol_b.extend_from_slice(&p.to_bytes());
    }
    body.policies = &pol_b;
    encode(&body)
}

/// Requests and, by hand, the violated policies and the errors (policy: text).
const CASES: &[(&str, &[&str], &[&str])] = &[
    // One box with port 443 and a sub of size 7: every clause holds.
    (
        r#"{"h": {"boxes": [{"name": "a", "ports": [443], "subs": [{"size": 7}]}]}}"#,
        &[],
        &[],
    ),
    // Empty boxes: any is false, the alls are true.
    (r#"{"h": {"boxes": []}}"#, &["BigSub"], &[]),
    // Empty nested lists: no sub above 5, 443 not in [], 0 ports < 2, all over [] is true.
    (
        r#"{"h": {"boxes": [{"ports": [], "subs": []}]}}"#,
        &["BigSub", "Https"],
        &[],
    ),
    // Two ports (FewPorts false), one sub of 500 (SmallSubs false, BigSub true).
    (
        r#"{"h": {"boxes": [{"ports": [80, 443], "subs": [{"size": 500}]}]}}"#,
        &["FewPorts", "SmallSubs"],
        &[],
    ),
    // Nested lists over their max: errors name the nested list.
    (
        r#"{"h": {"boxes": [{"ports": [1, 2, 3, 4], "subs": [{"size": 1}, {"size": 2}, {"size": 3}]}]}}"#,
        &[],
        &[
            "BigSub: attribute `h.boxes[].subs` has more than 2 elements",
            "Https: attribute `h.boxes[].ports` has more than 3 elements",
            "FewPorts: attribute `h.boxes[].ports` has more than 3 elements",
            "SmallSubs: attribute `h.boxes[].subs` has more than 2 elements",
        ],
    ),
    // A missing inner field and missing nested lists.
    (
        r#"{"h": {"boxes": [{"subs": [{}]}]}}"#,
        &[],
        &[
            "BigSub: missing attribute `h.boxes[].subs[].size`",
            "Https: missing attribute `h.boxes[].ports`",
            "FewPorts: missing attribute `h.boxes[].ports`",
            "SmallSubs: missing attribute `h.boxes[].subs[].size`",
        ],
    ),
    // An invalid element of a nested list of scalars makes that list invalid.
    (
        r#"{"h": {"boxes": [{"ports": [443, "x"], "subs": [{"size": 9}]}]}}"#,
        &[],
        &[
            "Https: attribute `h.boxes[].ports` has the wrong type: expected int, got string",
            "FewPorts: attribute `h.boxes[].ports` has the wrong type: expected int, got string",
        ],
    ),
    // An outer element that is not a record: its nested lists cannot be read either.
    (
        r#"{"h": {"boxes": [3]}}"#,
        &[],
        &[
            "BigSub: attribute `h.boxes[].subs` cannot be read: element is an int, expected a record",
            "Https: attribute `h.boxes[].ports` cannot be read: element is an int, expected a record",
            "FewPorts: attribute `h.boxes[].ports` cannot be read: element is an int, expected a record",
            "SmallSubs: attribute `h.boxes[].subs` cannot be read: element is an int, expected a record",
        ],
    ),
    // A nested list that is not a list, and a top-level key naming the nested slot's path
    // (never read: nested slots are read only inside their parent's elements).
    (
        r#"{"h": {"boxes": [{"ports": 443, "subs": [{"size": 9}]}], "boxes[]": {"ports": [443]}}}"#,
        &[],
        &[
            "Https: attribute `h.boxes[].ports` has the wrong type: expected list, got int",
            "FewPorts: attribute `h.boxes[].ports` has the wrong type: expected list, got int",
        ],
    ),
];

fn summary(r: &ipe_host::Report) -> (Vec<String>, Vec<String>) {
    (
        r.violations.iter().map(|v| v.policy.clone()).collect(),
        r.errors
            .iter()
            .map(|e| format!("{}: {}", e.policy, e.error))
            .collect(),
    )
}

#[test]
fn issue13_nested_lists_read_and_decide_the_same_in_every_reader_and_engine() {
    let bytes = bundle_bytes();
    let bundle = Bundle::from_bytes(&bytes).expect("the bundle verifies");
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    let set = engine.load();
    for (json, violated, errors) in CASES {
        let want = (
            violated.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            errors.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        );
        let stream = set.report(&set.evaluate_json(json).expect("an object"));
        assert_eq!(summary(&stream), want, "one-pass reader: {json}");
        let value = ipe_host::request::parse_value(json).expect("valid JSON");
        let by_value = ipe_host::evaluate_json(&bundle, &value);
        assert_eq!(summary(&by_value), want, "serde_json::Value reader: {json}");
        #[cfg(feature = "jit")]
        for tier in [ipe_host::JitTier::Baseline, ipe_host::JitTier::Optimized] {
            let jit = ipe_testgen::backend::Jit::new(bundle.clone(), tier, true)
                .expect("every policy compiles");
            let got = ipe_testgen::backend::Backend::decide(&jit, &value).expect("agrees");
            assert_eq!(got, by_value.to_json(), "JIT {tier:?}: {json}");
        }
    }
}

#[test]
fn issue13_a_builder_sets_nested_lists_as_field_values() {
    let bytes = bundle_bytes();
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let set = engine.load();
    let arena = Bump::new();
    // The first case: ports [443], subs [{size: 7}] (one field per sub element).
    let ports = [Value::Int(443)];
    let subs = [Value::Int(7)];
    let mut req = set.request(&arena);
    req.records(
        "h.boxes",
        [[
            ("name", Field::Str("a")),
            ("ports", Field::Nested(Value::List(&ports))),
            ("subs", Field::Nested(Value::Records(&subs))),
        ]],
    );
    let r = set.report(&req.evaluate().expect("no attribute set twice"));
    assert_eq!(summary(&r), (vec![], vec![]));
    // A scalar given for a nested list, and a nested list for a scalar field.
    let mut req = set.request(&arena);
    req.records(
        "h.boxes",
        [[
            ("name", Field::Nested(Value::List(&ports))),
            ("ports", Field::Int(443)),
            ("subs", Field::Nested(Value::Records(&subs))),
        ]],
    );
    let r = set.report(&req.evaluate().expect("no attribute set twice"));
    assert_eq!(
        summary(&r).1,
        [
            "Https: attribute `h.boxes[].ports` has the wrong type: expected list, got int",
            "FewPorts: attribute `h.boxes[].ports` has the wrong type: expected list, got int",
        ]
    );
}
