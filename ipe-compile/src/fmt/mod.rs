//! The canonical layout of `.ipe` sources (`ipe fmt`, see `docs/fmt.md`).
//!
//! The formatter works on the source's tokens, guided by the parser's acceptance of the file:
//! it re-indents every line from its place in the grammar (items at column 0, policy clauses
//! at 2, continuation lines at 4, two more per open bracket), breaks lines wider than
//! [`WIDTH`] before the top-level `or` (else `and`) operators of their chain, aligns trailing
//! comments of consecutive lines, aligns the types of consecutive schema fields, keeps one
//! blank line between items that span several lines (and at most one anywhere), and keeps
//! every token's text, every comment and the author's line breaks. Between two tokens of a
//! line it writes the canonical spacing of `canon.rs`, which also gives the clause texts of
//! decisions ([`canonical_text`]), so formatting never changes a decision.

mod canon;
mod lex;

pub(crate) use canon::canonical_inline;
pub use canon::canonical_text;

use crate::parser::{self, SyntaxError};
use lex::{Kind, Tok};

/// The line width beyond which `and` / `or` chains are broken.
pub const WIDTH: usize = 100;

/// Formats one source, or returns its syntax errors (a source that does not parse is not
/// formatted).
pub fn format_source(src: &str) -> Result<String, Vec<SyntaxError>> {
    let (_, errors) = parser::parse_file(src);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(layout(&lex::tokens(src)))
}

/// Words that start a top-level item.
const ITEMS: [&str; 8] = [
    "policy",
    "schema",
    "default",
    "const",
    "hierarchy",
    "def",
    "instance",
    "group",
];

/// Words after which a word at the start of a line continues an expression.
const OPERATORS: [&str; 16] = [
    "and",
    "or",
    "in",
    "where",
    "not",
    "has",
    "contains",
    "starts_with",
    "ends_with",
    "like",
    "matches",
    "contains_all",
    "contains_any",
    "intersects",
    "subset_of",
    "with",
];

/// An open bracket.
struct Frame {
    /// The indentation of the line that opened it.
    indent: usize,
    /// The indentation of the lines inside it.
    inner: usize,
    /// The continuation indentation and policy flag of the line that opened it.
    cont: usize,
    policy: bool,
    /// The `{` of a first-match group.
    group: bool,
    /// Inside a `schema { }` block.
    schema: bool,
}

/// One source line: its tokens and what the layout decided for it.
struct Line<'a> {
    toks: Vec<Tok<'a>>,
    indent: usize,
    /// Only a comment.
    comment_only: bool,
    /// Starts an item (at the top level or in a group), with its level (open groups).
    item: Option<usize>,
    /// Level (open groups) at the line's start.
    level: usize,
    /// Its continuation lines' indentation.
    cont: usize,
    /// Inside a policy, outside brackets (its clause lines are at `cont - 2`).
    policy: bool,
    /// Ends with an opening bracket.
    opens: bool,
    /// Starts with a closing bracket.
    closes: bool,
    /// For a line starting with a closing bracket, the indentation inside the bracket.
    inner: usize,
    /// How many lines it is once too-wide chains are broken.
    height: usize,
    /// The indentation of a comment line after it that a blank line separates from what
    /// follows: where a clause (or the next line inside an open bracket) would be.
    after: usize,
    blank_before: bool,
    /// Directly inside a `schema { }` block (or a record type in it).
    schema: bool,
}

/// One output line.
struct Out {
    indent: usize,
    code: String,
    comment: Option<String>,
    blank_before: bool,
    /// A schema field `name: type`: the length of `name:` in bytes and in characters.
    field: Option<(usize, usize)>,
}

fn is_open(t: &Tok<'_>) -> bool {
    t.kind == Kind::Sym && matches!(t.text, "(" | "[" | "{")
}

fn is_close(t: &Tok<'_>) -> bool {
    t.kind == Kind::Sym && matches!(t.text, ")" | "]" | "}")
}

/// Whether `toks[k]` starts an item.
fn starts_item(toks: &[Tok<'_>], k: usize) -> bool {
    let Some(t) = toks.get(k) else { return false };
    if t.kind != Kind::Word || !ITEMS.contains(&t.text) {
        return false;
    }
    match toks.get(k + 1) {
        Some(n) if t.text == "schema" => n.is("{"),
        Some(n) => n.kind == Kind::Word && !OPERATORS.contains(&n.text),
        None => false,
    }
}

/// Splits the tokens into source lines.
fn lines<'a>(toks: &[Tok<'a>]) -> Vec<Line<'a>> {
    let mut out: Vec<Line<'a>> = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        if k == 0 || t.nl > 0 {
            out.push(Line {
                toks: Vec::new(),
                indent: 0,
                comment_only: t.kind == Kind::Comment,
                item: None,
                level: 0,
                cont: 0,
                policy: false,
                opens: false,
                closes: is_close(t),
                inner: 0,
                after: 0,
                height: 1,
                blank_before: k > 0 && t.nl > 1,
                schema: false,
            });
        }
        if let Some(l) = out.last_mut() {
            l.toks.push(*t);
        }
    }
    for l in &mut out {
        l.opens = l
            .toks
            .iter()
            .rev()
            .find(|t| t.kind != Kind::Comment)
            .is_some_and(is_open);
    }
    out
}

/// Whether a line starting with `toks` inside a policy is a clause (at the clause column).
fn is_clause(toks: &[Tok<'_>], after_header: bool) -> bool {
    let (Some(first), next) = (toks.first(), toks.get(1)) else {
        return false;
    };
    if first.kind == Kind::Str {
        return after_header;
    }
    let next_is = |w: &str| next.is_some_and(|n| n.is(w));
    match first.text {
        _ if first.kind != Kind::Word => false,
        "triggers" => next_is("when"),
        "with" => next_is("reason"),
        "requires" | "denies" | "permits" | "metadata" => {
            !next_is(".")
                && !next.is_some_and(|n| {
                    n.kind == Kind::Word
                        && OPERATORS.contains(&n.text)
                        && n.text != "not"
                        && n.text != "has"
                        && n.text != "with"
                })
        }
        _ => false,
    }
}

/// Decides every line's indentation.
fn indent(lines: &mut [Line<'_>]) {
    let mut stack: Vec<Frame> = Vec::new();
    let mut in_policy = false;
    let mut prev_code: Option<usize> = None;
    for n in 0..lines.len() {
        let groups = stack.iter().filter(|f| f.group).count();
        let top = stack.len() == groups;
        let base = 2 * groups;
        let line = &lines[n];
        let first = line.toks[0];
        let mut item = None;
        let mut inner = 0;
        let (ind, cont, policy) = if line.closes && !stack.is_empty() {
            let f = &stack[stack.len() - 1];
            if f.group {
                in_policy = false;
            }
            inner = f.inner;
            (f.indent, f.cont, f.policy)
        } else if !top {
            let i = stack[stack.len() - 1].inner;
            (i, i, false)
        } else if starts_item(&line.toks, 0) {
            item = Some(groups);
            in_policy = first.text == "policy";
            (base, base + if in_policy { 4 } else { 2 }, in_policy)
        } else if in_policy {
            let after_header = prev_code.is_some_and(|p: usize| lines[p].item.is_some());
            let clause = is_clause(&line.toks, after_header);
            (if clause { base + 2 } else { base + 4 }, base + 4, true)
        } else {
            (base + 2, base + 2, false)
        };
        let is_group_item = item.is_some() && first.text == "group";
        let schema_item = item.is_some() && first.text == "schema";
        let in_schema = stack.last().is_some_and(|f| f.schema);
        let line = &mut lines[n];
        line.schema = in_schema && !line.closes;
        line.indent = ind;
        line.cont = cont;
        line.item = item;
        line.level = groups;
        line.policy = policy;
        line.inner = inner;
        if line.comment_only {
            continue;
        }
        prev_code = Some(n);
        for t in &line.toks {
            if is_open(t) {
                stack.push(Frame {
                    indent: ind,
                    // In a policy, what a bracket holds is indented past the continuation lines.
                    inner: if policy { cont + 2 } else { ind + 2 },
                    cont,
                    policy,
                    group: is_group_item && t.text == "{" && stack.len() == groups,
                    schema: schema_item || stack.last().is_some_and(|f| f.schema),
                });
            } else if is_close(t) && stack.pop().is_some_and(|f| f.group) {
                in_policy = false;
            }
        }
        let groups = stack.iter().filter(|f| f.group).count();
        line.after = match stack.last() {
            Some(f) if !f.group => f.inner,
            _ => 2 * groups + if in_policy { 2 } else { 0 },
        };
    }
    // A comment line takes the indentation of the code it precedes; when a blank line (or the
    // end) separates it from what follows, column 1 if it is there, else the indentation of
    // the code before it.
    for n in (0..lines.len()).rev() {
        if !lines[n].comment_only {
            continue;
        }
        let next = lines.get(n + 1);
        lines[n].indent = match next {
            Some(l) if !l.blank_before && l.closes && !l.comment_only => l.inner,
            Some(l) if !l.blank_before => l.indent,
            // A comment at column 1 before a blank line or the end stays there.
            _ if lines[n].toks[0].col0 => 0,
            _ => (0..n)
                .rev()
                .find(|&p| !lines[p].comment_only)
                .map_or(0, |p| lines[p].after),
        };
    }
}

/// Decides the blank lines: at most one anywhere, none after an opening or before a closing
/// bracket, and one before an item (and the comments right above it) when it or the item
/// before it spans several lines.
fn blanks(lines: &mut [Line<'_>]) {
    for n in 0..lines.len() {
        let after_open = n > 0 && lines[n - 1].opens && !lines[n - 1].comment_only;
        if n == 0 || after_open || (lines[n].closes && !lines[n].comment_only) {
            lines[n].blank_before = false;
        }
    }
    let spans_lines = |lines: &[Line<'_>], n: usize, level: usize| {
        let mut code = 0;
        for l in &lines[n..] {
            if code > 0 && (l.level < level || l.item.is_some_and(|v| v <= level)) {
                break;
            }
            code += if l.comment_only { 0 } else { l.height };
        }
        code > 1
    };
    let mut prev: Option<usize> = None;
    for n in 0..lines.len() {
        let Some(level) = lines[n].item else { continue };
        let mut at = n;
        while at > 0 && lines[at - 1].comment_only && !lines[at].blank_before {
            at -= 1;
        }
        let first_in_container = at == 0 || (lines[at - 1].opens && !lines[at - 1].comment_only);
        let prev_here = prev.filter(|&p| lines[p].item == Some(level));
        if !first_in_container {
            let multi = spans_lines(lines, n, level)
                || prev_here.is_some_and(|p| spans_lines(lines, p, level));
            if multi {
                lines[at].blank_before = true;
            }
        }
        prev = Some(n);
    }
}

/// Renders tokens canonically spaced (`canon.rs`).
fn render(toks: &[Tok<'_>]) -> String {
    let mut s = String::new();
    for (k, t) in toks.iter().enumerate() {
        if k > 0 && t.sp {
            s.push(' ');
        }
        s.push_str(t.text);
    }
    s
}

/// The width of rendered code at `indent` (its first line when a string spans lines).
fn width(indent: usize, code: &str) -> usize {
    indent + code.split('\n').next().unwrap_or("").chars().count()
}

/// Where a chain of `toks` may break: before each top-level `or` (else `and`) that the source
/// separated by whitespace, and before a top-level `with reason`.
fn breaks(toks: &[Tok<'_>]) -> Vec<usize> {
    let (mut ors, mut ands) = (Vec::new(), Vec::new());
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate() {
        if is_open(t) {
            depth += 1;
        } else if is_close(t) {
            depth -= 1;
            if depth < 0 {
                break;
            }
        }
        if depth != 0 || k == 0 || !t.sp || t.kind != Kind::Word {
            continue;
        }
        match t.text {
            "or" => ors.push(k),
            "and" => ands.push(k),
            "with" if toks.get(k + 1).is_some_and(|n| n.is("reason")) => {
                ors.push(k);
                ands.push(k);
            }
            _ => {}
        }
    }
    // `with reason` alone is no chain: it moves only with the chain before it.
    if ors.iter().any(|&k| toks[k].text == "or") {
        ors
    } else if ands.iter().any(|&k| toks[k].text == "and") {
        ands
    } else {
        Vec::new()
    }
}

/// Where a too-wide line without a top-level chain may break: at the chain inside its first
/// bracket that holds one, outermost first (the bracket's index and the cuts).
fn inner_breaks(toks: &[Tok<'_>]) -> Option<(usize, Vec<usize>)> {
    let mut depth = 0i32;
    let mut open = None;
    for (k, t) in toks.iter().enumerate() {
        if is_open(t) {
            if depth == 0 {
                open = Some(k);
            }
            depth += 1;
        } else if is_close(t) {
            depth -= 1;
            if depth < 0 {
                return None;
            }
            if let Some(o) = open.filter(|_| depth == 0) {
                let cuts = breaks(&toks[o + 1..k]);
                if !cuts.is_empty() {
                    return Some((o, cuts.into_iter().map(|c| c + o + 1).collect()));
                }
                if let Some((inner, cuts)) = inner_breaks(&toks[o + 1..k]) {
                    return Some((inner + o + 1, cuts.into_iter().map(|c| c + o + 1).collect()));
                }
            }
        }
    }
    None
}

/// Where one line breaks and what its pieces are indented to.
struct Place {
    /// The first piece's indentation.
    indent: usize,
    /// The continuation lines' indentation.
    cont: usize,
    /// A `with reason` line's indentation.
    clause: usize,
    /// A policy line outside brackets (what a bracket holds is indented past `cont`).
    policy: bool,
}

/// Breaks a too-wide line at its chain operators, else at the chain inside its first bracket
/// that holds one; each piece after the first is at `cont` (a `with reason` at `clause`, a
/// piece inside a bracket where a line inside it would be).
fn split<'a>(toks: &[Tok<'a>], at: &Place, out: &mut Vec<(usize, Vec<Tok<'a>>)>) {
    let wide = width(at.indent, &render(toks)) > WIDTH;
    let cuts = if wide { breaks(toks) } else { Vec::new() };
    if cuts.is_empty() {
        match inner_breaks(toks).filter(|_| wide) {
            Some((_, cuts)) => {
                let inner = if at.policy {
                    at.cont + 2
                } else {
                    at.indent + 2
                };
                out.push((at.indent, toks[..cuts[0]].to_vec()));
                let place = Place {
                    indent: inner,
                    cont: inner,
                    clause: inner,
                    policy: false,
                };
                for (c, &k) in cuts.iter().enumerate() {
                    let end = cuts.get(c + 1).copied().unwrap_or(toks.len());
                    split(&toks[k..end], &place, out);
                }
            }
            None => out.push((at.indent, toks.to_vec())),
        }
        return;
    }
    let piece = |indent| Place {
        indent,
        cont: at.cont,
        clause: at.clause,
        policy: at.policy,
    };
    if toks.len() > 2 && toks[0].is("triggers") && toks[1].is("when") && cuts[0] > 2 {
        out.push((at.indent, toks[..2].to_vec()));
        split(&toks[2..cuts[0]], &piece(at.cont), out);
    } else {
        split(&toks[..cuts[0]], &piece(at.indent), out);
    }
    for (c, &k) in cuts.iter().enumerate() {
        let end = cuts.get(c + 1).copied().unwrap_or(toks.len());
        let indent = if toks[k].is("with") {
            at.clause
        } else {
            at.cont
        };
        split(&toks[k..end], &piece(indent), out);
    }
}

/// Lays out the whole file.
fn layout(toks: &[Tok<'_>]) -> String {
    if toks.is_empty() {
        return String::new();
    }
    let mut lines = lines(toks);
    indent(&mut lines);
    let mut all_pieces = Vec::new();
    for l in &mut lines {
        let (code, comment) = match l.toks.last() {
            Some(t) if t.kind == Kind::Comment => (&l.toks[..l.toks.len() - 1], Some(t.text)),
            _ => (&l.toks[..], None),
        };
        let mut pieces = Vec::new();
        if code.is_empty() {
            pieces.push((l.indent, Vec::new()));
        } else {
            let clause = if l.policy { l.cont - 2 } else { l.cont };
            let place = Place {
                indent: l.indent,
                cont: l.cont,
                clause,
                policy: l.policy,
            };
            split(code, &place, &mut pieces);
        }
        l.height = pieces.len();
        all_pieces.push((pieces, comment));
    }
    blanks(&mut lines);
    let mut outs: Vec<Out> = Vec::new();
    for (l, (pieces, comment)) in lines.iter().zip(all_pieces) {
        let last = pieces.len() - 1;
        for (p, (indent, toks)) in pieces.into_iter().enumerate() {
            let field = (p == 0 && l.schema).then(|| field_key(&toks)).flatten();
            outs.push(Out {
                indent,
                field,
                code: render(&toks),
                comment: (p == last)
                    .then(|| comment.unwrap_or("").to_owned())
                    .filter(|c| !c.is_empty()),
                blank_before: p == 0 && l.blank_before,
            });
        }
    }
    align_fields(&mut outs);
    align_comments(&mut outs);
    let mut s = String::new();
    for o in &outs {
        if o.blank_before {
            s.push('\n');
        }
        if !o.code.is_empty() || o.comment.is_some() {
            s.extend(std::iter::repeat_n(' ', o.indent));
        }
        s.push_str(&o.code);
        if let Some(c) = &o.comment {
            s.push_str(c);
        }
        s.push('\n');
    }
    s
}

/// Aligns the trailing comments of consecutive lines two columns after their longest code.
fn align_comments(outs: &mut [Out]) {
    let mut n = 0;
    while n < outs.len() {
        let trailing =
            |o: &Out| o.comment.is_some() && !o.code.is_empty() && !o.code.contains('\n');
        if !trailing(&outs[n]) {
            n += 1;
            continue;
        }
        let mut end = n + 1;
        while end < outs.len() && trailing(&outs[end]) && !outs[end].blank_before {
            end += 1;
        }
        let col = outs[n..end]
            .iter()
            .map(|o| width(o.indent, &o.code))
            .max()
            .unwrap_or(0)
            + 2;
        for o in &mut outs[n..end] {
            let pad = col - width(o.indent, &o.code);
            o.code.extend(std::iter::repeat_n(' ', pad));
        }
        n = end;
    }
    for o in outs.iter_mut() {
        if o.comment.is_some() && !o.code.is_empty() && o.code.contains('\n') {
            o.code.push_str("  ");
        }
    }
}

/// For a schema field line `name: type ...` (a path or quoted key, `:`, and more), the
/// length of its rendered `name:` in bytes and in characters.
fn field_key(toks: &[Tok<'_>]) -> Option<(usize, usize)> {
    let colon = toks
        .iter()
        .position(|t| t.kind == Kind::Sym && t.text == ":")?;
    let key_ok = colon > 0
        && toks[..colon].iter().all(|t| {
            matches!(t.kind, Kind::Word | Kind::Str) || t.is(".") || t.is("[") || t.is("]")
        });
    if !key_ok || colon + 1 >= toks.len() {
        return None;
    }
    let key = render(&toks[..=colon]);
    Some((key.len(), key.chars().count()))
}

/// Aligns the types of consecutive schema fields at one indentation (gofmt-style): one
/// space after the longest `name:` of the block. A line that is not such a field (a comment,
/// a closing bracket, a nested field) or a blank line ends a block.
fn align_fields(outs: &mut [Out]) {
    let mut n = 0;
    while n < outs.len() {
        if outs[n].field.is_none() {
            n += 1;
            continue;
        }
        let mut end = n + 1;
        while end < outs.len()
            && outs[end].field.is_some()
            && outs[end].indent == outs[n].indent
            && !outs[end].blank_before
        {
            end += 1;
        }
        let col = outs[n..end]
            .iter()
            .filter_map(|o| o.field.map(|f| f.1))
            .max()
            .unwrap_or(0);
        for o in &mut outs[n..end] {
            if let Some((bytes, chars)) = o.field {
                let pad: String = std::iter::repeat_n(' ', col - chars).collect();
                o.code.insert_str(bytes, &pad);
            }
        }
        n = end;
    }
}
