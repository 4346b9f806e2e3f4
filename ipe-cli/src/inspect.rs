//! `ipe inspect`: a bundle's header, tables and disassembly as text.

use std::fmt::Write;

use ipe_nostd::bundle::{BodyKind, MetaValue, PolicyId};
use ipe_nostd::format::Header;
use ipe_nostd::{disasm, Bundle, ValueKind};

/// Renders a verified bundle for people: header, string table, slots, index and every policy's
/// code.
pub fn inspect(bytes: &[u8], bundle: &Bundle<'_>) -> String {
    let mut o = String::new();
    // Writing into a String cannot fail.
    let _ = write_all(&mut o, bytes, bundle);
    o
}

fn write_all(o: &mut String, bytes: &[u8], b: &Bundle<'_>) -> std::fmt::Result {
    writeln!(o, "header")?;
    // The bundle verified, so its header parses.
    let h = Header::parse(bytes).unwrap_or_default();
    writeln!(
        o,
        "  magic {:?}, format version {}, body {} bytes, crc32c {:#010x}",
        String::from_utf8_lossy(&h.magic),
        h.version,
        h.body_len,
        h.crc
    )?;
    writeln!(
        o,
        "  total {} bytes, default {}, cost bound {} steps",
        bytes.len(),
        b.default_effect().as_str(),
        b.cost_bound()
    )?;
    writeln!(o, "\nsymbols ({})", b.symbol_count())?;
    for s in 0..b.symbol_count() {
        writeln!(o, "  {s:>4}  {:?}", b.symbol(s as u32))?;
    }
    writeln!(o, "\nslots ({})", b.slot_count())?;
    for s in 0..b.slot_count() {
        let Ok(id) = u16::try_from(s) else { break };
        let i = b.slot_info(id);
        let shape = match (i.kind, i.elem) {
            (ValueKind::List, Some(e)) => format!("list of {} (max {})", e.as_str(), i.max_len),
            (ValueKind::List, None) if b.is_map(id) => {
                let value = b.field_info(id, 1);
                if i.fields == 2 && value.path == "value" {
                    format!("map of {} (max {})", value.kind.as_str(), i.max_len)
                } else {
                    // A map of records (issue 13): fields `key`, then `value.<f>` per record
                    // field, shown as the record's fields.
                    let fields: Vec<String> = (1..i.fields)
                        .map(|f| {
                            let fi = b.field_info(id, f);
                            let p = fi.path.strip_prefix("value").unwrap_or(fi.path);
                            let p = p.strip_prefix('.').unwrap_or(p);
                            format!("{p}: {}", fi.kind.as_str())
                        })
                        .collect();
                    format!("map of {{ {} }} (max {})", fields.join(", "), i.max_len)
                }
            }
            (ValueKind::List, None) => {
                let fields: Vec<String> = (0..i.fields)
                    .map(|f| {
                        let fi = b.field_info(id, f);
                        format!("{}: {}", fi.path, fi.kind.as_str())
                    })
                    .collect();
                format!("list of {{ {} }} (max {})", fields.join(", "), i.max_len)
            }
            (k, _) => k.as_str().to_owned(),
        };
        let members = if b.has_enum(i.enum_id) {
            let m: Vec<&str> = b.enum_members(i.enum_id).collect();
            format!(" [{}]", m.join(" < "))
        } else {
            String::new()
        };
        writeln!(o, "  {s:>4}  {}: {shape}{members}", i.path)?;
    }
    writeln!(o, "\nconstants ({})", b.const_count())?;
    writeln!(o, "sets ({})", b.set_count())?;
    // Issue #14: the `matches` regexes, with their DFA sizes (only when there are some).
    let regexes: Vec<_> = ipe_nostd::regex::entries(b.regexes())
        .filter_map(Result::ok)
        .collect();
    if !regexes.is_empty() {
        writeln!(o, "regexes ({})", regexes.len())?;
        for (i, e) in regexes.iter().enumerate() {
            writeln!(o, "  {i:>4}  {:?}: DFA {} bytes", e.text, e.dfa.len())?;
        }
    }
    for k in (0..b.set_count()).filter_map(|k| u16::try_from(k).ok()) {
        let table = b.ip_table(k);
        if !table.is_empty() {
            writeln!(o, "  set {k}: ip ranges {}", ip_ranges_text(table))?;
        }
    }
    writeln!(o, "\nindex")?;
    for g in 0..b.index_group_count() {
        let grp = b.index_group(g);
        let slot = b.slot_info(grp.slot);
        writeln!(
            o,
            "  on {}: {} keys, {} policies",
            slot.path, grp.buckets, grp.policies
        )?;
        for r in b.index_buckets(&grp) {
            let ids = (r.first_policy(), r.policy_count());
            writeln!(
                o,
                "    {} => {}",
                key_text(b, &slot, r.key()),
                policy_list(
                    b,
                    (ids.0..ids.0.saturating_add(ids.1)).map(|i| b.index_policy(i))
                )
            )?;
        }
    }
    writeln!(o, "  unindexed: {}", policy_list(b, b.unindexed()))?;
    for p in 0..b.policy_count() {
        let Ok(id) = PolicyId::try_from(p) else { break };
        let info = b.policy(id);
        writeln!(o, "\npolicy {p} {}", info.name)?;
        match b.policy_rec(id).group() {
            ipe_nostd::format::group::FIRST => writeln!(o, "  first rule of a first-match group")?,
            ipe_nostd::format::group::NEXT => {
                writeln!(o, "  later rule of the first-match group above")?
            }
            _ => {}
        }
        writeln!(o, "  intent {:?}", info.intent)?;
        if let Some(r) = info.reason {
            writeln!(o, "  reason {r:?}")?;
        }
        if b.has_reason_template(id) {
            writeln!(o, "  reason template {:?}", reason_template(b, id))?;
        }
        writeln!(o, "  cost bound {} steps", info.cost)?;
        for m in 0..info.metas {
            let (k, v) = b.metadata(info.first_meta + u32::from(m));
            match v {
                MetaValue::Str(s) => writeln!(o, "  metadata {k}: {s:?}")?,
                MetaValue::Int(i) => writeln!(o, "  metadata {k}: {i}")?,
                MetaValue::Bool(x) => writeln!(o, "  metadata {k}: {x}")?,
            }
        }
        if info.trigger.is_empty() {
            writeln!(o, "  trigger: always")?;
        } else {
            writeln!(o, "  trigger ({} bytes):", info.trigger.len())?;
            disasm::disassemble(o, b, info.trigger, 2)?;
        }
        match info.kind {
            BodyKind::Denies => writeln!(o, "  denies")?,
            BodyKind::Requires => {
                for c in 0..info.clauses {
                    let clause = b.clause(info.first_clause + u32::from(c));
                    writeln!(
                        o,
                        "  requires clause {c} ({} bytes): {}",
                        clause.code.len(),
                        clause.text
                    )?;
                    disasm::disassemble(o, b, clause.code, 2)?;
                }
            }
        }
    }
    Ok(())
}

pub use ipe_explain::key_text;

/// The ranges of an IP range table (issue #14) in canonical text: `first-last` each, or one
/// address; at most 8, then how many more.
fn ip_ranges_text(table: &[u8]) -> String {
    let text = |b: &[u8]| {
        let mut a = [0u8; 16];
        a.copy_from_slice(b.get(..16).unwrap_or(&[0; 16]));
        let mut s = String::new();
        let _ = ipe_nostd::ip::write(&mut s, &ipe_nostd::ip::from_bytes(a));
        s
    };
    let recs: Vec<&[u8]> = table.chunks_exact(ipe_nostd::ip::RANGE_BYTES).collect();
    let mut parts: Vec<String> = recs
        .iter()
        .take(8)
        .map(|r| {
            let (lo, hi) = r.split_at(16);
            if lo == hi {
                text(lo)
            } else {
                format!("{}-{}", text(lo), text(hi))
            }
        })
        .collect();
    if recs.len() > 8 {
        parts.push(format!("... ({} more)", recs.len() - 8));
    }
    parts.join(", ")
}

/// Policies as `id name` pairs separated by commas (`none` when empty).
fn policy_list(b: &Bundle<'_>, ids: impl Iterator<Item = PolicyId>) -> String {
    let names: Vec<String> = ids
        .map(|id| format!("{id} {}", b.policy(id).name))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// A policy's reason template as source-like text: literal braces doubled, slots by path,
/// witness fields as `{clause N .field}`, the count as `{#count}`, the values read as
/// `{#found}`, a map entry under a key read at run time as `{map[key].field}` (under a witness
/// field as `{map[clause N .field]}`).
fn reason_template(b: &Bundle<'_>, id: PolicyId) -> String {
    use ipe_nostd::format::part_kind;
    let p = b.policy(id);
    let mut out = String::new();
    for part in b.reason_parts(id) {
        match part.kind() {
            part_kind::TEXT => {
                let text = b.part_text(part);
                out.push_str(&text.replace('{', "{{").replace('}', "}}"));
            }
            part_kind::SLOT => {
                out.push_str(&format!("{{{}}}", b.slot_info(part.operand()).path));
            }
            part_kind::FIELD => {
                let code = b
                    .clause(p.first_clause.saturating_add(part.clause().into()))
                    .code;
                let field = match ipe_nostd::isa::Instr::decode(code, 0) {
                    Ok((ipe_nostd::isa::Instr::All { list, .. }, _)) => {
                        b.field_info(list.0, part.operand()).path
                    }
                    _ => "?",
                };
                out.push_str(&format!("{{clause {} .{field}}}", part.clause()));
            }
            part_kind::FOUND => out.push_str("{#found}"),
            // Issue #13, session 10: a map entry under a key read at run time,
            // `{metadata.labels[params.key]}`, `{svc[want].value.port}`.
            part_kind::MAP_ENTRY => {
                let map = b.slot_info(part.operand()).path;
                let key = b.slot_info(part.clause()).path;
                let field = b.field_info(part.operand(), part.entry()).path;
                let field = match field {
                    "value" => String::new(),
                    f => format!(".{}", f.strip_prefix("value.").unwrap_or(f)),
                };
                out.push_str(&format!("{{{map}[{key}]{field}}}"));
            }
            // Session 11: a map entry under a witness element's field, `{limits[clause 0 .name]}`.
            part_kind::WITNESS_ENTRY => {
                let map = b.slot_info(part.operand()).path;
                let code = b
                    .clause(p.first_clause.saturating_add(part.clause().into()))
                    .code;
                let key = match ipe_nostd::witness::clause_list(code) {
                    Some(list) => {
                        b.field_info(list, u16::try_from(part.text().off).unwrap_or(u16::MAX))
                            .path
                    }
                    None => "?",
                };
                let field = b.field_info(part.operand(), part.entry()).path;
                let field = match field {
                    "value" => String::new(),
                    f => format!(".{}", f.strip_prefix("value.").unwrap_or(f)),
                };
                out.push_str(&format!(
                    "{{{map}[clause {} .{key}]{field}}}",
                    part.clause()
                ));
            }
            // Session 11: a map constant's table under a key read at run time.
            part_kind::CONST_ENTRY => {
                let key = b.slot_info(part.clause()).path;
                out.push_str(&format!(
                    "{{table(set {}, const {})[{key}]}}",
                    part.operand(),
                    part.entry()
                ));
            }
            _ => out.push_str("{#count}"),
        }
    }
    out
}
