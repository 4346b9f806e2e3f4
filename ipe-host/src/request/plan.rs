//! The per-bundle request plan: every slot and record-field path split into a tree of
//! segments once at load, so a JSON request is read in one pass ([`super::stream`]).

use std::hash::BuildHasher;

use bumpalo::Bump;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use ipe_nostd::bundle::SlotId;
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::{Bundle, Str, Value, ValueKind};

use crate::error::Error;

/// How one attribute or record field is read.
#[derive(Clone, Copy, Debug)]
pub(super) enum Shape {
    /// A scalar of this kind.
    Scalar(ValueKind),
    /// A list of scalars.
    Scalars { elem: ValueKind, max_len: u32 },
    /// A list of records: `fields` fields read through the tree at node `root`, whose kinds
    /// start at `first_kind` in [`Plan::kinds`].
    Records {
        fields: u16,
        root: u32,
        first_kind: u32,
        max_len: u32,
        /// The list's slot when its elements have positional fields (`c.args[0]`, session
        /// 9), derived once each element is read.
        positions: Option<SlotId>,
    },
    /// A map (issue 13): a JSON object read as (key, value) entries, values of kind `value`.
    Map { value: ValueKind, max_len: u32 },
    /// A map of records (issue 13): a JSON object read as entries of `fields` values each,
    /// the key then the value's fields, read through the tree at node `root` (field `f` of
    /// the slot is target `f - 1` there) with kinds from `first_kind` in [`Plan::kinds`].
    MapRecords {
        fields: u16,
        root: u32,
        first_kind: u32,
        max_len: u32,
    },
}

/// A path-tree node: one path segment (an object key, escapes resolved).
#[derive(Debug, Default)]
pub(super) struct Node {
    pub(super) children: HashMap<Box<str>, u32>,
    /// The same children in the order their paths were inserted (the bundle's slot order),
    /// matched against a request's keys before the hash table ([`Node::child`]).
    pub(super) order: Vec<(Box<str>, u32)>,
    /// The slot (or record field) whose path ends here, and how it is read.
    pub(super) target: Option<(u16, Shape)>,
    /// On the node of a fixed key of a map of records (`m["k"]`, issue 13): the slots read at
    /// a field of that key's value (`m["k"].port`), as (entry field, slot).
    pub(super) fixed: Vec<(u16, u16)>,
}

/// Children up to this many are matched by comparing keys in order; more by hashing.
const SCAN: usize = 16;

impl Node {
    /// The child at key `key` as (its index in [`Node::order`], its node): the expected
    /// index `hint` (the one after the previous key's) is compared first, then the others.
    #[inline]
    pub(super) fn child(&self, key: &str, hint: usize) -> Option<(usize, u32)> {
        if let Some((k, c)) = self.order.get(hint) {
            if **k == *key {
                return Some((hint, *c));
            }
        }
        if self.order.len() <= SCAN {
            return self
                .order
                .iter()
                .enumerate()
                .find(|(_, (k, _))| **k == *key)
                .map(|(i, &(_, c))| (i, c));
        }
        let &c = self.children.get(key)?;
        self.order.iter().position(|&(_, o)| o == c).map(|i| (i, c))
    }
}

/// The attribute paths of one bundle, split into segments once at load, so a JSON request is
/// read in one pass with no intermediate tree and no per-slot path splitting.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Node 0 is the request root; each list-of-records slot has its own field-tree root.
    pub(super) nodes: Vec<Node>,
    /// Field kinds of every list-of-records slot.
    pub(super) kinds: Vec<ValueKind>,
    /// The positional slots (`xs[2]`, session 7), derived from their lists once read.
    pub(super) positional: Vec<SlotId>,
    /// The bundle's symbol ids by their text's hash ([`Plan::intern`]).
    symbols: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Plan {
    /// Splits every slot and field path of `bundle` into a tree.
    pub(crate) fn build(bundle: &Bundle<'_>) -> Plan {
        let mut plan = Plan {
            nodes: vec![Node::default()],
            ..Plan::default()
        };
        for s in 0..bundle.slot_count() {
            let Ok(slot) = SlotId::try_from(s) else {
                break;
            };
            if bundle.is_nested_slot(slot) {
                // Read inside the elements of the list that holds it.
                continue;
            }
            if ipe_nostd::positional::list_of(bundle, slot).is_some() {
                // Derived from its list once the request is read.
                plan.positional.push(slot);
                continue;
            }
            let shape = plan.shape(bundle, slot);
            plan.insert(0, bundle.slot_info(slot).path, slot, shape);
        }
        for s in 0..bundle.slot_count() {
            if let Ok(slot) = SlotId::try_from(s) {
                plan.fix_map_field(bundle, slot);
            }
        }
        let Plan {
            symbols, hasher, ..
        } = &mut plan;
        for sym in 0..bundle.symbol_count() {
            let Ok(id) = u32::try_from(sym) else {
                break;
            };
            let h = hasher.hash_one(bundle.symbol(id));
            symbols.insert_unique(h, id, |&i| hasher.hash_one(bundle.symbol(i)));
        }
        plan
    }

    /// Looks request text up among `bundle`'s symbols, by hash (the same answer as
    /// [`Bundle::intern`], the symbols being distinct; the plan was built from `bundle`).
    #[inline]
    pub(super) fn intern<'s>(&self, bundle: &Bundle<'_>, text: &'s str) -> Str<'s> {
        let h = self.hasher.hash_one(text);
        let sym = self
            .symbols
            .find(h, |&i| bundle.symbol(i) == text)
            .copied()
            .unwrap_or(NO_SYMBOL);
        Str { text, sym }
    }

    /// If scalar slot `slot` is a field of a fixed key of a map of records (`m["k"].port`),
    /// records it on the key's node, so reading that entry sets it.
    fn fix_map_field(&mut self, bundle: &Bundle<'_>, slot: SlotId) {
        let path = bundle.slot_info(slot).path;
        let Some(map) = ipe_nostd::path::prefixes(path)
            .filter_map(|p| bundle.slot(p))
            .find(|&m| bundle.is_record_map(m))
        else {
            return;
        };
        let map_path = bundle.slot_info(map).path;
        let after = path.get(map_path.len()..).unwrap_or("");
        let mut segs = ipe_nostd::path::segments(after.strip_prefix('.').unwrap_or(after));
        let _key = segs.next();
        let inner = segs.rest();
        let key_path = path.get(..path.len() - inner.len()).unwrap_or("");
        let inner = inner.strip_prefix('.').unwrap_or(inner);
        let Some(field) = (1..bundle.slot_info(map).fields)
            .find(|&f| ipe_nostd::path::split_first(bundle.field_info(map, f).path).1 == inner)
        else {
            return;
        };
        let Some(node) = self.find(key_path) else {
            return;
        };
        if let Some(n) = self.nodes.get_mut(node as usize) {
            n.fixed.push((field, slot));
        }
    }

    /// The node of `path` from the root, if the tree has it.
    fn find(&self, path: &str) -> Option<u32> {
        let mut at = 0u32;
        for seg in ipe_nostd::path::segments(path) {
            let mut key = String::new();
            // Writing to a `String` cannot fail.
            let _ = seg.write_key(&mut key);
            at = *self.nodes.get(at as usize)?.children.get(key.as_str())?;
        }
        Some(at)
    }

    /// How slot `slot` is read; a nested list field (issue #13) is read with its own slot's
    /// shape (the verifier orders nested slots after their parent, so this ends).
    fn shape(&mut self, bundle: &Bundle<'_>, slot: SlotId) -> Shape {
        let info = bundle.slot_info(slot);
        match (info.kind, info.elem) {
            (ValueKind::List, None) if bundle.is_record_map(slot) => {
                let root = self.new_node();
                let first_kind = self.kinds.len() as u32;
                for f in 1..info.fields {
                    self.kinds.push(bundle.field_info(slot, f).kind);
                }
                for f in 1..info.fields {
                    let fi = bundle.field_info(slot, f);
                    // `value.port` of the entry is `port` of the value.
                    let (_, inner) = ipe_nostd::path::split_first(fi.path);
                    self.insert(root, inner, f - 1, Shape::Scalar(fi.kind));
                }
                Shape::MapRecords {
                    fields: info.fields,
                    root,
                    first_kind,
                    max_len: info.max_len,
                }
            }
            (ValueKind::List, None) if bundle.is_map(slot) => Shape::Map {
                value: bundle.field_info(slot, 1).kind,
                max_len: info.max_len,
            },
            (ValueKind::List, Some(elem)) => Shape::Scalars {
                elem,
                max_len: info.max_len,
            },
            (ValueKind::List, None) => {
                let root = self.new_node();
                let first_kind = self.kinds.len() as u32;
                for f in 0..info.fields {
                    self.kinds.push(bundle.field_info(slot, f).kind);
                }
                for f in 0..info.fields {
                    let fi = bundle.field_info(slot, f);
                    if ipe_nostd::positional::field_position(bundle, slot, f).is_some() {
                        // Derived from its list field, never read from a key.
                        continue;
                    }
                    let shape = match bundle.nested_slot(slot, f) {
                        Some(n) if n > slot => self.shape(bundle, n),
                        _ => Shape::Scalar(fi.kind),
                    };
                    self.insert(root, fi.path, f, shape);
                }
                Shape::Records {
                    fields: info.fields,
                    root,
                    first_kind,
                    max_len: info.max_len,
                    positions: ipe_nostd::positional::has_field_positions(bundle, slot)
                        .then_some(slot),
                }
            }
            (k, _) => Shape::Scalar(k),
        }
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    fn insert(&mut self, root: u32, path: &str, target: u16, shape: Shape) {
        let mut at = root;
        for seg in ipe_nostd::path::segments(path) {
            let mut key = String::new();
            // Writing to a `String` cannot fail.
            let _ = seg.write_key(&mut key);
            let seg = key.as_str();
            let existing = self
                .nodes
                .get(at as usize)
                .and_then(|n| n.children.get(seg).copied());
            at = match existing {
                Some(c) => c,
                None => {
                    let c = self.new_node();
                    if let Some(n) = self.nodes.get_mut(at as usize) {
                        n.children.insert(seg.into(), c);
                        n.order.push((seg.into(), c));
                    }
                    c
                }
            };
        }
        if let Some(n) = self.nodes.get_mut(at as usize) {
            n.target = Some((target, shape));
        }
    }

    /// Fills the positional slots of `values` from their lists (`ipe_nostd::positional`).
    pub(super) fn derive(&self, bundle: &Bundle<'_>, values: &mut [Value<'_>]) {
        for &s in &self.positional {
            if let Some(v) = ipe_nostd::positional::value(bundle, s, values) {
                if let Some(out) = values.get_mut(usize::from(s)) {
                    *out = v;
                }
            }
        }
    }

    /// Reads a JSON request into one value per slot of `bundle`, allocated in `arena`.
    pub(crate) fn parse<'r>(
        &self,
        bundle: &Bundle<'_>,
        json: &'r str,
        arena: &'r Bump,
    ) -> Result<&'r [Value<'r>], Error> {
        super::stream::parse(self, bundle, json, arena)
    }
}
