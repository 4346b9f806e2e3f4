//! Positional list access (issue #13, session 7): `xs[2]`, `xs[-1]`, `xs[0].name`.
//!
//! A positional access is a scalar slot of its own whose path text is the list's path followed
//! by `[i]` (a decimal index, negative counting from the end) and, for a list of records, the
//! field's relative path (`xs[0].name`). Its value is **derived** from the list slot's value
//! once the request is read ([`derive()`]): the element (or the element's field) when the list is
//! valid and the index in range, [`Value::Missing`] when the list is missing or the index is
//! out of range, and the list's own error (`Invalid`) when the list is invalid. So `has xs[2]`,
//! `xs[2] ?? d` and errors naming `xs[2]` work as for any attribute, and the interpreter, the
//! JIT and the verifier's code checks see an ordinary scalar slot.

use crate::bundle::{Bundle, SlotId};
use crate::format::kind;
use crate::path::{is_canonical, segments};
use crate::read;
use crate::value::Value;
use crate::vocab::ErrKind;

/// The largest index magnitude of a positional path (list lengths are `u16`-bounded where it
/// matters; a larger index is never in range).
pub const MAX_INDEX: i32 = 65_535;

/// A positional path split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Positional<'a> {
    /// The list's path text (`xs`, `spec.containers`).
    pub list: &'a str,
    /// The index: from the start when `>= 0`, from the end when negative (`-1` the last).
    pub index: i32,
    /// The element field's relative path (`name`, `["a.b"]`), empty for a list of scalars.
    pub field: &'a str,
}

/// The parts of positional path text `path` (`xs[2]`, `a.b[-1].name`), or `None` when `path`
/// has no index. Only the first index counts; the field after it must have none.
pub fn positional(path: &str) -> Option<Positional<'_>> {
    let mut segs = segments(path);
    loop {
        let before = segs.rest();
        let seg = segs.next()?;
        let after = segs.rest();
        let region = before.get(..before.len().saturating_sub(after.len()))?;
        let crate::path::Segment::Plain(s) = seg else {
            continue;
        };
        let Some(open) = s.find('[') else {
            continue;
        };
        let at = path.len().checked_sub(before.len())? + region.len().checked_sub(s.len())?;
        let list = path.get(..at + open)?;
        let inner = s.get(open + 1..)?.strip_suffix(']')?;
        let index = index(inner)?;
        let field = after.strip_prefix('.').unwrap_or(after);
        if !field.is_empty() && positional(field).is_some() {
            return None;
        }
        return Some(Positional { list, index, field });
    }
}

/// The index text between the brackets: `0`, `[1-9][0-9]*`, or `-` and `[1-9][0-9]*`, at most
/// [`MAX_INDEX`] in magnitude.
fn index(t: &str) -> Option<i32> {
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t),
    };
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && !neg || !digits.starts_with('0'))
        && digits.len() <= 5;
    if !ok {
        return None;
    }
    let n: i32 = digits.parse().ok()?;
    (n <= MAX_INDEX).then_some(if neg { -n } else { n })
}

/// Whether `path` is a canonical positional path: a canonical list path, a canonical index
/// and an empty or canonical field path.
pub fn is_canonical_positional(path: &str) -> bool {
    positional(path)
        .is_some_and(|p| is_canonical(p.list) && (p.field.is_empty() || is_canonical(p.field)))
}

/// The value of positional slot `s` derived from the other slots' `values` (see the module
/// documentation); `None` when `s` is not positional.
pub fn value<'v>(bundle: &Bundle<'_>, s: SlotId, values: &[Value<'v>]) -> Option<Value<'v>> {
    if !crate::family::Family::Positional.enabled() {
        // The verifier refuses positional slots in a build without the family (issue #15).
        return None;
    }
    let p = positional(bundle.slot_info(s).path)?;
    let Some(list) = bundle.slot(p.list) else {
        return Some(Value::Missing);
    };
    let v = values
        .get(usize::from(list))
        .copied()
        .unwrap_or(Value::Missing);
    Some(element(bundle, list, p, v))
}

/// The slot of the list positional slot `s` reads, when `s` is positional and its list is a
/// slot of the bundle.
pub fn list_of(bundle: &Bundle<'_>, s: SlotId) -> Option<SlotId> {
    if !crate::family::Family::Positional.enabled() {
        return None;
    }
    bundle.slot(positional(bundle.slot_info(s).path)?.list)
}

/// The value at `p` of list slot `list` whose value is `v` (see the module documentation).
pub fn element<'v>(
    bundle: &Bundle<'_>,
    list: SlotId,
    p: Positional<'_>,
    v: Value<'v>,
) -> Value<'v> {
    let decl = bundle.list_decl(list);
    let (vals, stride) = match read::list(bundle, decl, v) {
        Ok(l) => l,
        Err(ErrKind::Missing) => return Value::Missing,
        Err(k) => return Value::Invalid(k),
    };
    let n = vals.len() / stride.max(1);
    let i = if p.index < 0 {
        n.checked_sub(p.index.unsigned_abs() as usize)
    } else {
        Some(p.index as usize).filter(|&i| i < n)
    };
    let Some(i) = i else {
        return Value::Missing;
    };
    let f = if decl.kind == kind::LIST {
        0
    } else {
        match (0..decl.fields).find(|&f| bundle.field_info(list, f).path == p.field) {
            Some(f) => usize::from(f),
            None => return Value::Missing,
        }
    };
    vals.get(i.saturating_mul(stride).saturating_add(f))
        .copied()
        .unwrap_or(Value::Missing)
}

/// Fills every positional slot of `values` from its list ([`value`]). Call it once a request
/// is read, before evaluating (every host reader does).
pub fn derive(bundle: &Bundle<'_>, values: &mut [Value<'_>]) {
    if !crate::family::Family::Positional.enabled() {
        // No positional slot in a bundle this build loads (issue #15).
        return;
    }
    for s in 0..bundle.slot_count().min(values.len()) {
        let Ok(slot) = SlotId::try_from(s) else {
            break;
        };
        if let Some(v) = value(bundle, slot, values) {
            if let Some(out) = values.get_mut(s) {
                *out = v;
            }
        }
    }
}

/// A positional element field (issue #13, session 9): field `field` of list-of-records slot
/// `list` whose path is a position on a sibling list field (`args[0]`, `ports[-1].port`):
/// the nested list's slot, the sibling field holding it, and the position.
pub fn field_position<'b>(
    bundle: &Bundle<'b>,
    list: SlotId,
    field: u16,
) -> Option<(SlotId, u16, Positional<'b>)> {
    if !crate::family::Family::Positional.enabled() {
        return None;
    }
    let p = positional(bundle.field_info(list, field).path)?;
    let sibling = bundle.field(list, p.list)?;
    let nested = bundle.nested_slot(list, sibling)?;
    Some((nested, sibling, p))
}

/// Whether list-of-records slot `list` has a positional element field ([`field_position`]),
/// which the readers derive in each element ([`derive_element`]).
pub fn has_field_positions(bundle: &Bundle<'_>, list: SlotId) -> bool {
    if !crate::family::Family::Positional.enabled() || bundle.slot_rec(list).kind() != kind::RECORDS
    {
        return false;
    }
    (0..bundle.slot_rec(list).field_count()).any(|f| field_position(bundle, list, f).is_some())
}

/// Fills the positional fields of one element `elem` (its field values, in field order) of
/// list-of-records slot `list` from the nested list fields they select (issue #13, session 9):
/// the element (or its field) at the position of the element's list field; missing when that
/// list is missing or the position out of range; the list's error when it is invalid
/// (`NotRecord` when the element is no record). Every host reader calls it on each element of a
/// list for which [`has_field_positions`] holds.
pub fn derive_element(bundle: &Bundle<'_>, list: SlotId, elem: &mut [Value<'_>]) {
    if !crate::family::Family::Positional.enabled() || bundle.slot_rec(list).kind() != kind::RECORDS
    {
        return;
    }
    for f in 0..bundle.slot_rec(list).field_count() {
        let Some((nested, sibling, p)) = field_position(bundle, list, f) else {
            continue;
        };
        let v = elem
            .get(usize::from(sibling))
            .copied()
            .unwrap_or(Value::Missing);
        // An element that is no record holds `NotRecord` in every field, its list field too:
        // the list's error, kept.
        let d = element(bundle, nested, p, v);
        if let Some(out) = elem.get_mut(usize::from(f)) {
            *out = d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_paths_split() {
        let p = |list, index, field| Some(Positional { list, index, field });
        assert_eq!(positional("xs[2]"), p("xs", 2, ""));
        assert_eq!(positional("a.b[-1]"), p("a.b", -1, ""));
        assert_eq!(positional("a.b[0].name"), p("a.b", 0, "name"));
        assert_eq!(positional("m[\"x.y\"][3]"), p("m[\"x.y\"]", 3, ""));
        assert_eq!(positional("xs[0][\"a.b\"]"), p("xs", 0, "[\"a.b\"]"));
        for bad in [
            "xs",
            "xs[01]",
            "xs[-0]",
            "xs[a]",
            "xs[]",
            "xs[1",
            "xs[999999]",
            "m[\"a[1]\"]",
        ] {
            assert_eq!(positional(bad), None, "{bad}");
        }
        assert!(is_canonical_positional("a.b[0].name"));
        assert!(!is_canonical_positional("a..b[0]"));
    }
}
