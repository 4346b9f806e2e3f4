//! The trigger index as hash maps: per indexed slot, the policies each key can trigger.
//!
//! Built once per loaded bundle from its sorted index sections. A request visits the
//! unindexed policies, then for every group either the bucket of its slot's key, or (when the
//! slot cannot be read as the group's type, so the trigger may be an error) every policy of
//! the group. This visits exactly the policies `ipe_nostd::vm::for_each_candidate` visits.

use hashbrown::HashMap;
use ipe_nostd::format::NONE_U16;
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::{Bundle, PolicyId, SlotId, Value, ValueKind};

/// A `(start, len)` range of [`Index::ids`].
type Span = (u32, u32);

/// One indexed slot.
#[derive(Debug)]
struct Group {
    slot: SlotId,
    kind: ValueKind,
    enum_id: u16,
    /// Members of the slot's enum (ranks at or above it are errors).
    enum_len: u32,
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
            let enum_len = if info.enum_id != NONE_U16 && bundle.has_enum(info.enum_id) {
                bundle.enum_members(info.enum_id).count() as u32
            } else {
                0
            };
            groups.push(Group {
                slot: group.slot,
                kind: info.kind,
                enum_id: info.enum_id,
                enum_len,
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

    /// Calls `f` once per candidate policy for these slot values (in no particular order).
    #[inline]
    pub(crate) fn for_each_candidate(
        &self,
        bundle: &Bundle<'_>,
        values: &[Value<'_>],
        mut f: impl FnMut(PolicyId),
    ) {
        for &id in self.unindexed.iter() {
            f(id);
        }
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
                    f(id);
                }
            }
        }
    }
}

impl Group {
    /// The key this value has for the group's slot, as the interpreter reads it.
    #[inline]
    fn key(&self, bundle: &Bundle<'_>, value: Value<'_>) -> Key {
        match (self.kind, value) {
            (ValueKind::Str, Value::Str(s)) if s.sym == NO_SYMBOL => Key::Nothing,
            (ValueKind::Str, Value::Str(s)) => Key::Bucket(i64::from(s.sym)),
            (ValueKind::Int, Value::Int(i)) => Key::Bucket(i),
            (ValueKind::Bool, Value::Bool(b)) => Key::Bucket(i64::from(b)),
            (ValueKind::Enum, Value::Enum(r)) if u32::from(r) < self.enum_len => {
                Key::Bucket(i64::from(r))
            }
            (ValueKind::Enum, Value::Str(s)) => match bundle.enum_rank(self.enum_id, s) {
                Some(r) => Key::Bucket(i64::from(r)),
                None => Key::All,
            },
            _ => Key::All,
        }
    }
}
