//! Constants folded while the IR is built (issue #15, compile time): an error code that is
//! the constant [`OK`] (every constant cell's) needs no `umin`, no "is it clean" test and no
//! branch on it. Cranelift's baseline tier does not fold, and every instruction and block
//! left in the IR is paid for in lowering, register allocation and emission.

use cranelift_codegen::ir::condcodes::{CondCode, IntCC};
use cranelift_codegen::ir::types::I8;
use cranelift_codegen::ir::{self, InstBuilder};

use super::Gen;
use crate::jit::errcode::OK;

impl Gen<'_, '_> {
    /// The immediate of `v` when it is an `iconst`.
    pub(super) fn imm(&self, v: ir::Value) -> Option<i64> {
        let dfg = &self.b.func.dfg;
        let inst = dfg.value_def(dfg.resolve_aliases(v)).inst()?;
        match dfg.insts[inst] {
            ir::InstructionData::UnaryImm {
                opcode: ir::Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        }
    }

    /// Whether `err` is the constant [`OK`].
    pub(super) fn is_const_ok(&self, err: ir::Value) -> bool {
        self.imm(err) == Some(OK as i64)
    }

    /// The smaller of two error codes (the first error wins), without an instruction when
    /// one of them is the constant [`OK`].
    pub(super) fn umin(&mut self, a: ir::Value, b: ir::Value) -> ir::Value {
        if self.is_const_ok(a) {
            return b;
        }
        if self.is_const_ok(b) || a == b {
            return a;
        }
        self.b.ins().umin(a, b)
    }

    /// A constant condition (`I8` 0 or 1).
    pub(super) fn flag(&mut self, v: bool) -> ir::Value {
        self.b.ins().iconst(I8, i64::from(v))
    }

    /// Whether condition `c` (an `I8` 0 or 1) is a constant, and which.
    pub(super) fn flag_imm(&self, c: ir::Value) -> Option<bool> {
        self.imm(c).map(|i| i & 1 != 0)
    }

    /// `a & b` of two conditions, folded when one is constant.
    pub(super) fn and_flag(&mut self, a: ir::Value, b: ir::Value) -> ir::Value {
        match (self.flag_imm(a), self.flag_imm(b)) {
            (Some(true), _) => b,
            (_, Some(true)) => a,
            (Some(false), _) => a,
            (_, Some(false)) => b,
            _ => self.b.ins().band(a, b),
        }
    }

    /// `a | b` of two conditions, folded when one is constant.
    pub(super) fn or_flag(&mut self, a: ir::Value, b: ir::Value) -> ir::Value {
        match (self.flag_imm(a), self.flag_imm(b)) {
            (Some(false), _) => b,
            (_, Some(false)) => a,
            (Some(true), _) => a,
            (_, Some(true)) => b,
            _ => self.b.ins().bor(a, b),
        }
    }

    /// `c ? x : y`, folded when the condition is constant or both sides are the same.
    pub(super) fn select(&mut self, c: ir::Value, x: ir::Value, y: ir::Value) -> ir::Value {
        match self.flag_imm(c) {
            Some(true) => x,
            Some(false) => y,
            None if x == y => x,
            None => self.b.ins().select(c, x, y),
        }
    }

    /// The condition `c` when `v` is `uextend(c)` (a 0/1 value made from a condition).
    fn flag_of(&self, v: ir::Value) -> Option<ir::Value> {
        let dfg = &self.b.func.dfg;
        let inst = dfg.value_def(dfg.resolve_aliases(v)).inst()?;
        match dfg.insts[inst] {
            ir::InstructionData::Unary {
                opcode: ir::Opcode::Uextend,
                arg,
            } if dfg.value_type(arg) == I8 => Some(arg),
            _ => None,
        }
    }

    /// `!c` of a condition: the complementary comparison when `c` is one.
    fn not_flag(&mut self, c: ir::Value) -> ir::Value {
        if let Some(v) = self.flag_imm(c) {
            return self.flag(!v);
        }
        let dfg = &self.b.func.dfg;
        let def = dfg
            .value_def(dfg.resolve_aliases(c))
            .inst()
            .map(|i| dfg.insts[i]);
        match def {
            Some(ir::InstructionData::IntCompare {
                opcode: ir::Opcode::Icmp,
                cond,
                args: [x, y],
            }) => self.b.ins().icmp(cond.complement(), x, y),
            _ => self.icmp_k(IntCC::Equal, c, 0),
        }
    }

    /// `v <cc> imm` for a 64-bit `v`, folded when `v` is constant, and `v != 0` / `v == 0`
    /// of a 0/1 value made from a condition the condition itself or its complement.
    pub(super) fn cmp_imm(&mut self, cc: IntCC, v: ir::Value, imm: i64) -> ir::Value {
        if imm == 0 && matches!(cc, IntCC::Equal | IntCC::NotEqual) {
            if let Some(c) = self.flag_of(v) {
                return if cc == IntCC::NotEqual {
                    c
                } else {
                    self.not_flag(c)
                };
            }
        }
        match self.imm(v) {
            Some(x) => {
                let r = match cc {
                    IntCC::Equal => x == imm,
                    IntCC::NotEqual => x != imm,
                    IntCC::SignedLessThan => x < imm,
                    IntCC::SignedLessThanOrEqual => x <= imm,
                    IntCC::SignedGreaterThan => x > imm,
                    IntCC::SignedGreaterThanOrEqual => x >= imm,
                    IntCC::UnsignedLessThan => (x as u64) < (imm as u64),
                    IntCC::UnsignedLessThanOrEqual => (x as u64) <= (imm as u64),
                    IntCC::UnsignedGreaterThan => (x as u64) > (imm as u64),
                    IntCC::UnsignedGreaterThanOrEqual => (x as u64) >= (imm as u64),
                };
                self.flag(r)
            }
            None => self.icmp_k(cc, v, imm),
        }
    }
}
