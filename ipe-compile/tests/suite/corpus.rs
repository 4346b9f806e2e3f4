use ipe_compile::corpus::{self, Expect, FileExpect};

#[test]
fn corpus() {
    let root = corpus::default_root();
    let files = corpus::load(&root).unwrap();
    assert!(
        !files.is_empty(),
        "no corpus files under {}",
        root.display()
    );
    let mut failures = Vec::new();
    let mut cases = 0;
    for f in &files {
        let name = f.path.display().to_string();
        let (program, diags) = ipe_compile::compile_sources(&[(name.as_str(), f.source.as_str())]);
        match (&f.expect, program) {
            (FileExpect::Fail(exp), _) => {
                cases += 1;
                match diags.first() {
                    None => failures.push(format!("{}: compiled, expected an error", f.id)),
                    Some(d) => {
                        if let Err(e) = exp.check(d) {
                            failures.push(format!("{}: {e}\n{}", f.id, d.render()));
                        }
                    }
                }
            }
            (FileExpect::Cases(_), None) => {
                let rendered: Vec<String> = diags.iter().map(|d| d.render()).collect();
                failures.push(format!(
                    "{}: does not compile:\n{}",
                    f.id,
                    rendered.join("\n")
                ));
            }
            (FileExpect::Cases(list), Some(program)) => {
                for case in list {
                    cases += 1;
                    let got = Expect::of(&ipe_compile::evaluate(&program, &case.request));
                    if got != case.expect {
                        failures.push(format!(
                            "{} / {}:\n  expected {:?}\n  got      {:?}",
                            f.id, case.name, case.expect, got
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} corpus checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
