//! Static analysis of IPE policy bundles with the Z3 SMT solver (`ipe analyze`, issue #16).
//!
//! A checked program ([`ipe_compile::hir::Program`]) is encoded into SMT over one symbolic
//! request (see `docs/analyze.md`); each question (can this trigger hold? can these two
//! policies both be met?) is one solver query. Every finding that comes with a witness
//! request is confirmed by the reference evaluator ([`ipe_compile::evaluate`]) before it is
//! reported; a witness that does not reproduce, a solver timeout or a construct the encoding
//! abstracts turns the answer into [`Kind::Unknown`], never a wrong answer.
#![deny(missing_docs)]

mod encode;
mod render;

pub use render::{render_text, to_json};

use encode::{ProgramEnc, Request};
use ipe_compile::eval::Truth;
use ipe_compile::hir::{Body, CmpOp, Expr, Literal, Operand, Program, Scalar, SlotId, SlotType};
use ipe_nostd::Effect;
use serde_json::Value;
use z3::ast::Bool;
use z3::{Config, Context, Model, Params, SatResult, Solver};

/// Analysis settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// The most elements of a list the encoding unrolls (a list whose schema `max` and uses
    /// need more makes answers "never" about it unknown).
    pub list_bound: u32,
    /// The solver's time limit per query, in ms (a timeout is an unknown answer).
    pub timeout_ms: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            list_bound: 8,
            timeout_ms: 2000,
        }
    }
}

/// What a finding says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `IPE-A001`: no request makes the policy apply.
    Dead,
    /// `IPE-A002`: once the policy applies, the clause never fails.
    AlwaysTrue,
    /// `IPE-A003`: once the policy applies, the clause never holds.
    AlwaysFalse,
    /// `IPE-A004`: two policies apply together but their requirements cannot both hold.
    Conflict,
    /// `IPE-A005`: every violation of the policy is a violation of another.
    Shadowed,
    /// `IPE-A006`: two policies are violated by exactly the same requests.
    Duplicate,
    /// `IPE-A007`: under `default deny`, every request the policy applies to is denied.
    NeverAllowed,
    /// `IPE-A008`: under `default deny`, no request (or none of a resource type) is allowed.
    NothingAllowed,
    /// `IPE-A009`: with `--against`, a request whose decision differs between the bundles.
    Changed,
    /// `IPE-A000`: the analysis could not decide (timeout, unsupported construct, list
    /// bound, or a witness that did not reproduce).
    Unknown,
}

impl Kind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Unknown => "IPE-A000",
            Kind::Dead => "IPE-A001",
            Kind::AlwaysTrue => "IPE-A002",
            Kind::AlwaysFalse => "IPE-A003",
            Kind::Conflict => "IPE-A004",
            Kind::Shadowed => "IPE-A005",
            Kind::Duplicate => "IPE-A006",
            Kind::NeverAllowed => "IPE-A007",
            Kind::NothingAllowed => "IPE-A008",
            Kind::Changed => "IPE-A009",
        }
    }

    /// A short name for JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Unknown => "unknown",
            Kind::Dead => "dead-policy",
            Kind::AlwaysTrue => "clause-always-true",
            Kind::AlwaysFalse => "clause-always-false",
            Kind::Conflict => "conflict",
            Kind::Shadowed => "shadowed",
            Kind::Duplicate => "duplicate",
            Kind::NeverAllowed => "never-allowed",
            Kind::NothingAllowed => "nothing-allowed",
            Kind::Changed => "decision-changed",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// What it says.
    pub kind: Kind,
    /// One sentence.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The policy it is located at (index into the analyzed program's policies).
    pub policy: Option<usize>,
    /// The other policy (conflicts, shadowing, duplicates).
    pub other: Option<usize>,
    /// The clause (index into the policy's clauses).
    pub clause: Option<usize>,
    /// A request showing it, confirmed by the reference evaluator.
    pub witness: Option<Value>,
    /// Why an answer is unknown (or a debug note).
    pub note: Option<String>,
}

impl Finding {
    fn new(kind: Kind, message: String) -> Self {
        Finding {
            kind,
            message,
            help: None,
            policy: None,
            other: None,
            clause: None,
            witness: None,
            note: None,
        }
    }
    fn at(mut self, policy: usize) -> Self {
        self.policy = Some(policy);
        self
    }
    fn other(mut self, other: usize) -> Self {
        self.other = Some(other);
        self
    }
    fn clause(mut self, clause: usize) -> Self {
        self.clause = Some(clause);
        self
    }
    fn help(mut self, help: &str) -> Self {
        self.help = Some(help.to_owned());
        self
    }
    fn note(mut self, note: String) -> Self {
        self.note = Some(note);
        self
    }
}

/// A solver answer.
enum Out<'c> {
    Sat(Model<'c>),
    Unsat,
    Unknown(String),
}

/// The solver over one request and the programs encoded over it.
struct Session<'c> {
    solver: Solver<'c>,
    req: Request<'c>,
    queries: usize,
}

impl<'c> Session<'c> {
    fn new(ctx: &'c Context, opts: &Options) -> Self {
        let solver = Solver::new(ctx);
        let mut params = Params::new(ctx);
        params.set_u32("timeout", opts.timeout_ms);
        solver.set_params(&params);
        Session {
            solver,
            req: Request::new(ctx),
            queries: 0,
        }
    }

    /// Asserts the request's domain (after every program is encoded).
    fn seal(&self) {
        for d in &self.req.domain {
            self.solver.assert(d);
        }
    }

    /// Whether `conds` can all hold.
    fn check(&mut self, conds: &[&Bool<'c>]) -> Out<'c> {
        self.queries += 1;
        self.solver.push();
        for c in conds {
            self.solver.assert(c);
        }
        let out = match self.solver.check() {
            SatResult::Sat => match self.solver.get_model() {
                Some(m) => Out::Sat(m),
                None => Out::Unknown("the solver gave no model".into()),
            },
            SatResult::Unsat => Out::Unsat,
            SatResult::Unknown => Out::Unknown(
                self.solver
                    .get_reason_unknown()
                    .unwrap_or_else(|| "unknown".into()),
            ),
        };
        self.solver.pop(1);
        out
    }
}

fn holds<'c>(m: &Model<'c>, b: &Bool<'c>) -> bool {
    m.eval(b, true).and_then(|v| v.as_bool()).unwrap_or(false)
}

/// What the reference evaluator says of a request: the effect, matched and violated policies.
struct Seen {
    effect: Effect,
    matched: Vec<String>,
    violated: Vec<String>,
}

fn seen(program: &Program, w: &Value) -> Seen {
    let r = ipe_compile::evaluate(program, w);
    Seen {
        effect: r.effect,
        matched: r.matched,
        violated: r.violations.into_iter().map(|v| v.policy).collect(),
    }
}

fn unknown_witness(program: &Program, what: &str, p: usize, enc: &ProgramEnc<'_>) -> Finding {
    let pol = &enc.policies[p];
    let why = if pol.unsupported.is_empty() {
        "the solver's witness did not reproduce with the reference evaluator (an analyzer \
         bug: please report it)"
            .to_owned()
    } else {
        format!(
            "{} not supported yet",
            pol.unsupported
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Finding::new(
        Kind::Unknown,
        format!("unknown: {what} for policy `{}`", program.policies[p].name),
    )
    .at(p)
    .note(why)
}

fn unknown_bound(program: &Program, what: &str, p: usize, opts: &Options) -> Finding {
    Finding::new(
        Kind::Unknown,
        format!("unknown: {what} for policy `{}`", program.policies[p].name),
    )
    .at(p)
    .note(format!(
        "it reads a list that may need more than {} elements (the analysis bound, \
         `--list-bound`)",
        opts.list_bound
    ))
}

fn unknown_timeout(program: &Program, what: &str, p: usize, why: &str) -> Finding {
    Finding::new(
        Kind::Unknown,
        format!("unknown: {what} for policy `{}`", program.policies[p].name),
    )
    .at(p)
    .note(format!("the solver gave up ({why})"))
}

/// The `slot == literal` conjuncts of a trigger (at its top level).
fn pinned(e: &Expr) -> Vec<(SlotId, &Literal)> {
    match e {
        Expr::And(xs) => xs.iter().flat_map(pinned).collect(),
        Expr::Cmp {
            op: CmpOp::Eq,
            lhs: Operand::Slot(s),
            rhs: Operand::Lit(l),
            ..
        }
        | Expr::Cmp {
            op: CmpOp::Eq,
            lhs: Operand::Lit(l),
            rhs: Operand::Slot(s),
            ..
        } => vec![(*s, l)],
        _ => Vec::new(),
    }
}

/// Whether two triggers pin one attribute to different literals (they never both hold): a
/// syntactic shortcut that saves a solver query per such pair.
fn exclusive(a: &[(SlotId, &Literal)], b: &[(SlotId, &Literal)]) -> bool {
    a.iter()
        .any(|(s, l)| b.iter().any(|(t, m)| s == t && l != m))
}

/// The result of an analysis: findings and how many solver queries it took.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// The findings, in policy order.
    pub findings: Vec<Finding>,
    /// Solver queries made.
    pub queries: usize,
}

/// Analyzes one program: dead policies, always-true and always-false clauses, conflicts,
/// shadowed and duplicate policies, and under `default deny` what is never allowed.
pub fn analyze(program: &Program, opts: &Options) -> Analysis {
    let cfg = Config::new();
    let ctx = Context::new(&cfg);
    let mut s = Session::new(&ctx, opts);
    let enc = encode::encode(&mut s.req, program, opts.list_bound);
    s.seal();
    let mut out = Vec::new();
    let n = program.policies.len();
    // Models met so far per policy: where it applies, and where it is violated.
    let mut applies: Vec<Vec<Model<'_>>> = (0..n).map(|_| Vec::new()).collect();
    let mut violated: Vec<Vec<Model<'_>>> = (0..n).map(|_| Vec::new()).collect();
    let mut live = vec![false; n];
    let mut broken = vec![false; n];
    let mut conflicted = vec![false; n];

    for p in 0..n {
        let pe = &enc.policies[p];
        let name = &program.policies[p].name;
        match s.check(&[&pe.applies]) {
            Out::Sat(m) => {
                live[p] = true;
                applies[p].push(m);
            }
            Out::Unsat if pe.inexact => {
                out.push(unknown_bound(program, "whether it can apply", p, opts))
            }
            Out::Unsat => out.push(
                Finding::new(
                    Kind::Dead,
                    format!("policy `{name}` never applies: no request makes its trigger true"),
                )
                .at(p)
                .help("fix or remove its trigger (or the earlier rules of its group)"),
            ),
            Out::Unknown(why) => {
                out.push(unknown_timeout(program, "whether it can apply", p, &why))
            }
        }
    }

    // Clauses.
    for p in (0..n).filter(|&p| live[p]) {
        let pe = &enc.policies[p];
        let pol = &program.policies[p];
        let Body::Requires { clauses, .. } = &pol.body else {
            continue;
        };
        for (ci, (c, tf)) in clauses.iter().zip(&pe.clauses).enumerate() {
            // A literal clause (e.g. the `requires true` of `permits`) says what it means.
            if matches!(c.expr, ipe_compile::hir::Expr::Const(_)) {
                continue;
            }
            let can_t = s.check(&[&pe.applies, &tf.t]);
            let can_f = s.check(&[&pe.applies, &tf.f]);
            let (kind, witness_q, want_true) = match (&can_t, &can_f) {
                (Out::Unsat, _) => (Kind::AlwaysFalse, tf.t.not(), false),
                (Out::Sat(_), Out::Unsat) => (Kind::AlwaysTrue, tf.t.clone(), true),
                (Out::Unknown(why), _) | (_, Out::Unknown(why)) => {
                    out.push(
                        unknown_timeout(program, "whether a clause can hold", p, why).clause(ci),
                    );
                    continue;
                }
                _ => {
                    if let Out::Sat(m) = can_f {
                        violated[p].push(m);
                    }
                    continue;
                }
            };
            if pe.inexact {
                out.push(unknown_bound(program, "whether a clause can hold", p, opts).clause(ci));
                continue;
            }
            let model = match (&kind, can_t) {
                (Kind::AlwaysTrue, Out::Sat(m)) => Some(m),
                _ => match s.check(&[&pe.applies, &witness_q, &pe.decided]) {
                    Out::Sat(m) => Some(m),
                    _ => match s.check(&[&pe.applies, &witness_q]) {
                        Out::Sat(m) => Some(m),
                        _ => None,
                    },
                },
            };
            let witness = model.map(|m| s.req.witness(&m));
            let confirmed = witness.as_ref().is_none_or(|w| {
                let r = seen(program, w);
                let t = ipe_compile::eval::truth(program, w, &c.expr);
                r.matched.iter().any(|m| m == pol.name.as_str())
                    && ((t == Truth::True) == want_true)
            });
            if !confirmed {
                out.push(unknown_witness(program, "a clause's truth", p, &enc).clause(ci));
                continue;
            }
            if kind == Kind::AlwaysFalse {
                broken[p] = true;
            }
            let (msg, help) = if kind == Kind::AlwaysFalse {
                (
                    format!(
                        "clause `{}` of policy `{}` never holds when the policy applies: every \
                         request it applies to is denied",
                        c.text, pol.name
                    ),
                    "the trigger contradicts this requirement: fix one of them",
                )
            } else {
                (
                    format!(
                        "clause `{}` of policy `{}` never fails when the policy applies",
                        c.text, pol.name
                    ),
                    "the trigger already implies this requirement: remove it or tighten it",
                )
            };
            let mut f = Finding::new(kind, msg).at(p).clause(ci).help(help);
            f.witness = witness;
            out.push(f);
        }
    }

    // Conflicts: both apply, each can be met there, never both.
    let pins: Vec<Vec<(SlotId, &Literal)>> = program
        .policies
        .iter()
        .map(|p| p.trigger.as_ref().map(pinned).unwrap_or_default())
        .collect();
    for a in 0..n {
        for b in a + 1..n {
            if !(live[a] && live[b]) || broken[a] || broken[b] {
                continue;
            }
            let (pa, pb) = (&program.policies[a], &program.policies[b]);
            if !matches!(pa.body, Body::Requires { .. })
                || !matches!(pb.body, Body::Requires { .. })
            {
                continue;
            }
            let (ea, eb) = (&enc.policies[a], &enc.policies[b]);
            if ea.reads.is_disjoint(&eb.reads) || exclusive(&pins[a], &pins[b]) {
                continue;
            }
            let both_ok = Bool::and(&ctx, &[&ea.ok, &eb.ok]);
            if applies[a]
                .iter()
                .chain(&applies[b])
                .any(|m| holds(m, &both_ok))
            {
                continue;
            }
            let both = match s.check(&[&ea.applies, &eb.applies]) {
                Out::Sat(m) => m,
                _ => continue,
            };
            if holds(&both, &both_ok) {
                continue;
            }
            match s.check(&[&both_ok]) {
                Out::Sat(m) => {
                    applies[a].push(m);
                    continue;
                }
                Out::Unknown(why) => {
                    out.push(unknown_timeout(program, "whether it conflicts", a, &why).other(b));
                    continue;
                }
                Out::Unsat => {}
            }
            let (Out::Sat(_), Out::Sat(_)) = (
                s.check(&[&ea.ok, &eb.applies]),
                s.check(&[&eb.ok, &ea.applies]),
            ) else {
                continue;
            };
            if ea.inexact || eb.inexact {
                out.push(unknown_bound(program, "whether it conflicts", a, opts).other(b));
                continue;
            }
            let both = match s.check(&[&ea.applies, &eb.applies, &ea.decided, &eb.decided]) {
                Out::Sat(m) => m,
                _ => both,
            };
            let w = s.req.witness(&both);
            let r = seen(program, &w);
            let ok = r.effect == Effect::Deny
                && r.matched.iter().any(|m| m == pa.name.as_str())
                && r.matched.iter().any(|m| m == pb.name.as_str());
            if !ok {
                out.push(unknown_witness(program, "a conflict", a, &enc).other(b));
                continue;
            }
            let mut f = Finding::new(
                Kind::Conflict,
                format!(
                    "policies `{}` and `{}` conflict: each can be met, but every request both \
                     apply to is denied",
                    pa.name, pb.name
                ),
            )
            .at(a)
            .other(b)
            .help("their requirements contradict each other where both triggers hold");
            f.witness = Some(w);
            conflicted[a] = true;
            conflicted[b] = true;
            out.push(f);
        }
    }

    // Shadowing and duplicates: every violation of a is one of b.
    for p in (0..n).filter(|&p| live[p]) {
        if violated[p].is_empty() {
            if let Out::Sat(m) = s.check(&[&enc.policies[p].violated]) {
                violated[p].push(m);
            }
        }
    }
    let mut implies = vec![vec![false; n]; n];
    for a in 0..n {
        if violated[a].is_empty() {
            continue;
        }
        for b in 0..n {
            // A violation of `a` pins an attribute `b`'s trigger pins elsewhere: not implied.
            if a == b || violated[b].is_empty() || exclusive(&pins[a], &pins[b]) {
                continue;
            }
            let vb = &enc.policies[b].violated;
            if violated[a].iter().any(|m| !holds(m, vb)) {
                continue;
            }
            match s.check(&[&enc.policies[a].violated, &vb.not()]) {
                Out::Sat(m) => violated[a].push(m),
                Out::Unsat if enc.policies[a].inexact || enc.policies[b].inexact => {
                    out.push(unknown_bound(program, "shadowing", a, opts).other(b))
                }
                Out::Unsat => implies[a][b] = true,
                Out::Unknown(why) => {
                    out.push(unknown_timeout(program, "shadowing", a, &why).other(b))
                }
            }
        }
    }
    let pairs = (0..n).flat_map(|a| (0..n).map(move |b| (a, b)));
    for (a, b) in pairs {
        if a == b || !implies[a][b] || (implies[b][a] && b < a) {
            continue;
        }
        let dup = implies[b][a];
        let (na, nb) = (&program.policies[a].name, &program.policies[b].name);
        let Some(m) = violated[a].first() else {
            continue;
        };
        let w = s.req.witness(m);
        let r = seen(program, &w);
        if !(r.violated.iter().any(|m| m == na.as_str())
            && r.violated.iter().any(|m| m == nb.as_str()))
        {
            out.push(unknown_witness(program, "shadowing", a, &enc).other(b));
            continue;
        }
        let mut f = if dup {
            Finding::new(
                Kind::Duplicate,
                format!("policies `{na}` and `{nb}` are violated by exactly the same requests"),
            )
            .help("remove one of them")
        } else {
            Finding::new(
                Kind::Shadowed,
                format!(
                    "policy `{na}` is shadowed by `{nb}`: every request that violates `{na}` \
                         also violates `{nb}`"
                ),
            )
            .help("it never denies a request on its own: remove it or narrow the other")
        }
        .at(a)
        .other(b);
        f.witness = Some(w);
        out.push(f);
    }

    // Under `default deny`: what is never allowed.
    if program.default == Effect::Deny {
        match s.check(&[&enc.allow]) {
            Out::Unsat if !enc.inexact => out.push(
                Finding::new(
                    Kind::NothingAllowed,
                    "no request is ever allowed by this bundle".to_owned(),
                )
                .help("under `default deny` some policy must apply and be met"),
            ),
            Out::Sat(_) => {
                for p in (0..n).filter(|&p| live[p] && !broken[p] && !conflicted[p]) {
                    let pol = &program.policies[p];
                    if !matches!(pol.body, Body::Requires { .. }) {
                        continue;
                    }
                    match s.check(&[&enc.allow, &enc.policies[p].applies]) {
                        Out::Unsat if enc.inexact => {
                            out.push(unknown_bound(program, "whether it ever allows", p, opts))
                        }
                        Out::Unsat => {
                            let pe = &enc.policies[p];
                            let w = match s.check(&[&pe.applies, &pe.decided]) {
                                Out::Sat(m) => s.req.witness(&m),
                                _ => match applies[p].first() {
                                    Some(m) => s.req.witness(m),
                                    None => continue,
                                },
                            };
                            let r = seen(program, &w);
                            if !(r.effect == Effect::Deny
                                && r.matched.iter().any(|m| m == pol.name.as_str()))
                            {
                                out.push(unknown_witness(program, "allowing", p, &enc));
                                continue;
                            }
                            let mut f = Finding::new(
                                Kind::NeverAllowed,
                                format!(
                                    "policy `{}` never allows a request: every request it \
                                     applies to is denied",
                                    pol.name
                                ),
                            )
                            .at(p)
                            .help("another policy (or this one) denies wherever it applies");
                            f.witness = Some(w);
                            out.push(f);
                        }
                        _ => {}
                    }
                }
                // Resource types: enum attributes named `type` or `kind`.
                for slot in &program.slots {
                    let last = slot.path.rsplit('.').next().unwrap_or("");
                    let SlotType::Scalar(Scalar::Enum(members)) = &slot.ty else {
                        continue;
                    };
                    if !matches!(last, "type" | "kind") {
                        continue;
                    }
                    for (rank, m) in members.iter().enumerate() {
                        let Some(is) = s.req.enum_is(&slot.path, rank) else {
                            continue;
                        };
                        match s.check(&[&enc.allow, &is]) {
                            Out::Unsat if !enc.inexact => out.push(
                                Finding::new(
                                    Kind::NothingAllowed,
                                    format!(
                                        "no request with `{}` = \"{m}\" is ever allowed",
                                        slot.path
                                    ),
                                )
                                .help("no policy both applies to and allows this type"),
                            ),
                            Out::Unknown(why) => out.push(
                                Finding::new(
                                    Kind::Unknown,
                                    format!(
                                        "unknown: whether `{}` = \"{m}\" is ever allowed",
                                        slot.path
                                    ),
                                )
                                .note(format!("the solver gave up ({why})")),
                            ),
                            _ => {}
                        }
                    }
                }
            }
            Out::Unsat => out.push(
                Finding::new(
                    Kind::Unknown,
                    "unknown: whether any request is allowed".to_owned(),
                )
                .note(format!(
                    "a list may need more than {} elements (`--list-bound`)",
                    opts.list_bound
                )),
            ),
            Out::Unknown(why) => out.push(
                Finding::new(
                    Kind::Unknown,
                    "unknown: whether any request is allowed".to_owned(),
                )
                .note(format!("the solver gave up ({why})")),
            ),
        }
    }
    out.sort_by_key(|f| (f.policy.unwrap_or(usize::MAX), f.clause, f.other, f.kind));
    Analysis {
        findings: out,
        queries: s.queries,
    }
}

/// The semantic diff of two versions of a bundle: requests allowed by `old` and denied by
/// `new`, and the reverse, one confirmed witness each (findings located in `new`).
pub fn diff(old: &Program, new: &Program, opts: &Options) -> Analysis {
    let cfg = Config::new();
    let ctx = Context::new(&cfg);
    let mut s = Session::new(&ctx, opts);
    let eo = encode::encode(&mut s.req, old, opts.list_bound);
    let en = encode::encode(&mut s.req, new, opts.list_bound);
    s.seal();
    let mut out = Vec::new();
    for (from, to, was, now) in [
        (&eo.allow, en.allow.not(), Effect::Allow, Effect::Deny),
        (
            &eo.allow.not(),
            en.allow.clone(),
            Effect::Deny,
            Effect::Allow,
        ),
    ] {
        let word = |e: Effect| {
            if e == Effect::Allow {
                "allowed"
            } else {
                "denied"
            }
        };
        let what = format!(
            "{} by the old bundle and {} by the new one",
            word(was),
            word(now)
        );
        match s.check(&[from, &to]) {
            Out::Sat(m) => {
                let w = s.req.witness(&m);
                let (ro, rn) = (seen(old, &w), seen(new, &w));
                if ro.effect == was && rn.effect == now {
                    let mut f = Finding::new(Kind::Changed, format!("a request is {what}"))
                        .help("check that this change of decision is intended before rolling out");
                    f.witness = Some(w);
                    out.push(f);
                } else {
                    let mut us: Vec<String> = eo.unsupported.iter().cloned().collect();
                    us.extend(en.unsupported.iter().cloned());
                    us.sort();
                    us.dedup();
                    out.push(
                        Finding::new(
                            Kind::Unknown,
                            format!("unknown: whether a request is {what}"),
                        )
                        .note(if us.is_empty() {
                            "the solver's witness did not reproduce with the reference \
                                 evaluator (an analyzer bug: please report it)"
                                .to_owned()
                        } else {
                            format!("{} not supported yet", us.join(", "))
                        }),
                    );
                }
            }
            Out::Unsat if eo.inexact || en.inexact => out.push(
                Finding::new(
                    Kind::Unknown,
                    format!("unknown: whether a request is {what}"),
                )
                .note(format!(
                    "a list may need more than {} elements (`--list-bound`)",
                    opts.list_bound
                )),
            ),
            Out::Unsat => {}
            Out::Unknown(why) => out.push(
                Finding::new(
                    Kind::Unknown,
                    format!("unknown: whether a request is {what}"),
                )
                .note(format!("the solver gave up ({why})")),
            ),
        }
    }
    Analysis {
        findings: out,
        queries: s.queries,
    }
}
