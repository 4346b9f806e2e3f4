//! Specialised aggregate bodies (issue #15): a body that is a conjunction (or a disjunction)
//! of simple tests, the common shape of a `count`/`any`/`all` filter
//! (`approver.role == "senior-engineer" and approver.department != requester.department`), is
//! decoded once per aggregate and its tests are evaluated per element without
//! [`Machine::run`]: no instruction decode, no operand stack, no dispatch loop per element.
//! What does not change from element to element is read once, at decoding: the field records
//! (kind, enum, the list slot errors name), the constants, the slot a field is compared with,
//! and a test that reads no element at all.
//!
//! The body must be exactly what the lowering's `and` chain emits: `t0`, then for each further
//! test `jump.false L`, `ti`, `and`, where every jump lands on the body's end `L`, and every
//! `ti` is one instruction that pushes one condition and reads nothing from the stack
//! (`cmp.field.const`, `cmp.field.slot`, `cmp.slot.const`, `has.field`); or the `or` chain
//! (`jump.true`, `or`). Any other body runs through [`Machine::run`] as before.
//!
//! The result is the chain's: for `and`, false if some test is false (tests after the first
//! false are not evaluated, as the jumps skip them; tests read no state they could change),
//! else the smallest error if some test is one, else true; for `or` the same with true and
//! false swapped.
//!
//! With the `size` feature (firmware) no body is specialised: the decoder and the tests stay
//! out of flash and an aggregate's frame stays small; the decisions are the same.

#![cfg_attr(
    feature = "size",
    allow(
        dead_code,
        unused_imports,
        reason = "no body is specialised with `size`"
    )
)]

use core::cmp::Ordering;

use super::{min_err, tail_word, Cell, Machine, Truth, FALSE};
use crate::bundle::{Bundle, SlotId};
use crate::decision::AttrError;
use crate::format::kind;
use crate::isa::{CmpOp, Instr, Opcode};
use crate::value::{Value, NO_SYMBOL};

/// Most tests a specialised body holds; a longer chain runs through [`Machine::run`].
pub(super) const MAX_TESTS: usize = 4;

/// Field `field` of an aggregate's elements, with what its field record declares.
#[derive(Clone, Copy)]
pub(super) struct FieldAt {
    field: u16,
    kind: u8,
    enum_id: u16,
    /// The list slot an error names.
    slot: SlotId,
}

/// One test of a specialised body, with everything that is the same for every element read.
/// No test holds a request value: a test of a slot is evaluated on the slot's cell, read once
/// per aggregate into a [`Bound`] array ([`Machine::bind`]), so a prepared chain is evaluated
/// where it is, in the [`Prepared`](super::Prepared) table (issue #15, session 14).
#[derive(Clone, Copy)]
pub(super) enum Test {
    /// `cmp.field.const`: the field against the constant of kind `ck` and value `cv`.
    FieldConst {
        op: CmpOp,
        f: FieldAt,
        ck: u8,
        cv: i64,
    },
    /// `cmp.field.const` of a string field with a string constant (symbol `sym`, not
    /// [`NO_SYMBOL`]): `on_eq` (`on_ne`) is the result when the field's string is (is not)
    /// the constant (issue #15, session 13).
    FieldSym {
        op: CmpOp,
        f: FieldAt,
        sym: u32,
        on_eq: bool,
        on_ne: bool,
    },
    /// `has.field`.
    Has { field: u16 },
    /// `cmp.field.slot`: the field against the slot's cell (its [`Bound`] entry); `on_eq`
    /// (`on_ne`) is the result for a string field equal (not equal) to a request string.
    SlotField {
        op: CmpOp,
        f: FieldAt,
        slot: SlotId,
        on_eq: bool,
        on_ne: bool,
    },
    /// `cmp.slot.const`, which reads no element: its cell is its [`Bound`] entry.
    SlotConst { op: CmpOp, slot: SlotId, konst: u16 },
}

/// The cells of a chain's slot tests for one request, by test position
/// ([`Machine::bind`]): a [`Test::SlotField`]'s slot cell, a [`Test::SlotConst`]'s result.
pub(super) type Bound<'v> = [Cell<'v>; MAX_TESTS];

/// An aggregate body decoded as a conjunction (or disjunction) of up to [`MAX_TESTS`] tests.
#[derive(Clone)]
pub(super) struct Conj {
    tests: heapless::Vec<Test, MAX_TESTS>,
    /// Whether a test reads a slot ([`Test::SlotField`], [`Test::SlotConst`]).
    reads_slots: bool,
    /// The value that decides the chain: false for `and`, true for `or`.
    absorbing: bool,
}

impl Conj {
    /// Appends `t`: false if the chain is full.
    #[inline(always)]
    fn push(&mut self, t: Test) -> bool {
        self.reads_slots |= matches!(t, Test::SlotField { .. } | Test::SlotConst { .. });
        self.tests.push(t).is_ok()
    }

    /// No test yet (what [`decode_chain`] fills).
    #[inline(always)]
    pub(super) const fn new() -> Self {
        Conj {
            tests: heapless::Vec::new(),
            reads_slots: false,
            absorbing: false,
        }
    }
}

impl<'e, 'v> Machine<'e, '_, 'v> {
    /// The instruction at `pc` of the code section and the offset after it, if `pc` is
    /// before `end` and the bytes decode.
    #[inline(always)]
    pub(super) fn instr_at(&self, pc: usize, end: usize) -> Option<(Instr, usize)> {
        if pc >= end {
            return None;
        }
        let code = self.bundle.body.code;
        let word = match code.get(pc..).and_then(<[u8]>::first_chunk::<8>) {
            Some(a) => u64::from_le_bytes(*a),
            None => tail_word(code, pc),
        };
        let i = Instr::from_word(word)?;
        Some((i, pc + i.encoded_len()))
    }

    /// Field `field` of the element bound at `level` as [`Machine::load_field`] reads it.
    #[inline(always)]
    fn field_at(&self, level: u8, field: u16) -> FieldAt {
        let (slot, first, _) = self
            .loops
            .get(usize::from(level))
            .copied()
            .unwrap_or((0, 0, &[]));
        let fr = self
            .bundle
            .field_rec(usize::from(first).wrapping_add(field.into()));
        FieldAt {
            field,
            kind: fr.kind(),
            enum_id: fr.enum_id(),
            slot,
        }
    }

    /// Reads the slots of chain `c`'s slot tests for this request into `out` (issue #15,
    /// session 14: the chain itself is not copied or rewritten): a [`Test::SlotField`]'s
    /// slot cell, a [`Test::SlotConst`]'s result.
    #[inline(always)]
    pub(super) fn bind(&self, c: &Conj, out: &mut Bound<'v>) {
        if !c.reads_slots {
            return;
        }
        for (t, b) in c.tests.iter().zip(out.iter_mut()) {
            if let Some(cell) = self.bound(t) {
                *b = cell;
            }
        }
    }

    /// The [`Bound`] cell of test `t` ([`Self::bind`]); `None` for a test that reads no slot.
    #[inline(always)]
    fn bound(&self, t: &Test) -> Option<Cell<'v>> {
        match *t {
            Test::SlotField { slot, .. } => Some(self.load_slot(slot)),
            Test::SlotConst { op, slot, konst } => {
                Some(self.cmp_const(op, self.load_slot(slot), konst))
            }
            _ => None,
        }
    }

    /// No body is specialised with the `size` feature (see the module).
    #[cfg(feature = "size")]
    #[inline(always)]
    pub(super) fn conj<'c>(
        &self,
        _body: (usize, usize),
        _list: SlotId,
        _level: usize,
        _c: &'c mut Conj,
        _bound: &mut Bound<'v>,
    ) -> Option<&'c Conj>
    where
        'e: 'c,
    {
        None
    }

    /// The chain of body `code[start..end]` of an aggregate over list slot `list` at
    /// `level`, if it is one (see the module), with its slot tests' cells read into `bound`:
    /// the evaluation's [`Prepared`](super::Prepared) table's entry, evaluated where it is
    /// (issue #15, session 14), or the body decoded into `c` (empty before). The aggregate's
    /// own level must already name its list slot and first field record.
    ///
    /// Issue #15, session 12: the chain is filled in place (no `Option<Conj>` moved out,
    /// 170 bytes) and the one-byte `and`/`or` and three-byte jumps between tests are read
    /// as bytes, not decoded as instructions. Session 13: the tests too ([`decode_test`]),
    /// and the prepared table.
    #[cfg(not(feature = "size"))]
    pub(super) fn conj<'c>(
        &self,
        body: (usize, usize),
        list: SlotId,
        level: usize,
        c: &'c mut Conj,
        bound: &mut Bound<'v>,
    ) -> Option<&'c Conj>
    where
        'e: 'c,
    {
        let chain: &'c Conj = match self.prepared(body, list, level) {
            Some(p) => p,
            None => {
                // Only fields of this aggregate's own elements: the tests read them from the
                // element (issue #15, session 14).
                let own = |l: u8, f: u16| (usize::from(l) == level).then(|| self.field_at(l, f));
                if !decode_chain(self.bundle, body, own, c) {
                    return None;
                }
                c
            }
        };
        self.bind(chain, bound);
        Some(chain)
    }

    /// The prepared chain of the body `(start, end)` of an aggregate over `list` at `level`,
    /// if the evaluation's table holds one.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn prepared(
        &self,
        (start, end): (usize, usize),
        list: SlotId,
        level: usize,
    ) -> Option<&'e Conj> {
        let e = match self.prep.chains {
            [] => return None,
            prep => prep.get(
                prep.binary_search_by_key(&start, |e| e.start as usize)
                    .ok()?,
            )?,
        };
        (e.end as usize == end && e.list == list && usize::from(e.level) == level)
            .then_some(&e.conj)
    }

    /// Field `f` of element `elem` read as its record declares ([`Machine::load_field`]).
    #[inline(always)]
    fn field_cell(&self, f: &FieldAt, elem: &'v [Value<'v>]) -> Cell<'v> {
        self.scalar(
            field_value(f, elem),
            f.kind,
            f.enum_id,
            (f.slot, Some(f.field)),
        )
    }

    /// Field `f` of element `elem` compared with cell `b` (`cmp.field.slot`), for a
    /// [`Test::SlotField`] whose pair is not two request strings. Out of line and cold (issue
    /// #15, session 16): inlined in an element loop, its operands were loaded before the loop.
    #[cold]
    #[inline(never)]
    fn field_vs_cell(
        &self,
        op: CmpOp,
        f: &FieldAt,
        b: Cell<'v>,
        elem: &'v [Value<'v>],
    ) -> Cell<'v> {
        match (self.field_cell(f, elem), b) {
            // Two request strings (the seed's `approver.department !=
            // requester.department`) compared here, not through the general `compare`.
            (Cell::Str(x), Cell::Str(y)) => Cell::Bool(op.test(if x == y {
                Ordering::Equal
            } else {
                Ordering::Less
            })),
            (a, b) => Self::compare(op, a, b),
        }
    }

    /// Field `f` of element `elem` compared with the string constant of symbol `sym`, for a
    /// [`Test::FieldSym`] whose field is not a string: the field's read and the general
    /// comparison. Out of line and cold, as [`Self::field_vs_cell`]; `op` and `sym` by
    /// reference, as the test holds them (by value, the loop loaded them beforehand).
    #[cold]
    #[inline(never)]
    fn field_vs_sym(&self, op: &CmpOp, f: &FieldAt, sym: &u32, elem: &'v [Value<'v>]) -> Cell<'v> {
        Self::cmp_kv(*op, self.field_cell(f, elem), kind::STR, i64::from(*sym))
    }

    /// The cell test `t` of a chain gives for element `elem` of the chain's aggregate, `b`
    /// the test's entry in the chain's [`Bound`] cells.
    #[inline(always)]
    pub(super) fn test_cell(&self, t: &Test, b: &Cell<'v>, elem: &'v [Value<'v>]) -> Cell<'v> {
        match t {
            Test::FieldConst { op, f, ck, cv } => {
                Self::cmp_kv(*op, self.field_cell(f, elem), *ck, *cv)
            }
            // A string field against a string constant (issue #15, session 13): the
            // symbols compared, the general read and comparison only for another value.
            Test::FieldSym {
                op,
                f,
                sym,
                on_eq,
                on_ne,
            } => match field_value(f, elem) {
                Value::Str(s) => Cell::Bool(if s.sym == *sym { *on_eq } else { *on_ne }),
                _ => self.field_vs_sym(op, f, sym, elem),
            },
            // A string field against a request string (the seed's `approver.department !=
            // requester.department`): the two `Str`s compared; any other pair through the
            // field's read and the general comparison.
            Test::SlotField {
                op,
                f,
                on_eq,
                on_ne,
                ..
            } => match (field_value(f, elem), b) {
                (Value::Str(x), Cell::Str(y)) if f.kind == kind::STR => {
                    Cell::Bool(if x == *y { *on_eq } else { *on_ne })
                }
                _ => self.field_vs_cell(*op, f, *b, elem),
            },
            Test::Has { field, .. } => Cell::Bool(
                elem.get(usize::from(*field))
                    .is_some_and(|v| !matches!(v, Value::Missing)),
            ),
            Test::SlotConst { .. } => *b,
        }
    }

    /// The cell of aggregate `OP` at `level` over the elements `vals` (with `stride`) whose
    /// body is chain `c`, its slot tests' cells `bound` ([`Self::bind`]). Issue #15, session
    /// 16: a chain of one or two tests (the seed's `where`) is evaluated without the loop
    /// over its tests; the cells are [`Self::chain_cell`]'s.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    pub(super) fn fold_chain<const OP: u8>(
        &mut self,
        vals: (&'v [Value<'v>], usize),
        level: usize,
        c: &Conj,
        bound: &Bound<'v>,
    ) -> Cell<'v> {
        match (c.tests.as_slice(), bound) {
            ([t], [b, ..]) => {
                self.fold_elements::<OP>(vals, level, |m, e| m.truth(m.test_cell(t, b, e)))
            }
            ([t0, t1], [b0, b1, ..]) => self.fold_elements::<OP>(vals, level, |m, e| {
                m.pair_truth((t0, b0), (t1, b1), c.absorbing, e)
            }),
            _ => self.fold_elements::<OP>(vals, level, |m, e| m.truth(m.chain_cell(c, bound, e))),
        }
    }

    /// [`Self::chain_cell`] of a chain of the two tests `t0` and `t1` (with their [`Bound`]
    /// cells), `absorbing` the chain's, as a [`Truth`]: each test's cell read as one as soon
    /// as it is made (issue #15, session 20: the element loops' cells were built in memory
    /// and copied whole).
    #[inline(always)]
    fn pair_truth(
        &self,
        (t0, b0): (&Test, &Cell<'v>),
        (t1, b1): (&Test, &Cell<'v>),
        absorbing: bool,
        e: &'v [Value<'v>],
    ) -> Truth {
        let a = self.truth(self.test_cell(t0, b0, e));
        if a.is(absorbing) {
            return a;
        }
        let e0 = (a == Truth::Err).then(|| self.fault.get());
        let b = self.truth(self.test_cell(t1, b1, e));
        self.combine(e0, b, absorbing)
    }

    /// The condition of a clause planned as [`Plan::Count`](super::plan::Plan::Count):
    /// aggregate `count` over list slot `list` with body chain `c`, compared by `op` with the
    /// constant of kind `ck` and value `cv` (read at load), and the count noted (the cell and
    /// note `Machine::count_clause` gives for the same clause).
    #[inline(never)]
    pub(super) fn count_plan(
        &self,
        (list, decl): (SlotId, crate::read::ListDecl),
        c: &Conj,
        op: CmpOp,
        (ck, cv): (u8, i64),
    ) -> Cell<'v> {
        let v = *self.value(list);
        let vals = match crate::read::records_fast(decl, v) {
            Some(vals) => Ok(vals),
            None => self.list_of(list, v),
        };
        // A test's slot is read in the arm that knows its form (issue #15, session 17: not
        // by the loop over any chain's tests, `Self::bind`).
        let bound = |t| self.bound(t).unwrap_or(FALSE);
        let n = match vals {
            Ok(vals) => match c.tests.as_slice() {
                [t] => {
                    let b = bound(t);
                    count_elements(vals, &self.fault, |e| self.truth(self.test_cell(t, &b, e)))
                }
                // The common filter `x.f == "const" and x.g != request.attr` with its two
                // tests' forms known here, so the loop reads only their fields (not every
                // form's, as the general pair's loop below does; session 16: seed 1,108 ->
                // 1,070 instructions).
                [t0 @ Test::FieldSym { .. }, t1 @ Test::SlotField { .. }] => {
                    let (b0, b1) = (bound(t0), bound(t1));
                    count_elements(vals, &self.fault, |e| {
                        self.pair_truth((t0, &b0), (t1, &b1), c.absorbing, e)
                    })
                }
                [t0, t1] => {
                    let (b0, b1) = (bound(t0), bound(t1));
                    count_elements(vals, &self.fault, |e| {
                        self.pair_truth((t0, &b0), (t1, &b1), c.absorbing, e)
                    })
                }
                _ => {
                    let mut bound: Bound<'v> = [FALSE; MAX_TESTS];
                    self.bind(c, &mut bound);
                    count_elements(vals, &self.fault, |e| {
                        self.truth(self.chain_cell(c, &bound, e))
                    })
                }
            },
            Err(e) => Cell::Err(e),
        };
        if let Cell::Int(i) = n {
            self.note.set(Some(i));
        }
        Self::cmp_kv(op, n, ck, cv)
    }

    /// The condition chain `c` leaves for element `elem` of its aggregate, its slot tests'
    /// cells `bound` ([`Self::bind`]).
    #[inline(always)]
    pub(super) fn chain_cell(
        &self,
        c: &Conj,
        bound: &Bound<'v>,
        elem: &'v [Value<'v>],
    ) -> Cell<'v> {
        let mut err: Option<AttrError> = None;
        for (t, b) in c.tests.iter().zip(bound.iter()) {
            let cell = self.test_cell(t, b, elem);
            match cell {
                Cell::Bool(b) if b == c.absorbing => return cell,
                Cell::Err(e) => err = Some(min_err(err, e)),
                _ => {}
            }
        }
        match err {
            Some(e) => Cell::Err(e),
            None => Cell::Bool(!c.absorbing),
        }
    }
}

/// The cell of `count` over the elements `vals` (with `stride`), `truth` giving each one's
/// condition (an error's in `fault`): the number of true ones, or the smallest error if some
/// element's is one (what [`Machine::fold_elements`] gives for `count`).
#[inline(always)]
pub(super) fn count_elements<'v>(
    (vals, stride): (&'v [Value<'v>], usize),
    fault: &core::cell::Cell<AttrError>,
    mut truth: impl FnMut(&'v [Value<'v>]) -> Truth,
) -> Cell<'v> {
    let mut err: Option<AttrError> = None;
    let mut count: i64 = 0;
    for elem in crate::read::Elements::new(vals, stride) {
        match truth(elem) {
            Truth::True => count += 1,
            Truth::Err => err = Some(min_err(err, fault.get())),
            _ => {}
        }
    }
    match err {
        Some(e) => Cell::Err(e),
        None => Cell::Int(count),
    }
}

/// Field `f`'s value in element `elem` ([`super::MISSING`] when absent).
#[inline(always)]
fn field_value<'v>(f: &FieldAt, elem: &'v [Value<'v>]) -> &'v Value<'v> {
    elem.get(usize::from(f.field)).unwrap_or(&super::MISSING)
}

/// The field record of field `field` of list slot `list`'s elements, as
/// [`Machine::field_at`] reads it once the aggregate's level names `list` (for a prepared
/// chain).
#[cfg(not(feature = "size"))]
#[inline(always)]
pub(super) fn field_of(bundle: &Bundle<'_>, list: SlotId, field: u16) -> FieldAt {
    let first = bundle.slot_rec(list).first_field();
    let fr = bundle.field_rec(usize::from(first).wrapping_add(field.into()));
    FieldAt {
        field,
        kind: fr.kind(),
        enum_id: fr.enum_id(),
        slot: list,
    }
}

/// The test at `pc` (before `end`) of `bundle`'s code and the offset after it, read from its
/// bytes at their fixed offsets (issue #15, session 13: the operands of the four test
/// instructions without the general decoder); `None` if it is no test a specialised body
/// holds, or `at` gives no field record for its field. A string comparison with a constant
/// gets its specialised form ([`Test::FieldSym`]); a test of a slot is left unbound
/// ([`Machine::bind`] reads the slot).
#[cfg(not(feature = "size"))]
#[inline(always)]
fn decode_test(
    bundle: &Bundle<'_>,
    pc: usize,
    end: usize,
    at: impl Fn(u8, u16) -> Option<FieldAt>,
) -> Option<(Test, usize)> {
    const CMP_FIELD_CONST: u8 = Opcode::CmpFieldConst as u8;
    const CMP_FIELD_SLOT: u8 = Opcode::CmpFieldSlot as u8;
    const CMP_SLOT_CONST: u8 = Opcode::CmpSlotConst as u8;
    const HAS_FIELD: u8 = Opcode::HasField as u8;
    let u16_of = |lo: u8, hi: u8| u16::from_le_bytes([lo, hi]);
    Some(match *bundle.body.code.get(pc..end)? {
        [CMP_FIELD_CONST, op, level, f0, f1, k0, k1, ..] => {
            let op = CmpOp::from_byte(op)?;
            let f = at(level, u16_of(f0, f1))?;
            let r = bundle.const_rec(u16_of(k0, k1));
            let (ck, cv) = (r.kind(), r.value());
            let t = match u32::try_from(cv) {
                Ok(sym) if f.kind == kind::STR && ck == kind::STR && sym != NO_SYMBOL => {
                    Test::FieldSym {
                        op,
                        f,
                        sym,
                        on_eq: op.test(Ordering::Equal),
                        on_ne: op.test(Ordering::Less),
                    }
                }
                _ => Test::FieldConst { op, f, ck, cv },
            };
            (t, pc + 7)
        }
        [CMP_FIELD_SLOT, op, level, f0, f1, s0, s1, ..] => {
            let op = CmpOp::from_byte(op)?;
            let t = Test::SlotField {
                op,
                f: at(level, u16_of(f0, f1))?,
                slot: u16_of(s0, s1),
                on_eq: op.test(Ordering::Equal),
                on_ne: op.test(Ordering::Less),
            };
            (t, pc + 7)
        }
        [CMP_SLOT_CONST, op, s0, s1, k0, k1, ..] => (
            Test::SlotConst {
                op: CmpOp::from_byte(op)?,
                slot: u16_of(s0, s1),
                konst: u16_of(k0, k1),
            },
            pc + 6,
        ),
        [HAS_FIELD, level, f0, f1, ..] => {
            // A field of the aggregate's own elements, as every test's (`at` says).
            at(level, u16_of(f0, f1))?;
            (
                Test::Has {
                    field: u16_of(f0, f1),
                },
                pc + 4,
            )
        }
        _ => return None,
    })
}

/// Decodes `code[start..end]` of `bundle` into `c` (empty before) as a chain of tests (see
/// the module), its fields' records given by `at`, its slot tests unbound: whether it is one.
#[cfg(not(feature = "size"))]
pub(super) fn decode_chain(
    bundle: &Bundle<'_>,
    (start, end): (usize, usize),
    at: impl Fn(u8, u16) -> Option<FieldAt> + Copy,
    c: &mut Conj,
) -> bool {
    const AND: u8 = Opcode::And as u8;
    const OR: u8 = Opcode::Or as u8;
    const JUMP_FALSE: u8 = Opcode::JumpIfFalse as u8;
    const JUMP_TRUE: u8 = Opcode::JumpIfTrue as u8;
    let code = bundle.body.code;
    let Some((t, mut pc)) = decode_test(bundle, start, end, at) else {
        return false;
    };
    if !c.push(t) {
        return false;
    }
    let mut mode: Option<bool> = None;
    while pc < end {
        // `jump.false L` or `jump.true L` (opcode, then a little-endian `u16` offset),
        // landing on the body's end.
        let (or, by) = match code.get(pc..).and_then(<[u8]>::first_chunk::<3>) {
            Some(&[JUMP_FALSE, lo, hi]) => (false, u16::from_le_bytes([lo, hi])),
            Some(&[JUMP_TRUE, lo, hi]) => (true, u16::from_le_bytes([lo, hi])),
            _ => return false,
        };
        let next = pc + 3;
        if *mode.get_or_insert(or) != or || next + usize::from(by) != end {
            return false;
        }
        let Some((t, next)) = decode_test(bundle, next, end, at) else {
            return false;
        };
        if !c.push(t) {
            return false;
        }
        // The combining `and` (`or`), before the end.
        match code.get(next) {
            Some(&AND) if !or && next < end => pc = next + 1,
            Some(&OR) if or && next < end => pc = next + 1,
            _ => return false,
        }
    }
    c.absorbing = mode.unwrap_or(false);
    pc == end
}
