//! `lower(x)` against another string and inside `like`/`matches`, and integer range tables, in
//! native code (issue #14, session 9), agreeing with the interpreter (`vm/fold.rs`,
//! `vm/ranges.rs`) bit for bit: `str.fold` and `str.match.fold` call helpers running the
//! interpreter's kernels on clean strings ([`str_fold`](crate::jit::helpers::str_fold),
//! [`str_match_fold`](crate::jit::helpers::str_match_fold)); `in.range` compares inline for a
//! small table and calls [`in_range`](crate::jit::helpers::in_range) (one binary search) for a
//! larger one. An operand's error passes through (the smaller of two).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::InstBuilder;
use ipe_nostd::isa::Instr;

use super::calls::Helper;
use super::{bad, Gen, Ty, R};
use crate::jit::errcode::OK;

/// Tables with at most this many ranges are tested inline.
const INLINE_RANGES: usize = 8;

impl Gen<'_, '_> {
    /// Runs `str.fold`, `str.match.fold` or `in.range`.
    pub(super) fn fold_instr(&mut self, instr: Instr) -> R<()> {
        match instr {
            Instr::StrFold { op } => {
                let b = self.pop()?;
                let a = self.pop()?;
                let err = self.b.ins().umin(a.err, b.err);
                let (ap, al, bp, bl) = match (a.ptr, a.len, b.ptr, b.len) {
                    (Some(ap), Some(al), Some(bp), Some(bl)) => (ap, al, bp, bl),
                    _ => return Err(bad("`str.fold` on non-strings")),
                };
                let dirty = self.icmp_k(IntCC::NotEqual, err, OK as i64);
                let zero = self.iconst(0);
                let opv = i64::from(op as u8);
                let val = self.unless(dirty, zero, false, |g| {
                    let sh = g.shapes_ptr();
                    let o = g.iconst(opv);
                    g.call(Helper::StrFold, &[sh, o, ap, al, a.val, bp, bl, b.val])
                });
                let c = self.cell(Ty::Bool, val, err);
                self.push(c)
            }
            Instr::StrMatchFold { re } => {
                let a = self.pop()?;
                let (ap, al) = match (a.ptr, a.len) {
                    (Some(ap), Some(al)) => (ap, al),
                    _ => return Err(bad("`str.match.fold` on a non-string")),
                };
                let dirty = self.icmp_k(IntCC::NotEqual, a.err, OK as i64);
                let zero = self.iconst(0);
                let val = self.unless(dirty, zero, false, |g| {
                    let sh = g.shapes_ptr();
                    let r = g.iconst(i64::from(re.0));
                    g.call(Helper::StrMatchFold, &[sh, r, ap, al, a.val])
                });
                let c = self.cell(Ty::Bool, val, a.err);
                self.push(c)
            }
            Instr::InRange { table } => {
                let a = self.pop()?;
                let ranges: Vec<(i64, i64)> = ipe_nostd::ranges::iter(
                    ipe_nostd::ranges::table(&self.sh.int_ranges, table.0).unwrap_or(&[]),
                )
                .collect();
                let hit = if ranges.len() > INLINE_RANGES {
                    let sh = self.shapes_ptr();
                    let t = self.iconst(i64::from(table.0));
                    self.call(Helper::InRange, &[sh, t, a.val])
                } else {
                    let mut r = self.iconst(0);
                    for (lo, hi) in ranges {
                        let h = if lo == hi {
                            self.icmp_k(IntCC::Equal, a.val, lo)
                        } else {
                            let ge = self.icmp_k(IntCC::SignedGreaterThanOrEqual, a.val, lo);
                            let le = self.icmp_k(IntCC::SignedLessThanOrEqual, a.val, hi);
                            self.b.ins().band(ge, le)
                        };
                        let h = self.bool64(h);
                        r = self.b.ins().bor(r, h);
                    }
                    r
                };
                let c = self.cell(Ty::Bool, hit, a.err);
                self.push(c)
            }
            _ => Err(bad("not a fold or range instruction")),
        }
    }
}
