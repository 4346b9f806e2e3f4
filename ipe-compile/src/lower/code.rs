//! Expression code generation: checked expressions to bytecode.

use ipe_nostd::isa::{
    BodyLen, Const, Field, Instr, Level, Offset, Regex, Set, Slot as IsaSlot, StrOp,
};

use super::{LowerError, Tables};
use crate::hir::{
    Aggregate, CmpOp, Expr, Literal, Operand, Scalar, Slot, SlotType, TimeOp, TimePart,
};
use ipe_nostd::ValueKind;

/// The aggregate instruction to emit.
#[derive(Clone, Copy)]
enum Aggr {
    Count,
    Any,
    All,
}

/// Emits bytecode for one block into a byte buffer.
pub(super) struct CodeGen<'t> {
    pub(super) tables: &'t mut Tables,
    /// The program's slots, to type operands.
    pub(super) slots: &'t [Slot],
    /// The bundle's code so far: the block is appended (jumps are relative, so where it
    /// starts does not matter).
    pub(super) out: &'t mut Vec<u8>,
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
        Expr::Cmp { lhs, rhs, .. } | Expr::Str { lhs, rhs, .. } | Expr::Fold { lhs, rhs, .. } => {
            1 + operand_cost(lhs) + operand_cost(rhs)
        }
        Expr::InSet { lhs, .. } | Expr::InIp { lhs, .. } | Expr::InRanges { lhs, .. } => {
            2 + operand_cost(lhs)
        }
        Expr::InHierarchy { lhs, rhs, .. } => 2 + operand_cost(lhs) + operand_cost(rhs),
        Expr::InList { lhs, .. } | Expr::InNested { lhs, .. } => 16 + operand_cost(lhs),
        Expr::Not(e) => 1 + cost(e),
        Expr::And(es) | Expr::Or(es) => es.iter().map(cost).sum::<u32>() + 1,
        Expr::Any(a) | Expr::All(a) => aggregate_cost(a),
    }
}

fn operand_cost(o: &Operand) -> u32 {
    match o {
        Operand::Count(a) => aggregate_cost(a),
        Operand::CountSum(aggs) => aggs.iter().map(aggregate_cost).sum::<u32>() + 1,
        Operand::Arith(_, args) => args.iter().map(operand_cost).sum::<u32>() + 1,
        Operand::Time(op) => op.operands().into_iter().map(operand_cost).sum::<u32>() + 1,
        Operand::Len(x) => operand_cost(x) + 1,
        // Issue #13: a scan of the map's entries.
        Operand::MapGet(m) => 16 + operand_cost(&m.key),
        _ => 1,
    }
}

/// Where `seg` names the no-segment error of a piece of `x`: the attribute or element field
/// the string is cut from (`(SEG_AT_SLOT, slot)` or `(level, field)`).
fn seg_at(x: &Operand) -> Option<(u8, u16)> {
    match x {
        Operand::Slot(s) => Some((ipe_nostd::isa::SEG_AT_SLOT, *s)),
        Operand::Field { level, field, .. } => Some((*level, *field)),
        Operand::Segment(g) => seg_at(&g.x),
        Operand::Lookup(l) => seg_at(&l.key),
        _ => None,
    }
}

fn aggregate_cost(a: &Aggregate) -> u32 {
    64 * (1 + a.filter.as_deref().map_or(0, cost))
}

impl<'t> CodeGen<'t> {
    /// Appends an instruction, returning its offset.
    fn emit(&mut self, i: Instr) -> usize {
        let at = self.out.len();
        self.out.extend_from_slice(i.encode().as_bytes());
        at
    }

    /// Rewrites the instruction emitted at `at` (same opcode, final operands).
    fn patch(&mut self, at: usize, i: Instr) {
        let e = i.encode();
        let bytes = e.as_bytes();
        self.out[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// The distance from the end of the instruction at `at` (of `len` bytes) to the end of
    /// the code so far: a forward jump's operand.
    fn distance(&self, at: usize, len: usize) -> Result<u16, LowerError> {
        u16::try_from(self.out.len() - (at + len)).map_err(|_| LowerError::CodeTooLarge)
    }

    /// Emits a condition.
    pub(super) fn expr(&mut self, e: &Expr) -> Result<(), LowerError> {
        match e {
            Expr::Const(b) => {
                let c = self.tables.const_bool(*b)?;
                self.emit(Instr::LoadConst { konst: Const(c) });
            }
            Expr::Truthy(o) => self.operand(o)?,
            Expr::Cmp {
                op,
                lhs,
                rhs,
                ty: ValueKind::Ip,
            } => self.cmp_ip(*op, lhs, rhs)?,
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
                    self.emit(Instr::Cmp { op: *op });
                }
            },
            Expr::InSet { lhs, set } => {
                let k = self.tables.set(set, self.scalar_of(lhs))?;
                if let Operand::Slot(s) = lhs {
                    self.emit(Instr::InSlotSet {
                        slot: IsaSlot(*s),
                        set: Set(k),
                    });
                } else {
                    self.operand(lhs)?;
                    self.emit(Instr::InSet { set: Set(k) });
                }
            }
            Expr::InIp { lhs, ranges } => {
                let k = self.tables.ip_set(ranges)?;
                match lhs {
                    Operand::Slot(s) => {
                        self.emit(Instr::InIpSlot {
                            slot: IsaSlot(*s),
                            set: Set(k),
                        });
                    }
                    Operand::Field { level, field, .. } => {
                        self.emit(Instr::InIpField {
                            level: Level(*level),
                            field: Field(*field),
                            set: Set(k),
                        });
                    }
                    // Issue #13, session 10: an `ip` field read through a dynamic key, an
                    // address cell on the stack.
                    Operand::MapGet(_) => {
                        self.operand(lhs)?;
                        self.emit(Instr::InIp { set: Set(k) });
                    }
                    // The checker gives `in` on addresses a slot, a field or a map entry's
                    // field only.
                    _ => return Err(LowerError::TooMany("ip operands")),
                }
            }
            Expr::InHierarchy { lhs, rhs, pairs } => {
                let k = self.tables.pair_set(pairs)?;
                self.operand(lhs)?;
                self.operand(rhs)?;
                self.emit(Instr::InPairSet { set: Set(k) });
            }
            Expr::InList { lhs, list } => {
                self.operand(lhs)?;
                self.emit(Instr::InList {
                    list: IsaSlot(*list),
                });
            }
            Expr::InNested { lhs, list, level } => {
                let (_, field) = super::nested::parent_field(self.slots, *list)
                    .ok_or(LowerError::TooMany("nested list fields"))?;
                self.operand(lhs)?;
                self.emit(Instr::InField {
                    level: Level(*level),
                    field: Field(field),
                });
            }
            Expr::Str {
                op: StrOp::Matches,
                lhs,
                rhs: Operand::Lit(Literal::Str(re)),
            } => {
                let re = self.tables.regex(re)?;
                self.operand(lhs)?;
                self.emit(Instr::StrMatch { re: Regex(re) });
            }
            Expr::Str { op, lhs, rhs } => {
                self.operand(lhs)?;
                self.operand(rhs)?;
                self.emit(Instr::StrOp { op: *op });
            }
            // Issue #14, session 9: `lower(x) matches re`, the regex over the folded string.
            Expr::Fold {
                op: StrOp::Matches,
                lhs,
                rhs: Operand::Lit(Literal::Str(re)),
            } => {
                let re = self.tables.regex(re)?;
                self.operand(lhs)?;
                self.emit(Instr::StrMatchFold { re: Regex(re) });
            }
            // `lower(x) op lower(y)` and `lower(x) like "p"`: both strings folded.
            Expr::Fold { op, lhs, rhs } => {
                self.operand(lhs)?;
                self.operand(rhs)?;
                self.emit(Instr::StrFold { op: *op });
            }
            // Issue #14, session 9: one binary search over a range table of the bundle.
            Expr::InRanges { lhs, ranges } => {
                let t = self.tables.int_ranges(ranges)?;
                self.operand(lhs)?;
                self.emit(Instr::InRange {
                    table: ipe_nostd::isa::Ranges(t),
                });
            }
            Expr::Has(o) => match o {
                Operand::Slot(s) => {
                    self.emit(Instr::Has { slot: IsaSlot(*s) });
                }
                Operand::Field { level, field, .. } => {
                    self.emit(Instr::HasField {
                        level: Level(*level),
                        field: Field(*field),
                    });
                }
                // `has M[y]` (issue #13): `y in keys(M)`, an error when `y` is.
                Operand::Lookup(l) => {
                    let keys: Vec<Literal> = l
                        .rows
                        .iter()
                        .map(|(k, _)| Literal::Str(k.as_str().into()))
                        .collect();
                    let k = self.tables.set(&keys, Some(&Scalar::Str))?;
                    match &l.key {
                        Operand::Slot(s) => {
                            self.emit(Instr::InSlotSet {
                                slot: IsaSlot(*s),
                                set: Set(k),
                            });
                        }
                        key => {
                            self.operand(key)?;
                            self.emit(Instr::InSet { set: Set(k) });
                        }
                    }
                }
                // `has m[k]` (issue #13): the key, then `map.has`.
                Operand::MapGet(m) => self.map_entry(m, true)?,
                // `segment(x, ..) ?? d` (issue #14): whether the piece is there.
                Operand::Segment(g) => self.segment(g, true)?,
                // `has` of anything else is always present.
                _ => {
                    let c = self.tables.const_bool(true)?;
                    self.emit(Instr::LoadConst { konst: Const(c) });
                }
            },
            Expr::Not(e) => {
                self.expr(e)?;
                self.emit(Instr::Not {});
            }
            Expr::And(es) => self.chain(es, false)?,
            Expr::Or(es) => self.chain(es, true)?,
            Expr::Any(a) => self.aggregate(Aggr::Any, a)?,
            Expr::All(a) => self.aggregate(Aggr::All, a)?,
        }
        Ok(())
    }

    /// Emits a trigger whose top-level conjunct `first` (if any) comes first, as
    /// `first jump.false L rest and L:` (or `first` alone): the shape from which the verifier
    /// proves the trigger index. Reordering is legal as in [`Self::chain`].
    pub(super) fn trigger(&mut self, e: &Expr, first: Option<usize>) -> Result<(), LowerError> {
        let (lead, rest): (&Expr, &[Expr]) = match (e, first) {
            (Expr::And(es), Some(at)) => match es.get(at) {
                Some(lead) => (lead, es),
                None => return self.expr(e),
            },
            (_, Some(_)) => (e, &[]),
            (_, None) => return self.expr(e),
        };
        self.expr(lead)?;
        // The other conjuncts, in their order (not copied, issue #15).
        let mut others = rest.iter().filter(|&c| !std::ptr::eq(c, lead));
        let Some(second) = others.next() else {
            return Ok(());
        };
        let jump = |by| Instr::JumpIfFalse { by: Offset(by) };
        let at = self.emit(jump(0));
        match others.next() {
            None => self.expr(second)?,
            Some(third) => {
                self.chain([second, third].into_iter().chain(others), false)?;
            }
        }
        self.emit(Instr::And {});
        let by = self.distance(at, jump(0).encoded_len())?;
        self.patch(at, jump(by));
        Ok(())
    }

    /// `e0 jump L e1 combine jump L e2 combine ... L:` (`jump.false`/`and`, or with `or`
    /// `jump.true`/`or`), cheapest operands first. Reordering is legal: `and`/`or` results,
    /// errors included, do not depend on operand order.
    fn chain<'e>(
        &mut self,
        es: impl IntoIterator<Item = &'e Expr>,
        or: bool,
    ) -> Result<(), LowerError> {
        let jump = |by| {
            let by = Offset(by);
            if or {
                Instr::JumpIfTrue { by }
            } else {
                Instr::JumpIfFalse { by }
            }
        };
        let combine = if or { Instr::Or {} } else { Instr::And {} };
        let mut order: Vec<&Expr> = es.into_iter().collect();
        order.sort_by_key(|e| cost(e));
        let mut patches = Vec::new();
        for (i, e) in order.iter().enumerate() {
            if i > 0 {
                patches.push(self.emit(jump(0)));
            }
            self.expr(e)?;
            if i > 0 {
                self.emit(combine);
            }
        }
        for at in patches {
            let by = self.distance(at, jump(0).encoded_len())?;
            self.patch(at, jump(by));
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
                SlotType::Records { fields, .. } | SlotType::Map { fields, .. } => {
                    fields.get(usize::from(*field)).map(|f| &f.ty)
                }
                SlotType::List { elem, .. } => Some(elem),
                SlotType::Scalar(_) => None,
            },
            Operand::Count(_) | Operand::CountSum(_) | Operand::Arith(..) | Operand::Len(_) => {
                Some(&Scalar::Int)
            }
            Operand::Segment(_) => Some(&Scalar::Str),
            Operand::MapGet(m) => match &self.slots.get(usize::from(m.map))?.ty {
                SlotType::Map { fields, .. } => fields.get(usize::from(m.field)).map(|f| &f.ty),
                _ => None,
            },
            Operand::Lit(_) | Operand::Lookup(_) | Operand::Time(_) => None,
        }
    }

    /// `m[k]` (issue #13): the key, then one scan of the map for its entry: `map.get` (the
    /// entry's field) or, for `has`, `map.has`.
    fn map_entry(&mut self, m: &crate::hir::MapGet, has: bool) -> Result<(), LowerError> {
        self.operand(&m.key)?;
        let (map, field) = (IsaSlot(m.map), Field(m.field));
        self.emit(if has {
            Instr::MapHas { map, field }
        } else {
            Instr::MapGet { map, field }
        });
        Ok(())
    }

    /// `M[y]` (issue #13): the table's value under the key operand, one instruction.
    fn lookup(&mut self, l: &crate::hir::Lookup) -> Result<(), LowerError> {
        let (set, konst) = self.tables.lookup_table(&l.rows)?;
        let (set, konst) = (Set(set), Const(konst));
        let instr = match &l.key {
            Operand::Slot(s) => Instr::LookupSlot {
                slot: IsaSlot(*s),
                set,
                konst,
            },
            Operand::Field { level, field, .. } => Instr::LookupField {
                level: Level(*level),
                field: Field(*field),
                set,
                konst,
            },
            _ => return Err(LowerError::TooMany("lookup keys that are not attributes")),
        };
        self.emit(instr);
        Ok(())
    }

    /// `segment(x, sep, i)` (issue #14), or its `has` form: one `seg.*` instruction.
    fn segment(&mut self, g: &crate::hir::Segment, has: bool) -> Result<(), LowerError> {
        let sep = Const(
            self.tables
                .constant(&Literal::Str(g.sep.as_str().into()), Some(&Scalar::Str))?,
        );
        let index = Const(
            self.tables
                .constant(&Literal::Int(g.index), Some(&Scalar::Int))?,
        );
        let instr = match (&g.x, has) {
            (Operand::Slot(s), false) => Instr::SegSlot {
                slot: IsaSlot(*s),
                sep,
                index,
            },
            (Operand::Slot(s), true) => Instr::HasSegSlot {
                slot: IsaSlot(*s),
                sep,
                index,
            },
            (Operand::Field { level, field, .. }, false) => Instr::SegField {
                level: Level(*level),
                field: Field(*field),
                sep,
                index,
            },
            (Operand::Field { level, field, .. }, true) => Instr::HasSegField {
                level: Level(*level),
                field: Field(*field),
                sep,
                index,
            },
            // Issue #14: any other string (a piece, a map constant's value) on the stack.
            (x, has) => {
                self.operand(x)?;
                if has {
                    Instr::HasSeg { sep, index }
                } else {
                    let (level, at) = seg_at(x).ok_or(LowerError::TooMany(
                        "segments of values that read no attribute",
                    ))?;
                    Instr::Seg {
                        sep,
                        index,
                        level: Level(level),
                        at: Field(at),
                    }
                }
            }
        };
        self.emit(instr);
        Ok(())
    }

    /// Two addresses compared (issue #14): one `cmp.ip.*` instruction, a field first.
    fn cmp_ip(&mut self, op: CmpOp, lhs: &Operand, rhs: &Operand) -> Result<(), LowerError> {
        if matches!(lhs, Operand::MapGet(_)) || matches!(rhs, Operand::MapGet(_)) {
            // Issue #13, session 10: an `ip` field read through a dynamic key: both addresses
            // on the stack (`load.slot`, `load.field` or `map.get`), then `cmp.ip`.
            self.operand(lhs)?;
            self.operand(rhs)?;
            self.emit(Instr::CmpIp { op });
            return Ok(());
        }
        let instr = match (lhs, rhs) {
            (Operand::Slot(a), Operand::Slot(b)) => Instr::CmpIpSlotSlot {
                op,
                a: IsaSlot(*a),
                b: IsaSlot(*b),
            },
            (Operand::Field { level, field, .. }, Operand::Slot(s)) => Instr::CmpIpFieldSlot {
                op,
                level: Level(*level),
                field: Field(*field),
                slot: IsaSlot(*s),
            },
            (Operand::Slot(s), Operand::Field { level, field, .. }) => Instr::CmpIpFieldSlot {
                op: flipped(op),
                level: Level(*level),
                field: Field(*field),
                slot: IsaSlot(*s),
            },
            (
                Operand::Field {
                    level: la,
                    field: fa,
                    ..
                },
                Operand::Field {
                    level: lb,
                    field: fb,
                    ..
                },
            ) => Instr::CmpIpFieldField {
                op,
                la: Level(*la),
                fa: Field(*fa),
                lb: Level(*lb),
                fb: Field(*fb),
            },
            // The checker gives address comparisons slots and fields only (literals are
            // folded into `in.ip.*` tables).
            _ => return Err(LowerError::TooMany("ip operands")),
        };
        self.emit(instr);
        Ok(())
    }

    /// `field op (const | slot)` as one superinstruction.
    fn cmp_field(
        &mut self,
        op: CmpOp,
        field_operand: &Operand,
        other: &Operand,
    ) -> Result<(), LowerError> {
        let Operand::Field {
            level, field: f, ..
        } = field_operand
        else {
            return Err(LowerError::CodeTooLarge);
        };
        let (op, level, field) = (op, Level(*level), Field(*f));
        let instr = match other {
            Operand::Lit(l) => Instr::CmpFieldConst {
                op,
                level,
                field,
                konst: Const(self.tables.constant(l, self.scalar_of(field_operand))?),
            },
            Operand::Slot(s) => Instr::CmpFieldSlot {
                op,
                level,
                field,
                slot: IsaSlot(*s),
            },
            _ => return Err(LowerError::CodeTooLarge),
        };
        self.emit(instr);
        Ok(())
    }

    fn cmp_slot_const(&mut self, op: CmpOp, s: u16, lit: &Literal) -> Result<(), LowerError> {
        let c = self
            .tables
            .constant(lit, self.scalar_of(&Operand::Slot(s)))?;
        self.emit(Instr::CmpSlotConst {
            op,
            slot: IsaSlot(s),
            konst: Const(c),
        });
        Ok(())
    }

    /// Emits a value operand; `note` marks the count a failed clause reports.
    pub(super) fn operand(&mut self, o: &Operand) -> Result<(), LowerError> {
        match o {
            Operand::Slot(s) => {
                self.emit(Instr::LoadSlot { slot: IsaSlot(*s) });
            }
            Operand::Field { level, field, .. } => {
                self.emit(Instr::LoadField {
                    level: Level(*level),
                    field: Field(*field),
                });
            }
            Operand::Lit(l) => {
                let c = self.tables.constant(l, None)?;
                self.emit(Instr::LoadConst { konst: Const(c) });
            }
            Operand::Count(a) => self.aggregate(Aggr::Count, a)?,
            Operand::Lookup(l) => self.lookup(l)?,
            // Issue #13: the key, then one scan of the map for its entry.
            Operand::MapGet(m) => self.map_entry(m, false)?,
            Operand::CountSum(aggs) => {
                // `count a`, then `count b` `add`, ...: left to right.
                for (i, a) in aggs.iter().enumerate() {
                    self.aggregate(Aggr::Count, a)?;
                    if i > 0 {
                        self.emit(Instr::Add {});
                    }
                }
            }
            Operand::Segment(g) => self.segment(g, false)?,
            Operand::Len(x) => {
                // Issue #14: the string, then `str.len`.
                self.operand(x)?;
                self.emit(Instr::StrLen {});
            }
            Operand::Arith(op, args) => {
                // Issue #14: operands left to right, then `arith op at`.
                for a in args {
                    self.operand(a)?;
                }
                let at = o.first_slot().ok_or(LowerError::CodeTooLarge)?;
                self.emit(Instr::Arith {
                    op: *op,
                    at: IsaSlot(at),
                });
            }
            // Issue #14: operands left to right, then the operator.
            Operand::Time(op) => match &**op {
                TimeOp::Arith { sub, lhs, rhs } => {
                    self.operand(lhs)?;
                    self.operand(rhs)?;
                    self.emit(if *sub { Instr::Sub {} } else { Instr::Add {} });
                }
                TimeOp::Part { part, arg } => {
                    self.operand(arg)?;
                    self.emit(match part {
                        TimePart::Hour => Instr::TimeHour {},
                        TimePart::Weekday => Instr::TimeWeekday {},
                        TimePart::TimeOfDay => Instr::TimeOfDay {},
                    });
                }
            },
        }
        Ok(())
    }

    fn aggregate(&mut self, kind: Aggr, a: &Aggregate) -> Result<(), LowerError> {
        // A nested list is read through the field of the element that holds it.
        let within = match a.within {
            Some(level) => Some((
                Level(level),
                Field(
                    super::nested::parent_field(self.slots, a.list)
                        .ok_or(LowerError::TooMany("nested list fields"))?
                        .1,
                ),
            )),
            None => None,
        };
        let instr = |n| {
            let (list, body) = (IsaSlot(a.list), BodyLen(n));
            match (kind, within) {
                (Aggr::Count, None) => Instr::Count { list, body },
                (Aggr::Any, None) => Instr::Any { list, body },
                (Aggr::All, None) => Instr::All { list, body },
                (Aggr::Count, Some((level, field))) => Instr::CountField { level, field, body },
                (Aggr::Any, Some((level, field))) => Instr::AnyField { level, field, body },
                (Aggr::All, Some((level, field))) => Instr::AllField { level, field, body },
            }
        };
        let at = self.emit(instr(0));
        if let Some(filter) = &a.filter {
            self.expr(filter)?;
            let n = self.distance(at, instr(0).encoded_len())?;
            self.patch(at, instr(n));
        }
        Ok(())
    }

    /// Emits a requirement clause; a comparison with a count notes the count it compares.
    pub(super) fn clause(&mut self, e: &Expr, reports_count: bool) -> Result<(), LowerError> {
        if let (true, Expr::Cmp { op, lhs, rhs, .. }) = (reports_count, e) {
            let note_lhs = matches!(lhs, Operand::Count(_) | Operand::CountSum(_));
            self.operand(lhs)?;
            if note_lhs {
                self.emit(Instr::NoteCount {});
            }
            self.operand(rhs)?;
            if !note_lhs && matches!(rhs, Operand::Count(_) | Operand::CountSum(_)) {
                self.emit(Instr::NoteCount {});
            }
            self.emit(Instr::Cmp { op: *op });
            return Ok(());
        }
        self.expr(e)
    }
}
