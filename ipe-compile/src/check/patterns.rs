//! `matches` (issue #14): the regex of a `matches` test compiles to a DFA within the size
//! budget, or the literal gets a located error.

use super::Ctx;
use crate::ast::{Expr, ExprKind, Lit};
use crate::patterns::{compile_regex, RegexError, REGEX_DFA_BUDGET};

impl Ctx<'_> {
    /// Reports the regex literal `rhs` of a `matches` test if it does not compile.
    pub(super) fn check_regex(&mut self, rhs: &Expr) {
        let ExprKind::Lit(Lit::Str(re)) = &rhs.kind else {
            return;
        };
        match compile_regex(re) {
            Ok(_) => {}
            Err(RegexError::Invalid(why)) => self.error(
                rhs.span.clone(),
                format!("invalid regular expression: {}", why.trim()),
                Some(
                    "`matches` takes the syntax of Rust's `regex` crate (no look-around or \
                     back-references; a word boundary is `(?-u:\\b)`)"
                        .to_owned(),
                ),
            ),
            Err(RegexError::TooLarge { bytes }) => self.error(
                rhs.span.clone(),
                match bytes {
                    Some(n) => format!(
                        "this regular expression's automaton is {n} bytes, over the \
                         {REGEX_DFA_BUDGET}-byte budget"
                    ),
                    None => format!(
                        "this regular expression's automaton is over the {REGEX_DFA_BUDGET}-byte \
                         budget"
                    ),
                },
                Some(
                    "simplify it: bounded repeats such as `{200}` and large Unicode classes \
                     multiply states; `(?-u:\\w)` is smaller than `\\w`"
                        .to_owned(),
                ),
            ),
        }
    }
}
