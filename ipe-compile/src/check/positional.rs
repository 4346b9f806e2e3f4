//! Positional list access (issue #13, session 7): `xs[2]`, `xs[-1]` on a request list of
//! scalars and `xs[0].name` on a request list of records. Each is a top-level scalar attribute
//! of its own (path text `xs[2]`), whose value the host readers derive from the list
//! (`ipe_nostd::positional`): missing when the list is missing or the index out of range, the
//! list's error when it is invalid. So `has`, `??`, comparisons, reasons and errors treat it as
//! any attribute. The list's slot is declared too (the readers read it).

use super::{Ctx, Resolved};
use crate::ast::Name;
use crate::hir::SlotType;

impl Ctx<'_> {
    /// Resolves `name` when it is a positional access; `None` when it has no index,
    /// `Some(None)` after a located error.
    pub(super) fn positional(&mut self, name: &Name) -> Option<Option<Resolved>> {
        let has_index = name.text.match_indices('[').any(|(n, _)| {
            name.text
                .get(n + 1..)
                .and_then(|r| r.chars().next())
                .is_some_and(|c| c == '-' || c.is_ascii_digit())
        });
        if !has_index {
            return None;
        }
        let Some(p) = ipe_nostd::positional::positional(&name.text) else {
            self.error(
                name.span.clone(),
                format!("`{}` is not a valid list position", name.text),
                Some(format!(
                    "a position is an integer from -{m} to {m} without leading zeros (`list[0]` \
                     the first element, `list[-1]` the last), one per path",
                    m = ipe_nostd::positional::MAX_INDEX
                )),
            );
            return Some(None);
        };
        let Some(list_ty) = self.schema.get(p.list).cloned() else {
            self.error(
                name.span.clone(),
                format!("unknown attribute `{}`", p.list),
                Some(
                    "a position selects an element of a list attribute declared in the schema"
                        .to_owned(),
                ),
            );
            return Some(None);
        };
        let ty = match (&list_ty, p.field) {
            (SlotType::List { elem, .. }, "") => elem.clone(),
            (SlotType::List { .. }, f) => {
                self.error(
                    name.span.clone(),
                    format!(
                        "`{}` is a list of scalars: its element has no field `{f}`",
                        p.list
                    ),
                    Some(format!(
                        "compare the element itself: `{}[{}]`",
                        p.list, p.index
                    )),
                );
                return Some(None);
            }
            (SlotType::Records { fields, .. }, f) => match fields.iter().find(|x| x.path == f) {
                Some(x) => x.ty.clone(),
                None => {
                    let names: Vec<String> =
                        fields.iter().map(|x| format!("`{}`", x.path)).collect();
                    self.error(
                        name.span.clone(),
                        if f.is_empty() {
                            format!("`{}` is a record, not a value", name.text)
                        } else {
                            format!("the elements of `{}` have no field `{f}`", p.list)
                        },
                        Some(format!(
                            "name a field of the element: {} (`{}[{}].{}`)",
                            names.join(", "),
                            p.list,
                            p.index,
                            fields.first().map_or("field", |x| x.path.as_str())
                        )),
                    );
                    return Some(None);
                }
            },
            (SlotType::Map { .. }, _) => {
                self.error(
                    name.span.clone(),
                    format!("`{}` is a map: its entries have no position", p.list),
                    Some(format!("select an entry by its key: `{}[\"key\"]`", p.list)),
                );
                return Some(None);
            }
            (SlotType::Scalar(_), _) => {
                self.error(
                    name.span.clone(),
                    format!(
                        "`{}` is not a list: it has no position `[{}]`",
                        p.list, p.index
                    ),
                    Some("a position selects an element of a list attribute".to_owned()),
                );
                return Some(None);
            }
        };
        let _list = self.slot(p.list, &list_ty);
        let ty = SlotType::Scalar(ty);
        let id = self.slot(&name.text, &ty);
        Some(Some(Resolved::Slot(id, ty)))
    }
}
