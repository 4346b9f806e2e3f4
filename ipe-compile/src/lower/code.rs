//! Expression code generation: checked expressions to bytecode.

use ipe_nostd::isa::Opcode;

use super::{LowerError, Tables};
use crate::hir::{Aggregate, CmpOp, Expr, Literal, Operand, Scalar, Slot, SlotType};

/// Emits bytecode for one block into a byte buffer.
pub(super) struct CodeGen<'t> {
    pub(super) tables: &'t mut Tables,
    /// The program's slots, to type operands.
    pub(super) slots: &'t [Slot],
    pub(super) out: Vec<u8>,
}

/// The operator with its operands swapped (`a < b` is `b > a`).
fn flipped(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// A rough cost used to order conjuncts: cheap, index-friendly tests first.
pub(super) fn cost(e: &Expr) -> u32 {
    match e {
        Expr::Const(_) | Expr::Has(_) => 1,
        Expr::Truthy(_) => 1,
        Expr::Cmp { lhs, rhs, .. } | Expr::Str { lhs, rhs, .. } => {
            1 + operand_cost(lhs) + operand_cost(rhs)
        }
        Expr::InSet { lhs, .. } => 2 + operand_cost(lhs),
        Expr::InList { lhs, .. } => 16 + operand_cost(lhs),
        Expr::Not(e) => 1 + cost(e),
        Expr::And(es) | Expr::Or(es) => es.iter().map(cost).sum::<u32>() + 1,
        Expr::Any(a) | Expr::All(a) => aggregate_cost(a),
    }
}

fn operand_cost(o: &Operand) -> u32 {
    match o {
        Operand::Count(a) => aggregate_cost(a),
        _ => 1,
    }
}

fn aggregate_cost(a: &Aggregate) -> u32 {
    64 * (1 + a.filter.as_deref().map_or(0, cost))
}

impl<'t> CodeGen<'t> {
    fn op(&mut self, op: Opcode) {
        self.out.push(op as u8);
    }

    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    /// Emits a condition.
    pub(super) fn expr(&mut self, e: &Expr) -> Result<(), LowerError> {
        match e {
            Expr::Const(b) => {
                let c = self.tables.const_bool(*b)?;
                self.op(Opcode::LoadConst);
                self.u16(c);
            }
            Expr::Truthy(o) => self.operand(o)?,
            Expr::Cmp { op, lhs, rhs, .. } => match (lhs, rhs) {
                (Operand::Slot(s), Operand::Lit(l)) => self.cmp_slot_const(*op, *s, l)?,
                (Operand::Lit(l), Operand::Slot(s)) => self.cmp_slot_const(flipped(*op), *s, l)?,
                (f @ Operand::Field { .. }, other @ (Operand::Lit(_) | Operand::Slot(_))) => {
                    self.cmp_field(*op, f, other)?
                }
                (other @ (Operand::Lit(_) | Operand::Slot(_)), f @ Operand::Field { .. }) => {
                    self.cmp_field(flipped(*op), f, other)?
                }
                _ => {
                    self.operand(lhs)?;
                    self.operand(rhs)?;
                    self.op(Opcode::Cmp);
                    self.out.push(*op as u8);
                }
            },
            Expr::InSet { lhs, set } => {
                let k = self.tables.set(set, self.scalar_of(lhs))?;
                if let Operand::Slot(s) = lhs {
                    self.op(Opcode::InSlotSet);
                    self.u16(*s);
                    self.u16(k);
                } else {
                    self.operand(lhs)?;
                    self.op(Opcode::InSet);
                    self.u16(k);
                }
            }
            Expr::InList { lhs, list } => {
                self.operand(lhs)?;
                self.op(Opcode::InList);
                self.u16(*list);
            }
            Expr::Str { op, lhs, rhs } => {
                self.operand(lhs)?;
                self.operand(rhs)?;
                self.op(Opcode::StrOp);
                self.out.push(*op as u8);
            }
            Expr::Has(o) => match o {
                Operand::Slot(s) => {
                    self.op(Opcode::Has);
                    self.u16(*s);
                }
                Operand::Field { level, field, .. } => {
                    self.op(Opcode::HasField);
                    self.out.push(*level);
                    self.u16(*field);
                }
                // `has` of anything else is always present.
                _ => {
                    let c = self.tables.const_bool(true)?;
                    self.op(Opcode::LoadConst);
                    self.u16(c);
                }
            },
            Expr::Not(e) => {
                self.expr(e)?;
                self.op(Opcode::Not);
            }
            Expr::And(es) => self.chain(es, Opcode::JumpIfFalse, Opcode::And)?,
            Expr::Or(es) => self.chain(es, Opcode::JumpIfTrue, Opcode::Or)?,
            Expr::Any(a) => self.aggregate(Opcode::Any, a)?,
            Expr::All(a) => self.aggregate(Opcode::All, a)?,
        }
        Ok(())
    }

    /// Emits a trigger whose top-level conjunct `first` (if any) comes first, as
    /// `first jump.false L rest and L:` (or `first` alone): the shape from which the verifier
    /// proves the trigger index. Reordering is legal as in [`Self::chain`].
    pub(super) fn trigger(&mut self, e: &Expr, first: Option<usize>) -> Result<(), LowerError> {
        let (lead, rest): (&Expr, Vec<Expr>) = match (e, first) {
            (Expr::And(es), Some(at)) => match es.get(at) {
                Some(lead) => (
                    lead,
                    es.iter()
                        .enumerate()
                        .filter(|&(i, _)| i != at)
                        .map(|(_, c)| c.clone())
                        .collect(),
                ),
                None => return self.expr(e),
            },
            (_, Some(_)) => (e, Vec::new()),
            (_, None) => return self.expr(e),
        };
        self.expr(lead)?;
        if rest.is_empty() {
            return Ok(());
        }
        self.op(Opcode::JumpIfFalse);
        let at = self.out.len();
        self.u16(0);
        match <[Expr; 1]>::try_from(rest) {
            Ok([one]) => self.expr(&one)?,
            Err(rest) => self.expr(&Expr::And(rest))?,
        }
        self.op(Opcode::And);
        let dist =
            u16::try_from(self.out.len() - (at + 2)).map_err(|_| LowerError::CodeTooLarge)?;
        self.out[at..at + 2].copy_from_slice(&dist.to_le_bytes());
        Ok(())
    }

    /// `e0 jump L e1 combine jump L e2 combine ... L:`, cheapest operands first. Reordering
    /// is legal: `and`/`or` results, errors included, do not depend on operand order.
    fn chain(&mut self, es: &[Expr], jump: Opcode, combine: Opcode) -> Result<(), LowerError> {
        let mut order: Vec<&Expr> = es.iter().collect();
        order.sort_by_key(|e| cost(e));
        let mut patches = Vec::new();
        for (i, e) in order.iter().enumerate() {
            if i > 0 {
                self.op(jump);
                patches.push(self.out.len());
                self.u16(0);
            }
            self.expr(e)?;
            if i > 0 {
                self.op(combine);
            }
        }
        let end = self.out.len();
        for at in patches {
            let dist = u16::try_from(end - (at + 2)).map_err(|_| LowerError::CodeTooLarge)?;
            self.out[at..at + 2].copy_from_slice(&dist.to_le_bytes());
        }
        Ok(())
    }

    /// The scalar type of an operand (`None` for literals, whose kind is their own).
    fn scalar_of(&self, o: &Operand) -> Option<&'t Scalar> {
        match o {
            Operand::Slot(s) => match &self.slots.get(usize::from(*s))?.ty {
                SlotType::Scalar(sc) => Some(sc),
                _ => None,
            },
            Operand::Field { list, field, .. } => match &self.slots.get(usize::from(*list))?.ty {
                SlotType::Records { fields, .. } => fields.get(usize::from(*field)).map(|f| &f.ty),
                _ => None,
            },
            Operand::Count(_) => Some(&Scalar::Int),
            Operand::Lit(_) => None,
        }
    }

    /// `field op (const | slot)` as one superinstruction.
    fn cmp_field(&mut self, op: CmpOp, field: &Operand, other: &Operand) -> Result<(), LowerError> {
        let Operand::Field {
            level, field: f, ..
        } = field
        else {
            return Err(LowerError::CodeTooLarge);
        };
        let (opcode, operand) = match other {
            Operand::Lit(l) => (
                Opcode::CmpFieldConst,
                self.tables.constant(l, self.scalar_of(field))?,
            ),
            Operand::Slot(s) => (Opcode::CmpFieldSlot, *s),
            _ => return Err(LowerError::CodeTooLarge),
        };
        self.op(opcode);
        self.out.push(op as u8);
        self.out.push(*level);
        self.u16(*f);
        self.u16(operand);
        Ok(())
    }

    fn cmp_slot_const(&mut self, op: CmpOp, s: u16, lit: &Literal) -> Result<(), LowerError> {
        let c = self
            .tables
            .constant(lit, self.scalar_of(&Operand::Slot(s)))?;
        self.op(Opcode::CmpSlotConst);
        self.out.push(op as u8);
        self.u16(s);
        self.u16(c);
        Ok(())
    }

    /// Emits a value operand; `note` marks the count a failed clause reports.
    pub(super) fn operand(&mut self, o: &Operand) -> Result<(), LowerError> {
        match o {
            Operand::Slot(s) => {
                self.op(Opcode::LoadSlot);
                self.u16(*s);
            }
            Operand::Field { level, field, .. } => {
                self.op(Opcode::LoadField);
                self.out.push(*level);
                self.u16(*field);
            }
            Operand::Lit(l) => {
                let c = self.tables.constant(l, None)?;
                self.op(Opcode::LoadConst);
                self.u16(c);
            }
            Operand::Count(a) => self.aggregate(Opcode::Count, a)?,
        }
        Ok(())
    }

    fn aggregate(&mut self, op: Opcode, a: &Aggregate) -> Result<(), LowerError> {
        self.op(op);
        self.u16(a.list);
        let len_at = self.out.len();
        self.u16(0);
        if let Some(filter) = &a.filter {
            let start = self.out.len();
            self.expr(filter)?;
            let n = u16::try_from(self.out.len() - start).map_err(|_| LowerError::CodeTooLarge)?;
            self.out[len_at..len_at + 2].copy_from_slice(&n.to_le_bytes());
        }
        Ok(())
    }

    /// Emits a requirement clause; a comparison with a count notes the count it compares.
    pub(super) fn clause(&mut self, e: &Expr, reports_count: bool) -> Result<(), LowerError> {
        if let (true, Expr::Cmp { op, lhs, rhs, .. }) = (reports_count, e) {
            let note_lhs = matches!(lhs, Operand::Count(_));
            self.operand(lhs)?;
            if note_lhs {
                self.op(Opcode::NoteCount);
            }
            self.operand(rhs)?;
            if !note_lhs && matches!(rhs, Operand::Count(_)) {
                self.op(Opcode::NoteCount);
            }
            self.op(Opcode::Cmp);
            self.out.push(*op as u8);
            return Ok(());
        }
        self.expr(e)
    }
}
