//! The parser: `.ipe` source text to [`ast::File`], written with winnow over a located input so
//! every node carries its byte span. Recovers at top-level items, so one run reports several
//! syntax errors.

use crate::ast::{self, AggKind, ByteSpan, CmpOp, Expr, ExprKind, Lit, Name, StrOp, Text};
use crate::source;
use ipe_nostd::Effect;
use winnow::combinator::{cut_err, opt};
use winnow::error::{AddContext, ErrMode, ParserError};
use winnow::prelude::*;
use winnow::stream::{LocatingSlice, Location, Stateful, Stream};
use winnow::token::take_while;

mod arith;
mod comments;
mod consts;
mod dynref;
mod group;
mod keys;
mod list_eq;
mod lookup;
mod optional;
mod patterns;
mod ranges;
pub(crate) use list_eq::expand as expand_list_eq;
pub(crate) use ranges::expand_bounds;
mod reason;
mod reuse;
mod schema;
mod strings;
mod time;
mod tparams;

pub use comments::{comments, Comment};

/// Deepest nesting of parentheses, `not` and aggregates the parser accepts (the checker's own
/// limits are much lower; this one only protects the parser's stack).
const MAX_PARSE_DEPTH: u32 = 200;

/// Parser state: current nesting depth, the last string literal that spanned lines, and
/// whether a path being read may end at a `[` that opens no quoted key (after `x in`).
#[derive(Clone, Copy, Debug, Default)]
struct Depth(u32, Option<MultiLine>, bool);

/// A string literal that spanned lines: where it opened, and where the token after it starts.
#[derive(Clone, Copy, Debug)]
struct MultiLine {
    open: usize,
    next: usize,
}

type In<'a> = Stateful<LocatingSlice<&'a str>, Depth>;
type PResult<T> = Result<T, ErrMode<SyntaxError>>;

/// What a syntax error says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Label {
    /// Nothing more specific is known.
    Unknown,
    /// `expected {0}`.
    Expected(&'static str),
    /// A complete message.
    Message(&'static str),
    /// A complete message built from the source.
    Text(String),
}

/// A syntax error at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the offending token starts.
    pub offset: usize,
    /// Where the underline ends, when known (otherwise the offending token's end).
    pub end: Option<usize>,
    /// What went wrong.
    pub label: Label,
    /// How to fix it, when known.
    pub help: Option<String>,
}

impl SyntaxError {
    /// An error underlining `span`, with a message and a help line.
    pub(crate) fn located(
        span: ByteSpan,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        SyntaxError {
            offset: span.start,
            end: Some(span.end),
            label: Label::Text(message.into()),
            help: Some(help.into()),
        }
    }

    /// The user-facing message.
    pub fn message(&self) -> String {
        match &self.label {
            Label::Unknown => "expected a policy, schema or default declaration".to_owned(),
            Label::Expected(what) => format!("expected {what}"),
            Label::Message(m) => (*m).to_owned(),
            Label::Text(m) => m.clone(),
        }
    }

    /// The help line, if any.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The span to underline in `src`.
    pub fn span(&self, src: &str) -> ByteSpan {
        let start = self.offset.min(src.len());
        if let Some(end) = self.end {
            return start..end.clamp(start, src.len());
        }
        let rest = &src[start..];
        let word = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(rest.len(), |(n, _)| n);
        let quoted = rest
            .strip_prefix('"')
            .and_then(|r| r.find('"'))
            .map(|n| n + 2);
        let len = if let Some(q) = quoted {
            q
        } else if word > 0 {
            word
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        start..start + len
    }
}

impl<I: Stream + Location> ParserError<I> for SyntaxError {
    type Inner = Self;

    fn from_input(input: &I) -> Self {
        SyntaxError {
            offset: input.current_token_start(),
            end: None,
            label: Label::Unknown,
            help: None,
        }
    }

    fn or(self, other: Self) -> Self {
        if other.offset > self.offset
            || (other.offset == self.offset && self.label == Label::Unknown)
        {
            other
        } else {
            self
        }
    }

    fn into_inner(self) -> Result<Self::Inner, Self> {
        Ok(self)
    }
}

impl<I: Stream + Location> AddContext<I, &'static str> for SyntaxError {
    fn add_context(mut self, _: &I, _: &<I as Stream>::Checkpoint, what: &'static str) -> Self {
        if self.label == Label::Unknown {
            self.label = Label::Expected(what);
        }
        self
    }
}

/// Parses one file. Returns the items that parsed and every syntax error found; after an error
/// the parser skips to the next line starting with `policy`, `schema`, `default`, `const` or
/// `hierarchy`.
pub fn parse_file(src: &str) -> (ast::File, Vec<SyntaxError>) {
    let mut input = In {
        input: LocatingSlice::new(src),
        state: Depth(0, None, false),
    };
    let mut file = ast::File::default();
    let mut errors = Vec::new();
    let bad = source::bad_chars(src);
    if !bad.is_empty() {
        // Such a character ends a line for some readers and not for others (a comment could
        // swallow the policies after it), so nothing is parsed.
        for b in bad {
            let span = b.offset..b.offset + b.ch.len_utf8();
            errors.push(SyntaxError::located(span, b.message(), b.help()));
        }
        return (file, errors);
    }
    if let Err(e) = ws(&mut input) {
        errors.push(into_error(e, &input));
        return (file, errors);
    }
    while !input.input.is_empty() {
        let start = input.current_token_start();
        let checkpoint = input.checkpoint();
        input.state = Depth(0, None, false);
        match item(&mut input) {
            Ok(it) => file.items.push(it),
            Err(e) => {
                let e = into_error(e, &input);
                errors.push(match input.state.1 {
                    Some(ml) if ml.next == e.offset => unterminated(src, ml),
                    _ => e,
                });
                input.reset(&checkpoint);
                let resume = next_item_start(src, start + 1);
                let _ = input.next_slice(resume - start);
                if ws(&mut input).is_err() {
                    break;
                }
            }
        }
    }
    (file, errors)
}

/// The error for a string literal that spanned lines and was followed by a syntax error right
/// after its closing quote: most likely its own closing quote is missing.
fn unterminated(src: &str, ml: MultiLine) -> SyntaxError {
    let closed_at = ml.next.min(src.len());
    let (line, _) = source::line_col(src, src[..closed_at].rfind('"').unwrap_or(ml.open));
    SyntaxError::located(
        ml.open..ml.open + 1,
        "unterminated string",
        format!("this string runs on to line {line}, where the next `\"` closes it; close it with `\"` where it should end"),
    )
}

fn into_error(e: ErrMode<SyntaxError>, input: &In<'_>) -> SyntaxError {
    match e {
        ErrMode::Backtrack(e) | ErrMode::Cut(e) => e,
        ErrMode::Incomplete(_) => SyntaxError {
            offset: input.current_token_start(),
            end: None,
            label: Label::Expected("more input"),
            help: None,
        },
    }
}

/// The byte offset of the next line (at or after `from`) whose first word is a top-level
/// keyword followed by whitespace, or the end of the text.
fn next_item_start(src: &str, from: usize) -> usize {
    let mut pos = 0;
    for line in src.split_inclusive('\n') {
        let line_start = pos;
        pos += line.len();
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if line_start + indent < from {
            continue;
        }
        for kw in [
            "policy",
            "schema",
            "default",
            "const",
            "hierarchy",
            "def",
            "instance",
            "group",
        ] {
            if let Some(rest) = trimmed.strip_prefix(kw) {
                if rest.starts_with(|c: char| c.is_whitespace() || c == '{') {
                    return line_start + indent;
                }
            }
        }
    }
    src.len()
}

fn err_here(i: &In<'_>, label: Label) -> SyntaxError {
    SyntaxError {
        offset: i.current_token_start(),
        end: None,
        label,
        help: None,
    }
}

/// Whether ASCII byte `c` is whitespace ([`ws`]'s reading of it).
fn blank_byte(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

/// Skips whitespace and comments (`#` to the end of the line).
///
/// Hand-written (issue #15: it runs after every token): whitespace is `char::is_whitespace`,
/// as `str::trim_start` reads it. Inlined for the two common cases, nothing to skip and one
/// space before the next token; [`ws_run`] reads the others.
#[inline]
fn ws(i: &mut In<'_>) -> PResult<()> {
    let b = i.input.as_ref().as_bytes();
    // An ASCII byte that is neither whitespace nor `#` starts the next token.
    let token = |c: Option<&u8>| c.is_some_and(|&c| c.is_ascii() && !blank_byte(c) && c != b'#');
    if token(b.first()) {
        return Ok(());
    }
    if b.first() == Some(&b' ') && token(b.get(1)) {
        let _ = i.next_slice(1);
        return Ok(());
    }
    ws_run(i)
}

/// [`ws`] in full: runs of whitespace and comments.
fn ws_run(i: &mut In<'_>) -> PResult<()> {
    loop {
        let s: &str = i.input.as_ref();
        let b = s.as_bytes();
        // ASCII whitespace a byte at a time; `trim_start` only past a non-ASCII byte.
        let mut blank = 0;
        while b.get(blank).is_some_and(|&c| blank_byte(c)) {
            blank += 1;
        }
        if s.as_bytes().get(blank).is_some_and(|b| !b.is_ascii()) {
            let rest = s.get(blank..).unwrap_or("");
            blank += rest.len() - rest.trim_start().len();
        }
        let rest = s.get(blank..).unwrap_or("");
        let comment = if rest.starts_with('#') {
            rest.find(source::LF).unwrap_or(rest.len())
        } else {
            0
        };
        if blank + comment == 0 {
            return Ok(());
        }
        let _ = i.next_slice(blank + comment);
        // Blanks up to an ASCII byte that starts no comment (most calls): nothing more to
        // skip, no second pass (issue #15).
        if comment == 0 && b.get(blank).is_some_and(|c| c.is_ascii() && *c != b'#') {
            return Ok(());
        }
    }
}

/// Whether each byte may continue an identifier (after its first character): ASCII letters,
/// digits, `_` and `-`. A table (issue #15: the parser tests every byte of every name, most
/// of them several times).
const IDENT_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    t
};

/// Whether `b` may continue an identifier (after its first character).
fn ident_byte(b: u8) -> bool {
    IDENT_BYTES[usize::from(b)]
}

/// The length of the identifier at the start of `s` (0 when none starts there): an ASCII
/// letter or `_`, then ASCII letters, digits, `_` and `-`.
fn ident_len(s: &str) -> usize {
    let b = s.as_bytes();
    match b.first() {
        Some(&c) if c.is_ascii_alphabetic() || c == b'_' => {
            // A plain loop (issue #15: `skip` + `take_while` + `count` compiled to more).
            let mut n = 1;
            while b.get(n).copied().is_some_and(ident_byte) {
                n += 1;
            }
            n
        }
        _ => 0,
    }
}

/// A raw identifier, then whitespace.
fn ident(i: &mut In<'_>) -> PResult<Name> {
    let s: &str = i.input.as_ref();
    let n = ident_len(s);
    if n == 0 {
        return Err(ErrMode::Backtrack(SyntaxError::from_input(i)));
    }
    let start = i.current_token_start();
    let text = Text::new(i.next_slice(n));
    ws(i)?;
    Ok(Name {
        text,
        span: start..start + n,
    })
}

/// Looks at the next identifier without consuming it.
fn peek_word<'a>(i: &In<'a>) -> &'a str {
    let s: &'a str = i.input.as_ref();
    s.get(..ident_len(s)).unwrap_or("")
}

/// Whether keyword `kw` (an identifier) is the next word.
fn at_kw(i: &In<'_>, kw: &str) -> bool {
    let s: &str = i.input.as_ref();
    // The first byte alone rules out most keywords tested (issue #15: no `memcmp` call).
    s.as_bytes().first() == kw.as_bytes().first()
        && s.starts_with(kw)
        && !s.as_bytes().get(kw.len()).copied().is_some_and(ident_byte)
}

/// Consumes keyword `kw` if it is next.
fn eat_kw(i: &mut In<'_>, kw: &str) -> PResult<Option<ByteSpan>> {
    if !at_kw(i, kw) {
        return Ok(None);
    }
    // The keyword is the whole identifier there (`at_kw`): consumed without a copy of its
    // text (issue #15).
    let start = i.current_token_start();
    let _ = i.next_slice(kw.len());
    ws(i)?;
    Ok(Some(start..start + kw.len()))
}

fn expect_kw(i: &mut In<'_>, kw: &str, what: &'static str) -> PResult<ByteSpan> {
    match eat_kw(i, kw)? {
        Some(s) => Ok(s),
        None => Err(ErrMode::Cut(err_here(i, Label::Expected(what)))),
    }
}

fn peek_sym(i: &In<'_>, sym: &str) -> bool {
    let s: &str = i.input.as_ref();
    s.starts_with(sym)
}

/// Consumes symbol `sym` if it is next; returns its span.
fn eat_sym(i: &mut In<'_>, sym: &str) -> PResult<Option<ByteSpan>> {
    if !peek_sym(i, sym) {
        return Ok(None);
    }
    let start = i.current_token_start();
    let _ = i.next_slice(sym.len());
    let end = i.current_token_start();
    ws(i)?;
    Ok(Some(start..end))
}

fn expect_sym(i: &mut In<'_>, sym: &str, what: &'static str) -> PResult<ByteSpan> {
    match eat_sym(i, sym)? {
        Some(s) => Ok(s),
        None => Err(ErrMode::Cut(err_here(i, Label::Expected(what)))),
    }
}

/// A string literal (escapes resolved), then whitespace.
fn string(i: &mut In<'_>) -> PResult<(Text, ByteSpan)> {
    string_lit(i, patterns::Lit::Plain)
}

/// A string literal read as `mode` says (plain, `like` pattern or regex; see
/// `parser/patterns.rs`), then whitespace.
fn string_lit(i: &mut In<'_>, mode: patterns::Lit) -> PResult<(Text, ByteSpan)> {
    let start = i.current_token_start();
    if !peek_sym(i, "\"") {
        return Err(ErrMode::Backtrack(err_here(i, Label::Expected("a string"))));
    }
    let _ = i.next_token();
    let mut out = Text::default();
    let mut lines = false;
    loop {
        let rest: &str = i.input.as_ref();
        // Plain characters in one run (issue #15); quotes, escapes and line ends below.
        let plain = rest
            .bytes()
            .take_while(|b| !matches!(b, b'"' | b'\\' | b'\n' | b'\r'))
            .count();
        if plain > 0 && out.is_empty() && rest.as_bytes().get(plain) == Some(&b'"') {
            // The whole literal is one run (most literals): its text made once (issue #15).
            out = Text::new(i.next_slice(plain));
            let _ = i.next_token();
            break;
        }
        if plain > 0 {
            out.push_str(i.next_slice(plain));
            continue;
        }
        if let Some(n) = source::line_end_at(rest) {
            // CR LF reads as LF: a literal means the same in a CRLF and an LF checkout.
            let _ = i.next_slice(n);
            out.push('\n');
            lines = true;
            continue;
        }
        match i.next_token() {
            None => {
                let src_rest: &str = i.input.as_ref();
                debug_assert!(src_rest.is_empty());
                return Err(ErrMode::Cut(SyntaxError {
                    offset: start,
                    end: Some(start + 1),
                    label: Label::Message("unterminated string"),
                    help: Some("close the string with `\"`".to_owned()),
                }));
            }
            Some('"') => break,
            Some('\\') if mode != patterns::Lit::Plain => {
                let at = i.current_token_start().saturating_sub(1);
                patterns::escape(mode, i.next_token(), &mut out).map_err(|(message, help)| {
                    ErrMode::Cut(SyntaxError::located(at..at + 2, message, help))
                })?;
            }
            Some('\\') => match i.next_token() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                _ => {
                    let at = i.current_token_start().saturating_sub(2);
                    return Err(ErrMode::Cut(SyntaxError {
                        offset: at,
                        end: Some(i.current_token_start()),
                        label: Label::Expected(r#"an escape such as `\"`, `\\`, `\n` or `\t`"#),
                        help: None,
                    }));
                }
            },
            Some(c) => out.push(c),
        }
    }
    let end = i.current_token_start();
    ws(i)?;
    i.state.1 = lines.then(|| MultiLine {
        open: start,
        next: i.current_token_start(),
    });
    Ok((out, start..end))
}

/// An integer literal, then whitespace.
fn integer(i: &mut In<'_>) -> PResult<(i64, ByteSpan)> {
    // Issue #15: up to 18 decimal digits with no `-` before them and no `x` after them (most
    // integers) always fit in an `i64`, read without the combinators below.
    let b = i.input.as_ref().as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if (1..=18).contains(&digits) && b.get(digits) != Some(&b'x') {
        let value = b
            .iter()
            .take(digits)
            .fold(0i64, |v, c| v * 10 + i64::from(c - b'0'));
        let start = i.current_token_start();
        let _ = i.next_slice(digits);
        ws(i)?;
        return Ok((value, start..start + digits));
    }
    let (text, span) = (
        opt('-'),
        take_while(1.., |c: char| c.is_ascii_digit()),
        // Issue #14: hexadecimal `0x12` (the digits after `0x` are taken with the `x`).
        opt(('x', take_while(0.., |c: char| c.is_ascii_hexdigit()))),
    )
        .take()
        .with_span()
        .parse_next(i)?;
    let hex = text
        .trim_start_matches('-')
        .strip_prefix("0x")
        .map(|h| (text.starts_with('-'), h));
    let value = match hex {
        Some((neg, h)) if !h.is_empty() => i128::from_str_radix(h, 16)
            .ok()
            .map(|v| if neg { -v } else { v })
            .and_then(|v| i64::try_from(v).ok())
            .ok_or(()),
        _ => text.parse::<i64>().map_err(|_| ()),
    };
    let value = value.map_err(|()| {
        ErrMode::Cut(SyntaxError {
            offset: span.start,
            end: Some(span.end),
            label: Label::Expected("an integer that fits in 64 bits"),
            help: None,
        })
    })?;
    ws(i)?;
    Ok((value, span))
}

/// A string, integer or boolean literal.
fn literal(i: &mut In<'_>) -> PResult<Option<(Lit, ByteSpan)>> {
    if peek_sym(i, "\"") {
        let (s, span) = string(i)?;
        return Ok(Some((Lit::Str(s), span)));
    }
    let s: &str = i.input.as_ref();
    if s.starts_with(|c: char| c.is_ascii_digit())
        || (s.starts_with('-') && s[1..].starts_with(|c: char| c.is_ascii_digit()))
    {
        let (v, span) = integer(i)?;
        return Ok(Some((Lit::Int(v), span)));
    }
    for (kw, b) in [("true", true), ("false", false)] {
        if let Some(span) = eat_kw(i, kw)? {
            return Ok(Some((Lit::Bool(b), span)));
        }
    }
    Ok(None)
}

/// One or more adjacent strings, joined by one space, whitespace collapsed.
fn intent(i: &mut In<'_>) -> PResult<Text> {
    if !peek_sym(i, "\"") {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("an intent string"),
        )));
    }
    let first = string(i)?.0;
    // One string already in collapsed form (most intents) is kept as it is, with no list
    // of parts (issue #15).
    if !peek_sym(i, "\"") && is_collapsed(&first) {
        return Ok(first);
    }
    let mut parts = vec![first];
    while peek_sym(i, "\"") {
        parts.push(string(i)?.0);
    }
    Ok(collapse_ws(&parts.join(" ")).into())
}

/// Whether [`collapse_ws`] leaves `s` as it is: single spaces between words, no other
/// whitespace, none at the ends.
fn is_collapsed(s: &str) -> bool {
    !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.chars().all(|c| c == ' ' || !c.is_whitespace())
}

/// Collapses whitespace runs to one space and trims the ends.
pub fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn item(i: &mut In<'_>) -> PResult<ast::Item> {
    if let Some(kw) = eat_kw(i, "default")? {
        let effect = if let Some(s) = eat_kw(i, "allow")? {
            (Effect::Allow, s)
        } else if let Some(s) = eat_kw(i, "deny")? {
            (Effect::Deny, s)
        } else {
            return Err(ErrMode::Cut(err_here(
                i,
                Label::Expected("`allow` or `deny`"),
            )));
        };
        return Ok(ast::Item::Default {
            effect: effect.0,
            span: kw.start..effect.1.end,
        });
    }
    if eat_kw(i, "schema")?.is_some() {
        return schema::schema_block(i).map(ast::Item::Schema);
    }
    if eat_kw(i, "policy")?.is_some() {
        if reuse::at_template(i) {
            return reuse::template(i);
        }
        return policy(i, None).map(ast::Item::Policy);
    }
    if let Some(kw) = eat_kw(i, "def")? {
        return reuse::def(i, kw);
    }
    if eat_kw(i, "instance")?.is_some() {
        return reuse::instance(i);
    }
    for (kw, hierarchy) in [("const", false), ("hierarchy", true)] {
        if eat_kw(i, kw)?.is_some() {
            return consts::const_item(i, hierarchy);
        }
    }
    if eat_kw(i, "group")?.is_some() {
        return group::group(i).map(|g| ast::Item::Group(Box::new(g)));
    }
    Err(ErrMode::Cut(err_here(
        i,
        Label::Expected(
            "`policy`, `group`, `schema`, `default`, `def`, `instance`, `const` or `hierarchy`",
        ),
    )))
}

/// A reason and, when it has placeholders, its template parts ([`reason::template`]).
type Reason = (Option<String>, Option<Vec<ast::ReasonPart>>);

fn reason(i: &mut In<'_>) -> PResult<Reason> {
    if eat_kw(i, "with")?.is_none() {
        return Ok((None, None));
    }
    expect_kw(i, "reason", "`reason`")?;
    let base = i.current_token_start();
    let before: &str = i.input.as_ref();
    match string(i) {
        Ok((s, span)) => {
            let raw = before.get(..span.end.saturating_sub(base)).unwrap_or("");
            match reason::template(raw, base).map_err(ErrMode::Cut)? {
                None => Ok((Some(s.to_string()), None)),
                Some((text, parts)) => {
                    let holes = parts
                        .iter()
                        .any(|p| matches!(p, ast::ReasonPart::Hole { .. }));
                    Ok((Some(text), holes.then_some(parts)))
                }
            }
        }
        Err(ErrMode::Backtrack(e)) => Err(ErrMode::Cut(e)),
        Err(e) => Err(e),
    }
}

/// A policy after `policy` (or a template's body after its parameters, `name` given).
fn policy(i: &mut In<'_>, name: Option<Name>) -> PResult<ast::Policy> {
    let name = match name {
        Some(n) => n,
        None => cut_err(ident).context("a policy name").parse_next(i)?,
    };
    if name.text.contains('-') {
        return Err(ErrMode::Cut(SyntaxError {
            offset: name.span.start,
            end: Some(name.span.end),
            label: Label::Expected("a policy name without `-`"),
            help: None,
        }));
    }
    expect_sym(i, ":", "`:` after the policy name")?;
    let intent = intent(i)?;
    let trigger = if eat_kw(i, "triggers")?.is_some() {
        expect_kw(i, "when", "`when`")?;
        Some(expr(i)?)
    } else {
        None
    };
    let (body, reason_template) = if eat_kw(i, "requires")?.is_some() {
        let expr = expr(i)?;
        let (reason, template) = reason(i)?;
        (ast::Body::Requires { expr, reason }, template)
    } else if eat_kw(i, "denies")?.is_some() {
        let (reason, template) = reason(i)?;
        (ast::Body::Denies { reason }, template)
    } else if eat_kw(i, "permits")?.is_some() {
        let (reason, template) = reason(i)?;
        (ast::Body::Permits { reason }, template)
    } else if trigger.is_some() {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("`requires`, `denies` or `permits`"),
        )));
    } else {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("`triggers when`, `requires`, `denies` or `permits`"),
        )));
    };
    let mut metadata = Vec::new();
    if eat_kw(i, "metadata")?.is_some() {
        loop {
            let s: &str = i.input.as_ref();
            let word = peek_word(i);
            if word.is_empty() || !s[word.len()..].trim_start().starts_with(':') {
                break;
            }
            let key = ident(i)?;
            expect_sym(i, ":", "`:`")?;
            match literal(i)? {
                Some((lit, _)) => metadata.push((key, lit)),
                None => {
                    return Err(ErrMode::Cut(err_here(
                        i,
                        Label::Expected("a string, integer or boolean"),
                    )))
                }
            }
        }
    }
    Ok(ast::Policy {
        name,
        intent,
        trigger,
        body,
        metadata,
        reason_template,
    })
}

/// Words that never start a path.
const RESERVED: [&str; 8] = ["and", "or", "not", "in", "has", "where", "true", "false"];

/// A path: an identifier, then `.name` or `["key"]` segments (any identifier may follow a
/// `.`; a quoted key, written right after the previous segment, may be any string). The text
/// is the canonical encoding of its keys ([`ipe_nostd::path`]), so `a["b"]` is `a.b`.
fn path(i: &mut In<'_>) -> PResult<Name> {
    let s: &str = i.input.as_ref();
    // The first name is read once (issue #15); no reserved word is longer than five bytes.
    let first = ident_len(s);
    if first <= 5 && RESERVED.contains(&s.get(..first).unwrap_or("")) {
        return Err(ErrMode::Backtrack(err_here(
            i,
            Label::Expected("an attribute path"),
        )));
    }
    if let Some(n) = plain_path_len(s, first) {
        // Issue #15: dotted names only, nothing after them that continues a path: the text
        // is the source's, copied once.
        let start = i.current_token_start();
        let text = Text::new(i.next_slice(n));
        ws(i)?;
        return Ok(Name {
            text,
            span: start..start + n,
        });
    }
    let mut first = ident(i)?;
    // Room for the dotted names that follow: one allocation for most paths (issue #15).
    let s: &str = i.input.as_ref();
    if s.starts_with('.') {
        let more = s
            .bytes()
            .take_while(|&b| ident_byte(b) || b == b'.')
            .count();
        first.text.reserve(more);
    }
    path_rest(i, first)
}

/// The length of the path at the start of `s` when it is identifiers joined by `.` (no spaces,
/// no quoted keys) and what follows cannot continue it: not `.` or `[` right after it, and
/// after ASCII whitespace neither `.` nor a comment or a non-ASCII character ([`ws`] and
/// [`path_rest`] decide those). `None` when [`path_rest`] must read it. `first` is
/// [`ident_len`] of `s`.
fn plain_path_len(s: &str, first: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut n = first;
    if n == 0 {
        return None;
    }
    while b.get(n) == Some(&b'.') {
        let seg = ident_len(s.get(n + 1..).unwrap_or(""));
        if seg == 0 {
            return None;
        }
        n += 1 + seg;
    }
    if matches!(b.get(n), Some(b'.' | b'[')) {
        return None;
    }
    let mut end = n;
    while b.get(end).is_some_and(|&c| blank_byte(c)) {
        end += 1;
    }
    match b.get(end) {
        Some(c) if *c == b'.' || *c == b'#' || !c.is_ascii() => None,
        _ => Some(n),
    }
}

/// The path after `x in`: like [`path`], but a `[` that does not open a quoted key ends it
/// (the caller reads `M[y]`, a map constant's list picked by a request value).
fn selection_path(i: &mut In<'_>) -> PResult<Name> {
    i.state.2 = true;
    let r = path(i);
    i.state.2 = false;
    r
}

/// A record field's path: like [`path`], but it may also begin with a quoted key
/// (`["app.kubernetes.io/name"]: string`).
fn field_path(i: &mut In<'_>) -> PResult<Name> {
    if !peek_sym(i, "[\"") {
        return path(i);
    }
    let start = i.current_token_start();
    let (key, close) = quoted_key(i)?;
    let mut text = Text::default();
    let _ = ipe_nostd::path::write_segment(&mut text, &key, true);
    path_rest(
        i,
        Name {
            text,
            span: start..close.end,
        },
    )
}

/// The `.name` and `["key"]` segments after the first one of a path.
fn path_rest(i: &mut In<'_>, first: Name) -> PResult<Name> {
    let mut text = first.text;
    let mut span = first.span;
    loop {
        if peek_sym(i, ".") {
            let _ = i.next_token();
            ws(i)?;
            let seg = cut_err(ident).context("a name after `.`").parse_next(i)?;
            text.push('.');
            text.push_str(&seg.text);
            span.end = seg.span.end;
        } else if peek_sym(i, "[\"") && i.current_token_start() == span.end {
            let (key, close) = quoted_key(i)?;
            // Writing to a `String` cannot fail.
            let _ = ipe_nostd::path::write_segment(&mut text, &key, false);
            span.end = close.end;
        } else if i.current_token_start() == span.end && keys::index_follows(i) {
            // Positional list access (session 7): `xs[2]`, `xs[-1]`.
            let (index, end) = keys::index(i);
            text.push_str(&index);
            span.end = end;
            ws(i)?;
        } else if peek_sym(i, "[") && i.current_token_start() == span.end && !i.state.2 {
            return Err(ErrMode::Cut(keys::dynamic_key_error(i, &text)));
        } else {
            break;
        }
    }
    Ok(Name { text, span })
}

/// `["key"]`: a quoted path segment (escapes resolved), then whitespace.
fn quoted_key(i: &mut In<'_>) -> PResult<(Text, ByteSpan)> {
    let _ = eat_sym(i, "[")?;
    let (key, _) = string(i)?;
    let close = expect_sym(i, "]", "`]` after the quoted key")?;
    Ok((key, close))
}

fn enter(i: &mut In<'_>) -> PResult<()> {
    i.state.0 += 1;
    if i.state.0 > MAX_PARSE_DEPTH {
        return Err(ErrMode::Cut(err_here(
            i,
            Label::Expected("less deeply nested expressions"),
        )));
    }
    Ok(())
}

/// A full expression: `or`-expression, optionally followed by `where F`.
fn expr(i: &mut In<'_>) -> PResult<Expr> {
    enter(i)?;
    let result = expr_inner(i);
    i.state.0 -= 1;
    result
}

fn expr_inner(i: &mut In<'_>) -> PResult<Expr> {
    let e = or_expr(i)?;
    if let Some(kw) = eat_kw(i, "where")? {
        let filter = expr(i)?;
        let span = e.span.start..filter.span.end;
        return Ok(Expr {
            kind: ExprKind::Where {
                expr: Box::new(e),
                kw,
                filter: Box::new(filter),
            },
            span,
        });
    }
    Ok(e)
}

fn or_expr(i: &mut In<'_>) -> PResult<Expr> {
    let first = and_expr(i)?;
    // One operand (most of them) needs no list (issue #15).
    if !at_kw(i, "or") {
        return Ok(first);
    }
    let mut parts = operands(first);
    while eat_kw(i, "or")?.is_some() {
        parts.push(and_expr(i)?);
    }
    Ok(join(parts, ExprKind::Or))
}

fn and_expr(i: &mut In<'_>) -> PResult<Expr> {
    let first = not_expr(i)?;
    if !at_kw(i, "and") {
        return Ok(first);
    }
    let mut parts = operands(first);
    while eat_kw(i, "and")?.is_some() {
        parts.push(not_expr(i)?);
    }
    Ok(join(parts, ExprKind::And))
}

/// The operand list of an `and`/`or` with at least two operands, room for two (issue #15:
/// a `Vec`'s first growth would keep room for four 152-byte expressions).
fn operands(first: Expr) -> Vec<Expr> {
    let mut parts = Vec::with_capacity(2);
    parts.push(first);
    parts
}

fn join(mut parts: Vec<Expr>, f: fn(Vec<Expr>) -> ExprKind) -> Expr {
    if parts.len() == 1 {
        if let Some(e) = parts.pop() {
            return e;
        }
    }
    let start = parts.first().map_or(0, |e| e.span.start);
    let end = parts.last().map_or(0, |e| e.span.end);
    Expr {
        kind: f(parts),
        span: start..end,
    }
}

fn not_expr(i: &mut In<'_>) -> PResult<Expr> {
    if let Some(kw) = eat_kw(i, "not")? {
        enter(i)?;
        let inner = not_expr(i);
        i.state.0 -= 1;
        let inner = inner?;
        let span = kw.start..inner.span.end;
        return Ok(Expr {
            kind: ExprKind::Not(Box::new(inner)),
            span,
        });
    }
    comparison(i)
}

const CMP_OPS: [(&str, CmpOp); 6] = [
    ("==", CmpOp::Eq),
    ("!=", CmpOp::Ne),
    ("<=", CmpOp::Le),
    (">=", CmpOp::Ge),
    ("<", CmpOp::Lt),
    (">", CmpOp::Gt),
];

const STR_OPS: [(&str, StrOp); 3] = [
    ("starts_with", StrOp::StartsWith),
    ("ends_with", StrOp::EndsWith),
    ("contains", StrOp::Contains),
];

fn comparison(i: &mut In<'_>) -> PResult<Expr> {
    if let Some(kw) = eat_kw(i, "has")? {
        // Issue #13: `has m[k]`, an entry of a map under a key read at run time.
        let p = match cut_err(lookup::path_or_lookup)
            .context("an attribute path after `has`")
            .parse_next(i)?
        {
            Ok(p) => p,
            Err(Expr {
                kind: ExprKind::Lookup(mut l),
                span,
            }) => {
                l.has = true;
                return Ok(Expr {
                    kind: ExprKind::Lookup(l),
                    span: kw.start..span.end,
                });
            }
            Err(other) => return Ok(other),
        };
        let span = kw.start..p.span.end;
        return Ok(Expr {
            kind: ExprKind::Has(p),
            span,
        });
    }
    let (base, base_off): (&str, usize) = (i.input.as_ref(), i.current_token_start());
    let text = |span: &ByteSpan| {
        base.get(span.start - base_off..span.end - base_off)
            .unwrap_or("")
    };
    let lhs = arith::operand(i)?;
    foreign_after_operand(i)?;
    // Every comparison operator starts with one of these (issue #15: the others skip the
    // six tests).
    let at_cmp = |i: &In<'_>| {
        let s: &str = i.input.as_ref();
        matches!(s.as_bytes().first(), Some(b'=' | b'!' | b'<' | b'>'))
    };
    for (sym, op) in if at_cmp(i) { &CMP_OPS[..] } else { &[] } {
        let op = *op;
        if let Some(op_span) = eat_sym(i, sym)? {
            if let Some(e) = list_eq::list_eq(i, &lhs, op, &op_span)? {
                foreign_after_operand(i)?;
                return Ok(e);
            }
            let rhs = arith::operand(i)?;
            if let Some((sym2, _)) = CMP_OPS
                .iter()
                .filter(|_| at_cmp(i))
                .find(|(s, _)| peek_sym(i, s))
            {
                let at = i.current_token_start();
                let _ = i.next_slice(sym2.len());
                ws(i)?;
                let next = arith::operand(i)
                    .map_or_else(|_| "...".to_owned(), |e| text(&e.span).to_owned());
                let mid = text(&rhs.span);
                return Err(ErrMode::Cut(SyntaxError::located(
                    at..at + sym2.len(),
                    "comparisons do not chain",
                    format!(
                        "write `{} {} {mid} and {mid} {sym2} {next}`",
                        text(&lhs.span),
                        text(&op_span)
                    ),
                )));
            }
            foreign_after_operand(i)?;
            let span = lhs.span.start..rhs.span.end;
            return Ok(Expr {
                kind: ExprKind::cmp(op, lhs, rhs),
                span,
            });
        }
    }
    let lhs = match patterns::operator(i, lhs)? {
        Ok(e) => return Ok(e),
        Err(lhs) => lhs,
    };
    for (kw, op) in STR_OPS {
        if eat_kw(i, kw)?.is_some() {
            let rhs = arith::operand(i)?;
            foreign_after_operand(i)?;
            let span = lhs.span.start..rhs.span.end;
            return Ok(Expr {
                kind: ExprKind::Str {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            });
        }
    }
    let lhs = match consts::set_op(i, lhs)? {
        Ok(e) => return Ok(e),
        Err(lhs) => lhs,
    };
    if eat_kw(i, "in")?.is_some() {
        if ranges::at_range(i) {
            let r = ranges::range(i)?;
            let end = i.current_token_start();
            let span = lhs.span.start..end;
            return Ok(ranges::expand(lhs, Vec::new(), &[r], span));
        }
        if ranges::at_str_range(i) {
            // Issue #14: a range of ip addresses, `src in "10.0.0.1".."10.0.0.99"`.
            let r = ranges::str_range(i)?;
            let end = i.current_token_start();
            let span = lhs.span.start..end;
            return Ok(ranges::expand_all(lhs, Vec::new(), &[], &[r], span));
        }
        if eat_sym(i, "[")?.is_some() {
            let mut items = Vec::new();
            let mut spans = Vec::new();
            let mut strs = Vec::new();
            loop {
                if let Some(close) = eat_sym(i, "]")? {
                    let span = lhs.span.start..close.end;
                    if !spans.is_empty() || !strs.is_empty() {
                        return Ok(ranges::expand_all(lhs, items, &spans, &strs, span));
                    }
                    return Ok(Expr {
                        kind: ExprKind::InSet {
                            lhs: Box::new(lhs),
                            items,
                        },
                        span,
                    });
                }
                if ranges::at_range(i) {
                    spans.push(ranges::range(i)?);
                    if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
                        return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
                    }
                    continue;
                }
                if ranges::at_str_range(i) {
                    strs.push(ranges::str_range(i)?);
                    if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
                        return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
                    }
                    continue;
                }
                match literal(i)? {
                    Some(item) => items.push(item),
                    None => return Err(ErrMode::Cut(err_here(i, Label::Expected("a literal")))),
                }
                if eat_sym(i, ",")?.is_none() && !peek_sym(i, "]") {
                    return Err(ErrMode::Cut(err_here(i, Label::Expected("`,` or `]`"))));
                }
            }
        }
        let list = cut_err(selection_path)
            .context("a list literal `[...]` or a list path")
            .parse_next(i)?;
        let list = match consts::data_selection(i, list)? {
            Ok((data, end)) => {
                let span = lhs.span.start..end;
                return Ok(Expr {
                    kind: ExprKind::InData {
                        lhs: Box::new(lhs),
                        data: Box::new(data),
                    },
                    span,
                });
            }
            Err(list) => list,
        };
        let span = lhs.span.start..list.span.end;
        return Ok(Expr {
            kind: ExprKind::InPath {
                lhs: Box::new(lhs),
                list,
            },
            span,
        });
    }
    Ok(lhs)
}

/// Symbols of other languages' operators, and how this one writes them.
const FOREIGN_OPS: [(&str, &str); 5] = [
    ("&&", "and"),
    ("||", "or"),
    ("===", "=="),
    ("!==", "!="),
    ("<>", "!="),
];

/// Operators other languages have and this one does not, after an operand: each gets its own
/// message and help instead of a generic "expected".
fn foreign_after_operand(i: &mut In<'_>) -> PResult<()> {
    let s: &str = i.input.as_ref();
    let at = i.current_token_start();
    let found = |len: usize, message: &str, help: &str| {
        Err(ErrMode::Cut(SyntaxError::located(
            at..at + len,
            message,
            help,
        )))
    };
    // Each symbol below starts with one of these (issue #15: other operands skip them).
    let symbols = matches!(s.as_bytes().first(), Some(b'&' | b'|' | b'=' | b'!' | b'<'));
    for (sym, good) in if symbols { &FOREIGN_OPS[..] } else { &[] } {
        let (sym, good) = (*sym, *good);
        if s.starts_with(sym) {
            return found(
                sym.len(),
                &format!("unknown operator `{sym}`"),
                &format!("`{sym}` is written `{good}`"),
            );
        }
    }
    if s.starts_with('=') && !s.starts_with("==") {
        return found(1, "unknown operator `=`", "equality is written `==`");
    }
    // Each word below starts with one of these (issue #15: other operands skip the word).
    if !matches!(s.as_bytes().first(), Some(b'i' | b'g' | b'r' | b'm' | b'n')) {
        return Ok(());
    }
    let word = peek_word(i);
    match word {
        "ilike" | "glob" | "regex" | "matches_regex" => found(
            word.len(),
            &format!("unknown operator `{word}`"),
            "write a glob as `x like \"*.example.com\"` and a regular expression as \
             `x matches \"^[a-z]+$\"`",
        ),
        "not" if followed_by_in(s) => found(
            3,
            "`not in` is not an operator",
            "negate the whole test: `not x in [...]`",
        ),
        "is" => found(
            2,
            "unknown operator `is`",
            "compare with `==` or `!=`, and test presence with `has path`",
        ),
        _ => Ok(()),
    }
}

/// Whether `s` (starting with `not`) continues with the word `in`.
fn followed_by_in(s: &str) -> bool {
    let rest = s.get(3..).unwrap_or("").trim_start();
    rest.strip_prefix("in").is_some_and(|r| {
        !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// Whether the next word can only start a path: a word other than `now`, `true` and
/// `false` not followed by `(` (every other built-in [`primary`] tries needs one).
fn at_plain_word(i: &In<'_>) -> bool {
    let word = peek_word(i);
    let s: &str = i.input.as_ref();
    !word.is_empty()
        && !matches!(word, "now" | "true" | "false")
        && !s
            .get(word.len()..)
            .unwrap_or("")
            .trim_start()
            .starts_with('(')
}

fn primary(i: &mut In<'_>) -> PResult<Expr> {
    if let Some(e) = plain_operand(i)? {
        return Ok(e);
    }
    if at_plain_word(i) {
        // Issue #15: none of the literals and built-ins below can match.
        return path_operand(i);
    }
    if peek_sym(i, "!") && !peek_sym(i, "!=") {
        let at = i.current_token_start();
        return Err(ErrMode::Cut(SyntaxError::located(
            at..at + 1,
            "unknown operator `!`",
            "`!` is written `not`",
        )));
    }
    if let Some(open) = eat_sym(i, "(")? {
        let inner = expr(i)?;
        let close = expect_sym(i, ")", "`)`")?;
        return Ok(Expr {
            kind: ExprKind::Paren(Box::new(inner)),
            span: open.start..close.end,
        });
    }
    if let Some(e) = time::duration_literal(i)? {
        return Ok(e);
    }
    if let Some((lit, span)) = literal(i)? {
        return Ok(Expr {
            kind: ExprKind::Lit(lit),
            span,
        });
    }
    let word = peek_word(i);
    if let Some(e) = time::builtin(i, word)? {
        return Ok(e);
    }
    let agg = match word {
        "count" => Some(AggKind::Count),
        "any" => Some(AggKind::Any),
        "all" => Some(AggKind::All),
        _ => None,
    };
    if let Some(kind) = agg {
        let s: &str = i.input.as_ref();
        if s[word.len()..].trim_start().starts_with('(') {
            return aggregate(i, kind);
        }
    }
    if let Some(e) = arith::builtin(i)? {
        return Ok(e);
    }
    if let Some(e) = strings::builtin(i)? {
        return Ok(e);
    }
    path_operand(i)
}

/// The most common operands read directly (issue #15), `None` for any other: a string
/// literal, a decimal integer of up to 18 digits not followed by a letter, and a path of
/// dotted names (not `now`, `true`, `false` or a reserved word) that
/// [`plain_path_len`] reads whole and that no `(` follows. [`primary`] reads both the same
/// through its other tests.
fn plain_operand(i: &mut In<'_>) -> PResult<Option<Expr>> {
    let s: &str = i.input.as_ref();
    if s.starts_with('"') {
        let (text, span) = string(i)?;
        return Ok(Some(Expr {
            kind: ExprKind::Lit(Lit::Str(text)),
            span,
        }));
    }
    // A decimal integer as `integer` reads it, where no letter after it makes it a duration
    // (`30d`) or a hexadecimal integer (`0x1f`).
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        if !(1..=18).contains(&digits)
            || s.as_bytes()
                .get(digits)
                .is_some_and(u8::is_ascii_alphabetic)
        {
            return Ok(None);
        }
        let (value, span) = integer(i)?;
        return Ok(Some(Expr {
            kind: ExprKind::Lit(Lit::Int(value)),
            span,
        }));
    }
    let first = ident_len(s);
    let word = s.get(..first).unwrap_or("");
    if first <= 5 && (RESERVED.contains(&word) || matches!(word, "now" | "true" | "false")) {
        return Ok(None);
    }
    let Some(n) = plain_path_len(s, first) else {
        return Ok(None);
    };
    // `plain_path_len` saw only ASCII blanks before the next token: a `(` there makes a call.
    let b = s.as_bytes();
    let mut next = n;
    while b.get(next).is_some_and(|&c| blank_byte(c)) {
        next += 1;
    }
    if b.get(next) == Some(&b'(') {
        return Ok(None);
    }
    let start = i.current_token_start();
    let text = Text::new(i.next_slice(n));
    ws(i)?;
    let span = start..start + n;
    Ok(Some(Expr {
        kind: ExprKind::Path(Name {
            text,
            span: span.clone(),
        }),
        span,
    }))
}

/// A path, a lookup `m[k]` or a call of a `def` as an operand.
fn path_operand(i: &mut In<'_>) -> PResult<Expr> {
    match lookup::path_or_lookup(i) {
        Ok(Err(e)) => Ok(e),
        Ok(Ok(p)) if !p.text.contains('.') && peek_sym(i, "(") => {
            let _ = eat_sym(i, "(")?;
            enter(i)?;
            let args = reuse::call_args(i);
            i.state.0 -= 1;
            let (args, close) = args?;
            Ok(Expr {
                span: p.span.start..close.end,
                kind: ExprKind::Call {
                    name: Box::new(p),
                    args,
                },
            })
        }
        Ok(Ok(p)) if peek_sym(i, "(") => Err(ErrMode::Cut(SyntaxError::located(
            p.span.clone(),
            "functions are not part of the language (yet)",
            format!(
                "`{}` is read as an attribute path; only `count`, `any` and `all` take parentheses",
                p.text
            ),
        ))),
        Ok(Ok(p)) => Ok(Expr {
            span: p.span.clone(),
            kind: ExprKind::Path(p),
        }),
        Err(ErrMode::Cut(e)) => Err(ErrMode::Cut(e)),
        Err(_) => Err(ErrMode::Cut(err_here(i, Label::Expected("an expression")))),
    }
}

/// The rest of `count(k, v in map [where F])` (and `any`, `all`) after `k,` (issue 13).
fn map_aggregate(i: &mut In<'_>, kind: AggKind, start: usize, key: Name) -> PResult<Expr> {
    let value = cut_err(ident)
        .context("a name for the value")
        .parse_next(i)?;
    expect_kw(i, "in", "`in`")?;
    let map = cut_err(path).context("a map path").parse_next(i)?;
    let filter = if eat_kw(i, "where")?.is_some() {
        Some(Box::new(expr(i)?))
    } else if kind == AggKind::Count {
        None
    } else {
        return Err(ErrMode::Cut(err_here(i, Label::Expected("`where`"))));
    };
    let close = expect_sym(i, ")", "`)`")?;
    Ok(Expr {
        kind: ExprKind::MapAgg {
            kind,
            key: Box::new(key),
            value: Box::new(value),
            map: Box::new(map),
            filter,
        },
        span: start..close.end,
    })
}

fn aggregate(i: &mut In<'_>, kind: AggKind) -> PResult<Expr> {
    let kw = ident(i)?;
    expect_sym(i, "(", "`(`")?;
    let var = cut_err(ident).context("an element name").parse_next(i)?;
    if eat_sym(i, ",")?.is_some() {
        return map_aggregate(i, kind, kw.span.start, var);
    }
    expect_kw(i, "in", "`in`")?;
    let list = cut_err(path).context("a list path").parse_next(i)?;
    let mut lists = Vec::new();
    while eat_sym(i, ",")?.is_some() {
        lists.push(cut_err(path).context("a list path").parse_next(i)?);
    }
    let filter = if eat_kw(i, "where")?.is_some() {
        Some(Box::new(expr(i)?))
    } else if kind == AggKind::Count {
        None
    } else {
        return Err(ErrMode::Cut(err_here(i, Label::Expected("`where`"))));
    };
    let close = expect_sym(i, ")", "`)`")?;
    if !lists.is_empty() {
        lists.insert(0, list);
        return Ok(Expr {
            kind: ExprKind::AggLists {
                kind,
                var: Box::new(var),
                lists,
                filter,
            },
            span: kw.span.start..close.end,
        });
    }
    Ok(Expr {
        kind: ExprKind::Agg {
            kind,
            var: Box::new(var),
            list: Box::new(list),
            filter,
        },
        span: kw.span.start..close.end,
    })
}
