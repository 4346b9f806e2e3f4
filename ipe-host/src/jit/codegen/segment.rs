//! `segment(x, sep, i)` in native code (issue #14): `seg.slot`, `seg.field` and their
//! `has.seg.*` forms, through the helper [`str_seg`](crate::jit::helpers::str_seg) for a
//! clean string, agreeing with the interpreter (`vm/segment.rs`) bit for bit.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, InstBuilder, StackSlotData, StackSlotKind};
use ipe_nostd::format::kind;
use ipe_nostd::isa::{Instr, SEG_AT_SLOT};
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::ErrKind;

use super::calls::Helper;
use super::{bad, Cell, Gen, Ty, R};
use crate::jit::errcode::{self, OK};

impl Gen<'_, '_> {
    /// The separator symbol and the index of a `seg.*` instruction (verified constants).
    fn seg_args(&self, sep: u16, index: u16) -> R<(i64, i64)> {
        let s = self.sh.consts.get(usize::from(sep)).copied();
        let i = self.sh.consts.get(usize::from(index)).copied();
        match (s, i) {
            (Some((kind::STR, s)), Some((kind::INT, i))) => Ok((s, i)),
            _ => Err(bad("`seg` constants")),
        }
    }

    /// Piece of the string cell `a`: `(piece cell, found)`, `found` 1 when `a` is an error
    /// (the cell then keeps `a`'s error) or the piece exists; the piece's error is the
    /// no-segment error at `at` when it does not.
    fn seg_cell(&mut self, a: Cell, at: u64, sep: u16, index: u16) -> R<(Cell, ir::Value)> {
        let (sep, idx) = self.seg_args(sep, index)?;
        let (ap, al) = match (a.ptr, a.len) {
            (Some(ap), Some(al)) => (ap, al),
            _ => return Err(bad("`seg` on a non-string")),
        };
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 24, 3));
        let out = self.b.ins().stack_addr(I64, slot, 0);
        let zero = self.iconst(0);
        let none = self.iconst(i64::from(NO_SYMBOL));
        let f = Self::flags();
        self.b.ins().store(f, zero, out, 0);
        self.b.ins().store(f, zero, out, 8);
        self.b.ins().store(f, none, out, 16);
        let dirty = self.icmp_k(IntCC::NotEqual, a.err, OK as i64);
        let one = self.iconst(1);
        let found = self.unless(dirty, one, false, |g| {
            let sh = g.shapes_ptr();
            let sv = g.iconst(sep);
            let iv = g.iconst(idx);
            g.call(Helper::StrSeg, &[sh, ap, al, sv, iv, out])
        });
        let ptr = self.b.ins().load(I64, f, out, 0);
        let len = self.b.ins().load(I64, f, out, 8);
        let sym = self.b.ins().load(I64, f, out, 16);
        let missing = self.iconst((at | errcode::kind_code(ErrKind::NoSegment)) as i64);
        let ok = self.ok();
        let absent = self.icmp_k(IntCC::Equal, found, 0);
        let seg_err = self.b.ins().select(absent, missing, ok);
        let err = self.b.ins().umin(a.err, seg_err);
        Ok((
            Cell {
                ty: Ty::Str,
                val: sym,
                err,
                ptr: Some(ptr),
                len: Some(len),
            },
            found,
        ))
    }

    /// Runs `seg.slot`, `seg.field`, `has.seg.slot` or `has.seg.field`.
    pub(super) fn seg_instr(&mut self, instr: Instr) -> R<()> {
        let (addr, a, at, sep, index, has) = match instr {
            Instr::SegSlot { slot, sep, index } | Instr::HasSegSlot { slot, sep, index } => {
                let addr = self.slot_addr(slot.0);
                let a = self.load_slot(slot.0)?;
                let at = errcode::at(slot.0, None);
                let has = matches!(instr, Instr::HasSegSlot { .. });
                (addr, a, at, sep.0, index.0, has)
            }
            Instr::SegField {
                level,
                field,
                sep,
                index,
            }
            | Instr::HasSegField {
                level,
                field,
                sep,
                index,
            } => {
                let (slot, addr) = self.field_addr(level.0, field.0)?;
                let (k, e) = self.sh.field(slot, field.0);
                let at = errcode::at(slot, Some(field.0));
                let a = self.read(addr, k, e, at)?;
                let has = matches!(instr, Instr::HasSegField { .. });
                (addr, a, at, sep.0, index.0, has)
            }
            _ => return Err(bad("not a `seg` instruction")),
        };
        let (c, found) = self.seg_cell(a, at, sep, index)?;
        if has {
            // Present (valid or not) and, when valid, with the piece.
            let present = self.present(addr);
            let val = self.b.ins().band(present.val, found);
            let ok = self.ok();
            let c = self.cell(Ty::Bool, val, ok);
            self.push(c)
        } else {
            self.push(c)
        }
    }

    /// Runs `seg` or `has.seg` (issue #14): a piece of the string cell on the stack (a piece,
    /// a map constant's value).
    pub(super) fn seg_stack(&mut self, instr: Instr) -> R<()> {
        let a = self.pop()?;
        match instr {
            Instr::Seg {
                sep,
                index,
                level,
                at,
            } => {
                let at = if level.0 == SEG_AT_SLOT {
                    errcode::at(at.0, None)
                } else {
                    errcode::at(self.elem(level.0)?.0, Some(at.0))
                };
                let (c, _) = self.seg_cell(a, at, sep.0, index.0)?;
                self.push(c)
            }
            Instr::HasSeg { sep, index } => {
                let (_, found) = self.seg_cell(a, 0, sep.0, index.0)?;
                // An error cell: present unless missing, no such piece or no such key.
                let k = self.b.ins().band_imm_u(a.err, 0xff);
                let mut absent = self.icmp_k(IntCC::Equal, k, 0);
                for kind in [ErrKind::NoSegment, ErrKind::MissingKey] {
                    let code = errcode::kind_code(kind) as i64;
                    let is = self.icmp_k(IntCC::Equal, k, code);
                    absent = self.b.ins().bor(absent, is);
                }
                let present = self.b.ins().bxor_imm_u(absent, 1);
                let present = self.b.ins().uextend(I64, present);
                let dirty = self.icmp_k(IntCC::NotEqual, a.err, OK as i64);
                let val = self.b.ins().select(dirty, present, found);
                let ok = self.ok();
                let c = self.cell(Ty::Bool, val, ok);
                self.push(c)
            }
            _ => Err(bad("not a stack `seg` instruction")),
        }
    }
}
