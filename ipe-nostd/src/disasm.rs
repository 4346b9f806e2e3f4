//! A readable listing of code blocks, one instruction per line.
//!
//! The format is `offset: mnemonic operands`, with operands named after the tables they index
//! (`slot 3`, `const 1`, `set 0`) and, for aggregates, the body indented one level.

use core::fmt::{self, Write};

use crate::bundle::Bundle;
use crate::isa::{Instr, OperandValue};

/// Writes a listing of `code` (a trigger, clause or body) to `w`, indented by `indent` levels.
///
/// Each operand is written as its table and index (`slot 3 (path)`, `const 1 ("text")`,
/// `set 0`, `level 0 field 2`), an operator as its symbol, a jump as `-> target` (the absolute
/// offset it lands on) and an aggregate's body length as `body n`. Bytes that do not decode
/// to an instruction (an unknown opcode, an operator byte out of range, operands past the
/// end) are listed one at a time as `.byte 0x..`, so any input can be shown.
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
        let Ok((instr, next)) = Instr::decode(code, pc) else {
            writeln!(w, ".byte {byte:#04x}")?;
            pc += 1;
            continue;
        };
        w.write_str(instr.opcode().mnemonic())?;
        instr.try_for_each_operand(|operand| match operand {
            OperandValue::Cmp(op) => write!(w, " {}", op.symbol()),
            OperandValue::Str(op) => write!(w, " {}", op.keyword()),
            OperandValue::Arith(op) => write!(w, " {}", op.keyword()),
            OperandValue::Level(l) => write!(w, " level {}", l.0),
            OperandValue::Field(f) => write!(w, " field {}", f.0),
            OperandValue::Slot(s) => write!(w, " slot {} ({})", s.0, bundle.slot_info(s.0).path),
            OperandValue::Const(c) => write_const(w, bundle, c.0),
            OperandValue::Set(k) => write!(w, " set {}", k.0),
            OperandValue::Offset(d) => write!(w, " -> {:04}", next + usize::from(d.0)),
            OperandValue::BodyLen(n) => write!(w, " body {}", n.0),
            OperandValue::Regex(r) => match crate::regex::nth(bundle.regexes(), r.0) {
                Some(e) => write!(w, " re {} ({:?})", r.0, e.text),
                None => write!(w, " re {}", r.0),
            },
            OperandValue::Ranges(t) => write_ranges(w, bundle, t.0),
        })?;
        w.write_char('\n')?;
        pc = next;
        if let Instr::Count { body, .. } | Instr::Any { body, .. } | Instr::All { body, .. } = instr
        {
            let n = usize::from(body.0);
            let body = code.get(next..next + n).unwrap_or(&[]);
            disassemble(w, bundle, body, indent + 1)?;
            pc = next + n;
        }
    }
    Ok(())
}

/// A range table operand with its ranges (`ranges 0 (22, 8000..8100)`; issue #14, session 9).
fn write_ranges<W: Write>(w: &mut W, bundle: &Bundle<'_>, t: u16) -> fmt::Result {
    write!(w, " ranges {t} (")?;
    let table = crate::ranges::table(bundle.int_ranges(), t).unwrap_or(&[]);
    for (i, (lo, hi)) in crate::ranges::iter(table).enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        if lo == hi {
            write!(w, "{lo}")?;
        } else {
            write!(w, "{lo}..{hi}")?;
        }
    }
    w.write_char(')')
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
