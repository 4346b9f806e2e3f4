//! Where the JIT finds things inside a [`Value`], measured from real values at run time.
//!
//! `ipe_nostd::Value` is `#[repr(C, u8)]` and `Str` is `#[repr(C)]`, so a value is a tag byte
//! followed by its payload. Rather than trusting that reasoning, [`Layout::probe`] builds one
//! value of every variant and reads the tag bytes and payload offsets back; any surprise makes
//! it return `None` and the JIT stays off.

use ipe_nostd::{ErrKind, Str, Value};

/// Offsets (bytes from the start of a `Value`) and tag bytes of every variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// `size_of::<Value>()`: the stride of a slot array.
    pub size: u32,
    pub tag_missing: u8,
    pub tag_bool: u8,
    pub tag_int: u8,
    pub tag_str: u8,
    pub tag_enum: u8,
    pub tag_list: u8,
    pub tag_records: u8,
    /// The `bool` payload (one byte, 0 or 1).
    pub off_bool: u32,
    /// The `i64` payload.
    pub off_int: u32,
    /// The `u16` rank payload.
    pub off_enum: u32,
    /// A string's text pointer, text length and `u32` symbol.
    pub off_text_ptr: u32,
    pub off_text_len: u32,
    pub off_sym: u32,
    /// A list's (or records') element pointer and element count.
    pub off_list_ptr: u32,
    pub off_list_len: u32,
}

/// The tag byte of `v`.
pub(crate) fn tag(v: &Value<'_>) -> u8 {
    let p: *const Value<'_> = v;
    // SAFETY: `Value` is `#[repr(C, u8)]`: its first byte is the initialized `u8` tag of the
    // variant, and `p` points to a live `Value`.
    unsafe { p.cast::<u8>().read() }
}

fn offset<T>(base: &Value<'_>, field: &T) -> Option<u32> {
    let b = base as *const Value<'_> as usize;
    let f = field as *const T as usize;
    u32::try_from(f.checked_sub(b)?).ok()
}

/// The two machine words of a fat pointer stored at `at` inside `v`.
fn words(v: &Value<'_>, at: u32) -> Option<[usize; 2]> {
    let end = (at as usize).checked_add(2 * core::mem::size_of::<usize>())?;
    if end > core::mem::size_of::<Value<'_>>()
        || !(at as usize).is_multiple_of(core::mem::align_of::<usize>())
    {
        return None;
    }
    let p: *const Value<'_> = v;
    // SAFETY: `at..end` lies inside `*v` (checked above) and is word-aligned; the caller passes
    // the offset of a fat pointer field (`&str` or `&[Value]`), which is two initialized words.
    Some(unsafe { p.cast::<u8>().add(at as usize).cast::<[usize; 2]>().read() })
}

/// Finds which of the two words at `at` is the pointer and which the length.
fn fat(v: &Value<'_>, at: u32, ptr: usize, len: usize) -> Option<(u32, u32)> {
    let w = words(v, at)?;
    let word = core::mem::size_of::<usize>() as u32;
    if ptr == len {
        return None;
    }
    match w {
        [p, l] if p == ptr && l == len => Some((at, at + word)),
        [l, p] if p == ptr && l == len => Some((at + word, at)),
        _ => None,
    }
}

impl Layout {
    /// Measures the layout of this build's `Value`; `None` if it is not what the JIT expects.
    pub(crate) fn probe() -> Option<Layout> {
        if core::mem::size_of::<usize>() != 8 {
            return None;
        }
        let text = "probe";
        let elems = [Value::Missing, Value::Missing, Value::Missing];
        let missing = Value::Missing;
        let invalid = Value::Invalid(ErrKind::TooLong);
        let b = Value::Bool(true);
        let i = Value::Int(0x0102_0304_0506_0708);
        let s = Value::Str(Str { text, sym: 77 });
        let e = Value::Enum(513);
        let l = Value::List(&elems);
        let r = Value::Records(&elems[..2]);
        let tags = [
            tag(&missing),
            tag(&invalid),
            tag(&b),
            tag(&i),
            tag(&s),
            tag(&e),
            tag(&l),
            tag(&r),
        ];
        for (n, t) in tags.iter().enumerate() {
            if tags[..n].contains(t) {
                return None;
            }
        }
        let off_bool = match &b {
            Value::Bool(x) => offset(&b, x)?,
            _ => return None,
        };
        let off_int = match &i {
            Value::Int(x) => offset(&i, x)?,
            _ => return None,
        };
        let off_enum = match &e {
            Value::Enum(x) => offset(&e, x)?,
            _ => return None,
        };
        let (off_text_ptr, off_text_len, off_sym) = match &s {
            Value::Str(st) => {
                let (p, l) = fat(
                    &s,
                    offset(&s, &st.text)?,
                    text.as_ptr() as usize,
                    text.len(),
                )?;
                (p, l, offset(&s, &st.sym)?)
            }
            _ => return None,
        };
        let (off_list_ptr, off_list_len) = match &l {
            Value::List(x) => fat(&l, offset(&l, x)?, elems.as_ptr() as usize, elems.len())?,
            _ => return None,
        };
        // Records must share the list payload position.
        match &r {
            Value::Records(x) => {
                let rp = fat(&r, offset(&r, x)?, elems.as_ptr() as usize, 2)?;
                if rp != (off_list_ptr, off_list_len) {
                    return None;
                }
            }
            _ => return None,
        }
        Some(Layout {
            size: u32::try_from(core::mem::size_of::<Value<'_>>()).ok()?,
            tag_missing: tags[0],
            tag_bool: tags[2],
            tag_int: tags[3],
            tag_str: tags[4],
            tag_enum: tags[5],
            tag_list: tags[6],
            tag_records: tags[7],
            off_bool,
            off_int,
            off_enum,
            off_text_ptr,
            off_text_len,
            off_sym,
            off_list_ptr,
            off_list_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_probe_succeeds_on_this_target() {
        let l = Layout::probe().expect("Value layout probe");
        assert_eq!(l.size, 32);
        assert_eq!(l.off_int, 8);
    }
}
