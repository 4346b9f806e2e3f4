//! The shape of a clause whose witness a reason template names (issue 13), shared by the
//! verifier (which accepts only these shapes) and the renderer (which reads the witness's
//! list from it).

/// The list slot of a witness clause: its code is one `all` whose body runs to the end of the
/// clause (so the clause is false exactly when some element's body is false).
///
/// Or (issue 13, a list declared `= []`) `has L; not; jump.true <end>; all L <body>; or`:
/// true when `L` is missing, else the `all`, whose body runs to the final `or`.
pub fn clause_list(code: &[u8]) -> Option<u16> {
    use crate::isa::Instr;
    let all_to = |at: usize, end: usize| match Instr::decode(code, at).ok()? {
        (Instr::All { list, body: n }, next)
            if next.checked_add(usize::from(n.0)) == Some(end) && n.0 > 0 =>
        {
            Some(list.0)
        }
        _ => None,
    };
    if let Some(list) = all_to(0, code.len()) {
        return Some(list);
    }
    let (Instr::Has { slot }, at) = Instr::decode(code, 0).ok()? else {
        return None;
    };
    let (Instr::Not {}, at) = Instr::decode(code, at).ok()? else {
        return None;
    };
    let (Instr::JumpIfTrue { by }, at) = Instr::decode(code, at).ok()? else {
        return None;
    };
    let last = code.len().checked_sub(1)?;
    let ends_with_or =
        matches!(Instr::decode(code, last).ok()?, (Instr::Or {}, n) if n == code.len());
    let to_end = at.checked_add(usize::from(by.0)) == Some(code.len());
    let list = all_to(at, last)?;
    (ends_with_or && to_end && list == slot.0).then_some(list)
}
