//! The instruction set, defined once.
//!
//! Code is a byte string: an opcode byte followed by its operands, little-endian. Every code
//! block (a trigger, a requirement clause, an aggregate body) runs on an operand stack that
//! starts empty and must end holding exactly one condition (a `bool` or an error).
//!
//! Stack cells are typed statically by the verifier: `bool`, `int`, `str`, `enum`; any cell may
//! hold an *error* at run time instead (a missing or invalid attribute). Conditions are
//! three-valued: true, false, or error; the absorption rules are those of `docs/LANGUAGE.md`.
//! When two errors meet, the smaller one (by slot, field, kind) survives.
//!
//! Operand notation below: `u8`, `u16` (2 bytes LE). Stack effects read `[before] -> [after]`.

/// Calls `$m!` with the list of every opcode: `Name = byte, mnemonic, operand-bytes`.
///
/// `TryFrom<u8>`, mnemonics and operand lengths all come from this one list.
#[macro_export]
macro_rules! for_each_opcode {
    ($m:ident) => {
        $m! {
            /// `load.slot s:u16` `[] -> [v]`: pushes the value of scalar slot `s`, or an error
            /// if it is missing or not of the slot's declared type.
            LoadSlot = 0x01, "load.slot", 2;
            /// `load.field l:u8 f:u16` `[] -> [v]`: pushes field `f` of the element currently
            /// bound by the aggregate at nesting level `l`, or an error.
            LoadField = 0x02, "load.field", 3;
            /// `load.const c:u16` `[] -> [v]`: pushes constant `c`.
            LoadConst = 0x03, "load.const", 2;
            /// `cmp op:u8` `[a b] -> [a op b]`: compares two values of one type (op: 0 `==`,
            /// 1 `!=`, 2 `<`, 3 `<=`, 4 `>`, 5 `>=`; ordered ops on int and enum only).
            Cmp = 0x04, "cmp", 1;
            /// `cmp.slot.const op:u8 s:u16 c:u16` `[] -> [s op c]`: `load.slot s`,
            /// `load.const c`, `cmp op` in one step.
            CmpSlotConst = 0x05, "cmp.slot.const", 5;
            /// `str op:u8` `[a b] -> [a op b]`: string test (op: 0 `starts_with`,
            /// 1 `ends_with`, 2 `contains`).
            StrOp = 0x06, "str", 1;
            /// `in.set k:u16` `[a] -> [a in set k]`: membership in constant set `k`.
            InSet = 0x07, "in.set", 2;
            /// `in.slot.set s:u16 k:u16` `[] -> [s in set k]`: `load.slot s`, `in.set k`.
            InSlotSet = 0x08, "in.slot.set", 4;
            /// `in.list s:u16` `[a] -> [a in s]`: membership in list-of-scalars slot `s`; an
            /// error if the list is missing or invalid.
            InList = 0x09, "in.list", 2;
            /// `has s:u16` `[] -> [bool]`: whether slot `s` is present. Never an error.
            Has = 0x0A, "has", 2;
            /// `has.field l:u8 f:u16` `[] -> [bool]`: whether field `f` of the element bound
            /// at level `l` is present. Never an error.
            HasField = 0x0B, "has.field", 3;
            /// `not` `[a] -> [not a]`; `not error` is the same error.
            Not = 0x0C, "not", 0;
            /// `and` `[a b] -> [a and b]`: false if either is false, else the smaller error,
            /// else true.
            And = 0x0D, "and", 0;
            /// `or` `[a b] -> [a or b]`: true if either is true, else the smaller error, else
            /// false.
            Or = 0x0E, "or", 0;
            /// `jump.false d:u16` `[a] -> [a]`: if `a` is false, continues `d` bytes after
            /// the end of this instruction (forward only), keeping `a`.
            JumpIfFalse = 0x0F, "jump.false", 2;
            /// `jump.true d:u16` `[a] -> [a]`: if `a` is true, continues `d` bytes after the
            /// end of this instruction, keeping `a`.
            JumpIfTrue = 0x10, "jump.true", 2;
            /// `count s:u16 n:u16` `[] -> [int]`: runs the next `n` bytes (a body, one level
            /// deeper) once per element of list slot `s` and counts the elements whose body
            /// is true; an error if the list is missing or invalid or any body is an error.
            /// With `n = 0`, the list's length.
            Count = 0x11, "count", 4;
            /// `any s:u16 n:u16` `[] -> [bool]`: true if some element's body is true, else
            /// the smallest element error, else false. Stops at the first true.
            Any = 0x12, "any", 4;
            /// `all s:u16 n:u16` `[] -> [bool]`: false if some element's body is false, else
            /// the smallest element error, else true. Stops at the first false.
            All = 0x13, "all", 4;
            /// `note.count` `[i] -> [i]`: records int `i` as the count a failed clause reports.
            NoteCount = 0x14, "note.count", 0;
            /// `cmp.field.const op:u8 l:u8 f:u16 c:u16` `[] -> [f op c]`: `load.field l f`,
            /// `load.const c`, `cmp op` in one step.
            CmpFieldConst = 0x15, "cmp.field.const", 6;
            /// `cmp.field.slot op:u8 l:u8 f:u16 s:u16` `[] -> [f op s]`: `load.field l f`,
            /// `load.slot s`, `cmp op` in one step.
            CmpFieldSlot = 0x16, "cmp.field.slot", 6;
        }
    };
}

macro_rules! define_opcodes {
    ($( $(#[$doc:meta])* $name:ident = $byte:literal, $mnemonic:literal, $len:literal; )*) => {
        /// One bytecode operation. The discriminant is the encoded byte; 0 is never valid.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum Opcode {
            $( $(#[$doc])* $name = $byte, )*
        }

        impl Opcode {
            /// Every opcode, in byte order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$name),*];

            /// The mnemonic used by the disassembler.
            pub const fn mnemonic(self) -> &'static str {
                match self { $(Opcode::$name => $mnemonic,)* }
            }

            /// Number of operand bytes after the opcode byte.
            pub const fn operand_len(self) -> usize {
                match self { $(Opcode::$name => $len,)* }
            }

            /// Decodes an opcode byte.
            pub const fn from_byte(b: u8) -> Option<Opcode> {
                match b { $($byte => Some(Opcode::$name),)* _ => None }
            }

            /// Looks an opcode up by mnemonic.
            pub fn from_mnemonic(m: &str) -> Option<Opcode> {
                match m { $($mnemonic => Some(Opcode::$name),)* _ => None }
            }
        }
    };
}

for_each_opcode!(define_opcodes);

impl TryFrom<u8> for Opcode {
    type Error = u8;
    fn try_from(b: u8) -> Result<Self, u8> {
        Opcode::from_byte(b).ok_or(b)
    }
}

/// Comparison operator operand of [`Opcode::Cmp`] and [`Opcode::CmpSlotConst`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum CmpOp {
    /// `==`
    Eq = 0,
    /// `!=`
    Ne = 1,
    /// `<`
    Lt = 2,
    /// `<=`
    Le = 3,
    /// `>`
    Gt = 4,
    /// `>=`
    Ge = 5,
}

impl CmpOp {
    /// Decodes the operand byte.
    pub const fn from_byte(b: u8) -> Option<CmpOp> {
        Some(match b {
            0 => CmpOp::Eq,
            1 => CmpOp::Ne,
            2 => CmpOp::Lt,
            3 => CmpOp::Le,
            4 => CmpOp::Gt,
            5 => CmpOp::Ge,
            _ => return None,
        })
    }

    /// Whether the operator needs an ordered type (int or enum).
    pub const fn is_ordered(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// The source symbol.
    pub const fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Applies the operator to an ordering.
    pub const fn test(self, ord: core::cmp::Ordering) -> bool {
        use core::cmp::Ordering::*;
        match self {
            CmpOp::Eq => matches!(ord, Equal),
            CmpOp::Ne => !matches!(ord, Equal),
            CmpOp::Lt => matches!(ord, Less),
            CmpOp::Le => !matches!(ord, Greater),
            CmpOp::Gt => matches!(ord, Greater),
            CmpOp::Ge => !matches!(ord, Less),
        }
    }
}

/// String operator operand of [`Opcode::StrOp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum StrOp {
    /// `starts_with`
    StartsWith = 0,
    /// `ends_with`
    EndsWith = 1,
    /// `contains`
    Contains = 2,
}

impl StrOp {
    /// Decodes the operand byte.
    pub const fn from_byte(b: u8) -> Option<StrOp> {
        Some(match b {
            0 => StrOp::StartsWith,
            1 => StrOp::EndsWith,
            2 => StrOp::Contains,
            _ => return None,
        })
    }

    /// The source keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            StrOp::StartsWith => "starts_with",
            StrOp::EndsWith => "ends_with",
            StrOp::Contains => "contains",
        }
    }

    /// Applies the operator.
    pub fn test(self, hay: &str, needle: &str) -> bool {
        match self {
            StrOp::StartsWith => hay.starts_with(needle),
            StrOp::EndsWith => hay.ends_with(needle),
            StrOp::Contains => hay.contains(needle),
        }
    }
}

/// Deepest nesting of aggregate bodies the verifier accepts.
pub const MAX_LEVELS: usize = 4;

/// Operand stack cells available to one evaluation (all nesting levels together).
pub const STACK_CELLS: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_round_trips_through_its_byte_and_mnemonic() {
        for &op in Opcode::ALL {
            assert_eq!(Opcode::try_from(op as u8), Ok(op));
            assert_eq!(Opcode::from_mnemonic(op.mnemonic()), Some(op));
        }
        assert_eq!(Opcode::try_from(0), Err(0));
    }

    #[test]
    fn cmp_ops_round_trip() {
        for b in 0..6 {
            assert_eq!(CmpOp::from_byte(b).map(|o| o as u8), Some(b));
        }
        assert_eq!(CmpOp::from_byte(6), None);
    }
}
