//! Bytecode checks: typing, stack depth, forward jumps to instruction boundaries, aggregate
//! nesting and each block's cost bound.

use super::{CodeError, Tables};
use crate::format::{kind, Body, ConstRec, EnumRec, FieldRec, SetRec, SlotRec, SymbolRec};
use crate::isa::{CmpOp, DecodeError, Instr, MAX_LEVELS, STACK_CELLS};

/// The cost bound of one top-level code block (a trigger or a clause), verifying it.
///
/// The compiler records the sum over a policy's blocks as the policy's cost bound. A bound
/// too large for 64 bits is `u64::MAX`, which exceeds every budget.
pub fn block_cost(body: &Body<'_>, code: &[u8]) -> Result<u64, (usize, CodeError)> {
    let t = Tables {
        body,
        symbols: SymbolRec::count(body.symbols),
        slots: SlotRec::count(body.slots),
        enums: EnumRec::count(body.enums),
        consts: ConstRec::count(body.consts),
        sets: SetRec::count(body.sets),
    };
    CodeVerifier::new(&t).block(code, 0)
}

/// Static cell types: bool, int, str, enum.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Ty {
    Bool = 0,
    Int = 1,
    Str = 2,
    Enum = 3,
    /// An address (issue #13, session 10: `map.get` of an `ip` field, `load.slot` /
    /// `load.field` of an `ip`), read only by `in.ip` and `cmp.ip`. Stored as `Bool`'s two
    /// bits plus a bit of [`State::ips`].
    #[cfg(feature = "dynkey")]
    Ip = 4,
}

/// The type of a loaded scalar of kind `k`: [`ty_of`], and with the `dynkey` family an
/// address for kind `IP` (issue #13, session 10).
fn load_ty(k: u8) -> Option<Ty> {
    #[cfg(feature = "dynkey")]
    if k == kind::IP {
        return Some(Ty::Ip);
    }
    ty_of(k)
}

fn ty_of(k: u8) -> Option<Ty> {
    Some(match k {
        kind::BOOL => Ty::Bool,
        kind::INT | kind::QUANTITY | kind::TIME | kind::DURATION => Ty::Int,
        kind::STR => Ty::Str,
        kind::ENUM => Ty::Enum,
        _ => return None,
    })
}

/// Stack state: depth plus 2-bit cell types.
#[derive(Clone, Copy)]
struct State {
    depth: u8,
    tys: u64,
    /// Which cells are addresses ([`Ty::Ip`]), one bit per cell.
    #[cfg(feature = "dynkey")]
    ips: u32,
}

impl State {
    fn push(&mut self, t: Ty) -> Result<(), CodeError> {
        if usize::from(self.depth) >= STACK_CELLS {
            return Err(CodeError::StackOverflow);
        }
        let shift = u32::from(self.depth) * 2;
        self.tys = (self.tys & !(3u64 << shift)) | (((t as u64) & 3) << shift);
        #[cfg(feature = "dynkey")]
        {
            let bit = 1u32 << self.depth;
            self.ips = if t == Ty::Ip {
                self.ips | bit
            } else {
                self.ips & !bit
            };
        }
        self.depth += 1;
        Ok(())
    }
    fn pop(&mut self, base: u8) -> Result<Ty, CodeError> {
        if self.depth <= base {
            return Err(CodeError::StackUnderflow);
        }
        self.depth -= 1;
        let shift = u32::from(self.depth) * 2;
        #[cfg(feature = "dynkey")]
        if self.ips & (1u32 << self.depth) != 0 {
            return Ok(Ty::Ip);
        }
        Ok(match (self.tys >> shift) & 3 {
            0 => Ty::Bool,
            1 => Ty::Int,
            2 => Ty::Str,
            _ => Ty::Enum,
        })
    }
    fn same(&self, other: &State) -> bool {
        #[cfg(feature = "dynkey")]
        {
            let mask = 1u32
                .checked_shl(u32::from(self.depth))
                .map_or(u32::MAX, |b| b - 1);
            if self.ips & mask != other.ips & mask {
                return false;
            }
        }
        self.depth == other.depth && self.live() == other.live()
    }
    fn live(&self) -> u64 {
        // Only the live cells matter for equality.
        let bits = u32::from(self.depth) * 2;
        if bits >= 64 {
            self.tys
        } else {
            self.tys & ((1u64 << bits) - 1)
        }
    }
}

/// Distinct pending jumps (by target and stack state) tracked in one block.
///
/// Compiled code needs at most one entry per `and`/`or` chain that is open (has emitted a
/// jump and not reached its exit yet). Each such chain keeps its running result on the stack
/// while its later operands run, so open chains never outnumber the stack cells.
const MAX_PENDING: usize = STACK_CELLS;

pub(super) struct CodeVerifier<'t, 'b, 'a> {
    t: &'t Tables<'b, 'a>,
    state: State,
    /// Slot iterated at each level.
    loops: [u16; MAX_LEVELS],
}

impl<'t, 'b, 'a> CodeVerifier<'t, 'b, 'a> {
    pub(super) fn new(t: &'t Tables<'b, 'a>) -> Self {
        CodeVerifier {
            t,
            state: State {
                depth: 0,
                tys: 0,
                #[cfg(feature = "dynkey")]
                ips: 0,
            },
            loops: [0; MAX_LEVELS],
        }
    }

    fn slot_kind(&self, s: u16) -> Result<u8, CodeError> {
        self.t
            .slot(s)
            .map(SlotRec::kind)
            .ok_or(CodeError::BadOperand)
    }

    /// The field record of field `field` of the element bound at `level` (an aggregate open at
    /// `depth`), or `BadOperand`.
    fn field_rec(&self, level: u8, field: u16, depth: usize) -> Result<FieldRec<'a>, CodeError> {
        if usize::from(level) >= depth {
            return Err(CodeError::BadOperand);
        }
        let slot = self.loops.get(usize::from(level)).copied().unwrap_or(0);
        let r = self.t.slot(slot).ok_or(CodeError::BadOperand)?;
        let (ff, nf) = (r.first_field(), r.field_count());
        if field >= nf {
            return Err(CodeError::BadOperand);
        }
        Ok(FieldRec::nth(
            self.t.body.fields,
            usize::from(ff) + usize::from(field),
        ))
    }

    fn field_ty(&self, level: u8, field: u16, depth: usize) -> Result<Ty, CodeError> {
        ty_of(self.field_rec(level, field, depth)?.kind()).ok_or(CodeError::BadOperand)
    }

    /// The slot record of the nested list that is field `field` of the element bound at
    /// `level` (issue #13): the field must be a list field.
    fn nested_slot(
        &self,
        level: u8,
        field: u16,
        depth: usize,
    ) -> Result<(u16, SlotRec<'t>), CodeError> {
        let t: &'t Tables<'b, 'a> = self.t;
        let fr = self.field_rec(level, field, depth)?;
        if !matches!(fr.kind(), kind::LIST | kind::RECORDS) {
            return Err(CodeError::TypeMismatch);
        }
        let s = fr.enum_id();
        Ok((s, t.slot(s).ok_or(CodeError::BadOperand)?))
    }

    fn scalar_slot_ty(&self, s: u16) -> Result<Ty, CodeError> {
        ty_of(self.slot_kind(s)?).ok_or(CodeError::TypeMismatch)
    }

    fn const_ty(&self, c: u16) -> Result<Ty, CodeError> {
        if usize::from(c) >= self.t.consts {
            return Err(CodeError::BadOperand);
        }
        ty_of(ConstRec::nth(self.t.body.consts, c.into()).kind()).ok_or(CodeError::BadOperand)
    }

    fn set_ty(&self, k: u16) -> Result<Ty, CodeError> {
        if usize::from(k) >= self.t.sets {
            return Err(CodeError::BadOperand);
        }
        ty_of(SetRec::nth(self.t.body.sets, k.into()).kind()).ok_or(CodeError::BadOperand)
    }

    /// The value type of lookup table (`set`, `konst`) read with a key of type `key` (issue
    /// #13): the key and the set are strings, the set is not empty, and its `n` rows are the
    /// constants `konst .. konst + n`, all of one type that is not an enum.
    fn lookup_ty(&self, key: Ty, set: u16, konst: u16) -> Result<Ty, CodeError> {
        if key != Ty::Str || self.set_ty(set)? != Ty::Str {
            return Err(CodeError::TypeMismatch);
        }
        let n = SetRec::nth(self.t.body.sets, set.into()).key_count();
        let first = self.const_ty(konst)?;
        let last = u16::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| konst.checked_add(n))
            .ok_or(CodeError::BadOperand)?;
        if first == Ty::Enum {
            return Err(CodeError::TypeMismatch);
        }
        for c in konst..=last {
            if self.const_ty(c)? != first {
                return Err(CodeError::TypeMismatch);
            }
        }
        Ok(first)
    }
    /// Checks the constants of a `seg.*` instruction (issue #14): `sep` a string whose text is
    /// not empty, `index` an int.
    #[cfg(feature = "segment")]
    fn seg_args(&self, sep: u16, index: u16) -> Result<(), CodeError> {
        if self.const_ty(sep)? != Ty::Str || self.const_ty(index)? != Ty::Int {
            return Err(CodeError::TypeMismatch);
        }
        let sym = ConstRec::nth(self.t.body.consts, sep.into()).value();
        let sym = usize::try_from(sym).map_err(|_| CodeError::BadOperand)?;
        if sym >= self.t.symbols || SymbolRec::nth(self.t.body.symbols, sym).text().len == 0 {
            return Err(CodeError::BadOperand);
        }
        Ok(())
    }

    /// The slot record of map slot `s`: kind [`kind::MAP`], its field 0 the string key (the
    /// map of `map.get` and `map.has`, issue #13).
    fn map_slot(&self, s: u16) -> Result<SlotRec<'t>, CodeError> {
        let t: &'t Tables<'b, 'a> = self.t;
        let r = t.slot(s).ok_or(CodeError::BadOperand)?;
        if r.kind() != kind::MAP {
            return Err(CodeError::TypeMismatch);
        }
        let key = FieldRec::nth(t.body.fields, usize::from(r.first_field()));
        if r.field_count() == 0 || key.kind() != kind::STR {
            return Err(CodeError::TypeMismatch);
        }
        Ok(r)
    }

    /// The slot record of map slot `s` ([`Self::map_slot`]) and the type of its entry field
    /// `field` (1 or more, a scalar): the operands of `map.get` (issue #13).
    fn map_field(&self, s: u16, field: u16) -> Result<(SlotRec<'t>, Ty), CodeError> {
        let r = self.map_slot(s)?;
        if field == 0 || field >= r.field_count() {
            return Err(CodeError::BadOperand);
        }
        let rec = FieldRec::nth(
            self.t.body.fields,
            usize::from(r.first_field()) + usize::from(field),
        );
        let ty = load_ty(rec.kind()).ok_or(CodeError::TypeMismatch)?;
        Ok((r, ty))
    }

    /// Checks set `k` exists and is an IP range set ([`kind::IP`], issue #14).
    fn ip_set(&self, k: u16) -> Result<(), CodeError> {
        if usize::from(k) >= self.t.sets {
            return Err(CodeError::BadOperand);
        }
        if SetRec::nth(self.t.body.sets, k.into()).kind() != kind::IP {
            return Err(CodeError::TypeMismatch);
        }
        Ok(())
    }

    /// The effect of a comparison `op` of a cell of type `a` with one of type `b`: equal
    /// types, and an ordered operator only on ints and enums; a bool results.
    fn cmp(op: CmpOp, a: Ty, b: Ty) -> Result<Effect, CodeError> {
        // An address is compared by `cmp.ip` only (issue #13, session 10).
        #[cfg(feature = "dynkey")]
        if a == Ty::Ip {
            return Err(CodeError::TypeMismatch);
        }
        if a != b || (op.is_ordered() && !matches!(a, Ty::Int | Ty::Enum)) {
            return Err(CodeError::TypeMismatch);
        }
        Ok(Effect::push(Ty::Bool))
    }

    /// Pops a cell that must have type `want` (issue #15: the one copy of this check for the
    /// instructions that test their operand before their other operands).
    fn pop_ty(&mut self, base: u8, want: Ty) -> Result<(), CodeError> {
        if self.state.pop(base)? != want {
            return Err(CodeError::TypeMismatch);
        }
        Ok(())
    }

    /// Applies an instruction's checked [`Effect`] to the stack state: pops its operands (all
    /// of them before their types are compared), then pushes its result.
    fn apply(&mut self, base: u8, eff: Effect) -> Result<(), CodeError> {
        match eff.npops {
            0 => {}
            1 => {
                let [a, _] = eff.pops;
                self.pop_ty(base, a)?;
            }
            _ => {
                let b = self.state.pop(base)?;
                let a = self.state.pop(base)?;
                if [a, b] != eff.pops {
                    return Err(CodeError::TypeMismatch);
                }
            }
        }
        self.state.push(eff.push)
    }

    /// Checks the operands of one instruction that is neither a jump nor an aggregate (those
    /// need the block around them, [`Self::block`]) at aggregate nesting `level`, with the
    /// block's cells starting at depth `base`, and returns its stack effect and extra cost.
    ///
    /// Issue #15: every instruction's check ends in the one shared [`Self::apply`], and its
    /// errors get their location once, in [`Self::block`], instead of at every operand.
    fn effect(&mut self, instr: Instr, level: usize, base: u8) -> Result<Effect, CodeError> {
        use Ty::{Bool, Int, Str};
        Ok(match instr {
            // With `dynkey`, an `ip` slot or field loads as an address (issue #13, session 10).
            #[cfg(feature = "dynkey")]
            Instr::LoadSlot { slot } => {
                Effect::push(load_ty(self.slot_kind(slot.0)?).ok_or(CodeError::TypeMismatch)?)
            }
            #[cfg(not(feature = "dynkey"))]
            Instr::LoadSlot { slot } => Effect::push(self.scalar_slot_ty(slot.0)?),
            #[cfg(feature = "dynkey")]
            Instr::LoadField { level: l, field } => Effect::push(
                load_ty(self.field_rec(l.0, field.0, level)?.kind())
                    .ok_or(CodeError::BadOperand)?,
            ),
            #[cfg(not(feature = "dynkey"))]
            Instr::LoadField { level: l, field } => {
                Effect::push(self.field_ty(l.0, field.0, level)?)
            }
            Instr::HasField { level: l, field } => {
                // The presence of a scalar field (an address too, issue #14) or of a nested
                // list (issue #13).
                let ip = self
                    .field_rec(l.0, field.0, level)
                    .is_ok_and(|r| r.kind() == kind::IP);
                if !ip && self.field_ty(l.0, field.0, level).is_err() {
                    self.nested_slot(l.0, field.0, level)?;
                }
                Effect::push(Bool)
            }
            Instr::LoadConst { konst } => Effect::push(self.const_ty(konst.0)?),
            Instr::Cmp { op } => {
                let b = self.state.pop(base)?;
                let a = self.state.pop(base)?;
                Self::cmp(op, a, b)?
            }
            Instr::CmpSlotConst { op, slot, konst } => {
                Self::cmp(op, self.scalar_slot_ty(slot.0)?, self.const_ty(konst.0)?)?
            }
            Instr::CmpFieldConst {
                op,
                level: l,
                field,
                konst,
            } => Self::cmp(
                op,
                self.field_ty(l.0, field.0, level)?,
                self.const_ty(konst.0)?,
            )?,
            Instr::CmpFieldSlot {
                op,
                level: l,
                field,
                slot,
            } => Self::cmp(
                op,
                self.field_ty(l.0, field.0, level)?,
                self.scalar_slot_ty(slot.0)?,
            )?,
            Instr::StrOp { op } => {
                // `matches` reads a regex of the bundle: only `str.match` runs it.
                if op == crate::isa::StrOp::Matches {
                    return Err(CodeError::BadOperand);
                }
                Effect::bin(Str, Str, Bool)
            }
            Instr::StrMatch { re } => {
                self.pop_ty(base, Str)?;
                if usize::from(re.0) >= crate::regex::count(self.t.body.regexes) {
                    return Err(CodeError::BadOperand);
                }
                Effect::push(Bool)
            }
            Instr::StrMatchFold { re } => {
                // Issue #14, session 9: `lower(s) matches re`; one step.
                self.pop_ty(base, Str)?;
                if usize::from(re.0) >= crate::regex::count(self.t.body.regexes) {
                    return Err(CodeError::BadOperand);
                }
                Effect::push(Bool)
            }
            Instr::StrFold { op } => {
                // Issue #14, session 9: `lower(a) op lower(b)`; one step.
                if !crate::fold::folds(op) {
                    return Err(CodeError::BadOperand);
                }
                Effect::bin(Str, Str, Bool)
            }
            Instr::InRange { table } => {
                // Issue #14, session 9: an int against a range table (sorted, disjoint,
                // non-adjacent; checked here), one binary search: one step.
                self.pop_ty(base, Int)?;
                crate::ranges::check(self.t.body.int_ranges, table.0)
                    .map_err(|_| CodeError::BadOperand)?;
                Effect::push(Bool)
            }
            Instr::InSet { set } => Effect::un(self.set_ty(set.0)?, Bool),
            Instr::InSlotSet { slot, set } => {
                if self.scalar_slot_ty(slot.0)? != self.set_ty(set.0)? {
                    return Err(CodeError::TypeMismatch);
                }
                Effect::push(Bool)
            }
            Instr::InIpSlot { slot, set } => {
                // Issue #14: an address slot against an IP range table (checked sorted and
                // disjoint in records.rs); one binary search.
                if self.slot_kind(slot.0)? != kind::IP {
                    return Err(CodeError::TypeMismatch);
                }
                self.ip_set(set.0)?;
                Effect::push(Bool)
            }
            Instr::InIpField {
                level: l,
                field,
                set,
            } => {
                if self.field_rec(l.0, field.0, level)?.kind() != kind::IP {
                    return Err(CodeError::TypeMismatch);
                }
                self.ip_set(set.0)?;
                Effect::push(Bool)
            }
            Instr::InPairSet { set } => {
                // A pair set only: its keys are checked as symbol pairs (records.rs).
                if usize::from(set.0) >= self.t.sets {
                    return Err(CodeError::BadOperand);
                }
                if SetRec::nth(self.t.body.sets, set.0.into()).kind() != kind::PAIR {
                    return Err(CodeError::TypeMismatch);
                }
                Effect::bin(Str, Str, Bool)
            }
            Instr::LookupSlot { slot, set, konst } => {
                let k = self.scalar_slot_ty(slot.0)?;
                Effect::push(self.lookup_ty(k, set.0, konst.0)?)
            }
            Instr::LookupField {
                level: l,
                field,
                set,
                konst,
            } => {
                let k = self.field_ty(l.0, field.0, level)?;
                Effect::push(self.lookup_ty(k, set.0, konst.0)?)
            }
            #[cfg(feature = "segment")]
            Instr::SegSlot { slot, sep, index } | Instr::HasSegSlot { slot, sep, index } => {
                if self.scalar_slot_ty(slot.0)? != Str {
                    return Err(CodeError::TypeMismatch);
                }
                self.seg_args(sep.0, index.0)?;
                Effect::push(if matches!(instr, Instr::SegSlot { .. }) {
                    Str
                } else {
                    Bool
                })
            }
            #[cfg(feature = "segment")]
            Instr::SegField {
                level: l,
                field,
                sep,
                index,
            }
            | Instr::HasSegField {
                level: l,
                field,
                sep,
                index,
            } => {
                if self.field_ty(l.0, field.0, level)? != Str {
                    return Err(CodeError::TypeMismatch);
                }
                self.seg_args(sep.0, index.0)?;
                Effect::push(if matches!(instr, Instr::SegField { .. }) {
                    Str
                } else {
                    Bool
                })
            }
            #[cfg(feature = "segment")]
            Instr::Seg {
                sep,
                index,
                level: l,
                at,
            } => {
                // Issue #14: a piece of the string on the stack; `at` names a slot (level
                // `SEG_AT_SLOT`) or a field of a bound element, as an error location only
                // (its kind is not read).
                if l.0 == crate::isa::SEG_AT_SLOT {
                    self.slot_kind(at.0)?;
                } else {
                    self.field_rec(l.0, at.0, level)?;
                }
                self.seg_args(sep.0, index.0)?;
                Effect::un(Str, Str)
            }
            #[cfg(feature = "segment")]
            Instr::HasSeg { sep, index } => {
                self.seg_args(sep.0, index.0)?;
                Effect::un(Str, Bool)
            }
            // Refused before by the family check (issue #15).
            #[cfg(not(feature = "segment"))]
            Instr::SegSlot { .. }
            | Instr::SegField { .. }
            | Instr::HasSegSlot { .. }
            | Instr::HasSegField { .. }
            | Instr::Seg { .. }
            | Instr::HasSeg { .. } => {
                return Err(CodeError::Unsupported(crate::family::Family::Segment));
            }
            Instr::CmpIpSlotSlot { a, b, .. } => {
                // Issue #14: two address slots, compared in place; one step.
                if self.slot_kind(a.0)? != kind::IP || self.slot_kind(b.0)? != kind::IP {
                    return Err(CodeError::TypeMismatch);
                }
                Effect::push(Bool)
            }
            Instr::CmpIpFieldSlot {
                level: l,
                field,
                slot,
                ..
            } => {
                if self.field_rec(l.0, field.0, level)?.kind() != kind::IP
                    || self.slot_kind(slot.0)? != kind::IP
                {
                    return Err(CodeError::TypeMismatch);
                }
                Effect::push(Bool)
            }
            Instr::CmpIpFieldField { la, fa, lb, fb, .. } => {
                if self.field_rec(la.0, fa.0, level)?.kind() != kind::IP
                    || self.field_rec(lb.0, fb.0, level)?.kind() != kind::IP
                {
                    return Err(CodeError::TypeMismatch);
                }
                Effect::push(Bool)
            }
            // Issue #13: a request map indexed by the string on the stack, a scan of at most
            // its `max` entries.
            Instr::MapGet { map, field } => {
                let (r, t) = self.map_field(map.0, field.0)?;
                Effect::un(Str, t).cost(r.max_len())
            }
            // Issue #13, session 10: an address cell against an IP range table, and two
            // address cells compared (any order).
            #[cfg(feature = "dynkey")]
            Instr::InIp { set } => {
                self.ip_set(set.0)?;
                Effect::un(Ty::Ip, Bool)
            }
            #[cfg(feature = "dynkey")]
            Instr::CmpIp { .. } => Effect::bin(Ty::Ip, Ty::Ip, Bool),
            // Without `dynkey`, `family::check_instr` refused them before.
            #[cfg(not(feature = "dynkey"))]
            Instr::InIp { .. } | Instr::CmpIp { .. } => return Err(CodeError::BadOperand),
            Instr::MapHas { map, field } => {
                // Field 0, the key, tests the entry alone (`has m[k]` of a map of records).
                let r = self.map_slot(map.0)?;
                if field.0 >= r.field_count() {
                    return Err(CodeError::BadOperand);
                }
                Effect::un(Str, Bool).cost(r.max_len())
            }
            Instr::InList { list } => {
                let r = self.t.slot(list.0).ok_or(CodeError::BadOperand)?;
                if r.kind() != kind::LIST {
                    return Err(CodeError::TypeMismatch);
                }
                let et = ty_of(r.elem_kind()).ok_or(CodeError::BadOperand)?;
                // A scan of the list: bounded by its length.
                Effect::un(et, Bool).cost(r.max_len())
            }
            Instr::InField { level: l, field } => {
                let (_, r) = self.nested_slot(l.0, field.0, level)?;
                if r.kind() != kind::LIST {
                    return Err(CodeError::TypeMismatch);
                }
                let et = ty_of(r.elem_kind()).ok_or(CodeError::BadOperand)?;
                Effect::un(et, Bool).cost(r.max_len())
            }
            Instr::Has { slot } => {
                self.slot_kind(slot.0)?;
                Effect::push(Bool)
            }
            Instr::Not {} => Effect::un(Bool, Bool),
            Instr::And {} | Instr::Or {} => Effect::bin(Bool, Bool, Bool),
            Instr::Add {} | Instr::Sub {} => Effect::bin(Int, Int, Int),
            Instr::Arith { op, at } => {
                // The error slot must exist (its path names an arithmetic error).
                self.slot_kind(at.0)?;
                if !op.is_unary() {
                    self.pop_ty(base, Int)?;
                }
                Effect::un(Int, Int)
            }
            Instr::StrLen {} => Effect::un(Str, Int),
            Instr::NoteCount {}
            | Instr::TimeHour {}
            | Instr::TimeWeekday {}
            | Instr::TimeOfDay {} => Effect::un(Int, Int),
            // A jump or an aggregate: checked by `block`, which never passes one here.
            Instr::JumpIfFalse { .. }
            | Instr::JumpIfTrue { .. }
            | Instr::Count { .. }
            | Instr::Any { .. }
            | Instr::All { .. }
            | Instr::CountField { .. }
            | Instr::AnyField { .. }
            | Instr::AllField { .. } => return Err(CodeError::BadOperand),
        })
    }

    /// Verifies one block at nesting `level` whose cells start at the current depth; returns
    /// its cost bound. Errors carry the offset within `code`.
    pub(super) fn block(&mut self, code: &[u8], level: usize) -> Result<u64, (usize, CodeError)> {
        let base = self.state.depth;
        // Not filled in advance (issue #15: zeroing 32 entries was 72 of a typical block's
        // ~330 instructions, and every policy has two or more blocks).
        let mut pending: heapless::Vec<(usize, State), MAX_PENDING> = heapless::Vec::new();
        let mut cost: u64 = 0;
        let mut pc = 0usize;
        while pc < code.len() {
            // Merge jumps landing here; reject any that skipped over this point.
            let mut i = 0;
            while let Some(&(target, st)) = pending.get(i) {
                if target < pc {
                    return Err((pc, CodeError::BadJump));
                }
                if target == pc {
                    if !st.same(&self.state) {
                        return Err((pc, CodeError::BadJump));
                    }
                    // The last entry takes this one's place. A swap of two disjoint entries,
                    // not a copy the compiler cannot prove disjoint, which linked `memmove`
                    // (1.6 KiB) into firmware; not `swap_remove`, which can panic.
                    if let Some((here, rest)) =
                        pending.get_mut(i..).and_then(<[_]>::split_first_mut)
                    {
                        if let Some(last) = rest.last_mut() {
                            core::mem::swap(here, last);
                        }
                    }
                    pending.pop();
                } else {
                    i += 1;
                }
            }
            let at = pc;
            let (instr, next) = Instr::decode(code, pc).map_err(|err| {
                (
                    at,
                    match err {
                        DecodeError::BadOpcode(b) => CodeError::BadOpcode(b),
                        DecodeError::Truncated => CodeError::Truncated,
                        DecodeError::BadOperand => CodeError::BadOperand,
                    },
                )
            })?;
            pc = next;
            cost = cost.saturating_add(1);
            let e = |err| (at, err);
            crate::family::check_instr(&instr).map_err(|f| e(CodeError::Unsupported(f)))?;
            match instr {
                Instr::JumpIfFalse { by } | Instr::JumpIfTrue { by } => {
                    self.apply(base, Effect::un(Ty::Bool, Ty::Bool))
                        .map_err(e)?;
                    let target = pc + usize::from(by.0);
                    if target > code.len() {
                        return Err(e(CodeError::BadJump));
                    }
                    // Jumps to one target with one stack state share an entry: every
                    // operand of an n-ary `and`/`or` jumps to the same exit, so the entries
                    // are bounded by the chains open at once, not by their operand count.
                    let known = pending
                        .iter()
                        .any(|(t, st)| *t == target && st.same(&self.state));
                    if !known {
                        pending
                            .push((target, self.state))
                            .map_err(|_| e(CodeError::TooManyJumps))?;
                    }
                }
                Instr::Count { .. }
                | Instr::Any { .. }
                | Instr::All { .. }
                | Instr::CountField { .. }
                | Instr::AnyField { .. }
                | Instr::AllField { .. } => {
                    let (s, body, is_count) = match instr {
                        Instr::Count { list, body } => (list.0, body, true),
                        Instr::Any { list, body } | Instr::All { list, body } => {
                            (list.0, body, false)
                        }
                        Instr::CountField {
                            level: l,
                            field,
                            body,
                        } => (
                            self.nested_slot(l.0, field.0, level).map_err(e)?.0,
                            body,
                            true,
                        ),
                        Instr::AnyField {
                            level: l,
                            field,
                            body,
                        }
                        | Instr::AllField {
                            level: l,
                            field,
                            body,
                        } => (
                            self.nested_slot(l.0, field.0, level).map_err(e)?.0,
                            body,
                            false,
                        ),
                        _ => return Err(e(CodeError::BadOperand)),
                    };
                    let n = usize::from(body.0);
                    let r = self.t.slot(s).ok_or(e(CodeError::BadOperand))?;
                    let k = r.kind();
                    let max = u64::from(r.max_len());
                    if n == 0 {
                        if !is_count || !(k == kind::LIST || kind::is_records(k)) {
                            return Err(e(CodeError::BadOperand));
                        }
                    } else {
                        // A body binds an element: of a list of records or a map, or of a list
                        // of scalars with its self field (`verify::records`).
                        if !(kind::is_records(k) || (k == kind::LIST && r.field_count() == 1)) {
                            return Err(e(CodeError::TypeMismatch));
                        }
                        if level >= MAX_LEVELS {
                            return Err(e(CodeError::TooDeep));
                        }
                        let body = code.get(pc..pc + n).ok_or(e(CodeError::Truncated))?;
                        if let Some(l) = self.loops.get_mut(level) {
                            *l = s;
                        }
                        let body_cost = self
                            .block(body, level + 1)
                            .map_err(|(bpc, err)| (pc + bpc, err))?;
                        // The body left one bool; the aggregate consumes it.
                        self.state.pop(base).map_err(e)?;
                        cost = cost.saturating_add(max.saturating_mul(body_cost.saturating_add(1)));
                        pc += n;
                    }
                    let t = if is_count { Ty::Int } else { Ty::Bool };
                    self.state.push(t).map_err(e)?;
                }
                _ => {
                    let eff = self.effect(instr, level, base).map_err(e)?;
                    self.apply(base, eff).map_err(e)?;
                    cost = cost.saturating_add(u64::from(eff.cost));
                }
            }
        }
        if pending
            .iter()
            .any(|(t, st)| *t != code.len() || !st.same(&self.state))
        {
            return Err((code.len(), CodeError::BadJump));
        }
        if self.state.depth != base + 1 || self.state.pop(base).ok() != Some(Ty::Bool) {
            return Err((code.len(), CodeError::BadEnd));
        }
        // Leave the result on the stack for the caller of a body; a top-level block is done.
        self.state.push(Ty::Bool).map_err(|err| (code.len(), err))?;
        Ok(cost)
    }
}

/// What one instruction does to the stack once its operands are checked (issue #15: the
/// shared tail of every instruction's check, [`CodeVerifier::apply`]): it pops `npops` cells
/// of the types `pops` (the top of the stack last), pushes one of type `push` and adds `cost`
/// steps (a scan's bound) to its own one.
#[derive(Clone, Copy)]
struct Effect {
    pops: [Ty; 2],
    npops: u8,
    push: Ty,
    cost: u32,
}

impl Effect {
    /// Pops nothing, pushes `t`.
    const fn push(t: Ty) -> Self {
        Effect {
            pops: [Ty::Bool; 2],
            npops: 0,
            push: t,
            cost: 0,
        }
    }
    /// Pops a cell of type `a`, pushes `t`.
    const fn un(a: Ty, t: Ty) -> Self {
        Effect {
            pops: [a, Ty::Bool],
            npops: 1,
            push: t,
            cost: 0,
        }
    }
    /// Pops cells of types `a` and `b` (`b` on top), pushes `t`.
    const fn bin(a: Ty, b: Ty, t: Ty) -> Self {
        Effect {
            pops: [a, b],
            npops: 2,
            push: t,
            cost: 0,
        }
    }
    /// The same effect with `cost` extra steps.
    const fn cost(self, cost: u32) -> Self {
        Effect { cost, ..self }
    }
}
