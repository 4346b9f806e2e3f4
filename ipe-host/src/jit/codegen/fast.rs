//! Aggregates in two copies (issue #15, session 13): in a policy whose only errors are read
//! errors (`defer.rs`), a `count/any/all ... where` loop is compiled once without errors — every
//! read inside it tests its value's tag and, when the value is not one the native path reads,
//! leaves for the other copy — and once exactly as before (errors as values, helper calls),
//! in a cold block that runs the aggregate again from its first element. The fast copy has no
//! error values, no `umin`s or `select`s on them and no helper call, so its loop keeps its
//! values in registers; a request whose reads all succeed never runs the exact copy.
//!
//! Why the outcome is the interpreter's: the fast copy writes nothing the exact copy does not
//! write again (no note, see [`fast_body`]; the witness is stored only where an `all` stops,
//! after which the loop leaves without reading), and with every read valid both copies compute
//! the same values; with a failed read the result is the exact copy's alone.

use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, InstBuilder};
use ipe_nostd::isa::{Instr, Opcode};

use super::{args, Cell, Gen, R};

/// Whether an aggregate body can be compiled in a fast copy: it sets no clause note (a note
/// set by the fast copy before it leaves would survive into the exact copy's).
pub(super) fn fast_body(code: &[u8]) -> bool {
    let mut pc = 0usize;
    while pc < code.len() {
        let Ok((instr, next)) = Instr::decode(code, pc) else {
            return false;
        };
        pc = next;
        if matches!(instr, Instr::NoteCount {}) {
            return false;
        }
    }
    true
}

/// The scalar slots the instructions of `code` read (with repeats).
fn slot_reads(code: &[u8]) -> impl Iterator<Item = u16> + '_ {
    let mut pc = 0usize;
    core::iter::from_fn(move || {
        while pc < code.len() {
            let (instr, next) = Instr::decode(code, pc).ok()?;
            pc = next;
            match instr {
                Instr::LoadSlot { slot }
                | Instr::CmpSlotConst { slot, .. }
                | Instr::CmpFieldSlot { slot, .. }
                | Instr::InSlotSet { slot, .. } => return Some(slot.0),
                _ => {}
            }
        }
        None
    })
}

impl Gen<'_, '_> {
    /// In a fast loop's preheader: reads each scalar slot the loop's body reads, once (its
    /// reads in the body then use these cells). A slot read here that the body would not have
    /// read (an empty list, a short-circuit) may leave for the exact copy needlessly, never
    /// with another outcome.
    pub(super) fn hoist_slot_reads(&mut self, body: &[u8]) -> R<()> {
        if self.bail.is_none() {
            return Ok(());
        }
        for s in slot_reads(body) {
            if self.hoisted.iter().any(|&(h, _)| h == s)
                || !super::defer::deferrable(self.sh.slot(s).kind)
            {
                continue;
            }
            self.hoisting = true;
            let c = self.load_slot(s);
            self.hoisting = false;
            self.hoisted.push((s, c?));
        }
        Ok(())
    }

    /// The aggregate `op` over list slot `s` (its value at `addr`) as a fast copy and a cold
    /// exact copy (see the module docs).
    pub(super) fn fast_aggregate(
        &mut self,
        op: Opcode,
        s: u16,
        addr: ir::Value,
        body: &[u8],
        level: usize,
    ) -> R<Cell> {
        let exact_b = self.b.create_block();
        let join = self.b.create_block();
        let jv = self.b.append_block_param(join, I64);
        let je = self.b.append_block_param(join, I64);
        self.bail = Some(exact_b);
        let fast = self.aggregate_loop(op, s, addr, body, level);
        self.bail = None;
        let fast = fast?;
        self.b.ins().jump(join, &args(&[fast.val, fast.err]));
        self.b.switch_to_block(exact_b);
        self.b.seal_block(exact_b);
        self.b.set_cold_block(exact_b);
        self.exact = true;
        let exact = self.aggregate_loop(op, s, addr, body, level);
        self.exact = false;
        let exact = exact?;
        self.b.ins().jump(join, &args(&[exact.val, exact.err]));
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        Ok(self.cell(fast.ty, jv, je))
    }

    /// Continues when flag `ok` is set, else leaves for block `bail` (the exact copy).
    pub(super) fn bail_unless(&mut self, ok: ir::Value, bail: ir::Block) {
        if self.flag_imm(ok) == Some(true) {
            return;
        }
        let cont = self.b.create_block();
        self.b.ins().brif(ok, cont, &[], bail, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }
}
