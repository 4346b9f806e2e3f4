//! Board support for the QEMU runs: semihosting exit codes and stack measurement.

use core::sync::atomic::{AtomicUsize, Ordering};

/// Exit code: every scripted decision was right.
pub const EXIT_OK: i32 = 0;
/// Exit code: some decision or output was wrong.
pub const EXIT_WRONG: i32 = 1;
/// Exit code: the bundle was accepted or refused against expectations.
pub const EXIT_BUNDLE: i32 = 2;
/// Exit code: HardFault (panic-probe panics through `udf`, so panics end here too).
pub const EXIT_HARDFAULT: i32 = 101;
/// Exit code: an unexpected exception or interrupt.
pub const EXIT_EXCEPTION: i32 = 102;

/// Ends the QEMU run with `code` (semihosting `SYS_EXIT_EXTENDED`).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

/// The word the stack painter writes.
const PAINT: u32 = 0x5AFE_C0DE;
/// Bytes below the current stack pointer left unpainted (the painter's own spills).
const GUARD: usize = 64;

extern "C" {
    /// End of `.bss`/`.uninit`, where the stack may grow to (cortex-m-rt's `link.x`).
    static __sheap: u32;
    /// Initial stack pointer: the top of RAM (cortex-m-rt's `link.x`).
    static _stack_start: u32;
}

/// Deepest stack address seen touched since boot, for the whole-firmware high-water mark.
static DEEPEST: AtomicUsize = AtomicUsize::new(usize::MAX);

fn stack_floor() -> usize {
    core::ptr::addr_of!(__sheap) as usize
}

/// Top of the stack (its initial value).
pub fn stack_top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Lowest painted-over word above the floor: everything below it is still paint.
fn lowest_touched() -> usize {
    let mut addr = stack_floor();
    let top = cortex_m::register::msp::read() as usize;
    while addr < top {
        // SAFETY: `addr` is word aligned, inside RAM between the end of the statics and the
        // current stack pointer; reading it races with nothing (single core, no interrupts).
        if unsafe { core::ptr::read_volatile(addr as *const u32) } != PAINT {
            break;
        }
        addr += 4;
    }
    addr
}

/// Paints the free stack below the current stack pointer.
#[inline(never)]
pub fn paint() {
    let end = (cortex_m::register::msp::read() as usize - GUARD) & !3;
    let mut addr = stack_floor();
    while addr < end {
        // SAFETY: the words between the end of the statics and `GUARD` bytes below the stack
        // pointer are unused: nothing lives below the stack pointer (no interrupts run).
        unsafe { core::ptr::write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
}

fn note_deepest() {
    DEEPEST.fetch_min(lowest_touched(), Ordering::Relaxed);
}

/// Runs `f` on freshly painted stack and returns its result and the stack bytes it used below
/// this function's frame (exact whenever it is more than the 64-byte guard).
#[inline(never)]
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, usize) {
    note_deepest();
    let sp = cortex_m::register::msp::read() as usize;
    paint();
    let r = f();
    let low = lowest_touched();
    DEEPEST.fetch_min(low, Ordering::Relaxed);
    (r, sp.saturating_sub(low))
}

/// The firmware's whole stack high-water mark so far (needs [`paint`] at boot).
pub fn high_water_mark() -> usize {
    note_deepest();
    stack_top().saturating_sub(DEEPEST.load(Ordering::Relaxed))
}

extern "C" {
    /// The binary's `#[exception] DefaultHandler` (cortex-m-rt's default when it has none).
    fn DefaultHandler();
}

/// The device-specific part of the vector table (cortex-m-rt's `device` feature; issue #15).
/// The firmware enables no interrupt, so it holds one vector (cortex-m-rt's linker script
/// wants at least one), IRQ 0 to `DefaultHandler`, instead of cortex-m-rt's generic 240
/// (960 B of flash). A board whose firmware enables interrupts gives its PAC's table instead.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
pub static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler];
