//! The trigger index: per indexed slot, the policies each key can trigger.
//!
//! Built once per loaded bundle from its sorted index sections. A request visits the
//! unindexed policies, then for every group either the bucket of its slot's key, or (when the
//! slot cannot be read as the group's type, so the trigger may be an error) every policy of
//! the group. This visits exactly the policies `ipe_nostd::vm::for_each_admitted` visits.
//!
//! A group's buckets are a table indexed by key when its keys are dense enough (symbol ids,
//! enum ranks, booleans and small integers usually are), else sorted keys searched by
//! halving: either is a few instructions where a hash map's probe was about a hundred
//! (issue #15).

use std::ops::ControlFlow;

use ipe_nostd::format::kind;
use ipe_nostd::{read, Bundle, Outcome, PolicyId, SlotId, Value};

/// A `(start, len)` range of [`Index::ids`].
type Span = (u32, u32);

/// One indexed slot.
#[derive(Debug)]
struct Group {
    slot: SlotId,
    /// The slot's [`kind`] byte.
    kind: u8,
    enum_id: u16,
    /// Every policy of the group.
    all: Span,
    buckets: Buckets,
}

/// A group's buckets by key.
#[derive(Debug)]
enum Buckets {
    /// `spans[k - min]` is the bucket of key `k` (an empty span: none).
    Dense { min: i64, spans: Box<[Span]> },
    /// Ascending keys and their buckets.
    Sorted {
        keys: Box<[i64]>,
        spans: Box<[Span]>,
    },
}

/// Slots a dense table may have per bucket (beyond [`DENSE_SLACK`]): its keys' range may be
/// this many times their number before the group falls back to sorted keys.
const DENSE_PER_BUCKET: u64 = 8;
/// Slots a dense table may have whatever its number of buckets.
const DENSE_SLACK: u64 = 64;

impl Buckets {
    /// The buckets of `(key, span)` pairs with distinct keys.
    fn build(mut pairs: Vec<(i64, Span)>) -> Buckets {
        pairs.sort_unstable_by_key(|&(k, _)| k);
        pairs.dedup_by_key(|&mut (k, _)| k);
        let (Some(&(min, _)), Some(&(max, _))) = (pairs.first(), pairs.last()) else {
            return Buckets::Sorted {
                keys: Box::new([]),
                spans: Box::new([]),
            };
        };
        let range = (max as i128) - (min as i128) + 1;
        let limit = (pairs.len() as u64)
            .saturating_mul(DENSE_PER_BUCKET)
            .saturating_add(DENSE_SLACK);
        if range <= i128::from(limit) {
            let mut spans = vec![(0u32, 0u32); range as usize];
            for &(k, span) in &pairs {
                if let Some(s) = spans.get_mut((k as i128 - min as i128) as usize) {
                    *s = span;
                }
            }
            return Buckets::Dense {
                min,
                spans: spans.into_boxed_slice(),
            };
        }
        Buckets::Sorted {
            keys: pairs.iter().map(|&(k, _)| k).collect(),
            spans: pairs.iter().map(|&(_, s)| s).collect(),
        }
    }

    /// The bucket of key `k`, if any.
    #[inline(always)]
    fn get(&self, k: i64) -> Option<Span> {
        match self {
            Buckets::Dense { min, spans } => {
                if k < *min {
                    return None;
                }
                // `k - min` fits in a u64 (both are i64 and `k >= min`).
                let i = usize::try_from(k.wrapping_sub(*min) as u64).ok()?;
                // An empty span is no bucket (and selects no policy either way).
                spans.get(i).copied().filter(|&(_, n)| n != 0)
            }
            Buckets::Sorted { keys, spans } => {
                let i = keys.binary_search(&k).ok()?;
                spans.get(i).copied()
            }
        }
    }
}

/// What a slot's value selects in a group.
enum Key {
    /// The bucket of this key, if any.
    Bucket(i64),
    /// No bucket can match (a string outside the bundle's string table).
    Nothing,
    /// The value is missing or of the wrong type: every policy of the group.
    All,
}

/// The candidate lists of one bundle.
#[derive(Debug, Default)]
pub(crate) struct Index {
    unindexed: Box<[PolicyId]>,
    groups: Box<[Group]>,
    ids: Box<[PolicyId]>,
}

impl Index {
    /// Builds the maps from a verified bundle's index sections.
    pub(crate) fn build(bundle: &Bundle<'_>) -> Index {
        let mut ids: Vec<PolicyId> = Vec::new();
        let mut copy = |first: u32, n: u32| -> Span {
            let start = ids.len() as u32;
            ids.extend((first..first.saturating_add(n)).map(|i| bundle.index_policy(i)));
            (start, n)
        };
        let mut groups = Vec::with_capacity(bundle.index_group_count());
        for g in 0..bundle.index_group_count() {
            let group = bundle.index_group(g);
            let info = bundle.slot_info(group.slot);
            let all = copy(group.first_policy, group.policies);
            let mut pairs = Vec::with_capacity(group.buckets as usize);
            for r in bundle.index_buckets(&group) {
                pairs.push((r.key(), copy(r.first_policy(), r.policy_count())));
            }
            groups.push(Group {
                slot: group.slot,
                kind: kind::from_value_kind(info.kind),
                enum_id: info.enum_id,
                all,
                buckets: Buckets::build(pairs),
            });
        }
        Index {
            unindexed: bundle.unindexed().collect(),
            groups: groups.into_boxed_slice(),
            ids: ids.into_boxed_slice(),
        }
    }

    /// Number of policies filed under some indexed slot.
    pub(crate) fn indexed(&self) -> usize {
        self.groups.iter().map(|g| g.all.1 as usize).sum()
    }

    /// Calls `unindexed` then `indexed` (each given `state`) once per policy to evaluate for
    /// these slot values: the unindexed policies first, in ascending ids, those after the
    /// deciding rule of their first-match group left out (`ipe_nostd::vm::try_run_unindexed`,
    /// which checks once whether the bundle has groups at all; `unindexed` returns the
    /// policy's outcome for that gate), then the index candidates (never group rules). Either
    /// closure breaks to stop the walk: the caller has its answer (a deny).
    ///
    /// `indexed` is also given, for a candidate found through its group's bucket, the group's
    /// slot (its value has that bucket's key), so the interpreter may skip the trigger's head
    /// (`ipe_nostd::vm::eval_policy_indexed`); `None` for the others.
    ///
    /// Two closures rather than one (issue #15, session 14): each has one call site, so the
    /// index candidates' closure is inlined into the candidate loop and returns no outcome.
    #[inline(always)]
    pub(crate) fn for_each_admitted<S>(
        &self,
        bundle: &Bundle<'_>,
        values: &[Value<'_>],
        state: &mut S,
        unindexed: impl FnMut(&mut S, PolicyId) -> ControlFlow<(), Outcome>,
        indexed: impl FnMut(&mut S, PolicyId, Option<SlotId>) -> ControlFlow<()>,
    ) {
        // Most indexed bundles have no unindexed policy: the closure's state is not even set up.
        if self.has_unindexed() && self.run_unindexed(bundle, state, unindexed).is_break() {
            return;
        }
        let _ = self.for_each_indexed(bundle, values, state, indexed);
    }

    /// Whether the bundle has policies that every decision visits (no indexed trigger head).
    #[inline(always)]
    pub(crate) fn has_unindexed(&self) -> bool {
        !self.unindexed.is_empty()
    }

    /// The unindexed half of [`for_each_admitted`](Self::for_each_admitted).
    #[inline(always)]
    pub(crate) fn run_unindexed<S>(
        &self,
        bundle: &Bundle<'_>,
        state: &mut S,
        mut unindexed: impl FnMut(&mut S, PolicyId) -> ControlFlow<(), Outcome>,
    ) -> ControlFlow<()> {
        ipe_nostd::vm::try_run_unindexed(bundle, self.unindexed.iter().copied(), |id| {
            unindexed(state, id)
        })
    }

    /// The index candidates' half of [`for_each_admitted`](Self::for_each_admitted).
    #[inline(always)]
    pub(crate) fn for_each_indexed<S>(
        &self,
        bundle: &Bundle<'_>,
        values: &[Value<'_>],
        state: &mut S,
        mut indexed: impl FnMut(&mut S, PolicyId, Option<SlotId>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        for g in self.groups.iter() {
            let value = values.get(usize::from(g.slot)).unwrap_or(&Value::Missing);
            let (span, head) = match g.key(bundle, value) {
                Key::Bucket(k) => (g.buckets.get(k), Some(g.slot)),
                Key::Nothing => (None, None),
                Key::All => (Some(g.all), None),
            };
            if let Some((start, n)) = span {
                let (start, n) = (start as usize, n as usize);
                for &id in self.ids.get(start..start.saturating_add(n)).unwrap_or(&[]) {
                    indexed(state, id, head)?;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

impl Group {
    /// The key this value has for the group's slot, as the interpreter reads it
    /// ([`read::scalar`] and [`read::key`]).
    #[inline(always)]
    fn key(&self, bundle: &Bundle<'_>, value: &Value<'_>) -> Key {
        // Strings and integers of their declared kind: no enum table, no error to build, and
        // the value read in place (issue #15, session 18: a copy of it on the stack was where
        // a JIT decision's probe spent its time).
        if let Some(s) = read::scalar_fast(value, self.kind) {
            return read::key(&s).map_or(Key::Nothing, Key::Bucket);
        }
        self.key_slow(bundle, value)
    }

    /// [`Self::key`] for every other value (enums, booleans, errors).
    #[inline(never)]
    fn key_slow(&self, bundle: &Bundle<'_>, value: &Value<'_>) -> Key {
        match read::scalar(bundle, *value, self.kind, self.enum_id) {
            Ok(s) => read::key(&s).map_or(Key::Nothing, Key::Bucket),
            Err(_) => Key::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Looks up every key of `pairs` and the keys around them in the built buckets and in a
    /// plain map of the pairs: both must agree.
    fn agrees(pairs: &[(i64, Span)]) -> Buckets {
        let b = Buckets::build(pairs.to_vec());
        let map: std::collections::HashMap<i64, Span> = pairs.iter().copied().collect();
        let mut probes = vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        for &(k, _) in pairs {
            probes.extend([k.wrapping_sub(1), k, k.wrapping_add(1)]);
        }
        for k in probes {
            assert_eq!(b.get(k), map.get(&k).copied(), "key {k} of {pairs:?}");
        }
        b
    }

    /// Issue 15: dense keys (symbol ids, ranks) get a table indexed by key, sparse or extreme
    /// ones sorted keys; both find exactly the buckets a map of the same pairs finds.
    #[test]
    fn issue15_buckets_find_what_a_map_finds() {
        let dense: Vec<(i64, Span)> = (0..40).map(|k| (3 * k + 7, (k as u32, 1))).collect();
        assert!(matches!(agrees(&dense), Buckets::Dense { .. }));
        let negative = [(-5, (0, 2)), (-1, (2, 1)), (4, (3, 3))];
        assert!(matches!(agrees(&negative), Buckets::Dense { .. }));
        let sparse = [(0, (0, 1)), (1_000_000, (1, 1)), (-1_000_000, (2, 1))];
        assert!(matches!(agrees(&sparse), Buckets::Sorted { .. }));
        let extremes = [(i64::MIN, (0, 1)), (i64::MAX, (1, 1)), (0, (2, 1))];
        assert!(matches!(agrees(&extremes), Buckets::Sorted { .. }));
        let top = [(i64::MAX - 2, (0, 1)), (i64::MAX, (1, 2))];
        assert!(matches!(agrees(&top), Buckets::Dense { .. }));
        let bottom = [(i64::MIN, (0, 1)), (i64::MIN + 3, (1, 2))];
        assert!(matches!(agrees(&bottom), Buckets::Dense { .. }));
        assert!(matches!(agrees(&[]), Buckets::Sorted { .. }));
    }
}
