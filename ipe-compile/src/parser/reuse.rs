//! Reuse items: `def`, `policy template` and `instance` (issue #13), and the argument lists of
//! def calls.

use super::{
    eat_kw, eat_sym, err_here, expect_kw, expect_sym, expr, ident, literal, path, peek_sym, policy,
    In, Label, PResult, SyntaxError,
};
use crate::ast::{self, ArgValue, DefBody, Expr, Param, ParamTy, ScalarTy};
use winnow::combinator::cut_err;
use winnow::error::ErrMode;
use winnow::prelude::*;
use winnow::stream::Location;

/// A `def` item, after the `def` keyword:
/// `def name [(p, ...)] = expr` or `def name [(p, ...)] = path, path, ...`.
pub(super) fn def(i: &mut In<'_>, kw: ast::ByteSpan) -> PResult<ast::Item> {
    let name = cut_err(ident).context("a def name").parse_next(i)?;
    no_dash(&name, "a def name without `-`")?;
    let mut params = Vec::new();
    if eat_sym(i, "(")?.is_some() && eat_sym(i, ")")?.is_none() {
        loop {
            let p = cut_err(ident).context("a parameter name").parse_next(i)?;
            no_dash(&p, "a parameter name without `-`")?;
            params.push(p);
            if eat_sym(i, ")")?.is_some() {
                break;
            }
            expect_sym(i, ",", "`,` or `)`")?;
        }
    }
    expect_sym(i, "=", "`=` after the def name")?;
    let first = expr(i)?;
    let body = if peek_sym(i, ",") {
        let ast::ExprKind::Path(p) = first.kind else {
            return Err(ErrMode::Cut(SyntaxError::located(
                first.span,
                "a list union names list paths",
                "write `def name = list1, list2` with attribute paths only",
            )));
        };
        let mut lists = vec![p];
        while eat_sym(i, ",")?.is_some() {
            lists.push(cut_err(path).context("a list path").parse_next(i)?);
        }
        DefBody::Lists(lists)
    } else {
        DefBody::Expr(first)
    };
    let end = match &body {
        DefBody::Expr(e) => e.span.end,
        DefBody::Lists(l) => l.last().map_or(kw.end, |n| n.span.end),
    };
    Ok(ast::Item::Def(Box::new(ast::Def {
        name,
        params,
        body,
        span: kw.start..end,
    })))
}

fn no_dash(name: &ast::Name, what: &'static str) -> PResult<()> {
    if name.text.contains('-') {
        return Err(ErrMode::Cut(SyntaxError {
            offset: name.span.start,
            end: Some(name.span.end),
            label: Label::Expected(what),
            help: None,
        }));
    }
    Ok(())
}

/// Whether the input, right after `policy`, is `template Name`: a template rather than a policy
/// named `template`.
pub(super) fn at_template(i: &In<'_>) -> bool {
    let s: &str = i.input.as_ref();
    s.strip_prefix("template")
        .is_some_and(|r| r.starts_with(char::is_whitespace) && !r.trim_start().starts_with(':'))
}

/// A template, after `policy template`: `Name(p: type, ...): <policy body>`.
pub(super) fn template(i: &mut In<'_>) -> PResult<ast::Item> {
    let _ = ident(i)?; // `template`
    let name = cut_err(ident).context("a template name").parse_next(i)?;
    no_dash(&name, "a template name without `-`")?;
    expect_sym(i, "(", "`(` and the template's parameters")?;
    let mut params = Vec::new();
    if eat_sym(i, ")")?.is_none() {
        loop {
            let pname = cut_err(ident).context("a parameter name").parse_next(i)?;
            no_dash(&pname, "a parameter name without `-`")?;
            expect_sym(i, ":", "`:` and the parameter's type")?;
            let ty = param_ty(i)?;
            params.push(Param { name: pname, ty });
            if eat_sym(i, ")")?.is_some() {
                break;
            }
            expect_sym(i, ",", "`,` or `)`")?;
        }
    }
    let p = policy(i, Some(name))?;
    Ok(ast::Item::Template(Box::new(ast::Template {
        params,
        policy: p,
    })))
}

fn scalar_ty(i: &mut In<'_>) -> PResult<Option<ScalarTy>> {
    Ok(if eat_kw(i, "string")?.is_some() {
        Some(ScalarTy::Str)
    } else if eat_kw(i, "int")?.is_some() {
        Some(ScalarTy::Int)
    } else if eat_kw(i, "bool")?.is_some() {
        Some(ScalarTy::Bool)
    } else {
        None
    })
}

fn param_ty(i: &mut In<'_>) -> PResult<ParamTy> {
    let list = eat_kw(i, "list")?.is_some();
    if list {
        expect_kw(i, "of", "`of`")?;
        if eat_sym(i, "{")?.is_some() {
            return Ok(ParamTy::Records(super::tparams::record_fields(
                i, scalar_ty,
            )?));
        }
    }
    let Some(scalar) = scalar_ty(i)? else {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected(
                "`string`, `int`, `bool`, `list of` one of them or `list of { field: type, ... }`",
            ),
        )));
    };
    Ok(if list {
        ParamTy::List(scalar)
    } else {
        ParamTy::Scalar(scalar)
    })
}

/// An instance, after `instance`: `Name = Template(param: value, ...)`.
pub(super) fn instance(i: &mut In<'_>) -> PResult<ast::Item> {
    let name = cut_err(ident).context("an instance name").parse_next(i)?;
    no_dash(&name, "an instance name without `-`")?;
    expect_sym(i, "=", "`=` after the instance name")?;
    let template = cut_err(ident).context("a template name").parse_next(i)?;
    expect_sym(i, "(", "`(` and the template's arguments")?;
    let mut args = Vec::new();
    if eat_sym(i, ")")?.is_none() {
        loop {
            let key = cut_err(ident).context("a parameter name").parse_next(i)?;
            expect_sym(i, ":", "`:` after the parameter name")?;
            let start = i.current_token_start();
            let end;
            let value = if eat_sym(i, "[")?.is_some() {
                if peek_sym(i, "{") {
                    let (records, close) = super::tparams::record_list(i)?;
                    end = close;
                    ArgValue::Records(records)
                } else {
                    let mut items = Vec::new();
                    loop {
                        if let Some(close) = eat_sym(i, "]")? {
                            end = close.end;
                            break;
                        }
                        match literal(i)? {
                            Some(item) => items.push(item),
                            None => {
                                return Err(ErrMode::Cut(err_here(i, Label::Expected("a literal"))))
                            }
                        }
                        if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
                            return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
                        }
                    }
                    ArgValue::List(items)
                }
            } else {
                match literal(i)? {
                    Some((lit, span)) => {
                        end = span.end;
                        ArgValue::Lit(lit)
                    }
                    None => {
                        return Err(ErrMode::Cut(err_here(
                            i,
                            Label::Expected("a literal or a list `[...]`"),
                        )))
                    }
                }
            };
            args.push((key, value, start..end));
            if eat_sym(i, ")")?.is_some() {
                break;
            }
            expect_sym(i, ",", "`,` or `)`")?;
        }
    }
    Ok(ast::Item::Instance(Box::new(ast::Instance {
        name,
        template,
        args,
    })))
}

/// The arguments of a call, after its name and `(`: expressions separated by `,`, then `)`.
pub(super) fn call_args(i: &mut In<'_>) -> PResult<(Vec<Expr>, ast::ByteSpan)> {
    let mut args = Vec::new();
    if let Some(close) = eat_sym(i, ")")? {
        return Ok((args, close));
    }
    loop {
        args.push(expr(i)?);
        if let Some(close) = eat_sym(i, ")")? {
            return Ok((args, close));
        }
        expect_sym(i, ",", "`,` or `)`")?;
    }
}
