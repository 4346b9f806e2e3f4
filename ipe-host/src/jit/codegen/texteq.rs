//! Text equality of two string cells in native code (issue #15): two texts of different
//! lengths are unequal without a call, and equal-length texts of 4 to 16 bytes are compared
//! with two overlapping loads per side (first and last 8 or 4 bytes) instead of a call to the
//! [`text_eq`](crate::jit::helpers::text_eq) helper and `memcmp`. Other lengths still call the
//! helper. Only reached for two valid strings without symbols (`str_eq`'s slow path); a
//! string cell's pointer and length come from a `&str`, so every byte loaded is in it.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData};

use super::calls::Helper;
use super::{args, Gen};

impl Gen<'_, '_> {
    /// 1 when the texts `(ap, al)` and `(bp, bl)` are byte-equal, else 0.
    pub(super) fn text_eq(
        &mut self,
        ap: ir::Value,
        al: ir::Value,
        bp: ir::Value,
        bl: ir::Value,
    ) -> ir::Value {
        let join = self.b.create_block();
        let res = self.b.append_block_param(join, I64);
        let same_len_b = self.b.create_block();
        let wide = self.b.create_block();
        let not_wide = self.b.create_block();
        let narrow = self.b.create_block();
        let other = self.b.create_block();

        // Different lengths: unequal.
        let same_len = self.b.ins().icmp(IntCC::Equal, al, bl);
        let zero = self.iconst(0);
        self.b
            .ins()
            .brif(same_len, same_len_b, &[], join, &args(&[zero]));
        self.b.switch_to_block(same_len_b);
        self.b.seal_block(same_len_b);

        // 8..=16 bytes: `al - 8 <= 8` unsigned.
        let m8 = self.b.ins().iadd_imm_s(al, -8);
        let is_wide = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, m8, 8);
        self.b.ins().brif(is_wide, wide, &[], not_wide, &[]);
        self.b.switch_to_block(wide);
        self.b.seal_block(wide);
        let eq = self.overlapping(ap, bp, al, I64, 8);
        self.b.ins().jump(join, &args(&[eq]));

        // 4..=7 bytes: `al - 4 <= 3` unsigned.
        self.b.switch_to_block(not_wide);
        self.b.seal_block(not_wide);
        let m4 = self.b.ins().iadd_imm_s(al, -4);
        let is_narrow = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, m4, 3);
        self.b.ins().brif(is_narrow, narrow, &[], other, &[]);
        self.b.switch_to_block(narrow);
        self.b.seal_block(narrow);
        let eq = self.overlapping(ap, bp, al, I32, 4);
        self.b.ins().jump(join, &args(&[eq]));

        // 0..=3 or more than 16 bytes: the helper.
        self.b.switch_to_block(other);
        self.b.seal_block(other);
        let eq = self.call(Helper::TextEq, &[ap, al, bp, bl]);
        self.b.ins().jump(join, &args(&[eq]));

        self.b.switch_to_block(join);
        self.b.seal_block(join);
        res
    }

    /// Compares the first and the last `w` bytes (`ty` is the `w`-byte integer type) of two
    /// texts of the same length `len`, `w <= len <= 2 * w`: together they cover every byte.
    fn overlapping(
        &mut self,
        ap: ir::Value,
        bp: ir::Value,
        len: ir::Value,
        ty: ir::Type,
        w: i64,
    ) -> ir::Value {
        // Texts are byte arrays: no alignment is promised, and the bytes are readable.
        let f = MemFlagsData::new().with_notrap();
        let last = self.b.ins().iadd_imm_s(len, -w);
        let a_end = self.b.ins().iadd(ap, last);
        let b_end = self.b.ins().iadd(bp, last);
        let a0 = self.b.ins().load(ty, f, ap, 0);
        let b0 = self.b.ins().load(ty, f, bp, 0);
        let a1 = self.b.ins().load(ty, f, a_end, 0);
        let b1 = self.b.ins().load(ty, f, b_end, 0);
        let x0 = self.b.ins().bxor(a0, b0);
        let x1 = self.b.ins().bxor(a1, b1);
        let x = self.b.ins().bor(x0, x1);
        let eq = self.b.ins().icmp_imm_s(IntCC::Equal, x, 0);
        self.bool64(eq)
    }
}
