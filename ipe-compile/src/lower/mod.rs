//! The compiler back end: lowers a checked [`Program`] into a verified bundle.
//!
//! Steps: intern every comparable string into the sorted symbol table, lay out slots, enums,
//! constants and sets, generate code per trigger and clause (conjuncts cheapest first), build
//! the trigger index, compute each policy's cost bound with the device's own verifier, encode
//! with postcard behind the header, and finally load the bytes with
//! [`ipe_nostd::Bundle::from_bytes`] so nothing unverifiable is ever written.

mod code;

use std::collections::{BTreeMap, HashMap};

use ipe_nostd::format::{self, kind, Body, NONE_U16, NONE_U32};
use ipe_nostd::verify::{Block, VerifyError};
use ipe_nostd::{Bundle, BundleError, Effect};

use crate::hir::{Body as PolicyBody, Expr, Literal, Operand, Program, Scalar, SlotType};
use code::CodeGen;

/// Why a checked program could not be lowered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LowerError {
    /// A code block or aggregate body exceeds the 64 KiB jump range.
    #[error("a policy's code is too large (over 65535 bytes in one block)")]
    CodeTooLarge,
    /// More constants, sets, slots, enums or policies than the format's 16-bit ids allow.
    #[error("too many {0} for one bundle (at most 65534)")]
    TooMany(&'static str),
    /// A policy's cost bound exceeds the budget.
    #[error("policy `{name}` may take up to {cost} steps, over the budget of {budget}")]
    OverBudget {
        /// The policy's name.
        name: String,
        /// Its cost bound (`u64::MAX` when it does not fit 64 bits).
        cost: u64,
        /// The budget.
        budget: u32,
    },
    /// The produced bundle failed verification: a compiler bug, reported rather than written.
    #[error("internal error: the generated bundle failed verification: {0}")]
    Verify(BundleError),
}

/// What `ipe compile` reports per policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyReport {
    /// Policy name.
    pub name: String,
    /// Bytes of bytecode (trigger and clauses).
    pub code_bytes: usize,
    /// Static bound on instructions executed per evaluation.
    pub cost: u32,
    /// The slot the trigger index files it under, if any.
    pub indexed_on: Option<String>,
}

/// A lowered bundle: its bytes and a per-policy report.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The bundle bytes (header + postcard body), already verified.
    pub bytes: Vec<u8>,
    /// One entry per policy, in bundle order.
    pub policies: Vec<PolicyReport>,
}

/// Most enums a bundle holds (the verifier's count; id `0xFFFF` means none).
const MAX_ENUMS: usize = u16::MAX as usize - 1;
/// Most constants, and most sets, a bundle holds (16-bit ids below `0xFFFF`).
const MAX_CONSTS: usize = u16::MAX as usize;

/// The id of the next record of a table holding `len` records, at most `max` in all.
fn id16(len: usize, max: usize, what: &'static str) -> Result<u16, LowerError> {
    if len >= max {
        return Err(LowerError::TooMany(what));
    }
    u16::try_from(len).map_err(|_| LowerError::TooMany(what))
}

/// Interned tables shared by all code blocks.
#[derive(Default)]
pub(crate) struct Tables {
    text: String,
    text_ids: HashMap<String, (u32, u32)>,
    symbols: BTreeMap<String, u32>,
    enums: Vec<Vec<String>>,
    consts: Vec<[u8; format::CONST_LEN]>,
    const_ids: HashMap<[u8; format::CONST_LEN], u16>,
    sets: Vec<[u8; format::SET_LEN]>,
    set_keys: Vec<u8>,
    set_ids: HashMap<(u8, u16, Vec<i64>), u16>,
    /// Enum id of each literal's enum, keyed by member list.
    enum_ids: HashMap<Vec<String>, u16>,
}

impl Tables {
    fn text(&mut self, s: &str) -> (u32, u32) {
        if let Some(&r) = self.text_ids.get(s) {
            return r;
        }
        let r = (self.text.len() as u32, s.len() as u32);
        self.text.push_str(s);
        self.text_ids.insert(s.to_owned(), r);
        r
    }

    fn sym(&self, s: &str) -> u32 {
        // Every string literal was interned before code generation.
        self.symbols.get(s).copied().unwrap_or(0)
    }

    fn enum_id(&mut self, members: &[String]) -> Result<u16, LowerError> {
        if let Some(&id) = self.enum_ids.get(members) {
            return Ok(id);
        }
        let id = id16(self.enums.len(), MAX_ENUMS, "enums")?;
        self.enums.push(members.to_vec());
        self.enum_ids.insert(members.to_vec(), id);
        Ok(id)
    }

    fn key(&self, lit: &Literal) -> (u8, i64) {
        match lit {
            Literal::Str(s) => (kind::STR, i64::from(self.sym(s))),
            Literal::Int(i) => (kind::INT, *i),
            Literal::Bool(b) => (kind::BOOL, i64::from(*b)),
            Literal::Enum { rank, .. } => (kind::ENUM, i64::from(*rank)),
        }
    }

    fn push_const(&mut self, k: u8, v: i64, e: u16) -> Result<u16, LowerError> {
        let mut r = [0u8; format::CONST_LEN];
        r[0] = k;
        r[4..12].copy_from_slice(&v.to_le_bytes());
        r[12..14].copy_from_slice(&e.to_le_bytes());
        if let Some(&id) = self.const_ids.get(&r) {
            return Ok(id);
        }
        let id = id16(self.consts.len(), MAX_CONSTS, "constants")?;
        self.consts.push(r);
        self.const_ids.insert(r, id);
        Ok(id)
    }

    pub(crate) fn const_bool(&mut self, b: bool) -> Result<u16, LowerError> {
        self.push_const(kind::BOOL, i64::from(b), NONE_U16)
    }

    /// The constant for a literal, compared with an operand of type `ty` when known (an enum
    /// literal records that operand's enum).
    pub(crate) fn constant(
        &mut self,
        lit: &Literal,
        ty: Option<&Scalar>,
    ) -> Result<u16, LowerError> {
        let (k, v) = self.key(lit);
        let e = self.enum_of(k, ty, v)?;
        self.push_const(k, v, e)
    }

    /// The enum id recorded with an enum constant or set: the other operand's enum, or else
    /// any enum with enough members (ranks compare within one enum, which the checker
    /// guarantees; the id only lets the verifier bound the rank).
    fn enum_of(&mut self, k: u8, ty: Option<&Scalar>, max_rank: i64) -> Result<u16, LowerError> {
        if k != kind::ENUM {
            return Ok(NONE_U16);
        }
        if let Some(Scalar::Enum(members)) = ty {
            return self.enum_id(members);
        }
        let id = self
            .enums
            .iter()
            .position(|m| (m.len() as i64) > max_rank)
            .unwrap_or(0);
        u16::try_from(id).map_err(|_| LowerError::TooMany("enums"))
    }

    /// The constant set of `set`, tested against an operand of type `ty` (which gives an
    /// empty set its kind).
    pub(crate) fn set(&mut self, set: &[Literal], ty: Option<&Scalar>) -> Result<u16, LowerError> {
        let mut keys: Vec<i64> = set.iter().map(|l| self.key(l).1).collect();
        keys.sort_unstable();
        keys.dedup();
        let k = match (set.first(), ty) {
            (Some(l), _) => self.key(l).0,
            (None, Some(t)) => scalar_kind(t),
            (None, None) => kind::STR,
        };
        let max = keys.last().copied().unwrap_or(0);
        let e = self.enum_of(k, ty, max)?;
        if let Some(&id) = self.set_ids.get(&(k, e, keys.clone())) {
            return Ok(id);
        }
        let id = id16(self.sets.len(), MAX_CONSTS, "sets")?;
        let mut r = [0u8; format::SET_LEN];
        r[0] = k;
        r[2..4].copy_from_slice(&e.to_le_bytes());
        r[4..8].copy_from_slice(&((self.set_keys.len() / 8) as u32).to_le_bytes());
        r[8..12].copy_from_slice(&(keys.len() as u32).to_le_bytes());
        for key in &keys {
            self.set_keys.extend_from_slice(&key.to_le_bytes());
        }
        self.sets.push(r);
        self.set_ids.insert((k, e, keys), id);
        Ok(id)
    }
}

fn collect_strings(e: &Expr, out: &mut Vec<String>) {
    let lit = |l: &Literal, out: &mut Vec<String>| {
        if let Literal::Str(s) = l {
            out.push(s.clone());
        }
    };
    let operand = |o: &Operand, out: &mut Vec<String>| match o {
        Operand::Lit(l) => lit(l, out),
        Operand::Count(a) => {
            if let Some(f) = &a.filter {
                collect_strings(f, out);
            }
        }
        _ => {}
    };
    match e {
        Expr::Cmp { lhs, rhs, .. } | Expr::Str { lhs, rhs, .. } => {
            operand(lhs, out);
            operand(rhs, out);
        }
        Expr::InSet { lhs, set } => {
            operand(lhs, out);
            set.iter().for_each(|l| lit(l, out));
        }
        Expr::InList { lhs, .. } | Expr::Truthy(lhs) | Expr::Has(lhs) => operand(lhs, out),
        Expr::Not(e) => collect_strings(e, out),
        Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| collect_strings(e, out)),
        Expr::Any(a) | Expr::All(a) => {
            if let Some(f) = &a.filter {
                collect_strings(f, out);
            }
        }
        Expr::Const(_) => {}
    }
}

fn scalar_kind(s: &Scalar) -> u8 {
    match s {
        Scalar::Str => kind::STR,
        Scalar::Int => kind::INT,
        Scalar::Bool => kind::BOOL,
        Scalar::Enum(_) => kind::ENUM,
    }
}

/// The trigger conjunct the index files a policy under: `slot == literal` or
/// `slot in [literals]`, fewest keys first; with its position among the top-level conjuncts.
fn index_key(trigger: &Expr) -> Option<(u16, Vec<&Literal>, usize)> {
    let conjuncts: Vec<&Expr> = match trigger {
        Expr::And(es) => es.iter().collect(),
        e => vec![e],
    };
    conjuncts
        .into_iter()
        .enumerate()
        .filter_map(|(at, c)| match c {
            Expr::Cmp {
                op: crate::hir::CmpOp::Eq,
                lhs: Operand::Slot(s),
                rhs: Operand::Lit(l),
                ..
            }
            | Expr::Cmp {
                op: crate::hir::CmpOp::Eq,
                lhs: Operand::Lit(l),
                rhs: Operand::Slot(s),
                ..
            } => Some((*s, vec![l], at)),
            Expr::InSet {
                lhs: Operand::Slot(s),
                set,
            } if !set.is_empty() => Some((*s, set.iter().collect(), at)),
            _ => None,
        })
        .min_by_key(|(_, keys, _)| keys.len())
}

fn put_u16(r: &mut [u8], at: usize, v: u16) {
    r[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(r: &mut [u8], at: usize, v: u32) {
    r[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_range(r: &mut [u8], at: usize, (off, len): (u32, u32)) {
    put_u32(r, at, off);
    put_u32(r, at + 4, len);
}

/// Lowers a checked program into verified bundle bytes, with the default cost budget
/// ([`ipe_nostd::verify::DEFAULT_MAX_COST`]).
pub fn lower(program: &Program) -> Result<Compiled, LowerError> {
    lower_with_max_cost(program, ipe_nostd::verify::DEFAULT_MAX_COST)
}

/// Lowers a checked program, refusing any policy whose cost bound exceeds `max_cost` steps
/// (the bundle is verified against that budget too).
pub fn lower_with_max_cost(program: &Program, max_cost: u32) -> Result<Compiled, LowerError> {
    lower_located(program, max_cost).map_err(|(_, e)| e)
}

/// [`lower_with_max_cost`], also naming the policy (its index) an error is about, when it
/// is about one.
pub fn lower_located(
    program: &Program,
    max_cost: u32,
) -> Result<Compiled, (Option<usize>, LowerError)> {
    let bundle_wide = |e| (None, e);
    let mut t = Tables::default();
    // Symbols: every string literal and enum member, sorted.
    let mut strings = Vec::new();
    for slot in &program.slots {
        let mut scalars: Vec<&Scalar> = Vec::new();
        match &slot.ty {
            SlotType::Scalar(s) | SlotType::List { elem: s, .. } => scalars.push(s),
            SlotType::Records { fields, .. } => scalars.extend(fields.iter().map(|f| &f.ty)),
        }
        for s in scalars {
            if let Scalar::Enum(m) = s {
                strings.extend(m.iter().cloned());
            }
        }
    }
    for p in &program.policies {
        if let Some(tr) = &p.trigger {
            collect_strings(tr, &mut strings);
        }
        if let PolicyBody::Requires { clauses, .. } = &p.body {
            clauses
                .iter()
                .for_each(|c| collect_strings(&c.expr, &mut strings));
        }
    }
    strings.sort();
    strings.dedup();
    let mut symbols = Vec::with_capacity(strings.len() * format::SYMBOL_LEN);
    for (i, s) in strings.iter().enumerate() {
        let r = t.text(s);
        symbols.extend_from_slice(&r.0.to_le_bytes());
        symbols.extend_from_slice(&r.1.to_le_bytes());
        t.symbols.insert(s.clone(), i as u32);
    }

    // Slots, fields and enums.
    if program.slots.len() >= usize::from(u16::MAX) {
        return Err(bundle_wide(LowerError::TooMany("attributes")));
    }
    let mut slots = Vec::new();
    let mut fields = Vec::new();
    for slot in &program.slots {
        let mut r = [0u8; format::SLOT_LEN];
        put_range(&mut r, 0, t.text(&slot.path));
        put_u16(&mut r, 10, NONE_U16);
        match &slot.ty {
            SlotType::Scalar(s) => {
                r[8] = scalar_kind(s);
                if let Scalar::Enum(m) = s {
                    put_u16(&mut r, 10, t.enum_id(m).map_err(bundle_wide)?);
                }
            }
            SlotType::List { elem, max_len } => {
                r[8] = kind::LIST;
                r[9] = scalar_kind(elem);
                if let Scalar::Enum(m) = elem {
                    put_u16(&mut r, 10, t.enum_id(m).map_err(bundle_wide)?);
                }
                put_u32(&mut r, 16, *max_len);
            }
            SlotType::Records {
                fields: fs,
                max_len,
                ..
            } => {
                r[8] = kind::RECORDS;
                let first = u16::try_from(fields.len() / format::FIELD_LEN)
                    .map_err(|_| bundle_wide(LowerError::TooMany("fields")))?;
                put_u16(&mut r, 12, first);
                put_u16(
                    &mut r,
                    14,
                    u16::try_from(fs.len())
                        .map_err(|_| bundle_wide(LowerError::TooMany("fields")))?,
                );
                put_u32(&mut r, 16, *max_len);
                for f in fs {
                    let mut fr = [0u8; format::FIELD_LEN];
                    put_range(&mut fr, 0, t.text(&f.path));
                    fr[8] = scalar_kind(&f.ty);
                    put_u16(&mut fr, 10, NONE_U16);
                    if let Scalar::Enum(m) = &f.ty {
                        put_u16(&mut fr, 10, t.enum_id(m).map_err(bundle_wide)?);
                    }
                    fields.extend_from_slice(&fr);
                }
            }
        }
        slots.extend_from_slice(&r);
    }

    // Code, policies, clauses, metadata.
    if program.policies.len() >= usize::from(u16::MAX) {
        return Err(bundle_wide(LowerError::TooMany("policies")));
    }
    let mut code = Vec::new();
    let mut policies = Vec::new();
    let mut clauses = Vec::new();
    let mut metadata = Vec::new();
    let mut blocks: Vec<Vec<(usize, usize, Block)>> = Vec::new();
    let mut reports = Vec::new();
    let mut groups: BTreeMap<u16, BTreeMap<i64, Vec<u16>>> = BTreeMap::new();
    let mut unindexed = Vec::new();
    for (pid, p) in program.policies.iter().enumerate() {
        let in_policy = |e| (Some(pid), e);
        let pid = pid as u16;
        let mut r = [0u8; format::POLICY_LEN];
        put_range(&mut r, 0, t.text(&p.name));
        put_range(&mut r, 8, t.text(&p.intent));
        put_u32(&mut r, 16, NONE_U32);
        let mut my_blocks = Vec::new();
        let start = code.len();
        let indexed = p.trigger.as_ref().and_then(index_key);
        if let Some(tr) = &p.trigger {
            let mut g = CodeGen {
                tables: &mut t,
                slots: &program.slots,
                out: Vec::new(),
            };
            // The indexed conjunct leads the code: the verifier proves the index from it.
            g.trigger(tr, indexed.as_ref().map(|(_, _, at)| *at))
                .map_err(in_policy)?;
            let bytes = g.out;
            put_range(&mut r, 24, (code.len() as u32, bytes.len() as u32));
            my_blocks.push((code.len(), bytes.len(), Block::Trigger));
            code.extend_from_slice(&bytes);
        } else {
            put_range(&mut r, 24, (code.len() as u32, 0));
        }
        put_u32(&mut r, 32, (clauses.len() / format::CLAUSE_LEN) as u32);
        let reason = match &p.body {
            PolicyBody::Requires {
                clauses: cs,
                reason,
            } => {
                put_u16(
                    &mut r,
                    36,
                    u16::try_from(cs.len())
                        .map_err(|_| in_policy(LowerError::TooMany("clauses")))?,
                );
                for (ci, c) in cs.iter().enumerate() {
                    // At most 65535 clauses (checked just above): the index fits.
                    let ci = u16::try_from(ci).unwrap_or(u16::MAX);
                    let mut g = CodeGen {
                        tables: &mut t,
                        slots: &program.slots,
                        out: Vec::new(),
                    };
                    g.clause(&c.expr, c.reports_count).map_err(in_policy)?;
                    let bytes = g.out;
                    let mut cr = [0u8; format::CLAUSE_LEN];
                    put_range(&mut cr, 0, (code.len() as u32, bytes.len() as u32));
                    put_range(&mut cr, 8, t.text(&c.text));
                    cr[16] = u8::from(c.reports_count);
                    my_blocks.push((code.len(), bytes.len(), Block::Clause(ci)));
                    code.extend_from_slice(&bytes);
                    clauses.extend_from_slice(&cr);
                }
                reason
            }
            PolicyBody::Denies { reason } => {
                r[38] = 1;
                reason
            }
        };
        if let Some(reason) = reason {
            put_range(&mut r, 16, t.text(reason));
        }
        put_u32(&mut r, 40, (metadata.len() / format::META_LEN) as u32);
        put_u16(
            &mut r,
            44,
            u16::try_from(p.metadata.len())
                .map_err(|_| in_policy(LowerError::TooMany("metadata")))?,
        );
        for (k, v) in &p.metadata {
            let mut mr = [0u8; format::META_LEN];
            put_range(&mut mr, 0, t.text(k));
            let (mk, mv): (u8, i64) = match v {
                Literal::Str(s) | Literal::Enum { name: s, .. } => {
                    let (off, len) = t.text(s);
                    (0, i64::from(off) | (i64::from(len) << 32))
                }
                Literal::Int(i) => (1, *i),
                Literal::Bool(b) => (2, i64::from(*b)),
            };
            mr[8] = mk;
            mr[12..20].copy_from_slice(&mv.to_le_bytes());
            metadata.extend_from_slice(&mr);
        }
        // Index.
        match &indexed {
            Some((slot, keys, _)) => {
                let group = groups.entry(*slot).or_default();
                for k in keys {
                    let key = t.key(k).1;
                    let bucket = group.entry(key).or_default();
                    if bucket.last() != Some(&pid) {
                        bucket.push(pid);
                    }
                }
            }
            None => unindexed.push(pid),
        }
        reports.push(PolicyReport {
            name: p.name.clone(),
            code_bytes: code.len() - start,
            cost: 0,
            indexed_on: indexed.map(|(s, _, _)| program.slots[usize::from(s)].path.clone()),
        });
        blocks.push(my_blocks);
        policies.extend_from_slice(&r);
    }

    // Index tables.
    let mut index_groups = Vec::new();
    let mut index_buckets = Vec::new();
    let mut index_policies: Vec<u8> = Vec::new();
    let push_ids = |ids: &[u16], out: &mut Vec<u8>| -> (u32, u32) {
        let first = (out.len() / 2) as u32;
        for id in ids {
            out.extend_from_slice(&id.to_le_bytes());
        }
        (first, ids.len() as u32)
    };
    for (slot, buckets) in &groups {
        let mut all: Vec<u16> = buckets.values().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        let mut gr = [0u8; format::GROUP_LEN];
        put_u16(&mut gr, 0, *slot);
        put_u32(
            &mut gr,
            4,
            (index_buckets.len() / format::BUCKET_LEN) as u32,
        );
        put_u32(&mut gr, 8, buckets.len() as u32);
        let (fp, np) = push_ids(&all, &mut index_policies);
        put_u32(&mut gr, 12, fp);
        put_u32(&mut gr, 16, np);
        for (key, ids) in buckets {
            let mut br = [0u8; format::BUCKET_LEN];
            br[0..8].copy_from_slice(&key.to_le_bytes());
            let (f, n) = push_ids(ids, &mut index_policies);
            put_u32(&mut br, 8, f);
            put_u32(&mut br, 12, n);
            index_buckets.extend_from_slice(&br);
        }
        index_groups.extend_from_slice(&gr);
    }
    let mut unindexed_bytes = Vec::new();
    push_ids(&unindexed, &mut unindexed_bytes);

    let mut enums = Vec::new();
    let mut members = Vec::new();
    for m in &t.enums {
        let first = (members.len() / 4) as u32;
        for name in m {
            members.extend_from_slice(&t.sym(name).to_le_bytes());
        }
        enums.extend_from_slice(&first.to_le_bytes());
        enums.extend_from_slice(&(m.len() as u32).to_le_bytes());
    }
    let consts: Vec<u8> = t.consts.concat();
    let sets: Vec<u8> = t.sets.concat();

    let mut body = Body {
        default: u8::from(program.default == Effect::Deny),
        text: &t.text,
        symbols: &symbols,
        slots: &slots,
        fields: &fields,
        enums: &enums,
        members: &members,
        consts: &consts,
        sets: &sets,
        set_keys: &t.set_keys,
        code: &code,
        policies: &[],
        clauses: &clauses,
        metadata: &metadata,
        index_groups: &index_groups,
        index_buckets: &index_buckets,
        index_policies: &index_policies,
        unindexed: &unindexed_bytes,
    };
    // Cost bounds, computed by the verifier's own cost model.
    for (i, bs) in blocks.iter().enumerate() {
        let mut cost: u64 = 0;
        for &(off, len, block) in bs {
            let c = ipe_nostd::verify::block_cost(&body, &code[off..off + len]).map_err(
                |(pc, error)| {
                    let e = VerifyError::Code {
                        policy: i as u16,
                        block,
                        pc: pc as u32,
                        error,
                    };
                    (Some(i), LowerError::Verify(BundleError::Verify(e)))
                },
            )?;
            cost = cost.saturating_add(c);
        }
        let bound = u32::try_from(cost)
            .ok()
            .filter(|&c| c <= max_cost)
            .ok_or_else(|| {
                let name = program.policies[i].name.clone();
                let budget = max_cost;
                (Some(i), LowerError::OverBudget { name, cost, budget })
            })?;
        put_u32(&mut policies[i * format::POLICY_LEN..], 48, bound);
        reports[i].cost = bound;
    }
    body.policies = &policies;
    let bytes = encode(&body);
    Bundle::from_bytes_with_max_cost(&bytes, max_cost)
        .map_err(|e| bundle_wide(LowerError::Verify(e)))?;
    Ok(Compiled {
        bytes,
        policies: reports,
    })
}

/// Serializes a body behind the bundle header.
pub fn encode(body: &Body<'_>) -> Vec<u8> {
    // Serializing plain byte slices into a Vec cannot fail.
    let payload = postcard::to_allocvec(body).unwrap_or_default();
    let mut out = Vec::with_capacity(format::HEADER_LEN + payload.len());
    out.extend_from_slice(&format::MAGIC);
    out.extend_from_slice(&format::VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&format::CRC.checksum(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}
