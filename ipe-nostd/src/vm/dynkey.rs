//! Dynamic keys on request maps (issue #13, `labels[k]`): `map.get` and `map.has`, one scan
//! of the map's entries for the key on the stack ([`crate::dynkey::find`]).

use super::{Cell, Machine, FALSE};
use crate::bundle::SlotId;
use crate::decision::AttrError;
use crate::isa::CmpOp;
use crate::value::Value;
use crate::vocab::ErrKind;

impl<'v> Machine<'_, '_, 'v> {
    /// The entry of map slot `map` whose key is the string cell `key`: `Ok(Some(fields))`,
    /// `Ok(None)` when the map has no such entry, or the smaller of the key's and the map's
    /// errors.
    fn map_entry(&self, key: Cell<'v>, map: SlotId) -> Result<Option<&'v [Value<'v>]>, AttrError> {
        let (vals, stride) = match (key, self.list(map)) {
            (Cell::Err(x), Err(y)) => return Err(x.min(y)),
            (Cell::Err(x), _) | (_, Err(x)) => return Err(x),
            (_, Ok(l)) => l,
        };
        let Some(key) = key.as_str() else {
            return Ok(None);
        };
        let stride = stride.max(1);
        Ok(crate::dynkey::find(vals, stride, key).and_then(|i| {
            let start = i.checked_mul(stride)?;
            vals.get(start..start.checked_add(stride)?)
        }))
    }

    /// `map.get map field`: field `field` of the entry of `map` under `key`, read with the
    /// field's declared kind (errors at that field); the missing-entry error at `map`.
    pub(super) fn map_get(&self, key: Cell<'v>, map: SlotId, field: u16) -> Cell<'v> {
        match self.map_entry(key, map) {
            Err(e) => Cell::Err(e),
            Ok(None) => Cell::Err(AttrError {
                slot: map,
                field: None,
                kind: ErrKind::MissingEntry,
            }),
            Ok(Some(entry)) => {
                let first = self.bundle.slot_rec(map).first_field();
                let fr = self
                    .bundle
                    .field_rec(usize::from(first).wrapping_add(field.into()));
                let v = entry.get(usize::from(field)).unwrap_or(&super::MISSING);
                self.scalar(v, fr.kind(), fr.enum_id(), (map, Some(field)))
            }
        }
    }

    /// `map.has map field`: whether `map` has an entry under `key` whose field `field` is
    /// present; a missing map has none (an invalid map is its error, and an error key is its
    /// error: `??` does not hide them).
    pub(super) fn map_has(&self, key: Cell<'v>, map: SlotId, field: u16) -> Cell<'v> {
        if let Cell::Err(x) = key {
            return match self.list(map) {
                Err(y) if y.kind != ErrKind::Missing => Cell::Err(x.min(y)),
                _ => Cell::Err(x),
            };
        }
        match self.map_entry(key, map) {
            Ok(found) => Cell::Bool(found.is_some_and(|entry| {
                entry
                    .get(usize::from(field))
                    .is_some_and(|v| !matches!(v, Value::Missing))
            })),
            Err(e) if e.kind == ErrKind::Missing => FALSE,
            Err(e) => Cell::Err(e),
        }
    }

    /// `in.ip set` (issue #13, session 10): whether the address cell `a` is in IP range set
    /// `set`; `a`'s error stays. Without the `dynkey` and `ip` families the verifier refuses
    /// the instruction (no address reaches the stack): false.
    pub(super) fn in_ip_cell(&self, a: Cell<'v>, set: u16) -> Cell<'v> {
        match a {
            Cell::Err(e) => Cell::Err(e),
            #[cfg(all(feature = "dynkey", feature = "ip"))]
            Cell::Ip(x) => Cell::Bool(crate::ip::table_contains(self.bundle.ip_table(set), x)),
            _ => {
                let _ = set;
                FALSE
            }
        }
    }

    /// `cmp.ip op` (issue #13, session 10): the address cells `a` and `b` compared by their
    /// 128-bit value; the smaller error when either is one.
    pub(super) fn cmp_ip_cells(op: CmpOp, a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
        match (a, b) {
            (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
            #[cfg(all(feature = "dynkey", feature = "ip"))]
            (Cell::Ip(x), Cell::Ip(y)) => Cell::Bool(op.test(crate::ip::cmp(x, y))),
            _ => {
                let _ = op;
                FALSE
            }
        }
    }
}
