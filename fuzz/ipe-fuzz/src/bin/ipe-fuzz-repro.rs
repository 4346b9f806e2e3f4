//! Reproduces a finding by hand: `ipe-fuzz-repro <file.ipe>... [--request JSON]...` compiles
//! the files as one bundle, lowers and verifies it, and prints every backend's decision for
//! each request. `ipe-fuzz-repro --diff <input-file>` (or `--gen <n>`, case n of the stable
//! replay) prints the generated case of a `diff`
//! input and runs its oracle.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(flag @ ("--diff" | "--gen")) = args.first().map(String::as_str) {
        let data = if flag == "--gen" {
            ipe_fuzz::seeds::diff_input(args[1].parse().expect("a case number"))
        } else {
            std::fs::read(&args[1]).expect("readable input")
        };
        let case = ipe_fuzz::gen::case(&mut arbitrary::Unstructured::new(&data));
        println!("{case}");
        for r in &case.requests {
            println!("request: {r}");
        }
        ipe_fuzz::diff::check_case(&case);
        println!("ok");
        return;
    }
    let mut files = Vec::new();
    let mut requests = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if a == "--request" {
            requests.push(it.next().expect("a request after --request"));
        } else {
            let text = std::fs::read_to_string(&a).expect("readable source");
            files.push((a, text));
        }
    }
    let srcs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let (program, diags) = ipe_compile::compile_sources_with(&srcs, &ipe_fuzz::options());
    for d in &diags {
        println!("{d:?}");
    }
    let Some(program) = program else { return };
    let compiled = match ipe_compile::lower::lower_with_max_cost(&program, ipe_fuzz::MAX_COST) {
        Ok(c) => c,
        Err(e) => {
            println!("lower: {e:?}");
            return;
        }
    };
    let bundle = ipe_nostd::Bundle::from_bytes_with_max_cost(&compiled.bytes, ipe_fuzz::MAX_COST)
        .expect("lowered bundles verify");
    for r in &requests {
        let v: serde_json::Value = serde_json::from_str(r).expect("request JSON");
        for (name, d) in ipe_fuzz::decisions(&program, &bundle, &v) {
            println!("{name:>12}: {d}");
        }
    }
}
