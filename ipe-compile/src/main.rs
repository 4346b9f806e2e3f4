//! The `ipe` command.
fn main() {}
