//! The SMT encoding of a checked program ([`ipe_compile::hir`]) over one request.
//!
//! A request is a set of Z3 constants: per top-level scalar attribute a presence bit and a
//! value; per list a presence bit, a length and its first elements (bounded unrolling); per
//! record element each field's presence bit and value. Present values are always valid (the
//! readers' wrong-type and too-long errors are not modelled: they only ever deny).
//!
//! A condition is encoded as two Booleans, `t` (it evaluates to true) and `f` (it evaluates
//! to false); an error is neither. A construct the encoding does not cover yet becomes two
//! fresh Booleans (any truth value at all): an over-approximation, so "never" answers stay
//! true and every witness is checked by the reference evaluator before it is reported.

use ipe_compile::hir::{
    Aggregate, Body, CmpOp, Expr, Literal, Operand, Program, Scalar, SlotId, SlotType, StrOp,
};
use ipe_nostd::Effect;
use std::collections::{BTreeSet, HashMap};
use z3::ast::{Ast, Bool, Int, String as ZStr};
use z3::{Context, Model};

/// A scalar value term.
#[derive(Clone)]
pub(crate) enum Val<'c> {
    Str(ZStr<'c>),
    Int(Int<'c>),
    Bool(Bool<'c>),
}

/// A three-valued condition: `t` when it is true, `f` when false, neither on an error.
#[derive(Clone)]
pub(crate) struct Tf<'c> {
    pub t: Bool<'c>,
    pub f: Bool<'c>,
}

/// One list element.
enum Elem<'c> {
    /// An element of a list of scalars (`None`: a type the encoding does not cover).
    Scalar(Option<Val<'c>>),
    /// A record: per field (in `Records::fields` order) its presence and value.
    Record(Vec<(Bool<'c>, Option<Val<'c>>)>),
}

/// The variables of one top-level attribute.
enum Var<'c> {
    Scalar {
        present: Bool<'c>,
        /// `None`: a type the encoding does not cover (ip).
        val: Option<Val<'c>>,
    },
    List {
        present: Bool<'c>,
        len: Int<'c>,
        elems: Vec<Elem<'c>>,
    },
    /// Maps and nested lists: not encoded (`unsupported`).
    Opaque,
}

/// A top-level attribute of the modelled request.
struct ReqSlot<'c> {
    path: String,
    ty: SlotType,
    var: Var<'c>,
    /// The list bound is below what the program may need (answers "never" become unknown).
    inexact: bool,
}

/// The modelled request: its attributes by path, shared by every program encoded over it.
pub(crate) struct Request<'c> {
    ctx: &'c Context,
    slots: Vec<ReqSlot<'c>>,
    by_path: HashMap<String, usize>,
    /// Constraints every valid request meets (enum ranges, int ranges, list lengths).
    pub domain: Vec<Bool<'c>>,
}

/// How a program reads its lists: per list slot, how many elements a request needs at most.
pub(crate) fn list_needs(program: &Program) -> HashMap<SlotId, Option<u32>> {
    // `None`: a count or a nested use (the whole list may matter).
    let mut needs: HashMap<SlotId, Option<u32>> = HashMap::new();
    fn bump(needs: &mut HashMap<SlotId, Option<u32>>, list: SlotId, exact: bool) {
        let e = needs.entry(list).or_insert(Some(0));
        *e = match (*e, exact) {
            (Some(n), true) => Some(n + 1),
            _ => None,
        };
    }
    fn operand(o: &Operand, depth: u32, needs: &mut HashMap<SlotId, Option<u32>>) {
        match o {
            Operand::Count(a) => agg(a, depth, false, needs),
            Operand::CountSum(aggs) => aggs.iter().for_each(|a| agg(a, depth, false, needs)),
            Operand::Arith(_, args) => args.iter().for_each(|a| operand(a, depth, needs)),
            Operand::Len(x) => operand(x, depth, needs),
            Operand::Segment(g) => operand(&g.x, depth, needs),
            Operand::Lookup(l) => operand(&l.key, depth, needs),
            Operand::MapGet(m) => operand(&m.key, depth, needs),
            Operand::Time(t) => t
                .operands()
                .into_iter()
                .for_each(|a| operand(a, depth, needs)),
            Operand::Slot(_) | Operand::Field { .. } | Operand::Lit(_) => {}
        }
    }
    fn agg(a: &Aggregate, depth: u32, exact: bool, needs: &mut HashMap<SlotId, Option<u32>>) {
        bump(needs, a.list, exact && depth == 0 && a.within.is_none());
        if let Some(f) = &a.filter {
            expr(f, depth + 1, needs);
        }
    }
    fn expr(e: &Expr, depth: u32, needs: &mut HashMap<SlotId, Option<u32>>) {
        match e {
            Expr::Const(_) => {}
            Expr::Truthy(o) | Expr::Has(o) | Expr::InSet { lhs: o, .. } => operand(o, depth, needs),
            Expr::InIp { lhs, .. } | Expr::InRanges { lhs, .. } => operand(lhs, depth, needs),
            Expr::Cmp { lhs, rhs, .. }
            | Expr::Str { lhs, rhs, .. }
            | Expr::Fold { lhs, rhs, .. }
            | Expr::InHierarchy { lhs, rhs, .. } => {
                operand(lhs, depth, needs);
                operand(rhs, depth, needs);
            }
            Expr::InList { lhs, list } => {
                operand(lhs, depth, needs);
                bump(needs, *list, depth == 0);
            }
            Expr::InNested { lhs, list, .. } => {
                operand(lhs, depth, needs);
                bump(needs, *list, false);
            }
            Expr::Not(x) => expr(x, depth, needs),
            Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| expr(x, depth, needs)),
            Expr::Any(a) | Expr::All(a) => agg(a, depth, true, needs),
        }
    }
    for p in &program.policies {
        if let Some(t) = &p.trigger {
            expr(t, 0, &mut needs);
        }
        if let Body::Requires { clauses, .. } = &p.body {
            for c in clauses {
                expr(&c.expr, 0, &mut needs);
            }
        }
    }
    needs
}

fn int_range<'c>(ctx: &'c Context, v: &Int<'c>, lo: i64, hi: i64) -> Bool<'c> {
    Bool::and(
        ctx,
        &[
            &v.ge(&Int::from_i64(ctx, lo)),
            &v.le(&Int::from_i64(ctx, hi)),
        ],
    )
}

impl<'c> Request<'c> {
    pub fn new(ctx: &'c Context) -> Self {
        Request {
            ctx,
            slots: Vec::new(),
            by_path: HashMap::new(),
            domain: Vec::new(),
        }
    }

    /// A fresh value of scalar type `ty`, its domain constraint added; `None` for ip.
    fn value(&mut self, name: &str, ty: &Scalar) -> Option<Val<'c>> {
        let ctx = self.ctx;
        let int = |this: &mut Self, lo: i64, hi: i64, step: bool| {
            let v = Int::new_const(ctx, name);
            this.domain.push(int_range(ctx, &v, lo, hi));
            if step {
                let k = Int::from_i64(ctx, 1000);
                this.domain.push(v.modulo(&k)._eq(&Int::from_i64(ctx, 0)));
            }
            Some(Val::Int(v))
        };
        match ty {
            Scalar::Str => Some(Val::Str(ZStr::new_const(ctx, name))),
            Scalar::Bool => Some(Val::Bool(Bool::new_const(ctx, name))),
            Scalar::Int => int(self, i64::MIN, i64::MAX, false),
            Scalar::Enum(m) => int(self, 0, m.len() as i64 - 1, false),
            // Read from a JSON integer n as n * 1000 (the witness writes n).
            Scalar::Quantity => int(self, i64::MIN / 1000 * 1000, i64::MAX / 1000 * 1000, true),
            Scalar::Time => int(
                self,
                ipe_nostd::time::MIN_TIMESTAMP_MS,
                ipe_nostd::time::MAX_TIMESTAMP_MS / 1000 * 1000,
                true,
            ),
            Scalar::Duration => int(
                self,
                -ipe_nostd::time::MAX_DURATION_MS / 1000 * 1000,
                ipe_nostd::time::MAX_DURATION_MS / 1000 * 1000,
                true,
            ),
            Scalar::Ip => None,
        }
    }

    /// The request slot of `path` (declared `ty`), created on first use with a list bound of
    /// at most `cap` elements for a program needing `need`; `None` when two programs give the
    /// path different types.
    fn slot(&mut self, path: &str, ty: &SlotType, need: Option<u32>, cap: u32) -> Option<usize> {
        if let Some(&i) = self.by_path.get(path) {
            let s = self.slots.get_mut(i)?;
            if s.ty != *ty {
                return None;
            }
            // A second program (`--against`) may need more elements than the first.
            if let (Var::List { elems, .. }, SlotType::List { max_len, .. })
            | (Var::List { elems, .. }, SlotType::Records { max_len, .. }) = (&s.var, ty)
            {
                let want = need.unwrap_or(*max_len).min(*max_len);
                if (elems.len() as u32) < want {
                    s.inexact = true;
                }
            }
            return Some(i);
        }
        let ctx = self.ctx;
        let present = Bool::new_const(ctx, format!("has {path}"));
        let mut inexact = false;
        let var = match ty {
            SlotType::Scalar(s) => {
                let val = self.value(path, s);
                Var::Scalar { present, val }
            }
            _ if path.contains("[]") => Var::Opaque,
            SlotType::Map { .. } => Var::Opaque,
            SlotType::List { max_len, .. } | SlotType::Records { max_len, .. } => {
                let want = need.unwrap_or(*max_len).min(*max_len);
                let bound = want.min(cap);
                inexact = bound < *max_len && (need.is_none() || bound < want);
                let len = Int::new_const(ctx, format!("len {path}"));
                self.domain.push(int_range(ctx, &len, 0, i64::from(bound)));
                let mut elems = Vec::new();
                for i in 0..bound {
                    elems.push(match ty {
                        SlotType::List { elem, .. } => {
                            Elem::Scalar(self.value(&format!("{path}[{i}]"), elem))
                        }
                        SlotType::Records { fields, .. } => Elem::Record(
                            fields
                                .iter()
                                .map(|f| {
                                    let name = format!("{path}[{i}].{}", f.path);
                                    (
                                        Bool::new_const(ctx, format!("has {name}")),
                                        self.value(&name, &f.ty),
                                    )
                                })
                                .collect(),
                        ),
                        _ => Elem::Scalar(None),
                    });
                }
                Var::List {
                    present,
                    len,
                    elems,
                }
            }
        };
        let i = self.slots.len();
        self.slots.push(ReqSlot {
            path: path.to_owned(),
            ty: ty.clone(),
            var,
            inexact,
        });
        self.by_path.insert(path.to_owned(), i);
        Some(i)
    }

    /// The condition "the enum attribute at `path` is present and has rank `rank`", when
    /// the request has such an attribute.
    pub fn enum_is(&self, path: &str, rank: usize) -> Option<Bool<'c>> {
        let s = self.slots.get(*self.by_path.get(path)?)?;
        match &s.var {
            Var::Scalar {
                present,
                val: Some(Val::Int(v)),
            } => Some(Bool::and(
                self.ctx,
                &[present, &v._eq(&Int::from_i64(self.ctx, rank as i64))],
            )),
            _ => None,
        }
    }

    /// The witness request a model describes: every attribute present in it, with its value.
    pub fn witness(&self, m: &Model<'c>) -> serde_json::Value {
        let mut root = serde_json::Map::new();
        let b = |x: &Bool<'c>| m.eval(x, true).and_then(|v| v.as_bool()).unwrap_or(false);
        for s in &self.slots {
            match (&s.var, &s.ty) {
                (Var::Scalar { present, val }, SlotType::Scalar(ty)) if b(present) => {
                    if let Some(v) = val.as_ref().and_then(|v| json_of(m, v, ty)) {
                        insert(&mut root, &s.path, v);
                    }
                }
                (
                    Var::List {
                        present,
                        len,
                        elems,
                    },
                    _,
                ) if b(present) => {
                    let n = m
                        .eval(len, true)
                        .and_then(|v| v.as_i64())
                        .unwrap_or(0)
                        .clamp(0, elems.len() as i64) as usize;
                    let mut items = Vec::new();
                    for e in elems.iter().take(n) {
                        items.push(match (e, &s.ty) {
                            (Elem::Scalar(Some(v)), SlotType::List { elem, .. }) => {
                                json_of(m, v, elem).unwrap_or(serde_json::Value::Null)
                            }
                            (Elem::Record(fs), SlotType::Records { fields, .. }) => {
                                let mut obj = serde_json::Map::new();
                                for ((p, v), f) in fs.iter().zip(fields) {
                                    if b(p) {
                                        if let Some(v) =
                                            v.as_ref().and_then(|v| json_of(m, v, &f.ty))
                                        {
                                            insert(&mut obj, &f.path, v);
                                        }
                                    }
                                }
                                serde_json::Value::Object(obj)
                            }
                            _ => serde_json::Value::Null,
                        });
                    }
                    insert(&mut root, &s.path, serde_json::Value::Array(items));
                }
                _ => {}
            }
        }
        serde_json::Value::Object(root)
    }
}

/// The JSON a reader turns into the value `v` of type `ty` holds in `m`.
fn json_of<'c>(m: &Model<'c>, v: &Val<'c>, ty: &Scalar) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match v {
        Val::Str(s) => J::String(unescape(&m.eval(s, true)?.as_string()?)?),
        Val::Bool(b) => J::Bool(m.eval(b, true)?.as_bool()?),
        Val::Int(i) => {
            let n = m.eval(i, true)?.as_i64()?;
            match ty {
                Scalar::Enum(members) => J::String(members.get(usize::try_from(n).ok()?)?.clone()),
                Scalar::Quantity | Scalar::Time | Scalar::Duration => J::from(n / 1000),
                _ => J::from(n),
            }
        }
    })
}

/// A string as Z3 prints a model value: `\u{XX}` (and `\xXX`) escapes read back into
/// chars; `None` for another escape.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex: String = match it.next()? {
            'u' if it.peek() == Some(&'{') => {
                it.next();
                let h: String = it.by_ref().take_while(|&c| c != '}').collect();
                h
            }
            'u' => it.by_ref().take(4).collect(),
            'x' => it.by_ref().take(2).collect(),
            '\\' => {
                out.push('\\');
                continue;
            }
            _ => return None,
        };
        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
    }
    Some(out)
}

/// Sets `path` (path text, [`ipe_nostd::path`]) of `root` to `v`, creating objects on the way.
fn insert(root: &mut serde_json::Map<String, serde_json::Value>, path: &str, v: serde_json::Value) {
    let keys: Vec<String> = ipe_nostd::path::segments(path)
        .map(|s| {
            let mut k = String::new();
            let _ = s.write_key(&mut k);
            k
        })
        .collect();
    let Some((last, init)) = keys.split_last() else {
        return;
    };
    let mut obj = root;
    for k in init {
        let entry = obj
            .entry(k.clone())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if !entry.is_object() {
            *entry = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(next) = entry else {
            return;
        };
        obj = next;
    }
    obj.insert(last.clone(), v);
}

/// One encoded policy.
pub(crate) struct PolicyEnc<'c> {
    /// Its clauses (none for `denies`).
    pub clauses: Vec<Tf<'c>>,
    /// It applies: its trigger is true (and, in a first-match group, no earlier rule's
    /// trigger was true or an error).
    pub applies: Bool<'c>,
    /// It applies and every requirement holds (false for `denies`).
    pub ok: Bool<'c>,
    /// Its trigger and every clause evaluate without an error (for readable witnesses).
    pub decided: Bool<'c>,
    /// It reports a violation (in `violations`).
    pub violated: Bool<'c>,
    /// It makes the decision deny (a violation or an error).
    pub denies: Bool<'c>,
    /// Constructs the encoding abstracted.
    pub unsupported: BTreeSet<String>,
    /// It reads a list whose bound may be too small.
    pub inexact: bool,
    /// The slots it reads (request indices).
    pub reads: BTreeSet<usize>,
}

/// One encoded program.
pub(crate) struct ProgramEnc<'c> {
    pub policies: Vec<PolicyEnc<'c>>,
    /// The decision is allow.
    pub allow: Bool<'c>,
    /// Some list bound may be too small somewhere (answers "never" are then unknown).
    pub inexact: bool,
    /// Constructs the encoding abstracted, in any policy.
    pub unsupported: BTreeSet<String>,
}

/// The encoder of one program over a request.
struct Enc<'a, 'c> {
    ctx: &'c Context,
    req: &'a mut Request<'c>,
    /// Program slot id to request slot index (`None`: a type clash with another program).
    map: Vec<Option<usize>>,
    /// The element bound at each aggregate level: (list slot, element index).
    env: Vec<(SlotId, usize)>,
    unsupported: BTreeSet<String>,
    inexact: bool,
    reads: BTreeSet<usize>,
    fresh: u32,
}

type Res<T> = Result<T, String>;

/// Encodes `program` over `req`; list bounds are at most `cap` elements.
pub(crate) fn encode<'c>(req: &mut Request<'c>, program: &Program, cap: u32) -> ProgramEnc<'c> {
    let ctx = req.ctx;
    let needs = list_needs(program);
    let map = program
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let need = needs.get(&(i as SlotId)).copied().unwrap_or(Some(0));
            req.slot(&s.path, &s.ty, need, cap)
        })
        .collect();
    let mut enc = Enc {
        ctx,
        req,
        map,
        env: Vec::new(),
        unsupported: BTreeSet::new(),
        inexact: false,
        reads: BTreeSet::new(),
        fresh: 0,
    };
    let tt = Bool::from_bool(ctx, true);
    let ff = Bool::from_bool(ctx, false);
    let mut group_of = vec![None; program.policies.len()];
    for (gi, g) in program.groups.iter().enumerate() {
        for s in group_of.iter_mut().skip(g.first).take(g.len) {
            *s = Some(gi);
        }
    }
    // Per group: every earlier rule's trigger was false.
    let mut open: Vec<Bool<'c>> = vec![tt.clone(); program.groups.len()];
    let mut policies = Vec::new();
    for (pi, p) in program.policies.iter().enumerate() {
        enc.unsupported.clear();
        enc.inexact = false;
        enc.reads.clear();
        let trigger = match &p.trigger {
            None => Tf {
                t: tt.clone(),
                f: ff.clone(),
            },
            Some(t) => enc.expr(t),
        };
        let gate = match group_of[pi] {
            Some(g) => {
                let gate = open[g].clone();
                open[g] = Bool::and(ctx, &[&gate, &trigger.f]);
                gate
            }
            None => tt.clone(),
        };
        let clauses: Vec<Tf<'c>> = match &p.body {
            Body::Requires { clauses, .. } => clauses.iter().map(|c| enc.expr(&c.expr)).collect(),
            Body::Denies { .. } => Vec::new(),
        };
        let applies = Bool::and(ctx, &[&gate, &trigger.t]);
        let (all_t, any_f) = match &p.body {
            Body::Requires { .. } => {
                let ts: Vec<&Bool<'c>> = clauses.iter().map(|c| &c.t).collect();
                let fs: Vec<&Bool<'c>> = clauses.iter().map(|c| &c.f).collect();
                (Bool::and(ctx, &ts), Bool::or(ctx, &fs))
            }
            Body::Denies { .. } => (ff.clone(), tt.clone()),
        };
        let ok = Bool::and(ctx, &[&applies, &all_t]);
        let mut dec = vec![Bool::or(ctx, &[&trigger.t, &trigger.f])];
        dec.extend(clauses.iter().map(|c| Bool::or(ctx, &[&c.t, &c.f])));
        let dec: Vec<&Bool<'c>> = dec.iter().collect();
        let decided = Bool::and(ctx, &dec);
        let violated = Bool::and(ctx, &[&applies, &any_f]);
        let denies = Bool::and(ctx, &[&gate, &trigger.f.not(), &ok.not()]);
        policies.push(PolicyEnc {
            clauses,
            applies,
            ok,
            decided,
            violated,
            denies,
            unsupported: enc.unsupported.clone(),
            inexact: enc.inexact,
            reads: enc.reads.clone(),
        });
    }
    let denied: Vec<&Bool<'c>> = policies.iter().map(|p| &p.denies).collect();
    let matched: Vec<&Bool<'c>> = policies.iter().map(|p| &p.applies).collect();
    let any_denied = Bool::or(ctx, &denied);
    let default_allow = Bool::from_bool(ctx, program.default == Effect::Allow);
    let any_matched = Bool::or(ctx, &matched);
    let allow = Bool::and(
        ctx,
        &[
            &any_denied.not(),
            &Bool::or(ctx, &[&any_matched, &default_allow]),
        ],
    );
    let inexact = policies.iter().any(|p| p.inexact);
    let unsupported = policies
        .iter()
        .flat_map(|p| p.unsupported.iter().cloned())
        .collect();
    ProgramEnc {
        policies,
        allow,
        inexact,
        unsupported,
    }
}

impl<'c> Enc<'_, 'c> {
    fn tf(&self, t: Bool<'c>, f: Bool<'c>) -> Tf<'c> {
        Tf { t, f }
    }

    /// A condition, or fresh Booleans (never both true) for what is not encoded.
    fn expr(&mut self, e: &Expr) -> Tf<'c> {
        match self.expr_r(e) {
            Ok(tf) => tf,
            Err(what) => {
                self.unsupported.insert(what);
                self.fresh += 1;
                let t = Bool::fresh_const(self.ctx, "opaque_t");
                let f = Bool::fresh_const(self.ctx, "opaque_f");
                self.req.domain.push(Bool::and(self.ctx, &[&t, &f]).not());
                Tf { t, f }
            }
        }
    }

    fn slot_var(&mut self, id: SlotId) -> Res<usize> {
        let i = self
            .map
            .get(usize::from(id))
            .copied()
            .flatten()
            .ok_or_else(|| "an attribute whose type differs between the two bundles".to_owned())?;
        self.reads.insert(i);
        if self.req.slots[i].inexact {
            self.inexact = true;
        }
        Ok(i)
    }

    fn lit(&self, l: &Literal) -> Res<Val<'c>> {
        Ok(match l {
            Literal::Str(s) => Val::Str(self.str_lit(s)?),
            Literal::Int(n) => Val::Int(Int::from_i64(self.ctx, *n)),
            Literal::Bool(b) => Val::Bool(Bool::from_bool(self.ctx, *b)),
            Literal::Enum { rank, .. } => Val::Int(Int::from_i64(self.ctx, i64::from(*rank))),
        })
    }

    fn str_lit(&self, s: &str) -> Res<ZStr<'c>> {
        // Z3 reads escapes in string literals: only plain printable ASCII is passed as is.
        if !s.chars().all(|c| (' '..='~').contains(&c) && c != '\\') {
            return Err("a string literal with non-ASCII characters or a backslash".into());
        }
        ZStr::from_str(self.ctx, s).map_err(|_| "a string literal with a NUL".to_owned())
    }

    /// An operand: (it is defined, its value).
    fn operand(&mut self, o: &Operand) -> Res<(Bool<'c>, Val<'c>)> {
        let tt = Bool::from_bool(self.ctx, true);
        match o {
            Operand::Lit(l) => Ok((tt, self.lit(l)?)),
            Operand::Slot(id) => {
                let i = self.slot_var(*id)?;
                match &self.req.slots[i].var {
                    Var::Scalar {
                        present,
                        val: Some(v),
                    } => Ok((present.clone(), v.clone())),
                    Var::Scalar { val: None, .. } => Err("ip addresses".into()),
                    _ => Err("a list read as a value".into()),
                }
            }
            Operand::Field { level, list, field } => {
                let (l, idx) = *self
                    .env
                    .get(usize::from(*level))
                    .ok_or_else(|| "an element of an enclosing aggregate".to_owned())?;
                debug_assert_eq!(l, *list);
                let i = self.slot_var(*list)?;
                let Var::List { elems, .. } = &self.req.slots[i].var else {
                    return Err("elements of maps and nested lists".into());
                };
                match elems.get(idx) {
                    Some(Elem::Scalar(Some(v))) => Ok((tt, v.clone())),
                    Some(Elem::Record(fs)) => match fs.get(usize::from(*field)) {
                        Some((p, Some(v))) => Ok((p.clone(), v.clone())),
                        _ => Err("ip addresses".into()),
                    },
                    _ => Err("ip addresses".into()),
                }
            }
            Operand::Count(agg) => self.count(agg),
            Operand::CountSum(aggs) => {
                let mut ds = Vec::new();
                let mut vs = Vec::new();
                for a in aggs {
                    let (d, v) = self.count(a)?;
                    ds.push(d);
                    let Val::Int(v) = v else {
                        return Err("count".into());
                    };
                    vs.push(v);
                }
                let ds: Vec<&Bool<'c>> = ds.iter().collect();
                let vs: Vec<&Int<'c>> = vs.iter().collect();
                Ok((Bool::and(self.ctx, &ds), Val::Int(Int::add(self.ctx, &vs))))
            }
            Operand::Lookup(l) => {
                let (d, k) = self.operand(&l.key)?;
                let Val::Str(k) = k else {
                    return Err("a lookup with a non-string key".into());
                };
                let mut hits = Vec::new();
                let mut value: Option<Val<'c>> = None;
                for (key, v) in l.rows.iter().rev() {
                    let hit = k._eq(&self.str_lit(key)?);
                    let v = self.lit(v)?;
                    value = Some(match (value, v) {
                        (None, v) => v,
                        (Some(Val::Str(e)), Val::Str(v)) => Val::Str(hit.ite(&v, &e)),
                        (Some(Val::Int(e)), Val::Int(v)) => Val::Int(hit.ite(&v, &e)),
                        (Some(Val::Bool(e)), Val::Bool(v)) => Val::Bool(hit.ite(&v, &e)),
                        _ => return Err("a lookup table of mixed types".into()),
                    });
                    hits.push(hit);
                }
                let value = value.ok_or_else(|| "an empty lookup table".to_owned())?;
                let hits: Vec<&Bool<'c>> = hits.iter().collect();
                Ok((
                    Bool::and(self.ctx, &[&d, &Bool::or(self.ctx, &hits)]),
                    value,
                ))
            }
            Operand::Arith(..) => Err("arithmetic".into()),
            Operand::Len(_) => Err("`len`".into()),
            Operand::Segment(_) => Err("`segment`".into()),
            Operand::Time(_) => Err("time arithmetic and calendar parts".into()),
            // Issue #13: maps are opaque to the encoding (`Var::Opaque`).
            Operand::MapGet(_) => Err("a map read with a key known at run time".into()),
        }
    }

    /// The list variables of an aggregate's list.
    fn list(&mut self, agg: &Aggregate) -> Res<(Bool<'c>, Int<'c>, usize, SlotId)> {
        if agg.within.is_some() {
            return Err("nested lists".into());
        }
        let i = self.slot_var(agg.list)?;
        match &self.req.slots[i].var {
            Var::List {
                present,
                len,
                elems,
                ..
            } => Ok((present.clone(), len.clone(), elems.len(), agg.list)),
            _ => Err("maps".into()),
        }
    }

    /// The filter's truth for each element (bound at the aggregate's level).
    fn per_elem(&mut self, agg: &Aggregate, n: usize, list: SlotId) -> Vec<Tf<'c>> {
        let mut out = Vec::new();
        for i in 0..n {
            let tf = match &agg.filter {
                Some(f) => {
                    self.env.truncate(usize::from(agg.level));
                    self.env.push((list, i));
                    let tf = self.expr(f);
                    self.env.truncate(usize::from(agg.level));
                    tf
                }
                None => self.tf(
                    Bool::from_bool(self.ctx, true),
                    Bool::from_bool(self.ctx, false),
                ),
            };
            out.push(tf);
        }
        out
    }

    fn count(&mut self, agg: &Aggregate) -> Res<(Bool<'c>, Val<'c>)> {
        let (present, len, n, list) = self.list(agg)?;
        if agg.filter.is_none() {
            return Ok((present, Val::Int(len)));
        }
        let elems = self.per_elem(agg, n, list);
        let ctx = self.ctx;
        let mut defined = vec![present];
        let mut terms = Vec::new();
        for (i, tf) in elems.iter().enumerate() {
            let inside = len.gt(&Int::from_i64(ctx, i as i64));
            defined.push(Bool::or(ctx, &[&inside.not(), &tf.t, &tf.f]));
            let hit = Bool::and(ctx, &[&inside, &tf.t]);
            terms.push(hit.ite(&Int::from_i64(ctx, 1), &Int::from_i64(ctx, 0)));
        }
        let d: Vec<&Bool<'c>> = defined.iter().collect();
        let total = if terms.is_empty() {
            Int::from_i64(ctx, 0)
        } else {
            let t: Vec<&Int<'c>> = terms.iter().collect();
            Int::add(ctx, &t)
        };
        Ok((Bool::and(ctx, &d), Val::Int(total)))
    }

    fn cmp(&self, op: CmpOp, l: &Val<'c>, r: &Val<'c>) -> Res<Bool<'c>> {
        Ok(match (l, r) {
            (Val::Int(a), Val::Int(b)) => match op {
                CmpOp::Eq => a._eq(b),
                CmpOp::Ne => a._eq(b).not(),
                CmpOp::Lt => a.lt(b),
                CmpOp::Le => a.le(b),
                CmpOp::Gt => a.gt(b),
                CmpOp::Ge => a.ge(b),
            },
            (Val::Str(a), Val::Str(b)) => match op {
                CmpOp::Eq => a._eq(b),
                CmpOp::Ne => a._eq(b).not(),
                _ => return Err("ordered string comparison".into()),
            },
            (Val::Bool(a), Val::Bool(b)) => match op {
                CmpOp::Eq => a._eq(b),
                CmpOp::Ne => a._eq(b).not(),
                _ => return Err("ordered bool comparison".into()),
            },
            _ => return Err("a comparison of mixed types".into()),
        })
    }

    fn expr_r(&mut self, e: &Expr) -> Res<Tf<'c>> {
        let ctx = self.ctx;
        let defined = |d: &[&Bool<'c>], c: Bool<'c>| {
            let mut t: Vec<&Bool<'c>> = d.to_vec();
            t.push(&c);
            let nc = c.not();
            let mut f: Vec<&Bool<'c>> = d.to_vec();
            f.push(&nc);
            Tf {
                t: Bool::and(ctx, &t),
                f: Bool::and(ctx, &f),
            }
        };
        Ok(match e {
            Expr::Const(b) => self.tf(Bool::from_bool(ctx, *b), Bool::from_bool(ctx, !*b)),
            Expr::Truthy(o) => {
                let (d, v) = self.operand(o)?;
                let Val::Bool(v) = v else {
                    return Err("a non-bool condition".into());
                };
                defined(&[&d], v)
            }
            Expr::Cmp { op, lhs, rhs, .. } => {
                let (dl, l) = self.operand(lhs)?;
                let (dr, r) = self.operand(rhs)?;
                let c = self.cmp(*op, &l, &r)?;
                defined(&[&dl, &dr], c)
            }
            Expr::InSet { lhs, set } => {
                let (d, l) = self.operand(lhs)?;
                let mut hits = Vec::new();
                for x in set {
                    hits.push(self.cmp(CmpOp::Eq, &l, &self.lit(x)?)?);
                }
                let h: Vec<&Bool<'c>> = hits.iter().collect();
                defined(&[&d], Bool::or(ctx, &h))
            }
            Expr::InList { lhs, list } => {
                let (d, l) = self.operand(lhs)?;
                let i = self.slot_var(*list)?;
                let Var::List {
                    present,
                    len,
                    elems,
                    ..
                } = &self.req.slots[i].var
                else {
                    return Err("`in` over a map".into());
                };
                let mut hits = Vec::new();
                for (k, el) in elems.iter().enumerate() {
                    let Elem::Scalar(Some(v)) = el else {
                        return Err("`in` over a list of ip addresses".into());
                    };
                    let inside = len.gt(&Int::from_i64(ctx, k as i64));
                    hits.push(Bool::and(ctx, &[&inside, &self.cmp(CmpOp::Eq, &l, v)?]));
                }
                let h: Vec<&Bool<'c>> = hits.iter().collect();
                let present = present.clone();
                defined(&[&d, &present], Bool::or(ctx, &h))
            }
            Expr::InHierarchy { lhs, rhs, pairs } => {
                let (dl, l) = self.operand(lhs)?;
                let (dr, r) = self.operand(rhs)?;
                let (Val::Str(l), Val::Str(r)) = (l, r) else {
                    return Err("a hierarchy over non-strings".into());
                };
                let mut hits = Vec::new();
                for (d, a) in pairs {
                    hits.push(Bool::and(
                        ctx,
                        &[&l._eq(&self.str_lit(d)?), &r._eq(&self.str_lit(a)?)],
                    ));
                }
                let h: Vec<&Bool<'c>> = hits.iter().collect();
                defined(&[&dl, &dr], Bool::or(ctx, &h))
            }
            Expr::Str { op, lhs, rhs } => {
                let (dl, l) = self.operand(lhs)?;
                let (dr, r) = self.operand(rhs)?;
                let (Val::Str(l), Val::Str(r)) = (l, r) else {
                    return Err("a string test over non-strings".into());
                };
                let c = match op {
                    StrOp::StartsWith => r.prefix(&l),
                    StrOp::EndsWith => r.suffix(&l),
                    StrOp::Contains => l.contains(&r),
                    StrOp::Like => return Err("`like`".into()),
                    StrOp::Matches => return Err("`matches`".into()),
                    _ => return Err("`lower`".into()),
                };
                defined(&[&dl, &dr], c)
            }
            Expr::Has(o) => match o {
                Operand::Slot(id) => {
                    let i = self.slot_var(*id)?;
                    let p = match &self.req.slots[i].var {
                        Var::Scalar { present, .. } | Var::List { present, .. } => present.clone(),
                        Var::Opaque => return Err("`has` on a map or nested list".into()),
                    };
                    self.tf(p.clone(), p.not())
                }
                Operand::Field { .. } => {
                    let (d, _) = match self.operand(o) {
                        Ok(x) => x,
                        Err(_) => return Err("`has` on an ip field".into()),
                    };
                    self.tf(d.clone(), d.not())
                }
                Operand::Lookup(l) => {
                    let (d, k) = self.operand(&l.key)?;
                    let Val::Str(k) = k else {
                        return Err("a lookup with a non-string key".into());
                    };
                    let mut hits = Vec::new();
                    for (key, _) in &l.rows {
                        hits.push(k._eq(&self.str_lit(key)?));
                    }
                    let h: Vec<&Bool<'c>> = hits.iter().collect();
                    defined(&[&d], Bool::or(ctx, &h))
                }
                Operand::MapGet(_) => {
                    return Err("`has` on a map read with a key known at run time".into())
                }
                _ => self.tf(Bool::from_bool(ctx, true), Bool::from_bool(ctx, false)),
            },
            Expr::Not(x) => {
                let tf = self.expr(x);
                self.tf(tf.f, tf.t)
            }
            Expr::And(xs) | Expr::Or(xs) => {
                let parts: Vec<Tf<'c>> = xs.iter().map(|x| self.expr(x)).collect();
                let ts: Vec<&Bool<'c>> = parts.iter().map(|p| &p.t).collect();
                let fs: Vec<&Bool<'c>> = parts.iter().map(|p| &p.f).collect();
                if matches!(e, Expr::And(_)) {
                    self.tf(Bool::and(ctx, &ts), Bool::or(ctx, &fs))
                } else {
                    self.tf(Bool::or(ctx, &ts), Bool::and(ctx, &fs))
                }
            }
            Expr::Any(agg) | Expr::All(agg) => {
                let (present, len, n, list) = self.list(agg)?;
                let any = matches!(e, Expr::Any(_));
                if agg.filter.is_none() {
                    return Ok(self.tf(
                        Bool::and(ctx, &[&present, &Bool::from_bool(ctx, !any)]),
                        Bool::and(ctx, &[&present, &Bool::from_bool(ctx, any)]),
                    ));
                }
                let elems = self.per_elem(agg, n, list);
                // Per element: (in the list and true, out of the list or false) etc.
                let mut t_terms = Vec::new();
                let mut f_terms = Vec::new();
                for (i, tf) in elems.iter().enumerate() {
                    let inside = len.gt(&Int::from_i64(ctx, i as i64));
                    if any {
                        t_terms.push(Bool::and(ctx, &[&inside, &tf.t]));
                        f_terms.push(Bool::or(ctx, &[&inside.not(), &tf.f]));
                    } else {
                        t_terms.push(Bool::or(ctx, &[&inside.not(), &tf.t]));
                        f_terms.push(Bool::and(ctx, &[&inside, &tf.f]));
                    }
                }
                let ts: Vec<&Bool<'c>> = t_terms.iter().collect();
                let fs: Vec<&Bool<'c>> = f_terms.iter().collect();
                let (t, f) = if any {
                    (Bool::or(ctx, &ts), Bool::and(ctx, &fs))
                } else {
                    (Bool::and(ctx, &ts), Bool::or(ctx, &fs))
                };
                self.tf(
                    Bool::and(ctx, &[&present, &t]),
                    Bool::and(ctx, &[&present, &f]),
                )
            }
            Expr::InNested { .. } => return Err("nested lists".into()),
            Expr::InIp { .. } => return Err("ip addresses".into()),
            // Issue #14, session 9: case folding is not encoded (unknown, never a wrong answer).
            Expr::Fold { .. } => return Err("`lower`".into()),
            // Issue #14, session 9: `x in [ranges]` is `lo <= x <= hi` for some range.
            Expr::InRanges { lhs, ranges } => {
                let (d, l) = self.operand(lhs)?;
                let Val::Int(v) = l else {
                    return Err("a range over a non-int".into());
                };
                let hits: Vec<Bool<'c>> = ranges
                    .iter()
                    .map(|&(lo, hi)| {
                        let lo = Int::from_i64(ctx, lo);
                        let hi = Int::from_i64(ctx, hi);
                        Bool::and(ctx, &[&v.ge(&lo), &v.le(&hi)])
                    })
                    .collect();
                let h: Vec<&Bool<'c>> = hits.iter().collect();
                defined(&[&d], Bool::or(ctx, &h))
            }
        })
    }
}
