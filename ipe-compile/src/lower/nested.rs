//! Nested lists (issue #13): the field of its parent's elements a nested list slot is
//! (`containers[].ports` is field `ports` of `containers`' elements), for the `*.field`
//! instructions and the parent's field records.

use crate::hir::{Slot, SlotId, SlotType};

/// The parent slot and field index of nested list slot `list` (`None`: a top-level slot).
pub(super) fn parent_field(slots: &[Slot], list: SlotId) -> Option<(SlotId, u16)> {
    let path = &slots.get(usize::from(list))?.path;
    let (parent, field) = path.rsplit_once("[].")?;
    let p = slots.iter().position(|s| s.path == parent)?;
    let SlotType::Records { fields, .. } = &slots.get(p)?.ty else {
        return None;
    };
    let f = fields.iter().position(|f| f.path == field)?;
    Some((SlotId::try_from(p).ok()?, u16::try_from(f).ok()?))
}

/// The nested list slot that field `field` of records slot `slot` is, if any.
pub(super) fn nested_slot(slots: &[Slot], slot: &Slot, field: &str) -> Option<SlotId> {
    let path = format!("{}[].{field}", slot.path);
    slots
        .iter()
        .position(|s| s.path == path)
        .and_then(|i| SlotId::try_from(i).ok())
}
