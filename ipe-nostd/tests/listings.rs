//! Listing-level opcode tests: short programs in the disassembler's text form, each with the
//! verifier's verdict and, when it verifies, its evaluation by the interpreter on small
//! requests. The program is the one requirement clause of a one-policy bundle (see
//! `support::bundle_bytes`): `true` is a satisfied clause, `false count N` a violated one that
//! noted a count, `error slot S[.F] KIND` an attribute error.
//!
//! Fixture slots: 0 `a.env` string, 1 `b.n` int, 2 `c.flag` bool, 3 `d.level` enum
//! `["low", "high"]`, 4 `e.tags` list of strings, 5 `f.items` list of records `{ name: string,
//! size: int }`, 6 `g.nums` list of ints (lists at most 4 long), 7 `h.boxes` list of records
//! `{ ports: list of int max 3, subs: list of { size: int } max 2 }` whose fields are the
//! nested lists 8 `h.boxes[].ports` and 9 `h.boxes[].subs` (issue #13). Constants: 0 `"prod"`, 1 `5`,
//! 2 `true`, 3 `high`, 4 `"pr"`, 5 `10`, 6 `false`, 7 `1`, 8 `2` (set 0 with constants 7 and 8
//! is the lookup table `{"dev": 1, "prod": 2}`). Sets: 0 `{"dev", "prod"}`, 1 `{1, 5, 10}`,
//! 2 the pair set `{("dev", "dev"), ("dev", "prod"), ("prod", "prod")}` (issue #13).

mod support;

use std::collections::BTreeSet;

use ipe_nostd::isa::{Instr, Opcode};
use ipe_nostd::verify::CodeError;
use support::{assemble, disasm, eval, verify, V};

struct Case {
    name: &'static str,
    listing: &'static str,
    runs: Vec<(Vec<(u16, V)>, &'static str)>,
}

fn ok(name: &'static str, listing: &'static str, runs: Vec<(Vec<(u16, V)>, &'static str)>) -> Case {
    Case {
        name,
        listing,
        runs,
    }
}

/// `h.boxes` elements: each one's ports and the sizes of its subs.
fn boxes(els: &[(&[i64], &[Option<i64>])]) -> V {
    V::R(
        els.iter()
            .flat_map(|(ports, subs)| {
                [
                    V::L(ports.iter().map(|p| V::I(*p)).collect()),
                    V::R(subs.iter().map(|s| s.map_or(V::Missing, V::I)).collect()),
                ]
            })
            .collect(),
    )
}

fn items(sizes: &[Option<i64>]) -> V {
    V::R(
        sizes
            .iter()
            .flat_map(|s| [V::S("x"), s.map_or(V::Missing, V::I)])
            .collect(),
    )
}

fn cases() -> Vec<Case> {
    use V::*;
    vec![
        ok(
            "load.slot",
            "load.slot slot 2",
            vec![
                (vec![(2, B(true))], "true"),
                (vec![(2, B(false))], "false"),
                (vec![], "error slot 2 Missing"),
            ],
        ),
        ok("load.const", "load.const const 6", vec![(vec![], "false")]),
        ok(
            "cmp",
            "load.slot slot 1
             load.const const 1
             cmp <",
            vec![
                (vec![(1, I(3))], "true"),
                (vec![(1, I(5))], "false"),
                (vec![], "error slot 1 Missing"),
            ],
        ),
        ok(
            "cmp.slot.const on strings",
            "cmp.slot.const == slot 0 const 0",
            vec![
                (vec![(0, S("prod"))], "true"),
                (vec![(0, S("dev"))], "false"),
                (vec![(0, S("not a symbol"))], "false"),
            ],
        ),
        ok(
            "cmp.slot.const on an enum",
            "cmp.slot.const >= slot 3 const 3",
            vec![
                (vec![(3, E(1))], "true"),
                (vec![(3, E(0))], "false"),
                (vec![(3, S("high"))], "true"),
                (vec![(3, S("medium"))], "error slot 3 NotInEnum"),
            ],
        ),
        ok(
            "str",
            "load.slot slot 0
             load.const const 4
             str starts_with",
            vec![
                (vec![(0, S("prod"))], "true"),
                (vec![(0, S("dev"))], "false"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "issue14 str like (a pattern without wildcards is an exact match)",
            "load.slot slot 0
             load.const const 4
             str like",
            vec![
                (vec![(0, S("pr"))], "true"),
                (vec![(0, S("prod"))], "false"),
                (
                    vec![(0, I(1))],
                    "error slot 0 WrongType { expected: Str, got: Int }",
                ),
            ],
        ),
        #[cfg(feature = "regex")]
        ok(
            "issue14 str.match (regex 0 `^p[a-z]*d$`, unanchored search)",
            "load.slot slot 0
             str.match re 0",
            vec![
                (vec![(0, S("prod"))], "true"),
                (vec![(0, S("pd"))], "true"),
                (vec![(0, S("prod2"))], "false"),
                (vec![(0, S("dev"))], "false"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "in.set",
            "load.slot slot 1
             in.set set 1",
            vec![(vec![(1, I(5))], "true"), (vec![(1, I(2))], "false")],
        ),
        ok(
            "in.slot.set",
            "in.slot.set slot 0 set 0",
            vec![
                (vec![(0, S("dev"))], "true"),
                (vec![(0, S("pr"))], "false"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "in.list",
            "load.const const 0
             in.list slot 4",
            vec![
                (vec![(4, L(vec![S("dev"), S("prod")]))], "true"),
                (vec![(4, L(vec![S("dev")]))], "false"),
                (vec![], "error slot 4 Missing"),
                (
                    vec![(4, L(vec![S("a"), S("b"), S("c"), S("d"), S("e")]))],
                    "error slot 4 TooLong",
                ),
            ],
        ),
        ok(
            "has",
            "has slot 1",
            vec![(vec![(1, I(1))], "true"), (vec![], "false")],
        ),
        ok(
            "not",
            "has slot 1
             not",
            vec![(vec![(1, I(1))], "false"), (vec![], "true")],
        ),
        ok(
            "jump.false and",
            "0000: has slot 1
             0003: jump.false -> 0010
             0006: load.slot slot 2
             0009: and",
            vec![
                (vec![], "false"),
                (vec![(1, I(1)), (2, B(true))], "true"),
                (vec![(1, I(1)), (2, B(false))], "false"),
                (vec![(1, I(1))], "error slot 2 Missing"),
            ],
        ),
        ok(
            "jump.true or",
            "0000: has slot 1
             0003: jump.true -> 0010
             0006: load.slot slot 2
             0009: or",
            vec![
                (vec![(1, I(1))], "true"),
                (vec![(2, B(true))], "true"),
                (vec![(2, B(false))], "false"),
                (vec![], "error slot 2 Missing"),
            ],
        ),
        ok(
            "count of a list, noted",
            "count slot 6 body 0
             note.count
             load.const const 1
             cmp >=",
            vec![
                (vec![(6, L(vec![I(1), I(2)]))], "false count 2"),
                (
                    vec![(6, L(vec![I(1), I(2), I(3), I(4), I(5)]))],
                    "error slot 6 TooLong",
                ),
                (
                    vec![(6, L(vec![I(1), S("two")]))],
                    "error slot 6 WrongType { expected: Int, got: Str }",
                ),
            ],
        ),
        ok(
            "issue14 sub of two ints",
            "load.slot slot 1
             load.const const 1
             sub
             load.const const 5
             cmp ==",
            vec![
                (vec![(1, I(15))], "true"),
                (vec![(1, I(14))], "false"),
                (vec![(1, I(i64::MIN))], "false"),
                (vec![], "error slot 1 Missing"),
                (
                    vec![(1, S("x"))],
                    "error slot 1 WrongType { expected: Int, got: Str }",
                ),
            ],
        ),
        ok(
            "issue14 time.hour in UTC",
            "load.slot slot 1
             time.hour
             load.const const 1
             cmp ==",
            vec![
                (vec![(1, I(5 * 3_600_000))], "true"),
                (vec![(1, I(6 * 3_600_000 - 1))], "true"),
                (vec![(1, I(6 * 3_600_000))], "false"),
                // 1969-12-31T05:00:00Z: the hour of a negative epoch value.
                (vec![(1, I(-19 * 3_600_000))], "true"),
                (vec![], "error slot 1 Missing"),
            ],
        ),
        ok(
            "issue14 time.weekday, Monday 1 to Sunday 7",
            "load.slot slot 1
             time.weekday
             load.const const 1
             cmp ==",
            vec![
                // 1970-01-02 was a Friday (5), 1970-01-01 a Thursday.
                (vec![(1, I(86_400_000))], "true"),
                (vec![(1, I(2 * 86_400_000 - 1))], "true"),
                (vec![(1, I(0))], "false"),
                // 1969-12-26, a Friday.
                (vec![(1, I(-6 * 86_400_000))], "true"),
                (
                    vec![(1, S("x"))],
                    "error slot 1 WrongType { expected: Int, got: Str }",
                ),
            ],
        ),
        ok(
            "issue14 time.of_day",
            "load.slot slot 1
             time.of_day
             load.const const 5
             cmp ==",
            vec![
                (vec![(1, I(86_400_010))], "true"),
                (vec![(1, I(-86_400_000 + 10))], "true"),
                (vec![(1, I(10 - 1))], "false"),
                (vec![], "error slot 1 Missing"),
            ],
        ),
        ok(
            "issue13 add of two counts, noted",
            "count slot 6 body 0
             count slot 4 body 0
             add
             note.count
             load.const const 1
             cmp <",
            vec![
                (
                    vec![(6, L(vec![I(1), I(2)])), (4, L(vec![S("a"), S("b")]))],
                    "true",
                ),
                (
                    vec![(6, L(vec![I(1), I(2), I(3)])), (4, L(vec![S("a"), S("b")]))],
                    "false count 5",
                ),
                (vec![(6, L(vec![I(1), I(2)]))], "error slot 4 Missing"),
                (vec![(4, L(vec![S("a")]))], "error slot 6 Missing"),
                (vec![], "error slot 4 Missing"),
                (
                    vec![(6, L(vec![I(1), I(2), I(3), I(4), I(5)])), (4, L(vec![]))],
                    "error slot 6 TooLong",
                ),
            ],
        ),
        ok(
            "issue14 arith: checked multiplication",
            "load.slot slot 1
             load.const const 1
             arith * slot 1
             load.const const 5
             cmp ==",
            vec![
                (vec![(1, I(2))], "true"),
                (vec![(1, I(3))], "false"),
                (vec![], "error slot 1 Missing"),
                (vec![(1, I(i64::MAX))], "error slot 1 Overflow"),
            ],
        ),
        ok(
            "issue14 arith: division by zero and unary abs",
            "load.const const 5
             load.slot slot 1
             arith / slot 1
             arith abs slot 1
             load.const const 5
             cmp ==",
            vec![
                (vec![(1, I(1))], "true"),
                (vec![(1, I(-1))], "true"),
                (vec![(1, I(2))], "false"),
                (vec![(1, I(0))], "error slot 1 DivByZero"),
            ],
        ),
        ok(
            "issue14 str.len counts chars, not bytes",
            "load.slot slot 0
             str.len
             load.const const 1
             cmp ==",
            vec![
                (vec![(0, S("h\u{e9}llo"))], "true"),
                (vec![(0, S("hello"))], "true"),
                (vec![(0, S("prod"))], "false"),
                (vec![(0, S(""))], "false"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "issue14 str lower.starts_with folds the haystack only",
            "load.slot slot 0
             load.const const 4
             str lower.starts_with",
            vec![
                (vec![(0, S("PRod"))], "true"),
                (vec![(0, S("pr"))], "true"),
                (vec![(0, S("P"))], "false"),
                (vec![(0, S("\u{c4}pr"))], "false"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "issue14 str.fold lower.eq: both sides folded",
            "load.slot slot 0
             load.const const 0
             str.fold lower.eq",
            vec![
                (vec![(0, S("PROD"))], "true"),
                (vec![(0, S("pRoD"))], "true"),
                (vec![(0, S("prods"))], "false"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "issue14 str.fold like: a folded glob",
            "load.slot slot 0
             load.const const 4
             str.fold like",
            vec![
                (vec![(0, S("PR"))], "true"),
                (vec![(0, S("pr"))], "true"),
                (vec![(0, S("PRO"))], "false"),
            ],
        ),
        #[cfg(feature = "regex")]
        ok(
            "issue14 str.match.fold (regex 0 `^p[a-z]*d$` over the folded string)",
            "load.slot slot 0
             str.match.fold re 0",
            vec![
                (vec![(0, S("PROD"))], "true"),
                (vec![(0, S("Pd"))], "true"),
                (vec![(0, S("PRO"))], "false"),
                (vec![(0, S("P\u{c4}D"))], "false"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "issue14 in.range (table 0: 22, 80..90, 8000..8100)",
            "load.slot slot 1
             in.range ranges 0",
            vec![
                (vec![(1, I(22))], "true"),
                (vec![(1, I(21))], "false"),
                (vec![(1, I(80))], "true"),
                (vec![(1, I(90))], "true"),
                (vec![(1, I(91))], "false"),
                (vec![(1, I(8100))], "true"),
                (vec![(1, I(8101))], "false"),
                (vec![], "error slot 1 Missing"),
            ],
        ),
        ok(
            "issue14 str lower.eq against a constant",
            "load.slot slot 0
             load.const const 0
             str lower.eq",
            vec![
                (vec![(0, S("PROD"))], "true"),
                (vec![(0, S("prod"))], "true"),
                (vec![(0, S("prods"))], "false"),
            ],
        ),
        ok(
            "count with a body",
            "count slot 5 body 7
                 cmp.field.const > level 0 field 1 const 1
             note.count
             load.slot slot 1
             cmp <",
            vec![
                (vec![(5, items(&[Some(3), Some(7)])), (1, I(2))], "true"),
                (
                    vec![(5, items(&[Some(6), Some(7), Some(8)])), (1, I(2))],
                    "false count 3",
                ),
                (
                    vec![(5, items(&[Some(3), None])), (1, I(2))],
                    "error slot 5.1 Missing",
                ),
                (vec![(5, items(&[Some(3)]))], "error slot 1 Missing"),
            ],
        ),
        ok(
            "any with load.field",
            "any slot 5 body 9
                 load.field level 0 field 1
                 load.const const 1
                 cmp >",
            vec![
                (vec![(5, items(&[Some(3), Some(7)]))], "true"),
                (vec![(5, items(&[Some(3), Some(4)]))], "false"),
                (vec![(5, items(&[None, Some(7)]))], "true"),
                (vec![(5, items(&[None, Some(4)]))], "error slot 5.1 Missing"),
                (vec![], "error slot 5 Missing"),
            ],
        ),
        ok(
            "all with has.field",
            "all slot 5 body 4
                 has.field level 0 field 1",
            vec![
                (vec![(5, items(&[Some(3), Some(7)]))], "true"),
                (vec![(5, items(&[Some(3), None]))], "false"),
                (vec![(5, items(&[]))], "true"),
            ],
        ),
        ok(
            "cmp.field.slot",
            "any slot 5 body 7
                 cmp.field.slot == level 0 field 1 slot 1",
            vec![
                (vec![(5, items(&[Some(3), Some(7)])), (1, I(7))], "true"),
                (vec![(5, items(&[Some(3), Some(7)])), (1, I(4))], "false"),
                (vec![(5, items(&[Some(3)]))], "error slot 1 Missing"),
            ],
        ),
        ok(
            "issue13 any.field over a nested list of records",
            "any slot 7 body 13
                 any.field level 0 field 1 body 7
                     cmp.field.const > level 1 field 0 const 1",
            vec![
                (vec![(7, boxes(&[(&[], &[Some(3), Some(7)])]))], "true"),
                (vec![(7, boxes(&[(&[], &[Some(3)])]))], "false"),
                (vec![(7, boxes(&[(&[], &[]), (&[], &[Some(9)])]))], "true"),
                (
                    vec![(7, boxes(&[(&[], &[Some(3), None])]))],
                    "error slot 9.0 Missing",
                ),
                (
                    vec![(7, boxes(&[(&[], &[Some(1), Some(2), Some(3)])]))],
                    "error slot 9 TooLong",
                ),
                (
                    vec![(7, V::R(vec![V::L(vec![]), V::Missing]))],
                    "error slot 9 Missing",
                ),
                (vec![], "error slot 7 Missing"),
            ],
        ),
        ok(
            "issue13 all.field and count.field",
            "all slot 7 body 25
                 all.field level 0 field 1 body 7
                     cmp.field.const < level 1 field 0 const 5
                 count.field level 0 field 0 body 0
                 load.const const 1
                 cmp <
                 and",
            vec![
                (vec![(7, boxes(&[(&[1, 2], &[Some(3)])]))], "true"),
                (vec![(7, boxes(&[(&[1], &[Some(3), Some(12)])]))], "false"),
                (vec![(7, boxes(&[]))], "true"),
                (
                    vec![(7, boxes(&[(&[1, 2, 3, 4], &[])]))],
                    "error slot 8 TooLong",
                ),
            ],
        ),
        ok(
            "issue13 count.field with a body",
            "count slot 7 body 18
                 count.field level 0 field 1 body 7
                     cmp.field.const > level 1 field 0 const 1
                 load.const const 1
                 cmp <
             note.count
             load.const const 1
             cmp <",
            vec![
                (vec![(7, boxes(&[(&[], &[Some(3), Some(7)])]))], "true"),
                (vec![(7, boxes(&[(&[], &[]), (&[], &[Some(9)])]))], "true"),
            ],
        ),
        ok(
            "issue13 in.pair.set",
            "load.slot slot 0
             load.const const 0
             in.pair.set set 2",
            vec![
                (vec![(0, S("dev"))], "true"),
                (vec![(0, S("prod"))], "true"),
                (vec![(0, S("pr"))], "false"),
                (vec![(0, S("not a symbol"))], "false"),
                (vec![], "error slot 0 Missing"),
                (
                    vec![(0, I(3))],
                    "error slot 0 WrongType { expected: Str, got: Int }",
                ),
            ],
        ),
        ok(
            "issue13 in.pair.set with the request value as the ancestor",
            "load.const const 0
             load.slot slot 0
             in.pair.set set 2",
            vec![
                (vec![(0, S("prod"))], "true"),
                (vec![(0, S("dev"))], "false"),
            ],
        ),
        ok(
            "issue13 lookup.slot",
            "lookup.slot slot 0 set 0 const 7
             load.const const 7
             cmp ==",
            vec![
                (vec![(0, S("dev"))], "true"),
                (vec![(0, S("prod"))], "false"),
                (vec![(0, S("pr"))], "error slot 0 MissingKey"),
                (vec![(0, S("not a symbol"))], "error slot 0 MissingKey"),
                (vec![], "error slot 0 Missing"),
                (
                    vec![(0, I(3))],
                    "error slot 0 WrongType { expected: Str, got: Int }",
                ),
            ],
        ),
        ok(
            "issue13 lookup.field",
            "any slot 5 body 13
                 lookup.field level 0 field 0 set 0 const 7
                 load.const const 8
                 cmp ==",
            vec![
                (vec![(5, V::R(vec![V::S("dev"), V::I(1)]))], "false"),
                (
                    vec![(5, V::R(vec![V::S("dev"), V::I(1), V::S("prod"), V::I(1)]))],
                    "true",
                ),
                (
                    vec![(5, V::R(vec![V::S("zzz"), V::I(1)]))],
                    "error slot 5.0 MissingKey",
                ),
                (
                    vec![(5, V::R(vec![V::Missing, V::I(1)]))],
                    "error slot 5.0 Missing",
                ),
            ],
        ),
        ok(
            "issue14 seg.slot (piece 1 of `a.env` split on \"pr\", in a set)",
            "seg.slot slot 0 const 4 const 7
             in.set set 0",
            vec![
                (vec![(0, S("xprdev"))], "true"),
                (vec![(0, S("devprx"))], "false"),
                (vec![(0, S("xprprodpr"))], "false"),
                (vec![(0, S("dev"))], "error slot 0 NoSegment"),
                (
                    vec![(0, I(3))],
                    "error slot 0 WrongType { expected: Str, got: Int }",
                ),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "issue14 has.seg.slot",
            "has.seg.slot slot 0 const 4 const 7",
            vec![
                (vec![(0, S("xprdev"))], "true"),
                (vec![(0, S("dev"))], "false"),
                (vec![(0, I(3))], "true"),
                (vec![], "false"),
            ],
        ),
        ok(
            "issue14 seg.field and has.seg.field",
            "any slot 5 body 21
                 has.seg.field level 0 field 0 const 4 const 7
                 not
                 seg.field level 0 field 0 const 4 const 7
                 in.set set 0
                 or",
            vec![
                (vec![(5, V::R(vec![V::S("dev"), V::I(1)]))], "true"),
                (vec![(5, V::R(vec![V::S("xprprod"), V::I(1)]))], "false"),
                (vec![(5, V::R(vec![V::S("aprdev"), V::I(1)]))], "true"),
                (
                    vec![(5, V::R(vec![V::I(2), V::I(1)]))],
                    "error slot 5.0 WrongType { expected: Str, got: Int }",
                ),
                (vec![(5, V::R(vec![V::Missing, V::I(1)]))], "true"),
            ],
        ),
        ok(
            "issue13 in.field",
            "any slot 7 body 7
                 load.const const 1
                 in.field level 0 field 0",
            vec![
                (vec![(7, boxes(&[(&[1, 5], &[])]))], "true"),
                (vec![(7, boxes(&[(&[1], &[]), (&[], &[])]))], "false"),
                (
                    vec![(7, V::R(vec![V::L(vec![V::I(1), V::S("x")]), V::R(vec![])]))],
                    "error slot 8 WrongType { expected: Int, got: Str }",
                ),
                (
                    vec![(7, V::R(vec![V::I(1), V::R(vec![])]))],
                    "error slot 8 WrongType { expected: List, got: Int }",
                ),
            ],
        ),
        ok(
            "issue14 in.ip.slot",
            "in.ip.slot slot 10 set 3",
            vec![
                (vec![(10, V::Ip("10.0.0.0"))], "true"),
                (vec![(10, V::Ip("10.255.255.255"))], "true"),
                (vec![(10, V::Ip("::ffff:10.1.2.3"))], "true"),
                (vec![(10, V::Ip("febf::1"))], "true"),
                (vec![(10, V::Ip("11.0.0.0"))], "false"),
                (vec![(10, V::Ip("fec0::"))], "false"),
                (vec![], "error slot 10 Missing"),
                (
                    vec![(10, V::I(3))],
                    "error slot 10 WrongType { expected: Ip, got: Int }",
                ),
            ],
        ),
        ok(
            "issue14 in.ip.field",
            "any slot 11 body 6
                 in.ip.field level 0 field 0 set 3",
            vec![
                (
                    vec![(11, V::R(vec![V::Ip("8.8.8.8"), V::Ip("fe80::1")]))],
                    "true",
                ),
                (vec![(11, V::R(vec![V::Ip("8.8.8.8")]))], "false"),
                (
                    vec![(11, V::R(vec![V::Missing]))],
                    "error slot 11.0 Missing",
                ),
            ],
        ),
        ok(
            "issue14 cmp.ip.slot.slot (an address with itself)",
            "cmp.ip.slot.slot <= slot 10 slot 10",
            vec![
                (vec![(10, V::Ip("10.0.0.5"))], "true"),
                (vec![], "error slot 10 Missing"),
                (
                    vec![(10, V::I(3))],
                    "error slot 10 WrongType { expected: Ip, got: Int }",
                ),
            ],
        ),
        ok(
            "issue14 cmp.ip.field.slot (128-bit order, IPv4 mapped)",
            "any slot 11 body 7
                 cmp.ip.field.slot < level 0 field 0 slot 10",
            vec![
                (
                    vec![
                        (10, V::Ip("10.0.0.5")),
                        (11, V::R(vec![V::Ip("9.255.255.255")])),
                    ],
                    "true",
                ),
                (
                    vec![(10, V::Ip("10.0.0.5")), (11, V::R(vec![V::Ip("10.0.0.5")]))],
                    "false",
                ),
                (
                    vec![
                        (10, V::Ip("10.0.0.5")),
                        (11, V::R(vec![V::Ip("::ffff:10.0.0.4")])),
                    ],
                    "true",
                ),
                (
                    vec![(10, V::Ip("10.0.0.5")), (11, V::R(vec![V::Ip("::1")]))],
                    "true",
                ),
                (
                    vec![(10, V::Ip("10.0.0.5")), (11, V::R(vec![V::Ip("fe80::1")]))],
                    "false",
                ),
                (vec![(11, V::R(vec![V::Missing]))], "error slot 10 Missing"),
                (
                    vec![(10, V::Ip("::")), (11, V::R(vec![V::Missing]))],
                    "error slot 11.0 Missing",
                ),
            ],
        ),
        ok(
            "issue14 cmp.ip.field.field",
            "any slot 11 body 13
                 any slot 11 body 8
                     cmp.ip.field.field < level 0 field 0 level 1 field 0",
            vec![
                (
                    vec![(11, V::R(vec![V::Ip("10.0.0.1"), V::Ip("10.0.0.2")]))],
                    "true",
                ),
                (
                    vec![(11, V::R(vec![V::Ip("10.0.0.1"), V::Ip("::ffff:10.0.0.1")]))],
                    "false",
                ),
                (
                    vec![(11, V::R(vec![V::Missing, V::Ip("10.0.0.1")]))],
                    "error slot 11.0 Missing",
                ),
            ],
        ),
        ok(
            "issue14 seg (piece 1 on \"pr\" of piece 1 on \"prod\"; the error at the slot)",
            "seg.slot slot 0 const 0 const 7
             seg const 4 const 7 level 255 field 0
             in.set set 0",
            vec![
                (vec![(0, S("aprodxprdev"))], "true"),
                (vec![(0, S("aprodxprdevs"))], "false"),
                (vec![(0, S("aprodx"))], "error slot 0 NoSegment"),
                (vec![(0, S("dev"))], "error slot 0 NoSegment"),
                (vec![], "error slot 0 Missing"),
            ],
        ),
        ok(
            "issue14 seg on a field (the error at the field)",
            "any slot 5 body 15
                 load.field level 0 field 0
                 seg const 4 const 7 level 0 field 0
                 in.set set 0",
            vec![
                (vec![(5, V::R(vec![V::S("xprdev"), V::I(1)]))], "true"),
                (vec![(5, V::R(vec![V::S("xprdevs"), V::I(1)]))], "false"),
                (
                    vec![(5, V::R(vec![V::S("dev"), V::I(1)]))],
                    "error slot 5.0 NoSegment",
                ),
            ],
        ),
        ok(
            "issue14 has.seg (a constant's piece; a missing value)",
            "load.const const 0
             has.seg const 4 const 7
             load.slot slot 0
             has.seg const 4 const 7
             and",
            vec![
                (vec![(0, S("xprdev"))], "true"),
                (vec![(0, S("dev"))], "false"),
                (vec![(0, I(3))], "true"),
                (vec![], "false"),
            ],
        ),
        ok(
            "issue13 in.ip (an address cell against a range table)",
            "load.slot slot 10
             in.ip set 3",
            vec![
                (vec![(10, V::Ip("10.0.0.0"))], "true"),
                (vec![(10, V::Ip("::ffff:10.1.2.3"))], "true"),
                (vec![(10, V::Ip("11.0.0.0"))], "false"),
                (vec![], "error slot 10 Missing"),
                (
                    vec![(10, V::I(3))],
                    "error slot 10 WrongType { expected: Ip, got: Int }",
                ),
            ],
        ),
        ok(
            "issue13 cmp.ip (two address cells)",
            "any slot 11 body 9
                 load.field level 0 field 0
                 load.slot slot 10
                 cmp.ip <",
            vec![
                (
                    vec![
                        (10, V::Ip("10.0.0.5")),
                        (11, V::R(vec![V::Ip("10.0.0.9"), V::Ip("10.0.0.1")])),
                    ],
                    "true",
                ),
                (
                    vec![(10, V::Ip("10.0.0.5")), (11, V::R(vec![V::Ip("10.0.0.9")]))],
                    "false",
                ),
                (
                    vec![(11, V::R(vec![V::Ip("10.0.0.9")]))],
                    "error slot 10 Missing",
                ),
                (
                    vec![(10, V::Ip("10.0.0.5")), (11, V::R(vec![V::Missing]))],
                    "error slot 11.0 Missing",
                ),
            ],
        ),
        ok(
            "issue13 map.get (a request map indexed by a request string)",
            "load.slot slot 0
             map.get slot 12 field 1
             load.const const 1
             cmp ==",
            vec![
                (
                    vec![(0, S("dev")), (12, V::R(vec![S("dev"), I(5)]))],
                    "true",
                ),
                (
                    vec![
                        (0, S("dev")),
                        (12, V::R(vec![S("prod"), I(5), S("dev"), I(4)])),
                    ],
                    "false",
                ),
                (
                    vec![(0, S("zzz")), (12, V::R(vec![S("zzz"), I(5)]))],
                    "true",
                ),
                (
                    vec![(0, S("prod")), (12, V::R(vec![S("dev"), I(5)]))],
                    "error slot 12 MissingEntry",
                ),
                (
                    vec![(0, S("dev")), (12, V::R(vec![]))],
                    "error slot 12 MissingEntry",
                ),
                (vec![(0, S("dev"))], "error slot 12 Missing"),
                (vec![], "error slot 0 Missing"),
                (
                    vec![
                        (0, S("dev")),
                        (
                            12,
                            V::R(vec![
                                S("a"),
                                I(1),
                                S("b"),
                                I(2),
                                S("c"),
                                I(3),
                                S("dev"),
                                I(5),
                            ]),
                        ),
                    ],
                    "error slot 12 TooLong",
                ),
                (
                    vec![(0, I(1)), (12, V::R(vec![S("dev"), I(5)]))],
                    "error slot 0 WrongType { expected: Str, got: Int }",
                ),
            ],
        ),
        ok(
            "issue13 map.has (a constant key; a missing map has no entry)",
            "load.slot slot 0
             map.has slot 12 field 1
             load.const const 0
             map.has slot 12 field 1
             or",
            vec![
                (
                    vec![(0, S("dev")), (12, V::R(vec![S("dev"), I(5)]))],
                    "true",
                ),
                (
                    vec![(0, S("pr")), (12, V::R(vec![S("prod"), I(1)]))],
                    "true",
                ),
                (
                    vec![(0, S("pr")), (12, V::R(vec![S("dev"), I(1)]))],
                    "false",
                ),
                (vec![(0, S("dev"))], "false"),
                (vec![], "error slot 0 Missing"),
                (
                    vec![(
                        12,
                        V::R(vec![S("a"), I(1), S("b"), I(2), S("c"), I(3), S("d"), I(4)]),
                    )],
                    "error slot 0 Missing",
                ),
                (
                    vec![
                        (0, S("dev")),
                        (
                            12,
                            V::R(vec![S("a"), I(1), S("b"), I(2), S("c"), I(3), S("d"), I(4)]),
                        ),
                    ],
                    "error slot 12 TooLong",
                ),
            ],
        ),
        ok(
            "nested aggregates",
            "any slot 5 body 13
                 all slot 5 body 8
                     cmp.field.const <= level 1 field 1 const 5
                     not",
            vec![
                (vec![(5, items(&[Some(3), Some(11)]))], "false"),
                (vec![(5, items(&[Some(11), Some(12)]))], "true"),
            ],
        ),
    ]
}

#[test]
fn issue12_listings_verify_and_evaluate_as_expected() {
    let mut failures = Vec::new();
    for c in cases() {
        let code = assemble(c.listing).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        if let Err(e) = verify(&code) {
            failures.push(format!("{}: rejected: {e:?}", c.name));
            continue;
        }
        for (req, want) in &c.runs {
            let got = eval(&code, req);
            if got != *want {
                failures.push(format!(
                    "{}: on {req:?}: got `{got}`, want `{want}`",
                    c.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn issue12_every_opcode_is_covered_by_a_verified_and_evaluated_listing() {
    let mut seen = BTreeSet::new();
    for c in cases() {
        let code = assemble(c.listing).unwrap();
        assert!(!c.runs.is_empty(), "{}", c.name);
        let mut pc = 0;
        while pc < code.len() {
            let (i, next) = Instr::decode(&code, pc).unwrap();
            seen.insert(i.opcode() as u8);
            pc = next;
        }
    }
    let missing: Vec<_> = Opcode::ALL
        .iter()
        .filter(|o| !seen.contains(&(**o as u8)))
        // `str.match` needs a regex table, which the fixture has with the `regex` feature only.
        .filter(|o| {
            cfg!(feature = "regex") || (**o != Opcode::StrMatch && **o != Opcode::StrMatchFold)
        })
        .map(|o| o.mnemonic())
        .collect();
    assert!(
        missing.is_empty(),
        "opcodes without a listing test: {missing:?}"
    );
}

/// Listings the verifier rejects, with the offset and error it reports.
#[test]
fn issue12_the_verifier_rejects_bad_listings() {
    let cmp = Opcode::Cmp as u8;
    let str_op = Opcode::StrOp as u8;
    let mut two_ints = assemble("load.const const 1\nload.const const 1").unwrap();
    two_ints.extend_from_slice(&[cmp, 6]);
    let mut two_strs = assemble("load.const const 0\nload.const const 4").unwrap();
    two_strs.extend_from_slice(&[str_op, 9]);
    let deep = "any slot 5 body 23
        any slot 5 body 18
        any slot 5 body 13
        any slot 5 body 8
        any slot 5 body 3
        load.const const 2";
    let overflow = "load.const const 2\n".repeat(33);
    let cases: Vec<(&str, Vec<u8>, (u32, CodeError))> = vec![
        (
            "issue13 in.field on a nested list of records",
            asm("any slot 7 body 7\nload.const const 1\nin.field level 0 field 1"),
            (8, CodeError::TypeMismatch),
        ),
        (
            "issue13 any.field on a scalar field",
            asm("any slot 5 body 9\nany.field level 0 field 1 body 3\nload.const const 2"),
            (5, CodeError::TypeMismatch),
        ),
        (
            "issue13 in.field outside an aggregate",
            asm("load.const const 1\nin.field level 0 field 0"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue13 in.field with an element of another type",
            asm("any slot 7 body 7\nload.const const 0\nin.field level 0 field 0"),
            (8, CodeError::TypeMismatch),
        ),
        (
            "issue14 arith on a string",
            asm("load.const const 0\nload.const const 1\narith + slot 1"),
            (6, CodeError::TypeMismatch),
        ),
        (
            "issue14 seg.slot of an int slot",
            asm("seg.slot slot 1 const 4 const 7"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue14 seg.slot with an int separator",
            asm("seg.slot slot 0 const 1 const 7"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue14 has.seg.slot with a string index",
            asm("has.seg.slot slot 0 const 4 const 0"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue14 seg.field outside an aggregate",
            asm("seg.field level 0 field 0 const 4 const 7"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue14 str.len of an int",
            asm("load.const const 1\nstr.len"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 arith naming no slot",
            asm("load.const const 1\nload.const const 1\narith + slot 99"),
            (6, CodeError::BadOperand),
        ),
        (
            "issue14 sub of two strings",
            asm("load.const const 0\nload.const const 0\nsub"),
            (6, CodeError::TypeMismatch),
        ),
        (
            "issue14 time.hour of a string",
            asm("load.const const 0\ntime.hour"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 time.weekday of a bool",
            asm("load.const const 2\ntime.weekday"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 time.of_day on an empty stack",
            asm("time.of_day"),
            (0, CodeError::StackUnderflow),
        ),
        (
            "issue13 add of two strings",
            asm("load.const const 0\nload.const const 0\nadd"),
            (6, CodeError::TypeMismatch),
        ),
        (
            "an unknown opcode",
            vec![0xFF],
            (0, CodeError::BadOpcode(0xFF)),
        ),
        ("a zero byte", vec![0x00], (0, CodeError::BadOpcode(0))),
        (
            "operands past the block",
            vec![Opcode::LoadSlot as u8, 0],
            (0, CodeError::Truncated),
        ),
        (
            "cmp on an empty stack",
            asm("cmp =="),
            (0, CodeError::StackUnderflow),
        ),
        (
            "and with one cell",
            asm("has slot 1\nand"),
            (3, CodeError::StackUnderflow),
        ),
        (
            "not on an empty stack",
            asm("not"),
            (0, CodeError::StackUnderflow),
        ),
        (
            "in.set on an empty stack",
            asm("in.set set 0"),
            (0, CodeError::StackUnderflow),
        ),
        (
            "note.count on an empty stack",
            asm("note.count"),
            (0, CodeError::StackUnderflow),
        ),
        (
            "a slot out of range",
            asm("load.slot slot 13"),
            (0, CodeError::BadOperand),
        ),
        (
            "a constant out of range",
            asm("load.const const 9"),
            (0, CodeError::BadOperand),
        ),
        (
            "a set out of range",
            asm("load.slot slot 1\nin.set set 4"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue13 in.set on a pair set",
            asm("load.slot slot 0\nin.set set 2"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue13 lookup.slot with an int key",
            asm("lookup.slot slot 1 set 0 const 7"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue13 lookup.slot over a set of ints",
            asm("lookup.slot slot 0 set 1 const 7"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue13 lookup.slot with rows of two types",
            asm("lookup.slot slot 0 set 0 const 6"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue13 lookup.slot with rows past the constants",
            asm("lookup.slot slot 0 set 0 const 8"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue13 lookup.slot on a set out of range",
            asm("lookup.slot slot 0 set 3 const 7"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue13 lookup.field outside an aggregate",
            asm("lookup.field level 0 field 0 set 0 const 7"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue13 in.pair.set on a set of strings",
            asm("load.slot slot 0\nload.const const 0\nin.pair.set set 0"),
            (6, CodeError::TypeMismatch),
        ),
        (
            "issue13 in.pair.set on an int",
            asm("load.slot slot 1\nload.const const 0\nin.pair.set set 2"),
            (6, CodeError::TypeMismatch),
        ),
        (
            "issue13 in.pair.set with one operand",
            asm("load.const const 0\nin.pair.set set 2"),
            (3, CodeError::StackUnderflow),
        ),
        (
            "issue13 in.pair.set on a set out of range",
            asm("load.slot slot 0\nload.const const 0\nin.pair.set set 4"),
            (6, CodeError::BadOperand),
        ),
        (
            "issue13 in.ip of a string cell",
            asm("load.slot slot 0\nin.ip set 3"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue13 in.ip on a set of strings",
            asm("load.slot slot 10\nin.ip set 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue13 cmp.ip of an address and a string",
            asm("load.slot slot 10\nload.slot slot 0\ncmp.ip =="),
            (6, CodeError::TypeMismatch),
        ),
        (
            "issue13 cmp of two address cells",
            asm("load.slot slot 10\nload.slot slot 10\ncmp =="),
            (6, CodeError::TypeMismatch),
        ),
        (
            "issue14 in.ip.slot on a string slot",
            asm("in.ip.slot slot 0 set 3"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue14 in.ip.slot on a set of strings",
            asm("in.ip.slot slot 10 set 0"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue14 in.ip.slot on a set out of range",
            asm("in.ip.slot slot 10 set 4"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue14 in.ip.field outside any aggregate",
            asm("in.ip.field level 0 field 0 set 3"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue14 in.ip.field on an int field",
            asm("any slot 5 body 6\nin.ip.field level 0 field 1 set 3"),
            (5, CodeError::TypeMismatch),
        ),
        (
            "issue14 cmp.ip.slot.slot on a string slot",
            asm("cmp.ip.slot.slot == slot 0 slot 10"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue14 cmp.ip.slot.slot on a slot out of range",
            asm("cmp.ip.slot.slot == slot 10 slot 99"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue14 cmp.ip.field.slot outside any aggregate",
            asm("cmp.ip.field.slot == level 0 field 0 slot 10"),
            (0, CodeError::BadOperand),
        ),
        (
            "issue14 cmp.ip.field.slot on a string field",
            asm("any slot 5 body 7\ncmp.ip.field.slot == level 0 field 0 slot 10"),
            (5, CodeError::TypeMismatch),
        ),
        (
            "issue14 cmp.ip.field.field on an int field",
            asm("any slot 11 body 13\nany slot 5 body 8\ncmp.ip.field.field == level 0 field 0 level 1 field 1"),
            (10, CodeError::TypeMismatch),
        ),
        (
            "issue14 seg of an int",
            asm("load.const const 1\nseg const 4 const 7 level 255 field 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 seg naming a slot out of range",
            asm("load.slot slot 0\nseg const 4 const 7 level 255 field 99"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue14 seg naming a field outside any aggregate",
            asm("load.slot slot 0\nseg const 4 const 7 level 0 field 0"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue14 seg with an int separator",
            asm("load.slot slot 0\nseg const 1 const 7 level 255 field 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 has.seg on an empty stack",
            asm("has.seg const 4 const 7"),
            (0, CodeError::StackUnderflow),
        ),
        (
            "issue14 has.seg with a string index",
            asm("load.slot slot 0\nhas.seg const 4 const 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 load.slot of an ip slot (with `dynkey`, issue #13 session 10: an address \
             cell, which only `in.ip` and `cmp.ip` read, so a clause cannot end with it)",
            asm("load.slot slot 10"),
            if cfg!(feature = "dynkey") {
                (3, CodeError::BadEnd)
            } else {
                (0, CodeError::TypeMismatch)
            },
        ),
        (
            "a field outside any aggregate",
            asm("load.field level 0 field 0"),
            (0, CodeError::BadOperand),
        ),
        (
            "a field out of range",
            asm("any slot 5 body 4\nhas.field level 0 field 2"),
            (5, CodeError::BadOperand),
        ),
        (
            "a comparison operator byte out of range",
            two_ints,
            (6, CodeError::BadOperand),
        ),
        (
            "a string operator byte out of range",
            two_strs,
            (6, CodeError::BadOperand),
        ),
        (
            "has of a slot out of range",
            asm("has slot 13"),
            (0, CodeError::BadOperand),
        ),
        (
            "a count body over a list of scalars",
            asm("any slot 4 body 3\nload.const const 2"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "any without a body",
            asm("any slot 5 body 0"),
            (0, CodeError::BadOperand),
        ),
        (
            "count of a scalar slot",
            asm("count slot 1 body 0\nload.const const 1\ncmp =="),
            (0, CodeError::BadOperand),
        ),
        (
            "a string compared with an int",
            asm("cmp.slot.const == slot 0 const 1"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "an ordered comparison of strings",
            asm("cmp.slot.const < slot 0 const 0"),
            (0, CodeError::TypeMismatch),
        ),
        (
            "issue14 str matches (a regex runs only through str.match)",
            asm("load.slot slot 0\nload.const const 4\nstr matches"),
            (6, CodeError::BadOperand),
        ),
        (
            "issue14 str.fold with an operator it does not take",
            asm("load.slot slot 0\nload.const const 4\nstr.fold starts_with"),
            (6, CodeError::BadOperand),
        ),
        (
            "issue14 str.fold on ints",
            asm("load.slot slot 1\nload.const const 1\nstr.fold lower.eq"),
            (6, CodeError::TypeMismatch),
        ),
        (
            "issue14 str.match.fold of an int",
            asm("load.slot slot 1\nstr.match.fold re 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 in.range of a string",
            asm("load.slot slot 0\nin.range ranges 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 in.range over a table whose ranges touch",
            asm("load.slot slot 1\nin.range ranges 4"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue14 in.range at a record that is no table header",
            asm("load.slot slot 1\nin.range ranges 1"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue14 in.range past the section",
            asm("load.slot slot 1\nin.range ranges 9"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue14 str.match of an int",
            asm("load.slot slot 1\nstr.match re 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue14 str.match of a regex out of range",
            asm("load.slot slot 0\nstr.match re 9"),
            (3, CodeError::BadOperand),
        ),
        (
            "a string test on ints",
            asm("load.slot slot 1\nload.const const 1\nstr contains"),
            (6, CodeError::TypeMismatch),
        ),
        (
            "in.list of a scalar slot",
            asm("load.const const 0\nin.list slot 0"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "in.list with the wrong element type",
            asm("load.const const 1\nin.list slot 4"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "not of an int",
            asm("load.const const 1\nnot"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "note.count of a bool",
            asm("load.const const 2\nnote.count"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "a jump into an instruction",
            asm("has slot 1\njump.false -> 0007\nload.slot slot 2\nand"),
            (9, CodeError::BadJump),
        ),
        (
            "a jump past the block",
            asm("has slot 1\njump.false -> 0099\nnot"),
            (3, CodeError::BadJump),
        ),
        (
            "a jump landing with another stack",
            asm("has slot 1\njump.false -> 0009\nhas slot 2\nand"),
            (9, CodeError::BadJump),
        ),
        (
            "an int left on the stack",
            asm("load.slot slot 1"),
            (3, CodeError::BadEnd),
        ),
        (
            "two conditions left",
            asm("has slot 1\nhas slot 2"),
            (6, CodeError::BadEnd),
        ),
        ("an empty block", vec![], (0, CodeError::BadEnd)),
        (
            "aggregates nested five deep",
            asm(deep),
            (20, CodeError::TooDeep),
        ),
        (
            "issue13 map.get of a list of records",
            asm("load.const const 0\nmap.get slot 5 field 1"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue13 map.get of the key field",
            asm("load.const const 0\nmap.get slot 12 field 0"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue13 map.get of a field past the entry",
            asm("load.const const 0\nmap.get slot 12 field 2"),
            (3, CodeError::BadOperand),
        ),
        (
            "issue13 map.has with an int key",
            asm("load.const const 1\nmap.has slot 12 field 1"),
            (3, CodeError::TypeMismatch),
        ),
        (
            "issue13 map.has of a scalar slot",
            asm("load.const const 0\nmap.has slot 0 field 1"),
            (3, CodeError::TypeMismatch),
        ),
        ("33 cells", asm(&overflow), (96, CodeError::StackOverflow)),
    ];
    let mut failures = Vec::new();
    for (name, code, want) in cases {
        let got = verify(&code);
        if got != Err(want) {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn asm(text: &str) -> Vec<u8> {
    assemble(text).unwrap_or_else(|e| panic!("{e}"))
}

/// For every opcode, an instruction with every operand set to 1 disassembles to text that
/// assembles back to the same bytes.
#[test]
fn issue12_every_opcode_round_trips_through_the_disassembler_and_assembler() {
    for &op in Opcode::ALL {
        let mut word = op as u64;
        let mut shift = 8;
        for k in op.operand_kinds() {
            word |= 1 << shift;
            shift += 8 * k.width() as u32;
        }
        let instr = Instr::from_word(word).unwrap();
        let bytes = instr.encode().as_bytes().to_vec();
        let text = disasm(&bytes);
        assert!(
            text.starts_with(&format!("0000: {}", op.mnemonic())),
            "{text}"
        );
        let again = assemble(&text).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        assert_eq!(again, bytes, "{op:?}: {text}");
        assert_eq!(disasm(&again), text);
    }
}

/// A listing in the disassembler's exact output form is reproduced by disasm(assemble(x)).
#[test]
fn issue12_a_full_listing_round_trips() {
    let listing = "\
0000: has slot 1 (b.n)
0003: jump.false -> 0056
0006: cmp.slot.const == slot 0 (a.env) const 0 (\"prod\")
0012: and
0013: any slot 5 (f.items) body 19
    0000: cmp.field.const >= level 0 field 1 const 1 (5)
    0007: has.field level 0 field 0
    0011: and
    0012: cmp.field.slot != level 0 field 1 slot 1 (b.n)
0037: and
0038: in.slot.set slot 3 (d.level) set 0
0043: or
0044: count slot 6 (g.nums) body 0
0049: note.count
0050: load.const const 5 (10)
0053: cmp <
0055: and
";
    let code = assemble(listing).unwrap();
    assert_eq!(disasm(&code), listing);
}
