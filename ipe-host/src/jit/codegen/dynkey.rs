//! Dynamic keys on request maps (issue #13, `labels[k]`): `map.get` and `map.has` as native
//! code around one helper call, the interpreter's entry search
//! ([`map_find`](crate::jit::helpers::map_find) over [`ipe_nostd::dynkey::find`]). The map is
//! read with the list reader every aggregate uses ([`Gen::list_at`]) and the entry's field
//! with the scalar reader of `load.field` ([`Gen::read`]), so errors are the interpreter's bit
//! for bit.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, InstBuilder};
use ipe_nostd::isa::CmpOp;
use ipe_nostd::ErrKind;

use super::calls::Helper;
use super::{bad, Cell, Gen, Ty, R};
use crate::jit::errcode::{self, OK};

impl Gen<'_, '_> {
    /// The list error code of map slot `map`, its entries' first value, and the index of the
    /// entry whose key is the string cell `key` (`-1` when there is none, or when the key or
    /// the map is an error: the helper is called only with a clean key and a valid map).
    fn map_find(&mut self, key: Cell, map: u16) -> R<(ir::Value, ir::Value, ir::Value)> {
        let (kp, kl) = match (key.ptr, key.len) {
            (Some(p), Some(l)) => (p, l),
            _ => return Err(bad("map key that is not a string")),
        };
        let addr = self.slot_addr(map);
        let (lerr, ptr, _) = self.list_at(map, addr);
        let stride = i64::from(self.sh.slot(map).fields.max(1));
        let worst = self.b.ins().umin(key.err, lerr);
        let dirty = self.icmp_k(IntCC::NotEqual, worst, OK as i64);
        let none = self.iconst(-1);
        let idx = self.unless(dirty, none, false, |g| {
            let sv = g.iconst(stride);
            g.call(Helper::MapFind, &[addr, sv, kp, kl, key.val])
        });
        Ok((lerr, ptr, idx))
    }

    /// The address of field `field` of entry `idx` of `map` (entries from `ptr`), or of the
    /// map slot's own value (always a live `Value`) when `idx` is `-1`: what `map.get` and
    /// `map.has` read, their results replaced when there is no entry.
    fn entry_field(&mut self, map: u16, field: u16, ptr: ir::Value, idx: ir::Value) -> ir::Value {
        let found = self.icmp_k(IntCC::NotEqual, idx, -1);
        let size = i64::from(self.lay.size);
        let stride = i64::from(self.sh.slot(map).fields.max(1));
        let off = self.b.ins().imul_imm_s(idx, stride.saturating_mul(size));
        let entry = self.b.ins().iadd(ptr, off);
        let at_field = self.add_k(entry, i64::from(field).saturating_mul(size));
        let own = self.slot_addr(map);
        self.b.ins().select(found, at_field, own)
    }

    /// `map.get map field`: field `field` of the entry of `map` under `key` (the interpreter's
    /// `Machine::map_get`): the smaller of the key's and the map's errors, else the
    /// missing-entry error at the map, else the field read as `load.field` reads it.
    pub(super) fn map_get(&mut self, key: Cell, map: u16, field: u16) -> R<Cell> {
        let (lerr, ptr, idx) = self.map_find(key, map)?;
        let found = self.icmp_k(IntCC::NotEqual, idx, -1);
        let addr = self.entry_field(map, field, ptr, idx);
        let (k, e) = self.sh.field(map, field);
        let c = self.read(addr, k, e, errcode::at(map, Some(field)))?;
        let base = self.b.ins().umin(key.err, lerr);
        let missing = errcode::at(map, None) | errcode::kind_code(ErrKind::MissingEntry);
        let missing = self.iconst(missing as i64);
        let entry_err = self.b.ins().select(found, c.err, missing);
        let clean = self.is_ok(base);
        let err = self.b.ins().select(clean, entry_err, base);
        Ok(Cell { err, ..c })
    }

    /// `map.has map field`: whether `map` has an entry under `key` whose field `field` is
    /// present (the interpreter's `Machine::map_has`): a missing map has none; the key's error
    /// and an invalid map's error are errors, the smaller when both are.
    pub(super) fn map_has(&mut self, key: Cell, map: u16, field: u16) -> R<Cell> {
        let (lerr, ptr, idx) = self.map_find(key, map)?;
        let found = self.icmp_k(IntCC::NotEqual, idx, -1);
        let addr = self.entry_field(map, field, ptr, idx);
        let present = self.present(addr).val;
        let found = self.bool64(found);
        let val = self.b.ins().band(found, present);
        // A missing map's code is its location with kind code 0 (`ErrKind::Missing`).
        let missing = errcode::at(map, None) | errcode::kind_code(ErrKind::Missing);
        let is_missing = self.icmp_k(IntCC::Equal, lerr, missing as i64);
        let okv = self.ok();
        let lerr = self.b.ins().select(is_missing, okv, lerr);
        let err = self.b.ins().umin(key.err, lerr);
        Ok(self.cell(Ty::Bool, val, err))
    }

    /// `in.ip set` (issue #13, session 10): whether the address cell `a` is in IP set `set`
    /// (the interpreter's `in_ip_cell`); `a`'s error stays.
    pub(super) fn in_ip_cell(&mut self, a: Cell, set: u16) -> R<Cell> {
        if a.ty != Ty::Ip {
            return Err(bad("`in.ip` of a value that is not an address"));
        }
        let sh = self.shapes_ptr();
        let sv = self.iconst(i64::from(set));
        let val = self.call(Helper::IpInSet, &[sh, sv, a.val]);
        Ok(self.cell(Ty::Bool, val, a.err))
    }

    /// `cmp.ip op` (issue #13, session 10): the address cells `a` and `b` compared by their
    /// 128-bit value through [`Helper::IpCmp`]; the smaller error.
    pub(super) fn cmp_ip_cells(&mut self, op: CmpOp, a: Cell, b: Cell) -> R<Cell> {
        if a.ty != Ty::Ip || b.ty != Ty::Ip {
            return Err(bad("`cmp.ip` of a value that is not an address"));
        }
        let err = self.b.ins().umin(a.err, b.err);
        let opv = self.iconst(op as i64);
        let val = self.call(Helper::IpCmp, &[opv, a.val, b.val]);
        Ok(self.cell(Ty::Bool, val, err))
    }
}
