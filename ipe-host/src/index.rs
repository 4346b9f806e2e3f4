//! The trigger index as hash maps: per indexed slot, the policies each key can trigger.
//!
//! Built once per loaded bundle from its sorted index sections. A request visits the
//! unindexed policies, then for every group either the bucket of its slot's key, or (when the
//! slot cannot be read as the group's type, so the trigger may be an error) every policy of
//! the group. This visits exactly the policies `ipe_nostd::vm::for_each_admitted` visits.

use hashbrown::HashMap;
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
    buckets: HashMap<i64, Span>,
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
            let mut buckets = HashMap::with_capacity(group.buckets as usize);
            for r in bundle.index_buckets(&group) {
                buckets.insert(r.key(), copy(r.first_policy(), r.policy_count()));
            }
            groups.push(Group {
                slot: group.slot,
                kind: kind::from_value_kind(info.kind),
                enum_id: info.enum_id,
                all,
                buckets,
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

    /// Calls `run` once per policy to evaluate for these slot values, which returns its
    /// outcome: the unindexed policies first, in ascending ids, those after the deciding rule
    /// of their first-match group left out (`ipe_nostd::vm::run_unindexed`, which checks once
    /// whether the bundle has groups at all), then the index candidates (never group rules).
    #[inline]
    pub(crate) fn for_each_admitted(
        &self,
        bundle: &Bundle<'_>,
        values: &[Value<'_>],
        mut run: impl FnMut(PolicyId) -> Outcome,
    ) {
        ipe_nostd::vm::run_unindexed(bundle, self.unindexed.iter().copied(), &mut run);
        for g in self.groups.iter() {
            let value = values
                .get(usize::from(g.slot))
                .copied()
                .unwrap_or(Value::Missing);
            let span = match g.key(bundle, value) {
                Key::Bucket(k) => g.buckets.get(&k).copied(),
                Key::Nothing => None,
                Key::All => Some(g.all),
            };
            if let Some((start, n)) = span {
                let (start, n) = (start as usize, n as usize);
                for &id in self.ids.get(start..start.saturating_add(n)).unwrap_or(&[]) {
                    run(id);
                }
            }
        }
    }
}

impl Group {
    /// The key this value has for the group's slot, as the interpreter reads it
    /// ([`read::scalar`] and [`read::key`]).
    #[inline]
    fn key(&self, bundle: &Bundle<'_>, value: Value<'_>) -> Key {
        match read::scalar(bundle, value, self.kind, self.enum_id) {
            Ok(s) => read::key(&s).map_or(Key::Nothing, Key::Bucket),
            Err(_) => Key::All,
        }
    }
}
