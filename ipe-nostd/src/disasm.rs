//! A readable listing of code blocks, one instruction per line.
//!
//! The format is `offset: mnemonic operands`, with operands named after the tables they index
//! (`slot 3`, `const 1`, `set 0`) and, for aggregates, the body indented one level.

use core::fmt::{self, Write};

use crate::bundle::Bundle;
use crate::format::rec;
use crate::isa::{CmpOp, Opcode, StrOp};

/// Writes a listing of `code` (a trigger, clause or body) to `w`, indented by `indent` levels.
///
/// Undecodable bytes are listed as `.byte 0x..` so any input can be shown.
pub fn disassemble<W: Write>(
    w: &mut W,
    bundle: &Bundle<'_>,
    code: &[u8],
    indent: usize,
) -> fmt::Result {
    let mut pc = 0usize;
    while let Some(&byte) = code.get(pc) {
        for _ in 0..indent {
            w.write_str("    ")?;
        }
        write!(w, "{pc:04}: ")?;
        let Some(op) = Opcode::from_byte(byte) else {
            writeln!(w, ".byte {byte:#04x}")?;
            pc += 1;
            continue;
        };
        let ops = code.get(pc + 1..).unwrap_or(&[]);
        let next = pc + 1 + op.operand_len();
        w.write_str(op.mnemonic())?;
        let slot = |w: &mut W, s: u16| write!(w, " slot {s} ({})", bundle.slot_info(s).path);
        let cmp = |b: u8| CmpOp::from_byte(b).map_or("?", CmpOp::symbol);
        match op {
            Opcode::LoadSlot | Opcode::Has | Opcode::InList => slot(w, rec::u16(ops, 0))?,
            Opcode::LoadField | Opcode::HasField => {
                write!(w, " level {} field {}", rec::u8(ops, 0), rec::u16(ops, 1))?
            }
            Opcode::LoadConst => write_const(w, bundle, rec::u16(ops, 0))?,
            Opcode::Cmp => write!(w, " {}", cmp(rec::u8(ops, 0)))?,
            Opcode::CmpSlotConst => {
                write!(w, " {}", cmp(rec::u8(ops, 0)))?;
                slot(w, rec::u16(ops, 1))?;
                write_const(w, bundle, rec::u16(ops, 3))?;
            }
            Opcode::CmpFieldConst | Opcode::CmpFieldSlot => {
                write!(
                    w,
                    " {} level {} field {}",
                    cmp(rec::u8(ops, 0)),
                    rec::u8(ops, 1),
                    rec::u16(ops, 2)
                )?;
                if op == Opcode::CmpFieldConst {
                    write_const(w, bundle, rec::u16(ops, 4))?;
                } else {
                    slot(w, rec::u16(ops, 4))?;
                }
            }
            Opcode::StrOp => write!(
                w,
                " {}",
                StrOp::from_byte(rec::u8(ops, 0)).map_or("?", StrOp::keyword)
            )?,
            Opcode::InSet => write!(w, " set {}", rec::u16(ops, 0))?,
            Opcode::InSlotSet => {
                slot(w, rec::u16(ops, 0))?;
                write!(w, " set {}", rec::u16(ops, 2))?;
            }
            Opcode::JumpIfFalse | Opcode::JumpIfTrue => {
                write!(w, " -> {:04}", next + usize::from(rec::u16(ops, 0)))?
            }
            Opcode::Count | Opcode::Any | Opcode::All => {
                let n = usize::from(rec::u16(ops, 2));
                slot(w, rec::u16(ops, 0))?;
                writeln!(w, " body {n}")?;
                let body = code.get(next..next + n).unwrap_or(&[]);
                disassemble(w, bundle, body, indent + 1)?;
                pc = next + n;
                continue;
            }
            Opcode::Not | Opcode::And | Opcode::Or | Opcode::NoteCount => {}
        }
        w.write_char('\n')?;
        pc = next;
    }
    Ok(())
}

fn write_const<W: Write>(w: &mut W, bundle: &Bundle<'_>, c: u16) -> fmt::Result {
    let k = bundle.constant(c);
    match k.kind {
        crate::ValueKind::Str => write!(w, " const {c} (\"{}\")", bundle.symbol(k.value as u32)),
        crate::ValueKind::Enum => write!(w, " const {c} (rank {})", k.value),
        crate::ValueKind::Bool => write!(w, " const {c} ({})", k.value != 0),
        _ => write!(w, " const {c} ({})", k.value),
    }
}
