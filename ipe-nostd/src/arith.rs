//! Checked 64-bit integer arithmetic (issue #14): the one definition of `+ - * / % &`, unary
//! minus, `min`, `max` and `abs` that the interpreter, the compiler's constant folding, the
//! reference evaluator and the JIT's helper all call, so every engine agrees bit for bit.

/// The operator of the `arith` instruction (one byte). Binary operators pop two ints, unary
/// ones ([`ArithOp::Neg`], [`ArithOp::Abs`]) one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum ArithOp {
    /// `a + b`
    Add = 0,
    /// `a - b`
    Sub = 1,
    /// `a * b`
    Mul = 2,
    /// `a / b`, truncated toward zero.
    Div = 3,
    /// `a % b`, the remainder of the truncated division (the sign of `a`).
    Rem = 4,
    /// `min(a, b)`
    Min = 5,
    /// `max(a, b)`
    Max = 6,
    /// `a & b` (bitwise and, two's complement).
    BitAnd = 7,
    /// `-a`
    Neg = 8,
    /// `abs(a)`
    Abs = 9,
}

/// Why an arithmetic operation has no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ArithError {
    /// The exact result is outside the 64-bit signed range (including `i64::MIN / -1`,
    /// `i64::MIN % -1`, `-i64::MIN` and `abs(i64::MIN)`).
    Overflow,
    /// The divisor of `/` or `%` is zero.
    DivByZero,
}

impl ArithOp {
    /// Every operator, in byte order.
    pub const ALL: [ArithOp; 10] = [
        ArithOp::Add,
        ArithOp::Sub,
        ArithOp::Mul,
        ArithOp::Div,
        ArithOp::Rem,
        ArithOp::Min,
        ArithOp::Max,
        ArithOp::BitAnd,
        ArithOp::Neg,
        ArithOp::Abs,
    ];

    /// Decodes the operand byte.
    pub const fn from_byte(b: u8) -> Option<ArithOp> {
        Some(match b {
            0 => ArithOp::Add,
            1 => ArithOp::Sub,
            2 => ArithOp::Mul,
            3 => ArithOp::Div,
            4 => ArithOp::Rem,
            5 => ArithOp::Min,
            6 => ArithOp::Max,
            7 => ArithOp::BitAnd,
            8 => ArithOp::Neg,
            9 => ArithOp::Abs,
            _ => return None,
        })
    }

    /// Whether the operator takes one operand (`-a`, `abs(a)`).
    pub const fn is_unary(self) -> bool {
        matches!(self, ArithOp::Neg | ArithOp::Abs)
    }

    /// The listing keyword (the source symbol or function name).
    pub const fn keyword(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
            ArithOp::Min => "min",
            ArithOp::Max => "max",
            ArithOp::BitAnd => "&",
            ArithOp::Neg => "neg",
            ArithOp::Abs => "abs",
        }
    }

    /// Applies the operator (`b` is ignored by the unary ones).
    #[inline]
    pub const fn apply(self, a: i64, b: i64) -> Result<i64, ArithError> {
        let r = match self {
            ArithOp::Add => a.checked_add(b),
            ArithOp::Sub => a.checked_sub(b),
            ArithOp::Mul => a.checked_mul(b),
            ArithOp::Div | ArithOp::Rem if b == 0 => return Err(ArithError::DivByZero),
            ArithOp::Div => a.checked_div(b),
            ArithOp::Rem => a.checked_rem(b),
            ArithOp::Min => Some(if a < b { a } else { b }),
            ArithOp::Max => Some(if a > b { a } else { b }),
            ArithOp::BitAnd => Some(a & b),
            ArithOp::Neg => a.checked_neg(),
            ArithOp::Abs => a.checked_abs(),
        };
        match r {
            Some(v) => Ok(v),
            None => Err(ArithError::Overflow),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_of_the_signed_range_are_errors_not_wraps() {
        use ArithError::*;
        use ArithOp::*;
        assert_eq!(Add.apply(i64::MAX, 1), Err(Overflow));
        assert_eq!(Sub.apply(i64::MIN, 1), Err(Overflow));
        assert_eq!(Mul.apply(i64::MAX / 2 + 1, 2), Err(Overflow));
        assert_eq!(Div.apply(i64::MIN, -1), Err(Overflow));
        assert_eq!(Rem.apply(i64::MIN, -1), Err(Overflow));
        assert_eq!(Div.apply(1, 0), Err(DivByZero));
        assert_eq!(Rem.apply(0, 0), Err(DivByZero));
        assert_eq!(Neg.apply(i64::MIN, 0), Err(Overflow));
        assert_eq!(Abs.apply(i64::MIN, 0), Err(Overflow));
        assert_eq!(Rem.apply(-7, 2), Ok(-1));
        assert_eq!(Rem.apply(7, -2), Ok(1));
        assert_eq!(Div.apply(-7, 2), Ok(-3));
        assert_eq!(BitAnd.apply(0x13, 0x12), Ok(0x12));
        assert_eq!(Min.apply(-1, 2), Ok(-1));
        assert_eq!(Max.apply(-1, 2), Ok(2));
        for (i, op) in ArithOp::ALL.iter().enumerate() {
            assert_eq!(ArithOp::from_byte(i as u8), Some(*op));
        }
        assert_eq!(ArithOp::from_byte(10), None);
    }
}
