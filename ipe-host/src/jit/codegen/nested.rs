//! Nested lists (issue #13): `in.field` and the `*.field` aggregates read a list field of the
//! element an enclosing aggregate binds, declared by the slot record its field record names;
//! the loops and slow paths are the top-level list's, given the field's address.

use cranelift_codegen::ir::{self, condcodes::IntCC, InstBuilder};
use ipe_nostd::format::kind;

use super::calls::Helper;
use super::{bad, Cell, Gen, Ty, R};
use crate::jit::errcode::{FOUND, OK};

impl Gen<'_, '_> {
    /// The nested list's slot and the address of its value: field `f` of the element bound
    /// at `level`.
    pub(super) fn nested_list(&mut self, level: u8, f: u16) -> R<(u16, ir::Value)> {
        let (slot, addr) = self.field_addr(level, f)?;
        let (k, s) = self.sh.field(slot, f);
        if !matches!(k, kind::LIST | kind::RECORDS) {
            return Err(bad("a list instruction on a field that is no list"));
        }
        Ok((s, addr))
    }

    /// `in.field`: `a` is an element of the nested list of scalars at `(level, f)`.
    pub(super) fn in_field(&mut self, a: Cell, level: u8, f: u16) -> R<Cell> {
        let (s, addr) = self.nested_list(level, f)?;
        Ok(self.in_list_at(a, s, addr))
    }

    /// `a` is an element of the list of scalars of slot `s` whose value is at `addr` (a
    /// top-level list's slot value, or a nested list read from an element): the list's error
    /// wins, an error operand is the result, else whether the list holds `a`. One `InList`
    /// call checks the list and searches it (issue #15, session 15).
    pub(super) fn in_list_at(&mut self, a: Cell, s: u16, addr: ir::Value) -> Cell {
        let sh = self.shapes_ptr();
        let sv = self.iconst(i64::from(s));
        let zero = self.iconst(0);
        // An operand in error passes no text (its result is not used).
        let a_dirty = self.icmp_k(IntCC::NotEqual, a.err, OK as i64);
        let (p, l) = match (a.ptr, a.len) {
            (Some(p), Some(l)) => (
                self.b.ins().select(a_dirty, zero, p),
                self.b.ins().select(a_dirty, zero, l),
            ),
            _ => (zero, zero),
        };
        let r = self.call(Helper::InList, &[sh, sv, addr, a.val, p, l]);
        let found = self.icmp_k(IntCC::Equal, r, FOUND as i64);
        let ok = self.iconst(OK as i64);
        let lerr = self.b.ins().select(found, ok, r);
        let err = self.b.ins().umin(a.err, lerr);
        let dirty = self.icmp_k(IntCC::NotEqual, err, OK as i64);
        let hit = self.b.ins().uextend(ir::types::I64, found);
        let val = self.b.ins().select(dirty, zero, hit);
        self.cell(Ty::Bool, val, err)
    }
}
