//! IPE on a Cortex-M: a valve-station controller whose actuations are decided by policies
//! compiled on the host at build time (`build.rs`) and evaluated by `ipe-nostd` on the device.
//!
//! - [`controller`]: the device logic, generic over embedded-hal 1.0 traits; tested on the host
//!   with embedded-hal-mock (`cargo test --target x86_64-unknown-linux-gnu --lib`).
//! - [`sim`]: a simulated plant (pins and an I2C sensor in RAM) that the QEMU binaries script.
//! - `board` (device only): semihosting exit codes and the stack painter.
//! - `mem` (device only): byte-loop `memcpy`/`memset`/`memcmp` (issue #15: smaller than
//!   compiler-builtins').
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

/// Logs at `info` with defmt on the device; compiled out on the host (its tests need no logger).
#[cfg(target_os = "none")]
macro_rules! info {
    ($($t:tt)*) => { defmt::info!($($t)*) };
}
#[cfg(not(target_os = "none"))]
macro_rules! info {
    ($($t:tt)*) => {{}};
}
/// Logs at `error` with defmt on the device; compiled out on the host.
#[cfg(target_os = "none")]
macro_rules! error {
    ($($t:tt)*) => { defmt::error!($($t)*) };
}
#[cfg(not(target_os = "none"))]
macro_rules! error {
    ($($t:tt)*) => {{}};
}

#[cfg(target_os = "none")]
pub mod board;
pub mod controller;
#[cfg(target_os = "none")]
pub mod mem;
#[cfg(feature = "signed")]
pub mod signed;
pub mod sim;

/// The policy bundle compiled from `policies/*.ipe` by `build.rs` (stored in flash).
pub static BUNDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/policies.ipeb"));
/// The remote-service bundle compiled from `policies-maintenance/` (a port range and a time
/// window, issue #14); it needs ipe-nostd's `time` family, so only builds with this crate's
/// `time` feature carry it.
#[cfg(feature = "time")]
pub static MAINTENANCE_BUNDLE: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/maintenance.ipeb"));
/// [`BUNDLE`] with one body byte flipped: the header checksum no longer matches.
pub static CORRUPTED_CRC: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/corrupted-crc.ipeb"));
/// [`BUNDLE`] with one bytecode byte replaced and the checksum recomputed: only the bytecode
/// verifier can reject it.
pub static CORRUPTED_CODE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/corrupted-code.ipeb"));

#[cfg(test)]
mod tests;
