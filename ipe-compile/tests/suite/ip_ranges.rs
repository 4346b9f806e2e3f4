//! Issue #14: the tagged trailing section 1 (`ip_ranges`) of the bundle format: its encoding
//! after `reason_parts`, the decoder's framing rules, the verifier's checks of IP range sets
//! (sorted, disjoint tables) and the bundle's O(log n) lookup.

use ipe_nostd::format::{Body, SetFields, TAG_IP_RANGES};
use ipe_nostd::ip::{self, Ip};
use ipe_nostd::verify::{Section, VerifyError};
use ipe_nostd::{Bundle, BundleError};

const SRC: &str = r#"
policy P:
  "n"
  triggers when n in [1, 2]
  denies
"#;

const TEMPLATE: &str = r#"
schema {
  user: string
}

policy P:
  "t"
  requires user == "root"
  with reason "{user} is not root"
"#;

fn compile(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("ip.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

fn table(cidrs: &[&str]) -> Vec<u8> {
    let mut v: Vec<(Ip, Ip)> = cidrs.iter().map(|c| ip::parse_cidr(c).unwrap()).collect();
    let n = ip::merge(&mut v);
    let mut out = Vec::new();
    ip::encode_table(&v[..n], |b| out.extend_from_slice(b));
    out
}

/// `bytes` with one more set, of kind IP over records `first..first + n` of `ranges`.
fn with_ip_set(bytes: &[u8], ranges: &[u8], first: u32, n: u32) -> (Vec<u8>, u16) {
    let body = Bundle::decode_unverified(bytes).expect("decodes");
    let mut sets = body.sets.to_vec();
    let id = (sets.len() / ipe_nostd::format::SET_LEN) as u16;
    sets.extend_from_slice(
        &SetFields {
            kind: ipe_nostd::format::kind::IP,
            enum_id: ipe_nostd::format::NONE_U16,
            first_key: first,
            key_count: n,
        }
        .to_bytes(),
    );
    let out = ipe_compile::lower::encode(&Body {
        sets: &sets,
        ip_ranges: ranges,
        ..body
    });
    (out, id)
}

fn addr(s: &str) -> Ip {
    ip::parse(s).unwrap()
}

#[test]
fn issue14_a_bundle_without_ip_ranges_keeps_its_bytes() {
    for src in [SRC, TEMPLATE] {
        let bytes = compile(src);
        let body = Bundle::decode_unverified(&bytes).unwrap();
        assert!(body.ip_ranges.is_empty());
        assert_eq!(ipe_compile::lower::encode(&body), bytes);
    }
}

#[test]
fn issue14_ip_range_sets_round_trip_and_are_searched() {
    for src in [SRC, TEMPLATE] {
        let bytes = compile(src);
        let t = table(&["fe80::/10", "10.0.0.0/8", "192.168.0.0/16", "10.1.0.0/16"]);
        assert_eq!(t.len(), 3 * ip::RANGE_BYTES);
        let (out, set) = with_ip_set(&bytes, &t, 0, 3);
        let b = Bundle::from_bytes(&out).expect("verifies");
        let body = Bundle::decode_unverified(&out).unwrap();
        assert_eq!(body.ip_ranges, &t[..]);
        // The templates' section survives next to it.
        let plain = Bundle::decode_unverified(&bytes).unwrap();
        assert_eq!(body.reason_parts, plain.reason_parts);
        assert_eq!(ipe_compile::lower::encode(&body), out);
        assert_eq!(b.ip_table(set).len(), t.len());
        assert_eq!(b.set_keys(set).count(), 0);
        assert!(!b.set_contains(set, 0));
        for (a, inside) in [
            ("10.0.0.0", true),
            ("10.255.255.255", true),
            ("11.0.0.0", false),
            ("192.168.255.255", true),
            ("192.169.0.0", false),
            ("FE80::1", true),
            ("fec0::", false),
            ("::ffff:10.9.8.7", true),
        ] {
            assert_eq!(b.ip_set_contains(set, &addr(a)), inside, "{a}");
        }
        // A table that is a sub-range of the section.
        let (out, set) = with_ip_set(&bytes, &t, 1, 1);
        let b = Bundle::from_bytes(&out).expect("verifies");
        assert!(b.ip_set_contains(set, &addr("192.168.1.1")));
        assert!(!b.ip_set_contains(set, &addr("10.0.0.1")));
    }
}

#[test]
fn issue14_the_verifier_refuses_unsorted_overlapping_inverted_and_out_of_range_tables() {
    let bytes = compile(SRC);
    let sorted = table(&["10.0.0.0/8", "192.168.0.0/16"]);
    let mut unsorted = sorted[32..].to_vec();
    unsorted.extend_from_slice(&sorted[..32]);
    let (out, _) = with_ip_set(&bytes, &unsorted, 0, 2);
    assert_eq!(
        Bundle::from_bytes(&out).unwrap_err(),
        BundleError::Verify(VerifyError::Unsorted {
            section: Section::IpRanges,
            index: 1
        })
    );
    let mut overlapping = Vec::new();
    for c in ["10.0.0.0/8", "10.1.0.0/16"] {
        let (lo, hi) = ip::parse_cidr(c).unwrap();
        ip::encode_table(&[(lo, hi)], |b| overlapping.extend_from_slice(b));
    }
    let (out, _) = with_ip_set(&bytes, &overlapping, 0, 2);
    assert_eq!(
        Bundle::from_bytes(&out).unwrap_err(),
        BundleError::Verify(VerifyError::Unsorted {
            section: Section::IpRanges,
            index: 1
        })
    );
    let mut inverted = Vec::new();
    ip::encode_table(&[(addr("10.0.0.2"), addr("10.0.0.1"))], |b| {
        inverted.extend_from_slice(b)
    });
    let (out, _) = with_ip_set(&bytes, &inverted, 0, 1);
    assert_eq!(
        Bundle::from_bytes(&out).unwrap_err(),
        BundleError::Verify(VerifyError::BadRecord {
            section: Section::IpRanges,
            index: 0
        })
    );
    let (out, set) = with_ip_set(&bytes, &sorted, 1, 2);
    assert_eq!(
        Bundle::from_bytes(&out).unwrap_err(),
        BundleError::Verify(VerifyError::BadRecord {
            section: Section::Sets,
            index: u32::from(set)
        })
    );
    let (out, _) = with_ip_set(&bytes, &sorted[..40], 0, 1);
    assert_eq!(
        Bundle::from_bytes(&out).unwrap_err(),
        BundleError::Verify(VerifyError::BadLength(Section::IpRanges))
    );
}

/// Re-frames a bundle's body with `trailer` in place of its trailing area (checksum
/// recomputed).
fn reframed(bytes: &[u8], trailer: &[u8]) -> Vec<u8> {
    let body = Bundle::decode_unverified(bytes).unwrap();
    let mut payload = postcard::to_allocvec(&body).unwrap();
    payload.extend_from_slice(trailer);
    let header = ipe_nostd::format::Header::for_body_version(&payload, body.version()).write();
    let mut out = header.to_vec();
    out.extend_from_slice(&payload);
    out
}

#[test]
fn issue14_the_trailing_area_is_framed_strictly() {
    let bytes = compile(SRC);
    let t = table(&["10.0.0.0/8"]);
    let mut section = vec![32u8];
    section.extend_from_slice(&t);
    let good = [&[0u8, TAG_IP_RANGES][..], &section].concat();
    // The framing is accepted (the verifier then sees an unreferenced table, which is fine).
    assert!(Bundle::decode_unverified(&reframed(&bytes, &good)).is_ok());
    let malformed = [
        // An unknown tag.
        [&[0u8, 9][..], &section].concat(),
        // An empty tagged section.
        vec![0u8, TAG_IP_RANGES, 0],
        // A repeated tag.
        [&good[..], &[TAG_IP_RANGES], &section].concat(),
        // A truncated section.
        [&[0u8, TAG_IP_RANGES][..], &section[..10]].concat(),
        // An empty `reason_parts` with nothing after it.
        vec![0u8],
    ];
    for m in malformed {
        assert_eq!(
            Bundle::decode_unverified(&reframed(&bytes, &m)).unwrap_err(),
            BundleError::MalformedBody,
            "{m:?}"
        );
    }
    // A section length written with a longer varint than needed is not canonical.
    let long = [&[0u8, TAG_IP_RANGES, 0x80 | 32, 0][..], &t].concat();
    assert_eq!(
        Bundle::decode_unverified(&reframed(&bytes, &long)).unwrap_err(),
        BundleError::NonCanonical
    );
}
