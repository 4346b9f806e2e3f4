//! `matches` (issue #14): the regex of a `matches` test compiles to a DFA within the size
//! budget, or the literal gets a located error.

use super::Ctx;
use crate::ast::{Expr, ExprKind, Lit};
use crate::patterns::{compile_regex, RegexError, REGEX_DFA_BUDGET};

impl Ctx<'_> {
    /// Reports the regex literal `rhs` of a `matches` test if it does not compile, or `rhs`
    /// itself if it is no string literal once template and def parameters are bound (a
    /// request attribute, an int); `false` then. A regex bound from an instance's argument
    /// (`matches l.allowedRegex`) carries the argument's span, so its error points at the
    /// instance.
    pub(super) fn check_regex(&mut self, rhs: &Expr) -> bool {
        let re = match &rhs.kind {
            ExprKind::Lit(Lit::Str(re)) => re,
            ExprKind::Lit(other) => {
                self.error(
                    rhs.span.clone(),
                    format!(
                        "mismatched types: the regex of `matches` is a string, found {}",
                        other.type_word()
                    ),
                    Some("write the regex as a string: `name matches \"^[a-z]+$\"`".to_owned()),
                );
                return false;
            }
            _ => {
                self.error(
                    rhs.span.clone(),
                    "the regex of `matches` must be fixed when the policy compiles".to_owned(),
                    Some(
                        "write a string literal (`name matches \"^[a-z]+$\"`), or a template \
                     parameter, a field of a template record-list parameter or a constant \
                     holding a string; a request attribute cannot be a regex"
                            .to_owned(),
                    ),
                );
                return false;
            }
        };
        match compile_regex(re) {
            Ok(_) => return true,
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
        false
    }
}
