#![no_main]
//! See fuzz/README.md.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ipe_fuzz::request::check(data));
