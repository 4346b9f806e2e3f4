//! Test support for listing-level tests: a text assembler for the disassembler's syntax and a
//! one-policy bundle built around one code block.
//!
//! The assembler is driven by the opcode table ([`Opcode::operand_kinds`]), so a new row of
//! `for_each_opcode!` is assembled with no change here.

use ipe_nostd::format::{self, kind, Body, NONE_U16, NONE_U32};
use ipe_nostd::isa::{CmpOp, Instr, Opcode, OperandKind, StrOp};
use ipe_nostd::verify::{Block, CodeError, VerifyError};
use ipe_nostd::{Bundle, BundleError, Outcome, Value};

/// Assembles a listing: one instruction per line, `mnemonic operands` in the syntax of
/// `ipe_nostd::disasm` (a leading `0012:` offset, indentation, `(annotations)` after an
/// operand and `#` comments are ignored). A jump is written `-> target`, the offset it lands
/// on within its block (an aggregate body is its own block, as in listings).
pub fn assemble(text: &str) -> Result<Vec<u8>, String> {
    let mut out: Vec<u8> = Vec::new();
    // Open aggregate bodies: (start, end) offsets in `out`.
    let mut bodies: Vec<(usize, usize)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: String| format!("line {}: {e}: `{line}`", n + 1);
        while bodies.last().is_some_and(|&(_, end)| end <= out.len()) {
            bodies.pop();
        }
        let base = bodies.last().map_or(0, |&(start, _)| start);
        let mut toks = Tokens::new(line);
        let mut word = toks.word().ok_or_else(|| at("empty line".into()))?;
        if word.ends_with(':') && word[..word.len() - 1].bytes().all(|b| b.is_ascii_digit()) {
            word = toks.word().ok_or_else(|| at("no mnemonic".into()))?;
        }
        let op = Opcode::from_mnemonic(word).ok_or_else(|| at("unknown mnemonic".into()))?;
        let pc = out.len() - base;
        let end = pc + 1 + op.operand_len();
        let mut word_bits = op as u64;
        let mut shift = 8;
        for &k in op.operand_kinds() {
            let bits = operand(&mut toks, k, end).map_err(at)?;
            word_bits |= bits << shift;
            shift += 8 * k.width() as u32;
        }
        if let Some(extra) = toks.word() {
            return Err(at(format!("unexpected `{extra}`")));
        }
        let instr = Instr::from_word(word_bits).ok_or_else(|| at("operand out of range".into()))?;
        out.extend_from_slice(instr.encode().as_bytes());
        if let Instr::Count { body, .. } | Instr::Any { body, .. } | Instr::All { body, .. } = instr
        {
            if body.0 > 0 {
                bodies.push((out.len(), out.len() + usize::from(body.0)));
            }
        }
    }
    Ok(out)
}

fn operand(toks: &mut Tokens<'_>, k: OperandKind, end: usize) -> Result<u64, String> {
    let w = toks.word().ok_or("missing operand")?;
    let bits = match k {
        OperandKind::Cmp => (0..=255u8)
            .filter_map(CmpOp::from_byte)
            .find(|o| o.symbol() == w)
            .ok_or(format!("`{w}` is no comparison"))? as u64,
        OperandKind::Str => (0..=255u8)
            .filter_map(StrOp::from_byte)
            .find(|o| o.keyword() == w)
            .ok_or(format!("`{w}` is no string operator"))? as u64,
        OperandKind::Arith => (0..=255u8)
            .filter_map(ipe_nostd::isa::ArithOp::from_byte)
            .find(|o| o.keyword() == w)
            .ok_or(format!("`{w}` is no arithmetic operator"))?
            as u64,
        _ => {
            let kw = k.keyword().unwrap_or("");
            if w != kw {
                return Err(format!("expected `{kw}`, found `{w}`"));
            }
            let num = toks.word().ok_or("missing number")?;
            let v: u64 = num.parse().map_err(|_| format!("bad number `{num}`"))?;
            toks.skip_annotation();
            let v = if k == OperandKind::Offset {
                v.checked_sub(end as u64).ok_or("backward jump")?
            } else {
                v
            };
            if v >> (8 * k.width()) != 0 {
                return Err(format!("{v} does not fit the operand"));
            }
            v
        }
    };
    Ok(bits)
}

struct Tokens<'s> {
    rest: &'s str,
}

impl<'s> Tokens<'s> {
    fn new(s: &'s str) -> Self {
        Tokens { rest: s }
    }

    fn word(&mut self) -> Option<&'s str> {
        let s = self.rest.trim_start();
        if s.is_empty() {
            return None;
        }
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        let (w, rest) = s.split_at(end);
        self.rest = rest;
        Some(w)
    }

    /// Skips a `( ... )` annotation (which may quote text with spaces and parentheses).
    fn skip_annotation(&mut self) {
        let s = self.rest.trim_start();
        if !s.starts_with('(') {
            return;
        }
        let (mut depth, mut quoted) = (0, false);
        for (i, c) in s.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        self.rest = &s[i + 1..];
                        return;
                    }
                }
                _ => {}
            }
        }
        self.rest = "";
    }
}

/// Slot paths of the fixture, by slot id.
pub const SLOTS: [&str; 13] = [
    "a.env",           // 0: string
    "b.n",             // 1: int
    "c.flag",          // 2: bool
    "d.level",         // 3: enum ["low", "high"]
    "e.tags",          // 4: list of strings, max 4
    "f.items",         // 5: list of records { name: string, size: int }, max 4
    "g.nums",          // 6: list of ints, max 4
    "h.boxes",         // 7: list of records { ports: slot 8, subs: slot 9 }, max 4 (issue #13)
    "h.boxes[].ports", // 8: nested list of ints, max 3
    "h.boxes[].subs",  // 9: nested list of records { size: int }, max 2
    "i.src",           // 10: ip (issue #14)
    "j.hosts",         // 11: list of records { addr: ip }, max 4 (issue #14)
    "k.labels",        // 12: map of int, max 3 (issue #13, `map.get`, `map.has`)
];

/// Symbols of the fixture, sorted: their index is the symbol id.
const SYMBOLS: [&str; 5] = ["dev", "high", "low", "pr", "prod"];

fn sym(s: &str) -> i64 {
    SYMBOLS.iter().position(|x| *x == s).unwrap() as i64
}

/// Constants of the fixture: 0 `"prod"`, 1 `5`, 2 `true`, 3 `high` (enum 0), 4 `"pr"`,
/// 5 `10`, 6 `false`, 7 `1`, 8 `2`. Sets: 0 `{"dev", "prod"}`, 1 `{1, 5, 10}`, 2 the pairs
/// `{("dev", "dev"), ("dev", "prod"), ("prod", "prod")}` (a hierarchy where "dev" is under
/// "prod"). Set 0 with constants 7 and 8 is the lookup table `{"dev": 1, "prod": 2}` (issue #13).
fn consts() -> Vec<(u8, i64, u16)> {
    vec![
        (kind::STR, sym("prod"), NONE_U16),
        (kind::INT, 5, NONE_U16),
        (kind::BOOL, 1, NONE_U16),
        (kind::ENUM, 1, 0),
        (kind::STR, sym("pr"), NONE_U16),
        (kind::INT, 10, NONE_U16),
        (kind::BOOL, 0, NONE_U16),
        (kind::INT, 1, NONE_U16),
        (kind::INT, 2, NONE_U16),
    ]
}

/// Little-endian record writer: fields are appended in the order `docs/bundle-format.md`
/// lists them.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
}

#[derive(Default)]
struct Text(String);

impl Text {
    fn range(&mut self, s: &str) -> (u32, u32) {
        let off = self.0.len() as u32;
        self.0.push_str(s);
        (off, s.len() as u32)
    }
}

/// The bytes of a bundle with the fixture's tables and one policy with no trigger whose one
/// requirement clause is `code` (reporting its count), its cost bound computed by the
/// verifier when the code is valid.
pub fn bundle_bytes(code: &[u8]) -> Vec<u8> {
    bundle_bytes_with(code, &Variant::default())
}

/// Changes to the fixture for the family tests (issue #15).
#[derive(Clone, Debug, Default)]
pub struct Variant {
    /// Renames slot 2 (`c.flag`, a bool): e.g. to the positional path `b.n[0]`.
    pub slot2_path: Option<&'static str>,
    /// A `slot_defaults` record giving slot 1 (`b.n`, an int) this default text.
    pub default_of_b_n: Option<&'static str>,
}

/// [`bundle_bytes`] with the changes of `variant`.
pub fn bundle_bytes_with(code: &[u8], variant: &Variant) -> Vec<u8> {
    let mut text = Text::default();
    let mut symbols = W::default();
    for s in SYMBOLS {
        let (o, l) = text.range(s);
        symbols.u32(o).u32(l);
    }
    let mut enums = W::default();
    enums.u32(0).u32(2);
    let mut members = W::default();
    members.u32(sym("low") as u32).u32(sym("high") as u32);
    let mut fields = W::default();
    let field_recs = [
        ("name", kind::STR, NONE_U16),
        ("size", kind::INT, NONE_U16),
        ("ports", kind::LIST, 8),
        ("subs", kind::RECORDS, 9),
        ("size", kind::INT, NONE_U16),
        ("addr", kind::IP, NONE_U16),
        ("key", kind::STR, NONE_U16),
        ("value", kind::INT, NONE_U16),
    ];
    for (name, k, e) in field_recs {
        let (o, l) = text.range(name);
        fields.u32(o).u32(l).u8(k).u8(0).u16(e);
    }
    let mut slots = W::default();
    let shapes: [(u8, u8, u16, u16, u16, u32); 13] = [
        (kind::STR, 0, NONE_U16, 0, 0, 0),
        (kind::INT, 0, NONE_U16, 0, 0, 0),
        (kind::BOOL, 0, NONE_U16, 0, 0, 0),
        (kind::ENUM, 0, 0, 0, 0, 0),
        (kind::LIST, kind::STR, NONE_U16, 0, 0, 4),
        (kind::RECORDS, 0, NONE_U16, 0, 2, 4),
        (kind::LIST, kind::INT, NONE_U16, 0, 0, 4),
        (kind::RECORDS, 0, NONE_U16, 2, 2, 4),
        (kind::LIST, kind::INT, NONE_U16, 0, 0, 3),
        (kind::RECORDS, 0, NONE_U16, 4, 1, 2),
        (kind::IP, 0, NONE_U16, 0, 0, 0),
        (kind::RECORDS, 0, NONE_U16, 5, 1, 4),
        (kind::MAP, 0, NONE_U16, 6, 2, 3),
    ];
    for (i, (path, (k, ek, e, ff, nf, max))) in SLOTS.iter().zip(shapes).enumerate() {
        let path = match variant.slot2_path {
            Some(p) if i == 2 => p,
            _ => path,
        };
        let (o, l) = text.range(path);
        slots
            .u32(o)
            .u32(l)
            .u8(k)
            .u8(ek)
            .u16(e)
            .u16(ff)
            .u16(nf)
            .u32(max);
    }
    let mut cs = W::default();
    for (k, v, e) in consts() {
        cs.u8(k).u8(0).u8(0).u8(0).i64(v).u16(e).u16(0);
    }
    let mut sets = W::default();
    let mut keys = W::default();
    let pair = |a: &str, b: &str| (sym(a) << 32) | sym(b);
    let set_keys: [(u8, Vec<i64>); 3] = [
        (kind::STR, vec![sym("dev"), sym("prod")]),
        (kind::INT, vec![1, 5, 10]),
        // "dev" is under "prod" (issue #13 pair set: the reflexive transitive closure).
        (
            kind::PAIR,
            vec![
                pair("dev", "dev"),
                pair("dev", "prod"),
                pair("prod", "prod"),
            ],
        ),
    ];
    let mut first = 0u32;
    for (k, ks) in &set_keys {
        sets.u8(*k)
            .u8(0)
            .u16(NONE_U16)
            .u32(first)
            .u32(ks.len() as u32);
        for &key in ks {
            keys.i64(key);
        }
        first += ks.len() as u32;
    }
    // Set 3 (issue #14): the IP range table `10.0.0.0/8`, `fe80::/10` (records 0 and 1).
    sets.u8(kind::IP).u8(0).u16(NONE_U16).u32(0).u32(2);
    let mut ranges: Vec<(ipe_nostd::ip::Ip, ipe_nostd::ip::Ip)> = ["10.0.0.0/8", "fe80::/10"]
        .iter()
        .map(|n| ipe_nostd::ip::parse_cidr(n).unwrap())
        .collect();
    let n = ipe_nostd::ip::merge(&mut ranges);
    let mut ip_ranges = Vec::new();
    ipe_nostd::ip::encode_table(&ranges[..n], |b| ip_ranges.extend_from_slice(b));
    // Issue #14, session 9: the integer range tables of `in.range`: record 0 the table
    // `[22, 80..90, 8000..8100]` (records 1-3), record 4 a table whose two ranges touch
    // (`5..6`, `7..8`: not merged, refused).
    let mut int_ranges = Vec::new();
    for (lo, hi) in [
        (3, 0),
        (22, 22),
        (80, 90),
        (8000, 8100),
        (2, 0),
        (5, 6),
        (7, 8),
    ] {
        int_ranges.extend_from_slice(&format::IntRangeFields { lo, hi }.to_bytes());
    }
    let mut defaults = W::default();
    if let Some(d) = variant.default_of_b_n {
        let (o, l) = text.range(d);
        defaults.u16(1).u16(0).u32(o).u32(l);
    }
    let (name, intent, clause_text) = (text.range("p"), text.range("i"), text.range("c"));
    let mut clauses = W::default();
    clauses
        .u32(0)
        .u32(code.len() as u32)
        .u32(clause_text.0)
        .u32(clause_text.1)
        .u8(1)
        .u8(0)
        .u8(0)
        .u8(0);
    let mut body = Body {
        default: 0,
        text: &text.0,
        symbols: &symbols.0,
        slots: &slots.0,
        fields: &fields.0,
        enums: &enums.0,
        members: &members.0,
        consts: &cs.0,
        sets: &sets.0,
        set_keys: &keys.0,
        code,
        policies: &[],
        clauses: &clauses.0,
        metadata: &[],
        index_groups: &[],
        index_buckets: &[],
        index_policies: &[],
        unindexed: &0u16.to_le_bytes(),
        reason_parts: &[],
        ip_ranges: &ip_ranges,
        regexes: &[],
        slot_defaults: &defaults.0,
        int_ranges: &int_ranges,
    };
    let regexes = regex_table();
    body.regexes = &regexes;
    let cost = ipe_nostd::verify::block_cost(&body, code).unwrap_or(0);
    let mut policy = W::default();
    policy
        .u32(name.0)
        .u32(name.1)
        .u32(intent.0)
        .u32(intent.1)
        .u32(NONE_U32)
        .u32(0)
        .u32(0) // trigger: none
        .u32(0)
        .u32(0) // first clause
        .u16(1) // one clause
        .u8(0) // requires
        .u8(0)
        .u32(0)
        .u16(0) // no metadata
        .u16(0)
        .u32(cost as u32)
        .u32(0);
    assert_eq!(policy.0.len(), format::POLICY_LEN);
    body.policies = &policy.0;
    encode(&body)
}

/// The fixture's regex table (issue #14, with the `regex` feature): regex 0 `^p[a-z]*d$`.
#[cfg(feature = "regex")]
fn regex_table() -> Vec<u8> {
    use regex_automata::dfa::{dense, StartKind};
    let re = "^p[a-z]*d$";
    let dfa = dense::Builder::new()
        .configure(dense::Config::new().start_kind(StartKind::Unanchored))
        .build(re)
        .unwrap()
        .to_sparse()
        .unwrap()
        .to_bytes_little_endian();
    let mut out = postcard::to_allocvec(re).unwrap();
    out.extend(postcard::to_allocvec(dfa.as_slice()).unwrap());
    out
}

/// Without the `regex` feature the fixture has no regex table.
#[cfg(not(feature = "regex"))]
fn regex_table() -> Vec<u8> {
    Vec::new()
}

fn encode(body: &Body<'_>) -> Vec<u8> {
    let mut payload = postcard::to_allocvec(body).unwrap();
    // The trailing area: `reason_parts` (empty), then the non-empty tagged sections by tag.
    let tagged = ipe_nostd::bundle::tagged_sections(body);
    if tagged.iter().any(|(_, s)| !s.is_empty()) {
        payload.extend(postcard::to_allocvec(body.reason_parts).unwrap());
        for (tag, section) in tagged.iter().filter(|(_, s)| !s.is_empty()) {
            payload.push(*tag);
            payload.extend(postcard::to_allocvec(section).unwrap());
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(&format::MAGIC);
    out.extend_from_slice(&body.version().to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&format::CRC.checksum(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// What the verifier says about a clause: `Ok` or the code error and its offset.
pub fn verify(code: &[u8]) -> Result<(), (u32, CodeError)> {
    let bytes = bundle_bytes(code);
    let verdict = Bundle::from_bytes(&bytes).map(drop);
    match verdict {
        Ok(()) => Ok(()),
        Err(BundleError::Verify(VerifyError::Code {
            policy: 0,
            block: Block::Clause(0),
            pc,
            error,
        })) => Err((pc, error)),
        Err(e) => panic!("the fixture itself is rejected: {e:?}"),
    }
}

/// A request value, owned.
#[derive(Clone, Debug)]
pub enum V {
    /// A string (interned when it is a symbol).
    S(&'static str),
    /// An int.
    I(i64),
    /// A bool.
    B(bool),
    /// An enum member by rank.
    E(u16),
    /// Absent.
    Missing,
    /// A list of scalars.
    L(Vec<V>),
    /// A list of records, flattened (two fields per element: name, size).
    R(Vec<V>),
    /// An IP address (parsed, issue #14).
    Ip(&'static str),
}

fn scalar<'a>(b: &Bundle<'_>, v: &V) -> Value<'a> {
    match v {
        V::S(s) => Value::Str(b.intern(s)),
        V::I(i) => Value::Int(*i),
        V::B(x) => Value::Bool(*x),
        V::E(r) => Value::Enum(*r),
        V::Missing => Value::Missing,
        V::Ip(s) => Value::Ip(ipe_nostd::ip::parse(s).unwrap()),
        // A nested list (a field of a record): leaked, tests only.
        V::L(items) => Value::List(nested(b, items)),
        V::R(items) => Value::Records(nested(b, items)),
    }
}

fn nested<'a>(b: &Bundle<'_>, items: &[V]) -> &'a [Value<'a>] {
    Box::leak(
        items
            .iter()
            .map(|x| scalar(b, x))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// Evaluates the clause `code` (which must verify) on a request given as `(slot, value)`
/// pairs, with the interpreter: `true`, `false`, `false count N` or `error slot S[.F] KIND`.
pub fn eval(code: &[u8], request: &[(u16, V)]) -> String {
    let bytes = bundle_bytes(code);
    let b = Bundle::from_bytes(&bytes).expect("the listing verifies");
    let lists: Vec<Vec<Value<'static>>> = request
        .iter()
        .map(|(_, v)| match v {
            V::L(items) | V::R(items) => items.iter().map(|x| scalar(&b, x)).collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut values = vec![Value::Missing; SLOTS.len()];
    for ((s, v), list) in request.iter().zip(&lists) {
        values[usize::from(*s)] = match v {
            V::L(_) => Value::List(list),
            V::R(_) => Value::Records(list),
            v => scalar(&b, v),
        };
    }
    match ipe_nostd::vm::eval_policy_values(&b, 0, &values) {
        Outcome::Satisfied => "true".into(),
        Outcome::Violated(v) => match v.count {
            Some(n) => format!("false count {n}"),
            None => "false".into(),
        },
        Outcome::Error { error, .. } => {
            let e = error.error;
            let field = e.field.map_or(String::new(), |f| format!(".{f}"));
            format!("error slot {}{field} {:?}", e.slot, e.kind)
        }
        Outcome::NotApplicable => "not applicable".into(),
    }
}

/// Disassembles `code` with the fixture's tables (the code need not verify).
pub fn disasm(code: &[u8]) -> String {
    let valid = bundle_bytes(&assemble("load.const const 2").unwrap());
    let b = Bundle::from_bytes(&valid).unwrap();
    let mut s = String::new();
    ipe_nostd::disasm::disassemble(&mut s, &b, code, 0).unwrap();
    s
}
