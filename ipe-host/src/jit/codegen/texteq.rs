//! Text equality of two string cells in native code (issue #15): two texts of different
//! lengths are unequal without a call, and equal-length texts of 4 to 16 bytes are compared
//! with two overlapping loads per side (first and last 8 or 4 bytes) instead of a call to the
//! `text_eq` helper and `memcmp`. Since session 13 the other
//! lengths need no call either: up to 3 bytes by three byte loads, more than 16 by a word
//! loop. Only reached for two valid strings without symbols (`str_eq`'s slow path); a
//! string cell's pointer and length come from a `&str`, so every byte loaded is in it.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData};

use super::{args, Gen};

impl Gen<'_, '_> {
    /// 1 when the texts `(ap, al)` and `(bp, bl)` are byte-equal, else 0 (`ne`: the other
    /// way round, issue #15 session 14: no negation of the result after it).
    pub(super) fn text_eq(
        &mut self,
        ap: ir::Value,
        al: ir::Value,
        bp: ir::Value,
        bl: ir::Value,
        ne: bool,
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
        let differ = self.iconst(i64::from(ne));
        self.b
            .ins()
            .brif(same_len, same_len_b, &[], join, &args(&[differ]));
        self.b.switch_to_block(same_len_b);
        self.b.seal_block(same_len_b);

        // 8..=16 bytes: `al - 8 <= 8` unsigned.
        let m8 = self.add_k(al, -8);
        let is_wide = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, m8, 8);
        self.b.ins().brif(is_wide, wide, &[], not_wide, &[]);
        self.b.switch_to_block(wide);
        self.b.seal_block(wide);
        let eq = self.overlapping(ap, bp, al, I64, 8, ne);
        self.b.ins().jump(join, &args(&[eq]));

        // 4..=7 bytes: `al - 4 <= 3` unsigned.
        self.b.switch_to_block(not_wide);
        self.b.seal_block(not_wide);
        let m4 = self.add_k(al, -4);
        let is_narrow = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, m4, 3);
        self.b.ins().brif(is_narrow, narrow, &[], other, &[]);
        self.b.switch_to_block(narrow);
        self.b.seal_block(narrow);
        let eq = self.overlapping(ap, bp, al, I32, 4, ne);
        self.b.ins().jump(join, &args(&[eq]));

        // Issue #15, session 13: no call for any length (a call in an aggregate's loop kept
        // every value live across it in callee-saved registers or on the stack).
        self.b.switch_to_block(other);
        self.b.seal_block(other);
        let long = self.b.create_block();
        let short = self.b.create_block();
        let is_long = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, al, 16);
        self.b.ins().brif(is_long, long, &[], short, &[]);

        // 0..=3 bytes: the bytes at 0, len / 2 and len - 1 cover them all (none for 0).
        self.b.switch_to_block(short);
        self.b.seal_block(short);
        let eq = self.tiny(ap, bp, al, ne);
        self.b.ins().jump(join, &args(&[eq]));

        // More than 16 bytes: 8 at a time while more than 8 remain, then the last 8.
        self.b.switch_to_block(long);
        self.b.seal_block(long);
        let eq = self.long_eq(ap, bp, al, ne);
        self.b.ins().jump(join, &args(&[eq]));

        self.b.switch_to_block(join);
        self.b.seal_block(join);
        res
    }

    /// 1 when the texts at `ap` and `bp`, both `len <= 3` bytes long, are equal (`ne`:
    /// unequal).
    fn tiny(&mut self, ap: ir::Value, bp: ir::Value, len: ir::Value, ne: bool) -> ir::Value {
        let join = self.b.create_block();
        let res = self.b.append_block_param(join, I64);
        let some = self.b.create_block();
        let one = self.iconst(1);
        let empty = self.iconst(i64::from(!ne));
        self.b.ins().brif(len, some, &[], join, &args(&[empty]));
        self.b.switch_to_block(some);
        self.b.seal_block(some);
        let f = MemFlagsData::new().with_notrap();
        let half = self.b.ins().ushr_imm_u(len, 1);
        let last = self.add_k(len, -1);
        let mut x = None;
        for off in [None, Some(half), Some(last)] {
            let (pa, pb) = match off {
                None => (ap, bp),
                Some(o) => (self.b.ins().iadd(ap, o), self.b.ins().iadd(bp, o)),
            };
            let a = self.b.ins().uload8(I64, f, pa, 0);
            let b = self.b.ins().uload8(I64, f, pb, 0);
            let d = self.b.ins().bxor(a, b);
            x = Some(match x {
                None => d,
                Some(x) => self.b.ins().bor(x, d),
            });
        }
        let x = x.unwrap_or(one);
        let eq = self.icmp_k(cc(ne), x, 0);
        let eq = self.bool64(eq);
        self.b.ins().jump(join, &args(&[eq]));
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        res
    }

    /// 1 when the texts at `ap` and `bp`, both `len > 16` bytes long, are equal: a loop over
    /// 8-byte words while more than 8 bytes remain, then the last 8 bytes (overlapping)
    /// (`ne`: 1 when unequal).
    fn long_eq(&mut self, ap: ir::Value, bp: ir::Value, len: ir::Value, ne: bool) -> ir::Value {
        let f = MemFlagsData::new().with_notrap();
        let hdr = self.b.create_block();
        let i = self.b.append_block_param(hdr, I64);
        let body = self.b.create_block();
        let tail = self.b.create_block();
        let join = self.b.create_block();
        let res = self.b.append_block_param(join, I64);
        let zero = self.iconst(0);
        self.b.ins().jump(hdr, &args(&[zero]));
        self.b.switch_to_block(hdr);
        let rest = self.b.ins().isub(len, i);
        let more = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, rest, 8);
        self.b.ins().brif(more, body, &[], tail, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let pa = self.b.ins().iadd(ap, i);
        let pb = self.b.ins().iadd(bp, i);
        let a = self.b.ins().load(I64, f, pa, 0);
        let b = self.b.ins().load(I64, f, pb, 0);
        let next = self.add_k(i, 8);
        let differ = self.b.ins().icmp(IntCC::NotEqual, a, b);
        let z = self.iconst(i64::from(ne));
        self.b
            .ins()
            .brif(differ, join, &args(&[z]), hdr, &args(&[next]));
        self.b.seal_block(hdr);
        self.b.switch_to_block(tail);
        self.b.seal_block(tail);
        let last = self.add_k(len, -8);
        let pa = self.b.ins().iadd(ap, last);
        let pb = self.b.ins().iadd(bp, last);
        let a = self.b.ins().load(I64, f, pa, 0);
        let b = self.b.ins().load(I64, f, pb, 0);
        let eq = self.b.ins().icmp(cc(ne), a, b);
        let eq = self.bool64(eq);
        self.b.ins().jump(join, &args(&[eq]));
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        res
    }

    /// Compares the first and the last `w` bytes (`ty` is the `w`-byte integer type) of two
    /// texts of the same length `len`, `w <= len <= 2 * w`: together they cover every byte
    /// (1 when equal, `ne`: when unequal).
    fn overlapping(
        &mut self,
        ap: ir::Value,
        bp: ir::Value,
        len: ir::Value,
        ty: ir::Type,
        w: i64,
        ne: bool,
    ) -> ir::Value {
        // Texts are byte arrays: no alignment is promised, and the bytes are readable.
        let f = MemFlagsData::new().with_notrap();
        let last = self.add_k(len, -w);
        let a_end = self.b.ins().iadd(ap, last);
        let b_end = self.b.ins().iadd(bp, last);
        let a0 = self.b.ins().load(ty, f, ap, 0);
        let b0 = self.b.ins().load(ty, f, bp, 0);
        let a1 = self.b.ins().load(ty, f, a_end, 0);
        let b1 = self.b.ins().load(ty, f, b_end, 0);
        let x0 = self.b.ins().bxor(a0, b0);
        let x1 = self.b.ins().bxor(a1, b1);
        let x = self.b.ins().bor(x0, x1);
        let eq = self.icmp_k(cc(ne), x, 0);
        self.bool64(eq)
    }
}

/// The comparison that gives 1 for equal texts (`ne`: for unequal ones).
fn cc(ne: bool) -> IntCC {
    if ne {
        IntCC::NotEqual
    } else {
        IntCC::Equal
    }
}
