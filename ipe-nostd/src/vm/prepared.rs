//! Aggregate chains decoded once per bundle (issue #15, session 13): a [`Prepared`] table,
//! filled when a host loads a bundle, holds the decoded form of each aggregate body that is a
//! chain of simple tests (`vm/conj.rs`), so an evaluation given the table copies the chain
//! instead of decoding it from the code per decision (on the seed policy that decode was
//! ~340 instructions of ~2,000).
//!
//! The table is caller-owned and fixed-size (`N` chains, no allocation); a bundle with more
//! chains keeps the rest decoded per decision, as an evaluation without a table does. A chain
//! is used only when the aggregate met at run time is the one it was prepared for (the same
//! body, list slot and nesting level), and only with the bundle it was prepared from (its
//! code section, by address and length): anything else decodes as before. Decisions are
//! the same with or without a table.
//!
//! With the `size` feature (firmware) the table stays empty: no aggregate body is
//! specialised there (`vm/conj.rs`).

#![cfg_attr(
    feature = "size",
    allow(dead_code, reason = "the table stays empty with `size`")
)]

use super::conj::Conj;
use super::plan::{Plan, Trigger};
use crate::bundle::{Bundle, SlotId};

/// Clauses (the bundle's first, by absolute index) whose [`Plan`] a table holds.
const CLAUSE_PLANS: usize = 64;

/// Policies (the first, by id) whose [`Trigger`] a table holds.
const TRIGGER_PLANS: usize = 64;

/// What an evaluation reads from a table: its chains and plans (all empty without one).
#[derive(Clone, Copy)]
pub(super) struct View<'e> {
    /// The aggregate chains, by body start.
    pub(super) chains: &'e [Entry],
    /// The plan of clause `i` (absolute index) at `i` (none with `size`: the firmware's
    /// machine stays as small as before).
    #[cfg(not(feature = "size"))]
    pub(super) clauses: &'e [Plan],
    /// Policy `id`'s trigger head and rest at `id` (`None`: not of an indexed policy's shape).
    #[cfg(not(feature = "size"))]
    pub(super) triggers: &'e [Option<Trigger>],
}

impl View<'_> {
    /// No table.
    pub(super) const EMPTY: View<'static> = View {
        chains: &[],
        #[cfg(not(feature = "size"))]
        clauses: &[],
        #[cfg(not(feature = "size"))]
        triggers: &[],
    };
}

/// One prepared chain: the body `start..end` of an aggregate over `list` at `level`.
#[derive(Clone)]
pub(super) struct Entry {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) list: SlotId,
    pub(super) level: u8,
    /// The chain, evaluated where it is (`Machine::bind` reads its slots per decision).
    pub(super) conj: Conj,
}

/// The aggregate chains of one bundle decoded once (up to `N` of them), for
/// [`evaluate_prepared_into`](super::evaluate_prepared_into) and
/// [`eval_policy_indexed_prepared`](super::eval_policy_indexed_prepared): the same decisions
/// as without it, in fewer instructions per decision.
#[derive(Clone)]
pub struct Prepared<const N: usize> {
    /// By body start, ascending.
    entries: heapless::Vec<Entry, N>,
    /// The plans of the first clauses, by absolute clause index (issue #15, session 14).
    clauses: heapless::Vec<Plan, CLAUSE_PLANS>,
    /// The first policies' trigger heads and rests, by policy id (issue #15, session 17:
    /// were the rests' plans alone).
    triggers: heapless::Vec<Option<Trigger>, TRIGGER_PLANS>,
    /// Whether some clause has a plan or some policy a [`Trigger`].
    planned: bool,
    /// The code section the chains were decoded from (its address and length).
    code: (usize, usize),
}

impl<const N: usize> Prepared<N> {
    /// A table holding no chain (every evaluation decodes as without one).
    pub const fn empty() -> Self {
        Prepared {
            entries: heapless::Vec::new(),
            clauses: heapless::Vec::new(),
            triggers: heapless::Vec::new(),
            planned: false,
            code: (0, 0),
        }
    }

    /// Decodes the aggregate chains of `bundle` (a verified bundle), up to `N` of them, and
    /// plans its first clauses and triggers.
    pub fn new(bundle: &Bundle<'_>) -> Self {
        let mut p = Self::empty();
        p.code = code_id(bundle);
        #[cfg(not(feature = "size"))]
        {
            fill(bundle, &mut p.entries);
            plan(bundle, &p.entries, &mut p.clauses, &mut p.triggers);
            p.planned = p.clauses.iter().any(|x| !matches!(x, Plan::None))
                || p.triggers.iter().any(Option::is_some);
        }
        p
    }

    /// How many chains the table holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table holds nothing an evaluation would use: no chain and no clause or
    /// trigger plan (an evaluation with it is one without it).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && !self.planned
    }

    /// The chains and plans to use with `bundle`: none unless it is the bundle they were
    /// prepared from.
    #[inline(always)]
    pub(super) fn view_for(&self, bundle: &Bundle<'_>) -> View<'_> {
        if code_id(bundle) == self.code {
            View {
                chains: &self.entries,
                #[cfg(not(feature = "size"))]
                clauses: &self.clauses,
                #[cfg(not(feature = "size"))]
                triggers: &self.triggers,
            }
        } else {
            View::EMPTY
        }
    }
}

impl<const N: usize> core::fmt::Debug for Prepared<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Prepared")
            .field("chains", &self.entries.len())
            .field("clause_plans", &self.clauses.len())
            .field("trigger_plans", &self.triggers.len())
            .finish()
    }
}

/// The address and length of `bundle`'s code section.
#[inline(always)]
fn code_id(bundle: &Bundle<'_>) -> (usize, usize) {
    let code = bundle.body.code;
    (code.as_ptr() as usize, code.len())
}

/// The code range `[start, end)` of a block's span, or the empty `(0, 0)` when it is not
/// within the code section's `code_len` bytes.
#[cfg(not(feature = "size"))]
fn block_range(span: crate::format::Span, code_len: usize) -> (usize, usize) {
    let (start, len) = (span.off as usize, span.len as usize);
    match start.checked_add(len) {
        Some(end) if end <= code_len => (start, end),
        _ => (0, 0),
    }
}

/// Walks every trigger and clause block of `bundle` and decodes each aggregate body over a
/// list slot that is a chain of tests of that aggregate's own elements into `out`, sorted by
/// body start.
#[cfg(not(feature = "size"))]
fn fill<const N: usize>(bundle: &Bundle<'_>, out: &mut heapless::Vec<Entry, N>) {
    use crate::isa::{Instr, Opcode, MAX_LEVELS};
    let code_len = bundle.body.code.len();
    let block = |span: crate::format::Span| block_range(span, code_len);
    for i in 0..bundle.policy_count() {
        let Ok(id) = crate::bundle::PolicyId::try_from(i) else {
            break;
        };
        let p = bundle.policy_rec(id);
        let first = p.first_clause();
        let clauses = (0..p.clause_count())
            .map(|c| block(bundle.clause_rec(first.saturating_add(c.into())).code()));
        for (start, end) in core::iter::once(block(p.trigger())).chain(clauses) {
            // The ends of the aggregate bodies the walk is in (their count is the level).
            let mut open = heapless::Vec::<usize, MAX_LEVELS>::new();
            let mut pc = start;
            while pc < end {
                while open.last().is_some_and(|&e| e <= pc) {
                    open.pop();
                }
                // Only aggregates are decoded; the rest are skipped by their opcode's length
                // (issue #15: decoding every instruction was a sixth of a 10,000-policy swap).
                let Some(op) = bundle.body.code.get(pc).and_then(|&b| Opcode::from_byte(b)) else {
                    break;
                };
                if !op.is_aggregate() {
                    pc = pc.saturating_add(1 + op.operand_len());
                    continue;
                }
                let Ok((instr, next)) = Instr::decode(bundle.body.code, pc) else {
                    break;
                };
                let (list, body) = match instr {
                    Instr::Count { list, body }
                    | Instr::Any { list, body }
                    | Instr::All { list, body } => (Some(list.0), body.0),
                    Instr::CountField { body, .. }
                    | Instr::AnyField { body, .. }
                    | Instr::AllField { body, .. } => (None, body.0),
                    _ => {
                        pc = next;
                        continue;
                    }
                };
                let body = (next, next.saturating_add(body.into()));
                if let Some(list) = list {
                    prepare(bundle, body, list, open.len(), out);
                }
                if body.0 < body.1 && open.push(body.1).is_err() {
                    break;
                }
                pc = next;
            }
        }
    }
    out.sort_unstable_by_key(|e| e.start);
}

/// Plans the clauses of `bundle` (its first [`CLAUSE_PLANS`]) into `clauses` and the
/// triggers of its first [`TRIGGER_PLANS`] policies into `triggers` (`vm/plan.rs`), a count's
/// body found among the prepared `chains`.
#[cfg(not(feature = "size"))]
fn plan(
    bundle: &Bundle<'_>,
    chains: &[Entry],
    clauses: &mut heapless::Vec<Plan, CLAUSE_PLANS>,
    triggers: &mut heapless::Vec<Option<Trigger>, TRIGGER_PLANS>,
) {
    let code_len = bundle.body.code.len();
    let block = |span: crate::format::Span| block_range(span, code_len);
    let n = crate::format::ClauseRec::count(bundle.body.clauses).min(CLAUSE_PLANS);
    for i in 0..n {
        let Ok(i) = u32::try_from(i) else { break };
        let b = block(bundle.clause_rec(i).code());
        if clauses
            .push(super::plan::plan_block(bundle, b, chains))
            .is_err()
        {
            break;
        }
    }
    for i in 0..bundle.policy_count().min(TRIGGER_PLANS) {
        let Ok(id) = crate::bundle::PolicyId::try_from(i) else {
            break;
        };
        let t = block(bundle.policy_rec(id).trigger());
        if triggers.push(super::plan::plan_trigger(bundle, t)).is_err() {
            break;
        }
    }
}

/// Decodes the body of an aggregate over `list` at `level` into `out` if it is a chain of
/// tests of that aggregate's own elements (and `out` has room).
#[cfg(not(feature = "size"))]
fn prepare<const N: usize>(
    bundle: &Bundle<'_>,
    (start, end): (usize, usize),
    list: SlotId,
    level: usize,
    out: &mut heapless::Vec<Entry, N>,
) {
    let (Ok(s), Ok(e), Ok(l)) = (
        u32::try_from(start),
        u32::try_from(end),
        u8::try_from(level),
    ) else {
        return;
    };
    if start >= end || out.is_full() || out.iter().any(|x| x.start == s) {
        return;
    }
    let mut conj = Conj::new();
    let at = |lv: u8, field: u16| (lv == l).then(|| super::conj::field_of(bundle, list, field));
    if super::conj::decode_chain(bundle, (start, end), at, &mut conj) {
        let _ = out.push(Entry {
            start: s,
            end: e,
            list,
            level: l,
            conj,
        });
    }
}
