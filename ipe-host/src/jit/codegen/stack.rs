//! The operand stack: four Cranelift variables per cell (value, error, text pointer and
//! length) and the static type of each live cell.

use cranelift_codegen::ir;

use super::{bad, var, Cell, Gen, Ty, R};
use ipe_nostd::isa::STACK_CELLS;

impl Gen<'_, '_> {
    // ---- the operand stack ----

    pub(super) fn push(&mut self, c: Cell) -> R<()> {
        let d = self.types.len() as u32;
        if d as usize >= STACK_CELLS {
            return Err(bad("stack overflow"));
        }
        self.b.def_var(var(d * 4), c.val);
        self.b.def_var(var(d * 4 + 1), c.err);
        if let (Some(p), Some(l)) = (c.ptr, c.len) {
            self.b.def_var(var(d * 4 + 2), p);
            self.b.def_var(var(d * 4 + 3), l);
        }
        self.types.push(c.ty);
        Ok(())
    }

    pub(super) fn peek(&mut self) -> R<Cell> {
        let ty = *self.types.last().ok_or(bad("stack underflow"))?;
        let d = (self.types.len() - 1) as u32;
        let val = self.b.use_var(var(d * 4));
        let err = self.b.use_var(var(d * 4 + 1));
        let (ptr, len) = if ty == Ty::Str {
            (
                Some(self.b.use_var(var(d * 4 + 2))),
                Some(self.b.use_var(var(d * 4 + 3))),
            )
        } else {
            (None, None)
        };
        Ok(Cell {
            ty,
            val,
            err,
            ptr,
            len,
        })
    }

    pub(super) fn pop(&mut self) -> R<Cell> {
        let c = self.peek()?;
        self.types.pop();
        Ok(c)
    }

    pub(super) fn cell(&mut self, ty: Ty, val: ir::Value, err: ir::Value) -> Cell {
        Cell {
            ty,
            val,
            err,
            ptr: None,
            len: None,
        }
    }
}
