//! Open findings the oracles step around so a campaign can look for new ones. Each entry names
//! its regression test in the ordinary test suite; delete the entry when that test passes.
//!
//! None open. Fixed, with their tests passing: empty non-string set, `null` list element
//! `got`, smallest scalar-list element error (reference vs interpreter), `enum []`, records with
//! no fields (`ipe-compile/tests/suite/fuzz_findings.rs`); JIT first vs smallest scalar-list
//! element error (`ipe-host/tests/suite/fuzz_findings.rs`).
