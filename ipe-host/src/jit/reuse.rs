//! Native code reused across versions (issue #15): a policy whose compiled code would be the
//! same in the new version keeps the code of the version it replaces instead of being
//! compiled again.
//!
//! Compiled code depends on the policy's verified bytecode, on the bundle metadata it reads
//! through the version's [`Shapes`] (constants, sets, IP tables, regexes) and on the request
//! layout the readers build (slots, fields of lists of records, enums, and the symbol numbers
//! strings are interned to). Each version's [`Keys`] hold:
//!
//! - an *environment* digest of what every policy's code may read: the whole symbol table,
//!   slot and field records and enums. Code moves only between versions whose environments
//!   are equal (a change that adds a string literal or an attribute renumbers symbols or slots,
//!   so then every policy is compiled again);
//! - per policy, a SHA-256 of its body kind, clause flags and code, where an operand naming a
//!   constant, a set or a regex is replaced by the *content* it names (the constant's kind and
//!   value, or for a lookup the constants of every row of its table; the set's keys and IP
//!   ranges; the regex's DFA), so a policy keeps its key when another policy's change shifts
//!   the numbering of those tables. Slots, fields, levels, operators and jump distances are
//!   kept as they are.
//!
//! Reused code keeps pointing into the [`Shapes`] of the version it was compiled for: the
//! `JitSet` owns an `Arc` of them, and each version holding the code owns an `Arc` of the
//! `JitSet` ([`super::tiering::Table`]), so the code region is freed with the last version
//! that runs it. Equal keys mean that code reads equal contents there.
//!
//! What code generation reads must stay covered here: an instruction that reads a range of
//! constants other than a lookup's rows (one constant per key of its set), or any new bundle
//! table, needs its content added to [`Keys::of`].

use std::hash::{Hash, Hasher};

use ipe_nostd::bundle::{BodyKind, PolicyId};
use ipe_nostd::isa::{Instr, OperandValue};
use ipe_nostd::Bundle;
use sha2::{Digest, Sha256};

use super::shapes::Shapes;

/// A content digest (SHA-256).
pub(crate) type Key = [u8; 32];

/// The reuse keys of one version: its environment digest and one key per policy.
#[derive(Debug)]
pub(crate) struct Keys {
    env: Key,
    policies: Box<[Key]>,
    /// The first policy with each key (to find a policy of this version from a key; the keys
    /// are digests, so hashbrown's hasher, not SipHash: issue #15).
    by_key: hashbrown::HashMap<Key, PolicyId>,
}

/// A [`Hasher`] writing into a SHA-256 (so `#[derive(Hash)]` operands can be fed to it).
struct Sha(Sha256);

impl Hasher for Sha {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        Digest::update(&mut self.0, bytes);
    }
}

impl Sha {
    fn new(domain: &[u8]) -> Sha {
        let mut h = Sha(Sha256::new());
        h.write(domain);
        h
    }

    fn key(self) -> Key {
        let mut k = [0u8; 32];
        k.copy_from_slice(&self.0.finalize());
        k
    }
}

impl Keys {
    /// The keys of every policy of `bundle`, whose metadata `sh` holds ([`Shapes::of`]).
    pub(crate) fn of(bundle: &Bundle<'_>, sh: &Shapes) -> Keys {
        let regexes: Vec<Key> = (0..bundle.dfas().len())
            .map(|i| {
                let mut h = Sha::new(b"ipe-jit-regex");
                let entry = u16::try_from(i)
                    .ok()
                    .and_then(|i| ipe_nostd::regex::nth(bundle.regexes(), i));
                match entry {
                    Some(e) => {
                        h.write_usize(e.dfa.len());
                        h.write(e.dfa);
                    }
                    None => h.write_usize(usize::MAX),
                }
                h.key()
            })
            .collect();
        let policies: Box<[Key]> = (0..bundle.policy_count())
            .filter_map(|i| PolicyId::try_from(i).ok())
            .map(|id| policy_key(bundle, sh, &regexes, id))
            .collect();
        let mut by_key = hashbrown::HashMap::with_capacity(policies.len());
        for (i, k) in policies.iter().enumerate() {
            if let Ok(id) = PolicyId::try_from(i) {
                by_key.entry(*k).or_insert(id);
            }
        }
        Keys {
            env: env_key(sh),
            policies,
            by_key,
        }
    }

    /// Whether code compiled for a policy of `other` reads the same environment as code
    /// compiled for one of these (then equal policy keys mean interchangeable code).
    pub(crate) fn same_env(&self, other: &Keys) -> bool {
        self.env == other.env
    }

    /// The key of policy `id`.
    pub(crate) fn get(&self, id: PolicyId) -> Option<&Key> {
        self.policies.get(usize::from(id))
    }

    /// Every policy's key, in id order.
    pub(crate) fn all(&self) -> &[Key] {
        &self.policies
    }

    /// A policy of this version with key `key`, if any.
    pub(crate) fn find(&self, key: &Key) -> Option<PolicyId> {
        self.by_key.get(key).copied()
    }
}

/// The digest of what every policy's code may read besides its own operands.
fn env_key(sh: &Shapes) -> Key {
    let mut h = Sha::new(b"ipe-jit-env-1");
    h.write_usize(sh.symbols.len());
    for s in &sh.symbols {
        h.write_usize(s.len());
        h.write(s.as_bytes());
    }
    h.write_usize(sh.slots.len());
    for s in &sh.slots {
        h.write_u8(s.kind);
        h.write_u8(s.elem);
        h.write_u16(s.enum_id);
        h.write_u16(s.first_field);
        h.write_u16(s.fields);
        h.write_u32(s.max_len);
    }
    h.write_usize(sh.fields.len());
    for &(k, e) in &sh.fields {
        h.write_u8(k);
        h.write_u16(e);
    }
    h.write_usize(sh.enums.len());
    for e in &sh.enums {
        h.write_usize(e.len());
        for &m in e {
            h.write_u32(m);
        }
    }
    h.key()
}

/// The key of policy `id`: what its compiled code is a function of, besides the environment.
fn policy_key(bundle: &Bundle<'_>, sh: &Shapes, regexes: &[Key], id: PolicyId) -> Key {
    let p = bundle.policy(id);
    let mut h = Sha::new(b"ipe-jit-policy-1");
    h.write_u8(u8::from(p.kind == BodyKind::Denies));
    h.write_u64(u64::from(p.clauses));
    code_key(&mut h, sh, regexes, p.trigger);
    for c in 0..p.clauses {
        let clause = bundle.clause(p.first_clause.saturating_add(c.into()));
        h.write_u8(u8::from(clause.witness));
        h.write_u8(u8::from(clause.reports_count));
        code_key(&mut h, sh, regexes, clause.code);
    }
    h.key()
}

/// Feeds one code block to `h`, instruction by instruction, table operands by content.
fn code_key(h: &mut Sha, sh: &Shapes, regexes: &[Key], code: &[u8]) {
    h.write_usize(code.len());
    let mut pc = 0;
    while pc < code.len() {
        let Ok((instr, next)) = Instr::decode(code, pc) else {
            // Never for verified code: the raw rest, with its numbering.
            h.write_u8(0);
            h.write(code.get(pc..).unwrap_or(&[]));
            return;
        };
        instr_key(h, sh, regexes, &instr);
        pc = next;
    }
}

fn instr_key(h: &mut Sha, sh: &Shapes, regexes: &[Key], instr: &Instr) {
    h.write_u8(instr.opcode() as u8);
    // A lookup reads one constant per key of its set, from its constant operand on.
    let mut rows = None;
    let _ = instr.try_for_each_operand(|op| {
        if let OperandValue::Set(s) = op {
            rows = Some(sh.set(s.0).len());
        }
        Ok::<(), ()>(())
    });
    let _ = instr.try_for_each_operand(|op| {
        match op {
            OperandValue::Const(c) => {
                let n = rows.unwrap_or(1);
                h.write_u8(b'c');
                h.write_usize(n);
                for i in 0..n {
                    let at = usize::from(c.0).checked_add(i);
                    match at.and_then(|j| sh.consts.get(j)) {
                        Some(&(k, v)) => {
                            h.write_u8(k);
                            h.write_i64(v);
                        }
                        None => h.write_u8(u8::MAX),
                    }
                }
            }
            OperandValue::Set(s) => {
                h.write_u8(b's');
                let keys = sh.set(s.0);
                h.write_usize(keys.len());
                for &k in keys {
                    h.write_i64(k);
                }
                let table = sh.ip_table(s.0);
                h.write_usize(table.len());
                h.write(table);
            }
            OperandValue::Regex(r) => {
                h.write_u8(b'r');
                match regexes.get(usize::from(r.0)) {
                    Some(k) => h.write(k),
                    None => h.write_u8(u8::MAX),
                }
            }
            OperandValue::Ranges(t) => {
                // The code tests small tables inline: their content, not their number.
                h.write_u8(b'n');
                let table = ipe_nostd::ranges::table(&sh.int_ranges, t.0).unwrap_or(&[]);
                h.write_usize(table.len());
                h.write(table);
            }
            other => {
                h.write_u8(b'o');
                other.hash(h);
            }
        }
        Ok::<(), ()>(())
    });
}

#[cfg(test)]
mod tests {
    use ipe_nostd::Bundle;

    use super::Keys;
    use crate::jit::shapes::Shapes;

    fn bytes(src: &str) -> Vec<u8> {
        let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
        ipe_compile::lower::lower(&program).expect("lowers").bytes
    }

    fn keys(b: &[u8]) -> Keys {
        let bundle = Bundle::from_bytes(b).expect("verifies");
        Keys::of(&bundle, &Shapes::of(&bundle))
    }

    /// `n` policies; policy `changed` (if any) gets another limit, a constant no other policy
    /// uses, which shifts the constant numbers of every later policy.
    fn source(n: usize, changed: Option<usize>) -> String {
        let mut src =
            String::from("schema {\n  kind: string\n  n: int\n  team: string\n}\ndefault allow\n");
        for i in 0..n {
            let limit = if changed == Some(i) { 1_000 + i } else { i % 3 };
            src.push_str(&format!(
                "policy P{i}:\n  \"p\"\n  triggers when kind == \"k{}\"\n  requires\n    \
                 n > {limit} and team in [\"a\", \"b{i}\"]\n",
                i % 4
            ));
        }
        src
    }

    #[test]
    fn a_policy_keeps_its_key_when_another_policy_changes() {
        let a = keys(&bytes(&source(12, None)));
        let b = keys(&bytes(&source(12, Some(5))));
        assert!(a.same_env(&b));
        for (i, (ka, kb)) in a.all().iter().zip(b.all()).enumerate() {
            assert_eq!(ka == kb, i != 5, "policy {i}");
        }
        // Equal code is found by key, different code is not.
        assert_eq!(b.find(a.get(7).expect("a key")), Some(7));
        assert_eq!(b.find(a.get(5).expect("a key")), None);
        // Different triggers (`k0`, `k1`), different keys.
        assert_ne!(a.get(0), a.get(1));
    }

    #[test]
    fn a_new_string_changes_the_environment() {
        let a = keys(&bytes(&source(4, None)));
        let b = keys(&bytes(&source(5, None)));
        // `b4` is a new symbol: symbols may be renumbered, so no code moves.
        assert!(!a.same_env(&b));
        let c = keys(&bytes(&source(4, None)));
        assert!(a.same_env(&c));
        assert_eq!(a.all(), c.all());
    }

    /// A range table is tested inline by the native code: a policy whose table's content
    /// changes (same table number) gets another key, one whose table does not keeps its own.
    #[test]
    fn a_changed_range_table_changes_the_key() {
        let src = |hi: i64| {
            format!(
                "schema {{\n  n: int\n  m: int\n}}\ndefault allow\n\
                 policy A:\n  \"a\"\n  requires n in [1..{hi}, 9, 20..30]\n\
                 policy B:\n  \"b\"\n  requires m in [100..200, 300, 400..500]\n"
            )
        };
        let a = keys(&bytes(&src(5)));
        let b = keys(&bytes(&src(6)));
        assert!(a.same_env(&b));
        assert_ne!(a.get(0), b.get(0), "A's table changed");
        assert_eq!(a.get(1), b.get(1), "B's table did not");
    }
}
