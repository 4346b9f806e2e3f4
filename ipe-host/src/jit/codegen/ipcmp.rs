//! Two `ip` values compared in native code (issue #14): `cmp.ip.slot.slot`,
//! `cmp.ip.field.slot` and `cmp.ip.field.field`, agreeing with the interpreter
//! (`vm/ipcmp.rs`) bit for bit: each side's error from the read kernel, the smaller kept, and
//! the 128-bit order through the helper [`ip_cmp`](crate::jit::helpers::ip_cmp).

use cranelift_codegen::ir::{self, InstBuilder};
use ipe_nostd::format::kind;
use ipe_nostd::isa::Instr;

use super::calls::Helper;
use super::{bad, Gen, Ty, R};
use crate::jit::errcode;

impl Gen<'_, '_> {
    /// The error code of the address at `addr` read at `at` ([`errcode::OK`] when valid).
    pub(super) fn ip_err(&mut self, addr: ir::Value, at: u64) -> ir::Value {
        let sh = self.shapes_ptr();
        let kv = self.iconst(i64::from(kind::IP));
        let ev = self.iconst(0);
        let atv = self.iconst(at as i64);
        self.call(Helper::ReadErr, &[sh, addr, kv, ev, atv])
    }

    /// Runs a `cmp.ip.*` instruction.
    pub(super) fn cmp_ip(&mut self, instr: Instr) -> R<()> {
        let (op, (a, at_a), (b, at_b)) = match instr {
            Instr::CmpIpSlotSlot { op, a, b } => (
                op,
                (self.slot_addr(a.0), errcode::at(a.0, None)),
                (self.slot_addr(b.0), errcode::at(b.0, None)),
            ),
            Instr::CmpIpFieldSlot {
                op,
                level,
                field,
                slot,
            } => {
                let (list, addr) = self.field_addr(level.0, field.0)?;
                (
                    op,
                    (addr, errcode::at(list, Some(field.0))),
                    (self.slot_addr(slot.0), errcode::at(slot.0, None)),
                )
            }
            Instr::CmpIpFieldField { op, la, fa, lb, fb } => {
                let (la_list, a) = self.field_addr(la.0, fa.0)?;
                let (lb_list, b) = self.field_addr(lb.0, fb.0)?;
                (
                    op,
                    (a, errcode::at(la_list, Some(fa.0))),
                    (b, errcode::at(lb_list, Some(fb.0))),
                )
            }
            _ => return Err(bad("not a `cmp.ip` instruction")),
        };
        let ea = self.ip_err(a, at_a);
        let eb = self.ip_err(b, at_b);
        let err = self.b.ins().umin(ea, eb);
        let opv = self.iconst(op as i64);
        let val = self.call(Helper::IpCmp, &[opv, a, b]);
        let c = self.cell(Ty::Bool, val, err);
        self.push(c)
    }
}
