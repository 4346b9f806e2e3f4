//! `x in H value` with a value that is not a literal (issue #13, `docs/LANGUAGE.md`,
//! "Hierarchy membership of request values"), before checking: a value that inlining made a
//! string literal is the literal form `x in H "e"`; any other value keeps the selection, now
//! holding the hierarchy's reflexive transitive closure ([`DataRef::Closure`]), which the
//! checker types and the bundle stores as a sorted pair set.

use super::Cx;
use crate::ast::{ByteSpan, DataRef, Expr, ExprKind, Lit, Name};
use std::collections::{BTreeMap, BTreeSet};

/// A hierarchy's entities and each child's parents, borrowed from the map constant.
pub(super) type Edges<'m> = (BTreeSet<&'m str>, BTreeMap<&'m str, Vec<&'m str>>);

/// A relation's (element, ancestor-or-key) pairs, sorted.
type Pairs = Vec<(String, String)>;

/// Most (descendant, ancestor) pairs one hierarchy's closure may have.
pub(crate) const MAX_PAIRS: usize = 1 << 20;

impl Cx {
    /// `lhs in n value` (the whole expression `e`) with constants expanded.
    pub(super) fn in_hierarchy_of(&mut self, e: &Expr, lhs: &Expr, n: &Name, value: &Expr) -> Expr {
        let help = format!(
            "hierarchy `{}` holds entities (strings): write `x in {} \"entity\"` or a string attribute",
            n.text, n.text
        );
        self.in_pairs(e, lhs, n, value, DataRef::Under, help, Self::closure)
    }

    /// `lhs in n[value]` (the whole expression `e`) with constants expanded: a string literal
    /// key is `x in M["key"]`; any other value makes the map's (element, key) pairs a
    /// [`DataRef::Closure`], so the run-time test is the same pair lookup as `x in H y`.
    pub(super) fn in_key_of(&mut self, e: &Expr, lhs: &Expr, n: &Name, value: &Expr) -> Expr {
        let help = format!("the keys of `{}` are strings", n.text);
        self.in_pairs(e, lhs, n, value, DataRef::Key, help, Self::key_pairs)
    }

    /// The shared form of [`Self::in_hierarchy_of`] and [`Self::in_key_of`]: a string literal
    /// `value` is the literal selection `literal` (checked as written), another literal is a
    /// type error (`help` says what fits), and any other value keeps the selection with the
    /// relation's sorted pairs (`pairs`; `e` unchanged after an error, reported).
    #[allow(
        clippy::too_many_arguments,
        reason = "one call per form, each naming its parts"
    )]
    fn in_pairs(
        &mut self,
        e: &Expr,
        lhs: &Expr,
        n: &Name,
        value: &Expr,
        literal: fn(Name, String, ByteSpan) -> DataRef,
        help: String,
        pairs: fn(&mut Self, &Name) -> Option<Pairs>,
    ) -> Expr {
        let value = self.expr(value);
        match &value.kind {
            ExprKind::Lit(Lit::Str(s)) => {
                let selection = Expr {
                    kind: ExprKind::InData {
                        lhs: Box::new(lhs.clone()),
                        data: Box::new(literal(n.clone(), s.to_string(), value.span.clone())),
                    },
                    span: e.span.clone(),
                };
                return self.expr(&selection);
            }
            ExprKind::Lit(other) => {
                self.error(
                    value.span.clone(),
                    format!(
                        "mismatched types: expected string, found {}",
                        other.type_word()
                    ),
                    Some(help),
                );
                return e.clone();
            }
            _ => {}
        }
        let Some(pairs) = pairs(self, n) else {
            return e.clone();
        };
        Expr {
            kind: ExprKind::InData {
                lhs: self.boxed(lhs),
                data: Box::new(DataRef::Closure(n.clone(), pairs, Box::new(value))),
            },
            span: e.span.clone(),
        }
    }

    /// Every (element, key) pair of the map constant `n` of lists of strings, sorted and
    /// without repeats (`None` after an error, reported).
    fn key_pairs(&mut self, n: &Name) -> Option<Pairs> {
        let map = self.map_const(n)?;
        let mut pairs = Vec::new();
        for (key, list) in &map {
            for v in list {
                let Lit::Str(v) = v else {
                    self.error(
                        n.span.clone(),
                        format!(
                            "`x in {}[key]` with a key read at run time needs lists of strings, and the lists of `{}` hold {} values",
                            n.text,
                            n.text,
                            v.type_word()
                        ),
                        Some(format!("select one list with a literal key: `x in {}[\"key\"]`", n.text)),
                    );
                    return None;
                };
                pairs.push((v.to_string(), key.clone()));
            }
        }
        pairs.sort();
        pairs.dedup();
        if pairs.len() > MAX_PAIRS {
            self.error(
                n.span.clone(),
                format!("map `{}` has more than {MAX_PAIRS} values", n.text),
                None,
            );
            return None;
        }
        Some(pairs)
    }

    /// Every (descendant, ancestor) pair of hierarchy `n`, `(e, e)` included for each of its
    /// entities, sorted (`None` after an error, reported).
    fn closure(&mut self, n: &Name) -> Option<Pairs> {
        let map: BTreeMap<String, Vec<Lit>> = self.map_const(n)?;
        let (entities, parents_of) = self.hierarchy_edges(n, &map)?;
        let mut pairs = Vec::new();
        for &x in &entities {
            // Every entity reachable from `x` by parent lists, `x` included (cycles allowed).
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut stack = vec![x];
            while let Some(y) = stack.pop() {
                if seen.insert(y) {
                    stack.extend(parents_of.get(y).into_iter().flatten().copied());
                }
            }
            if pairs.len() + seen.len() > MAX_PAIRS {
                self.error(
                    n.span.clone(),
                    format!(
                        "hierarchy `{}` has more than {MAX_PAIRS} (entity, ancestor) pairs",
                        n.text
                    ),
                    Some(
                        "test a literal entity (`x in H \"e\"`) or split the hierarchy".to_owned(),
                    ),
                );
                return None;
            }
            pairs.extend(seen.into_iter().map(|a| (x.to_owned(), a.to_owned())));
        }
        Some(pairs)
    }

    /// The entities of hierarchy `n` (children and parents) and each child's parent list,
    /// read from the map constant `map` it holds (`None` after reporting a list that holds
    /// something other than strings).
    pub(super) fn hierarchy_edges<'m>(
        &mut self,
        n: &Name,
        map: &'m BTreeMap<String, Vec<Lit>>,
    ) -> Option<Edges<'m>> {
        let mut parents_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut entities: BTreeSet<&str> = BTreeSet::new();
        for (child, parents) in map {
            entities.insert(child);
            for p in parents {
                let Lit::Str(p) = p else {
                    self.error(
                        n.span.clone(),
                        format!(
                            "constant `{}` is not a hierarchy: its lists hold {} values, not strings",
                            n.text,
                            p.type_word()
                        ),
                        Some("a hierarchy maps each entity to the list of its parents (strings)".to_owned()),
                    );
                    return None;
                };
                entities.insert(p);
                parents_of.entry(child).or_default().push(p);
            }
        }
        Some((entities, parents_of))
    }
}
