//! Clause and trigger forms chosen once per bundle (issue #15, session 14): a [`Plan`] of a
//! clause block, or of a trigger's rest after its index head, that is a chain of slot tests
//! or a boolean slot read, held in the [`Prepared`](super::Prepared) table. An evaluation
//! given the table runs the plan instead of finding the block's shape from its bytes (by
//! first byte, then decoding each test's operands) per decision, and each test is
//! specialised at load by what its slot and constant declare: a string slot against a string
//! constant compares symbols, a string operator (`starts_with "CHG-"`) of a string slot and a
//! constant tests the request's text against the constant's text found at load, an int slot
//! against an int compares integers, an enum slot given
//! as its member's text finds the rank among the member symbols held in the plan.
//!
//! Every specialised test takes the general read and comparison ([`Machine::load_slot`],
//! [`Machine::cmp_const`]) for a value of another form (missing, invalid, another type): the
//! same cell as the block run by [`Machine::run`]. A chain's result is the chain's (see
//! `vm/chain.rs`). With the `size` feature (firmware) no plan is made.

#![cfg_attr(
    feature = "size",
    allow(dead_code, unused_imports, reason = "no plan is made with `size`")
)]

use core::cmp::Ordering;

use super::{min_err, sym_str, Cell, Machine, Truth};
use crate::bundle::{Bundle, SlotId};
use crate::decision::AttrError;
use crate::format::kind;
use crate::format::SymbolRec;
use crate::isa::{CmpOp, Opcode, StrOp};
use crate::value::{Value, NO_SYMBOL};

/// Most tests a planned chain holds; a longer block runs as without a plan.
const MAX_TESTS: usize = 4;

/// Most members of an enum whose symbols a [`SlotTest::Enum`] holds.
const MAX_MEMBERS: usize = 6;

/// One test of a slot, with what its slot and constant declare read at load.
#[derive(Clone, Copy, Debug)]
pub(super) enum SlotTest {
    /// `cmp.slot.const` of any other kind: the general read and comparison.
    Const { op: CmpOp, slot: SlotId, konst: u16 },
    /// `cmp.slot.const` of a string slot with a string constant of symbol `sym`: `on_eq`
    /// (`on_ne`) when the request's string is (is not) the constant.
    Sym {
        op: CmpOp,
        slot: SlotId,
        konst: u16,
        sym: u32,
        on_eq: bool,
        on_ne: bool,
    },
    /// `cmp.slot.const` of an int (or quantity) slot with an int constant `cv`.
    Int {
        op: CmpOp,
        slot: SlotId,
        konst: u16,
        cv: i64,
    },
    /// `cmp.slot.const` of an enum slot with a member constant of rank `rank`; `syms` holds
    /// the enum's `n` member symbols, by rank.
    Enum {
        op: CmpOp,
        slot: SlotId,
        konst: u16,
        rank: u16,
        n: u8,
        syms: [u32; MAX_MEMBERS],
    },
    /// `in.slot.set`.
    Set { slot: SlotId, set: u16 },
    /// `in.slot.set` of a string slot with a set of at most [`MAX_MEMBERS`] string keys
    /// `syms` (`n` of them): a request string with a symbol is in it if its symbol is one.
    StrSet {
        slot: SlotId,
        set: u16,
        n: u8,
        syms: [u32; MAX_MEMBERS],
    },
    /// `load.slot; load.const; str op` of a string slot with a string constant of symbol
    /// `sym` whose text is the text section's `len` bytes at `off` (`starts_with "CHG-"`): the
    /// operator on the request's text and the constant's, the constant found at load.
    Text {
        op: StrOp,
        slot: SlotId,
        sym: u32,
        off: u32,
        len: u32,
    },
    /// `has`.
    Has { slot: SlotId },
}

/// What an evaluation runs for one block.
#[derive(Clone, Copy, Debug)]
pub(super) enum Plan {
    /// No plan: the block runs as without a table.
    None,
    /// One slot test (most clauses).
    One(SlotTest),
    /// A chain of slot tests: `and` (`absorbing` false) or `or` (true).
    Chain {
        n: u8,
        absorbing: bool,
        tests: [SlotTest; MAX_TESTS],
    },
    /// A boolean slot read (`load.slot s`), negated (`load.slot s; not`) or not.
    Bool { slot: SlotId, negate: bool },
    /// `count list body; note.count; load.const konst; cmp op` whose body is the prepared
    /// chain at index `chain` of the table's chains (`vm/conj.rs`): a clause such as
    /// `approvals.count >= 2 where approver.role == "senior-engineer" and ...` (issue #15,
    /// session 16). Run by [`Machine::count_plan`], which notes the count.
    Count {
        list: SlotId,
        chain: u16,
        op: CmpOp,
        /// The kind and value of the constant the count is compared with, read at load.
        konst: (u8, i64),
        /// What `list` declares, read at load.
        decl: crate::read::ListDecl,
    },
}

/// The index head of an indexed policy's trigger and the code after it, read at load (issue
/// #15, session 17): a candidate found through its bucket tests the head on the cell the
/// probe read and takes the rest's plan, with nothing of the trigger read from its bytes per
/// decision (`Machine::after_head` reads both from the code).
#[derive(Clone, Copy, Debug)]
pub(super) struct Trigger {
    /// The slot the head tests (its index group's).
    pub(super) slot: SlotId,
    /// The head's test of the probe's cell.
    pub(super) head: HeadTest,
    /// The code after the head and its `jump.false` (`None`: the head is the whole trigger).
    pub(super) rest: Option<(u32, u32)>,
    /// The rest's plan ([`Plan::None`]: its shape is found from its code per decision).
    pub(super) plan: Plan,
}

/// A trigger head's test (`cmp.slot.const` or `in.slot.set` of the index slot).
#[derive(Clone, Copy, Debug)]
pub(super) enum HeadTest {
    /// `cmp.slot.const op konst` of any other kind: the general comparison.
    Cmp { op: CmpOp, konst: u16 },
    /// `cmp.slot.const eq konst` of a string slot and a string constant of symbol `sym`.
    Sym { konst: u16, sym: u32 },
    /// `in.slot.set set`.
    Set { set: u16 },
}

impl<'v> Machine<'_, '_, 'v> {
    /// The cell of slot test `t` for this request.
    #[inline(always)]
    pub(super) fn slot_test(&self, t: &SlotTest) -> Cell<'v> {
        match *t {
            SlotTest::Const { op, slot, konst } => self.cmp_const(op, self.load_slot(slot), konst),
            SlotTest::Sym {
                op,
                slot,
                konst,
                sym,
                on_eq,
                on_ne,
            } => match self.value(slot) {
                Value::Str(s) => Cell::Bool(if *s == sym_str(sym) { on_eq } else { on_ne }),
                _ => self.cmp_const(op, self.load_slot(slot), konst),
            },
            SlotTest::Int {
                op,
                slot,
                konst,
                cv,
            } => match self.value(slot) {
                Value::Int(i) => Cell::Bool(op.test(i.cmp(&cv))),
                _ => self.cmp_const(op, self.load_slot(slot), konst),
            },
            SlotTest::Enum {
                op,
                slot,
                konst,
                rank,
                n,
                ref syms,
            } => {
                if let Value::Str(s) = self.value(slot) {
                    let members = syms.get(..usize::from(n)).unwrap_or(&[]);
                    if s.sym != NO_SYMBOL {
                        if let Some(r) = members.iter().position(|&m| m == s.sym) {
                            return Cell::Bool(op.test((r as u16).cmp(&rank)));
                        }
                    }
                }
                self.cmp_const(op, self.load_slot(slot), konst)
            }
            SlotTest::Set { slot, set } => self.in_set(self.load_slot(slot), set),
            SlotTest::StrSet {
                slot,
                set,
                n,
                ref syms,
            } => match self.value(slot) {
                Value::Str(s) => Cell::Bool(
                    s.sym != NO_SYMBOL
                        && syms.get(..usize::from(n)).unwrap_or(&[]).contains(&s.sym),
                ),
                _ => self.in_set(self.load_slot(slot), set),
            },
            SlotTest::Text {
                op,
                slot,
                sym,
                off,
                len,
            } => match self.value(slot) {
                Value::Str(s) => Cell::Bool(op.test(
                    crate::read::text(self.bundle, s),
                    self.bundle.text(off, len),
                )),
                // As `str op` takes two cells (`Machine::run`).
                _ => self.str_cells(op, self.load_slot(slot), Cell::Sym(sym)),
            },
            SlotTest::Has { slot } => Cell::Bool(!matches!(self.value(slot), Value::Missing)),
        }
    }

    /// Whether head test `h` holds for `cell` (the index slot's cell the probe read): the
    /// condition `cmp.slot.const` or `in.slot.set` gives.
    #[inline(always)]
    pub(super) fn head_holds(&self, h: &HeadTest, cell: &Cell<'v>) -> bool {
        let cell = *cell;
        let c = match *h {
            HeadTest::Sym { sym, .. } if matches!(cell, Cell::Str(s) if s.sym == sym) => {
                return true
            }
            HeadTest::Sym { konst, .. } => self.cmp_const(CmpOp::Eq, cell, konst),
            HeadTest::Cmp { op, konst } => self.cmp_const(op, cell, konst),
            HeadTest::Set { set } => self.in_set(cell, set),
        };
        matches!(c, Cell::Bool(true))
    }

    /// The truth of the cell plan `p` gives for this request (`None` for [`Plan::None`]):
    /// each test's cell read as a [`Truth`] as soon as it is made (issue #15, session 20: the
    /// cells themselves, merged in memory and copied whole, stalled their loads).
    #[inline(always)]
    pub(super) fn run_plan(&self, p: &Plan) -> Option<Truth> {
        match *p {
            Plan::None => None,
            Plan::Count {
                list,
                chain,
                op,
                konst,
                decl,
            } => {
                let c = &self.prep.chains.get(usize::from(chain))?.conj;
                Some(self.truth(self.count_plan((list, decl), c, op, konst)))
            }
            Plan::One(ref t) => Some(self.truth(self.slot_test(t))),
            Plan::Bool { slot, negate } => Some(match (self.value(slot), negate) {
                (Value::Bool(b), n) => Truth::from(*b != n),
                (_, false) => self.truth(self.load_slot(slot)),
                (_, true) => match self.truth(self.load_slot(slot)) {
                    Truth::False => Truth::True,
                    Truth::True => Truth::False,
                    a => a,
                },
            }),
            // Two tests (a trigger rest such as the seed's `environment in [..] and
            // resource.risk_level >= "medium"`): the chain's cell without the loop's
            // bookkeeping (issue #15, session 17), the same cell as the loop below.
            Plan::Chain {
                n: 2,
                absorbing,
                tests: [ref t0, ref t1, ..],
            } => {
                let a = self.truth(self.slot_test(t0));
                if a.is(absorbing) {
                    return Some(a);
                }
                let e0 = (a == Truth::Err).then(|| self.fault.get());
                let b = self.truth(self.slot_test(t1));
                Some(self.combine(e0, b, absorbing))
            }
            Plan::Chain {
                n,
                absorbing,
                ref tests,
            } => {
                let tests = tests.get(..usize::from(n)).unwrap_or(&[]);
                let mut err: Option<AttrError> = None;
                let mut last = Truth::from(!absorbing);
                for t in tests {
                    last = self.truth(self.slot_test(t));
                    match last {
                        t if t.is(absorbing) => return Some(last),
                        Truth::Err => err = Some(min_err(err, self.fault.get())),
                        _ => {}
                    }
                }
                // One test: its cell as it is (`vm/chain.rs`); else the chain's.
                Some(match (tests.len(), err) {
                    (1, _) => last,
                    (_, Some(e)) => {
                        self.fault.set(e);
                        Truth::Err
                    }
                    _ => Truth::from(!absorbing),
                })
            }
        }
    }
}

/// The slot test at `pc` (before `end`) of `bundle`'s code, specialised by its slot's and
/// constant's records, and the offset after it; `None` for any other instruction.
#[cfg(not(feature = "size"))]
fn slot_test_at(bundle: &Bundle<'_>, pc: usize, end: usize) -> Option<(SlotTest, usize)> {
    const CMP: u8 = Opcode::CmpSlotConst as u8;
    const SET: u8 = Opcode::InSlotSet as u8;
    const HAS: u8 = Opcode::Has as u8;
    const LOAD: u8 = Opcode::LoadSlot as u8;
    const LOAD_CONST: u8 = Opcode::LoadConst as u8;
    const STR: u8 = Opcode::StrOp as u8;
    let u16_of = |lo: u8, hi: u8| u16::from_le_bytes([lo, hi]);
    Some(match *bundle.body.code.get(pc..end)? {
        [CMP, op, s0, s1, k0, k1, ..] => {
            let op = CmpOp::from_byte(op)?;
            let (slot, konst) = (u16_of(s0, s1), u16_of(k0, k1));
            let (sk, c) = (bundle.slot_rec(slot), bundle.const_rec(konst));
            let (ck, cv) = (c.kind(), c.value());
            let t = match (sk.kind(), ck) {
                (kind::STR, kind::STR) => SlotTest::Sym {
                    op,
                    slot,
                    konst,
                    sym: cv as u32,
                    on_eq: op.test(Ordering::Equal),
                    on_ne: op.test(Ordering::Less),
                },
                (kind::INT | kind::QUANTITY, kind::INT) => SlotTest::Int {
                    op,
                    slot,
                    konst,
                    cv,
                },
                (kind::ENUM, ck) if !matches!(ck, kind::STR | kind::INT | kind::BOOL) => {
                    let mut syms = [NO_SYMBOL; MAX_MEMBERS];
                    let mut n = 0u8;
                    let mut fits = true;
                    for m in bundle.enum_member_symbols(sk.enum_id()) {
                        match syms.get_mut(usize::from(n)) {
                            Some(s) => *s = m,
                            None => fits = false,
                        }
                        n = n.saturating_add(1);
                    }
                    if fits {
                        SlotTest::Enum {
                            op,
                            slot,
                            konst,
                            rank: cv as u16,
                            n,
                            syms,
                        }
                    } else {
                        SlotTest::Const { op, slot, konst }
                    }
                }
                _ => SlotTest::Const { op, slot, konst },
            };
            (t, pc + 6)
        }
        [SET, s0, s1, t0, t1, ..] => {
            let (slot, set) = (u16_of(s0, s1), u16_of(t0, t1));
            let t = match str_set(bundle, slot, set) {
                Some((n, syms)) => SlotTest::StrSet { slot, set, n, syms },
                None => SlotTest::Set { slot, set },
            };
            (t, pc + 5)
        }
        [LOAD, s0, s1, LOAD_CONST, k0, k1, STR, op, ..] => {
            let op = StrOp::from_byte(op)?;
            let (slot, konst) = (u16_of(s0, s1), u16_of(k0, k1));
            let c = bundle.const_rec(konst);
            if bundle.slot_rec(slot).kind() != kind::STR || c.kind() != kind::STR {
                return None;
            }
            let sym = u32::try_from(c.value()).ok()?;
            let span = SymbolRec::nth(bundle.body.symbols, sym as usize).text();
            let t = SlotTest::Text {
                op,
                slot,
                sym,
                off: span.off,
                len: span.len,
            };
            (t, pc + 8)
        }
        [HAS, s0, s1, ..] => (
            SlotTest::Has {
                slot: u16_of(s0, s1),
            },
            pc + 3,
        ),
        _ => return None,
    })
}

/// The keys of set `set` as string symbols (their count and the symbols), when `slot` is a
/// string slot and the set holds at most [`MAX_MEMBERS`] keys, each a symbol.
#[cfg(not(feature = "size"))]
fn str_set(bundle: &Bundle<'_>, slot: SlotId, set: u16) -> Option<(u8, [u32; MAX_MEMBERS])> {
    if bundle.slot_rec(slot).kind() != kind::STR || bundle.set_rec(set).kind() == kind::IP {
        return None;
    }
    let mut syms = [NO_SYMBOL; MAX_MEMBERS];
    let mut n = 0u8;
    for k in bundle.set_keys(set) {
        let sym = u32::try_from(k).ok().filter(|&s| s != NO_SYMBOL)?;
        *syms.get_mut(usize::from(n))? = sym;
        n = n.checked_add(1)?;
    }
    Some((n, syms))
}

/// The plan of block `code[start..end]` of `bundle`: a chain of slot tests (the shape
/// `Machine::slot_chain` evaluates, and string tests of a slot with a constant), a boolean
/// slot read (`load.slot s`, `load.slot s; not`
/// of a boolean slot), or [`Plan::None`].
///
/// A count compared with a number whose body is one of the prepared `chains` (the table's,
/// sorted by body start) is planned as [`Plan::Count`].
#[cfg(not(feature = "size"))]
pub(super) fn plan_block(
    bundle: &Bundle<'_>,
    (start, end): (usize, usize),
    chains: &[super::prepared::Entry],
) -> Plan {
    const LOAD: u8 = Opcode::LoadSlot as u8;
    const NOT: u8 = Opcode::Not as u8;
    const COUNT: u8 = Opcode::Count as u8;
    let code = bundle.body.code;
    match code.get(start..end) {
        Some(&[COUNT, ..]) => plan_count(bundle, (start, end), chains).unwrap_or(Plan::None),
        Some(&[LOAD, lo, hi, ref rest @ ..]) if matches!(*rest, [] | [NOT]) => {
            let slot = u16::from_le_bytes([lo, hi]);
            let negate = !rest.is_empty();
            if bundle.slot_rec(slot).kind() == kind::BOOL {
                Plan::Bool { slot, negate }
            } else {
                Plan::None
            }
        }
        Some(_) => plan_chain(bundle, (start, end)).unwrap_or(Plan::None),
        None => Plan::None,
    }
}

/// The plan of a clause `count list body; note.count; load.const k; cmp op` (the shape
/// `Machine::count_clause` evaluates) whose body is a prepared chain of `chains` for an
/// aggregate over `list` at level 0, if it is one.
#[cfg(not(feature = "size"))]
fn plan_count(
    bundle: &Bundle<'_>,
    (start, end): (usize, usize),
    chains: &[super::prepared::Entry],
) -> Option<Plan> {
    let c = super::chain::count_shape(bundle.body.code, (start, end))?;
    let i = chains
        .binary_search_by_key(&c.body.0, |e| e.start as usize)
        .ok()?;
    let e = chains.get(i)?;
    (e.end as usize == c.body.1 && e.list == c.list && e.level == 0).then_some(Plan::Count {
        list: c.list,
        chain: u16::try_from(i).ok()?,
        op: c.op,
        konst: {
            let r = bundle.const_rec(c.konst);
            (r.kind(), r.value())
        },
        decl: bundle.list_decl(c.list),
    })
}

/// The plan of a chain of slot tests `code[start..end]` (see `vm/chain.rs`), if it is one.
#[cfg(not(feature = "size"))]
fn plan_chain(bundle: &Bundle<'_>, (start, end): (usize, usize)) -> Option<Plan> {
    const AND: u8 = Opcode::And as u8;
    const OR: u8 = Opcode::Or as u8;
    const JUMP_FALSE: u8 = Opcode::JumpIfFalse as u8;
    const JUMP_TRUE: u8 = Opcode::JumpIfTrue as u8;
    let code = bundle.body.code;
    let (t, mut pc) = slot_test_at(bundle, start, end)?;
    let mut tests = [t; MAX_TESTS];
    let mut n = 1usize;
    let mut mode: Option<bool> = None;
    while pc < end {
        let (or, by) = match code.get(pc..).and_then(<[u8]>::first_chunk::<3>) {
            Some(&[JUMP_FALSE, lo, hi]) => (false, u16::from_le_bytes([lo, hi])),
            Some(&[JUMP_TRUE, lo, hi]) => (true, u16::from_le_bytes([lo, hi])),
            _ => return None,
        };
        let next = pc + 3;
        if *mode.get_or_insert(or) != or || next + usize::from(by) != end {
            return None;
        }
        let (t, next) = slot_test_at(bundle, next, end)?;
        *tests.get_mut(n)? = t;
        n += 1;
        match code.get(next) {
            Some(&AND) if !or && next < end => pc = next + 1,
            Some(&OR) if or && next < end => pc = next + 1,
            _ => return None,
        }
    }
    (pc == end).then(|| match n {
        1 => Plan::One(t),
        _ => Plan::Chain {
            n: n as u8,
            absorbing: mode.unwrap_or(false),
            tests,
        },
    })
}

/// The plan of a trigger's rest `(start, end)`, the code after its index head and
/// `jump.false` ([`plan_trigger`]), without the closing `and` (`Machine::rest_chain`'s
/// shape): a chain of slot tests, or [`Plan::None`].
#[cfg(not(feature = "size"))]
fn plan_rest(bundle: &Bundle<'_>, (start, end): (usize, usize)) -> Plan {
    const AND: u8 = Opcode::And as u8;
    match end.checked_sub(1) {
        Some(last) if last > start && bundle.body.code.get(last) == Some(&AND) => {
            plan_chain(bundle, (start, last)).unwrap_or(Plan::None)
        }
        _ => Plan::None,
    }
}

/// The [`Trigger`] of an indexed policy's trigger `(start, end)`: its head (`cmp.slot.const`
/// or `in.slot.set`), alone or followed by a `jump.false` to the end and the rest (the shape
/// the verifier proves of every indexed policy, `verify/index.rs`); `None` for any other.
#[cfg(not(feature = "size"))]
pub(super) fn plan_trigger(bundle: &Bundle<'_>, (start, end): (usize, usize)) -> Option<Trigger> {
    const CMP: u8 = Opcode::CmpSlotConst as u8;
    const SET: u8 = Opcode::InSlotSet as u8;
    const JUMP_FALSE: u8 = Opcode::JumpIfFalse as u8;
    let u16_of = |lo: u8, hi: u8| u16::from_le_bytes([lo, hi]);
    let code = bundle.body.code.get(start..end)?;
    let (slot, head, len) = match *code {
        [CMP, op, s0, s1, k0, k1, ..] => {
            let (op, slot, konst) = (CmpOp::from_byte(op)?, u16_of(s0, s1), u16_of(k0, k1));
            let r = bundle.const_rec(konst);
            let head = match u32::try_from(r.value()) {
                Ok(sym)
                    if op == CmpOp::Eq
                        && sym != NO_SYMBOL
                        && r.kind() == kind::STR
                        && bundle.slot_rec(slot).kind() == kind::STR =>
                {
                    HeadTest::Sym { konst, sym }
                }
                _ => HeadTest::Cmp { op, konst },
            };
            (slot, head, 6)
        }
        [SET, s0, s1, t0, t1, ..] => (
            u16_of(s0, s1),
            HeadTest::Set {
                set: u16_of(t0, t1),
            },
            5,
        ),
        _ => return None,
    };
    let rest = match *code.get(len..)? {
        [] => None,
        [JUMP_FALSE, lo, hi, ref rest @ ..] if usize::from(u16_of(lo, hi)) == rest.len() => {
            let from = u32::try_from(start.checked_add(len + 3)?).ok()?;
            Some((from, u32::try_from(end).ok()?))
        }
        _ => return None,
    };
    Some(Trigger {
        slot,
        head,
        rest,
        plan: match rest {
            Some((from, to)) => plan_rest(bundle, (from as usize, to as usize)),
            None => Plan::None,
        },
    })
}
