//! The shared corpus (`tests/corpus/`), one test per file: compile-fail files give their
//! expected first diagnostic; every other file round-trips through decode/encode and each of
//! its cases gets its expected decision from the reference evaluator and the same decision JSON
//! from the interpreter (with and without its aggregate chains decoded at load).

use ipe_testgen::backend::{check_cases, Interp, PreparedInterp, Reference};
use ipe_testgen::corpus::{CompiledFile, CorpusFile, FileExpect};

fn cases(file: &CompiledFile) {
    let interp = Interp::new(&file.bytes).expect("lowered bundles verify");
    // Round trip: decoding and re-encoding gives the same bytes.
    assert_eq!(
        ipe_compile::lower::encode(&ipe_nostd::Bundle::decode_unverified(&file.bytes).unwrap()),
        file.bytes,
        "{}: encode(decode(bytes)) != bytes",
        file.id
    );
    // Issue #15, session 13: the interpreter with the aggregate chains decoded at load too.
    let prepared = PreparedInterp::new(&file.bytes).expect("lowered bundles verify");
    check_cases(file, &[&Reference(&file.program), &interp, &prepared]);
}

fn fail(file: &CorpusFile) {
    let FileExpect::Fail(expect) = &file.expect else {
        panic!("{}: not a compile-fail file", file.id);
    };
    let name = file.path.display().to_string();
    let (program, diags) = ipe_compile::compile_sources_with(
        &[(name.as_str(), file.source.as_str())],
        &file.options(),
    );
    assert!(
        program.is_none(),
        "{}: compiled, expected an error",
        file.id
    );
    let d = diags.first().expect("a refused program has a diagnostic");
    if let Err(e) = expect.check(d) {
        panic!("{}: {e}\n{}", file.id, d.render());
    }
}

ipe_testgen::corpus_tests!(cases: cases, fail: fail);
