//! The time instructions (issue #14) in native code: `sub` and the calendar parts of a
//! timestamp, Euclidean integer arithmetic on the int cell, agreeing with
//! [`ipe_nostd::time`] bit for bit (an error cell keeps its error).

use cranelift_codegen::ir::{self, condcodes::IntCC, InstBuilder};
use ipe_nostd::isa::Instr;
use ipe_nostd::time::DAY_MS;

use super::{bad, Gen, Ty, R};

impl Gen<'_, '_> {
    /// `v.rem_euclid(m)` and `v.div_euclid(m)` for a constant `m > 0`.
    fn euclid(&mut self, v: ir::Value, m: i64) -> (ir::Value, ir::Value) {
        let mv = self.iconst(m);
        let q = self.b.ins().sdiv(v, mv);
        let r = self.b.ins().srem(v, mv);
        let neg = self.icmp_k(IntCC::SignedLessThan, r, 0);
        let r_up = self.b.ins().iadd(r, mv);
        let q_down = self.add_k(q, -1);
        let r = self.b.ins().select(neg, r_up, r);
        let q = self.b.ins().select(neg, q_down, q);
        (r, q)
    }

    /// Runs `sub`, `time.hour`, `time.weekday` or `time.of_day` on the stack.
    pub(super) fn time_instr(&mut self, instr: Instr) -> R<()> {
        match instr {
            Instr::Sub {} => {
                // Readers bound both operands (issue #14), so the difference never wraps.
                let b = self.pop()?;
                let a = self.pop()?;
                let err = self.b.ins().umin(a.err, b.err);
                let val = self.b.ins().isub(a.val, b.val);
                let c = self.cell(Ty::Int, val, err);
                self.push(c)
            }
            Instr::TimeHour {} | Instr::TimeWeekday {} | Instr::TimeOfDay {} => {
                let a = self.pop()?;
                let val = match instr {
                    Instr::TimeHour {} => {
                        let (r, _) = self.euclid(a.val, DAY_MS);
                        let h = self.iconst(3_600_000);
                        self.b.ins().sdiv(r, h)
                    }
                    Instr::TimeWeekday {} => {
                        let (_, days) = self.euclid(a.val, DAY_MS);
                        let shifted = self.add_k(days, 3);
                        let (w, _) = self.euclid(shifted, 7);
                        self.add_k(w, 1)
                    }
                    _ => self.euclid(a.val, DAY_MS).0,
                };
                let c = self.cell(Ty::Int, val, a.err);
                self.push(c)
            }
            _ => Err(bad("not a time instruction")),
        }
    }
}
