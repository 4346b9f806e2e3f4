//! Byte-loop `memcpy`, `memmove`, `memset` and `memcmp` for the firmware (issue #15).
//!
//! compiler-builtins' versions copy word by word with alignment fix-ups: about 1.3 KiB of
//! flash (`memcpy` 744 B, `__aeabi_memcpy4`/`8`, `__aeabi_memclr4`, `memcmp`) for copies that
//! are a few dozen bytes here (decisions, cells, record views). These loops are about 0.1 KiB
//! in all and slower per byte, which the firmware's short copies do not notice. The symbols
//! defined here are strong; compiler-builtins' are weak, so the linker takes these.
//!
//! The loops are in private functions with volatile accesses: LLVM recognises a plain copy
//! loop as `memcpy` (and a call to a function named `memcpy` as the builtin), and would turn
//! them back into a call to `__aeabi_memcpy`, that is, into endless recursion.

use core::ptr::{read_volatile, write_volatile};

/// Copies `n` bytes from `src` to `dst`, forwards or (overlap with `dst` above `src`)
/// backwards.
///
/// # Safety
/// `dst` and `src` valid for `n` bytes.
#[inline(never)]
unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) {
    if (dst as usize) <= (src as usize) {
        let mut i = 0;
        while i < n {
            // SAFETY: `i < n`; forwards is right when `dst` is below `src`.
            unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
            i += 1;
        }
    } else {
        let mut i = n;
        while i > 0 {
            i -= 1;
            // SAFETY: `i < n`; backwards is right when `dst` is above `src`.
            unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        }
    }
}

/// Fills `n` bytes at `dst` with `c`.
///
/// # Safety
/// `dst` valid for `n` bytes.
#[inline(never)]
unsafe fn fill(dst: *mut u8, c: u8, n: usize) {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`; the caller gives `n` valid bytes at `dst`.
        unsafe { write_volatile(dst.add(i), c) };
        i += 1;
    }
}

/// C `memcpy` (the regions do not overlap).
///
/// # Safety
/// The C contract: `dst` and `src` valid for `n` bytes, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the same contract.
    unsafe { copy(dst, src, n) };
    dst
}

/// C `memmove` (the regions may overlap).
///
/// # Safety
/// The C contract: `dst` and `src` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the same contract.
    unsafe { copy(dst, src, n) };
    dst
}

/// C `memset`: fills `n` bytes at `dst` with the low byte of `c`.
///
/// # Safety
/// The C contract: `dst` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the same contract.
    unsafe { fill(dst, c as u8, n) };
    dst
}

/// C `memcmp`: negative, zero or positive as `a` sorts before, equal to or after `b`.
///
/// # Safety
/// The C contract: `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`; the caller gives `n` valid bytes at both pointers.
        let (x, y) = unsafe { (read_volatile(a.add(i)), read_volatile(b.add(i))) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// C `bcmp`: zero when the `n` bytes are equal (LLVM emits it for equality tests).
///
/// # Safety
/// The C contract: `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same contract.
    unsafe { memcmp(a, b, n) }
}

macro_rules! aeabi_copy {
    ($($name:ident),*) => {$(
        /// ARM EABI `memcpy`/`memmove` entry point.
        ///
        /// # Safety
        /// The C contract of `memmove`.
        #[no_mangle]
        pub unsafe extern "C" fn $name(dst: *mut u8, src: *const u8, n: usize) {
            // SAFETY: the same contract.
            unsafe { copy(dst, src, n) };
        }
    )*};
}
aeabi_copy!(
    __aeabi_memcpy,
    __aeabi_memcpy4,
    __aeabi_memcpy8,
    __aeabi_memmove,
    __aeabi_memmove4,
    __aeabi_memmove8
);

macro_rules! aeabi_fill {
    ($($name:ident),*) => {$(
        /// ARM EABI `memset` entry point (its argument order: destination, length, byte).
        ///
        /// # Safety
        /// The C contract of `memset`.
        #[no_mangle]
        pub unsafe extern "C" fn $name(dst: *mut u8, n: usize, c: i32) {
            // SAFETY: the same contract.
            unsafe { fill(dst, c as u8, n) };
        }
    )*};
}
aeabi_fill!(__aeabi_memset, __aeabi_memset4, __aeabi_memset8);

macro_rules! aeabi_clear {
    ($($name:ident),*) => {$(
        /// ARM EABI entry point that zeroes `n` bytes.
        ///
        /// # Safety
        /// The C contract of `memset`.
        #[no_mangle]
        pub unsafe extern "C" fn $name(dst: *mut u8, n: usize) {
            // SAFETY: the same contract.
            unsafe { fill(dst, 0, n) };
        }
    )*};
}
aeabi_clear!(__aeabi_memclr, __aeabi_memclr4, __aeabi_memclr8);
