//! First-match groups (issue #13): `group Name first-match [: "intent"] { policy ... }`.

use super::{eat_kw, eat_sym, err_here, expect_sym, ident, intent, policy, In, Label};
use super::{PResult, SyntaxError};
use crate::ast::Group;
use winnow::combinator::cut_err;
use winnow::error::ErrMode;
use winnow::prelude::*;

/// A group, after the `group` keyword.
pub(super) fn group(i: &mut In<'_>) -> PResult<Group> {
    let name = cut_err(ident).context("a group name").parse_next(i)?;
    if name.text.contains('-') {
        return Err(ErrMode::Cut(SyntaxError {
            offset: name.span.start,
            end: Some(name.span.end),
            label: Label::Expected("a group name without `-`"),
            help: None,
        }));
    }
    if eat_kw(i, "first-match")?.is_none() {
        let mut e = err_here(i, Label::Expected("`first-match` after the group name"));
        e.help = Some("groups are ordered: `group Name first-match { policy ... }`".to_owned());
        return Err(ErrMode::Cut(e));
    }
    let intent = if eat_sym(i, ":")?.is_some() {
        intent(i)?
    } else {
        crate::ast::Text::default()
    };
    expect_sym(i, "{", "`{` and the group's policies")?;
    let mut policies = Vec::new();
    loop {
        if eat_sym(i, "}")?.is_some() {
            return Ok(Group {
                name,
                intent,
                policies,
            });
        }
        if eat_kw(i, "policy")?.is_none() {
            return Err(ErrMode::Cut(err_here(
                i,
                Label::Expected("`policy` or `}` closing the group"),
            )));
        }
        // A policy's metadata ends at the first line that is not an entry, such as `}`.
        policies.push(policy(i, None)?);
    }
}
