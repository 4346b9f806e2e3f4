//! `{m[k]}` and `{m[k].f}` reason placeholders (issue #13, session 10, `docs/LANGUAGE.md`
//! "Dynamic keys on request maps"): the value of a request map's entry under a key read at run
//! time from a top-level string attribute, rendered as any placeholder value.

use super::Ctx;
use crate::ast::Name;
use crate::hir::{self, Scalar, SlotType};

/// The parts of a placeholder path holding a key read at run time: the map's path, the key's
/// path and the rest after `]` (`.f`, or empty); `None` when the path has no such key (a
/// bracket outside a quoted key followed by a name).
pub(super) fn split(path: &str) -> Option<(&str, &str, &str)> {
    let bytes = path.as_bytes();
    let (mut i, mut quoted, mut escaped) = (0, false, false);
    while let Some(&b) = bytes.get(i) {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == b'['
            && bytes
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            let close = path.get(i..)?.find(']')? + i;
            return Some((
                path.get(..i)?,
                path.get(i + 1..close)?,
                path.get(close + 1..)?,
            ));
        }
        i += 1;
    }
    None
}

/// The article of a type word: `an` before a vowel (`an int`), else `a`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

impl Ctx<'_> {
    /// Whether field `field` of the elements of `list` is a string, the key of placeholder
    /// `name` (`{limits[c.name]}`, session 11); `None` after a located error.
    pub(super) fn witness_key_is_string(
        &mut self,
        name: &Name,
        (map, key, rest): (&str, &str, &str),
        list: hir::SlotId,
        field: u16,
    ) -> Option<()> {
        let SlotType::Records { fields, .. } = self.slot_type(list) else {
            return None;
        };
        match fields.get(usize::from(field)).map(|f| &f.ty) {
            Some(Scalar::Str) => Some(()),
            Some(s) => {
                let found = super::ty_word(&super::expr::VTy::Scalar(s.clone()));
                let article = article(found);
                self.error(
                    name.span.clone(),
                    format!(
                        "mismatched types: the key `{key}` of `{map}[{key}]{rest}` is {article} {found}, not a string"
                    ),
                    Some(format!("the keys of map `{map}` are strings: name a string field of the element")),
                );
                None
            }
            None => None,
        }
    }

    /// The part of placeholder `name` (`{labels[params.key]}`, `{svc[want].port}`), after a
    /// located error when the map, the key or the field is not one a placeholder shows.
    /// `witness` (session 11, `{limits[c.name]}`): the key is field `.2` of the witness of
    /// clause `.0` (an `all` over list `.1`), already checked.
    pub(super) fn map_entry_placeholder(
        &mut self,
        name: &Name,
        (map, key, rest): (&str, &str, &str),
        witness: Option<(u16, hir::SlotId, u16)>,
    ) -> Option<hir::ReasonPart> {
        let written = format!("{map}[{key}]{rest}");
        let fields = match self.schema.get(map).cloned() {
            Some(ty @ SlotType::Map { .. }) => ty,
            Some(_) => {
                self.error(
                    name.span.clone(),
                    format!("`{map}[{key}]` in a placeholder needs a map, and `{map}` is not one"),
                    Some(format!(
                        "a key in brackets selects an entry of a request map (`{map}: map of string` in the schema); a list is shown with a position (`{{{map}[0]}}`)"
                    )),
                );
                return None;
            }
            None => {
                let maps = self
                    .schema
                    .iter()
                    .filter(|(_, t)| matches!(t, SlotType::Map { .. }))
                    .map(|(k, _)| k.clone())
                    .collect();
                let n = Name {
                    text: map.to_owned().into(),
                    span: name.span.clone(),
                };
                self.unknown(&n, maps);
                return None;
            }
        };
        let map_id = self.slot(map, &fields);
        let SlotType::Map { fields, .. } = fields else {
            return None;
        };
        let key_id = match self.schema.get(key).cloned() {
            _ if witness.is_some() => 0,
            Some(ty @ SlotType::Scalar(Scalar::Str)) => self.slot(key, &ty),
            Some(SlotType::Scalar(s)) => {
                self.error(
                    name.span.clone(),
                    {
                        let found = super::ty_word(&super::expr::VTy::Scalar(s));
                        let article = article(found);
                        format!(
                            "mismatched types: the key `{key}` of `{written}` is {article} {found}, not a string"
                        )
                    },
                    Some(format!("the keys of map `{map}` are strings")),
                );
                return None;
            }
            _ => {
                self.error(
                    name.span.clone(),
                    format!("the key `{key}` of `{written}` is not a top-level string attribute"),
                    Some(format!(
                        "a key in brackets in a placeholder is read from a string attribute of the request (`{{{map}[params.key]}}`) or a string field of the element of an `all` clause (`{{{map}[c.name]}}`); quote a fixed key: `{{{map}[\\\"{key}\\\"]}}`"
                    )),
                );
                return None;
            }
        };
        let record = super::map_records::is_record_map(&fields);
        let field = match (rest.strip_prefix('.'), record) {
            (None, false) if rest.is_empty() => 1u16,
            (Some(f), true) => {
                let path = hir::joined(super::map_records::VALUE, f);
                match fields.iter().position(|x| x.path == path) {
                    Some(i) => u16::try_from(i).ok()?,
                    None => {
                        let names: Vec<String> = fields
                            .iter()
                            .filter_map(|x| x.path.strip_prefix("value."))
                            .map(|n| format!("`{map}[{key}].{n}`"))
                            .collect();
                        self.error(
                            name.span.clone(),
                            format!("the records of `{map}` have no field `{f}`"),
                            Some(format!("the fields: {}", names.join(", "))),
                        );
                        return None;
                    }
                }
            }
            (None, true) if rest.is_empty() => {
                let first = fields
                    .get(1)
                    .and_then(|x| x.path.strip_prefix("value."))
                    .unwrap_or("f");
                self.error(
                    name.span.clone(),
                    format!("`{written}` is a record, not a value"),
                    Some(format!(
                        "a placeholder shows one value: name a field, e.g. `{{{map}[{key}].{first}}}`"
                    )),
                );
                return None;
            }
            _ => {
                self.error(
                    name.span.clone(),
                    format!(
                        "the values of `{map}` are scalars, they have no field `{}`",
                        rest.trim_start_matches('.')
                    ),
                    Some(format!("show the value itself: `{{{map}[{key}]}}`")),
                );
                return None;
            }
        };
        Some(match witness {
            Some((clause, list, key_field)) => hir::ReasonPart::WitnessEntry {
                clause,
                list,
                key_field,
                map: map_id,
                field,
            },
            None => hir::ReasonPart::MapEntry {
                map: map_id,
                key: key_id,
                field,
            },
        })
    }

    /// The part of placeholder `{map[key]}` (`{map[key].f}`) with `map` a map constant whose
    /// table (`rows`) `check::consts` filled in (session 11), after a located error when the
    /// key is not a top-level string attribute.
    pub(super) fn const_entry_placeholder(
        &mut self,
        map: &str,
        key: &str,
        rows: &[(String, crate::ast::Lit)],
        span: &crate::ast::ByteSpan,
    ) -> Option<hir::ReasonPart> {
        let key_id = match self.schema.get(key).cloned() {
            Some(ty @ SlotType::Scalar(Scalar::Str)) => self.slot(key, &ty),
            Some(SlotType::Scalar(s)) => {
                let found = super::ty_word(&super::expr::VTy::Scalar(s));
                let article = article(found);
                self.error(
                    span.clone(),
                    format!(
                        "mismatched types: the key `{key}` of `{map}[{key}]` is {article} {found}, not a string"
                    ),
                    Some(format!("the keys of map constant `{map}` are strings")),
                );
                return None;
            }
            _ => {
                self.error(
                    span.clone(),
                    format!("the key `{key}` of `{map}[{key}]` is not a top-level string attribute"),
                    Some(format!(
                        "a placeholder reads a map constant's value under a string attribute of the request (`{{{map}[user.role]}}`); show an element's value with a clause's lookup instead"
                    )),
                );
                return None;
            }
        };
        let rows = rows
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    crate::ast::Lit::Str(s) => hir::Literal::Str(s.clone()),
                    crate::ast::Lit::Int(n) => hir::Literal::Int(*n),
                    crate::ast::Lit::Bool(b) => hir::Literal::Bool(*b),
                };
                (k.clone(), v)
            })
            .collect();
        Some(hir::ReasonPart::ConstEntry { key: key_id, rows })
    }
}
