//! `x in H value` with a value that is not a literal (issue #13, `docs/LANGUAGE.md`,
//! "Hierarchy membership of request values"), before checking: a value that inlining made a
//! string literal is the literal form `x in H "e"`; any other value keeps the selection, now
//! holding the hierarchy's reflexive transitive closure ([`DataRef::Closure`]), which the
//! checker types and the bundle stores as a sorted pair set.

use super::Cx;
use crate::ast::{DataRef, Expr, ExprKind, Lit, Name};
use std::collections::{BTreeMap, BTreeSet};

/// A hierarchy's entities and each child's parents, borrowed from the map constant.
pub(super) type Edges<'m> = (BTreeSet<&'m str>, BTreeMap<&'m str, Vec<&'m str>>);

/// Most (descendant, ancestor) pairs one hierarchy's closure may have.
pub(crate) const MAX_PAIRS: usize = 1 << 20;

impl Cx {
    /// `lhs in n value` (the whole expression `e`) with constants expanded.
    pub(super) fn in_hierarchy_of(&mut self, e: &Expr, lhs: &Expr, n: &Name, value: &Expr) -> Expr {
        let value = self.expr(value);
        match &value.kind {
            ExprKind::Lit(Lit::Str(s)) => {
                let under = Expr {
                    kind: ExprKind::InData {
                        lhs: Box::new(lhs.clone()),
                        data: DataRef::Under(n.clone(), s.clone(), value.span.clone()),
                    },
                    span: e.span.clone(),
                };
                return self.expr(&under);
            }
            ExprKind::Lit(other) => {
                self.error(
                    value.span.clone(),
                    format!(
                        "mismatched types: expected string, found {}",
                        other.type_word()
                    ),
                    Some(format!(
                        "hierarchy `{}` holds entities (strings): write `x in {} \"entity\"` or a string attribute",
                        n.text, n.text
                    )),
                );
                return e.clone();
            }
            _ => {}
        }
        let Some(pairs) = self.closure(n) else {
            return e.clone();
        };
        Expr {
            kind: ExprKind::InData {
                lhs: self.boxed(lhs),
                data: DataRef::Closure(n.clone(), pairs, Box::new(value)),
            },
            span: e.span.clone(),
        }
    }

    /// `lhs in n[value]` (the whole expression `e`) with constants expanded: a string literal
    /// key is `x in M["key"]`; any other value makes the map's (element, key) pairs a
    /// [`DataRef::Closure`], so the run-time test is the same pair lookup as `x in H y`.
    pub(super) fn in_key_of(&mut self, e: &Expr, lhs: &Expr, n: &Name, value: &Expr) -> Expr {
        let value = self.expr(value);
        match &value.kind {
            ExprKind::Lit(Lit::Str(s)) => {
                let key = Expr {
                    kind: ExprKind::InData {
                        lhs: Box::new(lhs.clone()),
                        data: DataRef::Key(n.clone(), s.clone(), value.span.clone()),
                    },
                    span: e.span.clone(),
                };
                return self.expr(&key);
            }
            ExprKind::Lit(other) => {
                self.error(
                    value.span.clone(),
                    format!(
                        "mismatched types: expected string, found {}",
                        other.type_word()
                    ),
                    Some(format!("the keys of `{}` are strings", n.text)),
                );
                return e.clone();
            }
            _ => {}
        }
        let Some(map) = self.map_const(n) else {
            return e.clone();
        };
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
                    return e.clone();
                };
                pairs.push((v.clone(), key.clone()));
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
            return e.clone();
        }
        Expr {
            kind: ExprKind::InData {
                lhs: self.boxed(lhs),
                data: DataRef::Closure(n.clone(), pairs, Box::new(value)),
            },
            span: e.span.clone(),
        }
    }

    /// Every (descendant, ancestor) pair of hierarchy `n`, `(e, e)` included for each of its
    /// entities, sorted (`None` after an error, reported).
    fn closure(&mut self, n: &Name) -> Option<Vec<(String, String)>> {
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
