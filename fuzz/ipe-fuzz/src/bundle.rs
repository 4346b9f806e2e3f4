//! `bundle`: arbitrary bytes as a bundle, then arbitrary contexts against what is accepted.
//!
//! Input layout: `flags: u8`, `len: u16 LE`, `len` bundle bytes, then the bytes the contexts
//! are drawn from. Flag bit 0 set: the bundle bytes are a *body* and a correct header (magic,
//! version, length, CRC) is put in front, so mutations reach the postcard decoder and the
//! verifier instead of dying at the checksum. Flag bit 1 set: contexts are drawn without
//! regard to the slot types (type-confused host values) instead of well-typed ones.
//!
//! Property: `from_bytes` never panics; when it accepts `b`, `from_bytes(encode(decode(b)))`
//! accepts a body equal to `decode(b)`, and for every context `evaluate` and every
//! `eval_policy_values` return without panicking (and within libFuzzer's `-timeout`, the
//! verifier's cost bound being finite), rendering the decision does not panic, and the
//! decision through the trigger index equals the decision with every policy evaluated.
//!
//! Signed envelopes (issue 18): every input also goes through [`crate::signed::check`].
//!
//! Index mutations (issue 11): the accepted body's index sections (bucket keys, policy-id
//! lists, group slots, the unindexed list) are mutated as the context bytes say and
//! re-encoded with a valid checksum; the verifier must refuse the result, or the interpreter
//! and the host engine (its own hash index) must decide every context exactly as evaluating
//! every policy does.

use arbitrary::Unstructured;
use bumpalo::Bump;
use ipe_nostd::format::{Body, BucketRec, GroupRec, Header, PolicyRefFields, PolicyRefRec};
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::{Bundle, Context, PolicyId, SlotId, Str, Value, ValueKind};

/// Frames a bundle (or a body, with `fix_header`) and context bytes into one input.
pub fn frame(fix_header: bool, typed: bool, bundle: &[u8], ctx: &[u8]) -> Vec<u8> {
    let len = bundle.len().min(usize::from(u16::MAX));
    let mut out = vec![u8::from(fix_header) | (u8::from(!typed) << 1)];
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(&bundle[..len]);
    out.extend_from_slice(ctx);
    out
}

/// The oracle.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((len, rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (raw, ctx_bytes) = rest.split_at(len);
    let owned;
    let bytes = if flags & 1 == 1 {
        // The header must name the version the body needs (2 only with first-match groups):
        // bit 2 of the flags picks it, so both reach the verifier.
        let version = if flags & 4 == 4 {
            ipe_nostd::format::VERSION
        } else {
            ipe_nostd::format::MIN_VERSION
        };
        let mut b = Header::for_body_version(raw, version).write().to_vec();
        b.extend_from_slice(raw);
        owned = b;
        &owned[..]
    } else {
        raw
    };
    // Issue #18: the same bytes as a signed envelope, and sealed then flipped.
    crate::signed::check(bytes, ctx_bytes.iter().map(|&b| usize::from(b)).sum());
    let Ok(bundle) = Bundle::from_bytes(bytes) else {
        return;
    };
    // decode ∘ encode ∘ decode = decode
    let body = Bundle::decode_unverified(bytes)
        .unwrap_or_else(|e| panic!("an accepted bundle does not decode: {e:?}"));
    let again = ipe_compile::lower::encode(&body);
    if let Err(e) = Bundle::from_bytes(&again) {
        panic!("re-encoded accepted bundle is refused: {e:?}");
    }
    assert_eq!(
        Bundle::decode_unverified(&again).ok(),
        Some(body),
        "decode(encode(decode(b))) != decode(b)"
    );

    // The JIT compiles what the verifier accepts; its outcomes are checked against the
    // interpreter's for every context below.
    let jit = crate::jit(&bundle, ipe_host::JitTier::Baseline);
    let typed = flags & 2 == 0;
    let mut u = Unstructured::new(ctx_bytes);
    let arena = Bump::new();
    for _ in 0..4 {
        if u.is_empty() {
            break;
        }
        let values = context(&bundle, &mut u, &arena, typed);
        let ctx = context_of(&values);
        let d: ipe_nostd::Decision<{ ipe_host::MAX_LIST }> = ipe_nostd::evaluate(&bundle, &ctx);
        let indexed = ipe_host::Report::new(&bundle, &d).to_json();
        assert_eq!(
            indexed,
            exhaustive(&bundle, ctx.values()),
            "the trigger index changed the decision"
        );
        if let Some(set) = &jit {
            // `JitSet::eval` is safe for any values: type-confused ones included.
            let _ = crate::jit_decision(set, values);
        }
        for p in 0..bundle.policy_count().min(64) {
            if let Ok(id) = PolicyId::try_from(p) {
                let _ = ipe_nostd::vm::eval_policy_values(&bundle, id, values);
            }
        }
        // A tiny context: slots beyond it read as missing.
        let mut small = Context::<2>::new();
        for (i, v) in values.iter().take(2).enumerate() {
            small.set(i as SlotId, *v);
        }
        let _: ipe_nostd::Decision<1> = ipe_nostd::evaluate(&bundle, &small);
    }
    check_index_mutation(&bundle, &body, ctx_bytes);
}

/// The decision JSON with every policy evaluated (the trigger index ignored), in a
/// fixed-capacity decision of [`ipe_host::MAX_LIST`] entries per list like the interpreter's.
fn exhaustive(bundle: &Bundle<'_>, values: &[Value<'_>]) -> String {
    let mut out =
        ipe_nostd::DecisionBuilder::<{ ipe_host::MAX_LIST }>::new(bundle.default_effect());
    // Every policy in id order; first-match groups (issue #13) stop at their deciding rule.
    let mut groups = ipe_nostd::vm::FirstMatch::new();
    for p in 0..bundle.policy_count() {
        if let Ok(id) = PolicyId::try_from(p) {
            if groups.admit(bundle, id) {
                let o = ipe_nostd::vm::eval_policy_values(bundle, id, values);
                groups.settle(&o);
                out.add(id, o);
            }
        }
    }
    ipe_host::Report::new(bundle, &out.finish()).to_json()
}

/// [`exhaustive`] with complete lists, like the host engine's.
fn exhaustive_complete(bundle: &Bundle<'_>, values: &[Value<'_>]) -> String {
    let mut d = ipe_host::HostDecision::new(bundle.default_effect());
    let mut acc = ipe_nostd::Accumulator::new(bundle.default_effect());
    let mut groups = ipe_nostd::vm::FirstMatch::new();
    for p in 0..bundle.policy_count() {
        if let Ok(id) = PolicyId::try_from(p) {
            if groups.admit(bundle, id) {
                let o = ipe_nostd::vm::eval_policy_values(bundle, id, values);
                groups.settle(&o);
                acc.add(&mut d, id, o);
            }
        }
    }
    acc.finish(&mut d);
    ipe_host::Report::of_host(bundle, &d).to_json()
}

/// Overwrites entry `i` of a policy-id list, if there is one.
fn put_u16(list: &mut [u8], i: usize, v: u16) {
    let _ = PolicyRefFields { policy: v }.put(list, i);
}

/// One index mutation of `bundle` drawn from `u`, re-encoded with a valid header.
fn mutate_index(bundle: &Bundle<'_>, body: &Body<'_>, u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let mut buckets = body.index_buckets.to_vec();
    let mut groups = body.index_groups.to_vec();
    let mut ids = body.index_policies.to_vec();
    let mut unindexed = body.unindexed.to_vec();
    let policies = u16::try_from(bundle.policy_count()).ok()?;
    let any_id = |u: &mut Unstructured<'_>| -> u16 {
        match u.int_in_range(0..=policies.saturating_sub(1)) {
            Ok(id) if u.ratio(7, 8).unwrap_or(true) => id,
            _ => u.arbitrary().unwrap_or(0),
        }
    };
    match u.int_in_range(0u8..=6).ok()? {
        // A bucket key moved to a neighbouring or arbitrary value.
        0 => {
            let b = u.choose_index(BucketRec::count(&buckets)).ok()?;
            let mut r = BucketRec::nth(&buckets, b).fields();
            r.key = match u.int_in_range(0u8..=2).ok()? {
                0 => r.key.wrapping_add(1),
                1 => r.key.wrapping_sub(1),
                _ => u.arbitrary().ok()?,
            };
            r.put(&mut buckets, b)?;
        }
        // An entry of a bucket's or group's policy list replaced.
        1 => {
            let i = u.choose_index(PolicyRefRec::count(&ids)).ok()?;
            put_u16(&mut ids, i, any_id(u));
        }
        // A group moved to another slot.
        2 => {
            let g = u.choose_index(GroupRec::count(&groups)).ok()?;
            let slots = u16::try_from(bundle.slot_count()).ok()?;
            let mut r = GroupRec::nth(&groups, g).fields();
            r.slot = u.int_in_range(0..=slots.saturating_sub(1)).ok()?;
            r.put(&mut groups, g)?;
        }
        // An unindexed entry replaced or dropped, or a policy added to it.
        3 => match u.int_in_range(0u8..=2).ok()? {
            0 => {
                let i = u.choose_index(PolicyRefRec::count(&unindexed)).ok()?;
                put_u16(&mut unindexed, i, any_id(u));
            }
            1 => {
                let i = u.choose_index(PolicyRefRec::count(&unindexed)).ok()?;
                let len = ipe_nostd::format::POLICY_REF_LEN;
                unindexed.drain(i * len..(i + 1) * len);
            }
            _ => {
                let id = any_id(u);
                let at = (0..PolicyRefRec::count(&unindexed))
                    .take_while(|&i| PolicyRefRec::nth(&unindexed, i).policy() < id)
                    .count();
                let entry = PolicyRefFields { policy: id }.to_bytes();
                unindexed.splice(at * entry.len()..at * entry.len(), entry);
            }
        },
        // A bucket's or a group's list range (first, count) shifted.
        4 => {
            let b = u.choose_index(BucketRec::count(&buckets)).ok()?;
            let mut r = BucketRec::nth(&buckets, b).fields();
            let field = if u.arbitrary().ok()? {
                &mut r.first_policy
            } else {
                &mut r.policy_count
            };
            let delta: i8 = u.int_in_range(-2..=2).ok()?;
            *field = field.wrapping_add_signed(delta.into());
            r.put(&mut buckets, b)?;
        }
        5 => {
            let g = u.choose_index(GroupRec::count(&groups)).ok()?;
            let mut r = GroupRec::nth(&groups, g).fields();
            let field = match u.int_in_range(1..=4).ok()? {
                1 => &mut r.first_bucket,
                2 => &mut r.bucket_count,
                3 => &mut r.first_policy,
                _ => &mut r.policy_count,
            };
            let delta: i8 = u.int_in_range(-2..=2).ok()?;
            *field = field.wrapping_add_signed(delta.into());
            r.put(&mut groups, g)?;
        }
        // Two buckets' policy ranges swapped.
        _ => {
            let n = BucketRec::count(&buckets);
            let (a, b) = (u.choose_index(n).ok()?, u.choose_index(n).ok()?);
            let (mut ra, mut rb) = (
                BucketRec::nth(&buckets, a).fields(),
                BucketRec::nth(&buckets, b).fields(),
            );
            (ra.first_policy, rb.first_policy) = (rb.first_policy, ra.first_policy);
            (ra.policy_count, rb.policy_count) = (rb.policy_count, ra.policy_count);
            ra.put(&mut buckets, a)?;
            rb.put(&mut buckets, b)?;
        }
    }
    Some(ipe_compile::lower::encode(&Body {
        index_buckets: &buckets,
        index_groups: &groups,
        index_policies: &ids,
        unindexed: &unindexed,
        ..*body
    }))
}

/// The index mutation oracle (see the module documentation).
fn check_index_mutation(bundle: &Bundle<'_>, body: &Body<'_>, ctx_bytes: &[u8]) {
    let mut u = Unstructured::new(ctx_bytes);
    let Some(bytes) = mutate_index(bundle, body, &mut u) else {
        return;
    };
    let Ok(mutated) = Bundle::from_bytes(&bytes) else {
        return;
    };
    let engine =
        ipe_host::PolicyEngine::with_options(bytes.clone(), ipe_host::EngineOptions::interpreter())
            .unwrap_or_else(|e| panic!("the host refuses a bundle the verifier accepts: {e}"));
    let set = engine.load();
    let arena = Bump::new();
    for _ in 0..4 {
        if u.is_empty() {
            break;
        }
        let values = context(&mutated, &mut u, &arena, true);
        let ctx = context_of(&values);
        let d: ipe_nostd::Decision<{ ipe_host::MAX_LIST }> = ipe_nostd::evaluate(&mutated, &ctx);
        assert_eq!(
            ipe_host::Report::new(&mutated, &d).to_json(),
            exhaustive(&mutated, ctx.values()),
            "an accepted index mutation changed the interpreter's decision"
        );
        assert_eq!(
            set.report(&set.evaluate_values(values)).to_json(),
            exhaustive_complete(&mutated, values),
            "an accepted index mutation changed the host engine's decision"
        );
    }
}

fn string<'a>(
    bundle: &Bundle<'_>,
    u: &mut Unstructured<'a>,
    arena: &'a Bump,
    typed: bool,
) -> Str<'a> {
    let n = bundle.symbol_count();
    if n > 0 && u.ratio(2, 3).unwrap_or(false) {
        // A string of the bundle's own table, interned as a host would.
        let i = u.choose_index(n).unwrap_or(0) as u32;
        let text: &'a str = arena.alloc_str(bundle.symbol(i));
        return bundle.intern(text);
    }
    let text: &'a str = u.arbitrary().unwrap_or("");
    if typed {
        bundle.intern(text)
    } else {
        Str {
            text,
            sym: u.arbitrary().unwrap_or(NO_SYMBOL),
        }
    }
}

fn scalar<'a>(
    bundle: &Bundle<'_>,
    u: &mut Unstructured<'a>,
    arena: &'a Bump,
    kind: ValueKind,
    typed: bool,
) -> Value<'a> {
    let pick = u.int_in_range(0u8..=9).unwrap_or(0);
    match pick {
        0 => return Value::Missing,
        1 => {
            return Value::Invalid(match u.int_in_range(0u8..=3).unwrap_or(0) {
                0 => ipe_nostd::ErrKind::Missing,
                1 => ipe_nostd::ErrKind::NotInEnum,
                2 => ipe_nostd::ErrKind::TooLong,
                _ => ipe_nostd::ErrKind::WrongType {
                    expected: kind,
                    got: ipe_nostd::JsonKind::Float,
                },
            })
        }
        _ => {}
    }
    let kind = if typed {
        kind
    } else {
        *u.choose(&[
            ValueKind::Str,
            ValueKind::Int,
            ValueKind::Bool,
            ValueKind::Enum,
        ])
        .unwrap_or(&kind)
    };
    match kind {
        ValueKind::Int | ValueKind::Quantity => {
            Value::Int(*u.choose(&[0, 1, -1, 2, i64::MIN, i64::MAX]).unwrap_or(&0))
        }
        // Issue #14: IPv4-mapped, IPv6, the extremes.
        ValueKind::Ip => Value::Ip(
            *u.choose(&[
                [0, 0, 0xffff, 0x0a00_0001],
                [0xfe80_0000, 0, 0, 1],
                [0; 4],
                [u32::MAX; 4],
            ])
            .unwrap_or(&[0; 4]),
        ),
        // Issue #14: ms in range, at its edges, and out of it.
        ValueKind::Time | ValueKind::Duration => Value::Int(
            *u.choose(&[
                0,
                -1,
                86_399_999,
                ipe_nostd::time::MAX_TIMESTAMP_MS,
                ipe_nostd::time::MIN_TIMESTAMP_MS - 1,
                ipe_nostd::time::MAX_DURATION_MS + 1,
                i64::MIN,
            ])
            .unwrap_or(&0),
        ),
        ValueKind::Bool => Value::Bool(u.arbitrary().unwrap_or(false)),
        ValueKind::Enum if !typed || pick == 9 => Value::Enum(u.arbitrary().unwrap_or(0)),
        ValueKind::Str | ValueKind::Enum | ValueKind::List => {
            Value::Str(string(bundle, u, arena, typed))
        }
    }
}

/// One value per slot of `bundle`.
fn context<'a>(
    bundle: &Bundle<'_>,
    u: &mut Unstructured<'a>,
    arena: &'a Bump,
    typed: bool,
) -> &'a [Value<'a>] {
    let n = bundle.slot_count();
    let mut out = bumpalo::collections::Vec::with_capacity_in(n, arena);
    for s in 0..n {
        let Ok(slot) = SlotId::try_from(s) else { break };
        let info = bundle.slot_info(slot);
        let list = info.kind == ValueKind::List;
        let v = if typed && !list {
            scalar(bundle, u, arena, info.kind, typed)
        } else if !typed && !u.ratio(1, 3).unwrap_or(false) {
            scalar(bundle, u, arena, info.kind, typed)
        } else {
            let max = (info.max_len as usize).min(300);
            let len = u.int_in_range(0..=max + 1).unwrap_or(0).min(u.len() + 1);
            let fields = usize::from(info.fields);
            let records = if typed {
                info.elem.is_none()
            } else {
                u.arbitrary().unwrap_or(false)
            };
            if records {
                let cells = if typed {
                    len * fields
                } else {
                    u.int_in_range(0..=len * fields.max(1) + 1).unwrap_or(0)
                };
                let vals = arena.alloc_slice_fill_with(cells, |i| {
                    let k = if fields > 0 && typed {
                        bundle.field_info(slot, (i % fields) as u16).kind
                    } else {
                        ValueKind::Str
                    };
                    scalar(bundle, u, arena, k, typed)
                });
                Value::Records(vals)
            } else {
                let k = info.elem.unwrap_or(ValueKind::Str);
                let vals = arena.alloc_slice_fill_with(len, |_| scalar(bundle, u, arena, k, typed));
                Value::List(vals)
            }
        };
        out.push(v);
    }
    out.into_bump_slice()
}

/// A context holding `values` in slot order.
fn context_of<'v>(values: &[Value<'v>]) -> Context<'v, { ipe_host::MAX_SLOTS }> {
    let mut ctx = Context::new();
    for (i, v) in values.iter().enumerate() {
        if let Ok(s) = SlotId::try_from(i) {
            ctx.set(s, *v);
        }
    }
    ctx
}
