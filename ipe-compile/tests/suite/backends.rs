use ipe_compile::corpus::{self, FileExpect};
use ipe_nostd::Bundle;

#[test]
fn interpreter_agrees_with_reference_on_every_corpus_case() {
    let files = corpus::load(&corpus::default_root()).expect("corpus loads");
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in &files {
        let FileExpect::Cases(list) = &file.expect else {
            continue;
        };
        let program = match ipe_compile::compile_str(&[(file.id.as_str(), file.source.as_str())]) {
            Ok(p) => p,
            Err(d) => {
                failures.push(format!("{}: does not compile: {d}", file.id));
                continue;
            }
        };
        let compiled = match ipe_compile::lower::lower(&program) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: does not lower: {e}", file.id));
                continue;
            }
        };
        let bundle = Bundle::from_bytes(&compiled.bytes).expect("lowered bundles verify");
        // Round trip: decoding and re-encoding gives the same bytes.
        assert_eq!(
            ipe_compile::lower::encode(bundle.body()),
            compiled.bytes,
            "{}: encode(decode(bytes)) != bytes",
            file.id
        );
        for case in list {
            cases += 1;
            let reference = ipe_compile::evaluate(&program, &case.request).to_json();
            let interp = ipe_host::evaluate_json(&bundle, &case.request).to_json();
            if reference != interp {
                failures.push(format!(
                    "{} / {}:\n  request:   {}\n  reference: {reference}\n  interp:    {interp}",
                    file.id, case.name, case.request
                ));
            }
        }
    }
    eprintln!("{cases} corpus cases compared");
    assert!(cases >= 100, "only {cases} corpus cases found");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
