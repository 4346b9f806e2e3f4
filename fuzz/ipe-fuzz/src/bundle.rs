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
//! verifier's cost bound being finite), and rendering the decision does not panic.

use arbitrary::Unstructured;
use bumpalo::Bump;
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
        let mut b = Vec::with_capacity(raw.len() + 16);
        b.extend_from_slice(&ipe_nostd::format::MAGIC);
        b.extend_from_slice(&ipe_nostd::format::VERSION.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        b.extend_from_slice(&ipe_nostd::format::CRC.checksum(raw).to_le_bytes());
        b.extend_from_slice(raw);
        owned = b;
        &owned[..]
    } else {
        raw
    };
    let Ok(bundle) = Bundle::from_bytes(bytes) else {
        return;
    };
    // decode ∘ encode ∘ decode = decode
    let again = ipe_compile::lower::encode(bundle.body());
    let re = Bundle::from_bytes(&again)
        .unwrap_or_else(|e| panic!("re-encoded accepted bundle is refused: {e:?}"));
    assert_eq!(
        re.body(),
        bundle.body(),
        "decode(encode(decode(b))) != decode(b)"
    );

    // The JIT compiles what the verifier accepts; its outcomes are checked against the
    // interpreter's for every context below.
    let jit = crate::jit(&bundle, ipe_host::jit::Tier::Baseline);
    let typed = flags & 2 == 0;
    let mut u = Unstructured::new(ctx_bytes);
    let arena = Bump::new();
    for _ in 0..4 {
        if u.is_empty() {
            break;
        }
        let values = context(&bundle, &mut u, &arena, typed);
        let mut ctx = Context::<{ ipe_host::MAX_SLOTS }>::new();
        for (i, v) in values.iter().enumerate() {
            if let Ok(s) = SlotId::try_from(i) {
                ctx.set(s, *v);
            }
        }
        let d: ipe_nostd::Decision<{ ipe_host::MAX_LIST }> = ipe_nostd::evaluate(&bundle, &ctx);
        let _ = ipe_host::Report::new(&bundle, &d).to_json();
        if let Some(set) = &jit {
            // `JitSet::eval` is safe for any values: type-confused ones included.
            let _ = crate::jit_decision(&bundle, set, values);
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
        ValueKind::Int => Value::Int(*u.choose(&[0, 1, -1, 2, i64::MIN, i64::MAX]).unwrap_or(&0)),
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
