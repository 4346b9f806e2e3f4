//! Chains of slot tests evaluated as they are read (issue #15, session 12): a block that is
//! `t0 jump.false L t1 and jump.false L t2 and ... L:` (or the `or` chain with `jump.true`),
//! where every `ti` is one instruction testing a slot (`cmp.slot.const`, `in.slot.set`,
//! `has`) and every jump lands on the block's end, gives the same condition as
//! [`Machine::run`] without the dispatch loop and the operand stack: the common shape of a
//! trigger's conditions after its index head (`environment in [...] and resource.risk_level
//! >= "medium"`) and of a clause that is a conjunction of slot tests.
//!
//! The result is the chain's (as in `vm/conj.rs`): for `and`, false as soon as a test is
//! false (the jump to the end skips the rest, whatever it holds), else the smallest error if
//! some test is one, else true; `or` the same with true and false swapped. The tests only
//! read the request, so a block that turns out to have another shape part-way is run by
//! [`Machine::run`] from its start with the same result.
//!
//! With the `size` feature (firmware) no block takes this path: less code, same decisions.

#![cfg_attr(
    feature = "size",
    allow(
        dead_code,
        unused_imports,
        reason = "no chain is evaluated here with `size`"
    )
)]

use super::{min_err, Cell, Machine, Truth};
use crate::decision::AttrError;
use crate::isa::{CmpOp, Opcode, StrOp};
use crate::value::Value;

impl<'v> Machine<'_, '_, 'v> {
    /// No block takes this path with the `size` feature (see the module).
    #[cfg(feature = "size")]
    #[inline(always)]
    pub(super) fn slot_chain(&self, _block: (usize, usize)) -> Option<Cell<'v>> {
        None
    }

    /// No block takes this path with the `size` feature (see the module).
    #[cfg(feature = "size")]
    #[inline(always)]
    pub(super) fn rest_chain(&self, _rest: (usize, usize)) -> Option<Cell<'v>> {
        None
    }

    /// The condition a trigger's code after its index head and `jump.false` leaves, run from
    /// the stack `[true]` ([`Machine::after_head`]), if it is a chain of slot tests followed
    /// by the trigger's closing `and` (the lowering's `lead jump.false L rest and L:`): the
    /// chain's condition, as `true and x` is `x`.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    pub(super) fn rest_chain(&self, (start, end): (usize, usize)) -> Option<Cell<'v>> {
        let last = end.checked_sub(1)?;
        if last <= start || self.bundle.body.code.get(last) != Some(&(Opcode::And as u8)) {
            return None;
        }
        self.slot_chain((start, last))
    }

    /// The truth of a clause block evaluated without the dispatch loop when its shape allows
    /// (issue #15, session 12), chosen by its first byte: a chain of slot tests
    /// ([`Self::slot_chain`]), a count compared with a number ([`Self::count_clause`]) or a
    /// slot read and tested ([`Self::load_clause`]); `None` runs it through [`Machine::run`].
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    pub(super) fn clause_fast(&mut self, block: (usize, usize)) -> Option<Truth> {
        const CMP: u8 = Opcode::CmpSlotConst as u8;
        const SET: u8 = Opcode::InSlotSet as u8;
        const HAS: u8 = Opcode::Has as u8;
        const COUNT: u8 = Opcode::Count as u8;
        const LOAD: u8 = Opcode::LoadSlot as u8;
        match self.bundle.body.code.get(block.0) {
            // Each shape's cell read as a truth where it is made (issue #15, session 20: one
            // `Option<Cell>` for the three was merged in memory and copied whole).
            Some(&(CMP | SET | HAS)) => self.slot_chain(block).map(|c| self.truth(c)),
            Some(&COUNT) => self.count_clause(block).map(|c| self.truth(c)),
            Some(&LOAD) => self.load_clause(block).map(|c| self.truth(c)),
            _ => None,
        }
    }

    /// No clause takes a fast path with the `size` feature (see the module).
    #[cfg(feature = "size")]
    #[inline(always)]
    pub(super) fn clause_fast(&mut self, _block: (usize, usize)) -> Option<Truth> {
        None
    }

    /// The condition of a clause that reads one slot and tests it: `load.slot s` alone (a
    /// boolean), `load.slot s; not`, `load.slot s; in.list l`, or `load.slot s; load.const
    /// k; str op` (`starts_with` and the other string tests); `None` for any other block.
    /// The same cells as [`Machine::run`]'s arms for these instructions.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn load_clause(&self, (start, end): (usize, usize)) -> Option<Cell<'v>> {
        const NOT: u8 = Opcode::Not as u8;
        const IN_LIST: u8 = Opcode::InList as u8;
        const LOAD_CONST: u8 = Opcode::LoadConst as u8;
        const STR_OP: u8 = Opcode::StrOp as u8;
        let code = self.bundle.body.code;
        let (slot, rest) = match code.get(start..end)? {
            [_, lo, hi, rest @ ..] => (u16::from_le_bytes([*lo, *hi]), rest),
            _ => return None,
        };
        let a = self.load_slot(slot);
        Some(match *rest {
            [] => a,
            [NOT] => match a {
                Cell::Bool(b) => Cell::Bool(!b),
                a => a,
            },
            [IN_LIST, lo, hi] => self.in_list(a, u16::from_le_bytes([lo, hi])),
            [LOAD_CONST, lo, hi, STR_OP, op] => {
                let op = StrOp::from_byte(op)?;
                self.str_cells(op, a, self.constant(u16::from_le_bytes([lo, hi])))
            }
            _ => return None,
        })
    }

    /// The condition of a clause `count list body; note.count; load.const k; cmp op` (a
    /// count compared with a number, the lowering's form of `xs.count >= N where ...`),
    /// evaluated without the dispatch loop: the aggregate, the note, the comparison; `None`
    /// for a block of another shape (one byte read when it does not start with `count`).
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    pub(super) fn count_clause(&mut self, block: (usize, usize)) -> Option<Cell<'v>> {
        let c = count_shape(self.bundle.body.code, block)?;
        let n = self.aggregate(Opcode::Count, c.list, c.body, 0);
        if let Cell::Int(i) = n {
            self.note.set(Some(i));
        }
        Some(self.cmp_const(c.op, n, c.konst))
    }

    /// The value of the slot test at `pc` (before `end`) and the offset after it, its
    /// operands read from its bytes at their fixed offsets (issue #15, session 13: without
    /// the general decoder); `None` for any other instruction.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn slot_test_at(&self, pc: usize, end: usize) -> Option<(Cell<'v>, usize)> {
        const CMP: u8 = Opcode::CmpSlotConst as u8;
        const SET: u8 = Opcode::InSlotSet as u8;
        const HAS: u8 = Opcode::Has as u8;
        let u16_of = |lo: u8, hi: u8| u16::from_le_bytes([lo, hi]);
        Some(match *self.bundle.body.code.get(pc..end)? {
            [CMP, op, s0, s1, k0, k1, ..] => {
                let op = CmpOp::from_byte(op)?;
                let c = self.cmp_const(op, self.load_slot(u16_of(s0, s1)), u16_of(k0, k1));
                (c, pc + 6)
            }
            [SET, s0, s1, t0, t1, ..] => (
                self.in_set(self.load_slot(u16_of(s0, s1)), u16_of(t0, t1)),
                pc + 5,
            ),
            [HAS, s0, s1, ..] => (
                Cell::Bool(!matches!(self.value(u16_of(s0, s1)), Value::Missing)),
                pc + 3,
            ),
            _ => return None,
        })
    }

    /// The condition block `code[start..end]` leaves if it is a chain of slot tests (see the
    /// module), `None` if it is not one.
    #[cfg(not(feature = "size"))]
    pub(super) fn slot_chain(&self, (start, end): (usize, usize)) -> Option<Cell<'v>> {
        const AND: u8 = Opcode::And as u8;
        const OR: u8 = Opcode::Or as u8;
        const JUMP_FALSE: u8 = Opcode::JumpIfFalse as u8;
        const JUMP_TRUE: u8 = Opcode::JumpIfTrue as u8;
        let code = self.bundle.body.code;
        let (mut acc, mut pc) = self.slot_test_at(start, end)?;
        if pc == end {
            return Some(acc);
        }
        // The first jump says which chain this is.
        let absorbing = match code.get(pc) {
            Some(&JUMP_FALSE) => false,
            Some(&JUMP_TRUE) => true,
            _ => return None,
        };
        let (jump, combine) = if absorbing {
            (JUMP_TRUE, OR)
        } else {
            (JUMP_FALSE, AND)
        };
        let mut err: Option<AttrError> = None;
        loop {
            // `acc` is the condition so far; the block goes on with `jump L` (L its end).
            let by = match code.get(pc..).and_then(<[u8]>::first_chunk::<3>) {
                Some(&[op, lo, hi]) if op == jump => u16::from_le_bytes([lo, hi]),
                _ => return None,
            };
            let next = pc + 3;
            if next + usize::from(by) != end {
                return None;
            }
            match acc {
                Cell::Bool(b) if b == absorbing => return Some(acc),
                Cell::Err(e) => err = Some(min_err(err, e)),
                _ => {}
            }
            let (a, next) = self.slot_test_at(next, end)?;
            acc = a;
            // The combining `and` (`or`), then the end or the next jump.
            if next >= end || code.get(next) != Some(&combine) {
                return None;
            }
            pc = next + 1;
            if pc == end {
                return Some(match (acc, err) {
                    (Cell::Bool(b), _) if b == absorbing => acc,
                    (Cell::Err(e), err) => Cell::Err(min_err(err, e)),
                    (_, Some(e)) => Cell::Err(e),
                    _ => acc,
                });
            }
        }
    }
}

/// A clause block `count list body; note.count; load.const konst; cmp op` (a count compared
/// with a number, the lowering's form of `xs.count >= N where ...`) read from its bytes
/// ([`count_shape`]).
#[cfg(not(feature = "size"))]
#[derive(Clone, Copy)]
pub(super) struct CountShape {
    pub(super) list: crate::bundle::SlotId,
    /// The body's code range.
    pub(super) body: (usize, usize),
    pub(super) konst: u16,
    pub(super) op: CmpOp,
}

/// The [`CountShape`] of clause block `code[start..end]` (issue #15, session 13: read from
/// its bytes), or `None` for a block of another shape (one byte read when it does not start
/// with `count`). [`Machine::count_clause`] evaluates this shape and `vm/plan.rs` plans it.
#[cfg(not(feature = "size"))]
#[inline(always)]
pub(super) fn count_shape(code: &[u8], (start, end): (usize, usize)) -> Option<CountShape> {
    const COUNT: u8 = Opcode::Count as u8;
    const NOTE: u8 = Opcode::NoteCount as u8;
    const LOAD_CONST: u8 = Opcode::LoadConst as u8;
    const CMP: u8 = Opcode::Cmp as u8;
    let (list, body) = match *code.get(start..end)? {
        [COUNT, l0, l1, b0, b1, ..] => (u16::from_le_bytes([l0, l1]), u16::from_le_bytes([b0, b1])),
        _ => return None,
    };
    let next = start + 5;
    let body_end = next.checked_add(usize::from(body))?;
    // `note.count`, `load.const k` (three bytes) and `cmp op` (two) close the clause.
    match *code.get(body_end..end)? {
        [NOTE, LOAD_CONST, lo, hi, CMP, op] => Some(CountShape {
            list,
            body: (next, body_end),
            konst: u16::from_le_bytes([lo, hi]),
            op: CmpOp::from_byte(op)?,
        }),
        _ => None,
    }
}
