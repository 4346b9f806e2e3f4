//! The body's postcard encoding read by hand (issue #15): the same bytes accepted and the same
//! [`BundleError`]s as postcard's serde derive of [`Body`] followed by the trailing-area and
//! canonical-length checks, in less flash (no serde visitor, no postcard deserializer).
//!
//! The body is a `u8` (`default`), a `str` (`text`) and sixteen byte strings, each a postcard
//! varint length (a `usize`: at most 5 bytes on 32-bit targets, 10 on 64-bit, the last one's
//! unused high bits zero) and its bytes; then the optional trailing area (see
//! `docs/bundle-format.md`, "Trailing sections"). The body is canonical exactly when every
//! varint is in its shortest form, that is, no varint of two bytes or more ends with a zero
//! byte.

use crate::bundle::BundleError;
use crate::format::{self, Body};

/// A cursor over body bytes that notes any varint longer than its shortest form.
struct Reader<'a> {
    rest: &'a [u8],
    canonical: bool,
}

impl<'a> Reader<'a> {
    /// One postcard `usize` varint, as postcard decodes it (`None` where postcard errs).
    fn varint(&mut self) -> Option<usize> {
        const MAX: usize = (usize::BITS as usize).div_ceil(7);
        const LAST: u8 = (1u8 << (usize::BITS % 7)) - 1;
        let mut out = 0usize;
        for i in 0..MAX {
            let (&v, rest) = self.rest.split_first()?;
            self.rest = rest;
            out |= usize::from(v & 0x7F) << (7 * i);
            if v & 0x80 == 0 {
                if i == MAX - 1 && v > LAST {
                    return None;
                }
                if i > 0 && v == 0 {
                    self.canonical = false;
                }
                return Some(out);
            }
        }
        None
    }

    /// One byte string: its varint length, then that many bytes.
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.varint()?;
        let (b, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(b)
    }

    /// The postcard struct part of the body (every section the derive reads, in field order).
    fn body(&mut self) -> Option<Body<'a>> {
        let (&default, rest) = self.rest.split_first()?;
        self.rest = rest;
        let text = core::str::from_utf8(self.bytes()?).ok()?;
        let mut sections: [&'a [u8]; 16] = [&[]; 16];
        for s in &mut sections {
            *s = self.bytes()?;
        }
        let [symbols, slots, fields, enums, members, consts, sets, set_keys, code, policies, clauses, metadata, index_groups, index_buckets, index_policies, unindexed] =
            sections;
        Some(Body {
            default,
            text,
            symbols,
            slots,
            fields,
            enums,
            members,
            consts,
            sets,
            set_keys,
            code,
            policies,
            clauses,
            metadata,
            index_groups,
            index_buckets,
            index_policies,
            unindexed,
            ..Body::default()
        })
    }

    /// The trailing area after the struct: `reason_parts`, then tagged sections with strictly
    /// increasing known tags, each non-empty; an empty `reason_parts` only before a tagged
    /// section.
    fn trailing(&mut self, body: &mut Body<'a>) -> Option<()> {
        let parts = self.bytes()?;
        body.reason_parts = parts;
        let mut last: Option<u8> = None;
        while let Some((&tag, rest)) = self.rest.split_first() {
            self.rest = rest;
            let section = self.bytes()?;
            if section.is_empty() || last.is_some_and(|l| tag <= l) {
                return None;
            }
            match tag {
                format::TAG_IP_RANGES => body.ip_ranges = section,
                crate::regex::REGEX_SECTION => body.regexes = section,
                format::TAG_SLOT_DEFAULTS => body.slot_defaults = section,
                format::TAG_INT_RANGES => body.int_ranges = section,
                _ => return None,
            }
            last = Some(tag);
        }
        (!parts.is_empty() || last.is_some()).then_some(())
    }
}

/// One postcard byte string at the start of `bytes` (any varint length postcard accepts,
/// shortest or not) and the bytes after it; `None` where postcard errs.
pub(crate) fn take_bytes(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut r = Reader {
        rest: bytes,
        canonical: true,
    };
    let b = r.bytes()?;
    Some((b, r.rest))
}

/// Decodes a whole body: [`BundleError::MalformedBody`] for bytes that are no body encoding
/// (truncated, bad UTF-8 in `text`, an overlong varint, a bad trailing area), then
/// [`BundleError::NonCanonical`] for a length prefix longer than its shortest form.
pub(crate) fn decode_body(bytes: &[u8]) -> Result<Body<'_>, BundleError> {
    let mut r = Reader {
        rest: bytes,
        canonical: true,
    };
    let mut body = r.body().ok_or(BundleError::MalformedBody)?;
    if !r.rest.is_empty() {
        r.trailing(&mut body).ok_or(BundleError::MalformedBody)?;
    }
    if !r.canonical {
        return Err(BundleError::NonCanonical);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The decoder this module replaced: postcard's serde derive, the trailing area and the
    /// canonical length of the whole body, kept here as the reference.
    fn reference(bytes: &[u8]) -> Result<Body<'_>, BundleError> {
        fn varint_len(n: usize) -> usize {
            let bits = usize::BITS - (n | 1).leading_zeros();
            bits.div_ceil(7) as usize
        }
        let (mut body, left) =
            postcard::take_from_bytes::<Body<'_>>(bytes).map_err(|_| BundleError::MalformedBody)?;
        if !left.is_empty() {
            let (parts, mut left) =
                postcard::take_from_bytes::<&[u8]>(left).map_err(|_| BundleError::MalformedBody)?;
            body.reason_parts = parts;
            let mut last: Option<u8> = None;
            while let Some((&tag, rest)) = left.split_first() {
                let (section, rest) = postcard::take_from_bytes::<&[u8]>(rest)
                    .map_err(|_| BundleError::MalformedBody)?;
                if section.is_empty() || last.is_some_and(|l| tag <= l) {
                    return Err(BundleError::MalformedBody);
                }
                match tag {
                    format::TAG_IP_RANGES => body.ip_ranges = section,
                    crate::regex::REGEX_SECTION => body.regexes = section,
                    format::TAG_SLOT_DEFAULTS => body.slot_defaults = section,
                    format::TAG_INT_RANGES => body.int_ranges = section,
                    _ => return Err(BundleError::MalformedBody),
                }
                last = Some(tag);
                left = rest;
            }
            if parts.is_empty() && last.is_none() {
                return Err(BundleError::MalformedBody);
            }
        }
        let sections = [
            body.text.as_bytes(),
            body.symbols,
            body.slots,
            body.fields,
            body.enums,
            body.members,
            body.consts,
            body.sets,
            body.set_keys,
            body.code,
            body.policies,
            body.clauses,
            body.metadata,
            body.index_groups,
            body.index_buckets,
            body.index_policies,
            body.unindexed,
        ];
        let mut len = sections
            .iter()
            .fold(1usize, |acc, s| acc + varint_len(s.len()) + s.len());
        let tagged = crate::bundle::tagged_sections(&body);
        if !body.reason_parts.is_empty() || tagged.iter().any(|(_, s)| !s.is_empty()) {
            len += varint_len(body.reason_parts.len()) + body.reason_parts.len();
        }
        for (_, s) in tagged.iter().filter(|(_, s)| !s.is_empty()) {
            len += 1 + varint_len(s.len()) + s.len();
        }
        if len != bytes.len() {
            return Err(BundleError::NonCanonical);
        }
        Ok(body)
    }

    fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
        out.extend(postcard::to_allocvec(b).expect("encodes"));
    }

    /// Bodies with empty, one-byte-length and two-byte-length sections, with and without
    /// the trailing area.
    fn samples() -> Vec<Vec<u8>> {
        let long = [7u8; 130];
        let body = Body {
            default: 1,
            text: "héllo",
            symbols: &long,
            slots: &[1, 2, 3],
            code: &[9; 12],
            unindexed: &[0, 0],
            ..Body::default()
        };
        let plain = postcard::to_allocvec(&body).expect("encodes");
        let mut with_parts = plain.clone();
        put_bytes(&mut with_parts, &[5; 4]);
        let mut tagged = plain.clone();
        put_bytes(&mut tagged, &[]);
        tagged.push(format::TAG_IP_RANGES);
        put_bytes(&mut tagged, &long);
        tagged.push(format::TAG_INT_RANGES);
        put_bytes(&mut tagged, &[1, 2]);
        let empty = postcard::to_allocvec(&Body::default()).expect("encodes");
        std::vec![plain, with_parts, tagged, empty]
    }

    #[test]
    fn issue15_hand_reader_agrees_with_postcard_on_every_mutation() {
        let mut cases = 0;
        let mut check = |bytes: &[u8]| {
            assert_eq!(decode_body(bytes), reference(bytes), "{bytes:02x?}");
            // The regex table's entries: one byte string, and one `str`.
            assert_eq!(
                take_bytes(bytes),
                postcard::take_from_bytes::<&[u8]>(bytes).ok(),
                "{bytes:02x?}"
            );
            assert_eq!(
                take_bytes(bytes).and_then(|(t, rest)| Some((core::str::from_utf8(t).ok()?, rest))),
                postcard::take_from_bytes::<&str>(bytes).ok(),
                "{bytes:02x?}"
            );
            cases += 1;
        };
        for s in samples() {
            check(&s);
            for n in 0..s.len() {
                // Truncated, a byte changed, a byte inserted, a byte removed.
                check(&s[..n]);
                for v in [0x00, 0x01, 0x0F, 0x10, 0x7F, 0x80, 0x81, 0xFF] {
                    let mut m = s.clone();
                    m[n] = v;
                    check(&m);
                    let mut m = s.clone();
                    m.insert(n, v);
                    check(&m);
                }
                let mut m = s.clone();
                m.remove(n);
                check(&m);
            }
            // Trailing garbage: unknown tags, repeated tags, overlong varints.
            for tail in [
                &[0u8][..],
                &[0, 1, 1, 0],
                &[1, 9, 2, 0],
                &[0x80, 0x00],
                &[0, 3, 0x81, 0x00, 4],
                &[0, 3, 1, 4, 3, 1, 4],
                &[0xFF; 11],
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02],
                // On 64-bit, bits past the 64th would wrap this length to 1.
                &[
                    0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x07,
                ],
                // On 32-bit, likewise past the 32nd.
                &[0x81, 0x80, 0x80, 0x80, 0x10, 0x07],
            ] {
                let mut m = s.clone();
                m.extend_from_slice(tail);
                check(&m);
            }
        }
        assert!(cases > 4_000);
    }

    #[test]
    fn issue15_overlong_length_prefixes_are_non_canonical() {
        // `default`, then `text` of length 0 written as two bytes (0x80 0x00), then 16 empty
        // sections.
        let mut b = std::vec![0u8, 0x80, 0x00];
        b.extend([0u8; 16]);
        assert_eq!(decode_body(&b), Err(BundleError::NonCanonical));
        b.remove(1);
        b.remove(1);
        b.push(0);
        assert_eq!(decode_body(&b), Ok(Body::default()));
        // The longest varint postcard takes: 5 bytes (32-bit) or 10 (64-bit), the last one's
        // unused bits zero; one more continuation byte is malformed.
        let max = (usize::BITS as usize).div_ceil(7);
        let mut over = std::vec![0u8];
        over.extend(core::iter::repeat_n(0x80, max));
        over.push(0);
        assert_eq!(decode_body(&over), Err(BundleError::MalformedBody));
    }
}
