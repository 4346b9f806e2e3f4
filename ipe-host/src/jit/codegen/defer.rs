//! Deferred read errors (issue #15, compile time): in a policy whose instructions raise no
//! error of their own at a top-level slot's location (only reads, comparisons, sets, logic and
//! aggregates: [`defers`]), reading a slot of kind string, int, bool or enum costs no branch and
//! no helper call. A failed read's error is the slot's location with the [`PENDING`] kind
//! byte, a branch-free `select`; the exact kind is computed only where the function returns an
//! error, by [`resolve_err`](crate::jit::helpers::resolve_err) (the same kernel as every other
//! read error).
//!
//! Why the result is the interpreter's: within such a policy every error at location
//! `(slot, None)` comes from reading that slot, so it is one code per request; replacing it by
//! the pending code keeps every `umin` (codes at different locations order by location, above
//! the kind byte) and every "is it clean" test, and the returned error resolves to that code.

use cranelift_codegen::ir::{self, InstBuilder};
use ipe_nostd::format::kind;
use ipe_nostd::isa::Instr;
use ipe_nostd::Bundle;

use super::calls::Helper;
use super::{Gen, OUT_ERR};
use crate::jit::errcode::PENDING;

/// Whether every instruction of `code` is one whose errors are only those of its operands,
/// of the slots and fields it reads, or of the lists it walks.
fn plain(code: &[u8]) -> bool {
    let mut pc = 0usize;
    while pc < code.len() {
        let Ok((instr, next)) = Instr::decode(code, pc) else {
            return false;
        };
        pc = next;
        let ok = matches!(
            instr,
            Instr::LoadSlot { .. }
                | Instr::LoadField { .. }
                | Instr::LoadConst { .. }
                | Instr::Cmp { .. }
                | Instr::CmpSlotConst { .. }
                | Instr::CmpFieldConst { .. }
                | Instr::CmpFieldSlot { .. }
                | Instr::InSet { .. }
                | Instr::InSlotSet { .. }
                | Instr::Has { .. }
                | Instr::HasField { .. }
                | Instr::Not {}
                | Instr::And {}
                | Instr::Or {}
                | Instr::JumpIfFalse { .. }
                | Instr::JumpIfTrue { .. }
                | Instr::NoteCount {}
                | Instr::Count { .. }
                | Instr::Any { .. }
                | Instr::All { .. }
        );
        if !ok {
            return false;
        }
    }
    true
}

/// Whether policy `id`'s slot reads can defer their errors (see the module docs).
pub(super) fn defers(bundle: &Bundle<'_>, id: ipe_nostd::bundle::PolicyId) -> bool {
    let p = bundle.policy(id);
    if !plain(p.trigger) {
        return false;
    }
    (0..p.clauses).all(|c| plain(bundle.clause(p.first_clause.saturating_add(c.into())).code))
}

/// Whether a read of declared kind `k` can defer its error.
pub(super) fn deferrable(k: u8) -> bool {
    matches!(k, kind::STR | kind::INT | kind::BOOL | kind::ENUM)
}

impl Gen<'_, '_> {
    /// Stores error `e` in the output, its pending kind resolved when this function defers
    /// read errors.
    pub(super) fn store_err(&mut self, e: ir::Value) {
        if self.defer {
            // The helper stores the resolved code itself.
            let sh = self.shapes_ptr();
            let values = self.values;
            let out = self.out();
            let dst = self.add_k(out, OUT_ERR as i64);
            self.call(Helper::ResolveErr, &[sh, values, e, dst]);
        } else {
            self.store(e, OUT_ERR);
        }
    }

    /// The error of a failed deferred read at location `at`: the pending code.
    pub(super) fn pending(&mut self, at: u64) -> ir::Value {
        self.b
            .ins()
            .iconst(cranelift_codegen::ir::types::I64, (at | PENDING) as i64)
    }
}
