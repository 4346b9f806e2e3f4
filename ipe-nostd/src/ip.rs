//! IP addresses and CIDR networks (issue #14): the one implementation of parsing, comparing,
//! range tables and canonical text, for the compiler, the request readers, the interpreter,
//! the JIT's helpers and the reason renderer. No allocation; parsing uses `core::net`.
//!
//! An address is 128 bits, IPv6 and IPv4 alike: an IPv4 address is stored as its
//! IPv4-mapped IPv6 address (`10.0.0.1` is `::ffff:10.0.0.1`), so the two spellings are
//! **equal** and order together. [`Ip`] is four `u32` words, most significant first (alignment
//! 4, never `u128`'s 16, so a `Value` holding one keeps its size and alignment).
//!
//! A CIDR list compiles to a *range table*: sorted, disjoint, merged `[lo, hi]` ranges of
//! addresses, each [`RANGE_BYTES`] bytes (`lo` then `hi`, 16 big-endian bytes each, so byte
//! order is numeric order), searched by [`table_contains`] in O(log n) and checked by
//! [`check_table`].

use core::cmp::Ordering;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

/// A 128-bit address, most significant word first (IPv4 as IPv4-mapped IPv6).
pub type Ip = [u32; 4];

/// Bytes of one `[lo, hi]` range in a range table (an [`IpRangeRec`](crate::format::IpRangeRec)).
pub const RANGE_BYTES: usize = crate::format::IP_RANGE_LEN;

/// The IPv4-mapped prefix `::ffff:0:0/96`: the words before the IPv4 address.
const MAPPED: [u32; 3] = [0, 0, 0xffff];

/// The address of 16 big-endian bytes.
#[inline]
pub fn from_bytes(b: [u8; 16]) -> Ip {
    let w = |i: usize| {
        let at = i * 4;
        u32::from_be_bytes([
            b.get(at).copied().unwrap_or(0),
            b.get(at + 1).copied().unwrap_or(0),
            b.get(at + 2).copied().unwrap_or(0),
            b.get(at + 3).copied().unwrap_or(0),
        ])
    };
    [w(0), w(1), w(2), w(3)]
}

/// The 16 big-endian bytes of an address.
#[inline]
pub fn to_bytes(ip: &Ip) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (chunk, w) in out.chunks_exact_mut(4).zip(ip) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The address as one 128-bit number (compile-time use: network masks).
#[inline]
pub fn to_u128(ip: &Ip) -> u128 {
    u128::from_be_bytes(to_bytes(ip))
}

/// The address of a 128-bit number.
#[inline]
pub fn from_u128(v: u128) -> Ip {
    from_bytes(v.to_be_bytes())
}

/// Reads an address: IPv4 dotted decimal (`10.0.0.1`, no leading zeros) or IPv6 in any
/// valid form and case (`FE80::1`, `::ffff:10.0.0.1`, `2001:db8:0:0:0:0:0:1`). No
/// surrounding whitespace, no zone (`%eth0`), no brackets, no prefix. `None` otherwise.
pub fn parse(text: &str) -> Option<Ip> {
    if let Ok(v4) = Ipv4Addr::from_str(text) {
        return Some(from_v4(v4));
    }
    Ipv6Addr::from_str(text)
        .ok()
        .map(|v6| from_bytes(v6.octets()))
}

/// The IPv4-mapped address of an IPv4 address.
#[inline]
pub fn from_v4(v4: Ipv4Addr) -> Ip {
    [MAPPED[0], MAPPED[1], MAPPED[2], u32::from(v4)]
}

/// Whether the address is an IPv4 address (IPv4-mapped: `::ffff:a.b.c.d`).
#[inline]
pub fn is_v4(ip: &Ip) -> bool {
    let [a, b, c, _] = *ip;
    [a, b, c] == MAPPED
}

/// Numeric order of two addresses (IPv4 addresses, being mapped, sort together inside
/// `::ffff:0:0/96`, below every address of `2000::/3` and above `::1`).
#[inline]
pub fn cmp(a: &Ip, b: &Ip) -> Ordering {
    a.cmp(b)
}

/// Writes the canonical text of an address: dotted decimal for an IPv4(-mapped) address
/// (`10.0.0.1`), RFC 5952 lower case for IPv6 (`fe80::1`).
pub fn write<W: fmt::Write + ?Sized>(w: &mut W, ip: &Ip) -> fmt::Result {
    let [_, _, _, low] = *ip;
    if is_v4(ip) {
        write!(w, "{}", Ipv4Addr::from(low))
    } else {
        write!(w, "{}", Ipv6Addr::from(to_bytes(ip)))
    }
}

/// Why a CIDR literal is not a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CidrError {
    /// The address part is not an IPv4 or IPv6 address.
    Address,
    /// The prefix length is not a decimal number up to 32 (IPv4) or 128 (IPv6).
    Prefix,
    /// Bits below the prefix are set (`10.0.0.1/8`); the network is given.
    HostBits {
        /// The network address (the host bits cleared).
        network: Ip,
    },
}

/// Reads a CIDR network `addr/len` (or a bare address, one address) as its first and last
/// address. An IPv4 prefix length counts IPv4 bits (`10.0.0.0/8` is
/// `::ffff:10.0.0.0/104`), so an IPv4 network never holds an IPv6 address; `0.0.0.0/0` is
/// every IPv4 address and `::/0` every address. Host bits set below the prefix are an error
/// ([`CidrError::HostBits`]), not silently masked.
pub fn parse_cidr(text: &str) -> Result<(Ip, Ip), CidrError> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let ip = parse(addr).ok_or(CidrError::Address)?;
    let v4 = Ipv4Addr::from_str(addr).is_ok();
    let max = if v4 { 32 } else { 128 };
    let bits: u32 = match len {
        None => max,
        Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
            l.parse().map_err(|_| CidrError::Prefix)?
        }
        Some(_) => return Err(CidrError::Prefix),
    };
    if bits > max {
        return Err(CidrError::Prefix);
    }
    let prefix = if v4 { 96 + bits } else { bits };
    let host = u128::MAX.checked_shr(prefix).unwrap_or(0);
    let v = to_u128(&ip);
    if v & host != 0 {
        return Err(CidrError::HostBits {
            network: from_u128(v & !host),
        });
    }
    Ok((ip, from_u128(v | host)))
}

/// Sorts `ranges` (each `[lo, hi]` with `lo <= hi`) and merges overlapping and adjacent
/// ones in place; returns how many of the leading entries are the result (sorted, disjoint
/// and not adjacent: what [`check_table`] accepts).
pub fn merge(ranges: &mut [(Ip, Ip)]) -> usize {
    ranges.sort_unstable();
    let mut n = 0usize;
    for i in 0..ranges.len() {
        let Some(&(lo, hi)) = ranges.get(i) else {
            break;
        };
        if let Some(last) = n.checked_sub(1).and_then(|l| ranges.get_mut(l)) {
            // Overlapping or adjacent (`lo <= last.hi + 1`): extend the last range.
            let next = to_u128(&last.1).checked_add(1);
            if next.is_none_or(|nx| to_u128(&lo) <= nx) {
                if hi > last.1 {
                    last.1 = hi;
                }
                continue;
            }
        }
        if let Some(slot) = ranges.get_mut(n) {
            *slot = (lo, hi);
        }
        n += 1;
    }
    n
}

/// Appends the table bytes of `ranges` (already merged) to `out` through `push`.
pub fn encode_table(ranges: &[(Ip, Ip)], mut push: impl FnMut(&[u8])) {
    for (lo, hi) in ranges {
        push(&to_bytes(lo));
        push(&to_bytes(hi));
    }
}

/// Why bytes are not a range table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The length is not a multiple of [`RANGE_BYTES`].
    Length,
    /// Range `index` has `lo > hi`.
    Inverted {
        /// Its position.
        index: usize,
    },
    /// Range `index` does not start after the end of the range before it (unsorted or
    /// overlapping).
    Unsorted {
        /// Its position.
        index: usize,
    },
}

/// Range `i` of a table (`None` past its end).
#[inline]
fn range_at(table: &[u8], i: usize) -> Option<([u8; 16], [u8; 16])> {
    let at = i.checked_mul(RANGE_BYTES)?;
    let r = table.get(at..at.checked_add(RANGE_BYTES)?)?;
    let lo: [u8; 16] = r.get(..16)?.try_into().ok()?;
    let hi: [u8; 16] = r.get(16..)?.try_into().ok()?;
    Some((lo, hi))
}

/// Checks that `table` is a range table: whole ranges, each `lo <= hi`, sorted and disjoint
/// (each range starts above the end of the one before). Returns the number of ranges.
pub fn check_table(table: &[u8]) -> Result<usize, TableError> {
    if !table.len().is_multiple_of(RANGE_BYTES) {
        return Err(TableError::Length);
    }
    let n = table.len() / RANGE_BYTES;
    let mut prev: Option<[u8; 16]> = None;
    for index in 0..n {
        let (lo, hi) = range_at(table, index).ok_or(TableError::Length)?;
        if lo > hi {
            return Err(TableError::Inverted { index });
        }
        if prev.is_some_and(|p| lo <= p) {
            return Err(TableError::Unsorted { index });
        }
        prev = Some(hi);
    }
    Ok(n)
}

/// Whether `ip` is in a range of `table` (a table [`check_table`] accepted; on other bytes
/// the answer is some boolean, never a panic). A binary search: O(log n), no allocation.
pub fn table_contains(table: &[u8], ip: &Ip) -> bool {
    let key = to_bytes(ip);
    let (mut lo, mut hi) = (0usize, table.len() / RANGE_BYTES);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let Some((a, b)) = range_at(table, mid) else {
            return false;
        };
        if key < a {
            hi = mid;
        } else if key > b {
            lo = mid + 1;
        } else {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn ip(s: &str) -> Ip {
        parse(s).unwrap()
    }

    fn text(a: &Ip) -> String {
        let mut s = String::new();
        write(&mut s, a).unwrap();
        s
    }

    #[test]
    fn issue14_ipv4_is_mapped_and_equals_its_mapped_spelling() {
        assert_eq!(ip("10.0.0.1"), [0, 0, 0xffff, 0x0a00_0001]);
        assert_eq!(ip("::ffff:10.0.0.1"), ip("10.0.0.1"));
        assert_eq!(ip("::FFFF:a00:1"), ip("10.0.0.1"));
        assert!(is_v4(&ip("0.0.0.0")) && is_v4(&ip("255.255.255.255")));
        assert!(!is_v4(&ip("::1")) && !is_v4(&ip("fe80::1")) && !is_v4(&ip("::10.0.0.1")));
    }

    #[test]
    fn issue14_parse_accepts_any_case_and_non_canonical_forms_only() {
        assert_eq!(ip("FE80::1"), ip("fe80:0:0:0:0:0:0:1"));
        assert_eq!(ip("2001:DB8::"), ip("2001:0db8:0000::0"));
        for bad in [
            "10.0.0.300",
            "10.0.0",
            "10.0.0.1.2",
            " 10.0.0.1",
            "10.0.0.1 ",
            "010.0.0.1",
            "fe80::1%eth0",
            "[::1]",
            "10.0.0.0/8",
            "fe80:::1",
            "",
            "gggg::1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn issue14_canonical_text() {
        assert_eq!(text(&ip("10.0.0.1")), "10.0.0.1");
        assert_eq!(text(&ip("::ffff:10.0.0.1")), "10.0.0.1");
        assert_eq!(text(&ip("FE80:0::1")), "fe80::1");
        assert_eq!(text(&ip("::1")), "::1");
        assert_eq!(text(&ip("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
    }

    #[test]
    fn issue14_order_is_numeric() {
        assert_eq!(cmp(&ip("10.0.0.1"), &ip("10.0.0.2")), Ordering::Less);
        assert_eq!(cmp(&ip("9.255.255.255"), &ip("10.0.0.0")), Ordering::Less);
        assert_eq!(cmp(&ip("::1"), &ip("0.0.0.0")), Ordering::Less);
        assert_eq!(cmp(&ip("255.255.255.255"), &ip("fe80::")), Ordering::Less);
    }

    #[test]
    fn issue14_cidr_bounds_prefixes_and_host_bits() {
        assert_eq!(
            parse_cidr("10.0.0.0/8"),
            Ok((ip("10.0.0.0"), ip("10.255.255.255")))
        );
        assert_eq!(
            parse_cidr("fe80::/10"),
            Ok((ip("fe80::"), ip("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff")))
        );
        assert_eq!(
            parse_cidr("0.0.0.0/0"),
            Ok((ip("0.0.0.0"), ip("255.255.255.255")))
        );
        assert_eq!(parse_cidr("::/0"), Ok(([0; 4], [u32::MAX; 4])));
        assert_eq!(
            parse_cidr("10.0.0.1/32"),
            Ok((ip("10.0.0.1"), ip("10.0.0.1")))
        );
        assert_eq!(parse_cidr("::1/128"), Ok((ip("::1"), ip("::1"))));
        assert_eq!(parse_cidr("10.0.0.1"), Ok((ip("10.0.0.1"), ip("10.0.0.1"))));
        assert_eq!(
            parse_cidr("10.0.0.1/8"),
            Err(CidrError::HostBits {
                network: ip("10.0.0.0")
            })
        );
        assert_eq!(parse_cidr("10.0.0.0/33"), Err(CidrError::Prefix));
        assert_eq!(parse_cidr("::/129"), Err(CidrError::Prefix));
        assert_eq!(parse_cidr("10.0.0.0/"), Err(CidrError::Prefix));
        assert_eq!(parse_cidr("10.0.0.0/+8"), Err(CidrError::Prefix));
        assert_eq!(parse_cidr("10.0.0.0/0008"), Err(CidrError::Prefix));
        assert_eq!(parse_cidr("10.0.0.300/8"), Err(CidrError::Address));
    }

    #[test]
    fn issue14_merge_sorts_and_joins_overlapping_and_adjacent_ranges() {
        let r = |s: &str| parse_cidr(s).unwrap();
        let mut v: Vec<(Ip, Ip)> = ["10.1.0.0/16", "10.0.0.0/8", "192.168.0.0/24"]
            .iter()
            .map(|s| r(s))
            .chain([r("192.168.1.0/24"), r("::/0"), r("::1")])
            .collect();
        let n = merge(&mut v);
        assert_eq!(&v[..n], &[([0; 4], [u32::MAX; 4])]);
        let mut v = vec![r("192.168.1.0/24"), r("10.0.0.0/8"), r("192.168.0.0/24")];
        let n = merge(&mut v);
        assert_eq!(
            &v[..n],
            &[r("10.0.0.0/8"), (ip("192.168.0.0"), ip("192.168.1.255"))]
        );
        let mut top = vec![([u32::MAX; 4], [u32::MAX; 4]), ([0; 4], [u32::MAX; 4])];
        assert_eq!(merge(&mut top), 1);
    }

    #[test]
    fn issue14_tables_are_checked_and_searched() {
        let r = |s: &str| parse_cidr(s).unwrap();
        let mut v = vec![r("fe80::/10"), r("10.0.0.0/8"), r("172.16.0.0/12")];
        let n = merge(&mut v);
        let mut t = Vec::new();
        encode_table(&v[..n], |b| t.extend_from_slice(b));
        assert_eq!(check_table(&t), Ok(3));
        for (a, inside) in [
            ("10.0.0.0", true),
            ("10.255.255.255", true),
            ("11.0.0.0", false),
            ("9.255.255.255", false),
            ("172.31.255.255", true),
            ("172.32.0.0", false),
            ("FE80::1", true),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("fec0::", false),
            ("::ffff:10.1.2.3", true),
            ("::", false),
        ] {
            assert_eq!(table_contains(&t, &ip(a)), inside, "{a}");
        }
        assert!(!table_contains(&[], &ip("10.0.0.1")));
        // Unsorted, overlapping, inverted and ragged tables are refused.
        let mut bad = t.clone();
        bad.rotate_left(RANGE_BYTES);
        assert_eq!(check_table(&bad), Err(TableError::Unsorted { index: 2 }));
        let mut overlap = Vec::new();
        encode_table(&[r("10.0.0.0/8"), r("10.1.0.0/16")], |b| {
            overlap.extend_from_slice(b)
        });
        assert_eq!(
            check_table(&overlap),
            Err(TableError::Unsorted { index: 1 })
        );
        let mut inv = Vec::new();
        encode_table(&[(ip("10.0.0.2"), ip("10.0.0.1"))], |b| {
            inv.extend_from_slice(b)
        });
        assert_eq!(check_table(&inv), Err(TableError::Inverted { index: 0 }));
        assert_eq!(check_table(&t[..31]), Err(TableError::Length));
    }

    #[test]
    fn issue14_bytes_round_trip() {
        for s in [
            "10.0.0.1",
            "::",
            "fe80::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            let a = ip(s);
            assert_eq!(from_bytes(to_bytes(&a)), a);
            assert_eq!(from_u128(to_u128(&a)), a);
        }
    }
}
